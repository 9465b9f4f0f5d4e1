# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# P5 QEMU's view (guest side, sourced by bench-vm.sh): the same migration
# (4 channels, 4 bulk flows, migprio on both hosts) once per socket buffer
# size given to migration sockets (`dev set ... sndbuf B rcvbuf B`;
# "default": migprio's own) and per migsim mode: ack (a round ends with the
# receiver's acknowledgment) and qemu (like QEMU 7.2: bandwidth from the
# bytes written to the sockets, reported times end when the last byte is
# written). Both modes also report the destination's view: its total time
# and the real downtime (source stop -> everything at the destination).

# p5 MEM_MIB DIRTY_MIBS [BUFFERS]
p5() {
	local mem=$1 dirty=$2 bufs=${3:-default 32M 1M} buf mode ns dev
	if ! have_migprio; then
		emit '{"scenario":"p5","config":"all","rep":1,"skipped":"migprio.ko or migprioctl not built"}'
		return
	fi
	for buf in $bufs; do
		for mode in ack qemu; do
			if ! budget_ok 25; then
				skip_budget p5 "$buf-$mode"
				continue
			fi
			link_reset
			cfg_migprio
			if [ "$buf" != default ]; then
				for ns in "$NS_SRC:$DEV_SRC" "$NS_DST:$DEV_DST"; do
					dev=${ns#*:}
					ns=${ns%%:*}
					"$IP" netns exec "$ns" "$MIGPRIOCTL" dev set "$dev" queue htb \
						rate "${LINK_MBIT}mbit" guard 0 sndbuf "$buf" rcvbuf "$buf" >/dev/null
				done
			fi
			log "P5 QEMU's view: migprio, buffers $buf, migsim mode $mode, $mem MiB, D = $dirty MiB/s, 4 bulk flows"
			MIG_ARGS="-M $mode -c 4" run_migration p5 "$buf-$mode" 1 "$mem" "$dirty" 30 1 0
		done
	done
	link_reset
}
