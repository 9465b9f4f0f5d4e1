# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# P4 control plane (guest side, sourced by bench-vm.sh):
#   - `migprioctl flow list` (text and -j) with NFLOWS tracked flows:
#     `migsim conns` holds NFLOWS connections to a port covered by a rule;
#   - wall time of `migprioctl apply` of a file of NRULES rules (validated
#     as a whole, then applied), bounded by what is left of the time budget
#     (at most 300 s): a run cut short is reported as such.

# p4 NRULES NFLOWS
p4() {
	local nrules=$1 nflows=$2 t0 t1 t2 t3 t4 t5 t6 t7 n nj cpid lpid arc lim
	if ! have_migprio; then
		emit '{"scenario":"p4","skipped":"migprio.ko or migprioctl not built"}'
		return 0
	fi
	if ! budget_ok 40; then
		skip_budget p4 all
		return 0
	fi
	link_reset
	mp_on
	ns_src "$MIGPRIOCTL" dev set "$DEV_SRC" queue none >/dev/null

	log "P4 flow list with $nflows tracked flows"
	ns_src "$MIGPRIOCTL" rule add port 49300 >/dev/null
	bg_dst "$MIGSIM" conns -l -p 49300 -n $((nflows + 100)) >/dev/null 2>"$BENCH_TMP/conns-l.err" &
	lpid=$!
	wait_listen 49300
	: >"$BENCH_TMP/conns.out"
	t4=$(now)
	bg_src "$MIGSIM" conns -a "$ADDR_DST" -p 49300 -n "$nflows" -t 60 \
		>"$BENCH_TMP/conns.out" 2>"$BENCH_TMP/conns.err" &
	cpid=$!
	for _ in $(seq 1 1500); do
		grep -q ready "$BENCH_TMP/conns.out" 2>/dev/null && break
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.2
	done
	t5=$(now)
	ns_src "$MIGPRIOCTL" flow list >"$BENCH_TMP/flows.txt" 2>&1
	t6=$(now)
	ns_src "$MIGPRIOCTL" -j flow list >"$BENCH_TMP/flows.json" 2>&1
	t7=$(now)
	n=$(grep -c ':49300' "$BENCH_TMP/flows.txt")
	nj=$(grep -o '49300' "$BENCH_TMP/flows.json" | wc -l)
	ns_src "$MIGPRIOCTL" stats >"$BENCH_TMP/stats.txt" 2>&1
	kill "$cpid" "$lpid" 2>/dev/null
	wait "$cpid" "$lpid" 2>/dev/null
	emit "{\"scenario\":\"p4-flows\",\"flows_opened\":$nflows,\"ready\":$(grep -q ready "$BENCH_TMP/conns.out" && echo true || echo false),\"connect_s\":$(fsub "$t5" "$t4"),\"list_text_s\":$(fsub "$t6" "$t5"),\"list_json_s\":$(fsub "$t7" "$t6"),\"listed_text\":$n,\"port_mentions_json\":$nj,\"list_bytes\":$(wc -c <"$BENCH_TMP/flows.txt"),\"conns_err\":$(json_str "$(head -c 300 "$BENCH_TMP/conns.err")"),\"stats\":$(json_str "$(head -c 2000 "$BENCH_TMP/stats.txt")")}"
	ns_src "$MIGPRIOCTL" rule flush >/dev/null 2>&1

	lim=$((${BENCH_BUDGET:-100000} - SECONDS - 15))
	[ "$lim" -le 300 ] || lim=300
	if [ "$lim" -lt 20 ]; then
		skip_budget p4-rules all
		link_reset
		return 0
	fi
	rules_file "$nrules" "$BENCH_TMP/rules.txt"
	log "P4 apply $nrules rules (giving it at most $lim s)"
	t0=$(now)
	arc=0
	ns_src timeout "$lim" "$MIGPRIOCTL" apply "$BENCH_TMP/rules.txt" >/dev/null 2>"$BENCH_TMP/apply.err" || arc=$?
	t1=$(now)
	ns_src "$MIGPRIOCTL" rule list >"$BENCH_TMP/rules.out" 2>&1
	t2=$(now)
	n=$(grep -c 'port\|peer' "$BENCH_TMP/rules.out")
	ns_src "$MIGPRIOCTL" rule flush >/dev/null 2>&1
	t3=$(now)
	emit "{\"scenario\":\"p4-rules\",\"rules\":$nrules,\"rc\":$arc,\"timed_out\":$([ "$arc" = 124 ] && echo true || echo false),\"limit_s\":$lim,\"apply_s\":$(fsub "$t1" "$t0"),\"list_s\":$(fsub "$t2" "$t1"),\"flush_s\":$(fsub "$t3" "$t2"),\"listed\":$n,\"err\":$(json_str "$(head -c 300 "$BENCH_TMP/apply.err")")}"
	link_reset
}
