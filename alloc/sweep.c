/* The every-failure sweep: run fn once per allocation (and per resize/remap)
   with exactly that one failing, and check what it leaves behind. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "where.h"
#include "zmem/debug.h"
#include "zmem/failing.h"
#include "zmem/testing.h"

/* ---------------------------------------------------------------------------
 * The sweep
 * ------------------------------------------------------------------------- */

typedef struct sweep {
    zm_allocator backing;
    zm_sweep_fn fn;
    void *arg;
    const zm_sweep_options *opts;
    zm_debug_options dopts;
    zm_failing own;       /* the failing allocator of the latest run (a copy with a fixture) */
    zm_sweep_fixture *fx; /* NULL: a fresh debug allocator per run */
    zm_sweep_report *r;
    char misuse[512]; /* the debug allocator's first report line in the run */
} sweep;

/* What oldest_live looks at: blocks allocated after seq `after`. */
typedef struct live_scan {
    zm_sweep_report *r;
    uint64_t after;
} live_scan;

/* Remembers the oldest live block as the leak to name. */
static void oldest_live(const zm_debug_block *b, void *ctx) {
    live_scan *scan = ctx;
    zm_sweep_report *r = scan->r;
    if (b->seq <= scan->after) return;
    r->leaked_blocks++;
    r->leaked_bytes += b->len;
    if (r->leaked_blocks == 1 || b->seq < r->leak_seq) {
        r->leak_seq = b->seq;
        r->leak_len = b->len;
        r->leak_ret_addr = b->ret_addr;
        /* The innermost frame is always the failing allocator: leave it out. */
        r->leak_nframes = b->nframes > 1 ? b->nframes - 1 : 0;
        if (r->leak_nframes > 0)
            memcpy(r->leak_frames, b->frames + 1, (size_t)r->leak_nframes * sizeof(void *));
    }
}

/* Runs fn once with the given failure indices, through a fresh debug
   allocator over backing; fills the run's part of the report (status, the
   induced failure, leaks, misuse) and frees whatever fn left behind. */
static void run_fresh(sweep *s, size_t fail_index, size_t resize_fail_index) {
    zm_sweep_report *r = s->r;
    zm_debug dbg;
    zm_debug_init(&dbg, s->backing, &s->dopts);
    zm_failing_init(&s->own, zm_debug_allocator(&dbg), fail_index, resize_fail_index);
    s->own.count_arenas = !s->opts->skip_arenas;
    r->status = s->fn(zm_failing_allocator(&s->own), s->arg);
    live_scan scan = {r, 0};
    zm_debug_each_live(&dbg, oldest_live, &scan);
    zm_debug_deinit(&dbg); /* checks guards and quarantine, frees leaked blocks */
    r->misuse_count = dbg.counts.errors;
    memcpy(s->misuse, dbg.first_error, sizeof s->misuse);
}

/* Runs fn once over the fixture's state. Blocks the run allocated and left
   allocated are a leak only when a request failed and fn returned an error
   (else they are what the step keeps); they stay allocated either way. */
static void run_fixture(sweep *s, size_t fail_index, size_t resize_fail_index) {
    zm_sweep_report *r = s->r;
    zm_sweep_fixture *fx = s->fx;
    zm_debug *dbg = &fx->debug;
    uint64_t start = dbg->seq;
    size_t errors = dbg->counts.errors;
    zm_failing_reset(&fx->fail, fail_index, resize_fail_index);
    fx->fail.count_arenas = !s->opts->skip_arenas;
    r->status = s->fn(zm_failing_allocator(&fx->fail), s->arg);
    s->own = fx->fail; /* the counters as the run left them */
    fx->fail.count_arenas = true;
    zm_failing_reset(&fx->fail, SIZE_MAX, SIZE_MAX); /* never fails outside a check */
    zm_debug_check(dbg);
    if (s->own.has_induced_failure && r->status != ZM_OK) {
        live_scan scan = {r, start};
        zm_debug_each_live(dbg, oldest_live, &scan);
    }
    r->misuse_count = dbg->counts.errors - errors;
    memcpy(s->misuse, dbg->first_error, sizeof s->misuse);
}

/* Runs fn once with the given failure indices; fills the run's part of the
   report (status, the induced failure, leaks, misuse) and s->own with the
   failing allocator's counters as the run left them. */
static void run_once(sweep *s, size_t fail_index, size_t resize_fail_index) {
    zm_sweep_report *r = s->r;
    r->leaked_blocks = 0, r->leaked_bytes = 0, r->leak_len = 0, r->leak_ret_addr = 0;
    r->leak_nframes = 0;
    if (s->fx != NULL)
        run_fixture(s, fail_index, resize_fail_index);
    else
        run_fresh(s, fail_index, resize_fail_index);
    s->misuse[sizeof s->misuse - 1] = '\0';
    r->runs++;
    r->fail_ret_addr = s->own.induced_ret_addr;
    r->fail_len = s->own.induced_len;
    r->fail_site = s->own.induced_site;
    int depth = s->dopts.backtrace_depth;
    r->fail_nframes = s->own.induced_nframes < depth ? s->own.induced_nframes : depth;
    if (r->fail_nframes > 0)
        memcpy(r->fail_frames, s->own.induced_frames, (size_t)r->fail_nframes * sizeof(void *));
}

const char *zm_sweep_problem_str(zm_sweep_problem problem) {
    switch (problem) {
    case ZM_SWEEP_OK: return "ok";
    case ZM_SWEEP_BASELINE_FAILED: return "failed without an induced failure";
    case ZM_SWEEP_LEAK: return "leak";
    case ZM_SWEEP_SWALLOWED: return "swallowed failure";
    case ZM_SWEEP_WRONG_STATUS: return "wrong status";
    case ZM_SWEEP_NONDETERMINISTIC: return "non-deterministic allocations";
    case ZM_SWEEP_MISUSE: return "allocator misuse";
    }
    return "unknown problem";
}

/* Appends printf-style text to the report's message. */
static void say(zm_sweep_report *r, const char *fmt, ...) {
    size_t used = strlen(r->message);
    if (used + 1 >= sizeof r->message) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message + used, sizeof r->message - used, fmt, ap);
    va_end(ap);
}

/* Describes the faulty run: which request failed, where, and what fn did. */
static void say_run(zm_sweep_report *r, bool arenas) {
    char w[ZM__WHERE_MAX];
    const char *what = "";
    if (r->phase == ZM_SWEEP_PHASE_ALLOC)
        what = r->fail_site == ZM_FAILING_SITE_ARENA  ? "an arena allocation of "
               : r->fail_site == ZM_FAILING_SITE_POOL ? "a pool item of "
                                                      : "";
    else if (r->phase == ZM_SWEEP_PHASE_RESIZE && r->fail_site == ZM_FAILING_SITE_ARENA)
        what = "an arena resize ";
    switch (r->phase) {
    case ZM_SWEEP_PHASE_BASELINE: say(r, "with no failure induced"); break;
    case ZM_SWEEP_PHASE_ALLOC:
        say(r, "with allocation #%zu", r->fail_index);
        if (r->alloc_count > r->fail_index) say(r, " of %zu", r->alloc_count);
        say(r,
            " failing (%s%zu bytes, requested at %s; zm_failing fail_index %zu with count_arenas "
            "%s)",
            what, r->fail_len, zm__where(w, sizeof w, r->fail_ret_addr), r->fail_index,
            arenas ? "true" : "false");
        break;
    case ZM_SWEEP_PHASE_RESIZE:
        say(r, "with resize/remap #%zu", r->fail_index);
        if (r->resize_count > r->fail_index) say(r, " of %zu", r->resize_count);
        say(r,
            " failing (%sto %zu bytes, requested at %s; zm_failing resize_fail_index %zu with "
            "count_arenas %s)",
            what, r->fail_len, zm__where(w, sizeof w, r->fail_ret_addr), r->fail_index,
            arenas ? "true" : "false");
        break;
    }
    say(r, ", fn returned %s", zm_status_name(r->status));
}

/* Sets the problem and writes the message; returns the sweep's status. */
static zm_status fail_with(sweep *s, zm_sweep_problem problem) {
    zm_sweep_report *r = s->r;
    char w[ZM__WHERE_MAX];
    r->problem = problem;
    r->message[0] = '\0';
    say(r, "zmem sweep: %s: ", zm_sweep_problem_str(problem));
    say_run(r, !s->opts->skip_arenas);
    switch (problem) {
    case ZM_SWEEP_LEAK:
        say(r,
            " and leaked %zu bytes in %zu block%s; the first leaked block (%zu bytes) was "
            "allocated at %s",
            r->leaked_bytes, r->leaked_blocks, r->leaked_blocks == 1 ? "" : "s", r->leak_len,
            zm__where(w, sizeof w, r->leak_ret_addr));
        for (int i = 0; i < r->leak_nframes; i++)
            say(r, "\n    #%d %s", i, zm__where(w, sizeof w, (uintptr_t)r->leak_frames[i]));
        break;
    case ZM_SWEEP_SWALLOWED:
        say(r, " although the allocation failed: the failure was swallowed");
        break;
    case ZM_SWEEP_WRONG_STATUS: say(r, "; expected ZM_ENOMEM"); break;
    case ZM_SWEEP_NONDETERMINISTIC:
        say(r, "; the counting runs made %zu allocations and %zu resizes/remaps, but ",
            r->alloc_count, r->resize_count);
        say(r,
            r->phase == ZM_SWEEP_PHASE_BASELINE
                ? "the second counting run made %zu and %zu"
                : "this run never reached the request to fail (it made %zu and %zu)",
            s->own.alloc_index, s->own.resize_index);
        break;
    case ZM_SWEEP_MISUSE:
        say(r, "; %zu misuse%s, the first: %s", r->misuse_count, r->misuse_count == 1 ? "" : "s",
            s->misuse);
        break;
    case ZM_SWEEP_BASELINE_FAILED: return r->status;
    case ZM_SWEEP_OK: return ZM_OK;
    }
    if (r->phase != ZM_SWEEP_PHASE_BASELINE && r->fail_nframes > 0) {
        say(r, "\n  the failed request:");
        for (int i = 0; i < r->fail_nframes; i++)
            say(r, "\n    #%d %s", i, zm__where(w, sizeof w, (uintptr_t)r->fail_frames[i]));
    }
    return ZM_EINTERNAL;
}

/* Checks what every run must satisfy: no misuse, no leak. */
static bool run_clean(sweep *s, zm_status *out) {
    if (s->r->misuse_count != 0) {
        *out = fail_with(s, ZM_SWEEP_MISUSE);
        return false;
    }
    if (s->r->leaked_blocks != 0) {
        *out = fail_with(s, ZM_SWEEP_LEAK);
        return false;
    }
    return true;
}

/* The debug options of every sweep: reports counted, not printed; a
   quarantine, so a double free is never of a reused address; backtraces. */
static zm_debug_options sweep_debug_options(int backtrace_depth) {
    zm_debug_options o = zm_debug_defaults();
    o.out = NULL;
    o.quarantine_bytes = (size_t)1 << 20;
    o.backtrace_depth = backtrace_depth == 0 ? 8 : backtrace_depth < 0 ? 0 : backtrace_depth;
    return o;
}

/* Zeroes the report and fills in s for a sweep of fn. */
static void sweep_start(sweep *s, zm_allocator backing, zm_sweep_fn fn, void *arg,
                        const zm_sweep_options *opts, zm_sweep_report *report) {
    memset(report, 0, sizeof *report);
    report->fail_index = SIZE_MAX;
    memset(s, 0, sizeof *s);
    s->backing = backing, s->fn = fn, s->arg = arg, s->r = report, s->opts = opts;
    s->dopts = sweep_debug_options(opts->backtrace_depth);
}

/* A counting run: fn must succeed, cleanly. */
static bool counting_run(sweep *s, zm_status *st) {
    run_once(s, SIZE_MAX, SIZE_MAX);
    if (!run_clean(s, st)) return false;
    if (s->r->status != ZM_OK) {
        *st = fail_with(s, ZM_SWEEP_BASELINE_FAILED);
        return false;
    }
    return true;
}

/* Takes the counts of the counting run that just ended. */
static void take_counts(sweep *s) {
    zm_sweep_report *r = s->r;
    r->alloc_count = s->own.alloc_index;
    r->resize_count = s->own.resize_index;
    r->arena_alloc_count = s->own.arena_allocs;
    r->arena_resize_count = s->own.arena_resizes;
}

/* Steps 2 and 3: each allocation, then each resize/remap, failing in turn. */
static zm_status sweep_failures(sweep *s) {
    zm_sweep_report *r = s->r;
    const zm_sweep_options *opts = s->opts;
    zm_status st = ZM_OK;
    size_t failing_runs = 0;
    r->phase = ZM_SWEEP_PHASE_ALLOC;
    for (size_t i = 0; i < r->alloc_count; i++) {
        if (opts->max_runs != 0 && failing_runs++ == opts->max_runs) return ZM_OK;
        r->fail_index = i;
        run_once(s, i, SIZE_MAX);
        if (!s->own.has_induced_failure) return fail_with(s, ZM_SWEEP_NONDETERMINISTIC);
        if (!run_clean(s, &st)) return st;
        if (r->status == ZM_OK) return fail_with(s, ZM_SWEEP_SWALLOWED);
        if (r->status != ZM_ENOMEM && !opts->accept_any_error)
            return fail_with(s, ZM_SWEEP_WRONG_STATUS);
    }
    /* Any status, but clean. */
    r->phase = ZM_SWEEP_PHASE_RESIZE;
    for (size_t i = 0; !opts->skip_resizes && i < r->resize_count; i++) {
        if (opts->max_runs != 0 && failing_runs++ == opts->max_runs) return ZM_OK;
        r->fail_index = i;
        run_once(s, SIZE_MAX, i);
        if (!s->own.has_induced_failure) return fail_with(s, ZM_SWEEP_NONDETERMINISTIC);
        if (!run_clean(s, &st)) return st;
    }
    return ZM_OK;
}

/* Leaves the report as a passed sweep's when st is ZM_OK. */
static zm_status sweep_end(sweep *s, zm_status st) {
    zm_sweep_report *r = s->r;
    if (st == ZM_OK) {
        r->problem = ZM_SWEEP_OK;
        r->message[0] = '\0';
        r->fail_index = SIZE_MAX;
        r->status = ZM_OK;
    }
    return st;
}

zm_status zm_check_allocation_failures(zm_allocator backing, zm_sweep_fn fn, void *arg,
                                       const zm_sweep_options *opts, zm_sweep_report *report) {
    static const zm_sweep_options defaults;
    zm_sweep_report local;
    sweep s;
    sweep_start(&s, backing, fn, arg, opts ? opts : &defaults, report ? report : &local);
    zm_sweep_report *r = s.r;
    zm_status st = ZM_OK;

    /* 1. Two counting runs, which must agree. */
    r->phase = ZM_SWEEP_PHASE_BASELINE;
    if (!counting_run(&s, &st)) return sweep_end(&s, st);
    take_counts(&s);
    if (!counting_run(&s, &st)) return sweep_end(&s, st);
    if (s.own.alloc_index != r->alloc_count || s.own.resize_index != r->resize_count)
        return sweep_end(&s, fail_with(&s, ZM_SWEEP_NONDETERMINISTIC));

    /* 2 and 3. */
    return sweep_end(&s, sweep_failures(&s));
}

zm_status zm_check_all_allocation_failures(zm_allocator backing, zm_sweep_fn fn, void *arg) {
    return zm_check_allocation_failures(backing, fn, arg, NULL, NULL);
}

bool zm_sweep_check(zm_allocator backing, zm_sweep_fn fn, void *arg, const char *name,
                    const char *file, int line) {
    zm_sweep_report r;
    zm_status st = zm_check_allocation_failures(backing, fn, arg, NULL, &r);
    if (st == ZM_OK) return true;
    fprintf(stderr, "%s:%d: sweep of %s: %s\n", file, line, name,
            r.message[0] ? r.message : zm_status_name(st));
    return false;
}

/* ---------------------------------------------------------------------------
 * The fixture: one step swept on state that lives across runs
 * ------------------------------------------------------------------------- */

void zm_sweep_fixture_init(zm_sweep_fixture *fx, zm_allocator backing) {
    memset(fx, 0, sizeof *fx);
    zm_debug_options o = sweep_debug_options(0);
    zm_debug_init(&fx->debug, backing, &o);
    zm_failing_init(&fx->fail, zm_debug_allocator(&fx->debug), SIZE_MAX, SIZE_MAX);
    fx->fail.count_arenas = true;
}

zm_allocator zm_sweep_fixture_allocator(zm_sweep_fixture *fx) {
    return zm_failing_allocator(&fx->fail);
}

zm_status zm_sweep_fixture_check(zm_sweep_fixture *fx, zm_sweep_fn fn, void *arg,
                                 const zm_sweep_options *opts, zm_sweep_report *report) {
    static const zm_sweep_options defaults;
    zm_sweep_report local;
    sweep s;
    sweep_start(&s, fx->debug.backing, fn, arg, opts ? opts : &defaults, report ? report : &local);
    s.fx = fx;
    fx->checks++;
    zm_sweep_report *r = s.r;
    zm_status st = ZM_OK;

    /* 1. A warm-up run. */
    r->phase = ZM_SWEEP_PHASE_BASELINE;
    if (!counting_run(&s, &st)) return sweep_end(&s, st);

    /* 2. Each allocation failing in turn, until a run makes fewer requests
       than the index: that run succeeded (its status must be ZM_OK), and its
       count is the step's. Failing runs leave the state as it was, so every
       run of the loop met the same state; a successful run may change it
       (a stored version), which is why there is no separate counting run
       (a step that stores may make another number of requests once it has
       stored). */
    size_t failing_runs = 0;
    const zm_sweep_options *o = s.opts;
    for (size_t i = 0;; i++) {
        if (o->max_runs != 0 && failing_runs++ == o->max_runs) return sweep_end(&s, ZM_OK);
        r->phase = ZM_SWEEP_PHASE_ALLOC;
        r->fail_index = i;
        run_once(&s, i, SIZE_MAX);
        if (!s.own.has_induced_failure) {
            r->phase = ZM_SWEEP_PHASE_BASELINE;
            r->fail_index = SIZE_MAX;
            if (!run_clean(&s, &st)) return sweep_end(&s, st);
            if (r->status != ZM_OK) return sweep_end(&s, fail_with(&s, ZM_SWEEP_BASELINE_FAILED));
            take_counts(&s);
            break;
        }
        if (!run_clean(&s, &st)) return sweep_end(&s, st);
        if (r->status == ZM_OK) return sweep_end(&s, fail_with(&s, ZM_SWEEP_SWALLOWED));
        if (r->status != ZM_ENOMEM && !o->accept_any_error)
            return sweep_end(&s, fail_with(&s, ZM_SWEEP_WRONG_STATUS));
    }

    /* 3. Each resize/remap failing in turn, likewise: any status, but clean.
       A run that succeeds may change the state, so the loop ends at the first
       run that does not reach its index. */
    for (size_t i = 0; !o->skip_resizes && r->resize_count != 0; i++) {
        if (o->max_runs != 0 && failing_runs++ == o->max_runs) break;
        r->phase = ZM_SWEEP_PHASE_RESIZE;
        r->fail_index = i;
        run_once(&s, SIZE_MAX, i);
        if (!run_clean(&s, &st)) return sweep_end(&s, st);
        if (!s.own.has_induced_failure) break;
    }
    return sweep_end(&s, ZM_OK);
}

bool zm_sweep_fixture_check_at(zm_sweep_fixture *fx, zm_sweep_fn fn, void *arg, const char *name,
                               const char *file, int line) {
    zm_sweep_report r;
    zm_status st = zm_sweep_fixture_check(fx, fn, arg, NULL, &r);
    if (st == ZM_OK) return true;
    fprintf(stderr, "%s:%d: sweep of %s: %s\n", file, line, name,
            r.message[0] ? r.message : zm_status_name(st));
    return false;
}

size_t zm_sweep_fixture_deinit(zm_sweep_fixture *fx) {
    return zm_debug_deinit(&fx->debug);
}
