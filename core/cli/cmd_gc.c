/* petal gc: release what runs that ended or died still hold: the resources
   their journals say they made and did not release, and the instances and
   images tagged with their run id that the journal never heard of (a crash
   between a launch and its answer).  A run's product (the image a build
   made) is never touched. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../plugin/host.h"
#include "../util/util.h"
#include "cli.h"
#include "run_cli.h"

static const char usage_text[] =
	"usage: petal gc [--dry-run] [--run RUN] [--state-dir DIR] [--output text|json]\n"
	"\n"
	"Release what petal's runs left behind.  A run is collected when it ended\n"
	"(succeeded, failed, cancelled) or its petal died (`petal runs` says dead);\n"
	"running and detached runs are left alone unless named with --run.  For each:\n"
	"the instances and images its journal says it made and did not release, and\n"
	"the instances and images tagged petal:run=RUN that the journal never heard\n"
	"of (petal killed between a launch and its answer).  The image a build made\n"
	"(its product) is kept; `petal ami delete` removes images.\n"
	"\n"
	"  -n, --dry-run        say what would be released, release nothing\n"
	"      --run RUN        this run only (also a detached one: its instance is\n"
	"                         terminated and the run ends cancelled)\n"
	"      --state-dir DIR  where runs are journaled (default $XDG_STATE_HOME/petal)\n"
	"\n"
	"Exit status: 0 nothing left, 1 something could not be released (said) or no\n"
	"such run, 2 bad usage.\n";

struct gc {
	struct petal_cli *cli;
	int dry_run;
	json_t *out; /* [{run, op, kind, id, ok, error}] */
	int failed;
	const char *run_id;
	const struct petal_run_state *st;
	struct petal_run *run; /* open for writing, or NULL (dry run) */
	struct petal_cloud *cloud;
};

static void note(struct gc *g, const char *op, const char *kind, const char *id, int rc,
                 const char *msg)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b}", "run", g->run_id, "op", op, "kind",
	                      kind, "id", id, "released", !g->dry_run && rc == 0);

	if (msg)
		json_object_set_new(j, "error", json_string(msg));
	json_array_append_new(g->out, j);
	if (rc != 0)
		g->failed = 1;
	if (g->cli->output == PETAL_OUTPUT_JSON)
		return;
	if (g->dry_run)
		printf("would %s %s %s (run %s)\n", op, kind, id, g->run_id);
	else if (rc == 0)
		printf("%s %s %s (run %s)\n", strcmp(op, "terminate") == 0 ? "terminated"
		       : strcmp(op, "delete") == 0 ? "deleted" : "deregistered", kind, id, g->run_id);
	else
		petal_cli_error(g->cli, "%s %s %s (run %s): %s", op, kind, id, g->run_id,
		                msg ? msg : "failed");
}

static void tell(void *arg, const char *op, const char *kind, const char *id, int rc,
                 const char *msg)
{
	note(arg, op, kind, id, rc, msg);
}

/* Is `id` this run's product, or journaled as held (released above)? */
static int known(const struct petal_run_state *st, const char *kind, const char *id)
{
	for (size_t i = 0; i < st->n_steps; i++) {
		json_t *p;
		size_t k;

		json_array_foreach(st->steps[i].produced, k, p) {
			const char *pid = json_string_value(json_object_get(p, "id"));

			if (pid && strcmp(pid, id) == 0)
				return 1;
		}
	}
	for (size_t i = 0; i < st->n_held; i++)
		if (strcmp(st->held[i].kind, kind) == 0 && strcmp(st->held[i].id, id) == 0)
			return 1;
	return 0;
}

static int stray_instance(void *arg, const struct petal_instance *inst)
{
	struct gc *g = arg;
	struct petal_error err = { .size = sizeof(err) };
	int rc = 0;

	if (known(g->st, "instance", inst->id) || strcmp(inst->state, "terminated") == 0 ||
	    strcmp(inst->state, "shutting-down") == 0)
		return 0;
	if (!g->dry_run)
		rc = petal_cloud_instance_terminate(g->cloud, inst->id, &err);
	note(g, "terminate", "instance", inst->id, rc, rc ? err.msg : NULL);
	return 0;
}

/* One run: its journal's cleanup list, then what carries its tag. */
static void collect(struct gc *g, struct petal_registry *reg, const char *state_dir,
                    const char *id, int named)
{
	struct petal_error err = { .size = sizeof(err) };
	char *journal = petal_run_journal_path(state_dir, id);
	struct petal_run_state *st = NULL;
	struct petal_run *run = NULL;
	struct petal_cloud cloud;
	pid_t pid = 0;
	int held = petal_run_lock_probe(state_dir, id, &pid, &err);

	g->run_id = id;
	if (held < 0 || petal_run_replay(journal, &st, &err) != 0) {
		petal_cli_error(g->cli, "run %s: %s", id, err.msg);
		g->failed = 1;
		goto out;
	}
	if (held == 1) {
		if (named) {
			petal_cli_error(g->cli, "run %s is running (pid %ld): stop that petal first "
			                "(Ctrl-C releases what it launched)", id, (long)pid);
			g->failed = 1;
		}
		goto out;
	}
	if (!st->end && st->detached && !named)
		goto out;
	const char *cloud_name = json_string_value(json_object_get(st->options, "cloud"));
	if (!cloud_name) {
		if (st->n_held) {
			petal_cli_error(g->cli, "run %s holds %zu resources but names no cloud", id,
			                st->n_held);
			g->failed = 1;
		}
		goto out;
	}
	if (petal_cli_cloud_open(g->cli, reg, cloud_name, &cloud) != 0) {
		g->failed = 1;
		goto out;
	}
	petal_host_bind_region(g->cli->host, json_string_value(json_object_get(st->options,
	                                                                      "cloud_region")));
	if (!g->dry_run && petal_run_open(state_dir, id, &run, &err) != 0) {
		petal_cli_error(g->cli, "run %s: %s", id, err.msg);
		g->failed = 1;
		goto unbind;
	}
	g->st = st;
	g->run = run;
	g->cloud = &cloud;
	if (g->dry_run) {
		struct petal_run_undo *undos = NULL;
		size_t n = petal_run_cleanup(st, &undos);

		for (size_t i = 0; i < n; i++)
			note(g, undos[i].op, undos[i].res->kind, undos[i].res->id, 0, NULL);
		free(undos);
	} else if (petal_exec_release_all(run, &cloud, st, tell, g, &err) != 0) {
		g->failed = 1;
	}
	if (petal_cloud_has(&cloud, "instance_list") &&
	    petal_cloud_instance_list(&cloud, PETAL_TAG_RUN, id, stray_instance, g, &err) < 0) {
		petal_cli_error(g->cli, "run %s: %s", id, err.msg);
		g->failed = 1;
	}
	/* images of this run that the journal never recorded */
	for (int guard = 0; petal_cloud_has(&cloud, "image_find") && guard < 100; guard++) {
		struct petal_image img = { .size = sizeof(img) };
		int rc = petal_cloud_image_find(&cloud, PETAL_TAG_RUN, id, NULL, &img, &err);

		if (rc != 0 || known(st, "image", img.id))
			break;
		if (!g->dry_run)
			rc = petal_cloud_image_delete(&cloud, img.id, &err);
		note(g, "deregister", "image", img.id, rc, rc ? err.msg : NULL);
		if (rc != 0 || g->dry_run)
			break;
	}
	if (run && !st->end && !g->failed)
		petal_run_end(run, PETAL_RUN_CANCELLED, 1, &err);
	petal_run_close(run);
unbind:
	petal_host_bind_region(g->cli->host, NULL);
out:
	petal_run_state_free(st);
	free(journal);
}

int cmd_gc(struct petal_cli *cli, int argc, char **argv)
{
	enum { OPT_RUN = 256, OPT_STATE };
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "run", required_argument, NULL, OPT_RUN },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *state_flag = NULL, *only = NULL;
	int c;
	struct gc g = { .cli = cli };

	while ((c = getopt_long(argc, argv, "n" PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 'n': g.dry_run = 1; break;
		case OPT_RUN: only = optarg; break;
		case OPT_STATE: state_flag = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			return PETAL_EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		petal_cli_error(cli, "unexpected argument '%s' (a run is given with --run)",
		                argv[optind]);
		return PETAL_EXIT_USAGE;
	}
	if (only && !petal_run_id_valid(only)) {
		petal_cli_error(cli, "--run: '%s' is not a run id (r-YYYYMMDD-HHMMSS-XXXX)", only);
		return PETAL_EXIT_USAGE;
	}
	char *state_dir = petal_cli_state_dir(cli, state_flag);
	if (!state_dir)
		return PETAL_EXIT_USAGE;

	struct petal_error err = { .size = sizeof(err) };
	struct petal_registry reg;
	char **ids = NULL;
	size_t n = 0;
	int status = petal_cli_registry(cli, &reg);

	if (status)
		goto out;
	g.out = json_array();
	if (only) {
		char *j = petal_run_journal_path(state_dir, only);
		int there = access(j, F_OK) == 0;

		free(j);
		if (!there) {
			petal_cli_error(cli, "no run %s in %s", only, state_dir);
			status = PETAL_EXIT_FAILURE;
			goto out_reg;
		}
		collect(&g, &reg, state_dir, only, 1);
	} else if (petal_run_list(state_dir, &ids, &n, &err) != 0) {
		petal_cli_error(cli, "%s", err.msg);
		g.failed = 1;
	}
	for (size_t i = 0; i < n; i++)
		collect(&g, &reg, state_dir, ids[i], 0);
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = json_pack("{s:b, s:O}", "dry_run", g.dry_run, "released", g.out);
		petal_cli_print_json(j);
		json_decref(j);
	} else if (json_array_size(g.out) == 0) {
		petal_cli_info(cli, "nothing to release");
	}
	status = g.failed ? PETAL_EXIT_FAILURE : PETAL_EXIT_OK;
out_reg:
	petal_registry_release(&reg);
out:
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	json_decref(g.out);
	free(state_dir);
	return status;
}
