/* The parser's values: what a parsed document holds (strings with NUL
   bytes, numbers, nesting), big objects, duplicate keys under each policy, the
   relaxed values (NaN, lone surrogates, numbers as text), number arrays, NUL
   bytes. */
#include "json_parse_test.h"

static void test_values(void) {
    static const char text[] = "{\"s\":\"a\\u0000b\\n\",\"i\":-42,\"r\":2.5,\"t\":true,\"f\":false,"
                               "\"z\":null,\"a\":[1,[2,[3]]],\"e\":\"\",\"u\":\"\\ud83d\\ude00\","
                               "\"n0\":-0,\"big\":18446744073709551616,\"max\":9223372036854775807,"
                               "\"min\":-9223372036854775808,\"huge\":-1e999}";
    zm_json_doc *doc = parse(text, sizeof text - 1, 0);
    CHECK(doc != NULL);
    zm_json *r = zm_json_doc_root(doc);
    CHECK(zm_json_is_object(r) && zm_json_len(r) == 14);
    size_t len;
    const char *s = zm_json_str(zm_json_get(r, "s"), &len);
    CHECK(len == 4 && memcmp(s, "a\0b\n", 5) == 0); /* escaped NUL kept, length-counted */
    CHECK_EQ(zm_json_int(zm_json_get(r, "i")), -42);
    CHECK(zm_json_real(zm_json_get(r, "r")) == 2.5);
    CHECK(zm_json_bool(zm_json_get(r, "t")) && !zm_json_bool(zm_json_get(r, "f")));
    CHECK(zm_json_is_null(zm_json_get(r, "z")) && zm_json_get(r, "z") != NULL);
    zm_json *arr = zm_json_get(r, "a");
    CHECK(zm_json_len(arr) == 2 &&
          zm_json_int(zm_json_at(zm_json_at(zm_json_at(arr, 1), 1), 0)) == 3);
    CHECK(zm_json_str(zm_json_get(r, "e"), &len) != NULL && len == 0);
    s = zm_json_str(zm_json_get(r, "u"), &len);
    CHECK(len == 4 && memcmp(s, "\xf0\x9f\x98\x80", 4) == 0);
    zm_json *n0 = zm_json_get(r, "n0");
    CHECK(zm_json_typeof(n0) == ZM_JSON_REAL && zm_json_real(n0) == 0 && signbit(zm_json_real(n0)));
    zm_json *big = zm_json_get(r, "big");
    CHECK(zm_json_typeof(big) == ZM_JSON_NUMBER);
    CHECK_STR(zm_json_str(big, NULL), "18446744073709551616");
    int64_t v;
    CHECK(zm_json_get_int(big, &v) == ZM_ELIMIT);
    CHECK(zm_json_real(big) == 18446744073709551616.0);
    CHECK(zm_json_get_int(zm_json_get(r, "max"), &v) == ZM_OK && v == INT64_MAX);
    CHECK(zm_json_get_int(zm_json_get(r, "min"), &v) == ZM_OK && v == INT64_MIN);
    zm_json *huge = zm_json_get(r, "huge");
    CHECK(zm_json_typeof(huge) == ZM_JSON_NUMBER && zm_json_real(huge) == -INFINITY);
    CHECK_STR(zm_json_str(huge, NULL), "-1e999");
    CHECK_STR(zm_json_member_at(r, 0)->key, "s"); /* insertion order */
    CHECK_STR(zm_json_member_at(r, 13)->key, "huge");
    zm_json_doc_free(doc);
    zm_json_doc_free(NULL);
    CHECK(zm_json_doc_root(NULL) == NULL);
}

/* A large object gets a hash index at parse time; lookups and order agree. */
static void test_big_object(void) {
    char *text = malloc(64 * 1000 + 16);
    size_t n = 0;
    text[n++] = '{';
    for (int k = 0; k < 1000; k++)
        n += (size_t)sprintf(text + n, "%s\"key%d\":%d", k ? "," : "", k, k);
    text[n++] = '}';
    zm_json_doc *doc = parse(text, n, 0);
    zm_json *r = zm_json_doc_root(doc);
    CHECK(r && r->hash_cap >= 2000);
    char key[16];
    for (int k = 0; k < 1000; k++) {
        snprintf(key, sizeof key, "key%d", k);
        CHECK_EQ(zm_json_int(zm_json_get(r, key)), k);
        CHECK_STR(zm_json_member_at(r, (size_t)k)->key, key);
    }
    CHECK(zm_json_get(r, "key1000") == NULL && zm_json_get(r, "") == NULL);
    zm_json_doc_free(doc);
    /* A duplicate at the end of a large object is found through the index. */
    n -= 1;
    n += (size_t)sprintf(text + n, ",\"key500\":1}");
    zm_json_error e;
    CHECK(zm_json_parse(zm_default_allocator(), text, n, NULL, &doc, &e) == ZM_ESYNTAX);
    CHECK(strstr(e.message, "duplicate key \"key500\"") != NULL);
    free(text);
}

static void test_duplicates(void) {
    static const char small[] = "{\"a\":1,\"b\":2,\"a\":3,\"c\":4,\"b\":5}";
    for (int big = 0; big < 2; big++) {
        char text[512];
        size_t n;
        if (big) { /* the same through the hash index */
            n = (size_t)sprintf(text, "{\"a\":1,\"b\":2,\"a\":3,\"c\":4,\"b\":5");
            for (int k = 0; k < 20; k++) n += (size_t)sprintf(text + n, ",\"x%d\":0", k);
            text[n++] = '}';
        } else {
            n = sizeof small - 1;
            memcpy(text, small, n);
        }
        zm_json_parse_opts first = {0, 0, ZM_JSON_DUP_FIRST}, last = {0, 0, ZM_JSON_DUP_LAST};
        zm_json_doc *doc;
        CHECK(zm_json_parse(zm_default_allocator(), text, n, NULL, &doc, NULL) == ZM_ESYNTAX);
        CHECK(zm_json_parse(zm_default_allocator(), text, n, &first, &doc, NULL) == ZM_OK);
        zm_json *r = zm_json_doc_root(doc);
        CHECK_EQ(zm_json_len(r), big ? 23 : 3);
        CHECK_EQ(zm_json_int(zm_json_get(r, "a")), 1);
        CHECK_EQ(zm_json_int(zm_json_get(r, "b")), 2);
        CHECK_STR(zm_json_member_at(r, 2)->key, "c");
        zm_json_doc_free(doc);
        CHECK(zm_json_parse(zm_default_allocator(), text, n, &last, &doc, NULL) == ZM_OK);
        r = zm_json_doc_root(doc);
        CHECK_EQ(zm_json_len(r), big ? 23 : 3);
        CHECK_STR(zm_json_member_at(r, 0)->key, "a"); /* at the first one's position */
        CHECK_EQ(zm_json_int(zm_json_member_at(r, 0)->value), 3);
        CHECK_EQ(zm_json_int(zm_json_get(r, "b")), 5);
        CHECK_EQ(zm_json_int(zm_json_get(r, "c")), 4);
        zm_json_doc_free(doc);
    }
}

static void test_relaxed_values(void) {
    zm_json_doc *doc = parse(T("[NaN,Infinity,-Infinity,1]"), ZM_JSON_ALLOW_NAN_INF);
    zm_json *r = zm_json_doc_root(doc);
    CHECK(isnan(zm_json_real(zm_json_at(r, 0))));
    CHECK(zm_json_real(zm_json_at(r, 1)) == INFINITY &&
          zm_json_real(zm_json_at(r, 2)) == -INFINITY);
    zm_json_doc_free(doc);
    doc = parse(T("[\"\\ud800x\",\"\\udfff\"]"), ZM_JSON_ALLOW_LONE_SURROGATES);
    r = zm_json_doc_root(doc);
    size_t len;
    const char *s = zm_json_str(zm_json_at(r, 0), &len);
    CHECK(len == 4 && memcmp(s, "\xed\xa0\x80x", 4) == 0); /* WTF-8 */
    s = zm_json_str(zm_json_at(r, 1), &len);
    CHECK(len == 3 && memcmp(s, "\xed\xbf\xbf", 3) == 0);
    zm_json_doc_free(doc);
    doc = parse(T("[1,-0,2.50,1e2,123456789012345678901234567890]"), ZM_JSON_NUMBERS_AS_TEXT);
    r = zm_json_doc_root(doc);
    const char *want[] = {"1", "-0", "2.50", "1e2", "123456789012345678901234567890"};
    for (size_t i = 0; i < 5; i++) {
        CHECK(zm_json_typeof(zm_json_at(r, i)) == ZM_JSON_NUMBER);
        CHECK_STR(zm_json_str(zm_json_at(r, i), NULL), want[i]);
    }
    int64_t v;
    CHECK(zm_json_get_int(zm_json_at(r, 0), &v) == ZM_OK && v == 1);
    CHECK(zm_json_get_int(zm_json_at(r, 3), &v) == ZM_OK && v == 100);
    CHECK(zm_json_get_int(zm_json_at(r, 2), &v) == ZM_ELIMIT);
    CHECK(zm_json_real(zm_json_at(r, 2)) == 2.5);
    zm_json_doc_free(doc);
}

/* Arrays that open on a number ("[1.5,-2]") are read by a path of their own
   while they hold only numbers separated by single commas, and handed to the
   main loop at anything else (an integer first, a space, another kind of
   value, more than 16 items). The same values with spaces after the commas go
   the general way: both must parse alike, and fail alike. */
static void test_number_arrays(void) {
    const char *texts[] = {
        "[1.5]",
        "[1.5,-2]",
        "[-65.613616999999977,43.420273000000009]",
        "[[1.5,2],[3.25,-4e3],[0.5,1E-2,7]]",
        "[1.5,2,\"a\",null]",
        "[1.5,2,[3.5,4]]",
        "[1.5,2,{\"a\":[0.5,1]}]",
        "[1,2.5,3]",
        "[-1.5,123456789012345678901234567890,1e400,-0.0,0.1]",
        "[1.5,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]",
        "[1.5,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18.5]",
        "{\"a\":[1.5,2],\"b\":[-3.5],\"c\":[1.0e1,2]}",
        "[[[[[[0.5]]]]],[2.5,[]]]",
        /* arrays of two reals one after another, and the shapes next to them */
        "[[1.5,2.5],[-3.25,4.125],[1.5,2.5,3.5],[0.5,-0.5],[1,2.5],[1.5,2],[7.5,1.5e1],[1.5,2.5]]",
        "[[[-65.613616999999977,43.420273000000009],[-65.625,43.421379000000059]],[[0.5,1.5]]]",
        "{\"a\":[[1.5,2.5],[3.5,4.5]],\"b\":[1.5,2.5],\"c\":[[1.5,2.5]],\"d\":[1.5,2.5]}",
        "[{\"a\":1},[1.5,2.5],[3.5,4.5],\"x\",[5.5,6.5],[1.5,2.5],[]]",
        "[[1.5,2.5],[1234.5,2.5],[1.5,2.5],[1.5,2.1234567890123456],[1.5,2.5],[-1.5,-0.0]]",
    };
    zm_allocator a = zm_default_allocator();
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        /* the general way: a space after every comma */
        char spaced[512];
        size_t n = 0;
        for (const char *c = texts[i]; *c && n + 2 < sizeof spaced; c++) {
            spaced[n++] = *c;
            if (*c == ',') spaced[n++] = ' ';
        }
        spaced[n] = '\0';
        zm_json_doc *x = NULL, *y = NULL;
        CHECK(zm_json_parse(a, texts[i], strlen(texts[i]), NULL, &x, NULL) == ZM_OK);
        CHECK(zm_json_parse(a, spaced, n, NULL, &y, NULL) == ZM_OK);
        bool eq = x && y && zt_json_eq(zm_json_doc_root(x), zm_json_doc_root(y));
        if (!eq) fprintf(stderr, "number array %zu differs: %s\n", i, texts[i]);
        CHECK(eq);
        /* written back, the compact text comes out as it went in (modulo the
           shortest form of each number) and reads back equal */
        char *out = NULL;
        size_t out_len = 0;
        CHECK(zm_json_write(a, zm_json_doc_root(x), 0, &out, &out_len) == ZM_OK);
        zm_json_doc *z = NULL;
        CHECK(zm_json_parse(a, out, out_len, NULL, &z, NULL) == ZM_OK);
        CHECK(z && zt_json_eq(zm_json_doc_root(x), zm_json_doc_root(z)));
        zm_free(a, out, out_len + 1, 1);
        zm_json_doc_free(x);
        zm_json_doc_free(y);
        zm_json_doc_free(z);
    }
    zm_json_doc *d = parse(T("[[1.5,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18.5],[0.25,-8]]"), 0);
    zm_json *r = zm_json_doc_root(d);
    CHECK(zm_json_len(zm_json_at(r, 0)) == 18 && zm_json_len(zm_json_at(r, 1)) == 2);
    CHECK(zm_json_real(zm_json_at(zm_json_at(r, 0), 17)) == 18.5);
    CHECK(zm_json_int(zm_json_at(zm_json_at(r, 0), 16)) == 17);
    CHECK(zm_json_real(zm_json_at(zm_json_at(r, 1), 1)) == -8.0);
    zm_json_doc_free(d);

    /* errors inside such an array: where and what, as the general way says */
    const struct {
        const char *text;
        size_t column;
        const char *msg;
    } bad[] = {
        {"[1.5,01]", 7, "leading zeros"},
        {"[1.5,1.]", 8, "expected a digit after '.'"},
        {"[1.5,1e]", 8, "expected a digit in the exponent"},
        {"[1.5,2,]", 8, "expected a value, found ']'"},
        {"[1.5,2}", 7, "expected ',' or ']' after an array item, found '}'"},
        {"[1.5,2", 7, "expected ',' or ']' after an array item, found the end"},
        {"[1.5 2]", 6, "expected ',' or ']' after an array item, found '2'"},
        {"[1.5,-]", 7, "expected a digit after '-'"},
        {"[1.5]]", 6, "expected the end of the input"},
        /* after arrays of two reals, only in an array may another follow */
        {"[1.5,2.5],[3.5,4.5]", 10, "expected the end of the input"},
        {"{\"a\":[1.5,2.5],[3.5,4.5]}", 16, "a string key"},
        {"[[1.5,2.5],[3.5,4.5]", 21, "found the end"},
        {"[[1.5,2.5],[3.5,4.5]}", 21, "found '}'"},
        {"[[1.5,2.5],[3.5,4.5],]", 22, "expected a value, found ']'"},
        {"[[1.5,2.5],[3.5,4.5,]]", 21, "expected a value, found ']'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        zm_json_error e;
        zm_json_doc *doc = NULL;
        zm_status st = zm_json_parse(a, bad[i].text, strlen(bad[i].text), NULL, &doc, &e);
        bool ok = st == ZM_ESYNTAX && doc == NULL && e.line == 1 && e.column == bad[i].column &&
                  strstr(e.message, bad[i].msg) != NULL;
        if (!ok) fprintf(stderr, "%s: %zu:%zu %s\n", bad[i].text, e.line, e.column, e.message);
        CHECK(ok);
    }
    /* the depth limit holds for them too */
    zm_json_parse_opts o = {0, 2, ZM_JSON_DUP_ERROR};
    zm_json_doc *doc = NULL;
    CHECK(zm_json_parse(a, "[[1.5,2]]", 9, &o, &doc, NULL) == ZM_OK);
    zm_json_doc_free(doc);
    doc = NULL;
    CHECK(zm_json_parse(a, "[[[1.5,2]]]", 11, &o, &doc, NULL) == ZM_EDEPTH);
    /* trailing commas, when allowed, close them */
    o = (zm_json_parse_opts){ZM_JSON_ALLOW_TRAILING_COMMAS, 0, ZM_JSON_DUP_ERROR};
    CHECK(zm_json_parse(a, "[1.5,2,]", 8, &o, &doc, NULL) == ZM_OK);
    CHECK(zm_json_len(zm_json_doc_root(doc)) == 2);
    zm_json_doc_free(doc);
}

/* NUL bytes: escaped inside strings they are kept; raw anywhere, rejected. */
static void test_nul(void) {
    zm_json_doc *doc = parse(T("{\"k\\u0000ey\":\"\\u0000\\u0000\"}"), 0);
    zm_json *r = zm_json_doc_root(doc);
    const zm_json_member *m = zm_json_member_at(r, 0);
    CHECK(m && m->key_len == 4 && memcmp(m->key, "k\0ey", 5) == 0);
    CHECK(zm_json_getn(r, "k\0ey", 4) == m->value);
    CHECK(zm_json_get(r, "k") == NULL);
    size_t len;
    const char *s = zm_json_str(m->value, &len);
    CHECK(len == 2 && s[0] == 0 && s[1] == 0 && s[2] == 0);
    zm_json_doc_free(doc);
    const char *bad[] = {"[\"a\0\"]", "[1\0]", "\0", "[1]\0", "{\"a\0\":1}"};
    size_t lens[] = {6, 4, 1, 4, 9};
    for (size_t i = 0; i < 5; i++) {
        zm_json_error e;
        CHECK(zm_json_parse(zm_default_allocator(), bad[i], lens[i], NULL, &doc, &e) == ZM_ESYNTAX);
    }
}

int main(void) {
    RUN(test_values);
    RUN(test_big_object);
    RUN(test_duplicates);
    RUN(test_relaxed_values);
    RUN(test_number_arrays);
    RUN(test_nul);
    return zt_finish("json_parse_values");
}
