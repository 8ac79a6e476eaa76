/* Part of the store's conformance suite (included by test_conformance_search.c,
   after open_store): search that leaves out the keys under a prefix
   (zm_store_search_skip), and the template built-ins over each backend
   (template_put, render, template_list, template_delete, and search leaving
   templates out), with two contexts on one store. */
#ifndef ZMEM_TESTS_STORE_CONFORMANCE_TEMPLATES_H
#define ZMEM_TESTS_STORE_CONFORMANCE_TEMPLATES_H

#include "zmem/prim.h"

/* ---------------------------------------------------------------------------
 * zm_store_search_skip
 * ------------------------------------------------------------------------- */

static zm_status search_skip(zm_store *s, const char *q, zm_search_mode mode, size_t limit,
                             const char *skip, zm_search_hit **h, size_t *n, size_t *total) {
    return zm_store_search_skip(s, q, strlen(q), mode, limit, skip, skip ? strlen(skip) : 0, A(), h,
                                n, total);
}

/* True when no hit of h (n) has a key starting with prefix. */
static bool none_under(const zm_search_hit *h, size_t n, const char *prefix) {
    for (size_t i = 0; i < n; i++)
        if (h[i].key_len >= strlen(prefix) && memcmp(h[i].key, prefix, strlen(prefix)) == 0)
            return false;
    return true;
}

static void test_search_skip(void) {
    zm_store *s = open_store(NULL);
    CHECK_EQ(put(s, "$template/a", J("\"memory note\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "$template/b", J("{\"text\":\"a memory of {{who}}\"}"), NULL, NULL, 1, NULL),
             ZM_OK);
    CHECK_EQ(put(s, "$template/gone", J("\"memory note\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(forget(s, "$template/gone", false, 2, NULL, NULL), ZM_OK);
    CHECK_EQ(put(s, "$templatex", J("\"memory note\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "note", J("\"memory note\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "z", J("\"other\""), NULL, NULL, 1, NULL), ZM_OK);
    const char *sk = "$template/";
    zm_search_hit *h;
    size_t n, total;

    /* exact: three live matches, two of them outside the prefix. */
    CHECK_EQ(search(s, "memory note", ZM_SEARCH_EXACT, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 3);
    CHECK_EQ(search_skip(s, "memory note", ZM_SEARCH_EXACT, 10, sk, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(total, 2);
    if (n == 2) {
        CHECK(hit_is(&h[0], "$templatex", 0.5));
        CHECK(hit_is(&h[1], "note", 0.5));
    }
    /* The limit counts only what is kept; total still counts every kept match. */
    CHECK_EQ(search_skip(s, "memory note", ZM_SEARCH_EXACT, 1, sk, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(total, 2);
    if (n == 1) CHECK(hit_is(&h[0], "$templatex", 0.5));

    /* prefix */
    CHECK_EQ(search(s, "memory", ZM_SEARCH_PREFIX, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 3);
    CHECK_EQ(search_skip(s, "memory", ZM_SEARCH_PREFIX, 10, sk, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(total, 2);
    CHECK(none_under(h, n, sk));

    /* substring: by content, and by key (a key match left out is not
       counted either). */
    CHECK_EQ(search(s, "memory", ZM_SEARCH_SUBSTRING, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 4);
    CHECK_EQ(search_skip(s, "memory", ZM_SEARCH_SUBSTRING, 10, sk, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(total, 2);
    CHECK(none_under(h, n, sk));
    CHECK_EQ(search(s, "$template", ZM_SEARCH_SUBSTRING, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 3);
    CHECK_EQ(search_skip(s, "$template", ZM_SEARCH_SUBSTRING, 10, sk, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(total, 1);
    if (n == 1) CHECK(hit_is(&h[0], "$templatex", 1.0));
    CHECK_EQ(search_skip(s, "", ZM_SEARCH_SUBSTRING, 10, sk, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 3); /* $templatex, note, z */

    /* token: the same scores as without skipping (the collection's
       statistics are the same), the templates gone. */
    double score_note = -1.0;
    CHECK_EQ(search(s, "memory", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 4);
    for (size_t i = 0; i < n; i++)
        if (bytes_are(h[i].key, h[i].key_len, S("note"))) score_note = h[i].score;
    CHECK(score_note > 0.0);
    CHECK_EQ(search_skip(s, "memory", ZM_SEARCH_TOKEN, 10, sk, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(total, 2);
    CHECK(none_under(h, n, sk));
    for (size_t i = 0; i < n; i++)
        if (bytes_are(h[i].key, h[i].key_len, S("note")))
            CHECK(fabs(h[i].score - score_note) < 1e-9);

    /* No prefix: a plain search. A NULL prefix with a length is refused. */
    CHECK_EQ(search_skip(s, "memory", ZM_SEARCH_SUBSTRING, 10, NULL, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 4);
    CHECK_EQ(
        zm_store_search_skip(s, S("memory"), ZM_SEARCH_SUBSTRING, 10, NULL, 3, A(), &h, &n, &total),
        ZM_EINVAL);
    CHECK_EQ(search_skip(s, "x", (zm_search_mode)9, 1, sk, &h, &n, &total), ZM_EINVAL);

    /* A backend without the method: not supported (the caller decides). */
    zm_store_vtable vt = *s->vtable;
    vt.size = offsetof(zm_store_vtable, search_skip);
    const zm_store_vtable *saved = s->vtable;
    s->vtable = &vt;
    CHECK_EQ(search_skip(s, "memory", ZM_SEARCH_SUBSTRING, 10, sk, &h, &n, &total), ZM_ENOTSUP);
    CHECK_EQ(search_skip(s, "memory", ZM_SEARCH_SUBSTRING, 10, "", &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 4);
    s->vtable = saved;
    zm_store_close(s);
}

/* ---------------------------------------------------------------------------
 * The template built-ins over the backend
 * ------------------------------------------------------------------------- */

typedef struct tpl_env {
    zm_store *s;
    zm_prim_registry *reg;
    zm_prim_ctx *c1, *c2;
} tpl_env;

/* Calls name with params on ctx: the response's result (ok) or error, read
   into the test arena. */
static zm_json *tpl_call(tpl_env *e, zm_prim_ctx *ctx, const char *name, const char *params,
                         bool *ok) {
    char req[2048];
    snprintf(req, sizeof req, "{\"primitive\":\"%s\",\"params\":%s}", name, params);
    char *resp;
    size_t len;
    zm_prim_call_json(e->reg, ctx, req, strlen(req), &resp, &len);
    zm_json *r = J(resp);
    *ok = zm_json_bool(zm_json_get(r, "ok"));
    return *ok ? zm_json_get(r, "result") : zm_json_get(r, "error");
}

/* The result of a call that must succeed. */
static zm_json *tpl_ok(tpl_env *e, zm_prim_ctx *ctx, const char *name, const char *params) {
    bool ok;
    zm_json *r = tpl_call(e, ctx, name, params, &ok);
    CHECK(ok);
    if (!ok) fprintf(stderr, "  %s %s failed\n", name, params);
    return ok ? r : NULL;
}

/* The error code of a call that must fail. */
static const char *tpl_code(tpl_env *e, zm_prim_ctx *ctx, const char *name, const char *params) {
    bool ok;
    zm_json *r = tpl_call(e, ctx, name, params, &ok);
    CHECK(!ok);
    const char *c = ok ? NULL : zm_json_str(zm_json_get(r, "code"), NULL);
    return c ? c : "";
}

/* The keys of a search result, comma-separated, into buf. */
static const char *result_keys(const zm_json *r, char *buf, size_t size) {
    const zm_json *res = zm_json_get(r, "results");
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < zm_json_len(res) && pos < size; i++)
        pos += (size_t)snprintf(buf + pos, size - pos, "%s%s", i ? "," : "",
                                zm_json_str(zm_json_get(zm_json_at(res, i), "key"), NULL));
    return buf;
}

static void test_template_builtins(void) {
    tpl_env e;
    memset(&e, 0, sizeof e);
    e.s = open_store(NULL);
    CHECK_EQ(zm_prim_registry_create(zm_default_allocator(), &e.reg), ZM_OK);
    CHECK_EQ(zm_prim_register_builtins(e.reg, e.s), ZM_OK);
    CHECK_EQ(zm_prim_ctx_create(NULL, &e.c1), ZM_OK);
    CHECK_EQ(zm_prim_ctx_create(NULL, &e.c2), ZM_OK);
    if (e.c1 == NULL || e.c2 == NULL) return;
    char buf[512];

    tpl_ok(&e, e.c1, "template_put",
           "{\"name\":\"greet\",\"template\":{\"text\":\"hello {{who}}, a memory note\"},"
           "\"description\":\"a greeting\"}");
    tpl_ok(&e, e.c1, "template_put", "{\"name\":\"other\",\"template\":\"memory {{x}}\"}");
    tpl_ok(&e, e.c1, "store", "{\"key\":\"note\",\"value\":\"a memory note\"}");
    CHECK(is_json(tpl_ok(&e, e.c2, "render", "{\"name\":\"greet\",\"bindings\":{\"who\":\"Ada\"}}"),
                  "{\"text\":\"hello Ada, a memory note\"}"));

    /* search leaves the templates out, in every mode, unless asked. */
    static const char *const modes[] = {"substring", "token"};
    for (int m = 0; m < 2; m++) {
        char p[128];
        snprintf(p, sizeof p, "{\"query\":\"memory\",\"mode\":\"%s\"}", modes[m]);
        zm_json *r = tpl_ok(&e, e.c1, "search", p);
        CHECK_STR(result_keys(r, buf, sizeof buf), "note");
        CHECK_EQ(zm_json_int(zm_json_get(r, "total")), 1);
    }
    zm_json *r = tpl_ok(&e, e.c1, "search", "{\"query\":\"$template/\",\"mode\":\"prefix\"}");
    CHECK_STR(result_keys(r, buf, sizeof buf), "$template/greet,$template/other");
    CHECK_EQ(zm_json_int(zm_json_get(r, "total")), 2);

    /* template_delete on one context; the other sees it gone. */
    r = tpl_ok(&e, e.c1, "template_delete", "{\"name\":\"greet\"}");
    CHECK(is_json(r, "{\"name\":\"greet\",\"deleted\":true,\"version\":2}"));
    CHECK_STR(tpl_code(&e, e.c2, "render", "{\"name\":\"greet\",\"bindings\":{\"who\":\"Bo\"}}"),
              "not_found");
    CHECK_STR(tpl_code(&e, e.c1, "render", "{\"name\":\"greet\",\"bindings\":{\"who\":\"Bo\"}}"),
              "not_found");
    CHECK(!zm_template_has(zm_prim_templates(e.c2), "$template/greet"));
    r = tpl_ok(&e, e.c2, "template_list", "{}");
    CHECK_EQ(zm_json_int(zm_json_get(r, "count")), 1);
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(zm_json_get(r, "templates"), 0), "name"), NULL),
              "other");
    r = tpl_ok(&e, e.c1, "search", "{\"query\":\"$template/\",\"mode\":\"prefix\"}");
    CHECK_STR(result_keys(r, buf, sizeof buf), "$template/other");
    r = tpl_ok(&e, e.c1, "retrieve", "{\"key\":\"$template/greet\",\"history\":true}");
    CHECK(!zm_json_bool(zm_json_get(r, "exists")));
    CHECK_EQ(zm_json_len(zm_json_get(r, "history")), 2);
    CHECK(is_json(tpl_ok(&e, e.c2, "template_delete", "{\"name\":\"greet\"}"),
                  "{\"name\":\"greet\",\"deleted\":false,\"version\":null}"));

    /* Put again: version 3, rendered everywhere. */
    r = tpl_ok(&e, e.c2, "template_put", "{\"name\":\"greet\",\"template\":\"hi {{who}}\"}");
    CHECK_EQ(zm_json_int(zm_json_get(r, "version")), 3);
    CHECK(is_json(tpl_ok(&e, e.c1, "render", "{\"name\":\"greet\",\"bindings\":{\"who\":\"Cy\"}}"),
                  "\"hi Cy\""));

    zm_prim_ctx_destroy(e.c1);
    zm_prim_ctx_destroy(e.c2);
    zm_prim_registry_destroy(e.reg);
    zm_store_close(e.s);
}

#endif
