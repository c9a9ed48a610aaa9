#!/bin/sh
# petal cache build against moto_server: a seed without a binary cache is refused; a
# cache that holds nothing gets a fill run on a build instance (the machine's reports
# played by tests/aws/machine.py), which ends with the instance terminated; a cache whose
# index holds the package (a copy of the real Spack mirror of shared/testdata) needs none.
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
trap '[ -n "$machine_pid" ] && kill "$machine_pid" 2>/dev/null; moto_stop "$tmp/moto" 2>/dev/null; rm -rf "$tmp"' EXIT

data=$(shared_dir)/testdata/spack-buildcache
cat >"$tmp/nocache.yaml" <<'EOF2'
cluster: {name: nocache, region: us-east-1}
software:
  build_from_source: [samtools@1.17]
EOF2
run cache build -t "$tmp/nocache.yaml"
expect_status 2 "cache build without a binary cache"
expect_in "$tmp/err" "has no binary cache" "cache build without a cache says so"
run cache build -t "$tmp/nocache.yaml" --on-error maybe
expect_status 2 "cache build --on-error maybe"

if ! MOTO_AMIS_PATH=$top_srcdir/tests/aws/pcluster_amis.json moto_start "$tmp/moto"; then
	echo "FAIL: moto_server could not be started" >&2
	exit 1
fi
. "$tmp/moto/moto.env"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export AWS_ENDPOINT_URL_S3="$MOTO_URL" AWS_ENDPOINT_URL_EC2="$MOTO_URL" AWS_ENDPOINT_URL_IAM="$MOTO_URL"
bucket=petal-fill-test
moto_aws s3 mb "s3://$bucket" >/dev/null || { echo "FAIL: no bucket" >&2; exit 1; }

# an empty cache: petal-hello is missing, a build instance fills it
cat >"$tmp/fill.yaml" <<EOF2
cluster: {name: fill-test, region: us-east-1}
software:
  spack_packages: [petal-hello@1.0]
  binary_cache: {s3_bucket: $bucket, s3_prefix: spack}
EOF2
python3 "$top_srcdir/tests/aws/machine.py" "$MOTO_URL" "$bucket" spack ok "$tmp/played" \
	2>"$tmp/machine.log" &
machine_pid=$!
run cache build -t "$tmp/fill.yaml" --output json
kill "$machine_pid" 2>/dev/null
machine_pid=
expect_status 0 "cache build of an empty cache"
expect_py "the fill succeeded" "j['state'] == 'succeeded' and j['step'] == 'binary-cache.cache-build'"
n=$(moto_aws ec2 describe-instances --filters Name=instance-state-name,Values=pending,running \
	--query 'length(Reservations[])')
if [ "$n" = 0 ]; then ok; else not_ok "the fill left $n instances"; fi
if [ "$(grep -c '' "$tmp/played" 2>/dev/null)" = 1 ]; then ok; else not_ok "one instance filled the cache"; fi

# a cache whose index holds the package: nothing to build, nothing launched
moto_aws s3 cp --recursive --only-show-errors "$data/v3-mirror/" "s3://$bucket/real/" ||
	not_ok "the real mirror uploaded"
sed 's/s3_prefix: spack/s3_prefix: real/' "$tmp/fill.yaml" >"$tmp/full.yaml"
run cache build -t "$tmp/full.yaml"
expect_status 0 "cache build of a full cache"
expect_in "$tmp/err" "nothing to build" "cache build says the cache holds everything"
if [ "$(grep -c '' "$tmp/played")" = 1 ]; then ok; else not_ok "a full cache launched an instance"; fi
finish
