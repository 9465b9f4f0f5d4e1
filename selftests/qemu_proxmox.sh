#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=600
#
# Proxmox VE's default ("secure") live migration with migprio: QEMU 10
# migrates to a unix socket that ssh forwards to the destination's sshd
# (`ssh ... -L SOCK:SOCK`, qemu-server's command line and migration
# settings: selftests/qemu_lib.sh, QM_CLIENT=proxmox), one stream in one
# TCP connection to port 22.  migprio on both hosts: `dev set IF` with its
# defaults and `rule add preset ssh peer <the other host>/32`.
#
# The migration is held (max-bandwidth 1 KB/s, pause-before-switchover)
# until the tunnel's connection is established; then: one connection to
# port 22 at both ends (ss), the same one in `migprioctl flow list` at both
# ends; the migration completes, the destination runs, the guest keeps
# writing there; and the bytes of the source's migration class (4d50:1,
# `tc -s class show`) are at least the RAM QEMU sent: the tunnel went
# through the migration class.  Without the rule the flow and class checks
# fail.  Times are printed, not judged.  Needs vm-run --qemu (QEMU 10, ssh,
# sshd) and the test guest; skipped without them.
# shellcheck disable=SC2034 # QM_* are read by qemu_lib.sh
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/qemu_lib.sh"

QM_CLIENT=proxmox QM_VERSION=10
mp_require
qm_available || ktap_skip_all "QEMU 10, ssh or sshd not in the VM image (vm-run --qemu) or guest not built (make guest)"
ktap_plan 7

setup_ns A B
QM_NS_SRC=$A QM_NS_DST=$B QM_ADDR_DST=$ADDR_B
T=$(mktemp -d)
defer rm -rf "$T"
QM_DIR=$T/qm
# a quick guest: 4 MiB of random RAM and a 256 KiB hot set dirtied at
# 1 MiB/s, so that it converges at once on the slow paths (the ssh and TLS
# streams are CPU-bound under TCG): the checks are about the connections
QM_FILL=4 QM_HOT=256 QM_RATE=1

setup() {
	veth_pair "$A" "$B" &&
	mp_load &&
	"$IP" netns exec "$A" "$MIGPRIOCTL" dev set "$VETH_A" &&
	"$IP" netns exec "$B" "$MIGPRIOCTL" dev set "$VETH_B" &&
	"$IP" netns exec "$A" "$MIGPRIOCTL" rule add preset ssh peer "$ADDR_B/32" >/dev/null &&
	"$IP" netns exec "$B" "$MIGPRIOCTL" rule add preset ssh peer "$ADDR_A/32" >/dev/null
}
ktap_test "migprio on both hosts: dev set (defaults), rule add preset ssh peer <other host>" setup

check_held() { qm_held_record "$A" "$B" 22 1; }

qm_step "QEMU 10 on both hosts, sshd on the destination, guest ready" qm_start
qm_step "migration through the ssh tunnel completes, the destination runs" qm_migrated check_held
qm_diag_held
ktap_test "ss: the tunnel's connection to port 22 at both ends" qm_both_are ss 1
ktap_test "flow list: the same connection at both ends" qm_both_are flows 1
ktap_test "tc: the source's migration class 4d50:1 carried the migration" qm_class_carried "$A" "$VETH_A"
qm_step "the guest keeps running on the destination (serial output grows)" qm_guest_alive dst
diag "4d50:1 sent $(qm_class_bytes "$A" "$VETH_A" 4d50:1) bytes; QEMU sent ${QM_RAM_BYTES:-?} bytes of RAM; downtime-limit increases: ${QM_AUTOINC:-?}"
qm_diag_times
ktap_finish
