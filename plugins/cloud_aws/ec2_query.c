/* EC2's query API: forms, one call, its pages, base64, waiting, and the
 * instances and images of its answers (see ec2_query.h). */
#define _GNU_SOURCE /* getrandom */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ec2_query.h"

int ec2_fail(struct petal_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		petal_error_vset(err, code, fmt, ap);
		va_end(ap);
	}
	return code;
}

void ec2_err_append(struct petal_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	size_t n = strnlen(err->msg, sizeof(err->msg));
	if (n + 1 >= sizeof(err->msg))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - n, fmt, ap);
	va_end(ap);
}

/* ---- forms ------------------------------------------------------------------ */

static void form_raw(struct ec2_form *f, const char *s, size_t n)
{
	if (f->oom)
		return;
	if (f->len + n + 1 > f->cap) {
		size_t cap = f->cap ? f->cap : 256;
		while (cap < f->len + n + 1)
			cap *= 2;
		char *p = realloc(f->buf, cap);
		if (!p) {
			f->oom = 1;
			return;
		}
		f->buf = p;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	f->buf[f->len] = '\0';
}

void ec2_form_init_api(struct ec2_form *f, const char *action, const char *version)
{
	memset(f, 0, sizeof(*f));
	f->action = action;
	ec2_form_add(f, "Action", action);
	ec2_form_add(f, "Version", version);
}

void ec2_form_init(struct ec2_form *f, const char *action)
{
	ec2_form_init_api(f, action, EC2_API_VERSION);
}

/* application/x-www-form-urlencoded, as the SDKs write it: unreserved
   bytes as they are, space as '+', the rest %XX.  (A %20 would do for EC2
   too, but moto checks signatures over the form re-encoded this way.) */
static void form_escaped(struct ec2_form *f, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			form_raw(f, (const char *)p, 1);
		} else if (*p == ' ') {
			form_raw(f, "+", 1);
		} else {
			char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			form_raw(f, esc, 3);
		}
	}
}

void ec2_form_add(struct ec2_form *f, const char *name, const char *value)
{
	if (!value || f->oom)
		return;
	if (f->len)
		form_raw(f, "&", 1);
	form_escaped(f, name);
	form_raw(f, "=", 1);
	form_escaped(f, value);
}

void ec2_form_addf(struct ec2_form *f, const char *value, const char *name_fmt, ...)
{
	char name[256];
	va_list ap;
	va_start(ap, name_fmt);
	vsnprintf(name, sizeof(name), name_fmt, ap);
	va_end(ap);
	ec2_form_add(f, name, value);
}

void ec2_form_tag_spec(struct ec2_form *f, size_t spec, const char *type,
                       const struct petal_tag *tags, size_t n)
{
	ec2_form_addf(f, type, "TagSpecification.%zu.ResourceType", spec);
	for (size_t i = 0; i < n; i++) {
		ec2_form_addf(f, tags[i].key, "TagSpecification.%zu.Tag.%zu.Key", spec, i + 1);
		ec2_form_addf(f, tags[i].value ? tags[i].value : "",
		              "TagSpecification.%zu.Tag.%zu.Value", spec, i + 1);
	}
}

void ec2_form_clear(struct ec2_form *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

static void form_copy(struct ec2_form *dst, const struct ec2_form *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->action = src->action;
	dst->oom = src->oom;
	if (src->len)
		form_raw(dst, src->buf, src->len);
}

int ec2_tags_check(const struct petal_tag *tags, size_t n, struct petal_error *err)
{
	if (n && !tags)
		return ec2_fail(err, PETAL_EINVAL, "EC2 tags: %zu tags announced, none given", n);
	if (n > EC2_MAX_TAGS)
		return ec2_fail(err, PETAL_EINVAL, "EC2 tags: %zu tags, EC2 takes at most %d "
		                "per resource", n, EC2_MAX_TAGS);
	for (size_t i = 0; i < n; i++) {
		const char *k = tags[i].key, *v = tags[i].value ? tags[i].value : "";
		if (!k || !*k || strlen(k) > 128)
			return ec2_fail(err, PETAL_EINVAL, "EC2 tags: tag %zu: a key must have 1 to "
			                "128 characters", i + 1);
		if (strncasecmp(k, "aws:", 4) == 0)
			return ec2_fail(err, PETAL_EINVAL, "EC2 tags: tag '%s': keys starting "
			                "with 'aws:' are reserved for AWS", k);
		if (strlen(v) > 256)
			return ec2_fail(err, PETAL_EINVAL, "EC2 tags: the value of tag '%s' is "
			                "longer than 256 characters", k);
	}
	return 0;
}

/* ---- calls -------------------------------------------------------------------- */

int ec2_open(struct ec2 *e, void *ctx, const char *region, const char *what,
             struct petal_error *err)
{
	memset(e, 0, sizeof(*e));
	if (!ctx)
		return ec2_fail(err, PETAL_EINVAL, "EC2 %s: no aws context", what);
	e->c = ctx;
	int rc = aws_ctx_ready(e->c, err);
	if (rc != 0)
		return rc;
	e->cfg = &e->c->config;
	e->service = AWS_SVC_EC2;
	if (region && *region && strcmp(region, e->c->config.region) != 0) {
		if ((rc = aws_config_load(&e->other, region, err)) != 0) {
			ec2_err_append(err, " [EC2 %s in region %s]", what, region);
			return rc;
		}
		e->cfg = &e->other;
	}
	e->region = e->cfg->region;
	return 0;
}

int ec2_call(struct ec2 *e, struct ec2_form *f, int idempotent, struct xml_node **doc,
             struct petal_error *err)
{
	*doc = NULL;
	e->code[0] = '\0';
	const char *api = aws_endpoint(e->cfg, e->service)->service_id;
	if (f->oom || !f->buf)
		return ec2_fail(err, PETAL_ENOMEM, "%s %s: out of memory building the request",
		                api, f->action);
	static const struct petal_http_header form_type[] = {
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
	};
	struct aws_call call = {
		.service = e->service,
		.operation = f->action,
		.method = "POST",
		.headers = form_type,
		.n_headers = 1,
		.body = f->buf,
		.body_len = f->len,
		.idempotent = idempotent,
		.config = e->cfg == &e->c->config ? NULL : e->cfg,
	};
	struct aws_response r = { 0 };
	int rc = aws_request(e->c, &call, &r, err);
	if (rc != 0) {
		ec2_set(e->code, sizeof(e->code), r.error_code);
		return rc;
	}
	rc = xml_parse(r.body ? r.body : "", r.body ? r.body_len : 0, doc, err);
	if (rc != 0 && rc != PETAL_ENOMEM) {
		char why[600];
		snprintf(why, sizeof(why), "%.500s", err ? err->msg : "");
		rc = ec2_fail(err, PETAL_ECLOUD, "%s %s in %s: the answer (HTTP %ld, request id "
		              "%s) is not %s's XML: %s", api, f->action, e->region, r.status,
		              r.request_id[0] ? r.request_id : "none", api, why);
	}
	aws_response_clear(e->c, &r);
	return rc;
}

int ec2_call_pages(struct ec2 *e, const struct ec2_form *base, int max_results,
                   ec2_page_fn fn, void *arg, struct petal_error *err)
{
	char *token = NULL;
	int rc = 0;
	for (;;) {
		struct ec2_form f;
		form_copy(&f, base);
		if (max_results > 0) {
			char n[16];
			snprintf(n, sizeof(n), "%d", max_results);
			ec2_form_add(&f, "MaxResults", n);
		}
		ec2_form_add(&f, "NextToken", token);
		struct xml_node *doc;
		rc = ec2_call(e, &f, 1, &doc, err);
		ec2_form_clear(&f);
		if (rc != 0)
			break;
		rc = fn(arg, doc, err);
		const char *next = xml_text(doc, "nextToken");
		if (rc == 0 && next && *next) {
			if (token && strcmp(token, next) == 0) {
				rc = ec2_fail(err, PETAL_ECLOUD, "EC2 %s in %s: the next page's token is "
				              "the one just used; stopping rather than looping",
				              base->action, e->region);
			} else {
				free(token);
				if (!(token = strdup(next)))
					rc = ec2_fail(err, PETAL_ENOMEM, "EC2 %s: out of memory",
					              base->action);
			}
		} else {
			next = NULL;
		}
		xml_free(doc);
		if (rc != 0 || !next)
			break;
	}
	free(token);
	return rc;
}

int ec2_max_results(void)
{
	const char *s = getenv("PETAL_AWS_EC2_MAX_RESULTS");
	if (!s || !*s)
		return 1000;
	char *end;
	long n = strtol(s, &end, 10);
	if (*end)
		return 1000;
	return n < 5 ? 5 : n > 1000 ? 1000 : (int)n;
}

void ec2_client_token(char out[33])
{
	unsigned char b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		/* no entropy source: unique enough within this process and moment */
		static unsigned counter;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^
		             ((uint64_t)getpid() << 32) ^ ++counter;
		for (size_t i = 0; i < sizeof(b); i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			b[i] = (unsigned char)x;
		}
	}
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* ---- base64 -------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *ec2_base64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char ch)
{
	const char *p = ch ? strchr(b64, ch) : NULL;
	return p ? (int)(p - b64) : -1;
}

int ec2_base64_decode(const char *s, size_t len, char **out, size_t *out_len)
{
	char *o = malloc(len / 4 * 3 + 4);
	if (!o)
		return PETAL_ENOMEM;
	size_t n = 0, pad = 0, quad = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
			continue;
		int v = ch == '=' ? 0 : b64_value(ch);
		if (v < 0 || (pad && ch != '='))
			goto refuse;
		if (ch == '=' && ++pad > 2)
			goto refuse;
		acc = acc << 6 | (uint32_t)v;
		if (++quad == 4) {
			o[n++] = (char)(acc >> 16);
			if (pad < 2)
				o[n++] = (char)(acc >> 8);
			if (pad < 1)
				o[n++] = (char)acc;
			quad = 0;
			acc = 0;
		}
	}
	if (quad != 0)
		goto refuse;
	o[n] = '\0';
	*out = o;
	*out_len = n;
	return 0;
refuse:
	free(o);
	return PETAL_EINVAL;
}

/* ---- waiting ---------------------------------------------------------------------- */

double ec2_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int ec2_wait_step(double deadline, double *delay_s)
{
	double now = ec2_now();
	if (now >= deadline)
		return 1;
	double d = *delay_s < deadline - now ? *delay_s : deadline - now;
	struct timespec ts = { .tv_sec = (time_t)d,
		               .tv_nsec = (long)((d - (double)(time_t)d) * 1e9) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	*delay_s = *delay_s * 2 > 15 ? 15 : *delay_s * 2;
	return 0;
}

/* ---- answers -------------------------------------------------------------------------- */

void ec2_copy_sized(void *dst, const void *full, size_t full_size)
{
	size_t want = *(const size_t *)dst;
	size_t n = want < full_size ? want : full_size;
	if (n > sizeof(size_t))
		memcpy((char *)dst + sizeof(size_t), (const char *)full + sizeof(size_t),
		       n - sizeof(size_t));
}

void ec2_set(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static int64_t when(const struct xml_node *item, const char *path)
{
	const char *s = xml_text(item, path);
	int64_t t = s ? aws_parse_time(s) : -1;
	return t < 0 ? 0 : t;
}

void ec2_instance_read(const struct xml_node *item, struct petal_instance *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	ec2_set(out->id, sizeof(out->id), xml_text(item, "instanceId"));
	ec2_set(out->state, sizeof(out->state), xml_text(item, "instanceState/name"));
	ec2_set(out->image_id, sizeof(out->image_id), xml_text(item, "imageId"));
	ec2_set(out->type, sizeof(out->type), xml_text(item, "instanceType"));
	out->launched = when(item, "launchTime");
	const char *code = xml_text(item, "stateReason/code");
	const char *msg = xml_text(item, "stateReason/message");
	snprintf(out->reason, sizeof(out->reason), "%s%s%s", code ? code : "",
	         code && *code && msg && *msg ? ": " : "", msg ? msg : "");
	ec2_set(out->lifecycle, sizeof(out->lifecycle), xml_text(item, "instanceLifecycle"));
}

void ec2_image_read(const struct xml_node *item, const char *region, struct petal_image *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	ec2_set(out->id, sizeof(out->id), xml_text(item, "imageId"));
	ec2_set(out->name, sizeof(out->name), xml_text(item, "name"));
	ec2_set(out->state, sizeof(out->state), xml_text(item, "imageState"));
	ec2_set(out->arch, sizeof(out->arch), xml_text(item, "architecture"));
	ec2_set(out->region, sizeof(out->region), region);
	out->created = when(item, "creationDate");
	ec2_set(out->owner_id, sizeof(out->owner_id), xml_text(item, "imageOwnerId"));
	ec2_set(out->owner_alias, sizeof(out->owner_alias), xml_text(item, "imageOwnerAlias"));
	ec2_set(out->deprecation_time, sizeof(out->deprecation_time),
	        xml_text(item, "deprecationTime"));
	/* what snapshot storage is billed on: every EBS mapping's volume size */
	for (const struct xml_node *m = xml_find(item, "blockDeviceMapping/item"); m;
	     m = xml_next(m)) {
		const char *gb = xml_text(m, "ebs/volumeSize");
		if (gb && *gb)
			out->size_gb += strtod(gb, NULL);
	}
	for (const struct xml_node *t = xml_find(item, "tagSet/item"); t; t = xml_next(t)) {
		const char *k = xml_text(t, "key"), *v = xml_text(t, "value");
		if (!k || !*k)
			continue;
		if (out->n_tags == PETAL_IMAGE_MAX_TAGS) {
			out->tags_truncated = 1;
			break;
		}
		struct petal_image_tag *tag = &out->tags[out->n_tags++];
		ec2_set(tag->key, sizeof(tag->key), k);
		ec2_set(tag->value, sizeof(tag->value), v);
	}
}

int ec2_image_usable(const char *state)
{
	return state && (strcmp(state, "available") == 0 || strcmp(state, "pending") == 0);
}

int ec2_image_get(struct ec2 *e, const char *image_id, struct xml_node **doc,
                  const struct xml_node **item, int *gone, struct petal_error *err)
{
	*doc = NULL;
	*item = NULL;
	if (gone)
		*gone = 0;
	if (!image_id || !*image_id)
		return ec2_fail(err, PETAL_EINVAL, "EC2 DescribeImages: no image id given");
	struct ec2_form f;
	ec2_form_init(&f, "DescribeImages");
	ec2_form_add(&f, "ImageId.1", image_id);
	int rc = ec2_call(e, &f, 1, doc, err);
	ec2_form_clear(&f);
	if (rc != 0)
		return rc;
	if (!(*item = xml_find(*doc, "imagesSet/item"))) {
		xml_free(*doc);
		*doc = NULL;
		if (gone)
			*gone = 1;
		return ec2_fail(err, PETAL_ENOENT, "EC2 DescribeImages: no image %s in region %s "
		                "(deregistered, or in another region?)", image_id, e->region);
	}
	return 0;
}
