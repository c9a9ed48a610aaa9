/* petal runs: the runs in the state directory, read back from their
   journals, and with RUN one run's steps, resources and cleanup. */
#define _GNU_SOURCE /* strptime, timegm */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plugin/host.h"
#include "../run/run.h"
#include "../util/util.h"
#include "cli.h"

static const char usage_text[] =
	"usage: petal runs [RUN] [--state-dir DIR] [--output text|json]\n"
	"\n"
	"List the runs petal has made (build-ami, cache build, create, ...), newest\n"
	"last, each read back from its journal (STATE/runs/RUN/journal.jsonl): its\n"
	"command and seed, when it started, how long it took and what it still holds\n"
	"in the cloud.  With RUN, that run alone: each step's state, its last op and\n"
	"idempotency token, failures with their message, the resources still held\n"
	"and the cleanup that would release them (last made, first released).\n"
	"\n"
	"  RUN                  a run id, r-YYYYMMDD-HHMMSS-XXXX (as the list shows)\n"
	"      --state-dir DIR  the state directory (default $XDG_STATE_HOME/petal,\n"
	"                         else ~/.local/state/petal); runs live in DIR/runs\n"
	"  -o, --output F       text (default) or json (keys: doc/run.md)\n"
	"\n"
	"A run's state: running (a petal process holds its lock), dead (no end in\n"
	"its journal and nobody holds it: petal was killed; what it holds is\n"
	"listed), succeeded, failed or cancelled (the journal's end).  A step is\n"
	"pending, intent (its cloud call was begun and no answer journaled: a resume\n"
	"settles it by its token), started, done or failed.\n"
	"\n"
	"Examples: petal runs\n"
	"          petal runs r-20261203-104013-a1b2 --output json\n"
	"Exit status: 0 listed, 1 a journal could not be read (named FILE:LINE; the\n"
	"others are still listed) or RUN does not exist, 2 bad usage or a malformed RUN.\n";

struct runs_args {
	const char *run;
	const char *state_dir;
	char *state_dir_owned; /* the host's setting, when no --state-dir */
};

static int parse_args(struct petal_cli *cli, int argc, char **argv, struct runs_args *a)
{
	enum { OPT_STATE_DIR = 256 };
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case OPT_STATE_DIR:
			a->state_dir = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		default:
			fputs(usage_text, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		a->run = argv[optind++];
	if (optind < argc) {
		petal_cli_error(cli, "unexpected argument '%s'; runs takes at most one run id",
		                argv[optind]);
		return PETAL_EXIT_USAGE;
	}
	if (a->run && !petal_run_id_valid(a->run)) {
		petal_cli_error(cli, "'%s' is not a run id (r-YYYYMMDD-HHMMSS-XXXX); 'petal runs' "
		                "lists them", a->run);
		return PETAL_EXIT_USAGE;
	}
	if (a->state_dir && !*a->state_dir) {
		petal_cli_error(cli, "--state-dir needs a directory");
		return PETAL_EXIT_USAGE;
	}
	if (!a->state_dir)
		a->state_dir = a->state_dir_owned = petal_host_setting_dup(cli->host, "state_dir");
	if (!a->state_dir) {
		petal_cli_error(cli, "no state directory: neither XDG_STATE_HOME nor HOME is set; "
		                "give --state-dir DIR");
		return PETAL_EXIT_USAGE;
	}
	return 0;
}

/* ---- one run, read -------------------------------------------------------------- */

struct run_view {
	const char *id;
	struct petal_run_state *st; /* NULL: the journal could not be read */
	int held;                   /* its lock is held */
	long pid;
	char *error;                /* why st is NULL */
	int unstarted;              /* st NULL: the journal never began (no run-start) */
	long duration;              /* seconds, or -1 */
};

static time_t parse_time(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!s)
		return (time_t)-1;
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return end && !*end ? timegm(&tm) : (time_t)-1;
}

static void view_read(const char *state_dir, const char *id, struct run_view *v)
{
	struct petal_error err = { 0 };
	pid_t pid = 0;
	char *journal = petal_run_journal_path(state_dir, id);
	int rc;

	memset(v, 0, sizeof(*v));
	v->id = id;
	v->duration = -1;
	rc = petal_run_lock_probe(state_dir, id, &pid, &err);
	if (rc < 0) {
		v->error = petal_xstrdup(err.msg);
		goto out;
	}
	v->held = rc;
	v->pid = pid;
	if ((rc = petal_run_replay(journal, &v->st, &err)) != 0) {
		if (rc == PETAL_ENOENT) /* being created, or died being created: holds nothing */
			v->unstarted = 1;
		else
			v->error = petal_xstrdup(err.msg);
		goto out;
	}
	time_t start = parse_time(v->st->started);
	time_t end = v->st->ended ? parse_time(v->st->ended)
	           : v->held ? time(NULL) : parse_time(v->st->last);
	if (start != (time_t)-1 && end != (time_t)-1 && end >= start)
		v->duration = (long)(end - start);
	if (!v->pid && v->held)
		v->pid = v->st->pid;
out:
	free(journal);
}

static void view_release(struct run_view *v)
{
	petal_run_state_free(v->st);
	free(v->error);
}

static const char *view_state(const struct run_view *v)
{
	if (!v->st)
		return v->held ? "running" : v->unstarted ? "dead" : "unreadable";
	return petal_run_status(v->st, v->held);
}

static void format_duration(long s, char buf[32])
{
	if (s < 0)
		snprintf(buf, 32, "-");
	else if (s < 60)
		snprintf(buf, 32, "%lds", s);
	else if (s < 3600)
		snprintf(buf, 32, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, 32, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

/* A create's time to ready: the plan's estimate (minutes) and what was
   measured (seconds, from the "cluster" step's result); -1 when unknown.  0
   when the run is not a create. */
static int view_ready(const struct run_view *v, double *est_min, double *measured_s)
{
	const struct petal_run_state *st = v->st;
	*est_min = *measured_s = -1;
	if (!st || !st->command || strcmp(st->command, "create") != 0)
		return 0;
	json_t *est = json_object_get(st->plan, "ready_minutes");
	if (json_is_number(est))
		*est_min = json_number_value(est);
	for (size_t i = 0; i < st->n_steps; i++) {
		json_t *p, *got;
		size_t k;
		if (strcmp(st->steps[i].id, "cluster") != 0)
			continue;
		json_array_foreach(st->steps[i].produced, k, p)
			if (json_is_number(got = json_object_get(p, "ready_seconds")))
				*measured_s = json_number_value(got);
	}
	return 1;
}

/* "25m est., 23m10s" for a create, "-" for the others. */
static void format_ready(const struct run_view *v, char buf[48])
{
	double est, measured;
	char m[32];
	if (!view_ready(v, &est, &measured)) {
		snprintf(buf, 48, "-");
		return;
	}
	format_duration(measured >= 0 ? (long)(measured + 0.5) : -1, m);
	if (est >= 0)
		snprintf(buf, 48, "%.0fm/%s", est, m);
	else
		snprintf(buf, 48, "?/%s", m);
}

/* ---- JSON ------------------------------------------------------------------------- */

static json_t *resource_json(const struct petal_run_resource *r)
{
	return json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "kind", r->kind, "id", r->id, "region",
	                 r->region, "step", r->step, "created", r->created);
}

static json_t *view_json(const struct run_view *v, int detail)
{
	json_t *j = json_pack("{s:s, s:s}", "id", v->id, "state", view_state(v));
	const struct petal_run_state *st = v->st;
	if (v->held && v->pid)
		json_object_set_new(j, "pid", json_integer(v->pid));
	if (v->error)
		json_object_set_new(j, "error", json_string(v->error));
	if (v->unstarted)
		json_object_set_new(j, "note", json_string("its journal never began: it holds nothing"));
	if (!st)
		return j;
	json_t *start = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?}", "command", st->command, "seed",
	                          st->seed, "seed_hash", st->seed_hash, "started", st->started,
	                          "ended", st->ended);
	json_object_update(j, start);
	json_decref(start);
	json_object_set_new(j, "duration_s", v->duration >= 0 ? json_integer(v->duration)
	                                                       : json_null());
	if (st->end)
		json_object_set_new(j, "exit_code", json_integer(st->exit_code));
	json_t *held = json_array();
	for (size_t i = 0; i < st->n_held; i++)
		json_array_append_new(held, resource_json(&st->held[i]));
	json_object_set_new(j, "resources_held", held);
	if (st->note)
		json_object_set_new(j, "note", json_string(st->note));
	double est, measured;
	if (view_ready(v, &est, &measured))
		json_object_set_new(j, "ready", json_pack("{s:o, s:o}", "estimated_minutes",
		                                          est >= 0 ? json_real(est) : json_null(),
		                                          "measured_seconds", measured >= 0
		                                          ? json_real(measured) : json_null()));
	if (!detail)
		return j;
	json_t *steps = json_array();
	for (size_t i = 0; i < st->n_steps; i++) {
		const struct petal_run_step *s = &st->steps[i];
		json_t *o = json_pack("{s:s, s:s, s:s?, s:s?}", "id", s->id, "state",
		                      petal_run_step_state_name(s->state), "op", s->op, "token",
		                      s->token);
		if (s->error)
			json_object_set_new(o, "error", json_pack("{s:i, s:s, s:s}", "code", s->error_code,
			                                          "name", petal_strerror(s->error_code),
			                                          "message", s->error));
		if (s->produced)
			json_object_set(o, "produced", s->produced);
		json_array_append_new(steps, o);
	}
	json_object_set_new(j, "steps", steps);
	struct petal_run_undo *undo;
	size_t n = petal_run_cleanup(st, &undo);
	json_t *cleanup = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(cleanup, json_pack("{s:s, s:s, s:s, s:s?}", "op", undo[i].op,
		                                         "kind", undo[i].res->kind, "id",
		                                         undo[i].res->id, "region",
		                                         undo[i].res->region));
	free(undo);
	json_object_set_new(j, "cleanup", cleanup);
	if (st->plan)
		json_object_set(j, "plan", st->plan);
	return j;
}

/* ---- text ------------------------------------------------------------------------- */

static void print_list(const struct run_view *v, size_t n, const char *root)
{
	if (n == 0) {
		printf("No runs in %s.\n", root);
		return;
	}
	printf("%-22s  %-10s  %-10s  %-20s  %-8s  %-13s  %-4s  %s\n", "RUN", "STATE", "COMMAND",
	       "STARTED", "DURATION", "READY EST/GOT", "HELD", "SEED");
	for (size_t i = 0; i < n; i++) {
		const struct petal_run_state *st = v[i].st;
		char dur[32], ready[48], *cmd, *seed;
		format_duration(v[i].duration, dur);
		format_ready(&v[i], ready);
		cmd = petal_escape_text(st && st->command ? st->command : "-", 0);
		seed = petal_escape_text(st && st->seed ? st->seed : "-", 0);
		printf("%-22s  %-10s  %-10s  %-20s  %-8s  %-13s  %-4zu  %s\n", v[i].id,
		       view_state(&v[i]), cmd, st && st->started ? st->started : "-", dur, ready,
		       st ? st->n_held : 0, seed);
		free(cmd);
		free(seed);
	}
}

static void print_field(const char *key, const char *value)
{
	char *safe = petal_escape_text(value ? value : "-", 0);
	printf("  %-9s %s\n", key, safe);
	free(safe);
}

static void print_detail(const struct run_view *v)
{
	const struct petal_run_state *st = v->st;
	char dur[32];
	format_duration(v->duration, dur);
	printf("run %s: %s", v->id, view_state(v));
	if (st->end)
		printf(" (exit %d)", st->exit_code);
	else if (v->held && v->pid)
		printf(" (pid %ld)", v->pid);
	printf("\n");
	print_field("command", st->command);
	print_field("seed", st->seed);
	print_field("hash", st->seed_hash);
	print_field("started", st->started);
	print_field("ended", st->ended);
	print_field("duration", dur);
	double est, measured;
	if (view_ready(v, &est, &measured)) {
		char ready[48];
		format_ready(v, ready);
		print_field("ready", ready);
	}
	printf("\nSteps:\n");
	if (st->n_steps == 0)
		printf("  (none journaled)\n");
	for (size_t i = 0; i < st->n_steps; i++) {
		const struct petal_run_step *s = &st->steps[i];
		char *id = petal_escape_text(s->id, 0), *op = petal_escape_text(s->op, 0);
		printf("  %-24s %-8s", id, petal_run_step_state_name(s->state));
		if (s->op)
			printf(" %s", op);
		if (s->token)
			printf(" (token %s)", s->token);
		if (s->error) {
			char *msg = petal_escape_text(s->error, 0);
			printf(": %s: %s", petal_strerror(s->error_code), msg);
			free(msg);
		}
		printf("\n");
		free(id);
		free(op);
	}
	printf("\nResources still held:\n");
	if (st->n_held == 0)
		printf("  none\n");
	for (size_t i = 0; i < st->n_held; i++) {
		const struct petal_run_resource *r = &st->held[i];
		char *id = petal_escape_text(r->id, 0);
		printf("  %-10s %s%s%s%s%s\n", r->kind, id, r->region ? " in " : "",
		       r->region ? r->region : "", r->step ? " from step " : "", r->step ? r->step : "");
		free(id);
	}
	struct petal_run_undo *undo;
	size_t n = petal_run_cleanup(st, &undo);
	if (n) {
		printf("\nCleanup, in this order:\n");
		for (size_t i = 0; i < n; i++) {
			char *id = petal_escape_text(undo[i].res->id, 0);
			printf("  %zu. %s %s %s%s%s\n", i + 1, undo[i].op, undo[i].res->kind, id,
			       undo[i].res->region ? " in " : "",
			       undo[i].res->region ? undo[i].res->region : "");
			free(id);
		}
	}
	free(undo);
}

int cmd_runs(struct petal_cli *cli, int argc, char **argv)
{
	struct runs_args a = { 0 };
	struct petal_error err = { 0 };
	int status = parse_args(cli, argc, argv, &a);
	if (status) {
		free(a.state_dir_owned);
		return status < 0 ? PETAL_EXIT_OK : status;
	}

	char *root = petal_run_root(a.state_dir);
	char **ids = NULL;
	size_t n = 0;
	struct run_view *views = NULL;

	if (a.run) {
		ids = petal_xcalloc(1, sizeof(*ids));
		ids[n++] = petal_xstrdup(a.run);
	} else if (petal_run_list(a.state_dir, &ids, &n, &err) != 0) {
		petal_cli_error(cli, "%s", err.msg);
		status = PETAL_EXIT_FAILURE;
		goto out_root;
	}
	views = petal_xcalloc(n ? n : 1, sizeof(*views));
	for (size_t i = 0; i < n; i++) {
		view_read(a.state_dir, ids[i], &views[i]);
		if (views[i].error) {
			petal_cli_error(cli, "%s", views[i].error);
			status = PETAL_EXIT_FAILURE;
		} else if (views[i].st && views[i].st->note) {
			petal_cli_warn(cli, "%s", views[i].st->note);
		}
	}
	if (a.run && views[0].error)
		goto out_views;

	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j;
		if (a.run) {
			j = json_pack("{s:s, s:o}", "state_dir", a.state_dir, "run", view_json(&views[0], 1));
		} else {
			json_t *list = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(list, view_json(&views[i], 0));
			j = json_pack("{s:s, s:o}", "state_dir", a.state_dir, "runs", list);
		}
		petal_cli_print_json(j);
		json_decref(j);
	} else if (a.run && !views[0].st) {
		printf("run %s: %s (its journal never began: it holds nothing)\n", views[0].id,
		       view_state(&views[0]));
	} else if (a.run) {
		print_detail(&views[0]);
	} else {
		print_list(views, n, root);
	}

out_views:
	for (size_t i = 0; i < n; i++) {
		view_release(&views[i]);
		free(ids[i]);
	}
	free(views);
	free(ids);
out_root:
	free(root);
	free(a.state_dir_owned);
	return status;
}
