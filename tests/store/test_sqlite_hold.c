/* Held reads (zm_store_opts.hold_reads): a store that keeps its last read
   transaction open between calls reads every write acknowledged since, by
   another connection, another process or itself, in every kind of read;
   the transaction it holds is real (a checkpoint that restarts the log
   waits for it) and zm_store_idle gives it back. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/wait.h>

#include <stdatomic.h>

#include "sqlite_test.h"
#include "zmem/arena.h"

/* Opens path with hold_reads. */
static zm_store *open_holding(const char *path) {
    zm_store_opts o;
    memset(&o, 0, sizeof o);
    o.hold_reads = true;
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(path, &o, &s), ZM_OK);
    return s;
}

/* The latest version number of key in s, 0 when none (through get). */
static uint64_t version_of(zm_store *s, const char *key) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_store_version v;
    uint64_t n =
        zm_store_get(s, key, strlen(key), -1, zm_arena_allocator(&ar), &v) == ZM_OK ? v.version : 0;
    zm_arena_deinit(&ar);
    return n;
}

/* How many keys a token search of word finds in s. */
static size_t found(zm_store *s, const char *word) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_search_hit *h;
    size_t n = 0, total = 0;
    CHECK_EQ(zm_store_search(s, word, strlen(word), ZM_SEARCH_TOKEN, 10, zm_arena_allocator(&ar),
                             &h, &n, &total),
             ZM_OK);
    zm_arena_deinit(&ar);
    return total;
}

/* The number of versions history lists for key. */
static size_t history_len(zm_store *s, const char *key) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_store_version *v;
    size_t n = 0;
    (void)zm_store_history(s, key, strlen(key), -1, zm_arena_allocator(&ar), &v, &n);
    zm_arena_deinit(&ar);
    return n;
}

/* The neighbours of node. */
static size_t neighbours(zm_store *s, const char *node) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_store_walk w = {node, strlen(node), NULL, 0, ZM_STORE_BOTH, 1, 100};
    zm_store_hit *h;
    size_t n = 0;
    bool tr;
    CHECK_EQ(zm_store_neighbors(s, &w, zm_arena_allocator(&ar), &h, &n, &tr), ZM_OK);
    zm_arena_deinit(&ar);
    return n;
}

/* Runs PRAGMA wal_checkpoint(TRUNCATE) on raw (which waits for no one):
   1 when a reader kept it from restarting the log (busy), 0 when it did,
   -1 on an error. */
static int truncate_busy(sqlite3 *raw) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(raw, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &q, NULL) != SQLITE_OK)
        return -1;
    int busy = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
    sqlite3_finalize(q);
    return busy;
}

/* Another connection's writes, each kind of read after each. */
static void test_sees_other_connection(void) {
    char p[512];
    st_path(p, sizeof p, "conn.db");
    zm_store *w = NULL, *r = open_holding(p);
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &w), ZM_OK);
    if (r == NULL || w == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    CHECK_EQ(st_put(w, &ar, "k", "{\"t\":\"first words\"}", 1, NULL), ZM_OK);
    CHECK_EQ(version_of(r, "k"), 1);
    CHECK_EQ(version_of(r, "k"), 1); /* a held read */
    for (int i = 2; i <= 6; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"t\":\"word%d\"}", i);
        CHECK_EQ(st_put(w, &ar, "k", json, i, NULL), ZM_OK);
        CHECK_EQ(version_of(r, "k"), (uint64_t)i);
        uint64_t head = 0;
        CHECK_EQ(zm_store_head(r, "k", 1, zm_arena_allocator(&ar), &head), ZM_OK);
        CHECK_EQ(head, (uint64_t)i);
        CHECK_EQ(history_len(r, "k"), (size_t)i);
        snprintf(json, sizeof json, "word%d", i);
        CHECK_EQ(found(r, json), 1);
        CHECK_EQ(neighbours(r, "n"), (size_t)(i - 2));
        char to[16];
        snprintf(to, sizeof to, "m%d", i);
        CHECK_EQ(st_link(w, "n", to, "r", NULL), ZM_OK);
        CHECK_EQ(neighbours(r, "n"), (size_t)(i - 1));
    }
    CHECK_EQ(st_forget(w, "k", false, 10, NULL), ZM_OK);
    CHECK_EQ(version_of(r, "k"), 0);
    zm_arena_deinit(&ar);
    zm_store_close(r);
    zm_store_close(w);
}

/* The holding store's own writes, and a transaction of its own. */
static void test_own_writes(void) {
    char p[512];
    st_path(p, sizeof p, "own.db");
    zm_store *s = open_holding(p);
    if (s == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    CHECK_EQ(st_put(s, &ar, "k", "1", 1, NULL), ZM_OK);
    CHECK_EQ(version_of(s, "k"), 1);
    CHECK_EQ(st_put(s, &ar, "k", "2", 2, NULL), ZM_OK); /* ends the held read */
    CHECK_EQ(version_of(s, "k"), 2);
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "k", "3", 3, NULL), ZM_OK);
    CHECK_EQ(version_of(s, "k"), 3);
    CHECK_EQ(zm_store_commit(s), ZM_OK);
    CHECK_EQ(version_of(s, "k"), 3);
    CHECK_EQ(st_forget(s, "k", true, 4, NULL), ZM_OK); /* a purge checkpoints */
    CHECK_EQ(version_of(s, "k"), 0);
    zm_arena_deinit(&ar);
    zm_store_close(s);
}

/* This program's path: the writer of test_sees_other_process runs it again
   (a new process image, so that nothing of this one's is in it). */
static const char *self;

/* The writer: stores value under key k of the database at path. */
static int writer_main(const char *path, const char *value) {
    zm_store *w = NULL;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    int ok = zm_store_sqlite_open(path, NULL, &w) == ZM_OK &&
             st_put(w, &ar, "k", value, atoi(value), NULL) == ZM_OK;
    zm_store_close(w);
    zm_arena_deinit(&ar);
    return ok ? 0 : 1;
}

/* Another process's writes: the held read sees each one its writer
   acknowledged. */
static void test_sees_other_process(void) {
    char p[512];
    st_path(p, sizeof p, "proc.db");
    zm_store *r = open_holding(p);
    if (r == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    CHECK_EQ(st_put(r, &ar, "k", "1", 1, NULL), ZM_OK);
    for (int i = 2; i <= 5; i++) {
        CHECK_EQ(version_of(r, "k"), (uint64_t)(i - 1)); /* held */
        char value[16];
        snprintf(value, sizeof value, "%d", i);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            execl(self, self, "write", p, value, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK_EQ(version_of(r, "k"), (uint64_t)i);
    }
    zm_arena_deinit(&ar);
    zm_store_close(r);
}

/* The held read is a real transaction: a checkpoint that restarts the log
   waits for it; after zm_store_idle it does not. Without hold_reads none is
   held. */
static void test_idle_gives_back(void) {
    char p[512];
    st_path(p, sizeof p, "idle.db");
    zm_store *r = open_holding(p), *w = NULL, *plain = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &w), ZM_OK);
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &plain), ZM_OK);
    sqlite3 *raw = NULL;
    CHECK_EQ(sqlite3_open(p, &raw), SQLITE_OK);
    if (r == NULL || w == NULL || plain == NULL || raw == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    CHECK_EQ(st_put(w, &ar, "k", "1", 1, NULL), ZM_OK);
    CHECK_EQ(version_of(r, "k"), 1); /* the first read maps the wal-index */
    CHECK_EQ(st_put(w, &ar, "k", "2", 2, NULL), ZM_OK);
    CHECK_EQ(version_of(r, "k"), 2); /* held, with the log in use */
    CHECK_EQ(version_of(plain, "k"), 2);
    CHECK_EQ(truncate_busy(raw), 1);
    zm_store_idle(r);
    CHECK_EQ(truncate_busy(raw), 0);
    zm_store_idle(r); /* twice is nothing */
    CHECK_EQ(version_of(r, "k"), 2);
    zm_arena_deinit(&ar);
    sqlite3_close(raw);
    zm_store_close(plain);
    zm_store_close(w);
    zm_store_close(r);
}

/* Threads on one holding store: two read while a third writes through it
   and another connection writes: a reader never sees a version go back,
   and after the writers, every reader sees the last one. */
enum { THREAD_WRITES = 200 };

typedef struct reader {
    zm_store *s;
    bool idles; /* idles the store after each read */
    bool wrong;
    atomic_bool *done;
} reader;

static void *read_loop(void *arg) {
    reader *r = arg;
    uint64_t last = 0;
    while (!atomic_load(r->done)) {
        uint64_t v = version_of(r->s, "t");
        if (v < last) r->wrong = true;
        last = v;
        if (r->idles) zm_store_idle(r->s);
    }
    if (version_of(r->s, "t") != 2 * THREAD_WRITES) r->wrong = true;
    return NULL;
}

typedef struct writer {
    zm_store *s;
    bool failed;
} writer;

static void *write_loop(void *arg) {
    writer *w = arg;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    for (int i = 0; i < THREAD_WRITES; i++) {
        if (st_put(w->s, &ar, "t", "1", i, NULL) != ZM_OK) w->failed = true;
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    zm_arena_deinit(&ar);
    return NULL;
}

static void test_threads(void) {
    char p[512];
    st_path(p, sizeof p, "threads.db");
    zm_store *s = open_holding(p), *other = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &other), ZM_OK);
    if (s == NULL || other == NULL) return;
    atomic_bool done = false;
    reader rd[2] = {{s, true, false, &done}, {s, false, false, &done}};
    writer wr[2] = {{s, false}, {other, false}};
    pthread_t rt[2], wt[2];
    for (int i = 0; i < 2; i++) CHECK_EQ(pthread_create(&rt[i], NULL, read_loop, &rd[i]), 0);
    for (int i = 0; i < 2; i++) CHECK_EQ(pthread_create(&wt[i], NULL, write_loop, &wr[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(wt[i], NULL);
    atomic_store(&done, true);
    for (int i = 0; i < 2; i++) pthread_join(rt[i], NULL);
    for (int i = 0; i < 2; i++) {
        CHECK(!wr[i].failed);
        CHECK(!rd[i].wrong);
    }
    CHECK_EQ(version_of(s, "t"), 2 * THREAD_WRITES);
    zm_store_close(other);
    zm_store_close(s);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "write") == 0) return writer_main(argv[2], argv[3]);
    self = argv[0];
    st_tmpdir("sqlite-hold");
    RUN(test_sees_other_connection);
    RUN(test_own_writes);
    RUN(test_sees_other_process);
    RUN(test_idle_gives_back);
    RUN(test_threads);
    st_rmdir();
    return zt_finish("store_sqlite_hold");
}
