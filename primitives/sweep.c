/* A request swept on a context that already exists (zm_prim_sweep_request). */
#include "internal.h"

typedef struct sweep_call {
    zm_prim_registry *reg;
    zm_prim_ctx *ctx;
    const char *request;
    size_t len;
} sweep_call;

/* One run: the request through zm_prim_call_json; out of memory must be
   answered as out_of_memory, and the call must leave the arenas empty. */
static zm_status run_request(zm_allocator a, void *arg) {
    (void)a; /* the context allocates through the fixture already */
    sweep_call *c = arg;
    char *resp;
    size_t n;
    zm_status st = zm_prim_call_json(c->reg, c->ctx, c->request, c->len, &resp, &n);
    if (st == ZM_ENOMEM && strstr(resp, "\"out_of_memory\"") == NULL) return ZM_EINTERNAL;
    if (zm_arena_used(&c->ctx->arena) != 0 || zm_arena_used(&c->ctx->req_arena) != 0)
        return ZM_EINTERNAL;
    return st;
}

zm_status zm_prim_sweep_request(zm_sweep_fixture *fx, zm_prim_registry *reg, zm_prim_ctx *ctx,
                                const char *request, size_t len, const zm_sweep_options *opts,
                                zm_sweep_report *report) {
    zm_allocator fa = zm_sweep_fixture_allocator(fx);
    if (ctx->ll_backing.ctx != fa.ctx || ctx->ll_backing.vtable != fa.vtable) {
        if (report != NULL) {
            memset(report, 0, sizeof *report);
            report->fail_index = SIZE_MAX;
            snprintf(report->message, sizeof report->message,
                     "zm_prim_sweep_request: the context's long-lived allocator is not the "
                     "fixture's (make it with opts.longlived = zm_sweep_fixture_allocator(fx))");
        }
        return ZM_EINVAL;
    }
    sweep_call c = {reg, ctx, request, len};
    return zm_sweep_fixture_check(fx, run_request, &c, opts, report);
}
