#!/bin/sh
# A tier whose init calls exit() (tests/plugins/init_exits.c), under the real
# petal: whatever status it exits with, petal ends non-zero and says which
# plugin did it, instead of exiting 0 with no output.
. "${top_srcdir:?run through make check}/tests/lib.sh"
: "${top_builddir:?run through make check}"

# The loader refuses group-writable plugins; a umask of 002 must not fail this.
umask 022
ulimit -c 0 2>/dev/null || true
plugdir="$tmp/plugins"
mkdir -p "$plugdir"
cp "$top_builddir/tests/plugins/.libs/init_exits.so" "$plugdir/tier_init_exits.so"
PETAL_PLUGIN_PATH="$plugdir:$top_builddir/plugins/.libs"
export PETAL_PLUGIN_PATH
seed="$top_srcdir/seeds/quickstart.yaml"
message="petal: plugin tier/init-exits called exit(%s) during init; refusing to continue"

# Listing peeks at the descriptor and runs no init.
run plugins list
expect_status 0 "plugins list does not run init"
expect_in "$tmp/out" "init-exits" "plugins list shows the plugin"

for code in 0 3; do
	PETAL_TEST_EXIT=$code run plan -t "$seed"
	expect_status 70 "init calls exit($code)"
	# shellcheck disable=SC2059
	expect_in "$tmp/err" "$(printf "$message" "$code")" "exit($code): the plugin is named"
	expect_empty "$tmp/out" "exit($code): no half-written plan"
	PETAL_TEST_EXIT=$code run plan -t "$seed" --output json
	expect_status 70 "init calls exit($code), --output json"
done

# abort() cannot be refused, but it never passes for success.
PETAL_TEST_EXIT=abort run plan -t "$seed"
if [ "$status" -gt 128 ]; then ok; else not_ok "init calls abort(): exit $status, expected a signal"; fi

# Without the plugin the same seed plans: the failures above are its doing.
PETAL_PLUGIN_PATH="$top_builddir/plugins/.libs" run plan -t "$seed"
expect_status 0 "the seed plans without the plugin"

finish
