/* The host table handed to plugins, bound to the seed and figures in use.
   Each petal_host_new() is one host with its own state (no static state):
   the callbacks find it through the host pointer a plugin passes first. */
#ifndef PETAL_PLUGIN_HOST_H
#define PETAL_PLUGIN_HOST_H

#include <stdint.h>

#include <petal/plugin.h>

struct petal_estimates;

/* Where plugins' log and progress go (and core/cloud's events).  Set by the
   CLI (core/cli/sink.c: JSON lines with --output json).  The host calls one
   callback at a time (its mutex), from whichever thread logs; the strings
   are escaped (no terminal control) and valid during the call only.
   A NULL log is today's text on stderr: "petal: PLUGIN: LEVEL: MESSAGE". */
struct petal_sink {
	void (*log)(void *arg, int level, const char *plugin, const char *message);
	void (*progress)(void *arg, const char *what, uint64_t done, uint64_t total);
	/* core/cloud: phase "start" before an op, "done" after with rc (0 or
	   PETAL_E*) and the error's message (NULL on success) */
	void (*cloud)(void *arg, const char *cloud, const char *op, const char *phase,
	              int rc, const char *message);
	void *arg;
};

/* A new host: verbosity warnings, text sink, nothing bound. */
struct petal_host *petal_host_new(void);
void petal_host_free(struct petal_host *h);
/* Figures the estimate calls answer from (may be NULL: they fail). */
void petal_host_bind_estimates(const struct petal_host *h, struct petal_estimates *est);
/* The region host->setting(h, "region", ...) answers (the seed's, while a cloud
   is asked on its behalf: `petal plan --probe`); NULL: none.  Borrowed. */
void petal_host_bind_region(const struct petal_host *h, const char *region);
/* Log verbosity: messages at or below level reach the sink. */
void petal_host_set_verbosity(const struct petal_host *h, int level);
int petal_host_verbosity(const struct petal_host *h);
/* Copied; NULL: the text sink. */
void petal_host_set_sink(const struct petal_host *h, const struct petal_sink *sink);
/* A setting, malloc'd (the caller frees); NULL when unknown or unset. */
char *petal_host_setting_dup(const struct petal_host *h, const char *key);
/* Hand a core/cloud event to the sink (under the host's mutex). */
void petal_host_cloud_event(const struct petal_host *h, const char *cloud, const char *op,
                            const char *phase, int rc, const char *message);
/* The text sink, the one without petal_host_set_sink: a log line on stderr, and a
   progress line redrawn in place on a terminal (nothing when stderr is not one). */
void petal_host_text_log(int level, const char *plugin, const char *message);
void petal_host_text_progress(const char *what, uint64_t done, uint64_t total);
/* "error", "warning", "info", "debug" */
const char *petal_log_level_name(int level);

#endif
