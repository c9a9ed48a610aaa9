/* AWS's error answers, headers and dates: what each call's answer says. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "aws_ctx.h"
#include "sigv4.h"
#include "xml.h"

/* ---- headers -------------------------------------------------------------- */

/* The last response's block: after 100 Continue or a redirect the host may
   hand over several, each starting with a status line. */
static const char *last_block(const char *h)
{
	const char *start = h;
	for (const char *p = h; (p = strstr(p, "\nHTTP/")) != NULL; p++)
		start = p + 1;
	return start;
}

const char *aws_header_get(const char *headers, const char *name, char *buf, size_t len)
{
	if (!headers || !name || !buf || len == 0)
		return NULL;
	size_t nl = strlen(name);
	const char *found = NULL;
	size_t found_len = 0;
	for (const char *line = last_block(headers); *line;) {
		size_t n = strcspn(line, "\r\n");
		if (n > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1, *e = line + n;
			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			found = v;
			found_len = (size_t)(e - v);
		}
		line += n;
		while (*line == '\r' || *line == '\n')
			line++;
	}
	if (!found || found_len >= len)
		return NULL;
	memcpy(buf, found, found_len);
	buf[found_len] = '\0';
	return buf;
}

/* ---- error answers ------------------------------------------------------------- */

/* Copy `s` for a message: control characters become spaces, at most len-1 bytes. */
static void copy_clean(char *dst, size_t len, const char *s)
{
	size_t i = 0;
	for (; s && *s && i + 1 < len; s++)
		dst[i++] = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
	dst[i] = '\0';
}

static void from_xml(const char *body, size_t len, struct aws_error_info *out)
{
	struct petal_error e;
	struct xml_node *doc;
	if (xml_parse(body, len, &doc, &e) != 0)
		return;
	const struct xml_node *er = NULL;
	const char *rid = NULL;
	if (strcmp(doc->name, "Error") == 0) {             /* S3 */
		er = doc;
		rid = xml_text(doc, "RequestId");
		copy_clean(out->server_time, sizeof(out->server_time),
		           xml_text(doc, "ServerTime"));
		if (!out->bucket_region[0])
			copy_clean(out->bucket_region, sizeof(out->bucket_region),
			           xml_text(doc, "Region"));
	} else if (strcmp(doc->name, "Response") == 0) {   /* EC2 */
		er = xml_find(doc, "Errors/Error");
		rid = xml_text(doc, "RequestID");
	} else if (strcmp(doc->name, "ErrorResponse") == 0) { /* STS, IAM */
		er = xml_child(doc, "Error");
		rid = xml_text(doc, "RequestId");
	}
	if (er) {
		copy_clean(out->code, sizeof(out->code), xml_text(er, "Code"));
		copy_clean(out->message, sizeof(out->message), xml_text(er, "Message"));
	}
	if (rid && !out->request_id[0])
		copy_clean(out->request_id, sizeof(out->request_id), rid);
	xml_free(doc);
}

/* "com.amazonaws.ecr#RepositoryNotFoundException" or
   "RepositoryNotFoundException:http://..." -> the bare name */
static void bare_type(char *dst, size_t len, const char *t)
{
	const char *hash = strrchr(t, '#');
	if (hash)
		t = hash + 1;
	char tmp[128];
	copy_clean(tmp, sizeof(tmp), t);
	tmp[strcspn(tmp, ":")] = '\0';
	copy_clean(dst, len, tmp);
}

static void from_json(const char *body, size_t len, struct aws_error_info *out)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, 0, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		return;
	}
	const char *t = json_string_value(json_object_get(j, "__type"));
	if (!t)
		t = json_string_value(json_object_get(j, "code"));
	if (!t)
		t = json_string_value(json_object_get(j, "Code"));
	if (t)
		bare_type(out->code, sizeof(out->code), t);
	const char *m = json_string_value(json_object_get(j, "message"));
	if (!m)
		m = json_string_value(json_object_get(j, "Message"));
	copy_clean(out->message, sizeof(out->message), m);
	json_decref(j);
}

static const char *status_code_name(long status)
{
	switch (status) {
	case 301: return "PermanentRedirect";
	case 307: return "TemporaryRedirect";
	case 400: return "BadRequest";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "NotFound";
	case 405: return "MethodNotAllowed";
	case 409: return "Conflict";
	case 412: return "PreconditionFailed";
	case 416: return "InvalidRange";
	case 429: return "TooManyRequests";
	case 500: return "InternalError";
	case 502: return "BadGateway";
	case 503: return "ServiceUnavailable";
	case 504: return "GatewayTimeout";
	default: return NULL;
	}
}

void aws_error_parse(long status, const char *body, size_t body_len, const char *headers,
                     struct aws_error_info *out)
{
	*out = (struct aws_error_info){ 0 };
	char buf[256];
	if (aws_header_get(headers, "x-amz-request-id", buf, sizeof(buf)) ||
	    aws_header_get(headers, "x-amzn-RequestId", buf, sizeof(buf)))
		copy_clean(out->request_id, sizeof(out->request_id), buf);
	if (aws_header_get(headers, "x-amz-bucket-region", buf, sizeof(buf)))
		copy_clean(out->bucket_region, sizeof(out->bucket_region), buf);
	size_t skip = 0;
	while (body && skip < body_len && isspace((unsigned char)body[skip]))
		skip++;
	if (body && skip < body_len && body[skip] == '<')
		from_xml(body, body_len, out);
	else if (body && skip < body_len && body[skip] == '{')
		from_json(body + skip, body_len - skip, out);
	if (!out->code[0] && aws_header_get(headers, "x-amzn-ErrorType", buf, sizeof(buf)))
		bare_type(out->code, sizeof(out->code), buf);
	if (!out->code[0]) {
		const char *n = status_code_name(status);
		if (n)
			snprintf(out->code, sizeof(out->code), "%s", n);
		else
			snprintf(out->code, sizeof(out->code), "HTTP%ld", status);
	}
}

static int in(const char *code, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(code, *list) == 0)
			return 1;
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int aws_error_code(const char *code, long status)
{
	static const char *const auth[] = {
		"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "AuthFailure",
		"UnauthorizedOperation", "ExpiredToken", "ExpiredTokenException",
		"InvalidClientTokenId", "InvalidToken", "UnrecognizedClientException",
		"AccessDeniedException", "MissingAuthenticationToken", "IncompleteSignature",
		"InvalidSignatureException", "RequestTimeTooSkewed", "RequestExpired",
		"RequestInTheFuture", "AuthorizationHeaderMalformed", "InvalidSecurity",
		"MissingSecurityHeader", "AccountProblem", "AllAccessDisabled",
		"Unauthorized", "Forbidden", NULL,
	};
	static const char *const gone[] = {
		"NoSuchKey", "NoSuchBucket", "NoSuchUpload", "NoSuchVersion", "NotFound",
		"NoSuchEntity", "ResourceNotFoundException", NULL,
	};
	static const char *const busy[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException", "RequestThrottled",
		"ProvisionedThroughputExceededException", "TransactionInProgressException",
		"RequestLimitExceeded", "BandwidthLimitExceeded", "SlowDown",
		"PriorRequestNotComplete", "EC2ThrottledException", "InternalError",
		"InternalFailure", "ServiceUnavailable", "ServiceUnavailableException",
		"RequestTimeout", "RequestTimeoutException", "TooManyRequests",
		"BadGateway", "GatewayTimeout", "Unavailable", NULL,
	};
	if (code && *code) {
		if (in(code, auth))
			return PETAL_EAUTH;
		if (in(code, gone) || ends_with(code, ".NotFound") || ends_with(code, ".Malformed.NotFound") ||
		    ends_with(code, "NotFoundException"))
			return PETAL_ENOENT;
		if (in(code, busy))
			return PETAL_ENET;
	}
	if (status == 401 || status == 403)
		return PETAL_EAUTH;
	if (status == 404)
		return PETAL_ENOENT;
	if (status == 429 || status >= 500)
		return PETAL_ENET;
	return PETAL_ECLOUD;
}

static const char *hint(int rc, const struct aws_error_info *i)
{
	if (strcmp(i->code, "PermanentRedirect") == 0 || strcmp(i->code, "AuthorizationHeaderMalformed") == 0)
		return i->bucket_region[0] ? "the bucket is in another region: set the seed's "
		       "region or AWS_REGION to it" : "the bucket is in another region";
	switch (rc) {
	case PETAL_EAUTH: return "check the credentials, their permissions and the clock";
	case PETAL_ENET: return "the service is busy or failing: try again later";
	default: return NULL;
	}
}

/* Copy s into dst[len]; a string that does not fit ends with "...". */
static void copy_cut(char *dst, size_t len, const char *s)
{
	size_t n = strlen(s);
	if (n < len) {
		memcpy(dst, s, n + 1);
		return;
	}
	memcpy(dst, s, len - 4);
	memcpy(dst + len - 4, "...", 4);
}

int aws_error_from_response(const char *service_id, const char *operation, long status,
                            const char *body, size_t body_len, const char *headers,
                            const char *what, struct aws_error_info *info,
                            struct petal_error *err)
{
	struct aws_error_info local;
	if (!info)
		info = &local;
	aws_error_parse(status, body, body_len, headers, info);
	int rc = aws_error_code(info->code, status);
	const char *h = hint(rc, info);
	char region[96] = "";
	if (info->bucket_region[0])
		snprintf(region, sizeof(region), "; bucket region %s", info->bucket_region);
	petal_error_set(err, rc, "%s %s: %s: %s (request id %s, HTTP %ld%s%s%s)%s%s",
	                service_id ? service_id : "AWS", operation ? operation : "request", info->code,
	                info->message[0] ? info->message : "no message in the answer",
	                info->request_id[0] ? info->request_id : "none", status, what ? ", " : "",
	                what ? what : "", region, h ? "; " : "", h ? h : "");
	if (PETAL_ERROR_HAS(err, retryable)) {
		err->http_status = status;
		copy_cut(err->cloud_code, sizeof(err->cloud_code), info->code);
		copy_cut(err->request_id, sizeof(err->request_id), info->request_id);
		err->retryable = rc == PETAL_ENET;
	}
	return rc;
}

/* ---- small helpers ------------------------------------------------------------ */

char *aws_query_escape(const char *s)
{
	return sigv4_uri_encode(s ? s : "", s ? strlen(s) : 0, 0);
}

static int month_of(const char *m)
{
	static const char *const names[] = { "jan", "feb", "mar", "apr", "may", "jun",
		                             "jul", "aug", "sep", "oct", "nov", "dec" };
	for (int i = 0; i < 12; i++)
		if (strncasecmp(m, names[i], 3) == 0 && strlen(m) == 3)
			return i;
	return -1;
}

static int64_t utc(int y, int mon, int d, int H, int M, int S)
{
	if (mon < 0 || mon > 11 || d < 1 || d > 31 || H < 0 || H > 23 || M < 0 || M > 59 ||
	    S < 0 || S > 60 || y < 1970 || y > 9999)
		return -1;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon, .tm_mday = d,
		         .tm_hour = H, .tm_min = M, .tm_sec = S };
	return (int64_t)timegm(&tm);
}

int64_t aws_parse_time(const char *s)
{
	if (!s)
		return -1;
	int y, mon, d, H, M, S, n;
	char m[4];
	/* ISO 8601: 2024-01-02T03:04:05[.fff]Z */
	n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mon, &d, &H, &M, &S, &n) == 6) {
		const char *r = s + n;
		if (*r == '.')
			for (r++; isdigit((unsigned char)*r); r++)
				;
		if (strcmp(r, "Z") == 0 || strcmp(r, "+00:00") == 0 || *r == '\0')
			return utc(y, mon - 1, d, H, M, S);
		return -1;
	}
	/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
	n = 0;
	if (sscanf(s, "%*[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT%n", &d, m, &y, &H, &M, &S, &n) == 6 &&
	    n > 0 && s[n] == '\0')
		return utc(y, month_of(m), d, H, M, S);
	/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
	n = 0;
	if (sscanf(s, "%*[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n", &d, m, &y, &H, &M, &S, &n) == 6 &&
	    n > 0 && s[n] == '\0')
		return utc(y + (y < 70 ? 2000 : 1900), month_of(m), d, H, M, S);
	/* asctime: Sun Nov  6 08:49:37 1994 */
	n = 0;
	if (sscanf(s, "%*3s %3s %2d %2d:%2d:%2d %4d%n", m, &d, &H, &M, &S, &y, &n) == 6 &&
	    n > 0 && s[n] == '\0')
		return utc(y, month_of(m), d, H, M, S);
	return -1;
}
