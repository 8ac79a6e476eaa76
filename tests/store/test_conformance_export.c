/* The store's conformance suite, export part: export and explicit versions, refusals, and bytes
   that trip up quoting and C strings (conformance.h: the backends and the run). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, nanosleep, opendir */
#include "conformance.h"

/* ---------------------------------------------------------------------------
 * Export
 * ------------------------------------------------------------------------- */

static void test_export(void) {
    zm_store *s = open_store(NULL);
    zm_store_cursor *c = NULL;
    zm_store_record r;
    bool done = false;
    CHECK_EQ(zm_store_export_open(s, A(), &c), ZM_OK);
    CHECK_EQ(zm_store_cursor_next(c, &r, &done), ZM_OK);
    CHECK(done);
    zm_store_cursor_close(c);
    zm_store_cursor_close(NULL);

    /* Keys in first-write order, each key's versions oldest first; then the
       edges. */
    zm_store_write w = W("b", J("\"b1\""), J("{\"m\":1}"), "ag", 1);
    w.session = "se";
    w.session_len = 2;
    CHECK_EQ(zm_store_put(s, &w, NULL), ZM_OK);
    CHECK_EQ(put(s, "a", J("\"a1\""), NULL, NULL, 2, NULL), ZM_OK);
    CHECK_EQ(put(s, "b", J("\"b2\""), NULL, NULL, 3, NULL), ZM_OK);
    CHECK_EQ(put(s, "c", J("\"c1\""), NULL, NULL, 4, NULL), ZM_OK);
    CHECK_EQ(put(s, "a", J("\"a2\""), NULL, NULL, 5, NULL), ZM_OK);
    CHECK_EQ(put(s, "gone", J("1"), NULL, NULL, 5, NULL), ZM_OK);
    CHECK_EQ(forget(s, "gone", true, 6, NULL, NULL), ZM_OK);
    CHECK_EQ(forget(s, "c", false, 7, NULL, NULL), ZM_OK);
    CHECK_EQ(lnk(s, "a", "b", "r", NULL, NULL, 8, NULL), ZM_OK);

    static const char *want_key[] = {"b", "b", "a", "a", "c", "c"};
    static const char *want_val[] = {"\"b1\"", "\"b2\"", "\"a1\"", "\"a2\"", "\"c1\"", "null"};
    static const uint64_t want_ver[] = {1, 2, 1, 2, 1, 2};
    static const int64_t want_ts[] = {1, 3, 2, 5, 4, 7};
    CHECK_EQ(lnk(s, "x", "y", "r2", J("{\"e\":1}"), "ea", 9, NULL), ZM_OK);
    CHECK_EQ(lnk(s, "gone-edge", "y", "r", NULL, NULL, 9, NULL), ZM_OK);
    CHECK_EQ(unlnk(s, "gone-edge", "y", "r", NULL), ZM_OK);
    CHECK_EQ(lnk(s, "a", "b", "r", NULL, "again", 10, NULL), ZM_OK); /* updated in place */
    CHECK_EQ(zm_store_export_open(s, A(), &c), ZM_OK);
    size_t i = 0, edges = 0;
    for (;;) {
        memset(&r, 0xAB, sizeof r);
        CHECK_EQ(zm_store_cursor_next(c, &r, &done), ZM_OK);
        if (done || i + edges >= 20) break;
        if (r.kind == ZM_STORE_RECORD_EDGE) {
            /* Edges come after every version, in the order first linked. */
            CHECK_EQ(i, 6);
            if (edges == 0) {
                CHECK(bytes_are(r.edge.from, r.edge.from_len, S("a")));
                CHECK(bytes_are(r.edge.to, r.edge.to_len, S("b")));
                CHECK(bytes_are(r.edge.relation, r.edge.relation_len, S("r")));
                CHECK_EQ(r.edge.timestamp, 10);
                CHECK_STR(r.edge.agent, "again");
                CHECK(r.edge.metadata == NULL);
            } else if (edges == 1) {
                CHECK_STR(r.edge.from, "x");
                CHECK_STR(r.edge.to, "y");
                CHECK_STR(r.edge.relation, "r2");
                CHECK(is_json(r.edge.metadata, "{\"e\":1}"));
                CHECK_STR(r.edge.agent, "ea");
            }
            edges++;
            continue;
        }
        CHECK_EQ(r.kind, ZM_STORE_RECORD_VERSION);
        CHECK_EQ(edges, 0);
        if (i >= 6) {
            i++;
            continue;
        }
        CHECK(bytes_are(r.key, r.key_len, S(want_key[i])));
        CHECK_EQ(r.key[r.key_len], '\0');
        CHECK(is_json(r.v.value, want_val[i]));
        CHECK_EQ(r.v.version, want_ver[i]);
        CHECK_EQ(r.v.timestamp, want_ts[i]);
        CHECK(r.v.deleted == (i == 5));
        if (i == 0) {
            CHECK(is_json(r.v.metadata, "{\"m\":1}"));
            CHECK_STR(r.v.agent, "ag");
            CHECK_STR(r.v.session, "se");
        } else {
            CHECK(r.v.metadata == NULL);
            CHECK_STR(r.v.agent, "");
        }
        i++;
    }
    CHECK(done);
    CHECK_EQ(i, 6);
    CHECK_EQ(edges, 2); /* the unlinked edge is not exported */
    /* Done stays done. */
    CHECK_EQ(zm_store_cursor_next(c, &r, &done), ZM_OK);
    CHECK(done);
    zm_store_cursor_close(c);
    /* The store works after the cursor closed. */
    CHECK_EQ(put(s, "d", J("1"), NULL, NULL, 9, NULL), ZM_OK);
    zm_store_close(s);
}

/* An import writes the number a version had: above the key's latest, else
   ZM_ECONFLICT (and nothing changes). */
static void test_explicit_versions(void) {
    zm_store *s = open_store(NULL);
    zm_store_write w = W("k", J("\"five\""), NULL, "imp", 10);
    w.version = 5;
    zm_store_version v;
    CHECK_EQ(zm_store_put(s, &w, &v), ZM_OK);
    CHECK_EQ(v.version, 5);
    CHECK_EQ(put(s, "k", J("\"six\""), NULL, NULL, 20, &v), ZM_OK);
    CHECK_EQ(v.version, 6);
    w.version = 6;
    CHECK_EQ(zm_store_put(s, &w, NULL), ZM_ECONFLICT);
    CHECK(errmsg_has("version"));
    w.version = 2;
    CHECK_EQ(zm_store_put(s, &w, NULL), ZM_ECONFLICT);
    w.version = 9;
    w.ts_ms = 30;
    CHECK_EQ(zm_store_put(s, &w, &v), ZM_OK);
    CHECK_EQ(v.version, 9);
    zm_store_version *h;
    size_t n;
    CHECK_EQ(history(s, "k", -1, &h, &n), ZM_OK);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK_EQ(h[0].version, 5);
        CHECK_EQ(h[1].version, 6);
        CHECK_EQ(h[2].version, 9);
    }
    /* A deletion imported with its number; a purge lets numbers restart. */
    w.version = 12;
    w.ts_ms = 40;
    CHECK_EQ(zm_store_forget(s, &w, false, &v, NULL), ZM_OK);
    CHECK_EQ(get(s, "k", -1, &v), ZM_ENOTFOUND);
    CHECK(v.deleted);
    CHECK_EQ(forget(s, "k", true, 50, NULL, NULL), ZM_OK);
    w.version = 1;
    w.value = J("1");
    CHECK_EQ(zm_store_put(s, &w, &v), ZM_OK);
    CHECK_EQ(v.version, 1);
    CHECK_EQ(stats(s).versions, 1);
    zm_store_close(s);
}

/* Export text gathered in a fixed buffer (the sink of zm_store_export_jsonl). */
typedef struct text_buf {
    char data[4096];
    size_t len;
} text_buf;

static zm_status text_sink(void *ctx, const char *data, size_t len) {
    text_buf *t = ctx;
    if (len > sizeof t->data - 1 - t->len) return ZM_ELIMIT;
    memcpy(t->data + t->len, data, len);
    t->len += len;
    t->data[t->len] = '\0';
    return ZM_OK;
}

/* The export of s into *t. */
static zm_status export_text(zm_store *s, text_buf *t) {
    zm_arena scratch;
    zm_arena_init(&scratch, zm_default_allocator());
    t->len = 0;
    t->data[0] = '\0';
    zm_status st = zm_store_export_jsonl(s, &scratch, text_sink, t);
    zm_arena_deinit(&scratch);
    return st;
}

/* Imports the lines of text into s; the first error stops it. */
static zm_status import_text(zm_store *s, const char *text) {
    zm_arena scratch;
    zm_arena_init(&scratch, zm_default_allocator());
    zm_status st = ZM_OK;
    while (*text != '\0' && st == ZM_OK) {
        const char *nl = strchr(text, '\n');
        size_t n = nl != NULL ? (size_t)(nl - text) : strlen(text);
        st = zm_store_import_line(s, &scratch, text, n);
        text += n + (nl != NULL ? 1 : 0);
    }
    zm_arena_deinit(&scratch);
    return st;
}

/* The number of keys an exact search for key finds (0 or 1). */
static size_t found_by_search(zm_store *s, const char *key) {
    zm_search_hit *hits;
    size_t n = 0, total = 0;
    CHECK_EQ(search(s, key, ZM_SEARCH_EXACT, 10, &hits, &n, &total), ZM_OK);
    return n;
}

/* zm_store_export_jsonl and zm_store_import_line: the export of a store
   imported into an empty one exports as the same text, line for line
   (several lines, so the scratch arena is rewound under the cursor). */
static void test_export_jsonl(void) {
    zm_store *src = open_store(NULL);
    zm_store_write w = W("a", J("{\"x\":[1,\"s\"]}"), J("{\"m\":true}"), "ag", 1);
    w.session = "se";
    w.session_len = 2;
    CHECK_EQ(zm_store_put(src, &w, NULL), ZM_OK);
    CHECK_EQ(put(src, "b", J("\"b1\""), NULL, "bg", 2, NULL), ZM_OK);
    CHECK_EQ(put(src, "a", J("\"a2\""), NULL, NULL, 3, NULL), ZM_OK);
    CHECK_EQ(forget(src, "b", false, 4, NULL, NULL), ZM_OK);
    CHECK_EQ(put(src, "b", J("\"b3\""), NULL, NULL, 5, NULL), ZM_OK);
    CHECK_EQ(forget(src, "a", false, 6, NULL, NULL), ZM_OK);
    CHECK_EQ(lnk(src, "a", "b", "r", J("{\"e\":1}"), "ea", 7, NULL), ZM_OK);
    CHECK_EQ(lnk(src, "b", "c", "r", NULL, NULL, 8, NULL), ZM_OK);
    text_buf *t1 = zm_arena_new(&ar, text_buf), *t2 = zm_arena_new(&ar, text_buf);
    CHECK_EQ(export_text(src, t1), ZM_OK);
    zm_store_close(src);
    size_t lines = 0;
    for (const char *p = t1->data; (p = strchr(p, '\n')) != NULL; p++) lines++;
    CHECK_EQ(lines, 9); /* the header, 6 versions, 2 edges */
    zm_store *s = open_store(NULL);
    CHECK_EQ(import_text(s, t1->data), ZM_OK);
    CHECK_EQ(export_text(s, t2), ZM_OK);
    CHECK_STR(t2->data, t1->data);
    zm_store_close(s);
}

/* A key whose only kept version is a deletion (max_versions 1: a write, then
   a forget) exports as one deletion line; importing it records the deletion
   with its number, time and writer, so exporting again gives the same text.
   Then a version after that deletion, and a deletion after kept versions. */
static void test_import_lone_deletion(void) {
    zm_store_limits one = {0, 0, 0, 1};
    zm_store *src = open_store(&one);
    zm_store_write w = W("gone", J("\"g\""), NULL, "ag", 10);
    CHECK_EQ(zm_store_put(src, &w, NULL), ZM_OK);
    w = W("gone", NULL, NULL, "fa", 20);
    w.session = "fs";
    w.session_len = 2;
    CHECK_EQ(zm_store_forget(src, &w, false, NULL, NULL), ZM_OK);
    CHECK_EQ(put(src, "back", J("\"b1\""), NULL, NULL, 30, NULL), ZM_OK);
    CHECK_EQ(forget(src, "back", false, 31, NULL, NULL), ZM_OK);
    CHECK_EQ(put(src, "back", J("\"b3\""), NULL, NULL, 32, NULL), ZM_OK);
    text_buf *t1 = zm_arena_new(&ar, text_buf), *t2 = zm_arena_new(&ar, text_buf);
    CHECK_EQ(export_text(src, t1), ZM_OK);
    CHECK(strstr(t1->data, "\"key\":\"gone\",\"version\":2") != NULL);
    CHECK(strstr(t1->data, "\"deleted\":true") != NULL);
    zm_store_close(src);

    zm_store *s = open_store(NULL);
    CHECK_EQ(import_text(s, t1->data), ZM_OK);
    CHECK_EQ(export_text(s, t2), ZM_OK);
    CHECK_STR(t2->data, t1->data);
    zm_store_version v;
    memset(&v, 0, sizeof v);
    CHECK_EQ(get(s, "gone", -1, &v), ZM_ENOTFOUND);
    CHECK(v.deleted);
    CHECK_EQ(v.version, 2);
    CHECK_EQ(v.timestamp, 20);
    CHECK_STR(v.agent, "fa");
    CHECK_STR(v.session, "fs");
    CHECK_EQ(get(s, "gone", 19, &v), ZM_ENOTFOUND);
    uint64_t head = 0;
    CHECK_EQ(zm_store_head(s, S("gone"), A(), &head), ZM_ENOTFOUND);
    CHECK_EQ(head, 2);
    zm_store_version *h = NULL;
    size_t n = 0;
    CHECK_EQ(history(s, "gone", -1, &h, &n), ZM_OK);
    CHECK_EQ(n, 1);
    if (n == 1) CHECK(h[0].deleted && h[0].version == 2 && h[0].timestamp == 20);
    CHECK_EQ(found_by_search(s, "gone"), 0);
    CHECK_EQ(found_by_search(s, "back"), 1);

    /* The deletion again, or one at or below it: a conflict, as for values. */
    static const char del2[] = "{\"type\":\"version\",\"key\":\"gone\",\"version\":2,"
                               "\"timestamp\":20,\"deleted\":true}";
    CHECK_EQ(zm_store_import_line(s, &ar, S(del2)), ZM_ECONFLICT);
    CHECK(errmsg_has("version"));
    /* A version after the kept deletion, then a deletion after it. */
    static const char put4[] = "{\"type\":\"version\",\"key\":\"gone\",\"version\":4,"
                               "\"timestamp\":40,\"agent\":\"a4\",\"value\":\"again\"}";
    CHECK_EQ(zm_store_import_line(s, &ar, S(put4)), ZM_OK);
    CHECK_EQ(get(s, "gone", -1, &v), ZM_OK);
    CHECK(is_json(v.value, "\"again\""));
    CHECK_EQ(v.version, 4);
    CHECK_EQ(found_by_search(s, "gone"), 1);
    static const char del6[] = "{\"type\":\"version\",\"key\":\"gone\",\"version\":6,"
                               "\"timestamp\":60,\"agent\":\"a6\",\"deleted\":true}";
    CHECK_EQ(zm_store_import_line(s, &ar, S(del6)), ZM_OK);
    memset(&v, 0, sizeof v);
    CHECK_EQ(get(s, "gone", -1, &v), ZM_ENOTFOUND);
    CHECK(v.deleted);
    CHECK_EQ(v.version, 6);
    CHECK_STR(v.agent, "a6");
    CHECK_EQ(get(s, "gone", 50, &v), ZM_OK);
    CHECK_EQ(v.version, 4);
    CHECK_EQ(history(s, "gone", -1, &h, &n), ZM_OK);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK(h[0].deleted && h[0].version == 2);
        CHECK(!h[1].deleted && h[1].version == 4);
        CHECK(h[2].deleted && h[2].version == 6);
    }
    CHECK_EQ(found_by_search(s, "gone"), 0);
    /* A forget that is not an import still records nothing on a deleted key. */
    bool existed = true;
    CHECK_EQ(forget(s, "gone", false, 70, NULL, &existed), ZM_OK);
    CHECK(!existed);
    CHECK_EQ(history(s, "gone", -1, &h, &n), ZM_OK);
    CHECK_EQ(n, 3);
    CHECK_EQ(forget(s, "never", false, 70, NULL, &existed), ZM_OK);
    CHECK(!existed);
    CHECK_EQ(get(s, "never", -1, &v), ZM_ENOTFOUND);
    zm_store_close(s);
}

/* ---------------------------------------------------------------------------
 * Refusals: the same codes on every backend, and a message naming the
 * problem; a success clears the message.
 * ------------------------------------------------------------------------- */

typedef struct msg_probe {
    char msg[256];
} msg_probe;

static void *read_errmsg(void *arg) {
    msg_probe *p = arg;
    snprintf(p->msg, sizeof p->msg, "%s", zm_store_errmsg());
    return NULL;
}

static void test_refusals(void) {
    zm_store_limits lim = {8, 200, 3, 0};
    zm_store *s = open_store(&lim);
    zm_json *one = J("1");
    zm_allocator aa = A();
    CHECK_EQ(put(s, "ok", one, NULL, NULL, 1, NULL), ZM_OK);
    CHECK_STR(zm_store_errmsg(), "");

    CHECK_EQ(put(s, "", one, NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK(errmsg_has("key"));
    CHECK(errmsg_has("empty"));
    CHECK_EQ(put(s, "bad\xc0\x80", one, NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK(errmsg_has("key"));
    CHECK(errmsg_has("UTF-8"));
    CHECK_EQ(put(s, "123456789", one, NULL, NULL, 1, NULL), ZM_ELIMIT);
    CHECK(errmsg_has("key"));
    CHECK(errmsg_has("8"));
    CHECK_EQ(put(s, "k", J("[[[[1]]]]"), NULL, NULL, 1, NULL), ZM_ELIMIT);
    CHECK(errmsg_has("value"));
    CHECK(errmsg_has("deep"));
    CHECK_EQ(put(s, "k", one, J("{\"a\":{\"b\":{\"c\":{}}}}"), NULL, 1, NULL), ZM_ELIMIT);
    CHECK(errmsg_has("metadata"));
    CHECK_EQ(put(s, "k", zm_json_new_real(aa, NAN), NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK(errmsg_has("non-finite"));
    CHECK_EQ(put(s, "k", zm_json_new_string(aa, "\xff", 1), NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK(errmsg_has("UTF-8"));
    char big[300];
    memset(big, 'x', sizeof big);
    big[0] = '"', big[sizeof big - 2] = '"', big[sizeof big - 1] = '\0';
    CHECK_EQ(put(s, "k", J(big), NULL, NULL, 1, NULL), ZM_ELIMIT);
    CHECK(errmsg_has("size"));
    CHECK_EQ(put(s, "k", one, NULL, "agent-too-long", 1, NULL), ZM_ELIMIT);
    CHECK(errmsg_has("agent"));
    CHECK_EQ(put(s, "k", NULL, NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK(errmsg_has("value"));
    CHECK_EQ(forget(s, "", false, 1, NULL, NULL), ZM_EINVAL);
    CHECK(errmsg_has("key"));

    zm_search_hit *hits;
    size_t n, total;
    CHECK_EQ(search(s, "x", (zm_search_mode)7, 10, &hits, &n, &total), ZM_EINVAL);
    CHECK(errmsg_has("mode"));
    zm_store_hit *h;
    bool tr;
    CHECK_EQ(walk(s, "a", NULL, ZM_STORE_OUT, 0, 10, &h, &n, &tr), ZM_EINVAL);
    CHECK(errmsg_has("depth"));
    CHECK_EQ(walk(s, "a", NULL, ZM_STORE_OUT, 99, 10, &h, &n, &tr), ZM_EINVAL);
    CHECK(errmsg_has("depth"));
    CHECK_EQ(walk(s, "a", NULL, (zm_store_direction)0, 1, 10, &h, &n, &tr), ZM_EINVAL);
    CHECK(errmsg_has("direction"));
    CHECK_EQ(lnk(s, "", "b", "r", NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK(errmsg_has("from"));
    CHECK_EQ(lnk(s, "a", "b", "", NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK(errmsg_has("relation"));
    CHECK_EQ(lnk(s, "a", "b\xff", "r", NULL, NULL, 1, NULL), ZM_EINVAL);
    CHECK(errmsg_has("to"));

    /* NULL with a length: refused, with a message too. */
    zm_store_version v;
    CHECK_EQ(zm_store_get(s, NULL, 3, -1, aa, &v), ZM_EINVAL);
    CHECK(errmsg_has("key"));
    zm_store_version *hv;
    CHECK_EQ(zm_store_history(s, NULL, 3, -1, aa, &hv, &n), ZM_EINVAL);
    CHECK(errmsg_has("key"));
    CHECK_EQ(zm_store_search(s, NULL, 3, ZM_SEARCH_EXACT, 10, aa, &hits, &n, &total), ZM_EINVAL);
    CHECK(errmsg_has("query"));

    /* Messages are per thread: another thread sees none. */
    CHECK_EQ(put(s, "", one, NULL, NULL, 1, NULL), ZM_EINVAL);
    msg_probe p;
    strcpy(p.msg, "unset");
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, read_errmsg, &p), 0);
    pthread_join(th, NULL);
    CHECK_STR(p.msg, "");
    CHECK(errmsg_has("key"));

    /* A success clears it; nothing refused was stored. */
    CHECK_EQ(get(s, "ok", -1, &v), ZM_OK);
    CHECK_STR(zm_store_errmsg(), "");
    zm_store_stats st = stats(s);
    CHECK_EQ(st.keys, 1);
    CHECK_EQ(st.versions, 1);
    CHECK_EQ(st.edges, 0);
    CHECK_EQ(get(s, "k", -1, &v), ZM_ENOTFOUND);
    zm_store_close(s);
}

/* ---------------------------------------------------------------------------
 * Bytes that trip up quoting, escaping and C strings round-trip exactly.
 * ------------------------------------------------------------------------- */

typedef struct odd {
    const char *p;
    size_t len;
} odd;

#define ODD(lit)                                                                                   \
    { lit, sizeof(lit) - 1 }

static const odd odd_names[] = {
    ODD("it's"),
    ODD("say \"hi\""),
    ODD("back\\slash\\"),
    ODD("nul\0inside"),
    ODD("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
    ODD("'; DROP TABLE versions; --"),
    ODD("\") OR 1=1 --"),
    ODD("100%"),
    ODD("a_b"),
    ODD("[*?]"),
    ODD("line\nbreak\ttab\r"),
    ODD("\x01\x02\x7f"),
    ODD("x"), /* a plain neighbour the others must not match */
};
#define N_ODD (sizeof odd_names / sizeof odd_names[0])

static void test_odd_bytes(void) {
    zm_store *s = open_store(NULL);
    const char *value_text = "{\"q\\\"uote\":\"it's \\\"quoted\\\" \\\\ back\","
                             "\"nul\":\"a\\u0000b\\u0000\",\"sql\":\"'); DELETE FROM keys; --\","
                             "\"uni\":\"\\u00e9\\u20ac\\ud83d\\ude00 \xe6\x97\xa5\xe6\x9c\xac\","
                             "\"ctl\":\"\\u0001\\n\\t\",\"\\u0000key\":[\"%\",\"_\",\"\\\\%\"]}";
    const char *meta_text = "[\"meta \\\"q\\\" \\\\\", \"\\u0000\", \"' OR ''='\"]";
    zm_json *value = J(value_text), *meta = J(meta_text);
    for (size_t i = 0; i < N_ODD; i++) {
        zm_store_write w;
        memset(&w, 0, sizeof w);
        w.key = odd_names[i].p;
        w.key_len = odd_names[i].len;
        w.value = i % 2 ? value : zm_json_new_string(A(), odd_names[i].p, odd_names[i].len);
        w.metadata = meta;
        w.agent = odd_names[(i + 1) % N_ODD].p;
        w.agent_len = odd_names[(i + 1) % N_ODD].len;
        w.session = odd_names[(i + 2) % N_ODD].p;
        w.session_len = odd_names[(i + 2) % N_ODD].len;
        w.ts_ms = (int64_t)i;
        zm_store_version v;
        CHECK_EQ(zm_store_put(s, &w, &v), ZM_OK);
        CHECK_EQ(v.version, 1);
    }
    /* Keys differing only after a NUL are different keys. */
    CHECK_EQ(zm_store_get(s, "nul", 3, -1, A(), &(zm_store_version){0}), ZM_ENOTFOUND);

    for (size_t i = 0; i < N_ODD; i++) {
        const odd *k = &odd_names[i], *ag = &odd_names[(i + 1) % N_ODD],
                  *se = &odd_names[(i + 2) % N_ODD];
        zm_store_version v;
        CHECK_EQ(zm_store_get(s, k->p, k->len, -1, A(), &v), ZM_OK);
        if (i % 2) {
            CHECK(is_json(v.value, value_text));
        } else {
            CHECK(zm_json_typeof(v.value) == ZM_JSON_STRING);
            CHECK(bytes_are(v.value->u.s.ptr, v.value->u.s.len, k->p, k->len));
        }
        CHECK(is_json(v.metadata, meta_text));
        CHECK(bytes_are(v.agent, v.agent_len, ag->p, ag->len));
        CHECK_EQ(v.agent[v.agent_len], '\0');
        CHECK(bytes_are(v.session, v.session_len, se->p, se->len));
        zm_store_version *h;
        size_t n;
        CHECK_EQ(zm_store_history(s, k->p, k->len, -1, A(), &h, &n), ZM_OK);
        CHECK_EQ(n, 1);
        /* Exact search finds the key itself and nothing else by key. */
        zm_search_hit *hits;
        size_t total;
        CHECK_EQ(zm_store_search(s, k->p, k->len, ZM_SEARCH_EXACT, 50, A(), &hits, &n, &total),
                 ZM_OK);
        CHECK(n >= 1);
        size_t by_key = 0;
        for (size_t j = 0; j < n; j++) by_key += hits[j].score == 1.0;
        CHECK_EQ(by_key, 1);
        if (n >= 1) CHECK(bytes_are(hits[0].key, hits[0].key_len, k->p, k->len));
    }
    /* Export gives back every key's exact bytes. */
    zm_store_cursor *c;
    CHECK_EQ(zm_store_export_open(s, A(), &c), ZM_OK);
    zm_store_record r;
    bool done = false;
    size_t i = 0;
    while (zm_store_cursor_next(c, &r, &done) == ZM_OK && !done && i < N_ODD) {
        CHECK_EQ(r.kind, ZM_STORE_RECORD_VERSION);
        CHECK(bytes_are(r.key, r.key_len, odd_names[i].p, odd_names[i].len));
        i++;
    }
    CHECK(done);
    CHECK_EQ(i, N_ODD);
    zm_store_cursor_close(c);

    /* Wildcards of SQL and globs are plain bytes to search. */
    zm_search_hit *hits;
    size_t n, total;
    CHECK_EQ(search(s, "0%", ZM_SEARCH_SUBSTRING, 50, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    if (n == 1) CHECK(hit_is(&hits[0], "100%", 1.0));
    CHECK_EQ(search(s, "a_", ZM_SEARCH_PREFIX, 50, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    if (n == 1) CHECK(hit_is(&hits[0], "a_b", 1.0));
    /* "%" is a string of the odd keys' values: 6 content matches. */
    CHECK_EQ(search(s, "%", ZM_SEARCH_PREFIX, 50, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 6);
    for (size_t j = 0; j < n; j++) CHECK(hits[j].score == 0.5);
    CHECK_EQ(search(s, "[*", ZM_SEARCH_PREFIX, 50, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(search(s, "*", ZM_SEARCH_EXACT, 50, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(search(s, "'", ZM_SEARCH_SUBSTRING, 50, &hits, &n, &total), ZM_OK);
    CHECK(n >= 2);
    /* A NUL byte inside the query is a byte like the others. */
    CHECK_EQ(zm_store_search(s, "a\0b", 3, ZM_SEARCH_SUBSTRING, 50, A(), &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 6);
    if (n >= 1)
        CHECK(hits[0].snippet != NULL && memchr(hits[0].snippet, '\0', hits[0].snippet_len));
    zm_store_close(s);
}

static void run_all(void) {
    TEST(test_export);
    TEST(test_explicit_versions);
    TEST(test_export_jsonl);
    TEST(test_import_lone_deletion);
    TEST(test_refusals);
    TEST(test_odd_bytes);
}

int main(int argc, char **argv) {
    return conformance_main(argc, argv, "store_conformance_export", run_all);
}
