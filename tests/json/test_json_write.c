/* The writer: exact text in every mode, escaping, UTF-8 checks, non-finite
   reals, streams and files, exact buffer sizes, the failing-allocator sweep,
   and write-then-parse round trips of every benchmark document. */
#include <inttypes.h>
#include <math.h>

#include "checked_alloc.h"
#include "data_file.h"
#include "zmem/json.h"
#include "json_eq.h"

#define T(s) s, sizeof(s) - 1

/* Writes v with flags through a checked allocator; returns a malloc'd copy
   of the text (or NULL on failure, *st telling why). */
static char *write_text(const zm_json *v, uint32_t flags, zm_status *st) {
    checked c;
    zm_allocator a = checked_init(&c);
    char *out = NULL, *copy = NULL;
    size_t len = 0;
    *st = zm_json_write(a, v, flags, &out, &len);
    if (*st == ZM_OK) {
        CHECK(out[len] == '\0' && strlen(out) <= len);
        CHECK_EQ(c.live, len + 1); /* exactly out_len + 1 bytes */
        copy = malloc(len + 1);
        memcpy(copy, out, len + 1);
        zm_free(a, out, len + 1, 1);
    }
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.misuse, 0);
    checked_deinit(&c);
    return copy;
}

/* Parses text (with flags) into doc; the root, or NULL. */
static zm_json *parse(const char *text, size_t len, uint32_t flags, zm_json_doc **doc) {
    zm_json_parse_opts o = {flags, 0, ZM_JSON_DUP_ERROR};
    zm_json_error e;
    if (zm_json_parse(zm_default_allocator(), text, len, &o, doc, &e) != ZM_OK) {
        fprintf(stderr, "parse failed at %zu:%zu: %s\n", e.line, e.column, e.message);
        return NULL;
    }
    return zm_json_doc_root(*doc);
}

/* parse(in) then write with flags must give want exactly: parsed strictly
   (strings marked valid UTF-8: the writer trusts them) and with lone
   surrogates allowed (not marked: the writer checks them). */
static void expect_text(const char *in, size_t in_len, uint32_t flags, const char *want) {
    for (int mode = 0; mode < 2; mode++) {
        zm_json_doc *doc;
        zm_json_parse_opts o = {mode ? ZM_JSON_ALLOW_LONE_SURROGATES : 0, 0, ZM_JSON_DUP_ERROR};
        if (zm_json_parse(zm_default_allocator(), in, in_len, &o, &doc, NULL) != ZM_OK) {
            CHECK(mode == 0); /* only lone surrogates need the flag */
            continue;
        }
        zm_json *v = zm_json_doc_root(doc);
        zm_status st;
        char *out = write_text(v, flags, &st);
        CHECK(st == ZM_OK);
        if (out && strcmp(out, want) != 0) fprintf(stderr, "wrote %s\n want %s\n", out, want);
        CHECK(out && strcmp(out, want) == 0);
        free(out);
        zm_json_doc_free(doc);
    }
}

static void test_layouts(void) {
    static const char in[] =
        "{\"a\":[1,2.5,\"x\",true,false,null],\"b\":{},\"c\":[],\"d\":{\"e\":[[]]}}";
    expect_text(T(in), 0, in);
    expect_text(
        T(in), ZM_JSON_WRITE_PRETTY,
        "{\n  \"a\": [\n    1,\n    2.5,\n    \"x\",\n    true,\n    false,\n    null\n  "
        "],\n  \"b\": {},\n  \"c\": [],\n  \"d\": {\n    \"e\": [\n      []\n    ]\n  }\n}");
    expect_text(
        T("{\"a\":[1,{\"b\":2}]}"), ZM_JSON_WRITE_PRETTY | ZM_JSON_WRITE_INDENT4,
        "{\n    \"a\": [\n        1,\n        {\n            \"b\": 2\n        }\n    ]\n}");
    expect_text(T("[]"), ZM_JSON_WRITE_PRETTY, "[]");
    expect_text(T("7"), ZM_JSON_WRITE_PRETTY, "7");
    expect_text(T(" \"s\" "), 0, "\"s\"");
}

static void test_escaping(void) {
    expect_text(T("[\"q\\\" b\\\\ s/ \\/ \\b\\f\\n\\r\\t \\u0001\\u001f\\u0000 \x7f\"]"), 0,
                "[\"q\\\" b\\\\ s/ / \\b\\f\\n\\r\\t \\u0001\\u001f\\u0000 \x7f\"]");
    static const char utf8[] = "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"]";
    expect_text(T(utf8), 0, utf8);
    expect_text(T(utf8), ZM_JSON_WRITE_ASCII,
                "[\"caf\\u00e9 \\u20ac \\ud83d\\ude00 \\udbff\\udfff\"]");
    expect_text(T("{\"\xc3\xa9\":1}"), ZM_JSON_WRITE_ASCII, "{\"\\u00e9\":1}");
    /* lone surrogates (WTF-8 from the parser) come back as escapes */
    expect_text(T("[\"a\\ud800b\\udfff\"]"), 0, "[\"a\\ud800b\\udfff\"]");
    /* a long string with escapes and multi-byte characters spread through it */
    size_t n = 100000;
    char *s = malloc(n * 8 + 4), *want = malloc(n * 16 + 4);
    size_t a = 0, b = 0;
    s[a++] = '"', want[b++] = '"';
    for (size_t i = 0; i < n; i++) {
        switch (i % 7) {
        case 0: memcpy(s + a, "\\n", 2), a += 2, memcpy(want + b, "\\n", 2), b += 2; break;
        case 1: memcpy(s + a, "\xc3\xa9", 2), a += 2, memcpy(want + b, "\\u00e9", 6), b += 6; break;
        case 2:
            memcpy(s + a, "\xf0\x9f\x98\x80", 4), a += 4, memcpy(want + b, "\\ud83d\\ude00", 12),
                b += 12;
            break;
        default: s[a++] = (char)('a' + i % 26), want[b++] = (char)('a' + i % 26); break;
        }
    }
    s[a++] = '"', want[b++] = '"';
    want[b] = '\0';
    expect_text(s, a, ZM_JSON_WRITE_ASCII, want);
    free(s);
    free(want);
}

/* Parsed text without escapes is marked ZM_JSON_F_PLAIN and copied as it is;
   anything with an escape, or changed by code, is escaped as usual. */
static void test_plain(void) {
    static const char in[] = "{\"id\":\"abc\",\"k\\\"q\":\"x\\ny\",\"long\":"
                             "\"0123456789abcdef0123456789abcdef!\",\"e\":\"\",\"ab\":\"cd\"}";
    zm_json_doc *doc;
    zm_json *v = parse(T(in), 0, &doc);
    CHECK(v != NULL);
    if (v == NULL) return;
    CHECK(!(v->flags & ZM_JSON_F_PLAIN)); /* one key had an escape */
    CHECK(zm_json_get(v, "id")->flags & ZM_JSON_F_PLAIN);
    CHECK(!(zm_json_get(v, "k\"q")->flags & ZM_JSON_F_PLAIN));
    zm_status st;
    char *out = write_text(v, 0, &st);
    CHECK(st == ZM_OK && out && strcmp(out, in) == 0);
    free(out);
    zm_json_doc_free(doc);
    /* every string length from 0 to 40, plain, as a key and as a value */
    for (size_t n = 0; n <= 40; n++) {
        char text[128], *o = text;
        *o++ = '{', *o++ = '"';
        for (size_t i = 0; i < n; i++) *o++ = (char)('a' + i % 26);
        memcpy(o, "\":\"", 3), o += 3;
        for (size_t i = 0; i < n; i++) *o++ = (char)('A' + i % 26);
        memcpy(o, "\"}", 3), o += 2;
        v = parse(text, (size_t)(o - text), 0, &doc);
        CHECK(v && (v->flags & ZM_JSON_F_PLAIN));
        out = write_text(v, 0, &st);
        CHECK(out && strcmp(out, text) == 0);
        free(out);
        zm_json_doc_free(doc);
    }
    /* a key added by code is checked (and escaped) even in a plain object */
    zm_allocator a = zm_default_allocator();
    v = parse(T("{\"a\":1}"), 0, &doc);
    CHECK(v && (v->flags & ZM_JSON_F_PLAIN));
    zm_json *obj = NULL;
    CHECK(zm_json_clone(a, v, &obj) == ZM_OK && (obj->flags & ZM_JSON_F_PLAIN));
    CHECK(zm_json_object_set(a, obj, T("q\"\n"), zm_json_new_int(a, 2)) == ZM_OK);
    CHECK(!(obj->flags & ZM_JSON_F_PLAIN));
    out = write_text(obj, 0, &st);
    CHECK(out && strcmp(out, "{\"a\":1,\"q\\\"\\n\":2}") == 0);
    free(out);
    /* plain text still goes through the checks when writing ASCII only */
    zm_json_free(a, obj);
    zm_json_doc_free(doc);
    expect_text(T("{\"caf\xc3\xa9\":\"\xc3\xa9\"}"), ZM_JSON_WRITE_ASCII,
                "{\"caf\\u00e9\":\"\\u00e9\"}");
}

static void test_invalid_strings(void) {
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {{T("\xc0\x80")},
               {T("ab\xff")},
               {T("\xed\xa0\x80\xed\xb0\x80")}, /* CESU-8: a pair is not WTF-8 */
               {T("\xe2\x82")},
               {T("x\x80y")},
               {T("\xf4\x90\x80\x80")},
               {T("\xf0\x9f\x98")}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        for (int in_key = 0; in_key < 2; in_key++) {
            checked c;
            zm_allocator a = checked_init(&c);
            zm_json *v;
            if (in_key) {
                v = zm_json_new_object(a, 0);
                zm_json_object_set(a, v, bad[i].s, bad[i].len, zm_json_new_null(a));
            } else {
                v = zm_json_new_array(a, 0);
                zm_json_array_push(a, v, zm_json_new_int(a, 1));
                zm_json_array_push(a, v, zm_json_new_string_ref(a, bad[i].s, bad[i].len));
            }
            for (uint32_t f = 0; f < 8; f++) {
                char *out = (char *)1;
                size_t len = 7;
                CHECK(zm_json_write(a, v, f, &out, &len) == ZM_EINVAL);
                CHECK(out == (char *)1 && len == 7);
            }
            zm_json_free(a, v);
            CHECK_EQ(c.live, 0);
            checked_deinit(&c);
        }
    }
    /* A key added to a parsed object is not trusted: the writer checks it. */
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_json *parsed = NULL;
    CHECK(zm_json_parse_arena(&ar, T("{\"a\":\"\u00e9\"}"), NULL, &parsed, NULL) == ZM_OK);
    CHECK(parsed->flags & ZM_JSON_F_UTF8);
    zm_allocator aa = zm_arena_allocator(&ar);
    zm_json *copy = NULL;
    CHECK(zm_json_clone(aa, parsed, &copy) == ZM_OK && (copy->flags & ZM_JSON_F_UTF8));
    CHECK(zm_json_object_add_ref(aa, parsed, "\xff", 1, zm_json_new_null(aa)) == ZM_OK);
    CHECK(!(parsed->flags & ZM_JSON_F_UTF8));
    zm_status wst;
    CHECK(write_text(parsed, 0, &wst) == NULL && wst == ZM_EINVAL);
    char *good = write_text(copy, 0, &wst);
    CHECK(good && strcmp(good, "{\"a\":\"\xc3\xa9\"}") == 0);
    free(good);
    zm_arena_deinit(&ar);
    /* An encoded surrogate in a built string is invalid UTF-8 (text that a
       strict parser would refuse), unless the string is marked WTF-8. */
    zm_json *lone = zm_json_new_string_ref(zm_default_allocator(), "\xed\xa0\x80", 3);
    zm_status st;
    CHECK(write_text(lone, 0, &st) == NULL && st == ZM_EINVAL);
    lone->flags |= ZM_JSON_F_WTF8;
    char *out = write_text(lone, 0, &st);
    CHECK(st == ZM_OK && out && strcmp(out, "\"\\ud800\"") == 0);
    free(out);
    zm_json_free(zm_default_allocator(), lone);
    /* the same for a key: a built object's keys are checked */
    zm_json *obj = zm_json_new_object(zm_default_allocator(), 0);
    CHECK(zm_json_object_set(zm_default_allocator(), obj, "\xed\xb0\x80", 3,
                             zm_json_new_null(zm_default_allocator())) == ZM_OK);
    CHECK(write_text(obj, 0, &st) == NULL && st == ZM_EINVAL);
    obj->flags |= ZM_JSON_F_WTF8;
    out = write_text(obj, 0, &st);
    CHECK(st == ZM_OK && out && strcmp(out, "{\"\\udc00\":null}") == 0);
    free(out);
    zm_json_free(zm_default_allocator(), obj);
    /* a parse that allows lone surrogates marks what it makes */
    zm_arena ar2;
    zm_arena_init(&ar2, zm_default_allocator());
    zm_json_parse_opts lo = {ZM_JSON_ALLOW_LONE_SURROGATES, 0, ZM_JSON_DUP_ERROR};
    zm_json *lp = NULL;
    CHECK(zm_json_parse_arena(&ar2, T("{\"\\ud800\":\"\\udfff\"}"), &lo, &lp, NULL) == ZM_OK);
    CHECK(lp && (lp->flags & ZM_JSON_F_WTF8) && !(lp->flags & ZM_JSON_F_UTF8));
    zm_json *lcopy = NULL;
    CHECK(zm_json_clone(zm_arena_allocator(&ar2), lp, &lcopy) == ZM_OK &&
          (lcopy->flags & ZM_JSON_F_WTF8) && (lcopy->u.o.items[0].value->flags & ZM_JSON_F_WTF8));
    out = write_text(lcopy, 0, &st);
    CHECK(st == ZM_OK && out && strcmp(out, "{\"\\ud800\":\"\\udfff\"}") == 0);
    free(out);
    zm_arena_deinit(&ar2);
}

static void test_numbers_out(void) {
    zm_allocator a = zm_default_allocator();
    zm_json *arr = zm_json_new_array(a, 0);
    int64_t ints[] = {0, -1, 1, 42, INT64_MAX, INT64_MIN, 1000000, -99};
    for (size_t i = 0; i < 8; i++) zm_json_array_push(a, arr, zm_json_new_int(a, ints[i]));
    double reals[] = {-0.0, 1.0, 0.5, 1e21, 1e-7, 123456.789, -2.5e-300};
    for (size_t i = 0; i < 7; i++) zm_json_array_push(a, arr, zm_json_new_real(a, reals[i]));
    zm_status st;
    char *out = write_text(arr, 0, &st);
    CHECK(st == ZM_OK && out != NULL);
    CHECK_STR(out, "[0,-1,1,42,9223372036854775807,-9223372036854775808,1000000,-99,"
                   "-0.0,1.0,0.5,1e+21,1e-7,123456.789,-2.5e-300]");
    free(out);
    /* non-finite reals: an error unless asked for */
    zm_json *bad[] = {zm_json_new_real(a, NAN), zm_json_new_real(a, INFINITY),
                      zm_json_new_real(a, -INFINITY)};
    const char *want[] = {"NaN", "Infinity", "-Infinity"};
    for (size_t i = 0; i < 3; i++) {
        CHECK(write_text(bad[i], 0, &st) == NULL && st == ZM_EINVAL);
        zm_json_array_push(a, arr, bad[i]);
        out = write_text(bad[i], ZM_JSON_WRITE_NAN_INF, &st);
        CHECK(st == ZM_OK && out && strcmp(out, want[i]) == 0);
        free(out);
    }
    CHECK(write_text(arr, ZM_JSON_WRITE_PRETTY, &st) == NULL && st == ZM_EINVAL);
    out = write_text(arr, ZM_JSON_WRITE_NAN_INF, &st);
    zm_json_doc *doc;
    zm_json *back = parse(out, strlen(out), ZM_JSON_ALLOW_NAN_INF, &doc);
    CHECK(back && zt_json_eq(back, arr));
    CHECK(signbit(zm_json_real(zm_json_at(back, 8))));
    zm_json_doc_free(doc);
    free(out);
    zm_json_free(a, arr);
}

/* ---------------------------------------------------------------------------
 * Streams and files
 * ------------------------------------------------------------------------- */

typedef struct collect {
    char *buf;
    size_t len, cap, calls, fail_after;
} collect;

static zm_status collect_sink(void *ctx, const char *data, size_t len) {
    collect *c = ctx;
    if (c->fail_after && ++c->calls > c->fail_after) return ZM_EIO;
    CHECK(len > 0);
    if (c->len + len > c->cap) {
        c->cap = (c->len + len) * 2;
        c->buf = realloc(c->buf, c->cap);
    }
    memcpy(c->buf + c->len, data, len);
    c->len += len;
    return ZM_OK;
}

/* Streams v with flags and compares with zm_json_write. */
static void stream_matches(const zm_json *v, uint32_t flags) {
    collect c = {0};
    CHECK(zm_json_write_stream(zm_default_allocator(), v, flags, collect_sink, &c) == ZM_OK);
    zm_status st;
    char *want = write_text(v, flags, &st);
    CHECK(st == ZM_OK && want && c.len == strlen(want) && memcmp(c.buf, want, c.len) == 0);
    free(want);
    free(c.buf);
}

static void test_stream(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    /* a big value: long strings, many items, deep nesting past the indent chunk */
    zm_json *root = zm_json_new_object(a, 0);
    size_t n = 300000;
    char *s = malloc(n);
    for (size_t i = 0; i < n; i++) s[i] = i % 50 == 0 ? '\n' : (char)('a' + i % 26);
    zm_json_object_set(a, root, "long", 4, zm_json_new_string_ref(a, s, n));
    zm_json *arr = zm_json_new_array(a, 0);
    for (int i = 0; i < 20000; i++) zm_json_array_push(a, arr, zm_json_new_int(a, i));
    zm_json_object_set(a, root, "arr", 3, arr);
    zm_json *deep = zm_json_new_array(a, 0), *cur = deep;
    for (int i = 0; i < 3000; i++) {
        zm_json *next = zm_json_new_array(a, 1);
        zm_json_array_push(a, cur, next);
        cur = next;
    }
    zm_json_array_push(a, cur, zm_json_new_string(a, "bottom", 6));
    zm_json_object_set(a, root, "deep", 4, deep);
    for (uint32_t f = 0; f < 8; f++) stream_matches(root, f);
    /* a sink's error stops the writer and comes back */
    collect c = {0};
    c.fail_after = 3;
    CHECK(zm_json_write_stream(zm_default_allocator(), root, 0, collect_sink, &c) == ZM_EIO);
    free(c.buf);
    CHECK(zm_json_write_stream(zm_default_allocator(), root, 0, NULL, NULL) == ZM_EINVAL);
    /* files */
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (f) {
        CHECK(zm_json_write_file(zm_default_allocator(), arr, 0, f) == ZM_OK);
        long len = ftell(f);
        rewind(f);
        char *text = malloc((size_t)len + 1);
        CHECK(fread(text, 1, (size_t)len, f) == (size_t)len);
        zm_json_doc *doc;
        zm_json *back = parse(text, (size_t)len, 0, &doc);
        CHECK(back && zt_json_eq(back, arr));
        zm_json_doc_free(doc);
        free(text);
        fclose(f);
    }
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        CHECK(zm_json_write_file(zm_default_allocator(), root, 0, full) == ZM_EIO);
        fclose(full);
    }
    CHECK(zm_json_write_file(zm_default_allocator(), root, 0, NULL) == ZM_EINVAL);
    free(s);
    zm_arena_deinit(&ar);
}

/* ---------------------------------------------------------------------------
 * Round trips
 * ------------------------------------------------------------------------- */

static const char *data_dir;

/* Parse, write (every mode), parse again: equal values; and writing the
   second parse gives the same text again. */
static void round_trip(const char *name, const char *text, size_t len) {
    zm_allocator a = zm_default_allocator();
    zm_json_doc *doc;
    zm_json *v = parse(text, len, 0, &doc);
    CHECK(v != NULL);
    if (v == NULL) return;
    uint32_t modes[] = {0, ZM_JSON_WRITE_PRETTY, ZM_JSON_WRITE_ASCII,
                        ZM_JSON_WRITE_PRETTY | ZM_JSON_WRITE_INDENT4 | ZM_JSON_WRITE_ASCII};
    for (size_t m = 0; m < 4; m++) {
        char *out;
        size_t olen;
        CHECK(zm_json_write(a, v, modes[m], &out, &olen) == ZM_OK);
        zm_json_doc *doc2;
        zm_json *v2 = parse(out, olen, 0, &doc2);
        bool eq = v2 && zt_json_eq(v, v2);
        if (!eq) fprintf(stderr, "%s: mode %u does not round-trip\n", name, (unsigned)modes[m]);
        CHECK(eq);
        if (modes[m] & ZM_JSON_WRITE_ASCII)
            for (size_t i = 0; i < olen; i++)
                if ((unsigned char)out[i] >= 0x80) {
                    CHECK(0);
                    break;
                }
        char *out2;
        size_t olen2;
        CHECK(zm_json_write(a, v2, modes[m], &out2, &olen2) == ZM_OK);
        CHECK(olen2 == olen && memcmp(out, out2, olen) == 0);
        zm_free(a, out2, olen2 + 1, 1);
        zm_free(a, out, olen + 1, 1);
        zm_json_doc_free(doc2);
    }
    zm_json_doc_free(doc);
}

static void test_round_trip_files(void) {
    static const char *files[] = {"apache_builds.json", "canada.json",      "citm_catalog.json",
                                  "github_events.json", "instruments.json", "numbers.json",
                                  "twitter.json"};
    /* The data set is part of the test: without it the test fails. */
    if (data_dir == NULL) {
        fprintf(stderr, "no benchmark data directory given (the first argument)\n");
        CHECK(data_dir != NULL);
        return;
    }
    size_t done = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        size_t len;
        char *t = slurp(data_dir, files[i], &len);
        if (t == NULL) {
            fprintf(stderr, "cannot read %s/%s\n", data_dir, files[i]);
            CHECK(t != NULL);
            continue;
        }
        /* under valgrind, the files that take seconds natively are left out */
        if (!zt_small() || len < 300000) {
            round_trip(files[i], t, len);
            done++;
        }
        free(t);
    }
    fprintf(stderr, "round trips: %zu files\n", done);
    CHECK(done > 0);
}

/* ---------------------------------------------------------------------------
 * The failing-allocator sweep
 * ------------------------------------------------------------------------- */

typedef struct wsweep {
    const zm_json *v;
    uint32_t flags;
} wsweep;

static zm_status sw_write(zm_allocator a, void *arg) {
    wsweep *w = arg;
    char *out;
    size_t len;
    zm_status st = zm_json_write(a, w->v, w->flags, &out, &len);
    if (st == ZM_OK) zm_free(a, out, len + 1, 1);
    return st;
}

/* A sink that only counts: it allocates nothing, so that the sweep sees the
   writer's own allocations alone. */
static zm_status count_sink(void *ctx, const char *data, size_t len) {
    (void)data;
    *(size_t *)ctx += len;
    return ZM_OK;
}

typedef struct ssweep {
    const zm_json *v;
    uint32_t flags;
    size_t want; /* the length zm_json_write gives */
} ssweep;

static zm_status sw_write_stream(zm_allocator a, void *arg) {
    const ssweep *w = arg;
    size_t n = 0;
    zm_status st = zm_json_write_stream(a, w->v, w->flags, count_sink, &n);
    if (st == ZM_OK && n != w->want) return ZM_EINTERNAL;
    return st;
}

static zm_status sw_write_file(zm_allocator a, void *arg) {
    const ssweep *w = arg;
    FILE *f = fopen("/dev/null", "w");
    if (f == NULL) return ZM_EIO;
    zm_status st = zm_json_write_file(a, w->v, w->flags, f);
    fclose(f);
    return st;
}

static void test_sweep(void) {
    /* big enough that the output buffer grows several times, and deep enough
       that the writer's stack leaves its local array */
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    zm_json *root = zm_json_new_array(a, 0), *cur = root;
    for (int i = 0; i < 100; i++) {
        zm_json *o = zm_json_new_object(a, 0);
        zm_json_object_set(a, o, "text", 4, zm_json_new_string(a, "h\xc3\xa9llo, world\n", 14));
        zm_json_object_set(a, o, "n", 1, zm_json_new_real(a, i * 0.25));
        zm_json_array_push(a, root, o);
    }
    for (int i = 0; i < 100; i++) {
        zm_json *next = zm_json_new_array(a, 1);
        zm_json_array_push(a, cur, next);
        cur = next;
    }
    uint32_t modes[] = {0, ZM_JSON_WRITE_PRETTY, ZM_JSON_WRITE_ASCII | ZM_JSON_WRITE_PRETTY};
    for (size_t m = 0; m < 3; m++) {
        wsweep w = {root, modes[m]};
        CHECK(ck_sweep("write", sw_write, &w) >= 2);
        /* the stream and file writers take their work stack (100 levels
           deep here) from the allocator they are given */
        char *text;
        size_t len;
        CHECK(zm_json_write(zm_default_allocator(), root, modes[m], &text, &len) == ZM_OK);
        zm_free(zm_default_allocator(), text, len + 1, 1);
        ssweep s = {root, modes[m], len};
        CHECK(ZM_CHECK_SWEEP(sw_write_stream, &s));
        CHECK(ZM_CHECK_SWEEP(sw_write_file, &s));
    }
    /* a text past 512 KB: the buffer grows fourfold to 64 KB, then eightfold
       twice (512 KB, 4 MB); each growth fails in turn */
    zm_json *wide = zm_json_new_array(a, 0);
    for (int i = 0; i < 9000; i++)
        zm_json_array_push(
            a, wide,
            zm_json_new_string(a, "a string of sixty bytes, written 9000 times in a row....", 56));
    char *wtext;
    size_t wlen;
    CHECK(zm_json_write(zm_default_allocator(), wide, 0, &wtext, &wlen) == ZM_OK);
    CHECK(wlen == 9000 * 59 + 1);
    zm_free(zm_default_allocator(), wtext, wlen + 1, 1);
    wsweep ww = {wide, 0};
    zm_sweep_report r;
    CHECK(zm_check_allocation_failures(zm_default_allocator(), sw_write, &ww, NULL, &r) == ZM_OK);
    /* the first block, then four growths and the final shrink */
    CHECK_EQ(r.alloc_count, 1);
    CHECK_EQ(r.resize_count, 5);
    /* and nothing from it for a value of 64 levels or fewer */
    checked c;
    zm_allocator ca = checked_init(&c);
    size_t n = 0;
    zm_json *shallow = zm_json_at(root, 0);
    CHECK(zm_json_write_stream(ca, shallow, 0, count_sink, &n) == ZM_OK && n > 0);
    CHECK_EQ(c.attempts, 0);
    CHECK(zm_json_write_stream(ca, root, 0, count_sink, &n) == ZM_OK);
    CHECK(c.attempts > 0);
    CHECK_EQ(c.live, 0);
    checked_deinit(&c);
    zm_arena_deinit(&ar);
}

/* Arrays of numbers inside arrays (pairs, vertices) are written by a run of
   their own, without a frame each: every mix of rows, numbers and other values. */
static void test_number_rows(void) {
    static const char in[] =
        "[[1,2.5,\"x\",3],[1.5,[2,3],4],[[1,2],[3,[4.25,5]],{\"a\":[1,[2,\"b\"],[]]}],"
        "[[0.1,-0.0],[1e+300,5e-324]],[1,null,true],[[]],[[1]],[2,[3,{}],[4]],"
        "{\"k\":[[1,2],[3,4,[5,6,[7]]]]},[[1e+21,1e-7,123456789012345680000.0]],"
        "[[-65.61361699999998,43.42027300000001],[-65.6168,43.4238],[7,8]],[[1,2],[]],"
        "[[1,2],\"s\"],[[[1]]]]";
    expect_text(T(in), 0, in);
    expect_text(T("[[1,2],[3,4]]"), ZM_JSON_WRITE_PRETTY,
                "[\n  [\n    1,\n    2\n  ],\n  [\n    3,\n    4\n  ]\n]");

    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    /* a row holding a non-finite real is not a row: written by the walk */
    zm_json *nan_row = zm_json_new_array(a, 0), *outer = zm_json_new_array(a, 0);
    zm_json_array_push(a, nan_row, zm_json_new_real(a, 1.5));
    zm_json_array_push(a, nan_row, zm_json_new_real(a, NAN));
    zm_json_array_push(a, outer, zm_json_new_int(a, 1));
    zm_json_array_push(a, outer, nan_row);
    zm_status st;
    char *out = write_text(outer, ZM_JSON_WRITE_NAN_INF, &st);
    CHECK(st == ZM_OK && out && strcmp(out, "[1,[1.5,NaN]]") == 0);
    free(out);
    CHECK(write_text(outer, 0, &st) == NULL && st == ZM_EINVAL);

    /* many rows of every length 1-6, streamed through the small buffer */
    zm_json *rows = zm_json_new_array(a, 0);
    for (int i = 0; i < 30000; i++) {
        zm_json *r = zm_json_new_array(a, 0);
        for (int k = 0; k <= i % 6; k++)
            zm_json_array_push(a, r,
                               k % 3 == 2 ? zm_json_new_int(a, (int64_t)i * 7919 - k)
                                          : zm_json_new_real(a, (i * 0.37 - k) / 3.0));
        zm_json_array_push(a, rows, i % 1000 == 999 ? zm_json_new_string(a, "gap", 3) : r);
    }
    for (uint32_t f = 0; f < 2; f++) stream_matches(rows, f);
    out = write_text(rows, 0, &st);
    static const char head[] = "[[0.0],[0.12333333333333334,-0.21],[0.24666666666666667,";
    CHECK(st == ZM_OK && out && strncmp(out, head, sizeof head - 1) == 0);
    free(out);

    /* a short row is written before it is known to hold numbers only, and taken
       back at its first item that is not one: in every position, after rows and
       before them, next to rows longer than the short ones */
    static const char mixed[] =
        "[[1,2],[3,\"x\"],[4,5],[\"y\",6],[7.5,8.25,null],[1,2,3,4,5,6,7,8],"
        "[1,2,3,4,5,6,7,false],[1,2,3,4,5,6,7,8,9],[1,2,3,4,5,6,7,8,[9]],[0.5,{}],[true],"
        "[-1.5e-7,2.5e+300],[[1]],[1,[2]],[123456.789,-0.0001]]";
    expect_text(T(mixed), 0, mixed);
    zm_json *taken = zm_json_new_array(a, 0);
    for (int i = 0; i < 3; i++) {
        zm_json *r = zm_json_new_array(a, 0);
        for (int k = 0; k < (i == 1 ? 8 : 2); k++)
            zm_json_array_push(a, r, zm_json_new_real(a, i == 1 && k == 7 ? INFINITY : k + 0.5));
        zm_json_array_push(a, taken, r);
    }
    out = write_text(taken, ZM_JSON_WRITE_NAN_INF, &st);
    CHECK(st == ZM_OK && out &&
          strcmp(out, "[[0.5,1.5],[0.5,1.5,2.5,3.5,4.5,5.5,6.5,Infinity],[0.5,1.5]]") == 0);
    free(out);
    CHECK(write_text(taken, 0, &st) == NULL && st == ZM_EINVAL);
    /* rows of 1 to 11 items, one in 7 of them with a string, a null or an
       infinity at a place of its own, streamed through the small buffer (rows
       are taken back at its end too), and read back */
    zm_json *many = zm_json_new_array(a, 0);
    for (int i = 0; i < 20000; i++) {
        zm_json *r = zm_json_new_array(a, 0);
        int len = 1 + i % 11, bad = i % 7 == 3 ? (i / 7) % len : -1;
        for (int k = 0; k < len; k++) {
            zm_json *x = k != bad           ? zm_json_new_real(a, -(i * 1.37 + k) / 7.0)
                         : (i / 7) % 3 == 0 ? zm_json_new_string(a, "s", 1)
                         : (i / 7) % 3 == 1 ? zm_json_new_null(a)
                                            : zm_json_new_real(a, -INFINITY);
            zm_json_array_push(a, r, x);
        }
        zm_json_array_push(a, many, r);
    }
    for (uint32_t f = 0; f < 2; f++) stream_matches(many, f | ZM_JSON_WRITE_NAN_INF);
    out = write_text(many, ZM_JSON_WRITE_NAN_INF, &st);
    CHECK(st == ZM_OK && out);
    zm_json *back = NULL;
    zm_json_parse_opts po = {.flags = ZM_JSON_ALLOW_NAN_INF};
    CHECK(zm_json_parse_arena(&ar, out, strlen(out), &po, &back, NULL) == ZM_OK);
    bool same = false;
    CHECK(zm_json_equal(a, back, many, &same) == ZM_OK && same);
    free(out);
    zm_arena_deinit(&ar);
}

/* Integers of every digit count and sign, and records (small objects in
   arrays) of every kind of member, parsed then written: the text must come
   back as it was. Each integer is written in an array of numbers, as the value
   of a record, and as a member of an object that is not a record. */
static void test_ints_and_records(void) {
    int64_t vals[200];
    size_t nv = 0;
    for (int k = 0; k <= 18; k++) {
        int64_t p = 1;
        for (int j = 0; j < k; j++) p *= 10;
        vals[nv++] = p - 1, vals[nv++] = p, vals[nv++] = p + 1, vals[nv++] = -p;
    }
    int64_t more[] = {INT64_MAX,   INT64_MIN,  INT64_MIN + 1, 4294967295, 4294967296, -4294967295,
                      -4294967296, 2147483647, 2147483648,    999999999,  1000000000, 9999999999};
    for (size_t k = 0; k < sizeof more / sizeof more[0]; k++) vals[nv++] = more[k];
    uint64_t r = 0x9E3779B97F4A7C15u;
    size_t cap = 64 * 1024 * 1024;
    char *text = malloc(cap);
    for (int shape = 0; shape < 3; shape++) {
        char *o = text;
        *o++ = '[';
        if (shape == 2) o += sprintf(o, "{\"n\":0,\"x\":[[]]},"); /* not a record: the walk */
        for (int i = 0; i < 20000 + (int)nv; i++) {
            int64_t v;
            if (i < (int)nv) {
                v = vals[i];
            } else { /* random bit lengths, both signs */
                r ^= r << 13, r ^= r >> 7, r ^= r << 17;
                v = (int64_t)(r >> (r % 64));
                if (r & 1) v = -v;
            }
            if (i) *o++ = ',';
            if (shape == 0) o += sprintf(o, "%" PRId64, v);
            if (shape == 1) o += sprintf(o, "{\"id\":%" PRId64 ",\"e\":[]}", v);
            if (shape == 2) o += sprintf(o, "{\"n\":%" PRId64 ",\"x\":[[]]}", v);
        }
        *o++ = ']';
        *o = '\0';
        expect_text(text, (size_t)(o - text), 0, text);
    }
    /* records: every kind of member; records that are not flat after all (an
       escaped string, a non-empty container, a long key) in the middle of a
       run, after it and before it; objects too big to be records */
    static const char *const recs[] = {
        "[{\"a\":1,\"b\":[]},{\"a\":2,\"b\":{}},{\"a\":true,\"b\":false,\"c\":null},"
        "{\"s\":\"x\\ny\"},{\"s\":\"plain\",\"t\":-1.5},{\"k\":[1]},{\"a\":1},"
        "{\"0123456789abcdef0123456789abcdefg\":1},{\"e\":\"\"},{\"u\":\"\xc3\xa9t\xc3\xa9\"},"
        "{\"a\":[{}]},{\"a\":{\"b\":1}},{\"q\\\"\":1},{\"z\":1e+300}]",
        "[{\"k\":[1]},{\"a\":1},{\"a\":2}]",
        "[{\"a\":1},\"s\",{\"a\":2},3,{\"a\":3},[{\"b\":4}],{}]",
        "[{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":"
        "11,"
        "\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17},{\"a\":1}]",
        "{\"r\":[{\"a\":1,\"b\":\"0123456789abcdef0123456789abcdef0123456789\"}],\"n\":null}",
    };
    for (size_t k = 0; k < sizeof recs / sizeof recs[0]; k++)
        expect_text(recs[k], strlen(recs[k]), 0, recs[k]);
    /* many records with strings of every length up to past the stream's buffer:
       streamed, a long one does not fit the room made and is written by the
       walk; the text must still be the same */
    char *o = text;
    *o++ = '[';
    for (int i = 0; i < 3000; i++) {
        size_t sl = i % 7 == 0 ? (size_t)i * 5 : (size_t)i % 50;
        if (i) *o++ = ',';
        o += sprintf(o, "{\"id\":%d,\"s\":\"", i);
        for (size_t j = 0; j < sl; j++) *o++ = (char)('a' + j % 26);
        o += sprintf(o, "\",\"e\":[]}");
    }
    *o++ = ']';
    *o = '\0';
    zm_json_doc *doc;
    zm_json *v = parse(text, (size_t)(o - text), 0, &doc);
    CHECK(v != NULL);
    if (v) {
        zm_status st;
        char *out = write_text(v, 0, &st);
        CHECK(st == ZM_OK && out && strcmp(out, text) == 0);
        free(out);
        stream_matches(v, 0);
        zm_json_doc_free(doc);
    }
    free(text);
}

int main(int argc, char **argv) {
    data_dir = argc > 1 ? argv[1] : NULL;
    RUN(test_layouts);
    RUN(test_escaping);
    RUN(test_plain);
    RUN(test_invalid_strings);
    RUN(test_numbers_out);
    RUN(test_stream);
    RUN(test_number_rows);
    RUN(test_ints_and_records);
    RUN(test_round_trip_files);
    RUN(test_sweep);
    return zt_finish("json_write");
}
