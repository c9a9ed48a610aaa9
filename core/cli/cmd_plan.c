/* petal plan: steps 1-4 of a creation (seed, plugins, plan, render) without
   touching any cloud, or with --probe asking it what the plan rests on. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../plan/estimate.h"
#include "../plan/plan.h"
#include "../plan/probe.h"
#include "../plugin/host.h"
#include "../render/render.h"
#include "../util/util.h"
#include "cache_cli.h"
#include "cli.h"

static const char usage_text[] =
	"usage: petal plan -t SEED [--output text|json]\n"
	"                  [--probe [--cache-url URL] [--region R]]\n"
	"                  [--clusters N --months M]\n"
	"                  [--render DIR [--subnet-id ID] [--key-name KEY]]\n"
	"\n"
	"Compose the seed into one build plan: each package goes to the fastest tier\n"
	"that can deliver it (ami, binary-cache, container, source, then third-party\n"
	"tiers by rank), with time and cost estimated from petal's data files and the\n"
	"seed's `estimates` overrides.  Nothing is asked of the cloud, unless --probe.\n"
	"\n"
	"  -t, --seed SEED      the seed file (or give it as the only argument)\n"
	"  -o, --output F       text (default) or json (keys: doc/plan-json.md)\n"
	"      --probe          ask the cloud what the plan otherwise assumes: which\n"
	"                         binary-cache packages the mirror holds (pulled, not\n"
	"                         built), whether this seed hash's AMI exists (booted,\n"
	"                         not baked), what custom_ami is (id, architecture);\n"
	"                         the plan says which answers came from the cloud\n"
	"      --cache-url URL  with --probe: read this mirror instead of the seed's\n"
	"                         s3://s3_bucket/s3_prefix (s3://bucket/prefix, or\n"
	"                         file:///dir for a local copy)\n"
	"      --region R       with --probe: the region the cloud is asked in: this,\n"
	"                         else the seed's cluster.region (then, for aws,\n"
	"                         AWS_REGION, AWS_DEFAULT_REGION, the profile's region)\n"
	"      --clusters N     with --months: compare what N clusters cost over M\n"
	"      --months M         months built on the head node, from an AMI, or from\n"
	"                         the binary cache; the cheapest is marked\n"
	"      --render DIR     also write what the plan implies into DIR:\n"
	"                         cluster-config.yaml (ParallelCluster 3), build-instance.sh,\n"
	"                         node-bootstrap.sh, spack.yaml, modules.yaml,\n"
	"                         container-modules.yaml\n"
	"                         (all or nothing; DIR new, empty, or a former render)\n"
	"      --subnet-id ID   subnet for the rendered config (else network.subnet_id)\n"
	"      --key-name KEY   SSH key pair for the rendered config (else network.key_name)\n"
	"\n"
	"Reading the plan: 'prepare' is done once and reused while the seed hash is\n"
	"unchanged (AMI bake, cache fill); 'ready' is cluster creation to usable; the\n"
	"baseline is everything built from source on the head node.  Figures marked ~\n"
	"are guesses for packages petal has no figures for; packages marked = have\n"
	"times measured by a build (the build reports in $XDG_STATE_HOME/petal/reports,\n"
	"else ~/.local/state/petal/reports), used over the tables.\n"
	"\n"
	"Examples: petal plan -t seeds/hybrid.yaml --clusters 10 --months 6\n"
	"          petal plan -t seeds/hybrid.yaml --probe --output json\n"
	"Exit status: 0 planned, 1 failure (files, data; with --probe the cloud or the\n"
	"mirror could not be asked, or answered what the seed cannot use: no such\n"
	"custom_ami, an image of another architecture), 2 bad usage or invalid seed,\n"
	"3 no plugin could deliver a package or a plugin misbehaved.\n";

struct plan_args {
	const char *seed;
	const char *render_dir;
	struct petal_render_opts render;
	int clusters, months;
	int probe;
	const char *cache_url;
	const char *region;
};

static int parse_count(const struct petal_cli *cli, const char *opt, const char *arg,
                       int max, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > max) {
		petal_cli_error(cli, "--%s takes a whole number from 1 to %d, not '%s'", opt, max,
		                arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int parse_args(struct petal_cli *cli, int argc, char **argv, struct plan_args *a)
{
	enum { OPT_CLUSTERS = 256, OPT_MONTHS, OPT_RENDER, OPT_SUBNET, OPT_KEY, OPT_PROBE,
	       OPT_CACHE_URL, OPT_REGION };
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 't' },
		{ "clusters", required_argument, NULL, OPT_CLUSTERS },
		{ "months", required_argument, NULL, OPT_MONTHS },
		{ "render", required_argument, NULL, OPT_RENDER },
		{ "subnet-id", required_argument, NULL, OPT_SUBNET },
		{ "key-name", required_argument, NULL, OPT_KEY },
		{ "probe", no_argument, NULL, OPT_PROBE },
		{ "cache-url", required_argument, NULL, OPT_CACHE_URL },
		{ "region", required_argument, NULL, OPT_REGION },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "t:" PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 't':
			a->seed = optarg;
			break;
		case OPT_CLUSTERS:
			if (parse_count(cli, "clusters", optarg, 100000, &a->clusters))
				return PETAL_EXIT_USAGE;
			break;
		case OPT_MONTHS:
			if (parse_count(cli, "months", optarg, 1200, &a->months))
				return PETAL_EXIT_USAGE;
			break;
		case OPT_RENDER:
			a->render_dir = optarg;
			break;
		case OPT_SUBNET:
			a->render.subnet_id = optarg;
			break;
		case OPT_KEY:
			a->render.key_name = optarg;
			break;
		case OPT_PROBE:
			a->probe = 1;
			break;
		case OPT_CACHE_URL:
			a->cache_url = optarg;
			break;
		case OPT_REGION:
			a->region = optarg;
			break;
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
		petal_cli_error(cli, "unexpected argument '%s'; plan takes one seed", argv[optind]);
		return PETAL_EXIT_USAGE;
	}
	if (!a->seed) {
		petal_cli_error(cli, "plan needs a seed: petal plan -t SEED (try seeds/quickstart.yaml)");
		return PETAL_EXIT_USAGE;
	}
	if (!a->clusters != !a->months) {
		petal_cli_error(cli, "--clusters and --months go together: the comparison needs both");
		return PETAL_EXIT_USAGE;
	}
	if (a->cache_url && !a->probe) {
		petal_cli_error(cli, "--cache-url says which mirror --probe reads; add --probe");
		return PETAL_EXIT_USAGE;
	}
	if (a->region && !a->probe) {
		petal_cli_error(cli, "--region says where --probe asks the cloud; add --probe "
		                "(the plan itself is for the seed's cluster.region)");
		return PETAL_EXIT_USAGE;
	}
	if (!a->render_dir && (a->render.subnet_id || a->render.key_name)) {
		petal_cli_error(cli, "--subnet-id and --key-name apply to --render DIR");
		return PETAL_EXIT_USAGE;
	}
	a->render.dir = a->render_dir;
	return 0;
}

/* Composition failures: a package nobody can deliver or a misbehaving plugin
   is a plugin problem (3); anything else a failure (1). */
static int compose_exit(int rc)
{
	return rc == PETAL_EINVAL || rc == PETAL_EPLUGIN || rc == PETAL_ENOTSUP
		? PETAL_EXIT_PLUGIN : PETAL_EXIT_FAILURE;
}

/* --probe: the mirror (--cache-url, else the seed's binary cache) through
   the cloud plugin serving its scheme, as `petal cache` reads it, then the
   plan composed with the cloud's answers.  0 or an exit status (the error
   already printed). */
static int compose_probed(struct petal_cli *cli, const struct plan_args *a,
                          const struct petal_seed *seed, struct petal_registry *reg,
                          struct petal_estimates *est, struct petal_plan **plan)
{
	struct petal_error err = { 0 };
	struct petal_cli_cache_mirror m;
	struct petal_probe_opts opts = { 0 };
	char *url = NULL;
	int status = 0, rc;

	memset(&m, 0, sizeof(m));
	if ((status = petal_cli_region(cli, a->region, seed, &opts.region)))
		return status;
	if (a->cache_url && (rc = petal_cli_cache_url(a->cache_url, &url, &err))) {
		petal_cli_error(cli, "--cache-url: %s", err.msg);
		status = PETAL_EXIT_USAGE;
		goto out_url;
	}
	if (!url && seed->cache_bucket)
		url = petal_cli_cache_url_s3(seed->cache_bucket, seed->cache_prefix);
	if (url) {
		if ((rc = petal_cli_cache_mirror_open(reg, url, &m, &err))) {
			petal_cli_error(cli, "--probe: %s", err.msg);
			status = rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : PETAL_EXIT_PLUGIN;
			goto out_url;
		}
		opts.cache = &m.io;
		opts.cache_cloud = m.cloud;
	}
	rc = petal_plan_compose_probed(seed, reg, est, &opts, plan, &err);
	if (rc) {
		petal_cli_error(cli, "%s", err.msg);
		status = !opts.failed ? compose_exit(rc)
		       : rc == PETAL_EPLUGIN || rc == PETAL_ENOTSUP ? PETAL_EXIT_PLUGIN
		       : PETAL_EXIT_FAILURE;
	}
	petal_cli_cache_mirror_close(&m);
out_url:
	petal_host_bind_region(cli->host, NULL);
	free(url);
	return status;
}

static void warn_report(void *ctx, const char *msg)
{
	petal_cli_warn(ctx, "%s", msg);
}

/* The build reports kept in the state directory (STATE/reports/ *.json,
   doc/plan-json.md "Measured times"): their times over the tables. */
static void load_reports(struct petal_cli *cli, struct petal_estimates *est,
                         const struct petal_seed *seed)
{
	char *state = petal_host_setting_dup(cli->host, "state_dir");
	char *dir;

	if (state == NULL)
		return;
	dir = petal_xasprintf("%s/reports", state);
	free(state);
	petal_estimates_load_reports(est, dir, seed, warn_report, cli);
	free(dir);
}

int cmd_plan(struct petal_cli *cli, int argc, char **argv)
{
	struct plan_args a = { 0 };
	int status = parse_args(cli, argc, argv, &a);
	if (status)
		return status < 0 ? PETAL_EXIT_OK : status;

	struct petal_seed *seed = NULL;
	struct petal_estimates *est = NULL;
	struct petal_registry reg;
	struct petal_plan *plan = NULL;
	struct petal_error err = { 0 };
	int rc;

	memset(&reg, 0, sizeof(reg));
	status = petal_cli_load_seed(cli, a.seed, &seed);
	if (status)
		return status;
	rc = petal_estimates_load(petal_cli_data_dir(), seed, &est, &err);
	if (rc) {
		petal_cli_error(cli, "%s", err.msg);
		status = rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : PETAL_EXIT_FAILURE;
		goto out_seed;
	}
	load_reports(cli, est, seed);
	petal_host_bind_estimates(cli->host, est);
	status = petal_cli_registry(cli, &reg);
	if (status)
		goto out_estimates;
	if (a.probe)
		status = compose_probed(cli, &a, seed, &reg, est, &plan);
	else if ((rc = petal_plan_compose(seed, &reg, est, &plan, &err))) {
		petal_cli_error(cli, "%s", err.msg);
		status = compose_exit(rc);
	}
	if (status)
		goto out_registry;

	struct petal_cost_option costs[PETAL_COST_OPTIONS];
	if (a.clusters)
		petal_plan_compare_costs(plan, est, a.clusters, a.months, costs);
	if (a.render_dir) {
		rc = petal_render(plan, &reg, &a.render, &err);
		if (rc) {
			petal_cli_error(cli, "cannot render into %s: %s", a.render_dir, err.msg);
			status = rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : petal_cli_exit_for(rc);
			goto out_plan;
		}
	}

	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = petal_plan_to_json(plan);
		if (a.clusters)
			json_object_set_new(j, "cost_comparison",
			                    petal_costs_to_json(costs, a.clusters, a.months));
		if (a.render_dir)
			json_object_set_new(j, "rendered", json_pack("{s:s}", "dir", a.render_dir));
		petal_cli_print_json(j);
		json_decref(j);
	} else {
		char *text = petal_plan_to_text(plan, cli->color);
		fputs(text, stdout);
		free(text);
		if (a.clusters) {
			text = petal_costs_to_text(costs, a.clusters, a.months, cli->color);
			fputs("\n", stdout);
			fputs(text, stdout);
			free(text);
		}
		if (a.render_dir)
			printf("\nRendered into %s: cluster-config.yaml build-instance.sh "
			       "node-bootstrap.sh spack.yaml modules.yaml container-modules.yaml\n", a.render_dir);
	}

out_plan:
	petal_plan_free(plan);
out_registry:
	petal_registry_release(&reg);
out_estimates:
	petal_host_bind_estimates(cli->host, NULL);
	petal_estimates_free(est);
out_seed:
	petal_seed_free(seed);
	return status;
}
