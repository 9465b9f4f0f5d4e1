# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
# (QM_* results are for the scripts that source this file)
#
# qemu_lib.sh - real QEMU live migrations between two network namespaces,
# driven over QMP.  Sourced (not executable, so run_tests does not run it)
# by selftests/qemu_migration.sh, the benchmark (scripts/bench-qemu.sh) and
# the demo; inside the VM started with `selftests/vm-run --qemu`.
#
# A source QEMU in QM_NS_SRC runs the test guest (userspace/guest: a hot set
# dirtied at a set rate plus random RAM); a destination QEMU in QM_NS_DST
# waits with `-incoming defer`.  Both use multifd with QM_CHANNELS channels
# (1 main + QM_CHANNELS data connections, all to QM_PORT) and QMP events.
# Everything else is QEMU's default (downtime-limit 300 ms; max-bandwidth
# as QEMU sets it: 128 MiB/s since 2020, also in Debian's 7.2, far above
# the links here).
#
# Set before qm_start (defaults in brackets):
#   QM_NS_SRC QM_NS_DST  the two namespaces (required)
#   QM_ADDR_DST          destination address to migrate to (required)
#   QM_PORT [49152]      migration port (migprio's preset qemu: 49152-49215)
#   QM_DIR [/tmp/qm]     serial output, QMP logs, results
#   QM_MEM [64]          guest RAM, MiB
#   QM_HOT [2048]        hot set, KiB        } the guest's command line,
#   QM_FILL [32]         random RAM, MiB     } see userspace/guest/guest.c
#   QM_RATE [8]          dirtying, MiB/s     }
#   QM_CHANNELS [4]      multifd channels
#   QM_TIMEOUT [120]     seconds for the guest to boot / a migration to end
#                        (multiplied by MP_SLOW)
#
#   qm_available          status 0 if QEMU and the guest are in the image
#   qm_start              start both QEMUs, connect QMP, wait for the guest
#                         to be ready on the source; status 0/1
#   qm_migrate [HOLD]     migrate; waits until the destination runs.  With
#                         HOLD (a command), the migration is held with all
#                         its connections open while HOLD runs: QEMU's
#                         max-bandwidth is 1 KB/s until HOLD returns (it
#                         normally stays active), and pause-before-switchover
#                         is on, so that even a migration that converges
#                         anyway stops at pre-switchover with its
#                         connections open; max-bandwidth then goes back to
#                         QEMU's own default and the pre-switchover pause is
#                         answered at once (migrate-continue).  Status 0/1
#                         (HOLD's status is kept in QM_HOLD_RC).  Results:
#     QM_DEST_S       migrate command -> destination running, s
#     QM_DOWNTIME_S   source paused (STOP) -> destination running (RESUME), s
#                     (with HOLD: minus the time taken to answer the
#                     pre-switchover pause, QM_PRESWITCH_S)
#     QM_QEMU_TOTAL_MS, QM_QEMU_DOWNTIME_MS   QEMU's own figures (query-migrate)
#     QM_QEMU_MBPS    QEMU's own throughput figure (mbps)
#     QM_RESULT_JSON  all of it as one JSON object
#   QM_DURING (a command), if set, runs in the background
#                         QM_DURING_DELAY (1) s after the migration became
#                         active; its output goes to QM_DIR/during.txt
#   qm_guest_alive SIDE   status 0 once SIDE's (src|dst) serial output grows
#   qm_stop               quit both QEMUs (also run at exit if lib.sh's
#                         defer is there)
#   qm_cmd SIDE JSON      one QMP command; prints its reply line, status 1 on
#                         an error reply or no reply
#
# QMP runs over TCP on 127.0.0.1:QM_QMP_PORT of each namespace (bash's
# /dev/tcp: no python or socat needed).  Event and reply lines are kept in
# QM_DIR/{src,dst}.qmp.  Times come from QEMU's event timestamps (the host's
# CLOCK_REALTIME, the same clock as bash's $EPOCHREALTIME here).

QM_WRAPPER=${QM_WRAPPER:-/opt/qemu/qemu-system-x86_64}
QM_GUEST=${QM_GUEST:-/usr/local/share/migprio/migprio-guest.elf}
QM_PORT=${QM_PORT:-49152}
QM_QMP_PORT=${QM_QMP_PORT:-4444}
QM_DIR=${QM_DIR:-/tmp/qm}
QM_MEM=${QM_MEM:-64}
QM_HOT=${QM_HOT:-2048}
QM_FILL=${QM_FILL:-32}
QM_RATE=${QM_RATE:-8}
QM_CHANNELS=${QM_CHANNELS:-4}
QM_TIMEOUT=${QM_TIMEOUT:-120}
QM_PIDS=()
QM_ID=0
JQ=${JQ:-/usr/bin/jq}
SS=${SS:-/usr/bin/ss}
IP=${IP:-/usr/sbin/ip}

qm_available() {
	[ -x "$QM_WRAPPER" ] && [ -f "$QM_GUEST" ]
}

qm_log() { printf '# qm: %s\n' "$*" >&2; }

qm_ns() { # SIDE -> namespace
	if [ "$1" = src ]; then echo "$QM_NS_SRC"; else echo "$QM_NS_DST"; fi
}

# qm_wait SECONDS CMD...: poll CMD every 50 ms (SECONDS * MP_SLOW at most)
qm_wait() {
	local end=$((${EPOCHREALTIME/./} + $1 * ${MP_SLOW:-1} * 1000000))
	shift
	until "$@"; do
		[ "${EPOCHREALTIME/./}" -lt "$end" ] || return 1
		sleep 0.05
	done
}

qm_has() { grep -q -- "$2" "$1" 2>/dev/null; }
qm_has_str() { grep -qF -- "$2" "$1" 2>/dev/null; }

# QMP client of SIDE: a fifo for commands, all output appended to a log
qm_qmp_open() {
	local side=$1 ns
	ns=$(qm_ns "$side")
	rm -f "$QM_DIR/$side.in" && mkfifo "$QM_DIR/$side.in"
	: >"$QM_DIR/$side.qmp"
	# shellcheck disable=SC2016 # expanded by the inner bash
	"$IP" netns exec "$ns" /usr/bin/bash -c '
		exec 3<>/dev/tcp/127.0.0.1/"$1" || exit 1
		exec 4<>"$2"
		cat <&3 >>"$3" 2>/dev/null &
		exec cat <&4 >&3' qm-qmp "$QM_QMP_PORT" "$QM_DIR/$side.in" "$QM_DIR/$side.qmp" &
	QM_PIDS+=($!)
	qm_wait 10 qm_has "$QM_DIR/$side.qmp" '"QMP"' || return 1
	qm_cmd "$side" '{"execute":"qmp_capabilities"}' >/dev/null
}

qm_cmd() {
	local side=$1 json=$2 id line
	# unique even from $(qm_cmd ...) subshells, whose counters are lost
	QM_ID=$((QM_ID + 1))
	id=qm$QM_ID.$BASHPID.${EPOCHREALTIME/./}
	printf '%s\n' "${json%\}},\"id\":\"$id\"}" >"$QM_DIR/$side.in"
	if ! qm_wait 20 qm_has_str "$QM_DIR/$side.qmp" "\"id\": \"$id\""; then
		qm_log "$side: no reply to $json"
		return 1
	fi
	line=$(grep -F -- "\"id\": \"$id\"" "$QM_DIR/$side.qmp" | tr -d '\r')
	printf '%s\n' "$line"
	case $line in
	*'"error"'*) qm_log "$side: $json: $line"; return 1 ;;
	esac
}

qm_listening() { # NS PORT
	"$IP" netns exec "$1" "$SS" -Hltn "sport = :$2" 2>/dev/null | grep -q .
}

qm_qemu() { # SIDE [args]
	local side=$1 ns
	shift
	ns=$(qm_ns "$side")
	: >"$QM_DIR/$side.serial"
	"$IP" netns exec "$ns" "$QM_WRAPPER" -M pc -m "${QM_MEM}M" -nodefaults \
		-display none -monitor none -accel tcg,tb-size=32 \
		-kernel "$QM_GUEST" -append "hot=$QM_HOT fill=$QM_FILL rate=$QM_RATE" \
		-serial "file:$QM_DIR/$side.serial" \
		-qmp "tcp:127.0.0.1:$QM_QMP_PORT,server=on,wait=off" \
		"$@" >"$QM_DIR/$side.err" 2>&1 &
	QM_PIDS+=($!)
	if ! qm_wait 30 qm_listening "$ns" "$QM_QMP_PORT"; then
		qm_log "$side QEMU did not start: $(head -c 500 "$QM_DIR/$side.err")"
		return 1
	fi
	qm_qmp_open "$side"
}

qm_start() {
	mkdir -p "$QM_DIR"
	rm -f "$QM_DIR"/*
	if declare -F defer >/dev/null; then
		defer qm_stop
	fi
	qm_qemu dst -incoming defer || return 1
	qm_qemu src || return 1
	if ! qm_wait "$QM_TIMEOUT" qm_has "$QM_DIR/src.serial" '^ready'; then
		qm_log "guest not ready on the source: $(head -c 300 "$QM_DIR/src.serial")"
		return 1
	fi
}

qm_stop() {
	local p
	for p in src dst; do
		[ -p "$QM_DIR/$p.in" ] && timeout 2 sh -c \
			"printf '%s\n' '{\"execute\":\"quit\"}' >'$QM_DIR/$p.in'" 2>/dev/null
	done
	sleep 0.2
	for p in "${QM_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${QM_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	QM_PIDS=()
	return 0
}

# qm_event SIDE EVENT [STATUS]: the line of the first EVENT (MIGRATION: with
# data.status STATUS) in SIDE's log
qm_event_line() {
	grep -- "\"event\": \"$2\"" "$QM_DIR/$1.qmp" 2>/dev/null |
		grep -- "${3:+\"status\": \"$3\"}" | head -n1
}
qm_event() { [ -n "$(qm_event_line "$@")" ]; }
qm_event_time() { # -> epoch seconds with microseconds
	qm_event_line "$@" | tr -d '\r' | "$JQ" -r \
		'.timestamp | "\(.seconds).\(.microseconds | tostring | ("000000" + .)[-6:])"'
}

qm_serial_size() { stat -c %s "$QM_DIR/$1.serial" 2>/dev/null || echo 0; }

# status 0 once SIDE's serial output has grown past what it was at the call
qm_guest_alive() {
	local n
	n=$(qm_serial_size "$1")
	qm_wait 30 qm_serial_grew "$1" "$n"
}
qm_serial_grew() { [ "$(qm_serial_size "$1")" -gt "$2" ]; }

qm_status() { # SIDE -> running, inmigrate, paused, postmigrate...
	qm_cmd "$1" '{"execute":"query-status"}' | "$JQ" -r '.return.status'
}

qm_src_finished() {
	qm_event src MIGRATION completed || qm_event src MIGRATION failed
}

qm_preswitch_or_end() {
	qm_event src MIGRATION pre-switchover || qm_src_finished
}

qm_migrate() {
	local hold=${1:-} side t0 r uri=tcp:$QM_ADDR_DST:$QM_PORT
	local dflt_bw caps t_pre t_cont
	QM_HOLD_RC=0 QM_PRESWITCH_S=0
	for side in src dst; do
		caps='{"capability":"multifd","state":true},{"capability":"events","state":true}'
		[ -z "$hold" ] || [ "$side" != src ] ||
			caps+=',{"capability":"pause-before-switchover","state":true}'
		qm_cmd "$side" "{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":[$caps]}}" >/dev/null &&
		qm_cmd "$side" "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"multifd-channels\":$QM_CHANNELS}}" >/dev/null ||
			return 1
	done
	dflt_bw=$(qm_cmd src '{"execute":"query-migrate-parameters"}' |
		"$JQ" -r '.return["max-bandwidth"]')
	QM_MAX_BW=$dflt_bw
	qm_cmd dst "{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"$uri\"}}" >/dev/null ||
		return 1
	qm_wait 10 qm_listening "$QM_NS_DST" "$QM_PORT" || { qm_log "destination not listening"; return 1; }
	if [ -n "$hold" ]; then
		qm_cmd src '{"execute":"migrate-set-parameters","arguments":{"max-bandwidth":1000}}' >/dev/null ||
			return 1
	fi
	t0=$EPOCHREALTIME
	qm_cmd src "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"$uri\"}}" >/dev/null || return 1
	if [ -n "${QM_DURING:-}" ]; then
		{
			qm_wait 30 qm_event src MIGRATION active &&
				sleep "${QM_DURING_DELAY:-1}" && eval "$QM_DURING"
		} >"$QM_DIR/during.txt" 2>&1 &
	fi
	if [ -n "$hold" ]; then
		qm_wait 30 qm_event src MIGRATION active || { qm_log "migration not active"; return 1; }
		eval "$hold" || QM_HOLD_RC=$?
		qm_cmd src "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"max-bandwidth\":$dflt_bw}}" >/dev/null ||
			return 1
		if ! qm_wait "$QM_TIMEOUT" qm_preswitch_or_end; then
			qm_log "source: no pre-switchover: $(qm_cmd src '{"execute":"query-migrate"}')"
			return 1
		fi
		if qm_event src MIGRATION pre-switchover; then
			t_cont=$EPOCHREALTIME
			qm_cmd src '{"execute":"migrate-continue","arguments":{"state":"pre-switchover"}}' >/dev/null ||
				return 1
			t_pre=$(qm_event_time src MIGRATION pre-switchover)
			QM_PRESWITCH_S=$(awk -v a="$t_cont" -v b="$t_pre" 'BEGIN { printf "%.3f", a - b }')
		fi
	fi
	if ! qm_wait "$QM_TIMEOUT" qm_src_finished; then
		qm_log "source: migration did not end: $(qm_cmd src '{"execute":"query-migrate"}')"
		return 1
	fi
	if qm_event src MIGRATION failed; then
		qm_log "migration failed: $(qm_cmd src '{"execute":"query-migrate"}')"
		return 1
	fi
	if ! qm_wait "$QM_TIMEOUT" qm_event dst RESUME; then
		qm_log "destination did not resume: $(qm_status dst)"
		return 1
	fi
	r=$(qm_cmd src '{"execute":"query-migrate"}') || return 1
	QM_QEMU_TOTAL_MS=$(printf '%s' "$r" | "$JQ" -r '.return["total-time"]')
	QM_QEMU_DOWNTIME_MS=$(printf '%s' "$r" | "$JQ" -r '.return.downtime')
	QM_QEMU_MBPS=$(printf '%s' "$r" | "$JQ" -r '.return.ram.mbps')
	QM_RAM_BYTES=$(printf '%s' "$r" | "$JQ" -r '.return.ram.transferred')
	QM_T_MIGRATE=$t0
	QM_T_STOP=$(qm_event_time src STOP)
	QM_T_RESUME=$(qm_event_time dst RESUME)
	QM_DEST_S=$(awk -v a="$QM_T_RESUME" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')
	QM_DOWNTIME_S=$(awk -v a="$QM_T_RESUME" -v b="$QM_T_STOP" -v p="$QM_PRESWITCH_S" \
		'BEGIN { printf "%.3f", a - b - p }')
	QM_RESULT_JSON=$(printf '{"dest_s":%s,"real_downtime_s":%s,"qemu_total_ms":%s,"qemu_downtime_ms":%s,"qemu_mbps":%s,"ram_bytes":%s,"max_bandwidth":%s,"t_migrate":%s,"t_stop":%s,"t_resume":%s,"mem_mib":%s,"hot_kib":%s,"fill_mib":%s,"rate_mibs":%s,"channels":%s}' \
		"$QM_DEST_S" "$QM_DOWNTIME_S" "$QM_QEMU_TOTAL_MS" "$QM_QEMU_DOWNTIME_MS" \
		"$QM_QEMU_MBPS" "$QM_RAM_BYTES" "$QM_MAX_BW" "$t0" "$QM_T_STOP" "$QM_T_RESUME" \
		"$QM_MEM" "$QM_HOT" "$QM_FILL" "$QM_RATE" "$QM_CHANNELS")
}
