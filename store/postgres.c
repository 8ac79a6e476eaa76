/* The postgres backend: the connection (reconnecting after a loss), the
   schema and its migrations, running prepared statements and mapping their
   errors to zmem's codes, transactions, stats, and the vtable. Writes are
   postgres_write.c, reads postgres_read.c, search postgres_search.c, the
   graph postgres_graph.c. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>

#include "postgres_internal.h"

/* What the scratch arena keeps across calls. */
#define SCRATCH_BLOCK  ((size_t)16 << 10)
#define SCRATCH_RETAIN ((size_t)256 << 10)
/* Runs of a statement that met a serialization failure or a deadlock. */
#define MAX_ATTEMPTS 8
/* A key for pg_advisory_xact_lock: openers migrate the schema one at a
   time. */
#define MIGRATE_LOCK 0x7a6d656d

static const zm_store_vtable postgres_vtable;

const zm_json zm__pg_null = {.type = ZM_JSON_NULL, .flags = ZM_JSON_F_SHARED};

/* ---------------------------------------------------------------------------
 * Parameters
 * ------------------------------------------------------------------------- */

void zm__pg_p_text(zm__pg_params *p, const char *s, size_t len) {
    int i = p->n++;
    p->vals[i] = len ? s : "";
    p->lens[i] = (int)len;
    p->fmts[i] = 1;
}

void zm__pg_p_int8(zm__pg_params *p, int64_t v) {
    int i = p->n++;
    uint64_t u = (uint64_t)v;
    for (int b = 7; b >= 0; b--) {
        p->ints[i][b] = (unsigned char)(u & 0xFF);
        u >>= 8;
    }
    p->vals[i] = (const char *)p->ints[i];
    p->lens[i] = 8;
    p->fmts[i] = 1;
}

void zm__pg_p_null(zm__pg_params *p) {
    int i = p->n++;
    p->vals[i] = NULL;
    p->lens[i] = 0;
    p->fmts[i] = 0;
}

void zm__pg_p_literal(zm__pg_params *p, const char *s) {
    int i = p->n++;
    p->vals[i] = s;
    p->lens[i] = 0;
    p->fmts[i] = 0;
}

/* ---------------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------------- */

/* The value of a hex digit. */
static int hexval(char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

int64_t zm__pg_int(const PGresult *r, int row, int col) {
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool zm__pg_bool(const PGresult *r, int row, int col) {
    return PQgetvalue(r, row, col)[0] == 't';
}

const char *zm__pg_str(const PGresult *r, int row, int col, zm_allocator a, size_t *len) {
    const char *t = PQgetvalue(r, row, col);
    size_t n = (size_t)PQgetlength(r, row, col);
    if (n >= 2 && t[0] == '\\' && t[1] == 'x') {
        t += 2;
        n = (n - 2) / 2;
    } else {
        t = NULL; /* not hex: copied as it is */
    }
    char *p = zm_alloc(a, n + 1, 1);
    if (p == NULL) return NULL;
    if (t == NULL) {
        memcpy(p, PQgetvalue(r, row, col), n);
    } else {
        for (size_t i = 0; i < n; i++) p[i] = (char)(hexval(t[2 * i]) << 4 | hexval(t[2 * i + 1]));
    }
    p[n] = '\0';
    *len = n;
    return p;
}

/* True when a is an arena's allocator: values then parse straight into it. */
static bool is_arena(zm_allocator a) {
    return a.vtable == zm_arena_allocator(NULL).vtable;
}

zm_status zm__pg_json(zm__pg *s, const PGresult *r, int row, int col, zm_allocator a,
                      const zm_json **out) {
    *out = NULL;
    if (PQgetisnull(r, row, col)) return ZM_OK;
    const char *t = PQgetvalue(r, row, col);
    size_t n = (size_t)PQgetlength(r, row, col);
    zm_json_parse_opts po = {0, 0, ZM_JSON_DUP_ERROR};
    size_t depth = s->base.limits.max_depth + 8;
    po.max_depth = depth > ZM_JSON_DEFAULT_MAX_DEPTH ? (uint32_t)depth : ZM_JSON_DEFAULT_MAX_DEPTH;
    zm_json *v = NULL;
    zm_json_error err;
    memset(&err, 0, sizeof err);
    zm_status st;
    if (is_arena(a)) {
        st = zm_json_parse_arena((zm_arena *)a.ctx, t, n, &po, &v, &err);
    } else {
        /* A general allocator: a value the caller can give back with
           zm_json_free(a, ...). */
        zm_json_doc *d = NULL;
        st = zm_json_parse(a, t, n, &po, &d, &err);
        if (st == ZM_OK) {
            st = zm_json_clone(a, zm_json_doc_root(d), &v);
            zm_json_doc_free(d);
        }
    }
    if (st == ZM_ENOMEM) return ZM_ENOMEM;
    if (st != ZM_OK)
        return zm_store_fail(ZM_ECORRUPT, "a value stored in the database is not valid JSON: %s",
                             err.message);
    *out = v;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

/* The server's message of r, or the connection's, without a final newline,
   into buf. */
static const char *error_text(const zm__pg *s, const PGresult *r, char *buf, size_t size) {
    const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (m == NULL) m = PQerrorMessage(s->conn);
    if (m == NULL || m[0] == '\0') m = "no message";
    snprintf(buf, size, "%s", m);
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
    return buf;
}

/* Whether state (a SQLSTATE, may be NULL) starts with class. */
static bool state_is(const char *state, const char *class) {
    return state != NULL && strncmp(state, class, strlen(class)) == 0;
}

/* Turns a failed result (r may be NULL; it is cleared) into a status and a
   message, recording a lost connection or a failed transaction. */
static zm_status fail_result(zm__pg *s, PGresult *r, const char *what) {
    char msg[200], code[8] = "";
    /* Copied: the field lives in r, which is cleared below. */
    const char *field = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (field != NULL) snprintf(code, sizeof code, "%s", field);
    const char *state = field != NULL ? code : NULL;
    error_text(s, r, msg, sizeof msg);
    bool lost = PQstatus(s->conn) != CONNECTION_OK || state_is(state, "08") ||
                state_is(state, "57P01") || state_is(state, "57P02") || state_is(state, "57P03");
    zm_status st;
    if (lost) {
        st = ZM_EUNAVAILABLE;
        s->lost = true;
    } else if (state_is(state, "40001") || state_is(state, "40P01")) {
        st = ZM_ECONFLICT;
    } else if (state_is(state, "55P03") || state_is(state, "57014")) {
        st = ZM_EBUSY; /* a lock wait past lock_timeout, or a statement cancelled */
    } else if (state_is(state, "54")) {
        st = ZM_ELIMIT;
    } else if (state_is(state, "22")) {
        st = ZM_EINVAL;
    } else if (state_is(state, "42")) {
        st = ZM_ECORRUPT;
    } else {
        st = ZM_EIO;
    }
    PQclear(r);
    if (s->in_txn && !s->txn_failed) {
        s->txn_failed = true;
        s->txn_status = st;
    }
    switch (st) {
    case ZM_EUNAVAILABLE:
        return zm_store_fail(st,
                             "the PostgreSQL server cannot be reached while %s: %s (the next "
                             "call reconnects)",
                             what, msg);
    case ZM_EBUSY:
        if (state_is(state, "57014"))
            return zm_store_fail(st,
                                 "%s was cancelled by the server (a statement_timeout, or a "
                                 "cancel request): %s",
                                 what, msg);
        return zm_store_fail(st, "%s waited %d ms for a lock: %s", what, s->busy_ms, msg);
    case ZM_ECORRUPT:
        return zm_store_fail(st, "%s: the database's tables are not zmem's: %s", what, msg);
    default: return zm_store_fail(st, "%s: %s (SQLSTATE %s)", what, msg, state ? state : "none");
    }
}

zm_status zm__pg_check_writable(const zm__pg *s) {
    if (s->read_only) return zm_store_fail(ZM_EINVAL, "the store was opened read-only");
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Statements
 * ------------------------------------------------------------------------- */

/* Sleeps ms milliseconds (the pause before a statement runs again). */
static void pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Prepares statement id on this connection unless it is already. */
static zm_status prepare(zm__pg *s, zm__pg_stmt id, const char *name, const char *what) {
    if (s->prepared[id]) return ZM_OK;
    PGresult *r = PQprepare(s->conn, name, zm__pg_sql[id], 0, NULL);
    if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) return fail_result(s, r, what);
    PQclear(r);
    s->prepared[id] = true;
    return ZM_OK;
}

zm_status zm__pg_exec(zm__pg *s, zm__pg_stmt id, const zm__pg_params *p, const char *what,
                      PGresult **res) {
    static const zm__pg_params none = {.n = 0};
    if (p == NULL) p = &none;
    *res = NULL;
    char name[16];
    snprintf(name, sizeof name, "zm%d", (int)id);
    for (int attempt = 1;; attempt++) {
        zm_status pst = prepare(s, id, name, what);
        if (pst != ZM_OK) return pst;
        PGresult *r = PQexecPrepared(s->conn, name, p->n, p->vals, p->lens, p->fmts, 0);
        ExecStatusType es = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK) {
            *res = r;
            return ZM_OK;
        }
        bool in_txn = s->in_txn;
        zm_status st = fail_result(s, r, what);
        /* The one place that retries: a statement that was its own
           transaction lost to another writer; it changed nothing. */
        if (st != ZM_ECONFLICT || in_txn || attempt >= MAX_ATTEMPTS) return st;
        pause_ms(1L << (attempt < 6 ? attempt : 6));
    }
}

/* Asks the server to stop the statement running on s's connection (a new
   connection of libpq's, which waits for the server to take the request);
   false when it could not be asked. The statement may end before the request
   arrives, and then nothing is cancelled. */
static bool cancel(zm__pg *s) {
    PGcancel *c = PQgetCancel(s->conn);
    if (c == NULL) return false;
    char err[256];
    int ok = PQcancel(c, err, sizeof err);
    PQfreeCancel(c);
    return ok == 1;
}

zm_status zm__pg_exec_rows(zm__pg *s, zm__pg_stmt id, const zm__pg_params *p, const char *what,
                           zm_status (*row)(void *ctx, const PGresult *r), void *ctx) {
    static const zm__pg_params none = {.n = 0};
    if (p == NULL) p = &none;
    char name[16];
    snprintf(name, sizeof name, "zm%d", (int)id);
    zm_status st = prepare(s, id, name, what);
    if (st != ZM_OK) return st;
    /* Its own transaction: no transaction block is open on the server. */
    bool own_txn = !s->in_txn && PQtransactionStatus(s->conn) == PQTRANS_IDLE;
    if (!PQsendQueryPrepared(s->conn, name, p->n, p->vals, p->lens, p->fmts, 0))
        return fail_result(s, NULL, what);
    /* Refused only when no query was sent, which cannot be; if it ever
       were, the rows would come in one result that is not handed to row:
       say so rather than read them as none. */
    zm_status row_st =
        PQsetSingleRowMode(s->conn)
            ? ZM_OK
            : zm_store_fail(ZM_EIO, "%s: libpq refused to give rows one at a time", what);
    PGresult *r;
    bool cancelled = false;
    while ((r = PQgetResult(s->conn)) != NULL) {
        ExecStatusType es = PQresultStatus(r);
        if (es == PGRES_SINGLE_TUPLE) {
            if (row_st == ZM_OK) {
                row_st = row(ctx, r);
                /* The rest is read off and dropped, so that the connection is
                   ready; outside a transaction the server is asked to stop
                   sending it (inside one, a cancelled statement would end
                   the caller's transaction). */
                if (row_st != ZM_OK && own_txn) cancelled = cancel(s);
            }
            PQclear(r);
        } else if (es == PGRES_TUPLES_OK || es == PGRES_COMMAND_OK || st != ZM_OK) {
            PQclear(r);
        } else if (cancelled && state_is(PQresultErrorField(r, PG_DIAG_SQLSTATE), "57014")) {
            PQclear(r); /* the cancel asked for above */
        } else {
            st = fail_result(s, r, what); /* clears r */
        }
    }
    return st != ZM_OK ? st : row_st;
}

/* Runs statement id and clears its result. */
static zm_status exec_clear(zm__pg *s, zm__pg_stmt id, const zm__pg_params *p, const char *what) {
    PGresult *r;
    zm_status st = zm__pg_exec(s, id, p, what, &r);
    PQclear(r);
    return st;
}

/* Runs one statement of SQL text with no parameter (the schema's), through
   the extended protocol. */
static zm_status exec_sql(zm__pg *s, const char *sql, const char *what) {
    PGresult *r = PQexecParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    ExecStatusType es = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK) {
        PQclear(r);
        return ZM_OK;
    }
    return fail_result(s, r, what);
}

void zm__pg_done(zm__pg *s) {
    zm_arena_reset(&s->scratch, ZM_ARENA_RETAIN_WITH_LIMIT, SCRATCH_RETAIN);
}

/* ---------------------------------------------------------------------------
 * The connection
 * ------------------------------------------------------------------------- */

/* Drops the server's notices: a library prints nothing. */
static void ignore_notice(void *arg, const char *msg) {
    (void)arg;
    (void)msg;
}

/* Sets a server setting for the session. */
static zm_status set_config(zm__pg *s, const char *name, const char *value) {
    zm__pg_params p = {.n = 0};
    zm__pg_p_text(&p, name, strlen(name));
    zm__pg_p_text(&p, value, strlen(value));
    return exec_clear(s, ZM__PG_SET_CONFIG, &p, "configuring the session");
}

/* Prepares a fresh connection: encoding, lock timeout, read-only. */
static zm_status session_setup(zm__pg *s) {
    memset(s->prepared, 0, sizeof s->prepared);
    if (PQsetClientEncoding(s->conn, "UTF8") != 0)
        return fail_result(s, NULL, "setting the client encoding");
    const char *enc = PQparameterStatus(s->conn, "server_encoding");
    if (enc != NULL && strcmp(enc, "UTF8") != 0 && strcmp(enc, "SQL_ASCII") != 0)
        return zm_store_fail(ZM_ENOTSUP,
                             "the database's encoding is %s; zmem needs a UTF8 database", enc);
    char ms[32];
    snprintf(ms, sizeof ms, "%dms", s->busy_ms);
    zm_status st = set_config(s, "lock_timeout", ms);
    if (st == ZM_OK) st = set_config(s, "bytea_output", "hex");
    if (st == ZM_OK && s->sync_full) st = set_config(s, "synchronous_commit", "on");
    if (st == ZM_OK && s->read_only) st = set_config(s, "default_transaction_read_only", "on");
    return st;
}

/* Reads what an idle connection received (a server going down sends an
   error, then closes), so a closed one shows as CONNECTION_BAD. One poll
   when nothing came. */
static void drain(zm__pg *s) {
    for (int i = 0; i < 4 && PQstatus(s->conn) == CONNECTION_OK; i++) {
        struct pollfd p = {PQsocket(s->conn), POLLIN, 0};
        if (p.fd < 0 || poll(&p, 1, 0) <= 0) return;
        if (!PQconsumeInput(s->conn)) return;
        PGnotify *n;
        while ((n = PQnotifies(s->conn)) != NULL) PQfreemem(n);
    }
}

zm_status zm__pg_ready(zm__pg *s) {
    if (s->txn_failed)
        return zm_store_fail(s->txn_status == ZM_OK ? ZM_EIO : s->txn_status,
                             "an earlier call of this transaction failed, so the server rolled "
                             "it back: end it with commit or rollback");
    /* An idle connection the server closed (a restart) is seen here, before
       a statement is sent, so the call can reconnect and go on. */
    if (!s->lost && !s->in_txn && PQstatus(s->conn) == CONNECTION_OK) drain(s);
    if (!s->lost && PQstatus(s->conn) == CONNECTION_OK) return ZM_OK;
    if (s->in_txn) {
        s->txn_failed = true;
        s->txn_status = ZM_EUNAVAILABLE;
        return zm_store_fail(ZM_EUNAVAILABLE, "the connection to the PostgreSQL server was lost "
                                              "during the transaction, which is rolled back: end "
                                              "it with commit or rollback");
    }
    PQreset(s->conn);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        char msg[200];
        s->lost = true;
        return zm_store_fail(ZM_EUNAVAILABLE,
                             "cannot reach the PostgreSQL server: %s (the next call tries again)",
                             error_text(s, NULL, msg, sizeof msg));
    }
    s->lost = false;
    return session_setup(s);
}

/* The schema's version (0 for none yet), in a table of its own. */
static const char version_sql[] = "SELECT coalesce(max(version), 0) FROM zmem_schema";

/* Whether the schema is there at this zmem's version: read without a lock,
   so that opens of a current schema do not wait on one another (a schema's
   version row commits with its migration, so what it says is whole). */
static bool schema_current(zm__pg *s) {
    PGresult *r = PQexecParams(s->conn, "SELECT to_regclass('zmem_schema') IS NOT NULL", 0, NULL,
                               NULL, NULL, NULL, 0);
    bool exists = r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                  strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!exists) return false;
    r = PQexecParams(s->conn, version_sql, 0, NULL, NULL, NULL, NULL, 0);
    bool current = r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                   zm__pg_int(r, 0, 0) == ZM__PG_SCHEMA_VERSION;
    PQclear(r);
    return current;
}

/* Creates the schema or migrates it forward, one opener at a time; refuses a
   newer one. */
static zm_status migrate(zm__pg *s) {
    if (!s->read_only && schema_current(s)) return ZM_OK;
    zm_status st = exec_sql(s, "BEGIN", "creating the schema");
    if (st != ZM_OK) return st;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%d)", MIGRATE_LOCK);
    if (!s->read_only) {
        st = exec_sql(s, sql, "creating the schema");
        if (st == ZM_OK)
            st = exec_sql(s, "CREATE TABLE IF NOT EXISTS zmem_schema (version integer NOT NULL)",
                          "creating the schema");
    }
    int version = 0;
    if (st == ZM_OK) {
        PGresult *r = PQexecParams(s->conn, version_sql, 0, NULL, NULL, NULL, NULL, 0);
        if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            version = (int)zm__pg_int(r, 0, 0);
            PQclear(r);
        } else {
            st = fail_result(s, r, "reading the schema's version");
        }
    }
    if (st == ZM_OK && version > ZM__PG_SCHEMA_VERSION)
        st = zm_store_fail(ZM_ECORRUPT,
                           "the database holds zmem schema version %d; this zmem knows versions "
                           "up to %d: use a newer zmem",
                           version, ZM__PG_SCHEMA_VERSION);
    if (st == ZM_OK && version < ZM__PG_SCHEMA_VERSION && s->read_only)
        st = zm_store_fail(ZM_ECORRUPT,
                           "the database holds zmem schema version %d, not %d, and the store is "
                           "read-only",
                           version, ZM__PG_SCHEMA_VERSION);
    for (int v = version + 1; st == ZM_OK && v <= ZM__PG_SCHEMA_VERSION; v++) {
        for (const char *const *q = zm__pg_migrations[v - 1]; st == ZM_OK && *q != NULL; q++)
            st = exec_sql(s, *q, "migrating the schema");
        if (st == ZM_OK) {
            snprintf(sql, sizeof sql, "INSERT INTO zmem_schema (version) VALUES (%d)", v);
            st = exec_sql(s, sql, "migrating the schema");
        }
    }
    if (st == ZM_OK) return exec_sql(s, "COMMIT", "creating the schema");
    if (PQstatus(s->conn) == CONNECTION_OK) {
        PGresult *r = PQexecParams(s->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
        PQclear(r);
    }
    return st;
}

/* Frees the store's memory and closes its connection. */
static void destroy(zm__pg *s) {
    PQfinish(s->conn);
    zm_arena_deinit(&s->scratch);
    if (s->conninfo != NULL) zm_free(s->a, s->conninfo, s->conninfo_len + 1, 1);
    zm_store_base_deinit(&s->base);
    zm_destroy(s->a, s);
}

zm_status zm_store_postgres_open(const char *conninfo, const zm_store_opts *opts, zm_store **out) {
    zm_store_opts o = zm__store_opts(opts);
    if (conninfo == NULL || conninfo[0] == '\0')
        return zm_store_fail(ZM_EINVAL, "the PostgreSQL connection string is empty");
    zm__pg *s = zm_create(o.alloc, zm__pg);
    if (s == NULL) return ZM_ENOMEM;
    memset(s, 0, sizeof *s);
    if (zm_store_base_init(&s->base, &postgres_vtable, &o.limits) != ZM_OK) {
        zm_destroy(o.alloc, s);
        return ZM_ENOMEM;
    }
    s->a = o.alloc;
    s->read_only = o.read_only;
    s->sync_full = o.sync == ZM_STORE_SYNC_FULL;
    s->busy_ms = o.busy_timeout_ms > 0 ? o.busy_timeout_ms : ZM_STORE_DEFAULT_BUSY_TIMEOUT_MS;
    zm_arena_init_sized(&s->scratch, o.alloc, SCRATCH_BLOCK);
    s->conninfo_len = strlen(conninfo);
    s->conninfo = zm_strndup(o.alloc, conninfo, s->conninfo_len);
    if (s->conninfo == NULL) {
        destroy(s);
        return ZM_ENOMEM;
    }
    /* The caller's string comes after the defaults, so its values win. */
    const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *vals[] = {"10", "zmem", s->conninfo, NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (s->conn == NULL) {
        destroy(s);
        return zm_store_fail(ZM_ENOMEM, "libpq could not allocate a connection");
    }
    PQsetNoticeProcessor(s->conn, ignore_notice, NULL);
    zm_status st;
    if (PQstatus(s->conn) != CONNECTION_OK) {
        char msg[200];
        error_text(s, NULL, msg, sizeof msg);
        /* A string libpq cannot parse is the caller's mistake. */
        bool bad = strstr(msg, "invalid") != NULL || strstr(msg, "missing \"=\"") != NULL;
        st = zm_store_fail(bad ? ZM_EINVAL : ZM_EUNAVAILABLE,
                           "cannot connect to the PostgreSQL server: %s", msg);
    } else {
        st = session_setup(s);
        if (st == ZM_OK) st = migrate(s);
    }
    zm__pg_done(s);
    if (st != ZM_OK) {
        destroy(s);
        return st;
    }
    *out = &s->base;
    return ZM_OK;
}

static void pg_close(zm_store *base) {
    destroy((zm__pg *)base);
}

/* ---------------------------------------------------------------------------
 * Transactions: BEGIN on the server; a failure inside ends it (the server
 * aborts it), and commit then answers that failure.
 * ------------------------------------------------------------------------- */

static zm_status pg_begin(zm_store *base) {
    zm__pg *s = (zm__pg *)base;
    zm_status st = zm__pg_ready(s);
    if (st == ZM_OK) st = exec_clear(s, ZM__PG_BEGIN, NULL, "beginning a transaction");
    if (st == ZM_OK) {
        s->in_txn = true;
        s->txn_failed = false;
        s->txn_status = ZM_OK;
    }
    zm__pg_done(s);
    return st;
}

/* Ends the transaction on our side. */
static void txn_end(zm__pg *s) {
    s->in_txn = false;
    s->txn_failed = false;
    s->txn_status = ZM_OK;
}

static zm_status pg_commit(zm_store *base) {
    zm__pg *s = (zm__pg *)base;
    zm_status st;
    if (s->txn_failed) {
        st = s->txn_status;
        if (!s->lost && PQstatus(s->conn) == CONNECTION_OK) {
            s->in_txn = false;
            exec_clear(s, ZM__PG_ROLLBACK, NULL, "rolling back");
        }
        txn_end(s);
        st = zm_store_fail(st == ZM_OK ? ZM_EIO : st,
                           st == ZM_EUNAVAILABLE
                               ? "the connection to the PostgreSQL server was lost during the "
                                 "transaction: nothing of it was stored"
                               : "a call of the transaction failed: nothing of it was stored");
    } else {
        st = exec_clear(s, ZM__PG_COMMIT, NULL, "committing");
        if (st == ZM_EUNAVAILABLE)
            zm_store_fail(st, "the connection to the PostgreSQL server was lost while committing: "
                              "read the data back to learn whether the transaction was stored");
        txn_end(s);
    }
    zm__pg_done(s);
    return st;
}

static zm_status pg_rollback(zm_store *base) {
    zm__pg *s = (zm__pg *)base;
    /* A lost connection rolled the transaction back already. */
    if (!s->lost && PQstatus(s->conn) == CONNECTION_OK) {
        s->in_txn = false;
        exec_clear(s, ZM__PG_ROLLBACK, NULL, "rolling back");
    }
    txn_end(s);
    zm__pg_done(s);
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Stats
 * ------------------------------------------------------------------------- */

static zm_status pg_stats(zm_store *base, zm_store_stats *out) {
    zm__pg *s = (zm__pg *)base;
    memset(out, 0, sizeof *out);
    zm_status st = zm__pg_ready(s);
    PGresult *r = NULL;
    if (st == ZM_OK) st = zm__pg_exec(s, ZM__PG_STATS, NULL, "counting", &r);
    if (st == ZM_OK && PQntuples(r) == 1) {
        out->keys = (size_t)zm__pg_int(r, 0, 0);
        out->versions = (size_t)zm__pg_int(r, 0, 1);
        out->nodes = (size_t)zm__pg_int(r, 0, 2);
        out->edges = (size_t)zm__pg_int(r, 0, 3);
        out->data_bytes = (size_t)zm__pg_int(r, 0, 4);
        out->table_bytes = (size_t)zm__pg_int(r, 0, 5);
    }
    PQclear(r);
    zm__pg_done(s);
    return st;
}

/* The data lives in the server: nothing of the store's own to count here
   (libpq's connection buffers are not exposed). */
static zm_status pg_memory(zm_store *base, zm_store_memory *out) {
    (void)base;
    out->applicable = false;
    out->what = "not applicable: the data lives in the PostgreSQL server";
    return ZM_OK;
}

bool zm__store_have_postgres(void) {
    return true;
}

static const zm_store_vtable postgres_vtable = {
    .size = sizeof(zm_store_vtable),
    .name = "postgres",
    .close = pg_close,
    .put = zm__pg_put,
    .get = zm__pg_get,
    .history = zm__pg_history,
    .search = zm__pg_search,
    .search_skip = zm__pg_search_skip,
    .link = zm__pg_link,
    .unlink = zm__pg_unlink,
    .neighbors = zm__pg_neighbors,
    .forget = zm__pg_forget,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .stats = pg_stats,
    .memory = pg_memory,
    .export_open = zm__pg_export_open,
    .cursor_next = zm__pg_cursor_next,
    .cursor_close = zm__pg_cursor_close,
};
