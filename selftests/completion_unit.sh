#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit test of the bash completion (userspace/migprioctl/completion/migprioctl):
# the completion function is called with COMP_WORDS as bash would, with
# and without bash-completion's helpers, and COMPREPLY is checked. KTAP.
HERE=$(dirname "$(readlink -f "$0")")
COMPL=${COMPL:-$HERE/../userspace/migprioctl/completion/migprioctl}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# shellcheck disable=SC1090
source "$COMPL" || { echo "1..0 # SKIP cannot source $COMPL"; exit 4; }

N=0 FAILED=0
# complete WORDS...: the last word is the one being completed
complete_words() {
	COMP_WORDS=(migprioctl "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_migprioctl 2>/dev/null
}
# expect DESCRIPTION "EXPECTED REPLIES" WORDS...: COMPREPLY, sorted, must
# equal EXPECTED (one reply per line)
expect() {
	local d=$1 want=$2 got
	shift 2
	complete_words "$@"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort)
	want=$(printf '%s\n' "$want" | tr ' ' '\n' | tr @ ' ' | sort)
	N=$((N + 1))
	if [ "$got" = "$want" ]; then
		echo "ok $N $d"
	else
		echo "# want: $(echo $want)"
		echo "# got:  $(printf '[%s] ' "${COMPREPLY[@]}")"
		echo "not ok $N $d"
		FAILED=$((FAILED + 1))
	fi
}

echo "KTAP version 1"
echo "1..17"
expect "objects by prefix" "apply" ap
expect "abbreviated object and command: rule add keywords" \
	"proto port lport rport peer cgroup name preset" r a ""
expect "no proto/port after a preset" "peer cgroup name" rule add preset qemu ""
expect "no preset after a port" "proto port lport rport peer cgroup name" \
	rule add port 7000 ""
expect "abbreviated dev set: interfaces" "lo" d se l
expect "dev set keywords: per-slave next to priority" "per-slave priority" dev set lo p
expect "dev set uplink: interfaces" "lo" dev set vmbr0 uplink l

mkdir -p "$TMP/conf.d" && touch "$TMP/conf.d/migprio.conf" "$TMP/conf.d/other file"
expect "apply completes file names" "$TMP/conf.d/migprio.conf $TMP/conf.d/other@file" \
	apply "$TMP/conf.d/"
# (the space of "other file" is written @ in the list above)

expect "syncconf completes file names" "$TMP/conf.d/migprio.conf" syncconf "$TMP/conf.d/m"
expect "syncconf --wait takes a number, no file" "" syncconf --wait ""
expect "syncconf options" "--wait --dry-run --follow" syncconf -
expect "syncconf options by prefix" "--follow" syncconf --f
expect "synonyms of the commands" "show" rule s
migprioctl() { echo '[{"id":3},{"id":12}]'; }	# the ids of rule list -j
expect "rule del: an id or the words of a match" \
	"3 12 proto port lport rport peer cgroup name preset" rule del ""
expect "rule delete MATCH: the rule add words" "proto port lport rport peer cgroup name" \
	rule delete port 7000 ""
unset -f migprioctl

# cgroup paths below the cgroup2 mount, found in mountinfo: a v1
# hierarchy with optional fields first, then cgroup2; and this machine's,
# compared with the kernel's own view (the file system type there)
N=$((N + 1))
cat >"$TMP/mountinfo" <<'MI'
30 23 0:26 / /sys/fs/cgroup/cpu rw,nosuid shared:8 master:2 - cgroup cgroup rw,cpu
35 23 0:29 / /run/cg2 rw,nosuid,nodev,noexec shared:9 - cgroup2 cgroup2 rw,nsdelegate
MI
cg=$(_migprioctl_cgroup2 "$TMP/mountinfo")
real=$(_migprioctl_cgroup2)
if [ "$cg" = /run/cg2 ] && { [ -z "$(findmnt -n -t cgroup2 2>/dev/null)" ] ||
	{ [ "$(stat -fc %T "$real")" = cgroup2fs ] &&
	  [ "$real" = "$(findmnt -n -t cgroup2 -o TARGET | head -n1)" ]; }; }; then
	echo "ok $N cgroup2 mount from mountinfo ($real)"
else
	echo "# found $cg in the sample, $real here ($(stat -fc %T "$real" 2>&1))"
	echo "not ok $N cgroup2 mount from mountinfo"
	FAILED=$((FAILED + 1))
fi

mkdir -p "$TMP/cg/machine.slice/vm one.scope" "$TMP/cg/machine.slice/vm2.scope"
_migprioctl_cgroup2() { echo "$TMP/cg"; }
complete_words rule add cgroup /machine.slice/
N=$((N + 1))
got=$(printf '%s|' "${COMPREPLY[@]}" | tr '|' '\n' | sort | tr '\n' '|')
if [ "$got" = "/machine.slice/vm one.scope/|/machine.slice/vm2.scope/|" ]; then
	echo "ok $N cgroup paths with a space stay one word"
else
	echo "# got: $got"
	echo "not ok $N cgroup paths with a space stay one word"
	FAILED=$((FAILED + 1))
fi
[ "$FAILED" = 0 ]
