/* The postgres backend's search: the server finds and ranks the keys (bytes
   compared as bytea; BM25 over zmem's own terms, computed in SQL), and the
   snippets are cut here from the latest values of the hits kept, as the
   memory backend cuts them. */
#include <stdlib.h>

#include "postgres_internal.h"

/* Distinct query terms used; further ones are ignored (as in memory). */
#define MAX_QUERY_TERMS 32
/* Bytes before a match kept in a snippet. */
#define SNIPPET_LEAD 40

/* The query's distinct tokens. */
typedef struct qterms {
    char buf[MAX_QUERY_TERMS][ZM_STORE_MAX_TOKEN];
    size_t len[MAX_QUERY_TERMS];
    size_t n;
} qterms;

/* Splits a query into its first MAX_QUERY_TERMS distinct tokens. Tokens
   that are not UTF-8 are dropped: no stored term can equal one. */
static void query_tokens(const char *q, size_t qlen, qterms *qt) {
    size_t pos = 0;
    zm__tok t;
    qt->n = 0;
    while (qt->n < MAX_QUERY_TERMS && zm__store_next_token(q, qlen, &pos, &t, qt->buf[qt->n])) {
        size_t norm = t.norm_len;
        if (!zm_utf8_valid(qt->buf[qt->n], norm)) continue;
        bool dup = false;
        for (size_t i = 0; i < qt->n && !dup; i++)
            dup = qt->len[i] == norm && memcmp(qt->buf[i], qt->buf[qt->n], norm) == 0;
        if (!dup) qt->len[qt->n++] = norm;
    }
}

/* ---------------------------------------------------------------------------
 * Snippets: the first string of the value (document order) that matches.
 * ------------------------------------------------------------------------- */

typedef struct match {
    const char *str;
    size_t len;
    size_t at;
} match;

/* Whether len bytes at s match the query in mode; *at where. */
static bool bytes_match(zm_search_mode mode, const char *s, size_t len, const char *q, size_t qlen,
                        size_t *at) {
    *at = 0;
    switch (mode) {
    case ZM_SEARCH_EXACT: return len == qlen && (qlen == 0 || memcmp(s, q, qlen) == 0);
    case ZM_SEARCH_PREFIX: return len >= qlen && (qlen == 0 || memcmp(s, q, qlen) == 0);
    default:
        if (qlen == 0) return true;
        for (size_t i = 0; i + qlen <= len; i++) {
            if (s[i] == q[0] && memcmp(s + i, q, qlen) == 0) {
                *at = i;
                return true;
            }
        }
        return false;
    }
}

/* Whether a string of text holds one of the query's tokens; *at where. */
static bool token_in(const char *text, size_t len, const qterms *qt, size_t *at) {
    size_t pos = 0;
    zm__tok t;
    char buf[ZM_STORE_MAX_TOKEN];
    while (zm__store_next_token(text, len, &pos, &t, buf)) {
        for (size_t i = 0; i < qt->n; i++) {
            if (qt->len[i] == t.norm_len && memcmp(qt->buf[i], buf, t.norm_len) == 0) {
                *at = t.start;
                return true;
            }
        }
    }
    return false;
}

/* Finds the first string inside v that matches (tokens when qt is not
   NULL). Stored values only: their depth is bounded. */
static bool find_match(const zm_json *v, zm_search_mode mode, const char *q, size_t qlen,
                       const qterms *qt, match *m) {
    switch (zm_json_typeof(v)) {
    case ZM_JSON_STRING: {
        bool hit = qt ? token_in(v->u.s.ptr, v->u.s.len, qt, &m->at)
                      : bytes_match(mode, v->u.s.ptr, v->u.s.len, q, qlen, &m->at);
        if (!hit) return false;
        m->str = v->u.s.ptr;
        m->len = v->u.s.len;
        return true;
    }
    case ZM_JSON_ARRAY:
        for (size_t i = 0; i < v->u.a.len; i++)
            if (find_match(v->u.a.items[i], mode, q, qlen, qt, m)) return true;
        return false;
    case ZM_JSON_OBJECT:
        for (size_t i = 0; i < v->u.o.len; i++)
            if (find_match(v->u.o.items[i].value, mode, q, qlen, qt, m)) return true;
        return false;
    default: return false;
    }
}

/* Copies a window of the matched string around the match, on character
   boundaries, into a. */
static zm_status set_snippet(zm_search_hit *h, const match *m, zm_allocator a) {
    size_t start = m->at > SNIPPET_LEAD ? m->at - SNIPPET_LEAD : 0;
    size_t end = start + ZM_STORE_SNIPPET < m->len ? start + ZM_STORE_SNIPPET : m->len;
    while (start < m->at && ((unsigned char)m->str[start] & 0xC0) == 0x80) start++;
    while (end < m->len && end > start && ((unsigned char)m->str[end] & 0xC0) == 0x80) end--;
    char *p = zm_alloc(a, end - start + 1, 1);
    if (p == NULL) return ZM_ENOMEM;
    memcpy(p, m->str + start, end - start);
    p[end - start] = '\0';
    h->snippet = p;
    h->snippet_len = end - start;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * The search
 * ------------------------------------------------------------------------- */

/* Runs the statement of the mode; *r NULL (and ZM_OK) when no term of a
   token query can match. */
static zm_status run_query(zm__pg *s, const char *query, size_t query_len, zm_search_mode mode,
                           size_t limit, const char *skip, size_t skip_len, const qterms *qt,
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
                          const char *query, size_t query_len, const qterms *qt, zm_allocator a,
                          zm_search_hit *h) {
    memset(h, 0, sizeof *h);
    h->key = zm__pg_str(r, i, 0, a, &h->key_len);
    if (h->key == NULL) return ZM_ENOMEM;
    h->score = strtod(PQgetvalue(r, i, 1), NULL);
    h->version = (uint64_t)zm__pg_int(r, i, 2);
    const zm_json *value = NULL;
    zm_status st = zm__pg_json(s, r, i, 4, zm_arena_allocator(&s->scratch), &value);
    if (st != ZM_OK || value == NULL) return st;
    match m;
    if (find_match(value, mode, query, query_len, mode == ZM_SEARCH_TOKEN ? qt : NULL, &m))
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
    qterms qt;
    qt.n = 0;
    if (mode == ZM_SEARCH_TOKEN) query_tokens(query, query_len, &qt);
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
