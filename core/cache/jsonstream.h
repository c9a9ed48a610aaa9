/* A strict, incremental JSON tokenizer: bytes go in a chunk at a time, tokens
   come out through a callback, and memory stays bounded by the chunk size
   plus the longest single token, whatever the document's size.

   Strict means RFC 8259 and nothing more: no comments, no trailing commas, no
   NaN, no byte-order mark, no control characters or invalid UTF-8 in strings,
   no lone surrogates in \u escapes, nothing but whitespace after the
   top-level value.  Errors say at which byte offset and what was expected. */
#ifndef PETAL_CACHE_JSONSTREAM_H
#define PETAL_CACHE_JSONSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include <petal/plugin.h>

enum petal_json_type {
	PETAL_JSON_OBJECT_START = 1,
	PETAL_JSON_OBJECT_END,
	PETAL_JSON_ARRAY_START,
	PETAL_JSON_ARRAY_END,
	PETAL_JSON_KEY,
	PETAL_JSON_STRING,
	PETAL_JSON_NUMBER,
	PETAL_JSON_TRUE,
	PETAL_JSON_FALSE,
	PETAL_JSON_NULL,
};

struct petal_json_token {
	enum petal_json_type type;
	/* KEY and STRING: the decoded text, NUL-terminated (it may also hold a
	   NUL of its own from \u0000: len is the truth).  NUMBER: the literal's
	   text, not terminated.  Others: NULL.  Valid during the callback only. */
	const char *text;
	size_t len;
	uint64_t offset;  /* byte offset of the token's first byte in the input */
	uint64_t end;     /* one past its last byte */
	unsigned depth;   /* containers around it: the top-level value is at 0 */
};

/* What the callback returns: 0 to go on; PETAL_JSON_SKIP on a KEY to pass
   over that key's whole value, or on an OBJECT_START / ARRAY_START to pass
   over the rest of that container (its END included), without further
   callbacks but still checked as strictly; a negative PETAL_E* code to stop
   the parse, which then returns that code and leaves err to the callback. */
#define PETAL_JSON_SKIP 1
typedef int (*petal_json_cb)(void *arg, const struct petal_json_token *tok);

struct petal_jsonstream;

/* max_depth: deepest nesting accepted; max_token: longest single token in
   bytes (the buffer never holds more than that plus one chunk). */
struct petal_jsonstream *petal_jsonstream_new(unsigned max_depth, size_t max_token,
                                              petal_json_cb cb, void *arg);
void petal_jsonstream_free(struct petal_jsonstream *js);

/* Zero-copy input: petal_jsonstream_space gives room for at least one chunk
   at the end of the internal buffer; write up to *avail bytes there, then
   petal_jsonstream_commit(n) parses them. */
char *petal_jsonstream_space(struct petal_jsonstream *js, size_t *avail);
int petal_jsonstream_commit(struct petal_jsonstream *js, size_t n, struct petal_error *err);
/* Or copy the bytes in. */
int petal_jsonstream_feed(struct petal_jsonstream *js, const void *data, size_t n,
                          struct petal_error *err);
/* End of input: the document must be complete. */
int petal_jsonstream_finish(struct petal_jsonstream *js, struct petal_error *err);

/* Bytes consumed so far (the offset at which parsing stands). */
uint64_t petal_jsonstream_offset(const struct petal_jsonstream *js);

#endif
