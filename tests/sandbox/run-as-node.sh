#!/bin/sh
# Run a command as root on a stand-in machine: a build instance, a head node or a compute
# node, in a private mount namespace, so that the rendered scripts see the absolute paths
# they were written for and nothing outside the sandbox changes.  Used by the tests that run
# petal's scripts through the real Spack, and meant for the build-instance stand-in of the
# run layer as well.
#
#   tests/sandbox/run-as-node.sh ROLE BOX COMMAND [ARGS...]
#
# ROLE     build    a build instance (no ParallelCluster: no cfnconfig)
#          head     a head node: /etc/parallelcluster/cfnconfig says cfn_node_type=HeadNode
#          compute  a compute node: cfn_node_type=ComputeFleet
# BOX      the machine's own disk, made when missing and kept between runs (a node's
#          second command, a login shell after the bootstrap, sees what the first left):
#            BOX/opt, BOX/var/log, BOX/etc/spack, BOX/etc/profile.d   bound on those paths
#                               (etc/profile.d starts as a copy of the host's, for Lmod's)
#            BOX/etc/parallelcluster/cfnconfig                        written for ROLE
#            BOX/shared         bound on /shared (see PETAL_SANDBOX_SHARED)
#            BOX/.disk          every other write (an overlay over the host's /)
# COMMAND  run in the machine's root (chroot), from the current directory when the machine
#          has it, else from /, with the caller's environment; its exit status is ours.
#          Host files are seen as they are (read-only in effect: writes go to BOX/.disk).
#
# Environment:
#   PETAL_SANDBOX_SHARED  the directory bound on /shared (default BOX/shared): point a
#                         compute node at its head node's to share the volume
#   PETAL_SANDBOX_BIND    host directories, separated by spaces, bound read-write at their
#                         own paths (say, where a test collects what the machine writes)
#
# The network is the host's: moto_server on 127.0.0.1 is reachable.  Exits 77 (automake's
# SKIP) with the reason on stderr when it cannot make the sandbox (not root, unshare or
# overlayfs refused), 2 on a usage error.
set -eu
# A make that runs the tests in parallel hands its jobserver down in MAKEFLAGS
# but not its descriptors: Spack would try to use them (EBADF). A real node has none.
unset MAKEFLAGS MFLAGS MAKELEVEL

skip() {
	echo "run-as-node.sh: SKIP: $*" >&2
	exit 77
}

# Inside the new mount namespace: build the machine's root, then run COMMAND in it.
if [ "${1:-}" = --inside ]; then
	shift
	role=$1 box=$2 shared=$3 cwd=$4
	shift 4
	root=$box/.disk/root
	mount -t overlay petal-sandbox \
		-o "lowerdir=/,upperdir=$box/.disk/upper,workdir=$box/.disk/work" "$root" ||
		skip "overlayfs over / refused"
	for d in dev proc sys; do
		mount --rbind "/$d" "$root/$d"
	done
	for d in opt var/log etc/spack etc/profile.d etc/parallelcluster; do
		mkdir -p "$root/$d"
		mount --bind "$box/$d" "$root/$d"
	done
	mkdir -p "$root/shared"
	mount --bind "$shared" "$root/shared"
	for d in ${PETAL_SANDBOX_BIND:-}; do
		mkdir -p "$root$d"
		mount --bind "$d" "$root$d"
	done
	# shellcheck disable=SC2016 # expanded by the inner shell
	exec chroot "$root" /bin/sh -c 'cd "$1" 2>/dev/null || cd /; shift; exec "$@"' \
		sh "$cwd" "$@"
fi

if [ "$#" -lt 3 ]; then
	echo "usage: run-as-node.sh build|head|compute BOX COMMAND [ARGS...]" >&2
	exit 2
fi
role=$1 box=$2
shift 2
case $role in
build) node_type= ;;
head) node_type=HeadNode ;;
compute) node_type=ComputeFleet ;;
*)
	echo "run-as-node.sh: unknown role '$role' (build, head, compute)" >&2
	exit 2
	;;
esac
[ "$(id -u)" -eq 0 ] || skip "needs root (a mount namespace, overlayfs and chroot)"
command -v unshare >/dev/null 2>&1 || skip "no unshare (util-linux)"
unshare -m --propagation private true 2>/dev/null ||
	skip "unshare -m is not permitted here (a container without CAP_SYS_ADMIN?)"

mkdir -p "$box"
box=$(cd "$box" && pwd)
if [ ! -d "$box/etc/profile.d" ]; then
	mkdir -p "$box/etc/profile.d"
	cp -a /etc/profile.d/. "$box/etc/profile.d/"
fi
mkdir -p "$box/opt" "$box/var/log" "$box/etc/spack" "$box/etc/parallelcluster" \
	"$box/.disk/upper" "$box/.disk/work" "$box/.disk/root"
if [ -n "$node_type" ]; then
	printf 'cfn_node_type=%s\ncfn_region=us-east-1\n' "$node_type" \
		>"$box/etc/parallelcluster/cfnconfig"
else
	rm -f "$box/etc/parallelcluster/cfnconfig"
fi
shared=${PETAL_SANDBOX_SHARED:-$box/shared}
mkdir -p "$shared"
shared=$(cd "$shared" && pwd)
for d in ${PETAL_SANDBOX_BIND:-}; do
	case $d in
	/*) [ -d "$d" ] || { echo "run-as-node.sh: PETAL_SANDBOX_BIND: no directory $d" >&2; exit 2; } ;;
	*) echo "run-as-node.sh: PETAL_SANDBOX_BIND: '$d' is not an absolute path" >&2; exit 2 ;;
	esac
done
exec unshare -m --propagation private "$0" --inside "$role" "$box" "$shared" "$PWD" "$@"
