/* The host table: everything the core offers a plugin, bound to the figures
   in use.  Plugins link nothing of petal; every call lands here. */
#include "config.h"

#include "host.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../plan/estimate.h"
#include "../plan/plan.h"
#include "../render/render.h"
#include "../seed/node.h"
#include "../net/http.h"
#include "../util/util.h"

#ifndef PETAL_DATADIR
#define PETAL_DATADIR "/usr/local/share/petal"
#endif

/* Everything the host knows, one per petal_host_new(): a plugin's host
   pointer is the first member, so each callback finds its state there. */
struct host_impl {
	struct petal_host pub;
	struct petal_estimates *est; /* borrowed */
	const char *region;          /* borrowed */
	int verbosity;
	struct petal_sink sink;      /* .log NULL: text on stderr */
	pthread_mutex_t lock;        /* one sink call at a time */
};

static struct host_impl *impl(const struct petal_host *h)
{
	return (struct host_impl *)(uintptr_t)h;
}

void petal_host_bind_estimates(const struct petal_host *h, struct petal_estimates *est)
{
	impl(h)->est = est;
}

void petal_host_bind_region(const struct petal_host *h, const char *region)
{
	impl(h)->region = region;
}

void petal_host_set_verbosity(const struct petal_host *h, int level)
{
	impl(h)->verbosity = level;
}

void petal_host_set_sink(const struct petal_host *h, const struct petal_sink *sink)
{
	struct host_impl *H = impl(h);
	pthread_mutex_lock(&H->lock);
	H->sink = sink ? *sink : (struct petal_sink){ 0 };
	pthread_mutex_unlock(&H->lock);
}

int petal_host_verbosity(const struct petal_host *h)
{
	return impl(h)->verbosity;
}

/* ---- messages ------------------------------------------------------------- */

static const char *const level_names[] = { "error", "warning", "info", "debug" };

const char *petal_log_level_name(int level)
{
	return level >= PETAL_LOG_ERROR && level <= PETAL_LOG_DEBUG ? level_names[level] : "debug";
}

/* The text sink: one write per message, so lines never interleave. */
void petal_host_text_log(int level, const char *plugin, const char *message)
{
	char *line = petal_xasprintf("petal: %s: %s: %s\n", plugin, petal_log_level_name(level),
	                             message);
	fputs(line, stderr);
	free(line);
}

/* A line redrawn in place: only a person at a terminal wants it. */
void petal_host_text_progress(const char *what, uint64_t done, uint64_t total)
{
	if (!isatty(STDERR_FILENO))
		return;
	if (total)
		fprintf(stderr, "\r%s: %llu/%llu%s", what, (unsigned long long)done,
		        (unsigned long long)total, done >= total ? "\n" : "");
	else
		fprintf(stderr, "\r%s: %llu", what, (unsigned long long)done);
}

static void host_log(const struct petal_host *h, int level, const char *plugin,
                     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void host_log(const struct petal_host *h, int level, const char *plugin,
                     const char *fmt, ...)
{
	struct host_impl *H = impl(h);
	if (level > H->verbosity)
		return;
	if (level < PETAL_LOG_ERROR)
		level = PETAL_LOG_ERROR;
	if (level > PETAL_LOG_DEBUG)
		level = PETAL_LOG_DEBUG;
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	petal_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	/* a plugin's message may carry a cloud's text: no terminal control */
	char *safe = petal_escape_text(petal_strbuf_str(&sb), PETAL_ESC_LINES);
	char *who = petal_escape_text(plugin ? plugin : "plugin", PETAL_ESC_LINES);
	petal_strbuf_release(&sb);
	pthread_mutex_lock(&H->lock);
	if (H->sink.log)
		H->sink.log(H->sink.arg, level, who, safe);
	else
		petal_host_text_log(level, who, safe);
	pthread_mutex_unlock(&H->lock);
	free(who);
	free(safe);
}

static void host_progress(const struct petal_host *h, const char *what, uint64_t done,
                          uint64_t total)
{
	struct host_impl *H = impl(h);
	if (H->verbosity < PETAL_LOG_WARN)
		return;
	char *safe = petal_escape_text(what ? what : "", 0);
	pthread_mutex_lock(&H->lock);
	if (H->sink.progress)
		H->sink.progress(H->sink.arg, safe, done, total);
	else if (!H->sink.log)
		petal_host_text_progress(safe, done, total);
	pthread_mutex_unlock(&H->lock);
	free(safe);
}

void petal_host_cloud_event(const struct petal_host *h, const char *cloud, const char *op,
                            const char *phase, int rc, const char *message)
{
	struct host_impl *H = impl(h);
	pthread_mutex_lock(&H->lock);
	if (H->sink.cloud)
		H->sink.cloud(H->sink.arg, cloud, op, phase, rc, message);
	pthread_mutex_unlock(&H->lock);
}

static int host_fail(struct petal_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int host_fail(struct petal_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = petal_vfail(err, code, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- settings --------------------------------------------------------------- */

/* $XDG_<var> or $HOME/<fallback>, then /petal, into buf; -1 without
   either or when it does not fit. */
static int xdg_dir(char *buf, size_t len, const char *var, const char *fallback)
{
	const char *base = getenv(var);
	int n;
	if (base && base[0] == '/') {
		n = snprintf(buf, len, "%s/petal", base);
	} else {
		const char *home = getenv("HOME");
		if (!home || !*home)
			return PETAL_ENOENT;
		n = snprintf(buf, len, "%s/%s/petal", home, fallback);
	}
	return n < 0 ? PETAL_EINVAL : n;
}

/* The setting's value into buf[len]: its length (like snprintf: >= len
   means it did not fit, and buf holds nothing useful), or PETAL_ENOENT when
   unknown or unset. */
static int host_setting(const struct petal_host *h, const char *key, char *buf, size_t len)
{
	const char *v = NULL;
	if (!key)
		return PETAL_ENOENT;
	if (len && buf)
		buf[0] = '\0';
	char tmp[1];
	if (!buf || !len) {
		buf = tmp;
		len = sizeof(tmp);
	}
	if (strcmp(key, "data_dir") == 0) {
		const char *d = getenv("PETAL_DATA_DIR");
		v = (d && *d) ? d : PETAL_DATADIR;
	} else if (strcmp(key, "state_dir") == 0) {
		return xdg_dir(buf, len, "XDG_STATE_HOME", ".local/state");
	} else if (strcmp(key, "cache_dir") == 0) {
		return xdg_dir(buf, len, "XDG_CACHE_HOME", ".cache");
	} else if (strcmp(key, "region") == 0) {
		v = impl(h)->region;
	}
	if (!v)
		return PETAL_ENOENT;
	int n = snprintf(buf, len, "%s", v);
	return n < 0 ? PETAL_EINVAL : n;
}

char *petal_host_setting_dup(const struct petal_host *h, const char *key)
{
	int n = host_setting(h, key, NULL, 0);
	if (n < 0)
		return NULL;
	char *buf = petal_xmalloc((size_t)n + 1);
	if (host_setting(h, key, buf, (size_t)n + 1) != n) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void *host_alloc(size_t n)
{
	return petal_xmalloc(n);
}

static void host_free(void *p)
{
	free(p);
}

/* ---- the seed document --------------------------------------------------------- */

static int host_node_type(const struct petal_node *n)
{
	return n ? (int)n->type : PETAL_NODE_NONE;
}

static const char *host_node_scalar(const struct petal_node *n)
{
	return petal_node_str(n);
}

static size_t host_node_len(const struct petal_node *n)
{
	return (n && (n->type == PETAL_NODE_LIST || n->type == PETAL_NODE_MAP)) ? n->n : 0;
}

static const struct petal_node *host_node_at(const struct petal_node *n, size_t i)
{
	return i < host_node_len(n) ? n->items[i] : NULL;
}

static const char *host_node_key_at(const struct petal_node *n, size_t i)
{
	return (n && n->type == PETAL_NODE_MAP && i < n->n) ? n->keys[i] : NULL;
}

static const struct petal_node *host_node_get(const struct petal_node *n, const char *path)
{
	return path ? petal_node_path(n, path) : NULL;
}

static void host_node_where(const struct petal_node *n, int *line, int *col)
{
	if (line)
		*line = n ? n->line : 0;
	if (col)
		*col = n ? n->col : 0;
}

/* ---- estimates ------------------------------------------------------------------ */

/* Copy into a plugin's struct no more than the plugin's size says it has. */
static void copy_sized(void *dst, const void *src, size_t src_size)
{
	size_t want = *(const size_t *)dst;
	size_t n = want < src_size ? want : src_size;
	if (n > sizeof(size_t))
		memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t),
		       n - sizeof(size_t));
}

static int host_estimate_build(const struct petal_host *h,
                               const struct petal_package *const *pkgs, size_t n,
                               const char *instance_type, int parallel,
                               struct petal_build_estimate *out)
{
	if (!out || (n && !pkgs))
		return PETAL_EINVAL;
	struct petal_estimates *bound = impl(h)->est;
	if (!bound)
		return PETAL_ENOTSUP;
	const char **names = petal_xcalloc(n ? n : 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = pkgs[i] ? pkgs[i]->name : NULL;
	struct petal_build_estimate full;
	int rc = petal_estimates_build(bound, names, n, instance_type, parallel, &full);
	free(names);
	if (rc == 0)
		copy_sized(out, &full, sizeof(full));
	return rc;
}

static int host_instance_type(const struct petal_host *h, const char *name,
                              struct petal_instance_type *out)
{
	struct petal_estimates *bound = impl(h)->est;
	if (!out)
		return PETAL_EINVAL;
	if (!bound)
		return PETAL_ENOTSUP;
	struct petal_instance_type full;
	int rc = petal_estimates_instance(bound, name, &full);
	if (rc == 0)
		copy_sized(out, &full, sizeof(full));
	return rc;
}

static double host_figure(const struct petal_host *h, const char *name)
{
	struct petal_estimates *bound = impl(h)->est;
	return bound ? petal_estimates_figure(bound, name) : -1;
}

/* ---- network ---------------------------------------------------------------------- */

static int host_http(const struct petal_http_request *req, struct petal_http_response *resp,
                     struct petal_error *err)
{
	return petal_http(req, resp, err);
}

static const struct petal_host table = {
	.size = sizeof(struct petal_host),
	.abi = PETAL_PLUGIN_ABI,
	.log = host_log,
	.progress = host_progress,
	.fail = host_fail,
	.setting = host_setting,
	.alloc = host_alloc,
	.free = host_free,
	.node_type = host_node_type,
	.node_scalar = host_node_scalar,
	.node_len = host_node_len,
	.node_at = host_node_at,
	.node_key_at = host_node_key_at,
	.node_get = host_node_get,
	.node_where = host_node_where,
	.estimate_build = host_estimate_build,
	.instance_type = host_instance_type,
	.figure = host_figure,
	.planner_seed = petal_planner_seed,
	.plan_add_step = petal_planner_add_step,
	.renderer_seed = petal_renderer_seed,
	.render_add = petal_renderer_add,
	.http = host_http,
};

struct petal_host *petal_host_new(void)
{
	struct host_impl *H = petal_xcalloc(1, sizeof(*H));
	H->pub = table;
	H->verbosity = PETAL_LOG_WARN;
	pthread_mutex_init(&H->lock, NULL);
	return &H->pub;
}

void petal_host_free(struct petal_host *h)
{
	if (!h)
		return;
	struct host_impl *H = impl(h);
	pthread_mutex_destroy(&H->lock);
	free(H);
}
