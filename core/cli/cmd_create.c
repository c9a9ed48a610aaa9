/* petal create: the cluster itself.  Plan the seed asking the cloud what
   exists (the image baked for this seed hash, the cache's packages), check
   what the cluster relies on before anything is spent, build what is
   missing when asked (--build-missing, through the run layer), render,
   upload the node bootstrap, have the cloud's cluster manager create the
   cluster and follow it to ready.  The core names no cluster manager: the
   cloud's cluster ops do (cloud_aws: ParallelCluster's pcluster CLI). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plugin/host.h"
#include "../render/render.h"
#include "../run/run.h"
#include "../util/util.h"
#include "cli.h"
#include "children.h"
#include "run_cli.h"

static const char usage_text[] =
	"usage: petal create -t SEED [--ami ID] [--watch | --detach] [--build-missing]\n"
	"                    [--dry-run] [--rollback-on-failure | --no-rollback]\n"
	"                    [--subnet-id ID] [--key-name KEY] [--timeout DURATION]\n"
	"                    [--region R] [--state-dir DIR]\n"
	"\n"
	"Create the seed's cluster (cluster.name) with the cloud's cluster manager\n"
	"(AWS: ParallelCluster's own `pcluster` CLI, on PATH or $PETAL_PCLUSTER, of\n"
	"the seed's cluster.pcluster_version).  First, before anything is spent:\n"
	"the manager is there and of that version; the image the plan boots (the\n"
	"one tagged with the seed hash, compute.custom_ami, or --ami) exists; the\n"
	"binary cache holds what the plan pulls.  A missing image or cache fill\n"
	"stops here with the command that makes it, or, with --build-missing, is\n"
	"made first (petal build-ami, petal cache build; both at once, each line\n"
	"behind its command, when the plan needs both).  Then petal renders the\n"
	"configuration into the run's directory, uploads node-bootstrap.sh (and\n"
	"the seed's local sources) to the seed's artifacts in S3, creates the\n"
	"cluster and follows it until it is ready or has failed.\n"
	"\n"
	"  -t, --seed SEED          the seed file\n"
	"      --ami ID             the image the nodes boot, over compute.custom_ami\n"
	"      --watch              show every change of the cluster's state\n"
	"      --detach             return once the manager has taken the request\n"
	"                             (petal status CLUSTER follows it)\n"
	"      --build-missing      bake the image and fill the cache first when the\n"
	"                             plan needs them and they are missing\n"
	"      --dry-run            have the manager check the configuration only:\n"
	"                             nothing is made\n"
	"      --rollback-on-failure  a failed creation removes what it made (default)\n"
	"      --no-rollback        keep a failed cluster's resources to debug it\n"
	"      --subnet-id ID       the subnet (else the seed's network.subnet_id)\n"
	"      --key-name KEY       the SSH key pair (else network.key_name)\n"
	"      --timeout DURATION   give up following after this (default 2h): the\n"
	"                             cluster is left as it is\n"
	"      --region R           the region (else cluster.region, then AWS's chain)\n"
	"      --state-dir DIR      where runs are journaled (default\n"
	"                             $XDG_STATE_HOME/petal, else ~/.local/state/petal)\n"
	"  -o, --output F           text (default) or json: the result as one object\n"
	"\n"
	"Ctrl-C while following leaves the cluster to `petal delete CLUSTER` (petal\n"
	"says so); whatever petal launched itself for --build-missing is released.\n"
	"\n"
	"Examples: petal create -t production.yaml --watch\n"
	"          petal create -t production.yaml --ami ami-0123456789abcdef0\n"
	"          petal create -t seed.yaml --build-missing --watch\n"
	"Exit status: 0 the cluster is ready (or the dry run passed), 1 it failed or\n"
	"something it needs is missing, 2 bad usage or invalid seed, 3 plugin\n"
	"problem, 130 interrupted.\n";

struct create_args {
	const char *seed, *ami, *subnet, *key, *timeout, *region, *state_dir;
	int watch, detach, build_missing, dryrun, keep_on_failure, rollback_given;
};

static int parse_args(struct petal_cli *cli, int argc, char **argv, struct create_args *a)
{
	enum { OPT_AMI = 256, OPT_WATCH, OPT_DETACH, OPT_BUILD, OPT_DRY, OPT_ROLLBACK,
	       OPT_NO_ROLLBACK, OPT_SUBNET, OPT_KEY, OPT_TIMEOUT, OPT_REGION, OPT_STATE };
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 't' },
		{ "ami", required_argument, NULL, OPT_AMI },
		{ "watch", no_argument, NULL, OPT_WATCH },
		{ "detach", no_argument, NULL, OPT_DETACH },
		{ "build-missing", no_argument, NULL, OPT_BUILD },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "rollback-on-failure", no_argument, NULL, OPT_ROLLBACK },
		{ "no-rollback", no_argument, NULL, OPT_NO_ROLLBACK },
		{ "subnet-id", required_argument, NULL, OPT_SUBNET },
		{ "key-name", required_argument, NULL, OPT_KEY },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "state-dir", required_argument, NULL, OPT_STATE },
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
		case 't': a->seed = optarg; break;
		case OPT_AMI: a->ami = optarg; break;
		case OPT_WATCH: a->watch = 1; break;
		case OPT_DETACH: a->detach = 1; break;
		case OPT_BUILD: a->build_missing = 1; break;
		case OPT_DRY: a->dryrun = 1; break;
		case OPT_ROLLBACK: a->rollback_given |= 1; break;
		case OPT_NO_ROLLBACK: a->rollback_given |= 2; a->keep_on_failure = 1; break;
		case OPT_SUBNET: a->subnet = optarg; break;
		case OPT_KEY: a->key = optarg; break;
		case OPT_TIMEOUT: a->timeout = optarg; break;
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
		petal_cli_error(cli, "unexpected argument '%s'; create takes one seed", argv[optind]);
		return PETAL_EXIT_USAGE;
	}
	if (!a->seed) {
		petal_cli_error(cli, "create needs a seed: petal create -t SEED");
		return PETAL_EXIT_USAGE;
	}
	if (a->rollback_given == 3) {
		petal_cli_error(cli, "--rollback-on-failure and --no-rollback: give one");
		return PETAL_EXIT_USAGE;
	}
	if (a->watch && a->detach) {
		petal_cli_error(cli, "--watch follows the cluster, --detach returns at once: give one");
		return PETAL_EXIT_USAGE;
	}
	if (a->dryrun && (a->build_missing || a->detach)) {
		petal_cli_error(cli, "--dry-run makes nothing: not with %s",
		                a->build_missing ? "--build-missing" : "--detach");
		return PETAL_EXIT_USAGE;
	}
	if (a->timeout && petal_cli_duration(a->timeout) <= 0) {
		petal_cli_error(cli, "--timeout takes a duration such as 90m, 2h or 3600 (seconds), "
		                "not '%s'", a->timeout);
		return PETAL_EXIT_USAGE;
	}
	if (a->ami && strncmp(a->ami, "ami-", 4) != 0) {
		petal_cli_error(cli, "--ami takes an image id (ami-...), not '%s'", a->ami);
		return PETAL_EXIT_USAGE;
	}
	return 0;
}

/* The plan's steps that run on a build instance of `kind`: the image or the
   cache fill the cluster relies on and the cloud does not hold yet. */
static const struct petal_plan_step *missing(const struct petal_plan *plan,
                                             enum petal_action_kind kind)
{
	for (size_t i = 0; i < plan->n_steps; i++)
		if (plan->steps[i].action && plan->steps[i].action->kind == kind)
			return &plan->steps[i];
	return NULL;
}

/* The cluster manager is there and is the seed's version. */
static int check_tool(struct petal_cli *cli, struct petal_cloud *cloud,
                      const struct petal_seed *seed)
{
	struct petal_error err = { .size = sizeof(err) };
	char version[64], path[1024];
	int rc = petal_cloud_cluster_tool(cloud, version, sizeof(version), path, sizeof(path),
	                                  &err);
	if (rc != 0) {
		petal_cli_error(cli, "the cluster manager: %s", err.msg);
		return rc == PETAL_ENOTSUP ? PETAL_EXIT_PLUGIN : PETAL_EXIT_FAILURE;
	}
	if (seed->pcluster_version && strcmp(version, seed->pcluster_version) != 0) {
		petal_cli_error(cli, "%s is version %s, but the seed's cluster.pcluster_version is "
		                "%s: the image's ParallelCluster tags and the configuration are for "
		                "that one; install it, or set cluster.pcluster_version: \"%s\"",
		                path, version, seed->pcluster_version, version);
		return PETAL_EXIT_FAILURE;
	}
	petal_cli_info(cli, "cluster manager %s, version %s", path, version);
	return 0;
}

/* --build-missing.  Each build is the command petal names without the flag,
   through the run layer: one in this process; two that do not wait for one
   another at once, each a petal of its own (children.h), their lines passed
   on with the command in front. */
static const struct {
	enum petal_action_kind kind;
	const char *command;
	const char *words[2];
} build_cmds[] = {
	{ PETAL_ACTION_IMAGE, "build-ami", { "build-ami", NULL } },
	{ PETAL_ACTION_CACHE_FILL, "cache build", { "cache", "build" } },
};

/* Step a waits for step b (or its stage). */
static int waits_for(const struct petal_plan_step *a, const struct petal_plan_step *b)
{
	for (size_t i = 0; i < a->n_depends_on; i++)
		if (strcmp(a->depends_on[i], b->id) == 0)
			return 1;
	for (size_t i = 0; i < a->n_after_stages; i++)
		if (strcmp(a->after_stages[i], b->stage) == 0)
			return 1;
	return 0;
}

static int build_side_by_side(struct petal_cli *cli, const struct create_args *a,
                              const char *state_dir, json_t *results)
{
	struct petal_cli_child c[PETAL_ARRAY_SIZE(build_cmds)];
	char *argv[PETAL_ARRAY_SIZE(build_cmds)][16];

	memset(c, 0, sizeof(c));
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(build_cmds); i++) {
		size_t k = 0;
		argv[i][k++] = "petal";
		petal_cli_child_globals(cli, argv[i], &k);
		for (size_t w = 0; w < 2 && build_cmds[i].words[w]; w++)
			argv[i][k++] = (char *)build_cmds[i].words[w];
		argv[i][k++] = "-t";
		argv[i][k++] = (char *)a->seed;
		argv[i][k++] = "--state-dir";
		argv[i][k++] = (char *)state_dir;
		if (a->region) {
			argv[i][k++] = "--region";
			argv[i][k++] = (char *)a->region;
		}
		if (a->watch)
			argv[i][k++] = "--watch";
		argv[i][k] = NULL;
		c[i].label = build_cmds[i].command;
		c[i].argv = argv[i];
	}
	petal_cli_info(cli, "--build-missing: petal build-ami -t %s and petal cache build -t %s, "
	               "side by side", a->seed, a->seed);
	int status = petal_cli_children_run(cli, c, PETAL_ARRAY_SIZE(build_cmds));
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(build_cmds); i++) {
		/* with --output json its result object, else its image id: ours has both */
		json_t *r = cli->output == PETAL_OUTPUT_JSON ? json_loadb(c[i].out.buf, c[i].out.len,
		                                                          0, NULL) : NULL;
		if (json_is_object(r)) {
			json_object_set_new(r, "command", json_string(build_cmds[i].command));
			json_array_append(results, r);
		}
		json_decref(r);
		if (c[i].status == 0)
			continue;
		petal_cli_error(cli, "--build-missing: petal %s %s (exit %d)", build_cmds[i].command,
		                c[i].status == 130 || c[i].status == 128 + SIGTERM ? "was interrupted"
		                                                                 : "failed",
		                c[i].status);
		if (!status || c[i].status == 130)
			status = c[i].status == 130 ? 130 : PETAL_EXIT_FAILURE;
	}
	petal_cli_children_release(c, PETAL_ARRAY_SIZE(build_cmds));
	return status ? status : petal_cli_cancel ? 130 : 0;
}

static int build_missing(struct petal_cli *cli, struct petal_cli_planned *p,
                         const struct create_args *a, const char *state_dir, json_t *results)
{
	const struct petal_plan_step *image = missing(p->plan, PETAL_ACTION_IMAGE);
	const struct petal_plan_step *fill = missing(p->plan, PETAL_ACTION_CACHE_FILL);

	if (image && fill && !waits_for(image, fill) && !waits_for(fill, image))
		return build_side_by_side(cli, a, state_dir, results);
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(build_cmds); i++) {
		if (!missing(p->plan, build_cmds[i].kind))
			continue;
		struct petal_cli_build_flags f = { .region = a->region, .spot = -1 };
		json_t *o = petal_cli_build_options(cli, p, &f);
		if (!o)
			return PETAL_EXIT_USAGE;
		petal_cli_info(cli, "--build-missing: petal %s -t %s", build_cmds[i].command, a->seed);
		json_t *r = NULL;
		struct petal_cli_build b = {
			.command = build_cmds[i].command, .kind = build_cmds[i].kind, .state_dir = state_dir,
			.options = o, .watch = a->watch, .result = &r,
		};
		int status = petal_cli_build_run(cli, p, &b);
		json_decref(o);
		if (r) {
			json_object_set_new(r, "command", json_string(build_cmds[i].command));
			json_array_append_new(results, r);
		}
		if (status != 0)
			return status;
	}
	return 0;
}

/* Render into the run's directory and upload what the nodes fetch. */
static int render_upload(struct petal_cli *cli, struct petal_cli_planned *p,
                         struct petal_cloud *cloud, const struct create_args *a,
                         const char *dir, const char *region, char **config_path)
{
	struct petal_error err = { .size = sizeof(err) };
	struct petal_render_opts ro = { .dir = dir, .subnet_id = a->subnet, .key_name = a->key };
	int rc = petal_render(p->plan, &p->reg, &ro, &err);
	if (rc != 0) {
		petal_cli_error(cli, "cannot render the cluster: %s", err.msg);
		return rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : petal_cli_exit_for(rc);
	}
	*config_path = petal_xasprintf("%s/cluster-config.yaml", dir);
	char *artifacts = petal_render_artifacts_url(&p->plan->info);
	rc = petal_cli_upload_artifacts(cli, p, cloud, dir, "node-bootstrap.sh", "node bootstrap",
	                                artifacts, region);
	if (rc == 0)
		petal_cli_info(cli, "node bootstrap uploaded to %s/node-bootstrap.sh", artifacts);
	free(artifacts);
	return rc;
}

/* The manager's words about the configuration, as they are. */
static void on_message(void *arg, const char *level, const char *type, const char *message)
{
	struct petal_cli *cli = arg;
	if (cli->output == PETAL_OUTPUT_JSON)
		return; /* the result object carries them */
	fprintf(stderr, "petal: %s%s%s%s: %s\n", level, *type ? " [" : "", type, *type ? "]" : "",
	        message);
}

struct followed {
	struct petal_cluster c;
	int rc;        /* 0 complete, PETAL_ECLOUD failed, PETAL_ETIMEOUT, cancelled */
	double seconds;
	/* the head node's own word: its status.json in the cluster's reports */
	const char *head_url, *head_path;
	struct petal_machine_status head;
	int head_seen;
	char head_last[256];
};

/* What the head node says of its bootstrap, in a line, when that changed:
   with --watch every change, else its end. */
static void look_at_head(struct petal_cli *cli, struct petal_cloud *cloud, int watch,
                         struct followed *f)
{
	struct petal_error err = { .size = sizeof(err) };
	if (petal_exec_fetch_status(cloud, f->head_url, f->head_path, &f->head, &err) != 0)
		return; /* none yet, or not readable now: the next look */
	const struct petal_machine_status *h = &f->head;
	char line[256];
	char total[24] = "?";
	if (h->total >= 0)
		snprintf(total, sizeof(total), "%ld", h->total);
	snprintf(line, sizeof(line), "head node: %s, %ld of %s packages%s%s",
	         petal_machine_state_name(h->state), h->done, total,
	         h->state == PETAL_MACHINE_RUNNING && h->package ? ", installing " : "",
	         h->state == PETAL_MACHINE_RUNNING && h->package ? h->package : "");
	f->head_seen = 1;
	if (strcmp(line, f->head_last) == 0)
		return;
	snprintf(f->head_last, sizeof(f->head_last), "%s", line);
	if (watch || h->state == PETAL_MACHINE_SUCCEEDED || h->state == PETAL_MACHINE_FAILED)
		petal_cli_info(cli, "%s", line);
}

static json_t *head_json(const struct petal_machine_status *h)
{
	json_t *j = json_pack("{s:s, s:I}", "state", petal_machine_state_name(h->state),
	                      "packages", (json_int_t)h->done);
	if (h->total >= 0)
		json_object_set_new(j, "total", json_integer(h->total));
	if (h->failed_package)
		json_object_set_new(j, "failed_package", json_string(h->failed_package));
	return j;
}

/* Poll describe until the creation ends, saying each change of state and
   what the head node says of its software. */
static void follow(struct petal_cli *cli, struct petal_cloud *cloud, const char *name,
                   long timeout_s, int watch, struct followed *f)
{
	double every = petal_cli_poll_s(15);
	double t0 = petal_cloud_now(), deadline = t0 + (double)timeout_s;
	char last[96] = "";

	for (;;) {
		struct petal_error err = { .size = sizeof(err) };
		f->c = (struct petal_cluster){ .size = sizeof(f->c) };
		int rc = petal_cloud_cluster_describe(cloud, name, &f->c, &err);
		f->seconds = petal_cloud_now() - t0;
		look_at_head(cli, cloud, watch, f);
		if (rc != 0 && rc != PETAL_ENET) {
			snprintf(f->c.failure, sizeof(f->c.failure), "%s", err.msg);
			f->rc = rc;
			return;
		}
		char now[96];
		snprintf(now, sizeof(now), "%s (stack %s)", f->c.status,
		         f->c.stack_status[0] ? f->c.stack_status : "?");
		if (rc == 0 && strcmp(now, last) != 0) {
			if (watch || !last[0] || strcmp(f->c.status, "CREATE_IN_PROGRESS") != 0)
				petal_cli_info(cli, "cluster %s: %s after %.0f s", name, now, f->seconds);
			snprintf(last, sizeof(last), "%s", now);
		}
		if (rc == 0 && strcmp(f->c.status, "CREATE_COMPLETE") == 0) {
			f->rc = 0;
			return;
		}
		if (rc == 0 && strcmp(f->c.status, "CREATE_IN_PROGRESS") != 0) {
			f->rc = PETAL_ECLOUD; /* CREATE_FAILED, or deleted meanwhile */
			return;
		}
		if (petal_cli_cancel) {
			f->rc = PETAL_ETIMEOUT;
			return;
		}
		if (petal_cloud_now() + every > deadline) {
			f->rc = PETAL_ETIMEOUT;
			snprintf(f->c.failure, sizeof(f->c.failure), "still %s after %ld s", f->c.status,
			         timeout_s);
			return;
		}
		petal_cli_nap(every);
	}
}

static int create(struct petal_cli *cli, struct petal_cli_planned *p, struct petal_cloud *cloud,
                  const struct create_args *a, const char *state_dir, const char *region,
                  json_t *builds)
{
	struct petal_error err = { .size = sizeof(err) };
	const char *name = p->seed->name;
	json_t *options = json_pack("{s:s, s:s?, s:b, s:b}", "cluster", name, "region", region,
	                            "dry_run", a->dryrun, "keep_on_failure", a->keep_on_failure);
	json_t *summary = petal_run_plan_summary(p->plan);
	struct petal_run_start start = {
		.command = "create", .seed = p->seed->path, .seed_hash = p->seed->hash,
		.plan = summary, .options = options,
	};
	struct petal_run *run = NULL;
	int rc = petal_run_create(state_dir, &start, &run, &err);
	json_decref(summary);
	json_decref(options);
	if (rc != 0) {
		petal_cli_error(cli, "cannot start a run: %s", err.msg);
		return PETAL_EXIT_FAILURE;
	}
	petal_cli_info(cli, "run %s: create %s for seed %s (hash %.12s)", run->id, name,
	               p->seed->path, p->seed->hash);
	char *dir = petal_xasprintf("%s/render", run->dir);
	char *config = NULL;
	int status = render_upload(cli, p, cloud, a, dir, region, &config);
	struct petal_cluster made = { .size = sizeof(made) };
	struct followed f = { .rc = 0 };
	if (status != 0)
		goto out;

	struct petal_cluster_request req = {
		.size = sizeof(req), .name = name, .config_path = config, .dryrun = a->dryrun,
		.keep_on_failure = a->keep_on_failure,
	};
	petal_run_step_intent(run, "cluster", a->dryrun ? "check" : "create", NULL, &err);
	rc = petal_cloud_cluster_create(cloud, &req, on_message, cli, &made, &err);
	if (rc != 0) {
		struct petal_error jerr = { .size = sizeof(jerr) };
		petal_run_step_result(run, "cluster", a->dryrun ? "check" : "create", 1, &err, NULL,
		                      &jerr);
		petal_cli_error(cli, "%s", err.msg);
		status = rc == PETAL_EINVAL ? PETAL_EXIT_FAILURE : petal_cli_exit_for(rc);
		goto out;
	}
	if (a->dryrun) {
		petal_run_step_result(run, "cluster", "check", 1, NULL, NULL, &err);
		petal_cli_info(cli, "the cluster manager accepts %s (dry run: nothing was made)",
		               config);
		goto out;
	}
	/* the cluster is the user's from here: never undone by a cleanup */
	petal_run_resource_kept(run, "cluster", name, region, "cluster", &err);
	json_t *produced = json_pack("[{s:s, s:s}]", "kind", "cluster", "id", name);
	petal_run_step_result(run, "cluster", "create", a->detach, NULL, produced, &err);
	json_decref(produced);
	petal_cli_info(cli, "cluster %s: %s", name, made.status[0] ? made.status
	                                                          : "CREATE_IN_PROGRESS");
	if (a->detach)
		goto out;

	long timeout = a->timeout ? petal_cli_duration(a->timeout) : 2 * 3600;
	char *artifacts = petal_render_artifacts_url(&p->plan->info);
	char *reports = petal_render_reports_url(artifacts, name);
	char *head_url = petal_xasprintf("%s/head/status.json", reports);
	char *head_path = petal_xasprintf("%s/head.status.json", run->dir);
	f.head_url = head_url;
	f.head_path = head_path;
	petal_run_step_intent(run, "cluster", "ready", NULL, &err);
	petal_cli_signals_install();
	follow(cli, cloud, name, timeout, a->watch, &f);
	petal_cli_signals_restore();
	free(head_path);
	free(head_url);
	free(reports);
	free(artifacts);
	if (f.rc == 0) {
		produced = json_pack("[{s:s, s:s, s:f}]", "kind", "cluster", "id", name,
		                     "ready_seconds", f.seconds);
		if (f.head_seen)
			json_object_set_new(json_array_get(produced, 0), "head_node",
			                    head_json(&f.head));
		petal_run_step_result(run, "cluster", "ready", 1, NULL, produced, &err);
		json_decref(produced);
		petal_cli_info(cli, "cluster %s is ready after %.1f min (the plan said %.0f)", name,
		               f.seconds / 60, p->plan->ready_minutes);
	} else if (petal_cli_cancel) {
		struct petal_error why = { .size = sizeof(why) };
		petal_fail(&why, PETAL_ETIMEOUT, "interrupted while %s", f.c.status);
		petal_run_step_result(run, "cluster", "ready", 1, &why, NULL, &err);
		status = 130;
		petal_cli_error(cli, "interrupted: cluster %s is left as it is (%s); remove it with "
		                "`petal delete %s`", name, f.c.status, name);
	} else {
		struct petal_error why = { .size = sizeof(why) };
		petal_fail(&why, f.rc, "cluster %s: %s%s%s", name, f.c.status,
		           f.c.failure[0] ? ": " : "", f.c.failure);
		petal_run_step_result(run, "cluster", "ready", 1, &why, NULL, &err);
		petal_cli_error(cli, "%s; `petal delete %s` removes it", why.msg, name);
		if (f.head.state == PETAL_MACHINE_FAILED) {
			fprintf(stderr, "petal: the head node's bootstrap failed%s%s%s%s\n",
			        f.head.failed_package ? " on " : "",
			        f.head.failed_package ? f.head.failed_package : "",
			        f.head.message ? ": " : "", f.head.message ? f.head.message : "");
			for (size_t i = 0; i < f.head.n_log_tail; i++)
				fprintf(stderr, "  %s\n", f.head.log_tail[i]);
			fprintf(stderr, "petal: its whole log: petal logs %s --build\n", name);
		}
		status = PETAL_EXIT_FAILURE;
	}
out:
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s?}", "run", run->id, "cluster", name,
		                      "state", status ? "failed" : a->dryrun ? "checked"
		                      : a->detach ? "creating" : "ready",
		                      "status", f.c.status[0] ? f.c.status : made.status[0]
		                      ? made.status : NULL);
		if (!a->dryrun && !a->detach && status == 0)
			json_object_set_new(j, "ready_seconds", json_real(f.seconds));
		if (json_array_size(builds))
			json_object_set(j, "builds", builds);
		if (f.head_seen)
			json_object_set_new(j, "head_node", head_json(&f.head));
		petal_cli_print_json(j);
		json_decref(j);
	}
	petal_run_end(run, status == 0 ? PETAL_RUN_SUCCEEDED
	              : status == 130 ? PETAL_RUN_CANCELLED : PETAL_RUN_FAILED, status, &err);
	petal_run_close(run);
	petal_machine_status_release(&f.head);
	free(config);
	free(dir);
	return status;
}

int cmd_create(struct petal_cli *cli, int argc, char **argv)
{
	struct create_args a = { 0 };
	int status = parse_args(cli, argc, argv, &a);
	if (status)
		return status < 0 ? PETAL_EXIT_OK : status;

	char *state_dir = petal_cli_state_dir(cli, a.state_dir);
	if (!state_dir)
		return PETAL_EXIT_USAGE;
	struct petal_cli_planned p;
	struct petal_cloud cloud;
	const char *region = NULL;
	int cloud_open = 0;
	json_t *builds = json_array();

	if ((status = petal_cli_plan_seed_for_cluster(cli, a.seed, a.region, a.ami, &p)) != 0)
		goto out;
	if ((status = petal_cli_region(cli, a.region, p.seed, &region)) != 0)
		goto out;
	if ((status = petal_cli_cloud_open(cli, &p.reg, p.seed->cloud, &cloud)) != 0)
		goto out;
	cloud_open = 1;
	if ((status = check_tool(cli, &cloud, p.seed)) != 0)
		goto out;

	const struct petal_plan_step *image = missing(p.plan, PETAL_ACTION_IMAGE);
	const struct petal_plan_step *fill = missing(p.plan, PETAL_ACTION_CACHE_FILL);
	if ((image || fill) && !a.build_missing) {
		petal_cli_error(cli, "the plan needs %s%s%s first:%s%s%s%s%s (or give --build-missing)",
		                image ? "the image baked" : "", image && fill ? " and " : "",
		                fill ? "the binary cache filled" : "",
		                image ? "\n  petal build-ami -t " : "", image ? a.seed : "",
		                fill ? "\n  petal cache build -t " : "", fill ? a.seed : "",
		                image || fill ? "\n" : "");
		status = PETAL_EXIT_FAILURE;
		goto out;
	}
	if (image || fill) {
		petal_host_bind_region(cli->host, NULL);
		cloud_open = 0;
		if ((status = build_missing(cli, &p, &a, state_dir, builds)) != 0) {
			if (cli->output == PETAL_OUTPUT_JSON) {
				json_t *j = json_pack("{s:s, s:s, s:O}", "cluster", p.seed->name, "state",
				                      status == 130 ? "cancelled" : "failed", "builds",
				                      builds);
				petal_cli_print_json(j);
				json_decref(j);
			}
			goto out;
		}
		/* the plan again, now that the cloud holds them */
		petal_cli_planned_release(cli, &p);
		if ((status = petal_cli_plan_seed_for_cluster(cli, a.seed, a.region, a.ami, &p)) != 0)
			goto out;
		if ((status = petal_cli_region(cli, a.region, p.seed, &region)) != 0 ||
		    (status = petal_cli_cloud_open(cli, &p.reg, p.seed->cloud, &cloud)) != 0)
			goto out;
		cloud_open = 1;
		if (missing(p.plan, PETAL_ACTION_IMAGE) || missing(p.plan, PETAL_ACTION_CACHE_FILL)) {
			petal_cli_error(cli, "after --build-missing the plan still has a build: the "
			                "cloud does not show what was made");
			status = PETAL_EXIT_FAILURE;
			goto out;
		}
	}
	status = create(cli, &p, &cloud, &a, state_dir, region, builds);
out:
	json_decref(builds);
	if (cloud_open)
		petal_host_bind_region(cli->host, NULL);
	petal_cli_planned_release(cli, &p);
	free(state_dir);
	return status;
}
