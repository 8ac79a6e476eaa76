/* The SQLite backend's token index (schema 3): FTS5 keeps no copy of the
   text it indexed, so a key's old row is deleted with its text rebuilt from
   the key and its strings. These tests churn keys of every shape and check,
   with SQLite directly, that the index holds exactly the tokens the strings
   give; migrate a schema 2 database (whose index kept its text) forward;
   refuse, without touching the index, strings that no longer give the
   tokens the index holds; and find the keys that wait without a row in the
   queue (new keys). */
#define _GNU_SOURCE
#include "sqlite_check.h"
#include "sqlite_test.h"

/* Token-search hits for query (NUL-terminated) into *n. */
static zm_status token_hits(zm_store *s, const char *query, size_t *n) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_search_hit *hits;
    size_t total;
    zm_status st = zm_store_search(s, query, strlen(query), ZM_SEARCH_TOKEN, 50,
                                   zm_arena_allocator(&ar), &hits, n, &total);
    zm_arena_deinit(&ar);
    return st;
}

/* Values of every shape a key's text is made from: no strings, several in
   document order, upper case, punctuation, non-ASCII bytes, a token longer
   than ZM_STORE_MAX_TOKEN, an empty string, repeated tokens, a NUL inside
   a string. */
static const char *const shapes[] = {
    "{\"n\":1}",
    "\"Apple PIE, with cream!\"",
    "[\"first words\",{\"inner\":\"second words\"},\"third\"]",
    "{\"t\":\"caf\\u00e9 na\\u00efve \\u65e5\\u672c\\u8a9e\"}",
    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "bbbb tail\"",
    "{\"a\":\"\",\"b\":\"echo echo echo\",\"c\":null,\"d\":[1,2,\"x_y-z\"]}",
    "\"apple\"",
    "{\"z\":\"nul\\u0000inside, and after\"}",
};
#define SHAPES (sizeof shapes / sizeof shapes[0])

/* Keys rewritten with values of every shape, forgotten, purged and written
   again, with searches between (each indexes what waits): the index always
   matches the strings, and finds what the latest values hold. */
static void test_churn(void) {
    char p[512], key[64];
    st_path(p, sizeof p, "churn.db");
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    int64_t ts = 1;
    for (int round = 0; round < 6; round++) {
        for (int k = 0; k < 40; k++) {
            snprintf(key, sizeof key, "Key-%d/%s", k,
                     k % 3 ? (k % 3 == 1 ? "x" : "Cl\xc3\xa9-\xe6\x97\xa5") : "Apple");
            const char *v = shapes[(size_t)(k + round) % SHAPES];
            CHECK_EQ(st_put(s, &ar, key, v, ts++, NULL), ZM_OK);
            bool existed;
            if ((k + round) % 7 == 0) CHECK_EQ(st_forget(s, key, false, ts++, &existed), ZM_OK);
            if ((k + round) % 11 == 0) CHECK_EQ(st_forget(s, key, true, ts++, &existed), ZM_OK);
        }
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
        size_t n;
        CHECK_EQ(token_hits(s, "apple", &n), ZM_OK);
        CHECK(n > 0);
        CHECK(sq_consistent(p));
    }
    /* Every key rewritten to one value: only the new tokens are found. */
    for (int k = 0; k < 40; k++) {
        snprintf(key, sizeof key, "Key-%d/%s", k,
                 k % 3 ? (k % 3 == 1 ? "x" : "Cl\xc3\xa9-\xe6\x97\xa5") : "Apple");
        CHECK_EQ(st_put(s, &ar, key, "\"zebra\"", ts++, NULL), ZM_OK);
    }
    size_t n;
    CHECK_EQ(token_hits(s, "zebra", &n), ZM_OK);
    CHECK_EQ(n, 40);
    CHECK_EQ(token_hits(s, "echo", &n), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(token_hits(s, "apple", &n), ZM_OK);
    CHECK_EQ(n, 14); /* the keys named Apple */
    CHECK(sq_consistent(p));
    zm_store_close(s);
    zm_arena_deinit(&ar);
}

/* A schema 2 database (its token index kept a copy of the text) is
   migrated: its index rebuilt without one, from the latest values. */
static void test_from_schema_2(void) {
    char p[512];
    st_path(p, sizeof p, "v2.db");
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    CHECK_EQ(st_put(s, &ar, "fruit", "\"apple pie\"", 1, NULL), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "gone", "\"apple\"", 2, NULL), ZM_OK);
    bool existed;
    CHECK_EQ(st_forget(s, "gone", false, 3, &existed), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "veg", "\"leek soup\"", 4, NULL), ZM_OK);
    size_t n;
    CHECK_EQ(token_hits(s, "apple", &n), ZM_OK);
    zm_store_close(s);
    /* Back to schema 2's layout: an index with its own copy of the text,
       one stale row (a text no string gives), and a key waiting. */
    sqlite3 *db = NULL;
    CHECK_EQ(sqlite3_open(p, &db), SQLITE_OK);
    CHECK_EQ(sqlite3_exec(db,
                          SQ_TO_SCHEMA_3
                          "DROP TABLE zmem_fts;"
                          "CREATE VIRTUAL TABLE zmem_fts USING fts5(t, tokenize = 'ascii');"
                          "INSERT INTO zmem_fts(rowid, t) SELECT id, 'fruit apple pie' FROM "
                          "zmem_keys WHERE key = 'fruit';"
                          "INSERT INTO zmem_fts(rowid, t) SELECT id, 'veg stale words' FROM "
                          "zmem_keys WHERE key = 'veg';"
                          "INSERT OR IGNORE INTO zmem_pending(key_id) SELECT id FROM zmem_keys "
                          "WHERE key = 'veg';"
                          "PRAGMA user_version = 2;",
                          NULL, NULL, NULL),
             SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    CHECK_EQ(token_hits(s, "apple", &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(token_hits(s, "stale", &n), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(token_hits(s, "soup", &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(st_put(s, &ar, "fruit", "\"pear tart\"", 5, NULL), ZM_OK);
    CHECK_EQ(token_hits(s, "apple", &n), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(token_hits(s, "tart", &n), ZM_OK);
    CHECK_EQ(n, 1);
    zm_store_close(s);
    zm_arena_deinit(&ar);
    CHECK_EQ(sqlite3_open(p, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
    CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    CHECK_EQ(sqlite3_column_int(q, 0), 4);
    sqlite3_finalize(q);
    sqlite3_close(db);
    CHECK(sq_consistent(p));
}

/* Strings that no longer give the tokens the index holds for their key (as
   if another rule of tokens had written them): re-indexing the key is
   refused with ZM_ECORRUPT, and the index is left as it was. The check
   sq_fts_consistent sees the mismatch too. */
static void test_mismatch_refused(void) {
    char p[512];
    st_path(p, sizeof p, "mismatch.db");
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    CHECK_EQ(st_put(s, &ar, "k", "\"one two\"", 1, NULL), ZM_OK);
    size_t n;
    CHECK_EQ(token_hits(s, "two", &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK(sq_consistent(p));
    zm_store_close(s);
    sqlite3 *db = NULL;
    CHECK_EQ(sqlite3_open(p, &db), SQLITE_OK);
    CHECK_EQ(sqlite3_exec(db, "UPDATE zmem_strings SET s = 'one two three'", NULL, NULL, NULL),
             SQLITE_OK);
    sqlite3_close(db);
    CHECK(!sq_consistent(p));
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "k", "\"four\"", 2, NULL), ZM_OK);
    CHECK_EQ(token_hits(s, "four", &n), ZM_ECORRUPT);
    CHECK(strstr(zm_store_errmsg(), "does not match") != NULL);
    zm_store_close(s);
    zm_arena_deinit(&ar);
    /* The index still holds the old row, untouched. */
    CHECK_EQ(sqlite3_open(p, &db), SQLITE_OK);
    CHECK_EQ(sqlite3_exec(db, "UPDATE zmem_strings SET s = 'one two'", NULL, NULL, NULL),
             SQLITE_OK);
    sqlite3_close(db);
    CHECK(sq_consistent(p));
}

/* A query's hits in mode into *n. */
static zm_status mode_hits(zm_store *s, const char *query, zm_search_mode mode, size_t *n) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_search_hit *hits;
    size_t total;
    zm_status st = zm_store_search(s, query, strlen(query), mode, 50, zm_arena_allocator(&ar),
                                   &hits, n, &total);
    zm_arena_deinit(&ar);
    return st;
}

/* The strings of key (NUL-terminated) as the file holds them, "|" after
   each, into buf; false when their positions do not run 0, 1, 2, ... */
static bool file_strings(const char *path, const char *key, char *buf, size_t cap) {
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
              sqlite3_prepare_v2(db,
                                 "SELECT s.pos, s.s FROM zmem_strings s JOIN zmem_keys k "
                                 "ON k.id = s.key_id WHERE k.key = ?1 ORDER BY s.pos",
                                 -1, &q, NULL) == SQLITE_OK;
    size_t n = 0;
    buf[0] = '\0';
    if (ok) sqlite3_bind_blob(q, 1, key, (int)strlen(key), SQLITE_STATIC);
    for (long long want = 0; ok && sqlite3_step(q) == SQLITE_ROW; want++) {
        int len = sqlite3_column_bytes(q, 1);
        if (sqlite3_column_int64(q, 0) != want || n + (size_t)len + 2 > cap) ok = false;
        if (!ok) break;
        if (len > 0) memcpy(buf + n, sqlite3_column_blob(q, 1), (size_t)len);
        n += (size_t)len;
        buf[n++] = '|';
        buf[n] = '\0';
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return ok;
}

/* The rows of the token index's segments (zmem_fts_data): a rewritten
   token row adds a segment. */
static long long fts_rows(const char *path) {
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    long long n = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM zmem_fts_data", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* A key indexed again keeps what did not change and changes the rest in
   place: a string updated at its position, strings added after the last and
   dropped past the new last, the token row left alone when the strings give
   the same tokens (upper case, other spacing) and rewritten when not; each
   step checked against the file, exact and token search, and the index. */
static void test_reindex_in_place(void) {
    char p[512], got[256];
    st_path(p, sizeof p, "inplace.db");
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    size_t n;
    CHECK_EQ(st_put(s, &ar, "other", "\"bystander words\"", 1, NULL), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "k", "[\"one two\",\"three\"]", 2, NULL), ZM_OK);
    CHECK_EQ(mode_hits(s, "one", ZM_SEARCH_TOKEN, &n), ZM_OK); /* indexes both */
    CHECK_EQ(n, 1);
    CHECK(file_strings(p, "k", got, sizeof got));
    CHECK_STR(got, "one two|three|");
    long long rows = fts_rows(p);
    CHECK(rows > 0);
    /* Same tokens, other strings: the strings change, the token row stays. */
    CHECK_EQ(st_put(s, &ar, "k", "[\"ONE  two\",\"three\"]", 3, NULL), ZM_OK);
    CHECK_EQ(mode_hits(s, "ONE  two", ZM_SEARCH_EXACT, &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(mode_hits(s, "one two", ZM_SEARCH_EXACT, &n), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK(file_strings(p, "k", got, sizeof got));
    CHECK_STR(got, "ONE  two|three|");
    CHECK_EQ(fts_rows(p), rows);
    CHECK_EQ(mode_hits(s, "three", ZM_SEARCH_TOKEN, &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK(sq_consistent(p));
    /* The second string changes, a third is added: new tokens. */
    CHECK_EQ(st_put(s, &ar, "k", "[\"ONE  two\",\"four\",\"five six\"]", 4, NULL), ZM_OK);
    CHECK_EQ(mode_hits(s, "six", ZM_SEARCH_TOKEN, &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(mode_hits(s, "three", ZM_SEARCH_TOKEN, &n), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(mode_hits(s, "three", ZM_SEARCH_EXACT, &n), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(mode_hits(s, "four", ZM_SEARCH_EXACT, &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK(file_strings(p, "k", got, sizeof got));
    CHECK_STR(got, "ONE  two|four|five six|");
    CHECK(fts_rows(p) > rows);
    CHECK(sq_consistent(p));
    /* Fewer strings: those past the new last are dropped. */
    CHECK_EQ(st_put(s, &ar, "k", "{\"a\":\"seven\"}", 5, NULL), ZM_OK);
    CHECK_EQ(mode_hits(s, "seven", ZM_SEARCH_TOKEN, &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(mode_hits(s, "five six", ZM_SEARCH_EXACT, &n), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(mode_hits(s, "f", ZM_SEARCH_PREFIX, &n), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK(file_strings(p, "k", got, sizeof got));
    CHECK_STR(got, "seven|");
    CHECK(sq_consistent(p));
    /* None, then some again. */
    CHECK_EQ(st_put(s, &ar, "k", "{\"n\":1}", 6, NULL), ZM_OK);
    CHECK_EQ(mode_hits(s, "seven", ZM_SEARCH_TOKEN, &n), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK(file_strings(p, "k", got, sizeof got));
    CHECK_STR(got, "");
    CHECK(sq_consistent(p));
    CHECK_EQ(st_put(s, &ar, "k", "[\"\",\"eight\"]", 7, NULL), ZM_OK);
    CHECK_EQ(mode_hits(s, "eight", ZM_SEARCH_TOKEN, &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK(file_strings(p, "k", got, sizeof got));
    CHECK_STR(got, "|eight|");
    CHECK(sq_consistent(p));
    /* The bystander was never touched. */
    CHECK(file_strings(p, "other", got, sizeof got));
    CHECK_STR(got, "bystander words|");
    CHECK_EQ(mode_hits(s, "bystander", ZM_SEARCH_TOKEN, &n), ZM_OK);
    CHECK_EQ(n, 1);
    zm_store_close(s);
    zm_arena_deinit(&ar);
}

/* The number of rows of table in the database db (-1 on error). */
static long long rows_of(sqlite3 *db, const char *table) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *q = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

/* A key's first write queues no row (its id, above the mark, says it
   waits); a later write queues it. What waits is indexed by whichever
   connection searches next, after a reopen too. A purge of the key with the
   largest id lowers the mark, so the new key that gets that id again waits
   too (the search finds it, and not the purged key's words). */
static void test_new_keys_wait(void) {
    char p[512];
    st_path(p, sizeof p, "newkeys.db");
    zm_store *s1, *s2;
    sqlite3 *raw;
    if (!st_open_two(p, &s1, &s2, &raw)) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    size_t n;
    CHECK_EQ(st_put(s1, &ar, "n/1", "\"alpha words\"", 1, NULL), ZM_OK);
    CHECK_EQ(rows_of(raw, "zmem_pending"), 0);
    CHECK_EQ(sq_waiting(raw), 1);
    CHECK_EQ(token_hits(s2, "alpha", &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(sq_waiting(raw), 0);
    CHECK_EQ(st_put(s1, &ar, "n/1", "\"beta words\"", 2, NULL), ZM_OK);
    CHECK_EQ(rows_of(raw, "zmem_pending"), 1);
    CHECK_EQ(st_put(s1, &ar, "top", "\"gamma words\"", 3, NULL), ZM_OK);
    CHECK_EQ(token_hits(s1, "gamma", &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(token_hits(s1, "alpha", &n), ZM_OK);
    CHECK_EQ(n, 0);
    bool existed;
    CHECK_EQ(st_forget(s2, "top", true, 4, &existed), ZM_OK);
    CHECK(existed);
    CHECK_EQ(st_put(s2, &ar, "fresh", "\"delta words\"", 5, NULL), ZM_OK);
    CHECK_EQ(sq_waiting(raw), 1);
    zm_store_close(s1);
    zm_store_close(s2);
    s1 = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s1), ZM_OK);
    if (s1 == NULL) return;
    CHECK_EQ(token_hits(s1, "delta", &n), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(token_hits(s1, "gamma", &n), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(token_hits(s1, "words", &n), ZM_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(sq_waiting(raw), 0);
    zm_store_close(s1);
    sqlite3_close(raw);
    zm_arena_deinit(&ar);
    CHECK(sq_consistent(p));
}

int main(void) {
    st_tmpdir("sqlite-index");
    RUN(test_churn);
    RUN(test_from_schema_2);
    RUN(test_mismatch_refused);
    RUN(test_reindex_in_place);
    RUN(test_new_keys_wait);
    st_rmdir();
    return zt_finish("store_sqlite_index");
}
