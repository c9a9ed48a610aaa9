#define _GNU_SOURCE
/* core/cache clear: on copies of the real mirrors, dated by setting the
   spec manifests' / spec files' mtimes. */
#include "config.h"

#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../core/cache/mirror.h"
#include "fixtures.h"
#include "suites.h"

#define DAY (24 * 3600)
#define HELLO_MANIFEST \
	"v3/manifests/spec/petal-hello/petal-hello-1.0-x6v6jvab72sas2ioviep3cqhdisn57qe.spec.manifest.json"
#define RUNTIME_MANIFEST \
	"v3/manifests/spec/gcc-runtime/gcc-runtime-12.2.0-n66q4bbjubs6vnd33vqaexzqofeelwrw.spec.manifest.json"
#define WRAPPER_MANIFEST \
	"v3/manifests/spec/compiler-wrapper/compiler-wrapper-1.1.0-hp7sourffr4wafert2hguioovrf3rufi.spec.manifest.json"
#define HELLO_SPEC_BLOB \
	"blobs/sha256/af/af6961fea66ca40a53b3fb98075c07a6af5154de05000756beebbcaad5faac34"
#define RUNTIME_SPEC_BLOB \
	"blobs/sha256/2e/2e732dcc5be16716fef2aa6d31418621bcb6a6ea4748b0f5383f9edcaa95c4b9"
#define WRAPPER_SPEC_BLOB \
	"blobs/sha256/7a/7a5ddf378ed3ab26b5b779c56ae3978a510f83b5c2e35518333efe3eaa69a220"
#define OLD_INDEX_BLOB \
	"blobs/sha256/c0/c0d9ce71ad7e87fc82f0e335ce35e644b583909dadc8125488a9b708881c0970"
#define V2_HELLO_SPEC \
	"build_cache/linux-debian12-icelake-gcc-12.2.0-petal-hello-1.0-ebahe7siwdjm75uiqkisg7bnkqkb4z6k.spec.json"
#define V2_RUNTIME_SPEC \
	"build_cache/linux-debian12-icelake-gcc-12.2.0-gcc-runtime-12.2.0-5ac4sesq5gnja3i4ucraplw4u2yoe4q7.spec.json"

static int64_t now;

static int exists(const char *dir, const char *rel)
{
	char *p = fx_path(dir, rel);
	struct stat st;
	int r = stat(p, &st) == 0;
	free(p);
	return r;
}

static void age(const char *dir, const char *rel, int64_t days)
{
	char *p = fx_path(dir, rel);
	CU_ASSERT_EQUAL(fx_touch(p, now - days * DAY), 0);
	free(p);
}

/* Every spec object of a v3 copy dated `days` ago. */
static void age_all_v3(const char *dir, int64_t days)
{
	age(dir, HELLO_MANIFEST, days);
	age(dir, RUNTIME_MANIFEST, days);
	age(dir, WRAPPER_MANIFEST, days);
}

static int has_path(const struct petal_cache_clear_plan *p, const char *rel)
{
	for (size_t i = 0; i < p->n_paths; i++)
		if (!strcmp(p->paths[i], rel))
			return 1;
	return 0;
}

static int plan(const char *dir, int64_t days, struct petal_mirror_io *io,
                struct petal_cache_clear_plan *pl)
{
	struct petal_error err = { 0 };
	if (petal_mirror_file_open(dir, io, &err) != 0)
		return -1;
	struct petal_cache_clear_opts o = { .now = now, .older_than = days * DAY };
	int rc = petal_cache_clear_plan(io, &o, pl, &err);
	if (rc)
		fprintf(stderr, "\n  plan: %s\n", err.msg);
	return rc;
}

static int apply(struct petal_mirror_io *io, struct petal_cache_clear_plan *pl)
{
	struct petal_error err = { 0 };
	struct petal_cache_clear_opts o = { .now = now };
	int rc = petal_cache_clear_apply(io, &o, pl, &err);
	if (rc)
		fprintf(stderr, "\n  apply: %s\n", err.msg);
	return rc;
}

/* The status of a mirror, expecting success. */
static void status(const char *dir, struct petal_cache_status *st)
{
	struct petal_mirror_io io;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_mirror_file_open(dir, &io, &err), 0);
	int rc = petal_cache_status(&io, NULL, 0, st, &err);
	if (rc)
		fprintf(stderr, "\n  status after clear: %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	petal_mirror_file_close(&io);
}

/* The current v3 index as JSON (via its manifest). */
static json_t *v3_index(const char *dir)
{
	char *m = fx_path(dir, "v3/manifests/index/index.manifest.json");
	json_t *man = json_load_file(m, 0, NULL);
	free(m);
	if (!man)
		return NULL;
	const char *sum = json_string_value(
		json_object_get(json_array_get(json_object_get(man, "data"), 0), "checksum"));
	char rel[160];
	snprintf(rel, sizeof(rel), "blobs/sha256/%.2s/%s", sum, sum);
	json_decref(man);
	char *b = fx_path(dir, rel);
	json_t *idx = json_load_file(b, JSON_REJECT_DUPLICATES, NULL);
	free(b);
	return idx;
}

static json_t *record(json_t *idx, const char *hash)
{
	return json_object_get(json_object_get(json_object_get(idx, "database"), "installs"), hash);
}

static void test_dry_run_and_clear_v3(void)
{
	char *dir = fx_mirror("v3-mirror");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	age_all_v3(dir, 1);
	age(dir, HELLO_MANIFEST, 100);

	struct petal_mirror_io io;
	struct petal_cache_clear_plan pl;
	CU_ASSERT_EQUAL_FATAL(plan(dir, 30, &io, &pl), 0);
	CU_ASSERT_EQUAL(pl.layout, PETAL_CACHE_V3);
	CU_ASSERT_EQUAL_FATAL(pl.n_victims, 1);
	CU_ASSERT_STRING_EQUAL(pl.victims[0].name, "petal-hello");
	CU_ASSERT_EQUAL(pl.n_needed, 0);
	CU_ASSERT_EQUAL(pl.kept_specs, 2);
	/* its manifest first, its spec blob (its tarball is not in the copy), and
	   the old index blob last */
	CU_ASSERT_EQUAL_FATAL(pl.n_paths, 3);
	CU_ASSERT_STRING_EQUAL(pl.paths[0], HELLO_MANIFEST);
	CU_ASSERT_STRING_EQUAL(pl.paths[1], HELLO_SPEC_BLOB);
	CU_ASSERT_STRING_EQUAL(pl.paths[2], OLD_INDEX_BLOB);
	CU_ASSERT_EQUAL(pl.missing_blobs, 1);
	CU_ASSERT_EQUAL(pl.bytes, 447 + 1164 + 5197);
	/* a dry run: the plan alone changed nothing */
	CU_ASSERT_TRUE(exists(dir, HELLO_MANIFEST));
	CU_ASSERT_TRUE(exists(dir, OLD_INDEX_BLOB));

	CU_ASSERT_EQUAL_FATAL(apply(&io, &pl), 0);
	petal_cache_clear_plan_release(&pl);
	petal_mirror_file_close(&io);
	CU_ASSERT_FALSE(exists(dir, HELLO_MANIFEST));
	CU_ASSERT_FALSE(exists(dir, HELLO_SPEC_BLOB));
	CU_ASSERT_FALSE(exists(dir, OLD_INDEX_BLOB));
	CU_ASSERT_TRUE(exists(dir, RUNTIME_MANIFEST));
	CU_ASSERT_TRUE(exists(dir, RUNTIME_SPEC_BLOB));
	CU_ASSERT_TRUE(exists(dir, WRAPPER_SPEC_BLOB));

	struct petal_cache_status st;
	status(dir, &st);
	CU_ASSERT_EQUAL(st.specs, 2);
	CU_ASSERT_EQUAL(st.records, 4); /* gcc and glibc: gcc-runtime depends on them */
	CU_ASSERT_EQUAL(st.spec_objects, 2);
	CU_ASSERT_TRUE(st.index_verified);
	petal_cache_status_release(&st);

	/* the new index is plain JSON with the kept records and recounted refs */
	json_t *idx = v3_index(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(idx);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(idx, "database"),
	                                                         "version")), "8");
	CU_ASSERT_PTR_NULL(record(idx, "x6v6jvab72sas2ioviep3cqhdisn57qe"));
	json_t *w = record(idx, "hp7sourffr4wafert2hguioovrf3rufi");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(w, "ref_count")), 0);
	CU_ASSERT_TRUE(json_is_true(json_object_get(w, "in_buildcache")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(
		record(idx, "3kkp3m4df4oqxq2dwdpt6xxszkjy3yds"), "ref_count")), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(
		record(idx, "n66q4bbjubs6vnd33vqaexzqofeelwrw"), "spec"), "name")), "gcc-runtime");
	json_decref(idx);

	/* nothing left older than 30 days: a second clear changes nothing */
	CU_ASSERT_EQUAL_FATAL(plan(dir, 30, &io, &pl), 0);
	CU_ASSERT_EQUAL(pl.n_victims, 0);
	CU_ASSERT_EQUAL(pl.n_paths, 0);
	CU_ASSERT_EQUAL(apply(&io, &pl), 0);
	petal_cache_clear_plan_release(&pl);
	petal_mirror_file_close(&io);
	free(dir);
}

static void test_shared_blob_kept(void)
{
	char *dir = fx_mirror("v3-mirror");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	/* gcc-runtime's (kept) manifest also lists petal-hello's spec blob */
	char *m = fx_path(dir, RUNTIME_MANIFEST);
	CU_ASSERT_EQUAL(fx_replace(m, "\n]\n}",
	                           ",\n{\n\"contentLength\":1164,\n\"mediaType\":"
	                           "\"application/vnd.spack.spec.v5+json\",\n\"compression\":\"gzip\",\n"
	                           "\"checksumAlgorithm\":\"sha256\",\n\"checksum\":"
	                           "\"af6961fea66ca40a53b3fb98075c07a6af5154de05000756beebbcaad5faac34\""
	                           "\n}\n]\n}"), 0);
	free(m);
	age_all_v3(dir, 1);
	age(dir, HELLO_MANIFEST, 100);
	struct petal_mirror_io io;
	struct petal_cache_clear_plan pl;
	CU_ASSERT_EQUAL_FATAL(plan(dir, 30, &io, &pl), 0);
	CU_ASSERT_EQUAL(pl.n_victims, 1);
	CU_ASSERT_TRUE(has_path(&pl, HELLO_MANIFEST));
	CU_ASSERT_FALSE(has_path(&pl, HELLO_SPEC_BLOB));
	CU_ASSERT_EQUAL_FATAL(apply(&io, &pl), 0);
	petal_cache_clear_plan_release(&pl);
	petal_mirror_file_close(&io);
	CU_ASSERT_FALSE(exists(dir, HELLO_MANIFEST));
	CU_ASSERT_TRUE(exists(dir, HELLO_SPEC_BLOB));
	free(dir);
}

static void test_dependencies_protected(void)
{
	char *dir = fx_mirror("v3-mirror");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	/* petal-hello is new; gcc-runtime (it links it) and compiler-wrapper
	   (only built with) are old */
	age_all_v3(dir, 100);
	age(dir, HELLO_MANIFEST, 1);
	struct petal_mirror_io io;
	struct petal_cache_clear_plan pl;
	CU_ASSERT_EQUAL_FATAL(plan(dir, 30, &io, &pl), 0);
	CU_ASSERT_EQUAL_FATAL(pl.n_victims, 1);
	CU_ASSERT_STRING_EQUAL(pl.victims[0].name, "compiler-wrapper");
	CU_ASSERT_EQUAL_FATAL(pl.n_needed, 1);
	CU_ASSERT_STRING_EQUAL(pl.needed[0].name, "gcc-runtime");
	CU_ASSERT_EQUAL_FATAL(apply(&io, &pl), 0);
	petal_cache_clear_plan_release(&pl);
	petal_mirror_file_close(&io);
	CU_ASSERT_FALSE(exists(dir, WRAPPER_MANIFEST));
	CU_ASSERT_TRUE(exists(dir, RUNTIME_MANIFEST));

	/* the cleared build dependency stays listed, no longer in the cache */
	json_t *idx = v3_index(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(idx);
	json_t *w = record(idx, "hp7sourffr4wafert2hguioovrf3rufi");
	CU_ASSERT_PTR_NOT_NULL(w);
	CU_ASSERT_TRUE(json_is_false(json_object_get(w, "in_buildcache")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(w, "ref_count")), 1);
	json_decref(idx);
	struct petal_cache_status st;
	status(dir, &st);
	CU_ASSERT_EQUAL(st.specs, 2);
	CU_ASSERT_EQUAL(st.records, 5);
	petal_cache_status_release(&st);
	free(dir);
}

static void test_orphans_and_races(void)
{
	char *dir = fx_mirror("v3-mirror");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	age_all_v3(dir, 1);
	/* a spec manifest the index does not list, old: it goes too */
	char *src = fx_path(dir, WRAPPER_MANIFEST);
	char *dst = fx_path(dir, "v3/manifests/spec/zlib/zlib-1.3-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.spec.manifest.json");
	char *d = fx_path(dir, "v3/manifests/spec/zlib");
	mkdir(d, 0755);
	size_t len;
	char *text = fx_read(src, &len);
	CU_ASSERT_EQUAL(fx_write(dst, text, len), 0);
	CU_ASSERT_EQUAL(fx_touch(dst, now - 100 * DAY), 0);
	struct petal_mirror_io io;
	struct petal_cache_clear_plan pl;
	CU_ASSERT_EQUAL_FATAL(plan(dir, 30, &io, &pl), 0);
	CU_ASSERT_EQUAL_FATAL(pl.n_victims, 1);
	CU_ASSERT_PTR_NULL(pl.victims[0].name);
	CU_ASSERT_STRING_EQUAL(pl.victims[0].hash, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	/* its blob is compiler-wrapper's too, kept */
	CU_ASSERT_EQUAL(pl.n_paths, 1);

	/* the index changes between plan and apply: nothing is deleted */
	char *idx_blob = fx_path(dir, OLD_INDEX_BLOB);
	char *manifest = fx_path(dir, "v3/manifests/index/index.manifest.json");
	CU_ASSERT_EQUAL(fx_replace(manifest, "c0d9ce71", "c0d9ce72"), 0);
	struct petal_error err = { 0 };
	struct petal_cache_clear_opts o = { .now = now };
	int rc = petal_cache_clear_apply(&io, &o, &pl, &err);
	CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "changed since the clear was planned"));
	CU_ASSERT_TRUE(exists(dir, "v3/manifests/spec/zlib/zlib-1.3-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.spec.manifest.json"));
	petal_cache_clear_plan_release(&pl);
	petal_mirror_file_close(&io);
	free(idx_blob);
	free(manifest);
	free(text);
	free(d);
	free(dst);
	free(src);
	free(dir);
}

static void test_clear_v2(void)
{
	char *dir = fx_mirror("v2-mirror");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	age(dir, V2_RUNTIME_SPEC, 1);
	age(dir, V2_HELLO_SPEC, 100);
	/* a tarball for it, where Spack puts one */
	char *tdir = fx_path(dir, "build_cache/linux-debian12-icelake/gcc-12.2.0/petal-hello-1.0");
	char *cmd = NULL;
	CU_ASSERT_NOT_EQUAL(asprintf(&cmd, "mkdir -p '%s'", tdir), -1);
	CU_ASSERT_EQUAL(system(cmd), 0);
	free(cmd);
	char *tarball = fx_path(tdir, "linux-debian12-icelake-gcc-12.2.0-petal-hello-1.0-"
	                              "ebahe7siwdjm75uiqkisg7bnkqkb4z6k.spack");
	CU_ASSERT_EQUAL(fx_write(tarball, "tarball", 7), 0);

	struct petal_mirror_io io;
	struct petal_cache_clear_plan pl;
	CU_ASSERT_EQUAL_FATAL(plan(dir, 30, &io, &pl), 0);
	CU_ASSERT_EQUAL(pl.layout, PETAL_CACHE_V2);
	CU_ASSERT_EQUAL_FATAL(pl.n_victims, 1);
	CU_ASSERT_STRING_EQUAL(pl.victims[0].name, "petal-hello");
	CU_ASSERT_EQUAL_FATAL(pl.n_paths, 2);
	CU_ASSERT_STRING_EQUAL(pl.paths[0], V2_HELLO_SPEC); /* spec file before tarball */
	CU_ASSERT_PTR_NOT_NULL(strstr(pl.paths[1], ".spack"));
	CU_ASSERT_EQUAL(pl.bytes, 3562 + 7);
	CU_ASSERT_EQUAL_FATAL(apply(&io, &pl), 0);
	petal_cache_clear_plan_release(&pl);
	petal_mirror_file_close(&io);
	CU_ASSERT_FALSE(exists(dir, V2_HELLO_SPEC));
	CU_ASSERT_TRUE(exists(dir, V2_RUNTIME_SPEC));
	struct stat sb;
	CU_ASSERT_NOT_EQUAL(stat(tarball, &sb), 0);

	/* index.json and its hash agree, and hold gcc-runtime with glibc */
	struct petal_cache_status st;
	status(dir, &st);
	CU_ASSERT_TRUE(st.index_verified);
	CU_ASSERT_EQUAL(st.specs, 1);
	CU_ASSERT_EQUAL(st.records, 2);
	petal_cache_status_release(&st);
	char *hash = fx_path(dir, "build_cache/index.json.hash");
	char *hex = fx_read(hash, &(size_t){ 0 });
	CU_ASSERT_EQUAL(strlen(hex), 64);
	free(hex);
	free(hash);
	free(tarball);
	free(tdir);
	free(dir);
}

int fx_add_clear_suite(void)
{
	now = (int64_t)time(NULL);
	CU_pSuite s = CU_add_suite("cache clear", NULL, NULL);
	if (!s || !CU_add_test(s, "v3: dry run, then clear; the index reads back", test_dry_run_and_clear_v3) ||
	    !CU_add_test(s, "v3: a blob a kept spec shares is kept", test_shared_blob_kept) ||
	    !CU_add_test(s, "v3: linked dependencies of kept specs stay", test_dependencies_protected) ||
	    !CU_add_test(s, "v3: unindexed manifests; index changed meanwhile", test_orphans_and_races) ||
	    !CU_add_test(s, "v2: spec files, tarballs, index and hash", test_clear_v2))
		return -1;
	return 0;
}
