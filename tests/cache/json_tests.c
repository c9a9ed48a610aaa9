/* core/cache/jsonstream.c: the strict incremental tokenizer, fed whole and
   in every small chunk size, must give the same tokens and the same errors
   at the same byte offsets. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/cache/jsonstream.h"
#include "../../core/util/util.h"
#include "suites.h"

struct sink {
	struct petal_strbuf out;
	const char *skip_key;  /* return PETAL_JSON_SKIP on this key */
	int stop_at;           /* stop (PETAL_EIO) at this token number, 0 never */
	int n;
};

static int on_tok(void *arg, const struct petal_json_token *t)
{
	struct sink *s = arg;
	if (++s->n == s->stop_at)
		return PETAL_EIO;
	if (s->out.len)
		petal_strbuf_putc(&s->out, ' ');
	switch (t->type) {
	case PETAL_JSON_OBJECT_START: petal_strbuf_puts(&s->out, "{"); break;
	case PETAL_JSON_OBJECT_END: petal_strbuf_puts(&s->out, "}"); break;
	case PETAL_JSON_ARRAY_START: petal_strbuf_puts(&s->out, "["); break;
	case PETAL_JSON_ARRAY_END: petal_strbuf_puts(&s->out, "]"); break;
	case PETAL_JSON_TRUE: petal_strbuf_puts(&s->out, "t"); break;
	case PETAL_JSON_FALSE: petal_strbuf_puts(&s->out, "f"); break;
	case PETAL_JSON_NULL: petal_strbuf_puts(&s->out, "null"); break;
	case PETAL_JSON_KEY:
	case PETAL_JSON_STRING:
	case PETAL_JSON_NUMBER:
		petal_strbuf_printf(&s->out, "%c%u:", t->type == PETAL_JSON_KEY ? 'k'
		                    : t->type == PETAL_JSON_STRING ? 's' : 'n', t->depth);
		petal_strbuf_add(&s->out, t->text, t->len);
		break;
	}
	if (t->type == PETAL_JSON_KEY && s->skip_key && !strcmp(t->text, s->skip_key))
		return PETAL_JSON_SKIP;
	return 0;
}

/* Tokenize doc[0..len) in chunks of `chunk` bytes (0: whole). */
static int run(const char *doc, size_t len, size_t chunk, struct sink *s, struct petal_error *err,
               size_t max_token)
{
	struct petal_jsonstream *js = petal_jsonstream_new(256, max_token, on_tok, s);
	int rc = 0;
	for (size_t at = 0; at < len && !rc;) {
		size_t n = chunk && len - at > chunk ? chunk : len - at;
		rc = petal_jsonstream_feed(js, doc + at, n, err);
		at += n;
	}
	if (!rc)
		rc = petal_jsonstream_finish(js, err);
	petal_jsonstream_free(js);
	return rc;
}

static const size_t chunks[] = { 0, 1, 2, 3, 5, 7, 64 };

static void expect_tokens(const char *doc, size_t len, const char *want)
{
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct sink s = { .out = PETAL_STRBUF_INIT };
		struct petal_error err = { 0 };
		int rc = run(doc, len, chunks[c], &s, &err, 0);
		if (rc || strcmp(petal_strbuf_str(&s.out), want) != 0)
			fprintf(stderr, "\n  chunk %zu: rc %d (%s)\n  got  %s\n  want %s\n", chunks[c], rc,
			        err.msg, petal_strbuf_str(&s.out), want);
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_STRING_EQUAL(petal_strbuf_str(&s.out), want);
		petal_strbuf_release(&s.out);
	}
}

static void expect_error(const char *doc, size_t len, const char *want)
{
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct sink s = { .out = PETAL_STRBUF_INIT };
		struct petal_error err = { 0 };
		int rc = run(doc, len, chunks[c], &s, &err, 0);
		if (rc != PETAL_EINVAL || !strstr(err.msg, want))
			fprintf(stderr, "\n  chunk %zu of %.40s: rc %d '%s', want '%s'\n", chunks[c], doc,
			        rc, err.msg, want);
		CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
		petal_strbuf_release(&s.out);
	}
}

#define TOKENS(doc, want) expect_tokens(doc, sizeof(doc) - 1, want)
#define ERROR(doc, want) expect_error(doc, sizeof(doc) - 1, want)

static void test_grammar(void)
{
	TOKENS("{\"a\":[1,-2.5e+3,0,0.25E-2,true,false,null],\"b\":{},\"c\":[]}",
	       "{ k1:a [ n2:1 n2:-2.5e+3 n2:0 n2:0.25E-2 t f null ] k1:b { } k1:c [ ] }");
	TOKENS(" \t\r\n\"top\" \n", "s0:top");
	TOKENS("-0", "n0:-0");
	TOKENS("123456789012345678901234567890", "n0:123456789012345678901234567890");
	TOKENS("[[[[]]]]", "[ [ [ [ ] ] ] ]");
	TOKENS("{\"\":\"\"}", "{ k1: s1: }");
}

static void test_strings(void)
{
	TOKENS("\"q\\\"b\\\\s\\/n\\nt\\tr\\rb\\bf\\f\"", "s0:q\"b\\s/n\nt\tr\rb\bf\f");
	/* \u escapes: BMP, a surrogate pair, raw UTF-8 passed through */
	TOKENS("\"\\u00e9\\u20AC\\ud83d\\ude00\"", "s0:\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	TOKENS("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "s0:\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* \u0000 decodes to a NUL inside the token, counted in len */
	struct sink s = { .out = PETAL_STRBUF_INIT };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(run("\"a\\u0000b\"", 10, 1, &s, &err, 0), 0);
	CU_ASSERT_EQUAL(s.out.len, 6);
	CU_ASSERT_EQUAL(memcmp(s.out.buf, "s0:a\0b", 6), 0);
	petal_strbuf_release(&s.out);
}

static void test_errors(void)
{
	ERROR("{\"a\":1,}", "byte 7: expected a string key after ','");
	ERROR("[1,]", "byte 3: expected a value");
	ERROR("01", "byte 1: malformed number");
	ERROR("1.x", "byte 2: expected a digit after '.'");
	ERROR("1.", "number cut short");
	ERROR("-", "number cut short");
	ERROR("1e+", "number cut short");
	ERROR("{\"a\":1} x", "byte 8: expected nothing after the top-level value");
	ERROR("{\"a\" 1}", "byte 5: expected ':'");
	ERROR("{1:2}", "byte 1: expected a string key or '}'");
	ERROR("[1 2]", "byte 3: expected ',' or ']'");
	ERROR("{\"a\":1]", "byte 6: expected ',' or '}'");
	ERROR("\"\\ud800\"", "high surrogate not followed by a low surrogate");
	ERROR("\"\\ud800\\u0041\"", "high surrogate not followed by a low surrogate");
	ERROR("\"\\udc00\"", "lone low surrogate");
	ERROR("\"\\u12\"", "four hex digits");
	ERROR("\"\\x\"", "unknown escape");
	ERROR("\"a\x01z\"", "byte 2: control character");
	ERROR("\"a\nz\"", "byte 2: control character");
	ERROR("\"\xc3\x28\"", "byte 1: invalid UTF-8");
	ERROR("\"\xed\xa0\x80\"", "invalid UTF-8");       /* an encoded surrogate */
	ERROR("\"\xc0\xaf\"", "invalid UTF-8");           /* overlong */
	ERROR("\"\xf4\x90\x80\x80\"", "invalid UTF-8");   /* past U+10FFFF */
	ERROR("\xef\xbb\xbf{}", "byte 0: expected a value");  /* no BOM */
	ERROR("NaN", "byte 0: expected a value");
	ERROR("nul", "truncated");
	ERROR("tru e", "expected a value (true, false or null?)");
	ERROR("{\"a\":\"b", "truncated");
	ERROR("{\"a\":[1,2", "unclosed");
	ERROR("", "no JSON value");
	ERROR("   ", "no JSON value");
	ERROR("// c\n{}", "byte 0: expected a value");
	char deep[600];
	memset(deep, '[', 300);
	memset(deep + 300, ']', 300);
	expect_error(deep, sizeof(deep), "byte 256: nesting deeper than allowed");
}

static void test_skip_and_stop(void)
{
	struct sink s = { .out = PETAL_STRBUF_INIT, .skip_key = "skip" };
	struct petal_error err = { 0 };
	const char *doc = "{\"skip\":[1,{\"x\":[\"y\"]},{}],\"k\":2,\"skip\":\"s\",\"z\":{\"skip\":3}}";
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		s.out.len = 0;
		CU_ASSERT_EQUAL(run(doc, strlen(doc), chunks[c], &s, &err, 0), 0);
		CU_ASSERT_STRING_EQUAL(petal_strbuf_str(&s.out),
		                       "{ k1:skip k1:k n1:2 k1:skip k1:z { k2:skip } }");
	}
	/* what is skipped is still checked */
	s.out.len = 0;
	CU_ASSERT_EQUAL(run("{\"skip\":[1,,2]}", 15, 0, &s, &err, 0), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "byte 11"));
	petal_strbuf_release(&s.out);

	/* a callback's code stops the parse */
	struct sink stop = { .out = PETAL_STRBUF_INIT, .stop_at = 3 };
	CU_ASSERT_EQUAL(run("[1,2,3,4]", 9, 1, &stop, &err, 0), PETAL_EIO);
	CU_ASSERT_EQUAL(stop.n, 3);
	petal_strbuf_release(&stop.out);
}

static void test_bounds(void)
{
	/* a token longer than the limit is refused, whatever the chunking */
	size_t n = 5000;
	char *doc = malloc(n + 3);
	if (!doc)
		abort();
	doc[0] = '"';
	memset(doc + 1, 'a', n);
	doc[n + 1] = '"';
	struct sink s = { .out = PETAL_STRBUF_INIT };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(run(doc, n + 2, 100, &s, &err, 1000), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "longer than the limit"));
	/* within the limit it is fine */
	s.out.len = 0;
	CU_ASSERT_EQUAL(run(doc, n + 2, 100, &s, &err, 10000), 0);
	CU_ASSERT_EQUAL(s.out.len, n + 3);
	petal_strbuf_release(&s.out);
	free(doc);

	/* offsets count from the start of the input across chunks */
	struct petal_jsonstream *js = petal_jsonstream_new(8, 0, on_tok, &s);
	s.out = (struct petal_strbuf)PETAL_STRBUF_INIT;
	char big[1000];
	memset(big, ' ', sizeof(big));
	CU_ASSERT_EQUAL(petal_jsonstream_feed(js, big, sizeof(big), &err), 0);
	CU_ASSERT_EQUAL(petal_jsonstream_feed(js, "[1,@]", 5, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "byte 1003"));
	petal_jsonstream_free(js);
	petal_strbuf_release(&s.out);
}

int fx_add_json_suite(void)
{
	CU_pSuite s = CU_add_suite("cache json tokenizer", NULL, NULL);
	if (!s || !CU_add_test(s, "the grammar, in any chunking", test_grammar) ||
	    !CU_add_test(s, "string escapes and UTF-8", test_strings) ||
	    !CU_add_test(s, "errors name the byte and what was expected", test_errors) ||
	    !CU_add_test(s, "skipping values, stopping from the callback", test_skip_and_stop) ||
	    !CU_add_test(s, "bounded tokens, offsets across chunks", test_bounds))
		return -1;
	return 0;
}
