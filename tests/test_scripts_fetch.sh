#!/bin/sh
# Where Spack, its package repositories and the sources come from, through petal's rendered
# scripts and the real Spack 1.1.0 of ../shared/peers/spack (offline), in the sandbox of
# tests/sandbox/run-as-node.sh.  A Spack tarball that is not one (or is not there) fails the
# build with a clear message and leaves nothing in /tmp.  Spack from a local git repository
# at a commit, one package repository from a git repository at a tag and another from a
# tarball on moto's S3 build libhello; then the seed's file:// sources uploaded to moto by
# petal_render_upload_all (tests/test_uploads upload) and the build run again with
# PETAL_ARTIFACTS set and the file:// paths gone from the machine: it still builds.
. "$top_srcdir/tests/lib.sh"
real_spack_stage
. "$top_srcdir/tests/aws/moto.sh"
trap 'moto_stop "$tmp/moto" 2>/dev/null; rm -rf "$tmp"' EXIT
# PETAL_TEST_KEEP=1: the machines are kept in $tmp, to look at
[ -n "${PETAL_TEST_KEEP:-}" ] && trap 'moto_stop "$tmp/moto" 2>/dev/null; echo "kept $tmp" >&2' EXIT

real_spack_peer patchelf git aws moto_server
python3 -c 'import boto3' 2>/dev/null || { echo "no boto3 for Spack's s3://" >&2; exit 77; }

sandbox_or_skip build
# the machine's own /tmp: what the scripts wrote there and left
# (but the test's own directory, where a machine removed the seed's file:// paths)
leftovers() { ls -A "$1/.disk/upper/tmp" 2>/dev/null | grep -vx "$(basename "$tmp")" || :; }

# --- a Spack tarball without bin/spack, then one that is not there
mkdir -p "$tmp/notspack/share"
echo "not Spack" >"$tmp/notspack/share/README"
tar -C "$tmp" -cf "$tmp/notspack.tar" notspack
for url in "file://$tmp/notspack.tar" "file://$tmp/missing.tar"; do
	box=$tmp/box-$(basename "$url" .tar)
	cat >"$tmp/bad.yaml" <<EOS
cluster: {name: real-spack, region: us-east-1}
network: {subnet_id: subnet-0123456789abcdef0}
software:
  spack: {url: '$url'}
  in_ami: [libhello@1.0]
EOS
	run plan -t "$tmp/bad.yaml" --render "$tmp/bad"
	expect_status 0 "render with software.spack.url $url"
	PETAL_REPORT_URL= run_box build "$box" bash "$tmp/bad/build-instance.sh"
	if [ "$status" -ne 0 ]; then ok; else not_ok "$url: build-instance.sh fails"; fi
	case $url in
	*notspack*) expect_in "$tmp/out" "petal: no bin/spack in $url" "$url: said" ;;
	*) expect_in "$tmp/out" "petal: could not fetch Spack from $url" "$url: said" ;;
	esac
	if [ -z "$(leftovers "$box")" ]; then ok; else
		not_ok "$url: nothing left in /tmp ($(leftovers "$box"))"
	fi
	if [ ! -e "$box/opt/spack/bin/spack" ]; then ok; else not_ok "$url: no Spack installed"; fi
done

# --- Spack from git at a commit, repositories from git at a tag and from a tarball on S3
if ! moto_start "$tmp/moto" noauth; then
	echo "FAIL: moto_server could not be started" >&2
	exit 1
fi
. "$tmp/moto/moto.env"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$tmp/no-config" AWS_SHARED_CREDENTIALS_FILE="$tmp/no-credentials"
export PETAL_S3_ENDPOINT="$MOTO_URL" AWS_ENDPOINT_URL="$MOTO_URL" AWS_ENDPOINT_URL_S3="$MOTO_URL"
export XDG_STATE_HOME="$tmp/state"
moto_aws s3 mb s3://petal-fetch >/dev/null || { echo "FAIL: no bucket" >&2; exit 1; }
export SPACK_PYTHON=/usr/bin/python3 SPACK_USER_CONFIG_PATH=/root/.spack-petal-test
export SPACK_USER_CACHE_PATH=/root/.spack-petal-test-cache
commit() { git -C "$1" -c user.name=petal -c user.email=petal@localhost commit -qm "$2"; }

# Spack's release as a git repository; a later commit the seed's commit id must not see
tar -C "$tmp" -xzf "$peer/spack-1.1.0-offline.tar.gz"
mv "$tmp/spack" "$tmp/spack.git"
# (-f: Spack's .gitignore leaves out etc/spack/include.yaml, which its repository tracks)
git -C "$tmp/spack.git" init -q && git -C "$tmp/spack.git" add -A -f && commit "$tmp/spack.git" v1.1.0
spack_commit=$(git -C "$tmp/spack.git" rev-parse HEAD)
echo later >"$tmp/spack.git/LATER" && git -C "$tmp/spack.git" add LATER && commit "$tmp/spack.git" later
# the test repository at tag v1, then a commit that breaks it
mkdir -p "$tmp/petaltest.git"
cp -a "$peer/test-repo/." "$tmp/petaltest.git/"
git -C "$tmp/petaltest.git" init -q && git -C "$tmp/petaltest.git" add -A &&
	commit "$tmp/petaltest.git" v1 && git -C "$tmp/petaltest.git" tag v1
git -C "$tmp/petaltest.git" rm -q -r spack_repo/petaltest/packages/libhello &&
	commit "$tmp/petaltest.git" "no libhello"
# the builtin repository as a tarball on S3, its repo.yaml under builtin/
tar -C "$tmp/builtin-min/spack_repo" -czf "$tmp/builtin.tar.gz" builtin
moto_aws s3 cp --only-show-errors "$tmp/builtin.tar.gz" s3://petal-fetch/repos/builtin.tar.gz
cat >"$tmp/git.yaml" <<EOS
cluster: {name: real-spack, region: us-east-1}
network: {subnet_id: subnet-0123456789abcdef0}
software:
  spack:
    git: 'file://$tmp/spack.git'
    ref: $spack_commit
    repos:
      - {name: builtin, url: 's3://petal-fetch/repos/builtin.tar.gz'}
      - {name: petaltest, git: 'file://$tmp/petaltest.git', ref: v1}
    source_mirror: 'file://$peer/sources'
    target: x86_64
  in_ami: [libhello@1.0]
EOS
run plan -t "$tmp/git.yaml" --render "$tmp/git"
expect_status 0 "render with Spack and a repository from git"
if ! command -v shellcheck >/dev/null 2>&1 ||
	shellcheck "$tmp/git/build-instance.sh" "$tmp/git/node-bootstrap.sh" >"$tmp/sc" 2>&1; then
	ok
else
	not_ok "the scripts of git sources pass shellcheck: $(head -20 "$tmp/sc")"
fi
built() { # BOX DESCRIPTION: libhello installed in the image's tree, and the build said so
	expect_in "$1/var/log/petal-build.log" "petal: build succeeded for seed" "$2: finished"
	if [ -n "$(find "$1/opt/spack/opt" -path '*libhello*/lib/libhello.so' 2>/dev/null)" ]; then
		ok
	else
		not_ok "$2: libhello installed ($(tail -5 "$1/var/log/petal-build.log"))"
	fi
	repo=$1/opt/spack/var/petal/repos/spack_repo
	if [ -f "$repo/petaltest/repo.yaml" ] && [ -f "$repo/builtin/repo.yaml" ] &&
		[ -d "$repo/petaltest/packages/libhello" ]; then ok; else
		not_ok "$2: repositories petaltest (at v1) and builtin in $repo"
	fi
	if [ ! -e "$1/opt/spack/LATER" ]; then ok; else not_ok "$2: Spack at the seed's commit"; fi
	# (Spack's stages are its own, in /tmp/root)
	if ! leftovers "$1" | grep -q '^petal-'; then ok; else
		not_ok "$2: petal left nothing in /tmp ($(leftovers "$1"))"
	fi
}
# (in the background, beside the artifacts run below: the two builds share the wall time)
PETAL_REPORT_URL= sh "$sandbox" build "$tmp/box-git" bash "$tmp/git/build-instance.sh" \
	>"$tmp/git.out" 2>"$tmp/git.err" &
git_pid=$!

# --- the same seed from the artifacts only: its file:// sources uploaded, then gone
"$top_builddir/tests/test_uploads" upload "$tmp/git.yaml" s3://petal-fetch/runs/r1 >"$tmp/up" 2>&1
status=$?
expect_status 0 "test_uploads upload: $(cat "$tmp/up")"
for name in spack/spack.tar repos/petaltest.tar source-mirror/; do
	expect_in "$tmp/up" "$name" "uploads: $name"
done
expect_not_in "$tmp/up" "repos/builtin" "uploads: not the s3:// repository"
moto_aws s3 ls --recursive s3://petal-fetch/runs/r1/ >"$tmp/ls" 2>&1
expect_in "$tmp/ls" "runs/r1/source-mirror/_source-cache/archive/" "uploads: the mirror, object by object"
# inside the machine the seed's file:// paths are removed (from its overlay only)
cat >"$tmp/gone.sh" <<'EOS'
rm -rf "$1" "$2" "$3"
for p in "$1" "$2" "$3"; do
	if [ -e "$p" ]; then echo "still there: $p" >&2; exit 9; fi
done
exec bash "$4"
EOS
PETAL_ARTIFACTS=s3://petal-fetch/runs/r1/ PETAL_REPORT_URL= run_box build "$tmp/box-art" \
	sh "$tmp/gone.sh" "$tmp/spack.git" "$tmp/petaltest.git" "$peer/sources" \
	"$tmp/git/build-instance.sh"
expect_status 0 "build-instance.sh from the artifacts"
built "$tmp/box-art" "artifacts"
status=0
wait "$git_pid" || status=$?
cp "$tmp/git.out" "$tmp/out"
cp "$tmp/git.err" "$tmp/err"
expect_status 0 "build-instance.sh with git sources"
built "$tmp/box-git" "git sources"
head=$(git -C "$tmp/box-git/opt/spack" rev-parse HEAD 2>/dev/null || :)
if [ "$head" = "$spack_commit" ]; then ok; else not_ok "git: Spack checked out at $spack_commit, not '$head'"; fi
if [ -e "$peer/sources" ] && [ -d "$tmp/spack.git/.git" ]; then ok; else
	not_ok "the host's files are untouched by the machine's removal"
fi
if [ ! -e "$tmp/box-art/opt/spack/.git" ]; then ok; else not_ok "artifacts: Spack from the archive, not a clone"; fi
finish
