/* What the number converters' test programs share (test_num.c, test_num_fast.c,
 * test_num_random.c: json/num_parse.c and json/num_write.c, with glibc as the
 * oracle): failing, the random generator, the parse and format checks, running a
 * random part on several processes, and num_setup for main.
 *
 * Exit status 0 when everything passed; otherwise the first failure is printed as
 * file:line plus the input, and the status is 1. Without a locale whose decimal
 * point is ',' the locale part (test_num_random.c) cannot run: the status is then
 * 77 (a skip), or 1 in CI (CI=true).
 *
 * Environment:
 *   ZM_NUM_TEST_SCALE=x   multiply the random counts by x (default 1; e.g. 10 for a long run)
 *   ZMEM_TEST_SCALE=small the project-wide switch for slow tools (valgrind): scale 0.002
 *   ZM_NUM_TEST_JOBS=n    worker processes for the random parts (default: online CPUs, max 8)
 *   ZM_NUM_TEST_SEED=n    seed of the random parts (default fixed)
 *
 * Random inputs are a function of (seed, part, index) only, so the split into worker
 * processes does not change what is tested.
 */
#ifndef ZMEM_TESTS_JSON_NUM_TEST_H
#define ZMEM_TESTS_JSON_NUM_TEST_H

#include <float.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../json/num.h"
#include "../../json/num_format.h"

/* ---------------------------------------------------------------------------
 * Failing
 * ------------------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static _Noreturn void
fail_at(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* CHECK(cond, "fmt", args...) at this line; CHECK_AT(file, line, ...) for helpers that
   report their caller's line. The format must be a string literal. */
#define CHECK_AT(file, line, cond, ...)                                                            \
    do {                                                                                           \
        if (!(cond)) fail_at(file, line, "check failed: " #cond " -- " __VA_ARGS__);               \
    } while (0)
#define CHECK(cond, ...) CHECK_AT(__FILE__, __LINE__, cond, __VA_ARGS__)

/* ---------------------------------------------------------------------------
 * Utilities
 * ------------------------------------------------------------------------- */

static uint64_t bits_of(double d) {
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static double from_bits(uint64_t b) {
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of this process and its finished workers */
static double cpu_now(void) {
    struct rusage a, b;
    getrusage(RUSAGE_SELF, &a);
    getrusage(RUSAGE_CHILDREN, &b);
    return (double)(a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec + b.ru_stime.tv_sec) +
           (double)(a.ru_utime.tv_usec + a.ru_stime.tv_usec + b.ru_utime.tv_usec +
                    b.ru_stime.tv_usec) *
               1e-6;
}

static uint64_t g_seed = UINT64_C(0x5EED0F2A7E57D00D);

/* splitmix64 */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next(rng *r) {
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* the generator for input number i of part `part` */
static rng rng_at(uint64_t part, uint64_t i) {
    rng r = {g_seed ^ (part * UINT64_C(0xD1B54A32D192ED03))};
    r.s += i * UINT64_C(0x2545F4914F6CDD1D);
    next(&r);
    return r;
}

static uint64_t below(rng *r, uint64_t n) {
    return next(r) % n;
}

/* The RFC 8259 number grammar. */
static bool json_number(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    } else {
        return false;
    }
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return false;
    }
    return i == n;
}

/* ---------------------------------------------------------------------------
 * Parsing against strtod
 * ------------------------------------------------------------------------- */

/* Parses s (NUL-terminated, valid JSON) with zm__parse_double from an exact-size heap
   copy (so ASan/valgrind catch a read past len) and compares with strtod. */
static void check_parse_at(const char *s, const char *file, int line) {
    size_t len = strlen(s);
    CHECK_AT(file, line, json_number(s, len), "test input is not a JSON number: %.80s", s);
    char *copy = malloc(len ? len : 1);
    CHECK_AT(file, line, copy != NULL, "out of memory");
    memcpy(copy, s, len);
    double got = 12345.0;
    bool ok = zm__parse_double(copy, len, &got);
    free(copy);
    double want = strtod(s, NULL);
    CHECK_AT(file, line, bits_of(got) == bits_of(want),
             "parse(\"%.120s%s\") [%zu chars] = %a, strtod gives %a", s, len > 120 ? "..." : "",
             len, got, want);
    CHECK_AT(file, line, ok == (bool)isfinite(want), "parse(\"%.120s\") returned %d for %a", s, ok,
             want);
}
#define CHECK_PARSE(s) check_parse_at(s, __FILE__, __LINE__)

/* ---------------------------------------------------------------------------
 * Formatting checks
 * ------------------------------------------------------------------------- */

/* Significant digits and decimal exponent of a number's text: s = 0.DIGITS... written as
   digits[0].digits[1..] * 10^*e10. Leading and trailing zeros are dropped. */
static int text_digits(const char *s, char *digits, int *e10) {
    int n = 0, point = -1, exp = 0, pos = 0, first = -1;
    const char *p = s;
    if (*p == '-') p++;
    for (; *p && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') {
            point = pos;
            continue;
        }
        if (first < 0 && *p == '0') {
            pos++;
            continue;
        }
        if (first < 0) first = pos;
        digits[n++] = *p;
        pos++;
    }
    if (point < 0) point = pos;
    if (*p) exp = atoi(p + 1);
    while (n > 0 && digits[n - 1] == '0') n--;
    digits[n] = '\0';
    *e10 = first < 0 ? 0 : point - first - 1 + exp;
    return n;
}

/* The expected text, built independently of num_write.c from a digit string and its
   decimal exponent (digits[0] is the leading one, v = d.ddd * 10^e10). */
static void js_style(bool neg, const char *digits, int e10, char *out) {
    int n = (int)strlen(digits);
    char *o = out;
    if (neg) *o++ = '-';
    if (e10 >= -6 && e10 <= 20) {
        if (e10 < 0) {
            o += sprintf(o, "0.");
            for (int i = 0; i < -e10 - 1; i++) *o++ = '0';
            o += sprintf(o, "%s", digits);
        } else if (e10 + 1 >= n) {
            o += sprintf(o, "%s", digits);
            for (int i = n; i < e10 + 1; i++) *o++ = '0';
            o += sprintf(o, ".0");
        } else {
            o += sprintf(o, "%.*s.%s", e10 + 1, digits, digits + e10 + 1);
        }
    } else {
        *o++ = digits[0];
        if (n > 1) o += sprintf(o, ".%s", digits + 1);
        o += sprintf(o, "e%c%d", e10 < 0 ? '-' : '+', e10 < 0 ? -e10 : e10);
    }
    *o = '\0';
}

/* The reference for "shortest": the smallest n in 1..17 such that the correctly
   rounded n-digit decimal (glibc printf) reads back (glibc strtod) to v. */
static int printf_shortest(double v, char *text) {
    for (int n = 1; n <= 17; n++) {
        snprintf(text, 40, "%.*e", n - 1, v);
        if (bits_of(strtod(text, NULL)) == bits_of(v)) return n;
    }
    return 99; /* cannot happen: 17 digits always suffice */
}

typedef struct stats {
    uint64_t shortest_checked; /* values that went through the printf loop */
    uint64_t shorter;          /* ... where our output is shorter than the loop's */
    uint64_t slow_like;        /* decimal strings near a halfway point */
    uint64_t count;
    uint64_t s15; /* doubles shortest_15 decided */
} stats;

/* Formats v and checks: length, JSON grammar, exact read-back through strtod and
   zm__parse_double, the notation rules, and, when `oracle`, shortest and closest
   against the printf loop (the whole text must equal the one built from printf's
   digits). */
static void check_format_at(double v, bool oracle, stats *st, const char *file, int line) {
    char buf[ZM__DOUBLE_BUF + 16];
    memset(buf, 'X', sizeof buf);
    size_t n = zm__format_double(v, buf);
    if (!isfinite(v)) {
        CHECK_AT(file, line, n == 0 && buf[0] == '\0', "format(%a) should give \"\"", v);
        return;
    }
    CHECK_AT(file, line, n > 0 && n < ZM__DOUBLE_BUF && strlen(buf) == n,
             "format(%a): length %zu, strlen %zu", v, n, strlen(buf));
    for (size_t i = ZM__DOUBLE_BUF; i < sizeof buf; i++)
        CHECK_AT(file, line, buf[i] == 'X', "format(%a) wrote past ZM__DOUBLE_BUF", v);
    CHECK_AT(file, line, json_number(buf, n), "format(%a) = \"%s\" is not a JSON number", v, buf);
    double back = strtod(buf, NULL);
    CHECK_AT(file, line, bits_of(back) == bits_of(v), "format(%a) = \"%s\" reads back as %a", v,
             buf, back);
    double back2 = -1.0;
    bool ok = zm__parse_double(buf, n, &back2);
    CHECK_AT(file, line, ok && bits_of(back2) == bits_of(v),
             "format(%a) = \"%s\" parses back (zm) as %a", v, buf, back2);

    /* notation: exactly like JavaScript, plus ".0" on integral plain values */
    char digits[40];
    int e10;
    int nd = text_digits(buf, digits, &e10);
    bool has_e = strchr(buf, 'e') != NULL;
    if (v == 0) {
        CHECK_AT(file, line, strcmp(buf, signbit(v) ? "-0.0" : "0.0") == 0, "format(%a) = \"%s\"",
                 v, buf);
        return;
    }
    CHECK_AT(file, line, nd >= 1 && nd <= 17, "format(%a) = \"%s\" has %d digits", v, buf, nd);
    char expect[64];
    js_style(signbit(v) != 0, digits, e10, expect);
    CHECK_AT(file, line, strcmp(expect, buf) == 0,
             "format(%a) = \"%s\", but its digits in the specified notation are \"%s\"", v, buf,
             expect);
    CHECK_AT(file, line, has_e == !(e10 >= -6 && e10 <= 20), "format(%a) = \"%s\": notation", v,
             buf);

    if (!oracle) return;
    char ref[48];
    int nref = printf_shortest(fabs(v), ref);
    st->shortest_checked++;
    if (nd == nref) {
        char rd[40];
        int re10;
        text_digits(ref, rd, &re10);
        js_style(signbit(v) != 0, rd, re10, expect);
        CHECK_AT(file, line, strcmp(expect, buf) == 0,
                 "format(%a) = \"%s\"; printf's closest %d digits give \"%s\"", v, buf, nref,
                 expect);
    } else {
        /* Only possible when the gap below v is half the gap above (v a power of two):
           printf's correctly rounded n digits may then fall just outside the narrower
           side while a farther n-digit decimal on the wider side is inside. */
        CHECK_AT(file, line, nd < nref && (bits_of(v) & ((UINT64_C(1) << 52) - 1)) == 0,
                 "format(%a) = \"%s\" has %d digits, the printf loop needs %d (\"%s\")", v, buf, nd,
                 nref, ref);
        st->shorter++;
    }
}
#define CHECK_FORMAT(v, oracle, st) check_format_at(v, oracle, st, __FILE__, __LINE__)

static void check_format_is_at(double v, const char *want, const char *file, int line) {
    char buf[ZM__DOUBLE_BUF];
    size_t n = zm__format_double(v, buf);
    CHECK_AT(file, line, strcmp(buf, want) == 0 && n == strlen(want),
             "format(%.17g) = \"%s\", want \"%s\"", v, buf, want);
    stats st = {0};
    check_format_at(v, true, &st, file, line);
}
#define CHECK_FORMAT_IS(v, want) check_format_is_at(v, want, __FILE__, __LINE__)

/* ---------------------------------------------------------------------------
 * Running a random part on several processes
 * ------------------------------------------------------------------------- */

static int g_jobs = 1;
/* under valgrind (ZMEM_TEST_SCALE=small) the fixed loops thin out too */
static int g_thin = 1;

typedef void (*part_fn)(uint64_t lo, uint64_t hi, stats *st);

/* Runs fn over [0, n) split across g_jobs processes and sums their stats. A failing
   worker has printed its message; the parent then exits 1 too. */
static void run_split(part_fn fn, uint64_t n, stats *total) {
    int jobs = g_jobs;
    if (n < 1000 || jobs < 2) {
        fn(0, n, total);
        return;
    }
    pid_t pids[8];
    int fds[8];
    fflush(stdout);
    fflush(stderr);
    for (int j = 1; j < jobs; j++) {
        int p[2];
        CHECK(pipe(p) == 0, "pipe");
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            close(p[0]);
            stats st = {0};
            fn(n * (uint64_t)j / (uint64_t)jobs, n * (uint64_t)(j + 1) / (uint64_t)jobs, &st);
            ssize_t w = write(p[1], &st, sizeof st);
            _exit(w == (ssize_t)sizeof st ? 0 : 2);
        }
        close(p[1]);
        pids[j] = pid;
        fds[j] = p[0];
    }
    fn(0, n / (uint64_t)jobs, total);
    int bad = 0;
    for (int j = 1; j < jobs; j++) {
        stats st = {0};
        ssize_t r = read(fds[j], &st, sizeof st);
        close(fds[j]);
        int status = 0;
        waitpid(pids[j], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || r != (ssize_t)sizeof st) {
            bad = 1;
            continue;
        }
        total->shortest_checked += st.shortest_checked;
        total->shorter += st.shorter;
        total->slow_like += st.slow_like;
        total->count += st.count;
        total->s15 += st.s15;
    }
    if (bad) fail_at(__FILE__, __LINE__, "a worker process failed (message above)");
}

/* ---------------------------------------------------------------------------
 * Setting up a program
 * ------------------------------------------------------------------------- */

/* Reads the environment (see above) into g_seed, g_jobs and g_thin, sets the C
   locale and prints name's first line. Returns the scale of the random counts. */
static double num_setup(const char *name) {
    double scale = 1.0;
    const char *e = getenv("ZMEM_TEST_SCALE");
    if (e && strcmp(e, "small") == 0) scale = 0.002;
    e = getenv("ZM_NUM_TEST_SCALE");
    if (e) scale = atof(e);
    if (scale < 0.05) g_thin = 10;
    e = getenv("ZM_NUM_TEST_SEED");
    if (e) g_seed = strtoull(e, NULL, 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    g_jobs = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    e = getenv("ZM_NUM_TEST_JOBS");
    if (e) g_jobs = atoi(e) < 1 ? 1 : atoi(e) > 8 ? 8 : atoi(e);
    setlocale(LC_ALL, "C");
    printf("%s: scale %g, %d process(es), seed 0x%016" PRIx64 "\n", name, scale, g_jobs, g_seed);
    return scale;
}

/* A random part's count: n scaled, at least min. */
static uint64_t num_count(double scale, double n, uint64_t min) {
    return (uint64_t)(n * scale) < min ? min : (uint64_t)(n * scale);
}

/* Prints name's last line. */
static void num_passed(const char *name, double t0) {
    printf("%s: all passed [%.1f s wall, %.1f s cpu over %d process(es)]\n", name, now() - t0,
           cpu_now(), g_jobs);
}

#endif
