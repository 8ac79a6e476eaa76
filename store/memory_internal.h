/* The memory backend's internals, shared by memory*.c. Never included
   outside store/. */
#ifndef ZMEM_STORE_MEMORY_INTERNAL_H
#define ZMEM_STORE_MEMORY_INTERNAL_H

#include <assert.h>

#include "internal.h"

/* ---------------------------------------------------------------------------
 * Building blocks: byte strings, a hash index of ids, growable arrays
 * ------------------------------------------------------------------------- */

/* A byte string; in the store, NUL-terminated in the data arena. */
typedef struct zm__str {
    const char *ptr;
    size_t len;
} zm__str;

typedef struct zm__mem zm__mem;

/* Hashes len bytes with the store's seed (chosen at random per store, so
   nobody can choose keys that collide). */
uint32_t zm__st_hash(const zm__mem *s, const char *p, size_t len);

/* An open-addressing hash index of record ids. Each slot holds a hash and an
   id + 1 (0 = empty); equality is decided by the caller's records. */
typedef struct zm__map {
    uint64_t *slots;
    uint32_t cap; /* a power of two, or 0 */
    uint32_t len;
    size_t probes; /* slots looked at by finds (a statistic; finds hold the store's lock) */
} zm__map;

#define ZM__NONE UINT32_MAX
/* The most records of one kind: ids are uint32 and ZM__NONE is reserved. */
#define ZM__MAX_IDS (UINT32_MAX - 1u)

typedef bool (*zm__map_eq)(const void *ctx, uint32_t id, const void *key);

/* Finds the id whose hash is hash and for which eq(ctx, id, key) holds, or
   ZM__NONE. */
uint32_t zm__st_map_find(const zm__map *m, uint32_t hash, zm__map_eq eq, const void *ctx,
                         const void *key);

/* Makes room for more inserts without growing. ZM_OK or ZM_ENOMEM (the map
   is unchanged). */
zm_status zm__st_map_reserve(zm__map *m, zm_allocator a, size_t more);

/* Inserts id under hash; room must have been reserved. Cannot fail. */
void zm__st_map_insert(zm__map *m, uint32_t hash, uint32_t id);

void zm__st_map_free(zm__map *m, zm_allocator a);

/* Finds a record whose first member is a zm__str equal to (p, len) among
   records of stride bytes at base. */
uint32_t zm__st_map_find_str(const zm__map *m, const void *base, size_t stride, const char *p,
                             size_t len, uint32_t hash);

/* Makes room in a growable array (*items, *cap elements of elem bytes) for
   len + more elements. ZM_OK or ZM_ENOMEM (unchanged). */
zm_status zm__st_vec_reserve(zm_allocator a, void **items, size_t *cap, size_t len, size_t more,
                             size_t elem, size_t align);

/* ---------------------------------------------------------------------------
 * The records
 * ------------------------------------------------------------------------- */

typedef struct zm__entry { /* a key: one document of the search index */
    zm__str key;
    uint32_t hash;
    uint32_t doc_len;           /* tokens of the key and of its latest value */
    zm_store_version *versions; /* the versions kept, oldest first */
    size_t nversions, cap;
    uint64_t next_version; /* after a purge: the next version's number (1) */
} zm__entry;

typedef struct zm__posting {
    uint32_t doc; /* entry id; postings are sorted by it */
    uint32_t tf;
} zm__posting;

typedef struct zm__term {
    zm__str key;
    zm__posting *post;
    size_t len, cap;
} zm__term;

typedef struct zm__node {
    zm__str key;
    uint32_t *out, *in; /* edge ids, in insertion order */
    size_t nout, cap_out, nin, cap_in;
    uint32_t stamp; /* the walk that last visited it */
} zm__node;

typedef struct zm__edge {
    uint32_t from, to, rel; /* node, node, relation ids */
    uint32_t agent;         /* agent id */
    uint32_t hash;
    bool dead; /* unlinked: in the map, in no node's list */
    const zm_json *metadata;
    int64_t timestamp;
} zm__edge;

/* A table of interned names: a million versions by one agent hold its id
   once. Id 0 is always "". */
typedef struct zm__intern {
    zm__str *items;
    size_t n, cap;
    zm__map map;
} zm__intern;

struct zm__mem {
    zm_store base; /* first: a zm_store * is a zm__mem * */
    zm_allocator a;
    zm_store_limits lim;
    uint64_t seed;
    zm_arena data;      /* names that live until close: keys, agents, nodes, relations;
                           rewound on failure */
    zm_json_pool *pool; /* stored values and metadata: given back when dropped or purged */
    zm_arena scratch;   /* temporaries of one write; reset after it */

    zm__entry *entries;
    size_t nentries, cap_entries;
    zm__map entry_map;
    size_t nversions;
    size_t live_keys; /* keys whose latest version is not a deletion */

    zm__intern agents;   /* interned agent ids; 0 is "" */
    zm__intern sessions; /* interned session ids; 0 is "" */

    zm__term *terms;
    size_t nterms, cap_terms;
    zm__map term_map;
    uint64_t total_tokens; /* sum of doc_len */

    zm__node *nodes;
    size_t nnodes, cap_nodes;
    zm__map node_map;
    zm__str *rels;
    size_t nrels, cap_rels;
    zm__map rel_map;
    zm__edge *edges;
    size_t nedges, cap_edges;
    size_t live_edges;
    zm__map edge_map;
    uint32_t walk_stamp;
};

/* ---------------------------------------------------------------------------
 * Shared helpers
 * ------------------------------------------------------------------------- */

/* A term of a document and its count. */
typedef struct zm__tf {
    const char *ptr; /* normalised bytes */
    uint32_t len;
    uint32_t tf;
} zm__tf;

/* Tokenizes a document (key, plus the strings of value when value is not
   NULL) into its distinct terms sorted bytewise, with counts, in memory from
   ar. *ntokens is the token count (dl). ZM_OK or ZM_ENOMEM. */
zm_status zm__st_doc_terms(zm_arena *ar, const char *key, size_t key_len, const zm_json *value,
                           zm__tf **terms, size_t *nterms, uint32_t *ntokens);

/* Tokenizes a query into its distinct terms (as zm__st_doc_terms). */
zm_status zm__st_query_terms(zm_arena *ar, const char *q, size_t len, zm__tf **terms,
                             size_t *nterms);

/* Compares two byte strings: bytewise, a proper prefix first. */
int zm__st_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Whether entry e exists for readers: it has versions and the latest is not
   a deletion. */
static inline bool zm__mem_live(const zm__entry *e) {
    return e->nversions > 0 && !e->versions[e->nversions - 1].deleted;
}

/* Describes edge e for a reader (pointers into the store). */
void zm__mem_edge_fill(const zm__mem *s, const zm__edge *e, zm_store_edge *out);

/* The vtable members defined outside memory.c. */
zm_status zm__mem_search_skip(zm_store *base, const char *query, size_t query_len,
                              zm_search_mode mode, size_t limit, const char *skip, size_t skip_len,
                              zm_allocator a, zm_search_hit **hits, size_t *count, size_t *total);
zm_status zm__mem_search(zm_store *base, const char *query, size_t query_len, zm_search_mode mode,
                         size_t limit, zm_allocator a, zm_search_hit **hits, size_t *count,
                         size_t *total);
zm_status zm__mem_link(zm_store *base, const zm_store_link_req *l, bool *created);
zm_status zm__mem_unlink(zm_store *base, const char *from, size_t from_len, const char *to,
                         size_t to_len, const char *relation, size_t relation_len, bool *removed);
zm_status zm__mem_neighbors(zm_store *base, const zm_store_walk *w, zm_allocator a,
                            zm_store_hit **hits, size_t *count, bool *truncated);

/* Clones v into the store's JSON pool. ZM_OK or ZM_ENOMEM (nothing left). */
zm_status zm__st_clone(zm__mem *s, const zm_json *v, const zm_json **out);

/* Gives a value cloned by zm__st_clone back to the pool; NULL is a no-op. */
void zm__st_release(zm__mem *s, const zm_json *v);

/* Copies a stored value into a for a reader (stored values may be freed by
   another thread's purge once the lock is given back). NULL stays NULL.
   ZM_OK or ZM_ENOMEM. */
zm_status zm__st_copy_out(zm_allocator a, const zm_json *v, const zm_json **out);

/* Interns a name in t: finds it, or prepares it (*pending set, *id the id it
   will get) copying it into the data arena and reserving room; commit with
   zm__st_intern_commit. ZM_OK, ZM_ELIMIT or ZM_ENOMEM. */
zm_status zm__st_intern_prepare(zm__mem *s, zm__intern *t, const char *p, size_t len, uint32_t *id,
                                zm__str *pending);
void zm__st_intern_commit(zm__mem *s, zm__intern *t, uint32_t id, const zm__str *pending);
void zm__st_intern_free(zm__mem *s, zm__intern *t);

/* Index maintenance for a put: prepare reserves everything (may fail, undo
   with zm__st_index_abort), commit applies it (cannot fail). old_value is
   the value the doc was indexed with, NULL when it is not in the index (a
   new key, a deleted or purged one); new_value NULL takes it out of the
   index. */
typedef struct zm__index_plan {
    zm__tf *old_terms, *new_terms;
    size_t nold, nnew;
    uint32_t *new_ids;      /* per new term: its term id (new ones numbered in order) */
    zm__posting **new_post; /* per new term not yet in the index: its postings array */
    size_t nfresh;          /* terms new to the index */
    uint32_t dl;
} zm__index_plan;

zm_status zm__st_index_prepare(zm__mem *s, uint32_t doc, const zm__str *key,
                               const zm_json *old_value, const zm_json *new_value,
                               zm__index_plan *plan);
void zm__st_index_abort(zm__mem *s, zm__index_plan *plan);
void zm__st_index_commit(zm__mem *s, uint32_t doc, zm__index_plan *plan);

/* Frees the index's tables; the graph's. */
void zm__st_index_free(zm__mem *s);
void zm__st_graph_free(zm__mem *s);

#endif
