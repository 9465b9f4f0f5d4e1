#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - what `make demo` runs (after `make deps`): build migprio.ko,
# migprioctl and the test guest (userspace/guest), boot the test VM (KVER,
# default 6.1) with a real QEMU inside (vm-run --qemu), make two "hypervisor
# hosts" (network namespaces), each with its address on a bridge vmbr0
# whose uplink port is its "NIC" (the two joined by a 100 Mbit/s link) and
# a guest netns behind a port of each bridge, and live-migrate a running
# QEMU guest across while the source's guest sends 4 bulk TCP flows to the
# destination's: without migprio, then with `migprioctl dev set vmbr0
# queue htb ... uplink NIC` and `migprioctl rule add preset qemu`. Prints
# QEMU's own total time and downtime next to what the destination saw
# (when the guest runs again; the real downtime from source paused to
# destination running), where migprio put the queue (`dev show`), its flow
# list and the uplink's class counters (`tc -s class`).
# About 2 minutes; the VM is QEMU without KVM, so absolute speeds are low:
# compare the columns, not the numbers with real hardware.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KVER=${KVER:-6.1}
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
OUT=$BUILD/demo
mkdir -p "$OUT"

echo "==== migprio demo: building migprio.ko ($KVER), migprioctl and the test guest"
if ! make -C "$ROOT" -s --no-print-directory module tool guest KVER="$KVER" BUILD="$BUILD" \
	>"$OUT/build.log" 2>&1; then
	tail -n 30 "$OUT/build.log"
	echo "demo: build failed (full log: $OUT/build.log)" >&2
	exit 1
fi

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/migprio-demo.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
cp "$ROOT/scripts/bench-lib.sh" "$ROOT/scripts/bench-demo.sh" "$ROOT/scripts/bench-qemu.sh" \
	"$ROOT/selftests/qemu_lib.sh" "$STAGE/"

echo "==== booting a $KVER test VM (QEMU, no KVM: takes a little while), a QEMU inside it"
rc=0
BUILD=$BUILD "$ROOT/selftests/vm-run" --kernel "$KVER" --qemu --timeout 420 --add "$STAGE" -- \
	bash /mnt/add/bench-demo.sh 2>&1 | tee "$OUT/vm.log" |
	grep --line-buffered -v '^@@MP ' |
	sed -u -e 's/^\[bench [0-9:]*\]   -> /  -> /' -e 's/^\[bench [0-9:]*\] /  /' ||
	rc=${PIPESTATUS[0]}

cat <<'EOT'

Without migprio the migration's connections share the uplink's queue with
the guest's bulk flows; a guest that keeps writing memory faster than its
share may never converge. With migprio the migration flows are recognised
by port where the host sends them (vmbr0), marked, and put in the top htb
class on the uplink, where the guest's bridged frames queue too: the
migration gets the link first and the bulk flows use what is left (the
class counters above). QEMU's own figures end when the data is written to
its sockets; the destination's figures end when the guest runs again there.
`make bench` measures this in detail (Documentation/benchmarks.md, PQ).
EOT
[ "$rc" = 0 ] || echo "demo: the VM run ended with status $rc" >&2
exit "$rc"
