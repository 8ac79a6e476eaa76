/* The memory report of a context: taking it from the counters that exist,
   keeping the last few, and writing it as JSON and as text. */
#include <inttypes.h>

#include "internal.h"
#include "zmem/memory.h"

/* ---------------------------------------------------------------------------
 * Taking and keeping reports
 * ------------------------------------------------------------------------- */

void zm__ctx_free_reports(zm_prim_ctx *ctx) {
    if (ctx->reports != NULL) zm_free_array(ctx->a, ctx->reports, ZM_MEMORY_KEEP);
    ctx->reports = NULL;
}

static void take_pool(const zm_json_pool *pool, zm_memory_json_pool *out) {
    memset(out, 0, sizeof *out);
    zm_json_pool_stats ps;
    zm_json_pool_stats_get(pool, &ps);
    for (size_t i = 0; i < ZM_JSON_POOL_CLASSES; i++) {
        zm_json_pool_class *c = &out->classes[i];
        zm_json_pool_class_get(pool, i, c);
        out->live_blocks += c->live_blocks;
        out->free_blocks += c->free_blocks;
    }
    out->held_bytes = ps.pooled_bytes;
    out->big_blocks = ps.big_blocks;
    out->big_bytes = ps.big_bytes;
    out->live_values = ps.live_values;
}

static void take_store(zm_store *store, zm_memory_store *out) {
    memset(out, 0, sizeof *out);
    if (store == NULL) return;
    out->present = true;
    out->backend = zm_store_backend(store);
    zm_status st = zm_store_memory_get(store, &out->mem);
    if (st != ZM_OK) {
        memset(&out->mem, 0, sizeof out->mem);
        out->mem.what = "not counted by this backend";
    }
}

bool zm__memory_reserve(zm_prim_ctx *ctx, bool *fresh) {
    *fresh = false;
    if (ctx->reports != NULL) return true;
    ctx->reports = zm_alloc_array(ctx->a, zm_memory_report, ZM_MEMORY_KEEP);
    *fresh = ctx->reports != NULL;
    return *fresh;
}

void zm__memory_fill(zm_prim_ctx *ctx, zm_store *store, zm_memory_report *out) {
    zm_memory_report r;
    memset(&r, 0, sizeof r);
    r.id = ctx->report_seq + 1;
    r.taken_ms = zm__ctx_clock(ctx);
    r.calls = ctx->stats.calls;
    r.call_arena = (zm_memory_arena){ctx->call_last, ctx->call_peak, zm_arena_capacity(&ctx->arena),
                                     ctx->retain_limit};
    r.request_arena = (zm_memory_arena){ctx->req_last, ctx->req_peak,
                                        zm_arena_capacity(&ctx->req_arena), ctx->retain_limit};
    r.response = (zm_memory_response){ctx->response.cap, ctx->response_retain_limit};
    take_pool(ctx->pool, &r.json_pool);
    zm_template_stats_get(ctx->templates, &r.templates);
    take_store(store, &r.store);
    if (ctx->process != NULL) {
        r.process.present = true;
        zm_stats_snapshot(ctx->process, &r.process.stats);
        zm_stats_config_get(ctx->process, &r.process.config);
        r.process.level = zm_stats_level_now(ctx->process);
    }
    /* Last, so that it counts everything above (the kept reports too). */
    zm_stats_snapshot(&ctx->ll, &r.context);
    *out = r;
}

void zm__memory_commit(zm_prim_ctx *ctx, const zm_memory_report *r) {
    ctx->report_seq = r->id;
    ctx->reports[(r->id - 1) % ZM_MEMORY_KEEP] = *r;
}

zm_status zm_memory_report_take(zm_prim_ctx *ctx, zm_store *store, zm_memory_report *out) {
    bool fresh;
    if (!zm__memory_reserve(ctx, &fresh)) return ZM_ENOMEM;
    zm__memory_fill(ctx, store, out);
    zm__memory_commit(ctx, out);
    return ZM_OK;
}

void zm_memory_report_ids(const zm_prim_ctx *ctx, uint64_t *oldest, uint64_t *latest) {
    uint64_t last = ctx->report_seq;
    *latest = last;
    *oldest = last == 0 ? 0 : last > ZM_MEMORY_KEEP ? last - ZM_MEMORY_KEEP + 1 : 1;
}

zm_status zm_memory_report_find(const zm_prim_ctx *ctx, uint64_t id, zm_memory_report *out) {
    uint64_t oldest, latest;
    zm_memory_report_ids(ctx, &oldest, &latest);
    if (id == 0 || id < oldest || id > latest) return ZM_ENOTFOUND;
    *out = ctx->reports[(id - 1) % ZM_MEMORY_KEEP];
    return ZM_OK;
}

const char *zm_stats_level_name(zm_stats_level level) {
    switch (level) {
    case ZM_STATS_WARNING: return "warning";
    case ZM_STATS_CRITICAL: return "critical";
    default: return "normal";
    }
}

/* ---------------------------------------------------------------------------
 * As JSON
 *
 * Every member is attached to its parent as soon as it is made, so that on
 * failure freeing the root frees everything. Keys are string literals,
 * borrowed.
 * ------------------------------------------------------------------------- */

typedef struct jb {
    zm_allocator a;
    zm_status st;
} jb;

static int64_t num(size_t n) {
    return n > (size_t)INT64_MAX ? INT64_MAX : (int64_t)n;
}

static void jb_add(jb *b, zm_json *obj, const char *key, zm_json *v) {
    if (b->st != ZM_OK) {
        zm_json_free(b->a, v);
        return;
    }
    if (v == NULL) {
        b->st = ZM_ENOMEM;
        return;
    }
    zm_status st = zm_json_object_add_ref(b->a, obj, key, strlen(key), v);
    if (st != ZM_OK) {
        zm_json_free(b->a, v);
        b->st = st;
    }
}

static zm_json *jb_obj(jb *b, zm_json *parent, const char *key, size_t cap) {
    if (b->st != ZM_OK) return NULL;
    zm_json *o = zm_json_new_object(b->a, cap);
    jb_add(b, parent, key, o);
    return b->st == ZM_OK ? o : NULL;
}

static void jb_int(jb *b, zm_json *obj, const char *key, int64_t v) {
    if (b->st == ZM_OK) jb_add(b, obj, key, zm_json_new_int(b->a, v));
}

static void jb_size(jb *b, zm_json *obj, const char *key, size_t v) {
    jb_int(b, obj, key, num(v));
}

static void jb_bool(jb *b, zm_json *obj, const char *key, bool v) {
    if (b->st == ZM_OK) jb_add(b, obj, key, zm_json_new_bool(b->a, v));
}

static void jb_null(jb *b, zm_json *obj, const char *key) {
    if (b->st == ZM_OK) jb_add(b, obj, key, zm_json_new_null(b->a));
}

static void jb_str(jb *b, zm_json *obj, const char *key, const char *s) {
    if (b->st == ZM_OK) jb_add(b, obj, key, zm_json_new_string_ref(b->a, s, strlen(s)));
}

/* A size, or null when it is 0 (none). */
static void jb_size_or_null(jb *b, zm_json *obj, const char *key, size_t v) {
    if (v == 0)
        jb_null(b, obj, key);
    else
        jb_size(b, obj, key, v);
}

static void jb_arena(jb *b, zm_json *parent, const char *key, const zm_memory_arena *m) {
    zm_json *o = jb_obj(b, parent, key, 4);
    jb_size(b, o, "last_bytes", m->last_bytes);
    jb_size(b, o, "peak_bytes", m->peak_bytes);
    jb_size(b, o, "held_bytes", m->held_bytes);
    jb_size(b, o, "retain_limit", m->retain_limit);
}

static void jb_pool(jb *b, zm_json *parent, const zm_memory_json_pool *p) {
    zm_json *o = jb_obj(b, parent, "json_pool", 7);
    jb_size(b, o, "live_blocks", p->live_blocks);
    jb_size(b, o, "free_blocks", p->free_blocks);
    jb_size(b, o, "held_bytes", p->held_bytes);
    jb_size(b, o, "big_blocks", p->big_blocks);
    jb_size(b, o, "big_bytes", p->big_bytes);
    jb_size(b, o, "live_values", p->live_values);
    if (b->st != ZM_OK) return;
    zm_json *arr = zm_json_new_array(b->a, ZM_JSON_POOL_CLASSES);
    jb_add(b, o, "classes", arr);
    for (size_t i = 0; i < ZM_JSON_POOL_CLASSES && b->st == ZM_OK; i++) {
        const zm_json_pool_class *c = &p->classes[i];
        zm_json *co = zm_json_new_object(b->a, 3);
        if (co == NULL || zm_json_array_push(b->a, arr, co) != ZM_OK) {
            zm_json_free(b->a, co);
            b->st = ZM_ENOMEM;
            break;
        }
        jb_size(b, co, "block_size", c->block_size);
        jb_size(b, co, "live_blocks", c->live_blocks);
        jb_size(b, co, "free_blocks", c->free_blocks);
    }
}

static void jb_templates(jb *b, zm_json *parent, const zm_template_stats *t) {
    zm_json *o = jb_obj(b, parent, "templates", 7);
    jb_size(b, o, "templates", t->templates);
    jb_size(b, o, "bytes", t->bytes);
    jb_size(b, o, "budget", t->budget);
    jb_size(b, o, "hits", t->hits);
    jb_size(b, o, "misses", t->misses);
    jb_size(b, o, "evictions", t->evictions);
    jb_size(b, o, "pinned", t->pinned);
}

static void jb_counts(jb *b, zm_json *o, const zm_memory_stats *m) {
    jb_size(b, o, "active_bytes", m->active_bytes);
    jb_size(b, o, "peak_bytes", m->peak_bytes);
    jb_size(b, o, "allocs", m->allocs);
    jb_size(b, o, "frees", m->frees);
    jb_size(b, o, "failures", m->failures);
}

static void jb_store(jb *b, zm_json *parent, const zm_memory_store *s) {
    if (!s->present) {
        jb_null(b, parent, "store");
        return;
    }
    zm_json *o = jb_obj(b, parent, "store", 7);
    jb_str(b, o, "backend", s->backend ? s->backend : "");
    jb_bool(b, o, "applicable", s->mem.applicable);
    jb_size(b, o, "bytes", s->mem.bytes);
    jb_size(b, o, "peak_bytes", s->mem.peak_bytes);
    jb_size(b, o, "cache_bytes", s->mem.cache_bytes);
    jb_size(b, o, "engine_bytes", s->mem.engine_bytes);
    jb_str(b, o, "what", s->mem.what ? s->mem.what : "");
}

static void jb_threshold(jb *b, zm_json *parent, const char *key, size_t at, size_t clear,
                         bool crossed) {
    if (at == 0) {
        jb_null(b, parent, key);
        return;
    }
    zm_json *o = jb_obj(b, parent, key, 3);
    jb_size(b, o, "bytes", at);
    jb_size(b, o, "clear_bytes", clear);
    jb_bool(b, o, "crossed", crossed);
}

static void jb_process(jb *b, zm_json *parent, const zm_memory_process *p) {
    if (!p->present) {
        jb_null(b, parent, "process");
        return;
    }
    zm_json *o = jb_obj(b, parent, "process", 9);
    jb_counts(b, o, &p->stats);
    jb_size_or_null(b, o, "limit_bytes", p->config.limit_bytes);
    jb_threshold(b, o, "warning", p->config.warning_bytes, p->config.warning_clear,
                 p->level >= ZM_STATS_WARNING);
    jb_threshold(b, o, "critical", p->config.critical_bytes, p->config.critical_clear,
                 p->level >= ZM_STATS_CRITICAL);
    jb_str(b, o, "level", zm_stats_level_name(p->level));
}

/* The figures of r as members of o. */
static void jb_figures(jb *b, zm_json *o, const zm_memory_report *r) {
    jb_int(b, o, "id", (int64_t)r->id);
    jb_int(b, o, "taken_ms", r->taken_ms);
    jb_int(b, o, "calls", (int64_t)r->calls);
    jb_arena(b, o, "call_arena", &r->call_arena);
    jb_arena(b, o, "request_arena", &r->request_arena);
    zm_json *resp = jb_obj(b, o, "response_buffer", 2);
    jb_size(b, resp, "held_bytes", r->response.held_bytes);
    jb_size(b, resp, "retain_limit", r->response.retain_limit);
    jb_pool(b, o, &r->json_pool);
    jb_templates(b, o, &r->templates);
    jb_counts(b, jb_obj(b, o, "context", 5), &r->context);
    jb_store(b, o, &r->store);
    jb_process(b, o, &r->process);
}

/* Whether two items of an array of figures (size classes) hold the same
   numbers: then the delta leaves the item out. */
static bool same_items(const zm_json *x, const zm_json *y) {
    for (size_t i = 0; i < zm_json_len(x); i++) {
        const zm_json_member *m = &x->u.o.items[i];
        const zm_json *w = zm_json_getn(y, m->key, m->key_len);
        if (zm_json_is_int(m->value) && (!zm_json_is_int(w) || w->u.i != m->value->u.i))
            return false;
    }
    return true;
}

/* Adds to out the difference of cur and base, member by member: numbers
   subtracted (block_size copied: it names its class; id and taken_ms left
   out: "since" and "elapsed_ms" say them), objects and arrays recursed into
   (an array item whose numbers did not change left out), anything else left
   out. */
static void jb_diff(jb *b, zm_json *out, const zm_json *cur, const zm_json *base) {
    for (size_t i = 0; i < zm_json_len(cur) && b->st == ZM_OK; i++) {
        const zm_json_member *m = &cur->u.o.items[i];
        const zm_json *v = m->value, *w = zm_json_getn(base, m->key, m->key_len);
        if (strcmp(m->key, "id") == 0 || strcmp(m->key, "taken_ms") == 0) continue;
        if (zm_json_is_int(v) && zm_json_is_int(w)) {
            bool names = strcmp(m->key, "block_size") == 0;
            jb_int(b, out, m->key, names ? v->u.i : v->u.i - w->u.i);
        } else if (zm_json_is_object(v) && zm_json_is_object(w)) {
            jb_diff(b, jb_obj(b, out, m->key, zm_json_len(v)), v, w);
        } else if (zm_json_is_array(v) && zm_json_is_array(w)) {
            if (b->st != ZM_OK) return;
            zm_json *arr = zm_json_new_array(b->a, zm_json_len(v));
            jb_add(b, out, m->key, arr);
            for (size_t k = 0; k < zm_json_len(v) && k < zm_json_len(w) && b->st == ZM_OK; k++) {
                if (same_items(zm_json_at(v, k), zm_json_at(w, k))) continue;
                zm_json *item = zm_json_new_object(b->a, 3);
                if (item == NULL || zm_json_array_push(b->a, arr, item) != ZM_OK) {
                    zm_json_free(b->a, item);
                    b->st = ZM_ENOMEM;
                    return;
                }
                jb_diff(b, item, zm_json_at(v, k), zm_json_at(w, k));
            }
        }
    }
}

zm_status zm_memory_report_json(zm_allocator a, const zm_memory_report *r,
                                const zm_memory_report *since, zm_json **out) {
    jb b = {a, ZM_OK};
    zm_json *o = zm_json_new_object(a, since ? 14 : 11);
    if (o == NULL) return ZM_ENOMEM;
    jb_figures(&b, o, r);
    if (since != NULL && b.st == ZM_OK) {
        /* The earlier report in the same shape, subtracted, then dropped. */
        zm_json *old = zm_json_new_object(a, 11);
        if (old == NULL) b.st = ZM_ENOMEM;
        jb ob = {a, ZM_OK};
        if (old != NULL) jb_figures(&ob, old, since);
        if (ob.st != ZM_OK) b.st = ob.st;
        zm_json *d = b.st == ZM_OK ? zm_json_new_object(a, 11) : NULL;
        if (d == NULL) b.st = ZM_ENOMEM;
        jb db = {a, b.st};
        jb_diff(&db, d, o, old);
        zm_json_free(a, old);
        jb_int(&b, o, "since", (int64_t)since->id);
        jb_int(&b, o, "elapsed_ms", r->taken_ms - since->taken_ms);
        if (db.st != ZM_OK) {
            zm_json_free(a, d);
            if (b.st == ZM_OK) b.st = db.st;
        } else {
            jb_add(&b, o, "delta", d);
        }
    }
    if (b.st != ZM_OK) {
        zm_json_free(a, o);
        return b.st;
    }
    *out = o;
    return ZM_OK;
}

zm_status zm_memory_report_write_json(zm_allocator a, const zm_memory_report *r,
                                      const zm_memory_report *since, FILE *f) {
    zm_arena ar;
    zm_arena_init_sized(&ar, a, (size_t)8 << 10);
    zm_json *v;
    zm_status st = zm_memory_report_json(zm_arena_allocator(&ar), r, since, &v);
    if (st == ZM_OK) st = zm_json_write_file(a, v, 0, f);
    if (st == ZM_OK && (fputc('\n', f) == EOF || fflush(f) != 0)) st = ZM_EIO;
    zm_arena_deinit(&ar);
    return st;
}

/* ---------------------------------------------------------------------------
 * As text
 * ------------------------------------------------------------------------- */

typedef struct human {
    char text[32];
} human;

/* n bytes for a person: exact below 10 KiB, else in KiB, MiB or GiB. */
static const char *hb(human *h, size_t n) {
    if (n < 10240)
        snprintf(h->text, sizeof h->text, "%zu B", n);
    else if (n < ((size_t)1 << 20))
        snprintf(h->text, sizeof h->text, "%.1f KiB", (double)n / 1024.0);
    else if (n < ((size_t)1 << 30))
        snprintf(h->text, sizeof h->text, "%.1f MiB", (double)n / (1024.0 * 1024.0));
    else
        snprintf(h->text, sizeof h->text, "%.1f GiB", (double)n / (1024.0 * 1024.0 * 1024.0));
    return h->text;
}

static void text_arena(FILE *f, const char *pre, const char *name, const zm_memory_arena *m) {
    human h1, h2, h3, h4;
    fprintf(f, "%s%s: last %s, peak %s, %s held (keeps up to %s)\n", pre, name,
            hb(&h1, m->last_bytes), hb(&h2, m->peak_bytes), hb(&h3, m->held_bytes),
            hb(&h4, m->retain_limit));
}

static void text_threshold(FILE *f, const char *name, size_t at, bool crossed) {
    human h;
    if (at != 0)
        fprintf(f, "; %s at %s (%s)", name, hb(&h, at), crossed ? "crossed" : "not crossed");
}

zm_status zm_memory_report_write_text(const zm_memory_report *r, const char *prefix, FILE *f) {
    char pre[128];
    snprintf(pre, sizeof pre, "%s%s", prefix ? prefix : "", prefix ? ": " : "");
    human h1, h2, h3, h4;
    fprintf(f, "%smemory report %" PRIu64 ", after %" PRIu64 " calls\n", pre, r->id, r->calls);
    text_arena(f, pre, "per-call arena", &r->call_arena);
    text_arena(f, pre, "request arena", &r->request_arena);
    fprintf(f, "%sresponse buffer: %s held (keeps up to %s)\n", pre,
            hb(&h1, r->response.held_bytes), hb(&h2, r->response.retain_limit));
    const zm_memory_json_pool *p = &r->json_pool;
    fprintf(f,
            "%sJSON pool: %zu live blocks, %zu free, %s in slabs; %zu large blocks (%s); "
            "%zu live values\n",
            pre, p->live_blocks, p->free_blocks, hb(&h1, p->held_bytes), p->big_blocks,
            hb(&h2, p->big_bytes), p->live_values);
    for (size_t i = 0; i < ZM_JSON_POOL_CLASSES; i++) {
        const zm_json_pool_class *c = &p->classes[i];
        if (c->live_blocks == 0 && c->free_blocks == 0) continue;
        fprintf(f, "%s  class %zu B: %zu live, %zu free\n", pre, c->block_size, c->live_blocks,
                c->free_blocks);
    }
    const zm_template_stats *t = &r->templates;
    fprintf(f, "%stemplates: %zu held, %s of a %s budget; %zu hits, %zu misses, %zu evictions\n",
            pre, t->templates, hb(&h1, t->bytes), hb(&h2, t->budget), t->hits, t->misses,
            t->evictions);
    const zm_memory_store *s = &r->store;
    if (!s->present)
        fprintf(f, "%sstore: none\n", pre);
    else if (!s->mem.applicable)
        fprintf(f, "%sstore (%s): %s\n", pre, s->backend, s->mem.what);
    else {
        fprintf(f, "%sstore (%s): %s, %s", pre, s->backend, hb(&h1, s->mem.bytes), s->mem.what);
        if (s->mem.engine_bytes)
            fprintf(f, "; the engine holds %s in the process", hb(&h2, s->mem.engine_bytes));
        fputc('\n', f);
    }
    fprintf(f, "%scontext: %s active, %s peak, %zu allocs, %zu frees\n", pre,
            hb(&h1, r->context.active_bytes), hb(&h2, r->context.peak_bytes), r->context.allocs,
            r->context.frees);
    const zm_memory_process *pr = &r->process;
    if (pr->present) {
        fprintf(f, "%sprocess: %s active, %s peak", pre, hb(&h3, pr->stats.active_bytes),
                hb(&h4, pr->stats.peak_bytes));
        if (pr->config.limit_bytes) fprintf(f, "; limit %s", hb(&h1, pr->config.limit_bytes));
        text_threshold(f, "warning", pr->config.warning_bytes, pr->level >= ZM_STATS_WARNING);
        text_threshold(f, "critical", pr->config.critical_bytes, pr->level >= ZM_STATS_CRITICAL);
        fputc('\n', f);
    }
    return ferror(f) ? ZM_EIO : ZM_OK;
}
