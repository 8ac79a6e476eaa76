/* The store's conformance suite, search part: search (bytes, BM25, leaving out a prefix), the
   template built-ins, the graph and transactions (conformance.h: the backends and the run). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, nanosleep, opendir */
#include "conformance.h"

/* ---------------------------------------------------------------------------
 * Search
 * ------------------------------------------------------------------------- */

static void test_search_bytes(void) {
    zm_store *s = open_store(NULL);
    CHECK_EQ(put(s, "apple", J("\"a red fruit\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "apricot", J("{\"note\":\"apple-like\"}"), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "banana", J("[\"x\", {\"deep\": [\"apple\"]}]"), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "cherry", J("{\"apple\": 1}"), J("\"apple\""), NULL, 1, NULL), ZM_OK);
    zm_search_hit *h;
    size_t n, total;

    /* exact: the key scores 1.0, content 0.5; member names and metadata are
       not content. */
    CHECK_EQ(search(s, "apple", ZM_SEARCH_EXACT, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(total, 2);
    if (n == 2) {
        CHECK(hit_is(&h[0], "apple", 1.0));
        CHECK(h[0].snippet == NULL);
        CHECK(hit_is(&h[1], "banana", 0.5));
        CHECK(bytes_are(h[1].snippet, h[1].snippet_len, S("apple")));
        CHECK_EQ(h[1].version, 1);
    }

    /* prefix: apple (key), apricot's content "apple-like", banana's "apple".
       Ties by key. */
    CHECK_EQ(search(s, "app", ZM_SEARCH_PREFIX, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK(hit_is(&h[0], "apple", 1.0));
        CHECK(hit_is(&h[1], "apricot", 0.5));
        CHECK(hit_is(&h[2], "banana", 0.5));
    }

    /* substring, case-sensitive. */
    CHECK_EQ(search(s, "red", ZM_SEARCH_SUBSTRING, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    if (n == 1) {
        CHECK(hit_is(&h[0], "apple", 0.5));
        CHECK(bytes_are(h[0].snippet, h[0].snippet_len, S("a red fruit")));
    }
    CHECK_EQ(search(s, "RED", ZM_SEARCH_SUBSTRING, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK(h == NULL);
    CHECK_EQ(search(s, "an", ZM_SEARCH_SUBSTRING, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    if (n == 1) CHECK(hit_is(&h[0], "banana", 1.0));

    /* limit keeps the best, total counts all. */
    CHECK_EQ(search(s, "a", ZM_SEARCH_SUBSTRING, 2, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(total, 3); /* cherry's only strings are a member name and metadata */
    if (n == 2) {
        CHECK(hit_is(&h[0], "apple", 1.0));
        CHECK(hit_is(&h[1], "apricot", 1.0));
    }
    CHECK_EQ(search(s, "a", ZM_SEARCH_SUBSTRING, 0, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(total, 3);

    /* Only the latest version is searched. */
    CHECK_EQ(put(s, "apple", J("\"green now\""), NULL, NULL, 2, NULL), ZM_OK);
    CHECK_EQ(search(s, "red", ZM_SEARCH_SUBSTRING, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(search(s, "apple", ZM_SEARCH_EXACT, 10, &h, &n, &total), ZM_OK);
    CHECK(n >= 1 && h[0].version == 2);

    /* Snippets are cut around the match on character boundaries. */
    char text[400];
    size_t pos = 0;
    text[pos++] = '"';
    for (int i = 0; i < 60; i++) text[pos++] = 'x', text[pos++] = '\xc3', text[pos++] = '\xa9';
    memcpy(text + pos, "NEEDLE", 6), pos += 6;
    for (int i = 0; i < 60; i++) text[pos++] = '\xc3', text[pos++] = '\xa9';
    text[pos++] = '"';
    text[pos] = '\0';
    CHECK_EQ(put(s, "long", J(text), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(search(s, "NEEDLE", ZM_SEARCH_SUBSTRING, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    if (n == 1) {
        CHECK(h[0].snippet_len <= ZM_STORE_SNIPPET);
        CHECK(h[0].snippet_len > 6);
        CHECK(zm_utf8_valid(h[0].snippet, h[0].snippet_len));
        bool has = false;
        for (size_t i = 0; i + 6 <= h[0].snippet_len; i++)
            has = has || memcmp(h[0].snippet + i, "NEEDLE", 6) == 0;
        CHECK(has);
    }
    CHECK_EQ(search(s, "x", (zm_search_mode)9, 1, &h, &n, &total), ZM_EINVAL);
    CHECK_EQ(search(s, "x", (zm_search_mode)-1, 1, &h, &n, &total), ZM_EINVAL);
    zm_store_close(s);
}

static void test_search_bm25(void) {
    zm_store *s = open_store(NULL);
    /* Equal lengths (4 tokens each, key included), different counts of
       "memory". */
    CHECK_EQ(put(s, "d1", J("\"memory memory memory\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "d2", J("\"memory arena pool\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "d3", J("[\"MEMORY\", \"memory\", \"zig\"]"), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "d4", J("{\"t\": \"nothing relevant here\"}"), NULL, NULL, 1, NULL), ZM_OK);
    zm_search_hit *h;
    size_t n, total;
    CHECK_EQ(search(s, "Memory", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 3);
    CHECK_EQ(total, 3);
    if (n == 3) {
        CHECK(hit_is(&h[0], "d1", -1));
        CHECK(hit_is(&h[1], "d3", -1));
        CHECK(hit_is(&h[2], "d2", -1));
        CHECK(h[0].score > h[1].score && h[1].score > h[2].score && h[2].score > 0);
        if (cur->exact_bm25) {
            /* The exact BM25 value of d2: N=4, df=3, tf=1, dl=4, avgdl=4. */
            double idf = log(1.0 + (4.0 - 3.0 + 0.5) / (3.0 + 0.5));
            double want = idf * 1.0 * 2.2 / (1.0 + 1.2);
            CHECK(fabs(h[2].score - want) < 1e-12);
        }
        CHECK(bytes_are(h[2].snippet, h[2].snippet_len, S("memory arena pool")));
    }

    /* A rarer term weighs more; scores add over terms. */
    CHECK_EQ(search(s, "memory zig", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK(n >= 1 && hit_is(&h[0], "d3", -1));
    /* Keys are tokens too. */
    CHECK_EQ(search(s, "d4", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    if (n == 1) {
        CHECK(hit_is(&h[0], "d4", -1));
        CHECK(h[0].snippet == NULL);
    }

    /* Equal scores: ordered by key. */
    CHECK_EQ(put(s, "b", J("\"tie\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "a", J("\"tie\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "c", J("\"tie\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(search(s, "tie", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK(hit_is(&h[0], "a", -1));
        CHECK(hit_is(&h[1], "b", -1));
        CHECK(hit_is(&h[2], "c", -1));
        CHECK(h[0].score == h[1].score && h[1].score == h[2].score);
    }
    CHECK_EQ(search(s, "tie", ZM_SEARCH_TOKEN, 2, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(total, 3);
    if (n == 2) CHECK(hit_is(&h[1], "b", -1));

    /* A new version replaces the old one's terms. */
    CHECK_EQ(put(s, "d1", J("\"arena\""), NULL, NULL, 2, NULL), ZM_OK);
    CHECK_EQ(search(s, "memory", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(search(s, "arena", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 2);
    if (n == 2) CHECK_EQ(h[0].version + h[1].version, 3);

    /* No tokens, unknown tokens: nothing. Non-ASCII bytes are token bytes. */
    CHECK_EQ(search(s, "!!!", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(search(s, "", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(put(s, "fr", J("\"caf\xc3\xa9 au lait\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(search(s, "CAF\xc3\xa9", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(search(s, "caf", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    /* Long tokens are cut at ZM_STORE_MAX_TOKEN bytes, both ways. */
    char lt[200] = "\"";
    memset(lt + 1, 'q', 100);
    strcpy(lt + 101, "\"");
    CHECK_EQ(put(s, "long", J(lt), NULL, NULL, 1, NULL), ZM_OK);
    char q[80];
    memset(q, 'q', 70);
    q[70] = '\0';
    CHECK_EQ(search(s, q, ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    q[ZM_STORE_MAX_TOKEN - 1] = '\0'; /* one byte short: another token */
    CHECK_EQ(search(s, q, ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    zm_store_close(s);
}

/* ---------------------------------------------------------------------------
 * The graph
 * ------------------------------------------------------------------------- */

static void link_ok(zm_store *s, const char *from, const char *to, const char *rel, bool want_new) {
    bool created = !want_new;
    CHECK_EQ(lnk(s, from, to, rel, NULL, "g", 7, &created), ZM_OK);
    CHECK(created == want_new);
}

#include "conformance_templates.h"

static void test_graph(void) {
    zm_store *s = open_store(NULL);
    /* a -> b -> c -> a (a cycle), a -> d, e -> a, c -knows-> f */
    link_ok(s, "a", "b", "next", true);
    link_ok(s, "b", "c", "next", true);
    link_ok(s, "c", "a", "next", true);
    link_ok(s, "a", "d", "next", true);
    link_ok(s, "e", "a", "next", true);
    link_ok(s, "c", "f", "knows", true);
    link_ok(s, "a", "b", "next", false); /* again: updated */
    link_ok(s, "a", "a", "self", true);
    CHECK_EQ(lnk(s, "a", "b", "next", J("{\"w\":2}"), "h", 9, NULL), ZM_OK);

    zm_store_hit *h;
    size_t n;
    bool tr;
    CHECK_EQ(walk(s, "a", NULL, ZM_STORE_OUT, 1, 100, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "b:1 d:1"));
    CHECK(!tr);
    if (n == 2) {
        CHECK(h[0].outgoing);
        CHECK_STR(h[0].edge.from, "a");
        CHECK_STR(h[0].edge.to, "b");
        CHECK_STR(h[0].edge.relation, "next");
        CHECK_EQ(h[0].edge.relation_len, 4);
        CHECK_STR(h[0].edge.agent, "h");
        CHECK_EQ(h[0].edge.timestamp, 9);
        CHECK(is_json(h[0].edge.metadata, "{\"w\":2}"));
        CHECK(h[1].edge.metadata == NULL);
        CHECK_STR(h[1].edge.agent, "g");
    }

    /* Deeper: the cycle back to a is not revisited. */
    CHECK_EQ(walk(s, "a", NULL, ZM_STORE_OUT, 8, 100, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "b:1 d:1 c:2 f:3"));
    if (n == 4) CHECK_STR(h[3].edge.relation, "knows");
    CHECK_EQ(walk(s, "a", "next", ZM_STORE_OUT, 8, 100, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "b:1 d:1 c:2"));
    CHECK_EQ(walk(s, "a", NULL, ZM_STORE_IN, 1, 100, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "c:1 e:1"));
    if (n == 2) {
        CHECK(!h[0].outgoing);
        CHECK_STR(h[0].edge.from, "c");
        CHECK_STR(h[0].edge.to, "a");
    }
    CHECK_EQ(walk(s, "a", NULL, ZM_STORE_BOTH, 1, 100, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "b:1 d:1 c:1 e:1"));
    CHECK_EQ(walk(s, "f", NULL, ZM_STORE_IN, 2, 100, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "c:1 b:2"));

    /* Limits: truncated when more were reachable. */
    CHECK_EQ(walk(s, "a", NULL, ZM_STORE_BOTH, 8, 2, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "b:1 d:1"));
    CHECK(tr);
    CHECK_EQ(walk(s, "a", NULL, ZM_STORE_OUT, 8, 4, &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 4);
    CHECK(!tr);
    CHECK_EQ(walk(s, "a", NULL, ZM_STORE_OUT, 8, 0, &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK(tr);
    /* Unknown node, unknown relation: nothing. */
    CHECK_EQ(walk(s, "zz", NULL, ZM_STORE_OUT, 1, 10, &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK(!tr);
    CHECK_EQ(walk(s, "a", "zz", ZM_STORE_OUT, 1, 10, &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 0);
    /* Bad arguments. */
    CHECK_EQ(walk(s, "a", NULL, ZM_STORE_OUT, 0, 10, &h, &n, &tr), ZM_EINVAL);
    CHECK_EQ(walk(s, "a", NULL, ZM_STORE_OUT, ZM_STORE_MAX_WALK_DEPTH + 1, 10, &h, &n, &tr),
             ZM_EINVAL);
    CHECK_EQ(walk(s, "a", NULL, (zm_store_direction)0, 1, 10, &h, &n, &tr), ZM_EINVAL);
    CHECK_EQ(walk(s, "a", NULL, (zm_store_direction)4, 1, 10, &h, &n, &tr), ZM_EINVAL);
    zm_store_stats st = stats(s);
    CHECK_EQ(st.nodes, 6);
    CHECK_EQ(st.edges, 7);

    /* Many walks. */
    for (int i = 0; i < 1000; i++)
        CHECK_EQ(walk(s, "b", NULL, ZM_STORE_OUT, 8, 100, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "c:1 a:2 f:2 d:3"));
    zm_store_close(s);
}

/* limit 0 reports truncated only when some node was reachable. */
static void test_walk_limit_zero(void) {
    zm_store *s = open_store(NULL);
    link_ok(s, "a", "a", "self", true);
    link_ok(s, "a", "b", "r", true);
    zm_store_hit *h;
    size_t n;
    bool tr;
    CHECK_EQ(walk(s, "a", "r", ZM_STORE_OUT, 1, 0, &h, &n, &tr), ZM_OK);
    CHECK(tr);
    CHECK_EQ(walk(s, "a", "self", ZM_STORE_OUT, 1, 0, &h, &n, &tr), ZM_OK);
    CHECK(!tr); /* only the start node itself: nothing more was reachable */
    CHECK_EQ(walk(s, "a", "other", ZM_STORE_OUT, 1, 0, &h, &n, &tr), ZM_OK);
    CHECK(!tr);
    CHECK_EQ(walk(s, "b", "r", ZM_STORE_OUT, 1, 0, &h, &n, &tr), ZM_OK);
    CHECK(!tr);
    zm_store_close(s);
}

static void test_unlink(void) {
    zm_store *s = open_store(NULL);
    CHECK_EQ(lnk(s, "a", "b", "r", J("{\"old\":1}"), "x", 1, NULL), ZM_OK);
    link_ok(s, "a", "c", "r", true);
    link_ok(s, "b", "c", "r2", true);
    link_ok(s, "a", "b", "r2", true);
    bool removed = false;
    CHECK_EQ(unlnk(s, "a", "b", "r", &removed), ZM_OK);
    CHECK(removed);
    CHECK_EQ(unlnk(s, "a", "b", "r", &removed), ZM_OK);
    CHECK(!removed);
    removed = true;
    CHECK_EQ(unlnk(s, "b", "a", "r", &removed), ZM_OK); /* the other way: no such edge */
    CHECK(!removed);
    removed = true;
    CHECK_EQ(unlnk(s, "nobody", "b", "r", &removed), ZM_OK);
    CHECK(!removed);
    removed = true;
    CHECK_EQ(unlnk(s, "a", "b", "unknown", &removed), ZM_OK);
    CHECK(!removed);
    CHECK_EQ(unlnk(s, "a", "c", "r", NULL), ZM_OK);
    CHECK_EQ(stats(s).edges, 2);

    zm_store_hit *h;
    size_t n;
    bool tr;
    CHECK_EQ(walk(s, "a", "r", ZM_STORE_OUT, 8, 10, &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(walk(s, "a", NULL, ZM_STORE_OUT, 1, 10, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "b:1"));
    if (n == 1) CHECK_STR(h[0].edge.relation, "r2");
    CHECK_EQ(walk(s, "b", "r", ZM_STORE_IN, 1, 10, &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 0);

    /* Linked again: a new edge, with the new metadata only, after the others. */
    bool created = false;
    CHECK_EQ(lnk(s, "a", "c", "r", NULL, "y", 5, &created), ZM_OK);
    CHECK(created);
    CHECK_EQ(lnk(s, "a", "b", "r", NULL, "y", 6, &created), ZM_OK);
    CHECK(created);
    CHECK_EQ(walk(s, "a", "r", ZM_STORE_OUT, 1, 10, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "c:1 b:1"));
    if (n == 2) {
        CHECK(h[1].edge.metadata == NULL);
        CHECK_STR(h[1].edge.agent, "y");
        CHECK_EQ(h[1].edge.timestamp, 6);
    }
    CHECK_EQ(stats(s).edges, 4);
    /* A self loop comes and goes too. */
    link_ok(s, "z", "z", "self", true);
    CHECK_EQ(unlnk(s, "z", "z", "self", &removed), ZM_OK);
    CHECK(removed);
    link_ok(s, "z", "z", "self", true);
    CHECK_EQ(walk(s, "z", NULL, ZM_STORE_BOTH, 8, 10, &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(stats(s).edges, 5);
    zm_store_close(s);
}

/* ---------------------------------------------------------------------------
 * Transactions
 * ------------------------------------------------------------------------- */

typedef struct waiter {
    zm_store *s;
    atomic_bool done;
    zm_status st;
} waiter;

static void *write_other(void *arg) {
    waiter *w = arg;
    zm_arena tmp;
    zm_arena_init(&tmp, zm_default_allocator());
    zm_json *v = zm_json_new_int(zm_arena_allocator(&tmp), 1);
    zm_store_write wr = W("from-thread", v, NULL, NULL, 5);
    w->st = zm_store_put(w->s, &wr, NULL);
    zm_arena_deinit(&tmp);
    atomic_store(&w->done, true);
    return NULL;
}

static void test_transactions(void) {
    zm_store *s = open_store(NULL);
    zm_store_version v;
    CHECK_EQ(zm_store_commit(s), ZM_EINVAL);
    CHECK(errmsg_has("transaction"));
    CHECK_EQ(zm_store_rollback(s), ZM_EINVAL);

    /* begin, writes, commit: all visible. */
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(zm_store_begin(s), ZM_EINVAL); /* they do not nest */
    CHECK_EQ(put(s, "t1", J("1"), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "t1", J("2"), NULL, NULL, 2, NULL), ZM_OK);
    CHECK_EQ(lnk(s, "x", "y", "r", NULL, NULL, 2, NULL), ZM_OK);
    CHECK_EQ(get(s, "t1", -1, &v), ZM_OK); /* the transaction sees itself */
    CHECK_EQ(v.version, 2);
    CHECK_EQ(zm_store_commit(s), ZM_OK);
    CHECK_EQ(get(s, "t1", -1, &v), ZM_OK);
    CHECK_EQ(v.version, 2);
    CHECK_EQ(stats(s).edges, 1);

    /* begin, writes, rollback. */
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(put(s, "t1", J("3"), NULL, NULL, 3, NULL), ZM_OK);
    CHECK_EQ(put(s, "t2", J("1"), NULL, NULL, 3, NULL), ZM_OK);
    CHECK_EQ(forget(s, "t1", false, 4, NULL, NULL), ZM_OK);
    CHECK_EQ(lnk(s, "x", "z", "r", NULL, NULL, 3, NULL), ZM_OK);
    zm_status rb = zm_store_rollback(s);
    if (cur->rollback) {
        CHECK_EQ(rb, ZM_OK);
        CHECK_EQ(get(s, "t1", -1, &v), ZM_OK);
        CHECK_EQ(v.version, 2);
        CHECK_EQ(get(s, "t2", -1, &v), ZM_ENOTFOUND);
        CHECK_EQ(stats(s).edges, 1);
        CHECK_EQ(stats(s).versions, 2);
    } else {
        /* The memory backend cannot undo: its mutations stay. */
        CHECK_EQ(rb, ZM_ENOTSUP);
        CHECK(errmsg_has("rollback"));
        CHECK_EQ(get(s, "t1", -1, &v), ZM_ENOTFOUND);
        CHECK_EQ(v.version, 4);
        CHECK_EQ(get(s, "t2", -1, &v), ZM_OK);
        CHECK_EQ(stats(s).edges, 2);
    }
    /* The transaction ended either way. */
    CHECK_EQ(zm_store_commit(s), ZM_EINVAL);
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(zm_store_commit(s), ZM_OK);

    /* Another thread's write waits for the commit. */
    waiter w;
    w.s = s;
    atomic_init(&w.done, false);
    w.st = ZM_EINVAL;
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, write_other, &w), 0);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    CHECK(!atomic_load(&w.done));
    CHECK_EQ(get(s, "from-thread", -1, &v), ZM_ENOTFOUND);
    CHECK_EQ(zm_store_commit(s), ZM_OK);
    pthread_join(th, NULL);
    CHECK(atomic_load(&w.done));
    CHECK_EQ(w.st, ZM_OK);
    CHECK_EQ(get(s, "from-thread", -1, &v), ZM_OK);
    zm_store_close(s);
}

static void run_all(void) {
    TEST(test_search_bytes);
    TEST(test_search_bm25);
    TEST(test_search_skip);
    TEST(test_template_builtins);
    TEST(test_graph);
    TEST(test_walk_limit_zero);
    TEST(test_unlink);
    TEST(test_transactions);
}

int main(int argc, char **argv) {
    return conformance_main(argc, argv, "store_conformance_search", run_all);
}
