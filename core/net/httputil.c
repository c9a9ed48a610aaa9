/* Small HTTP text helpers: dates, header lookup, URLs fit for messages. */
#define _GNU_SOURCE /* mkostemp, memrchr, timegm */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "../util/util.h"

static int month_of(const char *m)
{
	static const char *const names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	for (int i = 0; i < 12; i++)
		if (strcmp(m, names[i]) == 0)
			return i;
	return -1;
}

/* Written by hand rather than with strptime: %b follows the locale. */
int64_t petal_http_parse_date(const char *s)
{
	char wday[16], mon[4];
	int d, y, hh, mm, ss, n = 0;
	struct tm tm = { 0 };
	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", wday, &d, mon, &y,
	           &hh, &mm, &ss, &n) == 7 && n) {
		/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
	} else if (sscanf(s, "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", wday, &d, mon,
	                  &y, &hh, &mm, &ss, &n) == 7 && n) {
		y += y < 70 ? 2000 : 1900; /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
	} else if (sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wday, mon, &d, &hh,
	                  &mm, &ss, &y, &n) == 7 && n) {
		/* asctime: Sun Nov  6 08:49:37 1994 */
	} else {
		return -1;
	}
	s += n;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	int m = month_of(mon);
	if (*s || m < 0 || d < 1 || d > 31 || y < 1970 || y > 9999 || hh > 23 || mm > 59 ||
	    ss > 60 || hh < 0 || mm < 0 || ss < 0)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = m;
	tm.tm_mday = d;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	time_t t = timegm(&tm);
	return t == (time_t)-1 ? -1 : (int64_t)t;
}

int petal_http_header_value(const char *headers, const char *name, char *buf, size_t len)
{
	size_t nl = name ? strlen(name) : 0;
	if (!headers || !nl || !len)
		return -1;
	for (const char *line = headers; *line;) {
		const char *eol = strchr(line, '\n');
		const char *next = eol ? eol + 1 : line + strlen(line);
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			const char *end = eol ? eol : next;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
				end--;
			size_t n = (size_t)(end - v);
			if (n >= len)
				n = len - 1;
			memcpy(buf, v, n);
			buf[n] = '\0';
			return 0;
		}
		line = next;
	}
	return -1;
}

static int secret_param(const char *p, size_t n)
{
	static const char *const names[] = { "X-Amz-Signature", "X-Amz-Credential",
		                             "X-Amz-Security-Token" };
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == n && strncasecmp(p, names[i], n) == 0)
			return 1;
	return 0;
}

void petal_http_redact_url(const char *url, char *buf, size_t len)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	if (!len)
		return;
	if (!url)
		url = "";
	const char *p = url;
	const char *scheme = strstr(url, "://");
	if (scheme) {
		const char *auth = scheme + 3;
		size_t alen = strcspn(auth, "/?#");
		const char *at = memrchr(auth, '@', alen);
		petal_strbuf_add(&sb, url, (size_t)(auth - url));
		p = at ? at + 1 : auth; /* user:password@ never reaches a message */
	}
	size_t path = strcspn(p, "?#");
	petal_strbuf_add(&sb, p, path);
	p += path;
	if (*p == '?') {
		petal_strbuf_putc(&sb, '?');
		p++;
		while (*p && *p != '#') {
			size_t plen = strcspn(p, "&#");
			size_t nlen = strcspn(p, "=&#");
			if (nlen < plen && secret_param(p, nlen)) {
				petal_strbuf_add(&sb, p, nlen);
				petal_strbuf_puts(&sb, "=REDACTED");
			} else {
				petal_strbuf_add(&sb, p, plen);
			}
			p += plen;
			if (*p == '&')
				petal_strbuf_putc(&sb, *p++);
		}
	}
	petal_strbuf_puts(&sb, p); /* the fragment */
	const char *s = petal_strbuf_str(&sb);
	size_t n = strlen(s);
	if (n < len) {
		memcpy(buf, s, n + 1);
	} else if (len > 4) {
		memcpy(buf, s, len - 4);
		memcpy(buf + len - 4, "...", 4);
	} else {
		buf[0] = '\0';
	}
	petal_strbuf_release(&sb);
}
