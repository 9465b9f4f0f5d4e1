#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# What a remote peer can do to the flow table with forged packets (issue
# 11, item 3), sent by tools/mpspoof over a raw socket from the peer netns:
# - RSTs with a wrong sequence number into a tuned connection: TCP drops
#   them (or answers with a challenge ACK); the flow must not end (no end
#   event for it, still listed) and the socket keeps the priority migprio
#   gave it, and gets its own back when the designation is cleared (its
#   class_id, the socket's priority, read with `ss --tos`);
# - SYN, ACK and SYN-ACK floods from many source ports to the migration
#   port, and a UDP spray to a migration port nobody listens on: no flow
#   starts, nothing counts as untracked, the real connection stays tracked.
#   A SYN-ACK comes from the end that listens, so its source port is the
#   service port a rule matches (issue 22): that flood comes from the
#   preset's range.
# Every forged packet matches a rule, so the netns' rx_packets counter
# (plus the receive backlogs' drops, /proc/net/softnet_stat) tells when all
# of them passed the hooks: then the verdict, no timing.
source "$(dirname "$0")/lib.sh"

mp_require
ktap_plan 4

PORT=49180
SYNC_PORT=49181
UDP_PORT=49190
MAX_FLOWS=64
FLOOD=${SPOOF_FLOOD:-5000}
TOOLS=$(dirname "$0")
[ -x "$TOOLS/mpspoof" ] && [ -x "$TOOLS/sockhold" ] ||
	ktap_skip_all "no mpspoof/sockhold (make -C selftests)"
T=$(mktemp -d)
defer rm -rf "$T"

mp() { "$IP" netns exec "$1" "$MIGPRIOCTL" "${@:2}"; }
stat_of() { mp "$1" -j stats | "$JQ" ".$2"; }
has_line() { grep -qx "$2" "$1" 2>/dev/null; }
events() { "$JQ" -c "select($1)" "$T/mon" 2>/dev/null; }
has_event() { [ -n "$(events "$1")" ]; }
# the socket priority (class_id) of S's established sockets on PORT
prio() {
	"$SS" -N "$S" -tnH --tos state established "( sport = :$PORT )" |
		grep -o 'class_id:[^ ]*'
}
listed() {
	mp "$S" -j flow list | "$JQ" -e --argjson p "$CPORT" \
		'[.[] | select(.remote.port == $p)] | length == 1' >/dev/null
}
# Packets the receive backlogs dropped (all CPUs): a flood may overrun
# them, and a dropped packet never reaches the hooks.
backlog_drops() {
	local n=0 _p d _r
	while read -r _p d _r; do n=$((n + 16#$d)); done </proc/net/softnet_stat
	echo $n
}
# spoof ARGS...: forged packets from C; waits until each one passed S's
# hooks or was dropped by a receive backlog
spoof() {
	local rx0 d0 n
	rx0=$(stat_of "$S" rx_packets)
	d0=$(backlog_drops)
	n=$("$IP" netns exec "$C" "$TOOLS/mpspoof" "$@") || return 1
	busywait 120000 eval '[ $(($(stat_of "$S" rx_packets) - rx0 + $(backlog_drops) - d0)) -ge $n ]' || {
		echo "only $(($(stat_of "$S" rx_packets) - rx0)) of $n seen, $(($(backlog_drops) - d0)) dropped"
		return 1
	}
	diag "mpspoof $*: $n sent, $(($(stat_of "$S" rx_packets) - rx0)) seen by the hooks, $(($(backlog_drops) - d0)) dropped by a backlog"
}

# flows must not end idle while the slowest kernel runs the tests
mp_load max_flows=$MAX_FLOWS flow_idle_secs=3600 || ktap_skip_all "cannot load migprio"
setup_ns S C
veth_pair "$S" "$C" &&
mp "$S" dev set "$VETH_A" queue none &&
mp "$S" rule add preset qemu >/dev/null &&
mp "$S" rule add proto udp port $UDP_PORT >/dev/null || ktap_skip_all "cannot set up"
"$IP" netns exec "$S" "$MIGPRIOCTL" -j monitor >"$T/mon" 2>&1 &
defer kill $!
"$IP" netns exec "$S" "$TOOLS/sockhold" listen "$ADDR_A" $PORT >"$T/l" 2>&1 &
defer kill $!
busywait 5000 has_line "$T/l" listening || ktap_skip_all "no listener"
"$IP" netns exec "$C" "$TOOLS/sockhold" connect "$ADDR_A" $PORT 1 >"$T/c" 2>&1 &
defer kill $!
busywait 5000 has_line "$T/c" "connected 1" &&
	busywait 10000 eval '[ "$(stat_of "$S" socks_tuned)" -ge 1 ]' ||
	ktap_skip_all "connection not tracked and tuned"
CPORT=$("$SS" -N "$C" -tnH state established "( dport = :$PORT )" |
	awk '{ split($3, a, ":"); print a[2]; exit }')
TUNED=$(prio)
diag "connection from port $CPORT tracked, socket $TUNED"

spoofed_rst() {
	local p
	spoof tcp R "$ADDR_B" "$CPORT" "$ADDR_A" $PORT 10 || return 1
	# Sync point: flows whose FINs come after the RSTs end in the same
	# pass of the collector that checks the RSTs, or a later one.
	"$IP" netns exec "$S" "$IPERF3" -s -1 -p $SYNC_PORT >/dev/null 2>&1 &
	wait_listen "$S" $SYNC_PORT || return 1
	"$IP" netns exec "$C" "$IPERF3" -c "$ADDR_A" -p $SYNC_PORT -n 64K \
		>/dev/null || return 1
	busywait 30000 has_event ".event == \"flow-end\" and .local.port == $SYNC_PORT" || {
		echo "no end event of the iperf3 flows"; cat "$T/mon"; return 1
	}
	if has_event ".event == \"flow-end\" and .remote.port == $CPORT"; then
		echo "the spoofed RST ended the flow: $(events ".remote.port == $CPORT")"
		return 1
	fi
	listed || { echo "flow of port $CPORT not listed"; return 1; }
	p=$(prio)
	echo "socket $TUNED before, $p after the RSTs"
	[ "$p" = "$TUNED" ]
}
ktap_test "spoofed RSTs (wrong sequence) into a tuned flow: flow lives on, socket priority kept" spoofed_rst

floods() {
	local s0 u0 f
	s0=$(stat_of "$S" flows_started)
	u0=$(stat_of "$S" flows_untracked)
	for f in S A F; do
		spoof tcp $f "$ADDR_B" 0 "$ADDR_A" $PORT "$FLOOD" || return 1
	done
	spoof tcp SA "$ADDR_B" 49152-49215 "$ADDR_A" $PORT "$FLOOD" || return 1
	echo "flows started $s0 -> $(stat_of "$S" flows_started), untracked $u0 -> $(stat_of "$S" flows_untracked), active $(stat_of "$S" flows_active)"
	[ "$(stat_of "$S" flows_started)" = "$s0" ] &&
		[ "$(stat_of "$S" flows_untracked)" = "$u0" ] &&
		[ "$(stat_of "$S" flows_active)" -le $MAX_FLOWS ] && listed
}
ktap_test "SYN, ACK, SYN-ACK and FIN floods ($FLOOD each, many source ports): no flow, real flow still tracked" floods

udp_spray() {
	local s0 u0
	s0=$(stat_of "$S" flows_started)
	u0=$(stat_of "$S" flows_untracked)
	spoof udp "$ADDR_B" 0 "$ADDR_A" $UDP_PORT "$FLOOD" || return 1
	echo "flows started $s0 -> $(stat_of "$S" flows_started), untracked $u0 -> $(stat_of "$S" flows_untracked)"
	[ "$(stat_of "$S" flows_started)" = "$s0" ] &&
		[ "$(stat_of "$S" flows_untracked)" = "$u0" ] && listed
}
ktap_test "UDP spray ($FLOOD, many source ports) to a port nobody listens on: no flow" udp_spray

restored() {
	local p
	mp "$S" dev clear || return 1
	busywait 10000 eval '[ "$(stat_of "$S" flows_active)" = 0 ]' || return 1
	p=$(prio)
	echo "socket $TUNED while tuned, $p after dev clear"
	[ "$p" != "$TUNED" ] && grep -qxE 'class_id:0(x0)?' <<<"$p"
}
ktap_test "after the attacks, dev clear gives the socket its own priority back" restored
ktap_finish
