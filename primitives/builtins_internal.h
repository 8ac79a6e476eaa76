/* The built-in primitives' shared parts. Never included outside primitives/. */
#ifndef ZMEM_BUILTINS_INTERNAL_H
#define ZMEM_BUILTINS_INTERNAL_H

#include "zmem/prim.h"
#include "zmem/store.h"

/* The primitives; each file defines its own (description, schema, function). */
extern const zm_prim_def zm__bi_store;
extern const zm_prim_def zm__bi_retrieve;
extern const zm_prim_def zm__bi_search;
extern const zm_prim_def zm__bi_link;
extern const zm_prim_def zm__bi_neighbors;
extern const zm_prim_def zm__bi_transform;
extern const zm_prim_def zm__bi_forget;
extern const zm_prim_def zm__bi_unlink;
extern const zm_prim_def zm__bi_template_put;
extern const zm_prim_def zm__bi_render;
extern const zm_prim_def zm__bi_template_list;
extern const zm_prim_def zm__bi_template_delete;
extern const zm_prim_def zm__bi_memory;

/* True when key (len bytes) is under ZM_TEMPLATE_KEY_PREFIX, which only the
   template primitives write. */
bool zm__bi_reserved_key(const char *key, size_t len);

/* ---------------------------------------------------------------------------
 * Building results in the per-call arena. A builder remembers the first
 * failed allocation, so a result is built straight through and checked once.
 * ------------------------------------------------------------------------- */

typedef struct zm__build {
    zm_allocator a;
    bool oom;
} zm__build;

static inline zm_json *zm__b_check(zm__build *b, zm_json *v) {
    if (v == NULL) b->oom = true;
    return v;
}

static inline zm_json *zm__b_obj(zm__build *b, size_t cap) {
    return b->oom ? NULL : zm__b_check(b, zm_json_new_object(b->a, cap));
}

static inline zm_json *zm__b_arr(zm__build *b, size_t cap) {
    return b->oom ? NULL : zm__b_check(b, zm_json_new_array(b->a, cap));
}

static inline zm_json *zm__b_int(zm__build *b, int64_t i) {
    return b->oom ? NULL : zm__b_check(b, zm_json_new_int(b->a, i));
}

static inline zm_json *zm__b_real(zm__build *b, double d) {
    return b->oom ? NULL : zm__b_check(b, zm_json_new_real(b->a, d));
}

static inline zm_json *zm__b_bool(zm__build *b, bool v) {
    return b->oom ? NULL : zm__b_check(b, zm_json_new_bool(b->a, v));
}

static inline zm_json *zm__b_null(zm__build *b) {
    return b->oom ? NULL : zm__b_check(b, zm_json_new_null(b->a));
}

/* A string borrowing s (NUL-terminated memory that outlives the response:
   the store's, or the call's params). */
static inline zm_json *zm__b_ref(zm__build *b, const char *s, size_t len) {
    return b->oom ? NULL : zm__b_check(b, zm_json_new_string_ref(b->a, s, len));
}

/* A string copied into the arena. */
static inline zm_json *zm__b_str(zm__build *b, const char *s, size_t len) {
    return b->oom ? NULL : zm__b_check(b, zm_json_new_string(b->a, s, len));
}

/* Adds member key (a string literal: borrowed) to obj. v may be a stored,
   shared value: it is referenced, not copied. */
static inline void zm__b_set(zm__build *b, zm_json *obj, const char *key, const zm_json *v) {
    if (b->oom || obj == NULL || v == NULL) {
        b->oom = true;
        return;
    }
    if (zm_json_object_add_ref(b->a, obj, key, strlen(key), (zm_json *)v) != ZM_OK) b->oom = true;
}

static inline void zm__b_push(zm__build *b, zm_json *arr, const zm_json *v) {
    if (b->oom || arr == NULL || v == NULL) {
        b->oom = true;
        return;
    }
    if (zm_json_array_push(b->a, arr, (zm_json *)v) != ZM_OK) b->oom = true;
}

/* The store a built-in works on. */
static inline zm_store *zm__store_of(zm_prim_ctx *ctx) {
    return (zm_store *)zm_prim_userdata(ctx);
}

/* Reads optional integer member name of params into *out (kept when absent).
   ZM_OK or ZM_EINVAL (recorded on ctx). */
zm_status zm__bi_param_int(zm_prim_ctx *ctx, const zm_json *params, const char *name, int64_t *out);

/* Records a store error on ctx with a message fit for the caller. what names
   the operation ("store", "link"). */
zm_status zm__bi_fail(zm_prim_ctx *ctx, zm_status st, const char *field, const char *what);

/* One part of a write the store may refuse: a name (str, len) or a value
   (value non-NULL). field is its JSON Pointer in params, NULL for the
   context's agent id; what names it in messages ("key", "metadata"). */
typedef struct zm__bi_part {
    const char *field;
    const char *what;
    const char *str;
    size_t len;
    const zm_json *value;
} zm__bi_part;

/* Records on ctx why the store refused a write with st (ZM_EINVAL or
   ZM_ELIMIT): checks the n parts in order against the store's rules and
   limits and reports the first at fault with its field and the rule or limit
   broken (values share one size budget, as in the store). Falls back to
   zm__bi_fail(ctx, st, NULL, op) when no part is at fault. */
zm_status zm__bi_refused(zm_prim_ctx *ctx, zm_store *s, zm_status st, const zm__bi_part *parts,
                         size_t n, const char *op);

/* out of memory, recorded on ctx. */
zm_status zm__bi_oom(zm_prim_ctx *ctx);

/* A stored edge as JSON: {from, to, relation, metadata, timestamp, agent}. */
zm_json *zm__bi_edge_json(zm__build *b, const zm_store_edge *e);

#endif
