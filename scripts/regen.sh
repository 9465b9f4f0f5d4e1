#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Generate the netlink code from Documentation/netlink/specs/migprio.yaml
# with the kernel's ynl-gen-c (tools/net/ynl of Debian's linux-source-6.12,
# extracted on demand into /var/cache/migprio/src/linux-source-6.12/):
#   uapi/linux/migprio.h     the uapi header          (--mode uapi)
#   module/netlink-gen.h     policies and ops table   (--mode kernel)
#   module/netlink-gen.c
# The files are committed, like the kernel's; `make regen` rewrites them,
# `make lint` (scripts/lint.sh) regenerates into a temporary directory and
# fails when anything differs.
#
# ynl-gen-c validates the spec against its schema
# (Documentation/netlink/genetlink-legacy.yaml) and names the spec in the
# "do not edit" header by its path below the kernel tree, which it finds by
# looking upwards for a MAINTAINERS file (forever when there is none). It
# runs here in a scratch tree with the layout it expects.
#
# Usage: scripts/regen.sh [OUTDIR]   (default: the source tree itself)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root}
spec=$root/Documentation/netlink/specs/migprio.yaml
ksrc=${KSRC_612:-/var/cache/migprio/src/linux-source-6.12}
tarball=${KSRC_612_TAR:-/usr/src/linux-source-6.12.tar.xz}
gen=$ksrc/tools/net/ynl/ynl-gen-c.py
schema=$ksrc/Documentation/netlink/genetlink-legacy.yaml

if [ ! -f "$gen" ] || [ ! -f "$schema" ]; then
	[ -f "$tarball" ] || { echo "regen: no $gen and no $tarball" >&2; exit 1; }
	mkdir -p "$(dirname "$ksrc")"
	tar -C "$(dirname "$ksrc")" -xJf "$tarball" \
		linux-source-6.12/tools/net/ynl linux-source-6.12/Documentation/netlink
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tree/Documentation/netlink/specs" "$out/uapi/linux" "$out/module"
: >"$tmp/tree/MAINTAINERS"
cp "$schema" "$tmp/tree/Documentation/netlink/"
cp "$spec" "$tmp/tree/Documentation/netlink/specs/"

ynl_gen() { # MODE HEADER|SOURCE FILE
	timeout 120 python3 "$gen" --mode "$1" "--$2" \
		--spec "$tmp/tree/Documentation/netlink/specs/migprio.yaml" \
		-o "$tmp/$(basename "$3")" >"$tmp/log" 2>&1 ||
		{ cat "$tmp/log" >&2; echo "regen: ynl-gen-c --mode $1 --$2 failed" >&2; exit 1; }
	cp "$tmp/$(basename "$3")" "$out/$3"
}

ynl_gen uapi header uapi/linux/migprio.h
ynl_gen kernel header module/netlink-gen.h
ynl_gen kernel source module/netlink-gen.c
