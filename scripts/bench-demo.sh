# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Guest part of `make demo` (scripts/demo.sh runs it in the VM, with the
# QEMU layer): a real QEMU guest live-migrated against 4 bulk flows, without
# and then with migprio; QEMU's own figures next to what the destination saw.
# The layout most hypervisors have: each host's address on a bridge vmbr0
# whose uplink port is its "NIC" (a veth, shaped where the queue forms), the
# bulk flows from a guest behind a port of the source's bridge to a guest
# behind the destination's.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/bench-lib.sh
. "$HERE/bench-lib.sh"
# shellcheck source=selftests/qemu_lib.sh
. "$HERE/qemu_lib.sh"
# shellcheck source=scripts/bench-qemu.sh
. "$HERE/bench-qemu.sh"
# the guest behind the destination's bridge (the source's is bench-qemu.sh's)
GUEST_NS_DST=tndst GUEST_PORT_DST=veth102i0 GUEST_ADDR_DST=10.77.0.12
trap 'qm_stop; stop_jobs; "$IP" netns del "$BR_NS_TENANT" 2>/dev/null
	"$IP" netns del "$GUEST_NS_DST" 2>/dev/null; topo_destroy' EXIT

say() { printf '\n%s\n' "$*"; }
show() { printf '  $ %s\n' "$*"; }

if ! have_migprio; then
	echo "demo: migprio.ko or migprioctl missing from the VM image" >&2
	exit 1
fi
if ! qm_available; then
	echo "demo: QEMU or the test guest missing from the VM image" >&2
	exit 1
fi
# a smaller guest than the benchmark's (16 MiB random), a minute at most
# per migration
QM_FILL=${DEMO_FILL:-16}
QM_TIMEOUT=${DEMO_TIMEOUT:-60}
# Debian 12's own QEMU (7.2): what a bookworm hypervisor runs and what the
# README's two commands install; QEMU 10 and the other clients' paths are
# in make bench-qemu (Documentation/benchmarks.md, PQ)
QM_VERSION=7.2 QM_CLIENT=qemu
LINK_MBIT=$QEMU_LINK_MBIT
if ! { topo_setup &&
	br_host "$NS_SRC" "$DEV_SRC" "$ADDR_SRC" fd77::1 &&
	br_guest "$NS_SRC" "$BR_NS_TENANT" "$BR_PORT" "$BR_TENANT_ADDR" &&
	br_host "$NS_DST" "$DEV_DST" "$ADDR_DST" fd77::2 &&
	br_guest "$NS_DST" "$GUEST_NS_DST" "$GUEST_PORT_DST" "$GUEST_ADDR_DST"; }; then
	echo "demo: cannot build the two hosts' bridges" >&2
	exit 1
fi
BULK_NS_SRC=$BR_NS_TENANT BULK_NS_DST=$GUEST_NS_DST BULK_ADDR_DST=$GUEST_ADDR_DST
HOSTS_BRIDGED=1
cat <<INTRO

Two "hypervisor hosts" (network namespaces hvsrc and hvdst), laid out as
most are: each host's address on a bridge $BR_DEV whose uplink port is its
"NIC" ($DEV_SRC, $DEV_DST: a veth pair, the link between them shaped at
${LINK_MBIT} Mbit/s by an htb qdisc on $DEV_SRC, where the queue forms), and a
guest on each bridge (netns $BR_NS_TENANT on port $BR_PORT of hvsrc, $GUEST_NS_DST on
$GUEST_PORT_DST of hvdst: veths standing in for taps).

  $BR_NS_TENANT --$BR_PORT-- [$BR_DEV $ADDR_SRC] --$DEV_SRC ====== $DEV_DST-- [$BR_DEV $ADDR_DST] --$GUEST_PORT_DST-- $GUEST_NS_DST
                  hvsrc                ${LINK_MBIT} Mbit/s               hvdst

A real QEMU in hvsrc runs a small guest ($QM_MEM MiB: $QM_FILL MiB of random
data and a $((QM_HOT / 1024)) MiB hot set it rewrites at $QM_RATE MiB/s, printing a dot on
its serial port every 100 ms). We live-migrate it to a QEMU waiting in
hvdst (multifd, 4 channels, QEMU's defaults: downtime-limit 300 ms) while
the guest $BR_NS_TENANT sends four bulk TCP flows (iperf3, a backup say) to
$GUEST_NS_DST: bridged straight from its port to $DEV_SRC, they meet the migration
only in $DEV_SRC's queue. QEMU reports its total time and downtime; the
destination tells when the guest really runs again.
INTRO

declare -A DEST DOWN QTOT QDOWN RAM
fail=0
# migrate KEY: one migration with the bulk flows; a migration that does
# not end within QM_TIMEOUT is a result (it may never converge), anything
# else that goes wrong is a failure of the demo
migrate() {
	if qemu_run "$1" 1 >"$BENCH_TMP/$1.out"; then
		DEST[$1]=$QM_DEST_S DOWN[$1]=$QM_DOWNTIME_S
		QTOT[$1]=$QM_QEMU_TOTAL_MS QDOWN[$1]=$QM_QEMU_DOWNTIME_MS RAM[$1]=$QM_RAM_BYTES
	elif qm_event src MIGRATION active && ! qm_src_finished; then
		DEST[$1]="did not finish in ${QM_TIMEOUT}s"
	else
		DEST[$1]="failed (see above)"
		fail=1
	fi
	grep -v '^@@MP ' "$BENCH_TMP/$1.out"
}

say "[1/2] Without migprio: the migration is 5 TCP connections among the bulk flows."
link_reset
cfg_shaped
migrate linux

say "[2/2] With migprio. On each host, as for a Proxmox node's vmbr0 (the walk
  down from $BR_DEV puts the queue on the NIC; a veth is no NIC to it, so
  \`uplink\` names the one standing in for it here):"
show "migprioctl dev set $BR_DEV queue htb rate ${LINK_MBIT}mbit guard 0 uplink $DEV_SRC   # $DEV_DST on hvdst"
show "migprioctl rule add preset qemu      # tcp ports 49152-49215"
link_reset
if ! cfg_migprio_args; then
	echo "demo: migprio could not be configured" >&2
	exit 1
fi
say "Where migprio put the queue (hvsrc):"
show "migprioctl dev show"
ns_src "$MIGPRIOCTL" dev show | sed 's/^/  /'
[ "${PIPESTATUS[0]}" = 0 ] || fail=1
QM_DURING="echo '\$ migprioctl flow list'; ns_src $MIGPRIOCTL flow list"
migrate migprio
QM_DURING=
# what the run left to show: not after a failure (said above)
if [[ ${DEST[migprio]} != failed* ]]; then
	if [ -s "$QM_DIR/during.txt" ]; then
		say "What migprio saw on hvsrc during the migration:"
		sed 's/^/  /' "$QM_DIR/during.txt"
	fi
	say "The uplink's htb classes on hvsrc since dev set (the fq_codel leaves left out):"
	show "tc -s class show dev $DEV_SRC"
	ns_src "$TC" -s class show dev "$DEV_SRC" >"$BENCH_TMP/classes.txt" || fail=1
	awk '/^class htb/ { print "  " $0; getline; print "  " $0 }' "$BENCH_TMP/classes.txt"
	MIG_B=$(qm_class_bytes "$NS_SRC" "$DEV_SRC" 4d50:10)
	REST_B=$(qm_class_bytes "$NS_SRC" "$DEV_SRC" 4d50:20)
	[ -n "$MIG_B" ] && [ -n "$REST_B" ] || fail=1
	mb() { awk -v b="${1:-0}" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
	cat <<-CLASSES
	  4d50:10, migprio's class: $(mb "$MIG_B")${RAM[migprio]:+ (QEMU says it sent $(mb "${RAM[migprio]}") of RAM)}
	  4d50:20, everything else: $(mb "$REST_B"): the guest's bulk flows, which ran from
	           before the migration started until after it ended
	CLASSES
fi
if [ -n "${DOWN[migprio]:-}" ]; then
	say "The guest, still writing dots on the destination after the migration:"
	printf '  %s\n' "$(tail -c 120 "$QM_DIR/dst.serial" | tr '\n' ' ')"
fi
link_reset

say "Result (the emulated machine is slow: compare the columns):"
printf '  %-16s %14s %14s   %14s %14s\n' "" "QEMU says:" "" "destination:" ""
printf '  %-16s %14s %14s   %14s %14s\n' "" "total" "downtime" "runs after" "real downtime"
for k in linux migprio; do
	if [ -n "${DOWN[$k]:-}" ]; then
		printf '  %-16s %12.2f s %11s ms   %12.2f s %12.3f s\n' \
			"$([ $k = linux ] && echo without\ migprio || echo with\ migprio)" \
			"$(awk -v t="${QTOT[$k]}" 'BEGIN { print t / 1000 }')" "${QDOWN[$k]}" \
			"${DEST[$k]}" "${DOWN[$k]}"
	else
		printf '  %-16s %s\n' "$([ $k = linux ] && echo without\ migprio || echo with\ migprio)" "${DEST[$k]}"
	fi
done
exit "$fail"
