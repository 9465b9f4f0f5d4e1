#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# An independent, spec-driven client talks to migprio.ko: the kernel's YNL
# CLI (tools/net/ynl/cli.py from Debian's linux-source-6.12) reads only
# Documentation/netlink/specs/migprio.yaml, and must be able to do a
# dev-get and a rule-get dump that agree with what was configured (through
# the same spec: rule-add, dev-set). If the spec and the module disagree on
# a name, a value or an attribute type, this fails. rule-add-batch nests
# its rules (multi-attr): the spec must say so for a client to build it.
#
# Needs python3 with the yaml module in the VM; skipped (exit 4) without.
# Locations (the defaults work when the paths exist in the guest):
#   YNL_CLI   cli.py of the YNL library
#             default: /var/cache/migprio/src/linux-source-6.12/tools/net/ynl/cli.py
#   MP_SPEC   the spec; default: migprio.yaml next to this script (the
#             Makefile copies Documentation/netlink/specs/migprio.yaml
#             into build/selftests/), then the one in the source tree
#   PYTHON    default: python3 on PATH
source "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-$(command -v python3 || true)}
YNL_CLI=${YNL_CLI:-/var/cache/migprio/src/linux-source-6.12/tools/net/ynl/cli.py}
if [ -z "${MP_SPEC:-}" ]; then
	for MP_SPEC in "$HERE/migprio.yaml" \
		       "$HERE/../Documentation/netlink/specs/migprio.yaml"; do
		[ -f "$MP_SPEC" ] && break
	done
fi

[ -n "$PYTHON" ] || ktap_skip_all "no python3 in this image"
"$PYTHON" -c 'import yaml' 2>/dev/null ||
	ktap_skip_all "python3 has no yaml module"
[ -f "$YNL_CLI" ] || ktap_skip_all "no YNL CLI at $YNL_CLI"
[ -f "$MP_SPEC" ] || ktap_skip_all "no spec at $MP_SPEC"
mp_require

ynl() {
	"$PYTHON" "$YNL_CLI" --spec "$MP_SPEC" --no-schema --output-json "$@"
}

ktap_plan 6
mp_load
defer mp_unload
setup_ns NS
IFINDEX=$("$IP" -n "$NS" -j link show lo | "$JQ" '.[0].ifindex')

# Everything through the spec, in a netns of our own.
nsynl() { "$IP" netns exec "$NS" "$PYTHON" "$YNL_CLI" --spec "$MP_SPEC" \
	--no-schema --output-json "$@"; }

empty_dev_get() {
	local out
	out=$(nsynl --do dev-get) || return 1
	echo "$out"
	[ "$(echo "$out" | "$JQ" -c .)" = "{}" ]
}
ktap_test "ynl: dev-get with nothing designated is empty" empty_dev_get

add_rules() {
	nsynl --do rule-add --json \
		'{"service-port-min": 49152, "service-port-max": 49215, "name": "qemu"}' &&
	nsynl --do rule-add --json \
		'{"proto": 17, "peer-ipv4": 167838208, "peer-prefixlen": 24, "rport-min": 7000}'
}
ktap_test "ynl: rule-add (two rules)" add_rules

add_batch() {
	local out
	out=$(nsynl --do rule-add-batch --json \
		'{"rule": [{"service-port-min": 22, "name": "b1"}, {"proto": 17, "lport-min": 8000, "lport-max": 8010}]}') ||
		return 1
	echo "$out"
	[ "$(echo "$out" | "$JQ" -c '.id | length')" = 2 ] &&
	[ "$(echo "$out" | "$JQ" '.id[1] > .id[0]')" = true ]
}
ktap_test "ynl: rule-add-batch (two rules, one request)" add_batch

dev_set_get() {
	local out
	nsynl --do dev-set --json '{"ifname": "lo", "priority": 65538, "dscp": 10, "sndbuf": 1048576}' ||
		return 1
	out=$(nsynl --do dev-get) || return 1
	echo "$out"
	[ "$(echo "$out" | "$JQ" -r '.ifname')" = lo ] &&
	[ "$(echo "$out" | "$JQ" -r '.ifindex')" = "$IFINDEX" ] &&
	[ "$(echo "$out" | "$JQ" -r '.priority')" = 65538 ] &&
	[ "$(echo "$out" | "$JQ" -r '.dscp')" = 10 ] &&
	[ "$(echo "$out" | "$JQ" -r '.sndbuf')" = 1048576 ] &&
	[ "$(echo "$out" | "$JQ" -r '.rcvbuf')" = 0 ] &&
	[ "$(echo "$out" | "$JQ" -r '.notsent')" = 0 ] &&
	# the tool's records (queue, qdisc, rings) are not the kernel's
	[ "$(echo "$out" | "$JQ" -r 'has("queue") or has("guard") or has("qdisc-handle")')" = false ]
}
ktap_test "ynl: dev-set then dev-get round-trips" dev_set_get

rule_dump() {
	local out
	out=$(nsynl --dump rule-get) || return 1
	echo "$out"
	[ "$(echo "$out" | "$JQ" 'length')" = 4 ] &&
	[ "$(echo "$out" | "$JQ" -r '.[0].name')" = qemu ] &&
	[ "$(echo "$out" | "$JQ" -r '.[0]["service-port-min"]')" = 49152 ] &&
	[ "$(echo "$out" | "$JQ" -r '.[0]["service-port-max"]')" = 49215 ] &&
	[ "$(echo "$out" | "$JQ" -r '.[0].proto')" = 6 ] &&
	[ "$(echo "$out" | "$JQ" -r '.[1]["peer-ipv4"]')" = 10.1.2.0 ] &&
	[ "$(echo "$out" | "$JQ" -r '.[1]["peer-prefixlen"]')" = 24 ] &&
	[ "$(echo "$out" | "$JQ" -r '.[1]["rport-max"]')" = 7000 ] &&
	[ "$(echo "$out" | "$JQ" -r '.[1]["tx-packets"]')" = 0 ] &&
	[ "$(echo "$out" | "$JQ" '.[1].id > .[0].id')" = true ] &&
	[ "$(echo "$out" | "$JQ" -r '.[2].name')" = b1 ] &&
	[ "$(echo "$out" | "$JQ" -r '.[2]["service-port-max"]')" = 22 ] &&
	[ "$(echo "$out" | "$JQ" -r '.[3]["lport-max"]')" = 8010 ] &&
	[ "$(echo "$out" | "$JQ" -r '.[3].proto')" = 17 ]
}
ktap_test "ynl: rule-get dump lists the rules with their fields" rule_dump

# The other netns (this one) saw none of it.
isolated() {
	local out
	out=$(ynl --dump rule-get) || return 1
	echo "$out"
	[ "$(echo "$out" | "$JQ" 'length')" = 0 ]
}
ktap_test "ynl: the init netns sees no rule of the other netns" isolated

ktap_finish
