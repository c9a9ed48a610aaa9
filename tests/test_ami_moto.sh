#!/bin/sh
# petal ami against a real moto_server with signatures checked: images made
# with the aws CLI (run-instances + create-image, tags as build-ami sets
# them) for two seeds in two regions, and one not made by petal.
#  - list: petal's images only, size from the images' EBS mappings (moto
#    gives every image one 15 GB snapshot, whatever it is given), cost from
#    data/figures.json; --all-regions finds the other region's
#  - delete: image and snapshots gone (describe-snapshots); an image not
#    tagged petal:seed-hash refused without --force; unknown ids
#  - copy: the copy carries the tags; bad, unknown and own regions refused
#  - prune: exactly the newest N per seed kept; --dry-run deletes nothing
#  - base: ParallelCluster's image from tests/aws/pcluster_amis.json
#    (MOTO_AMIS_PATH) for the seed's version, OS and architecture, on a
#    second server: moto 5 reads that file for the first region it serves
#    and fails (500) in every other, so the lifecycle's server uses moto's
#    own images
. "${top_srcdir:?}/tests/lib.sh"
heavy_test
. "$top_srcdir/tests/aws/moto.sh"

AWS_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
AWS_CONFIG_FILE=$tmp/no-config
AWS_SHARED_CREDENTIALS_FILE=$tmp/no-credentials
export AWS_REGION AWS_EC2_METADATA_DISABLED AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_EC2 AWS_PROFILE AWS_SESSION_TOKEN \
	AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION 2>/dev/null || true

fatal() { echo "FAIL: $*" >&2; exit 1; }

fixture=$top_srcdir/tests/aws/pcluster_amis.json
unset MOTO_AMIS_PATH 2>/dev/null || true
trap 'moto_stop "$tmp/moto"; moto_stop "$tmp/moto2"; rm -rf "$tmp"' EXIT
moto_start "$tmp/moto" || fatal "moto_server could not be started"
. "$tmp/moto/moto.env"
AWS_ENDPOINT_URL_EC2=$MOTO_URL
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL_EC2

price=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['figures']['ami_gb_month'])" \
	"$top_srcdir/data/figures.json")

# instance REGION: an instance to make images of (one serves every image)
instance() {
	base=$(moto_aws --region "$1" ec2 describe-images --owners amazon \
		--filters Name=architecture,Values=x86_64 --query 'Images[0].ImageId' --output text) &&
	moto_aws --region "$1" ec2 run-instances --image-id "$base" --instance-type c5.large \
		--count 1 --query 'Instances[0].InstanceId' --output text
}
# make_image REGION INSTANCE NAME SEED HASH PACKAGES: an image as build-ami tags it; its id
make_image() {
	moto_aws --region "$1" ec2 create-image --instance-id "$2" --name "$3" \
		--tag-specifications "ResourceType=image,Tags=[{Key=petal:seed-hash,Value=$5},{Key=petal:seed,Value=$4},{Key=petal:packages,Value='$6'},{Key=Name,Value=$3}]" \
		--query ImageId --output text
}

bio=1111111111111111111111111111111111111111111111111111111111111111
chem=2222222222222222222222222222222222222222222222222222222222222222
east_i=$(instance us-east-1) && west_i=$(instance us-west-2) || fatal "instances to image"
# creation dates are to the second: a second apart, oldest first
bio1=$(make_image us-east-1 "$east_i" bio-1 bio $bio "zlib samtools@1.17") || fatal "image bio-1"
sleep 1.1
chem1=$(make_image us-east-1 "$east_i" chem-1 chem $chem "gromacs") || fatal "image chem-1"
sleep 1.1
bio2=$(make_image us-east-1 "$east_i" bio-2 bio $bio "zlib samtools@1.17") || fatal "image bio-2"
sleep 1.1
chem2=$(make_image us-east-1 "$east_i" chem-2 chem $chem "gromacs") || fatal "image chem-2"
sleep 1.1
bio3=$(make_image us-east-1 "$east_i" bio-3 bio $bio "zlib samtools@1.17 bwa") || fatal "image bio-3"
west=$(make_image us-west-2 "$west_i" bio-west bio $bio "zlib") || fatal "image bio-west"
foreign=$(moto_aws ec2 register-image --name not-petal --root-device-name /dev/xvda \
	--architecture x86_64 --query ImageId --output text) || fatal "register-image"

# --- list ---------------------------------------------------------------------
run ami list -o json
expect_status 0 "list"
moto_aws ec2 describe-images --owners self --output json >"$tmp/self.json" || fatal "describe"
expect_py "list: the five petal images of us-east-1, newest first, not the foreign one" \
	"[i['id'] for i in j['images']] == '$bio3 $chem2 $bio2 $chem1 $bio1'.split()"
expect_py "list: sizes are the sum of each image's EBS volume sizes" \
	"all(i['size_gb'] == sum(m['Ebs']['VolumeSize'] for x in json.load(open('$tmp/self.json'))['Images'] if x['ImageId'] == i['id'] for m in x['BlockDeviceMappings'] if 'Ebs' in m) and i['size_gb'] > 0 for i in j['images'])"
expect_py "list: monthly cost is size times ami_gb_month ($price)" \
	"all(abs(i['monthly_cost_usd'] - i['size_gb'] * $price) < 1e-9 for i in j['images']) and j['price_gb_month'] == $price"
expect_py "list: totals add up" \
	"j['totals']['images'] == 5 and abs(j['totals']['size_gb'] - sum(i['size_gb'] for i in j['images'])) < 1e-9 and abs(j['totals']['monthly_cost_usd'] - sum(i['monthly_cost_usd'] for i in j['images'])) < 1e-9"
expect_py "list: seed, hash and packages from the tags" \
	"[(i['seed'], i['seed_hash'][:4], i['packages']) for i in j['images']][0] == ('bio', '1111', ['zlib', 'samtools@1.17', 'bwa']) and j['images'][1]['seed'] == 'chem'"
expect_py "list: age in days, region" \
	"all(0 <= i['age_days'] < 1 and i['region'] == 'us-east-1' for i in j['images']) and j['regions'] == ['us-east-1']"
run ami list
expect_status 0 "list as text"
expect_in "$tmp/out" "$bio3" "text list names the newest"
expect_in "$tmp/out" "5 images, 75 GB, \$3.75 a month" "text list totals (5 x 15 GB at \$0.05)"
expect_not_in "$tmp/out" "$foreign" "text list: the foreign image"
run ami list --region us-west-2 -o json
expect_py "list --region us-west-2: that region's only" "[i['id'] for i in j['images']] == ['$west']"
run ami list --all-regions -o json
expect_status 0 "list --all-regions"
expect_py "--all-regions: the partition's regions DescribeRegions lists, both regions' images" \
	"len(j['regions']) > 2 and 'us-west-2' in j['regions'] and not any(r.startswith(('cn-', 'us-gov-')) for r in j['regions']) and sorted(i['id'] for i in j['images']) == sorted('$bio3 $chem2 $bio2 $chem1 $bio1 $west'.split())"

# --- delete -------------------------------------------------------------------
run ami delete "$foreign"
expect_status 1 "delete of an image petal did not tag"
expect_in "$tmp/err" "not tagged petal:seed-hash" "the refusal says why"
expect_in "$tmp/err" "--force" "the refusal names --force"
moto_aws ec2 describe-images --image-ids "$foreign" >/dev/null 2>&1 || not_ok "the refused image is gone"
run ami delete ami-0123456789abcdef0
expect_status 1 "delete of an unknown id"
expect_in "$tmp/err" "no image ami-0123456789abcdef0" "unknown id named"
snaps=$(moto_aws ec2 describe-images --image-ids "$chem1" \
	--query 'Images[0].BlockDeviceMappings[].Ebs.SnapshotId' --output text)
case "$snaps" in snap-*) ok ;; *) not_ok "chem-1 has no snapshot to watch: '$snaps'" ;; esac
run ami delete "$chem1" -o json
expect_status 0 "delete of a petal image"
expect_py "delete json" "j['deleted'] == ['$chem1'] and j['failed'] == []"
status=0
moto_aws ec2 describe-snapshots --snapshot-ids $snaps >"$tmp/out" 2>"$tmp/err" || status=$?
[ "$status" -ne 0 ] && ok || not_ok "describe-snapshots of the deleted image's snapshots succeeded"
expect_in "$tmp/err" "InvalidSnapshot.NotFound" "its snapshots are gone"
moto_aws ec2 describe-images --owners self --query 'Images[].ImageId' --output text >"$tmp/out"
expect_not_in "$tmp/out" "$chem1" "the image is deregistered"
run ami delete "$foreign" --force
expect_status 0 "delete --force of the foreign image"
run ami delete
expect_status 2 "delete without ids"

# --- copy ---------------------------------------------------------------------
run ami copy "$chem2" --to-region eu-west-1 --to-region us-west-2 -o json
expect_status 0 "copy to two regions"
expect_py "copy: two available copies, new ids" \
	"[c['region'] for c in j['copies']] == ['eu-west-1', 'us-west-2'] and all(c['state'] == 'available' and c['id'].startswith('ami-') and c['id'] != '$chem2' for c in j['copies'])"
copy_eu=$(python3 -c "import json; print(json.load(open('$tmp/out'))['copies'][0]['id'])")
copy_west=$(python3 -c "import json; print(json.load(open('$tmp/out'))['copies'][1]['id'])")
moto_aws --region eu-west-1 ec2 describe-images --image-ids "$copy_eu" --output json >"$tmp/out"
expect_py "the copy carries petal's tags" \
	"{t['Key']: t['Value'] for t in j['Images'][0]['Tags']}.get('petal:seed-hash') == '$chem' and {t['Key']: t['Value'] for t in j['Images'][0]['Tags']}.get('petal:seed') == 'chem'"
snaps=$(python3 -c "import json; print(' '.join(m['Ebs']['SnapshotId'] for m in json.load(open('$tmp/out'))['Images'][0]['BlockDeviceMappings'] if 'Ebs' in m))")
# shellcheck disable=SC2086 # the ids are words
moto_aws --region eu-west-1 ec2 describe-snapshots --snapshot-ids $snaps --output json >"$tmp/out"
expect_py "the copy's snapshots carry petal's tags too" \
	"j['Snapshots'] and all({t['Key']: t['Value'] for t in s.get('Tags', [])}.get('petal:seed-hash') == '$chem' for s in j['Snapshots'])"
run ami list --region eu-west-1 -o json
expect_py "the copy is listed in its region as chem's" \
	"[(i['id'], i['seed']) for i in j['images']] == [('$copy_eu', 'chem')]"
run ami copy "$chem2" --to-region us-east-1
expect_status 2 "copy to the image's own region"
expect_in "$tmp/err" "own region" "own region said"
run ami copy "$chem2" --to-region mars-north-1
expect_status 2 "copy to a region the account does not have"
expect_in "$tmp/err" "'mars-north-1' is not a region" "unknown region named"
run ami copy "$chem2" --to-region 'Not_A_Region'
expect_status 2 "copy to a malformed region"
run ami copy ami-0123456789abcdef0 --to-region eu-west-1
expect_status 1 "copy of an unknown image"
expect_in "$tmp/err" "no image ami-0123456789abcdef0" "unknown source named"
run ami copy "$chem2"
expect_status 2 "copy without --to-region"

# --- prune --------------------------------------------------------------------
moto_aws ec2 describe-images --owners self --query 'Images[].ImageId' --output text \
	| tr '\t' '\n' | sort >"$tmp/before"
run ami prune --keep 1 --dry-run -o json
expect_status 0 "prune --dry-run"
expect_py "dry run: the older bio images would go, chem's one stays" \
	"sorted(i['id'] for i in j['deleted']) == sorted(['$bio1', '$bio2']) and sorted(i['id'] for i in j['kept']) == sorted(['$bio3', '$chem2']) and j['dry_run']"
moto_aws ec2 describe-images --owners self --query 'Images[].ImageId' --output text \
	| tr '\t' '\n' | sort >"$tmp/after"
cmp -s "$tmp/before" "$tmp/after" && ok || not_ok "--dry-run deleted something"
run ami prune --keep 1
expect_status 0 "prune --keep 1"
expect_in "$tmp/out" "deleted 2 images, kept 2" "prune's summary"
moto_aws ec2 describe-images --owners self --output json >"$tmp/out"
expect_py "prune kept exactly the newest per seed" \
	"sorted(i['ImageId'] for i in j['Images']) == sorted(['$bio3', '$chem2'])"
run ami prune --keep 0 --all-regions --dry-run -o json
expect_status 0 "prune --keep 0 --all-regions --dry-run"
expect_py "--keep 0 --all-regions: every petal image of every region" \
	"sorted(i['id'] for i in j['deleted']) == sorted(['$bio3', '$chem2', '$west', '$copy_eu', '$copy_west']) and j['kept'] == []"
run ami prune --dry-run
expect_status 2 "prune without --keep"
run ami prune --keep -1
expect_status 2 "prune --keep -1"
expect_in "$tmp/err" "--keep takes a count" "bad --keep said"

# --- usage --------------------------------------------------------------------
run ami list --region us-east-1 --all-regions
expect_status 2 "--region with --all-regions"
run ami list --region Bad_Region
expect_status 2 "a malformed --region"
run ami list --force
expect_status 2 "an option the subcommand does not take"
expect_in "$tmp/err" "ami list takes no --force" "the stray option named"
run ami lst
expect_status 2 "an unknown subcommand"
expect_in "$tmp/err" "did you mean 'list'" "a near name suggested"
run ami --help
expect_status 0 "ami --help"
expect_in "$tmp/out" "petal ami prune" "help lists prune"

# --- base ---------------------------------------------------------------------
moto_stop "$tmp/moto"
MOTO_AMIS_PATH=$fixture
export MOTO_AMIS_PATH
moto_start "$tmp/moto2" || fatal "the second moto_server could not be started"
. "$tmp/moto2/moto.env"
AWS_ENDPOINT_URL_EC2=$MOTO_URL
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL_EC2
lab=$(moto_aws ec2 register-image --name lab-rocky9-base --root-device-name /dev/xvda \
	--architecture x86_64 --query ImageId --output text) || fatal "register-image lab-rocky9-base"
seed() { # FILE OS VERSION HEAD [BASE_AMI]
	{
		printf 'cluster:\n  name: base\n  region: us-east-1\n  os: %s\n  pcluster_version: "%s"\n' "$2" "$3"
		printf 'compute:\n  head_node: %s\n' "$4"
		printf 'software:\n  spack_packages: [zlib]\n'
		[ -n "${5:-}" ] && printf '  build:\n    base_ami: "%s"\n' "$5"
	} >"$1"
}
# moto keeps no deprecation times: the newest available of the right name and arch
want() {
	python3 -c "
import json, sys
imgs = [a for a in json.load(open(sys.argv[1])) if a['name'].startswith(sys.argv[2])
        and a['architecture'] == sys.argv[3] and a['state'] == 'available']
print(max(imgs, key=lambda a: (a['creation_date'], a['ami_id']))['ami_id'])" "$fixture" "$1" "$2"
}
seed "$tmp/x86.yaml" alinux2023 3.11.1 c5.xlarge
run ami base -t "$tmp/x86.yaml" -o json
expect_status 0 "base for alinux2023 3.11.1 x86_64"
expect_py "base: ParallelCluster's newest fitting image" \
	"j['id'] == '$(want aws-parallelcluster-3.11.1-amzn2023-hvm-x86_64 x86_64)' and j['arch'] == 'x86_64' and not j['given']"
seed "$tmp/arm.yaml" alinux2023 3.11.1 c7g.xlarge
run ami base -t "$tmp/arm.yaml" -o json
expect_py "base for arm64: the arm64 image" \
	"j['id'] == '$(want aws-parallelcluster-3.11.1-amzn2023-hvm-arm64 arm64)' and j['arch'] == 'arm64'"
seed "$tmp/old.yaml" ubuntu2204 3.10.1 c5.xlarge
run ami base -t "$tmp/old.yaml"
expect_status 0 "base for ubuntu2204 3.10.1"
expect_in "$tmp/out" "$(want aws-parallelcluster-3.10.1-ubuntu-2204-lts-hvm-x86_64 x86_64)" "ubuntu 3.10.1 image"
seed "$tmp/none.yaml" alinux2023 3.9.0 c5.xlarge
run ami base -t "$tmp/none.yaml"
expect_status 1 "no image for that version"
expect_in "$tmp/err" "no ParallelCluster 3.9.0 image for alinux2023 on x86_64" "what was missing"
expect_in "$tmp/err" "aws-parallelcluster-3.9.0-amzn2023-hvm-x86_64*" "what was searched"
expect_in "$tmp/err" "base_ami" "how to fix it"
seed "$tmp/rocky.yaml" rocky9 3.11.1 c5.xlarge
run ami base -t "$tmp/rocky.yaml"
expect_status 2 "rocky9 without base_ami"
expect_in "$tmp/err" "software.build.base_ami" "rocky needs base_ami"
seed "$tmp/named.yaml" rocky9 3.11.1 c5.xlarge lab-rocky9-base
run ami base -t "$tmp/named.yaml" -o json
expect_status 0 "base_ami by name"
expect_py "base_ami by name: this account's image" "j['id'] == '$lab' and j['given']"
seed "$tmp/byid.yaml" alinux2023 3.11.1 c5.xlarge ami-0123456789abcdef0
run ami base -t "$tmp/byid.yaml" -o json
expect_py "base_ami by id: as given" "j['id'] == 'ami-0123456789abcdef0' and j['given']"
seed "$tmp/gone.yaml" alinux2023 3.11.1 c5.xlarge no-such-image
run ami base -t "$tmp/gone.yaml"
expect_status 1 "base_ami naming no image"
expect_in "$tmp/err" "'no-such-image'" "the name said"

finish
