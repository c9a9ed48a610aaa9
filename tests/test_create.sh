#!/bin/sh
# petal create, list, status and delete end to end: moto_server (EC2, S3), ParallelCluster's
# CLI played by tests/pcluster/pcluster (its own parser, schema and validators; the nodes'
# OnNodeConfigured run in the sandbox), so that petal's own node-bootstrap.sh, uploaded by
# petal, installs the seed's package on the head node with the real Spack 1.1.0 of
# ../shared/peers/spack (offline).
#  - refused before anything is made: no pcluster, another pcluster version, an image the
#    plan needs and the cloud lacks (the command that bakes it is named);
#  - --dry-run: pcluster's checks pass, nothing is made;
#  - create --watch: the cluster is ready, the bootstrap ran and installed the package, the
#    head node's own report followed, the journal holds the measured time; the nodes'
#    reports and logs --build (head, a compute node by name); list, status; a second create
#    is refused in pcluster's own words; delete --watch: gone, and its node files with it;
#  - --build-missing: the image bake and the cache fill at once (two build instances running
#    together, their lines passed on with the command in front), then the cluster from the
#    image just baked; Ctrl-C, or kill -9 of petal, during the two builds releases both
#    instances;
#  - a creation that fails: pcluster's failure reason is shown, exit 1.
# The creation that boots the head node with the real Spack runs in the gcc stage only
# (PETAL_SKIP_REAL_SPACK, tests/lib.sh); the rest runs in every stage.
. "$top_srcdir/tests/lib.sh"
real=1
[ "${PETAL_SKIP_REAL_SPACK:-0}" = 1 ] && real=0
. "$top_srcdir/tests/aws/moto.sh"
machine_pid=
trap 'for p in "$tmp"/pc/*/*/boot.pid; do [ -f "$p" ] && kill -9 -- "-$(cat "$p")" 2>/dev/null; done
	[ -n "$machine_pid" ] && kill "$machine_pid" 2>/dev/null
	moto_stop "$tmp/moto" 2>/dev/null; rm -rf "$tmp"' EXIT

if [ $real = 1 ]; then
	real_spack_peer lmod patchelf aws moto_server setsid
	sandbox_or_skip head
fi
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import yaml, boto3, marshmallow' 2>/dev/null ||
	{ echo "no Debian python3 with yaml, boto3, marshmallow (tools/deps-debian.sh)" >&2; exit 77; }

AWS_REGION=us-east-1
AWS_DEFAULT_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
AWS_CONFIG_FILE=$tmp/no-config
AWS_SHARED_CREDENTIALS_FILE=$tmp/no-credentials
export AWS_REGION AWS_DEFAULT_REGION AWS_EC2_METADATA_DISABLED AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN PETAL_PCLUSTER 2>/dev/null || true
if ! MOTO_AMIS_PATH=$top_srcdir/tests/aws/pcluster_amis.json moto_start "$tmp/moto" noauth; then
	echo "FAIL: moto_server could not be started" >&2
	exit 1
fi
. "$tmp/moto/moto.env"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export AWS_ENDPOINT_URL_S3="$MOTO_URL" AWS_ENDPOINT_URL_EC2="$MOTO_URL" AWS_ENDPOINT_URL_IAM="$MOTO_URL"
export XDG_STATE_HOME="$tmp/state" PETAL_POLL_S=1
export PCLUSTER_STANDIN_STATE="$tmp/pc" PCLUSTER_STANDIN_CREATE_SECONDS=2 \
	PCLUSTER_STANDIN_DELETE_SECONDS=1
subnet=subnet-0123456789abcdef0

[ $real = 1 ] && tar -C "$tmp" -xzf "$peer/spack-1.1.0-offline.tar.gz" builtin-min
# seed NAME SECTION PACKAGES [EXTRA]: a seed of the test repository's packages (no binary
# cache: spack_packages are built from source on the head node), from the peer's Spack and
# repositories when the real Spack runs here (else Spack's defaults: nothing is fetched)
seed() {
	{
		printf 'cluster: {name: %s, region: us-east-1%s}\n' "$1" "${4:-}"
		printf 'compute:\n  head_node: c5.xlarge\n'
		printf '  queues: [{name: work, instance_types: [c5.large], min_count: 0, max_count: 2}]\n'
		printf 'software:\n  %s: [%s]\n' "$2" "$3"
		[ $real = 1 ] && cat <<EOF
  spack:
    url: file://$peer/spack-1.1.0-offline.tar.gz
    repos:
      - file://$tmp/builtin-min/spack_repo/builtin
      - file://$peer/test-repo/spack_repo/petaltest
    source_mirror: file://$peer/sources
    target: $(uname -m)
EOF
	} >"$tmp/$1.yaml"
}
clusters() { PATH=$top_srcdir/tests/pcluster:$PATH pcluster list-clusters -r us-east-1 |
	python3 -c 'import json,sys; print(" ".join(c["clusterName"] for c in json.load(sys.stdin)["clusters"]))'; }

# --- refused before anything is made
seed lab spack_packages 'libhello@1.0'
run create -t "$tmp/lab.yaml" --subnet-id "$subnet"
expect_status 1 "create without pcluster"
expect_in "$tmp/err" "pcluster" "create says pcluster is missing"
export PATH="$top_srcdir/tests/pcluster:$PATH"
seed old spack_packages 'libhello@1.0' ', pcluster_version: "3.10.0"'
run create -t "$tmp/old.yaml" --subnet-id "$subnet"
expect_status 1 "create with another pcluster version"
expect_in "$tmp/err" "is version 3.11.1, but the seed's cluster.pcluster_version is 3.10.0" \
	"create names both versions"
seed baked in_ami 'libhello@1.0'
run create -t "$tmp/baked.yaml" --subnet-id "$subnet"
expect_status 1 "create of a seed whose image is not baked"
expect_in "$tmp/err" "petal build-ami -t $tmp/baked.yaml" "create names the command that bakes it"
# ... and once the image is there (tagged as build-ami tags it), the configuration boots it
run plan -t "$tmp/baked.yaml" --output json
bhash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seed"]["hash"])' "$tmp/out")
base=$(moto_aws ec2 describe-images --owners amazon \
	--filters 'Name=name,Values=aws-parallelcluster-3.11.1-amzn2023-hvm-x86_64*' \
	--query 'Images[0].ImageId' --output text)
inst=$(moto_aws ec2 run-instances --image-id "$base" --instance-type c5.large \
	--query 'Instances[0].InstanceId' --output text)
baked=$(moto_aws ec2 create-image --instance-id "$inst" --name "petal-baked" \
	--tag-specifications "ResourceType=image,Tags=[{Key=petal:seed-hash,Value=$bhash},{Key=parallelcluster:version,Value=3.11.1},{Key=parallelcluster:build_status,Value=available},{Key=parallelcluster:os,Value=alinux2023}]" \
	--query ImageId --output text)
run create -t "$tmp/baked.yaml" --subnet-id "$subnet" --dry-run
expect_status 0 "create --dry-run of a seed whose image is baked"
r=$(ls "$XDG_STATE_HOME/petal/runs" | tail -n 1)
expect_in "$XDG_STATE_HOME/petal/runs/$r/render/cluster-config.yaml" "CustomAmi: $baked" \
	"the configuration boots the image tagged with the seed hash"
# --ami over it: ParallelCluster's own image carries no petal or pcluster tags, and pcluster
# says so (a warning); petal shows its words
run create -t "$tmp/baked.yaml" --subnet-id "$subnet" --dry-run --ami "$base"
expect_status 0 "create --dry-run --ami"
expect_in "$tmp/err" "WARNING [CustomAmiTagValidator]" "pcluster's warning about --ami's image is shown"
r=$(ls "$XDG_STATE_HOME/petal/runs" | tail -n 1)
expect_in "$XDG_STATE_HOME/petal/runs/$r/render/cluster-config.yaml" "CustomAmi: $base" \
	"--ami is the image the configuration boots"
for args in "--watch --detach" "--dry-run --build-missing" "--no-rollback --rollback-on-failure" \
	"--ami my-image" "--timeout soon"; do
	# shellcheck disable=SC2086 # the flags are words
	run create -t "$tmp/lab.yaml" $args
	expect_status 2 "create $args"
done
if [ -z "$(clusters)" ]; then ok; else not_ok "a refused create made clusters: $(clusters)"; fi

# --- the dry run: pcluster's own checks, nothing made
run create -t "$tmp/lab.yaml" --subnet-id "$subnet" --dry-run
expect_status 0 "create --dry-run"
expect_in "$tmp/err" "accepts" "the dry run passed pcluster's checks"
if [ -z "$(clusters)" ]; then ok; else not_ok "a dry run made clusters: $(clusters)"; fi

if [ $real = 1 ]; then
	# --- create, and follow it to ready: the bootstrap installs libhello with the real Spack
	run create -t "$tmp/lab.yaml" --subnet-id "$subnet" --watch --output json
	expect_status 0 "create --watch"
	expect_py "create's result: ready, with its measured time" \
		"j['cluster'] == 'lab' and j['state'] == 'ready' and j['status'] == 'CREATE_COMPLETE' and j['ready_seconds'] > 0"
	expect_in "$tmp/err" "CREATE_IN_PROGRESS" "--watch shows the cluster's state"
	expect_in "$tmp/err" "head node: running, 0 of " "--watch shows the head node's software coming"
	expect_in "$tmp/err" "head node: succeeded, " "--watch shows the head node's software there"
	expect_py "create's result: the head node's report (libhello and what it needs)" \
		"j['head_node']['state'] == 'succeeded' and j['head_node']['packages'] == j['head_node']['total'] >= 2"
	r=$(ls "$XDG_STATE_HOME/petal/runs" | tail -n 1)
	if grep -q '"ready_seconds"' "$XDG_STATE_HOME/petal/runs/$r/journal.jsonl"; then ok; else
		not_ok "the journal holds no measured time"
	fi
	boot=$tmp/pc/us-east-1/lab
	if python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["result"] == "ok" else 1)' \
		"$boot/boot.json" 2>/dev/null; then ok; else
		not_ok "the head node's bootstrap: $(cat "$boot/boot.json" 2>&1) $(tail -20 "$boot/head.log" 2>&1)"
	fi
	if [ -n "$(find "$boot/boxes" -path '*/opt/*libhello-1.0-*' -prune 2>/dev/null | head -n 1)" ]; then ok; else
		not_ok "libhello is not installed on the head node: $(tail -20 "$boot/head.log" 2>&1)"
	fi
	hash=$(head -n 1 "$XDG_STATE_HOME/petal/runs/$r/journal.jsonl" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["seed_hash"])')
	run list --output json
	expect_status 0 "list"
	expect_py "list: the cluster, its seed and hash" \
		"[(c['name'], c['seed'], c['seed_hash'], c['status']) for c in j['clusters']] == [('lab', 'lab', '$hash', 'CREATE_COMPLETE')]"
	# the node files: without a binary cache, petal's own bucket for the seed
	artifacts=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["clusters"][0]["artifacts"])' "$tmp/out" 2>/dev/null)
	case $artifacts in "s3://petal-artifacts-$(echo "$hash" | cut -c1-16)/petal/$hash") ok ;;
		*) not_ok "the cluster's petal:artifacts: '$artifacts'" ;; esac
	if moto_aws s3 ls "$artifacts/node-bootstrap.sh" >/dev/null; then ok; else
		not_ok "node-bootstrap.sh is not at $artifacts"
	fi
	# the nodes' reports: the head node's and the compute node's, status and log
	moto_aws s3 ls --recursive "$artifacts/nodes/lab/" >"$tmp/reports"
	for f in head/status.json head/build.log compute-.*/status.json compute-.*/build.log; do
		if grep -q "nodes/lab/$f\$" "$tmp/reports"; then ok; else
			not_ok "no $f in the cluster's reports: $(cat "$tmp/reports")"
		fi
	done
	run logs lab --build
	expect_status 0 "logs --build"
	expect_in "$tmp/out" "petal: node ready for seed" "logs --build prints the head node's bootstrap log"
	compute=$(sed -n 's|.*nodes/lab/\(compute-[^/]*\)/build.log$|\1|p' "$tmp/reports" | head -n 1)
	run logs lab --build --node "${compute#compute-}"
	expect_status 0 "logs --build --node HOST"
	expect_in "$tmp/out" "petal: node ready for seed" "logs --build --node prints the compute node's"
	run logs lab --build --node nosuch
	expect_status 1 "logs --build of a node that did not report"
	expect_in "$tmp/err" "reported: $compute, head" "the nodes that reported are named"
	run status lab
	expect_status 0 "status"
	expect_in "$tmp/out" "CREATE_COMPLETE" "status says the cluster is complete"
	run status nosuch
	expect_status 1 "status of no such cluster"
	expect_in "$tmp/err" "does not exist" "status passes pcluster's words on"
	run create -t "$tmp/lab.yaml" --subnet-id "$subnet"
	expect_status 1 "a second create of the same cluster"
	expect_in "$tmp/err" "already exists" "the second create is refused in pcluster's words"

	run delete lab --watch
	expect_status 0 "delete --watch"
	expect_in "$tmp/err" "is gone" "delete follows until the cluster is gone"
	if [ -z "$(clusters)" ]; then ok; else not_ok "after delete: $(clusters)"; fi
	if [ -z "$(moto_aws s3 ls --recursive "$artifacts/")" ]; then ok; else
		not_ok "delete left the node files: $(moto_aws s3 ls --recursive "$artifacts/")"
	fi
fi

# --- --build-missing: the image and the cache fill side by side (the build instances played by
# tests/aws/machine.py, which pushes the real Spack mirror of shared/testdata for the fill; the
# nodes' scripts fetched, not run: what they do is the real-Spack part's)
bucket=petal-hybrid
moto_aws s3 mb "s3://$bucket" >/dev/null || not_ok "the cache bucket made"
cat >"$tmp/hybrid.yaml" <<EOF
cluster: {name: hybrid, region: us-east-1}
compute:
  head_node: c5.xlarge
  queues: [{name: work, instance_types: [c5.large], min_count: 0, max_count: 2}]
software:
  in_ami: [libhello@1.0]
  spack_packages: [petal-hello@1.0]
  binary_cache: {s3_bucket: $bucket, s3_prefix: spack}
EOF
machine() {
	python3 "$top_srcdir/tests/aws/machine.py" "$MOTO_URL" "$bucket" spack "$1" "$tmp/played.$1" \
		"$(shared_dir)/testdata/spack-buildcache/v3-mirror" 2>>"$tmp/machine.log" &
	machine_pid=$!
}
machine_stop() { kill "$machine_pid" 2>/dev/null; wait "$machine_pid" 2>/dev/null; machine_pid=; }
building() {
	moto_aws ec2 describe-instances --output text --query 'Reservations[].Instances[].InstanceId' \
		--filters Name=instance-state-name,Values=pending,running Name=tag-key,Values=petal:run
}
roles_left() {
	moto_aws iam list-instance-profiles --output text \
		--query 'InstanceProfiles[?starts_with(InstanceProfileName, `petal-build-`)].InstanceProfileName'
}
runs_of() { # the runs of command $1 started after run $2
	for r in $(ls "$XDG_STATE_HOME/petal/runs"); do
		[ "$r" \> "$2" ] && grep -q "\"command\":\"$1\"" "$XDG_STATE_HOME/petal/runs/$r/journal.jsonl" &&
			echo "$r"
	done
}
# Ctrl-C while both build: two instances at once, then both released, exit 130
machine hold
before=$(ls "$XDG_STATE_HOME/petal/runs" | tail -n 1)
"$PETAL_BIN" create -t "$tmp/hybrid.yaml" --subnet-id "$subnet" --build-missing --watch \
	>"$tmp/out" 2>"$tmp/err" &
pid=$!
n=0
while [ "$(building | wc -w)" -lt 2 ] && [ $n -lt 300 ]; do sleep 0.2; n=$((n + 1)); done
if [ "$(building | wc -w)" = 2 ]; then ok; else
	not_ok "--build-missing: not two build instances at once: '$(building)'; $(cat "$tmp/err")"
fi
kill -INT "$pid"
status=0
wait "$pid" || status=$?
machine_stop
expect_status 130 "create --build-missing interrupted"
expect_in "$tmp/err" "the builds release what they launched" "the interruption is said"
if [ -z "$(building)" ] && [ -z "$(roles_left)" ]; then ok; else
	not_ok "Ctrl-C during --build-missing left: $(building) $(roles_left)"
fi
for r in $(runs_of build-ami "$before") $(runs_of "cache build" "$before"); do
	run runs "$r" --output json
	expect_py "run $r is cancelled" "j['run']['state'] == 'cancelled'"
done
if [ -z "$(clusters)" ]; then ok; else not_ok "an interrupted --build-missing made clusters: $(clusters)"; fi
# kill -9 of petal while both build: each build, told by the kernel, releases its instance
"$PETAL_BIN" create -t "$tmp/hybrid.yaml" --subnet-id "$subnet" --build-missing \
	>"$tmp/out" 2>"$tmp/err" &
pid=$!
n=0
while [ "$(building | wc -w)" -lt 2 ] && [ $n -lt 300 ]; do sleep 0.2; n=$((n + 1)); done
kill -9 "$pid"
wait "$pid" 2>/dev/null
n=0
while [ -n "$(building)$(roles_left)" ] && [ $n -lt 150 ]; do sleep 0.2; n=$((n + 1)); done
if [ -z "$(building)" ] && [ -z "$(roles_left)" ]; then ok; else
	not_ok "kill -9 during --build-missing left: $(building) $(roles_left)"
fi

# both succeed: the cluster is made from the image just baked, the cache holds the package
machine ok
before=$(ls "$XDG_STATE_HOME/petal/runs" | tail -n 1)
export PCLUSTER_STANDIN_BOOT=fetch-only
run create -t "$tmp/hybrid.yaml" --subnet-id "$subnet" --build-missing --watch --output json
unset PCLUSTER_STANDIN_BOOT
machine_stop
expect_status 0 "create --build-missing"
expect_py "the cluster is ready" "j['cluster'] == 'hybrid' and j['status'] == 'CREATE_COMPLETE'"
expect_py "the result holds both builds'" \
	"sorted((b['command'], b['state']) for b in j['builds']) == [('build-ami', 'succeeded'), ('cache build', 'succeeded')] and [b['image'] for b in j['builds'] if 'image' in b][0].startswith('ami-')"
for cmd in build-ami "cache build"; do
	if grep -q "\"build\":\"$cmd\"" "$tmp/err"; then ok; else
		not_ok "no event of '$cmd' carries its command: $(head -c 2000 "$tmp/err")"
	fi
	if [ "$(runs_of "$cmd" "$before" | wc -w)" = 1 ]; then ok; else
		not_ok "--build-missing ran '$cmd' $(runs_of "$cmd" "$before" | wc -w) times"
	fi
done
if [ "$(wc -l <"$tmp/played.ok")" = 2 ]; then ok; else not_ok "two build instances: $(cat "$tmp/played.ok")"; fi
baked=$(moto_aws ec2 describe-images --owners self --query 'Images[].ImageId' --output text \
	--filters "Name=tag:petal:run,Values=$(runs_of build-ami "$before")")
r=$(ls "$XDG_STATE_HOME/petal/runs" | tail -n 1)
case $baked in ami-*) expect_in "$XDG_STATE_HOME/petal/runs/$r/render/cluster-config.yaml" \
	"CustomAmi: $baked" "the cluster boots the image --build-missing baked" ;;
	*) not_ok "--build-missing baked no image: '$baked'" ;; esac
if [ -z "$(building)" ] && [ -z "$(roles_left)" ]; then ok; else
	not_ok "--build-missing left: $(building) $(roles_left)"
fi
run delete hybrid --watch
expect_status 0 "delete of the --build-missing cluster"

# --- logs --build: usage
run logs --build
expect_status 2 "logs --build without a cluster"
run logs r-20261204-101500-a1b2 --build
expect_status 2 "logs --build of a run"
expect_in "$tmp/err" "takes a cluster" "logs --build of a run says what it takes"
run logs lab
expect_status 2 "logs of a cluster without --build"
expect_in "$tmp/err" "petal logs lab --build" "logs of a cluster names --build"
run logs nosuch --build
expect_status 1 "logs --build of no such cluster"
expect_in "$tmp/err" "does not exist" "logs --build passes pcluster's words on"

# --- a creation that fails: pcluster's reason, exit 1
seed broken spack_packages 'libhello@1.0'
export PCLUSTER_STANDIN_FAIL="WaitCondition timed out. Received 0 conditions when expecting 1"
run create -t "$tmp/broken.yaml" --subnet-id "$subnet"
unset PCLUSTER_STANDIN_FAIL
expect_status 1 "a failed creation"
expect_in "$tmp/err" "CREATE_FAILED" "the failure is said"
expect_in "$tmp/err" "petal delete broken" "the failed cluster's removal is named"
finish
