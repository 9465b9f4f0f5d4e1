#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - what `make check` runs (after `make deps`):
#   1. migprio.ko for every kernel in KERNELS (default "6.1 6.12") with W=1,
#      from clean objects; any compiler warning fails the check
#   2. migprioctl and the selftest programs
#   3. host unit tests (selftests/*_unit.c)
#   4. the VM suite (selftests/run_tests) once per kernel, with a real QEMU
#      staged in the VM (vm-run --qemu) for qemu_migration.sh
# One summary line per stage/kernel, then as the very last line:
#   N passed, N failed, N skipped
# Exit status 1 if anything failed or the kernel splatted.
# Logs: build/check/.
# Environment: KERNELS (VM kernels: 6.1, 6.12 or a kernel dir, see vm-run),
# BUILD_KERNELS (kernels to build migprio.ko for, default KERNELS),
# VM_ARGS (more vm-run options, e.g. --module FILE), VM_TIMEOUT (s).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
KERNELS=${KERNELS:-6.1 6.12}
BUILD_KERNELS=${BUILD_KERNELS-$KERNELS}
VM_ARGS=${VM_ARGS:-}
VM_TIMEOUT=${VM_TIMEOUT:-1500}
LOG=build/check
mkdir -p "$LOG"
MAKE=${MAKE:-make}

TP=0 TF=0 TS=0
SUMMARY=()
add() { # LABEL P F S [NOTE]
	TP=$((TP + $2)) TF=$((TF + $3)) TS=$((TS + $4))
	SUMMARY+=("$1: $2 passed, $3 failed, $4 skipped${5:+ ($5)}")
}
finish() {
	local l
	echo
	for l in "${SUMMARY[@]}"; do echo "$l"; done
	echo "$TP passed, $TF failed, $TS skipped"
	[ "$TF" = 0 ]
	exit
}
step() { printf '\n==== %s\n' "$*"; }

# count KTAP result lines in a file: prints "P F S"
count_ktap() {
	local p s f
	p=$(grep -cE '^ok [0-9]+' "$1")
	s=$(grep -cE '^ok [0-9]+.*# *SKIP' "$1")
	f=$(grep -cE '^not ok [0-9]+' "$1")
	echo "$((p - s)) $f $s"
}

# 1. module, W=1, warnings are errors
for k in $BUILD_KERNELS; do
	step "build migprio.ko for $k (W=1)"
	if ! $MAKE --no-print-directory module KVER="$k" W=1 REBUILD=1 >"$LOG/build-$k.log" 2>&1; then
		tail -n 40 "$LOG/build-$k.log"
		add "build $k" 0 1 0 "module build failed, $LOG/build-$k.log"
		finish
	fi
	if grep -E '\.[ch]:[0-9]+(:[0-9]+)?: warning:' "$LOG/build-$k.log"; then
		add "build $k" 0 1 0 "W=1 warnings, $LOG/build-$k.log"
	else
		echo "ok"
	fi
done

# 2. tool and selftest programs
step "build migprioctl and selftests"
if ! $MAKE --no-print-directory tool selftests WERROR=1 >"$LOG/build-user.log" 2>&1; then
	tail -n 40 "$LOG/build-user.log"
	add "build userspace" 0 1 0 "$LOG/build-user.log"
	finish
fi
if grep -E '\.[ch]:[0-9]+(:[0-9]+)?: warning:' "$LOG/build-user.log"; then
	add "build userspace" 0 1 0 "warnings, $LOG/build-user.log"
fi
echo "ok"

# 3. host unit tests: each *_unit prints KTAP; subtests are counted
step "host unit tests"
HP=0 HF=0 HS=0
for t in build/selftests/*_unit; do
	[ -x "$t" ] || continue
	echo "# $t"
	"$t" 2>&1 | tee "$LOG/$(basename "$t").log"
	urc=${PIPESTATUS[0]}
	read -r p f s < <(count_ktap "$LOG/$(basename "$t").log")
	[ $((p + f + s)) -gt 0 ] || p=1
	[ "$urc" = 0 ] || [ "$urc" = 4 ] || [ "$f" -gt 0 ] || f=1
	HP=$((HP + p)) HF=$((HF + f)) HS=$((HS + s))
done
add "host unit tests" "$HP" "$HF" "$HS"

# 4. the VM suite per kernel
for k in $KERNELS; do
	step "selftests on $k"
	start=$(date +%s)
	kl=$(basename "$k")
	# shellcheck disable=SC2086
	selftests/vm-run --kernel "$k" --python --qemu --timeout "$VM_TIMEOUT" $VM_ARGS -- ./run_tests 2>&1 |
		tee "$LOG/vm-$kl.log"
	vrc=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))
	sum=$(sed -n 's/^# summary: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' \
		"$LOG/vm-$kl.log" | tail -n1)
	note="${secs}s"
	if [ -z "$sum" ]; then
		# the guest died mid-suite: count the subtests seen so far
		p=$(grep -cE '^# ok [0-9]+' "$LOG/vm-$kl.log")
		s=$(grep -cE '^# ok [0-9]+.*# *SKIP' "$LOG/vm-$kl.log")
		f=$(grep -cE '^# not ok [0-9]+' "$LOG/vm-$kl.log")
		sum="$((p - s)) $((f + 1)) $s"
		note="$note, suite did not finish (vm-run exit $vrc$([ "$vrc" = 125 ] && echo ': KERNEL SPLAT/PANIC'))"
	elif [ "$vrc" = 125 ]; then
		read -r p f s <<<"$sum"
		sum="$p $((f + 1)) $s"
		note="$note, KERNEL SPLAT"
	elif [ "$vrc" = 124 ]; then
		read -r p f s <<<"$sum"
		sum="$p $((f + 1)) $s"
		note="$note, VM TIMEOUT"
	else
		read -r p f s <<<"$sum"
		[ "$vrc" = 0 ] || [ "$f" -gt 0 ] || { f=1; note="$note, exit $vrc"; }
		sum="$p $f $s"
	fi
	read -r p f s <<<"$sum"
	add "kernel $k" "$p" "$f" "$s" "$note"
done
finish
