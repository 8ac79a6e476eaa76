/* What the store layer's files share. Never included outside store/. */
#ifndef ZMEM_STORE_INTERNAL_H
#define ZMEM_STORE_INTERNAL_H

#include <string.h>

#include "zmem/store.h"

/* The options an open function was given, or every default when opts is
   NULL; the default allocator when none is set. */
static inline zm_store_opts zm__store_opts(const zm_store_opts *opts) {
    zm_store_opts o;
    if (opts != NULL)
        o = *opts;
    else
        memset(&o, 0, sizeof o);
    if (o.alloc.vtable == NULL) o.alloc = zm_default_allocator();
    return o;
}

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

/* ---------------------------------------------------------------------------
 * What every backend's search shares (search_util.c)
 * ------------------------------------------------------------------------- */

/* Distinct query terms a token search uses; further ones are ignored. */
#define ZM__MAX_QUERY_TERMS 32
/* Bytes before a match kept in a snippet. */
#define ZM__SNIPPET_LEAD 40

/* A query's distinct tokens, normalised (on the caller's stack). */
typedef struct zm__qterms {
    char buf[ZM__MAX_QUERY_TERMS][ZM_STORE_MAX_TOKEN];
    size_t len[ZM__MAX_QUERY_TERMS];
    size_t n;
} zm__qterms;

/* Splits q into its first ZM__MAX_QUERY_TERMS distinct tokens. utf8_only
   drops tokens that are not UTF-8 (for a backend whose stored terms are
   text: none of them can equal such a token). Allocates nothing. */
void zm__store_query_terms(const char *q, size_t qlen, bool utf8_only, zm__qterms *qt);

/* Whether len bytes at s match q in mode (exact, prefix or substring; any
   other mode: false), with *at where the match starts. */
bool zm__store_bytes_match(zm_search_mode mode, const char *s, size_t len, const char *q,
                           size_t qlen, size_t *at);

/* Whether len bytes at s hold one of qt's tokens, with *at where the first
   such token starts. */
bool zm__store_token_in(const char *s, size_t len, const zm__qterms *qt, size_t *at);

/* A string that matched: the string, and where in it the match starts. */
typedef struct zm__match {
    const char *str;
    size_t len, at;
} zm__match;

/* Finds the first string inside v, in document order, that matches: holds
   one of qt's tokens when qt is not NULL, else matches q in mode. Fills *m
   (which borrows from v). Stored values only: their depth is bounded. */
bool zm__store_first_match(const zm_json *v, zm_search_mode mode, const char *q, size_t qlen,
                           const zm__qterms *qt, zm__match *m);

/* The snippet of a match at `at` of str (len bytes): a window of at most
   ZM_STORE_SNIPPET bytes starting up to ZM__SNIPPET_LEAD bytes before the
   match, on character boundaries. Sets *start and returns its length. */
size_t zm__store_snippet(const char *str, size_t len, size_t at, size_t *start);

#endif
