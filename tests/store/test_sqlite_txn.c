/* The SQLite backend's writes inside a transaction (zm__sq_op_begin_bare):
   no savepoint of their own; what a failure before and after a write's first
   change leaves. */
#define _GNU_SOURCE
#include "../../store/sqlite_internal.h"
#include "sqlite_check.h"
#include "sqlite_test.h"

/* Writes inside a transaction run without a savepoint of their own: one
   that fails before changing anything (a version at or below the key's
   latest) leaves the transaction going; one that fails after its first
   change (here a value past a length limit set on the connection: the
   key's row is written, the version refused) rolls the whole transaction
   back, so no key row is left without its version. */
static void test_txn_write_fails(void) {
    char path[512];
    st_path(path, sizeof path, "txn.db");
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(path, NULL, &s), ZM_OK);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    char buf[64];
    CHECK_EQ(st_put(s, &ar, "x", "1", 1, NULL), ZM_OK);
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "y", "2", 2, NULL), ZM_OK);
    zm_store_write w;
    memset(&w, 0, sizeof w);
    w.key = "x";
    w.key_len = 1;
    w.value = ST_JSON(&ar, "\"stale\"");
    w.version = 1;
    w.ts_ms = 3;
    CHECK_EQ(zm_store_put(s, &w, NULL), ZM_ECONFLICT);
    CHECK_EQ(st_put(s, &ar, "x", "4", 4, NULL), ZM_OK);
    CHECK_EQ(zm_store_commit(s), ZM_OK);
    CHECK_EQ(st_get_text(s, "x", buf, sizeof buf), ZM_OK);
    CHECK_STR(buf, "4");
    CHECK_EQ(st_get_text(s, "y", buf, sizeof buf), ZM_OK);
    CHECK_STR(buf, "2");
    CHECK(sq_consistent(path));

    sqlite3 *db = ((zm__sq *)s)->db;
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "z", "5", 5, NULL), ZM_OK);
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 64);
    CHECK_EQ(st_put(s, &ar, "big",
                    "\"a value longer than the sixty-four bytes the connection now allows\"", 6,
                    NULL),
             ZM_ELIMIT);
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1000000000);
    CHECK_EQ(zm_store_commit(s), ZM_EIO);
    CHECK(strstr(zm_store_errmsg(), "rolled back") != NULL);
    CHECK_EQ(st_get_text(s, "z", buf, sizeof buf), ZM_ENOTFOUND);
    CHECK_EQ(st_get_text(s, "big", buf, sizeof buf), ZM_ENOTFOUND);
    uint64_t latest = 0;
    CHECK_EQ(zm_store_head(s, "big", 3, zm_arena_allocator(&ar), &latest), ZM_ENOTFOUND);
    CHECK_EQ(latest, 0);
    /* The store goes on. */
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(st_put(s, &ar, "z", "7", 7, NULL), ZM_OK);
    CHECK_EQ(zm_store_commit(s), ZM_OK);
    CHECK_EQ(st_get_text(s, "z", buf, sizeof buf), ZM_OK);
    CHECK_STR(buf, "7");
    zm_arena_deinit(&ar);
    zm_store_close(s);
    CHECK(sq_consistent(path));
}

int main(void) {
    st_tmpdir("sqlite-txn");
    RUN(test_txn_write_fails);
    st_rmdir();
    return zt_finish("store_sqlite_txn");
}
