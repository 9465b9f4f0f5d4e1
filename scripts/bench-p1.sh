# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# P1 contention and P1b convergence (guest side, sourced by bench-vm.sh).
#
# P1: a migration of M MiB with no dirtying (D = 0) in four configurations,
# interleaved within one boot, repeated REPS times:
#   a  alone on the shaped link (the physical limit)
#   b  + 4 bulk TCP flows, no migprio (one htb class + fq_codel)
#   c  + 4 bulk TCP flows, migprio (queue htb rate LINK guard 0, preset qemu)
#   d  + 4 bulk TCP flows, an expert's tc htb + flower setup + raised sysctls
# P1b: dirty rate D = 60% of the link rate, 4 bulk flows, b vs c (and d).

# p1 REPS MEM_MIB [CONFIGS]
p1() {
	local reps=$1 mem=$2 cfgs=${3:-a b c d} rep cfg sample
	# a run lasts about 3x the alone time in config b, plus setup
	local need=$((mem * 8 * 3 / LINK_MBIT + 25))
	for rep in $(seq 1 "$reps"); do
		for cfg in $cfgs; do
			if ! budget_ok "$need"; then
				skip_budget p1 "$cfg" "$rep"
				continue
			fi
			if [ "$cfg" = c ] && ! have_migprio; then
				emit "{\"scenario\":\"p1\",\"config\":\"c\",\"rep\":$rep,\"skipped\":\"migprio.ko or migprioctl not built\"}"
				continue
			fi
			link_reset
			case $cfg in
			a|b) cfg_shaped ;;
			c) cfg_migprio ;;
			d) cfg_expert ;;
			esac
			sample=0
			[ "$rep" != 1 ] || sample=1
			log "P1 rep $rep config $cfg: migrate $mem MiB, D=0$([ "$cfg" = a ] || echo ', 4 bulk flows')"
			run_migration p1 "$cfg" "$rep" "$mem" 0 30 \
				"$([ "$cfg" = a ] && echo 0 || echo 1)" "$sample"
		done
	done
	link_reset
}

# p1b MEM_MIB MAX_ROUNDS [CONFIGS]
p1b() {
	local mem=$1 rounds=$2 cfgs=${3:-c b d} cfg dirty
	local need=$((mem * 8 * 3 / LINK_MBIT * rounds + 25))
	# 60% of the link rate, in MiB/s; of the rate the migration reached
	# alone in P1 (a) when that is lower: under TCG the emulated CPU, not
	# the shaper, may set the real capacity
	local eff=$LINK_MBIT
	if [ -n "${ALONE_MBIT:-}" ]; then
		# shellcheck disable=SC2086 # one value per word
		eff=$(printf '%s\n' $ALONE_MBIT | sort -n | awk -v l="$LINK_MBIT" \
			'{ m = $1 } END { if (m > 0 && m < l) l = m; printf "%.1f", l }')
	fi
	dirty=$(awk -v l="$eff" 'BEGIN { printf "%.2f", 0.6 * l * 1e6 / 8 / 1048576 }')
	emit "{\"scenario\":\"p1b-rate\",\"link_mbit\":$LINK_MBIT,\"effective_mbit\":$eff,\"dirty_mib_s\":$dirty}"
	for cfg in $cfgs; do
		if ! budget_ok "$need"; then
			skip_budget p1b "$cfg"
			continue
		fi
		if [ "$cfg" = c ] && ! have_migprio; then
			emit "{\"scenario\":\"p1b\",\"config\":\"c\",\"rep\":1,\"skipped\":\"migprio.ko or migprioctl not built\"}"
			continue
		fi
		link_reset
		case $cfg in
		b) cfg_shaped ;;
		c) cfg_migprio ;;
		d) cfg_expert ;;
		esac
		log "P1b config $cfg: migrate $mem MiB, D=$dirty MiB/s (60% of $eff Mbit/s), 4 bulk flows, max $rounds rounds"
		run_migration p1b "$cfg" 1 "$mem" "$dirty" "$rounds" 1 0
	done
	link_reset
}
