#!/bin/sh
# petal cache init | status | clear on s3:// mirrors, through the cloud
# plugin 'aws', against a real moto_server on 127.0.0.1 holding copies of
# the real Spack mirrors (shared/testdata/spack-buildcache), uploaded and
# checked with the aws CLI.
#
# moto runs without signature checking here: its checker rebuilds the
# canonical request from the already-encoded URL, so every ListObjectsV2
# with a prefix holding '/' (every mirror listing) is refused whoever signs
# it (see tests/aws/moto.sh).  Signatures are the aws plugin's own tests'.
. "${top_srcdir:?}/tests/lib.sh"
. "$top_srcdir/tests/aws/moto.sh"

data=$(shared_dir)/testdata
if [ -z "$data" ] || [ ! -d "$data/spack-buildcache/v3-mirror" ]; then
	echo "FAIL: the real mirrors (shared/testdata/spack-buildcache) are not found:" \
		"set PETAL_SHARED_TESTDATA" >&2
	exit 1
fi
src=$data/spack-buildcache

trap 'moto_stop "$tmp/moto"; rm -rf "$tmp"' EXIT
if ! moto_start "$tmp/moto" noauth; then
	echo "FAIL: moto_server could not be started" >&2
	exit 1
fi
. "$tmp/moto/moto.env"
# petal and the aws CLI see moto only, never the user's files or an IMDS
AWS_ENDPOINT_URL_S3=$MOTO_URL
AWS_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
AWS_CONFIG_FILE=$tmp/no-config
AWS_SHARED_CREDENTIALS_FILE=$tmp/no-credentials
XDG_STATE_HOME=$tmp/state
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL_S3 AWS_REGION \
	AWS_EC2_METADATA_DISABLED AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE XDG_STATE_HOME
unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN 2>/dev/null || true

bucket=petal-cache-test
listing() { moto_aws s3 ls --recursive "s3://$bucket/${1:-}" | awk '{ print $3, $4 }' | LC_ALL=C sort; }

cat >"$tmp/seed.yaml" <<YAML
cluster:
  name: cache-s3
  region: us-east-1
software:
  binary_cache:
    s3_bucket: $bucket
    s3_prefix: v3
  spack_packages:
    - petal-hello@1.0
    - zlib
YAML

# --- init: the bucket is created, the Spack configuration names the endpoint
run cache init --bucket "$bucket" --prefix v3 --region us-east-1 --output-dir "$tmp"
expect_status 0 "init creates the bucket"
# (the aws CLI is slow to start: it is called as few times as will do)
moto_aws s3 ls --recursive "s3://$bucket/" >"$tmp/ls0" && ok || not_ok "the bucket exists"
expect_in "$tmp/out" "spack mirror add --unsigned --type binary --s3-endpoint-url $MOTO_URL petal s3://$bucket/v3" \
	"init: the add line with the endpoint"
expect_in "$tmp/mirrors.yaml" "endpoint_url: \"$MOTO_URL\"" "mirrors.yaml names the endpoint"
expect_in "$tmp/mirrors.yaml" "url: \"s3://$bucket/v3\"" "mirrors.yaml names the mirror"
[ ! -s "$tmp/ls0" ] && ok || not_ok "init left no probe object"
run cache init --bucket "$bucket" --prefix v3 -o json --output-dir "$tmp"
expect_status 0 "init an existing bucket"
expect_py "init json: aws, empty" "j['cloud'] == 'aws' and j['empty'] is True"

# --- the real mirrors, uploaded with the aws CLI (v3, v2, and v3 with its
# index blob replaced)
mkdir -p "$tmp/up"
cp -R "$src/v3-mirror" "$tmp/up/v3" && cp -R "$src/v2-mirror" "$tmp/up/v2" &&
cp -R "$src/v3-mirror" "$tmp/up/bad" && chmod -R u+w "$tmp/up" &&
printf 'not the index' \
	>"$tmp/up/bad/blobs/sha256/c0/c0d9ce71ad7e87fc82f0e335ce35e644b583909dadc8125488a9b708881c0970" &&
moto_aws s3 cp --recursive --quiet "$tmp/up" "s3://$bucket/" ||
	{ echo "FAIL: cannot upload the mirrors to moto" >&2; exit 1; }

run cache status -t "$tmp/seed.yaml" -o json
expect_status 0 "status of the seed's s3:// mirror"
expect_py "s3 v3: 3 specs of 5 records, index verified, 9 objects" \
	"j['mirror'] == 's3://$bucket/v3' and j['cloud'] == 'aws' and j['layout'] == 'v3' and j['specs'] == 3 and j['records'] == 5 and j['index']['verified'] and j['objects'] == 9"
expect_py "s3 v3: petal-hello@1.0 hit, zlib miss" \
	"[(r['name'], r['hit']) for r in j['requested']] == [('petal-hello', True), ('zlib', False)] and j['hit_ratio'] == 0.5"
run cache status -t "$tmp/seed.yaml" --url "s3://$bucket/v2" -o json
expect_status 0 "status of an s3:// v2 mirror"
expect_py "s3 v2: 2 specs, petal-hello hit" \
	"j['layout'] == 'v2' and j['specs'] == 2 and j['requested'][0]['hit'] and j['requested'][0]['hash'] == 'ebahe7siwdjm75uiqkisg7bnkqkb4z6k'"
[ "$(wc -l <"$tmp/state/petal/cache-history.jsonl" | tr -d ' ')" -eq 2 ] && ok ||
	not_ok "s3 statuses with a seed are recorded"

run cache status --url "s3://$bucket/bad"
expect_status 1 "an s3:// index with a bad checksum"
expect_in "$tmp/err" "checksum mismatch" "bad checksum: says so"
run cache status --url "s3://$bucket/nothing-here"
expect_status 1 "an s3:// prefix without an index"
expect_in "$tmp/err" "no Spack build cache index" "no index: says so"

# --- clear on S3: upload times are now, so clear everything older than 0s
sleep 1
listing v3 >"$tmp/before"
run cache clear --older-than 0s --dry-run --url "s3://$bucket/v3" -o json
expect_status 0 "s3 clear --dry-run"
expect_py "dry run: 3 victims, nothing deleted" "len(j['victims']) == 3 and j['deleted'] is False"
listing v3 >"$tmp/after"
cmp -s "$tmp/before" "$tmp/after" && ok || not_ok "s3 clear --dry-run changes nothing"
run cache clear --older-than 0s --url "s3://$bucket/v3"
expect_status 0 "s3 clear"
expect_in "$tmp/out" "read back: 0 specs, as planned" "s3 clear reads back"
run cache status --url "s3://$bucket/v3" -o json
expect_py "after clear: an empty, verified v3 index" "j['specs'] == 0 and j['index']['verified']"
# the aws CLI reads the cleared mirror back, and it holds what petal says
mkdir -p "$tmp/back"
moto_aws s3 cp --recursive --quiet "s3://$bucket/v3" "$tmp/back" && ok || not_ok "aws s3 cp of the cleared mirror"
[ -z "$(find "$tmp/back" -name '*.spec.manifest.json')" ] && ok || not_ok "spec manifests are gone from S3"
[ -f "$tmp/back/v3/layout.json" ] && ok || not_ok "what clear does not own stays (v3/layout.json)"
python3 - "$tmp/back" <<'PY' && ok || not_ok "the new index, as the aws CLI fetched it, is consistent"
import hashlib, json, os, sys
root = sys.argv[1]
m = json.load(open(os.path.join(root, 'v3/manifests/index/index.manifest.json')))
d = [x for x in m['data'] if x['mediaType'].startswith('application/vnd.spack.db.')][0]
blob = open(os.path.join(root, 'blobs/sha256', d['checksum'][:2], d['checksum']), 'rb').read()
assert hashlib.sha256(blob).hexdigest() == d['checksum']
assert not [r for r in json.loads(blob)['database']['installs'].values() if r.get('in_buildcache')]
PY
run cache status --url "s3://$bucket/v2" -o json
expect_py "the v2 mirror beside it is untouched" "j['specs'] == 2"

# --- the region: --region, then the seed's cluster.region, then the environment
(
unset AWS_REGION AWS_DEFAULT_REGION
run cache init --bucket petal-region-flag --prefix p --region eu-west-2 --output-dir "$tmp"
expect_status 0 "init --region with AWS_REGION unset (its --help example)"
loc=$(moto_aws s3api get-bucket-location --bucket petal-region-flag --output text)
[ "$loc" = eu-west-2 ] && ok || not_ok "init --region: the bucket is in eu-west-2, not '$loc'"
run cache status --url s3://petal-region-flag/p
expect_status 1 "status with no region anywhere"
expect_in "$tmp/err" "no AWS region: give --region" "no region: says where to give one"
run -vv cache status --url s3://petal-region-flag/p --region eu-west-2
expect_in "$tmp/err" "region eu-west-2 (petal: --region" "status --region with AWS_REGION unset"
run cache status --url s3://petal-region-flag/p --region 'EU west'
expect_status 2 "a malformed --region is a usage error"
expect_in "$tmp/err" "--region takes a region name" "a malformed --region: says what it takes"
finish >/dev/null
) || failures=$((failures + 1))

sed 's/region: us-east-1/region: eu-west-2/; s/s3_bucket: .*/s3_bucket: petal-region-seed/' \
	"$tmp/seed.yaml" >"$tmp/eu.yaml"
AWS_REGION=us-west-2
run cache init -t "$tmp/eu.yaml" --output-dir "$tmp"
expect_status 0 "init -t SEED with AWS_REGION elsewhere"
loc=$(moto_aws s3api get-bucket-location --bucket petal-region-seed --output text)
[ "$loc" = eu-west-2 ] && ok || not_ok "init -t: the bucket is in the seed's eu-west-2, not '$loc'"
for cmd in "cache status -t $tmp/eu.yaml" "cache clear --older-than 300d -t $tmp/eu.yaml" \
	"plan -t $tmp/eu.yaml --probe"; do
	# shellcheck disable=SC2086
	run -vv $cmd
	expect_in "$tmp/err" "region eu-west-2 (petal: --region or the seed's cluster.region)" \
		"$cmd: the seed's region over AWS_REGION"
	expect_not_in "$tmp/err" "us-west-2" "$cmd: AWS_REGION is not used"
done
run -vv cache status -t "$tmp/eu.yaml" --region ap-south-1
expect_in "$tmp/err" "region ap-south-1 (petal: --region" "--region over the seed's region"
run -vv plan -t "$tmp/eu.yaml" --probe --region ap-south-1 -o json
expect_status 0 "plan --probe --region"
expect_in "$tmp/err" "region ap-south-1 (petal: --region" "plan --probe --region over the seed's"
run plan -t "$tmp/eu.yaml" --region ap-south-1
expect_status 2 "plan --region without --probe"
AWS_REGION=us-east-1

# --- keys of S3-compatible stores: MinIO's default pair reaches the server
good_id=$AWS_ACCESS_KEY_ID good_secret=$AWS_SECRET_ACCESS_KEY
AWS_ACCESS_KEY_ID=minioadmin AWS_SECRET_ACCESS_KEY=minioadmin
run -vv cache status --url "s3://$bucket/v2" -o json
expect_status 0 "status with the keys minioadmin/minioadmin"
expect_py "minioadmin: the mirror was read" "j['specs'] == 2"
expect_in "$tmp/err" "-> HTTP 200" "minioadmin: the requests reached the server"
AWS_SECRET_ACCESS_KEY='minio secret'
run -vv cache status --url "s3://$bucket/v2"
expect_status 1 "a secret with a blank is refused"
expect_in "$tmp/err" "the secret access key holds a blank" "a blank secret: says why"
expect_not_in "$tmp/err" "minio secret" "a blank secret: not shown"
expect_not_in "$tmp/err" "-> HTTP" "a blank secret: nothing was sent"
AWS_ACCESS_KEY_ID=$(printf 'minio\001admin') AWS_SECRET_ACCESS_KEY=minioadmin
run cache status --url "s3://$bucket/v2"
expect_status 1 "a key id with a control character is refused"
expect_in "$tmp/err" "the access key id holds a blank, a control character" "a control character: says why"
AWS_ACCESS_KEY_ID=$good_id AWS_SECRET_ACCESS_KEY=$good_secret

finish
