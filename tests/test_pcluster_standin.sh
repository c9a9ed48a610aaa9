#!/bin/sh
# tests/pcluster/pcluster, the stand-in of ParallelCluster 3.11.1's CLI, against moto: each
# refusal with the real CLI's exact JSON and exit status, the status over time, the nodes'
# scripts run (in the sandbox when it can be made), a failing one, delete and list.
. "$top_srcdir/tests/lib.sh"
heavy_test
. "$top_srcdir/tests/aws/moto.sh"
trap 'for p in "$tmp"/state/*/*/boot.pid; do [ -f "$p" ] && kill -9 -- "-$(cat "$p")" 2>/dev/null; done
	moto_stop "$tmp/moto" 2>/dev/null; rm -rf "$tmp"' EXIT
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import yaml, boto3, marshmallow' 2>/dev/null ||
	{ echo "no Debian python3 with yaml, boto3, marshmallow (tools/deps-debian.sh)" >&2; exit 77; }
moto_start "$tmp/moto" || exit 1
. "$MOTO_DIR/moto.env"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL="$MOTO_URL"
export PCLUSTER_STANDIN_STATE="$tmp/state" PCLUSTER_STANDIN_CREATE_SECONDS=2 PCLUSTER_STANDIN_DELETE_SECONDS=1
unset AWS_DEFAULT_REGION AWS_REGION
standin=$top_srcdir/tests/pcluster/pcluster
# pc ARGS...: the stand-in; status in $status, stdout in $tmp/out, stderr in $tmp/err
pc() {
	status=0
	"$standin" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
}
R="-r us-east-1"

# moto: AMIs baked for 3.11.1, for 3.10.0 and one untagged; the scripts
base=$(AWS_DEFAULT_REGION=us-east-1 moto_aws ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
inst=$(AWS_DEFAULT_REGION=us-east-1 moto_aws ec2 run-instances --image-id "$base" --instance-type t3.micro \
	--query 'Instances[0].InstanceId' --output text)
bake() {
	AWS_DEFAULT_REGION=us-east-1 moto_aws ec2 create-image --instance-id "$inst" --name "baked-$1" \
		--tag-specifications "ResourceType=image,Tags=[{Key=parallelcluster:version,Value=$1},{Key=parallelcluster:build_status,Value=available},{Key=parallelcluster:os,Value=alinux2023}]" \
		--query ImageId --output text
}
ami=$(bake 3.11.1)
old_ami=$(bake 3.10.0)
moto_aws s3 mb s3://petal-test >/dev/null
cat >"$tmp/head.sh" <<'S'
#!/bin/sh
echo "head ran: type=$PCLUSTER_STANDIN_NODE_TYPE args=[$1] [$2]"
cat /etc/parallelcluster/cfnconfig 2>/dev/null
mkdir -p /shared && echo from-head >/shared/marker
S
cat >"$tmp/compute.sh" <<'S'
#!/bin/sh
echo "compute ran: type=$PCLUSTER_STANDIN_NODE_TYPE shared=$(cat /shared/marker 2>/dev/null)"
S
printf '#!/bin/sh\necho failing on purpose\nexit 3\n' >"$tmp/fail.sh"
for s in head compute fail; do moto_aws s3 cp "$tmp/$s.sh" "s3://petal-test/$s.sh" >/dev/null; done

# conf FILE AMI HEAD_SCRIPT [EXTRA]: a cluster config
conf() {
	cat >"$1" <<Y
Region: us-east-1
Image:
  Os: alinux2023
  CustomAmi: $2
HeadNode:
  InstanceType: t3.medium
  Networking:
    SubnetId: subnet-12345678
  CustomActions:
    OnNodeConfigured:
      Script: $3
      Args: [one, "two words"]
Scheduling:
  Scheduler: slurm
  SlurmQueues:
  - Name: q1
    ComputeResources:
    - Name: cr1
      InstanceType: c5.large
      MinCount: 0
      MaxCount: 2
    Networking:
      SubnetIds: [subnet-12345678]
    CustomActions:
      OnNodeConfigured:
        Script: s3://petal-test/compute.sh
${4:-}
Y
}
conf "$tmp/good.yaml" "$ami" s3://petal-test/head.sh

# the command line, as the real one parses it
pc version
expect_status 0 "version"
expect_py "version" 'j == {"version": "3.11.1"}'
pc no-such-command
expect_status 2 "an unknown command"
expect_in "$tmp/err" "invalid choice: 'no-such-command'" "an unknown command: said"
pc create-cluster -n c1
expect_status 2 "a missing flag"
expect_in "$tmp/err" "the following arguments are required: -c/--cluster-configuration" "a missing flag: said"
pc describe-cluster -n c1 --no-such-flag $R
expect_status 1 "an unknown flag"
expect_in "$tmp/out" "Invalid arguments ['--no-such-flag']" "an unknown flag: said"
pc create-cluster -n c1 --dryrun maybe -c "$tmp/good.yaml"
expect_status 1 "a bad boolean"
expect_py "a bad boolean: the JSON" "j == {'message': \"Bad Request: Wrong type, expected 'boolean' for parameter 'dryrun'\"}"
pc create-cluster -n 1c -c "$tmp/good.yaml"
expect_status 1 "a bad name"
expect_py "a bad name: the JSON" "j == {'message': \"Bad Request: '1c' does not match '^[a-zA-Z][a-zA-Z0-9-]+\$' - 'cluster-name'\"}"
pc create-cluster -n "c$(printf '%060d' 0)" -c "$tmp/good.yaml"
expect_status 1 "a name too long"
expect_py "a name too long: ClusterNameValidator" "j['message'] == 'Invalid cluster configuration.' and [e['type'] for e in j['configurationValidationErrors']] == ['ClusterNameValidator']"
PCLUSTER_STANDIN_STATE= pc version
expect_status 1 "no state directory"
expect_in "$tmp/err" "PCLUSTER_STANDIN_STATE" "no state directory: said"
pc describe-cluster -n c1
expect_status 1 "no region"
expect_py "no region: the JSON" "j == {'message': 'Bad Request: region needs to be set'}"
pc create-cluster -n c1 -c "$tmp/good.yaml" -r eu-west-1
expect_status 1 "regions in conflict"
expect_py "regions in conflict" "j == {'message': 'Bad Request: region is set in both parameter and configuration and conflicts.'}"
pc update-cluster -n c1 -c "$tmp/good.yaml" $R
expect_status 1 "update-cluster"
expect_in "$tmp/out" "update-cluster is not supported by the stand-in" "update-cluster: refused, said"

# the configuration: schema, then moto
conf "$tmp/schema.yaml" "$ami" s3://petal-test/head.sh "NoSuchKey: 1"
pc create-cluster -n c1 -c "$tmp/schema.yaml"
expect_status 1 "a schema error"
expect_py "a schema error: the JSON" "j['message'] == 'Invalid cluster configuration.' and j['configurationValidationErrors'] == [{'level': 'ERROR', 'type': 'ConfigSchemaValidator', 'message': \"[('NoSuchKey', ['Unknown field.'])]\"}]"
# a missing AMI (the cluster's Image) and one of 3.10.0 (a queue's Image): both ERRORs
conf "$tmp/amis.yaml" ami-0123456789abcdef0 s3://petal-test/head.sh
sed -i "s|^  - Name: q1\$|  - Name: q1\n    Image:\n      CustomAmi: $old_ami|" "$tmp/amis.yaml"
pc create-cluster -n c1 -c "$tmp/amis.yaml"
expect_status 1 "a missing AMI, an old AMI"
expect_py "a missing AMI: CustomAmiTagValidator ERROR" "any(e['type'] == 'CustomAmiTagValidator' and e['level'] == 'ERROR' and 'does not exist' in e['message'] for e in j['configurationValidationErrors'])"
expect_py "a queue's AMI of 3.10.0: said" "any(e['type'] == 'CustomAmiTagValidator' and e['level'] == 'ERROR' and 'created with pcluster 3.10.0' in e['message'] for e in j['configurationValidationErrors'])"
# an untagged AMI and a missing script: WARNINGs, refused at that level
conf "$tmp/untagged.yaml" "$base" s3://petal-test/head.sh
conf "$tmp/warned.yaml" "$base" s3://petal-test/missing.sh
pc create-cluster -n c1 -c "$tmp/warned.yaml" --validation-failure-level WARNING
expect_status 1 "warnings refused"
expect_py "an untagged AMI, a missing script: their warnings" "sorted((e['type'], e['level']) for e in j['configurationValidationErrors']) == [('AmiOsCompatibleValidator', 'WARNING'), ('AsyncTimedUrlValidator', 'WARNING'), ('CustomAmiTagValidator', 'WARNING')]"
expect_py "a missing script: named" "'missing.sh' in [e for e in j['configurationValidationErrors'] if e['type'] == 'AsyncTimedUrlValidator'][0]['message']"
conf "$tmp/noscript.yaml" "$ami" s3://petal-test/missing.sh
conf "$tmp/ftp.yaml" "$ami" ftp://petal-test/head.sh
pc create-cluster -n c1 -c "$tmp/ftp.yaml"
expect_status 1 "a script not https or s3"
expect_py "a script not https or s3: said" "j['configurationValidationErrors'] == [{'level': 'ERROR', 'type': 'AsyncTimedUrlValidator', 'message': \"The value 'ftp://petal-test/head.sh' is not a valid URL, choose URL with 'https' or 's3' prefix.\"}]"
pc create-cluster -n c1 -c "$tmp/good.yaml" --dryrun true
expect_status 1 "dryrun"
expect_py "dryrun: the JSON" "j == {'message': 'Request would have succeeded, but DryRun flag is set.'}"
pc describe-cluster -n c1 $R
expect_status 1 "dryrun made nothing"

# accepted: status over time, the nodes booted
start=$(date +%s)
PCLUSTER_STANDIN_CREATE_SECONDS=8 pc create-cluster -n c1 -c "$tmp/good.yaml"
expect_status 0 "create"
expect_py "create: the 202 answer" "j['cluster']['clusterName'] == 'c1' and j['cluster']['clusterStatus'] == 'CREATE_IN_PROGRESS' and j['cluster']['cloudformationStackStatus'] == 'CREATE_IN_PROGRESS' and j['cluster']['region'] == 'us-east-1' and j['cluster']['version'] == '3.11.1' and j['cluster']['cloudformationStackArn'].startswith('arn:aws:cloudformation:us-east-1:') and 'validationMessages' not in j"
pc describe-cluster -n c1 $R
expect_py "describe: in progress" "j['clusterStatus'] == 'CREATE_IN_PROGRESS' and j['computeFleetStatus'] == 'UNKNOWN' and j['headNode']['state'] == 'running'"
pc create-cluster -n c1 -c "$tmp/good.yaml"
expect_status 1 "a second create"
expect_py "a second create: the JSON" "j == {'message': 'Bad Request: Cluster c1 already exists.'}"
pc create-cluster -n c2 -c "$tmp/untagged.yaml"
expect_status 0 "an untagged AMI: accepted with warnings"
expect_py "an untagged AMI: validationMessages" "'CustomAmiTagValidator' in [v['type'] for v in j['validationMessages']]"
conf "$tmp/failing.yaml" "$ami" s3://petal-test/fail.sh
pc create-cluster -n c3 -c "$tmp/failing.yaml" --rollback-on-failure false
expect_status 0 "a failing script: accepted"
pc create-cluster -n c4 -c "$tmp/noscript.yaml"
expect_status 0 "a missing script: accepted with a warning"
expect_py "a missing script: validationMessages" "[v['type'] for v in j['validationMessages']] == ['AsyncTimedUrlValidator']"
i=0
while [ $i -lt 40 ]; do
	pc describe-cluster -n c1 $R
	python3 -c "import json,sys; sys.exit(json.load(open('$tmp/out'))['clusterStatus'] == 'CREATE_IN_PROGRESS')" && break
	sleep 0.5; i=$((i + 1))
done
[ $(($(date +%s) - start)) -ge 8 ] && ok || not_ok "CREATE_COMPLETE before PCLUSTER_STANDIN_CREATE_SECONDS"
expect_py "describe: complete" "j['clusterStatus'] == 'CREATE_COMPLETE' and j['cloudFormationStackStatus'] == 'CREATE_COMPLETE' and j['computeFleetStatus'] == 'RUNNING' and j['headNode']['instanceType'] == 't3.medium' and j['headNode']['state'] == 'running' and 'failures' not in j and {'key': 'parallelcluster:version', 'value': '3.11.1'} in j['tags']"
box=$tmp/state/us-east-1/c1
expect_in "$box/head.log" "head ran: type=HeadNode args=[one] [two words]" "the head node ran its script with its Args"
expect_in "$box/compute.log" "compute ran: type=ComputeFleet" "a compute node ran its queue's script"
if [ -d "$box/boxes/head" ]; then
	expect_in "$box/head.log" "cfn_node_type=HeadNode" "in the sandbox: the head node's cfnconfig"
	expect_in "$box/compute.log" "shared=from-head" "in the sandbox: the compute node sees the head's /shared"
else
	echo "note: the sandbox could not be made here; the scripts ran as plain subprocesses" >&2
fi
for n in c2 c3 c4; do
	i=0
	while [ $i -lt 40 ]; do
		pc describe-cluster -n $n $R
		python3 -c "import json,sys; sys.exit(json.load(open('$tmp/out'))['clusterStatus'] == 'CREATE_IN_PROGRESS')" && break
		sleep 0.5; i=$((i + 1))
	done
	cp "$tmp/out" "$tmp/$n.json"
done
cp "$tmp/c2.json" "$tmp/out"
expect_py "an untagged AMI: CREATE_FAILED, InvalidAmi" "j['clusterStatus'] == 'CREATE_FAILED' and j['cloudFormationStackStatus'] == 'ROLLBACK_COMPLETE' and j['failures'][0]['failureCode'] == 'InvalidAmi'"
cp "$tmp/c3.json" "$tmp/out"
expect_py "a failing script: CREATE_FAILED" "j['clusterStatus'] == 'CREATE_FAILED' and j['cloudFormationStackStatus'] == 'CREATE_FAILED' and j['failures'] == [{'failureCode': 'OnNodeConfiguredExecutionFailure', 'failureReason': 'Failed to execute OnNodeConfigured script.'}]"
expect_in "$tmp/state/us-east-1/c3/head.log" "failing on purpose" "a failing script: its output kept"
cp "$tmp/c4.json" "$tmp/out"
expect_py "a missing script: CREATE_FAILED" "j['clusterStatus'] == 'CREATE_FAILED' and j['failures'][0]['failureCode'] == 'OnNodeConfiguredDownloadFailure'"

# list, delete
pc list-clusters $R
expect_status 0 "list"
expect_py "list: every cluster" "sorted((c['clusterName'], c['clusterStatus']) for c in j['clusters']) == [('c1', 'CREATE_COMPLETE'), ('c2', 'CREATE_FAILED'), ('c3', 'CREATE_FAILED'), ('c4', 'CREATE_FAILED')]"
pc list-clusters $R --cluster-status CREATE_COMPLETE
expect_py "list: by status" "[c['clusterName'] for c in j['clusters']] == ['c1']"
pc list-clusters $R --cluster-status BOGUS
expect_status 2 "list: a status not in the API"
pc list-clusters -r eu-west-1
expect_py "list: another region has none" "j == {'clusters': []}"
# long enough for the describe after it on a loaded machine (each pc call imports
# ParallelCluster's schema: seconds of CPU)
PCLUSTER_STANDIN_DELETE_SECONDS=12 pc delete-cluster -n c1 $R
expect_status 0 "delete"
expect_py "delete: the 202 answer" "j['cluster']['clusterStatus'] == 'DELETE_IN_PROGRESS' and j['cluster']['cloudformationStackStatus'] == 'DELETE_IN_PROGRESS'"
pc describe-cluster -n c1 $R
expect_py "describe: deleting" "j['clusterStatus'] == 'DELETE_IN_PROGRESS'"
i=0
while [ $i -lt 60 ]; do
	pc describe-cluster -n c1 $R
	[ "$status" -ne 0 ] && break
	sleep 0.5; i=$((i + 1))
done
expect_status 1 "deleted: not found"
expect_py "deleted: NotFoundException" "j == {'message': \"Cluster 'c1' does not exist or belongs to an incompatible ParallelCluster major version.\"}"
pc list-clusters $R
expect_py "deleted: not listed" "'c1' not in [c['clusterName'] for c in j['clusters']]"
pc delete-cluster -n nosuch $R
expect_status 1 "delete: not found"
expect_py "delete: NotFoundException" "j['message'].startswith(\"Cluster 'nosuch' does not exist\")"

# a hook: a create that fails as CloudFormation says
PCLUSTER_STANDIN_FAIL="WaitCondition timed out" pc create-cluster -n c5 -c "$tmp/good.yaml"
expect_status 0 "a forced failure: accepted"
sleep 2.2
pc describe-cluster -n c5 $R
expect_py "a forced failure: HeadNodeBootstrapFailure" "j['failures'] == [{'failureCode': 'HeadNodeBootstrapFailure', 'failureReason': 'Cluster creation timed out.'}]"
finish
