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

/* Write `len` bytes to path atomically (petal_tmpfile: exclusive, fsync,
   rename, fsync of the directory); no temporary file is left on error. */
int petal_write_file(const char *path, const char *data, size_t len, int mode,
                     struct petal_error *err);
/* Read a whole file, refusing files larger than max_bytes. */
int petal_read_file(const char *path, size_t max_bytes, char **data, size_t *len,
                    struct petal_error *err);
/* mkdir -p */
int petal_mkdirs(const char *path, int mode, struct petal_error *err);

/* A file written beside its target and renamed over it when complete.  Its
   name is `<prefix><12 random letters>` in the target's directory (prefix
   NULL: ".<target's name>.tmp."), created with O_CREAT | O_EXCL | O_NOFOLLOW |
   O_CLOEXEC and `mode` (less the umask), retried when the name is taken: a
   planted file or symlink is never opened. */
struct petal_tmpfile {
	int fd;       /* write here */
	char *path;   /* the temporary name */
	char *target;
};
int petal_tmpfile_open(struct petal_tmpfile *t, const char *target, const char *prefix,
                       int mode, struct petal_error *err);
/* fsync, close, rename over the target, fsync the directory.  Whatever the
   outcome, the temporary file is gone and t is released. */
int petal_tmpfile_commit(struct petal_tmpfile *t, struct petal_error *err);
/* Close and remove the temporary file; release t.  A released t is a no-op. */
void petal_tmpfile_discard(struct petal_tmpfile *t);
/* write() all of data, through EINTR; -1 with errno on failure. */
int petal_write_fd(int fd, const char *data, size_t len);
/* fsync a directory, so a rename in it survives a crash. */
int petal_fsync_dir(const char *dir, struct petal_error *err);
/* A fresh directory beside target, ".<target's name>.tmp.XXXXXX" (mkdtemp):
   the caller frees the path. */
char *petal_tmpdir_beside(const char *target, struct petal_error *err);

/* Text from outside made safe for a terminal: C0 controls, DEL, ESC, C1
   (U+0080..U+009F) as \xNN, \n, \t, \r, \u00NN; invalid UTF-8 bytes as
   \xNN; valid printable UTF-8 kept.  Flags: */
enum {
	PETAL_ESC_LINES = 1, /* keep \n and \t (multi-line text, not one field) */
	PETAL_ESC_SGR = 2,   /* let colour sequences (ESC [ digits m) through */
	PETAL_ESC_JSON = 4,  /* jansson's output: only DEL and C1 escaped, as \u00NN */
};
/* One field or message: an allocated escaped copy ("" for NULL). */
char *petal_escape_text(const char *s, int flags);
/* A stream cut anywhere: a sequence cut at the end of one call waits for
   the next; petal_escape_finish writes out what still waits. */
struct petal_escaper {
	int flags;
	unsigned char pend[32];
	size_t n_pend;
};
void petal_escape_feed(struct petal_escaper *e, struct petal_strbuf *out, const char *s,
                       size_t n);
void petal_escape_finish(struct petal_escaper *e, struct petal_strbuf *out);
/* An S3 key prefix in its one form: no leading or trailing '/', no empty
   components ("/a//b/" is "a/b"; "/" and "" are the bucket's root, "").
   NULL with *out set (caller frees) when `in` can be a prefix, else what is
   wrong with it (control characters, a "." or ".." component, over 512
   bytes) with *out NULL. */
const char *petal_key_prefix_normalize(const char *in, char **out);

#endif
