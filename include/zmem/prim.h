/* zmem — primitives: named operations called with JSON, each call running in a
 * context whose per-call arena is reset afterwards.
 *
 * A registry maps names to primitive functions with a description and an
 * input schema (a subset of JSON Schema, compiled once at registration and
 * checked before the function runs). A context holds what a call needs: the
 * long-lived allocator, the per-call arena, the JSON pool, the template
 * cache, the caller's identity, the call's timestamp and statistics.
 *
 * Memory, in one paragraph: a primitive builds its result in the per-call
 * arena (zm_prim_alloc). zm_prim_call leaves the result there for the caller
 * to read; the NEXT call on the context (or zm_prim_ctx_reset) resets the
 * arena first. zm_prim_call_json writes the response text into a buffer owned
 * by the context and resets the arena before it returns, on every path; the
 * text stays valid until the next call on the context. In steady state
 * neither makes a call to the long-lived allocator.
 *
 * The request protocol of zm_prim_call_json (one JSON object per request):
 *
 *   {"id": ANY, "primitive": "name", "params": {...}}
 *       -> {"id": ANY, "ok": true, "result": ...}
 *       -> {"id": ANY, "ok": false, "error": {"code": "...", "message": "...",
 *                                             "field": "/json/pointer"}}
 *
 *   "id" is optional (echoed as null when absent) and may be any JSON value;
 *   "params" is optional (an empty object) and must be an object. Any other
 *   member is an invalid_request. "field" appears only when the error is about
 *   one parameter; it is a JSON Pointer (RFC 6901) into params.
 *
 *   A batch: {"id": ANY, "batch": [CALL, CALL, ...]} where each CALL is
 *   {"id"?: ANY, "primitive": "name", "params"?: {...}}, answered by
 *   {"id": ANY, "ok": true, "batch": [RESPONSE, RESPONSE, ...]} with one
 *   response per call, in order, each shaped as above (with the call's "id"
 *   when it had one). Every call runs, whether or not an earlier one failed;
 *   the batch itself is ok unless the request is malformed, or a call runs
 *   out of memory: that ends the batch, and the whole request is answered
 *   with out_of_memory.
 *
 *   In a batch, a string parameter value of the form "$N" or "$N.a.b.2" is a
 *   reference to the response of call N (0-based, earlier than this call):
 *   "$0" is call 0's whole response object, "$0.result.value" its member
 *   "result", then "value"; a segment of digits indexes an array. The string
 *   is replaced by that value (of any type) before the schema check. A
 *   reference to a later call, to a missing member, or to a path under a
 *   failed call's "result" makes this call fail with invalid_params naming
 *   the parameter. A string starting with "$$" stands for itself with one "$"
 *   removed ("$$5" is the literal "$5"); other strings are left alone.
 *   Every string starting with "$" and a digit is a reference: N is decimal
 *   without leading zeros, and a malformed one ("$0x", "$00", an N past the
 *   range of a call index) fails the call with invalid_params, never passes
 *   as a literal; "$", "$-1" or "$abc" are literals.
 *   Each call of a batch gets its own arena reset; earlier responses are kept
 *   (copied) in the request's memory for the rest of the batch.
 *
 * Stable error codes: parse_error (the request is not JSON), invalid_request
 * (JSON, but not a request), unknown_primitive, invalid_params (schema check,
 * or a primitive's ZM_EINVAL), not_found (ZM_ENOTFOUND), limit_exceeded
 * (ZM_ELIMIT), out_of_memory (ZM_ENOMEM), busy (ZM_EBUSY), unavailable
 * (ZM_EUNAVAILABLE), storage_error (ZM_EIO, ZM_ECORRUPT), conflict
 * (ZM_ECONFLICT), internal (anything else).
 *
 * A context runs one call at a time. A primitive must not call zm_prim_call
 * or zm_prim_call_json on its own context (that would reset the arena its
 * call is using): while a call runs, both refuse with ZM_EINVAL and the error
 * "context is busy: ..." (zm_prim_call_json then answers a static
 * invalid_request response), leaving the call under way untouched (its
 * arenas, its response, and an error it has already recorded with
 * zm_prim_fail, which zm_prim_last_error keeps showing; without one, the
 * busy error is recorded), and zm_prim_ctx_reset does nothing. To compose
 * primitives, call the inner one on a second context.
 *
 * Neither a registry nor a context is thread-safe; give each thread its own
 * context. A registry may be shared by threads once registration is over.
 */
#ifndef ZMEM_PRIM_H
#define ZMEM_PRIM_H

#include <stdarg.h>

#include "zmem/allocator.h"
#include "zmem/arena.h"
#include "zmem/json.h"
#include "zmem/stats.h"
#include "zmem/template.h"
#include "zmem/testing.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zm_prim_ctx zm_prim_ctx;           /* opaque */
typedef struct zm_prim_registry zm_prim_registry; /* opaque */

/* A primitive. params is a JSON object that passed the input schema; it lives
   at least until fn returns (do not keep pointers into it past the call).
   On success fn sets *result to a value built from zm_prim_alloc(ctx) (or to
   memory that outlives the call's response, like a long-lived store's value,
   or a part of params); NULL stands for JSON null. On failure fn returns a
   status other than ZM_OK, ideally through zm_prim_fail to say why. */
typedef zm_status (*zm_prim_fn)(zm_prim_ctx *ctx, const zm_json *params, zm_json **result);

typedef struct zm_prim_def {
    const char *name;         /* copied; non-empty */
    const char *description;  /* copied; NULL = "" */
    const char *input_schema; /* JSON Schema text (subset), parsed and compiled at
                                 registration; NULL = any object */
    zm_prim_fn fn;
    void *userdata; /* returned by zm_prim_userdata(ctx) while fn runs */
} zm_prim_def;

/* The stable error codes of responses. */
typedef enum zm_prim_errcode {
    ZM_PRIM_OK = 0,
    ZM_PRIM_PARSE_ERROR,
    ZM_PRIM_INVALID_REQUEST,
    ZM_PRIM_UNKNOWN_PRIMITIVE,
    ZM_PRIM_INVALID_PARAMS,
    ZM_PRIM_NOT_FOUND,
    ZM_PRIM_LIMIT_EXCEEDED,
    ZM_PRIM_OUT_OF_MEMORY,
    ZM_PRIM_INTERNAL,
    ZM_PRIM_BUSY,          /* the store stayed locked past its busy timeout: retry later */
    ZM_PRIM_UNAVAILABLE,   /* the store's server cannot be reached: retry later */
    ZM_PRIM_STORAGE_ERROR, /* the store could not read or write (a full disk, damage) */
    ZM_PRIM_CONFLICT,      /* another writer got in the way: retry */
} zm_prim_errcode;

/* Returns the wire name of code ("invalid_params"); "ok" for ZM_PRIM_OK.
   Static; never NULL. */
const char *zm_prim_errcode_name(zm_prim_errcode code);

/* Returns the error code a primitive's status maps to: ZM_OK -> ZM_PRIM_OK,
   ZM_EINVAL -> invalid_params, ZM_ENOTFOUND -> not_found, ZM_ELIMIT ->
   limit_exceeded, ZM_ENOMEM -> out_of_memory, ZM_EBUSY -> busy,
   ZM_EUNAVAILABLE -> unavailable, ZM_EIO and ZM_ECORRUPT -> storage_error,
   ZM_ECONFLICT -> conflict, anything else -> internal. */
zm_prim_errcode zm_prim_errcode_of(zm_status status);

/* ---------------------------------------------------------------------------
 * The registry
 * ------------------------------------------------------------------------- */

/* Makes an empty registry whose memory (names, descriptions, compiled schemas,
   the hash index) comes from a. Returns ZM_OK with *out the caller's
   (zm_prim_registry_destroy), or ZM_ENOMEM (*out untouched). */
zm_status zm_prim_registry_create(zm_allocator a, zm_prim_registry **out);

/* Frees the registry and everything it copied. NULL is a no-op. No context
   may be in a call on it. */
void zm_prim_registry_destroy(zm_prim_registry *reg);

/* Registers a primitive: copies name and description, parses and compiles the
   input schema. Returns ZM_OK; ZM_EEXIST when the name is taken; ZM_EINVAL
   for a NULL/empty name or NULL fn, a schema that parses but is not in the
   supported subset (schema_err->message then names the keyword, e.g.
   "/properties/n/minimum: expected a number"), or a root schema that can
   never accept an object (false, or a "type" without "object": params are
   always an object); ZM_ESYNTAX (or another parse
   status) when the schema text is not JSON (schema_err filled by the
   parser); ZM_ENOMEM. On failure the registry is unchanged. schema_err may be
   NULL; its status is set on every failure. */
zm_status zm_prim_register(zm_prim_registry *reg, const zm_prim_def *def,
                           zm_json_error *schema_err);

/* zm_prim_register, and the registry takes def->userdata: when it is
   destroyed it calls free_userdata(def->userdata) (NULL: nothing), the
   latest registered first. When registration fails, free_userdata is not
   called and the userdata stays the caller's. Same statuses. */
zm_status zm_prim_register_with(zm_prim_registry *reg, const zm_prim_def *def,
                                void (*free_userdata)(void *userdata), zm_json_error *schema_err);

/* What runs around every batch request on a registry: begin before its first
   call, commit after its last, rollback instead when the batch ends early
   (a call ran out of memory). The built-ins set them to one store
   transaction per batch. A hook that fails records why with zm_prim_fail on
   ctx and returns its status: a failed begin or commit answers the whole
   request with that error (a failed commit has stored nothing of the
   batch). */
typedef struct zm_prim_batch_hooks {
    zm_status (*begin)(zm_prim_ctx *ctx, void *userdata);
    zm_status (*commit)(zm_prim_ctx *ctx, void *userdata);
    void (*rollback)(zm_prim_ctx *ctx, void *userdata);
    void *userdata;
} zm_prim_batch_hooks;

/* Sets reg's batch hooks (copied; NULL removes them). Call it while
   registering, before threads share the registry. */
void zm_prim_registry_set_batch_hooks(zm_prim_registry *reg, const zm_prim_batch_hooks *hooks);

/* Returns the number of registered primitives. */
size_t zm_prim_registry_count(const zm_prim_registry *reg);

/* What the registry knows of one primitive. Every pointer is owned by the
   registry and lives as long as it does. */
typedef struct zm_prim_info {
    const char *name;
    size_t name_len;
    const char *description;  /* "" when none was given */
    const char *input_schema; /* the schema text as registered; NULL when none */
    const zm_json *schema;    /* the parsed schema; NULL when none */
    void *userdata;
} zm_prim_info;

/* Fills *out with the primitive at position i (registration order).
   Returns ZM_OK or ZM_ENOTFOUND when i >= count. */
zm_status zm_prim_registry_at(const zm_prim_registry *reg, size_t i, zm_prim_info *out);

/* Looks a primitive up by name (len bytes). Returns ZM_OK with *out filled
   (out may be NULL), or ZM_ENOTFOUND. */
zm_status zm_prim_lookup(const zm_prim_registry *reg, const char *name, size_t len,
                         zm_prim_info *out);

/* ---------------------------------------------------------------------------
 * The context
 * ------------------------------------------------------------------------- */

/* A clock for the call timestamps: milliseconds since the Unix epoch. */
typedef int64_t (*zm_prim_clock_fn)(void *clock_ctx);

/* Options of a context. Zero-initialise and set what you need: every zero
   field takes its default. */
typedef struct zm_prim_ctx_opts {
    zm_allocator longlived;       /* vtable NULL = zm_default_allocator() */
    size_t arena_block_size;      /* first block of the per-call arena; 0 = 64 KiB */
    size_t arena_retain_limit;    /* bytes the arena keeps across resets; 0 = 4 MiB */
    size_t response_retain_limit; /* capacity the response buffer keeps; 0 = 1 MiB */
    zm_json_pool *json_pool;      /* borrowed when non-NULL, else the context makes one;
                                     a template cache the context makes takes its
                                     blocks from it (a pool is for one thread) */
    zm_template_cache *templates; /* borrowed when non-NULL, else the context makes
                                     one over its JSON pool */
    size_t template_budget;       /* budget of a template cache the context makes; 0 = 1 MiB */
    zm_prim_clock_fn clock;       /* NULL = CLOCK_REALTIME */
    void *clock_ctx;
    zm_stats *memory_limit;  /* borrowed; when non-NULL, a call that runs out of memory
                                after this limiter refused an allocation answers
                                limit_exceeded ("the memory limit ... is reached")
                                instead of out_of_memory */
    zm_stats *process_stats; /* borrowed; the process's total that memory reports
                                (zmem/memory.h) show against its limit and
                                thresholds; NULL = memory_limit */
    size_t response_limit;   /* bytes a response may take; 0 = 256 MiB. A result that
                                would write past it answers limit_exceeded instead, so
                                a request that multiplies its input (a patch copying
                                the document into itself, batch references to earlier
                                results) cannot grow the process without bound */
} zm_prim_ctx_opts;

/* Makes a context. opts may be NULL (all defaults). Returns ZM_OK with *out
   the caller's (zm_prim_ctx_destroy), or ZM_ENOMEM (nothing left allocated). */
zm_status zm_prim_ctx_create(const zm_prim_ctx_opts *opts, zm_prim_ctx **out);

/* Resets the arena (running its cleanups) and frees everything the context
   made; borrowed pool and cache are left alone. NULL is a no-op. */
void zm_prim_ctx_destroy(zm_prim_ctx *ctx);

/* Resets the per-call arena now (running its cleanups, keeping capacity up to
   the retain limit): the last zm_prim_call's result dies. Calls do this
   themselves; use it to free a result early. Inside a call on ctx it does
   nothing. */
void zm_prim_ctx_reset(zm_prim_ctx *ctx);

/* Sets the agent id: len bytes of id are COPIED (the caller may free id
   afterwards). NULL or len 0 unsets it. Returns ZM_OK or ZM_ENOMEM (the old
   id is then kept). */
zm_status zm_prim_ctx_set_agent_id(zm_prim_ctx *ctx, const char *id, size_t len);

/* Sets the session id; as zm_prim_ctx_set_agent_id. */
zm_status zm_prim_ctx_set_session_id(zm_prim_ctx *ctx, const char *id, size_t len);

/* Replaces the clock (NULL = CLOCK_REALTIME). */
void zm_prim_ctx_set_clock(zm_prim_ctx *ctx, zm_prim_clock_fn clock, void *clock_ctx);

/* Counters of a context. */
typedef struct zm_prim_stats {
    uint64_t calls;            /* primitive calls attempted (batch items count one each) */
    uint64_t errors;           /* calls and requests that ended in an error response */
    size_t last_call_bytes;    /* arena bytes used by the last call (request included) */
    size_t peak_call_bytes;    /* the most any one call used */
    uint64_t total_call_bytes; /* sum over all calls */
    size_t arena_capacity;     /* bytes the arenas hold now (kept across resets) */
    size_t response_capacity;  /* bytes of the response buffer */
    size_t arena_resets;       /* arena resets done */
    zm_memory_stats longlived; /* what went through the long-lived allocator: the
                                  context's own (arena blocks, pool slabs,
                                  buffers) and zm_prim_longlived's, counted as
                                  zm_stats counts (allocs, frees, active and peak
                                  bytes); a store made apart is not in it */
} zm_prim_stats;

/* Fills *out with the context's counters. */
void zm_prim_ctx_stats(const zm_prim_ctx *ctx, zm_prim_stats *out);

/* The JSON pool and template cache of the context (its own or borrowed). */
zm_json_pool *zm_prim_json_pool(zm_prim_ctx *ctx);
zm_template_cache *zm_prim_templates(zm_prim_ctx *ctx);

/* ---------------------------------------------------------------------------
 * Inside a primitive
 * ------------------------------------------------------------------------- */

/* The per-call arena as an allocator: build results here; everything dies at
   the reset after the call. */
zm_allocator zm_prim_alloc(zm_prim_ctx *ctx);

/* The per-call arena itself (for zm_arena_on_reset cleanups, savepoints). */
zm_arena *zm_prim_arena(zm_prim_ctx *ctx);

/* The long-lived allocator: memory that must outlive the call (a store). */
zm_allocator zm_prim_longlived(zm_prim_ctx *ctx);

/* The userdata of the primitive running now (NULL outside a call). */
void *zm_prim_userdata(const zm_prim_ctx *ctx);

/* The call's timestamp in ms since the epoch, read once when the call began. */
int64_t zm_prim_now_ms(const zm_prim_ctx *ctx);

/* The bytes a response of this context may take (zm_prim_ctx_opts's
   response_limit, or its default): what a primitive can hold a large read
   to before it builds a result that would be refused anyway. */
size_t zm_prim_response_limit(const zm_prim_ctx *ctx);

/* The agent id / session id: "" (len 0) when unset. Owned by the context,
   valid until it is set again. len may be NULL. */
const char *zm_prim_agent_id(const zm_prim_ctx *ctx, size_t *len);
const char *zm_prim_session_id(const zm_prim_ctx *ctx, size_t *len);

/* Records an error for the response and returns code: the message is
   formatted (printf-style) into memory owned by the context, field (a JSON
   Pointer into params, or NULL) is copied. code maps to the stable codes as
   zm_prim_errcode_of says. Use as `return zm_prim_fail(ctx, ZM_EINVAL,
   "/key", "key must not be empty");`. */
ZM_PRINTF_LIKE(4, 5)
zm_status zm_prim_fail(zm_prim_ctx *ctx, zm_status code, const char *field, const char *fmt, ...);

/* Reads the integer parameter name (a NUL-terminated member name of params)
   into *out. The schema's "integer" accepts every number without a fraction
   (1e2, 80.0, 99999999999999999999999 too), so read it here rather than with
   zm_json_int, which gives 0 for all but plain int64 literals. Returns ZM_OK
   (the value, or *out left as it is when params has no such member: set
   the default first), or ZM_EINVAL recorded with zm_prim_fail, field
   "/name", when it is not an integer or does not fit int64 ("out of range
   (a 64-bit signed integer: -2^63 to 2^63-1)"): the call then answers
   invalid_params. name must be at most 62 bytes. */
zm_status zm_prim_param_int(zm_prim_ctx *ctx, const zm_json *params, const char *name,
                            int64_t *out);

/* ---------------------------------------------------------------------------
 * Calling
 * ------------------------------------------------------------------------- */

/* Calls primitive name with params (an object; NULL = {}). First resets the
   per-call arena (the previous call's result dies), so params must NOT live
   in this context's arena. Checks params against the schema, then runs the
   primitive. On ZM_OK *result is the result (NULL = JSON null), valid until
   the next call on ctx or zm_prim_ctx_reset. On failure the arena is reset
   before returning, *result is NULL and zm_prim_last_error says why: the
   status is ZM_ENOTFOUND for an unknown primitive (code unknown_primitive),
   ZM_EINVAL for a schema failure, else the primitive's own status. Called
   while ctx is already in a call (from a primitive running on it): ZM_EINVAL,
   "context is busy" (unless the call under way has recorded an error of its
   own, which is kept), and nothing of the call under way is touched. */
zm_status zm_prim_call(zm_prim_registry *reg, zm_prim_ctx *ctx, const char *name,
                       const zm_json *params, zm_json **result);

/* Runs one request (or batch) given as len bytes of JSON text and writes the
   response text. *response (NUL-terminated, *response_len bytes without the
   NUL) is owned by ctx and valid until the next call on ctx; it is always set,
   to a well-formed response, even when this returns an error. The per-call
   arena is reset before returning, on every path. Returns ZM_OK when the
   response is ok:true, else the status of the error reported (ZM_ESYNTAX, or
   ZM_EDEPTH for a request nested too deep, for parse_error; ZM_EINVAL for
   invalid_request and invalid_params; ZM_ENOTFOUND for unknown_primitive and
   not_found; ZM_ELIMIT, ZM_ENOMEM, ...). Called while ctx is already in a
   call: ZM_EINVAL and a static invalid_request response saying the context
   is busy; the call under way is untouched. */
zm_status zm_prim_call_json(zm_prim_registry *reg, zm_prim_ctx *ctx, const char *request,
                            size_t len, char **response, size_t *response_len);

/* The error of the last failed call on ctx. Strings are owned by ctx, valid
   until the next call. */
typedef struct zm_prim_error {
    zm_prim_errcode code; /* ZM_PRIM_OK when the last call succeeded */
    zm_status status;
    const char *message; /* "" when none */
    const char *field;   /* NULL when the error is not about one parameter */
} zm_prim_error;

/* Fills *out with the error of the last call on ctx. */
void zm_prim_last_error(const zm_prim_ctx *ctx, zm_prim_error *out);

/* Checks value against the compiled input schema of primitive name, without
   calling it. Returns ZM_OK; ZM_EINVAL with the error recorded on ctx (as by
   zm_prim_fail: zm_prim_last_error names field and rule); ZM_ENOMEM when the
   check ran out of memory (recorded as out_of_memory); ZM_ENOTFOUND for an
   unknown name, or a NULL one (as zm_prim_call). */
zm_status zm_prim_validate(const zm_prim_registry *reg, zm_prim_ctx *ctx, const char *name,
                           const zm_json *value);

/* ---------------------------------------------------------------------------
 * The built-in primitives: store, retrieve, forget, search, link, unlink,
 * neighbors, transform, and the templates (template_put, render,
 * template_list, template_delete), and memory (the memory report,
 * zmem/memory.h), over a store (zmem/store.h).
 * ------------------------------------------------------------------------- */

typedef struct zm_store zm_store;

/* The store keys of templates: template_put keeps template NAME under the key
   ZM_TEMPLATE_KEY_PREFIX "NAME"; store and forget refuse keys starting with
   it (invalid_params; template_delete deletes a template); retrieve reads
   them (with their history); search leaves them out unless its query starts
   with the prefix. */
#define ZM_TEMPLATE_KEY_PREFIX "$template/"

/* Registers the built-in primitives on reg, with s as their store (s must
   outlive the registry's use), and sets reg's batch hooks so that every
   batch request is one transaction of s. The calls' agent and session ids
   are recorded with what they write. ZM_OK, ZM_EEXIST (a name is taken: the
   ones before it stay registered), ZM_ENOMEM, ZM_EINVAL (a schema the
   runtime refused: a bug). */
zm_status zm_prim_register_builtins(zm_prim_registry *reg, zm_store *s);

/* ---------------------------------------------------------------------------
 * Testing a primitive
 * ------------------------------------------------------------------------- */

/* Sweeps one request (len bytes of JSON text, as zm_prim_call_json takes it)
   on a registry and context that already exist, with every allocation of the
   call failing in turn: those of the per-call arena and the JSON pool, and
   those of the long-lived allocator (the store's too). Make the registry,
   the context (opts.longlived) and the store over
   zm_sweep_fixture_allocator(fx), set them up once, then sweep as many
   requests as you like; the failure points counted are the call's own
   (zmem/testing.h, zm_sweep_fixture). Each run must answer ok:true when
   nothing fails, and out_of_memory (status ZM_ENOMEM) when an allocation
   fails; a failing run must leave nothing it allocated behind (a store that
   answered out_of_memory must not have stored). opts (NULL = defaults) and
   report (may be NULL) as for zm_sweep_fixture_check. Returns its status,
   or ZM_EINVAL when ctx's long-lived allocator is not fx's. */
zm_status zm_prim_sweep_request(zm_sweep_fixture *fx, zm_prim_registry *reg, zm_prim_ctx *ctx,
                                const char *request, size_t len, const zm_sweep_options *opts,
                                zm_sweep_report *report);

#ifdef __cplusplus
}
#endif
#endif
