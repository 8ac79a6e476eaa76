/* Fuzz harness: a program of allocator operations checked against a shadow
 * model.
 *
 * The input's first bytes pick an allocator and its set-up; the rest is a
 * program of steps (alloc, resize, remap, realloc, free, reset, save, restore,
 * cleanup registration, checks) over 64 slots. The model knows every live
 * block's length, alignment and contents (a pattern written at allocation and
 * growth) and checks after each step that:
 *  - blocks are aligned and no two live blocks overlap;
 *  - contents survive resize, remap, realloc and other blocks' operations;
 *  - every free, resize and remap the allocator makes on its backing allocator
 *    carries the exact length and alignment (the tracking allocator);
 *  - each allocator keeps the promises its header makes (an arena's in-place
 *    rules, reset capacity, savepoints, cleanup order);
 *  - at the end, everything taken from a backing allocator was given back.
 */
#include <stdbool.h>

#include "fuzz_common.h"
#include "zmem/arena.h"
#include "zmem/debug.h"
#include "zmem/failing.h"
#include "zmem/fixed_buffer.h"
#include "zmem/heap.h"
#include "zmem/locked.h"
#include "zmem/pool.h"
#include "zmem/stack_fallback.h"

#define SLOTS      64
#define MAX_MARKS  8
#define MAX_CLEAN  32
#define MAX_STEPS  4096
#define LIVE_LIMIT ((size_t)4 << 20) /* bytes the model lets be live at once */

typedef enum kind {
    K_ARENA_C,    /* an arena over the (tracked) libc allocator */
    K_ARENA_PAGE, /* an arena over the (tracked) page allocator */
    K_C,
    K_PAGE,
    K_MIMALLOC,    /* the default allocator: mimalloc unless ZMEM_ALLOCATOR=c */
    K_DEBUG,       /* the debug allocator over libc */
    K_ARENA_DEBUG, /* an arena over the debug allocator (guards around its blocks) */
    K_FAILING,     /* the failing allocator over libc */
    K_POOL,        /* a pool over libc (sizes, alignment and cap from the set-up) */
    K_FIXED,       /* a fixed buffer (size and misalignment from the set-up) */
    K_STACK_FB,    /* a stack fallback: a small fixed buffer, then libc */
    K_HEAP,        /* a heap: mimalloc's, or a list heap when ZMEM_ALLOCATOR=c */
    K_HEAP_LIST,   /* a list heap over libc */
    K_LOCKED,      /* an arena behind a zm_locked */
    K_COUNT
} kind;

typedef struct slot {
    unsigned char *p; /* NULL = empty */
    size_t len, align;
    size_t seed;  /* offset into pattern */
    uint64_t seq; /* allocation order, for savepoints */
} slot;

typedef struct mark {
    zm_arena_mark m;
    uint64_t seq;       /* blocks with seq >= this die at restore */
    size_t used;        /* zm_arena_used at save time */
    size_t cleanups;    /* cleanups registered at save time */
    size_t lens[SLOTS]; /* lengths at save time: growth since is undone */
} mark;

typedef struct model {
    kind k;
    zm_allocator a;   /* the allocator under test */
    fz_track backing; /* what the allocator under test draws from, tracked */
    zm_debug dbg;
    zm_failing fail;
    bool has_dbg, has_fail;
    bool bump; /* the latest block can grow, shrink and be freed in place */
    zm_pool pool;
    bool is_pool;
    size_t preheated; /* pool: creates left that must make no backing call */
    zm_fixed_buffer fb;
    bool is_fixed;
    zm_stack_fallback sf;
    bool is_sf;
    zm_heap heap;
    bool is_heap, heap_bulk;
    zm_locked lk;
    bool has_lock;
    zm_arena ar;
    bool arena;
    slot s[SLOTS];
    size_t live; /* bytes live in the model */
    uint64_t seq;
    int latest;                  /* arena: slot of the latest allocation, or -1 */
    unsigned char *freed_latest; /* arena: where the freed latest block was */
    size_t freed_len, freed_align;
    mark marks[MAX_MARKS];
    int nmarks;
    /* cleanups: ids registered, in order; and the log of ids run */
    int clean_ids[MAX_CLEAN];
    size_t nclean;
    int ran[MAX_CLEAN];
    size_t nran;
} model;

static model *g_model; /* for the cleanup callback */

/* True when a failure was induced on purpose, so that a NULL is expected. */
static bool induced(const model *m) {
    return m->backing.failures > 0 || (m->has_fail && m->fail.has_induced_failure);
}

static void on_cleanup(void *arg) {
    model *m = g_model;
    FZ_CHECKF(m->nran < MAX_CLEAN, "more cleanups ran than were registered");
    m->ran[m->nran++] = (int)(intptr_t)arg;
}

/* ---------------------------------------------------------------------------
 * Contents
 * ------------------------------------------------------------------------- */

/* Block contents: a block with seed s holds the bytes of pattern[s...]. One
   buffer of pseudo-random bytes, made once, so that fill and verify are
   memcpy and memcmp (fast, and not traced byte by byte). */
#define MAX_LEN ((size_t)1 + 65535 * 4)
#define SEEDS   4096
static uint8_t pattern[MAX_LEN + SEEDS];

static void pattern_init(void) {
    if (pattern[0] == 0x5a) return;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < sizeof pattern; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        pattern[i] = (uint8_t)(x >> 24);
    }
    pattern[0] = 0x5a;
}

static void fill(slot *s, size_t from, size_t to) {
    memcpy(s->p + from, pattern + s->seed + from, to - from);
}

static void verify(const slot *s, size_t upto, const char *when) {
    if (memcmp(s->p, pattern + s->seed, upto) == 0) return;
    for (size_t i = 0; i < upto; i++)
        FZ_CHECKF(s->p[i] == pattern[s->seed + i],
                  "%s: block %p (len %zu) byte %zu is %02x, expected %02x", when, (void *)s->p,
                  s->len, i, s->p[i], pattern[s->seed + i]);
}

static void verify_all(model *m, const char *when) {
    for (int i = 0; i < SLOTS; i++)
        if (m->s[i].p) verify(&m->s[i], m->s[i].len, when);
}

/* Checks that slot i is aligned and overlaps no other live block. */
static void check_place(model *m, int i) {
    slot *s = &m->s[i];
    FZ_CHECKF(((uintptr_t)s->p & (s->align - 1)) == 0, "block %p not aligned to %zu", (void *)s->p,
              s->align);
    uintptr_t a0 = (uintptr_t)s->p, a1 = a0 + s->len;
    FZ_CHECKF(a1 > a0, "block %p of %zu bytes wraps around", (void *)s->p, s->len);
    for (int j = 0; j < SLOTS; j++) {
        if (j == i || m->s[j].p == NULL) continue;
        uintptr_t b0 = (uintptr_t)m->s[j].p, b1 = b0 + m->s[j].len;
        FZ_CHECKF(a1 <= b0 || b1 <= a0, "block %p+%zu overlaps live block %p+%zu", (void *)s->p,
                  s->len, (void *)m->s[j].p, m->s[j].len);
    }
}

/* ---------------------------------------------------------------------------
 * Choices from the input
 * ------------------------------------------------------------------------- */

static size_t pick_len(fz_in *in) {
    uint8_t c = fz_u8(in);
    uint16_t v = fz_u16(in);
    switch (c >> 6) {
    case 0: return 1 + v % 64;
    case 1: return 1 + v % 1024;
    case 2: return 1 + v % 16384;
    default: return 1 + (size_t)v * 4; /* up to 256 KiB */
    }
}

static size_t pick_align(fz_in *in) {
    uint8_t c = fz_u8(in);
    if (c < 200) return (size_t)1 << (c % 5); /* 1 .. 16 */
    return (size_t)1 << (5 + c % 8);          /* 32 .. 4096 */
}

/* ---------------------------------------------------------------------------
 * Steps
 * ------------------------------------------------------------------------- */

static void drop(model *m, int i) {
    m->live -= m->s[i].len;
    m->s[i].p = NULL;
    if (m->latest == i) m->latest = -1;
}

/* What the allocator under test must answer to alloc(len, align): 1 a
   block, 0 NULL, -1 either (an induced failure may intervene). */
static int expect_alloc(model *m, size_t len, size_t align) {
    if (induced(m)) return -1;
    if (m->is_pool) {
        if (len != m->pool.item_size || align > m->pool.item_align) return 0;
        if (m->pool.max_items && zm_pool_live(&m->pool) == m->pool.max_items) return 0;
        return 1;
    }
    if (m->is_fixed) {
        uintptr_t start = (uintptr_t)m->fb.buf + m->fb.used, end = (uintptr_t)m->fb.buf + m->fb.len;
        uintptr_t p = (start + align - 1) & ~(uintptr_t)(align - 1);
        return p >= start && p <= end && len <= end - p;
    }
    return 1;
}

static void step_alloc(model *m, fz_in *in, int direct) {
    int i = fz_u8(in) % SLOTS;
    size_t len = pick_len(in), align = pick_align(in);
    if (m->is_pool && (fz_u8(in) & 3) != 0) {
        /* Mostly the pool's own size. */
        len = m->pool.item_size;
        if (align > m->pool.item_align) align = m->pool.item_align;
    }
    if (m->s[i].p != NULL) return;
    if (m->live + len > LIVE_LIMIT) return;
    int want = expect_alloc(m, len, align);
    size_t calls = m->backing.calls;
    unsigned char *p;
    if (m->arena && direct)
        p = zm_arena_alloc(&m->ar, len, align);
    else if (m->is_pool && direct && len == m->pool.item_size && align <= m->pool.item_align)
        p = zm_pool_create(&m->pool);
    else
        p = zm_alloc(m->a, len, align);
    fz_trace("alloc slot %d len %zu align %zu%s -> %p", i, len, align, direct ? " direct" : "",
             (void *)p);
    if (m->freed_latest != NULL) {
        /* A bump allocator's latest block, once freed, is given out again for
           the same request; a pool gives the last destroyed item first. */
        if (p != NULL && len == m->freed_len && align == m->freed_align)
            FZ_CHECKF(p == m->freed_latest, "freed block %p not reused (got %p for %zu bytes)",
                      (void *)m->freed_latest, (void *)p, len);
        m->freed_latest = NULL;
    }
    if (want >= 0 && !induced(m))
        FZ_CHECKF((p != NULL) == want, "alloc of %zu bytes (align %zu) %s", len, align,
                  p ? "succeeded where it cannot" : "failed");
    if (m->is_pool && p != NULL && m->preheated > 0) {
        FZ_CHECKF(m->backing.calls == calls,
                  "pool: a preheated create called the backing allocator");
        m->preheated--;
    }
    if (p == NULL) return;
    if (m->is_fixed)
        FZ_CHECKF(zm_fixed_buffer_owns(&m->fb, p) && zm_fixed_buffer_owns(&m->fb, p + len - 1),
                  "fixed buffer: block %p+%zu outside the buffer", (void *)p, len);
    m->s[i] = (slot){p, len, align, (size_t)(m->seq * 67 % SEEDS), m->seq};
    m->seq++;
    m->live += len;
    fill(&m->s[i], 0, len);
    check_place(m, i);
    if (m->bump) m->latest = i;
}

/* How: 0 resize, 1 remap, 2 realloc. */
static void step_change(model *m, fz_in *in, int how) {
    int i = fz_u8(in) % SLOTS;
    size_t new_len = pick_len(in);
    slot *s = &m->s[i];
    if (s->p == NULL) return;
    if (new_len > s->len && m->live + (new_len - s->len) > LIVE_LIMIT) return;
    size_t old_len = s->len;
    verify(s, old_len, "before resize");
    bool was_latest = m->latest == i;
    m->freed_latest = NULL;
    unsigned char *q;
    if (how == 0) {
        q = zm_resize(m->a, s->p, old_len, s->align, new_len) ? s->p : NULL;
        if (m->bump && new_len <= old_len)
            FZ_CHECKF(q != NULL, "shrinking a block in place failed");
        if (m->is_pool && new_len != old_len) FZ_CHECKF(q == NULL, "pool: an item was resized");
    } else if (how == 1) {
        q = zm_remap(m->a, s->p, old_len, s->align, new_len);
        if (m->bump) FZ_CHECKF(q == NULL || q == s->p, "remap moved a bump allocator's block");
        if (m->is_pool && new_len != old_len) FZ_CHECKF(q == NULL, "pool: an item was remapped");
    } else {
        q = zm_realloc(m->a, s->p, old_len, new_len, s->align);
        if (q == NULL)
            FZ_CHECKF(induced(m) || m->is_pool || m->is_fixed, "realloc to %zu bytes failed",
                      new_len);
    }
    fz_trace("%s slot %d %p len %zu -> %zu%s -> %p",
             how == 0   ? "resize"
             : how == 1 ? "remap"
                        : "realloc",
             i, (void *)s->p, old_len, new_len, was_latest ? " (latest)" : "", (void *)q);
    if (m->bump && !was_latest && new_len > old_len && how != 2)
        FZ_CHECKF(q == NULL, "a block that is not the latest grew in place");
    if (q == NULL) {
        verify(s, old_len, "after a failed resize");
        return;
    }
    uint64_t seq = s->seq;
    if (how == 2 && q != s->p) {
        /* A moved block is a new allocation as far as savepoints go. */
        seq = m->seq++;
        if (m->bump) m->latest = i;
    }
    m->live = m->live - old_len + new_len;
    s->p = q;
    s->len = new_len;
    s->seq = seq;
    size_t keep = old_len < new_len ? old_len : new_len;
    verify(s, keep, "after resize");
    fill(s, keep, new_len);
    check_place(m, i);
}

static void step_free(model *m, fz_in *in) {
    int i = fz_u8(in) % SLOTS;
    slot *s = &m->s[i];
    if (s->p == NULL) return;
    verify(s, s->len, "before free");
    bool was_latest = m->latest == i;
    unsigned char *p = s->p;
    size_t len = s->len, align = s->align;
    if (m->is_pool && (s->seq & 1))
        zm_pool_destroy(&m->pool, p);
    else
        zm_free(m->a, p, len, align);
    fz_trace("free slot %d %p len %zu%s", i, (void *)p, len, was_latest ? " (latest)" : "");
    drop(m, i);
    m->freed_latest = NULL;
    if ((m->bump && was_latest) || m->is_pool) {
        m->freed_latest = p;
        m->freed_len = len;
        m->freed_align = align;
    }
    /* A fixed buffer's latest block is the one that ends where its free
       space starts: once the latest is freed, a block that ends right where
       it began is the latest again (an arena remembers only the one it
       handed out last). */
    if (m->is_fixed && was_latest)
        for (int j = 0; j < SLOTS; j++)
            if (m->s[j].p != NULL && m->s[j].p + m->s[j].len == p) m->latest = j;
}

static void check_cleanups_ran(model *m, size_t keep) {
    /* The ones registered after keep ran, last registered first. */
    size_t expect = m->nclean - keep;
    FZ_CHECKF(m->nran == expect, "%zu cleanup(s) ran, expected %zu", m->nran, expect);
    for (size_t k = 0; k < expect; k++)
        FZ_CHECKF(m->ran[k] == m->clean_ids[m->nclean - 1 - k],
                  "cleanup %zu ran out of order (id %d, expected %d)", k, m->ran[k],
                  m->clean_ids[m->nclean - 1 - k]);
    m->nclean = keep;
    m->nran = 0;
}

static void step_reset(model *m, fz_in *in) {
    uint8_t c = fz_u8(in);
    size_t limit = (size_t)fz_u16(in) * 16;
    if (m->is_pool || m->is_fixed) {
        for (int i = 0; i < SLOTS; i++)
            if (m->s[i].p) drop(m, i);
        m->latest = -1;
        m->freed_latest = NULL;
        if (m->is_pool) {
            size_t calls = m->backing.calls;
            zm_pool_reset(&m->pool);
            FZ_CHECK(zm_pool_live(&m->pool) == 0);
            FZ_CHECK(m->backing.calls == calls);
            m->preheated = zm_pool_capacity(&m->pool); /* creates up to it need no call */
        } else {
            zm_fixed_buffer_reset(&m->fb);
            FZ_CHECK(zm_fixed_buffer_used(&m->fb) == 0);
        }
        fz_trace("reset");
        return;
    }
    if (!m->arena) return;
    zm_arena_reset_mode mode = c % 3 == 0   ? ZM_ARENA_FREE_ALL
                               : c % 3 == 1 ? ZM_ARENA_RETAIN_CAPACITY
                                            : ZM_ARENA_RETAIN_WITH_LIMIT;
    size_t cap_before = zm_arena_capacity(&m->ar);
    zm_arena_reset(&m->ar, mode, limit);
    fz_trace("reset mode %d limit %zu", (int)mode, limit);
    for (int i = 0; i < SLOTS; i++)
        if (m->s[i].p) drop(m, i);
    m->nmarks = 0;
    m->latest = -1;
    m->freed_latest = NULL;
    check_cleanups_ran(m, 0);
    FZ_CHECK(zm_arena_used(&m->ar) == 0);
    size_t cap = zm_arena_capacity(&m->ar);
    /* What the arena holds of the allocator right under it. */
    size_t held_blocks = m->has_dbg ? m->dbg.live_blocks : m->backing.live_blocks;
    size_t held_bytes = m->has_dbg ? m->dbg.live_bytes : m->backing.live_bytes;
    if (mode == ZM_ARENA_FREE_ALL) {
        FZ_CHECK(cap == 0);
        FZ_CHECKF(held_blocks == 0, "arena: free_all reset kept %zu backing block(s)", held_blocks);
    } else if (mode == ZM_ARENA_RETAIN_CAPACITY) {
        FZ_CHECKF(cap == cap_before, "arena: retain_capacity reset changed capacity %zu -> %zu",
                  cap_before, cap);
    } else {
        FZ_CHECKF(cap <= limit, "arena: reset with limit %zu kept %zu bytes", limit, cap);
        FZ_CHECKF(held_bytes <= limit, "arena: reset with limit %zu kept %zu backing bytes", limit,
                  held_bytes);
    }
}

static void step_save(model *m, fz_in *in) {
    if (m->is_pool) {
        size_t n = fz_u8(in) % 64;
        zm_status st = zm_pool_preheat(&m->pool, n);
        fz_trace("preheat %zu -> %s", n, zm_status_name(st));
        if (st == ZM_OK) {
            if (n > m->preheated) m->preheated = n;
        } else if (st == ZM_ELIMIT) {
            FZ_CHECK(m->pool.max_items != 0 && n > m->pool.max_items - zm_pool_live(&m->pool));
        } else {
            FZ_CHECKF(st == ZM_ENOMEM && induced(m), "preheat failed: %s", zm_status_name(st));
        }
        return;
    }
    if (!m->arena || m->nmarks == MAX_MARKS) return;
    mark *mk = &m->marks[m->nmarks++];
    mk->m = zm_arena_save(&m->ar);
    fz_trace("save #%d", m->nmarks - 1);
    mk->seq = m->seq;
    mk->used = zm_arena_used(&m->ar);
    mk->cleanups = m->nclean;
    for (int i = 0; i < SLOTS; i++) mk->lens[i] = m->s[i].p ? m->s[i].len : 0;
}

static void step_restore(model *m, fz_in *in) {
    uint8_t c = fz_u8(in);
    if (!m->arena || m->nmarks == 0) return;
    int k = c % m->nmarks;
    mark *mk = &m->marks[k];
    zm_arena_restore(&m->ar, mk->m);
    fz_trace("restore #%d", k);
    for (int i = 0; i < SLOTS; i++) {
        slot *s = &m->s[i];
        if (s->p == NULL) continue;
        if (s->seq >= mk->seq) {
            drop(m, i);
        } else if (s->len > mk->lens[i]) {
            /* Growth in place since the mark is memory allocated since the
               mark: the restore gives it back. */
            m->live -= s->len - mk->lens[i];
            s->len = mk->lens[i];
        }
    }
    m->nmarks = k + 1; /* later marks are past the restore point */
    m->latest = -1;
    m->freed_latest = NULL;
    check_cleanups_ran(m, mk->cleanups);
    FZ_CHECKF(zm_arena_used(&m->ar) == mk->used, "arena: used is %zu after restore, %zu at save",
              zm_arena_used(&m->ar), mk->used);
}

static void step_cleanup(model *m, fz_in *in) {
    uint8_t id = fz_u8(in);
    if (!m->arena || m->nclean == MAX_CLEAN) return;
    zm_status st = zm_arena_on_reset(&m->ar, on_cleanup, (void *)(intptr_t)id);
    fz_trace("on_reset id %d -> %d", id, (int)st);
    if (st == ZM_OK) {
        m->clean_ids[m->nclean++] = id;
        m->latest = -1; /* the record is the arena's latest allocation now */
    } else {
        FZ_CHECKF(st == ZM_ENOMEM && induced(m), "on_reset failed: %d", (int)st);
    }
    m->freed_latest = NULL;
}

static void step_edge(model *m, fz_in *in) {
    uint8_t c = fz_u8(in);
    fz_trace("edge case %d", c % 4);
    switch (c % 4) {
    case 0: FZ_CHECK(zm_alloc(m->a, 0, 8) == (void *)(uintptr_t)8); break;
    case 1: FZ_CHECK(zm_alloc(m->a, 16, 3) == NULL); break;
    case 2: FZ_CHECK(zm_alloc_n(m->a, SIZE_MAX / 2, 4, 1) == NULL); break;
    default:
        if (m->arena) {
            char *s = zm_arena_strndup(&m->ar, "fuzz", 4);
            if (s != NULL) {
                FZ_CHECK(memcmp(s, "fuzz", 5) == 0);
                m->latest = -1;
            }
            m->freed_latest = NULL;
        }
        break;
    }
}

/* ---------------------------------------------------------------------------
 * The run
 * ------------------------------------------------------------------------- */

static void setup(model *m, fz_in *in) {
    memset(m, 0, sizeof *m);
    m->k = (kind)(fz_u8(in) % K_COUNT);
    uint8_t fail = fz_u8(in);
    uint8_t bs = fz_u8(in);
    fz_trace("kind %d fail %02x block %02x", (int)m->k, fail, bs);
    m->latest = -1;
    zm_allocator base = zm_c_allocator();
    if (m->k == K_ARENA_PAGE || m->k == K_PAGE) base = zm_page_allocator();
    /* ZMEM_ALLOCATOR=c asks for libc everywhere (valgrind runs set it:
       mimalloc's own blocks are invisible to memcheck). */
    if (m->k == K_MIMALLOC) base = zm_default_allocator();
    zm_allocator tracked = fz_track_init(&m->backing, base);
    switch (m->k) {
    case K_ARENA_C:
    case K_ARENA_PAGE:
    case K_LOCKED:
    case K_ARENA_DEBUG: {
        zm_allocator backing = tracked;
        if (m->k == K_ARENA_DEBUG) {
            zm_debug_options o = zm_debug_defaults();
            o.quarantine_bytes = (size_t)(bs & 0x30) << 12;
            zm_debug_init(&m->dbg, tracked, &o);
            m->has_dbg = true;
            backing = zm_debug_allocator(&m->dbg);
        }
        zm_arena_init_sized(&m->ar, backing, (size_t)64 << (bs % 12));
        m->a = zm_arena_allocator(&m->ar);
        m->arena = true;
        m->bump = true;
        if (m->k == K_LOCKED) {
            FZ_CHECK(zm_locked_init(&m->lk, m->a) == ZM_OK);
            m->has_lock = true;
            m->a = zm_locked_allocator(&m->lk);
        }
        if (fail & 0x80) fz_track_fail_at(&m->backing, fail & 0x1f, (fail & 0x40) != 0);
        break;
    }
    case K_DEBUG: {
        zm_debug_options o = zm_debug_defaults();
        o.quarantine_bytes = (size_t)(bs & 0x30) << 12;
        o.never_reuse = (bs & 0x40) != 0;
        zm_debug_init(&m->dbg, tracked, &o);
        m->has_dbg = true;
        m->a = zm_debug_allocator(&m->dbg);
        break;
    }
    case K_FAILING:
        zm_failing_init(&m->fail, tracked, fail, bs);
        m->has_fail = true;
        m->a = zm_failing_allocator(&m->fail);
        break;
    case K_POOL: {
        size_t size = 1 + bs % 128 + (bs >= 224 ? 1000 : 0);
        size_t align = (size_t)1 << ((fail >> 2) % 8);
        size_t max = (size_t)(fail & 3) * 8;
        FZ_CHECK(zm_pool_init(&m->pool, tracked, size, align, max) == ZM_OK);
        FZ_CHECK(m->pool.item_size >= size && m->pool.item_align >= align);
        m->is_pool = true;
        m->a = zm_pool_allocator(&m->pool);
        if (fail & 0x80) fz_track_fail_at(&m->backing, fail & 0x03, false);
        break;
    }
    case K_FIXED:
    case K_STACK_FB: {
        static unsigned char buf[(size_t)1 << 20];
        size_t off = fail & 15, len = (size_t)64 << (bs % 15);
        if (len > sizeof buf - off) len = sizeof buf - off;
        if (m->k == K_FIXED) {
            zm_fixed_buffer_init(&m->fb, buf + off, len);
            m->is_fixed = m->bump = true;
            m->a = zm_fixed_buffer_allocator(&m->fb);
        } else {
            zm_stack_fallback_init(&m->sf, buf + off, (size_t)64 << (bs % 7), tracked);
            m->is_sf = true;
            m->a = zm_stack_fallback_allocator(&m->sf);
        }
        break;
    }
    case K_HEAP:
    case K_HEAP_LIST:
        if (m->k == K_HEAP)
            FZ_CHECK(zm_heap_init(&m->heap) == ZM_OK);
        else
            zm_heap_init_backed(&m->heap, tracked);
        m->is_heap = true;
        m->heap_bulk = (bs & 1) != 0;
        m->a = zm_heap_allocator(&m->heap);
        break;
    default: m->a = tracked; break;
    }
}

static void teardown(model *m) {
    verify_all(m, "at the end");
    if (m->arena) {
        zm_arena_deinit(&m->ar);
        check_cleanups_ran(m, 0);
        if (m->has_lock) zm_locked_deinit(&m->lk);
    } else if (m->is_pool) {
        zm_pool_deinit(&m->pool); /* every item dies with it */
    } else if (m->is_heap) {
        /* A heap frees what is still live at deinit; or free each first. */
        if (!m->heap_bulk)
            for (int i = 0; i < SLOTS; i++)
                if (m->s[i].p) zm_free(m->a, m->s[i].p, m->s[i].len, m->s[i].align);
        zm_heap_deinit(&m->heap);
    } else if (!m->is_fixed) {
        for (int i = 0; i < SLOTS; i++)
            if (m->s[i].p) zm_free(m->a, m->s[i].p, m->s[i].len, m->s[i].align);
    }
    if (m->has_dbg) {
        FZ_CHECKF(m->dbg.counts.errors == 0, "debug allocator saw %zu misuse(s): %s",
                  m->dbg.counts.errors, m->dbg.first_error);
        FZ_CHECKF(m->dbg.live_blocks == 0, "%zu block(s) live in the debug allocator",
                  m->dbg.live_blocks);
        size_t leaks = zm_debug_deinit(&m->dbg);
        FZ_CHECKF(leaks == 0, "debug allocator: %zu leak(s)", leaks);
    }
    if (m->has_fail)
        FZ_CHECKF(m->fail.allocated_bytes == m->fail.freed_bytes,
                  "failing allocator: %zu bytes allocated, %zu freed", m->fail.allocated_bytes,
                  m->fail.freed_bytes);
    fz_track_finish(&m->backing, "backing allocator at the end");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static model m;
    fz_in in = {data, size};
    pattern_init();
    g_model = &m;
    setup(&m, &in);
    for (int n = 0; n < MAX_STEPS && in.n > 0; n++) {
        uint8_t op = fz_u8(&in);
        switch (op % 16) {
        case 0:
        case 1:
        case 2: step_alloc(&m, &in, 0); break;
        case 3: step_alloc(&m, &in, 1); break;
        case 4:
        case 5: step_change(&m, &in, 0); break;
        case 6: step_change(&m, &in, 1); break;
        case 7: step_change(&m, &in, 2); break;
        case 8:
        case 9: step_free(&m, &in); break;
        case 10: step_reset(&m, &in); break;
        case 11: step_save(&m, &in); break;
        case 12: step_restore(&m, &in); break;
        case 13: step_cleanup(&m, &in); break;
        case 14: step_edge(&m, &in); break;
        default: verify_all(&m, "at a check step"); break;
        }
    }
    teardown(&m);
    return 0;
}
