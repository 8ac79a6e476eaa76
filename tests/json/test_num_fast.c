/* The writer's fast paths: the table per exponent against the formulas, the
   15-digit shortcut and the 16-17 digit layout, each against Schubfach's digits
   and the text written without them (num_test.h: the checks and the environment). */
#define _POSIX_C_SOURCE 200809L

#include "num_test.h"

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
    double scale = num_setup("test_num_fast");
    g_s15_count = num_count(scale, 4e6, 1000);
    double t0 = now();
    test_fast_table();
    test_shortest_15();
    test_layout_1617();
    num_passed("test_num_fast", t0);
    return 0;
}
