/* zmem json: check, fmt and bench (see json_cmd.h). No main here: the zmem
 * program dispatches to zm_tool_json_main, and the tests call
 * zm_tool_json_run with streams of their own.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "json_cmd.h"
#include "zmem.h"

/* Exit statuses. */
enum { EXIT_VALID = 0, EXIT_INVALID = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: zmem json check [PARSE OPTIONS] [--] FILE|-\n"
    "       zmem json fmt [--pretty] [--indent4] [--ascii] [PARSE OPTIONS] [--] FILE|-\n"
    "       zmem json bench [--min-ms N] FILE...\n"
    "\n"
    "check  exits 0 when FILE is valid JSON (strict RFC 8259 unless a parse option\n"
    "       relaxes it), 1 when it is not (FILE:LINE:COL: message on stderr), 2 on a\n"
    "       usage or I/O error.\n"
    "fmt    writes FILE back compactly, or indented with --pretty (2 spaces) or\n"
    "       --indent4 (4 spaces); --ascii escapes every non-ASCII character.\n"
    "bench  prints parse and write MB/s for each FILE.\n"
    "\n"
    "parse options (check and fmt; the default is strict):\n"
    "  --dup error|first|last  a key repeated in an object is an error (the default),\n"
    "                          or the first or the last one wins\n"
    "  --comments              accept // and /* */ comments\n"
    "  --trailing-commas       accept a comma before ] or }\n"
    "  --nan                   accept NaN, Infinity and -Infinity (fmt writes them back)\n"
    "  --bom                   accept a UTF-8 byte order mark before the value\n"
    "  --lone-surrogates       accept an unpaired \\ud800-\\udfff escape in a string\n"
    "  --max-depth N           the nesting limit (default 512)\n"
    "  --numbers-as-text       keep every number as its text (fmt writes it as read)\n"
    "  --                      the next argument is the file, even when it starts with -\n"
    "  -h, --help              show this help\n";

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

/* Writes the note naming the flag that accepts what e refused. */
static void flag_note(const zm_json_error *e, const zm_json_parse_opts *opts, FILE *err) {
    switch (e->option) {
    case ZM_JSON_OPTION_COMMENTS: fputs(" (--comments accepts comments)", err); break;
    case ZM_JSON_OPTION_TRAILING_COMMAS: fputs(" (--trailing-commas accepts it)", err); break;
    case ZM_JSON_OPTION_NAN_INF: fputs(" (--nan accepts it)", err); break;
    case ZM_JSON_OPTION_BOM: fputs(" (--bom accepts it)", err); break;
    case ZM_JSON_OPTION_LONE_SURROGATES: fputs(" (--lone-surrogates accepts it)", err); break;
    case ZM_JSON_OPTION_DUP_KEYS: fputs(" (--dup first or --dup last accept them)", err); break;
    case ZM_JSON_OPTION_MAX_DEPTH:
        fprintf(err, " (--max-depth N with N above %u accepts it)",
                opts && opts->max_depth ? opts->max_depth : ZM_JSON_DEFAULT_MAX_DEPTH);
        break;
    case ZM_JSON_OPTION_NONE: break;
    }
}

/* Parses t as opts say (NULL: strict). Returns 0 with *doc set,
   EXIT_INVALID after FILE:LINE:COL: message (naming the flag that would
   accept the text, if one would), or EXIT_USAGE when memory ran out. */
static int parse_text(zm_allocator a, const text *t, const zm_json_parse_opts *opts, FILE *err,
                      zm_json_doc **doc) {
    zm_json_error e;
    zm_status st = zm_json_parse(a, t->ptr, t->len, opts, doc, &e);
    if (st == ZM_OK) return 0;
    if (st == ZM_ENOMEM) {
        fprintf(err, "zmem json: %s: out of memory\n", t->name);
        return EXIT_USAGE;
    }
    if (e.option == ZM_JSON_OPTION_NONE) {
        fprintf(err, "%s:%zu:%zu: %s\n", t->name, e.line, e.column, e.message);
    } else {
        /* the library's note names the C option: the flag's replaces it */
        fprintf(err, "%s:%zu:%zu: %.*s", t->name, e.line, e.column, (int)e.note_at, e.message);
        flag_note(&e, opts, err);
        fputc('\n', err);
    }
    return EXIT_INVALID;
}

/* ---------------------------------------------------------------------------
 * Arguments of check and fmt
 * ------------------------------------------------------------------------- */

/* The flags that set a bit of zm_json_parse_opts.flags. */
static const struct {
    const char *name;
    uint32_t flag;
} parse_flags[] = {
    {"--comments", ZM_JSON_ALLOW_COMMENTS},
    {"--trailing-commas", ZM_JSON_ALLOW_TRAILING_COMMAS},
    {"--nan", ZM_JSON_ALLOW_NAN_INF},
    {"--bom", ZM_JSON_ALLOW_BOM},
    {"--lone-surrogates", ZM_JSON_ALLOW_LONE_SURROGATES},
    {"--numbers-as-text", ZM_JSON_NUMBERS_AS_TEXT},
};

/* Reads a parse option at argv[*i] into o (advancing *i past its value).
   Returns 1 when it was one, 0 when it was not, -1 after saying on err
   (prefixed with prog) what is wrong with it. */
static int parse_option(int argc, char **argv, int *i, zm_json_parse_opts *o, const char *prog,
                        FILE *err) {
    const char *arg = argv[*i];
    for (size_t k = 0; k < sizeof parse_flags / sizeof parse_flags[0]; k++) {
        size_t n = strlen(parse_flags[k].name);
        if (strncmp(arg, parse_flags[k].name, n) != 0) continue;
        if (arg[n] == '=') {
            fprintf(err, "%s: %s takes no value\n", prog, parse_flags[k].name);
            return -1;
        }
        if (arg[n] != '\0') continue;
        o->flags |= parse_flags[k].flag;
        return 1;
    }
    bool m;
    const char *v = zt_option_value(argc, argv, i, "--dup", &m);
    if (m) {
        static const char *const modes[] = {"error", "first", "last"};
        static const zm_json_dup_mode mode_of[] = {ZM_JSON_DUP_ERROR, ZM_JSON_DUP_FIRST,
                                                   ZM_JSON_DUP_LAST};
        for (size_t k = 0; v != NULL && k < 3; k++) {
            if (strcmp(v, modes[k]) != 0) continue;
            o->dup_keys = mode_of[k];
            return 1;
        }
        if (v == NULL)
            fprintf(err, "%s: --dup needs error, first or last\n", prog);
        else
            fprintf(err, "%s: --dup needs error, first or last, not '%s'\n", prog, v);
        return -1;
    }
    v = zt_option_value(argc, argv, i, "--max-depth", &m);
    if (m) {
        char *end = NULL;
        unsigned long long d = 0;
        if (v != NULL && v[0] >= '0' && v[0] <= '9') {
            errno = 0;
            d = strtoull(v, &end, 10);
            if (errno != 0 || *end != '\0') d = 0;
        }
        if (d >= 1 && d <= UINT32_MAX) {
            o->max_depth = (uint32_t)d;
            return 1;
        }
        if (v == NULL)
            fprintf(err, "%s: --max-depth needs a number of levels (1 to %u)\n", prog,
                    (unsigned)UINT32_MAX);
        else
            fprintf(err, "%s: --max-depth needs a number of levels (1 to %u), not '%s'\n", prog,
                    (unsigned)UINT32_MAX, v);
        return -1;
    }
    return 0;
}

/* What check and fmt were asked to do. */
typedef struct cmd_args {
    zm_json_parse_opts opts;
    uint32_t write_flags; /* fmt only */
    const char *path;
} cmd_args;

enum { ARGS_OK = -1 };

/* Reads the arguments of check (fmt false) or fmt: options, then one FILE
   or -; "--" ends the options. Returns ARGS_OK, or the exit status after the
   help (on out) or a usage error (on err). */
static int parse_args(int argc, char **argv, bool fmt, cmd_args *c, FILE *out, FILE *err) {
    const char *prog = fmt ? "zmem json fmt" : "zmem json check";
    memset(c, 0, sizeof *c);
    bool options = true;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool is_option = options && arg[0] == '-' && arg[1] != '\0';
        if (is_option && strcmp(arg, "--") == 0) {
            options = false;
            continue;
        }
        if (is_option && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            fputs(usage_text, out);
            return EXIT_VALID;
        }
        int r = is_option ? parse_option(argc, argv, &i, &c->opts, prog, err) : 0;
        if (r < 0) return usage(err);
        if (r > 0) continue;
        if (is_option && fmt && strcmp(arg, "--pretty") == 0) {
            c->write_flags |= ZM_JSON_WRITE_PRETTY;
        } else if (is_option && fmt && strcmp(arg, "--indent4") == 0) {
            c->write_flags |= ZM_JSON_WRITE_PRETTY | ZM_JSON_WRITE_INDENT4;
        } else if (is_option && fmt && strcmp(arg, "--ascii") == 0) {
            c->write_flags |= ZM_JSON_WRITE_ASCII;
        } else if (is_option) {
            fprintf(err, "%s: unknown option %s\n", prog, arg);
            return usage(err);
        } else if (c->path != NULL) {
            fprintf(err, "%s: one FILE at most (%s after %s)\n", prog, arg, c->path);
            return usage(err);
        } else {
            c->path = arg;
        }
    }
    if (c->path == NULL) {
        fprintf(err, "%s: no FILE given (- reads standard input)\n", prog);
        return usage(err);
    }
    /* NaN and Infinity read in are written back */
    if (c->opts.flags & ZM_JSON_ALLOW_NAN_INF) c->write_flags |= ZM_JSON_WRITE_NAN_INF;
    return ARGS_OK;
}

/* ---------------------------------------------------------------------------
 * check and fmt
 * ------------------------------------------------------------------------- */

/* `check` (fmt false) parses FILE and says only what is wrong; `fmt` also
   writes it back as the flags ask. */
static int check_or_fmt(int argc, char **argv, bool fmt, FILE *in, FILE *out, FILE *err) {
    cmd_args c;
    int rc = parse_args(argc, argv, fmt, &c, out, err);
    if (rc != ARGS_OK) return rc;
    zm_allocator a = zm_default_allocator();
    text t;
    rc = read_text(a, c.path, in, err, &t);
    if (rc != 0) return rc;
    zm_json_doc *doc = NULL;
    rc = parse_text(a, &t, &c.opts, err, &doc);
    if (rc == 0 && fmt) {
        zm_status st = zm_json_write_file(a, zm_json_doc_root(doc), c.write_flags, out);
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
        if (frc == 0) frc = parse_text(a, &t, NULL, err, &doc);
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
    if (strcmp(cmd, "check") == 0) return check_or_fmt(argc - 1, argv + 1, false, in, out, err);
    if (strcmp(cmd, "fmt") == 0) return check_or_fmt(argc - 1, argv + 1, true, in, out, err);
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
