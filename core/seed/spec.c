/* Spack spec syntax, read by a small hand-written lexer and parser:
     spec  := name { '@' versions | '%' compiler ['@' versions]
                   | '+' variant | '~' variant | key '=' value | '^' spec }
   with whitespace allowed between tokens. */
#include "config.h"

#include "spec.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"

struct lexer {
	const char *s;
	size_t i;
	struct petal_error *err;
};

static int is_name_start(int c)
{
	return isalnum(c) || c == '_';
}

static int is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.';
}

static int is_variant_char(int c)
{
	return isalnum(c) || c == '_' || c == '-';
}

static int is_version_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-' || c == ':' || c == ',' ||
	       c == '=';
}

/* Characters a key=value value may hold without quotes (Spack's lexer). */
static int is_value_char(int c)
{
	return isalnum(c) || (c && strchr("_-+*.,:=~/\\", c));
}

/* "found 'x'" or "found the end of the spec", for error messages */
static void describe_here(const struct lexer *lx, char *buf, size_t len)
{
	unsigned char c = (unsigned char)lx->s[lx->i];
	if (!c)
		snprintf(buf, len, "the end of the spec");
	else if (isprint(c))
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "byte 0x%02x", c);
}

static int expected(struct lexer *lx, const char *what)
{
	char here[32];
	describe_here(lx, here, sizeof(here));
	return petal_fail(lx->err, PETAL_EINVAL, "at character %zu: expected %s, found %s",
	                  lx->i + 1, what, here);
}

static int fail_at(struct lexer *lx, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct lexer *lx, size_t pos, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return petal_fail(lx->err, PETAL_EINVAL, "at character %zu: %s", pos + 1, msg);
}

static void skip_ws(struct lexer *lx)
{
	while (lx->s[lx->i] == ' ' || lx->s[lx->i] == '\t')
		lx->i++;
}

static char *take_while(struct lexer *lx, int (*pred)(int))
{
	size_t start = lx->i;
	while (lx->s[lx->i] && pred((unsigned char)lx->s[lx->i]))
		lx->i++;
	return petal_xstrndup(lx->s + start, lx->i - start);
}

/* A single version: starts with a letter, digit or '_'. */
static int version_ok(const char *v, size_t n)
{
	if (n == 0 || !(isalnum((unsigned char)v[0]) || v[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)v[i]) || strchr("_.-", v[i])))
			return 0;
	return 1;
}

/* A git reference as Spack reads one: a branch or tag name ('/' and '.' inside). */
static int is_git_ref_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-' || c == '/';
}

static int is_hex40(const char *v, size_t n)
{
	if (n != 40)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)v[i]))
			return 0;
	return 1;
}

/* A git version, Spack's @git.<ref>[=<version>] or @<40 hex>[=<version>]: one
   item of its own, never part of a list or a range. */
static int parse_git_version(struct lexer *lx, char **out)
{
	size_t start = lx->i;
	int git = strncmp(lx->s + lx->i, "git.", 4) == 0;
	if (git)
		lx->i += 4;
	size_t ref = lx->i;
	while (lx->s[lx->i] && is_git_ref_char((unsigned char)lx->s[lx->i]))
		lx->i++;
	size_t ref_n = lx->i - ref;
	if (git && (ref_n == 0 || !(isalnum((unsigned char)lx->s[ref]) || lx->s[ref] == '_')))
		return fail_at(lx, ref, "a git version needs a branch, tag or commit after "
		               "'git.' (such as git.main=1.0 or git.v1.2=1.2)");
	if (!git && !is_hex40(lx->s + ref, ref_n))
		return fail_at(lx, start, "'%.*s' is not a git commit: a commit is 40 hex digits",
		               (int)ref_n, lx->s + ref);
	if (lx->s[lx->i] == '=') {
		size_t v = ++lx->i;
		while (lx->s[lx->i] && is_version_char((unsigned char)lx->s[lx->i]) &&
		       !strchr(":,=", lx->s[lx->i]))
			lx->i++;
		if (!version_ok(lx->s + v, lx->i - v))
			return expected(lx, "the version a git reference stands for after '=' "
			                "(such as git.main=1.0)");
	}
	if (lx->s[lx->i] && strchr(":,=", lx->s[lx->i]))
		return fail_at(lx, lx->i, "a git version stands alone: no range or list with "
		               "'%c' after it", lx->s[lx->i]);
	*out = petal_xstrndup(lx->s + start, lx->i - start);
	return 0;
}

/* Is `lo:hi` a range no version is in?  Only when lo is newer than hi and is
   not one of hi's own releases (1.4:1 holds 1.4, as :1 holds 1.4.5). */
static int range_empty(const char *item, size_t lo, size_t hi)
{
	if (!lo || !hi)
		return 0;
	char *a = petal_xstrndup(item, lo), *b = petal_xstrndup(item + lo + 1, hi);
	int empty = petal_version_cmp(a, b) > 0 && !petal_version_satisfies(a, b);
	free(a);
	free(b);
	return empty;
}

/* versions := item {',' item};  item := '=' version | [version] ':' [version] | version
   or a git version alone */
static int parse_versions(struct lexer *lx, char **out)
{
	size_t start = lx->i;
	const char *at = lx->s + lx->i;
	size_t hex = strspn(at, "0123456789abcdefABCDEF");
	if (strncmp(at, "git.", 4) == 0 || (hex == 40 && !is_version_char((unsigned char)at[40])) ||
	    (hex == 40 && at[40] == '='))
		return parse_git_version(lx, out);
	char *text = take_while(lx, is_version_char);
	if (!*text) {
		free(text);
		return expected(lx, "a version after '@' (such as 1.2, 1.2:, :1.4 or 1.2:1.4)");
	}
	const char *item = text;
	for (;;) {
		size_t n = strcspn(item, ",");
		const char *colon = memchr(item, ':', n);
		size_t pos = start + (size_t)(item - text);
		int ok;
		const char *end = colon ? colon : item + n;
		if (!strncmp(item, "git.", 4) || !strncmp(colon ? colon + 1 : "", "git.", 4) ||
		    is_hex40(item, (size_t)(end - item))) {
			int rc = fail_at(lx, pos, "a git version stands alone after '@': no range or "
			                 "list with it ('%.*s')", (int)n, item);
			free(text);
			return rc;
		}
		if (item[0] == '=') {
			ok = version_ok(item + 1, n - 1);
		} else if (colon) {
			size_t lo = (size_t)(colon - item), hi = n - lo - 1;
			ok = (lo || hi) && (!lo || version_ok(item, lo)) &&
			     (!hi || version_ok(colon + 1, hi));
			if (ok && range_empty(item, lo, hi)) {
				int rc = fail_at(lx, pos, "'%.*s' is an empty range: %.*s is newer "
				                 "than %.*s (write the older version first: %.*s:%.*s)",
				                 (int)n, item, (int)lo, item, (int)hi, colon + 1,
				                 (int)hi, colon + 1, (int)lo, item);
				free(text);
				return rc;
			}
		} else {
			ok = version_ok(item, n);
		}
		if (!ok) {
			int rc = fail_at(lx, pos, "'%.*s' is not a version or range; expected "
			                 "such as 1.2, 1.2:, :1.4, 1.2:1.4 or =1.2", (int)n, item);
			free(text);
			return rc;
		}
		if (!item[n])
			break;
		item += n + 1;
	}
	*out = text;
	return 0;
}

static int find_variant(const struct petal_spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_variants; i++)
		if (strcmp(s->variants[i].name, name) == 0)
			return 1;
	return 0;
}

static void add_variant(struct petal_spec *s, char *name, char *value, int enabled)
{
	s->variants = petal_xrealloc(s->variants, (s->n_variants + 1) * sizeof(*s->variants));
	s->variants[s->n_variants++] = (struct petal_variant){ name, value, enabled };
}

static int parse_quoted(struct lexer *lx, char **out)
{
	char q = lx->s[lx->i];
	size_t start = lx->i++;
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	while (lx->s[lx->i] && lx->s[lx->i] != q) {
		if (lx->s[lx->i] == '\\' && q == '"' && lx->s[lx->i + 1])
			lx->i++;
		petal_strbuf_putc(&sb, lx->s[lx->i++]);
	}
	if (!lx->s[lx->i]) {
		petal_strbuf_release(&sb);
		return fail_at(lx, start, "the quote opened here is never closed; expected a "
		               "closing %c", q);
	}
	lx->i++;
	*out = petal_strbuf_detach(&sb);
	return 0;
}

/* One spec (the root or a dependency), up to the end or the next '^'. */
static int parse_one(struct lexer *lx, struct petal_spec *s, int is_dep)
{
	int rc;
	skip_ws(lx);
	if (!is_name_start((unsigned char)lx->s[lx->i]))
		return expected(lx, is_dep ? "a package name after '^'" : "a package name");
	size_t name_at = lx->i;
	s->name = take_while(lx, is_name_char);
	if (lx->s[lx->i] == '=')
		return fail_at(lx, name_at, "'%s=' starts a key=value setting; expected a "
		               "package name first", s->name);

	for (;;) {
		skip_ws(lx);
		size_t at = lx->i;
		char c = lx->s[lx->i];
		if (!c || c == '^')
			return 0;
		if (c == '@') {
			if (s->versions)
				return fail_at(lx, at, "a second '@' for %s; give one version "
				               "constraint (a list is written 1.2,1.5)", s->name);
			lx->i++;
			if ((rc = parse_versions(lx, &s->versions)))
				return rc;
		} else if (c == '%') {
			if (s->compiler)
				return fail_at(lx, at, "a second compiler for %s; give one", s->name);
			lx->i++;
			skip_ws(lx);
			if (!is_name_start((unsigned char)lx->s[lx->i]))
				return expected(lx, "a compiler name after '%'");
			s->compiler = take_while(lx, is_name_char);
			if (lx->s[lx->i] == '@') {
				lx->i++;
				if ((rc = parse_versions(lx, &s->compiler_versions)))
					return rc;
			}
		} else if (c == '+' || c == '~') {
			lx->i++;
			if (lx->s[lx->i] == c)
				return fail_at(lx, at, "'%c%c' (a propagated variant) is not "
				               "supported; expected %cvariant", c, c, c);
			if (!is_name_start((unsigned char)lx->s[lx->i]))
				return expected(lx, c == '+' ? "a variant name after '+'"
				                             : "a variant name after '~'");
			char *name = take_while(lx, is_variant_char);
			if (find_variant(s, name)) {
				rc = fail_at(lx, at, "variant '%s' is given twice", name);
				free(name);
				return rc;
			}
			add_variant(s, name, NULL, c == '+');
		} else if (is_name_start((unsigned char)c)) {
			char *key = take_while(lx, is_variant_char);
			if (lx->s[lx->i] != '=') {
				rc = fail_at(lx, at, "unexpected '%s'; a spec names one package "
				             "(expected @version, %%compiler, +variant, ~variant, "
				             "key=value or ^dependency)", key);
				free(key);
				return rc;
			}
			lx->i++;
			if (lx->s[lx->i] == '=') { /* key==value propagates in Spack */
				free(key);
				return fail_at(lx, at, "'==' (a propagated setting) is not "
				               "supported; expected key=value");
			}
			char *value = NULL;
			if (lx->s[lx->i] == '"' || lx->s[lx->i] == '\'') {
				rc = parse_quoted(lx, &value);
			} else {
				value = take_while(lx, is_value_char);
				rc = *value ? 0 : expected(lx, "a value after '='");
			}
			if (!rc && find_variant(s, key))
				rc = fail_at(lx, at, "'%s' is given twice", key);
			if (rc) {
				free(key);
				free(value);
				return rc;
			}
			add_variant(s, key, value, 1);
		} else {
			return expected(lx, "@version, %compiler, +variant, ~variant, key=value "
			                "or ^dependency");
		}
	}
}

int petal_spec_parse(const char *text, struct petal_spec *out, struct petal_error *err)
{
	struct lexer lx = { text ? text : "", 0, err };
	memset(out, 0, sizeof(*out));
	int rc = parse_one(&lx, out, 0);
	while (!rc && lx.s[lx.i] == '^') {
		size_t at = lx.i++;
		struct petal_spec dep;
		memset(&dep, 0, sizeof(dep));
		rc = parse_one(&lx, &dep, 1);
		for (size_t i = 0; !rc && i < out->n_deps; i++)
			if (strcmp(out->deps[i].name, dep.name) == 0)
				rc = fail_at(&lx, at, "dependency '%s' is given twice", dep.name);
		if (!rc && strcmp(dep.name, out->name) == 0)
			rc = fail_at(&lx, at, "'%s' cannot depend on itself", dep.name);
		if (rc) {
			petal_spec_clear(&dep);
			break;
		}
		out->deps = petal_xrealloc(out->deps, (out->n_deps + 1) * sizeof(*out->deps));
		out->deps[out->n_deps++] = dep;
	}
	if (rc)
		petal_spec_clear(out);
	return rc;
}

void petal_spec_clear(struct petal_spec *spec)
{
	if (!spec)
		return;
	free(spec->name);
	free(spec->versions);
	free(spec->compiler);
	free(spec->compiler_versions);
	for (size_t i = 0; i < spec->n_variants; i++) {
		free(spec->variants[i].name);
		free(spec->variants[i].value);
	}
	free(spec->variants);
	for (size_t i = 0; i < spec->n_deps; i++)
		petal_spec_clear(&spec->deps[i]);
	free(spec->deps);
	memset(spec, 0, sizeof(*spec));
}

static int variant_cmp(const void *a, const void *b)
{
	const struct petal_variant *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

static void put_value(struct petal_strbuf *sb, const char *v)
{
	int plain = *v != '\0' && *v != '='; /* "k==v" would read as a propagated k */
	for (const char *p = v; *p; p++)
		if (!is_value_char((unsigned char)*p))
			plain = 0;
	if (plain) {
		petal_strbuf_puts(sb, v);
		return;
	}
	petal_strbuf_putc(sb, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			petal_strbuf_putc(sb, '\\');
		petal_strbuf_putc(sb, *p);
	}
	petal_strbuf_putc(sb, '"');
}

/* name@v%c@cv+a~b k=v, without dependencies */
static void format_node(struct petal_strbuf *sb, const struct petal_spec *s)
{
	petal_strbuf_puts(sb, s->name ? s->name : "");
	if (s->versions)
		petal_strbuf_printf(sb, "@%s", s->versions);
	if (s->compiler) {
		petal_strbuf_printf(sb, "%%%s", s->compiler);
		if (s->compiler_versions)
			petal_strbuf_printf(sb, "@%s", s->compiler_versions);
	}
	const struct petal_variant **v = petal_xmalloc((s->n_variants + 1) * sizeof(*v));
	for (size_t i = 0; i < s->n_variants; i++)
		v[i] = &s->variants[i];
	qsort(v, s->n_variants, sizeof(*v), variant_cmp);
	for (size_t i = 0; i < s->n_variants; i++)
		if (!v[i]->value)
			petal_strbuf_printf(sb, "%c%s", v[i]->enabled ? '+' : '~', v[i]->name);
	for (size_t i = 0; i < s->n_variants; i++) {
		if (!v[i]->value)
			continue;
		petal_strbuf_printf(sb, " %s=", v[i]->name);
		put_value(sb, v[i]->value);
	}
	free(v);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *petal_spec_format(const struct petal_spec *spec)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	format_node(&sb, spec);
	char **deps = petal_xmalloc((spec->n_deps + 1) * sizeof(*deps));
	for (size_t i = 0; i < spec->n_deps; i++) {
		struct petal_strbuf d = PETAL_STRBUF_INIT;
		format_node(&d, &spec->deps[i]);
		deps[i] = petal_strbuf_detach(&d);
	}
	qsort(deps, spec->n_deps, sizeof(*deps), str_cmp);
	for (size_t i = 0; i < spec->n_deps; i++) {
		petal_strbuf_printf(&sb, " ^%s", deps[i]);
		free(deps[i]);
	}
	free(deps);
	return petal_strbuf_detach(&sb);
}
