/* The memory primitive: the context's memory report (zmem/memory.h). */
#include <inttypes.h>

#include "builtins_internal.h"
#include "internal.h"
#include "zmem/memory.h"

static zm_status prim_memory(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_memory_report base, *since = NULL;
    if (zm_json_get(params, "since") != NULL) {
        int64_t id = 0;
        zm_status st = zm__bi_param_int(ctx, params, "since", &id);
        if (st != ZM_OK) return st;
        if (id < 1 || zm_memory_report_find(ctx, (uint64_t)id, &base) != ZM_OK) {
            uint64_t oldest, latest;
            zm_memory_report_ids(ctx, &oldest, &latest);
            if (latest == 0)
                return zm_prim_fail(ctx, ZM_ENOTFOUND, "/since",
                                    "no memory report %" PRId64 ": none has been taken yet", id);
            return zm_prim_fail(ctx, ZM_ENOTFOUND, "/since",
                                "no memory report %" PRId64 " is kept: this context keeps "
                                "reports %" PRIu64 " to %" PRIu64 " (the last %d taken)",
                                id, oldest, latest, ZM_MEMORY_KEEP);
        }
        since = &base;
    }
    /* Taken and built first, kept last: a failure leaves no report behind. */
    bool fresh;
    if (!zm__memory_reserve(ctx, &fresh)) return zm__bi_oom(ctx);
    zm_memory_report r;
    zm__memory_fill(ctx, zm__store_of(ctx), &r);
    zm_status st = zm_memory_report_json(zm_prim_alloc(ctx), &r, since, result);
    if (st != ZM_OK) {
        if (fresh) zm__ctx_free_reports(ctx);
        return zm__bi_oom(ctx);
    }
    zm__memory_commit(ctx, &r);
    return ZM_OK;
}

const zm_prim_def zm__bi_memory = {
    .name = "memory",
    .description =
        "Report what memory each part of this context holds: the per-call and request arenas "
        "(last call's bytes, peak, held), the response buffer, the JSON pool per size class "
        "(live and free blocks), the template cache (bytes, budget, hits, misses, evictions), "
        "the store's own figure, and the process's total against its limit and its warning and "
        "critical thresholds. Every report has an id; since: ID adds \"delta\", the change of "
        "every figure since that report (the last 16 are kept).",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"since\":{\"type\":\"integer\",\"minimum\":1}},"
                    "\"additionalProperties\":false}",
    .fn = prim_memory,
};
