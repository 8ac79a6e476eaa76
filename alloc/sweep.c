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
    zm_debug_options dopts;
    zm_failing fail;
    zm_sweep_report *r;
    char misuse[512]; /* the debug allocator's first report line in the run */
} sweep;

/* Remembers the oldest live block as the leak to name. */
static void oldest_live(const zm_debug_block *b, void *ctx) {
    zm_sweep_report *r = ctx;
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
static void run_once(sweep *s, size_t fail_index, size_t resize_fail_index) {
    zm_sweep_report *r = s->r;
    zm_debug dbg;
    zm_debug_init(&dbg, s->backing, &s->dopts);
    zm_failing_init(&s->fail, zm_debug_allocator(&dbg), fail_index, resize_fail_index);
    r->status = s->fn(zm_failing_allocator(&s->fail), s->arg);
    r->runs++;
    r->fail_ret_addr = s->fail.induced_ret_addr;
    r->fail_len = s->fail.induced_len;
    r->leaked_blocks = 0, r->leaked_bytes = 0, r->leak_len = 0, r->leak_ret_addr = 0;
    r->leak_nframes = 0;
    zm_debug_each_live(&dbg, oldest_live, r);
    zm_debug_deinit(&dbg); /* checks guards and quarantine, frees leaked blocks */
    r->misuse_count = dbg.counts.errors;
    memcpy(s->misuse, dbg.first_error, sizeof s->misuse);
    s->misuse[sizeof s->misuse - 1] = '\0';
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
static void say_run(zm_sweep_report *r) {
    char w[ZM__WHERE_MAX];
    switch (r->phase) {
    case ZM_SWEEP_PHASE_BASELINE: say(r, "with no failure induced"); break;
    case ZM_SWEEP_PHASE_ALLOC:
        say(r, "with allocation #%zu of %zu failing (%zu bytes, requested at %s)", r->fail_index,
            r->alloc_count, r->fail_len, zm__where(w, sizeof w, r->fail_ret_addr));
        break;
    case ZM_SWEEP_PHASE_RESIZE:
        say(r, "with resize/remap #%zu of %zu failing (to %zu bytes, requested at %s)",
            r->fail_index, r->resize_count, r->fail_len, zm__where(w, sizeof w, r->fail_ret_addr));
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
    say_run(r);
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
            s->fail.alloc_index, s->fail.resize_index);
        break;
    case ZM_SWEEP_MISUSE:
        say(r, "; %zu misuse%s, the first: %s", r->misuse_count, r->misuse_count == 1 ? "" : "s",
            s->misuse);
        break;
    case ZM_SWEEP_BASELINE_FAILED: return r->status;
    case ZM_SWEEP_OK: return ZM_OK;
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

zm_status zm_check_allocation_failures(zm_allocator backing, zm_sweep_fn fn, void *arg,
                                       const zm_sweep_options *opts, zm_sweep_report *report) {
    static const zm_sweep_options defaults;
    zm_sweep_report local;
    if (opts == NULL) opts = &defaults;
    if (report == NULL) report = &local;
    memset(report, 0, sizeof *report);
    report->fail_index = SIZE_MAX;

    sweep s;
    memset(&s, 0, sizeof s);
    s.backing = backing, s.fn = fn, s.arg = arg, s.r = report;
    s.dopts = zm_debug_defaults();
    s.dopts.out = NULL;
    s.dopts.quarantine_bytes = (size_t)1 << 20; /* so a double free is never of a reused address */
    s.dopts.backtrace_depth = opts->backtrace_depth == 0  ? 8
                              : opts->backtrace_depth < 0 ? 0
                                                          : opts->backtrace_depth;
    zm_sweep_report *r = report;
    zm_status st = ZM_OK;

    /* 1. Two counting runs. */
    r->phase = ZM_SWEEP_PHASE_BASELINE;
    run_once(&s, SIZE_MAX, SIZE_MAX);
    r->alloc_count = s.fail.alloc_index;
    r->resize_count = s.fail.resize_index;
    if (!run_clean(&s, &st)) goto done;
    if (r->status != ZM_OK) {
        st = fail_with(&s, ZM_SWEEP_BASELINE_FAILED);
        goto done;
    }
    run_once(&s, SIZE_MAX, SIZE_MAX);
    if (!run_clean(&s, &st)) goto done;
    if (r->status != ZM_OK) {
        st = fail_with(&s, ZM_SWEEP_BASELINE_FAILED);
        goto done;
    }
    if (s.fail.alloc_index != r->alloc_count || s.fail.resize_index != r->resize_count) {
        st = fail_with(&s, ZM_SWEEP_NONDETERMINISTIC);
        goto done;
    }

    /* 2. Each allocation failing in turn. */
    size_t failing_runs = 0;
    r->phase = ZM_SWEEP_PHASE_ALLOC;
    for (size_t i = 0; i < r->alloc_count; i++) {
        if (opts->max_runs != 0 && failing_runs++ == opts->max_runs) goto done;
        r->fail_index = i;
        run_once(&s, i, SIZE_MAX);
        if (!s.fail.has_induced_failure) {
            st = fail_with(&s, ZM_SWEEP_NONDETERMINISTIC);
            goto done;
        }
        if (!run_clean(&s, &st)) goto done;
        if (r->status == ZM_OK) {
            st = fail_with(&s, ZM_SWEEP_SWALLOWED);
            goto done;
        }
        if (r->status != ZM_ENOMEM && !opts->accept_any_error) {
            st = fail_with(&s, ZM_SWEEP_WRONG_STATUS);
            goto done;
        }
    }

    /* 3. Each resize/remap failing in turn: any status, but clean. */
    r->phase = ZM_SWEEP_PHASE_RESIZE;
    for (size_t i = 0; !opts->skip_resizes && i < r->resize_count; i++) {
        if (opts->max_runs != 0 && failing_runs++ == opts->max_runs) goto done;
        r->fail_index = i;
        run_once(&s, SIZE_MAX, i);
        if (!s.fail.has_induced_failure) {
            st = fail_with(&s, ZM_SWEEP_NONDETERMINISTIC);
            goto done;
        }
        if (!run_clean(&s, &st)) goto done;
    }

done:
    if (st == ZM_OK) {
        r->problem = ZM_SWEEP_OK;
        r->message[0] = '\0';
        r->fail_index = SIZE_MAX;
        r->status = ZM_OK;
    }
    return st;
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
