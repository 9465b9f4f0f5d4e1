#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=600
#
# Real live migrations (QEMU, multifd with 4 channels) between two netns
# with migprio on both ends (`dev set IF` with its defaults and `rule add
# preset qemu`), once with each QEMU of the VM image: Debian's 7.2 and QEMU
# 10 (bookworm-backports).  Needs the clients layer of the VM image
# (selftests/vm-run --qemu) and the test guest (make guest); skipped without
# them.
#
# Each migration is held at QEMU's side (max-bandwidth 1 KB/s, and
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
VERSIONS="7.2 10"
ktap_plan $((1 + 5 * 2))

NCONN=$((1 + 4))	# QEMU's main channel + 4 multifd channels
setup_ns A B
QM_NS_SRC=$A QM_NS_DST=$B QM_ADDR_DST=$ADDR_B QM_PORT=49152
T=$(mktemp -d)
defer rm -rf "$T"
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

# Runs while the migration is held.
check_held() { qm_held_record "$A" "$B" "$QM_PORT" "$NCONN"; }

for QM_VERSION in $VERSIONS; do
	QM_DIR=$T/qm-$QM_VERSION
	v="QEMU $QM_VERSION"
	qm_step "$v: source and destination QEMU started, guest ready on the source" qm_start
	qm_step "$v: migration completes, the destination runs (RESUME, query-status)" qm_migrated check_held
	qm_diag_held
	ktap_test "$v: ss: $NCONN established connections on port $QM_PORT at both ends" qm_both_are ss "$NCONN"
	ktap_test "$v: flow list: the same $NCONN connections at both ends" qm_both_are flows "$NCONN"
	qm_step "$v: the guest keeps running on the destination (serial output grows)" qm_guest_alive dst
	qm_diag_times
	qm_stop
done
ktap_finish
