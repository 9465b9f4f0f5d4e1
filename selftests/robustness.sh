#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The data path under stress and teardown: the designated interface deleted,
# the module unloaded and the netns deleted while a migration transfer runs
# (no splat: vm-run fails the run on any; the state is gone), and a SYN
# flood against the migration port with a full flow table (forged SYNs
# start no flow and are not even counted as untracked).
source "$(dirname "$0")/lib.sh"

mp_require
ktap_plan 8

PORT=49160
FLOOD_PORT=49152
REAL_PORT=49153
HALF_PORT=49154
HALF_ADDR=10.99.0.3
MAX_FLOWS=64
SYNS=${ROBUST_SYNS:-20000}
SYNFLOOD=${SYNFLOOD:-$(dirname "$0")/synflood}
SOCKHOLD=${SOCKHOLD:-$(dirname "$0")/sockhold}
T=$(mktemp -d)
defer rm -rf "$T"

mp() { "$IP" netns exec "$1" "$MIGPRIOCTL" "${@:2}"; }
stat_of() { mp "$1" -j stats | "$JQ" ".$2"; }
nconn() { "$SS" -N "$1" -tnH state established "( dport = :$2 )" | wc -l; }

# pair NS1 NS2: veth, prio qdisc and designation on NS1's end, preset rule,
# an iperf3 server in NS2 on PORT
pair() {
	veth_pair "$1" "$2" &&
	"$TC" -n "$1" qdisc add dev "$VETH_A" root handle 1: prio &&
	mp "$1" dev set "$VETH_A" queue none &&
	mp "$1" rule add preset qemu >/dev/null || return 1
	"$IP" netns exec "$2" "$IPERF3" -s -p $PORT >/dev/null 2>&1 &
	defer kill $!
	wait_listen "$2" $PORT
}

# transfer NS: start a long iperf3 to the peer, wait until its flows exist
transfer() {
	local ns=$1
	"$IP" netns exec "$ns" "$IPERF3" -c "$ADDR_B" -p $PORT -t 30 -b 50M \
		>/dev/null 2>&1 &
	TPID=$!
	defer kill $TPID
	busywait 15000 eval '[ "$(nconn "$ns" $PORT)" -ge 2 ]' &&
		busywait 3000 eval '[ "$(stat_of "$ns" flows_active)" -ge 2 ]'
}

# Packets the receive backlogs dropped (all CPUs): a flood may overrun
# them, and a dropped packet never reaches the hooks.
backlog_drops() {
	local n=0 _p d _r
	while read -r _p d _r; do n=$((n + 16#$d)); done </proc/net/softnet_stat
	echo $n
}

no_splat() {
	! dmesg | grep -E 'BUG:|WARNING:|Oops|refcount_t:|suspicious RCU|circular locking|inconsistent lock'
}

mp_load || ktap_skip_all "cannot load migprio"

# ---- the designated interface deleted during a transfer
setup_ns A B
pair "$A" "$B" || ktap_skip_all "cannot set up the link"
"$IP" netns exec "$A" "$MIGPRIOCTL" -j monitor >"$T/mon" 2>&1 &
defer kill $!
has_event() { [ -n "$("$JQ" -c "select($1)" "$T/mon" 2>/dev/null)" ]; }
ifdel() {
	transfer "$A" || { echo "no transfer"; return 1; }
	"$IP" -n "$A" link del "$VETH_A" || return 1
	busywait 3000 eval '[ "$(stat_of "$A" flows_active)" = 0 ]' || {
		echo "flows still active: $(stat_of "$A" flows_active)"
		return 1
	}
	busywait 2000 has_event '.reason == "flush"' || {
		echo "no flush end event:"; cat "$T/mon"; return 1
	}
	busywait 2000 has_event '.change == "gone"' || {
		echo "no dev-change gone event:"; cat "$T/mon"; return 1
	}
	mp "$A" -j dev show
	# no designation is left: no ifindex in dev show
	! mp "$A" -j dev show | "$JQ" -e '.ifindex // empty' >/dev/null
}
ktap_test "interface deleted during a transfer: designation and flows gone, events sent" ifdel
kill $TPID 2>/dev/null
ktap_test "no splat after the interface deletion" no_splat

# ---- rmmod during a transfer: the socket's priority is given back
setup_ns C D
pair "$C" "$D" || ktap_skip_all "cannot set up the second link"
unload() {
	local x y
	transfer "$C" || { echo "no transfer"; return 1; }
	busywait 3000 eval '[ "$(stat_of "$C" socks_tuned)" -ge 1 ]' || return 1
	mp_unload || { echo "rmmod failed"; return 1; }
	# still running, now in band 1:2: nothing of migprio is left behind
	x=$(class_sent "$C" "$VETH_A" 1:1)
	y=$(class_sent "$C" "$VETH_A" 1:2)
	sleep 1
	echo "after rmmod, 1 s: 1:1 +$(($(class_sent "$C" "$VETH_A" 1:1) - x)) 1:2 +$(($(class_sent "$C" "$VETH_A" 1:2) - y))"
	[ "$(nconn "$C" $PORT)" -ge 2 ] &&
		[ $(($(class_sent "$C" "$VETH_A" 1:2) - y)) -gt 500000 ] &&
		[ $(($(class_sent "$C" "$VETH_A" 1:1) - x)) -lt 100000 ]
}
ktap_test "rmmod during a transfer: unloads, the flow keeps running unmarked" unload
kill $TPID 2>/dev/null
ktap_test "no splat after rmmod" no_splat

# ---- netns deleted during a transfer
mp_load || ktap_skip_all "cannot reload migprio"
nsdel() {
	local N
	N=mp-rb-$$-e
	"$IP" netns add $N && "$IP" -n $N link set lo up || return 1
	setup_ns F
	pair $N "$F" || return 1
	transfer $N || { echo "no transfer"; return 1; }
	"$IP" netns pids $N | xargs -r kill -9
	"$IP" netns del $N || return 1
	# the netns is really gone once its veth end is: the peer vanishes
	busywait 10000 eval '! "$IP" -n "$F" link show "$VETH_B" >/dev/null 2>&1' || {
		echo "netns not destroyed"; return 1
	}
	mp_loaded
}
ktap_test "netns deleted during a transfer: destroyed, module fine" nsdel
ktap_test "no splat after the netns deletion" no_splat

# ---- SYN flood against a full table
# The table is filled by construction: one established connection and
# MAX_FLOWS - 1 half-open ones (G's SYNs reach H, whose replies from
# HALF_ADDR are blackholed, so they stay in SYN_SENT for a minute; idle
# flows would end after flow_idle_secs, set far above the test's length).
# One more connection is then untracked. The flood (forged SYNs from many
# source ports) passes the hooks (the netns' rx_packets counts every one
# the receive backlogs did not drop) and changes nothing: no flow starts, no attempt counts as untracked, the
# real connection stays tracked.
flood() {
	local u0 u1 s1 rx0 d0 n pid
	mp_unload && mp_load max_flows=$MAX_FLOWS flow_idle_secs=3600 || return 1
	setup_ns G H
	veth_pair "$G" "$H" &&
	mp "$G" dev set "$VETH_A" queue none &&
	mp "$G" rule add preset qemu >/dev/null &&
	"$IP" -n "$H" addr add $HALF_ADDR/24 dev "$VETH_B" &&
	"$IP" -n "$H" rule add from $HALF_ADDR blackhole || return 1
	"$IP" netns exec "$H" "$SOCKHOLD" listen "$ADDR_B" $REAL_PORT >"$T/fl" 2>&1 &
	defer kill $!
	busywait 5000 eval 'grep -qx listening "$T/fl"' || return 1
	"$IP" netns exec "$G" "$SOCKHOLD" connect "$ADDR_B" $REAL_PORT 1 >"$T/fc" 2>&1 &
	defer kill $!
	busywait 5000 eval '[ "$(stat_of "$G" flows_active)" = 1 ]' || return 1
	"$IP" netns exec "$G" "$SOCKHOLD" halfopen $HALF_ADDR $HALF_PORT \
		$((MAX_FLOWS - 1)) >"$T/fh" 2>&1 &
	defer kill $!
	busywait 10000 eval '[ "$(stat_of "$G" flows_active)" = $MAX_FLOWS ]' || {
		echo "table not filled: $(stat_of "$G" flows_active)"; return 1
	}
	u0=$(stat_of "$G" flows_untracked)
	"$IP" netns exec "$G" "$SOCKHOLD" halfopen $HALF_ADDR $HALF_PORT 1 >"$T/f1" 2>&1 &
	pid=$!
	busywait 5000 eval 'grep -qx "connecting 1" "$T/f1"' || return 1
	kill $pid
	wait $pid 2>/dev/null
	u1=$(stat_of "$G" flows_untracked)
	echo "table full: $(stat_of "$G" flows_active) of $(stat_of "$G" flows_max), one more connection: untracked $u0 -> $u1"
	[ "$u1" -gt "$u0" ] && [ "$(stat_of "$G" flows_active)" = $MAX_FLOWS ] ||
		return 1

	"$IP" netns exec "$G" "$SOCKHOLD" listen "$ADDR_A" $FLOOD_PORT >"$T/fg" 2>&1 &
	defer kill $!
	busywait 5000 eval 'grep -qx listening "$T/fg"' || return 1
	s1=$(stat_of "$G" flows_started)
	rx0=$(stat_of "$G" rx_packets)
	d0=$(backlog_drops)
	n=$("$IP" netns exec "$H" "$SYNFLOOD" "$ADDR_B" "$ADDR_A" $FLOOD_PORT $SYNS) || {
		echo "synflood: $n"; return 1
	}
	# each SYN passed the hooks or was dropped by a receive backlog
	busywait 300000 eval '[ $(($(stat_of "$G" rx_packets) - rx0 + $(backlog_drops) - d0)) -ge $n ]' || {
		echo "only $(($(stat_of "$G" rx_packets) - rx0)) of $n SYNs seen, $(($(backlog_drops) - d0)) dropped"
		return 1
	}
	echo "$n SYNs sent, $(($(stat_of "$G" rx_packets) - rx0)) seen, $(($(backlog_drops) - d0)) dropped by a backlog: active $(stat_of "$G" flows_active), started $s1 -> $(stat_of "$G" flows_started), untracked $u1 -> $(stat_of "$G" flows_untracked)"
	[ "$(stat_of "$G" flows_active)" = $MAX_FLOWS ] &&
		[ "$(stat_of "$G" flows_started)" = "$s1" ] &&
		[ "$(stat_of "$G" flows_untracked)" = "$u1" ] &&
		[ "$(stat_of "$G" flows_max)" = $MAX_FLOWS ] &&
		mp "$G" -j flow list | "$JQ" -e --argjson p $REAL_PORT \
			'[.[] | select(.remote.port == $p)] | length == 1' >/dev/null
}
if [ -x "$SYNFLOOD" ] && [ -x "$SOCKHOLD" ]; then
	ktap_test "SYN flood ($SYNS SYNs) against a full table of $MAX_FLOWS: no flow, nothing untracked, real flow kept" flood
else
	ktap_skip "SYN flood" "no $SYNFLOOD or $SOCKHOLD (make -C selftests)"
fi
ktap_test "no splat after the SYN flood" no_splat
ktap_finish
