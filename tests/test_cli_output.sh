#!/bin/sh
# Output, files and processes: output that cannot be written is an error,
# temporary files are exclusive, --render is all or nothing, and text from
# outside reaches the terminal with its control characters escaped.
. "${top_srcdir:?}/tests/lib.sh"
seeds="$top_srcdir/seeds"
subnet=subnet-0123456789abcdef0

# the real Spack mirrors: $PETAL_SHARED_TESTDATA, else shared/testdata above
# the source tree, else /work/shared/testdata (as in test_cache_cli.sh)
data=$(shared_dir)/testdata
if [ -z "$data" ] || [ ! -d "$data/spack-buildcache/v3-mirror" ]; then
	echo "FAIL: the real mirrors (shared/testdata/spack-buildcache) are not found:" \
		"set PETAL_SHARED_TESTDATA" >&2
	exit 1
fi
cp -R "$data/spack-buildcache/v3-mirror" "$tmp/v3"
chmod -R u+w "$tmp/v3"
XDG_STATE_HOME=$tmp/state
export XDG_STATE_HOME

# run_to TARGET ARGS...: like run, but stdout goes to TARGET (/dev/full)
run_to() {
	target=$1
	shift
	status=0
	"$PETAL_BIN" "$@" >"$target" 2>"$tmp/err" || status=$?
}
# run_closed ARGS...: like run, with stdout closed
run_closed() {
	status=0
	"$PETAL_BIN" "$@" >&- 2>"$tmp/err" || status=$?
}

# --- output that cannot be written ------------------------------------------
mkdir "$tmp/mirror"
for args in "plan -t $seeds/hybrid.yaml" "--output json plan -t $seeds/hybrid.yaml" \
	"plan -t $seeds/source.yaml" "plugins list" "plugins list --all" "--help" \
	"--version" "plan --help" "cache status --url file://$tmp/v3" \
	"cache init --url file://$tmp/mirror --output-dir $tmp"; do
	# shellcheck disable=SC2086
	run $args
	expect_status 0 "$args: a normal run exits 0"
	[ -s "$tmp/out" ] && ok || not_ok "$args: prints something (else this test proves nothing)"
	# shellcheck disable=SC2086
	run_to /dev/full $args
	expect_status 1 "$args > /dev/full"
	expect_in "$tmp/err" "petal: error writing standard output: No space left on device" \
		"$args > /dev/full says so"
	# shellcheck disable=SC2086
	run_closed $args
	expect_status 1 "$args >&-"
	expect_in "$tmp/err" "petal: error writing standard output: Bad file descriptor" \
		"$args >&- says so"
done

# a command that fails keeps its own status when its output fails too
run_to /dev/full plan -t "$tmp/does-not-exist.yaml"
expect_status 2 "a failing plan > /dev/full keeps exit 2"

# nothing to print, nothing lost: validate is silent, so a closed stdout is no error
run_closed validate -t "$seeds/hybrid.yaml"
expect_status 0 "validate >&- (prints nothing)"
expect_empty "$tmp/err" "validate >&- says nothing"

# stdout closed at start: no file petal opens lands on descriptor 1
rm -f "$tmp/mirrors.yaml"
run_closed cache init --url "file://$tmp/mirror" --output-dir "$tmp"
expect_status 1 "cache init >&-"
expect_in "$tmp/mirrors.yaml" "mirrors:" "cache init >&- still wrote mirrors.yaml"
expect_not_in "$tmp/mirrors.yaml" "is ready" "mirrors.yaml holds none of the output meant for stdout"
rm -rf "$tmp/state"
run_closed cache status -t "$seeds/hybrid.yaml" --url "file://$tmp/v3"
expect_status 1 "cache status >&-"
if python3 -c "
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)
" "$tmp/state/petal/cache-history.jsonl" 2>"$tmp/pyerr"; then ok; else
	not_ok "cache status >&-: the history holds only JSON lines: $(cat "$tmp/pyerr")"
fi

# --- temporary files: exclusive, never through a symlink ----------------------
# The old name was <file>.tmp.<pid>: plant a symlink there (the shell's pid
# is petal's after exec) and at the file's own name in another run.
mkdir "$tmp/shared"
printf 'precious\n' >"$tmp/victim"
status=0
sh -c 'ln -s "$1" "$2/mirrors.yaml.tmp.$$" && exec "$3" cache init --url "file://$4" --output-dir "$2"' \
	sh "$tmp/victim" "$tmp/shared" "$PETAL_BIN" "$tmp/mirror" >"$tmp/out" 2>"$tmp/err" || status=$?
expect_status 0 "cache init beside a planted symlink"
links=$(find "$tmp/shared" -type l -name 'mirrors.yaml.tmp.*' | wc -l)
[ "$links" -eq 1 ] && ok || not_ok "the planted symlink is still there ($links)"
if [ "$(cat "$tmp/victim")" = precious ]; then ok; else not_ok "the symlink's target was written through"; fi
expect_in "$tmp/shared/mirrors.yaml" "mirrors:" "mirrors.yaml written"
[ ! -L "$tmp/shared/mirrors.yaml" ] && ok || not_ok "mirrors.yaml is a file, not a link"
leftover=$(find "$tmp/shared" -name '*.tmp.*' ! -type l | wc -l)
[ "$leftover" -eq 0 ] && ok || not_ok "no temporary file left beside mirrors.yaml ($leftover)"

# on error (the target is a directory: the rename fails) no temporary file stays
mkdir -p "$tmp/busy/mirrors.yaml"
run cache init --url "file://$tmp/mirror" --output-dir "$tmp/busy"
expect_status 1 "cache init onto a directory named mirrors.yaml"
expect_in "$tmp/err" "mirrors.yaml" "the failure names the file"
leftover=$(find "$tmp/busy" -mindepth 1 ! -path "$tmp/busy/mirrors.yaml" | wc -l)
[ "$leftover" -eq 0 ] && ok || not_ok "no temporary file left after the error: $(ls -A "$tmp/busy")"

# a mirror's objects (cloud local: put, and its write probe) leave no temporary files
find "$tmp/mirror" -name '.petal-*' >"$tmp/left"
expect_empty "$tmp/left" "no .petal-* temporary files left in the mirror"

# --- plan --render DIR: all or nothing -----------------------------------------
render() { run plan -t "$seeds/hybrid.yaml" --subnet-id "$subnet" --render "$@"; }
tree() { (cd "$1" && find . -print | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort); }
no_stage_left() { # no_stage_left PARENT DESCRIPTION
	find "$1" -maxdepth 1 -name '.*.tmp.*' >"$tmp/stages"
	expect_empty "$tmp/stages" "$2: no temporary directory left"
}
mkdir "$tmp/rp"
render "$tmp/rp/new/"
expect_status 0 "render into a new directory"
for f in cluster-config.yaml build-instance.sh node-bootstrap.sh spack.yaml modules.yaml; do
	[ -s "$tmp/rp/new/$f" ] && ok || not_ok "render wrote $f"
done
[ "$(stat -c %a "$tmp/rp/new")" = "$(umask 0022; mkdir "$tmp/rp/probe-mode"; stat -c %a "$tmp/rp/probe-mode")" ] &&
	ok || not_ok "the rendered directory has the usual mode, not mkdtemp's 0700"
rmdir "$tmp/rp/probe-mode"
no_stage_left "$tmp/rp" "render into a new directory"
render "$tmp/rp/new" --key-name other-key
expect_status 0 "render again over a former render"
expect_in "$tmp/rp/new/cluster-config.yaml" "other-key" "the former render is replaced"
no_stage_left "$tmp/rp" "render over a former render"

# a directory with files petal does not render is refused and left as it was
mkdir "$tmp/rp/mine"
echo notes >"$tmp/rp/mine/NOTES"
tree "$tmp/rp/mine" >"$tmp/before"
render "$tmp/rp/mine"
expect_status 2 "render into a directory of someone else's files"
expect_in "$tmp/err" "NOTES" "the refusal names the file"
tree "$tmp/rp/mine" >"$tmp/after"
cmp -s "$tmp/before" "$tmp/after" && ok || not_ok "the directory is unchanged"
no_stage_left "$tmp/rp" "refused render"
# so is a render target that is a directory where a file goes
mkdir -p "$tmp/rp/odd/spack.yaml"
render "$tmp/rp/odd"
expect_status 2 "render where spack.yaml is a directory"
[ -d "$tmp/rp/odd/spack.yaml" ] && [ "$(ls -A "$tmp/rp/odd")" = spack.yaml ] &&
	ok || not_ok "that directory is unchanged"
echo text >"$tmp/rp/file"
render "$tmp/rp/file"
expect_status 2 "render onto a file"
expect_in "$tmp/rp/file" "text" "the file is unchanged"

# a render that fails halfway (the disk fills up after two files): a small
# tmpfs in a private mount namespace; skipped where that cannot be made
small=$tmp/small
mkdir "$small"
if unshare -m sh -c 'mount -t tmpfs -o size=256k petal-test "$1"' sh "$small" 2>/dev/null; then
	unshare -m sh -c '
		small=$1 tmp=$2 seed=$3 subnet=$4
		mount -t tmpfs -o size=256k petal-test "$small" || exit 1
		step() { # step NAME ARGS...: petal, its status and stderr kept in $tmp
			n=$1; shift
			st=0; "$PETAL_BIN" plan -t "$seed" --subnet-id "$subnet" "$@" >/dev/null 2>"$tmp/full-err-$n" || st=$?
			echo "$st" >"$tmp/full-status-$n"
		}
		tree() { (cd "$1" && find . -print | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort); }
		step first --render "$small/r"
		tree "$small/r" >"$tmp/full-before"
		head -c 1048576 /dev/zero >"$small/fill" 2>/dev/null
		truncate -s -8K "$small/fill"
		step over --key-name other-key --render "$small/r"
		tree "$small/r" >"$tmp/full-after"
		step new --render "$small/r2"
		ls -A "$small" >"$tmp/full-ls"
		rm -f "$small/fill"
		step fits --render "$small/r3"
		ls -A "$small" >"$tmp/full-ls-fits"
	' sh "$small" "$tmp" "$seeds/hybrid.yaml" "$subnet"
	[ "$(cat "$tmp/full-status-first")" = 0 ] && ok || not_ok "tmpfs: the first render: $(cat "$tmp/full-err-first")"
	[ "$(cat "$tmp/full-status-over")" = 1 ] && ok || not_ok "tmpfs: a render over a former one on a full disk fails"
	expect_in "$tmp/full-err-over" "No space left on device" "tmpfs: the failure says why"
	cmp -s "$tmp/full-before" "$tmp/full-after" && ok || not_ok "tmpfs: the former render is unchanged"
	[ "$(cat "$tmp/full-status-new")" = 1 ] && ok || not_ok "tmpfs: a new render on a full disk fails"
	expect_in "$tmp/full-err-new" "No space left on device" "tmpfs: the new render's failure says why"
	[ "$(cat "$tmp/full-ls")" = "$(printf 'fill\nr')" ] && ok ||
		not_ok "tmpfs: no partial render, no temporary directory: $(cat "$tmp/full-ls")"
	[ "$(cat "$tmp/full-status-fits")" = 0 ] && [ "$(cat "$tmp/full-ls-fits")" = "$(printf 'r\nr3')" ] && ok ||
		not_ok "tmpfs: with room again, a render succeeds: $(cat "$tmp/full-ls-fits")"
else
	echo "SKIP: a full-disk render (unshare -m and a tmpfs mount are not available here)"
fi

# --- text from outside reaches the terminal escaped -----------------------------
# raw_controls FILE: the C0 controls but \n, DEL and C1 (U+0080..U+009F) in FILE
raw_controls() {
	python3 -c "
import re, sys
d = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
print(len(re.findall(r'[\x00-\x09\x0b-\x1f\x7f\x80-\x9f]', d)))
" "$1"
}
# a mirror's index whose spec version and target carry a title, a clear
# screen, a C1 CSI and DEL
cp -R "$data/spack-buildcache/v2-mirror" "$tmp/evil"
chmod -R u+w "$tmp/evil"
python3 - "$tmp/evil/build_cache/index.json" <<'PY'
import hashlib, json, sys
p = sys.argv[1]
j = json.load(open(p))
for v in j['database']['installs'].values():
    if v['spec']['name'] == 'petal-hello':
        v['spec']['version'] = '1.0\x1b]0;pwned\x07\x1b[2J\u009b\x7f'
        v['spec']['arch']['target']['name'] = 'ice\x1b[31mlake\n  miss  forged'
data = json.dumps(j).encode()
open(p, 'wb').write(data)
open(p + '.hash', 'w').write(hashlib.sha256(data).hexdigest())
PY
cat >"$tmp/evil.yaml" <<'YAML'
cluster: {name: evil, region: eu-west-2}
software:
  spack_packages: [petal-hello]
YAML
run cache status -t "$tmp/evil.yaml" --url "file://$tmp/evil"
expect_status 0 "cache status on a hostile index"
expect_in "$tmp/out" "hit" "the hostile spec is still listed"
[ "$(raw_controls "$tmp/out")" = 0 ] && ok || not_ok "cache status: no raw control characters on stdout"
expect_in "$tmp/out" '1.0\x1b]0;pwned\x07\x1b[2J\u009b\x7f' "cache status shows the version escaped"
expect_in "$tmp/out" 'ice\x1b[31mlake\n  miss  forged' "a colour from outside is escaped too (no terminal)"
if grep -q '^  miss  forged' "$tmp/out"; then not_ok "a newline in the index's words forged a line"; else ok; fi
run --output json cache status -t "$tmp/evil.yaml" --url "file://$tmp/evil"
expect_status 0 "cache status --output json on a hostile index"
[ "$(raw_controls "$tmp/out")" = 0 ] && ok || not_ok "cache status json: no raw control characters"
expect_py "json keeps the version exactly (escaped as JSON)" \
	"any(m.get('version') == '1.0\x1b]0;pwned\x07\x1b[2J\u009b\x7f' for m in j['requested'])"

# a seed's values in validate's messages, and a seed's file name in the plan
cat >"$tmp/evil-seed.yaml" <<'YAML'
cluster:
  name: "x\e]0;pwned\a\e[2J"
  region: us-east-1
software:
  spack_packages: ["samtools\e[2J"]
YAML
run validate -t "$tmp/evil-seed.yaml"
expect_status 2 "validate a seed with control characters"
[ "$(raw_controls "$tmp/err")" = 0 ] && ok || not_ok "validate: no raw control characters on stderr"
expect_in "$tmp/err" "'x\x1b]0;pwned\x07\x1b[2J'" "validate shows the name escaped"
run plan -t "$tmp/evil-seed.yaml"
expect_status 2 "plan a seed with control characters"
[ "$(raw_controls "$tmp/err")" = 0 ] && ok || not_ok "plan: no raw control characters on stderr"
evil_name=$(printf '%s/seed-\033]0;pwned\007\033[2J.yaml' "$tmp")
cp "$seeds/hybrid.yaml" "$evil_name"
run plan -t "$evil_name"
expect_status 0 "plan a seed whose file name has control characters"
[ "$(raw_controls "$tmp/out")" = 0 ] && ok || not_ok "plan text: no raw control characters"
expect_in "$tmp/out" 'seed-\x1b]0;pwned\x07\x1b[2J.yaml' "plan text shows the file name escaped"
run validate -t "$evil_name.missing"
[ "$(raw_controls "$tmp/err")" = 0 ] && ok || not_ok "an error naming the file: no raw control characters"

finish
