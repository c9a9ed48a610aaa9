#!/bin/sh
# bench/cache-status/run.sh [N]: time `cache status` on a generated v3 mirror
# whose index holds N specs (default 100000) against python3's json.load of
# the same index blob, the floor for any Python tool reading it.
#
# Targets: petal's wall time at most half of Python's, petal's peak resident
# memory at most 64 MB.  Exit status 1 when a target is missed.
#
# The petal side is `petal cache status --url file://MIRROR` when PETAL_BIN is
# set (`make bench` sets it, with the plugin path), else the read_index driver
# (the same library call, printing its own time).
#
# Environment: PETAL_BIN, READ_INDEX (the driver), BENCH_DIR (where
# mirrors are generated and kept between runs; default $TMPDIR or /tmp),
# REPEAT (runs of each side, the best one counts; default 3).
set -eu

N=${1:-100000}
REPEAT=${REPEAT:-3}
here=$(cd "$(dirname "$0")" && pwd)
driver=${READ_INDEX:-}
if [ -n "${PETAL_BIN:-}" ]; then
	driver=$PETAL_BIN
elif [ -z "$driver" ]; then
	for d in "$here/read_index" ./bench/cache-status/read_index; do
		if [ -x "$d" ]; then driver=$d; break; fi
	done
fi
if [ -z "$driver" ] || [ ! -x "$driver" ]; then
	echo "run.sh: no read_index driver: run \`make bench\` in the build tree, or set READ_INDEX" >&2
	exit 2
fi
work=${BENCH_DIR:-${TMPDIR:-/tmp}/petal-bench-cache-status}
mirror=$work/mirror-$N
manifest=$mirror/v3/manifests/index/index.manifest.json
mkdir -p "$work"
if [ ! -f "$manifest" ]; then
	rm -rf "$mirror"
	python3 "$here/gen_mirror.py" --specs "$N" --out "$mirror"
fi
sum=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["data"][0]["checksum"])' "$manifest")
blob=$mirror/blobs/sha256/$(printf %.2s "$sum")/$sum
bytes=$(wc -c <"$blob")
# both sides read the blob from the page cache
cat "$blob" >/dev/null

gnu_time=
if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then
	gnu_time=/usr/bin/time
fi

# run OUT CMD...: wall seconds on stdout; peak RSS (kB) in $OUT.rss
run() {
	out=$1
	shift
	t0=$(date +%s%N)
	if [ -n "$gnu_time" ]; then
		"$gnu_time" -v "$@" >"$out" 2>"$out.time"
		sed -n 's/.*Maximum resident set size (kbytes): *//p' "$out.time" >"$out.rss"
	else
		"$@" >"$out"
		sed -n 's/^peak_rss_kb //p' "$out" >"$out.rss"
	fi
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}

best() { # best of the wall times in $1 (one per line)
	sort -n "$1" | head -n 1
}

: >"$work/petal.times"
: >"$work/python.times"
: >"$work/petal.inner"
: >"$work/python.inner"
for _ in $(seq "$REPEAT"); do
	if [ -n "${PETAL_BIN:-}" ]; then
		run "$work/petal.out" "$PETAL_BIN" cache status --url "file://$mirror" \
			>>"$work/petal.times"
	else
		run "$work/petal.out" "$driver" -w zlib -w 'hdf5@1.14:' -w 'py-numpy%gcc@13' \
			-w nosuch "file://$mirror" >>"$work/petal.times"
	fi
	petal_rss=$(cat "$work/petal.out.rss")
	# json.load(open(F)), with a timer around it to tell the load from the
	# interpreter's start-up
	run "$work/python.out" python3 -c 'import json, sys, time
t = time.perf_counter(); json.load(open(sys.argv[1]))
print("load_seconds %.3f" % (time.perf_counter() - t))' "$blob" >>"$work/python.times"
	{ grep '^status_seconds' "$work/petal.out" || echo "status_seconds 0"; } |
		cut -d' ' -f2 >>"$work/petal.inner"
	grep '^load_seconds' "$work/python.out" | cut -d' ' -f2 >>"$work/python.inner"
	python_rss=$(cat "$work/python.out.rss")
done
petal_s=$(best "$work/petal.times")
python_s=$(best "$work/python.times")
petal_in=$(best "$work/petal.inner")
python_in=$(best "$work/python.inner")

echo "cache-status benchmark: $N specs, index blob $bytes bytes, best of $REPEAT runs"
sed 's/^/  petal | /' "$work/petal.out"
awk -v p="$petal_s" -v y="$python_s" -v prss="$petal_rss" -v yrss="$python_rss" \
    -v pi="$petal_in" -v yi="$python_in" 'BEGIN {
	ratio = p / y
	if (pi > 0)
		printf "  petal read_index  %8.3f s wall (%.3f s in cache status), peak RSS %7.1f MB\n",
		       p, pi, prss / 1024
	else
		printf "  petal cache status %7.3f s wall, peak RSS %7.1f MB\n", p, prss / 1024
	printf "  python3 json.load %8.3f s wall (%.3f s in json.load),    peak RSS %7.1f MB\n",
	       y, yi, yrss / 1024
	printf "  wall time ratio petal/python %.3f (target <= 0.5): %s\n", ratio,
	       ratio <= 0.5 ? "met" : "MISSED"
	if (yi > 0 && pi > 0)
		printf "  without process start-up: %.3f\n", pi / yi
	printf "  memory ratio petal/python %.4f; petal peak RSS %.1f MB (target <= 64 MB): %s\n",
	       prss / yrss, prss / 1024, prss <= 64 * 1024 ? "met" : "MISSED"
	exit !(ratio <= 0.5 && prss <= 64 * 1024)
}'
