/* Strict incremental JSON tokenizer (see jsonstream.h).

   The input sits in one buffer: bytes already tokenized are dropped at the
   next petal_jsonstream_space, so the buffer holds at most one chunk plus
   the token that straddles the chunk boundary.  A token is only ever parsed
   whole: when its end is not in the buffer yet, parsing stops at its first
   byte and resumes there once more bytes arrive.  Strings are decoded in
   place (a decoded string is never longer than its source). */
#include "config.h"

#include "jsonstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/util.h"

/* Room offered per read: starts small (small documents stay cheap) and
   doubles while the reader fills it, up to CHUNK. */
#define FIRST_CHUNK (16u * 1024u)
#define CHUNK (256u * 1024u)

enum expect {
	EXP_VALUE,         /* top level, after ':' or after ',' in an array */
	EXP_VALUE_OR_END,  /* after '[' */
	EXP_KEY_OR_END,    /* after '{' */
	EXP_KEY,           /* after ',' in an object */
	EXP_COLON,         /* after a key */
	EXP_COMMA_OR_END,  /* after a member or an element */
	EXP_DONE,          /* after the top-level value */
};

struct petal_jsonstream {
	char *buf;
	size_t cap, len, pos;
	size_t chunk, offered;  /* room offered per read, and at the last call */
	uint64_t base;          /* input offset of buf[0] */
	unsigned max_depth, depth;
	unsigned char *stack;   /* 'o' or 'a' for each open container */
	size_t max_token;
	enum expect expect;
	petal_json_cb cb;
	void *arg;
	int muted;              /* skipping a value: no callbacks */
	unsigned mute_depth;
	int failed;             /* sticky: the first error's code */
};

/* String bytes: 0 plain, 1 '"', 2 '\\', 3 control, 4 not ASCII. */
static const unsigned char str_class[256] = {
	[0x00 ... 0x1f] = 3, ['"'] = 1, ['\\'] = 2, [0x80 ... 0xff] = 4,
};
static const unsigned char ws_class[256] = {
	[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1,
};

struct petal_jsonstream *petal_jsonstream_new(unsigned max_depth, size_t max_token,
                                              petal_json_cb cb, void *arg)
{
	struct petal_jsonstream *js = petal_xcalloc(1, sizeof(*js));
	js->max_depth = max_depth ? max_depth : 1;
	js->max_token = max_token ? max_token : CHUNK;
	js->stack = petal_xmalloc(js->max_depth + 1);
	js->chunk = FIRST_CHUNK;
	js->cap = js->chunk + 1;
	js->buf = petal_xmalloc(js->cap);
	js->cb = cb;
	js->arg = arg;
	js->expect = EXP_VALUE;
	return js;
}

void petal_jsonstream_free(struct petal_jsonstream *js)
{
	if (!js)
		return;
	free(js->buf);
	free(js->stack);
	free(js);
}

uint64_t petal_jsonstream_offset(const struct petal_jsonstream *js)
{
	return js->base + js->pos;
}

static void describe(char *out, size_t n, const char *b, size_t at, size_t len)
{
	if (at >= len) {
		snprintf(out, n, "the end of the input");
		return;
	}
	unsigned char c = (unsigned char)b[at];
	if (c >= 0x21 && c < 0x7f)
		snprintf(out, n, "'%c'", c);
	else
		snprintf(out, n, "byte 0x%02x", c);
}

static int fail_at(struct petal_jsonstream *js, struct petal_error *err, size_t at,
                   const char *what)
{
	char found[32];
	describe(found, sizeof(found), js->buf, at, js->len);
	js->failed = petal_fail(err, PETAL_EINVAL, "byte %llu: %s, found %s",
	                        (unsigned long long)(js->base + at), what, found);
	return js->failed;
}

/* Hand a token to the callback unless a skipped value is being passed over. */
static int emit(struct petal_jsonstream *js, struct petal_error *err, enum petal_json_type t,
                const char *text, size_t len, size_t start, size_t end, unsigned depth)
{
	(void)err;
	if (js->muted) {
		int closes = depth == js->mute_depth &&
		             t != PETAL_JSON_OBJECT_START && t != PETAL_JSON_ARRAY_START &&
		             t != PETAL_JSON_KEY;
		if (closes)
			js->muted = 0;
		return 0;
	}
	struct petal_json_token tok = {
		.type = t, .text = text, .len = len,
		.offset = js->base + start, .end = js->base + end, .depth = depth,
	};
	int rc = js->cb(js->arg, &tok);
	if (rc == PETAL_JSON_SKIP) {
		if (t == PETAL_JSON_KEY || t == PETAL_JSON_OBJECT_START ||
		    t == PETAL_JSON_ARRAY_START) {
			js->muted = 1;
			js->mute_depth = depth;
		}
		return 0;
	}
	if (rc) {
		js->failed = rc;
		return rc;
	}
	return 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at b[i..i+3], all before `end`; -1 if not. */
static long hex4(const char *b, size_t i, size_t end)
{
	if (i + 4 > end)
		return -1;
	long v = 0;
	for (size_t k = 0; k < 4; k++) {
		int h = hexval((unsigned char)b[i + k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static size_t put_utf8(char *w, unsigned long cp)
{
	if (cp < 0x80) {
		w[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		w[0] = (char)(0xc0 | (cp >> 6));
		w[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		w[0] = (char)(0xe0 | (cp >> 12));
		w[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		w[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	w[0] = (char)(0xf0 | (cp >> 18));
	w[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	w[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	w[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Length of the UTF-8 sequence at b[i] (lead byte >= 0x80): > 0 when valid,
   0 when it runs past `n` (more input needed), -1 when invalid. */
static int utf8_len(const unsigned char *b, size_t i, size_t n)
{
	unsigned char c = b[i];
	int need;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f; /* no encoded surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return -1;
	for (int k = 1; k <= need; k++) {
		if (i + (size_t)k >= n)
			return 0;
		unsigned char d = b[i + (size_t)k];
		if (k == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xbf))
			return -1;
	}
	return need + 1;
}

/* Scan the string starting at b[p] == '"'.  Returns 1 with *close at the
   closing quote, 0 when more input is needed, or fails. */
static int scan_string(struct petal_jsonstream *js, struct petal_error *err, size_t p,
                       size_t *close, int *escaped)
{
	const unsigned char *b = (const unsigned char *)js->buf;
	size_t n = js->len, q = p + 1;
	*escaped = 0;
	for (;;) {
		while (q < n && str_class[b[q]] == 0)
			q++;
		if (q >= n)
			return 0;
		switch (str_class[b[q]]) {
		case 1:
			*close = q;
			return 1;
		case 2:
			*escaped = 1;
			if (q + 1 >= n)
				return 0;
			q += 2;
			break;
		case 3:
			return fail_at(js, err, q, "control character inside a string (escape it)");
		default: {
			int l = utf8_len(b, q, n);
			if (l == 0)
				return 0;
			if (l < 0)
				return fail_at(js, err, q, "invalid UTF-8 inside a string");
			q += (size_t)l;
		}
		}
	}
}

/* Decode the escapes of b[s..e) in place; returns the decoded length. */
static int unescape(struct petal_jsonstream *js, struct petal_error *err, size_t s, size_t e,
                    size_t *out_len)
{
	char *b = js->buf;
	size_t r = s, w = s;
	while (r < e) {
		if (b[r] != '\\') {
			b[w++] = b[r++];
			continue;
		}
		char c = b[r + 1];
		switch (c) {
		case '"': case '\\': case '/':
			b[w++] = c;
			break;
		case 'b': b[w++] = '\b'; break;
		case 'f': b[w++] = '\f'; break;
		case 'n': b[w++] = '\n'; break;
		case 'r': b[w++] = '\r'; break;
		case 't': b[w++] = '\t'; break;
		case 'u': {
			long cp = hex4(b, r + 2, e);
			if (cp < 0)
				return fail_at(js, err, r, "\\u must be followed by four hex digits");
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail_at(js, err, r, "lone low surrogate in a \\u escape");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				long lo = -1;
				if (r + 7 < e && b[r + 6] == '\\' && b[r + 7] == 'u')
					lo = hex4(b, r + 8, e);
				if (lo < 0xdc00 || lo > 0xdfff)
					return fail_at(js, err, r,
					               "high surrogate not followed by a low surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				r += 6;
			}
			w += put_utf8(b + w, (unsigned long)cp);
			r += 6;
			continue;
		}
		default:
			return fail_at(js, err, r, "unknown escape in a string");
		}
		r += 2;
	}
	*out_len = w - s;
	return 0;
}

/* Number literal at b[p]: 1 with *end past it, 0 when more input may follow. */
static int scan_number(struct petal_jsonstream *js, struct petal_error *err, size_t p,
                       int final, size_t *end)
{
	const char *b = js->buf;
	size_t n = js->len, q = p;
#define DIGIT(i) ((i) < n && b[i] >= '0' && b[i] <= '9')
	if (q < n && b[q] == '-')
		q++;
	if (q >= n)
		goto more;
	if (b[q] == '0')
		q++;
	else if (DIGIT(q))
		while (DIGIT(q))
			q++;
	else
		return fail_at(js, err, q, "expected a digit in a number");
	if (q < n && b[q] == '.') {
		q++;
		if (q >= n)
			goto more;
		if (!DIGIT(q))
			return fail_at(js, err, q, "expected a digit after '.' in a number");
		while (DIGIT(q))
			q++;
	}
	if (q < n && (b[q] == 'e' || b[q] == 'E')) {
		q++;
		if (q < n && (b[q] == '+' || b[q] == '-'))
			q++;
		if (q >= n)
			goto more;
		if (!DIGIT(q))
			return fail_at(js, err, q, "expected a digit in a number's exponent");
		while (DIGIT(q))
			q++;
	}
#undef DIGIT
	if (q >= n && !final)
		return 0; /* the number may go on in the next chunk */
	if (q < n && ((b[q] >= '0' && b[q] <= '9') || b[q] == '.' || b[q] == 'e' ||
	              b[q] == 'E' || b[q] == '+' || b[q] == '-'))
		return fail_at(js, err, q, "malformed number (leading zero or stray sign?)");
	*end = q;
	return 1;
more:
	if (final)
		return fail_at(js, err, q, "number cut short");
	return 0;
}

static void after_value(struct petal_jsonstream *js)
{
	js->expect = js->depth == 0 ? EXP_DONE : EXP_COMMA_OR_END;
}

/* Tokenize what the buffer holds; stops at an incomplete token. */
static int parse(struct petal_jsonstream *js, int final, struct petal_error *err)
{
	char *b = js->buf;
	size_t n = js->len, p = js->pos;
	int rc;
	for (;;) {
		while (p < n && ws_class[(unsigned char)b[p]])
			p++;
		js->pos = p;
		if (p >= n)
			return 0;
		unsigned char c = (unsigned char)b[p];
		switch (js->expect) {
		case EXP_DONE:
			return fail_at(js, err, p, "expected nothing after the top-level value");
		case EXP_COLON:
			if (c != ':')
				return fail_at(js, err, p, "expected ':' after an object key");
			p++;
			js->expect = EXP_VALUE;
			continue;
		case EXP_COMMA_OR_END:
		case EXP_KEY_OR_END:
		case EXP_VALUE_OR_END: {
			char top = (char)js->stack[js->depth - 1];
			if (js->expect == EXP_COMMA_OR_END && c == ',') {
				p++;
				js->expect = top == 'o' ? EXP_KEY : EXP_VALUE;
				continue;
			}
			if ((c == '}' && top == 'o') || (c == ']' && top == 'a')) {
				js->depth--;
				rc = emit(js, err, top == 'o' ? PETAL_JSON_OBJECT_END : PETAL_JSON_ARRAY_END,
				          NULL, 0, p, p + 1, js->depth);
				if (rc)
					return rc;
				p++;
				after_value(js);
				continue;
			}
			if (js->expect == EXP_COMMA_OR_END)
				return fail_at(js, err, p, top == 'o' ? "expected ',' or '}' after a member"
				                                      : "expected ',' or ']' after an element");
			if (js->expect == EXP_KEY_OR_END && c != '"')
				return fail_at(js, err, p, "expected a string key or '}'");
			break;
		}
		case EXP_KEY:
			if (c != '"')
				return fail_at(js, err, p, "expected a string key after ','");
			break;
		case EXP_VALUE:
			break;
		}

		/* a key or a value starts at p */
		int is_key = js->expect == EXP_KEY || js->expect == EXP_KEY_OR_END;
		if (c == '"') {
			size_t close = 0;
			int escaped = 0;
			rc = scan_string(js, err, p, &close, &escaped);
			if (rc < 0)
				return rc;
			if (rc == 0)
				goto incomplete;
			size_t len = close - p - 1;
			if (escaped && (rc = unescape(js, err, p + 1, close, &len)) != 0)
				return rc;
			b[p + 1 + len] = '\0';
			rc = emit(js, err, is_key ? PETAL_JSON_KEY : PETAL_JSON_STRING, b + p + 1, len, p,
			          close + 1, js->depth);
			if (rc)
				return rc;
			p = close + 1;
			if (is_key)
				js->expect = EXP_COLON;
			else
				after_value(js);
			continue;
		}
		if (c == '{' || c == '[') {
			if (js->depth >= js->max_depth)
				return fail_at(js, err, p, "nesting deeper than allowed");
			rc = emit(js, err, c == '{' ? PETAL_JSON_OBJECT_START : PETAL_JSON_ARRAY_START,
			          NULL, 0, p, p + 1, js->depth);
			if (rc)
				return rc;
			js->stack[js->depth++] = c == '{' ? 'o' : 'a';
			js->expect = c == '{' ? EXP_KEY_OR_END : EXP_VALUE_OR_END;
			p++;
			continue;
		}
		if (c == '-' || (c >= '0' && c <= '9')) {
			size_t end = 0;
			rc = scan_number(js, err, p, final, &end);
			if (rc < 0)
				return rc;
			if (rc == 0)
				goto incomplete;
			rc = emit(js, err, PETAL_JSON_NUMBER, b + p, end - p, p, end, js->depth);
			if (rc)
				return rc;
			p = end;
			after_value(js);
			continue;
		}
		if (c == 't' || c == 'f' || c == 'n') {
			const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
			size_t wl = strlen(word), have = n - p < wl ? n - p : wl;
			if (memcmp(b + p, word, have) != 0)
				return fail_at(js, err, p, "expected a value (true, false or null?)");
			if (have < wl)
				goto incomplete;
			rc = emit(js, err,
			          c == 't' ? PETAL_JSON_TRUE : c == 'f' ? PETAL_JSON_FALSE : PETAL_JSON_NULL,
			          NULL, 0, p, p + wl, js->depth);
			if (rc)
				return rc;
			p += wl;
			after_value(js);
			continue;
		}
		return fail_at(js, err, p, js->expect == EXP_VALUE_OR_END ? "expected a value or ']'"
		                                                           : "expected a value");
	incomplete:
		js->pos = p;
		if (final)
			return fail_at(js, err, n, "input ends inside a token (truncated?)");
		if (n - p > js->max_token)
			return fail_at(js, err, p, "token longer than the limit");
		return 0;
	}
}

char *petal_jsonstream_space(struct petal_jsonstream *js, size_t *avail)
{
	if (js->pos > 0) {
		memmove(js->buf, js->buf + js->pos, js->len - js->pos);
		js->base += js->pos;
		js->len -= js->pos;
		js->pos = 0;
	}
	/* one byte kept spare so a string at the very end can be terminated */
	if (js->cap - js->len < js->chunk + 1) {
		js->cap = js->len + js->chunk + 1;
		js->buf = petal_xrealloc(js->buf, js->cap);
	}
	*avail = js->offered = js->cap - js->len - 1;
	return js->buf + js->len;
}

int petal_jsonstream_commit(struct petal_jsonstream *js, size_t n, struct petal_error *err)
{
	if (js->failed)
		return js->failed;
	if (n == js->offered && js->chunk < CHUNK)
		js->chunk *= 2;
	js->len += n;
	return parse(js, 0, err);
}

int petal_jsonstream_feed(struct petal_jsonstream *js, const void *data, size_t n,
                          struct petal_error *err)
{
	const char *d = data;
	while (n > 0) {
		size_t avail;
		char *dst = petal_jsonstream_space(js, &avail);
		size_t take = n < avail ? n : avail;
		memcpy(dst, d, take);
		int rc = petal_jsonstream_commit(js, take, err);
		if (rc)
			return rc;
		d += take;
		n -= take;
	}
	return 0;
}

int petal_jsonstream_finish(struct petal_jsonstream *js, struct petal_error *err)
{
	if (js->failed)
		return js->failed;
	int rc = parse(js, 1, err);
	if (rc)
		return rc;
	if (js->expect != EXP_DONE) {
		const char *what = js->depth > 0 ? "input ends inside an unclosed object or array (truncated?)"
		                                 : "input holds no JSON value";
		return fail_at(js, err, js->len, what);
	}
	return 0;
}
