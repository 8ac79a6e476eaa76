/* Steady state: after warm-up, calls make no call at all to the long-lived
   allocator (a counting test), and memory stays flat over a million calls
   (the long-lived allocator's live bytes and the resident set size). */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

#include "counting.h"
#include "prims.h"
#include "test.h"
#include "zmem/store.h"

static zm_prim_registry *reg;
static tp_state state;

static size_t resident_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) return 0;
    unsigned long size = 0, resident = 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static bool call(zm_prim_ctx *ctx, const char *req) {
    char *resp;
    size_t len;
    zm_status st = zm_prim_call_json(reg, ctx, req, strlen(req), &resp, &len);
    if (st != ZM_OK) fprintf(stderr, "%s -> %s\n", req, resp);
    return st == ZM_OK;
}

/* A new context whose long-lived allocator counts into cnt. */
static zm_prim_ctx *counted_ctx(zt_counting *cnt) {
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = zt_counting_init(cnt, zm_default_allocator());
    zm_prim_ctx *ctx = NULL;
    CHECK_EQ(zm_prim_ctx_create(&o, &ctx), ZM_OK);
    return ctx;
}

/* After warm-up, n more calls of each request make no allocator call. */
static void zero_calls(const char *const *reqs, size_t nreq, size_t n) {
    zt_counting cnt;
    zm_prim_ctx *ctx = counted_ctx(&cnt);
    for (size_t i = 0; i < 100; i++)
        for (size_t r = 0; r < nreq; r++) CHECK(call(ctx, reqs[r]));
    size_t before = zt_counting_calls(&cnt), live = cnt.live;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++)
        for (size_t r = 0; r < nreq; r++) ok = call(ctx, reqs[r]);
    CHECK(ok);
    CHECK_EQ(zt_counting_calls(&cnt) - before, 0);
    CHECK_EQ(cnt.live, live);
    /* The same through zm_prim_call by value. */
    zm_json_doc *doc;
    CHECK_EQ(zm_json_parse(zm_default_allocator(), "{\"msg\":\"hi\"}", 12, NULL, &doc, NULL),
             ZM_OK);
    zm_json *res;
    CHECK_EQ(zm_prim_call(reg, ctx, "echo1", zm_json_doc_root(doc), &res), ZM_OK);
    before = zt_counting_calls(&cnt);
    for (size_t i = 0; i < n; i++) zm_prim_call(reg, ctx, "echo1", zm_json_doc_root(doc), &res);
    CHECK_EQ(zt_counting_calls(&cnt) - before, 0);
    zm_json_doc_free(doc);
    zm_prim_ctx_destroy(ctx);
    CHECK_EQ(cnt.live, 0);
}

static void test_zero_longlived_calls(void) {
    size_t n = zt_small() ? 2000 : 100000;
    const char *simple[] = {"{\"id\":1,\"primitive\":\"echo1\",\"params\":{\"msg\":\"hello\"}}"};
    zero_calls(simple, 1, n);
    /* Errors too (the error buffers are kept), and batches with references
       (kept results live in the request arena). */
    const char *mixed[] = {
        "{\"id\":1,\"primitive\":\"echo1\",\"params\":{\"msg\":\"hello\"}}",
        "{\"id\":2,\"batch\":[{\"primitive\":\"add\",\"params\":{\"a\":1,\"b\":2}},{\"primitive\":"
        "\"add\",\"params\":{\"a\":\"$0.result.sum\",\"b\":1}},{\"primitive\":\"nope\"}]}",
        "{\"id\":3,\"primitive\":\"cleanup\",\"params\":{\"bytes\":20000}}",
    };
    zero_calls(mixed, 3, n / 3);
}

/* The built-in retrieve, after warm-up: no call to the long-lived allocator
   (which the store and the context share here), with or without history,
   found or not. */
static void test_retrieve_zero_calls(void) {
    zt_counting cnt;
    zm_allocator a = zt_counting_init(&cnt, zm_default_allocator());
    zm_store *store = NULL;
    zm_prim_registry *breg = NULL;
    zm_prim_ctx *ctx = NULL;
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = a;
    CHECK_EQ(zm_store_memory_create(a, NULL, &store), ZM_OK);
    CHECK_EQ(zm_prim_registry_create(a, &breg), ZM_OK);
    CHECK_EQ(zm_prim_register_builtins(breg, store), ZM_OK);
    CHECK_EQ(zm_prim_ctx_create(&o, &ctx), ZM_OK);
    char req[256];
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(req, sizeof req,
                         "{\"id\":%d,\"primitive\":\"store\",\"params\":{\"key\":\"k/%d\","
                         "\"value\":{\"n\":%d,\"text\":\"note %d\"}}}",
                         i, i % 1000, i, i);
        char *resp;
        size_t len;
        CHECK_EQ(zm_prim_call_json(breg, ctx, req, (size_t)n, &resp, &len), ZM_OK);
    }
    const char *reads[] = {
        "{\"id\":1,\"primitive\":\"retrieve\",\"params\":{\"key\":\"k/17\"}}",
        "{\"id\":2,\"primitive\":\"retrieve\",\"params\":{\"key\":\"k/999\",\"history\":true}}",
        "{\"id\":3,\"primitive\":\"retrieve\",\"params\":{\"key\":\"missing\"}}",
    };
    for (int i = 0; i < 100; i++)
        for (int r = 0; r < 3; r++) {
            char *resp;
            size_t len;
            CHECK_EQ(zm_prim_call_json(breg, ctx, reads[r], strlen(reads[r]), &resp, &len), ZM_OK);
        }
    size_t before = zt_counting_calls(&cnt), live = cnt.live;
    size_t n = zt_small() ? 3000 : 100000;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        char *resp;
        size_t len;
        const char *r = reads[i % 3];
        ok = zm_prim_call_json(breg, ctx, r, strlen(r), &resp, &len) == ZM_OK &&
             strstr(resp, "\"exists\":") != NULL;
    }
    CHECK(ok);
    fprintf(stderr, "retrieve: %zu calls after warm-up, %zu calls to the long-lived allocator\n", n,
            zt_counting_calls(&cnt) - before);
    CHECK_EQ(zt_counting_calls(&cnt) - before, 0);
    CHECK_EQ(cnt.live, live);
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(breg);
    zm_store_close(store);
    CHECK_EQ(cnt.live, 0);
}

/* The built-in render, after warm-up: a million calls over a handful of
   templates (whole placeholders, placeholders inside strings, a constant
   one, a list of messages) make no call to the long-lived allocator, which
   the store, the context and its template cache share here. */
static void test_render_zero_calls(void) {
    zt_counting cnt;
    zm_allocator a = zt_counting_init(&cnt, zm_default_allocator());
    zm_store *store = NULL;
    zm_prim_registry *breg = NULL;
    zm_prim_ctx *ctx = NULL;
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = a;
    CHECK_EQ(zm_store_memory_create(a, NULL, &store), ZM_OK);
    CHECK_EQ(zm_prim_registry_create(a, &breg), ZM_OK);
    CHECK_EQ(zm_prim_register_builtins(breg, store), ZM_OK);
    CHECK_EQ(zm_prim_ctx_create(&o, &ctx), ZM_OK);
    const char *puts[] = {
        "{\"primitive\":\"template_put\",\"params\":{\"name\":\"summary\",\"template\":"
        "\"Summarize {{topic}} in {{n}} bullets\"}}",
        "{\"primitive\":\"template_put\",\"params\":{\"name\":\"result\",\"template\":{\"ok\":true,"
        "\"id\":\"{{id}}\",\"meta\":{\"service\":\"memory\",\"tags\":[\"a\",\"b\"]},\"items\":"
        "\"{{items}}\",\"note\":\"{{count}} items for {{id}}\"}}}",
        "{\"primitive\":\"template_put\",\"params\":{\"name\":\"chat\",\"template\":{\"messages\":["
        "{\"role\":\"user\",\"content\":\"Hello, I am {{who}}.\"},{\"role\":\"assistant\","
        "\"content\":\"Welcome, {{who}}!\"}]}}}",
        "{\"primitive\":\"template_put\",\"params\":{\"name\":\"fixed\",\"template\":[1,2,3]}}",
        "{\"primitive\":\"template_put\",\"params\":{\"name\":\"root\",\"template\":\"{{x}}\"}}",
    };
    for (size_t i = 0; i < 5; i++) {
        char *resp;
        size_t len;
        CHECK_EQ(zm_prim_call_json(breg, ctx, puts[i], strlen(puts[i]), &resp, &len), ZM_OK);
    }
    const char *renders[] = {
        "{\"id\":1,\"primitive\":\"render\",\"params\":{\"name\":\"summary\",\"bindings\":{"
        "\"topic\":\"arenas\",\"n\":3}}}",
        "{\"id\":2,\"primitive\":\"render\",\"params\":{\"name\":\"result\",\"bindings\":{\"id\":7,"
        "\"items\":[1,{\"k\":\"v\"}],\"count\":2}}}",
        "{\"id\":3,\"primitive\":\"render\",\"params\":{\"name\":\"chat\",\"bindings\":{\"who\":"
        "\"Ada\"}}}",
        "{\"id\":4,\"primitive\":\"render\",\"params\":{\"name\":\"fixed\"}}",
        "{\"id\":5,\"primitive\":\"render\",\"params\":{\"name\":\"root\",\"bindings\":{\"x\":{"
        "\"deep\":[true]}}}}",
    };
    for (int i = 0; i < 100; i++)
        for (int r = 0; r < 5; r++) {
            char *resp;
            size_t len;
            CHECK_EQ(zm_prim_call_json(breg, ctx, renders[r], strlen(renders[r]), &resp, &len),
                     ZM_OK);
        }
    zm_template_stats before_st;
    zm_template_stats_get(zm_prim_templates(ctx), &before_st);
    size_t before = zt_counting_calls(&cnt), live = cnt.live;
    size_t n = zt_small() ? 3000 : 1000000;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        char *resp;
        size_t len;
        const char *r = renders[i % 5];
        ok = zm_prim_call_json(breg, ctx, r, strlen(r), &resp, &len) == ZM_OK;
        if (i % 5 == 0) ok = ok && strstr(resp, "Summarize arenas in 3 bullets") != NULL;
    }
    CHECK(ok);
    zm_template_stats st;
    zm_template_stats_get(zm_prim_templates(ctx), &st);
    fprintf(stderr,
            "render: %zu calls after warm-up, %zu calls to the long-lived allocator, %zu cache "
            "hits, %zu misses, %zu evictions\n",
            n, zt_counting_calls(&cnt) - before, st.hits - before_st.hits,
            st.misses - before_st.misses, st.evictions);
    CHECK_EQ(zt_counting_calls(&cnt) - before, 0);
    CHECK_EQ(cnt.live, live);
    CHECK_EQ(st.hits - before_st.hits, n);
    CHECK_EQ(st.misses, before_st.misses);
    CHECK_EQ(st.templates, 5);
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(breg);
    zm_store_close(store);
    CHECK_EQ(cnt.live, 0);
}

/* ---------------------------------------------------------------------------
 * Template churn: a context's template cache keeps its templates in the
 * context's JSON pool. New versions put in one context and reloaded by
 * another, and evictions and reloads past a small budget, reuse pooled
 * blocks: after warm-up no new slab in either pool and no call to the
 * long-lived allocator. A template over 4096 bytes (the pool's largest
 * class) takes one block from the long-lived allocator per load, given back
 * when it is replaced or evicted: one alloc and one free.
 * ------------------------------------------------------------------------- */

static bool churn_call(zm_prim_registry *r, zm_prim_ctx *ctx, const char *req) {
    char *resp;
    size_t len;
    zm_status st = zm_prim_call_json(r, ctx, req, strlen(req), &resp, &len);
    if (st != ZM_OK) fprintf(stderr, "%s -> %s\n", req, resp);
    return st == ZM_OK;
}

/* template_put of template `which` (0-3 pooled, 4 the large one), with mark
   i % 7 in it, from ctx. Every version of a template has the same size, and
   the store's search index sees the same few words again. */
static bool churn_put(zm_prim_registry *r, zm_prim_ctx *ctx, int which, unsigned i) {
    i %= 7;
    static char big[6001];
    if (big[0] == '\0') memset(big, 'x', sizeof big - 1);
    char req[7000];
    switch (which) {
    case 0:
        snprintf(req, sizeof req,
                 "{\"primitive\":\"template_put\",\"params\":{\"name\":\"summary\",\"template\":"
                 "\"Summarize {{topic}} in {{n}} bullets (v%08u)\"}}",
                 i);
        break;
    case 1:
        snprintf(req, sizeof req,
                 "{\"primitive\":\"template_put\",\"params\":{\"name\":\"result\",\"template\":{"
                 "\"ok\":true,\"id\":\"{{id}}\",\"meta\":{\"v\":\"%08u\",\"tags\":[\"a\",\"b\"]},"
                 "\"items\":\"{{items}}\",\"note\":\"{{count}} items for {{id}}\"}}}",
                 i);
        break;
    case 2:
        snprintf(req, sizeof req,
                 "{\"primitive\":\"template_put\",\"params\":{\"name\":\"chat\",\"template\":{"
                 "\"messages\":[{\"role\":\"system\",\"content\":\"You are {{persona}} (v%08u).\"},"
                 "{\"role\":\"user\",\"content\":\"Summarize {{topic}} in {{n}} bullets\"}]}}}",
                 i);
        break;
    case 3:
        snprintf(req, sizeof req,
                 "{\"primitive\":\"template_put\",\"params\":{\"name\":\"fixed\",\"template\":"
                 "[1,2,3,\"v%08u\"]}}",
                 i);
        break;
    default:
        snprintf(req, sizeof req,
                 "{\"primitive\":\"template_put\",\"params\":{\"name\":\"long\",\"template\":{"
                 "\"text\":\"%s\",\"who\":\"{{who}}\",\"v\":\"%08u\"}}}",
                 big, i);
        break;
    }
    return churn_call(r, ctx, req);
}

/* b renders the template `which` put last with mark i: true when the
   rendered text holds that mark (b reloaded the new version). */
static bool churn_sees(zm_prim_registry *r, zm_prim_ctx *ctx, int which, unsigned i) {
    static const char *const names[] = {"summary", "result", "chat", "fixed", "long"};
    char req[200], want[16];
    snprintf(req, sizeof req,
             "{\"primitive\":\"render\",\"params\":{\"name\":\"%s\",\"bindings\":{\"topic\":"
             "1,\"n\":1,\"id\":1,\"items\":1,\"count\":1,\"persona\":1,\"who\":1}}}",
             names[which]);
    snprintf(want, sizeof want, "%08u", i % 7);
    char *resp;
    size_t len;
    return zm_prim_call_json(r, ctx, req, strlen(req), &resp, &len) == ZM_OK &&
           strstr(resp, want) != NULL;
}

static bool churn_render_all(zm_prim_registry *r, zm_prim_ctx *ctx, bool with_long) {
    static const char *const renders[] = {
        "{\"primitive\":\"render\",\"params\":{\"name\":\"summary\",\"bindings\":{\"topic\":"
        "\"pools\",\"n\":3}}}",
        "{\"primitive\":\"render\",\"params\":{\"name\":\"result\",\"bindings\":{\"id\":7,"
        "\"items\":[1],\"count\":1}}}",
        "{\"primitive\":\"render\",\"params\":{\"name\":\"chat\",\"bindings\":{\"persona\":"
        "\"a librarian\",\"topic\":\"pools\",\"n\":3}}}",
        "{\"primitive\":\"render\",\"params\":{\"name\":\"fixed\"}}",
        "{\"primitive\":\"render\",\"params\":{\"name\":\"long\",\"bindings\":{\"who\":\"Ada\"}}}",
    };
    bool ok = true;
    for (int t = 0; t < (with_long ? 5 : 4) && ok; t++) ok = churn_call(r, ctx, renders[t]);
    return ok;
}

static void test_template_churn_pool(void) {
    zt_counting cs, cc;
    zm_allocator as = zt_counting_init(&cs, zm_default_allocator());
    zm_allocator ac = zt_counting_init(&cc, zm_default_allocator());
    zm_store_limits lim = {0, 0, 0, 2}; /* two versions kept: the store's churn is steady too */
    zm_store *store = NULL;
    zm_prim_registry *breg = NULL;
    zm_prim_ctx *a = NULL, *b = NULL;
    CHECK_EQ(zm_store_memory_create(as, &lim, &store), ZM_OK);
    CHECK_EQ(zm_prim_registry_create(ac, &breg), ZM_OK);
    CHECK_EQ(zm_prim_register_builtins(breg, store), ZM_OK);
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = ac;
    o.template_budget = 3072; /* a: the four pooled templates do not all fit */
    CHECK_EQ(zm_prim_ctx_create(&o, &a), ZM_OK);
    o.template_budget = 0; /* b: the default, 1 MiB */
    CHECK_EQ(zm_prim_ctx_create(&o, &b), ZM_OK);
    if (a == NULL || b == NULL) return;
    zm_json_pool *pa = zm_prim_json_pool(a), *pb = zm_prim_json_pool(b);

    /* One round: a puts a new version of one pooled template; b renders all
       four (reloading the new one); a renders all four (evicting and
       reloading past its budget). */
    unsigned mark = 0;
    bool ok = true;
    for (int t = 0; t < 4; t++) ok = ok && churn_put(breg, a, t, mark++);
    for (int i = 0; i < 200 && ok; i++)
        ok = churn_put(breg, a, i % 4, mark++) && churn_render_all(breg, b, false) &&
             churn_render_all(breg, a, false);
    CHECK(ok);

    zm_json_pool_stats pa0, pb0, pa1, pb1;
    zm_json_pool_stats_get(pa, &pa0);
    zm_json_pool_stats_get(pb, &pb0);
    zm_template_stats ta0, tb0, ta1, tb1;
    zm_template_stats_get(zm_prim_templates(a), &ta0);
    zm_template_stats_get(zm_prim_templates(b), &tb0);
    size_t calls_c = zt_counting_calls(&cc), calls_s = zt_counting_calls(&cs);
    size_t live_c = cc.live, live_s = cs.live;
    size_t rounds = zt_small() ? 500 : 20000, reloads = 0;
    for (size_t i = 0; i < rounds && ok; i++) {
        ok = churn_put(breg, a, (int)(i % 4), mark);
        if (ok && churn_sees(breg, b, (int)(i % 4), mark)) reloads++;
        mark++;
        ok = ok && churn_render_all(breg, b, false) && churn_render_all(breg, a, false);
    }
    CHECK(ok);
    zm_json_pool_stats_get(pa, &pa1);
    zm_json_pool_stats_get(pb, &pb1);
    zm_template_stats_get(zm_prim_templates(a), &ta1);
    zm_template_stats_get(zm_prim_templates(b), &tb1);
    size_t evict_a = ta1.evictions - ta0.evictions;
    fprintf(stderr,
            "template churn: %zu rounds (a put, 9 renders) after warm-up: context a %zu "
            "evictions, context b %zu reloads of a new version; %zu calls to the contexts' "
            "long-lived allocator, %zu to the store's; pool slab bytes a %zu -> %zu, b %zu -> "
            "%zu; pooled blocks served a %zu, b %zu\n",
            rounds, evict_a, reloads, zt_counting_calls(&cc) - calls_c,
            zt_counting_calls(&cs) - calls_s, pa0.pooled_bytes, pa1.pooled_bytes, pb0.pooled_bytes,
            pb1.pooled_bytes, pa1.pool_hits - pa0.pool_hits, pb1.pool_hits - pb0.pool_hits);
    CHECK_EQ(zt_counting_calls(&cc) - calls_c, 0);
    CHECK_EQ(zt_counting_calls(&cs) - calls_s, 0);
    CHECK_EQ(cc.live, live_c);
    CHECK_EQ(cs.live, live_s);
    CHECK_EQ(pa1.pooled_bytes, pa0.pooled_bytes);
    CHECK_EQ(pb1.pooled_bytes, pb0.pooled_bytes);
    CHECK_EQ(pa1.backing_allocs, pa0.backing_allocs);
    CHECK_EQ(pb1.backing_allocs, pb0.backing_allocs);
    /* The churn was real: b reloaded each new version, a evicted. */
    CHECK_EQ(reloads, rounds);
    CHECK(evict_a >= rounds);
    CHECK(pb1.pool_hits - pb0.pool_hits >= rounds);

    /* The large template: every load in b is one block from the long-lived
       allocator, and the version it replaces gives one back. */
    for (int i = 0; i < 20 && ok; i++)
        ok = churn_put(breg, b, 4, mark++) && churn_render_all(breg, b, true);
    CHECK(ok);
    zm_json_pool_stats_get(pb, &pb0);
    size_t allocs = cc.allocs, frees = cc.frees;
    calls_c = zt_counting_calls(&cc);
    size_t big_rounds = 100;
    for (size_t i = 0; i < big_rounds && ok; i++)
        ok = churn_put(breg, b, 4, mark++) && churn_render_all(breg, b, true);
    CHECK(ok);
    zm_json_pool_stats_get(pb, &pb1);
    fprintf(stderr,
            "large template: %zu new versions put and rendered in b: %zu allocs and %zu frees "
            "of the long-lived allocator (%zu calls in all), %zu blocks from the pool's backing\n",
            big_rounds, cc.allocs - allocs, cc.frees - frees, zt_counting_calls(&cc) - calls_c,
            pb1.backing_allocs - pb0.backing_allocs);
    CHECK_EQ(pb1.backing_allocs - pb0.backing_allocs, big_rounds);
    CHECK_EQ(cc.allocs - allocs, big_rounds);
    CHECK_EQ(cc.frees - frees, big_rounds);
    CHECK_EQ(zt_counting_calls(&cc) - calls_c, 2 * big_rounds);
    CHECK_EQ(pb1.pooled_bytes, pb0.pooled_bytes);

    zm_prim_ctx_destroy(a);
    zm_prim_ctx_destroy(b);
    zm_prim_registry_destroy(breg);
    zm_store_close(store);
    CHECK_EQ(cc.live, 0);
    CHECK_EQ(cs.live, 0);
}

/* A million calls: the long-lived allocator's live bytes do not move, and the
   resident set grows by less than 1 MiB. */
static void test_flat_memory(void) {
    size_t n = zt_small() ? 20000 : 1000000;
    zt_counting cnt;
    zm_prim_ctx *ctx = counted_ctx(&cnt);
    const char *reqs[] = {
        "{\"id\":1,\"primitive\":\"echo1\",\"params\":{\"msg\":\"hello\"}}",
        "{\"id\":2,\"primitive\":\"add\",\"params\":{\"a\":1,\"b\":2}}",
        "{\"id\":3,\"primitive\":\"echo1\",\"params\":{\"msg\":3}}",
    };
    for (size_t i = 0; i < 1000; i++) call(ctx, reqs[i % 2]);
    size_t live = cnt.live, rss = resident_bytes();
    size_t calls = zt_counting_calls(&cnt);
    for (size_t i = 0; i < n; i++) {
        char *resp;
        size_t len;
        zm_prim_call_json(reg, ctx, reqs[i % 3], strlen(reqs[i % 3]), &resp, &len);
    }
    size_t rss_after = resident_bytes();
    fprintf(stderr,
            "flat memory: %zu calls, long-lived live %zu -> %zu bytes, %zu allocator calls, "
            "resident %zu -> %zu KiB\n",
            n, live, cnt.live, zt_counting_calls(&cnt) - calls, rss / 1024, rss_after / 1024);
    CHECK_EQ(cnt.live, live);
    CHECK(rss_after < rss + (1u << 20));
    zm_prim_stats s;
    zm_prim_ctx_stats(ctx, &s);
    CHECK(s.calls >= n);
    zm_prim_ctx_destroy(ctx);
}

int main(void) {
    if (tp_registry_create(&reg, &state) != ZM_OK) return 1;
    RUN(test_zero_longlived_calls);
    RUN(test_retrieve_zero_calls);
    RUN(test_template_churn_pool);
    RUN(test_render_zero_calls);
    RUN(test_flat_memory);
    zm_prim_registry_destroy(reg);
    return zt_finish("prim_steady");
}
