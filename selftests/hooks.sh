#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The example hooks of Documentation/hooks/ (staged as hook-*), run with
# the arguments libvirt and Proxmox VE pass them: each adds a rule for an
# incoming migration and deletes it when the migration is over (a stand-in
# virsh reports the domain's state; a stand-in /etc/pve holds the VM's
# config), leaves a rule it did not add alone, and never fails.
# Oracle: rule list -j.
source "$(dirname "$0")/lib.sh"

mp_require
[ -x "$MIGPRIOCTL" ] || ktap_skip_all "migprioctl not in the VM image"
HOOKDIR=$(cd "$(dirname "$0")" && pwd)
[ -x "$HOOKDIR/hook-libvirt-qemu" ] && [ -x "$HOOKDIR/hook-proxmox-hookscript" ] ||
	ktap_skip_all "hooks not staged (make selftests)"
ktap_plan 7

mp_load || ktap_skip_all "cannot load migprio"
defer mp_unload
setup_ns A B
veth_pair "$A" "$B"
T=$(mktemp -d)
defer rm -rf "$T"
export MIGPRIOCTL MIGPRIO_HOOK_STATE=$T/state MIGPRIO_HOOK_MAX=600
a() { "$IP" netns exec "$A" "$@"; }
a "$MIGPRIOCTL" dev set "$VETH_A" queue prio >/dev/null

# rule NAME: "match" of the rule named NAME, empty when there is none
rule() {
	a "$MIGPRIOCTL" -j rule list |
		"$JQ" -r --arg n "$1" '.[] | select(.name == $n) |
			"\(.port.min // "-") \(.peer // "-")"'
}
gone() { [ -z "$(rule "$1")" ]; }

# ------------------------------------------------------------- libvirt
mkdir -p "$T/bin"
printf '#!/bin/sh\n[ "$1 $2 $3" = "domstate --reason vm1" ] && cat %s/domstate\n' "$T" \
	>"$T/bin/virsh"
chmod +x "$T/bin/virsh"
export VIRSH=$T/bin/virsh MIGPRIO_PEER=10.99.0.0/24
LV=$HOOKDIR/hook-libvirt-qemu

lv_incoming() {
	local out
	echo "paused (incoming migration)" >"$T/domstate"
	# the destination's sequence; migrate begin filters the XML
	out=$(echo '<domain type="kvm"><name>vm1</name></domain>' |
		a "$LV" vm1 migrate begin -) || return 1
	[ -z "$out" ] || { echo "printed: $out"; return 1; }
	for op in prepare start started; do
		a "$LV" vm1 $op begin - </dev/null || return 1
	done
	a "$MIGPRIOCTL" rule list
	[ "$(rule lv-vm1)" = "- 10.99.0.0/24" ]
}
ktap_test "libvirt: migrate begin on the destination adds a rule for the migration network" lv_incoming

lv_done() {
	echo "running (migrated)" >"$T/domstate"
	busywait 20000 gone lv-vm1
}
ktap_test "libvirt: the rule goes once the domain is no longer incoming" lv_done

lv_failed() {
	echo "paused (incoming migration)" >"$T/domstate"
	a "$LV" vm1 migrate begin - </dev/null && [ -n "$(rule lv-vm1)" ] || return 1
	a "$LV" vm1 stopped end - </dev/null && a "$LV" vm1 release end - </dev/null || return 1
	gone lv-vm1
}
ktap_test "libvirt: a failed migration (release end) deletes it" lv_failed

lv_static() {
	a "$MIGPRIOCTL" rule add peer 10.99.0.0/24 name static >/dev/null || return 1
	a "$LV" vm1 migrate begin - </dev/null || return 1
	a "$LV" vm1 release end - </dev/null || return 1
	[ "$(rule static)" = "- 10.99.0.0/24" ] && gone lv-vm1
}
ktap_test "libvirt: an identical rule of the configuration is used and left alone" lv_static
a "$MIGPRIOCTL" rule flush

# ------------------------------------------------------------- Proxmox
PVE=$HOOKDIR/hook-proxmox-hookscript
export PVE_ROOT=$T/pve MIGPRIO_ADDR_node_b=10.99.0.2
mkdir -p "$PVE_ROOT/etc/pve/qemu-server" "$PVE_ROOT/var/run/qemu-server"

pve_incoming() {
	echo 1234 >"$PVE_ROOT/var/run/qemu-server/100.pid"
	PVE_MIGRATED_FROM=node-b a "$PVE" 100 pre-start || return 1
	a "$PVE" 100 post-start || return 1
	a "$MIGPRIOCTL" rule list
	[ "$(rule pve-100)" = "22 10.99.0.2/32" ] || return 1
	# the source still owns the config, locked
	printf 'memory: 512\nlock: migrate\n' >"$PVE_ROOT/etc/pve/qemu-server/100.conf"
	a "$PVE" 101 pre-start && [ -z "$(rule pve-101)" ] || return 1	# not a migration
	[ -n "$(rule pve-100)" ] || return 1
	# the end: the config is here, unlocked
	printf 'memory: 512\n' >"$PVE_ROOT/etc/pve/qemu-server/100.conf"
	busywait 20000 gone pve-100
}
ktap_test "Proxmox: pre-start with PVE_MIGRATED_FROM adds preset ssh peer SOURCE until the config arrives" pve_incoming

pve_failed() {
	rm -f "$PVE_ROOT/etc/pve/qemu-server/100.conf"
	PVE_MIGRATED_FROM=node-b a "$PVE" 100 pre-start && a "$PVE" 100 post-start || return 1
	[ -n "$(rule pve-100)" ] || return 1
	rm "$PVE_ROOT/var/run/qemu-server/100.pid"	# the target's QEMU was stopped
	busywait 20000 gone pve-100
}
ktap_test "Proxmox: a failed migration (QEMU gone) deletes it" pve_failed

pve_unknown() {
	PVE_MIGRATED_FROM=no-such-node a "$PVE" 100 pre-start || return 1
	[ "$(a "$MIGPRIOCTL" -j rule list | "$JQ" length)" = 0 ]
}
ktap_test "Proxmox: an unknown source node adds nothing and does not fail" pve_unknown

ktap_finish
