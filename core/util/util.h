/* Small helpers every part of the core uses: allocation, strings, errors. */
#ifndef PETAL_UTIL_H
#define PETAL_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#include <petal/plugin.h>

#define PETAL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure aborts with a message: petal has nothing useful to do
   without memory, and every caller stays free of NULL checks. */
void *petal_xmalloc(size_t n);
void *petal_xcalloc(size_t n, size_t size);
void *petal_xrealloc(void *p, size_t n);
char *petal_xstrdup(const char *s);       /* NULL stays NULL */
char *petal_xstrndup(const char *s, size_t n);
char *petal_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow *items (of *cap elements of `size` bytes) to hold at least `need`. */
void petal_grow(void **items, size_t *cap, size_t need, size_t size);
#define PETAL_PUSH(arr, n, cap, value)                                        \
	do {                                                                  \
		petal_grow((void **)&(arr), &(cap), (n) + 1, sizeof(*(arr))); \
		(arr)[(n)++] = (value);                                       \
	} while (0)

/* Fill err (may be NULL) and return code. */
int petal_fail(struct petal_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int petal_vfail(struct petal_error *err, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
const char *petal_strerror(int code);

/* A growable NUL-terminated string. */
struct petal_strbuf {
	char *buf;
	size_t len;
	size_t cap;
};
#define PETAL_STRBUF_INIT { NULL, 0, 0 }
void petal_strbuf_add(struct petal_strbuf *sb, const char *s, size_t n);
void petal_strbuf_puts(struct petal_strbuf *sb, const char *s);
void petal_strbuf_putc(struct petal_strbuf *sb, char c);
void petal_strbuf_printf(struct petal_strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void petal_strbuf_vprintf(struct petal_strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
const char *petal_strbuf_str(const struct petal_strbuf *sb); /* "" when empty */
char *petal_strbuf_detach(struct petal_strbuf *sb);            /* caller frees */
void petal_strbuf_release(struct petal_strbuf *sb);

/* Levenshtein distance, for did-you-mean suggestions. */
size_t petal_edit_distance(const char *a, const char *b);
/* The closest of `candidates` (NULL-terminated) within a sensible distance,
   or NULL. */
const char *petal_did_you_mean(const char *word, const char *const *candidates);

/* Write `len` bytes to path atomically (temporary file, fsync, rename). */
int petal_write_file(const char *path, const char *data, size_t len, int mode,
                     struct petal_error *err);
/* Read a whole file, refusing files larger than max_bytes. */
int petal_read_file(const char *path, size_t max_bytes, char **data, size_t *len,
                    struct petal_error *err);
/* mkdir -p */
int petal_mkdirs(const char *path, int mode, struct petal_error *err);

#endif
