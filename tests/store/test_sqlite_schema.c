/* The SQLite backend's schema: its version, refused when newer or not a
   zmem database's; each older version migrated forward with its data (2 ->
   3 is in test_sqlite_index.c), a database written at version 1 through
   every step to the same tables a new database gets at once. */
#define _GNU_SOURCE
#include "sqlite_check.h"
#include "sqlite_test.h"

/* Runs sql on the database at path with SQLite directly. */
static void raw_exec(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fprintf(stderr, "raw_exec: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* The tables and indexes of the database at path, with their columns (name,
   type, not null, primary key) and indexed columns, as one text into buf;
   false on error. */
static bool schema_of(const char *path, char *buf, size_t cap) {
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    size_t n = 0;
    bool ok = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(
                  db,
                  "SELECT m.type || ' ' || m.name || ' ' || m.tbl_name || ': ' || coalesce((SELECT "
                  "group_concat(c.name || ' ' || c.type || ' ' || c.\"notnull\" || ' ' || c.pk, "
                  "', ') FROM pragma_table_info(m.name) c), '') || ': ' || coalesce((SELECT "
                  "group_concat(i.name, ', ') FROM pragma_index_info(m.name) i), '') "
                  "FROM sqlite_schema m ORDER BY m.name",
                  -1, &q, NULL) == SQLITE_OK;
    buf[0] = '\0';
    while (ok && sqlite3_step(q) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        int w = snprintf(buf + n, cap - n, "%s\n", t ? t : "");
        if (w < 0 || (size_t)w >= cap - n)
            ok = false;
        else
            n += (size_t)w;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return ok && n > 0;
}

/* True when the database at path has the tables of a new database. */
static bool same_schema_as_new(const char *path) {
    static char want[16384], have[16384];
    char fresh[512];
    st_path(fresh, sizeof fresh, "fresh.db");
    zm_store *s = NULL;
    if (zm_store_sqlite_open(fresh, NULL, &s) != ZM_OK) return false;
    zm_store_close(s);
    if (!schema_of(fresh, want, sizeof want) || !schema_of(path, have, sizeof have)) return false;
    if (strcmp(want, have) == 0) return true;
    fprintf(stderr, "schema of %s:\n%s\nof a new database:\n%s\n", path, have, want);
    return false;
}

static void test_schema(void) {
    char p[512];
    zm_store *s = NULL;
    /* newer: refused, saying both versions */
    st_path(p, sizeof p, "newer.db");
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    zm_store_close(s);
    raw_exec(p, "PRAGMA user_version = 99");
    s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_ECORRUPT);
    CHECK(s == NULL);
    CHECK(strstr(zm_store_errmsg(), "99") != NULL);
    CHECK(strstr(zm_store_errmsg(), "up to 4") != NULL);
    /* an empty SQLite database (version 0): set up, then version 4 */
    st_path(p, sizeof p, "empty.db");
    raw_exec(p, "PRAGMA page_size = 4096; VACUUM");
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    zm_store_close(s);
    sqlite3 *db;
    sqlite3_stmt *q;
    CHECK_EQ(sqlite3_open(p, &db), SQLITE_OK);
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
    CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    CHECK_EQ(sqlite3_column_int(q, 0), 4);
    sqlite3_finalize(q);
    sqlite3_close(db);
    /* version 1 (no queue of keys waiting for search): migrated forward,
       its data and its search kept */
    st_path(p, sizeof p, "v1.db");
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    {
        zm_arena ar;
        zm_arena_init(&ar, zm_default_allocator());
        zm_allocator a = zm_arena_allocator(&ar);
        zm_search_hit *hits;
        size_t n, total;
        CHECK_EQ(st_put(s, &ar, "old", "\"apple pie\"", 1, NULL), ZM_OK);
        CHECK_EQ(zm_store_search(s, "apple", 5, ZM_SEARCH_TOKEN, 5, a, &hits, &n, &total), ZM_OK);
        zm_store_close(s);
        /* version 1's token index kept a copy of its text */
        raw_exec(p, SQ_TO_SCHEMA_3
                 "DROP TABLE zmem_pending; DROP TABLE zmem_fts; "
                 "CREATE VIRTUAL TABLE zmem_fts USING fts5(t, tokenize = 'ascii'); "
                 "INSERT INTO zmem_fts(rowid, t) SELECT id, 'old apple pie' FROM zmem_keys; "
                 "PRAGMA user_version = 1");
        CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
        CHECK_EQ(zm_store_search(s, "apple", 5, ZM_SEARCH_TOKEN, 5, a, &hits, &n, &total), ZM_OK);
        CHECK_EQ(n, 1);
        CHECK_EQ(st_put(s, &ar, "old", "\"pear tart\"", 2, NULL), ZM_OK);
        CHECK_EQ(zm_store_search(s, "apple", 5, ZM_SEARCH_TOKEN, 5, a, &hits, &n, &total), ZM_OK);
        CHECK_EQ(n, 0);
        CHECK_EQ(zm_store_search(s, "tart", 4, ZM_SEARCH_TOKEN, 5, a, &hits, &n, &total), ZM_OK);
        CHECK_EQ(n, 1);
        zm_store_close(s);
        zm_arena_deinit(&ar);
    }
    CHECK_EQ(sqlite3_open(p, &db), SQLITE_OK);
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
    CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    CHECK_EQ(sqlite3_column_int(q, 0), 4);
    sqlite3_finalize(q);
    sqlite3_close(db);
    CHECK(sq_consistent(p));
    CHECK(same_schema_as_new(p));
    /* another program's database */
    st_path(p, sizeof p, "other.db");
    raw_exec(p, "CREATE TABLE t(x)");
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_ECORRUPT);
    CHECK(strstr(zm_store_errmsg(), "another program") != NULL);
    /* not a database at all */
    st_path(p, sizeof p, "text.db");
    FILE *f = fopen(p, "w");
    if (f) {
        for (int i = 0; i < 100; i++) fputs("not a database, just some text\n", f);
        fclose(f);
    }
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_ECORRUPT);
    CHECK(strstr(zm_store_errmsg(), "not an SQLite database") != NULL);
}

/* The number of columns of zmem_keys in the database at path (-1 on error). */
static int key_columns(const char *path) {
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int n = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info('zmem_keys')", -1, &q,
                           NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* A schema 3 database (each key's row repeating its latest version's number
   and time) is migrated to 4: those two columns dropped, nothing else
   changed. Versions go on from the latest, at times no older than its time;
   a forgotten key stays forgotten until written again. */
static void test_from_schema_3(void) {
    char p[512];
    st_path(p, sizeof p, "v3.db");
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    bool existed;
    CHECK_EQ(st_put(s, &ar, "a", "1", 10, NULL), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "a", "\"apple pie\"", 20, NULL), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "b", "2", 30, NULL), ZM_OK);
    CHECK_EQ(st_forget(s, "b", false, 40, &existed), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "c", "3", 50, NULL), ZM_OK);
    zm_store_close(s);
    CHECK_EQ(key_columns(p), 3);
    raw_exec(p, SQ_TO_SCHEMA_3 "PRAGMA user_version = 3");
    CHECK_EQ(key_columns(p), 5);
    s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    CHECK_EQ(key_columns(p), 3);
    uint64_t v = 0;
    CHECK_EQ(zm_store_head(s, "a", 1, a, &v), ZM_OK);
    CHECK_EQ(v, 2);
    CHECK_EQ(zm_store_head(s, "b", 1, a, &v), ZM_ENOTFOUND);
    CHECK_EQ(v, 2);
    zm_search_hit *hits;
    size_t n, total;
    CHECK_EQ(zm_store_search(s, "pie", 3, ZM_SEARCH_TOKEN, 5, a, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(hits[0].version, 2);
    zm_store_version out;
    CHECK_EQ(st_put(s, &ar, "a", "4", 15, &out), ZM_OK); /* older than version 2's time */
    CHECK_EQ(out.version, 3);
    CHECK_EQ(out.timestamp, 20);
    CHECK_EQ(st_put(s, &ar, "b", "5", 60, &out), ZM_OK);
    CHECK_EQ(out.version, 3);
    CHECK_EQ(zm_store_head(s, "b", 1, a, &v), ZM_OK);
    CHECK_EQ(v, 3);
    zm_store_stats stats;
    CHECK_EQ(zm_store_stats_get(s, &stats), ZM_OK);
    CHECK_EQ(stats.keys, 3);
    CHECK_EQ(stats.versions, 7);
    zm_store_close(s);
    zm_arena_deinit(&ar);
    CHECK(sq_consistent(p));
    CHECK(same_schema_as_new(p));
}

/* An export as text, in a fixed buffer. */
typedef struct sc_text {
    char buf[8192];
    size_t len;
    bool over;
} sc_text;

static zm_status sc_sink(void *ctx, const char *data, size_t len) {
    sc_text *t = ctx;
    if (t->len + len >= sizeof t->buf) {
        t->over = true;
        return ZM_OK;
    }
    memcpy(t->buf + t->len, data, len);
    t->len += len;
    t->buf[t->len] = '\0';
    return ZM_OK;
}

/* The export of the database at path as text into *t (false on error). */
static bool sc_export(const char *path, sc_text *t) {
    zm_store *s = NULL;
    t->len = 0;
    t->buf[0] = '\0';
    t->over = false;
    if (zm_store_sqlite_open(path, NULL, &s) != ZM_OK) return false;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_status st = zm_store_export_jsonl(s, &ar, sc_sink, t);
    zm_arena_deinit(&ar);
    zm_store_close(s);
    return st == ZM_OK && !t->over && t->len > 0;
}

/* A schema 3 database with keys waiting for search (queued, and new since
   the last search), a purged key and edges, migrated to 4: the export is
   the same record for record, reads as of a time, the history and the
   stats are those of the versions kept; search finds every key that
   waited, by its latest value only; a key added after the migration gets
   the next id and waits too. */
static void test_from_schema_3_reads(void) {
    char p[512];
    st_path(p, sizeof p, "v3reads.db");
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    if (s == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    bool existed, created;
    zm_search_hit *hits;
    size_t n, total;
    CHECK_EQ(st_put(s, &ar, "a", "\"plum cake\"", 10, NULL), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "a", "\"apple pie\"", 20, NULL), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "b", "\"old news\"", 30, NULL), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "z", "\"purged words\"", 35, NULL), ZM_OK);
    CHECK_EQ(zm_store_search(s, "pie", 3, ZM_SEARCH_TOKEN, 5, a, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(st_forget(s, "z", true, 36, &existed), ZM_OK); /* the largest id, purged */
    CHECK_EQ(st_forget(s, "b", false, 40, &existed), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "a", "\"cherry tart\"", 50, NULL), ZM_OK); /* queued */
    CHECK_EQ(st_put(s, &ar, "c", "\"fresh bread\"", 60, NULL), ZM_OK); /* new: waits */
    CHECK_EQ(st_link(s, "a", "c", "next", &created), ZM_OK);
    zm_store_close(s);
    sc_text *before = malloc(sizeof *before), *after = malloc(sizeof *after);
    if (before == NULL || after == NULL) return;
    CHECK(sc_export(p, before));
    raw_exec(p, SQ_TO_SCHEMA_3 "PRAGMA user_version = 3");
    CHECK_EQ(key_columns(p), 5);
    CHECK(sc_export(p, after)); /* migrates */
    CHECK_EQ(key_columns(p), 3);
    CHECK_EQ(after->len, before->len);
    CHECK_STR(after->buf, before->buf);
    s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    if (s == NULL) return;
    zm_store_version v;
    CHECK_EQ(zm_store_get(s, "a", 1, 25, a, &v), ZM_OK);
    CHECK_EQ(v.version, 2);
    CHECK_EQ(zm_store_get(s, "a", 1, 5, a, &v), ZM_ENOTFOUND);
    CHECK_EQ(zm_store_get(s, "b", 1, 35, a, &v), ZM_OK);
    CHECK_EQ(v.version, 1);
    CHECK_EQ(zm_store_get(s, "b", 1, -1, a, &v), ZM_ENOTFOUND);
    zm_store_version *h;
    CHECK_EQ(zm_store_history(s, "a", 1, -1, a, &h, &n), ZM_OK);
    CHECK_EQ(n, 3);
    if (n == 3) CHECK_EQ(h[2].timestamp, 50);
    CHECK_EQ(zm_store_history(s, "a", 1, 20, a, &h, &n), ZM_OK);
    CHECK_EQ(n, 2);
    zm_store_stats stats;
    CHECK_EQ(zm_store_stats_get(s, &stats), ZM_OK);
    CHECK_EQ(stats.keys, 2);
    CHECK_EQ(stats.versions, 6);
    static const char *const found[] = {"cherry", "bread"}, *const gone[] = {"pie", "news",
                                                                             "purged"};
    for (size_t i = 0; i < 2; i++) {
        CHECK_EQ(zm_store_search(s, found[i], strlen(found[i]), ZM_SEARCH_TOKEN, 5, a, &hits, &n,
                                 &total),
                 ZM_OK);
        CHECK_EQ(n, 1);
    }
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ(
            zm_store_search(s, gone[i], strlen(gone[i]), ZM_SEARCH_TOKEN, 5, a, &hits, &n, &total),
            ZM_OK);
        CHECK_EQ(n, 0);
    }
    CHECK_EQ(zm_store_search(s, "cherry tart", 11, ZM_SEARCH_EXACT, 5, a, &hits, &n, &total),
             ZM_OK);
    CHECK_EQ(n, 1);
    if (n == 1) CHECK_EQ(hits[0].version, 3);
    CHECK_EQ(st_put(s, &ar, "d", "\"later words\"", 70, NULL), ZM_OK);
    CHECK_EQ(zm_store_search(s, "later", 5, ZM_SEARCH_TOKEN, 5, a, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    zm_store_close(s);
    zm_arena_deinit(&ar);
    free(before);
    free(after);
    CHECK(sq_consistent(p));
}

/* A database as zmem wrote it at schema version 1 (the tables of that
   version, verbatim): two keys, one with two versions, one forgotten; the
   token index with its own copy of the text. */
static const char v1_database[] =
    "CREATE TABLE zmem_keys(id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE,"
    "  latest INTEGER NOT NULL, latest_ts INTEGER NOT NULL, live INTEGER NOT NULL);"
    "CREATE TABLE zmem_versions(key_id INTEGER NOT NULL, version INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL, deleted INTEGER NOT NULL, agent BLOB NOT NULL,"
    "  session BLOB NOT NULL, value TEXT NOT NULL, metadata TEXT,"
    "  PRIMARY KEY(key_id, version)) WITHOUT ROWID;"
    "CREATE TABLE zmem_strings(key_id INTEGER NOT NULL, pos INTEGER NOT NULL,"
    "  s BLOB NOT NULL, PRIMARY KEY(key_id, pos)) WITHOUT ROWID;"
    "CREATE INDEX zmem_strings_s ON zmem_strings(s);"
    "CREATE VIRTUAL TABLE zmem_fts USING fts5(t, tokenize = 'ascii');"
    "CREATE TABLE zmem_nodes(id INTEGER PRIMARY KEY, name BLOB NOT NULL UNIQUE);"
    "CREATE TABLE zmem_edges(id INTEGER PRIMARY KEY, src INTEGER NOT NULL,"
    "  dst INTEGER NOT NULL, rel BLOB NOT NULL, metadata TEXT, ts INTEGER NOT NULL,"
    "  agent BLOB NOT NULL, UNIQUE(src, dst, rel));"
    "CREATE INDEX zmem_edges_src ON zmem_edges(src, id);"
    "CREATE INDEX zmem_edges_dst ON zmem_edges(dst, id);"
    "INSERT INTO zmem_keys VALUES(1, CAST('pie' AS BLOB), 2, 20, 1);"
    "INSERT INTO zmem_keys VALUES(2, CAST('gone' AS BLOB), 2, 40, 0);"
    "INSERT INTO zmem_versions VALUES(1, 1, 10, 0, X'', X'', '\"plum cake\"', NULL);"
    "INSERT INTO zmem_versions VALUES(1, 2, 20, 0, X'', X'', '\"apple pie\"', NULL);"
    "INSERT INTO zmem_versions VALUES(2, 1, 30, 0, X'', X'', '\"old news\"', NULL);"
    "INSERT INTO zmem_versions VALUES(2, 2, 40, 1, X'', X'', 'null', NULL);"
    "INSERT INTO zmem_strings VALUES(1, 0, CAST('apple pie' AS BLOB));"
    "INSERT INTO zmem_fts(rowid, t) VALUES(1, 'pie apple pie');"
    "PRAGMA application_id = 2053989741;" /* "zmem" */
    "PRAGMA user_version = 1;";

/* A schema 1 database is migrated through every step to the current
   schema: the same tables as a new database, its data kept, its search
   rebuilt from the latest values, its versions going on from the latest. */
static void test_from_schema_1(void) {
    char p[512];
    st_path(p, sizeof p, "v1-original.db");
    raw_exec(p, v1_database);
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    if (s == NULL) fprintf(stderr, "open: %s\n", zm_store_errmsg());
    if (s == NULL) return;
    CHECK(same_schema_as_new(p));
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    uint64_t v = 0;
    CHECK_EQ(zm_store_head(s, "pie", 3, a, &v), ZM_OK);
    CHECK_EQ(v, 2);
    CHECK_EQ(zm_store_head(s, "gone", 4, a, &v), ZM_ENOTFOUND);
    zm_search_hit *hits;
    size_t n, total;
    CHECK_EQ(zm_store_search(s, "apple", 5, ZM_SEARCH_TOKEN, 5, a, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(zm_store_search(s, "news", 4, ZM_SEARCH_TOKEN, 5, a, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 0);
    zm_store_version out;
    CHECK_EQ(st_put(s, &ar, "pie", "\"pear tart\"", 15, &out), ZM_OK);
    CHECK_EQ(out.version, 3);
    CHECK_EQ(out.timestamp, 20);
    CHECK_EQ(st_put(s, &ar, "new", "\"fresh words\"", 50, &out), ZM_OK);
    CHECK_EQ(out.version, 1);
    CHECK_EQ(zm_store_search(s, "tart", 4, ZM_SEARCH_TOKEN, 5, a, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(zm_store_search(s, "fresh", 5, ZM_SEARCH_TOKEN, 5, a, &hits, &n, &total), ZM_OK);
    CHECK_EQ(n, 1);
    zm_store_close(s);
    zm_arena_deinit(&ar);
    CHECK(sq_consistent(p));
}

int main(void) {
    st_tmpdir("sqlite_schema");
    RUN(test_schema);
    RUN(test_from_schema_3);
    RUN(test_from_schema_3_reads);
    RUN(test_from_schema_1);
    st_rmdir();
    return zt_finish("store_sqlite_schema");
}
