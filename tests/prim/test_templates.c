/* The template primitives (template_put, render, template_list,
   template_delete): answers and errors, the reserved key prefix, a new version seen by every
   context, a template written straight to the store (as another process would) or evicted from a
   small cache loaded again, and each primitive under the every-failure sweep. */
#include "test.h"
#include "json_text.h"
#include "zmem/prim.h"
#include "zmem/store.h"
#include "zmem/template.h"
#include "zmem/testing.h"

static int64_t now_ms = 5000;
static int64_t test_clock(void *c) {
    (void)c;
    return now_ms;
}

typedef struct env {
    zm_prim_registry *reg;
    zm_store *store;
    zm_prim_ctx *ctx;
} env;

/* A context on e's registry with its own template cache of budget bytes
   (0 = the default). */
static zm_status ctx_new(env *e, zm_allocator a, size_t budget, zm_prim_ctx **out) {
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = a;
    o.clock = test_clock;
    o.template_budget = budget;
    (void)e;
    return zm_prim_ctx_create(&o, out);
}

static zm_status env_init(env *e, zm_allocator a, size_t budget) {
    memset(e, 0, sizeof *e);
    zm_status st = zm_prim_registry_create(a, &e->reg);
    if (st == ZM_OK) st = zm_store_memory_create(a, NULL, &e->store);
    if (st == ZM_OK) st = zm_prim_register_builtins(e->reg, e->store);
    if (st == ZM_OK) st = ctx_new(e, a, budget, &e->ctx);
    return st;
}

static void env_deinit(env *e) {
    zm_prim_ctx_destroy(e->ctx);
    zm_prim_registry_destroy(e->reg);
    zm_store_close(e->store);
}

/* Calls name with params on ctx; the result, or NULL with *error set. */
static zm_json *call_on(env *e, zm_prim_ctx *ctx, const char *name, const char *params,
                        zm_json **error) {
    char req[8192];
    snprintf(req, sizeof req, "{\"primitive\":\"%s\",\"params\":%s}", name, params);
    char *resp;
    size_t len;
    zm_prim_call_json(e->reg, ctx, req, strlen(req), &resp, &len);
    zm_json *r = J(resp);
    if (error) *error = zm_json_get(r, "error");
    if (!zm_json_bool(zm_json_get(r, "ok"))) {
        if (error == NULL) fprintf(stderr, "  %s %s failed: %s\n", name, params, resp);
        return NULL;
    }
    return zm_json_get(r, "result");
}

static zm_json *call(env *e, const char *name, const char *params) {
    return call_on(e, e->ctx, name, params, NULL);
}

/* Expects an error with code and field, its message containing part. */
static bool fails(env *e, zm_prim_ctx *ctx, const char *name, const char *params, const char *code,
                  const char *field, const char *part) {
    zm_json *err = NULL;
    if (call_on(e, ctx, name, params, &err) != NULL || err == NULL) {
        fprintf(stderr, "  %s %s: expected %s\n", name, params, code);
        return false;
    }
    const char *c = zm_json_str(zm_json_get(err, "code"), NULL);
    const char *f = zm_json_str(zm_json_get(err, "field"), NULL);
    const char *m = zm_json_str(zm_json_get(err, "message"), NULL);
    bool ok = c && strcmp(c, code) == 0 &&
              (field == NULL ? f == NULL : f && strcmp(f, field) == 0) && m &&
              strstr(m, part) != NULL;
    if (!ok)
        fprintf(stderr, "  %s %s: got %s at %s (%s), want %s at %s (%s)\n", name, params,
                c ? c : "?", f ? f : "-", m ? m : "", code, field ? field : "-", part);
    return ok;
}

static int64_t iget_count(const zm_json *r) {
    return zm_json_int(zm_json_get(r, "count"));
}

/* ---------------------------------------------------------------------------
 * The primitives
 * ------------------------------------------------------------------------- */

static void test_put_render_list(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), 0), ZM_OK);
    now_ms = 5000;
    zm_json *r = call(&e, "template_put",
                      "{\"name\":\"summary\",\"description\":\"Ask for a summary\",\"template\":"
                      "{\"role\":\"user\",\"content\":\"Summarize {{topic}} in {{n}} bullets\","
                      "\"meta\":{\"topic\":\"{{topic}}\",\"fixed\":[1,2]}}}");
    CHECK(is_json(r, "{\"name\":\"summary\",\"version\":1,\"timestamp\":5000,"
                     "\"placeholders\":[\"topic\",\"n\"]}"));
    r = call(&e, "render", "{\"name\":\"summary\",\"bindings\":{\"topic\":\"arenas\",\"n\":3}}");
    CHECK(is_json(r, "{\"role\":\"user\",\"content\":\"Summarize arenas in 3 bullets\","
                     "\"meta\":{\"topic\":\"arenas\",\"fixed\":[1,2]}}"));
    /* Any binding type; a whole placeholder takes the value itself. */
    r = call(&e, "render",
             "{\"name\":\"summary\",\"bindings\":{\"topic\":{\"a\":[true]},\"n\":\"three\"}}");
    CHECK(is_json(r, "{\"role\":\"user\",\"content\":\"Summarize {\\\"a\\\":[true]} in three "
                     "bullets\",\"meta\":{\"topic\":{\"a\":[true]},\"fixed\":[1,2]}}"));
    /* A template without placeholders needs no bindings. */
    call(&e, "template_put", "{\"name\":\"fixed\",\"template\":[1,\"{{ not }}\"]}");
    CHECK(is_json(call(&e, "render", "{\"name\":\"fixed\"}"), "[1,\"{{ not }}\"]"));
    now_ms = 6000;
    r = call(&e, "template_put", "{\"name\":\"a/b\",\"template\":\"{{x}}\"}");
    CHECK(is_json(r, "{\"name\":\"a/b\",\"version\":1,\"timestamp\":6000,"
                     "\"placeholders\":[\"x\"]}"));

    r = call(&e, "template_list", "{}");
    CHECK(is_json(r, "{\"templates\":["
                     "{\"name\":\"a/b\",\"version\":1,\"timestamp\":6000,\"placeholders\":[\"x\"]},"
                     "{\"name\":\"fixed\",\"version\":1,\"timestamp\":5000,\"placeholders\":[]},"
                     "{\"name\":\"summary\",\"version\":1,\"timestamp\":5000,"
                     "\"description\":\"Ask for a summary\",\"placeholders\":[\"topic\",\"n\"]}],"
                     "\"count\":3,\"truncated\":false}"));
    r = call(&e, "template_list", "{\"prefix\":\"su\"}");
    CHECK_EQ(iget_count(r), 1);
    /* Ordinary keys whose content looks like a template key are not listed. */
    call(&e, "store", "{\"key\":\"note\",\"value\":\"$template/fixed\"}");
    CHECK_EQ(iget_count(call(&e, "template_list", "{}")), 3);

    /* Versions like any key, readable with retrieve. */
    call(&e, "template_put", "{\"name\":\"fixed\",\"template\":\"v2\"}");
    r = call(&e, "retrieve", "{\"key\":\"$template/fixed\",\"history\":true}");
    CHECK_EQ(zm_json_int(zm_json_get(r, "version")), 2);
    CHECK_EQ(zm_json_len(zm_json_get(r, "history")), 2);
    CHECK(is_json(call(&e, "render", "{\"name\":\"fixed\"}"), "\"v2\""));
    env_deinit(&e);
}

static void test_errors(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), 4096), ZM_OK);
    call(&e, "template_put", "{\"name\":\"t\",\"template\":{\"a\":\"{{x}} and {{y}}\"}}");
    CHECK(fails(&e, e.ctx, "render", "{\"name\":\"none\"}", "not_found", "/name",
                "no template named \"none\""));
    CHECK(fails(&e, e.ctx, "render", "{\"name\":\"t\",\"bindings\":{\"x\":1}}", "invalid_params",
                "/bindings", "{{y}}"));
    CHECK(fails(&e, e.ctx, "render", "{\"name\":\"t\"}", "invalid_params", "/bindings", "{{x}}"));
    CHECK(fails(&e, e.ctx, "render", "{\"name\":\"t\",\"bindings\":[]}", "invalid_params",
                "/bindings", "type"));
    CHECK(fails(&e, e.ctx, "render", "{\"name\":\"\"}", "invalid_params", "/name", ""));
    CHECK(fails(&e, e.ctx, "render", "{\"name\":\"a\\u0000b\"}", "invalid_params", "/name", "NUL"));
    CHECK(fails(&e, e.ctx, "template_put", "{\"name\":\"t\"}", "invalid_params", "/template",
                "template"));
    /* Over the cache's budget: limit_exceeded, and nothing stored. */
    char big[8192];
    size_t n = (size_t)snprintf(big, sizeof big, "{\"name\":\"big\",\"template\":[");
    for (int i = 0; i < 400; i++) n += (size_t)snprintf(big + n, sizeof big - n, "%d,", i);
    snprintf(big + n - 1, sizeof big - n + 1, "]}");
    CHECK(fails(&e, e.ctx, "template_put", big, "limit_exceeded", "/template", "budget"));
    CHECK(fails(&e, e.ctx, "render", "{\"name\":\"big\"}", "not_found", "/name", "big"));
    CHECK(
        !zm_json_bool(zm_json_get(call(&e, "retrieve", "{\"key\":\"$template/big\"}"), "exists")));
    /* The reserved prefix: store and forget refuse it. */
    CHECK(fails(&e, e.ctx, "store", "{\"key\":\"$template/t\",\"value\":1}", "invalid_params",
                "/key", "template_put"));
    CHECK(fails(&e, e.ctx, "forget", "{\"key\":\"$template/t\",\"purge\":true}", "invalid_params",
                "/key", "template"));
    CHECK(call(&e, "store", "{\"key\":\"$templatex\",\"value\":1}") != NULL);
    CHECK(is_json(call(&e, "render", "{\"name\":\"t\",\"bindings\":{\"x\":1,\"y\":\"z\"}}"),
                  "{\"a\":\"1 and z\"}"));
    env_deinit(&e);
}

/* A short template repeating a placeholder inside a string multiplies its
   binding: past ZM_TEMPLATE_MAX_TEXT bytes the render is limit_exceeded,
   before the text is built. */
static void test_render_text_limit(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), 0), ZM_OK);
    char tpl[7000];
    size_t n = (size_t)snprintf(tpl, sizeof tpl, "{\"name\":\"rep\",\"template\":\"");
    for (int i = 0; i < 1000; i++) n += (size_t)snprintf(tpl + n, sizeof tpl - n, "{{a}}");
    snprintf(tpl + n, sizeof tpl - n, "\"}");
    CHECK(call(&e, "template_put", tpl) != NULL);
    size_t blen = ZM_TEMPLATE_MAX_TEXT / 1000 + 1000;
    char *req = malloc(blen + 128);
    CHECK(req != NULL);
    if (req == NULL) return;
    n = (size_t)snprintf(req, 128,
                         "{\"primitive\":\"render\",\"params\":{\"name\":\"rep\",\"bindings\":"
                         "{\"a\":\"");
    memset(req + n, 'x', blen);
    n += blen;
    memcpy(req + n, "\"}}}", 5);
    char *resp;
    size_t len;
    CHECK_EQ(zm_prim_call_json(e.reg, e.ctx, req, n + 4, &resp, &len), ZM_ELIMIT);
    zm_json *err = zm_json_get(J(resp), "error");
    CHECK_STR(zm_json_str(zm_json_get(err, "code"), NULL), "limit_exceeded");
    CHECK_STR(zm_json_str(zm_json_get(err, "field"), NULL), "/bindings");
    CHECK(strstr(zm_json_str(zm_json_get(err, "message"), NULL), "rendered text") != NULL);
    free(req);
    /* A binding that fits renders. */
    zm_json *r = call(&e, "render", "{\"name\":\"rep\",\"bindings\":{\"a\":\"xy\"}}");
    size_t rlen = 0;
    CHECK(zm_json_str(r, &rlen) != NULL);
    CHECK_EQ(rlen, 2000);
    env_deinit(&e);
}

/* ---------------------------------------------------------------------------
 * The cache: versions across contexts, the store written behind its back,
 * eviction
 * ------------------------------------------------------------------------- */

static void test_new_version_everywhere(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), 0), ZM_OK);
    zm_prim_ctx *other = NULL;
    CHECK_EQ(ctx_new(&e, zm_default_allocator(), 0, &other), ZM_OK);
    call(&e, "template_put", "{\"name\":\"g\",\"template\":\"v1 {{who}}\"}");
    CHECK(
        is_json(call_on(&e, other, "render", "{\"name\":\"g\",\"bindings\":{\"who\":\"a\"}}", NULL),
                "\"v1 a\""));
    /* A new version on one context is seen by the next render on the other. */
    call(&e, "template_put", "{\"name\":\"g\",\"template\":\"v2 {{who}}\"}");
    CHECK(
        is_json(call_on(&e, other, "render", "{\"name\":\"g\",\"bindings\":{\"who\":\"b\"}}", NULL),
                "\"v2 b\""));
    /* Written straight to the store, as another process on the same database
       would: seen too. */
    zm_json *v = J("{\"new\":\"{{who}}!\"}");
    zm_store_write w = {"$template/g", 11, v, NULL, NULL, 0, NULL, 0, 9000, 0};
    CHECK_EQ(zm_store_put(e.store, &w, NULL), ZM_OK);
    zm_json *v4 = J("\"{{who}}?\"");
    zm_store_write w2 = {"$template/h", 11, v4, NULL, NULL, 0, NULL, 0, 9000, 0};
    CHECK_EQ(zm_store_put(e.store, &w2, NULL), ZM_OK);
    CHECK(
        is_json(call_on(&e, other, "render", "{\"name\":\"g\",\"bindings\":{\"who\":\"c\"}}", NULL),
                "{\"new\":\"c!\"}"));
    CHECK(is_json(call(&e, "render", "{\"name\":\"h\",\"bindings\":{\"who\":\"d\"}}"), "\"d?\""));
    /* A deletion written to the store: not found any more. */
    zm_store_write d = {"$template/g", 11, NULL, NULL, NULL, 0, NULL, 0, 9001, 0};
    CHECK_EQ(zm_store_forget(e.store, &d, false, NULL, NULL), ZM_OK);
    CHECK(fails(&e, other, "render", "{\"name\":\"g\",\"bindings\":{\"who\":\"c\"}}", "not_found",
                "/name", "g"));
    CHECK_EQ(iget_count(call(&e, "template_list", "{}")), 1);
    zm_prim_ctx_destroy(other);
    env_deinit(&e);
}

static void test_evicted_and_loaded_again(void) {
    /* A cache with room for about two of these templates. */
    zm_template_cache *probe;
    CHECK_EQ(zm_template_cache_create(zm_default_allocator(), 0, &probe), ZM_OK);
    static const char tmpl[] = "{\"t\":\"{{x}} 0123456789012345678901234567890123456789\"}";
    CHECK_EQ(zm_template_put(probe, "$template/t0", tmpl, strlen(tmpl), NULL), ZM_OK);
    zm_template_stats ps;
    zm_template_stats_get(probe, &ps);
    zm_template_cache_destroy(probe);

    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), ps.bytes * 5 / 2), ZM_OK);
    for (int i = 0; i < 4; i++) {
        char p[256];
        snprintf(p, sizeof p, "{\"name\":\"t%d\",\"template\":%s}", i, tmpl);
        CHECK(call(&e, "template_put", p) != NULL);
    }
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 4; i++) {
            char p[128], want[128];
            snprintf(p, sizeof p, "{\"name\":\"t%d\",\"bindings\":{\"x\":%d}}", i, i);
            snprintf(want, sizeof want, "{\"t\":\"%d 0123456789012345678901234567890123456789\"}",
                     i);
            CHECK(is_json(call(&e, "render", p), want));
        }
    zm_template_stats s;
    zm_template_stats_get(zm_prim_templates(e.ctx), &s);
    CHECK(s.evictions >= 8);
    CHECK(s.templates <= 2);
    CHECK(s.bytes <= s.budget);
    CHECK_EQ(s.pinned, 0);
    env_deinit(&e);
}

/* ---------------------------------------------------------------------------
 * template_delete
 * ------------------------------------------------------------------------- */

static void test_delete(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), 0), ZM_OK);
    zm_prim_ctx *other = NULL;
    CHECK_EQ(ctx_new(&e, zm_default_allocator(), 0, &other), ZM_OK);
    now_ms = 7000;
    call(&e, "template_put", "{\"name\":\"gone\",\"template\":\"hi {{who}}\"}");
    call(&e, "template_put", "{\"name\":\"kept\",\"template\":\"{{x}}\"}");
    CHECK(is_json(
        call_on(&e, other, "render", "{\"name\":\"gone\",\"bindings\":{\"who\":\"a\"}}", NULL),
        "\"hi a\""));
    CHECK(zm_template_has(zm_prim_templates(other), "$template/gone"));

    /* Deleted on one context: a deletion recorded as version 2, gone from its
       cache at once. */
    now_ms = 8000;
    zm_json *r = call(&e, "template_delete", "{\"name\":\"gone\"}");
    CHECK(is_json(r, "{\"name\":\"gone\",\"deleted\":true,\"version\":2}"));
    CHECK(!zm_template_has(zm_prim_templates(e.ctx), "$template/gone"));
    CHECK(fails(&e, e.ctx, "render", "{\"name\":\"gone\",\"bindings\":{\"who\":\"b\"}}",
                "not_found", "/name", "no template named \"gone\""));
    /* The other context still holds version 1: its next render asks the
       store, answers not_found and drops its copy. */
    CHECK(zm_template_has(zm_prim_templates(other), "$template/gone"));
    CHECK(fails(&e, other, "render", "{\"name\":\"gone\",\"bindings\":{\"who\":\"b\"}}",
                "not_found", "/name", "gone"));
    CHECK(!zm_template_has(zm_prim_templates(other), "$template/gone"));
    /* Not listed; the other template is. */
    CHECK(is_json(call(&e, "template_list", "{}"),
                  "{\"templates\":[{\"name\":\"kept\",\"version\":1,\"timestamp\":7000,"
                  "\"placeholders\":[\"x\"]}],\"count\":1,\"truncated\":false}"));
    /* History as forget leaves it: both versions, the deletion last. */
    r = call(&e, "retrieve", "{\"key\":\"$template/gone\",\"history\":true}");
    CHECK(!zm_json_bool(zm_json_get(r, "exists")));
    const zm_json *h = zm_json_get(r, "history");
    CHECK_EQ(zm_json_len(h), 2);
    CHECK(zm_json_bool(zm_json_get(zm_json_at(h, 1), "deleted")));
    CHECK_EQ(zm_json_int(zm_json_get(zm_json_at(h, 1), "timestamp")), 8000);
    r = call(&e, "retrieve", "{\"key\":\"$template/gone\",\"as_of\":7500}");
    CHECK(is_json(zm_json_get(r, "value"), "\"hi {{who}}\""));

    /* Deleting again, or a template never put: nothing recorded. */
    CHECK(is_json(call(&e, "template_delete", "{\"name\":\"gone\"}"),
                  "{\"name\":\"gone\",\"deleted\":false,\"version\":null}"));
    CHECK(is_json(call_on(&e, other, "template_delete", "{\"name\":\"never\"}", NULL),
                  "{\"name\":\"never\",\"deleted\":false,\"version\":null}"));
    /* Put again: a new version, seen everywhere. */
    r = call(&e, "template_put", "{\"name\":\"gone\",\"template\":\"back {{who}}\"}");
    CHECK_EQ(zm_json_int(zm_json_get(r, "version")), 3);
    CHECK(is_json(
        call_on(&e, other, "render", "{\"name\":\"gone\",\"bindings\":{\"who\":\"c\"}}", NULL),
        "\"back c\""));
    CHECK_EQ(iget_count(call(&e, "template_list", "{}")), 2);

    /* Errors: no name, a NUL, an unknown parameter (there is no purge). */
    CHECK(fails(&e, e.ctx, "template_delete", "{}", "invalid_params", "/name", "required"));
    CHECK(fails(&e, e.ctx, "template_delete", "{\"name\":\"a\\u0000b\"}", "invalid_params", "/name",
                "NUL"));
    CHECK(fails(&e, e.ctx, "template_delete", "{\"name\":\"gone\",\"purge\":true}",
                "invalid_params", "/purge", "not allowed"));
    /* forget still refuses the prefix and names the primitive to use. */
    CHECK(fails(&e, e.ctx, "forget", "{\"key\":\"$template/kept\"}", "invalid_params", "/key",
                "template_delete"));
    zm_prim_ctx_destroy(other);
    env_deinit(&e);
}

/* ---------------------------------------------------------------------------
 * The sweep
 * ------------------------------------------------------------------------- */

typedef struct sweep_case {
    const char *name;
    const char *params;
} sweep_case;

static zm_status sweep_call(zm_allocator a, void *arg) {
    const sweep_case *c = arg;
    env e;
    zm_status st = env_init(&e, a, 0);
    static const char *setup[] = {
        "{\"primitive\":\"template_put\",\"params\":{\"name\":\"t\",\"template\":{\"a\":\"{{x}} "
        "and {{y}}\",\"b\":[\"{{x}}\",{\"c\":1}]},\"description\":\"d\"}}",
        "{\"primitive\":\"template_put\",\"params\":{\"name\":\"u\",\"template\":\"{{x}}\"}}",
        "{\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":\"$template/zz\"}}",
    };
    for (size_t i = 0; i < 3 && st == ZM_OK; i++) {
        char *resp;
        size_t len;
        st = zm_prim_call_json(e.reg, e.ctx, setup[i], strlen(setup[i]), &resp, &len);
    }
    if (st == ZM_OK) {
        /* Evict everything, so that render loads from the store again. */
        zm_template_remove(zm_prim_templates(e.ctx), "$template/t");
        zm_template_remove(zm_prim_templates(e.ctx), "$template/u");
        zm_json *params = NULL;
        zm_json_parse_arena(&ar, c->params, strlen(c->params), NULL, &params, NULL);
        zm_json *result = NULL;
        for (int i = 0; i < 2 && st == ZM_OK; i++) {
            st = zm_prim_call(e.reg, e.ctx, c->name, params, &result);
            zm_prim_error err;
            zm_prim_last_error(e.ctx, &err);
            if (st == ZM_ENOMEM && err.code != ZM_PRIM_OUT_OF_MEMORY) st = ZM_EINTERNAL;
        }
    }
    env_deinit(&e);
    return st;
}

static void test_sweep(void) {
    static const sweep_case cases[] = {
        {"template_put", "{\"name\":\"n\",\"template\":{\"p\":\"{{q}} {{r}}\",\"s\":[1,\"{{q}}\"]},"
                         "\"description\":\"new\"}"},
        {"template_put", "{\"name\":\"t\",\"template\":[\"{{z}}\"]}"},
        {"render", "{\"name\":\"t\",\"bindings\":{\"x\":[1,{\"k\":null}],\"y\":\"text\"}}"},
        {"render", "{\"name\":\"u\",\"bindings\":{\"x\":1}}"},
        {"template_list", "{}"},
        {"template_delete", "{\"name\":\"t\"}"},
        {"template_delete", "{\"name\":\"none\"}"},
    };
    /* Every allocation, arena requests too, failing in turn. */
    static const zm_sweep_options every = {.skip_arenas = false};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zm_sweep_report r;
        if (zm_check_allocation_failures(zm_default_allocator(), sweep_call, (void *)&cases[i],
                                         &every, &r) != ZM_OK) {
            fprintf(stderr, "%s\n  sweep of %s %s\n", r.message, cases[i].name, cases[i].params);
            CHECK(false);
        }
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
}

int main(void) {
    zm_arena_init(&ar, zm_default_allocator());
    RUN(test_put_render_list);
    RUN(test_errors);
    RUN(test_render_text_limit);
    RUN(test_new_version_everywhere);
    RUN(test_evicted_and_loaded_again);
    RUN(test_delete);
    RUN(test_sweep);
    zm_arena_deinit(&ar);
    return zt_finish("prim_templates");
}
