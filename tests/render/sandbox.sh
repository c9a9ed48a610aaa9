#!/bin/sh
# Run a rendered script for real, in a sandbox: its absolute paths (/opt,
# /var/log, /etc/parallelcluster, /etc/profile.d) moved under BOX, and the
# commands it drives (spack, git, apptainer, aws, package managers) replaced by
# stubs that record each argument they receive, one per line, as ARG<...>.
# What a seed injects into the script cannot hide here: it either arrives as
# one argument, or it runs (and, say, creates BOX/PWNED).
# usage: sandbox.sh SCRIPT BOX [ARGS...]; calls are recorded in BOX/calls
set -eu
script=$1
box=$2
shift 2
mkdir -p "$box/bin" "$box/etc/parallelcluster" "$box/etc/profile.d" "$box/var/log"
printf 'cfn_node_type=HeadNode\n' >"$box/etc/parallelcluster/cfnconfig"
: >"$box/calls"

cat >"$box/bin/stub" <<'STUB'
#!/bin/sh
name=$(basename "$0")
printf 'CALL %s\n' "$name" >>"$PETAL_SANDBOX/calls"
for a in "$@"; do
	printf 'ARG<%s>\n' "$a" >>"$PETAL_SANDBOX/calls"
done
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
for cmd in git apptainer aws dnf yum apt-get; do
	ln -sf stub "$box/bin/$cmd"
done

sed -e "s#/opt/#$box/opt/#g" -e "s#/var/log/#$box/var/log/#g" \
	-e "s#/etc/parallelcluster/#$box/etc/parallelcluster/#g" \
	-e "s#/etc/profile.d/#$box/etc/profile.d/#g" "$script" >"$box/script.sh"
cd "$box"
PETAL_SANDBOX=$box PATH="$box/bin:$PATH" bash "$box/script.sh" "$@" >"$box/output" 2>&1
