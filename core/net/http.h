/* The HTTP client the core offers plugins (host->http): libcurl, one
   reused handle per thread, TLS verified, retries in the AWS "standard"
   mode for requests that are safe to repeat. */
#ifndef PETAL_NET_HTTP_H
#define PETAL_NET_HTTP_H

#include <stdint.h>
#include <time.h>

#include <petal/plugin.h>

/* One request, retried per the rules below; thread-safe.
 *
 * Returns 0 whenever a final HTTP answer arrived, whatever its status (a 404
 * or a non-idempotent 503 is the caller's to interpret).  Returns PETAL_ENET
 * (PETAL_ETIMEOUT when the last attempt timed out) when no answer arrived or
 * retries ran out on a retryable status; PETAL_EINVAL for a bad request,
 * PETAL_EIO when out_path or in_path cannot be written or read.
 *
 * resp's body and headers are malloc'd: free them (host->free) whatever the
 * return, they hold the last answer when there was one (an exhausted 503
 * keeps its error document).  resp->status is 0 unless a whole answer
 * arrived: one cut short counts as none.  timeout_s bounds each attempt.  With out_path, a 2xx body goes to the file,
 * written beside it and renamed into place only when complete; other
 * statuses leave the file alone and their body arrives in resp->body.
 *
 * Retries: only when req->idempotent; on connection failures, resets,
 * timeouts, truncated bodies, HTTP 429/500/502/503/504 and what
 * req->retry_classify says.  The same signed request is sent again: SigV4
 * signatures stay valid for five minutes and the backoff stays far below
 * that (a RequestTimeTooSkewed is for the signer to fix with resp->date). */
int petal_http(const struct petal_http_request *req, struct petal_http_response *resp,
               struct petal_error *err);

/* Release this thread's curl handle (it is also released at thread exit). */
void petal_http_thread_cleanup(void);

/* ---- pieces, exposed for tests ------------------------------------------- */

/* Attempts in all: req->max_attempts, PETAL_MAX_ATTEMPTS, AWS_MAX_ATTEMPTS,
   else 3; within 1..PETAL_HTTP_MAX_ATTEMPTS. */
#define PETAL_HTTP_MAX_ATTEMPTS 50
int petal_http_max_attempts(const struct petal_http_request *req);

/* Full-jitter backoff before retry number `retry` (1 for the first):
   u * min(20 s, 100 ms * 2^(retry-1)), u uniform in [0, 1), in ms. */
long petal_http_backoff_ms(int retry, double u);

/* Is an HTTP status retryable by default (429, 500, 502, 503, 504)? */
int petal_http_status_retryable(long status);

/* An RFC 7231 date (IMF-fixdate, RFC 850 or asctime) as seconds since the
   epoch; -1 when it is not one. */
int64_t petal_http_parse_date(const char *s);
/* The value of header `name` in a raw header block, copied to buf
   (truncated); 0 when found, -1 otherwise. */
int petal_http_header_value(const char *headers, const char *name, char *buf,
                            size_t len);

/* url without userinfo and with the values of X-Amz-Signature,
   X-Amz-Credential and X-Amz-Security-Token replaced by "REDACTED"; at most
   len-1 bytes (an ellipsis marks a cut). */
void petal_http_redact_url(const char *url, char *buf, size_t len);

#endif
