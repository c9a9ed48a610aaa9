/* The build's base image through the door (base_image_lookup.h): the seed's
   base_ami, or ParallelCluster's image found by image_search and chosen by
   the pure rule of core/seed/base_image.c. */
#include "config.h"

#include "base_image_lookup.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../seed/base_image.h"
#include "../seed/seed.h"
#include "../util/util.h"

/* What a search brought back, whole, in the order it came. */
struct found {
	struct petal_image *imgs;
	size_t n, cap;
};

static int keep(void *arg, const struct petal_image *img)
{
	struct found *f = arg;
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 8;
		f->imgs = petal_xrealloc(f->imgs, f->cap * sizeof(*f->imgs));
	}
	struct petal_image *dst = &f->imgs[f->n++];
	memset(dst, 0, sizeof(*dst));
	/* a plugin built before the struct grew hands a shorter one */
	size_t n = img->size < sizeof(*dst) ? img->size : sizeof(*dst);
	memcpy(dst, img, n);
	dst->size = sizeof(*dst);
	return 0;
}

static void iso_utc(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%S.000Z", &tm))
		buf[0] = 0;
}

static int is_ami_id(const char *s)
{
	size_t n = strlen(s);
	return strncmp(s, "ami-", 4) == 0 && (n == 12 || n == 21) &&
	       strspn(s + 4, "0123456789abcdef") == n - 4;
}

static void copy_out(struct petal_image *out, const struct petal_image *img)
{
	size_t want = out->size ? out->size : sizeof(*out);
	size_t n = want < sizeof(*img) ? want : sizeof(*img);
	memcpy(out, img, n);
	out->size = want;
}

/* " in <region>" when the host knows which, else "". */
static void where(const struct petal_cloud *c, const char *seen, char *buf, size_t len)
{
	char r[64] = "";
	if (seen && *seen)
		snprintf(r, sizeof(r), "%s", seen);
	else if (c && c->host && c->host->setting &&
	         c->host->setting(c->host, "region", r, sizeof(r)) <= 0)
		r[0] = 0;
	snprintf(buf, len, "%s%s", r[0] ? " in " : "", r);
}

/* base_ami by name: this account's images first, then Amazon's (nobody
   else's is taken by its name), the newest that is available or pending. */
static int lookup_given(struct petal_cloud *c, const char *name, struct petal_image *out,
                        struct petal_error *err)
{
	static const char *const owners[] = { "self", "amazon" };
	for (size_t o = 0; o < PETAL_ARRAY_SIZE(owners); o++) {
		struct found f = { 0 };
		int rc = petal_cloud_image_search(c, owners[o], name, keep, &f, err);
		if (rc < 0) {
			free(f.imgs);
			petal_error_prefix(err, "software.build.base_ami");
			return rc;
		}
		long best = -1;
		for (size_t i = 0; i < f.n; i++) {
			const struct petal_image *im = &f.imgs[i];
			if (best < 0 || im->created > f.imgs[best].created ||
			    (im->created == f.imgs[best].created &&
			     strcmp(im->id, f.imgs[best].id) > 0))
				best = (long)i;
		}
		if (best >= 0)
			copy_out(out, &f.imgs[best]);
		free(f.imgs);
		if (best >= 0)
			return 0;
	}
	char in[80];
	where(c, NULL, in, sizeof(in));
	return petal_fail(err, PETAL_ENOENT, "software.build.base_ami '%s': no available or "
	                  "pending image of that name owned by this account or by Amazon%s; "
	                  "check the name, copy the image to this region, or give its id "
	                  "(ami-...)", name, in);
}

int petal_base_image_lookup(struct petal_cloud *c, const struct petal_seed *seed,
                            const char *now_iso, struct petal_image *out,
                            struct petal_error *err)
{
	if (!seed || !out)
		return petal_fail(err, PETAL_EINVAL, "base image lookup: no seed or no output");
	if (seed->base_ami && *seed->base_ami) {
		if (is_ami_id(seed->base_ami)) {
			struct petal_image img = { .size = sizeof(img) };
			snprintf(img.id, sizeof(img.id), "%s", seed->base_ami);
			copy_out(out, &img);
			return 0;
		}
		return lookup_given(c, seed->base_ami, out, err);
	}
	const char *os = seed->os ? seed->os : "?";
	if (!petal_pcluster_publishes(seed->os))
		return petal_fail(err, PETAL_EINVAL, "ParallelCluster publishes no image for "
		                  "cluster.os '%s': build one (pcluster build-image) and give its "
		                  "id or name as software.build.base_ami", os);
	int given;
	char *prefix = petal_seed_base_image(seed, &given);
	if (!prefix)
		return petal_fail(err, PETAL_EINVAL, "no base image for cluster.os '%s': give "
		                  "software.build.base_ami", os);
	const char *build = seed->build_instance_type ? seed->build_instance_type
	                                              : seed->head_node;
	const char *arch = petal_instance_arch(build);
	char *pattern = petal_xasprintf("%s*", prefix);
	struct found f = { 0 };
	int rc = petal_cloud_image_search(c, "amazon", pattern, keep, &f, err);
	if (rc < 0)
		goto out_found;

	struct petal_image_candidate *cands = petal_xcalloc(f.n ? f.n : 1, sizeof(*cands));
	char (*dates)[32] = petal_xcalloc(f.n ? f.n : 1, sizeof(*dates));
	for (size_t i = 0; i < f.n; i++) {
		const struct petal_image *im = &f.imgs[i];
		iso_utc(im->created, dates[i], sizeof(dates[i]));
		cands[i] = (struct petal_image_candidate){
			.id = im->id,
			.name = im->name,
			.owner_id = im->owner_id[0] ? im->owner_id : NULL,
			.owner_alias = im->owner_alias[0] ? im->owner_alias : NULL,
			.state = im->state,
			.architecture = im->arch,
			.creation_date = dates[i][0] ? dates[i] : NULL,
			.deprecation_time = im->deprecation_time[0] ? im->deprecation_time : NULL,
		};
	}
	char now[32];
	if (!now_iso) {
		iso_utc((int64_t)time(NULL), now, sizeof(now));
		now_iso = now;
	}
	long best = petal_pcluster_ami_choose(cands, f.n, seed->pcluster_version, seed->os,
	                                      arch, now_iso);
	if (best >= 0) {
		copy_out(out, &f.imgs[best]);
	} else {
		char in[80];
		where(c, f.n ? f.imgs[0].region : NULL, in, sizeof(in));
		rc = petal_fail(err, PETAL_ENOENT, "no ParallelCluster %s image for %s on %s%s: "
		                "searched Amazon's images named '%s' (%zu found, none available, "
		                "%s and not deprecated); set cluster.pcluster_version to a release "
		                "published in this region, or give software.build.base_ami",
		                seed->pcluster_version ? seed->pcluster_version : "?", os,
		                arch ? arch : "?", in, pattern, f.n, arch ? arch : "?");
	}
	free(dates);
	free(cands);
out_found:
	free(f.imgs);
	free(pattern);
	free(prefix);
	return rc;
}
