/* The retry policy: the AWS SDKs' "standard" mode (attempts, which
   answers to retry, exponential backoff with full jitter).  The SDKs'
   optional retry quota is left out: a long run against a throttling
   service would drain it and then fail requests that backoff would save. */
#define _GNU_SOURCE /* mkostemp, memrchr, timegm */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "net_int.h"

#define DEFAULT_ATTEMPTS 3
#define BASE_MS 100L
#define MAX_BACKOFF_MS 20000L

static int parse_attempts(const char *v)
{
	char *end;
	if (!v || !*v)
		return 0;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || *end || n < 1)
		return 0;
	return n > PETAL_HTTP_MAX_ATTEMPTS ? PETAL_HTTP_MAX_ATTEMPTS : (int)n;
}

int petal_http_max_attempts(const struct petal_http_request *req)
{
	if (PETAL_HAS(req, max_attempts) && req->max_attempts > 0)
		return req->max_attempts > PETAL_HTTP_MAX_ATTEMPTS ? PETAL_HTTP_MAX_ATTEMPTS
		                                                   : req->max_attempts;
	int n = parse_attempts(getenv("PETAL_MAX_ATTEMPTS"));
	if (!n)
		n = parse_attempts(getenv("AWS_MAX_ATTEMPTS"));
	return n ? n : DEFAULT_ATTEMPTS;
}

long petal_http_backoff_ms(int retry, double u)
{
	long cap = MAX_BACKOFF_MS;
	if (retry < 1)
		retry = 1;
	if (retry <= 20) /* beyond, the cap has long been reached */
		cap = BASE_MS << (retry - 1);
	if (cap > MAX_BACKOFF_MS)
		cap = MAX_BACKOFF_MS;
	if (u < 0)
		u = 0;
	if (u >= 1)
		u = 0.999999;
	return (long)(u * (double)cap);
}

int petal_http_status_retryable(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 ||
	       status == 504;
}

double net_random_unit(void)
{
	uint64_t x = 0;
	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != (ssize_t)sizeof(x)) {
		/* no entropy yet at early boot: the clock still spreads clients */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec;
	}
	return (double)(x >> 11) * 0x1.0p-53;
}

void net_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
