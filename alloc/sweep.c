/* The every-failure sweep: run fn once per allocation (and per resize/remap)
   with exactly that one failing, and check what it leaves behind. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "where.h"
#include "zmem/failing.h"
#include "zmem/testing.h"

/* ---------------------------------------------------------------------------
 * The tracker: a table of live blocks keyed by address, between the failing
 * allocator and backing. It sees each block's length and where it was
 * allocated, so it can name leaks, and it refuses frees of unknown blocks.
 * ------------------------------------------------------------------------- */

typedef struct trk_entry {
    uintptr_t ptr; /* 0 = empty slot */
    size_t len;
    size_t align;
    uintptr_t ra;
    size_t seq; /* allocation order, to name the first leaked block */
} trk_entry;

typedef struct tracker {
    zm_allocator backing;
    trk_entry *tab;
    size_t cap; /* a power of two, or 0 */
    size_t count;
    size_t seq;
    size_t misuse;
    char misuse_msg[320];
} tracker;

static size_t trk_slot(const tracker *t, uintptr_t p) {
    uint64_t h = (uint64_t)p * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (t->cap - 1);
}

static trk_entry *trk_find(tracker *t, uintptr_t p) {
    if (t->cap == 0) return NULL;
    for (size_t i = trk_slot(t, p);; i = (i + 1) & (t->cap - 1)) {
        if (t->tab[i].ptr == p) return &t->tab[i];
        if (t->tab[i].ptr == 0) return NULL;
    }
}

static void trk_put(tracker *t, trk_entry e) {
    size_t i = trk_slot(t, e.ptr);
    while (t->tab[i].ptr != 0) i = (i + 1) & (t->cap - 1);
    t->tab[i] = e;
    t->count++;
}

/* Removes the entry at e, shifting later entries of its run back. */
static void trk_remove(tracker *t, trk_entry *e) {
    size_t i = (size_t)(e - t->tab), mask = t->cap - 1;
    for (size_t j = (i + 1) & mask; t->tab[j].ptr != 0; j = (j + 1) & mask) {
        size_t home = trk_slot(t, t->tab[j].ptr);
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            t->tab[i] = t->tab[j];
            i = j;
        }
    }
    t->tab[i].ptr = 0;
    t->count--;
}

/* Makes room for one more entry; false when backing could not. */
static bool trk_reserve(tracker *t) {
    if ((t->count + 1) * 2 <= t->cap) return true;
    size_t ncap = t->cap ? t->cap * 2 : 64;
    trk_entry *ntab = zm_alloc_n(t->backing, ncap, sizeof *ntab, _Alignof(trk_entry));
    if (ntab == NULL) return false;
    memset(ntab, 0, ncap * sizeof *ntab);
    trk_entry *old = t->tab;
    size_t ocap = t->cap;
    t->tab = ntab;
    t->cap = ncap;
    t->count = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].ptr != 0) trk_put(t, old[i]);
    zm_free_n(t->backing, old, ocap, sizeof *old, _Alignof(trk_entry));
    return true;
}

static void trk_misuse(tracker *t, const char *fmt, ...) {
    if (t->misuse++ != 0) return; /* keep the first */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->misuse_msg, sizeof t->misuse_msg, fmt, ap);
    va_end(ap);
}

/* Finds the entry of ptr for an operation named op, or reports misuse. */
static trk_entry *trk_check(tracker *t, const char *op, void *ptr, size_t len, size_t align) {
    char w[ZM__WHERE_MAX];
    trk_entry *e = trk_find(t, (uintptr_t)ptr);
    if (e == NULL) {
        trk_misuse(t, "%s of %p, which is not a live block (double free?)", op, ptr);
        return NULL;
    }
    if (e->len != len || e->align != align) {
        trk_misuse(t,
                   "%s of %zu-byte block (alignment %zu) allocated at %s with length %zu and "
                   "alignment %zu",
                   op, e->len, e->align, zm__where(w, sizeof w, e->ra), len, align);
        return NULL;
    }
    return e;
}

static void *trk_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    tracker *t = ctx;
    if (!trk_reserve(t)) return NULL;
    void *p = t->backing.vtable->alloc(t->backing.ctx, len, align, ra);
    if (p != NULL) trk_put(t, (trk_entry){(uintptr_t)p, len, align, ra, t->seq++});
    return p;
}

static bool trk_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                       uintptr_t ra) {
    tracker *t = ctx;
    trk_entry *e = trk_check(t, "resize", ptr, len, align);
    if (e == NULL) return false;
    if (!t->backing.vtable->resize(t->backing.ctx, ptr, len, align, new_len, ra)) return false;
    e->len = new_len;
    return true;
}

static void *trk_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                       uintptr_t ra) {
    tracker *t = ctx;
    trk_entry *e = trk_check(t, "remap", ptr, len, align);
    if (e == NULL) return NULL;
    void *p = t->backing.vtable->remap(t->backing.ctx, ptr, len, align, new_len, ra);
    if (p == NULL) return NULL;
    trk_entry moved = *e;
    trk_remove(t, e);
    moved.ptr = (uintptr_t)p;
    moved.len = new_len;
    trk_put(t, moved);
    return p;
}

static void trk_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    tracker *t = ctx;
    trk_entry *e = trk_check(t, "free", ptr, len, align);
    if (e == NULL) {
        /* A wrong length: give the block back with the right one. */
        e = trk_find(t, (uintptr_t)ptr);
        if (e == NULL) return;
        len = e->len, align = e->align;
    }
    trk_remove(t, e);
    t->backing.vtable->free(t->backing.ctx, ptr, len, align, ra);
}

static const zm_allocator_vtable trk_vtable = {trk_alloc, trk_resize, trk_remap, trk_free};

/* Frees every block still in the table, reporting the count, bytes and the
   first-allocated one in r. */
static void trk_collect(tracker *t, zm_sweep_report *r) {
    size_t first_seq = SIZE_MAX;
    r->leaked_blocks = 0, r->leaked_bytes = 0, r->leak_len = 0, r->leak_ret_addr = 0;
    for (size_t i = 0; i < t->cap; i++) {
        trk_entry e = t->tab[i];
        if (e.ptr == 0) continue;
        r->leaked_blocks++;
        r->leaked_bytes += e.len;
        if (e.seq < first_seq) {
            first_seq = e.seq;
            r->leak_len = e.len;
            r->leak_ret_addr = e.ra;
        }
        t->backing.vtable->free(t->backing.ctx, (void *)e.ptr, e.len, e.align, 0);
        t->tab[i].ptr = 0;
    }
    t->count = 0;
}

/* ---------------------------------------------------------------------------
 * The sweep
 * ------------------------------------------------------------------------- */

typedef struct sweep {
    zm_allocator backing;
    zm_sweep_fn fn;
    void *arg;
    tracker trk;
    zm_failing fail;
    zm_sweep_report *r;
} sweep;

/* Runs fn once with the given failure indices; fills the run's part of the
   report (status, induced failure, leaks, misuse). */
static void run_once(sweep *s, size_t fail_index, size_t resize_fail_index) {
    zm_sweep_report *r = s->r;
    s->trk.misuse = 0;
    s->trk.misuse_msg[0] = '\0';
    zm_failing_init(&s->fail, (zm_allocator){&s->trk, &trk_vtable}, fail_index, resize_fail_index);
    r->status = s->fn(zm_failing_allocator(&s->fail), s->arg);
    r->runs++;
    r->fail_ret_addr = s->fail.induced_ret_addr;
    r->fail_len = s->fail.induced_len;
    r->misuse_count = s->trk.misuse;
    trk_collect(&s->trk, r);
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
            s->trk.misuse_msg);
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
    s.trk.backing = backing;
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
    zm_free_n(backing, s.trk.tab, s.trk.cap, sizeof *s.trk.tab, _Alignof(trk_entry));
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
