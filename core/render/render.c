/* Render a plan into files: fragments from the tiers, assembled by the core. */
#include "config.h"

#include <string.h>

#include "../util/util.h"
#include "render.h"

struct petal_fragment_rec {
	enum petal_fragment kind;
	char *tier;
	char *key;
	char *text;
};

struct petal_renderer {
	const struct petal_plan *plan;
	const char *tier; /* the tier whose render op runs now */
	struct petal_fragment_rec *frags;
	size_t n_frags, cap_frags;
};

const struct petal_seed_info *petal_renderer_seed(struct petal_renderer *r)
{
	return r != NULL && r->plan != NULL ? &r->plan->info : NULL;
}

int petal_renderer_add(struct petal_renderer *r, enum petal_fragment kind,
                       const char *key, const char *text, struct petal_error *err)
{
	struct petal_fragment_rec f;

	if (r == NULL || text == NULL)
		return petal_fail(err, PETAL_EINVAL, "render_add: no renderer or no text");
	f.kind = kind;
	f.tier = petal_xstrdup(r->tier);
	f.key = petal_xstrdup(key);
	f.text = petal_xstrdup(text);
	PETAL_PUSH(r->frags, r->n_frags, r->cap_frags, f);
	return 0;
}

int petal_render(const struct petal_plan *plan, struct petal_registry *reg,
                 const struct petal_render_opts *opts, struct petal_error *err)
{
	(void)plan;
	(void)reg;
	(void)opts;
	return petal_fail(err, PETAL_ENOTSUP, "render: not written yet");
}
