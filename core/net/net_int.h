/* core/net internals: one attempt of a request, shared by http.c (the
   retry loop) and transfer.c (libcurl). */
#ifndef PETAL_NET_INT_H
#define PETAL_NET_INT_H

#include <curl/curl.h>

#include "../util/util.h"
#include "http.h"

/* What one attempt brought back. */
struct net_attempt {
	long status;                 /* 0: no HTTP answer */
	CURLcode cc;                 /* CURLE_OK: the whole answer arrived */
	char errbuf[CURL_ERROR_SIZE];
	struct petal_strbuf body;    /* in memory (also non-2xx answers to out_path) */
	struct petal_strbuf headers; /* the final header block, raw */
	int to_file;                 /* the body went to out_path, now in place */
};

/* Send req once on this thread's handle.  0 when the transfer ran (look at
   a->cc and a->status); PETAL_EINVAL, PETAL_EIO (local files) or PETAL_ENET
   (libcurl unusable, or the caller aborted) with err filled: not to retry. */
int net_transfer(const struct petal_http_request *req, struct net_attempt *a,
                 struct petal_error *err);

void net_attempt_release(struct net_attempt *a);

/* Is this libcurl failure worth another attempt (reset, refused, timeout,
   truncated answer)? */
int net_curl_retryable(CURLcode cc);

/* A uniform double in [0, 1) from the kernel's generator. */
double net_random_unit(void);
/* Sleep ms milliseconds, through signals. */
void net_sleep_ms(long ms);

#endif
