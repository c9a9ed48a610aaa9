#!/bin/sh
# Install what petal needs to build and test on Debian 12 (idempotent).
set -eu
pkgs="build-essential autoconf automake libtool pkg-config \
libyaml-dev libcurl4-openssl-dev libssl-dev libjansson-dev libcunit1-dev libexpat1-dev \
shellcheck valgrind python3 python3-yaml clang libclang-rt-14-dev \
lmod patchelf python3-cffi-backend python3-boto3 python3-marshmallow"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "petal: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
