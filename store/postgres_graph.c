/* The postgres backend's graph: link, unlink, and breadth-first walks run a
   level at a time (one statement per depth, the visited set kept here). */
#include <inttypes.h>
#include <stdio.h>

#include "postgres_internal.h"

zm_status zm__pg_link(zm_store *base, const zm_store_link_req *l, bool *created) {
    zm__pg *s = (zm__pg *)base;
    zm_status st = zm__pg_check_writable(s);
    if (st == ZM_OK) st = zm__pg_ready(s);
    if (st != ZM_OK) return st;
    char *mtext = NULL;
    size_t mlen = 0;
    if (l->metadata != NULL) {
        st = zm_json_write(zm_arena_allocator(&s->scratch), l->metadata, 0, &mtext, &mlen);
        if (st == ZM_EINVAL) st = zm_store_fail(st, "the metadata cannot be written as JSON");
    }
    PGresult *r = NULL;
    if (st == ZM_OK) {
        zm__pg_params p = {.n = 0};
        zm__pg_p_text(&p, l->from, l->from_len);
        zm__pg_p_text(&p, l->to, l->to_len);
        zm__pg_p_text(&p, l->relation, l->relation_len);
        if (mtext != NULL)
            zm__pg_p_text(&p, mtext, mlen);
        else
            zm__pg_p_null(&p);
        zm__pg_p_int8(&p, l->ts_ms);
        zm__pg_p_text(&p, l->agent, l->agent ? l->agent_len : 0);
        st = zm__pg_exec(s, ZM__PG_LINK, &p, "linking", &r);
    }
    if (st == ZM_OK) *created = PQntuples(r) == 1 && zm__pg_bool(r, 0, 0);
    PQclear(r);
    zm__pg_done(s);
    return st;
}

zm_status zm__pg_unlink(zm_store *base, const char *from, size_t from_len, const char *to,
                        size_t to_len, const char *relation, size_t relation_len, bool *removed) {
    zm__pg *s = (zm__pg *)base;
    *removed = false;
    zm_status st = zm__pg_check_writable(s);
    if (st != ZM_OK) return st;
    if ((st = zm__pg_ready(s)) != ZM_OK) return st;
    zm__pg_params p = {.n = 0};
    zm__pg_p_text(&p, from, from_len);
    zm__pg_p_text(&p, to, to_len);
    zm__pg_p_text(&p, relation, relation_len);
    PGresult *r = NULL;
    st = zm__pg_exec(s, ZM__PG_UNLINK, &p, "unlinking", &r);
    if (st == ZM_OK) *removed = PQntuples(r) > 0;
    PQclear(r);
    zm__pg_done(s);
    return st;
}

/* ---------------------------------------------------------------------------
 * Walks
 * ------------------------------------------------------------------------- */

/* A set of node ids (open addressing, in the scratch arena). */
typedef struct idset {
    int64_t *slots; /* 0 = empty (identity ids start at 1) */
    size_t cap, len;
} idset;

/* Adds id; false when it was there already. *oom on out of memory. */
static bool idset_add(zm_arena *ar, idset *set, int64_t id, bool *oom) {
    if ((set->len + 1) * 2 > set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 64;
        int64_t *n = zm_arena_new_array(ar, int64_t, ncap);
        if (n == NULL) {
            *oom = true;
            return false;
        }
        memset(n, 0, ncap * sizeof *n);
        for (size_t i = 0; i < set->cap; i++) {
            if (set->slots[i] == 0) continue;
            size_t j = (size_t)((uint64_t)set->slots[i] * 0x9e3779b97f4a7c15u) & (ncap - 1);
            while (n[j] != 0) j = (j + 1) & (ncap - 1);
            n[j] = set->slots[i];
        }
        set->slots = n;
        set->cap = ncap;
    }
    size_t j = (size_t)((uint64_t)id * 0x9e3779b97f4a7c15u) & (set->cap - 1);
    while (set->slots[j] != 0) {
        if (set->slots[j] == id) return false;
        j = (j + 1) & (set->cap - 1);
    }
    set->slots[j] = id;
    set->len++;
    return true;
}

/* The int8[] literal of ids. */
static char *ids_literal(zm_arena *ar, const int64_t *ids, size_t n) {
    char *lit = zm_arena_alloc(ar, 21 * n + 3, 1);
    if (lit == NULL) return NULL;
    size_t o = 0;
    lit[o++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0) lit[o++] = ',';
        o += (size_t)snprintf(lit + o, 21, "%" PRId64, ids[i]);
    }
    lit[o++] = '}';
    lit[o] = '\0';
    return lit;
}

zm_status zm__pg_edge(zm__pg *s, const PGresult *r, int i, zm_allocator a, zm_store_edge *e) {
    memset(e, 0, sizeof *e);
    if ((e->from = zm__pg_str(r, i, 2, a, &e->from_len)) == NULL ||
        (e->to = zm__pg_str(r, i, 3, a, &e->to_len)) == NULL ||
        (e->relation = zm__pg_str(r, i, 4, a, &e->relation_len)) == NULL ||
        (e->agent = zm__pg_str(r, i, 7, a, &e->agent_len)) == NULL)
        return ZM_ENOMEM;
    e->timestamp = zm__pg_int(r, i, 6);
    return zm__pg_json(s, r, i, 5, a, &e->metadata);
}

/* Fills a hit from row i of a walk's result, its memory from a. */
static zm_status read_walk_hit(zm__pg *s, const PGresult *r, int i, uint32_t depth, zm_allocator a,
                               zm_store_hit *h) {
    memset(h, 0, sizeof *h);
    bool outgoing = zm__pg_int(r, i, 1) == 0;
    zm_status st = zm__pg_edge(s, r, i, a, &h->edge);
    if (st != ZM_OK) return st;
    h->node = outgoing ? h->edge.to : h->edge.from;
    h->node_len = outgoing ? h->edge.to_len : h->edge.from_len;
    h->depth = depth;
    h->outgoing = outgoing;
    return ZM_OK;
}

/* Looks the start node's id up: 0 when it is not a node. */
static zm_status start_id(zm__pg *s, const zm_store_walk *w, int64_t *id) {
    *id = 0;
    zm__pg_params p = {.n = 0};
    zm__pg_p_text(&p, w->node, w->node_len);
    PGresult *r = NULL;
    zm_status st = zm__pg_exec(s, ZM__PG_NODE_ID, &p, "walking the graph", &r);
    if (st == ZM_OK && PQntuples(r) == 1) *id = zm__pg_int(r, 0, 0);
    PQclear(r);
    return st;
}

/* The walk itself: levels 1..max_depth; hits gathered in the scratch arena
   (*out, *n), their strings in a. */
static zm_status walk(zm__pg *s, const zm_store_walk *w, int64_t start, zm_allocator a,
                      zm_store_hit **out, size_t *n, bool *truncated) {
    zm_arena *ar = &s->scratch;
    idset seen = {NULL, 0, 0};
    bool oom = false;
    idset_add(ar, &seen, start, &oom);
    int64_t *frontier = zm_arena_new_array(ar, int64_t, 1);
    size_t nf = 1, cap = 0;
    if (oom || frontier == NULL) return ZM_ENOMEM;
    frontier[0] = start;
    zm_store_hit *hits = NULL;
    zm_status st = ZM_OK;
    for (uint32_t depth = 1; depth <= w->max_depth && nf > 0 && !*truncated; depth++) {
        char *lit = ids_literal(ar, frontier, nf);
        if (lit == NULL) return ZM_ENOMEM;
        zm__pg_params p = {.n = 0};
        zm__pg_p_literal(&p, lit);
        if (w->relation != NULL)
            zm__pg_p_text(&p, w->relation, w->relation_len);
        else
            zm__pg_p_null(&p);
        zm__pg_p_int8(&p, (int64_t)w->dir);
        PGresult *r = NULL;
        if ((st = zm__pg_exec(s, ZM__PG_WALK, &p, "walking the graph", &r)) != ZM_OK) return st;
        int rows = PQntuples(r);
        int64_t *next = rows > 0 ? zm_arena_new_array(ar, int64_t, (size_t)rows) : NULL;
        size_t nn = 0;
        if (rows > 0 && next == NULL) st = ZM_ENOMEM;
        for (int i = 0; st == ZM_OK && i < rows; i++) {
            bool outgoing = zm__pg_int(r, i, 1) == 0;
            int64_t other = zm__pg_int(r, i, outgoing ? 9 : 8);
            if (!idset_add(ar, &seen, other, &oom)) {
                if (oom) st = ZM_ENOMEM;
                continue;
            }
            if (*n == w->limit) {
                *truncated = true;
                break;
            }
            if (*n == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                zm_store_hit *grown = zm_arena_new_array(ar, zm_store_hit, ncap);
                if (grown == NULL) {
                    st = ZM_ENOMEM;
                    break;
                }
                if (*n) memcpy(grown, hits, *n * sizeof *hits);
                hits = grown;
                cap = ncap;
            }
            st = read_walk_hit(s, r, i, depth, a, &hits[*n]);
            if (st == ZM_OK) {
                (*n)++;
                next[nn++] = other;
            }
        }
        PQclear(r);
        if (st != ZM_OK) return st;
        frontier = next;
        nf = nn;
    }
    *out = hits;
    return ZM_OK;
}

zm_status zm__pg_neighbors(zm_store *base, const zm_store_walk *w, zm_allocator a,
                           zm_store_hit **hits, size_t *count, bool *truncated) {
    zm__pg *s = (zm__pg *)base;
    *hits = NULL;
    *count = 0;
    *truncated = false;
    zm_status st = zm__pg_ready(s);
    int64_t start = 0;
    if (st == ZM_OK) st = start_id(s, w, &start);
    zm_store_hit *found = NULL;
    size_t n = 0;
    bool trunc = false;
    if (st == ZM_OK && start != 0) st = walk(s, w, start, a, &found, &n, &trunc);
    zm_store_hit *out = NULL;
    if (st == ZM_OK && n > 0) {
        /* Exactly n items from a, so a general allocator's caller frees them. */
        out = zm_alloc_array(a, zm_store_hit, n);
        if (out == NULL)
            st = ZM_ENOMEM;
        else
            memcpy(out, found, n * sizeof *out);
    }
    zm__pg_done(s);
    if (st != ZM_OK) return st;
    *hits = out;
    *count = n;
    *truncated = trunc;
    return ZM_OK;
}
