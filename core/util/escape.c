/* Text from outside (a mirror's index, a seed, a cloud's or a plugin's
   message) must not drive the terminal: control characters are shown as
   escapes, valid printable UTF-8 is kept as it is. */
#include "config.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

static void put_hex(struct petal_strbuf *out, unsigned char c)
{
	petal_strbuf_printf(out, "\\x%02x", c);
}

/* The length of the UTF-8 sequence at s (n bytes available): > 0 valid,
   0 when it may still complete with more bytes, -1 invalid. */
static int utf8_len(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned char c = s[0];
	int len;
	unsigned lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		return -1;
	}
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return 0;
		unsigned char b = s[i];
		if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf))
			return -1;
		*cp = (*cp << 6) | (b & 0x3f);
	}
	return len;
}

/* A colour sequence petal writes itself, ESC [ digits and ';' m: its
   length, 0 when it may still complete, -1 when it is not one. */
static int sgr_len(const unsigned char *s, size_t n)
{
	if (n < 2)
		return 0;
	if (s[1] != '[')
		return -1;
	for (size_t i = 2; i < n && i < 32; i++) {
		if (s[i] == 'm')
			return (int)i + 1;
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == ';'))
			return -1;
	}
	return n < 32 ? 0 : -1;
}

/* Escape s[0..n) into out; returns how many bytes were consumed (fewer than
   n when a sequence is cut at the end and `more` says more bytes follow). */
static size_t escape(struct petal_strbuf *out, const unsigned char *s, size_t n, int flags,
                     int more)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t run = i;
		while (run < n && s[run] >= 0x20 && s[run] < 0x7f)
			run++;
		if (run > i) {
			petal_strbuf_add(out, (const char *)s + i, run - i);
			i = run;
			continue;
		}
		if (flags & PETAL_ESC_JSON) {
			/* jansson escapes C0 itself; DEL and C1 reach us raw inside strings */
			unsigned cp;
			int len = c >= 0x80 ? utf8_len(s + i, n - i, &cp) : 1;
			if (len == 0 && more)
				return i;
			if (c == 0x7f || (len == 2 && cp < 0xa0)) {
				petal_strbuf_printf(out, "\\u%04x", c == 0x7f ? 0x7fu : cp);
				i += len;
			} else {
				size_t k = len > 0 ? (size_t)len : 1;
				petal_strbuf_add(out, (const char *)s + i, k);
				i += k;
			}
			continue;
		}
		if (c == 0x1b && (flags & PETAL_ESC_SGR)) {
			int len = sgr_len(s + i, n - i);
			if (len == 0 && more)
				return i;
			if (len > 0) {
				petal_strbuf_add(out, (const char *)s + i, (size_t)len);
				i += (size_t)len;
				continue;
			}
		}
		if (c < 0x20 || c == 0x7f) {
			if ((flags & PETAL_ESC_LINES) && (c == '\n' || c == '\t'))
				petal_strbuf_putc(out, (char)c);
			else if (c == '\n')
				petal_strbuf_puts(out, "\\n");
			else if (c == '\t')
				petal_strbuf_puts(out, "\\t");
			else if (c == '\r')
				petal_strbuf_puts(out, "\\r");
			else
				put_hex(out, c);
			i++;
			continue;
		}
		unsigned cp;
		int len = utf8_len(s + i, n - i, &cp);
		if (len == 0 && more)
			return i;
		if (len <= 0) {
			put_hex(out, c);
			i++;
		} else if (cp < 0xa0) {
			petal_strbuf_printf(out, "\\u%04x", cp); /* C1: U+0080..U+009F */
			i += (size_t)len;
		} else {
			petal_strbuf_add(out, (const char *)s + i, (size_t)len);
			i += (size_t)len;
		}
	}
	return i;
}

void petal_escape_feed(struct petal_escaper *e, struct petal_strbuf *out, const char *s,
                       size_t n)
{
	const unsigned char *buf = (const unsigned char *)s;
	unsigned char *joined = NULL;
	size_t len = n;
	if (e->n_pend) { /* a sequence cut by the previous call, then these bytes */
		joined = petal_xmalloc(e->n_pend + n);
		memcpy(joined, e->pend, e->n_pend);
		memcpy(joined + e->n_pend, s, n);
		buf = joined;
		len = e->n_pend + n;
	}
	size_t used = escape(out, buf, len, e->flags, 1);
	/* what is left is a cut sequence, shorter than pend by construction */
	e->n_pend = len - used;
	memcpy(e->pend, buf + used, e->n_pend);
	free(joined);
}

void petal_escape_finish(struct petal_escaper *e, struct petal_strbuf *out)
{
	escape(out, e->pend, e->n_pend, e->flags, 0);
	e->n_pend = 0;
}

char *petal_escape_text(const char *s, int flags)
{
	struct petal_strbuf out = PETAL_STRBUF_INIT;
	if (s)
		escape(&out, (const unsigned char *)s, strlen(s), flags, 0);
	return petal_strbuf_detach(&out);
}
