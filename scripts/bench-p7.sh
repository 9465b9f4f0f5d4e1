# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# P7 SYN path (guest side, sourced by bench-vm.sh; issue 21 item 3). A SYN
# flood from hvsrc (selftests/tools/synflood: raw socket, one SYN per
# source port, as fast as it can) to a listener on hvdst whose port a rule
# covers (preset qemu), hvdst's interface designated: every SYN passes
# migprio's listener tuning before TCP answers it (a SYN-ACK, a cookie
# once the SYN queue is full). Two configurations, alternating:
#   records0  `dev set vdst queue none rcvbuf 64K`: the listener needs no
#             tuning, the registry is empty
#   records   `dev set vdst queue none` (auto at the veth's 10 Gbit/s: the
#             listener's rcvbuf is raised for the window scale) and
#             P7_LISTENERS more listeners on other ports tuned too: every
#             SYN finds its listener's record
# The result is the SYN-ACK rate (packets received on vsrc while the flood
# runs and until they stop, over that time); the ratio records/records0
# is what the issue asks for (>= 0.95), medians of the runs.
SYNFLOOD=${SYNFLOOD:-/selftests/synflood}
P7_PORT=49152
P7_LISTENERS=${P7_LISTENERS:-16}

# p7_rx: packets received on vsrc so far
p7_rx() { ns_src cat /sys/class/net/"$DEV_SRC"/statistics/rx_packets; }

# p7_config records0|records: a fresh module (no record left from the
# other configuration), vdst designated for CONFIG, the listeners tuned
p7_config() {
	local i
	mp_off
	mp_on
	ns_dst "$MIGPRIOCTL" rule add preset qemu >/dev/null
	if [ "$1" = records0 ]; then
		ns_dst "$MIGPRIOCTL" dev set "$DEV_DST" queue none rcvbuf 64K >/dev/null
	else
		ns_dst "$MIGPRIOCTL" dev set "$DEV_DST" queue none >/dev/null
		for i in $(seq 0 "$P7_LISTENERS"); do
			ns_src bash -c "echo x >/dev/tcp/$ADDR_DST/$((P7_PORT + i))" 2>/dev/null
		done
	fi
}

# p7_run CONFIG REP SYNS: one flood, one result line
p7_run() {
	local cfg=$1 rep=$2 syns=$3 rx0 rx1 prev t0 t1 rc lrb
	p7_config "$cfg"
	lrb=$(ns_dst "$SS" -tlmnH "sport = :$P7_PORT" | grep -o ',rb[0-9]*' | tr -dc 0-9)
	rx0=$(p7_rx)
	t0=$(now)
	ns_src "$SYNFLOOD" "$ADDR_SRC" "$ADDR_DST" $P7_PORT "$syns" >/dev/null 2>"$BENCH_TMP/synflood.err"
	rc=$?
	# until the SYN-ACKs stop coming (100 ms without one)
	rx1=$(p7_rx)
	prev=-1
	while [ "$rx1" != "$prev" ]; do
		t1=$(now)
		prev=$rx1
		sleep 0.1
		rx1=$(p7_rx)
	done
	emit "{\"scenario\":\"p7\",\"config\":\"$cfg\",\"rep\":$rep,\"syns\":$syns,\"rc\":$rc,\"synacks\":$((rx1 - rx0)),\"secs\":$(fsub "$t1" "$t0"),\"listener_rb\":${lrb:-0},\"err\":$(json_str "$(head -c 300 "$BENCH_TMP/synflood.err")")}"
}

# p7 RUNS SYNS
p7() {
	local runs=$1 syns=$2 i cfg lpids=()
	if ! have_migprio || [ ! -x "$SYNFLOOD" ]; then
		emit '{"scenario":"p7","skipped":"migprio.ko, migprioctl or synflood not built"}'
		return 0
	fi
	if ! budget_ok 60; then
		skip_budget p7 all
		return 0
	fi
	link_reset
	for i in $(seq 0 "$P7_LISTENERS"); do
		bg_dst "$MIGSIM" conns -l -p $((P7_PORT + i)) -n 64 >/dev/null 2>&1 &
		lpids+=($!)
		wait_listen $((P7_PORT + i)) || break
	done
	for i in $(seq 1 "$runs"); do
		for cfg in records0 records; do
			budget_ok 30 || { skip_budget p7 "$cfg" "$i"; continue; }
			log "P7 SYN flood, run $i, $cfg"
			p7_run "$cfg" "$i" "$syns"
		done
	done
	kill "${lpids[@]}" 2>/dev/null
	wait "${lpids[@]}" 2>/dev/null
	link_reset
}
