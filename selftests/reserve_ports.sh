#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Issue 22, item 2: the migration ports in net.ipv4.ip_local_reserved_ports,
# only when the configuration asks (the word reserve-ports on a rule line
# of a syncconf file), and taken out again when it no longer does: only
# the ports migprioctl added, never one that was reserved before or that
# an administrator reserved since. Bad input changes nothing; a syncconf
# that fails half-way puts the sysctl back. Oracles: the sysctl itself
# (/proc/sys, per netns), a connection's local port read with ss (the
# kernel skips reserved ports), the record under /run/migprio, showconf.
source "$(dirname "$0")/lib.sh"

tool_setup 8
A() { "$IP" netns exec "$NA" "$@"; }
SYSCTL=/proc/sys/net/ipv4/ip_local_reserved_ports
reserved() { A cat $SYSCTL; }
record() { cat /run/migprio/"$(A stat -L -c %i /proc/self/ns/net)"-reserved-ports 2>/dev/null; }
ids() { A "$M" -j rule list | "$JQ" -c '[.[] | [.id, .name, .reserve_ports]]'; }
# syncconf FILE: migprioctl syncconf, its JSON answer in $OUT/sync.json; exit status
syncconf() { A "$M" -j syncconf "$1" >"$OUT/sync.json"; }
changed() { "$JQ" -e '.reserved_changed' "$OUT/sync.json" >/dev/null; }

# an administrator's own reservation, there before migprio
A sh -c "echo 1000 >$SYSCTL" || ktap_skip_all "cannot write $SYSCTL"

conf() { # WORD_QEMU WORD_PROXMOX: a file, reserve-ports on the lines asked
	printf 'dev set %s queue none\nrule add preset qemu %s\nrule add preset proxmox %s\nrule add rport 5201 name bulk\n' \
		"$VETH_A" "$1" "$2" >"$OUT/conf"
}

not_asked() {
	conf "" ""
	syncconf "$OUT/conf" || return 1
	echo "sysctl: $(reserved); record: $(record)"
	[ "$(reserved)" = 1000 ] && [ -z "$(record)" ] && ! changed
}
ktap_test "no line asks: the sysctl is left alone, nothing recorded" not_asked

asked() {
	conf reserve-ports ""
	syncconf "$OUT/conf" || return 1
	echo "sysctl: $(reserved); record: $(record | tr '\n' ';')"
	[ "$(reserved)" = 1000,49152-49215 ] && changed &&
		record | grep -qx 'before 1000' &&
		record | grep -qx 'added 49152-49215' &&
		record | grep -qx 'rule rule add port 49152-49215'
}
ktap_test "reserve-ports on the qemu line: 49152-49215 reserved, the previous value recorded" asked

# The kernel gives a connecting socket no reserved port: with the
# ephemeral range narrowed to 49150-49216, a connection gets 49150, 49151
# or 49216.
effect() {
	local port
	A sh -c 'echo 49150 49216 >/proc/sys/net/ipv4/ip_local_port_range' || return 1
	"$IP" netns exec "$NB" "$IPERF3" -s -1 -p 5201 >/dev/null 2>&1 &
	wait_listen "$NB" 5201 || return 1
	A "$IPERF3" -c "$ADDR_B" -p 5201 -t 3 -b 1M >/dev/null 2>&1 &
	busywait 5000 eval '[ -n "$(A "$SS" -tnH state established "( dport = :5201 )")" ]'
	port=$(A "$SS" -tnH state established "( dport = :5201 )" |
		awk '{ n = split($3, a, ":"); print a[n] }')
	wait
	echo "local ports of the connections:" $port
	[ -n "$port" ] && ! echo "$port" | grep -qvxE '49150|49151|49216'
}
ktap_test "a connection this host opens gets no reserved port" effect

showconf() {
	local show
	show=$(A "$M" showconf) || return 1
	echo "$show"
	echo "$show" | grep -qx 'rule add port 49152-49215 name qemu reserve-ports' &&
		echo "$show" | grep -qx 'rule add port 60000-60050 name proxmox' &&
		[ "$(ids)" = '[[1,"qemu",true],[2,"proxmox",false],[3,"bulk",false]]' ] &&
		echo "$show" >"$OUT/show" && syncconf "$OUT/show" && ! changed &&
		[ "$(reserved)" = 1000,49152-49215 ]
}
ktap_test "showconf and rule list show it; syncconf of showconf changes nothing" showconf

# What an administrator reserved meanwhile is not migprioctl's: it stays.
both_then_none() {
	A sh -c "echo 1000,49152-49215,60000 >$SYSCTL" || return 1
	conf reserve-ports reserve-ports
	syncconf "$OUT/conf" || return 1
	echo "both: $(reserved); $(record | grep added)"
	[ "$(reserved)" = 1000,49152-49215,60000-60050 ] &&
		record | grep -qx 'added 49152-49215,60001-60050' || return 1
	conf "" reserve-ports
	syncconf "$OUT/conf" || return 1
	echo "proxmox only: $(reserved); $(record | grep added)"
	[ "$(reserved)" = 1000,60000-60050 ] || return 1
	conf "" ""
	syncconf "$OUT/conf" || return 1
	echo "none: $(reserved); record: $(record)"
	[ "$(reserved)" = 1000,60000 ] && [ -z "$(record)" ] && changed &&
		[ "$(ids)" = '[[1,"qemu",false],[2,"proxmox",false],[3,"bulk",false]]' ]
}
ktap_test "words added and removed: only the ports migprioctl added come and go" both_then_none

bad() {
	local rc before show
	before=$(ids)
	show=$(A "$M" showconf)
	A sh -c "echo 1000 >$SYSCTL"
	for line in 'rule add rport 5201 reserve-ports' \
		    'rule add peer 10.0.0.0/8 reserve-ports' \
		    'rule add preset qemu reserve-ports reserve-ports'; do
		printf 'dev set %s queue none\n%s\n' "$VETH_A" "$line" >"$OUT/bad"
		rc=0; A "$M" syncconf "$OUT/bad" 2>"$OUT/err" || rc=$?
		echo "syncconf \"$line\": exit $rc, $(cat "$OUT/err")"
		[ $rc = 2 ] || return 1
	done
	rc=0; A "$M" rule add preset nbd reserve-ports 2>"$OUT/err" || rc=$?
	echo "rule add ... reserve-ports: exit $rc, $(cat "$OUT/err")"
	[ $rc = 2 ] && grep -q 'configuration file' "$OUT/err" || return 1
	echo 'rule add preset nbd reserve-ports' >"$OUT/apply"
	rc=0; A "$M" apply "$OUT/apply" 2>"$OUT/err" || rc=$?
	echo "apply: exit $rc, $(cat "$OUT/err")"
	[ $rc = 2 ] && [ "$(ids)" = "$before" ] && [ "$(A "$M" showconf)" = "$show" ] &&
		[ "$(reserved)" = 1000 ] && [ -z "$(record)" ]
}
ktap_test "bad input (no port range, twice, on the command line, in apply): exit 2, nothing changed" bad

# The dev set step fails (a foreign root qdisc): the rules added and the
# ports reserved are taken back.
refused() {
	local rc=0 before
	before=$(ids)
	"$IP" -n "$NA" link add mpres0 type veth peer name mpres1 || return 1
	A "$TC" qdisc add dev mpres0 root handle 1: tbf rate 1mbit burst 10k latency 10ms || return 1
	printf 'dev set mpres0\nrule add preset qemu reserve-ports\nrule add port 4444 reserve-ports\n' >"$OUT/refused"
	A "$M" syncconf "$OUT/refused" || rc=$?
	"$IP" -n "$NA" link del mpres0
	echo "exit $rc; sysctl $(reserved); record: $(record)"
	[ $rc = 1 ] && [ "$(ids)" = "$before" ] && [ "$(reserved)" = 1000 ] &&
		[ -z "$(record)" ]
}
ktap_test "a syncconf that fails half-way puts the sysctl back" refused

# An empty list is written as such: the last migration port goes.
last() {
	A sh -c "echo >$SYSCTL" || return 1
	conf reserve-ports ""
	syncconf "$OUT/conf" && [ "$(reserved)" = 49152-49215 ] || return 1
	conf "" ""
	syncconf "$OUT/conf" || return 1
	echo "sysctl \"$(reserved)\"; record: $(record)"
	[ -z "$(reserved)" ] && [ -z "$(record)" ]
}
ktap_test "taking out the last ports leaves the sysctl empty" last

ktap_finish
