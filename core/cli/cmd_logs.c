/* petal logs: a run's build log, as its machine uploads it to the run's
   artifacts (build.log beside status.json), once or followed. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plugin/host.h"
#include "../run/status.h"
#include "../util/util.h"
#include "cli.h"
#include "run_cli.h"

static const char usage_text[] =
	"usage: petal logs RUN [--follow] [--step STEP] [--state-dir DIR]\n"
	"\n"
	"Print the build log of a run's build instance: the build.log its script\n"
	"keeps current in the run's artifacts (every PETAL_REPORT_INTERVAL seconds,\n"
	"30 by default, and when a package finishes).  No SSH and no open port: the\n"
	"log comes from S3.\n"
	"\n"
	"  -f, --follow         keep printing what is added until the build ends\n"
	"                         (succeeded or failed) or Ctrl-C\n"
	"      --step STEP      the step whose log (default: the run's build step)\n"
	"      --state-dir DIR  where runs are journaled (default $XDG_STATE_HOME/petal)\n"
	"\n"
	"Exit status: 0 printed (with --follow: the build succeeded), 1 no such run or\n"
	"log, the cloud failed, or (with --follow) the build failed; 2 bad usage.\n";

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

int cmd_logs(struct petal_cli *cli, int argc, char **argv)
{
	enum { OPT_STEP = 256, OPT_STATE };
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "step", required_argument, NULL, OPT_STEP },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *state_flag = NULL, *step = NULL, *id;
	int c, follow = 0, status = PETAL_EXIT_FAILURE;

	while ((c = getopt_long(argc, argv, "f" PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 'f': follow = 1; break;
		case OPT_STEP: step = optarg; break;
		case OPT_STATE: state_flag = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			return PETAL_EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (petal_cli_run_arg(cli, "logs", argc, argv, &id) != 0)
		return PETAL_EXIT_USAGE;
	char *state_dir = petal_cli_state_dir(cli, state_flag);
	if (!state_dir)
		return PETAL_EXIT_USAGE;

	struct petal_error err = { .size = sizeof(err) };
	struct petal_run_state *st = NULL;
	struct petal_registry reg;
	struct petal_cloud cloud;
	struct follow f = { .cli = cli, .cloud = &cloud };
	char *journal = petal_run_journal_path(state_dir, id);
	char *dir = petal_run_dir(state_dir, id);

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

	const char *poll = getenv("PETAL_POLL_S");
	double every = poll && atof(poll) > 0 ? atof(poll) : 5;
	petal_cli_signals_install();
	status = PETAL_EXIT_OK;
	for (;;) {
		int rc = print_new(&f, &err);

		if (rc < 0) {
			petal_cli_error(cli, "%s", err.msg);
			status = PETAL_EXIT_FAILURE;
			break;
		}
		if (rc == 1 && !follow) {
			petal_cli_error(cli, "no build log yet at %s", f.log_url);
			status = PETAL_EXIT_FAILURE;
			break;
		}
		if (!follow)
			break;
		enum petal_machine_state ms = machine_state(&f);
		if (ms == PETAL_MACHINE_SUCCEEDED || ms == PETAL_MACHINE_FAILED) {
			/* the last words may have come with the end */
			if (print_new(&f, &err) < 0)
				petal_cli_error(cli, "%s", err.msg);
			status = ms == PETAL_MACHINE_SUCCEEDED ? PETAL_EXIT_OK : PETAL_EXIT_FAILURE;
			break;
		}
		double until = petal_cloud_now() + every;
		while (!petal_cli_cancel && petal_cloud_now() < until) {
			struct timespec ts = { 0, 200000000 };
			nanosleep(&ts, NULL);
		}
		if (petal_cli_cancel)
			break;
	}
	petal_cli_signals_restore();
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
	free(state_dir);
	return status;
}
