#!/bin/sh
# Plugin log and progress go to the CLI's sink (core/cli/sink.c): text on
# stderr as "petal: PLUGIN: LEVEL: MESSAGE", and with --output json one JSON
# object per line on stderr, stdout keeping the plan alone.
. "${top_srcdir:?run through make check}/tests/lib.sh"
: "${top_builddir:?run through make check}"

umask 022
plugdir="$tmp/plugins"
mkdir -p "$plugdir"
cp "$top_builddir/tests/plugins/.libs/chatty.so" "$plugdir/tier_chatty.so"
PETAL_PLUGIN_PATH="$plugdir:$top_builddir/plugins/.libs"
export PETAL_PLUGIN_PATH
seed="$top_srcdir/seeds/quickstart.yaml"

run plan -t "$seed"
expect_status 0 "plan with a chatty tier"
expect_in "$tmp/err" 'petal: chatty: warning: planning with 0 package(s) "quoted"' \
	"text: the plugin's warning on stderr, as before"

run plan -t "$seed" --output json
expect_status 0 "plan --output json with a chatty tier"
expect_py "stdout is the plan alone" "'steps' in j"
if python3 - "$tmp/err" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
ev = [json.loads(l) for l in lines]  # every line is one JSON object
log = [e for e in ev if e.get("event") == "log"]
prog = [e for e in ev if e.get("event") == "progress"]
assert log == [{"event": "log", "level": "warning", "plugin": "chatty",
                "message": 'planning with 0 package(s) "quoted"'}], log
assert prog == [{"event": "progress", "what": "chatty counting", "done": 1, "total": 1}], prog
PY
then ok; else not_ok "json: the plugin's log and progress are JSON lines on stderr: $(cat "$tmp/err")"; fi

# -q: warnings are not wanted, in either form
run -q plan -t "$seed" --output json
expect_status 0 "plan -q --output json"
expect_not_in "$tmp/err" "chatty" "-q silences the plugin's warning"
finish
