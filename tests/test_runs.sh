#!/bin/sh
# petal runs on fabricated journals (the records of doc/run.md): each state,
# one run's steps, resources and cleanup, --output json, bad run ids.
. "${top_srcdir:?}/tests/lib.sh"

state="$tmp/state"
runs="$state/runs"
mkdir -p "$runs"

# journal ID LINES...: STATE/runs/ID/journal.jsonl of those lines
journal() {
	id=$1; shift
	mkdir -p "$runs/$id"
	: >"$runs/$id/journal.jsonl"
	for line in "$@"; do printf '%s\n' "$line" >>"$runs/$id/journal.jsonl"; done
}
start() { # start ID TIME COMMAND
	printf '{"record":"run-start","time":"%s","run":"%s","journal":1,"pid":4242,"command":"%s","seed":"seeds/hybrid.yaml","seed_hash":"h4sh","plan":{"steps":[{"id":"bake"},{"id":"fill"}]}}' "$2" "$1" "$3"
}
intent='{"record":"step-intent","time":"2026-12-03T10:00:05Z","step":"bake","op":"launch","token":"tok-bake"}'
made='{"record":"resource-created","time":"2026-12-03T10:00:06Z","kind":"instance","id":"i-0abc","region":"eu-west-1","step":"bake"}'
image='{"record":"resource-created","time":"2026-12-03T10:20:00Z","kind":"image","id":"ami-0def","region":"eu-west-1","step":"bake"}'
gone='{"record":"resource-released","time":"2026-12-03T10:21:00Z","kind":"instance","id":"i-0abc","region":"eu-west-1"}'
okres='{"record":"step-result","time":"2026-12-03T10:21:00Z","step":"bake","op":"launch","ok":true,"final":true,"produced":[{"kind":"image","id":"ami-0def"}]}'
failres='{"record":"step-result","time":"2026-12-03T10:02:00Z","step":"bake","op":"launch","ok":false,"error":{"code":-8,"message":"InsufficientInstanceCapacity: no spot capacity"}}'

ok_id=r-20261203-100000-0001
failed_id=r-20261203-110000-0002
cancel_id=r-20261203-120000-0003
dead_id=r-20261203-130000-0004
live_id=r-20261203-140000-0005
journal $ok_id "$(start $ok_id 2026-12-03T10:00:00Z build-ami)" "$intent" "$made" "$image" "$gone" "$okres" \
	'{"record":"run-end","time":"2026-12-03T10:21:30Z","state":"succeeded","exit":0}'
journal $failed_id "$(start $failed_id 2026-12-03T11:00:00Z build-ami)" "$intent" "$failres" \
	'{"record":"run-end","time":"2026-12-03T11:02:00Z","state":"failed","exit":1}'
journal $cancel_id "$(start $cancel_id 2026-12-03T12:00:00Z cache-build)" \
	'{"record":"run-end","time":"2026-12-03T12:00:09Z","state":"cancelled","exit":130}'
# killed between the launch and its answer, the instance journaled: dead, one held
journal $dead_id "$(start $dead_id 2026-12-03T13:00:00Z build-ami)" "$intent" "$made"
printf '{"record":"step-res' >>"$runs/$dead_id/journal.jsonl" # torn by the kill
journal $live_id "$(start $live_id 2026-12-03T14:00:00Z build-ami)" "$intent"
mkdir -p "$runs/not-a-run"
# killed between making its directory and its run-start: dead, nothing held
unborn_id=r-20261203-143000-0007
mkdir -p "$runs/$unborn_id"

# a live petal: the lock held by another process, its pid in the lock file
sh -c 'exec 9>>"$1"; flock -x 9; echo $$ >"$1"; exec sleep 60' sh "$runs/$live_id/lock" &
holder=$!
i=0
while flock -n -s "$runs/$live_id/lock" true 2>/dev/null && [ $i -lt 100 ]; do
	i=$((i + 1)); sleep 0.1 # until the holder has it
done

# --- the list -------------------------------------------------------------------
run runs --state-dir "$state"
expect_status 0 "runs lists"
for s in "$ok_id  succeeded" "$failed_id  failed" "$cancel_id  cancelled" "$dead_id  dead" \
	"$live_id  running" "$unborn_id  dead"; do
	expect_in "$tmp/out" "$s" "the list says '$s'"
done
expect_not_in "$tmp/out" "not-a-run" "a directory not named like a run is not one"
expect_in "$tmp/out" "21m30s" "a run's duration"
expect_in "$tmp/err" "torn last line ignored" "the torn line is a note"
expect_in "$tmp/err" "$dead_id/journal.jsonl:4" "the note names its line"
# newest last
if [ "$(grep -n "$ok_id" "$tmp/out" | cut -d: -f1)" -lt "$(grep -n "$live_id" "$tmp/out" | cut -d: -f1)" ]; then ok; else not_ok "runs oldest first"; fi

run runs --state-dir "$state" --output json
expect_status 0 "runs --output json"
expect_py "json: six runs" "len(j['runs']) == 6"
expect_py "json: states" "[r['state'] for r in j['runs']] == ['succeeded','failed','cancelled','dead','running','dead']"
expect_py "json: the unborn run holds nothing" "'never began' in j['runs'][5]['note']"
expect_py "json: the dead run holds its instance" \
	"[(h['kind'], h['id']) for h in j['runs'][3]['resources_held']] == [('instance','i-0abc')]"
expect_py "json: the succeeded run holds its image" \
	"[h['id'] for h in j['runs'][0]['resources_held']] == ['ami-0def']"
expect_py "json: a running run names its owner" "j['runs'][4]['pid'] == $holder"
expect_py "json: exit codes" "j['runs'][2]['exit_code'] == 130 and 'exit_code' not in j['runs'][3]"
expect_py "json: duration" "j['runs'][0]['duration_s'] == 1290"

# the same through XDG_STATE_HOME (the default state directory)
mkdir -p "$tmp/xdg"
ln -s "$state" "$tmp/xdg/petal"
status=0
XDG_STATE_HOME="$tmp/xdg" "$PETAL_BIN" runs >"$tmp/out" 2>"$tmp/err" || status=$?
expect_status 0 "runs with XDG_STATE_HOME"
expect_in "$tmp/out" "$ok_id" "XDG_STATE_HOME/petal is the default state directory"

run runs --state-dir "$tmp/empty"
expect_status 0 "no runs yet"
expect_in "$tmp/out" "No runs in $tmp/empty/runs" "no runs is said"

# --- one run --------------------------------------------------------------------
run runs $failed_id --state-dir "$state"
expect_status 0 "runs RUN"
expect_in "$tmp/out" "run $failed_id: failed (exit 1)" "the run's end"
expect_in "$tmp/out" "InsufficientInstanceCapacity: no spot capacity" "the failure's message"
expect_in "$tmp/out" "fill" "a step never begun is listed"

run runs $dead_id --state-dir "$state" --output json
expect_status 0 "runs RUN --output json"
expect_py "json: the run" "j['run']['id'] == '$dead_id' and j['run']['state'] == 'dead'"
expect_py "json: step states" "[(s['id'], s['state']) for s in j['run']['steps']] == [('bake','intent'),('fill','pending')]"
expect_py "json: the token a resume settles by" "j['run']['steps'][0]['token'] == 'tok-bake'"
expect_py "json: cleanup" "j['run']['cleanup'] == [{'op':'terminate','kind':'instance','id':'i-0abc','region':'eu-west-1'}]"
expect_py "json: the torn line noted" "'torn last line' in j['run']['note']"

run runs $unborn_id --state-dir "$state"
expect_status 0 "runs RUN of a run that never began"
expect_in "$tmp/out" "run $unborn_id: dead (its journal never began" "a run that never began"

run runs $ok_id --state-dir "$state"
expect_in "$tmp/out" "1. deregister image ami-0def in eu-west-1" "the cleanup list in text"

# --- a create: the plan's time to ready beside the one measured -----------------
create_id=r-20261203-160000-0008
cstate=$tmp/cstate
mkdir -p "$cstate/runs/$create_id"
printf '%s\n' \
	'{"record":"run-start","time":"2026-12-03T16:00:00Z","run":"'$create_id'","journal":1,"pid":4242,"command":"create","seed":"seeds/hybrid.yaml","seed_hash":"h4sh","plan":{"steps":[],"ready_minutes":25.4}}' \
	'{"record":"step-intent","time":"2026-12-03T16:00:10Z","step":"cluster","op":"ready"}' \
	'{"record":"step-result","time":"2026-12-03T16:23:20Z","step":"cluster","op":"ready","ok":true,"final":true,"produced":[{"kind":"cluster","id":"lab","ready_seconds":1390.4}]}' \
	'{"record":"run-end","time":"2026-12-03T16:23:21Z","state":"succeeded","exit":0}' \
	>"$cstate/runs/$create_id/journal.jsonl"
run runs --state-dir "$cstate"
expect_status 0 "runs with a create"
expect_in "$tmp/out" "READY EST/GOT" "the list has the time to ready"
expect_in "$tmp/out" "25m/23m10s" "a create's estimated and measured time to ready"
run runs --state-dir "$cstate" --output json
expect_py "json: the create's time to ready" \
	"j['runs'][0]['ready'] == {'estimated_minutes': 25.4, 'measured_seconds': 1390.4}"
run runs --state-dir "$state" --output json
expect_py "json: no time to ready but for a create" "all('ready' not in r for r in j['runs'])"
run runs "$create_id" --state-dir "$cstate"
expect_in "$tmp/out" "ready     25m/23m10s" "one create's time to ready"

# --- bad input ------------------------------------------------------------------
run runs bogus --state-dir "$state"
expect_status 2 "a malformed run id"
expect_in "$tmp/err" "'bogus' is not a run id (r-YYYYMMDD-HHMMSS-XXXX)" "the malformed id is said"

run runs r-20991231-000000-ffff --state-dir "$state"
expect_status 1 "an unknown run"
expect_in "$tmp/err" "no run r-20991231-000000-ffff in $state/runs" "the unknown run is said"

run runs $ok_id $failed_id --state-dir "$state"
expect_status 2 "two run ids"

run runs --state-dir
expect_status 2 "--state-dir without a directory"

# a corrupt line in the middle: named, the others still listed, exit 1
bad_id=r-20261203-150000-0006
journal $bad_id "$(start $bad_id 2026-12-03T15:00:00Z build-ami)" '{"record":"step-intent",' "$intent"
run runs --state-dir "$state"
expect_status 1 "a corrupt journal fails the listing"
expect_in "$tmp/err" "$bad_id/journal.jsonl:2: not a JSON record" "the corrupt line is named"
expect_in "$tmp/out" "$bad_id  unreadable" "the corrupt run is listed as unreadable"
expect_in "$tmp/out" "$ok_id  succeeded" "the others are still listed"

run runs $bad_id --state-dir "$state"
expect_status 1 "runs RUN of a corrupt journal"
expect_in "$tmp/err" "journal.jsonl:2:" "the line is named"

run runs --help
expect_status 0 "runs --help"
expect_in "$tmp/out" "dead (no end in" "--help says what dead means"

kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
finish
