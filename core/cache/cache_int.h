/* core/cache internals shared by its files: hashing, a string map, local
   temporary files, small objects, manifests. */
#ifndef PETAL_CACHE_INT_H
#define PETAL_CACHE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "mirror.h"

/* sha256, incremental (OpenSSL EVP). */
struct petal_sha256;
struct petal_sha256 *petal_sha256_new(void);
void petal_sha256_update(struct petal_sha256 *h, const void *data, size_t n);
void petal_sha256_hex(struct petal_sha256 *h, char out[65]); /* finishes */
void petal_sha256_free(struct petal_sha256 *h);

/* 64 lowercase hex digits? */
int petal_cache_is_sha256(const char *s);
/* A relative object path petal will hand to the io (see mirror.h). */
int petal_cache_rel_ok(const char *rel);
/* "blobs/sha256/<2>/<checksum>" (caller frees). */
char *petal_cache_blob_path(const char *checksum);

/* String -> pointer map, open addressing; keys are copied. */
struct petal_strmap {
	struct petal_strmap_ent *ents;
	size_t cap, n;
};
#define PETAL_STRMAP_INIT { NULL, 0, 0 }
/* The value slot for key: NULL when absent and !create; a new slot holds NULL. */
void **petal_strmap_slot(struct petal_strmap *m, const char *key, int create);
void *petal_strmap_get(const struct petal_strmap *m, const char *key);
/* Visit every entry (order unspecified). */
void petal_strmap_each(const struct petal_strmap *m,
                       void (*fn)(void *arg, const char *key, void *val), void *arg);
/* Frees the keys, and each value with free_val when not NULL. */
void petal_strmap_release(struct petal_strmap *m, void (*free_val)(void *));

/* An empty temporary file under $TMPDIR (or /tmp); caller unlinks and frees. */
int petal_cache_tmpfile(char **path, struct petal_error *err);

/* A local file with the object's bytes: the io's own file when it offers one
   (*is_tmp = 0), else a downloaded temporary copy (*is_tmp = 1). */
int petal_cache_fetch_local(const struct petal_mirror_io *io, const char *rel, char **path,
                            int *is_tmp, struct petal_error *err);
/* A small object (manifest, hash file, layout.json), whole, NUL-terminated. */
int petal_cache_get_small(const struct petal_mirror_io *io, const char *rel, size_t max,
                          char **data, size_t *len, struct petal_error *err);

/* ---- the index (index.c, scan.c) ---- */

struct petal_cache_index {
	struct petal_cache_index_info info;
	char *url;
	char *object, *manifest, *checksum, *media_type;
	char *local;               /* local file with the index's bytes */
	int is_tmp;                /* ... a temporary copy, unlinked at free */
	struct petal_strmap compilers; /* v3: compiler record hash -> version */
};

/* ---- manifests (manifest.c) ---- */

struct petal_cache_blobref {
	char *media_type;
	char *compression;
	char checksum[65];
	uint64_t size;
};

/* Strip a PGP clear-signature's armour, leaving the signed text (dash-
   escapes undone); text that is not clear-signed is copied unchanged.
   `what` names the object for messages. */
int petal_cache_clearsign_strip(const char *text, size_t len, const char *what, char **out,
                                size_t *out_len, int *was_signed, struct petal_error *err);
/* Parse a v3 manifest ({"version":3,"data":[{contentLength, mediaType,
   compression, checksumAlgorithm: sha256, checksum}...]}), signed or not. */
int petal_cache_manifest_parse(const char *text, size_t len, const char *what,
                               struct petal_cache_blobref **blobs, size_t *n, int *was_signed,
                               struct petal_error *err);
/* Fetch and parse one manifest. */
int petal_cache_manifest_get(const struct petal_mirror_io *io, const char *rel,
                             struct petal_cache_blobref **blobs, size_t *n, int *was_signed,
                             struct petal_error *err);
void petal_cache_blobrefs_free(struct petal_cache_blobref *blobs, size_t n);
/* A manifest's text as Spack writes it (indent 0, no spaces). */
char *petal_cache_manifest_format(const struct petal_cache_blobref *blobs, size_t n);

/* ---- cache clear (clear.c plans, rewrite.c writes) ---- */

struct clear_dep {
	size_t rec;       /* index into recs, or NO_REC when not in the index */
	unsigned types;
};
#define NO_REC ((size_t)-1)

struct clear_rec {
	char *hash, *name, *version;
	int in_cache, has_time, time_invalid;
	double itime;
	uint64_t start, end, rc_at, rc_end, ib_at, ib_end;
	char **dep_hashes;          /* until resolved into deps */
	struct clear_dep *deps;
	size_t n_deps;
	int64_t time;
	int dated, old, victim, needed, in_new;
	long long new_ref;
};

struct petal_cache_clear_priv {
	struct petal_cache_index *idx;
	char db_version[16];
	struct clear_rec *recs;
	size_t n_recs, cap_recs;
	struct petal_strmap by_hash;    /* hash -> record index + 1 */
	size_t n_first;                 /* paths[0..n_first) go before the rest */
	char *new_index;                /* local file: the new index */
	char new_sha[65];
	uint64_t new_size;
	char *new_manifest;             /* v3: local file, the new index manifest */
	char old_sha[65];               /* the index the plan read: refuse if it changed */
	int had_hash;
};

/* Write the kept records into a new index file (priv->new_index...). */
int petal_cache_clear_write_index(const struct petal_mirror_io *io,
                                  struct petal_cache_clear_plan *plan, struct petal_error *err);

/* Paths Spack uses. */
#define PETAL_V3_LAYOUT "v3/layout.json"
#define PETAL_V3_INDEX_MANIFEST "v3/manifests/index/index.manifest.json"
#define PETAL_V3_SPEC_DIR "v3/manifests/spec"
#define PETAL_V3_MANIFEST_DIR "v3/manifests"
#define PETAL_V2_DIR "build_cache"
#define PETAL_V2_INDEX "build_cache/index.json"
#define PETAL_V2_INDEX_HASH "build_cache/index.json.hash"
#define PETAL_SPACK_DB_MEDIA "application/vnd.spack.db."

/* What to tell the user when an index is bad; a format: the mirror's URL
   goes last in the arguments. */
#define PETAL_CACHE_REBUILD_HINT "rebuild it with `spack buildcache update-index %s`"

/* The hash at the end of a spec manifest or spec file name
   ("<name>-<version>-<hash>.spec.manifest.json", "...-<hash>.spec.json(.sig)",
   "...-<hash>.spack"), copied into out[33]; 0 when the name has none. */
int petal_cache_hash_from_name(const char *key, const char *suffix, char out[33]);

#endif
