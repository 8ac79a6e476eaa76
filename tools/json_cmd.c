/* zmem json: check, fmt and bench (see json_cmd.h). No main here: the zmem
 * program dispatches to zm_tool_json_main, and the tests call
 * zm_tool_json_run with streams of their own.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_cmd.h"
#include "zmem.h"

/* Exit statuses. */
enum { EXIT_VALID = 0, EXIT_INVALID = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: zmem json check FILE|-\n"
    "       zmem json fmt [--pretty] [--indent4] [--ascii] FILE|-\n"
    "       zmem json bench [--min-ms N] FILE...\n"
    "\n"
    "check  exits 0 when FILE is valid JSON (strict RFC 8259), 1 when it is not\n"
    "       (FILE:LINE:COL: message on stderr), 2 on a usage or I/O error.\n"
    "fmt    writes FILE back compactly, or indented with --pretty (2 spaces) or\n"
    "       --indent4 (4 spaces); --ascii escapes every non-ASCII character.\n"
    "bench  prints parse and write MB/s for each FILE.\n";

static int usage(FILE *err) {
    fputs(usage_text, err);
    return EXIT_USAGE;
}

/* ---------------------------------------------------------------------------
 * Input
 * ------------------------------------------------------------------------- */

/* A whole input in memory, and how to name it in messages. */
typedef struct text {
    char *ptr;
    size_t len, cap;
    const char *name;
} text;

/* Reads path ("-": in) whole. Returns 0, or EXIT_USAGE after a message. */
static int read_text(zm_allocator a, const char *path, FILE *in, FILE *err, text *t) {
    memset(t, 0, sizeof *t);
    bool is_stdin = strcmp(path, "-") == 0;
    t->name = is_stdin ? "<stdin>" : path;
    FILE *f = is_stdin ? in : fopen(path, "rb");
    if (f == NULL) {
        fprintf(err, "zmem json: %s: %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    int rc = 0;
    for (;;) {
        if (t->len == t->cap) {
            size_t ncap = t->cap ? t->cap * 2 : 1 << 16;
            char *p = ncap > t->cap ? zm_realloc(a, t->ptr, t->cap, ncap, 1) : NULL;
            if (p == NULL) {
                fprintf(err, "zmem json: %s: out of memory\n", t->name);
                rc = EXIT_USAGE;
                break;
            }
            t->ptr = p;
            t->cap = ncap;
        }
        size_t got = fread(t->ptr + t->len, 1, t->cap - t->len, f);
        t->len += got;
        if (got == 0) {
            if (ferror(f)) {
                fprintf(err, "zmem json: %s: %s\n", t->name, strerror(errno));
                rc = EXIT_USAGE;
            }
            break;
        }
    }
    if (!is_stdin) fclose(f);
    if (rc != 0) {
        zm_free(a, t->ptr, t->cap, 1);
        memset(t, 0, sizeof *t);
    }
    return rc;
}

static void text_free(zm_allocator a, text *t) {
    zm_free(a, t->ptr, t->cap, 1);
    t->ptr = NULL;
}

/* Parses t. Returns 0 with *doc set, EXIT_INVALID after FILE:LINE:COL:
   message, or EXIT_USAGE when memory ran out. */
static int parse_text(zm_allocator a, const text *t, FILE *err, zm_json_doc **doc) {
    zm_json_error e;
    zm_status st = zm_json_parse(a, t->ptr, t->len, NULL, doc, &e);
    if (st == ZM_OK) return 0;
    if (st == ZM_ENOMEM) {
        fprintf(err, "zmem json: %s: out of memory\n", t->name);
        return EXIT_USAGE;
    }
    fprintf(err, "%s:%zu:%zu: %s\n", t->name, e.line, e.column, e.message);
    return EXIT_INVALID;
}

/* ---------------------------------------------------------------------------
 * check and fmt
 * ------------------------------------------------------------------------- */

static int cmd_check(int argc, char **argv, FILE *in, FILE *err) {
    if (argc != 2) return usage(err);
    zm_allocator a = zm_default_allocator();
    text t;
    int rc = read_text(a, argv[1], in, err, &t);
    if (rc != 0) return rc;
    zm_json_doc *doc = NULL;
    rc = parse_text(a, &t, err, &doc);
    zm_json_doc_free(doc);
    text_free(a, &t);
    return rc;
}

static int cmd_fmt(int argc, char **argv, FILE *in, FILE *out, FILE *err) {
    uint32_t flags = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--pretty") == 0)
            flags |= ZM_JSON_WRITE_PRETTY;
        else if (strcmp(arg, "--indent4") == 0)
            flags |= ZM_JSON_WRITE_PRETTY | ZM_JSON_WRITE_INDENT4;
        else if (strcmp(arg, "--ascii") == 0)
            flags |= ZM_JSON_WRITE_ASCII;
        else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(err, "zmem json fmt: unknown option %s\n", arg);
            return usage(err);
        } else if (path != NULL)
            return usage(err);
        else
            path = arg;
    }
    if (path == NULL) return usage(err);

    zm_allocator a = zm_default_allocator();
    text t;
    int rc = read_text(a, path, in, err, &t);
    if (rc != 0) return rc;
    zm_json_doc *doc = NULL;
    rc = parse_text(a, &t, err, &doc);
    if (rc == 0) {
        zm_status st = zm_json_write_file(a, zm_json_doc_root(doc), flags, out);
        if (st == ZM_OK && (fputc('\n', out) == EOF || fflush(out) != 0)) st = ZM_EIO;
        if (st != ZM_OK) {
            fprintf(err, "zmem json fmt: writing: %s\n", zm_status_str(st));
            rc = EXIT_USAGE;
        }
    }
    zm_json_doc_free(doc);
    text_free(a, &t);
    return rc;
}

/* ---------------------------------------------------------------------------
 * bench
 * ------------------------------------------------------------------------- */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

#define BENCH_ROUNDS 5

/* Median seconds per parse (write == false) or per write of t over
   BENCH_ROUNDS rounds lasting about min_ms / BENCH_ROUNDS each. Returns -1 on
   failure. */
static double bench_one(zm_allocator a, const text *t, const zm_json *root, bool write,
                        double min_ms) {
    double round_s = min_ms / 1000.0 / BENCH_ROUNDS;
    double times[BENCH_ROUNDS];
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        size_t n = 0;
        double t0 = now(), el;
        do {
            if (write) {
                char *o;
                size_t olen;
                if (zm_json_write(a, root, 0, &o, &olen) != ZM_OK) return -1;
                zm_free(a, o, olen + 1, 1);
            } else {
                zm_json_doc *d;
                if (zm_json_parse(a, t->ptr, t->len, NULL, &d, NULL) != ZM_OK) return -1;
                zm_json_doc_free(d);
            }
            n++;
            el = now() - t0;
        } while (el < round_s);
        times[r] = el / (double)n;
    }
    qsort(times, BENCH_ROUNDS, sizeof times[0], cmp_double);
    return times[BENCH_ROUNDS / 2];
}

static int cmd_bench(int argc, char **argv, FILE *in, FILE *out, FILE *err) {
    double min_ms = 1000;
    int first = 1;
    if (first < argc && strcmp(argv[first], "--min-ms") == 0) {
        char *end;
        if (first + 1 >= argc) return usage(err);
        min_ms = strtod(argv[first + 1], &end);
        if (*end != '\0' || !(min_ms > 0)) return usage(err);
        first += 2;
    }
    if (first >= argc) return usage(err);

    zm_allocator a = zm_default_allocator();
    int rc = 0;
    fprintf(out, "%-32s %12s %12s %12s\n", "file", "bytes", "parse MB/s", "write MB/s");
    for (int i = first; i < argc; i++) {
        text t;
        int frc = read_text(a, argv[i], in, err, &t);
        zm_json_doc *doc = NULL;
        if (frc == 0) frc = parse_text(a, &t, err, &doc);
        if (frc == 0) {
            double tp = bench_one(a, &t, NULL, false, min_ms);
            double tw = bench_one(a, &t, zm_json_doc_root(doc), true, min_ms);
            if (tp > 0 && tw > 0) {
                fprintf(out, "%-32s %12zu %12.1f %12.1f\n", t.name, t.len, (double)t.len / tp / 1e6,
                        (double)t.len / tw / 1e6);
            } else {
                fprintf(err, "zmem json bench: %s: out of memory\n", t.name);
                frc = EXIT_USAGE;
            }
        }
        zm_json_doc_free(doc);
        if (t.ptr) text_free(a, &t);
        if (frc > rc) rc = frc;
    }
    return rc;
}

/* ---------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------- */

int zm_tool_json_run(int argc, char **argv, FILE *in, FILE *out, FILE *err) {
    if (argc < 2) return usage(err);
    const char *cmd = argv[1];
    if (strcmp(cmd, "check") == 0) return cmd_check(argc - 1, argv + 1, in, err);
    if (strcmp(cmd, "fmt") == 0) return cmd_fmt(argc - 1, argv + 1, in, out, err);
    if (strcmp(cmd, "bench") == 0) return cmd_bench(argc - 1, argv + 1, in, out, err);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_text, out);
        return 0;
    }
    fprintf(err, "zmem json: unknown command %s\n", cmd);
    return usage(err);
}

int zm_tool_json_main(int argc, char **argv) {
    return zm_tool_json_run(argc, argv, stdin, stdout, stderr);
}
