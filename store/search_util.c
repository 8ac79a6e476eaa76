/* What every backend's search shares beyond the token rule (token.c): the
   query's distinct terms, where a string matches a query, the first string
   of a value that matches, and the window of a snippet. */
#include <string.h>

#include "internal.h"

void zm__store_query_terms(const char *q, size_t qlen, bool utf8_only, zm__qterms *qt) {
    size_t pos = 0;
    zm__tok t;
    qt->n = 0;
    while (qt->n < ZM__MAX_QUERY_TERMS && zm__store_next_token(q, qlen, &pos, &t, qt->buf[qt->n])) {
        size_t norm = t.norm_len;
        if (utf8_only && !zm_utf8_valid(qt->buf[qt->n], norm)) continue;
        bool dup = false;
        for (size_t i = 0; i < qt->n && !dup; i++)
            dup = qt->len[i] == norm && memcmp(qt->buf[i], qt->buf[qt->n], norm) == 0;
        if (!dup) qt->len[qt->n++] = norm;
    }
}

bool zm__store_bytes_match(zm_search_mode mode, const char *s, size_t len, const char *q,
                           size_t qlen, size_t *at) {
    *at = 0;
    switch (mode) {
    case ZM_SEARCH_EXACT: return len == qlen && (qlen == 0 || memcmp(s, q, qlen) == 0);
    case ZM_SEARCH_PREFIX: return len >= qlen && (qlen == 0 || memcmp(s, q, qlen) == 0);
    case ZM_SEARCH_SUBSTRING:
        if (qlen == 0) return true;
        if (len < qlen) return false;
        for (size_t i = 0; i + qlen <= len;) {
            const char *p = memchr(s + i, q[0], len - qlen + 1 - i);
            if (p == NULL) return false;
            i = (size_t)(p - s);
            if (memcmp(p, q, qlen) == 0) {
                *at = i;
                return true;
            }
            i++;
        }
        return false;
    default: return false;
    }
}

bool zm__store_token_in(const char *s, size_t len, const zm__qterms *qt, size_t *at) {
    size_t pos = 0;
    zm__tok t;
    char buf[ZM_STORE_MAX_TOKEN];
    while (zm__store_next_token(s, len, &pos, &t, buf)) {
        for (size_t i = 0; i < qt->n; i++) {
            if (qt->len[i] == t.norm_len && memcmp(qt->buf[i], buf, t.norm_len) == 0) {
                *at = t.start;
                return true;
            }
        }
    }
    return false;
}

bool zm__store_first_match(const zm_json *v, zm_search_mode mode, const char *q, size_t qlen,
                           const zm__qterms *qt, zm__match *m) {
    switch (zm_json_typeof(v)) {
    case ZM_JSON_STRING: {
        bool hit = qt ? zm__store_token_in(v->u.s.ptr, v->u.s.len, qt, &m->at)
                      : zm__store_bytes_match(mode, v->u.s.ptr, v->u.s.len, q, qlen, &m->at);
        if (!hit) return false;
        m->str = v->u.s.ptr;
        m->len = v->u.s.len;
        return true;
    }
    case ZM_JSON_ARRAY:
        for (size_t i = 0; i < v->u.a.len; i++)
            if (zm__store_first_match(v->u.a.items[i], mode, q, qlen, qt, m)) return true;
        return false;
    case ZM_JSON_OBJECT:
        for (size_t i = 0; i < v->u.o.len; i++)
            if (zm__store_first_match(v->u.o.items[i].value, mode, q, qlen, qt, m)) return true;
        return false;
    default: return false;
    }
}

size_t zm__store_snippet(const char *str, size_t len, size_t at, size_t *start) {
    size_t b = at > ZM__SNIPPET_LEAD ? at - ZM__SNIPPET_LEAD : 0;
    size_t e = b + ZM_STORE_SNIPPET < len ? b + ZM_STORE_SNIPPET : len;
    while (b < at && ((unsigned char)str[b] & 0xC0) == 0x80) b++;
    while (e < len && e > b && ((unsigned char)str[e] & 0xC0) == 0x80) e--;
    *start = b;
    return e - b;
}
