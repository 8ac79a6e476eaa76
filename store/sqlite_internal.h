/* The SQLite backend's private header: the store struct, its statement
   cache, and the helpers its files share. Never leaves store/. */
#ifndef ZMEM_STORE_SQLITE_INTERNAL_H
#define ZMEM_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>
#include <string.h>

#include "internal.h"

/* zm__store_next_token with its parts in separate out-parameters. */
static inline bool zm__sq_token(const char *text, size_t len, size_t *pos, size_t *start,
                                size_t *tlen, char *buf, size_t *norm_len) {
    zm__tok t;
    if (!zm__store_next_token(text, len, pos, &t, buf)) return false;
    *start = t.start;
    *tlen = t.len;
    *norm_len = t.norm_len;
    return true;
}

/* The schema this build writes and reads (PRAGMA user_version). */
#define ZM__SQ_SCHEMA 4
/* PRAGMA application_id of a zmem database: "zmem" in ASCII. */
#define ZM__SQ_APP_ID 0x7A6D656D

/* The statements the store prepares once (on first use) and keeps. */
typedef enum zm__sq_stmt_id {
    ZM__SQ_BEGIN_IMMEDIATE,
    ZM__SQ_BEGIN_READ,
    ZM__SQ_COMMIT,
    ZM__SQ_ROLLBACK,
    ZM__SQ_SAVEPOINT,
    ZM__SQ_RELEASE,
    ZM__SQ_ROLLBACK_TO,
    /* keys and versions */
    ZM__SQ_KEY_FIND,
    ZM__SQ_KEY_INSERT,
    ZM__SQ_KEY_UPDATE,
    ZM__SQ_KEY_DELETE,
    ZM__SQ_VER_INSERT,
    ZM__SQ_VER_TRIM,
    ZM__SQ_VER_PURGE,
    ZM__SQ_STR_INSERT,
    ZM__SQ_STR_OF_KEY,
    ZM__SQ_STR_DELETE,
    ZM__SQ_STR_UPDATE,
    ZM__SQ_STR_TRIM,
    ZM__SQ_FTS_DELETE,
    ZM__SQ_FTS_TEXT,
    ZM__SQ_FTS_INSERT,
    ZM__SQ_FTS_MAX,
    ZM__SQ_FTS_OPTIMIZE,
    ZM__SQ_PENDING_ADD,
    ZM__SQ_PENDING_ANY,
    ZM__SQ_PENDING_LIST,
    ZM__SQ_PENDING_DEL,
    ZM__SQ_PENDING_CLEAR,
    ZM__SQ_MARK_SET,
    ZM__SQ_MARK_LOWER,
    ZM__SQ_GET_LATEST,
    ZM__SQ_GET_AS_OF,
    ZM__SQ_HISTORY_COUNT,
    ZM__SQ_HISTORY,
    /* search */
    ZM__SQ_EXACT_COUNT,
    ZM__SQ_EXACT,
    ZM__SQ_PREFIX_COUNT,
    ZM__SQ_PREFIX,
    ZM__SQ_SUBSTR_COUNT,
    ZM__SQ_SUBSTR,
    ZM__SQ_TOKEN_COUNT,
    ZM__SQ_TOKEN,
    /* graph */
    ZM__SQ_NODE_FIND,
    ZM__SQ_NODE_INSERT,
    ZM__SQ_NODE_MAX,
    ZM__SQ_EDGE_FIND,
    ZM__SQ_EDGE_INSERT,
    ZM__SQ_EDGE_UPDATE,
    ZM__SQ_EDGE_DELETE,
    ZM__SQ_EDGES_OUT,
    ZM__SQ_EDGES_IN,
    ZM__SQ_EDGES_OF_NODE,
    /* counters */
    ZM__SQ_STATS,
    ZM__SQ_CHECKPOINT,
    ZM__SQ_STMT_COUNT
} zm__sq_stmt_id;

/* An SQLite store. */
typedef struct zm__sq {
    zm_store base; /* first: the interface's header */
    sqlite3 *db;
    zm_allocator a; /* zmem's own memory: opts->alloc */
    char *path;     /* as given, NUL-terminated, from a */
    size_t path_len;
    int busy_ms;
    bool in_txn;        /* between begin and commit/rollback */
    bool txn_lost;      /* SQLite rolled the transaction back after an error */
    bool purge_pending; /* a purge in the open transaction: checkpoint at commit */
    bool read_only;
    bool sync_full; /* opened with ZM_STORE_SYNC_FULL */
    /* An SQLite failure inside SQLite (out of memory, I/O, corruption) may
       have left the connection's in-memory state wrong: FTS5 (SQLite 3.40)
       keeps totals it failed to load as if they were loaded, and a later
       write would store them. The connection is replaced by a new one before
       the next operation outside a transaction (zm__sq_ready). */
    bool suspect;
    /* A write inside a transaction opened without a savepoint of its own
       (zm__sq_op_begin_bare), and whether it has written yet. */
    bool op_bare;
    bool op_wrote;
    /* Held reads (zm_store_opts.hold_reads): between calls, the read
       transaction of the last read stays open while the wal-index header
       shows no commit since it began (held_hdr, read before it began). */
    bool hold;       /* asked for */
    bool held;       /* a held read transaction is open */
    bool pinned;     /* a read of several statements is running in it */
    bool file_known; /* main_file was looked up for this connection */
    sqlite3_file *main_file;
    uint64_t held_hdr[6];
    unsigned txn_queued; /* writes that queued a key in the open transaction */
    unsigned queued;     /* keys this connection queued since it last brought search up to date */
    sqlite3_stmt *stmts[ZM__SQ_STMT_COUNT];
} zm__sq;

/* The name of the VFS the backend opens files through (sqlite_vfs.c). */
#define ZM__SQ_VFS "zmem-unix"

/* Registers that VFS once per process (initializing SQLite). SQLITE_OK with
   *name its name, or NULL when the unix VFS is not there to build it on (the
   default VFS then serves); else SQLite's failure (SQLITE_NOMEM). */
int zm__sq_vfs(const char **name);

/* The main database file of db when it is open through that VFS, else
   NULL: the same for as long as db is open. */
sqlite3_file *zm__sq_main_file(sqlite3 *db);

/* Copies the first copy of the shared wal-index header of the database file
   f (from zm__sq_main_file; 48 bytes: among them a counter every commit
   changes, the log's last frame and its salts) into out. False when f is
   NULL or its wal-index is not mapped yet. */
bool zm__sq_wal_header(sqlite3_file *f, uint64_t out[6]);

/* Gives the small blocks SQLite freed and sqlite_alloc.c kept for reuse
   back to the allocator of zm_sqlite_use_allocator (at every store open and
   close). */
void zm__sq_alloc_flush(void);

/* Turns that keeping on (the default) or off (flushing what is kept): the
   every-failure sweep turns it off so that every SQLite allocation on a path
   is one that can fail. */
void zm__sq_alloc_keep(bool on);

/* Maps an SQLite result code to a zm_status and sets the thread's store
   message: "what: SQLite's message (the path)". */
zm_status zm__sq_fail(zm__sq *s, int rc, const char *what);

/* The cached statement id, prepared on first use. ZM_OK with *out set, or
   the failure (ZM_ENOMEM, ...). The statement is reset and ready for new
   bindings. */
zm_status zm__sq_stmt(zm__sq *s, zm__sq_stmt_id id, sqlite3_stmt **out);

/* Runs a cached statement that returns no row (or whose rows are not wanted)
   to its end and resets it. */
zm_status zm__sq_exec(zm__sq *s, zm__sq_stmt_id id, const char *what);

/* Binds len bytes at p as a BLOB (a zero-length one when len is 0). */
int zm__sq_bind_bytes(sqlite3_stmt *q, int i, const void *p, size_t len);

/* Replaces a suspect connection (see zm__sq.suspect) by a new one when no
   transaction is open; ZM_OK when there is nothing to do. On failure the
   store keeps the old connection, still suspect, and the next operation
   tries again. */
zm_status zm__sq_ready(zm__sq *s);

/* Opens what one mutation runs in: BEGIN IMMEDIATE outside a transaction, a
   SAVEPOINT inside one. */
zm_status zm__sq_op_begin(zm__sq *s);

/* zm__sq_op_begin for a write that marks its first change (op_wrote) and,
   inside a transaction, fails after it only where SQLite fails (which ends
   the transaction anyway: see zm__sq.suspect): no savepoint is opened (a
   savepoint and its release cost about as much as the write's key row).
   Should such a write fail after its first change all the same, the whole
   transaction is rolled back (its commit then says so); one that fails
   before changing anything leaves the transaction as it was. */
zm_status zm__sq_op_begin_bare(zm__sq *s);

/* Ends what zm__sq_op_begin opened: commits (releases) when st is ZM_OK, else
   rolls back (to the savepoint). Returns st, or the commit's failure. */
zm_status zm__sq_op_end(zm__sq *s, zm_status st);

/* Opens a read snapshot for a read of several statements (outside a
   transaction); zm__sq_read_end closes it. */
zm_status zm__sq_read_begin(zm__sq *s);
void zm__sq_read_end(zm__sq *s);

/* Before a call that reads, outside a transaction, with hold_reads: keeps
   the held read transaction when no commit was published since it began,
   else ends it and begins another (see sqlite_txn.c). ZM_OK, or the BEGIN's
   failure. */
zm_status zm__sq_hold(zm__sq *s);

/* Ends the held read transaction, if any: where a write or a transaction
   begins, and before a wait (zm_store_idle). Cannot fail. */
void zm__sq_release(zm__sq *s);

/* Search is kept up to date in bulk: a write records its key in
   zmem_pending, or adds the key with an id above zmem_index_mark (in its
   own transaction, so nothing acknowledged is ever missing), and the key's
   strings and tokens are rebuilt from its
   latest version when search next needs them: before a search, and in the
   write that finds ZM__SQ_QUEUE_MAX keys waiting (in a transaction or not:
   a transaction's keys wait like any others). Indexing costs about 40k
   instructions a key however many wait; fewer, larger passes write each
   index page once for more keys. A search after a long run of writes
   indexes up to this many keys first (about 30 ms). */
#define ZM__SQ_QUEUE_MAX 2048

/* Records key id as waiting to be indexed, inside the open write. */
zm_status zm__sq_queue(zm__sq *s, int64_t id);

/* Indexes every waiting key (of every process), inside the open write. */
zm_status zm__sq_index_pending(zm__sq *s);

/* Brings search up to date before a search: in its own write when keys
   wait (none, the common case, costs one small read). */
zm_status zm__sq_index_for_search(zm__sq *s);

/* After a purge: checkpoints the log now (truncating it), or at commit
   inside a transaction. A failure says the key is purged but the log still
   holds its bytes: purging again (which finds nothing) finishes it. */
zm_status zm__sq_after_purge(zm__sq *s);

/* Copies len bytes into a NUL-terminated string from a. NULL when out of
   memory. */
char *zm__sq_strdup(zm_allocator a, const void *p, size_t len);

/* Reads column col of q as bytes into a NUL-terminated copy from a. */
zm_status zm__sq_col_str(zm__sq *s, sqlite3_stmt *q, int col, zm_allocator a, const char **out,
                         size_t *len);

/* Parses the JSON text in column col of q into a value in a. A NULL column
   gives *out NULL. */
zm_status zm__sq_col_json(zm__sq *s, sqlite3_stmt *q, int col, zm_allocator a, const zm_json **out);

/* The value of a deletion. */
extern const zm_json zm__sq_null;

/* The vtable members, by file. sqlite_txn.c: */
zm_status zm__sq_begin(zm_store *base);
zm_status zm__sq_commit(zm_store *base);
zm_status zm__sq_rollback(zm_store *base);
/* The others: */
zm_status zm__sq_put(zm_store *base, const zm_store_write *w, zm_store_version *out);
zm_status zm__sq_forget(zm_store *base, const zm_store_write *w, bool purge, zm_store_version *out,
                        bool *existed);
/* The vtable's head: the key's latest version number from its row in
   zmem_keys, without reading the version. */
zm_status zm__sq_head(zm_store *base, const char *key, size_t key_len, uint64_t *version);
zm_status zm__sq_get(zm_store *base, const char *key, size_t key_len, int64_t as_of_ms,
                     zm_allocator a, zm_store_version *out);
zm_status zm__sq_history(zm_store *base, const char *key, size_t key_len, int64_t as_of_ms,
                         zm_allocator a, zm_store_version **out, size_t *count);
zm_status zm__sq_export_open(zm_store *base, zm_allocator a, zm_store_cursor **out);
zm_status zm__sq_cursor_next(zm_store_cursor *c, zm_store_record *out, bool *done);
void zm__sq_cursor_close(zm_store_cursor *c);
zm_status zm__sq_search_skip(zm_store *base, const char *query, size_t query_len,
                             zm_search_mode mode, size_t limit, const char *skip, size_t skip_len,
                             zm_allocator a, zm_search_hit **hits, size_t *count, size_t *total);
zm_status zm__sq_search(zm_store *base, const char *query, size_t query_len, zm_search_mode mode,
                        size_t limit, zm_allocator a, zm_search_hit **hits, size_t *count,
                        size_t *total);
zm_status zm__sq_link(zm_store *base, const zm_store_link_req *l, bool *created);
zm_status zm__sq_unlink(zm_store *base, const char *from, size_t from_len, const char *to,
                        size_t to_len, const char *relation, size_t relation_len, bool *removed);
zm_status zm__sq_neighbors(zm_store *base, const zm_store_walk *w, zm_allocator a,
                           zm_store_hit **hits, size_t *count, bool *truncated);

#endif
