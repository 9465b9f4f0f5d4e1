#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=900
#
# Netns exit and module unload while the deferred classifier build is
# about to fire (issue 18, item 3): the build publishes a config, which
# revalidates the listener registry and may queue its work, so it must be
# stopped before anything it uses is torn down. Each round: a netns with
# a designated interface, a tuned listener, a rule added with
# build_delay_ms swept over the time the exit takes, and the netns
# deleted at once; then module unloads the same way with live tuned
# listeners. What a mistake here does is a use-after-free or a freed
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

t_netns() {
	local i ns peer
	for ((i = 0; i < ROUNDS; i++)); do
		ns=mp-exit-$$-$i peer=mp-exitp-$$-$i
		"$IP" netns add $ns && "$IP" netns add $peer || return 1
		"$IP" -n $ns link set lo up
		round $ns $peer $((i * 25 % 500)) || { cat "$T/l.$ns"; return 1; }
		"$IP" netns pids $ns | xargs -r kill -9
		"$IP" netns del $ns && "$IP" netns del $peer || return 1
	done
	echo "$ROUNDS netns deleted with a build pending $(cat $PARAM) ms and less"
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
