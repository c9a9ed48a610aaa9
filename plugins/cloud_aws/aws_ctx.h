/* The aws plugin's context and its one way to call AWS.
 *
 * Every service file (s3.c, ec2.c, ...) builds a struct aws_call and hands it
 * to aws_request(), which locates the endpoint, signs the request (SigV4),
 * sends it through the host's http (retries on throttling, 5xx and resets
 * for idempotent calls happen there), corrects the clock once after
 * RequestTimeTooSkewed, and turns any AWS error answer into a petal_error:
 *
 *	"<service> <operation>: <Code>: <Message> (request id <id>, HTTP <status>
 *	 <METHOD> <url>)"
 *
 * with PETAL_EAUTH for refused credentials or signatures, PETAL_ENOENT for
 * things that do not exist, PETAL_ENET for throttling and 5xx left after the
 * host's retries, PETAL_ECLOUD for the rest.  EC2's query API, for example:
 *
 *	char body[] = "Action=DescribeImages&Version=2016-11-15&Owner.1=self";
 *	struct petal_http_header h[] = {
 *		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
 *	};
 *	struct aws_call call = {
 *		.service = AWS_SVC_EC2, .operation = "DescribeImages",
 *		.method = "POST", .headers = h, .n_headers = 1,
 *		.body = body, .body_len = strlen(body), .idempotent = 1,
 *	};
 *	struct aws_response r;
 *	if (aws_request(ctx, &call, &r, err) != 0)
 *		return err->code;                    // r holds nothing
 *	struct xml_node *doc;
 *	int rc = xml_parse(r.body, r.body_len, &doc, err);
 *	aws_response_clear(ctx, &r);
 *	...
 *
 * Nothing here logs or returns a secret: -v shows method, URL and status.
 * aws_request() may be called from several threads at once with the same
 * context (S3 multipart parts do).
 */
#ifndef PETAL_AWS_CTX_H
#define PETAL_AWS_CTX_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <petal/plugin.h>

#include "aws_config.h"
#include "credentials.h"

#define AWS_CTX_HIDDEN __attribute__((visibility("hidden")))

/* S3 transfer tuning; the defaults suit real AWS, tests make them small. */
struct aws_s3_tuning {
	uint64_t multipart_threshold; /* objects at least this big go multipart */
	uint64_t part_size;           /* bytes per part (S3: >= 5 MiB but the last) */
	int part_threads;             /* parts in flight at once */
};

#define AWS_S3_DEFAULT_THRESHOLD (16ull << 20)
#define AWS_S3_DEFAULT_PART_SIZE (8ull << 20)
#define AWS_S3_DEFAULT_THREADS 4

/* config and credentials are resolved on first use (aws_ctx_ready), not at
   plugin init: `petal plan` inits the cloud and must work offline, without
   credentials and without waiting for an IMDS that is not there. */
struct aws_ctx {
	const struct petal_host *host;
	char seed_region[64];                 /* "" when not given */
	int ready;                            /* 0: not yet, 1: resolved, < 0: failed */
	struct petal_error ready_err;         /* why, when it failed */
	struct aws_config config;             /* region, endpoints: after ready */
	struct aws_credentials *credentials;  /* after ready; refreshed when expiring */
	struct aws_s3_tuning s3;
	pthread_mutex_t lock;                 /* guards ready, credentials and skew_s */
	long skew_s;                          /* server clock minus ours, seconds */
};

/* A context that resolves nothing yet.  `region`: the seed's, or NULL (then
   host->setting("region"), then the AWS chain).  Tuning comes from the defaults,
   overridden by host->setting("aws.s3_multipart_threshold"),
   ("aws.s3_part_size"), ("aws.s3_part_threads") when the host knows them,
   then by the environment variables PETAL_AWS_S3_MULTIPART_THRESHOLD,
   PETAL_AWS_S3_PART_SIZE, PETAL_AWS_S3_PART_THREADS (tests).
   0 with *out set, or PETAL_EINVAL for a malformed tuning value. */
AWS_CTX_HIDDEN int aws_ctx_new(const struct petal_host *host, const char *region,
                               struct aws_ctx **out, struct petal_error *err);
/* NULL is a no-op. */
AWS_CTX_HIDDEN void aws_ctx_free(struct aws_ctx *c);

/* Resolve config (region, endpoints) and credentials once; later calls
   return the first answer again.  aws_request calls it; call it yourself
   before reading c->config.  0 or the resolving error (PETAL_EAUTH,
   PETAL_EINVAL, ...). */
AWS_CTX_HIDDEN int aws_ctx_ready(struct aws_ctx *c, struct petal_error *err);

/* ---- one call -------------------------------------------------------------- */

struct aws_call {
	enum aws_service service; /* AWS_SVC_S3, _EC2, _ECR, _STS */
	const char *operation;    /* "PutObject", "RunInstances": errors and logs */
	const char *method;       /* "GET", "PUT", "POST", "HEAD", "DELETE" */

	/* Where: S3 names bucket and key (NULL key: the bucket itself), located
	   with aws_s3_locate (path-style on custom endpoints).  Other services
	   give path (percent-encoded, NULL for "/"), appended to the endpoint's
	   base path. */
	const char *bucket;
	const char *key;
	const char *path;
	const char *query;        /* "list-type=2&prefix=a%2Fb", encoded, no '?' */

	/* Extra headers (Content-Type, Content-MD5, x-amz-*); Host, X-Amz-Date,
	   X-Amz-Content-Sha256, X-Amz-Security-Token and Authorization are added. */
	const struct petal_http_header *headers;
	size_t n_headers;

	/* The body: bytes in memory, or body_len bytes of the file body_path
	   starting at body_offset (read once, signed, sent). */
	const void *body;
	size_t body_len;
	const char *body_path;
	uint64_t body_offset;

	int idempotent;       /* the host may repeat it (GET, HEAD, PUT of a whole object) */
	int timeout_s;        /* 0: the host's default */
	const char *out_path; /* 2xx body streamed to this file (the caller renames it) */

	/* Another region's settings (from aws_config_load) for this call, e.g.
	   an S3 bucket elsewhere; NULL: the context's. */
	const struct aws_config *config;

	/* A 2xx answer checked by the caller (its headers; with out_path the
	   file is in place): non-zero, with err filled, makes that answer a
	   failed attempt, repeated like a 5xx within the same attempts
	   (AWS_MAX_ATTEMPTS in all, not a loop around the host's loop).  When
	   the last attempt fails it, aws_request returns its error.  NULL: none. */
	int (*check)(void *arg, const char *headers, struct petal_error *err);
	void *check_arg;
};

struct aws_response {
	long status;         /* also set on failure, when an answer came */
	char error_code[128]; /* on failure: AWS's error code ("NoSuchKey"), or "" */
	char *body;          /* NUL-terminated; NULL with out_path */
	size_t body_len;
	char *headers;       /* raw header block */
	char request_id[128]; /* x-amz-request-id / x-amzn-RequestId, or "" */
	int attempts;        /* requests the host sent for it, retries included; more
	                        than 1 means an earlier one may have taken effect */
};

/* Sign, send and check one call.  Returns 0 for a 2xx answer with *out
   filled (clear it with aws_response_clear), else the error as described at
   the top with *out holding only status and error_code (nothing to clear),
   so a caller can tell BucketAlreadyOwnedByYou from BucketAlreadyExists.  A
   404 to HEAD (which has no body) reads as "NotFound" with PETAL_ENOENT. */
AWS_CTX_HIDDEN int aws_request(struct aws_ctx *c, const struct aws_call *call,
                               struct aws_response *out, struct petal_error *err);

/* Free what a response holds; safe twice and on a zeroed struct. */
AWS_CTX_HIDDEN void aws_response_clear(struct aws_ctx *c, struct aws_response *r);

/* The value of header `name` (case-insensitive) in a raw header block, of
   the last response when redirects or 100-continue left several; trimmed,
   copied into buf.  Returns buf, or NULL when absent or too long. */
AWS_CTX_HIDDEN const char *aws_header_get(const char *headers, const char *name,
                                          char *buf, size_t len);

/* ---- errors ---------------------------------------------------------------- */

/* What an error answer says; "" for what it does not. */
struct aws_error_info {
	char code[128];        /* "NoSuchKey", or one made from the status ("NotFound") */
	char message[512];
	char request_id[128];
	char server_time[64];  /* S3's <ServerTime> with RequestTimeTooSkewed */
	char bucket_region[64]; /* S3's x-amz-bucket-region, for a bucket elsewhere */
};

/* Read an error answer (S3's <Error>, EC2's <Response><Errors><Error>, STS's
   <ErrorResponse><Error>, or JSON {"__type", "message"} with
   x-amzn-ErrorType), never failing: what it cannot read stays "". */
AWS_CTX_HIDDEN void aws_error_parse(long status, const char *body, size_t body_len,
                                    const char *headers, struct aws_error_info *out);

/* The PETAL_E* code for an AWS error code and HTTP status. */
AWS_CTX_HIDDEN int aws_error_code(const char *aws_code, long status);

/* aws_error_parse, then fill err as at the top.  `what` is "METHOD url" for
   the message, or NULL.  Returns the code; `info` (may be NULL) gets what
   was read. */
AWS_CTX_HIDDEN int aws_error_from_response(const char *service_id, const char *operation,
                                           long status, const char *body, size_t body_len,
                                           const char *headers, const char *what,
                                           struct aws_error_info *info,
                                           struct petal_error *err);

/* ---- small helpers ----------------------------------------------------------- */

/* Percent-encode a query or form value (everything but A-Z a-z 0-9 - _ . ~);
   malloc'd, NULL without memory. */
AWS_CTX_HIDDEN char *aws_query_escape(const char *s);

/* Parse an HTTP date (RFC 7231 IMF-fixdate, also RFC 850 and asctime) or an
   ISO 8601 timestamp ("2024-01-02T03:04:05.000Z") into UTC seconds; -1 when
   it is neither. */
AWS_CTX_HIDDEN int64_t aws_parse_time(const char *s);

#endif /* PETAL_AWS_CTX_H */
