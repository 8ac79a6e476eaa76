/* The SQLite backend's writes: put, forget and purge, and what they keep
   for search (the strings of the latest value and its tokens). Each write
   runs in its own BEGIN IMMEDIATE (or a savepoint inside a transaction), so
   reading the key's latest version number and inserting the next one is one
   step for every process sharing the file.

   A write touches only the new version and the queue of keys waiting for
   search (zmem_pending), or for a new key its row instead of the queue
   (its id, above zmem_index_mark, says it waits); the strings and tokens
   of the waiting keys are rebuilt together later (zm__sq_index_pending),
   which writes each search page once for many keys instead of once per
   write. */
#include "sqlite_internal.h"

const zm_json zm__sq_null = {.type = ZM_JSON_NULL, .flags = ZM_JSON_F_SHARED};

/* ---------------------------------------------------------------------------
 * The content of a value: its strings, in document order
 * ------------------------------------------------------------------------- */

typedef struct content {
    const zm_json **strs; /* the string values, pointing into the value */
    size_t n, cap;
    size_t bytes; /* their total length */
    zm_allocator a;
    bool oom;
} content;

/* Appends the strings inside v (member names excluded). Values reaching here
   passed the wrappers' depth check, so the recursion is bounded. */
static void collect(content *c, const zm_json *v) {
    switch (zm_json_typeof(v)) {
    case ZM_JSON_STRING:
        if (c->n == c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 16;
            const zm_json **n = zm_realloc(c->a, (void *)c->strs, c->cap * sizeof *n,
                                           ncap * sizeof *n, _Alignof(const zm_json *));
            if (n == NULL) {
                c->oom = true;
                return;
            }
            c->strs = n;
            c->cap = ncap;
        }
        c->strs[c->n++] = v;
        c->bytes += v->u.s.len;
        return;
    case ZM_JSON_ARRAY:
        for (size_t i = 0; i < v->u.a.len && !c->oom; i++) collect(c, v->u.a.items[i]);
        return;
    case ZM_JSON_OBJECT:
        for (size_t i = 0; i < v->u.o.len && !c->oom; i++) collect(c, v->u.o.items[i].value);
        return;
    default: return;
    }
}

/* Appends the normalized tokens of len bytes at p to out (one space before
   each but the first), counting them in *count. Each is one token of FTS5's
   ascii tokenizer too: the same bytes make tokens (ASCII letters and
   digits, every non-ASCII byte). */
static void add_tokens(char *out, size_t *n, size_t *count, const char *p, size_t len) {
    size_t pos = 0, start, tlen, norm;
    char buf[ZM_STORE_MAX_TOKEN];
    while (zm__sq_token(p, len, &pos, &start, &tlen, buf, &norm)) {
        if (*n > 0) out[(*n)++] = ' ';
        memcpy(out + *n, buf, norm);
        *n += norm;
        (*count)++;
    }
}

/* ---------------------------------------------------------------------------
 * Keeping search up to date
 * ------------------------------------------------------------------------- */

/* One of a key's strings, copied out of the database. */
typedef struct taken {
    const char *p;
    size_t len;
} taken;

/* Decodes the token count of a one-column row of zmem_fts_docsize (SQLite's
   varint: 7 bits a byte, the high bit set on all but the last; a ninth
   byte gives 8). */
static uint64_t docsize_count(const unsigned char *b, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n && i < 9; i++) {
        if (i == 8) return (v << 8) | b[i];
        v = (v << 7) | (b[i] & 0x7F);
        if (!(b[i] & 0x80)) break;
    }
    return v;
}

/* What key id's token row was made from, in one read: *found whether it
   has one, *kept the token count FTS5 keeps for it, and the key's strings
   in document order (*n of them, copied into *out from ar). */
static zm_status indexed_strings(zm__sq *s, int64_t id, zm_arena *ar, bool *found, uint64_t *kept,
                                 taken **out, size_t *n) {
    sqlite3_stmt *q;
    zm_status st = zm__sq_stmt(s, ZM__SQ_FTS_TEXT, &q);
    if (st != ZM_OK) return st;
    size_t cap = 0;
    *found = false;
    *kept = 0;
    *out = NULL;
    *n = 0;
    sqlite3_bind_int64(q, 1, id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (!*found) {
            const unsigned char *b = sqlite3_column_blob(q, 0);
            int bn = sqlite3_column_bytes(q, 0);
            if (b == NULL && bn > 0) {
                rc = SQLITE_NOMEM;
                break;
            }
            *found = true;
            *kept = docsize_count(b, bn);
        }
        if (sqlite3_column_type(q, 1) == SQLITE_NULL) continue; /* no strings */
        const char *str = sqlite3_column_blob(q, 1);
        size_t len = (size_t)sqlite3_column_bytes(q, 1);
        if (str == NULL && len > 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            taken *t = zm_arena_alloc(ar, ncap * sizeof *t, _Alignof(taken));
            if (t == NULL) {
                st = ZM_ENOMEM;
                break;
            }
            if (*n) memcpy(t, *out, *n * sizeof *t);
            *out = t;
            cap = ncap;
        }
        char *c = len ? zm_arena_alloc(ar, len, 1) : NULL;
        if (len && c == NULL) {
            st = ZM_ENOMEM;
            break;
        }
        if (len) memcpy(c, str, len);
        (*out)[(*n)++] = (taken){c ? c : "", len};
    }
    sqlite3_reset(q);
    if (st == ZM_OK && rc != SQLITE_DONE) st = zm__sq_fail(s, rc, "updating the search index");
    return st;
}

/* The text key id's token row was made from, rebuilt into *text (from ar)
   from the key and its n strings: the key's strings and its token row are
   written and dropped together, from the same value, by this code, so the
   rebuilt text is the indexed one. As a guard, it must also give the token
   count FTS5 kept (kept), so strings made by a rule of tokens that counts
   differently are refused (ZM_ECORRUPT), never let into the index. The
   guard sees counts only: a change to the rule of tokens must bump the
   schema and rebuild the index (as the migration to schema 3 does). */
static zm_status indexed_text(zm__sq *s, const char *key, size_t key_len, const taken *strs,
                              size_t n, uint64_t kept, zm_arena *ar, char **text, size_t *len) {
    /* Tokens are never longer than what they come from, plus a space each. */
    size_t cap = key_len + 1;
    for (size_t i = 0; i < n; i++) cap += strs[i].len + 1;
    *text = zm_arena_alloc(ar, cap, 1);
    if (*text == NULL) return ZM_ENOMEM;
    size_t count = 0;
    *len = 0;
    add_tokens(*text, len, &count, key, key_len);
    for (size_t i = 0; i < n; i++) add_tokens(*text, len, &count, strs[i].p, strs[i].len);
    if (count != kept)
        return zm_store_fail(ZM_ECORRUPT,
                             "the search index of %s does not match the strings of a key "
                             "(%zu tokens rebuilt, %llu indexed): was it written by a build "
                             "with another rule of tokens?",
                             s->path, count, (unsigned long long)kept);
    return ZM_OK;
}

/* Runs the token row statement which (FTS_DELETE or FTS_INSERT) for key id
   with text. */
static zm_status token_row(zm__sq *s, zm__sq_stmt_id which, int64_t id, const char *text,
                           size_t len) {
    sqlite3_stmt *q;
    zm_status st = zm__sq_stmt(s, which, &q);
    if (st != ZM_OK) return st;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_bind_text(q, 2, len ? text : "", (int)len, SQLITE_STATIC);
    return rc == SQLITE_OK ? zm__sq_exec(s, which, "updating the search index")
                           : zm__sq_fail(s, rc, "updating the search index");
}

/* Runs the strings statement which for key id: ?2 the position (when
   pos >= 0), ?3 the bytes (when p is not NULL). */
static zm_status string_row(zm__sq *s, zm__sq_stmt_id which, int64_t id, int64_t pos, const char *p,
                            size_t len) {
    sqlite3_stmt *q;
    zm_status st = zm__sq_stmt(s, which, &q);
    if (st != ZM_OK) return st;
    sqlite3_bind_int64(q, 1, id);
    if (pos >= 0) sqlite3_bind_int64(q, 2, pos);
    int rc = p != NULL ? zm__sq_bind_bytes(q, 3, p, len) : SQLITE_OK;
    return rc == SQLITE_OK ? zm__sq_exec(s, which, "updating the search index")
                           : zm__sq_fail(s, rc, "updating the search index");
}

/* Drops the key's strings and its token row (FTS5 keeps no copy of the
   text: the row is deleted with its text rebuilt, indexed_text). Scratch
   memory from ar. */
static zm_status unindex(zm__sq *s, int64_t id, const char *key, size_t key_len, zm_arena *ar) {
    bool found;
    uint64_t kept;
    taken *strs = NULL;
    size_t n = 0;
    zm_status st = indexed_strings(s, id, ar, &found, &kept, &strs, &n);
    if (st == ZM_OK) st = string_row(s, ZM__SQ_STR_DELETE, id, -1, NULL, 0);
    if (st != ZM_OK || !found) return st;
    char *text;
    size_t len;
    if ((st = indexed_text(s, key, key_len, strs, n, kept, ar, &text, &len)) != ZM_OK) return st;
    return token_row(s, ZM__SQ_FTS_DELETE, id, text, len);
}

/* Makes key id's strings and token row those of value (its latest, live),
   touching only what changed: the token row is left as it is when its text
   is the same (a value whose strings give the same tokens), and each string
   is updated in place, left as it is, added or dropped by its position.
   may_have: whether the key may have strings and a token row (else it has
   neither: it was never indexed). Scratch memory from ar. */
static zm_status reindex(zm__sq *s, int64_t id, const char *key, size_t key_len,
                         const zm_json *value, bool may_have, zm_arena *ar) {
    bool found = false;
    uint64_t kept = 0;
    taken *old = NULL;
    size_t old_n = 0;
    zm_status st = may_have ? indexed_strings(s, id, ar, &found, &kept, &old, &old_n) : ZM_OK;
    if (st != ZM_OK) return st;
    char *otext = NULL;
    size_t olen = 0;
    if (found && (st = indexed_text(s, key, key_len, old, old_n, kept, ar, &otext, &olen)) != ZM_OK)
        return st;
    content c = {NULL, 0, 0, 0, zm_arena_allocator(ar), false};
    collect(&c, value);
    if (c.oom) return ZM_ENOMEM;
    /* Tokens are never longer than what they come from, plus one space each. */
    char *text = zm_arena_alloc(ar, key_len + c.bytes + c.n + 1, 1);
    if (text == NULL) return ZM_ENOMEM;
    size_t len = 0, count = 0;
    add_tokens(text, &len, &count, key, key_len);
    for (size_t i = 0; i < c.n; i++)
        add_tokens(text, &len, &count, c.strs[i]->u.s.ptr, c.strs[i]->u.s.len);
    if (!found || olen != len || (len && memcmp(otext, text, len) != 0)) {
        if (found) st = token_row(s, ZM__SQ_FTS_DELETE, id, otext, olen);
        if (st == ZM_OK) st = token_row(s, ZM__SQ_FTS_INSERT, id, text, len);
    }
    /* Strings without a token row: none are written so, but a key that may
       have some loses them, as it always did. */
    if (st == ZM_OK && may_have && !found) st = string_row(s, ZM__SQ_STR_DELETE, id, -1, NULL, 0);
    for (size_t i = 0; i < c.n && st == ZM_OK; i++) {
        const zm_json *v = c.strs[i];
        if (i < old_n && old[i].len == v->u.s.len &&
            (v->u.s.len == 0 || memcmp(old[i].p, v->u.s.ptr, v->u.s.len) == 0))
            continue;
        st = string_row(s, i < old_n ? ZM__SQ_STR_UPDATE : ZM__SQ_STR_INSERT, id, (int64_t)i,
                        v->u.s.ptr, v->u.s.len);
    }
    if (st == ZM_OK && old_n > c.n) st = string_row(s, ZM__SQ_STR_TRIM, id, (int64_t)c.n, NULL, 0);
    return st;
}

/* ---------------------------------------------------------------------------
 * Versions
 * ------------------------------------------------------------------------- */

/* What the database says of a key: its row and its latest version. */
typedef struct key_row {
    bool found;
    int64_t id, latest, latest_ts;
    bool live;
} key_row;

static zm_status find_key(zm__sq *s, const char *key, size_t key_len, key_row *out) {
    sqlite3_stmt *q;
    memset(out, 0, sizeof *out);
    zm_status st = zm__sq_stmt(s, ZM__SQ_KEY_FIND, &q);
    if (st != ZM_OK) return st;
    int rc = zm__sq_bind_bytes(q, 1, key, key_len);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        out->found = true;
        out->id = sqlite3_column_int64(q, 0);
        out->live = sqlite3_column_int(q, 1) == 0;
        out->latest = sqlite3_column_int64(q, 2);
        out->latest_ts = sqlite3_column_int64(q, 3);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? ZM_OK : zm__sq_fail(s, rc, "looking up a key");
}

/* A version about to be written. */
typedef struct new_version {
    const zm_store_write *w;
    const char *value; /* JSON text */
    size_t value_len;
    const char *meta; /* JSON text, NULL when none */
    size_t meta_len;
    bool deleted;
} new_version;

/* Appends version nv to its key inside the open write: the next number, a
   time no older than the latest, the trim to max_versions. *k says what the
   key was; on ZM_OK *number and *ts say what was written. */
static zm_status append(zm__sq *s, const new_version *nv, key_row *k, int64_t *number,
                        int64_t *ts) {
    const zm_store_write *w = nv->w;
    sqlite3_stmt *q;
    zm_status st;
    int rc;
    int64_t next = k->found ? k->latest + 1 : 1;
    if (w->version != 0 && (w->version > (uint64_t)INT64_MAX || (int64_t)w->version < next))
        return zm_store_fail(ZM_ECONFLICT,
                             "version %llu of the key is at or below its latest (%lld)",
                             (unsigned long long)w->version, (long long)(next - 1));
    *number = w->version != 0 ? (int64_t)w->version : next;
    *ts = k->found && w->ts_ms < k->latest_ts ? k->latest_ts : w->ts_ms;
    s->op_wrote = true; /* from here on, a failure may leave a change behind */
    if (!k->found) {
        if ((st = zm__sq_stmt(s, ZM__SQ_KEY_INSERT, &q)) != ZM_OK) return st;
        rc = zm__sq_bind_bytes(q, 1, w->key, w->key_len);
        sqlite3_bind_int(q, 2, !nv->deleted);
        st = rc == SQLITE_OK ? zm__sq_exec(s, ZM__SQ_KEY_INSERT, "adding a key")
                             : zm__sq_fail(s, rc, "adding a key");
        if (st != ZM_OK) return st;
        k->id = sqlite3_last_insert_rowid(s->db);
    } else if (k->live == nv->deleted) {
        /* The row changes only when the key is forgotten or comes back. */
        if ((st = zm__sq_stmt(s, ZM__SQ_KEY_UPDATE, &q)) != ZM_OK) return st;
        sqlite3_bind_int64(q, 1, k->id);
        sqlite3_bind_int(q, 2, !nv->deleted);
        if ((st = zm__sq_exec(s, ZM__SQ_KEY_UPDATE, "updating a key")) != ZM_OK) return st;
    }
    if ((st = zm__sq_stmt(s, ZM__SQ_VER_INSERT, &q)) != ZM_OK) return st;
    sqlite3_bind_int64(q, 1, k->id);
    sqlite3_bind_int64(q, 2, *number);
    sqlite3_bind_int64(q, 3, *ts);
    sqlite3_bind_int(q, 4, nv->deleted);
    rc = zm__sq_bind_bytes(q, 5, w->agent, w->agent ? w->agent_len : 0);
    if (rc == SQLITE_OK) rc = zm__sq_bind_bytes(q, 6, w->session, w->session ? w->session_len : 0);
    if (rc == SQLITE_OK) rc = sqlite3_bind_text(q, 7, nv->value, (int)nv->value_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = nv->meta ? sqlite3_bind_text(q, 8, nv->meta, (int)nv->meta_len, SQLITE_STATIC)
                      : sqlite3_bind_null(q, 8);
    st = rc == SQLITE_OK ? zm__sq_exec(s, ZM__SQ_VER_INSERT, "writing a version")
                         : zm__sq_fail(s, rc, "writing a version");
    if (st != ZM_OK) return st;
    size_t maxv = s->base.limits.max_versions;
    if (maxv != 0 && k->found) {
        if ((st = zm__sq_stmt(s, ZM__SQ_VER_TRIM, &q)) != ZM_OK) return st;
        sqlite3_bind_int64(q, 1, k->id);
        sqlite3_bind_int64(q, 2, maxv > (size_t)INT64_MAX ? INT64_MAX : (int64_t)maxv);
        if ((st = zm__sq_exec(s, ZM__SQ_VER_TRIM, "dropping old versions")) != ZM_OK) return st;
    }
    return ZM_OK;
}

/* Fills *out for a version just written: its pointers point into w. */
static void describe(const zm_store_write *w, int64_t number, int64_t ts, const zm_json *value,
                     const zm_json *meta, bool deleted, zm_store_version *out) {
    if (out == NULL) return;
    memset(out, 0, sizeof *out);
    out->version = (uint64_t)number;
    out->timestamp = ts;
    out->value = value;
    out->metadata = meta;
    out->agent = w->agent && w->agent_len ? w->agent : "";
    out->agent_len = w->agent ? w->agent_len : 0;
    out->session = w->session && w->session_len ? w->session : "";
    out->session_len = w->session ? w->session_len : 0;
    out->deleted = deleted;
}

/* JSON text of v from s->a (freed with zm_free(s->a, text, len + 1, 1)). */
static zm_status to_text(zm__sq *s, const zm_json *v, const char *what, char **text, size_t *len) {
    zm_status st = zm_json_write(s->a, v, 0, text, len);
    if (st == ZM_EINVAL)
        return zm_store_fail(st, "%s holds invalid UTF-8 or a non-finite number", what);
    if (st == ZM_OK && *len > (size_t)INT32_MAX) {
        zm_free(s->a, *text, *len + 1, 1);
        return zm_store_fail(ZM_ELIMIT, "%s is too large for the database", what);
    }
    return st;
}

/* ---------------------------------------------------------------------------
 * The queue of keys waiting for search
 * ------------------------------------------------------------------------- */

zm_status zm__sq_queue(zm__sq *s, int64_t id) {
    sqlite3_stmt *q;
    zm_status st = zm__sq_stmt(s, ZM__SQ_PENDING_ADD, &q);
    if (st != ZM_OK) return st;
    sqlite3_bind_int64(q, 1, id);
    return zm__sq_exec(s, ZM__SQ_PENDING_ADD, "queueing a key for search");
}

/* Rebuilds the strings and tokens of the waiting key at the current row of
   q (PENDING_LIST) from its latest version, scratch memory from ar. Keys
   whose id is above indexed_max (the largest id with a token row when the
   pass began) have nothing to drop: a key's strings and its token row are
   written and dropped together. */
static zm_status index_row(zm__sq *s, sqlite3_stmt *q, zm_arena *ar, int64_t indexed_max) {
    int64_t id = sqlite3_column_int64(q, 0);
    const void *key = sqlite3_column_blob(q, 1);
    size_t key_len = (size_t)sqlite3_column_bytes(q, 1);
    if (key == NULL && key_len > 0) return zm__sq_fail(s, SQLITE_NOMEM, "reading a key");
    if (key == NULL) key = "";
    if (sqlite3_column_int(q, 2) == 0) /* forgotten */
        return id > indexed_max ? ZM_OK : unindex(s, id, key, key_len, ar);
    const zm_json *value = NULL;
    zm_status st = zm__sq_col_json(s, q, 3, zm_arena_allocator(ar), &value);
    if (st != ZM_OK) return st;
    return reindex(s, id, key, key_len, value ? value : &zm__sq_null, id <= indexed_max, ar);
}

/* The largest id with a token row (0 when none) into *out. */
static zm_status indexed_max(zm__sq *s, int64_t *out) {
    sqlite3_stmt *q;
    zm_status st = zm__sq_stmt(s, ZM__SQ_FTS_MAX, &q);
    if (st != ZM_OK) return st;
    int rc = sqlite3_step(q);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    if (rc == SQLITE_ROW) rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? ZM_OK : zm__sq_fail(s, rc, "updating the search index");
}

zm_status zm__sq_index_pending(zm__sq *s) {
    sqlite3_stmt *q;
    int64_t max = 0;
    zm_status st = indexed_max(s, &max);
    if (st == ZM_OK) st = zm__sq_stmt(s, ZM__SQ_PENDING_LIST, &q);
    if (st != ZM_OK) return st;
    zm_arena ar;
    zm_arena_init(&ar, s->a);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        st = index_row(s, q, &ar, max);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_WITH_LIMIT, 1 << 16);
        if (st != ZM_OK) break;
    }
    sqlite3_reset(q);
    zm_arena_deinit(&ar);
    if (st == ZM_OK && rc != SQLITE_DONE) st = zm__sq_fail(s, rc, "updating the search index");
    if (st == ZM_OK) st = zm__sq_exec(s, ZM__SQ_PENDING_CLEAR, "updating the search index");
    if (st == ZM_OK) st = zm__sq_exec(s, ZM__SQ_MARK_SET, "updating the search index");
    return st;
}

zm_status zm__sq_index_for_search(zm__sq *s) {
    /* This or another process may have queued keys, before or in an open
       transaction: look (a small read). */
    sqlite3_stmt *q;
    zm_status st = zm__sq_ready(s);
    if (st == ZM_OK) st = zm__sq_stmt(s, ZM__SQ_PENDING_ANY, &q);
    if (st != ZM_OK) return st;
    int rc = sqlite3_step(q);
    bool any = rc == SQLITE_ROW && sqlite3_column_int(q, 0) != 0;
    if (rc == SQLITE_ROW) rc = SQLITE_DONE;
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) return zm__sq_fail(s, rc, "searching");
    if (!any) return ZM_OK;
    if (s->read_only)
        return zm_store_fail(ZM_EIO,
                             "the search index of %s has updates waiting from a writer, and the "
                             "store is opened read-only: a search through a store opened for "
                             "writing brings the index up to date",
                             s->path);
    st = zm__sq_op_begin(s);
    if (st == ZM_OK) st = zm__sq_op_end(s, zm__sq_index_pending(s));
    if (st == ZM_OK) s->queued = s->txn_queued = 0;
    return st;
}

/* Whether the next key queued makes enough wait to index them all. */
static bool queue_full(const zm__sq *s) {
    return s->queued + s->txn_queued + 1 >= ZM__SQ_QUEUE_MAX;
}

/* After a write of key id inside the open write: queues it (in
   zmem_pending, unless the write added the key: then its id, above the
   mark, says it waits), and when enough keys wait, indexes them all in this
   write. *flushed says whether it did. */
static zm_status queue_key(zm__sq *s, int64_t id, bool added, bool *flushed) {
    *flushed = false;
    zm_status st = added ? ZM_OK : zm__sq_queue(s, id);
    if (st != ZM_OK) return st;
    if (!queue_full(s)) return ZM_OK;
    *flushed = true;
    return zm__sq_index_pending(s);
}

/* Counts a finished write's queued key (a transaction's count joins the
   store's when it commits). */
static void queued(zm__sq *s, bool flushed) {
    if (flushed)
        s->queued = s->txn_queued = 0;
    else if (s->in_txn)
        s->txn_queued++;
    else
        s->queued++;
}

zm_status zm__sq_put(zm_store *base, const zm_store_write *w, zm_store_version *out) {
    zm__sq *s = (zm__sq *)base;
    new_version nv = {w, NULL, 0, NULL, 0, false};
    char *vt = NULL, *mt = NULL;
    size_t vl = 0, ml = 0;
    zm_status st = to_text(s, w->value, "the value", &vt, &vl);
    if (st != ZM_OK) return st;
    if (w->metadata != NULL && (st = to_text(s, w->metadata, "the metadata", &mt, &ml)) != ZM_OK) {
        zm_free(s->a, vt, vl + 1, 1);
        return st;
    }
    nv.value = vt;
    nv.value_len = vl;
    nv.meta = mt;
    nv.meta_len = ml;
    int64_t number = 0, ts = 0;
    /* Only SQLite can fail once the key's row is written (to_text ran
       first), unless the write indexes what waits: that one keeps its
       savepoint. */
    st = queue_full(s) ? zm__sq_op_begin(s) : zm__sq_op_begin_bare(s);
    if (st == ZM_OK) {
        key_row k;
        bool flushed = false;
        st = find_key(s, w->key, w->key_len, &k);
        bool added = st == ZM_OK && !k.found;
        if (st == ZM_OK) st = append(s, &nv, &k, &number, &ts);
        if (st == ZM_OK) st = queue_key(s, k.id, added, &flushed);
        st = zm__sq_op_end(s, st);
        if (st == ZM_OK) queued(s, flushed);
    }
    zm_free(s->a, vt, vl + 1, 1);
    if (mt != NULL) zm_free(s->a, mt, ml + 1, 1);
    if (st == ZM_OK) describe(w, number, ts, w->value, w->metadata, false, out);
    return st;
}

/* Erases every row of the key: its versions, its content and tokens, its
   place in the queue, the key itself (and keeps the mark of new keys at
   most the largest id left; the statement takes no ?1); then compacts the
   token index so no segment keeps the key's tokens (secure_delete
   overwrites what is freed). */
static zm_status purge(zm__sq *s, const zm_store_write *w, const key_row *k) {
    static const zm__sq_stmt_id ids[] = {ZM__SQ_VER_PURGE, ZM__SQ_PENDING_DEL, ZM__SQ_KEY_DELETE,
                                         ZM__SQ_MARK_LOWER};
    sqlite3_stmt *q;
    zm_arena ar;
    zm_arena_init(&ar, s->a);
    zm_status st = unindex(s, k->id, w->key, w->key_len, &ar);
    zm_arena_deinit(&ar);
    for (size_t i = 0; st == ZM_OK && i < sizeof ids / sizeof ids[0]; i++) {
        if ((st = zm__sq_stmt(s, ids[i], &q)) != ZM_OK) return st;
        sqlite3_bind_int64(q, 1, k->id);
        st = zm__sq_exec(s, ids[i], "purging a key");
    }
    if (st != ZM_OK) return st;
    return zm__sq_exec(s, ZM__SQ_FTS_OPTIMIZE, "compacting the search index");
}

zm_status zm__sq_forget(zm_store *base, const zm_store_write *w, bool purge_it,
                        zm_store_version *out, bool *existed) {
    zm__sq *s = (zm__sq *)base;
    *existed = false;
    sqlite3_stmt *q;
    /* What the purge runs after its commit is prepared first. */
    zm_status st = purge_it ? zm__sq_stmt(s, ZM__SQ_CHECKPOINT, &q) : ZM_OK;
    if (st == ZM_OK) st = zm__sq_op_begin(s);
    if (st != ZM_OK) return st;
    key_row k;
    int64_t number = 0, ts = 0;
    bool did = false, wrote = false, queued_key = false, flushed = false;
    st = find_key(s, w->key, w->key_len, &k);
    if (st == ZM_OK && purge_it && k.found) {
        did = true;
        st = purge(s, w, &k);
    } else if (st == ZM_OK && !purge_it && ((k.found && k.live) || w->version != 0)) {
        /* An import (an explicit version) records its deletion even on a
           key that holds no live value: the export had it. Only a key that
           was live has search entries to drop. */
        did = k.found && k.live;
        wrote = true;
        new_version nv = {w, "null", 4, NULL, 0, true};
        bool added = !k.found;
        st = append(s, &nv, &k, &number, &ts);
        queued_key = did || added;
        if (st == ZM_OK && queued_key) st = queue_key(s, k.id, added, &flushed);
    }
    st = zm__sq_op_end(s, st);
    if (st != ZM_OK) return st;
    if (queued_key) queued(s, flushed);
    *existed = did;
    if (purge_it) return zm__sq_after_purge(s);
    if (wrote) describe(w, number, ts, &zm__sq_null, NULL, true, out);
    return ZM_OK;
}
