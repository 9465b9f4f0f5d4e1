#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=900
#
# Listener tuning on a host that takes incoming migrations for months
# (issue 18, items 2 and 6), read with getsockopt() and ss:
#  1. a connection accepted from a tuned listener never keeps the
#     listener's raised, locked receive buffer: accepted over another
#     interface (listener on [::]), accepted while the flow table is full
#     (untracked), or accepted before the listener's tuning was undone and
#     sending its first segment after: its rb is the listener's own;
#  2. QEMU -incoming opens a new listener for every incoming migration,
#     often on the same port (libvirt's allocator gives the lowest free
#     one) and closes it once it has accepted; every one of them gets its
#     receive buffer raised for the window scale (a new listener at a
#     freed listener's address is a new listener), rounds on one port and
#     rounds walking the range with migrations overlapping.
source "$(dirname "$0")/lib.sh"

mp_require
ktap_plan 5

ROUNDS=${LISTENERS_ROUNDS:-8}
PORT=49190			# in preset qemu: tcpsink
KIB=1024
LISTENCYCLE=$(dirname "$0")/listencycle
[ -x "$LISTENCYCLE" ] || ktap_skip_all "no $LISTENCYCLE (make -C selftests)"
T=$(mktemp -d)
defer rm -rf "$T"

# S: the destination host, designated VETH_A towards C (VETH_B); a second
# interface (not designated) towards O.
ADDR_S2=10.98.0.1
ADDR_O=10.98.0.2
s() { "$IP" netns exec "$S" "$@"; }
setup_ns S C O
veth_pair "$S" "$C" || ktap_skip_all "cannot create veth"
"$IP" link add mpveth-s2 netns "$S" type veth peer name mpveth-o netns "$O" &&
	"$IP" -n "$S" addr add $ADDR_S2/24 dev mpveth-s2 &&
	"$IP" -n "$O" addr add $ADDR_O/24 dev mpveth-o &&
	"$IP" -n "$S" link set mpveth-s2 up && "$IP" -n "$O" link set mpveth-o up ||
	ktap_skip_all "cannot create the second veth"
# designate: at 200 Mbit/s the window scale needs a listener rcvbuf above
# tcp_rmem's maximum (auto: 4 BDP at 250 ms, 25 MB), an accepted
# connection's own flow (its RTT) less
designate() {
	s "$MIGPRIOCTL" dev set "$VETH_A" queue htb rate 200mbit guard 10 >/dev/null &&
		s "$MIGPRIOCTL" rule add preset qemu >/dev/null
}
mp_load flow_idle_secs=3600 && designate || ktap_skip_all "cannot designate"
RMEM_MAX=$(s cat /proc/sys/net/ipv4/tcp_rmem | awk '{print $3}')

# 1. One listener for good ([::], tcpsink); RB0: what it has of its own.
s ./tcpsink $PORT &
defer kill $!
wait_listen "$S" $PORT || ktap_skip_all "no tcpsink"
listener_rb() { s "$SS" -tlmnH "sport = :$PORT" | grep -o ',rb[0-9]*' | tr -dc 0-9; }
RB0=$(listener_rb)
# child_rb PEER: rb of the accepted socket from PEER
child_rb() {
	s "$SS" -tmnH state established "( sport = :$PORT and dst $1 )" |
		grep -o ',rb[0-9]*' | cut -c4-
}
# open_conn NS ADDR NAME: a connection to ADDR:PORT from NS that stays
# open (until close_conns: each test starts and ends with it); it sends
# one line for each send_line
open_conn() {
	rm -f "$T/$3"
	mkfifo "$T/$3" || return 1
	"$IP" netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$PORT; exec 4<>$T/$3
		while read -r l <&4; do echo \"\$l\" >&3; done" >/dev/null 2>&1 &
	echo $! >>"$T/conns"
	exec 5<>"$T/$3"
}
close_conns() {
	[ -s "$T/conns" ] && xargs -r kill <"$T/conns" 2>/dev/null
	rm -f "$T/conns"
	busywait $((5000 * MP_SLOW)) eval '[ -z "$(s "$SS" -tnH state established "( sport = :$PORT )")" ]'
}
send_line() { echo x >&5; }
# tuned_listener: a connection over the designated interface raises it
tuned_listener() {
	"$IP" netns exec "$C" bash -c "echo hello >/dev/tcp/$ADDR_A/$PORT" &&
		busywait $((5000 * MP_SLOW)) eval '[ "$(listener_rb)" -gt "$RMEM_MAX" ]' ||
		{ echo "listener not tuned: rb $(listener_rb)"; return 1; }
}

t_other_iface() {
	local rb
	close_conns
	tuned_listener || return 1
	open_conn "$O" $ADDR_S2 other && send_line || return 1
	busywait $((5000 * MP_SLOW)) eval '[ "$(child_rb $ADDR_O)" = "$RB0" ]'
	rb=$(child_rb $ADDR_O)
	close_conns
	echo "listener rb $(listener_rb) (own $RB0); accepted over the other interface: rb $rb"
	[ "$rb" = "$RB0" ]
}
ktap_test "accepted over another interface: not the tuned listener's rcvbuf" t_other_iface

# The table full (max_flows 1, a flow holds it): the next connection over
# the designated interface is untracked.
t_untracked() {
	local rb u0
	close_conns
	mp_unload && mp_load flow_idle_secs=3600 max_flows=1 && designate || return 1
	tuned_listener || return 1
	# that connection's flow ended (FINs): the table is empty again
	busywait $((10000 * MP_SLOW)) eval '[ "$(s "$MIGPRIOCTL" -j stats | "$JQ" .flows_active)" = 0 ]' ||
		return 1
	open_conn "$C" "$ADDR_A" first && send_line || return 1
	busywait $((5000 * MP_SLOW)) eval '[ "$(s "$MIGPRIOCTL" -j stats | "$JQ" .flows_active)" = 1 ]' ||
		return 1
	u0=$(s "$MIGPRIOCTL" -j stats | "$JQ" .flows_untracked)
	# the listener is tuned already: the first connection's child is C's
	# only one; the second is untracked
	open_conn "$C" "$ADDR_A" second && send_line || return 1
	busywait $((5000 * MP_SLOW)) eval '[ "$(child_rb "$ADDR_B" | sort -n | head -n1)" = "$RB0" ] &&
		[ "$(child_rb "$ADDR_B" | sort -n | tail -n1)" = "$RB0" ]'
	rb=$(child_rb "$ADDR_B" | tr '\n' ' ')
	close_conns
	echo "flows_untracked $u0 -> $(s "$MIGPRIOCTL" -j stats | "$JQ" .flows_untracked); accepted sockets' rb: $rb (own $RB0)"
	[ "$(s "$MIGPRIOCTL" -j stats | "$JQ" .flows_untracked)" -gt "$u0" ] &&
		[ "$rb" = "$RB0 $RB0 " ]
}
ktap_test "accepted while the flow table is full (untracked): not the tuned listener's rcvbuf" t_untracked

# Accepted, silent (it has sent nothing yet), then the rule goes: the
# listener is given back its own, then the connection's first segment.
t_undone() {
	local rb id
	close_conns
	mp_unload && mp_load flow_idle_secs=3600 && designate || return 1
	tuned_listener || return 1
	open_conn "$C" "$ADDR_A" silent || return 1
	busywait $((5000 * MP_SLOW)) eval '[ -n "$(child_rb "$ADDR_B")" ]' || return 1
	echo "accepted, silent: rb $(child_rb "$ADDR_B")"
	id=$(s "$MIGPRIOCTL" -j rule list | "$JQ" '.[0].id')
	s "$MIGPRIOCTL" rule del "$id" || return 1
	busywait $((5000 * MP_SLOW)) eval '[ "$(listener_rb)" = "$RB0" ]' ||
		{ echo "listener not given back: $(listener_rb)"; return 1; }
	send_line
	busywait $((5000 * MP_SLOW)) eval '[ "$(child_rb "$ADDR_B")" = "$RB0" ]'
	rb=$(child_rb "$ADDR_B")
	close_conns
	echo "after its first segment: rb $rb (listener's own $RB0)"
	[ "$rb" = "$RB0" ]
}
ktap_test "accepted before the listener's tuning was undone: not its rcvbuf once it sends" t_undone

# 2. QEMU-style incoming migrations: the listener's rcvbuf raised in every
# round, the accepted socket re-based.
s "$MIGPRIOCTL" rule add preset qemu >/dev/null
cycle() {
	local out
	out=$(s "$LISTENCYCLE" "$C" "$ADDR_A" "$@" $((RMEM_MAX + 1)))
	echo "$out"
	[[ $(tail -n1 <<<"$out") == "rounds $3 tuned $3 rebased $3" ]]
}
ktap_test "$ROUNDS incoming migrations on one port: every listener tuned" \
	cycle 49152 49152 "$ROUNDS" 1
ktap_test "$ROUNDS incoming migrations, 3 at a time, ports as libvirt allocates them: every listener tuned" \
	cycle 49152 49215 "$ROUNDS" 3

ktap_finish
