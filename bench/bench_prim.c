/* Primitive call overhead, and a session through the zmem program.
 *
 *   bench_prim [ZMEM_EXE]
 *
 * 1. A trivial primitive (echo of one string field, with an input schema)
 *    through zm_prim_call_json: parse the request, look the primitive up,
 *    check the schema, run it, write the response, reset the arenas. Every
 *    call is timed on its own (CLOCK_MONOTONIC, the timer's own cost
 *    included); the median, p99 and p99.9 over ZMEM_BENCH_CALLS calls
 *    (default 1,000,000) are printed, with the mean of an untimed loop and
 *    the same figures for the parts (parse + reset alone, zm_prim_call by
 *    value alone).
 *
 * 2. With ZMEM_EXE: a session of ZMEM_BENCH_SESSION stores (default 100,000)
 *    and as many retrieves, written to a file and run by `zmem run --stats
 *    FILE` as a separate process. Prints the wall time, calls per second,
 *    microseconds per call, and the CPU time. A program without the store
 *    primitive is a failure.
 *
 * It prints only what it measured. Nothing here fails on time; the exit
 * status is 0 unless a call fails.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zmem.h"

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static size_t env_size(const char *name, size_t dflt) {
    const char *s = getenv(name);
    if (s == NULL || *s == '\0') return dflt;
    long long v = atoll(s);
    return v > 0 ? (size_t)v : dflt;
}

/* ---------------------------------------------------------------------------
 * Part 1: per-call overhead
 * ------------------------------------------------------------------------- */

static zm_status echo(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_allocator a = zm_prim_alloc(ctx);
    zm_json *o = zm_json_new_object(a, 1);
    if (o == NULL) return ZM_ENOMEM;
    if (zm_json_object_add_ref(a, o, "msg", 3, zm_json_get(params, "msg")) != ZM_OK)
        return ZM_ENOMEM;
    *result = o;
    return ZM_OK;
}

typedef struct dist {
    double median, p99, p999, mean_timed;
} dist;

/* Runs op n times, each timed; fills d. Returns false if op failed. */
typedef bool (*op_fn)(void *arg);

static bool measure(op_fn op, void *arg, size_t n, uint32_t *samples, dist *d) {
    for (size_t i = 0; i < 10000; i++)
        if (!op(arg)) return false;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        if (!op(arg)) return false;
        uint64_t dt = now_ns() - t0;
        samples[i] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
        total += dt;
    }
    qsort(samples, n, sizeof *samples, cmp_u32);
    d->median = samples[n / 2];
    d->p99 = samples[(size_t)((double)n * 0.99)];
    d->p999 = samples[(size_t)((double)n * 0.999)];
    d->mean_timed = (double)total / (double)n;
    return true;
}

/* The mean of an untimed loop of n calls. */
static double bulk_mean(op_fn op, void *arg, size_t n) {
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i++)
        if (!op(arg)) return -1;
    return (double)(now_ns() - t0) / (double)n;
}

typedef struct bench {
    zm_prim_registry *reg;
    zm_prim_ctx *ctx;
    const char *request;
    size_t request_len;
    zm_json *params;
    zm_arena arena;
} bench;

static bool op_call_json(void *arg) {
    bench *b = arg;
    char *resp;
    size_t len;
    return zm_prim_call_json(b->reg, b->ctx, b->request, b->request_len, &resp, &len) == ZM_OK;
}

static bool op_parse_reset(void *arg) {
    bench *b = arg;
    zm_json *root;
    bool ok =
        zm_json_parse_arena(&b->arena, b->request, b->request_len, NULL, &root, NULL) == ZM_OK;
    zm_arena_reset(&b->arena, ZM_ARENA_RETAIN_CAPACITY, 0);
    return ok;
}

static bool op_call_value(void *arg) {
    bench *b = arg;
    zm_json *res;
    return zm_prim_call(b->reg, b->ctx, "echo", b->params, &res) == ZM_OK;
}

static void print_dist(const char *what, const dist *d, double bulk) {
    printf("  %-34s median %6.0f ns  p99 %6.0f ns  p99.9 %6.0f ns  mean %6.0f ns (timed), %6.0f "
           "ns (untimed loop)\n",
           what, d->median, d->p99, d->p999, d->mean_timed, bulk);
}

static int part_overhead(void) {
    size_t n = env_size("ZMEM_BENCH_CALLS", 1000000);
    bench b;
    memset(&b, 0, sizeof b);
    zm_json_error err;
    zm_prim_def def = {"echo", "Echoes one field.",
                       "{\"type\":\"object\",\"properties\":{\"msg\":{\"type\":\"string\","
                       "\"maxLength\":100}},\"required\":[\"msg\"],\"additionalProperties\":false}",
                       echo, NULL};
    if (zm_prim_registry_create(zm_default_allocator(), &b.reg) != ZM_OK ||
        zm_prim_register(b.reg, &def, &err) != ZM_OK || zm_prim_ctx_create(NULL, &b.ctx) != ZM_OK)
        return 1;
    b.request = "{\"id\":12345,\"primitive\":\"echo\",\"params\":{\"msg\":\"hello, world\"}}";
    b.request_len = strlen(b.request);
    zm_arena_init(&b.arena, zm_default_allocator());
    zm_json_doc *doc;
    if (zm_json_parse(zm_default_allocator(), "{\"msg\":\"hello, world\"}", 22, NULL, &doc, NULL) !=
        ZM_OK)
        return 1;
    b.params = zm_json_doc_root(doc);

    uint32_t *samples = malloc(n * sizeof *samples);
    if (samples == NULL) return 1;
    printf("bench_prim: per-call overhead, %zu calls each (allocator: %s)\n", n,
           zm_default_allocator_name());
    printf("  request: %s\n", b.request);
    char *resp;
    size_t len;
    zm_prim_call_json(b.reg, b.ctx, b.request, b.request_len, &resp, &len);
    printf("  response: %s\n", resp);

    dist d;
    int rc = 0;
    if (!measure(op_call_json, &b, n, samples, &d)) {
        fprintf(stderr, "bench_prim: zm_prim_call_json failed\n");
        rc = 1;
    } else {
        double bulk = bulk_mean(op_call_json, &b, n);
        print_dist("zm_prim_call_json (whole call)", &d, bulk);
        printf("  => median %.3f us per call (target <= 1 us)\n", d.median / 1000.0);
    }
    if (rc == 0 && measure(op_parse_reset, &b, n / 4, samples, &d))
        print_dist("  part: parse request + reset", &d, bulk_mean(op_parse_reset, &b, n / 4));
    if (rc == 0 && measure(op_call_value, &b, n / 4, samples, &d))
        print_dist("  part: zm_prim_call (by value)", &d, bulk_mean(op_call_value, &b, n / 4));
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n / 4; i++) (void)now_ns();
    printf("  (the timer itself costs about %.0f ns per sample)\n",
           (double)(now_ns() - t0) / (double)(n / 4));
    zm_prim_stats s;
    zm_prim_ctx_stats(b.ctx, &s);
    printf("  per call: %zu arena bytes, %zu held across resets\n", s.last_call_bytes,
           s.arena_capacity);

    free(samples);
    zm_json_doc_free(doc);
    zm_arena_deinit(&b.arena);
    zm_prim_ctx_destroy(b.ctx);
    zm_prim_registry_destroy(b.reg);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Part 2: a session through zmem run
 * ------------------------------------------------------------------------- */

/* Runs exe with args, stdout and stderr to files; *cpu gets the user + system
   seconds of the children waited for (this is the only one). Returns the exit
   status, or -1. */
static int spawn(char *const argv[], const char *out, const char *err, double *cpu) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0) _exit(126);
        dup2(o, 1);
        dup2(e, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (waitpid(pid, &status, 0) < 0 || getrusage(RUSAGE_CHILDREN, &ru) != 0) return -1;
    *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int part_session(const char *exe) {
    size_t n = env_size("ZMEM_BENCH_SESSION", 100000);
    char dir[] = "/tmp/zmem-bench-XXXXXX";
    if (mkdtemp(dir) == NULL) return 1;
    char in[64], out[64], err[64];
    snprintf(in, sizeof in, "%s/session.jsonl", dir);
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    snprintf(err, sizeof err, "%s/stats.txt", dir);

    /* n stores over n/10 keys (ten versions each), then n retrieves. */
    FILE *f = fopen(in, "w");
    if (f == NULL) return 1;
    size_t keys = n / 10 ? n / 10 : 1;
    for (size_t i = 0; i < n; i++)
        fprintf(f,
                "{\"id\":%zu,\"primitive\":\"store\",\"params\":{\"key\":\"agent/notes/%zu\","
                "\"value\":{\"text\":\"observation %zu about the task\",\"step\":%zu,\"tags\":"
                "[\"bench\",\"note\"]},\"metadata\":{\"source\":\"bench\"}}}\n",
                i, i % keys, i, i);
    uint64_t x = 88172645463325252u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        fprintf(
            f, "{\"id\":%zu,\"primitive\":\"retrieve\",\"params\":{\"key\":\"agent/notes/%zu\"}}\n",
            n + i, (size_t)(x % keys));
    }
    fclose(f);

    char *argv[] = {(char *)exe, "run", "--stats", in, NULL};
    uint64_t t0 = now_ns();
    double cpu = 0;
    int rc = spawn(argv, out, err, &cpu);
    double secs = (double)(now_ns() - t0) / 1e9;

    /* Check the responses: every one ok. */
    size_t lines = 0, ok = 0;
    char first[600] = "";
    f = fopen(out, "r");
    if (f != NULL) {
        static char line[1 << 16];
        while (fgets(line, sizeof line, f)) {
            if (lines == 0) snprintf(first, sizeof first, "%.512s", line);
            lines++;
            if (strstr(line, "\"ok\":true") != NULL) ok++;
        }
        fclose(f);
    }
    int result = 0;
    printf("\nbench_prim: session through `%s run --stats FILE`: %zu store + %zu retrieve\n", exe,
           n, n);
    if (strstr(first, "unknown_primitive") != NULL) {
        printf("  FAILED: this zmem has no store primitive (%s)", first);
        result = 1;
    } else if (rc != 0 || lines != 2 * n || ok != 2 * n) {
        printf("  FAILED: exit %d, %zu lines, %zu ok; first: %s", rc, lines, ok, first);
        result = 1;
    } else {
        double per = secs / (double)(2 * n);
        printf("  %.3f s wall for %zu calls (process start and exit included)\n", secs, 2 * n);
        printf("  %.0f calls/s, %.2f us per call\n", (double)(2 * n) / secs, per * 1e6);
        double cper = cpu / (double)(2 * n);
        printf("  CPU time %.3f s: %.2f us per call (wall time suffers when the machine is "
               "busy; CPU time does not)\n",
               cpu, cper * 1e6);
        f = fopen(err, "r");
        if (f != NULL) {
            char line[512];
            while (fgets(line, sizeof line, f)) printf("  | %s", line);
            fclose(f);
        }
    }
    unlink(in);
    unlink(out);
    unlink(err);
    rmdir(dir);
    return result;
}

int main(int argc, char **argv) {
    int rc = part_overhead();
    if (argc > 1) rc |= part_session(argv[1]);
    return rc;
}
