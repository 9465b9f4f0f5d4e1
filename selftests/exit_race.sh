#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=900
#
# Netns exit and module unload while the deferred classifier build is
# about to fire (issue 18, item 3): the build publishes a config, which
# revalidates the listener registry and may queue its work, so it must be
# stopped before anything it uses is torn down. Each round: a netns with
# a designated interface, a tuned listener, a rule added with
# build_delay_ms set to when the netns's exit begins (measured, see
# t_netns), and the netns deleted at once; then module unloads the same
# way with live tuned listeners. What a mistake here does is a use-after-free or a freed
# pending work: KASAN and debugobjects splats on the debug kernel, which
# vm-run turns into a failure (check-debug); here: every netns goes, the
# module unloads and loads again.
source "$(dirname "$0")/lib.sh"

mp_require
ktap_plan 2

ROUNDS=${EXIT_ROUNDS:-4}
PORT=49200			# in preset qemu
SOCKHOLD=$(dirname "$0")/sockhold
[ -x "$SOCKHOLD" ] || ktap_skip_all "no $SOCKHOLD (make -C selftests)"
PARAM=/sys/module/migprio/parameters/build_delay_ms
T=$(mktemp -d)
defer rm -rf "$T"
mp_load || ktap_skip_all "cannot load migprio"

# round NS PEER DELAY_MS: NS designated with a tuned listener; a rule
# added with the build DELAY_MS later; prints when it is ready
round() {
	local ns=$1 peer=$2
	veth_pair "$ns" "$peer" &&
	"$IP" netns exec "$ns" "$MIGPRIOCTL" dev set "$VETH_A" queue none &&
	"$IP" netns exec "$ns" "$MIGPRIOCTL" rule add preset qemu >/dev/null || return 1
	"$IP" netns exec "$ns" "$SOCKHOLD" listen 0.0.0.0 $PORT >"$T/l.$ns" 2>&1 &
	busywait $((5000 * MP_SLOW)) grep -qx listening "$T/l.$ns" &&
	"$IP" netns exec "$peer" bash -c "echo x >/dev/tcp/$ADDR_A/$PORT" || return 1
	echo "$3" >$PARAM
	"$IP" netns exec "$ns" "$MIGPRIOCTL" rule add port $((20000 + RANDOM % 1000)) >/dev/null
}

# lost_after TAG: is migprio's "lost" line in the kernel log after the
# line TAG?
lost_after() {
	dmesg | sed -n "\|$1|,\$p" | grep -qE 'migprio: netns [0-9]+: lost '
}

# The build must fire while the netns goes, not before: the exit starts
# well after `ip netns del` returns (cleanup_net, a grace period; seconds
# on the debug kernel). Round 0 measures when it starts (migprio's "lost"
# line for the designated interface, which the exit's device teardown
# prints just before migprio's own exit runs) with no build pending; the
# next rounds set the build to fire that long after the rule add, swept
# by 25 ms a round, each from the last round's measurement.
t_netns() {
	local i ns peer tag t0 t1 exit_ms=0 delay
	for ((i = 0; i < ROUNDS + 1; i++)); do
		ns=mp-exit-$$-$i peer=mp-exitp-$$-$i tag="exit_race: deleting mp-exit-$$-$i"
		"$IP" netns add $ns && "$IP" netns add $peer || return 1
		"$IP" -n $ns link set lo up
		delay=$((i ? exit_ms + (i - 1) * 25 : 10000))
		round $ns $peer $delay || { cat "$T/l.$ns"; return 1; }
		echo "$tag" >/dev/kmsg
		"$IP" netns pids $ns | xargs -r kill -9
		t0=${EPOCHREALTIME/./}
		"$IP" netns del $ns && "$IP" netns del $peer || return 1
		# (the line is rate-limited: without it, the last measurement)
		if busywait $((10000 * MP_SLOW)) lost_after "$tag"; then
			t1=${EPOCHREALTIME/./}
			exit_ms=$(((t1 - t0) / 1000))
		fi
		[ "$i" = 0 ] ||
			echo "round $i: build due $delay ms after the rule add; the exit began $exit_ms ms after the deletion"
	done
	mp_loaded
}
ktap_test "$ROUNDS netns deleted while the classifier build is pending" t_netns

t_rmmod() {
	local i X Y
	for ((i = 0; i < ROUNDS / 4 + 1; i++)); do
		mp_load || return 1
		setup_ns X Y || return 1
		round "$X" "$Y" $((i * 40 % 400)) || { cat "$T/l.$X"; return 1; }
		mp_unload || { echo "rmmod failed in round $i"; return 1; }
		# ktap_test runs this in a subshell: lib.sh's cleanup never sees them
		"$IP" netns pids "$X" | xargs -r kill -9
		"$IP" netns del "$X" && "$IP" netns del "$Y" || return 1
	done
	mp_load
}
ktap_test "module unloaded with tuned listeners while the classifier build is pending" t_rmmod

ktap_finish
