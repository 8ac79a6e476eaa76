/* bench_store: the store's backends side by side. Per call, store (put),
   retrieve (get) and search (token), one call per request and in batches of
   100 (one transaction each), on the postgres backend (the server named by
   ZMEM_TEST_PG, over its Unix socket) as a ratio to the sqlite backend in the
   same run (to the memory backend when sqlite is not built in: the table
   says which); then 4 client processes against 1 on each database backend.
   Nothing here fails on time. Without ZMEM_TEST_PG the postgres columns are
   skipped (tests/pg/pg_cluster.sh start makes a server). */
#define _POSIX_C_SOURCE 200809L
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zmem.h"
#include "zmem/store.h"

#define BATCH 100

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *const words[] = {"arena",  "pool",   "json",  "store", "search",
                                    "graph",  "vector", "agent", "task",  "note",
                                    "memory", "server", "batch", "token", "cursor"};
#define NWORDS (sizeof words / sizeof words[0])

/* The value of write i: a sentence of words, so token searches find some. */
static zm_json *value_of(zm_arena *ar, size_t i) {
    char text[256];
    snprintf(text, sizeof text, "note %zu about %s and %s, written by the %s for the %s", i,
             words[i % NWORDS], words[(i / 3) % NWORDS], words[(i / 7) % NWORDS],
             words[(i / 11) % NWORDS]);
    zm_allocator a = zm_arena_allocator(ar);
    zm_json *o = zm_json_new_object(a, 2);
    zm_json_object_set(a, o, "text", 4, zm_json_new_string(a, text, strlen(text)));
    zm_json_object_set(a, o, "n", 1, zm_json_new_int(a, (int64_t)i));
    return o;
}

/* One operation on item i of store s. */
typedef enum op { OP_STORE, OP_RETRIEVE, OP_SEARCH } op;

static void run_op(zm_store *s, zm_arena *ar, op o, size_t i, const char *prefix) {
    char key[64];
    snprintf(key, sizeof key, "%s/%zu", prefix, i);
    zm_status st = ZM_OK;
    if (o == OP_STORE) {
        zm_store_write w;
        memset(&w, 0, sizeof w);
        w.key = key;
        w.key_len = strlen(key);
        w.value = value_of(ar, i);
        w.ts_ms = (int64_t)i;
        st = zm_store_put(s, &w, NULL);
    } else if (o == OP_RETRIEVE) {
        zm_store_version v;
        st = zm_store_get(s, key, strlen(key), -1, zm_arena_allocator(ar), &v);
    } else {
        zm_search_hit *hits;
        size_t n, total;
        const char *q = words[i % NWORDS];
        st = zm_store_search(s, q, strlen(q), ZM_SEARCH_TOKEN, 10, zm_arena_allocator(ar), &hits,
                             &n, &total);
    }
    if (st != ZM_OK) {
        fprintf(stderr, "bench_store: %s: %s\n", zm_status_name(st), zm_store_errmsg());
        exit(1);
    }
    zm_arena_reset(ar, ZM_ARENA_RETAIN_CAPACITY, 0);
}

/* Mean ns per operation over n operations, batched (BATCH per transaction)
   or not. */
static double measure(zm_store *s, op o, size_t n, bool batched, const char *prefix) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i += BATCH) {
        if (batched) zm_store_begin(s);
        for (size_t j = i; j < i + BATCH && j < n; j++) run_op(s, &ar, o, j, prefix);
        if (batched) zm_store_commit(s);
    }
    double ns = (double)(now_ns() - t0) / (double)n;
    zm_arena_deinit(&ar);
    return ns;
}

/* The rows of the table: each backend's ns per op. */
typedef struct row {
    const char *name;
    op o;
    bool batched;
    size_t n;
} row;

static void bench_backend(zm_store *s, const row *rows, size_t nrows, double *out) {
    for (size_t r = 0; r < nrows; r++) {
        /* Batched stores write fresh keys (version 1 again); reads read the
           keys the first store row wrote. */
        const char *prefix = rows[r].o == OP_STORE && rows[r].batched ? "b" : "k";
        out[r] = measure(s, rows[r].o, rows[r].n, rows[r].batched, prefix);
    }
}

/* Throughput (ops per second) of `clients` processes each storing n
   values under its own keys, on its own connection. */
static double clients_rate(const char *location, int clients, size_t n) {
    pid_t pids[16];
    uint64_t t0 = now_ns();
    for (int c = 0; c < clients; c++) {
        fflush(NULL);
        pids[c] = fork();
        if (pids[c] == 0) {
            zm_store *s = NULL;
            if (zm_store_open(location, NULL, &s) != ZM_OK) _exit(1);
            char prefix[32];
            snprintf(prefix, sizeof prefix, "c%d_%d", clients, c);
            measure(s, OP_STORE, n, false, prefix);
            zm_store_close(s);
            _exit(0);
        }
    }
    for (int c = 0; c < clients; c++) waitpid(pids[c], NULL, 0);
    return (double)clients * (double)n / ((double)(now_ns() - t0) / 1e9);
}

/* Drops the server's notices (DROP ... CASCADE lists what it drops). */
static void quiet(void *arg, const char *msg) {
    (void)arg;
    (void)msg;
}

/* A fresh schema on the server for this run (drop: drops it); fills
   conninfo with it. */
static bool pg_schema(const char *env, char *conninfo, size_t size, char *schema, size_t ssize,
                      bool drop) {
    PGconn *c = PQconnectdb(env);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_store: cannot connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return false;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    char sql[160];
    if (drop) {
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
    } else {
        snprintf(schema, ssize, "zb_%ld", (long)getpid());
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
        snprintf(conninfo, size, "%s options='-c search_path=%s'", env, schema);
    }
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    PQfinish(c);
    return ok;
}

int main(void) {
    size_t n = 2000;
    const char *env = getenv("ZMEM_TEST_PG");
    if (env == NULL || env[0] == '\0' || strchr(env, '=') == NULL) {
        printf("bench_store: ZMEM_TEST_PG is not a key=value connection string: skipped "
               "(tests/pg/pg_cluster.sh start)\n");
        return 0;
    }
    char conninfo[4096], schema[64];
    if (!pg_schema(env, conninfo, sizeof conninfo, schema, sizeof schema, false)) return 1;
    bool have_sqlite = zm_store_backend_available("sqlite");
    char dir[] = "/tmp/zmem-bench-XXXXXX", path[64] = ":memory:";
    if (have_sqlite) {
        if (mkdtemp(dir) == NULL) return 1;
        snprintf(path, sizeof path, "%s/bench.db", dir);
    }
    const char *base_name = have_sqlite ? "sqlite" : "memory";

    const row rows[] = {
        {"store, 1 per call", OP_STORE, false, n},
        {"store, 100 per transaction", OP_STORE, true, n},
        {"retrieve, 1 per call", OP_RETRIEVE, false, n},
        {"retrieve, 100 per transaction", OP_RETRIEVE, true, n},
        {"search, 1 per call", OP_SEARCH, false, n / 4},
        {"search, 100 per transaction", OP_SEARCH, true, n / 4},
    };
    enum { NROWS = sizeof rows / sizeof rows[0] };
    double base[NROWS], pg[NROWS];
    zm_store *b = NULL, *p = NULL;
    if (zm_store_open(path, NULL, &b) != ZM_OK || zm_store_open(conninfo, NULL, &p) != ZM_OK) {
        fprintf(stderr, "bench_store: cannot open: %s\n", zm_store_errmsg());
        return 1;
    }
    bench_backend(b, rows, NROWS, base);
    bench_backend(p, rows, NROWS, pg);
    zm_store_close(b);
    zm_store_close(p);

    printf("store backends, %zu keys: postgres (ZMEM_TEST_PG, Unix socket) against %s%s\n", n,
           base_name, have_sqlite ? "" : " (sqlite is not built into this zmem)");
    printf("%-32s %12s %14s %10s\n", "operation", base_name, "postgres", "ratio");
    for (int r = 0; r < NROWS; r++)
        printf("%-32s %9.0f ns %11.0f ns %9.1fx\n", rows[r].name, base[r], pg[r], pg[r] / base[r]);

    double one = clients_rate(conninfo, 1, n), four = clients_rate(conninfo, 4, n);
    printf("postgres, store 1 per call: 1 client %.0f/s, 4 clients %.0f/s: %.2fx\n", one, four,
           four / one);
    fflush(stdout);
    if (have_sqlite) {
        one = clients_rate(path, 1, n);
        four = clients_rate(path, 4, n);
        printf("sqlite,   store 1 per call: 1 client %.0f/s, 4 clients %.0f/s: %.2fx\n", one, four,
               four / one);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "bench_store: could not remove %s\n", dir);
    }
    pg_schema(env, conninfo, sizeof conninfo, schema, sizeof schema, true);
    return 0;
}
