/* Test fixtures for tests/test_cache_index.c: copies of the real Spack
   mirrors in ../shared/testdata/spack-buildcache, and broken variants made
   from them. */
#ifndef PETAL_TESTS_CACHE_FIXTURES_H
#define PETAL_TESTS_CACHE_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

/* The shared test data directory: $PETAL_SHARED_TESTDATA, else
   $top_srcdir/../shared/testdata, else the first shared/testdata found
   walking up from $top_srcdir (make distcheck unpacks the tree deeper).
   NULL (and a message on stderr) when not found. */
const char *fx_testdata(void);

/* A fresh temporary directory (removed by fx_cleanup). */
char *fx_tmpdir(void);
void fx_cleanup(void);

/* Copy the tree at src into dst (created); files writable. 0 on success. */
int fx_copy_tree(const char *src, const char *dst);
/* A copy of shared/testdata/spack-buildcache/<name> in a new temporary
   directory; the path of the copy, or NULL. */
char *fx_mirror(const char *name);

/* dir/rel, allocated. */
char *fx_path(const char *dir, const char *rel);
char *fx_read(const char *path, size_t *len);
int fx_write(const char *path, const char *data, size_t len);
void fx_sha256_hex(const void *data, size_t len, char out[65]);
/* Set a file's mtime. */
int fx_touch(const char *path, int64_t mtime);
/* Replace the first occurrence of `from` by `to` in the file. */
int fx_replace(const char *path, const char *from, const char *to);

#endif
