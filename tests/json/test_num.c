/* Tests for json/num_parse.c and json/num_write.c, with glibc as the oracle.
 *
 *   cc -std=c11 -O2 tests/test_num.c json/num_parse.c json/num_write.c json/num_tables.c -lm
 *
 * Exit status 0 when everything passed; otherwise the first failure is printed as
 * file:line plus the input, and the status is 1. Without a locale whose decimal
 * point is ',' the locale part cannot run: the status is then 77 (a skip), or 1
 * in CI (CI=true).
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
#define _POSIX_C_SOURCE 200809L

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
 * 1. Known hard cases
 * ------------------------------------------------------------------------- */

/* 2^-1075 written out exactly: halfway between 0 and the smallest subnormal. */
#define HALF_MIN_SUBNORMAL                                                                         \
    "2."                                                                                           \
    "470328229206232720882843964341106861825299013071623822127928412503377536351043759326"         \
    "499181808179961898982823477228588654633283551779698981993873980053909390631503565951"         \
    "557022639229085839244910518443593180284993653615250031937045767824921936562366986365"         \
    "848075700158576926990370631192827955855133292783433840935197801553124659726357957462"         \
    "276646527282722005637400648549997709659947045402082816622623785739345073633900796776"         \
    "193057750674017632467360096895134053553745851666113422376667860416215968046191446729"         \
    "184030053005753084904876539171138659164623952491262365388187963623937328042389101867"         \
    "234849766823508986338858792562830275599565752445550725518931369083625477918694866799"         \
    "4968324049705821028513185451396213837722826145437693412532098591327667236328125"

static const char *const hard_cases[] = {
    /* from the task, and classic failures of other parsers */
    "2.2250738585072011e-308",
    "2.2250738585072012e-308",
    "2.2250738585072014e-308", /* DBL_MIN */
    "2.2250738585072009e-308",
    "2.225073858507201e-308", /* largest subnormal */
    "2."
    "2250738585072013830902327173324040642192159804623318305533274168872044348139181958542831590125"
    "1102056406733973103581100515243416155346010885601238537771882113077799353200233047961014744258"
    "36360719215650469425037342083752508066506166581589799e-308",
    "9007199254740993",
    "9007199254740992",
    "9007199254740994",
    "9007199254740995",
    "9007199254740993.0000000000000000000000000000001",
    "-9007199254740993",
    "18014398509481987",
    "7.2057594037927933e+16",
    "72057594037927933",
    "1.00000000000000011102230246251565404236316680908203125",
    "1.00000000000000011102230246251565404236316680908203124",
    "1.00000000000000011102230246251565404236316680908203126",
    "1.000000000000000111022302462515654042363166809082031250000000000000000000000000000000001",
    "2.4703282292062327e-324",
    "2.4703282292062328e-324",
    HALF_MIN_SUBNORMAL "e-324", /* rounds to 0, the even neighbour */
    /* just above halfway: rounds up to the smallest subnormal */
    HALF_MIN_SUBNORMAL "000000000000000000000000000000000000000000000000000000000000001e-324",
    "4.9406564584124654e-324", /* smallest subnormal */
    "4.9406564584124654417656879286822137236505980e-324",
    "7.4109846876186981626485318930233205854758970e-324",
    "3e-324",
    "2e-324",
    "1e-324",
    "1e-323",
    "1.7976931348623157e308", /* DBL_MAX */
    "1.7976931348623158e308", /* rounds to DBL_MAX */
    "1.7976931348623159e308", /* overflows */
    "-1.7976931348623159e308",
    "1797693134862315807937289714053034150799341327100378269361737789804449682927647509466490179775"
    "8720709633028641669288791094655554785194040263065748867150582068190890200070838367627385484581"
    "7711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699"
    "508093042880177904174497791",
    "1797693134862315807937289714053034150799341327100378269361737789804449682927647509466490179775"
    "8720709633028641669288791094655554785194040263065748867150582068190890200070838367627385484581"
    "7711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699"
    "508093042880177904174497792",
    "17976931348623158e292",
    "1e308",
    "1e309",
    "1e99999",
    "-1e99999",
    "1e-99999",
    "-1e-99999",
    "0e999999999999999999",
    "0e-999999999999999999",
    "0.0e99999999999999999999999999999999",
    "-0.000000000000000000000000e-5",
    "1e18446744073709551617",
    "1e-18446744073709551617",
    "1e+9223372036854775808",
    "123456789012345678901234567890e-10",
    "0.1",
    "0.2",
    "0.3",
    "-0.0",
    "-0",
    "0",
    "1",
    "-1",
    "1e23",
    "8.98846567431158e307",
    "5e-324",
    "4.4501477170144023e-308",
    "4."
    "4501477170144022721148195934182639518696390927032912960468522194496444440421538910330590478162"
    "7017582829831782607924221374017287738918929105531441481564124348675997628212653465850710457376"
    "2744298025962244902903779698114444614570510266311510031828794952795966823603998647925096578034"
    "2141637013812613333119898765515451440315261253813266652951306000184917766328660755595837392240"
    "9899478075565940981010216121988146052587425791790000716759993441450860872056815779154359230189"
    "1033496486942061405218289243144579760516365090360651414037721744226256159024466852576737244643"
    "0075513332450079650686719491377688478005309963967709758965844137894433796621993967316936280457"
    "0848666132067970177289160800206986794085513437288676754097207572324554347709124613174935802817"
    "34466552734375e-308",
    "7.3177701707893310e+15",
    "9.5e-324",
    "2.2250738585072011360574097967091319759348195463516456480234261098404619e-308",
    "1.2345678901234567e-300",
    "9.999999999999999e22",
    "1.0000000000000001e23",
    "100000000000000000000000",
    "1e22",
    "9007199254740993e22",
    "4503599627370497.5",
    "4503599627370496.5",
    "1.0e-7",
    "0.000001",
    "-65.613616999999977",
    "43.420273000000009",
    "2.5e-324",
};

/* Exact decimal expansion of a long double (up to 1100 significant digits) as
   "d.dddde+X" with trailing zeros of the mantissa removed. */
static void exact_decimal(long double x, char *out, size_t cap) {
    snprintf(out, cap, "%.1100Le", x);
    char *e = strchr(out, 'e');
    char *z = e;
    while (z[-1] == '0') z--;
    if (z[-1] == '.') z--;
    memmove(z, e, strlen(e) + 1);
}

/* Variants around the halfway point between x and its upper neighbour (computed
   exactly in long double, which has 11 more mantissa bits and a wider exponent). */
static void hard_halfway(double x) {
    static char exact[1300], buf[4000];
    long double h = (long double)x + ldexpl(1.0L, ilogb(x) >= -1022 ? ilogb(x) - 53 : -1075);
    exact_decimal(h, exact, sizeof exact);
    CHECK_PARSE(exact); /* the tie itself */
    char *e = strchr(exact, 'e');
    size_t mant = (size_t)(e - exact);
    /* just above, far beyond 800 digits: mantissa + zeros up to 1200 digits + 1 */
    snprintf(buf, sizeof buf, "%.*s", (int)mant, exact);
    if (!strchr(buf, '.')) strcat(buf, ".");
    size_t n = strlen(buf);
    while (n < 1200) buf[n++] = '0';
    buf[n++] = '1';
    snprintf(buf + n, sizeof buf - n, "%s", e);
    CHECK_PARSE(buf);
    /* just below, also long: last nonzero digit - 1, then 1100 nines */
    snprintf(buf, sizeof buf, "%.*s", (int)mant, exact);
    n = strlen(buf);
    if (n > 2) {
        buf[n - 1]--; /* the last digit of an exact halfway expansion is 5 */
        for (int i = 0; i < 1100; i++) buf[n++] = '9';
        snprintf(buf + n, sizeof buf - n, "%s", e);
        CHECK_PARSE(buf);
    }
    /* truncations (below the tie) and truncations + 1 ulp of the last digit */
    static const int cuts[] = {16, 17, 18, 19, 20, 25, 40, 100, 400, 767, 768, 799, 800, 801};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        int keep = cuts[i] + 1; /* + the '.' */
        if ((size_t)keep >= mant) break;
        snprintf(buf, sizeof buf, "%.*s%s", keep, exact, e);
        CHECK_PARSE(buf);
        snprintf(buf, sizeof buf, "%.*s%s", keep, exact, e);
        char *d = buf + keep - 1; /* bump the last kept digit (with carries) */
        while (d >= buf && (*d == '9' || *d == '.')) {
            if (*d == '9') *d = '0';
            d--;
        }
        if (d >= buf && *d >= '0' && *d <= '8') {
            (*d)++;
            CHECK_PARSE(buf);
        }
    }
}

static void test_hard_cases(void) {
    for (size_t i = 0; i < sizeof hard_cases / sizeof hard_cases[0]; i++)
        CHECK_PARSE(hard_cases[i]);

    /* Built inputs: long runs of zeros and digits */
    static char buf[12000];
    /* 0.000...0001 with 320 (subnormal), 400 (zero) and 5000 zeros (and e+5001 -> 1) */
    const int zeros[] = {300, 320, 322, 323, 324, 330, 400, 5000};
    for (size_t z = 0; z < sizeof zeros / sizeof zeros[0]; z++) {
        int n = sprintf(buf, "0.");
        memset(buf + n, '0', (size_t)zeros[z]);
        n += zeros[z];
        buf[n++] = '1';
        buf[n] = '\0';
        CHECK_PARSE(buf);
        sprintf(buf + n, "e%d", zeros[z] + 1);
        CHECK_PARSE(buf);
        sprintf(buf + n, "e+%d", zeros[z] - 300);
        CHECK_PARSE(buf);
    }
    /* 1 followed by 1000..9000 zeros, with exponents that bring it near 1, DBL_MAX, 0 */
    for (int z = 1000; z <= 9000; z += 4000) {
        buf[0] = '1';
        memset(buf + 1, '0', (size_t)z);
        const int exps[] = {0, -1, 1, -z, -z + 308, -z + 309, -z - 323, -z - 324, -z - 330};
        for (size_t k = 0; k < sizeof exps / sizeof exps[0]; k++) {
            sprintf(buf + 1 + z, "e%d", exps[k]);
            CHECK_PARSE(buf);
        }
    }
    /* 1500 random digits at a spread of exponents */
    {
        rng r = rng_at(99, 0);
        for (int t = 0; t < 200 / g_thin; t++) {
            int n = 0;
            buf[n++] = (char)('1' + below(&r, 9));
            int len = 1000 + (int)below(&r, 1000);
            int point = (int)below(&r, (uint64_t)len);
            for (int i = 1; i < len; i++) {
                if (i == point && i > 0) buf[n++] = '.';
                buf[n++] = (char)('0' + below(&r, 10));
            }
            sprintf(buf + n, "e%d", (int)below(&r, 2400) - 1600);
            CHECK_PARSE(buf);
        }
    }
    /* Halfway points, exactly and just around them, far beyond 800 digits */
    const double xs[] = {DBL_TRUE_MIN,
                         2 * DBL_TRUE_MIN,
                         3 * DBL_TRUE_MIN,
                         DBL_MIN - DBL_TRUE_MIN, /* largest subnormal */
                         DBL_MIN,
                         DBL_MIN * 1.5,
                         1.0,
                         1.5,
                         0.1,
                         9007199254740992.0,
                         1e23,
                         8.98846567431158e307,
                         DBL_MAX / 2,
                         nextafter(DBL_MAX, 0),
                         DBL_MAX};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        hard_halfway(xs[i]);
        hard_halfway(nextafter(xs[i], 0) > 0 ? nextafter(xs[i], 0) : xs[i]);
    }
    {
        rng r = rng_at(98, 0);
        for (int t = 0; t < 300 / g_thin; t++) {
            double x = from_bits(below(&r, UINT64_C(0x7FEFFFFFFFFFFFFF)) + 1);
            hard_halfway(x);
        }
    }
    /* len is respected: nothing past it is read */
    double d;
    CHECK(zm__parse_double("1.5", 1, &d) && d == 1.0, "len 1 of \"1.5\" gave %g", d);
    CHECK(zm__parse_double("12345e5", 3, &d) && d == 123.0, "len 3 of \"12345e5\" gave %g", d);
    CHECK(zm__parse_double("1e5", 1, &d) && d == 1.0, "len 1 of \"1e5\" gave %g", d);
    CHECK(zm__parse_double("-7.25e1", 5, &d) && d == -7.25, "len 5 of \"-7.25e1\" gave %g", d);
    printf("hard cases: %zu listed + built ones, all equal to strtod\n",
           sizeof hard_cases / sizeof hard_cases[0]);
}

/* ---------------------------------------------------------------------------
 * Exact format expectations
 * ------------------------------------------------------------------------- */

static void test_format_examples(void) {
    CHECK_FORMAT_IS(0.0, "0.0");
    CHECK_FORMAT_IS(-0.0, "-0.0");
    CHECK_FORMAT_IS(1.0, "1.0");
    CHECK_FORMAT_IS(-25.0, "-25.0");
    CHECK_FORMAT_IS(100.0, "100.0");
    CHECK_FORMAT_IS(0.1, "0.1");
    CHECK_FORMAT_IS(123.456, "123.456");
    CHECK_FORMAT_IS(1.5, "1.5");
    CHECK_FORMAT_IS(0.000001, "0.000001");
    CHECK_FORMAT_IS(0.0000012345678901234567, "0.0000012345678901234567");
    CHECK_FORMAT_IS(-0.0000012345678901234567, "-0.0000012345678901234567");
    CHECK_FORMAT_IS(1e-7, "1e-7");
    CHECK_FORMAT_IS(1.5e-7, "1.5e-7");
    CHECK_FORMAT_IS(1.0000000000000001e-7, "1.0000000000000001e-7");
    CHECK_FORMAT_IS(1e21, "1e+21");
    CHECK_FORMAT_IS(1e20, "100000000000000000000.0");
    CHECK_FORMAT_IS(999999999999999900000.0, "999999999999999900000.0");
    CHECK_FORMAT_IS(1.5e21, "1.5e+21");
    CHECK_FORMAT_IS(5e-324, "5e-324");
    CHECK_FORMAT_IS(-5e-324, "-5e-324");
    CHECK_FORMAT_IS(1e-323, "1e-323");
    CHECK_FORMAT_IS(DBL_MAX, "1.7976931348623157e+308");
    CHECK_FORMAT_IS(-DBL_MAX, "-1.7976931348623157e+308");
    CHECK_FORMAT_IS(DBL_MIN, "2.2250738585072014e-308");
    CHECK_FORMAT_IS(DBL_MIN - DBL_TRUE_MIN, "2.225073858507201e-308");
    CHECK_FORMAT_IS(9007199254740992.0, "9007199254740992.0");
    CHECK_FORMAT_IS(9007199254740991.0, "9007199254740991.0");
    CHECK_FORMAT_IS(18014398509481984.0, "18014398509481984.0");
    CHECK_FORMAT_IS(9223372036854775808.0, "9223372036854776000.0");
    CHECK_FORMAT_IS(1e23, "1e+23");
    CHECK_FORMAT_IS(5e22, "5e+22");
    CHECK_FORMAT_IS(1e22, "1e+22");
    CHECK_FORMAT_IS(123e18, "123000000000000000000.0");
    CHECK_FORMAT_IS(0.3, "0.3");
    CHECK_FORMAT_IS(0.1 + 0.2, "0.30000000000000004");
    CHECK_FORMAT_IS(2.0 / 3.0, "0.6666666666666666");
    CHECK_FORMAT_IS(-65.613616999999977, "-65.61361699999998");
    CHECK_FORMAT_IS(1e100, "1e+100");
    CHECK_FORMAT_IS(1.2345e-100, "1.2345e-100");
    CHECK_FORMAT_IS(ldexp(1.0, -1074), "5e-324");
    CHECK_FORMAT_IS(ldexp(1.0, 1023), "8.98846567431158e+307");
    CHECK_FORMAT_IS(ldexp(1.0, 60), "1152921504606847000.0");
    CHECK_FORMAT_IS(ldexp(1.0, -20), "9.5367431640625e-7");
    CHECK_FORMAT_IS(ldexp(1.0, -19), "0.0000019073486328125");

    char buf[ZM__DOUBLE_BUF];
    memset(buf, 'X', sizeof buf);
    CHECK(zm__format_double(NAN, buf) == 0 && buf[0] == '\0', "NaN");
    CHECK(zm__format_double(-NAN, buf) == 0 && buf[0] == '\0', "-NaN");
    CHECK(zm__format_double(INFINITY, buf) == 0 && buf[0] == '\0', "inf");
    CHECK(zm__format_double(-INFINITY, buf) == 0 && buf[0] == '\0', "-inf");

    /* every power of two, every power of ten, integers, the boundaries of notation */
    stats st = {0};
    for (int e = -1074; e <= 1023; e += g_thin) {
        CHECK_FORMAT(ldexp(1.0, e), true, &st);
        CHECK_FORMAT(-ldexp(1.0, e), false, &st);
        CHECK_FORMAT(nextafter(ldexp(1.0, e), 0), true, &st);
        CHECK_FORMAT(nextafter(ldexp(1.0, e), INFINITY), true, &st);
    }
    for (int e = -325; e <= 309; e++) {
        char s[32];
        sprintf(s, "1e%d", e);
        double v = strtod(s, NULL);
        CHECK_FORMAT(v, true, &st);
        CHECK_FORMAT(nextafter(v, 0), true, &st);
        CHECK_FORMAT(nextafter(v, INFINITY), true, &st);
    }
    for (int i = 0; i <= 100000 / g_thin; i++) {
        char want[48];
        sprintf(want, "%d.0", i);
        char got[ZM__DOUBLE_BUF];
        zm__format_double((double)i, got);
        CHECK(strcmp(got, want) == 0, "format(%d) = \"%s\"", i, got);
    }
    for (uint64_t i = (UINT64_C(1) << 53) - 100000; i <= (UINT64_C(1) << 53) + 100000;
         i += 7 * (uint64_t)g_thin)
        CHECK_FORMAT((double)i, true, &st);
    const double edges[] = {1e-7, 1e-6, 1e21, 1e20, 9.999999999999999e20, 1e16, 1e17, 1e15};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        double v = edges[i];
        for (int j = 0; j < 50; j++) {
            CHECK_FORMAT(v, true, &st);
            v = nextafter(v, 0);
        }
        v = edges[i];
        for (int j = 0; j < 50; j++) {
            CHECK_FORMAT(v, true, &st);
            v = nextafter(v, INFINITY);
        }
    }
    /* all the subnormals with a one- or two-bit significand */
    for (int a = 0; a < 52; a++)
        for (int b = 0; b <= a; b++)
            CHECK_FORMAT(from_bits((UINT64_C(1) << a) | (UINT64_C(1) << b)), true, &st);
    printf("format examples: exact texts, powers of 2 and 10, integers and edges pass"
           " (%" PRIu64 " printf-loop checks, %" PRIu64 " shorter than the loop)\n",
           st.shortest_checked, st.shorter);
}

/* ---------------------------------------------------------------------------
 * 2. Random round trip
 * ------------------------------------------------------------------------- */

static uint64_t g_rt_count, g_rt_oracle;

/* Value i of the round-trip set: 4 in 5 are uniformly random finite bit patterns, 1 in
   5 a "nice" decimal (few digits, moderate exponent) or an integer. */
static double roundtrip_value(uint64_t i) {
    rng r = rng_at(2, i);
    if (i % 5 != 4) {
        for (;;) {
            double v = from_bits(next(&r));
            if (isfinite(v)) return v;
        }
    }
    char s[64];
    uint64_t kind = below(&r, 8);
    if (kind <= 1) { /* an integer, any size; or one below 2^53 */
        uint64_t shift = kind == 0 ? below(&r, 64) : 11 + below(&r, 53);
        uint64_t x = next(&r) >> shift;
        return kind == 0 ? (double)x : -(double)x;
    }
    int nd = 1 + (int)below(&r, below(&r, 2) ? 6 : 17);
    uint64_t m = 0;
    for (int k = 0; k < nd; k++) m = m * 10 + below(&r, 10);
    int e = kind < 6 ? (int)below(&r, 51) - 25 : (int)below(&r, 650) - 340;
    snprintf(s, sizeof s, "%s%" PRIu64 "e%d", below(&r, 2) ? "-" : "", m, e);
    return strtod(s, NULL);
}

static void part_roundtrip(uint64_t lo, uint64_t hi, stats *st) {
    for (uint64_t i = lo; i < hi; i++) {
        double v = roundtrip_value(i);
        check_format_at(v, i < g_rt_oracle, st, __FILE__, __LINE__);
        st->count++;
    }
}

static void test_roundtrip(void) {
    stats st = {0};
    double t = now(), c = cpu_now();
    run_split(part_roundtrip, g_rt_count, &st);
    printf("round trip: %" PRIu64 " values (4/5 random bit patterns, 1/5 nice decimals and "
           "integers) format -> parse back identically with zm__parse_double and strtod; "
           "%" PRIu64 " of them checked shortest+closest against the printf %%.{n}e loop "
           "(%" PRIu64 " shorter than the loop) [%.1f s, cpu %.1f s]\n",
           st.count, st.shortest_checked, st.shorter, now() - t, cpu_now() - c);
}

/* ---------------------------------------------------------------------------
 * 3. Random decimal strings
 * ------------------------------------------------------------------------- */

static uint64_t g_dec_count;

/* Decimal string i: 9 in 10 have 1..40 random digits, a random layout and an exponent
   in -350..350; 1 in 10 are 17..40-digit roundings of an exact halfway point between
   two random doubles (these go to the exact path). Returns the length. */
static size_t decimal_string(uint64_t i, char *s, bool *near_half) {
    rng r = rng_at(3, i);
    char *o = s;
    *near_half = false;
    if (below(&r, 2)) *o++ = '-';
    if (i % 10 == 9) {
        double x;
        do x = from_bits(below(&r, UINT64_C(0x7FEFFFFFFFFFFFFF)) + 1);
        while (!isfinite(x));
        long double h = (long double)x + ldexpl(1.0L, ilogb(x) >= -1022 ? ilogb(x) - 53 : -1075);
        int nd = 17 + (int)below(&r, 24);
        o += sprintf(o, "%.*Le", nd - 1, h);
        if (below(&r, 2)) { /* nudge the last mantissa digit */
            char *d = strchr(s, 'e') - 1;
            if (*d > '0' && *d < '9') *d = (char)(*d + (below(&r, 2) ? 1 : -1));
        }
        *near_half = true;
        return (size_t)(o - s);
    }
    int nd = 1 + (int)below(&r, 40);
    uint64_t layout = below(&r, 4);
    if (layout == 0) { /* 0.ddd, maybe with leading zeros in the fraction */
        *o++ = '0';
        *o++ = '.';
        int lz = below(&r, 3) ? 0 : (int)below(&r, 30);
        for (int k = 0; k < lz; k++) *o++ = '0';
        for (int k = 0; k < nd; k++) *o++ = (char)('0' + below(&r, 10));
    } else {
        int nint = 1 + (int)below(&r, (uint64_t)nd);
        *o++ = (char)('1' + below(&r, 9));
        for (int k = 1; k < nd; k++) {
            if (k == nint) *o++ = '.';
            *o++ = (char)('0' + below(&r, 10));
        }
    }
    if (below(&r, 8)) {
        *o++ = below(&r, 2) ? 'e' : 'E';
        int e = (int)below(&r, 701) - 350;
        uint64_t sg = below(&r, 3);
        if (e < 0)
            *o++ = '-';
        else if (sg == 0)
            *o++ = '+';
        if (below(&r, 16) == 0) *o++ = '0'; /* a leading zero in the exponent */
        o += sprintf(o, "%d", e < 0 ? -e : e);
    }
    *o = '\0';
    return (size_t)(o - s);
}

static void part_decimal(uint64_t lo, uint64_t hi, stats *st) {
    char s[128];
    for (uint64_t i = lo; i < hi; i++) {
        bool near_half;
        size_t n = decimal_string(i, s, &near_half);
        CHECK(json_number(s, n), "generated input #%" PRIu64 " \"%s\" is not a JSON number", i, s);
        double want = strtod(s, NULL);
        /* put digits after the end: reading past len would change the result */
        s[n] = '7';
        s[n + 1] = '7';
        s[n + 2] = '\0';
        double got;
        bool ok = zm__parse_double(s, n, &got);
        s[n] = '\0';
        CHECK(bits_of(got) == bits_of(want) && ok == (bool)isfinite(want),
              "input #%" PRIu64 " \"%s\": zm %a (%d), strtod %a", i, s, got, ok, want);
        st->slow_like += near_half;
        st->count++;
    }
}

static void test_decimal_strings(void) {
    stats st = {0};
    double t = now(), c = cpu_now();
    run_split(part_decimal, g_dec_count, &st);
    printf("random decimal strings: %" PRIu64 " (1..40 digits, exponents -350..350; %" PRIu64
           " of them within a rounding of a halfway point) equal strtod bit for bit [%.1f s, cpu "
           "%.1f s]\n",
           st.count, st.slow_like, now() - t, cpu_now() - c);
}

/* ---------------------------------------------------------------------------
 * 4. Locale independence
 * ------------------------------------------------------------------------- */

/* True when the tests run in CI (CI=true), where every part must run. */
static bool in_ci(void) {
    const char *ci = getenv("CI");
    return ci != NULL && strcmp(ci, "true") == 0;
}

/* Runs the conversions under a locale whose decimal point is ','. Returns
   false when none is installed: then the part could not run. */
static bool test_locale(void) {
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8",  "de_DE",       "fr_FR.UTF-8",
                                        "fr_FR.utf8",  "nl_NL.UTF-8", "ru_RU.UTF-8", "es_ES.UTF-8",
                                        "it_IT.UTF-8", "pt_BR.UTF-8", "pl_PL.UTF-8"};
    const char *used = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !used; i++) {
        if (setlocale(LC_ALL, names[i]) && strcmp(localeconv()->decimal_point, ",") == 0)
            used = names[i];
    }
    if (!used) {
        setlocale(LC_ALL, "C");
        printf("locale: no locale with a ',' decimal point is installed, so this part cannot "
               "run (install one: apt-get install locales, then add \"de_DE.UTF-8 UTF-8\" to "
               "/etc/locale.gen and run locale-gen, as .ci/run does)\n");
        CHECK(!in_ci(), "in CI a locale with a ',' decimal point must be installed");
        return false;
    }
    char ref[32];
    snprintf(ref, sizeof ref, "%.1f", 1.5);
    CHECK(strcmp(ref, "1,5") == 0, "the locale %s is not active (printf gives %s)", used, ref);
    const double vs[] = {1.5, -0.25, 123.456, 1e-7, 1.5e300, 0.1, 100.0};
    const char *want[] = {"1.5", "-0.25", "123.456", "1e-7", "1.5e+300", "0.1", "100.0"};
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        char buf[ZM__DOUBLE_BUF];
        zm__format_double(vs[i], buf);
        CHECK(strcmp(buf, want[i]) == 0, "under %s: format(%g) = \"%s\"", used, vs[i], buf);
        double d;
        CHECK(zm__parse_double(want[i], strlen(want[i]), &d) && d == vs[i],
              "under %s: parse(\"%s\") = %g", used, want[i], d);
    }
    double d;
    CHECK(zm__parse_double("3.14159e2", 9, &d) && d == 314.159, "under %s: got %g", used, d);
    setlocale(LC_ALL, "C");
    printf("locale: under %s (decimal point ','), output still uses '.' and parsing is "
           "unchanged\n",
           used);
    return true;
}

/* ---------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------- */

/* The writer's table per exponent (num_tables.c) holds what the formulas give,
   and the fast path it feeds (num_format.h) picks Schubfach's digits: for every
   exponent, the mantissas next to 2^52 and 2^53 and 300 random ones, and for the
   exponents of short decimals, 20 of those too. */
static void strip_zeros(uint64_t *d, int *e) {
    while (*d % 10 == 0) *d /= 10, ++*e;
}

static void test_fast_table(void) {
    for (unsigned be = 0; be < 2048; be++) {
        const zm__fmt_exp *f = &zm__fmt_exps[be];
        int q = (int)be - 1075, k = zm__flog10_pow2(q) - 2;
        if (be == 0 || be == 2047 || -k > ZM__POW5_MAX) {
            CHECK(f->j == 0, "be %u: entry in use", be);
            continue;
        }
        int j = q + zm__flog2_pow10(-k) + 1;
        const uint64_t *t = zm__pow5_128[-k - ZM__POW5_MIN];
        CHECK(f->k == k && f->j == j && f->th == t[0] && f->tl == t[1], "be %u: k, j or T", be);
        uint64_t w_hi = t[0] >> (64 - j), w_lo = t[0] << j | t[1] >> (64 - j); /* Wu */
        CHECK(f->wm_hi == w_hi - (w_lo < 4) && f->wm_lo == w_lo - 4, "be %u: Wu - 4", be);
        CHECK(f->h_hi == w_hi >> 1 && f->h_lo == (w_lo >> 1 | w_hi << 63), "be %u: Wu / 2", be);
    }
    uint64_t decided = 0, total = 0;
    for (unsigned be = 1; be < 2047; be++) {
        rng r = rng_at(41, be);
        for (int i = 0; i < 324; i++) {
            uint64_t frac;
            if (i < 2)
                frac = i == 0 ? 1 : ZM__FRAC_MASK;
            else if (i < 302)
                frac = next(&r) & ZM__FRAC_MASK;
            else { /* the double nearest a short decimal of this magnitude */
                double v = from_bits((uint64_t)be << 52 | (next(&r) & ZM__FRAC_MASK));
                char buf[40];
                snprintf(buf, sizeof buf, "%.*e", (int)(next(&r) % 12), v);
                uint64_t b = bits_of(strtod(buf, NULL));
                if ((b >> 52) != be) continue;
                frac = b & ZM__FRAC_MASK;
            }
            if (frac == 0) continue;
            uint64_t c = frac | UINT64_C(1) << 52, d1, d2;
            int q = (int)be - 1075, e1, e2;
            total++;
            if (shortest_fast(c, be, &d1, &e1) == 0) continue;
            decided++;
            zm__shortest_exact(c, q, false, &d2, &e2);
            strip_zeros(&d1, &e1);
            strip_zeros(&d2, &e2);
            CHECK(d1 == d2 && e1 == e2,
                  "be %u frac 0x%" PRIx64 ": fast %" PRIu64 "e%d, exact %" PRIu64 "e%d", be, frac,
                  d1, e1, d2, e2);
        }
    }
    CHECK(decided > total * 99 / 100, "the fast path decided %" PRIu64 " of %" PRIu64, decided,
          total);
}

/* shortest_15 (num_format.h), the shortcut for doubles of at most 15 significant
   digits, against Schubfach: where it decides, its digits and exponent are
   Schubfach's (trailing zeros stripped), and the text of v and -v written with
   it is the text written without it; where v is the double of a decimal of at
   most 15 significant digits in its range, it must decide. */
static void check_s15_at(double v, bool must, stats *st, const char *file, int line) {
    uint64_t bits = bits_of(v);
    unsigned be = (unsigned)(bits >> 52) & 0x7FF;
    uint64_t frac = bits & ZM__FRAC_MASK;
    if (be == 0x7FF) return;
    for (int neg = 0; neg < 2; neg++) {
        uint64_t b = bits ^ (uint64_t)neg << 63;
        char with[40], without[40];
        unsigned misses = 0;
        size_t n1 = zm__format_finite_with(b, with, &misses);
        size_t n2 = zm__format_finite_inline(b, without);
        CHECK_AT(file, line, n1 == n2 && memcmp(with, without, n1 + 1) == 0,
                 "%.17g: %s with the shortcut, %s without", from_bits(b), with, without);
    }
    if (be == 0 || frac == 0) return; /* not its domain: the caller never asks */
    uint64_t d1, d2;
    int e1, e2;
    bool ok = shortest_15(bits & ~(UINT64_C(1) << 63), be, &d1, &e1);
    CHECK_AT(file, line, ok || !must, "%.17g: the shortcut did not decide", v);
    st->count++;
    if (!ok) return;
    st->s15++;
    CHECK_AT(file, line, d1 >= UINT64_C(100000000000000) && d1 < UINT64_C(1000000000000000),
             "%.17g: %" PRIu64 " is not of 15 digits", v, d1);
    zm__shortest_exact(frac | UINT64_C(1) << 52, (int)be - 1075, false, &d2, &e2);
    strip_zeros(&d1, &e1);
    strip_zeros(&d2, &e2);
    CHECK_AT(file, line, d1 == d2 && e1 == e2,
             "%.17g: shortcut %" PRIu64 "e%d, exact %" PRIu64 "e%d", v, d1, e1, d2, e2);
}
#define CHECK_S15(v, must, st) check_s15_at(v, must, st, __FILE__, __LINE__)

static uint64_t g_s15_count;

/* Double i: 1 in 4 random bits, 1 in 4 random bits of an exponent near the
   shortcut's range (be 990 .. 1080), 1 in 2 the double of a random decimal of 1 to
   17 significant digits whose first digit is at 10^-10 .. 10^16 (the shortcut
   must decide those of at most 15 digits from the range's first binade, 2^-26,
   up to 10^15). */
static void part_s15(uint64_t lo, uint64_t hi, stats *st) {
    for (uint64_t i = lo; i < hi; i++) {
        rng r = rng_at(43, i);
        if (i % 4 < 2) {
            uint64_t b = next(&r);
            if (i % 4 == 1) b = (b & ~(UINT64_C(0x7FF) << 52)) | (990 + below(&r, 91)) << 52;
            CHECK_S15(from_bits(b), false, st);
            continue;
        }
        int nd = 1 + (int)below(&r, 17), e10 = (int)below(&r, 27) - 10;
        uint64_t m = 1 + below(&r, 9);
        for (int k = 1; k < nd; k++) m = m * 10 + below(&r, 10);
        char s[40];
        snprintf(s, sizeof s, "%" PRIu64 "e%d", m, e10 - (nd - 1));
        double v = strtod(s, NULL);
        unsigned be = (unsigned)(bits_of(v) >> 52);
        CHECK_S15(v, nd <= 15 && be >= ZM__S15_BE0 && be < ZM__S15_BE0 + ZM__S15_N && v < 1e15, st);
    }
}

static void test_shortest_15(void) {
    /* the table: 10^k and 10^(k-1) for the exponents where 0 <= k <= 22 */
    for (unsigned be = 1; be < 2047; be++) {
        int k = 14 - zm__flog10_pow2((int)be - 1023);
        unsigned i = be - ZM__S15_BE0;
        CHECK((k >= 0 && k <= 22) == (i < ZM__S15_N), "be %u: k %d", be, k);
        if (i >= ZM__S15_N) continue;
        char p[16], p0[16];
        snprintf(p, sizeof p, "1e%d", k);
        snprintf(p0, sizeof p0, "1e%d", k - 1);
        CHECK(zm__s15_pow10[i][0] == strtod(p, NULL) &&
                  zm__s15_pow10[i][1] == (k == 0 ? 0.0 : strtod(p0, NULL)),
              "be %u: 10^%d", be, k);
    }
    stats st = {0};
    /* the boundaries: both ends of every binade in and next to the range, and the
       powers of ten, the 15- and 16-digit decimals next to them and their doubles'
       neighbours */
    for (unsigned be = ZM__S15_BE0 - 2; be < ZM__S15_BE0 + ZM__S15_N + 2; be++) {
        const uint64_t ends[] = {1, 2, 3, ZM__FRAC_MASK, ZM__FRAC_MASK - 1, ZM__FRAC_MASK - 2};
        for (size_t j = 0; j < sizeof ends / sizeof ends[0]; j++)
            CHECK_S15(from_bits((uint64_t)be << 52 | ends[j]), false, &st);
    }
    for (int t = -11; t <= 17; t++) {
        const char *const forms[] = {"1e%d",
                                     "999999999999999e%d",
                                     "100000000000001e%d",
                                     "9999999999999999e%d",
                                     "1000000000000001e%d",
                                     "99999999999999e%d",
                                     "125e%d"};
        const int shift[] = {0, -15, -14, -16, -15, -14, -2};
        for (size_t j = 0; j < sizeof forms / sizeof forms[0]; j++) {
            char s[40];
            snprintf(s, sizeof s, forms[j], t + shift[j]);
            double v = strtod(s, NULL);
            for (int n = -4; n <= 4; n++) {
                double w = from_bits(bits_of(v) + (uint64_t)(int64_t)n);
                CHECK_S15(w, false, &st);
            }
        }
    }
    uint64_t fixed = st.count, fixed_hits = st.s15;
    run_split(part_s15, g_s15_count, &st);
    /* half the random doubles are decimals, about 15 in 17 of them short enough,
       and half of those in range: the shortcut must have decided many */
    CHECK(st.s15 > g_s15_count / 8, "the shortcut decided %" PRIu64 " of %" PRIu64, st.s15,
          st.count);
    printf("shortest_15: %" PRIu64 " boundary doubles (%" PRIu64 " decided) and %" PRIu64
           " random ones (%" PRIu64 " decided): digits equal to Schubfach's, texts equal to the "
           "ones written without the shortcut\n",
           fixed, fixed_hits, st.count - fixed, st.s15 - fixed_hits);
}

/* layout_1617 (num_format.h), the five stores of 16 or 17 digits with the point
   inside the first word, against layout and against js_style (built here from
   the digit string): every digit count, point position, count of trailing
   zeros (up to the integral texts it hands back to layout) and exponent around
   its range. Then doubles of that range, random and of decimals of 9 to 17
   digits, and their negatives, through zm__format_finite_inline: the text is
   js_style of Schubfach's digits and reads back to the double. */
static void check_layout_at(uint64_t d, int k, bool no_tz, const char *file, int line) {
    char got[64], want[64], ref[64], digits[24];
    memset(got, 'X', sizeof got);
    memset(want, 'Y', sizeof want);
    int n = zm__count_digits(d);
    char *e1 = no_tz ? layout_1617(got, d, k, true) : layout_1617(got, d, k, false);
    char *e2 = layout(want, d, n, k, no_tz);
    *e1 = *e2 = '\0';
    snprintf(digits, sizeof digits, "%" PRIu64, d);
    for (int i = n - 1; i > 0 && digits[i] == '0'; i--) digits[i] = '\0';
    js_style(false, digits, k + n - 1, ref);
    CHECK_AT(file, line, strcmp(got, want) == 0 && strcmp(got, ref) == 0,
             "%" PRIu64 "e%d (no_tz %d): \"%s\", layout \"%s\", expected \"%s\"", d, k, no_tz, got,
             want, ref);
    CHECK_AT(file, line, e1 - got <= ZM__DOUBLE_BUF - 2, "%" PRIu64 "e%d: too long", d, k);
}
#define CHECK_LAYOUT(d, k, no_tz) check_layout_at(d, k, no_tz, __FILE__, __LINE__)

static void check_1617_double_at(double v, uint64_t *fast, const char *file, int line) {
    uint64_t bits = bits_of(v);
    unsigned be = (unsigned)(bits >> 52) & 0x7FF;
    uint64_t frac = bits & ZM__FRAC_MASK;
    if (be == 0 || be == 0x7FF || frac == 0) return;
    uint64_t c = frac | UINT64_C(1) << 52, d;
    int q = (int)be - 1075, k;
    /* the doubles layout_1617 writes: not integers, decided by shortest_fast,
       from 1 to below 10^8 (e10 0 .. 7) */
    if (!(q <= 0 && q >= -52 && (c & ((UINT64_C(1) << -q) - 1)) == 0)) {
        uint64_t d1;
        int k1;
        int how = shortest_fast(c, be, &d1, &k1);
        int e10 = k1 + zm__count_digits(d1) - 1;
        if (how != 0 && e10 >= 0 && e10 <= 7 && !(how == 1 && d1 % 100000000 == 0)) ++*fast;
    }
    zm__shortest_exact(c, q, false, &d, &k);
    strip_zeros(&d, &k);
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, d);
    for (int neg = 0; neg < 2; neg++) {
        char got[ZM__DOUBLE_BUF], want[64];
        size_t len = zm__format_finite_inline(bits ^ (uint64_t)neg << 63, got);
        js_style(neg != 0, digits, k + n - 1, want);
        CHECK_AT(file, line, len == strlen(want) && strcmp(got, want) == 0,
                 "%.17g: \"%s\", expected \"%s\"", neg ? -v : v, got, want);
        CHECK_AT(file, line, strtod(got, NULL) == (neg ? -v : v), "%.17g: \"%s\" reads back",
                 neg ? -v : v, got);
    }
}

static void test_layout_1617(void) {
    uint64_t cases = 0;
    for (int n = 16; n <= 17; n++) {
        for (int tz = 0; tz < n; tz++) {
            rng r = rng_at(47, (uint64_t)(n * 32 + tz));
            for (int i = 0; i < 40 / g_thin + 1; i++) {
                /* n digits, the last tz of them zeros, the one before not 0 */
                uint64_t d = 1 + below(&r, 9);
                for (int j = 1; j < n - tz; j++) d = d * 10 + below(&r, 10);
                if (n - tz > 1 && d % 10 == 0) d++;
                for (int j = 0; j < tz; j++) d *= 10;
                for (int e10 = -9; e10 <= 11; e10++) {
                    CHECK_LAYOUT(d, e10 - (n - 1), false);
                    if (tz == 0) CHECK_LAYOUT(d, e10 - (n - 1), true);
                    cases++;
                }
            }
        }
    }
    uint64_t fast = 0, count = 0;
    rng r = rng_at(48, 0);
    for (int i = 0; i < 400000 / g_thin; i++) {
        double v;
        if (i % 2 == 0) { /* random bits, from 2^-1 to 2^26 */
            v = from_bits((1022 + below(&r, 27)) << 52 | (next(&r) & ZM__FRAC_MASK));
        } else { /* a decimal of 9 to 17 digits, from 10^-1 to 10^8 */
            int nd = 9 + (int)below(&r, 9);
            uint64_t m = 1 + below(&r, 9);
            for (int j = 1; j < nd; j++) m = m * 10 + below(&r, 10);
            char s[40];
            snprintf(s, sizeof s, "%" PRIu64 "e%d", m, (int)below(&r, 9) - nd);
            if (i % 64 == 1) snprintf(s, sizeof s, "%" PRIu64 "e%d", m, -nd - 1); /* below 0.1 */
            v = strtod(s, NULL);
        }
        check_1617_double_at(v, &fast, __FILE__, __LINE__);
        count++;
    }
    /* most of them are in layout_1617's range (0.1 .. 1 and 0.01 .. 0.1 are not) */
    CHECK(fast > count * 3 / 4, "layout_1617 wrote %" PRIu64 " of %" PRIu64, fast, count);
    printf("layout_1617: %" PRIu64 " digit strings equal to layout's and to the expected text; "
           "%" PRIu64 " doubles (%" PRIu64 " in its range) and their negatives written as "
           "expected\n",
           cases, count, fast);
}

int main(void) {
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
    g_rt_count = (uint64_t)(5e6 * scale) < 1000 ? 1000 : (uint64_t)(5e6 * scale);
    g_rt_oracle = (uint64_t)(1.01e6 * scale) < 200 ? 200 : (uint64_t)(1.01e6 * scale);
    g_dec_count = (uint64_t)(5e6 * scale) < 1000 ? 1000 : (uint64_t)(5e6 * scale);
    g_s15_count = (uint64_t)(4e6 * scale) < 1000 ? 1000 : (uint64_t)(4e6 * scale);
    setlocale(LC_ALL, "C");
    printf("test_num: scale %g, %d process(es), seed 0x%016" PRIx64 "\n", scale, g_jobs, g_seed);

    double t0 = now();
    test_format_examples();
    test_fast_table();
    test_shortest_15();
    test_layout_1617();
    test_hard_cases();
    test_roundtrip();
    test_decimal_strings();
    bool locale_ran = test_locale();
    if (!locale_ran) {
        /* 77: the test did not run whole; meson reports a skip, not a pass. */
        printf("test_num: every part but the locale one passed; reported as skipped [%.1f s "
               "wall, %.1f s cpu over %d process(es)]\n",
               now() - t0, cpu_now(), g_jobs);
        return 77;
    }
    printf("test_num: all passed [%.1f s wall, %.1f s cpu over %d process(es)]\n", now() - t0,
           cpu_now(), g_jobs);
    return 0;
}
