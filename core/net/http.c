/* host->http: one request, retried in the AWS "standard" mode when the
   caller says it is safe to repeat. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "net_int.h"

#define RESP_HAS(r, m) PETAL_HAS(r, m)

/* Should this attempt be tried again (retries left aside)? */
static int wants_retry(const struct petal_http_request *req, const struct net_attempt *a)
{
	if (a->cc != CURLE_OK)
		return net_curl_retryable(a->cc);
	int verdict = PETAL_HTTP_DEFAULT;
	if (PETAL_HAS(req, retry_classify) && req->retry_classify)
		verdict = req->retry_classify(req->retry_arg, a->status,
		                              petal_strbuf_str(&a->headers),
		                              petal_strbuf_str(&a->body), a->body.len);
	if (verdict == PETAL_HTTP_DEFAULT)
		return petal_http_status_retryable(a->status);
	return verdict == PETAL_HTTP_RETRY;
}

/* Hand the last answer to the caller.  An answer cut short counts as none
   (status 0, no body) so that a non-zero status always comes with its
   whole body; its headers stay for the request id and Date. */
static void fill_response(struct petal_http_response *resp, struct net_attempt *a,
                          int attempts)
{
	resp->status = a->cc == CURLE_OK ? a->status : 0;
	if (resp->status > 0 && !a->to_file) {
		resp->body_len = a->body.len;
		resp->body = a->body.buf ? petal_strbuf_detach(&a->body) : petal_xstrdup("");
	}
	if (a->headers.len)
		resp->headers = petal_strbuf_detach(&a->headers);
	if (RESP_HAS(resp, date)) {
		char v[128];
		int64_t t = -1;
		if (petal_http_header_value(resp->headers, "Date", v, sizeof(v)) == 0)
			t = petal_http_parse_date(v);
		resp->date = t > 0 ? t : 0;
	}
	if (RESP_HAS(resp, attempts))
		resp->attempts = attempts;
}

static int transport_failure(const struct petal_http_request *req, const char *url,
                             const struct net_attempt *a, int attempts, int retryable,
                             struct petal_error *err)
{
	int timeout = a->cc == CURLE_OPERATION_TIMEDOUT;
	const char *detail = a->errbuf[0] ? a->errbuf : curl_easy_strerror(a->cc);
	const char *hint = timeout ? "the peer is slow or unreachable: check the endpoint, "
	                             "or raise the timeout"
	                 : a->cc == CURLE_PEER_FAILED_VERIFICATION || a->cc == CURLE_SSL_CACERT_BADFILE
	                         ? "the server's certificate was not trusted: check the "
	                           "endpoint, or AWS_CA_BUNDLE for a private CA"
	                         : "check the endpoint, the network and proxy settings";
	int rc = petal_fail(err, timeout ? PETAL_ETIMEOUT : PETAL_ENET,
	                    "%s %s: %s%s after %d attempt%s%s; %s", req->method, url, detail,
	                    a->status ? " (the HTTP answer was cut short)" : "", attempts,
	                    attempts == 1 ? "" : "s",
	                    retryable && !req->idempotent ? " (not retried: the request is "
	                                                    "not safe to repeat)" : "",
	                    hint);
	if (PETAL_ERROR_HAS(err, retryable))
		err->retryable = retryable;
	return rc;
}

int petal_http(const struct petal_http_request *req, struct petal_http_response *resp,
               struct petal_error *err)
{
	char url[512];
	if (!req || !req->url || !*req->url || !req->method)
		return petal_fail(err, PETAL_EINVAL, "http: a request needs a method and a URL");
	if (!resp || !RESP_HAS(resp, headers))
		return petal_fail(err, PETAL_EINVAL, "http %s: no response struct (or one too "
		                  "small: set its size)", req->method);
	if (req->n_headers && !req->headers)
		return petal_fail(err, PETAL_EINVAL, "http %s: %zu headers but no list",
		                  req->method, req->n_headers);
	resp->status = 0;
	resp->body = resp->headers = NULL;
	resp->body_len = 0;
	if (RESP_HAS(resp, date))
		resp->date = 0;
	if (RESP_HAS(resp, attempts))
		resp->attempts = 0;
	petal_http_redact_url(req->url, url, sizeof(url));

	int max = req->idempotent ? petal_http_max_attempts(req) : 1;
	struct net_attempt a;
	int attempt, retry, rc;
	for (attempt = 1;; attempt++) {
		memset(&a, 0, sizeof(a));
		rc = net_transfer(req, &a, err);
		if (rc != 0) {
			fill_response(resp, &a, attempt);
			net_attempt_release(&a);
			return rc;
		}
		retry = wants_retry(req, &a);
		if (!retry || attempt >= max)
			break;
		net_attempt_release(&a);
		net_sleep_ms(petal_http_backoff_ms(attempt, net_random_unit()));
	}

	fill_response(resp, &a, attempt);
	if (a.cc != CURLE_OK)
		rc = transport_failure(req, url, &a, attempt, retry, err);
	else if (retry && req->idempotent)
		rc = petal_fail(err, PETAL_ENET, "%s %s: HTTP %ld after %d attempt%s (retries "
		                "exhausted); the service is failing or throttling: try again "
		                "later, or allow more attempts with PETAL_MAX_ATTEMPTS",
		                req->method, url, a.status, attempt, attempt == 1 ? "" : "s");
	if (rc < 0 && retry && PETAL_ERROR_HAS(err, retryable)) {
		err->http_status = a.status;
		err->retryable = 1;
	}
	net_attempt_release(&a);
	return rc;
}
