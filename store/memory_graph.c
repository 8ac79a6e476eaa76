/* The store's graph: named nodes, labelled edges, breadth-first walks. */
#include "memory_internal.h"

/* ---------------------------------------------------------------------------
 * Interning names
 * ------------------------------------------------------------------------- */

/* A name being interned: found (id) or to be added (pending copy). */
typedef struct name_plan {
    uint32_t id;
    uint32_t hash;
    zm__str pending; /* ptr NULL when the name exists */
} name_plan;

/* Finds name among recs (a growable array of records whose first member is
   the zm__str key) or copies it into the data arena and reserves room for
   one more record and map slot. 'extra' is how many other additions of this
   kind the same write makes before this one (they take ids first). */
static zm_status name_prepare(zm__mem *s, void **recs, size_t *cap, size_t n, size_t stride,
                              size_t align, zm__map *map, const char *p, size_t len, size_t extra,
                              name_plan *out) {
    out->hash = zm__st_hash(s, p, len);
    out->pending.ptr = NULL;
    out->pending.len = 0;
    out->id = zm__st_map_find_str(map, *recs, stride, p, len, out->hash);
    if (out->id != ZM__NONE) return ZM_OK;
    if (n + extra >= ZM__MAX_IDS) return ZM_ELIMIT;
    zm_status st = zm__st_vec_reserve(s->a, recs, cap, n, extra + 1, stride, align);
    if (st != ZM_OK) return st;
    st = zm__st_map_reserve(map, s->a, extra + 1);
    if (st != ZM_OK) return st;
    char *copy = zm_arena_strndup(&s->data, p, len);
    if (copy == NULL) return ZM_ENOMEM;
    out->pending.ptr = copy;
    out->pending.len = len;
    out->id = (uint32_t)(n + extra);
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Edges
 * ------------------------------------------------------------------------- */

typedef struct edge_key {
    uint32_t from, to, rel;
} edge_key;

static uint32_t edge_hash(const zm__mem *s, uint32_t from, uint32_t to, uint32_t rel) {
    uint32_t k[3] = {from, to, rel};
    return zm__st_hash(s, (const char *)k, sizeof k);
}

static bool edge_eq(const void *ctx, uint32_t id, const void *key) {
    const zm__mem *s = ctx;
    const edge_key *k = key;
    const zm__edge *e = &s->edges[id];
    return e->from == k->from && e->to == k->to && e->rel == k->rel;
}

void zm__mem_edge_fill(const zm__mem *s, const zm__edge *e, zm_store_edge *out) {
    const zm__node *f = &s->nodes[e->from], *t = &s->nodes[e->to];
    const zm__str *r = &s->rels[e->rel], *a = &s->agents.items[e->agent];
    out->from = f->key.ptr;
    out->from_len = f->key.len;
    out->to = t->key.ptr;
    out->to_len = t->key.len;
    out->relation = r->ptr;
    out->relation_len = r->len;
    out->metadata = e->metadata;
    out->timestamp = e->timestamp;
    out->agent = a->ptr;
    out->agent_len = a->len;
}

static void node_commit(zm__mem *s, const name_plan *np) {
    if (np->pending.ptr == NULL) return;
    assert(np->id == s->nnodes);
    zm__node *n = &s->nodes[s->nnodes++];
    memset(n, 0, sizeof *n);
    n->key = np->pending;
    zm__st_map_insert(&s->node_map, np->hash, np->id);
}

/* Reserves one more edge id in a node's list, for a node that exists or is
   pending (its list is then allocated in *fresh, to be handed over). */
static zm_status list_reserve(zm__mem *s, zm__node *n, bool out_list) {
    if (out_list)
        return zm__st_vec_reserve(s->a, (void **)&n->out, &n->cap_out, n->nout, 1, sizeof(uint32_t),
                                  _Alignof(uint32_t));
    return zm__st_vec_reserve(s->a, (void **)&n->in, &n->cap_in, n->nin, 1, sizeof(uint32_t),
                              _Alignof(uint32_t));
}

zm_status zm__mem_link(zm_store *base, const zm_store_link_req *l, bool *created) {
    zm__mem *s = (zm__mem *)base;
    zm_status st;
    const char *from = l->from, *to = l->to, *relation = l->relation, *agent = l->agent;
    size_t from_len = l->from_len, to_len = l->to_len, relation_len = l->relation_len;
    size_t agent_len = agent ? l->agent_len : 0;
    const zm_json *metadata = l->metadata;
    int64_t ts_ms = l->ts_ms;

    zm_arena_mark mark = zm_arena_save(&s->data);
    name_plan nf, nt, nr;
    zm__str agent_pending;
    uint32_t agent_id = 0;
    const zm_json *meta = NULL;
    bool self = from_len == to_len && memcmp(from, to, from_len) == 0;
    /* Pending nodes get their edge lists now (owned here until commit). */
    zm__node fresh_from, fresh_to;
    memset(&fresh_from, 0, sizeof fresh_from);
    memset(&fresh_to, 0, sizeof fresh_to);

    st = name_prepare(s, (void **)&s->nodes, &s->cap_nodes, s->nnodes, sizeof *s->nodes,
                      _Alignof(zm__node), &s->node_map, from, from_len, 0, &nf);
    if (st != ZM_OK) goto fail;
    if (self) {
        nt = nf;
    } else {
        st = name_prepare(s, (void **)&s->nodes, &s->cap_nodes, s->nnodes, sizeof *s->nodes,
                          _Alignof(zm__node), &s->node_map, to, to_len,
                          nf.pending.ptr != NULL ? 1 : 0, &nt);
        if (st != ZM_OK) goto fail;
    }
    st = name_prepare(s, (void **)&s->rels, &s->cap_rels, s->nrels, sizeof *s->rels,
                      _Alignof(zm__str), &s->rel_map, relation, relation_len, 0, &nr);
    if (st != ZM_OK) goto fail;
    st = zm__st_intern_prepare(s, &s->agents, agent, agent_len, &agent_id, &agent_pending);
    if (st != ZM_OK) goto fail;
    if (metadata != NULL && (st = zm__st_clone(s, metadata, &meta)) != ZM_OK) goto fail;

    /* An existing edge: replace its metadata, time and agent. */
    uint32_t eid = ZM__NONE, eh = 0;
    if (nf.pending.ptr == NULL && nt.pending.ptr == NULL && nr.pending.ptr == NULL) {
        edge_key k = {nf.id, nt.id, nr.id};
        eh = edge_hash(s, nf.id, nt.id, nr.id);
        eid = zm__st_map_find(&s->edge_map, eh, edge_eq, s, &k);
    } else {
        eh = edge_hash(s, nf.id, nt.id, nr.id);
    }
    bool revive = eid != ZM__NONE && s->edges[eid].dead;
    if (revive) {
        /* An unlinked edge linked again: back into its nodes' lists. */
        if ((st = list_reserve(s, &s->nodes[nf.id], true)) != ZM_OK) goto fail;
        if ((st = list_reserve(s, &s->nodes[nt.id], false)) != ZM_OK) goto fail;
    }
    if (eid == ZM__NONE) {
        if (s->nedges >= ZM__MAX_IDS) {
            st = ZM_ELIMIT;
            goto fail;
        }
        st = zm__st_vec_reserve(s->a, (void **)&s->edges, &s->cap_edges, s->nedges, 1,
                                sizeof *s->edges, _Alignof(zm__edge));
        if (st != ZM_OK) goto fail;
        if ((st = zm__st_map_reserve(&s->edge_map, s->a, 1)) != ZM_OK) goto fail;
        zm__node *fn = nf.pending.ptr ? &fresh_from : &s->nodes[nf.id];
        zm__node *tn = nt.pending.ptr ? (self ? &fresh_from : &fresh_to) : &s->nodes[nt.id];
        if ((st = list_reserve(s, fn, true)) != ZM_OK) goto fail;
        if ((st = list_reserve(s, tn, false)) != ZM_OK) goto fail;
    }

    /* Commit: nothing below can fail. */
    zm__st_intern_commit(s, &s->agents, agent_id, &agent_pending);
    node_commit(s, &nf);
    if (nf.pending.ptr != NULL) {
        zm__node *n = &s->nodes[nf.id];
        n->out = fresh_from.out, n->cap_out = fresh_from.cap_out;
        n->in = fresh_from.in, n->cap_in = fresh_from.cap_in;
    }
    if (!self) {
        node_commit(s, &nt);
        if (nt.pending.ptr != NULL) {
            zm__node *n = &s->nodes[nt.id];
            n->out = fresh_to.out, n->cap_out = fresh_to.cap_out;
            n->in = fresh_to.in, n->cap_in = fresh_to.cap_in;
        }
    }
    if (nr.pending.ptr != NULL) {
        assert(nr.id == s->nrels);
        s->rels[s->nrels++] = nr.pending;
        zm__st_map_insert(&s->rel_map, nr.hash, nr.id);
    }
    if (eid == ZM__NONE) {
        eid = (uint32_t)s->nedges++;
        zm__edge *e = &s->edges[eid];
        e->from = nf.id;
        e->to = nt.id;
        e->rel = nr.id;
        e->hash = eh;
        e->dead = false;
        e->metadata = NULL;
        zm__st_map_insert(&s->edge_map, eh, eid);
        zm__node *fn = &s->nodes[nf.id];
        fn->out[fn->nout++] = eid;
        zm__node *tn = &s->nodes[nt.id];
        tn->in[tn->nin++] = eid;
        s->live_edges++;
        *created = true;
    } else if (revive) {
        zm__node *fn = &s->nodes[nf.id];
        fn->out[fn->nout++] = eid;
        zm__node *tn = &s->nodes[nt.id];
        tn->in[tn->nin++] = eid;
        s->edges[eid].dead = false;
        s->live_edges++;
        *created = true;
    } else {
        *created = false;
    }
    zm__edge *e = &s->edges[eid];
    zm__st_release(s, e->metadata); /* the metadata it replaces */
    e->agent = agent_id;
    e->metadata = meta;
    e->timestamp = ts_ms;
    return ZM_OK;

fail:
    zm__st_release(s, meta);
    zm_free_array(s->a, fresh_from.out, fresh_from.cap_out);
    zm_free_array(s->a, fresh_from.in, fresh_from.cap_in);
    zm_free_array(s->a, fresh_to.out, fresh_to.cap_out);
    zm_free_array(s->a, fresh_to.in, fresh_to.cap_in);
    zm_arena_restore(&s->data, mark);
    return st;
}

void zm__st_graph_free(zm__mem *s) {
    zm_allocator a = s->a;
    for (size_t i = 0; i < s->nnodes; i++) {
        zm_free_array(a, s->nodes[i].out, s->nodes[i].cap_out);
        zm_free_array(a, s->nodes[i].in, s->nodes[i].cap_in);
    }
    zm_free_array(a, s->nodes, s->cap_nodes);
    zm__st_map_free(&s->node_map, a);
    zm_free_array(a, s->rels, s->cap_rels);
    zm__st_map_free(&s->rel_map, a);
    zm_free_array(a, s->edges, s->cap_edges);
    zm__st_map_free(&s->edge_map, a);
}

/* ---------------------------------------------------------------------------
 * Walks
 * ------------------------------------------------------------------------- */

zm_status zm__mem_neighbors(zm_store *base, const zm_store_walk *w, zm_allocator a,
                            zm_store_hit **hits, size_t *count, bool *truncated) {
    zm__mem *s = (zm__mem *)base;
    const char *node = w->node, *relation = w->relation;
    size_t node_len = w->node_len, relation_len = w->relation_len, limit = w->limit;
    zm_store_direction dir = w->dir;
    uint32_t max_depth = w->max_depth;
    *hits = NULL;
    *count = 0;
    *truncated = false;
    uint32_t start =
        zm__st_map_find_str(&s->node_map, s->nodes, sizeof *s->nodes, node_len ? node : "",
                            node_len, zm__st_hash(s, node_len ? node : "", node_len));
    if (start == ZM__NONE) return ZM_OK;
    uint32_t rel = ZM__NONE;
    if (relation != NULL) {
        rel = zm__st_map_find_str(&s->rel_map, s->rels, sizeof *s->rels, relation, relation_len,
                                  zm__st_hash(s, relation, relation_len));
        if (rel == ZM__NONE) return ZM_OK; /* no edge has it */
    }
    if (limit == 0) {
        /* Nothing is reported: truncated says whether a neighbour exists. */
        const zm__node *n = &s->nodes[start];
        for (int pass = 0; pass < 2 && !*truncated; pass++) {
            bool outgoing = pass == 0;
            if (!(dir & (outgoing ? ZM_STORE_OUT : ZM_STORE_IN))) continue;
            const uint32_t *list = outgoing ? n->out : n->in;
            size_t len = outgoing ? n->nout : n->nin;
            for (size_t i = 0; i < len && !*truncated; i++) {
                const zm__edge *e = &s->edges[list[i]];
                uint32_t other = outgoing ? e->to : e->from;
                if ((rel == ZM__NONE || e->rel == rel) && other != start) *truncated = true;
            }
        }
        return ZM_OK;
    }

    /* Each reported node is queued once, so the queue is the hit list (plus
       the start node, which is not reported). At most limit hits, and never
       more than the graph has nodes. */
    size_t cap = limit < s->nnodes ? limit : s->nnodes;
    zm_store_hit *out = zm_alloc_array(a, zm_store_hit, cap);
    uint32_t *queue = zm_alloc_array(a, uint32_t, cap + 1);
    if (out == NULL || queue == NULL) {
        zm_free_array(a, queue, cap + 1);
        zm_free_array(a, out, cap);
        return ZM_ENOMEM;
    }
    /* Visits are marked with a stamp per walk: no visited set to allocate. */
    if (++s->walk_stamp == 0) {
        for (size_t i = 0; i < s->nnodes; i++) s->nodes[i].stamp = 0;
        s->walk_stamp = 1;
    }
    uint32_t stamp = s->walk_stamp;
    s->nodes[start].stamp = stamp;
    queue[0] = start;
    size_t head = 0, tail = 1, n = 0;
    while (head < tail && !*truncated) {
        uint32_t cur = queue[head];
        uint32_t depth = head == 0 ? 0 : out[head - 1].depth;
        head++;
        if (depth >= max_depth) break; /* BFS: every later node is as deep */
        const zm__node *cn = &s->nodes[cur];
        for (int pass = 0; pass < 2 && !*truncated; pass++) {
            bool outgoing = pass == 0;
            if (!(dir & (outgoing ? ZM_STORE_OUT : ZM_STORE_IN))) continue;
            const uint32_t *list = outgoing ? cn->out : cn->in;
            size_t len = outgoing ? cn->nout : cn->nin;
            for (size_t i = 0; i < len; i++) {
                const zm__edge *e = &s->edges[list[i]];
                if (rel != ZM__NONE && e->rel != rel) continue;
                uint32_t other = outgoing ? e->to : e->from;
                zm__node *on = &s->nodes[other];
                if (on->stamp == stamp) continue;
                if (n == limit) {
                    *truncated = true;
                    break;
                }
                on->stamp = stamp;
                zm_store_hit *h = &out[n++];
                h->node = on->key.ptr;
                h->node_len = on->key.len;
                h->depth = depth + 1;
                h->outgoing = outgoing;
                zm__mem_edge_fill(s, e, &h->edge);
                queue[tail++] = other;
            }
        }
    }
    /* Give the queue back (an arena rewinds it: it is the latest block) and
       shrink the hits to their count, so a caller with a general allocator
       frees exactly *count items. */
    zm_free_array(a, queue, cap + 1);
    if (n == 0) {
        zm_free_array(a, out, cap);
        return ZM_OK;
    }
    if (n < cap) {
        zm_store_hit *shrunk =
            zm_realloc(a, out, cap * sizeof *out, n * sizeof *out, _Alignof(zm_store_hit));
        if (shrunk == NULL) {
            zm_free_array(a, out, cap);
            *truncated = false;
            return ZM_ENOMEM;
        }
        out = shrunk;
    }
    /* Edge metadata is copied out: another thread may replace it once the
       lock is given back. */
    for (size_t i = 0; i < n; i++) {
        if (zm__st_copy_out(a, out[i].edge.metadata, &out[i].edge.metadata) == ZM_OK) continue;
        while (i-- > 0)
            if (out[i].edge.metadata != NULL) zm_json_free(a, (zm_json *)out[i].edge.metadata);
        zm_free_array(a, out, n);
        *truncated = false;
        return ZM_ENOMEM;
    }
    *hits = out;
    *count = n;
    return ZM_OK;
}

/* Removes an edge id from a node's list, keeping the order of the rest. */
static void list_remove(uint32_t *list, size_t *len, uint32_t eid) {
    for (size_t i = 0; i < *len; i++) {
        if (list[i] != eid) continue;
        memmove(&list[i], &list[i + 1], (*len - i - 1) * sizeof *list);
        (*len)--;
        return;
    }
}

zm_status zm__mem_unlink(zm_store *base, const char *from, size_t from_len, const char *to,
                         size_t to_len, const char *relation, size_t relation_len, bool *removed) {
    zm__mem *s = (zm__mem *)base;
    *removed = false;
    uint32_t f = zm__st_map_find_str(&s->node_map, s->nodes, sizeof *s->nodes, from, from_len,
                                     zm__st_hash(s, from, from_len));
    uint32_t t = zm__st_map_find_str(&s->node_map, s->nodes, sizeof *s->nodes, to, to_len,
                                     zm__st_hash(s, to, to_len));
    uint32_t r = zm__st_map_find_str(&s->rel_map, s->rels, sizeof *s->rels, relation, relation_len,
                                     zm__st_hash(s, relation, relation_len));
    if (f == ZM__NONE || t == ZM__NONE || r == ZM__NONE) return ZM_OK;
    edge_key k = {f, t, r};
    uint32_t eid = zm__st_map_find(&s->edge_map, edge_hash(s, f, t, r), edge_eq, s, &k);
    if (eid == ZM__NONE || s->edges[eid].dead) return ZM_OK;
    zm__node *fn = &s->nodes[f];
    list_remove(fn->out, &fn->nout, eid);
    zm__node *tn = &s->nodes[t];
    list_remove(tn->in, &tn->nin, eid);
    s->edges[eid].dead = true;
    zm__st_release(s, s->edges[eid].metadata);
    s->edges[eid].metadata = NULL;
    s->live_edges--;
    *removed = true;
    return ZM_OK;
}
