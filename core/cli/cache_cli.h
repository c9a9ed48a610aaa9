/* `petal cache`: what its subcommands share (core/cli only). */
#ifndef PETAL_CLI_CACHE_H
#define PETAL_CLI_CACHE_H

#include <stdint.h>
#include <time.h>

#include "../cache/mirror.h"
#include "../plugin/registry.h"
#include "../seed/seed.h"
#include "../cloud/cloud.h"
#include "cli.h"

int cmd_cache_init(struct petal_cli *cli, int argc, char **argv);
int cmd_cache_status(struct petal_cli *cli, int argc, char **argv);
int cmd_cache_clear(struct petal_cli *cli, int argc, char **argv);
int cmd_cache_build(struct petal_cli *cli, int argc, char **argv); /* cache_build.c */

/* ---- the mirror URL ------------------------------------------------------- */

/* Check a mirror URL given on the command line and put it in the form the
   cloud plugins take: "s3://bucket[/prefix]" or "file:///abs/dir", with no
   trailing '/'.  An absolute path becomes a file:// URL.  PETAL_EINVAL with
   a message saying what to write instead.  Caller frees *url. */
int petal_cli_cache_url(const char *arg, char **url, struct petal_error *err);
/* "s3://bucket/prefix" from a bucket and a prefix (prefix may be NULL or ""). */
char *petal_cli_cache_url_s3(const char *bucket, const char *prefix);

/* The mirror a subcommand works on, from --url or else the seed's
   software.binary_cache; the seed is loaded when seed_path is given (*seed
   NULL otherwise).  0, or an exit status (the error already printed). */
int petal_cli_cache_target(const struct petal_cli *cli, const char *seed_path, const char *url_arg,
                       int need_mirror, struct petal_seed **seed, char **url);

/* ---- progress on a terminal ------------------------------------------------ */

struct petal_cli_cache_progress {
	int on;                   /* stderr is a terminal and the user did not ask for quiet */
	const char *stage;
	uint64_t objects, total, bytes;
	struct timespec start, last;
	int printed;              /* a line is on the screen, to be ended */
};

void petal_cli_cache_progress_init(struct petal_cli_cache_progress *p, const struct petal_cli *cli);
/* Show stage, objects done (of total when known), bytes and their rate;
   redrawn at most ten times a second.  Matches petal_cache_progress_cb. */
void petal_cli_cache_progress_show(void *arg, const char *stage, uint64_t done, uint64_t total,
                             uint64_t bytes);
/* End the progress line, if one was drawn. */
void petal_cli_cache_progress_done(struct petal_cli_cache_progress *p);

/* ---- the mirror through a cloud plugin's object ops ------------------------- */

struct petal_cli_cache_mirror {
	struct petal_mirror_io io;      /* for core/cache */
	char *url;                      /* the mirror, normalized */
	const char *cloud;              /* "aws" for s3://, "local" for file:// */
	struct petal_cloud door;        /* every call to the plugin (core/cloud) */
	struct petal_cli_cache_progress *progress; /* may be NULL */
	int encode;                     /* file://: percent-encode object names in URLs */
	/* file:// without escapes: core/cache's own file io, only to read big
	   objects (the index) in place instead of copying them first */
	struct petal_mirror_io local;
};

/* Find the cloud plugin for url's scheme in reg, init it, and wire its
   object ops to m->io.  PETAL_EPLUGIN when the plugin is missing, failed or
   cannot store objects. */
int petal_cli_cache_mirror_open(struct petal_registry *reg, const char *url,
                            struct petal_cli_cache_mirror *m, struct petal_error *err);
void petal_cli_cache_mirror_close(struct petal_cli_cache_mirror *m);
/* The object URL of a path relative to the mirror (caller frees). */
char *petal_cli_cache_object_url(const struct petal_cli_cache_mirror *m, const char *rel);

/* ---- output helpers ------------------------------------------------------------ */

/* "12.3 KiB" into buf. */
const char *petal_cli_cache_bytes(uint64_t bytes, char *buf, size_t len);
/* "2026-11-28 15:19 UTC" into buf ("-" for 0). */
const char *petal_cli_cache_time(int64_t t, char *buf, size_t len);
/* Exit status for a failure reading or writing the mirror: 3 when the
   cloud lacks the operation, else 1 (a bad index is the mirror's fault, not
   the command line's). */
int petal_cli_cache_exit_for(int code);

#endif
