#define _GNU_SOURCE
/* core/cache on hostile index bytes: truncations of the real v3 index (a
   third of the lengths, all of the last 64) and single-byte corruptions,
   each served with a manifest that matches it, so that the JSON and record
   readers (not only the checksum) meet them.  Each must read or fail with PETAL_EINVAL and a message; never a
   crash (the suite also runs under ASan/UBSan).

   The mirror here is an in-memory struct petal_mirror_io without local_path:
   objects reach core/cache by download into temporary files, as from S3. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/cache/mirror.h"
#include "../../core/util/util.h"
#include "fixtures.h"
#include "suites.h"

#define MANIFEST "v3/manifests/index/index.manifest.json"

struct memio {
	char manifest[1024];
	const char *blob;
	size_t blob_len;
	char blob_rel[128];
	int gets;
};

static int mem_get(void *arg, const char *rel, const char *local, struct petal_error *err)
{
	struct memio *m = arg;
	m->gets++;
	if (!strcmp(rel, MANIFEST))
		return fx_write(local, m->manifest, strlen(m->manifest)) ? PETAL_EIO : 0;
	if (!strcmp(rel, m->blob_rel))
		return fx_write(local, m->blob, m->blob_len) ? PETAL_EIO : 0;
	return petal_fail(err, PETAL_ENOENT, "mem://%s: no such object", rel);
}

/* Serve `blob` as the index, with a manifest carrying its checksum. */
static void serve(struct memio *m, const char *blob, size_t len, const char *compression)
{
	char sum[65];
	fx_sha256_hex(blob, len, sum);
	m->blob = blob;
	m->blob_len = len;
	snprintf(m->blob_rel, sizeof(m->blob_rel), "blobs/sha256/%.2s/%s", sum, sum);
	snprintf(m->manifest, sizeof(m->manifest),
	         "{\"version\":3,\"data\":[{\"contentLength\":%zu,\"mediaType\":"
	         "\"application/vnd.spack.db.v8+json\",\"compression\":\"%s\","
	         "\"checksumAlgorithm\":\"sha256\",\"checksum\":\"%s\"}]}", len, compression, sum);
}

static char *real_index(size_t *len)
{
	const char *td = fx_testdata();
	if (!td)
		return NULL;
	char *p = NULL;
	if (asprintf(&p, "%s/spack-buildcache/v3-mirror/blobs/sha256/c0/"
	                 "c0d9ce71ad7e87fc82f0e335ce35e644b583909dadc8125488a9b708881c0970", td) < 0)
		return NULL;
	char *data = fx_read(p, len);
	free(p);
	return data;
}

/* One status on the served bytes: 0 or PETAL_EINVAL with a message. */
static int try_status(struct memio *m, size_t *specs)
{
	struct petal_mirror_io io = { .arg = m, .url = "mem://mirror", .get = mem_get };
	struct petal_spec want = { .name = (char *)"petal-hello" };
	struct petal_cache_status st;
	struct petal_error err = { 0 };
	int rc = petal_cache_status(&io, &want, 1, &st, &err);
	if (rc == 0) {
		*specs = st.specs;
		CU_ASSERT_EQUAL(st.n_matches, 1);
		CU_ASSERT_FALSE(st.listed);
		petal_cache_status_release(&st);
	} else {
		CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
		CU_ASSERT_TRUE(strstr(err.msg, "mem://mirror/blobs/sha256/") == err.msg);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "update-index"));
	}
	return rc;
}

static void test_download_path(void)
{
	size_t len;
	char *blob = real_index(&len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	struct memio m = { 0 };
	serve(&m, blob, len, "none");
	size_t specs = 0;
	CU_ASSERT_EQUAL(try_status(&m, &specs), 0);
	CU_ASSERT_EQUAL(specs, 3);
	CU_ASSERT_EQUAL(m.gets, 2); /* the manifest, then the blob: nothing else */

	/* an index blob stored compressed is refused with a reason */
	serve(&m, blob, len, "gzip");
	struct petal_mirror_io io = { .arg = &m, .url = "mem://mirror", .get = mem_get };
	struct petal_cache_status st;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(petal_cache_status(&io, NULL, 0, &st, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "compressed (gzip)"));
	free(blob);
}

static void test_truncations(void)
{
	size_t len;
	char *blob = real_index(&len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	struct memio m = { 0 };
	size_t specs, ok = 0;
	/* every third length, and every one near the end */
	for (size_t n = 0; n < len; n += n + 64 < len ? 3 : 1) {
		serve(&m, blob, n, "none");
		if (try_status(&m, &specs) == 0)
			ok++;
	}
	/* no proper prefix of a JSON object is a JSON object */
	CU_ASSERT_EQUAL(ok, 0);
	free(blob);
}

static void test_corruptions(void)
{
	size_t len;
	char *orig = real_index(&len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
	char *blob = malloc(len);
	if (!blob)
		abort();
	const unsigned char bytes[] = { '"', '\\', '{', '}', '[', ']', ',', ':', '0', 't', 0x00,
		                        0x1f, 0x80, 0xc3, 0xed, 0xff };
	struct memio m = { 0 };
	size_t specs, ok = 0, failed = 0;
	for (size_t i = 0; i < len; i += 13) {
		for (size_t b = 0; b < sizeof(bytes); b++) {
			memcpy(blob, orig, len);
			if ((unsigned char)blob[i] == bytes[b])
				continue;
			blob[i] = (char)bytes[b];
			serve(&m, blob, len, "none");
			specs = 0;
			if (try_status(&m, &specs) == 0) {
				ok++;
				CU_ASSERT(specs <= 3);
			} else {
				failed++;
			}
		}
	}
	/* most corruptions break the document; some only change a value */
	CU_ASSERT(failed > ok);
	CU_ASSERT(ok > 0);
	free(blob);
	free(orig);
}

static void test_huge_record(void)
{
	/* one record with more dependencies than any real spec has */
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	petal_strbuf_puts(&sb, "{\"database\":{\"version\":\"8\",\"installs\":{\"h\":{\"spec\":"
	                       "{\"name\":\"x\",\"version\":\"1\",\"dependencies\":[");
	for (int i = 0; i <= 100000; i++)
		petal_strbuf_printf(&sb, "%s{\"name\":\"d\",\"hash\":\"%d\"}", i ? "," : "", i);
	petal_strbuf_puts(&sb, "]},\"ref_count\":0,\"in_buildcache\":true}}}}");
	struct memio m = { 0 };
	serve(&m, sb.buf, sb.len, "none");
	struct petal_mirror_io io = { .arg = &m, .url = "mem://mirror", .get = mem_get };
	struct petal_cache_status st;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(petal_cache_status(&io, NULL, 0, &st, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "larger than petal accepts"));
	petal_strbuf_release(&sb);
}

int fx_add_hostile_suite(void)
{
	CU_pSuite s = CU_add_suite("cache hostile indexes", NULL, NULL);
	if (!s || !CU_add_test(s, "a mirror reached by download only", test_download_path) ||
	    !CU_add_test(s, "every truncation fails cleanly", test_truncations) ||
	    !CU_add_test(s, "single-byte corruptions read or fail cleanly", test_corruptions) ||
	    !CU_add_test(s, "a record too big is refused", test_huge_record))
		return -1;
	return 0;
}
