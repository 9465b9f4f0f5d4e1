#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# migprioctl: every command in text and JSON (-j, -p), its effect checked
# through the kernel (dev show, rule list, stats) and independent tools (tc,
# genl ctrl), usage errors (exit 2, nothing changed), kernel errors with
# their extack message (exit 1), apply validated before anything is
# applied, EPERM for an unprivileged user, monitor events.
source "$(dirname "$0")/lib.sh"

mp_require
[ -x "$MIGPRIOCTL" ] || ktap_skip_all "migprioctl not in the VM image"
ktap_plan 25

M=$MIGPRIOCTL
OUT=$(mktemp -d)
defer rm -rf "$OUT"

# busybox date has no %N
now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }

# run: CMD... -> $rc, $out (stdout), $err (stderr)
run() {
	rc=0
	"$@" >"$OUT/o" 2>"$OUT/e" || rc=$?
	out=$(cat "$OUT/o")
	err=$(cat "$OUT/e")
}
show() { echo "rc=$rc"; echo "stdout: $out"; echo "stderr: $err"; }
expect_rc() { [ "$rc" = "$1" ] || { echo "expected exit $1"; show; return 1; }; }
json() { printf '%s' "$out" | "$JQ" -e "$@" >/dev/null || { echo "jq $* failed"; show; return 1; }; }
has() { grep -qF -- "$1" <<<"$2" || { echo "missing \"$1\""; show; return 1; }; }

# ---------------------------------------------------- without the module
# genetlink would load the module on demand: forbid it for this test
no_module() {
	local modprobe
	modprobe=$(cat /proc/sys/kernel/modprobe)
	echo /bin/false >/proc/sys/kernel/modprobe
	no_module_checks; local r=$?
	echo "$modprobe" >/proc/sys/kernel/modprobe
	mp_loaded && { echo "module got loaded"; return 1; }
	return $r
}
no_module_checks() {
	run "$M" -V; expect_rc 0 && has migprioctl "$out" || return 1
	run "$M" --help; expect_rc 0 && has "Usage: migprioctl" "$out" || return 1
	run "$M" rule help; expect_rc 0 && has "rule add preset" "$out" || return 1
	run "$M"; expect_rc 2 || return 1
	run "$M" nosuchobject; expect_rc 2 && has 'unknown object' "$err" || return 1
	run "$M" dev show; expect_rc 1 &&
		has "migprioctl: migprio module not loaded" "$err" || return 1
	run "$M" -j rule list; expect_rc 1 && [ -z "$out" ] || { show; return 1; }
}
ktap_test "help, version, usage and module-not-loaded exit codes" no_module

mp_load || ktap_skip_all "cannot load migprio"
defer mp_unload
setup_ns NA NB
veth_pair "$NA" "$NB"
A() { "$IP" netns exec "$NA" "$@"; }
B() { "$IP" netns exec "$NB" "$@"; }

genl_ctrl() {
	local o
	o=$("$GENL" ctrl get name migprio) || return 1
	for op in 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8 0x9; do
		grep -q "ID-$op " <<<"$o" || { echo "op $op missing"; echo "$o"; return 1; }
	done
	grep -q "name: events" <<<"$o" || { echo "$o"; return 1; }
}
ktap_test "genl ctrl lists the family's ops and events group" genl_ctrl

dev_none() {
	run A "$M" dev show; expect_rc 0 &&
		has "no migration interface designated" "$out" || return 1
	run A "$M" -j dev show; expect_rc 0 && json '.dev == null'
}
ktap_test "dev show without a designated interface (text, JSON)" dev_none

dev_set() {
	run A "$M" dev set "$VETH_A" sndbuf 16M rcvbuf 512K dscp af41; expect_rc 0 || return 1
	run A "$M" dev show; expect_rc 0 || return 1
	has "dev       $VETH_A" "$out" && has "sndbuf    16M" "$out" &&
		has "rcvbuf    512K" "$out" && has "dscp      34" "$out" &&
		has "queue     prio" "$out" && has "qdisc     4d50:" "$out" &&
		has "foreign priorities reset" "$out" || return 1
	run A "$M" -j dev show; expect_rc 0 || return 1
	json --arg d "$VETH_A" '.dev.ifname == $d and .dev.sndbuf == 16777216 and
		.dev.rcvbuf == 524288 and .dev.dscp == 34 and .dev.queue == "prio" and
		.dev.qdisc_handle == "4d50:" and .dev.classid == "4d50:1" and
		.dev.rate == null and .dev.rings == null and
		.dev.queue_devs[0].priority_reset == true' || return 1
	A "$TC" qdisc show dev "$VETH_A" root | grep -q "prio 4d50: root" ||
		{ A "$TC" qdisc show dev "$VETH_A"; return 1; }
	# the migration band's FIFO is bounded in bytes (veth: 10 Gbit/s ->
	# 10 ms is above the 4 MiB cap)
	A "$TC" qdisc show dev "$VETH_A" | grep -q "bfifo .* parent 4d50:1 limit 4Mb" ||
		{ A "$TC" qdisc show dev "$VETH_A"; return 1; }
}
ktap_test "dev set: parameters visible in dev show and tc" dev_set

dev_defaults() {
	run A "$M" dev set "$VETH_A" notsent 256K; expect_rc 0 || return 1
	run A "$M" dev show; expect_rc 0 || return 1
	has "sndbuf    auto" "$out" && has "rcvbuf    auto" "$out" &&
		has "notsent   256K" "$out" && has "link      10Gbit" "$out" || return 1
	run A "$M" -j dev show
	json '.dev.sndbuf == "auto" and .dev.rcvbuf == "auto" and
		.dev.notsent == 262144 and .dev.link_rate == 1250000000' || return 1
	run A "$M" dev set "$VETH_A" notsent off sndbuf auto; expect_rc 0 || return 1
	run A "$M" -j dev show
	json '.dev.notsent == "off" and .dev.sndbuf == "auto"' || return 1
	run A "$M" dev set "$VETH_A"; expect_rc 0 || return 1
	run A "$M" -j dev show
	json '.dev.notsent == "auto"'
}
ktap_test "dev set: sizes auto and notsent auto by default, notsent SIZE|off" dev_defaults

pretty() {
	run A "$M" -p dev show; expect_rc 0 && json '.dev.ifindex > 0' || return 1
	[ "$(wc -l <<<"$out")" -gt 5 ] || { show; return 1; }
}
ktap_test "-p prints indented, valid JSON" pretty

dev_usage_errors() {
	local before args
	before=$(A "$M" -j dev show)
	for args in "priority 16" "priority 1:0" "priority ffff:1" "sndbuf 1K" \
		    "sndbuf 2G" "rcvbuf 12Q" "dscp 64" "queue htb" "rate 10mbit" \
		    "queue htb rate 100" "queue htb rate 1gbit guard 101" \
		    "rings 0" "bogus 1" "sndbuf" "notsent 8K" "notsent 2G" \
		    "notsent on" "sndbuf off"; do
		# shellcheck disable=SC2086
		run A "$M" dev set "$VETH_A" $args
		expect_rc 2 && has "Usage: migprioctl" "$err" || { echo "args: $args"; return 1; }
	done
	run A "$M" dev set nosuchdev0; expect_rc 1 && has 'cannot find device' "$err" || return 1
	[ "$(A "$M" -j dev show)" = "$before" ] || { echo "state changed"; return 1; }
}
ktap_test "dev set usage errors: exit 2 with usage, nothing changed" dev_usage_errors

dev_htb() {
	run A "$M" dev set "$VETH_A" queue htb rate 100mbit guard 20 priority 3; expect_rc 0 || return 1
	run A "$M" -j dev show
	json '.dev.queue == "htb" and .dev.rate == 12500000 and .dev.guard == 20 and
		.dev.priority == 3 and .dev.classid == null' || return 1
	run A "$M" dev show; has "queue     htb rate 100Mbit guard 20%" "$out" &&
		has "priority  3" "$out" || return 1
	A "$TC" qdisc show dev "$VETH_A" root | grep -q "htb 4d50: root"
}
ktap_test "dev set queue htb rate guard priority" dev_htb

foreign_qdisc() {
	local before
	run A "$M" dev clear; expect_rc 0 || return 1
	A "$TC" qdisc add dev "$VETH_A" root handle 1: tbf rate 1mbit burst 10k latency 50ms
	before=$(A "$M" -j dev show)
	run A "$M" dev set "$VETH_A"; expect_rc 1 && has "force" "$err" || return 1
	A "$TC" qdisc show dev "$VETH_A" root | grep -q "tbf 1: root" || return 1
	[ "$(A "$M" -j dev show)" = "$before" ] || { echo "state changed"; return 1; }
	run A "$M" dev set "$VETH_A" force; expect_rc 0 || return 1
	A "$TC" qdisc show dev "$VETH_A" root | grep -q "prio 4d50: root"
}
ktap_test "foreign root qdisc refused without force, replaced with force" foreign_qdisc

dev_replace() {
	run A "$M" dev set lo queue none; expect_rc 0 || return 1
	run A "$M" -j dev show; json '.dev.ifname == "lo" and .dev.queue == "none" and
		.dev.qdisc_handle == null and .dev.priority == 7' || return 1
	# the previous interface lost what migprio installed on it
	! A "$TC" qdisc show dev "$VETH_A" root | grep -q 4d50: ||
		{ A "$TC" qdisc show dev "$VETH_A"; return 1; }
}
ktap_test "dev set of another interface tears down the previous queues" dev_replace

dev_clear() {
	run A "$M" dev set "$VETH_A"; expect_rc 0 || return 1
	run A "$M" -j dev clear; expect_rc 0 && json '. == {}' || return 1
	run A "$M" -j dev show; json '.dev == null' || return 1
	! A "$TC" qdisc show dev "$VETH_A" root | grep -q 4d50:
}
ktap_test "dev clear: designation and queues removed" dev_clear

rule_add() {
	run A "$M" rule add preset qemu; expect_rc 0 && [[ $out =~ ^rule\ [0-9]+$ ]] || { show; return 1; }
	run A "$M" -j rule add proto udp port 5000-5010 peer 10.0.0.0/8 name bulk
	expect_rc 0 && json '.id > 0' || return 1
	run A "$M" rule add lport 22 peer fd00::/64; expect_rc 0 || return 1
	run A "$M" rule add rport 7000 cgroup /; expect_rc 0 || return 1
	run A "$M" rule add preset nbd name mynbd; expect_rc 0 || return 1
	run A "$M" -j rule list; expect_rc 0 || return 1
	json 'length == 5' &&
	json '.[0].name == "qemu" and .[0].proto == "tcp" and .[0].port == {"min":49152,"max":49215}' &&
	json '.[1].name == "bulk" and .[1].proto == "udp" and .[1].peer == "10.0.0.0/8" and .[1].port.max == 5010' &&
	json '.[2].name == null and .[2].lport == {"min":22,"max":22} and .[2].peer == "fd00::/64"' &&
	json '.[3].cgroup == "/" and .[3].cgroup_id > 0 and .[3].rport.min == 7000' &&
	json '.[4].name == "mynbd" and .[4].port.min == 10809' &&
	json 'all(.[]; has("tx_packets") and has("tx_bytes") and has("rx_packets") and has("rx_bytes") and has("flows"))' || return 1
	run A "$M" rule list; expect_rc 0 || return 1
	has "ID  NAME   PROTO  MATCH" "$out" && has "port 49152-49215" "$out" &&
		has "port 5000-5010 peer 10.0.0.0/8" "$out" && has "cgroup /" "$out" || return 1
	[ "$(wc -l <<<"$out")" = 6 ]
}
ktap_test "rule add (presets, ports, peers, cgroup, name) and rule list" rule_add

rule_errors() {
	local before
	before=$(A "$M" -j rule list)
	run A "$M" rule add preset qemu; expect_rc 1 && has "identical" "$err" || return 1
	run A "$M" rule del 99999; expect_rc 1 && has "no such rule (attribute id)" "$err" || return 1
	for args in "" "port 70000" "port 10-5" "peer 10.1.2.3/8" "peer fd00::/129" \
		    "preset foo" "preset qemu port 1" "proto sctp port 1" \
		    "cgroup relative port 1" "name 0123456789012345678901234567890123 port 1"; do
		# shellcheck disable=SC2086
		run A "$M" rule add $args
		expect_rc 2 || { echo "args: $args"; return 1; }
	done
	[ "$(A "$M" -j rule list)" = "$before" ] || { echo "rules changed"; return 1; }
}
ktap_test "rule errors: kernel extack (exit 1), usage (exit 2), nothing changed" rule_errors

rule_del_flush() {
	local id
	id=$(A "$M" -j rule list | "$JQ" '.[1].id')
	run A "$M" -j rule del "$id"; expect_rc 0 && json '. == {}' || return 1
	run A "$M" -j rule list; json --argjson id "$id" 'length == 4 and all(.[]; .id != $id)' || return 1
	run A "$M" rule flush; expect_rc 0 && [ -z "$out" ] || return 1
	run A "$M" -j rule list; json '. == []' || return 1
	run A "$M" rule list; expect_rc 0 && [ -z "$out" ]
}
ktap_test "rule del and rule flush" rule_del_flush

stats() {
	A "$M" rule add port 1 >/dev/null && A "$M" rule add port 2 >/dev/null || return 1
	run A "$M" -j stats; expect_rc 0 || return 1
	json '.rules == 2 and .rules_max == 4096 and .flows_max > 0' || return 1
	json 'keys == (["dscp_rewritten","flows_active","flows_ended","flows_max","flows_started","flows_untracked","priority_reset","rules","rules_max","rx_bytes","rx_packets","socks_tuned","tx_bytes","tx_packets"])' || return 1
	run A "$M" stats; has "rules           2 (max 4096)" "$out" &&
		has "priority reset  0 " "$out"
}
ktap_test "stats (text, JSON keys)" stats

# A live migration-like flow: iperf3 on a qemu port, marked in NA.
flows() {
	A "$M" rule flush && A "$M" dev set "$VETH_A" queue none >/dev/null &&
		A "$M" rule add preset qemu >/dev/null || return 1
	# not through A(): $! must be migprioctl itself to signal it
	"$IP" netns exec "$NA" "$M" -j monitor >"$OUT/mon" 2>"$OUT/mon.err" &
	local mon=$!
	iperf3_server "$NB" 49152
	"$IP" netns exec "$NA" "$IPERF3" -c "$ADDR_B" -p 49152 -t 30 -b 20M >/dev/null 2>&1 &
	local cli=$!
	busywait 3000 bash -c "'$IP' netns exec '$NA' '$M' -j flow list | '$JQ' -e 'length > 0' >/dev/null" ||
		{ A "$M" flow list; kill $cli $mon; return 1; }
	run A "$M" -j flow list
	json --arg b "$ADDR_B" '.[0].proto == "tcp" and .[0].remote.addr == $b and
		.[0].remote.port == 49152 and .[0].dir == "out" and .[0].rule > 0 and
		(.[0] | has("tx_bytes") and has("rx_packets") and has("age_ms") and has("idle_ms"))' ||
		{ kill $cli $mon; return 1; }
	run A "$M" flow list
	has "PROTO  LOCAL" "$out" && has "$ADDR_B:49152" "$out" || { kill $cli $mon; return 1; }
	kill $cli; wait $cli
	busywait 5000 grep -q '"flow-end"' "$OUT/mon" || diag "no flow-end event yet"
	kill -TERM $mon; wait $mon || { echo "monitor exit $?"; cat "$OUT/mon.err"; return 1; }
	# one JSON object per line
	while read -r line; do
		"$JQ" -e . >/dev/null <<<"$line" || { echo "bad line: $line"; return 1; }
	done <"$OUT/mon"
	grep -q '"event":"flow-start".*"remote":{"addr":"'"$ADDR_B"'","port":49152}' "$OUT/mon" ||
		{ cat "$OUT/mon"; return 1; }
	run A "$M" -j stats; json '.tx_packets > 0 and .flows_started >= 1'
}
ktap_test "flow list and monitor -j with a live flow; stats count it" flows

monitor_text() {
	"$IP" netns exec "$NA" "$M" monitor >"$OUT/mont" 2>&1 &
	local mon=$!
	sleep 0.3
	A "$M" dev set "$VETH_A" priority 5 queue none >/dev/null
	A "$M" dev clear >/dev/null
	busywait 3000 grep -q "dev-change clear" "$OUT/mont" || { cat "$OUT/mont"; kill $mon; return 1; }
	kill -INT $mon; wait $mon || { echo "monitor exit $?"; return 1; }
	grep -q "^dev-change set $VETH_A (ifindex [0-9]*) priority 5 queue none$" "$OUT/mont" ||
		{ cat "$OUT/mont"; return 1; }
}
ktap_test "monitor (text): dev change events, exits 0 on SIGINT" monitor_text

apply_ok() {
	A "$M" rule flush
	cat >"$OUT/ok.conf" <<-'CONF'
	# migration setup
	dev set VETH queue htb rate 50mbit guard 5

	rule add preset qemu peer 10.0.0.0/8   # trailing comment
	rule add proto udp port 6000-6010 name "udp-mig"
	rule add preset proxmox
	rule del ID
	CONF
	local id
	id=$(A "$M" -j rule add port 9 | "$JQ" .id)
	sed -i "s/VETH/$VETH_A/; s/ID/$id/" "$OUT/ok.conf"
	run A "$M" -j apply "$OUT/ok.conf"; expect_rc 0 && json '.applied == 5' || return 1
	run A "$M" -j rule list
	json 'length == 3 and .[0].peer == "10.0.0.0/8" and .[1].name == "udp-mig" and .[2].name == "proxmox"' || return 1
	run A "$M" -j dev show; json '.dev.queue == "htb" and .dev.rate == 6250000 and .dev.guard == 5'
}
ktap_test "apply: a valid file is applied in order" apply_ok

apply_bad() {
	local before
	before=$(A "$M" -j rule list; A "$M" -j dev show)
	printf 'rule add port 100\nrule add port 70000\ndev set nosuchdev0\nrule list\nrule add "open\n' >"$OUT/bad.conf"
	run A "$M" apply "$OUT/bad.conf"; expect_rc 2 || return 1
	has "$OUT/bad.conf:2: invalid port" "$err" && has "$OUT/bad.conf:3: cannot find device" "$err" &&
		has "$OUT/bad.conf:4: \"rule list\" cannot be used" "$err" &&
		has "$OUT/bad.conf:5: unterminated quote" "$err" || return 1
	[ "$(A "$M" -j rule list; A "$M" -j dev show)" = "$before" ] || { echo "state changed"; return 1; }
}
ktap_test "apply: a bad line (FILE:LINE) and nothing is applied" apply_bad

apply_kernel_err() {
	A "$M" rule flush
	printf 'rule add port 200\nrule add port 201\nrule add port 200\nrule add port 202\nrule add port 203\n' >"$OUT/k.conf"
	run A "$M" apply "$OUT/k.conf"; expect_rc 1 || return 1
	has "$OUT/k.conf:3: An identical rule exists" "$err" && has "stopped at $OUT/k.conf:3" "$err" || return 1
	run A "$M" -j rule list
	json 'length == 2 and .[0].port.min == 200 and .[1].port.min == 201'
}
ktap_test "apply: stops at the first kernel error, later lines not applied" apply_kernel_err

apply_many() {
	local n=${TOOL_APPLY_RULES:-500} start end
	A "$M" rule flush
	seq 1 "$n" | sed 's/^/rule add proto udp port /' >"$OUT/many.conf"
	start=$(now_ms)
	run A "$M" apply "$OUT/many.conf"; expect_rc 0 || return 1
	end=$(now_ms)
	diag "apply of $n rules: $((end - start)) ms"
	run A "$M" -j stats; json --argjson n "$n" '.rules == $n' || return 1
	A "$M" rule flush
}
ktap_test "apply: many rules over one socket" apply_many

eperm() {
	local c
	for c in "dev show" "dev set lo queue none" "dev clear" "rule add port 1" \
		 "rule del 1" "rule list" "rule flush" "flow list" "stats"; do
		run A su nobody -s /bin/bash -c "$M $c"
		expect_rc 1 && has "migprioctl: Operation not permitted" "$err" ||
			{ echo "command: $c"; return 1; }
	done
}
ktap_test "unprivileged user: Operation not permitted, exit 1" eperm

netns_isolated() {
	A "$M" rule add port 4242 >/dev/null || return 1
	run B "$M" -j rule list; json '. == []' || return 1
	run B "$M" -j dev show; json '.dev == null'
}
ktap_test "another netns does not see the rules" netns_isolated

userns() {
	command -v unshare >/dev/null || return 4
	# root of a new user namespace owning a new netns: may read, not change
	run unshare -Urn "$M" -j dev show; expect_rc 0 && json '.dev == null' || return 1
	run unshare -Urn "$M" rule list; expect_rc 0 || return 1
	run unshare -Urn "$M" rule add port 1; expect_rc 1 &&
		has "Operation not permitted" "$err" || return 1
	run unshare -Urn "$M" dev set lo queue none; expect_rc 1 &&
		has "Operation not permitted" "$err"
}
userns_test() { local r=0; userns || r=$?; ktap_result $r "root in a user namespace: reads work, changes get EPERM"; }
userns_test

valgrind_free() {
	# no valgrind in the VM: the host checks leaks; here check no fd leak
	# by running a command many times
	local i
	for i in $(seq 1 50); do A "$M" -j stats >/dev/null || return 1; done
}
ktap_test "50 quick invocations" valgrind_free

ktap_finish
