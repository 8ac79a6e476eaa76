/* The memory backend's own promises, beyond the conformance suite: reads
   never call the store's allocator, values are shared-marked and names
   interned, every allocation failure leaves the store as it was (the
   sweep), and the hash is seeded per store (colliding keys cost nothing). */
#include "counting.h"
#include "store_test.h"
#include "zmem/testing.h"

/* The internals, for one check only: that the test's copy of the unseeded
   hash is the store's hash with seed 0 (see test_seeded_hash). */
#include "../../store/memory_internal.h"

static zm_store *mem_store(zm_allocator a, const zm_store_limits *lim) {
    zm_store *s = NULL;
    CHECK_EQ(zm_store_memory_create(a, lim, &s), ZM_OK);
    CHECK_STR(zm_store_backend(s), "memory");
    return s;
}

/* ---------------------------------------------------------------------------
 * Values read are copies in the reader's memory (a purge on another thread
 * may free the store's own once the lock is given back); names are interned.
 * ------------------------------------------------------------------------- */

static void test_shared_and_interned(void) {
    zm_store *s = mem_store(zm_default_allocator(), NULL);
    zm_arena tmp;
    zm_arena_init(&tmp, zm_default_allocator());
    zm_json *v = NULL;
    const char *text = "{\"list\":[1,\"two\",{\"three\":3.5}]}";
    CHECK_EQ(zm_json_parse_arena(&tmp, text, strlen(text), NULL, &v, NULL), ZM_OK);
    zm_store_write w = W("k", v, v, "agent-1", 1);
    w.session = "s-1";
    w.session_len = 3;
    CHECK_EQ(zm_store_put(s, &w, NULL), ZM_OK);
    zm_arena_deinit(&tmp);
    zm_store_version got;
    CHECK_EQ(get(s, "k", -1, &got), ZM_OK);
    CHECK(is_json(got.value, text));
    CHECK(is_json(got.metadata, text));
    zm_store_version again;
    CHECK_EQ(get(s, "k", -1, &again), ZM_OK);
    CHECK(again.value != got.value && again.metadata != got.metadata);
    CHECK(!(got.value->flags & ZM_JSON_F_SHARED));

    /* The same agent and session ids: one copy each. */
    w = W("other", J("true"), NULL, "agent-1", 2);
    w.session = "s-1";
    w.session_len = 3;
    CHECK_EQ(zm_store_put(s, &w, NULL), ZM_OK);
    CHECK_EQ(put(s, "k", J("2"), NULL, "agent-2", 3, NULL), ZM_OK);
    zm_store_version *h, *h2;
    size_t n;
    CHECK_EQ(history(s, "k", -1, &h, &n), ZM_OK);
    CHECK_EQ(history(s, "other", -1, &h2, &n), ZM_OK);
    CHECK(h2[0].agent == h[0].agent);
    CHECK(h2[0].session == h[0].session);
    CHECK(h[1].agent != h[0].agent);
    /* A deletion's value is a shared null. */
    zm_store_version d;
    CHECK_EQ(forget(s, "other", false, 4, &d, NULL), ZM_OK);
    CHECK(d.value->flags & ZM_JSON_F_SHARED);
    zm_store_close(s);
}

/* ---------------------------------------------------------------------------
 * Reads make no call to the store's allocator.
 * ------------------------------------------------------------------------- */

static void test_reads_do_not_allocate(void) {
    zt_counting c;
    zm_allocator a = zt_counting_init(&c, zm_default_allocator());
    zm_store *s = mem_store(a, NULL);
    for (int i = 0; i < 50; i++) {
        char key[32];
        snprintf(key, sizeof key, "key-%d", i);
        CHECK_EQ(put(s, key, J("{\"text\":\"some words to index\"}"), NULL, "a", i, NULL), ZM_OK);
        CHECK_EQ(lnk(s, key, "hub", "in", NULL, NULL, i, NULL), ZM_OK);
    }
    CHECK_EQ(forget(s, "key-9", false, 100, NULL, NULL), ZM_OK);
    CHECK_EQ(forget(s, "key-8", true, 100, NULL, NULL), ZM_OK);
    CHECK_EQ(unlnk(s, "key-7", "hub", "in", NULL), ZM_OK);
    zm_arena reads;
    zm_arena_init(&reads, zm_default_allocator());
    zm_allocator ra = zm_arena_allocator(&reads);
    size_t before = zt_counting_calls(&c);
    for (int i = 0; i < 1000; i++) {
        zm_store_version v;
        CHECK_EQ(zm_store_get(s, S("key-7"), -1, ra, &v), ZM_OK);
        CHECK_EQ(zm_store_get(s, S("key-7"), 3, ra, &v), ZM_ENOTFOUND);
        CHECK_EQ(zm_store_get(s, S("key-9"), -1, ra, &v), ZM_ENOTFOUND);
        zm_store_version *h;
        size_t n, total;
        CHECK_EQ(zm_store_history(s, S("key-7"), -1, ra, &h, &n), ZM_OK);
        zm_search_hit *hits;
        CHECK_EQ(zm_store_search(s, S("words"), ZM_SEARCH_TOKEN, 10, ra, &hits, &n, &total), ZM_OK);
        CHECK_EQ(zm_store_search(s, S("key-4"), ZM_SEARCH_PREFIX, 10, ra, &hits, &n, &total),
                 ZM_OK);
        zm_store_walk w = {"hub", 3, NULL, 0, ZM_STORE_BOTH, 2, 100};
        zm_store_hit *nh;
        bool tr;
        CHECK_EQ(zm_store_neighbors(s, &w, ra, &nh, &n, &tr), ZM_OK);
        CHECK_EQ(n, 49);
        zm_store_stats st;
        CHECK_EQ(zm_store_stats_get(s, &st), ZM_OK);
        zm_store_cursor *cur;
        CHECK_EQ(zm_store_export_open(s, ra, &cur), ZM_OK);
        zm_store_record r;
        bool done = false;
        size_t records = 0, edges = 0;
        while (zm_store_cursor_next(cur, &r, &done) == ZM_OK && !done)
            r.kind == ZM_STORE_RECORD_EDGE ? edges++ : records++;
        zm_store_cursor_close(cur);
        CHECK_EQ(records, 50); /* 49 keys with one version, key-9 with two */
        CHECK_EQ(edges, 49);
        zm_arena_reset(&reads, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    CHECK_EQ(zt_counting_calls(&c), before);
    zm_arena_deinit(&reads);
    zm_store_close(s);
}

/* ---------------------------------------------------------------------------
 * Stored values live in the store's JSON pool: forgetting and dropping
 * versions give them back, so a store/forget churn (and a capped key that
 * keeps dropping its oldest version) makes no call to the store's allocator
 * once warmed up.
 * ------------------------------------------------------------------------- */

static void test_churn_steady(void) {
    zt_counting c;
    zm_allocator a = zt_counting_init(&c, zm_default_allocator());
    zm_store_limits lim = {0, 0, 0, 3};
    zm_store *s = mem_store(a, &lim);
    zm_json *value = J("{\"text\":\"a note about the weather\",\"tags\":[\"sky\",\"rain\"],"
                       "\"n\":42,\"nested\":{\"deep\":[1,2,{\"x\":\"long enough string\"}]}}");
    zm_json *meta = J("{\"source\":\"sensor\"}");
    int rounds = zt_small() ? 2000 : 100000;
    size_t before = 0;
    for (int i = 0; i < rounds; i++) {
        if (i == 200) before = zt_counting_calls(&c);
        /* Stored, then forgotten for good. */
        CHECK_EQ(put(s, "churn", value, meta, "agent", i, NULL), ZM_OK);
        CHECK_EQ(forget(s, "churn", true, i, NULL, NULL), ZM_OK);
        /* A key capped at 3 versions: each put drops the oldest. */
        CHECK_EQ(put(s, "capped", value, meta, "agent", i, NULL), ZM_OK);
        /* Linked, relinked with new metadata, unlinked. */
        CHECK_EQ(lnk(s, "a", "b", "r", meta, "agent", i, NULL), ZM_OK);
        CHECK_EQ(lnk(s, "a", "b", "r", meta, "agent", i, NULL), ZM_OK);
        CHECK_EQ(unlnk(s, "a", "b", "r", NULL), ZM_OK);
    }
    CHECK_EQ(zt_counting_calls(&c) - before, 0);
    zm_store_stats st;
    CHECK_EQ(zm_store_stats_get(s, &st), ZM_OK);
    CHECK_EQ(st.keys, 1);
    CHECK_EQ(st.versions, 3);
    CHECK_EQ(st.edges, 0);
    zm_store_close(s);
    CHECK_EQ(c.live, 0);
}

/* ---------------------------------------------------------------------------
 * Failed writes change nothing and leak nothing: the sweep over the store's
 * own allocator.
 * ------------------------------------------------------------------------- */

static bool sweep_wrong;

/* What a reader can see of a store, as text. */
static void fingerprint(zm_store *s, char *buf, size_t size) {
    zm_arena tmp;
    zm_arena_init(&tmp, zm_default_allocator());
    zm_allocator ta = zm_arena_allocator(&tmp);
    zm_store_stats st;
    zm_store_stats_get(s, &st);
    size_t pos = (size_t)snprintf(buf, size, "%zu %zu %zu %zu %zu |", st.keys, st.versions,
                                  st.terms, st.nodes, st.edges);
    zm_store_cursor *c;
    if (zm_store_export_open(s, ta, &c) == ZM_OK) {
        zm_store_record r;
        bool done = false;
        while (pos < size && zm_store_cursor_next(c, &r, &done) == ZM_OK && !done) {
            char *text;
            size_t tl;
            if (r.kind == ZM_STORE_RECORD_EDGE) {
                const zm_json *m = r.edge.metadata;
                if (m == NULL || zm_json_write(ta, m, 0, &text, &tl) != ZM_OK) text = "-";
                pos += (size_t)snprintf(buf + pos, size - pos, " %s-%s->%s@%lld/%s/%s", r.edge.from,
                                        r.edge.relation, r.edge.to, (long long)r.edge.timestamp,
                                        r.edge.agent, text);
                continue;
            }
            if (zm_json_write(ta, r.v.value, 0, &text, &tl) != ZM_OK) text = "?";
            pos += (size_t)snprintf(buf + pos, size - pos, " %s@%llu%s=%s/%s/%s", r.key,
                                    (unsigned long long)r.v.version, r.v.deleted ? "D" : "", text,
                                    r.v.agent, r.v.session);
        }
        zm_store_cursor_close(c);
    }
    static const char *queries[] = {"alpha", "beta", "gamma", "k1", "zeta"};
    for (size_t q = 0; q < 5 && pos < size; q++) {
        zm_search_hit *h;
        size_t n = 0, total;
        zm_store_search(s, queries[q], strlen(queries[q]), ZM_SEARCH_TOKEN, 10, ta, &h, &n, &total);
        pos += (size_t)snprintf(buf + pos, size - pos, " %s:", queries[q]);
        for (size_t i = 0; i < n && pos < size; i++)
            pos += (size_t)snprintf(buf + pos, size - pos, "%.*s/%.6f,", (int)h[i].key_len,
                                    h[i].key, h[i].score);
    }
    zm_store_walk w = {"n1", 2, NULL, 0, ZM_STORE_BOTH, 8, 100};
    zm_store_hit *nh;
    size_t n = 0;
    bool tr;
    zm_store_neighbors(s, &w, ta, &nh, &n, &tr);
    if (pos < size) pos += (size_t)snprintf(buf + pos, size - pos, " walk:");
    for (size_t i = 0; i < n && pos < size; i++)
        pos += (size_t)snprintf(buf + pos, size - pos, "%.*s-%.*s,", (int)nh[i].node_len,
                                nh[i].node, (int)nh[i].edge.relation_len, nh[i].edge.relation);
    zm_arena_deinit(&tmp);
}

/* Runs one write; when it fails, the store must look exactly as before. */
#define WRITE(call)                                                                                \
    do {                                                                                           \
        char before[4096], after[4096];                                                            \
        fingerprint(s, before, sizeof before);                                                     \
        zm_status st_ = (call);                                                                    \
        if (st_ != ZM_OK) {                                                                        \
            fingerprint(s, after, sizeof after);                                                   \
            if (strcmp(before, after) != 0) {                                                      \
                fprintf(stderr, "changed by a failed write at line %d:\n  %s\n  %s\n", __LINE__,   \
                        before, after);                                                            \
                sweep_wrong = true;                                                                \
            }                                                                                      \
            if (st_ != ZM_ENOMEM) {                                                                \
                fprintf(stderr, "status %d at line %d\n", (int)st_, __LINE__);                     \
                sweep_wrong = true;                                                                \
            }                                                                                      \
            zm_store_close(s);                                                                     \
            return st_;                                                                            \
        }                                                                                          \
    } while (0)

static zm_json *sweep_values[4];

static zm_status sw_put(zm_store *s, const char *key, int value, int meta, const char *agent,
                        const char *session, int64_t ts) {
    zm_store_write w =
        W(key, sweep_values[value], meta >= 0 ? sweep_values[meta] : NULL, agent, ts);
    w.session = session;
    w.session_len = session ? strlen(session) : 0;
    return zm_store_put(s, &w, NULL);
}

static zm_status store_session(zm_allocator a, void *arg) {
    zm_store *s;
    zm_status st = zm_store_memory_create(a, arg, &s);
    if (st != ZM_OK) return st;
    WRITE(sw_put(s, "k1", 0, -1, "agent", "s1", 1));
    WRITE(sw_put(s, "k1", 1, 0, "agent", "s2", 2));
    WRITE(sw_put(s, "k2", 2, -1, "other agent", NULL, 3));
    WRITE(sw_put(s, "k3 beta", 3, -1, NULL, "s1", 4));
    WRITE(sw_put(s, "k1", 3, -1, "third", NULL, 5));
    WRITE(lnk(s, "n1", "n2", "r", NULL, "agent", 6, NULL));
    WRITE(lnk(s, "n2", "n2", "self", sweep_values[0], "x", 7, NULL));
    WRITE(lnk(s, "n1", "n3", "r", NULL, NULL, 8, NULL));
    WRITE(lnk(s, "n1", "n2", "r", sweep_values[1], NULL, 9, NULL));
    WRITE(unlnk(s, "n1", "n3", "r", NULL));
    WRITE(lnk(s, "n1", "n3", "r", NULL, "new agent", 10, NULL));
    WRITE(forget(s, "k2", false, 11, NULL, NULL));
    WRITE(sw_put(s, "k2", 0, 1, "agent", "s3", 12));
    WRITE(forget(s, "k3 beta", true, 13, NULL, NULL));
    WRITE(sw_put(s, "k3 beta", 2, -1, "agent", NULL, 14));
    WRITE(sw_put(s, "k4", 1, 2, "fourth", "s4", 15));
    WRITE(sw_put(s, "k1", 2, -1, NULL, NULL, 16));
    zm_store_version v;
    zm_arena tmp;
    zm_arena_init(&tmp, zm_default_allocator());
    if (zm_store_get(s, S("k1"), -1, zm_arena_allocator(&tmp), &v) != ZM_OK || v.version != 4)
        sweep_wrong = true;
    zm_arena_deinit(&tmp);
    zm_store_close(s);
    return ZM_OK;
}

static void test_sweep(void) {
    sweep_values[0] = J("{\"text\":\"alpha beta\",\"n\":[1,2,{\"deep\":\"gamma\"}]}");
    sweep_values[1] = J("[\"alpha alpha\", \"delta\", 3.5, null, true]");
    sweep_values[2] = J("\"beta gamma epsilon\"");
    sweep_values[3] = J("{\"a\":{\"b\":{\"c\":\"zeta eta theta iota kappa lambda\"}}}");
    /* Every allocation, the store's arena requests too, failing in turn
       (this found a failed scratch allocation in zm__st_index_prepare that
       left new_post's entries unset for the abort to free). */
    static const zm_sweep_options every = {.skip_arenas = false};
    zm_sweep_report r;
    sweep_wrong = false;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), store_session, NULL, &every, &r),
             ZM_OK);
    if (r.problem != ZM_SWEEP_OK) fprintf(stderr, "%s\n", r.message);
    CHECK(!sweep_wrong);
    /* Again with max_versions: the oldest versions drop as writes go. */
    zm_store_limits lim = {0, 0, 0, 2};
    sweep_wrong = false;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), store_session, &lim, &every, &r),
             ZM_OK);
    if (r.problem != ZM_SWEEP_OK) fprintf(stderr, "%s\n", r.message);
    CHECK(!sweep_wrong);
}

/* What every read of the session's store answers, as text, the results
   allocated from a: the first status other than ZM_OK and ZM_ENOTFOUND is
   returned, with what was read up to there. */
static zm_status read_all(zm_store *s, zm_allocator a, char *buf, size_t size) {
    size_t pos = 0;
    zm_status st;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (pos < size) pos += (size_t)snprintf(buf + pos, size - pos, __VA_ARGS__);               \
    } while (0)
#define TRY(call)                                                                                  \
    do {                                                                                           \
        st = (call);                                                                               \
        if (st != ZM_OK && st != ZM_ENOTFOUND) return st;                                          \
        ADD(" %d", (int)st);                                                                       \
    } while (0)
    static const char *const keys[] = {"k1", "k2", "k3 beta", "k4", "none"};
    for (size_t k = 0; k < 5; k++) {
        zm_store_version v, *h;
        size_t n = 0;
        TRY(zm_store_get(s, S(keys[k]), -1, a, &v));
        if (st == ZM_OK) ADD(" %s@%llu", keys[k], (unsigned long long)v.version);
        TRY(zm_store_get(s, S(keys[k]), 3, a, &v));
        TRY(zm_store_history(s, S(keys[k]), -1, a, &h, &n));
        for (size_t i = 0; i < n; i++)
            ADD(" %llu/%s", (unsigned long long)h[i].version, h[i].agent);
    }
    static const char *const queries[] = {"alpha", "beta", "k", "gamma epsilon", "zeta"};
    for (size_t q = 0; q < 5; q++) {
        for (int mode = ZM_SEARCH_EXACT; mode <= ZM_SEARCH_TOKEN; mode++) {
            zm_search_hit *h;
            size_t n = 0, total = 0;
            TRY(zm_store_search(s, S(queries[q]), (zm_search_mode)mode, 3, a, &h, &n, &total));
            ADD(" %zu:", total);
            for (size_t i = 0; i < n; i++) ADD("%s,", h[i].key);
            TRY(zm_store_search_skip(s, S(queries[q]), (zm_search_mode)mode, 3, S("k1"), a, &h, &n,
                                     &total));
            ADD(" %zu:", total);
            for (size_t i = 0; i < n; i++) ADD("%s,", h[i].key);
        }
    }
    zm_store_walk w = {"n1", 2, NULL, 0, ZM_STORE_BOTH, 8, 100};
    zm_store_hit *nh;
    size_t n = 0;
    bool tr = false;
    TRY(zm_store_neighbors(s, &w, a, &nh, &n, &tr));
    for (size_t i = 0; i < n; i++) ADD(" %s/%s", nh[i].node, nh[i].edge.relation);
    zm_store_cursor *c;
    TRY(zm_store_export_open(s, a, &c));
    zm_store_record r;
    bool done = false;
    while ((st = zm_store_cursor_next(c, &r, &done)) == ZM_OK && !done)
        ADD(" %d:%s", (int)r.kind, r.kind == ZM_STORE_RECORD_EDGE ? r.edge.from : r.key);
    zm_store_cursor_close(c);
    if (st != ZM_OK) return st;
#undef TRY
#undef ADD
    return ZM_OK;
}

static zm_store *read_store;
static char read_want[8192];
static bool read_wrong;

/* One round of reads, every result from an arena over the sweep's
   allocator: ZM_ENOMEM from any of them, or the same answers as outside
   the sweep. */
static zm_status read_session(zm_allocator a, void *arg) {
    (void)arg;
    zm_arena reads;
    zm_arena_init(&reads, a);
    char got[8192];
    zm_status st = read_all(read_store, zm_arena_allocator(&reads), got, sizeof got);
    if (st == ZM_OK && strcmp(got, read_want) != 0) {
        fprintf(stderr, "reads under the sweep answered\n  %s\nnot\n  %s\n", got, read_want);
        read_wrong = true;
    } else if (st != ZM_OK && st != ZM_ENOMEM) {
        fprintf(stderr, "a read failed with %s under the sweep\n", zm_status_str(st));
        read_wrong = true;
    }
    zm_arena_deinit(&reads);
    return st;
}

/* The memory store's reads that allocate (history, search, search with a
   skip, neighbours, the export cursor) under the sweep, on the session's
   store, built outside it: each failure is ZM_ENOMEM, leaks nothing, and a
   read that succeeds answers as it does outside the sweep. */
static void test_read_sweep(void) {
    CHECK_EQ(zm_store_memory_create(zm_default_allocator(), NULL, &read_store), ZM_OK);
    CHECK_EQ(sw_put(read_store, "k1", 0, -1, "agent", "s1", 1), ZM_OK);
    CHECK_EQ(sw_put(read_store, "k1", 1, 0, "agent", "s2", 2), ZM_OK);
    CHECK_EQ(sw_put(read_store, "k2", 2, -1, "other agent", NULL, 3), ZM_OK);
    CHECK_EQ(sw_put(read_store, "k3 beta", 3, -1, NULL, "s1", 4), ZM_OK);
    CHECK_EQ(sw_put(read_store, "k4", 1, 2, "fourth", "s4", 5), ZM_OK);
    CHECK_EQ(forget(read_store, "k2", false, 6, NULL, NULL), ZM_OK);
    CHECK_EQ(lnk(read_store, "n1", "n2", "r", NULL, "agent", 7, NULL), ZM_OK);
    CHECK_EQ(lnk(read_store, "n2", "n3", "s", sweep_values[0], "x", 8, NULL), ZM_OK);
    CHECK_EQ(lnk(read_store, "n4", "n1", "r", NULL, NULL, 9, NULL), ZM_OK);
    zm_arena once;
    zm_arena_init(&once, zm_default_allocator());
    CHECK_EQ(read_all(read_store, zm_arena_allocator(&once), read_want, sizeof read_want), ZM_OK);
    zm_arena_deinit(&once);
    CHECK(strstr(read_want, "k1@2") != NULL); /* the reads read something */
    CHECK(strstr(read_want, " n3/s") != NULL);
    static const zm_sweep_options every = {.skip_arenas = false};
    zm_sweep_report r;
    read_wrong = false;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), read_session, NULL, &every, &r),
             ZM_OK);
    if (r.problem != ZM_SWEEP_OK) fprintf(stderr, "%s\n", r.message);
    CHECK(r.alloc_count > 0); /* the sweep failed something */
    CHECK(!read_wrong);
    zm_store_close(read_store);
}

/* ---------------------------------------------------------------------------
 * The seeded hash. Keys chosen to collide under the store's hash without a
 * seed (the hash an attacker could compute) land all over a seeded store's
 * tables: lookups stay a probe or two. Counted in probes, never timed.
 * ------------------------------------------------------------------------- */

/* zm__st_hash with seed 0: FNV-1a over 8-byte words, then a murmur-style
   finalizer. */
static uint32_t unseeded_hash(const char *p, size_t len) {
    uint64_t h = 0xcbf29ce484222325u ^ (uint64_t)len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x100000001b3u;
        h ^= h >> 29;
        p += 8;
        len -= 8;
    }
    while (len > 0) {
        h = (h ^ (unsigned char)*p++) * 0x100000001b3u;
        len--;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return (uint32_t)h;
}

#define COLLIDE_BITS 12 /* every table of 2^12 slots or more: the same home slot mod 4096 */
#define KEY_LEN      12

/* The key of counter i: "col" and 9 letters or digits. */
static void collide_key(uint64_t i, char key[KEY_LEN + 1]) {
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz012345";
    memcpy(key, "col", 3);
    for (int d = 0; d < 9; d++) key[3 + d] = digits[(i >> (5 * d)) & 31];
    key[KEY_LEN] = '\0';
}

static void test_seeded_hash(void) {
    /* The copy above is the store's hash with seed 0. */
    static zm__mem unseeded; /* zeroed: seed 0 */
    const char *samples[] = {"", "a", "col", "0123456789abcdef", "a longer key of many words"};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        CHECK_EQ(zm__st_hash(&unseeded, S(samples[i])), unseeded_hash(S(samples[i])));

    size_t nkeys = zt_small() ? 2000 : 20000;
    char(*keys)[KEY_LEN + 1] = malloc(nkeys * sizeof *keys);
    uint32_t mask = (1u << COLLIDE_BITS) - 1, target = 0x5a5 & mask;
    size_t found = 0;
    for (uint64_t i = 0; found < nkeys; i++) {
        collide_key(i, keys[found]);
        if ((unseeded_hash(keys[found], KEY_LEN) & mask) == target) found++;
    }

    /* What linear probing with the unseeded hash would cost: a table of
       32768 slots where all keys share 8 home slots. */
    uint32_t cap = 1;
    while ((uint64_t)cap * 3 < (uint64_t)nkeys * 4) cap *= 2;
    uint32_t *slots = calloc(cap, sizeof *slots);
    size_t sim_probes = 0;
    for (size_t i = 0; i < nkeys; i++) {
        uint32_t j = unseeded_hash(keys[i], KEY_LEN) & (cap - 1);
        sim_probes++;
        while (slots[j] != 0) j = (j + 1) & (cap - 1), sim_probes++;
        slots[j] = (uint32_t)i + 1;
    }
    free(slots);
    double sim = (double)sim_probes / (double)nkeys;
    CHECK(sim > 50); /* the keys do collide without a seed */

    zm_store *s = mem_store(zm_default_allocator(), NULL);
    zm_store_stats st;
    CHECK_EQ(zm_store_stats_get(s, &st), ZM_OK);
    size_t p0 = st.probes;
    zm_json *one = J("1");
    for (size_t i = 0; i < nkeys; i++)
        CHECK_EQ(put(s, keys[i], one, NULL, NULL, (int64_t)i, NULL), ZM_OK);
    CHECK_EQ(zm_store_stats_get(s, &st), ZM_OK);
    CHECK_EQ(st.keys, nkeys);
    size_t p1 = st.probes;
    /* A get is one lookup in the key table. */
    for (size_t i = 0; i < nkeys; i++) {
        zm_store_version v;
        CHECK_EQ(get(s, keys[i], -1, &v), ZM_OK);
        if (i % 1024 == 0) zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    CHECK_EQ(zm_store_stats_get(s, &st), ZM_OK);
    size_t p2 = st.probes;
    double per_put = (double)(p1 - p0) / (double)nkeys;
    double per_get = (double)(p2 - p1) / (double)nkeys;
    fprintf(stderr,
            "  seeded hash: %zu colliding keys; probes per get %.2f, per put %.2f "
            "(unseeded: %.0f per lookup)\n",
            nkeys, per_get, per_put, sim);
    CHECK(per_get > 0);
    CHECK(per_get < 4);
    CHECK(per_put < 16); /* a put looks up its key, agent, session and terms */
    zm_store_close(s);
    free(keys);
}

int main(void) {
    zm_arena_init(&ar, zm_default_allocator());
    RUN(test_shared_and_interned);
    RUN(test_reads_do_not_allocate);
    RUN(test_churn_steady);
    RUN(test_sweep);
    RUN(test_read_sweep);
    RUN(test_seeded_hash);
    zm_arena_deinit(&ar);
    return zt_finish("store_memory");
}
