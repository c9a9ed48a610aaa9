/* What a build instance or a node says of itself: its status.json, kept
   current in the run's artifacts (doc/run.md, "The build instance"). */
#ifndef PETAL_RUN_STATUS_H
#define PETAL_RUN_STATUS_H

#include <stddef.h>

#include <petal/plugin.h>

enum petal_machine_state {
	PETAL_MACHINE_UNKNOWN = 0, /* no status yet */
	PETAL_MACHINE_RUNNING,
	PETAL_MACHINE_VALIDATING,
	PETAL_MACHINE_SUCCEEDED,
	PETAL_MACHINE_FAILED,
};

struct petal_machine_status {
	enum petal_machine_state state;
	char *run, *step;            /* or NULL */
	char *package;               /* installing now, or the failed one; or NULL */
	char *failed_package;
	char *log;                   /* the failed package's build log, on the machine */
	char *message;               /* why it failed, in a line; or NULL */
	char *started, *time;        /* ISO 8601 UTC; time: when written */
	long done, total;            /* total -1: not known yet */
	long from_checkpoint;
	int exit_code;               /* -1: still running */
	char **log_tail;
	size_t n_log_tail;
};

/* Parse status.json (format "petal-status", version 1).  PETAL_EINVAL
   naming what is wrong: not JSON, another format or version, an unknown
   state, a member of the wrong type. */
int petal_machine_status_parse(const char *text, size_t len, struct petal_machine_status *st,
                               struct petal_error *err);
void petal_machine_status_release(struct petal_machine_status *st);
const char *petal_machine_state_name(enum petal_machine_state s);

#endif
