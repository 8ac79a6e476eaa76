/* The SQLite backend: opening (the file, its pragmas, the schema and its
   migrations), closing, errors, the statement cache, counters and the
   vtable. Transactions are sqlite_txn.c, writes sqlite_write.c, reads
   sqlite_read.c, search sqlite_search.c, the graph sqlite_graph.c. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "sqlite_internal.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

/* ---------------------------------------------------------------------------
 * The statements
 * ------------------------------------------------------------------------- */

/* The columns a version is read from, in the order sqlite_read.c expects. */
#define VERSION_COLS "v.version, v.ts, v.deleted, v.agent, v.session, v.value, v.metadata"

/* A ranked search: the first ?2 rows of the query ranked (columns id, key
   and km, the score) in order, with the latest version number of each key
   kept read third (from the versions' primary key, for those rows only). */
#define LATEST_OF(ranked, order)                                                                   \
    "SELECT r.id, r.key, (SELECT max(version) FROM zmem_versions WHERE key_id = r.id), r.km "      \
    "FROM (" ranked "ORDER BY " order " LIMIT ?2) r ORDER BY " order

static const char *const stmt_sql[ZM__SQ_STMT_COUNT] = {
    [ZM__SQ_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [ZM__SQ_BEGIN_READ] = "BEGIN",
    [ZM__SQ_COMMIT] = "COMMIT",
    [ZM__SQ_ROLLBACK] = "ROLLBACK",
    [ZM__SQ_SAVEPOINT] = "SAVEPOINT zmem_op",
    [ZM__SQ_RELEASE] = "RELEASE zmem_op",
    [ZM__SQ_ROLLBACK_TO] = "ROLLBACK TO zmem_op",
    /* A key's id and its latest version's number, time and whether it is a
       deletion: the key's index entry (it holds the id) and the last
       version of that id (the versions' primary key read backwards). */
    [ZM__SQ_KEY_FIND] = "SELECT k.id, v.deleted, v.version, v.ts FROM zmem_keys k "
                        "JOIN zmem_versions v ON v.key_id = k.id WHERE k.key = ?1 "
                        "ORDER BY v.version DESC LIMIT 1",
    [ZM__SQ_KEY_INSERT] = "INSERT INTO zmem_keys(key, live) VALUES(?1, ?2)",
    [ZM__SQ_KEY_UPDATE] = "UPDATE zmem_keys SET live = ?2 WHERE id = ?1",
    [ZM__SQ_KEY_DELETE] = "DELETE FROM zmem_keys WHERE id = ?1",
    [ZM__SQ_VER_INSERT] = "INSERT INTO zmem_versions(key_id, version, ts, deleted, agent, session, "
                          "value, metadata) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    /* Drops the versions of a key past the newest ?2. */
    [ZM__SQ_VER_TRIM] = "DELETE FROM zmem_versions WHERE key_id = ?1 AND version <= "
                        "(SELECT version FROM zmem_versions WHERE key_id = ?1 "
                        "ORDER BY version DESC LIMIT 1 OFFSET ?2)",
    [ZM__SQ_VER_PURGE] = "DELETE FROM zmem_versions WHERE key_id = ?1",
    [ZM__SQ_STR_INSERT] = "INSERT INTO zmem_strings(key_id, pos, s) VALUES(?1, ?2, ?3)",
    [ZM__SQ_STR_OF_KEY] = "SELECT s FROM zmem_strings WHERE key_id = ?1 ORDER BY pos",
    [ZM__SQ_STR_DELETE] = "DELETE FROM zmem_strings WHERE key_id = ?1",
    [ZM__SQ_STR_UPDATE] = "UPDATE zmem_strings SET s = ?3 WHERE key_id = ?1 AND pos = ?2",
    [ZM__SQ_STR_TRIM] = "DELETE FROM zmem_strings WHERE key_id = ?1 AND pos >= ?2",
    /* zmem_fts keeps no copy of what it indexed: deleting a row takes the
       text it indexed (?2), and its token count is in zmem_fts_docsize. */
    [ZM__SQ_FTS_DELETE] = "INSERT INTO zmem_fts(zmem_fts, rowid, t) VALUES('delete', ?1, ?2)",
    /* What a key's token row was made from: its token count (one row per
       string, or one with s NULL when none; no row: no token row). */
    [ZM__SQ_FTS_TEXT] = "SELECT d.sz, s.s FROM zmem_fts_docsize d LEFT JOIN zmem_strings s "
                        "ON s.key_id = d.id WHERE d.id = ?1 ORDER BY s.pos",
    [ZM__SQ_FTS_INSERT] = "INSERT INTO zmem_fts(rowid, t) VALUES(?1, ?2)",
    [ZM__SQ_FTS_MAX] = "SELECT rowid FROM zmem_fts ORDER BY rowid DESC LIMIT 1",
    [ZM__SQ_FTS_OPTIMIZE] = "INSERT INTO zmem_fts(zmem_fts) VALUES('optimize')",
    [ZM__SQ_PENDING_ADD] = "INSERT OR IGNORE INTO zmem_pending(key_id) VALUES(?1)",
    /* Whether a key waits: queued, or added since the last pass (an id above
       the mark; ids only grow, see zmem_index_mark). */
    [ZM__SQ_PENDING_ANY] = "SELECT EXISTS(SELECT 1 FROM zmem_pending) OR "
                           "(SELECT max(id) FROM zmem_keys) > (SELECT id FROM zmem_index_mark)",
    /* The waiting keys, with what to index: whether each is live and its
       latest value (the queue and the ids above the mark first, never a
       scan of every key). */
    [ZM__SQ_PENDING_LIST] = "SELECT w.id, k.key, k.live, (SELECT value FROM zmem_versions "
                            "WHERE key_id = k.id ORDER BY version DESC LIMIT 1) "
                            "FROM (SELECT key_id AS id FROM zmem_pending UNION ALL SELECT id FROM "
                            "zmem_keys WHERE id > (SELECT id FROM zmem_index_mark) AND id NOT IN "
                            "(SELECT key_id FROM zmem_pending)) w "
                            "CROSS JOIN zmem_keys k WHERE k.id = w.id",
    [ZM__SQ_PENDING_DEL] = "DELETE FROM zmem_pending WHERE key_id = ?1",
    [ZM__SQ_PENDING_CLEAR] = "DELETE FROM zmem_pending",
    /* After a pass: every key there is indexed. */
    [ZM__SQ_MARK_SET] =
        "UPDATE zmem_index_mark SET id = coalesce((SELECT max(id) FROM zmem_keys), 0)",
    /* After a purge: the mark never above the largest id, so the id SQLite
       gives the next new key (the largest plus one) is above it. */
    [ZM__SQ_MARK_LOWER] = "UPDATE zmem_index_mark SET id = "
                          "min(id, coalesce((SELECT max(id) FROM zmem_keys), 0))",
    /* Two seeks: the key's index entry holds its id (the rowid), and the
       last version of that id is the latest. */
    [ZM__SQ_GET_LATEST] = "SELECT " VERSION_COLS " FROM zmem_versions v WHERE v.key_id = "
                          "(SELECT id FROM zmem_keys WHERE key = ?1) "
                          "ORDER BY v.version DESC LIMIT 1",
    [ZM__SQ_GET_AS_OF] = "SELECT " VERSION_COLS " FROM zmem_versions v WHERE v.key_id = "
                         "(SELECT id FROM zmem_keys WHERE key = ?1) AND v.ts <= ?2 "
                         "ORDER BY v.version DESC LIMIT 1",
    [ZM__SQ_HISTORY_COUNT] = "SELECT count(*) FROM zmem_versions v WHERE v.key_id = "
                             "(SELECT id FROM zmem_keys WHERE key = ?1) AND (?2 < 0 OR v.ts <= ?2)",
    [ZM__SQ_HISTORY] = "SELECT " VERSION_COLS " FROM zmem_versions v WHERE v.key_id = "
                       "(SELECT id FROM zmem_keys WHERE key = ?1) AND (?2 < 0 OR v.ts <= ?2) "
                       "ORDER BY v.version",
    /* Search: candidates from the keys and from the strings of latest values;
       ?1 the query, ?2 the limit, ?3 the query followed by 0xFF (above every
       UTF-8 string that starts with the query); ?4 and ?5 the keys left out
       (those from ?4 to below ?5: a prefix and the prefix followed by 0xFF;
       both empty, none). The ranked queries read the latest version number
       of the hits they keep only (LATEST_OF, around the ranked candidates). */
    [ZM__SQ_EXACT_COUNT] = "WITH c(id) AS (SELECT id FROM zmem_keys WHERE key = ?1 UNION "
                           "SELECT key_id FROM zmem_strings WHERE s = ?1) "
                           "SELECT count(*) FROM c JOIN zmem_keys k ON k.id = c.id WHERE k.live"
                           " AND NOT (k.key >= ?4 AND k.key < ?5)",
    [ZM__SQ_EXACT] = LATEST_OF("WITH c(id) AS (SELECT id FROM zmem_keys WHERE key = ?1 UNION "
                               "SELECT key_id FROM zmem_strings WHERE s = ?1) "
                               "SELECT k.id AS id, k.key AS key, k.key = ?1 AS km FROM c "
                               "JOIN zmem_keys k ON k.id = c.id WHERE k.live "
                               "AND NOT (k.key >= ?4 AND k.key < ?5) ",
                               "km DESC, key"),
    [ZM__SQ_PREFIX_COUNT] =
        "WITH c(id) AS (SELECT id FROM zmem_keys WHERE key >= ?1 AND key < ?3 UNION "
        "SELECT key_id FROM zmem_strings WHERE s >= ?1 AND s < ?3) "
        "SELECT count(*) FROM c JOIN zmem_keys k ON k.id = c.id WHERE k.live"
        " AND NOT (k.key >= ?4 AND k.key < ?5)",
    [ZM__SQ_PREFIX] =
        LATEST_OF("WITH c(id) AS (SELECT id FROM zmem_keys WHERE key >= ?1 AND key < ?3 UNION "
                  "SELECT key_id FROM zmem_strings WHERE s >= ?1 AND s < ?3) "
                  "SELECT k.id AS id, k.key AS key, (k.key >= ?1 AND k.key < ?3) AS km FROM c "
                  "JOIN zmem_keys k ON k.id = c.id WHERE k.live"
                  " AND NOT (k.key >= ?4 AND k.key < ?5) ",
                  "km DESC, key"),
    [ZM__SQ_SUBSTR_COUNT] =
        "WITH c(id) AS (SELECT id FROM zmem_keys WHERE instr(key, ?1) > 0 UNION "
        "SELECT key_id FROM zmem_strings WHERE instr(s, ?1) > 0) "
        "SELECT count(*) FROM c JOIN zmem_keys k ON k.id = c.id WHERE k.live"
        " AND NOT (k.key >= ?4 AND k.key < ?5)",
    [ZM__SQ_SUBSTR] =
        LATEST_OF("WITH c(id) AS (SELECT id FROM zmem_keys WHERE instr(key, ?1) > 0 UNION "
                  "SELECT key_id FROM zmem_strings WHERE instr(s, ?1) > 0) "
                  "SELECT k.id AS id, k.key AS key, instr(k.key, ?1) > 0 AS km FROM c "
                  "JOIN zmem_keys k ON k.id = c.id WHERE k.live"
                  " AND NOT (k.key >= ?4 AND k.key < ?5) ",
                  "km DESC, key"),
    [ZM__SQ_TOKEN_COUNT] = "SELECT count(*) FROM zmem_fts f JOIN zmem_keys k ON k.id = f.rowid "
                           "WHERE zmem_fts MATCH ?1 AND NOT (k.key >= ?4 AND k.key < ?5)",
    [ZM__SQ_TOKEN] = LATEST_OF("SELECT f.rowid AS id, k.key AS key, -bm25(zmem_fts) AS km "
                               "FROM zmem_fts f JOIN zmem_keys k ON k.id = f.rowid "
                               "WHERE zmem_fts MATCH ?1 AND NOT (k.key >= ?4 AND k.key < ?5) ",
                               "km DESC, key"),
    [ZM__SQ_NODE_FIND] = "SELECT id FROM zmem_nodes WHERE name = ?1",
    [ZM__SQ_NODE_INSERT] = "INSERT INTO zmem_nodes(name) VALUES(?1)",
    [ZM__SQ_NODE_MAX] = "SELECT coalesce(max(id), 0) FROM zmem_nodes",
    [ZM__SQ_EDGE_FIND] = "SELECT id FROM zmem_edges WHERE src = ?1 AND dst = ?2 AND rel = ?3",
    [ZM__SQ_EDGE_INSERT] = "INSERT INTO zmem_edges(src, dst, rel, metadata, ts, agent) "
                           "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ZM__SQ_EDGE_UPDATE] = "UPDATE zmem_edges SET metadata = ?2, ts = ?3, agent = ?4 WHERE id = ?1",
    [ZM__SQ_EDGE_DELETE] = "DELETE FROM zmem_edges WHERE src = ?1 AND dst = ?2 AND rel = ?3",
    [ZM__SQ_EDGES_OUT] = "SELECT e.dst, n.name, e.rel, e.metadata, e.ts, e.agent FROM zmem_edges e "
                         "JOIN zmem_nodes n ON n.id = e.dst WHERE e.src = ?1 "
                         "AND (?2 IS NULL OR e.rel = ?2) ORDER BY e.id",
    [ZM__SQ_EDGES_IN] = "SELECT e.src, n.name, e.rel, e.metadata, e.ts, e.agent FROM zmem_edges e "
                        "JOIN zmem_nodes n ON n.id = e.src WHERE e.dst = ?1 "
                        "AND (?2 IS NULL OR e.rel = ?2) ORDER BY e.id",
    /* Whether the node ?1 has a neighbour other than itself in direction ?2
       (1 out, 2 in) along relation ?3 (NULL: any). */
    [ZM__SQ_EDGES_OF_NODE] = "SELECT (?2 & 1 AND EXISTS(SELECT 1 FROM zmem_edges WHERE src = ?1 "
                             "AND dst <> ?1 AND (?3 IS NULL OR rel = ?3))) OR (?2 & 2 AND "
                             "EXISTS(SELECT 1 FROM zmem_edges WHERE dst = ?1 AND src <> ?1 AND "
                             "(?3 IS NULL OR rel = ?3)))",
    [ZM__SQ_STATS] = "SELECT (SELECT count(*) FROM zmem_keys WHERE live), "
                     "(SELECT count(*) FROM zmem_versions), (SELECT count(*) FROM zmem_nodes), "
                     "(SELECT count(*) FROM zmem_edges), "
                     "(SELECT page_count * page_size FROM pragma_page_count, pragma_page_size)",
    [ZM__SQ_CHECKPOINT] = "PRAGMA wal_checkpoint(TRUNCATE)",
};

/* ---------------------------------------------------------------------------
 * The schema. Step 0 makes the current version in an empty database; step
 * v (from 1) migrates version v one version forward. A later version
 * appends a step that alters what the one before left, and changes step 0
 * to make the same tables.
 * ------------------------------------------------------------------------- */

static const char *const migrations[ZM__SQ_SCHEMA] = {
    /* 0 -> 4: a new database gets the current schema at once (the steps
       below take an older one forward; the schema tests check that both
       ways give the same tables). */
    "CREATE TABLE zmem_keys("
    "  id INTEGER PRIMARY KEY,"   /* first-write order */
    "  key BLOB NOT NULL UNIQUE," /* the key's bytes */
    "  live INTEGER NOT NULL);"   /* 1 unless the latest version is a deletion */
    /* Every version of every key; a key's latest is the last of its id. */
    "CREATE TABLE zmem_versions("
    "  key_id INTEGER NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL,"
    "  agent BLOB NOT NULL,"
    "  session BLOB NOT NULL,"
    "  value TEXT NOT NULL," /* JSON text */
    "  metadata TEXT,"       /* JSON text, NULL when none */
    "  PRIMARY KEY(key_id, version)) WITHOUT ROWID;"
    /* The strings of each live key's latest value, in document order: the
       content that exact, prefix and substring search look at. */
    "CREATE TABLE zmem_strings("
    "  key_id INTEGER NOT NULL,"
    "  pos INTEGER NOT NULL,"
    "  s BLOB NOT NULL,"
    "  PRIMARY KEY(key_id, pos)) WITHOUT ROWID;"
    "CREATE INDEX zmem_strings_s ON zmem_strings(s);"
    /* Token search: one row per live key (rowid = the key's id) of its
       key's and content's tokens, already normalized, one space apart; no
       copy of the text is kept (sqlite_write.c rebuilds it to drop a row). */
    "CREATE VIRTUAL TABLE zmem_fts USING fts5(t, tokenize = 'ascii', content = '');"
    "CREATE TABLE zmem_nodes("
    "  id INTEGER PRIMARY KEY,"
    "  name BLOB NOT NULL UNIQUE);"
    "CREATE TABLE zmem_edges("
    "  id INTEGER PRIMARY KEY," /* insertion order */
    "  src INTEGER NOT NULL,"
    "  dst INTEGER NOT NULL,"
    "  rel BLOB NOT NULL,"
    "  metadata TEXT,"
    "  ts INTEGER NOT NULL,"
    "  agent BLOB NOT NULL,"
    "  UNIQUE(src, dst, rel));"
    "CREATE INDEX zmem_edges_src ON zmem_edges(src, id);"
    "CREATE INDEX zmem_edges_dst ON zmem_edges(dst, id);"
    /* The keys waiting for search (see 1 -> 2 and 3 -> 4 below). */
    "CREATE TABLE zmem_pending(key_id INTEGER PRIMARY KEY);"
    "CREATE TABLE zmem_index_mark(id INTEGER NOT NULL);"
    "INSERT INTO zmem_index_mark(id) VALUES(0);",
    /* Version 1 had the tables above, but zmem_keys also held each key's
       latest version number and time (latest, latest_ts), zmem_fts kept a
       copy of its text, and there was no zmem_pending or zmem_index_mark. */
    /* 1 -> 2: search is brought up to date in bulk (sqlite_write.c). The
       keys whose strings and tokens wait to be rebuilt from their latest
       version; empty when search is up to date. */
    "CREATE TABLE zmem_pending(key_id INTEGER PRIMARY KEY);",
    /* 2 -> 3: the token index keeps no copy of the text it indexed
       (content=''): a key's text is rebuilt from the key and its strings
       when its row is dropped (sqlite_write.c). The old index and strings
       are dropped and every live key waits to be indexed again, from its
       latest version, by the next search or the next pass of writes. */
    "DROP TABLE zmem_fts;"
    "CREATE VIRTUAL TABLE zmem_fts USING fts5(t, tokenize = 'ascii', content = '');"
    "DELETE FROM zmem_strings;"
    "INSERT OR IGNORE INTO zmem_pending(key_id) SELECT id FROM zmem_keys WHERE live;",
    /* 3 -> 4: a key's row no longer repeats its latest version's number and
       time, so a write of an existing key leaves the row alone (it changes
       only when the key is forgotten or written again after): the latest
       version is the last of the key's id in zmem_versions. */
    "ALTER TABLE zmem_keys DROP COLUMN latest;"
    "ALTER TABLE zmem_keys DROP COLUMN latest_ts;"
    /* A key's first write queues nothing: the keys with an id above this
       mark were added since search was last brought up to date, and wait
       with those of zmem_pending (later writes of a key queue it there).
       SQLite gives a new key the largest id plus one (until ids reach
       2^63 - 1), and a purge keeps the mark at most the largest id, so a
       new key's id is always above the mark. Every key of an older schema
       waiting is in zmem_pending. */
    "CREATE TABLE zmem_index_mark(id INTEGER NOT NULL);"
    "INSERT INTO zmem_index_mark(id) SELECT coalesce(max(id), 0) FROM zmem_keys;",
};

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

zm_status zm__sq_fail(zm__sq *s, int rc, const char *what) {
    zm_status st;
    switch (rc & 0xff) {
    case SQLITE_NOMEM: st = ZM_ENOMEM; break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return zm_store_fail(ZM_EBUSY,
                             "%s: the database %s is locked by another writer (waited %d ms)", what,
                             s->path, s->busy_ms);
    case SQLITE_IOERR: st = rc == SQLITE_IOERR_NOMEM ? ZM_ENOMEM : ZM_EIO; break;
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: st = ZM_EIO; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: st = ZM_ECORRUPT; break;
    case SQLITE_TOOBIG: st = ZM_ELIMIT; break;
    default: st = ZM_EIO; break;
    }
    if (st == ZM_ENOMEM || st == ZM_EIO || st == ZM_ECORRUPT) s->suspect = true;
    const char *msg = sqlite3_errstr(rc);
    if (s->db != NULL && sqlite3_extended_errcode(s->db) == rc) msg = sqlite3_errmsg(s->db);
    int sys = s->db != NULL ? sqlite3_system_errno(s->db) : 0;
    if ((rc & 0xff) == SQLITE_FULL || rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC ||
        rc == SQLITE_IOERR_TRUNCATE)
        msg = "writing to the disk failed: the disk is full or the file too large";
    if ((rc & 0xff) == SQLITE_NOTADB)
        return zm_store_fail(st, "%s: %s is not an SQLite database", what, s->path);
    if (st == ZM_EIO && sys != 0)
        return zm_store_fail(st, "%s: %s (%s) on %s", what, msg, strerror(sys), s->path);
    return zm_store_fail(st, "%s: %s on %s", what, msg, s->path);
}

/* ---------------------------------------------------------------------------
 * Statements and bindings
 * ------------------------------------------------------------------------- */

zm_status zm__sq_stmt(zm__sq *s, zm__sq_stmt_id id, sqlite3_stmt **out) {
    sqlite3_stmt *q = s->stmts[id];
    if (q == NULL) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &q, NULL);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(q);
            return zm__sq_fail(s, rc, "preparing a statement");
        }
        s->stmts[id] = q;
    }
    *out = q;
    return ZM_OK;
}

zm_status zm__sq_exec(zm__sq *s, zm__sq_stmt_id id, const char *what) {
    sqlite3_stmt *q;
    zm_status st = zm__sq_stmt(s, id, &q);
    if (st != ZM_OK) return st;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? ZM_OK : zm__sq_fail(s, rc, what);
}

int zm__sq_bind_bytes(sqlite3_stmt *q, int i, const void *p, size_t len) {
    if (len > (size_t)INT32_MAX) return SQLITE_TOOBIG;
    return sqlite3_bind_blob(q, i, len ? p : "", (int)len, SQLITE_STATIC);
}

char *zm__sq_strdup(zm_allocator a, const void *p, size_t len) {
    if (len == SIZE_MAX) return NULL;
    char *c = zm_alloc(a, len + 1, 1);
    if (c == NULL) return NULL;
    if (len) memcpy(c, p, len);
    c[len] = '\0';
    return c;
}

zm_status zm__sq_col_str(zm__sq *s, sqlite3_stmt *q, int col, zm_allocator a, const char **out,
                         size_t *len) {
    const void *p = sqlite3_column_blob(q, col);
    int n = sqlite3_column_bytes(q, col);
    if (p == NULL && n > 0) return zm__sq_fail(s, SQLITE_NOMEM, "reading a column");
    if (n == 0) {
        /* Nothing to copy (an agent or session never given, mostly): reads
           return memory the caller never frees piece by piece (store.h). */
        *out = "";
        *len = 0;
        return ZM_OK;
    }
    char *c = zm__sq_strdup(a, p, (size_t)n);
    if (c == NULL) return ZM_ENOMEM;
    *out = c;
    *len = (size_t)n;
    return ZM_OK;
}

/* True when a is an arena's allocator: values then parse straight into it. */
static bool is_arena(zm_allocator a) {
    return a.vtable == zm_arena_allocator(NULL).vtable;
}

zm_status zm__sq_col_json(zm__sq *s, sqlite3_stmt *q, int col, zm_allocator a,
                          const zm_json **out) {
    *out = NULL;
    if (sqlite3_column_type(q, col) == SQLITE_NULL) return ZM_OK;
    const char *t = (const char *)sqlite3_column_text(q, col);
    int n = sqlite3_column_bytes(q, col);
    if (t == NULL) return zm__sq_fail(s, SQLITE_NOMEM, "reading a value");
    zm_json_parse_opts po = {0, 0, ZM_JSON_DUP_ERROR};
    size_t depth = s->base.limits.max_depth + 8;
    po.max_depth = depth > ZM_JSON_DEFAULT_MAX_DEPTH ? (uint32_t)depth : ZM_JSON_DEFAULT_MAX_DEPTH;
    zm_json *v = NULL;
    zm_json_error err;
    zm_status st;
    if (is_arena(a)) {
        st = zm_json_parse_arena((zm_arena *)a.ctx, t, (size_t)n, &po, &v, &err);
    } else {
        /* A general allocator: a value the caller can give back with
           zm_json_free(a, ...). */
        zm_json_doc *d = NULL;
        st = zm_json_parse(a, t, (size_t)n, &po, &d, &err);
        if (st == ZM_OK) {
            st = zm_json_clone(a, zm_json_doc_root(d), &v);
            zm_json_doc_free(d);
        }
    }
    if (st == ZM_ENOMEM) return ZM_ENOMEM;
    if (st != ZM_OK)
        return zm_store_fail(ZM_ECORRUPT, "a value stored in %s is not valid JSON: %s", s->path,
                             err.message);
    *out = v;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Counters
 * ------------------------------------------------------------------------- */

static zm_status sq_stats(zm_store *base, zm_store_stats *out) {
    zm__sq *s = (zm__sq *)base;
    sqlite3_stmt *q;
    zm_status st = zm__sq_stmt(s, ZM__SQ_STATS, &q);
    if (st != ZM_OK) return st;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        out->keys = (size_t)sqlite3_column_int64(q, 0);
        out->versions = (size_t)sqlite3_column_int64(q, 1);
        out->nodes = (size_t)sqlite3_column_int64(q, 2);
        out->edges = (size_t)sqlite3_column_int64(q, 3);
        out->data_bytes = (size_t)sqlite3_column_int64(q, 4);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? ZM_OK : zm__sq_fail(s, rc, "counting");
}

/* The connection's memory (page cache, schema, statements) and SQLite's
   over the process. */
static zm_status sq_memory(zm_store *base, zm_store_memory *out) {
    zm__sq *s = (zm__sq *)base;
    int cache = 0, schema = 0, stmts = 0, hi = 0;
    sqlite3_db_status(s->db, SQLITE_DBSTATUS_CACHE_USED, &cache, &hi, 0);
    sqlite3_db_status(s->db, SQLITE_DBSTATUS_SCHEMA_USED, &schema, &hi, 0);
    sqlite3_db_status(s->db, SQLITE_DBSTATUS_STMT_USED, &stmts, &hi, 0);
    sqlite3_int64 used = 0, peak = 0;
    sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &used, &peak, 0);
    out->applicable = true;
    out->cache_bytes = (size_t)cache;
    out->bytes = (size_t)cache + (size_t)schema + (size_t)stmts;
    out->engine_bytes = used > 0 ? (size_t)used : 0;
    out->what = "the connection's page cache, schema and statements";
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Opening and closing
 * ------------------------------------------------------------------------- */

static const zm_store_vtable sqlite_vtable;

/* Frees the store's memory and closes its connection (db may be NULL). */
static void destroy(zm__sq *s) {
    for (int i = 0; i < ZM__SQ_STMT_COUNT; i++) sqlite3_finalize(s->stmts[i]);
    if (s->db != NULL) {
        if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(s->db);
    }
    zm__sq_alloc_flush();
    zm_allocator a = s->a;
    zm_free(a, s->path, s->path_len + 1, 1);
    zm_store_base_deinit(&s->base);
    zm_destroy(a, s);
}

static void sq_close(zm_store *base) {
    destroy((zm__sq *)base);
}
/* Runs one-off SQL text of this file (pragmas, the schema): never anything
   from outside. */
static zm_status exec_sql(zm__sq *s, const char *sql, const char *what) {
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? ZM_OK : zm__sq_fail(s, rc, what);
}

/* Reads the database's application id, schema version and table count. */
static zm_status read_header(zm__sq *s, int64_t *app, int64_t *version, int64_t *tables) {
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT (SELECT application_id FROM pragma_application_id), "
                                "(SELECT user_version FROM pragma_user_version), "
                                "(SELECT count(*) FROM sqlite_schema)",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            *app = sqlite3_column_int64(q, 0);
            *version = sqlite3_column_int64(q, 1);
            *tables = sqlite3_column_int64(q, 2);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(q);
    return rc == SQLITE_OK ? ZM_OK : zm__sq_fail(s, rc, "reading the database header");
}

/* Refuses what this build cannot use: another program's database, a newer
   schema. */
static zm_status check_header(zm__sq *s, int64_t app, int64_t version, int64_t tables) {
    if (tables > 0 && app != ZM__SQ_APP_ID)
        return zm_store_fail(ZM_ECORRUPT,
                             "%s is an SQLite database of another program (application_id "
                             "%lld), not a zmem store",
                             s->path, (long long)app);
    if (version > ZM__SQ_SCHEMA)
        return zm_store_fail(ZM_ECORRUPT,
                             "%s has zmem schema version %lld; this build supports versions up "
                             "to %d: open it with a newer zmem",
                             s->path, (long long)version, ZM__SQ_SCHEMA);
    if (version < 0 || (tables > 0 && version == 0))
        return zm_store_fail(ZM_ECORRUPT, "%s has an unknown schema version %lld", s->path,
                             (long long)version);
    return ZM_OK;
}

/* Creates or migrates the schema, in one write transaction. */
static zm_status migrate(zm__sq *s) {
    zm_status st = zm__sq_exec(s, ZM__SQ_BEGIN_IMMEDIATE, "locking the database to set it up");
    if (st != ZM_OK) return st;
    int64_t app, version, tables;
    st = read_header(s, &app, &version, &tables); /* another process may have done it */
    if (st == ZM_OK) st = check_header(s, app, version, tables);
    /* An empty database (version 0) gets the current schema in one step. */
    for (int64_t v = version; st == ZM_OK && v < ZM__SQ_SCHEMA; v = v == 0 ? ZM__SQ_SCHEMA : v + 1)
        st = exec_sql(s, migrations[v], "creating the schema");
    if (st == ZM_OK && version < ZM__SQ_SCHEMA)
        st = exec_sql(s,
                      "PRAGMA application_id = " STR(ZM__SQ_APP_ID) "; "
                                                                    "PRAGMA user_version = " STR(
                                                                        ZM__SQ_SCHEMA) ";",
                      "setting the schema version");
    return zm__sq_op_end(s, st);
}

/* The log (the -wal file) is copied into the database when a commit leaves
   it past this many pages (SQLite's default is 1000). Each copy syncs the
   log and the database and writes every page changed since the last one:
   a write touches the same few pages again and again (the newest versions,
   the queue), so fewer, larger copies write each of them fewer times. */
#define CHECKPOINT_PAGES 4000
/* After a transaction that made the log larger than this many bytes (16
   MiB), the log is cut back to it when it starts over (else SQLite keeps
   the file's largest size). */
#define LOG_LIMIT_BYTES 16777216
#define LOG_PRAGMAS                                                                                \
    "PRAGMA secure_delete = ON; PRAGMA wal_autocheckpoint = " STR(                                 \
        CHECKPOINT_PAGES) "; PRAGMA journal_size_limit = " STR(LOG_LIMIT_BYTES)

/* What every connection of the store sets: extended result codes, the busy
   timeout, synchronous, secure delete and the log's size (WAL is the file's
   own setting). */
static zm_status configure(zm__sq *s) {
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, s->busy_ms);
    return exec_sql(s,
                    s->sync_full ? "PRAGMA synchronous = FULL; " LOG_PRAGMAS
                                 : "PRAGMA synchronous = NORMAL; " LOG_PRAGMAS,
                    "setting the pragmas");
}

/* Opens a connection to the store's file into *db (NULL when out of memory). */
static int open_db(const zm__sq *s, sqlite3 **db) {
    int flags = (s->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    const char *vfs = NULL;
    int rc = zm__sq_vfs(&vfs);
    *db = NULL;
    return rc == SQLITE_OK ? sqlite3_open_v2(s->path, db, flags, vfs) : rc;
}

zm_status zm__sq_ready(zm__sq *s) {
    if (!s->suspect || s->in_txn) return ZM_OK;
    sqlite3 *old = s->db, *db;
    int rc = open_db(s, &db);
    s->db = db;
    zm_status st = rc == SQLITE_OK ? configure(s)
                   : db == NULL    ? ZM_ENOMEM
                                   : zm__sq_fail(s, rc, "reopening the database");
    if (st != ZM_OK) {
        sqlite3_close_v2(db);
        s->db = old;
        s->suspect = true;
        return st;
    }
    for (int i = 0; i < ZM__SQ_STMT_COUNT; i++) {
        sqlite3_finalize(s->stmts[i]);
        s->stmts[i] = NULL;
    }
    if (!sqlite3_get_autocommit(old)) sqlite3_exec(old, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close_v2(old);
    s->suspect = false;
    s->held = s->pinned = s->file_known = false;
    return ZM_OK;
}

/* Switches a new database to WAL with 2 KiB pages (an existing one keeps its
   own): the connection's first statement. Another process may be creating
   the same file: the busy timeout is set first, so its locks are waited
   for, and a refusal SQLite gives at once (it does not wait where waiting
   could deadlock, as when two processes hold the shared lock and both want
   the file to themselves) is tried again until the timeout has passed. */
static zm_status switch_to_wal(zm__sq *s) {
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, s->busy_ms);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int rc = sqlite3_exec(s->db, "PRAGMA page_size = 2048; PRAGMA journal_mode = WAL", NULL,
                              NULL, NULL);
        if (rc == SQLITE_OK) return ZM_OK;
        clock_gettime(CLOCK_MONOTONIC, &t);
        int64_t waited_ms =
            (int64_t)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= s->busy_ms)
            return zm__sq_fail(s, rc, "switching to WAL");
        sqlite3_sleep(2);
    }
}

/* Sets the connection up: WAL, then what configure sets, then the schema. */
static zm_status setup(zm__sq *s, const zm_store_opts *o) {
    zm_status st;
    if (!o->read_only) {
        /* The first read of the file: a file that is not a database fails
           here (SQLITE_NOTADB). A new database gets 2 KiB pages (an existing
           one keeps its own): a write touches a few small rows, and each
           page it changes is copied whole into the log, checksummed, synced
           at the next checkpoint and copied back; 2 KiB pages cost the
           fewest instructions per write, with no deeper tree for reads. */
        st = switch_to_wal(s);
        if (st != ZM_OK) return st;
    }
    st = configure(s);
    if (st != ZM_OK) return st;
    int64_t app, version, tables;
    st = read_header(s, &app, &version, &tables);
    if (st == ZM_OK) st = check_header(s, app, version, tables);
    if (st != ZM_OK || version == ZM__SQ_SCHEMA) return st;
    if (o->read_only && version == 0)
        return zm_store_fail(ZM_EIO, "%s holds no zmem store yet, and is opened read-only",
                             s->path);
    if (o->read_only)
        return zm_store_fail(ZM_EIO,
                             "%s has schema %lld, older than this zmem's %d, and is opened "
                             "read-only: open it once for writing to migrate it (for "
                             "example zmem run --db PATH < /dev/null)",
                             s->path, (long long)version, ZM__SQ_SCHEMA);
    return migrate(s);
}

/* Creates path with mode 0600 when it does not exist, so the database and
   the -wal and -shm files SQLite makes beside it (with the database's mode)
   are the owner's only. */
static zm_status prepare_file(const char *path, bool read_only) {
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return zm_store_fail(ZM_EIO, "%s is a directory, not a database file", path);
        return ZM_OK;
    }
    if (errno != ENOENT)
        return zm_store_fail(ZM_EIO, "cannot open the database %s: %s", path, strerror(errno));
    if (read_only)
        return zm_store_fail(ZM_EIO, "the database %s does not exist (opening read-only)", path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST)
        return zm_store_fail(ZM_EIO, "cannot create the database %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return ZM_OK;
}

zm_status zm_store_sqlite_open(const char *path, const zm_store_opts *opts, zm_store **out) {
    zm_store_opts o = zm__store_opts(opts);
    if (path == NULL || path[0] == '\0')
        return zm_store_fail(ZM_EINVAL, "the database path is empty");
    zm_status st = prepare_file(path, o.read_only);
    if (st != ZM_OK) return st;
    /* A store starts with none of SQLite's freed blocks kept (they may come
       from connections of the host program): what it allocates is the same
       however the process used SQLite before. */
    zm__sq_alloc_flush();

    zm__sq *s = zm_create(o.alloc, zm__sq);
    if (s == NULL) return ZM_ENOMEM;
    memset(s, 0, sizeof *s);
    s->a = o.alloc;
    s->read_only = o.read_only;
    s->hold = o.hold_reads && !o.read_only;
    s->busy_ms = o.busy_timeout_ms > 0 ? o.busy_timeout_ms : ZM_STORE_DEFAULT_BUSY_TIMEOUT_MS;
    s->path_len = strlen(path);
    s->path = zm__sq_strdup(o.alloc, path, s->path_len);
    if (s->path == NULL) {
        zm_destroy(o.alloc, s);
        return ZM_ENOMEM;
    }
    if (zm_store_base_init(&s->base, &sqlite_vtable, &o.limits) != ZM_OK) {
        zm_free(o.alloc, s->path, s->path_len + 1, 1);
        zm_destroy(o.alloc, s);
        return ZM_ENOMEM;
    }
    s->sync_full = o.sync == ZM_STORE_SYNC_FULL;
    int rc = open_db(s, &s->db);
    if (rc != SQLITE_OK) {
        st = rc == SQLITE_NOMEM || s->db == NULL ? ZM_ENOMEM
                                                 : zm__sq_fail(s, rc, "opening the database");
        destroy(s);
        return st;
    }
    if (!o.read_only && sqlite3_db_readonly(s->db, "main") == 1) {
        st = zm_store_fail(ZM_EIO, "the database %s is not writable (no permission)", path);
        destroy(s);
        return st;
    }
    st = setup(s, &o);
    if (st != ZM_OK) {
        destroy(s);
        return st;
    }
    *out = &s->base;
    return ZM_OK;
}

bool zm__store_have_sqlite(void) {
    return true;
}

/* ---------------------------------------------------------------------------
 * The calls: each read first makes the held read current (zm__sq_hold); a
 * write ends it where the write begins (zm__sq_op_begin), before it reads
 * ------------------------------------------------------------------------- */

#define SQ(base) ((zm__sq *)(base))
#define HOLD(base)                                                                                 \
    do {                                                                                           \
        zm_status hold_st_ = zm__sq_hold(SQ(base));                                                \
        if (hold_st_ != ZM_OK) return hold_st_;                                                    \
    } while (0)

static zm_status c_get(zm_store *s, const char *key, size_t key_len, int64_t as_of_ms,
                       zm_allocator a, zm_store_version *out) {
    HOLD(s);
    return zm__sq_get(s, key, key_len, as_of_ms, a, out);
}
static zm_status c_history(zm_store *s, const char *key, size_t key_len, int64_t as_of_ms,
                           zm_allocator a, zm_store_version **out, size_t *count) {
    HOLD(s);
    return zm__sq_history(s, key, key_len, as_of_ms, a, out, count);
}
static zm_status c_search(zm_store *s, const char *query, size_t query_len, zm_search_mode mode,
                          size_t limit, zm_allocator a, zm_search_hit **hits, size_t *count,
                          size_t *total) {
    HOLD(s);
    return zm__sq_search(s, query, query_len, mode, limit, a, hits, count, total);
}
static zm_status c_neighbors(zm_store *s, const zm_store_walk *w, zm_allocator a,
                             zm_store_hit **hits, size_t *count, bool *truncated) {
    HOLD(s);
    return zm__sq_neighbors(s, w, a, hits, count, truncated);
}
static zm_status c_stats(zm_store *s, zm_store_stats *out) {
    HOLD(s);
    return sq_stats(s, out);
}
static zm_status c_export_open(zm_store *s, zm_allocator a, zm_store_cursor **out) {
    HOLD(s);
    return zm__sq_export_open(s, a, out);
}
static zm_status c_head(zm_store *s, const char *key, size_t key_len, uint64_t *version) {
    HOLD(s);
    return zm__sq_head(s, key, key_len, version);
}
static zm_status c_search_skip(zm_store *s, const char *query, size_t query_len,
                               zm_search_mode mode, size_t limit, const char *skip, size_t skip_len,
                               zm_allocator a, zm_search_hit **hits, size_t *count, size_t *total) {
    HOLD(s);
    return zm__sq_search_skip(s, query, query_len, mode, limit, skip, skip_len, a, hits, count,
                              total);
}
static void c_idle(zm_store *s) {
    zm__sq_release(SQ(s));
}

static const zm_store_vtable sqlite_vtable = {
    .size = sizeof(zm_store_vtable),
    .name = "sqlite",
    .close = sq_close,
    .put = zm__sq_put,
    .get = c_get,
    .history = c_history,
    .search = c_search,
    .link = zm__sq_link,
    .unlink = zm__sq_unlink,
    .neighbors = c_neighbors,
    .forget = zm__sq_forget,
    .begin = zm__sq_begin,
    .commit = zm__sq_commit,
    .rollback = zm__sq_rollback,
    .stats = c_stats,
    .export_open = c_export_open,
    .cursor_next = zm__sq_cursor_next,
    .cursor_close = zm__sq_cursor_close,
    .head = c_head,
    .search_skip = c_search_skip,
    .memory = sq_memory,
    .idle = c_idle,
};
