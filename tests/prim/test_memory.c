/* The memory report (zmem/memory.h) and the memory primitive: each figure
   checked exactly against what the test made the context hold (a block more
   or less fails), the delta of "since", the ring of kept reports, the store's
   figure on the memory and SQLite backends, the process's thresholds, the
   text and JSON writers, and the every-failure sweep. */
#define _GNU_SOURCE /* open_memstream */
#include <stdarg.h>
#include <unistd.h>

#include "test.h"
#include "json_text.h"
#include "zmem/memory.h"
#include "zmem/store.h"

/* ---------------------------------------------------------------------------
 * A world: the built-ins over a store, and primitives that hold memory
 * ------------------------------------------------------------------------- */

#define MAX_KEPT 64

/* Blocks the keep primitive took from the context's JSON pool. */
static struct {
    void *ptr;
    size_t len;
} kept[MAX_KEPT];
static size_t nkept;

/* keep {n, size}: n blocks of size bytes from the context's JSON pool, kept
   until drop. */
static zm_status p_keep(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)result;
    zm_allocator pa = zm_json_pool_allocator(zm_prim_json_pool(ctx));
    int64_t n = zm_json_int(zm_json_get(params, "n")),
            size = zm_json_int(zm_json_get(params, "size"));
    for (int64_t i = 0; i < n && nkept < MAX_KEPT; i++) {
        void *p = zm_alloc(pa, (size_t)size, 8);
        if (p == NULL) return ZM_ENOMEM;
        kept[nkept].ptr = p;
        kept[nkept++].len = (size_t)size;
    }
    return ZM_OK;
}

/* drop {n}: gives the latest n kept blocks back. */
static zm_status p_drop(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)result;
    zm_allocator pa = zm_json_pool_allocator(zm_prim_json_pool(ctx));
    int64_t n = zm_json_int(zm_json_get(params, "n"));
    for (int64_t i = 0; i < n && nkept > 0; i++) {
        nkept--;
        zm_free(pa, kept[nkept].ptr, kept[nkept].len, 8);
    }
    return ZM_OK;
}

/* arena {n}: n bytes from the per-call arena. */
static zm_status p_arena(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)result;
    size_t n = (size_t)zm_json_int(zm_json_get(params, "n"));
    return zm_arena_alloc(zm_prim_arena(ctx), n, 1) ? ZM_OK : ZM_ENOMEM;
}

typedef struct world {
    zm_prim_registry *reg;
    zm_store *store;
    zm_prim_ctx *ctx;
    char *last; /* the last response */
} world;

static int64_t fixed_clock(void *c) {
    (*(int64_t *)c) += 10;
    return *(int64_t *)c;
}

static int64_t clock_now = 1700000000000;

static zm_status world_init(world *w, zm_allocator a, zm_store *store, zm_stats *process) {
    memset(w, 0, sizeof *w);
    zm_status st = zm_prim_registry_create(a, &w->reg);
    if (st == ZM_OK && store == NULL) st = zm_store_memory_create(a, NULL, &w->store);
    if (store != NULL) w->store = store;
    if (st == ZM_OK) st = zm_prim_register_builtins(w->reg, w->store);
    const zm_prim_def defs[] = {
        {"keep", "", NULL, p_keep, NULL},
        {"drop", "", NULL, p_drop, NULL},
        {"arena", "", NULL, p_arena, NULL},
    };
    for (size_t i = 0; i < 3 && st == ZM_OK; i++) st = zm_prim_register(w->reg, &defs[i], NULL);
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = a;
    o.clock = fixed_clock;
    o.clock_ctx = &clock_now;
    o.process_stats = process;
    if (st == ZM_OK) st = zm_prim_ctx_create(&o, &w->ctx);
    return st;
}

static void world_deinit(world *w, bool close_store) {
    zm_prim_ctx_destroy(w->ctx);
    zm_prim_registry_destroy(w->reg);
    if (close_store) zm_store_close(w->store);
}

/* Runs one request; returns its parsed response (in the test's arena). */
static zm_json *call(world *w, const char *req) {
    char *resp;
    size_t len;
    zm_prim_call_json(w->reg, w->ctx, req, strlen(req), &resp, &len);
    w->last = resp;
    return J(resp);
}

/* The integer at a path of member names (NULL-terminated) under v; a
   missing member is INT64_MIN, which no check expects. */
static int64_t at(const zm_json *v, ...) {
    va_list ap;
    va_start(ap, v);
    for (const char *k; v != NULL && (k = va_arg(ap, const char *)) != NULL;) {
        if (zm_json_is_array(v))
            v = zm_json_at(v, (size_t)strtoul(k, NULL, 10));
        else
            v = zm_json_get(v, k);
    }
    va_end(ap);
    return zm_json_is_int(v) ? zm_json_int(v) : INT64_MIN;
}

/* The class of a request of n bytes (as json/pool.c sizes them). */
static size_t class_of(const zm_memory_report *r, size_t n) {
    for (size_t i = 0; i < ZM_JSON_POOL_CLASSES; i++)
        if (r->json_pool.classes[i].block_size >= n) return i;
    return SIZE_MAX;
}

/* ---------------------------------------------------------------------------
 * Exact figures
 * ------------------------------------------------------------------------- */

/* The JSON pool per class: live and free blocks move by exactly what was
   taken and given back; slabs, blocks and bytes agree. */
static void test_pool_figures(void) {
    world w;
    CHECK_EQ(world_init(&w, zm_default_allocator(), NULL, NULL), ZM_OK);
    nkept = 0;
    zm_memory_report r0, r1, r2, r3;
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r0), ZM_OK);
    CHECK_EQ(r0.id, 1);
    /* What the context keeps in its pool from the start (the template
       cache's own blocks): the figures below move from there. */
    size_t live0 = r0.json_pool.live_blocks;
    call(&w, "{\"primitive\":\"keep\",\"params\":{\"n\":5,\"size\":40}}");
    call(&w, "{\"primitive\":\"keep\",\"params\":{\"n\":3,\"size\":100}}");
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r1), ZM_OK);
    CHECK_EQ(r1.id, 2);
    size_t c40 = class_of(&r1, 40), c100 = class_of(&r1, 100);
    CHECK_EQ(r1.json_pool.classes[c40].block_size, 40);
    CHECK_EQ(r1.json_pool.classes[c100].block_size, 128);
    size_t l40 = r0.json_pool.classes[c40].live_blocks,
           l100 = r0.json_pool.classes[c100].live_blocks;
    CHECK_EQ(r1.json_pool.classes[c40].live_blocks, l40 + 5);
    CHECK_EQ(r1.json_pool.classes[c100].live_blocks, l100 + 3);
    CHECK_EQ(r1.json_pool.live_blocks, live0 + 8);
    /* Blocks and bytes agree: the slabs hold live + free blocks of stride. */
    size_t held = 0, live = 0, free_blocks = 0;
    for (size_t i = 0; i < ZM_JSON_POOL_CLASSES; i++) {
        const zm_json_pool_class *c = &r1.json_pool.classes[i];
        held += (c->live_blocks + c->free_blocks) * c->stride;
        live += c->live_blocks;
        free_blocks += c->free_blocks;
    }
    CHECK_EQ(held, r1.json_pool.held_bytes);
    CHECK_EQ(live, r1.json_pool.live_blocks);
    CHECK_EQ(free_blocks, r1.json_pool.free_blocks);
    CHECK(r1.json_pool.classes[c40].free_blocks > 0); /* a slab holds more than 5 */
    /* Two given back: two fewer live, two more free, nothing else moves. */
    call(&w, "{\"primitive\":\"drop\",\"params\":{\"n\":2}}");
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r2), ZM_OK);
    CHECK_EQ(r2.json_pool.classes[c100].live_blocks, l100 + 1);
    CHECK_EQ(r2.json_pool.classes[c100].free_blocks, r1.json_pool.classes[c100].free_blocks + 2);
    CHECK_EQ(r2.json_pool.classes[c40].live_blocks, l40 + 5);
    CHECK_EQ(r2.json_pool.held_bytes, r1.json_pool.held_bytes);
    /* A block too large for a class: counted apart, to the byte. */
    call(&w, "{\"primitive\":\"keep\",\"params\":{\"n\":1,\"size\":5000}}");
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r3), ZM_OK);
    CHECK_EQ(r3.json_pool.big_blocks, r0.json_pool.big_blocks + 1);
    CHECK_EQ(r3.json_pool.big_bytes, r0.json_pool.big_bytes + 5000);
    CHECK_EQ(r3.json_pool.live_blocks, live0 + 6);
    call(&w, "{\"primitive\":\"drop\",\"params\":{\"n\":7}}");
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r3), ZM_OK);
    CHECK_EQ(r3.json_pool.big_blocks, r0.json_pool.big_blocks);
    CHECK_EQ(r3.json_pool.big_bytes, r0.json_pool.big_bytes);
    CHECK_EQ(r3.json_pool.live_blocks, live0);
    CHECK_EQ(r3.json_pool.free_blocks, r1.json_pool.free_blocks + 8);
    world_deinit(&w, true);
}

/* The arenas: the bytes of the last call and the peak, to the byte. */
static void test_arena_figures(void) {
    world w;
    CHECK_EQ(world_init(&w, zm_default_allocator(), NULL, NULL), ZM_OK);
    zm_json *res;
    zm_json_doc *doc;
    CHECK_EQ(zm_json_parse(zm_default_allocator(), "{\"n\":1000}", 10, NULL, &doc, NULL), ZM_OK);
    CHECK_EQ(zm_prim_call(w.reg, w.ctx, "arena", zm_json_doc_root(doc), &res), ZM_OK);
    zm_json_doc_free(doc);
    CHECK_EQ(zm_json_parse(zm_default_allocator(), "{\"n\":300}", 9, NULL, &doc, NULL), ZM_OK);
    CHECK_EQ(zm_prim_call(w.reg, w.ctx, "arena", zm_json_doc_root(doc), &res), ZM_OK);
    zm_json_doc_free(doc);
    zm_prim_ctx_reset(w.ctx);
    zm_memory_report r;
    CHECK_EQ(zm_memory_report_take(w.ctx, NULL, &r), ZM_OK);
    CHECK_EQ(r.call_arena.last_bytes, 300);
    CHECK_EQ(r.call_arena.peak_bytes, 1000);
    CHECK_EQ(r.call_arena.held_bytes, zm_arena_capacity(zm_prim_arena(w.ctx)));
    CHECK(r.call_arena.held_bytes >= 1000);
    CHECK_EQ(r.call_arena.retain_limit, (size_t)4 << 20);
    CHECK_EQ(r.request_arena.last_bytes, 0); /* zm_prim_call parses nothing */
    CHECK_EQ(r.request_arena.peak_bytes, 0);
    CHECK_EQ(r.calls, 2);
    CHECK_EQ(r.response.held_bytes, 4096);
    CHECK_EQ(r.response.retain_limit, (size_t)1 << 20);
    CHECK(!r.store.present);
    CHECK(!r.process.present);
    /* The context's figure is its long-lived allocator's, the ring included. */
    zm_prim_stats ps;
    zm_prim_ctx_stats(w.ctx, &ps);
    CHECK_EQ(r.context.active_bytes, ps.longlived.active_bytes);
    CHECK_EQ(r.context.allocs, ps.longlived.allocs);
    /* Through zm_prim_call_json the request arena holds the parsed request. */
    call(&w, "{\"primitive\":\"arena\",\"params\":{\"n\":777}}");
    CHECK_EQ(zm_memory_report_take(w.ctx, NULL, &r), ZM_OK);
    CHECK_EQ(r.call_arena.last_bytes, 777);
    CHECK_EQ(r.call_arena.peak_bytes, 1000);
    CHECK(r.request_arena.last_bytes > 0);
    CHECK_EQ(r.request_arena.last_bytes, r.request_arena.peak_bytes);
    world_deinit(&w, true);
}

/* The template cache's figures are the cache's own. */
static void test_template_figures(void) {
    world w;
    CHECK_EQ(world_init(&w, zm_default_allocator(), NULL, NULL), ZM_OK);
    call(&w, "{\"primitive\":\"template_put\",\"params\":{\"name\":\"t\",\"template\":"
             "{\"a\":\"{{x}}\",\"b\":[1,2,3]}}}");
    call(&w, "{\"primitive\":\"render\",\"params\":{\"name\":\"t\",\"bindings\":{\"x\":1}}}");
    call(&w, "{\"primitive\":\"render\",\"params\":{\"name\":\"t\",\"bindings\":{\"x\":2}}}");
    zm_memory_report r;
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r), ZM_OK);
    zm_template_stats t;
    zm_template_stats_get(zm_prim_templates(w.ctx), &t);
    CHECK(memcmp(&t, &r.templates, sizeof t) == 0);
    CHECK_EQ(r.templates.templates, 1);
    CHECK(r.templates.bytes > 0);
    CHECK_EQ(r.templates.budget, (size_t)1 << 20);
    CHECK_EQ(r.templates.hits + r.templates.misses, 2);
    world_deinit(&w, true);
}

/* The store's own figure, through the store interface. */
static void test_store_figures(void) {
    world w;
    CHECK_EQ(world_init(&w, zm_default_allocator(), NULL, NULL), ZM_OK);
    call(&w, "{\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":1}}");
    zm_memory_report r1, r2;
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r1), ZM_OK);
    zm_store_memory m;
    CHECK_EQ(zm_store_memory_get(w.store, &m), ZM_OK);
    CHECK(r1.store.present);
    CHECK_STR(r1.store.backend, "memory");
    CHECK(r1.store.mem.applicable);
    CHECK_EQ(r1.store.mem.bytes, m.bytes);
    /* A value of 5000 bytes is held by the store: at least that much more. */
    char req[5200];
    memset(req, 0, sizeof req);
    int n = snprintf(req, sizeof req,
                     "{\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":\"");
    memset(req + n, 'x', 5000);
    strcat(req, "\"}}");
    call(&w, req);
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r2), ZM_OK);
    CHECK(r2.store.mem.bytes >= r1.store.mem.bytes + 5000);
    /* The purge gives the value's bytes back. */
    call(&w, "{\"primitive\":\"forget\",\"params\":{\"key\":\"k\",\"purge\":true}}");
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r2), ZM_OK);
    CHECK(r2.store.mem.bytes < r1.store.mem.bytes + 5000);
    world_deinit(&w, true);

    if (!zm_store_backend_available("sqlite")) return;
    char path[] = "/tmp/zmem-memory-report-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);
    zm_store *s;
    CHECK_EQ(zm_store_open(path, NULL, &s), ZM_OK);
    CHECK_EQ(world_init(&w, zm_default_allocator(), s, NULL), ZM_OK);
    call(&w, "{\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":{\"a\":[1,2]}}}");
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r1), ZM_OK);
    CHECK_STR(r1.store.backend, "sqlite");
    CHECK(r1.store.mem.applicable);
    CHECK(r1.store.mem.cache_bytes > 0);
    CHECK(r1.store.mem.bytes > r1.store.mem.cache_bytes); /* schema and statements too */
    CHECK(r1.store.mem.engine_bytes >= r1.store.mem.bytes);
    world_deinit(&w, true);
    char side[sizeof path + 8];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* The process's total against its limit and thresholds, with the level. */
static void test_process_figures(void) {
    zm_stats proc;
    zm_stats_init(&proc, zm_default_allocator(), 0);
    zm_stats_set_single_thread(&proc, true);
    world w;
    CHECK_EQ(world_init(&w, zm_stats_allocator(&proc), NULL, &proc), ZM_OK);
    nkept = 0;
    zm_memory_report r;
    /* Warm up: the arenas' blocks, the response buffer, the kept reports. */
    call(&w, "{\"primitive\":\"keep\",\"params\":{\"n\":0,\"size\":8}}");
    call(&w, "{\"primitive\":\"memory\"}");
    zm_memory_stats m;
    zm_stats_snapshot(&proc, &m);
    size_t warn = m.active_bytes + 10000, crit = m.active_bytes + 20000;
    zm_stats_set_limit(&proc, crit + ((size_t)1 << 20));
    zm_stats_set_thresholds(&proc, warn, crit, 4096, NULL, NULL);
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r), ZM_OK);
    CHECK(r.process.present);
    CHECK_EQ(r.process.stats.active_bytes, m.active_bytes);
    CHECK_EQ(r.process.config.limit_bytes, crit + ((size_t)1 << 20));
    CHECK_EQ(r.process.config.warning_bytes, warn);
    CHECK_EQ(r.process.config.critical_bytes, crit);
    CHECK_EQ(r.process.config.warning_clear, warn - 4096);
    CHECK_EQ(r.process.config.critical_clear, crit - 4096);
    CHECK_EQ(r.process.level, ZM_STATS_NORMAL);
    call(&w, "{\"primitive\":\"keep\",\"params\":{\"n\":1,\"size\":15000}}");
    zm_json *v = call(&w, "{\"primitive\":\"memory\"}");
    CHECK_EQ(at(v, "result", "process", "warning", "bytes", NULL), (int64_t)warn);
    CHECK(zm_json_bool(zm_json_get(
        zm_json_get(zm_json_get(zm_json_get(v, "result"), "process"), "warning"), "crossed")));
    CHECK(!zm_json_bool(zm_json_get(
        zm_json_get(zm_json_get(zm_json_get(v, "result"), "process"), "critical"), "crossed")));
    CHECK(is_json(zm_json_get(zm_json_get(zm_json_get(v, "result"), "process"), "level"),
                  "\"warning\""));
    call(&w, "{\"primitive\":\"keep\",\"params\":{\"n\":1,\"size\":15000}}");
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r), ZM_OK);
    CHECK_EQ(r.process.level, ZM_STATS_CRITICAL);
    call(&w, "{\"primitive\":\"drop\",\"params\":{\"n\":2}}");
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r), ZM_OK);
    CHECK_EQ(r.process.level, ZM_STATS_NORMAL);
    world_deinit(&w, true);
    zm_stats_snapshot(&proc, &m);
    CHECK_EQ(m.active_bytes, 0);
}

/* ---------------------------------------------------------------------------
 * The primitive: since, the ring, errors
 * ------------------------------------------------------------------------- */

static void test_since(void) {
    world w;
    CHECK_EQ(world_init(&w, zm_default_allocator(), NULL, NULL), ZM_OK);
    nkept = 0;
    zm_json *v = call(&w, "{\"id\":1,\"primitive\":\"memory\"}");
    CHECK_EQ(at(v, "result", "id", NULL), 1);
    int64_t t1 = at(v, "result", "taken_ms", NULL);
    int64_t live1 = at(v, "result", "json_pool", "live_blocks", NULL);
    int64_t held1 = at(v, "result", "json_pool", "held_bytes", NULL);
    CHECK(zm_json_get(zm_json_get(v, "result"), "delta") == NULL);
    call(&w, "{\"primitive\":\"keep\",\"params\":{\"n\":5,\"size\":40}}");
    call(&w, "{\"primitive\":\"keep\",\"params\":{\"n\":3,\"size\":100}}");
    v = call(&w, "{\"primitive\":\"memory\",\"params\":{\"since\":1}}");
    zm_json *r = zm_json_get(v, "result");
    CHECK_EQ(at(r, "id", NULL), 2);
    CHECK_EQ(at(r, "since", NULL), 1);
    CHECK_EQ(at(r, "elapsed_ms", NULL), at(r, "taken_ms", NULL) - t1);
    CHECK(at(r, "elapsed_ms", NULL) > 0);
    zm_json *d = zm_json_get(r, "delta");
    CHECK(d != NULL);
    CHECK(zm_json_get(d, "id") == NULL);
    CHECK_EQ(at(d, "calls", NULL), 3);
    CHECK_EQ(at(d, "json_pool", "live_blocks", NULL), 8);
    /* Only the classes that changed, named by their block size. */
    CHECK_EQ(zm_json_len(zm_json_get(zm_json_get(d, "json_pool"), "classes")), 2);
    CHECK_EQ(at(d, "json_pool", "classes", "0", "block_size", NULL), 40);
    CHECK_EQ(at(d, "json_pool", "classes", "0", "live_blocks", NULL), 5);
    CHECK_EQ(at(d, "json_pool", "classes", "1", "block_size", NULL), 128);
    CHECK_EQ(at(d, "json_pool", "classes", "1", "live_blocks", NULL), 3);
    CHECK_EQ(zm_json_len(zm_json_get(zm_json_get(r, "json_pool"), "classes")),
             ZM_JSON_POOL_CLASSES);
    CHECK_EQ(at(d, "templates", "budget", NULL), 0);
    /* The whole report is there too, and the delta is its difference. */
    CHECK_EQ(at(r, "json_pool", "live_blocks", NULL), live1 + 8);
    CHECK_EQ(at(d, "json_pool", "held_bytes", NULL),
             at(r, "json_pool", "held_bytes", NULL) - held1);
    call(&w, "{\"primitive\":\"drop\",\"params\":{\"n\":8}}");
    v = call(&w, "{\"primitive\":\"memory\",\"params\":{\"since\":2}}");
    d = zm_json_get(zm_json_get(v, "result"), "delta");
    CHECK_EQ(at(d, "json_pool", "live_blocks", NULL), -8);
    CHECK_EQ(at(d, "json_pool", "free_blocks", NULL), 8);
    CHECK_EQ(at(d, "json_pool", "held_bytes", NULL), 0);
    CHECK_EQ(at(d, "json_pool", "classes", "0", "block_size", NULL), 40);
    CHECK_EQ(at(d, "json_pool", "classes", "0", "live_blocks", NULL), -5);
    CHECK_EQ(at(d, "json_pool", "classes", "0", "free_blocks", NULL), 5);
    CHECK_EQ(at(d, "json_pool", "classes", "1", "live_blocks", NULL), -3);
    /* Against itself: every figure 0 but the calls in between (one). */
    v = call(&w, "{\"primitive\":\"memory\",\"params\":{\"since\":3}}");
    d = zm_json_get(zm_json_get(v, "result"), "delta");
    CHECK_EQ(at(d, "calls", NULL), 1);
    CHECK_EQ(at(d, "json_pool", "live_blocks", NULL), 0);
    CHECK_EQ(zm_json_len(zm_json_get(zm_json_get(d, "json_pool"), "classes")), 0);
    CHECK_EQ(at(d, "store", "bytes", NULL), 0);
    world_deinit(&w, true);
}

static void test_ring(void) {
    world w;
    CHECK_EQ(world_init(&w, zm_default_allocator(), NULL, NULL), ZM_OK);
    zm_json *v = call(&w, "{\"primitive\":\"memory\",\"params\":{\"since\":1}}");
    CHECK(is_json(zm_json_get(zm_json_get(v, "error"), "code"), "\"not_found\""));
    CHECK(strstr(w.last, "none has been taken yet") != NULL);
    for (int i = 0; i < ZM_MEMORY_KEEP + 1; i++) call(&w, "{\"primitive\":\"memory\"}");
    uint64_t oldest, latest;
    zm_memory_report_ids(w.ctx, &oldest, &latest);
    CHECK_EQ(latest, ZM_MEMORY_KEEP + 1);
    CHECK_EQ(oldest, 2);
    zm_memory_report r;
    CHECK_EQ(zm_memory_report_find(w.ctx, 1, &r), ZM_ENOTFOUND);
    CHECK_EQ(zm_memory_report_find(w.ctx, 2, &r), ZM_OK);
    CHECK_EQ(r.id, 2);
    CHECK_EQ(zm_memory_report_find(w.ctx, latest + 1, &r), ZM_ENOTFOUND);
    v = call(&w, "{\"primitive\":\"memory\",\"params\":{\"since\":1}}");
    CHECK(is_json(zm_json_get(v, "error"),
                  "{\"code\":\"not_found\",\"message\":\"no memory report 1 is kept: this "
                  "context keeps reports 2 to 17 (the last 16 taken)\",\"field\":\"/since\"}"));
    v = call(&w, "{\"primitive\":\"memory\",\"params\":{\"since\":99}}");
    CHECK(is_json(zm_json_get(zm_json_get(v, "error"), "code"), "\"not_found\""));
    v = call(&w, "{\"primitive\":\"memory\",\"params\":{\"since\":0}}");
    CHECK(is_json(zm_json_get(zm_json_get(v, "error"), "code"), "\"invalid_params\""));
    v = call(&w, "{\"primitive\":\"memory\",\"params\":{\"since\":\"x\"}}");
    CHECK(is_json(zm_json_get(zm_json_get(v, "error"), "code"), "\"invalid_params\""));
    v = call(&w, "{\"primitive\":\"memory\",\"params\":{\"other\":1}}");
    CHECK(is_json(zm_json_get(zm_json_get(v, "error"), "code"), "\"invalid_params\""));
    /* A failed request took no report: the next id follows on. */
    v = call(&w, "{\"primitive\":\"memory\",\"params\":{\"since\":2}}");
    CHECK_EQ(at(v, "result", "id", NULL), ZM_MEMORY_KEEP + 2);
    world_deinit(&w, true);
}

/* ---------------------------------------------------------------------------
 * Writers
 * ------------------------------------------------------------------------- */

static void test_writers(void) {
    world w;
    CHECK_EQ(world_init(&w, zm_default_allocator(), NULL, NULL), ZM_OK);
    nkept = 0;
    call(&w, "{\"primitive\":\"keep\",\"params\":{\"n\":3,\"size\":40}}");
    zm_memory_report r1, r2;
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r1), ZM_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK_EQ(zm_memory_report_write_text(&r1, "prog", f), ZM_OK);
    fclose(f);
    CHECK(strstr(buf, "prog: memory report 1, after 1 calls\n") != NULL);
    char want[64];
    snprintf(want, sizeof want, "prog: JSON pool: %zu live blocks, ", r1.json_pool.live_blocks);
    CHECK(strstr(buf, want) != NULL);
    CHECK(strstr(buf, "prog:   class 40 B: 3 live, ") != NULL);
    CHECK(strstr(buf, "prog: store (memory): ") != NULL);
    CHECK(strstr(buf, "prog: response buffer: 4096 B held (keeps up to 1.0 MiB)\n") != NULL);
    CHECK(strstr(buf, "process") == NULL); /* none was given */
    free(buf);
    call(&w, "{\"primitive\":\"drop\",\"params\":{\"n\":1}}");
    CHECK_EQ(zm_memory_report_take(w.ctx, w.store, &r2), ZM_OK);
    f = open_memstream(&buf, &len);
    CHECK_EQ(zm_memory_report_write_json(zm_default_allocator(), &r2, &r1, f), ZM_OK);
    fclose(f);
    CHECK(len > 0 && buf[len - 1] == '\n');
    zm_json *v = J(buf);
    CHECK_EQ(at(v, "id", NULL), 2);
    CHECK_EQ(at(v, "since", NULL), 1);
    CHECK_EQ(at(v, "delta", "json_pool", "live_blocks", NULL), -1);
    CHECK(zm_json_is_null(zm_json_get(v, "process")));
    free(buf);
    world_deinit(&w, true);
}

/* ---------------------------------------------------------------------------
 * Every allocation failing in turn
 * ------------------------------------------------------------------------- */

/* A whole world with a first report (the kept reports made then) and a JSON
   build from a: out of memory anywhere leaves nothing behind. */
static zm_status fresh_report(zm_allocator a, void *arg) {
    (void)arg;
    world w;
    zm_status st = world_init(&w, a, NULL, NULL);
    char *resp = NULL;
    size_t len;
    if (st == ZM_OK) {
        const char *req = "{\"primitive\":\"memory\"}";
        st = zm_prim_call_json(w.reg, w.ctx, req, strlen(req), &resp, &len);
        if (st == ZM_ENOMEM && strstr(resp, "\"out_of_memory\"") == NULL) st = ZM_EINTERNAL;
    }
    zm_memory_report r;
    if (st == ZM_OK) st = zm_memory_report_take(w.ctx, w.store, &r);
    zm_json *v = NULL;
    if (st == ZM_OK) st = zm_memory_report_json(a, &r, &r, &v);
    zm_json_free(a, v);
    if (st == ZM_OK) { /* the line writer, through its own arena over a */
        char *text = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&text, &n);
        st = f != NULL ? zm_memory_report_write_json(a, &r, &r, f) : ZM_EIO;
        if (f != NULL) fclose(f);
        if (st == ZM_OK && (n == 0 || text[0] != '{' || text[n - 1] != '\n')) st = ZM_EINTERNAL;
        free(text);
    }
    world_deinit(&w, true);
    return st;
}

static void test_sweep(void) {
    zm_sweep_report fr;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), fresh_report, NULL, NULL, &fr),
             ZM_OK);
    if (fr.problem != ZM_SWEEP_OK) fprintf(stderr, "%s\n", fr.message);
    CHECK(fr.alloc_count > 0);

    /* On a context set up once: the memory primitive's own failure points. */
    zm_sweep_fixture fx;
    zm_sweep_fixture_init(&fx, zm_default_allocator());
    world w;
    CHECK_EQ(world_init(&w, zm_sweep_fixture_allocator(&fx), NULL, NULL), ZM_OK);
    call(&w, "{\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":[1,2]}}");
    call(&w, "{\"primitive\":\"memory\"}");
    const char *reqs[] = {
        "{\"primitive\":\"memory\"}",
        "{\"primitive\":\"memory\",\"params\":{\"since\":1}}",
        "{\"id\":1,\"batch\":[{\"primitive\":\"memory\"},{\"primitive\":\"memory\","
        "\"params\":{\"since\":1}}]}",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        zm_sweep_report rep;
        zm_status st =
            zm_prim_sweep_request(&fx, w.reg, w.ctx, reqs[i], strlen(reqs[i]), NULL, &rep);
        CHECK_EQ(st, ZM_OK);
        if (st != ZM_OK) fprintf(stderr, "%s:\n%s\n", reqs[i], rep.message);
        CHECK(rep.alloc_count > 0);
    }
    world_deinit(&w, true);
    CHECK_EQ(zm_sweep_fixture_deinit(&fx), 0);
}

int main(void) {
    zm_arena_init(&ar, zm_default_allocator());
    RUN(test_pool_figures);
    RUN(test_arena_figures);
    RUN(test_template_figures);
    RUN(test_store_figures);
    RUN(test_process_figures);
    RUN(test_since);
    RUN(test_ring);
    RUN(test_writers);
    RUN(test_sweep);
    zm_arena_deinit(&ar);
    return zt_finish("memory");
}
