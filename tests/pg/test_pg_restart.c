/* The postgres backend across a server restart (ZMEM_TEST_PG, a cluster of
   tests/pg/pg_cluster.sh, whose path is argv[1]): calls during the outage
   fail with ZM_EUNAVAILABLE, the session reconnects by itself, nothing
   acknowledged is lost, and a transaction open across the outage fails as a
   whole. Runs alone: it stops the server the other tests use. */
#include "pg_test.h"

#include <stdlib.h>

static const char *script;

/* Runs the cluster script with cmd (down, up, restart); false on failure. */
static bool cluster(const char *cmd) {
    char line[4096];
    snprintf(line, sizeof line, "'%s' %s", script, cmd);
    return system(line) == 0;
}

/* Puts value i under key; returns the status. */
static zm_status put_n(zm_store *s, zm_arena *ar, const char *key, int i) {
    char json[32];
    snprintf(json, sizeof json, "%d", i);
    zm_store_write w = pt_write(ar, key, json, i);
    return zm_store_put(s, &w, NULL);
}

static void test_outage(void) {
    zm_store *s = pt_open(NULL);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    for (int i = 0; i < 50; i++) CHECK_EQ(put_n(s, &ar, "r", i), ZM_OK);
    CHECK(cluster("down"));
    /* During the outage: a clear error, every time. */
    zm_store_version v;
    CHECK_EQ(put_n(s, &ar, "r", 50), ZM_EUNAVAILABLE);
    CHECK(strstr(zm_store_errmsg(), "PostgreSQL server") != NULL);
    CHECK_EQ(zm_store_get(s, "r", 1, -1, a, &v), ZM_EUNAVAILABLE);
    zm_search_hit *hits;
    size_t n, total;
    CHECK_EQ(zm_store_search(s, "r", 1, ZM_SEARCH_EXACT, 5, a, &hits, &n, &total), ZM_EUNAVAILABLE);
    CHECK_EQ(zm_store_begin(s), ZM_EUNAVAILABLE);
    CHECK(cluster("up"));
    /* Back: the session reconnects by itself, nothing acknowledged lost. */
    CHECK_EQ(put_n(s, &ar, "r", 50), ZM_OK);
    zm_store_version *h;
    CHECK_EQ(zm_store_history(s, "r", 1, -1, a, &h, &n), ZM_OK);
    CHECK_EQ(n, 51);
    for (size_t j = 0; j < n; j++) {
        CHECK_EQ(h[j].version, j + 1);
        CHECK_EQ(zm_json_int(h[j].value), (int64_t)j);
    }
    /* A restart while the session is idle: the next call just works. */
    CHECK(cluster("restart"));
    CHECK_EQ(zm_store_get(s, "r", 1, -1, a, &v), ZM_OK);
    CHECK_EQ(v.version, 51);
    zm_arena_deinit(&ar);
    zm_store_close(s);
}

static void test_transaction_across(void) {
    zm_store *s = pt_open(NULL);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(put_n(s, &ar, "txn", 1), ZM_OK);
    CHECK(cluster("restart"));
    /* The transaction is gone with its connection: it fails as a whole. */
    CHECK_EQ(put_n(s, &ar, "txn", 2), ZM_EUNAVAILABLE);
    zm_store_version v;
    CHECK_EQ(zm_store_get(s, "txn", 3, -1, a, &v), ZM_EUNAVAILABLE);
    CHECK_EQ(zm_store_commit(s), ZM_EUNAVAILABLE);
    CHECK(strstr(zm_store_errmsg(), "nothing of it was stored") != NULL);
    /* The next call reconnects; nothing of the transaction is there. */
    CHECK_EQ(zm_store_get(s, "txn", 3, -1, a, &v), ZM_ENOTFOUND);
    CHECK_EQ(put_n(s, &ar, "txn", 3), ZM_OK);
    CHECK_EQ(zm_store_get(s, "txn", 3, -1, a, &v), ZM_OK);
    CHECK_EQ(v.version, 1);
    /* Rolling back after a loss is fine too. */
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    CHECK_EQ(put_n(s, &ar, "txn", 4), ZM_OK);
    CHECK(cluster("restart"));
    CHECK_EQ(zm_store_rollback(s), ZM_OK);
    CHECK_EQ(zm_store_get(s, "txn", 3, -1, a, &v), ZM_OK);
    CHECK_EQ(v.version, 1);
    zm_arena_deinit(&ar);
    zm_store_close(s);
}

int main(int argc, char **argv) {
    pt_setup("restart");
    if (argc < 2) {
        fprintf(stderr, "usage: test_pg_restart PATH/pg_cluster.sh\n");
        return 1;
    }
    script = argv[1];
    /* The server must be one the script can restart (its own cluster). */
    char line[4096];
    snprintf(line, sizeof line, "'%s' env >/dev/null 2>&1", script);
    if (system(line) != 0) {
        const char *ci = getenv("CI");
        fprintf(stderr, "pg_restart: ZMEM_TEST_PG is not a cluster of %s: %s\n", script,
                ci && strcmp(ci, "true") == 0 ? "failed" : "skipped");
        pt_teardown();
        return ci && strcmp(ci, "true") == 0 ? 1 : 77;
    }
    RUN(test_outage);
    RUN(test_transaction_across);
    pt_teardown();
    return zt_finish("pg_restart");
}
