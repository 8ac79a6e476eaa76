/* The postgres backend's internals, shared by postgres*.c. Never included
   outside store/. */
#ifndef ZMEM_STORE_POSTGRES_INTERNAL_H
#define ZMEM_STORE_POSTGRES_INTERNAL_H

#include <libpq-fe.h>

#include "internal.h"

/* The schema this build writes; a database of a newer one is refused. */
#define ZM__PG_SCHEMA_VERSION 1

/* The prepared statements, each made once per connection when first run. */
typedef enum zm__pg_stmt {
    ZM__PG_SET_CONFIG,
    ZM__PG_BEGIN,
    ZM__PG_COMMIT,
    ZM__PG_ROLLBACK,
    ZM__PG_PUT,
    ZM__PG_FORGET,
    ZM__PG_PURGE,
    ZM__PG_GET,
    ZM__PG_HISTORY,
    ZM__PG_SEARCH_BYTES,
    ZM__PG_SEARCH_TOKENS,
    ZM__PG_LINK,
    ZM__PG_UNLINK,
    ZM__PG_NODE_ID,
    ZM__PG_WALK,
    ZM__PG_STATS,
    ZM__PG_EXPORT,
    ZM__PG_EXPORT_EDGES,
    ZM__PG_NSTMT
} zm__pg_stmt;

/* The store: the header, the connection and what a call needs. */
typedef struct zm__pg {
    zm_store base; /* first: a zm_store * is a zm__pg * */
    zm_allocator a;
    char *conninfo; /* the caller's connection string, copied */
    size_t conninfo_len;
    PGconn *conn;
    zm_arena scratch; /* temporaries of one call; reset after it */
    bool prepared[ZM__PG_NSTMT];
    bool read_only;
    bool sync_full; /* synchronous_commit on, whatever the server's default */
    int busy_ms;
    bool lost; /* the connection broke: the next call reconnects */
    /* A transaction begun by zm_store_begin is open on the server. */
    bool in_txn;
    /* A statement of that transaction failed (the server aborted it), or the
       connection was lost while it was open: every call fails until commit
       or rollback ends it, and commit answers txn_status. */
    bool txn_failed;
    zm_status txn_status;
} zm__pg;

/* Parameters of one statement: byte strings (bytea, and the JSON text of
   values) are sent in binary format, so a length says where they end and no
   copy is needed; arrays as text literals. */
#define ZM__PG_MAX_PARAMS 12
typedef struct zm__pg_params {
    const char *vals[ZM__PG_MAX_PARAMS];
    int lens[ZM__PG_MAX_PARAMS];
    int fmts[ZM__PG_MAX_PARAMS];
    unsigned char ints[ZM__PG_MAX_PARAMS][8];
    int n;
} zm__pg_params;

/* Appends len bytes (binary format: a bytea, or a text in UTF-8). */
void zm__pg_p_text(zm__pg_params *p, const char *s, size_t len);
/* Appends a 64-bit integer (binary int8). */
void zm__pg_p_int8(zm__pg_params *p, int64_t v);
/* Appends SQL NULL. */
void zm__pg_p_null(zm__pg_params *p);
/* Appends a NUL-terminated value in text format (array literals). */
void zm__pg_p_literal(zm__pg_params *p, const char *s);

/* Makes the connection usable for a call: reconnects a lost one, refuses
   while a failed transaction waits for its end. ZM_OK or an error with its
   message set. */
zm_status zm__pg_ready(zm__pg *s);

/* Runs prepared statement id with p; on ZM_OK *res is the result (the
   caller's to PQclear), on an error *res is NULL, the message is set and a
   lost connection or a failed transaction is recorded. A statement run
   outside a transaction that meets a serialization failure or a deadlock is
   run again (the one place that retries). what names the call for
   messages. */
zm_status zm__pg_exec(zm__pg *s, zm__pg_stmt id, const zm__pg_params *p, const char *what,
                      PGresult **res);

/* Runs prepared statement id with p as zm__pg_exec does (without its
   retry: for reads), but hands its rows to row one at a time (libpq's
   single-row mode), so that libpq holds one row at a time however many the
   answer has. The first error row returns stops the calls to row; the rest
   of the answer is read and dropped, so the connection is ready for the
   next statement. When the statement is its own transaction, the server is
   first asked to cancel it (libpq's cancel request), so that the rest is
   short; inside a transaction it is not, since that would end the
   transaction. Returns ZM_OK, the statement's error (message set, as
   zm__pg_exec), or else row's first error. */
zm_status zm__pg_exec_rows(zm__pg *s, zm__pg_stmt id, const zm__pg_params *p, const char *what,
                           zm_status (*row)(void *ctx, const PGresult *r), void *ctx);

/* Ends a call: resets the scratch arena. */
void zm__pg_done(zm__pg *s);

/* Fails a write on a store opened read-only. */
zm_status zm__pg_check_writable(const zm__pg *s);

/* Reads an edge from row `row` of r, columns 2..7 (from, to, relation,
   metadata, ts, agent), its memory from a. */
zm_status zm__pg_edge(zm__pg *s, const PGresult *r, int row, zm_allocator a, zm_store_edge *e);

/* A field of a result as int64 / bool. */
int64_t zm__pg_int(const PGresult *r, int row, int col);
bool zm__pg_bool(const PGresult *r, int row, int col);

/* Decodes a bytea field (hex output) into a, NUL-terminated. NULL on out
   of memory. */
const char *zm__pg_str(const PGresult *r, int row, int col, zm_allocator a, size_t *len);

/* Parses a JSON text field into a (NULL field: *out NULL). ZM_OK,
   ZM_ENOMEM, or ZM_ECORRUPT when the stored text is not JSON. */
zm_status zm__pg_json(zm__pg *s, const PGresult *r, int row, int col, zm_allocator a,
                      const zm_json **out);

/* The value of a deletion: JSON null. */
extern const zm_json zm__pg_null;

/* ---------------------------------------------------------------------------
 * The search document (tokens by zm__store_next_token)
 * ------------------------------------------------------------------------- */

/* The search document of a key: its distinct terms and their counts as
   array literals, its token count, and the strings of value (NULL: none)
   as a bytea[] literal. Memory from ar. ZM_OK or ZM_ENOMEM. */
typedef struct zm__pg_doc {
    const char *terms; /* text[] literal */
    const char *tfs;   /* int4[] literal */
    const char *strings;
    int64_t dl;
} zm__pg_doc;
zm_status zm__pg_doc_build(zm_arena *ar, const char *key, size_t key_len, const zm_json *value,
                           zm__pg_doc *out);

/* Writes the quoted, escaped text[] element for len bytes of p to buf
   (room for 2 * len + 3 bytes); returns the bytes written. */
size_t zm__pg_array_elem(char *buf, const char *p, size_t len);

/* The vtable members outside postgres.c. */
zm_status zm__pg_put(zm_store *base, const zm_store_write *w, zm_store_version *out);
zm_status zm__pg_forget(zm_store *base, const zm_store_write *w, bool purge, zm_store_version *out,
                        bool *existed);
zm_status zm__pg_get(zm_store *base, const char *key, size_t key_len, int64_t as_of_ms,
                     zm_allocator a, zm_store_version *out);
zm_status zm__pg_history(zm_store *base, const char *key, size_t key_len, int64_t as_of_ms,
                         zm_allocator a, zm_store_version **out, size_t *count);
zm_status zm__pg_export_open(zm_store *base, zm_allocator a, zm_store_cursor **out);
zm_status zm__pg_cursor_next(zm_store_cursor *c, zm_store_record *out, bool *done);
void zm__pg_cursor_close(zm_store_cursor *c);
zm_status zm__pg_search_skip(zm_store *base, const char *query, size_t query_len,
                             zm_search_mode mode, size_t limit, const char *skip, size_t skip_len,
                             zm_allocator a, zm_search_hit **hits, size_t *count, size_t *total);
zm_status zm__pg_search(zm_store *base, const char *query, size_t query_len, zm_search_mode mode,
                        size_t limit, zm_allocator a, zm_search_hit **hits, size_t *count,
                        size_t *total);
zm_status zm__pg_link(zm_store *base, const zm_store_link_req *l, bool *created);
zm_status zm__pg_unlink(zm_store *base, const char *from, size_t from_len, const char *to,
                        size_t to_len, const char *relation, size_t relation_len, bool *removed);
zm_status zm__pg_neighbors(zm_store *base, const zm_store_walk *w, zm_allocator a,
                           zm_store_hit **hits, size_t *count, bool *truncated);

/* The SQL of each statement (postgres_sql.c). */
extern const char *const zm__pg_sql[ZM__PG_NSTMT];

/* The schema's migrations: zm__pg_migrations[v - 1] takes a database from
   version v - 1 to v, one statement per string, NULL-terminated. */
extern const char *const *const zm__pg_migrations[ZM__PG_SCHEMA_VERSION];

#endif
