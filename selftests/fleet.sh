#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# One configuration file for a cluster (issue 19, item 7): syncconf reads
# "include PATH" (relative to the including file) and "node NAME[,NAME]
# LINE" lines, a line for those hosts only (the hostname up to a dot, as
# Proxmox VE names nodes); a node's own dev set line wins over the one
# for every node; every line is checked on every node, so a bad line for
# one node is refused everywhere. The newer words too: another node's
# dev set line with uplink and per-slave naming devices this host lacks
# is checked, not waited for; a node's reserve-ports rule reserves its
# ports there only, and --dry-run shows it. Each "node" runs in its own
# UTS namespace with its hostname set. Oracles: dev show -j, rule list -j,
# tc qdisc show, the namespace's ip_local_reserved_ports.
source "$(dirname "$0")/lib.sh"

tool_setup 5
"$IP" -n "$NA" link add mpfleet0 type veth peer name mpfleet1 &&
	"$IP" -n "$NA" link set mpfleet0 up || ktap_skip_all "cannot make mpfleet0"

# as NODE: CMD... in NA, with NODE as the hostname
as() { local n=$1; shift; unshare -u bash -c 'hostname "$1" && shift && "$@"' - "$n" "$IP" netns exec "$NA" "$@"; }
dev() { "$IP" netns exec "$NA" "$M" -j dev show | "$JQ" -r '.dev.ifname // "none"'; }
rules() { "$IP" netns exec "$NA" "$M" -j rule list | "$JQ" -c '[.[] | .name] | sort'; }
root() { "$IP" netns exec "$NA" "$TC" qdisc show dev "$1" | awk '/ root /{ print $2, $3; exit }'; }

mkdir -p "$OUT/pve/nodes"
cat >"$OUT/pve/migprio.conf" <<EOF
# the cluster's file: every node reads it
rule add preset ssh peer 10.99.0.0/24
dev set $VETH_A queue htb rate 100mbit
node pve2,pve3 dev set mpfleet0 queue prio
node pve2 rule add port 7000 name pve2-only
include nodes/common.conf
EOF
echo 'rule add port 7001 name included' >"$OUT/pve/nodes/common.conf"
# what each node's /etc/migprio/migprio.conf says: the cluster's file
echo "include $OUT/pve/migprio.conf" >"$OUT/local.conf"

node1() {
	as pve1.example.org "$M" syncconf "$OUT/local.conf" || return 1
	"$IP" netns exec "$NA" "$M" showconf
	[ "$(dev)" = "$VETH_A" ] && [ "$(root "$VETH_A")" = "htb 4d50:" ] &&
	[ "$(rules)" = '["included","ssh"]' ]
}
ktap_test "node pve1: the lines for every node, the included file, no other node's line" node1

node2() {
	as pve2 "$M" syncconf "$OUT/local.conf" || return 1
	"$IP" netns exec "$NA" "$M" showconf
	# its own dev set line wins; the one for every node's queue is gone
	[ "$(dev)" = mpfleet0 ] && [ "$(root mpfleet0)" = "prio 4d50:" ] &&
	[ -z "$(root "$VETH_A" | grep 4d50)" ] &&
	[ "$(rules)" = '["included","pve2-only","ssh"]' ]
}
ktap_test "node pve2: its own dev set line wins, its own rule added" node2

node3() {
	local out rc=0
	cp "$OUT/pve/migprio.conf" "$OUT/pve/good"
	cat >>"$OUT/pve/migprio.conf" <<-EOF
	node pve1 dev set vmbr9 queue htb rate 1gbit uplink eno9 per-slave
	node pve3 rule add port 7002 name pve3-ports reserve-ports
	EOF
	out=$(as pve3 "$M" syncconf --dry-run "$OUT/local.conf") || rc=$?
	echo "$out"
	as pve3 "$M" syncconf "$OUT/local.conf" || rc=$?
	mv "$OUT/pve/good" "$OUT/pve/migprio.conf"
	[ "$rc" = 1 ] && grep -qx '+rule add port 7002 name pve3-ports reserve-ports' <<<"$out" &&
	grep -q '^+net.ipv4.ip_local_reserved_ports = .*7002' <<<"$out" &&
	! grep -q vmbr9 <<<"$out" &&
	[ "$(dev)" = mpfleet0 ] && [ "$(rules)" = '["included","pve3-ports","ssh"]' ] &&
	"$IP" netns exec "$NA" grep -qw 7002 /proc/sys/net/ipv4/ip_local_reserved_ports
}
ktap_test "node pve3: uplink and per-slave of another node's line checked, not waited for; its reserve-ports rule reserved" node3

bad_other() {
	local before rc=0
	before=$(rules; dev)
	cp "$OUT/pve/migprio.conf" "$OUT/pve/good"
	echo 'node pve3 rule add port 70000' >>"$OUT/pve/migprio.conf"
	as pve2 "$M" syncconf "$OUT/local.conf" 2>"$OUT/err" || rc=$?
	cat "$OUT/err"
	mv "$OUT/pve/good" "$OUT/pve/migprio.conf"
	[ "$rc" = 2 ] && grep -q "$OUT/pve/migprio.conf:7: invalid port" "$OUT/err" &&
	grep -q "1 bad line in $OUT/local.conf" "$OUT/err" &&
	[ "$(rules; dev)" = "$before" ]
}
ktap_test "a bad line for another node: refused on this one too (exit 2), nothing changed" bad_other

bad_include() {
	local before rc=0 rc2=0
	before=$(rules; dev)
	echo "include $OUT/pve/missing.conf" >"$OUT/missing.conf"
	as pve2 "$M" syncconf "$OUT/missing.conf" 2>"$OUT/err" || rc=$?
	cat "$OUT/err"
	printf 'node pve2 dev set mpfleet0\nnode pve2 dev set %s\n' "$VETH_A" >"$OUT/twice.conf"
	as pve2 "$M" syncconf "$OUT/twice.conf" 2>>"$OUT/err" || rc2=$?
	cat "$OUT/err"
	[ "$rc" = 2 ] && grep -q "cannot open $OUT/pve/missing.conf" "$OUT/err" &&
	[ "$rc2" = 2 ] && grep -q "a second dev set line for this node" "$OUT/err" &&
	[ "$(rules; dev)" = "$before" ]
}
ktap_test "a missing included file, two dev set lines for one node: exit 2, nothing changed" bad_include

ktap_finish
