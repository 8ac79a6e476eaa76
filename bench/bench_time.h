/* What the side-by-side benchmarks share: thread CPU time, medians, a
   small pseudo-random sequence, and the count of wrong answers (the exit
   status). Define ZB_NAME, the program's name, before including it. */
#ifndef ZB_BENCH_TIME_H
#define ZB_BENCH_TIME_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The calling thread's CPU time: unlike wall time, it does not count the
   time the thread waits while other processes run, which on a busy machine
   would otherwise dominate rounds of a few milliseconds. */
static inline double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of the n values at v (which it sorts). */
static inline double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* Wrong answers seen: a benchmark exits nonzero when there are any. */
static int failures;

/* Counts and reports a wrong answer when cond is false. */
#define EXPECT(cond, what)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s: FAILED: %s\n", ZB_NAME, what);                                    \
        }                                                                                          \
    } while (0)

#endif
