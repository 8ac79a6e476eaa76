/* The store's conformance suite, versions part: versions, copies, reads that stay valid, limits,
   sessions; forget, head, the memory figure, scores after forget, and purge (conformance.h: the
   backends and the run). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, nanosleep, opendir */
#include "conformance.h"

/* ---------------------------------------------------------------------------
 * Versions
 * ------------------------------------------------------------------------- */

static void test_put_get_history(void) {
    zm_store *s = open_store(NULL);
    zm_store_version v;
    CHECK_EQ(get(s, "k", -1, &v), ZM_ENOTFOUND);

    CHECK_EQ(put(s, "k", J("{\"n\":1}"), J("{\"tag\":\"a\"}"), "agent-1", 100, &v), ZM_OK);
    CHECK_EQ(v.version, 1);
    CHECK_EQ(v.timestamp, 100);
    CHECK_STR(v.agent, "agent-1");
    CHECK_EQ(v.agent_len, 7);
    CHECK(!v.deleted);
    CHECK_EQ(put(s, "k", J("{\"n\":2}"), NULL, "agent-2", 200, &v), ZM_OK);
    CHECK_EQ(v.version, 2);
    CHECK(v.metadata == NULL);
    CHECK_EQ(put(s, "k", J("[3]"), NULL, NULL, 300, &v), ZM_OK);
    CHECK_EQ(v.version, 3);
    CHECK_STR(v.agent, "");
    CHECK_EQ(v.agent_len, 0);
    CHECK_EQ(put(s, "other", J("true"), NULL, "agent-1", 150, NULL), ZM_OK);

    /* Latest, and as_of. */
    CHECK_EQ(get(s, "k", -1, &v), ZM_OK);
    CHECK_EQ(v.version, 3);
    CHECK(is_json(v.value, "[3]"));
    CHECK_EQ(get(s, "k", 99, &v), ZM_ENOTFOUND);
    CHECK_EQ(get(s, "k", 100, &v), ZM_OK);
    CHECK_EQ(v.version, 1);
    CHECK(is_json(v.value, "{\"n\":1}"));
    CHECK(is_json(v.metadata, "{\"tag\":\"a\"}"));
    CHECK_STR(v.agent, "agent-1");
    CHECK_STR(v.session, "");
    CHECK_EQ(get(s, "k", 250, &v), ZM_OK);
    CHECK_EQ(v.version, 2);
    CHECK_EQ(get(s, "k", 300, &v), ZM_OK);
    CHECK_EQ(v.version, 3);
    CHECK_EQ(get(s, "k", INT64_MAX, &v), ZM_OK);
    CHECK_EQ(v.version, 3);

    /* History, oldest first; as_of cuts it. */
    zm_store_version *h;
    size_t n;
    CHECK_EQ(history(s, "k", -1, &h, &n), ZM_OK);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK_EQ(h[0].version, 1);
        CHECK_EQ(h[1].version, 2);
        CHECK_EQ(h[2].version, 3);
        CHECK_EQ(h[2].timestamp, 300);
        CHECK_STR(h[0].agent, "agent-1");
        CHECK_STR(h[1].agent, "agent-2");
        CHECK(is_json(h[0].metadata, "{\"tag\":\"a\"}"));
        CHECK(h[1].metadata == NULL);
        CHECK(is_json(h[1].value, "{\"n\":2}"));
    }
    CHECK_EQ(history(s, "k", 250, &h, &n), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(history(s, "k", 99, &h, &n), ZM_ENOTFOUND);
    CHECK_EQ(history(s, "nope", -1, &h, &n), ZM_ENOTFOUND);

    /* A clock going backwards never makes versions go backwards. */
    CHECK_EQ(put(s, "k", J("4"), NULL, NULL, 50, &v), ZM_OK);
    CHECK_EQ(v.timestamp, 300);
    CHECK_EQ(v.version, 4);
    CHECK_EQ(get(s, "k", 300, &v), ZM_OK);
    CHECK_EQ(v.version, 4);

    zm_store_stats st = stats(s);
    CHECK_EQ(st.keys, 2);
    CHECK_EQ(st.versions, 5);
    CHECK(st.data_bytes > 0);
    zm_store_limits lim;
    zm_store_get_limits(s, &lim);
    CHECK_EQ(lim.max_key_len, ZM_STORE_DEFAULT_MAX_KEY_LEN);
    CHECK_EQ(lim.max_value_bytes, ZM_STORE_DEFAULT_MAX_VALUE_BYTES);
    CHECK_EQ(lim.max_depth, ZM_STORE_DEFAULT_MAX_DEPTH);
    CHECK_EQ(lim.max_versions, 0);
    zm_store_close(s);
    zm_store_close(NULL);
}

/* The store keeps copies: the input may die right after the write. */
static void test_copies(void) {
    zm_store *s = open_store(NULL);
    zm_arena tmp;
    zm_arena_init(&tmp, zm_default_allocator());
    zm_json *v = NULL;
    const char *text = "{\"list\":[1,\"two\",{\"three\":3.5}],\"big\":123456789012345678901234,"
                       "\"neg\":-7,\"f\":false,\"z\":null,\"e\":{},\"a\":[]}";
    CHECK_EQ(zm_json_parse_arena(&tmp, text, strlen(text), NULL, &v, NULL), ZM_OK);
    char key[] = "cl\xc3\xa9";
    char agent[] = "an agent";
    zm_store_write w = W(key, v, v, agent, 1);
    CHECK_EQ(zm_store_put(s, &w, NULL), ZM_OK);
    zm_arena_deinit(&tmp); /* the input dies; the store's copy lives */
    memset(key, 'x', 3);
    memset(agent, 'y', 3);
    zm_store_version got;
    CHECK_EQ(get(s, "cl\xc3\xa9", -1, &got), ZM_OK);
    CHECK(is_json(got.value, text));
    CHECK(is_json(got.metadata, text));
    CHECK_STR(got.agent, "an agent");
    CHECK_EQ(get(s, "xxx\xa9", -1, &got), ZM_ENOTFOUND);
    zm_store_close(s);
}

/* Reads stay valid until their arena is reset, whatever is written after. */
static void test_reads_stay_valid(void) {
    zm_store *s = open_store(NULL);
    CHECK_EQ(put(s, "k", J("{\"first\":[1,2,3]}"), J("\"m\""), "a", 1, NULL), ZM_OK);
    zm_store_version v;
    zm_store_version *h;
    size_t n;
    CHECK_EQ(get(s, "k", -1, &v), ZM_OK);
    CHECK_EQ(history(s, "k", -1, &h, &n), ZM_OK);
    for (int i = 0; i < 300; i++) {
        char key[32];
        snprintf(key, sizeof key, "other-%d", i);
        CHECK_EQ(put(s, "k", J("\"later\""), NULL, "b", 2 + i, NULL), ZM_OK);
        CHECK_EQ(put(s, key, J("[\"filler\", \"words\"]"), NULL, key, 2 + i, NULL), ZM_OK);
    }
    CHECK(is_json(v.value, "{\"first\":[1,2,3]}"));
    CHECK(is_json(v.metadata, "\"m\""));
    CHECK_STR(v.agent, "a");
    CHECK_EQ(n, 1);
    CHECK(is_json(h[0].value, "{\"first\":[1,2,3]}"));
    CHECK_EQ(h[0].version, 1);
    CHECK_STR(h[0].agent, "a");
    zm_store_close(s);
}

static void test_limits(void) {
    zm_store_limits lim = {16, 256, 4, 0};
    zm_store *s = open_store(&lim);
    zm_store_limits got;
    zm_store_get_limits(s, &got);
    CHECK_EQ(got.max_key_len, 16);
    CHECK_EQ(got.max_value_bytes, 256);
    CHECK_EQ(got.max_depth, 4);
    zm_json *one = J("1");
    CHECK_EQ(put(s, "", one, NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK_EQ(put(s, "0123456789abcdef", one, NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "0123456789abcdefg", one, NULL, NULL, 1, NULL), ZM_ELIMIT);
    CHECK_EQ(put(s, "bad\xff", one, NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK_EQ(put(s, "k", NULL, NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK_EQ(zm_store_put(s, NULL, NULL), ZM_EINVAL);
    CHECK_EQ(put(s, "k", one, NULL, "an agent id too long", 1, NULL), ZM_ELIMIT);
    CHECK_EQ(put(s, "k", one, NULL, "bad\xc3", 1, NULL), ZM_EINVAL);
    /* Size and depth: the value and its metadata share one budget. */
    char big[400];
    memset(big, 'x', sizeof big);
    big[0] = '"';
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = '\0';
    CHECK_EQ(put(s, "k", J(big), NULL, NULL, 1, NULL), ZM_ELIMIT);
    CHECK_EQ(put(s, "k", one, J(big), NULL, 1, NULL), ZM_ELIMIT);
    char half[140];
    memset(half, 'x', sizeof half);
    half[0] = '"';
    half[sizeof half - 2] = '"';
    half[sizeof half - 1] = '\0';
    CHECK_EQ(put(s, "k", J(half), J(half), NULL, 1, NULL), ZM_ELIMIT);
    CHECK_EQ(put(s, "k", J(half), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "k", J("[[[[[1]]]]]"), NULL, NULL, 1, NULL), ZM_ELIMIT);
    CHECK_EQ(put(s, "k", one, J("[[[[[1]]]]]"), NULL, 1, NULL), ZM_ELIMIT);
    CHECK_EQ(put(s, "k", J("[[[1]]]"), NULL, NULL, 1, NULL), ZM_OK);
    /* Non-finite numbers and invalid UTF-8 inside values are refused. */
    zm_allocator aa = A();
    CHECK_EQ(put(s, "k", zm_json_new_real(aa, NAN), NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK_EQ(put(s, "k", zm_json_new_real(aa, INFINITY), NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK_EQ(put(s, "k", one, zm_json_new_real(aa, -INFINITY), NULL, 1, NULL), ZM_EINVAL);
    CHECK_EQ(put(s, "k", zm_json_new_string(aa, "\xc3", 1), NULL, NULL, 1, NULL), ZM_EINVAL);
    zm_json *obj = zm_json_new_object(aa, 1);
    CHECK(zm_json_object_set(aa, obj, "\xed\xa0\x80", 3, zm_json_new_int(aa, 1)) == ZM_OK);
    CHECK_EQ(put(s, "k", obj, NULL, NULL, 1, NULL), ZM_EINVAL);
    /* The link side: names and metadata. */
    CHECK_EQ(lnk(s, "", "b", "r", NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK_EQ(lnk(s, "a", "", "r", NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK_EQ(lnk(s, "a", "b", "", NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK_EQ(lnk(s, "a", "b\xff", "r", NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK_EQ(lnk(s, "a", "b", "a relation too long", NULL, NULL, 1, NULL), ZM_ELIMIT);
    CHECK_EQ(lnk(s, "a", "b", "r", J(big), NULL, 1, NULL), ZM_ELIMIT);
    CHECK_EQ(lnk(s, "a", "b", "r", J("[[[[[1]]]]]"), NULL, 1, NULL), ZM_ELIMIT);
    CHECK_EQ(lnk(s, "a", "b", "r", NULL, "an agent id too long", 1, NULL), ZM_ELIMIT);
    /* Nothing refused was stored. */
    zm_store_stats st = stats(s);
    CHECK_EQ(st.keys, 2);
    CHECK_EQ(st.versions, 3);
    CHECK_EQ(st.edges, 0);
    zm_store_close(s);
}

/* With max_versions, the newest N stay; numbers keep counting. */
static void test_max_versions(void) {
    zm_store_limits lim = {0, 0, 0, 3};
    zm_store *s = open_store(&lim);
    zm_store_limits got;
    zm_store_get_limits(s, &got);
    CHECK_EQ(got.max_versions, 3);
    CHECK_EQ(got.max_key_len, ZM_STORE_DEFAULT_MAX_KEY_LEN);
    zm_store_version v;
    for (int i = 1; i <= 5; i++) {
        CHECK_EQ(put(s, "k", zm_json_new_int(A(), i), NULL, NULL, 10 * i, &v), ZM_OK);
        CHECK_EQ(v.version, i);
    }
    CHECK_EQ(put(s, "other", J("1"), NULL, NULL, 5, NULL), ZM_OK);
    CHECK_EQ(get(s, "k", -1, &v), ZM_OK);
    CHECK_EQ(v.version, 5);
    CHECK(is_json(v.value, "5"));
    zm_store_version *h;
    size_t n;
    CHECK_EQ(history(s, "k", -1, &h, &n), ZM_OK);
    CHECK_EQ(n, 3);
    for (size_t i = 0; i < n && n == 3; i++) {
        CHECK_EQ(h[i].version, 3 + i);
        CHECK_EQ(zm_json_int(h[i].value), 3 + (int64_t)i);
    }
    /* The dropped versions are gone for as_of reads too. */
    CHECK_EQ(get(s, "k", 15, &v), ZM_ENOTFOUND);
    CHECK_EQ(get(s, "k", 25, &v), ZM_ENOTFOUND);
    CHECK_EQ(history(s, "k", 25, &h, &n), ZM_ENOTFOUND);
    CHECK_EQ(get(s, "k", 30, &v), ZM_OK);
    CHECK_EQ(v.version, 3);
    CHECK_EQ(stats(s).versions, 4);
    /* A deletion is a version like the others. */
    bool existed = false;
    CHECK_EQ(forget(s, "k", false, 60, &v, &existed), ZM_OK);
    CHECK(existed);
    CHECK_EQ(v.version, 6);
    CHECK_EQ(history(s, "k", -1, &h, &n), ZM_OK);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK_EQ(h[0].version, 4);
        CHECK(h[2].deleted);
    }
    CHECK_EQ(put(s, "k", J("7"), NULL, NULL, 70, &v), ZM_OK);
    CHECK_EQ(v.version, 7);
    CHECK_EQ(history(s, "other", -1, &h, &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(stats(s).versions, 4);
    zm_store_close(s);
}

/* Sessions are recorded with every version, deletions included. */
static void test_sessions(void) {
    zm_store *s = open_store(NULL);
    zm_store_write w = W("k", J("1"), NULL, "agent", 1);
    w.session = "session-1";
    w.session_len = 9;
    zm_store_version v;
    CHECK_EQ(zm_store_put(s, &w, &v), ZM_OK);
    CHECK_STR(v.session, "session-1");
    CHECK_EQ(v.session_len, 9);
    w.session = "session-2 \xc3\xa9";
    w.session_len = strlen(w.session);
    w.ts_ms = 2;
    CHECK_EQ(zm_store_put(s, &w, NULL), ZM_OK);
    w.session = NULL;
    w.session_len = 0;
    w.ts_ms = 3;
    CHECK_EQ(zm_store_put(s, &w, NULL), ZM_OK);
    w.session = "session-1";
    w.session_len = 9;
    w.ts_ms = 4;
    CHECK_EQ(zm_store_forget(s, &w, false, &v, NULL), ZM_OK);
    CHECK_STR(v.session, "session-1");
    /* A session id is a name: checked the same way. */
    w.session = "bad\xff";
    w.session_len = 4;
    CHECK_EQ(zm_store_put(s, &w, NULL), ZM_EINVAL);
    CHECK(errmsg_has("session"));

    zm_store_version *h;
    size_t n;
    CHECK_EQ(history(s, "k", -1, &h, &n), ZM_OK);
    CHECK_EQ(n, 4);
    if (n == 4) {
        CHECK_STR(h[0].session, "session-1");
        CHECK_STR(h[1].session, "session-2 \xc3\xa9");
        CHECK_STR(h[2].session, "");
        CHECK_EQ(h[2].session_len, 0);
        CHECK_STR(h[3].session, "session-1");
        CHECK(h[3].deleted);
        CHECK_STR(h[3].agent, "agent");
    }
    CHECK_EQ(get(s, "k", 2, &v), ZM_OK);
    CHECK_STR(v.session, "session-2 \xc3\xa9");
    zm_store_close(s);
}

/* ---------------------------------------------------------------------------
 * Forget and purge
 * ------------------------------------------------------------------------- */

static void test_forget(void) {
    zm_store *s = open_store(NULL);
    zm_store_version v;
    bool existed = true;
    /* Forgetting a key that never was: nothing. */
    CHECK_EQ(forget(s, "ghost", false, 1, &v, &existed), ZM_OK);
    CHECK(!existed);
    CHECK_EQ(get(s, "ghost", -1, &v), ZM_ENOTFOUND);
    CHECK_EQ(stats(s).versions, 0);

    CHECK_EQ(put(s, "k", J("\"needle one\""), J("{\"m\":1}"), "a", 10, NULL), ZM_OK);
    CHECK_EQ(put(s, "k", J("\"needle two\""), NULL, "a", 20, NULL), ZM_OK);
    CHECK_EQ(put(s, "keep", J("\"needle three\""), NULL, "a", 20, NULL), ZM_OK);
    zm_store_write w = W("k", NULL, NULL, "forgetter", 30);
    existed = false;
    CHECK_EQ(zm_store_forget(s, &w, false, &v, &existed), ZM_OK);
    CHECK(existed);
    CHECK_EQ(v.version, 3);
    CHECK(v.deleted);
    CHECK_EQ(v.timestamp, 30);
    CHECK_STR(v.agent, "forgetter");
    CHECK(v.value != NULL && zm_json_typeof(v.value) == ZM_JSON_NULL);

    /* The latest read says not found, with the deletion described. */
    memset(&v, 0, sizeof v);
    CHECK_EQ(get(s, "k", -1, &v), ZM_ENOTFOUND);
    CHECK(v.deleted);
    CHECK_EQ(v.version, 3);
    CHECK(v.value != NULL);
    CHECK_EQ(get(s, "k", 30, &v), ZM_ENOTFOUND);
    CHECK(v.deleted);
    /* Before the deletion, the old value is still there. */
    CHECK_EQ(get(s, "k", 29, &v), ZM_OK);
    CHECK(!v.deleted);
    CHECK_EQ(v.version, 2);
    CHECK(is_json(v.value, "\"needle two\""));
    CHECK_EQ(get(s, "k", 10, &v), ZM_OK);
    CHECK(is_json(v.metadata, "{\"m\":1}"));
    zm_store_version *h;
    size_t n;
    CHECK_EQ(history(s, "k", -1, &h, &n), ZM_OK);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK(!h[0].deleted && !h[1].deleted && h[2].deleted);
        CHECK_EQ(h[2].version, 3);
        CHECK(zm_json_typeof(h[2].value) == ZM_JSON_NULL);
        CHECK(h[2].metadata == NULL);
    }
    CHECK_EQ(history(s, "k", 25, &h, &n), ZM_OK);
    CHECK_EQ(n, 2);

    /* Search: gone in every mode, by key and by content. */
    zm_search_hit *hits;
    size_t total;
    CHECK_EQ(search(s, "needle", ZM_SEARCH_TOKEN, 10, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(total, 1);
    if (n == 1) CHECK(hit_is(&hits[0], "keep", -1));
    CHECK_EQ(search(s, "k", ZM_SEARCH_EXACT, 10, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(search(s, "k", ZM_SEARCH_TOKEN, 10, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(search(s, "k", ZM_SEARCH_PREFIX, 10, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(search(s, "two", ZM_SEARCH_SUBSTRING, 10, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);

    /* Forgetting it again changes nothing. */
    existed = true;
    CHECK_EQ(forget(s, "k", false, 40, NULL, &existed), ZM_OK);
    CHECK(!existed);
    CHECK_EQ(history(s, "k", -1, &h, &n), ZM_OK);
    CHECK_EQ(n, 3);
    zm_store_stats st = stats(s);
    CHECK_EQ(st.versions, 4);

    /* A write after the deletion goes on counting, and is found again. */
    CHECK_EQ(put(s, "k", J("\"needle back\""), NULL, "a", 50, &v), ZM_OK);
    CHECK_EQ(v.version, 4);
    CHECK_EQ(get(s, "k", -1, &v), ZM_OK);
    CHECK(is_json(v.value, "\"needle back\""));
    CHECK_EQ(search(s, "needle", ZM_SEARCH_TOKEN, 10, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(search(s, "k", ZM_SEARCH_EXACT, 10, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(get(s, "k", 35, &v), ZM_ENOTFOUND);
    CHECK(v.deleted);
    /* The forget's argument checks. */
    CHECK_EQ(forget(s, "", false, 1, NULL, NULL), ZM_EINVAL);
    CHECK_EQ(forget(s, "bad\xff", true, 1, NULL, NULL), ZM_EINVAL);
    CHECK_EQ(zm_store_forget(s, NULL, false, NULL, NULL), ZM_EINVAL);
    zm_store_close(s);
}

/* Token scores only count the keys that exist: a forgotten or purged key
   weighs nothing (every score stays positive, the order follows tf). */
/* zm_store_head: the latest version's number, not found for a missing or
   forgotten key, and the same answer without the backend's method (through
   get). */
static void test_head(void) {
    zm_store *s = open_store(NULL);
    uint64_t ver = 99;
    CHECK_EQ(zm_store_head(s, S("k"), A(), &ver), ZM_ENOTFOUND);
    CHECK_EQ(ver, 0);
    CHECK_EQ(put(s, "k", J("[1]"), NULL, "a", 10, NULL), ZM_OK);
    CHECK_EQ(put(s, "k", J("[2]"), NULL, "a", 20, NULL), ZM_OK);
    CHECK_EQ(zm_store_head(s, S("k"), A(), &ver), ZM_OK);
    CHECK_EQ(ver, 2);
    CHECK_EQ(forget(s, "k", false, 30, NULL, NULL), ZM_OK);
    CHECK_EQ(zm_store_head(s, S("k"), A(), &ver), ZM_ENOTFOUND);
    CHECK_EQ(ver, 3);
    CHECK_EQ(put(s, "k", J("[4]"), NULL, "a", 40, NULL), ZM_OK);
    CHECK_EQ(zm_store_head(s, S("k"), A(), &ver), ZM_OK);
    CHECK_EQ(ver, 4);
    CHECK_EQ(zm_store_head(s, NULL, 1, A(), &ver), ZM_EINVAL);
    CHECK_EQ(zm_store_head(s, S("k"), A(), NULL), ZM_EINVAL);
    /* A backend without the method: the wrapper reads through get. */
    zm_store_vtable vt = *s->vtable;
    vt.size = offsetof(zm_store_vtable, head);
    const zm_store_vtable *saved = s->vtable;
    s->vtable = &vt;
    CHECK_EQ(zm_store_head(s, S("k"), A(), &ver), ZM_OK);
    CHECK_EQ(ver, 4);
    CHECK_EQ(forget(s, "k", false, 50, NULL, NULL), ZM_OK);
    CHECK_EQ(zm_store_head(s, S("k"), A(), &ver), ZM_ENOTFOUND);
    CHECK_EQ(ver, 5);
    CHECK_EQ(zm_store_head(s, S("none"), A(), &ver), ZM_ENOTFOUND);
    CHECK_EQ(ver, 0);
    s->vtable = saved;
    zm_store_close(s);
}

/* The store's own memory figure: cheap, honest per backend, and "not
   supported" (not applicable) for a backend without the method. */
static void test_memory_figure(void) {
    zm_store *s = open_store(NULL);
    zm_store_memory m;
    CHECK_EQ(zm_store_memory_get(s, &m), ZM_OK);
    CHECK(m.what != NULL && m.what[0] != '\0');
    if (strcmp(zm_store_backend(s), "postgres") == 0) {
        CHECK(!m.applicable);
        CHECK_EQ(m.bytes, 0);
    } else {
        CHECK(m.applicable);
        size_t before = m.bytes;
        char big[6000];
        memset(big, 'x', sizeof big);
        big[0] = '"', big[sizeof big - 2] = '"', big[sizeof big - 1] = '\0';
        CHECK_EQ(put(s, "k", J(big), NULL, "a", 10, NULL), ZM_OK);
        CHECK_EQ(zm_store_memory_get(s, &m), ZM_OK);
        CHECK(m.bytes > before);
        if (strcmp(zm_store_backend(s), "sqlite") == 0) {
            CHECK(m.cache_bytes > 0 && m.cache_bytes <= m.bytes);
            CHECK(m.engine_bytes >= m.bytes);
        }
    }
    zm_store_vtable vt = *s->vtable;
    vt.size = offsetof(zm_store_vtable, memory);
    const zm_store_vtable *saved = s->vtable;
    s->vtable = &vt;
    CHECK_EQ(zm_store_memory_get(s, &m), ZM_ENOTSUP);
    CHECK(!m.applicable);
    CHECK_EQ(m.bytes, 0);
    CHECK(m.what != NULL);
    s->vtable = saved;
    zm_store_close(s);
}

static void test_forget_scores(void) {
    zm_store *s = open_store(NULL);
    CHECK_EQ(put(s, "gone alpha", J("\"alpha alpha alpha\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "purged alpha", J("\"alpha alpha\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(put(s, "d1", J("\"alpha beta\""), NULL, NULL, 1, NULL), ZM_OK);
    CHECK_EQ(forget(s, "gone alpha", false, 2, NULL, NULL), ZM_OK);
    CHECK_EQ(forget(s, "purged alpha", true, 2, NULL, NULL), ZM_OK);
    zm_search_hit *h;
    size_t n, total;
    CHECK_EQ(search(s, "alpha", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(total, 1);
    if (n == 1) {
        CHECK(hit_is(&h[0], "d1", -1));
        CHECK(h[0].score > 0);
        if (cur->exact_bm25) {
            /* One document: N=1, df=1, tf=1, dl=avgdl=3. */
            double idf = log(1.0 + (1.0 - 1.0 + 0.5) / (1.0 + 0.5));
            double want = idf * 1.0 * 2.2 / (1.0 + 1.2);
            if (fabs(h[0].score - want) > 1e-12)
                fprintf(stderr, "  score %.17g, want %.17g\n", h[0].score, want);
            CHECK(fabs(h[0].score - want) < 1e-12);
        }
    }
    CHECK_EQ(search(s, "gone", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(total, 0);
    CHECK_EQ(search(s, "purged", ZM_SEARCH_TOKEN, 10, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    zm_store_close(s);
}

static void test_purge(void) {
    zm_store *s = open_store(NULL);
    bool existed = true;
    CHECK_EQ(forget(s, "ghost", true, 1, NULL, &existed), ZM_OK);
    CHECK(!existed);
    CHECK_EQ(put(s, "secret", J("{\"pin\":\"1234 hidden\"}"), J("\"meta\""), "a", 10, NULL), ZM_OK);
    CHECK_EQ(put(s, "secret", J("\"hidden again\""), NULL, "a", 20, NULL), ZM_OK);
    CHECK_EQ(put(s, "other", J("\"hidden too\""), NULL, "a", 15, NULL), ZM_OK);
    existed = false;
    CHECK_EQ(forget(s, "secret", true, 30, NULL, &existed), ZM_OK);
    CHECK(existed);
    zm_store_version v;
    memset(&v, 0, sizeof v);
    CHECK_EQ(get(s, "secret", -1, &v), ZM_ENOTFOUND);
    CHECK(!v.deleted); /* no deletion version: nothing at all */
    CHECK_EQ(get(s, "secret", 10, &v), ZM_ENOTFOUND);
    CHECK_EQ(get(s, "secret", 25, &v), ZM_ENOTFOUND);
    zm_store_version *h;
    size_t n;
    CHECK_EQ(history(s, "secret", -1, &h, &n), ZM_ENOTFOUND);
    CHECK_EQ(n, 0);
    zm_search_hit *hits;
    size_t total;
    for (int mode = ZM_SEARCH_EXACT; mode <= ZM_SEARCH_TOKEN; mode++) {
        CHECK_EQ(search(s, "secret", (zm_search_mode)mode, 10, &hits, &n, &total), ZM_OK);
        CHECK_EQ(n, 0);
    }
    CHECK_EQ(search(s, "hidden", ZM_SEARCH_TOKEN, 10, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    if (n == 1) CHECK(hit_is(&hits[0], "other", -1));
    CHECK_EQ(search(s, "1234", ZM_SEARCH_SUBSTRING, 10, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    zm_store_stats st = stats(s);
    CHECK_EQ(st.versions, 1);
    CHECK_EQ(st.keys, 1);
    /* Purging again: nothing left to purge. */
    existed = true;
    CHECK_EQ(forget(s, "secret", true, 40, NULL, &existed), ZM_OK);
    CHECK(!existed);
    /* The next write starts at version 1 again. */
    CHECK_EQ(put(s, "secret", J("\"new\""), NULL, NULL, 50, &v), ZM_OK);
    CHECK_EQ(v.version, 1);
    CHECK_EQ(v.timestamp, 50);
    CHECK_EQ(history(s, "secret", -1, &h, &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(get(s, "secret", 45, &v), ZM_ENOTFOUND);
    CHECK_EQ(search(s, "secret", ZM_SEARCH_EXACT, 10, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    /* Purging a forgotten key takes its deletion too. */
    CHECK_EQ(forget(s, "other", false, 60, NULL, NULL), ZM_OK);
    existed = false;
    CHECK_EQ(forget(s, "other", true, 61, NULL, &existed), ZM_OK);
    CHECK(existed);
    CHECK_EQ(history(s, "other", -1, &h, &n), ZM_ENOTFOUND);
    CHECK_EQ(stats(s).versions, 1);
    zm_store_close(s);
}

static void run_all(void) {
    TEST(test_put_get_history);
    TEST(test_copies);
    TEST(test_reads_stay_valid);
    TEST(test_limits);
    TEST(test_max_versions);
    TEST(test_sessions);
    TEST(test_forget);
    TEST(test_head);
    TEST(test_memory_figure);
    TEST(test_forget_scores);
    TEST(test_purge);
}

int main(int argc, char **argv) {
    return conformance_main(argc, argv, "store_conformance_versions", run_all);
}
