# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# P3 long fat pipe (guest side, sourced by bench-vm.sh): netem adds 200 ms
# each way (400 ms RTT) and limits hvsrc's egress to the link rate. One
# migration-port flow (iperf3 to port 49200) for SECONDS, with the kernel's
# default TCP buffers vs migprio's (dev set queue none + preset qemu on both
# hosts: netem is the root qdisc, migprio must not replace it).

# p3 SECONDS
p3() {
	local secs=$1 cfg ns dev
	# bandwidth-delay product plus headroom, in packets
	local limit=$((LINK_MBIT * 1000000 / 8 * 4 / 10 / 1000 * 2 + 1000))
	for cfg in off on; do
		if [ "$cfg" = on ] && ! have_migprio; then
			emit '{"scenario":"p3","config":"on","rep":1,"skipped":"migprio.ko or migprioctl not built"}'
			continue
		fi
		if ! budget_ok $((secs + 20)); then
			skip_budget p3 "$cfg"
			continue
		fi
		link_reset
		ns_src "$TC" qdisc add dev "$DEV_SRC" root netem delay 200ms \
			rate "${LINK_MBIT}mbit" limit "$limit"
		ns_dst "$TC" qdisc add dev "$DEV_DST" root netem delay 200ms limit "$limit"
		if [ "$cfg" = on ]; then
			mp_on
			for ns in "$NS_SRC:$DEV_SRC" "$NS_DST:$DEV_DST"; do
				dev=${ns#*:}
				ns=${ns%%:*}
				"$IP" netns exec "$ns" "$MIGPRIOCTL" dev set "$dev" queue none >/dev/null
				"$IP" netns exec "$ns" "$MIGPRIOCTL" rule add preset qemu >/dev/null
			done
		fi
		log "P3 long fat pipe (400 ms RTT, $LINK_MBIT Mbit/s), migprio $cfg, ${secs} s"
		iperf_run p3 "$cfg" 1 49200 "$secs" -i 1
	done
	link_reset
}
