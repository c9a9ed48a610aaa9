/* Fuzz core/cache's readers of a mirror's metadata with one input: the
   streaming JSON tokenizer (jsonstream.c), a Spack index read through it
   (scan.c, as build_cache/index.json or a v3 index blob), and a manifest
   (manifest.c: PGP clear-signature, then {"version": 3, "data": [...]}).

   Invariants: the tokens, the verdict and its message do not depend on how
   the input is cut into chunks, nor on values being skipped; tokens point
   into the input in order and nest; a record's offsets are where
   `cache clear` splices (its key's quote, its closing brace, the literals of
   ref_count and in_buildcache); a manifest that parses formats to a text
   that parses to the same blobs and formats to itself. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/cache/cache_int.h"
#include "core/cache/jsonstream.h"
#include "fuzz.h"

#define MAX_DEPTH 64

/* ---- the tokenizer, fed three ways ------------------------------------- */

struct tokens {
	const uint8_t *data;
	size_t size;
	uint64_t digest;   /* of every token handed out */
	size_t n;
	uint64_t last_end;
	unsigned open;     /* containers open */
	int skip_some;     /* return PETAL_JSON_SKIP on keys starting with 's' */
};

static int on_token(void *arg, const struct petal_json_token *tok)
{
	struct tokens *t = arg;
	FUZZ_CHECK(tok->offset < tok->end && tok->end <= t->size);
	FUZZ_CHECK(tok->offset >= t->last_end);
	t->last_end = tok->end;
	switch (tok->type) {
	case PETAL_JSON_OBJECT_START:
	case PETAL_JSON_ARRAY_START:
		FUZZ_CHECK(tok->depth == t->open);
		FUZZ_CHECK(t->data[tok->offset] == (tok->type == PETAL_JSON_OBJECT_START ? '{' : '['));
		t->open++;
		break;
	case PETAL_JSON_OBJECT_END:
	case PETAL_JSON_ARRAY_END:
		FUZZ_CHECK(t->open > 0 && tok->depth == t->open - 1);
		FUZZ_CHECK(t->data[tok->offset] == (tok->type == PETAL_JSON_OBJECT_END ? '}' : ']'));
		t->open--;
		break;
	case PETAL_JSON_KEY:
	case PETAL_JSON_STRING:
		FUZZ_CHECK(tok->text && tok->text[tok->len] == '\0');
		FUZZ_CHECK(t->data[tok->offset] == '"' && t->data[tok->end - 1] == '"');
		FUZZ_CHECK(tok->len <= tok->end - tok->offset - 2);
		FUZZ_CHECK(tok->depth == t->open);
		break;
	case PETAL_JSON_NUMBER:
		FUZZ_CHECK(tok->len == tok->end - tok->offset);
		FUZZ_CHECK(!memcmp(tok->text, t->data + tok->offset, tok->len));
		FUZZ_CHECK(tok->depth == t->open);
		break;
	default:
		FUZZ_CHECK(tok->depth == t->open);
		break;
	}
	t->digest = fuzz_mix(t->digest, &tok->type, sizeof(tok->type));
	t->digest = fuzz_mix(t->digest, &tok->offset, sizeof(tok->offset));
	t->digest = fuzz_mix(t->digest, &tok->end, sizeof(tok->end));
	if (tok->text)
		t->digest = fuzz_mix(t->digest, tok->text, tok->len);
	t->n++;
	if (t->skip_some && tok->type == PETAL_JSON_KEY && tok->len && tok->text[0] == 's')
		return PETAL_JSON_SKIP;
	return 0;
}

/* cut: 0 the whole input at once (copied in), else chunks of 1..cut bytes
   written into the tokenizer's own buffer. */
static int tokenize(const uint8_t *data, size_t size, size_t cut, int skip_some,
                    struct tokens *t, struct petal_error *err)
{
	*t = (struct tokens){ .data = data, .size = size, .digest = FUZZ_MIX_INIT,
		              .skip_some = skip_some };
	/* a token limit past the input: only the memory bound would cut it */
	struct petal_jsonstream *js = petal_jsonstream_new(MAX_DEPTH, size + 1, on_token, t);
	int rc = 0;
	if (!cut) {
		rc = petal_jsonstream_feed(js, data, size, err);
	} else {
		uint64_t r = fuzz_mix(FUZZ_MIX_INIT, data, size < 64 ? size : 64);
		for (size_t at = 0; at < size && !rc;) {
			size_t avail;
			char *dst = petal_jsonstream_space(js, &avail);
			r = r * 6364136223846793005ull + 1442695040888963407ull;
			size_t n = 1 + (size_t)(r >> 33) % cut;
			if (n > size - at)
				n = size - at;
			if (n > avail)
				n = avail;
			memcpy(dst, data + at, n);
			rc = petal_jsonstream_commit(js, n, err);
			at += n;
		}
	}
	if (!rc)
		rc = petal_jsonstream_finish(js, err);
	if (!rc)
		FUZZ_CHECK(petal_jsonstream_offset(js) <= size);
	petal_jsonstream_free(js);
	return rc;
}

static void check_tokenizer(const uint8_t *data, size_t size)
{
	struct tokens whole, cut, skipped;
	struct petal_error e1 = { 0 }, e2 = { 0 }, e3 = { 0 };
	int rc1 = tokenize(data, size, 0, 0, &whole, &e1);
	/* chunks of 1..61 bytes: smaller ones make straddling tokens rescan too often */
	int rc2 = tokenize(data, size, 1 + size % 61, 0, &cut, &e2);
	FUZZ_CHECK(rc1 == 0 || rc1 == PETAL_EINVAL);
	if (rc1 != rc2 || strcmp(e1.msg, e2.msg) != 0)
		fprintf(stderr, "whole: %d %s\ncut: %d %s\n", rc1, e1.msg, rc2, e2.msg);
	FUZZ_CHECK(rc1 == rc2);
	FUZZ_CHECK(!strcmp(e1.msg, e2.msg));
	FUZZ_CHECK(whole.n == cut.n && whole.digest == cut.digest);
	if (rc1 == 0)
		FUZZ_CHECK(whole.open == 0);
	/* skipping is checked as strictly as reading */
	int rc3 = tokenize(data, size, 0, 1, &skipped, &e3);
	FUZZ_CHECK(rc3 == rc1);
	FUZZ_CHECK(!strcmp(e3.msg, e1.msg));
	FUZZ_CHECK(skipped.n <= whole.n);
}

/* ---- the index ------------------------------------------------------------ */

struct records {
	const uint8_t *data;
	size_t size;
	size_t n, in_cache;
	uint64_t last_end;
};

static int is_number_literal(const uint8_t *p, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("-+.eE0123456789", p[i]))
			return 0;
	return 1;
}

static int on_record(void *arg, const struct petal_cache_record *r, struct petal_error *err)
{
	struct records *rs = arg;
	(void)err;
	FUZZ_CHECK(r->hash && r->name && r->version && r->arch);
	FUZZ_CHECK(r->start < r->end && r->end <= rs->size && r->start >= rs->last_end);
	rs->last_end = r->end;
	FUZZ_CHECK(rs->data[r->start] == '"' && rs->data[r->end - 1] == '}');
	if (r->ref_count_end) {
		FUZZ_CHECK(r->start < r->ref_count_at && r->ref_count_at < r->ref_count_end &&
		           r->ref_count_end < r->end);
		FUZZ_CHECK(is_number_literal(rs->data + r->ref_count_at,
		                             r->ref_count_end - r->ref_count_at));
	}
	if (r->in_buildcache_end) {
		FUZZ_CHECK(r->start < r->in_buildcache_at &&
		           r->in_buildcache_at < r->in_buildcache_end && r->in_buildcache_end < r->end);
		size_t n = r->in_buildcache_end - r->in_buildcache_at;
		const char *lit = (const char *)rs->data + r->in_buildcache_at;
		FUZZ_CHECK((n == 4 && !memcmp(lit, "true", 4)) || (n == 5 && !memcmp(lit, "false", 5)));
	}
	for (size_t i = 0; i < r->n_deps; i++)
		FUZZ_CHECK(r->deps[i].types <= 15);
	rs->n++;
	rs->in_cache += r->in_buildcache != 0;
	return 0;
}

static char *index_file;

static void check_index(const uint8_t *data, size_t size)
{
	int fd = open(index_file, O_WRONLY | O_TRUNC | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);

	struct petal_sha256 *h = petal_sha256_new();
	petal_sha256_update(h, data, size);
	char sum[65];
	petal_sha256_hex(h, sum);
	petal_sha256_free(h);

	/* v3 (the blob's sha256 and size from its manifest) or v2 without a hash file */
	int v3 = size & 1;
	struct petal_cache_index idx = {
		.info = { .layout = v3 ? PETAL_CACHE_V3 : PETAL_CACHE_V2, .size = size },
		.url = "file:///fuzz",
		.object = v3 ? "blobs/sha256/00/index" : PETAL_V2_INDEX,
		.manifest = v3 ? PETAL_V3_INDEX_MANIFEST : PETAL_V2_INDEX_HASH,
		.checksum = v3 ? sum : NULL,
		.local = index_file,
	};
	struct records rs = { .data = data, .size = size };
	struct petal_cache_scan out;
	struct petal_error err = { 0 };
	int rc = petal_cache_index_scan(&idx, on_record, &rs, &out, &err);
	FUZZ_CHECK(rc == 0 || rc == PETAL_EINVAL);
	if (rc == 0) {
		FUZZ_CHECK(out.records == rs.n && out.in_cache == rs.in_cache);
		FUZZ_CHECK(out.bytes == size && !strcmp(out.sha256, sum));
		FUZZ_CHECK(!strcmp(out.db_version, "6") || !strcmp(out.db_version, "7") ||
		           !strcmp(out.db_version, "8"));
	} else {
		FUZZ_CHECK(err.msg[0] != '\0');
	}
	petal_strmap_release(&idx.compilers, free);
}

/* ---- manifests ------------------------------------------------------------ */

static void same_blobs(const struct petal_cache_blobref *a, size_t na,
                       const struct petal_cache_blobref *b, size_t nb)
{
	FUZZ_CHECK(na == nb);
	for (size_t i = 0; i < na; i++) {
		FUZZ_CHECK(!strcmp(a[i].media_type, b[i].media_type));
		FUZZ_CHECK(!strcmp(a[i].compression, b[i].compression));
		FUZZ_CHECK(!strcmp(a[i].checksum, b[i].checksum));
		FUZZ_CHECK(a[i].size == b[i].size);
	}
}

static void check_manifest(const uint8_t *data, size_t size)
{
	struct petal_cache_blobref *blobs = NULL;
	size_t n = 0;
	int was_signed = -1;
	struct petal_error err = { 0 };
	int rc = petal_cache_manifest_parse((const char *)data, size, "fuzz.manifest.json",
	                                    &blobs, &n, &was_signed, &err);
	FUZZ_CHECK(was_signed == 0 || was_signed == 1);
	if (rc) {
		FUZZ_CHECK(rc == PETAL_EINVAL);
		FUZZ_CHECK(!strncmp(err.msg, "fuzz.manifest.json: ", 20));
		return;
	}
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(petal_cache_is_sha256(blobs[i].checksum));
	char *text = petal_cache_manifest_format(blobs, n);
	struct petal_cache_blobref *again = NULL;
	size_t n2 = 0;
	int signed2 = -1;
	rc = petal_cache_manifest_parse(text, strlen(text), "formatted", &again, &n2, &signed2, &err);
	if (rc)
		fprintf(stderr, "formatted manifest refused: %s\n%s\n", err.msg, text);
	FUZZ_CHECK(rc == 0 && signed2 == 0);
	same_blobs(blobs, n, again, n2);
	char *text2 = petal_cache_manifest_format(again, n2);
	FUZZ_CHECK(!strcmp(text, text2));
	free(text2);
	free(text);
	petal_cache_blobrefs_free(again, n2);
	petal_cache_blobrefs_free(blobs, n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct petal_error err = { 0 };
	if (petal_cache_tmpfile(&index_file, &err) != 0) {
		fprintf(stderr, "fuzz_json: %s\n", err.msg);
		exit(1);
	}
	return 0;
}

static void remove_index_file(void) __attribute__((destructor));
static void remove_index_file(void)
{
	if (index_file)
		unlink(index_file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256 * 1024)
		return 0;
	check_tokenizer(data, size);
	check_index(data, size);
	check_manifest(data, size);
	return 0;
}
