#!/bin/sh
# From a fresh clone: install the build dependencies, build petal, and plan
# the hybrid example seed (offline: no cloud is asked anything).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/deps-debian.sh
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p build
cd build
[ -f Makefile ] || ../configure -q
make -s -j"$(nproc)"
# The uninstalled petal finds its plugins and data through these two variables;
# an installed one (make install) needs neither.
PETAL_PLUGIN_PATH="$top/build/plugins/.libs" PETAL_DATA_DIR="$top/data" \
	./petal plan -t "$top/seeds/hybrid.yaml" "$@"
