/* zmem — JSON: values, a strict parser, a writer, and building values in code.
 *
 * A parsed document lives in one arena: freeing it is one reset. Values built
 * in code come from any zm_allocator: the per-call arena (they die with it),
 * or a zm_json_pool's allocator (they go back to the pools when released with
 * zm_json_free).
 *
 * Values are read through the accessors below; the struct is public so that
 * the accessors can be inline, not so that callers write its fields.
 */
#ifndef ZMEM_JSON_H
#define ZMEM_JSON_H

#include <stdio.h>

#include "zmem/allocator.h"
#include "zmem/arena.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * The value model
 * ------------------------------------------------------------------------- */

typedef enum zm_json_type {
    ZM_JSON_NULL = 0,
    ZM_JSON_BOOL,
    ZM_JSON_INT,    /* an integer that fits int64 */
    ZM_JSON_REAL,   /* a double */
    ZM_JSON_NUMBER, /* a number kept as its exact text (too big for int64, or by option) */
    ZM_JSON_STRING, /* length-counted UTF-8; may hold NUL */
    ZM_JSON_ARRAY,
    ZM_JSON_OBJECT, /* members in insertion order; hashed lookup once it grows */
} zm_json_type;

typedef struct zm_json zm_json;

typedef struct zm_json_member {
    const char *key; /* UTF-8, NUL-terminated for convenience, may hold NUL */
    size_t key_len;
    zm_json *value;
} zm_json_member;

/* Flags of a value (zm_json.flags); internal bookkeeping. */
enum {
    ZM_JSON_F_OWNS_STR = 1,  /* the string/number text was allocated with the value */
    ZM_JSON_F_SHARED = 2,    /* shared, immutable (a template's constant subtree) */
    ZM_JSON_F_OWNS_KEYS = 4, /* object keys were allocated with the object */
    ZM_JSON_F_UTF8 = 8,      /* known valid UTF-8: a string's bytes, or every key of an
                                object (set by the parser; the writer then skips its check) */
    ZM_JSON_F_WTF8 = 16,     /* may hold lone surrogates encoded as in WTF-8 (set by the
                                parser under ZM_JSON_ALLOW_LONE_SURROGATES, or by the caller):
                                the writer escapes them as \uXXXX. Without it an encoded
                                surrogate is invalid UTF-8 like any other (ZM_EINVAL). */
    ZM_JSON_F_PLAIN = 32,    /* needs no escaping: a string's bytes, or every key of an
                                object, hold no '"', '\\' or control character (set by the
                                parser on text that had no escape; the writer then copies
                                it as it is, unless it writes ASCII only). Code that changes
                                such text in place clears this flag, as ZM_JSON_F_UTF8. */
};

struct zm_json {
    uint8_t type;      /* zm_json_type */
    uint8_t flags;     /* ZM_JSON_F_* */
    uint32_t hash_cap; /* objects: slots of the hash index (0 = none) */
    union {
        bool b;
        int64_t i;
        double d;
        struct {
            const char *ptr; /* NUL-terminated, except a string that borrows its
                                bytes (zm_json_new_string_ref): see zm_json_str */
            size_t len;
        } s; /* ZM_JSON_STRING, ZM_JSON_NUMBER */
        struct {
            zm_json **items;
            size_t len, cap;
        } a;
        struct {
            zm_json_member *items;
            size_t len, cap;
            uint32_t *index; /* hash_cap slots: member position + 1, 0 = empty */
        } o;
    } u;
};

/* The type of v. A NULL v reads as ZM_JSON_NULL. */
static inline zm_json_type zm_json_typeof(const zm_json *v) {
    return v ? (zm_json_type)v->type : ZM_JSON_NULL;
}

/* Type tests. zm_json_is_number is true for INT, REAL and NUMBER. */
static inline bool zm_json_is_null(const zm_json *v) {
    return zm_json_typeof(v) == ZM_JSON_NULL;
}
static inline bool zm_json_is_bool(const zm_json *v) {
    return zm_json_typeof(v) == ZM_JSON_BOOL;
}
static inline bool zm_json_is_int(const zm_json *v) {
    return zm_json_typeof(v) == ZM_JSON_INT;
}
static inline bool zm_json_is_number(const zm_json *v) {
    zm_json_type t = zm_json_typeof(v);
    return t == ZM_JSON_INT || t == ZM_JSON_REAL || t == ZM_JSON_NUMBER;
}
static inline bool zm_json_is_string(const zm_json *v) {
    return zm_json_typeof(v) == ZM_JSON_STRING;
}
static inline bool zm_json_is_array(const zm_json *v) {
    return zm_json_typeof(v) == ZM_JSON_ARRAY;
}
static inline bool zm_json_is_object(const zm_json *v) {
    return zm_json_typeof(v) == ZM_JSON_OBJECT;
}

/* The boolean of v; false when v is not a bool. */
static inline bool zm_json_bool(const zm_json *v) {
    return zm_json_typeof(v) == ZM_JSON_BOOL && v->u.b;
}

/* The integer of v (ZM_JSON_INT); 0 for anything else, which includes
   numbers a schema's "integer" accepts: 1e2 and 80.0 (REAL) and integers
   beyond int64 (NUMBER). To read a parameter, use zm_json_get_int (or, in a
   primitive, zm_prim_param_int), which give the integer or an error. */
static inline int64_t zm_json_int(const zm_json *v) {
    return zm_json_typeof(v) == ZM_JSON_INT ? v->u.i : 0;
}

/* The value of a number as a double (INT converted, NUMBER text read);
   0.0 for anything else. */
double zm_json_real(const zm_json *v);

/* Reads v as an int64 exactly. ZM_OK; ZM_ETYPE when v is not a number;
   ZM_ELIMIT when it is a number but not an integer within int64 (a REAL with
   an integral value in range, like 3.0, is accepted). */
zm_status zm_json_get_int(const zm_json *v, int64_t *out);

/* The bytes of a string (or the text of a ZM_JSON_NUMBER) and their count in
   *len (len may be NULL). NULL when v is neither. The memory belongs to the
   value. The bytes are followed by a NUL when the value holds its own copy:
   every value the parser makes, every string from zm_json_new_string or
   zm_json_clone. A string made with
   zm_json_new_string_ref has exactly the bytes it borrows, followed by
   whatever follows them: use *len (zmem itself always does), or make it with
   zm_json_new_string when a C string is needed. */
static inline const char *zm_json_str(const zm_json *v, size_t *len) {
    zm_json_type t = zm_json_typeof(v);
    if (t != ZM_JSON_STRING && t != ZM_JSON_NUMBER) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = v->u.s.len;
    return v->u.s.ptr;
}

/* The number of items of an array or members of an object; 0 otherwise. */
static inline size_t zm_json_len(const zm_json *v) {
    zm_json_type t = zm_json_typeof(v);
    return t == ZM_JSON_ARRAY ? v->u.a.len : t == ZM_JSON_OBJECT ? v->u.o.len : 0;
}

/* The item at index i of an array; NULL if v is not an array or i is out of
   range. */
static inline zm_json *zm_json_at(const zm_json *v, size_t i) {
    return zm_json_typeof(v) == ZM_JSON_ARRAY && i < v->u.a.len ? v->u.a.items[i] : NULL;
}

/* The member at position i (insertion order) of an object; NULL if v is not
   an object or i is out of range. */
static inline const zm_json_member *zm_json_member_at(const zm_json *v, size_t i) {
    return zm_json_typeof(v) == ZM_JSON_OBJECT && i < v->u.o.len ? &v->u.o.items[i] : NULL;
}

/* The value of member key (key_len bytes) of an object; NULL when v is not an
   object or has no such member. With duplicate members (the parser never
   keeps them; only zm_json_object_add_ref can make them) the first one is
   found. */
zm_json *zm_json_getn(const zm_json *v, const char *key, size_t key_len);

/* zm_json_getn with a NUL-terminated key. */
zm_json *zm_json_get(const zm_json *v, const char *key);

/* Compares x and y as JSON values and sets *equal: true when they are the
   same value: same type (INT 1 and REAL 1.0 are equal numbers; NUMBER text
   compares by numeric value where it can), same strings, same items in
   order, same members regardless of order. Iterative: values nested deeper
   than 64 levels use a work stack from a, freed before it returns (nothing
   else is allocated). Returns ZM_OK with *equal set; ZM_ENOMEM when that
   stack cannot grow (then *equal is false and says nothing); ZM_EINVAL when
   equal is NULL. */
zm_status zm_json_equal(zm_allocator a, const zm_json *x, const zm_json *y, bool *equal);

/* ---------------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------------- */

/* Parse flags: every relaxation is opt-in; the default is strict RFC 8259. */
enum {
    ZM_JSON_ALLOW_COMMENTS = 1u << 0,        /* // line and block comments */
    ZM_JSON_ALLOW_TRAILING_COMMAS = 1u << 1, /* [1,2,] and {"a":1,} */
    ZM_JSON_ALLOW_NAN_INF = 1u << 2,         /* NaN, Infinity, -Infinity */
    ZM_JSON_ALLOW_BOM = 1u << 3,             /* a leading UTF-8 byte order mark */
    ZM_JSON_ALLOW_LONE_SURROGATES = 1u << 4, /* \ud800 alone, kept as WTF-8 */
    ZM_JSON_NUMBERS_AS_TEXT = 1u << 5,       /* every number is ZM_JSON_NUMBER */
};

/* What to do with a repeated key in one object. */
typedef enum zm_json_dup_mode {
    ZM_JSON_DUP_ERROR = 0, /* the default: the document is rejected (see README) */
    ZM_JSON_DUP_FIRST,     /* the first member wins; later ones are dropped */
    ZM_JSON_DUP_LAST,      /* the last member wins, at the first one's position */
} zm_json_dup_mode;

#define ZM_JSON_DEFAULT_MAX_DEPTH 512

typedef struct zm_json_parse_opts {
    uint32_t flags;     /* ZM_JSON_ALLOW_* and ZM_JSON_NUMBERS_AS_TEXT */
    uint32_t max_depth; /* 0 = ZM_JSON_DEFAULT_MAX_DEPTH */
    zm_json_dup_mode dup_keys;
} zm_json_parse_opts;

/* The parse option that would have accepted what a parse refused: a
   comment, a trailing comma, NaN, a byte order mark, a lone surrogate, a
   repeated key or deep nesting (zm_json_error.option). */
typedef enum zm_json_option {
    ZM_JSON_OPTION_NONE = 0,        /* no option accepts it */
    ZM_JSON_OPTION_COMMENTS,        /* ZM_JSON_ALLOW_COMMENTS */
    ZM_JSON_OPTION_TRAILING_COMMAS, /* ZM_JSON_ALLOW_TRAILING_COMMAS */
    ZM_JSON_OPTION_NAN_INF,         /* ZM_JSON_ALLOW_NAN_INF */
    ZM_JSON_OPTION_BOM,             /* ZM_JSON_ALLOW_BOM */
    ZM_JSON_OPTION_LONE_SURROGATES, /* ZM_JSON_ALLOW_LONE_SURROGATES */
    ZM_JSON_OPTION_DUP_KEYS,        /* dup_keys ZM_JSON_DUP_FIRST or ZM_JSON_DUP_LAST */
    ZM_JSON_OPTION_MAX_DEPTH,       /* a larger max_depth */
} zm_json_option;

/* Where and why a parse failed. message names what was expected and what
   was found, e.g. "expected ',' or '}' after object member, found ']'".
   When an option would have accepted the input, option says which and the
   message ends with a note naming it in C terms, e.g. " (ZM_JSON_ALLOW_BOM
   accepts it)", starting at message[note_at]: a front end that names its
   options otherwise (a command line's flags) prints the first note_at bytes
   and a note of its own. */
typedef struct zm_json_error {
    zm_status status;      /* ZM_ESYNTAX, ZM_EDEPTH, ZM_ENOMEM, ZM_ELIMIT, ZM_EINVAL */
    size_t offset;         /* byte offset of the problem */
    size_t line;           /* 1-based */
    size_t column;         /* 1-based, in bytes */
    zm_json_option option; /* ZM_JSON_OPTION_NONE when no option accepts the input */
    size_t note_at;        /* where the option's note starts in message; 0 when none */
    char message[160];
} zm_json_error;

typedef struct zm_json_doc zm_json_doc;

/* Parses len bytes of text into a new document whose every byte lives in one
   arena made from a. opts may be NULL (strict defaults); err may be NULL.
   On ZM_OK *doc is the caller's (free it with zm_json_doc_free); on failure
   *doc is NULL, nothing is left allocated and err says where and why. */
zm_status zm_json_parse(zm_allocator a, const char *text, size_t len,
                        const zm_json_parse_opts *opts, zm_json_doc **doc, zm_json_error *err);

/* The root value of a document; it lives as long as the document. */
zm_json *zm_json_doc_root(const zm_json_doc *doc);

/* Gives back everything the document holds. NULL is a no-op. */
void zm_json_doc_free(zm_json_doc *doc);

/* Parses into a caller's arena, with no document: the value dies with the
   arena (the per-call pattern). On failure the arena is rewound to where it
   was, so nothing of the failed parse stays. */
zm_status zm_json_parse_arena(zm_arena *ar, const char *text, size_t len,
                              const zm_json_parse_opts *opts, zm_json **root, zm_json_error *err);

/* ---------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------- */

enum {
    ZM_JSON_WRITE_PRETTY = 1u << 0,  /* newlines and 2-space indentation */
    ZM_JSON_WRITE_INDENT4 = 1u << 1, /* with PRETTY: 4 spaces */
    ZM_JSON_WRITE_ASCII = 1u << 2,   /* escape every non-ASCII character as \uXXXX */
    ZM_JSON_WRITE_NAN_INF = 1u << 3, /* write non-finite reals as NaN/Infinity;
                                        without it they are an error (ZM_EINVAL) */
};

/* Writes v as JSON text into a new buffer from a. On ZM_OK, *out is exactly
   *out_len + 1 bytes, NUL-terminated, owned by the caller and freed with
   zm_free(a, *out, *out_len + 1, 1). ZM_ENOMEM or ZM_EINVAL (a non-finite real
   without ZM_JSON_WRITE_NAN_INF, invalid UTF-8 in a built string, an encoded
   surrogate in a string or object not marked ZM_JSON_F_WTF8) leave nothing
   allocated. */
zm_status zm_json_write(zm_allocator a, const zm_json *v, uint32_t flags, char **out,
                        size_t *out_len);

/* A stream's sink: takes len bytes; returns ZM_OK or an error that stops the
   writer and is returned by it. */
typedef zm_status (*zm_json_sink)(void *ctx, const char *data, size_t len);

/* Writes v through sink in chunks. Nothing is allocated except, for values
   nested deeper than 64 levels, a work stack from a, freed before it
   returns. Returns ZM_OK, the sink's error, ZM_EINVAL as zm_json_write (or
   sink NULL), or ZM_ENOMEM when that work stack cannot grow. */
zm_status zm_json_write_stream(zm_allocator a, const zm_json *v, uint32_t flags, zm_json_sink sink,
                               void *ctx);

/* Writes v to a stdio stream (a sink over fwrite; a work stack from a as
   zm_json_write_stream). Returns as zm_json_write_stream; ZM_EIO on a write
   error, ZM_EINVAL when f is NULL. */
zm_status zm_json_write_file(zm_allocator a, const zm_json *v, uint32_t flags, FILE *f);

/* ---------------------------------------------------------------------------
 * UTF-8 validation, strict as in RFC 3629 and as the parser reads text: no
 * overlong forms, no encoded surrogates (U+D800..U+DFFF), nothing above
 * U+10FFFF. NUL is a character like any other; s may be NULL when len is 0.
 * ------------------------------------------------------------------------- */

/* True when the len bytes at s are valid UTF-8. */
bool zm_utf8_valid(const char *s, size_t len);

/* The length of the longest prefix of s that is valid UTF-8: len when all of
   s is, else the offset of the first byte of the first invalid sequence (so
   the prefix never ends inside a character). */
size_t zm_utf8_valid_prefix(const char *s, size_t len);

/* ---------------------------------------------------------------------------
 * Building values in code. Every constructor allocates from a; values made
 * from an arena die with it, values made from a pool's allocator are given
 * back with zm_json_free. Strings and keys are copied unless the function
 * says it borrows. Constructors return NULL on out-of-memory (nothing leaked),
 * and for s == NULL with len > 0.
 * ------------------------------------------------------------------------- */

zm_json *zm_json_new_null(zm_allocator a);
zm_json *zm_json_new_bool(zm_allocator a, bool b);
zm_json *zm_json_new_int(zm_allocator a, int64_t i);
/* A REAL; non-finite values are accepted here and refused by the writer. */
zm_json *zm_json_new_real(zm_allocator a, double d);
/* A string of len bytes copied from s. No UTF-8 check here; the writer checks. */
zm_json *zm_json_new_string(zm_allocator a, const char *s, size_t len);
/* A string that borrows s: s must outlive the value and stay unchanged.
   Nothing is added after s's len bytes: zm_json_str gives back s itself, NUL-
   terminated only if s is. */
zm_json *zm_json_new_string_ref(zm_allocator a, const char *s, size_t len);
/* An empty array / object with room for cap items (0 is fine). */
zm_json *zm_json_new_array(zm_allocator a, size_t cap);
zm_json *zm_json_new_object(zm_allocator a, size_t cap);

/* Appends item to array arr (item is now owned by arr). ZM_OK, ZM_ENOMEM
   (arr unchanged, item still the caller's), ZM_ETYPE (arr not an array) or
   ZM_EINVAL (item NULL, or arr a shared template value). */
zm_status zm_json_array_push(zm_allocator a, zm_json *arr, zm_json *item);

/* Sets member key of obj to value: replaces the value of an existing member
   (the old value is released with zm_json_free(a, ...)) or appends a new one
   with a copy of the key. value is now owned by obj. ZM_OK, ZM_ENOMEM (obj
   unchanged, value still the caller's), ZM_ETYPE (obj not an object),
   ZM_EINVAL (value NULL, key NULL with key_len > 0, or obj a shared template
   value) or ZM_ELIMIT (obj already has UINT32_MAX - 1 members). */
zm_status zm_json_object_set(zm_allocator a, zm_json *obj, const char *key, size_t key_len,
                             zm_json *value);

/* Appends a member without looking for an existing one (the caller knows the
   key is new), borrowing key: it must outlive obj (when obj already owns its
   keys, as objects made by zm_json_object_set or zm_json_clone do, the key is
   copied instead). The fast path for builders with constant keys. Statuses
   as zm_json_object_set. */
zm_status zm_json_object_add_ref(zm_allocator a, zm_json *obj, const char *key, size_t key_len,
                                 zm_json *value);

/* Members in one line each: each makes a value from a (a copy of len bytes
   of s; i; d; b; a deep copy of v, JSON null when v is NULL) and appends it
   to obj under key, a NUL-terminated key borrowed as by
   zm_json_object_add_ref (a string literal, or bytes that outlive obj).
   ZM_OK; ZM_ENOMEM with obj unchanged and nothing of the new value left
   (also when obj is NULL, so that a failed zm_json_new_object needs no check
   of its own); ZM_ETYPE (obj not an object); ZM_EINVAL (key NULL, s NULL
   with len > 0, or obj a shared template value). For example:
       zm_json *r = zm_json_new_object(a, 3);
       zm_status st = zm_json_object_add_str(a, r, "key", key, key_len);
       if (st == ZM_OK) st = zm_json_object_add_int(a, r, "version", version);
       if (st == ZM_OK) st = zm_json_object_add_bool(a, r, "created", created);
       if (st != ZM_OK) return st;  */
zm_status zm_json_object_add_str(zm_allocator a, zm_json *obj, const char *key, const char *s,
                                 size_t len);
zm_status zm_json_object_add_int(zm_allocator a, zm_json *obj, const char *key, int64_t i);
zm_status zm_json_object_add_real(zm_allocator a, zm_json *obj, const char *key, double d);
zm_status zm_json_object_add_bool(zm_allocator a, zm_json *obj, const char *key, bool b);
zm_status zm_json_object_add_copy(zm_allocator a, zm_json *obj, const char *key, const zm_json *v);

/* Removes member key from obj, releasing its value with zm_json_free(a, ...).
   ZM_OK, ZM_ENOTFOUND, ZM_ETYPE, or ZM_EINVAL (key NULL with key_len > 0, or
   obj a shared template value). Order of the others is kept. */
zm_status zm_json_object_remove(zm_allocator a, zm_json *obj, const char *key, size_t key_len);

/* Deep-copies v into new values from a (shared template subtrees are copied
   too). Returns ZM_OK with *out the caller's, ZM_ENOMEM with nothing kept, or
   ZM_EINVAL when v or out is NULL. */
zm_status zm_json_clone(zm_allocator a, const zm_json *v, zm_json **out);

/* Releases a value built from a, with everything it owns, recursively.
   Shared (template) subtrees and borrowed strings are left alone. With an
   arena allocator this gives the memory back only where the arena can (its
   latest allocation); the rest dies at the reset. NULL is a no-op. */
void zm_json_free(zm_allocator a, zm_json *v);

/* ---------------------------------------------------------------------------
 * The JSON pool: objects and arrays built by code come from zm_pools
 * (size classes for value nodes, member and item arrays) and go back to them.
 * ------------------------------------------------------------------------- */

typedef struct zm_json_pool zm_json_pool;

/* Makes a pool whose slabs come from backing. Returns ZM_OK with *pool the
   caller's (zm_json_pool_destroy), ZM_ENOMEM, or ZM_EINVAL when pool is NULL. */
zm_status zm_json_pool_create(zm_allocator backing, zm_json_pool **pool);

/* The allocator that builds values from the pool: requests of up to 4096
   bytes aligned to at most 8 come from its pools (19 size classes, the
   smallest that holds the request), larger or more aligned ones from backing.
   Give values back with zm_json_free(zm_json_pool_allocator(p), v). Any other
   block may be taken from it too (a context's template cache keeps its
   templates there), given back with zm_free and the same length. */
zm_allocator zm_json_pool_allocator(zm_json_pool *pool);

/* Counters of a pool. */
typedef struct zm_json_pool_stats {
    size_t live_values;    /* value nodes handed out and not given back */
    size_t pooled_bytes;   /* bytes held by the pools' slabs */
    size_t pool_hits;      /* requests served from a pool */
    size_t backing_allocs; /* requests passed to the backing allocator */
    size_t big_blocks;     /* blocks too large for a class, live now (from backing) */
    size_t big_bytes;      /* their bytes, as requested */
} zm_json_pool_stats;

/* Fills *out with the pool's counters. */
void zm_json_pool_stats_get(const zm_json_pool *pool, zm_json_pool_stats *out);

/* The number of size classes of a JSON pool. */
#define ZM_JSON_POOL_CLASSES 19

/* One size class of a JSON pool. */
typedef struct zm_json_pool_class {
    size_t block_size;  /* the largest request the class serves */
    size_t stride;      /* bytes one block takes in a slab */
    size_t live_blocks; /* blocks handed out and not given back */
    size_t free_blocks; /* blocks the slabs hold for reuse */
} zm_json_pool_class;

/* Fills *out with size class i of pool (0 is the smallest). Returns ZM_OK,
   or ZM_ENOTFOUND when i >= ZM_JSON_POOL_CLASSES. Allocates nothing. */
zm_status zm_json_pool_class_get(const zm_json_pool *pool, size_t i, zm_json_pool_class *out);

/* Frees every slab at once, every block it took from backing for larger
   requests, and the pool: values still live die with it. */
void zm_json_pool_destroy(zm_json_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
