#!/bin/sh
# petal build-ami, resume, logs and gc against moto_server (EC2 and S3, signatures
# checked, ParallelCluster's images from tests/aws/pcluster_amis.json).  The machine's
# side of the protocol (status.json and build.log under the run's artifacts, doc/run.md)
# is played here by `machine`, a loop that answers for every instance petal launched;
# tests/test_build_ami_real.sh runs the real user data and build script instead.
# Shown: the image and its tags, the seed written back byte for byte, reuse, a failed
# package, --on-error abort and gc, a timeout, Ctrl-C, --detach with logs and resume,
# and kill -9 of petal at every journal record followed by resume, and by gc: afterwards
# no instance runs and no half-made image is registered.  The instance's identity (IAM role
# and instance profile petal-build-RUN, scoped to the run's prefix and the cache) lives as
# long as the instance, or is the seed's software.build.instance_profile.
. "${top_srcdir:?}/tests/lib.sh"
heavy_test
. "$top_srcdir/tests/aws/moto.sh"

AWS_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
AWS_CONFIG_FILE=$tmp/no-config
AWS_SHARED_CREDENTIALS_FILE=$tmp/no-credentials
export AWS_REGION AWS_EC2_METADATA_DISABLED AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_EC2 AWS_ENDPOINT_URL_IAM AWS_PROFILE \
	AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY 2>/dev/null || true
export XDG_STATE_HOME="$tmp/state" PETAL_POLL_S=0.2

machine_pid=
cleanup() {
	[ -n "$machine_pid" ] && kill "$machine_pid" 2>/dev/null
	moto_stop "$tmp/moto" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# --- usage: each a clear error and exit 2, before anything is asked of the cloud
cat >"$tmp/noami.yaml" <<'EOF'
cluster: {name: noami, region: us-east-1}
software:
  spack_packages: [samtools@1.17]
EOF
for args in "--spot --on-demand" "--watch --detach" "--on-error keep" "--timeout soon" \
	"--build-instance huge"; do
	# shellcheck disable=SC2086 # the flags are words
	run build-ami -t "$tmp/noami.yaml" $args
	expect_status 2 "build-ami $args"
	if grep -q "petal: " "$tmp/err"; then ok; else not_ok "build-ami $args: no message"; fi
done
# a seed with nothing for the image: said before any cloud is asked (none is running yet)
run build-ami -t "$tmp/noami.yaml"
expect_status 2 "build-ami of a seed without image packages"
expect_in "$tmp/err" "puts no package in the image" "build-ami says there is nothing to bake"
run build-ami
expect_status 2 "build-ami without a seed"
expect_in "$tmp/err" "build-ami needs a seed" "build-ami without a seed says so"

if ! MOTO_AMIS_PATH=$top_srcdir/tests/aws/pcluster_amis.json moto_start "$tmp/moto"; then
	echo "FAIL: moto_server could not be started" >&2
	exit 1
fi
. "$tmp/moto/moto.env"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export AWS_ENDPOINT_URL_S3="$MOTO_URL" AWS_ENDPOINT_URL_EC2="$MOTO_URL" AWS_ENDPOINT_URL_IAM="$MOTO_URL"
bucket=petal-build-test
moto_aws s3 mb "s3://$bucket" >/dev/null || { echo "FAIL: no bucket" >&2; exit 1; }

# A seed full of comments, odd spacing and flow style: --save-to-template changes one value.
cat >"$tmp/seed.yaml" <<EOF
# the lab's image  (comments, odd spacing and flow style are kept)
cluster:   {name: bake-test,   region: us-east-1}   # flow
software:
    in_ami:     [ libhello@1.0 ]     # the image's one package
    binary_cache:
        s3_bucket:   $bucket   # the cache
        s3_prefix: "spack"
# the end
EOF
cp "$tmp/seed.yaml" "$tmp/seed.orig"
run plan -t "$tmp/seed.yaml" --output json
expect_status 0 "plan of the seed"
instance_type=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print([s for s in j["steps"] if s["id"]=="ami.image-build"][0]["action"]["instance_type"])' "$tmp/out")

# machine MODE: play every build instance petal launches (tagged petal:run), once each
# (tests/aws/machine.py: ok, fail, hold)
machine() {
	python3 "$top_srcdir/tests/aws/machine.py" "$MOTO_URL" "$bucket" spack "$1" "$tmp/played" \
		2>>"$tmp/machine.log" &
	machine_pid=$!
}
machine_stop() {
	[ -n "$machine_pid" ] && kill "$machine_pid" 2>/dev/null
	wait "$machine_pid" 2>/dev/null
	machine_pid=
}
# running: instances of run $1 (all runs without) in pending or running
running() {
	moto_aws ec2 describe-instances --filters Name=instance-state-name,Values=pending,running \
		${1:+Name=tag:petal:run,Values=$1} --query 'Reservations[].Instances[].InstanceId' --output text
}
# images of run $1
images() {
	moto_aws ec2 describe-images --owners self --filters "Name=tag:petal:run,Values=$1" \
		--query 'Images[].ImageId' --output text
}
last_run() { ls "$XDG_STATE_HOME/petal/runs" | tail -n 1; }
# roles_left: the petal-build-* roles and instance profiles in moto (IAM is global: all runs')
roles_left() {
	moto_aws iam list-roles --output text \
		--query 'Roles[?starts_with(RoleName, `petal-build-`)].RoleName'
	moto_aws iam list-instance-profiles --output text \
		--query 'InstanceProfiles[?starts_with(InstanceProfileName, `petal-build-`)].InstanceProfileName'
}

# --- a build: the image, its tags, the instance gone, the seed written back
machine ok
run build-ami -t "$tmp/seed.yaml" --watch --save-to-template
machine_stop
expect_status 0 "build-ami"
image=$(cat "$tmp/out")
r1=$(last_run)
case $image in ami-*) ok ;; *) not_ok "build-ami prints the image id, not '$image'" ;; esac
expect_in "$tmp/err" "1 of 2 packages" "--watch shows package k of n"
expect_in "$tmp/err" "image $image is available" "build-ami waits for the image"
expect_in "$tmp/err" "identity: petal-build-$r1 (made for this run: s3://$bucket/spack/petal/runs/$r1/ and s3://$bucket/spack)" \
	"build-ami says which identity the instance has"
expect_in "$tmp/err" "identity petal-build-$r1 deleted" "build-ami says the identity is deleted"
left=$(roles_left)
if [ -z "$left" ]; then ok; else not_ok "a build left roles or profiles: $left"; fi
moto_aws ec2 describe-images --image-ids "$image" >"$tmp/img.json"
python3 - "$tmp/img.json" "$r1" <<'EOF' >"$tmp/why" 2>&1 && ok || not_ok "the image's tags: $(cat "$tmp/why")"
import json, sys
img = json.load(open(sys.argv[1]))["Images"][0]
tags = {t["Key"]: t["Value"] for t in img.get("Tags", [])}
want = {"parallelcluster:version": "3.11.1", "parallelcluster:build_status": "available",
        "parallelcluster:os": "alinux2023", "petal:seed": "bake-test", "petal:run": sys.argv[2],
        "petal:spack-version": "1.1.0", "petal:packages": "libhello@1.0"}
for k, v in want.items():
    assert tags.get(k) == v, (k, tags.get(k), v)
assert len(tags["petal:seed-hash"]) == 64, tags
assert img["Name"].startswith("petal-"), img["Name"]
EOF
# its snapshots carry the same tags (CreateImage's reach the image only)
snaps=$(moto_aws ec2 describe-images --image-ids "$image" \
	--query 'Images[0].BlockDeviceMappings[].Ebs.SnapshotId' --output text)
# shellcheck disable=SC2086 # the ids are words
moto_aws ec2 describe-snapshots --snapshot-ids $snaps >"$tmp/snaps.json" 2>"$tmp/why"
python3 - "$tmp/snaps.json" "$tmp/img.json" <<'EOF' >>"$tmp/why" 2>&1 && ok || not_ok "the image's snapshots' tags: $(cat "$tmp/why")"
import json, sys
snaps = json.load(open(sys.argv[1]))["Snapshots"]
img = json.load(open(sys.argv[2]))["Images"][0]
want = {t["Key"]: t["Value"] for t in img["Tags"]}
assert snaps, "no snapshot"
for s in snaps:
    got = {t["Key"]: t["Value"] for t in s.get("Tags", [])}
    for k in ("petal:seed-hash", "petal:run", "parallelcluster:version", "parallelcluster:os"):
        assert got.get(k) == want[k], (s["SnapshotId"], k, got.get(k), want[k])
EOF
# ParallelCluster's own checks of a custom AMI (CustomAmiTagValidator, AmiOsCompatibleValidator,
# 3.11.1 from ../shared/peers/pcluster) pass on the image, asking moto; on ParallelCluster's
# untagged base image they do not (so the check can fail)
pcheck() {
	/usr/bin/python3 "$top_srcdir/tests/aws/pcluster_ami_check.py" "$(shared_dir)/peers/pcluster" \
		"$MOTO_URL" "$AWS_REGION" alinux2023 "$1" >"$tmp/pcheck" 2>&1
}
if pcheck "$image"; then ok; else not_ok "ParallelCluster refuses the image: $(cat "$tmp/pcheck")"; fi
base_id=$(moto_aws ec2 describe-instances --filters "Name=tag:petal:run,Values=$r1" \
	--query 'Reservations[0].Instances[0].ImageId' --output text)
if pcheck "$base_id"; then not_ok "ParallelCluster's check passes an untagged image ($base_id)"
else expect_in "$tmp/pcheck" "CustomAmiTagValidator" "ParallelCluster's check names what it refused"; fi
# the instance: launched from ParallelCluster's image for 3.11.1, alinux2023, x86_64, the
# newest available of the matching ones, with the plan's type, spot, IMDSv2; terminated now
moto_aws ec2 describe-instances --filters "Name=tag:petal:run,Values=$r1" >"$tmp/inst.json"
moto_aws ec2 describe-images --owners amazon \
	--filters 'Name=name,Values=aws-parallelcluster-3.11.1-amzn2023-hvm-x86_64*' >"$tmp/base.json"
python3 - "$tmp/inst.json" "$tmp/base.json" "$instance_type" <<'EOF' >"$tmp/why" 2>&1 && ok || not_ok "the build instance: $(cat "$tmp/why")"
import json, sys
insts = [i for r in json.load(open(sys.argv[1]))["Reservations"] for i in r["Instances"]]
assert len(insts) == 1, insts
i = insts[0]
# the newest available x86_64 one (the file holds a pending and an arm64 trap, newer)
base = sorted([b for b in json.load(open(sys.argv[2]))["Images"]
               if b["State"] == "available" and b["Architecture"] == "x86_64"],
              key=lambda x: x["CreationDate"])[-1]
assert i["ImageId"] == base["ImageId"], (i["ImageId"], base["ImageId"], base["Name"])
assert i["InstanceType"] == sys.argv[3], i["InstanceType"]
assert i["State"]["Name"] == "terminated", i["State"]
assert i.get("InstanceLifecycle") == "spot", i.get("InstanceLifecycle")
assert i["MetadataOptions"]["HttpTokens"] == "required", i["MetadataOptions"]
EOF
# every byte of the seed is kept; the one value is added (compute.custom_ami)
python3 - "$tmp/seed.orig" "$tmp/seed.yaml" "$image" <<'EOF' >"$tmp/why" 2>&1 && ok || not_ok "--save-to-template: $(cat "$tmp/why")"
import sys
old, new, image = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3]
added = [l for l in new.splitlines() if l not in old.splitlines()]
assert [l.strip() for l in added] == ["compute:", "custom_ami: " + image], added
kept = "".join(l for l in new.splitlines(True) if l.strip() not in ("compute:", "custom_ami: " + image))
assert kept == old, (kept, old)
EOF
run validate "$tmp/seed.yaml"
expect_status 0 "the seed written back is valid"
run runs "$r1" --output json
expect_py "the run succeeded, holding nothing" \
	"j['run']['state'] == 'succeeded' and j['run']['resources_held'] == []"

# --- reuse: the image of this seed hash is there; nothing is launched
cp "$tmp/seed.orig" "$tmp/seed.yaml"
before=$(moto_aws ec2 describe-instances --query 'length(Reservations[])')
run build-ami -t "$tmp/seed.yaml"
expect_status 0 "build-ami again"
expect_in "$tmp/out" "$image" "build-ami again: the same image"
expect_in "$tmp/err" "nothing to build" "build-ami again: says it reuses"
after=$(moto_aws ec2 describe-instances --query 'length(Reservations[])')
if [ "$before" = "$after" ]; then ok; else not_ok "reuse launched an instance ($before -> $after)"; fi

# --- a failed package: named with its log's end; no instance, no image
machine fail
run build-ami -t "$tmp/seed.yaml" --force
machine_stop
r2=$(last_run)
expect_status 1 "a failed build"
expect_in "$tmp/err" "libhello@1.0 did not build" "the failed package is named"
expect_in "$tmp/err" "hello.c:3: error: expected ;" "its log's last lines are shown"
if [ -z "$(running "$r2")" ] && [ -z "$(images "$r2")" ] && [ -z "$(roles_left)" ]; then ok; else
	not_ok "a failed build left: $(running "$r2") $(images "$r2") $(roles_left)"
fi

# --- --on-error abort: the instance is kept, and the one command that removes it works
machine fail
run build-ami -t "$tmp/seed.yaml" --force --on-error abort
machine_stop
r3=$(last_run)
expect_status 1 "a failed build, --on-error abort"
expect_in "$tmp/err" "petal gc --run $r3" "abort prints the command that removes the instance"
if [ -n "$(running "$r3")" ]; then ok; else not_ok "--on-error abort kept no instance"; fi
# the kept instance keeps its identity, until gc
if [ "$(roles_left)" = "petal-build-$r3
petal-build-$r3" ]; then ok; else not_ok "--on-error abort: roles and profiles '$(roles_left)'"; fi
run gc --run "$r3"
expect_status 0 "gc --run"
if [ -z "$(running "$r3")" ]; then ok; else not_ok "gc left $(running "$r3")"; fi
left=$(roles_left)
if [ -z "$left" ]; then ok; else not_ok "gc --run left roles or profiles: $left"; fi

# --- a timeout: a build that never reports its end fails, and is cleaned up
# (with software.build.instance_profile: that one is used, and no role is made)
sed 's/^# the end$/    build: {instance_profile: lab-builder}/' "$tmp/seed.orig" >"$tmp/seed-profile.yaml"
moto_aws iam create-role --role-name lab-builder --assume-role-policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
moto_aws iam create-instance-profile --instance-profile-name lab-builder >/dev/null
moto_aws iam add-role-to-instance-profile --instance-profile-name lab-builder --role-name lab-builder
# (moto forgets a terminated instance's profile: it is read while the instance runs)
instance_arn() { # of run $1's live instance
	moto_aws ec2 describe-instances --filters Name=instance-state-name,Values=pending,running \
		"Name=tag:petal:run,Values=$1" --output text \
		--query 'Reservations[].Instances[].IamInstanceProfile.Arn'
}
machine hold
"$PETAL_BIN" build-ami -t "$tmp/seed-profile.yaml" --force --timeout 40 >"$tmp/out" 2>"$tmp/err" &
pid=$!
n=0
# the profile as the running instance carries it (moto forgets it at termination): asked
# until it is there, within the build's 40 s (long enough on a loaded machine)
arn=
while [ -z "$arn" ] && kill -0 "$pid" 2>/dev/null && [ $n -lt 150 ]; do
	sleep 0.2
	arn=$(instance_arn "$(last_run)")
	n=$((n + 1))
done
status=0
wait "$pid" || status=$?
machine_stop
r4=$(last_run)
expect_status 1 "a build past its timeout"
expect_in "$tmp/err" "identity: lab-builder (software.build.instance_profile)" \
	"the seed's instance profile is said"
case $arn in *:instance-profile/lab-builder) ok ;; *) not_ok "the seed's profile: running with '$arn'" ;; esac
if grep -q '"access_create"' "$XDG_STATE_HOME/petal/runs/$r4/journal.jsonl"; then
	not_ok "a seed with instance_profile made an identity"; else ok; fi
expect_in "$tmp/err" "past its timeout" "the timeout is said"
if [ -z "$(running "$r4")" ]; then ok; else not_ok "the timeout left $(running "$r4")"; fi

# --- Ctrl-C: the first SIGINT releases the instance and says so; exit 130
machine hold
"$PETAL_BIN" build-ami -t "$tmp/seed.yaml" --force >"$tmp/out" 2>"$tmp/err" &
pid=$!
n=0
while [ -z "$(running)" ] && [ $n -lt 100 ]; do sleep 0.2; n=$((n + 1)); done
# while it builds: the run's role and profile, its policy naming the run's prefix and the cache
r5=$(last_run)
arn=$(instance_arn "$r5")
case $arn in *:instance-profile/petal-build-"$r5") ok ;; *) not_ok "the instance runs with '$arn', not petal-build-$r5" ;; esac
moto_aws iam get-role-policy --role-name "petal-build-$r5" --policy-name petal-objects \
	>"$tmp/policy.json" 2>"$tmp/why"
moto_aws iam list-instance-profiles-for-role --role-name "petal-build-$r5" \
	--query 'InstanceProfiles[].InstanceProfileName' --output text >"$tmp/profiles" 2>>"$tmp/why"
python3 - "$tmp/policy.json" "$tmp/profiles" "$bucket" "$r5" <<'EOF' >>"$tmp/why" 2>&1 && ok || not_ok "the run's role while it builds: $(cat "$tmp/why")"
import json, sys
doc, profiles, bucket, run = json.load(open(sys.argv[1]))["PolicyDocument"], open(sys.argv[2]).read().split(), sys.argv[3], sys.argv[4]
assert profiles == ["petal-build-" + run], profiles
st = doc["Statement"]
objects = ["arn:aws:s3:::%s/spack/petal/runs/%s/*" % (bucket, run), "arn:aws:s3:::%s/spack/*" % bucket]
assert st[0]["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], st[0]
assert st[0]["Resource"] == objects, st[0]["Resource"]
lists = [(s["Action"], s["Resource"], s["Condition"]["StringLike"]["s3:prefix"]) for s in st[1:]]
assert lists == [("s3:ListBucket", "arn:aws:s3:::" + bucket, ["spack/petal/runs/%s/*" % run]),
                 ("s3:ListBucket", "arn:aws:s3:::" + bucket, ["spack/*"])], lists
EOF
sleep 1
kill -INT "$pid"
status=0
wait "$pid" || status=$?
machine_stop
r5=$(last_run)
expect_status 130 "build-ami interrupted"
expect_in "$tmp/err" "interrupted" "the interruption is said"
if [ -z "$(running "$r5")" ] && [ -z "$(roles_left)" ]; then ok; else
	not_ok "Ctrl-C left $(running "$r5") $(roles_left)"; fi
run runs "$r5" --output json
expect_py "an interrupted run is cancelled" "j['run']['state'] == 'cancelled'"

# --- --detach, logs, resume
run build-ami -t "$tmp/seed.yaml" --force --detach
expect_status 0 "build-ami --detach"
r6=$(cat "$tmp/out")
if [ "$r6" = "$(last_run)" ] && [ -n "$(running "$r6")" ] &&
	moto_aws iam get-instance-profile --instance-profile-name "petal-build-$r6" >/dev/null; then ok; else
	not_ok "--detach prints the run ($r6) and leaves its instance building, with its identity"
fi
run runs "$r6" --output json
expect_py "a detached run says so" "j['run']['state'] == 'detached'"
run logs "$r6"
expect_status 1 "logs before the machine wrote one"
expect_in "$tmp/err" "no build log yet" "logs says there is none yet"
machine ok
n=0
until moto_aws s3api head-object --bucket "$bucket" \
	--key "spack/petal/runs/$r6/ami.image-build/status.json" >/dev/null 2>&1 ||
	[ $n -ge 50 ]; do sleep 0.2; n=$((n + 1)); done
run logs "$r6" --follow
expect_status 0 "logs --follow to the end"
expect_in "$tmp/out" "==> Installing libhello-1.0" "logs: the build log"
run resume "$r6"
machine_stop
expect_status 0 "resume a detached run"
image6=$(cat "$tmp/out")
case $image6 in ami-*) ok ;; *) not_ok "resume prints the image, not '$image6'" ;; esac
if [ -z "$(running "$r6")" ] && [ "$(images "$r6")" = "$image6" ] && [ -z "$(roles_left)" ]; then ok; else
	not_ok "after resume: running '$(running "$r6")', images '$(images "$r6")', roles '$(roles_left)'"
fi
run resume "$r6"
expect_status 0 "resume of an ended run"
expect_in "$tmp/err" "nothing to resume" "resume of an ended run says so"
run resume r-20990101-000000-abcd
expect_status 1 "resume of no such run"

# --- kill -9 at every journal record, then resume (and separately gc): afterwards no
# instance runs and no image is half-made; a resumed run ends with exactly one image
kill_at() { # kill_at N: petal build-ami, killed -9 once its journal has N records
	prev=$(last_run)
	"$PETAL_BIN" build-ami -t "$tmp/seed.yaml" --force >/dev/null 2>&1 &
	kpid=$!
	k=0
	while kill -0 "$kpid" 2>/dev/null && [ $k -lt 1500 ]; do
		cur=$(last_run)
		j=$XDG_STATE_HOME/petal/runs/$cur/journal.jsonl
		if [ "$cur" != "$prev" ] && [ -f "$j" ] && [ "$(grep -c '' "$j")" -ge "$1" ]; then
			kill -9 "$kpid"
			break
		fi
		sleep 0.02
		k=$((k + 1))
	done
	wait "$kpid" 2>/dev/null
	last_run
}
machine ok
n_records=$(grep -c '' "$XDG_STATE_HOME/petal/runs/$r1/journal.jsonl")
# PETAL_MATRIX_STRIDE=K kills at every K-th record only (the sanitizer stage: the gcc stage
# has run the whole matrix)
for n in $(seq 1 "${PETAL_MATRIX_STRIDE:-1}" $((n_records - 1))); do
	rk=$(kill_at "$n")
	run resume "$rk"
	if grep -q "already ended" "$tmp/err"; then
		# killed after its end was written: then it ended with its image
		if [ "$status" -eq 0 ] && [ -z "$(running "$rk")" ] && [ -n "$(images "$rk")" ]; then ok; else
			not_ok "kill -9 at record $n: ended, but running '$(running "$rk")', images '$(images "$rk")'"
		fi
	elif [ "$status" -eq 0 ]; then
		if [ -z "$(running "$rk")" ] && [ "$(images "$rk")" = "$(cat "$tmp/out")" ]; then ok; else
			not_ok "kill -9 at record $n, resume: running '$(running "$rk")', images '$(images "$rk")' ($(cat "$tmp/out"))"
		fi
	else
		not_ok "kill -9 at record $n: resume failed"
	fi
	rk=$(kill_at "$n")
	run gc
	expect_status 0 "kill -9 at record $n, gc"
	if [ -z "$(running "$rk")" ]; then ok; else not_ok "kill -9 at record $n, gc left $(running "$rk")"; fi
	# what gc leaves of the run is its product only: one image, available, or none
	imgs=$(images "$rk")
	if [ -z "$imgs" ] || grep -q '"resource-kept"' "$XDG_STATE_HOME/petal/runs/$rk/journal.jsonl"; then ok; else
		not_ok "kill -9 at record $n, gc left a half-made image $imgs"
	fi
done
machine_stop
# every identity of the matrix's runs is gone: each resume deleted its own, gc the rest
left=$(roles_left)
if [ -z "$left" ]; then ok; else not_ok "kill -9 and resume or gc left roles or profiles: $left"; fi
run gc
expect_status 0 "gc with nothing left"
expect_in "$tmp/err" "nothing to release" "gc says there is nothing left"
finish
