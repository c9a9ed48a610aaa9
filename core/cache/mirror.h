/* A Spack binary-cache mirror: what it holds, what a seed would hit, and
   clearing what is old, for both layouts Spack reads (v3: manifests and
   content-addressed blobs; v2: build_cache/ with index.json).

   The core reaches the mirror only through struct petal_mirror_io, so it
   needs no cloud: the CLI wires it to a cloud plugin's object ops (s3://,
   file://), and io_file.c provides a plain-directory version for tests and
   benchmarks. */
#ifndef PETAL_CACHE_MIRROR_H
#define PETAL_CACHE_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include <petal/plugin.h>

#include "core/seed/spec.h"

/* ---- the mirror's objects ------------------------------------------------ */

/* Objects are named by paths relative to the mirror's root, '/'-separated,
   never starting with '/' and never holding "." or ".." components
   ("v3/layout.json", "blobs/sha256/c0/c0d9...").  Every op returns 0 or a
   negative PETAL_E* code with err filled. */
struct petal_mirror_io {
	void *arg;
	const char *url; /* the mirror, for messages: "s3://bucket/prefix", "file:///dir" */
	/* Download to local_path (created or replaced); PETAL_ENOENT when the
	   object does not exist. */
	int (*get)(void *arg, const char *rel, const char *local_path, struct petal_error *err);
	/* Call cb for every object under the directory rel_dir ("" for the whole
	   mirror), in any order, with obj->key relative to rel_dir, obj->bytes and
	   obj->mtime filled.  A missing directory lists nothing. */
	int (*list)(void *arg, const char *rel_dir, petal_object_cb cb, void *cb_arg,
	            struct petal_error *err);
	/* Upload local_path: readers see the old object or the new one, never a
	   part of either. */
	int (*put)(void *arg, const char *rel, const char *local_path, struct petal_error *err);
	/* Delete objects; one already gone is not an error. */
	int (*del)(void *arg, const char *const *rels, size_t n, struct petal_error *err);
	/* Optional, may be NULL: a local file holding the object, to read in
	   place instead of downloading a copy (caller frees *path); PETAL_ENOENT
	   when there is no such object. */
	int (*local_path)(void *arg, const char *rel, char **path, struct petal_error *err);
};

/* file:// mirrors (io_file.c): url is "file:///abs/dir" or an absolute path.
   Writes are atomic (temporary file, fsync, rename). */
int petal_mirror_file_open(const char *url, struct petal_mirror_io *io, struct petal_error *err);
void petal_mirror_file_close(struct petal_mirror_io *io);

/* ---- the index ------------------------------------------------------------ */

enum petal_cache_layout {
	PETAL_CACHE_V2 = 2, /* build_cache/index.json + index.json.hash */
	PETAL_CACHE_V3 = 3, /* v3/manifests/index/index.manifest.json -> blobs/sha256/.. */
};

/* An index found on the mirror and brought to a local file, not yet read. */
struct petal_cache_index;

struct petal_cache_index_info {
	enum petal_cache_layout layout;
	const char *object;     /* the index data: v3 its blob, v2 build_cache/index.json */
	const char *manifest;   /* v3 the index manifest, v2 index.json.hash */
	const char *checksum;   /* sha256 hex the data must have; NULL: v2 mirror without .hash */
	uint64_t size;          /* v3: the manifest's contentLength; v2: 0 (unknown) */
	const char *media_type; /* v3: the blob's mediaType; v2: NULL */
	int manifest_signed;    /* v3: the manifest was PGP clear-signed */
};

/* Find the index the way Spack does (v3 first, then v2) and fetch it.
   PETAL_ENOENT when the mirror has none, PETAL_EINVAL when what is there is
   malformed; the message names the object and says what to do. */
int petal_cache_index_fetch(const struct petal_mirror_io *io, struct petal_cache_index **out,
                            struct petal_error *err);
void petal_cache_index_free(struct petal_cache_index *idx);
const struct petal_cache_index_info *petal_cache_index_info(const struct petal_cache_index *idx);

#define PETAL_DEP_BUILD 1u
#define PETAL_DEP_LINK 2u
#define PETAL_DEP_RUN 4u
#define PETAL_DEP_TEST 8u

struct petal_cache_dep {
	const char *name;
	const char *hash;
	unsigned types;   /* PETAL_DEP_* */
	int language;     /* provides c, cxx or fortran: the compiler (spec format v5) */
};

/* One install record, as much as petal needs of it.  Strings are valid
   during the callback only. */
struct petal_cache_record {
	const char *hash;
	const char *name;
	const char *version;
	const char *arch;             /* platform-os-target, "" when absent */
	const char *compiler;         /* NULL when the record names none */
	const char *compiler_version; /* NULL when unknown so far: for v3 records
	                                 it comes from the compiler's own record,
	                                 which may come later (see below) */
	const char *compiler_hash;    /* v3: the compiler's record; v2: NULL */
	int in_buildcache;
	int has_time;                 /* installation_time present, and a date */
	double installation_time;
	int time_invalid;             /* installation_time present but not a date
	                                 (not finite, before 1970, after 9999):
	                                 the spec is undated, never cleared */
	long long ref_count;
	const struct petal_cache_dep *deps;
	size_t n_deps;
	/* where it sits in the index: from the opening quote of its key to its
	   closing brace, and its ref_count and in_buildcache values (0, 0 when
	   absent) */
	uint64_t start, end;
	uint64_t ref_count_at, ref_count_end;
	uint64_t in_buildcache_at, in_buildcache_end;
};

/* Return 0 to go on, or a negative PETAL_E* code (err filled) to stop. */
typedef int (*petal_cache_record_cb)(void *arg, const struct petal_cache_record *rec,
                                     struct petal_error *err);

struct petal_cache_scan {
	char db_version[16];
	size_t records;
	size_t in_cache;
	char sha256[65];  /* of the bytes read */
	uint64_t bytes;
};

/* Stream the index once: sha256 (and v3 size) checked against the manifest
   or index.json.hash in the same pass, strict JSON, a database version petal
   knows, a callback per record.  Memory stays bounded whatever the index's
   size.  On error the records already handed out must be thrown away. */
int petal_cache_index_scan(struct petal_cache_index *idx, petal_cache_record_cb cb, void *arg,
                           struct petal_cache_scan *out, struct petal_error *err);
/* After a scan: the version of the compiler whose record has this hash, when
   that record was seen, else NULL. */
const char *petal_cache_index_compiler_version(const struct petal_cache_index *idx,
                                               const char *hash);

/* ---- what a seed would hit ------------------------------------------------ */

struct petal_cache_match {
	char *request;            /* the requested spec, canonical text */
	char *name;
	int hit;
	/* on a hit: the best record (highest version) */
	char *version;
	char *hash;
	char *compiler;           /* may be NULL */
	char *compiler_version;   /* may be NULL */
	char *arch;
};

/* Requested specs are matched on the fly as records stream past: a hit is an
   in-cache record of the same name whose version satisfies the request's
   constraint, and whose compiler (name, version) satisfies the request's
   %compiler when both name one.  Variants and dependencies are not compared. */
struct petal_cache_matcher;
struct petal_cache_matcher *petal_cache_matcher_new(const struct petal_spec *want, size_t n);
void petal_cache_matcher_add(struct petal_cache_matcher *m, const struct petal_cache_record *rec);
/* Results in request order (caller frees with petal_cache_matches_free). */
void petal_cache_matcher_finish(struct petal_cache_matcher *m, const struct petal_cache_index *idx,
                                struct petal_cache_match **out, size_t *n, size_t *hits);
void petal_cache_matcher_free(struct petal_cache_matcher *m);
void petal_cache_matches_free(struct petal_cache_match *matches, size_t n);

/* ---- cache status --------------------------------------------------------- */

enum petal_cache_time_source {
	PETAL_CACHE_TIME_NONE = 0,
	PETAL_CACHE_TIME_INSTALL = 1, /* records' installation_time */
	PETAL_CACHE_TIME_MTIME = 2,   /* spec manifests' / spec files' mtime */
};

struct petal_cache_status {
	enum petal_cache_layout layout;
	char db_version[16];
	char *index_object;
	char index_sha256[65];
	uint64_t index_bytes;
	int index_verified;      /* checksum known and matched */
	int manifest_signed;
	size_t records;          /* every record, externals included */
	size_t specs;            /* records with in_buildcache true */
	size_t distinct_names;   /* among specs */
	/* from one listing of the mirror (listed == 0 when io->list is NULL) */
	int listed;
	uint64_t objects, bytes;     /* every object in the mirror */
	uint64_t spec_objects;       /* v3 spec manifests, v2 spec files */
	uint64_t package_bytes;      /* v3 blobs but the index's, v2 .spack files */
	enum petal_cache_time_source time_source;
	int64_t oldest, newest;      /* seconds since the epoch */
	struct petal_cache_match *matches;
	size_t n_matches, hits;
	size_t undated;              /* specs whose installation_time is not a date */
	/* record hashes the index lists more than once (each counted once
	   above), and the first of them */
	size_t duplicates;
	char first_duplicate[96];
};

/* Read the mirror: index, listing, and matches for want[0..n_want). */
int petal_cache_status(const struct petal_mirror_io *io, const struct petal_spec *want,
                       size_t n_want, struct petal_cache_status *st, struct petal_error *err);
void petal_cache_status_release(struct petal_cache_status *st);

/* ---- cache clear ---------------------------------------------------------- */

/* Progress of long operations: objects and bytes done of the totals. */
typedef void (*petal_cache_progress_cb)(void *arg, const char *stage, uint64_t done,
                                        uint64_t total, uint64_t bytes);

struct petal_cache_clear_opts {
	int64_t now;          /* seconds since the epoch */
	int64_t older_than;   /* seconds: specs dated before now - older_than go */
	petal_cache_progress_cb progress; /* may be NULL */
	void *progress_arg;
};

struct petal_cache_spec_ref {
	char *hash;
	char *name;     /* NULL for a spec manifest the index does not list */
	char *version;
	int64_t time;
};

struct petal_cache_clear_plan {
	enum petal_cache_layout layout;
	struct petal_cache_spec_ref *victims;  /* specs that go */
	size_t n_victims;
	struct petal_cache_spec_ref *needed;   /* old, but kept specs link to them: they stay */
	size_t n_needed;
	size_t kept_specs;                     /* dated, newer than the cutoff */
	size_t undated;                        /* kept too: undated specs are never cleared */
	char **paths;           /* objects to delete, in the order they go */
	uint64_t *sizes;
	size_t n_paths;
	uint64_t bytes;         /* what deleting them frees (from the listing) */
	size_t missing_blobs;   /* referenced by a victim but already absent */
	int unsigned_index;     /* v3: the old index manifest was signed, the new one is not */
	struct petal_cache_clear_priv *priv;
};

/* Decide what --older-than would remove and prepare the new index; reads the
   mirror, writes nothing to it.  A plan with no victims changes nothing. */
int petal_cache_clear_plan(const struct petal_mirror_io *io,
                           const struct petal_cache_clear_opts *opts,
                           struct petal_cache_clear_plan *plan, struct petal_error *err);
/* Carry the plan out: new index first, then spec manifests / spec files,
   then the blobs or tarballs no kept spec references, then the old index
   blob.  Refuses when the mirror's index changed since the plan. */
int petal_cache_clear_apply(const struct petal_mirror_io *io,
                            const struct petal_cache_clear_opts *opts,
                            struct petal_cache_clear_plan *plan, struct petal_error *err);
void petal_cache_clear_plan_release(struct petal_cache_clear_plan *plan);

#endif
