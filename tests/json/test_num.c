/* The number converters' known cases: exact texts the writer must give, and the
   hard cases of parsing, each checked against strtod (num_test.h: the checks and
   the environment). */
#define _POSIX_C_SOURCE 200809L

#include "num_test.h"

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

int main(void) {
    num_setup("test_num");
    double t0 = now();
    test_format_examples();
    test_hard_cases();
    num_passed("test_num", t0);
    return 0;
}
