#!/bin/sh
# petal's rendered scripts, run for real: the real Spack 1.1.0 of ../shared/peers/spack
# (offline), in the sandbox of tests/sandbox/run-as-node.sh, against moto_server's S3.
# A build instance builds libhello (binary-cache tier) from the source mirror and pushes it
# to s3://petal-real-cache/spack; `petal cache status` sees it there; the head node installs
# it from the cache only, builds hello-app (source tier) and writes the ready mark; a compute
# node waits for the mark and installs nothing; an ordinary user's login shell loads
# hello-app through Lmod and runs it.  The build instance reports as it runs (PETAL_RUN,
# PETAL_STEP, PETAL_REPORT_INTERVAL=1): every version of its status.json in a versioned
# bucket, done rising to total, then validating and succeeded; build.log beside it.
. "$top_srcdir/tests/lib.sh"
real_spack_stage
. "$top_srcdir/tests/aws/moto.sh"
trap 'moto_stop "$tmp/moto" 2>/dev/null; rm -rf "$tmp"' EXIT
# PETAL_TEST_KEEP=1: the machines are kept in $tmp, to look at
[ -n "${PETAL_TEST_KEEP:-}" ] && trap 'moto_stop "$tmp/moto" 2>/dev/null; echo "kept $tmp" >&2' EXIT

real_spack_peer lmod patchelf runuser aws moto_server
python3 -c 'import boto3' 2>/dev/null || { echo "no boto3 for Spack's s3://" >&2; exit 77; }

sandbox_or_skip build

if ! moto_start "$tmp/moto" noauth; then
	echo "FAIL: moto_server could not be started" >&2
	exit 1
fi
. "$tmp/moto/moto.env"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$tmp/no-config" AWS_SHARED_CREDENTIALS_FILE="$tmp/no-credentials"
# Spack's s3:// mirrors through --s3-endpoint-url; `buildcache update-index` runs the aws
# CLI, which needs AWS_ENDPOINT_URL; petal itself reads AWS_ENDPOINT_URL_S3
export PETAL_S3_ENDPOINT="$MOTO_URL" AWS_ENDPOINT_URL="$MOTO_URL" AWS_ENDPOINT_URL_S3="$MOTO_URL"
export XDG_STATE_HOME="$tmp/state"
moto_aws s3 mb s3://petal-real-cache >/dev/null || { echo "FAIL: no bucket" >&2; exit 1; }
# the reports' bucket keeps every version of status.json the build uploads
moto_aws s3 mb s3://petal-real-runs >/dev/null &&
	moto_aws s3api put-bucket-versioning --bucket petal-real-runs \
		--versioning-configuration Status=Enabled || { echo "FAIL: no runs bucket" >&2; exit 1; }

# The builtin repository the tarball carries, extracted for this run (shared/ is read-only).
tar -C "$tmp" -xzf "$peer/spack-1.1.0-offline.tar.gz" builtin-min
cat >"$tmp/seed.yaml" <<EOF
cluster: {name: real-spack, region: us-east-1}
network: {subnet_id: subnet-0123456789abcdef0}
software:
  spack:
    url: file://$peer/spack-1.1.0-offline.tar.gz
    repos:
      - file://$tmp/builtin-min/spack_repo/builtin
      - file://$peer/test-repo/spack_repo/petaltest
    source_mirror: file://$peer/sources
    target: x86_64
  build:
    tests: ["spack find libhello@1.0 | grep -q libhello"]
  spack_packages: [libhello@1.0]
  build_from_source: [hello-app@1.0]
  binary_cache: {s3_bucket: petal-real-cache, s3_prefix: spack}
EOF
run plan -t "$tmp/seed.yaml" --render "$tmp/r"
expect_status 0 "render"
if ! command -v shellcheck >/dev/null 2>&1 ||
	shellcheck "$tmp/r/build-instance.sh" "$tmp/r/node-bootstrap.sh" >"$tmp/sc" 2>&1; then
	ok
else
	not_ok "the scripts of software.spack pass shellcheck: $(head -20 "$tmp/sc")"
fi

# Spack as root on each machine, with its user scope inside the machine
export SPACK_PYTHON=/usr/bin/python3 SPACK_USER_CONFIG_PATH=/root/.spack-petal-test
export SPACK_USER_CACHE_PATH=/root/.spack-petal-test-cache
jobs=$(nproc)

# --- the build instance: from source, every core, pushed to the cache
reports=s3://petal-real-runs/runs/r-test-1/cache.cache-build
PETAL_RUN=r-test-1 PETAL_STEP=cache.cache-build PETAL_REPORT_INTERVAL=1 PETAL_REPORT_URL=$reports \
	run_box build "$tmp/build" bash "$tmp/r/build-instance.sh"
expect_status 0 "build-instance.sh"
log=$tmp/build/var/log/petal-build.log
expect_in "$log" "petal: build succeeded for seed" "build: succeeded"
expect_in "$log" "petal: test: spack find libhello@1.0" "build: software.build.tests ran"
out=$(find "$tmp/build/opt" -path '*libhello*/.spack/spack-build-out.txt*' | head -n 1)
if [ -n "$out" ] && gzip -cdf "$out" | grep -q -- "-j$jobs\b\|-j $jobs\b"; then ok; else
	not_ok "build: libhello built with -j $jobs ($out: $(gzip -cdf "$out" 2>/dev/null | grep make | head -3))"
fi
moto_aws s3 ls --recursive s3://petal-real-cache/spack/ >"$tmp/ls" 2>&1
expect_in "$tmp/ls" "v3/manifests/spec/libhello/" "build: libhello pushed (v3 layout)"

# the cache, as petal sees it: an index written by the real Spack
run cache status -t "$tmp/seed.yaml" --url s3://petal-real-cache/spack --output json
expect_status 0 "petal cache status on the real cache"
cp "$tmp/out" "$tmp/status.json"
# exactly the binary-cache tier's one package is asked for, and it is a hit: libhello@1.0,
# with the DAG hash the real Spack gave it (its spec manifest is named after that hash)
if python3 - "$tmp/status.json" "$tmp/ls" >"$tmp/why" 2>&1 <<'PY'; then ok; else not_ok "cache status: libhello@1.0 the one hit ($(cat "$tmp/why"))"; fi
import json, sys
j = json.load(open(sys.argv[1]))
listing = open(sys.argv[2]).read()
req = j["requested"]
assert [r["name"] for r in req] == ["libhello"], req
r = req[0]
assert r["hit"] is True and r["version"] == "1.0", r
assert len(r["hash"]) == 32 and ("libhello-1.0-" + r["hash"]) in listing, (r["hash"], listing)
assert j["hits"] == 1 and j["misses"] == 0, (j["hits"], j["misses"])
PY

# --- the head node: the cache package from the cache only, the source package built
run_box head "$tmp/head" bash "$tmp/r/node-bootstrap.sh"
expect_status 0 "node-bootstrap.sh on the head node"
log=$tmp/head/var/log/petal-bootstrap.log
expect_in "$log" "petal: node ready for seed" "head: ready"
if ls "$tmp/head/shared/petal/ready-"* >/dev/null 2>&1; then ok; else not_ok "head: the ready mark"; fi
if grep -q "libhello.*from binary cache\|Extracting libhello\|Installing libhello.*binary" "$log" &&
	! grep -q "libhello.*Executing phase" "$log"; then ok; else
	not_ok "head: libhello from the cache, never built: $(grep -i libhello "$log" | head -5)"
fi
if grep -q "hello-app.*Executing phase\|Installing hello-app" "$log" &&
	[ -n "$(find "$tmp/head/shared/spack/opt" -path '*hello-app*/bin/hello-app' 2>/dev/null)" ]; then
	ok
else
	not_ok "head: hello-app built into the shared tree"
fi

# --- a compute node: waits for the mark (there), installs nothing
PETAL_WAIT_S=0 PETAL_SANDBOX_SHARED=$tmp/head/shared \
	run_box compute "$tmp/compute" bash "$tmp/r/node-bootstrap.sh"
expect_status 0 "node-bootstrap.sh on a compute node"
log=$tmp/compute/var/log/petal-bootstrap.log
expect_in "$log" "petal: node ready for seed" "compute: ready"
expect_not_in "$log" "Installing" "compute: installs nothing"
if [ -z "$(ls -A "$tmp/compute/opt" 2>/dev/null)" ]; then ok; else not_ok "compute: nothing in /opt"; fi

# --- Lmod: an ordinary user's login shell
PETAL_SANDBOX_SHARED=$tmp/head/shared run_box compute "$tmp/compute" \
	runuser -u nobody -- bash -lc 'module avail 2>&1; module load hello-app && hello-app'
expect_status 0 "login shell: module load hello-app && hello-app"
expect_in "$tmp/out" "hello-app/1.0" "login shell: module avail lists hello-app"
expect_in "$tmp/out" "libhello/1.0" "login shell: module avail lists libhello"

# --- the build report: Spack's install times, collected by build-instance.sh, then used by
# `petal plan` from the state directory (STATE/reports/*.json)
report=$tmp/build/var/log/petal/report.json
if python3 -c "import json, sys; j = json.load(open('$report'))
p = [x for x in j['packages'] if x['name'] == 'libhello']
sys.exit(0 if j['state'] == 'succeeded' and j['jobs'] == $jobs and j['vcpus'] >= 1 and p
         and p[0]['seconds'] > 0 and p[0]['version'] == '1.0' and len(p[0]['hash']) == 32
         and not p[0]['from_cache'] and 'build' in p[0]['phases'] else 1)"; then ok; else
	not_ok "build: report.json times libhello ($(head -c 1500 "$report" 2>/dev/null))"
fi
if python3 -c "import json, sys; j = json.load(open('$tmp/build/var/log/petal/status.json'))
sys.exit(0 if j['state'] == 'succeeded' and j['package'] is None else 1)"; then ok; else
	not_ok "build: status.json says succeeded"
fi

# --- the build's reports in S3, as petal reads them: the last status.json, build.log, and
# every version of status.json the build uploaded, oldest first
moto_aws s3 cp "$reports/status.json" "$tmp/s3-status.json" >/dev/null 2>&1
moto_aws s3 cp "$reports/build.log" "$tmp/s3-build.log" >/dev/null 2>&1
expect_in "$tmp/s3-build.log" "petal: build succeeded for seed" "build: build.log uploaded, whole"
moto_aws s3api list-object-versions --bucket petal-real-runs \
	--prefix runs/r-test-1/cache.cache-build/status.json --output json >"$tmp/versions.json" 2>&1
mkdir -p "$tmp/versions"
# oldest first: by LastModified, and S3 lists the versions of one key newest first
python3 -c "import json; vs = json.load(open('$tmp/versions.json'))['Versions']
for n, i in enumerate(sorted(range(len(vs)), key=lambda i: (vs[i]['LastModified'], -i))):
    print(n, vs[i]['VersionId'])" >"$tmp/version-ids" 2>/dev/null
while read -r n v; do
	moto_aws s3api get-object --bucket petal-real-runs --version-id "$v" \
		--key runs/r-test-1/cache.cache-build/status.json "$tmp/versions/$n.json" >/dev/null 2>&1
done <"$tmp/version-ids"
if python3 - "$tmp/s3-status.json" "$tmp/versions" >"$tmp/why" 2>&1 <<'PY'; then ok; else not_ok "build: status.json in S3 ($(cat "$tmp/why"))"; fi
import glob, json, sys
j = json.load(open(sys.argv[1]))
assert j["format"] == "petal-status" and j["version"] == 1, j
assert j["state"] == "succeeded" and j["exit_code"] == 0, j
assert j["run"] == "r-test-1" and j["step"] == "cache.cache-build", j
assert j["script"] == "build-instance.sh" and len(j["seed_hash"]) == 64, j
# libhello, and what it needs built (gcc-runtime, compiler-wrapper): externals are not counted
assert j["total"] >= 2 and j["done"] == j["total"] and j["from_checkpoint"] == 0, j
assert j["failed_package"] is None and j["log_tail"] == [] and j["message"] is None, j
assert j["started"] <= j["time"], j
files = sorted(glob.glob(sys.argv[2] + "/*.json"), key=lambda f: int(f.split("/")[-1][:-5]))
vs = [json.load(open(f)) for f in files]
dones = [v["done"] for v in vs]
states = [v["state"] for v in vs]
assert dones == sorted(dones), dones
assert len(set(d for d, v in zip(dones, vs) if v["state"] == "running")) >= 2, (dones, states)
assert any(0 < v["done"] < v["total"] for v in vs if v["total"]), dones
assert states[0] == "running" and states[-1] == "succeeded" and "validating" in states, states
# the package being installed, when one is: NAME@VERSION
assert all(v["package"] is None or "@" in v["package"] for v in vs), vs
PY
moto_aws s3 ls --recursive "$reports/" >"$tmp/ls" 2>&1
expect_in "$tmp/ls" "cache.cache-build/report.json" "build: report.json uploaded to PETAL_REPORT_URL"
expect_in "$tmp/ls" "cache.cache-build/status.json" "build: status.json uploaded to PETAL_REPORT_URL"
secs=$(python3 -c "import json; j = json.load(open('$report'))
print([x for x in j['packages'] if x['name'] == 'libhello'][0]['seconds'])")
mkdir -p "$XDG_STATE_HOME/petal/reports"
cp "$report" "$XDG_STATE_HOME/petal/reports/real-build.json"
run plan -t "$tmp/seed.yaml" --output json
expect_status 0 "plan with the build's report"
expect_py "plan: libhello measured, from the report" \
	"[(m['package'], m['version'], m['seconds'], m['jobs']) for m in j['measured']] ==
	 [('libhello', '1.0', round($secs, 3), $jobs)] and j['measured'][0]['core_minutes'] > 0
	 and j['measured'][0]['report'].endswith('/reports/real-build.json')"
expect_py "plan: libhello no guess" "'libhello' not in j['guesses']"
run plan -t "$tmp/seed.yaml"
expect_status 0 "plan (text) with the build's report"
expect_in "$tmp/out" "= measured: libhello@1.0 built in" "plan text: libhello marked measured"
finish
