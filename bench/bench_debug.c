/* Side by side: what the debug, stats and failing wrappers cost over the
   allocator they wrap, on small-object churn. Times are CPU time of this
   thread, median of interleaved repetitions; ratios are against the backing
   allocator alone. Never fails on time: it prints, and returns 0. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zmem/debug.h"
#include "zmem/failing.h"
#include "zmem/stats.h"

enum { SLOTS = 1024, BATCH = 256, CONFIGS = 6, MAX_REPS = 31 };

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static size_t ops;
static unsigned sink;

/* Churn: 1024 live blocks of 16..128 bytes; each step frees a random one and
   allocates a new one in its place. Returns ns per step (one free + one
   alloc). */
static double churn(zm_allocator a) {
    static void *slot[SLOTS];
    static size_t len[SLOTS];
    unsigned rng = 12345;
    memset(slot, 0, sizeof slot);
    double t0 = cpu_now();
    for (size_t i = 0; i < ops; i++) {
        rng = rng * 1103515245u + 12345u;
        unsigned k = (rng >> 8) % SLOTS;
        if (slot[k] != NULL) zm_free(a, slot[k], len[k], 8);
        len[k] = 16 + ((rng >> 20) % 8) * 16;
        slot[k] = zm_alloc(a, len[k], 8);
        if (slot[k] == NULL) abort();
        ((char *)slot[k])[0] = (char)i;
    }
    for (int k = 0; k < SLOTS; k++) {
        if (slot[k] != NULL) {
            sink += (unsigned char)((char *)slot[k])[0];
            zm_free(a, slot[k], len[k], 8);
        }
    }
    return (cpu_now() - t0) / (double)ops * 1e9;
}

/* Batches: allocate 256 blocks of 16..128 bytes, free them all (in order),
   again and again. Returns ns per alloc + free pair. */
static double batch(zm_allocator a) {
    static void *p[BATCH];
    size_t rounds = ops / BATCH;
    double t0 = cpu_now();
    for (size_t r = 0; r < rounds; r++) {
        for (int i = 0; i < BATCH; i++) {
            p[i] = zm_alloc(a, 16 + (size_t)(i % 8) * 16, 8);
            if (p[i] == NULL) abort();
            ((char *)p[i])[0] = (char)i;
        }
        for (int i = 0; i < BATCH; i++) zm_free(a, p[i], 16 + (size_t)(i % 8) * 16, 8);
    }
    return (cpu_now() - t0) / (double)(rounds * BATCH) * 1e9;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static const char *names[CONFIGS] = {
    "backing alone",         "debug (defaults)",         "stats (atomic, no limit)",
    "failing (never fails)", "debug + 1 MiB quarantine", "stats (single thread + limit)",
};

/* Runs workload once under config c over backing b. */
static double run(int c, zm_allocator b, double (*workload)(zm_allocator)) {
    double t = 0;
    switch (c) {
    case 0: t = workload(b); break;
    case 1:
    case 4: {
        zm_debug d;
        zm_debug_options o = zm_debug_defaults();
        if (c == 4) o.quarantine_bytes = (size_t)1 << 20;
        zm_debug_init(&d, b, &o);
        t = workload(zm_debug_allocator(&d));
        if (zm_debug_deinit(&d) != 0 || d.counts.errors != 0) abort();
        break;
    }
    case 2:
    case 5: {
        zm_stats st;
        zm_stats_init(&st, b, c == 5 ? (size_t)1 << 30 : 0);
        if (c == 5) zm_stats_set_single_thread(&st, true);
        t = workload(zm_stats_allocator(&st));
        break;
    }
    case 3: {
        zm_failing f;
        zm_failing_init(&f, b, SIZE_MAX, SIZE_MAX);
        t = workload(zm_failing_allocator(&f));
        break;
    }
    }
    return t;
}

static void bench(const char *title, zm_allocator b, double (*workload)(zm_allocator), int reps) {
    static double t[CONFIGS][MAX_REPS];
    for (int c = 0; c < CONFIGS; c++) run(c, b, workload); /* warm up */
    for (int r = 0; r < reps; r++)
        for (int c = 0; c < CONFIGS; c++) t[c][r] = run(c, b, workload);
    double med[CONFIGS];
    for (int c = 0; c < CONFIGS; c++) {
        qsort(t[c], (size_t)reps, sizeof(double), cmp_double);
        med[c] = t[c][reps / 2];
    }
    printf("\n%s (median of %d, %zu ops each)\n", title, reps, ops);
    printf("  %-30s %9s %7s\n", "allocator", "ns/op", "ratio");
    for (int c = 0; c < CONFIGS; c++)
        printf("  %-30s %9.1f %6.2fx\n", names[c], med[c], med[c] / med[0]);
    static const double target[CONFIGS] = {0, 10, 1.3, 1.3, 0, 1.3};
    for (int c = 1; c < CONFIGS; c++)
        if (target[c] > 0)
            printf("  %-30s target <= %.1fx: %s\n", names[c], target[c],
                   med[c] / med[0] <= target[c] ? "met" : "MISSED");
}

int main(void) {
    const char *scale = getenv("ZMEM_TEST_SCALE");
    bool small = scale != NULL && strcmp(scale, "small") == 0;
    ops = small ? 20000 : 1000000;
    int reps = small ? 3 : 15;
    zm_allocator b = zm_mimalloc_allocator();
    printf("bench_debug: wrappers over %s%s\n", zm_have_mimalloc() ? "mimalloc" : "libc",
           zm_have_mimalloc() ? "" : " (mimalloc was not found at build time)");
    bench("small-object churn: 1024 live blocks of 16-128 bytes, free one + alloc one", b, churn,
          reps);
    bench("small-object batches: alloc 256 blocks of 16-128 bytes, free them all", b, batch, reps);
    return sink == 12345678 ? 1 : 0;
}
