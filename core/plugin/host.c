/* The host table: everything the core offers a plugin, bound to the figures
   in use.  Plugins link nothing of petal; every call lands here. */
#include "config.h"

#include "host.h"

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

static struct petal_estimates *bound;
static const char *bound_region;
static int verbosity = PETAL_LOG_WARN;

void petal_host_bind_estimates(struct petal_estimates *est)
{
	bound = est;
}

void petal_host_bind_region(const char *region)
{
	bound_region = region;
}

void petal_host_set_verbosity(int level)
{
	verbosity = level;
}

/* ---- messages ------------------------------------------------------------- */

static void host_log(int level, const char *plugin, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void host_log(int level, const char *plugin, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	if (level > verbosity)
		return;
	if (level < PETAL_LOG_ERROR)
		level = PETAL_LOG_ERROR;
	if (level > PETAL_LOG_DEBUG)
		level = PETAL_LOG_DEBUG;
	/* One write per message, so lines from two plugins never interleave. */
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	va_list ap;
	petal_strbuf_printf(&sb, "petal: %s: %s: ", plugin ? plugin : "plugin", names[level]);
	va_start(ap, fmt);
	petal_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	/* a plugin's message may carry a cloud's text: no terminal control */
	char *safe = petal_escape_text(petal_strbuf_str(&sb), PETAL_ESC_LINES);
	petal_strbuf_release(&sb);
	petal_strbuf_puts(&sb, safe);
	free(safe);
	petal_strbuf_putc(&sb, '\n');
	fputs(petal_strbuf_str(&sb), stderr);
	petal_strbuf_release(&sb);
}

/* A line redrawn in place: only a person at a terminal wants it. */
static void host_progress(const char *what, uint64_t done, uint64_t total)
{
	if (verbosity < PETAL_LOG_WARN || !isatty(STDERR_FILENO))
		return;
	char *safe = petal_escape_text(what, 0);
	if (total)
		fprintf(stderr, "\r%s: %llu/%llu%s", safe, (unsigned long long)done,
		        (unsigned long long)total, done >= total ? "\n" : "");
	else
		fprintf(stderr, "\r%s: %llu", safe, (unsigned long long)done);
	free(safe);
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

/* $XDG_<var> or $HOME/<fallback>, then /petal; NULL without either. */
static const char *xdg_dir(char *buf, size_t len, const char *var, const char *fallback)
{
	const char *base = getenv(var);
	int n;
	if (base && base[0] == '/') {
		n = snprintf(buf, len, "%s/petal", base);
	} else {
		const char *home = getenv("HOME");
		if (!home || !*home)
			return NULL;
		n = snprintf(buf, len, "%s/%s/petal", home, fallback);
	}
	return (n > 0 && (size_t)n < len) ? buf : NULL;
}

static const char *host_setting(const char *key)
{
	static char state[4096], cache[4096];
	if (!key)
		return NULL;
	if (strcmp(key, "data_dir") == 0) {
		const char *d = getenv("PETAL_DATA_DIR");
		return (d && *d) ? d : PETAL_DATADIR;
	}
	if (strcmp(key, "state_dir") == 0)
		return xdg_dir(state, sizeof(state), "XDG_STATE_HOME", ".local/state");
	if (strcmp(key, "cache_dir") == 0)
		return xdg_dir(cache, sizeof(cache), "XDG_CACHE_HOME", ".cache");
	if (strcmp(key, "region") == 0)
		return bound_region;
	return NULL;
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

static int host_estimate_build(const struct petal_package *const *pkgs, size_t n,
                               const char *instance_type, int parallel,
                               struct petal_build_estimate *out)
{
	if (!out || (n && !pkgs))
		return PETAL_EINVAL;
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

static int host_instance_type(const char *name, struct petal_instance_type *out)
{
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

static double host_figure(const char *name)
{
	return bound ? petal_estimates_figure(bound, name) : -1;
}

/* ---- network ---------------------------------------------------------------------- */

static int host_http(const struct petal_http_request *req, struct petal_http_response *resp,
                     struct petal_error *err)
{
	return petal_http(req, resp, err);
}

static const struct petal_host host = {
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

const struct petal_host *petal_host_get(void)
{
	return &host;
}
