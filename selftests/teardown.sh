#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=600
#
# Ending flows never blocks the host's network configuration (issue 11,
# item 2). With 1,000 live, tuned flows, deleting the designated interface,
# `dev clear` and deleting the netns each complete, and the table empties;
# with a socket whose owner holds its lock (a sendmsg() stuck in a page
# fault, see tools/sockhold.c), `ip link del` of the designated interface
# still completes (the flow ends when the owner lets go) and the module
# still unloads.
#
# Bounded, not timed: each step must finish within $BOUND s, where the bug
# it catches (sleeping on a socket lock under RTNL) hangs forever; the
# bound is far above any machine's time for the step.
source "$(dirname "$0")/lib.sh"

mp_require
ktap_plan 5

PORT=49170
N=${TEARDOWN_FLOWS:-1000}
BOUND=60
SOCKHOLD=${SOCKHOLD:-$(dirname "$0")/sockhold}
[ -x "$SOCKHOLD" ] || ktap_skip_all "no $SOCKHOLD (make -C selftests)"
T=$(mktemp -d)
defer rm -rf "$T"

mp() { "$IP" netns exec "$1" "$MIGPRIOCTL" "${@:2}"; }
stat_of() { mp "$1" -j stats | "$JQ" ".$2"; }
has_line() { grep -qx "$2" "$1" 2>/dev/null; }

# bounded CMD...: run CMD in the background; status 0 if it finished within
# BOUND s with status 0. On the way out the caller's cleanup (kill $HOLDER)
# lets a hung one finish.
bounded() {
	local pid rc
	"$@" >"$T/bounded" 2>&1 &
	pid=$!
	if ! busywait $((BOUND * 1000)) eval '! kill -0 '$pid' 2>/dev/null'; then
		echo "still running after $BOUND s: $*"
		return 1
	fi
	wait $pid
	rc=$?
	[ $rc = 0 ] || echo "failed ($rc): $* $(cat "$T/bounded")"
	return $rc
}

# populate S C: veth S (designated, rule preset qemu) <-> C, a listener in S
# on PORT, N connections from C to it; waits until S tracks and tuned them
populate() {
	local s=$1 c=$2
	veth_pair "$s" "$c" &&
	mp "$s" dev set "$VETH_A" queue none &&
	mp "$s" rule add preset qemu >/dev/null || return 1
	"$IP" netns exec "$s" "$SOCKHOLD" listen "$ADDR_A" $PORT >"$T/l.$s" 2>&1 &
	defer kill $!
	disown $!
	busywait 5000 has_line "$T/l.$s" listening || return 1
	"$IP" netns exec "$c" "$SOCKHOLD" connect "$ADDR_A" $PORT "$N" \
		>"$T/c.$c" 2>&1 &
	defer kill $!
	busywait $((BOUND * 1000)) has_line "$T/c.$c" "connected $N" || {
		echo "connections: $(cat "$T/c.$c")"; return 1
	}
	busywait $((BOUND * 1000)) eval \
		'[ "$(stat_of "$s" flows_active)" -ge $N ] &&
		 [ "$(stat_of "$s" socks_tuned)" -ge $N ]' || {
		echo "flows_active $(stat_of "$s" flows_active) socks_tuned $(stat_of "$s" socks_tuned), want $N"
		return 1
	}
}

# all_ended NS: the reaper emptied the table
all_ended() {
	local ns=$1
	busywait $((BOUND * 1000)) eval '[ "$(stat_of "$ns" flows_active)" = 0 ]' || {
		echo "flows_active still $(stat_of "$ns" flows_active)"; return 1
	}
}

# priorities NS: the class_id (socket priority) of every established
# socket on PORT, sorted and counted
priorities() {
	"$SS" -N "$1" -tnH --tos state established "( sport = :$PORT )" |
		grep -o 'class_id:[^ ]*' | sort | uniq -c
}

# flows must not end idle while the slowest kernel sets up the next step
mp_load flow_idle_secs=3600 || ktap_skip_all "cannot load migprio"

# Set-up runs at the top level (its processes and namespaces are cleaned
# up at exit); a test's function only runs the step under test and checks.
# ready FILE: the set-up succeeded, else its output
ready() { [ -e "$T/ok.$1" ] || { cat "$T/setup.$1"; return 1; }; }
setup() {
	local id=$1; shift
	"$@" >"$T/setup.$id" 2>&1 && touch "$T/ok.$id"
}

setup_ns S1 C1
setup 1 populate "$S1" "$C1"
linkdel() {
	ready 1 || return 1
	echo "tuned: $(priorities "$S1" | tr '\n' ' ')"
	bounded "$IP" -n "$S1" link del "$VETH_A" || return 1
	all_ended "$S1"
}
ktap_test "ip link del of the designated interface with $N tuned flows completes, table empties" linkdel

setup_ns S2 C2
setup 2 populate "$S2" "$C2"
devclear() {
	local p0 p1
	ready 2 || return 1
	p0=$(priorities "$S2")
	bounded mp "$S2" dev clear || return 1
	all_ended "$S2" || return 1
	# every socket got its priority back: what a fresh one has (0)
	p1=$(priorities "$S2")
	echo "tuned: $p0; after dev clear: $p1"
	[ "$p0" != "$p1" ] && ! grep -qvE 'class_id:0(x0)?$' <<<"$p1"
}
ktap_test "dev clear with $N tuned flows completes, every socket's priority given back" devclear

S3=mp-td-$$-s
"$IP" netns add $S3 && "$IP" -n $S3 link set lo up
defer "$IP" netns del $S3
setup_ns C3
setup 3 populate $S3 "$C3"
nsdel() {
	ready 3 || return 1
	echo "flows_active $(stat_of $S3 flows_active) when the netns goes"
	"$IP" netns pids $S3 | xargs -r kill -9
	bounded "$IP" netns del $S3 || return 1
	# the netns is really gone once its veth end is: the peer vanishes
	busywait $((BOUND * 1000)) eval \
		'! "$IP" -n "$C3" link show "$VETH_B" >/dev/null 2>&1' || {
		echo "netns not destroyed"; return 1
	}
	mp_loaded
}
ktap_test "netns with $N tracked flows deleted: destroyed in bounded time" nsdel

# hold S C: a tuned flow in S whose socket a process of S keeps locked
# (sendmsg() stuck in a page fault): $HOLDER
hold() {
	local s=$1 c=$2
	veth_pair "$s" "$c" &&
	mp "$s" dev set "$VETH_A" queue none &&
	mp "$s" rule add preset qemu >/dev/null || return 1
	"$IP" netns exec "$c" "$SOCKHOLD" listen "$ADDR_B" $PORT >"$T/l.$c" 2>&1 &
	defer kill $!
	busywait 5000 has_line "$T/l.$c" listening || return 1
	rm -f "$T/go"
	mkfifo "$T/go" || return 1
	"$IP" netns exec "$s" "$SOCKHOLD" hold "$ADDR_B" $PORT \
		<"$T/go" >"$T/h.$s" 2>&1 &
	HOLDER=$!
	defer kill -9 $HOLDER
	exec 7>"$T/go"
	busywait 5000 has_line "$T/h.$s" "connected 1" &&
	busywait $((BOUND * 1000)) eval '[ "$(stat_of "$s" socks_tuned)" -ge 1 ]' || {
		echo "holder: $(cat "$T/h.$s"), socks_tuned $(stat_of "$s" socks_tuned)"
		return 1
	}
	echo go >&7
	exec 7>&-
	busywait $((BOUND * 1000)) has_line "$T/h.$s" held || {
		echo "holder: $(cat "$T/h.$s")"; return 1
	}
}

# The lock holder needs userfaultfd (the sysctl exists with it only).
if [ ! -e /proc/sys/vm/unprivileged_userfaultfd ]; then
	ktap_skip "ip link del while a process holds a flow's socket lock" \
		"no userfaultfd in this kernel"
	ktap_skip "rmmod with a live flow whose socket lock a process holds" \
		"no userfaultfd in this kernel"
	ktap_finish
fi

setup_ns S4 C4
HOLDER=
hold "$S4" "$C4" >"$T/setup.4" 2>&1 && touch "$T/ok.4"
held_linkdel() {
	ready 4 || return 1
	echo "holder in: $(cat /proc/"$HOLDER"/task/*/wchan 2>/dev/null | tr '\0' ' ')"
	bounded "$IP" -n "$S4" link del "$VETH_A" || return 1
	# the lock is still held: the holder is still in its page fault
	kill -0 "$HOLDER" || return 1
	# The flow ends once its socket is given back: its priority at once,
	# sizes migprio set (auto sizes at the veth's 10 Gbit/s, set when the
	# RTT is long enough) once the holder lets go.
	echo "flows_active $(stat_of "$S4" flows_active) while held"
	kill -9 "$HOLDER"
	all_ended "$S4"
}
ktap_test "ip link del completes while a process holds a flow's socket lock, the flow ends when it lets go" held_linkdel
[ -z "$HOLDER" ] || { kill -9 "$HOLDER"; wait "$HOLDER"; } 2>/dev/null

setup_ns S5 C5
HOLDER=
hold "$S5" "$C5" >"$T/setup.5" 2>&1 && touch "$T/ok.5"
held_rmmod() {
	ready 5 || return 1
	[ "$(stat_of "$S5" flows_active)" -ge 1 ] || return 1
	bounded mp_unload || return 1
	kill -0 "$HOLDER"
}
ktap_test "rmmod with a live flow whose socket lock a process holds completes" held_rmmod
[ -z "$HOLDER" ] || { kill -9 "$HOLDER"; wait "$HOLDER"; } 2>/dev/null
ktap_finish
