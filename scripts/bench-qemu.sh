# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
# (QM_* are read by qemu_lib.sh)
#
# PQ: real QEMU migrations (guest side, sourced by bench-vm.sh and
# bench-demo.sh; needs `vm-run --qemu` and selftests/qemu_lib.sh).
#
# A real qemu-system-x86_64 in hvsrc runs the test guest (userspace/guest:
# 64 MiB, 32 MiB of random RAM, a 2 MiB hot set dirtied at 8 MiB/s) and
# migrates it to a QEMU waiting with -incoming defer in hvdst: multifd, 4
# channels, QEMU's defaults otherwise (downtime-limit 300 ms, its default
# max-bandwidth).  The link is emulated at QEMU_LINK_MBIT (100 Mbit/s).
# Rows (one migration each, in one boot):
#   alone    no other traffic (one htb class + fq_codel, as P1 a)
#   linux    4 bulk TCP flows, no migprio (as P1 b)
#   migprio  4 bulk flows, migprio: dev set queue htb rate LINK guard 0,
#            rule add preset qemu (as P1 c)
#   expert   4 bulk flows, the expert's hand-built tc + sysctls (as P1 d)
#   r1       as migprio plus the first round's buffer settings:
#            sndbuf 32M rcvbuf 32M (and notsent off where migprioctl has
#            that option)
# Figures, all from QMP: destination time (migrate -> destination RESUME),
# real downtime (source STOP -> destination RESUME), QEMU's own total time
# and downtime (query-migrate on the source).

QEMU_LINK_MBIT=${QEMU_LINK_MBIT:-100}

# migprio with extra `dev set` arguments (the r1 row)
cfg_migprio_args() {
	local ns dev
	GUARD_CFG=migprio
	mp_on
	for ns in "$NS_SRC:$DEV_SRC" "$NS_DST:$DEV_DST"; do
		dev=${ns#*:}
		ns=${ns%%:*}
		# shellcheck disable=SC2068 # the extra words are separate arguments
		"$IP" netns exec "$ns" "$MIGPRIOCTL" dev set "$dev" queue htb \
			rate "${LINK_MBIT}mbit" guard 0 $@ >/dev/null || return 1
		"$IP" netns exec "$ns" "$MIGPRIOCTL" rule add preset qemu >/dev/null
	done
}

# the round-1 buffer options this migprioctl understands
r1_args() {
	local a="sndbuf 32M rcvbuf 32M"
	"$MIGPRIOCTL" dev help 2>&1 | grep -q notsent && a="$a notsent off"
	echo "$a"
}

# qemu_run CONFIG BULK(0/1): one real migration, one result line
qemu_run() {
	local cfg=$1 bulk=$2 rc=0
	QM_NS_SRC=$NS_SRC QM_NS_DST=$NS_DST QM_ADDR_DST=$ADDR_DST QM_PORT=$MIG_PORT
	QM_DIR=$BENCH_TMP/qm
	guard_start "${GUARD_CFG:-none}"
	if ! qm_start; then
		guard_end
		qm_stop
		emit "{\"scenario\":\"qemu\",\"config\":\"$cfg\",\"rc\":1,\"error\":\"QEMU did not start\"}"
		return 1
	fi
	[ "$bulk" = 0 ] || bulk_start
	qm_migrate || rc=1
	[ "$bulk" = 0 ] || bulk_stop
	qm_stop
	guard_end
	if [ "$rc" = 0 ]; then
		log "  -> destination runs after $QM_DEST_S s, real downtime $QM_DOWNTIME_S s; QEMU says: total $QM_QEMU_TOTAL_MS ms, downtime $QM_QEMU_DOWNTIME_MS ms"
		emit "{\"scenario\":\"qemu\",\"config\":\"$cfg\",\"rc\":0,\"link_mbit\":$LINK_MBIT,\"bulk\":$bulk,$GUARD_JSON,\"dev_set\":$(json_str "${QEMU_DEVSET:-}"),\"qm\":$QM_RESULT_JSON}"
	else
		log "  -> migration failed (see $QM_DIR)"
		emit "{\"scenario\":\"qemu\",\"config\":\"$cfg\",\"rc\":1,\"error\":$(json_str "$(tail -c 300 "$QM_DIR/src.qmp" 2>/dev/null)")}"
	fi
	return $rc
}

# pq [CONFIGS]: the rows (default: alone linux migprio expert r1)
pq() {
	local cfgs=${1:-alone linux migprio expert r1} cfg saved=$LINK_MBIT
	if ! qm_available; then
		emit "{\"scenario\":\"qemu\",\"config\":\"all\",\"skipped\":\"QEMU or the guest not in the VM image (vm-run --qemu, make guest)\"}"
		return 0
	fi
	LINK_MBIT=$QEMU_LINK_MBIT
	for cfg in $cfgs; do
		if ! budget_ok 90; then
			skip_budget qemu "$cfg"
			continue
		fi
		case $cfg in migprio|r1)
			if ! have_migprio; then
				emit "{\"scenario\":\"qemu\",\"config\":\"$cfg\",\"skipped\":\"migprio.ko or migprioctl not built\"}"
				continue
			fi
		esac
		link_reset
		QEMU_DEVSET=
		case $cfg in
		alone|linux) cfg_shaped ;;
		migprio) cfg_migprio; QEMU_DEVSET="queue htb rate ${LINK_MBIT}mbit guard 0" ;;
		expert) cfg_expert ;;
		r1)
			QEMU_DEVSET="queue htb rate ${LINK_MBIT}mbit guard 0 $(r1_args)"
			# shellcheck disable=SC2046
			cfg_migprio_args $(r1_args)
			;;
		esac
		log "PQ $cfg: real QEMU, ${QM_MEM:-64} MiB guest, ${LINK_MBIT} Mbit/s$([ "$cfg" = alone ] || echo ', 4 bulk flows')${QEMU_DEVSET:+, dev set $QEMU_DEVSET}"
		qemu_run "$cfg" "$([ "$cfg" = alone ] && echo 0 || echo 1)"
	done
	link_reset
	LINK_MBIT=$saved
}
