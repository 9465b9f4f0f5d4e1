#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# migprioctl's iproute2 habits (issue 19, item 8): -n NETNS works like
# `ip -n` (a name of ip netns, or a namespace path), show/list and
# del/delete are synonyms, rule del takes the match of a rule as well as
# its id, and keywords are never abbreviated in a file (apply, syncconf)
# while the command line keeps its abbreviations (the newer words uplink,
# per-slave and reserve-ports included). syncconf --follow under -n
# follows that namespace's devices, with its lock and records.
# Oracles: rule list -j and dev show -j run through `ip netns exec`, tc
# qdisc show, the state file's name (the namespace's inode).
source "$(dirname "$0")/lib.sh"

tool_setup 8
A() { "$IP" netns exec "$NA" "$@"; }
rules() { A "$M" -j rule list | "$JQ" -c '[.[] | [.name, .proto, .port, .peer]]'; }


# ------------------------------------------------------------- -n NETNS
netns_name() {
	local ino
	run "$M" -n "$NA" dev set "$VETH_A" queue prio; expect_rc 0 || return 1
	run "$M" -n "$NA" rule add port 7000 name seven; expect_rc 0 || return 1
	# what ip netns exec sees, not what -n reports
	A "$M" -j dev show | "$JQ" -e --arg d "$VETH_A" '.dev.ifname == $d' >/dev/null &&
	A "$TC" qdisc show dev "$VETH_A" | grep -q '^qdisc prio 4d50: root' &&
	[ "$(rules)" = '[["seven","tcp",{"min":7000,"max":7000},null]]' ] || return 1
	# nothing in the namespace migprioctl was started in
	"$M" -j dev show | "$JQ" -e '.dev == null' >/dev/null &&
	[ "$("$M" -j rule list | "$JQ" length)" = 0 ] || return 1
	# the state file is the namespace's (its inode names it)
	ino=$(A stat -L -c %i /proc/self/ns/net)
	ls /run/migprio
	ls /run/migprio/"$ino"-* >/dev/null
}
ktap_test "-n NAME works in that namespace, like ip -n (dev, rules, state file)" netns_name

netns_path() {
	local pid
	"$IP" netns exec "$NA" sleep 600 >/dev/null 2>&1 &
	pid=$!
	defer kill "$pid"
	busywait 5000 eval '[ "$(stat -L -c %i /proc/'"$pid"'/ns/net)" != "$(stat -L -c %i /proc/self/ns/net)" ]' ||
		return 1
	run "$M" -n "/proc/$pid/ns/net" -j rule list; expect_rc 0 || return 1
	"$JQ" -e 'length == 1 and .[0].name == "seven"' <<<"$out" >/dev/null || { show; return 1; }
	run "$M" --netns "/proc/$pid/ns/net" dev clear; expect_rc 0 || return 1
	! A "$TC" qdisc show dev "$VETH_A" | grep -q 4d50: &&
	A "$M" -j dev show | "$JQ" -e '.dev == null' >/dev/null || return 1
	run "$M" -n no-such-netns rule list; expect_rc 1 &&
		has 'cannot open network namespace "no-such-netns"' "$err" || return 1
	run "$M" -n .. rule list; expect_rc 1 && has 'invalid network namespace name' "$err"
}
ktap_test "-n PATH (/proc/PID/ns/net), --netns; a missing namespace: exit 1" netns_path

# ------------------------------------------------------------ synonyms
synonyms() {
	A "$M" dev set "$VETH_A" queue prio || return 1
	[ "$(A "$M" -j dev list)" = "$(A "$M" -j dev show)" ] &&
	[ "$(A "$M" rule show)" = "$(A "$M" rule list)" ] &&
	[ "$(A "$M" -j flow show)" = "$(A "$M" -j flow list)" ] || return 1
	id=$(A "$M" -j rule add port 7001 | "$JQ" .id)
	run A "$M" rule delete "$id"; expect_rc 0 || return 1
	id=$(A "$M" -j rule add port 7001 | "$JQ" .id)
	# "de" abbreviates del and delete, one command: not ambiguous
	run A "$M" rule de "$id"; expect_rc 0 || return 1
	[ "$(rules)" = '[["seven","tcp",{"min":7000,"max":7000},null]]' ] || { rules; return 1; }
	run A "$M" rule d; expect_rc 2 && has "rule del needs a rule id or the match" "$err" || return 1
	# set and show share "s": ambiguous
	run A "$M" dev s; expect_rc 2 && has 'ambiguous dev command "s"' "$err"
}
ktap_test "show/list and del/delete are synonyms; their prefixes name one command" synonyms

# ---------------------------------------------------------- rule del MATCH
del_match() {
	A "$M" rule flush
	A "$M" rule add preset qemu name libvirt >/dev/null &&
	A "$M" rule add port 7000 peer 10.99.0.0/24 name p7000 >/dev/null &&
	A "$M" rule add proto udp rport 9000-9010 >/dev/null &&
	A "$M" rule add port 7000 >/dev/null || return 1
	local before
	before=$(rules)
	# a match that is not a rule's: exit 1, nothing deleted
	run A "$M" rule del port 7000 peer 10.99.0.0/16; expect_rc 1 &&
		has 'no rule matches "port 7000 peer 10.99.0.0/16"' "$err" || return 1
	# the right match under another name: exit 1
	run A "$M" rule del port 7000 peer 10.99.0.0/24 name other; expect_rc 1 &&
		has "is not named other" "$err" || return 1
	[ "$(rules)" = "$before" ] || { echo "changed: $(rules)"; return 1; }
	# port 7000 alone is its own rule, not the one with a peer
	run A "$M" rule del port 7000; expect_rc 0 || return 1
	run A "$M" rule del port 7000 peer 10.99.0.0/24 name p7000; expect_rc 0 || return 1
	# a preset is its ports, whatever the rule's name
	run A "$M" rule delete preset qemu; expect_rc 0 || return 1
	[ "$(rules)" = '[[null,"udp",null,null]]' ] || { rules; return 1; }
	printf 'rule del proto udp rport 9000-9010\nrule add port 7002\n' >"$OUT/del.conf"
	run A "$M" apply "$OUT/del.conf"; expect_rc 0 || return 1
	[ "$(rules)" = '[[null,"tcp",{"min":7002,"max":7002},null]]' ] || { rules; return 1; }
}
ktap_test "rule del MATCH deletes the rule with that match (name checked when given)" del_match

# --------------------------------------------- no abbreviations in files
abbrev_cmdline() {
	A "$M" rule flush
	run A "$M" r a pro udp po 5000 na abbr; expect_rc 0 || return 1
	run A "$M" d se "$VETH_A" q h ra 50mbit; expect_rc 0 || return 1
	A "$M" -j dev show | "$JQ" -e '.dev.queue == "htb"' >/dev/null &&
	[ "$(rules)" = '[["abbr","udp",{"min":5000,"max":5000},null]]' ]
}
ktap_test "the command line takes abbreviations (r a pro udp po ..., d se ... q h)" abbrev_cmdline

abbrev_files() {
	local before
	before=$(rules; A "$M" showconf)
	cat >"$OUT/abbrev.conf" <<-EOF
	rule add port 5001
	rule add proto udp po 5002
	r add port 5003
	rule a port 5004
	dev set $VETH_A queue h rate 10mbit
	dev set $VETH_A q prio
	dev set $VETH_A queue prio per
	dev set $VETH_A queue prio upl lo
	EOF
	run A "$M" apply "$OUT/abbrev.conf"; expect_rc 2 || return 1
	has "$OUT/abbrev.conf:2: rule argument \"po\" is abbreviated: a file spells keywords out (\"port\")" "$err" &&
	has "$OUT/abbrev.conf:3: object \"r\" is abbreviated" "$err" &&
	has "$OUT/abbrev.conf:4: rule command \"a\" is abbreviated" "$err" &&
	has "$OUT/abbrev.conf:5: queue \"h\" is abbreviated" "$err" &&
	has "$OUT/abbrev.conf:6: dev set argument \"q\" is abbreviated" "$err" &&
	has "$OUT/abbrev.conf:7: dev set argument \"per\" is abbreviated: a file spells keywords out (\"per-slave\")" "$err" &&
	has "$OUT/abbrev.conf:8: dev set argument \"upl\" is abbreviated: a file spells keywords out (\"uplink\")" "$err" &&
	has "7 bad lines in $OUT/abbrev.conf, nothing applied" "$err" || return 1
	printf 'dev set %s queue prio\nrule add prot udp port 5005\nrule add port 5006 reserve\n' "$VETH_A" >"$OUT/abbrev2.conf"
	run A "$M" syncconf "$OUT/abbrev2.conf"; expect_rc 2 &&
		has "$OUT/abbrev2.conf:2: rule argument \"prot\" is abbreviated" "$err" &&
		has "$OUT/abbrev2.conf:3: rule argument \"reserve\" is abbreviated: a file spells keywords out (\"reserve-ports\")" "$err" ||
		return 1
	[ "$(rules; A "$M" showconf)" = "$before" ] || { echo "state changed"; return 1; }
	# spelled out, the same lines work
	printf 'dev set %s queue prio\nrule add proto udp port 5005\n' "$VETH_A" >"$OUT/full.conf"
	run A "$M" syncconf "$OUT/full.conf"; expect_rc 0 || return 1
	[ "$(rules)" = '[[null,"udp",{"min":5005,"max":5005},null]]' ]
}
ktap_test "files spell keywords out: an abbreviation is a bad line (exit 2), nothing applied" abbrev_files

# The unit's follower in another namespace: -n NETNS syncconf --follow.
# It designates there, and when the device is deleted and created again
# there it designates it again; its lock and records are named after
# that namespace's inode, and nothing happens in this one.
netns_follow() {
	local ino pid rc=0
	ino=$(A stat -L -c %i /proc/self/ns/net)
	mkdummy() { "$IP" -n "$NA" link add mpcli0 type dummy && "$IP" -n "$NA" link set mpcli0 up; }
	ours() { A "$TC" qdisc show dev mpcli0 2>/dev/null | grep -q '^qdisc prio 4d50: root'; }
	mkdummy || return 1
	rm -f /run/migprio/lock
	printf 'dev set mpcli0 queue prio\nrule add port 7003 name cli\n' >"$OUT/follow.conf"
	"$M" -n "$NA" syncconf --follow "$OUT/follow.conf" >"$OUT/follow.log" 2>&1 &
	pid=$!
	defer kill "$pid"
	busywait 10000 grep -q "^start: synced $OUT/follow.conf" "$OUT/follow.log" && ours ||
		{ cat "$OUT/follow.log"; return 1; }
	"$IP" -n "$NA" link del mpcli0 && mkdummy || return 1
	busywait 10000 eval 'ours && grep -q "mpcli0 exists: designated again" "$OUT/follow.log"' ||
		{ cat "$OUT/follow.log"; return 1; }
	A "$M" -j dev show | "$JQ" -e '.dev.ifname == "mpcli0"' >/dev/null &&
	[ "$(rules)" = '[["cli","tcp",{"min":7003,"max":7003},null]]' ] || return 1
	"$M" -j dev show | "$JQ" -e '.dev == null' >/dev/null || return 1
	ls -l /run/migprio
	[ -e "/run/migprio/$ino.lock" ] && [ -e "/run/migprio/$ino-$(A cat /sys/class/net/mpcli0/ifindex)" ] &&
	[ ! -e /run/migprio/lock ] || return 1
	kill "$pid"
	wait "$pid" || rc=$?
	cat "$OUT/follow.log"
	[ "$rc" = 0 ] && ours
}
ktap_test "-n NETNS syncconf --follow follows that namespace's devices, with its lock and records" netns_follow

help_synonyms() {
	run "$M" rule help; expect_rc 0 || return 1
	has "rule del | delete MATCH" "$out" && has "rule list | show" "$out" || return 1
	run "$M" --help; expect_rc 0 && has "-n, --netns NETNS" "$out"
}
ktap_test "help names the synonyms and -n" help_synonyms

ktap_finish
