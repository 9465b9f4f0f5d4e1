#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything migprio needs from Debian's registry, idempotently.
# Kernel versions are resolved from the cloud metapackages at run time;
# nothing here names an ABI number. The kernel images are unpacked (not
# installed) into $MIGPRIO_CACHE/kernels/<series>/ so several can coexist;
# headers are installed normally into /usr/src.
set -euo pipefail

CACHE=${MIGPRIO_CACHE:-/var/cache/migprio}
BPO_SUITE=bookworm-backports
export DEBIAN_FRONTEND=noninteractive

log() { printf 'deps: %s\n' "$*" >&2; }

need_root() {
	if [ "$(id -u)" != 0 ]; then
		log "must run as root (apt-get install)"
		exit 1
	fi
}

# Add bookworm-backports from the same mirror the system already uses.
add_backports() {
	if grep -rqs "$BPO_SUITE" /etc/apt/sources.list /etc/apt/sources.list.d/; then
		return 0
	fi
	local mirror
	mirror=$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list \
		/etc/apt/sources.list.d/ 2>/dev/null | grep -v security | head -n1 | tr -d ' ' || true)
	mirror=${mirror:-http://deb.debian.org/debian}
	log "adding $BPO_SUITE from $mirror"
	echo "deb ${mirror%/} $BPO_SUITE main" >/etc/apt/sources.list.d/migprio-backports.list
	APT_UPDATED=
}

APT_UPDATED=
apt_update() {
	[ -n "$APT_UPDATED" ] && return 0
	apt-get update -qq
	APT_UPDATED=1
}

# $1 = "6.1" or "6.12": print the ABI package suffix, e.g. 6.1.0-56-cloud-amd64
resolve_abi() {
	local series=$1 ver
	ver=$(apt-cache madison linux-image-cloud-amd64 | awk -F'|' '{gsub(/ /,"",$2); print $2}' |
		grep "^${series}\." | sort -V | tail -n1)
	[ -n "$ver" ] || { log "no linux-image-cloud-amd64 for $series"; return 1; }
	apt-cache show "linux-image-cloud-amd64=$ver" |
		sed -n 's/^Depends: .*linux-image-\([^ ]*-cloud-amd64\).*/\1/p' | head -n1
}

YNL_CLI=tools/net/ynl/cli.py
YNL_GEN=tools/net/ynl/ynl-gen-c.py

# qemu-system-x86 also runs inside the test VM (vm-run --qemu): its
# firmware (seabios, qemu-system-data) is staged from the host; the test
# guest (userspace/guest) needs only gcc -m32 -ffreestanding, no multilib.
HOST_PKGS=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves pkg-config
	qemu-system-x86 qemu-system-data seabios busybox-static bash iproute2 iperf3 ethtool cpio gzip xz-utils
	openssh-client socat
	libmnl-dev sparse cppcheck valgrind python3 python3-yaml python3-jsonschema
	python3-pyroute2 gnuplot-nox kmod linux-source-6.1 procps jq
	debhelper dh-dkms dkms lintian dpkg-dev systemd
)

# Clients the test VM runs that must not be installed here (vm-run --qemu
# stages them): QEMU 10 from bookworm-backports beside Debian's 7.2 (which
# boots the test VMs), and sshd (Proxmox's secure migration; installing
# openssh-server would start a server on this machine). Each is fetched
# with apt-get download and unpacked with dpkg-deb -x into
# $CACHE/clients/NAME/root; NAME/debs lists the packages and versions.
# "NAME PACKAGE...":
CLIENTS=(
	"qemu10 qemu-system-x86/$BPO_SUITE qemu-system-common/$BPO_SUITE qemu-system-data/$BPO_SUITE seabios/$BPO_SUITE"
	"sshd openssh-server libwrap0"
)

client_ok() { # NAME PACKAGE...: unpacked, from this package list
	local dir=$CACHE/clients/$1
	shift
	[ -d "$dir/root" ] && [ "$(cat "$dir/spec" 2>/dev/null)" = "$*" ]
}

fetch_clients() {
	local line name dir f
	for line in "${CLIENTS[@]}"; do
		# shellcheck disable=SC2086 # a name and its packages
		set -- $line
		name=$1
		client_ok "$@" && continue
		shift
		apt_update
		log "unpacking $* into $CACHE/clients/$name (not installed)"
		dir=$CACHE/clients/$name
		rm -rf "$dir" && mkdir -p "$dir/dl" "$dir/root"
		# _apt downloads into a directory it can write
		chown _apt "$dir/dl" 2>/dev/null || true
		(cd "$dir/dl" && apt-get download -qq "$@")
		for f in "$dir"/dl/*.deb; do
			dpkg-deb -x "$f" "$dir/root"
			dpkg-deb -W --showformat='${Package} ${Version}\n' "$f" >>"$dir/debs"
		done
		rm -rf "$dir/dl"
		echo "$*" >"$dir/spec"
	done
}

main() {
	need_root
	add_backports
	local missing=()
	for p in "${HOST_PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		apt_update
		log "installing ${missing[*]}"
		apt-get install -y -qq --no-install-recommends "${missing[@]}"
	fi
	apt_update_if_needed_for_kernels
	fetch_clients
	log "ok"
}

apt_update_if_needed_for_kernels() {
	mkdir -p "$CACHE/kernels"
	local series abi dir
	for series in 6.1 6.12; do
		dir=$CACHE/kernels/$series
		if [ -f "$dir/abi" ] && [ -f "$dir/root/boot/vmlinuz-$(cat "$dir/abi")" ] &&
			[ -d "/usr/src/linux-headers-$(cat "$dir/abi")" ]; then
			continue
		fi
		apt_update
		abi=$(resolve_abi "$series")
		log "kernel $series -> $abi"
		apt-get install -y -qq --no-install-recommends "linux-headers-$abi"
		rm -rf "$dir" && mkdir -p "$dir/root"
		(cd "$dir" && apt-get download -qq "linux-image-$abi" &&
			dpkg -x linux-image-"$abi"_*.deb root && rm -f ./*.deb)
		echo "$abi" >"$dir/abi"
	done
	# linux-source-6.12 (backports) carries the genetlink YNL schema and CLI.
	if ! ls /usr/src/linux-source-6.12.tar.xz >/dev/null 2>&1; then
		apt_update
		apt-get install -y -qq --no-install-recommends -t "$BPO_SUITE" linux-source-6.12
	fi
	# selftests/ynl_client.sh runs that CLI; vm-run packs it into the guest
	# from $CACHE/src/linux-source-6.12 (tools/net/ynl, Documentation/netlink)
	# and scripts/regen.sh its C generator (ynl-gen-c.py)
	if [ ! -f "$CACHE/src/linux-source-6.12/$YNL_CLI" ] ||
	   [ ! -f "$CACHE/src/linux-source-6.12/$YNL_GEN" ]; then
		log "extracting the YNL CLI and generator from linux-source-6.12"
		mkdir -p "$CACHE/src"
		tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$CACHE/src" \
			linux-source-6.12/tools/net/ynl linux-source-6.12/Documentation/netlink
	fi
}

# --check: status 0 when nothing is missing (fast: no apt, no network)
check_only() {
	local p series abi bad=0
	local installed
	installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${HOST_PKGS[@]}" 2>/dev/null |
		awk '/ install ok installed$/ {print $1}' || true)
	for p in "${HOST_PKGS[@]}"; do
		grep -qx "$p" <<<"$installed" || { log "missing package $p"; bad=1; }
	done
	for series in 6.1 6.12; do
		abi=$(cat "$CACHE/kernels/$series/abi" 2>/dev/null) &&
			[ -f "$CACHE/kernels/$series/root/boot/vmlinuz-$abi" ] &&
			[ -d "/usr/src/linux-headers-$abi" ] ||
			{ log "missing kernel $series"; bad=1; }
	done
	[ -f /usr/src/linux-source-6.12.tar.xz ] || { log "missing linux-source-6.12"; bad=1; }
	[ -f "$CACHE/src/linux-source-6.12/$YNL_CLI" ] ||
		{ log "missing $CACHE/src/linux-source-6.12/$YNL_CLI"; bad=1; }
	local line
	for line in "${CLIENTS[@]}"; do
		# shellcheck disable=SC2086
		client_ok $line || { log "missing ${line%% *} in $CACHE/clients"; bad=1; }
	done
	return $bad
}

if [ "${1:-}" = --check ]; then
	check_only
	exit
fi
main "$@"
