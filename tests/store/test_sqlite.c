/* The SQLite backend: behaviour through the store interface (from a
   factory, so the same checks can run on any backend), then what only a
   database file has: reopening, bad paths, a full disk,
   bytes that must round-trip exactly, purge leaving nothing in the files,
   a busy database. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "json_eq.h"
#include "sqlite_check.h"
#include "sqlite_test.h"

static char db_path[512];
static int db_serial;

/* A fresh database in the scratch directory. */
static zm_status sqlite_factory(void *ctx, zm_store **out) {
    const zm_store_opts *o = ctx;
    char name[64];
    snprintf(name, sizeof name, "t%d.db", ++db_serial);
    st_path(db_path, sizeof db_path, name);
    return zm_store_sqlite_open(db_path, o, out);
}

static st_factory factory = sqlite_factory;
static void *factory_ctx;

static zm_store *fresh(void) {
    zm_store *s = NULL;
    zm_status st = factory(factory_ctx, &s);
    if (st != ZM_OK) {
        fprintf(stderr, "factory: %s: %s\n", zm_status_str(st), zm_store_errmsg());
        exit(1);
    }
    return s;
}

/* ---------------------------------------------------------------------------
 * Behaviour through the interface
 * ------------------------------------------------------------------------- */

static void test_versions(void) {
    zm_store *s = fresh();
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    zm_store_version v;
    CHECK_STR(zm_store_backend(s), "sqlite");
    CHECK_EQ(st_put(s, &ar, "k", "{\"a\":1}", 100, &v), ZM_OK);
    CHECK_EQ(v.version, 1);
    CHECK_EQ(st_put(s, &ar, "k", "[\"two\",2]", 200, &v), ZM_OK);
    CHECK_EQ(v.version, 2);
    CHECK_EQ(st_put(s, &ar, "k", "3", 150, &v), ZM_OK); /* older time: raised */
    CHECK_EQ(v.version, 3);
    CHECK_EQ(v.timestamp, 200);
    char buf[256];
    CHECK_EQ(st_get_text(s, "k", buf, sizeof buf), ZM_OK);
    CHECK_STR(buf, "3");
    CHECK_EQ(zm_store_get(s, "k", 1, 150, a, &v), ZM_OK);
    CHECK_EQ(v.version, 1);
    CHECK_EQ(zm_json_int(zm_json_get(v.value, "a")), 1);
    CHECK_STR(v.agent, "tester");
    CHECK_EQ(v.session_len, 0);
    CHECK_EQ(zm_store_get(s, "k", 1, 99, a, &v), ZM_ENOTFOUND);
    CHECK_EQ(zm_store_get(s, "nope", 4, -1, a, &v), ZM_ENOTFOUND);
    zm_store_version *h;
    size_t n;
    CHECK_EQ(zm_store_history(s, "k", 1, -1, a, &h, &n), ZM_OK);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK_EQ(h[0].version, 1);
        CHECK_EQ(h[2].version, 3);
        CHECK(zm_json_is_array(h[1].value));
    }
    CHECK_EQ(zm_store_history(s, "k", 1, 199, a, &h, &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(zm_store_history(s, "k", 1, 50, a, &h, &n), ZM_ENOTFOUND);

    /* forget, then write again: the numbers go on */
    bool existed = false;
    CHECK_EQ(st_forget(s, "k", false, 300, &existed), ZM_OK);
    CHECK(existed);
    CHECK_EQ(zm_store_get(s, "k", 1, -1, a, &v), ZM_ENOTFOUND);
    CHECK(v.deleted);
    CHECK_EQ(v.version, 4);
    CHECK_EQ(st_forget(s, "k", false, 300, &existed), ZM_OK);
    CHECK(!existed);
    CHECK_EQ(zm_store_get(s, "k", 1, 250, a, &v), ZM_OK);
    CHECK_EQ(v.version, 3);
    CHECK_EQ(st_put(s, &ar, "k", "5", 400, &v), ZM_OK);
    CHECK_EQ(v.version, 5);
    /* purge: as if never written */
    CHECK_EQ(st_forget(s, "k", true, 500, &existed), ZM_OK);
    CHECK(existed);
    CHECK_EQ(zm_store_history(s, "k", 1, -1, a, &h, &n), ZM_ENOTFOUND);
    CHECK_EQ(st_forget(s, "k", true, 500, &existed), ZM_OK);
    CHECK(!existed);
    CHECK_EQ(st_put(s, &ar, "k", "1", 600, &v), ZM_OK);
    CHECK_EQ(v.version, 1);
    zm_store_stats stats;
    CHECK_EQ(zm_store_stats_get(s, &stats), ZM_OK);
    CHECK_EQ(stats.keys, 1);
    CHECK_EQ(stats.versions, 1);
    CHECK(stats.data_bytes > 0);
    zm_arena_deinit(&ar);
    zm_store_close(s);
}

static void test_max_versions(void) {
    zm_store_opts o;
    memset(&o, 0, sizeof o);
    o.limits.max_versions = 2;
    zm_store *s = NULL;
    char p[512];
    CHECK_EQ(zm_store_sqlite_open(st_path(p, sizeof p, "maxv.db"), &o, &s), ZM_OK);
    if (s == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_store_version v, *h;
    size_t n;
    for (int i = 1; i <= 5; i++) CHECK_EQ(st_put(s, &ar, "k", "1", i, &v), ZM_OK);
    CHECK_EQ(v.version, 5);
    CHECK_EQ(zm_store_history(s, "k", 1, -1, zm_arena_allocator(&ar), &h, &n), ZM_OK);
    CHECK_EQ(n, 2);
    if (n == 2) CHECK_EQ(h[0].version, 4);
    zm_arena_deinit(&ar);
    zm_store_close(s);
    CHECK(sq_consistent(p));
}

static void test_search(void) {
    zm_store *s = fresh();
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    CHECK_EQ(st_put(s, &ar, "apple", "{\"t\":\"a red fruit\",\"n\":[\"Apple pie\"]}", 1, NULL),
             ZM_OK);
    CHECK_EQ(st_put(s, &ar, "banana", "\"yellow fruit, apple-free\"", 1, NULL), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "cherry", "\"red\"", 1, NULL), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "gone", "\"red apple\"", 1, NULL), ZM_OK);
    CHECK_EQ(st_forget(s, "gone", false, 2, NULL), ZM_OK);
    zm_search_hit *h;
    size_t n, total;
    CHECK_EQ(zm_store_search(s, "red", 3, ZM_SEARCH_EXACT, 10, a, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    if (n == 1) {
        CHECK_STR(h[0].key, "cherry");
        CHECK(h[0].score == 0.5);
        CHECK_EQ(h[0].snippet_len, 3);
    }
    CHECK_EQ(zm_store_search(s, "app", 3, ZM_SEARCH_PREFIX, 10, a, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    if (n == 1) CHECK(h[0].score == 1.0);
    CHECK_EQ(zm_store_search(s, "apple", 5, ZM_SEARCH_SUBSTRING, 10, a, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(total, 2);
    if (n == 2) {
        CHECK_STR(h[0].key, "apple");
        CHECK(h[0].snippet == NULL);
        CHECK_STR(h[1].key, "banana");
        CHECK(h[1].snippet_len > 0 && memcmp(h[1].snippet, "yellow", 6) == 0);
    }
    CHECK_EQ(zm_store_search(s, "", 0, ZM_SEARCH_SUBSTRING, 1, a, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(total, 3);
    CHECK_EQ(zm_store_search(s, "RED apple", 9, ZM_SEARCH_TOKEN, 10, a, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 3);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK_STR(h[0].key, "apple");
        CHECK(h[0].score > h[1].score);
        CHECK(h[0].snippet != NULL && h[0].snippet_len > 0);
    }
    CHECK_EQ(zm_store_search(s, "...", 3, ZM_SEARCH_TOKEN, 10, a, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 0);
    CHECK_EQ(zm_store_search(s, "fruit", 5, ZM_SEARCH_TOKEN, 0, a, &h, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(total, 2);
    /* Writes waiting for search before a transaction, from this store and
       from another, are found inside it, before and after it writes; so
       are those of a committed transaction. */
    zm_store *other = NULL;
    CHECK_EQ(zm_store_sqlite_open(db_path, NULL, &other), ZM_OK);
    if (other != NULL) {
        CHECK_EQ(st_put(other, &ar, "date", "\"brown fruit\"", 1, NULL), ZM_OK);
        zm_store_close(other);
    }
    CHECK_EQ(st_put(s, &ar, "elder", "\"black fruit\"", 1, NULL), ZM_OK);
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(zm_store_search(s, "fruit", 5, ZM_SEARCH_TOKEN, 10, a, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 4);
    CHECK_EQ(st_put(s, &ar, "fig", "\"purple fruit\"", 1, NULL), ZM_OK);
    CHECK_EQ(zm_store_search(s, "fruit", 5, ZM_SEARCH_TOKEN, 10, a, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 5);
    CHECK_EQ(zm_store_commit(s), ZM_OK);
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "grape", "\"green fruit\"", 1, NULL), ZM_OK);
    CHECK_EQ(zm_store_commit(s), ZM_OK);
    CHECK_EQ(zm_store_search(s, "fruit", 5, ZM_SEARCH_TOKEN, 10, a, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 6);
    CHECK_EQ(zm_store_search(s, "green fruit", 11, ZM_SEARCH_EXACT, 10, a, &h, &n, &total), ZM_OK);
    CHECK_EQ(total, 1);
    zm_arena_deinit(&ar);
    zm_store_close(s);
}

static void test_graph(void) {
    zm_store *s = fresh();
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    bool c;
    CHECK_EQ(st_link(s, "a", "b", "knows", &c), ZM_OK);
    CHECK(c);
    CHECK_EQ(st_link(s, "a", "b", "knows", &c), ZM_OK);
    CHECK(!c);
    CHECK_EQ(st_link(s, "c", "a", "likes", &c), ZM_OK);
    CHECK_EQ(st_link(s, "a", "d", "knows", &c), ZM_OK);
    CHECK_EQ(st_link(s, "b", "e", "knows", &c), ZM_OK);
    CHECK_EQ(st_link(s, "e", "a", "knows", &c), ZM_OK);
    zm_store_walk w = {"a", 1, NULL, 0, ZM_STORE_BOTH, 2, 100};
    zm_store_hit *h;
    size_t n;
    bool tr;
    CHECK_EQ(zm_store_neighbors(s, &w, zm_arena_allocator(&ar), &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 4);
    if (n == 4) {
        CHECK_STR(h[0].node, "b");
        CHECK_STR(h[1].node, "d");
        CHECK_STR(h[2].node, "c"); /* incoming after outgoing */
        CHECK(!h[2].outgoing);
        CHECK_STR(h[2].edge.from, "c");
        CHECK_STR(h[2].edge.to, "a");
        CHECK_STR(h[3].node, "e");
        CHECK_EQ(h[3].depth, 1);
    }
    CHECK(!tr);
    w.limit = 2;
    CHECK_EQ(zm_store_neighbors(s, &w, zm_arena_allocator(&ar), &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK(tr);
    w.limit = 0;
    CHECK_EQ(zm_store_neighbors(s, &w, zm_arena_allocator(&ar), &h, &n, &tr), ZM_OK);
    CHECK(tr);
    w.limit = 100;
    w.relation = "likes";
    w.relation_len = 5;
    CHECK_EQ(zm_store_neighbors(s, &w, zm_arena_allocator(&ar), &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 1);
    w.relation = NULL;
    w.dir = ZM_STORE_OUT;
    w.max_depth = 3;
    CHECK_EQ(zm_store_neighbors(s, &w, zm_arena_allocator(&ar), &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 3); /* b, d, then e at depth 2 */
    if (n == 3) CHECK_EQ(h[2].depth, 2);
    bool removed;
    CHECK_EQ(zm_store_unlink(s, "a", 1, "b", 1, "knows", 5, &removed), ZM_OK);
    CHECK(removed);
    CHECK_EQ(zm_store_unlink(s, "a", 1, "b", 1, "knows", 5, &removed), ZM_OK);
    CHECK(!removed);
    w.node = "zz";
    w.node_len = 2;
    CHECK_EQ(zm_store_neighbors(s, &w, zm_arena_allocator(&ar), &h, &n, &tr), ZM_OK);
    CHECK_EQ(n, 0);
    zm_store_stats stats;
    CHECK_EQ(zm_store_stats_get(s, &stats), ZM_OK);
    CHECK_EQ(stats.nodes, 5);
    CHECK_EQ(stats.edges, 4);
    zm_arena_deinit(&ar);
    zm_store_close(s);
}

static void test_transactions(void) {
    zm_store *s = fresh();
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    char buf[64];
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "x", "1", 1, NULL), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "y", "2", 1, NULL), ZM_OK);
    CHECK_EQ(st_get_text(s, "x", buf, sizeof buf), ZM_OK); /* its own writes */
    CHECK_EQ(zm_store_rollback(s), ZM_OK);
    CHECK_EQ(st_get_text(s, "x", buf, sizeof buf), ZM_ENOTFOUND);
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "x", "1", 1, NULL), ZM_OK);
    CHECK_EQ(st_link(s, "x", "y", "r", NULL), ZM_OK);
    CHECK_EQ(st_forget(s, "x", false, 2, NULL), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "x", "3", 3, NULL), ZM_OK);
    CHECK_EQ(zm_store_commit(s), ZM_OK);
    CHECK_EQ(st_get_text(s, "x", buf, sizeof buf), ZM_OK);
    CHECK_STR(buf, "3");
    CHECK_EQ(zm_store_commit(s), ZM_EINVAL);
    /* export: every version, key by key */
    zm_store_cursor *c;
    CHECK_EQ(zm_store_export_open(s, zm_arena_allocator(&ar), &c), ZM_OK);
    zm_store_record r;
    bool done = false;
    int count = 0;
    int edges = 0;
    while (zm_store_cursor_next(c, &r, &done) == ZM_OK && !done) {
        if (r.kind == ZM_STORE_RECORD_EDGE) {
            CHECK_STR(r.edge.from, "x");
            CHECK_STR(r.edge.to, "y");
            edges++;
            continue;
        }
        CHECK_EQ(edges, 0); /* versions first */
        CHECK_STR(r.key, "x");
        CHECK_EQ(r.v.version, (uint64_t)++count);
    }
    zm_store_cursor_close(c);
    CHECK_EQ(count, 3);
    CHECK_EQ(edges, 1);
    zm_arena_deinit(&ar);
    zm_store_close(s);
    CHECK(sq_consistent(db_path));
}

/* ---------------------------------------------------------------------------
 * What a file has
 * ------------------------------------------------------------------------- */

/* Quotes, backslashes, NUL bytes and SQL in keys, values, metadata, agent
   and session ids come back byte for byte, also after reopening. */
static void test_round_trip(void) {
    static const char key[] = "k'\"\\\0x'); DROP TABLE zmem_keys; --";
    static const char json[] = "{\"a'\\\"\":\"v\\u0000'; DELETE FROM zmem_versions; --\\\\\","
                               "\"n\":[1.5,-0.0,12345678901234567890123,\"\\u0000\"]}";
    static const char meta[] = "{\"m\":\"\\\"'\\u0000\"}";
    static const char agent[] = "ag\0ent'";
    char p[512];
    st_path(p, sizeof p, "round.db");
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    for (int pass = 0; pass < 2; pass++) {
        zm_store *s = NULL;
        CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
        if (s == NULL) break;
        zm_json *value = ST_JSON(&ar, json), *md = ST_JSON(&ar, meta);
        if (pass == 0) {
            zm_store_write w = {
                key, sizeof key - 1, value, md, agent, sizeof agent - 1, "s\0'", 3, 7, 0};
            CHECK_EQ(zm_store_put(s, &w, NULL), ZM_OK);
        }
        zm_store_version v;
        CHECK_EQ(zm_store_get(s, key, sizeof key - 1, -1, zm_arena_allocator(&ar), &v), ZM_OK);
        CHECK(zt_json_eq(v.value, value));
        CHECK(v.metadata != NULL && zt_json_eq(v.metadata, md));
        CHECK_EQ(v.agent_len, sizeof agent - 1);
        CHECK(memcmp(v.agent, agent, sizeof agent - 1) == 0);
        CHECK_EQ(v.session_len, 3);
        zm_search_hit *h;
        size_t n, total;
        CHECK_EQ(zm_store_search(s, key, sizeof key - 1, ZM_SEARCH_EXACT, 5,
                                 zm_arena_allocator(&ar), &h, &n, &total),
                 ZM_OK);
        CHECK_EQ(n, 1);
        if (n == 1)
            CHECK(h[0].key_len == sizeof key - 1 && memcmp(h[0].key, key, h[0].key_len) == 0);
        CHECK_EQ(zm_store_search(s, "\0'", 2, ZM_SEARCH_SUBSTRING, 5, zm_arena_allocator(&ar), &h,
                                 &n, &total),
                 ZM_OK);
        CHECK_EQ(total, 1);
        bool c;
        zm_store_link_req l = {key, key, "'\\", sizeof key - 1,   sizeof key - 1,
                               2,   md,  agent, sizeof agent - 1, 1};
        CHECK_EQ(zm_store_link(s, &l, &c), ZM_OK);
        zm_store_walk w = {key, sizeof key - 1, NULL, 0, ZM_STORE_OUT, 1, 5};
        zm_store_hit *hits;
        bool tr;
        CHECK_EQ(zm_store_neighbors(s, &w, zm_arena_allocator(&ar), &hits, &n, &tr), ZM_OK);
        CHECK_EQ(n, 0); /* a self-loop reaches only the start */
        zm_store_close(s);
    }
    zm_arena_deinit(&ar);
    CHECK(sq_consistent(p));
}

static void test_bad_paths(void) {
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(st_dir, NULL, &s), ZM_EIO);
    CHECK(strstr(zm_store_errmsg(), "is a directory") != NULL);
    CHECK_EQ(zm_store_sqlite_open("/proc/zmem-no/such.db", NULL, &s), ZM_EIO);
    CHECK(strstr(zm_store_errmsg(), "/proc/zmem-no/such.db") != NULL);
    CHECK_EQ(zm_store_sqlite_open("", NULL, &s), ZM_EINVAL);
    zm_store_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.read_only = true;
    char p[512];
    CHECK_EQ(zm_store_sqlite_open(st_path(p, sizeof p, "missing.db"), &ro, &s), ZM_EIO);
    /* created with mode 0600, and so are its -wal and -shm */
    st_path(p, sizeof p, "mode.db");
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    struct stat sb;
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", p);
    CHECK(stat(wal, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    zm_store_close(s);
    /* a file the user may not write (root may write anything: skipped) */
    if (geteuid() != 0) {
        chmod(p, 0400);
        CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_EIO);
        CHECK(strstr(zm_store_errmsg(), "not writable") != NULL);
        CHECK_EQ(zm_store_sqlite_open(p, &ro, &s), ZM_OK);
        zm_store_close(s);
        chmod(p, 0600);
    }
}

/* A full disk, as a file-size limit in a child process: the writes that do
   not fit fail with ZM_EIO and a message, the process goes on, and the
   database stays consistent and usable. */
static void test_full_disk(void) {
    char p[512];
    st_path(p, sizeof p, "full.db");
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {256 << 10, 256 << 10};
        setrlimit(RLIMIT_FSIZE, &rl);
        zm_store *s = NULL;
        if (zm_store_sqlite_open(p, NULL, &s) != ZM_OK) _exit(2);
        zm_arena ar;
        zm_arena_init(&ar, zm_default_allocator());
        char big[4200], key[32];
        memset(big, 'x', sizeof big);
        big[0] = '"';
        big[sizeof big - 2] = '"';
        big[sizeof big - 1] = '\0';
        zm_status st = ZM_OK;
        int i;
        for (i = 0; i < 1000 && st == ZM_OK; i++) {
            snprintf(key, sizeof key, "k%d", i);
            st = st_put(s, &ar, key, big, i, NULL);
            zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
        }
        int code = 0;
        if (st != ZM_EIO) code = 3;
        if (strstr(zm_store_errmsg(), "full.db") == NULL) code = 4;
        fprintf(stderr, "full disk after %d writes: %s: %s\n", i - 1, zm_status_str(st),
                zm_store_errmsg());
        /* still usable for reads */
        char buf[8];
        if (st_get_text(s, "k0", buf, sizeof buf) != ZM_OK) code = 5;
        zm_arena_deinit(&ar);
        zm_store_close(s);
        _exit(code);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(sq_consistent(p));
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    if (s == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    CHECK_EQ(st_put(s, &ar, "after", "1", 1, NULL), ZM_OK);
    zm_arena_deinit(&ar);
    zm_store_close(s);
    CHECK(sq_consistent(p));
}

/* After a purge no byte of the key or its values is left in the database
   file or its log. */
static void test_purge_bytes(void) {
    char p[512], wal[600];
    st_path(p, sizeof p, "purge.db");
    snprintf(wal, sizeof wal, "%s-wal", p);
    static const char marker[] = "Zq7MARKERpurge";
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    if (s == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    char key[64], val[128];
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "other%d", i);
        CHECK_EQ(st_put(s, &ar, key, "\"some other text to index\"", i, NULL), ZM_OK);
        if (i % 50 == 0) {
            snprintf(val, sizeof val, "{\"v\":\"%s value %d\"}", marker, i);
            CHECK_EQ(st_put(s, &ar, "Zq7MARKERkey", val, i, NULL), ZM_OK);
            CHECK_EQ(st_link(s, "node", "Zq7MARKERkey", "rel", NULL), ZM_OK);
        }
    }
    zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    CHECK(file_holds(p, marker, sizeof marker - 1) || file_holds(wal, marker, sizeof marker - 1));
    bool existed = false;
    CHECK_EQ(st_forget(s, "Zq7MARKERkey", true, 1000, &existed), ZM_OK);
    CHECK(existed);
    bool removed;
    CHECK_EQ(zm_store_unlink(s, "node", 4, "Zq7MARKERkey", 12, "rel", 3, &removed), ZM_OK);
    CHECK(!file_holds(p, marker, sizeof marker - 1));
    CHECK(!file_holds(wal, marker, sizeof marker - 1));
    CHECK(!file_holds(p, "zq7markerpurge", 14)); /* its tokens */
    CHECK(!file_holds(wal, "zq7markerpurge", 14));
    zm_search_hit *h;
    size_t n, total;
    CHECK_EQ(
        zm_store_search(s, "other", 5, ZM_SEARCH_TOKEN, 5, zm_arena_allocator(&ar), &h, &n, &total),
        ZM_OK);
    CHECK_EQ(total, 300);
    zm_arena_deinit(&ar);
    zm_store_close(s);
    CHECK(sq_consistent(p));
}

/* A writer holding the database past the busy timeout: the other gets
   ZM_EBUSY and a message, and nothing changed. */
static void test_busy(void) {
    char p[512];
    st_path(p, sizeof p, "busy.db");
    zm_store_opts o;
    memset(&o, 0, sizeof o);
    o.busy_timeout_ms = 50;
    zm_store *s1 = NULL, *s2 = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, &o, &s1), ZM_OK);
    CHECK_EQ(zm_store_sqlite_open(p, &o, &s2), ZM_OK);
    if (s1 == NULL || s2 == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    CHECK_EQ(zm_store_begin(s1), ZM_OK);
    CHECK_EQ(st_put(s1, &ar, "k", "1", 1, NULL), ZM_OK);
    CHECK_EQ(st_put(s2, &ar, "k", "2", 1, NULL), ZM_EBUSY);
    CHECK(strstr(zm_store_errmsg(), "locked") != NULL);
    char buf[16];
    CHECK_EQ(st_get_text(s2, "k", buf, sizeof buf), ZM_ENOTFOUND); /* readers do not wait */
    CHECK_EQ(zm_store_commit(s1), ZM_OK);
    zm_store_version v;
    CHECK_EQ(st_put(s2, &ar, "k", "2", 1, &v), ZM_OK);
    CHECK_EQ(v.version, 2);
    zm_arena_deinit(&ar);
    zm_store_close(s1);
    zm_store_close(s2);
    CHECK(sq_consistent(p));
}

/* The latest version number of key, read with SQLite directly (its default
   VFS) on db; 0 when the key has none, -1 on error. */
static int64_t raw_latest(sqlite3 *db, const char *key) {
    sqlite3_stmt *q = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT coalesce(max(v.version), 0) FROM zmem_versions v JOIN "
                           "zmem_keys k ON k.id = v.key_id WHERE k.key = CAST(?1 AS BLOB)",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* The store gathers the WAL frames of a commit into one write: a write is
   in the file for any other connection as soon as it is acknowledged, and
   a rolled-back transaction that spilled frames to the log leaves nothing
   over what another writer commits after it. */
static void test_wal_gathering(void) {
    char p[512];
    st_path(p, sizeof p, "gather.db");
    zm_store *s1, *s2;
    sqlite3 *raw;
    if (!st_open_two(p, &s1, &s2, &raw)) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    for (int i = 1; i <= 40; i++) {
        char v[32];
        snprintf(v, sizeof v, "%d", i);
        CHECK_EQ(st_put(i % 2 ? s1 : s2, &ar, "g", v, i, NULL), ZM_OK);
        CHECK_EQ(raw_latest(raw, "g"), i);
    }
    /* A transaction larger than SQLite's page cache (4.8 MB against 2 MB)
       spills frames to the log, then rolls back; the other store commits
       at the same place in the log, then the first writes again. */
    size_t big = 16384;
    char *text = st_json_xs(big);
    if (text == NULL) return;
    CHECK_EQ(zm_store_begin(s1), ZM_OK);
    for (int i = 0; i < 300; i++) {
        char key[32];
        snprintf(key, sizeof key, "spill/%d", i);
        text[1 + i % big] = (char)('a' + i % 26);
        CHECK_EQ(st_put(s1, &ar, key, text, 100, NULL), ZM_OK);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    CHECK_EQ(zm_store_rollback(s1), ZM_OK);
    for (int i = 1; i <= 20; i++) {
        char key[32];
        snprintf(key, sizeof key, "other/%d", i);
        CHECK_EQ(st_put(s2, &ar, key, "\"kept\"", 200, NULL), ZM_OK);
    }
    CHECK_EQ(st_put(s1, &ar, "g", "41", 300, NULL), ZM_OK);
    char buf[32];
    for (int i = 1; i <= 20; i++) {
        char key[32];
        snprintf(key, sizeof key, "other/%d", i);
        CHECK_EQ(st_get_text(s1, key, buf, sizeof buf), ZM_OK);
        CHECK_STR(buf, "\"kept\"");
        CHECK_EQ(raw_latest(raw, key), 1);
    }
    CHECK_EQ(raw_latest(raw, "g"), 41);
    CHECK_EQ(raw_latest(raw, "spill/0"), 0);
    sqlite3_stmt *q = NULL; /* a new database has 2 KiB pages */
    CHECK_EQ(sqlite3_prepare_v2(raw, "PRAGMA page_size", -1, &q, NULL), SQLITE_OK);
    CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    CHECK_EQ(sqlite3_column_int(q, 0), 2048);
    sqlite3_finalize(q);
    free(text);
    zm_arena_deinit(&ar);
    sqlite3_close(raw);
    zm_store_close(s1);
    zm_store_close(s2);
    CHECK(sq_consistent(p));
}

/* The rows of table in the database at db, with SQLite directly; -1 on
   error. */
static int64_t raw_count(sqlite3 *db, const char *table) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *q = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

/* Keys wait for search in bulk, in transactions too, and never more than
   a bound (2048): a long transaction indexes on its way. A search indexes
   whatever waits. */
static void test_queue_bound(void) {
    char p[512];
    st_path(p, sizeof p, "queue.db");
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    sqlite3 *raw = NULL;
    CHECK_EQ(sqlite3_open_v2(p, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (s == NULL || raw == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    for (int t = 0; t < 2; t++) {
        CHECK_EQ(zm_store_begin(s), ZM_OK);
        for (int i = 0; i < 1500; i++) {
            char key[32];
            snprintf(key, sizeof key, "q/%d/%d", t, i);
            CHECK_EQ(st_put(s, &ar, key, "\"queued words\"", 1, NULL), ZM_OK);
            zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
        }
        CHECK_EQ(zm_store_commit(s), ZM_OK);
        long long waiting = sq_waiting(raw);
        CHECK(waiting > 0 && waiting < 2048);
        CHECK_EQ(raw_count(raw, "zmem_fts") + waiting, 1500 * (t + 1));
    }
    zm_search_hit *h;
    size_t n, total;
    CHECK_EQ(zm_store_search(s, "queued", 6, ZM_SEARCH_TOKEN, 1, zm_arena_allocator(&ar), &h, &n,
                             &total),
             ZM_OK);
    CHECK_EQ(total, 3000);
    CHECK_EQ(sq_waiting(raw), 0);
    zm_arena_deinit(&ar);
    sqlite3_close(raw);
    zm_store_close(s);
    CHECK(sq_consistent(p));
}

/* The size of the file at path (0 when missing). */
static long long file_size(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* The log (-wal) is checkpointed when a commit leaves it past 4,000 pages
   (not SQLite's default 1,000): over single writes it grows past 2,000
   pages and never past 4,000 and one commit's pages. After a transaction
   larger than 16 MiB, the log is cut back to 16 MiB when it starts over. */
static void test_log_bound(void) {
    char p[512], wal[600];
    st_path(p, sizeof p, "log.db");
    snprintf(wal, sizeof wal, "%s-wal", p);
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    if (s == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    const long long frame = 2048 + 24;
    long long most = 0;
    for (int i = 0; i < 3000; i++) {
        char key[32];
        snprintf(key, sizeof key, "log/%d", i);
        CHECK_EQ(st_put(s, &ar, key, "\"a few words\"", 1, NULL), ZM_OK);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
        long long n = file_size(wal);
        if (n > most) most = n;
    }
    CHECK(most > 2000 * frame);
    CHECK(most <= 4100 * frame);
    /* One transaction of 20 MiB: the log holds it whole. */
    size_t big = (size_t)1 << 20;
    char *text = st_json_xs(big);
    if (text == NULL) return;
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    for (int i = 0; i < 20; i++) {
        char key[32];
        snprintf(key, sizeof key, "big/%d", i);
        text[1] = (char)('a' + i);
        CHECK_EQ(st_put(s, &ar, key, text, 2, NULL), ZM_OK);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    CHECK_EQ(zm_store_commit(s), ZM_OK);
    free(text);
    CHECK(file_size(wal) > 20LL << 20);
    /* Checkpointed at that commit; the next write starts the log over. */
    CHECK_EQ(st_put(s, &ar, "after", "1", 3, NULL), ZM_OK);
    CHECK(file_size(wal) <= 16LL << 20);
    zm_arena_deinit(&ar);
    zm_store_close(s);
    CHECK(sq_consistent(p));
}

int main(void) {
    st_tmpdir("sqlite");
    RUN(test_versions);
    RUN(test_max_versions);
    RUN(test_search);
    RUN(test_graph);
    RUN(test_transactions);
    RUN(test_round_trip);
    RUN(test_bad_paths);
    RUN(test_full_disk);
    RUN(test_purge_bytes);
    RUN(test_busy);
    RUN(test_wal_gathering);
    RUN(test_queue_bound);
    RUN(test_log_bound);
    st_rmdir();
    return zt_finish("store_sqlite");
}
