/* The SQLite backend's graph: nodes (zmem_nodes, names interned once),
   labelled edges (zmem_edges, their ids in insertion order), and the
   breadth-first walk, which asks the database for one node's edges at a
   time and keeps its visited set here. */
#include "sqlite_internal.h"

/* ---------------------------------------------------------------------------
 * Nodes and edges
 * ------------------------------------------------------------------------- */

/* Looks name up: *id its node id, or 0 when it has none. */
static zm_status node_find(zm__sq *s, const char *name, size_t len, int64_t *id) {
    sqlite3_stmt *q;
    *id = 0;
    zm_status st = zm__sq_stmt(s, ZM__SQ_NODE_FIND, &q);
    if (st != ZM_OK) return st;
    int rc = zm__sq_bind_bytes(q, 1, name, len);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? ZM_OK : zm__sq_fail(s, rc, "looking up a node");
}

/* The id of node name, added when missing (inside a write). */
static zm_status node_intern(zm__sq *s, const char *name, size_t len, int64_t *id) {
    zm_status st = node_find(s, name, len, id);
    if (st != ZM_OK || *id != 0) return st;
    sqlite3_stmt *q;
    if ((st = zm__sq_stmt(s, ZM__SQ_NODE_INSERT, &q)) != ZM_OK) return st;
    int rc = zm__sq_bind_bytes(q, 1, name, len);
    st = rc == SQLITE_OK ? zm__sq_exec(s, ZM__SQ_NODE_INSERT, "adding a node")
                         : zm__sq_fail(s, rc, "adding a node");
    if (st == ZM_OK) *id = sqlite3_last_insert_rowid(s->db);
    return st;
}

/* Adds the edge or, when it exists, replaces its metadata, time and agent
   (it keeps its place in the insertion order). */
static zm_status link_in_txn(zm__sq *s, const zm_store_link_req *l, const char *meta,
                             size_t meta_len, bool *created) {
    int64_t f, t, e = 0;
    zm_status st = node_intern(s, l->from, l->from_len, &f);
    if (st == ZM_OK) st = node_intern(s, l->to, l->to_len, &t);
    if (st != ZM_OK) return st;
    sqlite3_stmt *q;
    if ((st = zm__sq_stmt(s, ZM__SQ_EDGE_FIND, &q)) != ZM_OK) return st;
    sqlite3_bind_int64(q, 1, f);
    sqlite3_bind_int64(q, 2, t);
    int rc = zm__sq_bind_bytes(q, 3, l->relation, l->relation_len);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        e = sqlite3_column_int64(q, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) return zm__sq_fail(s, rc, "looking up an edge");
    size_t agent_len = l->agent ? l->agent_len : 0;
    if (e != 0) {
        if ((st = zm__sq_stmt(s, ZM__SQ_EDGE_UPDATE, &q)) != ZM_OK) return st;
        sqlite3_bind_int64(q, 1, e);
        rc = meta ? sqlite3_bind_text(q, 2, meta, (int)meta_len, SQLITE_STATIC)
                  : sqlite3_bind_null(q, 2);
        sqlite3_bind_int64(q, 3, l->ts_ms);
        if (rc == SQLITE_OK) rc = zm__sq_bind_bytes(q, 4, l->agent, agent_len);
        st = rc == SQLITE_OK ? zm__sq_exec(s, ZM__SQ_EDGE_UPDATE, "updating an edge")
                             : zm__sq_fail(s, rc, "updating an edge");
        *created = false;
        return st;
    }
    if ((st = zm__sq_stmt(s, ZM__SQ_EDGE_INSERT, &q)) != ZM_OK) return st;
    sqlite3_bind_int64(q, 1, f);
    sqlite3_bind_int64(q, 2, t);
    rc = zm__sq_bind_bytes(q, 3, l->relation, l->relation_len);
    if (rc == SQLITE_OK)
        rc = meta ? sqlite3_bind_text(q, 4, meta, (int)meta_len, SQLITE_STATIC)
                  : sqlite3_bind_null(q, 4);
    sqlite3_bind_int64(q, 5, l->ts_ms);
    if (rc == SQLITE_OK) rc = zm__sq_bind_bytes(q, 6, l->agent, agent_len);
    st = rc == SQLITE_OK ? zm__sq_exec(s, ZM__SQ_EDGE_INSERT, "adding an edge")
                         : zm__sq_fail(s, rc, "adding an edge");
    *created = st == ZM_OK;
    return st;
}

zm_status zm__sq_link(zm_store *base, const zm_store_link_req *l, bool *created) {
    zm__sq *s = (zm__sq *)base;
    char *meta = NULL;
    size_t meta_len = 0;
    *created = false;
    if (l->metadata != NULL) {
        zm_status st = zm_json_write(s->a, l->metadata, 0, &meta, &meta_len);
        if (st == ZM_EINVAL)
            return zm_store_fail(st, "the metadata holds invalid UTF-8 or a non-finite number");
        if (st != ZM_OK) return st;
        if (meta_len > (size_t)INT32_MAX) {
            zm_free(s->a, meta, meta_len + 1, 1);
            return zm_store_fail(ZM_ELIMIT, "the metadata is too large for the database");
        }
    }
    bool c = false;
    zm_status st = zm__sq_op_begin(s);
    if (st == ZM_OK) st = zm__sq_op_end(s, link_in_txn(s, l, meta, meta_len, &c));
    if (meta != NULL) zm_free(s->a, meta, meta_len + 1, 1);
    if (st == ZM_OK) *created = c;
    return st;
}

zm_status zm__sq_unlink(zm_store *base, const char *from, size_t from_len, const char *to,
                        size_t to_len, const char *relation, size_t relation_len, bool *removed) {
    zm__sq *s = (zm__sq *)base;
    *removed = false;
    zm_status st = zm__sq_op_begin(s);
    if (st != ZM_OK) return st;
    int64_t f = 0, t = 0;
    int changes = 0;
    st = node_find(s, from, from_len, &f);
    if (st == ZM_OK && f != 0) st = node_find(s, to, to_len, &t);
    if (st == ZM_OK && f != 0 && t != 0) {
        sqlite3_stmt *q;
        if ((st = zm__sq_stmt(s, ZM__SQ_EDGE_DELETE, &q)) == ZM_OK) {
            sqlite3_bind_int64(q, 1, f);
            sqlite3_bind_int64(q, 2, t);
            int rc = zm__sq_bind_bytes(q, 3, relation, relation_len);
            st = rc == SQLITE_OK ? zm__sq_exec(s, ZM__SQ_EDGE_DELETE, "removing an edge")
                                 : zm__sq_fail(s, rc, "removing an edge");
            if (st == ZM_OK) changes = sqlite3_changes(s->db);
        }
    }
    st = zm__sq_op_end(s, st);
    if (st == ZM_OK) *removed = changes > 0;
    return st;
}

/* ---------------------------------------------------------------------------
 * Walks
 * ------------------------------------------------------------------------- */

/* A set of node ids (never 0): open addressing, capacity a power of two at
   least twice what it will hold. */
typedef struct idset {
    int64_t *slots;
    size_t cap;
} idset;

/* Adds id; false when it was there already. */
static bool idset_add(idset *set, int64_t id) {
    size_t mask = set->cap - 1;
    uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15u;
    for (size_t i = (size_t)(h >> 17) & mask;; i = (i + 1) & mask) {
        if (set->slots[i] == id) return false;
        if (set->slots[i] == 0) {
            set->slots[i] = id;
            return true;
        }
    }
}

/* The walk's working memory (from the store's allocator) and its output. */
typedef struct walk {
    zm__sq *s;
    const zm_store_walk *w;
    zm_allocator a; /* the caller's: hits and their strings */
    zm_store_hit *out;
    size_t n, cap;
    int64_t *queue; /* node ids; queue[0] the start */
    const char **names;
    size_t *name_lens;
    idset seen;
    bool truncated;
} walk;

/* Follows the edges of queue item i in one direction, adding the nodes not
   seen yet. */
static zm_status expand(walk *k, size_t i, uint32_t depth, bool outgoing) {
    zm__sq *s = k->s;
    sqlite3_stmt *q;
    zm__sq_stmt_id id = outgoing ? ZM__SQ_EDGES_OUT : ZM__SQ_EDGES_IN;
    zm_status st = zm__sq_stmt(s, id, &q);
    if (st != ZM_OK) return st;
    sqlite3_bind_int64(q, 1, k->queue[i]);
    int rc = k->w->relation != NULL ? zm__sq_bind_bytes(q, 2, k->w->relation, k->w->relation_len)
                                    : sqlite3_bind_null(q, 2);
    while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        int64_t other = sqlite3_column_int64(q, 0);
        if (!idset_add(&k->seen, other)) continue;
        if (k->n == k->w->limit) {
            k->truncated = true;
            break;
        }
        zm_store_hit *h = &k->out[k->n];
        memset(h, 0, sizeof *h);
        zm_store_edge *e = &h->edge;
        if ((st = zm__sq_col_str(s, q, 1, k->a, &h->node, &h->node_len)) != ZM_OK ||
            (st = zm__sq_col_str(s, q, 2, k->a, &e->relation, &e->relation_len)) != ZM_OK ||
            (st = zm__sq_col_json(s, q, 3, k->a, &e->metadata)) != ZM_OK ||
            (st = zm__sq_col_str(s, q, 5, k->a, &e->agent, &e->agent_len)) != ZM_OK)
            break;
        e->timestamp = sqlite3_column_int64(q, 4);
        h->depth = depth + 1;
        h->outgoing = outgoing;
        if (outgoing) {
            e->from = k->names[i], e->from_len = k->name_lens[i];
            e->to = h->node, e->to_len = h->node_len;
        } else {
            e->from = h->node, e->from_len = h->node_len;
            e->to = k->names[i], e->to_len = k->name_lens[i];
        }
        k->n++;
        k->queue[k->n] = other;
        k->names[k->n] = h->node;
        k->name_lens[k->n] = h->node_len;
    }
    sqlite3_reset(q);
    if (st == ZM_OK && rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        st = zm__sq_fail(s, rc, "walking the graph");
    return st;
}

/* Walks breadth-first from queue[0], as the header says: by depth, then
   edge insertion order, outgoing before incoming. */
static zm_status bfs(walk *k) {
    size_t head = 0;
    zm_status st = ZM_OK;
    while (head <= k->n && !k->truncated && st == ZM_OK) {
        uint32_t depth = head == 0 ? 0 : k->out[head - 1].depth;
        if (depth >= k->w->max_depth) break; /* every later node is as deep */
        if (k->w->dir & ZM_STORE_OUT) st = expand(k, head, depth, true);
        if (st == ZM_OK && !k->truncated && (k->w->dir & ZM_STORE_IN))
            st = expand(k, head, depth, false);
        head++;
    }
    return st;
}

/* Whether the start node has a neighbour other than itself the walk could
   reach (a walk with limit 0 reports only that). */
static zm_status any_edge(zm__sq *s, int64_t start, const zm_store_walk *w, bool *any) {
    sqlite3_stmt *q;
    zm_status st = zm__sq_stmt(s, ZM__SQ_EDGES_OF_NODE, &q);
    if (st != ZM_OK) return st;
    sqlite3_bind_int64(q, 1, start);
    sqlite3_bind_int(q, 2, (int)w->dir);
    int rc = w->relation != NULL ? zm__sq_bind_bytes(q, 3, w->relation, w->relation_len)
                                 : sqlite3_bind_null(q, 3);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *any = sqlite3_column_int(q, 0) != 0;
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? ZM_OK : zm__sq_fail(s, rc, "walking the graph");
}

/* The number of nodes the walk may report at most: its limit, or the nodes
   the graph has (their highest id bounds their count). */
static zm_status walk_cap(zm__sq *s, size_t limit, size_t *cap) {
    sqlite3_stmt *q;
    zm_status st = zm__sq_stmt(s, ZM__SQ_NODE_MAX, &q);
    if (st != ZM_OK) return st;
    int rc = sqlite3_step(q);
    int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    if (rc != SQLITE_ROW) return zm__sq_fail(s, rc, "walking the graph");
    *cap = (uint64_t)n < limit ? (size_t)n : limit;
    return ZM_OK;
}

zm_status zm__sq_neighbors(zm_store *base, const zm_store_walk *w, zm_allocator a,
                           zm_store_hit **hits, size_t *count, bool *truncated) {
    zm__sq *s = (zm__sq *)base;
    *hits = NULL;
    *count = 0;
    *truncated = false;
    zm_status st = zm__sq_read_begin(s);
    if (st != ZM_OK) return st;
    int64_t start = 0;
    walk k;
    memset(&k, 0, sizeof k);
    k.s = s;
    k.w = w;
    k.a = a;
    st = node_find(s, w->node, w->node_len, &start);
    if (st == ZM_OK && start != 0 && w->limit == 0) st = any_edge(s, start, w, truncated);
    if (st == ZM_OK && start != 0 && w->limit > 0) st = walk_cap(s, w->limit, &k.cap);
    if (st != ZM_OK || start == 0 || k.cap == 0) {
        zm__sq_read_end(s);
        return st;
    }
    size_t slots = 16;
    while (slots < 2 * (k.cap + 1)) slots *= 2;
    k.out = zm_alloc_array(a, zm_store_hit, k.cap);
    k.queue = zm_alloc_array(s->a, int64_t, k.cap + 1);
    k.names = zm_alloc_array(s->a, const char *, k.cap + 1);
    k.name_lens = zm_alloc_array(s->a, size_t, k.cap + 1);
    k.seen.slots = zm_alloc_array(s->a, int64_t, slots);
    k.seen.cap = slots;
    char *start_name = zm__sq_strdup(a, w->node, w->node_len);
    if (k.out == NULL || k.queue == NULL || k.names == NULL || k.name_lens == NULL ||
        k.seen.slots == NULL || start_name == NULL) {
        st = ZM_ENOMEM;
    } else {
        memset(k.seen.slots, 0, slots * sizeof *k.seen.slots);
        k.queue[0] = start;
        k.names[0] = start_name;
        k.name_lens[0] = w->node_len;
        idset_add(&k.seen, start);
        st = bfs(&k);
    }
    zm__sq_read_end(s);
    zm_free_array(s->a, k.seen.slots, slots);
    zm_free_array(s->a, k.name_lens, k.cap + 1);
    zm_free_array(s->a, k.names, k.cap + 1);
    zm_free_array(s->a, k.queue, k.cap + 1);
    if (st != ZM_OK) return st;
    *hits = k.n ? k.out : NULL;
    *count = k.n;
    *truncated = k.truncated;
    return ZM_OK;
}
