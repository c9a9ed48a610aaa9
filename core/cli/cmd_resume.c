/* petal resume: take up a run petal left, detached or after it died, from
   its journal: the seed planned again (its hash must not have changed), the
   step continued where the journal says it was. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "cli.h"
#include "run_cli.h"

static const char usage_text[] =
	"usage: petal resume RUN [--watch | --detach] [--state-dir DIR] [--output text|json]\n"
	"\n"
	"Take up a run that petal left: one started with --detach, or one whose petal\n"
	"died (kill -9, a lost terminal, a reboot).  The journal says where each step\n"
	"was: a launch whose answer was lost is repeated with the same client token\n"
	"(no second instance), an instance or image the run made is taken up again,\n"
	"and the run goes on to its end with the options it was started with (its\n"
	"image name, timeout, --on-error, --save-to-template).  The seed must be the\n"
	"one the run began with (the same seed hash); otherwise `petal gc --run RUN`\n"
	"releases what the run holds.  `petal runs` lists the runs and their state.\n"
	"\n"
	"      --watch          live progress (package k of n)\n"
	"      --detach         check the step and return again\n"
	"      --state-dir DIR  where runs are journaled (default $XDG_STATE_HOME/petal)\n"
	"\n"
	"Exit status: as the run's command (0 done, 1 failed, 130 interrupted); 1 also\n"
	"for a run in use by another petal or whose seed changed, 2 bad usage.\n";

int cmd_resume(struct petal_cli *cli, int argc, char **argv)
{
	enum { OPT_WATCH = 256, OPT_DETACH, OPT_STATE };
	static const struct option opts[] = {
		{ "watch", no_argument, NULL, OPT_WATCH },
		{ "detach", no_argument, NULL, OPT_DETACH },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *state_flag = NULL, *id;
	int c, watch = 0, detach = 0, status;

	while ((c = getopt_long(argc, argv, PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case OPT_WATCH: watch = 1; break;
		case OPT_DETACH: detach = 1; break;
		case OPT_STATE: state_flag = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			return PETAL_EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (petal_cli_run_arg(cli, "resume", argc, argv, &id) != 0)
		return PETAL_EXIT_USAGE;
	if (watch && detach) {
		petal_cli_error(cli, "--watch and --detach: give one");
		return PETAL_EXIT_USAGE;
	}
	char *state_dir = petal_cli_state_dir(cli, state_flag);
	if (!state_dir)
		return PETAL_EXIT_USAGE;

	struct petal_error err = { .size = sizeof(err) };
	struct petal_run *run = NULL;
	struct petal_run_state *st = NULL;
	struct petal_cli_planned p;

	memset(&p, 0, sizeof(p));
	if (petal_run_open(state_dir, id, &run, &err) != 0) {
		petal_cli_error(cli, "cannot resume: %s", err.msg);
		status = PETAL_EXIT_FAILURE;
		goto out;
	}
	if (run->note)
		petal_cli_warn(cli, "%s", run->note);
	if (petal_run_replay(run->journal, &st, &err) != 0) {
		petal_cli_error(cli, "cannot resume: %s", err.msg);
		status = PETAL_EXIT_FAILURE;
		goto out;
	}
	if (st->end) {
		petal_cli_info(cli, "run %s already ended (%s): nothing to resume%s", id,
		               petal_run_end_name(st->end),
		               st->n_held ? "; it still holds resources: petal gc --run" : "");
		status = st->n_held ? PETAL_EXIT_FAILURE : PETAL_EXIT_OK;
		goto out;
	}
	enum petal_action_kind kind;
	if (st->command && strcmp(st->command, "build-ami") == 0)
		kind = PETAL_ACTION_IMAGE;
	else if (st->command && strcmp(st->command, "cache build") == 0)
		kind = PETAL_ACTION_CACHE_FILL;
	else {
		petal_cli_error(cli, "run %s is a '%s' run, which petal cannot resume; petal gc "
		                "--run %s releases what it holds", id,
		                st->command ? st->command : "?", id);
		status = PETAL_EXIT_FAILURE;
		goto out;
	}
	if (!st->options || !st->seed) {
		petal_cli_error(cli, "run %s's journal has no options or seed to resume with", id);
		status = PETAL_EXIT_FAILURE;
		goto out;
	}
	if ((status = petal_cli_plan_seed(cli, st->seed, &p)) != 0)
		goto out;
	if (!st->seed_hash || strcmp(st->seed_hash, p.seed->hash) != 0) {
		petal_cli_error(cli, "the seed %s changed since run %s began (its hash is now "
		                "%.12s, the run's %.12s): the run cannot go on with it; `petal gc "
		                "--run %s` releases what the run holds", st->seed, id, p.seed->hash,
		                st->seed_hash ? st->seed_hash : "?", id);
		status = PETAL_EXIT_FAILURE;
		goto out;
	}
	petal_cli_info(cli, "run %s: resuming %s for seed %s", id, st->command, st->seed);
	struct petal_cli_build b = {
		.command = st->command, .kind = kind, .state_dir = state_dir,
		.options = st->options, .run = run, .prior = st, .watch = watch,
		.detach = detach,
	};
	status = petal_cli_build_run(cli, &p, &b);
out:
	petal_cli_planned_release(cli, &p);
	petal_run_state_free(st);
	petal_run_close(run);
	free(state_dir);
	return status;
}
