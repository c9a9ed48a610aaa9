/* Matching requested specs against the records of an index as they stream
   past: memory grows with the requests, not with the index. */
#include "config.h"

#include "cache_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/util.h"

/* A record whose compiler version was not known yet when it went past. */
struct pending {
	char *version, *hash, *compiler, *compiler_hash, *arch;
};

struct want {
	const struct petal_spec *spec;
	size_t next_same; /* next request of the same name, +1; 0 ends */
	struct petal_cache_match best;
	struct pending *pend;
	size_t n_pend, cap_pend;
};

struct petal_cache_matcher {
	struct want *w;
	size_t n;
	struct petal_strmap by_name; /* name -> first request's index + 1 */
};

/* Spack 1.x names compilers by their package; seeds may use the old names. */
static const char *const compiler_alias[][2] = {
	{ "clang", "llvm" },
	{ "oneapi", "intel-oneapi-compilers" },
	{ "intel", "intel-oneapi-compilers-classic" },
};

static int same_compiler(const char *want, const char *have)
{
	if (!strcmp(want, have))
		return 1;
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(compiler_alias); i++)
		if ((!strcmp(want, compiler_alias[i][0]) && !strcmp(have, compiler_alias[i][1])) ||
		    (!strcmp(want, compiler_alias[i][1]) && !strcmp(have, compiler_alias[i][0])))
			return 1;
	return 0;
}

struct petal_cache_matcher *petal_cache_matcher_new(const struct petal_spec *want, size_t n)
{
	struct petal_cache_matcher *m = petal_xcalloc(1, sizeof(*m));
	m->w = petal_xcalloc(n ? n : 1, sizeof(*m->w));
	m->n = n;
	/* link requests of one name, in request order */
	for (size_t i = n; i-- > 0;) {
		m->w[i].spec = &want[i];
		void **slot = petal_strmap_slot(&m->by_name, want[i].name ? want[i].name : "", 1);
		m->w[i].next_same = (size_t)(uintptr_t)*slot;
		*slot = (void *)(uintptr_t)(i + 1);
	}
	return m;
}

static void clear_match(struct petal_cache_match *r)
{
	free(r->version);
	free(r->hash);
	free(r->compiler);
	free(r->compiler_version);
	free(r->arch);
	r->version = r->hash = r->compiler = r->compiler_version = r->arch = NULL;
}

/* Keep the candidate when it beats the best so far: higher version, then
   the smaller hash, so that the answer does not depend on record order. */
static void offer(struct want *w, const char *version, const char *hash, const char *compiler,
                  const char *compiler_version, const char *arch)
{
	struct petal_cache_match *b = &w->best;
	if (b->hit) {
		int c = petal_version_cmp(version, b->version);
		if (c < 0 || (c == 0 && strcmp(hash, b->hash) >= 0))
			return;
	}
	clear_match(b);
	b->hit = 1;
	b->version = petal_xstrdup(version);
	b->hash = petal_xstrdup(hash);
	b->compiler = petal_xstrdup(compiler);
	b->compiler_version = petal_xstrdup(compiler_version);
	b->arch = petal_xstrdup(arch);
}

void petal_cache_matcher_add(struct petal_cache_matcher *m, const struct petal_cache_record *rec)
{
	if (!rec->in_buildcache)
		return;
	size_t i = (size_t)(uintptr_t)petal_strmap_get(&m->by_name, rec->name);
	for (; i; i = m->w[i - 1].next_same) {
		struct want *w = &m->w[i - 1];
		const struct petal_spec *s = w->spec;
		if (s->versions && *s->versions && !petal_version_satisfies(rec->version, s->versions))
			continue;
		/* compilers are compared only when both sides name one */
		if (s->compiler && rec->compiler) {
			if (!same_compiler(s->compiler, rec->compiler))
				continue;
			if (s->compiler_versions && *s->compiler_versions) {
				if (rec->compiler_version) {
					if (!petal_version_satisfies(rec->compiler_version, s->compiler_versions))
						continue;
				} else if (rec->compiler_hash) {
					struct pending p = {
						.version = petal_xstrdup(rec->version),
						.hash = petal_xstrdup(rec->hash),
						.compiler = petal_xstrdup(rec->compiler),
						.compiler_hash = petal_xstrdup(rec->compiler_hash),
						.arch = petal_xstrdup(rec->arch),
					};
					PETAL_PUSH(w->pend, w->n_pend, w->cap_pend, p);
					continue;
				}
			}
		}
		offer(w, rec->version, rec->hash, rec->compiler, rec->compiler_version, rec->arch);
	}
}

void petal_cache_matcher_finish(struct petal_cache_matcher *m, const struct petal_cache_index *idx,
                                struct petal_cache_match **out, size_t *n, size_t *hits)
{
	struct petal_cache_match *res = petal_xcalloc(m->n ? m->n : 1, sizeof(*res));
	size_t h = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct want *w = &m->w[i];
		for (size_t k = 0; k < w->n_pend; k++) {
			struct pending *p = &w->pend[k];
			const char *cv = idx ? petal_cache_index_compiler_version(idx, p->compiler_hash)
			                     : NULL;
			/* a compiler whose record is not in the index: its version is unknown,
			   so only its name was compared */
			if (!cv || petal_version_satisfies(cv, w->spec->compiler_versions))
				offer(w, p->version, p->hash, p->compiler, cv, p->arch);
		}
		res[i] = w->best;
		memset(&w->best, 0, sizeof(w->best));
		res[i].request = petal_spec_format(w->spec);
		res[i].name = petal_xstrdup(w->spec->name);
		h += res[i].hit != 0;
	}
	*out = res;
	*n = m->n;
	*hits = h;
}

void petal_cache_matcher_free(struct petal_cache_matcher *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct want *w = &m->w[i];
		for (size_t k = 0; k < w->n_pend; k++) {
			free(w->pend[k].version);
			free(w->pend[k].hash);
			free(w->pend[k].compiler);
			free(w->pend[k].compiler_hash);
			free(w->pend[k].arch);
		}
		free(w->pend);
		clear_match(&w->best);
	}
	free(m->w);
	petal_strmap_release(&m->by_name, NULL);
	free(m);
}

void petal_cache_matches_free(struct petal_cache_match *matches, size_t n)
{
	if (!matches)
		return;
	for (size_t i = 0; i < n; i++) {
		free(matches[i].request);
		free(matches[i].name);
		clear_match(&matches[i]);
	}
	free(matches);
}
