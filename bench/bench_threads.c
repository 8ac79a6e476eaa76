/* The built-in primitives from 1 and 2 threads on one registry and store,
   each thread with its own context: calls per second of a retrieve-heavy mix
   (8 retrieves, 1 store, 1 search per 10 calls) and of stores alone, on the
   memory store and on an SQLite file, with the ratio 2 threads / 1. The store
   takes a lock per call, so the ratio says how much of a call runs outside
   it. Nothing here passes or fails on time.

     bench_threads [CALLS_PER_THREAD] */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zmem/prim.h"
#include "zmem/store.h"

static zm_prim_registry *reg;
static long calls_per_thread = 200000;
static int mix_stores_only;

typedef struct job {
    int id;
    long errors;
} job;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *worker(void *arg) {
    job *j = arg;
    zm_prim_ctx *ctx;
    if (zm_prim_ctx_create(NULL, &ctx) != ZM_OK) {
        j->errors++;
        return NULL;
    }
    char req[256];
    for (long i = 0; i < calls_per_thread; i++) {
        long k = (i * 7919 + j->id * 104729) % 10000;
        int kind = mix_stores_only ? 0 : (int)(i % 10);
        int n;
        if (kind == 0)
            n = snprintf(req, sizeof req,
                         "{\"primitive\":\"store\",\"params\":{\"key\":\"k%ld\",\"value\":{\"t\":"
                         "\"note %ld\",\"n\":%ld}}}",
                         k, i, i);
        else if (kind == 1)
            n = snprintf(req, sizeof req,
                         "{\"primitive\":\"search\",\"params\":{\"query\":\"note %ld\",\"mode\":"
                         "\"token\",\"limit\":5}}",
                         k);
        else
            n = snprintf(req, sizeof req,
                         "{\"primitive\":\"retrieve\",\"params\":{\"key\":\"k%ld\"}}", k);
        char *resp;
        size_t len;
        zm_status st = zm_prim_call_json(reg, ctx, req, (size_t)n, &resp, &len);
        if (st != ZM_OK) j->errors++;
    }
    zm_prim_ctx_destroy(ctx);
    return NULL;
}

/* Calls per second with n threads. */
static double run(int n) {
    pthread_t t[2];
    job jobs[2];
    double t0 = now();
    for (int i = 0; i < n; i++) {
        jobs[i] = (job){i, 0};
        pthread_create(&t[i], NULL, worker, &jobs[i]);
    }
    long errors = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        errors += jobs[i].errors;
    }
    double dt = now() - t0;
    if (errors) fprintf(stderr, "%ld calls failed\n", errors);
    return (double)calls_per_thread * n / dt;
}

static void bench(zm_store *s, const char *name) {
    zm_prim_registry_create(zm_default_allocator(), &reg);
    zm_prim_register_builtins(reg, s);
    for (mix_stores_only = 0; mix_stores_only < 2; mix_stores_only++) {
        run(1); /* warm-up: every key stored */
        double one = run(1), two = run(2);
        printf("  %-7s %-13s 1 thread %9.0f calls/s, 2 threads %9.0f calls/s: %.2fx\n", name,
               mix_stores_only ? "stores" : "mixed 8:1:1", one, two, two / one);
    }
    zm_prim_registry_destroy(reg);
}

int main(int argc, char **argv) {
    if (argc > 1) calls_per_thread = atol(argv[1]);
    printf("built-in primitives from 1 and 2 threads, %ld calls per thread (%ld processors)\n",
           calls_per_thread, sysconf(_SC_NPROCESSORS_ONLN));
    zm_store *s;
    if (zm_store_memory_create(zm_default_allocator(), NULL, &s) != ZM_OK) return 1;
    bench(s, "memory");
    zm_store_close(s);
    if (zm_store_backend_available("sqlite")) {
        char dir[] = "/tmp/zmem-bench-threads-XXXXXX";
        if (mkdtemp(dir) == NULL) return 1;
        char path[128];
        snprintf(path, sizeof path, "%s/t.db", dir);
        calls_per_thread /= 10;
        if (zm_store_open(path, NULL, &s) != ZM_OK) return 1;
        bench(s, "sqlite");
        zm_store_close(s);
        char cmd[160];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) return 1;
    }
    return 0;
}
