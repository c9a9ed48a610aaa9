#!/bin/sh
# Where Spack, its package repositories and the sources come from, through petal's rendered
# scripts and the real Spack 1.1.0 of ../shared/peers/spack (offline), in the sandbox of
# tests/sandbox/run-as-node.sh.  A Spack tarball that is not one (or is not there) fails the
# build with a clear message and leaves nothing in /tmp.
. "$top_srcdir/tests/lib.sh"
real_spack_stage
# PETAL_TEST_KEEP=1: the machines are kept in $tmp, to look at
[ -n "${PETAL_TEST_KEEP:-}" ] && trap 'echo "kept $tmp" >&2' EXIT

real_spack_peer patchelf git

sandbox_or_skip build
# the machine's own /tmp: what the scripts wrote there and left
leftovers() { ls -A "$1/.disk/upper/tmp" 2>/dev/null || :; }

# --- a Spack tarball without bin/spack, then one that is not there
mkdir -p "$tmp/notspack/share"
echo "not Spack" >"$tmp/notspack/share/README"
tar -C "$tmp" -cf "$tmp/notspack.tar" notspack
for url in "file://$tmp/notspack.tar" "file://$tmp/missing.tar"; do
	box=$tmp/box-$(basename "$url" .tar)
	cat >"$tmp/bad.yaml" <<EOS
cluster: {name: real-spack, region: us-east-1}
network: {subnet_id: subnet-0123456789abcdef0}
software:
  spack: {url: '$url'}
  in_ami: [libhello@1.0]
EOS
	run plan -t "$tmp/bad.yaml" --render "$tmp/bad"
	expect_status 0 "render with software.spack.url $url"
	PETAL_REPORT_URL= run_box build "$box" bash "$tmp/bad/build-instance.sh"
	if [ "$status" -ne 0 ]; then ok; else not_ok "$url: build-instance.sh fails"; fi
	case $url in
	*notspack*) expect_in "$tmp/out" "petal: no bin/spack in $url" "$url: said" ;;
	*) expect_in "$tmp/out" "petal: could not fetch Spack from $url" "$url: said" ;;
	esac
	if [ -z "$(leftovers "$box")" ]; then ok; else
		not_ok "$url: nothing left in /tmp ($(leftovers "$box"))"
	fi
	if [ ! -e "$box/opt/spack/bin/spack" ]; then ok; else not_ok "$url: no Spack installed"; fi
done
finish
