/* The journal's writers: one record a line, one write() and an fsync each,
   so a record a call has returned for survives a crash of petal. */
#include "config.h"

#include "run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../util/util.h"
#include "run_internal.h"

void petal_run_now(char buf[32])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int petal_run_append(struct petal_run *run, json_t *rec, struct petal_error *err)
{
	char now[32];
	char *line;
	size_t len;
	int rc = 0;

	if (!json_is_object(rec) || !json_is_string(json_object_get(rec, "record")))
		return petal_fail(err, PETAL_EINVAL, "a journal record is an object with a \"record\"");
	petal_run_now(now);
	if (!json_object_get(rec, "time"))
		json_object_set_new(rec, "time", json_string(now));
	line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!line)
		return petal_fail(err, PETAL_EINVAL, "%s: a record could not be serialized",
		                  run->journal);
	len = strlen(line);
	line = petal_xrealloc(line, len + 2);
	line[len++] = '\n';
	line[len] = '\0';
	if (petal_write_fd(run->journal_fd, line, len) != 0)
		rc = petal_fail(err, PETAL_EIO, "%s: cannot append a record: %s", run->journal,
		                strerror(errno));
	else if (fsync(run->journal_fd) != 0)
		rc = petal_fail(err, PETAL_EIO, "%s: fsync failed: %s", run->journal, strerror(errno));
	free(line);
	return rc;
}

int petal_run_record(struct petal_run *run, const char *type, json_t *rec,
                     struct petal_error *err)
{
	json_t *full = json_pack("{s:s}", "record", type);
	json_object_update(full, rec);
	int rc = petal_run_append(run, full, err);
	json_decref(full);
	return rc;
}

static int need(const char *what, const char *v, struct petal_error *err)
{
	if (!v || !*v)
		return petal_fail(err, PETAL_EINVAL, "a journal record needs its %s", what);
	return 0;
}

static int check_kind(const char *kind, struct petal_error *err)
{
	if (need("resource kind", kind, err))
		return PETAL_EINVAL;
	for (const char *p = kind; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return petal_fail(err, PETAL_EINVAL, "resource kind '%s' is not [a-z0-9-]+", kind);
	return 0;
}

static int write_new(struct petal_run *run, const char *type, json_t *rec,
                     struct petal_error *err)
{
	int rc = petal_run_record(run, type, rec, err);
	json_decref(rec);
	return rc;
}

int petal_run_step_intent(struct petal_run *run, const char *step, const char *op,
                          const char *token, struct petal_error *err)
{
	if (need("step id", step, err) || need("op", op, err))
		return PETAL_EINVAL;
	return write_new(run, "step-intent",
	                 json_pack("{s:s, s:s, s:s?}", "step", step, "op", op, "token", token), err);
}

int petal_run_step_result(struct petal_run *run, const char *step, const char *op,
                          int final, const struct petal_error *error, json_t *produced,
                          struct petal_error *err)
{
	if (need("step id", step, err) || need("op", op, err))
		return PETAL_EINVAL;
	json_t *rec = json_pack("{s:s, s:s, s:b, s:b}", "step", step, "op", op, "ok", !error,
	                        "final", final);
	if (error)
		json_object_set_new(rec, "error", json_pack("{s:i, s:s, s:s}", "code", error->code,
		                                            "name", petal_strerror(error->code),
		                                            "message", error->msg));
	if (produced)
		json_object_set(rec, "produced", produced);
	return write_new(run, "step-result", rec, err);
}

int petal_run_resource_created(struct petal_run *run, const char *kind, const char *id,
                               const char *region, const char *step,
                               struct petal_error *err)
{
	if (check_kind(kind, err) || need("resource id", id, err))
		return PETAL_EINVAL;
	return write_new(run, "resource-created",
	                 json_pack("{s:s, s:s, s:s?, s:s?}", "kind", kind, "id", id, "region",
	                           region, "step", step), err);
}

int petal_run_resource_released(struct petal_run *run, const char *kind, const char *id,
                                const char *region, struct petal_error *err)
{
	if (check_kind(kind, err) || need("resource id", id, err))
		return PETAL_EINVAL;
	return write_new(run, "resource-released",
	                 json_pack("{s:s, s:s, s:s?}", "kind", kind, "id", id, "region", region),
	                 err);
}

int petal_run_resource_kept(struct petal_run *run, const char *kind, const char *id,
                            const char *region, const char *step, struct petal_error *err)
{
	if (check_kind(kind, err) || need("resource id", id, err))
		return PETAL_EINVAL;
	return write_new(run, "resource-kept",
	                 json_pack("{s:s, s:s, s:s?, s:s?}", "kind", kind, "id", id, "region",
	                           region, "step", step),
	                 err);
}

int petal_run_detach(struct petal_run *run, struct petal_error *err)
{
	return write_new(run, "run-detach", json_object(), err);
}

int petal_run_end(struct petal_run *run, enum petal_run_end state, int exit_code,
                  struct petal_error *err)
{
	const char *name = petal_run_end_name(state);
	if (!name)
		return petal_fail(err, PETAL_EINVAL, "a run ends succeeded, failed or cancelled");
	return write_new(run, "run-end", json_pack("{s:s, s:i}", "state", name, "exit", exit_code),
	                 err);
}
