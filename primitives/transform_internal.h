/* Private to primitives/: what the JSON transforms' files share
   (transform.c, transform_pick.c). Never included from outside the folder. */
#ifndef ZMEM_PRIM_TRANSFORM_INTERNAL_H
#define ZMEM_PRIM_TRANSFORM_INTERNAL_H

#include "zmem/transform.h"

/* Bytes of user text quoted in messages, at most. */
#define QUOTE_MAX 48
#define QLEN(n)   ((int)((n) < QUOTE_MAX ? (n) : QUOTE_MAX))

typedef struct ptok {
    const char *p; /* decoded, NUL-terminated */
    size_t len;
    size_t raw; /* offset of the token's text in the pointer (after its '/') */
} ptok;

typedef struct pointer {
    const char *text; /* as given */
    size_t text_len;
    ptok *toks;
    size_t n;
} pointer;

/* Fills *err (when not NULL) with st, the field it is about (NULL: none) and
   a formatted message. Returns st. */
ZM__HIDDEN zm_status zm__transform_fail(zm_transform_error *err, zm_status st, const char *field,
                                        const char *fmt, ...) ZM_PRINTF_LIKE(4, 5);

/* Clears *err (when not NULL) to ZM_OK. */
static inline void zm__transform_clear_error(zm_transform_error *err) {
    if (err == NULL) return;
    err->status = ZM_OK;
    err->has_field = false;
    err->field[0] = '\0';
    err->message[0] = '\0';
}

/* The type of v for a message: "null", "a boolean", "a number"... */
static inline const char *zm__transform_type_name(const zm_json *v) {
    switch (zm_json_typeof(v)) {
    case ZM_JSON_NULL: return "null";
    case ZM_JSON_BOOL: return "a boolean";
    case ZM_JSON_INT:
    case ZM_JSON_REAL:
    case ZM_JSON_NUMBER: return "a number";
    case ZM_JSON_STRING: return "a string";
    case ZM_JSON_ARRAY: return "an array";
    case ZM_JSON_OBJECT: return "an object";
    }
    return "a value";
}

/* Splits and unescapes the JSON pointer s (len bytes) into tokens in ar;
   field names it in errors. */
ZM__HIDDEN zm_status zm__transform_parse_pointer(zm_arena *ar, const char *s, size_t len,
                                                 pointer *out, zm_transform_error *err,
                                                 const char *field);

#endif
