/* What the store layer's files share. Never included outside store/. */
#ifndef ZMEM_STORE_INTERNAL_H
#define ZMEM_STORE_INTERNAL_H

#include "zmem/store.h"

/* Whether the sqlite backend is built in (sqlite.c: true; sqlite_none.c:
   false). */
bool zm__store_have_sqlite(void);

/* A token of a text: where it starts in the text, its length there, and its
   normalised (lowercased, maybe cut) length. */
typedef struct zm__tok {
    size_t start, len, norm_len;
} zm__tok;

/* Finds the next token of text at or after *pos by the rule of zmem/store.h:
   a maximal run of ASCII letters and digits and non-ASCII bytes, ASCII
   lowercased, cut at ZM_STORE_MAX_TOKEN bytes on a character boundary.
   Writes its normalised bytes to buf (ZM_STORE_MAX_TOKEN bytes) and fills
   *tok. Returns false at the end of text. */
bool zm__store_next_token(const char *text, size_t len, size_t *pos, zm__tok *tok, char *buf);

/* Whether the postgres backend is built in (postgres.c: true;
   postgres_none.c: false). */
bool zm__store_have_postgres(void);

/* Whether location names a PostgreSQL server rather than a file: a URI
   (postgresql:// or postgres://) or a libpq key=value string. */
bool zm__store_is_postgres(const char *location);

#endif
