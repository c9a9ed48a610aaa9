/* AWS Signature Version 4 for every service the aws plugin calls.
 *
 * The signer is pure: it reads only what it is given (it never calls time()
 * or getenv()) and fills a struct sigv4_signed with every intermediate the
 * spec defines, so tests compare each step and the caller logs what it needs.
 *
 * Use, for one request:
 *
 *	struct sigv4_request rq = {
 *		.method = "GET", .path = "/bucket/key", .query = "list-type=2",
 *		.headers = hdrs, .n_headers = n,     // must include Host
 *		.payload = body, .payload_len = len, // or .payload_hash
 *		.service = ep->signing_name, .region = cfg->region,
 *		.when = time(NULL) + skew,
 *		.access_key_id = cr->access_key_id,
 *		.secret_access_key = cr->secret_access_key,
 *		.session_token = cr->session_token,
 *		.flags = SIGV4_S3,
 *	};
 *	struct sigv4_signed sg;
 *	if (sigv4_sign(&rq, &sg, err) != 0) return err->code;
 *	// send: URL path rq.path, URL query sg.query, headers hdrs + sg.add
 *	sigv4_signed_clear(&sg);
 *
 * Paths.  `path` is the path as it goes in the request line, already
 * percent-encoded by the caller (sigv4_uri_encode with keep_slash builds it
 * from an S3 key).  Without SIGV4_S3 the canonical URI is that path with '.'
 * and '..' segments and empty segments removed and then URI-encoded again,
 * which is the spec's "encode twice" (a '%' of the wire form becomes '%25').
 * With SIGV4_S3 the path is neither normalised nor encoded again; only bytes
 * that may not appear unencoded (outside A-Z a-z 0-9 - _ . ~ / and valid %XX
 * escapes) are encoded, so a raw key and its encoded form sign alike.
 *
 * Queries.  `query` is taken as given (no leading '?'), each name and value
 * percent-decoded ('+' stays a plus sign, it is not a space) and encoded
 * again with the unreserved set, pairs sorted by name then value; a name
 * without '=' gets an empty value; empty pairs ("a=1&&b=2") are dropped.
 * The result, sigv4_signed.query, is a valid encoding of the same
 * parameters: send it as the URL's query so that what is signed is exactly
 * what is sent.
 *
 * Headers.  Every header given is signed, except hop-by-hop ones (Connection,
 * Expect, Transfer-Encoding, ...) and User-Agent, as the SDKs do.  Names are
 * lower-cased; values are trimmed with runs of spaces and tabs collapsed; a
 * value holding newlines (obsolete folding) is one value per line; repeated
 * names are joined with ',' in the order given.  X-Amz-Date,
 * X-Amz-Security-Token and (S3) x-amz-content-sha256 are the signer's: when
 * the caller passes one it must carry the value the signer would set, and it
 * is then not added again.
 */
#ifndef PETAL_AWS_SIGV4_H
#define PETAL_AWS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include <petal/plugin.h>

#define SIGV4_HIDDEN __attribute__((visibility("hidden")))

/* S3's rules: path used as given, x-amz-content-sha256 added and signed. */
#define SIGV4_S3 (1u << 0)
/* Add X-Amz-Security-Token after signing instead of signing it (the few
   services that want it so; the suite's post-sts-header-after). */
#define SIGV4_TOKEN_UNSIGNED (1u << 1)

/* payload_hash value for S3 bodies that are not hashed (streamed over TLS). */
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

struct sigv4_request {
	const char *method;  /* "GET", "PUT", ... as sent */
	const char *path;    /* request-line path; NULL or "" means "/" */
	const char *query;   /* without '?'; NULL or "" for none */
	const struct petal_http_header *headers; /* must include Host */
	size_t n_headers;
	/* The body: either its bytes, or payload_hash (64 lower-case hex
	   digits of its sha256, or SIGV4_UNSIGNED_PAYLOAD) when set. */
	const void *payload;
	size_t payload_len;
	const char *payload_hash;
	const char *service; /* signing name: "s3", "ec2", "ecr", "sts" */
	const char *region;
	time_t when;         /* signing time, UTC seconds */
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* or NULL */
	unsigned flags;      /* SIGV4_* */
};

/* Everything the signer produced; owned, released by sigv4_signed_clear.
   canonical_request holds the session token when one is signed, so log it
   only through sigv4_loggable(). */
struct sigv4_signed {
	char *canonical_request;
	char *string_to_sign;
	char *authorization;    /* the Authorization header's value */
	char *query;            /* canonical query: send it as the URL's query */
	char *signed_headers;   /* "host;x-amz-date" */
	char signature[65];
	char amz_date[17];      /* 20150830T123600Z */
	char payload_hash[65];  /* hex sha256 or UNSIGNED-PAYLOAD */
	/* Headers to add to the request, Authorization last.  Values point into
	   this struct, except X-Amz-Security-Token's, which is the request's
	   session_token (it must outlive the use of `add`). */
	struct petal_http_header add[4];
	size_t n_add;
};

/* Sign `rq`.  Returns 0, or PETAL_EINVAL (a missing field, a path that does
   not start with '/', a header the signer owns with another value, an
   Authorization header already present), or PETAL_ENOMEM; err says which.
   On failure `out` holds nothing to clear; clearing it is still safe. */
SIGV4_HIDDEN int sigv4_sign(const struct sigv4_request *rq, struct sigv4_signed *out,
                            struct petal_error *err);

/* Release what sigv4_sign filled; safe on a zeroed or already cleared struct. */
SIGV4_HIDDEN void sigv4_signed_clear(struct sigv4_signed *s);

/* The canonical request and string to sign for a debug log, with the value
   of any x-amz-security-token line masked; malloc'd, NULL without memory. */
SIGV4_HIDDEN char *sigv4_loggable(const struct sigv4_signed *s);

/* ---- the canonical forms (sigv4_canonical.c), exposed for tests ---------- */

/* The canonical URI of a request-line path under S3's rules or the others'. */
SIGV4_HIDDEN char *sigv4_canonical_uri(const char *path, int s3);
/* The canonical query of a query string given as is (see above). */
SIGV4_HIDDEN char *sigv4_canonical_query(const char *query);
/* One header value: lines trimmed, blanks collapsed, lines joined by ','. */
SIGV4_HIDDEN char *sigv4_header_value(const char *value);
/* The canonical header block ("name:value\n" for each name, sorted, repeats
   joined with ',' in order) and the signed-headers list ("host;x-amz-date"),
   leaving out hop-by-hop headers.  Names must be valid.  0 or PETAL_ENOMEM. */
SIGV4_HIDDEN int sigv4_canonical_headers(const struct petal_http_header *h, size_t n,
                                         char **block, char **names);

/* Percent-encode `n` bytes of `s`: everything but A-Z a-z 0-9 - _ . ~ (and
   '/' when keep_slash) as %XX, upper-case.  Malloc'd; NULL without memory. */
SIGV4_HIDDEN char *sigv4_uri_encode(const char *s, size_t n, int keep_slash);

/* Lower-case hex sha256 of `len` bytes into out[65]; 0 or PETAL_ENOMEM. */
SIGV4_HIDDEN int sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif /* PETAL_AWS_SIGV4_H */
