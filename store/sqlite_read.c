/* The SQLite backend's reads of versions: get (latest or as of a time),
   history, and the export cursor. Everything returned is copied or parsed
   into the caller's allocator. */
#include "sqlite_internal.h"

/* Reads the version at the current row of q (the columns VERSION_COLS of
   sqlite.c, from col 0) into *out, its memory from a. */
static zm_status read_version(zm__sq *s, sqlite3_stmt *q, zm_allocator a, zm_store_version *out) {
    memset(out, 0, sizeof *out);
    out->version = (uint64_t)sqlite3_column_int64(q, 0);
    out->timestamp = sqlite3_column_int64(q, 1);
    out->deleted = sqlite3_column_int(q, 2) != 0;
    zm_status st = zm__sq_col_str(s, q, 3, a, &out->agent, &out->agent_len);
    if (st == ZM_OK) st = zm__sq_col_str(s, q, 4, a, &out->session, &out->session_len);
    if (st != ZM_OK) return st;
    if (out->deleted) {
        out->value = &zm__sq_null;
        return ZM_OK;
    }
    st = zm__sq_col_json(s, q, 5, a, &out->value);
    if (st == ZM_OK) st = zm__sq_col_json(s, q, 6, a, &out->metadata);
    if (st == ZM_OK && out->value == NULL) out->value = &zm__sq_null;
    return st;
}

zm_status zm__sq_get(zm_store *base, const char *key, size_t key_len, int64_t as_of_ms,
                     zm_allocator a, zm_store_version *out) {
    zm__sq *s = (zm__sq *)base;
    sqlite3_stmt *q;
    zm__sq_stmt_id id = as_of_ms < 0 ? ZM__SQ_GET_LATEST : ZM__SQ_GET_AS_OF;
    zm_status st = zm__sq_stmt(s, id, &q);
    if (st != ZM_OK) return st;
    int rc = zm__sq_bind_bytes(q, 1, key, key_len);
    if (as_of_ms >= 0) sqlite3_bind_int64(q, 2, as_of_ms);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        st = read_version(s, q, a, out);
        if (st == ZM_OK && out->deleted) st = ZM_ENOTFOUND;
    } else if (rc == SQLITE_DONE) {
        st = ZM_ENOTFOUND;
    } else {
        st = zm__sq_fail(s, rc, "reading a key");
    }
    sqlite3_reset(q);
    return st;
}

zm_status zm__sq_head(zm_store *base, const char *key, size_t key_len, uint64_t *version) {
    zm__sq *s = (zm__sq *)base;
    sqlite3_stmt *q;
    zm_status st = zm__sq_stmt(s, ZM__SQ_KEY_FIND, &q);
    if (st != ZM_OK) return st;
    int rc = zm__sq_bind_bytes(q, 1, key, key_len);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *version = (uint64_t)sqlite3_column_int64(q, 2);
        st = sqlite3_column_int(q, 1) == 0 ? ZM_OK : ZM_ENOTFOUND;
    } else if (rc == SQLITE_DONE) {
        st = ZM_ENOTFOUND;
    } else {
        st = zm__sq_fail(s, rc, "reading a key's latest version");
    }
    sqlite3_reset(q);
    return st;
}

zm_status zm__sq_history(zm_store *base, const char *key, size_t key_len, int64_t as_of_ms,
                         zm_allocator a, zm_store_version **out, size_t *count) {
    zm__sq *s = (zm__sq *)base;
    *out = NULL;
    *count = 0;
    zm_status st = zm__sq_read_begin(s);
    if (st != ZM_OK) return st;
    sqlite3_stmt *q = NULL;
    int64_t n = 0;
    int rc = SQLITE_OK;
    if ((st = zm__sq_stmt(s, ZM__SQ_HISTORY_COUNT, &q)) == ZM_OK) {
        rc = zm__sq_bind_bytes(q, 1, key, key_len);
        sqlite3_bind_int64(q, 2, as_of_ms);
        if (rc == SQLITE_OK) rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) n = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        if (rc != SQLITE_ROW) st = zm__sq_fail(s, rc, "reading a history");
    }
    zm_store_version *v = NULL;
    size_t got = 0;
    if (st == ZM_OK && n == 0) st = ZM_ENOTFOUND;
    if (st == ZM_OK && (v = zm_alloc_array(a, zm_store_version, (size_t)n)) == NULL) st = ZM_ENOMEM;
    if (st == ZM_OK && (st = zm__sq_stmt(s, ZM__SQ_HISTORY, &q)) == ZM_OK) {
        rc = zm__sq_bind_bytes(q, 1, key, key_len);
        sqlite3_bind_int64(q, 2, as_of_ms);
        while (rc == SQLITE_OK && got < (size_t)n && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            st = read_version(s, q, a, &v[got]);
            if (st != ZM_OK) break;
            got++;
            rc = SQLITE_OK;
        }
        if (st == ZM_OK && rc != SQLITE_OK && rc != SQLITE_DONE)
            st = zm__sq_fail(s, rc, "reading a history");
        sqlite3_reset(q);
    }
    zm__sq_read_end(s);
    if (st != ZM_OK) return st;
    *out = v;
    *count = got;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Export
 * ------------------------------------------------------------------------- */

/* A cursor: its own statements (the caller may use the store between two
   records), the versions first and then the edges. Records are read into
   the caller's allocator (an arena the caller may rewind between records). */
typedef struct sq_cursor {
    zm_store_cursor base;
    zm_allocator a;
    sqlite3_stmt *versions, *edges;
    int phase; /* 0 versions, 1 edges, 2 done */
} sq_cursor;

zm_status zm__sq_export_open(zm_store *base, zm_allocator a, zm_store_cursor **out) {
    zm__sq *s = (zm__sq *)base;
    zm_status ready = zm__sq_ready(s); /* before preparing on the connection */
    if (ready != ZM_OK) return ready;
    sq_cursor *c = zm_create(a, sq_cursor);
    if (c == NULL) return ZM_ENOMEM;
    memset(c, 0, sizeof *c);
    c->base.store = base;
    c->a = a;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT v.version, v.ts, v.deleted, v.agent, v.session, v.value, "
                                "v.metadata, k.key FROM zmem_keys k JOIN zmem_versions v "
                                "ON v.key_id = k.id ORDER BY k.id, v.version",
                                -1, &c->versions, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db,
                                "SELECT f.name, t.name, e.rel, e.metadata, e.ts, e.agent "
                                "FROM zmem_edges e JOIN zmem_nodes f ON f.id = e.src "
                                "JOIN zmem_nodes t ON t.id = e.dst ORDER BY e.id",
                                -1, &c->edges, NULL);
    zm_status st = ZM_OK;
    /* One snapshot for both statements (inside a transaction, its own). */
    if (rc == SQLITE_OK) st = zm__sq_read_begin(s);
    if (rc != SQLITE_OK || st != ZM_OK) {
        if (rc != SQLITE_OK) st = zm__sq_fail(s, rc, "opening an export");
        sqlite3_finalize(c->versions);
        sqlite3_finalize(c->edges);
        zm_destroy(a, c);
        return st;
    }
    *out = &c->base;
    return ZM_OK;
}

/* Reads the edge at the current row of q into *out, its memory from a. */
static zm_status read_edge(zm__sq *s, sqlite3_stmt *q, zm_allocator a, zm_store_edge *out) {
    zm_status st;
    if ((st = zm__sq_col_str(s, q, 0, a, &out->from, &out->from_len)) != ZM_OK ||
        (st = zm__sq_col_str(s, q, 1, a, &out->to, &out->to_len)) != ZM_OK ||
        (st = zm__sq_col_str(s, q, 2, a, &out->relation, &out->relation_len)) != ZM_OK ||
        (st = zm__sq_col_json(s, q, 3, a, &out->metadata)) != ZM_OK ||
        (st = zm__sq_col_str(s, q, 5, a, &out->agent, &out->agent_len)) != ZM_OK)
        return st;
    out->timestamp = sqlite3_column_int64(q, 4);
    return ZM_OK;
}

zm_status zm__sq_cursor_next(zm_store_cursor *cur, zm_store_record *out, bool *done) {
    sq_cursor *c = (sq_cursor *)cur;
    zm__sq *s = (zm__sq *)cur->store;
    *done = false;
    zm_allocator ra = c->a;
    while (c->phase < 2) {
        sqlite3_stmt *q = c->phase == 0 ? c->versions : c->edges;
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE) {
            c->phase++;
            continue;
        }
        if (rc != SQLITE_ROW) {
            zm_status st = zm__sq_fail(s, rc, "reading an export");
            sqlite3_reset(q); /* the next call reads this part again from its start */
            return st;
        }
        memset(out, 0, sizeof *out);
        if (c->phase == 1) {
            out->kind = ZM_STORE_RECORD_EDGE;
            return read_edge(s, q, ra, &out->edge);
        }
        out->kind = ZM_STORE_RECORD_VERSION;
        zm_status st = read_version(s, q, ra, &out->v);
        if (st == ZM_OK) st = zm__sq_col_str(s, q, 7, ra, &out->key, &out->key_len);
        return st;
    }
    *done = true;
    return ZM_OK;
}

void zm__sq_cursor_close(zm_store_cursor *cur) {
    sq_cursor *c = (sq_cursor *)cur;
    sqlite3_finalize(c->versions);
    sqlite3_finalize(c->edges);
    zm__sq_read_end((zm__sq *)cur->store);
    zm_destroy(c->a, c);
}
