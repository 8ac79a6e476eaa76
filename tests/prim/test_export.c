/* Export and import as JSON lines: a memory with versions, deletions, a
   purge, dropped versions, sessions and edges goes out as text, comes back
   into another store (a memory store, and an SQLite file when built in) and
   goes out again as the same text; bad lines are refused with a reason; the
   every-failure sweep over both directions. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "zmem/json.h"
#include "zmem/store.h"
#include "zmem/testing.h"

/* A growing text, the export's sink. */
typedef struct text {
    char *p;
    size_t len, cap;
    zm_allocator a;
} text;

static zm_status text_sink(void *ctx, const char *data, size_t n) {
    text *t = ctx;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1) cap *= 2;
        char *q = zm_realloc(t->a, t->p, t->cap, cap, 1);
        if (q == NULL) return ZM_ENOMEM;
        t->p = q;
        t->cap = cap;
    }
    memcpy(t->p + t->len, data, n);
    t->len += n;
    t->p[t->len] = '\0';
    return ZM_OK;
}

static void text_free(text *t) {
    zm_free(t->a, t->p, t->cap, 1);
    memset(t, 0, sizeof *t);
}

/* Parses JSON text into ar. */
static zm_json *J(zm_arena *ar, const char *s) {
    zm_json *v = NULL;
    if (zm_json_parse_arena(ar, s, strlen(s), NULL, &v, NULL) != ZM_OK) return NULL;
    return v;
}

/* Fills s with a little of everything. ZM_OK or the first error. */
static zm_status fill(zm_store *s, zm_arena *ar) {
    struct {
        const char *key, *value, *meta, *agent, *session;
        int64_t ts;
    } puts[] = {
        {"people/ada", "{\"name\":\"Ada\",\"quote\":\"a \\\"b\\\" \\\\ c\"}", "{\"src\":\"x\"}",
         "planner", "s1", 100},
        {"people/ada", "{\"name\":\"Ada L.\"}", NULL, "critic", "s2", 200},
        {"notes/\xc3\xa9t\xc3\xa9", "\"caf\\u00e9 \\u0000 '; DROP TABLE x; --\"", NULL, "", "",
         300},
        {"gone", "[1,2,3]", NULL, "planner", "s1", 400},
        {"purged", "\"secret\"", NULL, "planner", "s1", 450},
        {"capped", "1", NULL, "a", "", 500},
        {"capped", "2", NULL, "a", "", 510},
        {"capped", "3", NULL, "a", "", 520},
        {"capped", "4", NULL, "a", "", 530},
    };
    zm_status st;
    for (size_t i = 0; i < sizeof puts / sizeof puts[0]; i++) {
        zm_store_write w;
        memset(&w, 0, sizeof w);
        w.key = puts[i].key;
        w.key_len = strlen(puts[i].key);
        w.value = J(ar, puts[i].value);
        w.metadata = puts[i].meta ? J(ar, puts[i].meta) : NULL;
        w.agent = puts[i].agent;
        w.agent_len = strlen(puts[i].agent);
        w.session = puts[i].session;
        w.session_len = strlen(puts[i].session);
        w.ts_ms = puts[i].ts;
        if (w.value == NULL || (puts[i].meta && w.metadata == NULL)) return ZM_ENOMEM;
        if ((st = zm_store_put(s, &w, NULL)) != ZM_OK) return st;
    }
    zm_store_write f;
    memset(&f, 0, sizeof f);
    f.key = "gone";
    f.key_len = 4;
    f.agent = "critic";
    f.agent_len = 6;
    f.ts_ms = 600;
    if ((st = zm_store_forget(s, &f, false, NULL, NULL)) != ZM_OK) return st;
    f.key = "purged";
    f.key_len = 6;
    if ((st = zm_store_forget(s, &f, true, NULL, NULL)) != ZM_OK) return st;
    zm_store_link_req l = {"people/ada", "notes/x", "wrote", 10, 7, 5, NULL, "planner", 7, 700};
    if ((st = zm_store_link(s, &l, NULL)) != ZM_OK) return st;
    zm_store_link_req l2 = {"notes/x", "people/ada",         "about",  7, 10,
                            5,         J(ar, "{\"w\":0.5}"), "critic", 6, 710};
    if (l2.metadata == NULL) return ZM_ENOMEM;
    if ((st = zm_store_link(s, &l2, NULL)) != ZM_OK) return st;
    zm_store_link_req l3 = {"a", "b", "c", 1, 1, 1, NULL, NULL, 0, 720};
    if ((st = zm_store_link(s, &l3, NULL)) != ZM_OK) return st;
    return zm_store_unlink(s, "a", 1, "b", 1, "c", 1, NULL);
}

/* Imports text t (lines) into s. */
static zm_status import_text(zm_store *s, zm_arena *ar, const char *t) {
    while (*t) {
        const char *nl = strchr(t, '\n');
        size_t n = nl ? (size_t)(nl - t) : strlen(t);
        zm_status st = zm_store_import_line(s, ar, t, n);
        if (st != ZM_OK) return st;
        t += n + (nl ? 1 : 0);
    }
    return ZM_OK;
}

static zm_status export_text(zm_store *s, zm_arena *ar, text *out) {
    out->len = 0;
    return zm_store_export_jsonl(s, ar, text_sink, out);
}

static const zm_store_limits capped = {0, 0, 0, 2};

static void test_round_trip(void) {
    zm_allocator a = zm_default_allocator();
    zm_arena ar;
    zm_arena_init(&ar, a);
    zm_store *s1, *s2;
    CHECK_EQ(zm_store_memory_create(a, &capped, &s1), ZM_OK);
    CHECK_EQ(fill(s1, &ar), ZM_OK);
    text t1 = {0}, t2 = {0}, t3 = {0};
    t1.a = t2.a = t3.a = a;
    CHECK_EQ(export_text(s1, &ar, &t1), ZM_OK);
    /* What the text holds. */
    CHECK(strncmp(t1.p, "{\"zmem_export\":1}\n", 18) == 0);
    CHECK(strstr(t1.p, "\"key\":\"gone\",\"version\":2,\"timestamp\":600,\"agent\":\"critic\","
                       "\"session\":\"\",\"deleted\":true") != NULL);
    CHECK(strstr(t1.p, "\"key\":\"purged\"") == NULL);
    CHECK(strstr(t1.p, "\"key\":\"capped\",\"version\":1") == NULL);
    CHECK(strstr(t1.p, "\"key\":\"capped\",\"version\":3") != NULL);
    CHECK(strstr(t1.p, "{\"type\":\"edge\",\"from\":\"notes/x\",\"to\":\"people/ada\","
                       "\"relation\":\"about\",\"timestamp\":710,\"agent\":\"critic\","
                       "\"metadata\":{\"w\":0.5}}") != NULL);
    CHECK(strstr(t1.p, "\"from\":\"a\"") == NULL);

    /* Into another memory store and out again: the same text. */
    CHECK_EQ(zm_store_memory_create(a, &capped, &s2), ZM_OK);
    CHECK_EQ(import_text(s2, &ar, t1.p), ZM_OK);
    CHECK_EQ(export_text(s2, &ar, &t2), ZM_OK);
    CHECK(t1.len == t2.len && strcmp(t1.p, t2.p) == 0);
    zm_store_version v;
    CHECK_EQ(zm_store_get(s2, "gone", 4, 450, zm_arena_allocator(&ar), &v), ZM_OK);
    CHECK_EQ(zm_store_get(s2, "gone", 4, -1, zm_arena_allocator(&ar), &v), ZM_ENOTFOUND);
    CHECK(v.deleted);

    /* Into an SQLite file and back, where SQLite is built in. */
    if (zm_store_backend_available("sqlite")) {
        char dir[] = "/tmp/zmem-export-XXXXXX";
        CHECK(mkdtemp(dir) != NULL);
        char path[256];
        snprintf(path, sizeof path, "%s/m.db", dir);
        zm_store_opts o;
        memset(&o, 0, sizeof o);
        o.limits = capped;
        zm_store *db;
        CHECK_EQ(zm_store_open(path, &o, &db), ZM_OK);
        CHECK_EQ(zm_store_begin(db), ZM_OK);
        CHECK_EQ(import_text(db, &ar, t1.p), ZM_OK);
        CHECK_EQ(zm_store_commit(db), ZM_OK);
        zm_store_close(db);
        CHECK_EQ(zm_store_open(path, &o, &db), ZM_OK);
        CHECK_EQ(export_text(db, &ar, &t3), ZM_OK);
        CHECK(t1.len == t3.len && strcmp(t1.p, t3.p) == 0);
        if (t3.p != NULL && strcmp(t1.p, t3.p) != 0)
            fprintf(stderr, "memory:\n%s\nsqlite:\n%s\n", t1.p, t3.p);
        zm_store_close(db);
        unlink(path);
        char wal[300];
        snprintf(wal, sizeof wal, "%s-wal", path);
        unlink(wal);
        snprintf(wal, sizeof wal, "%s-shm", path);
        unlink(wal);
        rmdir(dir);
    }
    text_free(&t1);
    text_free(&t2);
    text_free(&t3);
    zm_store_close(s1);
    zm_store_close(s2);
    zm_arena_deinit(&ar);
}

/* Lines that are not an export are refused with a reason. */
static void test_bad_lines(void) {
    zm_allocator a = zm_default_allocator();
    zm_arena ar;
    zm_arena_init(&ar, a);
    zm_store *s;
    CHECK_EQ(zm_store_memory_create(a, NULL, &s), ZM_OK);
    struct {
        const char *line;
        zm_status st;
        const char *msg;
    } cases[] = {
        {"", ZM_OK, NULL},
        {"   ", ZM_OK, NULL},
        {"{\"zmem_export\":1}", ZM_OK, NULL},
        {"{\"zmem_export\":2}", ZM_EINVAL, "format"},
        {"nope", ZM_ESYNTAX, "not JSON"},
        {"[1]", ZM_EINVAL, "JSON object"},
        {"{\"type\":\"thing\"}", ZM_EINVAL, "\"type\""},
        {"{\"type\":\"version\",\"version\":1,\"timestamp\":0,\"value\":1}", ZM_EINVAL, "\"key\""},
        {"{\"type\":\"version\",\"key\":\"k\",\"version\":0,\"timestamp\":0,\"value\":1}",
         ZM_EINVAL, "\"version\""},
        {"{\"type\":\"version\",\"key\":\"k\",\"version\":1,\"timestamp\":0}", ZM_EINVAL,
         "\"value\""},
        {"{\"type\":\"version\",\"key\":\"k\",\"version\":3,\"timestamp\":5,\"value\":1}", ZM_OK,
         NULL},
        {"{\"type\":\"version\",\"key\":\"k\",\"version\":3,\"timestamp\":6,\"value\":2}",
         ZM_ECONFLICT, "at or below"},
        {"{\"type\":\"version\",\"key\":\"\",\"version\":1,\"timestamp\":0,\"value\":1}", ZM_EINVAL,
         "key is empty"},
        {"{\"type\":\"edge\",\"from\":\"a\",\"to\":\"b\",\"timestamp\":0}", ZM_EINVAL,
         "\"relation\""},
        /* Metadata is an object, as store and link take it. */
        {"{\"type\":\"version\",\"key\":\"m\",\"version\":1,\"timestamp\":0,\"value\":1,"
         "\"metadata\":5}",
         ZM_EINVAL, "\"metadata\" must be an object"},
        {"{\"type\":\"edge\",\"from\":\"a\",\"to\":\"b\",\"relation\":\"r\",\"agent\":\"\","
         "\"timestamp\":0,\"metadata\":[1]}",
         ZM_EINVAL, "\"metadata\" must be an object"},
        {"{\"type\":\"version\",\"key\":\"m\",\"version\":1,\"timestamp\":0,\"value\":1,"
         "\"metadata\":null}",
         ZM_OK, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zm_status st = zm_store_import_line(s, &ar, cases[i].line, strlen(cases[i].line));
        CHECK_EQ(st, cases[i].st);
        if (cases[i].msg != NULL && strstr(zm_store_errmsg(), cases[i].msg) == NULL) {
            fprintf(stderr, "line %s: message \"%s\" lacks \"%s\"\n", cases[i].line,
                    zm_store_errmsg(), cases[i].msg);
            CHECK(0);
        }
    }
    /* The imported version kept its number and time. */
    zm_store_version v;
    CHECK_EQ(zm_store_get(s, "k", 1, -1, zm_arena_allocator(&ar), &v), ZM_OK);
    CHECK_EQ(v.version, 3);
    CHECK_EQ(v.timestamp, 5);
    CHECK_EQ(zm_arena_used(&ar), 0 + zm_arena_used(&ar)); /* reads live in ar */
    zm_store_close(s);
    zm_arena_deinit(&ar);
}

/* Export then import, every allocation failing in turn: ZM_ENOMEM and no
   leak. */
static zm_status export_import(zm_allocator a, void *arg) {
    (void)arg;
    zm_arena ar;
    zm_arena_init(&ar, a);
    zm_store *s1 = NULL, *s2 = NULL;
    text t = {0};
    t.a = a;
    zm_status st = zm_store_memory_create(a, &capped, &s1);
    if (st == ZM_OK) st = fill(s1, &ar);
    if (st == ZM_OK) st = export_text(s1, &ar, &t);
    if (st == ZM_OK) st = zm_store_memory_create(a, &capped, &s2);
    if (st == ZM_OK) st = import_text(s2, &ar, t.p);
    text_free(&t);
    zm_store_close(s2);
    zm_store_close(s1);
    zm_arena_deinit(&ar);
    return st;
}

static void test_sweep(void) {
    /* Every allocation, arena requests too, failing in turn. */
    static const zm_sweep_options every = {.skip_arenas = false};
    zm_sweep_report r;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), export_import, NULL, &every, &r),
             ZM_OK);
    if (r.problem != ZM_SWEEP_OK) fprintf(stderr, "%s\n", r.message);
}

int main(void) {
    RUN(test_round_trip);
    RUN(test_bad_lines);
    RUN(test_sweep);
    return zt_finish("store_export");
}
