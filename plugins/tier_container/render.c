/* The container tier's render op: images pulled at boot, run with Apptainer
 * and exposed as Lmod modules.
 *
 * Each node pulls every image to /opt/petal/containers/<image>.sif (the image
 * reference without its scheme, each character outside [A-Za-z0-9._-] written
 * '_': the core's container-modules.yaml names the same file), then writes for each
 * module a wrapper per executable (exec apptainer exec [--bind /shared] <sif> <cmd>) under
 * /opt/petal/wrappers/<module>/ and a modulefile /opt/petal/modules/<module>.lua
 * that puts them on PATH.  Wrappers rather than shell functions: they work in
 * batch scripts and under srun, and with any module system. */
#include <petal/plugin.h>

#include <stdio.h>

#include "../builtin.h"

#define CONTAINERS_DIR "/opt/petal/containers"
#define MODULES_DIR "/opt/petal/modules"
#define WRAPPERS_DIR "/opt/petal/wrappers"

static int safe_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* s with every character outside [A-Za-z0-9._-] written '_' (and no leading
   '.', so never "." or ".."): safe in a path, in Lua and in shell. */
static void add_safe(struct tier_line *l, const char *s)
{
	if (*s == '.')
		tier_line_add(l, "_");
	for (; *s; s++) {
		char c = safe_char(*s) ? *s : '_';

		tier_line_addn(l, &c, 1);
	}
}

static void add_image_uri(struct tier_line *l, const char *image)
{
	if (strstr(image, "://") == NULL)
		tier_line_add(l, "docker://");
	tier_line_add(l, image);
}

static void add_sif(struct tier_line *l, const char *image)
{
	const char *scheme = strstr(image, "://");

	tier_line_add(l, CONTAINERS_DIR "/");
	add_safe(l, scheme != NULL ? scheme + 3 : image);
	tier_line_add(l, ".sif");
}

/* "samtools/1.17", or "samtools" when the seed gives no version */
static void add_module_name(struct tier_line *l, const struct petal_package *p)
{
	add_safe(l, p->name);
	if (p->version != NULL && *p->version) {
		tier_line_add(l, "/");
		add_safe(l, p->version);
	}
}

/* s inside a Lua double-quoted string */
static void add_lua_string(struct tier_line *l, const char *s)
{
	tier_line_add(l, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			tier_line_add(l, "\\");
		if (*s == '\n' || *s == '\r')
			tier_line_add(l, " ");
		else
			tier_line_addn(l, s, 1);
	}
	tier_line_add(l, "\"");
}

/* "docker" or "oras", and the registry host of an image reference. */
static void image_parts(const char *image, char scheme[8], char host[256])
{
	const char *s = strstr(image, "://");
	size_t n;

	snprintf(scheme, 8, "%s", "docker");
	if (s != NULL) {
		snprintf(scheme, 8, "%.*s", (int)(s - image), image);
		image = s + 3;
	}
	n = strcspn(image, "/");
	snprintf(host, 256, "%.*s", image[n] == '/' ? (int)n : 0, image);
}

/* <12 digits>.dkr.ecr.<region>.amazonaws.com[.cn]: the region in region[],
   and whether the partition is China's. */
static int ecr_region(const char *host, char region[64], int *china)
{
	const char *r, *end;

	if (strspn(host, "0123456789") != 12 || strncmp(host + 12, ".dkr.ecr.", 9) != 0)
		return 0;
	r = host + 21;
	end = strstr(r, ".amazonaws.com");
	if (end == NULL || end == r || (size_t)(end - r) >= 64 ||
	    strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") != (size_t)(end - r))
		return 0;
	*china = strcmp(end, ".amazonaws.com.cn") == 0;
	if (!*china && strcmp(end, ".amazonaws.com") != 0)
		return 0;
	snprintf(region, 64, "%.*s", (int)(end - r), r);
	return 1;
}

/* Log in to each ECR registry the images come from, once. */
static int add_ecr_logins(struct tier_line *l, struct petal_renderer *r,
                          const struct petal_package *const *pkgs, size_t n,
                          struct petal_error *err)
{
	const struct petal_host *host = l->host;
	char scheme[8], reg[256], region[64], prev_scheme[8], prev_reg[256];
	int china, seen, rc;

	for (size_t i = 0; i < n; i++) {
		image_parts(pkgs[i]->image, scheme, reg);
		if (!ecr_region(reg, region, &china))
			continue;
		seen = 0;
		for (size_t j = 0; j < i && !seen; j++) {
			image_parts(pkgs[j]->image, prev_scheme, prev_reg);
			seen = strcmp(prev_scheme, scheme) == 0 && strcmp(prev_reg, reg) == 0;
		}
		if (seen)
			continue;
		rc = host->render_add(r, PETAL_FRAG_PCLUSTER, "Iam.AdditionalIamPolicies",
		                      china ? "arn:aws-cn:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
		                            : "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
		                      err);
		if (rc < 0)
			return rc;
		tier_line_add(l, "aws ecr get-login-password --region ");
		tier_line_quoted(l, region);
		tier_line_add(l, " | apptainer registry login --username AWS --password-stdin ");
		tier_line_add(l, strcmp(scheme, "oras") == 0 ? "oras://" : "docker://");
		tier_line_add(l, reg); /* digits, dots, dashes and lowercase only */
		tier_line_add(l, "\n");
	}
	return 0;
}

/* Was this image pulled for an earlier package of the list? */
static int seen_image(const struct petal_package *const *pkgs, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(pkgs[j]->image, pkgs[i]->image) == 0)
			return 1;
	return 0;
}

/* Lines that write one module: its wrapper and its modulefile. */
static void add_module_lines(struct tier_line *l, const struct tier_line *name,
                             const struct petal_package *p)
{
	const struct petal_host *host = l->host;
	struct tier_line t = { .host = host };

	tier_line_add(l, "mkdir -p ");
	tier_line_add(&t, WRAPPERS_DIR "/");
	tier_line_add(&t, tier_line_str(name));
	tier_line_quoted(l, tier_line_str(&t));
	tier_line_add(l, "\n");

	/* the wrapper: the sif path and command are already [A-Za-z0-9._/-]; the
	   arguments pass as they are; the user's home is Apptainer's to bind (it
	   does by default), /shared is the wrapper's, when the node has it */
	struct tier_line run = { .host = host };
	add_sif(&run, p->image);
	tier_line_add(&run, " ");
	add_safe(&run, p->name);
	tier_line_add(&run, " \"$@\"");
	tier_line_add(l, "printf '%s\\n' '#!/bin/sh' ");
	tier_line_reset(&t);
	tier_line_add(&t, "[ -d /shared ] && exec apptainer exec --bind /shared ");
	tier_line_add(&t, tier_line_str(&run));
	tier_line_quoted(l, tier_line_str(&t));
	tier_line_add(l, " ");
	tier_line_reset(&t);
	tier_line_add(&t, "exec apptainer exec ");
	tier_line_add(&t, tier_line_str(&run));
	tier_line_release(&run);
	tier_line_quoted(l, tier_line_str(&t));
	tier_line_add(l, " >");
	tier_line_reset(&t);
	tier_line_add(&t, WRAPPERS_DIR "/");
	tier_line_add(&t, tier_line_str(name));
	tier_line_add(&t, "/");
	add_safe(&t, p->name);
	tier_line_quoted(l, tier_line_str(&t));
	tier_line_add(l, "\nchmod 0755 ");
	tier_line_quoted(l, tier_line_str(&t));
	tier_line_add(l, "\n");

	/* the modulefile */
	tier_line_reset(&t);
	tier_line_add(&t, MODULES_DIR "/");
	tier_line_add(&t, tier_line_str(name));
	tier_line_add(l, "mkdir -p \"$(dirname ");
	tier_line_quoted(l, tier_line_str(&t));
	tier_line_add(l, ")\"\nprintf '%s\\n' ");
	tier_line_reset(&t);
	tier_line_add(&t, "whatis(");
	add_lua_string(&t, p->image);
	tier_line_add(&t, ")");
	tier_line_quoted(l, tier_line_str(&t));
	tier_line_add(l, " ");
	tier_line_reset(&t);
	tier_line_add(&t, "prepend_path(\"PATH\", \"" WRAPPERS_DIR "/");
	tier_line_add(&t, tier_line_str(name));
	tier_line_add(&t, "\")");
	tier_line_quoted(l, tier_line_str(&t));
	tier_line_add(l, " >");
	tier_line_reset(&t);
	tier_line_add(&t, MODULES_DIR "/");
	tier_line_add(&t, tier_line_str(name));
	tier_line_add(&t, ".lua");
	tier_line_quoted(l, tier_line_str(&t));
	tier_line_add(l, "\n");
	tier_line_release(&t);
}

int container_render(void *ctx, struct petal_renderer *r,
                     const struct petal_package *const *pkgs, size_t n,
                     struct petal_error *err)
{
	const struct petal_host *host = ((const struct tier_ctx *)ctx)->host;
	struct tier_line l = { .host = host }, name = { .host = host };
	int rc = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (pkgs[i]->image == NULL || pkgs[i]->name == NULL)
			return host->fail(err, PETAL_EINVAL,
			                  "container: package '%s' has no image", pkgs[i]->spec);

	tier_line_add(&l, "# container: pulled at boot, run with Apptainer, one module each\n"
	                  "command -v apptainer >/dev/null 2>&1 || petal_os_install apptainer\n"
	                  "mkdir -p " CONTAINERS_DIR " " MODULES_DIR " " WRAPPERS_DIR "\n");
	rc = add_ecr_logins(&l, r, pkgs, n, err);
	if (rc < 0)
		goto out_lines;
	for (size_t i = 0; i < n; i++) {
		if (seen_image(pkgs, i))
			continue;
		tier_line_add(&l, "apptainer pull --force ");
		tier_line_reset(&name);
		add_sif(&name, pkgs[i]->image);
		tier_line_quoted(&l, tier_line_str(&name));
		tier_line_add(&l, " ");
		tier_line_reset(&name);
		add_image_uri(&name, pkgs[i]->image);
		tier_line_quoted(&l, tier_line_str(&name));
		tier_line_add(&l, "\n");
	}
	for (size_t i = 0; i < n; i++) {
		tier_line_reset(&name);
		add_module_name(&name, pkgs[i]);
		rc = host->render_add(r, PETAL_FRAG_MODULE, tier_line_str(&name),
		                      pkgs[i]->image, err);
		if (rc < 0)
			goto out_lines;
		add_module_lines(&l, &name, pkgs[i]);
	}
	/* after the system's own Lmod set-up (z00_lmod.sh) */
	tier_line_add(&l, "printf '%s\\n' 'module use " MODULES_DIR " 2>/dev/null || true'"
	                  " >/etc/profile.d/z01-petal-modules.sh");
	rc = host->render_add(r, PETAL_FRAG_NODE_SCRIPT, NULL, tier_line_str(&l), err);

out_lines:
	tier_line_release(&name);
	tier_line_release(&l);
	return rc < 0 ? rc : 0;
}
