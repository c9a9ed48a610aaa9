/* S3 for the aws cloud: the object operations of struct petal_cloud_ops.
 *
 * The s3_* operations have exactly the signatures of the ops table's object
 * members, with ctx a struct aws_ctx *.  URLs are s3://bucket/key.
 *
 * Integrity, end to end:
 * - put: every body is signed with its sha256 (x-amz-content-sha256, which
 *   S3 checks) and sent with Content-MD5 (S3 checks it too); a whole object
 *   also carries x-amz-checksum-sha256.  The object records the file's
 *   sha256 in x-amz-meta-petal-sha256, whatever way it was uploaded.
 *   Objects of at least the context's multipart threshold go in parts, in
 *   parallel, each part retried on its own; the completed upload's ETag is
 *   checked against the parts' MD5s, and any failure aborts the upload so
 *   nothing is left half-written.
 * - get: streamed to a temporary file beside the target, checked against
 *   x-amz-meta-petal-sha256, else a whole-object x-amz-checksum-sha256,
 *   else a plain (non-multipart) ETag's MD5, and its length; renamed into
 *   place only when it checks out.
 */
#ifndef PETAL_AWS_S3_H
#define PETAL_AWS_S3_H

#include <stddef.h>
#include <stdint.h>

#include <petal/plugin.h>

struct aws_ctx;

#define S3_HIDDEN __attribute__((visibility("hidden")))

/* Create the bucket when missing (in `region`, NULL for the context's, with
   a LocationConstraint outside us-east-1), then prove read and write by
   putting, reading back and deleting a small probe object under the URL's
   key prefix.  A bucket that exists but is not ours fails with PETAL_EAUTH. */
S3_HIDDEN int s3_bucket_ensure(void *ctx, const char *url, const char *region,
                               struct petal_error *err);

/* HeadObject.  info->key and info->etag point to storage of the calling
   thread, valid until its next s3_object_head. */
S3_HIDDEN int s3_object_head(void *ctx, const char *url, struct petal_object_info *info,
                             struct petal_error *err);

S3_HIDDEN int s3_object_put(void *ctx, const char *url, const char *local_path,
                            struct petal_error *err);
S3_HIDDEN int s3_object_get(void *ctx, const char *url, const char *local_path,
                            struct petal_error *err);

/* ListObjectsV2 through every page.  Keys are given relative to the prefix
   (a prefix not ending in '/' is a directory too: "s3://b/dir" lists
   "dir/..." as "..."), with sizes, mtimes and ETags (without quotes). */
S3_HIDDEN int s3_object_list(void *ctx, const char *url_prefix, petal_object_cb cb,
                             void *arg, struct petal_error *err);

/* DeleteObjects, at most 1000 keys a request (with Content-MD5); a key
   that does not exist is not an error.  Keys S3 refused are named in err. */
S3_HIDDEN int s3_object_delete(void *ctx, const char *const *urls, size_t n,
                               struct petal_error *err);

/* ---- shared by the s3 files ------------------------------------------------- */

struct s3_url {
	char *bucket;
	char *key; /* "" for the bucket itself or an empty prefix */
};

/* Split "s3://bucket/key".  0, PETAL_EINVAL or PETAL_ENOMEM. */
S3_HIDDEN int s3_url_parse(const char *url, struct s3_url *out, struct petal_error *err);
S3_HIDDEN void s3_url_clear(struct s3_url *u);

struct s3_digest {
	unsigned char md5[16];
	unsigned char sha256[32];
};

/* MD5 and SHA-256 of len bytes of a file from off, or of memory. */
S3_HIDDEN int s3_digest_file(const char *path, uint64_t off, uint64_t len,
                             struct s3_digest *d, struct petal_error *err);
S3_HIDDEN void s3_digest_mem(const void *p, size_t len, struct s3_digest *d);
/* Base64 of n bytes into out (at least 4 * ((n + 2) / 3) + 1 bytes). */
S3_HIDDEN void s3_base64(const unsigned char *p, size_t n, char *out);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
S3_HIDDEN void s3_hex(const unsigned char *p, size_t n, char *out);
/* An ETag without its quotes (and a W/ prefix), into buf. */
S3_HIDDEN const char *s3_etag_clean(const char *etag, char *buf, size_t len);

#endif /* PETAL_AWS_S3_H */
