/* The store's conformance suite: every behaviour the interface promises
   (include/zmem/store.h), checked against every backend through a factory.
   Each part of the suite is its own program (tests/store/test_conformance_*.c)
   and includes this header first: the backends, open_store, stats, TEST, and
   conformance_main, which runs the part against the backend its argument
   names.

   Usage: test_store_conformance_PART BACKEND (memory, sqlite, postgres; "all"
   for each in turn; postgres uses the server ZMEM_TEST_PG names). A backend
   that is not built in (its factory answers ZM_ENOTSUP) is reported and
   skipped (exit 77), or counted as a failure when CI=true. */
#ifndef ZMEM_TESTS_STORE_CONFORMANCE_H
#define ZMEM_TESTS_STORE_CONFORMANCE_H

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "store_test.h"

/* ---------------------------------------------------------------------------
 * Backends
 * ------------------------------------------------------------------------- */

/* Makes a new, empty store of one backend: name says which test asks (for
   file names), lim the limits (NULL = defaults). */
typedef zm_status (*store_factory)(const char *name, const zm_store_limits *lim, zm_store **out);

static zm_status memory_factory(const char *name, const zm_store_limits *lim, zm_store **out) {
    (void)name;
    return zm_store_memory_create(zm_default_allocator(), lim, out);
}

/* SQLite: a fresh file per store, in a directory made for the run and
   removed at its end. */
static char sqlite_dir[PATH_MAX];
static unsigned sqlite_files;

static zm_status sqlite_factory(const char *name, const zm_store_limits *lim, zm_store **out) {
    if (sqlite_dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(sqlite_dir, sizeof sqlite_dir, "%s/zmem-conformance-XXXXXX",
                 tmp && tmp[0] ? tmp : "/tmp");
        if (mkdtemp(sqlite_dir) == NULL) {
            sqlite_dir[0] = '\0';
            return zm_store_fail(ZM_EIO, "mkdtemp failed");
        }
    }
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s-%u.db", sqlite_dir, name, sqlite_files++);
    zm_store_opts o;
    memset(&o, 0, sizeof o);
    if (lim != NULL) o.limits = *lim;
    return zm_store_open(path, &o, out);
}

/* Removes the run's directory and every file in it (databases, -wal, -shm). */
static void sqlite_cleanup(void) {
    if (sqlite_dir[0] == '\0') return;
    DIR *d = opendir(sqlite_dir);
    if (d != NULL) {
        struct dirent *e;
        char path[PATH_MAX + 300];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(path, sizeof path, "%s/%s", sqlite_dir, e->d_name);
            if (unlink(path) != 0) fprintf(stderr, "cannot remove %s\n", path);
        }
        closedir(d);
    }
    if (rmdir(sqlite_dir) != 0) fprintf(stderr, "cannot remove %s\n", sqlite_dir);
    sqlite_dir[0] = '\0';
}

#ifdef ZMEM_HAVE_POSTGRES
#include <libpq-fe.h>

/* PostgreSQL: the server ZMEM_TEST_PG names (tests/pg/pg_cluster.sh start
   makes one), a fresh schema per store, all dropped at the end of the run. */
static unsigned pg_schemas;

/* Runs one statement on the server; false on failure. */
static bool pg_run(const char *sql) {
    PGconn *c = PQconnectdb(getenv("ZMEM_TEST_PG"));
    bool ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult *r = PQexec(c, "SET client_min_messages = warning");
        PQclear(r);
        r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) fprintf(stderr, "  %s: %s", sql, PQerrorMessage(c));
        PQclear(r);
    }
    PQfinish(c);
    return ok;
}

static zm_status postgres_factory(const char *name, const zm_store_limits *lim, zm_store **out) {
    (void)name;
    const char *env = getenv("ZMEM_TEST_PG");
    if (env == NULL || env[0] == '\0')
        return zm_store_fail(ZM_ENOTSUP, "ZMEM_TEST_PG names no server (tests/pg/pg_cluster.sh)");
    if (strchr(env, '=') == NULL || strstr(env, "://") != NULL)
        return zm_store_fail(ZM_EINVAL, "ZMEM_TEST_PG must be a key=value connection string");
    char sql[96], conninfo[4096];
    unsigned n = pg_schemas++;
    snprintf(sql, sizeof sql, "CREATE SCHEMA zc_%ld_%u", (long)getpid(), n);
    if (!pg_run(sql)) return zm_store_fail(ZM_EIO, "cannot create a schema");
    snprintf(conninfo, sizeof conninfo, "%s options='-c search_path=zc_%ld_%u'", env,
             (long)getpid(), n);
    zm_store_opts o;
    memset(&o, 0, sizeof o);
    if (lim != NULL) o.limits = *lim;
    return zm_store_open(conninfo, &o, out);
}

/* Drops the run's schemas. */
static void postgres_cleanup(void) {
    for (unsigned i = 0; i < pg_schemas; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "DROP SCHEMA zc_%ld_%u CASCADE", (long)getpid(), i);
        pg_run(sql);
    }
    pg_schemas = 0;
}
#else
static zm_status postgres_factory(const char *name, const zm_store_limits *lim, zm_store **out) {
    (void)name;
    (void)lim;
    (void)out;
    return zm_store_fail(ZM_ENOTSUP, "this zmem was built without PostgreSQL (libpq)");
}

static void postgres_cleanup(void) {}
#endif

typedef struct backend {
    const char *name;
    store_factory make;
    bool exact_bm25; /* scores are the header's formula to the last digit */
    bool rollback;   /* zm_store_rollback undoes a transaction */
} backend;

static const backend backends[] = {
    {"memory", memory_factory, true, false},
    {"sqlite", sqlite_factory, false, true},
    {"postgres", postgres_factory, true, true},
};

static const backend *cur;   /* the backend under test */
static const char *cur_test; /* the test running, for file names */
static const char *cur_part; /* the program's name, for its summary line */

/* A new store of the backend under test. */
static zm_store *open_store(const zm_store_limits *lim) {
    zm_store *s = NULL;
    zm_status st = cur->make(cur_test, lim, &s);
    CHECK_EQ(st, ZM_OK);
    if (st != ZM_OK) {
        fprintf(stderr, "  cannot open a %s store: %s\n", cur->name, zm_store_errmsg());
        exit(zt_finish(cur_part));
    }
    CHECK_STR(zm_store_backend(s), cur->name);
    return s;
}

#define TEST(fn)                                                                                   \
    do {                                                                                           \
        cur_test = #fn;                                                                            \
        RUN(fn);                                                                                   \
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_WITH_LIMIT, (size_t)1 << 20);                          \
    } while (0)

static zm_store_stats stats(zm_store *s) {
    zm_store_stats st;
    CHECK_EQ(zm_store_stats_get(s, &st), ZM_OK);
    return st;
}

/* ---------------------------------------------------------------------------
 * The run
 * ------------------------------------------------------------------------- */

/* Runs the suite against b. Returns false when b is not built in. */
static bool run_backend(const backend *b, void (*run_all)(void)) {
    cur = b;
    cur_test = "probe";
    zm_store *probe = NULL;
    zm_status st = b->make("probe", NULL, &probe);
    if (st == ZM_ENOTSUP) {
        fprintf(stderr, "%s: the %s backend is not available: %s\n", cur_part, b->name,
                zm_store_errmsg());
        return false;
    }
    CHECK_EQ(st, ZM_OK);
    if (st != ZM_OK) return true;
    zm_store_close(probe);
    int before = zt_failures;
    run_all();
    fprintf(stderr, "%s: %s backend: %s\n", cur_part, b->name,
            zt_failures == before ? "ok" : "FAILED");
    return true;
}

/* The whole of a part's main: runs run_all (the part's tests, each through
   TEST) against the backend argv[1] names, or each in turn for "all"; name
   heads the part's messages. Returns main's exit code: 0, 1 on a failure, 2
   on a bad argument, 77 (skipped) when the backend is not built in and CI is
   not true. */
static int conformance_main(int argc, char **argv, const char *name, void (*run_all)(void)) {
    cur_part = name;
    const char *which = argc > 1 ? argv[1] : "memory";
    bool ci = getenv("CI") != NULL && strcmp(getenv("CI"), "true") == 0;
    zm_arena_init(&ar, zm_default_allocator());
    bool known = false, missing = false;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        if (strcmp(which, "all") != 0 && strcmp(which, backends[i].name) != 0) continue;
        known = true;
        if (!run_backend(&backends[i], run_all)) missing = true;
    }
    sqlite_cleanup();
    postgres_cleanup();
    zm_arena_deinit(&ar);
    if (!known) {
        fprintf(stderr, "usage: %s memory|sqlite|postgres|all\n", argv[0]);
        return 2;
    }
    if (missing) {
        if (ci) {
            fprintf(stderr, "%s: a backend is missing: a failure in CI\n", cur_part);
            zt_failures++;
        } else if (zt_failures == 0 && strcmp(which, "all") != 0) {
            fprintf(stderr, "%s: skipped (set CI=true to fail instead)\n", cur_part);
            return 77; /* meson: skipped */
        }
    }
    return zt_finish(cur_part);
}

#endif
