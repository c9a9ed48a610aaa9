/* A machine's status.json read back (doc/run.md, "The build instance"):
   the one reader behind build-ami's progress, cache build and create. */
#include "config.h"

#include "status.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../util/util.h"

static const char *const state_names[] = {
	[PETAL_MACHINE_UNKNOWN] = "unknown", [PETAL_MACHINE_RUNNING] = "running",
	[PETAL_MACHINE_VALIDATING] = "validating", [PETAL_MACHINE_SUCCEEDED] = "succeeded",
	[PETAL_MACHINE_FAILED] = "failed",
};

const char *petal_machine_state_name(enum petal_machine_state s)
{
	return (size_t)s < PETAL_ARRAY_SIZE(state_names) ? state_names[s] : "unknown";
}

/* A string member, or NULL when absent or null; -1 when of another type. */
static int opt_str(json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = petal_xstrdup(json_string_value(v));
	return 0;
}

/* A whole number member >= 0, or `absent` when absent or null; -1 otherwise. */
static int opt_count(json_t *o, const char *key, long absent, long *out)
{
	json_t *v = json_object_get(o, key);

	*out = absent;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 1000000000)
		return -1;
	*out = (long)json_integer_value(v);
	return 0;
}

int petal_machine_status_parse(const char *text, size_t len, struct petal_machine_status *st,
                               struct petal_error *err)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, 0, &je);
	json_t *v;
	const char *bad = NULL;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	st->total = -1;
	st->exit_code = -1;
	if (j == NULL)
		return petal_fail(err, PETAL_EINVAL, "status.json: not JSON (line %d: %s)", je.line,
		                  je.text);
	v = json_object_get(j, "format");
	if (!json_is_object(j) || !json_is_string(v) ||
	    strcmp(json_string_value(v), "petal-status") != 0)
		bad = "not a petal status (its \"format\" is not \"petal-status\")";
	else if (!json_is_integer(json_object_get(j, "version")) ||
	         json_integer_value(json_object_get(j, "version")) != 1)
		bad = "a status version petal does not read (it reads version 1)";
	if (bad == NULL) {
		const char *s = json_string_value(json_object_get(j, "state"));

		for (size_t i = 1; s && i < PETAL_ARRAY_SIZE(state_names); i++)
			if (strcmp(s, state_names[i]) == 0)
				st->state = (enum petal_machine_state)i;
		if (st->state == PETAL_MACHINE_UNKNOWN)
			bad = "its \"state\" is none of running, validating, succeeded, failed";
	}
	if (bad == NULL &&
	    (opt_str(j, "run", &st->run) || opt_str(j, "step", &st->step) ||
	     opt_str(j, "package", &st->package) ||
	     opt_str(j, "failed_package", &st->failed_package) || opt_str(j, "log", &st->log) ||
	     opt_str(j, "message", &st->message) || opt_str(j, "started", &st->started) ||
	     opt_str(j, "time", &st->time)))
		bad = "a member that should be a string is not";
	if (bad == NULL &&
	    (opt_count(j, "done", 0, &st->done) || opt_count(j, "total", -1, &st->total) ||
	     opt_count(j, "from_checkpoint", 0, &st->from_checkpoint)))
		bad = "done, total or from_checkpoint is not a whole number";
	if (bad == NULL) {
		v = json_object_get(j, "exit_code");
		if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 256)
			st->exit_code = (int)json_integer_value(v);
		else if (v != NULL && !json_is_null(v))
			bad = "exit_code is not an exit status";
	}
	v = json_object_get(j, "log_tail");
	if (bad == NULL && v != NULL && !json_is_null(v)) {
		if (!json_is_array(v)) {
			bad = "log_tail is not a list of lines";
		} else {
			size_t i, cap = 0;
			json_t *line;

			json_array_foreach(v, i, line) {
				if (!json_is_string(line)) {
					bad = "log_tail is not a list of lines";
					break;
				}
				PETAL_PUSH(st->log_tail, st->n_log_tail, cap,
				           petal_xstrdup(json_string_value(line)));
			}
		}
	}
	if (bad != NULL) {
		petal_machine_status_release(st);
		rc = petal_fail(err, PETAL_EINVAL, "status.json: %s", bad);
	}
	json_decref(j);
	return rc;
}

void petal_machine_status_release(struct petal_machine_status *st)
{
	if (st == NULL)
		return;
	free(st->run);
	free(st->step);
	free(st->package);
	free(st->failed_package);
	free(st->log);
	free(st->message);
	free(st->started);
	free(st->time);
	for (size_t i = 0; i < st->n_log_tail; i++)
		free(st->log_tail[i]);
	free(st->log_tail);
	memset(st, 0, sizeof(*st));
	st->total = -1;
	st->exit_code = -1;
}
