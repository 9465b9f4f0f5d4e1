#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=600
#
# The configuration file survives: showconf prints the running
# configuration as a file syncconf takes back unchanged; syncconf makes the
# running configuration equal to a file (only what differs changes, a
# second run changes nothing, a bad file changes nothing), waits for an
# interface that does not exist yet, and after a module reload (rmmod,
# modprobe, then the unit's ExecStart line) adopts its own 4d50: qdisc and
# still knows the ring sizes to restore.
# Oracles: rule ids and counters (rule list -j), monitor events, tc qdisc
# show, ethtool -g.
source "$(dirname "$0")/lib.sh"

mp_require
[ -x "$MIGPRIOCTL" ] || ktap_skip_all "migprioctl not in the VM image"
ktap_plan 13

M=$MIGPRIOCTL
OUT=$(mktemp -d)
defer rm -rf "$OUT"
CONF=$OUT/migprio.conf
rm -rf /run/migprio

mp_load || ktap_skip_all "cannot load migprio"
defer mp_unload
setup_ns NA NB
veth_pair "$NA" "$NB"
A() { "$IP" netns exec "$NA" "$@"; }

# The unit's ExecStart= line, with the file under $OUT.
exec_start() { A "$M" syncconf "$CONF"; }
ids() { A "$M" -j rule list | "$JQ" -c '[.[] | [.id, .name]]'; }
qdisc_root() { A "$TC" qdisc show dev "$VETH_A" | awk '/ root /{print $2, $3; exit}'; }

cat >"$CONF" <<CONF_EOF
# migprio.conf for the test
dev set $VETH_A queue htb rate 100mbit guard 20 dscp 10 sndbuf 16M
rule add preset qemu
rule add preset ssh peer 10.99.0.0/24
rule add proto udp rport 9000-9010 name "udp#1"
rule add lport 7000 peer fd00:99::2 name v6
CONF_EOF

# ------------------------------------------------------------ syncconf
first() {
	exec_start || return 1
	A "$M" showconf | tee "$OUT/show1"
	A "$TC" qdisc show dev "$VETH_A"
	[ "$(qdisc_root)" = "htb 4d50:" ] || return 1
	[ "$(A "$M" -j rule list | "$JQ" length)" = 4 ] || return 1
	grep -qx "dev set $VETH_A sndbuf 16M dscp 10 queue htb rate 100mbit guard 20" "$OUT/show1" &&
	grep -qx 'rule add port 49152-49215 name qemu' "$OUT/show1" &&
	grep -qx 'rule add port 22 peer 10.99.0.0/24 name ssh' "$OUT/show1" &&
	grep -qx 'rule add proto udp rport 9000-9010 name "udp#1"' "$OUT/show1" &&
	grep -qx 'rule add lport 7000 peer fd00:99::2/128 name v6' "$OUT/show1" &&
	A "$M" -j showconf | "$JQ" -e --arg d "$(grep '^dev' "$OUT/show1")" \
		'length == 5 and .[0] == $d' >/dev/null
}
ktap_test "syncconf installs the file; showconf prints it back" first

# A second run, and syncconf of showconf's output: no rule replaced, no
# event, nothing reported changed.
idempotent() {
	local before mon n0
	before=$(ids)
	"$IP" netns exec "$NA" "$M" -j monitor >"$OUT/mon" 2>&1 &
	mon=$!
	# dev set events as markers: the monitor listens once it prints one
	marker() { A "$M" dev set "$VETH_A" queue htb rate 100mbit guard 20 dscp 10 sndbuf 16M; }
	busywait 10000 eval 'marker && grep -q . "$OUT/mon"' || return 1
	n0=$(wc -l <"$OUT/mon")
	A "$M" -j syncconf "$CONF" | tee "$OUT/sync2" || return 1
	A "$M" showconf >"$OUT/show2"
	A "$M" -j syncconf "$OUT/show2" | tee -a "$OUT/sync2" || return 1
	marker || return 1
	busywait 5000 eval '[ "$(wc -l <"$OUT/mon")" -gt "$n0" ]'
	kill -TERM $mon; wait $mon
	echo "monitor:"; cat "$OUT/mon"
	[ "$(wc -l <"$OUT/mon")" = $((n0 + 1)) ] || return 1
	[ "$(ids)" = "$before" ] || { echo "ids $before -> $(ids)"; return 1; }
	[ "$("$JQ" -s -c 'map([.added, .renamed, .deleted, .dev_changed])' "$OUT/sync2")" = \
	  '[[0,0,0,false],[0,0,0,false]]' ] || return 1
	diff "$OUT/show1" "$OUT/show2"
}
ktap_test "a second syncconf and syncconf of showconf change nothing" idempotent

# Only what differs changes: kept rules keep their ids (and counters).
differs() {
	local before after
	before=$(ids)
	sed -e '/preset ssh/d' -e 's/name v6/name v6b/' -e 's/guard 20/guard 30/' \
		"$CONF" >"$OUT/c2"
	echo 'rule add rport 5201' >>"$OUT/c2"
	A "$M" -j syncconf "$OUT/c2" || return 1
	after=$(ids)
	echo "before $before"; echo "after  $after"
	A "$M" showconf
	"$JQ" -e -n --argjson b "$before" --argjson a "$after" '
		($b | map(select(.[1] == "qemu" or .[1] == "udp#1"))) as $kept |
		($kept | length) == 2 and ($kept - $a | length) == 0 and
		($a | length) == 4 and
		($a | map(.[1]) | sort) == (["qemu", "udp#1", "v6b", null] | sort)' >/dev/null &&
	A "$M" showconf | grep -qx "dev set $VETH_A sndbuf 16M dscp 10 queue htb rate 100mbit guard 30" &&
	A "$TC" class show dev "$VETH_A" | grep -q 'class htb 4d50:20 .* rate 30Mbit'
}
ktap_test "syncconf changes only what differs (kept rules keep their ids)" differs
A "$M" syncconf "$CONF" >/dev/null

# A bad file: every line checked first, nothing applied.
bad() {
	local before show rc=0
	before=$(ids)
	show=$(A "$M" showconf)
	printf 'rule add port 1\ndev set %s queue htb rate 1mbit\nrule add port 70000\n' \
		"$VETH_A" >"$OUT/bad"
	A "$M" syncconf "$OUT/bad" || rc=$?
	echo "exit $rc"
	[ "$rc" = 2 ] || return 1
	printf 'rule add port 1\nrule del 3\n' >"$OUT/bad2"
	rc=0; A "$M" syncconf "$OUT/bad2" || rc=$?
	[ "$rc" = 2 ] || return 1
	printf 'dev set %s\ndev set %s\n' "$VETH_A" "$VETH_A" >"$OUT/bad3"
	rc=0; A "$M" syncconf "$OUT/bad3" || rc=$?
	[ "$rc" = 2 ] || return 1
	printf 'rule add port 1\nrule add port 1 name x\n' >"$OUT/bad4"
	rc=0; A "$M" syncconf "$OUT/bad4" || rc=$?
	[ "$rc" = 1 ] || return 1
	[ "$(ids)" = "$before" ] && [ "$(A "$M" showconf)" = "$show" ]
}
ktap_test "a bad file changes nothing (exit 2; duplicate match exit 1)" bad

# A kernel refusal half-way (the dev set fails: a foreign root qdisc on
# the interface) takes back the rules it added.
refused() {
	local before show rc=0
	before=$(ids)
	show=$(A "$M" showconf)
	"$IP" -n "$NA" link add mpconf0 type dummy 2>/dev/null ||
		"$IP" -n "$NA" link add mpconf0 type veth peer name mpconf1 || return 1
	A "$TC" qdisc add dev mpconf0 root handle 1: tbf rate 1mbit burst 10k latency 10ms || return 1
	{ echo "dev set mpconf0"; echo "rule add port 4444"; grep '^rule' "$CONF"; } >"$OUT/refused"
	A "$M" syncconf "$OUT/refused" || rc=$?
	echo "exit $rc"
	"$IP" -n "$NA" link del mpconf0
	[ "$rc" = 1 ] && [ "$(ids)" = "$before" ] && [ "$(A "$M" showconf)" = "$show" ]
}
ktap_test "a refused dev set takes back the rules added before it" refused

# ----------------------------------------------------------- --wait
waiting() {
	local rc=0
	sed "s/^dev set $VETH_A/dev set mpwait0/" "$CONF" >"$OUT/wait"
	A "$M" syncconf --wait 0 "$OUT/wait" || rc=$?
	[ "$rc" = 1 ] && A "$M" showconf | grep -q "^dev set $VETH_A " || return 1
	( sleep 2; "$IP" -n "$NA" link add mpwait0 type veth peer name mpwait1 &&
	  "$IP" -n "$NA" link set mpwait0 up ) &
	A "$M" syncconf --wait 120 "$OUT/wait" || return 1
	wait
	A "$M" -j dev show | "$JQ" -e '.dev.ifname == "mpwait0"' >/dev/null &&
	[ "$(A "$TC" qdisc show dev mpwait0 | awk '/ root /{print $2, $3}')" = "htb 4d50:" ] &&
	[ -z "$(qdisc_root | grep 4d50)" ]
}
ktap_test "syncconf --wait designates an interface created 2 s later" waiting
A "$M" syncconf "$CONF" >/dev/null
"$IP" -n "$NA" link del mpwait0 2>/dev/null

# ------------------------------------------------------ module reload
reload() {
	A "$M" showconf >"$OUT/before" || return 1
	mp_unload || return 1
	[ "$(qdisc_root)" = "htb 4d50:" ] || return 1	# left behind
	mp_load || return 1
	[ -z "$(A "$M" -j rule list | "$JQ" '.[]')" ] || return 1
	exec_start || return 1
	A "$M" showconf >"$OUT/after"
	# the same lines; rule ids (the order of the rule lines) are new
	sort "$OUT/before" >"$OUT/before.s"
	sort "$OUT/after" >"$OUT/after.s"
	cat "$OUT/after"
	diff "$OUT/before.s" "$OUT/after.s" && [ "$(qdisc_root)" = "htb 4d50:" ]
}
ktap_test "reload: the unit's ExecStart adopts the 4d50: qdisc, showconf equal" reload

# Not our layout under our handle: refused without force.
foreign() {
	local rc=0
	mp_unload && mp_load || return 1
	A "$TC" qdisc del dev "$VETH_A" root
	A "$TC" qdisc add dev "$VETH_A" root handle 4d50: tbf rate 1mbit burst 10k latency 10ms ||
		return 1
	A "$M" syncconf "$CONF" 2>"$OUT/err" || rc=$?
	cat "$OUT/err"
	[ "$rc" = 1 ] && grep -q "did not install" "$OUT/err" &&
	[ "$(qdisc_root)" = "tbf 4d50:" ] && [ -z "$(A "$M" -j rule list | "$JQ" '.[]')" ] || return 1
	A "$TC" qdisc del dev "$VETH_A" root
	exec_start
}
ktap_test "reload: a foreign qdisc with handle 4d50: is not adopted" foreign

# After a reload the file names another interface: the forgotten one's
# qdisc goes too.
moved() {
	mp_unload && mp_load || return 1
	"$IP" -n "$NA" link add mpconf2 type veth peer name mpconf3 &&
	"$IP" -n "$NA" link set mpconf2 up || return 1
	sed "s/^dev set $VETH_A/dev set mpconf2/" "$CONF" >"$OUT/moved"
	A "$M" syncconf "$OUT/moved" || return 1
	A "$TC" qdisc show dev "$VETH_A"
	[ "$(A "$TC" qdisc show dev mpconf2 | awk '/ root /{print $2, $3}')" = "htb 4d50:" ] &&
	[ -z "$(qdisc_root | grep 4d50)" ] || return 1
	A "$M" syncconf "$CONF" && "$IP" -n "$NA" link del mpconf2
}
ktap_test "reload: syncconf to another interface removes the forgotten qdisc" moved

# ------------------------------------------------------ rings on eth0
if ! "$IP" link show eth0 >/dev/null 2>&1 || ! "$ETHTOOL" -G eth0 rx 256 2>/dev/null; then
	for t in "rings max on eth0 through syncconf" "reload: syncconf keeps the rings to restore" \
		 "reload: dev clear restores RX 256" "state file removed by dev clear"; do
		ktap_skip "$t" "no resizable eth0"
	done
else
	defer "$MIGPRIOCTL" dev clear
	# the RX ring really is 256 before anything records it
	busywait 10000 eval '[ "$(ring_rx current)" = 256 ]' ||
		diag "eth0 RX still $(ring_rx current) after ethtool -G eth0 rx 256"
	max_rx=$(ring_rx max)
	printf 'dev set eth0 queue prio rings max\nrule add preset qemu\n' >"$OUT/eth0"
	rings_set() {
		"$M" syncconf "$OUT/eth0" || return 1
		"$ETHTOOL" -g eth0
		grep . /run/migprio/*
		grep -qx 'ring_rx_prev 256' /run/migprio/"$(stat -L -c %i /proc/self/ns/net)"-* &&
		[ "$max_rx" -gt 256 ] && [ "$(ring_rx current)" = "$max_rx" ]
	}
	ktap_test "rings max on eth0 through syncconf" rings_set
	rings_reload() {
		"$M" showconf >"$OUT/eb"
		grep . /run/migprio/*
		mp_unload && mp_load || return 1
		"$M" syncconf "$OUT/eth0" || return 1
		"$M" showconf >"$OUT/ea"
		"$M" dev show
		diff "$OUT/eb" "$OUT/ea" &&
		"$M" -j dev show | "$JQ" -e '.dev.rings.rx_prev == 256' >/dev/null
	}
	ktap_test "reload: syncconf keeps the rings to restore" rings_reload
	rings_clear() {
		mp_unload && mp_load || return 1
		"$M" dev clear || return 1
		"$ETHTOOL" -g eth0
		"$TC" qdisc show dev eth0
		[ "$(ring_rx current)" = 256 ] &&
		! "$TC" qdisc show dev eth0 | grep -q 4d50:
	}
	ktap_test "reload: dev clear restores RX 256" rings_clear
	state_gone() {
		local ns
		ns=$(stat -L -c %i /proc/self/ns/net)
		ls -la /run/migprio
		for f in /run/migprio/"$ns"-*; do
			[ ! -e "$f" ] || return 1
		done
	}
	ktap_test "state file removed by dev clear" state_gone
	[ -z "$max_rx" ] || "$ETHTOOL" -G eth0 rx "$max_rx" 2>/dev/null
fi

ktap_finish
