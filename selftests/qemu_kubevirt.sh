#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=600
#
# KubeVirt's live migration path with migprio.  QEMU 10 (multifd, 4
# channels) migrates to a unix socket of "virt-handler's" proxy, which
# relays each connection over TLS to the target proxy, listening on a
# random port of the ephemeral range, which relays it to the destination
# QEMU's unix socket (selftests/qemu_lib.sh, QM_CLIENT=kubevirt).  The
# proxies run in their own netns (virt-handler's pod) and reach each other
# over the migration network: a macvlan "migration0" on each host's NIC
# (KubeVirt's dedicated migration network, attached by Multus).
#
#   host A: VETH_A (10.99.0.1) ------ veth ------ host B: VETH_B
#     pod HA: migration0 (macvlan on VETH_A)        pod HB: migration0
#             10.98.0.1/24, source proxy                    10.98.0.2, target proxy
#
# No port rule can match (the target port is random): in each pod netns
# `dev set migration0 queue none priority 4d50:1` and `rule add peer
# 10.98.0.0/24` (everything on the migration network is migration); the
# queue forms on the NIC below the macvlan, in the host's netns, where
# `dev set VETH_A` (defaults: queue prio) puts the 4d50: qdisc whose class
# 4d50:1 the pods' packets select.
#
# Held until the 5 connections are up (max-bandwidth 1 KB/s,
# pause-before-switchover): 5 established connections to the target
# proxy's port in both pods (ss), the same 5 in `flow list` there; then the
# migration completes, the destination runs, the guest keeps writing there,
# and host A's migration class 4d50:1 (`tc -s class show`) carried at least
# the RAM QEMU sent.  Without the peer rule the flow and class checks fail;
# without the qdisc on the NIC the class check fails.  Times are printed,
# not judged.  Needs vm-run --qemu (QEMU 10, socat, openssl) and the test
# guest; skipped without them.
# shellcheck disable=SC2034 # QM_* are read by qemu_lib.sh
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/qemu_lib.sh"

QM_CLIENT=kubevirt QM_VERSION=10 QM_CHANNELS=4
mp_require
qm_available || ktap_skip_all "QEMU 10, socat or openssl not in the VM image (vm-run --qemu) or guest not built (make guest)"
ktap_plan 7

NCONN=$((1 + QM_CHANNELS))
MIGNET=10.98.0
setup_ns A B HA HB
QM_NS_SRC=$A QM_NS_DST=$B QM_ADDR_DST=$ADDR_B
QM_NS_RELAY_SRC=$HA QM_NS_RELAY_DST=$HB QM_RELAY_ADDR_DST=$MIGNET.2
T=$(mktemp -d)
defer rm -rf "$T"
QM_DIR=$T/qm
# a quick guest: 4 MiB of random RAM and a 256 KiB hot set dirtied at
# 1 MiB/s, so that it converges at once on the slow paths (the ssh and TLS
# streams are CPU-bound under TCG): the checks are about the connections
QM_FILL=4 QM_HOT=256 QM_RATE=1

# migration0: a macvlan on NS's NIC DEV, moved into the pod's netns POD
migration0() { # NS DEV POD ADDR
	"$IP" -n "$1" link add mig0 link "$2" type macvlan mode bridge &&
	"$IP" -n "$1" link set mig0 netns "$3" &&
	"$IP" -n "$3" link set mig0 name migration0 &&
	"$IP" -n "$3" addr add "$4/24" dev migration0 &&
	"$IP" -n "$3" link set migration0 up
}

pod() { # NS: migprio in a virt-handler pod
	"$IP" netns exec "$1" "$MIGPRIOCTL" dev set migration0 queue none priority 4d50:1 &&
	"$IP" netns exec "$1" "$MIGPRIOCTL" rule add peer "$MIGNET.0/24" name kubevirt >/dev/null
}

setup() {
	veth_pair "$A" "$B" &&
	migration0 "$A" "$VETH_A" "$HA" "$MIGNET.1" &&
	migration0 "$B" "$VETH_B" "$HB" "$MIGNET.2" &&
	mp_load &&
	"$IP" netns exec "$A" "$MIGPRIOCTL" dev set "$VETH_A" &&
	"$IP" netns exec "$B" "$MIGPRIOCTL" dev set "$VETH_B" &&
	pod "$HA" && pod "$HB"
}
ktap_test "migration0 macvlans in two pod netns; migprio: dev set on the NICs, peer rule in the pods" setup

check_held() { qm_held_record "$HA" "$HB" "$QM_RELAY_PORT_USED" "$NCONN"; }

qm_step "QEMU 10 on both hosts, guest ready" qm_start
qm_step "migration through the TLS proxies completes, the destination runs" qm_migrated check_held
qm_diag_held
ktap_test "ss: $NCONN connections to the target proxy's port in both pods" qm_both_are ss "$NCONN"
ktap_test "flow list: the same $NCONN connections in both pods" qm_both_are flows "$NCONN"
ktap_test "tc: host A's migration class 4d50:1 carried the migration" qm_class_carried "$A" "$VETH_A"
qm_step "the guest keeps running on the destination (serial output grows)" qm_guest_alive dst
diag "target proxy port $QM_RELAY_PORT_USED; 4d50:1 sent $(qm_class_bytes "$A" "$VETH_A" 4d50:1) bytes; QEMU sent ${QM_RAM_BYTES:-?} bytes of RAM"
qm_diag_times
ktap_finish
