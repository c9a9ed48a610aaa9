/* plugins/cloud_aws/credentials.c: the environment, the shared files, the
   instance role through IMDSv2 (tests/aws/imds_server.py on 127.0.0.1,
   spoken to through libcurl as the host's http would), the order of the
   chain, and secrets kept out of every message. */
#define _GNU_SOURCE /* nftw, setenv */
#include "config.h"

#include <CUnit/Basic.h>
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../plugins/cloud_aws/credentials.h"
#include "aws/awstest.h"

#define KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETzz"
#define TOKEN "FwoGZXIvYXdzEBYaDHsessionTOKENzz=="
#define IMDS_SECRET "imdsSecretKey/EXAMPLE+0123456789abcdefghi"
#define IMDS_TOKEN "IQoJb3JpZ2luX2VjEIMDSsessionTOKEN=="

/* Nothing secret in a message or a source string. */
static void assert_no_secrets(const char *s)
{
	CU_ASSERT_PTR_NULL(strstr(s, SECRET));
	CU_ASSERT_PTR_NULL(strstr(s, "SECRETzz"));
	CU_ASSERT_PTR_NULL(strstr(s, TOKEN));
	CU_ASSERT_PTR_NULL(strstr(s, IMDS_SECRET));
	CU_ASSERT_PTR_NULL(strstr(s, IMDS_TOKEN));
	CU_ASSERT_PTR_NULL(strstr(s, KEY_ID));
}

/* ---- an HTTP client like the host's: libcurl, no proxy, a timeout ----------- */

struct grow {
	char *p;
	size_t n;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct grow *g = arg;
	char *p = realloc(g->p, g->n + size * nmemb + 1);
	if (!p)
		return 0;
	memcpy(p + g->n, data, size * nmemb);
	g->p = p;
	g->n += size * nmemb;
	p[g->n] = '\0';
	return size * nmemb;
}

static int http_calls;

static int curl_http(const struct petal_http_request *req, struct petal_http_response *resp,
                     struct petal_error *err)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	struct grow body = { 0 };
	http_calls++;
	for (size_t i = 0; i < req->n_headers; i++) {
		char line[2048];
		snprintf(line, sizeof(line), "%s: %s", req->headers[i].name, req->headers[i].value);
		hl = curl_slist_append(hl, line);
	}
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)req->timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)req->timeout_s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		resp->body = body.p ? body.p : strdup("");
		resp->body_len = body.n;
	} else {
		free(body.p);
		err->code = rc == CURLE_OPERATION_TIMEDOUT ? PETAL_ETIMEOUT : PETAL_ENET;
		snprintf(err->msg, sizeof(err->msg), "%s %s: %s", req->method, req->url,
		         curl_easy_strerror(rc));
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : err->code;
}

static const struct aws_credentials_options with_http = {
	.http = curl_http, .free = free, .imds_timeout_s = 1,
};

/* ---- the loopback IMDS ---------------------------------------------------------- */

struct imds {
	pid_t pid;
	char port_file[PATH_MAX + 32], log_file[PATH_MAX + 32];
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("");
	char *p = calloc(1, 65536);
	size_t n = fread(p, 1, 65535, f);
	p[n] = '\0';
	fclose(f);
	return p;
}

static void imds_stop(struct imds *m)
{
	if (m->pid > 0) {
		kill(m->pid, SIGTERM);
		waitpid(m->pid, NULL, 0);
	}
	m->pid = 0;
}

/* Start tests/aws/imds_server.py with `extra` options; point the plugin at it. */
static int imds_start(struct imds *m, const char *const *extra)
{
	const char *top = getenv("top_srcdir");
	const char *py = getenv("PYTHON");
	char script[PATH_MAX + 64];
	snprintf(script, sizeof(script), "%s/tests/aws/imds_server.py", top ? top : ".");
	if (access(script, R_OK) != 0) {
		fprintf(stderr, "\n  %s not found (set top_srcdir)\n", script);
		return -1;
	}
	snprintf(m->port_file, sizeof(m->port_file), "%s/imds.port", awstest_home);
	snprintf(m->log_file, sizeof(m->log_file), "%s/imds.log", awstest_home);
	unlink(m->port_file); /* a previous server's */
	unlink(m->log_file);
	const char *argv[16] = { py && *py ? py : "python3", script, m->port_file,
		                 m->log_file };
	for (int i = 0; extra && extra[i] && i < 10; i++)
		argv[4 + i] = extra[i];
	if ((m->pid = fork()) < 0)
		return -1;
	if (m->pid == 0) {
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 200; i++) { /* up to 10 s for Python to listen */
		int status;
		if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
			fprintf(stderr, "\n  %s exited before listening\n", script);
			m->pid = 0;
			return -1;
		}
		char *port = slurp(m->port_file);
		if (*port) {
			char url[64];
			snprintf(url, sizeof(url), "http://127.0.0.1:%d/", atoi(port));
			setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
			free(port);
			return 0;
		}
		free(port);
		usleep(50000);
	}
	fprintf(stderr, "\n  %s did not listen within 10 s\n", script);
	imds_stop(m);
	return -1;
}

/* ---- the environment --------------------------------------------------------- */

static void test_env(void)
{
	awstest_fresh();
	struct aws_credentials *c;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_credentials_from_env(&c, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NULL(c);

	setenv("AWS_ACCESS_KEY_ID", KEY_ID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_SESSION_TOKEN", TOKEN, 1);
	CU_ASSERT_EQUAL_FATAL(aws_credentials_from_env(&c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->access_key_id, KEY_ID);
	CU_ASSERT_STRING_EQUAL(c->secret_access_key, SECRET);
	CU_ASSERT_STRING_EQUAL(c->session_token, TOKEN);
	CU_ASSERT_EQUAL(c->expiration, 0);
	CU_ASSERT_STRING_EQUAL(c->source, "environment (AWS_ACCESS_KEY_ID AKIA\u2026MPLE, "
	                                  "with AWS_SESSION_TOKEN)");
	assert_no_secrets(c->source);
	aws_credentials_free(c);
	aws_credentials_free(NULL);

	/* half a pair is an error, not a fall-through */
	unsetenv("AWS_ACCESS_KEY_ID");
	CU_ASSERT_EQUAL(aws_credentials_from_env(&c, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "AWS_SECRET_ACCESS_KEY is set but "
	                                       "AWS_ACCESS_KEY_ID is not"));
	assert_no_secrets(err.msg);
	CU_ASSERT_EQUAL(aws_credentials_resolve(NULL, &c, &err), PETAL_EINVAL);

	/* the secret pasted as the key id: refused without repeating it */
	setenv("AWS_ACCESS_KEY_ID", SECRET, 1);
	CU_ASSERT_EQUAL(aws_credentials_from_env(&c, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "the access key id holds a blank, a control "
	                                       "character or a '/'"));
	assert_no_secrets(err.msg);
	/* S3-compatible stores' keys: MinIO's default pair is accepted */
	setenv("AWS_ACCESS_KEY_ID", "minioadmin", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "minioadmin", 1);
	CU_ASSERT_EQUAL_FATAL(aws_credentials_from_env(&c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->access_key_id, "minioadmin");
	aws_credentials_free(c);
	/* a blank, a tab or a control character is no key: refused, never shown */
	static const char *const bad_ids[] = { "minio admin", "minio\tadmin", "minio\001admin",
		                               "minioadmin\x7f" };
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		setenv("AWS_ACCESS_KEY_ID", bad_ids[i], 1);
		CU_ASSERT_EQUAL(aws_credentials_from_env(&c, &err), PETAL_EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "access key id holds"));
		CU_ASSERT_PTR_NULL(strstr(err.msg, "minio"));
	}
	setenv("AWS_ACCESS_KEY_ID", "minioadmin", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "minio secret\x02", 1);
	CU_ASSERT_EQUAL(aws_credentials_from_env(&c, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "secret access key holds a blank"));
	CU_ASSERT_PTR_NULL(strstr(err.msg, "minio secret"));
	/* a line break in a secret would smuggle a header */
	setenv("AWS_ACCESS_KEY_ID", KEY_ID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET "\r\nX-Evil: 1", 1);
	CU_ASSERT_EQUAL(aws_credentials_from_env(&c, &err), PETAL_EINVAL);
	assert_no_secrets(err.msg);
}

static void test_redact(void)
{
	char buf[64];
	CU_ASSERT_STRING_EQUAL(aws_redact_key_id(KEY_ID, buf, sizeof(buf)), "AKIA\u2026MPLE");
	CU_ASSERT_STRING_EQUAL(aws_redact_key_id("AKIDEXAMPLE", buf, sizeof(buf)),
	                       "\u2026MPLE");
	CU_ASSERT_STRING_EQUAL(aws_redact_key_id("short", buf, sizeof(buf)), "\u2026");
	CU_ASSERT_STRING_EQUAL(aws_redact_key_id(NULL, buf, sizeof(buf)), "\u2026");
	char tiny[4];
	aws_redact_key_id(KEY_ID, tiny, sizeof(tiny));
	CU_ASSERT_EQUAL(strlen(tiny), 3);
}

/* ---- the shared files ------------------------------------------------------------ */

static void test_files(void)
{
	awstest_fresh();
	struct aws_credentials *c;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_credentials_from_files(NULL, &c, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no keys for profile 'default'"));

	char *cred = strdup(awstest_write(".aws/credentials",
		"# keys\n"
		"[default]\n"
		"  aws_access_key_id   =   " KEY_ID "  \n"
		"AWS_Secret_Access_Key=" SECRET "\n"
		"\n"
		"[dev]\n"
		"aws_access_key_id = AKIADEVEXAMPLE000001\n"
		"aws_secret_access_key = devSecret/EXAMPLE\n"
		"aws_session_token = " TOKEN "\n"));
	awstest_write(".aws/config",
		"[profile dev]\n"
		"aws_access_key_id = AKIACONFIGEXAMPLE001\n"
		"aws_secret_access_key = configSecret\n"
		"[profile cfgonly]\n"
		"region = eu-west-1\n"
		"aws_access_key_id = AKIACONFIGONLYEXAMP1\n"
		"aws_secret_access_key = cfgOnlySecret\n"
		"[profile assume]\n"
		"role_arn = arn:aws:iam::123456789012:role/x\n"
		"source_profile = default\n");
	CU_ASSERT_EQUAL_FATAL(aws_credentials_from_files(NULL, &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->access_key_id, KEY_ID);
	CU_ASSERT_STRING_EQUAL(c->secret_access_key, SECRET);
	CU_ASSERT_PTR_NULL(c->session_token);
	char want[2 * PATH_MAX];
	snprintf(want, sizeof(want), "profile 'default' in %s (AKIA\u2026MPLE)", cred);
	if (strcmp(c->source, want) != 0)
		fprintf(stderr, "\n  got '%s', want '%s'\n", c->source, want);
	CU_ASSERT_STRING_EQUAL(c->source, want);
	aws_credentials_free(c);
	free(cred);

	/* AWS_PROFILE; the credentials file before the config file */
	setenv("AWS_PROFILE", "dev", 1);
	CU_ASSERT_EQUAL_FATAL(aws_credentials_from_files(NULL, &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->access_key_id, "AKIADEVEXAMPLE000001");
	CU_ASSERT_STRING_EQUAL(c->session_token, TOKEN);
	assert_no_secrets(c->source);
	aws_credentials_free(c);
	/* keys only in the config file are found there */
	CU_ASSERT_EQUAL_FATAL(aws_credentials_from_files("cfgonly", &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->secret_access_key, "cfgOnlySecret");
	CU_ASSERT_PTR_NOT_NULL(strstr(c->source, "/.aws/config"));
	aws_credentials_free(c);
	/* a named profile that is nowhere is an error */
	setenv("AWS_PROFILE", "nobody", 1);
	CU_ASSERT_EQUAL(aws_credentials_from_files(NULL, &c, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "profile 'nobody' is in neither"));
	/* a profile that assumes a role says petal cannot */
	CU_ASSERT_EQUAL(aws_credentials_from_files("assume", &c, &err), PETAL_ENOTSUP);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "config:9: profile 'assume' uses role_arn"));

	/* AWS_SHARED_CREDENTIALS_FILE with '~' */
	unsetenv("AWS_PROFILE");
	awstest_write("other-creds", "[default]\naws_access_key_id = AKIAOTHEREXAMPLE0001\n"
	                             "aws_secret_access_key = otherSecret\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "~/other-creds", 1);
	CU_ASSERT_EQUAL_FATAL(aws_credentials_from_files(NULL, &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->access_key_id, "AKIAOTHEREXAMPLE0001");
	aws_credentials_free(c);
}

/* Malformed and partial files: file:line, no secret in the message. */
static void test_files_malformed(void)
{
	awstest_fresh();
	struct aws_credentials *c;
	struct petal_error err = { 0 };
	awstest_write(".aws/credentials", "[default]\naws_access_key_id = " KEY_ID "\n"
	                                  "aws_secret_access_key " SECRET "\n");
	CU_ASSERT_EQUAL(aws_credentials_from_files(NULL, &c, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/.aws/credentials:3: expected"));
	assert_no_secrets(err.msg);
	/* the chain stops there: a broken file is not skipped */
	CU_ASSERT_EQUAL(aws_credentials_resolve(NULL, &c, &err), PETAL_EINVAL);
	assert_no_secrets(err.msg);

	awstest_write(".aws/credentials", "[default]\n\naws_secret_access_key = " SECRET "\n");
	CU_ASSERT_EQUAL(aws_credentials_from_files(NULL, &c, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "credentials:3: profile 'default' has "
	                                       "aws_secret_access_key but no aws_access_key_id"));
	assert_no_secrets(err.msg);

	awstest_write(".aws/credentials", "[default]\naws_access_key_id = " SECRET "\n"
	                                  "aws_secret_access_key = " SECRET "\n");
	CU_ASSERT_EQUAL(aws_credentials_from_files(NULL, &c, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "credentials:2: profile 'default': the access "
	                                       "key id holds"));
	assert_no_secrets(err.msg);
}

/* ---- IMDSv2 ------------------------------------------------------------------------ */

static void test_imds(void)
{
	awstest_fresh();
	struct imds m = { 0 };
	CU_ASSERT_EQUAL_FATAL(imds_start(&m, NULL), 0);
	struct aws_credentials *c = NULL;
	struct petal_error err = { 0 };
	int rc = aws_credentials_from_imds(&with_http, &c, &err);
	if (rc != 0)
		fprintf(stderr, "\n  %s\n", err.msg);
	CU_ASSERT_EQUAL(rc, 0);
	char *log = slurp(m.log_file);
	imds_stop(&m);
	if (rc != 0) {
		fprintf(stderr, "  IMDS log:\n%s", log);
		free(log);
		return;
	}
	CU_ASSERT_STRING_EQUAL(c->access_key_id, "ASIAIMDSEXAMPLE12345");
	CU_ASSERT_STRING_EQUAL(c->secret_access_key, IMDS_SECRET);
	CU_ASSERT_STRING_EQUAL(c->session_token, IMDS_TOKEN);
	CU_ASSERT_EQUAL(c->expiration, 1893553445); /* 2030-01-02T03:04:05Z */
	CU_ASSERT_PTR_NOT_NULL(strstr(c->source, "instance role 'petal-build-role' (IMDSv2 at "
	                                         "http://127.0.0.1:"));
	assert_no_secrets(c->source);
	CU_ASSERT_FALSE(aws_credentials_expiring(c, 1893553445 - 600, 300));
	CU_ASSERT_TRUE(aws_credentials_expiring(c, 1893553445 - 200, 300));
	aws_credentials_free(c);
	/* the token first, with its TTL; then every GET carries it */
	CU_ASSERT_STRING_EQUAL(log,
		"PUT /latest/api/token ttl=21600 token=-\n"
		"GET /latest/meta-data/iam/security-credentials/ ttl=- token=ok\n"
		"GET /latest/meta-data/iam/security-credentials/petal-build-role ttl=- token=ok\n");
	free(log);
}

static void test_imds_refusals(void)
{
	awstest_fresh();
	struct imds m = { 0 };
	struct aws_credentials *c = NULL;
	struct petal_error err = { 0 };

	/* disabled: not a single request */
	CU_ASSERT_EQUAL_FATAL(imds_start(&m, NULL), 0);
	setenv("AWS_EC2_METADATA_DISABLED", "True", 1);
	http_calls = 0;
	CU_ASSERT_EQUAL(aws_credentials_resolve(&with_http, &c, &err), PETAL_EAUTH);
	CU_ASSERT_EQUAL(http_calls, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "disabled by AWS_EC2_METADATA_DISABLED"));
	char *log = slurp(m.log_file);
	CU_ASSERT_STRING_EQUAL(log, "");
	free(log);
	imds_stop(&m);
	unsetenv("AWS_EC2_METADATA_DISABLED");

	/* no role attached */
	static const char *const no_role[] = { "--no-role", NULL };
	CU_ASSERT_EQUAL_FATAL(imds_start(&m, no_role), 0);
	CU_ASSERT_EQUAL(aws_credentials_from_imds(&with_http, &c, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "answered HTTP 404 (no instance role"));
	imds_stop(&m);

	/* an answer that is not JSON: its text (keys and all) stays out */
	static const char *const bad_json[] = { "--creds-json",
		                                "{\"SecretAccessKey\": \"" IMDS_SECRET "\", oops",
		                                NULL };
	CU_ASSERT_EQUAL_FATAL(imds_start(&m, bad_json), 0);
	CU_ASSERT_EQUAL(aws_credentials_from_imds(&with_http, &c, &err), PETAL_ECLOUD);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "are not a JSON object"));
	assert_no_secrets(err.msg);
	imds_stop(&m);
	static const char *const failed[] = { "--creds-json", "{\"Code\": \"AssumeRoleUnauthorizedAccess\"}", NULL };
	CU_ASSERT_EQUAL_FATAL(imds_start(&m, failed), 0);
	CU_ASSERT_EQUAL(aws_credentials_from_imds(&with_http, &c, &err), PETAL_ECLOUD);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "Code 'AssumeRoleUnauthorizedAccess'"));
	imds_stop(&m);

	/* a metadata service that never answers: given up after the timeout */
	static const char *const hang[] = { "--hang", "5", NULL };
	CU_ASSERT_EQUAL_FATAL(imds_start(&m, hang), 0);
	time_t t0 = time(NULL);
	CU_ASSERT_EQUAL(aws_credentials_from_imds(&with_http, &c, &err), PETAL_ENOENT);
	CU_ASSERT_TRUE(time(NULL) - t0 <= 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no answer from"));
	imds_stop(&m);
	/* nobody listening: refused at once */
	CU_ASSERT_EQUAL(aws_credentials_from_imds(&with_http, &c, &err), PETAL_ENOENT);
	/* no HTTP client: not asked */
	CU_ASSERT_EQUAL(aws_credentials_from_imds(NULL, &c, &err), PETAL_ENOENT);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "169.254.169.254", 1);
	CU_ASSERT_EQUAL(aws_credentials_from_imds(&with_http, &c, &err), PETAL_EINVAL);
}

/* ---- the chain -------------------------------------------------------------------- */

static void test_chain_order(void)
{
	awstest_fresh();
	struct imds m = { 0 };
	struct aws_credentials *c = NULL;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(imds_start(&m, NULL), 0);
	awstest_write(".aws/credentials", "[default]\naws_access_key_id = AKIAFILEEXAMPLE00001\n"
	                                  "aws_secret_access_key = fileSecret\n");
	setenv("AWS_ACCESS_KEY_ID", KEY_ID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	http_calls = 0;
	CU_ASSERT_EQUAL_FATAL(aws_credentials_resolve(&with_http, &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->access_key_id, KEY_ID); /* the environment first */
	aws_credentials_free(c);
	/* a profile named by the caller outranks the environment */
	struct aws_credentials_options named = with_http;
	named.profile = "default";
	CU_ASSERT_EQUAL_FATAL(aws_credentials_resolve(&named, &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->access_key_id, "AKIAFILEEXAMPLE00001");
	aws_credentials_free(c);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	CU_ASSERT_EQUAL_FATAL(aws_credentials_resolve(&with_http, &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->access_key_id, "AKIAFILEEXAMPLE00001"); /* then the files */
	aws_credentials_free(c);
	CU_ASSERT_EQUAL(http_calls, 0); /* IMDS not asked while others answer */
	awstest_write(".aws/credentials", "");
	CU_ASSERT_EQUAL_FATAL(aws_credentials_resolve(&with_http, &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->access_key_id, "ASIAIMDSEXAMPLE12345"); /* then IMDS */
	aws_credentials_free(c);
	imds_stop(&m);

	/* nothing anywhere: one message that says what each source said */
	CU_ASSERT_EQUAL(aws_credentials_resolve(&with_http, &c, &err), PETAL_EAUTH);
	CU_ASSERT_EQUAL(err.code, PETAL_EAUTH);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no AWS credentials"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "environment: AWS_ACCESS_KEY_ID"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "shared files: no keys for profile 'default'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "instance metadata: no answer from "
	                                       "http://127.0.0.1:"));
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CU_pSuite s = CU_add_suite("aws credentials", NULL, NULL);
	if (!s || !CU_add_test(s, "environment: keys, token, partial, malformed", test_env) ||
	    !CU_add_test(s, "key ids redacted for messages", test_redact) ||
	    !CU_add_test(s, "shared files: profiles, precedence, paths", test_files) ||
	    !CU_add_test(s, "shared files: malformed and partial, no secret shown",
	                 test_files_malformed) ||
	    !CU_add_test(s, "IMDSv2: token first, then the role's keys", test_imds) ||
	    !CU_add_test(s, "IMDSv2: disabled, no role, bad answers, timeouts",
	                 test_imds_refusals) ||
	    !CU_add_test(s, "the chain: environment, files, IMDS, then one clear error",
	                 test_chain_order)) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	int rc = CU_basic_run_tests();
	unsigned int failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	curl_global_cleanup();
	awstest_cleanup();
	if (rc != CUE_SUCCESS)
		return 2;
	return failures ? 1 : 0;
}
