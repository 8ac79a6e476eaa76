/* The template cache: placeholders, sharing, the LRU budget, pins, and the
 * known failure of this pattern (an arena reset leaving a template dangling),
 * plus the every-failure sweep over its entry points. Run under valgrind and
 * ASan, the reset tests prove that no instance or template is ever read after
 * it was freed.
 */
#include "../alloc/counting.h"
#include "test.h"
#include "zmem.h"
#include "zmem/testing.h"

static zm_allocator A(void) {
    return zm_default_allocator();
}

/* Writes v compactly and compares with want. */
static void check_text(const zm_json *v, const char *want, int line) {
    char *out = NULL;
    size_t len = 0;
    zm_status st = zm_json_write(A(), v, 0, &out, &len);
    zt_checks++;
    if (st != ZM_OK || strcmp(out, want) != 0) {
        zt_failures++;
        fprintf(stderr, "%s:%d: wrote %s\n    wanted %s\n", __FILE__, line,
                st == ZM_OK ? out : zm_status_str(st), want);
    }
    if (out) zm_free(A(), out, len + 1, 1);
}
#define CHECK_TEXT(v, want) check_text((v), (want), __LINE__)

/* Parses text into ar; NULL (and a failed check) when it is not JSON. */
static zm_json *parse_in(zm_arena *ar, const char *text) {
    zm_json *v = NULL;
    zm_json_error err;
    zm_status st = zm_json_parse_arena(ar, text, strlen(text), NULL, &v, &err);
    CHECK_EQ(st, ZM_OK);
    return st == ZM_OK ? v : NULL;
}

static zm_status put(zm_template_cache *tc, const char *name, const char *text) {
    return zm_template_put(tc, name, text, strlen(text), NULL);
}

static zm_template_stats stats(const zm_template_cache *tc) {
    zm_template_stats s;
    zm_template_stats_get(tc, &s);
    return s;
}

/* ---------------------------------------------------------------------------
 * Placeholders and sharing
 * ------------------------------------------------------------------------- */

static const char deep_template[] =
    "{\"id\":\"{{id}}\",\"const\":{\"a\":[1,2,{\"b\":null}],\"s\":\"{not a placeholder}\"},"
    "\"list\":[true,\"{{first}}\",{\"deep\":{\"deeper\":[\"{{leaf}}\",\"x\"]}}],"
    "\"again\":\"{{id}}\",\"tail\":[\"{{}}\",\"{{a}b}}\",\"{{id}\"]}";

static void test_placeholders_any_depth(void) {
    zm_template_cache *tc;
    CHECK_EQ(zm_template_cache_create(A(), 0, &tc), ZM_OK);
    CHECK_EQ(put(tc, "deep", deep_template), ZM_OK);
    CHECK(zm_template_has(tc, "deep"));
    CHECK(!zm_template_has(tc, "shallow"));

    zm_arena ar;
    zm_arena_init(&ar, A());
    zm_json *b = parse_in(&ar, "{\"id\":42,\"first\":\"one\",\"leaf\":{\"k\":[1.5,\"v\"]}}");
    zm_json *v = NULL;
    CHECK_EQ(zm_template_instantiate(tc, "deep", b, &ar, &v, NULL), ZM_OK);
    CHECK_TEXT(v, "{\"id\":42,\"const\":{\"a\":[1,2,{\"b\":null}],\"s\":\"{not a placeholder}\"},"
                  "\"list\":[true,\"one\",{\"deep\":{\"deeper\":[{\"k\":[1.5,\"v\"]},\"x\"]}}],"
                  "\"again\":42,\"tail\":[\"{{}}\",\"{{a}b}}\",\"{{id}\"]}");
    /* Lookups work on the instance's copied spine (its hash index, if any). */
    CHECK_EQ(zm_json_int(zm_json_get(v, "again")), 42);
    CHECK(zm_json_get(zm_json_get(v, "const"), "s") != NULL);
    /* Bindings are shared, not copied. */
    CHECK(zm_json_get(v, "id") == zm_json_get(b, "id"));

    /* A template that is one placeholder is its binding. */
    CHECK_EQ(put(tc, "root", "\"{{id}}\""), ZM_OK);
    CHECK_EQ(zm_template_instantiate(tc, "root", b, &ar, &v, NULL), ZM_OK);
    CHECK(v == zm_json_get(b, "id"));
    /* A template without placeholders is shared whole; bindings may be NULL. */
    CHECK_EQ(put(tc, "const", "[1,{\"a\":\"b\"},\"{{ spaced }}\"]"), ZM_OK);
    zm_json *v2 = NULL;
    CHECK_EQ(zm_template_instantiate(tc, "const", NULL, &ar, &v, NULL), ZM_OK);
    CHECK_EQ(zm_template_instantiate(tc, "const", NULL, &ar, &v2, NULL), ZM_OK);
    CHECK(v == v2);
    CHECK(v->flags & ZM_JSON_F_SHARED);
    CHECK_TEXT(v, "[1,{\"a\":\"b\"},\"{{ spaced }}\"]");

    /* A big object (past any hash threshold) on the spine keeps lookups. */
    char big[4096];
    size_t n = (size_t)snprintf(big, sizeof big, "{");
    for (int i = 0; i < 64; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "\"k%d\":%d,", i, i);
    snprintf(big + n, sizeof big - n, "\"hole\":\"{{id}}\"}");
    CHECK_EQ(put(tc, "big", big), ZM_OK);
    CHECK_EQ(zm_template_instantiate(tc, "big", b, &ar, &v, NULL), ZM_OK);
    CHECK_EQ(zm_json_len(v), 65);
    CHECK_EQ(zm_json_int(zm_json_get(v, "k37")), 37);
    CHECK_EQ(zm_json_int(zm_json_get(v, "hole")), 42);

    zm_arena_deinit(&ar);
    CHECK_EQ(stats(tc).pinned, 0);
    zm_template_cache_destroy(tc);
}

static void test_missing_binding(void) {
    zm_template_cache *tc;
    CHECK_EQ(zm_template_cache_create(A(), 0, &tc), ZM_OK);
    CHECK_EQ(put(tc, "deep", deep_template), ZM_OK);
    zm_arena ar;
    zm_arena_init(&ar, A());
    zm_json *b = parse_in(&ar, "{\"id\":1,\"first\":2}");
    size_t used = zm_arena_used(&ar);
    zm_json *v = (zm_json *)&ar; /* must stay untouched */
    zm_json_error err;
    CHECK_EQ(zm_template_instantiate(tc, "deep", b, &ar, &v, &err), ZM_ENOTFOUND);
    CHECK(v == (zm_json *)&ar);
    CHECK_EQ(err.status, ZM_ENOTFOUND);
    CHECK(strstr(err.message, "{{leaf}}") != NULL);
    CHECK_EQ(zm_arena_used(&ar), used); /* rewound */
    CHECK_EQ(stats(tc).pinned, 0);      /* nothing pinned */

    /* No bindings at all: the first placeholder is named. */
    CHECK_EQ(zm_template_instantiate(tc, "deep", NULL, &ar, &v, &err), ZM_ENOTFOUND);
    CHECK(strstr(err.message, "{{id}}") != NULL);
    /* Bindings that are not an object are a mistake, whatever the template. */
    zm_json *arr = parse_in(&ar, "[1]");
    used = zm_arena_used(&ar);
    CHECK_EQ(zm_template_instantiate(tc, "deep", arr, &ar, &v, &err), ZM_EINVAL);
    CHECK_EQ(err.status, ZM_EINVAL);
    CHECK(strstr(err.message, "bindings must be an object") != NULL);
    CHECK(v == (zm_json *)&ar);
    CHECK_EQ(zm_arena_used(&ar), used);
    zm_json *num = parse_in(&ar, "5");
    CHECK_EQ(zm_template_instantiate(tc, "nope", num, &ar, &v, &err), ZM_EINVAL);

    /* An unknown template is a miss, named in the message. */
    CHECK_EQ(zm_template_instantiate(tc, "nope", b, &ar, &v, &err), ZM_ENOTFOUND);
    CHECK(strstr(err.message, "nope") != NULL);
    zm_template_stats s = stats(tc);
    CHECK_EQ(s.misses, 1);
    CHECK_EQ(s.hits, 2);
    CHECK_EQ(s.pinned, 0);
    zm_arena_deinit(&ar);
    zm_template_cache_destroy(tc);
}

static void test_constants_shared(void) {
    zm_template_cache *tc;
    CHECK_EQ(zm_template_cache_create(A(), 0, &tc), ZM_OK);
    CHECK_EQ(put(tc, "t", deep_template), ZM_OK);
    zm_arena ar1, ar2;
    zm_arena_init(&ar1, A());
    zm_arena_init(&ar2, A());
    zm_json *b1 = parse_in(&ar1, "{\"id\":1,\"first\":2,\"leaf\":3}");
    zm_json *b2 = parse_in(&ar2, "{\"id\":\"x\",\"first\":[],\"leaf\":{}}");
    zm_json *v1, *v2;
    CHECK_EQ(zm_template_instantiate(tc, "t", b1, &ar1, &v1, NULL), ZM_OK);
    CHECK_EQ(zm_template_instantiate(tc, "t", b2, &ar2, &v2, NULL), ZM_OK);
    /* Constant subtrees: the same nodes in both instances, marked shared. */
    zm_json *c1 = zm_json_get(v1, "const"), *c2 = zm_json_get(v2, "const");
    CHECK(c1 != NULL && c1 == c2);
    CHECK(c1->flags & ZM_JSON_F_SHARED);
    CHECK(zm_json_at(zm_json_get(v1, "list"), 0) == zm_json_at(zm_json_get(v2, "list"), 0));
    CHECK(zm_json_get(v1, "tail") == zm_json_get(v2, "tail"));
    /* The spine is each instance's own, and not shared. */
    CHECK(v1 != v2);
    CHECK(!(v1->flags & ZM_JSON_F_SHARED));
    CHECK(zm_json_get(v1, "list") != zm_json_get(v2, "list"));
    CHECK_EQ(stats(tc).pinned, 1);

    /* zm_json_free of an instance leaves shared subtrees alone. */
    zm_json_free(zm_arena_allocator(&ar1), v1);
    CHECK_TEXT(v2,
               "{\"id\":\"x\",\"const\":{\"a\":[1,2,{\"b\":null}],\"s\":\"{not a placeholder}\"},"
               "\"list\":[true,[],{\"deep\":{\"deeper\":[{},\"x\"]}}],"
               "\"again\":\"x\",\"tail\":[\"{{}}\",\"{{a}b}}\",\"{{id}\"]}");
    zm_arena_deinit(&ar1);
    zm_arena_deinit(&ar2);
    CHECK_EQ(stats(tc).pinned, 0);
    zm_template_cache_destroy(tc);
}

/* ---------------------------------------------------------------------------
 * Placeholders inside strings
 * ------------------------------------------------------------------------- */

static const char prompt_template[] =
    "{\"msg\":\"Summarize {{topic}} in {{n}} bullets\",\"const\":{\"k\":[1,\"{ {x}}\"]},"
    "\"list\":[\"{{topic}}\",\"<{{obj}}>\",\"{{topic}}{{topic}}\",\"{{ no }}{{n}\"]}";

static void test_inside_strings(void) {
    zm_template_cache *tc;
    CHECK_EQ(zm_template_cache_create(A(), 0, &tc), ZM_OK);
    CHECK_EQ(put(tc, "p", prompt_template), ZM_OK);
    zm_arena ar;
    zm_arena_init(&ar, A());
    zm_json *b = parse_in(&ar, "{\"topic\":\"C \\\"arenas\\\"\",\"n\":3,"
                               "\"obj\":{\"a\":[1,null,\"\\u00e9\"]}}");
    zm_json *v1 = NULL, *v2 = NULL;
    CHECK_EQ(zm_template_instantiate(tc, "p", b, &ar, &v1, NULL), ZM_OK);
    CHECK_TEXT(v1, "{\"msg\":\"Summarize C \\\"arenas\\\" in 3 bullets\",\"const\":{\"k\":[1,"
                   "\"{ {x}}\"]},\"list\":[\"C \\\"arenas\\\"\",\"<{\\\"a\\\":[1,null,"
                   "\\\"\u00e9\\\"]}>\",\"C \\\"arenas\\\"C \\\"arenas\\\"\",\"{{ no }}{{n}\"]}");
    /* A whole placeholder is still the binding itself; constants are shared. */
    CHECK(zm_json_at(zm_json_get(v1, "list"), 0) == zm_json_get(b, "topic"));
    CHECK_EQ(zm_template_instantiate(tc, "p", b, &ar, &v2, NULL), ZM_OK);
    CHECK(zm_json_get(v1, "const") == zm_json_get(v2, "const"));
    CHECK(zm_json_at(zm_json_get(v1, "list"), 3) == zm_json_at(zm_json_get(v2, "list"), 3));
    /* Filled strings are each instance's own, NUL-terminated, not shared. */
    const zm_json *m1 = zm_json_get(v1, "msg"), *m2 = zm_json_get(v2, "msg");
    CHECK(m1 != m2);
    CHECK(!(m1->flags & ZM_JSON_F_SHARED));
    size_t n;
    const char *t = zm_json_str(m1, &n);
    CHECK_EQ(n, strlen("Summarize C \"arenas\" in 3 bullets"));
    CHECK_EQ(t[n], '\0');

    /* Other bindings: their compact text; a string's bytes as they are (NUL too). */
    zm_json *b2 = parse_in(&ar, "{\"topic\":\"a\\u0000b\",\"n\":[true,{}],\"obj\":-0.5e3}");
    CHECK_EQ(zm_template_instantiate(tc, "p", b2, &ar, &v2, NULL), ZM_OK);
    t = zm_json_str(zm_json_get(v2, "msg"), &n);
    CHECK_EQ(n, 34);
    CHECK(memcmp(t, "Summarize a\0b in [true,{}] bullets", 34) == 0);
    CHECK_TEXT(zm_json_at(zm_json_get(v2, "list"), 1), "\"<-500.0>\"");

    /* A missing binding inside a string is named; nothing stays allocated. */
    zm_json *b3 = parse_in(&ar, "{\"topic\":\"x\",\"obj\":1}");
    size_t used = zm_arena_used(&ar);
    zm_template_stats s = stats(tc);
    zm_json_error err;
    CHECK_EQ(zm_template_instantiate(tc, "p", b3, &ar, &v2, &err), ZM_ENOTFOUND);
    CHECK(strstr(err.message, "{{n}}") != NULL);
    CHECK_EQ(zm_arena_used(&ar), used);
    CHECK_EQ(stats(tc).pinned, s.pinned);

    /* The root a string with placeholders; one without stays shared whole. */
    CHECK_EQ(put(tc, "root", "\"{{topic}}: {{n}}{{n}}\""), ZM_OK);
    CHECK_EQ(zm_template_instantiate(tc, "root", b, &ar, &v2, NULL), ZM_OK);
    CHECK_TEXT(v2, "\"C \\\"arenas\\\": 33\"");
    CHECK_EQ(zm_template_instantiate(tc, "root", NULL, &ar, &v2, &err), ZM_ENOTFOUND);
    CHECK(strstr(err.message, "{{topic}}") != NULL);
    CHECK_EQ(put(tc, "plain", "\"{{ a }} {{}} {x}\""), ZM_OK);
    CHECK_EQ(zm_template_instantiate(tc, "plain", NULL, &ar, &v2, NULL), ZM_OK);
    CHECK(v2->flags & ZM_JSON_F_SHARED);
    /* Valid UTF-8 in, known valid UTF-8 out. */
    CHECK_EQ(zm_template_instantiate(tc, "root", b, &ar, &v2, NULL), ZM_OK);
    CHECK(v2->flags & ZM_JSON_F_UTF8);

    zm_arena_deinit(&ar);
    CHECK_EQ(stats(tc).pinned, 0);
    zm_template_cache_destroy(tc);
}

/* put_value, version tags, bytes, placeholders. */
static void test_values_and_versions(void) {
    zm_template_cache *tc;
    CHECK_EQ(zm_template_cache_create(A(), 0, &tc), ZM_OK);
    zm_arena ar;
    zm_arena_init(&ar, A());
    zm_json *root = parse_in(&ar, prompt_template);
    CHECK_EQ(zm_template_put_value(tc, "v", root, 7, NULL), ZM_OK);
    uint64_t ver = 0;
    CHECK_EQ(zm_template_version(tc, "v", &ver), ZM_OK);
    CHECK_EQ(ver, 7);
    CHECK_EQ(zm_template_version(tc, "w", &ver), ZM_ENOTFOUND);
    CHECK_EQ(zm_template_version(tc, NULL, &ver), ZM_EINVAL);
    CHECK_EQ(stats(tc).bytes, zm_template_bytes("v", root));
    CHECK_EQ(zm_template_bytes("vv", root), zm_template_bytes("v", root) + 1);
    CHECK_EQ(zm_template_bytes(NULL, root), SIZE_MAX);
    CHECK_EQ(zm_template_put_value(tc, "v", NULL, 1, NULL), ZM_EINVAL);
    /* The text put has tag 0; the value is copied (its arena may die). */
    CHECK_EQ(put(tc, "v", prompt_template), ZM_OK);
    CHECK_EQ(zm_template_version(tc, "v", &ver), ZM_OK);
    CHECK_EQ(ver, 0);
    CHECK_EQ(zm_template_put_value(tc, "v", root, UINT64_MAX, NULL), ZM_OK);
    zm_arena_reset(&ar, ZM_ARENA_FREE_ALL, 0);
    zm_json *b = parse_in(&ar, "{\"topic\":\"t\",\"n\":1,\"obj\":null}"), *v;
    CHECK_EQ(zm_template_instantiate(tc, "v", b, &ar, &v, NULL), ZM_OK);
    CHECK_TEXT(zm_json_get(v, "msg"), "\"Summarize t in 1 bullets\"");
    CHECK_EQ(zm_template_version(tc, "v", &ver), ZM_OK);
    CHECK_EQ(ver, UINT64_MAX);

    /* Placeholder names, each once, in document order. */
    zm_json *names = NULL;
    CHECK_EQ(zm_template_placeholders(parse_in(&ar, prompt_template), A(), &names), ZM_OK);
    CHECK_TEXT(names, "[\"topic\",\"n\",\"obj\"]");
    zm_json_free(A(), names);
    CHECK_EQ(zm_template_placeholders(parse_in(&ar, "[1,{\"{{k}}\":2}]"), A(), &names), ZM_OK);
    CHECK_TEXT(names, "[]");
    zm_json_free(A(), names);
    CHECK_EQ(zm_template_placeholders(NULL, A(), &names), ZM_EINVAL);

    /* With a budget, a value too large is refused, as text is. */
    zm_template_cache *small;
    CHECK_EQ(zm_template_cache_create(A(), 64, &small), ZM_OK);
    zm_json_error err;
    CHECK_EQ(zm_template_put_value(small, "v", parse_in(&ar, prompt_template), 1, &err), ZM_ELIMIT);
    CHECK_EQ(err.status, ZM_ELIMIT);
    zm_template_cache_destroy(small);
    zm_arena_deinit(&ar);
    zm_template_cache_destroy(tc);
}

/* After warm-up, instantiating templates with placeholders inside strings
   allocates only from the arena: no call to the cache's allocator. */
static void test_inside_strings_steady(void) {
    counting cnt;
    zm_allocator a = counting_over(&cnt, A());
    zm_template_cache *tc;
    CHECK_EQ(zm_template_cache_create(a, 0, &tc), ZM_OK);
    CHECK_EQ(put(tc, "p", prompt_template), ZM_OK);
    CHECK_EQ(put(tc, "r", "\"{{topic}} / {{n}}\""), ZM_OK);
    zm_arena ar;
    zm_arena_init(&ar, a);
    size_t calls = 0;
    int rounds = zt_small() ? 2000 : 100000;
    for (int i = 0; i < rounds + 100; i++) {
        if (i == 100) calls = cnt.allocs + cnt.frees + cnt.resizes + cnt.remaps;
        zm_json *b = parse_in(&ar, "{\"topic\":\"x\",\"n\":{\"deep\":[1,2,3]},\"obj\":true}"), *v;
        CHECK_EQ(zm_template_instantiate(tc, (i & 1) ? "p" : "r", b, &ar, &v, NULL), ZM_OK);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    CHECK_EQ(cnt.allocs + cnt.frees + cnt.resizes + cnt.remaps - calls, 0);
    zm_arena_deinit(&ar);
    zm_template_cache_destroy(tc);
    CHECK_EQ(cnt.live, 0);
}

/* ---------------------------------------------------------------------------
 * The budget, LRU eviction and pins
 * ------------------------------------------------------------------------- */

static const char small_template[] = "{\"who\":\"{{who}}\",\"pad\":\"0123456789abcdef\"}";

static void test_lru_eviction(void) {
    /* Measure one template, then budget for exactly three. */
    zm_template_cache *tc;
    CHECK_EQ(zm_template_cache_create(A(), 0, &tc), ZM_OK);
    CHECK_EQ(put(tc, "t1", small_template), ZM_OK);
    size_t one = stats(tc).bytes;
    CHECK(one > 0);
    zm_template_cache_destroy(tc);

    CHECK_EQ(zm_template_cache_create(A(), 3 * one, &tc), ZM_OK);
    CHECK_EQ(stats(tc).budget, 3 * one);
    CHECK_EQ(put(tc, "t1", small_template), ZM_OK);
    CHECK_EQ(put(tc, "t2", small_template), ZM_OK);
    CHECK_EQ(put(tc, "t3", small_template), ZM_OK);
    CHECK_EQ(stats(tc).templates, 3);
    CHECK_EQ(stats(tc).bytes, 3 * one);

    /* Using t1 makes t2 the least recently used. */
    zm_arena ar;
    zm_arena_init(&ar, A());
    zm_json *b = parse_in(&ar, "{\"who\":\"me\"}"), *v;
    CHECK_EQ(zm_template_instantiate(tc, "t1", b, &ar, &v, NULL), ZM_OK);
    zm_arena_reset(&ar, ZM_ARENA_FREE_ALL, 0);
    CHECK(!zm_template_has(tc, "t4")); /* has() is not a use */
    CHECK_EQ(put(tc, "t4", small_template), ZM_OK);
    CHECK(zm_template_has(tc, "t1"));
    CHECK(!zm_template_has(tc, "t2"));
    CHECK(zm_template_has(tc, "t3"));
    CHECK(zm_template_has(tc, "t4"));
    zm_template_stats s = stats(tc);
    CHECK_EQ(s.evictions, 1);
    CHECK_EQ(s.templates, 3);
    CHECK(s.bytes <= s.budget);

    /* Then t3, then t1 (t4 was put after t1 was used). */
    CHECK_EQ(put(tc, "t5", small_template), ZM_OK);
    CHECK(!zm_template_has(tc, "t3"));
    CHECK_EQ(put(tc, "t6", small_template), ZM_OK);
    CHECK(!zm_template_has(tc, "t1"));
    CHECK(zm_template_has(tc, "t4") && zm_template_has(tc, "t5") && zm_template_has(tc, "t6"));
    CHECK_EQ(stats(tc).evictions, 3);

    /* Replacing a template keeps the count and the bytes (same size). */
    CHECK_EQ(put(tc, "t5", small_template), ZM_OK);
    CHECK_EQ(stats(tc).templates, 3);
    CHECK_EQ(stats(tc).bytes, 3 * one);
    CHECK_EQ(stats(tc).evictions, 3);

    /* A template larger than the whole budget is refused; the others stay. */
    char big[2048];
    size_t n = (size_t)snprintf(big, sizeof big, "[");
    for (int i = 0; i < 200; i++) n += (size_t)snprintf(big + n, sizeof big - n, "%d,", i);
    snprintf(big + n - 1, sizeof big - n + 1, "]");
    zm_json_error err;
    CHECK_EQ(zm_template_put(tc, "big", big, strlen(big), &err), ZM_ELIMIT);
    CHECK_EQ(err.status, ZM_ELIMIT);
    CHECK(!zm_template_has(tc, "big"));
    CHECK_EQ(stats(tc).templates, 3);

    /* A syntax error keeps the old template of that name. */
    CHECK_EQ(zm_template_put(tc, "t4", "{\"who\":", 7, &err), ZM_ESYNTAX);
    CHECK_EQ(err.status, ZM_ESYNTAX);
    CHECK(zm_template_has(tc, "t4"));
    b = parse_in(&ar, "{\"who\":\"me\"}");
    CHECK_EQ(zm_template_instantiate(tc, "t4", b, &ar, &v, NULL), ZM_OK);
    CHECK_TEXT(v, "{\"who\":\"me\",\"pad\":\"0123456789abcdef\"}");

    CHECK_EQ(zm_template_remove(tc, "t4"), ZM_OK); /* pinned: lives on until the reset */
    CHECK_EQ(zm_template_remove(tc, "t4"), ZM_ENOTFOUND);
    CHECK_EQ(zm_template_put(tc, NULL, "1", 1, NULL), ZM_EINVAL);
    zm_arena_deinit(&ar);
    CHECK_EQ(stats(tc).bytes, 2 * one);
    zm_template_cache_destroy(tc);
}

static void test_pins(void) {
    zm_template_cache *tc;
    CHECK_EQ(zm_template_cache_create(A(), 0, &tc), ZM_OK);
    CHECK_EQ(put(tc, "t1", small_template), ZM_OK);
    size_t one = stats(tc).bytes;
    zm_template_cache_destroy(tc);
    CHECK_EQ(zm_template_cache_create(A(), 2 * one, &tc), ZM_OK);

    zm_arena ar, other;
    zm_arena_init(&ar, A());
    zm_arena_init(&other, A());
    zm_json *b = parse_in(&other, "{\"who\":\"pinned\"}"), *v1, *v1b, *v2;
    CHECK_EQ(put(tc, "t1", small_template), ZM_OK);
    CHECK_EQ(zm_template_instantiate(tc, "t1", b, &ar, &v1, NULL), ZM_OK);
    CHECK_EQ(zm_template_instantiate(tc, "t1", b, &ar, &v1b, NULL), ZM_OK);
    CHECK_EQ(stats(tc).pinned, 1);

    /* t1 is the least recently used, but pinned: t2 goes instead. */
    CHECK_EQ(put(tc, "t2", small_template), ZM_OK);
    CHECK_EQ(put(tc, "t3", small_template), ZM_OK);
    CHECK(zm_template_has(tc, "t1"));
    CHECK(!zm_template_has(tc, "t2"));
    CHECK(zm_template_has(tc, "t3"));
    /* Everything else pinned too: the cache goes over budget rather than
       free what an instance uses. */
    CHECK_EQ(zm_template_instantiate(tc, "t3", b, &other, &v2, NULL), ZM_OK);
    CHECK_EQ(put(tc, "t4", small_template), ZM_OK);
    CHECK_EQ(stats(tc).templates, 3);
    CHECK(stats(tc).bytes > stats(tc).budget);
    CHECK_EQ(stats(tc).pinned, 2);

    /* Replacing and removing a pinned template: instances keep the old one. */
    CHECK_EQ(put(tc, "t1", "{\"who\":\"{{who}}\",\"new\":true}"), ZM_OK);
    CHECK_EQ(zm_template_remove(tc, "t3"), ZM_OK);
    CHECK(!zm_template_has(tc, "t3"));
    CHECK_TEXT(v1, "{\"who\":\"pinned\",\"pad\":\"0123456789abcdef\"}");
    CHECK_TEXT(v1b, "{\"who\":\"pinned\",\"pad\":\"0123456789abcdef\"}");
    CHECK_TEXT(v2, "{\"who\":\"pinned\",\"pad\":\"0123456789abcdef\"}");
    CHECK_EQ(stats(tc).pinned, 2);

    /* The last pin of the old t1 goes with ar's reset: it is freed then, and
       the cache comes back within budget. */
    zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    CHECK_EQ(stats(tc).pinned, 1);
    zm_json *v3;
    CHECK_EQ(zm_template_instantiate(tc, "t1", b, &ar, &v3, NULL), ZM_OK);
    CHECK_TEXT(v3, "{\"who\":\"pinned\",\"new\":true}");
    CHECK_TEXT(v2, "{\"who\":\"pinned\",\"pad\":\"0123456789abcdef\"}");
    zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    zm_arena_deinit(&other); /* the removed t3 is freed here */
    zm_template_stats s = stats(tc);
    CHECK_EQ(s.pinned, 0);
    CHECK(s.bytes <= s.budget);
    CHECK_EQ(s.templates, 1); /* t4 was evicted when t1 was replaced */
    CHECK(!zm_template_has(tc, "t4"));

    /* A restore to a mark taken before an instance drops its pin too. */
    zm_arena_mark m = zm_arena_save(&ar);
    b = parse_in(&ar, "{\"who\":1}");
    CHECK_EQ(zm_template_instantiate(tc, "t1", b, &ar, &v3, NULL), ZM_OK);
    CHECK_EQ(stats(tc).pinned, 1);
    zm_arena_restore(&ar, m);
    CHECK_EQ(stats(tc).pinned, 0);

    /* Destroying the cache under a live instance (which the contract
       forbids) still frees the template at the instance's reset, not before. */
    b = parse_in(&ar, "{\"who\":2}");
    CHECK_EQ(zm_template_instantiate(tc, "t1", b, &ar, &v3, NULL), ZM_OK);
    zm_template_cache_destroy(tc);
    CHECK_TEXT(v3, "{\"who\":2,\"new\":true}");
    zm_arena_deinit(&ar);
}

/* ---------------------------------------------------------------------------
 * The known failure: resetting another arena leaves a template dangling
 * ------------------------------------------------------------------------- */

static const char response_template[] =
    "{\"ok\":true,\"id\":\"{{id}}\",\"meta\":{\"service\":\"memory\",\"tags\":[\"a\",\"b\"]},"
    "\"result\":{\"items\":\"{{items}}\",\"count\":\"{{count}}\"}}";

/* Fills memory an arena gave back with garbage, so that anything still
   pointing into it reads nonsense (and valgrind/ASan report the read). */
static void scribble(zm_arena *ar) {
    for (int i = 0; i < 64; i++) {
        char *p = zm_arena_alloc(ar, 256, 1);
        if (p) memset(p, 0xA5, 256);
    }
}

static void test_resets_never_dangle(void) {
    zm_template_cache *tc;
    CHECK_EQ(zm_template_cache_create(A(), 0, &tc), ZM_OK);

    /* The template's text lives in an arena that is reset right after put. */
    zm_arena text_ar;
    zm_arena_init(&text_ar, A());
    char *text = zm_arena_strndup(&text_ar, response_template, strlen(response_template));
    CHECK_EQ(zm_template_put(tc, "resp", text, strlen(text), NULL), ZM_OK);
    zm_arena_reset(&text_ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    scribble(&text_ar);

    /* Instantiate, reset the instance's arena, instantiate again, write out. */
    zm_arena ar;
    zm_arena_init(&ar, A());
    const char *want = "{\"ok\":true,\"id\":7,\"meta\":{\"service\":\"memory\",\"tags\":[\"a\","
                       "\"b\"]},\"result\":{\"items\":[1,2],\"count\":2}}";
    for (int round = 0; round < 3; round++) {
        zm_json *b = parse_in(&ar, "{\"id\":7,\"items\":[1,2],\"count\":2}"), *v;
        CHECK_EQ(zm_template_instantiate(tc, "resp", b, &ar, &v, NULL), ZM_OK);
        CHECK_TEXT(v, want);
        zm_arena_reset(&ar, round == 1 ? ZM_ARENA_FREE_ALL : ZM_ARENA_RETAIN_CAPACITY, 0);
        scribble(&ar);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }

    /* A fake runtime loop: every call parses its request into the per-call
       arena, instantiates the response there, writes it with the arena's
       allocator, then the arena is reset (keeping its capacity). Now and then
       a call re-puts the template from text in the per-call arena, or puts
       others to push it towards eviction under a small budget. */
    zm_template_stats s0 = stats(tc);
    zm_template_cache *small;
    CHECK_EQ(zm_template_cache_create(A(), s0.bytes * 3, &small), ZM_OK);
    CHECK_EQ(put(small, "resp", response_template), ZM_OK);
    zm_arena call;
    zm_arena_init(&call, A());
    int calls = zt_small() ? 200 : 2000;
    for (int i = 0; i < calls; i++) {
        char req[128];
        snprintf(req, sizeof req, "{\"id\":%d,\"items\":[%d,\"x%d\"],\"count\":%d}", i, i, i, 2);
        zm_json *params = parse_in(&call, req), *v = NULL;
        zm_template_cache *use = (i & 1) ? small : tc;
        if (i % 7 == 3) { /* re-put from text that dies with this call */
            char *t = zm_arena_strndup(&call, response_template, strlen(response_template));
            CHECK_EQ(zm_template_put(use, "resp", t, strlen(t), NULL), ZM_OK);
        }
        if (i % 5 == 4) { /* crowd the small cache: pinned "resp" must survive */
            char name[32];
            snprintf(name, sizeof name, "other%d", i % 4);
            CHECK_EQ(put(small, name, response_template), ZM_OK);
        }
        zm_status st = zm_template_instantiate(use, "resp", params, &call, &v, NULL);
        if (st == ZM_ENOTFOUND && use == small) { /* evicted while unpinned: put it back */
            CHECK_EQ(put(small, "resp", response_template), ZM_OK);
            st = zm_template_instantiate(use, "resp", params, &call, &v, NULL);
        }
        CHECK_EQ(st, ZM_OK);
        if (i % 5 == 4) {
            char name[32];
            snprintf(name, sizeof name, "other%d", (i + 1) % 4);
            put(small, name, response_template); /* may evict, never "resp" now */
        }
        char want2[256];
        snprintf(want2, sizeof want2,
                 "{\"ok\":true,\"id\":%d,\"meta\":{\"service\":\"memory\",\"tags\":[\"a\",\"b\"]},"
                 "\"result\":{\"items\":[%d,\"x%d\"],\"count\":2}}",
                 i, i, i);
        char *out = NULL;
        size_t len = 0;
        CHECK_EQ(zm_json_write(zm_arena_allocator(&call), v, 0, &out, &len), ZM_OK);
        if (out == NULL || strcmp(out, want2) != 0) {
            CHECK_STR(out, want2);
            break;
        }
        zm_arena_reset(&call, (i % 100) == 99 ? ZM_ARENA_FREE_ALL : ZM_ARENA_RETAIN_CAPACITY, 0);
        if (i % 10 == 0) scribble(&call), zm_arena_reset(&call, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    CHECK_EQ(stats(small).pinned, 0);
    CHECK(stats(small).bytes <= stats(small).budget);
    CHECK(stats(small).evictions > 0);

    zm_arena_deinit(&call);
    zm_arena_deinit(&ar);
    zm_arena_deinit(&text_ar);
    zm_template_cache_destroy(small);
    zm_template_cache_destroy(tc);
}

/* ---------------------------------------------------------------------------
 * The every-failure sweep
 * ------------------------------------------------------------------------- */

/* Everything the cache does, from allocator a: create, put (new, replace,
   bad), instantiate (hit, miss, missing binding), evict, remove, destroy. */
static zm_status sweep_cache(zm_allocator a, void *arg) {
    (void)arg;
    zm_template_cache *tc = NULL;
    zm_status st = zm_template_cache_create(a, 0, &tc);
    if (st != ZM_OK) return st;
    zm_arena ar;
    zm_arena_init_sized(&ar, a, 256);
    zm_json *b = NULL, *v = NULL;
    if ((st = zm_template_put(tc, "deep", deep_template, strlen(deep_template), NULL)) != ZM_OK)
        goto out;
    for (int i = 0; i < 20; i++) { /* grows the name table */
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        if ((st = put(tc, name, small_template)) != ZM_OK) goto out;
    }
    if ((st = put(tc, "deep", deep_template)) != ZM_OK) goto out; /* replace */
    zm_status bad = zm_template_put(tc, "bad", "[1,", 3, NULL);
    if (bad != ZM_ESYNTAX) { /* running out of memory comes before the syntax error */
        st = bad == ZM_OK ? ZM_EINTERNAL : bad;
        goto out;
    }
    static const char bindings[] = "{\"id\":1,\"first\":[2],\"leaf\":{\"a\":3}}";
    st = zm_json_parse_arena(&ar, bindings, sizeof bindings - 1, NULL, &b, NULL);
    if (st != ZM_OK) goto out;
    if ((st = zm_template_instantiate(tc, "deep", b, &ar, &v, NULL)) != ZM_OK) goto out;
    if ((st = zm_template_instantiate(tc, "t3", b, &ar, &v, NULL)) != ZM_ENOTFOUND) {
        /* a missing binding ("who") is not a failure of memory */
        st = st == ZM_OK ? ZM_EINTERNAL : st;
        goto out;
    }
    if ((st = put(tc, "deep", small_template)) != ZM_OK) goto out; /* replace while pinned */
    if ((st = zm_template_remove(tc, "t5")) != ZM_OK) goto out;
    /* Placeholders inside strings, a template put from a value, the names. */
    static const char pb[] = "{\"topic\":\"x\",\"n\":[1,{\"a\":2}],\"obj\":null}";
    zm_json *pbv = NULL, *names = NULL;
    if ((st = zm_json_parse_arena(&ar, pb, sizeof pb - 1, NULL, &pbv, NULL)) != ZM_OK) goto out;
    if ((st = put(tc, "p", prompt_template)) != ZM_OK) goto out;
    if ((st = zm_template_instantiate(tc, "p", pbv, &ar, &v, NULL)) != ZM_OK) goto out;
    if ((st = zm_template_put_value(tc, "p2", v, 3, NULL)) != ZM_OK) goto out;
    if ((st = zm_template_placeholders(v, a, &names)) != ZM_OK) goto out;
    zm_json_free(a, names);
    zm_json *pt = NULL;
    st = zm_json_parse_arena(&ar, prompt_template, sizeof prompt_template - 1, NULL, &pt, NULL);
    if (st != ZM_OK) goto out;
    if ((st = zm_template_placeholders(pt, a, &names)) != ZM_OK) goto out;
    if (zm_json_len(names) != 3) st = ZM_EINTERNAL;
    zm_json_free(a, names);
    if (st != ZM_OK) goto out;
    st = ZM_OK;
out:
    zm_arena_deinit(&ar);
    zm_template_cache_destroy(tc);
    return st;
}

/* A budgeted cache, so that puts evict, swept too. */
static zm_status sweep_budget(zm_allocator a, void *arg) {
    const size_t *budget = arg;
    zm_template_cache *tc = NULL;
    zm_status st = zm_template_cache_create(a, *budget, &tc);
    if (st != ZM_OK) return st;
    for (int i = 0; i < 12 && st == ZM_OK; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i % 5);
        st = put(tc, name, response_template);
    }
    zm_template_cache_destroy(tc);
    return st;
}

static void test_sweep(void) {
    CHECK(ZM_CHECK_SWEEP(sweep_cache, NULL));
    /* A budget for two and a half templates. */
    zm_template_cache *tc;
    CHECK_EQ(zm_template_cache_create(A(), 0, &tc), ZM_OK);
    CHECK_EQ(put(tc, "t0", response_template), ZM_OK);
    size_t budget = stats(tc).bytes * 5 / 2;
    zm_template_cache_destroy(tc);
    CHECK(ZM_CHECK_SWEEP(sweep_budget, &budget));
}

int main(void) {
    RUN(test_placeholders_any_depth);
    RUN(test_missing_binding);
    RUN(test_constants_shared);
    RUN(test_inside_strings);
    RUN(test_values_and_versions);
    RUN(test_inside_strings_steady);
    RUN(test_lru_eviction);
    RUN(test_pins);
    RUN(test_resets_never_dangle);
    RUN(test_sweep);
    return zt_finish("template");
}
