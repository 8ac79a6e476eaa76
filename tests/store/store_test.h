/* Helpers shared by the store's tests: JSON from text, writes, links and
   walks in one line each. Test inputs and read results live in the arena ar
   (reads into an arena, as the store's rules say). */
#ifndef ZMEM_TESTS_STORE_TEST_H
#define ZMEM_TESTS_STORE_TEST_H

#include <math.h>

#include "json_eq.h"
#include "test.h"
#include "zmem/json.h"
#include "zmem/store.h"

static zm_arena ar; /* test inputs and read results */

#define S(str) (str), strlen(str)

/* The arena's allocator: where every read of a test goes. */
static zm_allocator A(void) {
    return zm_arena_allocator(&ar);
}

static zm_json *J(const char *text) {
    zm_json *v = NULL;
    zm_status st = zm_json_parse_arena(&ar, text, strlen(text), NULL, &v, NULL);
    CHECK(st == ZM_OK);
    return v;
}

static bool is_json(const zm_json *v, const char *text) {
    return v != NULL && zt_json_eq(v, J(text));
}

/* Whether (p, len) holds exactly the bytes of want (wlen bytes). */
static bool bytes_are(const char *p, size_t len, const char *want, size_t wlen) {
    return p != NULL && len == wlen && (len == 0 || memcmp(p, want, len) == 0);
}

/* A write of key (NUL-terminated) with value, metadata and agent. */
static zm_store_write W(const char *key, const zm_json *value, const zm_json *metadata,
                        const char *agent, int64_t ts) {
    zm_store_write w;
    memset(&w, 0, sizeof w);
    w.key = key;
    w.key_len = key ? strlen(key) : 0;
    w.value = value;
    w.metadata = metadata;
    w.agent = agent;
    w.agent_len = agent ? strlen(agent) : 0;
    w.ts_ms = ts;
    return w;
}

static zm_status put(zm_store *s, const char *key, const zm_json *value, const zm_json *metadata,
                     const char *agent, int64_t ts, zm_store_version *out) {
    zm_store_write w = W(key, value, metadata, agent, ts);
    return zm_store_put(s, &w, out);
}

static zm_status forget(zm_store *s, const char *key, bool purge, int64_t ts, zm_store_version *out,
                        bool *existed) {
    zm_store_write w = W(key, NULL, NULL, NULL, ts);
    return zm_store_forget(s, &w, purge, out, existed);
}

static zm_status get(zm_store *s, const char *key, int64_t as_of, zm_store_version *out) {
    return zm_store_get(s, key, strlen(key), as_of, A(), out);
}

static zm_status history(zm_store *s, const char *key, int64_t as_of, zm_store_version **out,
                         size_t *n) {
    return zm_store_history(s, key, strlen(key), as_of, A(), out, n);
}

static zm_status lnk(zm_store *s, const char *from, const char *to, const char *rel,
                     const zm_json *metadata, const char *agent, int64_t ts, bool *created) {
    zm_store_link_req l;
    memset(&l, 0, sizeof l);
    l.from = from;
    l.from_len = strlen(from);
    l.to = to;
    l.to_len = strlen(to);
    l.relation = rel;
    l.relation_len = strlen(rel);
    l.metadata = metadata;
    l.agent = agent;
    l.agent_len = agent ? strlen(agent) : 0;
    l.ts_ms = ts;
    return zm_store_link(s, &l, created);
}

static zm_status unlnk(zm_store *s, const char *from, const char *to, const char *rel,
                       bool *removed) {
    return zm_store_unlink(s, S(from), S(to), S(rel), removed);
}

static zm_status walk(zm_store *s, const char *node, const char *rel, zm_store_direction dir,
                      uint32_t depth, size_t limit, zm_store_hit **h, size_t *n, bool *tr) {
    zm_store_walk w;
    memset(&w, 0, sizeof w);
    w.node = node;
    w.node_len = strlen(node);
    w.relation = rel;
    w.relation_len = rel ? strlen(rel) : 0;
    w.dir = dir;
    w.max_depth = depth;
    w.limit = limit;
    return zm_store_neighbors(s, &w, A(), h, n, tr);
}

static zm_status search(zm_store *s, const char *q, zm_search_mode mode, size_t limit,
                        zm_search_hit **hits, size_t *n, size_t *total) {
    return zm_store_search(s, q, strlen(q), mode, limit, A(), hits, n, total);
}

/* Whether a walk reached "node:depth node:depth ..." in that order. */
static bool walk_is(const zm_store_hit *h, size_t n, const char *want) {
    char got[512] = "";
    size_t pos = 0;
    for (size_t i = 0; i < n && pos < sizeof got; i++)
        pos += (size_t)snprintf(got + pos, sizeof got - pos, "%s%.*s:%u", i ? " " : "",
                                (int)h[i].node_len, h[i].node, h[i].depth);
    if (strcmp(got, want) != 0) fprintf(stderr, "  walk \"%s\", want \"%s\"\n", got, want);
    return strcmp(got, want) == 0;
}

/* Whether a search hit names key (and has score, unless score < 0). */
static bool hit_is(const zm_search_hit *h, const char *key, double score) {
    bool ok = bytes_are(h->key, h->key_len, key, strlen(key)) &&
              (score < 0 || fabs(h->score - score) < 1e-9);
    if (!ok)
        fprintf(stderr, "  hit %.*s %g, want %s %g\n", (int)h->key_len, h->key, h->score, key,
                score);
    return ok;
}

/* Whether zm_store_errmsg() is non-empty and mentions word. */
static bool errmsg_has(const char *word) {
    const char *m = zm_store_errmsg();
    bool ok = m != NULL && m[0] != '\0' && strstr(m, word) != NULL;
    if (!ok) fprintf(stderr, "  errmsg \"%s\", want one naming \"%s\"\n", m ? m : "(null)", word);
    return ok;
}

#endif
