#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# soak-guest.sh - the soak lane's guest side (issue 18): one boot of the
# debug kernel, run by selftests/debug/soak as
# `bash /mnt/add/soak-guest.sh` (cwd /selftests, the debug kernel booted
# with slab_nomerge so that migprio's caches are counted on their own).
# A host that takes migrations for months, in minutes:
#   1. SOAK_MIGRATIONS (300) back-to-back incoming migrations QEMU-style
#      (tools/listencycle: a new listener each, the port range walked as
#      libvirt allocates it, 3 in flight): every listener tuned, every
#      accepted socket given back what it inherited;
#   2. SOAK_CYCLES (1000) flow idle/resume cycles (flow_idle_secs=1;
#      tools/sockctl "resume" on SOAK_CONNS connections at once): the
#      socket tuned again after each;
#   3. SOAK_NETNS (100) network namespaces created and deleted, each with
#      a designation (its loopback), rules, a tuned listener and a flow;
# then: a new listener is still tuned, flows_active is back to 0, the
# objects in migprio's slab caches (mp_flow, mp_listener) are back to
# where they started; the driver scans kmemleak after. KTAP.
set -u
cd /selftests || exit 1
source ./lib.sh

MIGRATIONS=${SOAK_MIGRATIONS:-300}
CYCLES=${SOAK_CYCLES:-1000}
CONNS=${SOAK_CONNS:-20}
NETNS=${SOAK_NETNS:-100}
PORT=49170			# in preset qemu: the idle/resume connections
NOTSENT=$((64 * 1024))
SLOW=${MP_SLOW:-4}
T=$(mktemp -d)
defer rm -rf "$T"

mp_require
ktap_plan 6
s() { "$IP" netns exec "$S" "$@"; }
stat_of() { s "$MIGPRIOCTL" -j stats | "$JQ" ".$1"; }
# objects NAME: objects in use in slab cache NAME (its cpu slabs flushed)
objects() {
	echo 1 >/sys/kernel/slab/"$1"/shrink 2>/dev/null
	cut -d' ' -f1 /sys/kernel/slab/"$1"/objects 2>/dev/null || echo none
}

setup_ns S C
veth_pair "$S" "$C" || ktap_skip_all "cannot create veth"
mp_load flow_idle_secs=1 || ktap_skip_all "cannot load migprio"
FLOWS0=$(objects mp_flow) LISTENERS0=$(objects mp_listener)
diag "mp_flow objects $FLOWS0, mp_listener objects $LISTENERS0 at the start"
s "$MIGPRIOCTL" dev set "$VETH_A" queue htb rate 200mbit guard 10 notsent 64K >/dev/null &&
	s "$MIGPRIOCTL" rule add preset qemu >/dev/null || ktap_skip_all "cannot designate"
RMEM_MAX=$(s cat /proc/sys/net/ipv4/tcp_rmem | awk '{print $3}')
# the migration class's priority (queue htb: its class id)
PRIO=$(s "$MIGPRIOCTL" -j dev show | "$JQ" .dev.priority)
t0=$SECONDS

# listencycle ROUNDS: QEMU-style incoming migrations into S
migrations() {
	local out
	out=$(s ./listencycle "$C" "$ADDR_A" 49152 49215 "$1" 3 $((RMEM_MAX + 1)))
	grep -v '^# round' <<<"$out" | tail -n1
	[[ $(tail -n1 <<<"$out") == "rounds $1 tuned $1 rebased $1" ]] ||
		{ grep '^# round' <<<"$out" | head -n 5; return 1; }
}
ktap_test "$MIGRATIONS incoming migrations: every listener tuned, every accepted socket given back" \
	migrations "$MIGRATIONS"
diag "migrations: $((SECONDS - t0)) s"; t0=$SECONDS

idle_resume() {
	local i rounds=$((CYCLES / CONNS)) bad=0 out pids=()
	"$IP" netns exec "$C" ./tcpsink $PORT >/dev/null 2>&1 &
	echo $! >"$T/sink"
	wait_listen "$C" $PORT || return 1
	for ((i = 0; i < CONNS; i++)); do
		echo "resume $rounds $PRIO $NOTSENT $((5000 * SLOW)) 250" |
			s ./sockctl "$ADDR_B" $PORT >"$T/resume.$i" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	for ((i = 0; i < CONNS; i++)); do
		out=$(tail -n1 "$T/resume.$i")
		[ "$out" = "rounds $rounds untuned 0" ] ||
			{ echo "connection $i: $(grep -v '^connected' "$T/resume.$i" | head -n 5)"; bad=1; }
	done
	echo "$((rounds * CONNS)) cycles on $CONNS connections; flows started $(stat_of flows_started), ended $(stat_of flows_ended)"
	[ $bad = 0 ] && return 0
	s "$MIGPRIOCTL" stats
	s "$MIGPRIOCTL" flow list
	s "$SS" -tmnie state established "( dport = :$PORT )" | head -n 20
	return 1
}
ktap_test "$CYCLES flow idle/resume cycles: the socket tuned again after each" idle_resume
diag "idle/resume: $((SECONDS - t0)) s"; t0=$SECONDS

# netns_churn: each netns designates its loopback (a tuned listener and a
# flow need no second netns there), adds rules, tunes a listener by
# connecting to it, and goes with both sockets open
netns_churn() {
	local i X
	for ((i = 0; i < NETNS; i++)); do
		X=mp-soak-$i
		"$IP" netns add $X || return 1
		"$IP" netns exec $X bash -c "$IP link set lo up &&
			$MIGPRIOCTL dev set lo queue none >/dev/null &&
			$MIGPRIOCTL rule add preset qemu >/dev/null &&
			$MIGPRIOCTL rule add port $((20000 + i)) >/dev/null || exit 1
			./tcpsink 49160 >/dev/null 2>&1 &
			for t in \$(seq 100); do
				{ exec 3<>/dev/tcp/127.0.0.1/49160; } 2>/dev/null && break
				sleep 0.1
			done
			echo x >&3 && exec 3>&-" || { echo "round $i failed"; return 1; }
		"$IP" netns pids $X | xargs -r kill -9
		"$IP" netns del $X || return 1
	done
	echo "$NETNS netns created and deleted"
}
ktap_test "$NETNS netns created and deleted with a designation, rules, a tuned listener and a flow" netns_churn
diag "netns: $((SECONDS - t0)) s"; t0=$SECONDS

ktap_test "a new listener is still tuned" migrations 5

kill "$(cat "$T/sink")" 2>/dev/null
ktap_test "flows_active back to 0" \
	busywait $((30000 * SLOW)) eval '[ "$(stat_of flows_active)" = 0 ]'

# The undone listener records linger 10 s; RCU frees them after.
slabs_back() {
	busywait $((60000 * SLOW)) eval '[ "$(objects mp_flow)" = "$FLOWS0" ] &&
		[ "$(objects mp_listener)" = "$LISTENERS0" ]'
	echo "mp_flow objects $(objects mp_flow) (start $FLOWS0), mp_listener $(objects mp_listener) (start $LISTENERS0)"
	[ "$(objects mp_flow)" = "$FLOWS0" ] && [ "$(objects mp_listener)" = "$LISTENERS0" ]
}
ktap_test "migprio's slab objects back to where they started" slabs_back
ktap_finish
