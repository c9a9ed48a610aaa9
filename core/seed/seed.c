/* The seed schema: cluster, network, compute and plugins here; software in
   software.c, estimates in estimates.c.  Every problem becomes a diagnostic;
   validation goes on after one so that a run reports them all. */
#include "config.h"

#include "seed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../util/util.h"
#include "schema.h"

#define DEFAULT_CLOUD "aws"
#define DEFAULT_OS "alinux2023"
#define DEFAULT_HEAD_NODE "c5.xlarge"
#define DEFAULT_QUEUE_TYPE "c5.xlarge"
#define DEFAULT_CACHE_PREFIX "spack-cache"
#define DEFAULT_BUILD_TIMEOUT (12L * 3600)

static const char *const top_keys[] = { "cluster", "network", "compute", "software",
	                                "plugins", "estimates", NULL };
static const char *const cluster_keys[] = { "name", "region", "cloud", "os",
	                                    "pcluster_version", NULL };
static const char *const network_keys[] = { "subnet_id", "key_name", NULL };
static const char *const compute_keys[] = { "head_node", "custom_ami", "queues", NULL };
static const char *const queue_keys[] = { "name", "instance_types", "min_count",
	                                  "max_count", "capacity", NULL };
static const char *const os_names[] = { "alinux2", "alinux2023", "ubuntu2004",
	                                "ubuntu2204", "ubuntu2404", "rhel8", "rhel9",
	                                "rocky8", "rocky9", NULL };
static const char *const capacities[] = { "ondemand", "spot", NULL };

/* us-east-1, eu-west-2, ap-southeast-1, us-gov-west-1, us-isob-east-1 */
static int region_ok(const char *s)
{
	size_t n = strlen(s), parts = 0;
	if (n < 6 || n > 32)
		return 0;
	char *copy = petal_xstrdup(s), *save = NULL, *last = NULL;
	int ok = 1;
	for (char *p = strtok_r(copy, "-", &save); p; p = strtok_r(NULL, "-", &save)) {
		if (parts == 0 && strlen(p) != 2)
			ok = 0;
		if (!petal_schema_word(p, PETAL_LOWER PETAL_DIGIT, PETAL_LOWER PETAL_DIGIT, 16))
			ok = 0;
		if (parts > 0 && last && strspn(last, PETAL_LOWER) != strlen(last))
			ok = 0;
		last = p;
		parts++;
	}
	if (parts < 3 || !last || strspn(last, PETAL_DIGIT) != strlen(last) ||
	    strspn(copy, PETAL_LOWER) != 2 || s[0] == '-' || s[n - 1] == '-' ||
	    strstr(s, "--"))
		ok = 0;
	free(copy);
	return ok;
}

/* A one-of value: 1 when in `names`, else a diagnostic with a did-you-mean. */
static int check_enum(struct petal_diags *d, const struct petal_node *map, const char *key,
                      const char *path, const char *what, const char *const *names)
{
	const struct petal_node *n = petal_node_get(map, key);
	for (size_t i = 0; names[i]; i++)
		if (!strcmp(n->scalar, names[i]))
			return 1;
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	for (size_t i = 0; names[i]; i++)
		petal_strbuf_printf(&sb, "%s%s", i ? ", " : "", names[i]);
	const char *hint = petal_did_you_mean(n->scalar, names);
	if (hint)
		petal_diags_add(d, n->line, n->col, path,
		                "'%s' is not %s; did you mean '%s'? (expected one of: %s)",
		                n->scalar, what, hint, petal_strbuf_str(&sb));
	else
		petal_diags_add(d, n->line, n->col, path, "'%s' is not %s; expected one of: %s",
		                n->scalar, what, petal_strbuf_str(&sb));
	petal_strbuf_release(&sb);
	return 0;
}

/* Read key as a string and, when `valid` rejects it, report `expect`. */
static const char *get_checked(struct petal_diags *d, const struct petal_node *map,
                               const char *parent, const char *key, const char *required,
                               int (*valid)(const char *), const char *expect)
{
	const char *v = NULL;
	char *path = petal_schema_key(parent, key);
	if (petal_schema_str(d, map, key, path, required, &v) == 1 && valid && !valid(v)) {
		const struct petal_node *n = petal_node_get(map, key);
		petal_diags_add(d, n->line, n->col, path, "'%s' %s", v, expect);
		v = NULL;
	}
	free(path);
	return v;
}

static int cluster_name_ok(const char *s)
{
	return petal_schema_word(s, PETAL_LOWER PETAL_UPPER,
	                         PETAL_LOWER PETAL_UPPER PETAL_DIGIT "-", 60);
}

static int cloud_ok(const char *s)
{
	return petal_schema_word(s, PETAL_LOWER PETAL_DIGIT "-", PETAL_LOWER PETAL_DIGIT "-", 64);
}

/* N.N.N, each a number without a leading zero: ParallelCluster's releases */
static int pcluster_version_ok(const char *s)
{
	for (int part = 0; part < 3; part++) {
		size_t n = strspn(s, PETAL_DIGIT);
		if (n == 0 || n > 4 || (n > 1 && s[0] == '0'))
			return 0;
		s += n;
		if (part < 2 && *s++ != '.')
			return 0;
	}
	return *s == '\0';
}

static void check_cluster(struct petal_diags *d, struct petal_seed *s)
{
	const struct petal_node *c = petal_schema_child(
		d, s->root, "cluster", "cluster", PETAL_NODE_MAP,
		"a cluster section with at least name and region");
	if (!c)
		return;
	petal_schema_keys(d, c, "cluster", cluster_keys);
	const char *v;
	v = get_checked(d, c, "cluster", "name", "the cluster's name, e.g. name: bio-hybrid",
	                cluster_name_ok, "is not a valid cluster name; expected a letter "
	                "followed by up to 59 letters, digits or hyphens");
	s->name = petal_xstrdup(v);
	v = get_checked(d, c, "cluster", "region", "an AWS region, e.g. region: us-east-1",
	                region_ok, "is not an AWS region; expected a region such as "
	                "us-east-1, eu-west-2 or ap-southeast-1");
	s->region = petal_xstrdup(v);
	v = get_checked(d, c, "cluster", "cloud", NULL, cloud_ok,
	                "is not a cloud plugin name; expected lowercase letters, digits "
	                "and hyphens, e.g. aws or local");
	if (v) {
		free(s->cloud);
		s->cloud = petal_xstrdup(v);
	}
	v = get_checked(d, c, "cluster", "pcluster_version", NULL, pcluster_version_ok,
	                "is not a ParallelCluster version; expected three numbers, e.g. "
	                PETAL_PCLUSTER_DEFAULT_VERSION);
	if (v) {
		free(s->pcluster_version);
		s->pcluster_version = petal_xstrdup(v);
	}
	if (petal_schema_str(d, c, "os", "cluster.os", NULL, &v) == 1 &&
	    check_enum(d, c, "os", "cluster.os", "a supported operating system", os_names)) {
		free(s->os);
		s->os = petal_xstrdup(v);
	}
}

static int subnet_ok(const char *s)
{
	if (strncmp(s, "subnet-", 7) != 0)
		return 0;
	size_t n = strlen(s + 7);
	return (n == 8 || n == 17) && strspn(s + 7, PETAL_DIGIT "abcdef") == n;
}

static int key_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static void check_network(struct petal_diags *d, struct petal_seed *s)
{
	const struct petal_node *n = petal_schema_child(d, s->root, "network", "network",
	                                                PETAL_NODE_MAP, NULL);
	if (!n)
		return;
	petal_schema_keys(d, n, "network", network_keys);
	s->subnet_id = petal_xstrdup(get_checked(
		d, n, "network", "subnet_id", NULL, subnet_ok,
		"is not a subnet id; expected subnet- and 8 or 17 hex digits"));
	s->key_name = petal_xstrdup(get_checked(
		d, n, "network", "key_name", NULL, key_name_ok,
		"is not an EC2 key pair name; expected 1 to 255 printable ASCII characters"));
}

static int ami_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 3 && n <= 128 &&
	       strspn(s, PETAL_LOWER PETAL_UPPER PETAL_DIGIT "()[] ./'@_-") == n;
}

char *petal_seed_ami_problem(const char *s)
{
	int is_ami = !strncmp(s, "ami-", 4);
	const char *hex = is_ami ? s + 4 : "";
	size_t nhex = strlen(hex);
	if (is_ami && nhex && strspn(hex, PETAL_DIGIT "abcdef") == nhex) {
		if (nhex != 8 && nhex != 17)
			return petal_xasprintf(
				"%s has %zu hex digits; an AMI id is ami- followed by 8 or 17 hex "
				"digits, e.g. ami-0123456789abcdef0 (copy it from the EC2 console or "
				"'aws ec2 describe-images'), or give the AMI's name", s, nhex);
		return NULL;
	}
	if (!ami_name_ok(s))
		return petal_xasprintf("'%s' is neither an AMI id (ami- and 8 or 17 hex digits) "
		                       "nor an AMI name (3 to 128 letters, digits, spaces and ( ) "
		                       "[ ] . / ' @ _ -)", s);
	return NULL;
}

static void check_ami(struct petal_diags *d, const struct petal_node *c,
                      struct petal_seed *s)
{
	const char *v;
	if (petal_schema_str(d, c, "custom_ami", "compute.custom_ami", NULL, &v) != 1)
		return;
	const struct petal_node *n = petal_node_get(c, "custom_ami");
	char *why = petal_seed_ami_problem(v);
	if (why) {
		petal_diags_add(d, n->line, n->col, "compute.custom_ami", "%s", why);
		free(why);
		return;
	}
	s->custom_ami = petal_xstrdup(v);
}

static int queue_name_ok(const char *s)
{
	return petal_schema_word(s, PETAL_LOWER, PETAL_LOWER PETAL_DIGIT "-", 25) &&
	       strcmp(s, "default") != 0;
}

static void check_queue(struct petal_diags *d, const struct petal_node *q, const char *path,
                        struct petal_queue *out)
{
	const char *v;
	out->line = q->line;
	out->col = q->col;
	petal_schema_keys(d, q, path, queue_keys);
	char *p = petal_schema_key(path, "name");
	if (petal_schema_str(d, q, "name", p, "a queue name, e.g. name: compute", &v) == 1) {
		const struct petal_node *n = petal_node_get(q, "name");
		if (!strcmp(v, "default"))
			petal_diags_add(d, n->line, n->col, p, "'default' is reserved by "
			                "ParallelCluster; expected another queue name");
		else if (!queue_name_ok(v))
			petal_diags_add(d, n->line, n->col, p,
			                "'%s' is not a valid queue name; expected a lowercase letter "
			                "followed by lowercase letters, digits or hyphens, at most "
			                "25 characters", v);
		else
			out->name = petal_xstrdup(v);
	}
	free(p);

	p = petal_schema_key(path, "instance_types");
	const struct petal_node *types = petal_schema_child(
		d, q, "instance_types", p, PETAL_NODE_LIST,
		"a list of instance types, e.g. instance_types: [c5.18xlarge]");
	if (types && types->n == 0)
		petal_diags_add(d, types->line, types->col, p,
		                "an empty list; expected at least one instance type");
	if (types)
		out->instance_types = petal_xcalloc(types->n, sizeof(char *));
	for (size_t i = 0; types && i < types->n; i++) {
		const struct petal_node *t = types->items[i];
		char *ip = petal_schema_index(p, i);
		char buf[96];
		if (t->type != PETAL_NODE_SCALAR || petal_schema_is_null(t))
			petal_diags_add(d, t->line, t->col, ip, "expected an instance type, got %s",
			                petal_schema_got(t, buf, sizeof(buf)));
		else if (!petal_schema_instance_type(t->scalar))
			petal_diags_add(d, t->line, t->col, ip, "'%s' is not an instance type; "
			                "expected family.size, e.g. c5.18xlarge" PETAL_INSTANCE_SIZES,
			                t->scalar);
		else
			out->instance_types[out->n_instance_types++] = petal_xstrdup(t->scalar);
		free(ip);
	}
	free(p);

	p = petal_schema_key(path, "min_count");
	petal_schema_int(d, q, "min_count", p, 0, 10000, &out->min_count);
	free(p);
	p = petal_schema_key(path, "max_count");
	if (petal_schema_int(d, q, "max_count", p, 1, 10000, &out->max_count) == 1 &&
	    out->max_count < out->min_count) {
		const struct petal_node *n = petal_node_get(q, "max_count");
		petal_diags_add(d, n->line, n->col, p, "%d is less than min_count %d; expected "
		                "max_count >= min_count", out->max_count, out->min_count);
	}
	free(p);
	p = petal_schema_key(path, "capacity");
	if (petal_schema_str(d, q, "capacity", p, NULL, &v) == 1 &&
	    check_enum(d, q, "capacity", p, "a capacity type", capacities))
		out->capacity = strcmp(v, "spot") ? PETAL_CAPACITY_ONDEMAND : PETAL_CAPACITY_SPOT;
	free(p);
}

/* One architecture for the whole cluster: ParallelCluster runs the head node
   and every queue from one image, and what a build instance compiles must run
   on them. */
static void check_arch(struct petal_diags *d, const struct petal_seed *s)
{
	const char *arch = petal_instance_arch(s->head_node);
	const struct petal_node *c = petal_node_get(s->root, "compute");
	const struct petal_node *qs = c ? petal_node_get(c, "queues") : NULL;
	for (size_t i = 0; qs && qs->type == PETAL_NODE_LIST && i < qs->n; i++) {
		const struct petal_node *q = qs->items[i];
		const struct petal_node *ts = q->type == PETAL_NODE_MAP ?
		                              petal_node_get(q, "instance_types") : NULL;
		for (size_t j = 0; ts && ts->type == PETAL_NODE_LIST && j < ts->n; j++) {
			const struct petal_node *t = ts->items[j];
			if (t->type != PETAL_NODE_SCALAR || !petal_schema_instance_type(t->scalar) ||
			    !strcmp(petal_instance_arch(t->scalar), arch))
				continue;
			char path[96];
			snprintf(path, sizeof(path), "compute.queues[%zu].instance_types[%zu]", i, j);
			petal_diags_add(d, t->line, t->col, path,
			                "%s is %s but the head node %s is %s: one cluster runs one "
			                "architecture; pick a %s type", t->scalar,
			                petal_instance_arch(t->scalar), s->head_node, arch, arch);
		}
	}
	const struct petal_node *sw = petal_node_get(s->root, "software");
	const struct petal_node *b = sw ? petal_node_get(sw, "build") : NULL;
	const struct petal_node *t = b ? petal_node_get(b, "instance_type") : NULL;
	if (t && s->build_instance_type && strcmp(petal_instance_arch(s->build_instance_type), arch))
		petal_diags_add(d, t->line, t->col, "software.build.instance_type",
		                "%s is %s but the head node %s is %s: what it builds would not "
		                "run on the cluster; pick a %s type (e.g. %s)",
		                s->build_instance_type, petal_instance_arch(s->build_instance_type),
		                s->head_node, arch, arch,
		                strcmp(arch, "arm64") ? "c5.18xlarge" : "c7g.16xlarge");
}

static void check_compute(struct petal_diags *d, struct petal_seed *s)
{
	const struct petal_node *c = petal_schema_child(d, s->root, "compute", "compute",
	                                                PETAL_NODE_MAP, NULL);
	petal_schema_keys(d, c, "compute", compute_keys);
	const char *v = get_checked(d, c, "compute", "head_node", NULL,
	                            petal_schema_instance_type,
	                            "is not an instance type; expected family.size, e.g. "
	                            "c5.xlarge" PETAL_INSTANCE_SIZES);
	if (v) {
		free(s->head_node);
		s->head_node = petal_xstrdup(v);
	}
	check_ami(d, c, s);

	const struct petal_node *qs = petal_schema_child(d, c, "queues", "compute.queues",
	                                                 PETAL_NODE_LIST, NULL);
	if (qs && qs->n == 0)
		petal_diags_add(d, qs->line, qs->col, "compute.queues",
		                "an empty list; expected at least one queue (or no queues key "
		                "for the default queue)");
	if (!qs || qs->n == 0) {
		s->queues = petal_xcalloc(1, sizeof(*s->queues));
		s->n_queues = 1;
		s->queues[0].name = petal_xstrdup("compute");
		s->queues[0].instance_types = petal_xcalloc(1, sizeof(char *));
		s->queues[0].instance_types[0] = petal_xstrdup(DEFAULT_QUEUE_TYPE);
		s->queues[0].n_instance_types = 1;
		s->queues[0].max_count = 10;
		return;
	}
	s->queues = petal_xcalloc(qs->n, sizeof(*s->queues));
	s->n_queues = qs->n;
	for (size_t i = 0; i < qs->n; i++) {
		const struct petal_node *q = qs->items[i];
		struct petal_queue *out = &s->queues[i];
		char *path = petal_schema_index("compute.queues", i);
		char buf[96];
		out->max_count = 10;
		if (q->type != PETAL_NODE_MAP) {
			petal_diags_add(d, q->line, q->col, path,
			                "expected a mapping (name, instance_types, ...), got %s",
			                petal_schema_got(q, buf, sizeof(buf)));
			free(path);
			continue;
		}
		check_queue(d, q, path, out);
		for (size_t j = 0; out->name && j < i; j++) {
			if (s->queues[j].name && !strcmp(s->queues[j].name, out->name)) {
				const struct petal_node *n = petal_node_get(q, "name");
				char *p = petal_schema_key(path, "name");
				petal_diags_add(d, n->line, n->col, p,
				                "queue '%s' is also defined at compute.queues[%zu] "
				                "(line %d); queue names must be unique", out->name, j,
				                s->queues[j].line);
				free(p);
				break;
			}
		}
		free(path);
	}
}

static void check_plugins(struct petal_diags *d, const struct petal_node *root)
{
	const struct petal_node *p = petal_schema_child(d, root, "plugins", "plugins",
	                                                PETAL_NODE_MAP, NULL);
	for (size_t i = 0; p && i < p->n; i++) {
		char *path = petal_schema_key("plugins", p->keys[i]);
		const struct petal_node *v = p->items[i];
		char buf[96];
		if (!cloud_ok(p->keys[i]))
			petal_diags_add(d, p->key_line[i], p->key_col[i], path,
			                "'%s' is not a plugin name; expected lowercase letters, "
			                "digits and hyphens", p->keys[i]);
		else if (v->type != PETAL_NODE_MAP)
			petal_diags_add(d, v->line, v->col, path,
			                "expected a mapping of the plugin's settings, got %s",
			                petal_schema_got(v, buf, sizeof(buf)));
		free(path);
	}
}

void petal_seed_free(struct petal_seed *s)
{
	if (!s)
		return;
	free(s->path);
	petal_node_free(s->root);
	free(s->name);
	free(s->region);
	free(s->cloud);
	free(s->os);
	free(s->pcluster_version);
	free(s->subnet_id);
	free(s->key_name);
	free(s->head_node);
	free(s->custom_ami);
	for (size_t i = 0; i < s->n_queues; i++) {
		free(s->queues[i].name);
		for (size_t j = 0; j < s->queues[i].n_instance_types; j++)
			free(s->queues[i].instance_types[j]);
		free(s->queues[i].instance_types);
	}
	free(s->queues);
	free(s->build_instance_type);
	free(s->base_ami);
	free(s->build_instance_profile);
	free(s->build_artifacts);
	for (size_t i = 0; i < s->n_build_tests; i++)
		free(s->build_tests[i]);
	free(s->build_tests);
	free(s->spack_version);
	free(s->spack_url);
	free(s->spack_git);
	free(s->spack_ref);
	for (size_t i = 0; i < s->n_spack_repos; i++) {
		free(s->spack_repos[i].name);
		free(s->spack_repos[i].path);
		free(s->spack_repos[i].git);
		free(s->spack_repos[i].ref);
		free(s->spack_repos[i].url);
	}
	free(s->spack_repos);
	free(s->source_mirror);
	free(s->spack_target);
	free(s->cache_bucket);
	free(s->cache_prefix);
	for (size_t i = 0; i < s->n_containers; i++) {
		free(s->containers[i].name);
		free(s->containers[i].image);
		for (size_t j = 0; j < s->containers[i].n_modules; j++)
			free(s->containers[i].modules[j]);
		free(s->containers[i].modules);
	}
	free(s->containers);
	for (size_t i = 0; i < s->n_pkgs; i++) {
		petal_spec_clear(&s->pkgs[i].spec);
		free(s->pkgs[i].text);
	}
	free(s->pkgs);
	free(s);
}

struct diag_ref {
	struct petal_diag diag;
	size_t idx;
};

static int diag_cmp(const void *a, const void *b)
{
	const struct diag_ref *x = a, *y = b;
	if (x->diag.line != y->diag.line)
		return x->diag.line < y->diag.line ? -1 : 1;
	if (x->diag.col != y->diag.col)
		return x->diag.col < y->diag.col ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* File order reads best; equal positions keep the order they were found in. */
static void sort_diags(struct petal_diags *d, size_t from)
{
	size_t n = d->n - from;
	struct diag_ref *refs = petal_xmalloc((n + 1) * sizeof(*refs));
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct diag_ref){ d->items[from + i], i };
	qsort(refs, n, sizeof(*refs), diag_cmp);
	for (size_t i = 0; i < n; i++)
		d->items[from + i] = refs[i].diag;
	free(refs);
}

static int invalid(struct petal_diags *d, size_t before, struct petal_error *err)
{
	sort_diags(d, before);
	size_t n = d->n - before + d->dropped;
	return petal_fail(err, PETAL_EINVAL, "%s: %zu problem%s", d->file, n,
	                  n == 1 ? "" : "s");
}

int petal_seed_load_text(const char *name, const char *text, size_t len,
                         struct petal_seed **out, struct petal_diags *diags,
                         struct petal_error *err)
{
	*out = NULL;
	if (!diags->file)
		diags->file = petal_xstrdup(name);
	size_t before = diags->n;

	struct petal_node *root;
	char msg[768];
	int line, col;
	if (petal_node_parse_at(text, len, &root, &line, &col, msg, sizeof(msg)) != 0) {
		petal_diags_add(diags, line, col, NULL, "%s", msg);
		return invalid(diags, before, err);
	}

	struct petal_seed *s = petal_xcalloc(1, sizeof(*s));
	s->path = petal_xstrdup(name);
	s->root = root;
	s->cloud = petal_xstrdup(DEFAULT_CLOUD);
	s->os = petal_xstrdup(DEFAULT_OS);
	s->pcluster_version = petal_xstrdup(PETAL_PCLUSTER_DEFAULT_VERSION);
	s->head_node = petal_xstrdup(DEFAULT_HEAD_NODE);
	s->build_spot = 1;
	s->build_timeout_s = DEFAULT_BUILD_TIMEOUT;
	s->spack_version = petal_xstrdup(PETAL_SPACK_DEFAULT_VERSION);
	s->cache_prefix = petal_xstrdup(DEFAULT_CACHE_PREFIX);

	petal_schema_keys(diags, root, "", top_keys);
	check_cluster(diags, s);
	check_network(diags, s);
	check_compute(diags, s);
	petal_seed_check_software(diags, s);
	check_arch(diags, s);
	check_plugins(diags, root);
	petal_seed_check_estimates(diags, root);

	if (diags->n > before || diags->dropped) {
		petal_seed_free(s);
		return invalid(diags, before, err);
	}
	petal_seed_hash(s, s->hash);
	*out = s;
	return 0;
}

int petal_seed_load(const char *path, struct petal_seed **out, struct petal_diags *diags,
                    struct petal_error *err)
{
	char *text;
	size_t len;
	struct stat st;
	*out = NULL;
	int rc;
	/* opening a FIFO would block until a writer comes: look before opening */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		rc = petal_fail(err, PETAL_EINVAL, "%s: not a regular file", path);
	else
		rc = petal_read_file(path, PETAL_SEED_MAX_BYTES, &text, &len, err);
	if (rc == PETAL_EINVAL) {
		/* too large or not a regular file: a problem of the seed, so a diagnostic */
		if (!diags->file)
			diags->file = petal_xstrdup(path);
		size_t before = diags->n, plen = strlen(path);
		const char *m = err ? err->msg : "cannot be read";
		if (err && !strncmp(m, path, plen) && !strncmp(m + plen, ": ", 2))
			m += plen + 2;
		petal_diags_add(diags, 0, 0, NULL, "%s; a seed is a page of YAML, not a data "
		                "file", m);
		return invalid(diags, before, err);
	}
	if (rc)
		return rc;
	rc = petal_seed_load_text(path, text, len, out, diags, err);
	free(text);
	return rc;
}
