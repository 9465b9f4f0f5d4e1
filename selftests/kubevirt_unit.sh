#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit test of Documentation/kubevirt/migprio-daemonset.yaml, the
# KubeVirt DaemonSet. What can be checked without a cluster (no Kubernetes
# schema checker installs from Debian here: kubeconform and kubeval are
# not packaged, kubectl validates against an API server): the YAML parses
# into a ConfigMap and a DaemonSet with the fields migprio needs
# (privileged, hostNetwork, hostPID, the ConfigMap mounted at /config),
# the container's script passes bash -n, and both files of the ConfigMap
# are files migprioctl syncconf accepts (it then stops at the missing
# module: exit 1, not 2). KTAP.
HERE=$(dirname "$(readlink -f "$0")")
ROOT=$HERE/..
[ -f "$ROOT/Documentation/kubevirt/migprio-daemonset.yaml" ] || ROOT=$(cd "$HERE/../.." && pwd)
YAML=$ROOT/Documentation/kubevirt/migprio-daemonset.yaml
M=${MIGPRIOCTL:-$ROOT/build/userspace/migprioctl/migprioctl}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "KTAP version 1"
echo "1..3"
python3 - "$YAML" "$TMP" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
def ok(c, d):
    print(("ok" if c else "not ok") + " " + d)
    if not c:
        sys.exit(1)
kinds = [d["kind"] for d in docs]
ds = next(d for d in docs if d["kind"] == "DaemonSet")
cm = next(d for d in docs if d["kind"] == "ConfigMap")
spec = ds["spec"]["template"]["spec"]
c = spec["containers"][0]
vol = next(v for v in spec["volumes"] if v["name"] == c["volumeMounts"][0]["name"])
good = (kinds == ["ConfigMap", "DaemonSet"] and ds["apiVersion"] == "apps/v1"
        and ds["spec"]["selector"]["matchLabels"] == ds["spec"]["template"]["metadata"]["labels"]
        and spec["hostNetwork"] is True and spec["hostPID"] is True
        and c["securityContext"]["privileged"] is True
        and c["volumeMounts"][0]["mountPath"] == "/config"
        and vol["configMap"]["name"] == cm["metadata"]["name"]
        and cm["metadata"]["namespace"] == ds["metadata"]["namespace"])
ok(good, "1 a ConfigMap and a DaemonSet: privileged, hostNetwork, hostPID, the ConfigMap at /config")
open(sys.argv[2] + "/script", "w").write(c["args"][0])
for k, v in cm["data"].items():
    open(sys.argv[2] + "/" + k, "w").write(v)
PY
[ $? = 0 ] || exit 1
if bash -n "$TMP/script"; then echo "ok 2 the container's script parses (bash -n)"; else echo "not ok 2 the container's script parses (bash -n)"; exit 1; fi
rc=0
for f in node.conf virt-handler.conf; do
	out=$("$M" syncconf --wait 0 "$TMP/$f" 2>&1); r=$?
	echo "# $f: exit $r: $out"
	[ "$r" = 1 ] && grep -q "module not loaded" <<<"$out" || rc=1
done
if [ "$rc" = 0 ]; then
	echo "ok 3 its files are ones syncconf accepts"
else
	echo "not ok 3 its files are ones syncconf accepts"
	exit 1
fi
