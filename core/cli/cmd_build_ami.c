/* petal build-ami: bake the seed's image packages into a machine image on a
   build instance, through the run layer (core/run), and say its id. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugin/host.h"
#include "../render/render.h"
#include "../seed/base_image.h"
#include "../util/util.h"
#include "cli.h"
#include "run_cli.h"

static const char usage_text[] =
	"usage: petal build-ami -t SEED [--name NAME] [--build-instance TYPE]\n"
	"                       [--spot | --on-demand] [--watch | --detach]\n"
	"                       [--save-to-template] [--force] [--timeout DURATION]\n"
	"                       [--on-error cleanup|abort] [--region R] [--state-dir DIR]\n"
	"\n"
	"Bake the packages the plan puts in the image (software.in_ami) into a machine\n"
	"image: launch a build instance from ParallelCluster's own image for the seed's\n"
	"OS, architecture and cluster.pcluster_version (software.build.base_ami\n"
	"overrides), let it build with every core and report through S3, make the\n"
	"image, tag it with the seed hash and ParallelCluster's tags, terminate the\n"
	"instance and print the image id.  An image already tagged with this seed\n"
	"hash is reused: nothing is built.  Every step is journaled (petal runs):\n"
	"nothing petal launched is left running, on success, failure, timeout or\n"
	"Ctrl-C; after a crash `petal resume RUN` or `petal gc` settles it.\n"
	"\n"
	"  -t, --seed SEED          the seed file\n"
	"      --name NAME          the image's name (default: compute.custom_ami when\n"
	"                             it is a name, else petal-HASH16)\n"
	"      --build-instance T   the build instance type (default: the seed's\n"
	"                             software.build.instance_type, else the plan's)\n"
	"      --spot, --on-demand  capacity (default: software.build.spot, true); when\n"
	"                             spot is refused, on demand only with\n"
	"                             software.build.spot_fallback: true\n"
	"      --watch              live progress: package k of n, elapsed time\n"
	"      --detach             return once the instance is launched, printing the\n"
	"                             run id (petal logs RUN --follow; petal resume RUN)\n"
	"      --save-to-template   write the image id into the seed's\n"
	"                             compute.custom_ami (every other byte unchanged;\n"
	"                             with --detach, `petal resume RUN` writes it)\n"
	"      --force              build even when an image for this seed hash exists\n"
	"      --timeout DURATION   fail the build past this (default\n"
	"                             software.build.timeout, 12h): 90m, 2h, 3600\n"
	"      --on-error WHAT      cleanup (default): terminate a failed instance;\n"
	"                             abort: keep it for debugging and print the one\n"
	"                             command that removes it\n"
	"      --region R           the region (else cluster.region, then AWS_REGION)\n"
	"      --state-dir DIR      where runs are journaled (default\n"
	"                             $XDG_STATE_HOME/petal, else ~/.local/state/petal)\n"
	"  -o, --output F           text (default) or json: progress as JSON lines on\n"
	"                             stderr, the result as one object on stdout\n"
	"\n"
	"A spot instance reclaimed mid-build is replaced (at most 3 times): the new\n"
	"one installs the packages already finished from the checkpoint mirror (the\n"
	"seed's binary cache, else the run's artifacts) and builds the rest.\n"
	"The instance reports to s3://<cache bucket>/<prefix>/petal/runs/<run id>/\n"
	"(software.build.artifacts overrides); it needs write access there: it\n"
	"carries software.build.instance_profile when the seed names one, else a\n"
	"role and instance profile petal-build-<run id> that petal makes for the run,\n"
	"allowed to read and write the run's artifacts and the checkpoint only, and\n"
	"deletes with the instance (kept with it by --on-error abort: petal gc).\n"
	"\n"
	"Examples: petal build-ami -t production.yaml --name bio-v1 --watch\n"
	"          petal build-ami -t production.yaml --on-demand --save-to-template\n"
	"Exit status: 0 image made or reused, 1 the build or the cloud failed,\n"
	"2 bad usage or invalid seed, 3 plugin problem, 130 interrupted (cleaned up).\n";

struct ami_args {
	const char *seed, *name, *build_instance, *timeout, *on_error, *region, *state_dir;
	int spot; /* -1 the seed's */
	int watch, detach, save, force;
};

static int parse_args(struct petal_cli *cli, int argc, char **argv, struct ami_args *a)
{
	enum { OPT_NAME = 256, OPT_TYPE, OPT_SPOT, OPT_ONDEMAND, OPT_WATCH, OPT_DETACH,
	       OPT_SAVE, OPT_FORCE, OPT_TIMEOUT, OPT_ON_ERROR, OPT_REGION, OPT_STATE };
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "build-instance", required_argument, NULL, OPT_TYPE },
		{ "spot", no_argument, NULL, OPT_SPOT },
		{ "on-demand", no_argument, NULL, OPT_ONDEMAND },
		{ "watch", no_argument, NULL, OPT_WATCH },
		{ "detach", no_argument, NULL, OPT_DETACH },
		{ "save-to-template", no_argument, NULL, OPT_SAVE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "on-error", required_argument, NULL, OPT_ON_ERROR },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c, spot_given = 0;

	a->spot = -1;
	while ((c = getopt_long(argc, argv, "t:" PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 't': a->seed = optarg; break;
		case OPT_NAME: a->name = optarg; break;
		case OPT_TYPE: a->build_instance = optarg; break;
		case OPT_SPOT: a->spot = 1; spot_given++; break;
		case OPT_ONDEMAND: a->spot = 0; spot_given++; break;
		case OPT_WATCH: a->watch = 1; break;
		case OPT_DETACH: a->detach = 1; break;
		case OPT_SAVE: a->save = 1; break;
		case OPT_FORCE: a->force = 1; break;
		case OPT_TIMEOUT: a->timeout = optarg; break;
		case OPT_ON_ERROR: a->on_error = optarg; break;
		case OPT_REGION: a->region = optarg; break;
		case OPT_STATE: a->state_dir = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		default:
			fputs(usage_text, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (!a->seed && optind < argc)
		a->seed = argv[optind++];
	if (optind < argc) {
		petal_cli_error(cli, "unexpected argument '%s'; build-ami takes one seed",
		                argv[optind]);
		return PETAL_EXIT_USAGE;
	}
	if (!a->seed) {
		petal_cli_error(cli, "build-ami needs a seed: petal build-ami -t SEED");
		return PETAL_EXIT_USAGE;
	}
	if (spot_given > 1) {
		petal_cli_error(cli, "--spot and --on-demand: give one");
		return PETAL_EXIT_USAGE;
	}
	if (a->watch && a->detach) {
		petal_cli_error(cli, "--watch follows the build, --detach returns at once: give one");
		return PETAL_EXIT_USAGE;
	}
	if (a->on_error && strcmp(a->on_error, "cleanup") != 0 && strcmp(a->on_error, "abort") != 0) {
		petal_cli_error(cli, "--on-error takes cleanup or abort, not '%s'", a->on_error);
		return PETAL_EXIT_USAGE;
	}
	if (a->timeout && petal_cli_duration(a->timeout) < 0) {
		petal_cli_error(cli, "--timeout takes a duration such as 90m, 2h or 3600 (seconds), "
		                "not '%s'", a->timeout);
		return PETAL_EXIT_USAGE;
	}
	if (a->build_instance && !strchr(a->build_instance, '.')) {
		petal_cli_error(cli, "--build-instance takes an instance type such as c5.18xlarge, "
		                "not '%s'", a->build_instance);
		return PETAL_EXIT_USAGE;
	}
	return 0;
}

/* The image already made for this seed hash, if any: 1 found (printed), 0
   none, or an exit status < 0 negated. */
static int reuse(struct petal_cli *cli, struct petal_cloud *cloud, const struct petal_seed *seed,
                 struct petal_image *img)
{
	struct petal_error err = { .size = sizeof(err) };
	int rc = petal_cloud_image_find(cloud, PETAL_TAG_SEED_HASH, seed->hash, NULL, img, &err);

	if (rc == PETAL_ENOENT)
		return 0;
	if (rc != 0) {
		petal_cli_error(cli, "cannot ask for an image of this seed: %s", err.msg);
		return -petal_cli_exit_for(rc);
	}
	return 1;
}

int cmd_build_ami(struct petal_cli *cli, int argc, char **argv)
{
	struct ami_args a = { 0 };
	int status = parse_args(cli, argc, argv, &a);
	if (status)
		return status < 0 ? PETAL_EXIT_OK : status;

	struct petal_cli_planned p;
	char *state_dir = petal_cli_state_dir(cli, a.state_dir);
	if (!state_dir)
		return PETAL_EXIT_USAGE;
	if ((status = petal_cli_plan_seed(cli, a.seed, &p)) != 0)
		goto out;

	/* a seed with nothing for the image is told so before any cloud is asked */
	int bakes = 0;
	for (size_t i = 0; i < p.plan->n_steps; i++)
		bakes |= p.plan->steps[i].action && p.plan->steps[i].action->kind == PETAL_ACTION_IMAGE;
	if (!bakes) {
		petal_cli_error(cli, "%s puts no package in the image (software.in_ami, or a tier "
		                "choice of ami): nothing to bake; `petal cache build` fills the "
		                "binary cache", a.seed);
		status = PETAL_EXIT_USAGE;
		goto out;
	}
	/* reuse: an image tagged with this seed hash */
	if (!a.force) {
		struct petal_cloud cloud;
		struct petal_image img = { .size = sizeof(img) };
		const char *region = NULL;

		if ((status = petal_cli_region(cli, a.region, p.seed, &region)) != 0)
			goto out;
		status = petal_cli_cloud_open(cli, &p.reg, p.seed->cloud, &cloud);
		int found = status ? 0 : reuse(cli, &cloud, p.seed, &img);
		petal_host_bind_region(cli->host, NULL);
		if (status)
			goto out;
		if (found < 0) {
			status = -found;
			goto out;
		}
		if (found) {
			petal_cli_info(cli, "image %s (%s) already holds seed %s (hash %.12s): nothing "
			               "to build (--force rebuilds)", img.id, img.name, p.seed->path,
			               p.seed->hash);
			if (cli->output == PETAL_OUTPUT_JSON) {
				json_t *j = json_pack("{s:s, s:s, s:s, s:b}", "state", "reused", "image",
				                      img.id, "name", img.name, "reused", 1);
				petal_cli_print_json(j);
				json_decref(j);
			} else {
				printf("%s\n", img.id);
			}
			if (a.save && (!p.seed->custom_ami || strcmp(p.seed->custom_ami, img.id)))
				status = petal_cli_save_to_template(cli, p.seed->path, img.id);
			goto out;
		}
	}

	struct petal_cli_build_flags f = {
		.name = a.name, .build_instance = a.build_instance, .timeout = a.timeout,
		.on_error = a.on_error, .region = a.region, .spot = a.spot, .save = a.save,
	};
	json_t *o = petal_cli_build_options(cli, &p, &f);
	if (!o) {
		status = PETAL_EXIT_USAGE;
		goto out;
	}
	struct petal_cli_build b = {
		.command = "build-ami", .kind = PETAL_ACTION_IMAGE, .state_dir = state_dir,
		.options = o, .watch = a.watch, .detach = a.detach,
	};
	status = petal_cli_build_run(cli, &p, &b);
	json_decref(o);
out:
	petal_cli_planned_release(cli, &p);
	free(state_dir);
	return status;
}
