/* Helpers of core/cache: sha256, object paths, a string map, temporary
   files, fetching small objects. */
#include "config.h"

#include "cache_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/util/util.h"

/* ---- sha256 ---- */

struct petal_sha256 {
	EVP_MD_CTX *ctx;
};

struct petal_sha256 *petal_sha256_new(void)
{
	struct petal_sha256 *h = petal_xcalloc(1, sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	/* only allocation can fail here, and petal aborts on that anyway */
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "petal: OpenSSL cannot start a sha256 digest\n");
		abort();
	}
	return h;
}

void petal_sha256_update(struct petal_sha256 *h, const void *data, size_t n)
{
	EVP_DigestUpdate(h->ctx, data, n);
}

void petal_sha256_hex(struct petal_sha256 *h, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(h->ctx, md, &len);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", i < len ? md[i] : 0);
	out[64] = '\0';
}

void petal_sha256_free(struct petal_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

/* ---- names ---- */

int petal_cache_is_sha256(const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

int petal_cache_rel_ok(const char *rel)
{
	if (!rel || !*rel || rel[0] == '/')
		return 0;
	const char *p = rel;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!slash)
			break;
		p = slash + 1;
		if (!*p)
			return 0; /* trailing slash */
	}
	return 1;
}

char *petal_cache_blob_path(const char *checksum)
{
	return petal_xasprintf("blobs/sha256/%.2s/%s", checksum, checksum);
}

int petal_cache_hash_from_name(const char *key, const char *suffix, char out[33])
{
	size_t kl = strlen(key), sl = strlen(suffix);
	if (kl < sl + 33 || strcmp(key + kl - sl, suffix) != 0)
		return 0;
	const char *h = key + kl - sl - 32;
	if (h[-1] != '-')
		return 0;
	for (int i = 0; i < 32; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= '0' && h[i] <= '9')))
			return 0;
	memcpy(out, h, 32);
	out[32] = '\0';
	return 1;
}

/* ---- string map ---- */

struct petal_strmap_ent {
	char *key;
	uint64_t h;
	void *val;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static size_t find(const struct petal_strmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1, i = (size_t)h & mask;
	while (m->ents[i].key && (m->ents[i].h != h || strcmp(m->ents[i].key, key) != 0))
		i = (i + 1) & mask;
	return i;
}

static void rehash(struct petal_strmap *m)
{
	size_t ocap = m->cap;
	struct petal_strmap_ent *old = m->ents;
	m->cap = ocap ? ocap * 2 : 64;
	m->ents = petal_xcalloc(m->cap, sizeof(*m->ents));
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].key)
			continue;
		size_t j = find(m, old[i].key, old[i].h);
		m->ents[j] = old[i];
	}
	free(old);
}

void **petal_strmap_slot(struct petal_strmap *m, const char *key, int create)
{
	uint64_t h = fnv1a(key);
	if (m->cap) {
		size_t i = find(m, key, h);
		if (m->ents[i].key)
			return &m->ents[i].val;
	}
	if (!create)
		return NULL;
	if ((m->n + 1) * 4 > m->cap * 3)
		rehash(m);
	size_t i = find(m, key, h);
	m->ents[i].key = petal_xstrdup(key);
	m->ents[i].h = h;
	m->ents[i].val = NULL;
	m->n++;
	return &m->ents[i].val;
}

void *petal_strmap_get(const struct petal_strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	size_t i = find(m, key, fnv1a(key));
	return m->ents[i].key ? m->ents[i].val : NULL;
}

void petal_strmap_each(const struct petal_strmap *m,
                       void (*fn)(void *arg, const char *key, void *val), void *arg)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->ents[i].key)
			fn(arg, m->ents[i].key, m->ents[i].val);
}

void petal_strmap_release(struct petal_strmap *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->ents[i].key)
			continue;
		free(m->ents[i].key);
		if (free_val)
			free_val(m->ents[i].val);
	}
	free(m->ents);
	m->ents = NULL;
	m->cap = m->n = 0;
}

/* ---- local files ---- */

int petal_cache_tmpfile(char **path, struct petal_error *err)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	char *p = petal_xasprintf("%s/petal-cache.XXXXXX", dir);
	int fd = mkstemp(p);
	if (fd < 0) {
		int e = errno;
		petal_fail(err, PETAL_EIO, "%s: cannot create a temporary file: %s (set TMPDIR?)", p,
		           strerror(e));
		free(p);
		return PETAL_EIO;
	}
	close(fd);
	*path = p;
	return 0;
}

int petal_cache_fetch_local(const struct petal_mirror_io *io, const char *rel, char **path,
                            int *is_tmp, struct petal_error *err)
{
	if (io->local_path) {
		*is_tmp = 0;
		return io->local_path(io->arg, rel, path, err);
	}
	char *tmp;
	int rc = petal_cache_tmpfile(&tmp, err);
	if (rc)
		return rc;
	rc = io->get(io->arg, rel, tmp, err);
	if (rc) {
		unlink(tmp);
		free(tmp);
		return rc;
	}
	*path = tmp;
	*is_tmp = 1;
	return 0;
}

int petal_cache_get_small(const struct petal_mirror_io *io, const char *rel, size_t max,
                          char **data, size_t *len, struct petal_error *err)
{
	char *path;
	int is_tmp;
	int rc = petal_cache_fetch_local(io, rel, &path, &is_tmp, err);
	if (rc)
		return rc;
	struct petal_error e2 = { 0 };
	rc = petal_read_file(path, max, data, len, &e2);
	if (rc)
		petal_fail(err, rc, "%s/%s: cannot read: %s", io->url, rel, e2.msg);
	if (is_tmp)
		unlink(path);
	free(path);
	return rc;
}
