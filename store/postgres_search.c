/* The postgres backend's search: the server finds and ranks the keys (bytes
   compared as bytea; BM25 over zmem's own terms, computed in SQL), and the
   snippets are cut here from the latest values of the hits kept, as the
   memory backend cuts them. */
#include <stdlib.h>

#include "postgres_internal.h"

/* Copies a window of the matched string around the match into a. */
static zm_status set_snippet(zm_search_hit *h, const zm__match *m, zm_allocator a) {
    size_t start, n = zm__store_snippet(m->str, m->len, m->at, &start);
    char *p = zm_alloc(a, n + 1, 1);
    if (p == NULL) return ZM_ENOMEM;
    memcpy(p, m->str + start, n);
    p[n] = '\0';
    h->snippet = p;
    h->snippet_len = n;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * The search
 * ------------------------------------------------------------------------- */

/* Runs the statement of the mode; *r NULL (and ZM_OK) when no term of a
   token query can match. */
static zm_status run_query(zm__pg *s, const char *query, size_t query_len, zm_search_mode mode,
                           size_t limit, const char *skip, size_t skip_len, const zm__qterms *qt,
                           PGresult **r) {
    *r = NULL;
    int64_t lim = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
    if (lim == 0) lim = 1; /* the total needs a row; hits past limit are dropped */
    zm__pg_params p = {.n = 0};
    if (mode != ZM_SEARCH_TOKEN) {
        zm__pg_p_text(&p, query, query_len);
        zm__pg_p_int8(&p, (int64_t)query_len);
        zm__pg_p_int8(&p, mode == ZM_SEARCH_EXACT ? 0 : mode == ZM_SEARCH_PREFIX ? 1 : 2);
        zm__pg_p_int8(&p, lim);
        zm__pg_p_text(&p, skip_len ? skip : "", skip_len);
        zm__pg_p_int8(&p, (int64_t)skip_len);
        return zm__pg_exec(s, ZM__PG_SEARCH_BYTES, &p, "searching", r);
    }
    if (qt->n == 0) return ZM_OK;
    size_t room = 3;
    for (size_t i = 0; i < qt->n; i++) room += qt->len[i] + 3;
    char *lit = zm_arena_alloc(&s->scratch, room, 1);
    if (lit == NULL) return ZM_ENOMEM;
    size_t o = 0;
    lit[o++] = '{';
    for (size_t i = 0; i < qt->n; i++) {
        if (i > 0) lit[o++] = ',';
        o += zm__pg_array_elem(lit + o, qt->buf[i], qt->len[i]);
    }
    lit[o++] = '}';
    lit[o] = '\0';
    zm__pg_p_literal(&p, lit);
    zm__pg_p_int8(&p, lim);
    zm__pg_p_text(&p, skip_len ? skip : "", skip_len);
    zm__pg_p_int8(&p, (int64_t)skip_len);
    return zm__pg_exec(s, ZM__PG_SEARCH_TOKENS, &p, "searching", r);
}

/* Fills hit i from row i of r (key, score, version; the snippet from the
   value in column 4). */
static zm_status read_hit(zm__pg *s, const PGresult *r, int i, zm_search_mode mode,
                          const char *query, size_t query_len, const zm__qterms *qt, zm_allocator a,
                          zm_search_hit *h) {
    memset(h, 0, sizeof *h);
    h->key = zm__pg_str(r, i, 0, a, &h->key_len);
    if (h->key == NULL) return ZM_ENOMEM;
    h->score = strtod(PQgetvalue(r, i, 1), NULL);
    h->version = (uint64_t)zm__pg_int(r, i, 2);
    const zm_json *value = NULL;
    zm_status st = zm__pg_json(s, r, i, 4, zm_arena_allocator(&s->scratch), &value);
    if (st != ZM_OK || value == NULL) return st;
    zm__match m;
    if (zm__store_first_match(value, mode, query, query_len, mode == ZM_SEARCH_TOKEN ? qt : NULL,
                              &m))
        return set_snippet(h, &m, a);
    return ZM_OK;
}

zm_status zm__pg_search(zm_store *base, const char *query, size_t query_len, zm_search_mode mode,
                        size_t limit, zm_allocator a, zm_search_hit **hits, size_t *count,
                        size_t *total) {
    return zm__pg_search_skip(base, query, query_len, mode, limit, NULL, 0, a, hits, count, total);
}

zm_status zm__pg_search_skip(zm_store *base, const char *query, size_t query_len,
                             zm_search_mode mode, size_t limit, const char *skip, size_t skip_len,
                             zm_allocator a, zm_search_hit **hits, size_t *count, size_t *total) {
    zm__pg *s = (zm__pg *)base;
    *hits = NULL;
    *count = 0;
    *total = 0;
    zm__qterms qt;
    qt.n = 0;
    if (mode == ZM_SEARCH_TOKEN) zm__store_query_terms(query, query_len, true, &qt);
    zm_status st = zm__pg_ready(s);
    PGresult *r = NULL;
    if (st == ZM_OK) st = run_query(s, query, query_len, mode, limit, skip, skip_len, &qt, &r);
    size_t n = 0;
    zm_search_hit *out = NULL;
    if (st == ZM_OK && r != NULL) {
        size_t rows = (size_t)PQntuples(r);
        if (rows > 0) *total = (size_t)zm__pg_int(r, 0, 3);
        n = rows < limit ? rows : limit;
        if (n > 0 && (out = zm_alloc_array(a, zm_search_hit, n)) == NULL) st = ZM_ENOMEM;
        for (size_t i = 0; st == ZM_OK && i < n; i++)
            st = read_hit(s, r, (int)i, mode, query, query_len, &qt, a, &out[i]);
    }
    PQclear(r);
    zm__pg_done(s);
    if (st != ZM_OK) {
        if (out != NULL) zm_free_array(a, out, n);
        *total = 0;
        return st;
    }
    *hits = out;
    *count = n;
    return ZM_OK;
}
