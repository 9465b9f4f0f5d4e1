#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=300
#
# Issue 17 item 4: only what migprio classified enters the migration class
# on the uplink where migprio installed its layout. A tenant's root (a
# container, a VM's userspace) sets SO_PRIORITY to 4d50:10, the class id of
# migprio's htb migration class, and sends to a migration port of the
# peer: bridged behind the host's bridge (IPv4 and IPv6, with and without
# br_netfilter) and routed through the host (IPv4 and IPv6). A veth resets
# skb->priority (____dev_forward_skb()), IPv4 forwarding rewrites it from
# the TOS, and migprio classifies no routed packet (IPv6 forwarding flags
# none: before hooks.c looked at skb_iif, the routed IPv6 tenant got in by
# the migration port alone), so none of it may reach 4d50:10; the host's
# own root doing the same does, which shows the counters would see a
# forgery that got through.
# Containers with their own device stacked on the bridge keep their
# priority through it: a macvlan (IPv4, IPv6), an ipvlan in l2 mode (IPv4,
# IPv6) and in l3 mode (its packets pass the host's IP stack, where
# migprio's rule classifies them: IPv4), a VLAN device (IPv4). Before
# module/egress.c (the priority reset on the queue devices dev set lists)
# each of them put its 2 MB into 4d50:10 (with a migprioctl that sends no
# queue devices: 4d50:10 +2000000 or more); now 4d50:20 carries it and
# stats counts priority_reset. A pod that designated its own macvlan (as
# KubeVirt's virt-handler does) keeps the class its migprio marked, and so
# does the host's own migration.
# Oracle: tc -s class on the uplink (4d50:10 and 4d50:20 Sent bytes).
source "$(dirname "$0")/lib.sh"

mp_require
[ -x "$MIGPRIOCTL" ] || ktap_skip_all "migprioctl not in the VM image"
for m in veth bridge sch_htb sch_fq_codel macvlan ipvlan 8021q; do
	modprobe "$m" 2>/dev/null
done
ktap_plan 15

M=$MIGPRIOCTL
PRIOSEND=${PRIOSEND:-$(dirname "$0")/priosend}
TCPSINK=${TCPSINK:-$(dirname "$0")/tcpsink}
PORT=49160		# a migration port (preset qemu): classified if it could be
CTRL_PORT=5300		# in no rule: only a priority that survived lands in 4d50:10
BYTES=2000000
FORGED=4d50:10

mp_load || ktap_skip_all "cannot load migprio"
defer mp_unload
setup_ns H P T R CM CI CV KP
h() { "$IP" netns exec "$H" "$@"; }
p() { "$IP" netns exec "$P" "$@"; }

# host H: vmbr0 (10.77.0.1) over the "NIC" va; tenant T bridged behind
# port vt; tenant R routed through H (10.78.0.0/24, fd00:78::/64)
"$IP" link add va netns "$H" type veth peer name vb netns "$P"
"$IP" link add vt netns "$H" type veth peer name eth0 netns "$T"
"$IP" link add vr netns "$H" type veth peer name eth0 netns "$R"
for ns in "$H" "$P" "$T" "$R" "$CM" "$CI" "$CV" "$KP"; do
	"$IP" netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
	"$IP" netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
done
setup() {
	h "$IP" link add vmbr0 type bridge &&
	h "$IP" link set va master vmbr0 && h "$IP" link set vt master vmbr0 &&
	h "$IP" addr add 10.77.0.1/24 dev vmbr0 && h "$IP" addr add fd00:77::1/64 dev vmbr0 &&
	h "$IP" addr add 10.78.0.1/24 dev vr && h "$IP" addr add fd00:78::1/64 dev vr &&
	for d in va vt vr vmbr0; do h "$IP" link set "$d" up || return 1; done &&
	h sysctl -qw net.ipv4.ip_forward=1 && h sysctl -qw net.ipv6.conf.all.forwarding=1 &&
	p "$IP" addr add 10.77.0.2/24 dev vb && p "$IP" addr add fd00:77::2/64 dev vb &&
	p "$IP" link set vb up &&
	p "$IP" route add 10.78.0.0/24 via 10.77.0.1 &&
	p "$IP" route add fd00:78::/64 via fd00:77::1 &&
	"$IP" -n "$T" addr add 10.77.0.5/24 dev eth0 && "$IP" -n "$T" addr add fd00:77::5/64 dev eth0 &&
	"$IP" -n "$T" link set eth0 up &&
	"$IP" -n "$R" addr add 10.78.0.2/24 dev eth0 && "$IP" -n "$R" addr add fd00:78::2/64 dev eth0 &&
	"$IP" -n "$R" link set eth0 up &&
	"$IP" -n "$R" route add default via 10.78.0.1 &&
	"$IP" -n "$R" -6 route add default via fd00:78::1 &&
	h "$M" rule add preset qemu >/dev/null &&
	h "$M" dev set vmbr0 queue htb rate 50mbit uplink va &&
	h "$TC" qdisc show dev va root | grep -q '^qdisc htb 4d50: root'
}
# stacked DEV (made in H on vmbr0 by "link add NAME link vmbr0 TYPE...")
# moved into NS as eth0 with ADDR4 [ADDR6]
stacked() { # NS ADDR4 ADDR6 TYPE...
	local ns=$1 a4=$2 a6=$3
	shift 3
	h "$IP" link add st0 link vmbr0 "$@" &&
	h "$IP" link set st0 netns "$ns" &&
	"$IP" -n "$ns" link set st0 name eth0 &&
	"$IP" -n "$ns" addr add "$a4" dev eth0 &&
	{ [ -z "$a6" ] || "$IP" -n "$ns" addr add "$a6" dev eth0; } &&
	"$IP" -n "$ns" link set eth0 up
}
# containers CM (macvlan), CV (VLAN 200, the peer's vb.200 10.79.0.2);
# pod KP: macvlan migration0, its own migprio. CI's ipvlan comes after the
# macvlans are gone (one rx_handler per device: either kind on vmbr0).
containers() {
	stacked "$CM" 10.77.0.6/24 fd00:77::6/64 type macvlan mode bridge &&
	stacked "$CV" 10.79.0.6/24 "" type vlan id 200 &&
	p "$IP" link add link vb name vb.200 type vlan id 200 &&
	p "$IP" addr add 10.79.0.2/24 dev vb.200 && p "$IP" link set vb.200 up &&
	stacked "$KP" 10.77.0.9/24 "" type macvlan mode bridge &&
	"$IP" -n "$KP" link set eth0 down &&
	"$IP" -n "$KP" link set eth0 name migration0 &&
	"$IP" -n "$KP" link set migration0 up &&
	"$IP" netns exec "$KP" "$M" rule add preset qemu >/dev/null &&
	"$IP" netns exec "$KP" "$M" dev set migration0 queue none priority "$FORGED"
}
setup || ktap_skip_all "cannot build the bridged host"
containers || ktap_skip_all "cannot build the containers on vmbr0"
for port in "$PORT" "$CTRL_PORT"; do
	"$IP" netns exec "$P" "$TCPSINK" "$port" &
	defer kill $!
	wait_listen "$P" "$port" || ktap_skip_all "no sink"
done

class_bytes() { class_sent "$H" va "4d50:$1"; }

# sends NS ADDR [PORT [PRIO]]: BYTES with SO_PRIORITY PRIO (default
# 4d50:10) from NS to the peer's PORT (default: the migration port); prints
# the deltas of 4d50:10 and 4d50:20 on va
sends() {
	local c10 c20 rc=0
	c10=$(class_bytes 10) c20=$(class_bytes 20)
	"$IP" netns exec "$1" "$PRIOSEND" "$2" "${3:-$PORT}" "$BYTES" "${4:-$FORGED}" || rc=$?
	[ "$rc" = 0 ] || { echo "priosend exit $rc"; return 1; }
	echo "$(($(class_bytes 10) - c10)) $(($(class_bytes 20) - c20))"
}

# not_forged NS ADDR: 4d50:10 unchanged, 4d50:20 carried it all
not_forged() {
	local res d10 d20
	res=$(sends "$1" "$2") || { echo "$res"; return 1; }
	read -r d10 d20 <<<"$res"
	echo "$BYTES bytes with priority $FORGED from $1 to $2: 4d50:10 +$d10, 4d50:20 +$d20"
	[ "$d10" = 0 ] && [ "$d20" -ge "$BYTES" ]
}

resets() { h "$M" -j stats | "$JQ" -r .priority_reset; }

# reset NS ADDR: not_forged, and the host's priority_reset counted it
reset() {
	local r0 r1
	r0=$(resets)
	not_forged "$1" "$2" || return 1
	r1=$(resets)
	echo "priority_reset $r0 -> $r1"
	[ "$r1" -gt "$r0" ]
}

# kept NS ADDR PRIO WHO: BYTES with PRIO to the migration port land in
# 4d50:10; nothing is reset
kept() {
	local res d10 d20 r0 r1
	r0=$(resets)
	res=$(sends "$1" "$2" "$PORT" "$3") || { echo "$res"; return 1; }
	read -r d10 d20 <<<"$res"
	r1=$(resets)
	echo "$4, priority $3, port $PORT: 4d50:10 +$d10, 4d50:20 +$d20, priority_reset $r0 -> $r1"
	[ "$d10" -ge "$BYTES" ] && [ "$r1" = "$r0" ]
}

host_gets_in() {
	local res d10 d20
	res=$(sends "$H" 10.77.0.2 "$CTRL_PORT") || { echo "$res"; return 1; }
	read -r d10 d20 <<<"$res"
	echo "host's own root, priority $FORGED, port $CTRL_PORT (no rule): 4d50:10 +$d10, 4d50:20 +$d20"
	[ "$d10" -ge "$BYTES" ]
}
ktap_test "control: the host's root with priority $FORGED to a port of no rule lands in 4d50:10 on the uplink" host_gets_in
ktap_test "the host's migration (priority 0, marked by migprio) lands in 4d50:10" \
	kept "$H" 10.77.0.2 0 "host"

ktap_test "bridged tenant, IPv4: priority $FORGED stays out of 4d50:10" not_forged "$T" 10.77.0.2
ktap_test "bridged tenant, IPv6: priority $FORGED stays out of 4d50:10" not_forged "$T" fd00:77::2
ktap_test "routed tenant, IPv4: priority $FORGED stays out of 4d50:10" not_forged "$R" 10.77.0.2
ktap_test "routed tenant, IPv6: priority $FORGED stays out of 4d50:10" not_forged "$R" fd00:77::2

# containers with a device stacked on the bridge: the priority survives
# it, the queue device (va) resets it
ktap_test "container's macvlan on vmbr0, IPv4: priority $FORGED reset to the default class" \
	reset "$CM" 10.77.0.2
ktap_test "container's macvlan on vmbr0, IPv6: priority $FORGED reset to the default class" \
	reset "$CM" fd00:77::2
ktap_test "pod with its own designation (macvlan migration0 on vmbr0): its migration keeps 4d50:10" \
	kept "$KP" 10.77.0.2 0 "pod"
ktap_test "container's VLAN device on vmbr0, IPv4: priority $FORGED reset to the default class" \
	reset "$CV" 10.79.0.2

# ipvlan instead of the macvlans
ipvlan() {
	"$IP" netns exec "$KP" "$M" dev clear &&
	"$IP" -n "$KP" link del migration0 && "$IP" -n "$CM" link del eth0 &&
	stacked "$CI" 10.77.0.7/24 fd00:77::7/64 type ipvlan mode l2
}
if ipvlan; then
	ktap_test "container's ipvlan (l2) on vmbr0, IPv4: priority $FORGED reset to the default class" \
		reset "$CI" 10.77.0.2
	ktap_test "container's ipvlan (l2) on vmbr0, IPv6: priority $FORGED reset to the default class" \
		reset "$CI" fd00:77::2
else
	ktap_fail "container's ipvlan (l2) on vmbr0, IPv4: cannot make it"
	ktap_fail "container's ipvlan (l2) on vmbr0, IPv6: cannot make it"
fi
# l3: the host routes it (neither ARP nor ND answer for the slave: the
# peer is told its MAC, vmbr0's)
ipvlan_l3() {
	"$IP" -n "$CI" link set eth0 type ipvlan mode l3 &&
	p "$IP" neigh replace 10.77.0.7 lladdr "$(h cat /sys/class/net/vmbr0/address)" \
		dev vb nud permanent &&
	reset "$CI" 10.77.0.2
}
ktap_test "container's ipvlan (l3) on vmbr0, IPv4, classified by the host's rule: reset to the default class" \
	ipvlan_l3

# br_netfilter: bridged frames pass the IP hooks too (migprio skips them)
if modprobe br_netfilter 2>/dev/null &&
   h sysctl -qw net.bridge.bridge-nf-call-iptables=1 &&
   h sysctl -qw net.bridge.bridge-nf-call-ip6tables=1; then
	ktap_test "bridged tenant with br_netfilter, IPv4: priority $FORGED stays out of 4d50:10" \
		not_forged "$T" 10.77.0.2
	ktap_test "bridged tenant with br_netfilter, IPv6: priority $FORGED stays out of 4d50:10" \
		not_forged "$T" fd00:77::2
	h sysctl -qw net.bridge.bridge-nf-call-iptables=0
	h sysctl -qw net.bridge.bridge-nf-call-ip6tables=0
else
	ktap_fail "bridged tenant with br_netfilter, IPv4: no br_netfilter"
	ktap_fail "bridged tenant with br_netfilter, IPv6: no br_netfilter"
fi

h "$M" dev clear
h "$M" rule flush
ktap_finish
