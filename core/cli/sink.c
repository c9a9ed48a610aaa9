/* The sink of plugin log and progress lines (core/plugin/host.h): text as
   before, or with --output json one JSON object per line on stderr.  The
   host calls it under its mutex, so lines from threads never interleave. */
#define _GNU_SOURCE /* asprintf */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../plugin/host.h"
#include "cli.h"

static void json_line(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	if (s) {
		fprintf(stderr, "%s\n", s);
		fflush(stderr);
	}
	free(s);
	json_decref(j);
}

static void sink_log(void *arg, int level, const char *plugin, const char *message)
{
	const struct petal_cli *cli = arg;
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_line(json_pack("{s:s, s:s, s:s, s:s}", "event", "log", "level",
		                    petal_log_level_name(level), "plugin", plugin,
		                    "message", message));
		return;
	}
	petal_host_text_log(level, plugin, message);
}

static void sink_progress(void *arg, const char *what, uint64_t done, uint64_t total)
{
	const struct petal_cli *cli = arg;
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:I}", "event", "progress", "what", what,
		                      "done", (json_int_t)done);
		if (j && total)
			json_object_set_new(j, "total", json_integer((json_int_t)total));
		json_line(j);
		return;
	}
	petal_host_text_progress(what, done, total);
}

static void sink_cloud(void *arg, const char *cloud, const char *op, const char *phase,
                       int rc, const char *message)
{
	const struct petal_cli *cli = arg;
	if (cli->output != PETAL_OUTPUT_JSON || cli->verbosity < 2)
		return; /* -v: a cloud call is an info event */
	json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "event", "cloud", "cloud", cloud,
	                      "op", op, "phase", phase);
	if (j && rc)
		json_object_set_new(j, "rc", json_integer(rc));
	if (j && message)
		json_object_set_new(j, "message", json_string(message));
	json_line(j);
}

void petal_cli_sink_install(struct petal_cli *cli)
{
	struct petal_sink sink = {
		.log = sink_log,
		.progress = sink_progress,
		.cloud = sink_cloud,
		.arg = cli,
	};
	petal_host_set_sink(cli->host, &sink);
}
