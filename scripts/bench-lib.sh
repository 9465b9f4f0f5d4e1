# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Guest-side helpers for the migprio benchmarks (scripts/bench-*.sh) and the
# demo. Sourced inside the VM started by selftests/vm-run; never run on the
# host. Two network namespaces play two hypervisor hosts:
#
#   hvsrc (source host)  vsrc 10.77.0.1/24 fd77::1/64
#        |  veth: the "migration network", shaped at LINK_MBIT on vsrc egress
#   hvdst (destination)  vdst 10.77.0.2/24 fd77::2/64
#
# Migration data and the bulk tenant traffic both flow hvsrc -> hvdst.
# Results leave the VM as single lines "@@MP <json>" on stdout; everything
# else printed is for humans. The host (scripts/bench.sh) collects them.

IP=/usr/sbin/ip
TC=/usr/sbin/tc
SS=/usr/bin/ss
NS_SRC=hvsrc
NS_DST=hvdst
DEV_SRC=vsrc
DEV_DST=vdst
ADDR_SRC=10.77.0.1
ADDR_DST=10.77.0.2
MIG_PORT=49152		# first port of QEMU's migration range (preset qemu)
BULK_PORT=5201		# iperf3 default: outside every migprio preset
LINK_MBIT=${LINK_MBIT:-200}
BENCH_TMP=${BENCH_TMP:-/tmp/bench}
MIGSIM=${MIGSIM:-migsim}
MIGPRIOCTL=${MIGPRIOCTL:-migprioctl}
# the tcp_rmem/tcp_wmem the expert setup raises to (the size migprio gives
# its flows by default, MIGPRIO_BUF_DEFAULT)
EXPERT_BUF=$((32 << 20))

mkdir -p "$BENCH_TMP"

# Time budget: scenarios skip runs (with a result line saying so) once
# fewer than the seconds a run needs are left of BENCH_BUDGET.

budget_ok() { [ $((${BENCH_BUDGET:-100000} - SECONDS)) -ge "$1" ]; }
skip_budget() {
	log "skipped $1 $2: time budget of ${BENCH_BUDGET} s used up"
	emit "{\"scenario\":\"$1\",\"config\":\"$2\",\"rep\":${3:-1},\"skipped\":\"time budget used up\"}"
}

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*"; }
ns_src() { "$IP" netns exec "$NS_SRC" "$@"; }
ns_dst() { "$IP" netns exec "$NS_DST" "$@"; }
# for background jobs ("bg_src CMD &"): exec, so that $! is CMD itself and
# kill reaches it
bg_src() { exec "$IP" netns exec "$NS_SRC" "$@"; }
bg_dst() { exec "$IP" netns exec "$NS_DST" "$@"; }
bg_ns() { local ns=$1; shift; exec "$IP" netns exec "$ns" "$@"; }

# emit JSON: one result line for the host; the argument is a JSON object
emit() { printf '@@MP %s\n' "$1"; }

# json_str STRING: a JSON string literal (our strings: no control chars)
json_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\n'/\\n}
	s=${s//$'\t'/\\t}
	s=${s//$'\r'/}
	printf '"%s"' "$s"
}

# json_file FILE: a file holding one JSON document, on one line (null if
# empty or missing). iperf3 -J pretty-prints; JSON strings never contain
# raw newlines, so removing them keeps the document valid.
json_file() {
	if [ -s "$1" ]; then
		tr -d '\n\r' <"$1"
	else
		printf 'null'
	fi
}

# jfield FILE KEY: a scalar top-level value of a one-line JSON file
jfield() { grep -o "\"$2\":[^,}]*" "$1" | head -n1 | cut -d: -f2 | tr -d '"'; }

now() { printf '%s' "$EPOCHREALTIME"; }

# fsub A B: A - B for decimal strings
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

have_migprio() {
	command -v "$MIGPRIOCTL" >/dev/null 2>&1 &&
		modinfo migprio >/dev/null 2>&1
}

mp_on() {
	lsmod | grep -q '^migprio ' || modprobe migprio
}

mp_off() {
	local ns
	if lsmod | grep -q '^migprio '; then
		for ns in "$NS_SRC" "$NS_DST"; do
			"$IP" netns exec "$ns" "$MIGPRIOCTL" rule flush >/dev/null 2>&1 || true
			"$IP" netns exec "$ns" "$MIGPRIOCTL" dev clear >/dev/null 2>&1 || true
		done
		rmmod migprio
	fi
}

# The shaper burst: 1 ms at the rate plus one 64 KiB GSO packet, the same
# rule migprioctl uses for its htb classes, so every configuration shapes
# alike. (tc's default burst, ~1600 bytes, cannot reach 200 Mbit/s under
# TCG's coarse timers: 62 Mbit/s measured.)
burst_bytes() { echo $(((LINK_MBIT * 1000000 / 8) / 1000 + 65536)); }

topo_setup() {
	modprobe -a veth sch_htb sch_fq_codel sch_prio sch_netem cls_flower \
		cls_u32 inet_diag tcp_diag 2>/dev/null || true
	topo_destroy
	"$IP" netns add "$NS_SRC"
	"$IP" netns add "$NS_DST"
	"$IP" link add "$DEV_SRC" netns "$NS_SRC" type veth peer name "$DEV_DST" netns "$NS_DST"
	"$IP" -n "$NS_SRC" link set lo up
	"$IP" -n "$NS_DST" link set lo up
	"$IP" -n "$NS_SRC" addr add "$ADDR_SRC/24" dev "$DEV_SRC"
	"$IP" -n "$NS_DST" addr add "$ADDR_DST/24" dev "$DEV_DST"
	"$IP" -n "$NS_SRC" addr add fd77::1/64 dev "$DEV_SRC" nodad
	"$IP" -n "$NS_DST" addr add fd77::2/64 dev "$DEV_DST" nodad
	"$IP" -n "$NS_SRC" link set "$DEV_SRC" up
	"$IP" -n "$NS_DST" link set "$DEV_DST" up
	# default TCP buffer sysctls, restored by link_reset
	SYSCTL_RMEM=$(ns_src cat /proc/sys/net/ipv4/tcp_rmem)
	SYSCTL_WMEM=$(ns_src cat /proc/sys/net/ipv4/tcp_wmem)
}

topo_destroy() {
	"$IP" netns del "$NS_SRC" 2>/dev/null || true
	"$IP" netns del "$NS_DST" 2>/dev/null || true
}

stop_jobs() {
	local p
	for p in $(jobs -p); do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}

# Back to a bare link: no qdisc (veth: noqueue), no migprio, default sysctls.
link_reset() {
	local ns dev
	GUARD_CFG=none
	mp_off
	for ns in "$NS_SRC:$DEV_SRC" "$NS_DST:$DEV_DST"; do
		dev=${ns#*:}
		ns=${ns%%:*}
		"$IP" netns exec "$ns" "$TC" qdisc del dev "$dev" root 2>/dev/null || true
		"$IP" netns exec "$ns" sh -c "echo '$SYSCTL_RMEM' >/proc/sys/net/ipv4/tcp_rmem; echo '$SYSCTL_WMEM' >/proc/sys/net/ipv4/tcp_wmem"
	done
}

# (a)/(b): the kernel's default behaviour on a shaped link. One htb class at
# the link rate with fq_codel below it (Debian's systemd default qdisc), so
# the shaper's queue lives in the host like it would on a real bottleneck.
cfg_shaped() {
	local b
	b=$(burst_bytes)
	ns_src "$TC" qdisc add dev "$DEV_SRC" root handle 1: htb default 10
	ns_src "$TC" class add dev "$DEV_SRC" parent 1: classid 1:10 htb \
		rate "${LINK_MBIT}mbit" burst "$b" cburst "$b"
	ns_src "$TC" qdisc add dev "$DEV_SRC" parent 1:10 handle 10: fq_codel
}

# (c): migprio, as the README tells a user to set it up, on both hosts.
cfg_migprio() {
	local ns dev
	GUARD_CFG=migprio
	mp_on
	for ns in "$NS_SRC:$DEV_SRC" "$NS_DST:$DEV_DST"; do
		dev=${ns#*:}
		ns=${ns%%:*}
		"$IP" netns exec "$ns" "$MIGPRIOCTL" dev set "$dev" queue htb \
			rate "${LINK_MBIT}mbit" guard 0 >/dev/null
		"$IP" netns exec "$ns" "$MIGPRIOCTL" rule add preset qemu >/dev/null
	done
}

# (d): what an expert builds by hand: htb with a priority class for the
# migration ports (tc flower), everything else below it, and TCP buffer
# sysctls raised on both hosts to what migprio gives its flows.
cfg_expert() {
	local b ns
	GUARD_CFG=expert
	b=$(burst_bytes)
	ns_src "$TC" qdisc add dev "$DEV_SRC" root handle 1: htb default 20
	ns_src "$TC" class add dev "$DEV_SRC" parent 1: classid 1:1 htb \
		rate "${LINK_MBIT}mbit" burst "$b" cburst "$b"
	ns_src "$TC" class add dev "$DEV_SRC" parent 1:1 classid 1:10 htb \
		rate "$((LINK_MBIT - 1))mbit" ceil "${LINK_MBIT}mbit" prio 0 burst "$b" cburst "$b"
	ns_src "$TC" class add dev "$DEV_SRC" parent 1:1 classid 1:20 htb \
		rate 1mbit ceil "${LINK_MBIT}mbit" prio 1 burst "$b" cburst "$b"
	ns_src "$TC" qdisc add dev "$DEV_SRC" parent 1:10 handle 10: fq_codel
	ns_src "$TC" qdisc add dev "$DEV_SRC" parent 1:20 handle 20: fq_codel
	ns_src "$TC" filter add dev "$DEV_SRC" parent 1: protocol ip prio 1 flower \
		ip_proto tcp dst_port 49152-49215 classid 1:10
	ns_src "$TC" filter add dev "$DEV_SRC" parent 1: protocol ip prio 2 flower \
		ip_proto tcp src_port 49152-49215 classid 1:10
	ns_src "$TC" filter add dev "$DEV_SRC" parent 1: protocol ipv6 prio 3 flower \
		ip_proto tcp dst_port 49152-49215 classid 1:10
	for ns in "$NS_SRC" "$NS_DST"; do
		"$IP" netns exec "$ns" sh -c "echo '4096 131072 $EXPERT_BUF' >/proc/sys/net/ipv4/tcp_rmem; echo '4096 16384 $EXPERT_BUF' >/proc/sys/net/ipv4/tcp_wmem"
	done
}

# ---- only migration in the migration class (issue 22)
# A bulk flow in the migration class competes with the migration it should
# yield to and makes a row meaningless. Every scenario with bulk flows
# checks its own traffic, each configuration with its own oracle:
#   migprio  its events (migprioctl monitor on both hosts, from before the
#            traffic to after it): no flow with the bulk port at either end
#            may start;
#   expert   its flower filters send source ports 49152-49215 to the
#            migration class too: the bulk connections' local ports, read
#            with ss while they run, must lie outside that range;
#   others   no migration class: nothing to check.
# A row that fails says so on the console ("INVALID ROW") and its result
# line carries "bulk_check":{"valid":false,...}; bench-report.py reports it
# as invalid instead of a number. guard_start after the configuration and
# before the traffic, guard_bulk_ports while the bulk flows run (bulk_start
# calls it), guard_end after the traffic: $GUARD_JSON is the member for
# emit.

guard_start() { # CONFIG_KIND: migprio|expert|none
	local ns
	GUARD_KIND=$1
	GUARD_PIDS=
	: >"$BENCH_TMP/bulk-ports"
	rm -f "$BENCH_TMP"/guard-*.json
	[ "$GUARD_KIND" = migprio ] || return 0
	for ns in "$NS_SRC" "$NS_DST"; do
		bg_ns "$ns" "$MIGPRIOCTL" -j monitor >"$BENCH_TMP/guard-$ns.json" 2>&1 &
		GUARD_PIDS="$GUARD_PIDS $!"
	done
	# joined before the first connection: its events are in the file
	sleep 0.3
}

# the local ports of the bulk connections (the 4 flows and iperf3's
# control connection; hvsrc's, or the tenant's of PQ's br group), added to
# bulk-ports
guard_bulk_ports() {
	"$IP" netns exec "${BULK_NS_SRC:-$NS_SRC}" "$SS" -tnH state established "( dport = :$BULK_PORT )" 2>/dev/null |
		awk '{ n = split($3, a, ":"); print a[n] }' >>"$BENCH_TMP/bulk-ports"
}

guard_end() {
	local reason='' ports tracked=0 f
	ports=$(sort -nu "$BENCH_TMP/bulk-ports" 2>/dev/null | paste -sd, -)
	if [ -n "${GUARD_PIDS:-}" ]; then
		sleep 0.3	# the last flows' events
		# shellcheck disable=SC2086 # one pid per word
		kill $GUARD_PIDS 2>/dev/null
		# shellcheck disable=SC2086
		wait $GUARD_PIDS 2>/dev/null
		GUARD_PIDS=
	fi
	case ${GUARD_KIND:-none} in
	migprio)
		for f in "$BENCH_TMP"/guard-*.json; do
			[ -f "$f" ] || continue
			tracked=$((tracked + $(grep '"flow-start"' "$f" |
				grep -c "\"port\":${BULK_PORT}[,}]")))
		done
		[ "$tracked" = 0 ] ||
			reason="migprio tracked $tracked flow(s) of the bulk port $BULK_PORT as migration"
		;;
	expert)
		f=$(tr ',' '\n' <<<"$ports" | awk '$1 >= 49152 && $1 <= 49215' | paste -sd, -)
		[ -z "$f" ] ||
			reason="bulk connection(s) from local port(s) $f: the expert's src_port filter puts them in the migration class"
		;;
	esac
	if [ -n "$reason" ]; then
		log "INVALID ROW: $reason"
		GUARD_JSON="\"bulk_check\":{\"valid\":false,\"kind\":\"$GUARD_KIND\",\"bulk_ports\":[$ports],\"reason\":$(json_str "$reason")}"
	else
		GUARD_JSON="\"bulk_check\":{\"valid\":true,\"kind\":\"${GUARD_KIND:-none}\",\"bulk_ports\":[$ports]}"
	fi
}

# Sum of bytes_acked of established sockets in hvsrc, by destination port
# class: prints "MIG BULK" (migration = 49152-49215, bulk = BULK_PORT).
acked_bytes() {
	ns_src "$SS" -tinH state established 2>/dev/null | awk -v bp="$BULK_PORT" '
		/^[^ \t]/ { n = split($NF, a, ":"); port = a[n] + 0; next }
		{
			if (match($0, /bytes_acked:[0-9]+/)) {
				v = substr($0, RSTART + 12, RLENGTH - 12) + 0
				if (port >= 49152 && port <= 49215) mig += v
				else if (port == bp) bulk += v
			}
		}
		END { printf "%.0f %.0f\n", mig, bulk }'
}

# wait_listen PORT [NS]: until something listens on PORT in NS (hvdst; 5 s
# at most)
wait_listen() {
	local ns=${2:-$NS_DST}
	for _ in $(seq 1 50); do
		"$IP" netns exec "$ns" "$SS" -tlnH "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	log "nothing listens on port $1 in $ns"
	return 1
}

# 4 bulk TCP flows hvsrc -> hvdst (from BULK_NS_SRC when set: a tenant's
# netns; to BULK_NS_DST at BULK_ADDR_DST when set: a tenant behind the
# destination's bridge); their per-0.5 s throughput goes to bulk-cli.txt
# (iperf3 text, flushed as it goes), the start time to BULK_T0
bg_bulk() { exec "$IP" netns exec "${BULK_NS_SRC:-$NS_SRC}" "$@"; }
bulk_start() {
	bg_ns "${BULK_NS_DST:-$NS_DST}" iperf3 -s -1 -p "$BULK_PORT" >"$BENCH_TMP/bulk-srv.txt" 2>&1 &
	BULK_SRV=$!
	wait_listen "$BULK_PORT" "${BULK_NS_DST:-$NS_DST}"
	BULK_T0=$(now)
	bg_bulk iperf3 -c "${BULK_ADDR_DST:-$ADDR_DST}" -p "$BULK_PORT" -P 4 -t 900 -i 0.5 \
		--forceflush -f m >"$BENCH_TMP/bulk-cli.txt" 2>&1 &
	BULK_CLI=$!
	# let the 4 flows fill the link before the migration starts
	sleep 2
	guard_bulk_ports
}

# bulk_json: [[t_start,t_end,mbit],...] of the bulk flows' SUM intervals,
# t in epoch seconds
bulk_json() {
	awk -v t0="$BULK_T0" 'BEGIN { printf "[" }
		/^\[SUM\]/ && / sec / {
			split($2, iv, "-")
			for (i = 3; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1)
			if (iv[2] - iv[1] > 1.01) next
			printf "%s[%.3f,%.3f,%s]", n++ ? "," : "", t0 + iv[1], t0 + iv[2], v
		}
		END { printf "]" }' "$BENCH_TMP/bulk-cli.txt"
}

bulk_stop() {
	kill "$BULK_CLI" "$BULK_SRV" 2>/dev/null || true
	wait "$BULK_CLI" "$BULK_SRV" 2>/dev/null || true
	# iperf3 -s -1 may linger on a half-closed control connection
	sleep 0.2
}

# run_migration SCENARIO CONFIG REP MEM_MIB DIRTY_MIBS MAX_ROUNDS BULK(0/1) SAMPLE(0/1)
# Runs one migsim migration hvsrc -> hvdst and emits one result line. The
# receiver samples its byte count every 0.5 s (its timeline); with SAMPLE=1
# the bulk flows' 0.5 s intervals are added, for the plot. MIG_ARGS: more
# migsim send options (e.g. "-M qemu -c 4").
run_migration() {
	local scen=$1 cfg=$2 rep=$3 mem=$4 dirty=$5 rounds=$6 bulk=$7 sample=$8
	local rc t0 t1 a0 a1 bj=null
	rm -f "$BENCH_TMP/send.json" "$BENCH_TMP/recv.json"
	guard_start "${GUARD_CFG:-none}"
	bg_dst "$MIGSIM" recv -p "$MIG_PORT" -t 120 -j -i 500 \
		>"$BENCH_TMP/recv.json" 2>"$BENCH_TMP/recv.err" &
	local rpid=$!
	[ "$bulk" = 0 ] || bulk_start
	a0=$(acked_bytes)
	t0=$(now)
	# MIG_DURING: a command run (output to during.txt) MIG_DURING_DELAY
	# seconds into the migration, e.g. `migprioctl flow list` for the demo
	local dpid=
	if [ -n "${MIG_DURING:-}" ]; then
		(sleep "${MIG_DURING_DELAY:-1}"; eval "$MIG_DURING") >"$BENCH_TMP/during.txt" 2>&1 &
		dpid=$!
	fi
	rc=0
	# shellcheck disable=SC2086 # MIG_ARGS: several options
	ns_src "$MIGSIM" send -a "$ADDR_DST" -p "$MIG_PORT" -m "$mem" -d "$dirty" \
		-r "$rounds" -t 120 -j ${MIG_ARGS:-} >"$BENCH_TMP/send.json" 2>"$BENCH_TMP/send.err" || rc=$?
	t1=$(now)
	[ -z "$dpid" ] || wait "$dpid" 2>/dev/null || true
	a1=$(acked_bytes)
	[ "$bulk" = 0 ] || guard_bulk_ports
	if [ "$bulk" = 1 ]; then
		# one more second of bulk alone on the plot
		[ "$sample" = 0 ] || sleep 1
		bulk_stop
		bj=$(bulk_json)
	fi
	wait "$rpid" 2>/dev/null || true
	guard_end
	if [ "$rc" = 0 ] && [ "$bulk" = 0 ]; then
		# what a migration achieves alone on this link (P1b uses it)
		ALONE_MBIT="${ALONE_MBIT:-} $(jfield "$BENCH_TMP/send.json" bandwidth_mbit_s)"
	fi
	if [ "$rc" = 0 ] || [ "$rc" = 3 ]; then
		local f=$BENCH_TMP/send.json
		log "  -> $(jfield "$f" total_time_s) s, $(jfield "$f" rounds) live round(s), converged: $(jfield "$f" converged), migration at $(jfield "$f" bandwidth_mbit_s) Mbit/s, downtime $(jfield "$f" downtime_ms) ms; destination: complete after $(jfield "$f" dest_total_time_s) s, real downtime $(jfield "$f" real_downtime_ms) ms"
	else
		log "migsim send failed ($rc): $(cat "$BENCH_TMP/send.err")"
	fi
	emit "{\"scenario\":\"$scen\",\"config\":\"$cfg\",\"rep\":$rep,\"link_mbit\":$LINK_MBIT,\"rc\":$rc,$GUARD_JSON,\"t_start\":$t0,\"t_end\":$t1,\"acked_before\":[${a0// /,}],\"acked_after\":[${a1// /,}],\"send\":$(json_file "$BENCH_TMP/send.json"),\"recv\":$(json_file "$BENCH_TMP/recv.json"),\"bulk_intervals\":$bj,\"send_err\":$(json_str "$(head -c 300 "$BENCH_TMP/send.err" 2>/dev/null)")}"
}

# iperf_run SCENARIO CONFIG REP PORT SECONDS [extra iperf3 client args]
# One iperf3 flow hvsrc -> hvdst; emits its JSON.
iperf_run() {
	local scen=$1 cfg=$2 rep=$3 port=$4 secs=$5 kind=none
	shift 5
	# a flow to the bulk port must not be tracked by migprio (P2's other
	# flow, with 1024 rules); one to a migration port is not bulk
	[ "$port" != "$BULK_PORT" ] || ! lsmod | grep -q '^migprio ' || kind=migprio
	guard_start $kind
	bg_dst iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
	local spid=$!
	wait_listen "$port"
	ns_src iperf3 -c "$ADDR_DST" -p "$port" -t "$secs" -J "$@" \
		>"$BENCH_TMP/iperf.json" 2>/dev/null || true
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	guard_end
	emit "{\"scenario\":\"$scen\",\"config\":\"$cfg\",\"rep\":$rep,\"link_mbit\":$LINK_MBIT,\"port\":$port,$GUARD_JSON,\"iperf\":$(json_file "$BENCH_TMP/iperf.json")}"
}

# iperf_mbit FILE: receiver throughput in Mbit/s from an iperf3 -J file
iperf_mbit() {
	tr -d '\n\t ' <"$1" | grep -o '"sum_received":{[^}]*}' |
		grep -o '"bits_per_second":[0-9.e+]*' | head -n1 |
		awk -F: '{ printf "%.0f", $2 / 1e6 }'
}

# calibrate SECONDS: what the emulated machine pushes through a bare veth
# with 4 flows; sets LINK_MBIT to 200 when there is at least twice that,
# otherwise to about half of it (rounded to 10), so that the shaped link,
# not the emulated CPU, is the bottleneck, as on a real host.
calibrate() {
	local secs=$1 cap
	link_reset
	bg_dst iperf3 -s -1 -p "$BULK_PORT" >/dev/null 2>&1 &
	local spid=$!
	wait_listen "$BULK_PORT"
	ns_src iperf3 -c "$ADDR_DST" -p "$BULK_PORT" -P 4 -t "$secs" -J \
		>"$BENCH_TMP/calib.json" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	cap=$(iperf_mbit "$BENCH_TMP/calib.json")
	cap=${cap:-0}
	if [ "${BENCH_LINK_FIXED:-0}" = 1 ]; then
		:
	elif [ "$cap" -ge 400 ]; then
		LINK_MBIT=200
	else
		LINK_MBIT=$((cap / 2 / 10 * 10))
		[ "$LINK_MBIT" -ge 20 ] || LINK_MBIT=20
	fi
	log "bare veth capacity ${cap} Mbit/s (4 flows): link emulated at ${LINK_MBIT} Mbit/s"
	emit "{\"scenario\":\"calibrate\",\"capacity_mbit\":$cap,\"link_mbit\":$LINK_MBIT,\"kernel\":$(json_str "$(uname -r)"),\"nproc\":$(nproc)}"
}
