#!/bin/sh
# A package that does not build, through petal's rendered scripts and the real Spack 1.1.0
# of ../shared/peers/spack (offline), in the sandbox of tests/sandbox/run-as-node.sh.
# failbuild (baked into the image) fails on the build instance, failsource (built at
# creation) on the head node: each script exits non-zero naming the package with the last
# lines of its build log, and says so in /var/log/petal/status.json; the head node leaves its
# failure mark and no ready mark; a compute node gives up, saying why: the head node failed
# (on which package), or no ready mark came within PETAL_WAIT_S.  Both packages fail at
# once, with no dependency to build (no compiler either): the test stays fast.
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
for p in failbuild failsource; do
	class=$(echo "$p" | sed 's/^f/F/')
	mkdir -p "$tmp/repo/spack_repo/petalfail/packages/$p"
	cat >"$tmp/repo/spack_repo/petalfail/packages/$p/package.py" <<EOF
from spack_repo.builtin.build_systems.makefile import MakefilePackage

from spack.package import *


class $class(MakefilePackage):
    """A package whose build fails (petal's tests)."""

    homepage = "https://example.invalid/petalfail"
    url = "https://example.invalid/petalfail/failpkg-1.0.tar.gz"

    version("1.0", sha256="$sha")

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

# --- the build instance: failbuild fails
run_box build "$tmp/build" bash "$tmp/r/build-instance.sh"
if [ "$status" -ne 0 ]; then ok; else not_ok "build-instance.sh exits non-zero"; fi
cat "$tmp/out" "$tmp/err" >"$tmp/all"
expect_in "$tmp/all" "petal: FAILED: failbuild@1.0 did not build" "build: the package named"
expect_in "$tmp/all" "petal-fail-line-30" "build: the build log's last lines"
expect_in "$tmp/all" "petal-fail-line-50" "build: the build log's last line"
expect_not_in "$tmp/all" "petal-fail-line-01" "build: only the log's last 40 lines"
expect_not_in "$tmp/all" "petal: build finished" "build: not said finished"
expect_in "$tmp/build/var/log/petal-build.log" "petal: FAILED: failbuild@1.0" "build: in its log"
st=$tmp/build/var/log/petal/status.json
status_is "$st" "build: status" \
	"j['state'] == 'failed' and j['package'] == 'failbuild' and j['script'] == 'build-instance.sh'
	and j['log'].endswith('/spack-build-out.txt')"
status_is "$tmp/build/var/log/petal/report.json" "build: report" \
	"j['format'] == 'petal-build-report' and j['state'] == 'failed'
	and j['failed_package'] == 'failbuild' and j['vcpus'] >= 1 and j['instance_type'] is None
	and all(p['name'] != 'failbuild' for p in j['packages'])"
no_tmp "$tmp/build" "build"

# --- the head node: failsource fails; a failure mark, no ready mark
run_box head "$tmp/head" bash "$tmp/r/node-bootstrap.sh"
if [ "$status" -ne 0 ]; then ok; else not_ok "node-bootstrap.sh on the head node exits non-zero"; fi
cat "$tmp/out" "$tmp/err" >"$tmp/all"
expect_in "$tmp/all" "petal: FAILED: failsource@1.0 did not build" "head: the package named"
expect_in "$tmp/all" "petal-fail-line-30" "head: the build log's last lines"
expect_not_in "$tmp/all" "petal-fail-line-01" "head: only the log's last 40 lines"
expect_not_in "$tmp/all" "petal: node ready" "head: not said ready"
status_is "$tmp/head/var/log/petal/status.json" "head: status" \
	"j['state'] == 'failed' and j['package'] == 'failsource' and j['script'] == 'node-bootstrap.sh'"
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
