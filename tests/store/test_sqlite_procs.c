/* Several processes writing overlapping keys of one database at once (one
   of them in transactions, one forgetting now and then): per key the
   versions run 1, 2, 3, ... with no duplicate and no gap, every version a
   process was told it wrote holds that process's value, and the file is
   consistent. Also: opening a database another process holds waits for it
   (the busy timeout applies from the connection's first statement). */
#define _GNU_SOURCE
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sqlite_check.h"
#include "sqlite_test.h"

#define PROCS 4
#define KEYS  6

/* One writer: n writes over the keys, reporting "key version" per write. */
static void writer(const char *path, int id, int n, int out) {
    zm_store *s = NULL;
    zm_store_opts o;
    memset(&o, 0, sizeof o);
    o.busy_timeout_ms = 60000;
    if (zm_store_sqlite_open(path, &o, &s) != ZM_OK) {
        fprintf(stderr, "writer %d: %s\n", id, zm_store_errmsg());
        _exit(2);
    }
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    char key[16], val[64], line[64];
    for (int i = 0; i < n; i++) {
        int k = (i * 7 + id) % KEYS;
        snprintf(key, sizeof key, "k%d", k);
        snprintf(val, sizeof val, "{\"w\":%d,\"i\":%d}", id, i);
        zm_store_version v;
        bool txn = id == 1 && i % 3 == 0;
        if (txn && zm_store_begin(s) != ZM_OK) {
            fprintf(stderr, "w%d begin: %s\n", id, zm_store_errmsg());
            _exit(3);
        }
        zm_status st = st_put(s, &ar, key, val, i, &v);
        if (st != ZM_OK) {
            fprintf(stderr, "writer %d: %s: %s\n", id, zm_status_str(st), zm_store_errmsg());
            _exit(4);
        }
        if (txn && zm_store_commit(s) != ZM_OK) {
            fprintf(stderr, "w%d commit: %s\n", id, zm_store_errmsg());
            _exit(5);
        }
        int len = snprintf(line, sizeof line, "%d %llu %d\n", k, (unsigned long long)v.version, i);
        if (write(out, line, (size_t)len) != len) {
            fprintf(stderr, "w%d pipe\n", id);
            _exit(6);
        }
        if (id == 2 && i % 10 == 9) {
            zm_store_version d;
            zm_store_write w = {key, strlen(key), NULL, NULL, NULL, 0, NULL, 0, i, 0};
            bool existed;
            if (zm_store_forget(s, &w, false, &d, &existed) != ZM_OK) {
                fprintf(stderr, "w%d forget: %s\n", id, zm_store_errmsg());
                _exit(7);
            }
            if (existed) {
                len = snprintf(line, sizeof line, "%d %llu -1\n", k, (unsigned long long)d.version);
                if (write(out, line, (size_t)len) != len) {
                    fprintf(stderr, "w%d pipe\n", id);
                    _exit(6);
                }
            }
        }
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    zm_arena_deinit(&ar);
    zm_store_close(s);
    _exit(0);
}

/* writer id and write index of each (key, version), -2 when not reported */
static int owner[KEYS][4096], index_of[KEYS][4096];

/* A process holds the whole file (SQLite's exclusive locking mode, in a
   write transaction) while the store is opened: the open waits, within its
   busy timeout, and succeeds once the file is let go, where it used to be
   refused at once with ZM_EBUSY. */
static void test_open_waits(void) {
    char path[512];
    st_path(path, sizeof path, "held.db");
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(path, NULL, &s), ZM_OK);
    zm_store_close(s);
    int held[2];
    if (pipe(held) != 0) return;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(held[0]);
        sqlite3 *db = NULL;
        int rc = sqlite3_open(path, &db);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db,
                              "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; "
                              "CREATE TABLE held(x)",
                              NULL, NULL, NULL);
        char c = rc == SQLITE_OK ? 'y' : 'n';
        if (write(held[1], &c, 1) != 1) _exit(3);
        struct timespec ts = {0, 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
        rc = sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
        _exit(rc == SQLITE_OK ? 0 : 4);
    }
    close(held[1]);
    char c = 0;
    CHECK_EQ(read(held[0], &c, 1), 1);
    CHECK_EQ(c, 'y'); /* the other process holds the file now */
    close(held[0]);
    zm_store_opts o;
    memset(&o, 0, sizeof o);
    o.busy_timeout_ms = 30000;
    zm_status st = zm_store_sqlite_open(path, &o, &s);
    CHECK_EQ(st, ZM_OK);
    if (st != ZM_OK) fprintf(stderr, "open while held: %s\n", zm_store_errmsg());
    zm_store_close(s);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(sq_consistent(path));
}

int main(void) {
    st_tmpdir("procs");
    char path[512];
    st_path(path, sizeof path, "procs.db");
    RUN(test_open_waits);
    int n = zt_small() ? 30 : 300;
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(path, NULL, &s), ZM_OK); /* created before the race */
    zm_store_close(s);
    int fds[PROCS][2];
    pid_t pids[PROCS];
    fflush(NULL);
    for (int p = 0; p < PROCS; p++) {
        if (pipe(fds[p]) != 0) return 1;
        pids[p] = fork();
        if (pids[p] == 0) {
            close(fds[p][0]);
            writer(path, p, n, fds[p][1]);
        }
        close(fds[p][1]);
    }
    for (int k = 0; k < KEYS; k++)
        for (int v = 0; v < 4096; v++) owner[k][v] = -2;
    int reports = 0;
    for (int p = 0; p < PROCS; p++) {
        FILE *f = fdopen(fds[p][0], "r");
        int k, i;
        unsigned long long v;
        while (f && fscanf(f, "%d %llu %d", &k, &v, &i) == 3) {
            reports++;
            if (k < 0 || k >= KEYS || v == 0 || v >= 4096) {
                CHECK(false);
                continue;
            }
            CHECK_EQ(owner[k][v], -2); /* no version reported twice */
            owner[k][v] = i < 0 ? -1 : p;
            index_of[k][v] = i;
        }
        if (f) fclose(f);
        int status;
        waitpid(pids[p], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK(sq_consistent(path));
    CHECK_EQ(zm_store_sqlite_open(path, NULL, &s), ZM_OK);
    if (s == NULL) return zt_finish("store_sqlite_procs");
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    size_t versions = 0;
    for (int k = 0; k < KEYS; k++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", k);
        zm_store_version *h;
        size_t cnt = 0;
        CHECK_EQ(zm_store_history(s, key, strlen(key), -1, zm_arena_allocator(&ar), &h, &cnt),
                 ZM_OK);
        versions += cnt;
        for (size_t j = 0; j < cnt; j++) {
            CHECK_EQ(h[j].version, (uint64_t)(j + 1)); /* no gap, no duplicate */
            int o = owner[k][j + 1];
            CHECK(o != -2); /* every version stored was reported by its writer */
            if (o >= 0 && !h[j].deleted) {
                CHECK_EQ(zm_json_int(zm_json_get(h[j].value, "w")), o);
                CHECK_EQ(zm_json_int(zm_json_get(h[j].value, "i")), index_of[k][j + 1]);
            } else {
                CHECK(h[j].deleted);
            }
        }
    }
    CHECK_EQ(versions, (size_t)reports);
    zm_arena_deinit(&ar);
    zm_store_close(s);
    fprintf(stderr, "%d processes, %zu versions over %d keys\n", PROCS, versions, KEYS);
    st_rmdir();
    return zt_finish("store_sqlite_procs");
}
