/* The store: versions, as_of, limits, search (modes, BM25, ordering), the
   graph, reads that never allocate, and failed writes that change nothing. */
#include <math.h>

#include "counting.h"
#include "test.h"
#include "zmem/json.h"
#include "zmem/store.h"
#include "zmem/testing.h"

static zm_arena ar; /* test inputs and read results */

static zm_json *J(const char *text) {
    zm_json *v = NULL;
    zm_status st = zm_json_parse_arena(&ar, text, strlen(text), NULL, &v, NULL);
    CHECK(st == ZM_OK);
    return v;
}

static bool is_json(const zm_json *v, const char *text) {
    return v != NULL && zm_json_equal(v, J(text));
}

#define S(str) (str), strlen(str)

/* ---------------------------------------------------------------------------
 * Versions
 * ------------------------------------------------------------------------- */

static void test_put_get_history(void) {
    zm_store *s;
    CHECK_EQ(zm_store_create(zm_default_allocator(), NULL, &s), ZM_OK);
    zm_store_version v;
    CHECK_EQ(zm_store_get(s, S("k"), -1, &v), ZM_ENOTFOUND);

    CHECK_EQ(zm_store_put(s, S("k"), J("{\"n\":1}"), J("{\"tag\":\"a\"}"), S("agent-1"), 100, &v),
             ZM_OK);
    CHECK_EQ(v.version, 1);
    CHECK_EQ(v.timestamp, 100);
    CHECK_STR(v.agent, "agent-1");
    CHECK_EQ(zm_store_put(s, S("k"), J("{\"n\":2}"), NULL, S("agent-2"), 200, &v), ZM_OK);
    CHECK_EQ(v.version, 2);
    CHECK(v.metadata == NULL);
    CHECK_EQ(zm_store_put(s, S("k"), J("[3]"), NULL, NULL, 0, 300, &v), ZM_OK);
    CHECK_EQ(v.version, 3);
    CHECK_STR(v.agent, "");
    CHECK_EQ(zm_store_put(s, S("other"), J("true"), NULL, S("agent-1"), 150, NULL), ZM_OK);

    /* Latest, and as_of. */
    CHECK_EQ(zm_store_get(s, S("k"), -1, &v), ZM_OK);
    CHECK_EQ(v.version, 3);
    CHECK(is_json(v.value, "[3]"));
    CHECK_EQ(zm_store_get(s, S("k"), 99, &v), ZM_ENOTFOUND);
    CHECK_EQ(zm_store_get(s, S("k"), 100, &v), ZM_OK);
    CHECK_EQ(v.version, 1);
    CHECK(is_json(v.value, "{\"n\":1}"));
    CHECK(is_json(v.metadata, "{\"tag\":\"a\"}"));
    CHECK_STR(v.agent, "agent-1");
    CHECK_EQ(zm_store_get(s, S("k"), 250, &v), ZM_OK);
    CHECK_EQ(v.version, 2);
    CHECK_EQ(zm_store_get(s, S("k"), 300, &v), ZM_OK);
    CHECK_EQ(v.version, 3);
    CHECK_EQ(zm_store_get(s, S("k"), INT64_MAX, &v), ZM_OK);
    CHECK_EQ(v.version, 3);

    /* History, oldest first; agents are interned (same pointer). */
    const zm_store_version *h;
    size_t n;
    CHECK_EQ(zm_store_history(s, S("k"), &h, &n), ZM_OK);
    CHECK_EQ(n, 3);
    CHECK_EQ(h[0].version, 1);
    CHECK_EQ(h[2].timestamp, 300);
    CHECK_STR(h[1].agent, "agent-2");
    const zm_store_version *h2;
    CHECK_EQ(zm_store_history(s, S("other"), &h2, &n), ZM_OK);
    CHECK(h2[0].agent == h[0].agent);
    CHECK_EQ(zm_store_history(s, S("nope"), &h, &n), ZM_ENOTFOUND);

    /* A clock going backwards never makes versions go backwards. */
    CHECK_EQ(zm_store_put(s, S("k"), J("4"), NULL, NULL, 0, 50, &v), ZM_OK);
    CHECK_EQ(v.timestamp, 300);
    CHECK_EQ(zm_store_get(s, S("k"), 300, &v), ZM_OK);
    CHECK_EQ(v.version, 4);

    /* Keys in first-write order; stats. */
    CHECK_EQ(zm_store_count(s), 2);
    size_t kl;
    CHECK_STR(zm_store_key_at(s, 0, &kl), "k");
    CHECK_STR(zm_store_key_at(s, 1, &kl), "other");
    CHECK_EQ(kl, 5);
    CHECK(zm_store_key_at(s, 2, &kl) == NULL);
    zm_store_stats st;
    zm_store_stats_get(s, &st);
    CHECK_EQ(st.keys, 2);
    CHECK_EQ(st.versions, 5);
    CHECK(st.data_bytes > 0);
    zm_store_destroy(s);
    zm_store_destroy(NULL);
}

/* Values are deep copies, shared-marked, and keys may hold any UTF-8. */
static void test_copies(void) {
    zm_store *s;
    CHECK_EQ(zm_store_create(zm_default_allocator(), NULL, &s), ZM_OK);
    zm_arena tmp;
    zm_arena_init(&tmp, zm_default_allocator());
    zm_json *v = NULL;
    const char *text = "{\"list\":[1,\"two\",{\"three\":3.5}],\"big\":123456789012345678901234}";
    CHECK_EQ(zm_json_parse_arena(&tmp, text, strlen(text), NULL, &v, NULL), ZM_OK);
    CHECK_EQ(zm_store_put(s, S("cl\xc3\xa9"), v, v, S("a"), 1, NULL), ZM_OK);
    zm_arena_deinit(&tmp); /* the input dies; the store's copy lives */
    zm_store_version got;
    CHECK_EQ(zm_store_get(s, S("cl\xc3\xa9"), -1, &got), ZM_OK);
    CHECK(is_json(got.value, text));
    CHECK(is_json(got.metadata, text));
    CHECK(got.value->flags & ZM_JSON_F_SHARED);
    CHECK(zm_json_at(zm_json_get(got.value, "list"), 2)->flags & ZM_JSON_F_SHARED);
    zm_store_destroy(s);
}

static void test_limits(void) {
    zm_store_limits lim = {16, 256, 4, 3};
    zm_store *s;
    CHECK_EQ(zm_store_create(zm_default_allocator(), &lim, &s), ZM_OK);
    zm_store_limits got;
    zm_store_get_limits(s, &got);
    CHECK_EQ(got.max_key_len, 16);
    zm_json *one = J("1");
    CHECK_EQ(zm_store_put(s, "", 0, one, NULL, NULL, 0, 1, NULL), ZM_EINVAL);
    CHECK_EQ(zm_store_put(s, S("0123456789abcdef"), one, NULL, NULL, 0, 1, NULL), ZM_OK);
    CHECK_EQ(zm_store_put(s, S("0123456789abcdefg"), one, NULL, NULL, 0, 1, NULL), ZM_ELIMIT);
    CHECK_EQ(zm_store_put(s, S("bad\xff"), one, NULL, NULL, 0, 1, NULL), ZM_EINVAL);
    CHECK_EQ(zm_store_put(s, S("k"), NULL, NULL, NULL, 0, 1, NULL), ZM_EINVAL);
    CHECK_EQ(zm_store_put(s, S("k"), one, NULL, S("an agent id too long"), 1, NULL), ZM_ELIMIT);
    /* Size and depth. */
    char big[400];
    memset(big, 'x', sizeof big);
    big[0] = '"';
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = '\0';
    CHECK_EQ(zm_store_put(s, S("k"), J(big), NULL, NULL, 0, 1, NULL), ZM_ELIMIT);
    CHECK_EQ(zm_store_put(s, S("k"), one, J(big), NULL, 0, 1, NULL), ZM_ELIMIT);
    CHECK_EQ(zm_store_put(s, S("k"), J("[[[[[1]]]]]"), NULL, NULL, 0, 1, NULL), ZM_ELIMIT);
    CHECK_EQ(zm_store_put(s, S("k"), J("[[[1]]]"), NULL, NULL, 0, 1, NULL), ZM_OK);
    /* Non-finite numbers and invalid UTF-8 inside values are refused. */
    zm_allocator aa = zm_arena_allocator(&ar);
    CHECK_EQ(zm_store_put(s, S("k"), zm_json_new_real(aa, NAN), NULL, NULL, 0, 1, NULL), ZM_EINVAL);
    CHECK_EQ(zm_store_put(s, S("k"), zm_json_new_string(aa, "\xc3", 1), NULL, NULL, 0, 1, NULL),
             ZM_EINVAL);
    /* Versions per key. */
    CHECK_EQ(zm_store_put(s, S("k"), one, NULL, NULL, 0, 2, NULL), ZM_OK);
    CHECK_EQ(zm_store_put(s, S("k"), one, NULL, NULL, 0, 3, NULL), ZM_OK);
    CHECK_EQ(zm_store_put(s, S("k"), one, NULL, NULL, 0, 4, NULL), ZM_ELIMIT);
    zm_store_stats st;
    zm_store_stats_get(s, &st);
    CHECK_EQ(st.keys, 2);
    CHECK_EQ(st.versions, 4);
    zm_store_destroy(s);
}

/* ---------------------------------------------------------------------------
 * Search
 * ------------------------------------------------------------------------- */

static void search(zm_store *s, const char *q, zm_search_mode mode, size_t limit,
                   zm_search_hit **hits, size_t *n, size_t *total) {
    CHECK_EQ(zm_store_search(s, q, strlen(q), mode, limit, zm_arena_allocator(&ar), hits, n, total),
             ZM_OK);
}

static bool hit_is(const zm_search_hit *h, const char *key, double score) {
    bool ok = h->key_len == strlen(key) && memcmp(h->key, key, h->key_len) == 0 &&
              (score < 0 || fabs(h->score - score) < 1e-9);
    if (!ok)
        fprintf(stderr, "  hit %.*s %g, want %s %g\n", (int)h->key_len, h->key, h->score, key,
                score);
    return ok;
}

static void test_search_bytes(void) {
    zm_store *s;
    CHECK_EQ(zm_store_create(zm_default_allocator(), NULL, &s), ZM_OK);
    CHECK_EQ(zm_store_put(s, S("apple"), J("\"a red fruit\""), NULL, NULL, 0, 1, NULL), ZM_OK);
    CHECK_EQ(zm_store_put(s, S("apricot"), J("{\"note\":\"apple-like\"}"), NULL, NULL, 0, 1, NULL),
             ZM_OK);
    CHECK_EQ(
        zm_store_put(s, S("banana"), J("[\"x\", {\"deep\": [\"apple\"]}]"), NULL, NULL, 0, 1, NULL),
        ZM_OK);
    CHECK_EQ(zm_store_put(s, S("cherry"), J("{\"apple\": 1}"), NULL, NULL, 0, 1, NULL), ZM_OK);
    zm_search_hit *h;
    size_t n, total;

    /* exact: the key scores 1.0, content 0.5; member names are not content. */
    search(s, "apple", ZM_SEARCH_EXACT, 10, &h, &n, &total);
    CHECK_EQ(n, 2);
    CHECK_EQ(total, 2);
    CHECK(hit_is(&h[0], "apple", 1.0));
    CHECK(h[0].snippet == NULL);
    CHECK(hit_is(&h[1], "banana", 0.5));
    CHECK(h[1].snippet_len == 5 && memcmp(h[1].snippet, "apple", 5) == 0);
    CHECK_EQ(h[1].version, 1);

    /* prefix: keys apple, apricot? no: "app" -> apple (key), apricot's
       content "apple-like", banana's "apple". Ties by key. */
    search(s, "app", ZM_SEARCH_PREFIX, 10, &h, &n, &total);
    CHECK_EQ(n, 3);
    CHECK(hit_is(&h[0], "apple", 1.0));
    CHECK(hit_is(&h[1], "apricot", 0.5));
    CHECK(hit_is(&h[2], "banana", 0.5));

    /* substring, case-sensitive. */
    search(s, "red", ZM_SEARCH_SUBSTRING, 10, &h, &n, &total);
    CHECK_EQ(n, 1);
    CHECK(hit_is(&h[0], "apple", 0.5));
    CHECK(h[0].snippet_len == 11 && memcmp(h[0].snippet, "a red fruit", 11) == 0);
    search(s, "RED", ZM_SEARCH_SUBSTRING, 10, &h, &n, &total);
    CHECK_EQ(n, 0);
    CHECK(h == NULL);
    search(s, "an", ZM_SEARCH_SUBSTRING, 10, &h, &n, &total);
    CHECK_EQ(n, 1);
    CHECK(hit_is(&h[0], "banana", 1.0));

    /* limit keeps the best, total counts all. */
    search(s, "a", ZM_SEARCH_SUBSTRING, 2, &h, &n, &total);
    CHECK_EQ(n, 2);
    CHECK_EQ(total, 3); /* cherry's only string is a member name */
    CHECK(hit_is(&h[0], "apple", 1.0));
    CHECK(hit_is(&h[1], "apricot", 1.0));
    search(s, "a", ZM_SEARCH_SUBSTRING, 0, &h, &n, &total);
    CHECK_EQ(n, 0);
    CHECK_EQ(total, 3);

    /* Only the latest version is searched. */
    CHECK_EQ(zm_store_put(s, S("apple"), J("\"green now\""), NULL, NULL, 0, 2, NULL), ZM_OK);
    search(s, "red", ZM_SEARCH_SUBSTRING, 10, &h, &n, &total);
    CHECK_EQ(n, 0);

    /* Snippets are cut around the match on character boundaries. */
    char text[400];
    size_t pos = 0;
    text[pos++] = '"';
    for (int i = 0; i < 60; i++) text[pos++] = 'x', text[pos++] = '\xc3', text[pos++] = '\xa9';
    memcpy(text + pos, "NEEDLE", 6), pos += 6;
    for (int i = 0; i < 60; i++) text[pos++] = '\xc3', text[pos++] = '\xa9';
    text[pos++] = '"';
    text[pos] = '\0';
    CHECK_EQ(zm_store_put(s, S("long"), J(text), NULL, NULL, 0, 1, NULL), ZM_OK);
    search(s, "NEEDLE", ZM_SEARCH_SUBSTRING, 10, &h, &n, &total);
    CHECK_EQ(n, 1);
    CHECK(h[0].snippet_len <= ZM_STORE_SNIPPET);
    CHECK(h[0].snippet_len > 6);
    CHECK(((unsigned char)h[0].snippet[0] & 0xC0) != 0x80);
    CHECK(((unsigned char)h[0].snippet[h[0].snippet_len] & 0xC0) != 0x80);
    bool has = false;
    for (size_t i = 0; i + 6 <= h[0].snippet_len; i++)
        has = has || memcmp(h[0].snippet + i, "NEEDLE", 6) == 0;
    CHECK(has);

    CHECK_EQ(
        zm_store_search(s, S("x"), (zm_search_mode)9, 1, zm_arena_allocator(&ar), &h, &n, &total),
        ZM_EINVAL);
    zm_store_destroy(s);
}

static void test_search_bm25(void) {
    zm_store *s;
    CHECK_EQ(zm_store_create(zm_default_allocator(), NULL, &s), ZM_OK);
    /* Equal lengths (4 tokens each, key included), different counts of
       "memory". */
    CHECK_EQ(zm_store_put(s, S("d1"), J("\"memory memory memory\""), NULL, NULL, 0, 1, NULL),
             ZM_OK);
    CHECK_EQ(zm_store_put(s, S("d2"), J("\"memory arena pool\""), NULL, NULL, 0, 1, NULL), ZM_OK);
    CHECK_EQ(
        zm_store_put(s, S("d3"), J("[\"MEMORY\", \"memory\", \"zig\"]"), NULL, NULL, 0, 1, NULL),
        ZM_OK);
    CHECK_EQ(
        zm_store_put(s, S("d4"), J("{\"t\": \"nothing relevant here\"}"), NULL, NULL, 0, 1, NULL),
        ZM_OK);
    zm_search_hit *h;
    size_t n, total;
    search(s, "Memory", ZM_SEARCH_TOKEN, 10, &h, &n, &total);
    CHECK_EQ(n, 3);
    CHECK_EQ(total, 3);
    CHECK(hit_is(&h[0], "d1", -1));
    CHECK(hit_is(&h[1], "d3", -1));
    CHECK(hit_is(&h[2], "d2", -1));
    CHECK(h[0].score > h[1].score && h[1].score > h[2].score && h[2].score > 0);
    /* The exact BM25 value of d2: N=4, df=3, tf=1, dl=4, avgdl=4. */
    double idf = log(1.0 + (4.0 - 3.0 + 0.5) / (3.0 + 0.5));
    double want = idf * 1.0 * 2.2 / (1.0 + 1.2);
    CHECK(fabs(h[2].score - want) < 1e-12);
    CHECK(h[2].snippet != NULL && h[2].snippet_len == 17);

    /* A rarer term weighs more; scores add over terms. */
    search(s, "memory zig", ZM_SEARCH_TOKEN, 10, &h, &n, &total);
    CHECK(hit_is(&h[0], "d3", -1));
    /* Keys are tokens too. */
    search(s, "d4", ZM_SEARCH_TOKEN, 10, &h, &n, &total);
    CHECK_EQ(n, 1);
    CHECK(hit_is(&h[0], "d4", -1));
    CHECK(h[0].snippet == NULL);

    /* Equal scores: ordered by key. */
    CHECK_EQ(zm_store_put(s, S("b"), J("\"tie\""), NULL, NULL, 0, 1, NULL), ZM_OK);
    CHECK_EQ(zm_store_put(s, S("a"), J("\"tie\""), NULL, NULL, 0, 1, NULL), ZM_OK);
    CHECK_EQ(zm_store_put(s, S("c"), J("\"tie\""), NULL, NULL, 0, 1, NULL), ZM_OK);
    search(s, "tie", ZM_SEARCH_TOKEN, 10, &h, &n, &total);
    CHECK_EQ(n, 3);
    CHECK(hit_is(&h[0], "a", -1));
    CHECK(hit_is(&h[1], "b", -1));
    CHECK(hit_is(&h[2], "c", -1));
    CHECK(h[0].score == h[1].score && h[1].score == h[2].score);
    search(s, "tie", ZM_SEARCH_TOKEN, 2, &h, &n, &total);
    CHECK_EQ(n, 2);
    CHECK_EQ(total, 3);
    CHECK(hit_is(&h[1], "b", -1));

    /* A new version replaces the old one's terms. */
    CHECK_EQ(zm_store_put(s, S("d1"), J("\"arena\""), NULL, NULL, 0, 2, NULL), ZM_OK);
    search(s, "memory", ZM_SEARCH_TOKEN, 10, &h, &n, &total);
    CHECK_EQ(n, 2);
    search(s, "arena", ZM_SEARCH_TOKEN, 10, &h, &n, &total);
    CHECK_EQ(n, 2);
    CHECK_EQ(h[0].version + h[1].version, 3);

    /* No tokens, unknown tokens: nothing. Non-ASCII bytes are token bytes. */
    search(s, "!!!", ZM_SEARCH_TOKEN, 10, &h, &n, &total);
    CHECK_EQ(n, 0);
    CHECK_EQ(zm_store_put(s, S("fr"), J("\"caf\xc3\xa9 au lait\""), NULL, NULL, 0, 1, NULL), ZM_OK);
    search(s, "CAF\xc3\xa9", ZM_SEARCH_TOKEN, 10, &h, &n, &total);
    CHECK_EQ(n, 1);
    search(s, "caf", ZM_SEARCH_TOKEN, 10, &h, &n, &total);
    CHECK_EQ(n, 0);
    /* Long tokens are cut at ZM_STORE_MAX_TOKEN bytes, both ways. */
    char lt[200] = "\"";
    memset(lt + 1, 'q', 100);
    strcpy(lt + 101, "\"");
    CHECK_EQ(zm_store_put(s, S("long"), J(lt), NULL, NULL, 0, 1, NULL), ZM_OK);
    char q[80];
    memset(q, 'q', 70);
    q[70] = '\0';
    search(s, q, ZM_SEARCH_TOKEN, 10, &h, &n, &total);
    CHECK_EQ(n, 1);
    zm_store_stats st;
    zm_store_stats_get(s, &st);
    CHECK(st.terms > 10);
    zm_store_destroy(s);
}

/* ---------------------------------------------------------------------------
 * The graph
 * ------------------------------------------------------------------------- */

static void link(zm_store *s, const char *from, const char *to, const char *rel, bool want_new) {
    bool created = !want_new;
    CHECK_EQ(zm_store_link(s, S(from), S(to), S(rel), NULL, S("g"), 7, &created), ZM_OK);
    CHECK(created == want_new);
}

static bool walk_is(zm_store_hit *h, size_t n, const char *want) {
    char got[512] = "";
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += (size_t)snprintf(got + pos, sizeof got - pos, "%s%.*s:%u", i ? " " : "",
                                (int)h[i].node_len, h[i].node, h[i].depth);
    if (strcmp(got, want) != 0) fprintf(stderr, "  walk \"%s\", want \"%s\"\n", got, want);
    return strcmp(got, want) == 0;
}

static void test_graph(void) {
    zm_store *s;
    CHECK_EQ(zm_store_create(zm_default_allocator(), NULL, &s), ZM_OK);
    /* a -> b -> c -> a (a cycle), a -> d, e -> a, c -knows-> f */
    link(s, "a", "b", "next", true);
    link(s, "b", "c", "next", true);
    link(s, "c", "a", "next", true);
    link(s, "a", "d", "next", true);
    link(s, "e", "a", "next", true);
    link(s, "c", "f", "knows", true);
    link(s, "a", "b", "next", false); /* again: updated */
    link(s, "a", "a", "self", true);
    CHECK_EQ(zm_store_link(s, S("a"), S("b"), S("next"), J("{\"w\":2}"), S("h"), 9, NULL), ZM_OK);

    zm_store_hit *h;
    size_t n;
    bool tr;
    zm_allocator aa = zm_arena_allocator(&ar);
    CHECK_EQ(zm_store_neighbors(s, S("a"), NULL, 0, ZM_STORE_OUT, 1, 100, aa, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "b:1 d:1"));
    CHECK(!tr);
    CHECK(h[0].outgoing);
    CHECK_STR(h[0].edge.from, "a");
    CHECK_STR(h[0].edge.to, "b");
    CHECK_STR(h[0].edge.relation, "next");
    CHECK_STR(h[0].edge.agent, "h");
    CHECK_EQ(h[0].edge.timestamp, 9);
    CHECK(is_json(h[0].edge.metadata, "{\"w\":2}"));
    CHECK(h[1].edge.metadata == NULL);

    /* Deeper: the cycle back to a is not revisited. */
    CHECK_EQ(zm_store_neighbors(s, S("a"), NULL, 0, ZM_STORE_OUT, 8, 100, aa, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "b:1 d:1 c:2 f:3"));
    CHECK_STR(h[3].edge.relation, "knows");
    CHECK_EQ(zm_store_neighbors(s, S("a"), S("next"), ZM_STORE_OUT, 8, 100, aa, &h, &n, &tr),
             ZM_OK);
    CHECK(walk_is(h, n, "b:1 d:1 c:2"));
    CHECK_EQ(zm_store_neighbors(s, S("a"), NULL, 0, ZM_STORE_IN, 1, 100, aa, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "c:1 e:1"));
    CHECK(!h[0].outgoing);
    CHECK_STR(h[0].edge.from, "c");
    CHECK_EQ(zm_store_neighbors(s, S("a"), NULL, 0, ZM_STORE_BOTH, 1, 100, aa, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "b:1 d:1 c:1 e:1"));
    CHECK_EQ(zm_store_neighbors(s, S("f"), NULL, 0, ZM_STORE_IN, 2, 100, aa, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "c:1 b:2"));

    /* Limits: truncated when more were reachable. */
    CHECK_EQ(zm_store_neighbors(s, S("a"), NULL, 0, ZM_STORE_BOTH, 8, 2, aa, &h, &n, &tr), ZM_OK);
    CHECK(walk_is(h, n, "b:1 d:1"));
    CHECK(tr);
    CHECK_EQ(zm_store_neighbors(s, S("a"), NULL, 0, ZM_STORE_OUT, 8, 4, aa, &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 4);
    CHECK(!tr);
    /* Unknown node, unknown relation: nothing. */
    CHECK_EQ(zm_store_neighbors(s, S("zz"), NULL, 0, ZM_STORE_OUT, 1, 10, aa, &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(zm_store_neighbors(s, S("a"), S("zz"), ZM_STORE_OUT, 1, 10, aa, &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 0);
    /* Bad arguments. */
    CHECK_EQ(zm_store_neighbors(s, S("a"), NULL, 0, ZM_STORE_OUT, 0, 10, aa, &h, &n, &tr),
             ZM_EINVAL);
    CHECK_EQ(zm_store_neighbors(s, S("a"), NULL, 0, ZM_STORE_OUT, 9, 10, aa, &h, &n, &tr),
             ZM_EINVAL);
    CHECK_EQ(zm_store_neighbors(s, S("a"), NULL, 0, (zm_store_direction)0, 1, 10, aa, &h, &n, &tr),
             ZM_EINVAL);
    CHECK_EQ(zm_store_link(s, "", 0, S("b"), S("r"), NULL, NULL, 0, 1, NULL), ZM_EINVAL);
    CHECK_EQ(zm_store_link(s, S("a"), S("b"), "", 0, NULL, NULL, 0, 1, NULL), ZM_EINVAL);
    zm_store_stats st;
    zm_store_stats_get(s, &st);
    CHECK_EQ(st.nodes, 6);
    CHECK_EQ(st.edges, 7);

    /* Many walks: the visit stamps keep working. */
    for (int i = 0; i < 1000; i++) {
        CHECK_EQ(zm_store_neighbors(s, S("b"), NULL, 0, ZM_STORE_OUT, 8, 100, aa, &h, &n, &tr),
                 ZM_OK);
    }
    CHECK(walk_is(h, n, "c:1 a:2 f:2 d:3"));
    zm_store_destroy(s);
}

/* ---------------------------------------------------------------------------
 * Reads make no call to the store's allocator.
 * ------------------------------------------------------------------------- */

static void test_reads_do_not_allocate(void) {
    zt_counting c;
    zm_allocator a = zt_counting_init(&c, zm_default_allocator());
    zm_store *s;
    CHECK_EQ(zm_store_create(a, NULL, &s), ZM_OK);
    for (int i = 0; i < 50; i++) {
        char key[32];
        snprintf(key, sizeof key, "key-%d", i);
        CHECK_EQ(zm_store_put(s, key, strlen(key), J("{\"text\":\"some words to index\"}"), NULL,
                              S("a"), i, NULL),
                 ZM_OK);
        CHECK_EQ(zm_store_link(s, key, strlen(key), S("hub"), S("in"), NULL, NULL, 0, i, NULL),
                 ZM_OK);
    }
    zm_arena reads;
    zm_arena_init(&reads, zm_default_allocator());
    size_t before = zt_counting_calls(&c);
    for (int i = 0; i < 1000; i++) {
        zm_store_version v;
        CHECK_EQ(zm_store_get(s, S("key-7"), -1, &v), ZM_OK);
        CHECK_EQ(zm_store_get(s, S("key-7"), 3, &v), ZM_ENOTFOUND);
        const zm_store_version *h;
        size_t n, total;
        CHECK_EQ(zm_store_history(s, S("key-7"), &h, &n), ZM_OK);
        zm_search_hit *hits;
        CHECK_EQ(zm_store_search(s, S("words"), ZM_SEARCH_TOKEN, 10, zm_arena_allocator(&reads),
                                 &hits, &n, &total),
                 ZM_OK);
        CHECK_EQ(zm_store_search(s, S("key-4"), ZM_SEARCH_PREFIX, 10, zm_arena_allocator(&reads),
                                 &hits, &n, &total),
                 ZM_OK);
        zm_store_hit *nh;
        bool tr;
        CHECK_EQ(zm_store_neighbors(s, S("hub"), NULL, 0, ZM_STORE_BOTH, 2, 100,
                                    zm_arena_allocator(&reads), &nh, &n, &tr),
                 ZM_OK);
        CHECK_EQ(n, 50);
        zm_arena_reset(&reads, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    CHECK_EQ(zt_counting_calls(&c), before);
    zm_arena_deinit(&reads);
    zm_store_destroy(s);
}

/* ---------------------------------------------------------------------------
 * Random writes checked against a model: as_of reads, and token search with
 * the BM25 scores recomputed from scratch.
 * ------------------------------------------------------------------------- */

#define M_KEYS  12
#define M_WORDS 8
#define M_VERS  400

typedef struct mkey {
    int nversions;
    int64_t ts[M_VERS];
    int tf[M_VERS][M_WORDS]; /* word counts of each version */
    int ntok[M_VERS];        /* words of each version */
} mkey;

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void test_model(void) {
    static mkey m[M_KEYS];
    memset(m, 0, sizeof m);
    zm_store *s;
    CHECK_EQ(zm_store_create(zm_default_allocator(), NULL, &s), ZM_OK);
    int64_t clock = 0;
    int ops = zt_small() ? 300 : 3000;
    for (int op = 0; op < ops; op++) {
        int k = (int)rnd(M_KEYS);
        char key[16];
        snprintf(key, sizeof key, "key%d", k);
        mkey *mk = &m[k];
        if (mk->nversions < M_VERS && rnd(3) != 0) {
            /* A value: an array of strings of random words, in MiXeD case. */
            char text[512] = "[";
            int counts[M_WORDS] = {0}, n = 0;
            int strings = 1 + (int)rnd(3);
            for (int i = 0; i < strings; i++) {
                strcat(text, i ? ",\"" : "\"");
                int words = (int)rnd(5);
                for (int w = 0; w < words; w++) {
                    int word = (int)rnd(M_WORDS);
                    char buf[16];
                    snprintf(buf, sizeof buf, "%s%c%d", w ? (rnd(2) ? " " : ", ") : "",
                             rnd(2) ? 'W' : 'w', word);
                    strcat(text, buf);
                    counts[word]++, n++;
                }
                strcat(text, "\"");
            }
            strcat(text, "]");
            clock += rnd(3); /* equal timestamps happen too */
            zm_store_version v;
            CHECK_EQ(zm_store_put(s, key, strlen(key), J(text), NULL, NULL, 0, clock, &v), ZM_OK);
            int i = mk->nversions++;
            CHECK_EQ(v.version, i + 1);
            mk->ts[i] = clock;
            memcpy(mk->tf[i], counts, sizeof counts);
            mk->ntok[i] = n;
        }
        /* An as_of read of a random key at a random time. */
        int rk = (int)rnd(M_KEYS);
        snprintf(key, sizeof key, "key%d", rk);
        int64_t t = (int64_t)rnd((uint32_t)clock + 2) - 1;
        int want = 0; /* the version current at t, 0 = none */
        for (int i = 0; i < m[rk].nversions; i++)
            if (t < 0 || m[rk].ts[i] <= t) want = i + 1;
        zm_store_version v;
        zm_status st = zm_store_get(s, key, strlen(key), t, &v);
        CHECK_EQ(st, want ? ZM_OK : ZM_ENOTFOUND);
        if (st == ZM_OK) CHECK_EQ(v.version, want);

        /* A token search for a random word, against BM25 from the model. */
        int word = (int)rnd(M_WORDS);
        char q[16];
        snprintf(q, sizeof q, "W%d", word);
        double N = 0, total = 0;
        int df = 0;
        for (int i = 0; i < M_KEYS; i++) {
            if (m[i].nversions == 0) continue;
            int last = m[i].nversions - 1;
            N++;
            total += 1 + m[i].ntok[last]; /* the key is one token */
            df += m[i].tf[last][word] > 0;
        }
        zm_search_hit *h;
        size_t n, tot;
        CHECK_EQ(zm_store_search(s, q, strlen(q), ZM_SEARCH_TOKEN, 100, zm_arena_allocator(&ar), &h,
                                 &n, &tot),
                 ZM_OK);
        CHECK_EQ(tot, df);
        CHECK_EQ(n, df);
        double idf = log(1.0 + (N - df + 0.5) / (df + 0.5));
        for (size_t i = 0; i < n; i++) {
            int hk = atoi(h[i].key + 3);
            int last = m[hk].nversions - 1;
            double tf = m[hk].tf[last][word], dl = 1 + m[hk].ntok[last];
            double want_score = idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * dl / (total / N)));
            CHECK(fabs(h[i].score - want_score) < 1e-9);
            CHECK_EQ(h[i].version, m[hk].nversions);
            if (i > 0)
                CHECK(h[i - 1].score > h[i].score ||
                      (h[i - 1].score == h[i].score && strcmp(h[i - 1].key, h[i].key) < 0));
        }
        if (op % 64 == 0) zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    zm_store_destroy(s);
}

/* Random graphs against a plain breadth-first search over an adjacency
   matrix: the same nodes at the same (shortest) depths, each reached by an
   edge from a node one level up. */
#define G_NODES 14
#define G_RELS  3

static void test_graph_model(void) {
    static bool adj[G_RELS][G_NODES][G_NODES];
    memset(adj, 0, sizeof adj);
    zm_store *s;
    CHECK_EQ(zm_store_create(zm_default_allocator(), NULL, &s), ZM_OK);
    int rounds = zt_small() ? 40 : 400;
    for (int r = 0; r < rounds; r++) {
        int f = (int)rnd(G_NODES), t = (int)rnd(G_NODES), rel = (int)rnd(G_RELS);
        char fn[16], tn[16], rn[16];
        snprintf(fn, sizeof fn, "n%d", f);
        snprintf(tn, sizeof tn, "n%d", t);
        snprintf(rn, sizeof rn, "r%d", rel);
        bool created;
        CHECK_EQ(zm_store_link(s, fn, strlen(fn), tn, strlen(tn), rn, strlen(rn), NULL, NULL, 0, r,
                               &created),
                 ZM_OK);
        CHECK(created == !adj[rel][f][t]);
        adj[rel][f][t] = true;

        /* A walk from a random node. */
        int start = (int)rnd(G_NODES), dir = 1 + (int)rnd(3), depth = 1 + (int)rnd(8);
        int want_rel = (int)rnd(G_RELS + 1) - 1; /* -1: any */
        int dist[G_NODES];
        for (int i = 0; i < G_NODES; i++) dist[i] = -1;
        dist[start] = 0;
        int queue[G_NODES], head = 0, tail = 0, reached = 0;
        queue[tail++] = start;
        while (head < tail) {
            int u = queue[head++];
            if (dist[u] >= depth) continue;
            for (int v = 0; v < G_NODES; v++) {
                bool e = false;
                for (int rr = 0; rr < G_RELS; rr++) {
                    if (want_rel >= 0 && rr != want_rel) continue;
                    e = e || ((dir & 1) && adj[rr][u][v]) || ((dir & 2) && adj[rr][v][u]);
                }
                if (e && dist[v] < 0) dist[v] = dist[u] + 1, queue[tail++] = v, reached++;
            }
        }
        char sn[16], wr[16];
        snprintf(sn, sizeof sn, "n%d", start);
        snprintf(wr, sizeof wr, "r%d", want_rel);
        zm_store_hit *h;
        size_t n;
        bool tr;
        zm_status st = zm_store_neighbors(
            s, sn, strlen(sn), want_rel >= 0 ? wr : NULL, want_rel >= 0 ? strlen(wr) : 0,
            (zm_store_direction)dir, (uint32_t)depth, 100, zm_arena_allocator(&ar), &h, &n, &tr);
        CHECK_EQ(st, ZM_OK);
        CHECK_EQ(n, reached);
        CHECK(!tr);
        for (size_t i = 0; i < n; i++) {
            int v = atoi(h[i].node + 1);
            CHECK_EQ(h[i].depth, dist[v]);
            /* The edge joins v to a node one level up. */
            const char *other = h[i].outgoing ? h[i].edge.from : h[i].edge.to;
            const char *self = h[i].outgoing ? h[i].edge.to : h[i].edge.from;
            CHECK_EQ(atoi(self + 1), v);
            CHECK_EQ(dist[atoi(other + 1)], dist[v] - 1);
            if (want_rel >= 0) CHECK_STR(h[i].edge.relation, wr);
            if (i > 0) CHECK(h[i - 1].depth <= h[i].depth);
        }
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    zm_store_destroy(s);
}

/* ---------------------------------------------------------------------------
 * Failed writes change nothing and leak nothing: the sweep.
 * ------------------------------------------------------------------------- */

static bool sweep_wrong;

/* What a reader can see of a store, as text. */
static void fingerprint(zm_store *s, char *buf, size_t size) {
    zm_arena tmp;
    zm_arena_init(&tmp, zm_default_allocator());
    zm_store_stats st;
    zm_store_stats_get(s, &st);
    size_t pos = (size_t)snprintf(buf, size, "%zu %zu %zu %zu %zu |", st.keys, st.versions,
                                  st.terms, st.nodes, st.edges);
    for (size_t i = 0; i < zm_store_count(s); i++) {
        size_t kl;
        const char *k = zm_store_key_at(s, i, &kl);
        zm_store_version v;
        zm_store_get(s, k, kl, -1, &v);
        char *text;
        size_t tl;
        if (zm_json_write(zm_arena_allocator(&tmp), v.value, 0, &text, &tl) != ZM_OK) text = "?";
        pos += (size_t)snprintf(buf + pos, size - pos, " %s@%llu=%s", k,
                                (unsigned long long)v.version, text);
    }
    static const char *queries[] = {"alpha", "beta", "gamma", "k1"};
    for (size_t q = 0; q < 4; q++) {
        zm_search_hit *h;
        size_t n, total;
        zm_store_search(s, queries[q], strlen(queries[q]), ZM_SEARCH_TOKEN, 10,
                        zm_arena_allocator(&tmp), &h, &n, &total);
        pos += (size_t)snprintf(buf + pos, size - pos, " %s:", queries[q]);
        for (size_t i = 0; i < n; i++)
            pos += (size_t)snprintf(buf + pos, size - pos, "%.*s/%.6f,", (int)h[i].key_len,
                                    h[i].key, h[i].score);
    }
    zm_store_hit *nh;
    size_t n;
    bool tr;
    zm_store_neighbors(s, S("n1"), NULL, 0, ZM_STORE_BOTH, 8, 100, zm_arena_allocator(&tmp), &nh,
                       &n, &tr);
    pos += (size_t)snprintf(buf + pos, size - pos, " walk:");
    for (size_t i = 0; i < n; i++)
        pos += (size_t)snprintf(buf + pos, size - pos, "%.*s-%.*s,", (int)nh[i].node_len,
                                nh[i].node, (int)nh[i].edge.relation_len, nh[i].edge.relation);
    zm_arena_deinit(&tmp);
}

/* Runs one write; when it fails, the store must look exactly as before. */
#define WRITE(call)                                                                                \
    do {                                                                                           \
        char before[2048], after[2048];                                                            \
        fingerprint(s, before, sizeof before);                                                     \
        zm_status st_ = (call);                                                                    \
        if (st_ != ZM_OK) {                                                                        \
            fingerprint(s, after, sizeof after);                                                   \
            if (strcmp(before, after) != 0) {                                                      \
                fprintf(stderr, "changed by a failed write at line %d:\n  %s\n  %s\n", __LINE__,   \
                        before, after);                                                            \
                sweep_wrong = true;                                                                \
            }                                                                                      \
            if (st_ != ZM_ENOMEM) sweep_wrong = true;                                              \
            zm_store_destroy(s);                                                                   \
            return st_;                                                                            \
        }                                                                                          \
    } while (0)

static zm_json *sweep_values[4];

static zm_status store_session(zm_allocator a, void *arg) {
    (void)arg;
    zm_store *s;
    zm_status st = zm_store_create(a, NULL, &s);
    if (st != ZM_OK) return st;
    WRITE(zm_store_put(s, S("k1"), sweep_values[0], NULL, S("agent"), 1, NULL));
    WRITE(zm_store_put(s, S("k1"), sweep_values[1], sweep_values[0], S("agent"), 2, NULL));
    WRITE(zm_store_put(s, S("k2"), sweep_values[2], NULL, S("other agent"), 3, NULL));
    WRITE(zm_store_put(s, S("k3 beta"), sweep_values[3], NULL, NULL, 0, 4, NULL));
    WRITE(zm_store_put(s, S("k1"), sweep_values[3], NULL, S("third"), 5, NULL));
    WRITE(zm_store_link(s, S("n1"), S("n2"), S("r"), NULL, S("agent"), 6, NULL));
    WRITE(zm_store_link(s, S("n2"), S("n2"), S("self"), sweep_values[0], S("x"), 7, NULL));
    WRITE(zm_store_link(s, S("n1"), S("n3"), S("r"), NULL, NULL, 0, 8, NULL));
    WRITE(zm_store_link(s, S("n1"), S("n2"), S("r"), sweep_values[1], NULL, 0, 9, NULL));
    zm_store_version v;
    if (zm_store_get(s, S("k1"), -1, &v) != ZM_OK || v.version != 3) sweep_wrong = true;
    zm_store_destroy(s);
    return ZM_OK;
}

static void test_sweep(void) {
    sweep_values[0] = J("{\"text\":\"alpha beta\",\"n\":[1,2,{\"deep\":\"gamma\"}]}");
    sweep_values[1] = J("[\"alpha alpha\", \"delta\", 3.5, null, true]");
    sweep_values[2] = J("\"beta gamma epsilon\"");
    sweep_values[3] = J("{\"a\":{\"b\":{\"c\":\"zeta eta theta iota kappa lambda\"}}}");
    sweep_wrong = false;
    CHECK(ZM_CHECK_SWEEP(store_session, NULL));
    CHECK(!sweep_wrong);
}

int main(void) {
    zm_arena_init(&ar, zm_default_allocator());
    RUN(test_put_get_history);
    RUN(test_copies);
    RUN(test_limits);
    RUN(test_search_bytes);
    RUN(test_search_bm25);
    RUN(test_graph);
    RUN(test_reads_do_not_allocate);
    RUN(test_model);
    RUN(test_graph_model);
    RUN(test_sweep);
    zm_arena_deinit(&ar);
    return zt_finish("store");
}
