/* The least SQLite itself costs a call, for comparison with the store's
   figures: the CPU time (user + system) of the cheapest statements on a WAL
   database with the sqlite backend's settings (2 KiB pages, synchronous =
   NORMAL), with none of zmem's work around them.

     read      SELECT of one small row by its rowid, each its own transaction
               (what a request of one retrieve must at least pay: the read
               transaction's locks on the -shm file and its end)
     read_txn  the same SELECT, all of them inside one transaction
     write     INSERT of one small row, each its own transaction (a commit)

   Prints one line per figure: NAME MICROSECONDS_PER_STATEMENT.
   Usage: bench_sqlite_floor DIR [N]   (the database is made in DIR) */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_sqlite_floor DIR [N]\n");
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
    char side[4200];
    remove(path);
    snprintf(side, sizeof side, "%s-wal", path);
    remove(side);
    snprintf(side, sizeof side, "%s-shm", path);
    remove(side);
    return 0;
}
