/* Diagnostics and typed reading of seed nodes. */
#include "config.h"

#include "schema.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"

/* A seed with thousands of problems is not a seed; past this many, only a
   count is kept so that output (and memory) stays bounded. */
#define PETAL_DIAGS_MAX 200

void petal_diags_add(struct petal_diags *d, int line, int col, const char *path,
                     const char *fmt, ...)
{
	if (d->n >= PETAL_DIAGS_MAX) {
		d->dropped++;
		return;
	}
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	petal_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	struct petal_diag diag = {
		.line = line,
		.col = col,
		.path = petal_xstrdup(path ? path : ""),
		.message = petal_strbuf_detach(&sb),
	};
	PETAL_PUSH(d->items, d->n, d->cap, diag);
}

void petal_diags_release(struct petal_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].path);
		free(d->items[i].message);
	}
	free(d->items);
	free(d->file);
	memset(d, 0, sizeof(*d));
}

char *petal_diags_format(const struct petal_diags *d)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	const char *file = d->file ? d->file : "seed";
	for (size_t i = 0; i < d->n; i++) {
		const struct petal_diag *g = &d->items[i];
		if (g->line > 0)
			petal_strbuf_printf(&sb, "%s:%d:%d: ", file, g->line, g->col);
		else
			petal_strbuf_printf(&sb, "%s: ", file);
		if (g->path && *g->path)
			petal_strbuf_printf(&sb, "%s: ", g->path);
		petal_strbuf_printf(&sb, "%s\n", g->message);
	}
	if (d->dropped)
		petal_strbuf_printf(&sb, "%s: %zu more problems not shown\n", file, d->dropped);
	return petal_strbuf_detach(&sb);
}

char *petal_schema_key(const char *parent, const char *key)
{
	/* keys such as c5.xlarge would read as two path components */
	if (!*key || strpbrk(key, ".[]\" \t"))
		return petal_xasprintf("%s[\"%s\"]", parent ? parent : "", key);
	if (!parent || !*parent)
		return petal_xstrdup(key);
	return petal_xasprintf("%s.%s", parent, key);
}

char *petal_schema_index(const char *parent, size_t i)
{
	return petal_xasprintf("%s[%zu]", parent, i);
}

int petal_schema_is_null(const struct petal_node *n)
{
	if (!n || n->type != PETAL_NODE_SCALAR || n->quoted)
		return n == NULL;
	const char *s = n->scalar;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

/* YAML 1.1 booleans, as the seeds' authors expect them: 1 true, 0 false,
   -1 not a boolean. */
static int bool_value(const char *s)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
		                           "on", "On", "ON", NULL };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO",
		                          "off", "Off", "OFF", NULL };
	for (size_t i = 0; yes[i]; i++) {
		if (!strcmp(s, yes[i]))
			return 1;
		if (!strcmp(s, no[i]))
			return 0;
	}
	return -1;
}

static int is_decimal(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Plain decimal or floating-point notation: no hex, inf or nan. */
static int is_number(const char *s)
{
	int digits = 0;
	if (*s == '-' || *s == '+')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits++;
	if (!digits)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

const char *petal_schema_got(const struct petal_node *n, char *buf, size_t len)
{
	if (!n)
		return "nothing";
	if (n->type == PETAL_NODE_MAP)
		return "a mapping";
	if (n->type == PETAL_NODE_LIST)
		return "a list";
	const char *s = n->scalar;
	int cut = strlen(s) > 40;
	if (n->quoted)
		snprintf(buf, len, "the quoted string '%.40s%s'", s, cut ? "..." : "");
	else if (petal_schema_is_null(n))
		snprintf(buf, len, "an empty value");
	else if (bool_value(s) >= 0)
		snprintf(buf, len, "the boolean %s", s);
	else if (is_decimal(s))
		snprintf(buf, len, "the integer %.40s", s);
	else if (is_number(s))
		snprintf(buf, len, "the number %.40s", s);
	else
		snprintf(buf, len, "the string '%.40s%s'", s, cut ? "..." : "");
	return buf;
}

void petal_schema_keys(struct petal_diags *d, const struct petal_node *map,
                       const char *path, const char *const *allowed)
{
	if (!map || map->type != PETAL_NODE_MAP)
		return;
	for (size_t i = 0; i < map->n; i++) {
		const char *k = map->keys[i];
		size_t j;
		for (j = 0; allowed[j]; j++)
			if (!strcmp(k, allowed[j]))
				break;
		if (allowed[j])
			continue;
		char *kp = petal_schema_key(path, k);
		const char *hint = petal_did_you_mean(k, allowed);
		if (hint) {
			petal_diags_add(d, map->key_line[i], map->key_col[i], kp,
			                "unknown key; did you mean '%s'?", hint);
		} else {
			struct petal_strbuf sb = PETAL_STRBUF_INIT;
			for (j = 0; allowed[j]; j++)
				petal_strbuf_printf(&sb, "%s%s", j ? ", " : "", allowed[j]);
			petal_diags_add(d, map->key_line[i], map->key_col[i], kp,
			                "unknown key; expected one of: %s", petal_strbuf_str(&sb));
			petal_strbuf_release(&sb);
		}
		free(kp);
	}
}

void petal_schema_key_pos(const struct petal_node *map, const char *key, int *line,
                          int *col)
{
	*line = map ? map->line : 1;
	*col = map ? map->col : 1;
	if (!map || map->type != PETAL_NODE_MAP)
		return;
	for (size_t i = 0; i < map->n; i++) {
		if (!strcmp(map->keys[i], key)) {
			*line = map->key_line[i];
			*col = map->key_col[i];
			return;
		}
	}
}

static const char *type_name(enum petal_node_type t)
{
	switch (t) {
	case PETAL_NODE_MAP: return "a mapping";
	case PETAL_NODE_LIST: return "a list";
	default: return "a single value";
	}
}

const struct petal_node *petal_schema_child(struct petal_diags *d,
                                            const struct petal_node *map,
                                            const char *key, const char *path,
                                            enum petal_node_type type,
                                            const char *required)
{
	const struct petal_node *n = petal_node_get(map, key);
	if (petal_schema_is_null(n)) {
		if (required && map) {
			int line, col;
			petal_schema_key_pos(map, key, &line, &col);
			petal_diags_add(d, n ? n->line : line, n ? n->col : col, path,
			                "missing; expected %s", required);
		}
		return NULL;
	}
	if (n->type != type) {
		char buf[96];
		petal_diags_add(d, n->line, n->col, path, "expected %s, got %s",
		                type_name(type), petal_schema_got(n, buf, sizeof(buf)));
		return NULL;
	}
	return n;
}

int petal_schema_str(struct petal_diags *d, const struct petal_node *map, const char *key,
                     const char *path, const char *required, const char **out)
{
	const struct petal_node *n = petal_schema_child(d, map, key, path, PETAL_NODE_SCALAR,
	                                                required);
	if (!n)
		return petal_node_get(map, key) && !petal_schema_is_null(petal_node_get(map, key))
		       ? -1 : 0;
	*out = n->scalar;
	return 1;
}

int petal_schema_bool(struct petal_diags *d, const struct petal_node *map,
                      const char *key, const char *path, int *out)
{
	const struct petal_node *n = petal_node_get(map, key);
	if (petal_schema_is_null(n))
		return 0;
	int v = n->type == PETAL_NODE_SCALAR && !n->quoted ? bool_value(n->scalar) : -1;
	if (v < 0) {
		char buf[96];
		petal_diags_add(d, n->line, n->col, path,
		                "expected a boolean (true or false), got %s%s",
		                petal_schema_got(n, buf, sizeof(buf)),
		                n->quoted && bool_value(n->scalar) >= 0
		                ? " (quoted, so not a boolean)" : "");
		return -1;
	}
	*out = v;
	return 1;
}

int petal_schema_bool_value(const struct petal_node *n)
{
	if (n == NULL || n->type != PETAL_NODE_SCALAR || n->quoted)
		return -1;
	return bool_value(n->scalar);
}

int petal_schema_int(struct petal_diags *d, const struct petal_node *map, const char *key,
                     const char *path, long min, long max, int *out)
{
	const struct petal_node *n = petal_node_get(map, key);
	if (petal_schema_is_null(n))
		return 0;
	char buf[96];
	if (n->type != PETAL_NODE_SCALAR || n->quoted || !is_decimal(n->scalar)) {
		petal_diags_add(d, n->line, n->col, path, "expected an integer, got %s",
		                petal_schema_got(n, buf, sizeof(buf)));
		return -1;
	}
	const char *digits = n->scalar + (n->scalar[0] == '-' || n->scalar[0] == '+');
	if (digits[0] == '0' && digits[1]) {
		petal_diags_add(d, n->line, n->col, path,
		                "'%s' has a leading zero (YAML 1.1 reads it as octal); expected "
		                "a plain decimal integer", n->scalar);
		return -1;
	}
	errno = 0;
	long v = strtol(n->scalar, NULL, 10);
	if (errno || v < min || v > max) {
		if (max >= INT_MAX)
			petal_diags_add(d, n->line, n->col, path,
			                "%s is out of range; expected an integer of at least %ld",
			                n->scalar, min);
		else
			petal_diags_add(d, n->line, n->col, path,
			                "%s is out of range; expected an integer from %ld to %ld",
			                n->scalar, min, max);
		return -1;
	}
	*out = (int)v;
	return 1;
}

int petal_schema_number(struct petal_diags *d, const struct petal_node *n,
                        const char *path, double min, double max, double *out)
{
	char buf[96];
	if (petal_schema_is_null(n))
		return 0;
	if (n->type != PETAL_NODE_SCALAR || n->quoted || !is_number(n->scalar)) {
		petal_diags_add(d, n->line, n->col, path, "expected a number, got %s",
		                petal_schema_got(n, buf, sizeof(buf)));
		return -1;
	}
	double v = strtod(n->scalar, NULL);
	if (!isfinite(v) || v < min || v > max) {
		if (max == HUGE_VAL)
			petal_diags_add(d, n->line, n->col, path,
			                "%s is out of range; expected a number of at least %g",
			                n->scalar, min);
		else
			petal_diags_add(d, n->line, n->col, path,
			                "%s is out of range; expected a number from %g to %g",
			                n->scalar, min, max);
		return -1;
	}
	*out = v;
	return 1;
}

int petal_schema_word(const char *s, const char *first, const char *rest, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max || !strchr(first, s[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!strchr(rest, s[i]))
			return 0;
	return 1;
}

/* "<N>" + suffix, N a whole number 1 to 9999 with no leading zero; 0 when not. */
static long count_before(const char *s, const char *suffix)
{
	size_t n = strspn(s, PETAL_DIGIT);
	if (n == 0 || n > 4 || s[0] == '0' || strcmp(s + n, suffix) != 0)
		return 0;
	return strtol(s, NULL, 10);
}

int petal_instance_size_vcpus(const char *size)
{
	static const char *const uncounted[] = { "nano", "micro", "small", "metal" };
	long n;
	if (!size)
		return -1;
	if (strcmp(size, "medium") == 0)
		return 1;
	if (strcmp(size, "large") == 0)
		return 2;
	if (strcmp(size, "xlarge") == 0)
		return 4;
	for (size_t i = 0; i < sizeof(uncounted) / sizeof(uncounted[0]); i++)
		if (strcmp(size, uncounted[i]) == 0)
			return 0;
	if ((n = count_before(size, "xlarge")) > 0)
		return (int)(4 * n);
	if (strncmp(size, "metal-", 6) == 0 && (n = count_before(size + 6, "xl")) > 0)
		return (int)(4 * n);
	return -1;
}

/* family.size, e.g. c5.18xlarge, hpc7g.16xlarge, u-6tb1.metal, m7i.metal-24xl */
int petal_schema_instance_type(const char *s)
{
	const char *dot = strchr(s, '.');
	if (!dot || strchr(dot + 1, '.'))
		return 0;
	char *family = petal_xstrndup(s, (size_t)(dot - s));
	int ok = petal_schema_word(family, PETAL_LOWER, PETAL_LOWER PETAL_DIGIT "-", 32) &&
	         petal_instance_size_vcpus(dot + 1) >= 0;
	free(family);
	return ok;
}
