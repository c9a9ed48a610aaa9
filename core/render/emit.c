/* YAML output through libyaml's emitter, with petal's quoting rule: a string
   is written plain only when every YAML reader takes it back as that string. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render_int.h"

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	petal_strbuf_add(data, (const char *)buffer, size);
	return 1;
}

static void emit(struct yout *y, yaml_event_t *ev, int ok)
{
	if (y->failed) {
		if (ok)
			yaml_event_delete(ev); /* built but never handed over */
		return;
	}
	if (!ok || !yaml_emitter_emit(&y->em, ev)) {
		y->failed = 1;
		snprintf(y->problem, sizeof(y->problem), "%s",
		         y->em.problem != NULL ? y->em.problem : "cannot build the event");
	}
}

void yout_init(struct yout *y)
{
	yaml_event_t ev;

	memset(y, 0, sizeof(*y));
	if (!yaml_emitter_initialize(&y->em)) {
		y->failed = 1;
		snprintf(y->problem, sizeof(y->problem), "cannot initialise the emitter");
		return;
	}
	yaml_emitter_set_output(&y->em, write_handler, &y->buf);
	yaml_emitter_set_unicode(&y->em, 1);
	yaml_emitter_set_width(&y->em, 100);
	yaml_emitter_set_indent(&y->em, 2);
	emit(y, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
}

void yout_map(struct yout *y)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
	                                                 YAML_BLOCK_MAPPING_STYLE));
}

void yout_map_end(struct yout *y)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_mapping_end_event_initialize(&ev));
}

void yout_seq(struct yout *y)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
	                                                  YAML_BLOCK_SEQUENCE_STYLE));
}

void yout_seq_end(struct yout *y)
{
	yaml_event_t ev;

	emit(y, &ev, yaml_sequence_end_event_initialize(&ev));
}

/* Plain scalars YAML 1.1 or 1.2 read as booleans or null (any case: quoting
   a harmless one costs nothing). */
static const char *const special_words[] = {
	"y", "n", "yes", "no", "true", "false", "on", "off", "null",
};

int render_needs_quotes(const char *s)
{
	unsigned char c = (unsigned char)s[0];

	/* numbers, dates, .inf/.nan, ~, and YAML's indicators all start with a
	   character outside these */
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '_'))
		return 1;
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(special_words); i++)
		if (strcasecmp(s, special_words[i]) == 0)
			return 1;
	return 0;
}

static void scalar(struct yout *y, const char *tag, const char *text, int plain)
{
	yaml_event_t ev;

	/* libyaml still picks double quotes itself when single ones cannot
	   hold the text (control characters, line breaks) */
	emit(y, &ev, yaml_scalar_event_initialize(
		&ev, NULL, (yaml_char_t *)tag, (yaml_char_t *)text, (int)strlen(text),
		plain, !plain, plain ? YAML_PLAIN_SCALAR_STYLE : YAML_SINGLE_QUOTED_SCALAR_STYLE));
}

void yout_str(struct yout *y, const char *s)
{
	scalar(y, YAML_STR_TAG, s, !render_needs_quotes(s));
}

void yout_int(struct yout *y, long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%ld", v);
	scalar(y, YAML_INT_TAG, num, 1);
}

void yout_bool(struct yout *y, int v)
{
	scalar(y, YAML_BOOL_TAG, v ? "true" : "false", 1);
}

void yout_kstr(struct yout *y, const char *key, const char *value)
{
	yout_str(y, key);
	yout_str(y, value);
}

void yout_kint(struct yout *y, const char *key, long value)
{
	yout_str(y, key);
	yout_int(y, value);
}

int yout_finish(struct yout *y, const char *header, char **out, struct petal_error *err)
{
	struct petal_strbuf text = PETAL_STRBUF_INIT;
	yaml_event_t ev;
	int rc = 0;

	emit(y, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(y, &ev, yaml_stream_end_event_initialize(&ev));
	if (!y->failed && !yaml_emitter_flush(&y->em)) {
		y->failed = 1;
		snprintf(y->problem, sizeof(y->problem), "cannot flush the output");
	}
	if (y->failed) {
		rc = petal_fail(err, PETAL_EINVAL, "render: YAML emitter: %s", y->problem);
		*out = NULL;
		goto out_emitter;
	}
	if (header != NULL)
		petal_strbuf_puts(&text, header);
	petal_strbuf_puts(&text, petal_strbuf_str(&y->buf));
	*out = petal_strbuf_detach(&text);

out_emitter:
	yaml_emitter_delete(&y->em);
	petal_strbuf_release(&y->buf);
	return rc;
}
