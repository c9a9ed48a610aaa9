#!/bin/sh
# petal build-ami end to end: moto_server (EC2, S3; ParallelCluster's images from
# tests/aws/pcluster_amis.json), the instance played by tests/sandbox/instance-standin.sh,
# which runs the user data petal launched with as root in the sandbox, so that petal's own
# user data fetches petal's own build-instance.sh from the run's artifacts and builds with
# the real Spack 1.1.0 of ../shared/peers/spack (offline).
#  - a bake: libhello and hello-app built, status.json and the log in S3, the image made
#    and tagged, the instance terminated;
#  - a spot reclaim once libhello is done: petal launches a second instance, which takes
#    libhello from the checkpoint (the seed's binary cache) and builds only hello-app;
#  - a failing package: named, with its log's last lines; no image, no instance.
. "$top_srcdir/tests/lib.sh"
real_spack_stage
. "$top_srcdir/tests/aws/moto.sh"
standin=$top_srcdir/tests/sandbox/instance-standin.sh
stop_standin() {
	[ -f "$1/standin.pid" ] && kill -TERM "$(cat "$1/standin.pid")" 2>/dev/null
	return 0
}
trap 'for b in "$tmp"/boxes-*; do stop_standin "$b"; done; sleep 1; moto_stop "$tmp/moto" 2>/dev/null; rm -rf "$tmp"' EXIT

real_spack_peer lmod patchelf aws moto_server setsid
python3 -c 'import boto3' 2>/dev/null || { echo "no boto3 for Spack's s3://" >&2; exit 77; }
sandbox_or_skip build

AWS_REGION=us-east-1
AWS_DEFAULT_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
AWS_CONFIG_FILE=$tmp/no-config
AWS_SHARED_CREDENTIALS_FILE=$tmp/no-credentials
export AWS_REGION AWS_DEFAULT_REGION AWS_EC2_METADATA_DISABLED AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN 2>/dev/null || true
# Spack's s3:// through boto3 meets moto's signature checker's known gap (keys with '/'):
# this server checks none (tests/aws/moto.sh)
if ! MOTO_AMIS_PATH=$top_srcdir/tests/aws/pcluster_amis.json moto_start "$tmp/moto" noauth; then
	echo "FAIL: moto_server could not be started" >&2
	exit 1
fi
. "$tmp/moto/moto.env"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export AWS_ENDPOINT_URL_S3="$MOTO_URL" AWS_ENDPOINT_URL_EC2="$MOTO_URL" AWS_ENDPOINT_URL_IAM="$MOTO_URL"
export XDG_STATE_HOME="$tmp/state" PETAL_POLL_S=1 PETAL_REPORT_INTERVAL=2
bucket=petal-real-bake
moto_aws s3 mb "s3://$bucket" >/dev/null || { echo "FAIL: no bucket" >&2; exit 1; }

tar -C "$tmp" -xzf "$peer/spack-1.1.0-offline.tar.gz" builtin-min
# seed NAME PACKAGES [REPO]: a seed baking PACKAGES from the test repository (and REPO),
# for this machine's generic target (its CPU may lack what x86_64_v3 needs)
seed() {
	cat >"$tmp/$1.yaml" <<EOF
cluster: {name: $1, region: us-east-1}
software:
  spack:
    url: file://$peer/spack-1.1.0-offline.tar.gz
    repos:
      - file://$tmp/builtin-min/spack_repo/builtin
      - file://$peer/test-repo/spack_repo/petaltest${3:+
      - file://$3}
    source_mirror: file://$peer/sources
    target: $(uname -m)
  in_ami: [$2]
  binary_cache: {s3_bucket: $bucket, s3_prefix: cache-$1}
  build: {instance_type: c5.2xlarge}
EOF
	run plan -t "$tmp/$1.yaml" --output json
	hash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seed"]["hash"])' "$tmp/out")
}
# standin BOXES ARGS...: the stand-in, for the instances tagged with $hash
standin() {
	box=$1
	shift
	mkdir -p "$box"
	bash "$standin" watch --endpoint "$MOTO_URL" --region us-east-1 \
		--tag "petal:seed-hash=$hash" --box-dir "$box" --poll 1 --timeout 900 "$@" \
		>"$box.out" 2>&1 &
}
running() {
	moto_aws ec2 describe-instances --filters Name=instance-state-name,Values=pending,running \
		"Name=tag:petal:seed-hash,Values=$hash" --query 'Reservations[].Instances[].InstanceId' \
		--output text
}
images() {
	moto_aws ec2 describe-images --owners self --filters "Name=tag:petal:seed-hash,Values=$hash" \
		--query 'Images[].ImageId' --output text
}
status_json() { # the last run's status.json in S3, into $tmp/status.json
	r=$(ls "$XDG_STATE_HOME/petal/runs" | tail -n 1)
	moto_aws s3 cp --only-show-errors \
		"s3://$bucket/cache-$1/petal/runs/$r/ami.image-build/status.json" "$tmp/status.json"
}

# --- the bake
seed bake 'libhello@1.0, hello-app@1.0'
standin "$tmp/boxes-bake"
run build-ami -t "$tmp/bake.yaml" --watch
expect_status 0 "build-ami with the real Spack"
image=$(cat "$tmp/out")
case $image in ami-*) ok ;; *) not_ok "build-ami prints the image, not '$image'" ;; esac
expect_in "$tmp/err" "image $image is available" "the image made"
status_json bake
python3 - "$tmp/status.json" <<'EOF' >"$tmp/why" 2>&1 && ok || not_ok "the build's status.json: $(cat "$tmp/why")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["format"] == "petal-status" and s["state"] == "succeeded", s
assert s["exit_code"] == 0 and s["total"] and s["done"] == s["total"] >= 2, s
EOF
id=$(ls "$tmp/boxes-bake" | grep '^i-' | head -n 1)
if [ "$(cat "$tmp/boxes-bake/$id/result" 2>/dev/null)" = terminated ] ||
	[ "$(cat "$tmp/boxes-bake/$id/exit" 2>/dev/null)" = 0 ]; then ok; else
	not_ok "the machine: $(cat "$tmp/boxes-bake/$id/result" "$tmp/boxes-bake/$id/reason" 2>&1) $(tail -20 "$tmp/boxes-bake/$id/console.log")"
fi
for p in libhello hello-app; do
	if [ -n "$(find "$tmp/boxes-bake/$id/opt/spack/opt" -path "*/$p-1.0-*" -prune 2>/dev/null)" ]; then ok; else
		not_ok "$p is not in the baked tree"
	fi
done
if [ -z "$(running)" ] && [ "$(images)" = "$image" ]; then ok; else
	not_ok "after the bake: running '$(running)', images '$(images)'"
fi
stop_standin "$tmp/boxes-bake"

# --- a spot reclaim once a package is done: a second instance, the checkpoint used
seed reclaim 'libhello@1.0, hello-app@1.0'
standin "$tmp/boxes-reclaim" --interrupt-when-done 1
# the same packages, the same seed hash: the bake's image would be reused
run build-ami -t "$tmp/reclaim.yaml" --watch --force
expect_status 0 "build-ami through a spot reclaim"
expect_in "$tmp/err" "went away" "the reclaim is said"
expect_in "$tmp/err" "relaunching" "the relaunch is said"
status_json reclaim
python3 - "$tmp/status.json" <<'EOF' >"$tmp/why" 2>&1 && ok || not_ok "the relaunched build: $(cat "$tmp/why")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["state"] == "succeeded" and s["from_checkpoint"] >= 1, s
EOF
if [ "$(ls "$tmp/boxes-reclaim" | grep -c '^i-')" -eq 2 ] && [ -z "$(running)" ]; then ok; else
	not_ok "a reclaim: two instances, none left: $(ls "$tmp/boxes-reclaim") running '$(running)'"
fi
stop_standin "$tmp/boxes-reclaim"

# --- a package whose build fails
mkdir -p "$tmp/src/failpkg-1.0" "$tmp/repo/spack_repo/petalfail/packages/failbuild" "$tmp/sources"
{
	printf 'all:\n'
	for i in $(seq -w 1 50); do printf '\t@echo petal-fail-line-%s\n' "$i"; done
	printf '\t@echo "failpkg: this build is meant to fail" >&2\n\t@exit 3\n'
	printf 'install:\n\t@true\n'
} >"$tmp/src/failpkg-1.0/Makefile"
tar -C "$tmp/src" -czf "$tmp/failpkg-1.0.tar.gz" failpkg-1.0
sha=$(sha256sum "$tmp/failpkg-1.0.tar.gz" | cut -d' ' -f1)
printf "repo:\n  namespace: 'petalfail'\n  api: v2.4\n" >"$tmp/repo/spack_repo/petalfail/repo.yaml"
cat >"$tmp/repo/spack_repo/petalfail/packages/failbuild/package.py" <<EOF
from spack_repo.builtin.build_systems.makefile import MakefilePackage
from spack.package import *


class Failbuild(MakefilePackage):
    """A package whose build fails (petal's tests)."""

    homepage = "https://example.invalid/petalfail"
    url = "file://$tmp/failpkg-1.0.tar.gz"

    version("1.0", sha256="$sha")
EOF
seed failing 'failbuild@1.0' "$tmp/repo/spack_repo/petalfail"
standin "$tmp/boxes-fail"
run build-ami -t "$tmp/failing.yaml"
expect_status 1 "build-ami of a failing package"
expect_in "$tmp/err" "failbuild@1.0 did not build" "the failed package is named"
expect_in "$tmp/err" "petal-fail-line-50" "its build log's last lines are shown"
if [ -z "$(running)" ] && [ -z "$(images)" ]; then ok; else
	not_ok "a failed bake left: running '$(running)', images '$(images)'"
fi
stop_standin "$tmp/boxes-fail"
finish
