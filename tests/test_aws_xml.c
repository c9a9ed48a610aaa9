/* plugins/cloud_aws/xml.c and errors.c: AWS's XML read with expat (trees,
   paths, namespaces, hostile documents), every kind of AWS error answer
   turned into code, message and request id with the right PETAL_E*, raw
   header blocks and HTTP dates. */
#define _GNU_SOURCE
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/cloud_aws/aws_ctx.h"
#include "../plugins/cloud_aws/xml.h"

static const char list_page[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	"<Name>b</Name><Prefix>d/</Prefix><KeyCount>3</KeyCount>"
	"<IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1</NextContinuationToken>"
	"<Contents><Key>d/a</Key><Size>1</Size><ETag>&quot;x&quot;</ETag></Contents>"
	"<Contents><Key>d/b &lt;&gt;</Key><Size>22</Size></Contents>"
	"<CommonPrefixes><Prefix>d/e/</Prefix></CommonPrefixes>"
	"<Contents><Key><![CDATA[d/<c>]]></Key><Size>333</Size></Contents>"
	"</ListBucketResult>";

static void test_tree(void)
{
	struct xml_node *doc;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(xml_parse(list_page, strlen(list_page), &doc, &err), 0);
	CU_ASSERT_STRING_EQUAL(doc->name, "ListBucketResult"); /* namespace dropped */
	CU_ASSERT_STRING_EQUAL(xml_text(doc, "NextContinuationToken"), "t&1");
	CU_ASSERT_STRING_EQUAL(xml_text(doc, "IsTruncated"), "true");
	CU_ASSERT_PTR_NULL(xml_text(doc, "Marker"));
	const char *keys[3] = { 0 }, *sizes[3] = { 0 };
	int n = 0;
	for (const struct xml_node *c = xml_child(doc, "Contents"); c && n < 3; c = xml_next(c)) {
		keys[n] = xml_text(c, "Key");
		sizes[n++] = xml_text(c, "Size");
	}
	CU_ASSERT_EQUAL(n, 3); /* CommonPrefixes in between is skipped */
	CU_ASSERT_STRING_EQUAL(keys[0], "d/a");
	CU_ASSERT_STRING_EQUAL(keys[1], "d/b <>");
	CU_ASSERT_STRING_EQUAL(keys[2], "d/<c>");
	CU_ASSERT_STRING_EQUAL(sizes[2], "333");
	CU_ASSERT_STRING_EQUAL(xml_text(doc, "Contents/ETag"), "\"x\"");
	CU_ASSERT_STRING_EQUAL(xml_text(doc, "CommonPrefixes/Prefix"), "d/e/");
	CU_ASSERT_PTR_NULL(xml_find(doc, "Contents/Nope"));
	CU_ASSERT_PTR_EQUAL(xml_find(doc, ""), doc);
	xml_free(doc);
	xml_free(NULL);
}

struct paths {
	char seen[2048];
	int stop_after;
	int n;
};

static int on_path(void *arg, const char *path, const char *text, size_t len)
{
	struct paths *p = arg;
	size_t l = strlen(p->seen);
	snprintf(p->seen + l, sizeof(p->seen) - l, "%s=%.*s;", path, (int)len, text);
	return ++p->n == p->stop_after ? 7 : 0;
}

static void test_paths(void)
{
	const char *doc = "<Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
	                  "<Errors><Error><Code>A</Code><Message>m</Message></Error>"
	                  "<Error><Code>B</Code></Error></Errors><RequestID>r</RequestID>"
	                  "</Response>";
	struct paths p = { .stop_after = 0 };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(xml_each(doc, strlen(doc), on_path, &p, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.seen, "/Response/Errors/Error/Code=A;"
	                              "/Response/Errors/Error/Message=m;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.seen, "/Response/Errors/Error/Code=B;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.seen, "/Response/RequestID=r;"));
	/* the callback's value stops the walk and comes back */
	struct paths q = { .stop_after = 2 };
	CU_ASSERT_EQUAL(xml_each(doc, strlen(doc), on_path, &q, &err), 7);
	CU_ASSERT_EQUAL(q.n, 2);
}

static void expect_refused(const char *doc, const char *why)
{
	struct xml_node *t = (struct xml_node *)1;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(xml_parse(doc, strlen(doc), &t, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_EQUAL(err.code, PETAL_EINVAL);
	if (!strstr(err.msg, why))
		fprintf(stderr, "\n'%s' not in '%s'\n", why, err.msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, why));
}

static void test_hostile(void)
{
	expect_refused("", "not well-formed");
	expect_refused("<a><b></a>", "line 1");
	expect_refused("<a></a><b/>", "not well-formed");
	expect_refused("<a>", "not well-formed");
	expect_refused("not xml at all", "not well-formed");
	/* entity expansion ("billion laughs") and external entities: no DTD at all */
	expect_refused("<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaa\">"
	               "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><l>&b;</l>", "document type");
	expect_refused("<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><x>&e;</x>", "document type");
	/* deeper than any AWS answer */
	char deep[70 * 7 + 8] = "";
	for (int i = 0; i < 70; i++)
		strcat(deep, "<a>");
	for (int i = 0; i < 70; i++)
		strcat(deep, "</a>");
	expect_refused(deep, "too deep");
	struct petal_error err = { 0 };
	struct paths p = { 0 };
	CU_ASSERT_EQUAL(xml_each("<a><b>", 6, on_path, &p, &err), PETAL_EINVAL);
}

static void test_escape(void)
{
	char *e = xml_escape("a&b<c>\"d'");
	CU_ASSERT_STRING_EQUAL(e, "a&amp;b&lt;c&gt;&quot;d&apos;");
	/* and back through the parser */
	char *doc = NULL;
	CU_ASSERT(asprintf(&doc, "<k>%s</k>", e) > 0);
	struct xml_node *t;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(xml_parse(doc, strlen(doc), &t, &err), 0);
	CU_ASSERT_STRING_EQUAL(t->text, "a&b<c>\"d'");
	xml_free(t);
	free(doc);
	free(e);
}

/* ---- errors ------------------------------------------------------------------ */

static int error_of(const char *svc, const char *op, long status, const char *body,
                    const char *headers, struct petal_error *err)
{
	memset(err, 0, sizeof(*err));
	return aws_error_from_response(svc, op, status, body, body ? strlen(body) : 0, headers,
	                               "GET http://127.0.0.1:1/b/k", NULL, err);
}

static void test_error_s3(void)
{
	struct petal_error err;
	const char *body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey"
	                   "</Code><Message>The specified key does not exist.</Message><Key>k"
	                   "</Key><RequestId>4442587FB7D0A2F9</RequestId></Error>";
	CU_ASSERT_EQUAL(error_of("S3", "GetObject", 404, body, "HTTP/1.1 404 Not Found\r\n\r\n",
	                         &err), PETAL_ENOENT);
	CU_ASSERT_EQUAL(err.code, PETAL_ENOENT);
	CU_ASSERT_STRING_EQUAL(err.msg, "S3 GetObject: NoSuchKey: The specified key does not "
	                       "exist. (request id 4442587FB7D0A2F9, HTTP 404, GET "
	                       "http://127.0.0.1:1/b/k)");
	/* the header's request id wins, and SignatureDoesNotMatch is an auth error */
	body = "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
	       "calculated does not match</Message><RequestId>body-id</RequestId></Error>";
	CU_ASSERT_EQUAL(error_of("S3", "PutObject", 403, body, "HTTP/1.1 403 Forbidden\r\n"
	                         "x-amz-request-id: HDR1D\r\n\r\n", &err), PETAL_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "S3 PutObject: SignatureDoesNotMatch: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "request id HDR1D, HTTP 403"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "credentials"));
	body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
	       "</Message></Error>";
	CU_ASSERT_EQUAL(error_of("S3", "PutObject", 503, body, "", &err), PETAL_ENET);
	body = "<Error><Code>EntityTooSmall</Code><Message>small</Message></Error>";
	CU_ASSERT_EQUAL(error_of("S3", "CompleteMultipartUpload", 400, body, "", &err),
	                PETAL_ECLOUD);
	/* a bucket elsewhere: the region is named */
	body = "<Error><Code>PermanentRedirect</Code><Message>use the endpoint</Message></Error>";
	CU_ASSERT_EQUAL(error_of("S3", "HeadBucket", 301, body, "HTTP/1.1 301 Moved\r\n"
	                         "x-amz-bucket-region: eu-west-1\r\n\r\n", &err), PETAL_ECLOUD);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bucket region eu-west-1"));
	/* control characters in a message do not reach ours */
	body = "<Error><Code>X</Code><Message>a\nb\x1b[31mc</Message></Error>";
	error_of("S3", "Op", 400, body, "", &err);
	CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
	CU_ASSERT_PTR_NULL(strchr(err.msg, '\x1b'));
}

static void test_error_ec2_sts_json(void)
{
	struct petal_error err;
	const char *ec2 = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
	                  "<Code>InvalidAMIID.NotFound</Code><Message>The image id '[ami-1]' does "
	                  "not exist</Message></Error></Errors><RequestID>ec2-req-1</RequestID>"
	                  "</Response>";
	CU_ASSERT_EQUAL(error_of("EC2", "DescribeImages", 400, ec2, "", &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "EC2 DescribeImages: InvalidAMIID.NotFound: The "
	                              "image id '[ami-1]' does not exist (request id ec2-req-1, "
	                              "HTTP 400"));
	const char *thr = "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>"
	                  "Request limit exceeded.</Message></Error></Errors><RequestID>r"
	                  "</RequestID></Response>";
	CU_ASSERT_EQUAL(error_of("EC2", "RunInstances", 503, thr, "", &err), PETAL_ENET);
	const char *auth = "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>"
	                   "You are not authorized</Message></Error></Errors></Response>";
	CU_ASSERT_EQUAL(error_of("EC2", "RunInstances", 403, auth, "", &err), PETAL_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "request id none"));
	const char *sts = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
	                  "<Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The "
	                  "security token included in the request is expired</Message></Error>"
	                  "<RequestId>sts-1</RequestId></ErrorResponse>";
	CU_ASSERT_EQUAL(error_of("STS", "GetCallerIdentity", 403, sts, "", &err), PETAL_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "ExpiredToken: The security token"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "request id sts-1"));
	/* ECR: JSON, the type after '#', the id in a header */
	const char *ecr = "{\"__type\":\"com.amazonaws.ecr#RepositoryNotFoundException\","
	                  "\"message\":\"The repository 'x' does not exist\"}";
	CU_ASSERT_EQUAL(error_of("ECR", "DescribeRepositories", 400, ecr,
	                         "HTTP/1.1 400 Bad\r\nx-amzn-RequestId: ecr-9\r\n\r\n", &err),
	                PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "ECR DescribeRepositories: "
	                              "RepositoryNotFoundException: The repository 'x' does not "
	                              "exist (request id ecr-9, HTTP 400"));
	CU_ASSERT_EQUAL(error_of("ECR", "GetAuthorizationToken", 400, "{}",
	                         "x-amzn-ErrorType: ThrottlingException:http://internal/\r\n", &err),
	                PETAL_ENET);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ": ThrottlingException: "));
}

static void test_error_no_body(void)
{
	struct petal_error err;
	CU_ASSERT_EQUAL(error_of("S3", "HeadObject", 404, NULL, "", &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "S3 HeadObject: NotFound: "));
	CU_ASSERT_EQUAL(error_of("S3", "HeadBucket", 403, "", "", &err), PETAL_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ": Forbidden: "));
	CU_ASSERT_EQUAL(error_of("S3", "GetObject", 503, NULL, "", &err), PETAL_ENET);
	CU_ASSERT_EQUAL(error_of("S3", "GetObject", 502, "<html><body>Bad gateway", "", &err),
	                PETAL_ENET);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ": BadGateway: "));
	CU_ASSERT_EQUAL(error_of("S3", "GetObject", 418, "{not json", "", &err), PETAL_ECLOUD);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ": HTTP418: no message in the answer"));
	CU_ASSERT_EQUAL(aws_error_code("Whatever", 400), PETAL_ECLOUD);
	CU_ASSERT_EQUAL(aws_error_code("InvalidSnapshot.NotFound", 400), PETAL_ENOENT);
	CU_ASSERT_EQUAL(aws_error_code("InvalidAccessKeyId", 403), PETAL_EAUTH);
	CU_ASSERT_EQUAL(aws_error_code("ThrottlingException", 400), PETAL_ENET);
	CU_ASSERT_EQUAL(aws_error_code(NULL, 429), PETAL_ENET);
}

static void test_headers(void)
{
	const char *h = "HTTP/1.1 100 Continue\r\n\r\n"
	                "HTTP/1.1 200 OK\r\nDate: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
	                "etag:   \"abc\"  \r\nX-Amz-Request-Id: R1\r\nContent-Length: 12\r\n\r\n";
	char buf[64];
	CU_ASSERT_STRING_EQUAL(aws_header_get(h, "ETag", buf, sizeof(buf)), "\"abc\"");
	CU_ASSERT_STRING_EQUAL(aws_header_get(h, "x-amz-request-id", buf, sizeof(buf)), "R1");
	CU_ASSERT_PTR_NULL(aws_header_get(h, "Content", buf, sizeof(buf)));
	CU_ASSERT_PTR_NULL(aws_header_get(h, "Date", buf, 5)); /* does not fit */
	CU_ASSERT_PTR_NULL(aws_header_get(NULL, "Date", buf, sizeof(buf)));
	/* only the last answer's headers count */
	const char *two = "HTTP/1.1 301 Moved\r\nLocation: x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
	CU_ASSERT_PTR_NULL(aws_header_get(two, "Location", buf, sizeof(buf)));
}

static void test_times(void)
{
	CU_ASSERT_EQUAL(aws_parse_time("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
	CU_ASSERT_EQUAL(aws_parse_time("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
	CU_ASSERT_EQUAL(aws_parse_time("Sun Nov  6 08:49:37 1994"), 784111777);
	CU_ASSERT_EQUAL(aws_parse_time("1994-11-06T08:49:37.000Z"), 784111777);
	CU_ASSERT_EQUAL(aws_parse_time("1994-11-06T08:49:37Z"), 784111777);
	CU_ASSERT_EQUAL(aws_parse_time("Sun, 06 Foo 1994 08:49:37 GMT"), -1);
	CU_ASSERT_EQUAL(aws_parse_time("1994-13-06T08:49:37Z"), -1);
	CU_ASSERT_EQUAL(aws_parse_time("Sun, 06 Nov 1994 08:49:37 PST"), -1);
	CU_ASSERT_EQUAL(aws_parse_time(""), -1);
	CU_ASSERT_EQUAL(aws_parse_time(NULL), -1);
	char *e = aws_query_escape("a b/c+d=é~");
	CU_ASSERT_STRING_EQUAL(e, "a%20b%2Fc%2Bd%3D%C3%A9~");
	free(e);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("aws xml and errors", NULL, NULL);
	if (!s || !CU_add_test(s, "tree: namespaces, entities, CDATA, siblings", test_tree) ||
	    !CU_add_test(s, "paths and early stop", test_paths) ||
	    !CU_add_test(s, "malformed, DTDs, depth refused", test_hostile) ||
	    !CU_add_test(s, "escape for request bodies", test_escape) ||
	    !CU_add_test(s, "S3 errors", test_error_s3) ||
	    !CU_add_test(s, "EC2, STS and JSON (ECR) errors", test_error_ec2_sts_json) ||
	    !CU_add_test(s, "answers without an AWS error", test_error_no_body) ||
	    !CU_add_test(s, "raw header blocks", test_headers) ||
	    !CU_add_test(s, "HTTP and ISO dates; query escaping", test_times)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	int reg_err = CU_get_error();
	CU_cleanup_registry();
	return failed || reg_err ? 1 : 0;
}
