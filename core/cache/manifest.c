/* v3 manifests: {"version": 3, "data": [blob records]}, possibly wrapped in a
   PGP clear-signature.  Manifests are small, so jansson reads them whole;
   only the index itself needs the streaming reader. */
#include "config.h"

#include "cache_int.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/util/util.h"

#define MANIFEST_MAX (1u << 20)
#define BEGIN_SIGNED "-----BEGIN PGP SIGNED MESSAGE-----"
#define BEGIN_SIG "-----BEGIN PGP SIGNATURE-----"
#define END_SIG "-----END PGP SIGNATURE-----"

/* Next line of text[*pos..len): start and length without its \n or \r\n;
   0 at the end. */
static int next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
	if (*pos >= len)
		return 0;
	const char *s = text + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	size_t l = nl ? (size_t)(nl - s) : len - *pos;
	*pos += l + (nl ? 1 : 0);
	if (l > 0 && s[l - 1] == '\r')
		l--;
	*line = s;
	*n = l;
	return 1;
}

static int line_is(const char *line, size_t n, const char *word)
{
	size_t wl = strlen(word);
	/* trailing blanks after an armour line are allowed (RFC 4880, 6.2) */
	if (n < wl || memcmp(line, word, wl) != 0)
		return 0;
	for (size_t i = wl; i < n; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return 0;
	return 1;
}

int petal_cache_clearsign_strip(const char *text, size_t len, const char *what, char **out,
                                size_t *out_len, int *was_signed, struct petal_error *err)
{
	size_t pos = 0;
	const char *line;
	size_t n;
	*was_signed = 0;
	if (len < strlen(BEGIN_SIGNED) || memcmp(text, BEGIN_SIGNED, strlen(BEGIN_SIGNED)) != 0) {
		*out = petal_xstrndup(text, len);
		*out_len = len;
		return 0;
	}
	*was_signed = 1;
	next_line(text, len, &pos, &line, &n);
	if (!line_is(line, n, BEGIN_SIGNED))
		return petal_fail(err, PETAL_EINVAL, "%s: malformed PGP clear-signature header line",
		                  what);
	/* armour headers ("Hash: SHA256") up to a blank line */
	for (;;) {
		if (!next_line(text, len, &pos, &line, &n))
			return petal_fail(err, PETAL_EINVAL,
			                  "%s: clear-signed text ends inside its armour headers", what);
		if (n == 0)
			break;
		const char *colon = memchr(line, ':', n);
		if (!colon || colon == line || (size_t)(colon - line) + 1 >= n || colon[1] != ' ')
			return petal_fail(err, PETAL_EINVAL,
			                  "%s: armour header line '%.*s' is not 'Key: value'", what,
			                  (int)(n > 60 ? 60 : n), line);
	}
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	int body_lines = 0;
	for (;;) {
		if (!next_line(text, len, &pos, &line, &n)) {
			petal_strbuf_release(&sb);
			return petal_fail(err, PETAL_EINVAL,
			                  "%s: clear-signed text has no '" BEGIN_SIG "' (truncated?)", what);
		}
		if (line_is(line, n, BEGIN_SIG))
			break;
		if (body_lines++)
			petal_strbuf_putc(&sb, '\n');
		if (n >= 2 && line[0] == '-' && line[1] == ' ') {
			line += 2; /* dash-escaped */
			n -= 2;
		}
		petal_strbuf_add(&sb, line, n);
	}
	int ended = 0;
	while (next_line(text, len, &pos, &line, &n))
		if (line_is(line, n, END_SIG))
			ended = 1;
	if (!ended) {
		petal_strbuf_release(&sb);
		return petal_fail(err, PETAL_EINVAL,
		                  "%s: clear-signature has no '" END_SIG "' (truncated?)", what);
	}
	*out_len = sb.len;
	*out = petal_strbuf_detach(&sb);
	return 0;
}

static int field_str(json_t *o, const char *key, const char *what, size_t i, const char **v,
                     struct petal_error *err)
{
	json_t *j = json_object_get(o, key);
	if (!json_is_string(j))
		return petal_fail(err, PETAL_EINVAL, "%s: data[%zu].%s missing or not a string", what, i,
		                  key);
	*v = json_string_value(j);
	return 0;
}

void petal_cache_blobrefs_free(struct petal_cache_blobref *blobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(blobs[i].media_type);
		free(blobs[i].compression);
	}
	free(blobs);
}

int petal_cache_manifest_parse(const char *text, size_t len, const char *what,
                               struct petal_cache_blobref **blobs, size_t *n, int *was_signed,
                               struct petal_error *err)
{
	char *body;
	size_t body_len;
	int rc = petal_cache_clearsign_strip(text, len, what, &body, &body_len, was_signed, err);
	if (rc)
		return rc;
	json_error_t jerr;
	json_t *root = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &jerr);
	free(body);
	if (!root)
		return petal_fail(err, PETAL_EINVAL, "%s: not JSON (line %d, column %d: %s)", what,
		                  jerr.line, jerr.column, jerr.text);
	struct petal_cache_blobref *out = NULL;
	size_t count = 0, cap = 0;
	json_t *version = json_object_get(root, "version");
	json_t *data = json_object_get(root, "data");
	if (!json_is_integer(version) || json_integer_value(version) != 3) {
		rc = petal_fail(err, PETAL_EINVAL, "%s: not a layout-3 manifest (\"version\" is not 3)",
		                what);
		goto out_root;
	}
	if (!json_is_array(data)) {
		rc = petal_fail(err, PETAL_EINVAL, "%s: \"data\" missing or not an array", what);
		goto out_root;
	}
	for (size_t i = 0; i < json_array_size(data); i++) {
		json_t *o = json_array_get(data, i);
		const char *mt = NULL, *comp = NULL, *alg = NULL, *sum = NULL;
		json_t *cl = json_object_get(o, "contentLength");
		if (!json_is_object(o)) {
			rc = petal_fail(err, PETAL_EINVAL, "%s: data[%zu] is not an object", what, i);
			goto out_blobs;
		}
		if (!json_is_integer(cl) || json_integer_value(cl) < 0) {
			rc = petal_fail(err, PETAL_EINVAL,
			                "%s: data[%zu].contentLength missing or not a size", what, i);
			goto out_blobs;
		}
		if ((rc = field_str(o, "mediaType", what, i, &mt, err)) ||
		    (rc = field_str(o, "compression", what, i, &comp, err)) ||
		    (rc = field_str(o, "checksumAlgorithm", what, i, &alg, err)) ||
		    (rc = field_str(o, "checksum", what, i, &sum, err)))
			goto out_blobs;
		if (strcmp(alg, "sha256") != 0) {
			rc = petal_fail(err, PETAL_EINVAL,
			                "%s: data[%zu] uses checksum algorithm '%s'; petal reads sha256 only",
			                what, i, alg);
			goto out_blobs;
		}
		if (!petal_cache_is_sha256(sum)) {
			rc = petal_fail(err, PETAL_EINVAL,
			                "%s: data[%zu].checksum is not 64 lowercase hex digits", what, i);
			goto out_blobs;
		}
		struct petal_cache_blobref b = {
			.media_type = petal_xstrdup(mt),
			.compression = petal_xstrdup(comp),
			.size = (uint64_t)json_integer_value(cl),
		};
		memcpy(b.checksum, sum, 65);
		PETAL_PUSH(out, count, cap, b);
	}
	*blobs = out;
	*n = count;
	json_decref(root);
	return 0;

out_blobs:
	petal_cache_blobrefs_free(out, count);
out_root:
	json_decref(root);
	return rc;
}

int petal_cache_manifest_get(const struct petal_mirror_io *io, const char *rel,
                             struct petal_cache_blobref **blobs, size_t *n, int *was_signed,
                             struct petal_error *err)
{
	char *text;
	size_t len;
	int rc = petal_cache_get_small(io, rel, MANIFEST_MAX, &text, &len, err);
	if (rc)
		return rc;
	char *what = petal_xasprintf("%s/%s", io->url, rel);
	rc = petal_cache_manifest_parse(text, len, what, blobs, n, was_signed, err);
	free(what);
	free(text);
	return rc;
}

static void put_json_string(struct petal_strbuf *sb, const char *s)
{
	petal_strbuf_putc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			petal_strbuf_printf(sb, "\\%c", c);
		else if (c < 0x20)
			petal_strbuf_printf(sb, "\\u%04x", c);
		else
			petal_strbuf_putc(sb, (char)c);
	}
	petal_strbuf_putc(sb, '"');
}

char *petal_cache_manifest_format(const struct petal_cache_blobref *blobs, size_t n)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	petal_strbuf_puts(&sb, "{\n\"version\":3,\n\"data\":[\n");
	for (size_t i = 0; i < n; i++) {
		petal_strbuf_printf(&sb, "%s{\n\"contentLength\":%llu,\n\"mediaType\":", i ? ",\n" : "",
		                    (unsigned long long)blobs[i].size);
		put_json_string(&sb, blobs[i].media_type);
		petal_strbuf_puts(&sb, ",\n\"compression\":");
		put_json_string(&sb, blobs[i].compression);
		petal_strbuf_puts(&sb, ",\n\"checksumAlgorithm\":\"sha256\",\n\"checksum\":");
		put_json_string(&sb, blobs[i].checksum);
		petal_strbuf_puts(&sb, "\n}");
	}
	petal_strbuf_puts(&sb, "\n]\n}");
	return petal_strbuf_detach(&sb);
}
