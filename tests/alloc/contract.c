/* The allocator contract suite; see contract.h. */
#include "contract.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "test.h"

/* ---------------------------------------------------------------------------
 * Reporting: every failure names the allocator and what was being done.
 * ------------------------------------------------------------------------- */

static const char *cur_name;
static char cur_what[160];
static int run_failures;

#define CC(cond)                                                                                   \
    do {                                                                                           \
        zt_checks++;                                                                               \
        if (!(cond)) {                                                                             \
            zt_failures++;                                                                         \
            if (run_failures++ < 40)                                                               \
                fprintf(stderr, "%s:%d: [%s] %s: check failed: %s\n", __FILE__, __LINE__,          \
                        cur_name, cur_what, #cond);                                                \
        }                                                                                          \
    } while (0)

#define WHAT(...) snprintf(cur_what, sizeof cur_what, __VA_ARGS__)

/* ---------------------------------------------------------------------------
 * Patterns. Small blocks are written whole; large ones at their first and
 * last 4 KiB and every 512th byte between, which keeps 1 MiB blocks cheap
 * under valgrind while still catching overlap and lost contents.
 * ------------------------------------------------------------------------- */

/* Blocks up to this length are written whole (smaller under valgrind). */
static size_t whole_max = 65536;

static bool marked(size_t i, size_t len) {
    return len <= whole_max || i < 4096 || i + 4096 >= len || i % 512 == 0;
}

static unsigned char pat(size_t i, unsigned seed) {
    return (unsigned char)(seed * 31u + i * 7u + (i >> 8) * 13u + 1u);
}

/* Writes the pattern of seed to bytes [from, len) of p. */
static void fill_from(void *p, size_t from, size_t len, unsigned seed) {
    unsigned char *b = p;
    for (size_t i = from; i < len; i++)
        if (marked(i, len)) b[i] = pat(i, seed);
}

static void fill(void *p, size_t len, unsigned seed) {
    fill_from(p, 0, len, seed);
}

/* True when bytes [0, n) of p still hold the pattern written for a block of
   length len (n <= len). */
static bool intact(const void *p, size_t n, size_t len, unsigned seed) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (marked(i, len) && b[i] != pat(i, seed)) return false;
    return true;
}

static bool aligned(const void *p, size_t align) {
    return ((uintptr_t)p & (align - 1)) == 0;
}

/* ---------------------------------------------------------------------------
 * A spy in front of the allocator: counts the calls that reach the vtable and
 * flags those that break the wrappers' promises (length 0, bad alignment).
 * ------------------------------------------------------------------------- */

typedef struct spy {
    zm_allocator a;
    size_t calls;
    size_t bad; /* calls with length 0 or an invalid alignment */
} spy;

/* Counts one call with these arguments. new_len is 1 for alloc and free. */
static void spy_note(spy *s, size_t len, size_t align, size_t new_len) {
    s->calls++;
    if (len == 0 || new_len == 0 || !zm_is_valid_align(align)) s->bad++;
}
static void *spy_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    spy *s = ctx;
    spy_note(s, len, align, 1);
    return s->a.vtable->alloc(s->a.ctx, len, align, ra);
}
static bool spy_resize(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    spy *s = ctx;
    spy_note(s, len, align, nl);
    return s->a.vtable->resize(s->a.ctx, p, len, align, nl, ra);
}
static void *spy_remap(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    spy *s = ctx;
    spy_note(s, len, align, nl);
    return s->a.vtable->remap(s->a.ctx, p, len, align, nl, ra);
}
static void spy_free(void *ctx, void *p, size_t len, size_t align, uintptr_t ra) {
    spy *s = ctx;
    spy_note(s, len, align, 1);
    s->a.vtable->free(s->a.ctx, p, len, align, ra);
}
static const zm_allocator_vtable spy_vt = {spy_alloc, spy_resize, spy_remap, spy_free};

static zm_allocator spy_on(spy *s, zm_allocator a) {
    memset(s, 0, sizeof *s);
    s->a = a;
    return (zm_allocator){s, &spy_vt};
}

/* ---------------------------------------------------------------------------
 * The suite
 * ------------------------------------------------------------------------- */

typedef struct suite {
    zm_allocator a;
    unsigned caps;
    size_t max_size, max_align;
    bool one_size;
    bool small; /* valgrind: fewer rounds */
} suite;

/* True when the allocator serves len bytes at align. */
static bool serves(const suite *t, size_t len, size_t align) {
    if (align > t->max_align || len > t->max_size) return false;
    return !t->one_size || len == t->max_size;
}

static const size_t sizes[] = {1,     2,      3,      5,       7,       8,      9,     15,    16,
                               17,    31,     32,     33,      63,      64,     65,    100,   127,
                               128,   129,    255,    256,     257,     511,    512,   513,   1000,
                               1023,  1024,   1025,   4095,    4096,    4097,   10000, 65535, 65536,
                               65537, 100000, 262144, 1000000, 1048575, 1048576};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* Every size at every alignment, all live at once per alignment, patterns
   written, read back after all are allocated, freed newest first. */
static void sizes_and_alignments(const suite *t) {
    void *blocks[NSIZES + 64];
    size_t lens[NSIZES + 64];
    for (size_t align = 1; align <= t->max_align; align *= 2) {
        size_t n = 0;
        if (t->one_size) {
            for (int i = 0; i < 64; i++) lens[n++] = t->max_size;
        } else {
            /* Under valgrind, blocks past 64 KiB only at alignments 1, 16 and
               4096: each costs valgrind milliseconds. */
            bool big = !t->small || align == 1 || align == 16 || align == 4096;
            for (size_t i = 0; i < NSIZES; i++)
                if (sizes[i] <= t->max_size && (big || sizes[i] <= 65536)) lens[n++] = sizes[i];
        }
        for (size_t i = 0; i < n; i++) {
            WHAT("alloc len %zu align %zu", lens[i], align);
            blocks[i] = zm_alloc(t->a, lens[i], align);
            CC(blocks[i] != NULL);
            if (blocks[i] == NULL) continue;
            CC(aligned(blocks[i], align));
            fill(blocks[i], lens[i], (unsigned)(i + align));
        }
        for (size_t i = 0; i < n; i++) {
            WHAT("read back len %zu align %zu", lens[i], align);
            if (blocks[i] != NULL) CC(intact(blocks[i], lens[i], lens[i], (unsigned)(i + align)));
        }
        for (size_t i = n; i-- > 0;) zm_free(t->a, blocks[i], lens[i], align);

        if (t->caps & ZC_LIFO_REUSE) {
            size_t len = t->one_size ? t->max_size : 100;
            WHAT("lifo reuse len %zu align %zu", len, align);
            void *p = zm_alloc(t->a, len, align);
            CC(p != NULL);
            zm_free(t->a, p, len, align);
            void *q = zm_alloc(t->a, len, align);
            CC(q == p);
            zm_free(t->a, q, len, align);
        }
    }
    /* What the allocator does not serve, it refuses (one-size allocators). */
    if (t->one_size) {
        WHAT("other sizes and alignments");
        CC(zm_alloc(t->a, t->max_size + 1, 1) == NULL);
        if (t->max_size > 1) CC(zm_alloc(t->a, t->max_size - 1, 1) == NULL);
        CC(zm_alloc(t->a, t->max_size, t->max_align * 2) == NULL);
    }
}

/* Zero-length requests: answered by the wrappers, never reaching the vtable. */
static void zero_length(const suite *t) {
    spy s;
    zm_allocator a = spy_on(&s, t->a);
    WHAT("zero length");
    void *p = zm_alloc(a, 0, 8);
    CC(p != NULL);
    CC(aligned(p, 8));
    zm_free(a, p, 0, 8);
    CC(zm_resize(a, p, 0, 8, 0));
    CC(!zm_resize(a, p, 0, 8, 16));
    CC(zm_remap(a, p, 0, 8, 16) == NULL);
    CC(zm_realloc(a, NULL, 0, 0, 8) != NULL);
    CC(zm_dupe(a, "x", 0) != NULL);
    CC(zm_alloc_array(a, uint64_t, 0) != NULL);
    CC(zm_alloc_n(a, 0, 8, 8) != NULL);
    CC(zm_alloc_n(a, 8, 0, 8) != NULL);
    zm_free_n(a, p, 0, 8, 8);
    CC(s.calls == 0);

    /* realloc from and to zero length: one alloc, one free. */
    size_t len = t->one_size ? t->max_size : 16;
    if (!serves(t, len, 8)) return;
    WHAT("realloc from/to zero length");
    char *q = zm_realloc(a, NULL, 0, len, 8);
    CC(q != NULL);
    if (q == NULL) return;
    fill(q, len, 5);
    CC(s.calls == 1);
    CC(zm_resize(a, q, len, 8, len)); /* same length: true, no call */
    CC(zm_remap(a, q, len, 8, len) == q);
    CC(zm_realloc(a, q, len, len, 8) == q);
    CC(s.calls == 1);
    CC(intact(q, len, len, 5));
    CC(zm_realloc(a, q, len, 0, 8) != NULL);
    CC(s.calls == 2);
    CC(s.bad == 0);
}

/* n * size overflow and invalid alignments fail in the wrappers; lengths no
   object can have (past PTRDIFF_MAX) fail in the allocator, cleanly. */
static void overflow_and_alignment(const suite *t) {
    spy s;
    zm_allocator a = spy_on(&s, t->a);
    WHAT("n * size overflow");
    CC(zm_alloc_array(a, uint64_t, SIZE_MAX / 4) == NULL);
    CC(zm_alloc_array(a, uint64_t, SIZE_MAX / 8 + 1) == NULL);
    CC(zm_alloc_n(a, SIZE_MAX / 2 + 1, 2, 1) == NULL);
    CC(zm_alloc_n(a, 3, SIZE_MAX / 3 + 1, 1) == NULL);
    CC(zm_alloc_n(a, SIZE_MAX, SIZE_MAX, 1) == NULL);
    CC(zm_strndup(a, "abc", SIZE_MAX) == NULL);
    CC(s.calls == 0);

    WHAT("invalid alignment");
    static const size_t bad_aligns[] = {0, 3, 6, 12, 24, 48, 100, 4095, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_aligns / sizeof bad_aligns[0]; i++) {
        CC(zm_alloc(a, 16, bad_aligns[i]) == NULL);
        CC(zm_alloc(a, 0, bad_aligns[i]) == NULL);
        CC(zm_realloc(a, NULL, 0, 16, bad_aligns[i]) == NULL);
        CC(zm_alloc_n(a, 2, 8, bad_aligns[i]) == NULL);
    }
    CC(s.calls == 0);

    WHAT("absurd lengths");
    CC(zm_alloc(t->a, SIZE_MAX, 1) == NULL);
    CC(zm_alloc(t->a, SIZE_MAX - 4095, 4096 <= t->max_align ? 4096 : 1) == NULL);
    CC(zm_alloc(t->a, (size_t)PTRDIFF_MAX + 1, 16 <= t->max_align ? 16 : 1) == NULL);
    CC(zm_alloc(t->a, SIZE_MAX / 2 + 1, 1) == NULL);

    /* A realloc that cannot succeed leaves the block as it was. */
    size_t len = t->one_size ? t->max_size : 64;
    WHAT("failed realloc");
    char *p = zm_alloc(t->a, len, 1);
    CC(p != NULL);
    if (p == NULL) return;
    fill(p, len, 9);
    CC(zm_realloc(t->a, p, len, SIZE_MAX, 1) == NULL);
    CC(zm_realloc(t->a, p, len, SIZE_MAX / 2 + 1, 1) == NULL);
    CC(zm_remap(t->a, p, len, 1, SIZE_MAX / 2 + 1) == NULL);
    CC(!zm_resize(t->a, p, len, 1, SIZE_MAX / 2 + 1));
    CC(intact(p, len, len, 9));
    zm_free(t->a, p, len, 1);
}

static const struct {
    size_t len, new_len;
} changes[] = {
    {1, 2},       {8, 16},          {16, 32},        {100, 50},
    {100, 101},   {1000, 4000},     {4096, 8192},    {4096, 100},
    {5000, 5001}, {65536, 1 << 20}, {1 << 20, 1000}, {1 << 20, (1 << 20) - 1},
};
#define NCHANGES (sizeof changes / sizeof changes[0])
static const size_t change_aligns[] = {1, 16, 64, 4096};

/* resize never moves: true means the same block now has the new length (its
   contents kept, the new part writable); false leaves it untouched. */
static void resize_semantics(const suite *t) {
    for (size_t ai = 0; ai < 4; ai++) {
        size_t align = change_aligns[ai];
        for (size_t i = 0; i < NCHANGES; i++) {
            size_t len = changes[i].len, new_len = changes[i].new_len;
            if (t->one_size) len = t->max_size, new_len = len + (i % 2 ? 1 : -1);
            if (!serves(t, len, align) || new_len == 0) continue;
            WHAT("resize %zu -> %zu align %zu", len, new_len, align);
            char *p = zm_alloc(t->a, len, align);
            CC(p != NULL);
            if (p == NULL) continue;
            fill(p, len, (unsigned)i);
            if (zm_resize(t->a, p, len, align, new_len)) {
                CC(intact(p, len < new_len ? len : new_len, len, (unsigned)i));
                CC(t->max_size >= new_len || !t->one_size);
                fill(p, new_len, (unsigned)i + 100);
                CC(intact(p, new_len, new_len, (unsigned)i + 100));
                zm_free(t->a, p, new_len, align);
            } else {
                CC(intact(p, len, len, (unsigned)i));
                zm_free(t->a, p, len, align);
            }
        }
    }
}

/* remap may move: a result keeps the contents and the alignment; NULL leaves
   the old block untouched and still the caller's. */
static void remap_semantics(const suite *t) {
    for (size_t ai = 0; ai < 4; ai++) {
        size_t align = change_aligns[ai];
        for (size_t i = 0; i < NCHANGES; i++) {
            size_t len = changes[i].len, new_len = changes[i].new_len;
            if (t->one_size) len = t->max_size, new_len = len + (i % 2 ? 1 : -1);
            if (!serves(t, len, align) || new_len == 0) continue;
            WHAT("remap %zu -> %zu align %zu", len, new_len, align);
            char *p = zm_alloc(t->a, len, align);
            CC(p != NULL);
            if (p == NULL) continue;
            fill(p, len, (unsigned)i);
            char *q = zm_remap(t->a, p, len, align, new_len);
            if (q != NULL) {
                CC(aligned(q, align));
                CC(intact(q, len < new_len ? len : new_len, len, (unsigned)i));
                fill(q, new_len, (unsigned)i + 100);
                CC(intact(q, new_len, new_len, (unsigned)i + 100));
                zm_free(t->a, q, new_len, align);
            } else {
                CC(intact(p, len, len, (unsigned)i));
                zm_free(t->a, p, len, align);
            }
        }
    }
}

/* zm_realloc through growing and shrinking lengths keeps the common prefix. */
static void realloc_chain(const suite *t) {
    static const size_t chain[] = {1, 3, 17, 1000, 4097, 100000, 1 << 20, 5000, 64, 10, 1};
    for (size_t ai = 0; ai < 4; ai++) {
        size_t align = change_aligns[ai];
        if (align > t->max_align || t->one_size) continue;
        char *p = NULL;
        size_t len = 0;
        unsigned seed = 0;
        for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++) {
            size_t new_len = chain[i];
            if (new_len > t->max_size) continue;
            WHAT("realloc %zu -> %zu align %zu", len, new_len, align);
            char *q = zm_realloc(t->a, p, len, new_len, align);
            CC(q != NULL);
            if (q == NULL) break;
            CC(aligned(q, align));
            size_t keep = len < new_len ? len : new_len;
            CC(intact(q, keep, len, seed));
            /* Rewrite the whole block for the next step. */
            p = q, len = new_len, seed++;
            fill(p, len, seed);
        }
        WHAT("realloc %zu -> 0 align %zu", len, align);
        if (p != NULL) CC(zm_realloc(t->a, p, len, 0, align) != NULL);
    }
}

typedef struct pair {
    double x, y;
} pair;

/* The typed and copying wrappers. */
static void wrappers(const suite *t) {
    if (t->one_size) return;
    WHAT("zm_create / zm_destroy");
    if (serves(t, sizeof(pair), _Alignof(pair))) {
        pair *pr = zm_create(t->a, pair);
        CC(pr != NULL);
        if (pr != NULL) {
            CC(aligned(pr, _Alignof(pair)));
            pr->x = 1, pr->y = 2;
            zm_destroy(t->a, pr);
        }
    }
    WHAT("zm_alloc_array / zm_free_array");
    if (serves(t, 1000 * sizeof(uint64_t), 8)) {
        uint64_t *arr = zm_alloc_array(t->a, uint64_t, 1000);
        CC(arr != NULL);
        if (arr != NULL) {
            for (int i = 0; i < 1000; i++) arr[i] = (uint64_t)i * 3;
            uint64_t sum = 0;
            for (int i = 0; i < 1000; i++) sum += arr[i];
            CC(sum == 3 * 999 * 1000 / 2);
            zm_free_array(t->a, arr, 1000);
        }
    }
    WHAT("zm_dupe / zm_strdup / zm_strndup");
    const char *text = "hello, allocator";
    size_t n = strlen(text);
    char *d = zm_dupe(t->a, text, n);
    CC(d != NULL && memcmp(d, text, n) == 0);
    zm_free(t->a, d, n, 1);
    char *s = zm_strdup(t->a, text);
    CC(s != NULL && strcmp(s, text) == 0);
    zm_free(t->a, s, n + 1, 1);
    char *sn = zm_strndup(t->a, text, 5);
    CC(sn != NULL && strcmp(sn, "hello") == 0);
    zm_free(t->a, sn, 6, 1);
}

/* A deterministic pseudo-random sequence (xorshift64*). */
static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Random allocs, frees (in any order), resizes, remaps and reallocs over up
   to 64 live blocks, every block's pattern checked when it changes or dies. */
static void churn(const suite *t) {
    enum { SLOTS = 64 };
    struct {
        char *p;
        size_t len, align;
        unsigned seed;
    } slot[SLOTS] = {{0}};
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    int ops = t->small ? 1500 : 6000;
    size_t max_len = t->max_size < 4096 ? t->max_size : 4096;
    size_t max_al = t->max_align < 64 ? t->max_align : 64;
    for (int op = 0; op < ops; op++) {
        uint64_t r = rng_next(&rng);
        int k = (int)(r % SLOTS);
        unsigned action = (unsigned)(r >> 8) % 8;
        WHAT("churn op %d action %u slot %d", op, action, k);
        if (slot[k].p == NULL) {
            size_t len = t->one_size ? t->max_size : 1 + (size_t)(r >> 16) % max_len;
            size_t align = (size_t)1 << ((r >> 32) % 7);
            if (align > max_al) align = max_al;
            char *p = zm_alloc(t->a, len, align);
            CC(p != NULL);
            if (p == NULL) continue;
            CC(aligned(p, align));
            slot[k].p = p, slot[k].len = len, slot[k].align = align, slot[k].seed = (unsigned)op;
            fill(p, len, slot[k].seed);
            continue;
        }
        CC(intact(slot[k].p, slot[k].len, slot[k].len, slot[k].seed));
        size_t new_len = t->one_size ? t->max_size : 1 + (size_t)(r >> 20) % max_len;
        if (action < 4) {
            zm_free(t->a, slot[k].p, slot[k].len, slot[k].align);
            slot[k].p = NULL;
            continue;
        }
        if (action == 4 && zm_resize(t->a, slot[k].p, slot[k].len, slot[k].align, new_len)) {
            slot[k].len = new_len;
        } else if (action == 5) {
            char *q = zm_remap(t->a, slot[k].p, slot[k].len, slot[k].align, new_len);
            if (q != NULL) slot[k].p = q, slot[k].len = new_len;
        } else if (action >= 6) {
            char *q = zm_realloc(t->a, slot[k].p, slot[k].len, new_len, slot[k].align);
            CC(q != NULL);
            if (q != NULL) slot[k].p = q, slot[k].len = new_len;
        }
        CC(aligned(slot[k].p, slot[k].align));
        slot[k].seed = (unsigned)op;
        fill(slot[k].p, slot[k].len, slot[k].seed);
    }
    WHAT("churn end");
    for (int k = 0; k < SLOTS; k++) {
        if (slot[k].p == NULL) continue;
        CC(intact(slot[k].p, slot[k].len, slot[k].len, slot[k].seed));
        zm_free(t->a, slot[k].p, slot[k].len, slot[k].align);
    }
}

/* The peak resident set size of the process, in KiB. */
static long peak_rss_kib(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return ru.ru_maxrss;
}

/* Frees really free: far more bytes than the bound go through the allocator
   (1 GiB; 256 MiB for one-size allocators, whose blocks are small), at most 8
   blocks live at a time, freed oldest first, one byte per page touched. If
   frees did not give memory back for reuse, the peak RSS would grow by the
   whole volume. The bound (half the volume) leaves room for ASan's 256 MiB
   quarantine of freed blocks. */
static void frees_reuse(const suite *t) {
    if (!(t->caps & ZC_FREES_REUSE) || t->small) return;
    enum { LIVE = 8 };
    const size_t volume = t->one_size ? (size_t)256 << 20 : (size_t)1 << 30;
    const long bound_kib = (long)(volume / 2 / 1024);
    size_t len = t->max_size;
    size_t rounds = volume / len;
    char *live[LIVE] = {0};
    long before = peak_rss_kib();
    WHAT("frees reuse: %zu blocks of %zu", rounds, len);
    size_t done = 0;
    for (; done < rounds; done++) {
        size_t k = done % LIVE;
        zm_free(t->a, live[k], len, 1);
        live[k] = zm_alloc(t->a, len, 1);
        if (live[k] == NULL) break;
        for (size_t j = 0; j < len; j += 4096) live[k][j] = (char)done;
    }
    CC(done == rounds);
    for (size_t k = 0; k < LIVE; k++) zm_free(t->a, live[k], len, 1);
    long after = peak_rss_kib();
    WHAT("frees reuse: peak RSS grew by %ld KiB", after - before);
    CC(before >= 0 && after - before < bound_kib);
}

static int total_checks;

int contract_checks(void) {
    return total_checks;
}

int run_contract(const char *name, zm_allocator a, unsigned caps) {
    suite t = {.a = a, .caps = caps, .one_size = (caps & ZC_ONE_SIZE) != 0, .small = zt_small()};
    unsigned size_log = (caps >> 8) & 0xffu, align_log = (caps >> 16) & 0xffu;
    t.max_size = size_log ? (size_t)1 << (size_log - 1) : (size_t)1 << 20;
    t.max_align = align_log ? (size_t)1 << (align_log - 1) : 4096;
    cur_name = name;
    run_failures = 0;
    whole_max = t.small ? 8192 : 65536;
    int checks_before = zt_checks;
    int failures_before = zt_failures;
    clock_t start = clock();

    sizes_and_alignments(&t);
    zero_length(&t);
    overflow_and_alignment(&t);
    resize_semantics(&t);
    remap_semantics(&t);
    realloc_chain(&t);
    wrappers(&t);
    churn(&t);
    frees_reuse(&t);

    int failed = zt_failures - failures_before;
    total_checks += zt_checks - checks_before;
    fprintf(stderr, "contract %-22s %6d checks, %d failed (%.2f s cpu)\n", name,
            zt_checks - checks_before, failed, (double)(clock() - start) / CLOCKS_PER_SEC);
    return failed;
}
