# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# P6 layouts (issue 17, guest side, sourced by bench-vm.sh): P1's
# migration (M MiB, D = 0) against 4 bulk flows on the layouts hypervisor
# hosts have, where the tenants' traffic meets the migration on the uplink
# and not on the device holding the address. The "NIC" is hvsrc's vsrc,
# shaped at the link rate as in P1; hvdst is the peer. Layouts of hvsrc:
#   br       the address on vmbr0, whose uplink port is vsrc; the bulk
#            flows from a tenant netns (tnsrc) behind a veth port of vmbr0,
#            bridged straight to vsrc (bench-qemu.sh's br_layout_setup)
#   bond     the same with bond0 (active-backup, slave vsrc) as vmbr0's
#            port
#   vlan     the address on vmbr0.100 of a VLAN-aware vmbr0 over vsrc, the
#            peer's on vdst.100; the tenant's port in VLAN 100 (untagged)
#   macvlan  the address on a macvlan mig0 over vsrc; the bulk flows from
#            a container with its own macvlan on vsrc (Docker's macvlan
#            network), priority 0
# Rows of each layout:
#   alone    no other traffic (vsrc: htb at the link rate + fq_codel)
#   linux    4 bulk flows from the tenant, no migprio (the same qdisc)
#   migprio  4 bulk flows, migprio as operating.rst says: `dev set` of the
#            device holding the address (the walk puts the layout on vsrc;
#            on bond0 for bond, at 95% of the link, a little below the NIC
#            below it), `rule add preset qemu`, on both hosts; the layout
#            is checked to be where the walk should put it (tc)
# Every row with bulk flows checks that none was in the migration class
# (guard_*, bench-lib.sh).

P6_LAYOUTS=${P6_LAYOUTS:-br bond vlan macvlan}
BRIDGE=${BRIDGE:-/usr/sbin/bridge}
P6_CT=ctsrc P6_CT_ADDR=10.77.0.12

# p6_setup LAYOUT: build it on hvsrc (and hvdst for vlan)
p6_setup() {
	case $1 in
	br) br_layout_setup ;;
	bond) bond_nic "$NS_SRC" "$DEV_SRC" && br_layout_setup bond0 ;;
	vlan)
		br_layout_setup "$DEV_SRC" vlan_filtering 1 &&
		ns_src "$IP" addr flush dev "$BR_DEV" &&
		ns_src "$BRIDGE" vlan add dev "$DEV_SRC" vid 100 &&
		ns_src "$BRIDGE" vlan add dev "$BR_DEV" vid 100 self &&
		ns_src "$BRIDGE" vlan add dev "$BR_PORT" vid 100 pvid untagged &&
		ns_src "$BRIDGE" vlan del dev "$BR_PORT" vid 1 &&
		ns_src "$IP" link add link "$BR_DEV" name "$BR_DEV.100" type vlan id 100 &&
		ns_src "$IP" addr add "$ADDR_SRC/24" dev "$BR_DEV.100" &&
		ns_src "$IP" link set "$BR_DEV.100" up &&
		ns_dst "$IP" addr flush dev "$DEV_DST" &&
		ns_dst "$IP" link add link "$DEV_DST" name "$DEV_DST.100" type vlan id 100 &&
		ns_dst "$IP" addr add "$ADDR_DST/24" dev "$DEV_DST.100" &&
		ns_dst "$IP" link set "$DEV_DST.100" up
		;;
	macvlan)
		ns_src "$IP" addr flush dev "$DEV_SRC" &&
		ns_src "$IP" link add mig0 link "$DEV_SRC" type macvlan mode bridge &&
		ns_src "$IP" addr add "$ADDR_SRC/24" dev mig0 &&
		ns_src "$IP" link set mig0 up &&
		"$IP" netns add "$P6_CT" &&
		"$IP" -n "$P6_CT" link set lo up &&
		ns_src "$IP" link add ct0 link "$DEV_SRC" type macvlan mode bridge &&
		ns_src "$IP" link set ct0 netns "$P6_CT" &&
		"$IP" -n "$P6_CT" addr add "$P6_CT_ADDR/24" dev ct0 &&
		"$IP" -n "$P6_CT" link set ct0 up &&
		BULK_NS_SRC=$P6_CT
		;;
	esac
}

# p6_destroy LAYOUT: back to P1's topology
p6_destroy() {
	# the bond first: vsrc, released, takes the address back below
	[ "$1" != bond ] || ns_src "$IP" link del bond0 2>/dev/null || true
	case $1 in
	br|bond|vlan) br_layout_destroy ;;
	macvlan)
		BULK_NS_SRC=
		"$IP" netns del "$P6_CT" 2>/dev/null || true
		ns_src "$IP" link del mig0 2>/dev/null || true
		;;
	esac
	if [ "$1" = vlan ]; then
		ns_dst "$IP" link del "$DEV_DST.100" 2>/dev/null || true
		ns_dst "$IP" addr replace "$ADDR_DST/24" dev "$DEV_DST"
		ns_dst "$IP" addr replace fd77::2/64 dev "$DEV_DST" nodad
	fi
	ns_src "$IP" addr replace "$ADDR_SRC/24" dev "$DEV_SRC"
	ns_src "$IP" addr replace fd77::1/64 dev "$DEV_SRC" nodad
	ns_src "$IP" link set "$DEV_SRC" up
}

# p6_devset LAYOUT: the designated device, its dev set words, the device
# the layout must land on (the source host)
p6_devset() {
	case $1 in
	br) echo "$BR_DEV queue htb rate ${LINK_MBIT}mbit guard 0 uplink $DEV_SRC|$DEV_SRC" ;;
	bond) echo "$BR_DEV queue htb rate $((LINK_MBIT * 95 / 100))mbit guard 0|bond0" ;;
	vlan) echo "$BR_DEV.100 queue htb rate ${LINK_MBIT}mbit guard 0 uplink $DEV_SRC|$DEV_SRC" ;;
	macvlan) echo "mig0 queue htb rate ${LINK_MBIT}mbit guard 0|$DEV_SRC" ;;
	esac
}

# cfg_migprio_layout LAYOUT: migprio on both hosts; 1 when the layout is
# not where the walk should have put it
cfg_migprio_layout() {
	local spec words qdev dst=$DEV_DST
	spec=$(p6_devset "$1")
	words=${spec%|*} qdev=${spec#*|}
	[ "$1" != vlan ] || dst=$DEV_DST.100
	GUARD_CFG=migprio
	mp_on
	# shellcheck disable=SC2086 # the dev set words
	ns_src "$MIGPRIOCTL" dev set $words >/dev/null &&
	ns_dst "$MIGPRIOCTL" dev set "$dst" queue htb rate "${LINK_MBIT}mbit" guard 0 >/dev/null &&
	ns_src "$MIGPRIOCTL" rule add preset qemu >/dev/null &&
	ns_dst "$MIGPRIOCTL" rule add preset qemu >/dev/null || return 1
	layout_on "$NS_SRC" "$qdev" || {
		log "P6 $1: the layout is not on $qdev: $(ns_src "$TC" qdisc show)"
		return 1
	}
	P6_DEVSET="dev set $words (layout on $qdev)"
}

# p6 REPS MEM_MIB: every layout's rows, REPS times
p6() {
	local reps=$1 mem=$2 lay cfg rep
	local need=$((mem * 8 * 3 / LINK_MBIT + 25))
	for lay in $P6_LAYOUTS; do
		if ! budget_ok $((need * 3)); then
			skip_budget p6 "$lay"
			continue
		fi
		link_reset
		if ! p6_setup "$lay"; then
			emit "{\"scenario\":\"p6\",\"config\":\"$lay\",\"rep\":1,\"skipped\":\"cannot build the layout\"}"
			p6_destroy "$lay"
			continue
		fi
		for rep in $(seq 1 "$reps"); do
			for cfg in alone linux migprio; do
				link_reset
				P6_DEVSET=
				case $cfg in
				alone|linux) cfg_shaped ;;
				migprio)
					if ! have_migprio; then
						emit "{\"scenario\":\"p6\",\"config\":\"$lay-$cfg\",\"rep\":$rep,\"skipped\":\"migprio.ko or migprioctl not built\"}"
						continue
					fi
					if ! cfg_migprio_layout "$lay"; then
						emit "{\"scenario\":\"p6\",\"config\":\"$lay-$cfg\",\"rep\":$rep,\"skipped\":\"migprio could not be set up as operating.rst says\"}"
						continue
					fi
					;;
				esac
				log "P6 $lay rep $rep $cfg: migrate $mem MiB, D=0$([ "$cfg" = alone ] || echo ", 4 bulk flows from $BULK_NS_SRC")${P6_DEVSET:+, $P6_DEVSET}"
				run_migration p6 "$lay-$cfg" "$rep" "$mem" 0 30 \
					"$([ "$cfg" = alone ] && echo 0 || echo 1)" 0
			done
		done
		link_reset
		p6_destroy "$lay"
	done
}
