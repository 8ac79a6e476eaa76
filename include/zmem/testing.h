/* zmem — the every-failure sweep: proves that code cleans up on error paths.
 *
 * zm_check_all_allocation_failures(backing, fn, arg) is the port of Zig's
 * std.testing.checkAllAllocationFailures. fn does a unit of work with the
 * allocator it is given and gives back everything it took before returning;
 * the sweep then:
 *
 *  1. runs fn twice with no failure, counting its allocations and its
 *     resizes/remaps (both runs must succeed, free everything and count the
 *     same: otherwise the counts are non-deterministic and no sweep can cover
 *     every allocation);
 *  2. runs fn once per allocation with exactly that allocation failing. Each
 *     such run must return ZM_ENOMEM (or, with accept_any_error, any status
 *     but ZM_OK) and free everything it allocated. ZM_OK is a swallowed
 *     failure: fn carried on as if the allocation had worked;
 *  3. runs fn once per resize/remap with exactly that one failing, which Zig's
 *     version never does. A failed resize (false) or remap (NULL) is not an
 *     error the caller must propagate: the usual answer is to allocate, copy
 *     and free instead (zm_realloc does). So these runs may return any status,
 *     ZM_OK included; they must only free everything and misuse nothing.
 *
 * Every run goes through a fresh zm_debug allocator over backing (with a
 * 1 MiB quarantine and, by default, 8-frame backtraces), so a leak is
 * reported with its size, where the leaked block was allocated and its
 * backtrace, and a double free, a wrong length, an overrun or a write after
 * free committed on an error path is reported as misuse.
 *
 * fn is run from the calling thread only and must allocate from the allocator
 * it is given (not from a global one) for the sweep to see it.
 */
#ifndef ZMEM_TESTING_H
#define ZMEM_TESTING_H

#include <stdio.h>

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The function under test: does its work with a, gives back all it took,
   and returns ZM_OK or the status of the failure it met. */
typedef zm_status (*zm_sweep_fn)(zm_allocator a, void *arg);

/* What went wrong, if anything. */
typedef enum zm_sweep_problem {
    ZM_SWEEP_OK = 0,           /* every run behaved */
    ZM_SWEEP_BASELINE_FAILED,  /* fn failed with no failure induced */
    ZM_SWEEP_LEAK,             /* a run returned without freeing everything */
    ZM_SWEEP_SWALLOWED,        /* fn returned ZM_OK although an allocation failed */
    ZM_SWEEP_WRONG_STATUS,     /* fn returned neither ZM_OK nor ZM_ENOMEM */
    ZM_SWEEP_NONDETERMINISTIC, /* the allocations of fn differ from run to run */
    ZM_SWEEP_MISUSE,           /* double free, wrong length, overrun... (see message) */
} zm_sweep_problem;

/* Which kind of failure the faulty run had induced. */
typedef enum zm_sweep_phase {
    ZM_SWEEP_PHASE_BASELINE, /* none: one of the counting runs */
    ZM_SWEEP_PHASE_ALLOC,    /* allocation number fail_index failed */
    ZM_SWEEP_PHASE_RESIZE,   /* resize/remap number fail_index failed */
} zm_sweep_phase;

/* Options; a zeroed struct (or NULL) gives the defaults. */
typedef struct zm_sweep_options {
    bool skip_resizes;     /* do not sweep resize/remap failures (Zig's behaviour) */
    bool accept_any_error; /* an alloc failure may yield any status but ZM_OK */
    int backtrace_depth;   /* frames recorded per block for the report: 0 = the
                              default (8), negative = none (ret_addr only) */
    size_t max_runs;       /* stop after this many failing runs; 0 = no limit */
} zm_sweep_options;

/* The outcome of a sweep. The first problem found ends the sweep. */
typedef struct zm_sweep_report {
    zm_sweep_problem problem;
    zm_sweep_phase phase;    /* the kind of failure induced in the faulty run */
    size_t fail_index;       /* the index of the failed request; SIZE_MAX in a baseline run */
    zm_status status;        /* what fn returned in the faulty run */
    uintptr_t fail_ret_addr; /* where the failed request was made (0 unknown) */
    size_t fail_len;         /* the length the failed request asked for */
    size_t alloc_count;      /* allocations fn makes when nothing fails */
    size_t resize_count;     /* resizes and remaps fn makes when nothing fails */
    size_t runs;             /* runs of fn made, the baseline runs included */
    size_t leaked_bytes;     /* bytes the faulty run left allocated */
    size_t leaked_blocks;    /* blocks the faulty run left allocated */
    size_t leak_len;         /* the length of the first block it left allocated */
    uintptr_t leak_ret_addr; /* where that block was allocated (0 unknown) */
    uint64_t leak_seq;       /* its place in the run's allocation order */
    void *leak_frames[16];   /* its allocation backtrace, innermost first */
    int leak_nframes;        /* frames in leak_frames (0 without backtraces) */
    size_t misuse_count;     /* errors the debug allocator saw in the faulty run */
    char message[2048];      /* all of the above for a person, NUL-terminated, "" if OK:
                                one line, then the leak's backtrace one frame a line */
} zm_sweep_report;

/* Sweeps fn over every allocation and every resize/remap failure, as described
   above, with the default options. backing supplies the memory (and the debug
   allocator's tables). Returns ZM_OK when every run behaved; the status fn
   returned when it failed without an induced failure; ZM_EINTERNAL when a run
   misbehaved (leak, swallowed failure, wrong status, non-determinism, misuse);
   ZM_ENOMEM when backing itself ran out. Blocks fn leaked are freed by the
   sweep. */
zm_status zm_check_all_allocation_failures(zm_allocator backing, zm_sweep_fn fn, void *arg);

/* Like zm_check_all_allocation_failures, with options (NULL = defaults) and
   the outcome in *report (may be NULL), filled in either way: on ZM_OK its
   problem is ZM_SWEEP_OK and it still holds the counts. */
zm_status zm_check_allocation_failures(zm_allocator backing, zm_sweep_fn fn, void *arg,
                                       const zm_sweep_options *opts, zm_sweep_report *report);

/* Returns the stable name of a problem ("leak", "swallowed failure", ...). */
const char *zm_sweep_problem_str(zm_sweep_problem problem);

/* Runs the default sweep over backing and returns true when it passed. On a
   problem it prints "file:line: sweep of name: <report message>" to stderr.
   Use it through ZM_CHECK_SWEEP. */
bool zm_sweep_check(zm_allocator backing, zm_sweep_fn fn, void *arg, const char *name,
                    const char *file, int line);

/* A sweep in one line of a test: true when fn passes the sweep over the
   default allocator, else false after printing the report to stderr, so that
   CHECK(ZM_CHECK_SWEEP(fn, arg)) or assert(ZM_CHECK_SWEEP(fn, arg)) marks the
   test failed. */
#define ZM_CHECK_SWEEP(fn, arg)                                                                    \
    zm_sweep_check(zm_default_allocator(), (fn), (arg), #fn, __FILE__, __LINE__)

#ifdef __cplusplus
}
#endif
#endif
