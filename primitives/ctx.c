/* The context: allocators, arenas, identity, clock, the last error, stats. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include "internal.h"

#define DEFAULT_BLOCK           ((size_t)64 << 10)
#define DEFAULT_RETAIN          ((size_t)4 << 20)
#define DEFAULT_RESPONSE_RETAIN ((size_t)1 << 20)
#define DEFAULT_RESPONSE_LIMIT  ((size_t)256 << 20)
#define DEFAULT_TEMPLATE_BUDGET ((size_t)1 << 20)
#define ERR_BUF_INITIAL         256

/* ---------------------------------------------------------------------------
 * Buffers
 * ------------------------------------------------------------------------- */

bool zm__buf_set(zm_allocator a, zm_buf *b, const char *s, size_t n) {
    size_t old = b->len;
    b->len = 0;
    if (zm_buf_append(a, b, s, n) == ZM_OK) return true;
    b->len = old;
    return false;
}

bool zm__buf_append_escaped(zm_allocator a, zm_buf *b, const char *str, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t run = 0;   /* start of the pending run of bytes copied as they are */
    size_t valid = 0; /* s[..valid) is known to be valid UTF-8 */
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c >= 0x80) { /* copied when part of valid UTF-8, else replaced */
            if (i >= valid) valid = i + zm_utf8_valid_prefix(str + i, n - i);
            if (i < valid) {
                i++;
                continue;
            }
        } else if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        if (zm_buf_append(a, b, s + run, i - run) != ZM_OK) return false;
        char esc[8];
        size_t k = 0;
        esc[k++] = '\\';
        switch (c) {
        case '"': esc[k++] = '"'; break;
        case '\\': esc[k++] = '\\'; break;
        case '\n': esc[k++] = 'n'; break;
        case '\r': esc[k++] = 'r'; break;
        case '\t': esc[k++] = 't'; break;
        case '\b': esc[k++] = 'b'; break;
        case '\f': esc[k++] = 'f'; break;
        default:
            if (c < 0x20) {
                esc[k++] = 'u', esc[k++] = '0', esc[k++] = '0';
                esc[k++] = hex[c >> 4], esc[k++] = hex[c & 15];
            } else { /* invalid UTF-8: U+FFFD */
                k = 0;
                esc[k++] = (char)0xEF, esc[k++] = (char)0xBF, esc[k++] = (char)0xBD;
            }
        }
        if (zm_buf_append(a, b, esc, k) != ZM_OK) return false;
        i++;
        run = i;
    }
    return zm_buf_append(a, b, s + run, n - run) == ZM_OK;
}

const char *zm__quote(zm__quoted *q, const char *str, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t cut = n;
    if (cut > ZM__QUOTE_MAX) {
        cut = ZM__QUOTE_MAX;
        while (cut > 0 && (s[cut] & 0xC0) == 0x80) cut--;
    }
    char *o = q->text;
    for (size_t i = 0; i < cut; i++) {
        unsigned c = s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20 || c == 0x7F) {
            *o++ = '\\', *o++ = 'u', *o++ = '0', *o++ = '0';
            *o++ = hex[c >> 4], *o++ = hex[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    if (cut < n) *o++ = '.', *o++ = '.', *o++ = '.';
    *o = '\0';
    return q->text;
}

/* ---------------------------------------------------------------------------
 * Creating and destroying
 * ------------------------------------------------------------------------- */

static int64_t realtime_ms(void *unused) {
    (void)unused;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

zm_status zm_prim_ctx_create(const zm_prim_ctx_opts *opts, zm_prim_ctx **out) {
    zm_prim_ctx_opts o;
    if (opts != NULL)
        o = *opts;
    else
        memset(&o, 0, sizeof o);
    zm_allocator a = o.longlived.vtable != NULL ? o.longlived : zm_default_allocator();

    zm_prim_ctx *ctx = zm_create(a, zm_prim_ctx);
    if (ctx == NULL) return ZM_ENOMEM;
    memset(ctx, 0, sizeof *ctx);
    /* Everything else the context takes goes through a counting view. */
    ctx->ll_backing = a;
    zm_stats_init(&ctx->ll, a, 0);
    a = zm_stats_allocator(&ctx->ll);
    ctx->a = a;
    size_t block = o.arena_block_size ? o.arena_block_size : DEFAULT_BLOCK;
    zm_arena_init_sized(&ctx->arena, a, block);
    zm_arena_init_sized(&ctx->req_arena, a, block);
    ctx->retain_limit = o.arena_retain_limit ? o.arena_retain_limit : DEFAULT_RETAIN;
    ctx->response_retain_limit =
        o.response_retain_limit ? o.response_retain_limit : DEFAULT_RESPONSE_RETAIN;
    if (ctx->response_retain_limit < ZM__RESPONSE_MIN)
        ctx->response_retain_limit = ZM__RESPONSE_MIN;
    ctx->response_limit = o.response_limit ? o.response_limit : DEFAULT_RESPONSE_LIMIT;
    if (ctx->response_limit < ZM__RESPONSE_MIN) ctx->response_limit = ZM__RESPONSE_MIN;
    ctx->clock = o.clock ? o.clock : realtime_ms;
    ctx->clock_ctx = o.clock ? o.clock_ctx : NULL;
    ctx->memory_limit = o.memory_limit;
    ctx->process = o.process_stats ? o.process_stats : o.memory_limit;

    ctx->pool = o.json_pool;
    ctx->templates = o.templates;
    if (ctx->pool == NULL) {
        if (zm_json_pool_create(a, &ctx->pool) != ZM_OK) goto oom;
        ctx->owns_pool = true;
    }
    if (ctx->templates == NULL) {
        size_t budget = o.template_budget ? o.template_budget : DEFAULT_TEMPLATE_BUDGET;
        /* Template blocks come from the context's JSON pool (a template up to
           4096 bytes is one pooled block, reused by the next of its size
           class after a replacement or an eviction; a larger one goes to the
           pool's backing, the long-lived allocator). */
        zm_allocator ta = zm_json_pool_allocator(ctx->pool);
        if (zm_template_cache_create(ta, budget, &ctx->templates) != ZM_OK) goto oom;
        ctx->owns_templates = true;
    }
    /* Buffers that answer errors and responses without growing in the usual case. */
    /* (zm_buf_reserve counts the NUL apart: each block is exactly the size named.) */
    if (zm_buf_reserve(a, &ctx->err_msg, ERR_BUF_INITIAL - 1) != ZM_OK ||
        zm_buf_reserve(a, &ctx->err_field, ERR_BUF_INITIAL - 1) != ZM_OK ||
        zm_buf_reserve(a, &ctx->response, ZM__RESPONSE_MIN - 1) != ZM_OK)
        goto oom;
    *out = ctx;
    return ZM_OK;
oom:
    zm_prim_ctx_destroy(ctx);
    return ZM_ENOMEM;
}

void zm_prim_ctx_destroy(zm_prim_ctx *ctx) {
    if (ctx == NULL) return;
    zm_allocator a = ctx->a;
    zm_arena_deinit(&ctx->arena);
    zm_arena_deinit(&ctx->req_arena);
    if (ctx->owns_templates) zm_template_cache_destroy(ctx->templates);
    if (ctx->owns_pool) zm_json_pool_destroy(ctx->pool);
    zm_buf_deinit(a, &ctx->agent_id);
    zm_buf_deinit(a, &ctx->session_id);
    zm_buf_deinit(a, &ctx->err_msg);
    zm_buf_deinit(a, &ctx->err_field);
    zm_buf_deinit(a, &ctx->response);
    zm__ctx_free_reports(ctx);
    zm_destroy(ctx->ll_backing, ctx);
}

/* ---------------------------------------------------------------------------
 * Resets and statistics
 * ------------------------------------------------------------------------- */

void zm__ctx_reset_arenas(zm_prim_ctx *ctx) {
    /* Each arena's bytes read once: they say whether it needs a reset, and
       feed the counters, all before the resets (nothing kept across them). */
    size_t u1 = zm_arena_used(&ctx->arena), u2 = zm_arena_used(&ctx->req_arena);
    bool d1 = u1 != 0 || ctx->arena.cleanups != NULL;
    bool d2 = u2 != 0 || ctx->req_arena.cleanups != NULL;
    if (!d1 && !d2) return;
    size_t used = u1 + u2;
    ctx->stats.last_call_bytes = used;
    if (used > ctx->stats.peak_call_bytes) ctx->stats.peak_call_bytes = used;
    ctx->stats.total_call_bytes += used;
    if (d1) zm__ctx_note_call(ctx, u1);
    if (d2) {
        ctx->req_last = u2;
        if (u2 > ctx->req_peak) ctx->req_peak = u2;
    }
    /* The per-call arena keeps up to the limit; the request arena likewise. */
    if (d1) {
        zm_arena_reset(&ctx->arena, ZM_ARENA_RETAIN_WITH_LIMIT, ctx->retain_limit);
        ctx->stats.arena_resets++;
    }
    if (d2) {
        zm_arena_reset(&ctx->req_arena, ZM_ARENA_RETAIN_WITH_LIMIT, ctx->retain_limit);
        ctx->stats.arena_resets++;
    }
}

void zm_prim_ctx_reset(zm_prim_ctx *ctx) {
    /* Inside a call the arena holds the call's own memory: leave it alone. */
    if (ctx->busy) return;
    zm__ctx_reset_arenas(ctx);
}

void zm_prim_ctx_stats(const zm_prim_ctx *ctx, zm_prim_stats *out) {
    *out = ctx->stats;
    out->arena_capacity = zm_arena_capacity(&ctx->arena) + zm_arena_capacity(&ctx->req_arena);
    out->response_capacity = ctx->response.cap;
    zm_stats_snapshot(&ctx->ll, &out->longlived);
}

int64_t zm__ctx_clock(zm_prim_ctx *ctx) {
    return ctx->clock(ctx->clock_ctx);
}

/* ---------------------------------------------------------------------------
 * Identity, clock, accessors
 * ------------------------------------------------------------------------- */

static zm_status set_id(zm_prim_ctx *ctx, zm_buf *b, const char *id, size_t len) {
    if (id == NULL || len == 0) {
        zm_buf_clear(b);
        return ZM_OK;
    }
    /* Copy into a fresh buffer first, so that a failure keeps the old id and
       id may point into the old one. */
    zm_buf fresh = {NULL, 0, 0};
    if (!zm__buf_set(ctx->a, &fresh, id, len)) return ZM_ENOMEM;
    zm_buf_deinit(ctx->a, b);
    *b = fresh;
    return ZM_OK;
}

zm_status zm_prim_ctx_set_agent_id(zm_prim_ctx *ctx, const char *id, size_t len) {
    return set_id(ctx, &ctx->agent_id, id, len);
}

zm_status zm_prim_ctx_set_session_id(zm_prim_ctx *ctx, const char *id, size_t len) {
    return set_id(ctx, &ctx->session_id, id, len);
}

void zm_prim_ctx_set_clock(zm_prim_ctx *ctx, zm_prim_clock_fn clock, void *clock_ctx) {
    ctx->clock = clock ? clock : realtime_ms;
    ctx->clock_ctx = clock ? clock_ctx : NULL;
}

zm_json_pool *zm_prim_json_pool(zm_prim_ctx *ctx) {
    return ctx->pool;
}

zm_template_cache *zm_prim_templates(zm_prim_ctx *ctx) {
    return ctx->templates;
}

zm_allocator zm_prim_alloc(zm_prim_ctx *ctx) {
    return zm_arena_allocator(&ctx->arena);
}

zm_arena *zm_prim_arena(zm_prim_ctx *ctx) {
    return &ctx->arena;
}

zm_allocator zm_prim_longlived(zm_prim_ctx *ctx) {
    return ctx->a;
}

void *zm_prim_userdata(const zm_prim_ctx *ctx) {
    return ctx->userdata;
}

int64_t zm_prim_now_ms(const zm_prim_ctx *ctx) {
    return ctx->now_ms;
}

size_t zm_prim_response_limit(const zm_prim_ctx *ctx) {
    return ctx->response_limit;
}

static const char *id_of(const zm_buf *b, size_t *len) {
    if (len) *len = b->len;
    return zm_buf_str(b);
}

const char *zm_prim_agent_id(const zm_prim_ctx *ctx, size_t *len) {
    return id_of(&ctx->agent_id, len);
}

const char *zm_prim_session_id(const zm_prim_ctx *ctx, size_t *len) {
    return id_of(&ctx->session_id, len);
}

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

static const char *const errcode_names[] = {
    "ok",          "parse_error",    "invalid_request", "unknown_primitive", "invalid_params",
    "not_found",   "limit_exceeded", "out_of_memory",   "internal",          "busy",
    "unavailable", "storage_error",  "conflict",
};

const char *zm_prim_errcode_name(zm_prim_errcode code) {
    if ((unsigned)code >= sizeof errcode_names / sizeof errcode_names[0]) return "internal";
    return errcode_names[code];
}

zm_prim_errcode zm_prim_errcode_of(zm_status status) {
    switch (status) {
    case ZM_OK: return ZM_PRIM_OK;
    case ZM_EINVAL: return ZM_PRIM_INVALID_PARAMS;
    case ZM_ENOTFOUND: return ZM_PRIM_NOT_FOUND;
    case ZM_ELIMIT: return ZM_PRIM_LIMIT_EXCEEDED;
    case ZM_ENOMEM: return ZM_PRIM_OUT_OF_MEMORY;
    case ZM_EBUSY: return ZM_PRIM_BUSY;
    case ZM_EUNAVAILABLE: return ZM_PRIM_UNAVAILABLE;
    case ZM_EIO:
    case ZM_ECORRUPT: return ZM_PRIM_STORAGE_ERROR;
    case ZM_ECONFLICT: return ZM_PRIM_CONFLICT;
    default: return ZM_PRIM_INTERNAL;
    }
}

/* Replaces every byte of s that is not part of valid UTF-8 with '?', in
   place, so that a message cut short (or given bad bytes) still writes as
   JSON everywhere. */
static void sanitize(zm_buf *b) {
    for (size_t i = 0;;) {
        i += zm_utf8_valid_prefix(b->data + i, b->len - i);
        if (i == b->len) return;
        b->data[i++] = '?';
    }
}

/* NUL-terminates b, cutting its last byte when it is full (a message built
   by appends whose terminating append could not grow the buffer). */
static void terminate(zm_buf *b) {
    if (b->cap == 0) return;
    if (b->len >= b->cap) b->len = b->cap - 1;
    b->data[b->len] = '\0';
}

void zm__ctx_sanitize_error(zm_prim_ctx *ctx) {
    terminate(&ctx->err_msg);
    terminate(&ctx->err_field);
    sanitize(&ctx->err_msg);
    sanitize(&ctx->err_field);
}

/* Copies n bytes into b, truncating to what b can hold if it cannot grow. */
static void copy_truncating(zm_allocator a, zm_buf *b, const char *s, size_t n) {
    if (zm__buf_set(a, b, s, n)) return;
    if (b->cap == 0) return;
    size_t k = n < b->cap - 1 ? n : b->cap - 1;
    memmove(b->data, s, k);
    b->data[k] = '\0';
    b->len = k;
}

size_t zm__ctx_limit_refusals(const zm_prim_ctx *ctx) {
    if (ctx->memory_limit == NULL) return 0;
    zm_memory_stats m;
    zm_stats_snapshot(ctx->memory_limit, &m);
    return m.refused;
}

void zm__ctx_set_error(zm_prim_ctx *ctx, zm_prim_errcode code, zm_status status, const char *field,
                       size_t field_len, const char *msg, size_t msg_len) {
    ctx->err_code = code;
    ctx->err_status = status;
    ctx->has_field = field != NULL;
    if (field != NULL) copy_truncating(ctx->a, &ctx->err_field, field, field_len);
    if (msg != NULL)
        copy_truncating(ctx->a, &ctx->err_msg, msg, msg_len);
    else
        copy_truncating(ctx->a, &ctx->err_msg, "", 0);
    zm__ctx_sanitize_error(ctx);
}

zm_status zm_prim_fail(zm_prim_ctx *ctx, zm_status code, const char *field, const char *fmt, ...) {
    ctx->err_code = zm_prim_errcode_of(code);
    ctx->err_status = code;
    ctx->has_field = field != NULL;
    if (field != NULL) copy_truncating(ctx->a, &ctx->err_field, field, strlen(field));
    if (fmt == NULL) fmt = "";
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n < sizeof small) {
        copy_truncating(ctx->a, &ctx->err_msg, small, (size_t)n);
    } else {
        ctx->err_msg.len = 0;
        if (zm_buf_reserve(ctx->a, &ctx->err_msg, (size_t)n) == ZM_OK) {
            va_start(ap, fmt);
            vsnprintf(ctx->err_msg.data, (size_t)n + 1, fmt, ap);
            va_end(ap);
            ctx->err_msg.len = (size_t)n;
        } else {
            copy_truncating(ctx->a, &ctx->err_msg, small, sizeof small - 1);
        }
    }
    zm__ctx_sanitize_error(ctx);
    return code;
}

void zm_prim_last_error(const zm_prim_ctx *ctx, zm_prim_error *out) {
    out->code = ctx->err_code;
    out->status = ctx->err_status;
    out->message = ctx->err_msg.len ? ctx->err_msg.data : "";
    out->field = ctx->has_field ? (ctx->err_field.len ? ctx->err_field.data : "") : NULL;
}
