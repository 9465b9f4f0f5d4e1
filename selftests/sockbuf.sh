#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The buffer policy of tuned migration sockets, read with ss (independent of
# migprioctl): unsent bytes bounded (TCP_NOTSENT_LOWAT semantics) so that an
# application's bytes written stay close to the bytes sent; buffers sized
# from rate x RTT ("auto") or fixed; `dev set` re-tuning live sockets; a
# listener's tuning undone by rule del, dev clear and module unload.
#
# Conditions are built, not waited for: the sender writes without a limit
# into a link shaped to 20 Mbit/s, so its socket is always full; RTT comes
# from netem delay, so the auto sizes are known in advance.
# timeout=600
source "$(dirname "$0")/lib.sh"

mp_require
ktap_plan 10

PORT=49160			# in preset qemu: iperf3
LPORT=49162			# in preset qemu: tcpsink, one listener for good
KIB=1024
MIB=$((1024 * 1024))
veth_setup
a "$MIGPRIOCTL" rule add preset qemu >/dev/null
b "$MIGPRIOCTL" rule add preset qemu >/dev/null
defer eval 'kill $(cat "$T/sender" 2>/dev/null) 2>/dev/null'
b "$IPERF3" -s -p $PORT >/dev/null 2>&1 &
defer kill $!
wait_listen "$B" $PORT
# iperf3's server makes a new listener per test: the listener tests use
# tcpsink's, which lives as long as the test.
"$IP" netns exec "$B" ./tcpsink $LPORT &
defer kill $!
wait_listen "$B" $LPORT
listener_rb() { b "$SS" -tlmnH "sport = :$LPORT" | skmem rb | head -n1; }
RB0=$(b "$SS" -tlmnH "sport = :$LPORT" | grep -o ',rb[0-9]*' | tr -dc 0-9)
WMEM_MAX=$(a cat /proc/sys/net/ipv4/tcp_wmem | awk '{print $3}')
RMEM_MAX=$(b cat /proc/sys/net/ipv4/tcp_rmem | awk '{print $3}')

# The established migration sockets of NS (iperf3: control + data).
mig_socks() { "$IP" netns exec "$1" "$SS" -tmniH state established "( dport = :$PORT or sport = :$PORT )"; }
# field NAME: the values of ss's NAME:VALUE / skmem NAMEvalue in stdin
skmem() { grep -o "[(,]$1[0-9]*" | tr -dc '0-9\n'; }
notsent_of() { grep -o 'notsent:[0-9]*' | cut -d: -f2; }

# The data connection's largest tb on NS (the control connection is small).
max_tb() { mig_socks "$1" | skmem tb | sort -n | tail -n1; }
max_rb() { mig_socks "$1" | skmem rb | sort -n | tail -n1; }

# start_sender SECONDS: an unlimited iperf3 sender A -> B on PORT, its
# data connection established and holding unsent bytes. Not through a()
# (a subshell): $! must be iperf3 itself (ip netns exec execs it), so that
# stop_sender really ends it before the next test starts another.
# start_sender SECS [IPERF3 OPTION...]
start_sender() {
	local secs=$1

	shift
	"$IP" netns exec "$A" "$IPERF3" -c "$ADDR_B" -p $PORT -t "$secs" "$@" >"$T/client" 2>&1 &
	SENDER=$!
	echo $SENDER >"$T/sender"
	busywait $((10000 * MP_SLOW)) eval '[ "$(mig_socks "$A" | grep -c notsent)" -ge 1 ]'
}
# stop_sender: end it and wait until B's server is free for the next client
stop_sender() {
	kill "$SENDER" 2>/dev/null
	wait "$SENDER" 2>/dev/null
	busywait $((10000 * MP_SLOW)) eval '[ -z "$(mig_socks "$B")" ]'
	true
}

# max_notsent N: the largest notsent seen on A's sockets in N samples
max_notsent() {
	local i max=0 v
	for ((i = 0; i < $1; i++)); do
		for v in $(mig_socks "$A" | notsent_of); do
			[ "$v" -gt "$max" ] && max=$v
		done
		sleep 0.1
	done
	echo "$max"
}

# The sender's link: htb at 20 Mbit/s (the rate auto sizes are computed for)
a "$MIGPRIOCTL" dev set "$VETH_A" queue htb rate 20mbit guard 10 sndbuf 8M
b "$MIGPRIOCTL" dev set "$VETH_B"

# 1. notsent auto: at most 128 KiB (the auto minimum at 20 Mbit/s) plus
# one write's skb unsent, although the socket has 8 MiB of send buffer.
t_notsent_auto() {
	local max
	start_sender $((20 * MP_SLOW)) || { cat "$T/client"; return 1; }
	max=$(max_notsent 30)
	stop_sender
	echo "notsent max ${max} B with sndbuf 8M, notsent auto"
	[ "$max" -gt 0 ] && [ "$max" -le $((128 * KIB + 64 * KIB)) ]
}
ktap_test "notsent auto: a blocked writer keeps <= 192 KiB unsent (sndbuf 8M)" t_notsent_auto

# 2. The same with notsent off: the 8 MiB fill up (the check above can fail).
t_notsent_off() {
	local max
	a "$MIGPRIOCTL" dev set "$VETH_A" queue htb rate 20mbit guard 10 sndbuf 8M notsent off
	start_sender $((20 * MP_SLOW)) || { cat "$T/client"; return 1; }
	max=$(max_notsent 30)
	stop_sender
	echo "notsent max ${max} B with sndbuf 8M, notsent off"
	[ "$max" -gt $((2 * MIB)) ]
}
ktap_test "notsent off: the same writer keeps > 2 MiB unsent" t_notsent_off

# 3. dev set changes sizes of live sockets: 8M -> 2M and notsent 64K.
t_retune() {
	local tb max
	a "$MIGPRIOCTL" dev set "$VETH_A" queue htb rate 20mbit guard 10 sndbuf 8M notsent off
	# A re-tune gives the socket back what it had, then tunes it: never
	# below what it has. The sender's own SO_SNDBUF (iperf3 -w 256K: at
	# most 512 KiB, locked against autotuning) keeps "what it had" under
	# 2M however late the first tuning comes (on the debug kernel
	# autotuning alone once reached 2.8 MB before it).
	start_sender $((30 * MP_SLOW)) -w 256K || { cat "$T/client"; return 1; }
	busywait $((10000 * MP_SLOW)) eval '[ "$(max_tb "$A")" = $((8 * MIB)) ]' ||
		{ echo "tb never 8M: $(max_tb "$A")"; stop_sender; return 1; }
	a "$MIGPRIOCTL" dev set "$VETH_A" queue htb rate 20mbit guard 10 sndbuf 2M notsent 64K
	busywait $((10000 * MP_SLOW)) eval '[ "$(max_tb "$A")" = $((2 * MIB)) ]'
	tb=$(max_tb "$A")
	# what was queued before stays queued: wait until it has drained
	busywait $((30000 * MP_SLOW)) eval '[ "$(max_notsent 1)" -le $((128 * KIB)) ]'
	max=$(max_notsent 20)
	stop_sender
	echo "live socket after dev set: tb $tb, notsent max $max"
	[ "$tb" = $((2 * MIB)) ] && [ "$max" -le $((64 * KIB + 64 * KIB)) ]
}
ktap_test "dev set re-tunes a live socket: tb 8M -> 2M, notsent 64K" t_retune

# 4. Defaults on a short path (both ends know the rate: 20 Mbit/s): nothing
# locked, autotuning keeps the sizes below its maximum (round 1 gave every
# socket 32 MiB). TCG makes the sub-ms veth RTT up to tens of ms: still far
# below what would need more than autotuning's maximum at 20 Mbit/s.
t_auto_short() {
	local tb rb
	a "$MIGPRIOCTL" dev set "$VETH_A" queue htb rate 20mbit guard 10
	b "$MIGPRIOCTL" dev set "$VETH_B" queue htb rate 20mbit guard 10
	start_sender $((10 * MP_SLOW)) || { cat "$T/client"; return 1; }
	sleep 1
	tb=$(max_tb "$A") rb=$(max_rb "$B")
	echo "short path, 20 Mbit/s: sender tb $tb (max $WMEM_MAX), receiver rb $rb (max $RMEM_MAX)"
	[ -n "$tb" ] && [ -n "$rb" ] && [ "$tb" -le "$WMEM_MAX" ] &&
		[ "$rb" -le "$RMEM_MAX" ] && { stop_sender; return 0; }
	mig_socks "$A"
	mig_socks "$B"
	stop_sender
	return 1
}
ktap_test "auto on a short path: sizes left to autotuning (tb, rb <= tcp_[wr]mem max)" t_auto_short

# 5. The receiver at 200 Mbit/s: its listener gets a receive buffer for the
# window scale of a long path (4 BDP at 250 ms: 25 MB); the accepted
# connection starts again from the listener's own size and is sized for its
# own, measured, RTT (far below 250 ms here, even under TCG).
sink_socks() { b "$SS" -tmniH state established "( sport = :$LPORT )"; }
t_listener_auto() {
	local lrb rb pid
	b "$MIGPRIOCTL" dev set "$VETH_B" queue htb rate 200mbit guard 10
	"$IP" netns exec "$A" bash -c "exec cat /dev/zero >/dev/tcp/$ADDR_B/$LPORT" &
	pid=$!
	busywait $((5000 * MP_SLOW)) eval '[ -n "$(sink_socks | skmem rb)" ]'
	sleep 1
	lrb=$(listener_rb) rb=$(sink_socks | skmem rb | sort -n | tail -n1)
	echo "listener rb $lrb (originally $RB0, tcp_rmem max $RMEM_MAX), accepted socket rb $rb"
	sink_socks | grep -o 'rtt:[0-9.]*'
	kill $pid
	[ "$lrb" = 25000000 ] && [ -n "$rb" ] && [ "$rb" -lt "$lrb" ]
}
ktap_test "auto: listener tuned for the window scale, accepted socket re-based" t_listener_auto

# 5./6. A long path: 200 ms of netem delay on B's side (SYN-ACK and ACKs),
# 100 Mbit/s shaping at A. Sender: 2 x 12.5 MB/s x RTT, above tcp_wmem's
# maximum. Receiver (no shaping: the veth's 10 Gbit/s) 4 BDP, capped at
# 256 MiB.
t_auto_long_tx() {
	local tb
	"$TC" -n "$B" qdisc replace dev "$VETH_B" root netem delay 200ms limit 100000
	a "$MIGPRIOCTL" dev set "$VETH_A" queue htb rate 100mbit guard 10
	b "$MIGPRIOCTL" dev set "$VETH_B" queue none
	start_sender $((20 * MP_SLOW)) || { cat "$T/client"; return 1; }
	busywait $((10000 * MP_SLOW)) eval '[ "$(max_tb "$A")" -gt "$WMEM_MAX" ]'
	tb=$(max_tb "$A")
	echo "RTT 200 ms, 100 Mbit/s: sender tb $tb (2 BDP = 5000000, tcp_wmem max $WMEM_MAX)"
	[ "$tb" -ge 5000000 ] && [ "$tb" -le 7500000 ]
}
ktap_test "auto on a 200 ms path: sender tb = 2 BDP (5-7.5 MB)" t_auto_long_tx
t_auto_long_rx() {
	local rb
	busywait $((10000 * MP_SLOW)) eval '[ "$(max_rb "$B")" -gt "$RMEM_MAX" ]'
	rb=$(max_rb "$B")
	stop_sender
	"$TC" -n "$B" qdisc del dev "$VETH_B" root
	echo "receiver rb $rb (10 Gbit/s link: capped at 268435456)"
	[ "$rb" = 268435456 ]
}
ktap_test "auto on a 200 ms path: receiver rb capped at 256 MiB" t_auto_long_rx

# 7.-9. A listener tuned for a fixed rcvbuf, and each way its tuning ends.
connect_once() { a bash -c "echo hello >/dev/tcp/$ADDR_B/$LPORT"; }
tuned_then() {
	local what=$1 rb
	shift
	b "$MIGPRIOCTL" dev set "$VETH_B" queue none rcvbuf 16M
	connect_once
	# a listener its process holds locked is tuned by the flow's work
	busywait $((5000 * MP_SLOW)) eval '[ "$(listener_rb)" = $((16 * MIB)) ]'
	rb=$(listener_rb)
	[ "$rb" = $((16 * MIB)) ] || { echo "listener rb $rb before $what, want 16M"; return 1; }
	"$@" || { echo "$what failed"; return 1; }
	busywait $((5000 * MP_SLOW)) eval '[ "$(listener_rb)" = "$RB0" ]'
	rb=$(listener_rb)
	echo "listener rb 16M, after $what $rb (originally $RB0)"
	[ "$rb" = "$RB0" ]
}
rule_del() {
	local id
	id=$(b "$MIGPRIOCTL" -j rule list | "$JQ" '.[0].id')
	b "$MIGPRIOCTL" rule del "$id" || return 1
	# later children do not inherit the tuning either
	connect_once
	[ "$(listener_rb)" = "$RB0" ]
}
ktap_test "listener rcvbuf 16M undone by rule del (and not re-tuned)" tuned_then "rule del" rule_del
b "$MIGPRIOCTL" rule add preset qemu >/dev/null
ktap_test "listener rcvbuf 16M undone by dev clear" tuned_then "dev clear" b "$MIGPRIOCTL" dev clear
ktap_test "listener rcvbuf 16M undone by module unload" tuned_then "rmmod" mp_unload

ktap_finish
