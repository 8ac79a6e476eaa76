/* The registry: registration, duplicates, listing, and the input schema
   subset, one test per keyword (compile errors and validation errors). */
#include "prims.h"
#include "test.h"

static zm_allocator A;

static zm_status noop(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)ctx, (void)params;
    *result = NULL;
    return ZM_OK;
}

/* Registers "p" with schema into a fresh registry; returns the status. */
static zm_status compile_schema(const char *schema, zm_json_error *err) {
    zm_prim_registry *reg;
    if (zm_prim_registry_create(A, &reg) != ZM_OK) return ZM_ENOMEM;
    zm_prim_def d = {"p", "test", schema, noop, NULL};
    zm_status st = zm_prim_register(reg, &d, err);
    zm_prim_registry_destroy(reg);
    return st;
}

/* Checks that schema is refused with status and a message containing what. */
static void refuse(const char *schema, zm_status status, const char *what) {
    zm_json_error err;
    memset(&err, 0, sizeof err);
    zm_status st = compile_schema(schema, &err);
    CHECK_EQ(st, status);
    CHECK_EQ(err.status, status);
    if (strstr(err.message, what) == NULL) {
        fprintf(stderr, "schema %s: message \"%s\" lacks \"%s\"\n", schema, err.message, what);
        CHECK(0);
    }
}

/* Validates params (JSON text) against schema: returns the status; field and
   message of the error in *e. */
typedef struct vresult {
    zm_status st;
    char field[256];
    char message[512];
    bool has_field;
} vresult;

static vresult check(const char *schema, const char *params) {
    vresult r;
    memset(&r, 0, sizeof r);
    zm_prim_registry *reg = NULL;
    zm_prim_ctx *ctx = NULL;
    zm_json_doc *doc = NULL;
    zm_json_error err;
    zm_prim_def d = {"p", "test", schema, noop, NULL};
    if (zm_prim_registry_create(A, &reg) != ZM_OK || zm_prim_register(reg, &d, &err) != ZM_OK ||
        zm_prim_ctx_create(NULL, &ctx) != ZM_OK ||
        zm_json_parse(A, params, strlen(params), NULL, &doc, &err) != ZM_OK) {
        fprintf(stderr, "set-up failed for %s / %s: %s\n", schema, params, err.message);
        r.st = ZM_EINTERNAL;
    } else {
        r.st = zm_prim_validate(reg, ctx, "p", zm_json_doc_root(doc));
        zm_prim_error e;
        zm_prim_last_error(ctx, &e);
        if (r.st != ZM_OK) {
            CHECK_EQ(e.code, ZM_PRIM_INVALID_PARAMS);
            snprintf(r.message, sizeof r.message, "%s", e.message);
            r.has_field = e.field != NULL;
            if (e.field) snprintf(r.field, sizeof r.field, "%s", e.field);
        }
        /* The same check through a call gives the same error. */
        zm_json *res;
        zm_status st2 = zm_prim_call(reg, ctx, "p", zm_json_doc_root(doc), &res);
        CHECK_EQ(st2, r.st);
        zm_prim_last_error(ctx, &e);
        if (st2 != ZM_OK) CHECK_STR(e.message, r.message);
    }
    zm_json_doc_free(doc);
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
    return r;
}

static void ok(const char *schema, const char *params) {
    vresult r = check(schema, params);
    if (r.st != ZM_OK) fprintf(stderr, "expected %s to pass %s: %s\n", params, schema, r.message);
    CHECK_EQ(r.st, ZM_OK);
}

/* Expects params to fail schema at field with a message containing rule. */
static void bad(const char *schema, const char *params, const char *field, const char *rule) {
    vresult r = check(schema, params);
    CHECK_EQ(r.st, ZM_EINVAL);
    CHECK(r.has_field);
    CHECK_STR(r.field, field);
    if (strstr(r.message, rule) == NULL) {
        fprintf(stderr, "%s against %s: message \"%s\" lacks \"%s\"\n", params, schema, r.message,
                rule);
        CHECK(0);
    }
}

/* ---------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------- */

static void test_register_and_lookup(void) {
    zm_prim_registry *reg;
    CHECK_EQ(zm_prim_registry_create(A, &reg), ZM_OK);
    char name[32];
    /* Enough primitives to grow the array and the index several times. */
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "prim_%d", i);
        zm_prim_def d = {name, i % 2 ? "odd" : NULL, i % 3 ? NULL : "{\"type\":\"object\"}", noop,
                         (void *)(intptr_t)(i + 1)};
        CHECK_EQ(zm_prim_register(reg, &d, NULL), ZM_OK);
    }
    snprintf(name, sizeof name, "changed"); /* names were copied */
    CHECK_EQ(zm_prim_registry_count(reg), 100);
    for (int i = 0; i < 100; i++) {
        zm_prim_info info;
        char want[32];
        snprintf(want, sizeof want, "prim_%d", i);
        CHECK_EQ(zm_prim_registry_at(reg, (size_t)i, &info), ZM_OK);
        CHECK_STR(info.name, want);
        CHECK_STR(info.description, i % 2 ? "odd" : "");
        CHECK(i % 3 ? info.schema == NULL : zm_json_is_object(info.schema));
        CHECK(i % 3 ? info.input_schema == NULL
                    : strcmp(info.input_schema, "{\"type\":\"object\"}") == 0);
        CHECK(info.userdata == (void *)(intptr_t)(i + 1));
        zm_prim_info found;
        CHECK_EQ(zm_prim_lookup(reg, want, strlen(want), &found), ZM_OK);
        CHECK(found.name == info.name);
    }
    zm_prim_info info;
    CHECK_EQ(zm_prim_registry_at(reg, 100, &info), ZM_ENOTFOUND);
    CHECK_EQ(zm_prim_lookup(reg, "prim_100", 8, &info), ZM_ENOTFOUND);
    CHECK_EQ(zm_prim_lookup(reg, "prim_1", 5, NULL), ZM_ENOTFOUND); /* "prim_" */
    CHECK_EQ(zm_prim_lookup(reg, "prim_1", 6, NULL), ZM_OK);
    zm_prim_registry_destroy(reg);
}

static void test_duplicates_refused(void) {
    zm_prim_registry *reg;
    CHECK_EQ(zm_prim_registry_create(A, &reg), ZM_OK);
    zm_prim_def d = {"same", "first", NULL, noop, NULL};
    CHECK_EQ(zm_prim_register(reg, &d, NULL), ZM_OK);
    zm_prim_def d2 = {"same", "second", "{\"type\":\"object\"}", noop, NULL};
    zm_json_error err;
    CHECK_EQ(zm_prim_register(reg, &d2, &err), ZM_EEXIST);
    CHECK_EQ(err.status, ZM_EEXIST);
    CHECK_EQ(zm_prim_registry_count(reg), 1);
    zm_prim_info info;
    zm_prim_lookup(reg, "same", 4, &info);
    CHECK_STR(info.description, "first");
    zm_prim_registry_destroy(reg);
}

static void test_bad_definitions(void) {
    zm_prim_registry *reg;
    CHECK_EQ(zm_prim_registry_create(A, &reg), ZM_OK);
    zm_prim_def no_name = {"", "x", NULL, noop, NULL};
    zm_prim_def null_name = {NULL, "x", NULL, noop, NULL};
    zm_prim_def no_fn = {"f", "x", NULL, NULL, NULL};
    CHECK_EQ(zm_prim_register(reg, &no_name, NULL), ZM_EINVAL);
    CHECK_EQ(zm_prim_register(reg, &null_name, NULL), ZM_EINVAL);
    CHECK_EQ(zm_prim_register(reg, &no_fn, NULL), ZM_EINVAL);
    CHECK_EQ(zm_prim_register(reg, NULL, NULL), ZM_EINVAL);
    /* A failed registration leaves the registry unchanged and usable. */
    zm_prim_def bad_schema = {"b", "x", "{\"type\":\"strin\"}", noop, NULL};
    CHECK_EQ(zm_prim_register(reg, &bad_schema, NULL), ZM_EINVAL);
    CHECK_EQ(zm_prim_registry_count(reg), 0);
    zm_prim_def good = {"b", "x", "{\"type\":\"object\"}", noop, NULL};
    CHECK_EQ(zm_prim_register(reg, &good, NULL), ZM_OK);
    CHECK_EQ(zm_prim_registry_count(reg), 1);
    zm_prim_registry_destroy(reg);
    zm_prim_registry_destroy(NULL);
}

static void test_schema_syntax_error(void) {
    zm_json_error err;
    zm_status st = compile_schema("{\"type\": \"object\",}", &err);
    CHECK_EQ(st, ZM_ESYNTAX);
    CHECK_EQ(err.status, ZM_ESYNTAX);
    CHECK(err.offset > 0);
    CHECK(err.message[0] != '\0');
}

/* ---------------------------------------------------------------------------
 * One test per keyword: what a bad keyword says, and what a failing value says
 * ------------------------------------------------------------------------- */

static void test_type(void) {
    refuse("{\"type\":\"strin\"}", ZM_EINVAL, "/type: unknown type name");
    refuse("{\"type\":3}", ZM_EINVAL, "/type: expected a type name");
    refuse("{\"type\":[]}", ZM_EINVAL, "/type");
    refuse("{\"type\":[\"string\",1]}", ZM_EINVAL, "/type: item 1");
    /* A root that can never accept the params object. */
    refuse("{\"type\":\"string\"}", ZM_EINVAL, "/type: the root schema must accept an object");
    refuse("{\"type\":[\"array\",\"null\"]}", ZM_EINVAL, "must accept an object");
    refuse("false", ZM_EINVAL, "the schema false accepts no params object");
    ok("{\"type\":[\"object\",\"null\"]}", "{}");
    ok("true", "{}");
    const char *s = "{\"properties\":{\"name\":{\"type\":\"string\"}}}";
    ok(s, "{\"name\":\"x\"}");
    bad(s, "{\"name\":5}", "/name", "type: expected string, found integer");
    bad(s, "{\"name\":null}", "/name", "type: expected string, found null");
    bad(s, "{\"name\":[1]}", "/name", "type: expected string, found array");
    bad(s, "{\"name\":{}}", "/name", "type: expected string, found object");
    bad(s, "{\"name\":true}", "/name", "type: expected string, found boolean");
    bad(s, "{\"name\":1.5}", "/name", "type: expected string, found number");
    /* The root must be an object whatever the schema says. */
    bad("{\"type\":\"object\"}", "[]", "", "params: type: expected object, found array");
}

static void test_type_array(void) {
    const char *s = "{\"properties\":{\"v\":{\"type\":[\"string\",\"null\"]}}}";
    ok(s, "{\"v\":\"x\"}");
    ok(s, "{\"v\":null}");
    bad(s, "{\"v\":1}", "/v", "type: expected null or string, found integer");
    const char *s3 = "{\"properties\":{\"v\":{\"type\":[\"boolean\",\"array\",\"object\"]}}}";
    ok(s3, "{\"v\":[]}");
    bad(s3, "{\"v\":\"s\"}", "/v", "type: expected boolean, array or object, found string");
}

static void test_integer_vs_number(void) {
    const char *si = "{\"properties\":{\"n\":{\"type\":\"integer\"}}}";
    const char *sn = "{\"properties\":{\"n\":{\"type\":\"number\"}}}";
    ok(si, "{\"n\":3}");
    ok(si, "{\"n\":-9223372036854775808}");
    ok(si, "{\"n\":3.0}"); /* JSON Schema: 3.0 is an integer */
    ok(si, "{\"n\":1e3}");
    bad(si, "{\"n\":3.5}", "/n", "type: expected integer, found number");
    bad(si, "{\"n\":\"3\"}", "/n", "type: expected integer, found string");
    ok(sn, "{\"n\":3}");
    ok(sn, "{\"n\":3.5}");
    ok(sn, "{\"n\":-1e300}");
    bad(sn, "{\"n\":true}", "/n", "type: expected number, found boolean");
}

static void test_properties(void) {
    refuse("{\"properties\":[]}", ZM_EINVAL, "/properties: expected an object");
    refuse("{\"properties\":{\"a\":5}}", ZM_EINVAL, "/properties/a: expected a schema");
    refuse("{\"properties\":{\"a/b~c\":{\"type\":\"nope\"}}}", ZM_EINVAL,
           "/properties/a~1b~0c/type: unknown type name");
    const char *s = "{\"properties\":{\"outer\":{\"type\":\"object\",\"properties\":{\"in/ner\":"
                    "{\"type\":\"integer\"}}}}}";
    ok(s, "{\"outer\":{\"in/ner\":1},\"other\":\"anything\"}");
    bad(s, "{\"outer\":{\"in/ner\":\"x\"}}", "/outer/in~1ner", "type: expected integer");
    bad(s, "{\"outer\":3}", "/outer", "type: expected object, found integer");
    /* Boolean schemas. */
    ok("{\"properties\":{\"a\":true}}", "{\"a\":[1,2]}");
    bad("{\"properties\":{\"a\":false}}", "{\"a\":1}", "/a", "not allowed");
}

static void test_required(void) {
    refuse("{\"required\":\"a\"}", ZM_EINVAL, "/required: expected an array of strings");
    refuse("{\"required\":[\"a\",2]}", ZM_EINVAL, "/required: item 1: expected a string");
    const char *s = "{\"type\":\"object\",\"required\":[\"key\",\"value\"],\"properties\":{"
                    "\"meta\":{\"type\":\"object\",\"required\":[\"author\"]}}}";
    ok(s, "{\"key\":\"k\",\"value\":null}");
    bad(s, "{\"value\":1}", "/key", "/key: required");
    bad(s, "{\"key\":1}", "/value", "required");
    bad(s, "{\"key\":1,\"value\":2,\"meta\":{}}", "/meta/author", "/meta/author: required");
}

static void test_enum(void) {
    refuse("{\"enum\":[]}", ZM_EINVAL, "/enum: expected a non-empty array");
    refuse("{\"enum\":\"a\"}", ZM_EINVAL, "/enum");
    const char *s =
        "{\"properties\":{\"mode\":{\"enum\":[\"exact\",\"prefix\",1,null,{\"a\":[1]}]}}}";
    ok(s, "{\"mode\":\"exact\"}");
    ok(s, "{\"mode\":1}");
    ok(s, "{\"mode\":1.0}");
    ok(s, "{\"mode\":null}");
    ok(s, "{\"mode\":{\"a\":[1]}}");
    bad(s, "{\"mode\":\"fuzzy\"}", "/mode",
        "enum: expected one of \"exact\", \"prefix\", 1, null, {\"a\":[1]}");
    bad(s, "{\"mode\":{\"a\":[2]}}", "/mode", "enum");
    /* const is an enum of one. */
    ok("{\"properties\":{\"v\":{\"const\":\"x\"}}}", "{\"v\":\"x\"}");
    bad("{\"properties\":{\"v\":{\"const\":\"x\"}}}", "{\"v\":\"y\"}", "/v",
        "const: expected one of \"x\"");
}

static void test_items(void) {
    refuse("{\"items\":[{\"type\":\"string\"}]}", ZM_EINVAL, "/items: the array form");
    refuse("{\"items\":3}", ZM_EINVAL, "/items: expected a schema");
    const char *s = "{\"properties\":{\"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
                    "\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}}}}";
    ok(s, "{\"items\":[]}");
    ok(s, "{\"items\":[{\"name\":\"a\"},{\"name\":\"b\"}]}");
    bad(s, "{\"items\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"},{\"name\":4}]}",
        "/items/3/name", "/items/3/name: type: expected string, found integer");
    bad(s, "{\"items\":[{\"name\":\"a\"},{}]}", "/items/1/name", "required");
    /* minItems / maxItems. */
    refuse("{\"minItems\":-1}", ZM_EINVAL, "/minItems: expected a non-negative integer");
    const char *m = "{\"properties\":{\"l\":{\"minItems\":1,\"maxItems\":2}}}";
    ok(m, "{\"l\":[1]}");
    bad(m, "{\"l\":[]}", "/l", "minItems: expected at least 1 item, found 0");
    bad(m, "{\"l\":[1,2,3]}", "/l", "maxItems: expected at most 2 items, found 3");
}

static void test_min_length(void) {
    refuse("{\"minLength\":-1}", ZM_EINVAL, "/minLength: expected a non-negative integer");
    refuse("{\"minLength\":1.5}", ZM_EINVAL, "/minLength: expected a non-negative integer");
    refuse("{\"minLength\":\"1\"}", ZM_EINVAL, "/minLength");
    const char *s = "{\"properties\":{\"k\":{\"type\":\"string\",\"minLength\":3}}}";
    ok(s, "{\"k\":\"abc\"}");
    ok(s, "{\"k\":\"h\u00e9\u00e9\"}");
    bad(s, "{\"k\":\"ab\"}", "/k", "minLength: expected at least 3 characters, found 2");
    /* Two code points in five bytes are still two characters. */
    bad(s, "{\"k\":\"\\u00e9\\ud83d\\ude00\"}", "/k", "found 2");
    /* Non-strings are not checked by minLength. */
    ok(s, "{}");
    ok("{\"properties\":{\"k\":{\"minLength\":3}}}", "{\"k\":1}");
}

static void test_max_length(void) {
    refuse("{\"maxLength\":\"x\"}", ZM_EINVAL, "/maxLength: expected a non-negative integer");
    refuse("{\"minLength\":3,\"maxLength\":2}", ZM_EINVAL, "minLength is greater than maxLength");
    const char *s = "{\"properties\":{\"k\":{\"type\":\"string\",\"maxLength\":2}}}";
    ok(s, "{\"k\":\"ab\"}");
    ok(s, "{\"k\":\"\\u00e9\\u00e9\"}");               /* 4 bytes, 2 code points */
    ok(s, "{\"k\":\"\\ud83d\\ude00\\ud83d\\ude00\"}"); /* 8 bytes, 2 code points */
    bad(s, "{\"k\":\"abc\"}", "/k", "maxLength: expected at most 2 characters, found 3");
    bad(s, "{\"k\":\"\\u00e9\\u00e9\\u00e9\"}", "/k", "found 3");
}

static void test_minimum(void) {
    refuse("{\"minimum\":\"0\"}", ZM_EINVAL, "/minimum: expected a number");
    const char *s = "{\"properties\":{\"n\":{\"minimum\":0}}}";
    ok(s, "{\"n\":0}");
    ok(s, "{\"n\":0.0}");
    ok(s, "{\"n\":1e10}");
    ok(s, "{\"n\":\"strings are not checked\"}");
    bad(s, "{\"n\":-1}", "/n", "minimum: expected at least 0");
    bad(s, "{\"n\":-0.5}", "/n", "minimum");
    const char *big = "{\"properties\":{\"n\":{\"minimum\":9007199254740993}}}";
    ok(big, "{\"n\":9007199254740993}");
    bad(big, "{\"n\":9007199254740992}", "/n", "minimum: expected at least 9007199254740993");
    const char *r = "{\"properties\":{\"n\":{\"minimum\":0.5}}}";
    ok(r, "{\"n\":1}");
    bad(r, "{\"n\":0}", "/n", "minimum: expected at least 0.5");
}

static void test_maximum(void) {
    refuse("{\"maximum\":null}", ZM_EINVAL, "/maximum: expected a number");
    const char *s =
        "{\"properties\":{\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}}}";
    ok(s, "{\"limit\":100}");
    ok(s, "{\"limit\":1}");
    bad(s, "{\"limit\":101}", "/limit", "maximum: expected at most 100");
    bad(s, "{\"limit\":0}", "/limit", "minimum: expected at least 1");
    bad(s, "{\"limit\":100.5}", "/limit", "type: expected integer");
}

static void test_additional_properties(void) {
    refuse("{\"additionalProperties\":1}", ZM_EINVAL, "/additionalProperties: expected a schema");
    const char *no = "{\"properties\":{\"a\":{}},\"additionalProperties\":false}";
    ok(no, "{\"a\":1}");
    ok(no, "{}");
    bad(no, "{\"a\":1,\"b\":2}", "/b", "/b: additionalProperties: member not allowed");
    ok("{\"properties\":{\"a\":{}},\"additionalProperties\":true}", "{\"b\":2}");
    const char *typed =
        "{\"properties\":{\"a\":{}},\"additionalProperties\":{\"type\":\"string\"}}";
    ok(typed, "{\"a\":1,\"b\":\"x\",\"c\":\"y\"}");
    bad(typed, "{\"a\":1,\"b\":\"x\",\"c\":3}", "/c", "type: expected string, found integer");
    /* Nested: the pointer names the whole path. */
    const char *nested = "{\"properties\":{\"meta\":{\"additionalProperties\":{\"type\":\"array\","
                         "\"items\":{\"type\":\"integer\"}}}}}";
    bad(nested, "{\"meta\":{\"tags\":[1,2,\"x\"]}}", "/meta/tags/2", "type: expected integer");
}

static void test_unsupported_and_ignored(void) {
    refuse("{\"pattern\":\"^a\"}", ZM_EINVAL, "/pattern: unsupported keyword");
    refuse("{\"properties\":{\"a\":{\"oneOf\":[]}}}", ZM_EINVAL,
           "/properties/a/oneOf: unsupported keyword");
    refuse("[]", ZM_EINVAL, "expected a schema");
    /* Annotations are accepted and change nothing. */
    ok("{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"title\":\"t\",\"description\":"
       "\"d\",\"properties\":{\"a\":{\"description\":\"x\",\"default\":1,\"examples\":[1],"
       "\"format\":\"uri\"}}}",
       "{\"a\":\"not a uri\"}");
    ok("true", "{\"x\":1}");
}

static void test_field_escaping_in_pointer(void) {
    const char *s = "{\"properties\":{\"a/b\":{\"properties\":{\"c~d\":{\"type\":\"string\"}}}}}";
    bad(s, "{\"a/b\":{\"c~d\":1}}", "/a~1b/c~0d", "/a~1b/c~0d: type");
}

/* zm_prim_validate with a NULL name: no primitive's, as zm_prim_call says,
   never a crash; and with a name no primitive has. */
static void test_validate_unknown_name(void) {
    zm_prim_registry *reg = NULL;
    zm_prim_ctx *ctx = NULL;
    zm_json_error err;
    zm_prim_def d = {"p", "test", "{\"type\":\"object\"}", noop, NULL};
    CHECK_EQ(zm_prim_registry_create(A, &reg), ZM_OK);
    CHECK_EQ(zm_prim_register(reg, &d, &err), ZM_OK);
    CHECK_EQ(zm_prim_ctx_create(NULL, &ctx), ZM_OK);
    zm_json *params = zm_json_new_object(A, 0);
    CHECK(params != NULL);
    zm_prim_error e;
    CHECK_EQ(zm_prim_validate(reg, ctx, NULL, params), ZM_ENOTFOUND);
    zm_prim_last_error(ctx, &e);
    CHECK_EQ(e.code, ZM_PRIM_UNKNOWN_PRIMITIVE);
    CHECK_EQ(e.status, ZM_ENOTFOUND);
    CHECK(strstr(e.message, "unknown primitive") != NULL);
    CHECK_EQ(zm_prim_validate(reg, ctx, "q", params), ZM_ENOTFOUND);
    zm_prim_last_error(ctx, &e);
    CHECK_EQ(e.code, ZM_PRIM_UNKNOWN_PRIMITIVE);
    /* the call says the same */
    zm_json *res;
    CHECK_EQ(zm_prim_call(reg, ctx, NULL, params, &res), ZM_ENOTFOUND);
    CHECK_EQ(zm_prim_validate(reg, ctx, "p", params), ZM_OK);
    zm_json_free(A, params);
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
}

int main(void) {
    A = zm_default_allocator();
    RUN(test_validate_unknown_name);
    RUN(test_register_and_lookup);
    RUN(test_duplicates_refused);
    RUN(test_bad_definitions);
    RUN(test_schema_syntax_error);
    RUN(test_type);
    RUN(test_type_array);
    RUN(test_integer_vs_number);
    RUN(test_properties);
    RUN(test_required);
    RUN(test_enum);
    RUN(test_items);
    RUN(test_min_length);
    RUN(test_max_length);
    RUN(test_minimum);
    RUN(test_maximum);
    RUN(test_additional_properties);
    RUN(test_unsupported_and_ignored);
    RUN(test_field_escaping_in_pointer);
    return zt_finish("prim_registry");
}
