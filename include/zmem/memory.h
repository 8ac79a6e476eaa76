/* zmem — the memory report: what each part of a primitive context holds.
 *
 * A report gives, per component, what it holds now and the figures that
 * say where memory went: the per-call arena and the request arena (the
 * bytes the last call used, the peak, the capacity kept across resets), the
 * response buffer, the JSON pool per size class (live and free blocks), the
 * template cache (bytes, budget, hits, misses, evictions), the store's own
 * figure (through zm_store_memory_get), the context's long-lived allocator,
 * and the process's total against its limit and thresholds (a zm_stats the
 * context was given, zm_prim_ctx_opts.process_stats).
 *
 * Every figure comes from a counter that already exists: taking a report
 * costs nothing on the call path. Each report of a context gets the next id
 * (1, 2, ...), and the context keeps the last ZM_MEMORY_KEEP of them, so a
 * later one can be compared with an earlier one (zm_memory_report_find).
 *
 * The `memory` built-in primitive answers a report as JSON; `{"since": ID}`
 * adds the difference from report ID.
 */
#ifndef ZMEM_MEMORY_H
#define ZMEM_MEMORY_H

#include <stdio.h>

#include "zmem/json.h"
#include "zmem/prim.h"
#include "zmem/stats.h"
#include "zmem/store.h"
#include "zmem/template.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How many earlier reports a context keeps. */
#define ZM_MEMORY_KEEP 16

/* An arena of the context. */
typedef struct zm_memory_arena {
    size_t last_bytes;   /* bytes the last call (or request) used, up to its reset */
    size_t peak_bytes;   /* the most any one call (or request) used */
    size_t held_bytes;   /* bytes held now, kept across resets */
    size_t retain_limit; /* the most a reset keeps */
} zm_memory_arena;

/* The response buffer of zm_prim_call_json. */
typedef struct zm_memory_response {
    size_t held_bytes;   /* its capacity now */
    size_t retain_limit; /* the capacity it keeps after a larger response */
} zm_memory_response;

/* The JSON pool of the context. */
typedef struct zm_memory_json_pool {
    zm_json_pool_class classes[ZM_JSON_POOL_CLASSES]; /* smallest first */
    size_t live_blocks;                               /* over every class */
    size_t free_blocks;                               /* over every class */
    size_t held_bytes;                                /* the classes' slabs: blocks times stride */
    size_t big_blocks;                                /* blocks too large for a class, live now */
    size_t big_bytes;                                 /* their bytes */
    size_t live_values;                               /* value nodes among the live blocks */
} zm_memory_json_pool;

/* The store's own figure. */
typedef struct zm_memory_store {
    bool present;        /* a store was given */
    const char *backend; /* "memory", "sqlite", "postgres" (static); NULL when absent */
    zm_store_memory mem; /* mem.applicable false: the backend has no figure of its own */
} zm_memory_store;

/* The process's total, when the context was given a zm_stats for it. */
typedef struct zm_memory_process {
    bool present;
    zm_memory_stats stats;  /* active and peak bytes, counts */
    zm_stats_config config; /* limit, warning and critical thresholds (0 = none) */
    zm_stats_level level;   /* NORMAL, WARNING or CRITICAL, with hysteresis */
} zm_memory_process;

/* A memory report. */
typedef struct zm_memory_report {
    uint64_t id;      /* 1 for a context's first report, then 2, 3, ... */
    int64_t taken_ms; /* the context's clock when it was taken */
    uint64_t calls;   /* calls the context had run */
    zm_memory_arena call_arena;
    zm_memory_arena request_arena;
    zm_memory_response response;
    zm_memory_json_pool json_pool;
    zm_template_stats templates;
    zm_memory_stats context; /* what went through the context's long-lived allocator */
    zm_memory_store store;
    zm_memory_process process;
} zm_memory_report;

/* Takes a report of ctx (and of store, when not NULL), gives it ctx's next
   id and keeps a copy among ctx's last ZM_MEMORY_KEEP reports. The first
   report allocates room for them from ctx's long-lived allocator. Returns
   ZM_OK with *out filled, or ZM_ENOMEM (no id is used, nothing is kept). A
   store without a figure of its own (ZM_ENOTSUP) is reported as not
   applicable. Not from inside a call on another context's primitives: the
   report reads ctx's counters as they are. */
zm_status zm_memory_report_take(zm_prim_ctx *ctx, zm_store *store, zm_memory_report *out);

/* Copies the kept report id of ctx into *out. ZM_OK, or ZM_ENOTFOUND when
   ctx never gave that id or no longer keeps it (only the last
   ZM_MEMORY_KEEP are kept). */
zm_status zm_memory_report_find(const zm_prim_ctx *ctx, uint64_t id, zm_memory_report *out);

/* The oldest and latest ids ctx keeps (both 0 before its first report). */
void zm_memory_report_ids(const zm_prim_ctx *ctx, uint64_t *oldest, uint64_t *latest);

/* Builds r as a JSON object from a: {"id", "taken_ms", "calls",
   "call_arena", "request_arena", "response_buffer", "json_pool",
   "templates", "context", "store", "process"} (README.md shows one). With
   since (an earlier report of the same context; NULL = none) it adds
   "since" (its id), "elapsed_ms", and "delta": the same members with every
   number replaced by r's minus since's, except a class's block_size, which
   names the class; id, taken_ms, text, true/false and null members, and
   the size classes whose figures did not change, are left out. Returns ZM_OK with *out a tree
   allocated from a, or ZM_ENOMEM (what was built is freed when a is not an arena). */
zm_status zm_memory_report_json(zm_allocator a, const zm_memory_report *r,
                                const zm_memory_report *since, zm_json **out);

/* Writes r (and its delta from since, NULL = none) to f as one line of
   compact JSON, through a temporary arena over a. Returns ZM_OK, ZM_ENOMEM,
   or ZM_EIO when f fails. */
zm_status zm_memory_report_write_json(zm_allocator a, const zm_memory_report *r,
                                      const zm_memory_report *since, FILE *f);

/* Writes r to f for a person, one line per component, each line starting
   with prefix and ": " (prefix NULL = none). Returns ZM_OK, or ZM_EIO when f
   fails. */
zm_status zm_memory_report_write_text(const zm_memory_report *r, const char *prefix, FILE *f);

/* The name of a pressure level: "normal", "warning", "critical". */
const char *zm_stats_level_name(zm_stats_level level);

#ifdef __cplusplus
}
#endif
#endif
