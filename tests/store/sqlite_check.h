/* Checks the store tests make on an SQLite database file directly, beside
   the store: integrity_check, the version numbers of every key, whether a
   byte string is anywhere in the files. */
#ifndef ZMEM_TESTS_SQLITE_CHECK_H
#define ZMEM_TESTS_SQLITE_CHECK_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* True when PRAGMA integrity_check says ok and, for every key, the versions
   kept are consecutive and end at the key's latest number (no gap, no
   duplicate, no half-written version). Prints what is wrong. */
static bool sq_consistent(const char *path) {
    sqlite3 *db = NULL;
    bool ok = true;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "sq_consistent: cannot open %s\n", path);
        sqlite3_close(db);
        return false;
    }
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK) ok = false;
    while (ok && sqlite3_step(q) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(q, 0);
        if (r == NULL || strcmp(r, "ok") != 0) {
            fprintf(stderr, "integrity_check: %s\n", r ? r : "(null)");
            ok = false;
        }
    }
    sqlite3_finalize(q);
    q = NULL;
    /* Per key: the versions kept run without a gap up to latest. */
    const char *sql = "SELECT k.id, k.latest, count(v.version), min(v.version), max(v.version), "
                      "k.live, (SELECT deleted FROM zmem_versions WHERE key_id = k.id AND "
                      "version = k.latest) FROM zmem_keys k LEFT JOIN zmem_versions v "
                      "ON v.key_id = k.id GROUP BY k.id";
    if (ok && sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        fprintf(stderr, "sq_consistent: %s\n", sqlite3_errmsg(db));
        ok = false;
    }
    while (ok && sqlite3_step(q) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(q, 0), latest = sqlite3_column_int64(q, 1);
        long long n = sqlite3_column_int64(q, 2), lo = sqlite3_column_int64(q, 3),
                  hi = sqlite3_column_int64(q, 4);
        int live = sqlite3_column_int(q, 5), del = sqlite3_column_int(q, 6);
        if (n == 0 || hi != latest || hi - lo + 1 != n || live == del) {
            fprintf(stderr, "key %lld: latest %lld, %lld versions %lld..%lld, live %d\n", id,
                    latest, n, lo, hi, live);
            ok = false;
        }
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return ok;
}

/* True when the len bytes at needle occur in the file at path (a missing
   file holds nothing). */
static bool file_holds(const char *path, const void *needle, size_t len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return false;
    bool found = false;
    char buf[1 << 16];
    size_t keep = 0, n;
    while (!found && (n = fread(buf + keep, 1, sizeof buf - keep, f)) > 0) {
        size_t have = keep + n;
        for (size_t i = 0; !found && i + len <= have; i++)
            found = memcmp(buf + i, needle, len) == 0;
        keep = have >= len ? len - 1 : have;
        memmove(buf, buf + have - keep, keep);
    }
    fclose(f);
    return found;
}

#endif
