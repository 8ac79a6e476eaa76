/* Test primitives shared by the prim tests, the tool host and the benchmarks. */
#ifndef ZMEM_TEST_PRIMS_H
#define ZMEM_TEST_PRIMS_H

#include <stdio.h>
#include <string.h>

#include "zmem/prim.h"

/* What the test primitives report back to the tests. */
typedef struct tp_state {
    int cleanups_run; /* cleanups of the "cleanup" primitive that ran */
    int calls;        /* calls of "cleanup" that registered one */
} tp_state;

/* echo: returns params.value (null when absent). */
static zm_status tp_echo(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)ctx;
    *result = zm_json_get(params, "value");
    return ZM_OK;
}

/* echo1: {"msg": string} -> {"msg": msg}, built in the arena. */
static zm_status tp_echo1(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_allocator a = zm_prim_alloc(ctx);
    zm_json *o = zm_json_new_object(a, 1);
    if (o == NULL) return ZM_ENOMEM;
    zm_json *msg = zm_json_get(params, "msg");
    size_t n;
    const char *s = zm_json_str(msg, &n);
    zm_json *copy = zm_json_new_string(a, s, n);
    if (copy == NULL || zm_json_object_add_ref(a, o, "msg", 3, copy) != ZM_OK) return ZM_ENOMEM;
    *result = o;
    return ZM_OK;
}

/* fail: {"status": "EINVAL"|"ENOTFOUND"|"ELIMIT"|"ENOMEM"|"EIO", "silent"?: bool} fails with
   that status, through zm_prim_fail (field "/status") unless silent. */
static zm_status tp_fail(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)result;
    size_t n;
    const char *s = zm_json_str(zm_json_get(params, "status"), &n);
    zm_status st = ZM_EIO;
    if (strcmp(s, "EINVAL") == 0) st = ZM_EINVAL;
    if (strcmp(s, "ENOTFOUND") == 0) st = ZM_ENOTFOUND;
    if (strcmp(s, "ELIMIT") == 0) st = ZM_ELIMIT;
    if (strcmp(s, "ENOMEM") == 0) st = ZM_ENOMEM;
    if (zm_json_bool(zm_json_get(params, "silent"))) return st;
    return zm_prim_fail(ctx, st, "/status", "failing with %s as asked", s);
}

/* bad_result: {"kind": "utf8"|"nan"} returns a value the writer refuses. */
static zm_status tp_bad_result(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_allocator a = zm_prim_alloc(ctx);
    if (zm_json_get(params, "kind") &&
        strcmp(zm_json_str(zm_json_get(params, "kind"), NULL), "nan") == 0)
        *result = zm_json_new_real(a, 0.0 / 0.0);
    else
        *result = zm_json_new_string(a, "\xff\xfe", 2);
    return *result ? ZM_OK : ZM_ENOMEM;
}

static void tp_cleanup_fn(void *arg) {
    ((tp_state *)arg)->cleanups_run++;
}

/* cleanup: registers an arena cleanup that counts in the userdata's state,
   allocates {"bytes": n} bytes (default 100) in the arena, then fails if
   {"fail": true}. */
static zm_status tp_cleanup(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    tp_state *st = zm_prim_userdata(ctx);
    if (zm_arena_on_reset(zm_prim_arena(ctx), tp_cleanup_fn, st) != ZM_OK) return ZM_ENOMEM;
    st->calls++; /* calls that registered a cleanup */
    int64_t bytes = 100;
    if (zm_json_get(params, "bytes")) bytes = zm_json_int(zm_json_get(params, "bytes"));
    char *p = zm_arena_alloc(zm_prim_arena(ctx), (size_t)bytes, 1);
    if (p == NULL) return ZM_ENOMEM;
    memset(p, 'x', (size_t)bytes);
    if (zm_json_bool(zm_json_get(params, "fail")))
        return zm_prim_fail(ctx, ZM_ELIMIT, NULL, "failing after allocating %lld bytes",
                            (long long)bytes);
    *result = zm_json_new_int(zm_prim_alloc(ctx), bytes);
    return *result ? ZM_OK : ZM_ENOMEM;
}

/* whoami: {"agent", "session", "now"} from the context. */
static zm_status tp_whoami(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)params;
    zm_allocator a = zm_prim_alloc(ctx);
    size_t al, sl;
    const char *ag = zm_prim_agent_id(ctx, &al);
    const char *se = zm_prim_session_id(ctx, &sl);
    zm_json *o = zm_json_new_object(a, 3);
    zm_json *x = zm_json_new_string(a, ag, al), *y = zm_json_new_string(a, se, sl),
            *z = zm_json_new_int(a, zm_prim_now_ms(ctx));
    if (!o || !x || !y || !z || zm_json_object_add_ref(a, o, "agent", 5, x) ||
        zm_json_object_add_ref(a, o, "session", 7, y) || zm_json_object_add_ref(a, o, "now", 3, z))
        return ZM_ENOMEM;
    *result = o;
    return ZM_OK;
}

/* add: {"a": integer, "b": integer} -> {"sum": a + b, "parts": [a, b]} */
static zm_status tp_add(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_allocator a = zm_prim_alloc(ctx);
    int64_t x = zm_json_int(zm_json_get(params, "a")), y = zm_json_int(zm_json_get(params, "b"));
    zm_json *o = zm_json_new_object(a, 2), *s = zm_json_new_int(a, x + y),
            *parts = zm_json_new_array(a, 2), *px = zm_json_new_int(a, x),
            *py = zm_json_new_int(a, y);
    if (!o || !s || !parts || !px || !py || zm_json_array_push(a, parts, px) ||
        zm_json_array_push(a, parts, py) || zm_json_object_add_ref(a, o, "sum", 3, s) ||
        zm_json_object_add_ref(a, o, "parts", 5, parts))
        return ZM_ENOMEM;
    *result = o;
    return ZM_OK;
}

/* badmsg: fails with a message and field holding invalid UTF-8. */
static zm_status tp_badmsg(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)params, (void)result;
    return zm_prim_fail(ctx, ZM_ENOTFOUND, "/k\xff", "no such \xc3 thing \xe2\x82");
}

/* nothing: returns no result (JSON null). */
static zm_status tp_nothing(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)ctx, (void)params;
    *result = NULL;
    return ZM_OK;
}

/* Registers the test primitives; returns ZM_OK or the first failure. */
static zm_status tp_register(zm_prim_registry *reg, tp_state *state) {
    const zm_prim_def defs[] = {
        {"echo", "Returns params.value.", NULL, tp_echo, NULL},
        {"echo1", "Returns {msg}.",
         "{\"type\":\"object\",\"properties\":{\"msg\":{\"type\":\"string\"}},\"required\":["
         "\"msg\"]}",
         tp_echo1, NULL},
        {"fail", "Fails with the given status.",
         "{\"type\":\"object\",\"properties\":{\"status\":{\"enum\":[\"EINVAL\",\"ENOTFOUND\","
         "\"ELIMIT\",\"ENOMEM\",\"EIO\"]},\"silent\":{\"type\":\"boolean\"}},\"required\":["
         "\"status\"],"
         "\"additionalProperties\":false}",
         tp_fail, NULL},
        {"bad_result", "Returns a value that cannot be written.",
         "{\"properties\":{\"kind\":{\"enum\":[\"utf8\",\"nan\"]}}}", tp_bad_result, NULL},
        {"cleanup", "Registers a cleanup and allocates bytes.",
         "{\"type\":\"object\",\"properties\":{\"bytes\":{\"type\":\"integer\",\"minimum\":0,"
         "\"maximum\":100000000},\"fail\":{\"type\":\"boolean\"}}}",
         tp_cleanup, state},
        {"whoami", "Returns the caller's identity and the call time.", NULL, tp_whoami, NULL},
        {"add", "Adds two integers.",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":"
         "\"integer\"}},\"required\":[\"a\",\"b\"]}",
         tp_add, NULL},
        {"nothing", "Returns null.", NULL, tp_nothing, NULL},
        {"badmsg", "Fails with a message that is not UTF-8.", NULL, tp_badmsg, NULL},
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        zm_json_error err;
        zm_status st = zm_prim_register(reg, &defs[i], &err);
        if (st != ZM_OK && st != ZM_ENOMEM) {
            fprintf(stderr, "registering %s: %s: %s\n", defs[i].name, zm_status_str(st),
                    err.message);
        }
        if (st != ZM_OK) return st;
    }
    return ZM_OK;
}

/* Creates *reg over the default allocator with the test primitives in it.
   Returns ZM_OK, or the first failure with *reg NULL and nothing left
   allocated. */
static zm_status tp_registry_create(zm_prim_registry **reg, tp_state *state) {
    zm_status st = zm_prim_registry_create(zm_default_allocator(), reg);
    if (st != ZM_OK) return st;
    st = tp_register(*reg, state);
    if (st != ZM_OK) {
        zm_prim_registry_destroy(*reg);
        *reg = NULL;
    }
    return st;
}

#endif
