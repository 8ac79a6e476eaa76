/* The SQLite backend's search. Exact, prefix and substring look at the keys
   and at the strings of each live key's latest value (zmem_strings, indexed
   by their bytes); tokens go through FTS5 and its bm25(). The database does
   the ranking and the limit; the snippets of the hits kept are cut here,
   with the same rules as the memory backend. */
#include "sqlite_internal.h"

/* Copies the snippet around a match at `at` of str (len bytes) into a. */
static zm_status set_snippet(zm_search_hit *h, const char *str, size_t len, size_t at,
                             zm_allocator a) {
    size_t start, n = zm__store_snippet(str, len, at, &start);
    char *c = zm__sq_strdup(a, str + start, n);
    if (c == NULL) return ZM_ENOMEM;
    h->snippet = c;
    h->snippet_len = n;
    return ZM_OK;
}

/* Finds the snippet of hit h (key id): the first string of the key's latest
   value, in document order, that matches. */
static zm_status find_snippet(zm__sq *s, int64_t id, zm_search_mode mode, const char *query,
                              size_t qlen, const zm__qterms *qt, zm_search_hit *h, zm_allocator a) {
    sqlite3_stmt *q;
    zm_status st = zm__sq_stmt(s, ZM__SQ_STR_OF_KEY, &q);
    if (st != ZM_OK) return st;
    sqlite3_bind_int64(q, 1, id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *str = sqlite3_column_blob(q, 0);
        size_t len = (size_t)sqlite3_column_bytes(q, 0);
        if (str == NULL && len > 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        if (str == NULL) str = "";
        size_t at;
        bool m = mode == ZM_SEARCH_TOKEN ? zm__store_token_in(str, len, qt, &at)
                                         : zm__store_bytes_match(mode, str, len, query, qlen, &at);
        if (m) {
            st = set_snippet(h, str, len, at, a);
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(q);
    if (st == ZM_OK && rc != SQLITE_DONE) st = zm__sq_fail(s, rc, "reading content for a snippet");
    return st;
}

/* Builds the FTS5 query: the distinct tokens, each in double quotes (tokens
   hold no quote), joined by OR. Memory from a; *len 0 when no token. */
static zm_status match_expr(const zm__qterms *qt, zm_allocator a, char **out, size_t *len,
                            size_t *cap_out) {
    *out = NULL;
    *len = 0;
    *cap_out = 0;
    if (qt->n == 0) return ZM_OK;
    size_t cap = 0;
    for (size_t i = 0; i < qt->n; i++) cap += qt->len[i] + 6;
    char *e = zm_alloc(a, cap, 1);
    if (e == NULL) return ZM_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < qt->n; i++) {
        if (i > 0) memcpy(e + n, " OR ", 4), n += 4;
        e[n++] = '"';
        memcpy(e + n, qt->buf[i], qt->len[i]);
        n += qt->len[i];
        e[n++] = '"';
    }
    *out = e;
    *len = n;
    *cap_out = cap;
    return ZM_OK;
}

/* The keys a search leaves out: from lo (a prefix) to below hi (the prefix
   followed by 0xFF); both empty when none is. */
typedef struct skip_range {
    const char *lo, *hi;
    size_t lo_len, hi_len;
} skip_range;

/* Binds ?1 (text or bytes), ?3 when p3 is not NULL, and ?4 and ?5. */
static int bind_search(sqlite3_stmt *q, const char *p1, size_t p1_len, bool p1_text, const char *p3,
                       size_t p3_len, const skip_range *sk) {
    int rc = p1_text ? sqlite3_bind_text(q, 1, p1, (int)p1_len, SQLITE_STATIC)
                     : zm__sq_bind_bytes(q, 1, p1, p1_len);
    if (rc == SQLITE_OK && p3 != NULL) rc = zm__sq_bind_bytes(q, 3, p3, p3_len);
    if (rc == SQLITE_OK) rc = zm__sq_bind_bytes(q, 4, sk->lo, sk->lo_len);
    if (rc == SQLITE_OK) rc = zm__sq_bind_bytes(q, 5, sk->hi, sk->hi_len);
    return rc;
}

/* Runs the count and the ranked query of one mode, bound alike. */
static zm_status run(zm__sq *s, zm__sq_stmt_id count_id, zm__sq_stmt_id list_id, const char *p1,
                     size_t p1_len, bool p1_text, const char *p3, size_t p3_len,
                     const skip_range *sk, size_t limit, zm_search_mode mode, const char *query,
                     size_t qlen, const zm__qterms *qt, zm_allocator a, zm_search_hit **hits,
                     size_t *count, size_t *total) {
    sqlite3_stmt *q;
    zm_status st = zm__sq_stmt(s, count_id, &q);
    if (st != ZM_OK) return st;
    int rc = bind_search(q, p1, p1_len, p1_text, p3, p3_len, sk);
    int64_t n = 0;
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) n = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (rc != SQLITE_ROW) return zm__sq_fail(s, rc, "searching");
    *total = (size_t)n;
    size_t cap = limit < (size_t)n ? limit : (size_t)n;
    if (cap == 0) return ZM_OK;
    zm_search_hit *h = zm_alloc_array(a, zm_search_hit, cap);
    if (h == NULL) return ZM_ENOMEM;
    int64_t *ids = zm_alloc_array(s->a, int64_t, cap);
    if (ids == NULL) return ZM_ENOMEM;
    if ((st = zm__sq_stmt(s, list_id, &q)) != ZM_OK) {
        zm_free_array(s->a, ids, cap);
        return st;
    }
    rc = bind_search(q, p1, p1_len, p1_text, p3, p3_len, sk);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)cap);
    size_t got = 0;
    while (rc == SQLITE_OK && got < cap && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        zm_search_hit *x = &h[got];
        memset(x, 0, sizeof *x);
        ids[got] = sqlite3_column_int64(q, 0);
        x->version = (uint64_t)sqlite3_column_int64(q, 2);
        x->score = mode == ZM_SEARCH_TOKEN    ? sqlite3_column_double(q, 3)
                   : sqlite3_column_int(q, 3) ? 1.0
                                              : 0.5;
        if ((st = zm__sq_col_str(s, q, 1, a, &x->key, &x->key_len)) != ZM_OK) break;
        got++;
        rc = SQLITE_OK;
    }
    if (st == ZM_OK && rc != SQLITE_OK && rc != SQLITE_DONE) st = zm__sq_fail(s, rc, "searching");
    sqlite3_reset(q);
    for (size_t i = 0; i < got && st == ZM_OK; i++)
        st = find_snippet(s, ids[i], mode, query, qlen, qt, &h[i], a);
    zm_free_array(s->a, ids, cap);
    if (st != ZM_OK) return st;
    *hits = got ? h : NULL;
    *count = got;
    return ZM_OK;
}

zm_status zm__sq_search(zm_store *base, const char *query, size_t query_len, zm_search_mode mode,
                        size_t limit, zm_allocator a, zm_search_hit **hits, size_t *count,
                        size_t *total) {
    return zm__sq_search_skip(base, query, query_len, mode, limit, NULL, 0, a, hits, count, total);
}

zm_status zm__sq_search_skip(zm_store *base, const char *query, size_t query_len,
                             zm_search_mode mode, size_t limit, const char *skip, size_t skip_len,
                             zm_allocator a, zm_search_hit **hits, size_t *count, size_t *total) {
    zm__sq *s = (zm__sq *)base;
    *hits = NULL;
    *count = 0;
    *total = 0;
    zm__qterms qt;
    qt.n = 0;
    char *expr = NULL, *upper = NULL, *skip_hi = NULL;
    size_t expr_len = 0, expr_cap = 0, upper_len = 0;
    skip_range sk = {"", "", 0, 0};
    zm_status st = ZM_OK;
    if (skip_len > 0) {
        /* A key starts with skip when it sorts from skip to below skip
           followed by 0xFF (keys are UTF-8: they never hold that byte). */
        if (skip_len == SIZE_MAX || (skip_hi = zm_alloc(s->a, skip_len + 1, 1)) == NULL)
            return ZM_ENOMEM;
        memcpy(skip_hi, skip, skip_len);
        skip_hi[skip_len] = (char)0xFF;
        sk = (skip_range){skip, skip_hi, skip_len, skip_len + 1};
    }
    if (mode == ZM_SEARCH_TOKEN) {
        zm__store_query_terms(query, query_len, false, &qt);
        st = match_expr(&qt, s->a, &expr, &expr_len, &expr_cap);
        if (st != ZM_OK || expr_len == 0) goto done;
    } else if (mode == ZM_SEARCH_PREFIX || (mode == ZM_SEARCH_SUBSTRING && query_len == 0)) {
        /* Every UTF-8 string that starts with the query sorts below the query
           followed by 0xFF, a byte UTF-8 never holds. */
        upper_len = query_len + 1;
        if ((upper = zm_alloc(s->a, upper_len, 1)) == NULL) {
            st = ZM_ENOMEM;
            goto done;
        }
        if (query_len) memcpy(upper, query, query_len);
        upper[query_len] = (char)0xFF;
    }
    /* Every acknowledged write is searched: the keys waiting first. */
    st = zm__sq_index_for_search(s);
    if (st == ZM_OK && (st = zm__sq_read_begin(s)) == ZM_OK) {
        if (mode == ZM_SEARCH_TOKEN)
            st = run(s, ZM__SQ_TOKEN_COUNT, ZM__SQ_TOKEN, expr, expr_len, true, NULL, 0, &sk, limit,
                     mode, query, query_len, &qt, a, hits, count, total);
        else if (upper != NULL)
            st = run(s, ZM__SQ_PREFIX_COUNT, ZM__SQ_PREFIX, query, query_len, false, upper,
                     upper_len, &sk, limit, ZM_SEARCH_PREFIX, query, query_len, &qt, a, hits, count,
                     total);
        else if (mode == ZM_SEARCH_EXACT)
            st = run(s, ZM__SQ_EXACT_COUNT, ZM__SQ_EXACT, query, query_len, false, NULL, 0, &sk,
                     limit, mode, query, query_len, &qt, a, hits, count, total);
        else
            st = run(s, ZM__SQ_SUBSTR_COUNT, ZM__SQ_SUBSTR, query, query_len, false, NULL, 0, &sk,
                     limit, mode, query, query_len, &qt, a, hits, count, total);
        zm__sq_read_end(s);
    }
done:
    if (skip_hi != NULL) zm_free(s->a, skip_hi, skip_len + 1, 1);
    if (expr != NULL) zm_free(s->a, expr, expr_cap, 1);
    if (upper != NULL) zm_free(s->a, upper, upper_len, 1);
    if (st != ZM_OK) {
        *hits = NULL;
        *count = 0;
        *total = 0;
    }
    return st;
}
