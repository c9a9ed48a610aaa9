/* Fuzz core/seed: YAML text -> nodes -> a validated seed, or every problem
   as file:line:col diagnostics.  Invariants: a seed is returned exactly
   when there is no diagnostic; diagnostics are sorted by position and point
   into the text; a valid seed's hash is that of its canonical form, the
   same on a second load; each package's text is its spec's canonical form. */
#include "config.h"

#include <string.h>

#include "core/seed/seed.h"
#include "fuzz.h"

#define NAME "fuzz.yaml"

static int is_hex64(const char *h)
{
	return strlen(h) == 64 && strspn(h, "0123456789abcdef") == 64;
}

static void check_diags(const struct petal_diags *d, const uint8_t *data, size_t size)
{
	/* line breaks as YAML counts them, at most: CR, LF, NEL, LS, PS */
	int lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 ||
		         (data[i] == 0xe2 && i + 2 < size && data[i + 1] == 0x80 &&
		          (data[i + 2] == 0xa8 || data[i + 2] == 0xa9));
	for (size_t i = 0; i < d->n; i++) {
		const struct petal_diag *g = &d->items[i];
		FUZZ_CHECK(g->line >= 0 && g->col >= 0);
		FUZZ_CHECK(g->line <= lines + 1);
		FUZZ_CHECK(g->message && g->message[0]);
		FUZZ_CHECK(g->path);
		if (i > 0) {
			const struct petal_diag *p = &d->items[i - 1];
			FUZZ_CHECK(p->line < g->line || (p->line == g->line && p->col <= g->col));
		}
	}
	char *all = petal_diags_format(d);
	FUZZ_CHECK(!strncmp(all, NAME ":", strlen(NAME ":")));
	free(all);
}

static void check_seed(const struct petal_seed *s)
{
	FUZZ_CHECK(is_hex64(s->hash));
	char h[65];
	petal_seed_hash(s, h);
	FUZZ_CHECK(!strcmp(h, s->hash));
	FUZZ_CHECK(s->n_queues >= 1);
	FUZZ_CHECK(s->name && s->region && s->cloud && s->os && s->head_node);
	for (size_t i = 0; i < s->n_queues; i++)
		FUZZ_CHECK(s->queues[i].name && s->queues[i].n_instance_types >= 1);
	for (size_t i = 0; i < s->n_pkgs; i++) {
		const struct petal_seed_pkg *p = &s->pkgs[i];
		char *canon = petal_spec_format(&p->spec);
		FUZZ_CHECK(!strcmp(canon, p->text));
		free(canon);
		struct petal_spec again;
		struct petal_error err = { 0 };
		FUZZ_CHECK(petal_spec_parse(p->text, &again, &err) == 0);
		canon = petal_spec_format(&again);
		FUZZ_CHECK(!strcmp(canon, p->text));
		free(canon);
		petal_spec_clear(&again);
		const char *tier = petal_seed_pkg_tier(s, p);
		FUZZ_CHECK(tier && (!strcmp(tier, "ami") || !strcmp(tier, "binary-cache") ||
		                    !strcmp(tier, "container") || !strcmp(tier, "source")));
		if (p->section == PETAL_SECTION_CONTAINER)
			FUZZ_CHECK(p->container < s->n_containers);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	struct petal_seed *s = NULL;
	struct petal_diags d = { 0 };
	struct petal_error err = { 0 };
	int rc = petal_seed_load_text(NAME, (const char *)data, size, &s, &d, &err);
	FUZZ_CHECK(rc == 0 || rc == PETAL_EINVAL);
	FUZZ_CHECK((rc == 0) == (s != NULL));
	FUZZ_CHECK((rc == 0) == (d.n == 0 && d.dropped == 0));
	if (rc) {
		FUZZ_CHECK(!strncmp(err.msg, NAME ": ", strlen(NAME ": ")));
		check_diags(&d, data, size);
	} else {
		check_seed(s);
		/* the same bytes again: the same seed, the same hash */
		struct petal_seed *s2 = NULL;
		struct petal_diags d2 = { 0 };
		FUZZ_CHECK(petal_seed_load_text(NAME, (const char *)data, size, &s2, &d2, &err) == 0);
		FUZZ_CHECK(!strcmp(s->hash, s2->hash));
		char *c1 = petal_seed_canonical(s), *c2 = petal_seed_canonical(s2);
		FUZZ_CHECK(!strcmp(c1, c2));
		free(c1);
		free(c2);
		petal_seed_free(s2);
		petal_diags_release(&d2);
	}
	petal_seed_free(s);
	petal_diags_release(&d);
	return 0;
}
