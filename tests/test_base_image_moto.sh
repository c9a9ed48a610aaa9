#!/bin/sh
# tests/aws/pcluster_amis.json read by a real moto_server (MOTO_AMIS_PATH):
# DescribeImages with Owners=amazon and ParallelCluster's name filter lists
# exactly the fixture's images of that name, and not an image of the test
# account registered under the same name (the decoy moto can hold: moto gives
# every image of its file the alias amazon, so the file's own images cannot
# be of another owner).
. "${top_srcdir:?}/tests/lib.sh"
. "$top_srcdir/tests/aws/moto.sh"

AWS_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
AWS_CONFIG_FILE=$tmp/no-config
AWS_SHARED_CREDENTIALS_FILE=$tmp/no-credentials
export AWS_REGION AWS_EC2_METADATA_DISABLED AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_EC2 AWS_PROFILE AWS_SESSION_TOKEN \
	AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY 2>/dev/null || true

fixture=$top_srcdir/tests/aws/pcluster_amis.json
MOTO_AMIS_PATH=$fixture
export MOTO_AMIS_PATH
moto_start "$tmp/moto" || exit 1
trap 'moto_stop "$tmp/moto"; rm -rf "$tmp"' EXIT
. "$tmp/moto/moto.env"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

prefix=aws-parallelcluster-3.11.1-amzn2023-hvm-x86_64
# the test account's own image, named like ParallelCluster's and newer
status=0
moto_aws ec2 register-image --name "$prefix-209901010000 2099-01-01T00-00-00.000Z" \
	--root-device-name /dev/xvda --architecture x86_64 \
	--query ImageId --output text >"$tmp/decoy" 2>"$tmp/err" || status=$?
expect_status 0 "register-image of a decoy"

status=0
moto_aws ec2 describe-images --owners amazon --filters "Name=name,Values=$prefix*" \
	--output json >"$tmp/out" 2>"$tmp/err" || status=$?
expect_status 0 "describe-images --owners amazon"
want=$(python3 -c "import json,sys; print(' '.join(sorted(a['ami_id'] for a in json.load(open(sys.argv[1])) if a['name'].startswith(sys.argv[2]))))" "$fixture" "$prefix")
expect_py "Owners=amazon lists the fixture's $prefix* images, no more" \
	"' '.join(sorted(i['ImageId'] for i in j['Images'])) == '$want' and len('$want') > 0"
expect_py "each listed image is Amazon's" \
	"all(i.get('ImageOwnerAlias') == 'amazon' for i in j['Images'])"
expect_not_in "$tmp/out" "$(cat "$tmp/decoy")" "the test account's image under Owners=amazon"

# without the owner, the decoy is there: the owner is what keeps it out
status=0
moto_aws ec2 describe-images --filters "Name=name,Values=$prefix*" \
	--output json >"$tmp/out" 2>"$tmp/err" || status=$?
expect_status 0 "describe-images without owners"
expect_in "$tmp/out" "$(cat "$tmp/decoy")" "the decoy listed without Owners=amazon"

finish
