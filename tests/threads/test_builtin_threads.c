/* The built-in primitives from several threads at once, each thread with its
   own context over one registry and one store (prim.h: a registry with the
   built-ins may be shared by threads): store, retrieve, search, link,
   neighbors, forget, unlink and batches, on the memory backend and, when it
   is built in, on an SQLite file. Afterwards every key's versions are 1..n
   with no gap and no duplicate, and n is the number of acknowledged writes
   to it. The TSan gate runs this test under ThreadSanitizer. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "zmem/prim.h"
#include "zmem/store.h"

#define THREADS 4
#define KEYS    6

static zm_prim_registry *reg;
static zm_store *store;
static int rounds;

typedef struct job {
    int id;
    int failures;
    int acked[KEYS]; /* acknowledged writes (store, forget) per key */
} job;

/* Calls request on ctx; true when the response starts with want. */
static bool call(job *j, zm_prim_ctx *ctx, const char *req, const char *want) {
    char *resp;
    size_t len;
    zm_prim_call_json(reg, ctx, req, strlen(req), &resp, &len);
    if (strncmp(resp, want, strlen(want)) == 0) return true;
    if (j->failures++ < 3) fprintf(stderr, "thread %d: %s\n  got  %s\n", j->id, req, resp);
    return false;
}

static void *worker(void *arg) {
    job *j = arg;
    zm_prim_ctx *ctx = NULL;
    if (zm_prim_ctx_create(NULL, &ctx) != ZM_OK) {
        j->failures++;
        return NULL;
    }
    char agent[16];
    snprintf(agent, sizeof agent, "agent-%d", j->id);
    zm_prim_ctx_set_agent_id(ctx, agent, strlen(agent));
    char req[512];
    for (int r = 0; r < rounds; r++) {
        int k = (j->id + r) % KEYS;
        switch (r % 8) {
        case 0:
        case 1:
            snprintf(req, sizeof req,
                     "{\"id\":1,\"primitive\":\"store\",\"params\":{\"key\":\"k%d\",\"value\":"
                     "{\"text\":\"thread %d round %d shared words\"}}}",
                     k, j->id, r);
            if (call(j, ctx, req, "{\"id\":1,\"ok\":true")) j->acked[k]++;
            break;
        case 2:
            snprintf(req, sizeof req,
                     "{\"id\":2,\"primitive\":\"retrieve\",\"params\":{\"key\":\"k%d\","
                     "\"history\":true}}",
                     k);
            call(j, ctx, req, "{\"id\":2,\"ok\":true");
            break;
        case 3:
            call(j, ctx,
                 "{\"id\":3,\"primitive\":\"search\",\"params\":{\"query\":\"shared words\","
                 "\"mode\":\"token\",\"limit\":3}}",
                 "{\"id\":3,\"ok\":true");
            break;
        case 4:
            snprintf(req, sizeof req,
                     "{\"id\":4,\"primitive\":\"link\",\"params\":{\"from\":\"k%d\",\"to\":"
                     "\"k%d\",\"relation\":\"next\"}}",
                     k, (k + 1) % KEYS);
            call(j, ctx, req, "{\"id\":4,\"ok\":true");
            break;
        case 5:
            call(j, ctx,
                 "{\"id\":5,\"primitive\":\"neighbors\",\"params\":{\"node\":\"k0\","
                 "\"direction\":\"both\",\"depth\":3}}",
                 "{\"id\":5,\"ok\":true");
            break;
        case 6: {
            /* forget: acknowledged as a new version only when the key was
               live; the response says which. */
            snprintf(req, sizeof req,
                     "{\"id\":6,\"primitive\":\"forget\",\"params\":{\"key\":\"k%d\"}}", k);
            char *resp;
            size_t len;
            zm_prim_call_json(reg, ctx, req, strlen(req), &resp, &len);
            if (strstr(resp, "\"forgotten\":true") != NULL)
                j->acked[k]++;
            else if (strstr(resp, "\"forgotten\":false") == NULL && j->failures++ < 3)
                fprintf(stderr, "thread %d: %s\n  got  %s\n", j->id, req, resp);
            break;
        }
        default:
            /* A batch: one transaction of two writes and an unlink. */
            snprintf(req, sizeof req,
                     "{\"id\":7,\"batch\":[{\"primitive\":\"store\",\"params\":{\"key\":\"k%d\","
                     "\"value\":%d}},{\"primitive\":\"store\",\"params\":{\"key\":\"k%d\","
                     "\"value\":%d}},{\"primitive\":\"unlink\",\"params\":{\"from\":\"k%d\","
                     "\"to\":\"k%d\",\"relation\":\"next\"}}]}",
                     k, r, (k + 2) % KEYS, r, k, (k + 1) % KEYS);
            if (call(j, ctx, req, "{\"id\":7,\"ok\":true,\"batch\":[{\"ok\":true")) {
                j->acked[k]++;
                j->acked[(k + 2) % KEYS]++;
            }
            break;
        }
    }
    zm_prim_ctx_destroy(ctx);
    return NULL;
}

/* Runs the threads on s and checks every key's versions. */
static void run_on(zm_store *s, const char *name) {
    store = s;
    CHECK_EQ(zm_prim_registry_create(zm_default_allocator(), &reg), ZM_OK);
    CHECK_EQ(zm_prim_register_builtins(reg, s), ZM_OK);
    pthread_t t[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].id = i;
        CHECK(pthread_create(&t[i], NULL, worker, &jobs[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(jobs[i].failures, 0);
    }
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    for (int k = 0; k < KEYS; k++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", k);
        int acked = 0;
        for (int i = 0; i < THREADS; i++) acked += jobs[i].acked[k];
        zm_store_version *h;
        size_t n = 0;
        zm_status st = zm_store_history(s, key, strlen(key), -1, zm_arena_allocator(&ar), &h, &n);
        CHECK(st == ZM_OK || (st == ZM_ENOTFOUND && acked == 0));
        if ((size_t)acked != n)
            fprintf(stderr, "%s: %s: %d acked, %zu versions\n", name, key, acked, n);
        CHECK_EQ(n, acked);
        for (size_t v = 0; v < n; v++) CHECK_EQ(h[v].version, v + 1);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    zm_arena_deinit(&ar);
    zm_prim_registry_destroy(reg);
}

static void test_memory(void) {
    zm_store *s;
    CHECK_EQ(zm_store_memory_create(zm_default_allocator(), NULL, &s), ZM_OK);
    run_on(s, "memory");
    zm_store_close(s);
}

static void test_sqlite(void) {
    if (!zm_store_backend_available("sqlite")) {
        fprintf(stderr, "(sqlite is not built in: only the memory store ran)\n");
        return;
    }
    char dir[] = "/tmp/zmem-threads-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/t.db", dir);
    zm_store *s;
    CHECK_EQ(zm_store_open(path, NULL, &s), ZM_OK);
    run_on(s, "sqlite");
    zm_store_close(s);
    const char *ext[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char f[160];
        snprintf(f, sizeof f, "%s%s", path, ext[i]);
        unlink(f);
    }
    rmdir(dir);
}

int main(void) {
    rounds = zt_small() ? 200 : 2000;
    RUN(test_memory);
    RUN(test_sqlite);
    return zt_finish("builtin_threads");
}
