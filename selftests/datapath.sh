#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The data path end to end, checked with independent tools: two netns joined
# by a veth, a prio qdisc set up with tc on each end (migration priority 7
# lands in band 0, class 1:1; plain traffic in 1:2), iperf3 rate-limited
# transfers. Marking is read from `tc -s class show`, buffers and window
# scale from `ss -tmi`, DSCP from a flower filter counting at the receiver,
# flows and events from migprioctl compared with iperf3's own byte counts.
source "$(dirname "$0")/lib.sh"

mp_require
ktap_plan 19

BUF=33554432		# fixed sndbuf/rcvbuf (defaults: sockbuf.sh)
MIN_WSCALE=8		# 65535 << 8 covers the window of a 32 MiB rcvbuf
PORT=49160		# in preset qemu (49152-49215)
FPORT=49161		# the same, for the rule flip transfer (killed)
OTHER=5201
CGPORT=5300
T=$(mktemp -d)
defer rm -rf "$T"

a() { "$IP" netns exec "$A" "$@"; }
b() { "$IP" netns exec "$B" "$@"; }

# snap NS DEV: "bytes(1:1) bytes(1:2)"
snap() { echo "$(class_sent "$1" "$2" 1:1) $(class_sent "$1" "$2" 1:2)"; }

stat_of() { "$IP" netns exec "$1" "$MIGPRIOCTL" -j stats | "$JQ" ".$2"; }

# client NS OUT ARGS...: iperf3 client, JSON in OUT; prints bytes received
client() {
	local ns=$1 out=$2; shift 2
	"$IP" netns exec "$ns" "$IPERF3" -J "$@" >"$out" 2>&1 || {
		echo "iperf3 $* failed: $(head -c 400 "$out")" >&2
		echo 0
		return 1
	}
	"$JQ" '.end.sum_received.bytes // 0' "$out"
	"$JQ" -r '.error // empty' "$out" >&2
}

# marked BEFORE AFTER MIGBYTES OTHERBYTES: the migration bytes went through
# 1:1 and the others through 1:2 (each class carried at least that much).
marked() {
	local b1 b2 a1 a2
	read -r b1 b2 <<<"$1"
	read -r a1 a2 <<<"$2"
	echo "1:1 +$((a1 - b1)) (migration $3), 1:2 +$((a2 - b2)) (other $4)"
	[ "$3" -gt 100000 ] && [ $((a1 - b1)) -ge "$3" ] &&
		[ $((a2 - b2)) -ge "$4" ]
}

# unmarked BEFORE AFTER BYTES: BYTES went through 1:2, almost none via 1:1
unmarked() {
	local b1 b2 a1 a2
	read -r b1 b2 <<<"$1"
	read -r a1 a2 <<<"$2"
	echo "1:1 +$((a1 - b1)), 1:2 +$((a2 - b2)) (flow $3)"
	[ "$3" -gt 100000 ] && [ $((a2 - b2)) -ge "$3" ] &&
		[ $((a1 - b1)) -lt $(($3 / 20)) ]
}

setup_ns A B
veth_pair "$A" "$B" || ktap_skip_all "cannot create veth"
mp_load || ktap_skip_all "cannot load migprio"
for ns in "$A:$VETH_A" "$B:$VETH_B"; do
	"$TC" -n "${ns%:*}" qdisc add dev "${ns#*:}" root handle 1: prio
	"$IP" netns exec "${ns%:*}" "$MIGPRIOCTL" dev set "${ns#*:}" queue none \
		sndbuf 32M rcvbuf 32M
	"$IP" netns exec "${ns%:*}" "$MIGPRIOCTL" rule add preset qemu >/dev/null
done
for p in $PORT $FPORT $OTHER $CGPORT; do
	"$IP" netns exec "$B" "$IPERF3" -s -p $p >/dev/null 2>&1 &
	defer kill $!
	wait_listen "$B" $p
done
"$IP" netns exec "$A" "$MIGPRIOCTL" -j monitor >"$T/monitor" 2>&1 &
defer kill $!
sleep 0.3

# ---- IPv4, client to server, with a non-migration flow alongside
s0=$(snap "$A" "$VETH_A")
"$IP" netns exec "$A" "$IPERF3" -J -c "$ADDR_B" -p $OTHER -t $((15 * MP_SLOW)) -b 50M >"$T/other.json" 2>&1 &
opid=$!
"$IP" netns exec "$A" "$IPERF3" -J -c "$ADDR_B" -p $PORT -t $((15 * MP_SLOW)) -b 100M >"$T/mig.json" 2>&1 &
mpid=$!
# connected: iperf3 data connections (the second one on each port)
nconn() { "$SS" -N "$A" -tnH state established "( dport = :$1 )" | wc -l; }
busywait $((15000 * MP_SLOW)) eval '[ "$(nconn $PORT)" -ge 2 ] && [ "$(nconn $OTHER)" -ge 2 ]' ||
	diag "data connections not seen: $PORT $(nconn $PORT), $OTHER $(nconn $OTHER)"

# all established 49160 sockets of NS: tb and rb >= BUF (and wscale check)
bufs_ok() {
	local out ws=${2:-0}
	SS_LAST=$("$IP" netns exec "$1" "$SS" -tmiHO state established)
	out=$(echo "$SS_LAST" | grep -E ":$PORT( |$)")
	echo "$out" | grep -q skmem || return 1
	echo "$out" | grep -o 'skmem:([^)]*)' | while read -r m; do
		rb=$(echo "$m" | grep -o ',rb[0-9]*' | tr -dc 0-9)
		tb=$(echo "$m" | grep -o ',tb[0-9]*' | tr -dc 0-9)
		[ "$rb" -ge $BUF ] && [ "$tb" -ge $BUF ] || exit 1
	done || return 1
	[ "$ws" = 0 ] && return 0
	# accepted side: our receive window scale (second number)
	echo "$out" | grep -o 'wscale:[0-9]*,[0-9]*' | while read -r w; do
		[ "${w##*,}" -ge "$ws" ] || exit 1
	done
}
other_default() {
	local out
	out=$(a "$SS" -tmiHO state established | grep -E ":$OTHER( |$)")
	echo "$out" | grep -q skmem || return 1
	! echo "$out" | grep -Eq "rb$BUF|tb$BUF"
}
ss_check() {
	local t0=$SECONDS
	busywait $((10000 * MP_SLOW)) bufs_ok "$A" &&
		busywait $((10000 * MP_SLOW)) bufs_ok "$B" $MIN_WSCALE &&
		other_default && return 0
	echo "after $((SECONDS - t0)) s (transfer running: $(kill -0 $mpid 2>/dev/null && echo yes || echo no)), last sockets seen:"
	echo "$SS_LAST"
	a "$SS" -tmi state established
	b "$SS" -tmi state established
	return 1
}
ktap_test "ss: tb/rb >= $BUF on connecting and accepted socket, wscale >= $MIN_WSCALE, port $OTHER default" ss_check


wait $mpid $opid
s1=$(snap "$A" "$VETH_A")
mig=$("$JQ" '.end.sum_received.bytes' "$T/mig.json")
oth=$("$JQ" '.end.sum_received.bytes' "$T/other.json")
ktap_test "IPv4: port $PORT in class 1:1, port $OTHER not" marked "$s0" "$s1" "$mig" "$oth"

sent=$("$JQ" '.end.sum_sent.bytes' "$T/mig.json")
mon_end() {
	"$JQ" -c "select(.event == \"flow-end\" and .remote.port == $PORT)" \
		"$T/monitor" 2>/dev/null | "$JQ" -s 'map(.tx_bytes) | max // 0'
}
monitor_ok() {
	local tx
	busywait 4000 grep -q flow-end "$T/monitor"
	busywait 3000 eval '[ "$(mon_end)" -gt $((sent / 2)) ]'
	tx=$(mon_end)
	echo "iperf3 sent $sent, flow-end tx_bytes $tx"
	grep -q '"flow-start"' "$T/monitor" &&
		[ $((tx > sent ? tx - sent : sent - tx)) -le $((sent / 100)) ]
}
ktap_test "monitor: start and end events, end totals within 1% of iperf3" monitor_ok

# ---- the other direction and IPv6
# rev ADDR: iperf3 -R to ADDR, the server's data leaves B through 1:1
rev() {
	local s0 s1 n
	s0=$(snap "$B" "$VETH_B")
	n=$(client "$A" "$T/rev.json" -c "$1" -p $PORT -t 2 -b 100M -R)
	s1=$(snap "$B" "$VETH_B")
	marked "$s0" "$s1" "$n" 0
}
ktap_test "IPv4 reverse (-R): server's data in class 1:1" rev "$ADDR_B"

fwd6() {
	local s0 s1 n m
	s0=$(snap "$A" "$VETH_A")
	"$IP" netns exec "$A" "$IPERF3" -J -c "$ADDR6_B" -p $OTHER -t 2 -b 50M >"$T/o6.json" 2>&1 &
	n=$(client "$A" "$T/f6.json" -c "$ADDR6_B" -p $PORT -t 2 -b 100M)
	wait $!
	m=$("$JQ" '.end.sum_received.bytes' "$T/o6.json")
	s1=$(snap "$A" "$VETH_A")
	marked "$s0" "$s1" "$n" "$m"
}
ktap_test "IPv6: port $PORT in class 1:1, port $OTHER not" fwd6

ktap_test "IPv6 reverse (-R): server's data in class 1:1" rev "$ADDR6_B"

par8() {
	local s0 s1 n f0 f1
	f0=$(stat_of "$A" flows_started)
	s0=$(snap "$A" "$VETH_A")
	n=$(client "$A" "$T/p8.json" -c "$ADDR_B" -p $PORT -t 2 -b 15M -P 8)
	s1=$(snap "$A" "$VETH_A")
	f1=$(stat_of "$A" flows_started)
	echo "flows started $f0 -> $f1"
	marked "$s0" "$s1" "$n" 0 && [ $((f1 - f0)) -ge 9 ]
}
ktap_test "8 parallel connections: all marked, 8 data + 1 control flows" par8

# ---- DSCP 10 (tos 0x28), counted by flower at the receiver
dscp() {
	local p4 p6 n4 n6
	a "$MIGPRIOCTL" dev set "$VETH_A" queue none dscp 10 || return 1
	"$TC" -n "$B" qdisc add dev "$VETH_B" ingress || return 1
	"$TC" -n "$B" filter add dev "$VETH_B" ingress pref 1 protocol ip \
		flower ip_tos 0x28/0xfc action pass || return 1
	"$TC" -n "$B" filter add dev "$VETH_B" ingress pref 2 protocol ipv6 \
		flower ip_tos 0x28/0xfc action pass || return 1
	n4=$(client "$A" "$T/d4.json" -c "$ADDR_B" -p $PORT -t 1 -b 50M)
	n6=$(client "$A" "$T/d6.json" -c "$ADDR6_B" -p $PORT -t 1 -b 50M)
	p4=$("$TC" -n "$B" -s filter show dev "$VETH_B" ingress pref 1 |
		awk '$1 == "Sent" { print $4; exit }')
	p6=$("$TC" -n "$B" -s filter show dev "$VETH_B" ingress pref 2 |
		awk '$1 == "Sent" { print $4; exit }')
	echo "tos 0x28 packets at the receiver: v4 ${p4:-none} v6 ${p6:-none}; dscp_rewritten $(stat_of "$A" dscp_rewritten)"
	a "$MIGPRIOCTL" dev set "$VETH_A" queue none || return 1
	"$TC" -n "$B" qdisc del dev "$VETH_B" ingress
	[ "$n4" -gt 0 ] && [ "$n6" -gt 0 ] &&
		[ "${p4:-0}" -ge 100 ] && [ "${p6:-0}" -ge 100 ]
}
ktap_test "dscp 10: IPv4 and IPv6 packets arrive with DSCP 10" dscp

# ---- a rule added during a transfer, then deleted
a "$MIGPRIOCTL" rule flush
c11() { class_sent "$A" "$VETH_A" 1:1; }
c12() { class_sent "$A" "$VETH_A" 1:2; }
# grows CLASSFN FROM BYTES: the class carried BYTES more than FROM
grows() { [ $(($($1) - $2)) -ge "$3" ]; }
"$IP" netns exec "$A" "$IPERF3" -c "$ADDR_B" -p $FPORT -t 25 -b 50M >/dev/null 2>&1 &
ipid=$!
flip_on() {
	local x t0 t1
	busywait 15000 eval '[ "$(nconn $FPORT)" -ge 2 ]'
	sleep 0.7
	x=$(c11)
	sleep 0.5
	echo "1:1 before the rule: +$(($(c11) - x)) in 0.5 s"
	[ $(($(c11) - x)) -lt 100000 ] || return 1
	x=$(c11)
	t0=${EPOCHREALTIME/./}
	# keep the new rule out of the classifier table for 20 s: the data
	# path must match it one by one (and the rule del below remove it)
	echo 20000 >"$BUILD_DELAY"
	a "$MIGPRIOCTL" rule add preset qemu | awk '{ print $2 }' >"$T/ruleid"
	busywait 1000 grows c11 "$x" 500000 || { echo "1:1 did not grow"; return 1; }
	t1=${EPOCHREALTIME/./}
	echo "in class 1:1 $(((t1 - t0) / 1000)) ms after rule add"
}
BUILD_DELAY=/sys/module/$MP_NAME/parameters/build_delay_ms
defer eval "[ ! -w $BUILD_DELAY ] || echo 100 >$BUILD_DELAY"
ktap_test "rule added mid-transfer (not yet in the built table): flow in class 1:1 within 1 s" flip_on
max_tx() {
	a "$MIGPRIOCTL" -j flow list |
		"$JQ" "[.[] | select(.remote.port == $FPORT) | .tx_bytes] | max // 0"
}
flows_grow() {
	local x y
	busywait 5000 eval '[ "$(max_tx)" -gt 0 ]'
	x=$(max_tx)
	sleep 0.5
	y=$(max_tx)
	echo "flow tx_bytes $x -> $y"
	[ "$x" -gt 0 ] && [ "$y" -gt "$x" ]
}
ktap_test "flow list shows the live flow with growing byte counts" flows_grow
flip_off() {
	local x y
	a "$MIGPRIOCTL" rule del "$(cat "$T/ruleid")" || return 1
	x=$(c12)
	busywait 2000 grows c12 "$x" 500000 || {
		sleep 2
		echo "1:2 did not grow in 2 s (+$(($(c12) - x)) 2 s later)"
		return 1
	}
	x=$(c11)
	sleep 0.5
	y=$(c11)
	echo "1:1 after rule del: +$((y - x)) in 0.5 s"
	[ $((y - x)) -lt 100000 ]
}
ktap_test "rule deleted mid-transfer: flow back in class 1:2 within 2 s" flip_off
echo 100 >"$BUILD_DELAY"
kill $ipid 2>/dev/null
wait $ipid 2>/dev/null

# ---- cgroup v2 rule: only a process inside the cgroup is marked
CG=/sys/fs/cgroup/mp-dp-$$
mkdir "$CG"
defer rmdir "$CG"
a "$MIGPRIOCTL" rule add port $CGPORT cgroup "/${CG##*/}" >/dev/null
cg_in() {
	local s0 s1 n
	s0=$(snap "$A" "$VETH_A")
	n=$( (echo $BASHPID >"$CG/cgroup.procs" &&
	      client "$A" "$T/cg1.json" -c "$ADDR_B" -p $CGPORT -t 1 -b 50M))
	s1=$(snap "$A" "$VETH_A")
	marked "$s0" "$s1" "$n" 0
}
ktap_test "cgroup rule: a client inside the cgroup is marked" cg_in
cg_out() {
	local s0 s1 n
	s0=$(snap "$A" "$VETH_A")
	n=$(client "$A" "$T/cg2.json" -c "$ADDR_B" -p $CGPORT -t 1 -b 50M)
	s1=$(snap "$A" "$VETH_A")
	unmarked "$s0" "$s1" "$n"
}
ktap_test "cgroup rule: the same client outside the cgroup is not" cg_out
a "$MIGPRIOCTL" rule flush
a "$MIGPRIOCTL" rule add preset qemu >/dev/null

# ---- a second, non-designated link between the same namespaces
nondesig() {
	local s0 s1 n t0 t1
	"$IP" link add mpveth-c netns "$A" type veth peer name mpveth-d netns "$B" &&
	"$IP" -n "$A" addr add 10.98.0.1/24 dev mpveth-c &&
	"$IP" -n "$B" addr add 10.98.0.2/24 dev mpveth-d &&
	"$IP" -n "$A" link set mpveth-c up && "$IP" -n "$B" link set mpveth-d up &&
	"$TC" -n "$A" qdisc add dev mpveth-c root handle 1: prio || return 1
	t0=$(stat_of "$A" tx_packets)
	s0=$(snap "$A" mpveth-c)
	n=$(client "$A" "$T/nd.json" -c 10.98.0.2 -p $PORT -t 1 -b 50M)
	s1=$(snap "$A" mpveth-c)
	t1=$(stat_of "$A" tx_packets)
	echo "migprio tx_packets $t0 -> $t1"
	# the killed flip transfer may still close on the designated link
	unmarked "$s0" "$s1" "$n" && [ $((t1 - t0)) -lt 50 ]
}
ktap_test "non-designated interface: port $PORT untouched" nondesig

nodesig() {
	local s0 s1 n t0 t1
	a "$MIGPRIOCTL" dev clear || return 1
	t0=$(stat_of "$A" tx_packets)
	s0=$(snap "$A" "$VETH_A")
	n=$(client "$A" "$T/nd2.json" -c "$ADDR_B" -p $PORT -t 1 -b 50M)
	s1=$(snap "$A" "$VETH_A")
	t1=$(stat_of "$A" tx_packets)
	echo "migprio tx_packets $t0 -> $t1, flows active $(stat_of "$A" flows_active)"
	unmarked "$s0" "$s1" "$n" && [ "$t0" = "$t1" ]
}
ktap_test "no designated interface: port $PORT untouched" nodesig

# ---- counters seen by migprioctl agree with what tc saw
counters() {
	local tx st
	tx=$(stat_of "$A" tx_bytes)
	st=$(stat_of "$A" socks_tuned)
	echo "netns A: tx_bytes $tx socks_tuned $st; B: socks_tuned $(stat_of "$B" socks_tuned)"
	[ "$tx" -gt 0 ] && [ "$st" -gt 0 ] && [ "$(stat_of "$B" socks_tuned)" -gt 0 ]
}
ktap_test "stats: bytes marked and sockets tuned on both ends" counters

rules_count() {
	local out
	out=$(b "$MIGPRIOCTL" -j rule list) || return 1
	echo "$out" | "$JQ" -e '.[0].tx_packets > 0 and .[0].rx_packets > 0 and .[0].flows > 0'
}
ktap_test "rule list: per-rule packets and flows counted" rules_count

ktap_test "unload with the test's state in place" mp_unload
splat() { ! dmesg | grep -E 'BUG:|WARNING:|Oops|refcount_t:|suspicious RCU|circular locking'; }
ktap_test "no kernel splat" splat
ktap_finish
