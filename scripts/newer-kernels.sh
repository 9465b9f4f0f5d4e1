#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# newer-kernels.sh - build migprio.ko (W=1, warnings fail) against the
# newest kernel Debian packages, beyond the 6.1 and 6.12 the tests boot:
#
#   scripts/newer-kernels.sh [SERIES...]     default: 7.3 (trixie-backports)
#
# For each SERIES it fetches, with apt through a private source list
# (sid and trixie-backports; the machine's own apt state is not touched),
# linux-source-SERIES, linux-config-SERIES (Debian's cloud-amd64 config)
# and linux-headers-*-cloud-amd64 (for its Module.symvers), prepares the
# tree (olddefconfig, modules_prepare; Rust, BTF and module signing off:
# bookworm has no rustc or pahole for it), builds the module with W=1 and
# checks that every symbol it imports is one Debian's kernel exports.
# Not part of CI (a few minutes and 170 MB per series); what it found is
# in Documentation/kernels.rst. Cache: $MIGPRIO_CACHE/newer-kernels/.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${MIGPRIO_CACHE:-/var/cache/migprio}/newer-kernels
SUITES=("sid main" "trixie-backports main")
MIRROR=${MIRROR:-http://deb.debian.org/debian}
mkdir -p "$CACHE/apt/lists/partial" "$CACHE/apt/cache/archives/partial"
for s in "${SUITES[@]}"; do echo "deb $MIRROR $s"; done >"$CACHE/apt/sources.list"
APT=(-o "Dir::Etc::sourcelist=$CACHE/apt/sources.list" -o Dir::Etc::sourceparts=-
	-o "Dir::State::Lists=$CACHE/apt/lists" -o "Dir::Cache=$CACHE/apt/cache")

fail=0
apt-get "${APT[@]}" update -qq || exit 1
for series in "${@:-7.3}"; do
	echo "== $series"
	dir=$CACHE/$series
	mkdir -p "$dir" && cd "$dir" || exit 1
	hdr=$(apt-cache "${APT[@]}" search "^linux-headers-$series[.0-9]*[+][a-z0-9]*-cloud-amd64\$" |
		awk '{ print $1 }' | sort -V | tail -n1)
	if [ -z "$hdr" ]; then
		echo "no linux-headers-$series cloud-amd64 package"; fail=1; continue
	fi
	if [ ! -f "linux-source-$series/Module.symvers" ]; then
		apt-get "${APT[@]}" download -qq "linux-source-$series" "linux-config-$series" "$hdr" 2>&1 |
			grep -v '^W: Download is performed unsandboxed' || true
		rm -rf "linux-source-$series"
		dpkg-deb --fsys-tarfile linux-source-"$series"_*.deb | tar -xOf - --wildcards '*.tar.xz' |
			tar -xJf - || { fail=1; continue; }
		dpkg-deb --fsys-tarfile linux-config-"$series"_*.deb |
			tar -xOf - --wildcards '*config.amd64_none_cloud-amd64.xz' | xz -dc \
			>"linux-source-$series/.config" || { fail=1; continue; }
		(cd "linux-source-$series" &&
			scripts/config --disable RUST --disable DEBUG_INFO_BTF --disable MODULE_SIG \
				--disable DEBUG_INFO --enable DEBUG_INFO_NONE \
				--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" &&
			make -s -j"$(nproc)" olddefconfig modules_prepare) || { fail=1; continue; }
		dpkg-deb --fsys-tarfile "$hdr"_*.deb | tar -xOf - --wildcards '*/Module.symvers' \
			>"linux-source-$series/Module.symvers"
	fi
	log=$dir/build.log
	if ! make -C "$ROOT" module KVER="$series" KDIR="$dir/linux-source-$series" W=1 REBUILD=1 \
		>"$log" 2>&1; then
		grep -E 'error|warning' "$log" | head -n 20; fail=1; continue
	fi
	if grep -E '\.[ch]:[0-9]+(:[0-9]+)?: warning:' "$log"; then
		fail=1; continue
	fi
	# every import exported by Debian's kernel of the series
	for sym in $(nm -u "$ROOT/build/$series/migprio.ko" | awk '{ print $2 }'); do
		grep -qP "\t$sym\t" "linux-source-$series/Module.symvers" ||
			{ echo "not exported by $hdr: $sym"; fail=1; }
	done
	echo "ok: migprio.ko for $(cat "linux-source-$series/include/config/kernel.release"), W=1 clean, imports exported by $hdr"
done
exit $fail
