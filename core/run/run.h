/* The run layer's foundation: a run's id, directory and lock, its idempotency
   tokens, its journal (append-only JSON lines, fsync'd) and the journal read
   back into what the run did and still holds.  It knows no tier and no cloud
   by name: steps, ops and resource kinds are the caller's words.
   The journal's records: doc/run.md. */
#ifndef PETAL_RUN_H
#define PETAL_RUN_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include <petal/plugin.h>

/* "r-YYYYMMDD-HHMMSS-XXXX": UTC start time and 4 random hex digits. */
#define PETAL_RUN_ID_LEN 22
/* EC2's ClientToken takes at most 64 ASCII characters. */
#define PETAL_RUN_TOKEN_MAX 64

/* Is `id` a run id (the exact form above)? */
int petal_run_id_valid(const char *id);
/* A fresh id for a run starting now. */
int petal_run_id_new(char out[PETAL_RUN_ID_LEN + 1], struct petal_error *err);
/* STATE/runs, STATE/runs/<id>, STATE/runs/<id>/journal.jsonl (caller frees). */
char *petal_run_root(const char *state_dir);
char *petal_run_dir(const char *state_dir, const char *id);
char *petal_run_journal_path(const char *state_dir, const char *id);

/* The idempotency token of one step of one run: "<run id>-<32 hex>", the hex
   the first 128 bits of SHA-256("<run id>/<step id>").  55 characters of
   [a-z0-9-]: the same run and step give the same token on every retry and
   every resume, two steps never share one.  PETAL_EINVAL for a bad run id or
   an empty step id. */
int petal_run_client_token(const char *run_id, const char *step_id,
                           char out[PETAL_RUN_TOKEN_MAX + 1], struct petal_error *err);

/* A run this process owns: its directory locked (flock on STATE/runs/<id>/lock,
   which holds the owner's pid) and its journal open for appending. */
struct petal_run {
	char id[PETAL_RUN_ID_LEN + 1];
	char *dir;
	char *journal;  /* its path */
	int lock_fd, journal_fd;
	char *note;     /* a torn last line cut off by petal_run_open, or NULL */
};

/* What a run-start record says. */
struct petal_run_start {
	const char *command;   /* "build-ami", ... */
	const char *seed;      /* the seed's path */
	const char *seed_hash;
	json_t *plan;          /* a summary of the plan (borrowed; NULL: none) */
	json_t *options;       /* the command's options, for a resume (borrowed; NULL) */
};

struct petal_plan;
/* A plan's summary for run-start: {"steps": [{"id", "stage", "depends_on",
   "action" (its kind's name, or null), "produces"}], "prepare_minutes",
   "ready_minutes"}.  Caller owns the reference. */
json_t *petal_run_plan_summary(const struct petal_plan *plan);

/* A new run: a fresh id, STATE/runs/<id>/ made 0700 (STATE/runs too), locked,
   its journal created and fsync'd with the directory, and run-start written. */
int petal_run_create(const char *state_dir, const struct petal_run_start *start,
                     struct petal_run **out, struct petal_error *err);
/* Take up an existing run (resume): lock it, open its journal for appending.
   A torn last line (a write cut short by a crash: no newline) is cut off
   first, so that the next record starts a line (run->note says so).  A run
   another process holds is refused: "run X is in use by pid N". */
int petal_run_open(const char *state_dir, const char *id, struct petal_run **out,
                   struct petal_error *err);
/* Close the journal and release the lock; NULL is a no-op. */
void petal_run_close(struct petal_run *run);
/* Is the run's lock held by a process?  1 held (*pid its owner's, 0 when
   unknown), 0 free, or a negative PETAL_E* code (PETAL_ENOENT: no such run). */
int petal_run_lock_probe(const char *state_dir, const char *id, pid_t *pid,
                         struct petal_error *err);

/* The ids of the runs in STATE/runs, oldest first (names of another form are
   not runs and are skipped); none when STATE/runs does not exist.  Caller
   frees each and the array. */
int petal_run_list(const char *state_dir, char ***ids, size_t *n, struct petal_error *err);

/* ---- records: each one line, written with one write() and fsync'd before
   the call returns --------------------------------------------------------- */
int petal_run_step_intent(struct petal_run *run, const char *step, const char *op,
                          const char *token, struct petal_error *err);
/* A step's op ended.  `error` NULL: ok; `produced` borrowed, may be NULL (an
   array of {"kind": "...", "id": "..."}); `final`: the step is over (else more
   ops of it follow). */
int petal_run_step_result(struct petal_run *run, const char *step, const char *op,
                          int final, const struct petal_error *error, json_t *produced,
                          struct petal_error *err);
/* kind: [a-z0-9-]+ ("instance", "image", "snapshot", "object", ...); region
   may be NULL; step: the step that made it, or NULL. */
int petal_run_resource_created(struct petal_run *run, const char *kind, const char *id,
                               const char *region, const char *step,
                               struct petal_error *err);
int petal_run_resource_released(struct petal_run *run, const char *kind, const char *id,
                                const char *region, struct petal_error *err);
/* The run's product (the image a build made), handed to the user: no longer
   held, never undone by a cleanup, resume or gc; read back, it is in the
   step's `produced` (step may be NULL). */
int petal_run_resource_kept(struct petal_run *run, const char *kind, const char *id,
                            const char *region, const char *step, struct petal_error *err);
enum petal_run_end {
	PETAL_RUN_NOT_ENDED = 0,
	PETAL_RUN_SUCCEEDED,
	PETAL_RUN_FAILED,
	PETAL_RUN_CANCELLED,
};
int petal_run_end(struct petal_run *run, enum petal_run_end state, int exit_code,
                  struct petal_error *err);
/* petal leaves the run to its machines (--detach): `petal runs` says
   "detached" (not "dead") until a resume writes again. */
int petal_run_detach(struct petal_run *run, struct petal_error *err);
/* Any record (its "record" and "time" members are set here); `rec` is
   borrowed.  The writers above use it. */
int petal_run_append(struct petal_run *run, json_t *rec, struct petal_error *err);

/* ---- the journal read back ------------------------------------------------ */
enum petal_run_step_state {
	PETAL_STEP_PENDING = 0, /* in the plan, no op begun */
	PETAL_STEP_INTENT,      /* an op's intent without its result: a crash, or running */
	PETAL_STEP_STARTED,     /* ops done, the step not over */
	PETAL_STEP_DONE,
	PETAL_STEP_FAILED,
};

struct petal_run_resource {
	char *kind, *id, *region, *step; /* region, step may be NULL */
	char *created;                   /* the record's time */
};

struct petal_run_step {
	char *id;
	enum petal_run_step_state state;
	char *op, *token;   /* the last op begun, and its token (may be NULL) */
	int error_code;     /* of a failure */
	char *error;        /* its message, or NULL */
	json_t *produced;   /* the last result's, or NULL */
};

struct petal_run_state {
	char *id;                 /* the run-start's run id */
	char *command, *seed, *seed_hash, *started, *last;
	long pid;                 /* the process that started it */
	json_t *plan;             /* the run-start's plan summary, or NULL */
	json_t *options;          /* the run-start's options, or NULL */
	int detached;             /* the last record is run-detach */
	enum petal_run_end end;
	int exit_code;
	char *ended;              /* run-end's time, or NULL */
	struct petal_run_step *steps; /* plan order, then first seen */
	size_t n_steps;
	struct petal_run_resource *held; /* created and not released, creation order */
	size_t n_held;
	size_t records;
	char *note;               /* "FILE:N: torn last line ignored ...", or NULL */
};

/* Replay a journal.  A torn last line is ignored (state->note); anything else
   that is not a record (bad JSON, unknown record, missing field, a first
   record other than run-start, a record after run-end) is PETAL_EINVAL
   naming FILE:LINE; a missing journal, or one without a whole run-start
   (a run that died being created), is PETAL_ENOENT. */
int petal_run_replay(const char *journal_path, struct petal_run_state **out,
                     struct petal_error *err);
void petal_run_state_free(struct petal_run_state *st);

/* One undo: release `res` by `op` ("terminate" an instance, "deregister" an
   image, "delete" anything else). */
struct petal_run_undo {
	const char *op;
	const struct petal_run_resource *res; /* borrowed from the state */
};
/* The cleanup list: the held resources' undos, last created first.  Caller
   frees *out (not the resources); returns the count. */
size_t petal_run_cleanup(const struct petal_run_state *st, struct petal_run_undo **out);

/* What `petal runs` says of a run: its end's state when it ended, else
   "running" while its lock is held, else "detached" when petal left it to
   its machines (resume it), else "dead" (its petal died: resume or gc it). */
const char *petal_run_status(const struct petal_run_state *st, int lock_held);

const char *petal_run_end_name(enum petal_run_end e);        /* "succeeded", ...; NULL for NOT_ENDED */
const char *petal_run_step_state_name(enum petal_run_step_state s); /* "pending", "intent", ... */

#endif
