/* Calls: one primitive by value (zm_prim_call), one request or batch as text
   (zm_prim_call_json), the response writer and batch references. */
#include <stdio.h>

#include "internal.h"

/* {} for calls without params. */
static const zm_json empty_object = {.type = ZM_JSON_OBJECT};

/* ---------------------------------------------------------------------------
 * Running one primitive
 * ------------------------------------------------------------------------- */

/* The error for params that are not an object. */
static zm_status not_object(zm_prim_ctx *ctx, const zm_json *params) {
    return zm__fail_at(ctx, NULL, "type: expected object, found %s",
                       zm_json_is_array(params)    ? "array"
                       : zm_json_is_string(params) ? "string"
                       : zm_json_is_number(params) ? "number"
                       : zm_json_is_bool(params)   ? "boolean"
                                                   : "null");
}

/* Records failure st on ctx as its own error unless one is recorded already
   (a schema check records ZM_EINVAL with its rule; out of memory comes back
   bare). Returns st. */
static zm_status schema_failed(zm_prim_ctx *ctx, zm_status st) {
    if (ctx->err_code == ZM_PRIM_OK) {
        const char *msg = zm_status_str(st);
        zm__ctx_set_error(ctx, zm_prim_errcode_of(st), st, NULL, 0, msg, strlen(msg));
    }
    return st;
}

/* Checks params, then runs p. On failure the error is recorded on ctx. */
static zm_status run_prim(zm_prim_ctx *ctx, const zm__prim *p, const zm_json *params,
                          zm_json **result) {
    ctx->stats.calls++;
    ctx->now_ms = zm__ctx_clock(ctx);
    if (!zm_json_is_object(params)) return not_object(ctx, params);
    if (p->compiled != NULL) {
        zm_status st = zm__schema_validate(ctx, p->compiled, params);
        if (st != ZM_OK) return schema_failed(ctx, st);
    }
    zm_json *r = NULL;
    ctx->userdata = p->userdata;
    zm_status st = p->fn(ctx, params, &r);
    ctx->userdata = NULL;
    if (st != ZM_OK) {
        /* Keep what zm_prim_fail said if it said it for this status. */
        if (ctx->err_code == ZM_PRIM_OK || ctx->err_status != st) {
            const char *msg = zm_status_str(st);
            zm__ctx_set_error(ctx, zm_prim_errcode_of(st), st, NULL, 0, msg, strlen(msg));
        }
        return st;
    }
    zm__ctx_clear_error(ctx);
    *result = r;
    return ZM_OK;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
static zm_status
set_err(zm_prim_ctx *ctx, zm_prim_errcode code, zm_status st, const char *fmt, ...) {
    char msg[sizeof(zm__quoted) + 320];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof msg) n = (int)sizeof msg - 1;
    zm__ctx_set_error(ctx, code, st, NULL, 0, msg, (size_t)n);
    return st;
}

/* The error of a call made on a context that is already in a call. */
#define BUSY_MESSAGE                                                                               \
    "context is busy: a primitive may not call zm_prim_call on its own context; use a second "     \
    "context"

/* Refuses a nested call without touching the arenas or the response
   buffer, which belong to the call under way; records the error on ctx
   unless that call has already recorded one of its own (zm_prim_fail),
   which is kept. */
static zm_status refuse_busy(zm_prim_ctx *ctx) {
    if (ctx->err_status == ZM_OK)
        zm__ctx_set_error(ctx, ZM_PRIM_INVALID_REQUEST, ZM_EINVAL, NULL, 0, BUSY_MESSAGE,
                          sizeof BUSY_MESSAGE - 1);
    return ZM_EINVAL;
}

/* zm_prim_call, once the context is marked busy. */
static zm_status call_one(zm_prim_registry *reg, zm_prim_ctx *ctx, const char *name,
                          const zm_json *params, zm_json **result) {
    zm__ctx_reset_arenas(ctx);
    zm__ctx_clear_error(ctx);
    *result = NULL;
    size_t len = name ? strlen(name) : 0;
    const zm__prim *p = zm__registry_find(reg, name ? name : "", len);
    zm_status st;
    if (p == NULL) {
        ctx->stats.calls++;
        zm__quoted q;
        st = set_err(ctx, ZM_PRIM_UNKNOWN_PRIMITIVE, ZM_ENOTFOUND, "unknown primitive \"%s\"",
                     zm__quote(&q, name ? name : "", len));
    } else {
        st = run_prim(ctx, p, params ? params : &empty_object, result);
        if (st == ZM_OK) return ZM_OK;
    }
    ctx->stats.errors++;
    zm__ctx_reset_arenas(ctx);
    return st;
}

zm_status zm_prim_call(zm_prim_registry *reg, zm_prim_ctx *ctx, const char *name,
                       const zm_json *params, zm_json **result) {
    *result = NULL;
    if (ctx->busy) return refuse_busy(ctx);
    ctx->busy = true;
    zm_status st = call_one(reg, ctx, name, params, result);
    ctx->busy = false;
    return st;
}

zm_status zm_prim_validate(const zm_prim_registry *reg, zm_prim_ctx *ctx, const char *name,
                           const zm_json *value) {
    zm__ctx_clear_error(ctx);
    /* A NULL name is no primitive's, as in zm_prim_call. */
    if (name == NULL) name = "";
    size_t len = strlen(name);
    const zm__prim *p = zm__registry_find(reg, name, len);
    zm__quoted q;
    if (p == NULL)
        return set_err(ctx, ZM_PRIM_UNKNOWN_PRIMITIVE, ZM_ENOTFOUND, "unknown primitive \"%s\"",
                       zm__quote(&q, name, len));
    if (!zm_json_is_object(value)) return not_object(ctx, value);
    if (p->compiled == NULL) return ZM_OK;
    zm_status st = zm__schema_validate(ctx, p->compiled, value);
    return st == ZM_OK ? ZM_OK : schema_failed(ctx, st);
}

/* ---------------------------------------------------------------------------
 * The response writer: text appended to ctx->response.
 * ------------------------------------------------------------------------- */

typedef struct writer {
    zm_prim_ctx *ctx;
    size_t limit;   /* 0, or the length the buffer must not grow past */
    bool kept_over; /* a batch's kept results passed the limit (not the text) */
} writer;

static zm_status sink(void *c, const char *data, size_t n) {
    writer *w = c;
    zm_buf *b = &w->ctx->response;
    if (w->limit != 0 && n > w->limit - b->len) return ZM_ELIMIT;
    return zm_buf_append(w->ctx->a, b, data, n);
}

#define RAW(w, lit) sink((w), (lit), sizeof(lit) - 1)

static zm_status put_str(writer *w, const char *s, size_t n) {
    zm_buf *b = &w->ctx->response;
    size_t mark = b->len;
    if (RAW(w, "\"") != ZM_OK || !zm__buf_append_escaped(w->ctx->a, b, s, n) ||
        RAW(w, "\"") != ZM_OK) {
        b->len = mark;
        return ZM_ENOMEM;
    }
    return ZM_OK;
}

static zm_status put_json(writer *w, const zm_json *v) {
    if (v == NULL) return RAW(w, "null");
    return zm_json_write_stream(w->ctx->a, v, 0, sink, w);
}

/* Writes the members "ok":false,"error":{...} from the recorded error. */
static zm_status put_error_members(writer *w) {
    zm_prim_ctx *ctx = w->ctx;
    zm_status st;
    if (ctx->err_code == ZM_PRIM_OUT_OF_MEMORY && zm__ctx_limit_hit(ctx)) {
        /* Refused by the process's memory limit, not by the system. */
        char msg[128];
        zm_memory_stats m;
        zm_stats_snapshot(ctx->memory_limit, &m);
        int n = snprintf(msg, sizeof msg, "the memory limit is reached (%zu bytes in use)",
                         m.active_bytes);
        zm__ctx_set_error(ctx, ZM_PRIM_LIMIT_EXCEEDED, ZM_ELIMIT, NULL, 0, msg,
                          n > 0 ? (size_t)n : 0);
    }
    const char *code =
        zm_prim_errcode_name(ctx->err_code == ZM_PRIM_OK ? ZM_PRIM_INTERNAL : ctx->err_code);
    if ((st = RAW(w, "\"ok\":false,\"error\":{\"code\":\"")) != ZM_OK) return st;
    if ((st = sink(w, code, strlen(code))) != ZM_OK) return st;
    if ((st = RAW(w, "\",\"message\":")) != ZM_OK) return st;
    if ((st = put_str(w, ctx->err_msg.data, ctx->err_msg.len)) != ZM_OK) return st;
    if (ctx->has_field) {
        if ((st = RAW(w, ",\"field\":")) != ZM_OK) return st;
        if ((st = put_str(w, ctx->err_field.data, ctx->err_field.len)) != ZM_OK) return st;
    }
    return RAW(w, "}");
}

/* Writes {"id":..., then the ok/result or error members, then }. With id
   NULL and optional_id true, the id member is left out. *callp is the call's
   status; a result that cannot be written turns it into ZM_EINTERNAL. */
static zm_status put_response(writer *w, const zm_json *id, bool optional_id, zm_status *callp,
                              const zm_json *result) {
    zm_status call = *callp;
    zm_buf *b = &w->ctx->response;
    size_t mark = b->len;
    zm_status st;
    if (id != NULL || !optional_id) {
        if ((st = RAW(w, "{\"id\":")) != ZM_OK) goto out;
        if ((st = put_json(w, id)) != ZM_OK) goto out;
        if ((st = RAW(w, ",")) != ZM_OK) goto out;
    } else if ((st = RAW(w, "{")) != ZM_OK) {
        goto out;
    }
    if (call == ZM_OK) {
        if ((st = RAW(w, "\"ok\":true,\"result\":")) != ZM_OK) goto out;
        st = put_json(w, result);
        if (st == ZM_EINVAL) {
            /* The result cannot be written (invalid UTF-8, a non-finite number). */
            b->len = mark;
            set_err(w->ctx, ZM_PRIM_INTERNAL, ZM_EINTERNAL,
                    "the primitive's result is not valid JSON (invalid UTF-8 or a non-finite "
                    "number)");
            *callp = ZM_EINTERNAL;
            return put_response(w, id, optional_id, callp, NULL);
        }
        if (st == ZM_ELIMIT) {
            /* The result is larger than the context's response limit. */
            b->len = mark;
            set_err(w->ctx, ZM_PRIM_LIMIT_EXCEEDED, ZM_ELIMIT,
                    "the response is larger than the limit of %zu bytes", w->limit);
            *callp = ZM_ELIMIT;
            return put_response(w, id, optional_id, callp, NULL);
        }
        if (st != ZM_OK) goto out;
    } else if ((st = put_error_members(w)) != ZM_OK) {
        goto out;
    }
    st = RAW(w, "}");
out:
    if (st != ZM_OK) b->len = mark;
    return st;
}

/* Replaces the response with an out-of-memory error that fits the buffer's
   minimum capacity, keeping the id when it is short. */
static void put_oom(zm_prim_ctx *ctx, const zm_json *id) {
    static const char oom_tail[] =
        ",\"ok\":false,\"error\":{\"code\":\"out_of_memory\",\"message\":\"out of memory\"}}";
    static const char limit_tail[] = ",\"ok\":false,\"error\":{\"code\":\"limit_exceeded\","
                                     "\"message\":\"the memory limit is reached\"}}";
    bool limit = zm__ctx_limit_hit(ctx);
    const char *tail = limit ? limit_tail : oom_tail;
    _Static_assert(sizeof limit_tail >= sizeof oom_tail, "the limit tail is the longer");
    zm_buf *b = &ctx->response;
    writer w = {ctx, ZM__RESPONSE_MIN - sizeof limit_tail - 16, false};
    b->len = 0;
    RAW(&w, "{\"id\":");
    if (put_json(&w, id) != ZM_OK) {
        b->len = 6;
        RAW(&w, "null");
    }
    w.limit = 0;
    sink(&w, tail, strlen(tail));
    RAW(&w, "\0");
    b->len--;
    ctx->err_code = limit ? ZM_PRIM_LIMIT_EXCEEDED : ZM_PRIM_OUT_OF_MEMORY;
    ctx->err_status = limit ? ZM_ELIMIT : ZM_ENOMEM;
}

/* ---------------------------------------------------------------------------
 * Batch references
 * ------------------------------------------------------------------------- */

/* True when s is a reference ("$" digit...) or an escaped "$$". */
static bool is_special(const zm_json *v) {
    size_t n;
    const char *s = zm_json_str(v, &n);
    return zm_json_is_string(v) && n >= 2 && s[0] == '$' &&
           ((s[1] >= '0' && s[1] <= '9') || s[1] == '$');
}

static bool has_special(const zm_json *v, unsigned depth) {
    if (depth > ZM_JSON_DEFAULT_MAX_DEPTH) return false;
    switch (zm_json_typeof(v)) {
    case ZM_JSON_STRING: return is_special(v);
    case ZM_JSON_ARRAY:
        for (size_t i = 0; i < zm_json_len(v); i++)
            if (has_special(zm_json_at(v, i), depth + 1)) return true;
        return false;
    case ZM_JSON_OBJECT:
        for (size_t i = 0; i < zm_json_len(v); i++)
            if (has_special(zm_json_member_at(v, i)->value, depth + 1)) return true;
        return false;
    default: return false;
    }
}

/* Resolves reference text s (n bytes, starting "$<digit>") of call `call`
   against the kept responses. A string starting "$<digit>" is always a
   reference: "$N" or "$N.path" with N in decimal without leading zeros;
   anything else starting so ("$0x", "$01", an N past SIZE_MAX) is an error,
   never a literal. */
static zm_status resolve(zm_prim_ctx *ctx, const zm__vpath *p, const char *s, size_t n,
                         zm_json *const *kept, size_t call, const zm_json **out) {
    zm__quoted q, q2;
    const char *ref = zm__quote(&q, s, n);
    size_t i = 1, idx = 0;
    bool overflow = false;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        unsigned d = (unsigned)(s[i] - '0');
        if (idx > (SIZE_MAX - d) / 10)
            overflow = true;
        else
            idx = idx * 10 + d;
        i++;
    }
    if (i < n && s[i] != '.')
        return zm__fail_at(ctx, p, "reference \"%s\": expected \"$N\" or \"$N.path\"", ref);
    if (s[1] == '0' && i > 2)
        return zm__fail_at(ctx, p, "reference \"%s\": a call index has no leading zeros", ref);
    if (overflow) return zm__fail_at(ctx, p, "reference \"%s\": call index out of range", ref);
    if (idx >= call)
        return zm__fail_at(ctx, p,
                           "reference \"%s\": call %zu has not run (a reference names an "
                           "earlier call of the batch)",
                           ref, idx);
    const zm_json *v = kept[idx];
    bool failed = !zm_json_bool(zm_json_get(v, "ok"));
    while (i < n) {
        size_t start = ++i;
        while (i < n && s[i] != '.') i++;
        size_t len = i - start;
        if (len == 0) return zm__fail_at(ctx, p, "reference \"%s\": empty path segment", ref);
        const zm_json *next = NULL;
        if (zm_json_is_object(v)) {
            next = zm_json_getn(v, s + start, len);
        } else if (zm_json_is_array(v)) {
            size_t k = 0;
            bool digits = true;
            for (size_t j = start; j < i && digits; j++) {
                if (s[j] < '0' || s[j] > '9' || k > (SIZE_MAX - 9) / 10)
                    digits = false;
                else
                    k = k * 10 + (size_t)(s[j] - '0');
            }
            if (digits) next = zm_json_at(v, k);
        }
        if (next == NULL) {
            if (failed && v == kept[idx])
                return zm__fail_at(ctx, p, "reference \"%s\": call %zu failed", ref, idx);
            return zm__fail_at(ctx, p, "reference \"%s\": no \"%s\" there", ref,
                               zm__quote(&q2, s + start, len));
        }
        v = next;
    }
    *out = v;
    return ZM_OK;
}

/* Returns in *out v with every reference replaced and every "$$" unescaped:
   v itself when there is nothing to replace, else a copy of the containers on
   the way (in the call arena) sharing everything else. */
static zm_status subst(zm_prim_ctx *ctx, const zm__vpath *p, const zm_json *v, zm_json *const *kept,
                       size_t call, const zm_json **out, unsigned depth) {
    zm_allocator a = zm_arena_allocator(&ctx->arena);
    *out = v;
    if (depth > ZM_JSON_DEFAULT_MAX_DEPTH || !has_special(v, 0)) return ZM_OK;
    if (zm_json_is_string(v)) {
        size_t n;
        const char *s = zm_json_str(v, &n);
        if (s[1] == '$') {
            zm_json *lit = zm_json_new_string_ref(a, s + 1, n - 1);
            if (lit == NULL) return ZM_ENOMEM;
            *out = lit;
            return ZM_OK;
        }
        return resolve(ctx, p, s, n, kept, call, out);
    }
    size_t len = zm_json_len(v);
    bool obj = zm_json_is_object(v);
    zm_json *copy = obj ? zm_json_new_object(a, len) : zm_json_new_array(a, len);
    if (copy == NULL) return ZM_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        const zm_json_member *m = obj ? zm_json_member_at(v, i) : NULL;
        zm__vpath q = {p, m ? m->key : NULL, m ? m->key_len : i};
        const zm_json *item;
        zm_status st =
            subst(ctx, &q, m ? m->value : zm_json_at(v, i), kept, call, &item, depth + 1);
        if (st != ZM_OK) return st;
        st = obj ? zm_json_object_add_ref(a, copy, m->key, m->key_len, (zm_json *)item)
                 : zm_json_array_push(a, copy, (zm_json *)item);
        if (st != ZM_OK) return st;
    }
    *out = copy;
    return ZM_OK;
}

/* Takes from *room about what a deep copy of v takes (its values, item
   slots, member names and string bytes); false when that is more than *room.
   A result shares subtrees (a patch copying the document into itself, a
   reference used twice): its copy can take far more than its text does. */
static bool copy_fits(const zm_json *v, size_t *room) {
    size_t need = sizeof(zm_json), n = 0;
    if (zm_json_is_string(v)) {
        zm_json_str(v, &n);
        need += n + 1;
        n = 0;
    } else if (zm_json_is_array(v) || zm_json_is_object(v)) {
        n = zm_json_len(v);
        need += n * sizeof(zm_json_member);
    }
    if (need > *room) return false;
    *room -= need;
    bool obj = zm_json_is_object(v);
    for (size_t i = 0; i < n; i++) {
        const zm_json_member *m = obj ? zm_json_member_at(v, i) : NULL;
        if (m != NULL && m->key_len + 1 > *room) return false;
        if (m != NULL) *room -= m->key_len + 1;
        if (!copy_fits(m ? m->value : zm_json_at(v, i), room)) return false;
    }
    return true;
}

/* Builds the kept form of a batch call's response in the request arena:
   {"id"?:..., "ok":true, "result":<copy>} or {"id"?, "ok":false, "error":{...}}. */
static zm_status keep_response(zm_prim_ctx *ctx, const zm_json *id, zm_status call,
                               const zm_json *result, zm_json **out) {
    zm_allocator a = zm_arena_allocator(&ctx->req_arena);
    zm_json *o = zm_json_new_object(a, 3);
    if (o == NULL) return ZM_ENOMEM;
    zm_json *okv = zm_json_new_bool(a, call == ZM_OK);
    if (okv == NULL) return ZM_ENOMEM;
    if (id != NULL && zm_json_object_add_ref(a, o, "id", 2, (zm_json *)id) != ZM_OK)
        return ZM_ENOMEM;
    if (zm_json_object_add_ref(a, o, "ok", 2, okv) != ZM_OK) return ZM_ENOMEM;
    zm_json *body;
    if (call == ZM_OK) {
        if (result == NULL) {
            body = zm_json_new_null(a);
            if (body == NULL) return ZM_ENOMEM;
        } else if (zm_json_clone(a, result, &body) != ZM_OK) {
            return ZM_ENOMEM;
        }
        if (zm_json_object_add_ref(a, o, "result", 6, body) != ZM_OK) return ZM_ENOMEM;
    } else {
        body = zm_json_new_object(a, 3);
        if (body == NULL) return ZM_ENOMEM;
        const char *code = zm_prim_errcode_name(ctx->err_code);
        zm_json *c = zm_json_new_string_ref(a, code, strlen(code));
        zm_json *m = zm_json_new_string(a, ctx->err_msg.data, ctx->err_msg.len);
        zm_json *f =
            ctx->has_field ? zm_json_new_string(a, ctx->err_field.data, ctx->err_field.len) : NULL;
        if (c == NULL || m == NULL || (ctx->has_field && f == NULL)) return ZM_ENOMEM;
        if (zm_json_object_add_ref(a, body, "code", 4, c) != ZM_OK ||
            zm_json_object_add_ref(a, body, "message", 7, m) != ZM_OK ||
            (f != NULL && zm_json_object_add_ref(a, body, "field", 5, f) != ZM_OK) ||
            zm_json_object_add_ref(a, o, "error", 5, body) != ZM_OK)
            return ZM_ENOMEM;
    }
    *out = o;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Requests
 * ------------------------------------------------------------------------- */

/* The parts of one call. */
typedef struct call_parts {
    const zm_json *id; /* NULL when absent */
    const zm_json *primitive;
    const zm_json *params;
    const zm_json *batch;
} call_parts;

/* Splits a request object into its members; records invalid_request on a
   malformed one. allow_batch: the "batch" member is allowed (top level). */
static zm_status split(zm_prim_ctx *ctx, const zm_json *req, bool allow_batch, call_parts *out) {
    memset(out, 0, sizeof *out);
    if (!zm_json_is_object(req))
        return set_err(ctx, ZM_PRIM_INVALID_REQUEST, ZM_EINVAL,
                       allow_batch ? "a request is a JSON object"
                                   : "a batch call is a JSON object");
    for (size_t i = 0; i < zm_json_len(req); i++) {
        const zm_json_member *m = zm_json_member_at(req, i);
        const zm_json **slot = NULL;
        if (m->key_len == 2 && memcmp(m->key, "id", 2) == 0) slot = &out->id;
        if (m->key_len == 9 && memcmp(m->key, "primitive", 9) == 0) slot = &out->primitive;
        if (m->key_len == 6 && memcmp(m->key, "params", 6) == 0) slot = &out->params;
        if (allow_batch && m->key_len == 5 && memcmp(m->key, "batch", 5) == 0) slot = &out->batch;
        zm__quoted q;
        if (slot == NULL)
            return set_err(ctx, ZM_PRIM_INVALID_REQUEST, ZM_EINVAL,
                           "unknown request member \"%s\" (expected id, primitive, params%s)",
                           zm__quote(&q, m->key, m->key_len), allow_batch ? " or batch" : "");
        *slot = m->value;
    }
    if (out->batch != NULL) {
        if (out->primitive != NULL || out->params != NULL)
            return set_err(ctx, ZM_PRIM_INVALID_REQUEST, ZM_EINVAL,
                           "a batch request has no \"primitive\" or \"params\" of its own");
        if (!zm_json_is_array(out->batch))
            return set_err(ctx, ZM_PRIM_INVALID_REQUEST, ZM_EINVAL, "\"batch\" must be an array");
        return ZM_OK;
    }
    if (out->primitive == NULL)
        return set_err(ctx, ZM_PRIM_INVALID_REQUEST, ZM_EINVAL, "missing \"primitive\"");
    if (!zm_json_is_string(out->primitive))
        return set_err(ctx, ZM_PRIM_INVALID_REQUEST, ZM_EINVAL, "\"primitive\" must be a string");
    return ZM_OK;
}

/* Runs one call (parts already split), its params substituted against kept
   when kept is not NULL. */
static zm_status run_parts(zm_prim_registry *reg, zm_prim_ctx *ctx, const call_parts *c,
                           zm_json *const *kept, size_t index, zm_json **result) {
    size_t n;
    const char *name = zm_json_str(c->primitive, &n);
    const zm__prim *p = zm__registry_find(reg, name, n);
    if (p == NULL) {
        ctx->stats.calls++;
        zm__quoted q;
        return set_err(ctx, ZM_PRIM_UNKNOWN_PRIMITIVE, ZM_ENOTFOUND, "unknown primitive \"%s\"",
                       zm__quote(&q, name, n));
    }
    const zm_json *params = c->params ? c->params : &empty_object;
    if (kept != NULL) {
        zm_status st = subst(ctx, NULL, params, kept, index, &params, 0);
        if (st == ZM_ENOMEM) return set_err(ctx, ZM_PRIM_OUT_OF_MEMORY, ZM_ENOMEM, "out of memory");
        if (st != ZM_OK) {
            ctx->stats.calls++;
            return st;
        }
    }
    return run_prim(ctx, p, params, result);
}

/* Resets the per-call arena between the calls of a batch. */
static void reset_call_arena(zm_prim_ctx *ctx) {
    if (ctx->arena.cleanups == NULL && zm_arena_used(&ctx->arena) == 0) return;
    size_t used = zm_arena_used(&ctx->arena);
    zm__ctx_note_call(ctx, used);
    ctx->stats.last_call_bytes = used;
    if (used > ctx->stats.peak_call_bytes) ctx->stats.peak_call_bytes = used;
    ctx->stats.total_call_bytes += used;
    zm_arena_reset(&ctx->arena, ZM_ARENA_RETAIN_WITH_LIMIT, ctx->retain_limit);
    ctx->stats.arena_resets++;
}

static zm_status run_batch(zm_prim_registry *reg, zm_prim_ctx *ctx, const call_parts *top,
                           writer *w) {
    const zm_json *batch = top->batch;
    size_t n = zm_json_len(batch);
    zm_json **kept = NULL;
    size_t kept_room = ctx->response_limit; /* bytes the kept results may still take */
    if (has_special(batch, 0)) {
        kept = zm_arena_new_array(&ctx->req_arena, zm_json *, n);
        if (kept == NULL) return ZM_ENOMEM;
    }
    zm_status st;
    if ((st = RAW(w, "{\"id\":")) != ZM_OK || (st = put_json(w, top->id)) != ZM_OK ||
        (st = RAW(w, ",\"ok\":true,\"batch\":[")) != ZM_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (st = RAW(w, ",")) != ZM_OK) return st;
        zm__ctx_clear_error(ctx);
        call_parts c;
        zm_json *result = NULL;
        zm_status call = split(ctx, zm_json_at(batch, i), false, &c);
        if (call == ZM_OK) call = run_parts(reg, ctx, &c, kept, i, &result);
        if (call == ZM_ENOMEM) return ZM_ENOMEM;
        if ((st = put_response(w, c.id, true, &call, result)) != ZM_OK) return st;
        if (call != ZM_OK) ctx->stats.errors++;
        if (kept != NULL && call == ZM_OK && result != NULL && !copy_fits(result, &kept_room)) {
            w->kept_over = true;
            return ZM_ELIMIT;
        }
        if (kept != NULL && (st = keep_response(ctx, c.id, call, result, &kept[i])) != ZM_OK)
            return st;
        reset_call_arena(ctx);
    }
    return RAW(w, "]}");
}

/* A batch inside the registry's batch hooks: one transaction. A begin or
   commit that fails replaces the response with its error (*call set to its
   status); a batch that ends early is rolled back. */
static zm_status run_batch_txn(zm_prim_registry *reg, zm_prim_ctx *ctx, const call_parts *top,
                               writer *w, zm_status *call) {
    const zm_prim_batch_hooks *h = &reg->batch_hooks;
    zm_buf *b = &ctx->response;
    size_t mark = b->len;
    if (h->begin != NULL) {
        zm__ctx_clear_error(ctx);
        zm_status bs = h->begin(ctx, h->userdata);
        if (bs != ZM_OK) {
            if (ctx->err_code == ZM_PRIM_OK)
                set_err(ctx, zm_prim_errcode_of(bs), bs, "the batch could not begin: %s",
                        zm_status_str(bs));
            *call = bs;
            return put_response(w, top->id, false, call, NULL);
        }
    }
    zm_status st = run_batch(reg, ctx, top, w);
    if (st != ZM_OK) {
        if (h->rollback != NULL) h->rollback(ctx, h->userdata);
        return st;
    }
    if (h->commit != NULL) {
        zm__ctx_clear_error(ctx);
        zm_status cs = h->commit(ctx, h->userdata);
        if (cs != ZM_OK) {
            if (ctx->err_code == ZM_PRIM_OK)
                set_err(ctx, zm_prim_errcode_of(cs), cs,
                        "the batch could not commit (nothing of it was stored): %s",
                        zm_status_str(cs));
            b->len = mark;
            *call = cs;
            return put_response(w, top->id, false, call, NULL);
        }
    }
    return ZM_OK;
}

/* zm_prim_call_json, once the context is marked busy. */
static zm_status call_json(zm_prim_registry *reg, zm_prim_ctx *ctx, const char *request, size_t len,
                           char **response, size_t *response_len) {
    zm_buf *b = &ctx->response;
    /* One huge response does not pin its buffer past the next request. */
    if (b->cap > ctx->response_retain_limit) {
        char *p = zm_realloc(ctx->a, b->data, b->cap, ZM__RESPONSE_MIN, 1);
        if (p != NULL) b->data = p, b->cap = ZM__RESPONSE_MIN;
    }
    b->len = 0;
    zm__ctx_reset_arenas(ctx);
    zm__ctx_clear_error(ctx);

    writer w = {ctx, ctx->response_limit, false};
    zm_json *req = NULL;
    zm_json_error perr;
    call_parts c;
    memset(&c, 0, sizeof c);
    zm_status call, st;
    zm_status ps = zm_json_parse_arena(&ctx->req_arena, request, len, NULL, &req, &perr);
    if (ps != ZM_OK) {
        call = ps;
        if (ps == ZM_ENOMEM)
            set_err(ctx, ZM_PRIM_OUT_OF_MEMORY, ZM_ENOMEM, "out of memory parsing the request");
        else if (ps == ZM_ELIMIT)
            set_err(ctx, ZM_PRIM_LIMIT_EXCEEDED, ZM_ELIMIT, "%s (at byte %zu)", perr.message,
                    perr.offset);
        else
            set_err(ctx, ZM_PRIM_PARSE_ERROR, ps, "%s (at byte %zu)", perr.message, perr.offset);
        st = put_response(&w, NULL, false, &call, NULL);
    } else if ((call = split(ctx, req, true, &c)) != ZM_OK) {
        st = put_response(&w, c.id, false, &call, NULL);
    } else if (c.batch != NULL) {
        call = ZM_OK;
        st = run_batch_txn(reg, ctx, &c, &w, &call);
    } else {
        zm_json *result = NULL;
        call = run_parts(reg, ctx, &c, NULL, 0, &result);
        st = put_response(&w, c.id, false, &call, result);
    }
    if (st == ZM_ELIMIT) {
        /* A batch whose responses together pass the limit: one error. */
        b->len = 0;
        zm__ctx_clear_error(ctx);
        if (w.kept_over)
            set_err(ctx, ZM_PRIM_LIMIT_EXCEEDED, ZM_ELIMIT,
                    "the results the batch keeps for its references take more than the limit "
                    "of %zu bytes",
                    ctx->response_limit);
        else
            set_err(ctx, ZM_PRIM_LIMIT_EXCEEDED, ZM_ELIMIT,
                    "the response is larger than the limit of %zu bytes", ctx->response_limit);
        call = ZM_ELIMIT;
        w.limit = 0;
        st = put_response(&w, c.id, false, &call, NULL);
    }
    if (st != ZM_OK) {
        put_oom(ctx, c.id);
        call = ZM_ENOMEM;
    }
    b->data[b->len] = '\0'; /* after a response cut back to a mark */
    if (call != ZM_OK) ctx->stats.errors++;
    zm__ctx_reset_arenas(ctx);
    *response = b->data;
    *response_len = b->len;
    if (call != ZM_OK) return call;
    return ZM_OK;
}

zm_status zm_prim_call_json(zm_prim_registry *reg, zm_prim_ctx *ctx, const char *request,
                            size_t len, char **response, size_t *response_len) {
    if (ctx->busy) {
        /* The response buffer holds the outer call's response: answer from
           static memory instead. */
        static const char busy[] =
            "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"invalid_request\","
            "\"message\":\"" BUSY_MESSAGE "\"}}";
        *response = (char *)busy;
        *response_len = sizeof busy - 1;
        return refuse_busy(ctx);
    }
    ctx->busy = true;
    zm_status st = call_json(reg, ctx, request, len, response, response_len);
    ctx->busy = false;
    return st;
}
