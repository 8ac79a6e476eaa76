/* zmem — the stats allocator: counts, a hard byte limit, and thresholds.
 *
 * A wrapper that counts what passes through it to a backing allocator:
 * bytes allocated and freed, bytes active and their peak, calls, and failed
 * requests. With a limit it refuses any allocation (or growth by resize or
 * remap) that would take the active bytes past it, as SQLite's hard heap
 * limit does. Two thresholds below the limit, warning and critical, call a
 * user hook when the active bytes cross them, with hysteresis: going up past
 * a threshold calls the hook once; it is called again (with the lower level)
 * only after the active bytes fall below the threshold minus a margin, so a
 * value hovering at the line does not call it a thousand times.
 *
 * Byte counts are the lengths requested (what the caller asked for), not the
 * backing allocator's real footprint.
 *
 * Threads: the counters are updated with atomic operations (kept out of the
 * struct's type, so that the header compiles as C++), so any thread may take a snapshot
 * at any time (it never shows more bytes freed than allocated: the freed
 * counter is updated with release and read with acquire ordering, before the
 * allocated one), and by default every update is an atomic read-modify-write, so
 * any number of threads may allocate through one zm_stats (the backing
 * allocator permitting) and the limit holds exactly. When only one thread at a
 * time allocates, zm_stats_set_single_thread makes updates plain loads and
 * stores, which costs less (bench/bench_debug.c measures both).
 */
#ifndef ZMEM_STATS_H
#define ZMEM_STATS_H

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A snapshot of the counters. */
typedef struct zm_memory_stats {
    size_t allocated_bytes; /* every byte handed out: allocations, plus growth by resize/remap */
    size_t freed_bytes;     /* every byte given back: frees, plus shrinkage by resize/remap */
    size_t active_bytes;    /* allocated_bytes - freed_bytes */
    size_t peak_bytes;      /* the most active_bytes has been (see zm_stats_reset_peak) */
    size_t allocs;          /* successful allocations */
    size_t frees;           /* frees */
    size_t failures;        /* refused or failed allocations, resizes and remaps */
    size_t refused;         /* those of the failures that the limit refused */
} zm_memory_stats;

/* What happened between two snapshots. */
typedef struct zm_memory_delta {
    size_t allocated_bytes, freed_bytes, allocs, frees, failures;
    ptrdiff_t active_bytes; /* 0: the code gave back exactly what it took */
    size_t peak_bytes;      /* the later snapshot's peak */
    size_t refused;         /* failures the limit refused */
} zm_memory_delta;

/* The pressure level, as the threshold hook sees it. */
typedef enum zm_stats_level {
    ZM_STATS_NORMAL = 0,
    ZM_STATS_WARNING,
    ZM_STATS_CRITICAL,
} zm_stats_level;

/* Called when the level changes: up when active_bytes passes a threshold,
   down when it falls below the threshold minus the margin. It runs inside the
   allocation or free that caused the change, on that thread: it must not
   allocate from or free to this zm_stats. */
typedef void (*zm_stats_hook)(void *ctx, zm_stats_level level, size_t active_bytes);

typedef struct zm_stats {
    zm_allocator backing;
    /* private: read them with zm_stats_snapshot (updated atomically) */
    size_t allocated, freed, peak, allocs, frees, failures, refused;
    size_t limit;
    int level;
    size_t up_at[3];   /* active bytes above which the level rises, per level */
    size_t down_at[3]; /* active bytes below which the level falls, per level */
    zm_stats_hook hook;
    void *hook_ctx;
    bool single_thread;
} zm_stats;

/* Makes st count what goes through it to backing, refusing allocations past
   limit_bytes active bytes (0 = no limit). No thresholds are set. Allocates
   nothing; there is nothing to deinit. Blocks belong to backing: free them
   through st to keep the counts right. */
void zm_stats_init(zm_stats *st, zm_allocator backing, size_t limit_bytes);

/* A zm_allocator view of st, valid while st lives. */
zm_allocator zm_stats_allocator(zm_stats *st);

/* Changes the limit (0 = none). Blocks already allocated stay. */
void zm_stats_set_limit(zm_stats *st, size_t limit_bytes);

/* Sets the thresholds (bytes of active memory; 0 turns one off) and the hook.
   margin is the hysteresis: the level falls back only below threshold -
   margin (0 = a sixteenth of the threshold). Call it before allocating
   through st, or while no other thread does; the level restarts at NORMAL
   and rises (calling the hook) at the next allocation if already past. */
void zm_stats_set_thresholds(zm_stats *st, size_t warning_bytes, size_t critical_bytes,
                             size_t margin, zm_stats_hook hook, void *ctx);

/* Makes updates plain loads and stores instead of atomic read-modify-writes:
   faster, correct only while one thread at a time allocates and frees
   through st. It applies to the views zm_stats_allocator returns after the
   call: call it first. */
void zm_stats_set_single_thread(zm_stats *st, bool single_thread);

/* Fills *out with the counters now. Safe from any thread. Under concurrent
   allocation the fields are each exact but not taken at one instant;
   allocated_bytes is never below freed_bytes, so active_bytes never wraps
   (it may count blocks allocated while the snapshot was taken). */
void zm_stats_snapshot(const zm_stats *st, zm_memory_stats *out);

/* Sets the peak to the active bytes now, to measure the peak of what
   follows. */
void zm_stats_reset_peak(zm_stats *st);

/* The current pressure level. */
zm_stats_level zm_stats_level_now(const zm_stats *st);

/* What a zm_stats is set to: its limit and thresholds, as
   zm_stats_set_limit and zm_stats_set_thresholds left them. */
typedef struct zm_stats_config {
    size_t limit_bytes;    /* 0 = none */
    size_t warning_bytes;  /* the level rises to WARNING above it; 0 = off */
    size_t critical_bytes; /* the level rises to CRITICAL above it; 0 = off */
    size_t warning_clear;  /* from WARNING, the level falls back below it (0 with no warning) */
    size_t critical_clear; /* from CRITICAL, the level falls back below it (0 with no critical) */
} zm_stats_config;

/* Fills *out with st's limit and thresholds (a warning set above the
   critical threshold reads as the critical one, as it acts). */
void zm_stats_config_get(const zm_stats *st, zm_stats_config *out);

/* Returns after - before: the counts between two snapshots of the same
   zm_stats, and the change of active bytes (0 when the code in between gave
   back what it took). */
zm_memory_delta zm_memory_stats_delta(const zm_memory_stats *before, const zm_memory_stats *after);

#ifdef __cplusplus
}
#endif
#endif
