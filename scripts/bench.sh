#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - migprio's benchmarks (`make bench`, `make bench-quick`).
#
#   scripts/bench.sh [full|quick] [SCENARIOS]
#
# Builds the module and tools, boots one VM (selftests/vm-run, QEMU TCG)
# and runs the scenarios there (scripts/bench-vm.sh, bench-p*.sh), runs the
# classifier micro-benchmark and the hook's instruction count
# (scripts/bench-hook.sh) on the host, and writes under
# build/bench/ (quick: build/bench/quick/):
#   vm.log        everything the VM printed ("@@MP <json>" lines = results)
#   results.json  all numbers, raw and summarised
#   results.md    the tables (pasted into Documentation/benchmarks.md)
#   throughput.png  migration and bulk throughput over time, P1 b vs c
# SCENARIOS: comma-separated subset of p1,p1b,p2,p3,p4,p5,p6,p7,qemu (qemu: real
# QEMU migrations; the VM then gets the QEMU layer, vm-run --qemu).
# Environment: KVER (6.1 default, or 6.12), BUILD, LINK_MBIT + BENCH_LINK_FIXED=1
# to force the emulated link rate instead of calibrating it, PQ_GROUPS (the
# real-QEMU groups, default "q72 q10 pve kv br": scripts/bench-qemu.sh),
# P6_LAYOUTS (default "br bond vlan macvlan": scripts/bench-p6.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=${1:-full}
SCEN=${2:-}
KVER=${KVER:-6.1}
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
case $MODE in
full) OUT=$BUILD/bench; TIMEOUT=1560 ;;
quick) OUT=$BUILD/bench/quick; TIMEOUT=240 ;;
*) echo "usage: $0 [full|quick] [SCENARIOS]" >&2; exit 2 ;;
esac

say() { printf '\n== %s\n' "$*"; }
mkdir -p "$OUT"
t0=$(date +%s)

say "building (KVER=$KVER)"
if ! make -C "$ROOT" -s module tool guest KVER="$KVER" BUILD="$BUILD" >"$OUT/build.log" 2>&1; then
	echo "bench: build failed (see $OUT/build.log); scenarios that need migprio will be skipped" >&2
	tail -n 5 "$OUT/build.log" >&2
fi
make -C "$ROOT" -s bench-tools BUILD="$BUILD" >>"$OUT/build.log" 2>&1 || {
	echo "bench: cannot build migsim (see $OUT/build.log)" >&2
	exit 1
}
# P7's SYN flood generator, a selftest tool (in the VM at /selftests)
make -C "$ROOT/selftests" -s BUILD="$BUILD/selftests" "$BUILD/selftests/synflood" \
	>>"$OUT/build.log" 2>&1 || echo "bench: cannot build synflood: P7 is skipped" >&2

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/migprio-bench.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
cp "$ROOT"/scripts/bench-lib.sh "$ROOT"/scripts/bench-p*.sh "$ROOT"/scripts/bench-vm.sh \
	"$ROOT"/scripts/bench-qemu.sh "$ROOT"/selftests/qemu_lib.sh "$STAGE/"
# real QEMU migrations need QEMU in the VM (a few seconds more boot)
vmargs=
if [ "$MODE" = full ] && { [ -z "$SCEN" ] || [[ ,$SCEN, == *,qemu,* ]]; }; then
	vmargs=--qemu
fi

say "running the scenarios in a VM ($MODE; kernel $KVER; this takes a while)"
vmenv=
[ -z "${BENCH_LINK_FIXED:-}" ] || vmenv="BENCH_LINK_FIXED=$BENCH_LINK_FIXED LINK_MBIT=${LINK_MBIT:-200}"
[ -z "${PQ_GROUPS:-}" ] || vmenv="$vmenv PQ_GROUPS='$PQ_GROUPS'"
[ -z "${P6_LAYOUTS:-}" ] || vmenv="$vmenv P6_LAYOUTS='$P6_LAYOUTS'"
rc=0
# shellcheck disable=SC2086
BUILD=$BUILD "$ROOT/selftests/vm-run" --kernel "$KVER" --timeout "$TIMEOUT" $vmargs --add "$STAGE" -- \
	$vmenv bash /mnt/add/bench-vm.sh "$MODE" $SCEN 2>&1 | tee "$OUT/vm.log" |
	grep --line-buffered -v '^@@MP ' || rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || echo "bench: the VM run ended with status $rc; reporting what was measured" >&2

say "classifier micro-benchmark (host)"
if [ -x "$BUILD/userspace/bench/classify_bench" ]; then
	"$BUILD/userspace/bench/classify_bench" | tee "$OUT/classify.txt"
	"$BUILD/userspace/bench/classify_bench" -j >"$OUT/classify.json" || true
else
	echo "classify_bench not built: P2b skipped"
	rm -f "$OUT/classify.txt" "$OUT/classify.json"
fi

say "hook fast path, instructions per packet (host, callgrind)"
if BUILD=$BUILD "$ROOT/scripts/bench-hook.sh" >"$OUT/hook.txt" 2>"$OUT/hook.log"; then
	cat "$OUT/hook.txt"
	BUILD=$BUILD "$ROOT/scripts/bench-hook.sh" -j >"$OUT/hook.json" 2>>"$OUT/hook.log" || true
else
	echo "P2c skipped: $(tail -n 1 "$OUT/hook.log")"
	rm -f "$OUT/hook.txt" "$OUT/hook.json"
fi

machine="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(nproc) CPUs, host kernel $(uname -r)"
say "results"
python3 "$ROOT/scripts/bench-report.py" "$OUT/vm.log" "$OUT" \
	--classify "$OUT/classify.txt" --hook "$OUT/hook.txt" --machine "$machine" >/dev/null
cat "$OUT/results.md"

cfgs=$(cat "$OUT/plot-configs" 2>/dev/null || true)
if [[ $cfgs == *b*c* ]] || [[ $cfgs == *c*b* ]]; then
	link=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("link_mbit") or 200)' "$OUT/results.json")
	gnuplot -e "dir='$OUT'; link=$link" "$ROOT/scripts/bench-plot.gp" &&
		echo "plot: $OUT/throughput.png"
else
	echo "plot: skipped (P1 b and c were not both measured)"
fi
echo "results: $OUT/results.json, $OUT/results.md ($(($(date +%s) - t0)) s)"
exit "$rc"
