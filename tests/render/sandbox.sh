#!/bin/sh
# Run a rendered script for real, in a sandbox: its absolute paths (/opt,
# /var/log, /etc/parallelcluster, /etc/profile.d, /etc/spack, /shared) moved
# under BOX, and the commands it drives (spack, git, apptainer, aws, package
# managers, login shells: bash -lc) replaced by stubs that record each argument they receive, one per
# line, as ARG<...>.  What a seed injects into the script cannot hide here: it
# either arrives as one argument, or it runs (and, say, creates BOX/PWNED).
# usage: sandbox.sh SCRIPT BOX [ARGS...]; calls are recorded in BOX/calls.
# Each `spack install` is also recorded with the install tree Spack's system
# scope names at that moment, as TREE<...> (empty: Spack's default tree).
# Environment:
#   PETAL_SANDBOX_NODE    the node's role in cfnconfig (default HeadNode)
#   PETAL_SANDBOX_SHARED  the directory standing for /shared (default BOX/shared):
#                         a compute node's run points at its head node's
#   PETAL_SANDBOX_IMAGE   when 1, the image has Spack in /opt/spack with an
#                         install tree, as an image petal bakes does
set -eu
script=$1
box=$2
shift 2
shared=${PETAL_SANDBOX_SHARED:-$box/shared}
mkdir -p "$box/bin" "$box/etc/parallelcluster" "$box/etc/profile.d" "$box/var/log" "$shared"
printf 'cfn_node_type=%s\n' "${PETAL_SANDBOX_NODE:-HeadNode}" >"$box/etc/parallelcluster/cfnconfig"
: >"$box/calls"

cat >"$box/bin/stub" <<'STUB'
#!/bin/sh
name=$(basename "$0")
printf 'CALL %s\n' "$name" >>"$PETAL_SANDBOX/calls"
for a in "$@"; do
	printf 'ARG<%s>\n' "$a" >>"$PETAL_SANDBOX/calls"
done
if [ "$name" = spack ] && [ "${1:-}" = install ]; then
	tree=$(sed -n 's/^ *root: *//p' "$PETAL_SANDBOX/etc/spack/config.yaml" 2>/dev/null || :)
	printf 'TREE<%s>\n' "$tree" >>"$PETAL_SANDBOX/calls"
fi
case " $* " in
*" --password-stdin "*) cat >/dev/null ;; # as the real login does
esac
case "$name $*" in
"git clone"*)
	for dir in "$@"; do :; done
	mkdir -p "$dir/bin"
	cp "$PETAL_SANDBOX/bin/stub" "$dir/bin/spack"
	;;
"spack location"*)
	echo /nonexistent
	;;
"spack find --format"*)
	echo stub/1.0
	;;
"aws ecr get-login-password"*)
	echo token
	;;
"apptainer pull"*)
	: >"$3"
	;;
esac
exit 0
STUB
chmod 0755 "$box/bin/stub"
# login shells (the build's validation) are recorded, not run; any other bash is bash
cat >"$box/bin/bash" <<BASH
#!/bin/sh
if [ "\${1:-}" = -lc ]; then
	exec "$box/bin/login-shell" "\$@"
fi
exec $(command -v bash) "\$@"
BASH
chmod 0755 "$box/bin/bash"
for cmd in git apptainer aws dnf yum apt-get login-shell; do
	ln -sf stub "$box/bin/$cmd"
done
if [ "${PETAL_SANDBOX_IMAGE:-}" = 1 ]; then
	mkdir -p "$box/opt/spack/bin" "$box/opt/spack/opt/spack/.spack-db"
	cp "$box/bin/stub" "$box/opt/spack/bin/spack"
fi

# Each path is moved where it starts a word (not inside another path, as the
# second /opt/ of /opt/spack/opt/spack); /shared and /etc/spack also appear whole.
at='\(^\|[ '"'"'"=>]\)'
sed -e "s#$at/opt/#\1$box/opt/#g" -e "s#$at/var/log/#\1$box/var/log/#g" \
	-e "s#$at/etc/parallelcluster/#\1$box/etc/parallelcluster/#g" \
	-e "s#$at/etc/profile.d/#\1$box/etc/profile.d/#g" \
	-e "s#$at/etc/spack\([/ '\"]\|\$\)#\1$box/etc/spack\2#g" \
	-e "s#$at/shared\([/ '\"]\|\$\)#\1$shared\2#g" "$script" >"$box/script.sh"
cd "$box"
# Through a pipe, so that the output is whole once this returns: the script's
# own `tee` (its log) still writes after the script exits, and holds the pipe.
{
	rc=0
	PETAL_SANDBOX=$box PATH="$box/bin:$PATH" bash "$box/script.sh" "$@" || rc=$?
	echo "$rc" >"$box/status"
} 2>&1 | cat >"$box/output"
exit "$(cat "$box/status")"
