#!/bin/sh
# The container tier's modules under Debian's own Lmod.  petal's node-bootstrap.sh of a
# containers-only seed runs as the head node (tests/sandbox/run-as-node.sh), with
# tests/container/apptainer playing Apptainer (not packaged for Debian 12; the stand-in
# parses pull and exec as Apptainer does and refuses what Apptainer refuses); then, in a
# login shell on that node:
#  - `module avail` lists the image's modules; `module load` puts the wrapper first on PATH,
#    `module unload` takes it off;
#  - the wrapper runs the tool inside the image through `apptainer exec`, /shared bound,
#    its arguments passed unchanged (spaces, a quote, a glob, an empty one);
#  - each image is pulled once, to its SIF.
. "${top_srcdir:?}/tests/lib.sh"
[ -d /usr/share/lmod ] || { echo "no Lmod (tools/deps-debian.sh installs lmod)" >&2; exit 77; }
sandbox_or_skip head

standin=$top_srcdir/tests/container/apptainer
mkdir -p "$tmp/bin" "$tmp/image" "$tmp/o"
cp "$standin" "$tmp/bin/apptainer"
chmod 0755 "$tmp/bin/apptainer"
# the image's samtools: says how it was called
cat >"$tmp/image/samtools" <<'EOF'
#!/usr/bin/python3
import json, os, sys
json.dump({"args": sys.argv[1:]}, open(os.environ["PETAL_TEST_OUT"] + "/samtools.json", "w"))
print("samtools ran")
EOF
chmod 0755 "$tmp/image/samtools"

# --- the stand-in is as strict as Apptainer
export APPTAINER_STANDIN_LOG="$tmp/o/apptainer.log" APPTAINER_STANDIN_IMAGE="$tmp/image" \
	PETAL_TEST_OUT="$tmp/o"
st=0; "$tmp/bin/apptainer" exec --bogus "$tmp/x.sif" samtools 2>"$tmp/err" || st=$?
if [ "$st" = 255 ] && grep -q "unknown flag: --bogus" "$tmp/err"; then ok; else not_ok "stand-in: an unknown flag ($st)"; fi
st=0; "$tmp/bin/apptainer" pull "$tmp/x.sif" quay.io/x:1 2>"$tmp/err" || st=$?
if [ "$st" = 255 ] && grep -q "Unsupported transport" "$tmp/err"; then ok; else not_ok "stand-in: a URI without transport ($st)"; fi
st=0; "$tmp/bin/apptainer" exec "$tmp/image/samtools" samtools 2>"$tmp/err" || st=$?
if [ "$st" = 255 ]; then ok; else not_ok "stand-in: exec of a file that is no SIF ($st)"; fi
"$tmp/bin/apptainer" pull "$tmp/x.sif" docker://quay.io/x:1 2>/dev/null || not_ok "stand-in: a pull"
st=0; "$tmp/bin/apptainer" exec -B /no/such/dir "$tmp/x.sif" samtools 2>"$tmp/err" || st=$?
if [ "$st" = 255 ] && grep -q "mount source /no/such/dir doesn't exist" "$tmp/err"; then ok; else
	not_ok "stand-in: a bind of nothing ($st)"; fi
st=0; "$tmp/bin/apptainer" pull "$tmp/x.sif" docker://quay.io/x:1 2>"$tmp/err" || st=$?
if [ "$st" = 255 ] && grep -q "already exists" "$tmp/err"; then ok; else not_ok "stand-in: a pull over a SIF without --force ($st)"; fi
: >"$APPTAINER_STANDIN_LOG"

# --- the node's bootstrap, then a user's login shell
image=docker://quay.io/biocontainers/samtools:1.17--h00cdaf9_0
cat >"$tmp/seed.yaml" <<EOF
cluster: {name: ct, region: us-east-1}
compute:
  head_node: c5.xlarge
  queues: [{name: work, instance_types: [c5.large], max_count: 2}]
software:
  containers:
    - name: sam
      image: $image
      modules: [samtools@1.17]
EOF
run plan -t "$tmp/seed.yaml" --render "$tmp/r" --subnet-id subnet-0123456789abcdef0
expect_status 0 "the containers-only seed renders"
export PETAL_SANDBOX_BIND="$tmp/o"
# Apptainer where the node's login shells find it (the box's own /usr/local/bin)
run_box head "$tmp/box" install -m 0755 "$tmp/bin/apptainer" /usr/local/bin/apptainer
expect_status 0 "the stand-in installed on the node"
run_box head "$tmp/box" bash "$tmp/r/node-bootstrap.sh"
expect_status 0 "node-bootstrap.sh on the head node"
expect_in "$tmp/out" "petal: node ready for seed" "the bootstrap ends ready"
cat >"$tmp/o/login.sh" <<'EOF'
module -t avail 2>&1 | sed 's/^/avail: /'
module load samtools
echo "path: $(command -v samtools)"
cd /shared
samtools view 'a b' "it's" '*' '' "$HOME"
module unload samtools
echo "after: $(command -v samtools || echo none)"
EOF
run_box head "$tmp/box" bash -l "$tmp/o/login.sh"
expect_status 0 "a login shell loads the module and runs the tool"
expect_in "$tmp/out" "avail: samtools/1.17" "module avail lists the image's module"
expect_in "$tmp/out" "path: /opt/petal/wrappers/samtools/1.17/samtools" "module load puts the wrapper first on PATH"
expect_in "$tmp/out" "samtools ran" "the wrapper runs the image's tool"
expect_in "$tmp/out" "after: none" "module unload takes it off PATH"
home=$HOME
python3 - "$tmp/o" "$image" "$home" <<'EOF' >"$tmp/why" 2>&1 && ok || not_ok "the calls: $(cat "$tmp/why")"
import json, sys
out, image, home = sys.argv[1:]
args = ["view", "a b", "it's", "*", "", home]
got = json.load(open(out + "/samtools.json"))["args"]
assert got == args, "samtools got %r" % got
calls = [json.loads(l)["argv"] for l in open(out + "/apptainer.log")]
sif = "/opt/petal/containers/quay.io_biocontainers_samtools_1.17--h00cdaf9_0.sif"
pulls = [c for c in calls if c[0] == "pull"]
assert pulls == [["pull", "--force", sif, image]], "pulls: %r" % pulls
execs = [c for c in calls if c[0] == "exec"]
assert execs == [["exec", "--bind", "/shared", sif, "samtools"] + args], "execs: %r" % execs
EOF
finish
