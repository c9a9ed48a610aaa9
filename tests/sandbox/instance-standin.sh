#!/bin/bash
# The stand-in of an EC2 instance booting its user data, for the tests: moto launches
# nothing, so this helper plays the machine.  It watches moto for the instances petal
# launched, reads each one's user data back from moto and runs it as root the way cloud-init
# would, in the sandbox (run-as-node.sh build), with credentials and endpoints for moto.
#
#   instance-standin.sh watch --endpoint URL --region R --tag KEY=VALUE --box-dir DIR
#       [--interrupt-after SECONDS | --interrupt-when-done N] [--interrupts K]
#       [--once] [--timeout S] [--poll S] [--env-file FILE]
#
# --endpoint URL     moto_server (EC2 and S3 on one port)
# --region R         the region the instances live in
# --tag KEY=VALUE    boot the instances carrying this tag (petal:run=r-...)
# --box-dir DIR      DIR/<instance-id> is that machine's disk (run-as-node.sh's BOX) and holds
#                    what the stand-in saw, see "Records" below
# --interrupt-after SECONDS   reclaim a spot instance like EC2 does, SECONDS after its user
#                    data started: the machine dies at once, the instance is terminated
# --interrupt-when-done N     the same, once the status.json the build uploads under its
#                    PETAL_REPORT_URL says "done" >= N (the URL is read from the environment
#                    of the machine's processes, where the user data stub exported it)
# --interrupts K     how many instances to reclaim, first come first (default 1): the
#                    relaunches after them build undisturbed
# --once             return once the first instance's user data has ended
# --timeout S        stop watching after S seconds (default: until SIGTERM)
# --poll S           seconds between looks at moto (default 1)
# --env-file FILE    read AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)
#                    from FILE (tests/aws/moto.sh's moto.env); default: this environment
#
# As strict as EC2 and cloud-init, so that what passes here passes there:
#  - user data over 16384 bytes (before base64) is refused: EC2 refuses such a launch, moto
#    does not;
#  - an instance launched without IMDSv2 required (MetadataOptions.HttpTokens != required)
#    is refused: petal must launch with it;
#  - user data that does not begin with "#!" is not run (cloud-init would read it as
#    cloud-config, an include list, ... and run no script); no user data: nothing to run.
# A refused instance is an error; the two others are recorded and are not.
#
# The machine: the user data is written to /var/lib/cloud/instance/scripts/part-001 and run
# from / as root, stdin /dev/null, in an environment as bare as cloud-final.service's (PATH,
# LANG; no HOME: systemd sets none for a system service) plus what wt/PROTOCOL.md names:
# moto's credentials, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, PETAL_S3_ENDPOINT,
# AWS_DEFAULT_REGION, AWS_EC2_METADATA_DISABLED=true, PETAL_INSTANCE_TYPE; AWS_CONFIG_FILE
# and AWS_SHARED_CREDENTIALS_FILE point at nothing (a fresh AMI has no ~/.aws).
# While it runs, the instance's state is read from moto: once petal stops or terminates it,
# the machine is gone at once: every process of it (its process group and anything else in
# its mount namespace) gets SIGKILL, no shutdown, no trap runs.
#
# Records, in DIR/<instance-id>/:
#   user-data    the user data as moto holds it, decoded
#   console.log  what it wrote on stdout and stderr (an EC2 console)
#   exit         its exit status, when it ended by itself
#   result       one word, written last: exited | not-run | refused | terminated | stopped |
#                spot-interrupted | standin-stopped (the stand-in ended first) | error
#   reason       one line: why (the StateReason for terminated, stopped, spot-interrupted)
# DIR/standin.pid holds the stand-in's PID (SIGTERM: its machines die as above, result
# standin-stopped, then it exits).  DIR/standin.log: one line per event, also on stdout.
#
# A gap of moto's: its TerminateInstances always says Client.UserInitiatedShutdown and
# nothing (no /moto-api/ endpoint) sets another StateReason, so after a reclaim moto's
# describe-instances does not show the Server.SpotInstanceTermination a real EC2 would;
# DIR/<id>/reason holds what EC2 would say.  Neither does the machine see the two-minute
# notice of a real reclaim (the IMDS spot/instance-action): here the reclaim is sudden.
#
# Exit status: 0; 1 when an instance was refused or could not be booted, or moto stopped
# answering; 124 when --once and --timeout passed before a user data ended; 2 on a usage error.
set -u

here=$(cd "$(dirname "$0")" && pwd)
sandbox=$here/run-as-node.sh
userdata_max=16384
spot_reason='Server.SpotInstanceTermination: Spot instance termination'

usage() {
	echo "instance-standin.sh: $*" >&2
	echo "usage: instance-standin.sh watch --endpoint URL --region R --tag KEY=VALUE --box-dir DIR" \
		"[--interrupt-after SECONDS | --interrupt-when-done N] [--interrupts K] [--once]" \
		"[--timeout S] [--poll S] [--env-file FILE]" >&2
	exit 2
}

# count NAME VALUE: VALUE is a whole number
count() {
	case $2 in '' | *[!0-9]*) usage "$1 wants a whole number, not '$2'" ;; esac
}

# ---- the options ---------------------------------------------------------------------------
[ "${1:-}" = watch ] || usage "the only command is 'watch'"
shift
endpoint='' region='' tag='' box_dir='' interrupt_after='' interrupt_done='' interrupts=1 once=0
timeout=0 poll=1 env_file=''
while [ "$#" -gt 0 ]; do
	opt=$1
	case $opt in
	--once) once=1; shift; continue ;;
	--endpoint | --region | --tag | --box-dir | --interrupt-after | --interrupt-when-done | \
		--interrupts | --timeout | --poll | --env-file) ;;
	*) usage "unknown option '$opt'" ;;
	esac
	[ "$#" -ge 2 ] || usage "$opt needs a value"
	val=$2
	shift 2
	case $opt in
	--endpoint) endpoint=$val ;;
	--region) region=$val ;;
	--tag) tag=$val ;;
	--box-dir) box_dir=$val ;;
	--interrupt-after) count "$opt" "$val"; interrupt_after=$val ;;
	--interrupt-when-done) count "$opt" "$val"; interrupt_done=$val ;;
	--interrupts) count "$opt" "$val"; interrupts=$val ;;
	--timeout) count "$opt" "$val"; timeout=$val ;;
	--poll) case $val in '' | *[!0-9.]* | *.*.*) usage "--poll wants seconds, not '$val'" ;; esac
		poll=$val ;;
	--env-file) env_file=$val ;;
	esac
done
case $endpoint in http://* | https://*) ;; '') usage "--endpoint is missing" ;;
*) usage "--endpoint '$endpoint' is not an http(s) URL" ;; esac
[ -n "$region" ] || usage "--region is missing"
[ -n "$box_dir" ] || usage "--box-dir is missing"
case $tag in
'') usage "--tag is missing" ;;
=*) usage "--tag '$tag' has no key" ;;
*=*) ;;
*) usage "--tag '$tag' is not KEY=VALUE" ;;
esac
tag_key=${tag%%=*} tag_value=${tag#*=}
[ -z "$interrupt_after" ] || [ -z "$interrupt_done" ] ||
	usage "--interrupt-after and --interrupt-when-done exclude each other"
if [ -n "$env_file" ]; then
	[ -r "$env_file" ] || usage "--env-file '$env_file' cannot be read"
	for v in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN; do
		line=$(grep "^$v=" "$env_file" | tail -1)
		[ -n "$line" ] && export "$v=${line#*=}"
	done
fi
{ [ -n "${AWS_ACCESS_KEY_ID:-}" ] && [ -n "${AWS_SECRET_ACCESS_KEY:-}" ]; } ||
	usage "no credentials for moto: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or give --env-file"
for cmd in aws base64 setsid; do
	command -v "$cmd" >/dev/null 2>&1 || { echo "instance-standin.sh: no $cmd" >&2; exit 1; }
done
mkdir -p "$box_dir" || exit 1
box_dir=$(cd "$box_dir" && pwd)
# a box dir used before: its reclaims and moto's answers are not this watch's
rm -rf "$box_dir/.ec2" "$box_dir/.interrupts"
mkdir -p "$box_dir/.ec2" "$box_dir/.interrupts"

# The stand-in's own calls see moto only, never the user's files or an IMDS.
export AWS_CONFIG_FILE=/nonexistent/petal-standin/config
export AWS_SHARED_CREDENTIALS_FILE=/nonexistent/petal-standin/credentials
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_EC2 AWS_ENDPOINT_URL_S3 2>/dev/null
# moto ARGS...: the aws CLI against moto, waited for so that SIGTERM is handled at once
# (a call takes seconds on a loaded host); the trap ends it
moto() {
	aws --endpoint-url "$endpoint" --region "$region" "$@" &
	aws_pid=$!
	wait "$aws_pid"
	set -- $?
	aws_pid=''
	return "$1"
}
aws_pid=''
ec2() { moto ec2 "$@"; }

log() {
	echo "standin: $*"
	echo "$(date -u +%H:%M:%S) $*" >>"$box_dir/standin.log"
}
# nap SECONDS: a sleep the TERM trap interrupts
nap() {
	sleep "$1" &
	nap_pid=$!
	wait "$nap_pid" 2>/dev/null
	nap_pid=
}
nap_pid=

# ---- one machine ---------------------------------------------------------------------------
# The worker of one instance runs in a subshell; these are its variables.
d='' id='' leader='' ns=''

# record RESULT REASON: the outcome, result written last (the watcher waits for it)
record() {
	printf '%s\n' "$2" >"$d/reason"
	printf '%s\n' "$1" >"$d/result"
	log "$id: $1: $2"
}

# pin_ns: once the machine's first process is in its own mount namespace (run-as-node.sh's),
# hold that namespace open on a descriptor, so that its processes can be told by it even
# after the first one ended (no fork per process: the polls stay cheap on a loaded host)
pin_ns() {
	[ -z "$ns" ] && [ -n "$leader" ] || return 0
	[ "/proc/$leader/ns/mnt" -ef "/proc/$$/ns/mnt" ] && return 0
	exec {ns_fd}<"/proc/$leader/ns/mnt" || return 0
	ns=/proc/$BASHPID/fd/$ns_fd
	# never ours: had the leader just ended, its number could be another's
	[ "$ns" -ef "/proc/$$/ns/mnt" ] && { exec {ns_fd}<&-; ns=''; }
	return 0
}
unpin_ns() {
	[ -n "$ns" ] && exec {ns_fd}<&-
	ns=''
}
ns_fd=''

# alive: the user data's first process has not ended (a zombie has)
alive() {
	[ -n "$leader" ] || return 1
	read -r st 2>/dev/null <"/proc/$leader/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# leftovers: PIDs still in the machine's mount namespace
leftovers() {
	[ -n "$ns" ] || return 0
	for p in /proc/[0-9]*; do
		[ "$p/ns/mnt" -ef "$ns" ] && echo "${p#/proc/}"
	done
	return 0
}

# instance_state: the instance's state and StateReason as the watcher last read them from moto
instance_state() {
	state='' why=''
	IFS=$'\t' read -r state why 2>/dev/null <"$box_dir/.ec2/$id"
	return 0
}

# machine_gone: SIGKILL to every process of the machine at once, until none is left
machine_gone() {
	pin_ns
	i=0
	while :; do
		[ -n "$leader" ] && kill -9 -- "-$leader" 2>/dev/null
		left=$(leftovers)
		# shellcheck disable=SC2086 # a list of PIDs
		[ -n "$left" ] && kill -9 $left 2>/dev/null
		{ alive || [ -n "$left" ]; } || break
		i=$((i + 1))
		[ "$i" -lt 100 ] || { log "$id: processes outlive SIGKILL: $leader $left"; leader=''; unpin_ns; return; }
		sleep 0.05
	done
	[ -n "$leader" ] && wait "$leader" 2>/dev/null
	leader=''
	unpin_ns
}

# claim_interrupt: take one of the --interrupts slots (atomic: mkdir)
claim_interrupt() {
	k=1
	while [ "$k" -le "$interrupts" ]; do
		mkdir "$box_dir/.interrupts/$k" 2>/dev/null && { echo "$id" >"$box_dir/.interrupts/$k/instance"; return 0; }
		k=$((k + 1))
	done
	return 1
}

# report_done: done_now is the "done" of the status.json under the build's PETAL_REPORT_URL, read from
# the environment of the machine's processes (the stub exports it), or nothing
report_url=
report_done() {
	done_now=''
	if [ -z "$report_url" ]; then
		for p in $(leftovers); do
			report_url=$(tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | sed -n 's/^PETAL_REPORT_URL=//p' | head -1)
			[ -n "$report_url" ] && break
		done
		[ -n "$report_url" ] || return 0
	fi
	moto s3 cp --only-show-errors "$report_url/status.json" "$d/.status.json" 2>/dev/null || return 0
	done_now=$(python3 -c 'import json, sys
try:
    print(int(json.load(open(sys.argv[1]))["done"]))
except Exception:
    pass' "$d/.status.json" 2>/dev/null)
}

# boot ID TYPE HTTP_TOKENS LIFECYCLE: the worker of one instance
boot() {
	id=$1
	type=$2 tokens=$3 lifecycle=$4
	d=$box_dir/$id
	mkdir -p "$d"
	trap '[ -n "$aws_pid" ] && kill "$aws_pid" 2>/dev/null; machine_gone; [ -e "$d/result" ] || record standin-stopped "the stand-in was stopped while the user data ran"; exit 0' TERM
	if ! ec2 describe-instance-attribute --instance-id "$id" --attribute userData \
		--query 'UserData.Value' --output text >"$d/user-data.b64" 2>"$d/standin.err"; then
		record error "describe-instance-attribute userData failed: $(tr '\n' ' ' <"$d/standin.err")"
		return
	fi
	if [ "$(cat "$d/user-data.b64")" = None ]; then
		: >"$d/user-data"
	elif ! base64 -d "$d/user-data.b64" >"$d/user-data" 2>"$d/standin.err"; then
		record error "moto's user data is not base64: $(tr '\n' ' ' <"$d/standin.err")"
		return
	fi
	rm -f "$d/user-data.b64" "$d/standin.err"
	size=$(wc -c <"$d/user-data")
	if [ "$size" -gt "$userdata_max" ]; then
		record refused "user data is $size bytes: EC2 takes at most $userdata_max (before base64) and would not launch it"
		return
	fi
	if [ "$tokens" != required ]; then
		record refused "launched without IMDSv2 required (MetadataOptions.HttpTokens is $tokens)"
		return
	fi
	if [ "$size" -eq 0 ]; then
		record not-run "no user data: cloud-init runs nothing"
		return
	fi
	if [ "$(head -c 2 "$d/user-data")" != '#!' ]; then
		record not-run "user data does not begin with #! (it begins '$(head -n 1 "$d/user-data" | head -c 40 | tr -cd '[:print:]')'): cloud-init runs no script"
		return
	fi

	# setsid execs in place (a background job leads no group): $! is the machine's group
	cd / || return
	# shellcheck disable=SC2016 # expanded on the machine
	setsid env -i PATH="$ud_path" LANG=C.UTF-8 \
		AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" \
		${AWS_SESSION_TOKEN:+AWS_SESSION_TOKEN="$AWS_SESSION_TOKEN"} \
		AWS_ENDPOINT_URL="$endpoint" AWS_ENDPOINT_URL_S3="$endpoint" PETAL_S3_ENDPOINT="$endpoint" \
		AWS_DEFAULT_REGION="$region" AWS_EC2_METADATA_DISABLED=true PETAL_INSTANCE_TYPE="$type" \
		AWS_CONFIG_FILE=/nonexistent/aws-config AWS_SHARED_CREDENTIALS_FILE=/nonexistent/aws-credentials \
		sh "$sandbox" build "$d" /bin/sh -c 'set -e; s=/var/lib/cloud/instance/scripts/part-001
mkdir -p "${s%/*}"; cat >"$s"; chmod 700 "$s"; exec "$s" </dev/null' \
		<"$d/user-data" >"$d/console.log" 2>&1 &
	leader=$!
	started=$EPOCHSECONDS
	log "$id: $type${lifecycle:+ ($lifecycle)}: running its user data ($size bytes) in $d"
	while :; do
		pin_ns
		if ! alive; then
			status=0
			wait "$leader" || status=$?
			leader=
			echo "$status" >"$d/exit"
			if [ "$status" -eq 77 ] && grep -q 'run-as-node.sh: SKIP' "$d/console.log"; then
				record error "the sandbox cannot be made: $(grep 'SKIP' "$d/console.log" | head -1)"
				return
			fi
			record exited "the user data exited with status $status"
			break
		fi
		instance_state
		case $state in
		shutting-down | terminated | stopping | stopped)
			machine_gone
			case $state in stopp*) record stopped "$why" ;; *) record terminated "$why" ;; esac
			return
			;;
		esac
		interrupt=
		if [ -n "$interrupt_after" ] && [ $((EPOCHSECONDS - started)) -ge "$interrupt_after" ]; then
			interrupt="after ${interrupt_after}s"
		elif [ -n "$interrupt_done" ]; then
			report_done
			[ -n "$done_now" ] && [ "$done_now" -ge "$interrupt_done" ] &&
				interrupt="at done=$done_now"
		fi
		if [ -n "$interrupt" ] && [ "$lifecycle" != spot ]; then
			log "$id: not reclaimed $interrupt: an on-demand instance is not reclaimed by EC2"
			interrupt_after='' interrupt_done=''
		elif [ -n "$interrupt" ] && ! claim_interrupt; then
			interrupt_after='' interrupt_done=''
		elif [ -n "$interrupt" ]; then
			machine_gone
			ec2 terminate-instances --instance-ids "$id" >/dev/null 2>"$d/standin.err" ||
				log "$id: terminate-instances failed: $(tr '\n' ' ' <"$d/standin.err")"
			record spot-interrupted "$spot_reason"
			return
		fi
		nap 0.5
	done
	# the user data ended; what it left running lives until the machine is gone
	[ -n "$(leftovers)" ] || { unpin_ns; return; }
	log "$id: processes left running after the user data: $(leftovers | tr '\n' ' ')"
	while [ -n "$(leftovers)" ]; do
		instance_state
		case $state in shutting-down | terminated | stopping | stopped) break ;; esac
		nap 0.5
	done
	machine_gone
}

# ---- the watcher ---------------------------------------------------------------------------
# The user data's PATH: systemd's default, and where this host keeps the aws CLI and python3
# (on an AMI both are in /usr/bin).
ud_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
for cmd in python3 aws; do
	p=$(command -v "$cmd" 2>/dev/null) && case ":$ud_path:" in *":${p%/*}:"*) ;;
	*) ud_path=${p%/*}:$ud_path ;; esac
done

echo $$ >"$box_dir/standin.pid"
declare -A workers=()
errors=0
# stop [STATUS]: end the machines, then exit STATUS, or 1 after a refusal or error, else 0
stop() {
	trap '' TERM INT
	[ -n "$nap_pid" ] && kill "$nap_pid" 2>/dev/null
	[ -n "$aws_pid" ] && kill "$aws_pid" 2>/dev/null
	for w in "${workers[@]}"; do kill -TERM "$w" 2>/dev/null; done
	for w in "${workers[@]}"; do wait "$w" 2>/dev/null; done
	for r in "$box_dir"/i-*/result; do
		[ -e "$r" ] || continue
		case $(cat "$r") in refused | error) errors=1 ;; esac
	done
	rm -f "$box_dir/standin.pid"
	exit "${1:-$errors}"
}
trap stop TERM INT

filter=$(printf '[{"Name":"tag:%s","Values":["%s"]}]' \
	"$(printf '%s' "$tag_key" | sed 's/[\\"]/\\&/g')" "$(printf '%s' "$tag_value" | sed 's/[\\"]/\\&/g')")
start=$EPOCHSECONDS
fails=0
log "watching $endpoint ($region) for instances tagged $tag_key=$tag_value"
while :; do
	# one look at moto for every machine: id, state, type, IMDSv2, lifecycle, StateReason
	if ec2 describe-instances --filters "$filter" --output text --query \
		'Reservations[].Instances[].[InstanceId,State.Name,InstanceType,MetadataOptions.HttpTokens,InstanceLifecycle,StateReason.Message]' \
		>"$box_dir/.ec2/out" 2>"$box_dir/.ec2/err"; then
		fails=0
		while IFS=$'\t' read -r iid state itype tokens lifecycle why; do
			[ -n "$iid" ] || continue
			printf '%s\t%s\n' "$state" "$why" >"$box_dir/.ec2/$iid.tmp" &&
				mv "$box_dir/.ec2/$iid.tmp" "$box_dir/.ec2/$iid"
			[ -z "${workers[$iid]:-}" ] || continue
			case $state in pending | running) ;; *) continue ;; esac
			[ "$lifecycle" = None ] && lifecycle=
			# bash's own words on a killed job ("Killed") go there, not on our output
			boot "$iid" "$itype" "$tokens" "$lifecycle" 2>>"$box_dir/.ec2/$iid.err" &
			workers[$iid]=$!
		done <"$box_dir/.ec2/out"
	else
		fails=$((fails + 1))
		if [ "$fails" -ge 10 ]; then
			log "moto at $endpoint does not answer: $(tr '\n' ' ' <"$box_dir/.ec2/err")"
			errors=1
			stop
		fi
	fi
	if [ "$once" = 1 ]; then
		for iid in "${!workers[@]}"; do
			[ -e "$box_dir/$iid/result" ] || continue
			stop
		done
	fi
	if [ "$timeout" -gt 0 ] && [ $((EPOCHSECONDS - start)) -ge "$timeout" ]; then
		log "--timeout ${timeout}s: stopping"
		[ "$once" = 1 ] && stop 124
		stop
	fi
	nap "$poll"
done
