/* The store's search: exact, prefix and substring matching over keys and
   content, and BM25 over the inverted index. The best hits are kept in a
   bounded heap, so memory is O(limit) whatever the store holds. */
#include <math.h>

#include "memory_internal.h"

#define BM25_K1 1.2
#define BM25_B  0.75

/* ---------------------------------------------------------------------------
 * The top-k heap: its root is the worst hit kept.
 * ------------------------------------------------------------------------- */

/* True when a ranks before b: higher score, then smaller key. */
static bool ranks_before(const zm_search_hit *a, const zm_search_hit *b) {
    if (a->score != b->score) return a->score > b->score;
    return zm__st_bytes_cmp(a->key, a->key_len, b->key, b->key_len) < 0;
}

typedef struct topk {
    zm_search_hit *items;
    size_t len, cap;
    size_t total;
} topk;

static void sift_down(topk *h, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        /* The worst of i and its children goes up. */
        if (l < h->len && ranks_before(&h->items[w], &h->items[l])) w = l;
        if (r < h->len && ranks_before(&h->items[w], &h->items[r])) w = r;
        if (w == i) return;
        zm_search_hit t = h->items[i];
        h->items[i] = h->items[w];
        h->items[w] = t;
        i = w;
    }
}

static void topk_offer(topk *h, const zm_search_hit *hit) {
    h->total++;
    if (h->cap == 0) return;
    if (h->len < h->cap) {
        size_t i = h->len++;
        h->items[i] = *hit;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!ranks_before(&h->items[p], &h->items[i])) break;
            zm_search_hit t = h->items[i];
            h->items[i] = h->items[p];
            h->items[p] = t;
            i = p;
        }
        return;
    }
    if (!ranks_before(hit, &h->items[0])) return;
    h->items[0] = *hit;
    sift_down(h, 0);
}

/* Sorts the heap's items best first (heap sort: pop the worst to the end). */
static void topk_sort(topk *h) {
    size_t n = h->len;
    while (h->len > 1) {
        zm_search_hit t = h->items[0];
        h->items[0] = h->items[h->len - 1];
        h->items[h->len - 1] = t;
        h->len--;
        sift_down(h, 0);
    }
    h->len = n;
}

/* ---------------------------------------------------------------------------
 * Content matching
 * ------------------------------------------------------------------------- */

/* Cuts a window of the matched string around the match (borrowed from the
   stored value). */
static void set_snippet(zm_search_hit *h, const zm__match *m) {
    size_t start;
    h->snippet_len = zm__store_snippet(m->str, m->len, m->at, &start);
    h->snippet = m->str + start;
}

/* What a search leaves out: keys starting with skip (len bytes; 0 = none). */
typedef struct skip_prefix {
    const char *p;
    size_t len;
} skip_prefix;

static bool skipped(const zm__entry *e, const skip_prefix *sk) {
    return sk->len != 0 && e->key.len >= sk->len && memcmp(e->key.ptr, sk->p, sk->len) == 0;
}

static const zm_json *latest_value(const zm__entry *e) {
    return e->versions[e->nversions - 1].value;
}

/* Offers entry e, scored, to the heap (its snippet is cut later, for the
   hits kept). */
static void offer_entry(topk *h, const zm__entry *e, double score) {
    zm_search_hit hit;
    hit.key = e->key.ptr;
    hit.key_len = e->key.len;
    hit.score = score;
    hit.version = e->versions[e->nversions - 1].version;
    hit.snippet = NULL;
    hit.snippet_len = 0;
    topk_offer(h, &hit);
}

/* The entry a kept hit names. */
static const zm__entry *hit_entry(const zm__mem *s, const zm_search_hit *hit) {
    return &s->entries[zm__st_map_find_str(&s->entry_map, s->entries, sizeof *s->entries, hit->key,
                                           hit->key_len, zm__st_hash(s, hit->key, hit->key_len))];
}

/* ---------------------------------------------------------------------------
 * The modes
 * ------------------------------------------------------------------------- */

static void search_bytes(const zm__mem *s, const char *q, size_t qlen, zm_search_mode mode,
                         const skip_prefix *sk, topk *h) {
    for (size_t i = 0; i < s->nentries; i++) {
        const zm__entry *e = &s->entries[i];
        if (!zm__mem_live(e) || skipped(e, sk)) continue;
        size_t at;
        zm__match m;
        double score = 0.0;
        if (zm__store_bytes_match(mode, e->key.ptr, e->key.len, q, qlen, &at))
            score = 1.0;
        else if (zm__store_first_match(latest_value(e), mode, q, qlen, NULL, &m))
            score = 0.5;
        if (score == 0.0) continue;
        offer_entry(h, e, score);
    }
    for (size_t i = 0; i < h->len; i++) {
        zm__match m;
        if (zm__store_first_match(latest_value(hit_entry(s, &h->items[i])), mode, q, qlen, NULL,
                                  &m))
            set_snippet(&h->items[i], &m);
    }
}

static void search_tokens(const zm__mem *s, const char *q, size_t qlen, const skip_prefix *sk,
                          topk *h) {
    zm__qterms qt;
    zm__store_query_terms(q, qlen, false, &qt);
    const zm__term *terms[ZM__MAX_QUERY_TERMS];
    double idf[ZM__MAX_QUERY_TERMS];
    size_t cur[ZM__MAX_QUERY_TERMS];
    size_t nt = 0;
    double N = (double)s->live_keys;
    for (size_t i = 0; i < qt.n; i++) {
        uint32_t id = zm__st_map_find_str(&s->term_map, s->terms, sizeof *s->terms, qt.buf[i],
                                          qt.len[i], zm__st_hash(s, qt.buf[i], qt.len[i]));
        if (id == ZM__NONE || s->terms[id].len == 0) continue;
        terms[nt] = &s->terms[id];
        double df = (double)s->terms[id].len;
        idf[nt] = log(1.0 + (N - df + 0.5) / (df + 0.5));
        cur[nt] = 0;
        nt++;
    }
    if (nt == 0) return;
    double avgdl = s->live_keys ? (double)s->total_tokens / N : 1.0;
    if (avgdl <= 0.0) avgdl = 1.0;
    /* A k-way merge of the postings (each sorted by doc): one doc at a time,
       its score summed over the terms it holds. */
    for (;;) {
        uint32_t doc = UINT32_MAX;
        for (size_t i = 0; i < nt; i++)
            if (cur[i] < terms[i]->len && terms[i]->post[cur[i]].doc < doc)
                doc = terms[i]->post[cur[i]].doc;
        if (doc == UINT32_MAX) break;
        const zm__entry *e = &s->entries[doc];
        bool live = zm__mem_live(e);
        double norm = BM25_K1 * (1.0 - BM25_B + BM25_B * (double)e->doc_len / avgdl);
        double score = 0.0;
        for (size_t i = 0; i < nt; i++) {
            if (cur[i] < terms[i]->len && terms[i]->post[cur[i]].doc == doc) {
                double tf = (double)terms[i]->post[cur[i]].tf;
                score += idf[i] * tf * (BM25_K1 + 1.0) / (tf + norm);
                cur[i]++;
            }
        }
        if (live && !skipped(e, sk)) offer_entry(h, e, score);
    }
    for (size_t i = 0; i < h->len; i++) {
        zm__match m;
        if (zm__store_first_match(latest_value(hit_entry(s, &h->items[i])), ZM_SEARCH_TOKEN, q,
                                  qlen, &qt, &m))
            set_snippet(&h->items[i], &m);
    }
}

zm_status zm__mem_search(zm_store *base, const char *query, size_t query_len, zm_search_mode mode,
                         size_t limit, zm_allocator a, zm_search_hit **hits, size_t *count,
                         size_t *total) {
    return zm__mem_search_skip(base, query, query_len, mode, limit, NULL, 0, a, hits, count, total);
}

zm_status zm__mem_search_skip(zm_store *base, const char *query, size_t query_len,
                              zm_search_mode mode, size_t limit, const char *skip, size_t skip_len,
                              zm_allocator a, zm_search_hit **hits, size_t *count, size_t *total) {
    const zm__mem *s = (const zm__mem *)base;
    const skip_prefix sk = {skip, skip_len};
    *hits = NULL;
    *count = 0;
    *total = 0;
    topk h = {NULL, 0, limit < s->nentries ? limit : s->nentries, 0};
    if (h.cap > 0) {
        h.items = zm_alloc_array(a, zm_search_hit, h.cap);
        if (h.items == NULL) return ZM_ENOMEM;
    }
    if (mode == ZM_SEARCH_TOKEN)
        search_tokens(s, query, query_len, &sk, &h);
    else
        search_bytes(s, query, query_len, mode, &sk, &h);
    topk_sort(&h);
    *total = h.total;
    if (h.len == 0) {
        zm_free_array(a, h.items, h.cap);
        return ZM_OK;
    }
    if (h.len < h.cap) {
        /* Shrink to the count, so a general allocator's caller frees exactly
         *count items (an arena shrinks its latest block in place). */
        zm_search_hit *shrunk = zm_realloc(a, h.items, h.cap * sizeof *h.items,
                                           h.len * sizeof *h.items, _Alignof(zm_search_hit));
        if (shrunk == NULL) {
            zm_free_array(a, h.items, h.cap);
            *total = 0;
            return ZM_ENOMEM;
        }
        h.items = shrunk;
    }
    /* Snippets are copied out: the strings they cut may die with a purge
       once the lock is given back. */
    for (size_t i = 0; i < h.len; i++) {
        zm_search_hit *hit = &h.items[i];
        if (hit->snippet == NULL) continue;
        char *copy = zm_alloc(a, hit->snippet_len + 1, 1);
        if (copy == NULL) {
            while (i-- > 0)
                if (h.items[i].snippet != NULL)
                    zm_free(a, (char *)h.items[i].snippet, h.items[i].snippet_len + 1, 1);
            zm_free_array(a, h.items, h.len);
            *total = 0;
            return ZM_ENOMEM;
        }
        memcpy(copy, hit->snippet, hit->snippet_len);
        copy[hit->snippet_len] = '\0';
        hit->snippet = copy;
    }
    *hits = h.items;
    *count = h.len;
    return ZM_OK;
}
