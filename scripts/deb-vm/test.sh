#!/usr/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of `make deb-test` (scripts/deb.sh test stages it with
# vm-run --add, at /mnt/add): the packages' maintainer scripts run by a
# real dpkg in a test VM where migprio.ko (the host half's DKMS build) is
# loaded, so what they do to a running configuration shows:
#   1. version 1 installs; the unit is neither enabled nor started
#   2. enable --now applies migprio.conf (designation, 4d50: qdisc, rings
#      max on eth0, rules, the qemu ports reserved)
#   3. the upgrade to version 2 (both packages) leaves the designation,
#      the qdisc and the rules (same ids) in place and never touches the
#      rings or the qdisc (ethtool --monitor, tc monitor, migprio's
#      events see nothing), and restarts the running unit
#   4. the purge restores eth0 (migprio's qdisc gone, RX ring back to
#      256), deletes the rules, takes the reserved ports out again, unloads
#      the module, leaves no /run/migprio and no file, and says what it did
#   5. removing migprio-dkms alone while migprioctl stays and its unit
#      runs stops the unit first (its follower would put the
#      configuration back), then does the same undo and unloads the module
# Stand-ins, as the VM has neither systemd nor a compiler: systemctl runs
# the unit file's own command lines (scripts/deb-vm/systemctl), dkms
# records its calls (the real one ran on the host). Everything else is the
# Debian system's own: dpkg, dash as /bin/sh, perl with
# deb-systemd-helper and deb-systemd-invoke.
# KTAP lines; scripts/deb.sh counts them.
source /selftests/lib.sh

ADD=/mnt/add
M=/usr/sbin/migprioctl
OUT=$(mktemp -d)
defer rm -rf "$OUT"

# ----------------------------------------------------------- the system
# root/ over /: busybox's applet links of the programs there (tar, dpkg,
# start-stop-daemon) give way to the real ones; a file the guest has
# already (its libraries) is the same file of the same machine and stays
# (overwriting a library in use would crash)
while IFS= read -r f; do
	[ ! -L "$f" ] || rm -f "$f"
done <"$ADD/progs"
# (GNU tar's --skip-old-files, with the libraries staged next to it)
gtar() { LD_LIBRARY_PATH=$ADD/root/usr/lib/x86_64-linux-gnu "$ADD/root/usr/bin/tar" "$@"; }
gtar -C "$ADD/root" -cf - . | gtar -C / -xf - --skip-old-files
ln -sf dash /usr/bin/sh			# Debian's /bin/sh
ln -sfn /proc/self/fd /dev/fd		# as udev makes it
mkdir -p /var/lib/dpkg/info /var/lib/dpkg/updates /var/lib/dpkg/triggers \
	/var/lib/dpkg/alternatives /etc/systemd/system /run/systemd/system
touch /var/lib/dpkg/available
: >/run/systemctl.log

ktap_plan 5
mp_load || ktap_skip_all "cannot load migprio.ko"

ring_rx() {	# current|max RX of eth0
	"$ETHTOOL" -g eth0 | awk -v want="$1" '
		/^Pre-set maximums/ { s = "max" } /^Current hardware/ { s = "current" }
		$1 == "RX:" && s == want { print $2; exit }'
}
"$ETHTOOL" -G eth0 rx 256 || ktap_skip_all "eth0's rings cannot be resized"
busywait 10000 eval '[ "$(ring_rx current)" = 256 ]'
MAX=$(ring_rx max)
root_qdisc() { "$TC" qdisc show dev eth0 | awk '/ root /{ print $2, $3; exit }'; }
rule_ids() { "$M" -j rule list | "$JQ" -c '[.[] | [.id, .name]]'; }
RESERVED=/proc/sys/net/ipv4/ip_local_reserved_ports
RESERVED0=$(cat $RESERVED)
configured() {
	[ "$(root_qdisc)" = "prio 4d50:" ] && [ "$(ring_rx current)" = "$MAX" ] &&
	grep -q '49152-49215' $RESERVED &&
	"$M" -j dev show | "$JQ" -e '.dev.ifname == "eth0"' >/dev/null &&
	[ "$("$M" -j rule list | "$JQ" length)" = 2 ]
}
restored() {
	[ "$(root_qdisc)" != "prio 4d50:" ] && [ "$(ring_rx current)" = 256 ] &&
	[ "$(cat $RESERVED)" = "$RESERVED0" ] &&
	[ ! -d /sys/module/migprio ] && [ ! -e /run/migprio ]
}
pkgs() { dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' migprio-dkms migprioctl 2>&1; }

CONF='dev set eth0 queue prio rings max
rule add preset qemu reserve-ports
rule add port 7000 name seven'

install_v1() {
	dpkg -i "$ADD"/debs/v1/*.deb || return 1
	pkgs
	pkgs | grep -q "^migprioctl $(cat "$ADD/debs/v1/version") ii" || return 1
	"$M" -V | grep -q '^migprioctl ' || return 1
	echo "systemctl calls:"; cat /run/systemctl.log
	! systemctl --quiet is-enabled migprio.service && ! systemctl --quiet is-active migprio.service &&
	! "$M" -j dev show | "$JQ" -e '.dev' >/dev/null
}
ktap_test "version 1 installs; the unit is neither enabled nor started" install_v1

enable_now() {
	printf '%s\n' "$CONF" >/etc/migprio/migprio.conf
	systemctl enable --now migprio.service || return 1
	busywait 10000 configured || { "$M" showconf; "$TC" qdisc show dev eth0; "$ETHTOOL" -g eth0; return 1; }
	"$M" showconf
}
ktap_test "enable --now applies migprio.conf: eth0 designated, 4d50: qdisc, rings max, rules, ports reserved" enable_now

# ------------------------------------------------------------- upgrade
upgrade() {
	local ids0 tcn ethn
	ids0=$(rule_ids)
	# what the kernel announces about qdiscs (tc monitor) and rings
	# (ethtool --monitor); each shows a marker before the upgrade and after
	# it, so that everything in between has been written out. (A clear and
	# set again would also give the rules new ids.)
	stdbuf -oL "$TC" monitor >"$OUT/tc" 2>&1 &
	defer kill $!
	stdbuf -oL "$ETHTOOL" --monitor >"$OUT/eth" 2>&1 &
	defer kill $!
	"$IP" link add mpmark type dummy
	MARK=0
	marker() { # a qdisc and a features change of a dummy device
		MARK=$((MARK + 1))
		"$TC" qdisc replace dev mpmark root pfifo limit $((100 + MARK)) &&
		"$ETHTOOL" -K mpmark tx "$([ $((MARK % 2)) = 1 ] && echo off || echo on)" >/dev/null 2>&1 &&
		busywait 3000 eval '[ "$(grep -c "limit $((100 + MARK))" "$OUT/tc")" = 1 ] &&
			[ "$(grep -c "Features for mpmark" "$OUT/eth")" -ge '"$MARK"' ]'
	}
	busywait 10000 marker || { echo "monitors did not start"; cat "$OUT/tc" "$OUT/eth"; }
	tcn=$(grep -c "dev eth0" "$OUT/tc") ethn=$(grep -c "eth0" "$OUT/eth")
	: >/run/systemctl.log
	dpkg -i "$ADD"/debs/v2/*.deb || return 1
	pkgs
	marker
	echo "systemctl calls:"; cat /run/systemctl.log
	echo "tc monitor:"; grep "dev eth0" "$OUT/tc"
	echo "ethtool --monitor:"; grep -A3 "eth0" "$OUT/eth"
	pkgs | grep -q "^migprioctl $(cat "$ADD/debs/v2/version") ii" || return 1
	configured && [ "$(rule_ids)" = "$ids0" ] || { echo "rules $ids0 -> $(rule_ids)"; return 1; }
	[ "$(grep -c "dev eth0" "$OUT/tc")" = "$tcn" ] || { echo "eth0's qdisc was touched"; return 1; }
	[ "$(grep -c "eth0" "$OUT/eth")" = "$ethn" ] || { echo "eth0's rings were touched"; return 1; }
	# the running unit was restarted after the upgrade, never stopped before it
	grep -q 'try-restart migprio.service' /run/systemctl.log &&
	! grep -q ' stop migprio.service' /run/systemctl.log
}
ktap_test "upgrade to version 2: designation, qdisc and rules stay, rings and qdisc never touched" upgrade

# --------------------------------------------------------------- purge
purge() {
	local out
	out=$(dpkg --purge migprioctl migprio-dkms 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	pkgs
	grep -q "migprio: the host: eth0 no longer designated; the 4d50: qdisc removed from eth0; ring sizes of eth0 put back" <<<"$out" &&
	grep -q "migprio: the host: 2 rule(s) deleted" <<<"$out" &&
	grep -q "migprio: the host: ports 49152-49215 taken out of net.ipv4.ip_local_reserved_ports" <<<"$out" &&
	grep -q "migprio: module unloaded" <<<"$out" || return 1
	"$TC" qdisc show dev eth0; "$ETHTOOL" -g eth0 | sed -n '/^Current/,$p'
	restored || { echo "not restored"; return 1; }
	ls -d /etc/migprio /usr/sbin/migprioctl /lib/systemd/system/migprio.service \
		/etc/systemd/system/*.wants/migprio.service 2>/dev/null && return 1
	! pkgs | grep -q ' ii'
}
ktap_test "purge restores eth0 (qdisc, RX 256), deletes the rules, unreserves the ports, unloads the module, says so" purge

# --------------------------------------- migprio-dkms removed on its own
dkms_alone() {
	local out
	mp_load || return 1
	"$ETHTOOL" -G eth0 rx 256
	dpkg -i "$ADD"/debs/v2/*.deb >/dev/null || return 1
	printf '%s\n' "$CONF" >/etc/migprio/migprio.conf
	systemctl start migprio.service || return 1
	busywait 10000 configured || return 1
	: >/run/systemctl.log
	out=$(dpkg -r migprio-dkms 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	echo "systemctl calls:"; cat /run/systemctl.log
	# the follower stopped before anything was undone
	grep -q "migprio: migprio.service stopped" <<<"$out" &&
	grep -q 'stop migprio.service' /run/systemctl.log &&
	! systemctl --quiet is-active migprio.service &&
	grep -q "migprio: the host: eth0 no longer designated" <<<"$out" &&
	grep -q "migprio: module unloaded" <<<"$out" && restored || return 1
	dpkg --purge migprioctl migprio-dkms >/dev/null
}
ktap_test "removing migprio-dkms alone stops the unit, undoes the configuration and unloads the module" dkms_alone

ktap_finish
