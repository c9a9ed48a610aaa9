/* core/cache: reading real Spack mirrors (v2 and v3 layouts) and broken
   variants of them, matching requested specs; the tokenizer's and clear's
   suites are in tests/cache/. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/cache/mirror.h"
#include "../core/seed/spec.h"
#include "../core/util/util.h"
#include "cache/fixtures.h"
#include "cache/suites.h"

#define V3_INDEX_BLOB "blobs/sha256/c0/c0d9ce71ad7e87fc82f0e335ce35e644b583909dadc8125488a9b708881c0970"
#define V3_INDEX_SUM "c0d9ce71ad7e87fc82f0e335ce35e644b583909dadc8125488a9b708881c0970"
#define V3_MANIFEST "v3/manifests/index/index.manifest.json"

struct seen {
	char names[16][64];
	char versions[16][32];
	char compilers[16][64];
	char arch[16][64];
	int in_cache[16];
	size_t n;
};

static int collect(void *arg, const struct petal_cache_record *rec, struct petal_error *err)
{
	(void)err;
	struct seen *s = arg;
	if (s->n < 16) {
		snprintf(s->names[s->n], 64, "%s", rec->name);
		snprintf(s->versions[s->n], 32, "%s", rec->version);
		snprintf(s->compilers[s->n], 64, "%s@%s", rec->compiler ? rec->compiler : "-",
		         rec->compiler_version ? rec->compiler_version : "-");
		snprintf(s->arch[s->n], 64, "%s", rec->arch);
		s->in_cache[s->n] = rec->in_buildcache;
	}
	s->n++;
	return 0;
}

static int find(const struct seen *s, const char *name)
{
	for (size_t i = 0; i < s->n && i < 16; i++)
		if (!strcmp(s->names[i], name))
			return (int)i;
	return -1;
}

/* Scan a mirror's index, expecting success. */
static int scan_mirror(const char *dir, struct seen *s, struct petal_cache_scan *scan)
{
	struct petal_mirror_io io;
	struct petal_error err = { 0 };
	memset(s, 0, sizeof(*s));
	if (petal_mirror_file_open(dir, &io, &err) != 0)
		return -1;
	struct petal_cache_index *idx = NULL;
	int rc = petal_cache_index_fetch(&io, &idx, &err);
	if (!rc)
		rc = petal_cache_index_scan(idx, collect, s, scan, &err);
	if (rc)
		fprintf(stderr, "\n  %s: %s\n", dir, err.msg);
	petal_cache_index_free(idx);
	petal_mirror_file_close(&io);
	return rc;
}

/* Status of a mirror expecting failure `code` with `want` in the message. */
static void expect_status_error(const char *dir, int code, const char *want)
{
	struct petal_mirror_io io;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_mirror_file_open(dir, &io, &err), 0);
	struct petal_cache_status st;
	int rc = petal_cache_status(&io, NULL, 0, &st, &err);
	if (rc != code || !strstr(err.msg, want))
		fprintf(stderr, "\n  %s: rc %d, '%s'; want %d and '%s'\n", dir, rc, err.msg, code, want);
	CU_ASSERT_EQUAL(rc, code);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
	petal_mirror_file_close(&io);
}

static void test_v3_records(void)
{
	char *dir = fx_mirror("v3-mirror");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	struct seen s;
	struct petal_cache_scan scan;
	CU_ASSERT_EQUAL_FATAL(scan_mirror(dir, &s, &scan), 0);
	CU_ASSERT_STRING_EQUAL(scan.db_version, "8");
	CU_ASSERT_EQUAL(scan.records, 5);
	CU_ASSERT_EQUAL(scan.in_cache, 3);
	CU_ASSERT_STRING_EQUAL(scan.sha256, V3_INDEX_SUM);
	const char *in[][2] = { { "petal-hello", "1.0" }, { "gcc-runtime", "12.2.0" },
		                { "compiler-wrapper", "1.1.0" } };
	for (size_t i = 0; i < 3; i++) {
		int k = find(&s, in[i][0]);
		CU_ASSERT_FATAL(k >= 0);
		CU_ASSERT_STRING_EQUAL(s.versions[k], in[i][1]);
		CU_ASSERT_TRUE(s.in_cache[k]);
		CU_ASSERT_STRING_EQUAL(s.arch[k], "linux-debian12-icelake");
	}
	CU_ASSERT_FALSE(s.in_cache[find(&s, "gcc")]);
	CU_ASSERT_FALSE(s.in_cache[find(&s, "glibc")]);
	CU_ASSERT_STRING_EQUAL(s.arch[find(&s, "gcc")], "linux-debian12-x86_64");
	/* spec format v5: the compiler is the build dependency providing c */
	CU_ASSERT_STRING_EQUAL(s.compilers[find(&s, "petal-hello")], "gcc@12.2.0");
	CU_ASSERT_STRING_EQUAL(s.compilers[find(&s, "gcc-runtime")], "gcc@12.2.0");
	CU_ASSERT_STRING_EQUAL(s.compilers[find(&s, "compiler-wrapper")], "-@-");
	free(dir);
}

static void test_v2_records(void)
{
	char *dir = fx_mirror("v2-mirror");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	struct seen s;
	struct petal_cache_scan scan;
	CU_ASSERT_EQUAL_FATAL(scan_mirror(dir, &s, &scan), 0);
	CU_ASSERT_STRING_EQUAL(scan.db_version, "7");
	CU_ASSERT_EQUAL(scan.records, 3);
	CU_ASSERT_EQUAL(scan.in_cache, 2);
	int k = find(&s, "petal-hello");
	CU_ASSERT_FATAL(k >= 0);
	CU_ASSERT_STRING_EQUAL(s.versions[k], "1.0");
	CU_ASSERT_TRUE(s.in_cache[k]);
	CU_ASSERT_STRING_EQUAL(s.compilers[k], "gcc@12.2.0"); /* spec.compiler, format v4 */
	k = find(&s, "gcc-runtime");
	CU_ASSERT_FATAL(k >= 0);
	CU_ASSERT_STRING_EQUAL(s.versions[k], "12.2.0");
	CU_ASSERT_TRUE(s.in_cache[k]);
	CU_ASSERT_FALSE(s.in_cache[find(&s, "glibc")]);
	free(dir);
}

static void test_status_summary(void)
{
	char *v3 = fx_mirror("v3-mirror"), *v2 = fx_mirror("v2-mirror");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v2);
	struct petal_mirror_io io;
	struct petal_error err = { 0 };
	struct petal_cache_status st;
	CU_ASSERT_EQUAL_FATAL(petal_mirror_file_open(v3, &io, &err), 0);
	CU_ASSERT_EQUAL_FATAL(petal_cache_status(&io, NULL, 0, &st, &err), 0);
	CU_ASSERT_EQUAL(st.layout, PETAL_CACHE_V3);
	CU_ASSERT_EQUAL(st.specs, 3);
	CU_ASSERT_EQUAL(st.records, 5);
	CU_ASSERT_EQUAL(st.distinct_names, 3);
	CU_ASSERT_TRUE(st.index_verified);
	CU_ASSERT_FALSE(st.manifest_signed);
	CU_ASSERT_STRING_EQUAL(st.index_object, V3_INDEX_BLOB);
	CU_ASSERT_TRUE(st.listed);
	CU_ASSERT_EQUAL(st.objects, 9);
	CU_ASSERT_EQUAL(st.spec_objects, 3);
	/* blobs but the index: the three gzipped spec files (tarballs left out) */
	CU_ASSERT_EQUAL(st.package_bytes, 539 + 954 + 1164);
	CU_ASSERT_EQUAL(st.time_source, PETAL_CACHE_TIME_MTIME);
	CU_ASSERT_TRUE(st.oldest > 0 && st.oldest <= st.newest);
	petal_cache_status_release(&st);
	petal_mirror_file_close(&io);

	CU_ASSERT_EQUAL_FATAL(petal_mirror_file_open(v2, &io, &err), 0);
	CU_ASSERT_EQUAL_FATAL(petal_cache_status(&io, NULL, 0, &st, &err), 0);
	CU_ASSERT_EQUAL(st.layout, PETAL_CACHE_V2);
	CU_ASSERT_EQUAL(st.specs, 2);
	CU_ASSERT_STRING_EQUAL(st.db_version, "7");
	CU_ASSERT_TRUE(st.index_verified);
	CU_ASSERT_EQUAL(st.objects, 4);
	CU_ASSERT_EQUAL(st.spec_objects, 2);
	CU_ASSERT_EQUAL(st.package_bytes, 0); /* no .spack tarballs in the copy */
	petal_cache_status_release(&st);
	petal_mirror_file_close(&io);
	free(v3);
	free(v2);
}

struct req {
	const char *spec;
	int hit;
	const char *version;
	const char *hash_v3;
};

static void check_matches(const char *mirror, const struct req *reqs, size_t n, size_t hits)
{
	char *dir = fx_mirror(mirror);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	struct petal_spec *want = calloc(n, sizeof(*want));
	struct petal_error err = { 0 };
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(petal_spec_parse(reqs[i].spec, &want[i], &err), 0);
	struct petal_mirror_io io;
	CU_ASSERT_EQUAL_FATAL(petal_mirror_file_open(dir, &io, &err), 0);
	struct petal_cache_status st;
	CU_ASSERT_EQUAL_FATAL(petal_cache_status(&io, want, n, &st, &err), 0);
	CU_ASSERT_EQUAL_FATAL(st.n_matches, n);
	CU_ASSERT_EQUAL(st.hits, hits);
	for (size_t i = 0; i < n; i++) {
		const struct petal_cache_match *m = &st.matches[i];
		if (m->hit != reqs[i].hit)
			fprintf(stderr, "\n  %s on %s: hit %d, want %d\n", reqs[i].spec, mirror, m->hit,
			        reqs[i].hit);
		CU_ASSERT_EQUAL(m->hit, reqs[i].hit);
		CU_ASSERT_STRING_EQUAL(m->name, want[i].name);
		if (reqs[i].hit && m->hit) {
			CU_ASSERT_STRING_EQUAL(m->version, reqs[i].version);
			if (reqs[i].hash_v3 && !strcmp(mirror, "v3-mirror"))
				CU_ASSERT_STRING_EQUAL(m->hash, reqs[i].hash_v3);
		}
		if (!m->hit)
			CU_ASSERT_PTR_NULL(m->version);
	}
	petal_cache_status_release(&st);
	petal_mirror_file_close(&io);
	for (size_t i = 0; i < n; i++)
		petal_spec_clear(&want[i]);
	free(want);
	free(dir);
}

static void test_matching(void)
{
	const struct req reqs[] = {
		{ "petal-hello@1.0", 1, "1.0", "x6v6jvab72sas2ioviep3cqhdisn57qe" },
		{ "petal-hello@2:", 0, NULL, NULL },
		{ "zlib", 0, NULL, NULL },
		{ "petal-hello", 1, "1.0", "x6v6jvab72sas2ioviep3cqhdisn57qe" },
		{ "petal-hello@:1.0 %gcc@12", 1, "1.0", NULL },
		{ "petal-hello %gcc@13:", 0, NULL, NULL },
		{ "petal-hello %clang", 0, NULL, NULL },
		{ "gcc-runtime@12.2.0", 1, "12.2.0", "n66q4bbjubs6vnd33vqaexzqofeelwrw" },
		{ "gcc", 0, NULL, NULL },     /* an external: listed, not in the cache */
		{ "glibc@2.36", 0, NULL, NULL },
	};
	check_matches("v3-mirror", reqs, sizeof(reqs) / sizeof(reqs[0]), 4);
	check_matches("v2-mirror", reqs, sizeof(reqs) / sizeof(reqs[0]), 4);
}

/* Several versions of one package: each request matched by its version,
   each hit the record of that version, whatever order the records come in. */
static void test_versions_of_one_name(void)
{
	static const char *const specs[] = { "gcc@11.3.0", "gcc@12.3.0", "gcc@13", "python@3.10",
		                             "python@3.11" };
	static const struct { const char *name, *version, *hash; } recs[] = {
		{ "python", "3.11.7", "pyhash311" }, { "gcc", "12.3.0", "gcchash12" },
		{ "gcc", "11.3.0", "gcchash11" },    { "python", "3.10.14", "pyhash310" },
		{ "gcc", "11.4.0", "gcchash114" },
	};
	static const char *const want_hash[] = { "gcchash11", "gcchash12", NULL, "pyhash310",
		                                 "pyhash311" };
	const size_t n = PETAL_ARRAY_SIZE(specs);
	struct petal_spec want[PETAL_ARRAY_SIZE(specs)];
	struct petal_error err = { 0 };
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(petal_spec_parse(specs[i], &want[i], &err), 0);
	struct petal_cache_matcher *m = petal_cache_matcher_new(want, n);
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(recs); i++) {
		struct petal_cache_record rec = { .hash = recs[i].hash, .name = recs[i].name,
			                          .version = recs[i].version, .arch = "",
			                          .in_buildcache = 1 };
		petal_cache_matcher_add(m, &rec);
	}
	struct petal_cache_match *res;
	size_t got, hits;
	petal_cache_matcher_finish(m, NULL, &res, &got, &hits);
	CU_ASSERT_EQUAL_FATAL(got, n);
	CU_ASSERT_EQUAL(hits, 4);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_STRING_EQUAL(res[i].request, specs[i]);
		CU_ASSERT_EQUAL(res[i].hit, want_hash[i] != NULL);
		if (want_hash[i] && res[i].hit)
			CU_ASSERT_STRING_EQUAL(res[i].hash, want_hash[i]);
	}
	petal_cache_matches_free(res, got);
	petal_cache_matcher_free(m);
	for (size_t i = 0; i < n; i++)
		petal_spec_clear(&want[i]);
}

/* Put `data` as the v3 index blob and point the manifest at it. */
static void set_v3_index(const char *dir, const char *data, size_t len)
{
	char sum[65], rel[128], manifest[512];
	fx_sha256_hex(data, len, sum);
	snprintf(rel, sizeof(rel), "blobs/sha256/%.2s", sum);
	char *d = fx_path(dir, rel);
	mkdir(d, 0755);
	free(d);
	snprintf(rel, sizeof(rel), "blobs/sha256/%.2s/%s", sum, sum);
	char *blob = fx_path(dir, rel);
	CU_ASSERT_EQUAL_FATAL(fx_write(blob, data, len), 0);
	free(blob);
	snprintf(manifest, sizeof(manifest),
	         "{\n\"version\":3,\n\"data\":[\n{\n\"contentLength\":%zu,\n\"mediaType\":"
	         "\"application/vnd.spack.db.v8+json\",\n\"compression\":\"none\",\n"
	         "\"checksumAlgorithm\":\"sha256\",\n\"checksum\":\"%s\"\n}\n]\n}", len, sum);
	char *m = fx_path(dir, V3_MANIFEST);
	CU_ASSERT_EQUAL_FATAL(fx_write(m, manifest, strlen(manifest)), 0);
	free(m);
}

static char *v3_blob_text(const char *dir, size_t *len)
{
	char *p = fx_path(dir, V3_INDEX_BLOB);
	char *t = fx_read(p, len);
	free(p);
	return t;
}

static void test_broken_v3(void)
{
	char *dir = fx_mirror("v3-mirror");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	size_t len;
	char *orig = v3_blob_text(dir, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
	char *blob = fx_path(dir, V3_INDEX_BLOB);

	/* a changed byte: the checksum no longer matches the manifest */
	CU_ASSERT_EQUAL(fx_replace(blob, "\"petal-hello\"", "\"petal-hellp\""), 0);
	expect_status_error(dir, PETAL_EINVAL, "checksum mismatch");
	expect_status_error(dir, PETAL_EINVAL, V3_INDEX_BLOB);
	expect_status_error(dir, PETAL_EINVAL, "spack buildcache update-index");

	/* truncated, manifest unchanged, then with a manifest that matches */
	CU_ASSERT_EQUAL(fx_write(blob, orig, len / 2), 0);
	expect_status_error(dir, PETAL_EINVAL, "checksum mismatch");
	set_v3_index(dir, orig, len / 2);
	expect_status_error(dir, PETAL_EINVAL, "truncated");
	set_v3_index(dir, orig, len - 1); /* the last '}' missing */
	expect_status_error(dir, PETAL_EINVAL, "unclosed");

	/* not JSON, JSON but not a database, trailing garbage */
	set_v3_index(dir, "this is not json\n", 17);
	expect_status_error(dir, PETAL_EINVAL, "not a valid Spack index");
	set_v3_index(dir, "[1, 2, 3]", 9);
	expect_status_error(dir, PETAL_EINVAL, "top level is not an object");
	set_v3_index(dir, "{\"something\": {}}", 17);
	expect_status_error(dir, PETAL_EINVAL, "no \"database\"");
	char *garbage = malloc(len + 8);
	if (!garbage)
		abort();
	memcpy(garbage, orig, len);
	memcpy(garbage + len, " x", 2);
	set_v3_index(dir, garbage, len + 2);
	expect_status_error(dir, PETAL_EINVAL, "nothing after the top-level value");
	free(garbage);

	/* a database version petal does not read */
	char *old = strdup(orig);
	char *v = strstr(old, "\"version\":\"8\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	v[11] = '5';
	set_v3_index(dir, old, len);
	expect_status_error(dir, PETAL_EINVAL, "database version \"5\"");
	free(old);

	/* a size that disagrees with the manifest's contentLength */
	set_v3_index(dir, orig, len);
	char *m = fx_path(dir, V3_MANIFEST);
	char cl[64];
	snprintf(cl, sizeof(cl), "\"contentLength\":%zu", len);
	CU_ASSERT_EQUAL(fx_replace(m, cl, "\"contentLength\":12"), 0);
	expect_status_error(dir, PETAL_EINVAL, "bytes but");

	/* the manifest itself broken, or naming no index */
	CU_ASSERT_EQUAL(fx_write(m, "{\"version\":3,", 13), 0);
	expect_status_error(dir, PETAL_EINVAL, "not JSON");
	const char *nodb = "{\"version\":3,\"data\":[]}";
	CU_ASSERT_EQUAL(fx_write(m, nodb, strlen(nodb)), 0);
	expect_status_error(dir, PETAL_EINVAL, "no data entry with mediaType");

	/* the blob gone */
	set_v3_index(dir, orig, len);
	unlink(blob);
	expect_status_error(dir, PETAL_ENOENT, "missing from the mirror");
	expect_status_error(dir, PETAL_ENOENT, V3_INDEX_BLOB);

	/* no index manifest: a v3 mirror without index, then no mirror at all */
	unlink(m);
	expect_status_error(dir, PETAL_ENOENT, "without an index");
	char *layout = fx_path(dir, "v3/layout.json");
	unlink(layout);
	expect_status_error(dir, PETAL_ENOENT, "no Spack build cache index");
	free(layout);
	free(m);
	free(blob);
	free(orig);
	free(dir);
}

static const char *signed_head = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n";
static const char *signed_tail =
	"-----BEGIN PGP SIGNATURE-----\n\niQEzBAEBCgAdFiEE\n=abcd\n-----END PGP SIGNATURE-----\n";

static void test_clearsigned_manifest(void)
{
	char *dir = fx_mirror("v3-mirror");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	char *m = fx_path(dir, V3_MANIFEST);
	size_t len;
	char *plain = fx_read(m, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	size_t cap = len + 1024;
	char *wrapped = malloc(cap);
	if (!wrapped)
		abort();
	/* a dash-escaped line too, as gpg writes one that starts with '-' */
	snprintf(wrapped, cap, "%s- \n%s\n%s", signed_head, plain, signed_tail);
	CU_ASSERT_EQUAL(fx_write(m, wrapped, strlen(wrapped)), 0);

	struct petal_mirror_io io;
	struct petal_error err = { 0 };
	struct petal_cache_status st;
	CU_ASSERT_EQUAL_FATAL(petal_mirror_file_open(dir, &io, &err), 0);
	int rc = petal_cache_status(&io, NULL, 0, &st, &err);
	if (rc)
		fprintf(stderr, "\n  %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_TRUE(st.manifest_signed);
	CU_ASSERT_EQUAL(st.specs, 3);
	petal_cache_status_release(&st);
	petal_mirror_file_close(&io);

	/* armour cut before the signature, or no blank line after the headers */
	snprintf(wrapped, cap, "%s%s\n", signed_head, plain);
	CU_ASSERT_EQUAL(fx_write(m, wrapped, strlen(wrapped)), 0);
	expect_status_error(dir, PETAL_EINVAL, "BEGIN PGP SIGNATURE");
	snprintf(wrapped, cap, "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n%s\n%s", plain,
	         signed_tail);
	CU_ASSERT_EQUAL(fx_write(m, wrapped, strlen(wrapped)), 0);
	expect_status_error(dir, PETAL_EINVAL, "Key: value");
	free(wrapped);
	free(plain);
	free(m);
	free(dir);
}

static void test_broken_v2(void)
{
	char *dir = fx_mirror("v2-mirror");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	char *index = fx_path(dir, "build_cache/index.json");
	char *hash = fx_path(dir, "build_cache/index.json.hash");
	size_t len;
	char *orig = fx_read(index, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(orig);

	CU_ASSERT_EQUAL(fx_replace(index, "\"1.0\"", "\"1.1\""), 0);
	expect_status_error(dir, PETAL_EINVAL, "checksum mismatch");
	expect_status_error(dir, PETAL_EINVAL, "index.json.hash");

	CU_ASSERT_EQUAL(fx_write(index, orig, len / 3), 0);
	char sum[65];
	fx_sha256_hex(orig, len / 3, sum);
	CU_ASSERT_EQUAL(fx_write(hash, sum, 64), 0);
	expect_status_error(dir, PETAL_EINVAL, "truncated");

	CU_ASSERT_EQUAL(fx_write(hash, "not a digest\n", 13), 0);
	expect_status_error(dir, PETAL_EINVAL, "does not hold a sha256");

	/* no hash file: read unverified, as Spack does for old mirrors */
	CU_ASSERT_EQUAL(fx_write(index, orig, len), 0);
	unlink(hash);
	struct petal_mirror_io io;
	struct petal_error err = { 0 };
	struct petal_cache_status st;
	CU_ASSERT_EQUAL_FATAL(petal_mirror_file_open(dir, &io, &err), 0);
	CU_ASSERT_EQUAL(petal_cache_status(&io, NULL, 0, &st, &err), 0);
	CU_ASSERT_FALSE(st.index_verified);
	CU_ASSERT_EQUAL(st.specs, 2);
	petal_cache_status_release(&st);
	petal_mirror_file_close(&io);

	unlink(index);
	expect_status_error(dir, PETAL_ENOENT, "no Spack build cache index");
	free(orig);
	free(hash);
	free(index);
	free(dir);
}

static void test_io_paths(void)
{
	char *dir = fx_mirror("v3-mirror");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	struct petal_mirror_io io;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_mirror_file_open(dir, &io, &err), 0);
	const char *bad[] = { "../v3-mirror/v3/layout.json", "/etc/passwd", "v3//layout.json",
		              "v3/./layout.json", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(io.get(io.arg, bad[i], "/dev/null", &err), PETAL_EINVAL);
		CU_ASSERT_EQUAL(io.del(io.arg, &bad[i], 1, &err), PETAL_EINVAL);
	}
	CU_ASSERT_EQUAL(io.get(io.arg, "v3/nothing.json", "/dev/null", &err), PETAL_ENOENT);
	petal_mirror_file_close(&io);
	CU_ASSERT_EQUAL(petal_mirror_file_open("file://relative/dir", &io, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(petal_mirror_file_open("file:///no/such/petal/dir", &io, &err),
	                PETAL_ENOENT);
	free(dir);
}

int main(void)
{
	if (!fx_testdata()) {
		fprintf(stderr, "FAIL: test_cache_index needs the real mirrors in "
		                "shared/testdata/spack-buildcache\n");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("cache index", NULL, NULL);
	if (!s || !CU_add_test(s, "v3 mirror: records, versions, compilers", test_v3_records) ||
	    !CU_add_test(s, "v2 mirror: records, versions, compilers", test_v2_records) ||
	    !CU_add_test(s, "status: specs, objects, sizes, dates", test_status_summary) ||
	    !CU_add_test(s, "several versions of one package", test_versions_of_one_name) ||
	    !CU_add_test(s, "requested specs: hits and misses", test_matching) ||
	    !CU_add_test(s, "broken v3 indexes: clear errors", test_broken_v3) ||
	    !CU_add_test(s, "clear-signed manifests", test_clearsigned_manifest) ||
	    !CU_add_test(s, "broken v2 indexes: clear errors", test_broken_v2) ||
	    !CU_add_test(s, "file:// paths stay inside the mirror", test_io_paths) ||
	    fx_add_json_suite() != 0 || fx_add_clear_suite() != 0 ||
	    fx_add_hostile_suite() != 0) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS) {
		CU_cleanup_registry();
		fx_cleanup();
		return 1;
	}
	unsigned int failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	fx_cleanup();
	return failures ? 1 : 0;
}
