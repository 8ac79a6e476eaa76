/* The JSON transforms: RFC 6901 (section 5), RFC 7396 (section 3, appendix
   A) and RFC 6902 (appendix A) examples, pick and omit, copy-on-write and
   atomicity, and every transform under the failing-allocator sweep. */
#include "test.h"
#include "zmem/json.h"
#include "zmem/testing.h"
#include "zmem/transform.h"
#include "json_eq.h"

static zm_arena ar;

/* Parses text into the test arena; NULL (and a failed check) when it is not
   JSON. */
static zm_json *J(const char *text) {
    zm_json *v = NULL;
    zm_json_error err;
    zm_status st = zm_json_parse_arena(&ar, text, strlen(text), NULL, &v, &err);
    if (st != ZM_OK) fprintf(stderr, "bad test JSON %s: %s\n", text, err.message);
    CHECK(st == ZM_OK);
    return v;
}

/* True when v is the JSON value of text; prints both when not. */
static bool is_json(const zm_json *v, const char *text) {
    zm_json *want = J(text);
    if (want != NULL && zt_json_eq(v, want)) return true;
    char *got = NULL;
    size_t len = 0;
    if (v != NULL && zm_json_write(zm_default_allocator(), v, 0, &got, &len) == ZM_OK) {
        fprintf(stderr, "  got  %s\n  want %s\n", got, text);
        zm_free(zm_default_allocator(), got, len + 1, 1);
    } else {
        fprintf(stderr, "  got  (null)\n  want %s\n", text);
    }
    return false;
}

/* Writes v compactly into a static buffer (for before/after comparisons). */
static char *text_of(const zm_json *v, char *buf, size_t size) {
    char *out;
    size_t len;
    buf[0] = '\0';
    if (zm_json_write(zm_default_allocator(), v, 0, &out, &len) != ZM_OK) return buf;
    snprintf(buf, size, "%s", out);
    zm_free(zm_default_allocator(), out, len + 1, 1);
    return buf;
}

/* ---------------------------------------------------------------------------
 * RFC 6901
 * ------------------------------------------------------------------------- */

static const char *RFC6901_DOC = "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, "
                                 "\"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, "
                                 "\" \": 7, \"m~n\": 8}";

static void check_pointer(const zm_json *doc, const char *ptr, const char *want) {
    const zm_json *out = NULL;
    zm_transform_error err;
    zm_status st = zm_transform_pointer(doc, ptr, strlen(ptr), &out, &err);
    if (st != ZM_OK) fprintf(stderr, "pointer %s: %s\n", ptr, err.message);
    CHECK_EQ(st, ZM_OK);
    if (st == ZM_OK) CHECK(is_json(out, want));
}

static void test_pointer_rfc6901(void) {
    zm_json *doc = J(RFC6901_DOC);
    const zm_json *whole = NULL;
    CHECK_EQ(zm_transform_pointer(doc, "", 0, &whole, NULL), ZM_OK);
    CHECK(whole == doc);
    check_pointer(doc, "/foo", "[\"bar\", \"baz\"]");
    check_pointer(doc, "/foo/0", "\"bar\"");
    check_pointer(doc, "/", "0");
    check_pointer(doc, "/a~1b", "1");
    check_pointer(doc, "/c%d", "2");
    check_pointer(doc, "/e^f", "3");
    check_pointer(doc, "/g|h", "4");
    check_pointer(doc, "/i\\j", "5");
    check_pointer(doc, "/k\"l", "6");
    check_pointer(doc, "/ ", "7");
    check_pointer(doc, "/m~0n", "8");
    /* The result is the subtree itself, not a copy. */
    const zm_json *foo = NULL;
    CHECK_EQ(zm_transform_pointer(doc, "/foo", 4, &foo, NULL), ZM_OK);
    CHECK(foo == zm_json_get(doc, "foo"));
}

static void check_pointer_fails(const zm_json *doc, const char *ptr, zm_status want,
                                const char *needle) {
    const zm_json *out = NULL;
    zm_transform_error err;
    zm_status st = zm_transform_pointer(doc, ptr, strlen(ptr), &out, &err);
    CHECK_EQ(st, want);
    CHECK_EQ(err.status, want);
    if (strstr(err.message, needle) == NULL)
        fprintf(stderr, "pointer %s: message \"%s\" lacks \"%s\"\n", ptr, err.message, needle);
    CHECK(strstr(err.message, needle) != NULL);
}

static void test_pointer_errors(void) {
    zm_json *doc = J("{\"a\": {\"b\": [10, 20, {\"c~d\": true}]}, \"s\": \"str\"}");
    check_pointer(doc, "/a/b/2/c~0d", "true");
    check_pointer_fails(doc, "a/b", ZM_EINVAL, "not a JSON pointer");
    check_pointer_fails(doc, "/a~2", ZM_EINVAL, "bad escape");
    check_pointer_fails(doc, "/a~", ZM_EINVAL, "bad escape");
    check_pointer_fails(doc, "/x", ZM_ENOTFOUND, "no member \"x\"");
    check_pointer_fails(doc, "/a/zz", ZM_ENOTFOUND, "no member \"zz\" in the object at \"/a\"");
    check_pointer_fails(doc, "/a/b/3", ZM_ENOTFOUND, "index 3 is out of range");
    check_pointer_fails(doc, "/a/b/-", ZM_ENOTFOUND, "\"-\" designates no item");
    check_pointer_fails(doc, "/a/b/01", ZM_ENOTFOUND, "not an array index");
    check_pointer_fails(doc, "/a/b/x", ZM_ENOTFOUND, "not an array index");
    check_pointer_fails(doc, "/a/b/-1", ZM_ENOTFOUND, "not an array index");
    check_pointer_fails(doc, "/s/0", ZM_ENOTFOUND, "is a string");
    check_pointer_fails(doc, "/a/b/2/c~1d", ZM_ENOTFOUND, "token 3");
    /* A token longer than the decode buffer still resolves or names itself. */
    char longp[600] = "/";
    memset(longp + 1, 'k', 400);
    longp[401] = '\0';
    check_pointer_fails(doc, longp, ZM_ENOTFOUND, "no member");
}

/* ---------------------------------------------------------------------------
 * RFC 7396
 * ------------------------------------------------------------------------- */

static void check_merge(const char *target, const char *patch, const char *want) {
    zm_json *t = J(target), *p = J(patch);
    char before[512];
    text_of(t, before, sizeof before);
    const zm_json *out = NULL;
    zm_status st = zm_transform_merge_patch(&ar, t, p, &out, NULL);
    CHECK_EQ(st, ZM_OK);
    if (st == ZM_OK && !is_json(out, want)) {
        fprintf(stderr, "merge %s with %s\n", target, patch);
        CHECK(false);
    }
    char after[512];
    CHECK_STR(text_of(t, after, sizeof after), before); /* the target is untouched */
}

static void test_merge_patch_rfc7396(void) {
    /* Section 3. */
    check_merge("{\"title\": \"Goodbye!\", \"author\": {\"givenName\": \"John\", \"familyName\": "
                "\"Doe\"}, \"tags\": [\"example\", \"sample\"], \"content\": \"This will be "
                "unchanged\"}",
                "{\"title\": \"Hello!\", \"phoneNumber\": \"+01-234-567-8910\", \"author\": "
                "{\"familyName\": null}, \"tags\": [\"example\"]}",
                "{\"title\": \"Hello!\", \"author\": {\"givenName\": \"John\"}, \"tags\": "
                "[\"example\"], \"content\": \"This will be unchanged\", \"phoneNumber\": "
                "\"+01-234-567-8910\"}");
    /* Appendix A. */
    check_merge("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    check_merge("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
    check_merge("{\"a\":\"b\"}", "{\"a\":null}", "{}");
    check_merge("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
    check_merge("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    check_merge("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
    check_merge("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
                "{\"a\":{\"b\":\"d\"}}");
    check_merge("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
    check_merge("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
    check_merge("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
    check_merge("{\"a\":\"foo\"}", "null", "null");
    check_merge("{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
    check_merge("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
    check_merge("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
    check_merge("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
    /* Member order: the target's first, new ones in the patch's order. */
    zm_json *t = J("{\"x\":1,\"y\":2}"), *p = J("{\"z\":3,\"x\":4}");
    const zm_json *out = NULL;
    CHECK_EQ(zm_transform_merge_patch(&ar, t, p, &out, NULL), ZM_OK);
    CHECK(zm_json_len(out) == 3);
    CHECK_STR(zm_json_member_at(out, 0)->key, "x");
    CHECK_STR(zm_json_member_at(out, 2)->key, "z");
    /* Unchanged subtrees are shared, not copied. */
    t = J("{\"keep\":{\"deep\":[1,2,3]},\"change\":1}");
    p = J("{\"change\":2}");
    CHECK_EQ(zm_transform_merge_patch(&ar, t, p, &out, NULL), ZM_OK);
    CHECK(zm_json_get(out, "keep") == zm_json_get(t, "keep"));
}

/* ---------------------------------------------------------------------------
 * RFC 6902
 * ------------------------------------------------------------------------- */

static void check_patch(const char *doc, const char *patch, const char *want) {
    zm_json *d = J(doc), *p = J(patch);
    char before[512], after[512];
    text_of(d, before, sizeof before);
    const zm_json *out = NULL;
    zm_transform_error err;
    zm_status st = zm_transform_patch(&ar, d, p, &out, &err);
    if (st != ZM_OK) fprintf(stderr, "patch %s: %s\n", patch, err.message);
    CHECK_EQ(st, ZM_OK);
    if (st == ZM_OK && !is_json(out, want)) {
        fprintf(stderr, "patch %s\n", patch);
        CHECK(false);
    }
    CHECK_STR(text_of(d, after, sizeof after), before);
}

static void check_patch_fails(const char *doc, const char *patch, const char *field,
                              const char *needle) {
    zm_json *d = J(doc), *p = J(patch);
    char before[512], after[512];
    text_of(d, before, sizeof before);
    const zm_json *out = NULL;
    zm_transform_error err;
    size_t used = zm_arena_used(&ar);
    zm_status st = zm_transform_patch(&ar, d, p, &out, &err);
    CHECK_EQ(st, ZM_EINVAL);
    CHECK(err.has_field);
    CHECK_STR(err.field, field);
    if (strstr(err.message, needle) == NULL)
        fprintf(stderr, "patch %s: message \"%s\" lacks \"%s\"\n", patch, err.message, needle);
    CHECK(strstr(err.message, needle) != NULL);
    CHECK_STR(text_of(d, after, sizeof after), before);
    CHECK_EQ(zm_arena_used(&ar), used); /* the arena was rewound */
}

static void test_patch_rfc6902(void) {
    /* A.1 */
    check_patch("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
                "{\"baz\":\"qux\",\"foo\":\"bar\"}");
    /* A.2 */
    check_patch("{\"foo\":[\"bar\",\"baz\"]}",
                "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
                "{\"foo\":[\"bar\",\"qux\",\"baz\"]}");
    /* A.3 */
    check_patch("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
                "{\"foo\":\"bar\"}");
    /* A.4 */
    check_patch("{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
                "{\"foo\":[\"bar\",\"baz\"]}");
    /* A.5 */
    check_patch("{\"baz\":\"qux\",\"foo\":\"bar\"}",
                "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
                "{\"baz\":\"boo\",\"foo\":\"bar\"}");
    /* A.6 */
    check_patch("{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
                "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
                "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}");
    /* A.7 */
    check_patch("{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
                "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
                "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}");
    /* A.8 */
    check_patch("{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
                "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
                "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
                "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}");
    /* A.9 */
    check_patch_fails("{\"baz\":\"qux\"}",
                      "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", "/0/value",
                      "test failed");
    /* A.10 */
    check_patch("{\"foo\":\"bar\"}",
                "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
                "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}");
    /* A.11 */
    check_patch("{\"foo\":\"bar\"}",
                "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
                "{\"foo\":\"bar\",\"baz\":\"qux\"}");
    /* A.12 */
    check_patch_fails("{\"foo\":\"bar\"}",
                      "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", "/0/path",
                      "no member \"baz\"");
    /* A.13: a duplicate "op" is not JSON our strict parser accepts. */
    zm_json *bad = NULL;
    const char *dup = "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"op\":\"remove\"}]";
    CHECK(zm_json_parse_arena(&ar, dup, strlen(dup), NULL, &bad, NULL) != ZM_OK);
    /* A.14 */
    check_patch("{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
                "{\"/\":9,\"~1\":10}");
    /* A.15 */
    check_patch_fails("{\"/\":9,\"~1\":10}",
                      "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", "/0/value",
                      "test failed");
    /* A.16 */
    check_patch("{\"foo\":[\"bar\"]}",
                "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
                "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}");
}

static void test_patch_more(void) {
    /* The whole document: add and replace at "" replace it. */
    check_patch("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]");
    check_patch("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":{\"b\":2}}]", "{\"b\":2}");
    /* Add replaces an existing member, in place. */
    check_patch("{\"a\":1,\"b\":2}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":3}]",
                "{\"a\":3,\"b\":2}");
    /* Copy shares; then changing the copy leaves the original alone. */
    check_patch("{\"a\":{\"x\":1}}",
                "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"},"
                "{\"op\":\"replace\",\"path\":\"/b/x\",\"value\":2}]",
                "{\"a\":{\"x\":1},\"b\":{\"x\":2}}");
    /* Move onto itself is a no-op; ops see the results of earlier ones. */
    check_patch("{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]", "{\"a\":1}");
    check_patch("[1,2,3]",
                "[{\"op\":\"remove\",\"path\":\"/0\"},{\"op\":\"add\",\"path\":\"/-\",\"value\":4},"
                "{\"op\":\"test\",\"path\":\"/2\",\"value\":4}]",
                "[2,3,4]");
    check_patch("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/1\",\"value\":2}]", "{\"a\":[1,2]}");
    check_patch("{}", "[]", "{}");
    check_patch("{\"a\":{\"b\":{\"c\":1}}}",
                "[{\"op\":\"move\",\"from\":\"/a/b/c\",\"path\":\"/c\"}]",
                "{\"a\":{\"b\":{}},\"c\":1}");

    /* Atomic: op 0 succeeds, op 1 fails; the error names op 1 and the
       document is untouched. */
    check_patch_fails("{\"a\":1}",
                      "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},"
                      "{\"op\":\"remove\",\"path\":\"/zz\"}]",
                      "/1/path", "operation 1 (remove)");
    check_patch_fails("{\"a\":1}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", "/0/op",
                      "must be one of");
    check_patch_fails("{\"a\":1}", "[{\"path\":\"/a\"}]", "/0/op", "missing");
    check_patch_fails("{\"a\":1}", "[{\"op\":\"add\",\"value\":1}]", "/0/path", "missing");
    check_patch_fails("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\"}]", "/0/value", "missing");
    check_patch_fails("{\"a\":1}", "[{\"op\":\"add\",\"path\":5,\"value\":1}]", "/0/path",
                      "must be a string");
    check_patch_fails("{\"a\":1}", "[{\"op\":\"copy\",\"path\":\"/b\"}]", "/0/from", "missing");
    check_patch_fails("{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/x\",\"path\":\"/b\"}]", "/0/from",
                      "no member \"x\"");
    check_patch_fails("{\"a\":{\"b\":1}}",
                      "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]", "/0/from",
                      "own children");
    check_patch_fails("[1]", "[{\"op\":\"add\",\"path\":\"/5\",\"value\":1}]", "/0/path",
                      "out of range");
    check_patch_fails("[1]", "[{\"op\":\"add\",\"path\":\"/01\",\"value\":1}]", "/0/path",
                      "not an array index");
    check_patch_fails("[1]", "[{\"op\":\"remove\",\"path\":\"/-\"}]", "/0/path",
                      "designates no item");
    check_patch_fails("[1]", "[{\"op\":\"replace\",\"path\":\"/1\",\"value\":0}]", "/0/path",
                      "out of range");
    check_patch_fails("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", "/0/path",
                      "whole document");
    check_patch_fails("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", "/0/path",
                      "not a JSON pointer");
    check_patch_fails("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]", "/0/path",
                      "is a number");
    check_patch_fails("{\"a\":1}", "[1]", "/0", "must be an object");

    zm_transform_error err;
    const zm_json *out;
    CHECK_EQ(zm_transform_patch(&ar, J("{}"), J("{}"), &out, &err), ZM_EINVAL);
    CHECK(strstr(err.message, "array of operations") != NULL);
}

/* ---------------------------------------------------------------------------
 * Pick and omit
 * ------------------------------------------------------------------------- */

static void check_pick(bool picking, const char *doc, const char *fields, const char *want) {
    zm_json *d = J(doc), *f = J(fields);
    char before[512], after[512];
    text_of(d, before, sizeof before);
    const zm_json *out = NULL;
    zm_transform_error err;
    zm_status st = picking ? zm_transform_pick(&ar, d, f, &out, &err)
                           : zm_transform_omit(&ar, d, f, &out, &err);
    if (st != ZM_OK) fprintf(stderr, "pick/omit %s: %s\n", fields, err.message);
    CHECK_EQ(st, ZM_OK);
    if (st == ZM_OK && !is_json(out, want)) {
        fprintf(stderr, "%s %s\n", picking ? "pick" : "omit", fields);
        CHECK(false);
    }
    CHECK_STR(text_of(d, after, sizeof after), before);
}

static void test_pick_omit(void) {
    const char *doc = "{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"e\":[10,20,30],\"f/g\":4}";
    check_pick(true, doc, "[\"a\"]", "{\"a\":1}");
    check_pick(true, doc, "[\"b\",\"a\"]", "{\"a\":1,\"b\":{\"c\":2,\"d\":3}}");
    check_pick(true, doc, "[\"/b/d\"]", "{\"b\":{\"d\":3}}");
    check_pick(true, doc, "[\"/e/2\",\"/e/0\"]", "{\"e\":[10,30]}");
    check_pick(true, doc, "[\"f/g\"]", "{\"f/g\":4}");
    check_pick(true, doc, "[\"/f~1g\"]", "{\"f/g\":4}");
    check_pick(true, doc, "[\"zz\",\"/b/zz\",\"/a/x\"]", "{}");
    check_pick(true, doc, "[\"/b\",\"/b/c\"]", "{\"b\":{\"c\":2,\"d\":3}}");
    check_pick(true, doc, "[]", "{}");
    check_pick(true, "[{\"a\":1,\"b\":2},{\"a\":3}]", "[\"/1/a\"]", "[{\"a\":3}]");

    check_pick(false, doc, "[\"a\"]", "{\"b\":{\"c\":2,\"d\":3},\"e\":[10,20,30],\"f/g\":4}");
    check_pick(false, doc, "[\"/b/c\",\"/e/0\",\"/e/1\",\"f/g\"]",
               "{\"a\":1,\"b\":{\"d\":3},\"e\":[30]}");
    check_pick(false, doc, "[\"zz\",\"/b/zz\",\"/e/-\"]", doc);
    check_pick(false, "[1,2,3]", "[\"/1\"]", "[1,3]");

    /* Untouched subtrees are shared. */
    zm_json *d = J(doc);
    const zm_json *out = NULL;
    CHECK_EQ(zm_transform_omit(&ar, d, J("[\"a\"]"), &out, NULL), ZM_OK);
    CHECK(zm_json_get(out, "b") == zm_json_get(d, "b"));
    CHECK_EQ(zm_transform_omit(&ar, d, J("[\"zz\"]"), &out, NULL), ZM_OK);
    CHECK(out == d);

    zm_transform_error err;
    CHECK_EQ(zm_transform_pick(&ar, J("3"), J("[\"a\"]"), &out, &err), ZM_EINVAL);
    CHECK(strstr(err.message, "object or an array") != NULL);
    CHECK_EQ(zm_transform_pick(&ar, d, J("\"a\""), &out, &err), ZM_EINVAL);
    CHECK_EQ(zm_transform_omit(&ar, d, J("[\"a\", 2]"), &out, &err), ZM_EINVAL);
    CHECK(err.has_field);
    CHECK_STR(err.field, "/1");
    CHECK_EQ(zm_transform_omit(&ar, d, J("[\"/a~x\"]"), &out, &err), ZM_EINVAL);
    CHECK_STR(err.field, "/0");
}

/* ---------------------------------------------------------------------------
 * The sweep: every allocation of every transform may fail; each failure is
 * reported as ZM_ENOMEM and leaves nothing behind.
 * ------------------------------------------------------------------------- */

typedef struct sweep_case {
    const char *doc, *arg;
    int kind; /* 0 merge, 1 patch, 2 pick, 3 omit */
    const char *want;
} sweep_case;

static bool sweep_wrong;

static zm_status run_case(zm_allocator a, void *arg) {
    const sweep_case *c = arg;
    zm_arena in;
    zm_arena_init(&in, zm_default_allocator());
    zm_json *doc = NULL, *x = NULL, *want = NULL;
    zm_json_parse_arena(&in, c->doc, strlen(c->doc), NULL, &doc, NULL);
    zm_json_parse_arena(&in, c->arg, strlen(c->arg), NULL, &x, NULL);
    zm_json_parse_arena(&in, c->want, strlen(c->want), NULL, &want, NULL);
    zm_arena work;
    zm_arena_init_sized(&work, a, 256);
    const zm_json *out = NULL;
    zm_transform_error err;
    zm_status st;
    switch (c->kind) {
    case 0: st = zm_transform_merge_patch(&work, doc, x, &out, &err); break;
    case 1: st = zm_transform_patch(&work, doc, x, &out, &err); break;
    case 2: st = zm_transform_pick(&work, doc, x, &out, &err); break;
    default: st = zm_transform_omit(&work, doc, x, &out, &err); break;
    }
    if (st == ZM_OK && !zt_json_eq(out, want)) sweep_wrong = true;
    if (st != ZM_OK && st != ZM_ENOMEM) sweep_wrong = true;
    if (st == ZM_ENOMEM && (err.status != ZM_ENOMEM || err.has_field)) sweep_wrong = true;
    zm_arena_deinit(&work);
    zm_arena_deinit(&in);
    return st;
}

static void test_sweep(void) {
    static const sweep_case cases[] = {
        {"{\"a\":{\"b\":\"c\"},\"x\":[1,2]}", "{\"a\":{\"b\":\"d\",\"c\":null},\"n\":{\"m\":1}}", 0,
         "{\"a\":{\"b\":\"d\"},\"x\":[1,2],\"n\":{\"m\":1}}"},
        {"{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
         "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"},"
         "{\"op\":\"add\",\"path\":\"/l\",\"value\":[]},{\"op\":\"add\",\"path\":\"/l/"
         "-\",\"value\":1},"
         "{\"op\":\"copy\",\"from\":\"/l\",\"path\":\"/m\"},{\"op\":\"test\",\"path\":\"/m/"
         "0\",\"value\":1},"
         "{\"op\":\"replace\",\"path\":\"/foo/bar\",\"value\":0},{\"op\":\"remove\",\"path\":\"/"
         "l\"}]",
         1, "{\"foo\":{\"bar\":0},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"},\"m\":[1]}"},
        {"{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"e\":[10,20,30]}", "[\"a\",\"/b/d\",\"/e/1\"]", 2,
         "{\"a\":1,\"b\":{\"d\":3},\"e\":[20]}"},
        {"{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"e\":[10,20,30]}", "[\"a\",\"/b/d\",\"/e/1\"]", 3,
         "{\"b\":{\"c\":2},\"e\":[10,30]}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sweep_wrong = false;
        CHECK(ZM_CHECK_SWEEP(run_case, (void *)&cases[i]));
        CHECK(!sweep_wrong);
    }
    /* A "test" of a value nested 100 levels deep: the comparison takes a
       work stack from the arena's allocator, and its failure is out of
       memory, not a failed test. */
    enum { DEPTH = 100 };
    static char deep[2 * DEPTH + 2], doc[2 * DEPTH + 16], patch[2 * DEPTH + 64];
    memset(deep, '[', DEPTH);
    deep[DEPTH] = '1';
    memset(deep + DEPTH + 1, ']', DEPTH);
    snprintf(doc, sizeof doc, "{\"d\":%s}", deep);
    snprintf(patch, sizeof patch, "[{\"op\":\"test\",\"path\":\"/d\",\"value\":%s}]", deep);
    sweep_case deep_test = {doc, patch, 1, doc};
    sweep_wrong = false;
    CHECK(ZM_CHECK_SWEEP(run_case, &deep_test));
    CHECK(!sweep_wrong);
}

int main(void) {
    zm_arena_init(&ar, zm_default_allocator());
    RUN(test_pointer_rfc6901);
    RUN(test_pointer_errors);
    RUN(test_merge_patch_rfc7396);
    RUN(test_patch_rfc6902);
    RUN(test_patch_more);
    RUN(test_pick_omit);
    RUN(test_sweep);
    zm_arena_deinit(&ar);
    return zt_finish("transform");
}
