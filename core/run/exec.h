/* A plan step run on a build instance: launch it (idempotently), follow its
   status.json in the run's artifacts, make the image when the step's action
   asks for one, and release what it launched on every path.  Every change
   goes to the run's journal first, so that a run taken up again (resume)
   continues where it was.  It reads the step's action and knows no tier and
   no cloud by name.  doc/run.md, "Executing a step". */
#ifndef PETAL_RUN_EXEC_H
#define PETAL_RUN_EXEC_H

#include <signal.h>

#include <petal/plugin.h>

#include "../cloud/cloud.h"
#include "../plan/plan.h"
#include "run.h"
#include "status.h"

/* What the step does, as it happens; `what` is one of "launch",
   "launched", "adopted", "status", "interrupted", "relaunch", "image",
   "image-ready", "terminated", "failed", "kept", "timeout", "cancelled". */
struct petal_exec_event {
	const char *step;
	const char *what;
	const char *id;                            /* the instance or image, or NULL */
	const struct petal_machine_status *status; /* the last status read, or NULL */
	const char *detail;                        /* one line, or NULL */
};

struct petal_exec {
	struct petal_run *run;
	const struct petal_run_state *prior; /* the journal replayed (resume), or NULL */
	struct petal_cloud *cloud;           /* its journal hook is set here */
	const char *region;                  /* for the journal, or NULL */
	const char *artifacts;               /* s3://... of this run, no trailing '/' */
	const char *checkpoint_url;          /* a binary mirror, or NULL */
	const char *base_image;              /* the image the instance boots */
	const char *instance_type;           /* over the action's, or NULL */
	int spot;                            /* 1 spot, 0 on demand, -1 the action's */
	int spot_fallback;                   /* spot refused: on demand (else the action's) */
	const char *instance_profile, *subnet_id, *key_name; /* or NULL */
	const char *image_name;              /* over the action's, or NULL */
	/* put on the instance and the image besides petal:run, petal:step, Name */
	const struct petal_tag *tags;
	size_t n_tags;
	long timeout_s;          /* over the action's; 0: the action's */
	long image_timeout_s;    /* for the image to be available; 0: 3 hours */
	int keep_on_error;       /* --on-error abort: a failed instance is left running */
	double poll_s;           /* between looks at the status; 0: 10 s */
	int max_relaunch;        /* instances reclaimed (spot) relaunched at most so often */
	long report_interval_s;  /* the machine's upload period; 0: its default */
	const volatile sig_atomic_t *cancel; /* set by a signal: release and stop */
	const char *work_dir;    /* where status.json is fetched to (the run's dir) */
	int detach;              /* return once the instance is launched (res->detached) */
	void (*event)(void *arg, const struct petal_exec_event *ev);
	void *event_arg;
};

struct petal_exec_result {
	char instance_id[64];  /* the last launched */
	char image_id[64];     /* the product, for an image action */
	int kept;              /* left running (keep_on_error) */
	int cancelled;
	int relaunches;
	int detached;          /* returned after the launch (x->detach) */
	struct petal_machine_status status; /* the last read */
};

/* Run one step whose action is on a build instance (IMAGE, BUILD_INSTANCE,
   CACHE_FILL).  0 when it succeeded (res->image_id set for an image);
   PETAL_ETIMEOUT past its timeout or when cancelled (res->cancelled);
   PETAL_ECLOUD when the build failed (res->status says how), the cloud's
   error otherwise.  Whatever the step launched is released before it
   returns, but for a failed instance with keep_on_error (res->kept). */
int petal_exec_build_step(struct petal_exec *x, const struct petal_plan_step *step,
                          struct petal_exec_result *res, struct petal_error *err);
void petal_exec_result_release(struct petal_exec_result *res);

/* Release what a run still holds (its journal's cleanup list), last made
   first, each release journaled; an instance or image already gone counts
   as released.  An identity (kind "access") whose making was begun but
   never recorded is deleted by its name too.  `say` (may be NULL) hears
   each one.  0, or the first error (the others are still tried). */
int petal_exec_release_all(struct petal_run *run, struct petal_cloud *cloud,
                           const struct petal_run_state *st,
                           void (*say)(void *arg, const char *op, const char *kind,
                                       const char *id, int rc, const char *msg),
                           void *arg, struct petal_error *err);

/* The run's artifacts: the seed's software.build.artifacts (given), else
   beside the nodes' files (petal_render_artifacts_url's bucket and prefix)
   under petal/runs/<run id>.  Caller frees. */
char *petal_exec_artifacts_url(const char *base, const char *run_id);

/* A machine's status.json at url (a build instance's, a node's), fetched to
   path and read into *st (replacing what it held): 0, 1 when there is none
   yet (st untouched), or <0 when it could not be fetched or read (err). */
int petal_exec_fetch_status(struct petal_cloud *cloud, const char *url, const char *path,
                            struct petal_machine_status *st, struct petal_error *err);

#endif
