/* The number converters at random: millions of doubles formatted and parsed back
   bit for bit, random decimal strings parsed as strtod does, and both under a
   locale whose decimal point is ',' (num_test.h: the checks and the environment). */
#define _POSIX_C_SOURCE 200809L

#include "num_test.h"

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

int main(void) {
    double scale = num_setup("test_num_random");
    g_rt_count = num_count(scale, 5e6, 1000);
    g_rt_oracle = num_count(scale, 1.01e6, 200);
    g_dec_count = num_count(scale, 5e6, 1000);
    double t0 = now();
    test_roundtrip();
    test_decimal_strings();
    if (!test_locale()) {
        /* 77: the test did not run whole; meson reports a skip, not a pass. */
        printf("test_num_random: every part but the locale one passed; reported as skipped "
               "[%.1f s wall, %.1f s cpu over %d process(es)]\n",
               now() - t0, cpu_now(), g_jobs);
        return 77;
    }
    num_passed("test_num_random", t0);
    return 0;
}
