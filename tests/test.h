/* A minimal test harness: CHECK records a failure and goes on; main returns
   nonzero if any check failed. One test program per module. */
#ifndef ZMEM_TEST_H
#define ZMEM_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int zt_failures;
static int zt_checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        zt_checks++;                                                                               \
        if (!(cond)) {                                                                             \
            zt_failures++;                                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        zt_checks++;                                                                               \
        long long zt_a = (long long)(a), zt_b = (long long)(b);                                    \
        if (zt_a != zt_b) {                                                                        \
            zt_failures++;                                                                         \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__,  \
                    #a, #b, zt_a, zt_b);                                                           \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        zt_checks++;                                                                               \
        const char *zt_sa = (a), *zt_sb = (b);                                                     \
        if (zt_sa == NULL || zt_sb == NULL || strcmp(zt_sa, zt_sb) != 0) {                         \
            zt_failures++;                                                                         \
            fprintf(stderr, "%s:%d: check failed: %s == %s (\"%s\" != \"%s\")\n", __FILE__,        \
                    __LINE__, #a, #b, zt_sa ? zt_sa : "(null)", zt_sb ? zt_sb : "(null)");         \
        }                                                                                          \
    } while (0)

#define RUN(test)                                                                                  \
    do {                                                                                           \
        int zt_before = zt_failures;                                                               \
        test();                                                                                    \
        if (zt_failures != zt_before) fprintf(stderr, "FAIL %s\n", #test);                         \
    } while (0)

/* Ends main: prints a one-line summary to stderr, returns the exit code. */
static inline int zt_finish(const char *name) {
    fprintf(stderr, "%s: %d checks, %d failed\n", name, zt_checks, zt_failures);
    return zt_failures ? 1 : 0;
}

/* True when the suite runs under a slow tool (valgrind): scale loops down. */
static inline int zt_small(void) {
    const char *s = getenv("ZMEM_TEST_SCALE");
    return s != NULL && strcmp(s, "small") == 0;
}

/* ZT_ASAN: 1 when built with AddressSanitizer (gcc or clang), else 0. */
#if defined(__SANITIZE_ADDRESS__)
#define ZT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZT_ASAN 1
#endif
#endif
#ifndef ZT_ASAN
#define ZT_ASAN 0
#endif

#endif
