#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# migsim, the migration workload of the benchmarks: a short migration over
# loopback converges; sender and receiver agree on every byte and round; the
# kernel's own interface counters (ip -s link) saw at least that much on a
# veth; -j output is valid JSON; a tiny round limit with a high dirty rate is
# reported as not converged (exit 3) and still delivers everything; usage
# errors and an absent receiver fail cleanly. The QEMU-faithful mode (-M
# qemu: 1 main + N multifd connections, no acknowledgment) migrates with
# the same counts and both sides print the source's figures and the
# destination's (total, real downtime); behind a slow link and large send
# buffers its reported downtime is at most the real one, while the ack
# mode's is at least the real one. Needs no module.
source "$(dirname "$0")/lib.sh"

MIGSIM=${MIGSIM:-$(command -v migsim || echo /usr/local/bin/migsim)}
[ -x "$MIGSIM" ] || ktap_skip_all "migsim not in the VM image"
[ -x "$JQ" ] || ktap_skip_all "jq not in the VM image"
ktap_plan 10

# the namespaces of test 4, made here so that lib.sh deletes them at exit
NA='' NB=''
setup_ns NA NB && veth_pair "$NA" "$NB" || NB=

OUT=$(mktemp -d)
defer rm -rf "$OUT"

# migrate NAME NS_RECV NS_SEND ADDR PORT SEND_ARGS...: run a receiver and a
# sender; outputs in $OUT/NAME.{recv,send}.{json,err}, sender status in $src
migrate() {
	local name=$1 nsr=$2 nss=$3 addr=$4 port=$5 rpid
	shift 5
	${nsr:+"$IP" netns exec "$nsr"} "$MIGSIM" recv -p "$port" -t 20 -j -i 100 \
		>"$OUT/$name.recv.json" 2>"$OUT/$name.recv.err" &
	rpid=$!
	src=0
	${nss:+"$IP" netns exec "$nss"} "$MIGSIM" send -a "$addr" -p "$port" -t 20 -j "$@" \
		>"$OUT/$name.send.json" 2>"$OUT/$name.send.err" || src=$?
	rrc=0
	wait "$rpid" || rrc=$?
}

show() {
	local f
	for f in "$OUT/$1".*; do
		echo "--- $(basename "$f")"
		head -c 2000 "$f"
		echo
	done
}

sj() { "$JQ" -r "$1" "$OUT/$2.send.json"; }
rj() { "$JQ" -r "$1" "$OUT/$2.recv.json"; }

# both sides' counts agree: bytes, pages, rounds, verified
consistent() {
	local n=$1
	[ "$(sj .verified "$n")" = true ] && [ "$(rj .verified "$n")" = true ] &&
	[ "$(sj .bytes_sent "$n")" = "$(rj .bytes_received "$n")" ] &&
	[ "$(sj .pages_sent "$n")" = "$(rj .pages_received "$n")" ] &&
	[ "$(sj '.pages_sent * 4096' "$n")" = "$(sj .bytes_sent "$n")" ] &&
	[ "$(sj .rounds "$n")" = "$(rj .rounds "$n")" ] &&
	[ "$(sj '[.round_detail[].bytes] | add' "$n")" = "$(sj .bytes_sent "$n")" ] &&
	[ "$(sj .channels "$n")" = "$(rj .channels "$n")" ] || { show "$n"; return 1; }
}

# 1: loopback, 32 MiB, light dirtying: converges, exit 0
t_converge() {
	migrate lo "" "" 127.0.0.1 49170 -m 32 -d 2
	[ "$src" = 0 ] && [ "$rrc" = 0 ] && [ "$(sj .converged lo)" = true ] &&
		[ "$(sj .rounds lo)" -ge 1 ] &&
		[ "$(sj '.bytes_sent >= 33554432' lo)" = true ] || { show lo; return 1; }
}
ktap_test "migsim: loopback migration of 32 MiB converges" t_converge

# 2: -j output of both roles is one valid JSON document with the keys
t_json() {
	"$JQ" -e 'has("converged") and has("total_time_s") and has("downtime_ms")
		and has("bandwidth_mbit_s") and (.round_detail | length) >= 2
		and .round_detail[-1].stop_copy' "$OUT/lo.send.json" >/dev/null &&
	"$JQ" -e '.role == "recv" and (.timeline | length) >= 1' \
		"$OUT/lo.recv.json" >/dev/null &&
	[ "$(wc -l <"$OUT/lo.send.json")" = 1 ] || { show lo; return 1; }
}
ktap_test "migsim: -j output parses (sender and receiver)" t_json

# 3: byte, page and round counts agree between sender and receiver
ktap_test "migsim: loopback byte counts consistent sender/receiver" consistent lo

# 4: over a veth between two netns, IPv6, 4 channels; the receiving veth's
# rx_bytes (kernel counter) grew by at least the payload, at most +15%
t_veth() {
	local rx0 rx1 got
	[ -n "$NB" ] || return 1
	rx0=$("$IP" netns exec "$NB" cat "/sys/class/net/$VETH_B/statistics/rx_bytes")
	migrate veth "$NB" "$NA" "$ADDR6_B" 49171 -m 16 -d 0 -c 4
	rx1=$("$IP" netns exec "$NB" cat "/sys/class/net/$VETH_B/statistics/rx_bytes")
	got=$(rj .bytes_received veth)
	[ "$src" = 0 ] && [ "$rrc" = 0 ] && [ "$(rj .channels veth)" = 4 ] &&
		consistent veth && [ "$got" = 16777216 ] &&
		[ $((rx1 - rx0)) -ge "$got" ] &&
		[ $((rx1 - rx0)) -le $((got * 115 / 100)) ] ||
		{ echo "rx_bytes delta $((rx1 - rx0)), payload $got"; show veth; return 1; }
}
ktap_test "migsim: 4 channels over IPv6 veth, kernel rx_bytes >= payload" t_veth

# 5: tiny round limit, dirtying far above the bandwidth, 1 ms downtime
# limit: not converged (exit 3) after exactly 3 live rounds, yet everything
# that was sent arrived
t_noconv() {
	migrate nc "" "" 127.0.0.1 49172 -m 16 -d 4000 -D 1 -r 3
	[ "$src" = 3 ] && [ "$rrc" = 0 ] && [ "$(sj .converged nc)" = false ] &&
		[ "$(sj .rounds nc)" = 3 ] &&
		[ "$(sj '.bytes_sent > 16777216' nc)" = true ] &&
		consistent nc || { echo "send exit $src, recv exit $rrc"; show nc; return 1; }
}
ktap_test "migsim: non-convergence reported (exit 3, converged=false)" t_noconv

# 6: usage errors exit 2 and say how to use it
t_usage() {
	local rc=0 err
	err=$("$MIGSIM" send -a 127.0.0.1 -d 1 2>&1) || rc=$?
	[ "$rc" = 2 ] && grep -q 'usage:' <<<"$err" || { echo "rc=$rc $err"; return 1; }
	rc=0
	"$MIGSIM" send -a 127.0.0.1 -m 1 -d 1 -c 0 >/dev/null 2>&1 || rc=$?
	[ "$rc" = 2 ] || { echo "-c 0: rc=$rc"; return 1; }
	rc=0
	"$MIGSIM" frobnicate >/dev/null 2>&1 || rc=$?
	[ "$rc" = 2 ] || { echo "unknown command: rc=$rc"; return 1; }
}
ktap_test "migsim: usage errors exit 2" t_usage

# 7: no receiver: the sender gives up after its timeout with exit 1; a
# receiver nobody connects to gives up too
t_noreceiver() {
	local rc=0 err t0 t1
	t0=$(date +%s)
	err=$("$MIGSIM" send -a 127.0.0.1 -p 49173 -m 1 -d 0 -t 2 2>&1) || rc=$?
	t1=$(date +%s)
	[ "$rc" = 1 ] && grep -q 'cannot connect' <<<"$err" &&
		[ $((t1 - t0)) -le 10 ] || { echo "send rc=$rc after $((t1 - t0)) s: $err"; return 1; }
	rc=0
	err=$("$MIGSIM" recv -p 49174 -t 1 2>&1) || rc=$?
	[ "$rc" = 1 ] && grep -q 'no sender' <<<"$err" || { echo "recv rc=$rc: $err"; return 1; }
}
ktap_test "migsim: absent peer times out with exit 1" t_noreceiver

# 8: qemu mode over loopback, 4 multifd channels: 5 connections, counts
# agree, both sides print the source's and the destination's figures (the
# same real downtime, from the same two timestamps)
# shellcheck disable=SC2016 # $s and $r are jq variables
t_qemu() {
	migrate q "" "" 127.0.0.1 49175 -M qemu -c 4 -m 16 -d 2
	[ "$src" = 0 ] && [ "$rrc" = 0 ] && consistent q &&
		[ "$(sj .mode q)" = qemu ] && [ "$(rj .mode q)" = qemu ] &&
		[ "$(sj .connections q)" = 5 ] && [ "$(rj .connections q)" = 5 ] &&
		[ "$(sj '.channel_bytes | length' q)" = 4 ] &&
		[ "$(sj '[.channel_bytes[]] | add' q)" = "$(sj .bytes_sent q)" ] &&
		"$JQ" -e 'all(.total_time_s, .downtime_ms, .dest_total_time_s,
			.real_downtime_ms, .threshold_bytes, .max_bandwidth_mib_s;
			type == "number") and .max_bandwidth_mib_s == 128
			and .real_downtime_ms >= 0' "$OUT/q.send.json" >/dev/null &&
		"$JQ" -e 'all(.dest_total_time_s, .real_downtime_ms; type == "number")' \
			"$OUT/q.recv.json" >/dev/null &&
		"$JQ" -ne --slurpfile s "$OUT/q.send.json" --slurpfile r "$OUT/q.recv.json" \
			'($s[0].real_downtime_ms - $r[0].real_downtime_ms) | fabs <= 0.1' >/dev/null ||
		{ echo "send exit $src, recv exit $rrc"; show q; return 1; }
}
ktap_test "migsim: qemu mode, 1 main + 4 multifd connections, counts agree" t_qemu

# 9: the text output of both roles names both downtimes and both totals
t_qemu_text() {
	local rpid rc=0
	"$MIGSIM" recv -p 49176 -t 20 >"$OUT/qt.recv.txt" 2>&1 &
	rpid=$!
	"$MIGSIM" send -a 127.0.0.1 -p 49176 -t 20 --mode qemu -c 0 -m 4 -d 0 \
		>"$OUT/qt.send.txt" 2>&1 || rc=$?
	wait "$rpid" || rc=$?
	[ "$rc" = 0 ] &&
		grep -q '^  downtime .* reported (stop -> last byte written)' "$OUT/qt.send.txt" &&
		grep -q '^  real .* ms downtime (stop -> destination has everything)' "$OUT/qt.send.txt" &&
		grep -q '^  total time .* s (source: last byte written); destination complete after .* s' "$OUT/qt.send.txt" &&
		grep -q 'QEMU mode, 1 connection (0 multifd)' "$OUT/qt.send.txt" &&
		grep -q '^  real .* ms downtime (sender.s stop -> everything here)' "$OUT/qt.recv.txt" &&
		grep -q '^  complete .* s after the sender.s start' "$OUT/qt.recv.txt" &&
		grep -q '(qemu mode)' "$OUT/qt.recv.txt" || { echo "rc=$rc"; show qt; return 1; }
}
ktap_test "migsim: qemu mode prints reported and real downtime (text)" t_qemu_text

# 10: a 40 Mbit/s link (tbf on the sender's veth) and 4 MiB send buffers:
# data waits in the sockets after QEMU counted it as transferred. In qemu
# mode the reported downtime ends when the last byte is written, the real
# one when it arrived: real >= reported. In ack mode the reported one ends
# with the acknowledgment, sent after the data arrived: reported >= real.
# The tbf saw at least the payload (its own counter).
t_qemu_buffers() {
	local sent qrc
	[ -n "$NB" ] || return 1
	shape_link "$NA" "$VETH_A" 40mbit || return 1
	migrate qb "$NB" "$NA" "$ADDR_B" 49177 -M qemu -c 2 -b 4096 -m 8 -d 0
	qrc="$src $rrc"
	migrate ab "$NB" "$NA" "$ADDR_B" 49178 -M ack -c 2 -b 4096 -m 8 -d 0
	sent=$("$TC" -n "$NA" -s qdisc show dev "$VETH_A" | awk '/Sent/ { print $2; exit }')
	"$TC" -n "$NA" qdisc del dev "$VETH_A" root
	echo "qemu mode: reported $(sj .downtime_ms qb) ms, real $(sj .real_downtime_ms qb) ms;" \
		"ack mode: reported $(sj .downtime_ms ab) ms, real $(sj .real_downtime_ms ab) ms" \
		>"$OUT/buffers.txt"
	[ "$qrc" = "0 0" ] && [ "$src" = 0 ] && [ "$rrc" = 0 ] &&
		consistent qb && consistent ab &&
		[ "$(sj .converged qb)" = true ] &&
		[ "$(sj '.real_downtime_ms >= .downtime_ms' qb)" = true ] &&
		[ "$(sj '.downtime_ms >= .real_downtime_ms' ab)" = true ] &&
		[ "${sent:-0}" -ge $(($(sj .bytes_sent qb) + $(sj .bytes_sent ab))) ] ||
		{ echo "exits $qrc / $src $rrc, tbf sent ${sent:-?}"; show qb; show ab; return 1; }
}
ktap_test "migsim: large buffers: qemu mode reported <= real downtime, ack mode >=" t_qemu_buffers
[ ! -s "$OUT/buffers.txt" ] || diag "$(cat "$OUT/buffers.txt")"

ktap_finish
