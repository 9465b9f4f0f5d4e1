#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print migprio's version. The VERSION file at the top of the tree is the
# release (0.3.0). In a git checkout of this tree the commit is added unless
# HEAD is the release tag v<VERSION>: 0.3.0+3.g1a2b3c4 (3 commits after the
# tag), 0.3.0+g1a2b3c4 (no tag), and .dirty for local changes. Tarballs and
# DKMS source trees have no git: the file alone.
#   scripts/version.sh [--release]   --release: the VERSION file only
ROOT=$(cd "$(dirname "$0")/.." && pwd)
base=$(cat "$ROOT/VERSION" 2>/dev/null) || { echo "version: no $ROOT/VERSION" >&2; exit 1; }
[ "${1:-}" = --release ] && { echo "$base"; exit 0; }
# only our own checkout, never a repository that happens to enclose the tree
top=$(git -C "$ROOT" rev-parse --show-toplevel 2>/dev/null)
if [ "$top" != "$ROOT" ]; then
	echo "$base"
	exit 0
fi
desc=$(git -C "$ROOT" describe --tags --match "v$base" --dirty=.dirty 2>/dev/null)
case $desc in
"v$base") echo "$base" ;;
"v$base.dirty") echo "$base+dirty" ;;
v*) echo "$base+$(echo "${desc#"v$base-"}" | sed 's/-/./g')" ;;
*)
	h=$(git -C "$ROOT" describe --always --abbrev=7 --dirty=.dirty 2>/dev/null)
	echo "$base${h:++g$h}"
	;;
esac
