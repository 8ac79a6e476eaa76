/* The memory backend: keys and their versions, interned names, put, get,
   forget, and the vtable. The search index is memory_index.c and
   memory_search.c; the graph memory_graph.c. */
#define _GNU_SOURCE /* getrandom */
#include <fcntl.h>
#include <math.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "memory_internal.h"

/* The data arena's first block; it grows geometrically from there. */
#define DATA_BLOCK ((size_t)64 << 10)
/* What the scratch arena keeps across writes. */
#define SCRATCH_BLOCK  ((size_t)16 << 10)
#define SCRATCH_RETAIN ((size_t)256 << 10)

static const zm_store_vtable memory_vtable;

/* The value of a deletion. */
static const zm_json deleted_value = {.type = ZM_JSON_NULL, .flags = ZM_JSON_F_SHARED};

/* ---------------------------------------------------------------------------
 * Set-up and tear-down
 * ------------------------------------------------------------------------- */

/* A random seed for the store's hashes: getrandom, else the clock and an
   address (different per process under ASLR). */
static uint64_t random_seed(const void *p) {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed) return seed;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15u ^ (uint64_t)(uintptr_t)p;
    return seed ^ (seed >> 31);
}

zm_status zm_store_memory_create(zm_allocator a, const zm_store_limits *limits, zm_store **out) {
    zm__mem *s = zm_create(a, zm__mem);
    if (s == NULL) return ZM_ENOMEM;
    memset(s, 0, sizeof *s);
    if (zm_store_base_init(&s->base, &memory_vtable, limits) != ZM_OK) {
        zm_destroy(a, s);
        return ZM_ENOMEM;
    }
    s->a = a;
    s->lim = s->base.limits;
    s->seed = random_seed(s);
    if (zm_json_pool_create(a, &s->pool) != ZM_OK) {
        zm_store_base_deinit(&s->base);
        zm_destroy(a, s);
        return ZM_ENOMEM;
    }
    zm_arena_init_sized(&s->data, a, DATA_BLOCK);
    zm_arena_init_sized(&s->scratch, a, SCRATCH_BLOCK);
    *out = &s->base;
    return ZM_OK;
}

static void mem_close(zm_store *base) {
    zm__mem *s = (zm__mem *)base;
    zm_allocator a = s->a;
    for (size_t i = 0; i < s->nentries; i++)
        zm_free_array(a, s->entries[i].versions, s->entries[i].cap);
    zm_free_array(a, s->entries, s->cap_entries);
    zm__st_map_free(&s->entry_map, a);
    zm__st_intern_free(s, &s->agents);
    zm__st_intern_free(s, &s->sessions);
    zm__st_index_free(s);
    zm__st_graph_free(s);
    zm_arena_deinit(&s->scratch);
    zm_arena_deinit(&s->data);
    zm_json_pool_destroy(s->pool); /* every stored value with it */
    zm_store_base_deinit(&s->base);
    zm_destroy(a, s);
}

/* ---------------------------------------------------------------------------
 * Copying what is stored
 * ------------------------------------------------------------------------- */

zm_status zm__st_clone(zm__mem *s, const zm_json *v, const zm_json **out) {
    zm_json *copy;
    zm_status st = zm_json_clone(zm_json_pool_allocator(s->pool), v, &copy);
    if (st != ZM_OK) return st;
    *out = copy;
    return ZM_OK;
}

void zm__st_release(zm__mem *s, const zm_json *v) {
    if (v != NULL && v != &deleted_value)
        zm_json_free(zm_json_pool_allocator(s->pool), (zm_json *)v);
}

zm_status zm__st_copy_out(zm_allocator a, const zm_json *v, const zm_json **out) {
    if (v == NULL || v == &deleted_value) {
        *out = v;
        return ZM_OK;
    }
    zm_json *copy;
    zm_status st = zm_json_clone(a, v, &copy);
    if (st != ZM_OK) return st;
    *out = copy;
    return ZM_OK;
}

/* Gives back a copy made by zm__st_copy_out. */
static void drop_copy(zm_allocator a, const zm_json *v) {
    if (v != NULL && v != &deleted_value) zm_json_free(a, (zm_json *)v);
}

/* Copies the value and metadata of *v into a; on failure nothing is left. */
static zm_status copy_version_out(zm_allocator a, zm_store_version *v) {
    const zm_json *value, *meta;
    zm_status st = zm__st_copy_out(a, v->value, &value);
    if (st != ZM_OK) return st;
    st = zm__st_copy_out(a, v->metadata, &meta);
    if (st != ZM_OK) {
        drop_copy(a, value);
        return st;
    }
    v->value = value;
    v->metadata = meta;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Interned names
 * ------------------------------------------------------------------------- */

zm_status zm__st_intern_prepare(zm__mem *s, zm__intern *t, const char *p, size_t len, uint32_t *id,
                                zm__str *pending) {
    pending->ptr = NULL;
    pending->len = 0;
    if (t->n == 0) {
        /* Id 0 is "". */
        zm_status st = zm__st_vec_reserve(s->a, (void **)&t->items, &t->cap, 0, 2, sizeof *t->items,
                                          _Alignof(zm__str));
        if (st != ZM_OK) return st;
        st = zm__st_map_reserve(&t->map, s->a, 2);
        if (st != ZM_OK) return st;
        t->items[0].ptr = "";
        t->items[0].len = 0;
        zm__st_map_insert(&t->map, zm__st_hash(s, "", 0), 0);
        t->n = 1;
    }
    if (p == NULL) len = 0;
    uint32_t h = zm__st_hash(s, len ? p : "", len);
    uint32_t found = zm__st_map_find_str(&t->map, t->items, sizeof *t->items, len ? p : "", len, h);
    if (found != ZM__NONE) {
        *id = found;
        return ZM_OK;
    }
    if (t->n >= ZM__MAX_IDS) return ZM_ELIMIT;
    zm_status st = zm__st_vec_reserve(s->a, (void **)&t->items, &t->cap, t->n, 1, sizeof *t->items,
                                      _Alignof(zm__str));
    if (st != ZM_OK) return st;
    st = zm__st_map_reserve(&t->map, s->a, 1);
    if (st != ZM_OK) return st;
    char *copy = zm_arena_strndup(&s->data, p, len);
    if (copy == NULL) return ZM_ENOMEM;
    pending->ptr = copy;
    pending->len = len;
    *id = (uint32_t)t->n;
    return ZM_OK;
}

void zm__st_intern_commit(zm__mem *s, zm__intern *t, uint32_t id, const zm__str *pending) {
    if (pending->ptr == NULL) return;
    assert(id == t->n);
    t->items[t->n++] = *pending;
    zm__st_map_insert(&t->map, zm__st_hash(s, pending->ptr, pending->len), id);
}

void zm__st_intern_free(zm__mem *s, zm__intern *t) {
    zm_free_array(s->a, t->items, t->cap);
    zm__st_map_free(&t->map, s->a);
}

/* ---------------------------------------------------------------------------
 * Writing versions
 * ------------------------------------------------------------------------- */

static uint32_t entry_find(const zm__mem *s, const char *key, size_t len, uint32_t h) {
    return zm__st_map_find_str(&s->entry_map, s->entries, sizeof *s->entries, key, len, h);
}

/* The value entry e is indexed with: its latest version's; NULL when it is
   not in the index (a new key, a deleted or purged one). */
static const zm_json *indexed_value(const zm__entry *e) {
    return e != NULL && zm__mem_live(e) ? e->versions[e->nversions - 1].value : NULL;
}

/* Appends a version to key: value (NULL: a deletion) and metadata, by w's
   writer at w's time. Everything that can fail happens first; on failure the
   store is as it was. */
static zm_status append_version(zm__mem *s, const zm_store_write *w, const zm_json *value,
                                const zm_json *metadata, zm_store_version *out) {
    const char *key = w->key;
    size_t key_len = w->key_len;
    uint32_t h = zm__st_hash(s, key, key_len);
    uint32_t id = entry_find(s, key, key_len, h);
    zm__entry *e = id != ZM__NONE ? &s->entries[id] : NULL;
    if (e == NULL && s->nentries >= ZM__MAX_IDS)
        return zm_store_fail(ZM_ELIMIT, "the memory store holds its most keys (%u)",
                             (unsigned)ZM__MAX_IDS);
    uint64_t next = 1;
    if (e != NULL && e->nversions > 0)
        next = e->versions[e->nversions - 1].version + 1;
    else if (e != NULL && e->next_version != 0)
        next = e->next_version;
    if (w->version != 0 && w->version < next)
        return zm_store_fail(ZM_ECONFLICT,
                             "version %llu of the key is at or below its latest (%llu)",
                             (unsigned long long)w->version, (unsigned long long)(next - 1));
    /* With max_versions, the oldest version makes room for the new one. */
    bool drop = e != NULL && s->lim.max_versions != 0 && e->nversions >= s->lim.max_versions;

    /* Phase one: everything that can fail. The data arena rewinds to mark on
       failure; tables only gain capacity, which nobody can see. */
    zm_arena_mark mark = zm_arena_save(&s->data);
    zm__index_plan plan;
    memset(&plan, 0, sizeof plan);
    zm__str new_key = {NULL, 0}, agent_pending, session_pending;
    zm_store_version *new_versions = NULL;
    const zm_json *val = &deleted_value, *meta = NULL;
    uint32_t agent_id = 0, session_id = 0;
    zm_status st;

    st = zm__st_intern_prepare(s, &s->agents, w->agent, w->agent ? w->agent_len : 0, &agent_id,
                               &agent_pending);
    if (st != ZM_OK) goto fail;
    st = zm__st_intern_prepare(s, &s->sessions, w->session, w->session ? w->session_len : 0,
                               &session_id, &session_pending);
    if (st != ZM_OK) goto fail;
    if (e == NULL) {
        char *k = zm_arena_strndup(&s->data, key, key_len);
        if (k == NULL) goto nomem;
        new_key.ptr = k;
        new_key.len = key_len;
        new_versions = zm_alloc_array(s->a, zm_store_version, 2);
        if (new_versions == NULL) goto nomem;
        st = zm__st_vec_reserve(s->a, (void **)&s->entries, &s->cap_entries, s->nentries, 1,
                                sizeof *s->entries, _Alignof(zm__entry));
        if (st != ZM_OK) goto fail;
        st = zm__st_map_reserve(&s->entry_map, s->a, 1);
        if (st != ZM_OK) goto fail;
    } else if (!drop) {
        st = zm__st_vec_reserve(s->a, (void **)&e->versions, &e->cap, e->nversions, 1,
                                sizeof *e->versions, _Alignof(zm_store_version));
        if (st != ZM_OK) goto fail;
    }
    if (value != NULL) {
        st = zm__st_clone(s, value, &val);
        if (st != ZM_OK) goto fail;
    }
    if (metadata != NULL) {
        st = zm__st_clone(s, metadata, &meta);
        if (st != ZM_OK) goto fail;
    }
    uint32_t doc = e != NULL ? id : (uint32_t)s->nentries;
    zm__str k = e != NULL ? e->key : new_key;
    st = zm__st_index_prepare(s, doc, &k, indexed_value(e), value != NULL ? val : NULL, &plan);
    if (st != ZM_OK) goto fail;

    /* Phase two: commit; nothing below can fail. */
    zm__st_intern_commit(s, &s->agents, agent_id, &agent_pending);
    zm__st_intern_commit(s, &s->sessions, session_id, &session_pending);
    if (e == NULL) {
        e = &s->entries[s->nentries++];
        memset(e, 0, sizeof *e);
        e->key = new_key;
        e->hash = h;
        e->versions = new_versions;
        e->cap = 2;
        zm__st_map_insert(&s->entry_map, h, doc);
    }
    bool was_live = zm__mem_live(e);
    int64_t ts_ms = w->ts_ms;
    if (e->nversions > 0) {
        const zm_store_version *last = &e->versions[e->nversions - 1];
        if (ts_ms < last->timestamp) ts_ms = last->timestamp;
    }
    uint64_t number = w->version != 0 ? w->version : next;
    if (drop) {
        zm__st_release(s, e->versions[0].value);
        zm__st_release(s, e->versions[0].metadata);
        memmove(&e->versions[0], &e->versions[1], (e->nversions - 1) * sizeof *e->versions);
        e->nversions--;
        s->nversions--;
    }
    zm_store_version *v = &e->versions[e->nversions++];
    memset(v, 0, sizeof *v);
    v->version = number;
    v->timestamp = ts_ms;
    v->value = val;
    v->metadata = meta;
    v->agent = s->agents.items[agent_id].ptr;
    v->agent_len = s->agents.items[agent_id].len;
    v->session = s->sessions.items[session_id].ptr;
    v->session_len = s->sessions.items[session_id].len;
    v->deleted = value == NULL;
    s->nversions++;
    bool live = zm__mem_live(e);
    if (live && !was_live) s->live_keys++;
    if (!live && was_live) s->live_keys--;
    zm__st_index_commit(s, doc, &plan);
    zm_arena_reset(&s->scratch, ZM_ARENA_RETAIN_WITH_LIMIT, SCRATCH_RETAIN);
    if (out != NULL) *out = *v;
    return ZM_OK;

nomem:
    st = ZM_ENOMEM;
fail:
    zm__st_index_abort(s, &plan);
    if (val != &deleted_value) zm__st_release(s, val);
    zm__st_release(s, meta);
    zm_free_array(s->a, new_versions, 2);
    zm_arena_restore(&s->data, mark);
    zm_arena_reset(&s->scratch, ZM_ARENA_RETAIN_WITH_LIMIT, SCRATCH_RETAIN);
    if (st == ZM_ELIMIT) return zm_store_fail(st, "the memory store holds its most names");
    return st;
}

static zm_status mem_put(zm_store *base, const zm_store_write *w, zm_store_version *out) {
    return append_version((zm__mem *)base, w, w->value, w->metadata, out);
}

static const zm__entry *entry_get(const zm__mem *s, const char *key, size_t len) {
    uint32_t id = entry_find(s, key, len, zm__st_hash(s, key, len));
    return id == ZM__NONE ? NULL : &s->entries[id];
}

static zm_status mem_forget(zm_store *base, const zm_store_write *w, bool purge,
                            zm_store_version *out, bool *existed) {
    zm__mem *s = (zm__mem *)base;
    zm__entry *e = (zm__entry *)entry_get(s, w->key, w->key_len);
    if (!purge) {
        /* An import (an explicit version) records its deletion even on a
           key that holds no live value: the export had it. */
        *existed = e != NULL && zm__mem_live(e);
        if (!*existed && w->version == 0) return ZM_OK;
        return append_version(s, w, NULL, NULL, out);
    }
    *existed = e != NULL && e->nversions > 0;
    if (!*existed) return ZM_OK;
    /* Purge: the versions go (their values back to the pool), and the key
       leaves the index; the key's name stays in the data arena until close. */
    zm__index_plan plan;
    uint32_t doc = (uint32_t)(e - s->entries);
    zm_status st = zm__st_index_prepare(s, doc, &e->key, indexed_value(e), NULL, &plan);
    if (st != ZM_OK) {
        zm__st_index_abort(s, &plan);
        zm_arena_reset(&s->scratch, ZM_ARENA_RETAIN_WITH_LIMIT, SCRATCH_RETAIN);
        return st;
    }
    bool was_live = zm__mem_live(e);
    zm__st_index_commit(s, doc, &plan);
    zm_arena_reset(&s->scratch, ZM_ARENA_RETAIN_WITH_LIMIT, SCRATCH_RETAIN);
    for (size_t i = 0; i < e->nversions; i++) {
        zm__st_release(s, e->versions[i].value);
        zm__st_release(s, e->versions[i].metadata);
    }
    s->nversions -= e->nversions;
    e->nversions = 0;
    e->next_version = 1;
    if (was_live) s->live_keys--;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Reading. Versions and values are the store's own, immutable until close.
 * ------------------------------------------------------------------------- */

/* The number of versions of e current at as_of_ms (all when negative). */
static size_t versions_upto(const zm__entry *e, int64_t as_of_ms) {
    if (as_of_ms < 0) return e->nversions;
    /* Timestamps never decrease: find the last version at or before as_of. */
    size_t lo = 0, hi = e->nversions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->versions[mid].timestamp <= as_of_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static zm_status mem_get(zm_store *base, const char *key, size_t key_len, int64_t as_of_ms,
                         zm_allocator a, zm_store_version *out) {
    const zm__entry *e = entry_get((const zm__mem *)base, key, key_len);
    if (e == NULL) return ZM_ENOTFOUND;
    size_t n = versions_upto(e, as_of_ms);
    if (n == 0) return ZM_ENOTFOUND;
    *out = e->versions[n - 1];
    if (out->deleted) return ZM_ENOTFOUND;
    return copy_version_out(a, out);
}

static zm_status mem_head(zm_store *base, const char *key, size_t key_len, uint64_t *version) {
    const zm__entry *e = entry_get((const zm__mem *)base, key, key_len);
    if (e == NULL || e->nversions == 0) return ZM_ENOTFOUND;
    const zm_store_version *v = &e->versions[e->nversions - 1];
    *version = v->version;
    return v->deleted ? ZM_ENOTFOUND : ZM_OK;
}

static zm_status mem_history(zm_store *base, const char *key, size_t key_len, int64_t as_of_ms,
                             zm_allocator a, zm_store_version **out, size_t *count) {
    *out = NULL;
    *count = 0;
    const zm__entry *e = entry_get((const zm__mem *)base, key, key_len);
    if (e == NULL) return ZM_ENOTFOUND;
    size_t n = versions_upto(e, as_of_ms);
    if (n == 0) return ZM_ENOTFOUND;
    /* Copied, values too: the store's array moves as it grows, and values
       die when dropped or purged. */
    zm_store_version *v = zm_alloc_array(a, zm_store_version, n);
    if (v == NULL) return ZM_ENOMEM;
    memcpy(v, e->versions, n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        zm_status st = copy_version_out(a, &v[i]);
        if (st != ZM_OK) {
            while (i-- > 0) {
                drop_copy(a, v[i].metadata);
                drop_copy(a, v[i].value);
            }
            zm_free_array(a, v, n);
            return st;
        }
    }
    *out = v;
    *count = n;
    return ZM_OK;
}

/* Bytes of the tables (indexes and lists) and the scratch arena. */
static size_t table_bytes(const zm__mem *s) {
    size_t t = 0;
    t += s->cap_entries * sizeof *s->entries + (size_t)s->entry_map.cap * 8;
    for (size_t i = 0; i < s->nentries; i++) t += s->entries[i].cap * sizeof(zm_store_version);
    t += s->agents.cap * sizeof(zm__str) + (size_t)s->agents.map.cap * 8;
    t += s->sessions.cap * sizeof(zm__str) + (size_t)s->sessions.map.cap * 8;
    t += s->cap_terms * sizeof *s->terms + (size_t)s->term_map.cap * 8;
    for (size_t i = 0; i < s->nterms; i++) t += s->terms[i].cap * sizeof(zm__posting);
    t += s->cap_nodes * sizeof *s->nodes + (size_t)s->node_map.cap * 8;
    for (size_t i = 0; i < s->nnodes; i++)
        t += (s->nodes[i].cap_out + s->nodes[i].cap_in) * sizeof(uint32_t);
    t += s->cap_rels * sizeof *s->rels + (size_t)s->rel_map.cap * 8;
    t += s->cap_edges * sizeof *s->edges + (size_t)s->edge_map.cap * 8;
    return t + zm_arena_capacity(&s->scratch);
}

static zm_status mem_stats(zm_store *base, zm_store_stats *out) {
    const zm__mem *s = (const zm__mem *)base;
    memset(out, 0, sizeof *out);
    out->keys = s->live_keys;
    out->versions = s->nversions;
    out->terms = s->nterms;
    out->nodes = s->nnodes;
    out->edges = s->live_edges;
    out->data_bytes = zm_arena_capacity(&s->data);
    out->table_bytes = table_bytes(s);
    out->probes = s->entry_map.probes + s->agents.map.probes + s->sessions.map.probes +
                  s->term_map.probes + s->node_map.probes + s->rel_map.probes + s->edge_map.probes;
    return ZM_OK;
}

/* Everything the store holds: itself, its names, tables and pooled values. */
static zm_status mem_memory(zm_store *base, zm_store_memory *out) {
    const zm__mem *s = (const zm__mem *)base;
    zm_json_pool_stats ps;
    zm_json_pool_stats_get(s->pool, &ps);
    out->applicable = true;
    out->bytes =
        sizeof *s + zm_arena_capacity(&s->data) + table_bytes(s) + ps.pooled_bytes + ps.big_bytes;
    out->what = "its names, tables and pooled values";
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Export: a cursor over entries and their versions.
 * ------------------------------------------------------------------------- */

typedef struct mem_cursor {
    zm_store_cursor base;
    zm_allocator a;
    size_t entry, version, edge;
} mem_cursor;

static zm_status mem_export_open(zm_store *base, zm_allocator a, zm_store_cursor **out) {
    mem_cursor *c = zm_create(a, mem_cursor);
    if (c == NULL) return ZM_ENOMEM;
    memset(c, 0, sizeof *c);
    c->base.store = base;
    c->a = a;
    *out = &c->base;
    return ZM_OK;
}

static zm_status mem_cursor_next(zm_store_cursor *cur, zm_store_record *out, bool *done) {
    mem_cursor *c = (mem_cursor *)cur;
    const zm__mem *s = (const zm__mem *)cur->store;
    while (c->entry < s->nentries && c->version >= s->entries[c->entry].nversions) {
        c->entry++;
        c->version = 0;
    }
    if (c->entry >= s->nentries) {
        /* Then the edges, in the order they were first linked. */
        while (c->edge < s->nedges && s->edges[c->edge].dead) c->edge++;
        if (c->edge >= s->nedges) {
            *done = true;
            return ZM_OK;
        }
        memset(out, 0, sizeof *out);
        out->kind = ZM_STORE_RECORD_EDGE;
        zm__mem_edge_fill(s, &s->edges[c->edge++], &out->edge);
        *done = false;
        return ZM_OK;
    }
    const zm__entry *e = &s->entries[c->entry];
    memset(out, 0, sizeof *out);
    out->kind = ZM_STORE_RECORD_VERSION;
    out->key = e->key.ptr;
    out->key_len = e->key.len;
    out->v = e->versions[c->version++];
    *done = false;
    return ZM_OK;
}

static void mem_cursor_close(zm_store_cursor *cur) {
    mem_cursor *c = (mem_cursor *)cur;
    zm_destroy(c->a, c);
}

/* Transactions: the memory backend has no undo. begin and commit only mark
   the bounds (the wrappers hold the lock between them); rollback is not
   supported. */
static zm_status mem_begin(zm_store *base) {
    (void)base;
    return ZM_OK;
}

static zm_status mem_commit(zm_store *base) {
    (void)base;
    return ZM_OK;
}

static const zm_store_vtable memory_vtable = {
    .size = sizeof(zm_store_vtable),
    .name = "memory",
    .close = mem_close,
    .put = mem_put,
    .get = mem_get,
    .history = mem_history,
    .search = zm__mem_search,
    .link = zm__mem_link,
    .unlink = zm__mem_unlink,
    .neighbors = zm__mem_neighbors,
    .forget = mem_forget,
    .begin = mem_begin,
    .commit = mem_commit,
    .rollback = NULL,
    .stats = mem_stats,
    .export_open = mem_export_open,
    .cursor_next = mem_cursor_next,
    .cursor_close = mem_cursor_close,
    .head = mem_head,
    .search_skip = zm__mem_search_skip,
    .memory = mem_memory,
};
