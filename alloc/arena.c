/* The arena allocator: blocks, the slow path, resets, savepoints, cleanups. */
#include <stdalign.h>
#include <stdio.h>

#include "chain.h"
#include "zmem/arena.h"

/* Under AddressSanitizer the memory not handed out is poisoned, and the inline
   fast path is disabled by keeping end == ptr, so that every allocation comes
   through here and unpoisons exactly what it hands out. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define BLOCK_ALIGN alignof(max_align_t)
#define HEADER_SIZE ((sizeof(zm_arena_block) + BLOCK_ALIGN - 1) & ~(size_t)(BLOCK_ALIGN - 1))
/* Geometric growth stops here; larger requests still get a block of their own. */
#define MAX_GROW_BLOCK ((size_t)64 << 20)

static char *block_start(zm_arena_block *b) {
    return (char *)b + HEADER_SIZE;
}

static char *block_end(zm_arena_block *b) {
    return (char *)b + b->size;
}

#ifdef ARENA_ASAN
#define ALWAYS_SLOW true
#else
#define ALWAYS_SLOW false
#endif

/* Moves the bump pointer; the fast path may run up to the block's end,
   except under AddressSanitizer and while the arena counts its requests at a
   failing allocator: then the fast path ends where it starts. */
static void set_ptr(zm_arena *ar, char *p) {
    ar->ptr = p;
    ar->end = ALWAYS_SLOW || ar->counted ? p : ar->limit;
}

/* Looks again whether the arena is over a zm_failing that counts arena
   requests (zmem/failing.h), and moves the fast path's end to match. */
static void recheck_counted(zm_arena *ar) {
    bool counted = zm__chain_counts(ar->backing);
    if (counted == ar->counted) return;
    ar->counted = counted;
    if (ar->cur != NULL) set_ptr(ar, ar->ptr);
}

/* ---------------------------------------------------------------------------
 * Set-up and tear-down
 * ------------------------------------------------------------------------- */

void zm_arena_init_sized(zm_arena *ar, zm_allocator backing, size_t block_size) {
    memset(ar, 0, sizeof *ar);
    ar->backing = backing;
    if (block_size < HEADER_SIZE + 64) block_size = HEADER_SIZE + 64;
    ar->block_size = block_size;
    ar->counted = zm__chain_counts(backing);
}

void zm_arena_init(zm_arena *ar, zm_allocator backing) {
    zm_arena_init_sized(ar, backing, ZM_ARENA_DEFAULT_BLOCK);
}

/* Runs cleanups registered after stop, most recent first. */
static void run_cleanups(zm_arena *ar, zm_arena_cleanup *stop) {
    while (ar->cleanups != NULL && ar->cleanups != stop) {
        zm_arena_cleanup *c = ar->cleanups;
        ar->cleanups = c->prev;
        c->fn(c->arg);
    }
}

static void free_blocks(zm_arena *ar, zm_arena_block *b) {
    while (b != NULL) {
        zm_arena_block *next = b->next;
        ar->capacity -= b->size - HEADER_SIZE;
        UNPOISON(block_start(b), b->size - HEADER_SIZE);
        zm_free(ar->backing, b, b->size, BLOCK_ALIGN);
        b = next;
    }
}

static void enter_block(zm_arena *ar, zm_arena_block *b) {
    ar->cur = b;
    ar->limit = b ? block_end(b) : NULL;
    set_ptr(ar, b ? block_start(b) : NULL);
    ar->last = NULL;
}

/* Poisons every byte of the blocks from b on (AddressSanitizer builds). */
static void poison_from(zm_arena_block *b) {
    for (; b != NULL; b = b->next) POISON(block_start(b), b->size - HEADER_SIZE);
}

void zm_arena_deinit(zm_arena *ar) {
    run_cleanups(ar, NULL);
    free_blocks(ar, ar->first);
    ar->first = NULL;
    enter_block(ar, NULL);
}

/* ---------------------------------------------------------------------------
 * Allocation
 * ------------------------------------------------------------------------- */

/* Bumps len bytes at align from start up to end, or returns 0 if they don't fit. */
static uintptr_t fit(uintptr_t start, uintptr_t end, size_t len, size_t align) {
    uintptr_t p = (start + (align - 1)) & ~(uintptr_t)(align - 1);
    if (p < start || p > end || len > end - p) return 0;
    return p;
}

static void *hand_out(zm_arena *ar, uintptr_t p, size_t len) {
    ar->last = (char *)p;
    set_ptr(ar, (char *)(p + len));
    UNPOISON((void *)p, len);
    return (void *)p;
}

/* Bumps len bytes at align out of block b from its start, making it current,
   or returns NULL if they don't fit. */
static void *bump_in(zm_arena *ar, zm_arena_block *b, size_t len, size_t align) {
    uintptr_t p = fit((uintptr_t)block_start(b), (uintptr_t)block_end(b), len, align);
    if (p == 0) return NULL;
    enter_block(ar, b);
    return hand_out(ar, p, len);
}

/* The out-of-line path of every allocation; ra is where it was requested. */
static void *alloc_slow(zm_arena *ar, size_t len, size_t align, uintptr_t ra) {
    if (!zm_is_valid_align(align)) return NULL;
    if (len == 0) return (void *)(uintptr_t)align;
    recheck_counted(ar);
    if (ar->counted && !zm__chain_attempt(ar->backing, ZM_FAILING_SITE_ARENA, false, len, ra))
        return NULL;

    /* The current block, when the fast path was not allowed to use it. */
    if (ar->cur != NULL) {
        uintptr_t p = fit((uintptr_t)ar->ptr, (uintptr_t)ar->limit, len, align);
        if (p != 0) return hand_out(ar, p, len);
    }

    /* A block kept by a retaining reset or a restore comes next: reuse it. */
    zm_arena_block *next = ar->cur ? ar->cur->next : ar->first;
    if (next != NULL) {
        void *p = bump_in(ar, next, len, align);
        if (p != NULL) return p;
    }

    /* A new block, sized for the request and at least the geometric step. */
    size_t pad = align > BLOCK_ALIGN ? align - 1 : 0;
    if (len > SIZE_MAX - HEADER_SIZE - pad) return NULL;
    size_t need = HEADER_SIZE + pad + len;
    size_t grow = ar->capacity < MAX_GROW_BLOCK ? ar->capacity : MAX_GROW_BLOCK;
    size_t size = grow > ar->block_size ? grow : ar->block_size;
    if (need > size) size = need;
    zm_arena_block *b = zm_alloc(ar->backing, size, BLOCK_ALIGN);
    if (b == NULL) return NULL;
    b->size = size;
    ar->capacity += size - HEADER_SIZE;
    POISON(block_start(b), size - HEADER_SIZE);
    /* Insert after the current block so that retained blocks stay in use order. */
    if (ar->cur == NULL) {
        b->next = ar->first;
        ar->first = b;
    } else {
        b->next = ar->cur->next;
        ar->cur->next = b;
    }
    return bump_in(ar, b, len, align);
}

void *zm__arena_alloc_slow(zm_arena *ar, size_t len, size_t align) {
    return alloc_slow(ar, len, align, ZM_RET_ADDR());
}

/* zm_arena_alloc for the functions here, passing on their caller's address. */
static inline void *alloc_from(zm_arena *ar, size_t len, size_t align, uintptr_t ra) {
    uintptr_t cur = (uintptr_t)ar->ptr, end = (uintptr_t)ar->end;
    uintptr_t p = (cur + (align - 1)) & ~(uintptr_t)(align - 1);
    if (ZM_LIKELY(zm_is_valid_align(align) && p >= cur && p <= end && len - 1 < end - p)) {
        ar->last = (char *)p;
        ar->ptr = (char *)(p + len);
        return (void *)p;
    }
    return alloc_slow(ar, len, align, ra);
}

char *zm_arena_strndup(zm_arena *ar, const char *s, size_t len) {
    if (len == SIZE_MAX) return NULL;
    char *p = alloc_from(ar, len + 1, 1, ZM_RET_ADDR());
    if (p == NULL) return NULL;
    if (len) memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *zm_arena_vprintf(zm_arena *ar, const char *fmt, va_list ap) {
    /* Short text is formatted once, on the stack, and copied; longer text is
       measured there and formatted again into its block. */
    char tmp[256];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    char *p = n < 0 ? NULL : zm_arena_alloc(ar, (size_t)n + 1, 1);
    if (p != NULL) {
        if ((size_t)n < sizeof tmp)
            memcpy(p, tmp, (size_t)n + 1);
        else
            vsnprintf(p, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    return p;
}

char *zm_arena_printf(zm_arena *ar, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *p = zm_arena_vprintf(ar, fmt, ap);
    va_end(ap);
    return p;
}

/* ---------------------------------------------------------------------------
 * The allocator view
 * ------------------------------------------------------------------------- */

static bool is_latest(const zm_arena *ar, const char *p, size_t len) {
    return p == ar->last && p + len == ar->ptr;
}

/* zm_arena_alloc's fast path without its argument checks: at the vtable, len
   is never 0 and align is a power of two. */
static void *arena_vt_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    zm_arena *ar = ctx;
    uintptr_t cur = (uintptr_t)ar->ptr, end = (uintptr_t)ar->end;
    uintptr_t p = (cur + (align - 1)) & ~(uintptr_t)(align - 1);
    if (ZM_LIKELY(p >= cur && p <= end && len <= end - p)) {
        ar->last = (char *)p;
        ar->ptr = (char *)(p + len);
        return (void *)p;
    }
    return alloc_slow(ar, len, align, ra);
}

static bool arena_vt_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                            uintptr_t ra) {
    (void)align;
    zm_arena *ar = ctx;
    char *p = ptr;
    if (ar->counted && !zm__chain_attempt(ar->backing, ZM_FAILING_SITE_ARENA, true, new_len, ra))
        return false;
    if (!is_latest(ar, p, len)) return new_len <= len;
    if (new_len > (size_t)(ar->limit - p)) return false;
    if (new_len > len)
        UNPOISON(p + len, new_len - len);
    else
        POISON(p + new_len, len - new_len);
    set_ptr(ar, p + new_len);
    return true;
}

static void *arena_vt_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                            uintptr_t ra) {
    return arena_vt_resize(ctx, ptr, len, align, new_len, ra) ? ptr : NULL;
}

static void arena_vt_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    (void)align, (void)ra;
    zm_arena *ar = ctx;
    if (is_latest(ar, ptr, len)) {
        POISON(ptr, len);
        set_ptr(ar, ptr);
        ar->last = NULL;
    }
}

const zm_allocator_vtable zm__arena_vtable = {arena_vt_alloc, arena_vt_resize, arena_vt_remap,
                                              arena_vt_free};

zm_allocator zm_arena_allocator(zm_arena *ar) {
    return (zm_allocator){ar, &zm__arena_vtable};
}

/* ---------------------------------------------------------------------------
 * Reset, savepoints, cleanups, accounting
 * ------------------------------------------------------------------------- */

bool zm_arena_reset(zm_arena *ar, zm_arena_reset_mode mode, size_t limit) {
    run_cleanups(ar, NULL);
    ar->counted = zm__chain_counts(ar->backing);
    if (mode == ZM_ARENA_FREE_ALL) {
        free_blocks(ar, ar->first);
        ar->first = NULL;
        enter_block(ar, NULL);
        return true;
    }
    if (mode == ZM_ARENA_RETAIN_CAPACITY) limit = SIZE_MAX;

    bool ok = true;
    zm_arena_block **link = &ar->first;
    size_t kept = 0;
    while (*link != NULL && (*link)->size <= limit - kept) {
        kept += (*link)->size;
        link = &(*link)->next;
    }
    zm_arena_block *rest = *link;
    *link = NULL;
    if (ar->first == NULL && rest != NULL) {
        /* The first block alone is over the limit: shrink it in place if the
           backing allocator can, else give it back too. */
        zm_arena_block *b = rest;
        UNPOISON(block_start(b), b->size - HEADER_SIZE);
        if (limit >= HEADER_SIZE + 64 && zm_resize(ar->backing, b, b->size, BLOCK_ALIGN, limit)) {
            rest = b->next;
            ar->capacity -= b->size - limit;
            b->size = limit;
            b->next = NULL;
            ar->first = b;
        } else {
            ok = limit < HEADER_SIZE + 64; /* nothing useful could be kept */
        }
    }
    free_blocks(ar, rest);
    poison_from(ar->first);
    enter_block(ar, ar->first);
    return ok;
}

size_t zm_arena_capacity(const zm_arena *ar) {
    return ar->capacity;
}

size_t zm_arena_used(const zm_arena *ar) {
    if (ar->cur == NULL) return 0;
    size_t used = 0;
    for (zm_arena_block *b = ar->first; b != ar->cur; b = b->next) used += b->size - HEADER_SIZE;
    return used + (size_t)(ar->ptr - block_start(ar->cur));
}

zm_arena_mark zm_arena_save(const zm_arena *ar) {
    return (zm_arena_mark){ar->cur, ar->ptr, ar->cleanups};
}

void zm_arena_restore(zm_arena *ar, zm_arena_mark mark) {
    run_cleanups(ar, mark.cleanups);
    ar->counted = zm__chain_counts(ar->backing);
    if (mark.block == NULL) {
        poison_from(ar->first);
        enter_block(ar, NULL);
        return;
    }
    enter_block(ar, mark.block);
    set_ptr(ar, mark.ptr);
    POISON(mark.ptr, (size_t)(ar->limit - mark.ptr));
    poison_from(mark.block->next);
}

zm_status zm_arena_on_reset(zm_arena *ar, void (*fn)(void *arg), void *arg) {
    if (fn == NULL) return ZM_EINVAL;
    zm_arena_cleanup *c = alloc_from(ar, sizeof *c, alignof(zm_arena_cleanup), ZM_RET_ADDR());
    if (c == NULL) return ZM_ENOMEM;
    c->fn = fn;
    c->arg = arg;
    c->prev = ar->cleanups;
    ar->cleanups = c;
    return ZM_OK;
}
