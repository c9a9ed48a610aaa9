/* bench/cache-status driver: `petal cache status` on a file:// mirror
   through core/cache, until the CLI command exists.  Prints the summary, the
   wall time of the status call and the process's peak resident memory.

   usage: read_index [-w SPEC]... MIRROR   (file:///dir or /dir) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/cache/mirror.h"
#include "core/seed/spec.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct petal_spec want[64];
	size_t n_want = 0;
	const char *url = NULL;
	struct petal_error err = { 0 };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-w") && i + 1 < argc && n_want < 64) {
			if (petal_spec_parse(argv[++i], &want[n_want], &err) != 0) {
				fprintf(stderr, "read_index: %s: %s\n", argv[i], err.msg);
				return 2;
			}
			n_want++;
		} else if (argv[i][0] != '-' && !url) {
			url = argv[i];
		} else {
			fprintf(stderr, "usage: read_index [-w SPEC]... MIRROR\n");
			return 2;
		}
	}
	if (!url) {
		fprintf(stderr, "usage: read_index [-w SPEC]... MIRROR\n");
		return 2;
	}
	struct petal_mirror_io io;
	if (petal_mirror_file_open(url, &io, &err) != 0) {
		fprintf(stderr, "read_index: %s\n", err.msg);
		return 1;
	}
	struct petal_cache_status st;
	double t0 = now_s();
	int rc = petal_cache_status(&io, want, n_want, &st, &err);
	double t1 = now_s();
	if (rc) {
		fprintf(stderr, "read_index: %s\n", err.msg);
		petal_mirror_file_close(&io);
		return 1;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("layout v%d, database version %s, index %s (%llu bytes, sha256 %s)\n",
	       (int)st.layout, st.db_version, st.index_object, (unsigned long long)st.index_bytes,
	       st.index_verified ? "verified" : "not checked");
	printf("records %zu, specs held %zu, distinct names %zu\n", st.records, st.specs,
	       st.distinct_names);
	printf("objects %llu (%llu bytes), spec objects %llu, package bytes %llu\n",
	       (unsigned long long)st.objects, (unsigned long long)st.bytes,
	       (unsigned long long)st.spec_objects, (unsigned long long)st.package_bytes);
	for (size_t i = 0; i < st.n_matches; i++)
		printf("  %-30s %s%s%s\n", st.matches[i].request, st.matches[i].hit ? "hit " : "miss",
		       st.matches[i].hit ? " " : "", st.matches[i].hit ? st.matches[i].version : "");
	if (st.n_matches)
		printf("hit ratio %zu/%zu\n", st.hits, st.n_matches);
	printf("status_seconds %.3f\n", t1 - t0);
	printf("peak_rss_kb %ld\n", ru.ru_maxrss);
	petal_cache_status_release(&st);
	petal_mirror_file_close(&io);
	for (size_t i = 0; i < n_want; i++)
		petal_spec_clear(&want[i]);
	return 0;
}
