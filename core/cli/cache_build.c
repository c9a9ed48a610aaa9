/* petal cache build: fill the seed's binary cache on a build instance, the
   same machinery as build-ami for the binary-cache part alone; nothing to do
   when the cache already holds every package. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_cli.h"
#include "cli.h"
#include "run_cli.h"

static const char usage_text[] =
	"usage: petal cache build -t SEED [--build-instance TYPE] [--spot | --on-demand]\n"
	"                         [--watch | --detach] [--timeout DURATION]\n"
	"                         [--on-error cleanup|abort] [--region R] [--state-dir DIR]\n"
	"\n"
	"Fill the seed's binary cache (software.binary_cache) with the packages of the\n"
	"binary-cache tier that it does not hold yet: its index is read first, and\n"
	"when it holds them all there is nothing to do.  Otherwise a build instance\n"
	"(as `petal build-ami` launches one) builds the missing packages with every\n"
	"core and pushes them, unsigned, to the cache; nodes then install them from\n"
	"there.  The run is journaled like build-ami's: petal resume, logs and gc\n"
	"apply.\n"
	"\n"
	"  -t, --seed SEED          the seed file (with software.binary_cache)\n"
	"      --build-instance T   the build instance type (default: the plan's)\n"
	"      --spot, --on-demand  capacity (default: software.build.spot, true)\n"
	"      --watch              live progress: package k of n\n"
	"      --detach             return once the instance is launched (the run id)\n"
	"      --timeout DURATION   fail the build past this (default software.build.timeout)\n"
	"      --on-error WHAT      cleanup (default) or abort (keep a failed instance)\n"
	"      --region R           the region (else cluster.region)\n"
	"      --state-dir DIR      where runs are journaled\n"
	"\n"
	"Exit status: 0 filled or nothing to do, 1 the build or the cloud failed,\n"
	"2 bad usage or invalid seed, 3 plugin problem, 130 interrupted (cleaned up).\n";

int cmd_cache_build(struct petal_cli *cli, int argc, char **argv)
{
	enum { OPT_TYPE = 256, OPT_SPOT, OPT_ONDEMAND, OPT_WATCH, OPT_DETACH, OPT_TIMEOUT,
	       OPT_ON_ERROR, OPT_REGION, OPT_STATE };
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 't' },
		{ "build-instance", required_argument, NULL, OPT_TYPE },
		{ "spot", no_argument, NULL, OPT_SPOT },
		{ "on-demand", no_argument, NULL, OPT_ONDEMAND },
		{ "watch", no_argument, NULL, OPT_WATCH },
		{ "detach", no_argument, NULL, OPT_DETACH },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "on-error", required_argument, NULL, OPT_ON_ERROR },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct petal_cli_build_flags f = { .spot = -1 };
	const char *seed = NULL, *state_flag = NULL;
	int c, watch = 0, detach = 0, spots = 0, status;

	while ((c = getopt_long(argc, argv, "t:" PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 't': seed = optarg; break;
		case OPT_TYPE: f.build_instance = optarg; break;
		case OPT_SPOT: f.spot = 1; spots++; break;
		case OPT_ONDEMAND: f.spot = 0; spots++; break;
		case OPT_WATCH: watch = 1; break;
		case OPT_DETACH: detach = 1; break;
		case OPT_TIMEOUT: f.timeout = optarg; break;
		case OPT_ON_ERROR: f.on_error = optarg; break;
		case OPT_REGION: f.region = optarg; break;
		case OPT_STATE: state_flag = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			return PETAL_EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (!seed && optind < argc)
		seed = argv[optind++];
	if (optind < argc || !seed) {
		petal_cli_error(cli, "cache build takes one seed: petal cache build -t SEED");
		return PETAL_EXIT_USAGE;
	}
	if (spots > 1 || (watch && detach)) {
		petal_cli_error(cli, "%s: give one", spots > 1 ? "--spot and --on-demand"
		                                               : "--watch and --detach");
		return PETAL_EXIT_USAGE;
	}
	if (f.on_error && strcmp(f.on_error, "cleanup") && strcmp(f.on_error, "abort")) {
		petal_cli_error(cli, "--on-error takes cleanup or abort, not '%s'", f.on_error);
		return PETAL_EXIT_USAGE;
	}
	if (f.timeout && petal_cli_duration(f.timeout) < 0) {
		petal_cli_error(cli, "--timeout takes a duration such as 90m, 2h or 3600, not '%s'",
		                f.timeout);
		return PETAL_EXIT_USAGE;
	}
	char *state_dir = petal_cli_state_dir(cli, state_flag);
	if (!state_dir)
		return PETAL_EXIT_USAGE;

	struct petal_cli_planned p;
	json_t *o = NULL;

	if ((status = petal_cli_plan_seed_probed(cli, seed, f.region, &p)) != 0)
		goto out;
	if (!p.seed->cache_bucket) {
		petal_cli_error(cli, "%s has no binary cache (software.binary_cache.s3_bucket): "
		                "nothing to fill", seed);
		status = PETAL_EXIT_USAGE;
		goto out;
	}
	int fill = 0, pulls = 0;
	for (size_t i = 0; i < p.plan->n_steps; i++) {
		const struct petal_plan_action *a = p.plan->steps[i].action;

		fill |= a && a->kind == PETAL_ACTION_CACHE_FILL;
		pulls += a && a->kind == PETAL_ACTION_NODE_BOOTSTRAP &&
		         strcmp(p.plan->steps[i].tier, "binary-cache") == 0;
	}
	if (!fill) {
		petal_cli_info(cli, "the cache s3://%s/%s holds every package of the binary-cache "
		               "tier%s: nothing to build", p.seed->cache_bucket, p.seed->cache_prefix,
		               pulls ? "" : " (it has none)");
		if (cli->output == PETAL_OUTPUT_JSON) {
			json_t *j = json_pack("{s:s}", "state", "nothing-to-do");
			petal_cli_print_json(j);
			json_decref(j);
		}
		goto out;
	}
	if (!(o = petal_cli_build_options(cli, &p, &f))) {
		status = PETAL_EXIT_USAGE;
		goto out;
	}
	struct petal_cli_build b = {
		.command = "cache build", .kind = PETAL_ACTION_CACHE_FILL, .state_dir = state_dir,
		.options = o, .watch = watch, .detach = detach,
	};
	status = petal_cli_build_run(cli, &p, &b);
out:
	json_decref(o);
	petal_cli_planned_release(cli, &p);
	free(state_dir);
	return status;
}
