/* What the postgres backend's tests share: the server from ZMEM_TEST_PG (a
   libpq connection string; without it the tests are skipped, exit 77), a
   fresh schema per test program, and direct queries with libpq. */
#ifndef ZMEM_TESTS_PG_TEST_H
#define ZMEM_TESTS_PG_TEST_H

#define _POSIX_C_SOURCE 200809L
#include <libpq-fe.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "zmem/store.h"

/* The connection string of the tests' schema, and the schema's name. */
static char pt_conninfo[4096];
static char pt_schema[64];

/* Appends "key='value' " to buf (value quoted as libpq reads it). */
static void pt_append(char *buf, size_t size, const char *key, const char *value) {
    size_t o = strlen(buf);
    o += (size_t)snprintf(buf + o, size - o, "%s='", key);
    for (const char *p = value; *p && o + 3 < size; p++) {
        if (*p == '\'' || *p == '\\') buf[o++] = '\\';
        buf[o++] = *p;
    }
    snprintf(buf + o, size - o, "' ");
}

/* Drops the server's notices (DROP ... CASCADE lists what it drops). */
static void pt_quiet(void *arg, const char *msg) {
    (void)arg;
    (void)msg;
}

/* Connects to the tests' server straight through libpq (schema search path
   set when with_schema); exits on failure. */
static PGconn *pt_connect(bool with_schema) {
    PGconn *c = PQconnectdb(with_schema ? pt_conninfo : getenv("ZMEM_TEST_PG"));
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect to ZMEM_TEST_PG: %s", PQerrorMessage(c));
        exit(1);
    }
    PQsetNoticeProcessor(c, pt_quiet, NULL);
    return c;
}

/* Runs SQL with printf-style arguments (test-made names only, never data);
   returns the result (the caller clears it) or exits on an error. */
static PGresult *pt_sql(PGconn *c, const char *fmt, ...) {
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    PGresult *r = PQexec(c, sql);
    ExecStatusType es = PQresultStatus(r);
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
        exit(1);
    }
    return r;
}

/* The first field of a query's first row as an integer. */
static long long pt_count(PGconn *c, const char *fmt, const char *arg) {
    PGresult *r = pt_sql(c, fmt, arg);
    long long n = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return n;
}

/* Sets up the tests' schema (or skips the program, exit 77, without
   ZMEM_TEST_PG) and fills pt_conninfo. */
static void pt_setup(const char *prog) {
    const char *env = getenv("ZMEM_TEST_PG");
    if (env == NULL || env[0] == '\0') {
        fprintf(stderr, "%s: ZMEM_TEST_PG is not set (tests/pg/pg_cluster.sh start): skipped\n",
                prog);
        exit(77);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(pt_schema, sizeof pt_schema, "zt_%s_%ld_%ld", prog, (long)getpid(),
             (long)(ts.tv_nsec % 100000));
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(env, &err);
    if (opts == NULL) {
        fprintf(stderr, "ZMEM_TEST_PG is not a connection string: %s\n", err ? err : "");
        exit(1);
    }
    pt_conninfo[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (o->val != NULL && strcmp(o->keyword, "options") != 0)
            pt_append(pt_conninfo, sizeof pt_conninfo, o->keyword, o->val);
    PQconninfoFree(opts);
    char search[128];
    snprintf(search, sizeof search, "-c search_path=%s", pt_schema);
    pt_append(pt_conninfo, sizeof pt_conninfo, "options", search);
    PGconn *c = pt_connect(false);
    PQclear(pt_sql(c, "CREATE SCHEMA %s", pt_schema));
    PQfinish(c);
}

/* Empties the tests' schema: each test starts from no tables. */
static void pt_reset(void) {
    PGconn *c = pt_connect(false);
    PQclear(pt_sql(c, "DROP SCHEMA %s CASCADE", pt_schema));
    PQclear(pt_sql(c, "CREATE SCHEMA %s", pt_schema));
    PQfinish(c);
}

/* Drops the tests' schema. */
static void pt_teardown(void) {
    PGconn *c = pt_connect(false);
    PQclear(pt_sql(c, "DROP SCHEMA %s CASCADE", pt_schema));
    PQfinish(c);
}

/* Opens the backend on the tests' schema with opts (NULL: defaults). */
static zm_store *pt_open(const zm_store_opts *opts) {
    zm_store *s = NULL;
    zm_status st = zm_store_open(pt_conninfo, opts, &s);
    if (st != ZM_OK) {
        fprintf(stderr, "cannot open the store: %s: %s\n", zm_status_name(st), zm_store_errmsg());
        exit(1);
    }
    return s;
}

/* A write of a parsed JSON value (the text must be valid JSON). */
static zm_store_write pt_write(zm_arena *ar, const char *key, const char *json, int64_t ts) {
    zm_store_write w;
    memset(&w, 0, sizeof w);
    w.key = key;
    w.key_len = strlen(key);
    zm_json *v = NULL;
    if (zm_json_parse_arena(ar, json, strlen(json), NULL, &v, NULL) != ZM_OK) {
        fprintf(stderr, "bad test JSON: %s\n", json);
        exit(1);
    }
    w.value = v;
    w.ts_ms = ts;
    return w;
}

#endif
