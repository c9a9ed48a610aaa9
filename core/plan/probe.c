/* petal plan --probe: between the claims and the tiers' plans, ask the cloud
   what an offline plan can only assume (which packages the binary cache
   holds, whether this seed hash's image was baked, what custom_ami is) and
   hand the answers to the tiers as data: plugins cannot call the core's
   cache reader, and need not ask the cloud themselves. */
#include "config.h"

#include "probe.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cloud/cloud.h"
#include "../plugin/host.h"
#include "../util/util.h"

/* The tiers whose assumptions the probe replaces; the seed's sections name
   the same tiers (petal_seed_pkg_tier). */
#define CACHE_TIER PETAL_TIER_BINARY_CACHE
#define AMI_TIER PETAL_TIER_AMI
#define SEED_HASH_TAG PETAL_TAG_SEED_HASH

struct probe_run {
	const struct petal_seed *seed;
	struct petal_registry *reg;
	struct petal_estimates *est;
	struct petal_probe_opts *opts;
	const char *region;  /* asked in: opts->region, else the seed's */
};

static void answer(struct petal_plan_probe *pr, int from_cloud, const char *source,
                   const char *question, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void answer(struct petal_plan_probe *pr, int from_cloud, const char *source,
                   const char *question, const char *fmt, ...)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	petal_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	pr->answers = petal_xrealloc(pr->answers, (pr->n_answers + 1) * sizeof(*pr->answers));
	pr->answers[pr->n_answers++] = (struct petal_plan_answer){
		.question = petal_xstrdup(question),
		.answer = petal_strbuf_detach(&sb),
		.source = petal_xstrdup(source),
		.from_cloud = from_cloud,
	};
}

static int claimed_by(const struct petal_plan_claim *c, const char *tier)
{
	return c->tier && strcmp(c->tier, tier) == 0;
}

/* ---- the binary cache -------------------------------------------------------- */

/* Is one of the objects an index starts from there (Spack's layouts, as
   mirror.h reads them)?  1 yes, 0 no, or an error.  Fetched, not listed:
   a GET needs no listing rights. */
static int index_present(const struct petal_mirror_io *io, struct petal_error *err)
{
	static const char *const entries[] = {
		"v3/manifests/index/index.manifest.json", /* v3 */
		"build_cache/index.json.hash",            /* v2 */
	};
	const char *dir = getenv("TMPDIR");
	char *tmp = petal_xasprintf("%s/petal-probe.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(tmp);
	if (fd < 0) {
		int rc = petal_fail(err, PETAL_EIO, "cannot make a temporary file in %s: %m",
		                    dir && *dir ? dir : "/tmp");
		free(tmp);
		return rc;
	}
	close(fd);
	int rc = 0;
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(entries) && rc == 0; i++) {
		rc = io->get(io->arg, entries[i], tmp, err);
		if (rc == 0)
			rc = 1;
		else if (rc == PETAL_ENOENT)
			rc = 0;
	}
	unlink(tmp);
	free(tmp);
	return rc;
}

static void cache_answer(struct petal_plan *plan, const struct petal_cache_status *st,
                         const size_t *which, size_t n, const char *source)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	petal_strbuf_printf(&sb, "v%d index, %zu spec%s: %zu of %zu held", (int)st->layout,
	                    st->specs, st->specs == 1 ? "" : "s", st->hits, n);
	const char *sep = " (";
	for (size_t k = 0; k < n; k++) {
		const struct petal_plan_claim *c = &plan->claims[which[k]];
		if (!c->cache_hit)
			continue;
		petal_strbuf_printf(&sb, "%s%s as %s/%.7s", sep, plan->seed->pkgs[c->pkg].text,
		                    c->cache_version ? c->cache_version : "?",
		                    c->cache_hash ? c->cache_hash : "?");
		sep = ", ";
	}
	if (st->hits)
		petal_strbuf_putc(&sb, ')');
	sep = "; to build and push: ";
	for (size_t k = 0; k < n; k++) {
		const struct petal_plan_claim *c = &plan->claims[which[k]];
		if (c->cache_hit)
			continue;
		petal_strbuf_printf(&sb, "%s%s", sep, plan->seed->pkgs[c->pkg].text);
		sep = ", ";
	}
	answer(&plan->probe, 1, source, "binary cache index", "%s", petal_strbuf_str(&sb));
	petal_strbuf_release(&sb);
}

static int probe_cache(struct probe_run *r, struct petal_plan *plan,
                       struct petal_package *pkgs, struct petal_error *err)
{
	struct petal_plan_probe *pr = &plan->probe;
	size_t *which = petal_xcalloc(plan->n_claims + 1, sizeof(*which));
	size_t n = 0;
	for (size_t i = 0; i < plan->n_claims; i++)
		if (claimed_by(&plan->claims[i], CACHE_TIER))
			which[n++] = i;
	if (n == 0 || !r->opts->cache) {
		answer(pr, 0, NULL, "binary cache index", "not asked: %s",
		       n == 0 ? "no package goes to the " CACHE_TIER " tier"
		              : "no binary cache to read");
		free(which);
		return 0;
	}

	const struct petal_mirror_io *io = r->opts->cache;
	char *source = petal_xasprintf("%s (cloud %s)", io->url,
	                               r->opts->cache_cloud ? r->opts->cache_cloud : "?");
	struct petal_spec *want = petal_xcalloc(n, sizeof(*want));
	for (size_t k = 0; k < n; k++)
		want[k] = r->seed->pkgs[plan->claims[which[k]].pkg].spec; /* shallow: the seed owns it */
	/* the index alone: hit or miss needs no listing of the mirror */
	struct petal_mirror_io index_only = *io;
	index_only.list = NULL;
	struct petal_cache_status st;
	struct petal_error e2 = { 0 };
	int rc = petal_cache_status(&index_only, want, n, &st, &e2);
	if (rc == PETAL_ENOENT) {
		struct petal_error e3 = { 0 };
		int present = index_present(io, &e3);
		if (present != 0) {
			rc = petal_fail(err, rc, "--probe: the binary cache's index cannot be read: %s",
			                present < 0 ? e3.msg : e2.msg);
			goto out_want;
		}
		/* nothing there yet: a new mirror, or one never indexed */
		for (size_t k = 0; k < n; k++)
			plan->claims[which[k]].cache_probed = 1;
		answer(pr, 1, source, "binary cache index", "no index: every package is a miss "
		       "(%zu to build and push): %s", n, e2.msg);
		rc = 0;
	} else if (rc) {
		rc = petal_fail(err, rc, "--probe: the binary cache's index cannot be read: %s",
		                e2.msg);
		goto out_want;
	} else {
		for (size_t k = 0; k < n && k < st.n_matches; k++) {
			struct petal_plan_claim *c = &plan->claims[which[k]];
			const struct petal_cache_match *m = &st.matches[k];
			c->cache_probed = 1;
			c->cache_hit = m->hit != 0;
			if (m->hit) {
				c->cache_version = petal_xstrdup(m->version);
				c->cache_hash = petal_xstrdup(m->hash);
			}
		}
		cache_answer(plan, &st, which, n, source);
		pr->cache_hits = st.hits;
		petal_cache_status_release(&st);
	}
	pr->cache_asked = n;
	for (size_t k = 0; k < n; k++) {
		const struct petal_plan_claim *c = &plan->claims[which[k]];
		struct petal_package *p = &pkgs[c->pkg];
		p->cache_probed = 1;
		p->cache_hit = c->cache_hit;
		p->cache_version = c->cache_version;
		p->cache_hash = c->cache_hash;
	}
	pr->cache_url = petal_xstrdup(io->url);
	plan->info.cache_url = pr->cache_url;
	plan->info.probed |= PETAL_PROBED_CACHE;

out_want:
	free(want);
	free(source);
	free(which);
	return rc;
}

/* ---- images ------------------------------------------------------------------------ */

struct id_search {
	const char *id;
	struct petal_image img;
	int found;
};

static int on_image(void *arg, const struct petal_image *img)
{
	struct id_search *s = arg;
	if (strcmp(img->id, s->id) != 0)
		return 0;
	/* members past the plugin's size read as absent */
	memset(&s->img, 0, sizeof(s->img));
	memcpy(&s->img, img, img->size < sizeof(s->img) ? img->size : sizeof(s->img));
	s->img.size = sizeof(s->img);
	s->found = 1;
	return 1; /* found: stop listing */
}

/* "ami-" and 8 or 17 lowercase hex digits, as the seed schema checks. */
static int ami_id(const char *s)
{
	if (strncmp(s, "ami-", 4) != 0)
		return 0;
	size_t n = strspn(s + 4, "0123456789abcdef");
	return s[4 + n] == '\0' && (n == 8 || n == 17);
}

static void where(const struct petal_seed *seed, const char *path, char *buf, size_t len)
{
	const struct petal_node *n = petal_node_path(seed->root, path);
	snprintf(buf, len, "%s:%d:%d", seed->path, n ? n->line : 0, n ? n->col : 0);
}

/* The architecture of an instance type: the instance table's, else the
   family's. */
static const char *type_arch(const struct probe_run *r, const char *type)
{
	struct petal_instance_type it = { .size = sizeof(it) };
	if (petal_estimates_instance(r->est, type, &it) == 0 && it.arch && *it.arch)
		return it.arch;
	return petal_instance_arch(type);
}

/* Nodes boot the image: the head node and every queue's instance types must
   share its architecture. */
static int check_arch(const struct probe_run *r, const char *what, const char *at,
                      const struct petal_image *img, struct petal_error *err)
{
	const struct petal_seed *seed = r->seed;
	if (!img->arch[0])
		return 0;
	const char *type = seed->head_node, *key = "compute.head_node";
	char keybuf[96];
	const char *arch = type_arch(r, type);
	for (size_t q = 0; q < seed->n_queues && arch && !strcmp(arch, img->arch); q++)
		for (size_t t = 0; t < seed->queues[q].n_instance_types; t++) {
			type = seed->queues[q].instance_types[t];
			arch = type_arch(r, type);
			snprintf(keybuf, sizeof(keybuf), "compute.queues[%zu].instance_types "
			         "(queue %s)", q, seed->queues[q].name);
			key = keybuf;
			if (!arch || strcmp(arch, img->arch) != 0)
				break;
		}
	if (!arch || !strcmp(arch, img->arch))
		return 0;
	return petal_fail(err, PETAL_EINVAL, "%s: %s is %s (%s), but %s %s is %s: nodes "
	                  "of that type cannot boot it; give an %s image, or %s instance types",
	                  at, what, img->id, img->arch, key, type, arch, arch, img->arch);
}

static int probe_seed_image(struct probe_run *r, struct petal_plan *plan,
                            struct petal_cloud *cloud,
                            const char *source, struct petal_error *err)
{
	struct petal_plan_probe *pr = &plan->probe;
	struct petal_image img = { .size = sizeof(img) };
	struct petal_error e2 = { 0 };
	char question[128];
	snprintf(question, sizeof(question), "image tagged " SEED_HASH_TAG "=%.12s...",
	         r->seed->hash);
	int rc = petal_cloud_image_find(cloud, SEED_HASH_TAG, r->seed->hash, NULL, &img, &e2);
	if (rc == PETAL_ENOENT) {
		answer(pr, 1, source, question, "none: the image is still to be baked");
	} else if (rc) {
		return petal_fail(err, rc, "--probe: cannot look for the image of seed hash %.12s: "
		                  "%s", r->seed->hash, e2.msg);
	} else {
		char at[512], what[160];
		where(r->seed, "compute.head_node", at, sizeof(at));
		snprintf(what, sizeof(what), "the image baked for seed hash %.12s", r->seed->hash);
		if ((rc = check_arch(r, what, at, &img, err)))
			return rc;
		answer(pr, 1, source, question, "%s%s%s (%s, %s): baked already, nodes boot it",
		       img.id, img.name[0] ? " " : "", img.name, img.arch[0] ? img.arch : "?",
		       img.state[0] ? img.state : "?");
		pr->seed_image_id = petal_xstrdup(img.id);
		pr->seed_image_arch = img.arch[0] ? petal_xstrdup(img.arch) : NULL;
	}
	plan->info.seed_image_id = pr->seed_image_id;
	plan->info.seed_image_arch = pr->seed_image_arch;
	plan->info.probed |= PETAL_PROBED_SEED_IMAGE;
	return 0;
}

static int probe_custom_ami(struct probe_run *r, struct petal_plan *plan,
                            struct petal_cloud *cloud,
                            const char *source, struct petal_error *err)
{
	const struct petal_seed *seed = r->seed;
	struct petal_plan_probe *pr = &plan->probe;
	const char *ami = seed->custom_ami;
	const char *region = r->region ? r->region : "the default region";
	char question[192], at[512], what[192];
	struct petal_error e2 = { 0 };
	int rc;
	snprintf(question, sizeof(question), "custom_ami %s", ami);
	where(seed, "compute.custom_ami", at, sizeof(at));
	snprintf(what, sizeof(what), "compute.custom_ami '%s'", ami);

	struct id_search s = { .id = ami };
	if (ami_id(ami)) {
		/* an id: only the account's own images can be listed; a shared or
		   public one is EC2's to check when a node boots it */
		rc = petal_cloud_image_list(cloud, NULL, on_image, &s, &e2);
		if (rc < 0)
			return petal_fail(err, rc, "--probe: cannot list the images to find "
			                  "custom_ami %s: %s", ami, e2.msg);
		if (!s.found) {
			answer(pr, 1, source, question, "not among this account's images in %s: "
			       "shared or public, or wrong; not checked", region);
			pr->custom_ami_id = petal_xstrdup(ami);
		}
	} else {
		s.img.size = sizeof(s.img);
		rc = petal_cloud_image_find(cloud, NULL, NULL, ami, &s.img, &e2);
		if (rc == PETAL_ENOENT)
			return petal_fail(err, PETAL_EINVAL, "%s: %s: the cloud has no image of this "
			                  "account by that name in %s (asked by --probe: %s); check "
			                  "the name and cluster.region, or give the image's id",
			                  at, what, region, e2.msg);
		if (rc)
			return petal_fail(err, rc, "--probe: cannot resolve custom_ami '%s': %s",
			                  ami, e2.msg);
		s.found = 1;
	}
	if (s.found) {
		if ((rc = check_arch(r, what, at, &s.img, err)))
			return rc;
		answer(pr, 1, source, question, "%s (%s, %s)", s.img.id,
		       s.img.arch[0] ? s.img.arch : "?", s.img.state[0] ? s.img.state : "?");
		pr->custom_ami_id = petal_xstrdup(s.img.id);
		pr->custom_ami_arch = s.img.arch[0] ? petal_xstrdup(s.img.arch) : NULL;
	}
	plan->info.custom_ami_id = pr->custom_ami_id;
	plan->info.custom_ami_arch = pr->custom_ami_arch;
	plan->info.probed |= PETAL_PROBED_CUSTOM_AMI;
	return 0;
}

static int probe_images(struct probe_run *r, struct petal_plan *plan, struct petal_error *err)
{
	const struct petal_seed *seed = r->seed;
	struct petal_plan_probe *pr = &plan->probe;
	int need_seed_image = 0;
	for (size_t i = 0; i < plan->n_claims && !need_seed_image; i++)
		need_seed_image = claimed_by(&plan->claims[i], AMI_TIER);
	if (!need_seed_image && !seed->custom_ami)
		return 0;

	struct petal_entry *e = petal_registry_find(r->reg, PETAL_KIND_CLOUD, seed->cloud);
	const struct petal_cloud_ops *ops = e && e->desc ? e->desc->ops.cloud : NULL;
	if (!ops || !(PETAL_HAS(ops, caps) && (ops->caps & PETAL_CAP_IMAGES)) ||
	    !PETAL_HAS(ops, image_list) || !ops->image_find || !ops->image_list) {
		/* the ami tier declined on such a cloud: only custom_ami is left */
		if (seed->custom_ami)
			answer(pr, 0, NULL, "custom_ami", "not asked: cloud '%s' has no images",
			       seed->cloud);
		return 0;
	}
	int rc = petal_entry_init(e, r->reg->host, err);
	if (rc)
		return rc;
	char *source = petal_xasprintf("images in %s (cloud %s)",
	                               r->region ? r->region : "the default region",
	                               seed->cloud);
	struct petal_cloud cloud;
	petal_cloud_from_entry(&cloud, e, r->reg->host);
	if (need_seed_image)
		rc = probe_seed_image(r, plan, &cloud, source, err);
	if (rc == 0 && seed->custom_ami)
		rc = probe_custom_ami(r, plan, &cloud, source, err);
	free(source);
	return rc;
}

/* ---- the hook ------------------------------------------------------------------------ */

static int after_claims(void *arg, struct petal_plan *plan, struct petal_package *pkgs,
                        struct petal_error *err)
{
	struct probe_run *r = arg;
	plan->probe.done = 1;
	plan->probe.cloud = petal_xstrdup(r->seed->cloud);
	/* a cloud asked on the seed's behalf answers for the seed's region */
	petal_host_bind_region(r->reg->host, r->region);
	int rc = probe_cache(r, plan, pkgs, err);
	if (rc == 0)
		rc = probe_images(r, plan, err);
	petal_host_bind_region(r->reg->host, NULL);
	if (rc)
		r->opts->failed = 1;
	return rc;
}

int petal_plan_compose_probed(const struct petal_seed *seed, struct petal_registry *reg,
                              struct petal_estimates *est, struct petal_probe_opts *opts,
                              struct petal_plan **out, struct petal_error *err)
{
	struct petal_probe_opts none = { 0 };
	if (!opts)
		opts = &none;
	opts->failed = 0;
	struct probe_run r = { .seed = seed, .reg = reg, .est = est, .opts = opts,
		               .region = opts->region ? opts->region : seed->region };
	struct petal_plan_hook hook = { .after_claims = after_claims, .arg = &r };
	return petal_plan_compose_hooked(seed, reg, est, &hook, out, err);
}
