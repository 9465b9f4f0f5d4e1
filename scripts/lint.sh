#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh - static checks of migprio (`make lint`).
#
#   scripts/lint.sh [regen] [checkpatch] [kernel] [cppcheck] [analyzer]
#
# With no argument every check runs (LINT_ONLY="..." selects too):
#   regen       the files generated from the netlink spec (scripts/regen.sh:
#               uapi/linux/migprio.h, module/netlink-gen.[ch]) are what
#               ynl-gen-c makes of the spec now, and userspace/migprioctl/nl.c
#               names every attribute of the spec
#   checkpatch  checkpatch.pl --strict (linux-source-6.1) on module/, uapi/
#               and the userspace C code: userspace/migprioctl/, userspace/bench/,
#               selftests/lib/ (USER_DIRS); not on the generated files, as
#               in the kernel
#   kernel      migprio.ko with sparse (C=2) and W=1 against the headers of
#               both Debian kernels (6.1, 6.12); any warning in our sources
#               fails
#   cppcheck    cppcheck on USER_DIRS
#   analyzer    gcc -fanalyzer on USER_DIRS
# Findings are printed per file; the last line is "lint: N findings" and the
# exit status is 1 when N > 0.  A finding can only be silenced by a
# suppression below, each with the reason next to it.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
CACHE=${MIGPRIO_CACHE:-/var/cache/migprio}
KSRC=${KSRC:-$CACHE/src/linux-source-6.1}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CHECKPATCH=$KSRC/scripts/checkpatch.pl
SERIES=${LINT_KERNELS:-6.1 6.12}
# the userspace C code: the tool, the workloads/benchmarks, the code they
# share with the selftests
USER_DIRS=(userspace/migprioctl userspace/bench selftests/lib)
USER_INC=() USER_H=() USER_C=()
for d in "${USER_DIRS[@]}"; do
	USER_INC+=(-I "$d")
	USER_H+=("$d"/*.h)
	USER_C+=("$d"/*.c)
done
# The hook benchmark builds the module's packet path over kshim/, the
# kernel API written for userspace (userspace/bench/Makefile): its files
# are compiled as the Makefile does, with these flags added.
KSHIM=userspace/bench/kshim
USER_H+=("$KSHIM"/*.h "$KSHIM"/*/*.h)
USER_C+=("$KSHIM"/*.c)
declare -A USER_CFLAGS=(
	[userspace/bench/hook_bench.c]="-D__KERNEL__ -I$KSHIM -I."
	[$KSHIM/kshim.c]="-D__KERNEL__ -I$KSHIM"
)

# ------------------------------------------------------------ suppressions
# checkpatch message types ignored for all of USER_DIRS (--ignore), each
# because the kernel rule does not apply to a C program built against libc:
CP_USER_IGNORE=(
	PREFER_KERNEL_TYPES		# u8/u32... do not exist in userspace; stdint types are the norm
	PREFER_DEFINED_ATTRIBUTE_MACRO	# __printf/__packed are kernel-only macros (compiler.h)
	BIT_MACRO			# BIT() is kernel-only
	SPLIT_STRING			# usage/help text of the tool is split at its own line breaks
	LONG_LINE_STRING		# same: user-visible strings are kept greppable
)
# Per-file suppressions: "FILE TYPE reason".
CP_SUPPRESS=(
	"module/classify_types.h PREFER_KERNEL_TYPES it defines u8..u64 from stdint for the userspace build of the classifier core"
	"module/compat.h LINUX_VERSION_CODE the one place for version tests, where no macro can tell"
	"module/compat.h CONSTANT_COMPARISON LINUX_VERSION_CODE >= KERNEL_VERSION() is the kernel's own idiom"
	"userspace/bench/migsim.c VOLATILE volatile sig_atomic_t is the C type for a flag set by a signal handler"
	"userspace/migprioctl/monitor.c VOLATILE volatile sig_atomic_t is the C type for a flag set by a signal handler"
	"userspace/bench/classify_bench.c VOLATILE a volatile sink keeps the benchmarked call from being optimised away"
	"userspace/bench/kshim/kshim.h VOLATILE READ_ONCE()/WRITE_ONCE() are volatile accesses, as the kernel's"
	"userspace/bench/kshim/kshim.h NEW_TYPEDEFS the kernel's own typedefs (atomic_t, spinlock_t, gfp_t...) for the module's sources"
	"userspace/bench/kshim/kshim.h MACRO_ARG_REUSE the kernel's list macros name their list twice and assign their cursor, as the kernel's do"
	"userspace/bench/kshim/kshim.h MACRO_ARG_PRECEDENCE list_next_entry()'s member is a field name, it cannot be parenthesised"
)
# cppcheck: --suppress=ID[:FILE[:LINE]] with the reason as a comment.
CPPCHECK_SUPPRESS=(
	missingIncludeSystem	# libc/libmnl headers are not given to cppcheck on purpose
	variableScope		# kernel style (checkpatch) declares locals at the top of a block
	unusedStructMember	# netlink attribute structs mirror the uapi layout
	checkersReport		# informational summary, not a finding
)
# gcc -fanalyzer warnings to ignore: "FILE WARNING-OPTION reason".
ANALYZER_SUPPRESS=(
)

FINDINGS=0
declare -A PERFILE=()

finding() { # FILE LINE...: count one finding and print it
	local file=$1; shift
	FINDINGS=$((FINDINGS + 1))
	PERFILE[$file]=$(( ${PERFILE[$file]:-0} + 1 ))
	printf '%s\n' "$*"
}

section() { printf '\n== %s\n' "$*"; }

want() {
	local sel=${LINT_ONLY:-$ARGS}
	[ -z "$sel" ] || [[ " $sel " == *" $1 "* ]]
}

ARGS="$*"

# ------------------------------------------------------------ regen
GENERATED=(uapi/linux/migprio.h module/netlink-gen.h module/netlink-gen.c)

run_regen() {
	local tmp f out
	section "generated netlink code (scripts/regen.sh)"
	tmp=$(mktemp -d)
	if ! out=$(scripts/regen.sh "$tmp" 2>&1); then
		finding regen "scripts/regen.sh failed: $out"
	else
		for f in "${GENERATED[@]}"; do
			diff -u "$f" "$tmp/$f" >/dev/null ||
				finding "$f" "$f: differs from what scripts/regen.sh generates from the spec (make regen; never edit it by hand)"
		done
	fi
	rm -rf "$tmp"
	# the tool's attribute-name tables (userspace/migprioctl/nl.c, for error
	# messages naming the attribute at fault) are hand-written, not
	# ynl-gen-c's user mode (which builds on its own libynl, not on
	# libmnl): each attribute of a set that requests carry must be there,
	# as in the spec
	while IFS= read -r out; do
		finding userspace/migprioctl/nl.c "userspace/migprioctl/nl.c: $out"
	done < <(python3 - Documentation/netlink/specs/migprio.yaml userspace/migprioctl/nl.c <<'PY'
import re
import sys

import yaml

spec = yaml.safe_load(open(sys.argv[1]))
src = open(sys.argv[2]).read()
requested = {op["attribute-set"] for op in spec["operations"]["list"]
             if op.get("do", {}).get("request", {}).get("attributes")}
for aset in spec["attribute-sets"]:
    if aset["name"] not in requested:
        continue
    pre = aset["name-prefix"].upper().replace("-", "_")
    for attr in aset["attributes"]:
        if attr["type"] == "pad":
            continue
        name = pre + attr["name"].upper().replace("-", "_")
        if not re.search(r"\[%s\] = \"%s\"" % (name, re.escape(attr["name"])), src):
            print(f'no [{name}] = "{attr["name"]}" in the attribute-name tables')
PY
)
}

# ------------------------------------------------------------ checkpatch
run_checkpatch() {
	local f out line type ignore s sfile stype skip
	section "checkpatch --strict ($CHECKPATCH)"
	if [ ! -f "$CHECKPATCH" ]; then
		finding checkpatch "checkpatch.pl missing: run make ksrc"
		return
	fi
	for f in module/*.[ch] uapi/linux/*.h "${USER_C[@]}" "${USER_H[@]}"; do
		[ -f "$f" ] || continue
		# generated (scripts/regen.sh): ynl-gen-c's style, checked by regen
		[[ " ${GENERATED[*]} " == *" $f "* ]] && continue
		ignore=
		case $f in module/*|uapi/*) ;;
		*) ignore=$(IFS=,; echo "${CP_USER_IGNORE[*]}") ;;
		esac
		# run outside the git tree: checkpatch would leave a
		# .checkpatch-camelcase.git.* cache file in it
		out=$(cd / && perl "$CHECKPATCH" --strict --no-tree --terse --show-types \
			--no-summary ${ignore:+--ignore "$ignore"} -f "$ROOT/$f" 2>&1)
		out=${out//"$ROOT/"/}
		# --strict looks for camelCase in <tree>/include: none with
		# --no-tree, which checkpatch says with a perl warning and a
		# find error (quoted per the locale); not findings
		out=$(grep -vE "^find: .*/include.*: No such file or directory|^Use of uninitialized value \\\$root in concatenation" <<<"$out")
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			type=$(sed -nE 's/^[^:]+:[0-9]+: [A-Z]+:([A-Z0-9_]+):.*/\1/p' <<<"$line")
			skip=0
			for s in "${CP_SUPPRESS[@]}"; do
				read -r sfile stype _ <<<"$s"
				[ "$sfile" = "$f" ] && [ "$stype" = "$type" ] && skip=1
			done
			[ $skip = 1 ] || finding "$f" "$line"
		done <<<"$out"
	done
}

# ------------------------------------------------------- sparse + W=1
run_kernel() {
	local series abi kdir tree out n
	for series in $SERIES; do
		abi=$(cat "$CACHE/kernels/$series/abi" 2>/dev/null)
		kdir=/usr/src/linux-headers-$abi
		section "sparse (C=2) + W=1 against $series ($kdir)"
		if [ -z "$abi" ] || [ ! -d "$kdir" ]; then
			finding "kernel-$series" "headers for $series missing (make deps)"
			continue
		fi
		command -v sparse >/dev/null || { finding sparse "sparse not installed"; return; }
		# own symlink tree: never touches build/<kver>/ of `make module`
		tree=$BUILD/lint/$series
		rm -rf "$tree" && mkdir -p "$tree/module"
		ln -s "$ROOT/Kbuild" "$tree/Kbuild"
		ln -s "$ROOT/uapi" "$tree/uapi"
		for f in "$ROOT"/module/*.[ch]; do ln -s "$f" "$tree/module/"; done
		out=$(make -C "$kdir" M="$tree" C=2 W=1 -j"${JOBS:-2}" modules 2>&1)
		n=$?
		# our files only: kernel headers' own sparse noise is not ours to fix
		while IFS= read -r line; do
			f=$(sed -nE "s#^($tree/)?([^:]+):[0-9]+(:[0-9]+)?: .*#\2#p" <<<"$line")
			finding "${f:-kernel-$series}" "[$series] ${line#"$tree/"}"
		done < <(grep -E "^($tree/)?(module|uapi)/[^:]+:[0-9]+(:[0-9]+)?: (warning|error|note)" <<<"$out" |
			grep -v ': note:' | sort -u)
		if [ $n != 0 ]; then
			finding "kernel-$series" "[$series] build failed:"
			grep -E 'error|Error' <<<"$out" | head -20
		fi
	done
}

# ------------------------------------------------------------- cppcheck
run_cppcheck() {
	local args=() s out line f
	section "cppcheck (${USER_DIRS[*]})"
	command -v cppcheck >/dev/null || { finding cppcheck "cppcheck not installed"; return; }
	for s in "${CPPCHECK_SUPPRESS[@]}"; do args+=("--suppress=$s"); done
	local plain=() flagged=()
	for f in "${USER_C[@]}"; do
		if [ -n "${USER_CFLAGS[$f]:-}" ]; then flagged+=("$f"); else plain+=("$f"); fi
	done
	# the files with flags of their own one by one, the others together
	for f in "${flagged[@]}" ""; do
		# shellcheck disable=SC2086
		out=$(cppcheck --quiet --enable=warning,style,performance,portability \
			--std=c11 --inline-suppr -I uapi "${USER_INC[@]}" -I module -D__linux__ \
			${f:+${USER_CFLAGS[$f]}} \
			--template='{file}:{line}: {severity}:{id}: {message}' \
			"${args[@]}" ${f:-"${plain[@]}"} 2>&1)
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			finding "${line%%:*}" "$line"
		done <<<"$out"
	done
}

# ------------------------------------------------------------- analyzer
run_analyzer() {
	local f out line s sfile sopt skip mnl rc
	section "gcc -fanalyzer (${USER_DIRS[*]})"
	mnl=$(pkg-config --cflags libmnl 2>/dev/null)
	for f in "${USER_C[@]}"; do
		# -Imodule: the classifier benchmark builds module/classify.c
		# shellcheck disable=SC2086
		out=$(gcc -std=gnu11 -O1 -fanalyzer -Wall -Wextra -Werror -Iuapi ${USER_CFLAGS[$f]:-} \
			"${USER_INC[@]}" -Imodule $mnl -DMIGPRIOCTL_VERSION='"lint"' -c -o /dev/null "$f" 2>&1)
		rc=$?
		while IFS= read -r line; do
			skip=0
			for s in "${ANALYZER_SUPPRESS[@]}"; do
				read -r sfile sopt _ <<<"$s"
				[ "$sfile" = "$f" ] && [[ $line == *"[$sopt]"* ]] && skip=1
			done
			[ $skip = 1 ] || finding "$f" "$line"
		done < <(grep -E '^[^ ]+:[0-9]+:[0-9]+: (fatal error|warning|error)' <<<"$out")
		# a file that does not compile is not analysed at all
		[ $rc = 0 ] || grep -qE '^[^ ]+:[0-9]+:[0-9]+: (fatal error|error)' <<<"$out" ||
			finding "$f" "$f: gcc failed: $(head -1 <<<"$out")"
	done
}

want regen && run_regen
want checkpatch && run_checkpatch
want kernel && run_kernel
want cppcheck && run_cppcheck
want analyzer && run_analyzer

section "findings per file"
for f in $(printf '%s\n' "${!PERFILE[@]}" | sort); do
	printf '%5d  %s\n' "${PERFILE[$f]}" "$f"
done
echo "lint: $FINDINGS findings"
[ "$FINDINGS" = 0 ]
