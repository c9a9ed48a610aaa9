/* tests/test_http: TLS is verified, peer and name, always; AWS_CA_BUNDLE
   names a private CA.  The certificate is made here with libcrypto. */
#define _GNU_SOURCE
#include "config.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httptest.h"

/* A self-signed P-256 certificate for IP 127.0.0.1 only. */
static int make_cert(const char *cert_path, const char *key_path)
{
	int rc = -1;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *san = NULL;
	FILE *f = NULL;
	if (!key || !x)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"petal test",
	                           -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
	if (!san || !X509_add_ext(x, san, -1) || !X509_sign(x, key, EVP_sha256()))
		goto out;
	if (!(f = fopen(cert_path, "w")) || !PEM_write_X509(f, x) || fclose(f) != 0)
		goto out;
	if (!(f = fopen(key_path, "w")) ||
	    !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) || fclose(f) != 0)
		goto out;
	f = NULL;
	rc = 0;
out:
	if (f)
		fclose(f);
	X509_EXTENSION_free(san);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static int get_tls(const char *host, int port, struct petal_http_response *r,
                   struct petal_error *e)
{
	char url[128];
	snprintf(url, sizeof(url), "https://%s:%d/tls/ok", host, port);
	struct petal_http_request rq = { .size = sizeof(rq), .method = "GET", .url = url,
		                         .idempotent = 1, .max_attempts = 3, .timeout_s = 10 };
	http_release(r);
	memset(e, 0, sizeof(*e));
	return petal_http(&rq, r, e);
}

static void test_tls(void)
{
	char dir[256], cert[512], key[512];
	temp_dir(dir, sizeof(dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	CU_ASSERT_EQUAL_FATAL(make_cert(cert, key), 0);
	struct faultsrv s;
	const char *args[] = { "--tls-cert", cert, "--tls-key", key, NULL };
	CU_ASSERT_EQUAL_FATAL(faultsrv_start(&s, args), 0);
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e;
	unsetenv("AWS_CA_BUNDLE");

	/* an unknown issuer: refused at once, never retried, nothing sent */
	CU_ASSERT_EQUAL(get_tls("127.0.0.1", s.port, &r, &e), PETAL_ENET);
	CU_ASSERT_EQUAL(r.attempts, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "certificate"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "AWS_CA_BUNDLE"));
	CU_ASSERT_EQUAL(faultsrv_count(&s, "/tls/ok"), 0);

	/* trusted through AWS_CA_BUNDLE */
	setenv("AWS_CA_BUNDLE", cert, 1);
	CU_ASSERT_EQUAL(get_tls("127.0.0.1", s.port, &r, &e), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body ? r.body : "", "ok\n");
	CU_ASSERT_EQUAL(faultsrv_count(&s, "/tls/ok"), 1);

	/* trusted issuer, wrong name: the host is checked too */
	CU_ASSERT_EQUAL(get_tls("localhost", s.port, &r, &e), PETAL_ENET);
	CU_ASSERT_EQUAL(r.attempts, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "certificate"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "https://localhost:"));
	CU_ASSERT_EQUAL(faultsrv_count(&s, "/tls/ok"), 1);
	unsetenv("AWS_CA_BUNDLE");
	http_release(&r);
	faultsrv_stop(&s);
	remove_dir(dir);
}

int add_tls_tests(CU_pSuite s)
{
	return !CU_add_test(s, "TLS verified", test_tls);
}
