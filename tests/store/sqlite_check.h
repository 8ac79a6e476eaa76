/* Checks the store tests make on an SQLite database file directly, beside
   the store: integrity_check, the version numbers of every key, the token
   index against the strings, whether a byte string is anywhere in the
   files. */
#ifndef ZMEM_TESTS_SQLITE_CHECK_H
#define ZMEM_TESTS_SQLITE_CHECK_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../store/internal.h"

/* SQL that turns a schema 4 database back into schema 3's layout (bar the
   version number): zmem_keys gets the two columns schema 3 had (each key's
   latest version number and time), filled in, and the keys added since the
   last pass (above zmem_index_mark) join zmem_pending, which schema 3 kept
   every waiting key in. So a test can make an older database from a new
   one. */
#define SQ_TO_SCHEMA_3                                                                             \
    "ALTER TABLE zmem_keys ADD COLUMN latest INTEGER NOT NULL DEFAULT 0;"                          \
    "ALTER TABLE zmem_keys ADD COLUMN latest_ts INTEGER NOT NULL DEFAULT 0;"                       \
    "UPDATE zmem_keys SET latest = (SELECT max(version) FROM zmem_versions WHERE key_id = "        \
    "zmem_keys.id), latest_ts = (SELECT max(ts) FROM zmem_versions WHERE key_id = zmem_keys.id);"  \
    "INSERT OR IGNORE INTO zmem_pending(key_id) SELECT id FROM zmem_keys WHERE id > "              \
    "(SELECT id FROM zmem_index_mark);"                                                            \
    "DROP TABLE zmem_index_mark;"

/* The keys waiting to be indexed in db (queued, or added since the last
   pass); -1 on error. */
static long long sq_waiting(sqlite3 *db) {
    sqlite3_stmt *q = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT count(*) FROM zmem_pending) + (SELECT count(*) FROM "
                           "zmem_keys WHERE id > (SELECT id FROM zmem_index_mark) AND id NOT IN "
                           "(SELECT key_id FROM zmem_pending))",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

/* A growing text for sq_fts_consistent. */
typedef struct ck_text {
    char *p;
    size_t n, cap;
    bool oom;
} ck_text;

static void ck_put(ck_text *t, const char *s, size_t len) {
    if (t->n + len + 2 > t->cap) {
        size_t cap = (t->n + len + 2) * 2;
        char *p = realloc(t->p, cap);
        if (p == NULL) {
            t->oom = true;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, len);
    t->n += len;
    t->p[t->n] = '\0';
}

/* Appends the tokens of len bytes at s, each after a space, as the backend
   indexes them. */
static void ck_tokens(ck_text *t, const char *s, size_t len) {
    size_t pos = 0;
    zm__tok tok;
    char buf[ZM_STORE_MAX_TOKEN];
    while (zm__store_next_token(s, len, &pos, &tok, buf)) {
        ck_put(t, " ", 1);
        ck_put(t, buf, tok.norm_len);
    }
}

/* Appends doc id and its tokens to all (a line "id: tokens") when it has
   any, and empties doc. */
static void ck_flush(ck_text *all, ck_text *doc, long long id) {
    if (doc->n > 0) {
        char head[32];
        int n = snprintf(head, sizeof head, "%lld:", id);
        ck_put(all, head, (size_t)n);
        ck_put(all, doc->p, doc->n);
        ck_put(all, "\n", 1);
    }
    doc->n = 0;
}

/* True when the token index holds, for every key with a token row, exactly
   the tokens of the key and of its strings in order (the text the backend
   deletes the row with), and no key has strings without a token row. A
   database without the contentless index (an older schema) passes. */
static bool sq_fts_consistent(sqlite3 *db) {
    sqlite3_stmt *q = NULL;
    bool ok = true;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM zmem_fts_docsize LIMIT 1", -1, &q, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(q);
        return true;
    }
    sqlite3_finalize(q);
    if (sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE IF NOT EXISTS temp.zmem_check_vocab USING "
                     "fts5vocab(main, zmem_fts, instance)",
                     NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "sq_fts_consistent: %s\n", sqlite3_errmsg(db));
        return false;
    }
    ck_text want = {0}, have = {0}, doc = {0};
    /* What the rows should hold: the key's tokens, then its strings'. */
    sqlite3_prepare_v2(db,
                       "SELECT d.id, k.key, s.s FROM zmem_fts_docsize d "
                       "LEFT JOIN zmem_keys k ON k.id = d.id "
                       "LEFT JOIN zmem_strings s ON s.key_id = d.id ORDER BY d.id, s.pos",
                       -1, &q, NULL);
    long long cur = -1;
    while (q != NULL && sqlite3_step(q) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(q, 0);
        if (id != cur) {
            ck_flush(&want, &doc, cur);
            cur = id;
            ck_tokens(&doc, sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1));
        }
        ck_tokens(&doc, sqlite3_column_blob(q, 2), (size_t)sqlite3_column_bytes(q, 2));
    }
    ck_flush(&want, &doc, cur);
    sqlite3_finalize(q);
    /* What they hold. */
    sqlite3_prepare_v2(db, "SELECT doc, term FROM temp.zmem_check_vocab ORDER BY doc, offset", -1,
                       &q, NULL);
    cur = -1;
    while (q != NULL && sqlite3_step(q) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(q, 0);
        if (id != cur) {
            ck_flush(&have, &doc, cur);
            cur = id;
        }
        ck_put(&doc, " ", 1);
        ck_put(&doc, (const char *)sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1));
    }
    ck_flush(&have, &doc, cur);
    sqlite3_finalize(q);
    if (want.oom || have.oom || doc.oom) {
        fprintf(stderr, "sq_fts_consistent: out of memory\n");
        ok = false;
    } else if (want.n != have.n || (want.n > 0 && memcmp(want.p, have.p, want.n) != 0)) {
        fprintf(stderr, "token index:\n%s\nexpected from the strings:\n%s\n", have.p ? have.p : "",
                want.p ? want.p : "");
        ok = false;
    }
    free(want.p);
    free(have.p);
    free(doc.p);
    q = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT count(*) FROM zmem_strings WHERE key_id NOT IN "
                       "(SELECT id FROM zmem_fts_docsize)",
                       -1, &q, NULL);
    if (q == NULL || sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int64(q, 0) != 0) {
        fprintf(stderr, "sq_fts_consistent: strings without a token row\n");
        ok = false;
    }
    sqlite3_finalize(q);
    /* A key forgotten or purged has no token row once it is not waiting to
       be indexed again. */
    q = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT count(*) FROM zmem_fts_docsize d LEFT JOIN zmem_keys k "
                       "ON k.id = d.id WHERE (k.id IS NULL OR NOT k.live) "
                       "AND d.id NOT IN (SELECT key_id FROM zmem_pending) "
                       "AND d.id <= (SELECT id FROM zmem_index_mark)",
                       -1, &q, NULL);
    if (q == NULL || sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int64(q, 0) != 0) {
        fprintf(stderr, "sq_fts_consistent: a forgotten or purged key has a token row\n");
        ok = false;
    }
    sqlite3_finalize(q);
    /* A live key that does not wait (at or below the mark, not queued) has
       a token row, and the mark is at most the largest id (so the id SQLite
       gives a new key, the largest plus one, is above it). */
    q = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT (SELECT count(*) FROM zmem_keys k WHERE k.live AND k.id <= "
                       "(SELECT id FROM zmem_index_mark) AND k.id NOT IN (SELECT key_id FROM "
                       "zmem_pending) AND k.id NOT IN (SELECT id FROM zmem_fts_docsize)), "
                       "(SELECT id FROM zmem_index_mark) > "
                       "(SELECT coalesce(max(id), 0) FROM zmem_keys)",
                       -1, &q, NULL);
    if (q == NULL || sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int64(q, 0) != 0 ||
        sqlite3_column_int64(q, 1) != 0) {
        fprintf(stderr, "sq_fts_consistent: a key neither waits nor has a token row, or the "
                        "mark is above the largest id\n");
        ok = false;
    }
    sqlite3_finalize(q);
    /* FTS5's totals (the averages record, id 1 of zmem_fts_data: a varint
       row count first) count the token rows: FTS5's own integrity-check does
       not compare them on a contentless table. */
    q = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT (SELECT block FROM zmem_fts_data WHERE id = 1), "
                       "(SELECT count(*) FROM zmem_fts_docsize)",
                       -1, &q, NULL);
    if (q != NULL && sqlite3_step(q) == SQLITE_ROW) {
        const unsigned char *b = sqlite3_column_blob(q, 0);
        int n = sqlite3_column_bytes(q, 0);
        long long rows = 0, docs = sqlite3_column_int64(q, 1);
        for (int i = 0; b != NULL && i < n && i < 8; i++) {
            rows = rows << 7 | (b[i] & 0x7F);
            if (!(b[i] & 0x80)) break;
        }
        if (rows != docs) {
            fprintf(stderr, "sq_fts_consistent: FTS5's totals say %lld rows, there are %lld\n",
                    rows, docs);
            ok = false;
        }
    } else {
        fprintf(stderr, "sq_fts_consistent: cannot read FTS5's totals\n");
        ok = false;
    }
    sqlite3_finalize(q);
    return ok;
}

/* True when PRAGMA integrity_check says ok, every key has versions, those
   kept are consecutive (no gap, no duplicate, no half-written version), the
   key is live unless its latest is a deletion, and the token index matches
   the strings
   (sq_fts_consistent). Prints what is wrong. */
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
    /* Per key: the versions kept run without a gap up to the latest, and
       the key is live unless the latest is a deletion. */
    const char *sql = "SELECT k.id, count(v.version), min(v.version), max(v.version), k.live, "
                      "(SELECT deleted FROM zmem_versions WHERE key_id = k.id ORDER BY version "
                      "DESC LIMIT 1) FROM zmem_keys k LEFT JOIN zmem_versions v "
                      "ON v.key_id = k.id GROUP BY k.id";
    if (ok && sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        fprintf(stderr, "sq_consistent: %s\n", sqlite3_errmsg(db));
        ok = false;
    }
    while (ok && sqlite3_step(q) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(q, 0), n = sqlite3_column_int64(q, 1),
                  lo = sqlite3_column_int64(q, 2), hi = sqlite3_column_int64(q, 3);
        int live = sqlite3_column_int(q, 4), del = sqlite3_column_int(q, 5);
        if (n == 0 || hi - lo + 1 != n || live == del) {
            fprintf(stderr, "key %lld: %lld versions %lld..%lld, live %d\n", id, n, lo, hi, live);
            ok = false;
        }
    }
    sqlite3_finalize(q);
    if (ok) ok = sq_fts_consistent(db);
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
