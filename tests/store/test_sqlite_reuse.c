/* A store keeps working after an allocation failed inside SQLite.
 *
 * SQLite's memory and the store's go through a failing allocator
 * (zm_sqlite_use_allocator, zm_store_opts.alloc) that fails its Nth
 * allocation. For every N on the path of one call (a purge, which deletes a
 * key's token row; a search, which indexes the keys waiting), the call fails
 * cleanly or succeeds, and
 * then, on the same store and with nothing failing, a purge, a put and a
 * search must succeed and the file must be consistent, FTS5's totals
 * included. SQLite 3.40's FTS5 keeps totals it failed to load as if they were
 * loaded; without the backend replacing the connection after such a failure,
 * the next purge answered ZM_ECORRUPT and a later write could store the
 * wrong totals.
 */
#define _GNU_SOURCE
#include "sqlite_check.h"
#include "sqlite_test.h"
#include "zmem/failing.h"

void zm__sq_alloc_keep(bool on);

/* CHECK, saying what failed in the words given. */
#define CHECKF(cond, ...)                                                                          \
    do {                                                                                           \
        bool zt_ok = (cond);                                                                       \
        CHECK(zt_ok);                                                                              \
        if (!zt_ok) {                                                                              \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

/* Every allocation of SQLite's and of the store's; fails the one chosen. */
static zm_failing failing;

/* The calls that fail: 0 a purge of an indexed key, 1 a search that indexes. */
static zm_status failing_call(zm_store *s, zm_arena *ar, int which) {
    zm_search_hit *h;
    size_t n, total;
    bool existed;
    if (which == 0) return st_forget(s, "k0", true, 11, &existed);
    return zm_store_search(s, "apple", 5, ZM_SEARCH_TOKEN, 5, zm_arena_allocator(ar), &h, &n,
                           &total);
}

/* Sweeps the failure over call which; returns how many runs failed it. */
static long sweep(const char *path, int which, long *runs) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    long failed_runs = 0;
    for (long n = 0;; n++) {
        st_remove_db(path);
        zm_store *s = NULL;
        zm_failing_reset(&failing, SIZE_MAX, SIZE_MAX);
        zm_store_opts o = {.alloc = zm_failing_allocator(&failing)};
        CHECK_EQ(zm_store_sqlite_open(path, &o, &s), ZM_OK);
        char key[16];
        for (int k = 0; k < 6; k++) {
            snprintf(key, sizeof key, "k%d", k);
            CHECK_EQ(st_put(s, &ar, key, "\"apple pie\"", k + 1, NULL), ZM_OK);
        }
        zm_search_hit *h;
        size_t hn, total;
        bool existed;
        CHECK_EQ(zm_store_search(s, "apple", 5, ZM_SEARCH_TOKEN, 5, zm_arena_allocator(&ar), &h,
                                 &hn, &total),
                 ZM_OK);
        CHECK_EQ(hn, (size_t)5);
        CHECK_EQ(st_put(s, &ar, "k1", "\"pear\"", 10, NULL), ZM_OK);

        zm_failing_reset(&failing, (size_t)n, SIZE_MAX);
        zm_status st = failing_call(s, &ar, which);
        bool failed = failing.has_induced_failure;
        zm_failing_reset(&failing, SIZE_MAX, SIZE_MAX);
        if (failed) {
            failed_runs++;
            CHECKF(st == ZM_ENOMEM || st == ZM_OK, "allocation %ld of call %d: %s", n, which,
                   zm_status_name(st));
        } else {
            CHECK_EQ(st, ZM_OK);
        }
        /* The same store, nothing failing. */
        CHECKF(st_forget(s, "k2", true, 12, &existed) == ZM_OK,
               "a purge after allocation %ld of call %d failed: %s", n, which, zm_store_errmsg());
        CHECKF(st_put(s, &ar, "k3", "\"plum\"", 13, NULL) == ZM_OK,
               "a put after allocation %ld of call %d failed: %s", n, which, zm_store_errmsg());
        CHECKF(zm_store_search(s, "plum", 4, ZM_SEARCH_TOKEN, 5, zm_arena_allocator(&ar), &h, &hn,
                               &total) == ZM_OK,
               "a search after allocation %ld of call %d failed: %s", n, which, zm_store_errmsg());
        CHECK_EQ(hn, (size_t)1);
        zm_store_close(s);
        CHECKF(sq_consistent(path), "the file after allocation %ld of call %d", n, which);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
        if (!failed) {
            *runs = n + 1;
            break;
        }
    }
    zm_arena_deinit(&ar);
    return failed_runs;
}

int main(void) {
    st_tmpdir("sqlite-reuse");
    /* Every block SQLite asks for comes from the failing allocator. */
    zm__sq_alloc_keep(false);
    zm_failing_init(&failing, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    CHECK_EQ(zm_sqlite_use_allocator(zm_failing_allocator(&failing)), ZM_OK);
    char p[512];
    st_path(p, sizeof p, "reuse.db");
    for (int which = 0; which < 2; which++) {
        long runs = 0, failed = sweep(p, which, &runs);
        printf("%s: %ld allocations failed in turn, then a purge, a put and a search on the "
               "same store\n",
               which == 0 ? "purge" : "search", failed);
        CHECK(failed > 100); /* the sweep reached into SQLite */
        CHECK_EQ(runs, failed + 1);
    }
    st_remove_db(p);
    st_rmdir();
    return zt_finish("store_sqlite_reuse");
}
