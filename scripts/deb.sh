#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh - the Debian packages (debian/) and their test.
#
#   scripts/deb.sh build   dpkg-buildpackage -us -uc -b on a copy of the
#                          tree (tracked and new files, no build/) in
#                          build/deb/src; the .debs land in build/deb/;
#                          lintian must report no error
#   scripts/deb.sh test    build, then as root: install both packages,
#                          check their files, systemd-analyze verify the
#                          unit, DKMS builds the module for the 6.1 test
#                          kernel's headers (version as in VERSION); then
#                          the guest half (scripts/deb-vm/test.sh): in a
#                          6.1 test VM with that build loaded, dpkg runs
#                          the maintainer scripts through install, enable,
#                          upgrade (the running configuration stays) and
#                          purge (the host restored); back here, purge:
#                          nothing of migprio may be left; and make install
#                          + uninstall with DESTDIR leave no file. KTAP
#                          output, last line "N passed, N failed, N skipped".
#   scripts/deb.sh vm      the guest half alone, on the packages in
#                          build/deb, with build/6.1/migprio.ko (KO=FILE)
# Needs debhelper, dh-dkms, dkms, lintian (scripts/deps.sh installs them).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build/deb
CACHE=${MIGPRIO_CACHE:-/var/cache/migprio}
VER=$("$ROOT/scripts/version.sh" --release)

build() {
	local src=$OUT/src deb_ver
	deb_ver=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
	if [ "${deb_ver%-*}" != "$VER" ]; then
		echo "deb: debian/changelog is at $deb_ver, VERSION at $VER: add a changelog entry (dch -v $VER-1)" >&2
		return 1
	fi
	rm -rf "$OUT" && mkdir -p "$src"
	(cd "$ROOT" && git ls-files -co --exclude-standard 2>/dev/null ||
		find . -path ./build -prune -o -path ./.git -prune -o -type f -print) |
		grep -v '^build/' | (cd "$ROOT" && xargs -d '\n' tar -cf - 2>/dev/null) |
		tar -C "$src" -xf - || return 1
	echo "deb: dpkg-buildpackage in $src (log: $OUT/build.log)"
	if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1; then
		tail -n 30 "$OUT/build.log"
		return 1
	fi
	ls "$OUT"/*.deb
	echo "deb: lintian"
	lintian --fail-on error --suppress-tags-from-file /dev/null "$OUT"/*.changes 2>&1 |
		tee "$OUT/lintian.log"
	return "${PIPESTATUS[0]}"
}

N=0 PASS=0 FAIL=0
ok() { # RESULT DESCRIPTION
	N=$((N + 1))
	if [ "$1" = 0 ]; then
		PASS=$((PASS + 1)) && echo "ok $N $2"
	else
		FAIL=$((FAIL + 1)) && echo "not ok $N $2"
	fi
}
check() { # DESCRIPTION CMD...: one test from a command's status, its output as diagnostics
	local d=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	[ -z "$out" ] || sed 's/^/# /' <<<"$out"
	ok "$rc" "$d"
}

# the files of a package (dpkg -c of the .deb)
has_files() { # DEB FILE...
	local deb=$1 list f
	shift
	list=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
	for f in "$@"; do
		grep -qxF "$f" <<<"$list" || { echo "missing $f in $(basename "$deb")"; return 1; }
	done
}

leftovers() {
	local l
	l=$( (ls -d /usr/src/migprio-* /var/lib/dkms/migprio /usr/sbin/migprioctl \
		/lib/systemd/system/migprio.service /usr/lib/modules-load.d/migprio.conf \
		/etc/migprio 2>/dev/null; dpkg-query -W -f='${Package} ${Status}\n' \
		migprio-dkms migprioctl 2>/dev/null | grep -v 'not-installed$') || true)
	[ -z "$l" ] || { echo "left: $l"; return 1; }
}

dkms_61() {
	local abi ko
	abi=$(cat "$CACHE/kernels/6.1/abi") || return 1
	# the postinst built it already (autoinstall); this only checks
	dkms build -m migprio -v "$VER" -k "$abi" || return 1
	ko=/var/lib/dkms/migprio/$VER/$abi/x86_64/module/migprio.ko
	[ -f "$ko" ] || ko=$(ls /var/lib/dkms/migprio/"$VER"/"$abi"/*/module/migprio.ko* 2>/dev/null | head -n1)
	[ -n "$ko" ] || { echo "no migprio.ko from DKMS"; return 1; }
	modinfo "$ko" | grep -E '^(version|vermagic):'
	# for the guest half: this build is what it loads
	case $ko in
	*.xz) xz -dc "$ko" >"$OUT/vm-migprio.ko" ;;
	*.zst) zstd -qdc "$ko" >"$OUT/vm-migprio.ko" ;;
	*) cp "$ko" "$OUT/vm-migprio.ko" ;;
	esac
	modinfo -F version "$ko" | grep -qxF "$VER" &&
		modinfo -F vermagic "$ko" | grep -q "^$abi "
}

# A kernel migprio does not support (dkms.conf's range) is installed: the
# kernel's own DKMS hook (what its postinst runs) skips migprio, says why
# and succeeds; one in the range autoinstalls (the 6.1 headers)
dkms_unsupported() {
	local k=7.9.0-mptest out rc abi
	mkdir -p "/lib/modules/$k/build/include"
	out=$(/etc/kernel/postinst.d/dkms "$k" 2>&1)
	rc=$?
	rm -rf "/lib/modules/$k"
	echo "$out"
	[ "$rc" = 0 ] && grep -q "not built for $k" <<<"$out" || return 1
	abi=$(cat "$CACHE/kernels/6.1/abi") || return 1
	dkms autoinstall -k "$abi" && dkms status -m migprio -v "$VER" -k "$abi" | grep -q installed
}

# make install with DESTDIR puts the files where they belong, uninstall
# removes every one of them (and the directories it created)
make_install() {
	local d=$OUT/destdir abi files
	abi=$(cat "$CACHE/kernels/6.1/abi") || return 1
	rm -rf "$d" && mkdir -p "$d"
	make -s -C "$ROOT" install KVER=6.1 DESTDIR="$d" >/dev/null 2>&1 ||
		{ echo "make install failed"; return 1; }
	files=$(cd "$d" && find . -type f | sort)
	echo "$files"
	[ "$files" = "$(printf '%s\n' ./etc/migprio/migprio.conf \
		"./lib/modules/$abi/updates/migprio.ko" \
		./usr/local/lib/modules-load.d/migprio.conf \
		./usr/local/lib/systemd/system/migprio.service ./usr/local/sbin/migprioctl \
		./usr/local/share/bash-completion/completions/migprioctl \
		./usr/local/share/man/man8/migprioctl.8 | sort)" ] || { echo "unexpected files"; return 1; }
	make -s -C "$ROOT" uninstall KVER=6.1 DESTDIR="$d" || return 1
	files=$(find "$d" -mindepth 1)
	[ -z "$files" ] || { echo "left after uninstall: $files"; return 1; }
}

# The guest half of the test (scripts/deb-vm/test.sh, see there): staged
# in $OUT/vm for vm-run --add. root/ goes over the guest's /: this
# machine's dpkg, dash, tar, ldconfig, start-stop-daemon, perl with
# deb-systemd-helper and deb-systemd-invoke (with their libraries), the
# stand-ins for systemctl and dkms, and a dpkg status that has the
# packages' dependencies. debs/v1: the packages built; debs/v2: the same,
# repacked with a higher version (dpkg-deb -R, -b), for the upgrade.
VM_PROGS=(/usr/bin/dpkg /usr/bin/dpkg-deb /usr/bin/dpkg-query /usr/bin/dpkg-split
	/usr/bin/dpkg-divert /usr/bin/dpkg-trigger /usr/bin/dpkg-maintscript-helper
	/usr/sbin/start-stop-daemon /usr/sbin/ldconfig /usr/bin/tar /usr/bin/dash
	/usr/bin/perl /usr/bin/deb-systemd-helper /usr/bin/deb-systemd-invoke)
VM_TESTS=5	# the guest's KTAP results

stage_vm() { # DKMS_DEB TOOL_DEB
	local v=$OUT/vm f lib dir deb d ver
	rm -rf "$v" && mkdir -p "$v/root" "$v/debs/v1" "$v/debs/v2" || return 1
	for f in "${VM_PROGS[@]}"; do
		install -D "$f" "$v/root$f" || return 1
		for lib in $(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*'); do
			dir=$(readlink -f "$(dirname "$lib")")
			mkdir -p "$v/root$dir" && cp -L "$lib" "$v/root$dir/"
		done
	done
	mkdir -p "$v/root/usr/lib/x86_64-linux-gnu" "$v/root/usr/lib/dkms" "$v/root/var/lib/dpkg"
	cp -a /usr/lib/x86_64-linux-gnu/perl-base "$v/root/usr/lib/x86_64-linux-gnu/" || return 1
	install -m 0755 "$ROOT/scripts/deb-vm/systemctl" "$v/root/usr/bin/systemctl"
	install -m 0755 "$ROOT/scripts/deb-vm/dkms" "$v/root/usr/sbin/dkms"
	install -m 0755 "$ROOT/scripts/deb-vm/common.postinst" "$v/root/usr/lib/dkms/common.postinst"
	install -m 0755 "$ROOT/scripts/deb-vm/test.sh" "$v/test.sh"
	printf '%s\n' "${VM_PROGS[@]}" /usr/bin/systemctl /usr/sbin/dkms >"$v/progs"
	dpkg-query -s libc6 libmnl0 dkms >"$v/root/var/lib/dpkg/status" || return 1
	# and their file lists: dpkg must know that /lib and the like are
	# not the packages' alone (a purge would remove them)
	mkdir -p "$v/root/var/lib/dpkg/info"
	for d in libc6:amd64 libmnl0:amd64 dkms; do
		dpkg -L "$d" >"$v/root/var/lib/dpkg/info/$d.list" || return 1
	done
	cp "$@" "$v/debs/v1/" || return 1
	ver=$(dpkg-deb -f "$2" Version)
	echo "$ver" >"$v/debs/v1/version"
	echo "$ver+upgrade1" >"$v/debs/v2/version"
	for deb in "$@"; do
		d=$(mktemp -d "$OUT/repack.XXXXXX")
		dpkg-deb -R "$deb" "$d" &&
		sed -i "s/^Version: .*/Version: $ver+upgrade1/" "$d/DEBIAN/control" &&
		dpkg-deb -Zgzip -b "$d" "$v/debs/v2/" >/dev/null || return 1
		rm -rf "$d"
	done
}

# run_vm KO: the guest half on the 6.1 test kernel with KO loaded; its
# results become ours ("vm: ..."), missing ones failures
run_vm() {
	local out rc n=0 line
	out=$("$ROOT/selftests/vm-run" --kernel 6.1 --module "$1" --add "$OUT/vm" \
		--timeout 300 -- 'bash /mnt/add/test.sh' 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "[0-9]*) n=$((n + 1)); ok 0 "vm: ${line#ok * }" ;;
		"not ok "[0-9]*) n=$((n + 1)); ok 1 "vm: ${line#not ok * }" ;;
		"TAP version"*|1..*) ;;
		*) echo "# $line" ;;
		esac
	done <<<"$out"
	[ "$rc" = 0 ] || echo "# vm-run exit status $rc"
	while [ "$n" -lt "$VM_TESTS" ]; do
		n=$((n + 1))
		ok 1 "vm: result $n missing"
	done
}

run_test() {
	local dkms_deb tool_deb f
	[ "$(id -u)" = 0 ] || { echo "deb test: must run as root"; return 1; }
	echo "KTAP version 1"
	echo "1..$((11 + VM_TESTS))"
	build >"$OUT.log" 2>&1
	ok $? "packages build, lintian reports no error"
	sed 's/^/# /' "$OUT.log" | tail -n 20
	mv "$OUT.log" "$OUT/" 2>/dev/null
	dkms_deb=$(ls "$OUT"/migprio-dkms_*.deb 2>/dev/null)
	tool_deb=$(ls "$OUT"/migprioctl_*.deb 2>/dev/null)
	check "migprio-dkms holds the module source and dkms.conf" has_files "$dkms_deb" \
		"/usr/src/migprio-$VER/dkms.conf" "/usr/src/migprio-$VER/Kbuild" \
		"/usr/src/migprio-$VER/VERSION" "/usr/src/migprio-$VER/module/main.c" \
		"/usr/src/migprio-$VER/uapi/linux/migprio.h"
	check "migprioctl holds the tool, man page, completion, unit, config" has_files "$tool_deb" \
		/usr/sbin/migprioctl /usr/share/man/man8/migprioctl.8.gz \
		/usr/share/bash-completion/completions/migprioctl \
		/lib/systemd/system/migprio.service /usr/lib/modules-load.d/migprio.conf \
		/etc/migprio/migprio.conf /usr/libexec/migprio/undo
	check "nothing of migprio installed before" leftovers
	# depmod (DKMS) writes modules.* into /lib/modules/<kernel> of headers
	# without an installed kernel: those are removed after the purge
	ls -d /lib/modules/*/* >"$OUT/modules.before" 2>/dev/null
	check "both packages install (DKMS registers the module)" \
		sh -c "dpkg -i '$dkms_deb' '$tool_deb' && dkms status migprio | grep -F 'migprio/$VER' &&
			dpkg-query -W -f='\${Conffiles}\n' migprioctl | grep -F /etc/migprio/migprio.conf &&
			/usr/sbin/migprioctl -V | grep -F 'migprioctl $VER'"
	check "systemd-analyze verify migprio.service" \
		sh -c 'out=$(systemd-analyze verify /lib/systemd/system/migprio.service 2>&1); echo "$out"; [ -z "$out" ]'
	check "DKMS builds migprio.ko $VER for the 6.1 headers" dkms_61
	check "a kernel outside 6.1-7.3: its DKMS hook skips migprio, says why, succeeds" dkms_unsupported
	# the guest half: the maintainer scripts against a running module
	check "the guest half is staged (dpkg, perl, stand-ins, versions 1 and 2)" \
		stage_vm "$dkms_deb" "$tool_deb"
	run_vm "$OUT/vm-migprio.ko"
	check "purge leaves nothing" sh -c "dpkg --purge migprioctl migprio-dkms >/dev/null && $(declare -f leftovers); leftovers"
	for f in /lib/modules/*/modules.*; do
		[ -e "$f" ] && ! grep -qxF "$f" "$OUT/modules.before" && rm -f "$f"
	done
	check "make install/uninstall with DESTDIR: the files, then none" make_install
	echo "# $PASS passed, $FAIL failed, 0 skipped"
	echo "$PASS passed, $FAIL failed, 0 skipped"
	[ "$FAIL" = 0 ]
}

case ${1:-} in
build) build ;;
test) run_test ;;
vm)	# the guest half alone, on the packages build/deb holds, with
	# build/6.1/migprio.ko (or KO=FILE)
	stage_vm "$OUT"/migprio-dkms_*.deb "$OUT"/migprioctl_*.deb &&
		run_vm "${KO:-$ROOT/build/6.1/migprio.ko}"
	[ "$FAIL" = 0 ] ;;
*) echo "usage: $0 build|test|vm" >&2; exit 2 ;;
esac
