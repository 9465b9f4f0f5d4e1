#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# migprio.ko loads and unloads cleanly, registers the generic netlink family
# "migprio" with multicast group "events" only while loaded, and migprioctl
# talks to it (or says clearly that it is not loaded).
source "$(dirname "$0")/lib.sh"

mp_require
ktap_plan 11
# "absent" must stay absent: a genl get of an unknown family autoloads it
mp_noautoload

# 20 load/unload cycles, state checked independently after each step
cycles() {
	local i
	for i in $(seq 1 20); do
		modprobe migprio || { echo "cycle $i: modprobe failed"; return 1; }
		[ -d /sys/module/migprio ] || { echo "cycle $i: no /sys/module/migprio"; return 1; }
		mp_genl_present || { echo "cycle $i: genl family missing"; return 1; }
		rmmod migprio || { echo "cycle $i: rmmod failed"; return 1; }
		[ ! -d /sys/module/migprio ] || { echo "cycle $i: /sys/module/migprio left"; return 1; }
		! lsmod | grep -qw '^migprio' || { echo "cycle $i: still in lsmod"; return 1; }
		! mp_genl_present || { echo "cycle $i: genl family left"; return 1; }
	done
}
ktap_test "load/unload 20 times, no leftover state" cycles

splat_free() {
	! dmesg | grep -E 'BUG:|WARNING:|Oops|refcount_t:|suspicious RCU|circular locking|inconsistent lock|unreferenced object'
}
ktap_test "no kernel splat after 20 cycles" splat_free

mp_load
family_ok() {
	local out
	out=$("$GENL" ctrl get name "$MP_FAMILY") || return 1
	echo "$out"
	echo "$out" | grep -q "Name: $MP_FAMILY\b" &&
		echo "$out" | grep -q "name: $MP_GROUP\b"
}
ktap_test "genl ctrl shows family $MP_FAMILY with group $MP_GROUP" family_ok

if [ -x "$MIGPRIOCTL" ]; then
	version_ok() {
		local out
		out=$("$MIGPRIOCTL" -V) || return 1
		echo "$out"
		echo "$out" | grep -q migprio
	}
	# -V against modinfo (MODULE_VERSION) and the family version genl
	# reports ("Version: 0x1")
	version_loaded() {
		local out mver fver
		out=$("$MIGPRIOCTL" -V) || return 1
		echo "$out"
		mver=$(modinfo -F version migprio)
		fver=$("$GENL" ctrl get name "$MP_FAMILY" |
			sed -nE 's/.*Version: (0x[0-9a-f]+).*/\1/p')
		echo "modinfo: ${mver:-no version}, genl: family version ${fver:-?}"
		[ -n "$mver" ] && [ -n "$fver" ] &&
			echo "$out" | grep -qxF "module migprio $mver (generic netlink family $MP_FAMILY version $((fver)))"
	}
	ktap_test "migprioctl -V: the module's version and family version" version_loaded
	ktap_test "migprioctl dev show with module loaded" "$MIGPRIOCTL" dev show
	ktap_test "migprioctl -j dev show is valid JSON" \
		bash -c "'$MIGPRIOCTL' -j dev show | '$JQ' -e . >/dev/null"
else
	ktap_skip "migprioctl -V: the module's version and family version" "migprioctl not in the VM image"
	ktap_skip "migprioctl dev show with module loaded" "migprioctl not in the VM image"
	ktap_skip "migprioctl -j dev show is valid JSON" "migprioctl not in the VM image"
fi

mp_unload
gone() {
	! "$GENL" ctrl get name "$MP_FAMILY" 2>&1
}
ktap_test "genl family gone after unload" gone

if [ -x "$MIGPRIOCTL" ]; then
	not_loaded() {
		local out rc=0
		out=$("$MIGPRIOCTL" dev show 2>&1) || rc=$?
		echo "$out (exit $rc)"
		[ "$rc" != 0 ] && echo "$out" | grep -q "migprio module not loaded"
	}
	ktap_test "migprioctl without module: clear message, non-zero exit" not_loaded
	ktap_test "migprioctl -V works without module" version_ok
else
	ktap_skip "migprioctl without module: clear message, non-zero exit" "migprioctl not in the VM image"
	ktap_skip "migprioctl -V works without module" "migprioctl not in the VM image"
fi

mp_autoload
# with autoloading allowed, -V must not load the module (a family lookup
# would): it says so instead
if [ -x "$MIGPRIOCTL" ]; then
	version_noload() {
		local out
		out=$("$MIGPRIOCTL" -V) || return 1
		echo "$out"
		echo "$out" | grep -qx "module migprio not loaded" && ! mp_loaded
	}
	ktap_test "migprioctl -V does not load the module" version_noload
else
	ktap_skip "migprioctl -V does not load the module" "migprioctl not in the VM image"
fi
if modinfo -F alias migprio 2>/dev/null | grep -q "net-pf-16-proto-16-family-$MP_FAMILY"; then
	autoload() {
		"$GENL" ctrl get name "$MP_FAMILY" >/dev/null && mp_loaded
	}
	ktap_test "genl ctrl get name $MP_FAMILY autoloads the module" autoload
	mp_unload
else
	ktap_skip "genl ctrl get name $MP_FAMILY autoloads the module" "no MODULE_ALIAS_GENL_FAMILY"
fi

ktap_finish
