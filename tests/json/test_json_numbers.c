/* Numbers through the parser and the writer: int64 limits exactly, -0, big
   integers kept as text, hard doubles correctly rounded, and random doubles
   written and read back bit for bit. (The converters' own exhaustive tests
   live with them; these prove the integration.) */
#include <errno.h>
#include <math.h>

#include "test.h"
#include "zmem/json.h"
#include "json_eq.h"

/* Parses text (one JSON value); the root, with *doc to free. */
static zm_json *parse1(const char *text, uint32_t flags, zm_json_doc **doc) {
    zm_json_parse_opts o = {flags, 0, ZM_JSON_DUP_ERROR};
    zm_json_error e;
    if (zm_json_parse(zm_default_allocator(), text, strlen(text), &o, doc, &e) != ZM_OK) {
        fprintf(stderr, "parse of %s failed: %s\n", text, e.message);
        *doc = NULL;
        return NULL;
    }
    return zm_json_doc_root(*doc);
}

/* Writes v compactly into buf (at most cap bytes). */
static void write1(const zm_json *v, char *buf, size_t cap) {
    char *out;
    size_t len;
    zm_allocator a = zm_default_allocator();
    buf[0] = '\0';
    if (zm_json_write(a, v, 0, &out, &len) != ZM_OK) return;
    snprintf(buf, cap, "%s", out);
    zm_free(a, out, len + 1, 1);
}

static uint64_t bits(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static void test_integers(void) {
    static const struct {
        const char *text;
        zm_json_type type;
        int64_t value;
    } cases[] = {
        {"0", ZM_JSON_INT, 0},
        {"7", ZM_JSON_INT, 7},
        {"-7", ZM_JSON_INT, -7},
        {"999999999999999999", ZM_JSON_INT, 999999999999999999},
        {"1000000000000000000", ZM_JSON_INT, 1000000000000000000},
        {"9223372036854775807", ZM_JSON_INT, INT64_MAX},
        {"-9223372036854775807", ZM_JSON_INT, -INT64_MAX},
        {"-9223372036854775808", ZM_JSON_INT, INT64_MIN},
        {"9223372036854775808", ZM_JSON_NUMBER, 0},
        {"-9223372036854775809", ZM_JSON_NUMBER, 0},
        {"9999999999999999999", ZM_JSON_NUMBER, 0},
        {"10000000000000000000", ZM_JSON_NUMBER, 0},
        {"18446744073709551615", ZM_JSON_NUMBER, 0},
        {"18446744073709551616", ZM_JSON_NUMBER, 0},
        {"-123456789012345678901234567890123456789", ZM_JSON_NUMBER, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        zm_json_doc *doc;
        zm_json *v = parse1(cases[i].text, 0, &doc);
        CHECK(zm_json_typeof(v) == cases[i].type);
        if (cases[i].type == ZM_JSON_INT) {
            CHECK(zm_json_int(v) == cases[i].value);
        } else {
            CHECK_STR(zm_json_str(v, NULL), cases[i].text); /* exact text */
            int64_t out;
            CHECK(zm_json_get_int(v, &out) == ZM_ELIMIT);
        }
        char buf[64];
        write1(v, buf, sizeof buf);
        CHECK_STR(buf, cases[i].text); /* written back exactly */
        zm_json_doc_free(doc);
    }
    /* INT and NUMBER compare by value */
    zm_json_doc *d1, *d2;
    zm_json *a = parse1("[100, 12345678901234567890, 1.5]", 0, &d1);
    zm_json *b = parse1("[1e2, 12345678901234567890.0, 15e-1]", ZM_JSON_NUMBERS_AS_TEXT, &d2);
    CHECK(zt_json_eq(a, b));
    CHECK(zt_json_eq(zm_json_at(b, 1), zm_json_at(a, 1)));
    zm_json_doc_free(d2);
    b = parse1("[100, 12345678901234567891, 1.5]", 0, &d2);
    CHECK(!zt_json_eq(a, b));
    zm_json_doc_free(d2);
    zm_json_doc_free(d1);
}

static void test_negative_zero(void) {
    const char *texts[] = {"-0", "-0.0", "-0e0", "-0.000e+5", "-1e-400"};
    for (size_t i = 0; i < 5; i++) {
        zm_json_doc *doc;
        zm_json *v = parse1(texts[i], 0, &doc);
        CHECK(zm_json_typeof(v) == ZM_JSON_REAL);
        CHECK(zm_json_real(v) == 0.0 && signbit(zm_json_real(v)));
        char buf[32];
        write1(v, buf, sizeof buf);
        CHECK_STR(buf, "-0.0");
        zm_json_doc *doc2;
        zm_json *back = parse1(buf, 0, &doc2);
        CHECK(signbit(zm_json_real(back)));
        zm_json_doc_free(doc2);
        zm_json_doc_free(doc);
    }
    zm_json_doc *doc;
    zm_json *v = parse1("0", 0, &doc);
    CHECK(zm_json_typeof(v) == ZM_JSON_INT && zm_json_int(v) == 0);
    zm_json_doc_free(doc);
}

/* Hard cases: the parser must give exactly the bits given (computed
   independently); then the writer's text reads back to the same bits. */
static void test_hard_doubles(void) {
    static const struct {
        const char *text;
        uint64_t bits;
    } cases[] = {
        {"0.1", 0x3fb999999999999au},
        {"0.3", 0x3fd3333333333333u},
        {"1e23", 0x44b52d02c7e14af6u},
        {"8.589973e9", 0x42000004b0400000u},
        {"9007199254740993.0", 0x4340000000000000u}, /* tie: to even */
        {"9007199254740995.0", 0x4340000000000002u}, /* tie: to even (up) */
        {"2.2250738585072011e-308", 0x000fffffffffffffu},
        {"2.2250738585072012e-308", 0x0010000000000000u},
        {"2.2250738585072014e-308", 0x0010000000000000u},
        {"4.9406564584124654e-324", 0x0000000000000001u},
        {"2.4703282292062327e-324", 0x0000000000000000u}, /* just below half: 0 */
        {"2.4703282292062328e-324", 0x0000000000000001u}, /* just above half */
        {"1.7976931348623157e308", 0x7fefffffffffffffu},
        {"1.7976931348623158e308", 0x7fefffffffffffffu},
        {"7.2057594037927933e16", 0x4370000000000000u},
        {"123456789012345678901234567890e-10", 0x43e56a95319d63e1u},
        {"0.000000000000000000000000000000000000000000001e-10", 0x34839dae6f76d883u},
        {"3.141592653589793238462643383279502884197169399375105820974944", 0x400921fb54442d18u},
        {"1.00000000000000011102230246251565404236316680908203125", 0x3ff0000000000000u},
        {"1.00000000000000011102230246251565404236316680908203126", 0x3ff0000000000001u},
        {"5e-324", 0x0000000000000001u},
        {"1e-400", 0x0000000000000000u},
        {"179769313486231580793728971405301e276", 0x7fefffffffffffffu},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        zm_json_doc *doc;
        zm_json *v = parse1(cases[i].text, 0, &doc);
        CHECK(zm_json_typeof(v) == ZM_JSON_REAL);
        double d = zm_json_real(v);
        if (bits(d) != cases[i].bits)
            fprintf(stderr, "%s: got %016llx want %016llx\n", cases[i].text,
                    (unsigned long long)bits(d), (unsigned long long)cases[i].bits);
        CHECK(bits(d) == cases[i].bits);
        char buf[64];
        write1(v, buf, sizeof buf);
        zm_json_doc *doc2;
        zm_json *back = parse1(buf, 0, &doc2);
        CHECK(back && bits(zm_json_real(back)) == cases[i].bits);
        zm_json_doc_free(doc2);
        zm_json_doc_free(doc);
    }
    /* Overflow keeps the exact text (no error), in strict mode too. */
    const char *over[] = {"1e309", "-1.8e308", "1.7976931348623159e308", "123e999999999999"};
    for (size_t i = 0; i < 4; i++) {
        zm_json_doc *doc;
        zm_json *v = parse1(over[i], 0, &doc);
        CHECK(zm_json_typeof(v) == ZM_JSON_NUMBER);
        CHECK_STR(zm_json_str(v, NULL), over[i]);
        CHECK(isinf(zm_json_real(v)));
        zm_json_doc_free(doc);
    }
}

/* xorshift64*, so the run is the same everywhere. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

/* Random finite doubles of every magnitude (random bits) and of everyday
   shapes (short decimals), written in batches and read back bit for bit. */
static void test_random_round_trip(void) {
    size_t total = zt_small() ? 20000 : 1000000, batch = 10000, bad = 0;
    zm_allocator a = zm_default_allocator();
    double *vals = malloc(batch * sizeof *vals);
    static const double p10[12] = {1, 10, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11};
    for (size_t done = 0; done < total; done += batch) {
        zm_arena ar;
        zm_arena_init(&ar, a);
        zm_allocator aa = zm_arena_allocator(&ar);
        zm_json *arr = zm_json_new_array(aa, batch);
        for (size_t i = 0; i < batch; i++) {
            double d;
            do {
                uint64_t u = rnd();
                if (i % 4 == 3) {
                    /* a short decimal, like 1234.5678 or 0.001 */
                    d = (double)(u % 100000000) / p10[(u >> 32) % 12];
                    if (u >> 63) d = -d;
                } else {
                    memcpy(&d, &u, 8);
                }
            } while (!isfinite(d));
            vals[i] = d;
            zm_json_array_push(aa, arr, zm_json_new_real(aa, d));
        }
        char *out;
        size_t len;
        CHECK(zm_json_write(a, arr, 0, &out, &len) == ZM_OK);
        zm_json *back = NULL;
        CHECK(zm_json_parse_arena(&ar, out, len, NULL, &back, NULL) == ZM_OK);
        CHECK(zm_json_len(back) == batch);
        for (size_t i = 0; i < batch; i++) {
            const zm_json *v = zm_json_at(back, i);
            /* integral doubles print like 1.0 and read back as REAL too */
            if (zm_json_typeof(v) != ZM_JSON_REAL || bits(zm_json_real(v)) != bits(vals[i])) {
                if (bad++ < 5)
                    fprintf(stderr, "%.17g did not round-trip (type %d, got %.17g)\n", vals[i],
                            (int)zm_json_typeof(v), zm_json_real(v));
            }
        }
        zm_free(a, out, len + 1, 1);
        zm_arena_deinit(&ar);
    }
    CHECK_EQ(bad, 0);
    free(vals);
}

/* A random JSON number as text: 1 to 24 digits laid out as an integer, a
   fraction or with leading zeros after "0.", an exponent in 1 of 2; lengths and
   exponents cover the parser's one-pass fast path (up to 19 digits), the full
   path beyond it, and the exponents where results overflow or underflow. */
static size_t random_number(char *s) {
    uint64_t u = rnd(), r = rnd();
    char *o = s;
    if (u & 1) *o++ = '-';
    int nd = 1 + (int)((u >> 1) % 24);
    int layout = (int)((u >> 8) % 4);
    if (layout == 0) { /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (int k = (int)((u >> 12) % 8); k > 0; k--) *o++ = '0';
        for (int k = 0; k < nd; k++) *o++ = (char)('0' + rnd() % 10);
    } else {
        int nint = 1 + (int)((u >> 16) % (uint64_t)nd);
        *o++ = (char)('1' + r % 9);
        for (int k = 1; k < nd; k++) {
            if (k == nint && layout != 1) *o++ = '.';
            *o++ = (char)('0' + rnd() % 10);
        }
    }
    if (u >> 24 & 1) {
        *o++ = u >> 25 & 1 ? 'e' : 'E';
        int e = r >> 8 & 1 ? (int)((r >> 16) % 41) - 20 : (int)((r >> 16) % 700) - 350;
        if (e < 0)
            *o++ = '-';
        else if (r >> 9 & 1)
            *o++ = '+';
        o += sprintf(o, "%d", e < 0 ? -e : e);
    }
    *o = '\0';
    return (size_t)(o - s);
}

/* Random numbers through the parser (its own one-pass scan and fast paths, not
   just the converter tested in test_num.c), in arrays written compactly and
   with a space after each comma: every REAL equals strtod bit for bit, every
   INT strtoll, and what overflows a double or int64 is kept as its text. */
static void test_random_parse(void) {
    size_t total = zt_small() ? 20000 : 1000000, batch = 5000, bad = 0;
    zm_allocator a = zm_default_allocator();
    char *text = malloc(batch * 48 + 16), *nums = malloc(batch * 40);
    size_t *off = malloc(batch * sizeof *off);
    for (size_t done = 0, round = 0; done < total; done += batch, round++) {
        char *o = text;
        *o++ = '[';
        for (size_t i = 0; i < batch; i++) {
            off[i] = (size_t)(o - text);
            o += random_number(o);
            if (i + 1 < batch) {
                *o++ = ',';
                if (round & 1) *o++ = ' ';
            }
        }
        *o++ = ']';
        size_t len = (size_t)(o - text);
        zm_json_doc *doc;
        zm_json_error e;
        if (zm_json_parse(a, text, len, NULL, &doc, &e) != ZM_OK) {
            fprintf(stderr, "random numbers: %s at %zu\n", e.message, e.offset);
            CHECK(0);
            break;
        }
        const zm_json *root = zm_json_doc_root(doc);
        CHECK(zm_json_len(root) == batch);
        for (size_t i = 0; i < batch && i < zm_json_len(root); i++) {
            const char *t = text + off[i];
            size_t n = strcspn(t, ",]");
            memcpy(nums, t, n);
            nums[n] = '\0';
            const zm_json *v = zm_json_at(root, i);
            bool ok;
            if (strpbrk(nums, ".eE") == NULL) {
                errno = 0;
                long long ll = strtoll(nums, NULL, 10);
                ok = errno == ERANGE ? zm_json_typeof(v) == ZM_JSON_NUMBER
                     : ll == 0 && nums[0] == '-'
                         ? zm_json_typeof(v) == ZM_JSON_REAL && bits(zm_json_real(v)) == bits(-0.0)
                         : zm_json_typeof(v) == ZM_JSON_INT && zm_json_int(v) == ll;
            } else {
                double want = strtod(nums, NULL);
                ok = isinf(want)
                         ? zm_json_typeof(v) == ZM_JSON_NUMBER
                         : zm_json_typeof(v) == ZM_JSON_REAL && bits(zm_json_real(v)) == bits(want);
            }
            if (!ok && bad++ < 5)
                fprintf(stderr, "random numbers: \"%s\" parsed as type %d, %.17g\n", nums,
                        (int)zm_json_typeof(v), zm_json_real(v));
        }
        zm_json_doc_free(doc);
    }
    CHECK_EQ(bad, 0);
    free(text);
    free(nums);
    free(off);
}

/* A real of the shape coordinates and meshes use, [-]d{1,4}.d{1,18}, one in
   eight with an exponent, one in eight "0.ddd": around the parser's
   straight-line path for [-]d{1,3}.d{1,15} and at each of its edges. */
static size_t short_real(char *s) {
    uint64_t u = rnd();
    char *o = s;
    if (u & 1) *o++ = '-';
    int nint = 1 + (int)((u >> 1) % 4), nfrac = 1 + (int)((u >> 3) % 18);
    if ((u >> 8) % 8 == 0) {
        *o++ = '0';
    } else {
        *o++ = (char)('1' + rnd() % 9);
        for (int k = 1; k < nint; k++) *o++ = (char)('0' + rnd() % 10);
    }
    *o++ = '.';
    for (int k = 0; k < nfrac; k++) *o++ = (char)('0' + rnd() % 10);
    if ((u >> 11) % 8 == 0) o += sprintf(o, "e%d", (int)((u >> 14) % 40) - 20);
    *o = '\0';
    return (size_t)(o - s);
}

/* Short reals in pairs ("[[a,b],[c,d],...]": canada's coordinates) and in one
   long array, compact: each REAL equals strtod bit for bit. Then the shapes
   next to the straight-line path that are errors. */
static void test_short_reals(void) {
    size_t total = zt_small() ? 20000 : 400000, batch = 4000, bad = 0;
    zm_allocator a = zm_default_allocator();
    char *text = malloc(batch * 40 + 16);
    size_t *off = malloc(batch * sizeof *off);
    for (size_t done = 0, round = 0; done < total; done += batch, round++) {
        bool pairs = round & 1;
        char *o = text;
        *o++ = '[';
        for (size_t i = 0; i < batch; i++) {
            if (pairs && i % 2 == 0) *o++ = '[';
            off[i] = (size_t)(o - text);
            o += short_real(o);
            if (pairs && i % 2 == 1) *o++ = ']';
            if (i + 1 < batch) *o++ = ',';
        }
        *o++ = ']';
        zm_json_doc *doc;
        zm_json_error e;
        if (zm_json_parse(a, text, (size_t)(o - text), NULL, &doc, &e) != ZM_OK) {
            fprintf(stderr, "short reals: %s at %zu\n", e.message, e.offset);
            CHECK(0);
            break;
        }
        const zm_json *root = zm_json_doc_root(doc);
        CHECK(zm_json_len(root) == (pairs ? batch / 2 : batch));
        for (size_t i = 0; i < batch; i++) {
            const zm_json *v =
                pairs ? zm_json_at(zm_json_at(root, i / 2), i % 2) : zm_json_at(root, i);
            double want = strtod(text + off[i], NULL);
            if ((zm_json_typeof(v) != ZM_JSON_REAL || bits(zm_json_real(v)) != bits(want)) &&
                bad++ < 5)
                fprintf(stderr, "short reals: \"%.24s\" parsed as type %d, %.17g\n", text + off[i],
                        (int)zm_json_typeof(v), zm_json_real(v));
        }
        zm_json_doc_free(doc);
    }
    CHECK_EQ(bad, 0);
    free(text);
    free(off);
    /* near the text's start (fewer than 16 bytes before a number's end) */
    const char *near[] = {"[1,2.5,-3.25]", "[1.5,2.25,-3.125,4.0625]", "[[1.5,2.25]]",
                          "[0,0.1,0.2]"};
    const double want[][4] = {
        {1, 2.5, -3.25}, {1.5, 2.25, -3.125, 4.0625}, {1.5, 2.25}, {0, 0.1, 0.2}};
    for (size_t i = 0; i < sizeof near / sizeof *near; i++) {
        zm_json_doc *doc;
        const zm_json *root = parse1(near[i], 0, &doc);
        CHECK(root != NULL);
        if (root == NULL) continue;
        if (i == 2) root = zm_json_at(root, 0);
        for (size_t k = 0; k < zm_json_len(root); k++) {
            const zm_json *v = zm_json_at(root, k);
            double got =
                zm_json_typeof(v) == ZM_JSON_INT ? (double)zm_json_int(v) : zm_json_real(v);
            CHECK(bits(got) == bits(want[i][k]));
        }
        zm_json_doc_free(doc);
    }
    const char *wrong[] = {"[1.5,01.5]",    "[1.5,1.]",   "[1.5,-.5]",    "[1.5,1.5e]",
                           "[1.5,1.5.3]",   "[1.5,1.5x]", "[[1.5,00.5]]", "[[-1.]]",
                           "[[1.5,2.5e+]]", "[[1.5-2]]"};
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        zm_json_doc *doc;
        zm_json_error e;
        CHECK(zm_json_parse(a, wrong[i], strlen(wrong[i]), NULL, &doc, &e) == ZM_ESYNTAX);
    }
}

/* An item of an array of indices: an integer of 1 to 10 digits (one in 16 with
   a leading zero, "-0" or "0"), one in 16 a short real, one in 32 a long
   integer of 19 to 20 digits: around the parser's run of integers (up to 7
   digits after the sign) and each of its edges. */
static size_t index_item(char *s) {
    uint64_t u = rnd();
    char *o = s;
    if (u & 1) *o++ = '-';
    unsigned kind = (unsigned)(u >> 1) % 32;
    if (kind == 0) return short_real(s); /* its own sign */
    if (kind == 1) {
        *o++ = '0';
    } else {
        int nd = kind == 2 ? 19 + (int)(u >> 6 & 1) : 1 + (int)((u >> 6) % 10);
        *o++ = (char)('1' + rnd() % 9);
        for (int k = 1; k < nd; k++) *o++ = (char)('0' + rnd() % 10);
    }
    *o = '\0';
    return (size_t)(o - s);
}

/* Compact arrays of integers of 1 to 48 items ("[[12,-7,4031],[5,...],...]":
   a mesh's indices), one in four of them opened by a real: each INT equals
   strtoll, "-0" is the REAL -0.0, what overflows int64 is kept as text, the
   reals equal strtod; with ZM_JSON_NUMBERS_AS_TEXT every item keeps its text.
   Then the shapes next to the run of integers that are errors. */
static void test_index_arrays(void) {
    size_t total = zt_small() ? 20000 : 400000, batch = 4000, bad = 0;
    zm_allocator a = zm_default_allocator();
    char *text = malloc(batch * 34 + 16);
    size_t *off = malloc(batch * sizeof *off), *at = malloc(batch * sizeof *at);
    for (size_t done = 0, round = 0; done < total; done += batch, round++) {
        char *o = text;
        size_t arrays = 0;
        *o++ = '[';
        for (size_t i = 0; i < batch;) {
            size_t len = 1 + rnd() % 48, real = round % 3 == 1 && rnd() % 4 == 0;
            *o++ = arrays++ ? ',' : '[';
            if (o[-1] == ',') *o++ = '[';
            for (size_t k = 0; k < len && i < batch; k++, i++) {
                if (k) *o++ = ',';
                off[i] = (size_t)(o - text);
                at[i] = (arrays - 1) << 8 | k;
                o += k < real ? short_real(o) : index_item(o);
            }
            *o++ = ']';
        }
        *o++ = ']';
        uint32_t flags = round % 3 == 2 ? ZM_JSON_NUMBERS_AS_TEXT : 0;
        zm_json_parse_opts opts = {flags, 0, ZM_JSON_DUP_ERROR};
        zm_json_doc *doc;
        zm_json_error e;
        if (zm_json_parse(a, text, (size_t)(o - text), &opts, &doc, &e) != ZM_OK) {
            fprintf(stderr, "index arrays: %s at %zu\n", e.message, e.offset);
            CHECK(0);
            break;
        }
        const zm_json *root = zm_json_doc_root(doc);
        CHECK(zm_json_len(root) == arrays);
        for (size_t i = 0; i < batch; i++) {
            char num[40];
            size_t n = strcspn(text + off[i], ",]");
            memcpy(num, text + off[i], n);
            num[n] = '\0';
            const zm_json *v = zm_json_at(zm_json_at(root, at[i] >> 8), at[i] & 0xFF);
            bool ok;
            if (v == NULL) {
                ok = false;
            } else if (flags) {
                ok = zm_json_typeof(v) == ZM_JSON_NUMBER && strcmp(zm_json_str(v, NULL), num) == 0;
            } else if (strpbrk(num, ".eE") != NULL) {
                ok = zm_json_typeof(v) == ZM_JSON_REAL &&
                     bits(zm_json_real(v)) == bits(strtod(num, NULL));
            } else {
                errno = 0;
                long long ll = strtoll(num, NULL, 10);
                ok = errno == ERANGE ? zm_json_typeof(v) == ZM_JSON_NUMBER
                     : ll == 0 && num[0] == '-'
                         ? zm_json_typeof(v) == ZM_JSON_REAL && bits(zm_json_real(v)) == bits(-0.0)
                         : zm_json_typeof(v) == ZM_JSON_INT && zm_json_int(v) == ll;
            }
            if (!ok && bad++ < 5)
                fprintf(stderr, "index arrays: \"%s\" parsed as type %d\n", num,
                        v ? (int)zm_json_typeof(v) : -1);
        }
        zm_json_doc_free(doc);
    }
    CHECK_EQ(bad, 0);
    free(text);
    free(off);
    free(at);
    const char *wrong[] = {"[1,2,01]",  "[1,2,-01]", "[1,2,-]",   "[1,2,-x]", "[1,2,3",
                           "[1,2,3x]",  "[1,2,3,]",  "[1,2,3.]",  "[1,2,3e]", "[1,2,-3.e1]",
                           "[1,2,3-4]", "[1,2,00]",  "[1,2,3,,]", "[1,2,3 4]"};
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        zm_json_doc *doc;
        zm_json_error e;
        CHECK(zm_json_parse(a, wrong[i], strlen(wrong[i]), NULL, &doc, &e) == ZM_ESYNTAX);
    }
}

int main(void) {
    RUN(test_integers);
    RUN(test_negative_zero);
    RUN(test_hard_doubles);
    RUN(test_random_round_trip);
    RUN(test_random_parse);
    RUN(test_short_reals);
    RUN(test_index_arrays);
    return zt_finish("json_numbers");
}
