#!/bin/sh
# What `make fuzz` and `make fuzz-run` call (tests/fuzz/Makefrag.am).
#   fuzz.sh cc CC
#       Is CC a clang that can link libFuzzer?  Says what to do when not.
#   fuzz.sh run SECONDS SRCDIR PROGRAM...
#       Run each harness for SECONDS on a scratch corpus seeded from
#       SRCDIR/tests/fuzz/corpus/<name>/, with SRCDIR/tests/fuzz/<name>.dict;
#       any crash, leak, timeout or broken invariant fails, its input kept
#       as tests/fuzz/crash-<name>-* (in the build tree).  $FUZZ_ARGS adds
#       libFuzzer options (e.g. FUZZ_ARGS=-jobs=2).
set -eu

die() { echo "make fuzz: $*" >&2; exit 1; }

check_cc() {
	cc=$1
	case $($cc --version 2>/dev/null) in
	*clang*) ;;
	*) die "the harnesses need clang's libFuzzer, but CC is '$cc'; configure a build tree with CC=clang (../configure CC=clang && make fuzz)" ;;
	esac
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
		>"$tmp/probe.c"
	$cc -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" >"$tmp/out" 2>&1 ||
		die "$cc cannot link a libFuzzer program (on Debian: apt-get install libclang-rt-14-dev): $(head -3 "$tmp/out")"
}

run() {
	seconds=$1 srcdir=$2
	shift 2
	failed=""
	for prog in "$@"; do
		name=$(basename "$prog" | sed 's/^fuzz_//')
		work=tests/fuzz/work/$name
		mkdir -p "$work"
		dict=""
		[ -f "$srcdir/tests/fuzz/$name.dict" ] && dict="-dict=$srcdir/tests/fuzz/$name.dict"
		log=tests/fuzz/$name.log
		echo "fuzz: $name for ${seconds}s"
		# shellcheck disable=SC2086
		if "$prog" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix="tests/fuzz/crash-$name-" \
			$dict ${FUZZ_ARGS:-} "$work" "$srcdir/tests/fuzz/corpus/$name" >"$log" 2>&1; then
			execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
			cov=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -1)
			echo "fuzz: $name: ${execs:-?} runs, $cov, no crash"
		else
			tail -60 "$log" >&2
			for f in tests/fuzz/crash-"$name"-*; do
				if [ -e "$f" ]; then echo "fuzz: $name: the input that failed: $f" >&2; fi
			done
			echo "fuzz: $name FAILED" >&2
			failed="$failed $name"
		fi
	done
	[ -z "$failed" ] || die "crashes in:$failed (logs: tests/fuzz/<name>.log)"
}

case ${1:-} in
cc) check_cc "$2" ;;
run) shift; run "$@" ;;
*) die "usage: fuzz.sh cc CC | run SECONDS SRCDIR PROGRAM..." ;;
esac
