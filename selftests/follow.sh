#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=600
#
# Issue 17 item 3, issue 19 item 4: the stack changes under a designation.
# Without the follower, dev show says plainly what is gone and syncconf
# puts it back; with "syncconf --follow" (the unit's main process) the
# designated bridge and its uplink bond are deleted and re-created, the
# bond released and enslaved again, slaves added and removed (per-slave
# layout), the file reloaded (SIGHUP), the module reloaded, the
# designation cleared by hand; each time the designation, the qdisc, the
# rules and the buffers come back (or go) by themselves, polled, never
# slept for. The follower syncs as syncconf does: a SIGHUP with the file
# unchanged changes nothing, and a file with reserve-ports is read again.
# Oracles: tc qdisc show and tc -s class on the uplink, ss -tmi
# (the socket's send buffer), the kernel's events (monitor -j), the
# follower's log lines and what it tells systemd (notifysink).
source "$(dirname "$0")/lib.sh"

mp_require
[ -x "$MIGPRIOCTL" ] || ktap_skip_all "migprioctl not in the VM image"
for m in veth bonding bridge sch_htb sch_fq_codel; do
	modprobe "$m" 2>/dev/null
done
ktap_plan 14

M=$MIGPRIOCTL
NOTIFYSINK=${NOTIFYSINK:-$(dirname "$0")/notifysink}
PA=10.77.0.2
MIG_PORT=49160
TMP=$(mktemp -d)
defer rm -rf "$TMP"
rm -rf /run/migprio

mp_load || ktap_skip_all "cannot load migprio"
defer mp_unload
setup_ns H P
h() { "$IP" netns exec "$H" "$@"; }
p() { "$IP" netns exec "$P" "$@"; }
for ns in "$H" "$P"; do
	"$IP" netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="20000 30000"
done

# the peer: a bond of vb1 vb2 (active-backup) with the address
p "$IP" link add bond0 type bond mode active-backup miimon 100
for i in 1 2 3; do
	"$IP" link add "va$i" netns "$H" type veth peer name "vb$i" netns "$P"
done
p "$IP" link set vb1 master bond0; p "$IP" link set vb2 master bond0
p "$IP" addr add "$PA/24" dev bond0; p "$IP" link set bond0 up

# the host: vmbr0 (10.77.0.1) over bond0 over va1 va2, as ifupdown makes it
mk_bond() {
	h "$IP" link add bond0 type bond mode active-backup miimon 100 &&
	h "$IP" link set va1 master bond0 && h "$IP" link set va2 master bond0 &&
	h "$IP" link set bond0 master vmbr0 && h "$IP" link set bond0 up
}
mk_bridge() {
	h "$IP" link add vmbr0 type bridge &&
	h "$IP" addr add 10.77.0.1/24 dev vmbr0 && h "$IP" link set vmbr0 up
}
mk_bridge && mk_bond || ktap_skip_all "cannot build the bridge over the bond"

ifindex() { h cat "/sys/class/net/$1/ifindex"; }
root_is_ours() { h "$TC" qdisc show dev "$1" root | grep -q '^qdisc htb 4d50: root'; }
no_layout() { ! h "$TC" qdisc show dev "$1" | grep -q 4d50:; }
designated() {	# IFNAME IFINDEX
	h "$M" -j dev show | "$JQ" -e --arg n "$1" --argjson i "$2" \
		'.dev.ifname == $n and .dev.ifindex == $i' >/dev/null
}
queue_on() {	# DEV...: what dev show -j says, installed
	[ "$(h "$M" -j dev show | "$JQ" -r '[.dev.queue_devs[] | select(.state == "installed") | .ifname] | join(" ")')" = "$*" ]
}
# Migration bytes through 4d50:10 on DEV: a transfer after the change
class10() { class_sent "$H" "$1" 4d50:10; }
classified_on() {
	local before after got
	before=$(class10 "$1")
	p "$IPERF3" -s -1 -p "$MIG_PORT" >/dev/null 2>&1 &
	wait_listen "$P" "$MIG_PORT" || return 1
	h "$IPERF3" -c "$PA" -p "$MIG_PORT" -n 1M -J >"$TMP/m.json" 2>&1 || return 1
	got=$("$JQ" .end.sum_received.bytes "$TMP/m.json")
	after=$(class10 "$1")
	echo "1M transfer: $got bytes received, 4d50:10 on $1: ${before:-none} -> ${after:-none}"
	[ -n "$after" ] && [ $((after - ${before:-0})) -ge "$got" ]
}
# The file's "sndbuf 6M" on a new migration connection (ss -tmi: tb6291456,
# above autotuning's 4 MiB maximum).
buffers() {
	local srv pid rc=0
	# not through p/h: $! must be iperf3's pid (ip netns exec execs it)
	"$IP" netns exec "$P" "$IPERF3" -s -1 -p "$MIG_PORT" >/dev/null 2>&1 &
	srv=$!
	wait_listen "$P" "$MIG_PORT" || return 1
	"$IP" netns exec "$H" "$IPERF3" -c "$PA" -p "$MIG_PORT" -t 30 >/dev/null 2>&1 &
	pid=$!
	busywait $((10000 * MP_SLOW)) eval 'h "$SS" -tmi state established "dport = :$MIG_PORT" | grep -q tb6291456' || rc=1
	h "$SS" -tmi state established "dport = :$MIG_PORT" | grep -o 'tb[0-9]*' | sort -u | tr '\n' ' '
	kill "$pid" "$srv" 2>/dev/null
	wait "$pid" "$srv" 2>/dev/null
	return $rc
}

# ---------------------------------------------- without the follower
h "$M" -j monitor >"$TMP/events" 2>&1 &
defer kill $!
cat >"$TMP/conf" <<EOF
dev set vmbr0 sndbuf 6M queue htb rate 50mbit
rule add preset qemu reserve-ports
EOF
gone_shown() {
	h "$M" syncconf "$TMP/conf" || return 1
	busywait $((5000 * MP_SLOW)) grep -q '"change":"set","ifname":"vmbr0"' "$TMP/events" || return 1
	h "$IP" link del bond0 || return 1
	h "$M" dev show
	h "$M" dev show | grep -q '^qdisc     none on bond0 .*: the device is gone' &&
	h "$M" -j dev show | "$JQ" -e '.dev.queue_devs[0].state == "gone" and
		(.dev.stack_changed | test("without a port leading off the host"))' >/dev/null &&
	busywait $((5000 * MP_SLOW)) grep -q '"change":"queue-gone","ifname":"bond0",.*"dev":"vmbr0"' "$TMP/events" || {
		cat "$TMP/events"; return 1; }
}
ktap_test "uplink deleted: dev show and monitor (queue-gone) say the queue is gone and why" gone_shown
restored() {
	mk_bond || return 1
	h "$M" syncconf "$TMP/conf" || return 1
	root_is_ours bond0 && queue_on bond0 && classified_on bond0
}
ktap_test "uplink re-created: syncconf puts the queue on the new bond0" restored

# ------------------------------------------------- with the follower
"$IP" netns exec "$H" "$NOTIFYSINK" "$TMP/notify.sock" >"$TMP/notify" 2>&1 &
defer kill $!
busywait $((5000 * MP_SLOW)) test -S "$TMP/notify.sock"
# the follower's pid (for signals) and, once it ended, its exit status
( NOTIFY_SOCKET=$TMP/notify.sock bash -c 'echo $$ >"$1"; exec "$2" netns exec "$3" "$4" syncconf --follow "$5"' \
	_ "$TMP/pid" "$IP" "$H" "$M" "$TMP/conf" >"$TMP/log" 2>&1; echo $? >"$TMP/rc" ) &
busywait $((5000 * MP_SLOW)) test -s "$TMP/pid"
FOLLOWER=$(cat "$TMP/pid")
defer kill "$FOLLOWER"
logged() { busywait $((10000 * MP_SLOW)) grep -qF -- "$1" "$TMP/log" || { echo "not logged: $1"; cat "$TMP/log"; return 1; }; }
started() {
	logged "start: $TMP/conf is in place, nothing changed" &&
	busywait $((5000 * MP_SLOW)) grep -qx "READY=1" "$TMP/notify" &&
	busywait $((5000 * MP_SLOW)) grep -q "STATUS=following $TMP/conf: vmbr0 designated, queue on bond0" "$TMP/notify" || {
		cat "$TMP/notify"; return 1; }
}
ktap_test "follower: the file in place at start, READY and the status told to systemd" started

# SIGHUP (systemctl reload) with the file as it is: syncconf's code finds
# nothing to change, so no dev set runs again (no dev-change event), the
# layout is not rebuilt (its class counters go on) and migration is still
# classified. The transfer's flow-start event comes after anything the
# reload caused.
unchanged() {
	local sets flows sent
	sets=$(grep -c '"change":"set"' "$TMP/events")
	flows=$(grep -c '"event":"flow-start"' "$TMP/events")
	sent=$(class10 bond0)
	kill -HUP "$FOLLOWER"
	logged "reload: $TMP/conf is in place, nothing changed" || return 1
	classified_on bond0 || return 1
	busywait $((5000 * MP_SLOW)) eval '[ "$(grep -c "\"event\":\"flow-start\"" "$TMP/events")" -gt '"$flows"' ]' || {
		cat "$TMP/events"; return 1; }
	echo "dev-change set events: $sets -> $(grep -c '"change":"set"' "$TMP/events"), 4d50:10 sent: $sent -> $(class10 bond0)"
	[ "$(grep -c '"change":"set"' "$TMP/events")" = "$sets" ] && [ "$(class10 bond0)" -ge "$sent" ] &&
	h grep -q 49152-49215 /proc/sys/net/ipv4/ip_local_reserved_ports
}
ktap_test "follower: SIGHUP with the file unchanged (reserve-ports in it) changes nothing" unchanged

bridge_again() {
	local old new
	old=$(ifindex vmbr0)
	h "$IP" link del vmbr0 || return 1
	logged "vmbr0 (ifindex $old) is gone" || return 1
	busywait $((5000 * MP_SLOW)) grep -q '"change":"gone","ifname":"vmbr0"' "$TMP/events" || {
		cat "$TMP/events"; return 1; }
	mk_bridge && h "$IP" link set bond0 master vmbr0 || return 1
	new=$(ifindex vmbr0)
	busywait $((10000 * MP_SLOW)) designated vmbr0 "$new" || { h "$M" dev show; cat "$TMP/log"; return 1; }
	busywait $((10000 * MP_SLOW)) root_is_ours bond0 || return 1
	logged "vmbr0 exists: designated again as the file says" &&
	[ "$(h "$M" -j rule list | "$JQ" -r '.[].name')" = qemu ] &&
	classified_on bond0
}
ktap_test "follower: vmbr0 deleted and re-created: designated again, queue on bond0, migration through 4d50:10" bridge_again
ktap_test "follower: ... and a new migration connection gets the file's send buffer (ss -tmi)" buffers

uplink_again() {
	local old new
	old=$(ifindex bond0)
	h "$IP" link del bond0 || return 1
	logged "without a port leading off the host" || return 1
	mk_bond || return 1
	new=$(ifindex bond0)
	busywait $((10000 * MP_SLOW)) eval 'root_is_ours bond0 && queue_on bond0' || {
		h "$M" dev show; cat "$TMP/log"; return 1; }
	[ "$(h "$M" -j dev show | "$JQ" '.dev.queue_devs[0].ifindex')" = "$new" ] &&
	[ ! -e "/run/migprio/$(stat -L -c %i /run/netns/"$H")-$old" ] &&
	classified_on bond0
}
ktap_test "follower: bond0 deleted and re-created: the queue follows to the new bond0, the old record goes" uplink_again

# the kernel resets foreign priorities on the queue devices (egress.c)
resets_on() {
	h "$M" -j dev show | "$JQ" -e --argjson l "[$*]" '.dev.priority_reset_ifindexes == $l' >/dev/null
}
released() {
	resets_on "$(ifindex bond0)" || { echo "bond0 is not the kernel's queue device"; return 1; }
	h "$IP" link set bond0 nomaster || return 1
	busywait $((10000 * MP_SLOW)) no_layout bond0 || { h "$TC" qdisc show dev bond0; return 1; }
	h "$M" dev show
	h "$M" -j dev show | "$JQ" -e '.dev.queue_devs == [] and .dev.stack_changed != null' >/dev/null &&
	busywait $((10000 * MP_SLOW)) resets_on || { h "$M" -j dev show; return 1; }
}
ktap_test "follower: bond0 released from vmbr0: its layout and the kernel's priority reset are removed (no stale qdisc), dev show says why" released
enslaved() {
	h "$IP" link set bond0 master vmbr0 || return 1
	busywait $((10000 * MP_SLOW)) eval 'root_is_ours bond0 && queue_on bond0' &&
	resets_on "$(ifindex bond0)"
}
ktap_test "follower: bond0 enslaved again: the layout is back" enslaved

# per-slave, by a reload of the file
sed -i 's/rate 50mbit$/rate 50mbit per-slave/' "$TMP/conf"
reloaded() {
	kill -HUP "$FOLLOWER"
	busywait $((10000 * MP_SLOW)) eval 'root_is_ours va1 && root_is_ours va2 && no_layout bond0' || {
		cat "$TMP/log"; return 1; }
	logged "reload: synced $TMP/conf: 0 rules added, 0 renamed, 0 deleted; dev vmbr0: per-slave" &&
	queue_on va1 va2
}
ktap_test "follower: SIGHUP reads the file again (per-slave): layouts on va1 va2, none on bond0" reloaded
slaves() {
	h "$IP" link set va3 master bond0 || return 1
	busywait $((10000 * MP_SLOW)) eval 'root_is_ours va3 && queue_on va1 va2 va3' || {
		h "$M" dev show; cat "$TMP/log"; return 1; }
	h "$IP" link set va2 nomaster || return 1
	busywait $((10000 * MP_SLOW)) eval 'no_layout va2 && queue_on va1 va3' || {
		h "$M" dev show; cat "$TMP/log"; return 1; }
}
ktap_test "follower: a slave added gets its layout, a slave removed loses it" slaves
h "$IP" link set va2 master bond0
busywait $((10000 * MP_SLOW)) queue_on va1 va2 va3

module_reload() {
	mp_unload || return 1
	logged "the migprio module was unloaded" || return 1
	mp_load || return 1
	logged "module loaded: synced $TMP/conf" || return 1
	busywait $((10000 * MP_SLOW)) eval 'designated vmbr0 "$(ifindex vmbr0)"' &&
	[ "$(h "$M" -j rule list | "$JQ" -r '.[].name')" = qemu ] &&
	root_is_ours va1 && queue_on va1 va2 va3
}
ktap_test "follower: module unloaded and loaded: the file synced again, layouts adopted" module_reload

by_hand() {
	h "$M" dev clear || return 1
	logged "vmbr0 cleared by hand (dev clear): not following until reload" || return 1
	! root_is_ours va1 || return 1
	kill -HUP "$FOLLOWER"
	busywait $((10000 * MP_SLOW)) eval 'designated vmbr0 "$(ifindex vmbr0)" && root_is_ours va1'
}
ktap_test "follower: dev clear by hand stops following; SIGHUP (reload) brings the file back" by_hand

stopped() {
	local rc=0
	kill -TERM "$FOLLOWER"
	busywait $((10000 * MP_SLOW)) test -s "$TMP/rc" || return 1
	rc=$(cat "$TMP/rc")
	echo "exit $rc"
	[ "$rc" = 0 ] && logged "stopping: the configuration stays in place" &&
	designated vmbr0 "$(ifindex vmbr0)" && root_is_ours va1 && root_is_ours va3 &&
	[ "$(h "$M" -j rule list | "$JQ" -r '.[].name')" = qemu ]
}
ktap_test "follower: SIGTERM (systemctl stop) exits 0 and leaves the configuration in place" stopped

h "$M" dev clear
h "$M" rule flush
ktap_finish
