/* test.h — the tiny test harness every test binary uses.
 *
 * A test file defines `void run_tests(void)` and calls CHECK* inside it.
 * tests/test_main.c runs it and prints "N passed, N failed". SKIP_ALL(msg)
 * exits with status 77, which ctest reports as skipped. */
#ifndef SMC_TEST_H
#define SMC_TEST_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_passed, test_failed;
void run_tests(void);
/* The whole file, malloc'd and NUL-terminated (*len bytes when len is not
 * NULL), or NULL after printing why. */
char *test_read_file(const char *path, size_t *len);
/* Path of a file under ../shared, or NULL when ../shared is absent. */
const char *test_shared_path(const char *rel);

/* xorshift64 (shifts 13, 7, 17): the tests' reproducible generator; each
 * test file keeps its own nonzero state. */
static inline uint64_t test_xorshift64(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Bit i of a token mask (32 tokens a word, lowest bit first). */
static inline bool test_mask_bit(const uint32_t *mask, int32_t i) { return mask[i >> 5] >> (i & 31) & 1; }

#define CHECK(cond) do { \
    if (cond) test_passed++; \
    else { test_failed++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_MSG(cond, ...) do { \
    if (cond) test_passed++; \
    else { test_failed++; fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
           fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

#define CHECK_EQ_INT(a, b) do { \
    long long _a = (long long)(a), _b = (long long)(b); \
    CHECK_MSG(_a == _b, "%lld != %lld", _a, _b); \
} while (0)

#define CHECK_NEAR(a, b, tol) do { \
    double _a = (double)(a), _b = (double)(b); \
    CHECK_MSG(fabs(_a - _b) <= (tol), "%.9g vs %.9g (tolerance %g)", _a, _b, (double)(tol)); \
} while (0)

#define CHECK_STR(a, b) do { \
    const char *_a = (a), *_b = (b); \
    CHECK_MSG(_a && _b && strcmp(_a, _b) == 0, "\"%s\" != \"%s\"", _a ? _a : "(null)", _b ? _b : "(null)"); \
} while (0)

#define SKIP_ALL(...) do { \
    fprintf(stderr, "SKIP: "); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(77); \
} while (0)

/* Skips the whole test binary when ../shared is absent. */
#define REQUIRE_SHARED() do { \
    if (!test_shared_path("")) SKIP_ALL("../shared is absent (set SMCGEN_SHARED to its path)"); \
} while (0)

#endif
