# Helpers for the shell tests: run petal, check status and output.
# Sourced; expects PETAL_BIN, top_srcdir (set by TESTS_ENVIRONMENT).
set -u
: "${PETAL_BIN:?run through make check}"
: "${top_srcdir:?run through make check}"
failures=0
passes=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/petal-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The shared/ folder beside the project (read-only test data and peers):
# $PETAL_SHARED_TESTDATA/.. when that is set, else the first shared/ with a
# testdata/ above the source tree, else /work/shared. Missing: a failure, said.
shared_dir() {
	if [ -n "${PETAL_SHARED_TESTDATA:-}" ]; then
		(cd "$PETAL_SHARED_TESTDATA/.." && pwd)
		return
	fi
	d=$(cd "$top_srcdir" && pwd)
	while :; do
		if [ -d "$d/shared/testdata" ]; then echo "$d/shared"; return; fi
		[ "$d" = / ] && break
		d=$(dirname "$d")
	done
	[ -d /work/shared/testdata ] && { echo /work/shared; return; }
	echo "FAIL: shared/ (test data and peers) is not found above $top_srcdir:" \
		"set PETAL_SHARED_TESTDATA to its testdata/" >&2
	exit 1
}

# real_spack_stage: the tests that run the real Spack are the suite's heaviest part;
# tools/test.sh runs them in the gcc stage only and sets PETAL_SKIP_REAL_SPACK=1 for the
# others (sanitizers, clang, distcheck), where they would repeat the same run.
real_spack_stage() {
	if [ "${PETAL_SKIP_REAL_SPACK:-0}" = 1 ]; then
		echo "skipped: PETAL_SKIP_REAL_SPACK=1 (the real Spack runs in the gcc stage)" >&2
		exit 77
	fi
}
# PETAL_SKIP_SHELL=1 (the clang stage): the shell tests skip, the C tests run; the gcc and
# sanitizer stages run every shell test against their own build.
if [ "${PETAL_SKIP_SHELL:-0}" = 1 ]; then
	echo "skipped: PETAL_SKIP_SHELL=1 (run in the gcc and sanitizer stages)" >&2
	exit 77
fi

# heavy_test: a test of minutes (many runs of petal against moto, kill -9 matrices):
# run in the gcc and sanitizer stages; the clang and distcheck stages, which repeat the
# suite for the compiler and the tarball, set PETAL_SKIP_HEAVY=1 and skip it.
heavy_test() {
	if [ "${PETAL_SKIP_HEAVY:-0}" = 1 ]; then
		echo "skipped: PETAL_SKIP_HEAVY=1 (run in the gcc and sanitizer stages)" >&2
		exit 77
	fi
}

# The sandbox that plays a build instance or a cluster node.
sandbox=$top_srcdir/tests/sandbox/run-as-node.sh
# run_box ROLE BOX COMMAND...: COMMAND on that machine; status in $status, output in
# $tmp/out, $tmp/err
run_box() {
	status=0
	sh "$sandbox" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
}
# sandbox_or_skip ROLE: skip (77) with the sandbox's reason when it cannot be made here
sandbox_or_skip() {
	run_box "$1" "$tmp/probe" true
	[ "$status" -eq 77 ] && { cat "$tmp/err" >&2; exit 77; }
	return 0
}
# real_spack_peer CMD...: $peer is ../shared/peers/spack; skip (77) without its Spack or
# without one of the commands CMD (Lmod's are looked for in its libexec too)
real_spack_peer() {
	peer=$(shared_dir)/peers/spack
	[ -r "$peer/spack-1.1.0-offline.tar.gz" ] || { echo "no real Spack in $peer" >&2; exit 77; }
	for cmd in "$@"; do
		if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -e "/usr/share/lmod/lmod/libexec/$cmd" ]; then
			echo "no $cmd (tools/deps-debian.sh installs what the real Spack needs)" >&2
			exit 77
		fi
	done
}

# run ARGS...: runs petal, keeps status in $status, stdout in $tmp/out, stderr in $tmp/err
run() {
	status=0
	"$PETAL_BIN" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
}

ok() { passes=$((passes + 1)); }
not_ok() {
	failures=$((failures + 1))
	echo "FAIL: $*" >&2
	echo "  stdout: $(head -c 2000 "$tmp/out" 2>/dev/null)" >&2
	echo "  stderr: $(head -c 2000 "$tmp/err" 2>/dev/null)" >&2
}

# expect_status N DESCRIPTION
expect_status() {
	if [ "$status" -eq "$1" ]; then ok; else not_ok "$2: exit $status, expected $1"; fi
}
# expect_in FILE PATTERN DESCRIPTION (fixed string)
expect_in() {
	if grep -qF -- "$2" "$1"; then ok; else not_ok "$3: '$2' not in $(basename "$1")"; fi
}
expect_not_in() {
	if grep -qF -- "$2" "$1"; then not_ok "$3: '$2' unexpectedly in $(basename "$1")"; else ok; fi
}
expect_empty() {
	if [ -s "$1" ]; then not_ok "$2: $(basename "$1") not empty"; else ok; fi
}
# expect_py DESCRIPTION PYTHON-EXPRESSION: evaluated with j = json of $tmp/out
expect_py() {
	if python3 -c "import json,sys; j=json.load(open('$tmp/out')); sys.exit(0 if ($2) else 1)" 2>"$tmp/pyerr"; then
		ok
	else
		not_ok "$1: python check failed: $2 $(cat "$tmp/pyerr")"
	fi
}

finish() {
	echo "$passes passed, $failures failed"
	[ "$failures" -eq 0 ]
}
