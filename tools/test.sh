#!/bin/sh
# The whole test suite, as CI runs it: dependencies, a -Werror build and
# `make check`, the same under AddressSanitizer and UndefinedBehaviorSanitizer
# (any sanitizer report fails), the plugin loader under valgrind, a clang
# -Werror build and its C tests, each fuzz harness for $PETAL_FUZZ_SECONDS
# (30 by default) under libFuzzer, then `make distcheck`.  The stages after the
# first repeat the suite for another build, so they leave out what only repeats the
# same run: the tests under the real Spack run in the gcc stage only
# (PETAL_SKIP_REAL_SPACK=1 elsewhere); the heavy tests of minutes (tests/lib.sh
# heavy_test) run in the gcc and sanitizer stages, not under clang or distcheck
# (PETAL_SKIP_HEAVY=1), and build-ami's kill -9 matrix kills at every journal record in
# the gcc stage, at every third under the sanitizers (PETAL_MATRIX_STRIDE); the clang
# stage runs the C tests, not the shell ones (PETAL_SKIP_SHELL=1).  CI gives it 90 minutes
# on 2 cores; the target is under 45.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/deps-debian.sh
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
jobs=$(nproc)
# the tests wait on servers, polls and stand-ins more than they compute: twice the cores
tjobs=$((jobs * 2))
# Run by the gcc stage only (tests/lib.sh real_spack_stage).
real_spack_tests="test_scripts_spack test_scripts_image test_scripts_fail test_scripts_fetch test_spack_config test_build_ami_real test_create"

fail() { echo "petal tests: $*" >&2; exit 1; }

echo "== build and make check"
rm -rf build-test && mkdir build-test && cd build-test
../configure -q
make -s -j"$jobs"
make -s -j"$tjobs" check || { cat tests/*.log ./*.log 2>/dev/null | tail -200; fail "make check failed"; }
# The real-Spack tests skip (77) when something they need is missing; here they must run.
for t in $real_spack_tests; do
	grep -q '^:test-result: PASS' "tests/$t.trs" ||
		{ tail -40 "tests/$t.log"; fail "tests/$t did not pass (skipped?): the real Spack must run in CI"; }
done

echo "== the plugin loader under valgrind"
make -s check TESTS=tests/test_loader LOG_COMPILER=valgrind \
	AM_LOG_FLAGS="-q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" ||
	{ tail -100 tests/test_loader.log; fail "valgrind found errors in the loader"; }
cd "$top"

echo "== make check under -fsanitize=address,undefined"
rm -rf build-asan && mkdir build-asan && cd build-asan
# float-cast-overflow: GCC leaves it out of "undefined"
san="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow -fno-omit-frame-pointer"
../configure -q CFLAGS="-g -O1 $san" LDFLAGS="$san"
make -s -j"$jobs"
# the real Spack ran in the gcc stage; petal's side of those runs is test_build_ami's here
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 PETAL_SKIP_REAL_SPACK=1 PETAL_MATRIX_STRIDE=3 \
	make -s -j"$tjobs" check || { cat tests/*.log ./*.log 2>/dev/null | tail -200; fail "sanitized make check failed"; }
reports=$(find . -name '*.log' -exec grep -l -E \
	"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" {} +) || true
[ -z "$reports" ] || fail "sanitizer reports in: $reports"
cd "$top"

echo "== clang: a -Werror build and its C tests, then the fuzz harnesses"
rm -rf build-clang && mkdir build-clang && cd build-clang
../configure -q CC=clang
make -s -j"$jobs"
PETAL_SKIP_SHELL=1 make -s -j"$tjobs" check || { cat tests/*.log ./*.log 2>/dev/null | tail -200; fail "make check (clang) failed"; }
make -s -j"$jobs" fuzz
make -s fuzz-run FUZZ_SECONDS="${PETAL_FUZZ_SECONDS:-30}" || fail "a fuzz harness crashed (see build-clang/tests/fuzz/)"
cd "$top"

echo "== make distcheck"
cd build-test
PETAL_SKIP_REAL_SPACK=1 PETAL_SKIP_HEAVY=1 make -s -j"$tjobs" distcheck >distcheck.out 2>&1 || { tail -80 distcheck.out; fail "make distcheck failed"; }
tail -4 distcheck.out
cd "$top"
echo "petal tests: all passed"
