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
# waits for it.  QM_CLIENT says whose migration path and settings are used:
#   qemu      QEMU straight over TCP (libvirt's native migration, QEMU by
#             hand): the destination waits with `-incoming defer` and
#             listens on QM_ADDR_DST:QM_PORT; multifd with QM_CHANNELS
#             channels (1 main + QM_CHANNELS data connections, all to
#             QM_PORT); everything else QEMU's default (downtime-limit
#             300 ms; max-bandwidth 128 MiB/s since 2020, also in 7.2, far
#             above the links here)
#   proxmox   Proxmox VE's default "secure" migration, as qemu-server's
#             PVE/QemuMigrate.pm does it: the destination listens on a
#             unix socket (-incoming unix:.../run/qemu-server/VMID.migrate),
#             the source host forwards the same path with
#             `ssh -e none -o BatchMode=yes -o HostKeyAlias=NODE
#             -o UserKnownHostsFile=... -o GlobalKnownHostsFile=none root@IP
#             -o ExitOnForwardFailure=yes -L SOCK:SOCK CMD` to sshd on the
#             destination (QM_ADDR_DST:22), and QEMU migrates to
#             unix:SOCK: one stream inside one TCP connection to port 22.
#             Capabilities: every one QEMU offers off but auto-converge and
#             xbzrle (dirty-bitmaps needs Proxmox's QEMU); parameters
#             max-bandwidth 16 GiB/s (no bwlimit set), downtime-limit
#             100 ms (migrate_downtime 0.1 s, its default), xbzrle-cache-size
#             10% of the guest's RAM rounded up to a power of 2; and its
#             poll loop: query-migrate every second (every 100 ms once
#             what remains is below the average per poll), and after more
#             than 5 polls in which the remaining bytes grew (or were 0)
#             downtime-limit doubles (at most 2000 s).  Each "host" has
#             its own root under QM_DIR ({src,dst}/run/qemu-server/), as
#             the two nodes have the same path.
#   kubevirt  KubeVirt's path: QEMU migrates to a unix socket of
#             virt-handler's source proxy (QM_DIR/src/migrationproxy/
#             UID-49152-source.sock), which opens one TCP connection, with
#             TLS, per connection QEMU opens, to the target virt-handler's
#             proxy on a port the kernel picks (here a random port in the
#             ephemeral range, QM_RELAY_PORT), which connects each to the
#             destination QEMU's unix socket; the proxies are socat
#             processes (UNIX-LISTEN,fork <-> OPENSSL, one certificate for
#             both ends, verified), in QM_NS_RELAY_SRC/QM_NS_RELAY_DST
#             (default: the QEMUs' namespaces), the target one listening on
#             QM_RELAY_ADDR_DST (default QM_ADDR_DST); QM_RELAY_TLS=0 for
#             KubeVirt's DisableTLS (plain TCP); multifd with
#             QM_CHANNELS channels (KubeVirt asks libvirt for 8 parallel
#             connections unless the VM has a CPU limit or dedicated
#             CPUs); QEMU's defaults otherwise
# QMP migration events are on in every case: they change nothing on the
# wire (Proxmox polls instead).  QM_VERSION picks the QEMU: 7.2 (Debian's,
# /opt/qemu) or 10 (bookworm-backports, /opt/qemu10).  QM_AVAIL_BW, if set
# (bytes/s), is given to the source as avail-switchover-bandwidth (QEMU >=
# 8.2: the bandwidth its switchover decision assumes instead of its own
# estimate).
#
# Set before qm_start (defaults in brackets):
#   QM_NS_SRC QM_NS_DST  the two namespaces (required)
#   QM_ADDR_DST          destination address to migrate to (required)
#   QM_CLIENT [qemu]     qemu, proxmox or kubevirt (above)
#   QM_VERSION [7.2]     7.2 or 10
#   QM_PORT [49152]      migration port of QM_CLIENT=qemu (migprio's preset
#                        qemu: 49152-49215)
#   QM_DIR [/tmp/qm]     serial output, QMP logs, results
#   QM_MEM [64]          guest RAM, MiB
#   QM_HOT [2048]        hot set, KiB        } the guest's command line,
#   QM_FILL [32]         random RAM, MiB     } see userspace/guest/guest.c
#   QM_RATE [8]          dirtying, MiB/s     }
#   QM_CHANNELS [4]      multifd channels
#   QM_TIMEOUT [120]     seconds for the guest to boot / a migration to end
#                        (multiplied by MP_SLOW)
#   QM_VMID [100]        Proxmox's VM id, in the socket paths
#   QM_SAMPLE [0]        1: sample the source's buffers (qm_sample)
#
#   qm_available          status 0 if QEMU QM_VERSION, the guest and what
#                         QM_CLIENT needs (ssh, sshd; socat) are in the image
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
#                         the client's value and the pre-switchover pause is
#                         answered at once (migrate-continue).  Status 0/1
#                         (HOLD's status is kept in QM_HOLD_RC).  Results:
#     QM_DEST_S       migrate command -> destination running, s
#     QM_DOWNTIME_S   source paused (STOP) -> destination running (RESUME), s
#                     (with HOLD: minus the time taken to answer the
#                     pre-switchover pause, QM_PRESWITCH_S)
#     QM_QEMU_TOTAL_MS, QM_QEMU_DOWNTIME_MS   QEMU's own figures (query-migrate)
#     QM_QEMU_MBPS    QEMU's own throughput figure (mbps)
#     QM_DOWNTIME_LIMIT_MS  downtime-limit at the end (proxmox: after its
#                     increases, QM_AUTOINC of them)
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

QM_CLIENT=${QM_CLIENT:-qemu}
QM_VERSION=${QM_VERSION:-7.2}
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
QM_VMID=${QM_VMID:-100}
QM_PIDS=()
QM_ID=0
JQ=${JQ:-/usr/bin/jq}
SS=${SS:-/usr/bin/ss}
IP=${IP:-/usr/sbin/ip}

qm_wrapper() {
	case $QM_VERSION in
	7.2) echo /opt/qemu/qemu-system-x86_64 ;;
	*) echo "/opt/qemu${QM_VERSION%%.*}/qemu-system-x86_64" ;;
	esac
}

qm_available() {
	[ -x "$(qm_wrapper)" ] && [ -f "$QM_GUEST" ] || return 1
	case $QM_CLIENT in
	proxmox) [ -x /usr/bin/ssh ] && [ -x /usr/sbin/sshd ] && [ -x /usr/bin/ssh-keygen ] ;;
	kubevirt) [ -x /usr/bin/socat ] && [ -x /usr/bin/openssl ] ;;
	esac
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
	"$IP" netns exec "$ns" "$(qm_wrapper)" -M pc -m "${QM_MEM}M" -nodefaults \
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

# the destination QEMU's incoming address
qm_incoming() {
	case $QM_CLIENT in
	proxmox) echo "unix:$QM_DIR/dst/run/qemu-server/$QM_VMID.migrate" ;;
	kubevirt) echo "unix:$QM_DIR/dst/migrationproxy/$QM_VMID-49152-source.sock" ;;
	*) echo "tcp:$QM_ADDR_DST:$QM_PORT" ;;
	esac
}
# ... and where the source QEMU sends
qm_outgoing() {
	case $QM_CLIENT in
	proxmox) echo "unix:$QM_DIR/src/run/qemu-server/$QM_VMID.migrate" ;;
	kubevirt) echo "unix:$QM_DIR/src/migrationproxy/$QM_VMID-49152-source.sock" ;;
	*) echo "tcp:$QM_ADDR_DST:$QM_PORT" ;;
	esac
}

# status 0 once URI (tcp:A:P or unix:PATH) listens in NS
qm_uri_listening() { # NS URI
	case $2 in
	unix:*) [ -S "${2#unix:}" ] ;;
	*) qm_listening "$1" "${2##*:}" ;;
	esac
}

qm_start() {
	mkdir -p "$QM_DIR"
	rm -rf "${QM_DIR:?}"/*
	mkdir -p "$QM_DIR/src/run/qemu-server" "$QM_DIR/dst/run/qemu-server" \
		"$QM_DIR/src/migrationproxy" "$QM_DIR/dst/migrationproxy"
	if declare -F defer >/dev/null; then
		defer qm_stop
	fi
	case $QM_CLIENT in
	proxmox)
		# started for the migration: listening at once (Proxmox adds -S
		# and resumes the guest itself afterwards; here it resumes as
		# soon as it has the state)
		qm_qemu dst -incoming "$(qm_incoming)" || return 1
		qm_sshd_start || return 1
		;;
	kubevirt)
		qm_qemu dst -incoming defer || return 1
		qm_tls_cert || return 1
		;;
	*) qm_qemu dst -incoming defer || return 1 ;;
	esac
	qm_qemu src || return 1
	if ! qm_wait "$QM_TIMEOUT" qm_has "$QM_DIR/src.serial" '^ready'; then
		qm_log "guest not ready on the source: $(head -c 300 "$QM_DIR/src.serial")"
		return 1
	fi
}

# bg NS LOG CMD...: CMD in the background in NS, its pid in QM_PIDS
qm_bg() {
	local ns=$1 log=$2
	shift 2
	"$IP" netns exec "$ns" "$@" >"$log" 2>&1 &
	QM_PIDS+=($!)
}

# Proxmox: sshd on the destination, root's key authorised
qm_sshd_start() {
	local d=$QM_DIR/sshd
	mkdir -p "$d" /run/sshd /root/.ssh
	chmod 700 /root/.ssh
	grep -q '^sshd:' /etc/passwd ||
		echo 'sshd:x:101:65534::/run/sshd:/usr/sbin/nologin' >>/etc/passwd
	[ -f /root/.ssh/id_ed25519 ] ||
		ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519 || return 1
	cp /root/.ssh/id_ed25519.pub "$d/authorized_keys"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" || return 1
	# what /etc/pve/nodes/NODE/ssh_known_hosts holds for the node
	echo "dst $(cat "$d/host_key.pub")" >"$d/known_hosts"
	cat >"$d/sshd_config" <<-EOT
	ListenAddress $QM_ADDR_DST
	Port 22
	HostKey $d/host_key
	AuthorizedKeysFile $d/authorized_keys
	PidFile $d/sshd.pid
	StrictModes no
	UsePAM no
	PermitRootLogin prohibit-password
	AllowStreamLocalForwarding yes
	EOT
	qm_bg "$QM_NS_DST" "$d/sshd.log" /usr/sbin/sshd -D -e -f "$d/sshd_config"
	qm_wait 20 qm_listening "$QM_NS_DST" 22 ||
		{ qm_log "sshd did not start: $(head -c 300 "$d/sshd.log")"; return 1; }
}

# Proxmox: the tunnel, PVE::Tunnel::fork_ssh_tunnel's command line with
# PVE::SSHInfo's options (the remote command stands in for `qm mtunnel`)
qm_ssh_tunnel() {
	local s=${1#unix:} d=${2#unix:}
	qm_bg "$QM_NS_SRC" "$QM_DIR/ssh.log" /usr/bin/ssh -e none -o BatchMode=yes \
		-o HostKeyAlias=dst -o "UserKnownHostsFile=$QM_DIR/sshd/known_hosts" \
		-o GlobalKnownHostsFile=none "root@$QM_ADDR_DST" \
		-o ExitOnForwardFailure=yes -L "$s:$d" \
		'echo tunnel online; exec sleep 100000'
	qm_wait 30 test -S "$s" ||
		{ qm_log "ssh tunnel not up: $(head -c 300 "$QM_DIR/ssh.log")"; return 1; }
}

# KubeVirt: one certificate for both proxies (virt-handler's migration
# server and client certificates come from one CA)
qm_tls_cert() {
	local d=$QM_DIR/tls
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj /CN=migprio-relay -days 2 -keyout "$d/key.pem" -out "$d/cert.pem" \
		>"$d/openssl.log" 2>&1 ||
		{ qm_log "openssl: $(cat "$d/openssl.log")"; return 1; }
}

# KubeVirt: the two proxies. The target's listens on a free port of the
# ephemeral range (virt-handler listens on port 0).
qm_relays() {
	local s=${1#unix:} d=${2#unix:} t=$QM_DIR/tls port
	local tls="cert=$t/cert.pem,key=$t/key.pem,cafile=$t/cert.pem,verify=1"
	local listen=OPENSSL-LISTEN connect=OPENSSL ctls=",$tls,commonname=migprio-relay"
	local ns_s=${QM_NS_RELAY_SRC:-$QM_NS_SRC} ns_d=${QM_NS_RELAY_DST:-$QM_NS_DST}
	local addr=${QM_RELAY_ADDR_DST:-$QM_ADDR_DST}
	if [ "${QM_RELAY_TLS:-1}" = 0 ]; then
		# KubeVirt's DisableTLS
		listen=TCP-LISTEN connect=TCP tls='' ctls=''
	fi
	port=${QM_RELAY_PORT:-}
	while [ -z "$port" ] || qm_listening "$ns_d" "$port"; do
		port=$((32768 + RANDOM % 28000))
	done
	QM_RELAY_PORT_USED=$port
	qm_bg "$ns_d" "$QM_DIR/relay-dst.log" /usr/bin/socat \
		"$listen:$port,bind=$addr,reuseaddr,fork${tls:+,$tls}" "UNIX-CONNECT:$d"
	qm_wait 20 qm_listening "$ns_d" "$port" ||
		{ qm_log "target relay not up: $(head -c 300 "$QM_DIR/relay-dst.log")"; return 1; }
	qm_bg "$ns_s" "$QM_DIR/relay-src.log" /usr/bin/socat \
		"UNIX-LISTEN:$s,fork" "$connect:$addr:$port$ctls"
	qm_wait 20 test -S "$s" ||
		{ qm_log "source relay not up: $(head -c 300 "$QM_DIR/relay-src.log")"; return 1; }
}

qm_stop() {
	local p
	for p in src dst; do
		[ -p "$QM_DIR/$p.in" ] && timeout 2 sh -c \
			"printf '%s\n' '{\"execute\":\"quit\"}' >'$QM_DIR/$p.in'" 2>/dev/null
	done
	sleep 0.2
	for p in "${QM_PIDS[@]}"; do
		# a relay's per-connection children first
		pkill -P "$p" 2>/dev/null
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

qm_caps() { # SIDE JSON-LIST
	qm_cmd "$1" "{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":[$2]}}" >/dev/null
}
qm_params() { # SIDE JSON-MEMBERS
	qm_cmd "$1" "{\"execute\":\"migrate-set-parameters\",\"arguments\":{$2}}" >/dev/null
}

# The client's capabilities and parameters (HOLD: pause-before-switchover)
qm_settings() {
	local hold=$1 side caps on c cache
	if [ "$QM_CLIENT" = proxmox ]; then
		# PVE::QemuMigrate::Helpers::set_migration_caps: every
		# capability the source offers, all off but these (the source
		# only; the destination is left as started)
		on=" auto-converge xbzrle events ${hold:+pause-before-switchover }"
		caps=$(qm_cmd src '{"execute":"query-migrate-capabilities"}' |
			"$JQ" -c --arg on "$on" '[.return[] | .capability as $c |
				{capability: $c, state: ($on | contains(" " + $c + " "))}]' |
			sed 's/^\[//; s/\]$//') || return 1
		# xbzrle cache: 10% of the guest's memory, rounded up to a
		# power of 2 (round_powerof2)
		c=$((QM_MEM * 1048576 / 10)) cache=2
		while [ "$cache" -lt "$c" ]; do cache=$((cache * 2)); done
		qm_caps src "$caps" &&
		qm_params src "\"max-bandwidth\":$((16 << 30)),\"downtime-limit\":100,\"xbzrle-cache-size\":$cache" ||
			return 1
	else
		for side in src dst; do
			caps='{"capability":"multifd","state":true},{"capability":"events","state":true}'
			[ -z "$hold" ] || [ "$side" != src ] ||
				caps+=',{"capability":"pause-before-switchover","state":true}'
			qm_caps "$side" "$caps" &&
			qm_params "$side" "\"multifd-channels\":$QM_CHANNELS" || return 1
		done
	fi
	if [ -n "${QM_AVAIL_BW:-}" ]; then
		qm_params src "\"avail-switchover-bandwidth\":$QM_AVAIL_BW" || return 1
	fi
}

# Proxmox's poll loop (PVE::QemuMigrate::phase2), in the background until
# the migration is no longer active: doubles downtime-limit after more than
# 5 polls in which the remaining bytes grew (or were 0); each increase is a
# line "MS" in QM_DIR/autoinc.
qm_pve_poll() {
	local i=0 us=1000000 last=0 lastrem='' cnt=0 dt=100 r st tr rem avg
	: >"$QM_DIR/autoinc"
	while :; do
		i=$((i + 1))
		avg=0
		[ "$last" = 0 ] || avg=$((last / i))
		sleep "$(awk -v u=$us 'BEGIN { print u / 1e6 }')"
		r=$(qm_cmd src '{"execute":"query-migrate"}') || return 0
		read -r st tr rem <<<"$(printf '%s' "$r" |
			"$JQ" -r '.return | "\(.status) \(.ram.transferred // 0) \(.ram.remaining // 0)"')"
		case $st in
		setup|cancelling|wait-unplug) continue ;;
		active|device) ;;
		*) return 0 ;;
		esac
		if [ "$tr" != "$last" ]; then
			[ "$avg" = 0 ] || [ "$rem" -ge "$avg" ] || us=100000
			if { [ -n "$lastrem" ] && [ "$rem" -gt "$lastrem" ]; } || [ "$rem" = 0 ]; then
				cnt=$((cnt + 1))
			fi
			lastrem=$rem
			if [ "$cnt" -gt 5 ]; then
				cnt=0
				dt=$((dt * 2))
				[ "$dt" -le 2000000 ] || dt=2000000
				qm_params src "\"downtime-limit\":$dt" && echo "$dt" >>"$QM_DIR/autoinc"
			fi
		fi
		last=$tr
	done
}

# QM_SAMPLE=1: every 200 ms while the migration runs, what the source host
# holds between QEMU's writes and the wire: the unread bytes of the unix
# sockets at QEMU's outgoing path (the ssh client's or the proxy's end:
# ss -x Recv-Q), the TCP Send-Q (unsent + unacknowledged) of the
# connections to the tunnel's or the proxy's port (ss -t), and how far
# QEMU is ahead of the peer: the RAM bytes QEMU has written (query-migrate)
# minus the bytes the peer acknowledged on those connections (ss -i
# bytes_acked; the tunnel's framing makes it slightly low), which counts
# what waits inside ssh or the proxy too.  One line "T UNIX TCP AHEAD" per
# sample in QM_DIR/samples; the maxima go in the results (buf_max_unix,
# buf_max_tcp, ahead_max), and QEMU's lead at the last sample before the
# source stopped (ahead_stop: what the destination still had to receive
# when QEMU's switchover decision was made, give or take 200 ms).
qm_sample() { # PATH PORT
	local ns=${QM_NS_RELAY_SRC:-$QM_NS_SRC} u t q a
	[ "$QM_CLIENT" = proxmox ] && ns=$QM_NS_SRC
	while :; do
		u=$("$IP" netns exec "$ns" "$SS" -Hxn 2>/dev/null |
			awk -v p="$1" '$5 == p { s += $3 } END { printf "%d", s }')
		t=$("$SS" -N "$ns" -Htn state established "( dport = :$2 )" 2>/dev/null |
			awk '{ s += $2 } END { printf "%d", s }')
		a=$("$SS" -N "$ns" -Htin state established "( dport = :$2 )" 2>/dev/null |
			grep -o 'bytes_acked:[0-9]*' | awk -F: '{ s += $2 } END { printf "%d", s }')
		q=$(qm_cmd src '{"execute":"query-migrate"}' 2>/dev/null |
			"$JQ" -r '.return.ram.transferred // 0')
		echo "$EPOCHREALTIME $u $t $((${q:-0} - a))"
		sleep 0.2
	done >"$QM_DIR/samples"
}

qm_migrate() {
	local hold=${1:-} t0 r in out poll='' sampler=''
	local dflt_bw t_pre t_cont
	QM_HOLD_RC=0 QM_PRESWITCH_S=0 QM_AUTOINC=0 QM_RELAY_PORT_USED=null
	in=$(qm_incoming) out=$(qm_outgoing)
	qm_settings "$hold" || return 1
	dflt_bw=$(qm_cmd src '{"execute":"query-migrate-parameters"}' |
		"$JQ" -r '.return["max-bandwidth"]')
	QM_MAX_BW=$dflt_bw
	if [ "$QM_CLIENT" != proxmox ]; then
		qm_cmd dst "{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"$in\"}}" >/dev/null ||
			return 1
	fi
	qm_wait 10 qm_uri_listening "$QM_NS_DST" "$in" || { qm_log "destination not listening on $in"; return 1; }
	case $QM_CLIENT in
	proxmox) qm_ssh_tunnel "$out" "$in" || return 1 ;;
	kubevirt) qm_relays "$out" "$in" || return 1 ;;
	esac
	if [ -n "$hold" ]; then
		qm_params src '"max-bandwidth":1000' || return 1
	fi
	t0=$EPOCHREALTIME
	qm_cmd src "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"$out\"}}" >/dev/null || return 1
	if [ "$QM_CLIENT" = proxmox ]; then
		qm_pve_poll &
		poll=$!
	fi
	if [ "${QM_SAMPLE:-0}" = 1 ] && [ "$QM_CLIENT" != qemu ]; then
		qm_sample "${out#unix:}" "$([ "$QM_CLIENT" = proxmox ] && echo 22 || echo "$QM_RELAY_PORT_USED")" &
		sampler=$!
	fi
	if [ -n "${QM_DURING:-}" ]; then
		{
			qm_wait 30 qm_event src MIGRATION active &&
				sleep "${QM_DURING_DELAY:-1}" && eval "$QM_DURING"
		} >"$QM_DIR/during.txt" 2>&1 &
	fi
	if [ -n "$hold" ]; then
		qm_wait 30 qm_event src MIGRATION active || { qm_log "migration not active"; return 1; }
		eval "$hold" || QM_HOLD_RC=$?
		qm_params src "\"max-bandwidth\":$dflt_bw" || return 1
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
		[ -z "$poll" ] || kill "$poll" 2>/dev/null
		[ -z "$sampler" ] || kill "$sampler" 2>/dev/null
		return 1
	fi
	if [ -n "$poll" ]; then
		wait "$poll" 2>/dev/null
		QM_AUTOINC=$(grep -c . "$QM_DIR/autoinc" 2>/dev/null)
	fi
	QM_BUF_MAX_UNIX=null QM_BUF_MAX_TCP=null QM_AHEAD_MAX=null QM_AHEAD_STOP=null
	if [ -n "$sampler" ]; then
		kill "$sampler" 2>/dev/null
		wait "$sampler" 2>/dev/null
		# the maxima, and QEMU's lead at the last sample before STOP
		read -r QM_BUF_MAX_UNIX QM_BUF_MAX_TCP QM_AHEAD_MAX QM_AHEAD_STOP <<<"$(awk \
			-v stop="$(qm_event_time src STOP)" '
			$2 > u { u = $2 } $3 > t { t = $3 } $4 > a { a = $4 }
			$1 < stop + 0 { s = $4 }
			END { printf "%d %d %d %d", u, t, a, s }' "$QM_DIR/samples")"
	fi
	if qm_event src MIGRATION failed; then
		qm_log "migration failed: $(qm_cmd src '{"execute":"query-migrate"}')"
		[ ! -s "$QM_DIR/dst.err" ] || qm_log "destination: $(tail -c 300 "$QM_DIR/dst.err")"
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
	QM_DOWNTIME_LIMIT_MS=$(qm_cmd src '{"execute":"query-migrate-parameters"}' |
		"$JQ" -r '.return["downtime-limit"]')
	QM_QEMU_VERSION=$(qm_cmd src '{"execute":"query-version"}' |
		"$JQ" -r '.return.qemu | "\(.major).\(.minor).\(.micro)"')
	QM_T_MIGRATE=$t0
	QM_T_STOP=$(qm_event_time src STOP)
	QM_T_RESUME=$(qm_event_time dst RESUME)
	QM_DEST_S=$(awk -v a="$QM_T_RESUME" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')
	QM_DOWNTIME_S=$(awk -v a="$QM_T_RESUME" -v b="$QM_T_STOP" -v p="$QM_PRESWITCH_S" \
		'BEGIN { printf "%.3f", a - b - p }')
	QM_RESULT_JSON=$(printf '{"dest_s":%s,"real_downtime_s":%s,"qemu_total_ms":%s,"qemu_downtime_ms":%s,"qemu_mbps":%s,"ram_bytes":%s,"max_bandwidth":%s,"downtime_limit_ms":%s,"autoinc":%s,"avail_bw":%s,"qemu_version":"%s","client":"%s","relay_port":%s,"buf_max_unix":%s,"buf_max_tcp":%s,"ahead_max":%s,"ahead_stop":%s,"t_migrate":%s,"t_stop":%s,"t_resume":%s,"mem_mib":%s,"hot_kib":%s,"fill_mib":%s,"rate_mibs":%s,"channels":%s}' \
		"$QM_DEST_S" "$QM_DOWNTIME_S" "$QM_QEMU_TOTAL_MS" "$QM_QEMU_DOWNTIME_MS" \
		"$QM_QEMU_MBPS" "$QM_RAM_BYTES" "$QM_MAX_BW" "$QM_DOWNTIME_LIMIT_MS" "$QM_AUTOINC" \
		"${QM_AVAIL_BW:-null}" "$QM_QEMU_VERSION" "$QM_CLIENT" "$QM_RELAY_PORT_USED" \
		"$QM_BUF_MAX_UNIX" "$QM_BUF_MAX_TCP" "$QM_AHEAD_MAX" "$QM_AHEAD_STOP" \
		"$t0" "$QM_T_STOP" "$QM_T_RESUME" \
		"$QM_MEM" "$QM_HOT" "$QM_FILL" "$QM_RATE" \
		"$([ "$QM_CLIENT" = proxmox ] && echo 0 || echo "$QM_CHANNELS")")
}

# ----------------------------------------------------------- for the tests
# qm_step DESC CMD...: ktap_result of CMD run in this shell (it starts
# background QEMUs and sets variables: no command substitution); its output
# is shown on failure
qm_step() {
	local desc=$1 rc=0
	shift
	"$@" >"${QM_DIR:-/tmp}.step" 2>&1 || rc=$?
	[ "$rc" = 0 ] || { sed 's/^/# /' "${QM_DIR:-/tmp}.step"; diag "exit status $rc: $*"; }
	ktap_result "$rc" "$desc"
}

# the figures of the last qm_migrate as diagnostics (never judged)
qm_diag_times() {
	diag "destination running ${QM_DEST_S:-?} s after migrate (includes the hold)"
	diag "real downtime (source STOP -> destination RESUME): ${QM_DOWNTIME_S:-?} s (without the ${QM_PRESWITCH_S:-?} s the test took to answer pre-switchover)"
	diag "QEMU ${QM_QEMU_VERSION:-?}'s own figures: total ${QM_QEMU_TOTAL_MS:-?} ms (includes the hold), downtime ${QM_QEMU_DOWNTIME_MS:-?} ms (includes the pre-switchover pause), max-bandwidth ${QM_MAX_BW:-?} B/s, downtime-limit ${QM_DOWNTIME_LIMIT_MS:-?} ms"
}

# qm_class_bytes NS DEV CLASSID: Sent bytes of a class (tc -s class show;
# iproute2 6.1's JSON has no prio class statistics)
qm_class_bytes() {
	"$TC" -n "$1" -s class show dev "$2" | awk -v c="$3" '
		$1 == "class" { cur = $3 }
		$1 == "Sent" && cur == c { print $2; found = 1; exit }
		END { if (!found) print 0 }'
}

# qm_held_record NS_SRC NS_DST PORT N: while a migration is held, wait until
# NS_SRC has N established TCP connections with PORT at one end, then
# record in QM_DIR/hold.txt "ss A B" (ss's count in both namespaces),
# "flows A B" (migprio's flows with PORT at one end) and NS_SRC's flow list
qm_held_record() {
	local a=$1 b=$2 port=$3 n=$4 f
	f="( sport = :$port or dport = :$port )"
	busywait $((20000 * MP_SLOW)) qm_conns_ge "$a" "$f" "$n"
	{
		echo "ss $(qm_conns "$a" "$f") $(qm_conns "$b" "$f")"
		echo "flows $(qm_flows "$a" "$port") $(qm_flows "$b" "$port")"
		"$IP" netns exec "$a" "$MIGPRIOCTL" flow list
	} >"$QM_DIR/hold.txt" 2>&1
}
qm_conns() { "$SS" -N "$1" -Htn state established "$2" | wc -l; }
qm_conns_ge() { [ "$(qm_conns "$1" "$2")" -ge "$3" ]; }
qm_flows() {
	"$IP" netns exec "$1" "$MIGPRIOCTL" -j flow list |
		"$JQ" "[.[] | select(.remote.port == $2 or .local.port == $2)] | length"
}

# qm_both_are WHAT N: hold.txt's line "WHAT A B" has N at both ends
qm_both_are() {
	local l
	l=$(grep "^$1 " "$QM_DIR/hold.txt" 2>/dev/null)
	[ "$l" = "$1 $2 $2" ] ||
		{ echo "$1 (source, destination): ${l#"$1" } (expected $2 at both ends)"; return 1; }
}

# qm_migrated HOLD: migrate with HOLD, then the destination runs and the
# source is done (query-status)
qm_migrated() {
	qm_migrate "$1" || return 1
	[ "$(qm_status dst)" = running ] || { echo "destination: $(qm_status dst)"; return 1; }
	[ "$(qm_status src)" = postmigrate ] || { echo "source: $(qm_status src)"; return 1; }
}

# hold.txt as diagnostics
qm_diag_held() {
	sed 's/^/  /' "$QM_DIR/hold.txt" 2>/dev/null | while read -r l; do diag "$l"; done
}

# qm_class_carried NS DEV: DEV's migration class 4d50:1 sent at least the
# RAM QEMU sent in the last migration
qm_class_carried() {
	local b
	b=$(qm_class_bytes "$1" "$2" 4d50:1)
	[ "$b" -ge "${QM_RAM_BYTES:-1}" ] ||
		{ echo "class 4d50:1 sent $b bytes, QEMU sent ${QM_RAM_BYTES:-?} bytes of RAM"; return 1; }
}
