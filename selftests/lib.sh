# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib.sh - helpers for migprio shell selftests.  `source lib.sh` from a bash
# test in selftests/; tests run in the VM (selftests/vm-run) as root, cwd
# /selftests, migprio not loaded at start.
#
# KTAP output (the runner nests it under its own plan):
#   ktap_plan N               "TAP version 13" + "1..N"
#   ktap_ok DESC              "ok <n> DESC"
#   ktap_fail DESC            "not ok <n> DESC"
#   ktap_skip DESC [REASON]   "ok <n> DESC # SKIP REASON"
#   ktap_result RC DESC       ok if RC=0, skip if RC=4, fail otherwise
#   ktap_test DESC CMD...     run CMD (output kept), ok/fail by its status;
#                             on failure its output is printed as "# ..."
#   ktap_skip_all REASON      "1..0 # SKIP REASON", exit 4 (whole file skipped)
#   ktap_finish               totals line, then exit 1 if anything failed,
#                             4 if everything was skipped, else 0
#   diag MSG...               "# MSG" diagnostic line
#
# Tools, by absolute path (busybox applets shadow bare names in a busybox sh):
#   $IP $TC $SS $GENL $BRIDGE $ETHTOOL $IPERF3 $JQ $MIGPRIOCTL
#
# Environment and cleanup:
#   defer CMD...              run CMD at exit (LIFO); quoting is kept
#   setup_ns VAR...           create one fresh netns per VAR (unique name
#                             stored in VAR, lo up); deleted at exit
#   busywait TIMEOUT_MS CMD...  poll CMD every 50 ms until it succeeds;
#                             status 0, or 1 after TIMEOUT_MS
#   veth_pair NSA NSB         veth $VETH_A (in NSA, $ADDR_A/24, $ADDR6_A/64)
#                             <-> $VETH_B (in NSB, $ADDR_B, $ADDR6_B), up
#   shape_link NS DEV RATE    root tbf (handle 100:) at RATE (e.g. 100mbit) on
#                             DEV's egress in NS
#   wait_listen NS PORT [tcp|udp]  wait until something listens on PORT
#   iperf3_server NS PORT     start a one-shot iperf3 server, wait until it
#                             listens; killed at exit
#   class_sent NS DEV CLASSID bytes sent through a qdisc class (the text
#                             of tc -s: iproute2 6.1's -j has no prio
#                             class stats)
#
# Commands whose output a test judges (the tool's tests):
#   run CMD...                run it: $rc, $out (stdout), $err (stderr)
#   show                      print $rc, $out, $err
#   expect_rc N               status 0 if $rc is N, else 1 after show
#   has TEXT STRING           status 0 if STRING holds TEXT, else 1 after show
#
# migprio module:
#   mp_available              status 0 if migprio.ko is in the image
#   mp_load [PARAM=V...]      load it (modprobe), verify /sys/module/migprio
#                             and the genl family; status 0/1
#   mp_unload                 unload it, verify it is gone; status 0/1
#   mp_loaded                 status 0 if loaded
#   mp_genl_present           status 0 if genl family "migprio" is registered
#                             (checked without triggering module autoload)
#   mp_noautoload             no module autoloading (genl family, rtnl link
#                             kinds, qdiscs) until exit; mp_autoload undoes it
#   mp_require                ktap_skip_all unless migprio.ko is available

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

IP=/usr/sbin/ip
TC=/usr/sbin/tc
SS=/usr/bin/ss
GENL=/usr/sbin/genl
BRIDGE=/usr/sbin/bridge
ETHTOOL=/usr/sbin/ethtool
IPERF3=/usr/bin/iperf3
JQ=/usr/bin/jq
MIGPRIOCTL=${MIGPRIOCTL:-$(command -v migprioctl || echo /usr/local/bin/migprioctl)}
export IP TC SS GENL BRIDGE ETHTOOL IPERF3 JQ MIGPRIOCTL

MP_NAME=migprio
MP_FAMILY=migprio
MP_GROUP=events
export MP_NAME MP_FAMILY MP_GROUP

# ------------------------------------------------------------------ KTAP
KTAP_N=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0
KTAP_PLAN=

diag() { printf '# %s\n' "$*"; }

ktap_plan() {
	KTAP_PLAN=$1
	echo "TAP version 13"
	echo "1..$1"
}

ktap_ok() {
	KTAP_N=$((KTAP_N + 1)); KTAP_PASS=$((KTAP_PASS + 1))
	echo "ok $KTAP_N $*"
}

ktap_fail() {
	KTAP_N=$((KTAP_N + 1)); KTAP_FAIL=$((KTAP_FAIL + 1))
	echo "not ok $KTAP_N $*"
}

ktap_skip() {
	KTAP_N=$((KTAP_N + 1)); KTAP_SKIP=$((KTAP_SKIP + 1))
	echo "ok $KTAP_N $1 # SKIP${2:+ $2}"
}

ktap_result() {
	local rc=$1; shift
	case $rc in
	0) ktap_ok "$@" ;;
	4) ktap_skip "$@" ;;
	*) ktap_fail "$@" ;;
	esac
}

ktap_test() {
	local desc=$1 out rc=0; shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		ktap_ok "$desc"
	else
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
		diag "exit status $rc: $*"
		ktap_fail "$desc"
	fi
	return "$rc"
}

ktap_skip_all() {
	echo "TAP version 13"
	echo "1..0 # SKIP $*"
	exit $KSFT_SKIP
}

ktap_finish() {
	if [ -n "$KTAP_PLAN" ] && [ "$KTAP_N" != "$KTAP_PLAN" ]; then
		diag "planned $KTAP_PLAN tests but ran $KTAP_N"
		KTAP_FAIL=$((KTAP_FAIL + 1))
	fi
	echo "# Totals: pass:$KTAP_PASS fail:$KTAP_FAIL xfail:0 xpass:0 skip:$KTAP_SKIP error:0"
	if [ "$KTAP_FAIL" -gt 0 ]; then
		exit $KSFT_FAIL
	elif [ "$KTAP_PASS" = 0 ] && [ "$KTAP_SKIP" -gt 0 ]; then
		exit $KSFT_SKIP
	fi
	exit $KSFT_PASS
}

# --------------------------------------------------------------- cleanup
LIB_DEFER=()
LIB_NS=()

defer() {
	LIB_DEFER+=("$(printf '%q ' "$@")")
}

lib_cleanup() {
	local rc=$? i ns
	for ((i = ${#LIB_DEFER[@]} - 1; i >= 0; i--)); do
		eval "${LIB_DEFER[i]}" >/dev/null 2>&1 || true
	done
	for ns in "${LIB_NS[@]}"; do
		"$IP" netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		"$IP" netns del "$ns" 2>/dev/null
	done
	return $rc
}
trap lib_cleanup EXIT

# ------------------------------------------------------------ namespaces
setup_ns() {
	local var ns
	for var in "$@"; do
		ns=$var-$$-$RANDOM
		"$IP" netns add "$ns" || return 1
		LIB_NS+=("$ns")
		"$IP" -n "$ns" link set lo up || return 1
		printf -v "$var" '%s' "$ns"
	done
}

# Time factor for slow kernels: make check-debug runs the suite on a KASAN +
# lockdep kernel under TCG with MP_SLOW=4; tests stretch the durations a
# condition depends on (a transfer that must still run) by it.
MP_SLOW=${MP_SLOW:-1}

busywait() {
	local timeout_ms=$1 start now; shift
	# busybox date has no %N: bash's clock, in microseconds
	start=${EPOCHREALTIME/./}
	while :; do
		"$@" && return 0
		now=${EPOCHREALTIME/./}
		[ $(((now - start) / 1000)) -lt "$timeout_ms" ] || return 1
		sleep 0.05
	done
}

VETH_A=mpveth-a
VETH_B=mpveth-b
ADDR_A=10.99.0.1
ADDR_B=10.99.0.2
ADDR6_A=fd00:99::1
ADDR6_B=fd00:99::2

veth_pair() {
	local a=$1 b=$2
	"$IP" link add "$VETH_A" netns "$a" type veth peer name "$VETH_B" netns "$b" ||
		return 1
	"$IP" -n "$a" addr add "$ADDR_A/24" dev "$VETH_A" &&
	"$IP" -n "$b" addr add "$ADDR_B/24" dev "$VETH_B" &&
	"$IP" -n "$a" addr add "$ADDR6_A/64" dev "$VETH_A" nodad &&
	"$IP" -n "$b" addr add "$ADDR6_B/64" dev "$VETH_B" nodad &&
	"$IP" -n "$a" link set "$VETH_A" up &&
	"$IP" -n "$b" link set "$VETH_B" up
}

# The start of a data path test: T (a directory, removed at exit), the
# namespaces A and B joined by the veth pair, a and b (a command in A, in
# B), the module loaded.
veth_setup() {
	T=$(mktemp -d)
	defer rm -rf "$T"
	a() { "$IP" netns exec "$A" "$@"; }
	b() { "$IP" netns exec "$B" "$@"; }
	setup_ns A B
	veth_pair "$A" "$B" || ktap_skip_all "cannot create veth"
	mp_load || ktap_skip_all "cannot load migprio"
}

shape_link() {
	"$TC" -n "$1" qdisc replace dev "$2" root handle 100: tbf rate "$3" \
		burst 64kb latency 100ms
}

lib_listening() {
	[ -n "$("$SS" -N "$1" -Hln"${3:-t}" "sport = :$2" 2>/dev/null)" ]
}

wait_listen() {
	local proto=t
	[ "${3:-tcp}" = udp ] && proto=u
	busywait 5000 lib_listening "$1" "$2" "$proto"
}

class_sent() {
	"$TC" -n "$1" -s class show dev "$2" |
		awk -v c="$3" '$1 == "class" && $3 == c { f = 1; next }
			       f && $1 == "Sent" { print $2; exit }'
}

iperf3_server() {
	"$IP" netns exec "$1" "$IPERF3" -s -1 -p "$2" >/dev/null 2>&1 &
	defer kill $!
	wait_listen "$1" "$2"
}

# ------------------------------------------------------ judged commands
run() {
	local o e
	o=$(mktemp) e=$(mktemp)
	rc=0
	"$@" >"$o" 2>"$e" || rc=$?
	out=$(cat "$o")
	err=$(cat "$e")
	rm -f "$o" "$e"
}
show() { echo "rc=$rc"; echo "stdout: $out"; echo "stderr: $err"; }
expect_rc() { [ "$rc" = "$1" ] || { echo "expected exit $1"; show; return 1; }; }
has() { grep -qF -- "$1" <<<"$2" || { echo "missing \"$1\""; show; return 1; }; }

# ------------------------------------------- sockctl (tools/sockctl.c)
# One connection from netns A to ADDR_B:PORT whose owner reads and changes
# its own socket (SOCKCTL: the program's path).
# sc_open ARGS...: sockctl ARGS... ADDR_B PORT in A, as the coprocess SC;
# LPORT: its local port
sc_open() {
	coproc SC { exec "$IP" netns exec "$A" "$SOCKCTL" "$@" "$ADDR_B" $PORT 2>&1; }
	read -r -t $((30 * MP_SLOW)) LINE <&"${SC[0]}" && [[ $LINE == connected* ]] ||
		{ echo "sockctl: $LINE"; return 1; }
	LPORT=${LINE#connected }
}
# sc CMD: one command; prints its answer (the "# ..." lines before it too)
sc() {
	echo "$*" >&"${SC[1]}" || return 1
	while read -r -t $((600 * MP_SLOW)) LINE <&"${SC[0]}"; do
		echo "$LINE"
		[[ $LINE == "#"* ]] || return 0
	done
	echo "sockctl: no answer to $*"
	return 1
}
sc_close() { echo quit >&"${SC[1]}"; wait "$SC_PID" 2>/dev/null; true; }

# ---------------------------------------------------------------- module
mp_available() {
	modinfo "$MP_NAME" >/dev/null 2>&1 ||
		[ -f "/lib/modules/$(uname -r)/extra/$MP_NAME.ko" ]
}

mp_loaded() {
	[ -d "/sys/module/$MP_NAME" ]
}

# A dump, not "ctrl get name": a get of an unknown family makes the kernel
# try to autoload the module (MODULE_ALIAS_GENL_FAMILY).
mp_genl_present() {
	"$GENL" ctrl list 2>/dev/null | grep -q "^Name: $MP_FAMILY\$"
}

# Stop the kernel from autoloading modules until the test exits (so that
# "migprio absent" stays absent); restores kernel.modprobe at exit.
mp_noautoload() {
	local old
	old=$(cat /proc/sys/kernel/modprobe)
	defer eval "echo '$old' >/proc/sys/kernel/modprobe"
	echo /usr/bin/false >/proc/sys/kernel/modprobe
}

# Allow it again.
mp_autoload() {
	echo /usr/bin/modprobe >/proc/sys/kernel/modprobe
}

mp_load() {
	mp_loaded && return 0
	modprobe "$MP_NAME" "$@" 2>/dev/null ||
		insmod "/lib/modules/$(uname -r)/extra/$MP_NAME.ko" "$@" || return 1
	mp_loaded && mp_genl_present
}

mp_unload() {
	mp_loaded || return 0
	rmmod "$MP_NAME" || return 1
	! mp_loaded && ! mp_genl_present
}

mp_require() {
	mp_available || ktap_skip_all "$MP_NAME.ko not in the VM image"
}

# current|max: the RX ring size of eth0 (the VM's virtio-net NIC) from
# ethtool -g
ring_rx() {
	"$ETHTOOL" -g eth0 | awk -v want="$1" '
		/^Pre-set maximums/ { s = "max" } /^Current hardware/ { s = "current" }
		$1 == "RX:" && s == want { print $2; exit }'
}

# The start of a test of the tool on a veth pair: migprioctl in the VM,
# the plan of N tests, M (the tool), OUT (a directory, removed at exit), no
# records an earlier test left under /run/migprio, the module loaded
# (unloaded at exit), and namespaces NA and NB joined by the veth pair.
# tool_setup N
tool_setup() {
	mp_require
	[ -x "$MIGPRIOCTL" ] || ktap_skip_all "migprioctl not in the VM image"
	ktap_plan "$1"
	M=$MIGPRIOCTL
	OUT=$(mktemp -d)
	defer rm -rf "$OUT"
	rm -rf /run/migprio
	mp_load || ktap_skip_all "cannot load migprio"
	defer mp_unload
	setup_ns NA NB && veth_pair "$NA" "$NB" ||
		ktap_skip_all "cannot create the namespaces and their veth pair"
}
