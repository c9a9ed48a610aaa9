#!/bin/sh
# tests/sandbox/instance-standin.sh, the stand-in of an EC2 instance booting its user data,
# against moto_server (signatures checked) and the sandbox, instances launched with the aws CLI:
#  - the user data runs as root in the sandbox with the instance type, moto's credentials and
#    endpoint; its upload reaches moto;
#  - user data over 16384 bytes and an instance without IMDSv2 required are refused (the
#    stand-in exits 1), user data without #! is not run;
#  - terminating the instance from outside kills every process of a long-running user data
#    (one that left the process group too) within seconds;
#  - --interrupt-when-done and --interrupt-after reclaim a spot instance: it is terminated in
#    moto, its processes are gone, the spot reason is recorded; a relaunch with the same tag
#    is booted; --once returns by itself, --timeout without an instance exits 124.
# shellcheck disable=SC2086 # $good, $imds, $spot: options, split on purpose
. "${top_srcdir:?}/tests/lib.sh"
heavy_test
. "$top_srcdir/tests/aws/moto.sh"
standin=$top_srcdir/tests/sandbox/instance-standin.sh
# stop_standin BOXDIR: SIGTERM to the stand-in of that box dir, by its pid file
stop_standin() {
	[ -f "$1/standin.pid" ] && kill -TERM "$(cat "$1/standin.pid")" 2>/dev/null
	return 0
}
trap 'for b in "$tmp"/box-*; do stop_standin "$b"; done; sleep 1; moto_stop "$tmp/moto" 2>/dev/null; rm -rf "$tmp"' EXIT

sandbox_or_skip build
region=us-east-1
AWS_DEFAULT_REGION=$region
AWS_EC2_METADATA_DISABLED=true
export AWS_DEFAULT_REGION AWS_EC2_METADATA_DISABLED
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_PROFILE AWS_SESSION_TOKEN 2>/dev/null || true

# ---- usage errors: exit 2, said --------------------------------------------------------------
# standin_usage DESCRIPTION EXPECTED-MESSAGE ARGS...
standin_usage() {
	what=$1 said=$2
	shift 2
	status=0
	AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s bash "$standin" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
	expect_status 2 "usage: $what"
	expect_in "$tmp/err" "$said" "usage: $what: said"
}
good="--endpoint http://127.0.0.1:9 --region $region --tag petal:run=x --box-dir $tmp/box-usage"
standin_usage "no command" "the only command is 'watch'"
standin_usage "unknown option" "unknown option '--bogus'" watch $good --bogus
standin_usage "a value missing" "--timeout needs a value" watch $good --timeout
standin_usage "no endpoint" "--endpoint is missing" watch --region $region --tag a=b --box-dir "$tmp/b"
standin_usage "no box dir" "--box-dir is missing" watch --endpoint http://127.0.0.1:9 --region r --tag a=b
standin_usage "a tag without =" "is not KEY=VALUE" watch $good --tag petal:run
standin_usage "a tag without key" "has no key" watch $good --tag =v
standin_usage "two interrupts" "exclude each other" watch $good --interrupt-after 5 --interrupt-when-done 2
standin_usage "a timeout not a number" "wants a whole number, not '5s'" watch $good --timeout 5s
status=0
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY bash "$standin" watch $good >"$tmp/out" 2>"$tmp/err" || status=$?
expect_status 2 "usage: no credentials"
expect_in "$tmp/err" "no credentials for moto" "usage: no credentials: said"
if [ -e "$tmp/box-usage/standin.pid" ]; then not_ok "a usage error starts nothing"; else ok; fi

# ---- moto ------------------------------------------------------------------------------------
moto_start "$tmp/moto" || { echo "FAIL: moto_server does not start" >&2; exit 1; }
. "$MOTO_DIR/moto.env"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
bucket=petal-standin-test
moto_aws s3 mb "s3://$bucket" >/dev/null || { echo "FAIL: make_bucket" >&2; exit 1; }
ami=$(moto_aws ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
# launch NAME TAG USERDATA-FILE [RUN-INSTANCES ARGS...]: the instance id in $NAME's file
# (run in the background, side by side: an aws CLI call takes seconds on a loaded host)
launch() {
	name=$1 tagv=$2 ud=$3
	shift 3
	moto_aws ec2 run-instances --image-id "$ami" --instance-type "${type:-c6i.large}" \
		--user-data "file://$ud" \
		--tag-specifications "ResourceType=instance,Tags=[{Key=petal:run,Value=$tagv}]" \
		--query 'Instances[0].InstanceId' --output text "$@" >"$tmp/id.$name"
}
# launched NAME...: each launch gave an instance id
launched() {
	for name in "$@"; do
		if grep -q '^i-' "$tmp/id.$name" 2>/dev/null; then ok; else not_ok "run-instances $name"; fi
	done
}
phase() { echo "$(date +%T) $*" >&2; }
id_of() { cat "$tmp/id.$1"; }
# wait_standin PID SECONDS: its exit status in $status; one that does not end is a failure
wait_standin() {
	n=0
	while [ "$n" -lt $(($2 * 5)) ]; do
		st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
		[ -z "$st" ] || [ "$st" = Z ] && break
		sleep 0.2
		n=$((n + 1))
	done
	if [ "$n" -ge $(($2 * 5)) ]; then
		not_ok "the stand-in $1 did not end within $2 s"
		kill -9 "$1" 2>/dev/null
	fi
	status=0
	wait "$1" || status=$?
}
imds="--metadata-options HttpTokens=required"
# wait_result BOX ID SECONDS: until the stand-in wrote the instance's result
wait_result() {
	n=0
	while [ ! -s "$1/$2/result" ] && [ "$n" -lt $(($3 * 5)) ]; do
		sleep 0.2
		n=$((n + 1))
	done
	cat "$1/$2/result" 2>/dev/null || echo "(no result after $3 s)"
}
# gone PIDFILE DESCRIPTION: no process listed in PIDFILE is left
gone() {
	left=
	for p in $(cat "$1"); do
		# a zombie is dead, only not yet reaped by whoever adopted it
		st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)
		[ -n "$st" ] && [ "$st" != Z ] && left="$left $p($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null))"
	done
	if [ -z "$left" ]; then ok; else not_ok "$2: left running:$left"; fi
}
# result_is BOX NAME RESULT SECONDS DESCRIPTION
result_is() {
	got=$(wait_result "$1" "$(id_of "$2")" "$4")
	if [ "$got" = "$3" ]; then ok; else
		not_ok "$5: result '$got', expected '$3' ($(cat "$1/$(id_of "$2")/reason" 2>/dev/null))"
	fi
}
moto_state() {
	moto_aws ec2 describe-instances --instance-ids "$(id_of "$1")" \
		--query 'Reservations[0].Instances[0].State.Name' --output text
}

# ---- the user data, its strictness, a termination from outside -----------------------------
cat >"$tmp/ud.ok" <<EOF
#!/bin/bash
set -eu
mkdir -p /opt/petal-test
{ echo "uid=\$(id -u)"; echo "type=\$PETAL_INSTANCE_TYPE"; echo "key=\$AWS_ACCESS_KEY_ID"
  echo "endpoint=\$AWS_ENDPOINT_URL s3=\$AWS_ENDPOINT_URL_S3 petal=\$PETAL_S3_ENDPOINT"
  echo "region=\$AWS_DEFAULT_REGION imds=\$AWS_EC2_METADATA_DISABLED home=\${HOME-unset}"
  echo "script=\$0 cwd=\$(pwd)"; } >/opt/petal-test/ran
printf '{"format": "petal-status", "state": "succeeded", "done": 3, "uid": %s}' "\$(id -u)" >/tmp/status.json
aws s3 cp --only-show-errors /tmp/status.json s3://$bucket/r-a/step/status.json
echo "the user data ran"
exit 3
EOF
{ echo '#!/bin/sh'; head -c 16400 /dev/zero | tr '\0' '#'; echo; } >"$tmp/ud.big"
{ echo '#!/bin/sh'; head -c 16000 /dev/zero | tr '\0' '#'; echo; echo 'echo fits'; } >"$tmp/ud.fits"
printf '#cloud-config\nruncmd:\n  - touch /opt/cloud-config-ran\n' >"$tmp/ud.nobang"
cat >"$tmp/ud.long" <<'EOF'
#!/bin/bash
mkdir -p /var/log/petal-test
sleep 1000 &
kids=$!
setsid sleep 1001 &
kids="$kids $!"
echo "$$ $kids" >/var/log/petal-test/pids.tmp
mv /var/log/petal-test/pids.tmp /var/log/petal-test/pids
sleep 1002
echo survived >/var/log/petal-test/survived
EOF

box1=$tmp/box-1
bash "$standin" watch --endpoint "$MOTO_URL" --region "$region" --tag petal:run=r-a \
	--box-dir "$box1" --poll 0.5 --timeout 400 >"$tmp/standin1.out" 2>&1 &
standin1=$!
phase "launching 7 instances"
l=
type=c6i.large launch ok r-a "$tmp/ud.ok" $imds &
l="$l $!"
type=m6i.xlarge launch fits r-a "$tmp/ud.fits" $imds &
l="$l $!"
launch big r-a "$tmp/ud.big" $imds &
l="$l $!"
launch nobang r-a "$tmp/ud.nobang" $imds &
l="$l $!"
launch noimds r-a "$tmp/ud.ok" &
l="$l $!"
launch long r-a "$tmp/ud.long" $imds &
l="$l $!"
launch other r-other "$tmp/ud.ok" $imds &
l="$l $!"
wait $l
launched ok fits big nobang noimds long other
phase "launched"
ok_d=$box1/$(id_of ok)
result_is "$box1" ok exited 120 "the user data runs"
expect_in "$ok_d/exit" 3 "its exit status is kept"
expect_in "$ok_d/console.log" "the user data ran" "its output is on the console"
expect_in "$ok_d/user-data" "PETAL_INSTANCE_TYPE" "the user data is kept as moto holds it"
expect_in "$ok_d/opt/petal-test/ran" "uid=0" "as root"
expect_in "$ok_d/opt/petal-test/ran" "type=c6i.large" "PETAL_INSTANCE_TYPE is the instance's type"
expect_in "$ok_d/opt/petal-test/ran" "key=$AWS_ACCESS_KEY_ID" "moto's credentials"
expect_in "$ok_d/opt/petal-test/ran" "endpoint=$MOTO_URL s3=$MOTO_URL petal=$MOTO_URL" "moto's endpoint"
expect_in "$ok_d/opt/petal-test/ran" "region=$region imds=true home=unset" "region, no IMDS, no HOME as cloud-init"
expect_in "$ok_d/opt/petal-test/ran" "script=/var/lib/cloud/instance/scripts/part-001 cwd=/" "run as cloud-init runs it"
if [ -e /opt/petal-test/ran ]; then not_ok "the user data wrote outside the sandbox"; else ok; fi
moto_aws s3 cp "s3://$bucket/r-a/step/status.json" "$tmp/status.json" >/dev/null 2>"$tmp/err"
expect_in "$tmp/status.json" '"done": 3, "uid": 0}' "its upload reached moto"
result_is "$box1" fits exited 120 "user data of $(wc -c <"$tmp/ud.fits") bytes is run"
expect_in "$box1/$(id_of fits)/console.log" "fits" "the long user data ran to its end"
result_is "$box1" big refused 30 "user data over 16384 bytes"
expect_in "$box1/$(id_of big)/reason" "$(wc -c <"$tmp/ud.big") bytes: EC2 takes at most 16384" \
	"the size refusal says why"
result_is "$box1" nobang not-run 30 "user data without #!"
expect_in "$box1/$(id_of nobang)/reason" "does not begin with #! (it begins '#cloud-config')" "not run: says why"
if [ -e "$box1/$(id_of nobang)/console.log" ]; then not_ok "user data without #! was started"; else ok; fi
result_is "$box1" noimds refused 30 "an instance without IMDSv2 required"
expect_in "$box1/$(id_of noimds)/reason" "HttpTokens is optional" "the IMDSv2 refusal says why"
if [ -e "$box1/$(id_of noimds)/opt/petal-test/ran" ]; then not_ok "refused, yet run"; else ok; fi
if [ -e "$box1/$(id_of other)" ]; then not_ok "an instance with another tag was booted"; else ok; fi

phase "terminate"
# the long one: terminated from outside, every process of it dies within seconds
long_d=$box1/$(id_of long)
n=0
while [ ! -s "$long_d/var/log/petal-test/pids" ] && [ "$n" -lt 300 ]; do sleep 0.2; n=$((n + 1)); done
if [ -s "$long_d/var/log/petal-test/pids" ]; then ok; else not_ok "the long user data started"; fi
for p in $(cat "$long_d/var/log/petal-test/pids"); do
	[ -d "/proc/$p" ] || not_ok "the long user data: pid $p is not running before the termination"
done
moto_aws ec2 terminate-instances --instance-ids "$(id_of long)" >/dev/null
t0=$(date +%s)
result_is "$box1" long terminated 60 "terminated from outside"
took=$(($(date +%s) - t0))
echo "the terminated machine was gone ${took}s after terminate-instances returned" >&2
# two looks at moto and a margin: an aws CLI call takes seconds on a loaded host
if [ "$took" -le 20 ]; then ok; else not_ok "the machine outlived its termination by ${took}s"; fi
gone "$long_d/var/log/petal-test/pids" "terminated"
expect_in "$long_d/reason" "Client.UserInitiatedShutdown" "the StateReason moto gives"
if [ -e "$long_d/var/log/petal-test/survived" ]; then not_ok "the user data went on"; else ok; fi

# SIGTERM by its pid file: it ends, says the refusals with 1, removes the pid file
if [ -s "$box1/standin.pid" ] && [ "$(cat "$box1/standin.pid")" = "$standin1" ]; then ok; else
	not_ok "the pid file holds the stand-in's pid"
fi
stop_standin "$box1"
wait_standin "$standin1" 20
expect_status 1 "stopped after refusals"
if [ -e "$box1/standin.pid" ]; then not_ok "the pid file is left"; else ok; fi
expect_in "$box1/standin.log" "refused" "the log says the refusals"

# ---- spot: reclaimed at done=2, then the relaunch builds; reclaimed after 2 s with --once ---
cat >"$tmp/ud.spot" <<EOF
#!/bin/bash
set -eu
export PETAL_REPORT_URL=s3://$bucket/r-spot/step
mkdir -p /var/log/petal-test
echo \$\$ >/var/log/petal-test/pids
for n in 1 2; do
	printf '{"format": "petal-status", "state": "running", "done": %d}' "\$n" >/tmp/status.json
	aws s3 cp --only-show-errors /tmp/status.json "\$PETAL_REPORT_URL/status.json"
done
sleep 1000 &
echo \$! >>/var/log/petal-test/pids
wait
echo survived >/var/log/petal-test/survived
EOF
cat >"$tmp/ud.relaunch" <<'EOF'
#!/bin/bash
echo "relaunched on $PETAL_INSTANCE_TYPE" >/opt/relaunched
EOF
box2=$tmp/box-2 box3=$tmp/box-3
bash "$standin" watch --endpoint "$MOTO_URL" --region "$region" --tag petal:run=r-spot \
	--box-dir "$box2" --poll 0.5 --interrupt-when-done 2 --timeout 400 >"$tmp/standin2.out" 2>&1 &
standin2=$!
standin3_t0=$(date +%s)
bash "$standin" watch --endpoint "$MOTO_URL" --region "$region" --tag petal:run=r-after \
	--env-file "$MOTO_DIR/moto.env" --box-dir "$box3" --poll 0.5 --interrupt-after 2 --once \
	--timeout 400 >"$tmp/standin3.out" 2>&1 &
standin3=$!
spot="--instance-market-options MarketType=spot"
phase "spot"
launch spot r-spot "$tmp/ud.spot" $imds $spot &
l=$!
launch after r-after "$tmp/ud.long" $imds $spot &
wait $l $!
launched spot after
result_is "$box2" spot spot-interrupted 120 "--interrupt-when-done 2"
spot_d=$box2/$(id_of spot)
expect_in "$spot_d/reason" "Server.SpotInstanceTermination" "the spot reason EC2 would give"
gone "$spot_d/var/log/petal-test/pids" "reclaimed at done=2"
if [ -e "$spot_d/var/log/petal-test/survived" ]; then not_ok "the reclaimed build went on"; else ok; fi
moto_aws s3 cp "s3://$bucket/r-spot/step/status.json" "$tmp/status.json" >/dev/null 2>&1
expect_in "$tmp/status.json" '"done": 2' "not reclaimed before done=2"
moto_state spot >"$tmp/out"
expect_in "$tmp/out" terminated "the reclaimed instance is terminated in moto"

phase "relaunch"
type=c7i.large launch relaunch r-spot "$tmp/ud.relaunch" $imds $spot
launched relaunch
result_is "$box2" relaunch exited 120 "the relaunch with the same tag is booted"
expect_in "$box2/$(id_of relaunch)/opt/relaunched" "relaunched on c7i.large" "the relaunch ran on its own machine"

wait_standin "$standin3" 120
expect_status 0 "--once returns by itself after the reclaim"
after_d=$box3/$(id_of after)
expect_in "$after_d/result" spot-interrupted "--interrupt-after 2"
expect_in "$after_d/reason" "Server.SpotInstanceTermination: Spot instance termination" "--interrupt-after: the reason"
gone "$after_d/var/log/petal-test/pids" "reclaimed after 2 s"
took=$(($(date +%s) - standin3_t0))
if [ "$took" -ge 2 ]; then ok; else not_ok "--interrupt-after 2 reclaimed after ${took}s"; fi
moto_state after >"$tmp/out"
expect_in "$tmp/out" terminated "--interrupt-after: terminated in moto"

stop_standin "$box2"
wait_standin "$standin2" 20
expect_status 0 "stopped without refusals"

# --once with nothing to boot: --timeout ends it with 124
status=0
bash "$standin" watch --endpoint "$MOTO_URL" --region "$region" --tag petal:run=nobody \
	--box-dir "$tmp/box-4" --once --timeout 2 >"$tmp/out" 2>"$tmp/err" || status=$?
expect_status 124 "--once --timeout without an instance"
if [ "$failures" -gt 0 ]; then
	for f in "$tmp"/standin*.out; do echo "--- $f" >&2; cat "$f" >&2; done
fi
finish
