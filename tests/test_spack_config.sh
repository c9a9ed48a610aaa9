#!/bin/sh
# The rendered spack.yaml and modules.yaml, read by the real Spack 1.1.0 of
# ../shared/peers/spack (offline): the builtin repository pinned to the release 1.1.0 names
# and nothing else of Spack's default left in it, the cache mirror unsigned and binary-only,
# every package required for one target (x86_64_v3, aarch64 or the seed's), the Lmod settings, the [mpi] hierarchy only for a stack with an MPI.
. "$top_srcdir/tests/lib.sh"
real_spack_stage

peer=$(shared_dir)/peers/spack
if [ ! -r "$peer/spack-1.1.0-offline.tar.gz" ]; then
	echo "no $peer/spack-1.1.0-offline.tar.gz: the real Spack is not checked" >&2
	exit 77
fi
[ -x /usr/bin/python3 ] || { echo "no /usr/bin/python3 for Spack" >&2; exit 77; }
tar -C "$tmp" -xzf "$peer/spack-1.1.0-offline.tar.gz" spack
export SPACK_ROOT="$tmp/spack" SPACK_PYTHON=/usr/bin/python3 SPACK_DISABLE_LOCAL_CONFIG=1
export SPACK_USER_CONFIG_PATH="$tmp/user-config" SPACK_USER_CACHE_PATH="$tmp/user-cache"
spack() { "$SPACK_ROOT/bin/spack" "$@"; }

cat >"$tmp/seed.yaml" <<'EOF'
cluster: {name: real-spack, region: us-east-1}
network: {subnet_id: subnet-0123456789abcdef0}
software:
  spack_packages: [libhello@1.0]
  build_from_source: [hello-app@1.0]
  binary_cache: {s3_bucket: petal-test-cache, s3_prefix: spack}
EOF
# the same, with an MPI in the stack
sed 's/\[hello-app@1.0\]/[hello-app@1.0, openmpi@4.1.6]/' "$tmp/seed.yaml" >"$tmp/mpi.yaml"

# yq PYTHON-EXPR: evaluated with y = the YAML on stdin, keys without the ':' that marks
# Spack's overrides ('builtin:' is builtin::, as `spack config get` shows it)
yq() {
	python3 -c "import sys, yaml
def norm(v):
    return {k.rstrip(':'): norm(x) for k, x in v.items()} if isinstance(v, dict) else v
y = norm(yaml.safe_load(sys.stdin))
print($1)"
}

run plan -t "$tmp/seed.yaml" --render "$tmp/r"
expect_status 0 "render"

# spack.yaml, as Spack's environment
mkdir -p "$tmp/env"
cp "$tmp/r/spack.yaml" "$tmp/env/"
spack -e "$tmp/env" config get repos >"$tmp/repos" 2>"$tmp/err"
if [ "$(yq "y['repos']['builtin']" <"$tmp/repos")" = \
	"{'git': 'https://github.com/spack/spack-packages.git', 'tag': 'v2025.11.0'}" ]; then
	ok
else
	not_ok "spack.yaml: the builtin repository at v2025.11.0, no branch of the defaults: $(cat "$tmp/repos")"
fi
spack -e "$tmp/env" config get mirrors >"$tmp/mirrors" 2>"$tmp/err"
if [ "$(yq "y['mirrors']['petal-cache']" <"$tmp/mirrors")" = \
	"{'url': 's3://petal-test-cache/spack', 'signed': False, 'binary': True, 'source': False}" ]; then
	ok
else
	not_ok "spack.yaml: the cache mirror unsigned, binary only: $(cat "$tmp/mirrors")"
fi
spack -e "$tmp/env" config get packages >"$tmp/packages" 2>"$tmp/err"
if [ "$(yq "y['packages']['all']['require']" <"$tmp/packages")" = "['target=x86_64_v3']" ]; then
	ok
else
	not_ok "spack.yaml: every package for x86_64_v3 on x86_64: $(cat "$tmp/packages" "$tmp/err")"
fi
spack -e "$tmp/env" config get concretizer >"$tmp/conc" 2>"$tmp/err"
expect_in "$tmp/conc" "unify: when_possible" "spack.yaml: the concretizer settings"
spack -e "$tmp/env" find >"$tmp/specs" 2>"$tmp/err" || :
expect_in "$tmp/specs" "2 root specs" "spack.yaml: Spack reads its specs"
for spec in libhello@1.0 hello-app@1.0; do
	expect_in "$tmp/specs" "$spec" "spack.yaml: the spec $spec"
done

# modules.yaml, in the site scope as the scripts install it
cp "$tmp/r/modules.yaml" "$SPACK_ROOT/etc/spack/modules.yaml"
spack config get modules >"$tmp/modules" 2>"$tmp/err"
if [ "$(yq "[y['modules']['default'][k] for k in ('enable',)] + \
[y['modules']['default']['lmod'][k] for k in ('core_compilers', 'hierarchy', 'hash_length', 'projections')]" \
	<"$tmp/modules")" = "[['lmod'], ['gcc'], [], 0, {'all': '{name}/{version}'}]" ]; then
	ok
else
	not_ok "modules.yaml: Lmod, core gcc, no hierarchy without an MPI, no hashes: $(cat "$tmp/modules")"
fi
spack config blame modules >"$tmp/blame" 2>"$tmp/err"
expect_in "$tmp/blame" "$SPACK_ROOT/etc/spack/modules.yaml" "modules.yaml: read from the site scope"

# the seed's own compilers in Core beside gcc, as Spack 1.1 reads them
sed "s/\[hello-app@1.0\]/['hello-app@1.0 %llvm@17.0.6']/" "$tmp/seed.yaml" >"$tmp/llvm.yaml"
run plan -t "$tmp/llvm.yaml" --render "$tmp/llvm"
expect_status 0 "render llvm.yaml"
cp "$tmp/llvm/modules.yaml" "$SPACK_ROOT/etc/spack/modules.yaml"
spack config get modules >"$tmp/modules-llvm" 2>"$tmp/err"
if [ "$(yq "y['modules']['default']['lmod']['core_compilers']" <"$tmp/modules-llvm")" = \
	"['gcc', 'llvm@17.0.6']" ]; then
	ok
else
	not_ok "modules.yaml: core gcc and the seed's llvm: $(cat "$tmp/modules-llvm" "$tmp/err")"
fi
cp "$tmp/r/modules.yaml" "$SPACK_ROOT/etc/spack/modules.yaml"

# the target: aarch64 for an arm64 build, software.spack.target over either
sed 's/^network:.*/&\ncompute: {head_node: m7g.large}/' "$tmp/seed.yaml" >"$tmp/arm.yaml"
sed 's/^software:/&\n  spack: {target: zen4}/' "$tmp/seed.yaml" >"$tmp/zen4.yaml"
for t in arm:aarch64 zen4:zen4; do
	run plan -t "$tmp/${t%%:*}.yaml" --render "$tmp/${t%%:*}"
	expect_status 0 "render ${t%%:*}.yaml"
	mkdir -p "$tmp/env-${t%%:*}"
	cp "$tmp/${t%%:*}/spack.yaml" "$tmp/env-${t%%:*}/"
	spack -e "$tmp/env-${t%%:*}" config get packages >"$tmp/packages" 2>"$tmp/err"
	if [ "$(yq "y['packages']['all']['require']" <"$tmp/packages")" = "['target=${t#*:}']" ]; then
		ok
	else
		not_ok "spack.yaml of ${t%%:*}.yaml: every package for ${t#*:}: $(cat "$tmp/packages" "$tmp/err")"
	fi
done

run plan -t "$tmp/mpi.yaml" --render "$tmp/m"
expect_status 0 "render with an MPI"
cp "$tmp/m/modules.yaml" "$SPACK_ROOT/etc/spack/modules.yaml"
spack config get modules >"$tmp/modules" 2>"$tmp/err"
if [ "$(yq "y['modules']['default']['lmod']['hierarchy']" <"$tmp/modules")" = "['mpi']" ]; then
	ok
else
	not_ok "modules.yaml: the [mpi] hierarchy with an MPI: $(cat "$tmp/modules")"
fi
finish
