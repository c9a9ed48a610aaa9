/* The suites of tests/test_cache_index kept in their own files. */
#ifndef PETAL_TESTS_CACHE_SUITES_H
#define PETAL_TESTS_CACHE_SUITES_H

/* Register the suite; 0 on success. */
int fx_add_json_suite(void);   /* tests/cache/json_tests.c: the tokenizer */
int fx_add_clear_suite(void);  /* tests/cache/clear_tests.c: cache clear */
int fx_add_hostile_suite(void); /* tests/cache/hostile_tests.c: damaged indexes */

#endif
