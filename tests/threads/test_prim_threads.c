/* Per-thread contexts over one shared registry: the promise of prim.h ("a
   registry may be shared by threads once registration is over; give each
   thread its own context"), run with several threads at once so that the
   TSan gate can see any data race in the call path. Each thread checks every
   response it gets against the one it expects. */
#include <pthread.h>

#include "test.h"
#include "zmem/prim.h"

#define THREADS 4

/* echo: returns a copy of its params, built in the per-call arena. */
static zm_status prim_echo(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    return zm_json_clone(zm_prim_alloc(ctx), params, result);
}

/* sum: adds the integers of params.xs. */
static zm_status prim_sum(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    const zm_json *xs = zm_json_get(params, "xs");
    int64_t total = 0;
    for (size_t i = 0; i < zm_json_len(xs); i++) total += zm_json_int(zm_json_at(xs, i));
    *result = zm_json_new_int(zm_prim_alloc(ctx), total);
    return *result ? ZM_OK : ZM_ENOMEM;
}

static zm_prim_registry *reg;
static int rounds;

typedef struct job {
    int id;
    int failures;
} job;

static void *worker(void *arg) {
    job *j = arg;
    zm_prim_ctx *ctx = NULL;
    if (zm_prim_ctx_create(NULL, &ctx) != ZM_OK) {
        j->failures++;
        return NULL;
    }
    char req[256], want[256];
    for (int r = 0; r < rounds; r++) {
        int a = j->id * 100000 + r, b = r % 7;
        size_t len;
        if (r % 3 == 0) {
            len = (size_t)snprintf(req, sizeof req,
                                   "{\"id\":%d,\"primitive\":\"sum\",\"params\":{\"xs\":[%d,%d]}}",
                                   r, a, b);
            snprintf(want, sizeof want, "{\"id\":%d,\"ok\":true,\"result\":%d}", r, a + b);
        } else if (r % 3 == 1) {
            len = (size_t)snprintf(req, sizeof req,
                                   "{\"id\":%d,\"primitive\":\"echo\",\"params\":{\"t\":%d,"
                                   "\"s\":\"thread %d\"}}",
                                   r, a, j->id);
            snprintf(want, sizeof want,
                     "{\"id\":%d,\"ok\":true,\"result\":{\"t\":%d,\"s\":\"thread %d\"}}", r, a,
                     j->id);
        } else {
            len = (size_t)snprintf(
                req, sizeof req, "{\"id\":%d,\"primitive\":\"sum\",\"params\":{\"xs\":\"no\"}}", r);
            want[0] = '\0'; /* an invalid_params error */
        }
        char *resp;
        size_t resp_len;
        zm_status st = zm_prim_call_json(reg, ctx, req, len, &resp, &resp_len);
        if (want[0] != '\0') {
            if (st != ZM_OK || strcmp(resp, want) != 0) {
                if (j->failures++ < 3)
                    fprintf(stderr, "thread %d: %s\n  got  %s\n  want %s\n", j->id, req, resp,
                            want);
            }
        } else if (st != ZM_EINVAL || strstr(resp, "\"invalid_params\"") == NULL) {
            if (j->failures++ < 3) fprintf(stderr, "thread %d: %s\n  got %s\n", j->id, req, resp);
        }
    }
    zm_prim_ctx_destroy(ctx);
    return NULL;
}

static void test_shared_registry(void) {
    CHECK_EQ(zm_prim_registry_create(zm_default_allocator(), &reg), ZM_OK);
    zm_prim_def echo = {"echo", "returns its params", NULL, prim_echo, NULL};
    zm_prim_def sum = {"sum", "adds integers",
                       "{\"type\":\"object\",\"properties\":{\"xs\":{\"type\":\"array\","
                       "\"items\":{\"type\":\"integer\"}}},\"required\":[\"xs\"]}",
                       prim_sum, NULL};
    CHECK_EQ(zm_prim_register(reg, &echo, NULL), ZM_OK);
    CHECK_EQ(zm_prim_register(reg, &sum, NULL), ZM_OK);

    pthread_t t[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){i, 0};
        CHECK(pthread_create(&t[i], NULL, worker, &jobs[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(jobs[i].failures, 0);
    }
    zm_prim_registry_destroy(reg);
}

int main(void) {
    rounds = zt_small() ? 300 : 3000;
    RUN(test_shared_registry);
    return zt_finish("prim_threads");
}
