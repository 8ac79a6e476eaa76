/* The store's inverted index: tokenizing, and keeping the postings of every
   term up to date as keys get new versions. */
#include <stdlib.h>

#include "memory_internal.h"

/* ---------------------------------------------------------------------------
 * Documents to terms
 * ------------------------------------------------------------------------- */

typedef struct tok_list {
    zm_arena *ar;
    zm__str *items;
    size_t len, cap;
    bool oom;
} tok_list;

static void add_tokens(tok_list *tl, const char *text, size_t len) {
    size_t pos = 0;
    zm__tok t;
    char buf[ZM_STORE_MAX_TOKEN];
    while (!tl->oom && zm__store_next_token(text, len, &pos, &t, buf)) {
        if (tl->len == tl->cap) {
            size_t ncap = tl->cap ? tl->cap * 2 : 64;
            zm__str *n = zm_arena_new_array(tl->ar, zm__str, ncap);
            if (n == NULL) {
                tl->oom = true;
                return;
            }
            if (tl->len) memcpy(n, tl->items, tl->len * sizeof *n);
            tl->items = n;
            tl->cap = ncap;
        }
        char *copy = zm_arena_alloc(tl->ar, t.norm_len, 1);
        if (copy == NULL) {
            tl->oom = true;
            return;
        }
        memcpy(copy, buf, t.norm_len);
        tl->items[tl->len].ptr = copy;
        tl->items[tl->len].len = t.norm_len;
        tl->len++;
    }
}

/* Adds the tokens of every string inside v. Stored and checked values only:
   their depth is bounded. */
static void add_value_tokens(tok_list *tl, const zm_json *v) {
    switch (zm_json_typeof(v)) {
    case ZM_JSON_STRING: add_tokens(tl, v->u.s.ptr, v->u.s.len); break;
    case ZM_JSON_ARRAY:
        for (size_t i = 0; i < v->u.a.len && !tl->oom; i++) add_value_tokens(tl, v->u.a.items[i]);
        break;
    case ZM_JSON_OBJECT:
        for (size_t i = 0; i < v->u.o.len && !tl->oom; i++)
            add_value_tokens(tl, v->u.o.items[i].value);
        break;
    default: break;
    }
}

static int cmp_str(const void *a, const void *b) {
    const zm__str *x = a, *y = b;
    return zm__st_bytes_cmp(x->ptr, x->len, y->ptr, y->len);
}

/* Sorts the tokens and counts each distinct one. */
static zm_status count_terms(tok_list *tl, zm__tf **terms, size_t *nterms) {
    *terms = NULL;
    *nterms = 0;
    if (tl->len == 0) return ZM_OK;
    qsort(tl->items, tl->len, sizeof *tl->items, cmp_str);
    size_t distinct = 1;
    for (size_t i = 1; i < tl->len; i++)
        if (cmp_str(&tl->items[i - 1], &tl->items[i]) != 0) distinct++;
    zm__tf *out = zm_arena_new_array(tl->ar, zm__tf, distinct);
    if (out == NULL) return ZM_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < tl->len; i++) {
        if (n > 0 && cmp_str(&tl->items[i - 1], &tl->items[i]) == 0) {
            out[n - 1].tf++;
            continue;
        }
        out[n].ptr = tl->items[i].ptr;
        out[n].len = (uint32_t)tl->items[i].len;
        out[n].tf = 1;
        n++;
    }
    *terms = out;
    *nterms = n;
    return ZM_OK;
}

zm_status zm__st_doc_terms(zm_arena *ar, const char *key, size_t key_len, const zm_json *value,
                           zm__tf **terms, size_t *nterms, uint32_t *ntokens) {
    tok_list tl = {ar, NULL, 0, 0, false};
    add_tokens(&tl, key, key_len);
    if (value != NULL) add_value_tokens(&tl, value);
    if (tl.oom) return ZM_ENOMEM;
    *ntokens = tl.len > UINT32_MAX ? UINT32_MAX : (uint32_t)tl.len;
    return count_terms(&tl, terms, nterms);
}

zm_status zm__st_query_terms(zm_arena *ar, const char *q, size_t len, zm__tf **terms,
                             size_t *nterms) {
    tok_list tl = {ar, NULL, 0, 0, false};
    add_tokens(&tl, q, len);
    if (tl.oom) return ZM_ENOMEM;
    return count_terms(&tl, terms, nterms);
}

/* ---------------------------------------------------------------------------
 * Postings
 * ------------------------------------------------------------------------- */

/* The position of doc in t's postings, or where it would go; *found says. */
static size_t posting_find(const zm__term *t, uint32_t doc, bool *found) {
    size_t lo = 0, hi = t->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->post[mid].doc < doc)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < t->len && t->post[lo].doc == doc;
    return lo;
}

static uint32_t term_find(const zm__mem *s, const char *p, size_t len) {
    return zm__st_map_find_str(&s->term_map, s->terms, sizeof *s->terms, p, len,
                               zm__st_hash(s, p, len));
}

zm_status zm__st_index_prepare(zm__mem *s, uint32_t doc, const zm__str *key,
                               const zm_json *old_value, const zm_json *new_value,
                               zm__index_plan *plan) {
    memset(plan, 0, sizeof *plan);
    zm_status st;
    uint32_t old_dl = 0;
    if (old_value != NULL) {
        st = zm__st_doc_terms(&s->scratch, key->ptr, key->len, old_value, &plan->old_terms,
                              &plan->nold, &old_dl);
        if (st != ZM_OK) return st;
    }
    if (new_value == NULL) return ZM_OK; /* the doc leaves the index */
    st = zm__st_doc_terms(&s->scratch, key->ptr, key->len, new_value, &plan->new_terms, &plan->nnew,
                          &plan->dl);
    if (st != ZM_OK) return st;
    if (plan->nnew == 0) return ZM_OK;

    plan->new_ids = zm_arena_new_array(&s->scratch, uint32_t, plan->nnew);
    plan->new_post = zm_arena_new_array(&s->scratch, zm__posting *, plan->nnew);
    /* The abort frees what new_post holds: clear it before anything can
       fail. */
    if (plan->new_post != NULL)
        for (size_t i = 0; i < plan->nnew; i++) plan->new_post[i] = NULL;
    if (plan->new_ids == NULL || plan->new_post == NULL) return ZM_ENOMEM;

    for (size_t i = 0; i < plan->nnew; i++) {
        const zm__tf *tf = &plan->new_terms[i];
        uint32_t id = term_find(s, tf->ptr, tf->len);
        if (id != ZM__NONE) {
            plan->new_ids[i] = id;
            zm__term *t = &s->terms[id];
            bool found;
            posting_find(t, doc, &found);
            if (!found) {
                st = zm__st_vec_reserve(s->a, (void **)&t->post, &t->cap, t->len, 1,
                                        sizeof *t->post, _Alignof(zm__posting));
                if (st != ZM_OK) return st;
            }
            continue;
        }
        if (s->nterms + plan->nfresh >= ZM__MAX_IDS) return ZM_ELIMIT;
        plan->new_ids[i] = (uint32_t)(s->nterms + plan->nfresh);
        plan->nfresh++;
        /* The term's bytes, kept in the data arena (rewound by the caller on
           failure), and its first postings. */
        char *copy = zm_arena_strndup(&s->data, tf->ptr, tf->len);
        if (copy == NULL) return ZM_ENOMEM;
        plan->new_terms[i].ptr = copy;
        plan->new_post[i] = zm_alloc_array(s->a, zm__posting, 4);
        if (plan->new_post[i] == NULL) return ZM_ENOMEM;
    }
    if (plan->nfresh > 0) {
        st = zm__st_vec_reserve(s->a, (void **)&s->terms, &s->cap_terms, s->nterms, plan->nfresh,
                                sizeof *s->terms, _Alignof(zm__term));
        if (st != ZM_OK) return st;
        st = zm__st_map_reserve(&s->term_map, s->a, plan->nfresh);
        if (st != ZM_OK) return st;
    }
    return ZM_OK;
}

void zm__st_index_abort(zm__mem *s, zm__index_plan *plan) {
    if (plan->new_post == NULL) return;
    for (size_t i = 0; i < plan->nnew; i++) zm_free_array(s->a, plan->new_post[i], 4);
}

static void posting_remove(zm__term *t, uint32_t doc) {
    bool found;
    size_t at = posting_find(t, doc, &found);
    if (!found) return;
    memmove(&t->post[at], &t->post[at + 1], (t->len - at - 1) * sizeof *t->post);
    t->len--;
}

void zm__st_index_commit(zm__mem *s, uint32_t doc, zm__index_plan *plan) {
    /* Terms the old version had and the new one has not: drop the doc. Both
       lists are sorted, so one merge finds them. */
    size_t j = 0;
    for (size_t i = 0; i < plan->nold; i++) {
        const zm__tf *o = &plan->old_terms[i];
        int c = 1;
        while (j < plan->nnew && (c = zm__st_bytes_cmp(plan->new_terms[j].ptr,
                                                       plan->new_terms[j].len, o->ptr, o->len)) < 0)
            j++;
        if (j < plan->nnew && c == 0) continue;
        uint32_t id = term_find(s, o->ptr, o->len);
        if (id != ZM__NONE) posting_remove(&s->terms[id], doc);
    }
    /* The new version's terms. */
    for (size_t i = 0; i < plan->nnew; i++) {
        const zm__tf *tf = &plan->new_terms[i];
        uint32_t id = plan->new_ids[i];
        if (plan->new_post[i] != NULL) {
            assert(id == s->nterms);
            zm__term *t = &s->terms[s->nterms++];
            t->key.ptr = tf->ptr;
            t->key.len = tf->len;
            t->post = plan->new_post[i];
            t->len = 0;
            t->cap = 4;
            plan->new_post[i] = NULL;
            zm__st_map_insert(&s->term_map, zm__st_hash(s, tf->ptr, tf->len), id);
        }
        zm__term *t = &s->terms[id];
        bool found;
        size_t at = posting_find(t, doc, &found);
        if (!found) {
            assert(t->len < t->cap);
            memmove(&t->post[at + 1], &t->post[at], (t->len - at) * sizeof *t->post);
            t->post[at].doc = doc;
            t->len++;
        }
        t->post[at].tf = tf->tf;
    }
    s->total_tokens -= s->entries[doc].doc_len;
    s->total_tokens += plan->dl;
    s->entries[doc].doc_len = plan->dl;
}

void zm__st_index_free(zm__mem *s) {
    for (size_t i = 0; i < s->nterms; i++) zm_free_array(s->a, s->terms[i].post, s->terms[i].cap);
    zm_free_array(s->a, s->terms, s->cap_terms);
    zm__st_map_free(&s->term_map, s->a);
    s->terms = NULL;
    s->nterms = s->cap_terms = 0;
}
