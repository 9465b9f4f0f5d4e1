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
# Oracle: tc -s class on the uplink (4d50:10 and 4d50:20 Sent bytes).
source "$(dirname "$0")/lib.sh"

mp_require
[ -x "$MIGPRIOCTL" ] || ktap_skip_all "migprioctl not in the VM image"
for m in veth bridge sch_htb sch_fq_codel; do
	modprobe "$m" 2>/dev/null
done
ktap_plan 7

M=$MIGPRIOCTL
PRIOSEND=${PRIOSEND:-$(dirname "$0")/priosend}
TCPSINK=${TCPSINK:-$(dirname "$0")/tcpsink}
PORT=49160		# a migration port (preset qemu): classified if it could be
CTRL_PORT=5300		# in no rule: only a priority that survived lands in 4d50:10
BYTES=2000000
FORGED=4d50:10

mp_load || ktap_skip_all "cannot load migprio"
defer mp_unload
setup_ns H P T R
h() { "$IP" netns exec "$H" "$@"; }
p() { "$IP" netns exec "$P" "$@"; }

# host H: vmbr0 (10.77.0.1) over the "NIC" va; tenant T bridged behind
# port vt; tenant R routed through H (10.78.0.0/24, fd00:78::/64)
"$IP" link add va netns "$H" type veth peer name vb netns "$P"
"$IP" link add vt netns "$H" type veth peer name eth0 netns "$T"
"$IP" link add vr netns "$H" type veth peer name eth0 netns "$R"
for ns in "$H" "$P" "$T" "$R"; do
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
setup || ktap_skip_all "cannot build the bridged host"
for port in "$PORT" "$CTRL_PORT"; do
	"$IP" netns exec "$P" "$TCPSINK" "$port" &
	defer kill $!
	wait_listen "$P" "$port" || ktap_skip_all "no sink"
done

class_bytes() { class_sent "$H" va "4d50:$1"; }

# sends NS ADDR [PORT]: BYTES with SO_PRIORITY 4d50:10 from NS to the
# peer's PORT (default: the migration port); prints the deltas of 4d50:10
# and 4d50:20 on va
sends() {
	local c10 c20 rc=0
	c10=$(class_bytes 10) c20=$(class_bytes 20)
	"$IP" netns exec "$1" "$PRIOSEND" "$2" "${3:-$PORT}" "$BYTES" "$FORGED" || rc=$?
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

host_gets_in() {
	local res d10 d20
	res=$(sends "$H" 10.77.0.2 "$CTRL_PORT") || { echo "$res"; return 1; }
	read -r d10 d20 <<<"$res"
	echo "host's own root, priority $FORGED, port $CTRL_PORT (no rule): 4d50:10 +$d10, 4d50:20 +$d20"
	[ "$d10" -ge "$BYTES" ]
}
ktap_test "control: the host's root with priority $FORGED to a port of no rule lands in 4d50:10 on the uplink" host_gets_in

ktap_test "bridged tenant, IPv4: priority $FORGED stays out of 4d50:10" not_forged "$T" 10.77.0.2
ktap_test "bridged tenant, IPv6: priority $FORGED stays out of 4d50:10" not_forged "$T" fd00:77::2
ktap_test "routed tenant, IPv4: priority $FORGED stays out of 4d50:10" not_forged "$R" 10.77.0.2
ktap_test "routed tenant, IPv6: priority $FORGED stays out of 4d50:10" not_forged "$R" fd00:77::2

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
