#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Hardening (issue 11): the events group is closed to unprivileged users;
# bridged guest traffic (br_netfilter) is not the host's; enslaved devices
# (bond, bridge port) are refused, and an interface enslaved later is
# reported; GSO packets with gso_segs 0 (tap/virtio-net) count their
# segments; designations, clears and losses are logged.
source "$(dirname "$0")/lib.sh"

mp_require
ktap_plan 9

PORT=49160
GSOTAP=${GSOTAP:-$(dirname "$0")/gsotap}
T=$(mktemp -d)
defer rm -rf "$T"

# Formatted extack messages need 6.3+ (NL_SET_ERR_MSG_ATTR_FMT); 6.1 gets
# a constant message without the master's name.
kver=$(uname -r)
kmaj=${kver%%.*}
kmin=${kver#*.}
kmin=${kmin%%[.-]*}
FMT_EXTACK=0
[ "$kmaj" -gt 6 ] || { [ "$kmaj" = 6 ] && [ "$kmin" -ge 3 ]; } && FMT_EXTACK=1

setup_ns H
h() { "$IP" netns exec "$H" "$@"; }
mp_load || ktap_skip_all "cannot load migprio"
defer mp_unload

stat_of() { "$IP" netns exec "$1" "$MIGPRIOCTL" -j stats | "$JQ" ".$2"; }

# ---- 8. logging: designate, clear, lose (first: the messages are
# rate-limited per call site, 10 per 5 s; wait out any earlier burst)
sleep 6
h "$IP" link add mplog0 type dummy
h "$IP" link set mplog0 up
NSINUM=$(h readlink /proc/self/ns/net | tr -dc 0-9)
LOGIDX=$(h cat /sys/class/net/mplog0/ifindex)
logged() {
	dmesg | grep -qF "migprio: netns $NSINUM: $1 mplog0 (ifindex $LOGIDX)$2" || {
		echo "not in dmesg: netns $NSINUM: $1 mplog0 (ifindex $LOGIDX)$2"
		dmesg | grep migprio | tail -n 5
		return 1
	}
}
log_test() {
	h "$MIGPRIOCTL" dev set mplog0 queue none || return 1
	logged designated "" || return 1
	h "$MIGPRIOCTL" dev clear || return 1
	logged cleared "" || return 1
	h "$MIGPRIOCTL" dev set mplog0 queue none || return 1
	h "$IP" link del mplog0 || return 1
	logged lost ": unregistered or moved to another netns" || return 1
	# module unload: released, not lost (the notifier's removal replays
	# NETDEV_UNREGISTER for every device)
	h "$IP" link add mplog0 type dummy && h "$IP" link set mplog0 up &&
		h "$MIGPRIOCTL" dev set mplog0 queue none || return 1
	LOGIDX=$(h cat /sys/class/net/mplog0/ifindex)
	mp_unload || return 1
	logged released ": module unloaded" || return 1
	! dmesg | grep -qF "migprio: netns $NSINUM: lost mplog0 (ifindex $LOGIDX)" &&
		mp_load
}
ktap_test "dmesg names the interface, ifindex and netns on designate, clear, loss and unload" log_test

# ---- 1. the events group needs CAP_NET_ADMIN
monitor_nobody() {
	local rc=0
	h setpriv --reuid 65534 --regid 65534 --clear-groups \
		timeout 10 "$MIGPRIOCTL" monitor >"$T/mon" 2>&1 || rc=$?
	echo "exit $rc: $(cat "$T/mon")"
	[ "$rc" = 1 ] && grep -q "Operation not permitted" "$T/mon"
}
ktap_test "monitor as uid 65534 fails at once: Operation not permitted, exit 1" monitor_nobody

# ---- 5. enslaved devices are refused, naming the master
h "$IP" link add mpbond0 type bond || ktap_skip_all "no bonding"
h "$IP" link add mpd1 type dummy
h "$IP" link set mpd1 master mpbond0
h "$IP" link add mpbr1 type bridge
h "$IP" link add mpd2 type dummy
h "$IP" link set mpd2 master mpbr1
refused() {
	local dev=$1 master=$2 rc=0 before after
	before=$("$TC" -n "$H" qdisc show dev "$dev")
	h "$MIGPRIOCTL" dev set "$dev" >"$T/set" 2>&1 || rc=$?
	echo "exit $rc: $(cat "$T/set")"
	[ "$rc" = 1 ] || return 1
	# the kernel's message (6.3+), or its constant one (6.1) and the
	# tool's hint naming the master
	[ $FMT_EXTACK = 1 ] || grep -qF "designate the master" "$T/set" || return 1
	grep -qF "$dev is a slave of $master; designate $master" "$T/set" || return 1
	# nothing changed: no designation, no qdisc left behind
	[ "$(h "$MIGPRIOCTL" -j dev show | "$JQ" -c .dev)" = null ] || {
		echo "designated: $(h "$MIGPRIOCTL" dev show)"
		return 1
	}
	after=$("$TC" -n "$H" qdisc show dev "$dev")
	[ "$before" = "$after" ] || { echo "qdisc changed: $before -> $after"; return 1; }
}
ktap_test "dev set on a bond slave is refused naming the bond, nothing changed" refused mpd1 mpbond0
ktap_test "dev set on a bridge port is refused naming the bridge, nothing changed" refused mpd2 mpbr1

# A designated interface enslaved later: event, dev show, dmesg.
h "$IP" link add mpd3 type dummy
h "$MIGPRIOCTL" -j monitor >"$T/events" 2>&1 &
defer kill $!
# listening once it reports a designation (set again until it does)
busywait 5000 eval 'h "$MIGPRIOCTL" dev set mpd3 queue none &&
	grep -q "\"change\":\"set\"" "$T/events"' ||
	diag "monitor saw no dev-change set: $(cat "$T/events")"
enslaved() {
	h "$IP" link set mpd3 master mpbond0 || return 1
	[ "$(h "$MIGPRIOCTL" -j dev show | "$JQ" -r .dev.master)" = mpbond0 ] || {
		h "$MIGPRIOCTL" dev show
		return 1
	}
	h "$MIGPRIOCTL" dev show | grep -q "master    mpbond0" || return 1
	busywait 10000 grep -q '"change":"master".*"master":"mpbond0"' "$T/events" || {
		echo "events: $(cat "$T/events")"
		return 1
	}
	dmesg | grep -qF "mpd3 (ifindex $(h cat /sys/class/net/mpd3/ifindex)) is now a slave of mpbond0" || {
		dmesg | tail -n 3
		return 1
	}
}
ktap_test "designated interface enslaved later: event, dev show master, dmesg" enslaved
released() {
	h "$IP" link set mpd3 nomaster || return 1
	[ "$(h "$MIGPRIOCTL" -j dev show | "$JQ" -c .dev.master)" = null ] || return 1
	busywait 10000 grep -q '"change":"master","ifname":"mpd3".*"master":null' "$T/events" || {
		echo "events: $(cat "$T/events")"
		return 1
	}
}
ktap_test "released again: event, dev show without master" released
h "$MIGPRIOCTL" dev clear

# ---- 4. bridged guest traffic with br_netfilter
setup_ns V P
v() { "$IP" netns exec "$V" "$@"; }
p() { "$IP" netns exec "$P" "$@"; }
bridge_setup() {
	modprobe br_netfilter || return 4
	h "$IP" link add mpbr0 type bridge &&
	h "$IP" addr add 10.88.0.1/24 dev mpbr0 &&
	h "$IP" link set mpbr0 up &&
	"$IP" link add mpvm0 netns "$H" type veth peer name eth0 netns "$V" &&
	"$IP" link add mpup0 netns "$H" type veth peer name eth0 netns "$P" &&
	h "$IP" link set mpvm0 master mpbr0 up &&
	h "$IP" link set mpup0 master mpbr0 up &&
	v "$IP" addr add 10.88.0.2/24 dev eth0 && v "$IP" link set eth0 up &&
	p "$IP" addr add 10.88.0.3/24 dev eth0 && p "$IP" link set eth0 up || return 1
	# per netns from 5.3 on; the initial netns' value for older ones
	h sysctl -qw net.bridge.bridge-nf-call-iptables=1 || return 1
	h sysctl -qw net.bridge.bridge-nf-call-ip6tables=1
	h "$MIGPRIOCTL" dev set mpbr0 queue none &&
	h "$MIGPRIOCTL" rule add port $PORT >/dev/null
}
rc=0
bridge_setup || rc=$?
if [ $rc != 0 ]; then
	ktap_result $((rc == 4 ? 4 : 1)) "bridged guest traffic: not counted, marked or tracked"
	ktap_result $((rc == 4 ? 4 : 1)) "host traffic over the bridge: counted and tracked"
else
	guest() {
		iperf3_server "$P" $PORT || return 1
		v "$IPERF3" -c 10.88.0.3 -p $PORT -n 2M >"$T/guest" 2>&1 || {
			cat "$T/guest"
			return 1
		}
		local tx rx st
		tx=$(stat_of "$H" tx_packets)
		rx=$(stat_of "$H" rx_packets)
		st=$(stat_of "$H" flows_started)
		echo "host stats after a 2 MB guest transfer: tx $tx rx $rx flows $st"
		[ "$tx" = 0 ] && [ "$rx" = 0 ] && [ "$st" = 0 ]
	}
	ktap_test "bridged guest traffic: not counted, marked or tracked" guest
	host() {
		iperf3_server "$P" $PORT || return 1
		h "$IPERF3" -c 10.88.0.3 -p $PORT -n 2M >"$T/host" 2>&1 || {
			cat "$T/host"
			return 1
		}
		local tx rx st
		tx=$(stat_of "$H" tx_packets)
		rx=$(stat_of "$H" rx_packets)
		st=$(stat_of "$H" flows_started)
		echo "host stats after a 2 MB host transfer: tx $tx rx $rx flows $st"
		# 2 MB out in >= 1448-byte segments; ACKs in, over the bridge
		[ "$tx" -ge 1000 ] && [ "$rx" -gt 0 ] && [ "$st" -ge 1 ]
	}
	ktap_test "host traffic over the bridge: counted and tracked" host
fi
h "$MIGPRIOCTL" dev clear
h "$MIGPRIOCTL" rule flush

# ---- 6. GSO packets from a tap (gso_segs 0) count their segments
setup_ns G
g() { "$IP" netns exec "$G" "$@"; }
gso() {
	modprobe tun 2>/dev/null
	[ -e /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; } || return 1
	g "$GSOTAP" create mptap0 || return 1
	g "$IP" addr add 10.77.0.1/24 dev mptap0 &&
	g "$IP" link set mptap0 up &&
	g "$MIGPRIOCTL" dev set mptap0 queue none &&
	g "$MIGPRIOCTL" rule add port 49170 >/dev/null || return 1
	# 10 segments of 1448 bytes in one skb, from the peer's service port
	# (nothing listens on G's side: port rules match the listening end)
	g "$GSOTAP" send mptap0 10.77.0.2 10.77.0.1 49170 40000 14480 1448 || return 1
	local pk by
	pk=$(stat_of "$G" rx_packets)
	by=$(stat_of "$G" rx_bytes)
	echo "rx_packets $pk rx_bytes $by (want 10, 14520); tap: $(g "$IP" -s link show mptap0 | sed -n '/RX:/{n;p}')"
	[ "$pk" = 10 ] && [ "$by" = 14520 ]
}
ktap_test "a 10-segment GSO packet from a tap (gso_segs 0) counts 10 packets" gso

ktap_finish
