/* petal logs: a run's build log, as its machine uploads it to the run's
   artifacts (build.log beside status.json), or what a cluster's node did
   (--build: the node bootstrap's build.log in the cluster's reports), once
   or followed. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plugin/host.h"
#include "../render/render.h"
#include "../run/status.h"
#include "../util/util.h"
#include "cli.h"
#include "run_cli.h"

static const char usage_text[] =
	"usage: petal logs RUN [--follow] [--step STEP] [--state-dir DIR]\n"
	"       petal logs CLUSTER --build [--node head|NAME] [--follow] [--region R]\n"
	"\n"
	"Print the build log of a run's build instance: the build.log its script\n"
	"keeps current in the run's artifacts (every PETAL_REPORT_INTERVAL seconds,\n"
	"30 by default, and when a package finishes).  With --build, what a node of\n"
	"a cluster petal created did to bring its software: the log node-bootstrap.sh\n"
	"keeps in the cluster's reports (beside its petal:artifacts, under\n"
	"nodes/CLUSTER/NODE).  No SSH and no open port: the log comes from S3.\n"
	"\n"
	"  -f, --follow         keep printing what is added until the build ends\n"
	"                         (succeeded or failed) or Ctrl-C\n"
	"      --step STEP      the step whose log (default: the run's build step)\n"
	"      --build          CLUSTER's node bootstrap, not a run's build\n"
	"      --node NODE      which node: head (the default), or a compute node by\n"
	"                         its host name (compute-HOST as the reports name it)\n"
	"      --region R       the cluster's region (--build; default the configured)\n"
	"      --cloud NAME     the cluster's cloud plugin (--build; default aws)\n"
	"      --state-dir DIR  where runs are journaled (default $XDG_STATE_HOME/petal)\n"
	"\n"
	"Examples: petal logs r-20261204-101500-a1b2 --follow\n"
	"          petal logs bio-hybrid --build\n"
	"          petal logs bio-hybrid --build --node queue1-dy-c5-1 --follow\n"
	"Exit status: 0 printed (with --follow: the build succeeded), 1 no such run,\n"
	"cluster or log, the cloud failed, or (with --follow) the build failed; 2 bad\n"
	"usage.\n";

/* The run's build step: the first of the plan summary whose action runs on
   a build instance. */
static const char *build_step(const struct petal_run_state *st)
{
	json_t *steps = json_object_get(st->plan, "steps"), *s;
	size_t i;

	json_array_foreach(steps, i, s) {
		const char *a = json_string_value(json_object_get(s, "action"));

		if (a && (strcmp(a, "image") == 0 || strcmp(a, "cache-fill") == 0 ||
		          strcmp(a, "build-instance") == 0))
			return json_string_value(json_object_get(s, "id"));
	}
	return NULL;
}

struct follow {
	struct petal_cli *cli;
	struct petal_cloud *cloud;
	char *log_url, *status_url, *log_path, *status_path;
	long printed; /* bytes of the log already printed */
};

/* Print what the log has past `printed`; 1 when there is no log yet. */
static int print_new(struct follow *f, struct petal_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = petal_cloud_object_get(f->cloud, f->log_url, f->log_path, err);

	if (rc == PETAL_ENOENT)
		return 1;
	if (rc == 0)
		rc = petal_read_file(f->log_path, (size_t)1 << 30, &text, &len, err);
	if (rc == 0 && (long)len > f->printed) {
		/* the machine's words, escaped on their way to the terminal */
		struct petal_strbuf sb = PETAL_STRBUF_INIT;
		struct petal_escaper esc = { .flags = PETAL_ESC_LINES };

		petal_escape_feed(&esc, &sb, text + f->printed, len - (size_t)f->printed);
		petal_escape_finish(&esc, &sb);
		fputs(petal_strbuf_str(&sb), stdout);
		fflush(stdout);
		petal_strbuf_release(&sb);
		f->printed = (long)len;
	}
	free(text);
	return rc;
}

/* The machine's state, or PETAL_MACHINE_UNKNOWN. */
static enum petal_machine_state machine_state(struct follow *f)
{
	struct petal_error err = { .size = sizeof(err) };
	struct petal_machine_status st;
	char *text = NULL;
	size_t len = 0;
	enum petal_machine_state s = PETAL_MACHINE_UNKNOWN;

	if (petal_cloud_object_get(f->cloud, f->status_url, f->status_path, &err) == 0 &&
	    petal_read_file(f->status_path, 1 << 20, &text, &len, &err) == 0 &&
	    petal_machine_status_parse(text, len, &st, &err) == 0) {
		s = st.state;
		petal_machine_status_release(&st);
	}
	free(text);
	return s;
}

/* Print the log, and with `follow` what is added until the machine's end;
   the exit status. */
static int print_log(struct petal_cli *cli, struct follow *f, int follow)
{
	struct petal_error err = { .size = sizeof(err) };
	double every = petal_cli_poll_s(5);
	int status = PETAL_EXIT_OK;

	petal_cli_signals_install();
	for (;;) {
		int rc = print_new(f, &err);

		if (rc < 0) {
			petal_cli_error(cli, "%s", err.msg);
			status = PETAL_EXIT_FAILURE;
			break;
		}
		if (rc == 1 && !follow) {
			petal_cli_error(cli, "no build log yet at %s", f->log_url);
			status = PETAL_EXIT_FAILURE;
			break;
		}
		if (!follow)
			break;
		enum petal_machine_state ms = machine_state(f);
		if (ms == PETAL_MACHINE_SUCCEEDED || ms == PETAL_MACHINE_FAILED) {
			/* the last words may have come with the end */
			if (print_new(f, &err) < 0)
				petal_cli_error(cli, "%s", err.msg);
			status = ms == PETAL_MACHINE_SUCCEEDED ? PETAL_EXIT_OK : PETAL_EXIT_FAILURE;
			break;
		}
		petal_cli_nap(every);
		if (petal_cli_cancel)
			break;
	}
	petal_cli_signals_restore();
	return status;
}

struct logs_args {
	const char *state_dir, *step, *node, *region, *cloud, *what;
	int follow, build;
};

/* A run's build log: the run's journal says where. */
static int run_log(struct petal_cli *cli, const struct logs_args *a, const char *state_dir)
{
	struct petal_error err = { .size = sizeof(err) };
	struct petal_run_state *st = NULL;
	struct petal_registry reg;
	struct petal_cloud cloud;
	struct follow f = { .cli = cli, .cloud = &cloud };
	const char *id = a->what, *step = a->step;
	char *journal = petal_run_journal_path(state_dir, id);
	char *dir = petal_run_dir(state_dir, id);
	int status = PETAL_EXIT_FAILURE;

	memset(&reg, 0, sizeof(reg));
	if (petal_run_replay(journal, &st, &err) != 0) {
		petal_cli_error(cli, "%s", err.msg);
		goto out;
	}
	const char *base = json_string_value(json_object_get(st->options, "artifacts_base"));
	const char *cloud_name = json_string_value(json_object_get(st->options, "cloud"));
	const char *region = json_string_value(json_object_get(st->options, "cloud_region"));
	if (!step)
		step = build_step(st);
	if (!base || !cloud_name || !step) {
		const char *cluster = json_string_value(json_object_get(st->options, "cluster"));
		if (cluster)
			petal_cli_error(cli, "run %s created cluster %s: its nodes' logs are `petal "
			                "logs %s --build`", id, cluster, cluster);
		else
			petal_cli_error(cli, "run %s has no build log: it ran no step on a build "
			                "instance%s", id, step ? "" : " (give --step)");
		goto out;
	}
	if ((status = petal_cli_registry(cli, &reg)) != 0)
		goto out;
	if ((status = petal_cli_cloud_open(cli, &reg, cloud_name, &cloud)) != 0)
		goto out;
	petal_host_bind_region(cli->host, region);
	char *artifacts = petal_exec_artifacts_url(base, id);
	f.log_url = petal_xasprintf("%s/%s/build.log", artifacts, step);
	f.status_url = petal_xasprintf("%s/%s/status.json", artifacts, step);
	f.log_path = petal_xasprintf("%s/%s.build.log", dir, step);
	f.status_path = petal_xasprintf("%s/%s.logs-status.json", dir, step);
	free(artifacts);
	status = print_log(cli, &f, a->follow);
	petal_host_bind_region(cli->host, NULL);
out:
	free(f.log_url);
	free(f.status_url);
	free(f.log_path);
	free(f.status_path);
	if (reg.host)
		petal_registry_release(&reg);
	petal_run_state_free(st);
	free(journal);
	free(dir);
	return status;
}

/* The names of the nodes that reported, for the message that names none. */
static int add_node(void *arg, const struct petal_object_info *obj)
{
	struct petal_strbuf *sb = arg;
	size_t n = strcspn(obj->key, "/");

	if (strcmp(obj->key + n, "/status.json") == 0) {
		petal_strbuf_puts(sb, sb->len ? ", " : "");
		petal_strbuf_add(sb, obj->key, n);
	}
	return 0;
}

/* A node's bootstrap log: the cluster's petal:artifacts tag says where. */
static int node_log(struct petal_cli *cli, const struct logs_args *a, const char *state_dir)
{
	struct petal_cli_opened o;
	struct petal_cluster c;
	struct follow f = { .cli = cli, .cloud = &o.cloud };
	const char *name = a->what;
	int status = petal_cli_cluster_open(cli, a->region, a->cloud, &o);

	if (status == 0)
		status = petal_cli_cluster_describe(cli, &o, name, &c);
	if (status != 0)
		goto out;
	const char *artifacts = petal_cli_cluster_tag(&c, PETAL_TAG_ARTIFACTS);
	if (!artifacts) {
		petal_cli_error(cli, "cluster %s has no %s tag: petal did not create it, and its "
		                "nodes do not report to petal", name, PETAL_TAG_ARTIFACTS);
		status = PETAL_EXIT_FAILURE;
		goto out;
	}
	const char *node = a->node ? a->node : "head";
	char *dir_name = strcmp(node, "head") == 0 || strncmp(node, "compute-", 8) == 0
	                 ? petal_xstrdup(node) : petal_xasprintf("compute-%s", node);
	char *reports = petal_render_reports_url(artifacts, name);
	char *dir = petal_xasprintf("%s/clusters/%s", state_dir, name);
	struct petal_error err = { .size = sizeof(err) };
	if (petal_mkdirs(dir, 0700, &err) != 0) {
		petal_cli_error(cli, "%s", err.msg);
		status = PETAL_EXIT_FAILURE;
	} else {
		f.log_url = petal_xasprintf("%s/%s/build.log", reports, dir_name);
		f.status_url = petal_xasprintf("%s/%s/status.json", reports, dir_name);
		f.log_path = petal_xasprintf("%s/%s.build.log", dir, dir_name);
		f.status_path = petal_xasprintf("%s/%s.status.json", dir, dir_name);
		status = print_log(cli, &f, a->follow);
		if (status != 0 && !a->follow) {
			struct petal_strbuf nodes = PETAL_STRBUF_INIT;
			char *prefix = petal_xasprintf("%s/", reports);
			if (petal_cloud_object_list(&o.cloud, prefix, add_node, &nodes, &err) == 0)
				fprintf(stderr, "petal: nodes of %s that reported: %s\n", name,
				        nodes.len ? nodes.buf : "none yet");
			petal_strbuf_release(&nodes);
			free(prefix);
		}
	}
	free(f.log_url);
	free(f.status_url);
	free(f.log_path);
	free(f.status_path);
	free(dir);
	free(reports);
	free(dir_name);
out:
	petal_cli_cluster_close(cli, &o);
	return status;
}

int cmd_logs(struct petal_cli *cli, int argc, char **argv)
{
	enum { OPT_STEP = 256, OPT_STATE, OPT_BUILD, OPT_NODE, OPT_REGION, OPT_CLOUD };
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "step", required_argument, NULL, OPT_STEP },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "build", no_argument, NULL, OPT_BUILD },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "cloud", required_argument, NULL, OPT_CLOUD },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct logs_args a = { 0 };
	int c;

	while ((c = getopt_long(argc, argv, "f" PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 'f': a.follow = 1; break;
		case OPT_STEP: a.step = optarg; break;
		case OPT_STATE: a.state_dir = optarg; break;
		case OPT_BUILD: a.build = 1; break;
		case OPT_NODE: a.node = optarg; break;
		case OPT_REGION: a.region = optarg; break;
		case OPT_CLOUD: a.cloud = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			return PETAL_EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (a.build) {
		if (optind + 1 != argc) {
			petal_cli_error(cli, "logs --build takes one cluster name (petal list "
			                "lists them)");
			return PETAL_EXIT_USAGE;
		}
		a.what = argv[optind];
		if (petal_run_id_valid(a.what)) {
			petal_cli_error(cli, "'%s' is a run: its build log is `petal logs %s`; --build "
			                "takes a cluster", a.what, a.what);
			return PETAL_EXIT_USAGE;
		}
		if (a.step) {
			petal_cli_error(cli, "--step is a run's; a cluster's node is --node");
			return PETAL_EXIT_USAGE;
		}
	} else {
		if (a.node || a.region || a.cloud) {
			petal_cli_error(cli, "--%s is for a cluster's node: petal logs CLUSTER --build",
			                a.node ? "node" : a.region ? "region" : "cloud");
			return PETAL_EXIT_USAGE;
		}
		if (optind + 1 == argc && !petal_run_id_valid(argv[optind])) {
			petal_cli_error(cli, "'%s' is not a run id (r-YYYYMMDD-HHMMSS-XXXX; petal runs "
			                "lists them); a cluster's node logs: petal logs %s --build",
			                argv[optind], argv[optind]);
			return PETAL_EXIT_USAGE;
		}
		if (petal_cli_run_arg(cli, "logs", argc, argv, &a.what) != 0)
			return PETAL_EXIT_USAGE;
	}
	char *state_dir = petal_cli_state_dir(cli, a.state_dir);
	if (!state_dir)
		return PETAL_EXIT_USAGE;
	int status = a.build ? node_log(cli, &a, state_dir) : run_log(cli, &a, state_dir);
	free(state_dir);
	return status;
}
