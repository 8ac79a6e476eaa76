/* zmem — the store: the in-memory, temporal memory of an agent.
 *
 * A store maps keys (UTF-8 strings) to every version ever written under them.
 * A version holds a JSON value, optional JSON metadata, the time it was
 * written (ms since the epoch) and the agent that wrote it. Versions are never
 * changed or deleted; reading "as of" a time gives the version that was
 * current then. Beside the keys the store keeps a graph of labelled edges
 * between named nodes, and an inverted index over keys and string content for
 * ranked search.
 *
 * Memory. Everything written is immutable, so the store keeps it in an arena
 * of its own (value trees, metadata, key bytes, agent ids, index terms, node
 * and relation names): bump allocation with no per-node headers, and one free
 * at destroy. A failed write rewinds that arena to a savepoint, so it leaves
 * nothing behind. The growing tables (hash indexes, version lists, postings,
 * edge lists) come from the allocator given at create and double as they
 * grow.
 *
 * Reading makes no call at all to the store's allocator: lookups return
 * pointers into the store, and search and neighbors build their results with
 * an allocator the caller gives (a per-call arena). Stored values are marked
 * ZM_JSON_F_SHARED: a result may point at them, and zm_json_free leaves them
 * alone. They must never be modified.
 *
 * Limits (zm_store_limits) refuse absurd single inputs with ZM_ELIMIT: an
 * overlong key, a value (with its metadata) larger than a byte budget or
 * nested too deep. Growth with the data stored is expected and not limited,
 * unless max_versions is set.
 *
 * A store is not thread-safe: guard it with a lock when several threads use
 * it. Pointers returned by reads stay valid until the store is destroyed,
 * except where a comment says "until the next write".
 */
#ifndef ZMEM_STORE_H
#define ZMEM_STORE_H

#include "zmem/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zm_store zm_store;

/* Limits of a store; zero fields take the defaults below. */
typedef struct zm_store_limits {
    size_t max_key_len;     /* bytes of a key, node name, relation or agent id */
    size_t max_value_bytes; /* bytes a value and its metadata take in the store */
    size_t max_depth;       /* nesting of a value or metadata */
    size_t max_versions;    /* versions kept per key; 0 = unlimited */
} zm_store_limits;

#define ZM_STORE_DEFAULT_MAX_KEY_LEN     1024
#define ZM_STORE_DEFAULT_MAX_VALUE_BYTES ((size_t)16 << 20)
#define ZM_STORE_DEFAULT_MAX_DEPTH       128

/* Makes an empty store whose memory comes from a. limits may be NULL (the
   defaults). Returns ZM_OK with *out the caller's (zm_store_destroy), or
   ZM_ENOMEM (*out untouched). */
zm_status zm_store_create(zm_allocator a, const zm_store_limits *limits, zm_store **out);

/* Frees the store and everything in it. Values read from it die too. NULL is
   a no-op. */
void zm_store_destroy(zm_store *s);

/* The limits in force (defaults filled in). */
void zm_store_get_limits(const zm_store *s, zm_store_limits *out);

/* ---------------------------------------------------------------------------
 * Keys and versions
 * ------------------------------------------------------------------------- */

/* One version of a key. Every pointer points into the store. */
typedef struct zm_store_version {
    uint64_t version;        /* 1 for the first version of a key, then 2, 3, ... */
    int64_t timestamp;       /* ms since the epoch */
    const zm_json *value;    /* never NULL; immutable */
    const zm_json *metadata; /* NULL when none was given; immutable */
    const char *agent;       /* the writer's id, NUL-terminated; "" when unknown */
    size_t agent_len;
} zm_store_version;

/* Writes a new version of key (key_len bytes, UTF-8, 1..max_key_len) holding
   a deep copy of value and of metadata (NULL = none) at time ts_ms, written by
   agent (agent_len bytes; NULL/0 = unknown). Version timestamps of a key never
   go backwards: a ts_ms older than the key's latest version is raised to it.
   On ZM_OK *out (may be NULL) describes the new version.
   Errors, each leaving the store exactly as it was:
   ZM_EINVAL  empty key, NULL value, invalid UTF-8 in a key, agent id or
              string, a non-finite number;
   ZM_ELIMIT  key or agent id too long, value and metadata over
              max_value_bytes or max_depth, the key at max_versions, or more
              than 2^32 - 2 keys or index terms;
   ZM_ENOMEM. */
zm_status zm_store_put(zm_store *s, const char *key, size_t key_len, const zm_json *value,
                       const zm_json *metadata, const char *agent, size_t agent_len, int64_t ts_ms,
                       zm_store_version *out);

/* Reads the version of key current at as_of_ms: the latest one whose
   timestamp is <= as_of_ms, or the latest of all when as_of_ms is negative.
   Returns ZM_OK with *out filled, or ZM_ENOTFOUND (no such key, or no version
   that early). Makes no allocation. */
zm_status zm_store_get(const zm_store *s, const char *key, size_t key_len, int64_t as_of_ms,
                       zm_store_version *out);

/* Every version of key, oldest first: *versions points at *count records
   owned by the store, valid until the next write. ZM_OK or ZM_ENOTFOUND. */
zm_status zm_store_history(const zm_store *s, const char *key, size_t key_len,
                           const zm_store_version **versions, size_t *count);

/* The number of keys. */
size_t zm_store_count(const zm_store *s);

/* The key at position i (first-write order), NUL-terminated, with its length
   in *len (may be NULL); NULL when i >= zm_store_count(s). */
const char *zm_store_key_at(const zm_store *s, size_t i, size_t *len);

/* Counters of a store. */
typedef struct zm_store_stats {
    size_t keys;        /* distinct keys */
    size_t versions;    /* versions over all keys */
    size_t terms;       /* distinct terms in the search index */
    size_t nodes;       /* graph nodes */
    size_t edges;       /* graph edges */
    size_t data_bytes;  /* bytes of the arena holding values, keys and names */
    size_t table_bytes; /* bytes of the tables (indexes, lists) */
} zm_store_stats;

/* Fills *out with the store's counters. */
void zm_store_stats_get(const zm_store *s, zm_store_stats *out);

/* ---------------------------------------------------------------------------
 * Search
 *
 * Documents are the keys; a key's content is every string inside its latest
 * value (object member names and metadata excluded).
 *
 * EXACT, PREFIX, SUBSTRING compare bytes (case-sensitive). A key that matches
 * scores 1.0; a key whose content matches (some string equals the query,
 * starts with it, or contains it) scores 0.5; both: 1.0.
 *
 * TOKEN ranks with BM25 (k1 = 1.2, b = 0.75) over an inverted index kept up
 * to date on every put. Tokens are maximal runs of ASCII letters and digits
 * and non-ASCII bytes (UTF-8 sequences kept as they are); ASCII letters are
 * lowercased; tokens longer than ZM_STORE_MAX_TOKEN bytes are cut there (at a
 * character boundary). A document's tokens are its key's and its content's.
 * For each distinct query token t found in the index:
 *   idf(t)   = ln(1 + (N - df + 0.5) / (df + 0.5))
 *   score   += idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
 * with N the number of keys, df the keys holding t, tf its count in the key,
 * dl the key's token count and avgdl the mean over all keys.
 *
 * Results are ordered by score (highest first), then by key (bytewise,
 * shorter first), so equal scores always come out in the same order.
 * ------------------------------------------------------------------------- */

typedef enum zm_search_mode {
    ZM_SEARCH_EXACT,
    ZM_SEARCH_PREFIX,
    ZM_SEARCH_SUBSTRING,
    ZM_SEARCH_TOKEN,
} zm_search_mode;

#define ZM_STORE_MAX_TOKEN 64
#define ZM_STORE_SNIPPET   120 /* bytes of a snippet, at most (cut at character boundaries) */

typedef struct zm_search_hit {
    const char *key; /* into the store */
    size_t key_len;
    double score;
    uint64_t version;    /* the latest version, the one searched */
    const char *snippet; /* part of the string that matched; NULL when only the key did */
    size_t snippet_len;  /* snippet is NOT NUL-terminated; it points into the store */
} zm_search_hit;

/* Searches for query (query_len bytes) and returns the best limit hits in
   order in *hits, an array of exactly *count items allocated from a (NULL
   when *count is 0; give it back with zm_free_array(a, *hits, *count), or
   hand a per-call arena and let it die), with *total the number of keys that
   matched. Makes no call to the store's allocator. ZM_OK, ZM_EINVAL (bad
   mode), ZM_ENOMEM (nothing left allocated). */
zm_status zm_store_search(const zm_store *s, const char *query, size_t query_len,
                          zm_search_mode mode, size_t limit, zm_allocator a, zm_search_hit **hits,
                          size_t *count, size_t *total);

/* ---------------------------------------------------------------------------
 * The graph
 *
 * Nodes are names (UTF-8, 1..max_key_len bytes; they need not be keys of the
 * store). An edge goes from one node to another with a relation name; there
 * is at most one edge per (from, to, relation): linking again replaces its
 * metadata, timestamp and agent.
 * ------------------------------------------------------------------------- */

typedef struct zm_store_edge {
    const char *from, *to, *relation; /* NUL-terminated, into the store */
    size_t from_len, to_len, relation_len;
    const zm_json *metadata; /* NULL when none */
    int64_t timestamp;
    const char *agent;
    size_t agent_len;
} zm_store_edge;

/* Adds the edge from -> to labelled relation, with a copy of metadata (NULL =
   none), or updates it when it exists. *created (may be NULL) says which.
   Errors leave the store as it was: ZM_EINVAL (empty or invalid UTF-8 name),
   ZM_ELIMIT (a name too long, metadata too large, more than 2^32 - 2 nodes
   or edges), ZM_ENOMEM. */
zm_status zm_store_link(zm_store *s, const char *from, size_t from_len, const char *to,
                        size_t to_len, const char *relation, size_t relation_len,
                        const zm_json *metadata, const char *agent, size_t agent_len, int64_t ts_ms,
                        bool *created);

typedef enum zm_store_direction {
    ZM_STORE_OUT = 1, /* follow edges from the node */
    ZM_STORE_IN = 2,  /* follow edges to the node */
    ZM_STORE_BOTH = 3,
} zm_store_direction;

#define ZM_STORE_MAX_WALK_DEPTH 8

typedef struct zm_store_hit {
    const char *node; /* NUL-terminated, into the store */
    size_t node_len;
    uint32_t depth;     /* 1 for a direct neighbour */
    bool outgoing;      /* reached along the edge's direction (from -> to) */
    zm_store_edge edge; /* the edge that reached it */
} zm_store_hit;

/* Walks the graph breadth-first from node, following edges in direction dir
   whose relation is relation (NULL = any), down to max_depth (1..
   ZM_STORE_MAX_WALK_DEPTH), visiting each node once (the start node is not
   reported). Nodes are reported in the order reached: by depth, then edge
   insertion order, outgoing edges before incoming ones. At most limit hits
   are returned in *hits (exactly *count items from a, as zm_store_search);
   *truncated says when more were reachable. An unknown node has no
   neighbours (ZM_OK, *count 0). Pointers in the hits point into the store.
   Makes no call to the store's allocator (visits are marked in the nodes
   themselves, which is why s is not const). ZM_OK, ZM_EINVAL (bad direction
   or depth), ZM_ENOMEM (nothing left allocated). */
zm_status zm_store_neighbors(zm_store *s, const char *node, size_t node_len, const char *relation,
                             size_t relation_len, zm_store_direction dir, uint32_t max_depth,
                             size_t limit, zm_allocator a, zm_store_hit **hits, size_t *count,
                             bool *truncated);

/* ---------------------------------------------------------------------------
 * The built-in primitives (store, retrieve, search, link, neighbors,
 * transform) over s. s must outlive the registry's use.
 * ------------------------------------------------------------------------- */

typedef struct zm_prim_registry zm_prim_registry;

/* Registers the built-in primitives on reg, with s as their store.
   ZM_OK, ZM_EEXIST (a name is taken: the ones before it stay registered),
   ZM_ENOMEM, ZM_EINVAL (a schema the runtime refused: a bug). */
zm_status zm_prim_register_builtins(zm_prim_registry *reg, zm_store *s);

#ifdef __cplusplus
}
#endif
#endif
