/* petal ami delete, copy and prune: the subcommands that change images
   (cmd_ami.c has the rest). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plugin/host.h"
#include "../util/util.h"
#include "ami_cli.h"

/* ---- delete ------------------------------------------------------------------------- */

int petal_ami_delete(struct petal_cli *cli, int argc, char **argv)
{
	struct petal_ami_args a;
	int status = petal_ami_parse(cli, "delete", argc, argv, &a);
	if (status != 0)
		return status < 0 ? PETAL_EXIT_OK : status;
	if (!a.n_ids) {
		petal_cli_error(cli, "ami delete needs the ids of the images to delete; see 'petal "
		                "ami list'");
		return PETAL_EXIT_USAGE;
	}
	struct petal_ami_cloud ac;
	if ((status = petal_ami_open(cli, a.region, NULL, &ac)) != 0) {
		petal_ami_close(cli, &ac);
		return status;
	}
	char region[64] = "";
	if (cli->host->setting(cli->host, "region", region, sizeof(region)) <= 0)
		region[0] = 0;
	json_t *deleted = json_array(), *failed = json_array();
	for (size_t i = 0; i < a.n_ids; i++) {
		struct petal_error err = PETAL_ERROR_INIT;
		int rc = petal_image_delete_petal(&ac.door, a.ids[i], a.force, &err);
		if (rc == 0) {
			json_array_append_new(deleted, json_string(a.ids[i]));
			if (cli->output != PETAL_OUTPUT_JSON)
				printf("deleted %s and its snapshots\n", a.ids[i]);
			continue;
		}
		petal_cli_error(cli, "%s", err.msg);
		json_array_append_new(failed, json_pack("{s:s, s:s}", "id", a.ids[i], "error",
		                                        err.msg));
		status = PETAL_EXIT_FAILURE;
	}
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = json_pack("{s:s?, s:o, s:o}", "region", region[0] ? region : NULL,
		                      "deleted", deleted,
		                      "failed", failed);
		petal_cli_print_json(j);
		json_decref(j);
	} else {
		json_decref(deleted);
		json_decref(failed);
	}
	petal_ami_close(cli, &ac);
	return status;
}

/* ---- copy --------------------------------------------------------------------------- */

struct copy {
	const char *region;
	struct petal_image img;
	double seconds;
	int rc;
	char error[1024];
};

int petal_ami_copy(struct petal_cli *cli, int argc, char **argv)
{
	struct petal_ami_args a;
	int status = petal_ami_parse(cli, "copy", argc, argv, &a);
	if (status != 0)
		return status < 0 ? PETAL_EXIT_OK : status;
	if (a.n_ids != 1 || !a.n_to) {
		petal_cli_error(cli, "ami copy takes one image id and at least one --to-region; "
		                "see 'petal ami copy --help'");
		return PETAL_EXIT_USAGE;
	}
	const char *id = a.ids[0];
	for (size_t i = 0; i < a.n_to; i++) {
		size_t n = strlen(a.to[i]);
		if (!n || n > 31 || a.to[i][0] == '-' ||
		    strspn(a.to[i], "abcdefghijklmnopqrstuvwxyz0123456789-") != n) {
			petal_cli_error(cli, "--to-region takes a region name such as eu-west-2, not "
			                "'%s'", a.to[i]);
			return PETAL_EXIT_USAGE;
		}
	}
	struct copy *copies = petal_xcalloc(a.n_to, sizeof(*copies));
	struct petal_ami_cloud src;
	char src_region[64] = "";
	if ((status = petal_ami_open(cli, a.region, NULL, &src)) != 0)
		goto out_src;
	if (cli->host->setting(cli->host, "region", src_region, sizeof(src_region)) <= 0)
		src_region[0] = 0;
	struct petal_error err = PETAL_ERROR_INIT;
	struct petal_image *source = petal_xcalloc(1, sizeof(*source));
	int rc = petal_image_own(&src.door, id, source, &err);
	if (rc == 0 && source->region[0]) /* the region the plugin's chain chose */
		snprintf(src_region, sizeof(src_region), "%s", source->region);
	free(source);
	for (size_t i = 0; rc == 0 && i < a.n_to; i++) {
		if ((rc = petal_ami_region_known(cli, &src, a.to[i], &err)) < 0)
			break;
		if (!strcmp(a.to[i], src_region))
			rc = petal_fail(&err, PETAL_EINVAL, "--to-region %s is the image's own "
			                "region", a.to[i]);
	}
	if (rc < 0) {
		petal_cli_error(cli, "%s", err.msg);
		status = rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : petal_cli_exit_for(rc);
		goto out_src;
	}
	/* every copy started first, then the waits: they run side by side in the cloud */
	for (size_t i = 0; i < a.n_to; i++) {
		struct copy *cp = &copies[i];
		cp->region = a.to[i];
		cp->img.size = sizeof(cp->img);
		struct petal_error e = PETAL_ERROR_INIT;
		if ((cp->rc = petal_cloud_image_copy(&src.door, id, NULL, cp->region, &cp->img,
		                                     &e)) < 0)
			snprintf(cp->error, sizeof(cp->error), "%s", e.msg);
		else if (cli->output != PETAL_OUTPUT_JSON)
			fprintf(stderr, "petal: copying %s to %s as %s\n", id, cp->region, cp->img.id);
	}
	petal_ami_close(cli, &src);
	double deadline = petal_cloud_now() + 60.0 * a.timeout_min;
	for (size_t i = 0; i < a.n_to; i++) {
		struct copy *cp = &copies[i];
		if (cp->rc < 0)
			continue;
		struct petal_ami_cloud dst;
		double t0 = petal_cloud_now();
		if ((status = petal_ami_open(cli, cp->region, NULL, &dst)) != 0) {
			petal_ami_close(cli, &dst);
			goto out_copies;
		}
		if (cli->output != PETAL_OUTPUT_JSON)
			fprintf(stderr, "petal: waiting for %s in %s to be available...\n", cp->img.id,
			        cp->region);
		struct petal_error e = PETAL_ERROR_INIT;
		cp->rc = petal_cloud_wait_image(&dst.door, cp->img.id, deadline, NULL, &cp->img, &e);
		/* the copy's snapshots get the tags the copy carries (CopyImage gives none) */
		if (cp->rc == 0 && petal_cloud_has(&dst.door, "image_tag")) {
			struct petal_tag tags[PETAL_IMAGE_MAX_TAGS];
			size_t n = 0;
			for (size_t t = 0; t < cp->img.n_tags && t < PETAL_IMAGE_MAX_TAGS; t++)
				if (strncmp(cp->img.tags[t].key, "aws:", 4) != 0)
					tags[n++] = (struct petal_tag){ cp->img.tags[t].key,
					                                cp->img.tags[t].value };
			cp->rc = petal_cloud_image_tag(&dst.door, cp->img.id, tags, n, &e);
		}
		cp->seconds = petal_cloud_now() - t0;
		if (cp->rc < 0)
			snprintf(cp->error, sizeof(cp->error), "%s", e.msg);
		else if (cli->output != PETAL_OUTPUT_JSON)
			fprintf(stderr, "petal: %s in %s is available after %.0f s\n", cp->img.id,
			        cp->region, cp->seconds);
		petal_ami_close(cli, &dst);
	}
	json_t *list = json_array();
	for (size_t i = 0; i < a.n_to; i++) {
		const struct copy *cp = &copies[i];
		if (cp->rc < 0) {
			petal_cli_error(cli, "copy of %s to %s: %s", id, cp->region, cp->error);
			status = PETAL_EXIT_FAILURE;
		} else if (cli->output != PETAL_OUTPUT_JSON) {
			printf("%s %s\n", cp->region, cp->img.id);
		}
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:f, s:s?}", "region",
		                                      cp->region, "id", cp->img.id, "state",
		                                      cp->rc < 0 ? "failed" : cp->img.state,
		                                      "seconds", cp->seconds, "error",
		                                      cp->rc < 0 ? cp->error : NULL));
	}
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:o}", "source", id, "region", src_region,
		                      "copies", list);
		petal_cli_print_json(j);
		json_decref(j);
	} else {
		json_decref(list);
	}
	goto out_copies;
out_src:
	petal_ami_close(cli, &src);
out_copies:
	free(copies);
	return status;
}

/* ---- prune -------------------------------------------------------------------------- */

int petal_ami_prune(struct petal_cli *cli, int argc, char **argv)
{
	struct petal_ami_args a;
	int status = petal_ami_parse(cli, "prune", argc, argv, &a);
	if (status != 0)
		return status < 0 ? PETAL_EXIT_OK : status;
	if (a.keep < 0 || a.n_ids) {
		petal_cli_error(cli, "ami prune needs --keep N and takes no ids; see 'petal ami "
		                "prune --help'");
		return PETAL_EXIT_USAGE;
	}
	struct petal_ami_regions *regions = petal_xcalloc(1, sizeof(*regions));
	if ((status = petal_ami_regions(cli, &a, regions)) != 0)
		goto out_regions;
	double price = petal_ami_price(cli);
	int64_t now = (int64_t)time(NULL);
	json_t *kept = json_array(), *gone = json_array(), *failed = json_array();
	double freed = 0;
	for (size_t r = 0; r < regions->n && status != PETAL_EXIT_USAGE; r++) {
		struct petal_ami_cloud ac;
		struct petal_image_set set = { 0 };
		struct petal_error err = PETAL_ERROR_INIT;
		int st = petal_ami_open(cli, regions->names[r][0] ? regions->names[r] : NULL, NULL,
		                        &ac);
		int rc = st == 0 ? petal_images_list(&ac.door, &set, &err) : 0;
		if (st != 0 || rc < 0) {
			if (rc < 0)
				petal_cli_error(cli, "%s", err.msg);
			status = st ? st : petal_cli_exit_for(rc);
			petal_ami_close(cli, &ac);
			break;
		}
		unsigned char *doomed = petal_xcalloc(set.n ? set.n : 1, 1);
		petal_images_prune_pick(&set, (size_t)a.keep, doomed);
		for (size_t i = 0; i < set.n; i++) {
			const struct petal_image *img = &set.imgs[i];
			json_t *j = petal_ami_image_json(img, price, now);
			if (!doomed[i]) {
				json_array_append_new(kept, j);
				continue;
			}
			struct petal_error e = PETAL_ERROR_INIT;
			rc = a.dry_run ? 0 : petal_cloud_image_delete(&ac.door, img->id, &e);
			if (rc < 0) {
				petal_cli_error(cli, "%s", e.msg);
				json_object_set_new(j, "error", json_string(e.msg));
				json_array_append_new(failed, j);
				status = PETAL_EXIT_FAILURE;
				continue;
			}
			freed += petal_image_monthly_cost(img, price);
			json_array_append_new(gone, j);
			if (cli->output != PETAL_OUTPUT_JSON)
				printf("%s %s %s (%s, seed %s)\n", a.dry_run ? "would delete" : "deleted",
				       img->id, img->region, img->name, petal_image_seed(img));
		}
		free(doomed);
		petal_image_set_release(&set);
		petal_ami_close(cli, &ac);
	}
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = json_pack("{s:I, s:b, s:o, s:o, s:o, s:f}", "keep", (json_int_t)a.keep,
		                      "dry_run", a.dry_run, "kept", kept, "deleted", gone,
		                      "failed", failed, "monthly_cost_usd_freed", freed);
		petal_cli_print_json(j);
		json_decref(j);
	} else {
		printf("%s %zu image%s, kept %zu; $%.2f a month %s\n",
		       a.dry_run ? "would delete" : "deleted", json_array_size(gone),
		       json_array_size(gone) == 1 ? "" : "s", json_array_size(kept), freed,
		       a.dry_run ? "would be saved" : "saved");
		json_decref(kept);
		json_decref(gone);
		json_decref(failed);
	}
out_regions:
	free(regions);
	return status;
}
