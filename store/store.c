/* The store interface: the wrappers every caller goes through (argument
   checks, the lock, ENOTSUP for what a backend lacks), the header's set-up,
   error messages, and zm_store_open's choice of backend. */
#define _GNU_SOURCE /* PTHREAD_MUTEX_RECURSIVE */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ---------------------------------------------------------------------------
 * Error messages: one per thread, as errno.
 * ------------------------------------------------------------------------- */

static _Thread_local char errmsg[256];

zm_status zm_store_fail(zm_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(errmsg, sizeof errmsg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        errmsg[0] = '\0';
    } else if ((size_t)n >= sizeof errmsg) {
        /* Cut at a character boundary: drop a partial UTF-8 sequence. */
        size_t end = sizeof errmsg - 1;
        size_t i = end;
        while (i > 0 && ((unsigned char)errmsg[i - 1] & 0xC0) == 0x80) i--;
        if (i > 0 && ((unsigned char)errmsg[i - 1] & 0xC0) == 0xC0) {
            unsigned char lead = (unsigned char)errmsg[i - 1];
            size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
            if (end - (i - 1) < need) end = i - 1;
        }
        errmsg[end] = '\0';
    }
    return st;
}

const char *zm_store_errmsg(void) {
    return errmsg;
}

static void clear_err(void) {
    errmsg[0] = '\0';
}

/* ---------------------------------------------------------------------------
 * The header
 * ------------------------------------------------------------------------- */

zm_status zm_store_base_init(zm_store *s, const zm_store_vtable *vt,
                             const zm_store_limits *limits) {
    memset(s, 0, sizeof *s);
    s->vtable = vt;
    if (limits != NULL) s->limits = *limits;
    if (s->limits.max_key_len == 0) s->limits.max_key_len = ZM_STORE_DEFAULT_MAX_KEY_LEN;
    if (s->limits.max_value_bytes == 0)
        s->limits.max_value_bytes = ZM_STORE_DEFAULT_MAX_VALUE_BYTES;
    if (s->limits.max_depth == 0) s->limits.max_depth = ZM_STORE_DEFAULT_MAX_DEPTH;
    pthread_mutexattr_t attr;
    if (pthread_mutexattr_init(&attr) != 0) return ZM_ENOMEM;
    int rc = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    if (rc == 0) rc = pthread_mutex_init(&s->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    return rc == 0 ? ZM_OK : ZM_ENOMEM;
}

void zm_store_base_deinit(zm_store *s) {
    pthread_mutex_destroy(&s->lock);
}

/* Whether the backend filled member m of its vtable. */
#define HAS(s, m)                                                                                  \
    ((s)->vtable->size >= offsetof(zm_store_vtable, m) + sizeof((s)->vtable->m) &&                 \
     (s)->vtable->m != NULL)

static void lock(zm_store *s) {
    pthread_mutex_lock(&s->lock);
}

static void unlock(zm_store *s) {
    pthread_mutex_unlock(&s->lock);
}

static zm_status unsupported(const zm_store *s, const char *what) {
    return zm_store_fail(ZM_ENOTSUP, "the %s store does not support %s", s->vtable->name, what);
}

/* ---------------------------------------------------------------------------
 * Opening and closing
 * ------------------------------------------------------------------------- */

zm_status zm_store_open(const char *location, const zm_store_opts *opts, zm_store **out) {
    clear_err();
    zm_store_opts o = zm__store_opts(opts);
    if (location == NULL || strcmp(location, ":memory:") == 0)
        return zm_store_memory_create(o.alloc, &o.limits, out);
    if (location[0] == '\0') return zm_store_fail(ZM_EINVAL, "the database path is empty");
    if (zm__store_is_postgres(location)) return zm_store_postgres_open(location, &o, out);
    return zm_store_sqlite_open(location, &o, out);
}

bool zm__store_is_postgres(const char *location) {
    return strncmp(location, "postgresql://", 13) == 0 ||
           strncmp(location, "postgres://", 11) == 0 || strchr(location, '=') != NULL;
}

bool zm_store_backend_available(const char *name) {
    if (name == NULL) return false;
    if (strcmp(name, "memory") == 0) return true;
    if (strcmp(name, "sqlite") == 0) return zm__store_have_sqlite();
    if (strcmp(name, "postgres") == 0) return zm__store_have_postgres();
    return false;
}

void zm_store_close(zm_store *s) {
    if (s == NULL) return;
    s->vtable->close(s);
}

const char *zm_store_backend(const zm_store *s) {
    return s->vtable->name;
}

void zm_store_get_limits(const zm_store *s, zm_store_limits *out) {
    *out = s->limits;
}

/* ---------------------------------------------------------------------------
 * Checks every backend would make the same way
 * ------------------------------------------------------------------------- */

/* Checks name (what says which: "key", "agent id") against s's limits,
   setting the message on failure. */
static zm_status check_name(const zm_store *s, const char *what, const char *p, size_t len,
                            bool may_be_empty) {
    zm_status st = zm_store_check_name(&s->limits, p, len, may_be_empty);
    if (st == ZM_OK) return ZM_OK;
    if (st == ZM_ELIMIT)
        return zm_store_fail(st, "%s is %zu bytes long; the limit is %zu", what, len,
                             s->limits.max_key_len);
    if (len == 0) return zm_store_fail(st, "%s is empty", what);
    return zm_store_fail(st, "%s is not valid UTF-8", what);
}

/* Checks a value (what: "value", "metadata"), adding to *bytes. */
static zm_status check_value(const zm_store *s, const char *what, const zm_json *v, size_t *bytes) {
    zm_store_why why;
    zm_status st = zm_store_check_value(&s->limits, v, bytes, &why);
    switch (why) {
    case ZM_STORE_WHY_NONE: return st;
    case ZM_STORE_WHY_SIZE:
        return zm_store_fail(st, "%s is over the store's size limit of %zu bytes", what,
                             s->limits.max_value_bytes);
    case ZM_STORE_WHY_DEPTH:
        return zm_store_fail(st, "%s is nested deeper than the store's limit of %zu levels", what,
                             s->limits.max_depth);
    case ZM_STORE_WHY_UTF8: return zm_store_fail(st, "%s holds invalid UTF-8", what);
    default: return zm_store_fail(st, "%s holds a non-finite number", what);
    }
}

/* The checks of a write: key, writer, value and metadata (unless
   key_only, for forget). */
static zm_status check_write(const zm_store *s, const zm_store_write *w, bool key_only) {
    zm_status st;
    if ((st = check_name(s, "key", w->key, w->key_len, false)) != ZM_OK) return st;
    if ((st = check_name(s, "agent id", w->agent, w->agent ? w->agent_len : 0, true)) != ZM_OK)
        return st;
    if ((st = check_name(s, "session id", w->session, w->session ? w->session_len : 0, true)) !=
        ZM_OK)
        return st;
    if (key_only) return ZM_OK;
    size_t bytes = 0;
    if ((st = check_value(s, "value", w->value, &bytes)) != ZM_OK) return st;
    if (w->metadata != NULL && (st = check_value(s, "metadata", w->metadata, &bytes)) != ZM_OK)
        return st;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Calls
 * ------------------------------------------------------------------------- */

zm_status zm_store_put(zm_store *s, const zm_store_write *w, zm_store_version *out) {
    clear_err();
    if (w == NULL || w->value == NULL) return zm_store_fail(ZM_EINVAL, "a write needs a value");
    zm_status cs = check_write(s, w, false);
    if (cs != ZM_OK) return cs;
    lock(s);
    zm_status st = s->vtable->put(s, w, out);
    unlock(s);
    return st;
}

zm_status zm_store_get(zm_store *s, const char *key, size_t key_len, int64_t as_of_ms,
                       zm_allocator a, zm_store_version *out) {
    clear_err();
    if (key == NULL && key_len > 0) return zm_store_fail(ZM_EINVAL, "the key is NULL");
    lock(s);
    zm_status st = s->vtable->get(s, key ? key : "", key_len, as_of_ms, a, out);
    unlock(s);
    return st;
}

zm_status zm_store_head(zm_store *s, const char *key, size_t key_len, zm_allocator a,
                        uint64_t *version) {
    clear_err();
    if (key == NULL && key_len > 0) return zm_store_fail(ZM_EINVAL, "the key is NULL");
    if (version == NULL) return zm_store_fail(ZM_EINVAL, "no version to fill");
    *version = 0;
    lock(s);
    zm_status st;
    if (HAS(s, head)) {
        st = s->vtable->head(s, key ? key : "", key_len, version);
    } else {
        zm_store_version v;
        memset(&v, 0, sizeof v);
        st = s->vtable->get(s, key ? key : "", key_len, -1, a, &v);
        if (st == ZM_OK || (st == ZM_ENOTFOUND && v.deleted)) *version = v.version;
    }
    unlock(s);
    return st;
}

zm_status zm_store_history(zm_store *s, const char *key, size_t key_len, int64_t as_of_ms,
                           zm_allocator a, zm_store_version **out, size_t *count) {
    clear_err();
    if (key == NULL && key_len > 0) return zm_store_fail(ZM_EINVAL, "the key is NULL");
    if (!HAS(s, history)) return unsupported(s, "history");
    lock(s);
    zm_status st = s->vtable->history(s, key ? key : "", key_len, as_of_ms, a, out, count);
    unlock(s);
    return st;
}

zm_status zm_store_forget(zm_store *s, const zm_store_write *w, bool purge, zm_store_version *out,
                          bool *existed) {
    clear_err();
    if (w == NULL) return zm_store_fail(ZM_EINVAL, "no write was given");
    zm_status cs = check_write(s, w, true);
    if (cs != ZM_OK) return cs;
    if (!HAS(s, forget)) return unsupported(s, "forget");
    lock(s);
    bool ex = false;
    zm_status st = s->vtable->forget(s, w, purge, out, &ex);
    unlock(s);
    if (st == ZM_OK && existed != NULL) *existed = ex;
    return st;
}

void zm_store_idle(zm_store *s) {
    if (s == NULL || !HAS(s, idle)) return;
    lock(s);
    s->vtable->idle(s);
    unlock(s);
}

zm_status zm_store_stats_get(zm_store *s, zm_store_stats *out) {
    clear_err();
    memset(out, 0, sizeof *out);
    if (!HAS(s, stats)) return unsupported(s, "stats");
    lock(s);
    zm_status st = s->vtable->stats(s, out);
    unlock(s);
    return st;
}

zm_status zm_store_memory_get(zm_store *s, zm_store_memory *out) {
    clear_err();
    memset(out, 0, sizeof *out);
    out->what = "not counted by this backend";
    if (!HAS(s, memory)) return unsupported(s, "memory figures");
    lock(s);
    zm_status st = s->vtable->memory(s, out);
    unlock(s);
    return st;
}

zm_status zm_store_search(zm_store *s, const char *query, size_t query_len, zm_search_mode mode,
                          size_t limit, zm_allocator a, zm_search_hit **hits, size_t *count,
                          size_t *total) {
    clear_err();
    if ((unsigned)mode > ZM_SEARCH_TOKEN)
        return zm_store_fail(ZM_EINVAL, "unknown search mode %d", (int)mode);
    if (query == NULL && query_len > 0) return zm_store_fail(ZM_EINVAL, "the query is NULL");
    if (!HAS(s, search)) return unsupported(s, "search");
    lock(s);
    zm_status st =
        s->vtable->search(s, query ? query : "", query_len, mode, limit, a, hits, count, total);
    unlock(s);
    return st;
}

zm_status zm_store_search_skip(zm_store *s, const char *query, size_t query_len,
                               zm_search_mode mode, size_t limit, const char *skip, size_t skip_len,
                               zm_allocator a, zm_search_hit **hits, size_t *count, size_t *total) {
    if (skip_len == 0)
        return zm_store_search(s, query, query_len, mode, limit, a, hits, count, total);
    clear_err();
    if ((unsigned)mode > ZM_SEARCH_TOKEN)
        return zm_store_fail(ZM_EINVAL, "unknown search mode %d", (int)mode);
    if (query == NULL && query_len > 0) return zm_store_fail(ZM_EINVAL, "the query is NULL");
    if (skip == NULL) return zm_store_fail(ZM_EINVAL, "the prefix to skip is NULL");
    if (!HAS(s, search_skip)) return unsupported(s, "search_skip");
    lock(s);
    zm_status st = s->vtable->search_skip(s, query ? query : "", query_len, mode, limit, skip,
                                          skip_len, a, hits, count, total);
    unlock(s);
    return st;
}

zm_status zm_store_link(zm_store *s, const zm_store_link_req *l, bool *created) {
    clear_err();
    if (l == NULL) return zm_store_fail(ZM_EINVAL, "no link was given");
    zm_status cs;
    size_t bytes = 0;
    if ((cs = check_name(s, "from", l->from, l->from_len, false)) != ZM_OK ||
        (cs = check_name(s, "to", l->to, l->to_len, false)) != ZM_OK ||
        (cs = check_name(s, "relation", l->relation, l->relation_len, false)) != ZM_OK ||
        (cs = check_name(s, "agent id", l->agent, l->agent ? l->agent_len : 0, true)) != ZM_OK ||
        (l->metadata != NULL && (cs = check_value(s, "metadata", l->metadata, &bytes)) != ZM_OK))
        return cs;
    if (!HAS(s, link)) return unsupported(s, "link");
    lock(s);
    bool c = false;
    zm_status st = s->vtable->link(s, l, &c);
    unlock(s);
    if (st == ZM_OK && created != NULL) *created = c;
    return st;
}

zm_status zm_store_unlink(zm_store *s, const char *from, size_t from_len, const char *to,
                          size_t to_len, const char *relation, size_t relation_len, bool *removed) {
    clear_err();
    if ((from == NULL && from_len) || (to == NULL && to_len) || (relation == NULL && relation_len))
        return zm_store_fail(ZM_EINVAL, "a name of the edge is NULL");
    if (!HAS(s, unlink)) return unsupported(s, "unlink");
    lock(s);
    bool r = false;
    zm_status st = s->vtable->unlink(s, from ? from : "", from_len, to ? to : "", to_len,
                                     relation ? relation : "", relation_len, &r);
    unlock(s);
    if (st == ZM_OK && removed != NULL) *removed = r;
    return st;
}

zm_status zm_store_neighbors(zm_store *s, const zm_store_walk *w, zm_allocator a,
                             zm_store_hit **hits, size_t *count, bool *truncated) {
    clear_err();
    if (w == NULL || (w->node == NULL && w->node_len > 0))
        return zm_store_fail(ZM_EINVAL, "no start node was given");
    if (w->dir < ZM_STORE_OUT || w->dir > ZM_STORE_BOTH)
        return zm_store_fail(ZM_EINVAL, "unknown direction %d", (int)w->dir);
    if (w->max_depth < 1 || w->max_depth > ZM_STORE_MAX_WALK_DEPTH)
        return zm_store_fail(ZM_EINVAL, "depth must be within 1..%d", ZM_STORE_MAX_WALK_DEPTH);
    if (!HAS(s, neighbors)) return unsupported(s, "neighbors");
    lock(s);
    zm_status st = s->vtable->neighbors(s, w, a, hits, count, truncated);
    unlock(s);
    return st;
}

/* ---------------------------------------------------------------------------
 * Transactions. The lock is taken at the outermost begin and given back at
 * the outermost commit or rollback; the recursive mutex lets the calls in
 * between take it again.
 * ------------------------------------------------------------------------- */

zm_status zm_store_begin(zm_store *s) {
    clear_err();
    lock(s);
    if (s->txn_depth > 0) {
        unlock(s);
        return zm_store_fail(ZM_EINVAL, "a transaction is open already (they do not nest)");
    }
    zm_status st = HAS(s, begin) ? s->vtable->begin(s) : ZM_OK;
    if (st != ZM_OK) {
        unlock(s);
        return st;
    }
    s->txn_depth = 1;
    return ZM_OK; /* the lock stays held until commit or rollback */
}

zm_status zm_store_commit(zm_store *s) {
    clear_err();
    lock(s);
    if (s->txn_depth == 0) {
        unlock(s);
        return zm_store_fail(ZM_EINVAL, "commit without a transaction");
    }
    s->txn_depth = 0;
    zm_status st = HAS(s, commit) ? s->vtable->commit(s) : ZM_OK;
    unlock(s);
    unlock(s); /* the one begin took */
    return st;
}

zm_status zm_store_rollback(zm_store *s) {
    clear_err();
    lock(s);
    if (s->txn_depth == 0) {
        unlock(s);
        return zm_store_fail(ZM_EINVAL, "rollback without a transaction");
    }
    s->txn_depth = 0;
    zm_status st = HAS(s, rollback) ? s->vtable->rollback(s) : unsupported(s, "rollback");
    unlock(s);
    unlock(s);
    return st;
}

/* ---------------------------------------------------------------------------
 * Export
 * ------------------------------------------------------------------------- */

zm_status zm_store_export_open(zm_store *s, zm_allocator a, zm_store_cursor **out) {
    clear_err();
    if (!HAS(s, export_open) || !HAS(s, cursor_next) || !HAS(s, cursor_close))
        return unsupported(s, "export");
    lock(s);
    zm_status st = s->vtable->export_open(s, a, out);
    if (st != ZM_OK) {
        unlock(s);
        return st;
    }
    (*out)->store = s;
    return ZM_OK; /* the lock is held until close */
}

zm_status zm_store_cursor_next(zm_store_cursor *c, zm_store_record *out, bool *done) {
    clear_err();
    return c->store->vtable->cursor_next(c, out, done);
}

void zm_store_cursor_close(zm_store_cursor *c) {
    if (c == NULL) return;
    zm_store *s = c->store;
    s->vtable->cursor_close(c);
    unlock(s);
}
