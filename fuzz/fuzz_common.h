/* Shared by the fuzz harnesses: reading the input as a stream of choices,
   failing loudly, and a tracking allocator that checks the sized-free
   contract, counts what is live and can fail on demand. */
#ifndef ZMEM_FUZZ_COMMON_H
#define ZMEM_FUZZ_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zmem/allocator.h"
#include "zmem/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---------------------------------------------------------------------------
 * Failing loudly: a broken promise aborts, which libFuzzer reports as a crash
 * and the replay test as a failure.
 * ------------------------------------------------------------------------- */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, format(printf, 3, 4)))
#endif
static void
fz_fail(const char *file, int line, const char *fmt, ...);

static void fz_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

#define FZ_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) fz_fail(__FILE__, __LINE__, "check failed: %s", #cond);                       \
    } while (0)

#define FZ_CHECKF(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) fz_fail(__FILE__, __LINE__, __VA_ARGS__);                                     \
    } while (0)

/* zm_json_equal as a yes or no: the work stack comes from the default
   allocator, and an answer other than ZM_OK is a failure. */
static inline bool fz_json_eq(const zm_json *x, const zm_json *y) {
    bool eq = false;
    zm_status st = zm_json_equal(zm_default_allocator(), x, y, &eq);
    FZ_CHECKF(st == ZM_OK, "zm_json_equal: %s", zm_status_str(st));
    return eq;
}

/* Prints a line to stderr when ZMEM_FUZZ_TRACE is set: replaying a crash with
   it shows the steps that led there. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 1, 2)))
#endif
static void
fz_trace(const char *fmt, ...) {
    static int on = -1;
    if (on < 0) on = getenv("ZMEM_FUZZ_TRACE") != NULL;
    if (!on) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---------------------------------------------------------------------------
 * The input as a stream of choices. Reading past the end gives zeros.
 * ------------------------------------------------------------------------- */

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

static inline uint8_t fz_u8(fz_in *in) {
    if (in->n == 0) return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fz_u16(fz_in *in) {
    uint16_t lo = fz_u8(in);
    return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

static inline uint32_t fz_u32(fz_in *in) {
    uint32_t lo = fz_u16(in);
    return lo | (uint32_t)fz_u16(in) << 16;
}

/* Takes up to max bytes off the front of the input; *len says how many. */
static inline const uint8_t *fz_bytes(fz_in *in, size_t max, size_t *len) {
    size_t n = in->n < max ? in->n : max;
    const uint8_t *p = in->p;
    in->p += n;
    in->n -= n;
    *len = n;
    return p;
}

/* Takes the next line off the front of the input: up to the next newline,
   which is dropped, or the rest. *len says how long the line is. */
static inline const char *fz_line(fz_in *in, size_t *len) {
    const uint8_t *nl = memchr(in->p, '\n', in->n);
    size_t n = nl ? (size_t)(nl - in->p) : in->n;
    const char *line = (const char *)in->p;
    in->p += nl ? n + 1 : n;
    in->n -= nl ? n + 1 : n;
    *len = n;
    return line;
}

/* ---------------------------------------------------------------------------
 * The tracking allocator: wraps an inner allocator, records every live block
 * (pointer, length, alignment) in a hash table kept with libc, and checks
 * every free, resize and remap against it. It can fail the Nth allocation
 * (and every later one when sticky), counting alloc calls and growing
 * resize/remap calls alike.
 * ------------------------------------------------------------------------- */

typedef struct fz_block {
    uintptr_t ptr; /* 0 = empty slot, 1 = tombstone */
    size_t len, align;
} fz_block;

typedef struct fz_track {
    zm_allocator inner;
    fz_block *slots;
    size_t cap, used; /* used counts live slots and tombstones */
    size_t live_blocks, live_bytes, peak_bytes;
    size_t calls;    /* allocation-like calls seen (alloc, growing resize/remap) */
    size_t fail_at;  /* index of the call to fail; SIZE_MAX = never */
    int sticky;      /* fail every call from fail_at on */
    size_t failures; /* calls failed on purpose */
} fz_track;

static inline size_t fz__hash(uintptr_t p, size_t cap) {
    uint64_t h = (uint64_t)p * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

static fz_block *fz__find(fz_track *t, uintptr_t p) {
    if (t->cap == 0) return NULL;
    for (size_t i = fz__hash(p, t->cap);; i = (i + 1) & (t->cap - 1)) {
        if (t->slots[i].ptr == p) return &t->slots[i];
        if (t->slots[i].ptr == 0) return NULL;
    }
}

static void fz__insert(fz_track *t, uintptr_t p, size_t len, size_t align);

static void fz__grow(fz_track *t) {
    size_t old_cap = t->cap;
    fz_block *old = t->slots;
    t->cap = old_cap ? old_cap * 2 : 256;
    if (t->live_blocks * 4 < old_cap) t->cap = old_cap; /* tombstones only: rehash */
    t->slots = calloc(t->cap, sizeof *t->slots);
    FZ_CHECKF(t->slots != NULL, "tracking table: out of memory");
    t->used = 0;
    t->live_blocks = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].ptr > 1) fz__insert(t, old[i].ptr, old[i].len, old[i].align);
    free(old);
}

static void fz__insert(fz_track *t, uintptr_t p, size_t len, size_t align) {
    if ((t->used + 1) * 2 > t->cap) fz__grow(t);
    FZ_CHECKF(fz__find(t, p) == NULL, "allocator returned %p, which is already live", (void *)p);
    size_t i = fz__hash(p, t->cap);
    while (t->slots[i].ptr > 1) i = (i + 1) & (t->cap - 1);
    if (t->slots[i].ptr == 0) t->used++;
    t->slots[i] = (fz_block){p, len, align};
    t->live_blocks++;
}

/* Finds the live block p and checks that len and align are exactly its own. */
static fz_block *fz__expect(fz_track *t, void *p, size_t len, size_t align, const char *what) {
    fz_block *b = fz__find(t, (uintptr_t)p);
    FZ_CHECKF(b != NULL, "%s of %p, which is not a live block", what, p);
    FZ_CHECKF(b->len == len && b->align == align,
              "%s of %p with length %zu align %zu; the block has length %zu align %zu", what, p,
              len, align, b->len, b->align);
    return b;
}

static int fz__should_fail(fz_track *t) {
    size_t i = t->calls++;
    if (t->fail_at == SIZE_MAX) return 0;
    if (i == t->fail_at || (t->sticky && i > t->fail_at)) {
        t->failures++;
        return 1;
    }
    return 0;
}

static void *fz__alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    fz_track *t = ctx;
    FZ_CHECKF(len > 0, "alloc of length 0 reached the vtable");
    FZ_CHECKF(zm_is_valid_align(align), "alloc with alignment %zu", align);
    if (fz__should_fail(t)) return NULL;
    void *p = t->inner.vtable->alloc(t->inner.ctx, len, align, ra);
    if (p == NULL) return NULL;
    FZ_CHECKF(((uintptr_t)p & (align - 1)) == 0, "block %p is not aligned to %zu", p, align);
    fz__insert(t, (uintptr_t)p, len, align);
    t->live_bytes += len;
    if (t->live_bytes > t->peak_bytes) t->peak_bytes = t->live_bytes;
    return p;
}

static bool fz__resize(void *ctx, void *p, size_t len, size_t align, size_t new_len, uintptr_t ra) {
    fz_track *t = ctx;
    FZ_CHECKF(len > 0 && new_len > 0, "resize with a zero length reached the vtable");
    fz_block *b = fz__expect(t, p, len, align, "resize");
    if (new_len > len && fz__should_fail(t)) return false;
    if (!t->inner.vtable->resize(t->inner.ctx, p, len, align, new_len, ra)) return false;
    b->len = new_len;
    t->live_bytes = t->live_bytes - len + new_len;
    if (t->live_bytes > t->peak_bytes) t->peak_bytes = t->live_bytes;
    return true;
}

static void *fz__remap(void *ctx, void *p, size_t len, size_t align, size_t new_len, uintptr_t ra) {
    fz_track *t = ctx;
    FZ_CHECKF(len > 0 && new_len > 0, "remap with a zero length reached the vtable");
    fz_block *b = fz__expect(t, p, len, align, "remap");
    if (new_len > len && fz__should_fail(t)) return NULL;
    void *q = t->inner.vtable->remap(t->inner.ctx, p, len, align, new_len, ra);
    if (q == NULL) return NULL;
    FZ_CHECKF(((uintptr_t)q & (align - 1)) == 0, "remapped block %p is not aligned to %zu", q,
              align);
    if (q == p) {
        b->len = new_len;
    } else {
        b->ptr = 1;
        t->live_blocks--;
        fz__insert(t, (uintptr_t)q, new_len, align);
    }
    t->live_bytes = t->live_bytes - len + new_len;
    if (t->live_bytes > t->peak_bytes) t->peak_bytes = t->live_bytes;
    return q;
}

static void fz__free(void *ctx, void *p, size_t len, size_t align, uintptr_t ra) {
    fz_track *t = ctx;
    FZ_CHECKF(len > 0, "free of length 0 reached the vtable");
    fz_block *b = fz__expect(t, p, len, align, "free");
    b->ptr = 1;
    t->live_blocks--;
    t->live_bytes -= len;
    t->inner.vtable->free(t->inner.ctx, p, len, align, ra);
}

static const zm_allocator_vtable fz_track_vtable = {fz__alloc, fz__resize, fz__remap, fz__free};

/* Starts tracking over inner; never fails until fz_track_fail_at is called. */
static inline zm_allocator fz_track_init(fz_track *t, zm_allocator inner) {
    memset(t, 0, sizeof *t);
    t->inner = inner;
    t->fail_at = SIZE_MAX;
    return (zm_allocator){t, &fz_track_vtable};
}

/* Fails the allocation-like call of index n (0-based, counted from now), and
   every later one too when sticky. */
static inline void fz_track_fail_at(fz_track *t, size_t n, int sticky) {
    t->calls = 0;
    t->fail_at = n;
    t->sticky = sticky;
}

/* Stops failing. */
static inline void fz_track_no_fail(fz_track *t) {
    t->fail_at = SIZE_MAX;
}

/* Checks that nothing is live (what) and frees the table. */
static inline void fz_track_finish(fz_track *t, const char *what) {
    if (t->live_blocks != 0) {
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].ptr > 1)
                fprintf(stderr, "leaked block %p: %zu bytes, align %zu\n", (void *)t->slots[i].ptr,
                        t->slots[i].len, t->slots[i].align);
        fz_fail(__FILE__, __LINE__, "%s: %zu block(s), %zu byte(s) leaked", what, t->live_blocks,
                t->live_bytes);
    }
    free(t->slots);
    t->slots = NULL;
    t->cap = t->used = 0;
}

#endif
