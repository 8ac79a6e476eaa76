/* Private to primitives/: the registry, context and schema structures shared
   by the files of this folder. Never included from outside it. */
#ifndef ZMEM_PRIM_INTERNAL_H
#define ZMEM_PRIM_INTERNAL_H

#include "zmem/buf.h"
#include "zmem/map.h"
#include "zmem/prim.h"

/* ---------------------------------------------------------------------------
 * Compiled schemas
 * ------------------------------------------------------------------------- */

/* Type bits of a schema's "type". */
enum {
    ZM__T_NULL = 1u << 0,
    ZM__T_BOOLEAN = 1u << 1,
    ZM__T_INTEGER = 1u << 2,
    ZM__T_NUMBER = 1u << 3, /* any number; implies INTEGER */
    ZM__T_STRING = 1u << 4,
    ZM__T_ARRAY = 1u << 5,
    ZM__T_OBJECT = 1u << 6,
};

/* How members not listed in "properties" are treated. */
enum { ZM__ADD_ANY = 0, ZM__ADD_NONE, ZM__ADD_SCHEMA };

typedef struct zm__schema zm__schema;

typedef struct zm__schema_prop {
    const char *key;
    size_t len;
    zm__schema *schema;
} zm__schema_prop;

struct zm__schema {
    uint32_t types; /* ZM__T_* bits; 0 = any type */
    bool never;     /* the schema false: nothing is valid */
    bool is_const;  /* enum_vals came from "const" */
    bool has_min_len, has_max_len, has_min_items, has_max_items;
    size_t min_len, max_len; /* in code points */
    size_t min_items, max_items;
    const zm_json *minimum;   /* a number of the parsed schema, or NULL */
    const zm_json *maximum;   /* likewise */
    const zm_json *enum_vals; /* an array of the parsed schema, or NULL */
    zm__schema_prop *props;   /* "properties", in schema order */
    size_t nprops;
    const zm_json *const *required; /* strings of the parsed schema */
    size_t nrequired;
    zm__schema *items;
    int additional; /* ZM__ADD_* */
    zm__schema *additional_schema;
};

/* Compiles schema (a parsed value living in ar) into a tree allocated from
   ar. ZM_OK; ZM_EINVAL with err->message naming the keyword's pointer and
   what was wrong; ZM_ENOMEM. */
zm_status zm__schema_compile(zm_arena *ar, const zm_json *schema, zm__schema **out,
                             zm_json_error *err);

/* One step of the path from params to a value, for error fields. */
typedef struct zm__vpath {
    const struct zm__vpath *up;
    const char *key; /* NULL: an array index */
    size_t len;      /* key length, or the index */
} zm__vpath;

/* Records an invalid_params error on ctx: field is the JSON Pointer of p
   (NULL = params itself), the message is "<pointer>: <rule>" ("params: ..."
   at the root), the rule formatted from fmt. Returns ZM_EINVAL. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
zm_status
zm__fail_at(zm_prim_ctx *ctx, const zm__vpath *p, const char *fmt, ...);

/* Checks v against s. ZM_OK, or ZM_EINVAL with the error recorded on ctx
   (field = the JSON Pointer of the offending value, message = pointer and
   rule), or ZM_ENOMEM. */
zm_status zm__schema_validate(zm_prim_ctx *ctx, const zm__schema *s, const zm_json *v);

/* ---------------------------------------------------------------------------
 * The registry
 * ------------------------------------------------------------------------- */

typedef struct zm__prim {
    const char *name;
    size_t name_len;
    const char *description;
    const char *schema_text;
    const zm_json *schema;
    const zm__schema *compiled; /* NULL = any object */
    zm_prim_fn fn;
    void *userdata;
    void (*free_userdata)(void *userdata); /* run at registry destroy, or NULL */
} zm__prim;

/* Positions in the registry's array by name (the names borrowed from its
   arena). */
ZM_MAP_TYPED(zm__prim_index, uint32_t);

struct zm_prim_registry {
    zm_allocator a;
    zm_arena ar; /* names, descriptions, schemas: everything registered */
    zm__prim *prims;
    size_t count, cap;
    zm__prim_index index;
    zm_prim_batch_hooks batch_hooks; /* zeroed: none */
};

/* Finds a primitive by name; NULL when there is none. */
const zm__prim *zm__registry_find(const zm_prim_registry *reg, const char *name, size_t len);

/* ---------------------------------------------------------------------------
 * The context
 * ------------------------------------------------------------------------- */

/* The response buffer never shrinks below this, so that an out-of-memory
   response always fits. */
#define ZM__RESPONSE_MIN 4096

struct zm_prim_ctx {
    zm_allocator a;          /* long-lived: the view of ll */
    zm_stats ll;             /* counts what goes through a, over the caller's allocator */
    zm_allocator ll_backing; /* the caller's long-lived allocator (holds ctx itself) */
    zm_arena arena;          /* per-call: what primitives allocate */
    zm_arena req_arena;      /* per-request: the parsed request, kept batch results */
    size_t retain_limit;
    size_t response_retain_limit;
    size_t response_limit; /* bytes a response may take */

    zm_json_pool *pool;
    zm_template_cache *templates;
    bool owns_pool, owns_templates;

    zm_prim_clock_fn clock;
    void *clock_ctx;
    zm_stats *memory_limit; /* borrowed, or NULL */
    size_t limit_refusals;  /* its refusal count when the call began */
    int64_t now_ms;
    void *userdata; /* of the primitive running now */
    bool busy;      /* a call is running: nested calls are refused */

    zm_buf agent_id, session_id; /* len 0 = unset */

    /* The last error. */
    zm_prim_errcode err_code;
    zm_status err_status;
    zm_buf err_msg;
    zm_buf err_field;
    bool has_field;

    zm_buf response; /* the buffers: from the long-lived allocator */

    zm_prim_stats stats;

    /* For memory reports (zmem/memory.h). */
    size_t call_last, call_peak;      /* the per-call arena's bytes at its last reset, and peak */
    size_t req_last, req_peak;        /* the request arena's likewise */
    zm_stats *process;                /* borrowed, or NULL */
    struct zm_memory_report *reports; /* ZM_MEMORY_KEEP slots, made at the first report */
    uint64_t report_seq;              /* the latest report's id; 0 = none yet */
};

/* Counts n bytes used by one call in the per-call arena, at its reset. */
static inline void zm__ctx_note_call(zm_prim_ctx *ctx, size_t n) {
    ctx->call_last = n;
    if (n > ctx->call_peak) ctx->call_peak = n;
}

/* Frees the kept memory reports (memory.c). */
void zm__ctx_free_reports(zm_prim_ctx *ctx);

/* A memory report in three steps, so that a caller can fail between them
   and leave nothing behind: make room for the kept reports (*fresh: it was
   made now; free it with zm__ctx_free_reports on a later failure; false when
   out of memory), fill a report with the next id, and keep it. */
bool zm__memory_reserve(zm_prim_ctx *ctx, bool *fresh);
void zm__memory_fill(zm_prim_ctx *ctx, zm_store *store, struct zm_memory_report *out);
void zm__memory_commit(zm_prim_ctx *ctx, const struct zm_memory_report *r);

/* Records an error on ctx (message copied, field copied when not NULL). */
void zm__ctx_set_error(zm_prim_ctx *ctx, zm_prim_errcode code, zm_status status, const char *field,
                       size_t field_len, const char *msg, size_t msg_len);

/* Makes the recorded message and field valid UTF-8 ('?' for bad bytes). */
void zm__ctx_sanitize_error(zm_prim_ctx *ctx);

/* How many allocations the context's memory limiter has refused (0 without one). */
size_t zm__ctx_limit_refusals(const zm_prim_ctx *ctx);

/* Whether the context's memory limiter refused an allocation since the call
   began. */
static inline bool zm__ctx_limit_hit(const zm_prim_ctx *ctx) {
    return ctx->memory_limit != NULL && zm__ctx_limit_refusals(ctx) != ctx->limit_refusals;
}

/* Clears the recorded error. */
static inline void zm__ctx_clear_error(zm_prim_ctx *ctx) {
    if (ctx->memory_limit != NULL) ctx->limit_refusals = zm__ctx_limit_refusals(ctx);
    ctx->err_code = ZM_PRIM_OK;
    ctx->err_status = ZM_OK;
    ctx->has_field = false;
    zm_buf_clear(&ctx->err_msg);
}

/* Resets both arenas if they hold anything, counting the bytes they used. */
void zm__ctx_reset_arenas(zm_prim_ctx *ctx);

/* Reads the clock. */
int64_t zm__ctx_clock(zm_prim_ctx *ctx);

/* Appends s as the contents of a JSON string (no quotes): escapes quotes,
   backslashes and control characters, and replaces invalid UTF-8 with
   U+FFFD, so the output is always valid JSON. */
bool zm__buf_append_escaped(zm_allocator a, zm_buf *b, const char *s, size_t n);

/* The most bytes of user text (a name, a key, a reference) that an error
   message quotes. */
#define ZM__QUOTE_MAX 200

/* Room for a quotation: every byte escaped as \u00XX, plus "..." and NUL. */
typedef struct zm__quoted {
    char text[ZM__QUOTE_MAX * 6 + 8];
} zm__quoted;

/* Returns n bytes of s as a message quotes them (in q): cut to at most
   ZM__QUOTE_MAX bytes at a UTF-8 boundary with "..." appended when cut, and
   quotes, backslashes and control characters (a NUL included) JSON-escaped,
   so a message neither ends at an embedded NUL nor grows with the input. */
const char *zm__quote(zm__quoted *q, const char *s, size_t n);

/* Sets b to exactly n bytes of s (not inside b), growing it as needed; false
   when it cannot grow (b unchanged). */
bool zm__buf_set(zm_allocator a, zm_buf *b, const char *s, size_t n);

#endif
