/* zmem run [--stats[=json]] [--max-line BYTES] [--agent ID] [--session ID] [FILE|-] */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "env.h"
#include "lineio.h"
#include "run_cmd.h"

static const char usage[] =
    "usage: zmem run [--db PATH] [--sync normal|full] [--max-versions N] [--stats[=json]]\n"
    "                [--max-line BYTES] [--memory-limit BYTES] [--memory-warn BYTES]\n"
    "                [--memory-critical BYTES] [--agent ID] [--session ID] [FILE|-]\n"
    "  Reads one JSON request per line from FILE (or standard input) and writes one\n"
    "  response line per request to standard output.\n"
    "  --db PATH         the memory: an SQLite database file (created when missing),\n"
    "                    a PostgreSQL server (postgresql://... or \"host=... dbname=...\"),\n"
    "                    or :memory: (the default: gone at exit)\n" ZT_USAGE_SYNC_MEMORY
    "  --stats           write the memory report to standard error at exit: calls, and\n"
    "                    per component what it holds (--stats=json: as one JSON line,\n"
    "                    the memory primitive's answer)\n"
    "  --max-line BYTES  refuse longer request lines (default 16M; K, M, G suffixes)\n"
    "  --agent ID        the agent id recorded with what the calls write\n"
    "  --session ID      the session id recorded with what the calls write\n";

bool zt_parse_size(const char *s, size_t *out) {
    if (s == NULL || *s < '0' || *s > '9') return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0) return false;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10, end++;
    else if (*end == 'M' || *end == 'm')
        shift = 20, end++;
    else if (*end == 'G' || *end == 'g')
        shift = 30, end++;
    if (*end != '\0' || v == 0 || v > (SIZE_MAX >> shift)) return false;
    *out = (size_t)v << shift;
    return true;
}

static bool is_blank(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return false;
    return true;
}

void zt_sniff_id(const char *p, size_t n, char *out, size_t cap) {
    size_t i = 0;
    snprintf(out, cap, "null");
#define WS()                                                                                       \
    while (i < n && (p[i] == ' ' || p[i] == '\t')) i++
    WS();
    if (i >= n || p[i++] != '{') return;
    WS();
    if (n - i < 4 || memcmp(p + i, "\"id\"", 4) != 0) return;
    i += 4;
    WS();
    if (i >= n || p[i++] != ':') return;
    WS();
#undef WS
    size_t start = i;
    if (i < n && p[i] == '"') {
        for (i++; i < n && p[i] != '"'; i++)
            if (p[i] == '\\') i++;
        if (i >= n) return;
        i++;
    } else {
        while (i < n && (strchr("-+.eE0123456789", p[i]) != NULL || (p[i] >= 'a' && p[i] <= 'z')))
            i++;
    }
    size_t len = i - start;
    if (len == 0 || len >= cap || len > 256) return;
    /* Keep it only if it is one valid JSON value. */
    zm_json_doc *doc;
    if (zm_json_parse(zm_default_allocator(), p + start, len, NULL, &doc, NULL) != ZM_OK) return;
    zm_json_doc_free(doc);
    memcpy(out, p + start, len);
    out[len] = '\0';
}

/* Before a wait for input: the answers so far go out, and the store gives
   back what it holds between calls. */
typedef struct waiting {
    FILE *out;
    zm_store *store;
} waiting;

static void before_wait(void *arg) {
    waiting *w = arg;
    fflush(w->out);
    zm_store_idle(w->store);
}

int zt_run_stream(zm_prim_registry *reg, zm_prim_ctx *ctx, zm_store *store, int fd, FILE *out,
                  size_t max_line, zt_run_counts *counts) {
    zt_lines r;
    memset(counts, 0, sizeof *counts);
    if (!zt_lines_init(&r, zm_prim_longlived(ctx), fd, max_line)) {
        fprintf(stderr, "zmem run: out of memory\n");
        zt_env_explain_limit("zmem run");
        return 1;
    }
    waiting w = {out, store};
    r.before_wait = before_wait;
    r.before_wait_arg = &w;
    int rc = 0;
    for (;;) {
        const char *line;
        size_t len;
        zt_line_kind k = zt_lines_next(&r, &line, &len);
        if (k == ZT_LINE_EOF) break;
        if (k == ZT_LINE_ERROR) {
            fprintf(stderr, "zmem: reading input: %s\n", errno ? strerror(errno) : "out of memory");
            rc = 1;
            break;
        }
        if (k == ZT_LINE_TOO_LONG) {
            char id[260];
            zt_sniff_id(line, len, id, sizeof id);
            fprintf(out,
                    "{\"id\":%s,\"ok\":false,\"error\":{\"code\":\"limit_exceeded\",\"message\":"
                    "\"request line of %zu bytes is longer than the limit of %zu bytes "
                    "(--max-line)\"}}\n",
                    id, r.too_long_bytes, max_line);
            counts->requests++;
            counts->errors++;
            counts->too_long++;
        } else {
            if (is_blank(line, len)) continue;
            char *resp;
            size_t resp_len;
            zm_status st = zm_prim_call_json(reg, ctx, line, len, &resp, &resp_len);
            counts->requests++;
            if (st != ZM_OK) counts->errors++;
            fwrite(resp, 1, resp_len, out);
            putc('\n', out);
        }
        if (ferror(out)) break;
    }
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(stderr, "zmem: writing output: %s\n", strerror(errno));
        rc = 1;
    }
    zt_env_thresholds_off();
    zt_lines_deinit(&r);
    return rc;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int zt_parse_shared(int argc, char **argv, int *i, zt_common_opts *co, const char *prog,
                    const char *usage_text) {
    const char *a = argv[*i];
    int c = zt_parse_common(argc, argv, i, co, prog);
    if (c < 0) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (c > 0) return ZT_ARG_READ;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    return ZT_ARG_OTHER;
}

int zm_tool_run_main(int argc, char **argv) {
    zt_common_opts co = {ZT_DEFAULT_MAX_LINE, NULL, NULL, NULL, false, 0, 0, 0, 0, false, 0};
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int c = zt_parse_shared(argc, argv, &i, &co, "zmem run", usage);
        if (c == ZT_ARG_READ) continue;
        if (c != ZT_ARG_OTHER) return c;
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "zmem run: unknown option %s\n%s", a, usage);
            return 2;
        } else if (file != NULL) {
            fprintf(stderr, "zmem run: one input file at most\n%s", usage);
            return 2;
        } else {
            file = a;
        }
    }
    if (!zt_check_common(&co, "zmem run")) {
        fputs(usage, stderr);
        return 2;
    }
    bool stats = co.stats != ZT_STATS_NONE;
    size_t max_line = co.max_line;
    int fd = 0;
    if (file != NULL && strcmp(file, "-") != 0) {
        fd = open(file, O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "zmem run: %s: %s\n", file, strerror(errno));
            return 1;
        }
    }
    zt_env env;
    if (!zt_env_init(&env, "zmem run", &co)) {
        if (fd != 0) close(fd);
        return 1;
    }
    if (!zt_env_set_identity(&env, &co, "zmem run")) {
        zt_env_deinit(&env);
        if (fd != 0) close(fd);
        return 1;
    }
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    double t0 = now_s();
    zt_run_counts counts;
    int rc = zt_run_stream(env.reg, env.ctx, env.store, fd, stdout, max_line, &counts);
    double t1 = now_s();
    if (co.stats == ZT_STATS_JSON)
        zt_env_print_report(&env, stderr, "zmem run", ZT_STATS_JSON);
    else if (stats)
        zt_env_print_stats(&env, stderr, "zmem run", t1 - t0, counts.requests);
    zt_env_deinit(&env);
    if (fd != 0) close(fd);
    if (stats && counts.too_long)
        fprintf(stderr, "zmem run: %" PRIu64 " lines refused as too long\n", counts.too_long);
    return rc;
}
