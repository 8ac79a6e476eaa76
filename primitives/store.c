/* The store: keys and their versions, agents, limits, put and get. */
#include <math.h>

#include "store_internal.h"

/* The data arena's first block; it grows geometrically from there. */
#define DATA_BLOCK ((size_t)64 << 10)
/* What the scratch arena keeps across writes. */
#define SCRATCH_BLOCK  ((size_t)16 << 10)
#define SCRATCH_RETAIN ((size_t)256 << 10)

/* ---------------------------------------------------------------------------
 * Set-up and tear-down
 * ------------------------------------------------------------------------- */

zm_status zm_store_create(zm_allocator a, const zm_store_limits *limits, zm_store **out) {
    zm_store *s = zm_create(a, zm_store);
    if (s == NULL) return ZM_ENOMEM;
    memset(s, 0, sizeof *s);
    s->a = a;
    if (limits != NULL) s->lim = *limits;
    if (s->lim.max_key_len == 0) s->lim.max_key_len = ZM_STORE_DEFAULT_MAX_KEY_LEN;
    if (s->lim.max_value_bytes == 0) s->lim.max_value_bytes = ZM_STORE_DEFAULT_MAX_VALUE_BYTES;
    if (s->lim.max_depth == 0) s->lim.max_depth = ZM_STORE_DEFAULT_MAX_DEPTH;
    zm_arena_init_sized(&s->data, a, DATA_BLOCK);
    zm_arena_init_sized(&s->scratch, a, SCRATCH_BLOCK);
    *out = s;
    return ZM_OK;
}

void zm_store_destroy(zm_store *s) {
    if (s == NULL) return;
    zm_allocator a = s->a;
    for (size_t i = 0; i < s->nentries; i++)
        zm_free_array(a, s->entries[i].versions, s->entries[i].cap);
    zm_free_array(a, s->entries, s->cap_entries);
    zm__st_map_free(&s->entry_map, a);
    zm_free_array(a, s->agents, s->cap_agents);
    zm__st_map_free(&s->agent_map, a);
    zm__st_index_free(s);
    zm__st_graph_free(s);
    zm_arena_deinit(&s->scratch);
    zm_arena_deinit(&s->data);
    zm_destroy(a, s);
}

void zm_store_get_limits(const zm_store *s, zm_store_limits *out) {
    *out = s->lim;
}

/* ---------------------------------------------------------------------------
 * Checking and copying what is stored
 * ------------------------------------------------------------------------- */

zm_status zm__st_check_name(const zm_store *s, const char *p, size_t len, bool may_be_empty) {
    if (len == 0) return may_be_empty ? ZM_OK : ZM_EINVAL;
    if (p == NULL) return ZM_EINVAL;
    if (len > s->lim.max_key_len) return ZM_ELIMIT;
    if (!zm_utf8_valid(p, len)) return ZM_EINVAL;
    return ZM_OK;
}

/* Adds n to *bytes unless that passes limit. */
static bool add_bytes(size_t *bytes, size_t n, size_t limit) {
    if (n > limit || *bytes > limit - n) return false;
    *bytes += n;
    return true;
}

/* Fails with st, saying why in *why. */
static zm_status refuse(zm_status st, zm__why *why, zm__why reason) {
    *why = reason;
    return st;
}

static zm_status check_rec(const zm_store *s, const zm_json *v, size_t depth, size_t *bytes,
                           zm__why *why) {
    size_t limit = s->lim.max_value_bytes;
    if (!add_bytes(bytes, sizeof(zm_json), limit)) return refuse(ZM_ELIMIT, why, ZM__WHY_SIZE);
    switch (zm_json_typeof(v)) {
    case ZM_JSON_NULL:
    case ZM_JSON_BOOL:
    case ZM_JSON_INT: return ZM_OK;
    case ZM_JSON_REAL: return isfinite(v->u.d) ? ZM_OK : refuse(ZM_EINVAL, why, ZM__WHY_NUMBER);
    case ZM_JSON_NUMBER:
    case ZM_JSON_STRING:
        if (!add_bytes(bytes, v->u.s.len + 1, limit)) return refuse(ZM_ELIMIT, why, ZM__WHY_SIZE);
        if (v->u.s.len > 0 && v->u.s.ptr == NULL) return refuse(ZM_EINVAL, why, ZM__WHY_UTF8);
        return zm_utf8_valid(v->u.s.ptr, v->u.s.len) ? ZM_OK : refuse(ZM_EINVAL, why, ZM__WHY_UTF8);
    case ZM_JSON_ARRAY:
    case ZM_JSON_OBJECT: break;
    default: return refuse(ZM_EINVAL, why, ZM__WHY_NUMBER);
    }
    if (depth >= s->lim.max_depth) return refuse(ZM_ELIMIT, why, ZM__WHY_DEPTH);
    if (v->type == ZM_JSON_ARRAY) {
        if (v->u.a.len > limit / sizeof(zm_json *) ||
            !add_bytes(bytes, v->u.a.len * sizeof(zm_json *), limit))
            return refuse(ZM_ELIMIT, why, ZM__WHY_SIZE);
        for (size_t i = 0; i < v->u.a.len; i++) {
            zm_status st = check_rec(s, v->u.a.items[i], depth + 1, bytes, why);
            if (st != ZM_OK) return st;
        }
        return ZM_OK;
    }
    if (v->u.o.len > limit / sizeof(zm_json_member) ||
        !add_bytes(bytes, v->u.o.len * sizeof(zm_json_member), limit))
        return refuse(ZM_ELIMIT, why, ZM__WHY_SIZE);
    for (size_t i = 0; i < v->u.o.len; i++) {
        const zm_json_member *m = &v->u.o.items[i];
        if (!add_bytes(bytes, m->key_len + 1, limit)) return refuse(ZM_ELIMIT, why, ZM__WHY_SIZE);
        if (!zm_utf8_valid(m->key, m->key_len)) return refuse(ZM_EINVAL, why, ZM__WHY_UTF8);
        zm_status st = check_rec(s, m->value, depth + 1, bytes, why);
        if (st != ZM_OK) return st;
    }
    return ZM_OK;
}

zm_status zm__st_check_value(const zm_store *s, const zm_json *v, size_t *bytes) {
    zm__why why;
    return check_rec(s, v, 0, bytes, &why);
}

zm_status zm__st_explain_value(const zm_store *s, const zm_json *v, size_t *bytes, zm__why *why) {
    *why = ZM__WHY_NONE;
    return check_rec(s, v, 0, bytes, why);
}

/* Marks every node of a stored value shared and immutable. Depth is bounded
   by the check made before the clone. */
static void mark_shared(zm_json *v) {
    if (v == NULL) return;
    v->flags |= ZM_JSON_F_SHARED;
    if (v->type == ZM_JSON_ARRAY)
        for (size_t i = 0; i < v->u.a.len; i++) mark_shared(v->u.a.items[i]);
    else if (v->type == ZM_JSON_OBJECT)
        for (size_t i = 0; i < v->u.o.len; i++) mark_shared(v->u.o.items[i].value);
}

zm_status zm__st_clone(zm_store *s, const zm_json *v, const zm_json **out) {
    zm_json *copy;
    zm_status st = zm_json_clone(zm_arena_allocator(&s->data), v, &copy);
    if (st != ZM_OK) return st;
    mark_shared(copy);
    *out = copy;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Agents: interned, so a million versions by one agent hold its id once.
 * ------------------------------------------------------------------------- */

zm_status zm__st_agent_prepare(zm_store *s, const char *agent, size_t len, uint32_t *id,
                               zm__str *pending) {
    pending->ptr = NULL;
    pending->len = 0;
    if (s->nagents == 0) {
        /* Agent 0 is the unknown agent, "". */
        zm_status st = zm__st_vec_reserve(s->a, (void **)&s->agents, &s->cap_agents, 0, 2,
                                          sizeof *s->agents, _Alignof(zm__str));
        if (st != ZM_OK) return st;
        st = zm__st_map_reserve(&s->agent_map, s->a, 2);
        if (st != ZM_OK) return st;
        s->agents[0].ptr = "";
        s->agents[0].len = 0;
        zm__st_map_insert(&s->agent_map, zm__st_hash("", 0), 0);
        s->nagents = 1;
    }
    if (agent == NULL) len = 0;
    uint32_t h = zm__st_hash(len ? agent : "", len);
    uint32_t found =
        zm__st_map_find_str(&s->agent_map, s->agents, sizeof *s->agents, len ? agent : "", len, h);
    if (found != ZM__NONE) {
        *id = found;
        return ZM_OK;
    }
    if (s->nagents >= ZM__MAX_IDS) return ZM_ELIMIT;
    zm_status st = zm__st_vec_reserve(s->a, (void **)&s->agents, &s->cap_agents, s->nagents, 1,
                                      sizeof *s->agents, _Alignof(zm__str));
    if (st != ZM_OK) return st;
    st = zm__st_map_reserve(&s->agent_map, s->a, 1);
    if (st != ZM_OK) return st;
    char *copy = zm_arena_strndup(&s->data, agent, len);
    if (copy == NULL) return ZM_ENOMEM;
    pending->ptr = copy;
    pending->len = len;
    *id = (uint32_t)s->nagents;
    return ZM_OK;
}

void zm__st_agent_commit(zm_store *s, uint32_t id, const zm__str *pending) {
    if (pending->ptr == NULL) return;
    assert(id == s->nagents);
    s->agents[s->nagents++] = *pending;
    zm__st_map_insert(&s->agent_map, zm__st_hash(pending->ptr, pending->len), id);
}

/* ---------------------------------------------------------------------------
 * Put
 * ------------------------------------------------------------------------- */

static uint32_t entry_find(const zm_store *s, const char *key, size_t len, uint32_t h) {
    return zm__st_map_find_str(&s->entry_map, s->entries, sizeof *s->entries, key, len, h);
}

zm_status zm_store_put(zm_store *s, const char *key, size_t key_len, const zm_json *value,
                       const zm_json *metadata, const char *agent, size_t agent_len, int64_t ts_ms,
                       zm_store_version *out) {
    zm_status st = zm__st_check_name(s, key, key_len, false);
    if (st != ZM_OK) return st;
    if (agent == NULL) agent_len = 0;
    st = zm__st_check_name(s, agent, agent_len, true);
    if (st != ZM_OK) return st;
    if (value == NULL) return ZM_EINVAL;
    size_t bytes = 0;
    st = zm__st_check_value(s, value, &bytes);
    if (st == ZM_OK && metadata != NULL) st = zm__st_check_value(s, metadata, &bytes);
    if (st != ZM_OK) return st;

    uint32_t h = zm__st_hash(key, key_len);
    uint32_t id = entry_find(s, key, key_len, h);
    zm__entry *e = id != ZM__NONE ? &s->entries[id] : NULL;
    if (e != NULL && s->lim.max_versions != 0 && e->nversions >= s->lim.max_versions)
        return ZM_ELIMIT;
    if (e == NULL && s->nentries >= ZM__MAX_IDS) return ZM_ELIMIT;

    /* Phase one: everything that can fail. The data arena rewinds to mark on
       failure; tables only gain capacity, which nobody can see. */
    zm_arena_mark mark = zm_arena_save(&s->data);
    zm__index_plan plan;
    memset(&plan, 0, sizeof plan);
    zm__str new_key = {NULL, 0}, agent_pending;
    zm_store_version *new_versions = NULL;
    const zm_json *val = NULL, *meta = NULL;
    uint32_t agent_id = 0;

    st = zm__st_agent_prepare(s, agent, agent_len, &agent_id, &agent_pending);
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
    } else {
        st = zm__st_vec_reserve(s->a, (void **)&e->versions, &e->cap, e->nversions, 1,
                                sizeof *e->versions, _Alignof(zm_store_version));
        if (st != ZM_OK) goto fail;
    }
    st = zm__st_clone(s, value, &val);
    if (st != ZM_OK) goto fail;
    if (metadata != NULL) {
        st = zm__st_clone(s, metadata, &meta);
        if (st != ZM_OK) goto fail;
    }
    uint32_t doc = e != NULL ? id : (uint32_t)s->nentries;
    zm__str k = e != NULL ? e->key : new_key;
    st = zm__st_index_prepare(s, doc, &k, e != NULL ? e->versions[e->nversions - 1].value : NULL,
                              val, &plan);
    if (st != ZM_OK) goto fail;

    /* Phase two: commit; nothing below can fail. */
    zm__st_agent_commit(s, agent_id, &agent_pending);
    if (e == NULL) {
        e = &s->entries[s->nentries++];
        memset(e, 0, sizeof *e);
        e->key = new_key;
        e->hash = h;
        e->versions = new_versions;
        e->cap = 2;
        zm__st_map_insert(&s->entry_map, h, doc);
    }
    if (e->nversions > 0 && ts_ms < e->versions[e->nversions - 1].timestamp)
        ts_ms = e->versions[e->nversions - 1].timestamp;
    zm_store_version *v = &e->versions[e->nversions++];
    v->version = e->nversions;
    v->timestamp = ts_ms;
    v->value = val;
    v->metadata = meta;
    v->agent = s->agents[agent_id].ptr;
    v->agent_len = s->agents[agent_id].len;
    s->nversions++;
    zm__st_index_commit(s, doc, &plan);
    zm_arena_reset(&s->scratch, ZM_ARENA_RETAIN_WITH_LIMIT, SCRATCH_RETAIN);
    if (out != NULL) *out = *v;
    return ZM_OK;

nomem:
    st = ZM_ENOMEM;
fail:
    zm__st_index_abort(s, &plan);
    zm_free_array(s->a, new_versions, 2);
    zm_arena_restore(&s->data, mark);
    zm_arena_reset(&s->scratch, ZM_ARENA_RETAIN_WITH_LIMIT, SCRATCH_RETAIN);
    return st;
}

/* ---------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------- */

static const zm__entry *entry_get(const zm_store *s, const char *key, size_t len) {
    if (key == NULL && len > 0) return NULL;
    uint32_t id = entry_find(s, len ? key : "", len, zm__st_hash(len ? key : "", len));
    return id == ZM__NONE ? NULL : &s->entries[id];
}

zm_status zm_store_get(const zm_store *s, const char *key, size_t key_len, int64_t as_of_ms,
                       zm_store_version *out) {
    const zm__entry *e = entry_get(s, key, key_len);
    if (e == NULL || e->nversions == 0) return ZM_ENOTFOUND;
    if (as_of_ms < 0) {
        *out = e->versions[e->nversions - 1];
        return ZM_OK;
    }
    /* Timestamps never decrease: find the last version at or before as_of. */
    size_t lo = 0, hi = e->nversions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->versions[mid].timestamp <= as_of_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return ZM_ENOTFOUND;
    *out = e->versions[lo - 1];
    return ZM_OK;
}

zm_status zm_store_history(const zm_store *s, const char *key, size_t key_len,
                           const zm_store_version **versions, size_t *count) {
    const zm__entry *e = entry_get(s, key, key_len);
    if (e == NULL) return ZM_ENOTFOUND;
    *versions = e->versions;
    *count = e->nversions;
    return ZM_OK;
}

size_t zm_store_count(const zm_store *s) {
    return s->nentries;
}

const char *zm_store_key_at(const zm_store *s, size_t i, size_t *len) {
    if (i >= s->nentries) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = s->entries[i].key.len;
    return s->entries[i].key.ptr;
}

void zm_store_stats_get(const zm_store *s, zm_store_stats *out) {
    memset(out, 0, sizeof *out);
    out->keys = s->nentries;
    out->versions = s->nversions;
    out->terms = s->nterms;
    out->nodes = s->nnodes;
    out->edges = s->nedges;
    out->data_bytes = zm_arena_capacity(&s->data);
    size_t t = 0;
    t += s->cap_entries * sizeof *s->entries + (size_t)s->entry_map.cap * 8;
    for (size_t i = 0; i < s->nentries; i++) t += s->entries[i].cap * sizeof(zm_store_version);
    t += s->cap_agents * sizeof *s->agents + (size_t)s->agent_map.cap * 8;
    t += s->cap_terms * sizeof *s->terms + (size_t)s->term_map.cap * 8;
    for (size_t i = 0; i < s->nterms; i++) t += s->terms[i].cap * sizeof(zm__posting);
    t += s->cap_nodes * sizeof *s->nodes + (size_t)s->node_map.cap * 8;
    for (size_t i = 0; i < s->nnodes; i++)
        t += (s->nodes[i].cap_out + s->nodes[i].cap_in) * sizeof(uint32_t);
    t += s->cap_rels * sizeof *s->rels + (size_t)s->rel_map.cap * 8;
    t += s->cap_edges * sizeof *s->edges + (size_t)s->edge_map.cap * 8;
    out->table_bytes = t;
    out->table_bytes += zm_arena_capacity(&s->scratch);
}
