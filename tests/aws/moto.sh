#!/bin/sh
# A real moto_server for the aws tests, with SigV4 signature checking on.
#
# moto_server answers the first INITIAL_NO_AUTH_ACTION_COUNT calls without
# checking who signs them; we spend exactly those on making an IAM user with
# an allow-all policy and an access key, so every later call must carry a
# valid signature by that key (a wrong secret gets SignatureDoesNotMatch).
#
# From a shell test (sourced):
#	. "$top_srcdir/tests/aws/moto.sh"
#	moto_start "$tmp/moto" || exit 1    # sets MOTO_URL, MOTO_PID, MOTO_DIR
#	. "$MOTO_DIR/moto.env"               # AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...
#	...
#	moto_stop "$tmp/moto"
# From a C test (or anywhere):
#	sh tests/aws/moto.sh start DIR      # then read DIR/moto.env
#	sh tests/aws/moto.sh stop DIR
#
# `moto_start DIR noauth` (or `moto.sh start DIR noauth`) starts a server
# that checks no signature, for what moto's checker gets wrong (it rebuilds
# the canonical request from an already-encoded URL, so a key with a space
# or a query value with a '/' fails even when the aws CLI signs it); its
# moto.env holds made-up keys.
#
# DIR/moto.env holds shell assignments, one a line, no quotes needed:
# MOTO_URL, MOTO_PORT, MOTO_PID, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
# DIR/moto.pid holds the server's PID; moto_stop kills exactly that
# process.  DIR/moto.log is the server's output.  Only 127.0.0.1 is used.

# Calls spent unauthenticated: create-user, put-user-policy, create-access-key.
MOTO_NO_AUTH_CALLS=3

moto_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# moto_aws ARGS...: the aws CLI against the server, away from the user's files
moto_aws() {
	AWS_CONFIG_FILE="$MOTO_DIR/no-config" AWS_SHARED_CREDENTIALS_FILE="$MOTO_DIR/no-credentials" \
	AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" AWS_PAGER= \
		aws --endpoint-url "$MOTO_URL" "$@"
}

moto_start() {
	MOTO_DIR=${1:?moto_start DIR}
	moto_auth=${2:-auth}
	mkdir -p "$MOTO_DIR" || return 1
	command -v moto_server >/dev/null 2>&1 || { echo "moto.sh: moto_server not found" >&2; return 1; }
	command -v aws >/dev/null 2>&1 || { echo "moto.sh: the aws CLI not found" >&2; return 1; }
	MOTO_PORT=$(moto_free_port) || return 1
	MOTO_URL="http://127.0.0.1:$MOTO_PORT"
	if [ "$moto_auth" = noauth ]; then
		moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$MOTO_DIR/moto.log" 2>&1 &
	else
		INITIAL_NO_AUTH_ACTION_COUNT=$MOTO_NO_AUTH_CALLS \
			moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$MOTO_DIR/moto.log" 2>&1 &
	fi
	MOTO_PID=$!
	echo "$MOTO_PID" >"$MOTO_DIR/moto.pid"
	# /moto-api/ answers once the server listens, and is not an AWS action
	if ! python3 - "$MOTO_URL" "$MOTO_PID" <<'EOF'
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 60
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("moto.sh: moto_server exited at start")
    try:
        urllib.request.urlopen(url + "/moto-api/", timeout=2).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit("moto.sh: moto_server did not answer within 60 s")
EOF
	then
		cat "$MOTO_DIR/moto.log" >&2
		moto_stop "$MOTO_DIR"
		return 1
	fi
	if [ "$moto_auth" = noauth ]; then
		printf 'MOTO_URL=%s\nMOTO_PORT=%s\nMOTO_PID=%s\n%s\n%s\n' "$MOTO_URL" "$MOTO_PORT" \
			"$MOTO_PID" AWS_ACCESS_KEY_ID=AKIAMOTONOAUTHTEST01 \
			AWS_SECRET_ACCESS_KEY=not-checked-by-this-server >"$MOTO_DIR/moto.env"
		export MOTO_URL MOTO_PORT MOTO_PID MOTO_DIR
		return 0
	fi
	# the unauthenticated calls: any key will do for them
	policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
	if ! AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap \
	       moto_aws iam create-user --user-name petal-test >/dev/null ||
	   ! AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap \
	       moto_aws iam put-user-policy --user-name petal-test --policy-name all \
	       --policy-document "$policy" ||
	   ! AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap \
	       moto_aws iam create-access-key --user-name petal-test --output json \
	       >"$MOTO_DIR/key.json"; then
		echo "moto.sh: cannot make the IAM user" >&2
		moto_stop "$MOTO_DIR"
		return 1
	fi
	python3 - "$MOTO_DIR/key.json" "$MOTO_DIR/moto.env" "$MOTO_URL" "$MOTO_PORT" "$MOTO_PID" <<'EOF' || { moto_stop "$MOTO_DIR"; return 1; }
import json, os, sys
key = json.load(open(sys.argv[1]))["AccessKey"]
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    f.write("MOTO_URL=%s\nMOTO_PORT=%s\nMOTO_PID=%s\n" % tuple(sys.argv[3:6]))
    f.write("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n"
            % (key["AccessKeyId"], key["SecretAccessKey"]))
EOF
	rm -f "$MOTO_DIR/key.json"
	export MOTO_URL MOTO_PORT MOTO_PID MOTO_DIR
	return 0
}

moto_stop() {
	d=${1:-${MOTO_DIR:-}}
	[ -n "$d" ] && [ -f "$d/moto.pid" ] || return 0
	pid=$(cat "$d/moto.pid")
	rm -f "$d/moto.pid"
	case "$pid" in ''|*[!0-9]*) return 0 ;; esac
	# only the server we started: a recycled PID is left alone
	if [ -r "/proc/$pid/cmdline" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q moto_server; then
		return 0
	fi
	kill "$pid" 2>/dev/null || return 0
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# Run as a program: start DIR | stop DIR
case "${0##*/}" in
moto.sh)
	case "${1:-}" in
	start) moto_start "${2:?usage: moto.sh start DIR [noauth]}" "${3:-auth}" ;;
	stop) moto_stop "${2:?usage: moto.sh stop DIR}" ;;
	*) echo "usage: moto.sh start DIR [noauth] | stop DIR" >&2; exit 2 ;;
	esac
	;;
esac
