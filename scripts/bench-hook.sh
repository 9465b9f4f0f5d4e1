#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-hook.sh - P2c: instructions per packet of the module's hook
# (`make bench-hook`; scripts/bench.sh runs it on the host too).
#
#   scripts/bench-hook.sh [-j] [-r RULES] [-n PACKETS] [SCENARIO...]
#
# Runs build/userspace/bench/hook_bench (module/hooks.c, flows.c and
# classify.c built in userspace over userspace/bench/kshim/) under
# `valgrind --tool=callgrind`, counting only inside the hook function
# (--toggle-collect=mp_hook) during each scenario's measured packets, and
# prints per scenario the instructions per packet, split by where they
# are: the module's own source (module/), kshim's stand-ins for the
# kernel's helpers (the flow table's hash lookup, skb and socket
# accessors), and the rest (the benchmark's stand-in for pernet.c's
# mp_net(), libc). Instruction counts do not depend on the machine's load:
# the same build gives the same figures on a busy machine. -j: one JSON
# document instead of the table.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/userspace/bench/hook_bench
json=0 rules=1025 packets=20000
while getopts "jr:n:h" opt; do
	case $opt in
	j) json=1 ;;
	r) rules=$OPTARG ;;
	n) packets=$OPTARG ;;
	*) echo "usage: $0 [-j] [-r RULES] [-n PACKETS] [SCENARIO...]" >&2
	   [ "$opt" = h ] && exit 0 || exit 2 ;;
	esac
done
shift $((OPTIND - 1))

command -v valgrind >/dev/null || { echo "bench-hook: valgrind not installed (make deps)" >&2; exit 1; }
make -s -C "$ROOT/userspace/bench" BUILD="$BUILD/userspace/bench" "$BIN" >&2

OUT=$(mktemp -d "${TMPDIR:-/tmp}/migprio-hook.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
valgrind --tool=callgrind --toggle-collect=mp_hook \
	--compress-strings=no --compress-pos=no --callgrind-out-file="$OUT/cg" "$BIN" -r "$rules" -n "$packets" "$@" \
	>"$OUT/stdout" 2>"$OUT/stderr" || {
	cat "$OUT/stdout" "$OUT/stderr" >&2
	exit 1
}

# Each scenario is one dump (cg.1, cg.2...): self cost per source file,
# from the raw callgrind format, uncompressed (fl/fi/fe name the file of
# the "line cost" lines that follow; the line after calls= is the call's
# inclusive cost, counted where the callee's own lines are).
python3 - "$OUT" "$packets" "$rules" "$json" "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)" <<'PY'
import glob
import json
import re
import sys

out, packets, rules, as_json, rev = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]


TRIGGER = "desc: Trigger: Client Request: "


def part(path):
    cur, name, skip = "", None, False
    where = {"module": 0, "kshim": 0, "other": 0}
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith(TRIGGER):
            name = line[len(TRIGGER):]
        elif re.match(r"^f[lie]=", line):
            cur = line[3:]
        elif line.startswith("calls="):
            skip = True
        elif re.match(r"^\d+ \d+$", line):
            if not skip:
                cost = int(line.split()[1])
                key = ("module" if "/module/" in cur else
                       "kshim" if "/kshim/" in cur else "other")
                where[key] += cost
            skip = False
    return name, where


rows = []
for path in sorted(glob.glob(out + "/cg.*"), key=lambda p: int(p.rsplit(".", 1)[1])):
    name, w = part(path)
    if not name:
        continue
    total = sum(w.values())
    rows.append({"scenario": name, "instructions": round(total / packets, 1),
                 "module": round(w["module"] / packets, 1),
                 "kshim": round(w["kshim"] / packets, 1),
                 "other": round(w["other"] / packets, 1)})
if as_json:
    print(json.dumps({"bench": "hook", "rules": rules, "packets": packets,
                      "rev": rev, "results": rows}))
    sys.exit(0)
print(f"P2c hook fast path: instructions per packet (callgrind, {packets} packets per scenario, {rules} rules, {rev})")
print(f"{'scenario':<10} {'total':>7} {'module':>7} {'kshim':>7} {'other':>7}")
for r in rows:
    print(f"{r['scenario']:<10} {r['instructions']:>7.1f} {r['module']:>7.1f} {r['kshim']:>7.1f} {r['other']:>7.1f}")
PY
