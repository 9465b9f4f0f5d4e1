# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# P2 overhead (guest side, sourced by bench-vm.sh). A bare veth (no shaping:
# the emulated CPU is the limit, which is where a per-packet cost shows).
# The module is loaded once and 1024 rules are applied once on the sending
# host (applying them takes long under TCG, see P4); runs then alternate:
#   on   the interface designated (dev set vsrc queue none: hooks and the
#        classifier act, no qdisc is installed)
#   off  dev clear: module loaded, rules kept, no designated interface
# plus "unloaded" runs (module not loaded) before and after, as the
# reference. Flows:
#   p2-other: a non-migration flow (port BULK_PORT), matching none of the
#             1024 rules
#   p2-mig:   a migration flow (port 49200, preset qemu on both hosts):
#             marked, buffers enlarged, counted
# Each "on" run also records how often the hooks ran on the sender
# (p2-calls: vsrc's tx + rx packets per second; the veth counts a GSO or
# GRO packet once, as the hooks see it): the classifier is asked at most
# that often, which with P2b's ns per lookup gives its CPU share.

# rules_file N FILE: N distinct rules, none matching the benchmark flows:
# ports 20000+, IPv4 /24s in 10.200/16.., IPv6 /64s in fd99::/16
rules_file() {
	local n=$1 out=$2 i
	for i in $(seq 0 $((n - 1))); do
		case $((i % 4)) in
		0|1) echo "rule add port $((20000 + i))" ;;
		2) echo "rule add peer 10.$((200 + i / 1024 % 50)).$((i / 4 % 256)).0/24" ;;
		3) printf 'rule add peer fd99:%x:%x::/64\n' $((i / 1024)) $((i % 1024)) ;;
		esac
	done >"$out"
}

# p2_counted SCEN CFG REP PORT SECS: iperf_run, and for CFG on the packets
# through the sender's vsrc meanwhile (the report divides them by iperf3's
# seconds)
p2_counted() {
	local p0 p1
	p0=$(p2_vsrc_packets)
	iperf_run "$@"
	p1=$(p2_vsrc_packets)
	[ "$2" = on ] || return 0
	emit "{\"scenario\":\"p2-calls\",\"flow\":\"$1\",\"rep\":$3,\"packets\":$((p1 - p0))}"
}

p2_vsrc_packets() {
	ns_src cat "/sys/class/net/$DEV_SRC/statistics/tx_packets" \
		"/sys/class/net/$DEV_SRC/statistics/rx_packets" | awk '{ n += $1 } END { print n }'
}

p2_designate() {	# on|off [both]
	local ns dev nss=("$NS_SRC:$DEV_SRC")
	[ "${2:-}" != both ] || nss+=("$NS_DST:$DEV_DST")
	for ns in "${nss[@]}"; do
		dev=${ns#*:}
		ns=${ns%%:*}
		if [ "$1" = on ]; then
			"$IP" netns exec "$ns" "$MIGPRIOCTL" dev set "$dev" queue none >/dev/null
		else
			"$IP" netns exec "$ns" "$MIGPRIOCTL" dev clear >/dev/null 2>&1 || true
		fi
	done
}

# p2 RUNS SECONDS
p2() {
	local runs=$1 secs=$2 i cfg t0 t1 n
	if ! have_migprio; then
		emit '{"scenario":"p2","skipped":"migprio.ko or migprioctl not built"}'
		return 0
	fi
	link_reset
	budget_ok $((secs * 2 + 60)) || { skip_budget p2-other all; return 0; }
	log "P2 other flow, module unloaded (reference)"
	iperf_run p2-other unloaded 0 "$BULK_PORT" "$secs"
	rules_file 1024 "$BENCH_TMP/rules1024.txt"
	mp_on
	log "P2 applying 1024 rules on the sending host"
	t0=$(now)
	ns_src "$MIGPRIOCTL" apply "$BENCH_TMP/rules1024.txt" >/dev/null
	t1=$(now)
	n=$(ns_src "$MIGPRIOCTL" rule list | grep -c 'port\|peer')
	emit "{\"scenario\":\"p2-apply\",\"rules\":1024,\"apply_s\":$(fsub "$t1" "$t0"),\"listed\":$n}"
	for i in $(seq 1 "$runs"); do
		for cfg in off on; do
			budget_ok $((secs + 10)) || { skip_budget p2-other "$cfg" "$i"; continue; }
			p2_designate "$cfg"
			log "P2 other flow, run $i, $([ "$cfg" = on ] && echo 'vsrc designated, 1024 rules' || echo 'no designated interface')"
			p2_counted p2-other "$cfg" "$i" "$BULK_PORT" "$secs"
		done
	done
	ns_src "$MIGPRIOCTL" rule add preset qemu >/dev/null
	ns_dst "$MIGPRIOCTL" rule add preset qemu >/dev/null
	for i in $(seq 1 "$runs"); do
		for cfg in off on; do
			budget_ok $((secs + 10)) || { skip_budget p2-mig "$cfg" "$i"; continue; }
			p2_designate "$cfg" both
			log "P2 migration flow, run $i, migprio $cfg"
			p2_counted p2-mig "$cfg" "$i" 49200 "$secs"
		done
	done
	link_reset
	if budget_ok $((secs * 2 + 20)); then
		log "P2 module unloaded again (reference)"
		iperf_run p2-other unloaded 1 "$BULK_PORT" "$secs"
		iperf_run p2-mig unloaded 1 49200 "$secs"
	fi
}
