# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Guest entry of `make bench` / `make bench-quick`: run inside the VM by
# scripts/bench.sh as `bash /mnt/add/bench-vm.sh full|quick [SCENARIOS]`.
# SCENARIOS: comma-separated subset of p1,p1b,p2,p3,p4,p5,p6,p7,qemu (default:
# all for full; p1 (a b c), p1b (c b), p4 (small) for quick, p5, p6 and
# p7 on request).
# qemu (real QEMU migrations, bench-qemu.sh) needs the VM's QEMU layer
# (vm-run --qemu). BENCH_BUDGET
# (seconds, default 900 full, 120 quick) bounds the scenarios: runs that no
# longer fit are reported as skipped.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/bench-lib.sh
. "$HERE/bench-lib.sh"
for f in "$HERE"/bench-p*.sh; do
	# shellcheck disable=SC1090
	. "$f"
done
# shellcheck source=selftests/qemu_lib.sh
[ ! -f "$HERE/qemu_lib.sh" ] || . "$HERE/qemu_lib.sh"
# shellcheck source=scripts/bench-qemu.sh
. "$HERE/bench-qemu.sh"

MODE=${1:-full}
case $MODE in
full) SCEN=${2:-p1,p1b,p6,p2,p3,p4,p5,p7,qemu} ;;
quick) SCEN=${2:-p1,p1b,p4} ;;
*) echo "usage: bench-vm.sh full|quick [SCENARIOS]" >&2; exit 2 ;;
esac
want() { [[ ,$SCEN, == *,$1,* ]]; }

trap 'stop_jobs; kv_pods_destroy; br_layout_destroy 2>/dev/null; "$IP" netns del "$P6_CT" 2>/dev/null; topo_destroy' EXIT
emit "{\"scenario\":\"env\",\"mode\":\"$MODE\",\"kernel\":$(json_str "$(uname -r)"),\"vm_kernel\":$(json_str "${VM_KERNEL:-}"),\"nproc\":$(nproc),\"mem_kb\":$(awk '/MemTotal/ { print $2 }' /proc/meminfo),\"migprio\":$(have_migprio && echo true || echo false),\"migprioctl_version\":$(json_str "$($MIGPRIOCTL -V 2>/dev/null | head -n1)")}"
topo_setup
if [ "$MODE" = full ]; then
	BENCH_BUDGET=${BENCH_BUDGET:-1380}
	calibrate 4
	# M scales with the link rate: 256 MiB at 200 Mbit/s (~11 s alone)
	MEM_P1=$((256 * LINK_MBIT / 200))
	want p1 && p1 2 "$MEM_P1"
	want p1b && p1b $((MEM_P1 / 4)) 8
	want p6 && p6 1 $((MEM_P1 / 4))
	want p3 && p3 15
	want p2 && p2 3 3
	want p4 && p4 4096 10000
	want p5 && p5 $((MEM_P1 / 4)) $((LINK_MBIT / 80))
	want p7 && p7 3 20000
	# make bench: PQ's first group (QEMU 7.2); make bench-qemu (qemu
	# alone): every client group (bench-qemu.sh)
	if want qemu; then
		[ "$SCEN" = qemu ] || PQ_GROUPS=${PQ_GROUPS:-q72}
		pq
	fi
else
	BENCH_BUDGET=${BENCH_BUDGET:-120}
	calibrate 2
	MEM_P1=$((32 * LINK_MBIT / 200))
	[ "$MEM_P1" -ge 8 ] || MEM_P1=8
	want p1 && p1 1 "$MEM_P1" "a b c"
	want p1b && p1b "$MEM_P1" 6 "c b"
	want p6 && p6 1 "$MEM_P1"
	want p3 && p3 8
	want p2 && p2 1 2
	want p4 && p4 256 500
	want p5 && p5 "$MEM_P1" $((LINK_MBIT / 80)) "32M 1M"
	want p7 && p7 1 5000
fi
log "done"
