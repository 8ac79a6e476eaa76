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
    RUN(test_render_zero_calls);
    RUN(test_flat_memory);
    zm_prim_registry_destroy(reg);
    return zt_finish("prim_steady");
}
