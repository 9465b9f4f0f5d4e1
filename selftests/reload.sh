#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=600
#
# A reload never disturbs a running migration (issue 19, item 5):
# syncconf --dry-run prints the changes and exits 0 (none) or 1 (some),
# changing nothing; a real run logs a one-line summary to syslog (the
# journal on a systemd host); while a flow runs through the htb layout, a
# run with the same file changes nothing at all, a DSCP change touches
# neither the qdisc nor the rings, a guard change changes the htb classes
# in place (the leaves and the class counters stay); reserve-ports shows
# in --dry-run (the rule line and the sysctl's) without being made, and a
# run reserves the ports without touching the layout; a layout that is not
# where the walk puts it any more (its root qdisc deleted) is placed again
# also when the file changes only the DSCP; only a changed rings value
# resizes the NIC's rings, and then with a warning.
# Oracles: tc monitor and ethtool --monitor (every qdisc, class and ring
# change the kernel announces), tc -s class show, ethtool -g, flow list,
# migprio's own events, busybox syslogd's file, the sysctl in /proc.
source "$(dirname "$0")/lib.sh"

tool_setup 11
A() { "$IP" netns exec "$NA" "$@"; }
B() { "$IP" netns exec "$NB" "$@"; }


CONF=$OUT/migprio.conf
conf() { # DSCP GUARD [reserve-ports]: the file
	cat >"$CONF" <<-EOF
	dev set $VETH_A queue htb rate 100mbit dscp $1 guard $2
	rule add preset qemu${3:+ $3}
	rule add port 7000 name seven
	EOF
}
conf 10 10

# syslog: busybox syslogd on /dev/log, into a file
LOG=$OUT/syslog
busybox syslogd -n -O "$LOG" >/dev/null 2>&1 &
defer kill $!
defer rm -f /dev/log
busywait 5000 test -S /dev/log || ktap_skip_all "no syslogd"
logged() { grep -F -- "$1" "$LOG"; }

# ---------------------------------------------------------- --dry-run
dry_fresh() {
	run A "$M" syncconf --dry-run "$CONF"; expect_rc 1 || return 1
	[ "$out" = "+rule add port 49152-49215 name qemu
+rule add port 7000 name seven
+dev set $VETH_A dscp 10 queue htb rate 100mbit" ] || { show; return 1; }
	run A "$M" -j syncconf --dry-run "$CONF"; expect_rc 1 || return 1
	"$JQ" -e '.dry_run and .added == 2 and .dev_changed and (.changes | length) == 3' \
		<<<"$out" >/dev/null || { show; return 1; }
	# nothing changed
	A "$M" -j dev show | "$JQ" -e '.dev == null' >/dev/null &&
	[ "$(A "$M" -j rule list | "$JQ" length)" = 0 ] &&
	! A "$TC" qdisc show dev "$VETH_A" | grep -q 4d50: &&
	[ ! -s "$LOG" ] || ! logged syncconf
}
ktap_test "syncconf --dry-run: the changes, exit 1, nothing changed" dry_fresh

# Without the module there is nothing to compare with: trouble (2), not
# "something to change" (1), which a validate accepting 0 and 1 (the
# Ansible recipe in operating.rst) would let through.
dry_nomod() {
	mp_noautoload	# or the genl lookup loads it again
	mp_unload || return 1
	run A "$M" syncconf --dry-run "$CONF"
	mp_autoload
	mp_load || return 1
	expect_rc 2 && has "migprio module not loaded" "$err"
}
ktap_test "syncconf --dry-run without the module: exit 2" dry_nomod

applied() {
	run A "$M" syncconf "$CONF"; expect_rc 0 || return 1
	busywait 5000 logged "syncconf $CONF: 2 rules added, 0 renamed, 0 deleted; dev set $VETH_A dscp 10 queue htb rate 100mbit" ||
		{ cat "$LOG"; return 1; }
	run A "$M" syncconf --dry-run "$CONF"; expect_rc 0 && [ -z "$out$err" ] || { show; return 1; }
	run A "$M" -j syncconf --dry-run "$CONF"; expect_rc 0 || return 1
	"$JQ" -e '.changes == [] and .summary == "nothing changed"' <<<"$out" >/dev/null || { show; return 1; }
	run A "$M" syncconf "$CONF"; expect_rc 0 || return 1
	busywait 5000 logged "syncconf $CONF: nothing changed" || { cat "$LOG"; return 1; }
	cat "$LOG"
}
ktap_test "a real run logs one line to syslog; then --dry-run exits 0 and prints nothing" applied

# ------------------------------------------------ a running migration
# tc monitor (qdiscs and classes) and migprio's events listen before
# anything happens: a marker qdisc on a dummy device shows in the first,
# the migration's flow-start event in the second
A "$M" -j monitor >"$OUT/mpmon" 2>&1 &
defer kill $!
A stdbuf -oL "$TC" monitor >"$OUT/tcmon" 2>&1 &
defer kill $!
A "$IP" link add mpmark type dummy
# a qdisc change on the dummy device, then wait until tc monitor shows it:
# the kernel's notifications come in order, so everything before it is in
MARK=0
tc_marker() {
	local n
	n=$(grep -c mpmark "$OUT/tcmon")
	MARK=$((MARK + 1))
	A "$TC" qdisc replace dev mpmark root pfifo limit $((100 + MARK)) &&
	busywait 5000 eval '[ "$(grep -c mpmark "$OUT/tcmon")" -gt '"$n"' ]'
}
busywait 10000 tc_marker || diag "tc monitor shows nothing"

# an iperf3 "migration" on the qemu preset's port, through the shaper
B "$IPERF3" -s -p 49200 >/dev/null 2>&1 &
defer kill $!
wait_listen "$NB" 49200
A "$IPERF3" -c "$ADDR_B" -p 49200 -t 300 >/dev/null 2>&1 &
CLIENT=$!
defer kill $CLIENT

mig_sent() { # bytes through the migration class 4d50:10
	A "$TC" -s class show dev "$VETH_A" | awk '
		/^class htb 4d50:10 / { c = 1; next } /^class / { c = 0 }
		c && $1 == "Sent" { print $2; exit }'
}
leaves() { A "$TC" qdisc show dev "$VETH_A" | awk '{ print $2, $3, $5 }' | sort; }
# the data connection (iperf3's control connection idles, and ends)
flow_port() {
	A "$M" -j flow list |
		"$JQ" -r '[.[] | select(.remote.port == 49200)] | max_by(.tx_bytes) | .local.port // empty'
}
flowing() {
	[ -n "$(flow_port)" ] && [ "$(mig_sent)" -gt 1000000 ] && grep -q flow-start "$OUT/mpmon"
}
busywait 30000 flowing || diag "no migration flow: $(A "$M" flow list)"
PORT=$(flow_port)

tc_events() { grep -F "dev $VETH_A" "$OUT/tcmon"; }
mp_events() { grep -F dev-change "$OUT/mpmon"; }

same() {
	local sent0 leaves0
	sent0=$(mig_sent) leaves0=$(leaves)
	run A "$M" -j syncconf "$CONF"; expect_rc 0 || return 1
	"$JQ" -e '.summary == "nothing changed"' <<<"$out" >/dev/null || { show; return 1; }
	A "$M" syncconf "$CONF" || return 1
	busywait 10000 eval '[ "$(mig_sent)" -gt "$sent0" ]' && tc_marker || return 1
	echo "tc monitor:"; tc_events; echo "migprio monitor:"; mp_events
	[ -z "$(tc_events)" ] && [ -z "$(mp_events)" ] && [ "$(leaves)" = "$leaves0" ] &&
	[ "$(flow_port)" = "$PORT" ]
}
ktap_test "same file during a migration: no qdisc, class or migprio event, the flow goes on" same

dscp() {
	local leaves0
	leaves0=$(leaves)
	conf 18 10
	run A "$M" syncconf --dry-run "$CONF"; expect_rc 1 || return 1
	[ "$out" = "-dev set $VETH_A dscp 10 queue htb rate 100mbit
+dev set $VETH_A dscp 18 queue htb rate 100mbit" ] || { show; return 1; }
	run A "$M" syncconf "$CONF"; expect_rc 0 && [ -z "$err" ] || { show; return 1; }
	busywait 5000 logged "0 deleted; dev $VETH_A: dscp" || { cat "$LOG"; return 1; }
	A "$M" -j dev show | "$JQ" -e '.dev.dscp == 18' >/dev/null || return 1
	busywait 5000 eval '[ -n "$(mp_events)" ]' || { echo "no dev-change event"; return 1; }
	tc_marker || return 1
	echo "tc monitor:"; tc_events
	[ -z "$(tc_events)" ] && [ "$(leaves)" = "$leaves0" ] && [ "$(flow_port)" = "$PORT" ]
}
ktap_test "a DSCP change: the kernel only, no qdisc or class event" dscp

guard() {
	local sent0 leaves0
	sent0=$(mig_sent) leaves0=$(leaves)
	conf 18 20
	A "$M" syncconf "$CONF" || return 1
	busywait 5000 logged "0 deleted; dev $VETH_A: guard" || { cat "$LOG"; return 1; }
	A "$TC" class show dev "$VETH_A"
	A "$TC" class show dev "$VETH_A" | grep -q 'class htb 4d50:20 .* rate 20Mbit' &&
	tc_marker || return 1
	echo "tc monitor:"; tc_events
	echo "sent $sent0 -> $(mig_sent), flow from port $PORT -> $(flow_port)"
	echo "leaves $(echo $leaves0) -> $(echo $(leaves))"
	# classes changed in place: no qdisc replaced or deleted (the leaves
	# keep their handles), counters kept
	! tc_events | grep -q '^deleted' && tc_events | grep -q '^class htb 4d50:20' &&
	[ "$(leaves)" = "$leaves0" ] && [ "$(mig_sent)" -ge "$sent0" ] && [ "$(flow_port)" = "$PORT" ]
}
ktap_test "a guard change: the htb classes change in place, leaves and counters stay" guard

SYSCTL=/proc/sys/net/ipv4/ip_local_reserved_ports
reserved() { A cat $SYSCTL; }
RECORD=/run/migprio/$(A stat -L -c %i /proc/self/ns/net)-reserved-ports
reserve() {
	local n0
	A sh -c "echo 1000 >$SYSCTL" || return 1
	conf 18 20 reserve-ports
	run A "$M" syncconf --dry-run "$CONF"; expect_rc 1 || return 1
	[ "$out" = "-rule add port 49152-49215 name qemu
+rule add port 49152-49215 name qemu reserve-ports
-net.ipv4.ip_local_reserved_ports = 1000
+net.ipv4.ip_local_reserved_ports = 1000,49152-49215" ] || { show; return 1; }
	run A "$M" -j syncconf --dry-run "$CONF"; expect_rc 1 || return 1
	"$JQ" -e '.reserved_changed and (.dev_changed | not) and .added == 0' <<<"$out" >/dev/null || { show; return 1; }
	# a dry run wrote neither the sysctl nor the record
	[ "$(reserved)" = 1000 ] && [ ! -e "$RECORD" ] || { echo "sysctl $(reserved)"; cat "$RECORD"; return 1; }
	n0=$(tc_events | wc -l)
	run A "$M" syncconf "$CONF"; expect_rc 0 || return 1
	busywait 5000 logged "syncconf $CONF: 0 rules added, 0 renamed, 0 deleted; reserved ports +49152-49215" ||
		{ cat "$LOG"; return 1; }
	[ "$(reserved)" = 1000,49152-49215 ] && grep -qx 'added 49152-49215' "$RECORD" || return 1
	run A "$M" syncconf --dry-run "$CONF"; expect_rc 0 && [ -z "$out" ] || { show; return 1; }
	tc_marker || return 1
	echo "tc monitor since: $(tc_events | tail -n +$((n0 + 1)))"
	[ "$(tc_events | wc -l)" = "$n0" ] && [ "$(flow_port)" = "$PORT" ]
}
ktap_test "reserve-ports: --dry-run shows the rule and the sysctl and makes neither; the run reserves, the layout untouched" reserve

# The layout is gone from where the walk puts it (its root qdisc deleted
# by hand): a file that changes only the DSCP places it again, as the
# dry run says; keeping the queue as it runs would keep nothing.
placed_again() {
	A "$TC" qdisc del dev "$VETH_A" root || return 1
	conf 26 20 reserve-ports
	run A "$M" syncconf --dry-run "$CONF"; expect_rc 1 || return 1
	[ "$out" = "# $VETH_A: placed again: the queue on $VETH_A is replaced
-dev set $VETH_A dscp 18 queue htb rate 100mbit guard 20
+dev set $VETH_A dscp 26 queue htb rate 100mbit guard 20" ] || { show; return 1; }
	! A "$TC" qdisc show dev "$VETH_A" | grep -q 4d50: || return 1
	run A "$M" syncconf "$CONF"; expect_rc 0 || return 1
	busywait 5000 logged "0 deleted; dev $VETH_A: dscp, placed again: the queue on $VETH_A is replaced" ||
		{ cat "$LOG"; return 1; }
	A "$TC" qdisc show dev "$VETH_A" | grep -q '^qdisc htb 4d50: root' &&
	A "$M" -j dev show | "$JQ" -e '.dev.dscp == 26' >/dev/null &&
	busywait 10000 eval '[ "$(mig_sent)" -gt 0 ]'
}
ktap_test "a layout no longer in place is placed again, also when only the DSCP changes" placed_again
kill $CLIENT 2>/dev/null

# ------------------------------------------------------ rings on eth0
if ! "$IP" link show eth0 >/dev/null 2>&1 || ! "$ETHTOOL" -G eth0 rx 256 2>/dev/null; then
	for t in "rings max: resized with a warning" "a DSCP change leaves the rings alone (no ring event)" \
		 "a rings change: --dry-run warns, the run warns and resizes"; do
		ktap_skip "$t" "no resizable eth0"
	done
else
	defer "$M" dev clear
	busywait 10000 eval '[ "$(ring_rx current)" = 256 ]'
	MAX=$(ring_rx max)
	# (ethtool writes its notifications through stdio: line-buffered)
	stdbuf -oL "$ETHTOOL" --monitor >"$OUT/ethmon" 2>&1 &
	defer kill $!
	"$IP" link add mpmark0 type dummy
	defer "$IP" link del mpmark0
	TX=off FROM=0
	since() { tail -c +$((FROM + 1)) "$OUT/ethmon"; }	# what came after FROM
	emarker() { # a features notification of a dummy device
		TX=$([ $TX = on ] && echo off || echo on)
		"$ETHTOOL" -K mpmark0 tx $TX >/dev/null 2>&1
		busywait 2000 eval 'since | grep -q "Features for mpmark0"'
	}
	busywait 10000 emarker || diag "ethtool --monitor shows nothing"
	ring_events() { since | grep -A4 '^Ring parameters for eth0'; }
	econf() { printf 'dev set eth0 queue prio dscp %s rings %s\nrule add preset qemu\n' "$1" "$2" >"$OUT/eth0.conf"; }

	econf 10 max
	rings_max() {
		run "$M" syncconf "$OUT/eth0.conf"; expect_rc 0 || return 1
		has "eth0: ring sizes rx 256" "$err" && has "reset the NIC" "$err" || return 1
		busywait 5000 eval '[ -n "$(ring_events)" ]' || { echo "no ring event"; cat "$OUT/ethmon"; return 1; }
		[ "$MAX" -gt 256 ] && [ "$(ring_rx current)" = "$MAX" ]
	}
	ktap_test "rings max: resized with a warning" rings_max

	rings_dscp() {
		FROM=$(stat -c %s "$OUT/ethmon")
		econf 18 max
		run "$M" syncconf "$OUT/eth0.conf"; expect_rc 0 && [ -z "$err" ] || { show; return 1; }
		"$M" -j dev show | "$JQ" -e '.dev.dscp == 18' >/dev/null || return 1
		# everything before the marker has been written out
		emarker || return 1
		since
		[ -z "$(ring_events)" ] && [ "$(ring_rx current)" = "$MAX" ]
	}
	ktap_test "a DSCP change leaves the rings alone (no ring event)" rings_dscp

	rings_change() {
		econf 18 512
		run "$M" syncconf --dry-run "$OUT/eth0.conf"; expect_rc 1 &&
			has "the ring sizes change: many drivers" "$err" || return 1
		[ "$(ring_rx current)" = "$MAX" ] || return 1
		FROM=$(stat -c %s "$OUT/ethmon")
		run "$M" syncconf "$OUT/eth0.conf"; expect_rc 0 || return 1
		has "eth0: ring sizes rx $MAX" "$err" && has "-> rx 512" "$err" || return 1
		busywait 5000 eval '[ -n "$(ring_events)" ]' || return 1
		[ "$(ring_rx current)" = 512 ] || return 1
		# dev clear puts the sizes found first back, with the warning
		run "$M" dev clear; expect_rc 0 && has "-> rx 256" "$err" && [ "$(ring_rx current)" = 256 ]
	}
	ktap_test "a rings change: --dry-run warns, the run warns and resizes" rings_change
	"$ETHTOOL" -G eth0 rx "$MAX" 2>/dev/null
fi

ktap_finish
