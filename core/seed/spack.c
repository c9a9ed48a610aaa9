/* software.spack_version and software.spack: which Spack, where it comes from
   (a tarball or a git repository at a ref), its package repositories (a
   directory, a git repository or a tarball each), a source mirror and the
   target (petal-seed(5)). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "schema.h"

static const char *const spack_keys[] = { "version", "url", "git", "ref", "repos",
	                                  "source_mirror", "target", NULL };
static const char *const repo_keys[] = { "name", "git", "ref", "url", NULL };

static const char *const fetchable[] = { "file://", "s3://", "https://", NULL };
static const char *const local[] = { "file:///", NULL };
static const char *const git_schemes[] = { "https://", "ssh://", "git://", "file://", NULL };

#define GIT_EXPECTED "a git URL (https://, ssh://, git:// or file://)"
#define REF_EXPECTED "a git branch, tag or commit, e.g. v1.1.0, releases/v1.1 or a commit id"

/* NULL when url is one the scripts can fetch with a scheme in `schemes`
   ("file://", "s3://", "https://"), else what is wrong with it. */
static const char *url_problem(const char *url, const char *const *schemes)
{
	int known = 0;

	for (size_t i = 0; schemes[i] != NULL; i++)
		known |= strncmp(url, schemes[i], strlen(schemes[i])) == 0 &&
		         url[strlen(schemes[i])] != '\0';
	if (!known)
		return "an unknown scheme or nothing after it";
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '\'' || *c == '\\')
			return "a space, a control character, a quote or a backslash";
	if (strlen(url) > 1024)
		return "more than 1024 characters";
	return NULL;
}

static char *url_value(struct petal_diags *d, const struct petal_node *n, const char *path,
                       const char *const *schemes, const char *expected)
{
	char buf[96];
	const char *why;

	if (n->type != PETAL_NODE_SCALAR || petal_schema_is_null(n)) {
		petal_diags_add(d, n->line, n->col, path, "expected %s, got %s", expected,
		                petal_schema_got(n, buf, sizeof(buf)));
		return NULL;
	}
	why = url_problem(n->scalar, schemes);
	if (why != NULL) {
		petal_diags_add(d, n->line, n->col, path, "'%s' is not %s (%s)", n->scalar,
		                expected, why);
		return NULL;
	}
	return petal_xstrdup(n->scalar);
}

/* NULL when `ref` is a branch, tag or commit git accepts and a shell word
   needs no care for, else what is wrong with it. */
static const char *ref_problem(const char *ref)
{
	size_t n = strlen(ref);

	if (n == 0 || n > 255)
		return "it must be 1 to 255 characters long";
	if (strspn(ref, PETAL_LOWER PETAL_UPPER PETAL_DIGIT "._/+-") != n)
		return "it may hold only letters, digits, '.', '_', '/', '+' and '-'";
	if (!strchr(PETAL_LOWER PETAL_UPPER PETAL_DIGIT, ref[0]))
		return "it must start with a letter or digit";
	if (strstr(ref, "..") || strstr(ref, "//") || strstr(ref, "/.") ||
	    ref[n - 1] == '/' || ref[n - 1] == '.')
		return "git refuses '..', '//', a component starting with '.' and a '/' or '.' "
		       "at the end";
	if (n >= 5 && strcmp(ref + n - 5, ".lock") == 0)
		return "git refuses a name ending in .lock";
	return NULL;
}

static char *ref_value(struct petal_diags *d, const struct petal_node *map, const char *path)
{
	const struct petal_node *n = petal_node_get(map, "ref");
	const char *v, *why;

	if (petal_schema_str(d, map, "ref", path, NULL, &v) != 1)
		return NULL;
	why = ref_problem(v);
	if (why != NULL) {
		petal_diags_add(d, n->line, n->col, path, "'%s' is not %s (%s)", v,
		                REF_EXPECTED, why);
		return NULL;
	}
	return petal_xstrdup(v);
}

/* A namespace Spack 1.x takes for .../spack_repo/NAME (Package API v2: a
   Python module name, lowercase, no "__", not a keyword). */
static int namespace_ok(const char *s)
{
	static const char *const keywords[] = {
		"and", "as", "assert", "async", "await", "break", "class", "continue", "def",
		"del", "elif", "else", "except", "finally", "for", "from", "global", "if",
		"import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
		"return", "try", "while", "with", "yield",
	};

	if (!petal_schema_word(s, PETAL_LOWER, PETAL_LOWER PETAL_DIGIT "_", 128) ||
	    strstr(s, "__") != NULL)
		return 0;
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(keywords); i++)
		if (strcmp(s, keywords[i]) == 0)
			return 0;
	return 1;
}

#define NAMESPACE_RULE "a lowercase letter, then lowercase letters, digits and '_' (no \"__\"), " \
	"not a Python keyword"

static void check_spack_version(struct petal_diags *d, const struct petal_node *map,
                                const char *key, const char *path, struct petal_seed *s)
{
	const char *v;

	if (petal_schema_str(d, map, key, path, NULL, &v) != 1)
		return;
	if (petal_spack_builtin_tag(v) != NULL) {
		free(s->spack_version);
		s->spack_version = petal_xstrdup(v);
	} else {
		const struct petal_node *n = petal_node_get(map, key);

		petal_diags_add(d, n->line, n->col, path,
		                "'%s' is not a Spack release petal supports; expected "
		                "1.0.N or 1.1.N (default 1.1.0)", v);
	}
}

/* A repository given as its directory: file:///.../NAME. */
static void repo_from_path(struct petal_diags *d, const struct petal_node *item,
                           const char *path, struct petal_spack_repo *r)
{
	char *url = url_value(d, item, path, local, "a package repository's directory (where "
	                      "its repo.yaml is) as a file:/// URL, or a mapping {name, git, "
	                      "ref} or {name, url}");

	if (url == NULL)
		return;
	if (url[strlen(url) - 1] == '/' || !namespace_ok(strrchr(url, '/') + 1)) {
		petal_diags_add(d, item->line, item->col, path,
		                "'%s' does not end in a repository's name (its namespace: "
		                NAMESPACE_RULE "), e.g. file:///site/spack_repo/lab", url);
		free(url);
		return;
	}
	r->path = url;
	r->name = petal_xstrdup(strrchr(url, '/') + 1);
}

/* A repository given as {name, git, ref} or {name, url}. */
static void repo_from_map(struct petal_diags *d, const struct petal_node *item,
                          const char *path, struct petal_spack_repo *r)
{
	const struct petal_node *git = petal_node_get(item, "git");
	const struct petal_node *url = petal_node_get(item, "url");
	const struct petal_node *ref = petal_node_get(item, "ref");
	char *p;
	const char *v;

	petal_schema_keys(d, item, path, repo_keys);
	p = petal_schema_key(path, "name");
	if (petal_schema_str(d, item, "name", p, "the repository's namespace, e.g. name: lab",
	                     &v) == 1) {
		const struct petal_node *n = petal_node_get(item, "name");

		if (namespace_ok(v))
			r->name = petal_xstrdup(v);
		else
			petal_diags_add(d, n->line, n->col, p, "'%s' is not a repository's "
			                "namespace; expected " NAMESPACE_RULE ", e.g. lab", v);
	}
	free(p);
	if (git != NULL && petal_schema_is_null(git))
		git = NULL;
	if (url != NULL && petal_schema_is_null(url))
		url = NULL;
	if (git != NULL && url != NULL) {
		p = petal_schema_key(path, "url");
		petal_diags_add(d, url->line, url->col, p, "git says where this repository comes "
		                "from too; give one of git (with ref) and url");
		free(p);
		return;
	}
	if (git == NULL && url == NULL) {
		petal_diags_add(d, item->line, item->col, path, "a repository needs git (with ref) "
		                "or url (a tarball), e.g. {name: lab, git: https://git.example.org/"
		                "lab.git, ref: v1.0}");
		return;
	}
	if (url != NULL) {
		p = petal_schema_key(path, "url");
		r->url = url_value(d, url, p, fetchable, "a URL of the repository's tarball "
		                   "(file://, s3:// or https://)");
		free(p);
		if (ref != NULL) {
			p = petal_schema_key(path, "ref");
			petal_diags_add(d, ref->line, ref->col, p, "ref goes with git; a tarball "
			                "(url) has no ref");
			free(p);
		}
		return;
	}
	p = petal_schema_key(path, "git");
	r->git = url_value(d, git, p, git_schemes, GIT_EXPECTED);
	free(p);
	p = petal_schema_key(path, "ref");
	if (ref == NULL || petal_schema_is_null(ref))
		petal_diags_add(d, git->line, git->col, p, "missing; a git repository needs "
		                "%s to check out", REF_EXPECTED);
	else
		r->ref = ref_value(d, item, p);
	free(p);
}

static void check_repos(struct petal_diags *d, const struct petal_node *sp, struct petal_seed *s)
{
	const struct petal_node *l = petal_schema_child(d, sp, "repos", "software.spack.repos",
	                                                PETAL_NODE_LIST, NULL);
	char buf[96];

	if (l == NULL || l->n == 0)
		return;
	s->spack_repos = petal_xcalloc(l->n, sizeof(*s->spack_repos));
	for (size_t i = 0; i < l->n; i++) {
		const struct petal_node *item = l->items[i];
		struct petal_spack_repo r = { .line = item->line, .col = item->col };
		char *path = petal_schema_index("software.spack.repos", i);

		if (item->type == PETAL_NODE_MAP)
			repo_from_map(d, item, path, &r);
		else if (item->type == PETAL_NODE_SCALAR)
			repo_from_path(d, item, path, &r);
		else
			petal_diags_add(d, item->line, item->col, path, "expected a file:/// "
			                "directory or a mapping {name, git, ref} or {name, url}, "
			                "got %s", petal_schema_got(item, buf, sizeof(buf)));
		for (size_t j = 0; r.name != NULL && j < s->n_spack_repos; j++) {
			if (strcmp(s->spack_repos[j].name, r.name) == 0) {
				petal_diags_add(d, item->line, item->col, path, "a repository named "
				                "'%s' is also at software.spack.repos[%zu] (line %d); "
				                "names (namespaces) must be unique", r.name, j,
				                s->spack_repos[j].line);
				break;
			}
		}
		free(path);
		if (r.name != NULL && (r.path != NULL || r.url != NULL ||
		                       (r.git != NULL && r.ref != NULL))) {
			s->spack_repos[s->n_spack_repos++] = r;
			continue;
		}
		free(r.name);
		free(r.path);
		free(r.git);
		free(r.ref);
		free(r.url);
	}
}

/* software.spack.url or software.spack.git (and ref): where Spack comes from. */
static void check_spack_source(struct petal_diags *d, const struct petal_node *sp,
                               struct petal_seed *s)
{
	const struct petal_node *url = petal_node_get(sp, "url");
	const struct petal_node *git = petal_node_get(sp, "git");
	const struct petal_node *ref = petal_node_get(sp, "ref");

	if (url != NULL && petal_schema_is_null(url))
		url = NULL;
	if (git != NULL && petal_schema_is_null(git))
		git = NULL;
	if (ref != NULL && petal_schema_is_null(ref))
		ref = NULL;
	if (url != NULL)
		s->spack_url = url_value(d, url, "software.spack.url", fetchable,
		                         "a URL of a Spack tarball (file://, s3:// or https://)");
	if (git != NULL && url != NULL) {
		petal_diags_add(d, git->line, git->col, "software.spack.git",
		                "software.spack.url says where Spack comes from too; give one of "
		                "url (a tarball) and git (with ref)");
		return;
	}
	if (ref != NULL && git == NULL) {
		petal_diags_add(d, ref->line, ref->col, "software.spack.ref",
		                "ref is what to check out of software.spack.git, and there is no "
		                "git; give git: URL with it, or drop ref");
		return;
	}
	if (git == NULL)
		return;
	s->spack_git = url_value(d, git, "software.spack.git", git_schemes, GIT_EXPECTED);
	if (ref != NULL)
		s->spack_ref = ref_value(d, sp, "software.spack.ref");
}

/* software.spack: where Spack comes from, its package repositories, a source
   mirror (petal-seed(5)). */
static void check_spack(struct petal_diags *d, const struct petal_node *sw, struct petal_seed *s)
{
	const struct petal_node *sp = petal_schema_child(d, sw, "spack", "software.spack",
	                                                 PETAL_NODE_MAP, NULL);
	const struct petal_node *n;
	const char *v;

	if (sp == NULL)
		return;
	petal_schema_keys(d, sp, "software.spack", spack_keys);
	if (petal_node_get(sw, "spack_version") != NULL && petal_node_get(sp, "version") != NULL) {
		n = petal_node_get(sp, "version");
		petal_diags_add(d, n->line, n->col, "software.spack.version",
		                "software.spack_version says it too; give the version once");
	}
	check_spack_version(d, sp, "version", "software.spack.version", s);
	check_spack_source(d, sp, s);
	n = petal_node_get(sp, "source_mirror");
	if (n != NULL && !petal_schema_is_null(n))
		s->source_mirror = url_value(d, n, "software.spack.source_mirror", fetchable,
		                             "a Spack source mirror URL (file://, s3:// or "
		                             "https://)");
	if (petal_schema_str(d, sp, "target", "software.spack.target", NULL, &v) == 1) {
		n = petal_node_get(sp, "target");
		if (petal_schema_word(v, PETAL_LOWER PETAL_UPPER PETAL_DIGIT "_",
		                      PETAL_LOWER PETAL_UPPER PETAL_DIGIT "_", 64))
			s->spack_target = petal_xstrdup(v);
		else
			petal_diags_add(d, n->line, n->col, "software.spack.target",
			                "'%s' is not a Spack target; expected a word of letters, "
			                "digits and '_', e.g. x86_64_v3, zen4 or neoverse_v1", v);
	}
	check_repos(d, sp, s);
}

void petal_seed_check_spack(struct petal_diags *d, const struct petal_node *sw,
                            struct petal_seed *s)
{
	check_spack_version(d, sw, "spack_version", "software.spack_version", s);
	check_spack(d, sw, s);
	/* a git Spack without a ref: the release tag of its version */
	if (s->spack_git != NULL && s->spack_ref == NULL &&
	    (petal_node_get(petal_node_get(sw, "spack"), "ref") == NULL ||
	     petal_schema_is_null(petal_node_get(petal_node_get(sw, "spack"), "ref"))))
		s->spack_ref = petal_xasprintf("v%s", s->spack_version);
}

/* The Spack releases petal renders for, each with the release of Spack's
   builtin package repository (spack/spack-packages) it pins: 1.x reads its
   packages from there, and the scripts pin the same release. */
static const struct {
	const char *series; /* "1.1." matches 1.1.0, 1.1.1, ... */
	const char *builtin_tag;
} spack_releases[] = {
	{ "1.0.", "v2025.07.0" },
	{ "1.1.", "v2025.11.0" },
};

const char *petal_spack_builtin_tag(const char *version)
{
	for (size_t i = 0; version != NULL && i < PETAL_ARRAY_SIZE(spack_releases); i++) {
		size_t n = strlen(spack_releases[i].series);
		const char *patch = version + n;

		if (strncmp(version, spack_releases[i].series, n) == 0 && *patch != '\0' &&
		    strspn(patch, PETAL_DIGIT) == strlen(patch) && strlen(patch) <= 4 &&
		    (patch[0] != '0' || patch[1] == '\0'))
			return spack_releases[i].builtin_tag;
	}
	return NULL;
}

const char *petal_spack_target(const struct petal_seed *seed)
{
	const char *build = seed->build_instance_type ? seed->build_instance_type
	                                               : seed->head_node;

	if (seed->spack_target != NULL)
		return seed->spack_target;
	return strcmp(petal_instance_arch(build), "arm64") == 0 ? "aarch64" : "x86_64_v3";
}
