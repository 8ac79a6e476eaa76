/* The least SQLite itself costs a call, for comparison with the store's
   figures: the CPU time (user + system) of the cheapest statements on a WAL
   database with the sqlite backend's settings (2 KiB pages, synchronous =
   NORMAL), with none of zmem's work around them.

     read      SELECT of one small row by its rowid, each its own transaction
               (what a request of one retrieve must at least pay: the read
               transaction's locks on the -shm file and its end)
     read_txn  the same SELECT, all of them inside one transaction
     write     INSERT of one small row, each its own transaction (a commit)

   Given STORE, a database the sqlite backend wrote with the N stores of
   bench_store_run.py (keys key/0 to key/(N/2 - 1), each written twice), two
   more, each the part of a batched call that is SQLite's own:

     get_txn   the backend's read of a key's latest version (the statement
               of ZM__SQ_GET_LATEST in store/sqlite.c, every column read),
               for the N retrieves of the benchmark in their order, all
               inside one transaction: SQLite's part of a batched retrieve
     fts       FTS5 indexing the same N stores' tokens (the key's, then the
               value's text, as the backend makes them) into a table like
               the backend's (ascii tokens, no copy of the text), in
               transactions of 2048 keys as the backend's passes are: a new
               key's row added, a written key's row deleted (with its old
               text) and added again. A microsecond figure per store: what
               token search alone adds to a batched store
     write_txn the backend's statements that write a store's version (the
               key's lookup with its latest version, the key's row when it
               is new, the version, the queue for search when it is not),
               the same N stores in transactions of 100, in tables like the
               backend's: SQLite's part of a batched store but for search

   Prints one line per figure: NAME MICROSECONDS_PER_STATEMENT (per store
   for fts).
   Usage: bench_sqlite_floor DIR [N [STORE]]   (the databases are made in DIR) */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <string.h>

static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int fail(sqlite3 *db, const char *what) {
    fprintf(stderr, "bench_sqlite_floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "no memory");
    return 1;
}

/* Runs stmt n times (each step to its end, then reset), inside one
   transaction when txn; returns the CPU microseconds a statement, or -1. */
static double time_stmt(sqlite3 *db, sqlite3_stmt *stmt, int n, int txn) {
    if (txn && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) return -1;
    double t0 = cpu_s();
    for (int i = 0; i < n; i++) {
        int rc;
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        }
        if (rc != SQLITE_DONE) return -1;
        sqlite3_reset(stmt);
    }
    double t1 = cpu_s();
    if (txn && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) return -1;
    return (t1 - t0) / n * 1e6;
}

/* Removes the database at path and its log and shared-memory files. */
static void remove_db(const char *path) {
    char side[4200];
    remove(path);
    snprintf(side, sizeof side, "%s-wal", path);
    remove(side);
    snprintf(side, sizeof side, "%s-shm", path);
    remove(side);
}

/* get_txn (see the top): CPU microseconds a read, or -1. */
static double time_get(const char *store, int n) {
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    double us = -1;
    if (sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db,
                           "SELECT v.version, v.ts, v.deleted, v.agent, v.session, v.value, "
                           "v.metadata FROM zmem_versions v WHERE v.key_id = (SELECT id FROM "
                           "zmem_keys WHERE key = ?1) ORDER BY v.version DESC LIMIT 1",
                           -1, SQLITE_PREPARE_PERSISTENT, &q, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        fail(db, "reading the store");
        goto done;
    }
    int half = n / 2 > 0 ? n / 2 : 1;
    long found = 0;
    double t0 = cpu_s();
    for (int i = 0; i < n; i++) {
        char key[32];
        int len = snprintf(key, sizeof key, "key/%d", i % half);
        sqlite3_bind_blob(q, 1, key, len, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) {
            found++;
            (void)sqlite3_column_int64(q, 0);
            (void)sqlite3_column_int64(q, 1);
            (void)sqlite3_column_int(q, 2);
            (void)sqlite3_column_blob(q, 3);
            (void)sqlite3_column_blob(q, 4);
            (void)sqlite3_column_text(q, 5);
            (void)sqlite3_column_bytes(q, 5);
            (void)sqlite3_column_text(q, 6);
        }
        sqlite3_reset(q);
    }
    double t1 = cpu_s();
    if (found != n)
        fprintf(stderr, "bench_sqlite_floor: %ld of %d keys found in %s\n", found, n, store);
    else
        us = (t1 - t0) / n * 1e6;
done:
    sqlite3_finalize(q);
    sqlite3_close(db);
    return us;
}

/* The token text the backend indexes for store i of the benchmark (key
   key/K, value {"n":i,"text":"note i about the weather"}). */
static int fts_text(char *out, size_t cap, int k, int i) {
    return snprintf(out, cap, "key %d note %d about the weather", k, i);
}

/* write_txn (see the top): CPU microseconds a store, or -1. The
   statements are those of store/sqlite.c (ZM__SQ_KEY_FIND, KEY_INSERT,
   VER_INSERT, PENDING_ADD). */
static double time_write(const char *dir, int n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/write.db", dir);
    remove_db(path);
    sqlite3 *db = NULL;
    enum { FIND, KEY, VER, QUEUE, NQ };
    static const char *const sql[NQ] = {
        "SELECT k.id, v.deleted, v.version, v.ts FROM zmem_keys k JOIN zmem_versions v ON "
        "v.key_id = k.id WHERE k.key = ?1 ORDER BY v.version DESC LIMIT 1",
        "INSERT INTO zmem_keys(key, live) VALUES(?1, 1)",
        "INSERT INTO zmem_versions(key_id, version, ts, deleted, agent, session, value, metadata) "
        "VALUES(?1, ?2, ?3, 0, x'', x'', ?4, NULL)",
        "INSERT OR IGNORE INTO zmem_pending(key_id) VALUES(?1)"};
    sqlite3_stmt *q[NQ] = {NULL};
    double us = -1;
    int ok = sqlite3_open(path, &db) == SQLITE_OK &&
             sqlite3_exec(db,
                          "PRAGMA page_size = 2048; PRAGMA journal_mode = WAL; "
                          "PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON; PRAGMA "
                          "wal_autocheckpoint = 4000; "
                          "CREATE TABLE zmem_keys(id INTEGER PRIMARY KEY, key BLOB NOT NULL "
                          "UNIQUE, live INTEGER NOT NULL); "
                          "CREATE TABLE zmem_versions(key_id INTEGER NOT NULL, version INTEGER "
                          "NOT NULL, ts INTEGER NOT NULL, deleted INTEGER NOT NULL, agent BLOB "
                          "NOT NULL, session BLOB NOT NULL, value TEXT NOT NULL, metadata TEXT, "
                          "PRIMARY KEY(key_id, version)) WITHOUT ROWID; "
                          "CREATE TABLE zmem_pending(key_id INTEGER PRIMARY KEY);",
                          NULL, NULL, NULL) == SQLITE_OK;
    for (int j = 0; j < NQ && ok; j++)
        ok =
            sqlite3_prepare_v3(db, sql[j], -1, SQLITE_PREPARE_PERSISTENT, &q[j], NULL) == SQLITE_OK;
    int half = n / 2 > 0 ? n / 2 : 1;
    double t0 = cpu_s();
    for (int i = 0; i < n && ok; i++) {
        char key[32], value[96];
        int klen = snprintf(key, sizeof key, "key/%d", i % half);
        int vlen = snprintf(value, sizeof value,
                            "{\"n\":%d,\"text\":\"note %d about the weather\"}", i, i);
        if (i % 100 == 0) ok = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
        sqlite3_int64 id = 0, version = 1;
        sqlite3_bind_blob(q[FIND], 1, key, klen, SQLITE_STATIC);
        int rc = ok ? sqlite3_step(q[FIND]) : SQLITE_ERROR;
        if (rc == SQLITE_ROW) {
            id = sqlite3_column_int64(q[FIND], 0);
            version = sqlite3_column_int64(q[FIND], 2) + 1;
            rc = SQLITE_DONE;
        }
        sqlite3_reset(q[FIND]);
        ok = rc == SQLITE_DONE;
        if (ok && id == 0) {
            sqlite3_bind_blob(q[KEY], 1, key, klen, SQLITE_STATIC);
            ok = sqlite3_step(q[KEY]) == SQLITE_DONE;
            sqlite3_reset(q[KEY]);
            id = sqlite3_last_insert_rowid(db);
        } else if (ok) {
            sqlite3_bind_int64(q[QUEUE], 1, id);
            ok = sqlite3_step(q[QUEUE]) == SQLITE_DONE;
            sqlite3_reset(q[QUEUE]);
        }
        if (ok) {
            sqlite3_bind_int64(q[VER], 1, id);
            sqlite3_bind_int64(q[VER], 2, version);
            sqlite3_bind_int64(q[VER], 3, 1700000000000 + i);
            sqlite3_bind_text(q[VER], 4, value, vlen, SQLITE_STATIC);
            ok = sqlite3_step(q[VER]) == SQLITE_DONE;
            sqlite3_reset(q[VER]);
        }
        if (ok && (i % 100 == 99 || i == n - 1))
            ok = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    }
    double t1 = cpu_s();
    if (!ok)
        fail(db, "writing versions");
    else
        us = (t1 - t0) / n * 1e6;
    for (int j = 0; j < NQ; j++) sqlite3_finalize(q[j]);
    sqlite3_close(db);
    remove_db(path);
    return us;
}

/* fts (see the top): CPU microseconds a store, or -1. */
static double time_fts(const char *dir, int n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/fts.db", dir);
    remove_db(path);
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL, *del = NULL;
    double us = -1;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA page_size = 2048; PRAGMA journal_mode = WAL; "
                     "PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON; PRAGMA "
                     "wal_autocheckpoint = 4000; "
                     "CREATE VIRTUAL TABLE f USING fts5(t, tokenize = 'ascii', content = '');",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "INSERT INTO f(rowid, t) VALUES(?1, ?2)", -1,
                           SQLITE_PREPARE_PERSISTENT, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "INSERT INTO f(f, rowid, t) VALUES('delete', ?1, ?2)", -1,
                           SQLITE_PREPARE_PERSISTENT, &del, NULL) != SQLITE_OK) {
        fail(db, "setting up the token index");
        goto done;
    }
    int half = n / 2 > 0 ? n / 2 : 1, pass = 2048, ok = 1;
    double t0 = cpu_s();
    for (int i = 0; i < n && ok; i++) {
        char text[96];
        int k = i % half;
        if (i % pass == 0 && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) ok = 0;
        if (ok && i >= half) { /* written before, as store k */
            int len = fts_text(text, sizeof text, k, k);
            sqlite3_bind_int64(del, 1, k + 1);
            sqlite3_bind_text(del, 2, text, len, SQLITE_STATIC);
            ok = sqlite3_step(del) == SQLITE_DONE;
            sqlite3_reset(del);
        }
        if (ok) {
            int len = fts_text(text, sizeof text, k, i);
            sqlite3_bind_int64(ins, 1, k + 1);
            sqlite3_bind_text(ins, 2, text, len, SQLITE_STATIC);
            ok = sqlite3_step(ins) == SQLITE_DONE;
            sqlite3_reset(ins);
        }
        if (ok && (i % pass == pass - 1 || i == n - 1) &&
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            ok = 0;
    }
    double t1 = cpu_s();
    if (!ok)
        fail(db, "indexing tokens");
    else
        us = (t1 - t0) / n * 1e6;
done:
    sqlite3_finalize(ins);
    sqlite3_finalize(del);
    sqlite3_close(db);
    remove_db(path);
    return us;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_sqlite_floor DIR [N [STORE]]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 100000;
    if (n <= 0) n = 100000;
    char path[4096];
    snprintf(path, sizeof path, "%s/floor.db", argv[1]);
    remove(path);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) return fail(db, "open");
    if (sqlite3_exec(db,
                     "PRAGMA page_size = 2048; PRAGMA journal_mode = WAL; "
                     "PRAGMA synchronous = NORMAL; "
                     "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL); "
                     "INSERT INTO t(v) VALUES('{\"n\":1,\"text\":\"note 1\"}');",
                     NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, "setting up");
    sqlite3_stmt *rd = NULL, *wr = NULL;
    if (sqlite3_prepare_v3(db, "SELECT v FROM t WHERE id = 1", -1, SQLITE_PREPARE_PERSISTENT, &rd,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "INSERT INTO t(v) VALUES('{\"n\":2,\"text\":\"note 2\"}')", -1,
                           SQLITE_PREPARE_PERSISTENT, &wr, NULL) != SQLITE_OK)
        return fail(db, "preparing");
    /* Writes first, so that the reads find a WAL with frames in it, as the
       store's reads after its writes do. */
    double w = time_stmt(db, wr, n / 4 > 0 ? n / 4 : 1, 0);
    double r = time_stmt(db, rd, n, 0);
    double rt = time_stmt(db, rd, n, 1);
    if (w < 0 || r < 0 || rt < 0) return fail(db, "running");
    printf("read %.3f\nread_txn %.3f\nwrite %.3f\n", r, rt, w);
    sqlite3_finalize(rd);
    sqlite3_finalize(wr);
    sqlite3_close(db);
    remove_db(path);
    if (argc > 3) {
        double g = time_get(argv[3], n), f = time_fts(argv[1], n), wt = time_write(argv[1], n);
        if (g < 0 || f < 0 || wt < 0) return 1;
        printf("get_txn %.3f\nfts %.3f\nwrite_txn %.3f\n", g, f, wt);
    }
    return 0;
}
