/* tests/test_http: helpers shared by its suites in tests/net. */
#ifndef PETAL_TESTS_HTTPTEST_H
#define PETAL_TESTS_HTTPTEST_H

#include <stddef.h>

#include <CUnit/CUnit.h>

#include "core/net/http.h"
#include "faultsrv.h"

/* The fault server every suite talks to (started by main). */
extern struct faultsrv srv;

/* A request to srv's path with the common settings; resp released first. */
int http_call(const char *method, const char *path, int idempotent, int max_attempts,
              struct petal_http_response *resp, struct petal_error *err);
void http_release(struct petal_http_response *resp);
double now_s(void);
/* A fresh temporary directory (under $TMPDIR) and its entry count. */
void temp_dir(char *buf, size_t len);
int dir_entries(const char *dir);
void remove_dir(const char *dir);

int add_transfer_tests(CU_pSuite s);
int add_fault_tests(CU_pSuite s);
int add_tls_tests(CU_pSuite s);

#endif
