/* Opening an SQLite store holding N versions (default 1M: 100k keys of 10
   versions each) against opening an empty one: nothing is rebuilt in memory
   at open, so the two should take about as long. Prints the median of
   several open + first get + close cycles for each, and their ratio.

   Usage: bench_sqlite_open [versions] [dir]   (the database is kept in dir
   between runs: a second run reuses it) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "zmem/store.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Fills path with n versions, 1000 writes a transaction. */
static int fill(const char *path, long n) {
    zm_store *s;
    if (zm_store_sqlite_open(path, NULL, &s) != ZM_OK) return 1;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    char key[32], text[96];
    long keys = n / 10 > 0 ? n / 10 : 1;
    for (long i = 0; i < n; i++) {
        if (i % 1000 == 0 && zm_store_begin(s) != ZM_OK) return 1;
        snprintf(key, sizeof key, "key:%ld", i % keys);
        snprintf(text, sizeof text, "note %ld about topic %ld and word%ld", i, i % 97, i % 1013);
        zm_json *v = zm_json_new_string(zm_arena_allocator(&ar), text, strlen(text));
        zm_store_write w = {key, strlen(key), v, NULL, "bench", 5, NULL, 0, i, 0};
        if (v == NULL || zm_store_put(s, &w, NULL) != ZM_OK) return 1;
        if (i % 1000 == 999 || i == n - 1) {
            if (zm_store_commit(s) != ZM_OK) return 1;
            zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
        }
    }
    zm_arena_deinit(&ar);
    zm_store_close(s);
    return 0;
}

/* The median time of open + one get + close, over runs. */
static double open_ms(const char *path, int runs) {
    double t[64];
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        zm_store *s;
        if (zm_store_sqlite_open(path, NULL, &s) != ZM_OK) {
            fprintf(stderr, "open: %s\n", zm_store_errmsg());
            exit(1);
        }
        zm_store_version v;
        (void)zm_store_get(s, "key:7", 5, -1, zm_arena_allocator(&ar), &v);
        zm_store_close(s);
        t[r] = now_ms() - t0;
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    zm_arena_deinit(&ar);
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    return t[runs / 2];
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    char big[512], empty[512];
    snprintf(big, sizeof big, "%s/zmem-open-%ld.db", dir, n);
    snprintf(empty, sizeof empty, "%s/zmem-open-empty.db", dir);
    struct stat sb;
    if (stat(big, &sb) != 0) {
        double t0 = now_ms();
        if (fill(big, n) != 0) {
            fprintf(stderr, "fill: %s\n", zm_store_errmsg());
            return 1;
        }
        fprintf(stderr, "filled %ld versions in %.1f s\n", n, (now_ms() - t0) / 1e3);
    }
    zm_store *s;
    if (zm_store_sqlite_open(empty, NULL, &s) != ZM_OK) return 1;
    zm_store_close(s);
    int runs = 21;
    open_ms(big, 3); /* warm the page cache */
    open_ms(empty, 3);
    double tb = open_ms(big, runs), te = open_ms(empty, runs);
    stat(big, &sb);
    printf("sqlite open + get + close, median of %d: %ld versions (%.0f MB) %.3f ms, empty "
           "%.3f ms, ratio %.2f\n",
           runs, n, (double)sb.st_size / 1e6, tb, te, tb / te);
    return 0;
}
