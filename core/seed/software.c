/* The software section: build settings, the package lists of each tier, the
   binary cache, containers; then the checks across them (a package in two
   places, an AMI with nothing in it). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "schema.h"

static const char *const software_keys[] = { "use_custom_ami", "build", "spack_packages",
	                                     "in_ami", "build_from_source", "binary_cache",
	                                     "containers", "build_parallel",
	                                     "spack_version", "spack", NULL };
static const char *const build_keys[] = { "instance_type", "spot", "timeout", "base_ami",
	                                  "spot_fallback", "instance_profile", "artifacts",
	                                  "tests", NULL };
static const char *const cache_keys[] = { "s3_bucket", "s3_prefix", NULL };
static const char *const container_keys[] = { "name", "image", "modules", NULL };

/* Packages as they are found, with the key path each was found at. */
struct found {
	struct petal_seed_pkg *pkgs;
	char **paths;
	size_t n, cap, cap_paths;
};

/* One list item: a Spack spec; 1 when it parsed. */
static int add_spec(struct petal_diags *d, const struct petal_node *item, const char *path,
                    enum petal_section section, size_t container, struct found *f)
{
	char buf[96];
	if (item->type != PETAL_NODE_SCALAR || petal_schema_is_null(item)) {
		petal_diags_add(d, item->line, item->col, path,
		                "expected a Spack spec such as samtools@1.17, got %s",
		                petal_schema_got(item, buf, sizeof(buf)));
		return 0;
	}
	struct petal_error err = { 0 };
	struct petal_seed_pkg pkg = { .section = section, .container = container,
		                      .line = item->line, .col = item->col };
	if (petal_spec_parse(item->scalar, &pkg.spec, &err) != 0) {
		petal_diags_add(d, item->line, item->col, path,
		                "'%s' is not a valid Spack spec: %s", item->scalar, err.msg);
		return 0;
	}
	pkg.text = petal_spec_format(&pkg.spec);
	size_t n = f->n;
	PETAL_PUSH(f->pkgs, f->n, f->cap, pkg);
	PETAL_PUSH(f->paths, n, f->cap_paths, petal_xstrdup(path));
	return 1;
}

/* A list of specs under `key`; returns how many items the list has. */
static size_t spec_list(struct petal_diags *d, const struct petal_node *map, const char *key,
                        const char *parent, enum petal_section section, size_t container,
                        const char *required, struct found *f)
{
	char *path = petal_schema_key(parent, key);
	const struct petal_node *l = petal_schema_child(d, map, key, path, PETAL_NODE_LIST,
	                                                required);
	size_t n = l ? l->n : 0;
	for (size_t i = 0; i < n; i++) {
		char *ip = petal_schema_index(path, i);
		add_spec(d, l->items[i], ip, section, container, f);
		free(ip);
	}
	free(path);
	return n;
}

/* NULL when `s` is a valid S3 bucket name, else what is wrong with it. */
static const char *bucket_problem(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 63)
		return "it must be 3 to 63 characters long";
	if (strspn(s, PETAL_LOWER PETAL_DIGIT ".-") != n)
		return "it may hold only lowercase letters, digits, dots and hyphens";
	if (!strchr(PETAL_LOWER PETAL_DIGIT, s[0]) || !strchr(PETAL_LOWER PETAL_DIGIT, s[n - 1]))
		return "it must start and end with a letter or digit";
	if (strstr(s, ".."))
		return "it must not hold two adjacent dots";
	if (strstr(s, ".-") || strstr(s, "-."))
		return "a dot must not be next to a hyphen";
	unsigned a, b, c, e;
	char tail;
	if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &e, &tail) == 4)
		return "it must not look like an IP address";
	if (!strncmp(s, "xn--", 4) || !strncmp(s, "sthree-", 7))
		return "the prefixes xn-- and sthree- are reserved";
	if ((n > 8 && !strcmp(s + n - 8, "-s3alias")) || (n > 7 && !strcmp(s + n - 7, "--ol-s3")))
		return "the suffixes -s3alias and --ol-s3 are reserved";
	return NULL;
}

/* A registry path component: [a-z0-9]+ joined by '.', '_', '__' or '-'s. */
static int path_component_ok(const char *s, size_t n)
{
	if (n == 0 || !strchr(PETAL_LOWER PETAL_DIGIT, s[0]) ||
	    !strchr(PETAL_LOWER PETAL_DIGIT, s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (strchr(PETAL_LOWER PETAL_DIGIT, s[i]))
			continue;
		if (!strchr("._-", s[i]))
			return 0;
		if (s[i] == '.' && !strchr(PETAL_LOWER PETAL_DIGIT, s[i + 1]))
			return 0;
	}
	return 1;
}

/* NULL when `ref` is a container image reference
   ([docker://|oras://][host[:port]/]path[:tag][@sha256:digest]). */
static const char *image_problem(const char *ref)
{
	const char *s = ref, *scheme = strstr(ref, "://");
	if (scheme) {
		if (strncmp(ref, "docker://", 9) && strncmp(ref, "oras://", 7))
			return "the only schemes are docker:// and oras://";
		s = scheme + 3;
	}
	size_t n = strcspn(s, "@");
	if (s[n]) {
		const char *dg = s + n + 1;
		if (strncmp(dg, "sha256:", 7) || strlen(dg + 7) != 64 ||
		    strspn(dg + 7, PETAL_DIGIT "abcdef") != 64)
			return "a digest is @sha256: and 64 hex digits";
	}
	if (n == 0 || n > 255)
		return "the name must be 1 to 255 characters";
	char *name = petal_xstrndup(s, n);
	const char *problem = NULL;
	char *slash = strrchr(name, '/');
	char *colon = strrchr(name, ':');
	if (colon && (!slash || colon > slash)) {
		*colon = '\0';
		const char *tag = colon + 1;
		size_t tl = strlen(tag);
		if (tl == 0 || tl > 128 || tag[0] == '.' || tag[0] == '-' ||
		    strspn(tag, PETAL_LOWER PETAL_UPPER PETAL_DIGIT "_.-") != tl)
			problem = "a tag is 1 to 128 letters, digits, '_', '.' or '-'";
	}
	char *p = name;
	char *first_slash = strchr(name, '/');
	if (!problem && first_slash) {
		/* the first component is a registry host when it looks like one */
		size_t hl = (size_t)(first_slash - name);
		if (memchr(name, '.', hl) || memchr(name, ':', hl) ||
		    (hl == 9 && !strncmp(name, "localhost", 9))) {
			char *port = memchr(name, ':', hl);
			size_t host_len = port ? (size_t)(port - name) : hl;
			if (host_len == 0 ||
			    strspn(name, PETAL_LOWER PETAL_UPPER PETAL_DIGIT ".-") < host_len ||
			    (port && (hl - host_len < 2 ||
			              strspn(port + 1, PETAL_DIGIT) != hl - host_len - 1)))
				problem = "the registry host is not a host name[:port]";
			p = first_slash + 1;
		}
	}
	while (!problem) {
		size_t cl = strcspn(p, "/");
		if (!path_component_ok(p, cl))
			problem = "a repository path is lowercase letters and digits, separated "
			          "by '/', '.', '_' or '-'";
		if (!p[cl])
			break;
		p += cl + 1;
	}
	free(name);
	return problem;
}

static int container_name_ok(const char *s)
{
	return petal_schema_word(s, PETAL_LOWER PETAL_DIGIT, PETAL_LOWER PETAL_DIGIT "._-", 128);
}

static void check_container(struct petal_diags *d, const struct petal_node *c,
                            const char *path, size_t idx, struct petal_container *out,
                            struct found *f)
{
	const char *v;
	out->line = c->line;
	out->col = c->col;
	petal_schema_keys(d, c, path, container_keys);
	char *p = petal_schema_key(path, "name");
	if (petal_schema_str(d, c, "name", p, "the container's name, e.g. name: samtools",
	                     &v) == 1) {
		const struct petal_node *n = petal_node_get(c, "name");
		if (container_name_ok(v))
			out->name = petal_xstrdup(v);
		else
			petal_diags_add(d, n->line, n->col, p, "'%s' is not a container name; "
			                "expected lowercase letters, digits, '.', '_' and '-', "
			                "starting with a letter or digit", v);
	}
	free(p);
	p = petal_schema_key(path, "image");
	if (petal_schema_str(d, c, "image", p, "an image reference, e.g. image: "
	                     "123456789012.dkr.ecr.us-east-1.amazonaws.com/bio/samtools:1.17",
	                     &v) == 1) {
		const struct petal_node *n = petal_node_get(c, "image");
		const char *why = image_problem(v);
		if (why)
			petal_diags_add(d, n->line, n->col, p, "'%s' is not a container image "
			                "reference (%s); expected e.g. 123456789012.dkr.ecr."
			                "us-east-1.amazonaws.com/bio/samtools:1.17", v, why);
		else
			out->image = petal_xstrdup(v);
	}
	free(p);

	size_t before = f->n;
	size_t n = spec_list(d, c, "modules", path, PETAL_SECTION_CONTAINER, idx,
	                     "a list of the Spack specs the container provides, e.g. "
	                     "modules: [samtools@1.17]", f);
	if (n == 0 && petal_node_get(c, "modules") &&
	    !petal_schema_is_null(petal_node_get(c, "modules")) &&
	    petal_node_get(c, "modules")->type == PETAL_NODE_LIST) {
		const struct petal_node *m = petal_node_get(c, "modules");
		p = petal_schema_key(path, "modules");
		petal_diags_add(d, m->line, m->col, p, "an empty list; expected at least one "
		                "Spack spec the container provides");
		free(p);
	}
	out->modules = petal_xcalloc(f->n - before + 1, sizeof(char *));
	for (size_t i = before; i < f->n; i++)
		out->modules[out->n_modules++] = petal_xstrdup(f->pkgs[i].text);
}

static void check_containers(struct petal_diags *d, const struct petal_node *sw,
                             struct petal_seed *s, struct found *f)
{
	const struct petal_node *l = petal_schema_child(d, sw, "containers", "software.containers",
	                                                PETAL_NODE_LIST, NULL);
	if (!l || l->n == 0)
		return;
	s->containers = petal_xcalloc(l->n, sizeof(*s->containers));
	s->n_containers = l->n;
	for (size_t i = 0; i < l->n; i++) {
		const struct petal_node *c = l->items[i];
		char *path = petal_schema_index("software.containers", i);
		char buf[96];
		if (c->type != PETAL_NODE_MAP) {
			petal_diags_add(d, c->line, c->col, path,
			                "expected a mapping (name, image, modules), got %s",
			                petal_schema_got(c, buf, sizeof(buf)));
			free(path);
			continue;
		}
		check_container(d, c, path, i, &s->containers[i], f);
		const char *name = s->containers[i].name;
		for (size_t j = 0; name && j < i; j++) {
			if (s->containers[j].name && !strcmp(s->containers[j].name, name)) {
				const struct petal_node *n = petal_node_get(c, "name");
				char *p = petal_schema_key(path, "name");
				petal_diags_add(d, n->line, n->col, p, "container '%s' is also "
				                "defined at software.containers[%zu] (line %d); "
				                "container names must be unique", name, j,
				                s->containers[j].line);
				free(p);
				break;
			}
		}
		free(path);
	}
}

/* software.build.tests: shell commands the build instance runs in a login
   shell before it says it succeeded (doc/render.md, "Status and report"). */
static void check_build_tests(struct petal_diags *d, const struct petal_node *b,
                              struct petal_seed *s)
{
	const struct petal_node *n = petal_schema_child(d, b, "tests", "software.build.tests",
	                                                PETAL_NODE_LIST, NULL);
	size_t cap = 0;

	for (size_t i = 0; n != NULL && i < n->n; i++) {
		const struct petal_node *t = n->items[i];
		const char *v = petal_node_str(t);

		if (t->type != PETAL_NODE_SCALAR || v == NULL || v[strspn(v, " \t")] == '\0') {
			char *path = petal_schema_index("software.build.tests", i);
			char got[96];

			petal_diags_add(d, t->line, t->col, path, "expected a shell command (a "
			                "non-empty string), e.g. 'hello-app | grep -q hello'; got %s",
			                petal_schema_got(t, got, sizeof(got)));
			free(path);
			continue;
		}
		PETAL_PUSH(s->build_tests, s->n_build_tests, cap, petal_xstrdup(v));
	}
}

static void check_build(struct petal_diags *d, const struct petal_node *sw,
                        struct petal_seed *s)
{
	const struct petal_node *b = petal_schema_child(d, sw, "build", "software.build",
	                                                PETAL_NODE_MAP, NULL);
	if (!b)
		return;
	petal_schema_keys(d, b, "software.build", build_keys);
	const char *v;
	if (petal_schema_str(d, b, "instance_type", "software.build.instance_type", NULL,
	                     &v) == 1) {
		const struct petal_node *n = petal_node_get(b, "instance_type");
		if (petal_schema_instance_type(v))
			s->build_instance_type = petal_xstrdup(v);
		else
			petal_diags_add(d, n->line, n->col, "software.build.instance_type",
			                "'%s' is not an instance type; expected family.size, e.g. "
			                "c5.18xlarge" PETAL_INSTANCE_SIZES, v);
	}
	petal_schema_bool(d, b, "spot", "software.build.spot", &s->build_spot);
	petal_schema_bool(d, b, "spot_fallback", "software.build.spot_fallback",
	                  &s->build_spot_fallback);
	if (petal_schema_str(d, b, "instance_profile", "software.build.instance_profile", NULL,
	                     &v) == 1) {
		const struct petal_node *n = petal_node_get(b, "instance_profile");

		/* a name ([\w+=,.@-], 128) or an instance profile's ARN */
		if (petal_schema_word(v, PETAL_LOWER PETAL_UPPER PETAL_DIGIT "+=,.@_-:/",
		                      PETAL_LOWER PETAL_UPPER PETAL_DIGIT "+=,.@_-:/", 2048))
			s->build_instance_profile = petal_xstrdup(v);
		else
			petal_diags_add(d, n->line, n->col, "software.build.instance_profile",
			                "'%s' is not an instance profile's name or ARN", v);
	}
	if (petal_schema_str(d, b, "artifacts", "software.build.artifacts", NULL, &v) == 1) {
		const struct petal_node *n = petal_node_get(b, "artifacts");
		size_t bl = strncmp(v, "s3://", 5) == 0 ? strcspn(v + 5, "/") : 0;

		if (bl >= 3 && bl <= 63 && strspn(v + 5, "abcdefghijklmnopqrstuvwxyz0123456789.-") >= bl &&
		    !strpbrk(v, " \t\n\\\"\'"))
			s->build_artifacts = petal_xstrdup(v);
		else
			petal_diags_add(d, n->line, n->col, "software.build.artifacts",
			                "'%s' is not an s3://bucket/prefix URL", v);
	}
	if (petal_schema_str(d, b, "base_ami", "software.build.base_ami", NULL, &v) == 1) {
		const struct petal_node *n = petal_node_get(b, "base_ami");
		char *why = petal_seed_ami_problem(v);
		if (why)
			petal_diags_add(d, n->line, n->col, "software.build.base_ami", "%s", why);
		else
			s->base_ami = petal_xstrdup(v);
		free(why);
	}
	if (petal_schema_str(d, b, "timeout", "software.build.timeout", NULL, &v) == 1) {
		const struct petal_node *n = petal_node_get(b, "timeout");
		long secs = petal_parse_duration(v);
		if (secs <= 0)
			petal_diags_add(d, n->line, n->col, "software.build.timeout",
			                "'%s' is not a duration; expected a positive number with a "
			                "unit (s, m, h, d), e.g. 12h, 90m or 1h30m, at most a year",
			                v);
		else
			s->build_timeout_s = secs;
	}
	check_build_tests(d, b, s);
}

static void check_cache(struct petal_diags *d, const struct petal_node *sw,
                        struct petal_seed *s)
{
	const struct petal_node *c = petal_schema_child(
		d, sw, "binary_cache", "software.binary_cache", PETAL_NODE_MAP, NULL);
	if (!c)
		return;
	petal_schema_keys(d, c, "software.binary_cache", cache_keys);
	const char *v;
	if (petal_schema_str(d, c, "s3_bucket", "software.binary_cache.s3_bucket",
	                     "an S3 bucket name, e.g. s3_bucket: my-lab-spack-cache", &v) == 1) {
		const struct petal_node *n = petal_node_get(c, "s3_bucket");
		const char *why = bucket_problem(v);
		if (why)
			petal_diags_add(d, n->line, n->col, "software.binary_cache.s3_bucket",
			                "'%s' is not a valid S3 bucket name: %s", v, why);
		else
			s->cache_bucket = petal_xstrdup(v);
	}
	if (petal_schema_str(d, c, "s3_prefix", "software.binary_cache.s3_prefix", NULL,
	                     &v) == 1) {
		const struct petal_node *n = petal_node_get(c, "s3_prefix");
		char *prefix;
		const char *why = petal_key_prefix_normalize(v, &prefix);
		if (why) {
			petal_diags_add(d, n->line, n->col, "software.binary_cache.s3_prefix",
			                "'%s' is not a key prefix: %s; expected a path such as "
			                "caches/bioinformatics", v, why);
		} else {
			free(s->cache_prefix);
			s->cache_prefix = prefix;
		}
	}
}

/* true: every core (0), false: one job, N: at most N jobs (0 too is every core) */
static void check_build_parallel(struct petal_diags *d, const struct petal_node *sw,
                                 struct petal_seed *s)
{
	const struct petal_node *n = petal_node_get(sw, "build_parallel");
	int b = petal_schema_bool_value(n);
	if (b >= 0) {
		s->build_parallel = b ? 0 : 1;
		return;
	}
	if (n && n->type == PETAL_NODE_SCALAR && !n->quoted &&
	    strspn(n->scalar, PETAL_DIGIT "+-.eE") != strlen(n->scalar)) {
		petal_diags_add(d, n->line, n->col, "software.build_parallel",
		                "'%s' is not a number of jobs; expected true (every core), false "
		                "(one job) or an integer from 1 to 4096 that caps the jobs",
		                n->scalar);
		return;
	}
	petal_schema_int(d, sw, "build_parallel", "software.build_parallel", 0, 4096,
	                 &s->build_parallel);
}

static int pkg_pos_cmp(const void *a, const void *b)
{
	const struct petal_seed_pkg *const *x = a, *const *y = b;
	if ((*x)->line != (*y)->line)
		return (*x)->line < (*y)->line ? -1 : 1;
	return ((*x)->col > (*y)->col) - ((*x)->col < (*y)->col);
}

/* by the spec in its normal form: gcc@11.3.0 and gcc@12.3.0 are two packages */
static int pkg_spec_cmp(const void *a, const void *b)
{
	const struct petal_seed_pkg *const *x = a, *const *y = b;
	int c = strcmp((*x)->text, (*y)->text);
	return c ? c : pkg_pos_cmp(a, b);
}

/* A container's module named as a Spack package of the seed: `module load
   NAME` could not tell the two apart. */
static void check_module_names(struct petal_diags *d, const struct found *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct petal_seed_pkg *m = &f->pkgs[i];
		if (m->section != PETAL_SECTION_CONTAINER || !m->spec.name)
			continue;
		for (size_t j = 0; j < f->n; j++) {
			const struct petal_seed_pkg *p = &f->pkgs[j];
			/* the same spec twice is said by take_packages */
			if (p->section == PETAL_SECTION_CONTAINER || !p->spec.name ||
			    strcmp(p->spec.name, m->spec.name) != 0 || strcmp(p->text, m->text) == 0)
				continue;
			petal_diags_add(d, m->line, m->col, f->paths[i],
			                "module '%s' of a container is also the Spack package '%s' of "
			                "%s (line %d): `module load %s` could not tell them apart; "
			                "keep one", m->spec.name, p->text, f->paths[j], p->line,
			                m->spec.name);
			break;
		}
	}
}

/* Moves the found packages into the seed in file order, reporting each
   spec listed a second time against its first listing. */
static void take_packages(struct petal_diags *d, struct petal_seed *s, struct found *f)
{
	const struct petal_seed_pkg **order = petal_xmalloc((f->n + 1) * sizeof(*order));
	for (size_t i = 0; i < f->n; i++)
		order[i] = &f->pkgs[i];
	qsort(order, f->n, sizeof(*order), pkg_spec_cmp);
	size_t first = 0;
	for (size_t i = 1; i < f->n; i++) {
		if (strcmp(order[i]->text, order[first]->text)) {
			first = i;
			continue;
		}
		const struct petal_seed_pkg *p = order[i], *q = order[first];
		petal_diags_add(d, p->line, p->col, f->paths[p - f->pkgs],
		                "'%s' is also listed at %s (line %d, column %d); list each spec "
		                "once", p->text, f->paths[q - f->pkgs], q->line, q->col);
	}
	qsort(order, f->n, sizeof(*order), pkg_pos_cmp);
	s->pkgs = petal_xcalloc(f->n + 1, sizeof(*s->pkgs));
	for (size_t i = 0; i < f->n; i++)
		s->pkgs[i] = *order[i];
	s->n_pkgs = f->n;
	free(order);
	for (size_t i = 0; i < f->n; i++)
		free(f->paths[i]);
	free(f->paths);
	free(f->pkgs);
}

void petal_seed_check_software(struct petal_diags *d, struct petal_seed *s)
{
	struct found f = { 0 };
	const struct petal_node *sw = petal_schema_child(d, s->root, "software", "software",
	                                                 PETAL_NODE_MAP, NULL);
	petal_schema_keys(d, sw, "software", software_keys);
	petal_schema_bool(d, sw, "use_custom_ami", "software.use_custom_ami",
	                  &s->use_custom_ami);
	check_build(d, sw, s);
	size_t n_spack = spec_list(d, sw, "spack_packages", "software",
	                           PETAL_SECTION_SPACK_PACKAGES, 0, NULL, &f);
	size_t n_ami = spec_list(d, sw, "in_ami", "software", PETAL_SECTION_IN_AMI, 0, NULL, &f);
	spec_list(d, sw, "build_from_source", "software", PETAL_SECTION_BUILD_FROM_SOURCE, 0,
	          NULL, &f);
	check_cache(d, sw, s);
	check_containers(d, sw, s, &f);
	check_build_parallel(d, sw, s);
	petal_seed_check_spack(d, sw, s);
	if (s->use_custom_ami && n_spack == 0 && n_ami == 0) {
		const struct petal_node *n = petal_node_get(sw, "use_custom_ami");
		petal_diags_add(d, n->line, n->col, "software.use_custom_ami",
		                "use_custom_ami is true but nothing goes into the AMI; expected "
		                "packages under software.in_ami or software.spack_packages");
	}
	check_module_names(d, &f);
	take_packages(d, s, &f);
}
