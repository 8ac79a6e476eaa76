/* The memory report of the zmem program: `zmem run --stats` and
   `--stats=json`, the thresholds --memory-warn and --memory-critical (one
   line per crossing, none while the memory hovers at a threshold), and the
   report `zmem mcp` writes on SIGUSR1 while it waits for input.

     test_cli_memory ZMEM_EXE */
#define _GNU_SOURCE /* memmem */
#include <poll.h>
#include <signal.h>

#include "test.h"
#include "cli_run.h"
#include "json_text.h"
#include "text_lines.h"

/* How many times part occurs in text. */
static int count_of(const char *text, const char *part) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, part)) != NULL; p += strlen(part)) n++;
    return n;
}

/* The integer at a path of member names under v (INT64_MIN when missing). */
static int64_t at(const zm_json *v, const char *k1, const char *k2) {
    v = zm_json_get(v, k1);
    if (k2 != NULL) v = zm_json_get(v, k2);
    return zm_json_is_int(v) ? zm_json_int(v) : INT64_MIN;
}

/* A growable text. */
typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void add(text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->p = realloc(t->p, t->cap);
    }
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* A store request of key with a string value of n bytes of c. */
static void add_store(text *t, const char *key, size_t n, char c) {
    add(t, "{\"primitive\":\"store\",\"params\":{\"key\":\"%s\",\"value\":\"", key);
    for (size_t i = 0; i < n; i++) add(t, "%c", c);
    add(t, "\"}}\n");
}

static void add_purge(text *t, const char *key) {
    add(t, "{\"primitive\":\"forget\",\"params\":{\"key\":\"%s\",\"purge\":true}}\n", key);
}

/* ---------------------------------------------------------------------------
 * zmem run --stats
 * ------------------------------------------------------------------------- */

static const char session[] =
    "{\"id\":1,\"primitive\":\"store\",\"params\":{\"key\":\"a\",\"value\":{\"x\":[1,2,3]}}}\n"
    "{\"id\":2,\"primitive\":\"template_put\",\"params\":{\"name\":\"t\",\"template\":"
    "{\"hello\":\"{{who}}\"}}}\n"
    "{\"id\":3,\"primitive\":\"render\",\"params\":{\"name\":\"t\",\"bindings\":{\"who\":1}}}\n"
    "{\"id\":4,\"primitive\":\"render\",\"params\":{\"name\":\"t\",\"bindings\":{\"who\":2}}}\n";

static void test_stats_text(void) {
    proc p = run(session, sizeof session - 1, "run", "--stats", "--memory-limit", "64M",
                 "--memory-warn", "32M", "--memory-critical=48M", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_EQ(count_lines(p.out), 4);
    CHECK_HAS(p.err, "zmem run: 4 requests, 4 calls, 0 errors");
    CHECK_HAS(p.err, "zmem run: memory report 1, after 4 calls\n");
    CHECK_HAS(p.err, "zmem run: per-call arena: last ");
    CHECK_HAS(p.err, "zmem run: request arena: last ");
    CHECK_HAS(p.err, "zmem run: response buffer: 4096 B held (keeps up to 1.0 MiB)\n");
    CHECK_HAS(p.err, "zmem run: JSON pool: ");
    CHECK_HAS(p.err, "zmem run: templates: 1 held, ");
    CHECK_HAS(p.err, "of a 1.0 MiB budget; ");
    CHECK_HAS(p.err, "zmem run: store (memory): ");
    CHECK_HAS(p.err, "zmem run: context: ");
    CHECK_HAS(p.err, "; limit 64.0 MiB; warning at 32.0 MiB (not crossed); critical at 48.0 MiB "
                     "(not crossed)\n");
    CHECK_HAS(p.err, "zmem run: long-lived allocator: ");
    CHECK_EQ(count_of(p.err, "memory warning"), 0);
    proc_free(&p);
}

/* --stats=json: one line, the memory primitive's answer, with the figures of
   the run. */
static void test_stats_json(void) {
    char in[sizeof session + 64];
    snprintf(in, sizeof in, "%s{\"id\":5,\"primitive\":\"memory\"}\n", session);
    proc p = run(in, strlen(in), "run", "--stats=json", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_EQ(count_lines(p.out), 5);
    CHECK_EQ(count_lines(p.err), 1);
    zm_json *v = J(p.err);
    CHECK_EQ(at(v, "id", NULL), 2); /* the primitive took report 1 */
    CHECK_EQ(at(v, "calls", NULL), 5);
    CHECK_EQ(at(v, "templates", "templates"), 1);
    CHECK_EQ(at(v, "templates", "hits") + at(v, "templates", "misses"), 2);
    CHECK(is_json(zm_json_get(zm_json_get(v, "store"), "backend"), "\"memory\""));
    CHECK(at(v, "store", "bytes") > 0);
    CHECK(at(v, "process", "active_bytes") > 0);
    CHECK(zm_json_is_null(zm_json_get(zm_json_get(v, "process"), "limit_bytes")));
    CHECK(zm_json_is_null(zm_json_get(zm_json_get(v, "process"), "warning")));
    CHECK_EQ(zm_json_len(zm_json_get(zm_json_get(v, "json_pool"), "classes")),
             ZM_JSON_POOL_CLASSES);
    /* The same members as the primitive's answer. */
    zm_json *prim = zm_json_get(J(line_at(p.out, 4)), "result");
    CHECK_EQ(at(prim, "id", NULL), 1);
    CHECK_EQ(zm_json_len(prim), zm_json_len(v));
    for (size_t i = 0; i < zm_json_len(v); i++)
        CHECK_STR(v->u.o.items[i].key, prim->u.o.items[i].key);
    proc_free(&p);
}

static void test_bad_options(void) {
    const char *bad[][5] = {
        {"run", "--memory-warn", "0", NULL, NULL},
        {"run", "--memory-warn", "x", NULL, NULL},
        {"mcp", "--memory-critical", NULL, NULL, NULL},
        {"run", "--memory-warn", "2M", "--memory-critical", "1M"},
        {"mcp", "--memory-critical", "2M", "--memory-limit", "1M"},
        {"run", "--memory-warn=2M", "--memory-limit=1M", NULL, NULL},
        {"run", "--stats=xml", NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        proc p = run("", 0, bad[i][0], bad[i][1], bad[i][2], bad[i][3], bad[i][4], NULL);
        CHECK_EQ(p.status, 2);
        CHECK_STR(p.out, "");
        CHECK(strstr(p.err, "--memory-") != NULL || strstr(p.err, "--stats") != NULL);
        proc_free(&p);
    }
}

/* ---------------------------------------------------------------------------
 * Thresholds
 * ------------------------------------------------------------------------- */

#define BALLAST 65536 /* bytes of the value that is dropped to go below the mark */
#define SWING   16384 /* bytes each cycle takes and gives back */

/* The requests: a ballast value, three warm-up cycles, a memory report
   (where the probe run reads the process's total), then cycles (hovering),
   the ballast purged and stored again, and one more cycle. */
static text script(int hover_cycles) {
    text t = {NULL, 0, 0};
    add_store(&t, "ballast", BALLAST, 'b');
    for (int i = 0; i < 3; i++) add_store(&t, "swing", SWING, 's'), add_purge(&t, "swing");
    add(&t, "{\"id\":\"probe\",\"primitive\":\"memory\"}\n");
    add_store(&t, "swing", SWING, 's');
    add(&t, "{\"id\":\"high\",\"primitive\":\"memory\"}\n");
    add_purge(&t, "swing");
    for (int i = 0; i < hover_cycles; i++)
        add_store(&t, "swing", SWING, 's'), add_purge(&t, "swing");
    add(&t, "{\"id\":\"low\",\"primitive\":\"memory\"}\n");
    add_purge(&t, "ballast");
    add_store(&t, "ballast", BALLAST, 'b');
    add_store(&t, "swing", SWING, 's'), add_purge(&t, "swing");
    return t;
}

static void test_thresholds(void) {
    int cycles = zt_small() ? 20 : 200;
    text t = script(cycles);
    /* The probe: the process's total at the low point, after warm-up. */
    proc p = run(t.p, t.len, "run", NULL);
    CHECK_EQ(p.status, 0);
    int probe = -1, top = -1, bottom = -1;
    for (int i = 0; i < count_lines(p.out); i++) {
        if (strstr(line_at(p.out, i), "\"probe\"") != NULL) probe = i;
        if (strstr(line_at(p.out, i), "\"high\"") != NULL) top = i;
        if (strstr(line_at(p.out, i), "\"low\"") != NULL) bottom = i;
    }
    CHECK(probe >= 0 && top >= 0 && bottom >= 0);
    zm_json *pl = zm_json_get(J(bottom >= 0 ? line_at(p.out, bottom) : "{}"), "result");
    zm_json *pr = zm_json_get(J(probe >= 0 ? line_at(p.out, probe) : "{}"), "result");
    zm_json *ph = zm_json_get(J(top >= 0 ? line_at(p.out, top) : "{}"), "result");
    int64_t low = at(pr, "process", "active_bytes"), high = at(ph, "process", "active_bytes");
    CHECK(low > BALLAST);
    /* It does swing past the line drawn below, and back. */
    CHECK(high > low + SWING / 2);
    CHECK(high < low + SWING + 8192);
    CHECK(at(pl, "process", "active_bytes") < low + SWING / 2);
    proc_free(&p);
    /* The warning halfway up a swing: the total goes past it and back at
       every cycle, but not below the mark a sixteenth under it, except when
       the ballast goes. */
    char warn[32];
    snprintf(warn, sizeof warn, "%" PRId64, low + SWING / 2);
    p = run(t.p, t.len, "run", "--memory-warn", warn, NULL);
    CHECK_EQ(p.status, 0);
    CHECK_EQ(count_lines(p.out), 2 * cycles + 16);
    CHECK_EQ(count_of(p.out, "\"ok\":true"), 2 * cycles + 16);
    CHECK_EQ(count_of(p.err, "zmem run: memory warning: "), 2);
    CHECK_EQ(count_of(p.err, "is past --memory-warn "), 2);
    CHECK_EQ(count_of(p.err, "zmem run: memory back below the warning threshold: "), 1);
    CHECK_EQ(count_lines(p.err), 3);
    /* The order: up, down (the ballast), up. */
    CHECK_HAS(line_at(p.err, 0), "memory warning");
    CHECK_HAS(line_at(p.err, 1), "back below the warning threshold");
    CHECK_HAS(line_at(p.err, 2), "memory warning");
    proc_free(&p);
    /* A critical threshold below the low point: crossed once, at the start,
       and never left (the warning, unset, stays quiet). */
    snprintf(warn, sizeof warn, "%" PRId64, low / 2);
    p = run(t.p, t.len, "run", "--memory-critical", warn, NULL);
    CHECK_EQ(p.status, 0);
    CHECK_EQ(count_of(p.err, "zmem run: memory critical: "), 1);
    CHECK_EQ(count_of(p.err, "is past --memory-critical "), 1);
    CHECK_EQ(count_lines(p.err), 1);
    proc_free(&p);
    free(t.p);
}

/* ---------------------------------------------------------------------------
 * zmem mcp on SIGUSR1
 * ------------------------------------------------------------------------- */

typedef struct child {
    pid_t pid;
    int in, out, err; /* our ends of its standard streams */
    text got_out, got_err;
} child;

static bool spawn(child *c, const char *const *args) {
    memset(c, 0, sizeof *c);
    int pin[2], pout[2], perr[2];
    if (pipe(pin) || pipe(pout) || pipe(perr)) return false;
    fflush(NULL);
    c->pid = fork();
    if (c->pid == 0) {
        dup2(pin[0], 0), dup2(pout[1], 1), dup2(perr[1], 2);
        close(pin[1]), close(pout[0]), close(perr[0]);
        execv(args[0], (char **)args);
        _exit(127);
    }
    close(pin[0]), close(pout[1]), close(perr[1]);
    c->in = pin[1], c->out = pout[0], c->err = perr[0];
    return c->pid > 0;
}

/* Reads from the child until want appears in what it wrote to fd (its
   standard output or error), or 30 s pass with nothing new. */
static bool wait_for(child *c, int fd, const char *want) {
    text *t = fd == c->out ? &c->got_out : &c->got_err;
    for (;;) {
        if (t->p != NULL && strstr(t->p, want) != NULL) return true;
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 30000) <= 0) return false;
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0) return false;
        buf[n] = '\0';
        add(t, "%s", buf);
    }
}

static void test_mcp_signal(void) {
    const char *args[] = {zmem, "mcp", "--db", ":memory:", NULL};
    child c;
    CHECK(spawn(&c, args));
    const char ping1[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
    CHECK(write(c.in, ping1, sizeof ping1 - 1) == (ssize_t)(sizeof ping1 - 1));
    CHECK(wait_for(&c, c.out, "\"id\":1,"));
    /* The server waits for input: the signal alone brings the report. */
    kill(c.pid, SIGUSR1);
    CHECK(wait_for(&c, c.err, "zmem mcp: process: "));
    CHECK_HAS(c.got_err.p ? c.got_err.p : "", "zmem mcp: memory report 1, after 0 calls\n");
    CHECK_HAS(c.got_err.p ? c.got_err.p : "", "zmem mcp: store (memory): ");
    /* It goes on serving, and reports again. */
    const char call[] = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
                        "{\"name\":\"store\",\"arguments\":{\"key\":\"k\",\"value\":1}}}\n";
    CHECK(write(c.in, call, sizeof call - 1) == (ssize_t)(sizeof call - 1));
    CHECK(wait_for(&c, c.out, "\"id\":2,"));
    kill(c.pid, SIGUSR1);
    CHECK(wait_for(&c, c.err, "zmem mcp: memory report 2, after 1 calls\n"));
    close(c.in);
    int status = 0;
    waitpid(c.pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ(count_of(c.got_err.p ? c.got_err.p : "", "memory report"), 2);
    close(c.out), close(c.err);
    free(c.got_out.p), free(c.got_err.p);

    /* --stats=json: the report as JSON, on the signal and at the end. */
    const char *jargs[] = {zmem, "mcp", "--db", ":memory:", "--stats=json", NULL};
    CHECK(spawn(&c, jargs));
    CHECK(write(c.in, ping1, sizeof ping1 - 1) == (ssize_t)(sizeof ping1 - 1));
    CHECK(wait_for(&c, c.out, "\"id\":1,")); /* the handler is in place */
    kill(c.pid, SIGUSR1);
    CHECK(wait_for(&c, c.err, "\n"));
    close(c.in);
    waitpid(c.pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char rest[8192];
    ssize_t n;
    while ((n = read(c.err, rest, sizeof rest - 1)) > 0) {
        rest[n] = '\0';
        add(&c.got_err, "%s", rest);
    }
    CHECK_EQ(count_lines(c.got_err.p), 2);
    CHECK_EQ(at(J(line_at(c.got_err.p, 0)), "id", NULL), 1);
    CHECK_EQ(at(J(line_at(c.got_err.p, 1)), "id", NULL), 2);
    close(c.out), close(c.err);
    free(c.got_out.p), free(c.got_err.p);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_cli_memory ZMEM_EXE\n");
        return 2;
    }
    zmem = argv[1];
    zm_arena_init(&ar, zm_default_allocator());
    RUN(test_stats_text);
    RUN(test_stats_json);
    RUN(test_bad_options);
    RUN(test_thresholds);
    RUN(test_mcp_signal);
    zm_arena_deinit(&ar);
    return zt_finish("prim_cli_memory");
}
