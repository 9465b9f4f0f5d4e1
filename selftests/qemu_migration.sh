#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=600
#
# One real live migration (QEMU, multifd with 4 channels) between two netns
# with migprio on both ends (`dev set IF` with its defaults and `rule add
# preset qemu`).  Needs the QEMU layer of the VM image (selftests/vm-run
# --qemu) and the test guest (make guest); skipped without them.
#
# The migration is held at QEMU's side (max-bandwidth 1 KB/s, and
# pause-before-switchover in case it converges anyway) until its
# connections have been checked: 5 established connections to the port
# (ss), the same 5 in `migprioctl flow list` on both hosts; then QEMU's
# default max-bandwidth is restored and the migration runs to the end.  The
# destination must then run (QMP RESUME event, query-status) and the guest
# must keep writing to its serial port there.  The real downtime (source
# paused -> destination running) and QEMU's own figures are printed as
# diagnostics only: no timing threshold.
# shellcheck disable=SC2034 # QM_* are read by qemu_lib.sh
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/qemu_lib.sh"

mp_require
qm_available || ktap_skip_all "QEMU not in the VM image (vm-run --qemu) or guest not built (make guest)"
ktap_plan 7

NCONN=$((1 + 4))	# QEMU's main channel + 4 multifd channels
setup_ns A B
QM_NS_SRC=$A QM_NS_DST=$B QM_ADDR_DST=$ADDR_B QM_PORT=49152
T=$(mktemp -d)
defer rm -rf "$T"
QM_DIR=$T/qm
# a quick guest: 8 MiB of random RAM, the 2 MiB hot set
QM_FILL=8

setup() {
	veth_pair "$A" "$B" &&
	mp_load &&
	"$IP" netns exec "$A" "$MIGPRIOCTL" dev set "$VETH_A" &&
	"$IP" netns exec "$B" "$MIGPRIOCTL" dev set "$VETH_B" &&
	"$IP" netns exec "$A" "$MIGPRIOCTL" rule add preset qemu >/dev/null &&
	"$IP" netns exec "$B" "$MIGPRIOCTL" rule add preset qemu >/dev/null
}
ktap_test "migprio on both hosts: dev set (defaults), rule add preset qemu" setup

# step DESC CMD...: ktap_test in this shell (CMD starts background QEMUs
# and sets variables, so no command substitution)
step() {
	local desc=$1 rc=0
	shift
	"$@" >"$T/step.out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || { sed 's/^/# /' "$T/step.out"; diag "exit status $rc: $*"; }
	ktap_result "$rc" "$desc"
}

step "source and destination QEMU started, guest ready on the source" qm_start

# established connections to the migration port, seen from NS (ss)
conns() {
	"$SS" -N "$1" -Htn state established "( sport = :$QM_PORT or dport = :$QM_PORT )" |
		wc -l
}
# migprio's flows of NS with the migration port at either end
flows() {
	"$IP" netns exec "$1" "$MIGPRIOCTL" -j flow list |
		"$JQ" "[.[] | select(.remote.port == $QM_PORT or .local.port == $QM_PORT)] | length"
}
HOLD_OUT=$T/hold.txt
hold() {
	{
		echo "ss (source): $(conns "$A"), ss (destination): $(conns "$B")"
		echo "flow list (source): $(flows "$A"), flow list (destination): $(flows "$B")"
		"$IP" netns exec "$A" "$MIGPRIOCTL" flow list
	} >"$HOLD_OUT" 2>&1
}
# Runs while the migration is held: wait for the connections, then look.
check_held() {
	busywait $((20000 * MP_SLOW)) bash -c "[ \$('$SS' -N '$A' -Htn state established '( dport = :$QM_PORT )' | wc -l) -ge $NCONN ]"
	hold
}

migrated() {
	qm_migrate check_held || return 1
	[ "$(qm_status dst)" = running ] || { echo "destination: $(qm_status dst)"; return 1; }
	[ "$(qm_status src)" = postmigrate ] || { echo "source: $(qm_status src)"; return 1; }
}
step "migration completes, the destination runs (RESUME, query-status)" migrated
sed 's/^/  /' "$HOLD_OUT" 2>/dev/null | while read -r l; do diag "$l"; done

count_is() { # WHAT NS EXPECTED ACTUAL
	[ "$4" = "$3" ] || { echo "$1 in $2: $4, expected $3"; return 1; }
}
read_counts() {
	SS_A=$(sed -n 's/^ss (source): \([0-9]*\), ss (destination): \([0-9]*\)$/\1/p' "$HOLD_OUT")
	SS_B=$(sed -n 's/^ss (source): \([0-9]*\), ss (destination): \([0-9]*\)$/\2/p' "$HOLD_OUT")
	FL_A=$(sed -n 's/^flow list (source): \([0-9]*\), flow list (destination): \([0-9]*\)$/\1/p' "$HOLD_OUT")
	FL_B=$(sed -n 's/^flow list (source): \([0-9]*\), flow list (destination): \([0-9]*\)$/\2/p' "$HOLD_OUT")
}
read_counts
ktap_test "ss: $NCONN established connections on port $QM_PORT at both ends" \
	bash -c "[ '${SS_A:-0}' = $NCONN ] && [ '${SS_B:-0}' = $NCONN ] || { echo 'ss: source ${SS_A:-?} destination ${SS_B:-?}'; exit 1; }"
ktap_test "flow list: the same $NCONN connections on the source" count_is flows source "$NCONN" "${FL_A:-0}"
ktap_test "flow list: the same $NCONN connections on the destination" count_is flows destination "$NCONN" "${FL_B:-0}"
step "the guest keeps running on the destination (serial output grows)" qm_guest_alive dst

diag "destination running ${QM_DEST_S:-?} s after migrate (includes the hold)"
diag "real downtime (source STOP -> destination RESUME): ${QM_DOWNTIME_S:-?} s (without the ${QM_PRESWITCH_S:-?} s the test took to answer pre-switchover)"
diag "QEMU's own figures: total ${QM_QEMU_TOTAL_MS:-?} ms (includes the hold), downtime ${QM_QEMU_DOWNTIME_MS:-?} ms (includes the pre-switchover pause), max-bandwidth default ${QM_MAX_BW:-?} B/s"
ktap_finish
