/* Side-by-side JSON benchmarks: zmem against cJSON, jansson, json-c,
 * RapidJSON and simdjson (DOM, parse only), in one run, on every .json file
 * of a directory.
 *
 *   bench_json DIR [FILE...] [--files-only]
 *
 * (the .json files of DIR, then each FILE given, such as the mesh-like file
 * that bench/gen_mesh.py writes at benchmark time)
 *
 * For each file and library: parse MB/s (parse the whole text into the
 * library's tree and free it) and write MB/s (serialise a tree parsed before
 * the timing, compactly, and free the text). Both are input bytes per second,
 * so that the libraries are compared on the same amount of JSON. Each figure
 * is the median of ZMEM_BENCH_REPS repetitions (default 9) of a batch of runs
 * lasting at least ZMEM_BENCH_MIN_MS milliseconds (default 10), timed in CPU
 * time of the benchmark's thread so that other load on the machine does not
 * count.
 *
 * Then (unless --files-only) the template target: a response of about 1 KB
 * with five placeholders,
 * built by zm_template_instantiate into an arena reset before each run,
 * against zm_json_parse_arena of the same filled-in text into the same kind of
 * arena. Both produce a tree in the caller's arena; neither writes text. The
 * same two with the text written out are shown for information.
 *
 * A peer that was not found at build time is skipped with a note. Nothing
 * here fails on time: the exit status is 0 unless a library misparses a file
 * or the data cannot be read.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef ZB_PEERS_ONLY
#include "zmem.h"
#endif

#include "bench_peers.h"

/* ---------------------------------------------------------------------------
 * Timing
 * ------------------------------------------------------------------------- */

static int reps = 9;
static double min_batch = 0.010; /* seconds */

/* The CPU time of this thread: what the work cost, not counting the time the
   machine gave to other processes (benchmarks often share a machine). */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One unit of work; returns 0 when it went well. */
typedef int (*op_fn)(void *arg);

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median seconds one call of fn takes, or -1 when fn failed. */
static double time_op(op_fn fn, void *arg) {
    if (fn(arg) != 0) return -1; /* warm-up, and a check that it works */
    size_t n = 1;
    for (;;) {
        double t0 = now();
        for (size_t i = 0; i < n; i++)
            if (fn(arg) != 0) return -1;
        double t = now() - t0;
        if (t >= min_batch || n >= ((size_t)1 << 30)) break;
        size_t next = t > 0 ? (size_t)((double)n * min_batch * 1.2 / t) : n * 16;
        n = next > n * 16 ? n * 16 : next > n ? next : n * 2;
    }
    double *times = malloc(sizeof(double) * (size_t)reps);
    if (times == NULL) return -1;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) fn(arg);
        times[r] = (now() - t0) / (double)n;
    }
    qsort(times, (size_t)reps, sizeof(double), cmp_double);
    double median = times[reps / 2];
    free(times);
    return median;
}

static double mbps(size_t bytes, double seconds) {
    return seconds > 0 ? (double)bytes / seconds / 1e6 : -1;
}

/* ---------------------------------------------------------------------------
 * The libraries
 * ------------------------------------------------------------------------- */

typedef struct input {
    const char *text;
    size_t len;
} input;

enum {
    LIB_ZMEM,
    LIB_CJSON,
    LIB_CJSON_LIBC,
    LIB_JANSSON,
    LIB_JSONC,
    LIB_RAPIDJSON,
    LIB_SIMDJSON,
    LIB_COUNT
};
static const char *const lib_names[LIB_COUNT] = {"zmem",   "cJSON",     "cJSON/libc", "jansson",
                                                 "json-c", "RapidJSON", "simdjson"};

#ifndef ZB_PEERS_ONLY
/* zmem */
typedef struct zmem_state {
    input in;
    zm_allocator a;
    zm_json_doc *doc;
} zmem_state;

static int zmem_parse(void *arg) {
    zmem_state *s = arg;
    zm_json_doc *doc;
    if (zm_json_parse(s->a, s->in.text, s->in.len, NULL, &doc, NULL) != ZM_OK) return 1;
    zm_json_doc_free(doc);
    return 0;
}

static int zmem_write(void *arg) {
    zmem_state *s = arg;
    char *out;
    size_t len;
    if (zm_json_write(s->a, zm_json_doc_root(s->doc), 0, &out, &len) != ZM_OK) return 1;
    zm_free(s->a, out, len + 1, 1);
    return 0;
}
#endif

/* A peer: its functions, or NULL ones when it was not found at build time. */
typedef struct peer {
    void *(*make)(const char *text, size_t len);
    int (*parse)(void *state);
    int (*write)(void *state);
    void (*destroy)(void *state);
} peer;

#define PEER(p)                                                                                    \
    { zb_##p##_new, zb_##p##_parse, zb_##p##_write, zb_##p##_free }
#define NO_PEER                                                                                    \
    { NULL, NULL, NULL, NULL }

#ifdef ZB_HAVE_CJSON
/* cJSON on glibc's own malloc, as it runs in a program that does not replace
   malloc (parse only: its print would lose realloc, see bench_peers.h). */
static int cjson_libc_parse(void *state) {
    zb_cjson_use_libc_malloc(true);
    int r = zb_cjson_parse(state);
    zb_cjson_use_libc_malloc(false);
    return r;
}
#endif

static const peer peers[LIB_COUNT] = {
    NO_PEER, /* zmem is measured directly */
#ifdef ZB_HAVE_CJSON
    PEER(cjson),
    {zb_cjson_new, cjson_libc_parse, NULL, zb_cjson_free}, /* parse only */
#else
    NO_PEER, NO_PEER,
#endif
#ifdef ZB_HAVE_JANSSON
    PEER(jansson),
#else
    NO_PEER,
#endif
#ifdef ZB_HAVE_JSONC
    PEER(jsonc),
#else
    NO_PEER,
#endif
#ifdef ZB_HAVE_RAPIDJSON
    PEER(rapidjson),
#else
    NO_PEER,
#endif
#ifdef ZB_HAVE_SIMDJSON
    {zb_simdjson_new, zb_simdjson_parse, NULL, zb_simdjson_free}, /* parse only */
#else
    NO_PEER,
#endif
};

/* Parse and write MB/s of one library on one input; -1 when not measured. */
typedef struct result {
    double parse, write;
} result;

/* Whether malloc is replaced in this process (then cJSON/libc differs from
   cJSON; otherwise it is the same and not measured twice). */
static bool interposed;

static bool lib_present(int lib) {
    if (lib == LIB_CJSON_LIBC && !interposed) return false;
    return lib == LIB_ZMEM || peers[lib].make != NULL;
}

/* Measures lib on in. Returns 0, or 1 when the library failed on it. */
static int bench_lib(int lib, input in, result *r) {
    r->parse = r->write = -1;
#ifndef ZB_PEERS_ONLY
    if (lib == LIB_ZMEM) {
        zmem_state s = {in, zm_default_allocator(), NULL};
        zm_json_error err;
        if (zm_json_parse(s.a, in.text, in.len, NULL, &s.doc, &err) != ZM_OK) {
            fprintf(stderr, "zmem: %zu:%zu: %s\n", err.line, err.column, err.message);
            return 1;
        }
        r->parse = mbps(in.len, time_op(zmem_parse, &s));
        r->write = mbps(in.len, time_op(zmem_write, &s));
        zm_json_doc_free(s.doc);
        return r->parse < 0 || r->write < 0;
    }
#endif
    const peer *p = &peers[lib];
    if (p->make == NULL) return 0;
    void *state = p->make(in.text, in.len);
    if (state == NULL) return 1;
    r->parse = mbps(in.len, time_op(p->parse, state));
    if (p->write) r->write = mbps(in.len, time_op(p->write, state));
    p->destroy(state);
    return r->parse < 0;
}

#ifndef ZB_PEERS_ONLY
/* ---------------------------------------------------------------------------
 * The template target
 * ------------------------------------------------------------------------- */

/* A typical response of about 1 KB with five placeholders. */
static const char response_template[] =
    "{\"jsonrpc\":\"2.0\",\"id\":\"{{request_id}}\",\"result\":{\"status\":\"ok\","
    "\"service\":{\"name\":\"memory\",\"version\":\"1.4.2\",\"region\":\"eu-west-1\","
    "\"features\":[\"store\",\"retrieve\",\"search\",\"link\",\"transform\"],"
    "\"limits\":{\"max_items\":1000,\"max_depth\":64,\"max_bytes\":1048576,"
    "\"rate\":{\"per_second\":50,\"burst\":200}}},"
    "\"agent\":\"{{agent}}\",\"timestamp\":\"{{timestamp}}\","
    "\"data\":{\"items\":\"{{items}}\",\"total\":\"{{total}}\",\"page\":{\"size\":20,"
    "\"cursor\":null,\"has_more\":false}},"
    "\"schema\":{\"type\":\"object\",\"required\":[\"key\",\"value\"],\"properties\":{"
    "\"key\":{\"type\":\"string\",\"description\":\"The key the value is stored under\"},"
    "\"value\":{\"description\":\"Any JSON value\"},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}},"
    "\"links\":[{\"rel\":\"self\",\"href\":\"/v1/memory/search\"},"
    "{\"rel\":\"next\",\"href\":\"/v1/memory/search?page=2\"},"
    "{\"rel\":\"docs\",\"href\":\"https://example.org/docs/memory#search\"}],"
    "\"notice\":\"Results are ordered by relevance, then by the time they were stored.\"}}";

static const char response_bindings[] =
    "{\"request_id\":\"req-7f3a9c21\",\"agent\":\"agent-42\","
    "\"timestamp\":\"2024-05-01T12:34:56.789Z\",\"total\":3,"
    "\"items\":[{\"key\":\"a\",\"value\":1},{\"key\":\"b\",\"value\":[true,null]},"
    "{\"key\":\"c\",\"value\":\"text\"}]}";

typedef struct tmpl_state {
    zm_template_cache *tc;
    const zm_json *bindings;
    zm_arena ar;
    const char *filled;
    size_t filled_len;
} tmpl_state;

static int tmpl_instantiate(void *arg) {
    tmpl_state *s = arg;
    zm_arena_reset(&s->ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    zm_json *v;
    return zm_template_instantiate(s->tc, "response", s->bindings, &s->ar, &v, NULL) != ZM_OK;
}

static int tmpl_parse(void *arg) {
    tmpl_state *s = arg;
    zm_arena_reset(&s->ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    zm_json *v;
    return zm_json_parse_arena(&s->ar, s->filled, s->filled_len, NULL, &v, NULL) != ZM_OK;
}

static int write_into_arena(tmpl_state *s, const zm_json *v) {
    char *out;
    size_t len;
    return zm_json_write(zm_arena_allocator(&s->ar), v, 0, &out, &len) != ZM_OK;
}

static int tmpl_instantiate_write(void *arg) {
    tmpl_state *s = arg;
    zm_arena_reset(&s->ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    zm_json *v;
    if (zm_template_instantiate(s->tc, "response", s->bindings, &s->ar, &v, NULL) != ZM_OK)
        return 1;
    return write_into_arena(s, v);
}

static int tmpl_parse_write(void *arg) {
    tmpl_state *s = arg;
    zm_arena_reset(&s->ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    zm_json *v;
    if (zm_json_parse_arena(&s->ar, s->filled, s->filled_len, NULL, &v, NULL) != ZM_OK) return 1;
    return write_into_arena(s, v);
}

/* Runs the template target; returns the speed-up of instantiate over parse,
   or -1 when it could not be measured. */
static double bench_template(void) {
    zm_allocator a = zm_default_allocator();
    tmpl_state s;
    memset(&s, 0, sizeof s);
    zm_arena_init(&s.ar, a);
    zm_json_doc *bdoc = NULL;
    char *filled = NULL;
    size_t filled_len = 0;
    double speedup = -1;
    zm_json_error err;
    if (zm_template_cache_create(a, 0, &s.tc) != ZM_OK ||
        zm_template_put(s.tc, "response", response_template, sizeof response_template - 1, &err) !=
            ZM_OK ||
        zm_json_parse(a, response_bindings, sizeof response_bindings - 1, NULL, &bdoc, &err) !=
            ZM_OK) {
        fprintf(stderr, "template set-up failed: %s\n", err.message);
        goto out;
    }
    s.bindings = zm_json_doc_root(bdoc);
    zm_json *v;
    if (zm_template_instantiate(s.tc, "response", s.bindings, &s.ar, &v, &err) != ZM_OK ||
        zm_json_write(a, v, 0, &filled, &filled_len) != ZM_OK) {
        fprintf(stderr, "template instantiate failed: %s\n", err.message);
        goto out;
    }
    s.filled = filled;
    s.filled_len = filled_len;

    double t_inst = time_op(tmpl_instantiate, &s);
    double t_parse = time_op(tmpl_parse, &s);
    double t_inst_w = time_op(tmpl_instantiate_write, &s);
    double t_parse_w = time_op(tmpl_parse_write, &s);
    printf("\nTemplate: a %zu-byte response with 5 placeholders, into an arena reset each time\n",
           filled_len);
    printf("  %-44s %10.0f ns\n", "instantiate (the target)", t_inst * 1e9);
    printf("  %-44s %10.0f ns\n", "zm_json_parse_arena of the same text", t_parse * 1e9);
    printf("  %-44s %10.0f ns\n", "instantiate + write (for information)", t_inst_w * 1e9);
    printf("  %-44s %10.0f ns\n", "parse + write (for information)", t_parse_w * 1e9);
    if (t_inst > 0 && t_parse > 0) speedup = t_parse / t_inst;
    if (t_inst_w > 0 && t_parse_w > 0)
        printf("  instantiate+write vs parse+write: %.1fx\n", t_parse_w / t_inst_w);
out:
    zm_arena_deinit(&s.ar); /* unpins before the cache goes */
    if (filled) zm_free(a, filled, filled_len + 1, 1);
    zm_json_doc_free(bdoc);
    zm_template_cache_destroy(s.tc);
    return speedup;
}
#endif

/* ---------------------------------------------------------------------------
 * Files and the report
 * ------------------------------------------------------------------------- */

typedef struct file_result {
    char name[64];
    size_t size;
    result r[LIB_COUNT];
} file_result;

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            char *nb = realloc(buf, cap + 1);
            if (nb == NULL) break;
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    bool ok = !ferror(f) && buf != NULL;
    fclose(f);
    if (!ok) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The name a file is reported by: its base name without ".json". */
static void report_name(const char *path, char *name, size_t size) {
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t blen = strlen(base);
    if (blen > 5 && strcmp(base + blen - 5, ".json") == 0) blen -= 5;
    snprintf(name, size, "%.*s", (int)blen, base);
}

#ifdef ZB_PEERS_ONLY
/* bench_json_peers FILE...: the peers alone, in a program that links neither
   zmem nor mimalloc, so each runs on its own default allocator (glibc's
   malloc, or what it uses on top of it); bench_json runs it as a child and
   reads its lines: "malloc replaced|glibc", then "NAME LIB PARSE WRITE" a
   file and peer (LIB: the index in lib_names, -1 where not measured). */
int main(int argc, char **argv) {
    const char *env = getenv("ZMEM_BENCH_REPS");
    if (env && atoi(env) > 0) reps = atoi(env);
    env = getenv("ZMEM_BENCH_MIN_MS");
    if (env && atoi(env) > 0) min_batch = atoi(env) / 1000.0;
#ifdef ZB_HAVE_CJSON
    printf("malloc %s\n", zb_malloc_interposed() ? "replaced" : "glibc");
#else
    printf("malloc unknown\n");
#endif
    int status = 0;
    for (int k = 1; k < argc; k++) {
        size_t len;
        char *text = read_file(argv[k], &len), name[64];
        if (text == NULL) {
            fprintf(stderr, "bench_json_peers: cannot read %s\n", argv[k]);
            status = 1;
            continue;
        }
        report_name(argv[k], name, sizeof name);
        for (int lib = 1; lib < LIB_COUNT; lib++) {
            if (lib == LIB_CJSON_LIBC || !lib_present(lib)) continue;
            result r;
            if (bench_lib(lib, (input){text, len}, &r) != 0) {
                fprintf(stderr, "bench_json_peers: %s failed on %s\n", lib_names[lib], argv[k]);
                status = 1;
            }
            printf("%s %d %.3f %.3f\n", name, lib, r.parse, r.write);
        }
        free(text);
    }
    return status;
}
#else
static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_cell(double v) {
    if (v < 0)
        printf(" %10s", "-");
    else
        printf(" %10.1f", v);
}

static double ratio(double a, double b) {
    return a > 0 && b > 0 ? a / b : -1;
}

static void print_ratio(double q) {
    if (q < 0)
        printf(" %9s", "-");
    else
        printf(" %8.2fx", q);
}

static const file_result *find_file(const file_result *fr, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(fr[i].name, name) == 0) return &fr[i];
    return NULL;
}

/* Prints one ratio line against its target; other, when >= 0, is the same
   ratio against the other build of the peer, for information. */
static void print_target(const char *what, double ratio, double target, double other) {
    if (ratio < 0) {
        printf("  %-34s %8s   target >= %4.1fx   not measured\n", what, "-", target);
        return;
    }
    printf("  %-34s %7.2fx   target >= %4.1fx   %-6s", what, ratio, target,
           ratio >= target ? "met" : "MISSED");
    if (other >= 0) printf(" (%.2fx)", other);
    printf("\n");
}

/* Whether lib has a column in the parse (pass 0) or write (pass 1) table. */
static bool column_shown(int lib, int pass) {
    if (lib == LIB_CJSON_LIBC) return pass == 0 && interposed;
    return pass == 0 || lib != LIB_SIMDJSON;
}

/* Runs bench_json_peers (built beside this program; see its main) on the
   nfr files at paths (those of fr) and fills peers' figures into libc[], by file name; the
   figures stay -1 where it is missing or fails. Returns whether it ran on
   glibc's malloc. */
static bool run_peers_libc(char **paths, const file_result *fr, size_t nfr, file_result *libc) {
    for (size_t i = 0; i < nfr; i++) {
        libc[i] = fr[i];
        for (int lib = 0; lib < LIB_COUNT; lib++) libc[i].r[lib].parse = libc[i].r[lib].write = -1;
    }
    char exe[4096];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 64);
    if (el <= 0) return false;
    exe[el] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL) return false;
    strcpy(slash + 1, "bench_json_peers");
    if (access(exe, X_OK) != 0) return false;
    size_t cap = strlen(exe) + 16;
    for (size_t i = 0; i < nfr; i++) cap += strlen(paths[i]) + 4;
    char *cmd = malloc(cap);
    if (cmd == NULL) return false;
    size_t at = (size_t)snprintf(cmd, cap, "'%s'", exe);
    for (size_t i = 0; i < nfr; i++) {
        if (strchr(paths[i], '\'') != NULL) continue; /* not quoted here: skipped */
        at += (size_t)snprintf(cmd + at, cap - at, " '%s'", paths[i]);
    }
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    free(cmd);
    if (p == NULL) return false;
    char line[256], name[64];
    bool glibc = false;
    if (fgets(line, sizeof line, p) != NULL) glibc = strcmp(line, "malloc glibc\n") == 0;
    while (fgets(line, sizeof line, p) != NULL) {
        int lib;
        double parse, write;
        if (sscanf(line, "%63s %d %lf %lf", name, &lib, &parse, &write) != 4 || lib <= 0 ||
            lib >= LIB_COUNT)
            continue;
        for (size_t i = 0; i < nfr; i++) {
            if (strcmp(libc[i].name, name) == 0) {
                libc[i].r[lib].parse = parse;
                libc[i].r[lib].write = write;
            }
        }
    }
    pclose(p);
    return glibc;
}

int main(int argc, char **argv) {
    bool files_only = argc >= 3 && strcmp(argv[argc - 1], "--files-only") == 0;
    int nextra = argc - 2 - files_only; /* FILE arguments after DIR */
    if (argc < 2 || nextra < 0) {
        fprintf(stderr,
                "usage: %s DIR [FILE...] [--files-only]   (a directory of .json files and more "
                "files; --files-only: no template benchmark and no targets)\n",
                argv[0]);
        return 2;
    }
    const char *env = getenv("ZMEM_BENCH_REPS");
    if (env && atoi(env) > 0) reps = atoi(env);
    env = getenv("ZMEM_BENCH_MIN_MS");
    if (env && atoi(env) > 0) min_batch = atoi(env) / 1000.0;

    DIR *d = opendir(argv[1]);
    if (d == NULL) {
        fprintf(stderr, "bench_json: cannot open %s; skipping the file benchmarks\n", argv[1]);
    }
    char *names[256];
    size_t nnames = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && nnames < 256) {
        size_t l = strlen(e->d_name);
        if (l > 5 && l < 64 && strcmp(e->d_name + l - 5, ".json") == 0)
            names[nnames++] = strdup(e->d_name);
    }
    if (d) closedir(d);
    qsort(names, nnames, sizeof *names, cmp_str);
    size_t ndir = nnames;
    for (int k = 0; k < nextra && nnames < 256; k++) names[nnames++] = strdup(argv[2 + k]);

    printf("zmem JSON benchmark: %d repetitions of >= %.0f ms of thread CPU time each, median; "
           "MB/s of input bytes\nzmem allocator: %s\n",
           reps, min_batch * 1000, zm_default_allocator_name());
#ifdef ZB_HAVE_CJSON
    interposed = zb_malloc_interposed();
    if (interposed)
        printf("malloc: replaced in this process by a linked library (Debian's libmimalloc.so "
               "does so), so the peers run on it too; cJSON/libc is cJSON on glibc's own "
               "malloc, as in a program that does not replace it\n");
#endif
    for (int lib = 1; lib < LIB_COUNT; lib++)
        if (!lib_present(lib) && lib != LIB_CJSON_LIBC)
            printf("note: %s was not found at build time; skipped\n", lib_names[lib]);
#ifdef ZB_HAVE_SIMDJSON
    printf("simdjson kernel: %s\n", zb_simdjson_implementation());
#endif

    int status = 0;
    file_result *fr = calloc(nnames ? nnames : 1, sizeof *fr);
    size_t nfr = 0;
    char *paths[256] = {0};
    for (size_t i = 0; i < nnames && fr; i++) {
        char path[4096];
        if (i < ndir)
            snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
        else
            snprintf(path, sizeof path, "%s", names[i]);
        size_t len;
        char *text = read_file(path, &len);
        if (text == NULL) {
            fprintf(stderr, "bench_json: cannot read %s\n", path);
            status = 1;
            continue;
        }
        paths[nfr] = strdup(path);
        file_result *f = &fr[nfr++];
        report_name(path, f->name, sizeof f->name);
        f->size = len;
        for (int lib = 0; lib < LIB_COUNT; lib++) {
            if (!lib_present(lib)) {
                f->r[lib].parse = f->r[lib].write = -1;
                continue;
            }
            if (bench_lib(lib, (input){text, len}, &f->r[lib]) != 0) {
                fprintf(stderr, "bench_json: %s failed on %s\n", lib_names[lib], names[i]);
                status = 1;
            }
        }
        free(text);
    }

    for (int pass = 0; pass < 2; pass++) {
        printf("\n%s MB/s\n%-14s %8s", pass ? "Write (compact)" : "Parse", "file", "KB");
        for (int lib = 0; lib < LIB_COUNT; lib++)
            if (column_shown(lib, pass)) printf(" %10s", lib_names[lib]);
        printf(" %9s", "z/cJSON");
        if (pass == 0 && interposed) printf(" %10s", "z/cJ-libc");
        if (pass == 0) printf(" %9s", "z/simd");
        if (pass == 1) printf(" %9s %9s", "z/RapidJ", "RapidJ/cJ");
        printf("\n");
        for (size_t i = 0; i < nfr; i++) {
            printf("%-14s %8.1f", fr[i].name, fr[i].size / 1024.0);
            for (int lib = 0; lib < LIB_COUNT; lib++)
                if (column_shown(lib, pass))
                    print_cell(pass ? fr[i].r[lib].write : fr[i].r[lib].parse);
            const result *r = fr[i].r;
            print_ratio(pass ? ratio(r[LIB_ZMEM].write, r[LIB_CJSON].write)
                             : ratio(r[LIB_ZMEM].parse, r[LIB_CJSON].parse));
            if (pass == 0 && interposed) {
                printf(" ");
                print_ratio(ratio(r[LIB_ZMEM].parse, r[LIB_CJSON_LIBC].parse));
            }
            if (pass == 0) print_ratio(ratio(r[LIB_ZMEM].parse, r[LIB_SIMDJSON].parse));
            if (pass == 1) {
                print_ratio(ratio(r[LIB_ZMEM].write, r[LIB_RAPIDJSON].write));
                print_ratio(ratio(r[LIB_RAPIDJSON].write, r[LIB_CJSON].write));
            }
            printf("\n");
        }
    }

    /* The peers again, each on its own default allocator (see
       run_peers_libc), with zmem's figures of the run above. */
    file_result *libc = calloc(nfr ? nfr : 1, sizeof *libc);
    bool have_libc = libc && run_peers_libc(paths, fr, nfr, libc);
    if (!have_libc) {
        printf("\nbench_json_peers (the peers on their own default allocator) was not found "
               "beside this program, or did not run on glibc's malloc; not measured\n");
    } else {
        printf("\nThe peers on their own default allocator (glibc's malloc: bench_json_peers, a "
               "child process that links neither zmem nor mimalloc, run after the tables above); "
               "zmem as above\n");
        static const int shown[] = {LIB_CJSON, LIB_JANSSON, LIB_JSONC, LIB_RAPIDJSON, LIB_SIMDJSON};
        for (int pass = 0; pass < 2; pass++) {
            printf("\n%s MB/s, peers on glibc\n%-14s %8s", pass ? "Write (compact)" : "Parse",
                   "file", "KB");
            for (size_t k = 0; k < sizeof shown / sizeof shown[0]; k++)
                if (column_shown(shown[k], pass)) printf(" %10s", lib_names[shown[k]]);
            printf(" %9s %9s\n", "z/RapidJ", pass ? "z/json-c" : "z/simd");
            for (size_t i = 0; i < nfr; i++) {
                printf("%-14s %8.1f", libc[i].name, libc[i].size / 1024.0);
                const result *r = libc[i].r, *z = &fr[i].r[LIB_ZMEM];
                for (size_t k = 0; k < sizeof shown / sizeof shown[0]; k++)
                    if (column_shown(shown[k], pass))
                        print_cell(pass ? r[shown[k]].write : r[shown[k]].parse);
                if (pass == 0) {
                    print_ratio(ratio(z->parse, r[LIB_RAPIDJSON].parse));
                    print_ratio(ratio(z->parse, r[LIB_SIMDJSON].parse));
                } else {
                    print_ratio(ratio(z->write, r[LIB_RAPIDJSON].write));
                    print_ratio(ratio(z->write, r[LIB_JSONC].write));
                }
                printf("\n");
            }
        }
    }

    if (files_only) {
        for (size_t i = 0; i < nnames; i++) free(names[i]);
        for (size_t i = 0; i < nfr; i++) free(paths[i]);
        free(libc);
        free(fr);
        return status;
    }

    double speedup = bench_template();

    /* The parse targets are against cJSON as a program that links it gets
       it: on the C library's malloc. */
    const int base = interposed ? LIB_CJSON_LIBC : LIB_CJSON;
    printf("\nTargets (issue 4)%s\n",
           interposed ? "; parse against cJSON on glibc's malloc (cJSON/libc), the figure "
                        "against cJSON on the process's malloc in brackets"
                      : "");
    static const char *const parse_files[] = {"twitter", "citm_catalog", "canada"};
    static const double parse_targets[] = {5.0, 5.0, 3.0};
    for (size_t k = 0; k < 3; k++) {
        const file_result *f = find_file(fr, nfr, parse_files[k]);
        char what[96];
        snprintf(what, sizeof what, "parse zmem/cJSON, %s", parse_files[k]);
        print_target(what, f ? ratio(f->r[LIB_ZMEM].parse, f->r[base].parse) : -1, parse_targets[k],
                     f && interposed ? ratio(f->r[LIB_ZMEM].parse, f->r[LIB_CJSON].parse) : -1);
        if (k == 2) break;
        snprintf(what, sizeof what, "parse zmem/simdjson, %s", parse_files[k]);
        print_target(what, f ? ratio(f->r[LIB_ZMEM].parse, f->r[LIB_SIMDJSON].parse) : -1, 0.6, -1);
    }
    for (size_t i = 0; i < nfr; i++) {
        char what[96];
        snprintf(what, sizeof what, "write zmem/cJSON, %s", fr[i].name);
        print_target(what, ratio(fr[i].r[LIB_ZMEM].write, fr[i].r[LIB_CJSON].write), 10.0, -1);
    }
    print_target("template instantiate vs parse", speedup, 10.0, -1);

    /* Issue 14: number-heavy parsing against RapidJSON and simdjson, writing
       against RapidJSON everywhere and against json-c (which writes back each
       number's original text) on the number-heavy files. */
    printf("\nTargets (issue 14)%s\n", have_libc ? "; in brackets, against the peer on glibc's "
                                                   "malloc (bench_json_peers)"
                                                 : "");
    static const char *const num_files[] = {"canada", "numbers", "mesh"};
    for (size_t k = 0; k < 3; k++) {
        const file_result *f = find_file(fr, nfr, num_files[k]);
        char what[96];
        snprintf(what, sizeof what, "parse zmem/RapidJSON, %s", num_files[k]);
        const file_result *g = have_libc && f ? &libc[f - fr] : NULL;
        print_target(what, f ? ratio(f->r[LIB_ZMEM].parse, f->r[LIB_RAPIDJSON].parse) : -1, 1.6,
                     g ? ratio(f->r[LIB_ZMEM].parse, g->r[LIB_RAPIDJSON].parse) : -1);
        snprintf(what, sizeof what, "parse zmem/simdjson, %s", num_files[k]);
        print_target(what, f ? ratio(f->r[LIB_ZMEM].parse, f->r[LIB_SIMDJSON].parse) : -1, 0.6,
                     g ? ratio(f->r[LIB_ZMEM].parse, g->r[LIB_SIMDJSON].parse) : -1);
    }
    for (size_t i = 0; i < nfr; i++) {
        const char *nm = fr[i].name;
        bool four = strcmp(nm, "twitter") == 0 || strcmp(nm, "citm_catalog") == 0 ||
                    strcmp(nm, "github_events") == 0;
        char what[96];
        snprintf(what, sizeof what, "write zmem/RapidJSON, %s", nm);
        print_target(
            what, ratio(fr[i].r[LIB_ZMEM].write, fr[i].r[LIB_RAPIDJSON].write), four ? 4.0 : 3.0,
            have_libc ? ratio(fr[i].r[LIB_ZMEM].write, libc[i].r[LIB_RAPIDJSON].write) : -1);
    }
    for (size_t k = 0; k < 3; k++) {
        const file_result *f = find_file(fr, nfr, num_files[k]);
        char what[96];
        snprintf(what, sizeof what, "write zmem/json-c, %s", num_files[k]);
        const file_result *g = have_libc && f ? &libc[f - fr] : NULL;
        print_target(what, f ? ratio(f->r[LIB_ZMEM].write, f->r[LIB_JSONC].write) : -1, 1.0,
                     g ? ratio(f->r[LIB_ZMEM].write, g->r[LIB_JSONC].write) : -1);
    }

    for (size_t i = 0; i < nnames; i++) free(names[i]);
    for (size_t i = 0; i < nfr; i++) free(paths[i]);
    free(libc);
    free(fr);
    return status;
}
#endif
