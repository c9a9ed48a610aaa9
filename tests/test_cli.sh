#!/bin/sh
# The petal command line, end to end, with the built plugins and data.
. "${top_srcdir:?}/tests/lib.sh"
seeds="$top_srcdir/seeds"

# --- global options ------------------------------------------------------
run --version
expect_status 0 "--version"
expect_in "$tmp/out" "plugin ABI 2" "--version names the ABI"

run --help
expect_status 0 "--help"
for cmd in plan validate plugins runs; do expect_in "$tmp/out" "$cmd" "--help lists $cmd"; done

run
expect_status 2 "no command"

run palm
expect_status 2 "unknown command"
expect_in "$tmp/err" "did you mean 'plan'" "unknown command suggests"

run --output yaml plan -t "$seeds/hybrid.yaml"
expect_status 2 "bad --output"

for cmd in plan validate plugins runs; do
	run "$cmd" --help
	expect_status 0 "$cmd --help"
	expect_in "$tmp/out" "usage: petal $cmd" "$cmd --help shows usage"
done

# --- validate ------------------------------------------------------------
for s in "$seeds"/*.yaml; do
	run validate -t "$s"
	expect_status 0 "validate $(basename "$s")"
	expect_empty "$tmp/out" "validate $(basename "$s") is silent"
	expect_empty "$tmp/err" "validate $(basename "$s") is silent on stderr"
done
run validate --seed "$seeds/hybrid.yaml"
expect_status 0 "--seed is accepted like -t"

cat >"$tmp/bad.yaml" <<'YAML'
cluster:
  name: 9lives
  region: us-east-1
software:
  spak_packages: [samtools]
YAML
run validate -t "$tmp/bad.yaml"
expect_status 2 "invalid seed"
expect_in "$tmp/err" "$tmp/bad.yaml:2:" "problem located at line 2"
expect_in "$tmp/err" "$tmp/bad.yaml:5:" "second problem also reported (line 5)"
expect_in "$tmp/err" "spack_packages" "did-you-mean for a misspelt key"

run validate -t "$tmp/bad.yaml" --output json
expect_status 2 "invalid seed, json"
expect_py "json problems listed" "j['valid'] is False and len(j['problems']) >= 2"

: >"$tmp/empty.yaml"
run validate -t "$tmp/empty.yaml"
expect_status 2 "empty seed"
head -c 4096 /dev/urandom >"$tmp/binary.yaml"
run validate -t "$tmp/binary.yaml"
expect_status 2 "binary seed"
head -c 10485760 /dev/zero | tr '\0' 'a' >"$tmp/huge.yaml"
run validate -t "$tmp/huge.yaml"
expect_status 2 "10 MB seed"
python3 -c "print('a: ' + '['*100000 + ']'*100000)" >"$tmp/deep.yaml"
run validate -t "$tmp/deep.yaml"
expect_status 2 "absurd nesting"
printf 'cluster: {name: a\n  region: [\n' >"$tmp/malformed.yaml"
run validate -t "$tmp/malformed.yaml"
expect_status 2 "malformed YAML"
expect_in "$tmp/err" "malformed.yaml:" "malformed YAML located"
run validate -t "$tmp/does-not-exist.yaml"
expect_status 2 "missing seed file"
expect_in "$tmp/err" "does-not-exist.yaml" "missing seed named"

# --- plan ----------------------------------------------------------------
for s in "$seeds"/*.yaml; do
	run plan -t "$s"
	expect_status 0 "plan $(basename "$s")"
	run plan -t "$s" --output json
	expect_status 0 "plan $(basename "$s") --output json"
	expect_py "plan $(basename "$s") json has steps and totals" \
		"j['petal_plan_version'] == 1 and len(j['steps']) > 0 and j['totals']['ready_minutes'] > 0"
done

run plan -t "$seeds/hybrid.yaml" --output json
expect_py "hybrid: ready near 25 minutes" "15 <= j['totals']['ready_minutes'] <= 35"
expect_py "hybrid: baseline 4-8 h" "240 <= j['totals']['baseline_minutes'] <= 480"
expect_py "hybrid: ami, binary-cache and source all used" \
	"set(t['tier'] for t in j['tiers'] if t['packages']) >= {'ami', 'binary-cache', 'source'}"
expect_py "hybrid: gcc in the AMI" \
	"any(t['tier'] == 'ami' and any(p.startswith('gcc') for p in t['packages']) for t in j['tiers'])"
expect_py "hybrid: the seed hash is 64 hex digits" "len(j['seed']['hash']) == 64"

run plan -t "$seeds/hybrid.yaml"
expect_in "$tmp/out" "ami" "text plan names the ami tier"
expect_in "$tmp/out" "binary-cache" "text plan names the binary-cache tier"
expect_not_in "$tmp/out" "$(printf '\033')" "no colour when stdout is not a terminal"

run plan "$seeds/hybrid.yaml" --clusters 10 --months 6 --output json
expect_status 0 "cost comparison"
expect_py "comparison has three options, one cheapest" \
	"len(j['cost_comparison']['options']) == 3 and sum(1 for o in j['cost_comparison']['options'] if o['cheapest']) == 1"

run plan -t "$seeds/hybrid.yaml" --clusters 10
expect_status 2 "--clusters without --months"
run plan -t "$seeds/hybrid.yaml" --months 0 --clusters 1
expect_status 2 "--months 0"
run plan
expect_status 2 "plan without a seed"
run plan -t "$tmp/bad.yaml"
expect_status 2 "plan on an invalid seed"

# Figures too large to mean anything are refused, not printed as garbage.
cat >"$tmp/huge-figures.yaml" <<'YAML'
cluster: {name: x, region: us-east-1}
software:
  use_custom_ami: true
  in_ami: [gcc]
estimates: {figures: {boot_minutes: 1e308}, packages: {gcc: {core_minutes: 1e308}}}
YAML
run plan -t "$tmp/huge-figures.yaml"
expect_status 2 "absurd figures refused"
expect_in "$tmp/err" "estimates.packages.gcc.core_minutes" "absurd figure located"

# A cloud without images: the ami tier declines and the packages fall back.
sed 's/^  os: alinux2023/  os: alinux2023\n  cloud: local/' "$seeds/hybrid.yaml" >"$tmp/local.yaml"
run plan -t "$tmp/local.yaml" --output json
expect_status 0 "plan on cloud local"
expect_py "cloud local: nothing in the AMI" \
	"not any(t['tier'] == 'ami' and t['packages'] for t in j['tiers'])"
expect_py "cloud local: the decline is explained" \
	"any(d['tier'] == 'ami' for t in j['tiers'] for d in t.get('declined', []))"

# No plugins at all: a clear error, exit 3.
mkdir "$tmp/noplugins"
status=0
PETAL_PLUGIN_PATH="$tmp/noplugins" "$PETAL_BIN" plan -t "$seeds/hybrid.yaml" >"$tmp/out" 2>"$tmp/err" || status=$?
expect_status 3 "plan with no plugins"

# --- render --------------------------------------------------------------
run plan -t "$seeds/hybrid.yaml" --render "$tmp/r" --subnet-id subnet-0123456789abcdef0 --key-name lab
expect_status 0 "render"
for f in cluster-config.yaml build-instance.sh node-bootstrap.sh spack.yaml modules.yaml \
	container-modules.yaml; do
	if [ -s "$tmp/r/$f" ]; then ok; else not_ok "render wrote $f"; fi
done
run plan -t "$seeds/hybrid.yaml" --key-name lab
expect_status 2 "--key-name without --render"

# --- colour on a terminal, never with NO_COLOR -----------------------------
if command -v script >/dev/null 2>&1; then
	env -u NO_COLOR TERM=xterm script -qec "$PETAL_BIN plan -t $seeds/hybrid.yaml" /dev/null >"$tmp/tty" 2>&1 || true
	expect_in "$tmp/tty" "$(printf '\033[')" "colour on a terminal"
	NO_COLOR=1 TERM=xterm script -qec "$PETAL_BIN plan -t $seeds/hybrid.yaml" /dev/null >"$tmp/tty" 2>&1 || true
	expect_not_in "$tmp/tty" "$(printf '\033[')" "no colour with NO_COLOR on a terminal"
fi

# --- instance types: what validates plans --------------------------------------
cat >"$tmp/graviton.yaml" <<'YAML'
cluster:
  name: graviton
  region: us-east-1
compute:
  head_node: m7g.large
  queues:
    - name: hpc
      instance_types: [hpc7g.16xlarge]
    - name: big
      instance_types: [c8g.48xlarge]
software:
  build:
    instance_type: c7g.16xlarge
  spack_packages: [samtools]
YAML
run validate -t "$tmp/graviton.yaml"
expect_status 0 "validate m7g.large, hpc7g.16xlarge, c8g.48xlarge"
run plan -t "$tmp/graviton.yaml"
expect_status 0 "a seed that validates plans (m7g.large head node)"
expect_in "$tmp/out" "head node m7g.large" "the plan runs on the m7g.large"
expect_in "$tmp/out" "spack install -j 2 " "m7g.large has 2 vCPUs"
expect_not_in "$tmp/out" "a guess: instance type" "listed types are not guesses"
run plan -t "$tmp/graviton.yaml" --output json
expect_py "listed types: no instance guesses" "j['instance_guesses'] == []"

# an x86_64 cluster with a GPU queue
sed -e 's/m7g.large/c7i.2xlarge/; s/hpc7g.16xlarge/p5.48xlarge/; s/c8g.48xlarge/g6.12xlarge/' \
	-e 's/c7g.16xlarge/c7i.16xlarge/' "$tmp/graviton.yaml" >"$tmp/gpu.yaml"
run plan -t "$tmp/gpu.yaml" --output json
expect_status 0 "c7i.2xlarge with p5.48xlarge and g6.12xlarge queues plans"
expect_py "listed x86_64 types: no guesses, the build instance as given" \
	"j['instance_guesses'] == [] and 'c7i.16xlarge' in json.dumps(j)"

# one cluster, one architecture (ParallelCluster's InstanceArchitectureCompatibilityValidator)
sed 's/c8g.48xlarge/p5.48xlarge/' "$tmp/graviton.yaml" >"$tmp/mixed.yaml"
run validate -t "$tmp/mixed.yaml"
expect_status 2 "an x86_64 queue under an arm64 head node is refused"
expect_in "$tmp/err" "compute.queues[1].instance_types[0]: p5.48xlarge is x86_64 but the head node m7g.large is arm64" \
	"mixed queue: names the type, both architectures and where"
sed 's/instance_type: c7g.16xlarge/instance_type: c5.18xlarge/' "$tmp/graviton.yaml" >"$tmp/mixed-build.yaml"
run plan -t "$tmp/mixed-build.yaml"
expect_status 2 "an x86_64 build instance for an arm64 cluster is refused"
expect_in "$tmp/err" "software.build.instance_type: c5.18xlarge is x86_64 but the head node m7g.large is arm64" \
	"mixed build instance: says why"
expect_in "$tmp/err" "c7g.16xlarge" "mixed build instance: names an arm64 type to use"
# with no build instance given, an arm64 cluster gets an arm64 one
sed '/build:/d; /instance_type: c7g.16xlarge/d' "$tmp/graviton.yaml" >"$tmp/arm-default.yaml"
run plan -t "$tmp/arm-default.yaml"
expect_status 0 "an arm64 cluster without a build instance plans"
expect_in "$tmp/out" "build instance c7g.4xlarge" "the recommended build instance is arm64"

sed -e 's/c7i.2xlarge/x9z.4xlarge/' "$tmp/gpu.yaml" >"$tmp/unknown-type.yaml"
run validate -t "$tmp/unknown-type.yaml"
expect_status 0 "a well-formed unknown type validates"
run plan -t "$tmp/unknown-type.yaml"
expect_status 0 "a well-formed unknown type plans"
expect_in "$tmp/out" "a guess: instance type x9z.4xlarge (compute.head_node)" "the guess is said"
expect_in "$tmp/out" "estimates.instances.x9z.4xlarge" "how to give real figures"
expect_in "$tmp/out" "spack install -j 16 " "16 vCPUs from the size"
run plan -t "$tmp/unknown-type.yaml" --output json
expect_py "the guess in JSON" \
	"[(g['type'], g['where'], g['vcpus'], g['arch']) for g in j['instance_guesses']] == [('x9z.4xlarge', 'compute.head_node', 16, 'x86_64')] and j['instance_guesses'][0]['basis'] and j['instance_guesses'][0]['ondemand_usd_hour'] > 0"

for bad in foo c5.huge C5.large; do
	sed "s/m7g.large/$bad/" "$tmp/graviton.yaml" >"$tmp/bad-type.yaml"
	run validate -t "$tmp/bad-type.yaml"
	expect_status 2 "malformed type $bad is a validate error"
	expect_in "$tmp/err" "is not an instance type" "malformed type $bad: says so"
	run plan -t "$tmp/bad-type.yaml"
	expect_status 2 "malformed type $bad: plan refuses it the same way"
done

finish
