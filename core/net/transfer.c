/* One HTTP exchange through libcurl on a handle kept per thread, so
   connections, DNS answers and TLS sessions are reused between requests. */
#define _GNU_SOURCE /* mkostemp, memrchr, timegm */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net_int.h"

#define CONNECT_TIMEOUT_S 10L
#define STALL_TIMEOUT_S 30L
/* Never through a proxy: the instance metadata service answers only
   directly, and loopback peers are local by definition. */
#define NO_PROXY_ALWAYS "169.254.169.254,fd00:ec2::254,127.0.0.1,localhost,::1"

/* ---- the per-thread handle ------------------------------------------------- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t handle_key;
static CURLcode global_rc = CURLE_FAILED_INIT;
static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
	(void)h, (void)access, (void)arg;
	pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	(void)h, (void)arg;
	pthread_mutex_unlock(&share_locks[data]);
}

static void handle_destroy(void *h)
{
	curl_easy_cleanup(h);
}

static void init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (global_rc != CURLE_OK)
		return;
	pthread_key_create(&handle_key, handle_destroy);
	/* DNS answers and TLS sessions are shared between threads; connections
	   stay with their thread's handle (libcurl shares those unsafely). */
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(share_locks); i++)
		pthread_mutex_init(&share_locks[i], NULL);
	share = curl_share_init();
	if (share) {
		curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
		curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
		curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
		curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	}
}

/* Set while this thread's handle is in a transfer: a request made from
   inside a callback (progress) gets a handle of its own. */
static __thread int handle_busy;

static CURL *thread_handle(int *own)
{
	pthread_once(&once, init_once);
	*own = 0;
	if (global_rc != CURLE_OK)
		return NULL;
	if (handle_busy) {
		*own = 1;
		return curl_easy_init();
	}
	CURL *h = pthread_getspecific(handle_key);
	if (h) {
		curl_easy_reset(h); /* options only: connections and caches stay */
		return h;
	}
	h = curl_easy_init();
	if (h)
		pthread_setspecific(handle_key, h);
	return h;
}

void petal_http_thread_cleanup(void)
{
	pthread_once(&once, init_once);
	if (global_rc != CURLE_OK)
		return;
	CURL *h = pthread_getspecific(handle_key);
	if (h) {
		pthread_setspecific(handle_key, NULL);
		curl_easy_cleanup(h);
	}
}

/* ---- one transfer ------------------------------------------------------------ */

struct xfer {
	CURL *curl;
	const struct petal_http_request *req;
	struct net_attempt *a;
	/* upload */
	const char *up;       /* memory body */
	size_t up_len, up_off;
	FILE *up_file;
	/* download to out_path */
	int decided;          /* first body byte seen: file or memory chosen */
	struct petal_tmpfile file; /* fd -1: none (yet) */
	int local_errno;      /* writing the file failed */
	int aborted;          /* the progress callback said stop */
};

static int has_member(const struct petal_http_request *req, size_t end)
{
	return req->size >= end;
}
#define REQ_HAS(req, m) \
	has_member(req, offsetof(struct petal_http_request, m) + sizeof((req)->m))

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	/* A status line starts a new block (after 100 Continue or a redirect):
	   keep only the final answer's headers. */
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
		x->a->headers.len = 0;
	petal_strbuf_add(&x->a->headers, p, len);
	return len;
}

static int open_temp(struct xfer *x)
{
	if (petal_tmpfile_open(&x->file, x->req->out_path, NULL, 0644, NULL) != 0) {
		x->local_errno = errno;
		return -1;
	}
	return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	if (!x->decided) {
		long st = 0;
		x->decided = 1;
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &st);
		/* Only a success is the object; an error document stays in memory
		   for the caller to read. */
		if (x->req->out_path && st >= 200 && st < 300 && open_temp(x) != 0)
			return 0;
	}
	if (x->file.fd < 0) {
		petal_strbuf_add(&x->a->body, p, len);
		return len;
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = write(x->file.fd, p + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			x->local_errno = w < 0 ? errno : EIO;
			return 0;
		}
		done += (size_t)w;
	}
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	if (x->up_file) {
		size_t r = fread(p, 1, len, x->up_file);
		return (r == 0 && ferror(x->up_file)) ? CURL_READFUNC_ABORT : r;
	}
	if (len > x->up_len - x->up_off)
		len = x->up_len - x->up_off;
	if (len)
		memcpy(p, x->up + x->up_off, len);
	x->up_off += len;
	return len;
}

/* libcurl rewinds the body when it must send it again on a new
   connection (a reused one closed under it). */
static int on_seek(void *arg, curl_off_t off, int origin)
{
	struct xfer *x = arg;
	if (origin != SEEK_SET || off < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	if (x->up_file)
		return fseeko(x->up_file, (off_t)off, SEEK_SET) == 0 ? CURL_SEEKFUNC_OK
		                                                     : CURL_SEEKFUNC_FAIL;
	if ((uint64_t)off > x->up_len)
		return CURL_SEEKFUNC_FAIL;
	x->up_off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct xfer *x = arg;
	int up = x->up_file || x->up_len;
	uint64_t done = (uint64_t)(up ? ulnow : dlnow);
	uint64_t total = (uint64_t)(up ? ultotal : dltotal);
	if (x->req->progress(x->req->progress_arg, done, total) != 0) {
		x->aborted = 1;
		return 1;
	}
	return 0;
}

/* HTTP header names and values may not carry line breaks: a caller's
   value must not smuggle in another header. */
static int header_ok(const char *s, int name)
{
	if (!s || (name && !*s))
		return 0;
	for (; *s; s++)
		if (*s == '\r' || *s == '\n' || (name && (*s == ':' || *s == ' ')))
			return 0;
	return 1;
}

static int caller_sets(const struct petal_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return 1;
	return 0;
}

static int build_headers(const struct petal_http_request *req, struct curl_slist **list,
                         struct petal_error *err)
{
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct petal_http_header *h = &req->headers[i];
		if (!header_ok(h->name, 1) || !header_ok(h->value, 0))
			return petal_fail(err, PETAL_EINVAL, "http: header %zu (%s) is empty or "
			                  "holds a line break, a colon or a space in its name",
			                  i, h->name ? h->name : "(null)");
		/* "Name;" is libcurl's way to send a header with an empty value */
		char *line = h->value[0] ? petal_xasprintf("%s: %s", h->name, h->value)
		                         : petal_xasprintf("%s;", h->name);
		*list = curl_slist_append(*list, line);
		free(line);
	}
	/* libcurl's own additions, unless the caller chose: no Expect:
	   100-continue round trip, no Accept the caller did not ask for. */
	if (!caller_sets(req, "Expect"))
		*list = curl_slist_append(*list, "Expect:");
	if (!caller_sets(req, "Accept"))
		*list = curl_slist_append(*list, "Accept:");
	return 0;
}

static long env_seconds(const char *name, long fallback)
{
	const char *v = getenv(name);
	char *end;
	if (!v || !*v)
		return fallback;
	long n = strtol(v, &end, 10);
	return (*end || n <= 0 || n > 86400) ? fallback : n;
}

static char *no_proxy_list(void)
{
	const char *env = getenv("no_proxy");
	if (!env || !*env)
		env = getenv("NO_PROXY");
	if (env && strcmp(env, "*") == 0)
		return petal_xstrdup("*");
	if (env && *env)
		return petal_xasprintf("%s,%s", env, NO_PROXY_ALWAYS);
	return petal_xstrdup(NO_PROXY_ALWAYS);
}

static int method_ok(const char *m)
{
	if (!m || !*m || strlen(m) > 32)
		return 0;
	for (; *m; m++)
		if (!((*m >= 'A' && *m <= 'Z') || *m == '-' || *m == '_'))
			return 0;
	return 1;
}

static void set_options(CURL *c, struct xfer *x, struct curl_slist *hdrs, const char *noproxy)
{
	const struct petal_http_request *req = x->req;
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->a->errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* S3 keys may hold "." and ".." segments, signed as sent */
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	const char *ca = getenv("AWS_CA_BUNDLE");
	if (ca && *ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_NOPROXY, noproxy);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	/* On a reused connection that dies before any answer, libcurl sends
	   the request again by itself; a request that is not safe to repeat
	   takes a fresh connection so that can never happen. */
	if (!req->idempotent)
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	if (share)
		curl_easy_setopt(c, CURLOPT_SHARE, share);

	long connect_s = env_seconds("PETAL_HTTP_CONNECT_TIMEOUT", CONNECT_TIMEOUT_S);
	if (req->timeout_s > 0) {
		curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)req->timeout_s);
		if (connect_s > req->timeout_s)
			connect_s = req->timeout_s;
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, connect_s);
	long stall_s = REQ_HAS(req, stall_timeout_s) && req->stall_timeout_s > 0
	               ? req->stall_timeout_s
	               : env_seconds("PETAL_HTTP_STALL_TIMEOUT", STALL_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall_s);

	if (REQ_HAS(req, follow_redirects) && req->follow_redirects) {
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	if (REQ_HAS(req, progress) && req->progress) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
}

/* The method and the body: PUT and POST always carry a Content-Length
   (0 when empty), which S3 and EC2 want. */
static int set_method(CURL *c, struct xfer *x, struct petal_error *err)
{
	const struct petal_http_request *req = x->req;
	const char *in_path = REQ_HAS(req, in_path) ? req->in_path : NULL;
	uint64_t len = req->body ? req->body_len : 0;
	if (in_path) {
		struct stat st;
		x->up_file = fopen(in_path, "rbe");
		if (!x->up_file)
			return petal_fail(err, PETAL_EIO, "http %s: cannot open %s to send: %s",
			                  req->method, in_path, strerror(errno));
		if (fstat(fileno(x->up_file), &st) != 0 || !S_ISREG(st.st_mode))
			return petal_fail(err, PETAL_EIO, "http %s: %s is not a regular file",
			                  req->method, in_path);
		len = (uint64_t)st.st_size;
	} else {
		x->up = req->body;
		x->up_len = req->body ? req->body_len : 0;
	}
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		return 0;
	}
	int body = in_path || (req->body && req->body_len) || strcmp(req->method, "PUT") == 0 ||
	           strcmp(req->method, "POST") == 0;
	if (body) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
	}
	if (strcmp(req->method, "GET") != 0 || body)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	return 0;
}

/* The file complete on disk, then in place: fsync before rename so a crash
   never leaves a short file under the final name. */
static int finish_file(struct xfer *x, struct petal_error *err)
{
	const char *path = x->req->out_path;
	if (x->file.fd < 0 && open_temp(x) != 0) /* an empty object */
		return petal_fail(err, PETAL_EIO, "http %s: cannot create a file beside %s: %s",
		                  x->req->method, path, strerror(x->local_errno));
	struct petal_error e2 = { 0 };
	if (petal_tmpfile_commit(&x->file, &e2) != 0)
		return petal_fail(err, PETAL_EIO, "http %s: cannot put the download in place: %s",
		                  x->req->method, e2.msg);
	x->a->to_file = 1;
	return 0;
}

int net_transfer(const struct petal_http_request *req, struct net_attempt *a,
                 struct petal_error *err)
{
	struct xfer x = { .req = req, .a = a, .file = { .fd = -1 } };
	struct curl_slist *hdrs = NULL;
	char *noproxy = NULL;
	int rc, own = 0;

	if (!method_ok(req->method))
		return petal_fail(err, PETAL_EINVAL, "http: method \"%s\" is not an HTTP method",
		                  req->method ? req->method : "(null)");
	if (req->out_path && !*req->out_path)
		return petal_fail(err, PETAL_EINVAL, "http %s: out_path is empty", req->method);
	x.curl = thread_handle(&own);
	if (!x.curl)
		return petal_fail(err, PETAL_ENET, "http %s: libcurl could not start (%s)",
		                  req->method, curl_easy_strerror(global_rc));
	rc = build_headers(req, &hdrs, err);
	if (rc != 0)
		goto out_headers;
	noproxy = no_proxy_list();
	set_options(x.curl, &x, hdrs, noproxy);
	rc = set_method(x.curl, &x, err);
	if (rc != 0)
		goto out_upload;

	handle_busy += !own;
	a->cc = curl_easy_perform(x.curl);
	handle_busy -= !own;
	curl_easy_getinfo(x.curl, CURLINFO_RESPONSE_CODE, &a->status);
	if (x.local_errno) {
		rc = petal_fail(err, PETAL_EIO, "http %s: cannot write the download beside %s: %s",
		                req->method, req->out_path, strerror(x.local_errno));
		goto out_file;
	}
	if (x.aborted) {
		rc = petal_fail(err, PETAL_ENET, "http %s: stopped by the caller's progress "
		                "callback", req->method);
		goto out_file;
	}
	if (a->cc == CURLE_OK && req->out_path && a->status >= 200 && a->status < 300 &&
	    strcmp(req->method, "HEAD") != 0)
		rc = finish_file(&x, err);

out_file:
	petal_tmpfile_discard(&x.file);
out_upload:
	if (x.up_file)
		fclose(x.up_file);
	/* the handle must not keep pointers into this frame */
	curl_easy_setopt(x.curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(x.curl, CURLOPT_HTTPHEADER, NULL);
	free(noproxy);
out_headers:
	curl_slist_free_all(hdrs);
	if (own)
		curl_easy_cleanup(x.curl);
	return rc;
}

void net_attempt_release(struct net_attempt *a)
{
	petal_strbuf_release(&a->body);
	petal_strbuf_release(&a->headers);
}

int net_curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		return 1;
	default:
		return 0;
	}
}
