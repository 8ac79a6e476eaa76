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
 * What a sweep reaches. fn is given a zm_failing (zmem/failing.h) over that
 * debug allocator, with count_arenas set. So the failure points are:
 *  - every request made through the allocator fn is given, or through an
 *    allocator built over it;
 *  - every allocation of an arena and every create of a pool built over it
 *    (directly or through zmem's own wrappers: locked, stats, debug, list
 *    heap, stack fallback, another arena or pool), not only the blocks they
 *    take from it: code that allocates from a per-call arena sees each of its
 *    allocations fail in turn, whatever the block size. An arena's in-place
 *    resizes and remaps count as resizes. skip_arenas turns this off (as
 *    Zig's checkAllAllocationFailures, which sees an arena's blocks only).
 * What it cannot reach: memory taken outside the allocators it controls
 * (malloc, a global or default allocator, a mimalloc heap made with
 * zm_heap_init, a fixed buffer, the buffer part of a stack fallback, static
 * storage), and the requests of an arena or pool over an allocator of your
 * own that wraps the one fn is given (zmem cannot see through it: such an
 * arena is swept by its blocks only). A leak is a block of the debug
 * allocator still live after a run; memory taken elsewhere is not checked.
 *
 * Indices. fail_index in the report counts alloc attempts as zm_failing
 * counts them, from 0, arena and pool requests included: a zm_failing over
 * the same backing with that fail_index and count_arenas set, given to fn,
 * fails the same request (zm_failing_reset to start counting at a later
 * point). Resize indices count resizes and remaps likewise.
 *
 * Backtraces name the functions of shared libraries; for those of the
 * program itself link it with -rdynamic (else they show as program+offset,
 * which `addr2line -f -e PROGRAM` turns into a file and line).
 *
 * fn is run from the calling thread only and must allocate from the allocator
 * it is given (not from a global one) for the sweep to see it. Several
 * threads may each run sweeps of their own at the same time.
 *
 * A sweep of one call on state that already exists (a registry, a store and a
 * context set up once) is zm_sweep_fixture, below: the failure points counted
 * are then that call's own, and the state is made once, not once per run.
 */
#ifndef ZMEM_TESTING_H
#define ZMEM_TESTING_H

#include <stdio.h>

#include "zmem/allocator.h"
#include "zmem/debug.h"
#include "zmem/failing.h"

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
    bool skip_arenas;      /* arenas and pools over fn's allocator are swept by the
                              blocks they take from it only, not by each of their
                              own requests (count_arenas off; see above) */
} zm_sweep_options;

/* The outcome of a sweep. The first problem found ends the sweep. */
typedef struct zm_sweep_report {
    zm_sweep_problem problem;
    zm_sweep_phase phase;      /* the kind of failure induced in the faulty run */
    size_t fail_index;         /* the index of the failed request; SIZE_MAX in a baseline run */
    zm_status status;          /* what fn returned in the faulty run */
    uintptr_t fail_ret_addr;   /* where the failed request was made (0 unknown) */
    size_t fail_len;           /* the length the failed request asked for */
    zm_failing_site fail_site; /* made through the allocator, or by an arena or pool */
    size_t alloc_count;        /* allocations fn makes when nothing fails */
    size_t resize_count;       /* resizes and remaps fn makes when nothing fails */
    size_t arena_alloc_count;  /* of alloc_count, those of arenas and pools */
    size_t arena_resize_count; /* of resize_count, those of arenas */
    size_t runs;               /* runs of fn made, the baseline runs included */
    size_t leaked_bytes;       /* bytes the faulty run left allocated */
    size_t leaked_blocks;      /* blocks the faulty run left allocated */
    size_t leak_len;           /* the length of the first block it left allocated */
    uintptr_t leak_ret_addr;   /* where that block was allocated (0 unknown) */
    uint64_t leak_seq;         /* its place in the run's allocation order */
    void *leak_frames[16];     /* its allocation backtrace, innermost first */
    int leak_nframes;          /* frames in leak_frames (0 without backtraces) */
    size_t misuse_count;       /* errors the debug allocator saw in the faulty run */
    void *fail_frames[16];     /* the stack of the failed request, innermost first */
    int fail_nframes;          /* frames in fail_frames (0 without backtraces) */
    char message[4096];        /* all of the above for a person, NUL-terminated, "" if OK:
                                  one line, then the leak's backtrace one frame a line,
                                  then "  the failed request:" and its backtrace */
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

/* ---------------------------------------------------------------------------
 * A sweep of one step on state that lives across runs
 *
 * Set the state up once over zm_sweep_fixture_allocator(fx) (a registry, a
 * store, a context: everything the step uses), then sweep the step with
 * zm_sweep_fixture_check as often as you like, then destroy the state and
 * deinit fx. The failure points counted are the step's own: the set-up is
 * neither repeated nor swept.
 *
 * Each check runs fn once with no failure (a warm-up: what the state keeps
 * for later calls, arena blocks, buffers, pool slabs, is made there), then
 * with allocation 0, 1, 2, ... failing in turn until a run makes fewer
 * requests than the index (that run succeeds, and its counts are the step's
 * counts), then likewise with each resize/remap failing. Failing runs leave
 * the state as it was, so each of them meets the same state. fn is given
 * the fixture's allocator; the failure index counts from the start of each
 * run (the fixture calls zm_failing_reset on fx->fail before it), arena and
 * pool requests included.
 *
 * What is checked in each run: its status (a run with an allocation failing
 * must not return ZM_OK, and must return ZM_ENOMEM unless accept_any_error),
 * misuse (double free, wrong length, overrun, write after free: fx's debug
 * allocator watches every block of the state), and leaks: a run in which a
 * request failed and that returned an error must leave behind none of the
 * blocks it allocated (a failed step leaves the state as it found it). A
 * run that succeeds may keep what it allocated: that is the step's effect (a
 * stored version). So the step may change the state, as long as the
 * failing runs do not; blocks a failing run leaves behind are reported as the
 * leak, with where they were allocated, and stay allocated (the state may
 * still point at them) until zm_sweep_fixture_deinit.
 *
 * Not thread-safe: the state must be used from one thread while it is swept.
 */

/* The fixture: fail over debug over backing. Fields are readable. */
typedef struct zm_sweep_fixture {
    zm_debug debug;  /* every block of the state, with where it was allocated */
    zm_failing fail; /* over debug: what the state allocates through; count_arenas set */
    size_t checks;   /* zm_sweep_fixture_check calls made */
} zm_sweep_fixture;

/* Makes fx over backing. The debug allocator records 8-frame backtraces,
   keeps a 1 MiB quarantine and prints nothing. Allocates nothing yet. */
void zm_sweep_fixture_init(zm_sweep_fixture *fx, zm_allocator backing);

/* The allocator to set the state up with (and fn's): fx->fail. Valid until
   zm_sweep_fixture_deinit. It never fails outside a check. */
zm_allocator zm_sweep_fixture_allocator(zm_sweep_fixture *fx);

/* Sweeps fn(alloc, arg) over the state set up over fx, as described above;
   opts (NULL = defaults) and report (may be NULL) as for
   zm_check_allocation_failures, whose statuses it returns. */
zm_status zm_sweep_fixture_check(zm_sweep_fixture *fx, zm_sweep_fn fn, void *arg,
                                 const zm_sweep_options *opts, zm_sweep_report *report);

/* Like zm_sweep_fixture_check with the defaults; on a problem prints
   "file:line: sweep of name: <message>" to stderr. Returns true when it
   passed. Use it through ZM_CHECK_SWEEP_FIXTURE. */
bool zm_sweep_fixture_check_at(zm_sweep_fixture *fx, zm_sweep_fn fn, void *arg, const char *name,
                               const char *file, int line);

#define ZM_CHECK_SWEEP_FIXTURE(fx, fn, arg)                                                        \
    zm_sweep_fixture_check_at((fx), (fn), (arg), #fn, __FILE__, __LINE__)

/* Checks the guards of every block and gives back every block still
   allocated (destroy the state first: what is left then is a leak of the
   state's own, or what a failing run left behind). Returns the number of
   blocks that were still allocated. fx may be initialised again. */
size_t zm_sweep_fixture_deinit(zm_sweep_fixture *fx);

#ifdef __cplusplus
}
#endif
#endif
