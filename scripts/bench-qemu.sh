# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
# (QM_* are read by qemu_lib.sh)
#
# PQ: real QEMU migrations (guest side, sourced by bench-vm.sh and
# bench-demo.sh; needs `vm-run --qemu` and selftests/qemu_lib.sh).
#
# A real qemu-system-x86_64 in hvsrc runs the test guest (userspace/guest:
# 64 MiB, 32 MiB of random RAM, a 2 MiB hot set dirtied at 8 MiB/s) and
# migrates it to a QEMU waiting in hvdst.  The link is emulated at
# QEMU_LINK_MBIT (100 Mbit/s).  Groups of rows (PQ_GROUPS, default all;
# `make bench`, which runs every scenario, only q72),
# one migration per row, in one boot:
#   q72   Debian's QEMU 7.2 straight over TCP (libvirt's native migration):
#         multifd, 4 channels, QEMU's defaults otherwise (downtime-limit
#         300 ms, its default max-bandwidth)
#   q10   the same with QEMU 10 (bookworm-backports)
#   pve   Proxmox VE's default secure migration, QEMU 10: one stream
#         through `ssh -L` between unix sockets, qemu-server's settings
#         (downtime-limit 100 ms and its auto-increase, auto-converge,
#         xbzrle; QM_CLIENT=proxmox in qemu_lib.sh)
#   br    QEMU 7.2 as q72 on the layout most hypervisors have: hvsrc's
#         address on a bridge vmbr0 whose uplink port is vsrc, the bulk
#         flows from a tenant netns (tnsrc, 10.77.0.11) behind a veth port
#         of the bridge, so they are bridged straight to vsrc's queue;
#         migprio designates vmbr0 and puts its layout on the uplink
#         (`dev set vmbr0 ... uplink vsrc`: a veth is no NIC to the walk)
#   kv    KubeVirt's path, QEMU 10: unix socket -> source proxy -> TCP to a
#         random port -> target proxy -> unix socket, multifd 4, without TLS
#         (KubeVirt's DisableTLS: socat's TLS is CPU-bound under TCG),
#         the proxies in "virt-handler" pod netns (kvsrc, kvdst) on a
#         macvlan migration0 over vsrc/vdst (10.78.0.1/2)
# Rows:
#   alone    no other traffic (one htb class + fq_codel, as P1 a)
#   linux    4 bulk TCP flows, no migprio (as P1 b)
#   migprio  4 bulk flows, migprio: dev set queue htb rate LINK guard 0 on
#            both hosts, and the rule the client needs: preset qemu (q72,
#            q10); preset ssh peer <other host>/32 (pve); in the pods
#            `dev set migration0 queue none priority 4d50:10 notsent 128K`
#            and `rule add peer 10.78.0.0/24` (kv)
#   avail    (q10) as migprio, and QEMU's avail-switchover-bandwidth set to
#            the rate migprio's class guarantees (rate x (100 - guard)%)
#   expert   (q72) 4 bulk flows, the expert's hand-built tc + sysctls (P1 d)
#   r1       (q72) as migprio plus the first round's buffer settings:
#            sndbuf 32M rcvbuf 32M (and notsent off where migprioctl has
#            that option)
# Figures, all from QMP: destination time (migrate -> destination RESUME),
# real downtime (source STOP -> destination RESUME), QEMU's own total time
# and downtime (query-migrate on the source), downtime-limit at the end.

QEMU_LINK_MBIT=${QEMU_LINK_MBIT:-100}

# migprio with extra `dev set` arguments (the r1 row); with HOSTS_BRIDGED=1
# (the demo) each host designates its vmbr0 and names its "NIC" as the
# uplink (a veth is no NIC to the walk: operating.rst, "Which device")
cfg_migprio_args() {
	local ns dev des up
	GUARD_CFG=migprio
	mp_on
	for ns in "$NS_SRC:$DEV_SRC" "$NS_DST:$DEV_DST"; do
		dev=${ns#*:}
		ns=${ns%%:*}
		des=$dev up=
		[ "${HOSTS_BRIDGED:-0}" = 0 ] || des=$BR_DEV up="uplink $dev"
		# shellcheck disable=SC2068,SC2086 # the extra words are separate arguments
		"$IP" netns exec "$ns" "$MIGPRIOCTL" dev set "$des" queue htb \
			rate "${LINK_MBIT}mbit" guard 0 $@ $up >/dev/null &&
		"$IP" netns exec "$ns" "$MIGPRIOCTL" rule add preset qemu >/dev/null || return 1
	done
}

# the round-1 buffer options this migprioctl understands
r1_args() {
	local a="sndbuf 32M rcvbuf 32M"
	"$MIGPRIOCTL" dev help 2>&1 | grep -q notsent && a="$a notsent off"
	echo "$a"
}

PQ_GROUPS_ALL="q72 q10 pve kv br"
# the br group: a bridge on the source host, a tenant behind it
BR_DEV=vmbr0 BR_NS_TENANT=tnsrc BR_TENANT_ADDR=10.77.0.11 BR_PORT=veth101i0
# br_host NS NIC ADDR ADDR6 [BRIDGE OPTIONS...]: NS's address moved from
# NIC to a bridge vmbr0 whose uplink port is NIC (a bond for P6's bond)
br_host() {
	local ns=$1 nic=$2 a=$3 a6=$4
	shift 4
	"$IP" -n "$ns" link add "$BR_DEV" type bridge "$@"
	"$IP" -n "$ns" addr flush dev "$nic"
	"$IP" -n "$ns" link set "$nic" master "$BR_DEV"
	"$IP" -n "$ns" addr add "$a/24" dev "$BR_DEV"
	"$IP" -n "$ns" addr add "$a6/64" dev "$BR_DEV" nodad
	"$IP" -n "$ns" link set "$BR_DEV" up
}
# br_guest NS GUEST PORT ADDR: a guest netns GUEST (eth0 ADDR) behind the
# veth port PORT of NS's vmbr0 (a tap on a real host)
br_guest() {
	"$IP" netns add "$2"
	"$IP" -n "$2" link set lo up
	"$IP" link add "$3" netns "$1" type veth peer name eth0 netns "$2"
	"$IP" -n "$1" link set "$3" master "$BR_DEV"
	"$IP" -n "$1" link set "$3" up
	"$IP" -n "$2" addr add "$4/24" dev eth0
	"$IP" -n "$2" link set eth0 up
}
# br_layout_setup [UPLINK [BRIDGE OPTIONS...]]: vmbr0 over UPLINK (vsrc),
# the address moved there (also P6's layouts, bench-p6.sh)
br_layout_setup() {
	local up=${1:-$DEV_SRC}
	shift || true
	ns_src "$IP" addr flush dev "$DEV_SRC"
	br_host "$NS_SRC" "$up" "$ADDR_SRC" fd77::1 "$@"
	br_guest "$NS_SRC" "$BR_NS_TENANT" "$BR_PORT" "$BR_TENANT_ADDR"
	BULK_NS_SRC=$BR_NS_TENANT
}
br_layout_destroy() {
	BULK_NS_SRC=
	"$IP" netns del "$BR_NS_TENANT" 2>/dev/null || true
	ns_src "$IP" link del "$BR_DEV" 2>/dev/null || true
	ns_src "$IP" addr replace "$ADDR_SRC/24" dev "$DEV_SRC"
	ns_src "$IP" addr replace fd77::1/64 dev "$DEV_SRC" nodad
	ns_src "$IP" link set "$DEV_SRC" up
}

# the migration network of the kv group (KubeVirt's migration0)
KV_NS_SRC=kvsrc KV_NS_DST=kvdst KV_NET=10.78.0

# the pods of the kv group: a macvlan migration0 on each host's link
kv_pods_setup() {
	local ns dev pod n=1
	for ns in "$NS_SRC:$DEV_SRC:$KV_NS_SRC" "$NS_DST:$DEV_DST:$KV_NS_DST"; do
		pod=${ns##*:}
		dev=${ns#*:}
		dev=${dev%:*}
		ns=${ns%%:*}
		"$IP" netns add "$pod"
		"$IP" -n "$pod" link set lo up
		"$IP" -n "$ns" link add mig0 link "$dev" type macvlan mode bridge
		"$IP" -n "$ns" link set mig0 netns "$pod"
		"$IP" -n "$pod" link set mig0 name migration0
		"$IP" -n "$pod" addr add "$KV_NET.$n/24" dev migration0
		"$IP" -n "$pod" link set migration0 up
		n=$((n + 1))
	done
}
kv_pods_destroy() {
	"$IP" netns del "$KV_NS_SRC" 2>/dev/null || true
	"$IP" netns del "$KV_NS_DST" 2>/dev/null || true
}

# migprio for GROUP: dev set on both hosts, the client's rules
cfg_migprio_group() {
	local g=$1 pod
	case $g in
	q72|q10) cfg_migprio; return ;;
	esac
	# for the benchmark's check that no bulk flow is classified (issue 22)
	GUARD_CFG=migprio
	mp_on
	if [ "$g" = br ]; then
		ns_src "$MIGPRIOCTL" dev set "$BR_DEV" queue htb rate "${LINK_MBIT}mbit" guard 0 \
			uplink "$DEV_SRC" >/dev/null
	else
		ns_src "$MIGPRIOCTL" dev set "$DEV_SRC" queue htb rate "${LINK_MBIT}mbit" guard 0 >/dev/null
	fi &&
	ns_dst "$MIGPRIOCTL" dev set "$DEV_DST" queue htb rate "${LINK_MBIT}mbit" guard 0 >/dev/null ||
		return 1
	case $g in
	br)
		ns_src "$MIGPRIOCTL" rule add preset qemu >/dev/null &&
		ns_dst "$MIGPRIOCTL" rule add preset qemu >/dev/null
		;;
	pve)
		ns_src "$MIGPRIOCTL" rule add preset ssh peer "$ADDR_DST/32" >/dev/null &&
		ns_dst "$MIGPRIOCTL" rule add preset ssh peer "$ADDR_SRC/32" >/dev/null
		;;
	kv)
		# the pods mark for the NIC's htb class; the veth reports
		# 10 Gbit/s, so notsent is what auto gives at the link's rate
		for pod in "$KV_NS_SRC" "$KV_NS_DST"; do
			"$IP" netns exec "$pod" "$MIGPRIOCTL" dev set migration0 queue none \
				priority 4d50:10 notsent 128K >/dev/null &&
			"$IP" netns exec "$pod" "$MIGPRIOCTL" rule add peer "$KV_NET.0/24" \
				name kubevirt >/dev/null || return 1
		done
		;;
	esac
}

# what a pod's migprio is cleared of (mp_off clears the hosts)
kv_pods_clear() {
	local pod
	lsmod | grep -q '^migprio ' || return 0
	for pod in "$KV_NS_SRC" "$KV_NS_DST"; do
		"$IP" netns exec "$pod" "$MIGPRIOCTL" rule flush >/dev/null 2>&1 || true
		"$IP" netns exec "$pod" "$MIGPRIOCTL" dev clear >/dev/null 2>&1 || true
	done
}

# the group's client, QEMU and the rule text for the report; the tunnel and
# the proxies are CPU-bound in the emulator: 300 s for a migration to end
# (Proxmox's path under bulk flows took 117 s in the issue's measurement)
pq_group_env() {
	QM_NS_RELAY_SRC='' QM_NS_RELAY_DST='' QM_RELAY_ADDR_DST='' QM_AVAIL_BW='' QM_RELAY_TLS=1
	QM_TIMEOUT=${PQ_TIMEOUT:-120}
	case $1 in pve|kv) QM_TIMEOUT=${PQ_TIMEOUT:-300} ;; esac
	case $1 in
	q72|br) QM_CLIENT=qemu QM_VERSION=7.2 ;;
	q10) QM_CLIENT=qemu QM_VERSION=10 ;;
	pve) QM_CLIENT=proxmox QM_VERSION=10 ;;
	kv)
		# DisableTLS: TLS proxies are CPU-bound at about 15 Mbit/s
		# under TCG, and the link, not the emulated CPU, must be the
		# bottleneck (qemu_kubevirt.sh runs them with TLS)
		QM_CLIENT=kubevirt QM_VERSION=10 QM_RELAY_TLS=0
		QM_NS_RELAY_SRC=$KV_NS_SRC QM_NS_RELAY_DST=$KV_NS_DST
		QM_RELAY_ADDR_DST=$KV_NET.2
		;;
	esac
}
pq_group_rows() {
	case $1 in
	q72) echo alone linux migprio expert r1 ;;
	q10) echo alone linux migprio avail ;;
	*) echo alone linux migprio ;;
	esac
}
pq_group_rules() {
	case $1 in
	q72|q10|br) echo "rule add preset qemu" ;;
	pve) echo "rule add preset ssh peer <other host>/32" ;;
	kv) echo "pods: dev set migration0 queue none priority 4d50:10 notsent 128K, rule add peer $KV_NET.0/24" ;;
	esac
}

# qemu_run CONFIG BULK(0/1): one real migration, one result line
qemu_run() {
	local cfg=$1 bulk=$2 rc=0 g=${PQ_GROUP:-q72}
	QM_NS_SRC=$NS_SRC QM_NS_DST=$NS_DST QM_ADDR_DST=$ADDR_DST QM_PORT=$MIG_PORT
	QM_DIR=$BENCH_TMP/qm
	guard_start "${GUARD_CFG:-none}"
	if ! qm_start; then
		guard_end
		qm_stop
		emit "{\"scenario\":\"qemu\",\"group\":\"$g\",\"config\":\"$cfg\",\"rc\":1,\"error\":\"QEMU did not start\"}"
		return 1
	fi
	[ "$bulk" = 0 ] || bulk_start
	qm_migrate || rc=1
	[ "$bulk" = 0 ] || bulk_stop
	qm_stop
	guard_end
	if [ "$rc" = 0 ]; then
		log "  -> destination runs after $QM_DEST_S s, real downtime $QM_DOWNTIME_S s; QEMU says: total $QM_QEMU_TOTAL_MS ms, downtime $QM_QEMU_DOWNTIME_MS ms"
		emit "{\"scenario\":\"qemu\",\"group\":\"$g\",\"config\":\"$cfg\",\"rc\":0,\"link_mbit\":$LINK_MBIT,\"bulk\":$bulk,$GUARD_JSON,\"dev_set\":$(json_str "${QEMU_DEVSET:-}"),\"rules\":$(json_str "${QEMU_RULES:-}"),\"qm\":$QM_RESULT_JSON}"
	else
		log "  -> migration failed (see $QM_DIR): $(tail -c 200 "$QM_DIR/dst.err" 2>/dev/null)"
		emit "{\"scenario\":\"qemu\",\"group\":\"$g\",\"config\":\"$cfg\",\"rc\":1,\"error\":$(json_str "$(tail -c 300 "$QM_DIR/src.qmp" 2>/dev/null; tail -c 200 "$QM_DIR/dst.err" 2>/dev/null)")}"
	fi
	return $rc
}

# pq: the groups of PQ_GROUPS, each with its rows
pq() {
	local g cfg saved=$LINK_MBIT
	LINK_MBIT=$QEMU_LINK_MBIT
	for g in ${PQ_GROUPS:-$PQ_GROUPS_ALL}; do
		PQ_GROUP=$g
		pq_group_env "$g"
		if ! qm_available; then
			emit "{\"scenario\":\"qemu\",\"group\":\"$g\",\"config\":\"all\",\"skipped\":\"QEMU $QM_VERSION or what $QM_CLIENT needs is not in the VM image (vm-run --qemu, make guest)\"}"
			continue
		fi
		[ "$g" != kv ] || kv_pods_setup
		[ "$g" != br ] || br_layout_setup
		for cfg in $(pq_group_rows "$g"); do
			pq_row "$g" "$cfg"
		done
		[ "$g" != kv ] || { kv_pods_clear; kv_pods_destroy; }
		[ "$g" != br ] || { link_reset; br_layout_destroy; }
	done
	link_reset
	LINK_MBIT=$saved
}

# pq_row GROUP CONFIG: configure the link, one migration
pq_row() {
	local g=$1 cfg=$2
	if ! budget_ok 90; then
		emit "{\"scenario\":\"qemu\",\"group\":\"$g\",\"config\":\"$cfg\",\"skipped\":\"time budget used up\"}"
		return
	fi
	case $cfg in migprio|r1|avail)
		if ! have_migprio; then
			emit "{\"scenario\":\"qemu\",\"group\":\"$g\",\"config\":\"$cfg\",\"skipped\":\"migprio.ko or migprioctl not built\"}"
			return
		fi
	esac
	[ "$g" != kv ] || kv_pods_clear
	link_reset
	QEMU_DEVSET= QEMU_RULES= QM_AVAIL_BW=
	# what the tunnel or the proxies hold on the source (qemu_lib.sh)
	QM_SAMPLE=$([ "$g" = pve ] || [ "$g" = kv ] && echo 1 || echo 0)
	case $cfg in
	alone|linux) cfg_shaped ;;
	migprio|avail)
		if ! cfg_migprio_group "$g"; then
			emit "{\"scenario\":\"qemu\",\"group\":\"$g\",\"config\":\"$cfg\",\"skipped\":\"migprio could not be configured\"}"
			return
		fi
		QEMU_DEVSET="queue htb rate ${LINK_MBIT}mbit guard 0"
		[ "$g" != br ] || QEMU_DEVSET="$QEMU_DEVSET uplink $DEV_SRC (DEV: $BR_DEV)"
		QEMU_RULES=$(pq_group_rules "$g")
		# guard 0: the whole rate is the migration class's
		[ "$cfg" != avail ] || QM_AVAIL_BW=$((LINK_MBIT * 1000000 / 8))
		;;
	expert) cfg_expert ;;
	r1)
		QEMU_DEVSET="queue htb rate ${LINK_MBIT}mbit guard 0 $(r1_args)"
		QEMU_RULES=$(pq_group_rules "$g")
		# shellcheck disable=SC2046
		cfg_migprio_args $(r1_args)
		;;
	esac
	log "PQ $g $cfg: QEMU $QM_VERSION ($QM_CLIENT), ${QM_MEM:-64} MiB guest, ${LINK_MBIT} Mbit/s$([ "$cfg" = alone ] || echo ', 4 bulk flows')${QEMU_DEVSET:+, dev set $QEMU_DEVSET}${QEMU_RULES:+, $QEMU_RULES}${QM_AVAIL_BW:+, avail-switchover-bandwidth $QM_AVAIL_BW B/s}"
	qemu_run "$cfg" "$([ "$cfg" = alone ] && echo 0 || echo 1)"
}
