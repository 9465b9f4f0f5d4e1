# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Guest part of `make demo` (scripts/demo.sh runs it in the VM): one
# migration against 4 bulk flows, without and then with migprio.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/bench-lib.sh
. "$HERE/bench-lib.sh"
trap 'topo_destroy' EXIT

say() { printf '\n%s\n' "$*"; }
show() { printf '  $ %s\n' "$*"; }

if ! have_migprio; then
	echo "demo: migprio.ko or migprioctl missing from the VM image" >&2
	exit 1
fi
topo_setup
say "Calibrating: how fast can this emulated machine move data between the two hosts?"
calibrate 2
MEM=$((LINK_MBIT * 3 / 8))	# about 3 s alone on the link
[ "$MEM" -ge 8 ] || MEM=8
cat <<INTRO

Two "hypervisor hosts" (network namespaces hvsrc and hvdst) are joined by a
${LINK_MBIT} Mbit/s link (veth, shaped by an htb qdisc). We live-migrate a
guest with $MEM MiB of memory from hvsrc to hvdst with migsim, which behaves
like QEMU's pre-copy migration (2 TCP channels to port $MIG_PORT), while four
bulk TCP flows (iperf3, a tenant's backup say) share the same link.
INTRO

say "[1/3] The migration alone on the link (the best it can do):"
link_reset
cfg_shaped
run_migration demo a 1 "$MEM" 0 30 0 0

say "[2/3] Without migprio: the migration is one more flow among the bulk flows."
link_reset
cfg_shaped
run_migration demo b 1 "$MEM" 0 30 1 1

say "[3/3] With migprio. On each host:"
show "migprioctl dev set $DEV_SRC queue htb rate ${LINK_MBIT}mbit guard 0"
show "migprioctl rule add preset qemu      # tcp ports 49152-49215"
link_reset
cfg_migprio
MIG_DURING="echo '\$ migprioctl flow list'; ns_src $MIGPRIOCTL flow list; echo; echo '\$ migprioctl stats'; ns_src $MIGPRIOCTL stats" \
MIG_DURING_DELAY=1 run_migration demo c 1 "$MEM" 0 30 1 1
say "What migprio saw on hvsrc, one second into the migration:"
sed 's/^/  /' "$BENCH_TMP/during.txt"
say "And its queues on $DEV_SRC (tc -s class show):"
ns_src "$TC" -s class show dev "$DEV_SRC" | grep -E '^class htb|Sent' | sed 's/^/    /'
link_reset
