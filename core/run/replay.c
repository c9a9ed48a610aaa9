/* The journal read back: each step's state, the resources still held, and
   the cleanup list that releases them. */
#include "config.h"

#include "run.h"

#include <stdlib.h>
#include <string.h>

#include "../util/util.h"

#define JOURNAL_MAX (256u << 20)

static const char *const end_names[] = {
	[PETAL_RUN_SUCCEEDED] = "succeeded",
	[PETAL_RUN_FAILED] = "failed",
	[PETAL_RUN_CANCELLED] = "cancelled",
};

const char *petal_run_end_name(enum petal_run_end e)
{
	return e > PETAL_RUN_NOT_ENDED && e <= PETAL_RUN_CANCELLED ? end_names[e] : NULL;
}

const char *petal_run_status(const struct petal_run_state *st, int lock_held)
{
	if (st && st->end)
		return petal_run_end_name(st->end);
	if (lock_held)
		return "running";
	return st && st->detached ? "detached" : "dead";
}

const char *petal_run_step_state_name(enum petal_run_step_state s)
{
	static const char *const names[] = {
		[PETAL_STEP_PENDING] = "pending", [PETAL_STEP_INTENT] = "intent",
		[PETAL_STEP_STARTED] = "started", [PETAL_STEP_DONE] = "done",
		[PETAL_STEP_FAILED] = "failed",
	};
	return s <= PETAL_STEP_FAILED ? names[s] : "?";
}

/* ---- state ---------------------------------------------------------------------- */

static void resource_release(struct petal_run_resource *r)
{
	free(r->kind);
	free(r->id);
	free(r->region);
	free(r->step);
	free(r->created);
}

void petal_run_state_free(struct petal_run_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_steps; i++) {
		free(st->steps[i].id);
		free(st->steps[i].op);
		free(st->steps[i].token);
		free(st->steps[i].error);
		json_decref(st->steps[i].produced);
	}
	free(st->steps);
	for (size_t i = 0; i < st->n_held; i++)
		resource_release(&st->held[i]);
	free(st->held);
	free(st->id);
	free(st->command);
	free(st->seed);
	free(st->seed_hash);
	free(st->started);
	free(st->last);
	free(st->ended);
	free(st->note);
	json_decref(st->plan);
	json_decref(st->options);
	free(st);
}

static struct petal_run_step *step_get(struct petal_run_state *st, const char *id,
                                       size_t *cap)
{
	for (size_t i = 0; i < st->n_steps; i++)
		if (strcmp(st->steps[i].id, id) == 0)
			return &st->steps[i];
	struct petal_run_step s = { .id = petal_xstrdup(id) };
	PETAL_PUSH(st->steps, st->n_steps, *cap, s);
	return &st->steps[st->n_steps - 1];
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ---- one record ----------------------------------------------------------------- */

struct replay {
	const char *path;
	size_t line;
	struct petal_run_state *st;
	size_t cap_steps, cap_held;
	struct petal_error *err;
};

static int bad(struct replay *r, const char *what)
{
	return petal_fail(r->err, PETAL_EINVAL, "%s:%zu: %s", r->path, r->line, what);
}

/* A string member: required, or optional (NULL when absent or null). */
static int str(struct replay *r, json_t *rec, const char *key, int required, const char **out)
{
	json_t *v = json_object_get(rec, key);
	*out = NULL;
	if (json_is_string(v) && json_string_length(v) > 0) {
		*out = json_string_value(v);
		return 0;
	}
	if (!required && (!v || json_is_null(v)))
		return 0;
	char *msg = petal_xasprintf("a record's \"%s\" must be a non-empty string", key);
	int rc = bad(r, msg);
	free(msg);
	return rc;
}

static int on_start(struct replay *r, json_t *rec)
{
	struct petal_run_state *st = r->st;
	const char *id, *cmd, *seed, *hash;
	if (str(r, rec, "run", 1, &id) || str(r, rec, "command", 0, &cmd) ||
	    str(r, rec, "seed", 0, &seed) || str(r, rec, "seed_hash", 0, &hash))
		return PETAL_EINVAL;
	if (!petal_run_id_valid(id))
		return bad(r, "run-start's \"run\" is not a run id");
	st->id = petal_xstrdup(id);
	st->command = petal_xstrdup(cmd);
	st->seed = petal_xstrdup(seed);
	st->seed_hash = petal_xstrdup(hash);
	st->pid = (long)json_integer_value(json_object_get(rec, "pid"));
	json_t *plan = json_object_get(rec, "plan");
	if (plan && !json_is_object(plan))
		return bad(r, "run-start's \"plan\" must be an object");
	st->plan = json_incref(plan);
	json_t *options = json_object_get(rec, "options");
	if (options && !json_is_object(options))
		return bad(r, "run-start's \"options\" must be an object");
	st->options = json_incref(options);
	json_t *steps = json_object_get(plan, "steps"), *s;
	size_t i;
	json_array_foreach(steps, i, s) {
		const char *sid;
		if (str(r, s, "id", 1, &sid))
			return PETAL_EINVAL;
		step_get(st, sid, &r->cap_steps);
	}
	return 0;
}

static int on_intent(struct replay *r, json_t *rec)
{
	const char *step, *op, *token;
	if (str(r, rec, "step", 1, &step) || str(r, rec, "op", 1, &op) ||
	    str(r, rec, "token", 0, &token))
		return PETAL_EINVAL;
	struct petal_run_step *s = step_get(r->st, step, &r->cap_steps);
	free(s->op);
	free(s->token);
	free(s->error);
	s->op = petal_xstrdup(op);
	s->token = petal_xstrdup(token);
	s->error = NULL;
	s->error_code = 0;
	s->state = PETAL_STEP_INTENT;
	return 0;
}

static int on_result(struct replay *r, json_t *rec)
{
	const char *step, *op;
	if (str(r, rec, "step", 1, &step) || str(r, rec, "op", 1, &op))
		return PETAL_EINVAL;
	json_t *ok = json_object_get(rec, "ok"), *produced = json_object_get(rec, "produced");
	if (!json_is_boolean(ok))
		return bad(r, "step-result's \"ok\" must be true or false");
	if (produced && !json_is_array(produced) && !json_is_null(produced))
		return bad(r, "step-result's \"produced\" must be an array");
	struct petal_run_step *s = step_get(r->st, step, &r->cap_steps);
	if (s->state != PETAL_STEP_INTENT || !same(s->op, op))
		return bad(r, "a step-result without its step-intent (the intent is written first)");
	if (json_is_true(ok)) {
		json_t *final = json_object_get(rec, "final");
		s->state = final && json_is_false(final) ? PETAL_STEP_STARTED : PETAL_STEP_DONE;
	} else {
		json_t *e = json_object_get(rec, "error");
		const char *msg = json_string_value(json_object_get(e, "message"));
		s->state = PETAL_STEP_FAILED;
		s->error_code = (int)json_integer_value(json_object_get(e, "code"));
		s->error = petal_xstrdup(msg ? msg : "failed (no message)");
	}
	if (produced && json_is_array(produced)) {
		json_decref(s->produced);
		s->produced = json_incref(produced);
	}
	return 0;
}

static int on_resource(struct replay *r, json_t *rec, int created, const char *time)
{
	const char *kind, *id, *region, *step = NULL;
	struct petal_run_state *st = r->st;
	if (str(r, rec, "kind", 1, &kind) || str(r, rec, "id", 1, &id) ||
	    str(r, rec, "region", 0, &region) || (created && str(r, rec, "step", 0, &step)))
		return PETAL_EINVAL;
	for (size_t i = 0; i < st->n_held; i++) {
		struct petal_run_resource *h = &st->held[i];
		if (strcmp(h->kind, kind) != 0 || strcmp(h->id, id) != 0 || !same(h->region, region))
			continue;
		if (created) /* written twice (a resume settling a launch): held once */
			return 0;
		resource_release(h);
		memmove(h, h + 1, (st->n_held - i - 1) * sizeof(*h));
		st->n_held--;
		return 0;
	}
	if (!created) /* a release found by tag, never journaled as made: nothing held */
		return 0;
	struct petal_run_resource h = {
		.kind = petal_xstrdup(kind), .id = petal_xstrdup(id), .region = petal_xstrdup(region),
		.step = petal_xstrdup(step), .created = petal_xstrdup(time),
	};
	PETAL_PUSH(st->held, st->n_held, r->cap_held, h);
	return 0;
}

static int on_kept(struct replay *r, json_t *rec, const char *time)
{
	const char *kind, *id, *step;
	int rc;

	if (str(r, rec, "kind", 1, &kind) || str(r, rec, "id", 1, &id) ||
	    str(r, rec, "step", 0, &step))
		return PETAL_EINVAL;
	json_t *copy = json_pack("{s:s, s:s}", "kind", kind, "id", id);
	rc = on_resource(r, rec, 0, time);
	if (rc == 0 && step) {
		struct petal_run_step *s = step_get(r->st, step, &r->cap_steps);

		if (!json_is_array(s->produced)) {
			json_decref(s->produced);
			s->produced = json_array();
		}
		json_array_append(s->produced, copy);
	}
	json_decref(copy);
	return rc;
}

static int on_end(struct replay *r, json_t *rec, const char *time)
{
	const char *state;
	if (str(r, rec, "state", 1, &state))
		return PETAL_EINVAL;
	for (int e = PETAL_RUN_SUCCEEDED; e <= PETAL_RUN_CANCELLED; e++)
		if (strcmp(state, end_names[e]) == 0)
			r->st->end = e;
	if (!r->st->end)
		return bad(r, "run-end's \"state\" is succeeded, failed or cancelled");
	r->st->exit_code = (int)json_integer_value(json_object_get(rec, "exit"));
	r->st->ended = petal_xstrdup(time);
	return 0;
}

static int replay_line(struct replay *r, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *rec = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *type, *time;
	int rc;

	if (!rec) {
		char *msg = petal_xasprintf("not a JSON record: %s (column %d)", jerr.text, jerr.column);
		rc = bad(r, msg);
		free(msg);
		return rc;
	}
	if (!json_is_object(rec)) {
		rc = bad(r, "a record is a JSON object");
		goto out;
	}
	if ((rc = str(r, rec, "record", 1, &type)) || (rc = str(r, rec, "time", 1, &time)))
		goto out;
	if (r->st->records == 0 && strcmp(type, "run-start") != 0) {
		rc = bad(r, "the first record must be run-start");
		goto out;
	}
	/* after the end, only what `petal gc` released of what the run kept */
	if (r->st->end && strcmp(type, "resource-released") != 0) {
		rc = bad(r, "a record after run-end (only resource-released may follow it)");
		goto out;
	}
	if (strcmp(type, "run-start") == 0) {
		if (r->st->records)
			rc = bad(r, "a second run-start");
		else
			rc = on_start(r, rec);
		if (!rc)
			r->st->started = petal_xstrdup(time);
	} else if (strcmp(type, "step-intent") == 0) {
		rc = on_intent(r, rec);
	} else if (strcmp(type, "step-result") == 0) {
		rc = on_result(r, rec);
	} else if (strcmp(type, "resource-created") == 0) {
		rc = on_resource(r, rec, 1, time);
	} else if (strcmp(type, "resource-released") == 0) {
		rc = on_resource(r, rec, 0, time);
	} else if (strcmp(type, "resource-kept") == 0) {
		/* the run's product, handed over; no longer the run's to undo */
		rc = on_kept(r, rec, time);
	} else if (strcmp(type, "run-detach") == 0) {
		rc = 0; /* petal left the run to its machines: resume takes it up */
	} else if (strcmp(type, "run-end") == 0) {
		rc = on_end(r, rec, time);
	} else {
		char *msg = petal_xasprintf("unknown record '%s'", type);
		rc = bad(r, msg);
		free(msg);
	}
	if (!rc) {
		/* detached until anything else is written (a resume) */
		r->st->detached = strcmp(type, "run-detach") == 0;
		r->st->records++;
		free(r->st->last);
		r->st->last = petal_xstrdup(time);
	}
out:
	json_decref(rec);
	return rc;
}

int petal_run_replay(const char *journal_path, struct petal_run_state **out,
                     struct petal_error *err)
{
	char *data;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = petal_read_file(journal_path, JOURNAL_MAX, &data, &len, err)))
		return rc;
	struct replay r = {
		.path = journal_path, .st = petal_xcalloc(1, sizeof(*r.st)), .err = err,
	};
	size_t at = 0;
	while (at < len) {
		const char *nl = memchr(data + at, '\n', len - at);
		r.line++;
		if (!nl) { /* its write never returned: nothing it said was acknowledged */
			r.st->note = petal_xasprintf("%s:%zu: torn last line ignored (%zu bytes, a "
			                             "write cut short by a crash)", journal_path, r.line,
			                             len - at);
			break;
		}
		if ((rc = replay_line(&r, data + at, (size_t)(nl - (data + at)))))
			goto out_state;
		at = (size_t)(nl - data) + 1;
	}
	if (r.st->records == 0) {
		rc = petal_fail(err, PETAL_ENOENT, "%s: no run-start record: the run never started",
		                journal_path);
		goto out_state;
	}
	*out = r.st;
	r.st = NULL;
out_state:
	petal_run_state_free(r.st);
	free(data);
	return rc;
}

size_t petal_run_cleanup(const struct petal_run_state *st, struct petal_run_undo **out)
{
	*out = NULL;
	if (st->n_held == 0)
		return 0;
	*out = petal_xcalloc(st->n_held, sizeof(**out));
	for (size_t i = 0; i < st->n_held; i++) {
		const struct petal_run_resource *res = &st->held[st->n_held - 1 - i];
		(*out)[i].res = res;
		(*out)[i].op = strcmp(res->kind, "instance") == 0 ? "terminate"
		             : strcmp(res->kind, "image") == 0 ? "deregister"
		             : "delete";
	}
	return st->n_held;
}
