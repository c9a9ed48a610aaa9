#!/bin/sh
# The design document users have in hand (shared/seed/000_fed4394c9250031f.txt),
# read as it is, not copied: every ```yaml block that is a seed (it has a
# top-level cluster:) is written to a file and given to `petal validate` and
# `petal plan`, and the outcome of each is asserted.  The document has 6 yaml
# blocks: 5 seeds and ParallelCluster's own `Image: CustomAmi:` snippet, which
# is no seed and is skipped by design.
. "${top_srcdir:?}/tests/lib.sh"

# --- the document: $PETAL_SHARED_TESTDATA/../seed, else shared/seed above the
# source tree, else /work/shared/seed; missing is a failure
name=000_fed4394c9250031f.txt
doc=$(shared_dir)/seed/$name
if [ ! -f "$doc" ]; then
	echo "FAIL: the design document (shared/seed/$name) is not found:" \
		"set PETAL_SHARED_TESTDATA" >&2
	exit 1
fi

# --- the blocks, numbered from 1 in document order: $tmp/block-N.yaml
awk -v dir="$tmp" '
	/^```yaml[ \t]*$/ { n++; out = dir "/block-" n ".yaml"; printf "" > out; inside = 1; next }
	/^```/ && inside { inside = 0; close(out); next }
	inside { print > out }
	END { print n > (dir "/blocks") }
' "$doc"
blocks=$(cat "$tmp/blocks")
if [ "$blocks" -eq 6 ]; then ok; else not_ok "the document has 6 yaml blocks, found $blocks"; fi
seeds=0
for f in "$tmp"/block-*.yaml; do
	grep -q '^cluster:' "$f" && seeds=$((seeds + 1))
done
if [ "$seeds" -eq 5 ]; then ok; else not_ok "5 of the blocks are seeds, found $seeds"; fi

# check N VALIDATE-STATUS PLAN-STATUS WHAT: one block through validate and plan
check() {
	f=$tmp/block-$1.yaml
	if ! grep -q '^cluster:' "$f"; then
		not_ok "block $1 ($4) is not a seed"
		return
	fi
	run validate "$f"
	expect_status "$2" "block $1 ($4): validate"
	run plan -t "$f"
	expect_status "$3" "block $1 ($4): plan"
}

# 1. Tier 1, pre-built AMIs: custom_ami ami-0123456789abcdef has 16 hex
#    digits and cannot exist on AWS; the error says what an id looks like
check 1 2 2 "Tier 1: pre-built AMIs"
expect_in "$tmp/err" "block-1.yaml:7:15: compute.custom_ami: ami-0123456789abcdef has 16 hex digits" \
	"block 1: the error names the place and the value"
expect_in "$tmp/err" "ami- followed by 8 or 17 hex digits, e.g. ami-0123456789abcdef0" \
	"block 1: the error says what a valid id looks like"
expect_in "$tmp/err" "or give the AMI's name" "block 1: the error says a name will do"
# with a valid id in its place, the same seed validates and plans
sed 's/ami-0123456789abcdef /ami-0123456789abcdef0 /' "$tmp/block-1.yaml" >"$tmp/fixed-1.yaml"
run plan -t "$tmp/fixed-1.yaml"
expect_status 0 "block 1 with a 17-digit id plans"

# 2. Tier 2, binary cache: s3_prefix /caches/bioinformatics normalised
check 2 0 0 "Tier 2: Spack binary cache"
expect_in "$tmp/out" "s3://my-spack-cache/caches/bioinformatics:" \
	"block 2: the plan's mirror has the prefix without its leading '/'"
expect_not_in "$tmp/out" "cache//" "block 2: no empty component in the mirror"
run plan -t "$tmp/block-2.yaml" --output json
expect_py "block 2: the cache is built with the three packages" \
	"[s['packages'] for s in j['steps'] if s['id'] == 'binary-cache.cache-build'] == [['gcc@11.3.0', 'openmpi@4.1.4', 'samtools@1.17']]"

# 3. Tier 3, containers
check 3 0 0 "Tier 3: container images"
expect_in "$tmp/out" "container: 3 packages: samtools bwa gatk" "block 3: the container's modules"

# 4. Tier 4, from source: build_parallel: true is every core of the head node
check 4 0 0 "Tier 4: build from source"
expect_in "$tmp/out" "spack install -j 4 at cluster creation" \
	"block 4: every core of the default head node c5.xlarge (4 vCPUs)"

# 5. The hybrid strategy: custom_ami is a name (ami-base-bio-v2), kept
check 5 0 0 "hybrid strategy"
expect_in "$tmp/out" "image ami-base-bio-v2" "block 5: the AMI name is kept"
expect_in "$tmp/out" "source: 1 package: lab-pipeline@develop" "block 5: the source tier"

# 6. ParallelCluster's config snippet: not a seed, skipped by design
if grep -q '^cluster:' "$tmp/block-6.yaml"; then
	not_ok "block 6 should be ParallelCluster's Image snippet, not a seed"
else
	ok
fi
expect_in "$tmp/block-6.yaml" "CustomAmi: ami-0123456789abcdef" "block 6 is the Image: CustomAmi snippet"

finish
