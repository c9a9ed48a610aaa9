/* Finding a mirror's index and fetching it (Spack's order: the v3 index
   manifest, then v2's build_cache/index.json); the streaming read is in
   scan.c. */
#include "config.h"

#include "cache_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util/util.h"

#define SMALL_MAX (1u << 20)

void petal_cache_index_free(struct petal_cache_index *idx)
{
	if (!idx)
		return;
	if (idx->is_tmp && idx->local)
		unlink(idx->local);
	free(idx->local);
	free(idx->object);
	free(idx->manifest);
	free(idx->checksum);
	free(idx->media_type);
	free(idx->url);
	petal_strmap_release(&idx->compilers, free);
	free(idx);
}

const struct petal_cache_index_info *petal_cache_index_info(const struct petal_cache_index *idx)
{
	return &idx->info;
}

const char *petal_cache_index_compiler_version(const struct petal_cache_index *idx,
                                               const char *hash)
{
	return hash ? petal_strmap_get(&idx->compilers, hash) : NULL;
}

/* Bring the index data (idx->object) to a local file. */
static int fetch_data(const struct petal_mirror_io *io, struct petal_cache_index *idx,
                      const char *named_by, struct petal_error *err)
{
	struct petal_error e2 = { 0 };
	int rc = petal_cache_fetch_local(io, idx->object, &idx->local, &idx->is_tmp, &e2);
	if (rc == PETAL_ENOENT)
		return petal_fail(err, PETAL_ENOENT,
		                  "%s/%s: the index %s names is missing from the mirror; "
		                  PETAL_CACHE_REBUILD_HINT, io->url, idx->object, named_by, io->url);
	if (rc)
		return petal_fail(err, rc, "%s", e2.msg);
	return 0;
}

static int fetch_v3(const struct petal_mirror_io *io, struct petal_cache_index *idx,
                    const char *text, size_t len, struct petal_error *err)
{
	struct petal_cache_blobref *blobs;
	size_t n;
	struct petal_error e2 = { 0 };
	char *what = petal_xasprintf("%s/%s", io->url, PETAL_V3_INDEX_MANIFEST);
	int rc = petal_cache_manifest_parse(text, len, what, &blobs, &n,
	                                    &idx->info.manifest_signed, &e2);
	if (rc) {
		petal_fail(err, rc, "%s; " PETAL_CACHE_REBUILD_HINT, e2.msg, io->url);
		goto out_what;
	}
	const struct petal_cache_blobref *db = NULL;
	for (size_t i = 0; i < n && !db; i++)
		if (!strncmp(blobs[i].media_type, PETAL_SPACK_DB_MEDIA, strlen(PETAL_SPACK_DB_MEDIA)))
			db = &blobs[i];
	if (!db) {
		rc = petal_fail(err, PETAL_EINVAL,
		                "%s: no data entry with mediaType " PETAL_SPACK_DB_MEDIA "*; "
		                PETAL_CACHE_REBUILD_HINT, what, io->url);
		goto out_blobs;
	}
	if (strcmp(db->compression, "none") != 0) {
		rc = petal_fail(err, PETAL_EINVAL,
		                "%s: the index blob is compressed (%s); petal reads uncompressed "
		                "indexes, as Spack writes them: " PETAL_CACHE_REBUILD_HINT,
		                what, db->compression, io->url);
		goto out_blobs;
	}
	idx->info.layout = PETAL_CACHE_V3;
	idx->manifest = petal_xstrdup(PETAL_V3_INDEX_MANIFEST);
	idx->object = petal_cache_blob_path(db->checksum);
	idx->checksum = petal_xstrdup(db->checksum);
	idx->media_type = petal_xstrdup(db->media_type);
	idx->info.size = db->size;
	rc = fetch_data(io, idx, PETAL_V3_INDEX_MANIFEST, err);
out_blobs:
	petal_cache_blobrefs_free(blobs, n);
out_what:
	free(what);
	return rc;
}

static int fetch_v2(const struct petal_mirror_io *io, struct petal_cache_index *idx,
                    struct petal_error *err)
{
	char *text;
	size_t len;
	struct petal_error e2 = { 0 };
	idx->info.layout = PETAL_CACHE_V2;
	idx->object = petal_xstrdup(PETAL_V2_INDEX);
	idx->manifest = petal_xstrdup(PETAL_V2_INDEX_HASH);
	int rc = petal_cache_get_small(io, PETAL_V2_INDEX_HASH, SMALL_MAX, &text, &len, &e2);
	if (rc == 0) {
		/* the hex digest, maybe with a newline; nothing else */
		while (len > 0 && isspace((unsigned char)text[len - 1]))
			text[--len] = '\0';
		if (!petal_cache_is_sha256(text)) {
			free(text);
			return petal_fail(err, PETAL_EINVAL,
			                  "%s/%s: does not hold a sha256 hex digest; "
			                  PETAL_CACHE_REBUILD_HINT, io->url, PETAL_V2_INDEX_HASH, io->url);
		}
		idx->checksum = text;
	} else if (rc != PETAL_ENOENT) {
		return petal_fail(err, rc, "%s", e2.msg);
	}
	/* without index.json.hash (mirrors from old Spack) the index is read unverified */
	return fetch_data(io, idx, "the v2 layout", err);
}

int petal_cache_index_fetch(const struct petal_mirror_io *io, struct petal_cache_index **out,
                            struct petal_error *err)
{
	struct petal_cache_index *idx = petal_xcalloc(1, sizeof(*idx));
	idx->url = petal_xstrdup(io->url);
	char *text = NULL;
	size_t len;
	struct petal_error e2 = { 0 };
	int rc = petal_cache_get_small(io, PETAL_V3_INDEX_MANIFEST, SMALL_MAX, &text, &len, &e2);
	if (rc == 0) {
		rc = fetch_v3(io, idx, text, len, err);
		free(text);
	} else if (rc == PETAL_ENOENT) {
		/* Spack reads a v2 mirror when no v3 index is there */
		rc = fetch_v2(io, idx, &e2);
		if (rc == PETAL_ENOENT) {
			rc = petal_cache_get_small(io, PETAL_V3_LAYOUT, SMALL_MAX, &text, &len, &e2);
			if (rc == 0)
				free(text);
			if (rc == 0 || rc == PETAL_EINVAL)
				rc = petal_fail(err, PETAL_ENOENT,
				                "%s: a v3 build cache (it has " PETAL_V3_LAYOUT ") without an "
				                "index (" PETAL_V3_INDEX_MANIFEST "); " PETAL_CACHE_REBUILD_HINT,
				                io->url, io->url);
			else if (rc == PETAL_ENOENT)
				rc = petal_fail(err, PETAL_ENOENT,
				                "%s: no Spack build cache index here (neither "
				                PETAL_V3_INDEX_MANIFEST " nor " PETAL_V2_INDEX "); check the "
				                "URL; if it is a build cache, " PETAL_CACHE_REBUILD_HINT,
				                io->url, io->url);
			else
				petal_fail(err, rc, "%s", e2.msg);
		} else if (rc) {
			petal_fail(err, rc, "%s", e2.msg);
		}
	} else {
		petal_fail(err, rc, "%s", e2.msg);
	}
	if (rc) {
		petal_cache_index_free(idx);
		return rc;
	}
	idx->info.object = idx->object;
	idx->info.manifest = idx->manifest;
	idx->info.checksum = idx->checksum;
	idx->info.media_type = idx->media_type;
	*out = idx;
	return 0;
}
