/* What the commands that execute a plan share (build-ami, cache build,
   resume, logs, gc): signals, the cloud's door, progress, and one build
   job from its options to its end. */
#ifndef PETAL_CLI_RUN_CLI_H
#define PETAL_CLI_RUN_CLI_H

#include <signal.h>

#include <jansson.h>

#include "../cloud/cloud.h"
#include "../plan/estimate.h"
#include "../plan/plan.h"
#include "../run/exec.h"
#include "../run/run.h"
#include "cli.h"

/* Set by SIGINT, SIGTERM and SIGHUP while a run executes; a second signal
   ends petal at once (resume or gc settle the rest). */
extern volatile sig_atomic_t petal_cli_cancel;
void petal_cli_signals_install(void);
void petal_cli_signals_restore(void);

/* The state directory: `flag` (--state-dir), else the host's. Caller frees;
   NULL reported. */
char *petal_cli_state_dir(const struct petal_cli *cli, const char *flag);

/* The cloud plugin `name` initialised behind the door; 0 or an exit status
   (reported). */
int petal_cli_cloud_open(const struct petal_cli *cli, struct petal_registry *reg,
                         const char *name, struct petal_cloud *out);

/* A seed's plan, as `petal plan` composes it offline: seed, estimates and
   measured times, registry, plan.  0 or an exit status (reported). */
struct petal_cli_planned {
	struct petal_seed *seed;
	struct petal_estimates *est;
	struct petal_registry reg;
	struct petal_plan *plan;
};
int petal_cli_plan_seed(struct petal_cli *cli, const char *path, struct petal_cli_planned *p);
/* The same, asking the seed's binary cache which packages it holds
   (petal plan --probe): the cache-fill step then builds only the others,
   and there is none when it holds them all.  `region` as --region. */
int petal_cli_plan_seed_probed(struct petal_cli *cli, const char *path, const char *region,
                               struct petal_cli_planned *p);
/* The plan a cluster is made from: probed like the above, and the images
   asked about even when the seed has no binary cache; `custom_ami` (an id
   or a name, `petal create --ami`) over the seed's compute.custom_ami. */
int petal_cli_plan_seed_for_cluster(struct petal_cli *cli, const char *path, const char *region,
                                    const char *custom_ami, struct petal_cli_planned *p);
void petal_cli_planned_release(struct petal_cli *cli, struct petal_cli_planned *p);

/* The flags build-ami and cache build share, and the run options they make
   (the base image, the artifacts, the checkpoint, the seed's build keys):
   NULL when the seed's OS has no base image (reported).  Caller owns it. */
struct petal_cli_build_flags {
	const char *name, *build_instance, *timeout, *on_error, *region;
	int spot; /* -1: the seed's */
	int save; /* --save-to-template */
};
json_t *petal_cli_build_options(const struct petal_cli *cli, const struct petal_cli_planned *p,
                                const struct petal_cli_build_flags *f);

/* One build on a build instance: the plan's step whose action is `kind`,
   run as `command`, with its options (an object: see doc/run.md "Options";
   the same on a resume).  `run`/`prior` NULL: a new run.  Prints progress
   (all of it with `watch`), the result, and what to do after a failure;
   returns the exit status.  The result (run, state, step, image...) is
   printed, as JSON with --output json, or kept in *result. */
struct petal_cli_build {
	const char *command;          /* "build-ami", "cache build" */
	enum petal_action_kind kind;  /* PETAL_ACTION_IMAGE or PETAL_ACTION_CACHE_FILL */
	const char *state_dir;
	json_t *options;              /* borrowed */
	struct petal_run *run;        /* a resumed run (taken over), or NULL */
	struct petal_run_state *prior;
	int watch, detach;
	json_t **result;              /* set: the result object lands here, nothing is printed */
};
int petal_cli_build_run(struct petal_cli *cli, struct petal_cli_planned *p,
                        struct petal_cli_build *b);

/* Upload DIR/SCRIPT (a rendered script, `what` in messages) to
   ARTIFACTS/SCRIPT, the bucket made first when missing, and the seed's
   file:// sources beside it (petal_render_upload_all); 0 or an exit status
   (reported). */
int petal_cli_upload_artifacts(struct petal_cli *cli, const struct petal_cli_planned *p,
                               struct petal_cloud *cloud, const char *dir, const char *script,
                               const char *what, const char *artifacts, const char *region);

/* Write compute.custom_ami = image_id into the seed file (petal_seed_set_scalar:
   every other byte kept); 0 or an exit status (reported). */
int petal_cli_save_to_template(struct petal_cli *cli, const char *path, const char *image_id);

/* The one run id a command takes after its options (argv[optind]): 0 with
   *id set, or PETAL_EXIT_USAGE (reported: none, more, or not a run id). */
int petal_cli_run_arg(const struct petal_cli *cli, const char *command, int argc, char **argv,
                      const char **id);

/* The commands about one cluster (list, status, delete, logs --build): the
   registry and the cloud (--cloud, default aws) bound to --region, which
   must make clusters; 0 or an exit status (reported).  Close it whatever
   open returned. */
struct petal_cli_opened {
	struct petal_registry reg;
	struct petal_cloud cloud;
	int open;
};
int petal_cli_cluster_open(struct petal_cli *cli, const char *region, const char *cloud,
                           struct petal_cli_opened *o);
void petal_cli_cluster_close(struct petal_cli *cli, struct petal_cli_opened *o);
/* The cluster described, or an exit status (the manager's words reported). */
int petal_cli_cluster_describe(struct petal_cli *cli, struct petal_cli_opened *o,
                               const char *name, struct petal_cluster *c);
/* Its tag `key`, or NULL. */
const char *petal_cli_cluster_tag(const struct petal_cluster *c, const char *key);

/* Seconds between looks at a build or a cluster: $PETAL_POLL_S when it is a
   positive number, else dflt. */
double petal_cli_poll_s(double dflt);
/* Sleep s seconds, or less when a signal sets petal_cli_cancel. */
void petal_cli_nap(double s);

/* A duration ("90m", "12h", "3600" seconds): seconds, or -1. */
long petal_cli_duration(const char *s);

#endif
