/* The local cloud's file:// URLs and file helpers, shared by its files. */
#ifndef PETAL_CLOUD_LOCAL_PATH_H
#define PETAL_CLOUD_LOCAL_PATH_H

#include <stddef.h>

#include <petal/plugin.h>

#define LOCAL_HIDDEN __attribute__((visibility("hidden")))
#define CLOUD "local"

/* Names of petal's own temporary files: never listed as objects. */
#define LOCAL_TMP_PREFIX ".petal-tmp-"
#define LOCAL_PROBE_PREFIX ".petal-probe-"

struct local_ctx {
	const struct petal_host *host;
};

enum local_url_kind {
	LOCAL_URL_OBJECT = 0, /* names a file: no trailing '/' */
	LOCAL_URL_PREFIX = 1, /* a listing prefix: a trailing '/' allowed */
};

/* file:///abs/path (or file://localhost/abs/path) -> "/abs/path",
   percent-decoded, with no "." or ".." or empty components.  Allocated with
   host->alloc.  PETAL_EINVAL with a message saying what to write instead. */
LOCAL_HIDDEN int local_url_path(const struct petal_host *h, const char *url,
                                 enum local_url_kind kind, char **path,
                                 struct petal_error *err);

/* Is this file name one of petal's temporary files? */
LOCAL_HIDDEN int local_is_tmp_name(const char *name);

/* mkdir -p (mode 0755); PETAL_EIO/PETAL_EAUTH with the path in the message. */
LOCAL_HIDDEN int local_mkdirs(const struct petal_host *h, const char *path,
                              struct petal_error *err);

/* Copy `src` (an open file) into a new temporary file in directory `dir`,
   fsync it and rename it to `dst`; the temporary file is removed on any
   failure, so `dst` holds its old bytes or the new ones, never a part.
   `fsync_dir`: also fsync `dir` so the rename survives a crash. */
LOCAL_HIDDEN int local_copy_atomic(const struct petal_host *h, int src, const char *src_name,
                                   const char *dir, const char *dst, int fsync_dir,
                                   struct petal_error *err);

/* Create `<dir>/<prefix><12 random letters>` exclusively (O_CREAT | O_EXCL |
   O_NOFOLLOW | O_CLOEXEC, mode 0600), retried when the name is taken, so a
   planted file or symlink is never opened.  The fd, or -1 with errno; *path
   is host->alloc'ed on success.  The same rule as core/util's petal_tmpfile,
   kept here because a plugin links nothing of petal's core. */
LOCAL_HIDDEN int local_tmp_open(const struct petal_host *h, const char *dir,
                                const char *prefix, char **path);

/* The code for an errno: PETAL_ENOENT, PETAL_EAUTH (permission) or PETAL_EIO. */
LOCAL_HIDDEN int local_errno_code(int e);

/* host->alloc'ed copies. */
LOCAL_HIDDEN char *local_strdup(const struct petal_host *h, const char *s);
LOCAL_HIDDEN char *local_dirname(const struct petal_host *h, const char *path);

#endif
