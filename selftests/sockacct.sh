#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Socket accounting (module/hooks.c): once the socket of a tracked TCP
# migration flow is tuned, the hooks stop counting its packets one by one
# and the flow takes the socket's own counts. The figures must stay what
# per-packet counting gave: `flow list`, `rule list`, `stats` and the
# flow-end event are checked against the socket's own counters (`ss -ti`:
# bytes_sent, segs_out, bytes_received, segs_in, read while the connection
# is quiet) on the connecting end and against the bytes the sender sent
# and had acknowledged on the accepting end; the data still lands in
# class 1:1 (`tc -s class`).
source "$(dirname "$0")/lib.sh"

mp_require
ktap_plan 5

PORT=49190			# in preset qemu
SOCKCTL=$(dirname "$0")/sockctl
[ -x "$SOCKCTL" ] || ktap_skip_all "no $SOCKCTL (make -C selftests)"
veth_setup
defer mp_unload
"$TC" -n "$A" qdisc add dev "$VETH_A" root handle 1: prio
a "$MIGPRIOCTL" dev set "$VETH_A" queue none &&
	b "$MIGPRIOCTL" dev set "$VETH_B" queue none &&
	a "$MIGPRIOCTL" rule add preset qemu >/dev/null &&
	b "$MIGPRIOCTL" rule add preset qemu >/dev/null ||
	ktap_skip_all "cannot configure migprio"
b ./tcpsink $PORT &
defer kill $!
wait_listen "$B" $PORT || ktap_skip_all "no tcpsink"
a "$MIGPRIOCTL" -j monitor >"$T/monitor" 2>&1 &
defer kill $!
b "$MIGPRIOCTL" -j monitor >"$T/monitor-b" 2>&1 &
defer kill $!
sleep 0.3

# ss_of NS LPORT|RPORT PORT: "bytes_sent segs_out bytes_received segs_in"
# of the connection, from the socket (ss leaves out what is 0)
ss_of() {
	"$IP" netns exec "$1" "$SS" -tinH state established "( $2 = :$3 )" |
		awk '{ for (i = 1; i <= NF; i++) { split($i, kv, ":"); v[kv[1]] = kv[2] } }
		     END { printf "%d %d %d %d\n", v["bytes_sent"], v["segs_out"],
				  v["bytes_received"], v["segs_in"] }'
}
# acked_of NS LPORT: the data bytes the peer acknowledged (less the SYN)
acked_of() {
	"$IP" netns exec "$1" "$SS" -tinH state established "( sport = :$2 )" |
		grep -o 'bytes_acked:[0-9]*' | awk -F: '{ print $2 - 1 }'
}
# counts JQFILTER: "tx_bytes tx_packets rx_bytes rx_packets" of the flow
# JQFILTER selects from a flow list or events
FIELDS='"\(.tx_bytes) \(.tx_packets) \(.rx_bytes) \(.rx_packets)"'
flow_of() { "$IP" netns exec "$1" "$MIGPRIOCTL" -j flow list |
	"$JQ" -r ".[] | select(.$2.port == $3) | $FIELDS"; }

# 1. A transfer, then quiet (written, acknowledged): on the connecting end
# the flow shows the socket's own counts, in both directions
c0=$(class_sent "$A" "$VETH_A" 1:1)
sc_open || ktap_skip_all "sockctl cannot connect"
sc fill >/dev/null
big() { [ "$(ss_of "$A" sport "$LPORT" | cut -d' ' -f1)" -gt 20000000 ]; }
busywait $((30000 * MP_SLOW)) big || diag "only $(ss_of "$A" sport "$LPORT") sent"
sc quiet >/dev/null
same() {
	S1=$(ss_of "$A" sport "$LPORT")
	F=$(flow_of "$A" local "$LPORT")
	S2=$(ss_of "$A" sport "$LPORT")
	[ "$S1" = "$S2" ] && [ "$F" = "$S1" ]
}
t_flow() {
	busywait $((5000 * MP_SLOW)) same
	echo "socket (sent, segs out, received, segs in): $S1; flow: $F"
	[ "$F" = "$S1" ] && [ "${S1%% *}" -gt 20000000 ]
}
ktap_test "flow list: the quiet connection's flow has its socket's counts" t_flow
# (ktap_test runs the test in a subshell: read the quiet socket again)
S1=$(ss_of "$A" sport "$LPORT")
read -r SENT SEGS_OUT RCVD SEGS_IN <<<"$S1"
ACKED=$(acked_of "$A" "$LPORT")

# 2. the data went through class 1:1: the socket carries the priority
t_class() {
	local c1
	c1=$(class_sent "$A" "$VETH_A" 1:1)
	echo "class 1:1 +$((c1 - c0)) bytes, socket sent $SENT"
	[ $((c1 - c0)) -ge "$SENT" ]
}
ktap_test "tc: the socket-accounted flow's data in class 1:1" t_class

# 3. rule list and stats: all of A's matched traffic is this connection:
# the segments exactly, the bytes with their IP and TCP headers
t_counters() {
	local st rl
	st=$(a "$MIGPRIOCTL" -j stats | "$JQ" -r '"\(.tx_packets) \(.tx_bytes) \(.rx_packets)"')
	rl=$(a "$MIGPRIOCTL" -j rule list | "$JQ" -r '.[0] | "\(.tx_packets) \(.tx_bytes) \(.rx_packets)"')
	echo "stats (tx packets, bytes, rx packets): $st; rule: $rl; socket: $S1"
	read -r p by rp <<<"$st"
	[ "$st" = "$rl" ] && [ "$p" = "$SEGS_OUT" ] && [ "$rp" = "$SEGS_IN" ] &&
		[ "$by" -ge "$SENT" ] && [ "$by" -le $((SENT + SEGS_OUT * 120)) ]
}
ktap_test "stats and rule list: the socket's segments, its bytes plus headers" t_counters

# 4. the accepting end received what was sent: every byte A had
# acknowledged, at most what A sent (retransmissions included: counted
# as they came before socket accounting, once in sequence after)
t_peer() {
	local f r
	f=$(flow_of "$B" remote "$LPORT")
	r=$(cut -d' ' -f3 <<<"$f")
	echo "B: flow $f, socket $(ss_of "$B" dport "$LPORT"); A sent $SENT, acknowledged $ACKED"
	[ "$r" -ge "$ACKED" ] && [ "$r" -le "$SENT" ] && [ "$ACKED" -gt 20000000 ]
}
ktap_test "accepting end: the flow received the bytes the sender sent" t_peer

# 5. the end (FIN both ways, the socket gone): the events' totals
end_of() {
	"$JQ" -r "select(.event == \"flow-end\" and .$2.port == $LPORT) | $FIELDS" "$1" 2>/dev/null
}
t_end() {
	local ea eb
	busywait $((10000 * MP_SLOW)) eval '[ -n "$(end_of "$T/monitor" local)" ] && [ -n "$(end_of "$T/monitor-b" remote)" ]'
	ea=$(end_of "$T/monitor" local)
	eb=$(end_of "$T/monitor-b" remote)
	echo "flow-end A: $ea, B: $eb; socket before the close: $S1"
	read -r -a A_END <<<"$ea"
	read -r -a B_END <<<"$eb"
	# the close: a FIN out, its ACK and the peer's FIN in, an ACK out
	[ "${A_END[0]}" = "$SENT" ] && [ "${A_END[2]}" = "$RCVD" ] &&
		[ "${A_END[1]}" -ge $((SEGS_OUT + 2)) ] &&
		[ "${A_END[1]}" -le $((SEGS_OUT + 4)) ] &&
		[ "${A_END[3]}" -ge $((SEGS_IN + 1)) ] &&
		[ "${A_END[3]}" -le $((SEGS_IN + 4)) ] &&
		[ "${B_END[2]}" -ge "$ACKED" ] && [ "${B_END[2]}" -le "$SENT" ]
}
sc_close
ktap_test "flow-end events: the totals of the socket, the close included" t_end
