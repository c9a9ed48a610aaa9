"""The machine's side of petal's reporting protocol (doc/run.md, "The build
instance"), for tests/test_build_ami.sh: for every instance tagged petal:run
that is pending or running, once each, write what a build instance's script
writes to the run's artifacts (status.json, build.log).  One process with one
client, so a test does not pay a CLI start per object.

    python3 machine.py ENDPOINT BUCKET PREFIX MODE PLAYED_FILE [MIRROR]
MODE: ok (running 1 of 2, then succeeded), fail (failed on libhello@1.0 with
its log's last lines), hold (running, never ending).  With MIRROR (a directory
holding a Spack mirror, as shared/testdata's), a cache fill that succeeds has
pushed it: its files go to s3://BUCKET/PREFIX/ first, as `spack buildcache
push --update-index` leaves them.  Stops on SIGTERM."""
import json, os, signal, sys, time

import boto3

endpoint, bucket, prefix, mode, played_file = sys.argv[1:6]
mirror = sys.argv[6] if len(sys.argv) > 6 else None
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
kw = dict(endpoint_url=endpoint, region_name="us-east-1")
ec2, s3 = boto3.client("ec2", **kw), boto3.client("s3", **kw)
played = set()


def status(url, run, step, state, done, package=None, failed=None, code=None, tail=()):
    body = {"format": "petal-status", "version": 1, "seed_hash": None,
            "script": "build-instance.sh", "run": run, "step": step, "state": state,
            "package": package, "done": done, "total": 2, "from_checkpoint": 0,
            "failed_package": failed, "exit_code": code, "log": None,
            "log_tail": list(tail), "message": None, "started": "2026-12-03T10:00:00Z",
            "time": "%.6f" % time.time()}
    s3.put_object(Bucket=bucket, Key=url + "/status.json", Body=json.dumps(body).encode())


while True:
    pages = ec2.describe_instances(Filters=[
        {"Name": "tag-key", "Values": ["petal:run"]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    for r in pages["Reservations"]:
        for i in r["Instances"]:
            if i["InstanceId"] in played:
                continue
            played.add(i["InstanceId"])
            with open(played_file, "a") as f:
                f.write(i["InstanceId"] + "\n")
            tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
            run, step = tags["petal:run"], tags.get("petal:step", "")
            url = "%s/petal/runs/%s/%s" % (prefix, run, step)
            log = "petal: ami\n==> Installing libhello-1.0\n"
            s3.put_object(Bucket=bucket, Key=url + "/build.log", Body=log.encode())
            status(url, run, step, "running", 1, package="libhello@1.0")
            if mode != "hold":
                time.sleep(1.0)  # a build takes a while: petal sees it running
            if mode == "ok" and mirror and step.endswith("cache-build"):
                for top, _, files in os.walk(mirror):
                    for name in files:
                        path = os.path.join(top, name)
                        key = prefix + "/" + os.path.relpath(path, mirror)
                        with open(path, "rb") as f:
                            s3.put_object(Bucket=bucket, Key=key, Body=f.read())
            if mode == "ok":
                log += "[+] /opt/spack/opt/spack/libhello\npetal: build succeeded\n"
                s3.put_object(Bucket=bucket, Key=url + "/build.log", Body=log.encode())
                status(url, run, step, "succeeded", 2, code=0)
            elif mode == "fail":
                status(url, run, step, "failed", 1, package="libhello@1.0",
                       failed="libhello@1.0", code=2,
                       tail=["make: *** [all] Error 2", "hello.c:3: error: expected ;"])
    time.sleep(0.2)
