#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=900
#
# Stress under traffic. Sizes come from the environment: the defaults are
# `make check`'s; check-debug runs smaller ones on the KASAN kernel and
# `make soak` the larger ones in brackets:
#   1. STRESS_CYCLES (30; soak 100) load/unload cycles, each designating the
#      interface and adding a rule, while a migration flow runs through it:
#      hooks come and go under load; the flow survives and keeps moving.
#   2. config churn for STRESS_CHURN_SECS (15; soak 30): rule add/del, dev
#      set with changing parameters, dev clear/set, while a migration flow
#      and a bulk flow run; drops (veth + qdisc + softnet backlog) during
#      churn are compared with an equally long window without churn.
#   3. STRESS_NETNS_CYCLES (8; soak 20) namespaces created, configured,
#      given a live migration flow and deleted with it.
#   4. STRESS_IFACE_CYCLES (5; soak 10) rounds of rename / move to another
#      netns / delete + re-create of the designated interface under
#      traffic: the designation follows (rename) or is dropped (move,
#      delete), never stale.
#   5. STRESS_CONNS (5000; soak 10000) short connections to the migration
#      ports (half to a listener, half SYN -> RST to a closed port) with
#      flow_idle_secs=2: flows_active never exceeds flows_max, and returns
#      to 0 after the idle timeout.
# Kernel splats (KASAN, lockdep, kmemleak...) are vm-run's to catch.
source "$(dirname "$0")/lib.sh"

mp_require
[ -x "$MIGPRIOCTL" ] || ktap_skip_all "migprioctl not in the VM image"
[ -x "$IPERF3" ] || ktap_skip_all "iperf3 missing"
ktap_plan 5

CYCLES=${STRESS_CYCLES:-30}
CHURN_SECS=${STRESS_CHURN_SECS:-15}
NETNS_CYCLES=${STRESS_NETNS_CYCLES:-8}
IFACE_CYCLES=${STRESS_IFACE_CYCLES:-5}
CONNS=${STRESS_CONNS:-5000}
# a piece stops early (and says so) when it runs longer than this: TCG
# speed varies several-fold with the host's load
CAP_MS=$(( ${STRESS_CAP_SECS:-240} * 1000 ))
MPORT=49160		# in preset qemu (49152-49215)
BULK=5201
T=$(mktemp -d)
defer rm -rf "$T"

a() { "$IP" netns exec "$A" "$@"; }
now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }

# stat NS KEY: one counter of `migprioctl -j stats`
stat_of() { "$IP" netns exec "$1" "$MIGPRIOCTL" -j stats | "$JQ" -r ".$2"; }
# dev_name NS: the designated interface's name, or "none"
dev_name() {
	"$IP" netns exec "$1" "$MIGPRIOCTL" -j dev show |
		"$JQ" -r 'if type == "object" and .ifname then .ifname else "none" end'
}
# tx_bytes NS DEV
tx_bytes() { "$IP" netns exec "$1" cat "/sys/class/net/$2/statistics/tx_bytes"; }

established() { # NS PORT: a connection to PORT is established
	[ -n "$("$SS" -N "$1" -Htn state established "dport = :$2" 2>/dev/null)" ]
}

# flow NS DST PORT SECS: background iperf3 client; pid in $FLOW_PID
flow() {
	"$IP" netns exec "$1" "$IPERF3" -c "$2" -p "$3" -t "$4" -b 10M \
		>"$T/iperf-$3.log" 2>&1 &
	FLOW_PID=$!
	defer kill "$FLOW_PID"
	busywait 10000 established "$1" "$3"
}

# server NS PORT: persistent iperf3 server
server() {
	"$IP" netns exec "$1" "$IPERF3" -s -p "$2" >/dev/null 2>&1 &
	defer kill $!
	wait_listen "$1" "$2"
}

# drops NS DEV PEERNS PEER: veth + qdisc drops on both ends + softnet backlog
drops() {
	local n=0 v x _
	for v in $("$IP" netns exec "$1" cat "/sys/class/net/$2/statistics/tx_dropped" \
			"/sys/class/net/$2/statistics/rx_dropped") \
		 $("$IP" netns exec "$3" cat "/sys/class/net/$4/statistics/tx_dropped" \
			"/sys/class/net/$4/statistics/rx_dropped") \
		 $("$TC" -n "$1" -s qdisc show dev "$2" | sed -nE 's/.*\(dropped ([0-9]+),.*/\1/p'); do
		n=$((n + v))
	done
	while read -r _ x _; do		# softnet_stat: 2nd column, hex
		n=$((n + 16#$x))
	done </proc/net/softnet_stat
	echo "$n"
}

setup_ns A B
veth_pair "$A" "$B" || ktap_skip_all "veth unavailable"
server "$B" $MPORT || ktap_skip_all "iperf3 server did not start"
server "$B" $BULK

# ------------------------------------------------------------------ 1
t_load_unload() {
	local i t0 before after
	flow "$A" "$ADDR_B" $MPORT 3600 || { diag "migration flow did not start"; return 1; }
	before=$(tx_bytes "$A" "$VETH_A")
	t0=$(now_ms)
	for ((i = 1; i <= CYCLES; i++)); do
		if [ $(( $(now_ms) - t0 )) -gt $CAP_MS ]; then
			diag "time cap reached after $((i - 1)) cycles"
			break
		fi
		mp_load || { diag "cycle $i: load failed"; return 1; }
		a "$MIGPRIOCTL" dev set "$VETH_A" queue none >/dev/null ||
			{ diag "cycle $i: dev set failed"; return 1; }
		a "$MIGPRIOCTL" rule add preset qemu >/dev/null ||
			{ diag "cycle $i: rule add failed"; return 1; }
		mp_unload || { diag "cycle $i: unload failed"; return 1; }
	done
	after=$(tx_bytes "$A" "$VETH_A")
	diag "$((i - 1)) load/unload cycles in $(( $(now_ms) - t0 )) ms, $(( (after - before) >> 20 )) MiB sent meanwhile"
	kill -0 "$FLOW_PID" 2>/dev/null || { diag "migration flow died"; return 1; }
	established "$A" $MPORT || { diag "migration connection gone"; return 1; }
	kill "$FLOW_PID"
	[ $((after - before)) -gt 1048576 ] || { diag "traffic did not flow"; return 1; }
}

# ------------------------------------------------------------------ 2
t_churn() {
	local mig bulk d0 d1 d2 i=0 end id base churn
	mp_load || return 1
	a "$MIGPRIOCTL" dev set "$VETH_A" queue none >/dev/null || return 1
	a "$MIGPRIOCTL" rule add preset qemu >/dev/null || return 1
	flow "$A" "$ADDR_B" $MPORT 3600 || { diag "migration flow did not start"; return 1; }
	mig=$FLOW_PID
	flow "$A" "$ADDR_B" $BULK 3600 || { diag "bulk flow did not start"; return 1; }
	bulk=$FLOW_PID
	d0=$(drops "$A" "$VETH_A" "$B" "$VETH_B")
	sleep "$CHURN_SECS"			# the window without churn
	d1=$(drops "$A" "$VETH_A" "$B" "$VETH_B")
	end=$(( $(now_ms) + CHURN_SECS * 1000 ))
	while [ "$(now_ms)" -lt "$end" ]; do
		i=$((i + 1))
		id=$(a "$MIGPRIOCTL" rule add port $((6000 + i % 1000)) name churn$((i % 7)) | awk '{ print $2 }')
		[ -n "$id" ] || { diag "iteration $i: rule add failed"; return 1; }
		a "$MIGPRIOCTL" rule del "$id" || { diag "iteration $i: rule del $id failed"; return 1; }
		a "$MIGPRIOCTL" dev set "$VETH_A" queue none priority $((i % 16)) \
			sndbuf $(( (i % 8 + 1) * 1024 ))K dscp $((i % 2 ? 10 : 0)) >/dev/null ||
			{ diag "iteration $i: dev set failed"; return 1; }
		if ((i % 10 == 0)); then
			a "$MIGPRIOCTL" dev clear || { diag "iteration $i: dev clear failed"; return 1; }
			a "$MIGPRIOCTL" dev set "$VETH_A" queue none >/dev/null || return 1
		fi
	done
	d2=$(drops "$A" "$VETH_A" "$B" "$VETH_B")
	base=$((d1 - d0)) churn=$((d2 - d1))
	diag "churn: $i iterations in ${CHURN_SECS} s; drops without churn $base, with churn $churn"
	kill -0 "$mig" 2>/dev/null && kill -0 "$bulk" 2>/dev/null ||
		{ diag "a flow died during churn"; return 1; }
	kill "$mig" "$bulk"
	a "$MIGPRIOCTL" rule list >/dev/null || return 1
	a "$MIGPRIOCTL" rule flush || return 1
	[ "$churn" -le "$base" ] || { diag "churn dropped $((churn - base)) more packets"; return 1; }
	mp_unload
}

# ------------------------------------------------------------------ 3
t_netns() {
	local i c d t0 pids
	mp_load || return 1
	t0=$(now_ms)
	for ((i = 1; i <= NETNS_CYCLES; i++)); do
		c=mpsc-$$-$i d=mpsd-$$-$i
		"$IP" netns add "$c" && "$IP" netns add "$d" || return 1
		LIB_NS+=("$c" "$d")
		"$IP" link add mpsc0 netns "$c" type veth peer name mpsd0 netns "$d" || return 1
		"$IP" -n "$c" addr add 10.98.0.1/24 dev mpsc0
		"$IP" -n "$d" addr add 10.98.0.2/24 dev mpsd0
		"$IP" -n "$c" link set mpsc0 up && "$IP" -n "$d" link set mpsd0 up
		"$IP" -n "$c" link set lo up
		"$IP" netns exec "$c" "$MIGPRIOCTL" dev set mpsc0 queue none >/dev/null &&
			"$IP" netns exec "$c" "$MIGPRIOCTL" rule add preset qemu >/dev/null ||
			{ diag "cycle $i: configuration failed"; return 1; }
		# started from subshells: not jobs of ours (no "Killed" notices)
		( "$IP" netns exec "$d" "$IPERF3" -s -1 -p $MPORT >/dev/null 2>&1 & )
		wait_listen "$d" $MPORT || { diag "cycle $i: no listener"; return 1; }
		( "$IP" netns exec "$c" "$IPERF3" -c 10.98.0.2 -p $MPORT -t 30 -b 10M >/dev/null 2>&1 & )
		busywait 10000 established "$c" $MPORT || { diag "cycle $i: no flow"; return 1; }
		[ "$(stat_of "$c" flows_active)" -ge 1 ] 2>/dev/null ||
			diag "cycle $i: flow not tracked yet"
		# delete both namespaces with the flow and the config alive
		pids=$("$IP" netns pids "$c"; "$IP" netns pids "$d")
		# shellcheck disable=SC2086
		kill -9 $pids 2>/dev/null
		"$IP" netns del "$c" && "$IP" netns del "$d" || return 1
	done
	diag "$NETNS_CYCLES netns configured and deleted with live flows in $(( $(now_ms) - t0 )) ms"
	"$MIGPRIOCTL" stats >/dev/null || return 1
	mp_unload || { diag "unload after netns churn failed"; return 1; }
}

# ------------------------------------------------------------------ 4
t_iface() {
	local i name p
	mp_load || return 1
	setup_ns C || return 1
	for ((i = 1; i <= IFACE_CYCLES; i++)); do
		# fresh servers per round (in preset qemu): an iperf3 server whose
		# client vanished with its interface stays busy for a while
		p=$((49170 + 2 * (i % 20)))
		server "$B" $p && server "$B" $((p + 1)) || return 1
		a "$MIGPRIOCTL" dev set "$VETH_A" queue none >/dev/null || return 1
		flow "$A" "$ADDR_B" $p 30 || { diag "round $i: no flow"; return 1; }
		# rename: the designation follows the interface (or is dropped),
		# it never shows a name that no longer exists
		"$IP" -n "$A" link set "$VETH_A" down &&
			"$IP" -n "$A" link set "$VETH_A" name mpren0 &&
			"$IP" -n "$A" link set mpren0 up || return 1
		name=$(dev_name "$A")
		[ "$name" = mpren0 ] || [ "$name" = none ] ||
			{ diag "round $i: after rename dev show says $name"; return 1; }
		"$IP" -n "$A" link set mpren0 down &&
			"$IP" -n "$A" link set mpren0 name "$VETH_A" &&
			"$IP" -n "$A" link set "$VETH_A" up || return 1
		name=$(dev_name "$A")
		[ "$name" = "$VETH_A" ] || [ "$name" = none ] ||
			{ diag "round $i: after rename back dev show says $name"; return 1; }
		# move to another netns: dropped here, not designated there
		a "$MIGPRIOCTL" dev set "$VETH_A" queue none >/dev/null || return 1
		"$IP" -n "$A" link set "$VETH_A" netns "$C" || return 1
		[ "$(dev_name "$A")" = none ] || { diag "round $i: still designated after move"; return 1; }
		[ "$(dev_name "$C")" = none ] || { diag "round $i: designated in the new netns"; return 1; }
		kill "$FLOW_PID" 2>/dev/null
		# delete, re-create under the same name: not designated again
		"$IP" -n "$C" link del "$VETH_A" || return 1
		veth_pair "$A" "$B" || return 1
		[ "$(dev_name "$A")" = none ] || { diag "round $i: re-created interface designated"; return 1; }
		# delete while designated, with traffic
		a "$MIGPRIOCTL" dev set "$VETH_A" queue none >/dev/null || return 1
		flow "$A" "$ADDR_B" $((p + 1)) 30 || { diag "round $i: no flow (2)"; return 1; }
		"$IP" -n "$A" link del "$VETH_A" || return 1
		[ "$(dev_name "$A")" = none ] || { diag "round $i: designated after delete"; return 1; }
		kill "$FLOW_PID" 2>/dev/null
		veth_pair "$A" "$B" || return 1
	done
	diag "$IFACE_CYCLES rounds of rename/move/delete under traffic"
	mp_unload
}

# ------------------------------------------------------------------ 5
t_conns() {
	local half max active peak=0 t0 ok p1 p2 n
	mp_unload && mp_load flow_idle_secs=2 || return 1
	a "$MIGPRIOCTL" dev set "$VETH_A" queue none >/dev/null || return 1
	a "$MIGPRIOCTL" rule add preset qemu >/dev/null || return 1
	max=$(stat_of "$A" flows_max)
	half=$((CONNS / 2))
	t0=$(now_ms)
	# bash /dev/tcp: no fork per connection.  To the listener (iperf3
	# accepts and drops a connection without a test cookie) ...
	a bash -c "ok=0; end=\$(( \${EPOCHREALTIME/./} / 1000 + $CAP_MS / 2 ))
		for ((i = 0; i < $half; i++)); do
			exec 3<>/dev/tcp/$ADDR_B/$MPORT && ok=\$((ok + 1)); exec 3>&-
			((i % 100)) || (( \${EPOCHREALTIME/./} / 1000 < end )) || break
		done 2>/dev/null; echo \$i \$ok" >"$T/ok" &
	p1=$!
	# ... and to a closed port (SYN, RST), concurrently
	a bash -c "end=\$(( \${EPOCHREALTIME/./} / 1000 + $CAP_MS / 2 ))
		for ((i = 0; i < $((CONNS - half)); i++)); do
			exec 3<>/dev/tcp/$ADDR_B/$((MPORT + 1)); exec 3>&-
			((i % 100)) || (( \${EPOCHREALTIME/./} / 1000 < end )) || break
		done 2>/dev/null; echo \$i" >"$T/closed" &
	p2=$!
	while kill -0 "$p1" 2>/dev/null || kill -0 "$p2" 2>/dev/null; do
		active=$(stat_of "$A" flows_active)
		[ "$active" -le "$peak" ] || peak=$active
		[ "$active" -le "$max" ] ||
			{ diag "flows_active $active > flows_max $max"; kill "$p1" "$p2"; return 1; }
		sleep 0.5
	done
	wait "$p1" "$p2"
	read -r n ok <"$T/ok"
	n=$((n + $(cat "$T/closed")))
	[ "$n" -ge "$CONNS" ] || diag "time cap reached after $n of $CONNS connections"
	diag "$n connections ($ok accepted) in $(( $(now_ms) - t0 )) ms; flows_active peak $peak (max $max), started $(stat_of "$A" flows_started), untracked $(stat_of "$A" flows_untracked)"
	# every flow ends (FIN, RST or 2 s idle) and the table empties
	busywait 15000 eval '[ "$(stat_of "$A" flows_active)" = 0 ]' ||
		{ diag "flows_active still $(stat_of "$A" flows_active) after the idle timeout"; return 1; }
	[ "$(stat_of "$A" flows_started)" -gt 0 ] || { diag "no flow was tracked"; return 1; }
	mp_unload
}

run() { # DESC FUNC
	local rc=0
	"$2" || rc=$?
	ktap_result "$rc" "$1"
	mp_unload >/dev/null 2>&1
}

run "stress: $CYCLES load/unload cycles under traffic" t_load_unload
run "stress: ${CHURN_SECS}s config churn with flows, no extra drops" t_churn
run "stress: $NETNS_CYCLES netns deleted with config and live flows" t_netns
run "stress: $IFACE_CYCLES rounds of rename/move/delete of the designated interface" t_iface
run "stress: $CONNS short connections, flow table bounded and drained" t_conns
ktap_finish
