#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# cgroup rules match by path: a rule for a cgroup that does not exist yet
# is accepted and matches once the cgroup is created (a VM started after
# the configuration), and keeps matching when the cgroup is removed and
# created again (a VM's scope re-created), without touching the rule.
# Oracles: tc -s class (bytes through migprio's migration class 4d50:1),
# the rule's counters and cgroup_id (= the cgroup directory's inode).
source "$(dirname "$0")/lib.sh"

mp_require
[ -x "$MIGPRIOCTL" ] || ktap_skip_all "migprioctl not in the VM image"
[ -d /sys/fs/cgroup ] && [ -f /sys/fs/cgroup/cgroup.procs ] ||
	ktap_skip_all "no cgroup2 at /sys/fs/cgroup"
ktap_plan 5

mp_load || ktap_skip_all "cannot load migprio"
defer mp_unload
setup_ns A B
veth_pair "$A" "$B"
a() { "$IP" netns exec "$A" "$@"; }
PORT=5310
T=$(mktemp -d)
defer rm -rf "$T"
# a slice and a scope below it, as libvirt's /machine.slice/machine-qemu...
SLICE=/sys/fs/cgroup/mp-cg-$$.slice
SCOPE=$SLICE/vm1.scope
defer rmdir "$SCOPE" "$SLICE"

a "$MIGPRIOCTL" dev set "$VETH_A" queue prio >/dev/null
"$IP" netns exec "$B" "$IPERF3" -s -p $PORT >/dev/null 2>&1 &
defer kill $!
wait_listen "$B" $PORT

mig_sent() {
	"$TC" -n "$A" -s class show dev "$VETH_A" |
		awk '$1 == "class" && $3 == "4d50:1" { f = 1; next }
		     f && $1 == "Sent" { print $2; exit }'
}
rule() { a "$MIGPRIOCTL" -j rule list | "$JQ" -r ".[0].$1"; }

# One transfer from a process inside the scope.
from_scope() {
	(echo $BASHPID >"$SCOPE/cgroup.procs" &&
	 exec "$IP" netns exec "$A" "$IPERF3" -c "$ADDR_B" -p $PORT -n 2M >/dev/null)
}
# Transfers until the rule has counted one (the first packets of a cgroup
# the rule has not resolved yet miss; the rule resolves on that miss).
matched() {
	local m0=$1 r0=$2
	from_scope || return 1
	[ "$(rule tx_bytes)" -gt $((r0 + 1000000)) ] &&
	[ "$(mig_sent)" -gt $((m0 + 1000000)) ]
}

absent() {
	a "$MIGPRIOCTL" rule add port $PORT cgroup "/${SLICE##*/}" name vms || return 1
	a "$MIGPRIOCTL" -j rule list
	[ "$(rule cgroup_id)" = 0 ]
}
ktap_test "a rule for a cgroup that does not exist yet is accepted (cgroup_id 0)" absent

created() {
	local m0 r0
	mkdir "$SLICE" "$SCOPE" || return 1
	m0=$(mig_sent); r0=$(rule tx_bytes)
	busywait 30000 matched "$m0" "$r0" || return 1
	echo "4d50:1 sent $(mig_sent) bytes, rule tx_bytes $(rule tx_bytes)"
	[ "$(rule cgroup_id)" = "$(stat -c %i "$SLICE")" ]
}
ktap_test "created afterwards: a process in a scope below it is matched" created

outside() {
	local m0 r0
	m0=$(mig_sent); r0=$(rule tx_bytes)
	a "$IPERF3" -c "$ADDR_B" -p $PORT -n 2M >/dev/null || return 1
	echo "4d50:1 +$(($(mig_sent) - m0)), rule +$(($(rule tx_bytes) - r0))"
	[ "$(rule tx_bytes)" = "$r0" ]
}
ktap_test "a process outside the cgroup is not matched" outside

recreated() {
	local m0 r0 old
	old=$(rule cgroup_id)
	rmdir "$SCOPE" "$SLICE" && mkdir "$SLICE" "$SCOPE" || return 1
	[ "$(stat -c %i "$SLICE")" != "$old" ] || { echo "same inode"; return 1; }
	m0=$(mig_sent); r0=$(rule tx_bytes)
	busywait 30000 matched "$m0" "$r0" || return 1
	echo "cgroup_id $old -> $(rule cgroup_id)"
	[ "$(rule cgroup_id)" = "$(stat -c %i "$SLICE")" ]
}
ktap_test "removed and created again: still matched, same rule" recreated

same_path() {
	local rc=0
	a "$MIGPRIOCTL" rule add port $PORT cgroup "/${SLICE##*/}" 2>"$T/err" || rc=$?
	cat "$T/err"
	[ "$rc" = 1 ] && grep -q identical "$T/err"
}
ktap_test "a second rule with the same path is refused as identical" same_path

ktap_finish
