#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check Documentation/netlink/specs/migprio.yaml:
#  1. against the kernel's genetlink schema (Documentation/netlink/
#     genetlink-c.yaml from Debian's linux-source-6.12, extracted on demand
#     into /var/cache/migprio/src/linux-source-6.12/);
#  2. against uapi/linux/migprio.h: every constant, enum, attribute,
#     command and the multicast group named by the spec (with ynl-gen-c's
#     naming rules) exists in the header with the same value, and the header
#     defines no MIGPRIO_ name the spec does not have.
# Needs python3 with yaml and jsonschema, and a C compiler.
# Usage: scripts/spec-check.sh [SPEC] [HEADER]; exit 0 when both match.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
spec=${1:-$root/Documentation/netlink/specs/migprio.yaml}
header=${2:-$root/uapi/linux/migprio.h}
ksrc=${KSRC_612:-/var/cache/migprio/src/linux-source-6.12}
schema=$ksrc/Documentation/netlink/genetlink-c.yaml
tarball=${KSRC_612_TAR:-/usr/src/linux-source-6.12.tar.xz}

if [ ! -f "$schema" ]; then
	[ -f "$tarball" ] || { echo "spec-check: no $schema and no $tarball" >&2; exit 1; }
	mkdir -p "$(dirname "$ksrc")"
	# One pass over the tarball: the schema, and the YNL CLI that
	# selftests/ynl_client.sh uses.
	tar -C "$(dirname "$ksrc")" -xJf "$tarball" --wildcards \
		'linux-source-6.12/Documentation/netlink/genetlink*.yaml' \
		'linux-source-6.12/tools/net/ynl/cli.py' \
		'linux-source-6.12/tools/net/ynl/lib/*.py'
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$spec" "$schema" "$header" "$tmp" <<'PY'
import re
import sys

import jsonschema
import yaml

spec_path, schema_path, header_path, tmp = sys.argv[1:5]
spec = yaml.safe_load(open(spec_path))
schema = yaml.safe_load(open(schema_path))
jsonschema.validate(spec, schema)
print(f"spec-check: {spec_path} is valid against {schema_path}")

fam = spec["name"]


def c(name):
    return name.upper().replace("-", "_")


ints = {}       # C name -> value
strings = {}    # C name -> string
enums = []      # enum type names

strings[c(spec.get("c-family-name", fam + "-family-name"))] = fam
ints[c(spec.get("c-version-name", fam + "-family-version"))] = 1

for d in spec.get("definitions", []):
    if d["type"] == "const":
        ints[c(d.get("name-prefix", fam + "-") + d["name"])] = d["value"]
        continue
    prefix = d.get("name-prefix", f"{fam}-{d['name']}-")
    enums.append(c(d.get("enum-name", f"{fam}-{d['name']}")).lower())
    v = d.get("value-start", 0)
    for e in d["entries"]:
        name = e if isinstance(e, str) else e["name"]
        if isinstance(e, dict) and "value" in e:
            v = e["value"]
        ints[c(prefix + name)] = v
        v += 1
    if d.get("render-max"):
        ints["__" + c(prefix + "max")] = v
        ints[c(prefix + "max")] = v - 1

for s in spec["attribute-sets"]:
    prefix = s.get("name-prefix", f"{fam}-a-{s['name']}-")
    enums.append(c(s.get("enum-name", f"{fam}-a-{s['name']}")).lower())
    ints[c(prefix + "unspec")] = 0
    v = 1
    for a in s["attributes"]:
        v = a.get("value", v)
        ints[c(prefix + a["name"])] = v
        v += 1
    ints[c(s.get("attr-cnt-name", "__" + prefix + "max"))] = v
    ints[c(s.get("attr-max-name", prefix + "max"))] = v - 1

ops = spec["operations"]
prefix = ops.get("name-prefix", fam + "-cmd-")
enums.append(c(ops.get("enum-name", fam + "-cmd")).lower())
ints[c(prefix + "unspec")] = 0
v = 1
for o in ops["list"]:
    v = o.get("value", v)
    ints[c(prefix + o["name"])] = v
    v += 1
ints[c(spec.get("cmd-cnt-name", "__" + prefix + "max"))] = v
ints[c(spec.get("cmd-max-name", prefix + "max"))] = v - 1

for g in spec["mcast-groups"]["list"]:
    strings[c(g.get("c-define-name", f"{fam}-mcgrp-{g['name']}"))] = g["name"]

# Names the header defines: #define NAME and enum members NAME[ =,].
text = re.sub(r"/\*.*?\*/", "", open(header_path).read(), flags=re.S)
defined = set(re.findall(r"#define\s+(MIGPRIO_\w+)", text))
defined |= set(re.findall(r"^\s*(_*MIGPRIO_\w+)\s*[=,]", text, flags=re.M))
defined |= set(re.findall(r"^\s*(_*MIGPRIO_\w+)\s*$", text, flags=re.M))
defined.discard("_UAPI_LINUX_MIGPRIO_H")
extra = sorted(defined - set(ints) - set(strings))
if extra:
    sys.exit("spec-check: in the header but not in the spec: " + ", ".join(extra))

with open(f"{tmp}/check.c", "w") as f:
    f.write('#include <string.h>\n#include <stdio.h>\n#include "linux/migprio.h"\n')
    for e in enums:
        f.write(f"enum {e} check_{e};\n")
    for k, val in ints.items():
        f.write(f'_Static_assert((unsigned long long)({k}) == {val}ULL, "{k} != {val}");\n')
    f.write("int main(void)\n{\n\tint bad = 0;\n\n")
    for k, val in strings.items():
        f.write(f'\tif (strcmp({k}, "{val}")) {{\n\t\tprintf("{k} != \\"{val}\\"\\n");\n\t\tbad = 1;\n\t}}\n')
    f.write("\treturn bad;\n}\n")
print(f"spec-check: {len(ints) + len(strings)} names to compare with {header_path}")
PY

inc=$(dirname "$(dirname "$header")")
${CC:-cc} -std=c11 -Wall -Werror -I"$inc" -o "$tmp/check" "$tmp/check.c"
"$tmp/check"
echo "spec-check: uapi header matches the spec"
