#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Issue 22: a port rule matches the service port, the port of the end that
# listens, not whichever end happens to be in the range. With the qemu
# preset (49152-49215) on host A:
#   bound     A connects from local port 49200 (bound, as any ephemeral
#             port can be) to B's 5201: not migration
#   to        A connects to B's 49152: migration, direction out
#   accepted  B connects to A's 49152 (A sends, iperf3 -R): migration,
#             direction in
# each with the rule in place from the first packet (the handshake says
# which end listens) and added while the connection runs (the socket's own
# listen backlog, inherited from its listener, or A's listener on the local
# port say it), over IPv4 and IPv6. And with the rule added after A's
# listener closed (tcpsink -1: the connection lives on):
#   gone       B connects to A's 49153: migration, direction in
#   gone_bulk  B connects from its port 49200 to A's 5202: not migration
# Checked on A with tools of their own: the class counters of a prio qdisc (`tc -s class`: migration
# priority 7 is band 0, class 1:1; the rest 1:2), the socket buffers (`ss
# -tm`: `dev set ... sndbuf 32M rcvbuf 32M`, so a tuned socket is plain to
# see) and migprio's flow list. Both namespaces take their ephemeral ports
# from 30000-40000, outside the preset: only the ports the test chooses
# are in it. On a module matching either port, every "bound" check fails.
# SP_FAMILIES (default "4 6"): the address families to run (check-debug
# runs IPv4 only; make check both).
# timeout=600
source "$(dirname "$0")/lib.sh"

mp_require
FAMILIES=${SP_FAMILIES:-4 6}
read -ra fams <<<"$FAMILIES"
ktap_plan $((8 * ${#fams[@]} + 2))

BUF=33554432		# dev set sndbuf/rcvbuf: a tuned socket has at least this
SVC=49152		# in preset qemu: iperf3 servers on A and B
GONE=49153		# in preset qemu: tcpsink -1 on A (listener closed)
GONE_BULK=5202		# tcpsink -1 on A, B's client from port BOUND
BOUND=49200		# in preset qemu: A's local port to B's 5201
OTHER=5201
RATE=20M
T=$(mktemp -d)
defer rm -rf "$T"

a() { "$IP" netns exec "$A" "$@"; }
b() { "$IP" netns exec "$B" "$@"; }

# bytes A sent through the prio classes of its veth
c11() { class_sent "$A" "$VETH_A" 1:1; }
c12() { class_sent "$A" "$VETH_A" 1:2; }
grows() { [ $(($($1) - $2)) -ge "$3" ]; }

setup_ns A B
veth_pair "$A" "$B" || ktap_skip_all "cannot create veth"
for ns in "$A" "$B"; do
	"$IP" netns exec "$ns" sh -c 'echo 30000 40000 >/proc/sys/net/ipv4/ip_local_port_range' ||
		ktap_skip_all "cannot set the ephemeral port range"
done
mp_load || ktap_skip_all "cannot load migprio"
"$TC" -n "$A" qdisc add dev "$VETH_A" root handle 1: prio &&
	a "$MIGPRIOCTL" dev set "$VETH_A" queue none sndbuf 32M rcvbuf 32M ||
	ktap_skip_all "cannot designate $VETH_A"
# iperf3 servers keep their listener while a test runs (no -w, -M, -N)
for s in "$B:$OTHER" "$B:$SVC" "$A:$SVC"; do
	"$IP" netns exec "${s%:*}" "$IPERF3" -s -p "${s#*:}" >/dev/null 2>&1 &
	defer kill $!
	wait_listen "${s%:*}" "${s#*:}" || ktap_skip_all "iperf3 server ${s#*:}"
done

# A's established sockets of KIND (its data connection is among them)
filter_of() {
	case $1 in
	bound) echo "( sport = :$BOUND )" ;;
	to) echo "( dport = :$SVC )" ;;
	accepted) echo "( sport = :$SVC )" ;;
	gone) echo "( sport = :$GONE )" ;;
	gone_bulk) echo "( sport = :$GONE_BULK )" ;;
	esac
}
socks() { a "$SS" -tmnH state established "$(filter_of "$1")"; }
socks_up() { [ -n "$(socks "$1")" ]; }
socks_gone() { [ -z "$(socks "$1")" ]; }

# bufs KIND tuned|default: a socket of KIND has BUF (the data connection;
# iperf3's control connection may be idle when the rule comes), or none has
bufs() {
	local rb tb m tuned=0 n=0
	SS_LAST=$(socks "$1")
	while read -r m; do
		[ -n "$m" ] || continue
		rb=$(echo "$m" | grep -o ',rb[0-9]*' | tr -dc 0-9)
		tb=$(echo "$m" | grep -o ',tb[0-9]*' | tr -dc 0-9)
		n=$((n + 1))
		[ "$rb" -lt $BUF ] && [ "$tb" -lt $BUF ] || tuned=$((tuned + 1))
	done <<<"$(echo "$SS_LAST" | grep -o 'skmem:([^)]*)')"
	[ $n -gt 0 ] || return 1
	if [ "$2" = tuned ]; then
		[ $tuned -gt 0 ]
	else
		[ $tuned = 0 ]
	fi
}

# flows KIND: A's tracked flows of KIND, as "local remote dir" lines
flows() {
	local sel
	case $1 in
	bound) sel=".local.port == $BOUND or .remote.port == $OTHER" ;;
	to) sel=".remote.port == $SVC" ;;
	accepted) sel=".local.port == $SVC" ;;
	gone) sel=".local.port == $GONE" ;;
	gone_bulk) sel=".local.port == $GONE_BULK or .remote.port == $BOUND" ;;
	esac
	a "$MIGPRIOCTL" -j flow list |
		"$JQ" -r ".[] | select($sel) | \"\(.local.port) \(.remote.port) \(.dir)\""
}
want_dir() { case $1 in to) echo out ;; accepted|gone) echo in ;; esac; }
flow_seen() { flows "$1" | grep -q " $(want_dir "$1")\$"; }

# start KIND FAMILY SECONDS: the transfer of KIND, in the background. Not
# through a() (a subshell): $! must be iperf3 itself (ip netns exec execs
# it), so that stop() ends it before the next transfer.
start() {
	local ns=$A dst=$ADDR_B args=(-p $SVC)
	[ "$2" = 6 ] && dst=$ADDR6_B
	case $1 in gone|gone_bulk)
		start_gone "$@"
		return
	esac
	case $1 in
	bound) args=(-p $OTHER --cport $BOUND) ;;
	accepted)
		ns=$B dst=$ADDR_A args=(-p $SVC -R)
		[ "$2" = 6 ] && dst=$ADDR6_A
		;;
	esac
	"$IP" netns exec "$ns" "$IPERF3" -J -c "$dst" "${args[@]}" -t "$3" \
		-b $RATE >"$T/iperf3.json" 2>&1 &
	XFER=$!
	# the data connection is up: A's sockets of KIND carry bytes
	busywait $((10000 * MP_SLOW)) socks_up "$1" || {
		echo "no established socket of $1 on A"
		return 1
	}
}
# start_gone KIND FAMILY: tcpsink -1 -s on A accepts one connection from B
# (a bash /dev/tcp client that reads; for gone_bulk from B's port BOUND,
# the only one its ephemeral range then has), closes its listener and
# sends.
start_gone() {
	local port=$GONE dst=$ADDR_A
	[ "$1" = gone ] || port=$GONE_BULK
	[ "$2" = 6 ] && dst=$ADDR6_A
	"$IP" netns exec "$A" ./tcpsink -1 -s $port &
	SINK=$!
	wait_listen "$A" $port || return 1
	[ "$1" = gone ] ||
		b sh -c "echo $BOUND $BOUND >/proc/sys/net/ipv4/ip_local_port_range"
	"$IP" netns exec "$B" bash -c "exec 3<>/dev/tcp/$dst/$port && exec cat <&3 >/dev/null" &
	XFER=$!
	busywait $((10000 * MP_SLOW)) socks_up "$1" || {
		echo "no established socket of $1 on A"
		return 1
	}
	b sh -c 'echo 30000 40000 >/proc/sys/net/ipv4/ip_local_port_range'
	busywait 5000 eval '! lib_listening "$A" '$port || {
		echo "A still listens on $port"
		return 1
	}
}
stop() {
	[ -z "${SINK:-}" ] || kill "$SINK" 2>/dev/null
	[ -z "${SINK:-}" ] || wait "$SINK" 2>/dev/null
	SINK=
	kill "$XFER" 2>/dev/null
	wait "$XFER" 2>/dev/null
	# the next transfer starts with the servers free again
	busywait $((10000 * MP_SLOW)) socks_gone "$1"
	true
}

# check KIND FAMILY start|later: A's class counters, buffers and flows for
# a connection of KIND, with the rule there from its first packet or added
# while it carries bytes. The transfer runs until the checks are done.
check() {
	local kind=$1 fam=$2 when=$3 x1 x2 rc=0
	a "$MIGPRIOCTL" rule flush || return 1
	[ "$when" = later ] || a "$MIGPRIOCTL" rule add preset qemu >/dev/null ||
		return 1
	start "$kind" "$fam" $((30 * MP_SLOW)) || return 1
	if [ "$when" = later ]; then
		x2=$(c12)
		busywait 5000 grows c12 "$x2" 500000 || { echo "1:2 did not grow"; rc=1; }
		bufs "$kind" default || { echo "tuned before the rule"; rc=1; }
		a "$MIGPRIOCTL" rule add preset qemu >/dev/null || rc=1
	fi
	x1=$(c11)
	x2=$(c12)
	if [ "$kind" = bound ] || [ "$kind" = gone_bulk ]; then
		# the connection goes through 1:2, nothing through 1:1
		busywait 5000 grows c12 "$x2" 1000000 || { echo "1:2 did not grow"; rc=1; }
		echo "1:1 +$(($(c11) - x1)) while 1:2 carried +$(($(c12) - x2))"
		[ $(($(c11) - x1)) -lt 50000 ] || rc=1
		bufs "$kind" default || { echo "tuned"; rc=1; }
		[ -z "$(flows "$kind")" ] || { echo "flows: $(flows "$kind")"; rc=1; }
	else
		busywait 5000 grows c11 "$x1" 1000000 || { echo "1:1 did not grow"; rc=1; }
		echo "1:1 +$(($(c11) - x1)) while 1:2 carried +$(($(c12) - x2))"
		[ $(($(c12) - x2)) -lt 50000 ] || rc=1
		busywait 3000 flow_seen "$kind" || { echo "no flow $(want_dir "$kind")"; rc=1; }
		busywait 3000 bufs "$kind" tuned || { echo "not tuned"; rc=1; }
		echo "flows: $(flows "$kind" | tr '\n' ';')"
	fi
	[ $rc = 0 ] || { echo "ss on A:"; socks "$kind"; }
	stop "$kind"
	return $rc
}

for fam in "${fams[@]}"; do
	ktap_test "IPv$fam, rule from the start: A's connection from local port $BOUND to B's $OTHER is not migration (1:2, no flow, buffers untouched)" \
		check bound $fam start
	ktap_test "IPv$fam, rule from the start: A's connection to B's $SVC is (1:1, flow out, buffers tuned)" \
		check to $fam start
	ktap_test "IPv$fam, rule from the start: a connection A accepted on $SVC is (1:1, flow in, buffers tuned)" \
		check accepted $fam start
	ktap_test "IPv$fam, rule added mid-stream: local port $BOUND to B's $OTHER stays out" \
		check bound $fam later
	ktap_test "IPv$fam, rule added mid-stream: A's connection to B's $SVC is picked up" \
		check to $fam later
	ktap_test "IPv$fam, rule added mid-stream: the connection A accepted on $SVC is picked up" \
		check accepted $fam later
	ktap_test "IPv$fam, rule added after A's listener on $GONE closed: its accepted connection is picked up" \
		check gone $fam later
	ktap_test "IPv$fam, rule added after A's listener on $GONE_BULK closed: its connection from B's $BOUND stays out" \
		check gone_bulk $fam later
done

ktap_test "unload with the test's state in place" mp_unload
splat() { ! dmesg | grep -E 'BUG:|WARNING:|Oops|refcount_t:|suspicious RCU|circular locking'; }
ktap_test "no kernel splat" splat
ktap_finish
