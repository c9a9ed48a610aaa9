#!/bin/sh
# The image tier, for real: the real Spack 1.1.0 of ../shared/peers/spack (offline), in the
# sandbox of tests/sandbox/run-as-node.sh.  A build instance bakes libhello (software.in_ami)
# into /opt/spack, with its Lmod modules; a head node and a compute node are made from that
# image (their /opt a copy of the build instance's, as the AMI's disk would be).  The head
# node sees libhello through the image's tree, the upstream petal-image, and never installs
# it again; it builds hello-app (build_from_source) on top of it into /shared/spack/opt and
# writes the ready mark; the compute node waits for the mark and installs nothing; an
# ordinary user's login shell there loads both the shared tree's module (hello-app) and the
# image's (libhello).
. "$top_srcdir/tests/lib.sh"
real_spack_stage
# PETAL_TEST_KEEP=1: the machines are kept in $tmp, to look at
[ -n "${PETAL_TEST_KEEP:-}" ] && trap 'echo "kept $tmp" >&2' EXIT

real_spack_peer lmod patchelf runuser
sandbox_or_skip build

# hello-app must depend on libhello, or nothing here says anything about the upstream
if ! grep -q 'depends_on("libhello")' \
	"$peer/test-repo/spack_repo/petaltest/packages/hello_app/package.py"; then
	echo "FAIL: the peer's hello-app no longer depends on libhello" >&2
	exit 1
fi

# The machine's generic target: petal's default (x86_64_v3) is more than some hosts are
target=$(uname -m)
# The builtin repository the tarball carries, extracted for this run (shared/ is read-only).
tar -C "$tmp" -xzf "$peer/spack-1.1.0-offline.tar.gz" builtin-min
cat >"$tmp/seed.yaml" <<EOF
cluster: {name: real-image, region: us-east-1}
network: {subnet_id: subnet-0123456789abcdef0}
software:
  spack:
    url: file://$peer/spack-1.1.0-offline.tar.gz
    repos:
      - file://$tmp/builtin-min/spack_repo/builtin
      - file://$peer/test-repo/spack_repo/petaltest
    source_mirror: file://$peer/sources
    target: $target
  in_ami: [libhello@1.0]
  build_from_source: [hello-app@1.0]
EOF
run plan -t "$tmp/seed.yaml" --render "$tmp/r"
expect_status 0 "render"
if ! command -v shellcheck >/dev/null 2>&1 ||
	shellcheck "$tmp/r/build-instance.sh" "$tmp/r/node-bootstrap.sh" >"$tmp/sc" 2>&1; then
	ok
else
	not_ok "the scripts of an image seed pass shellcheck: $(head -20 "$tmp/sc")"
fi

# Spack as root on each machine, with its user scope inside the machine
export SPACK_PYTHON=/usr/bin/python3 SPACK_USER_CONFIG_PATH=/root/.spack-petal-test
export SPACK_USER_CACHE_PATH=/root/.spack-petal-test-cache
image=/opt/spack/opt/spack

# --- the build instance: the bake (part ami)
# (its status and report stay on the machine: no S3 here)
PETAL_REPORT_URL= run_box build "$tmp/build" bash "$tmp/r/build-instance.sh" ami
expect_status 0 "build-instance.sh ami"
log=$tmp/build/var/log/petal-build.log
expect_in "$log" "petal: build succeeded for seed" "bake: finished"
if [ -n "$(find "$tmp/build$image" -path '*libhello*/lib/libhello.so' 2>/dev/null)" ]; then ok; else
	not_ok "bake: libhello in the image's tree $image"
fi
if [ -z "$(find "$tmp/build$image" -maxdepth 3 -name 'hello-app*' 2>/dev/null)" ]; then ok; else
	not_ok "bake: hello-app (source tier) is not baked"
fi
mods=$(find "$tmp/build/opt/spack/share/spack/lmod" -path '*/Core/libhello/1.0.lua' 2>/dev/null)
if [ -n "$mods" ]; then ok; else not_ok "bake: the image's Lmod module libhello/1.0"; fi

# --- the image: what the AMI's disk carries of the build instance (/opt), on each node
for node in head compute; do
	mkdir -p "$tmp/$node"
	cp -a "$tmp/build/opt" "$tmp/$node/opt"
done
# the image's tree and its modules, as the head node must leave them
image_sums() {
	(cd "$1/opt/spack" && find opt/spack share/spack/lmod -type f -exec cksum {} + | sort -k 3)
}
image_sums "$tmp/head" >"$tmp/image-before"

# --- the head node: libhello from the image's tree, hello-app built into the shared tree
run_box head "$tmp/head" bash "$tmp/r/node-bootstrap.sh"
expect_status 0 "node-bootstrap.sh on the head node"
log=$tmp/head/var/log/petal-bootstrap.log
expect_in "$log" "petal: node ready for seed" "head: ready"
if ls "$tmp/head/shared/petal/ready-"* >/dev/null 2>&1; then ok; else not_ok "head: the ready mark"; fi
expect_in "$tmp/head/etc/spack/upstreams.yaml" "install_tree: $image" \
	"head: the image's tree is the upstream"
if grep -q "Installing hello-app" "$log" &&
	[ -n "$(find "$tmp/head/shared/spack/opt" -path '*hello-app*/bin/hello-app' 2>/dev/null)" ]; then
	ok
else
	not_ok "head: hello-app built into the shared tree ($(grep -i hello-app "$log" | head -5))"
fi
if grep -q "Installing libhello\|libhello.*Executing phase\|Fetching.*libhello" "$log"; then
	not_ok "head: libhello installed again: $(grep -i libhello "$log" | head -5)"
else
	ok
fi
if [ -z "$(find "$tmp/head/shared/spack/opt" -name 'libhello*' 2>/dev/null)" ]; then ok; else
	not_ok "head: no libhello in the shared tree"
fi
image_sums "$tmp/head" >"$tmp/image-after"
if cmp -s "$tmp/image-before" "$tmp/image-after"; then ok; else
	not_ok "head: the image's tree and modules unchanged: $(diff "$tmp/image-before" "$tmp/image-after" | head -5)"
fi
# hello-app's libhello, as Spack resolved it: the image's prefix; and Spack finds the
# image's module of it (upstreams.yaml names the image's Lmod root)
run_box head "$tmp/head" bash -c 'export PATH=/opt/spack/bin:$PATH &&
	spack find --deps --format "{name} {prefix}" hello-app && spack module lmod find libhello'
expect_status 0 "head: spack find --deps hello-app; spack module lmod find libhello"
if grep -q "^ *libhello $image/" "$tmp/out" && grep -q "^hello-app /shared/spack/opt/" "$tmp/out"
then ok; else not_ok "head: hello-app in the shared tree, its libhello the image's"; fi
expect_in "$tmp/out" "libhello/1.0" "head: Spack finds the image's module of libhello"
# the shared tree's modules hold hello-app's, not the image's libhello again
if [ -n "$(find "$tmp/head/shared/spack/lmod" -path '*/Core/hello-app/1.0.lua' 2>/dev/null)" ] &&
	[ -z "$(find "$tmp/head/shared/spack/lmod" -path '*/libhello/*' 2>/dev/null)" ]; then
	ok
else
	not_ok "head: the shared modules: hello-app only ($(find "$tmp/head/shared/spack/lmod" -name '*.lua'))"
fi

# --- a compute node from the same image: waits for the mark (there), installs nothing
find "$tmp/compute/opt" | sort >"$tmp/compute-before"
PETAL_WAIT_S=0 PETAL_SANDBOX_SHARED=$tmp/head/shared \
	run_box compute "$tmp/compute" bash "$tmp/r/node-bootstrap.sh"
expect_status 0 "node-bootstrap.sh on a compute node"
log=$tmp/compute/var/log/petal-bootstrap.log
expect_in "$log" "petal: node ready for seed" "compute: ready"
expect_not_in "$log" "Installing" "compute: installs nothing"
find "$tmp/compute/opt" | sort >"$tmp/compute-after"
if cmp -s "$tmp/compute-before" "$tmp/compute-after"; then ok; else
	not_ok "compute: its /opt (the image) unchanged: $(diff "$tmp/compute-before" "$tmp/compute-after" | head -5)"
fi

# --- Lmod: an ordinary user's login shell loads the shared tree's module and the image's
PETAL_SANDBOX_SHARED=$tmp/head/shared run_box compute "$tmp/compute" \
	runuser -u nobody -- bash -lc 'module load hello-app && hello-app &&
		ldd "$(command -v hello-app)" && module purge && module load libhello &&
		echo "CMAKE_PREFIX_PATH=$CMAKE_PREFIX_PATH"'
expect_status 0 "login shell: module load hello-app && hello-app; module load libhello"
expect_in "$tmp/out" "hello-app says: " "login shell: hello-app runs"
if grep -q "libhello\.so.* => $image/.*libhello-1\.0-" "$tmp/out"; then ok; else
	not_ok "login shell: hello-app runs with the image's libhello"
fi
if grep -q "^CMAKE_PREFIX_PATH=$image/[^:]*/libhello-1\.0-" "$tmp/out"; then ok; else
	not_ok "login shell: module load libhello (the image's module) gives the image's prefix"
fi
finish
