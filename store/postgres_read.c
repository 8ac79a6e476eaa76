/* The postgres backend's reads of versions: get (latest or as of a time),
   history, and the export cursor. Everything returned is copied or parsed
   into the caller's allocator; every result is cleared before returning. */
#include "postgres_internal.h"
#include "zmem/array.h"

/* Rows an export reads per statement. */
#define EXPORT_BATCH 256

/* Reads the version of row `row` of r (the columns VERSION_COLS of
   postgres_sql.c, from column 0) into *out, its memory from a. */
static zm_status read_version(zm__pg *s, const PGresult *r, int row, zm_allocator a,
                              zm_store_version *out) {
    memset(out, 0, sizeof *out);
    out->version = (uint64_t)zm__pg_int(r, row, 0);
    out->timestamp = zm__pg_int(r, row, 1);
    out->deleted = zm__pg_bool(r, row, 2);
    out->agent = zm__pg_str(r, row, 3, a, &out->agent_len);
    if (out->agent == NULL) return ZM_ENOMEM;
    out->session = zm__pg_str(r, row, 4, a, &out->session_len);
    if (out->session == NULL) return ZM_ENOMEM;
    if (out->deleted) {
        out->value = &zm__pg_null;
        return ZM_OK;
    }
    zm_status st = zm__pg_json(s, r, row, 5, a, &out->value);
    if (st == ZM_OK) st = zm__pg_json(s, r, row, 6, a, &out->metadata);
    if (st == ZM_OK && out->value == NULL) out->value = &zm__pg_null;
    return st;
}

/* Runs GET or HISTORY for key as of as_of_ms. */
static zm_status read_key(zm__pg *s, zm__pg_stmt id, const char *key, size_t key_len,
                          int64_t as_of_ms, PGresult **r) {
    *r = NULL;
    zm_status st = zm__pg_ready(s);
    if (st != ZM_OK) return st;
    zm__pg_params p = {.n = 0};
    zm__pg_p_text(&p, key, key_len);
    zm__pg_p_int8(&p, as_of_ms < 0 ? -1 : as_of_ms);
    return zm__pg_exec(s, id, &p, "reading a key", r);
}

zm_status zm__pg_get(zm_store *base, const char *key, size_t key_len, int64_t as_of_ms,
                     zm_allocator a, zm_store_version *out) {
    zm__pg *s = (zm__pg *)base;
    PGresult *r;
    zm_status st = read_key(s, ZM__PG_GET, key, key_len, as_of_ms, &r);
    if (st == ZM_OK) {
        if (PQntuples(r) == 0) {
            st = ZM_ENOTFOUND;
        } else {
            st = read_version(s, r, 0, a, out);
            if (st == ZM_OK && out->deleted) st = ZM_ENOTFOUND;
        }
    }
    PQclear(r);
    zm__pg_done(s);
    return st;
}

ZM_ARRAY_TYPED(version_array, zm_store_version);

/* What zm__pg_history's rows are read into. */
typedef struct history_read {
    zm__pg *s;
    zm_allocator a;
    version_array v;
} history_read;

static zm_status history_row(void *ctx, const PGresult *r) {
    history_read *h = ctx;
    zm_store_version *v = version_array_add_one(h->a, &h->v);
    if (v == NULL) return ZM_ENOMEM;
    zm_status st = read_version(h->s, r, 0, h->a, v);
    if (st != ZM_OK) version_array_pop(&h->v);
    return st;
}

/* The rows come one at a time (zm__pg_exec_rows): a history larger than a
   may give is refused when a refuses, with one row in libpq's memory, not
   after the server's whole answer was taken in. */
zm_status zm__pg_history(zm_store *base, const char *key, size_t key_len, int64_t as_of_ms,
                         zm_allocator a, zm_store_version **out, size_t *count) {
    zm__pg *s = (zm__pg *)base;
    *out = NULL;
    *count = 0;
    zm_status st = zm__pg_ready(s);
    if (st != ZM_OK) return st;
    zm__pg_params p = {.n = 0};
    zm__pg_p_text(&p, key, key_len);
    zm__pg_p_int8(&p, as_of_ms < 0 ? -1 : as_of_ms);
    history_read h = {s, a, {0}};
    st = zm__pg_exec_rows(s, ZM__PG_HISTORY, &p, "reading a key", history_row, &h);
    zm__pg_done(s);
    if (st == ZM_OK && h.v.len == 0) st = ZM_ENOTFOUND;
    size_t n = h.v.len;
    if (st == ZM_OK) st = version_array_to_owned(a, &h.v, out, &n);
    if (st != ZM_OK) {
        /* What was parsed into a dies with a (an arena); the array goes back. */
        version_array_deinit(a, &h.v);
        *out = NULL;
        return st;
    }
    *count = n;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Export: batches of rows after the last (key id, version) read, so the
 * connection is free for other calls between two records.
 * ------------------------------------------------------------------------- */

typedef struct pg_cursor {
    zm_store_cursor base;
    zm_allocator a;
    zm_arena rec; /* the current record's memory, over the store's allocator */
    PGresult *batch;
    int row, rows;
    int64_t last_key, last_version, last_edge;
    bool edges; /* the versions are done: edges now */
    bool end;   /* the last batch was short: no more rows of this kind */
} pg_cursor;

zm_status zm__pg_export_open(zm_store *base, zm_allocator a, zm_store_cursor **out) {
    zm__pg *s = (zm__pg *)base;
    zm_status st = zm__pg_ready(s);
    if (st != ZM_OK) return st;
    pg_cursor *c = zm_create(a, pg_cursor);
    if (c == NULL) return ZM_ENOMEM;
    memset(c, 0, sizeof *c);
    c->base.store = base;
    c->a = a;
    /* The record's memory is the store's own, not a: zm_store_export_jsonl
       rewinds an arena a draws from after every line, which would take
       back blocks this arena still holds. */
    zm_arena_init(&c->rec, s->a);
    *out = &c->base;
    return ZM_OK;
}

/* Reads the next batch of rows of the current kind. */
static zm_status next_batch(pg_cursor *c, zm__pg *s) {
    zm_status st = zm__pg_ready(s);
    zm__pg_params p = {.n = 0};
    if (!c->edges) {
        zm__pg_p_int8(&p, c->last_key);
        zm__pg_p_int8(&p, c->last_version);
    } else {
        zm__pg_p_int8(&p, c->last_edge);
    }
    zm__pg_p_int8(&p, EXPORT_BATCH);
    if (st == ZM_OK)
        st = zm__pg_exec(s, c->edges ? ZM__PG_EXPORT_EDGES : ZM__PG_EXPORT, &p, "exporting",
                         &c->batch);
    zm__pg_done(s);
    if (st != ZM_OK) return st;
    c->row = 0;
    c->rows = PQntuples(c->batch);
    c->end = c->rows < EXPORT_BATCH;
    return ZM_OK;
}

zm_status zm__pg_cursor_next(zm_store_cursor *cur, zm_store_record *out, bool *done) {
    pg_cursor *c = (pg_cursor *)cur;
    zm__pg *s = (zm__pg *)cur->store;
    *done = false;
    zm_arena_reset(&c->rec, ZM_ARENA_RETAIN_CAPACITY, 0);
    while (c->row >= c->rows) {
        PQclear(c->batch);
        c->batch = NULL;
        c->row = c->rows = 0;
        if (c->end) {
            if (c->edges) {
                *done = true;
                return ZM_OK;
            }
            c->edges = true; /* versions done: the edges follow */
            c->end = false;
        }
        zm_status st = next_batch(c, s);
        if (st != ZM_OK) return st;
    }
    memset(out, 0, sizeof *out);
    zm_allocator ra = zm_arena_allocator(&c->rec);
    zm_status st;
    if (c->edges) {
        out->kind = ZM_STORE_RECORD_EDGE;
        st = zm__pg_edge(s, c->batch, c->row, ra, &out->edge);
        if (st != ZM_OK) return st;
        c->last_edge = zm__pg_int(c->batch, c->row, 0);
    } else {
        out->kind = ZM_STORE_RECORD_VERSION;
        st = read_version(s, c->batch, c->row, ra, &out->v);
        if (st == ZM_OK) {
            out->key = zm__pg_str(c->batch, c->row, 8, ra, &out->key_len);
            if (out->key == NULL) st = ZM_ENOMEM;
        }
        if (st != ZM_OK) return st;
        c->last_key = zm__pg_int(c->batch, c->row, 7);
        c->last_version = (int64_t)out->v.version;
    }
    c->row++;
    return ZM_OK;
}

void zm__pg_cursor_close(zm_store_cursor *cur) {
    pg_cursor *c = (pg_cursor *)cur;
    PQclear(c->batch);
    zm_arena_deinit(&c->rec);
    zm_destroy(c->a, c);
}
