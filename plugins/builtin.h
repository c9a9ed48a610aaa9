/* Shared by petal's own tier plugins (not installed, not for third parties:
   they use <petal/plugin.h> alone).  Each tier's descriptor lives in
   plugins/tier_<name>/<name>.c (claim, plan), its render op in render.c. */
#ifndef PETAL_PLUGINS_BUILTIN_H
#define PETAL_PLUGINS_BUILTIN_H

#include <petal/plugin.h>

/* Every built-in tier's ctx. */
struct tier_ctx {
	const struct petal_host *host;
};

#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN int ami_render(void *ctx, struct petal_renderer *r,
                      const struct petal_package *const *pkgs, size_t n,
                      struct petal_error *err);
HIDDEN int binary_cache_render(void *ctx, struct petal_renderer *r,
                               const struct petal_package *const *pkgs, size_t n,
                               struct petal_error *err);
HIDDEN int container_render(void *ctx, struct petal_renderer *r,
                            const struct petal_package *const *pkgs, size_t n,
                            struct petal_error *err);
HIDDEN int source_render(void *ctx, struct petal_renderer *r,
                         const struct petal_package *const *pkgs, size_t n,
                         struct petal_error *err);

/* ---- render helpers (used by each tier's render.c) --------------------------
   Shell lines built for the rendered scripts.  Every value that comes from the
   seed goes through tier_line_quoted: a seed is user input, and a spec such as
   `foo cflags="-O3"` or a hostile string must reach the command as one word. */
#include <string.h>

#include <petal/shell.h>

struct tier_line {
	const struct petal_host *host;
	char *buf;
	size_t len, cap;
};

/* Room for n more bytes and the NUL. */
static inline void tier_line_reserve(struct tier_line *l, size_t n)
{
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 64;
		char *nb;

		while (cap < l->len + n + 1)
			cap *= 2;
		nb = l->host->alloc(cap);
		if (l->len)
			memcpy(nb, l->buf, l->len);
		l->host->free(l->buf);
		l->buf = nb;
		l->cap = cap;
	}
}

static inline void tier_line_addn(struct tier_line *l, const char *s, size_t n)
{
	tier_line_reserve(l, n);
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

static inline void tier_line_add(struct tier_line *l, const char *s)
{
	tier_line_addn(l, s, strlen(s));
}

/* s as one POSIX shell word, by petal's one quoter (<petal/shell.h>). */
static inline void tier_line_quoted(struct tier_line *l, const char *s)
{
	size_t n = petal_shell_quote(NULL, 0, s);

	tier_line_reserve(l, n);
	petal_shell_quote(l->buf + l->len, n + 1, s);
	l->len += n;
}

/* The text built so far ("" when nothing), then start again. */
static inline const char *tier_line_str(const struct tier_line *l)
{
	return l->buf != NULL ? l->buf : "";
}

static inline void tier_line_reset(struct tier_line *l)
{
	l->len = 0;
	if (l->buf != NULL)
		l->buf[0] = '\0';
}

static inline void tier_line_release(struct tier_line *l)
{
	l->host->free(l->buf);
	l->buf = NULL;
	l->len = l->cap = 0;
}

/* Append each package's spec as one quoted word, one per continued line. */
static inline void tier_line_specs(struct tier_line *l,
                                   const struct petal_package *const *pkgs, size_t n,
                                   const char *indent)
{
	for (size_t i = 0; i < n; i++) {
		tier_line_add(l, " \\\n");
		tier_line_add(l, indent);
		tier_line_quoted(l, pkgs[i]->spec);
	}
}

#endif
