# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Guest part of `make demo` (scripts/demo.sh runs it in the VM, with the
# QEMU layer): a real QEMU guest live-migrated against 4 bulk flows, without
# and then with migprio; QEMU's own figures next to what the destination saw.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/bench-lib.sh
. "$HERE/bench-lib.sh"
# shellcheck source=selftests/qemu_lib.sh
. "$HERE/qemu_lib.sh"
# shellcheck source=scripts/bench-qemu.sh
. "$HERE/bench-qemu.sh"
trap 'qm_stop; stop_jobs; topo_destroy' EXIT

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
topo_setup
cat <<INTRO

Two "hypervisor hosts" (network namespaces hvsrc and hvdst) are joined by a
${LINK_MBIT} Mbit/s link (veth, shaped by an htb qdisc). A real QEMU in hvsrc
runs a small guest ($QM_MEM MiB: $QM_FILL MiB of random data and a $((QM_HOT / 1024)) MiB hot set it
rewrites at $QM_RATE MiB/s, printing a dot on its serial port every 100 ms).
We live-migrate it to a QEMU waiting in hvdst (multifd, 4 channels, QEMU's
defaults: downtime-limit 300 ms) while four bulk TCP flows (iperf3, a
tenant's backup say) share the link. QEMU reports its total time and
downtime; the destination tells when the guest really runs again.
INTRO

declare -A DEST DOWN QTOT QDOWN
row() { # KEY
	if [ "$1" ]; then
		DEST[$1]=$QM_DEST_S DOWN[$1]=$QM_DOWNTIME_S
		QTOT[$1]=$QM_QEMU_TOTAL_MS QDOWN[$1]=$QM_QEMU_DOWNTIME_MS
	fi
}

say "[1/2] Without migprio: the migration is 5 TCP connections among the bulk flows."
link_reset
cfg_shaped
if qemu_run linux 1 >"$BENCH_TMP/linux.out"; then
	row linux
else
	DEST[linux]="did not finish in ${QM_TIMEOUT}s"
fi
grep -v '^@@MP ' "$BENCH_TMP/linux.out"

say "[2/2] With migprio. On each host:"
show "migprioctl dev set $DEV_SRC queue htb rate ${LINK_MBIT}mbit guard 0"
show "migprioctl rule add preset qemu      # tcp ports 49152-49215"
link_reset
cfg_migprio
QM_DURING="echo '\$ migprioctl flow list'; ns_src $MIGPRIOCTL flow list"
if qemu_run migprio 1 >"$BENCH_TMP/migprio.out"; then
	row migprio
else
	DEST[migprio]="did not finish in ${QM_TIMEOUT}s"
fi
QM_DURING=
grep -v '^@@MP ' "$BENCH_TMP/migprio.out"
say "What migprio saw on hvsrc during the migration:"
sed 's/^/  /' "$QM_DIR/during.txt"
say "The guest, still writing dots on the destination after the migration:"
printf '  %s\n' "$(tail -c 120 "$QM_DIR/dst.serial" | tr '\n' ' ')"
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
		printf '  %-16s %s\n' "$k" "${DEST[$k]}"
	fi
done
