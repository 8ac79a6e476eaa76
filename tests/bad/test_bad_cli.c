/* Bad input to the zmem program: a 100 MB request line to `zmem run`, and MCP
   clients that disconnect in the middle of a message or stop reading.

   The program runs as a child with its stdin and stdout on pipes; its peak
   resident set is read from /proc while it runs. Argument: the path of the
   zmem program. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#include "bad.h"
#ifdef ZMEM_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif
#include "zmem/json.h"

static const char *zmem_path;
static char zmem_real[4096]; /* its absolute path, links resolved */

typedef struct child {
    pid_t pid;
    int in;  /* its stdin, ours to write */
    int out; /* its stdout, ours to read */
} child;

typedef struct result {
    char *out; /* everything it wrote to stdout (malloc'd, NUL-terminated) */
    size_t out_len;
    int status;     /* as waitpid gives it */
    size_t max_rss; /* its peak resident set (VmHWM) while it ran, bytes */
} result;

/* The peak resident set of process pid so far (its VmHWM), or 0. The peak
   wait4 reports also counts what a child shared with its parent before exec
   (all of valgrind, when this test runs under it); this one counts the
   program alone. */
static size_t hwm_of(pid_t pid) {
    char path[64], line[256], exe[4096];
    /* Only once it runs the program: before exec it is a copy of this one. */
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    if (n <= 0) return 0;
    exe[n] = '\0';
    if (strcmp(exe, zmem_real) != 0) return 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return 0;
    size_t kb = 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %zu kB", &kb) == 1) break;
    fclose(f);
    return kb * 1024;
}

/* True when this test runs under valgrind (the valgrind test setup, which
   runs the program it starts under valgrind too): then the program's
   resident set is valgrind's, and the bound on it means nothing. */
static bool under_valgrind(void) {
#ifdef ZMEM_HAVE_VALGRIND_H
    return RUNNING_ON_VALGRIND != 0;
#else
    return false;
#endif
}

static bool spawn(child *c, const char *cmd, const char *arg) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) return false;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]), close(in[1]);
        return false;
    }
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        signal(SIGPIPE, SIG_DFL);
        execl(zmem_path, zmem_path, cmd, arg, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    c->pid = pid;
    c->in = in[1];
    c->out = out[0];
    fcntl(c->in, F_SETFL, O_NONBLOCK);
    fcntl(c->out, F_SETFL, O_NONBLOCK);
    return true;
}

/* Feeds input to the child while reading what it writes; closes its stdin
   after the input when close_in (else leaves it open until the child's stdout
   ends), and its stdout right away when stop_reading. Then reaps it. */
static void converse(child *c, const char *input, size_t len, bool close_in, bool stop_reading,
                     result *r) {
    memset(r, 0, sizeof *r);
    size_t cap = 1 << 16, off = 0;
    r->out = malloc(cap);
    if (stop_reading) {
        close(c->out);
        c->out = -1;
    }
    while (c->in >= 0 || c->out >= 0) {
        if (c->in >= 0 && off == len && close_in) {
            close(c->in);
            c->in = -1;
            continue;
        }
        struct pollfd p[2];
        int n = 0, iw = -1, ir = -1;
        if (c->in >= 0 && off < len) p[iw = n++] = (struct pollfd){c->in, POLLOUT, 0};
        if (c->out >= 0) p[ir = n++] = (struct pollfd){c->out, POLLIN, 0};
        if (n == 0) break; /* input written, stdin kept open, nothing to read */
        if (poll(p, (nfds_t)n, 60000) <= 0) break;
        if (iw >= 0 && p[iw].revents) {
            ssize_t w = write(c->in, input + off, len - off < 65536 ? len - off : 65536);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno != EAGAIN)
                off = len; /* it closed its stdin */
        }
        size_t hwm = hwm_of(c->pid);
        if (hwm > r->max_rss) r->max_rss = hwm;
        if (ir >= 0 && p[ir].revents) {
            if (r->out_len + 65536 + 1 > cap) r->out = realloc(r->out, cap *= 2);
            ssize_t got = read(c->out, r->out + r->out_len, 65536);
            if (got > 0)
                r->out_len += (size_t)got;
            else if (got == 0 || errno != EAGAIN) {
                close(c->out);
                c->out = -1;
                if (c->in >= 0 && !close_in) {
                    close(c->in);
                    c->in = -1;
                }
            }
        }
    }
    if (c->in >= 0) close(c->in);
    if (c->out >= 0) close(c->out);
    r->out[r->out_len] = '\0';
    size_t hwm = hwm_of(c->pid);
    if (hwm > r->max_rss) r->max_rss = hwm;
    waitpid(c->pid, &r->status, 0);
}

/* Splits r's output into lines; checks that it ends with a newline (no partial
   line) and that each line is a JSON object, which it parses into ar. Returns
   the number of lines, at most max, with the values in v. */
static size_t response_lines(const result *r, zm_arena *ar, zm_json **v, size_t max) {
    if (r->out_len > 0) CHECK(r->out[r->out_len - 1] == '\n');
    size_t n = 0;
    const char *p = r->out, *end = r->out + r->out_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) nl = end;
        zm_json *val = NULL;
        zm_json_error err;
        zm_status st = zm_json_parse_arena(ar, p, (size_t)(nl - p), NULL, &val, &err);
        if (st != ZM_OK)
            fprintf(stderr, "output line %zu is not JSON (%s): %.*s\n", n + 1, err.message,
                    (int)(nl - p < 300 ? nl - p : 300), p);
        CHECK_EQ(st, ZM_OK);
        CHECK(zm_json_is_object(val));
        if (n < max) v[n] = val;
        n++;
        p = nl + 1;
    }
    return n;
}

static bool str_is(const zm_json *v, const char *s) {
    size_t n;
    const char *t = zm_json_str(v, &n);
    return t != NULL && n == strlen(s) && memcmp(t, s, n) == 0;
}

static bool exited_zero(const result *r) {
    if (WIFSIGNALED(r->status))
        fprintf(stderr, "the program was killed by signal %d\n", WTERMSIG(r->status));
    return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

/* ---------------------------------------------------------------------------
 * zmem run: a 100 MB line between two ordinary ones
 * ------------------------------------------------------------------------- */

static void test_run_long_line(void) {
    /* Under a slow tool the line is smaller, but still well past what zmem
       run may buffer (the 16 MiB default --max-line plus its own memory), so
       that the bound below still proves the line was not held whole. */
    size_t big = zt_small() ? (size_t)64 << 20 : (size_t)100 << 20;
    const char *head = "{\"id\":1,\"primitive\":\"store\",\"params\":{\"key\":\"big\",\"value\":\"";
    const char *tail =
        "\"}}\n"
        "{\"id\":2,\"primitive\":\"store\",\"params\":{\"key\":\"small\",\"value\":1}}\n"
        "{\"id\":3,\"primitive\":\"retrieve\",\"params\":{\"key\":\"big\"}}\n";
    size_t hl = strlen(head), tl = strlen(tail), len = hl + big + tl;
    /* The child first: its peak resident set counts what it shares with this
       process until exec, so it must not see the input. */
    child c;
    CHECK(spawn(&c, "run", NULL));
    char *input = malloc(len);
    CHECK(input != NULL);
    if (input == NULL) return;
    memcpy(input, head, hl);
    memset(input + hl, 'x', big);
    memcpy(input + hl + big, tail, tl);

    result r;
    converse(&c, input, len, true, false, &r);
    free(input);
    CHECK(exited_zero(&r));

    budget b;
    zm_arena ar;
    zm_arena_init(&ar, budget_init(&b, SIZE_MAX));
    zm_json *v[4] = {0};
    size_t n = response_lines(&r, &ar, v, 4);
    CHECK_EQ(n, 3);
    if (n == 3) {
        /* The long line: limit_exceeded, with its id read from its start. */
        CHECK(zm_json_int(zm_json_get(v[0], "id")) == 1);
        CHECK(!zm_json_bool(zm_json_get(v[0], "ok")));
        CHECK(str_is(zm_json_get(zm_json_get(v[0], "error"), "code"), "limit_exceeded"));
        /* The lines after it are answered as usual. */
        CHECK(zm_json_int(zm_json_get(v[1], "id")) == 2);
        CHECK(zm_json_bool(zm_json_get(v[1], "ok")));
        CHECK(zm_json_int(zm_json_get(v[2], "id")) == 3);
        CHECK(zm_json_bool(zm_json_get(v[2], "ok")));
        CHECK(zm_json_is_bool(zm_json_get(zm_json_get(v[2], "result"), "exists")));
        CHECK(!zm_json_bool(zm_json_get(zm_json_get(v[2], "result"), "exists")));
    } else {
        fprintf(stderr, "zmem run answered:\n%.2000s\n", r.out);
    }
    /* Memory stayed bounded: the line was never held whole. Under valgrind
       the program's memory is valgrind's: the native and sanitizer runs
       check the bound, this one checks the program's memory errors. */
    if (under_valgrind()) {
        fprintf(stderr, "zmem run ran under valgrind: its resident set is not checked here\n");
    } else {
        fprintf(stderr, "zmem run peaked at %zu MiB for a %zu MiB line\n", r.max_rss >> 20,
                big >> 20);
        CHECK(r.max_rss > 0 && r.max_rss < big);
    }
    zm_arena_deinit(&ar);
    free(r.out);
}

/* ---------------------------------------------------------------------------
 * zmem mcp: clients that go away
 * ------------------------------------------------------------------------- */

static const char init_line[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
    "\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}\n";
static const char ping_line[] = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n";
static const char half_line[] = "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/li";

static void test_mcp_disconnect(void) {
    budget b;
    zm_arena ar;
    zm_arena_init(&ar, budget_init(&b, SIZE_MAX));
    zm_json *v[4];

    /* Two whole messages, then half of one, then the client is gone. */
    char in[1024];
    int len = snprintf(in, sizeof in, "%s%s%s", init_line, ping_line, half_line);
    child c;
    CHECK(spawn(&c, "mcp", NULL));
    result r;
    converse(&c, in, (size_t)len, true, false, &r);
    CHECK(exited_zero(&r));
    CHECK_EQ(response_lines(&r, &ar, v, 4), 2);
    if (r.out_len > 0) {
        CHECK(zm_json_int(zm_json_get(v[0], "id")) == 1);
        CHECK(zm_json_get(v[0], "result") != NULL);
        CHECK(zm_json_int(zm_json_get(v[1], "id")) == 2);
    }
    free(r.out);

    /* Half a message and nothing else: no output at all. */
    CHECK(spawn(&c, "mcp", NULL));
    converse(&c, half_line, strlen(half_line), true, false, &r);
    CHECK(exited_zero(&r));
    CHECK_EQ(r.out_len, 0);
    free(r.out);

    /* A long message cut off in the middle. */
    size_t big = (size_t)1 << 20;
    char *long_msg = malloc(big);
    const char *start = "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{"
                        "\"name\":\"store\",\"arguments\":{\"key\":\"k\",\"value\":\"";
    memset(long_msg, 'y', big);
    memcpy(long_msg, start, strlen(start));
    CHECK(spawn(&c, "mcp", NULL));
    converse(&c, long_msg, big, true, false, &r);
    free(long_msg);
    CHECK(exited_zero(&r));
    CHECK_EQ(r.out_len, 0);
    free(r.out);

    /* A client that stops reading before the answer: the server's write fails
       (EPIPE, not a fatal SIGPIPE) and it still ends cleanly. */
    len = snprintf(in, sizeof in, "%s%s", init_line, ping_line);
    CHECK(spawn(&c, "mcp", NULL));
    converse(&c, in, (size_t)len, true, true, &r);
    CHECK(exited_zero(&r));
    free(r.out);

    zm_arena_deinit(&ar);
    CHECK_EQ(b.live, 0);
}

int main(int argc, char **argv) {
    /* zmem mcp keeps its memory under $XDG_DATA_HOME: a folder of the test's. */
    char data_home[] = "/tmp/zmem-test-data-XXXXXX";
    if (mkdtemp(data_home) == NULL) return 1;
    setenv("XDG_DATA_HOME", data_home, 1);
    if (argc < 2) {
        fprintf(stderr, "usage: test_bad_cli PATH-TO-ZMEM\n");
        return 2;
    }
    zmem_path = argv[1];
    if (realpath(zmem_path, zmem_real) == NULL) {
        fprintf(stderr, "cannot find %s\n", zmem_path);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    RUN(test_run_long_line);
    RUN(test_mcp_disconnect);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", data_home);
    if (system(rm) != 0) fprintf(stderr, "could not remove %s\n", data_home);
    return zt_finish("bad_cli");
}
