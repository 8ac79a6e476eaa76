/* The postgres backend's writes: put and forget, and the search document
   each write stores beside its version (tokens by the store's one tokenizer,
   the strings of the value as bytes). */
#include <stdio.h>
#include <stdlib.h>

#include "postgres_internal.h"

/* ---------------------------------------------------------------------------
 * The search document
 * ------------------------------------------------------------------------- */

typedef struct span {
    const char *p;
    size_t len;
} span;

/* A growable list of byte spans in an arena. */
typedef struct span_list {
    zm_arena *ar;
    span *items;
    size_t len, cap;
    size_t bytes; /* the spans' lengths summed */
    bool oom;
} span_list;

/* Appends a span (its bytes are not copied). */
static void span_add(span_list *l, const char *p, size_t len) {
    if (l->oom) return;
    if (l->len == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 32;
        span *n = zm_arena_new_array(l->ar, span, ncap);
        if (n == NULL) {
            l->oom = true;
            return;
        }
        if (l->len) memcpy(n, l->items, l->len * sizeof *n);
        l->items = n;
        l->cap = ncap;
    }
    l->items[l->len++] = (span){p, len};
    l->bytes += len;
}

/* Adds the normalised tokens of text to l (copied into l's arena). */
static void add_tokens(span_list *l, const char *text, size_t len) {
    size_t pos = 0;
    zm__tok t;
    char buf[ZM_STORE_MAX_TOKEN];
    while (!l->oom && zm__store_next_token(text, len, &pos, &t, buf)) {
        size_t norm = t.norm_len;
        char *copy = zm_arena_alloc(l->ar, norm, 1);
        if (copy == NULL) {
            l->oom = true;
            return;
        }
        memcpy(copy, buf, norm);
        span_add(l, copy, norm);
    }
}

/* Adds every string inside v, in document order, to strings and its tokens
   to toks. Stored values only: their depth is bounded. */
static void add_value(span_list *toks, span_list *strings, const zm_json *v) {
    switch (zm_json_typeof(v)) {
    case ZM_JSON_STRING:
        span_add(strings, v->u.s.ptr, v->u.s.len);
        add_tokens(toks, v->u.s.ptr, v->u.s.len);
        break;
    case ZM_JSON_ARRAY:
        for (size_t i = 0; i < v->u.a.len; i++) add_value(toks, strings, v->u.a.items[i]);
        break;
    case ZM_JSON_OBJECT:
        for (size_t i = 0; i < v->u.o.len; i++) add_value(toks, strings, v->u.o.items[i].value);
        break;
    default: break;
    }
}

/* Orders spans bytewise, a proper prefix first. */
static int span_cmp(const void *x, const void *y) {
    const span *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->p, b->p, n) : 0;
    if (c != 0) return c;
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

size_t zm__pg_array_elem(char *buf, const char *p, size_t len) {
    size_t o = 0;
    buf[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '"' || p[i] == '\\') buf[o++] = '\\';
        buf[o++] = p[i];
    }
    buf[o++] = '"';
    return o;
}

zm_status zm__pg_doc_build(zm_arena *ar, const char *key, size_t key_len, const zm_json *value,
                           zm__pg_doc *out) {
    span_list toks = {ar, NULL, 0, 0, 0, false};
    span_list strings = {ar, NULL, 0, 0, 0, false};
    add_tokens(&toks, key, key_len);
    if (value != NULL) add_value(&toks, &strings, value);
    if (toks.oom || strings.oom) return ZM_ENOMEM;
    out->dl = (int64_t)toks.len;
    if (toks.len > 1) qsort(toks.items, toks.len, sizeof *toks.items, span_cmp);
    /* Terms: each token quoted (tokens hold no quote or backslash); counts
       as decimals. */
    char *terms = zm_arena_alloc(ar, toks.bytes + 3 * toks.len + 3, 1);
    char *tfs = zm_arena_alloc(ar, 11 * toks.len + 3, 1);
    /* Strings: "\\x" and two hex digits a byte, each quoted. */
    char *strs = zm_arena_alloc(ar, 2 * strings.bytes + 6 * strings.len + 3, 1);
    if (terms == NULL || tfs == NULL || strs == NULL) return ZM_ENOMEM;
    size_t to = 0, fo = 0;
    terms[to++] = '{';
    tfs[fo++] = '{';
    for (size_t i = 0; i < toks.len;) {
        size_t j = i + 1;
        while (j < toks.len && span_cmp(&toks.items[i], &toks.items[j]) == 0) j++;
        if (to > 1) {
            terms[to++] = ',';
            tfs[fo++] = ',';
        }
        to += zm__pg_array_elem(terms + to, toks.items[i].p, toks.items[i].len);
        fo += (size_t)snprintf(tfs + fo, 11, "%u", (unsigned)(j - i));
        i = j;
    }
    terms[to++] = '}';
    terms[to] = '\0';
    tfs[fo++] = '}';
    tfs[fo] = '\0';
    static const char hex[] = "0123456789abcdef";
    size_t so = 0;
    strs[so++] = '{';
    for (size_t i = 0; i < strings.len; i++) {
        if (i > 0) strs[so++] = ',';
        memcpy(strs + so, "\"\\\\x", 4);
        so += 4;
        const unsigned char *p = (const unsigned char *)strings.items[i].p;
        for (size_t k = 0; k < strings.items[i].len; k++) {
            strs[so++] = hex[p[k] >> 4];
            strs[so++] = hex[p[k] & 15];
        }
        strs[so++] = '"';
    }
    strs[so++] = '}';
    strs[so] = '\0';
    out->terms = terms;
    out->tfs = tfs;
    out->strings = strs;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Writes
 * ------------------------------------------------------------------------- */

/* Writes v as JSON text into the scratch arena. */
static zm_status json_text(zm__pg *s, const zm_json *v, char **text, size_t *len) {
    zm_status st = zm_json_write(zm_arena_allocator(&s->scratch), v, 0, text, len);
    if (st == ZM_EINVAL) return zm_store_fail(st, "the value cannot be written as JSON");
    return st;
}

/* Fills a version a write described, from the row (version, ts) of r. */
static void fill_out(const zm_store_write *w, const PGresult *r, const zm_json *value,
                     const zm_json *metadata, zm_store_version *out) {
    memset(out, 0, sizeof *out);
    out->version = (uint64_t)zm__pg_int(r, 0, 0);
    out->timestamp = zm__pg_int(r, 0, 1);
    out->value = value;
    out->metadata = metadata;
    out->agent = w->agent && w->agent_len ? w->agent : "";
    out->agent_len = w->agent ? w->agent_len : 0;
    out->session = w->session && w->session_len ? w->session : "";
    out->session_len = w->session ? w->session_len : 0;
    out->deleted = value == &zm__pg_null;
}

/* The refusal of an explicit version at or below the key's latest. */
static zm_status version_conflict(const zm_store_write *w) {
    return zm_store_fail(ZM_ECONFLICT, "version %llu of the key is at or below its latest",
                         (unsigned long long)w->version);
}

zm_status zm__pg_put(zm_store *base, const zm_store_write *w, zm_store_version *out) {
    zm__pg *s = (zm__pg *)base;
    zm_status st = zm__pg_check_writable(s);
    if (st == ZM_OK) st = zm__pg_ready(s);
    if (st != ZM_OK) return st;
    char *vtext = NULL, *mtext = NULL;
    size_t vlen = 0, mlen = 0;
    zm__pg_doc doc;
    PGresult *r = NULL;
    st = json_text(s, w->value, &vtext, &vlen);
    if (st == ZM_OK && w->metadata != NULL) st = json_text(s, w->metadata, &mtext, &mlen);
    if (st == ZM_OK) st = zm__pg_doc_build(&s->scratch, w->key, w->key_len, w->value, &doc);
    if (st == ZM_OK) {
        zm__pg_params p = {.n = 0};
        zm__pg_p_text(&p, w->key, w->key_len);
        zm__pg_p_int8(&p, w->ts_ms);
        zm__pg_p_text(&p, w->agent, w->agent ? w->agent_len : 0);
        zm__pg_p_text(&p, w->session, w->session ? w->session_len : 0);
        zm__pg_p_text(&p, vtext, vlen);
        if (mtext != NULL)
            zm__pg_p_text(&p, mtext, mlen);
        else
            zm__pg_p_null(&p);
        zm__pg_p_int8(&p, doc.dl);
        zm__pg_p_literal(&p, doc.terms);
        zm__pg_p_literal(&p, doc.tfs);
        zm__pg_p_literal(&p, doc.strings);
        zm__pg_p_int8(&p, (int64_t)s->base.limits.max_versions);
        zm__pg_p_int8(&p, (int64_t)w->version);
        st = zm__pg_exec(s, ZM__PG_PUT, &p, "writing a version", &r);
    }
    if (st == ZM_OK && PQntuples(r) != 1) st = version_conflict(w);
    if (st == ZM_OK && out != NULL) fill_out(w, r, w->value, w->metadata, out);
    PQclear(r);
    zm__pg_done(s);
    return st;
}

zm_status zm__pg_forget(zm_store *base, const zm_store_write *w, bool purge, zm_store_version *out,
                        bool *existed) {
    zm__pg *s = (zm__pg *)base;
    *existed = false;
    zm_status st = zm__pg_check_writable(s);
    if (st == ZM_OK) st = zm__pg_ready(s);
    if (st != ZM_OK) return st;
    PGresult *r = NULL;
    zm__pg_params p = {.n = 0};
    zm__pg_p_text(&p, w->key, w->key_len);
    if (purge) {
        st = zm__pg_exec(s, ZM__PG_PURGE, &p, "purging a key", &r);
        if (st == ZM_OK) *existed = PQntuples(r) > 0;
    } else {
        zm__pg_p_int8(&p, w->ts_ms);
        zm__pg_p_text(&p, w->agent, w->agent ? w->agent_len : 0);
        zm__pg_p_text(&p, w->session, w->session ? w->session_len : 0);
        zm__pg_p_int8(&p, (int64_t)s->base.limits.max_versions);
        zm__pg_p_int8(&p, (int64_t)w->version);
        st = zm__pg_exec(s, ZM__PG_FORGET, &p, "forgetting a key", &r);
        bool live = st == ZM_OK && PQntuples(r) == 1 && zm__pg_bool(r, 0, 2);
        if (st == ZM_OK && PQntuples(r) == 1 && (live || w->version != 0)) {
            /* The key was live, or this is an import: a deletion was
               written, unless the version asked for is too low. */
            if (PQgetisnull(r, 0, 0)) {
                st = version_conflict(w);
            } else {
                *existed = live;
                if (out != NULL) fill_out(w, r, &zm__pg_null, NULL, out);
            }
        }
    }
    PQclear(r);
    zm__pg_done(s);
    return st;
}
