/* The built-in `render` against the two ways a primitive would make the
 * same JSON without a template.
 *
 *   bench_render [BATCHES [CALLS_PER_BATCH]]
 *
 * Three primitives, each called by value (zm_prim_call) on one context with
 * the same params {name, bindings}, each making the same instance of a tool
 * result scaffold of about 650 bytes (whole-value placeholders and
 * placeholders inside strings) in the per-call arena:
 *
 *   render  the built-in, from the context's template cache (the template
 *           was put once through template_put on a memory store);
 *   build   a primitive that builds the instance node by node: constant keys
 *           and strings borrowed, the strings with placeholders formatted
 *           with zm_arena_printf, the whole-value bindings shared;
 *   parse   a primitive that parses the instance's text. The text is made
 *           once, before timing, so no formatting is counted: this favours
 *           parse.
 *
 * Before timing, the three results are written as compact JSON and must be
 * the same text (else the exit status is 1). Timing: batches of calls, the
 * three primitives taking turns batch by batch, each batch timed by the
 * thread's CPU clock; the median batch gives ns per call, and the ratios
 * build / render and parse / render are printed. Nothing fails on time.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zmem.h"

static const char tmpl_text[] =
    "{\"content\":[{\"type\":\"text\",\"text\":\"Summarize {{topic}} in {{n}} bullets for "
    "{{agent}}.\"}],"
    "\"structuredContent\":{\"status\":\"ok\",\"request\":\"{{request_id}}\","
    "\"service\":{\"name\":\"memory\",\"version\":\"1.4.2\",\"features\":[\"store\","
    "\"retrieve\",\"search\",\"link\"],\"limits\":{\"max_items\":1000,\"max_depth\":64,"
    "\"max_bytes\":1048576}},"
    "\"data\":{\"items\":\"{{items}}\",\"total\":\"{{total}}\",\"page\":{\"size\":20,"
    "\"cursor\":null,\"has_more\":false}},"
    "\"note\":\"{{total}} results for {{agent}}, ordered by relevance.\","
    "\"links\":[{\"rel\":\"self\",\"href\":\"/v1/memory/search\"},{\"rel\":\"next\","
    "\"href\":\"/v1/memory/search?page=2\"}]},"
    "\"isError\":false}";

static const char params_text[] =
    "{\"name\":\"result\",\"bindings\":{\"topic\":\"arena allocators\",\"n\":3,"
    "\"agent\":\"agent-42\",\"request_id\":\"req-7f3a9c21\",\"total\":3,"
    "\"items\":[{\"key\":\"a\",\"value\":1},{\"key\":\"b\",\"value\":[true,null]},"
    "{\"key\":\"c\",\"value\":\"text\"}]}}";

typedef struct parse_arg {
    char *text;
    size_t len;
} parse_arg;

/* Shorthands for the builder; each returns the status of its step. */
#define ADD(o, k, v) zm_json_object_add_ref(a, (o), k, sizeof k - 1, (v))
#define CSTR(s)      zm_json_new_string_ref(a, s, sizeof s - 1)

static zm_json *string_of(zm_allocator a, const char *s) {
    return s == NULL ? NULL : zm_json_new_string_ref(a, s, strlen(s));
}

static zm_json *link_obj(zm_allocator a, const char *rel, const char *href) {
    zm_json *o = zm_json_new_object(a, 2);
    if (o == NULL || zm_json_object_add_ref(a, o, "rel", 3, string_of(a, rel)) != ZM_OK ||
        zm_json_object_add_ref(a, o, "href", 4, string_of(a, href)) != ZM_OK)
        return NULL;
    return o;
}

/* The instance, node by node. The arena frees everything at the call's end,
   so a failed step returns without undoing the earlier ones. */
static zm_status build_fn(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_allocator a = zm_prim_alloc(ctx);
    zm_arena *ar = zm_prim_arena(ctx);
    const zm_json *b = zm_json_get(params, "bindings");
    const zm_json *topic = zm_json_get(b, "topic"), *n = zm_json_get(b, "n");
    const zm_json *agent = zm_json_get(b, "agent"), *rid = zm_json_get(b, "request_id");
    const zm_json *total = zm_json_get(b, "total"), *items = zm_json_get(b, "items");
    if (!zm_json_is_string(topic) || !zm_json_is_int(n) || !zm_json_is_string(agent) ||
        rid == NULL || !zm_json_is_int(total) || items == NULL)
        return ZM_EINVAL;
    const char *agent_s = zm_json_str(agent, NULL);

    char *summary = zm_arena_printf(ar, "Summarize %s in %lld bullets for %s.",
                                    zm_json_str(topic, NULL), (long long)zm_json_int(n), agent_s);
    char *note = zm_arena_printf(ar, "%lld results for %s, ordered by relevance.",
                                 (long long)zm_json_int(total), agent_s);
    if (summary == NULL || note == NULL) return ZM_ENOMEM;

    zm_json *text = zm_json_new_object(a, 2), *content = zm_json_new_array(a, 1);
    if (text == NULL || content == NULL || ADD(text, "type", CSTR("text")) != ZM_OK ||
        ADD(text, "text", string_of(a, summary)) != ZM_OK ||
        zm_json_array_push(a, content, text) != ZM_OK)
        return ZM_ENOMEM;

    zm_json *features = zm_json_new_array(a, 4);
    if (features == NULL || zm_json_array_push(a, features, CSTR("store")) != ZM_OK ||
        zm_json_array_push(a, features, CSTR("retrieve")) != ZM_OK ||
        zm_json_array_push(a, features, CSTR("search")) != ZM_OK ||
        zm_json_array_push(a, features, CSTR("link")) != ZM_OK)
        return ZM_ENOMEM;
    zm_json *limits = zm_json_new_object(a, 3);
    if (zm_json_object_add_int(a, limits, "max_items", 1000) != ZM_OK ||
        zm_json_object_add_int(a, limits, "max_depth", 64) != ZM_OK ||
        zm_json_object_add_int(a, limits, "max_bytes", 1048576) != ZM_OK)
        return ZM_ENOMEM;
    zm_json *service = zm_json_new_object(a, 4);
    if (service == NULL || ADD(service, "name", CSTR("memory")) != ZM_OK ||
        ADD(service, "version", CSTR("1.4.2")) != ZM_OK ||
        ADD(service, "features", features) != ZM_OK || ADD(service, "limits", limits) != ZM_OK)
        return ZM_ENOMEM;

    zm_json *page = zm_json_new_object(a, 3);
    if (zm_json_object_add_int(a, page, "size", 20) != ZM_OK ||
        ADD(page, "cursor", zm_json_new_null(a)) != ZM_OK ||
        zm_json_object_add_bool(a, page, "has_more", false) != ZM_OK)
        return ZM_ENOMEM;
    zm_json *data = zm_json_new_object(a, 3);
    if (data == NULL || ADD(data, "items", (zm_json *)items) != ZM_OK ||
        ADD(data, "total", (zm_json *)total) != ZM_OK || ADD(data, "page", page) != ZM_OK)
        return ZM_ENOMEM;

    zm_json *links = zm_json_new_array(a, 2);
    if (links == NULL ||
        zm_json_array_push(a, links, link_obj(a, "self", "/v1/memory/search")) != ZM_OK ||
        zm_json_array_push(a, links, link_obj(a, "next", "/v1/memory/search?page=2")) != ZM_OK)
        return ZM_ENOMEM;

    zm_json *sc = zm_json_new_object(a, 6);
    if (sc == NULL || ADD(sc, "status", CSTR("ok")) != ZM_OK ||
        ADD(sc, "request", (zm_json *)rid) != ZM_OK || ADD(sc, "service", service) != ZM_OK ||
        ADD(sc, "data", data) != ZM_OK || ADD(sc, "note", string_of(a, note)) != ZM_OK ||
        ADD(sc, "links", links) != ZM_OK)
        return ZM_ENOMEM;

    zm_json *r = zm_json_new_object(a, 3);
    if (r == NULL || ADD(r, "content", content) != ZM_OK ||
        ADD(r, "structuredContent", sc) != ZM_OK ||
        zm_json_object_add_bool(a, r, "isError", false) != ZM_OK)
        return ZM_ENOMEM;
    *result = r;
    return ZM_OK;
}

static zm_status parse_fn(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)params;
    const parse_arg *p = zm_prim_userdata(ctx);
    return zm_json_parse_arena(zm_prim_arena(ctx), p->text, p->len, NULL, result, NULL);
}

static double thread_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Calls prim once and writes its result as compact JSON into *out (malloc'd
   by the default allocator; the caller frees it with len + 1). */
static bool result_text(zm_prim_registry *reg, zm_prim_ctx *ctx, const char *prim,
                        const zm_json *params, char **out, size_t *len) {
    zm_json *res;
    if (zm_prim_call(reg, ctx, prim, params, &res) != ZM_OK) {
        zm_prim_error e;
        zm_prim_last_error(ctx, &e);
        fprintf(stderr, "bench_render: %s failed: %s\n", prim, e.message);
        return false;
    }
    return zm_json_write(zm_default_allocator(), res, 0, out, len) == ZM_OK;
}

int main(int argc, char **argv) {
    size_t batches = argc > 1 ? (size_t)atol(argv[1]) : 31;
    size_t calls = argc > 2 ? (size_t)atol(argv[2]) : 20000;
    if (batches == 0 || calls == 0) {
        fprintf(stderr, "usage: bench_render [BATCHES [CALLS_PER_BATCH]]\n");
        return 2;
    }
    zm_allocator a = zm_default_allocator();
    zm_store *store = NULL;
    zm_prim_registry *reg = NULL;
    zm_prim_ctx *ctx = NULL;
    zm_json_doc *tmpl = NULL, *params = NULL;
    parse_arg parg = {NULL, 0};
    char *texts[3] = {NULL, NULL, NULL};
    size_t lens[3] = {0, 0, 0};
    int rc = 1;
    zm_json_error err;
    zm_prim_def build_def = {"build", "The instance, node by node.", NULL, build_fn, NULL};
    zm_prim_def parse_def = {"parse", "The instance, parsed from its text.", NULL, parse_fn, &parg};
    if (zm_store_memory_create(a, NULL, &store) != ZM_OK ||
        zm_prim_registry_create(a, &reg) != ZM_OK ||
        zm_prim_register_builtins(reg, store) != ZM_OK ||
        zm_prim_register(reg, &build_def, &err) != ZM_OK ||
        zm_prim_register(reg, &parse_def, &err) != ZM_OK || zm_prim_ctx_create(NULL, &ctx) != ZM_OK)
        goto done;
    if (zm_json_parse(a, tmpl_text, sizeof tmpl_text - 1, NULL, &tmpl, NULL) != ZM_OK ||
        zm_json_parse(a, params_text, sizeof params_text - 1, NULL, &params, NULL) != ZM_OK)
        goto done;

    /* template_put {name: "result", template: ...} */
    zm_json *put = zm_json_new_object(a, 2);
    zm_json *ignored;
    bool put_ok = put != NULL && zm_json_object_add_str(a, put, "name", "result", 6) == ZM_OK &&
                  zm_json_object_add_ref(a, put, "template", 8, zm_json_doc_root(tmpl)) == ZM_OK &&
                  zm_prim_call(reg, ctx, "template_put", put, &ignored) == ZM_OK;
    /* The borrowed template stays the document's. */
    if (put != NULL) {
        zm_json_object_remove(a, put, "template", 8);
        zm_json_free(a, put);
    }
    if (!put_ok) {
        fprintf(stderr, "bench_render: template_put failed\n");
        goto done;
    }
    tmpl = (zm_json_doc_free(tmpl), NULL);

    const zm_json *pv = zm_json_doc_root(params);
    const char *names[3] = {"render", "build", "parse"};
    if (!result_text(reg, ctx, "render", pv, &texts[0], &lens[0])) goto done;
    parg.text = texts[0];
    parg.len = lens[0];
    for (int i = 1; i < 3; i++)
        if (!result_text(reg, ctx, names[i], pv, &texts[i], &lens[i])) goto done;
    for (int i = 1; i < 3; i++)
        if (lens[i] != lens[0] || memcmp(texts[i], texts[0], lens[0]) != 0) {
            fprintf(stderr, "bench_render: %s made a different instance:\n  %s\n  %s\n", names[i],
                    texts[i], texts[0]);
            goto done;
        }
    printf("bench_render: %zu bytes of instance, %zu batches of %zu calls each (allocator: %s)\n",
           lens[0], batches, calls, zm_default_allocator_name());
    printf("  instance: %s\n", texts[0]);

    double *t[3];
    for (int i = 0; i < 3; i++) t[i] = malloc(batches * sizeof(double));
    if (t[0] == NULL || t[1] == NULL || t[2] == NULL) goto done_t;
    for (size_t i = 0; i < calls; i++) /* warm-up */
        for (int k = 0; k < 3; k++)
            if (zm_prim_call(reg, ctx, names[k], pv, &ignored) != ZM_OK) goto done_t;
    for (size_t bi = 0; bi < batches; bi++)
        for (int k = 0; k < 3; k++) {
            double t0 = thread_ns();
            for (size_t i = 0; i < calls; i++)
                if (zm_prim_call(reg, ctx, names[k], pv, &ignored) != ZM_OK) goto done_t;
            t[k][bi] = (thread_ns() - t0) / (double)calls;
        }
    double med[3];
    for (int k = 0; k < 3; k++) {
        qsort(t[k], batches, sizeof(double), cmp_double);
        med[k] = t[k][batches / 2];
        printf("  %-6s median %7.1f ns per call (thread CPU time), best batch %7.1f ns\n", names[k],
               med[k], t[k][0]);
    }
    printf("  => build / render: %.2fx; parse / render: %.2fx (above 1: render is faster)\n",
           med[1] / med[0], med[2] / med[0]);
    zm_template_stats st;
    zm_template_stats_get(zm_prim_templates(ctx), &st);
    printf("  template cache: %zu hits, %zu misses\n", st.hits, st.misses);
    rc = 0;
done_t:
    for (int i = 0; i < 3; i++) free(t[i]);
    if (rc != 0) fprintf(stderr, "bench_render: a call failed while timing\n");
done:
    for (int i = 0; i < 3; i++)
        if (texts[i] != NULL) zm_free(a, texts[i], lens[i] + 1, 1);
    if (params != NULL) zm_json_doc_free(params);
    if (tmpl != NULL) zm_json_doc_free(tmpl);
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
    zm_store_close(store);
    return rc;
}
