/* The seed hash: sha256 over a canonical text of what determines the
   software a seed produces (documented in petal-seed(5)), plus the small
   parsers it needs. */
#include "config.h"

#include "seed.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../util/util.h"

/* Packages that are compilers: building them changes every package after. */
static const char *const compiler_packages[] = { "gcc", "llvm", "intel-oneapi-compilers",
	                                         "intel-oneapi-compilers-classic", "aocc",
	                                         "nvhpc", "acfl", NULL };

static int has_in_ami(const struct petal_seed *seed)
{
	for (size_t i = 0; i < seed->n_pkgs; i++)
		if (seed->pkgs[i].section == PETAL_SECTION_IN_AMI)
			return 1;
	return 0;
}

/* in_ami: whether the seed lists any in_ami package (asked once by callers
   that ask for every package). */
static const char *tier_of(const struct petal_seed *seed, const struct petal_seed_pkg *pkg,
                           int in_ami)
{
	switch (pkg->section) {
	case PETAL_SECTION_IN_AMI:
		return PETAL_TIER_AMI;
	case PETAL_SECTION_CONTAINER:
		return PETAL_TIER_CONTAINER;
	case PETAL_SECTION_BUILD_FROM_SOURCE:
		return PETAL_TIER_SOURCE;
	case PETAL_SECTION_SPACK_PACKAGES:
	default:
		break;
	}
	if (seed->use_custom_ami && !in_ami)
		return PETAL_TIER_AMI;
	return seed->cache_bucket ? PETAL_TIER_BINARY_CACHE : PETAL_TIER_SOURCE;
}

const char *petal_seed_pkg_tier(const struct petal_seed *seed, const struct petal_seed_pkg *pkg)
{
	return tier_of(seed, pkg, has_in_ami(seed));
}

const char *petal_instance_arch(const char *instance_type)
{
	if (!instance_type)
		return "x86_64";
	size_t fl = strcspn(instance_type, ".");
	/* a1 was the first Graviton; mac2 families are Apple silicon */
	if ((fl == 2 && !strncmp(instance_type, "a1", 2)) || !strncmp(instance_type, "mac2", 4))
		return "arm64";
	/* Graviton families put a 'g' right after the generation digit:
	   c6g, c7gn, m6gd, t4g, hpc7g, x2gd, im4gn, is4gen, g5g */
	size_t i = 0;
	while (i < fl && isalpha((unsigned char)instance_type[i]))
		i++;
	if (i == 0 || i >= fl || !isdigit((unsigned char)instance_type[i]))
		return "x86_64";
	while (i < fl && isdigit((unsigned char)instance_type[i]))
		i++;
	if (i < fl && instance_type[i] == 'g')
		return "arm64";
	return "x86_64";
}

long petal_parse_duration(const char *text)
{
	static const struct { char unit; long secs; } units[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	if (!text || !*text)
		return -1;
	const char *p = text;
	long total = 0;
	size_t next_unit = 0; /* units must come largest first, each once */
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -1;
		long n = 0;
		int digits = 0;
		while (isdigit((unsigned char)*p)) {
			if (++digits > 9)
				return -1;
			n = n * 10 + (*p++ - '0');
		}
		size_t u = next_unit;
		while (u < PETAL_ARRAY_SIZE(units) && units[u].unit != *p)
			u++;
		if (u == PETAL_ARRAY_SIZE(units))
			return -1;
		total += n * units[u].secs;
		if (total > PETAL_DURATION_MAX_S) {
			/* the rest must still be well formed to be "too long" */
			for (p++; *p; p++)
				if (!isdigit((unsigned char)*p) && !strchr("dhms", *p))
					return -1;
			return -2;
		}
		next_unit = u + 1;
		p++;
	}
	return total;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_compiler_package(const char *name)
{
	for (size_t i = 0; compiler_packages[i]; i++)
		if (!strcmp(name, compiler_packages[i]))
			return 1;
	return 0;
}

struct strlist {
	char **items;
	size_t n, cap;
};

static void add_compiler(struct strlist *l, const char *name, const char *versions)
{
	PETAL_PUSH(l->items, l->n, l->cap,
	           versions ? petal_xasprintf("%s@%s", name, versions) : petal_xstrdup(name));
}

static void spec_compilers(struct strlist *l, const struct petal_spec *s)
{
	if (s->compiler)
		add_compiler(l, s->compiler, s->compiler_versions);
	for (size_t i = 0; i < s->n_deps; i++)
		spec_compilers(l, &s->deps[i]);
}

static void strlist_release(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
}

size_t petal_seed_compilers(const struct petal_seed *seed, char ***out)
{
	struct strlist all = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < seed->n_pkgs; i++) {
		const struct petal_seed_pkg *p = &seed->pkgs[i];
		spec_compilers(&all, &p->spec);
		if (is_compiler_package(p->spec.name))
			add_compiler(&all, p->spec.name, p->spec.versions);
	}
	if (all.n)
		qsort(all.items, all.n, sizeof(char *), str_cmp);
	for (size_t i = 0; i < all.n; i++) {
		if (n && !strcmp(all.items[i], all.items[n - 1])) {
			free(all.items[i]);
			continue;
		}
		all.items[n++] = all.items[i];
	}
	*out = all.items;
	return n;
}

void petal_seed_compilers_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

char *petal_seed_canonical(const struct petal_seed *seed)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	struct strlist pkgs = { 0 };
	char **compilers;
	size_t n_compilers = petal_seed_compilers(seed, &compilers);
	const char *build = seed->build_instance_type ? seed->build_instance_type
	                                               : seed->head_node;
	int in_ami = has_in_ami(seed);

	for (size_t i = 0; i < seed->n_pkgs; i++) {
		const struct petal_seed_pkg *p = &seed->pkgs[i];
		const char *tier = tier_of(seed, p, in_ami);
		if (p->section == PETAL_SECTION_CONTAINER && p->container < seed->n_containers)
			PETAL_PUSH(pkgs.items, pkgs.n, pkgs.cap,
			           petal_xasprintf("pkg=%s %s %s", tier,
			                           seed->containers[p->container].image, p->text));
		else
			PETAL_PUSH(pkgs.items, pkgs.n, pkgs.cap,
			           petal_xasprintf("pkg=%s %s", tier, p->text));
	}
	if (pkgs.n)
		qsort(pkgs.items, pkgs.n, sizeof(char *), str_cmp);

	petal_strbuf_puts(&sb, "petal-seed-hash v1\n");
	petal_strbuf_printf(&sb, "os=%s\n", seed->os);
	petal_strbuf_printf(&sb, "arch=%s\n", petal_instance_arch(build));
	/* the base image the build starts from: its libraries are what the
	   packages link against, and ParallelCluster refuses an image baked for
	   another version */
	petal_strbuf_printf(&sb, "pcluster=%s\n", seed->pcluster_version);
	if (seed->base_ami)
		petal_strbuf_printf(&sb, "base-ami=%s\n", seed->base_ami);
	petal_strbuf_printf(&sb, "spack=%s\n", seed->spack_version);
	/* where Spack and its packages come from changes what it builds; a source
	   mirror does not (Spack checks every tarball's checksum) */
	if (seed->spack_url)
		petal_strbuf_printf(&sb, "spack-url=%s\n", seed->spack_url);
	if (seed->spack_git)
		petal_strbuf_printf(&sb, "spack-git=%s ref=%s\n", seed->spack_git,
		                    seed->spack_ref);
	for (size_t i = 0; i < seed->n_spack_repos; i++) {
		const struct petal_spack_repo *r = &seed->spack_repos[i];

		if (r->path)
			petal_strbuf_printf(&sb, "repo=%s\n", r->path);
		else if (r->git)
			petal_strbuf_printf(&sb, "repo=%s git=%s ref=%s\n", r->name, r->git, r->ref);
		else
			petal_strbuf_printf(&sb, "repo=%s url=%s\n", r->name, r->url);
	}
	/* the default follows arch */
	if (seed->spack_target)
		petal_strbuf_printf(&sb, "spack-target=%s\n", seed->spack_target);
	petal_strbuf_puts(&sb, "compilers=");
	for (size_t i = 0; i < n_compilers; i++)
		petal_strbuf_printf(&sb, "%s%s", i ? "," : "", compilers[i]);
	petal_strbuf_putc(&sb, '\n');
	for (size_t i = 0; i < pkgs.n; i++)
		petal_strbuf_printf(&sb, "%s\n", pkgs.items[i]);
	petal_seed_compilers_free(compilers, n_compilers);
	strlist_release(&pkgs);
	return petal_strbuf_detach(&sb);
}

void petal_seed_hash(const struct petal_seed *seed, char out[65])
{
	char *text = petal_seed_canonical(seed);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	out[0] = '\0';
	if (EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL) == 1 && len == 32) {
		for (unsigned int i = 0; i < len; i++) {
			static const char hex[] = "0123456789abcdef";
			out[2 * i] = hex[md[i] >> 4];
			out[2 * i + 1] = hex[md[i] & 15];
		}
		out[64] = '\0';
	}
	free(text);
}
