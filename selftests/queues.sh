#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout=300
#
# Queues on the migration interface (Documentation/queues.rst): the htb and
# prio layouts migprioctl installs act on migration traffic, an admin's root
# qdisc is never replaced without 'force', 'dev clear' leaves the kernel's
# default, and 'rings max' raises NIC rings that 'dev clear' puts back.
# Oracles: iperf3 -J byte counts, tc -s class / tc qdisc show, ethtool -g.
source "$(dirname "$0")/lib.sh"

mp_require
[ -x "$MIGPRIOCTL" ] || ktap_skip_all "migprioctl not in the VM image"
for m in veth sch_htb sch_prio sch_tbf; do
	modprobe "$m" 2>/dev/null
done
ktap_plan 16

DUR=${QUEUES_DUR:-5}	# seconds per iperf3 run, the first one omitted
# The shaped rate (Mbit/s, a multiple of 10) must be the bottleneck: an
# idle TCG guest moves several hundred Mbit/s over veth. QUEUES_RATE lowers
# it on a machine too loaded for that.
RATE_MBIT=${QUEUES_RATE:-100}
RATE=${RATE_MBIT}mbit
RATE_BIT=$((RATE_MBIT * 1000000))
MIG_PORT=49160		# in "preset qemu" (49152-49215)
BULK_PORT=5201
TMP=$(mktemp -d)
defer rm -rf "$TMP"

mp_load || ktap_skip_all "cannot load migprio"
defer mp_unload
setup_ns NA NB
veth_pair "$NA" "$NB" || ktap_skip_all "cannot create veth pair"
# Keep ephemeral ports out of the migration range: bulk stays bulk. At
# these low rates TCP autosizes its skbs to 2 segments and TSQ keeps about
# two of them queued, which TCG scheduling jitter drains: the flow then is
# not backlogged and htb rightly lends its share. 64 KiB skbs keep a flow
# backlogged as a fast real migration flow is (TSQ allows up to 1 MiB).
for ns in "$NA" "$NB"; do
	"$IP" netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="20000 30000"
	"$IP" netns exec "$ns" sysctl -qw net.ipv4.tcp_min_tso_segs=44
done

ctl() { "$IP" netns exec "$NA" "$MIGPRIOCTL" "$@"; }
root_qdisc() { "$TC" -n "$NA" qdisc show dev "$VETH_A" root; }

# One run: 4 bulk flows and 1 migration flow together, A -> B.
# Prints "mig_pct bulk_pct mig_share_pct" (of RATE_BIT, and of the total).
mix_run() {
	local mig bulk
	"$IP" netns exec "$NB" "$IPERF3" -s -1 -p "$BULK_PORT" >/dev/null 2>&1 &
	defer kill $!
	"$IP" netns exec "$NB" "$IPERF3" -s -1 -p "$MIG_PORT" >/dev/null 2>&1 &
	defer kill $!
	wait_listen "$NB" "$BULK_PORT" && wait_listen "$NB" "$MIG_PORT" || return 1
	"$IP" netns exec "$NA" "$IPERF3" -c "$ADDR_B" -p "$BULK_PORT" -P 4 \
		-t "$DUR" -O 1 -J >"$TMP/bulk.json" 2>&1 &
	local pb=$!
	"$IP" netns exec "$NA" "$IPERF3" -c "$ADDR_B" -p "$MIG_PORT" \
		-t "$DUR" -O 1 -J >"$TMP/mig.json" 2>&1 &
	local pm=$!
	wait "$pb" || { cat "$TMP/bulk.json"; return 1; }
	wait "$pm" || { cat "$TMP/mig.json"; return 1; }
	bulk=$("$JQ" '.end.sum_received.bytes * 8 / .end.sum_received.seconds' "$TMP/bulk.json") &&
	mig=$("$JQ" '.end.sum_received.bytes * 8 / .end.sum_received.seconds' "$TMP/mig.json") ||
		return 1
	awk -v m="$mig" -v b="$bulk" -v r="$RATE_BIT" 'BEGIN {
		printf "%d %d %d\n", m * 100 / r, b * 100 / r, m * 100 / (m + b) }'
}

class_bytes() {	# MINOR: bytes sent by class 4d50:MINOR, empty if none
	"$TC" -n "$NA" -s class show dev "$VETH_A" |
		awk -v c="4d50:$1" '$1 == "class" { on = ($3 == c) }
			on && $1 == "Sent" { print $2; exit }'
}

# check_mix DESC AWK-CONDITION: up to 3 runs (TCG is noisy), ok if one
# meets the condition on $1 mig % of rate, $2 bulk %, $3 mig share %.
# Shares of the goodput, not % of RATE: htb counts L2 bytes, so goodput
# tops out near 95% of RATE, and a TCG guest's CPU, shared with the host,
# does not always fill the link. The issue's 85% / 95% of the rate are
# checked as shares of what the link carried (guard 10: 90% ideal).
check_mix() {
	local desc=$1 cond=$2 i res c1 c2
	for i in 1 2 3; do
		c1=$(class_bytes 10) c2=$(class_bytes 20)
		res=$(mix_run) || { diag "run $i failed: $res"; continue; }
		[ -z "$c1" ] || diag "htb class bytes: 4d50:10 +$(($(class_bytes 10) - c1)), 4d50:20 +$(($(class_bytes 20) - c2))"
		diag "$desc: run $i: migration ${res%% *}% of $RATE, bulk $(echo "$res" | cut -d' ' -f2)%, migration share ${res##* }%"
		echo "$res" | awk "{ exit !($cond) }" && { ktap_ok "$desc"; return 0; }
	done
	ktap_fail "$desc"
	return 1
}

# ------------------------------------------------------------------ htb
ctl rule add preset qemu >/dev/null
ktap_test "dev set queue htb rate $RATE guard 10" \
	ctl dev set "$VETH_A" queue htb rate "$RATE" guard 10
htb_layout() {
	local q c
	q=$(root_qdisc) && c=$("$TC" -n "$NA" class show dev "$VETH_A") || return 1
	echo "$q"; echo "$c"
	echo "$q" | grep -q '^qdisc htb 4d50: root' &&
	echo "$c" | grep -q "class htb 4d50:10 parent 4d50:1 .*prio 0 rate $((RATE_MBIT * 9 / 10))Mbit ceil ${RATE_MBIT}Mbit" &&
	echo "$c" | grep -q "class htb 4d50:20 parent 4d50:1 .*prio 1 rate $((RATE_MBIT / 10))Mbit ceil ${RATE_MBIT}Mbit"
}
ktap_test "htb 4d50: with migration 90% prio 0 and floor 10% prio 1" htb_layout
check_mix "guard 10: migration share >= 85%, bulk >= 9%" '$3 >= 85 && 100 - $3 >= 9'

ctl dev set "$VETH_A" queue htb rate "$RATE" guard 0 >/dev/null
check_mix "guard 0: migration share >= 95%" '$3 >= 95'

# Without migprio the same link, shaped by a plain tbf, is shared fairly.
ctl dev clear >/dev/null
shape_link "$NA" "$VETH_A" "$RATE"
check_mix "cleared, plain tbf at $RATE: migration share <= 40%" '$3 <= 40'
"$TC" -n "$NA" qdisc del dev "$VETH_A" root

# ----------------------------------------------------------------- prio
# "class prio 4d50:1 parent 4d50: ..." then " Sent N bytes ...".
band_bytes() { class_bytes "$1"; }
sum_other_bands() { echo $(($(band_bytes 2) + $(band_bytes 3) + $(band_bytes 4))); }

one_flow() {	# PORT SECONDS: bytes received by the server
	"$IP" netns exec "$NB" "$IPERF3" -s -1 -p "$1" >/dev/null 2>&1 &
	defer kill $!
	wait_listen "$NB" "$1" || return 1
	"$IP" netns exec "$NA" "$IPERF3" -c "$ADDR_B" -p "$1" -t "$2" -J \
		>"$TMP/one.json" 2>&1 || { cat "$TMP/one.json" >&2; return 1; }
	"$JQ" '.end.sum_received.bytes' "$TMP/one.json"
}

ktap_test "dev set queue prio" ctl dev set "$VETH_A" queue prio
prio_bands() {
	local b1 o1 got b2 o2
	b1=$(band_bytes 1) o1=$(sum_other_bands)
	[ -n "$b1" ] || { "$TC" -n "$NA" -s class show dev "$VETH_A"; return 1; }
	got=$(one_flow "$BULK_PORT" 2) || return 1
	b2=$(band_bytes 1) o2=$(sum_other_bands)
	echo "bulk run: $got bytes; band 4d50:1 $b1 -> $b2, other bands $o1 -> $o2"
	[ "$b2" = "$b1" ] && [ $((o2 - o1)) -ge "$got" ] || return 1
	b1=$b2 o1=$o2
	got=$(one_flow "$MIG_PORT" 2) || return 1
	b2=$(band_bytes 1) o2=$(sum_other_bands)
	echo "migration run: $got bytes; band 4d50:1 $b1 -> $b2, other bands $o1 -> $o2"
	# the other bands only see the few control-connection packets
	[ $((b2 - b1)) -ge "$got" ] && [ $((o2 - o1)) -lt $((got / 100)) ]
}
ktap_test "prio: band 4d50:1 grows with migration traffic only" prio_bands

# ----------------------------------------------------- admin's qdiscs
ctl dev clear >/dev/null
"$TC" -n "$NA" qdisc add dev "$VETH_A" root handle 1: tbf rate 50mbit \
	burst 32kb latency 50ms
refused() {
	local out rc=0
	out=$(ctl dev set "$VETH_A" queue prio 2>&1) || rc=$?
	echo "exit $rc: $out"
	[ "$rc" = 1 ] &&
	echo "$out" | grep -q "$VETH_A has a root qdisc tbf 1: that migprio did not install; use 'force' to replace it" &&
	root_qdisc | grep -q '^qdisc tbf 1: root' &&
	ctl -j dev show | "$JQ" -e '.dev == null' >/dev/null
}
ktap_test "admin's root tbf: dev set refused with a message, tbf kept" refused
forced() {
	ctl dev set "$VETH_A" queue prio force || return 1
	root_qdisc
	root_qdisc | grep -q '^qdisc prio 4d50: root' &&
	! "$TC" -n "$NA" qdisc show dev "$VETH_A" | grep -q tbf
}
ktap_test "force replaces the admin's root qdisc" forced
default_back() {
	ctl dev clear || return 1
	root_qdisc
	root_qdisc | grep -q '^qdisc noqueue 0: root' &&
	! "$TC" -n "$NA" qdisc show dev "$VETH_A" | grep -q 4d50:
}
ktap_test "dev clear leaves the kernel's default qdisc" default_back
admin_later() {
	ctl dev set "$VETH_A" queue prio || return 1
	"$TC" -n "$NA" qdisc replace dev "$VETH_A" root handle 2: tbf \
		rate 50mbit burst 32kb latency 50ms || return 1
	ctl dev clear || return 1
	root_qdisc
	root_qdisc | grep -q '^qdisc tbf 2: root'
}
ktap_test "dev clear keeps a root qdisc the admin set afterwards" admin_later
"$TC" -n "$NA" qdisc del dev "$VETH_A" root 2>/dev/null

# ---------------------------------------------------------------- rings
veth_rings() {
	local out rc=0
	out=$(ctl dev set "$VETH_A" queue none rings max 2>&1) || rc=$?
	echo "rings max: exit $rc: $out"
	[ "$rc" = 0 ] && echo "$out" | grep -qi 'ring' || return 1
	rc=0
	out=$(ctl dev set "$VETH_A" queue none rings 512 2>&1) || rc=$?
	echo "rings 512: exit $rc: $out"
	[ "$rc" = 1 ] && echo "$out" | grep -q 'cannot'
}
ktap_test "veth: rings max warns and succeeds, rings 512 fails clearly" veth_rings
ctl dev clear >/dev/null

if ! "$IP" link show eth0 >/dev/null 2>&1 || ! "$ETHTOOL" -G eth0 rx 256 2>/dev/null; then
	ktap_skip "virtio-net: rings max raises RX to its maximum" "no resizable eth0"
	ktap_skip "virtio-net: dev clear restores RX 256" "no resizable eth0"
else
	defer "$MIGPRIOCTL" dev clear
	rings_max() {
		local max
		"$MIGPRIOCTL" dev set eth0 queue none rings max || return 1
		max=$(ring_rx max)
		"$ETHTOOL" -g eth0
		[ -n "$max" ] && [ "$max" -gt 256 ] && [ "$(ring_rx current)" = "$max" ]
	}
	ktap_test "virtio-net: rings max raises RX to its maximum" rings_max
	rings_back() {
		"$MIGPRIOCTL" dev clear || return 1
		"$ETHTOOL" -g eth0
		[ "$(ring_rx current)" = 256 ]
	}
	ktap_test "virtio-net: dev clear restores RX 256" rings_back
fi
max_rx=$(ring_rx max)
[ -z "$max_rx" ] || "$ETHTOOL" -G eth0 rx "$max_rx" 2>/dev/null

# ------------------------------------------------- the module's record
# A fresh migprioctl process finds what migprio installed and removes it.
recorded() {
	ctl dev set "$VETH_A" queue htb rate 50mbit guard 20 || return 1
	ctl -j dev show
	ctl -j dev show | "$JQ" -e '.dev.qdisc_handle == "4d50:"' >/dev/null || return 1
	ctl dev clear || return 1
	root_qdisc | grep -q '^qdisc noqueue 0: root'
}
ktap_test "dev show records the handle; dev clear removes it" recorded
htb_bad() {
	local out rc=0
	out=$(ctl dev set "$VETH_A" queue htb 2>&1) || rc=$?
	echo "exit $rc: $out"
	[ "$rc" = 2 ] && root_qdisc | grep -q '^qdisc noqueue 0: root'
}
ktap_test "queue htb without a rate is a usage error, nothing installed" htb_bad

ktap_finish
