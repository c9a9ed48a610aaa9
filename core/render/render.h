/* Render a plan into the files it implies. */
#ifndef PETAL_RENDER_H
#define PETAL_RENDER_H

#include <petal/plugin.h>

#include "../plan/plan.h"
#include "../plugin/registry.h"

struct petal_render_opts {
	const char *dir;       /* created when missing */
	const char *subnet_id; /* overrides the seed's network.subnet_id */
	const char *key_name;  /* overrides the seed's network.key_name */
	int scripts_only;      /* what a build instance runs: no cluster-config.yaml,
	                          and no subnet needed */
};

/* Writes into opts->dir (each file atomically):
 *   cluster-config.yaml  ParallelCluster 3 configuration
 *   build-instance.sh    script the build instance runs (AMI and cache builds)
 *   node-bootstrap.sh    OnNodeConfigured script
 *   spack.yaml           Spack environment (with the binary-cache mirror)
 *   modules.yaml         Spack's modules configuration (Lmod, no hashes)
 *   container-modules.yaml  petal's description of the container modules
 * Each tier that claimed packages is init'ed and asked, in rank order, for its
 * fragments.  PETAL_EINVAL, with nothing written, when there is no subnet
 * (opts->subnet_id, else the seed's network.subnet_id) or a value would be
 * invalid in the cluster config; PETAL_EPLUGIN when a claiming tier is not
 * loaded.
 *
 * When a tier adds PETAL_FRAG_SHARED_MB (it installs on the head node at
 * creation), the config gains SharedStorage: an EBS gp3 volume at /shared
 * of max(40, 2 x the sum / 1024 + 20) GiB (PETAL_EINVAL past 16 TiB), and
 * node-bootstrap.sh splits: the head node points Spack's install tree at
 * /shared/spack/opt (system scope, /etc/spack; the image's tree an upstream),
 * runs the tiers' lines, then writes /shared/petal/ready-<hash>; compute
 * nodes wait for that file, then only set up Spack's scope and login shells
 * before the tiers' lines (which install nothing there: a tier that installs
 * guards its lines with petal_is_head_node).  When 15 min plus twice the
 * plan's ready_minutes exceed ParallelCluster's 30-minute bootstrap timeout,
 * DevSettings.Timeouts raises both (at most CloudFormation's 12 hours).
 * doc/render.md says who runs what, when, and where.
 *
 * PETAL_FRAG_PCLUSTER keys placed (any other is refused to the tier):
 *   Image.CustomAmi            the image the nodes boot (one per cluster)
 *   Iam.S3Access               a bucket the nodes read (head node and queues)
 *   Iam.AdditionalIamPolicies  a policy ARN for the nodes (head node and queues)
 * CustomActions.OnNodeConfigured is the core's: node-bootstrap.sh, holding the
 * tiers' PETAL_FRAG_NODE_SCRIPT lines.
 *
 * Image.CustomAmi is written only when it is an AMI id (ami- and 8 or 17
 * characters); an AMI name (the seed's custom_ami, or "petal-" and the first
 * 16 digits of the seed hash for an image petal bakes) is left out, and
 * said so in a comment: `petal create` sets the id once the image exists.
 *
 * What tiers' script lines may use (both scripts, bash, set -euo pipefail):
 *   spack              on PATH, Spack at PETAL_SPACK_VERSION in PETAL_SPACK_ROOT,
 *                      with every PETAL_FRAG_SPACK_MIRROR added (site scope,
 *                      --type binary --unsigned; on compute nodes of a
 *                      shared layout, no mirror: they install nothing)
 *   "$PETAL_JOBS"      parallel build jobs (software.build_parallel, else nproc)
 *   petal_os_install   install OS packages (dnf, yum or apt-get)
 *   petal_spack_install OPTION... -- SPEC...  (build-instance.sh only)
 *                      `spack install OPTION...` of the specs, its packages
 *                      counted into status.json's done and total
 *   petal_is_head_node true on the head node (node-bootstrap.sh only)
 *   PETAL_SHARED_TREE  Spack's install tree on the shared volume (node-bootstrap.sh,
 *                      shared layout only; `spack install` already goes there)
 * A tier's lines run in a function of their own; build-instance.sh takes the
 * parts to run as arguments ("all", the default, or tier names), so the AMI
 * bake and the cache fill can run on two instances.  It logs to
 * /var/log/petal-build.log, checks what the parts installed (state
 * "validating") and ends with "petal: build succeeded for seed <hash>";
 * node-bootstrap.sh logs to /var/log/petal-bootstrap.log.  Both keep
 * /var/log/petal/status.json (doc/render.md, "Status and report"). */
int petal_render(const struct petal_plan *plan, struct petal_registry *reg,
                 const struct petal_render_opts *opts, struct petal_error *err);

/* Where the node bootstrap script (and the other files) belong in S3:
 * s3://<cache bucket>/<cache prefix>/petal/<seed hash>, or, with no binary
 * cache, s3://petal-artifacts-<first 16 digits of the hash>/petal/<seed hash>;
 * no trailing '/'.  The config's OnNodeConfigured script is this URL with
 * "/node-bootstrap.sh".  Caller frees. */
char *petal_render_artifacts_url(const struct petal_seed_info *info);

/* Where a cluster's nodes report (status.json and build.log under NODE/, NODE
 * head or compute-HOST; OnNodeConfigured's argument): ARTIFACTS/nodes/CLUSTER,
 * ARTIFACTS as the cluster's petal:artifacts tag says.  Caller frees. */
char *petal_render_reports_url(const char *artifacts, const char *cluster);

/* A build instance's user data (userdata.c): a bash stub that exports the
 * reporting protocol's environment (PETAL_RUN, PETAL_STEP, PETAL_ARTIFACTS,
 * PETAL_REPORT_URL = ARTIFACTS/STEP, PETAL_CHECKPOINT_URL and, when set,
 * PETAL_REPORT_INTERVAL), fetches ARTIFACTS/build-instance.sh with the aws
 * CLI and runs it with the parts; a failed fetch uploads a failed
 * status.json saying so.  doc/run.md, "The build instance". */
struct petal_user_data {
	const char *run_id, *step_id;
	const char *artifacts;      /* s3://... of the run, no trailing '/' */
	const char *checkpoint_url; /* a binary mirror, or NULL */
	const char *const *parts;   /* [a-z0-9-]+ each */
	size_t n_parts;
	long report_interval_s;     /* 0: the script's default */
};
/* *out: the text (caller frees); PETAL_EINVAL for a bad part, no s3://
   artifacts, or a text over EC2's 16 KB. */
int petal_render_user_data(const struct petal_user_data *u, char **out,
                           struct petal_error *err);
/* What petal uploads beside a run's artifacts (doc/render.md, "Sources"):
 * every file:// thing of the seed, so that a machine needs only the
 * artifacts location.  `name` is relative to the artifacts URL:
 *   spack/spack.tar     software.spack.url (as it is: tar reads any
 *                       compression) or a file:// software.spack.git, as
 *                       `git archive` at software.spack.ref
 *   repos/NAME.tar      a package repository: a file:/// directory (tar of
 *                       its contents), a file:// git repository (git archive
 *                       at its ref) or a file:// tarball (as it is)
 *   source-mirror/      a file:// source mirror, object by object
 * The rendered scripts fetch each from "$PETAL_ARTIFACTS/<name>" when the
 * environment sets PETAL_ARTIFACTS, else from the seed's own URL. */
struct petal_upload {
	char *local_path;  /* on this machine: a file or a directory */
	char *name;        /* ends in '/' for a directory uploaded object by object */
	int is_dir;        /* 1: local_path is a directory (a tar or a tree of objects) */
	char *git_ref;     /* non-NULL: local_path is a git repository, archived at this ref */
};

/* The seed's uploads into *out (*n of them, in the order above; none: NULL
 * and 0).  Nothing is read from disk.  Free with petal_render_uploads_free. */
int petal_render_uploads(const struct petal_seed *seed, struct petal_upload **out, size_t *n,
                         struct petal_error *err);
void petal_render_uploads_free(struct petal_upload *u, size_t n);

/* Uploads each through the cloud door (petal_cloud_object_put) to
 * artifacts_url/<name>: a file as it is, a directory as a tar made by
 * running tar (or git archive) with a fixed argv in $TMPDIR, removed after,
 * or a tree of objects.  Stops at the first failure: PETAL_ENOENT when a
 * local path is missing, PETAL_EINVAL when it is not what the seed says (a
 * file, a directory), PETAL_EIO when tar or git fails (with its last line),
 * or the door's error. */
struct petal_cloud;
int petal_render_upload_all(struct petal_cloud *c, const char *artifacts_url,
                            const struct petal_upload *u, size_t n, struct petal_error *err);

/* Behind host->renderer_seed and host->render_add. */
const struct petal_seed_info *petal_renderer_seed(struct petal_renderer *r);
int petal_renderer_add(struct petal_renderer *r, enum petal_fragment kind,
                       const char *key, const char *text, struct petal_error *err);

#endif
