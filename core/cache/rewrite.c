/* `petal cache clear`: writing the index of what is kept, and carrying a
   plan out.

   The new index is the old one's bytes, record by record: kept records are
   copied as they were, with ref_count recounted among the records kept and
   in_buildcache turned false for a cleared spec that a kept one still names
   as a build dependency.  Nothing is re-serialised, so whatever petal does
   not read survives untouched.

   Order on the mirror, so that a reader never meets a dangling reference:
   1. the new index (v3: its blob, then its manifest, which switches readers
      over in one put; v2: index.json, then index.json.hash, Spack's own
      order); 2. the cleared specs' manifests or spec files, so nothing left
      names what goes next; 3. the blobs or tarballs; 4. the old index blob.
   Interrupted after 1, the mirror is consistent, with orphans that the next
   clear finds by listing (spec objects the index does not list). */
#include "config.h"

#include "cache_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util/util.h"

#define BUF (1u << 18)
#define DELETE_BATCH 1000

struct out {
	int fd;
	const char *path;
	struct petal_sha256 *h;
	char *buf;
	size_t len;
	uint64_t size;
};

static int out_flush(struct out *o, struct petal_error *err)
{
	for (size_t done = 0; done < o->len;) {
		ssize_t w = write(o->fd, o->buf + done, o->len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return petal_fail(err, PETAL_EIO, "%s: write failed: %s", o->path, strerror(errno));
		done += (size_t)w;
	}
	o->len = 0;
	return 0;
}

static int out_put(struct out *o, const char *data, size_t n, struct petal_error *err)
{
	petal_sha256_update(o->h, data, n);
	o->size += n;
	while (n > 0) {
		size_t take = BUF - o->len < n ? BUF - o->len : n;
		memcpy(o->buf + o->len, data, take);
		o->len += take;
		data += take;
		n -= take;
		if (o->len == BUF) {
			int rc = out_flush(o, err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Copy bytes [from, to) of the old index. */
static int copy_range(int in, const char *in_path, uint64_t from, uint64_t to, struct out *o,
                      char *buf, struct petal_error *err)
{
	while (from < to) {
		size_t want = to - from < BUF ? (size_t)(to - from) : BUF;
		ssize_t r = pread(in, buf, want, (off_t)from);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return petal_fail(err, PETAL_EIO, "%s: read failed at byte %llu: %s", in_path,
			                  (unsigned long long)from, r < 0 ? strerror(errno) : "end of file");
		int rc = out_put(o, buf, (size_t)r, err);
		if (rc)
			return rc;
		from += (uint64_t)r;
	}
	return 0;
}

struct patch {
	uint64_t at, end;
	char text[32];
};

static int write_record(int in, const char *in_path, const struct clear_rec *r, struct out *o,
                        char *buf, struct petal_error *err)
{
	struct patch p[2];
	int n = 0;
	if (r->rc_end > r->rc_at) {
		p[n] = (struct patch){ .at = r->rc_at, .end = r->rc_end };
		snprintf(p[n++].text, sizeof(p[0].text), "%lld", r->new_ref);
	}
	if (r->victim && r->ib_end > r->ib_at) {
		p[n] = (struct patch){ .at = r->ib_at, .end = r->ib_end };
		snprintf(p[n++].text, sizeof(p[0].text), "false");
	}
	if (n == 2 && p[1].at < p[0].at) {
		struct patch t = p[0];
		p[0] = p[1];
		p[1] = t;
	}
	uint64_t pos = r->start;
	int rc = 0;
	for (int i = 0; i < n && !rc; i++) {
		rc = copy_range(in, in_path, pos, p[i].at, o, buf, err);
		if (!rc)
			rc = out_put(o, p[i].text, strlen(p[i].text), err);
		pos = p[i].end;
	}
	if (!rc)
		rc = copy_range(in, in_path, pos, r->end, o, buf, err);
	return rc;
}

static int write_text_file(const char *text, char **path, struct petal_error *err)
{
	int rc = petal_cache_tmpfile(path, err);
	if (rc)
		return rc;
	rc = petal_write_file(*path, text, strlen(text), 0600, err);
	if (rc) {
		unlink(*path);
		free(*path);
		*path = NULL;
	}
	return rc;
}

int petal_cache_clear_write_index(const struct petal_mirror_io *io,
                                  struct petal_cache_clear_plan *plan, struct petal_error *err)
{
	(void)io;
	struct petal_cache_clear_priv *p = plan->priv;
	const char *in_path = p->idx->local;
	int in = open(in_path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return petal_fail(err, PETAL_EIO, "%s: cannot open: %s", in_path, strerror(errno));
	int rc = petal_cache_tmpfile(&p->new_index, err);
	if (rc)
		goto out_in;
	struct out o = { .path = p->new_index, .h = petal_sha256_new(), .buf = petal_xmalloc(BUF) };
	char *buf = petal_xmalloc(BUF);
	o.fd = open(p->new_index, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (o.fd < 0) {
		rc = petal_fail(err, PETAL_EIO, "%s: cannot open: %s", p->new_index, strerror(errno));
		goto out_buf;
	}
	char head[96];
	snprintf(head, sizeof(head), "{\"database\":{\"version\":\"%s\",\"installs\":{", p->db_version);
	rc = out_put(&o, head, strlen(head), err);
	for (size_t i = 0, first = 1; i < p->n_recs && !rc; i++) {
		if (!p->recs[i].in_new)
			continue;
		if (!first)
			rc = out_put(&o, ",", 1, err);
		first = 0;
		if (!rc)
			rc = write_record(in, in_path, &p->recs[i], &o, buf, err);
	}
	if (!rc)
		rc = out_put(&o, "}}}", 3, err);
	if (!rc)
		rc = out_flush(&o, err);
	if (!rc && fsync(o.fd) != 0)
		rc = petal_fail(err, PETAL_EIO, "%s: fsync failed: %s", p->new_index, strerror(errno));
	close(o.fd);
	if (rc)
		goto out_buf;
	petal_sha256_hex(o.h, p->new_sha);
	p->new_size = o.size;
	if (plan->layout == PETAL_CACHE_V3) {
		const struct petal_cache_index_info *info = petal_cache_index_info(p->idx);
		struct petal_cache_blobref b = {
			.media_type = (char *)info->media_type, .compression = (char *)"none",
			.size = p->new_size,
		};
		memcpy(b.checksum, p->new_sha, sizeof(b.checksum));
		char *text = petal_cache_manifest_format(&b, 1);
		rc = write_text_file(text, &p->new_manifest, err);
		free(text);
	} else {
		rc = write_text_file(p->new_sha, &p->new_manifest, err);
	}
out_buf:
	free(buf);
	free(o.buf);
	petal_sha256_free(o.h);
out_in:
	close(in);
	return rc;
}

/* Is the index still the one the plan read?  Only the manifest (v3) or the
   hash file (v2) is fetched: the checksum tells. */
static int unchanged(const struct petal_mirror_io *io, const struct petal_cache_clear_priv *p,
                     const struct petal_cache_clear_plan *plan, struct petal_error *err)
{
	const char *rel = plan->layout == PETAL_CACHE_V3 ? PETAL_V3_INDEX_MANIFEST
	                                                 : PETAL_V2_INDEX_HASH;
	if (plan->layout == PETAL_CACHE_V2 && !p->had_hash)
		return 0; /* nothing to compare with but the whole index */
	char *text;
	size_t len;
	int rc = petal_cache_get_small(io, rel, 1u << 20, &text, &len, err);
	if (rc)
		return rc;
	int same = 0;
	if (plan->layout == PETAL_CACHE_V2) {
		same = len >= 64 && !strncmp(text, p->old_sha, 64);
	} else {
		struct petal_cache_blobref *b;
		size_t n;
		int was_signed;
		struct petal_error e2 = { 0 };
		if (petal_cache_manifest_parse(text, len, rel, &b, &n, &was_signed, &e2) == 0) {
			for (size_t i = 0; i < n; i++)
				if (!strncmp(b[i].media_type, PETAL_SPACK_DB_MEDIA,
				             strlen(PETAL_SPACK_DB_MEDIA)))
					same = !strcmp(b[i].checksum, p->old_sha);
			petal_cache_blobrefs_free(b, n);
		}
	}
	free(text);
	if (!same)
		return petal_fail(err, PETAL_EINVAL,
		                  "%s/%s: the index changed since the clear was planned (a push or "
		                  "update-index meanwhile?); nothing was deleted: run the clear again",
		                  io->url, rel);
	return 0;
}

static int delete_range(const struct petal_mirror_io *io, const struct petal_cache_clear_opts *o,
                        const struct petal_cache_clear_plan *plan, size_t from, size_t to,
                        uint64_t *bytes, struct petal_error *err)
{
	for (size_t i = from; i < to; i += DELETE_BATCH) {
		size_t n = to - i < DELETE_BATCH ? to - i : DELETE_BATCH;
		int rc = io->del(io->arg, (const char *const *)plan->paths + i, n, err);
		if (rc)
			return rc;
		for (size_t k = i; k < i + n; k++)
			*bytes += plan->sizes[k];
		if (o->progress)
			o->progress(o->progress_arg, "deleting", i + n, plan->n_paths, *bytes);
	}
	return 0;
}

int petal_cache_clear_apply(const struct petal_mirror_io *io,
                            const struct petal_cache_clear_opts *opts,
                            struct petal_cache_clear_plan *plan, struct petal_error *err)
{
	struct petal_cache_clear_priv *p = plan->priv;
	if (!p || plan->n_victims == 0)
		return 0;
	int rc = unchanged(io, p, plan, err);
	if (rc)
		return rc;
	if (p->new_index) {
		if (plan->layout == PETAL_CACHE_V3) {
			char *blob = petal_cache_blob_path(p->new_sha);
			rc = io->put(io->arg, blob, p->new_index, err);
			free(blob);
			if (!rc)
				rc = io->put(io->arg, PETAL_V3_INDEX_MANIFEST, p->new_manifest, err);
		} else {
			rc = io->put(io->arg, PETAL_V2_INDEX, p->new_index, err);
			if (!rc)
				rc = io->put(io->arg, PETAL_V2_INDEX_HASH, p->new_manifest, err);
		}
		if (rc)
			return rc;
	}
	uint64_t bytes = 0;
	rc = delete_range(io, opts, plan, 0, p->n_first, &bytes, err);
	if (!rc)
		rc = delete_range(io, opts, plan, p->n_first, plan->n_paths, &bytes, err);
	return rc;
}
