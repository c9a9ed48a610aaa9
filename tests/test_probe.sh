#!/bin/sh
# petal plan --probe: the plan composed with the cloud's answers.
#  - file://: a copy of the real v3 mirror (shared/testdata/spack-buildcache)
#    read through the cloud plugin 'local' (--cache-url): petal-hello@1.0 is a
#    hit, zlib a miss; an empty mirror makes every package a miss; a broken
#    index fails.
#  - moto_server (EC2 and S3, signatures checked): the same mirror uploaded
#    with the aws CLI, images made with the aws CLI (run-instances,
#    create-image, create-tags): custom_ami given by name resolves to its id,
#    the image tagged with the seed hash means nothing to bake, an arm64 image
#    for x86_64 instance types is an error naming both.
. "${top_srcdir:?}/tests/lib.sh"
heavy_test
. "$top_srcdir/tests/aws/moto.sh"

data=$(shared_dir)/testdata
if [ -z "$data" ] || [ ! -d "$data/spack-buildcache/v3-mirror" ]; then
	echo "FAIL: the real mirrors (shared/testdata/spack-buildcache) are not found:" \
		"set PETAL_SHARED_TESTDATA" >&2
	exit 1
fi
src=$data/spack-buildcache

# petal and the aws CLI see moto only (once started), never the user's files or an IMDS
AWS_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
AWS_CONFIG_FILE=$tmp/no-config
AWS_SHARED_CREDENTIALS_FILE=$tmp/no-credentials
export AWS_REGION AWS_EC2_METADATA_DISABLED AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_EC2 AWS_PROFILE \
	AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY 2>/dev/null || true

bucket=petal-probe-test
# the seed names an S3 bucket; --cache-url points the probe at a local copy
cat >"$tmp/cache.yaml" <<YAML
cluster:
  name: probe-cache
  region: us-east-1
software:
  binary_cache:
    s3_bucket: $bucket
    s3_prefix: v3
  spack_packages:
    - petal-hello@1.0
    - zlib
YAML
cp -R "$src/v3-mirror" "$tmp/mirror" || { echo "FAIL: cannot copy the mirror" >&2; exit 1; }

# --- offline: nothing changes without --probe ----------------------------------
run plan -t "$tmp/cache.yaml" -o json
expect_status 0 "offline plan"
expect_py "offline: no probe key, no from_cloud" \
	"'probe' not in j and all('from_cloud' not in s for s in j['steps'])"
expect_py "offline: both packages built and pushed" \
	"[s['packages'] for s in j['steps'] if s['id'] == 'binary-cache.cache-build'] == [['petal-hello@1.0', 'zlib']]"
offline_prepare=$(python3 -c "import json; print(json.load(open('$tmp/out'))['totals']['prepare_minutes'])")
run plan -t "$tmp/cache.yaml" --cache-url "file://$tmp/mirror"
expect_status 2 "--cache-url without --probe"
expect_in "$tmp/err" "add --probe" "--cache-url alone says what is missing"

# --- file://: a hit and a miss ------------------------------------------------
run plan -t "$tmp/cache.yaml" --probe --cache-url "file://$tmp/mirror" -o json
expect_status 0 "probe a file:// mirror"
expect_py "file: petal-hello hit, zlib miss" \
	"[(p['package'], p['cache'], p['version']) for p in j['probe']['packages']] == [('petal-hello@1.0', 'hit', '1.0'), ('zlib', 'miss', None)]"
expect_py "file: the hit's hash is the mirror's" \
	"j['probe']['packages'][0]['hash'] == 'x6v6jvab72sas2ioviep3cqhdisn57qe'"
expect_py "file: only zlib is built and pushed" \
	"[s['packages'] for s in j['steps'] if s['stage'] == 'cache-build'] == [['zlib']]"
expect_py "file: the pull installs both, after the build" \
	"[(s['packages'], s['depends_on']) for s in j['steps'] if s['id'] == 'binary-cache.pull'] == [(['petal-hello@1.0', 'zlib'], ['binary-cache.cache-build'])]"
expect_py "file: the steps say they rest on the cloud" \
	"all(s['from_cloud'] for s in j['steps'] if s['tier'] == 'binary-cache')"
expect_py "file: the answer names the mirror and the cloud serving it" \
	"[(a['question'], a['from_cloud'], a['source']) for a in j['probe']['answers']] == [('binary cache index', True, 'file://$tmp/mirror (cloud local)')] and '1 of 2 held' in j['probe']['answers'][0]['answer']"
expect_py "file: building one package is quicker than building two" \
	"j['totals']['prepare_minutes'] < $offline_prepare"
expect_py "file: no image was asked about" "j['probe']['images']['seed_image_id'] is None"

run plan -t "$tmp/cache.yaml" --probe --cache-url "file://$tmp/mirror"
expect_status 0 "probe, text"
expect_in "$tmp/out" "from the cloud: binary cache index: v3 index" "text: the answer"
expect_in "$tmp/out" "from the cloud: the cache holds petal-hello@1.0 (1.0); not zlib" \
	"text: per package"

# a seed asking only for what the cache holds: no build at all
sed '/- zlib/d' "$tmp/cache.yaml" >"$tmp/hits.yaml"
run plan -t "$tmp/hits.yaml" --probe --cache-url "file://$tmp/mirror" -o json
expect_status 0 "probe, every package a hit"
expect_py "all hits: no cache-build step, the pull depends on nothing" \
	"[s['id'] for s in j['steps']] == ['binary-cache.pull'] and j['steps'][0]['depends_on'] == [] and j['totals']['prepare_minutes'] == 0"

# an empty mirror: no index, every package a miss, and it says so
mkdir -p "$tmp/empty"
run plan -t "$tmp/cache.yaml" --probe --cache-url "$tmp/empty" -o json
expect_status 0 "probe a mirror without an index"
expect_py "no index: both misses, said so" \
	"[p['cache'] for p in j['probe']['packages']] == ['miss', 'miss'] and j['probe']['answers'][0]['answer'].startswith('no index: every package is a miss')"
expect_py "no index: both built" \
	"[s['packages'] for s in j['steps'] if s['stage'] == 'cache-build'] == [['petal-hello@1.0', 'zlib']]"

# a broken index: a clear error, no plan
cp -R "$src/v3-mirror" "$tmp/bad"
printf 'not the index' >"$tmp/bad/blobs/sha256/c0/c0d9ce71ad7e87fc82f0e335ce35e644b583909dadc8125488a9b708881c0970"
run plan -t "$tmp/cache.yaml" --probe --cache-url "file://$tmp/bad"
expect_status 1 "probe a mirror whose index fails its checksum"
expect_in "$tmp/err" "--probe: the binary cache's index cannot be read" "broken: says what failed"
expect_in "$tmp/err" "checksum mismatch" "broken: says why"
expect_empty "$tmp/out" "broken: no plan printed"
# the manifest is there, the blob it names is not: broken, not "no index"
cp -R "$src/v3-mirror" "$tmp/noblob"
rm -f "$tmp/noblob/blobs/sha256/c0/"*
run plan -t "$tmp/cache.yaml" --probe --cache-url "file://$tmp/noblob"
expect_status 1 "probe a mirror missing its index blob"
expect_in "$tmp/err" "is missing from the mirror" "missing blob: says so"
run plan -t "$tmp/cache.yaml" --probe --cache-url "relative/dir"
expect_status 2 "--cache-url must be a URL or an absolute path"

# the local cloud has no images: custom_ami is not asked, and the plan says so
cat >"$tmp/local.yaml" <<YAML
cluster:
  name: probe-local
  region: us-east-1
  cloud: local
compute:
  custom_ami: petal-base-probe
software:
  spack_packages: [zlib]
YAML
run plan -t "$tmp/local.yaml" --probe -o json
expect_status 0 "probe on the local cloud"
expect_py "local: custom_ami not asked, and why" \
	"[(a['question'], a['from_cloud']) for a in j['probe']['answers']] == [('binary cache index', False), ('custom_ami', False)] and 'no images' in j['probe']['answers'][1]['answer']"

# --- moto: S3 and EC2 ----------------------------------------------------------
trap 'moto_stop "$tmp/moto"; rm -rf "$tmp"' EXIT
if ! moto_start "$tmp/moto"; then
	echo "FAIL: moto_server could not be started" >&2
	exit 1
fi
. "$tmp/moto/moto.env"
AWS_ENDPOINT_URL_S3=$MOTO_URL
AWS_ENDPOINT_URL_EC2=$MOTO_URL
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_EC2

fatal() { echo "FAIL: $*" >&2; exit 1; }
moto_aws s3 mb "s3://$bucket" >/dev/null &&
moto_aws s3 cp --recursive --quiet "$src/v3-mirror" "s3://$bucket/v3" ||
	fatal "cannot upload the mirror to moto"

# an Amazon image of each architecture to launch from
base() {
	moto_aws ec2 describe-images --owners amazon --output text \
		--filters "Name=name,Values=amzn2-ami-hvm-*" \
		--query "sort_by(Images[?Architecture=='$1'], &Name)[0].ImageId"
}
x86_base=$(base x86_64) && arm_base=$(base arm64) || fatal "no Amazon images in moto"
# image NAME FROM [TAG-VALUE]: launch FROM, make an image NAME of it; its id
image() {
	i=$(moto_aws ec2 run-instances --image-id "$2" --instance-type c5.large --count 1 \
		--output text --query 'Instances[0].InstanceId') || return 1
	id=$(moto_aws ec2 create-image --instance-id "$i" --name "$1" --output text \
		--query ImageId) || return 1
	if [ -n "${3:-}" ]; then
		moto_aws ec2 create-tags --resources "$id" --tags "Key=petal:seed-hash,Value=$3" ||
			return 1
	fi
	echo "$id"
}

cat >"$tmp/hybrid.yaml" <<YAML
cluster:
  name: probe-hybrid
  region: us-east-1
compute:
  head_node: c5.2xlarge
  custom_ami: petal-base-probe
  queues:
    - name: compute
      instance_types: [c5.18xlarge]
      max_count: 4
software:
  use_custom_ami: true
  build:
    instance_type: c5.18xlarge
  in_ami:
    - gcc@12.3.0
  binary_cache:
    s3_bucket: $bucket
    s3_prefix: v3
  spack_packages:
    - petal-hello@1.0
    - zlib
YAML
custom_id=$(image petal-base-probe "$x86_base") || fatal "cannot make the custom image"

run plan -t "$tmp/hybrid.yaml" --probe -o json
expect_status 0 "probe on moto: S3 mirror, EC2 images"
expect_py "moto: the cache read over S3: petal-hello hit, zlib miss" \
	"[(p['package'], p['cache']) for p in j['probe']['packages']] == [('petal-hello@1.0', 'hit'), ('zlib', 'miss')] and j['probe']['cache_url'] == 's3://$bucket/v3'"
expect_py "moto: custom_ami's name resolved to its id, x86_64" \
	"j['probe']['images']['custom_ami_id'] == '$custom_id' and j['probe']['images']['custom_ami_arch'] == 'x86_64'"
expect_py "moto: no image for this seed hash yet: the bake is planned" \
	"j['probe']['images']['seed_image_id'] is None and [s['id'] for s in j['steps'] if s['tier'] == 'ami'] == ['ami.image-build', 'ami.boot']"
expect_py "moto: the bake's note names the resolved id" \
	"'$custom_id' in [s for s in j['steps'] if s['id'] == 'ami.image-build'][0]['note']"
expect_py "moto: only zlib goes to the cache build" \
	"[s['packages'] for s in j['steps'] if s['stage'] == 'cache-build'] == [['zlib']]"
expect_py "moto: three questions, all answered by the cloud" \
	"[a['from_cloud'] for a in j['probe']['answers']] == [True, True, True]"
hash=$(python3 -c "import json; print(json.load(open('$tmp/out'))['seed']['hash'])")
# an S3 prefix with nothing in it: every package a miss
run plan -t "$tmp/hybrid.yaml" --probe --cache-url "s3://$bucket/nothing-here" -o json
expect_status 0 "probe an empty S3 prefix"
expect_py "empty S3 prefix: both misses, said so" \
	"[p['cache'] for p in j['probe']['packages']] == ['miss', 'miss'] and j['probe']['answers'][0]['answer'].startswith('no index') and j['probe']['cache_url'] == 's3://$bucket/nothing-here'"

# the image baked for this seed hash: nothing to bake, nodes boot it
baked_id=$(image "petal-$(echo "$hash" | cut -c1-16)" "$x86_base" "$hash") ||
	fatal "cannot make the seed hash's image"
run plan -t "$tmp/hybrid.yaml" --probe -o json
expect_status 0 "probe with the seed hash's image baked"
expect_py "baked: the cloud's image id" "j['probe']['images']['seed_image_id'] == '$baked_id'"
expect_py "baked: no image-build, the boot names the image and waits for nothing" \
	"[(s['id'], s['depends_on']) for s in j['steps'] if s['tier'] == 'ami'] == [('ami.boot', [])] and '$baked_id' in j['steps'][0]['note'] and j['steps'][0]['from_cloud']"
run plan -t "$tmp/hybrid.yaml" --probe
expect_status 0 "probe with the seed hash's image, text"
expect_in "$tmp/out" "from the cloud: image tagged petal:seed-hash=$(echo "$hash" | cut -c1-12)" \
	"text: the seed hash's image"
expect_in "$tmp/out" "from the cloud: custom_ami petal-base-probe: $custom_id (x86_64" \
	"text: custom_ami resolved"

# custom_ami given by id: looked up among the account's images
sed "s/custom_ami: petal-base-probe/custom_ami: $custom_id/" "$tmp/hybrid.yaml" >"$tmp/by-id.yaml"
run plan -t "$tmp/by-id.yaml" --probe -o json
expect_status 0 "probe, custom_ami by id"
expect_py "by id: found, with its architecture" \
	"j['probe']['images']['custom_ami_id'] == '$custom_id' and j['probe']['images']['custom_ami_arch'] == 'x86_64'"

# an id that is not the account's own (shared, public, or wrong): not an
# error, but not checked either, and the answer says so
sed "s/custom_ami: petal-base-probe/custom_ami: ami-0123456789abcdef0/" "$tmp/hybrid.yaml" >"$tmp/foreign.yaml"
run plan -t "$tmp/foreign.yaml" --probe -o json
expect_status 0 "probe, custom_ami an id of no image of this account"
expect_py "foreign id: kept, architecture unknown, said so" \
	"j['probe']['images']['custom_ami_id'] == 'ami-0123456789abcdef0' and j['probe']['images']['custom_ami_arch'] is None and 'not among this account' in j['probe']['answers'][2]['answer']"

# a name the cloud does not know
sed "s/custom_ami: petal-base-probe/custom_ami: petal-no-such-image/" "$tmp/hybrid.yaml" >"$tmp/unknown.yaml"
run plan -t "$tmp/unknown.yaml" --probe
expect_status 1 "probe, custom_ami unknown to the cloud"
expect_in "$tmp/err" "$tmp/unknown.yaml:6:" "unknown: located in the seed"
expect_in "$tmp/err" "petal-no-such-image" "unknown: names the image"

# an arm64 image for x86_64 instance types
arm_id=$(image petal-base-arm "$arm_base") || fatal "cannot make the arm64 image"
sed "s/custom_ami: petal-base-probe/custom_ami: petal-base-arm/" "$tmp/hybrid.yaml" >"$tmp/arm.yaml"
run plan -t "$tmp/arm.yaml" --probe
expect_status 1 "probe, an arm64 custom_ami for x86_64 instances"
expect_in "$tmp/err" "$arm_id (arm64)" "arm64: names the image and its architecture"
expect_in "$tmp/err" "c5.2xlarge is x86_64" "arm64: names the instance type and its architecture"
expect_empty "$tmp/out" "arm64: no plan printed"
# arm64 instance types boot it (built on arm64 too: the seed hash changes, so
# the x86_64 image baked above is not this seed's)
sed -e "s/custom_ami: petal-base-probe/custom_ami: petal-base-arm/" \
	-e "s/c5.2xlarge/c7g.2xlarge/; s/c5.18xlarge/c7g.16xlarge/" "$tmp/hybrid.yaml" >"$tmp/arm-ok.yaml"
run plan -t "$tmp/arm-ok.yaml" --probe -o json
expect_status 0 "probe, an arm64 custom_ami for arm64 instances"
expect_py "arm64 on Graviton: resolved, and nothing baked for this seed hash yet" \
	"j['probe']['images']['custom_ami_arch'] == 'arm64' and j['probe']['images']['seed_image_id'] is None"
# built on x86_64, booted on arm64: refused when the seed is read, before the
# cloud is asked (what the build instance makes would not run on the nodes)
sed -e "s/custom_ami: petal-base-probe/custom_ami: petal-base-arm/" \
	-e "s/c5.2xlarge/c7g.2xlarge/; s/c5.18xlarge\]/c7g.16xlarge]/" "$tmp/hybrid.yaml" >"$tmp/arm-mixed.yaml"
run plan -t "$tmp/arm-mixed.yaml" --probe
expect_status 2 "probe, arm64 nodes with an x86_64 build instance"
expect_in "$tmp/err" "software.build.instance_type: c5.18xlarge is x86_64 but the head node c7g.2xlarge is arm64" \
	"mixed: names the build instance and both architectures"

# a wrong secret: refused, and never shown
good_secret=$AWS_SECRET_ACCESS_KEY
AWS_SECRET_ACCESS_KEY=wrongSecretKeyEXAMPLE0123456789abcdefghij
run plan -t "$tmp/hybrid.yaml" --probe
AWS_SECRET_ACCESS_KEY=$good_secret
expect_status 1 "probe with a wrong secret"
expect_in "$tmp/err" "SignatureDoesNotMatch" "a wrong secret: AWS's code"
expect_not_in "$tmp/err" "wrongSecretKey" "the secret is not shown"

finish
