/* `petal cache status`: what a mirror holds, in one streaming read of its
   index and one listing of its objects.

   Sizes come from the listing, not from the spec manifests: reading every
   manifest costs one request per spec on S3, while one listing (1,000
   objects a page) gives every object's size.  package_bytes is then the sum
   of the blobs other than the index's (install tarballs and their gzipped
   spec files, orphans included) for v3, and of the .spack files for v2. */
#include "config.h"

#include "cache_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/util.h"

struct status_ctx {
	struct petal_cache_status *st;
	struct petal_cache_matcher *m;
	const char *index_object;
	struct petal_strmap names;
	struct petal_strmap seen;  /* record hash -> 1 listed, 2 listed in the cache */
	size_t dup_records, dup_specs;
	int any_time;
	double tmin, tmax;
	int any_mtime;
	int64_t mmin, mmax;
};

static int on_record(void *arg, const struct petal_cache_record *rec, struct petal_error *err)
{
	(void)err;
	struct status_ctx *c = arg;
	/* a hash listed twice is one spec (Spack's reader keeps the last) */
	void **seen = petal_strmap_slot(&c->seen, rec->hash, 1);
	void *before = *seen;
	if (*seen) {
		if (!c->st->duplicates++)
			snprintf(c->st->first_duplicate, sizeof(c->st->first_duplicate), "%s",
			         rec->hash);
		c->dup_records++;
		c->dup_specs += rec->in_buildcache && *seen == (void *)2;
	}
	if (rec->in_buildcache)
		*seen = (void *)2;
	else if (!*seen)
		*seen = (void *)1;
	/* a spec already counted in the cache is not counted, dated or matched again */
	if (!rec->in_buildcache || before == (void *)2)
		return 0;
	void **slot = petal_strmap_slot(&c->names, rec->name, 1);
	*slot = (void *)1;
	c->st->undated += rec->time_invalid != 0;
	if (rec->has_time) {
		if (!c->any_time || rec->installation_time < c->tmin)
			c->tmin = rec->installation_time;
		if (!c->any_time || rec->installation_time > c->tmax)
			c->tmax = rec->installation_time;
		c->any_time = 1;
	}
	if (c->m)
		petal_cache_matcher_add(c->m, rec);
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), n = strlen(suffix);
	return l >= n && !strcmp(s + l - n, suffix);
}

static void spec_object(struct status_ctx *c, const struct petal_object_info *obj)
{
	c->st->spec_objects++;
	if (!c->any_mtime || obj->mtime < c->mmin)
		c->mmin = obj->mtime;
	if (!c->any_mtime || obj->mtime > c->mmax)
		c->mmax = obj->mtime;
	c->any_mtime = 1;
}

static int on_object(void *arg, const struct petal_object_info *obj)
{
	struct status_ctx *c = arg;
	struct petal_cache_status *st = c->st;
	const char *k = obj->key;
	st->objects++;
	st->bytes += obj->bytes;
	if (st->layout == PETAL_CACHE_V3) {
		if (!strncmp(k, "blobs/", 6) && strcmp(k, c->index_object) != 0)
			st->package_bytes += obj->bytes;
		else if (!strncmp(k, PETAL_V3_SPEC_DIR "/", strlen(PETAL_V3_SPEC_DIR) + 1) &&
		         ends_with(k, ".spec.manifest.json"))
			spec_object(c, obj);
	} else if (!strncmp(k, PETAL_V2_DIR "/", strlen(PETAL_V2_DIR) + 1)) {
		if (ends_with(k, ".spack"))
			st->package_bytes += obj->bytes;
		else if (ends_with(k, ".spec.json") || ends_with(k, ".spec.json.sig") ||
		         ends_with(k, ".spec.yaml"))
			spec_object(c, obj);
	}
	return 0;
}

int petal_cache_status(const struct petal_mirror_io *io, const struct petal_spec *want,
                       size_t n_want, struct petal_cache_status *st, struct petal_error *err)
{
	memset(st, 0, sizeof(*st));
	struct petal_cache_index *idx;
	int rc = petal_cache_index_fetch(io, &idx, err);
	if (rc)
		return rc;
	const struct petal_cache_index_info *info = petal_cache_index_info(idx);
	struct status_ctx c = { .st = st, .index_object = info->object };
	if (n_want)
		c.m = petal_cache_matcher_new(want, n_want);
	struct petal_cache_scan scan;
	rc = petal_cache_index_scan(idx, on_record, &c, &scan, err);
	if (rc)
		goto out_ctx;
	st->layout = info->layout;
	snprintf(st->db_version, sizeof(st->db_version), "%s", scan.db_version);
	st->index_object = petal_xstrdup(info->object);
	memcpy(st->index_sha256, scan.sha256, sizeof(st->index_sha256));
	st->index_bytes = scan.bytes;
	st->index_verified = info->checksum != NULL;
	st->manifest_signed = info->manifest_signed;
	st->records = scan.records - c.dup_records;
	st->specs = scan.in_cache - c.dup_specs;
	st->distinct_names = c.names.n;
	if (c.m)
		petal_cache_matcher_finish(c.m, idx, &st->matches, &st->n_matches, &st->hits);

	if (io->list) {
		rc = io->list(io->arg, "", on_object, &c, err);
		if (rc)
			goto out_status;
		st->listed = 1;
	}
	if (c.any_time) {
		st->time_source = PETAL_CACHE_TIME_INSTALL;
		st->oldest = (int64_t)c.tmin;
		st->newest = (int64_t)c.tmax;
	} else if (c.any_mtime) {
		st->time_source = PETAL_CACHE_TIME_MTIME;
		st->oldest = c.mmin;
		st->newest = c.mmax;
	}
	goto out_ctx;

out_status:
	petal_cache_status_release(st);
out_ctx:
	petal_cache_matcher_free(c.m);
	petal_strmap_release(&c.names, NULL);
	petal_strmap_release(&c.seen, NULL);
	petal_cache_index_free(idx);
	return rc;
}

void petal_cache_status_release(struct petal_cache_status *st)
{
	if (!st)
		return;
	free(st->index_object);
	petal_cache_matches_free(st->matches, st->n_matches);
	memset(st, 0, sizeof(*st));
}
