#!/bin/sh
# petal cache init | status | clear, end to end, on copies of the real Spack
# mirrors in shared/testdata/spack-buildcache (v2 and v3) laid out under
# file:// and served by the built cloud plugin 'local'.
. "${top_srcdir:?}/tests/lib.sh"
heavy_test

# --- the shared test data: $PETAL_SHARED_TESTDATA, else shared/testdata
# above the source tree, else /work/shared/testdata; missing is a failure
data=$(shared_dir)/testdata
if [ -z "$data" ] || [ ! -d "$data/spack-buildcache/v3-mirror" ]; then
	echo "FAIL: the real mirrors (shared/testdata/spack-buildcache) are not found:" \
		"set PETAL_SHARED_TESTDATA" >&2
	exit 1
fi
src=$data/spack-buildcache

# every history goes to this run's own state directory
XDG_STATE_HOME=$tmp/state
export XDG_STATE_HOME
history=$tmp/state/petal/cache-history.jsonl

# fresh writable copy of a mirror: mirror NAME FROM
mirror() {
	rm -rf "${tmp:?}/$1"
	cp -R "$src/$2" "$tmp/$1"
	chmod -R u+w "$tmp/$1"
}
# a listing with checksums, to tell whether anything changed
snapshot() {
	(cd "$1" && find . -print | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort)
}
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }

mirror v3 v3-mirror
mirror v2 v2-mirror

cat >"$tmp/seed.yaml" <<'YAML'
cluster:
  name: cache-test
  region: eu-west-2
software:
  binary_cache:
    s3_bucket: petal-test-cache
  spack_packages:
    - petal-hello@1.0
    - zlib
  build_from_source:
    - gcc-runtime
YAML
cat >"$tmp/all.yaml" <<'YAML'
cluster:
  name: cache-all
  region: eu-west-2
software:
  spack_packages:
    - petal-hello@1.0
    - gcc-runtime@12.2.0
    - compiler-wrapper@1.1.0
  in_ami:
    - glibc
YAML
cat >"$tmp/ranges.yaml" <<'YAML'
cluster:
  name: cache-ranges
  region: eu-west-2
software:
  spack_packages:
    - "petal-hello@1.1:"
    - "gcc-runtime@12:"
    - "compiler-wrapper@:1.0"
YAML

# --- help and usage --------------------------------------------------------
run cache --help
expect_status 0 "cache --help"
for w in init status clear "s3://bucket/prefix" "file:///abs/dir" Examples "Exit status"; do
	expect_in "$tmp/out" "$w" "cache --help mentions $w"
done
run --help
expect_in "$tmp/out" "cache" "petal --help lists cache"
for sub in init status clear; do
	run cache "$sub" --help
	expect_status 0 "cache $sub --help"
	expect_in "$tmp/out" "usage: petal cache $sub" "cache $sub --help shows usage"
	expect_in "$tmp/out" "Examples:" "cache $sub --help has examples"
done
run cache status --help
expect_in "$tmp/out" "in_buildcache" "status --help says what specs are"
expect_in "$tmp/out" "hit ratio" "status --help says what the hit ratio is"
run cache
expect_status 2 "cache without a subcommand"
run cache statu
expect_status 2 "unknown subcommand"
expect_in "$tmp/err" "did you mean 'status'" "unknown subcommand suggests"
run cache status
expect_status 2 "status without a mirror"
expect_in "$tmp/err" "--url" "status without a mirror says how to name one"
run cache status --url "relative/dir"
expect_status 2 "relative path refused"
run cache status --url "http://example.invalid/m"
expect_status 2 "http:// refused"
expect_in "$tmp/err" "s3://" "the refusal names the schemes served"
run cache status --url "file://$tmp/../$(basename "$tmp")/v3"
expect_status 2 "'..' in a file URL refused"
run cache status --url "s3:///prefix"
expect_status 2 "s3:// without a bucket refused"

# --- status, v3 -------------------------------------------------------------
run cache status --url "file://$tmp/v3" --output json
expect_status 0 "status v3"
expect_py "v3: layout, database, 3 specs of 5 records, 3 packages" \
	"j['layout'] == 'v3' and j['database_version'] == '8' and j['specs'] == 3 and j['records'] == 5 and j['packages'] == 3"
expect_py "v3: the index verified against its manifest" \
	"j['index']['verified'] is True and j['index']['object'].startswith('blobs/sha256/c0/')"
n_objects=$(find "$tmp/v3" -type f | wc -l | tr -d ' ')
bytes=$(find "$tmp/v3" -type f -exec cat {} + | wc -c | tr -d ' ')
expect_py "v3: objects and bytes as on disk" "j['objects'] == $n_objects and j['bytes'] == $bytes"
expect_py "v3: 3 spec manifests, dated" \
	"j['spec_objects'] == 3 and j['oldest'] <= j['newest'] and j['dates_from'] == 'object_mtime'"
expect_py "status without a seed has no hits" "'requested' not in j"
[ "$(lines "$history")" -eq 0 ] && ok || not_ok "status without a seed records no history"

run cache status --url "$tmp/v3"
expect_status 0 "status v3, a plain absolute path, text"
expect_in "$tmp/out" "3 in the cache" "text: specs held"
expect_in "$tmp/out" "sha256 verified" "text: index verified"

run cache status -t "$tmp/all.yaml" --url "file://$tmp/v3" -o json
expect_status 0 "status v3 with every spec requested"
expect_py "v3 holds petal-hello 1.0, gcc-runtime 12.2.0, compiler-wrapper 1.1.0" \
	"[(r['name'], r['hit'], r.get('version')) for r in j['requested']] == [('petal-hello', True, '1.0'), ('gcc-runtime', True, '12.2.0'), ('compiler-wrapper', True, '1.1.0'), ('glibc', False, None)]"
expect_py "v3: 3 hits of 4 (glibc is an external: listed, not cached)" "j['hits'] == 3 and j['misses'] == 1 and abs(j['hit_ratio'] - 0.75) < 1e-9"

# a path that needs escapes in a URL: read through the plugin's decoding
mirror "v3 with space" v3-mirror
run cache status --url "$tmp/v3 with space" -o json
expect_status 0 "status of a mirror whose path holds a space"
expect_py "the space is escaped in the URL, the mirror read" \
	"j['mirror'] == 'file://$tmp/v3%20with%20space' and j['specs'] == 3 and j['index']['verified']"
run cache status --url "file://$tmp/v3%20with%20space" -o json
expect_py "an escaped file:// URL reads the same mirror" "j['specs'] == 3 and j['objects'] == $n_objects"

# --- progress: on a terminal only, and not with -q
run cache status --url "file://$tmp/v3"
expect_empty "$tmp/err" "no progress when stderr is not a terminal"
cat >"$tmp/on_tty.py" <<'PY'
import os, pty, select, subprocess, sys
m, s = pty.openpty()
p = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=s)
os.close(s)
out = b''
while select.select([m], [], [], 0.5)[0]:
    try:
        d = os.read(m, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
shown = b' object' in out and b'/s' in out
sys.exit(0 if p.returncode == 0 and shown == (sys.argv[1] == 'shown') else 1)
PY
python3 "$tmp/on_tty.py" shown "$PETAL_BIN" cache status --url "file://$tmp/v3" && ok ||
	not_ok "progress on a terminal: objects, bytes, rate"
python3 "$tmp/on_tty.py" hidden "$PETAL_BIN" -q cache status --url "file://$tmp/v3" && ok ||
	not_ok "no progress with -q"

# --- status with a seed: hits, misses, history -------------------------------
run cache status -t "$tmp/seed.yaml" --url "file://$tmp/v3"
expect_status 0 "status v3 with a seed"
expect_in "$tmp/out" "1 of 2 requested packages: 50%" "text: hit ratio"
grep -q '^  hit .*petal-hello@1.0 .*1\.0/x6v6jva' "$tmp/out" && ok || not_ok "petal-hello@1.0 is a hit (v3 hash)"
grep -q '^  miss  zlib' "$tmp/out" && ok || not_ok "zlib is a miss"
expect_not_in "$tmp/out" "gcc-runtime" "build_from_source packages are not asked of the cache"
[ "$(lines "$history")" -eq 2 ] && ok || not_ok "history: one line per status with a seed (2)"

run cache status -t "$tmp/seed.yaml" --url "file://$tmp/v2" -o json
expect_status 0 "status v2 with a seed"
expect_py "v2: layout, 2 specs" "j['layout'] == 'v2' and j['database_version'] == '7' and j['specs'] == 2"
expect_py "v2: petal-hello@1.0 hit (v2 hash, compiler gcc@12.2.0), zlib miss" \
	"j['requested'][0]['hit'] and j['requested'][0]['hash'] == 'ebahe7siwdjm75uiqkisg7bnkqkb4z6k' and j['requested'][0]['compiler'] == 'gcc' and not j['requested'][1]['hit'] and j['hits'] == 1"
run cache status -t "$tmp/all.yaml" --url "file://$tmp/v2" -o json
expect_py "v2 holds petal-hello and gcc-runtime, not compiler-wrapper" \
	"[r['hit'] for r in j['requested']] == [True, True, False, False]"
[ "$(lines "$history")" -eq 4 ] && ok || not_ok "history: 4 lines after 4 statuses with a seed"
python3 - "$history" "$tmp/seed.yaml" "file://$tmp/v2" <<'PY' && ok || not_ok "history lines: time, seed hash, mirror, hits, misses, ratio"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
r = rows[2]
assert r['seed'] == sys.argv[2] and r['mirror'] == sys.argv[3], r
assert len(r['seed_hash']) == 64 and r['hits'] == 1 and r['misses'] == 1 and r['hit_ratio'] == 0.5, r
assert isinstance(r['time'], int) and r['date'].endswith('Z'), r
assert rows[1]['seed_hash'] == r['seed_hash'] and rows[0]['seed_hash'] != r['seed_hash']
PY

run cache status --history -t "$tmp/seed.yaml" -o json
expect_status 0 "history of a seed"
expect_py "history of the seed: its 2 statuses, both mirrors" \
	"len(j['entries']) == 2 and {e['mirror'] for e in j['entries']} == {'file://$tmp/v3', 'file://$tmp/v2'}"
run cache status --history -t "$tmp/seed.yaml" --url "file://$tmp/v3"
expect_status 0 "history of a seed on one mirror, text"
expect_in "$tmp/out" "1/2" "history text: hits of requested"
expect_in "$tmp/out" "50%" "history text: ratio"
[ "$(grep -c "file://$tmp/v3" "$tmp/out")" -eq 2 ] && ok || not_ok "history text: the header and one entry for v3"
[ "$(lines "$history")" -eq 4 ] && ok || not_ok "--history reads the mirror's history, records nothing"

# --- broken mirrors: a clear error and exit 1, never a crash -------------------
v3blob=blobs/sha256/c0/c0d9ce71ad7e87fc82f0e335ce35e644b583909dadc8125488a9b708881c0970
broken() { # NAME EXPECTED-WORDS DESCRIPTION
	run cache status -t "$tmp/seed.yaml" --url "file://$tmp/$1"
	expect_status 1 "$3: exit 1"
	expect_in "$tmp/err" "petal: error:" "$3: an error message"
	expect_in "$tmp/err" "$2" "$3: says what is wrong"
	expect_empty "$tmp/out" "$3: no partial report"
}
mirror badsum v3-mirror
printf ' ' >>"$tmp/badsum/$v3blob"
broken badsum "checksum mismatch" "v3 index with a bad checksum"
mirror noblob v3-mirror
rm "$tmp/noblob/$v3blob"
broken noblob "missing" "v3 index blob missing"
mirror trunc v3-mirror
head -c 2000 "$src/v3-mirror/$v3blob" >"$tmp/trunc/$v3blob"
broken trunc "checksum mismatch" "v3 index truncated"
mirror v2sum v2-mirror
printf '0%.0s' $(seq 64) >"$tmp/v2sum/build_cache/index.json.hash"
broken v2sum "checksum mismatch" "v2 index with a bad checksum"
mirror v2trunc v2-mirror
head -c 1500 "$src/v2-mirror/build_cache/index.json" >"$tmp/v2trunc/build_cache/index.json"
sha256sum "$tmp/v2trunc/build_cache/index.json" | cut -d' ' -f1 | tr -d '\n' \
	>"$tmp/v2trunc/build_cache/index.json.hash"
broken v2trunc "truncated" "v2 index truncated (its hash file agreeing)"
mirror v2json v2-mirror
printf 'this is not JSON\n' >"$tmp/v2json/build_cache/index.json"
sha256sum "$tmp/v2json/build_cache/index.json" | cut -d' ' -f1 | tr -d '\n' \
	>"$tmp/v2json/build_cache/index.json.hash"
broken v2json "not a valid Spack index" "v2 index that is not JSON"
mkdir -p "$tmp/empty"
broken empty "no Spack build cache index" "a directory without an index"
broken nowhere "no Spack build cache index" "a directory that does not exist"
[ "$(lines "$history")" -eq 4 ] && ok || not_ok "failed statuses record no history"

run cache status -t "$tmp/ranges.yaml" --url "file://$tmp/v3" -o json
expect_status 0 "status with version ranges"
expect_py "version ranges: 1.1: misses 1.0, 12: hits 12.2.0, :1.0 misses 1.1.0" \
	"[r['hit'] for r in j['requested']] == [False, True, False] and j['requested'][1]['version'] == '12.2.0'"

# --- clear -----------------------------------------------------------------
mirror c3 v3-mirror
touch -d '200 days ago' "$tmp"/c3/v3/manifests/spec/petal-hello/*.spec.manifest.json
run cache clear --url "file://$tmp/c3"
expect_status 2 "clear without --older-than"
run cache clear --older-than soon --url "file://$tmp/c3"
expect_status 2 "clear with a bad age"
expect_in "$tmp/err" "90d" "bad age: the error shows the form"

snapshot "$tmp/c3" >"$tmp/before"
run cache clear --older-than 90d --dry-run --url "file://$tmp/c3"
expect_status 0 "clear --dry-run"
grep -q 'goes .*petal-hello@1.0' "$tmp/out" && ok || not_ok "dry run lists petal-hello as going"
expect_not_in "$tmp/out" "goes   gcc-runtime" "gcc-runtime is not old: it stays"
expect_in "$tmp/out" "nothing was deleted" "dry run says nothing was deleted"
snapshot "$tmp/c3" >"$tmp/after"
cmp -s "$tmp/before" "$tmp/after" && ok || not_ok "clear --dry-run changes nothing"

run cache clear --older-than 90d --dry-run --url "file://$tmp/c3" -o json
expect_py "dry run, json: one victim, 2 kept, nothing deleted" \
	"[v['name'] for v in j['victims']] == ['petal-hello'] and j['kept_specs'] == 2 and j['deleted'] is False and len(j['objects']) == 3"

run cache clear --older-than 90d --url "file://$tmp/c3" -o json
expect_status 0 "clear --older-than 90d"
expect_py "clear: petal-hello gone, 2 specs read back" \
	"j['deleted'] is True and j['specs_after'] == 2 and [v['name'] for v in j['victims']] == ['petal-hello']"
[ ! -e "$tmp"/c3/v3/manifests/spec/petal-hello/*.spec.manifest.json ] && ok || not_ok "its spec manifest is gone"
[ ! -e "$tmp/c3/$v3blob" ] && ok || not_ok "the old index blob is gone"
run cache status -t "$tmp/all.yaml" --url "file://$tmp/c3" -o json
expect_status 0 "status after clear"
expect_py "after clear: 2 specs, petal-hello a miss, the others hits" \
	"j['specs'] == 2 and j['index']['verified'] and [r['hit'] for r in j['requested']] == [False, True, True, False]"
# an independent reading, as Spack would: manifest -> blob, sha256, records
python3 - "$tmp/c3" <<'PY' && ok || not_ok "the new v3 index is consistent (checked by python)"
import hashlib, json, os, sys
root = sys.argv[1]
m = json.load(open(os.path.join(root, 'v3/manifests/index/index.manifest.json')))
d = [x for x in m['data'] if x['mediaType'].startswith('application/vnd.spack.db.')][0]
blob = open(os.path.join(root, 'blobs/sha256', d['checksum'][:2], d['checksum']), 'rb').read()
assert hashlib.sha256(blob).hexdigest() == d['checksum'] and len(blob) == d['contentLength']
db = json.loads(blob)['database']['installs']
cached = sorted(r['spec']['name'] for r in db.values() if r.get('in_buildcache'))
assert cached == ['compiler-wrapper', 'gcc-runtime'], cached
PY
run cache clear --older-than 90d --url "file://$tmp/c3"
expect_status 0 "clear again"
expect_in "$tmp/out" "Nothing is older than 90d" "a second clear finds nothing"

mirror c2 v2-mirror
touch -d '200 days ago' "$tmp"/c2/build_cache/*petal-hello*.spec.json
run cache clear --older-than 30d --url "file://$tmp/c2"
expect_status 0 "clear v2"
expect_in "$tmp/out" "read back: 1 spec, as planned" "v2 clear reads back"
run cache status -t "$tmp/seed.yaml" --url "file://$tmp/c2" -o json
expect_py "v2 after clear: 1 spec, petal-hello a miss" "j['specs'] == 1 and j['hits'] == 0"
python3 - "$tmp/c2" <<'PY' && ok || not_ok "the new v2 index matches its hash file (checked by python)"
import hashlib, json, os, sys
bc = os.path.join(sys.argv[1], 'build_cache')
data = open(os.path.join(bc, 'index.json'), 'rb').read()
assert hashlib.sha256(data).hexdigest() == open(os.path.join(bc, 'index.json.hash')).read().strip()
names = sorted(r['spec']['name'] for r in json.loads(data)['database']['installs'].values() if r.get('in_buildcache'))
assert names == ['gcc-runtime'], names
assert not [f for f in os.listdir(bc) if 'petal-hello' in f]
PY

run cache clear --older-than 1d --url "file://$tmp/badsum"
expect_status 1 "clear refuses a mirror whose index is broken"

# an installation_time that is no date: undated, kept, said so (its spec
# file is old, so dating it by the file instead would clear it)
timed() { # NAME VALUE: the v2 mirror with petal-hello's installation_time VALUE
	mirror "$1" v2-mirror
	python3 - "$tmp/$1/build_cache" "$2" <<'PY' || return 1
import hashlib, os, re, sys
bc, value = sys.argv[1], sys.argv[2]
p = os.path.join(bc, 'index.json')
text = open(p).read()
text, n = re.subn(r'("ebahe7siwdjm75uiqkisg7bnkqkb4z6k"\s*:\s*\{)', r'\1"installation_time":' + value + ',', text)
assert n == 1
open(p, 'w').write(text)
open(p + '.hash', 'w').write(hashlib.sha256(text.encode()).hexdigest())
PY
	touch -d '200 days ago' "$tmp/$1"/build_cache/*petal-hello*.spec.json
}
for t in 1e19 -1e19 1e400 123456789012345678901234567890 0; do
	timed "t$t" "$t" || { not_ok "cannot make the mirror with installation_time $t"; continue; }
	run cache clear --older-than 1d --url "file://$tmp/t$t" -o json
	expect_status 0 "installation_time $t: clear"
	expect_py "installation_time $t: petal-hello kept as undated" \
		"j['victims'] == [] and j['undated'] == 1 and j['kept_specs'] == 1"
	run cache clear --older-than 1d --url "file://$tmp/t$t"
	expect_in "$tmp/out" "1 undated (never cleared)" "installation_time $t: clear says undated"
	[ -e "$tmp/t$t"/build_cache/*petal-hello*.spec.json ] && ok ||
		not_ok "installation_time $t: its spec file stays"
	run cache status --url "file://$tmp/t$t" -o json
	expect_py "installation_time $t: status counts it undated" "j['undated'] == 1 and j['specs'] == 2"
	run cache status --url "file://$tmp/t$t"
	expect_in "$tmp/out" "undated   1 spec whose installation_time is not a date" \
		"installation_time $t: status text says undated"
done
# what clear keeps, counted truthfully, for mixes of old, new and undated
# (v2: petal-hello and gcc-runtime in the cache; "-": no installation_time,
# dated by its spec file, written just now)
mix() { # NAME HELLO-TIME RUNTIME-TIME
	mirror "$1" v2-mirror
	python3 - "$tmp/$1/build_cache" "$2" "$3" <<'PY'
import hashlib, os, re, sys
bc = sys.argv[1]
p = os.path.join(bc, 'index.json')
text = open(p).read()
for h, v in (('ebahe7siwdjm75uiqkisg7bnkqkb4z6k', sys.argv[2]), ('5ac4sesq5gnja3i4ucraplw4u2yoe4q7', sys.argv[3])):
    if v != '-':
        text, n = re.subn(r'("%s"\s*:\s*\{)' % h, r'\1"installation_time":' + v + ',', text)
        assert n == 1
open(p, 'w').write(text)
open(p + '.hash', 'w').write(hashlib.sha256(text.encode()).hexdigest())
PY
}
# NAME HELLO RUNTIME VICTIMS KEPT UNDATED NEEDED
while read -r name hello runtime victims kept undated needed; do
	mix "$name" "$hello" "$runtime" || { not_ok "$name: cannot make the mirror"; continue; }
	run cache clear --older-than 1d --dry-run --url "file://$tmp/$name" -o json
	expect_py "$name: $victims gone, $kept kept newer, $undated undated, $needed needed" \
		"(len(j['victims']), j['kept_specs'], j['undated'], len(j['needed'])) == ($victims, $kept, $undated, $needed)"
	run cache clear --older-than 1d --dry-run --url "file://$tmp/$name"
	if [ "$kept" -eq 0 ] && [ "$undated" -gt 0 ]; then
		expect_not_in "$tmp/out" "newer than the cutoff" "$name: no spec said to be newer"
		expect_in "$tmp/out" "kept      $undated undated (never cleared)" "$name: the undated kept"
	else
		expect_in "$tmp/out" "kept      $kept spec" "$name: the text counts $kept kept"
	fi
done <<'MIXES'
old-undated 1000000000 1e19 1 0 1 0
undated-both 1e19 -1e19 0 0 2 0
new-both - - 0 2 0 0
old-new 1000000000 - 1 1 0 0
MIXES
run cache clear --older-than 1d --url "file://$tmp/old-undated"
expect_status 0 "clear next to an undated spec"
expect_in "$tmp/out" "read back: 1 spec, as planned" "the undated spec is read back as kept"
run cache clear --older-than 400d --url "file://$tmp/old-undated"
expect_status 2 "--older-than above its limit"
expect_in "$tmp/err" "at most 365d" "--older-than above its limit: says the limit"
run cache clear --older-than 400x --url "file://$tmp/old-undated"
expect_in "$tmp/err" "takes an age such as 90d" "a malformed age is not called too long"

# a warning is a warning, not an error
status=0
HOME= XDG_STATE_HOME= "$PETAL_BIN" cache status -t "$tmp/seed.yaml" --url "file://$tmp/v2" \
	>"$tmp/out" 2>"$tmp/err" || status=$?
expect_status 0 "status without a state directory"
expect_in "$tmp/err" "petal: warning: no state directory" "no state directory: a warning"
expect_not_in "$tmp/err" "error" "no state directory: not an error"
# a v2 index listing one hash twice (an old copy and a new one): clear
# refuses it before deleting anything; status counts the spec once and warns
mirror dup v2-mirror
python3 - "$tmp/dup/build_cache" <<'PY' || not_ok "cannot make the index with a duplicate hash"
import hashlib, json, os, re, sys
p = os.path.join(sys.argv[1], 'index.json')
text = open(p).read()
h = 'ebahe7siwdjm75uiqkisg7bnkqkb4z6k'
old = dict(json.loads(text)['database']['installs'][h], installation_time=1000000000)
text, n = re.subn(r'("installs"\s*:\s*\{)', lambda m: m.group(1) + json.dumps(h) + ':' + json.dumps(old) + ',', text)
assert n == 1
open(p, 'w').write(text)
open(p + '.hash', 'w').write(hashlib.sha256(text.encode()).hexdigest())
PY
snapshot "$tmp/dup" >"$tmp/before"
run cache clear --older-than 1d --url "file://$tmp/dup"
expect_status 1 "clear refuses an index with a duplicate hash"
expect_in "$tmp/err" "lists the spec ebahe7siwdjm75uiqkisg7bnkqkb4z6k (petal-hello) twice" \
	"duplicate hash: the error names it"
expect_in "$tmp/err" "deleted nothing" "duplicate hash: says nothing was deleted"
snapshot "$tmp/dup" >"$tmp/after"
cmp -s "$tmp/before" "$tmp/after" && ok || not_ok "duplicate hash: clear changed nothing"
run cache status --url "file://$tmp/dup" -o json
expect_status 0 "status of an index with a duplicate hash"
expect_py "duplicate hash: 2 specs, 3 records, 1 duplicate" \
	"j['specs'] == 2 and j['records'] == 3 and j['duplicate_hashes'] == 1"
expect_in "$tmp/err" "petal: warning:" "duplicate hash: status warns"
expect_in "$tmp/err" "more than once (first: ebahe7siwdjm75uiqkisg7bnkqkb4z6k)" \
	"duplicate hash: the warning names it"
# a real date, as old: it goes, dated by it
timed t2001 1000000000.5
run cache clear --older-than 1d --dry-run --url "file://$tmp/t2001" -o json
expect_py "installation_time 1000000000.5: a victim dated 2001" \
	"[(v['name'], v['time']) for v in j['victims']] == [('petal-hello', 1000000000)] and j['undated'] == 0"

# --- init ---------------------------------------------------------------------
mkdir -p "$tmp/conf"
run cache init --url "file://$tmp/new/deep/mirror" --output-dir "$tmp/conf"
expect_status 0 "init a new file:// mirror"
[ -d "$tmp/new/deep/mirror" ] && ok || not_ok "init created the directory"
[ -z "$(ls -A "$tmp/new/deep/mirror")" ] && ok || not_ok "init left no probe behind"
expect_in "$tmp/out" "spack mirror add --unsigned --type binary petal file://$tmp/new/deep/mirror" \
	"init prints the spack mirror add line"
expect_in "$tmp/conf/mirrors.yaml" "url: \"file://$tmp/new/deep/mirror\"" "mirrors.yaml has the URL"
expect_in "$tmp/conf/mirrors.yaml" "signed: false" "mirrors.yaml: unsigned"
python3 - "$tmp/conf/mirrors.yaml" "file://$tmp/new/deep/mirror" <<'PY' && ok || not_ok "mirrors.yaml parses as Spack's format"
import sys
try:
    import yaml
except ImportError:  # no PyYAML: check the shape line by line
    lines = open(sys.argv[1]).read().splitlines()
    body = [l for l in lines if l and not l.startswith('#')]
    assert body[:2] == ['mirrors:', '  petal:'] and '    url: "%s"' % sys.argv[2] in body, body
    sys.exit(0)
doc = yaml.safe_load(open(sys.argv[1]))
p = doc['mirrors']['petal']
assert p['url'] == sys.argv[2] and p['signed'] is False and p['binary'] is True, p
PY
run cache init --url "file://$tmp/v3" --output-dir "$tmp/conf" -o json
expect_status 0 "init an existing mirror"
expect_py "init json: not empty, the add line" \
	"j['empty'] is False and j['cloud'] == 'local' and j['spack_mirror_add'].endswith('petal file://$tmp/v3')"
touch "$tmp/afile"
run cache init --url "file://$tmp/afile/mirror" --output-dir "$tmp/conf"
expect_status 1 "init under a regular file fails"
expect_in "$tmp/err" "$tmp/afile" "init failure names the path"
run cache init --bucket a/b
expect_status 2 "init --bucket with a slash"
run cache init --prefix x --url "file://$tmp/v3"
expect_status 2 "init --prefix without --bucket"
# a prefix is normalised wherever it is taken: --prefix, an s3:// URL, a seed;
# the request that fails (nothing listens on port 9) shows the key it used
s3env="AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1
	AWS_ENDPOINT_URL_S3=http://127.0.0.1:9 AWS_MAX_ATTEMPTS=1"
(export $s3env; run cache status --url "s3://bkt//caches//bio/"; echo "$status" >"$tmp/rc")
status=$(cat "$tmp/rc")
expect_status 1 "status on an s3:// mirror that does not answer"
expect_in "$tmp/err" "/bkt/caches/bio/v3/manifests/index/" "the URL's prefix normalised"
printf 'cluster: {name: c, region: us-east-1}\nsoftware:\n  spack_packages: [bwa]\n  binary_cache:\n    s3_bucket: bkt\n    s3_prefix: /caches/bioinformatics/\n' >"$tmp/prefix.yaml"
(export $s3env; run cache status -t "$tmp/prefix.yaml"; echo "$status" >"$tmp/rc")
status=$(cat "$tmp/rc")
expect_status 1 "status on the seed's mirror that does not answer"
expect_in "$tmp/err" "/bkt/caches/bioinformatics/v3/manifests/index/" "the seed's prefix normalised"
for bad in a/../b ./a "$(printf 'a\tb')"; do
	run cache init --bucket bkt --prefix "$bad"
	expect_status 2 "--prefix '$bad' refused"
	expect_in "$tmp/err" "is not a key prefix" "--prefix '$bad': the refusal says why"
	run cache status --url "s3://bkt/$bad"
	expect_status 2 "--url s3://bkt/'$bad' refused"
	expect_in "$tmp/err" "cannot be one" "--url s3://bkt/'$bad': the refusal says why"
done
run cache init
expect_status 2 "init without a mirror"

finish
