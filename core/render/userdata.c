/* The user data of a build instance: a short stub that fetches the rendered
   build-instance.sh from the run's artifacts and runs the step's parts, with
   the environment of the reporting protocol (doc/run.md, "The build
   instance"). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "render.h"
#include "render_int.h"

/* EC2 takes at most 16 KB of user data (before base64). */
#define USER_DATA_MAX 16384

static int word_ok(const char *s)
{
	return s != NULL && *s != '\0' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

static void export_var(struct petal_strbuf *sb, const char *name, const char *value)
{
	petal_strbuf_printf(sb, "export %s=", name);
	render_shquote(sb, value ? value : "");
	petal_strbuf_putc(sb, '\n');
}

int petal_render_user_data(const struct petal_user_data *u, char **out,
                           struct petal_error *err)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;

	*out = NULL;
	if (u->run_id == NULL || u->step_id == NULL || u->artifacts == NULL ||
	    strncmp(u->artifacts, "s3://", 5) != 0 || u->n_parts == 0)
		return petal_error_set(err, PETAL_EINVAL, "user data: a run, a step, s3:// "
		                       "artifacts and at least one part are needed");
	for (size_t i = 0; i < u->n_parts; i++)
		if (!word_ok(u->parts[i]))
			return petal_error_set(err, PETAL_EINVAL, "user data: part '%s' is not a "
			                       "word of [a-z0-9-]", u->parts[i]);
	petal_strbuf_puts(&sb, "#!/bin/bash\n# petal build instance: run ");
	render_comment(&sb, u->run_id);
	petal_strbuf_puts(&sb, ", step ");
	render_comment(&sb, u->step_id);
	petal_strbuf_puts(&sb, "\n# It fetches build-instance.sh from the run's artifacts and runs "
	                       "it; its reports\n# (status.json, build.log, report.json) go to "
	                       "PETAL_REPORT_URL.\nset -euo pipefail\n");
	export_var(&sb, "PETAL_RUN", u->run_id);
	export_var(&sb, "PETAL_STEP", u->step_id);
	export_var(&sb, "PETAL_ARTIFACTS", u->artifacts);
	petal_strbuf_puts(&sb, "export PETAL_REPORT_URL=\"$PETAL_ARTIFACTS\"/");
	render_shquote(&sb, u->step_id);
	petal_strbuf_putc(&sb, '\n');
	export_var(&sb, "PETAL_CHECKPOINT_URL", u->checkpoint_url);
	if (u->report_interval_s > 0)
		petal_strbuf_printf(&sb, "export PETAL_REPORT_INTERVAL=%ld\n", u->report_interval_s);
	petal_strbuf_puts(&sb,
		"mkdir -p /var/lib/petal /var/log/petal\n"
		"if ! aws s3 cp --only-show-errors \"$PETAL_ARTIFACTS/build-instance.sh\" "
		"/var/lib/petal/build-instance.sh; then\n"
		"\techo \"petal: cannot fetch $PETAL_ARTIFACTS/build-instance.sh\" >&2\n"
		"\tprintf '{\"format\": \"petal-status\", \"version\": 1, \"run\": \"%s\", "
		"\"step\": \"%s\", \"state\": \"failed\", \"done\": 0, \"total\": null, "
		"\"from_checkpoint\": 0, \"package\": null, \"failed_package\": null, "
		"\"exit_code\": 1, \"log\": null, \"log_tail\": [], \"message\": \"%s\", "
		"\"started\": null, \"time\": \"%s\"}\\n' \"$PETAL_RUN\" \"$PETAL_STEP\" "
		"\"the user data could not fetch build-instance.sh from the artifacts\" "
		"\"$(date -u +%FT%TZ)\" >/var/log/petal/status.json\n"
		"\taws s3 cp --only-show-errors /var/log/petal/status.json "
		"\"$PETAL_REPORT_URL/status.json\" || true\n"
		"\texit 1\nfi\n"
		"exec bash /var/lib/petal/build-instance.sh");
	for (size_t i = 0; i < u->n_parts; i++) {
		petal_strbuf_putc(&sb, ' ');
		render_shquote(&sb, u->parts[i]);
	}
	petal_strbuf_putc(&sb, '\n');
	if (sb.len > USER_DATA_MAX) {
		size_t len = sb.len;

		petal_strbuf_release(&sb);
		return petal_error_set(err, PETAL_EINVAL, "user data: %zu bytes, over EC2's %d",
		                       len, USER_DATA_MAX);
	}
	*out = petal_strbuf_detach(&sb);
	return 0;
}
