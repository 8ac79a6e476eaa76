/* The debug allocator: a table of blocks keyed by address, guard bytes around
   every block, poison over freed memory, a quarantine, and reports that say
   where things happened. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>

#include "where.h"
#include "chain.h"
#include "zmem/debug.h"

#define GUARD   ZM_DEBUG_GUARD_SIZE
#define NO_DIFF SIZE_MAX

enum { EMPTY = 0, LIVE = 1, FREED = 2 };

struct zm__debug_entry {
    uintptr_t ptr;     /* the address the user holds; 0 = empty slot */
    size_t len;        /* the block's current length */
    uintptr_t ra;      /* where it was allocated */
    uintptr_t free_ra; /* where it was freed (FREED only) */
    void **frames;     /* NULL, or 2 * depth slots: allocation, then free */
    uint64_t seq;      /* allocation order while LIVE, free order while FREED */
    uint8_t align_log2;
    uint8_t state;
    uint8_t held; /* FREED and still kept in the quarantine */
    uint8_t nframes, nfree_frames;
};

/* A freed block in the history ring: which address, and which free of it. */
struct zm__debug_freed {
    uintptr_t ptr;
    uint64_t seq;
};

typedef zm__debug_entry entry;

static const unsigned char guard_pattern[GUARD] = {
    ZM_DEBUG_GUARD_BYTE, ZM_DEBUG_GUARD_BYTE, ZM_DEBUG_GUARD_BYTE, ZM_DEBUG_GUARD_BYTE,
    ZM_DEBUG_GUARD_BYTE, ZM_DEBUG_GUARD_BYTE, ZM_DEBUG_GUARD_BYTE, ZM_DEBUG_GUARD_BYTE,
    ZM_DEBUG_GUARD_BYTE, ZM_DEBUG_GUARD_BYTE, ZM_DEBUG_GUARD_BYTE, ZM_DEBUG_GUARD_BYTE,
    ZM_DEBUG_GUARD_BYTE, ZM_DEBUG_GUARD_BYTE, ZM_DEBUG_GUARD_BYTE, ZM_DEBUG_GUARD_BYTE,
};

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

static unsigned log2_of(size_t align) {
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll((unsigned long long)align);
#else
    unsigned l = 0;
    while (((size_t)1 << l) < align) l++;
    return l;
#endif
}

/* Bytes in front of the user's address: the guard, widened to the alignment
   so that the user's address stays aligned. */
static size_t front_of(size_t align) {
    return align > GUARD ? align : GUARD;
}

static size_t align_of(const entry *e) {
    return (size_t)1 << e->align_log2;
}

/* The offset of the first byte of p[0..n) that is not b, or NO_DIFF. */
static size_t first_diff(const unsigned char *p, size_t n, unsigned char b) {
    uint64_t pattern = UINT64_C(0x0101010101010101) * b;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w != pattern) break;
    }
    for (; i < n; i++)
        if (p[i] != b) return i;
    return NO_DIFF;
}

static void lock(zm_debug *d) {
    if (d->opts.thread_safe) pthread_mutex_lock(&d->lock);
}

static void unlock(zm_debug *d) {
    if (d->opts.thread_safe) pthread_mutex_unlock(&d->lock);
}

/* Records up to depth return addresses, starting with from (see zm__backtrace). */
static int capture(void **out, int depth, uintptr_t from) {
    return zm__backtrace(out, depth, from);
}

#if defined(__GNUC__) || defined(__clang__)
#define HERE() ((uintptr_t)__builtin_return_address(0))
#else
#define HERE() ((uintptr_t)0)
#endif

/* ---------------------------------------------------------------------------
 * The table: open addressing, linear probing, backward-shift deletion
 * ------------------------------------------------------------------------- */

static size_t slot_of(const zm_debug *d, uintptr_t p) {
    uint64_t h = (uint64_t)p * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 29) & (d->cap - 1);
}

static entry *find(zm_debug *d, uintptr_t p) {
    if (d->cap == 0) return NULL;
    for (size_t i = slot_of(d, p);; i = (i + 1) & (d->cap - 1)) {
        if (d->tab[i].ptr == p) return &d->tab[i];
        if (d->tab[i].ptr == 0) return NULL;
    }
}

/* The slot holding p, or the empty slot where p goes. Needs a table. */
static entry *slot_for(zm_debug *d, uintptr_t p) {
    size_t i = slot_of(d, p);
    while (d->tab[i].ptr != 0 && d->tab[i].ptr != p) i = (i + 1) & (d->cap - 1);
    return &d->tab[i];
}

static void remove_entry(zm_debug *d, entry *e) {
    size_t mask = d->cap - 1, i = (size_t)(e - d->tab);
    for (size_t j = (i + 1) & mask; d->tab[j].ptr != 0; j = (j + 1) & mask) {
        size_t home = slot_of(d, d->tab[j].ptr);
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            d->tab[i] = d->tab[j];
            i = j;
        }
    }
    memset(&d->tab[i], 0, sizeof d->tab[i]);
    d->count--;
}

static size_t frames_size(const zm_debug *d) {
    return 2 * (size_t)d->opts.backtrace_depth * sizeof(void *);
}

static void drop_frames(zm_debug *d, entry *e) {
    if (e->frames != NULL) zm_free(d->backing, e->frames, frames_size(d), _Alignof(void *));
    e->frames = NULL;
}

/* Makes room for one more entry (load at most 1/2). False if backing could not. */
static bool reserve(zm_debug *d) {
    if ((d->count + 1) * 2 <= d->cap) return true;
    size_t ncap = d->cap ? d->cap * 2 : 256;
    entry *ntab = zm_alloc_n(d->backing, ncap, sizeof *ntab, _Alignof(entry));
    if (ntab == NULL) {
        d->table_failed = true;
        return false;
    }
    memset(ntab, 0, ncap * sizeof *ntab);
    entry *old = d->tab;
    size_t ocap = d->cap;
    d->tab = ntab;
    d->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].ptr != 0) *slot_for(d, old[i].ptr) = old[i];
    zm_free_n(d->backing, old, ocap, sizeof *old, _Alignof(entry));
    return true;
}

/* ---------------------------------------------------------------------------
 * Reports
 * ------------------------------------------------------------------------- */

/* Writes "N-byte block at P allocated at W" into buf. */
static char *describe(char *buf, size_t n, const entry *e) {
    char w[ZM__WHERE_MAX];
    snprintf(buf, n, "%zu-byte block at %p allocated at %s", e->len, (void *)e->ptr,
             zm__where(w, sizeof w, e->ra));
    return buf;
}

static void print_frames(FILE *out, const char *label, void *const *frames, int n) {
    if (n <= 0) return;
    fprintf(out, "  %s:\n", label);
    for (int i = 0; i < n; i++) {
        char w[ZM__WHERE_MAX];
        fprintf(out, "    #%d %s\n", i, zm__where(w, sizeof w, (uintptr_t)frames[i]));
    }
}

/* Reports one finding: "zmem debug: kind: <text>", then the backtraces of e
   (if any). counter is bumped; misuse also counts as an error, is kept in
   first_error and may abort. */
static void report(zm_debug *d, size_t *counter, bool misuse, const entry *e, const char *kind,
                   const char *fmt, ...) {
    char line[768];
    int k = snprintf(line, sizeof line, "zmem debug: %s: ", kind);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    va_end(ap);
    (*counter)++;
    if (misuse) {
        d->counts.errors++;
        if (d->first_error[0] == '\0') {
            size_t n = strlen(line);
            if (n >= sizeof d->first_error) n = sizeof d->first_error - 1;
            memcpy(d->first_error, line, n);
            d->first_error[n] = '\0';
        }
    }
    FILE *out = d->opts.out;
    if (out != NULL) {
        fprintf(out, "%s\n", line);
        if (e != NULL && e->frames != NULL) {
            print_frames(out, "allocated at", e->frames, e->nframes);
            if (e->state == FREED)
                print_frames(out, "freed at", e->frames + d->opts.backtrace_depth, e->nfree_frames);
        }
        fflush(out);
    }
    if (misuse && d->opts.abort_on_misuse) abort();
}

/* Writes fresh guards around a block of len bytes at p. */
static void set_guards(unsigned char *p, size_t len) {
    memcpy(p - GUARD, guard_pattern, GUARD);
    memcpy(p + len, guard_pattern, GUARD);
}

/* True when the GUARD bytes at g all hold the guard byte. */
static bool guard_intact(const unsigned char *g) {
    uint64_t a, b;
    memcpy(&a, g, 8);
    memcpy(&b, g + 8, 8);
    return a == UINT64_C(0x0101010101010101) * ZM_DEBUG_GUARD_BYTE &&
           b == UINT64_C(0x0101010101010101) * ZM_DEBUG_GUARD_BYTE;
}

/* Checks both guards of a live or held block. The finding says where it was
   found: "at <when> from <ra>" when ra is known, else "<when>" as given.
   A broken guard is rewritten once reported, so that one overrun is reported
   and counted once (not again by zm_debug_check or when the block leaves the
   quarantine); a later write past the block is a new finding.
   Returns the number of errors found. Formats nothing unless it finds one. */
static size_t check_guards(zm_debug *d, const entry *e, const char *when, uintptr_t ra) {
    const unsigned char *p = (const unsigned char *)e->ptr;
    bool over = !guard_intact(p + e->len);
    bool under = !guard_intact(p - GUARD);
    if (ZM_LIKELY(!over && !under)) return 0;
    char b[ZM__WHERE_MAX * 2], w[ZM__WHERE_MAX], found[ZM__WHERE_MAX + 32];
    if (ra != 0)
        snprintf(found, sizeof found, "at %s from %s", when, zm__where(w, sizeof w, ra));
    else
        snprintf(found, sizeof found, "%s", when);
    if (over) {
        size_t last = 0, n = 0;
        for (size_t i = 0; i < GUARD; i++)
            if (p[e->len + i] != ZM_DEBUG_GUARD_BYTE) last = i, n++;
        report(d, &d->counts.overruns, true, e, "buffer overrun",
               "%s: %zu of the %d guard bytes past its end overwritten (up to end+%zu), found %s",
               describe(b, sizeof b, e), n, GUARD, last, found);
    }
    if (under) {
        size_t first = 0, n = 0;
        for (size_t i = GUARD; i > 0; i--)
            if (p[-(ptrdiff_t)i] != ZM_DEBUG_GUARD_BYTE) {
                if (n++ == 0) first = i;
            }
        report(d, &d->counts.underruns, true, e, "buffer underrun",
               "%s: %zu of the %d guard bytes before its start overwritten (from start-%zu), "
               "found %s",
               describe(b, sizeof b, e), n, GUARD, first, found);
    }
    set_guards((unsigned char *)p, e->len);
    return (size_t)over + (size_t)under;
}

/* ---------------------------------------------------------------------------
 * Freed blocks: the history ring and the quarantine
 *
 * Every free appends (address, free seq) to a ring. Records at [head, tail)
 * are remembered for double-free reports; with a quarantine the newest of
 * them, [qhead, tail), are also still held (not given back to backing).
 * ------------------------------------------------------------------------- */

static bool quarantining(const zm_debug *d) {
    return d->opts.quarantine_bytes > 0 || d->opts.never_reuse;
}

/* Gives a freed block back to backing. */
static void give_back(zm_debug *d, uintptr_t ptr, size_t len, size_t align, uintptr_t ra) {
    size_t front = front_of(align);
    d->backing.vtable->free(d->backing.ctx, (char *)ptr - front, front + len + GUARD, align, ra);
}

/* Ends the quarantine of the held block e: checks its poison and guards, and
   gives it back. */
static void release(zm_debug *d, entry *e) {
    char b[ZM__WHERE_MAX * 2], w[ZM__WHERE_MAX];
    size_t off = first_diff((const unsigned char *)e->ptr, e->len, d->opts.poison);
    if (off != NO_DIFF)
        report(d, &d->counts.use_after_free, true, e, "use after free",
               "%s was written at offset %zu after it was freed at %s (found when it left the "
               "quarantine)",
               describe(b, sizeof b, e), off, zm__where(w, sizeof w, e->free_ra));
    check_guards(d, e, "when it left the quarantine", 0);
    give_back(d, e->ptr, e->len, align_of(e), 0);
    e->held = 0;
    d->quarantined_bytes -= e->len;
}

/* The entry a ring record still stands for, or NULL if stale. */
static entry *record_entry(zm_debug *d, const zm__debug_freed *r) {
    entry *e = find(d, r->ptr);
    return e != NULL && e->state == FREED && e->seq == r->seq ? e : NULL;
}

static void release_oldest(zm_debug *d) {
    zm__debug_freed *r = &d->ring[d->qhead++ & (d->ring_cap - 1)];
    entry *e = record_entry(d, r);
    if (e != NULL && e->held) release(d, e);
}

static void forget_oldest(zm_debug *d) {
    zm__debug_freed *r = &d->ring[d->head++ & (d->ring_cap - 1)];
    entry *e = record_entry(d, r);
    if (e == NULL) return;
    if (e->held) release(d, e);
    drop_frames(d, e);
    remove_entry(d, e);
}

static bool grow_ring(zm_debug *d) {
    size_t ncap = d->ring_cap ? d->ring_cap * 2 : 16;
    zm__debug_freed *n = zm_alloc_n(d->backing, ncap, sizeof *n, _Alignof(zm__debug_freed));
    if (n == NULL) return false;
    for (uint64_t i = d->head; i < d->tail; i++) n[i - d->head] = d->ring[i & (d->ring_cap - 1)];
    if (d->ring != NULL)
        zm_free_n(d->backing, d->ring, d->ring_cap, sizeof *n, _Alignof(zm__debug_freed));
    d->qhead -= d->head;
    d->tail -= d->head;
    d->head = 0;
    d->ring = n;
    d->ring_cap = ncap;
    return true;
}

/* Records the free of the block at ptr (free seq seq), already marked FREED
   and held if quarantining; then trims history and quarantine. Returns false
   when there was no room to record it (the caller then releases the block). */
static bool remember_free(zm_debug *d, uintptr_t ptr, uint64_t seq) {
    if (d->ring == NULL) {
        size_t want = 16;
        while (want < d->opts.free_history) want *= 2;
        d->ring = zm_alloc_n(d->backing, want, sizeof *d->ring, _Alignof(zm__debug_freed));
        if (d->ring == NULL) return false;
        d->ring_cap = want;
    }
    if (d->tail - d->head == d->ring_cap) {
        if (d->qhead == d->head && d->opts.never_reuse && grow_ring(d)) {
            /* room made */
        } else {
            forget_oldest(d);
            if (d->qhead < d->head) d->qhead = d->head;
        }
    }
    d->ring[d->tail++ & (d->ring_cap - 1)] = (zm__debug_freed){ptr, seq};
    if (!quarantining(d)) {
        d->qhead = d->tail;
        return true;
    }
    while (!d->opts.never_reuse && d->quarantined_bytes > d->opts.quarantine_bytes &&
           d->qhead < d->tail)
        release_oldest(d);
    return true;
}

/* ---------------------------------------------------------------------------
 * Checking a request against the table
 * ------------------------------------------------------------------------- */

/* Finds the live block ptr for op ("free", "resize", "remap") from ra. Returns
   it, with *exact telling whether len and align were right; or NULL after
   reporting a double or invalid free. Wrong length or alignment is reported
   here too. */
static entry *lookup(zm_debug *d, const char *op, void *ptr, size_t len, size_t align, uintptr_t ra,
                     bool *exact) {
    char b[ZM__WHERE_MAX * 2], w1[ZM__WHERE_MAX], w2[ZM__WHERE_MAX];
    entry *e = find(d, (uintptr_t)ptr);
    *exact = false;
    if (e == NULL) {
        report(d, &d->counts.invalid_frees, true, NULL, "invalid free",
               "%s of %p at %s: not a block of this allocator (never allocated, an interior "
               "pointer, or freed long ago)",
               op, ptr, zm__where(w1, sizeof w1, ra));
        return NULL;
    }
    if (e->state == FREED) {
        report(d, &d->counts.double_frees, true, e, "double free",
               "%s of %s, first freed at %s, %s again at %s", op, describe(b, sizeof b, e),
               zm__where(w1, sizeof w1, e->free_ra), op[0] == 'f' ? "freed" : "used",
               zm__where(w2, sizeof w2, ra));
        return NULL;
    }
    if (e->len != len) {
        report(d, &d->counts.wrong_lengths, true, e, "wrong length",
               "%s of %s with length %zu, at %s", op, describe(b, sizeof b, e), len,
               zm__where(w1, sizeof w1, ra));
        return e;
    }
    if (align != align_of(e)) {
        report(d, &d->counts.wrong_aligns, true, e, "wrong alignment",
               "%s of %s (alignment %zu) with alignment %zu, at %s", op, describe(b, sizeof b, e),
               align_of(e), align, zm__where(w1, sizeof w1, ra));
        return e;
    }
    *exact = true;
    return e;
}

/* ---------------------------------------------------------------------------
 * The vtable
 * ------------------------------------------------------------------------- */

static void note_live(zm_debug *d, size_t add) {
    d->live_bytes += add;
    if (d->live_bytes > d->peak_bytes) d->peak_bytes = d->live_bytes;
}

static void *dbg_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    zm_debug *d = ctx;
    size_t front = front_of(align);
    if (len > SIZE_MAX - front - GUARD) return NULL;
    lock(d);
    if (!reserve(d)) {
        unlock(d);
        return NULL;
    }
    unsigned char *base = d->backing.vtable->alloc(d->backing.ctx, front + len + GUARD, align, ra);
    if (base == NULL) {
        unlock(d);
        return NULL;
    }
    unsigned char *p = base + front;
    set_guards(p, len);
    entry *e = slot_for(d, (uintptr_t)p);
    if (e->ptr == 0) {
        d->count++;
    } else if (e->state == LIVE) {
        /* backing handed out a block we think is live: it was given back
           behind our back. Forget the old one. */
        d->live_blocks--;
        d->live_bytes -= e->len;
    } /* else a freed address handed out again: its ring record is stale now. */
    e->ptr = (uintptr_t)p;
    e->len = len;
    e->ra = ra;
    e->free_ra = 0;
    e->seq = ++d->seq;
    e->align_log2 = (uint8_t)log2_of(align);
    e->state = LIVE;
    e->held = 0;
    e->nframes = e->nfree_frames = 0;
    if (d->opts.backtrace_depth > 0) {
        if (e->frames == NULL) e->frames = zm_alloc(d->backing, frames_size(d), _Alignof(void *));
        if (e->frames != NULL)
            e->nframes = (uint8_t)capture(e->frames, d->opts.backtrace_depth, HERE());
    }
    d->live_blocks++;
    d->total_allocs++;
    note_live(d, len);
    unlock(d);
    return p;
}

static void dbg_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    zm_debug *d = ctx;
    bool exact;
    lock(d);
    entry *e = lookup(d, "free", ptr, len, align, ra, &exact);
    if (e == NULL) {
        unlock(d);
        return;
    }
    len = e->len, align = align_of(e); /* the truth, even after a wrong-length report */
    check_guards(d, e, "free", ra);
    memset(ptr, d->opts.poison, len);
    e->state = FREED;
    e->free_ra = ra;
    e->seq = ++d->seq;
    if (e->frames != NULL)
        e->nfree_frames =
            (uint8_t)capture(e->frames + d->opts.backtrace_depth, d->opts.backtrace_depth, HERE());
    d->live_blocks--;
    d->live_bytes -= len;
    d->total_frees++;
    uint64_t seq = e->seq;
    if (quarantining(d)) {
        e->held = 1;
        d->quarantined_bytes += len;
    } else {
        give_back(d, (uintptr_t)ptr, len, align, ra);
    }
    /* e may move from here on. */
    if (!remember_free(d, (uintptr_t)ptr, seq)) {
        e = find(d, (uintptr_t)ptr);
        if (e->held) release(d, e);
        drop_frames(d, e);
        remove_entry(d, e);
    }
    unlock(d);
}

static bool dbg_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                       uintptr_t ra) {
    zm_debug *d = ctx;
    bool exact;
    size_t front = front_of(align);
    if (new_len > SIZE_MAX - front - GUARD) return false;
    lock(d);
    entry *e = lookup(d, "resize", ptr, len, align, ra, &exact);
    if (e == NULL || !exact) {
        unlock(d);
        return false;
    }
    check_guards(d, e, "resize", ra);
    unsigned char *p = ptr;
    bool ok = d->backing.vtable->resize(d->backing.ctx, p - front, front + len + GUARD, align,
                                        front + new_len + GUARD, ra);
    if (ok) {
        set_guards(p, new_len);
        e->len = new_len;
        if (new_len > len)
            note_live(d, new_len - len);
        else
            d->live_bytes -= len - new_len;
    }
    unlock(d);
    return ok;
}

static void *dbg_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                       uintptr_t ra) {
    zm_debug *d = ctx;
    bool exact;
    size_t front = front_of(align);
    if (new_len > SIZE_MAX - front - GUARD) return NULL;
    lock(d);
    entry *e = lookup(d, "remap", ptr, len, align, ra, &exact);
    if (e == NULL || !exact || !reserve(d)) {
        unlock(d);
        return NULL;
    }
    e = find(d, (uintptr_t)ptr); /* reserve may have moved it */
    check_guards(d, e, "remap", ra);
    unsigned char *base =
        d->backing.vtable->remap(d->backing.ctx, (unsigned char *)ptr - front, front + len + GUARD,
                                 align, front + new_len + GUARD, ra);
    if (base == NULL) {
        unlock(d);
        return NULL;
    }
    unsigned char *p = base + front;
    set_guards(p, new_len);
    entry moved = *e;
    moved.ptr = (uintptr_t)p;
    moved.len = new_len;
    if (p != ptr) {
        remove_entry(d, e);
        e = slot_for(d, (uintptr_t)p);
        if (e->ptr == 0)
            d->count++;
        else
            drop_frames(d, e); /* a forgotten freed block at the same address */
    }
    *e = moved;
    if (new_len > len)
        note_live(d, new_len - len);
    else
        d->live_bytes -= len - new_len;
    unlock(d);
    return p;
}

const zm_allocator_vtable zm__debug_vtable = {dbg_alloc, dbg_resize, dbg_remap, dbg_free};

/* ---------------------------------------------------------------------------
 * Set-up, checks, reports, tear-down
 * ------------------------------------------------------------------------- */

zm_debug_options zm_debug_defaults(void) {
    zm_debug_options o;
    memset(&o, 0, sizeof o);
    o.out = stderr;
    o.free_history = 4096;
    o.poison = 0xDD;
    return o;
}

void zm_debug_init(zm_debug *dbg, zm_allocator backing, const zm_debug_options *opts) {
    memset(dbg, 0, sizeof *dbg);
    dbg->backing = backing;
    dbg->opts = opts ? *opts : zm_debug_defaults();
    if (dbg->opts.backtrace_depth < 0) dbg->opts.backtrace_depth = 0;
    if (dbg->opts.backtrace_depth > ZM_DEBUG_MAX_FRAMES)
        dbg->opts.backtrace_depth = ZM_DEBUG_MAX_FRAMES;
    if (dbg->opts.free_history < 16) dbg->opts.free_history = 16;
    pthread_mutex_init(&dbg->lock, NULL);
}

zm_allocator zm_debug_allocator(zm_debug *dbg) {
    return (zm_allocator){dbg, &zm__debug_vtable};
}

size_t zm_debug_check(zm_debug *dbg) {
    lock(dbg);
    size_t before = dbg->counts.errors;
    for (size_t i = 0; i < dbg->cap; i++) {
        entry *e = &dbg->tab[i];
        if (e->state == LIVE) check_guards(dbg, e, "by zm_debug_check", 0);
        if (e->state == FREED && e->held) {
            char b[ZM__WHERE_MAX * 2], w[ZM__WHERE_MAX];
            size_t off = first_diff((const unsigned char *)e->ptr, e->len, dbg->opts.poison);
            if (off != NO_DIFF) {
                report(dbg, &dbg->counts.use_after_free, true, e, "use after free",
                       "%s was written at offset %zu after it was freed at %s (found by "
                       "zm_debug_check)",
                       describe(b, sizeof b, e), off, zm__where(w, sizeof w, e->free_ra));
                /* Poison it again so the same write is reported once. */
                memset((void *)e->ptr, dbg->opts.poison, e->len);
            }
            check_guards(dbg, e, "by zm_debug_check", 0);
        }
    }
    size_t found = dbg->counts.errors - before;
    unlock(dbg);
    return found;
}

static int by_seq(const void *a, const void *b) {
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Calls fn on every live entry, oldest first when a sorting array can be had. */
static void each_live_sorted(zm_debug *d, void (*fn)(zm_debug *d, entry *e, void *ctx), void *ctx) {
    entry **order = d->live_blocks ? zm_alloc_array(d->backing, entry *, d->live_blocks) : NULL;
    if (order == NULL) {
        for (size_t i = 0; i < d->cap; i++)
            if (d->tab[i].state == LIVE) fn(d, &d->tab[i], ctx);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < d->cap && n < d->live_blocks; i++)
        if (d->tab[i].state == LIVE) order[n++] = &d->tab[i];
    qsort(order, n, sizeof *order, by_seq);
    for (size_t i = 0; i < n; i++) fn(d, order[i], ctx);
    zm_free_array(d->backing, order, d->live_blocks);
}

static void print_leak(zm_debug *d, entry *e, void *ctx) {
    FILE *out = ctx;
    char b[ZM__WHERE_MAX * 2];
    fprintf(out, "zmem debug: leak: %s\n", describe(b, sizeof b, e));
    if (e->frames != NULL) print_frames(out, "allocated at", e->frames, e->nframes);
    (void)d;
}

size_t zm_debug_report(zm_debug *dbg, FILE *out) {
    lock(dbg);
    if (out == NULL) out = dbg->opts.out;
    size_t live = dbg->live_blocks;
    if (out != NULL) {
        each_live_sorted(dbg, print_leak, out);
        const zm_debug_counts *c = &dbg->counts;
        fprintf(out,
                "zmem debug: summary: %zu live blocks (%zu bytes), peak %zu bytes, %zu allocs, "
                "%zu frees; %zu errors: %zu double frees, %zu invalid frees, %zu wrong lengths, "
                "%zu wrong alignments, %zu overruns, %zu underruns, %zu uses after free\n",
                live, dbg->live_bytes, dbg->peak_bytes, dbg->total_allocs, dbg->total_frees,
                c->errors, c->double_frees, c->invalid_frees, c->wrong_lengths, c->wrong_aligns,
                c->overruns, c->underruns, c->use_after_free);
        fflush(out);
    }
    unlock(dbg);
    return live;
}

void zm_debug_each_live(zm_debug *dbg, void (*fn)(const zm_debug_block *b, void *ctx), void *ctx) {
    lock(dbg);
    for (size_t i = 0; i < dbg->cap; i++) {
        const entry *e = &dbg->tab[i];
        if (e->state != LIVE) continue;
        zm_debug_block b = {(void *)e->ptr,
                            e->len,
                            align_of(e),
                            e->ra,
                            e->seq,
                            e->frames,
                            e->frames ? e->nframes : 0};
        fn(&b, ctx);
    }
    unlock(dbg);
}

static void report_leak(zm_debug *d, entry *e, void *ctx) {
    (void)ctx;
    char b[ZM__WHERE_MAX * 2];
    report(d, &d->counts.leaks, false, e, "leak", "%s", describe(b, sizeof b, e));
}

size_t zm_debug_deinit(zm_debug *dbg) {
    lock(dbg);
    for (size_t i = 0; i < dbg->cap; i++)
        if (dbg->tab[i].state == LIVE) check_guards(dbg, &dbg->tab[i], "at deinit", 0);
    size_t leaks = dbg->live_blocks;
    each_live_sorted(dbg, report_leak, NULL);
    while (dbg->qhead < dbg->tail) release_oldest(dbg);
    for (size_t i = 0; i < dbg->cap; i++) {
        entry *e = &dbg->tab[i];
        if (e->state == LIVE) give_back(dbg, e->ptr, e->len, align_of(e), 0);
        drop_frames(dbg, e);
    }
    if (dbg->tab != NULL)
        zm_free_n(dbg->backing, dbg->tab, dbg->cap, sizeof *dbg->tab, _Alignof(entry));
    if (dbg->ring != NULL)
        zm_free_n(dbg->backing, dbg->ring, dbg->ring_cap, sizeof *dbg->ring,
                  _Alignof(zm__debug_freed));
    dbg->tab = NULL, dbg->cap = 0, dbg->count = 0;
    dbg->ring = NULL, dbg->ring_cap = 0;
    dbg->head = dbg->qhead = dbg->tail = 0;
    dbg->live_blocks = 0, dbg->live_bytes = 0, dbg->quarantined_bytes = 0;
    unlock(dbg);
    pthread_mutex_destroy(&dbg->lock);
    return leaks;
}

char *zm_debug_where(char *buf, size_t n, uintptr_t addr) {
    return zm__where(buf, n, addr);
}
