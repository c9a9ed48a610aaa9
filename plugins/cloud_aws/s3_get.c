/* S3: GetObject streamed to a file, verified, then renamed into place. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws_ctx.h"
#include "s3.h"

static int failf(struct petal_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int failf(struct petal_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	petal_error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

static int all_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Check the downloaded file against what the answer's headers promise.
   0, or PETAL_ECLOUD with err saying which check failed. */
static int verify(struct aws_ctx *c, const char *url, const char *tmp, const char *headers,
                  struct petal_error *err)
{
	char buf[256];
	struct stat st;
	if (stat(tmp, &st) != 0)
		return failf(err, PETAL_EIO, "S3 GetObject %s: the downloaded file '%s' is gone: %s",
		             url, tmp, strerror(errno));
	if (aws_header_get(headers, "Content-Length", buf, sizeof(buf)) &&
	    strtoull(buf, NULL, 10) != (unsigned long long)st.st_size)
		return failf(err, PETAL_ECLOUD, "S3 GetObject %s: %lld bytes arrived, the answer "
		             "announced %s", url, (long long)st.st_size, buf);
	struct s3_digest d;
	int rc = s3_digest_file(tmp, 0, (uint64_t)st.st_size, &d, err);
	if (rc != 0)
		return rc;
	char got[65], want[128];
	const char *how = NULL;
	if (aws_header_get(headers, "x-amz-meta-petal-sha256", want, sizeof(want)) &&
	    all_hex(want, 64)) {
		how = "sha256 (x-amz-meta-petal-sha256)";
		s3_hex(d.sha256, sizeof(d.sha256), got);
		for (char *p = want; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	} else if (aws_header_get(headers, "x-amz-checksum-sha256", want, sizeof(want)) &&
	           !strchr(want, '-') && strlen(want) == 44) {
		/* a composite checksum of parts ("...-3") says nothing of the whole */
		how = "x-amz-checksum-sha256";
		s3_base64(d.sha256, sizeof(d.sha256), got);
	} else {
		char raw[256], kms[64];
		s3_etag_clean(aws_header_get(headers, "ETag", raw, sizeof(raw)), want, sizeof(want));
		/* KMS-encrypted objects' ETags are not their MD5 */
		int is_kms = aws_header_get(headers, "x-amz-server-side-encryption", kms,
		                            sizeof(kms)) && strncasecmp(kms, "aws:kms", 7) == 0;
		if (!is_kms && all_hex(want, 32)) {
			how = "MD5 (ETag)";
			s3_hex(d.md5, sizeof(d.md5), got);
			for (char *p = want; *p; p++)
				*p = (char)tolower((unsigned char)*p);
		}
	}
	if (!how) {
		c->host->log(c->host, PETAL_LOG_DEBUG, "aws", "get %s: no whole-object checksum to check "
		             "(multipart ETag): length checked only", url);
		return 0;
	}
	if (strcmp(got, want) != 0)
		return failf(err, PETAL_ECLOUD, "S3 GetObject %s: the downloaded bytes' %s is %s, "
		             "the object's is %s", url, how, got, want);
	c->host->log(c->host, PETAL_LOG_DEBUG, "aws", "get %s: %s checked", url, how);
	return 0;
}

struct get_check {
	struct aws_ctx *c;
	const char *url, *tmp;
};

/* aws_call.check: a damaged download is a failed attempt, repeated within
   the host's attempts like a 5xx. */
static int check_download(void *arg, const char *headers, struct petal_error *err)
{
	struct get_check *g = arg;
	return verify(g->c, g->url, g->tmp, headers, err);
}

static int sync_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int s3_object_get(void *ctx, const char *url, const char *local_path,
                  struct petal_error *err)
{
	struct aws_ctx *c = ctx;
	struct s3_url u;
	int rc = s3_url_parse(url, &u, err);
	if (rc != 0)
		return rc;
	if (!*u.key) {
		s3_url_clear(&u);
		return failf(err, PETAL_EINVAL, "'%s' names a bucket, not an object", url);
	}
	if (!local_path || !*local_path) {
		s3_url_clear(&u);
		return failf(err, PETAL_EINVAL, "get %s: no local file given", url);
	}
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.petal-get-XXXXXX", local_path) < 0) {
		s3_url_clear(&u);
		return failf(err, PETAL_ENOMEM, "out of memory");
	}
	/* the name is ours from here until the rename or the unlink */
	int fd = mkstemp(tmp);
	if (fd < 0) {
		rc = failf(err, PETAL_EIO, "get %s: cannot create a file beside '%s': %s", url,
		           local_path, strerror(errno));
		goto out_tmp;
	}
	close(fd);

	struct petal_http_header h[] = { { "x-amz-checksum-mode", "ENABLED" } };
	struct get_check gc = { .c = c, .url = url, .tmp = tmp };
	/* one loop of attempts, the host's: a damaged download counts as one */
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "GetObject", .method = "GET",
		.bucket = u.bucket, .key = u.key, .headers = h, .n_headers = 1,
		.idempotent = 1, .out_path = tmp, .check = check_download, .check_arg = &gc,
	};
	struct aws_response r;
	rc = aws_request(c, &call, &r, err);
	if (rc == 0)
		aws_response_clear(c, &r);
	if (rc == 0 && sync_file(tmp) != 0)
		rc = failf(err, PETAL_EIO, "get %s: cannot sync '%s': %s", url, tmp, strerror(errno));
	if (rc == 0 && rename(tmp, local_path) != 0)
		rc = failf(err, PETAL_EIO, "get %s: cannot rename '%s' to '%s': %s", url, tmp,
		           local_path, strerror(errno));
	if (rc != 0)
		unlink(tmp);
out_tmp:
	free(tmp);
	s3_url_clear(&u);
	return rc;
}
