#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=900
#
# What a tuned socket holds while flows end, resume and change under it
# (issue 18, items 1, 4, 5 and 7). The socket's values are read by its own
# process (tools/sockctl.c: getsockopt()) and with ss, not through
# migprioctl:
#  1. a flow that ends idle and resumes at once (within the reaper's grace
#     period) gets its socket tuned again: never two flow objects for one
#     socket, the older one giving the socket back under the newer one;
#  2. a socket given back while its owner is inside sendmsg() (a kTLS
#     socket, software mode, and a plain one) gets no sk_write_space()
#     call from migprio: only the socket's lock holder may make one;
#  3. sizes migprio set are given back once the owner lets go of the
#     socket (dev clear while owned), and after every rule del during a
#     saturating transfer;
#  4. what the application sets after the tuning (SO_PRIORITY,
#     TCP_NOTSENT_LOWAT, SO_SNDBUF) stays when a dev set re-tunes.
source "$(dirname "$0")/lib.sh"

mp_require
ktap_plan 6

PORT=49180			# in preset qemu
KIB=1024
NOTSENT=$((64 * KIB))
ROUNDS=${SOCKSTATE_ROUNDS:-5}
SATURATED=${SOCKSTATE_SATURATED:-5}
SOCKCTL=$(dirname "$0")/sockctl
[ -x "$SOCKCTL" ] || ktap_skip_all "no $SOCKCTL (make -C selftests)"
[ -e /proc/sys/vm/unprivileged_userfaultfd ] ||
	ktap_skip_all "no userfaultfd in this kernel"
T=$(mktemp -d)
defer rm -rf "$T"

a() { "$IP" netns exec "$A" "$@"; }
stat_of() { a "$MIGPRIOCTL" -j stats | "$JQ" ".$1"; }

setup_ns A B
veth_pair "$A" "$B" || ktap_skip_all "cannot create veth"
"$IP" netns exec "$B" ./tcpsink $PORT &
defer kill $!
wait_listen "$B" $PORT || ktap_skip_all "no tcpsink"
# kTLS (software) for item 2; built in on the debug kernel
modprobe tls 2>/dev/null

# skmem of the connection, as ss shows it
conn() { a "$SS" -tmnH state established "( sport = :$LPORT )"; }
skmem() { conn | grep -o "[(,]$1[0-9]*" | tr -dc '0-9'; }

# 1. Idle end, resumed at once: the flow dump polled every 2 ms, the first
# segment sent the moment the flow is no longer listed; the socket must
# have the priority and notsent again within seconds.
t_resume() {
	local out
	mp_unload && mp_load flow_idle_secs=1 || return 1
	a "$MIGPRIOCTL" dev set "$VETH_A" queue none notsent 64K &&
	a "$MIGPRIOCTL" rule add preset qemu >/dev/null || return 1
	sc_open || return 1
	out=$(sc resume "$ROUNDS" 7 $NOTSENT $((5000 * MP_SLOW)))
	sc_close
	echo "$out"
	echo "$(stat_of flows_started) flows started, $(stat_of flows_ended) ended"
	[[ $(tail -n1 <<<"$out") == "rounds $ROUNDS untuned 0" ]]
}
ktap_test "idle end then at once traffic again, $ROUNDS rounds: the socket is tuned again every time" t_resume

mp_unload && mp_load flow_idle_secs=3600 || ktap_skip_all "cannot load migprio"

# 2. Tuned; quiet (nothing in flight: TCP itself calls no sk_write_space
# while it is owned); a send() stuck in a page fault holds the socket
# locked; dev clear gives the priority and notsent back at once, without
# waking anyone (the EPOLLOUT edge counter stays 0).
owned_giveback() {
	local out
	a "$MIGPRIOCTL" rule flush >/dev/null
	a "$MIGPRIOCTL" dev set "$VETH_A" queue none notsent 64K &&
	a "$MIGPRIOCTL" rule add preset qemu >/dev/null || return 1
	sc_open "$@" || return 1
	out=$(sc wait 7 $NOTSENT $((5000 * MP_SLOW)))
	[ "$out" = ok ] || { echo "never tuned: $out"; sc_close; return 1; }
	sc quiet >/dev/null && [ "$(sc hold)" = held ] ||
		{ echo "no hold"; sc_close; return 1; }
	a "$MIGPRIOCTL" dev clear
	busywait $((10000 * MP_SLOW)) eval '[[ "$(sc get)" == "prio 0 notsent 0 "* ]]' ||
		{ echo "not given back while held: $(sc get)"; sc_close; return 1; }
	out=$(sc wakeups)
	echo "while the owner was in sendmsg(): $out; after: $(sc get)"
	sc release >/dev/null
	sc_close
	[ "$out" = "wakeups 0" ]
}
ktap_test "kTLS socket given back while its owner is in sendmsg(): no sk_write_space() call" owned_giveback -t
ktap_test "TCP socket given back while its owner is in sendmsg(): no sk_write_space() call" owned_giveback

# 3a. Sizes migprio set (sndbuf/rcvbuf 4M, locked) on a socket with its
# own SO_SNDBUF; dev clear while the owner holds it: priority and notsent
# are given back at once, the sizes once it lets go.
t_sizes_held() {
	local tb0 rb0 tb rb
	a "$MIGPRIOCTL" rule flush >/dev/null
	a "$MIGPRIOCTL" dev set "$VETH_A" queue none sndbuf 4M rcvbuf 4M notsent 64K ||
		return 1
	sc_open -b $((256 * KIB)) || return 1
	tb0=$(skmem tb) rb0=$(skmem rb)
	a "$MIGPRIOCTL" rule add preset qemu >/dev/null || return 1
	[ "$(sc wait 7 $NOTSENT $((5000 * MP_SLOW)))" = ok ] &&
		[ "$(skmem tb)" = 4194304 ] && [ "$(skmem rb)" = 4194304 ] ||
		{ echo "not tuned: $(sc get)"; sc_close; return 1; }
	sc quiet >/dev/null && [ "$(sc hold)" = held ] ||
		{ echo "no hold"; sc_close; return 1; }
	a "$MIGPRIOCTL" dev clear
	busywait $((10000 * MP_SLOW)) eval '[[ "$(sc get)" == "prio 0 notsent 0 "* ]]' ||
		{ echo "not given back while held: $(sc get)"; sc_close; return 1; }
	echo "held: tb $(skmem tb) rb $(skmem rb), flows_active $(stat_of flows_active)"
	sc release >/dev/null
	busywait $((10000 * MP_SLOW)) eval '[ "$(skmem tb)" = "$tb0" ] && [ "$(skmem rb)" = "$rb0" ]'
	tb=$(skmem tb) rb=$(skmem rb)
	sc_close
	echo "own tb $tb0 rb $rb0, tuned 4M/4M, after the owner let go: tb $tb rb $rb"
	[ "$tb" = "$tb0" ] && [ "$rb" = "$rb0" ] &&
		busywait $((10000 * MP_SLOW)) eval '[ "$(stat_of flows_active)" = 0 ]'
}
ktap_test "dev clear while the owner holds the socket: sizes given back once it lets go" t_sizes_held

# 3b. A sender writing as fast as it can (often owned: inside sendmsg());
# each round: rule add, tuned to 4M/4M, rule del, sizes back to its own.
t_sizes_busy() {
	local i tb0 rb0 id bad=0
	a "$MIGPRIOCTL" rule flush >/dev/null
	a "$MIGPRIOCTL" dev set "$VETH_A" queue none sndbuf 4M rcvbuf 4M notsent 64K ||
		return 1
	sc_open -b $((256 * KIB)) || return 1
	tb0=$(skmem tb) rb0=$(skmem rb)
	sc fill >/dev/null
	for ((i = 0; i < SATURATED; i++)); do
		a "$MIGPRIOCTL" rule add preset qemu >/dev/null &&
			id=$(a "$MIGPRIOCTL" -j rule list | "$JQ" '.[0].id') || { bad=1; break; }
		busywait $((10000 * MP_SLOW)) eval '[ "$(skmem tb)" = 4194304 ] && [ "$(skmem rb)" = 4194304 ]' ||
			{ echo "round $i: not tuned: $(conn)"; bad=1; break; }
		a "$MIGPRIOCTL" rule del "$id" || { bad=1; break; }
		busywait $((10000 * MP_SLOW)) eval '[ "$(skmem tb)" = "$tb0" ] && [ "$(skmem rb)" = "$rb0" ]' ||
			{ echo "round $i: after rule del tb $(skmem tb) rb $(skmem rb), own $tb0/$rb0"; bad=1; break; }
	done
	sc stream 0 >/dev/null
	sc_close
	echo "$i rounds of rule add/del during a saturating transfer, own tb $tb0 rb $rb0"
	[ $bad = 0 ]
}
ktap_test "rule del during a saturating transfer, $SATURATED rounds: tb/rb back to the socket's own" t_sizes_busy

# 4. The application's own values after the tuning stay across a re-tune.
t_app_wins() {
	local out
	a "$MIGPRIOCTL" rule flush >/dev/null
	a "$MIGPRIOCTL" dev set "$VETH_A" queue none sndbuf 4M notsent 64K &&
	a "$MIGPRIOCTL" rule add preset qemu >/dev/null || return 1
	sc_open || return 1
	[ "$(sc wait 7 $NOTSENT $((5000 * MP_SLOW)))" = ok ] ||
		{ echo "not tuned: $(sc get)"; sc_close; return 1; }
	sc set prio 3 >/dev/null && sc set notsent 100000 >/dev/null &&
		sc set sndbuf 65536 >/dev/null || { sc_close; return 1; }
	out=$(sc get)
	local n0
	n0=$(stat_of socks_tuned)
	# another notsent: every tuned socket is tuned again
	a "$MIGPRIOCTL" dev set "$VETH_A" queue none sndbuf 4M notsent 32K || return 1
	sc stream 20 >/dev/null
	busywait $((10000 * MP_SLOW)) eval '[ "$(stat_of socks_tuned)" -gt "$n0" ]' ||
		{ echo "never re-tuned"; sc_close; return 1; }
	sc stream 0 >/dev/null
	echo "the application set: $out; after the re-tune: $(sc get)"
	[ "$(sc get)" = "$out" ]
	local rc=$?
	sc_close
	return $rc
}
ktap_test "SO_PRIORITY, TCP_NOTSENT_LOWAT and SO_SNDBUF the application set stay across a re-tune" t_app_wins

ktap_finish
