#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - what `make demo` runs (after `make deps`): build migprio.ko,
# migprioctl and migsim, boot the test VM (KVER, default 6.1), make two
# "hypervisor hosts" (network namespaces) joined by an emulated link, and
# live-migrate a guest (migsim) across it while 4 bulk TCP flows compete:
# alone, without migprio, then with `migprioctl dev set ... queue htb` and
# `migprioctl rule add preset qemu`. Prints a side-by-side table plus
# `migprioctl flow list` and `migprioctl stats` from the run.
# About 2 minutes; the VM is QEMU without KVM, so absolute speeds are low:
# compare the columns, not the numbers with real hardware.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KVER=${KVER:-6.1}
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
OUT=$BUILD/demo
mkdir -p "$OUT"

echo "==== migprio demo: building migprio.ko ($KVER), migprioctl and migsim"
if ! make -C "$ROOT" -s --no-print-directory module tool KVER="$KVER" BUILD="$BUILD" \
	>"$OUT/build.log" 2>&1; then
	tail -n 30 "$OUT/build.log"
	echo "demo: build failed (full log: $OUT/build.log)" >&2
	exit 1
fi

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/migprio-demo.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
cp "$ROOT/scripts/bench-lib.sh" "$ROOT/scripts/bench-demo.sh" "$STAGE/"

echo "==== booting a $KVER test VM (QEMU, no KVM: takes a little while)"
rc=0
BUILD=$BUILD "$ROOT/selftests/vm-run" --kernel "$KVER" --timeout 300 --add "$STAGE" -- \
	bash /mnt/add/bench-demo.sh 2>&1 | tee "$OUT/vm.log" |
	grep --line-buffered -v '^@@MP ' |
	sed -u -e 's/^\[bench [0-9:]*\]   -> /  -> /' -e 's/^\[bench [0-9:]*\] /  /' ||
	rc=${PIPESTATUS[0]}

echo
echo "==== result (ratios matter; the emulated machine is slow)"
python3 "$ROOT/scripts/bench-report.py" --demo "$OUT/vm.log" "$OUT" || true
cat <<'EOT'

Without migprio the migration is one flow among many and crawls; a guest
that keeps writing memory faster than that may never converge. With migprio
the migration flows are recognised by port, marked and put in the top htb
class: the migration gets the link first and the bulk flows use what is left.
`make bench` measures this in detail (Documentation/benchmarks.md).
EOT
[ "$rc" = 0 ] || echo "demo: the VM run ended with status $rc" >&2
exit "$rc"
