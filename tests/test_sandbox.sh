#!/bin/sh
# tests/sandbox/run-as-node.sh: each role's machine sees its own /opt, /shared, /etc/spack,
# /etc/profile.d, /var/log and cfnconfig; nothing outside changes; a compute node shares its
# head node's /shared; moto_server on loopback answers from inside.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/aws/moto.sh"
trap 'moto_stop "$tmp/moto" 2>/dev/null; rm -rf "$tmp"' EXIT

sandbox_or_skip head
expect_status 0 "a machine can be made"

# usage errors
run_box nowhere "$tmp/x" true
expect_status 2 "unknown role"
expect_in "$tmp/err" "unknown role 'nowhere'" "unknown role: said"
run_box head "$tmp/x"
expect_status 2 "no command"
PETAL_SANDBOX_BIND=relative/dir run_box head "$tmp/x" true
expect_status 2 "a relative bind"
expect_in "$tmp/err" "not an absolute path" "a relative bind: said"

# what a script writes where it was told to write
cat >"$tmp/writes.sh" <<'EOF'
set -eu
cat /etc/parallelcluster/cfnconfig 2>/dev/null || echo "no cfnconfig"
mkdir -p /opt/spack /etc/spack /shared/petal
echo tree >/opt/spack/marker
echo scope >/etc/spack/config.yaml
echo log >/var/log/petal-build.log
echo profile >/etc/profile.d/z99-sandbox-test.sh
echo "$1" >/shared/petal/from-$1
echo elsewhere >/etc/sandbox-test-elsewhere
ls /shared/petal
EOF
canary_before=$(ls -d /etc/spack /shared /etc/parallelcluster /opt/spack /etc/sandbox-test-elsewhere \
	/etc/profile.d/z99-sandbox-test.sh 2>/dev/null || :)
run_box head "$tmp/head" sh "$tmp/writes.sh" head
expect_status 0 "head node: the script runs"
expect_in "$tmp/out" "cfn_node_type=HeadNode" "head node: cfnconfig"
for f in opt/spack/marker etc/spack/config.yaml var/log/petal-build.log \
	etc/profile.d/z99-sandbox-test.sh shared/petal/from-head; do
	if [ -s "$tmp/head/$f" ]; then ok; else not_ok "head node: /$f is in the box"; fi
done
if [ -e "$tmp/head/etc/profile.d/lmod.sh" ] || [ ! -e /etc/profile.d/lmod.sh ]; then ok; else
	not_ok "head node: the host's profile.d (Lmod's) is kept"
fi
canary_after=$(ls -d /etc/spack /shared /etc/parallelcluster /opt/spack /etc/sandbox-test-elsewhere \
	/etc/profile.d/z99-sandbox-test.sh 2>/dev/null || :)
if [ "$canary_before" = "$canary_after" ]; then ok; else
	not_ok "nothing outside changes: before '$canary_before', after '$canary_after'"
fi
if grep -qs 'petal-build.log' /var/log/petal-build.log; then
	not_ok "the host's /var/log was written"
else
	ok
fi

# the box is the machine's disk: a second command sees the first's writes
run_box head "$tmp/head" cat /etc/sandbox-test-elsewhere /opt/spack/marker
expect_status 0 "head node: a second command"
expect_in "$tmp/out" "elsewhere" "head node: the disk is kept between commands"

# a compute node shares the head node's /shared, not its /opt
PETAL_SANDBOX_SHARED=$tmp/head/shared run_box compute "$tmp/compute" sh "$tmp/writes.sh" compute
expect_status 0 "compute node: the script runs"
expect_in "$tmp/out" "cfn_node_type=ComputeFleet" "compute node: cfnconfig"
expect_in "$tmp/out" "from-head" "compute node: sees the head node's /shared"
if [ -e "$tmp/head/shared/petal/from-compute" ]; then ok; else
	not_ok "compute node: its write reaches the head node's /shared"
fi
run_box build "$tmp/build" sh "$tmp/writes.sh" build
expect_status 0 "build instance: the script runs"
expect_in "$tmp/out" "no cfnconfig" "build instance: no cfnconfig"
expect_not_in "$tmp/out" "from-head" "build instance: its own /shared"

# a bound directory is written through; the exit status is the command's
mkdir "$tmp/collect"
PETAL_SANDBOX_BIND=$tmp/collect run_box build "$tmp/build" sh -c "echo out >$tmp/collect/file; exit 3"
expect_status 3 "the command's exit status"
expect_in "$tmp/collect/file" "out" "a bound directory is written through"

# moto_server on loopback, from inside
if moto_start "$tmp/moto" noauth; then
	run_box head "$tmp/head" python3 -c "import urllib.request,sys; \
print(urllib.request.urlopen(sys.argv[1] + '/moto-api/').status)" "$MOTO_URL"
	expect_status 0 "moto_server is reached from inside"
	expect_in "$tmp/out" "200" "moto_server answers"
else
	echo "moto_server did not start: loopback not checked" >&2
fi
finish
