/*
 * A minimal test harness: CHECK() records a failure with its location and
 * goes on; RUN() runs a test function and prints "ok"/"FAIL" for it;
 * check_exit() ends main with status 1 if anything failed.
 */
#ifndef DLBENCH_TESTS_CHECK_H
#define DLBENCH_TESTS_CHECK_H

#include <stdio.h>

static int check_failures;
static int check_test_failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			check_failures++;                                                        \
			check_test_failures++;                                                   \
		}                                                                                \
	} while (0)

/* CHECK with a printf-style message saying what was seen. */
#define CHECKF(cond, ...)                                                    \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			check_failures++;                                    \
			check_test_failures++;                               \
		}                                                            \
	} while (0)

#define RUN(fn, ...)                                                            \
	do {                                                                    \
		check_test_failures = 0;                                        \
		fn(__VA_ARGS__);                                                \
		printf("%s %s%s%s\n", check_test_failures ? "FAIL" : "ok", #fn, \
		       #__VA_ARGS__[0] ? " " : "", #__VA_ARGS__);               \
		fflush(stdout);                                                 \
	} while (0)

static inline int check_exit(void)
{
	printf("%d check(s) failed\n", check_failures);
	return check_failures ? 1 : 0;
}

#endif
