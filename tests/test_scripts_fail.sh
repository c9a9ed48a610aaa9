#!/bin/sh
# A package that does not build, through petal's rendered scripts and the real Spack 1.1.0
# of ../shared/peers/spack (offline), in the sandbox of tests/sandbox/run-as-node.sh.
# failbuild (baked into the image) fails on the build instance, failsource (built at
# creation) on the head node: each script exits non-zero naming the package with the last
# lines of its build log, and says so in /var/log/petal/status.json; the head node leaves its
# failure mark and no ready mark; a compute node gives up, saying why: the head node failed
# (on which package), or no ready mark came within PETAL_WAIT_S.  Both packages fail at
# once, with no compiler to build: the test stays fast.  failbuild needs okpkg, which goes
# to a checkpoint mirror as soon as it is installed; a relaunched build installs it from
# there, and fails on a software.build.tests command, saying which.
. "$top_srcdir/tests/lib.sh"
real_spack_stage
# PETAL_TEST_KEEP=1: the machines are kept in $tmp, to look at
[ -n "${PETAL_TEST_KEEP:-}" ] && trap 'echo "kept $tmp" >&2' EXIT

real_spack_peer patchelf runuser

sandbox_or_skip build

# A package repository of this test's own: two packages of one source, which prints 50
# numbered lines and fails.  Its tarball is made here, its sha256 goes into package.py and
# it is put in a source mirror (_source-cache/archive/<sha256[0:2]>/<sha256>.tar.gz).
mkdir -p "$tmp/src/failpkg-1.0" "$tmp/repo/spack_repo/petalfail/packages"
{
	printf 'all:\n'
	for i in $(seq -w 1 50); do printf '\t@echo petal-fail-line-%s\n' "$i"; done
	printf '\t@echo "failpkg: this build is meant to fail" >&2\n\t@exit 3\n'
	printf 'install:\n\t@true\n'
} >"$tmp/src/failpkg-1.0/Makefile"
tar -C "$tmp/src" -czf "$tmp/failpkg-1.0.tar.gz" failpkg-1.0
sha=$(sha256sum "$tmp/failpkg-1.0.tar.gz" | cut -d' ' -f1)
mkdir -p "$tmp/mirror/_source-cache/archive/$(echo "$sha" | cut -c1-2)"
cp "$tmp/failpkg-1.0.tar.gz" "$tmp/mirror/_source-cache/archive/$(echo "$sha" | cut -c1-2)/$sha.tar.gz"
printf "repo:\n  namespace: 'petalfail'\n  api: v2.4\n" >"$tmp/repo/spack_repo/petalfail/repo.yaml"
# okpkg builds (a Makefile of its own), and failbuild needs it: the checkpoint's package
mkdir -p "$tmp/src/okpkg-1.0"
printf 'all:\n\t@echo okpkg-built\ninstall:\n\tmkdir -p $(PREFIX)/bin\n\tprintf "#!/bin/sh\\necho okpkg-ran\\n" >$(PREFIX)/bin/okpkg\n\tchmod +x $(PREFIX)/bin/okpkg\n' \
	>"$tmp/src/okpkg-1.0/Makefile"
tar -C "$tmp/src" -czf "$tmp/okpkg-1.0.tar.gz" okpkg-1.0
oksha=$(sha256sum "$tmp/okpkg-1.0.tar.gz" | cut -d' ' -f1)
mkdir -p "$tmp/mirror/_source-cache/archive/$(echo "$oksha" | cut -c1-2)"
cp "$tmp/okpkg-1.0.tar.gz" "$tmp/mirror/_source-cache/archive/$(echo "$oksha" | cut -c1-2)/$oksha.tar.gz"
mkdir -p "$tmp/repo/spack_repo/petalfail/packages/okpkg"
cat >"$tmp/repo/spack_repo/petalfail/packages/okpkg/package.py" <<EOF
from spack_repo.builtin.build_systems.makefile import MakefilePackage

from spack.package import *


class Okpkg(MakefilePackage):
    """A package that builds (petal's tests)."""

    homepage = "https://example.invalid/petalfail"
    url = "https://example.invalid/petalfail/okpkg-1.0.tar.gz"

    version("1.0", sha256="$oksha")

    def install(self, spec, prefix):
        make("install", "PREFIX=" + prefix)
EOF
for p in failbuild failsource; do
	class=$(echo "$p" | sed 's/^f/F/')
	dep=''
	[ "$p" = failbuild ] && dep='depends_on("okpkg")'
	mkdir -p "$tmp/repo/spack_repo/petalfail/packages/$p"
	cat >"$tmp/repo/spack_repo/petalfail/packages/$p/package.py" <<EOF
from spack_repo.builtin.build_systems.makefile import MakefilePackage

from spack.package import *


class $class(MakefilePackage):
    """A package whose build fails (petal's tests)."""

    homepage = "https://example.invalid/petalfail"
    url = "https://example.invalid/petalfail/failpkg-1.0.tar.gz"

    version("1.0", sha256="$sha")
    $dep

    def install(self, spec, prefix):
        make("install")
EOF
done

tar -C "$tmp" -xzf "$peer/spack-1.1.0-offline.tar.gz" builtin-min
cat >"$tmp/seed.yaml" <<EOF
cluster: {name: fail-spack, region: us-east-1}
network: {subnet_id: subnet-0123456789abcdef0}
software:
  spack:
    url: file://$peer/spack-1.1.0-offline.tar.gz
    repos:
      - file://$tmp/builtin-min/spack_repo/builtin
      - file://$tmp/repo/spack_repo/petalfail
    source_mirror: file://$tmp/mirror
    target: x86_64
  use_custom_ami: true
  in_ami: [failbuild@1.0]
  build_from_source: [failsource@1.0]
EOF
run plan -t "$tmp/seed.yaml" --render "$tmp/r"
expect_status 0 "render"

export SPACK_PYTHON=/usr/bin/python3 SPACK_USER_CONFIG_PATH=/root/.spack-petal-test
export SPACK_USER_CACHE_PATH=/root/.spack-petal-test-cache
# no upload of the status (no S3 here), no EC2 metadata
export PETAL_REPORT_URL='' AWS_EC2_METADATA_DISABLED=true

# status_is FILE DESCRIPTION PYTHON-EXPRESSION: j = the status file's JSON
status_is() {
	if python3 -c "import json,sys; j=json.load(open('$1')); sys.exit(0 if ($3) else 1)" \
		2>"$tmp/pyerr"; then
		ok
	else
		not_ok "$2: $3 on $(cat "$1" 2>/dev/null) $(cat "$tmp/pyerr")"
	fi
}
# no_tmp BOX DESCRIPTION: nothing half-written (a temporary name left)
no_tmp() {
	left=$(find "$1/var/log/petal" "$1/shared/petal" -name '*.tmp' 2>/dev/null)
	if [ -z "$left" ]; then ok; else not_ok "$2: left half-written: $left"; fi
}

# --- the build instance: okpkg builds and goes to the checkpoint, then failbuild fails
# the same directory in both instances (a box's /tmp is its own)
mkdir -p "$tmp/checkpoint"
ckpt=file://$tmp/checkpoint
PETAL_SANDBOX_BIND=$tmp/checkpoint PETAL_CHECKPOINT_URL=$ckpt PETAL_RUN=r-fail \
	PETAL_STEP=ami.image-build run_box build "$tmp/build" bash "$tmp/r/build-instance.sh"
if [ "$status" -ne 0 ]; then ok; else not_ok "build-instance.sh exits non-zero"; fi
cat "$tmp/out" "$tmp/err" >"$tmp/all"
expect_in "$tmp/all" "petal: FAILED: failbuild@1.0 did not build" "build: the package named"
expect_in "$tmp/all" "petal-fail-line-30" "build: the build log's last lines"
expect_in "$tmp/all" "petal-fail-line-50" "build: the build log's last line"
expect_not_in "$tmp/all" "petal-fail-line-01" "build: only the log's last 40 lines"
expect_not_in "$tmp/all" "petal: build succeeded" "build: not said succeeded"
expect_in "$tmp/build/var/log/petal-build.log" "petal: FAILED: failbuild@1.0" "build: in its log"
st=$tmp/build/var/log/petal/status.json
status_is "$st" "build: status" \
	"j['state'] == 'failed' and j['package'] == 'failbuild@1.0'
	and j['failed_package'] == 'failbuild@1.0' and j['script'] == 'build-instance.sh'
	and j['log'].endswith('/spack-build-out.txt') and j['exit_code'] not in (None, 0)
	and 'petal-fail-line-50' in j['log_tail'] and len(j['log_tail']) == 40
	and 'petal-fail-line-01' not in j['log_tail']
	and j['run'] == 'r-fail' and j['step'] == 'ami.image-build'
	and j['done'] == 1 and j['total'] == 2 and j['from_checkpoint'] == 0
	and 'failbuild@1.0' in j['message']"
if find "$tmp/checkpoint/v3/manifests/spec" -name 'okpkg-1.0-*.spec.manifest.json' | grep -q .; then
	ok
else
	not_ok "build: okpkg pushed to the checkpoint as it was installed"
fi
expect_in "$tmp/build/var/log/petal-build.log" "okpkg: Executing phase" "build: okpkg built"
status_is "$tmp/build/var/log/petal/report.json" "build: report" \
	"j['format'] == 'petal-build-report' and j['state'] == 'failed'
	and j['failed_package'] == 'failbuild' and j['vcpus'] >= 1 and j['instance_type'] is None
	and all(p['name'] != 'failbuild' for p in j['packages'])
	and [p['from_cache'] for p in j['packages'] if p['name'] == 'okpkg'] == [False]"
no_tmp "$tmp/build" "build"

# --- a relaunched build instance (a seed of okpkg alone, with a test that fails): okpkg
# comes from the checkpoint, never built again; it is found and its module loads; the
# test's failure fails the build, saying which
cat >"$tmp/seed2.yaml" <<EOF
cluster: {name: fail-tests, region: us-east-1}
network: {subnet_id: subnet-0123456789abcdef0}
software:
  spack:
    url: file://$peer/spack-1.1.0-offline.tar.gz
    repos:
      - file://$tmp/builtin-min/spack_repo/builtin
      - file://$tmp/repo/spack_repo/petalfail
    source_mirror: file://$tmp/mirror
    target: x86_64
  build:
    tests: ["module load okpkg && okpkg | grep -q okpkg-ran", "echo petal-test-output; exit 7"]
  use_custom_ami: true
  in_ami: [okpkg@1.0]
EOF
run plan -t "$tmp/seed2.yaml" --render "$tmp/r2"
expect_status 0 "render (okpkg, tests)"
PETAL_SANDBOX_BIND=$tmp/checkpoint PETAL_CHECKPOINT_URL=$ckpt \
	run_box build "$tmp/build2" bash "$tmp/r2/build-instance.sh"
if [ "$status" -ne 0 ]; then ok; else not_ok "build (failing test) exits non-zero"; fi
log=$tmp/build2/var/log/petal-build.log
expect_in "$log" "Extracting okpkg-1.0-" "relaunch: okpkg from the checkpoint"
expect_not_in "$log" "okpkg: Executing phase" "relaunch: okpkg not built again"
expect_in "$log" "petal: FAILED: validation: software.build.tests[1] failed (exit 7)" \
	"relaunch: the failing test named"
expect_not_in "$log" "tests[0] failed" "relaunch: the passing test passed"
expect_not_in "$log" "petal: build succeeded" "relaunch: not said succeeded"
status_is "$tmp/build2/var/log/petal/status.json" "relaunch: status" \
	"j['state'] == 'failed' and j['failed_package'] is None and j['exit_code'] == 1
	and j['done'] == 1 and j['total'] == 1 and j['from_checkpoint'] == 1
	and j['message'].startswith('validation: software.build.tests[1] failed (exit 7)')
	and j['log_tail'] == ['petal-test-output'] and j['run'] is None"

# --- the head node: failsource fails; a failure mark, no ready mark
run_box head "$tmp/head" bash "$tmp/r/node-bootstrap.sh"
if [ "$status" -ne 0 ]; then ok; else not_ok "node-bootstrap.sh on the head node exits non-zero"; fi
cat "$tmp/out" "$tmp/err" >"$tmp/all"
expect_in "$tmp/all" "petal: FAILED: failsource@1.0 did not build" "head: the package named"
expect_in "$tmp/all" "petal-fail-line-30" "head: the build log's last lines"
expect_not_in "$tmp/all" "petal-fail-line-01" "head: only the log's last 40 lines"
expect_not_in "$tmp/all" "petal: node ready" "head: not said ready"
status_is "$tmp/head/var/log/petal/status.json" "head: status" \
	"j['state'] == 'failed' and j['failed_package'] == 'failsource@1.0'
	and j['script'] == 'node-bootstrap.sh' and 'petal-fail-line-50' in j['log_tail']"
if ls "$tmp/head/shared/petal/ready-"* >/dev/null 2>&1; then not_ok "head: no ready mark"; else ok; fi
mark=$(ls "$tmp/head/shared/petal/failed-"* 2>/dev/null | head -n 1)
if [ -n "$mark" ] && grep -qx "package=failsource" "$mark"; then ok; else
	not_ok "head: the failure mark names failsource ($mark: $(cat "$mark" 2>/dev/null))"
fi
no_tmp "$tmp/head" "head"

# --- a compute node of that head node: gives up at once, saying on which package
PETAL_WAIT_S=600 PETAL_SANDBOX_SHARED=$tmp/head/shared \
	run_box compute "$tmp/compute" bash "$tmp/r/node-bootstrap.sh"
if [ "$status" -ne 0 ]; then ok; else not_ok "compute (head failed): exits non-zero"; fi
cat "$tmp/out" "$tmp/err" >"$tmp/all"
expect_in "$tmp/all" "the head node failed its installs, on package failsource" \
	"compute: the head node's failure, and its package"
status_is "$tmp/compute/var/log/petal/status.json" "compute: status" "j['state'] == 'failed'"
expect_not_in "$tmp/compute/var/log/petal-bootstrap.log" "petal: node ready" "compute: not ready"

# --- a compute node whose head node never says anything: gives up after PETAL_WAIT_S
mkdir -p "$tmp/silent"
PETAL_WAIT_S=2 PETAL_SANDBOX_SHARED=$tmp/silent \
	run_box compute "$tmp/compute2" bash "$tmp/r/node-bootstrap.sh"
if [ "$status" -ne 0 ]; then ok; else not_ok "compute (no mark): exits non-zero"; fi
cat "$tmp/out" "$tmp/err" >"$tmp/all"
expect_in "$tmp/all" "no ready mark /shared/petal/ready-" "compute: no ready mark, said"
expect_in "$tmp/all" "after 2s (PETAL_WAIT_S)" "compute: after its wait"
expect_not_in "$tmp/all" "the head node failed" "compute: no failure invented"

# a wait that is not a number is refused
PETAL_WAIT_S=soon PETAL_SANDBOX_SHARED=$tmp/silent \
	run_box compute "$tmp/compute2" bash "$tmp/r/node-bootstrap.sh"
if [ "$status" -ne 0 ]; then ok; else not_ok "compute (PETAL_WAIT_S=soon): exits non-zero"; fi
cat "$tmp/out" "$tmp/err" >"$tmp/all"
expect_in "$tmp/all" "PETAL_WAIT_S='soon' is not a number" "compute: a bad wait refused"
finish
