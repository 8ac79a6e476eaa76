/* zmem — the store: the temporal memory of an agent, as an interface with
 * backends.
 *
 * A store maps keys (UTF-8 strings) to every version ever written under them.
 * A version holds a JSON value, optional JSON metadata, the time it was
 * written (ms since the epoch), the agent that wrote it and its session.
 * Reading "as of" a time gives the version that was current then. Beside the
 * keys the store keeps a graph of labelled edges between named nodes, and an
 * index over keys and string content for ranked search.
 *
 * The interface. As zm_allocator is a context and a vtable, a zm_store is a
 * small header (struct zm_store below) whose vtable a backend fills; the
 * functions of this header call through it. Backends:
 *
 *   memory   (zm_store_memory_create)  in this process, gone at close; the
 *            fastest path, for tests and ephemeral sessions.
 *   sqlite   (zm_store_sqlite_open)    one file, WAL; an acknowledged write
 *            survives a crash of the process (ZM_STORE_SYNC_FULL: a power
 *            loss too); several processes may share the file.
 *   postgres (zm_store_postgres_open)  a PostgreSQL server through libpq,
 *            shared by agents on several machines; reconnects by itself.
 *
 * zm_store_open picks one from a location string (":memory:", a path, a
 * PostgreSQL connection string).
 *
 * Rules every backend keeps (the conformance suite in tests/store/ checks
 * them against each):
 *   - per key, versions are 1, 2, 3, ... with no gap and no duplicate, even
 *     with several writers (threads or processes);
 *   - a mutation that returned ZM_OK is stored; one that failed changed
 *     nothing;
 *   - between zm_store_begin and zm_store_commit, mutations are one
 *     transaction (zm_store_rollback undoes them all), where the backend
 *     supports it (the memory backend does not: begin and commit succeed and
 *     rollback answers ZM_ENOTSUP);
 *   - reads return data in memory from the caller's allocator (a per-call
 *     arena, typically), valid until that memory is reset or freed, or the
 *     store closed, whichever comes first. A backend may instead point into
 *     its own memory where that lives as long (the memory backend's values);
 *     either way the caller never frees anything a read returned one piece
 *     at a time: give reads an arena.
 *   - forget records a deletion; forget with purge erases the key's every
 *     version and its search entries from storage.
 *
 * Errors are zm_status codes that say what to do: ZM_ENOTFOUND, ZM_EINVAL
 * and ZM_ELIMIT (the input), ZM_EBUSY (locked past the busy timeout: try
 * later), ZM_ECONFLICT, ZM_EIO (reading or writing failed; a full disk),
 * ZM_ECORRUPT (not a zmem database, damaged, or a newer schema), ZM_ENOMEM,
 * ZM_EUNAVAILABLE (a server is unreachable), ZM_ENOTSUP (a backend without
 * that operation). A message for a person is kept beside the code:
 * zm_store_errmsg() gives the calling thread's latest one.
 *
 * Threads: every function here may be called from several threads on one
 * store; each call holds the store's lock (a recursive mutex) while it runs,
 * and a transaction holds it from begin to commit or rollback, so the calls
 * of other threads wait for it.
 */
#ifndef ZMEM_STORE_H
#define ZMEM_STORE_H

#include <pthread.h>

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

/* One version of a key. Pointers are valid as the rules above say. */
typedef struct zm_store_version {
    uint64_t version;        /* 1 for the first version of a key, then 2, 3, ... */
    int64_t timestamp;       /* ms since the epoch */
    const zm_json *value;    /* never NULL (JSON null for a deletion); immutable */
    const zm_json *metadata; /* NULL when none was given; immutable */
    const char *agent;       /* the writer's id, NUL-terminated; "" when unknown */
    size_t agent_len;
    const char *session; /* the writer's session id, NUL-terminated; "" when unknown */
    size_t session_len;
    bool deleted; /* a deletion recorded by zm_store_forget */
} zm_store_version;

/* What one write says: key (key_len bytes, UTF-8, 1..max_key_len), value,
   metadata (NULL = none), the writer (agent and session ids, NULL/0 =
   unknown) and the time. version is 0 for "the next one" (every caller but
   an import); an import gives the number the version had where it was
   exported, which must be above the key's latest (else ZM_ECONFLICT): every
   backend honours it. */
typedef struct zm_store_write {
    const char *key;
    size_t key_len;
    const zm_json *value;
    const zm_json *metadata;
    const char *agent;
    size_t agent_len;
    const char *session;
    size_t session_len;
    int64_t ts_ms;
    uint64_t version; /* 0 = the next; else exactly this one (import) */
} zm_store_write;

/* Counters of a store. Fields a backend cannot count cheaply are 0. */
typedef struct zm_store_stats {
    size_t keys;        /* distinct keys */
    size_t versions;    /* versions over all keys */
    size_t terms;       /* distinct terms in the search index (memory) */
    size_t nodes;       /* graph nodes */
    size_t edges;       /* graph edges */
    size_t data_bytes;  /* bytes holding values, keys and names (memory: its arena;
                           sqlite: the database file) */
    size_t table_bytes; /* bytes of the tables (memory: indexes and lists) */
    size_t probes;      /* hash slots looked at by lookups so far (memory): a store
                           whose keys collide shows it here */
} zm_store_stats;

/* What a store holds in this process's memory (zm_store_memory_get). Cheap:
   no query runs, nothing is allocated. */
typedef struct zm_store_memory {
    bool applicable;     /* false: the backend keeps its data elsewhere (a server) and
                            holds no figure of its own here; bytes is then 0 */
    size_t bytes;        /* bytes the store holds now (memory: its arenas, tables and
                            value pool; sqlite: the connection's page cache, schema
                            and statements) */
    size_t peak_bytes;   /* the most bytes has been, when the backend knows (else 0) */
    size_t cache_bytes;  /* of bytes, a page cache (sqlite) */
    size_t engine_bytes; /* what the database engine holds in this process over all its
                            connections (sqlite3_status MEMORY_USED), 0 when none or
                            when zm_sqlite_use_allocator turned SQLite's statistics
                            off (the allocator given then counts that memory) */
    const char *what;    /* static text saying what bytes counts, for a person */
} zm_store_memory;

/* ---------------------------------------------------------------------------
 * Search
 *
 * Documents are the keys that exist (latest version not a deletion); a key's
 * content is every string inside its latest value (object member names and
 * metadata excluded).
 *
 * EXACT, PREFIX, SUBSTRING compare bytes (case-sensitive). A key that matches
 * scores 1.0; a key whose content matches (some string equals the query,
 * starts with it, or contains it) scores 0.5; both: 1.0.
 *
 * TOKEN ranks with BM25 (k1 = 1.2, b = 0.75). Tokens are maximal runs of
 * ASCII letters and digits and non-ASCII bytes (UTF-8 sequences kept as they
 * are); ASCII letters are lowercased; tokens longer than ZM_STORE_MAX_TOKEN
 * bytes are cut there (at a character boundary). A document's tokens are its
 * key's and its content's. The memory backend scores
 *   idf(t)   = ln(1 + (N - df + 0.5) / (df + 0.5))
 *   score   += idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
 * summed over the distinct query tokens; the sqlite backend ranks with FTS5's
 * bm25() over the same tokens (its idf differs slightly: scores agree in
 * which keys match and in the order of clearly different scores, not to the
 * last digit).
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
    const char *key; /* NUL-terminated */
    size_t key_len;
    double score;
    uint64_t version;    /* the latest version, the one searched */
    const char *snippet; /* part of the string that matched; NULL when only the key did */
    size_t snippet_len;  /* snippet is NOT necessarily NUL-terminated */
} zm_search_hit;

/* ---------------------------------------------------------------------------
 * The graph
 *
 * Nodes are names (UTF-8, 1..max_key_len bytes; they need not be keys of the
 * store). An edge goes from one node to another with a relation name; there
 * is at most one edge per (from, to, relation): linking again replaces its
 * metadata, timestamp and agent.
 * ------------------------------------------------------------------------- */

typedef struct zm_store_edge {
    const char *from, *to, *relation; /* NUL-terminated */
    size_t from_len, to_len, relation_len;
    const zm_json *metadata; /* NULL when none */
    int64_t timestamp;
    const char *agent;
    size_t agent_len;
} zm_store_edge;

/* What one link says. metadata NULL = none. */
typedef struct zm_store_link_req {
    const char *from, *to, *relation;
    size_t from_len, to_len, relation_len;
    const zm_json *metadata;
    const char *agent;
    size_t agent_len;
    int64_t ts_ms;
} zm_store_link_req;

typedef enum zm_store_direction {
    ZM_STORE_OUT = 1, /* follow edges from the node */
    ZM_STORE_IN = 2,  /* follow edges to the node */
    ZM_STORE_BOTH = 3,
} zm_store_direction;

#define ZM_STORE_MAX_WALK_DEPTH 8

typedef struct zm_store_hit {
    const char *node; /* NUL-terminated */
    size_t node_len;
    uint32_t depth;     /* 1 for a direct neighbour */
    bool outgoing;      /* reached along the edge's direction (from -> to) */
    zm_store_edge edge; /* the edge that reached it */
} zm_store_hit;

/* A walk: start node, relation filter (NULL = any), direction, depth
   (1..ZM_STORE_MAX_WALK_DEPTH) and the most hits wanted. */
typedef struct zm_store_walk {
    const char *node;
    size_t node_len;
    const char *relation;
    size_t relation_len;
    zm_store_direction dir;
    uint32_t max_depth;
    size_t limit;
} zm_store_walk;

/* ---------------------------------------------------------------------------
 * Cursors: one shape for long reads (export). open, next until it says done,
 * close (which cannot fail).
 * ------------------------------------------------------------------------- */

typedef struct zm_store_cursor zm_store_cursor;

/* One record of an export: a version of a key (every version of every key
   first, key by key in first-write order, oldest version first), then an
   edge (in the order they were first linked). Pointers are valid until the
   next zm_store_cursor_next on the cursor, or its close. */
typedef enum zm_store_record_kind {
    ZM_STORE_RECORD_VERSION = 0,
    ZM_STORE_RECORD_EDGE = 1,
} zm_store_record_kind;

typedef struct zm_store_record {
    zm_store_record_kind kind;
    const char *key; /* VERSION: the key and the version */
    size_t key_len;
    zm_store_version v;
    zm_store_edge edge; /* EDGE */
} zm_store_record;

/* ---------------------------------------------------------------------------
 * The backend interface
 *
 * A backend defines a struct whose first member is a struct zm_store, fills
 * the vtable, and returns a pointer to that member. The vtable may grow:
 * new members are only ever appended, `size` says how many bytes of it the
 * backend filled (sizeof at its build), and members past it, or NULL, are
 * "not supported" (the wrappers answer ZM_ENOTSUP). The wrappers below check
 * arguments that every backend would check the same way, take the store's
 * lock, and call through.
 * ------------------------------------------------------------------------- */

typedef struct zm_store_vtable {
    size_t size;      /* sizeof(zm_store_vtable) the backend was built with */
    const char *name; /* "memory", "sqlite", "postgres" */
    /* Frees the store and everything it holds. */
    void (*close)(zm_store *s);
    zm_status (*put)(zm_store *s, const zm_store_write *w, zm_store_version *out);
    zm_status (*get)(zm_store *s, const char *key, size_t key_len, int64_t as_of_ms, zm_allocator a,
                     zm_store_version *out);
    zm_status (*history)(zm_store *s, const char *key, size_t key_len, int64_t as_of_ms,
                         zm_allocator a, zm_store_version **out, size_t *count);
    zm_status (*search)(zm_store *s, const char *query, size_t query_len, zm_search_mode mode,
                        size_t limit, zm_allocator a, zm_search_hit **hits, size_t *count,
                        size_t *total);
    zm_status (*link)(zm_store *s, const zm_store_link_req *l, bool *created);
    zm_status (*unlink)(zm_store *s, const char *from, size_t from_len, const char *to,
                        size_t to_len, const char *relation, size_t relation_len, bool *removed);
    zm_status (*neighbors)(zm_store *s, const zm_store_walk *w, zm_allocator a, zm_store_hit **hits,
                           size_t *count, bool *truncated);
    zm_status (*forget)(zm_store *s, const zm_store_write *w, bool purge, zm_store_version *out,
                        bool *existed);
    zm_status (*begin)(zm_store *s);
    zm_status (*commit)(zm_store *s);
    zm_status (*rollback)(zm_store *s);
    zm_status (*stats)(zm_store *s, zm_store_stats *out);
    zm_status (*export_open)(zm_store *s, zm_allocator a, zm_store_cursor **out);
    zm_status (*cursor_next)(zm_store_cursor *c, zm_store_record *out, bool *done);
    void (*cursor_close)(zm_store_cursor *c);
    /* Optional: the number of key's latest version, without its value (see
       zm_store_head). */
    zm_status (*head)(zm_store *s, const char *key, size_t key_len, uint64_t *version);
    /* Optional: search leaving out the keys that start with skip (skip_len
       bytes, > 0); see zm_store_search_skip. */
    zm_status (*search_skip)(zm_store *s, const char *query, size_t query_len, zm_search_mode mode,
                             size_t limit, const char *skip, size_t skip_len, zm_allocator a,
                             zm_search_hit **hits, size_t *count, size_t *total);
    /* Optional: what the store holds in memory (see zm_store_memory_get). */
    zm_status (*memory)(zm_store *s, zm_store_memory *out);
    /* Optional: give back what is held between calls (see zm_store_idle). */
    void (*idle)(zm_store *s);
} zm_store_vtable;

/* The header every backend's store starts with. Filled by
   zm_store_base_init; the members are the backend's to read, nobody's to
   change after init. */
struct zm_store {
    const zm_store_vtable *vtable;
    zm_store_limits limits; /* defaults filled in */
    pthread_mutex_t lock;   /* recursive; held by every wrapper while it runs */
    unsigned txn_depth;     /* begin without commit/rollback yet */
};

/* The header of a cursor: backends put it first in theirs. */
struct zm_store_cursor {
    zm_store *store;
};

/* Initializes the header of a backend's store: vtable, limits (NULL = the
   defaults; zero fields take them), the lock. ZM_OK, or ZM_ENOMEM when the
   lock cannot be made. */
zm_status zm_store_base_init(zm_store *s, const zm_store_vtable *vt, const zm_store_limits *limits);

/* Releases what zm_store_base_init made (the lock). Backends call it from
   close. */
void zm_store_base_deinit(zm_store *s);

/* Sets the calling thread's store error message (printf-style, cut at 255
   bytes on a UTF-8 boundary) and returns st, so a backend can write
   `return zm_store_fail(ZM_EBUSY, "database is locked after %d ms", ms);`. */
zm_status zm_store_fail(zm_status st, const char *fmt, ...) ZM_PRINTF_LIKE(2, 3);

/* The message of the calling thread's latest store error, "" when the latest
   call on any store succeeded. Thread-local storage; valid until the thread's
   next store call. Never NULL. */
const char *zm_store_errmsg(void);

/* ---------------------------------------------------------------------------
 * What every store refuses. The wrappers check every write with these before
 * a backend sees it, so all backends refuse the same inputs the same way; a
 * caller can use them to say why a write was refused.
 * ------------------------------------------------------------------------- */

/* Why zm_store_check_value refused a value. */
typedef enum zm_store_why {
    ZM_STORE_WHY_NONE = 0,
    ZM_STORE_WHY_SIZE,   /* *bytes would pass max_value_bytes */
    ZM_STORE_WHY_DEPTH,  /* nested deeper than max_depth */
    ZM_STORE_WHY_UTF8,   /* a string or member name that is not UTF-8 */
    ZM_STORE_WHY_NUMBER, /* a non-finite number, or a node of no JSON type */
} zm_store_why;

/* Checks a name (a key, node, relation, agent or session id) of len bytes:
   ZM_EINVAL when empty (unless may_be_empty) or not UTF-8, ZM_ELIMIT when
   longer than lim->max_key_len, else ZM_OK. */
zm_status zm_store_check_name(const zm_store_limits *lim, const char *p, size_t len,
                              bool may_be_empty);

/* Checks a value about to be stored and adds the bytes it takes in a store to
   *bytes (a value and its metadata share one budget: pass the same counter):
   ZM_EINVAL (invalid UTF-8, a non-finite number, NULL), ZM_ELIMIT (too deep,
   or *bytes past max_value_bytes), else ZM_OK. *why (may be NULL) says which
   rule. Makes no allocation; recursion is bounded by lim->max_depth. */
zm_status zm_store_check_value(const zm_store_limits *lim, const zm_json *v, size_t *bytes,
                               zm_store_why *why);

/* ---------------------------------------------------------------------------
 * Opening and closing
 * ------------------------------------------------------------------------- */

typedef enum zm_store_sync {
    ZM_STORE_SYNC_NORMAL = 0, /* survives a crash of the process; a power loss may lose
                                 the last transactions (never corrupt the file) */
    ZM_STORE_SYNC_FULL = 1,   /* every commit reaches the disk before it returns */
} zm_store_sync;

/* Options of zm_store_open and the backends' constructors; a zeroed struct
   (or NULL) gives the defaults. */
typedef struct zm_store_opts {
    zm_allocator alloc;     /* zmem's own memory for the store; {0} = the default allocator */
    zm_store_limits limits; /* zeros = defaults */
    zm_store_sync sync;
    int busy_timeout_ms; /* wait for another writer this long, then ZM_EBUSY; 0 = 5000 */
    bool read_only;      /* open an existing database for reading only; its search answers
                            ZM_EIO while writes wait to be indexed (a search through a
                            store opened for writing indexes them) */
    bool hold_reads;     /* sqlite: keep the last read's snapshot open between calls while
                            no commit (by anyone) has been published since it began, so a
                            call of one read takes no file lock; reads still see every
                            acknowledged write. The caller must call zm_store_idle before
                            it waits (for input, say): a held snapshot stops other
                            processes' checkpoints from restarting the log */
} zm_store_opts;

#define ZM_STORE_DEFAULT_BUSY_TIMEOUT_MS 5000

/* Opens a store at location: ":memory:" (or NULL) is a new memory store; a
   location that starts with "postgresql://" or "postgres://", or holds an
   '=' (a libpq key=value string), opens the postgres backend
   (zm_store_postgres_open); anything else is the path of an SQLite database
   file, created when missing (with mode 0600). Returns ZM_OK with *out the caller's
   (zm_store_close), or an error with *out untouched and zm_store_errmsg() saying what was wrong:
   ZM_EIO (cannot open or create the file: a directory, no permission), ZM_ECORRUPT (not a zmem
   database, or a newer schema), ZM_ENOTSUP (the backend is not built in), ZM_EBUSY, ZM_ENOMEM. */
zm_status zm_store_open(const char *location, const zm_store_opts *opts, zm_store **out);

/* Makes an empty memory store whose memory comes from a. limits may be NULL
   (the defaults). ZM_OK with *out the caller's (zm_store_close), or
   ZM_ENOMEM (*out untouched). */
zm_status zm_store_memory_create(zm_allocator a, const zm_store_limits *limits, zm_store **out);

/* Opens (creating when missing) the SQLite database at path: WAL mode, the
   schema created or migrated forward. Errors as zm_store_open. SQLite's own
   memory comes from SQLite's allocator: see zm_sqlite_use_allocator. */
zm_status zm_store_sqlite_open(const char *path, const zm_store_opts *opts, zm_store **out);

/* Opens a store on a PostgreSQL server: conninfo is any libpq connection
   string, a URI ("postgresql://user@host/db", "postgres://...") or key=value
   pairs ("host=/run/postgresql dbname=zmem"). The schema is created or
   migrated forward (a newer one is ZM_ECORRUPT). opts->busy_timeout_ms is the
   server's lock_timeout; opts->sync FULL forces synchronous_commit on (else
   the server's setting holds: on by default). Errors as zm_store_open, and
   ZM_EUNAVAILABLE when the server cannot be reached, ZM_ENOTSUP when the
   database is not UTF8 or zmem was built without libpq.

   Keys and names are stored as bytes (bytea), a NUL byte included, and
   ordered bytewise; values as JSON text (a NUL inside a string escaped).
   Token search ranks with the header's BM25 computed in SQL over zmem's own
   tokens, as the memory backend scores. A lost connection
   makes the call fail with ZM_EUNAVAILABLE and the next call reconnects by
   itself; a transaction open across the loss fails as a whole (every call
   until commit or rollback answers the error, and commit stores nothing).
   A write that failed with ZM_EUNAVAILABLE after its statement was sent may
   have been stored: read it back. libpq's own memory comes from malloc:
   only zmem's allocations go through opts->alloc. */
zm_status zm_store_postgres_open(const char *conninfo, const zm_store_opts *opts, zm_store **out);

/* Routes the process's SQLite allocations through a (sqlite3_config with
   SQLITE_CONFIG_MALLOC). Process-wide: call it before anything in the
   process uses SQLite, and never while SQLite is in use; zmem never does it
   by itself, because the host program may use SQLite too. a must stay valid
   and thread-safe (the default allocator is) for as long as SQLite runs.
   It also turns SQLite's memory statistics off (SQLITE_CONFIG_MEMSTATUS:
   sqlite3_memory_used() then reads 0), which cost a global mutex on every
   allocation; count memory in a instead. Small blocks SQLite frees (up to
   512 bytes, 64 KiB in all) are kept and handed out again instead of going
   back to a at once: they are given back whenever an SQLite store opens or
   closes, and count in a as in use until then.
   ZM_OK; ZM_EBUSY (SQLite is already initialized: sqlite3_config refused);
   ZM_ENOTSUP (built without SQLite). */
zm_status zm_sqlite_use_allocator(zm_allocator a);

/* Whether the backend named name ("memory", "sqlite", "postgres") is built
   into this zmem. */
bool zm_store_backend_available(const char *name);

/* Closes s: frees the memory store and everything in it, or closes the
   database (committing nothing that was not committed: an open transaction
   is rolled back). Values read from it die too. NULL is a no-op. */
void zm_store_close(zm_store *s);

/* The backend's name ("memory", "sqlite", "postgres"). Static; never NULL. */
const char *zm_store_backend(const zm_store *s);

/* The limits in force (defaults filled in). */
void zm_store_get_limits(const zm_store *s, zm_store_limits *out);

/* ---------------------------------------------------------------------------
 * Keys and versions
 * ------------------------------------------------------------------------- */

/* Writes a new version of w->key holding a copy of w->value and w->metadata.
   Version timestamps of a key never go backwards: a ts_ms older than the
   key's latest version is raised to it. With max_versions set, the oldest
   versions past it are dropped (the version numbers go on counting). On
   ZM_OK *out (may be NULL) describes the new version; its pointers may point
   into w and are valid as long as w's memory. Errors, each leaving the store
   as it was:
   ZM_EINVAL  empty key, NULL value, invalid UTF-8 in a key, agent id or
              string, a non-finite number;
   ZM_ELIMIT  key or agent id too long, value and metadata over
              max_value_bytes or max_depth, or a count past what the backend
              can hold;
   ZM_EBUSY, ZM_EIO, ZM_ECORRUPT, ZM_ENOMEM as above. */
zm_status zm_store_put(zm_store *s, const zm_store_write *w, zm_store_version *out);

/* Reads the version of key current at as_of_ms: the latest one whose
   timestamp is <= as_of_ms, or the latest of all when as_of_ms is negative.
   Returns ZM_OK with *out filled (memory from a, or the store's), or
   ZM_ENOTFOUND (no such key, no version that early, or that version is a
   deletion: then *out is still filled, with deleted set). */
zm_status zm_store_get(zm_store *s, const char *key, size_t key_len, int64_t as_of_ms,
                       zm_allocator a, zm_store_version *out);

/* Reads the number of the latest version of key into *version, without
   reading its value: what a cache of values read from the store checks to
   know whether it is still current. ZM_OK (the latest version holds a
   value), or ZM_ENOTFOUND (no version at all, *version 0; or the latest is a
   deletion, *version its number). A backend with a head method allocates
   nothing (the memory backend: one hash lookup); one without is answered
   through zm_store_get, reading the value into a. */
zm_status zm_store_head(zm_store *s, const char *key, size_t key_len, zm_allocator a,
                        uint64_t *version);

/* The versions of key kept in the store, oldest first, up to the one current
   at as_of_ms (all when negative), deletions included: *out is an array of
   *count records from a (NULL when 0). ZM_OK or ZM_ENOTFOUND (no version at
   all, or none that early). */
zm_status zm_store_history(zm_store *s, const char *key, size_t key_len, int64_t as_of_ms,
                           zm_allocator a, zm_store_version **out, size_t *count);

/* Records the deletion of key as a new version (value null, deleted set),
   written by w's agent and session at w->ts_ms (w->value and w->metadata are
   ignored). Reading the key then answers ZM_ENOTFOUND; reading as of an
   earlier time still finds the old versions. With purge, instead erases
   every version of the key and its search entries from storage, as if it
   had never been written (the next write starts at version 1 again); on a
   database the freed pages are overwritten (secure_delete) and the log
   checkpointed. *existed (may be NULL) says whether the key had a live
   value (forget) or any version (purge); forgetting a missing or already
   deleted key changes nothing and answers ZM_OK with *existed false, unless
   w->version is set (an import): the deletion is then recorded with that
   number all the same (above the key's latest, else ZM_ECONFLICT), so a key
   whose only kept version is a deletion imports as it was exported. *out
   (may be NULL) describes the deletion (forget only). */
zm_status zm_store_forget(zm_store *s, const zm_store_write *w, bool purge, zm_store_version *out,
                          bool *existed);

/* Gives back what the store holds between calls: with hold_reads, the held
   read snapshot (sqlite). Call it before waiting for anything, for example
   before a read of input that may block. Nothing for other backends.
   Cannot fail. */
void zm_store_idle(zm_store *s);

/* Fills *out with the store's counters. */
zm_status zm_store_stats_get(zm_store *s, zm_store_stats *out);

/* Fills *out with what the store holds in this process's memory: a figure of
   the backend's own, without running a query. ZM_OK, or ZM_ENOTSUP for a
   backend that has no such figure (*out then says not applicable, with a
   reason in what). */
zm_status zm_store_memory_get(zm_store *s, zm_store_memory *out);

/* Searches for query (query_len bytes) and returns the best limit hits in
   order in *hits, an array of exactly *count items allocated from a (NULL
   when *count is 0), with *total the number of keys that matched. ZM_OK,
   ZM_EINVAL (bad mode), ZM_ENOMEM, or a backend's error. */
zm_status zm_store_search(zm_store *s, const char *query, size_t query_len, zm_search_mode mode,
                          size_t limit, zm_allocator a, zm_search_hit **hits, size_t *count,
                          size_t *total);

/* As zm_store_search, leaving out every key that starts with the skip_len
   bytes of skip, as if it were not there: it is neither a hit nor counted in
   *total, whether its key or its content matched (token search still counts
   it in the collection's statistics, N, df and the average length, so
   scores are those of zm_store_search). skip_len 0 is zm_store_search.
   ZM_ENOTSUP when the backend has no such search (its vtable has no
   search_skip); the built-in search then falls back to zm_store_search. */
zm_status zm_store_search_skip(zm_store *s, const char *query, size_t query_len,
                               zm_search_mode mode, size_t limit, const char *skip, size_t skip_len,
                               zm_allocator a, zm_search_hit **hits, size_t *count, size_t *total);

/* Adds the edge from -> to labelled relation, with a copy of metadata, or
   updates it when it exists. *created (may be NULL) says which. Errors leave
   the store as it was: ZM_EINVAL (empty or invalid UTF-8 name), ZM_ELIMIT (a
   name too long, metadata too large), ZM_ENOMEM, a backend's error. */
zm_status zm_store_link(zm_store *s, const zm_store_link_req *l, bool *created);

/* Removes the edge from -> to labelled relation. *removed (may be NULL) says
   whether it existed; a missing edge is ZM_OK with *removed false. */
zm_status zm_store_unlink(zm_store *s, const char *from, size_t from_len, const char *to,
                          size_t to_len, const char *relation, size_t relation_len, bool *removed);

/* Walks the graph breadth-first from w->node, following edges in w->dir
   whose relation is w->relation (NULL = any), down to w->max_depth,
   visiting each node once (the start node is not reported). Nodes are
   reported in the order reached: by depth, then edge insertion order,
   outgoing edges before incoming ones. At most w->limit hits are returned in
   *hits (exactly *count items from a); *truncated says when more were
   reachable. An unknown node has no neighbours (ZM_OK, *count 0). ZM_OK,
   ZM_EINVAL (bad direction or depth), ZM_ENOMEM, a backend's error. */
zm_status zm_store_neighbors(zm_store *s, const zm_store_walk *w, zm_allocator a,
                             zm_store_hit **hits, size_t *count, bool *truncated);

/* ---------------------------------------------------------------------------
 * Transactions: mutations between begin and commit are one transaction. They
 * do not nest. The thread that began holds the store's lock until commit or
 * rollback, so other threads' calls wait; its own calls go through.
 * ------------------------------------------------------------------------- */

/* Begins a transaction. ZM_OK; ZM_EINVAL (one is open already on this
   store); ZM_EBUSY or a backend's error (then no transaction is open and the
   lock is not held). */
zm_status zm_store_begin(zm_store *s);

/* Commits the transaction. On an error the transaction is rolled back:
   nothing of it is stored. ZM_EINVAL when none is open. */
zm_status zm_store_commit(zm_store *s);

/* Undoes every mutation since begin. ZM_OK, or ZM_ENOTSUP for a backend
   that cannot (memory): its mutations stay. The transaction ends either
   way. */
zm_status zm_store_rollback(zm_store *s);

/* ---------------------------------------------------------------------------
 * Export: every version of every key, key by key in first-write order,
 * oldest version first, then every edge; as records through a cursor, or as
 * JSON lines (zmem export / zmem import):
 *
 *   {"zmem_export":1}                                        the first line
 *   {"type":"version","key":K,"version":N,"timestamp":MS,"agent":A,
 *    "session":S,"value":V,"metadata":M}                    ("deleted":true
 *                                                             for a deletion)
 *   {"type":"edge","from":F,"to":T,"relation":R,"timestamp":MS,"agent":A,
 *    "metadata":M}
 *
 * Importing an export into an empty store and exporting again gives the
 * same text.
 * ------------------------------------------------------------------------- */

/* Opens a cursor over the store. The cursor's memory comes from a; the
   store's lock is held until close, so writers wait: read it through. */
zm_status zm_store_export_open(zm_store *s, zm_allocator a, zm_store_cursor **out);

/* The next record into *out, or *done true at the end. */
zm_status zm_store_cursor_next(zm_store_cursor *c, zm_store_record *out, bool *done);

/* Closes the cursor (NULL is a no-op). Cannot fail. */
void zm_store_cursor_close(zm_store_cursor *c);

/* Writes the whole of s as JSON lines (above) to sink, each line ending in
   "\n". Scratch memory comes from ar, rewound after each line. ZM_OK, or
   the first error of the store, of ar (ZM_ENOMEM) or of sink. */
zm_status zm_store_export_jsonl(zm_store *s, zm_arena *ar, zm_json_sink sink, void *sink_ctx);

/* Applies one line of an export (len bytes, without its newline; a blank
   line is skipped) to s: the header is checked, a version is written with
   its number, time, writer and deletion, an edge is linked. Scratch memory
   from ar, rewound before it returns. ZM_OK; ZM_ESYNTAX or ZM_EINVAL (not a
   line of an export: zm_store_errmsg says what is wrong), ZM_ECONFLICT (a
   version at or below the key's latest), or the store's error. */
zm_status zm_store_import_line(zm_store *s, zm_arena *ar, const char *line, size_t len);

#ifdef __cplusplus
}
#endif
#endif
