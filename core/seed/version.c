/* Version ordering and constraints the way Spack has them: a version is a
   sequence of numeric and alphabetic components; numbers compare as numbers
   and sort after words, except the "infinity" words (develop, main, ...)
   that sort after every number. */
#include "config.h"

#include "spec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"

enum comp_kind { COMP_WORD = 0, COMP_NUMBER = 1, COMP_INFINITY = 2 };

struct comp {
	enum comp_kind kind;
	const char *s;
	size_t len;
	int rank; /* COMP_INFINITY: position in infinity[] */
};

/* Spack's order, lowest first: develop is newer than everything. */
static const char *const infinity[] = { "stable", "trunk", "head", "master", "main",
	                                "develop" };

/* Next component of *p, skipping separators; 0 at the end. */
static int next_comp(const char **p, struct comp *c)
{
	const char *s = *p;
	while (*s && !isalnum((unsigned char)*s))
		s++;
	if (!*s)
		return 0;
	const char *start = s;
	if (isdigit((unsigned char)*s)) {
		while (isdigit((unsigned char)*s))
			s++;
		c->kind = COMP_NUMBER;
	} else {
		while (isalpha((unsigned char)*s))
			s++;
		c->kind = COMP_WORD;
	}
	c->s = start;
	c->len = (size_t)(s - start);
	if (c->kind == COMP_WORD) {
		for (size_t i = 0; i < sizeof(infinity) / sizeof(infinity[0]); i++) {
			if (strlen(infinity[i]) == c->len && !strncmp(infinity[i], start, c->len)) {
				c->kind = COMP_INFINITY;
				c->rank = (int)i;
			}
		}
	}
	*p = s;
	return 1;
}

static int comp_cmp(const struct comp *a, const struct comp *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->kind == COMP_INFINITY)
		return (a->rank > b->rank) - (a->rank < b->rank);
	if (a->kind == COMP_NUMBER) {
		/* compare digit strings without leading zeros: no overflow */
		const char *x = a->s, *y = b->s;
		size_t xl = a->len, yl = b->len;
		while (xl > 1 && *x == '0')
			x++, xl--;
		while (yl > 1 && *y == '0')
			y++, yl--;
		if (xl != yl)
			return xl < yl ? -1 : 1;
		int c = memcmp(x, y, xl);
		return (c > 0) - (c < 0);
	}
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->s, b->s, n);
	if (c)
		return (c > 0) - (c < 0);
	return (a->len > b->len) - (a->len < b->len);
}

int petal_version_cmp(const char *a, const char *b)
{
	const char *pa = a ? a : "", *pb = b ? b : "";
	for (;;) {
		struct comp ca, cb;
		int ha = next_comp(&pa, &ca), hb = next_comp(&pb, &cb);
		if (!ha && !hb)
			return 0;
		if (!ha)
			return -1; /* 1.2 < 1.2.1 */
		if (!hb)
			return 1;
		int c = comp_cmp(&ca, &cb);
		if (c)
			return c;
	}
}

/* Are the components of `prefix` the leading components of `v`? */
static int is_prefix(const char *prefix, size_t plen, const char *v)
{
	char *buf = petal_xstrndup(prefix, plen);
	const char *pp = buf, *pv = v;
	int rc;
	for (;;) {
		struct comp cp, cv;
		if (!next_comp(&pp, &cp)) {
			rc = 1;
			break;
		}
		if (!next_comp(&pv, &cv) || comp_cmp(&cp, &cv) != 0) {
			rc = 0;
			break;
		}
	}
	free(buf);
	return rc;
}

static int cmp_n(const char *v, const char *bound, size_t n)
{
	char *buf = petal_xstrndup(bound, n);
	int rc = petal_version_cmp(v, buf);
	free(buf);
	return rc;
}

static int item_satisfied(const char *v, const char *item, size_t n)
{
	if (n == 0)
		return 0;
	if (item[0] == '=')
		return cmp_n(v, item + 1, n - 1) == 0;
	const char *colon = memchr(item, ':', n);
	if (!colon)
		return cmp_n(v, item, n) == 0 || is_prefix(item, n, v);
	size_t lo = (size_t)(colon - item), hi = n - lo - 1;
	if (lo && cmp_n(v, item, lo) < 0)
		return 0;
	/* an upper bound includes its own patch releases: :1.4 holds 1.4.5 */
	if (hi && cmp_n(v, colon + 1, hi) > 0 && !is_prefix(colon + 1, hi, v))
		return 0;
	return 1;
}

int petal_version_satisfies(const char *v, const char *constraint)
{
	if (!constraint || !*constraint)
		return 1;
	if (!v)
		return 0;
	const char *item = constraint;
	for (;;) {
		size_t n = strcspn(item, ",");
		if (item_satisfied(v, item, n))
			return 1;
		if (!item[n])
			return 0;
		item += n + 1;
	}
}
