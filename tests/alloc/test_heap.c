/* The heap's own promises: blocks can be freed one by one, and deinit frees
   every block still live, at once (checked with mimalloc's own heap walk and
   the peak RSS for a mimalloc heap, with a counting backing allocator for a
   list heap). */
#include <pthread.h>
#include <sys/resource.h>

#include "counting.h"
#include "test.h"
#include "zmem/heap.h"
#include "zmem/testing.h"

#ifdef ZMEM_HAVE_MIMALLOC
#include <mimalloc.h>

typedef struct visit {
    size_t blocks, bytes;
} visit;

static bool count_block(const mi_heap_t *heap, const mi_heap_area_t *area, void *block,
                        size_t block_size, void *arg) {
    (void)heap, (void)area;
    visit *v = arg;
    if (block != NULL) v->blocks++, v->bytes += block_size;
    return true;
}

static visit walk(zm_heap *h) {
    visit v = {0, 0};
    mi_heap_visit_blocks(h->mi, true, count_block, &v);
    return v;
}
#endif

static long peak_rss_kib(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static void *free_elsewhere(void *arg) {
    void **blocks = arg;
    zm_heap *h = blocks[100];
    for (int i = 0; i < 100; i++) zm_free(zm_heap_allocator(h), blocks[i], 64, 8);
    return NULL;
}

/* A mimalloc heap: its blocks are in it (and only its blocks), frees take
   them out, deinit drops the rest. */
static void test_mimalloc_heap(void) {
#ifdef ZMEM_HAVE_MIMALLOC
    zm_heap h;
    CHECK(zm_heap_init(&h) == ZM_OK);
    if (!zm_heap_is_mimalloc(&h)) {
        fprintf(stderr, "heap: default allocator is %s: no mimalloc heap to test\n",
                zm_default_allocator_name());
        zm_heap_deinit(&h);
        return;
    }
    zm_allocator a = zm_heap_allocator(&h);
    enum { N = 1000 };
    static char *blocks[N];
    static size_t lens[N], aligns[N];
    size_t bytes = 0;
    for (int i = 0; i < N; i++) {
        lens[i] = 1 + (size_t)(i * 37) % 5000;
        aligns[i] = (size_t)1 << (i % 9);
        blocks[i] = zm_alloc(a, lens[i], aligns[i]);
        CHECK(blocks[i] != NULL);
        CHECK(((uintptr_t)blocks[i] & (aligns[i] - 1)) == 0);
        memset(blocks[i], i & 0xff, lens[i]);
        bytes += lens[i];
    }
    void *outside = zm_alloc(zm_mimalloc_allocator(), 100, 8); /* not in the heap */
    visit v = walk(&h);
    CHECK_EQ(v.blocks, N);
    CHECK(v.bytes >= bytes);
    for (int i = 0; i < N; i += 3) zm_free(a, blocks[i], lens[i], aligns[i]);
    v = walk(&h);
    CHECK_EQ(v.blocks, N - (N + 2) / 3);
    zm_free(zm_mimalloc_allocator(), outside, 100, 8);

    /* Blocks may be freed from another thread. */
    void *more[101];
    for (int i = 0; i < 100; i++) CHECK((more[i] = zm_alloc(a, 64, 8)) != NULL);
    more[100] = &h;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, free_elsewhere, more) == 0);
    pthread_join(t, NULL);
    zm_heap_deinit(&h);
    CHECK(h.mi == NULL);

    /* deinit frees everything: 16 heaps of 64 MiB each, never freed block by
       block, leave the peak RSS far below 1 GiB. */
    long before = peak_rss_kib();
    for (int round = 0; round < 16; round++) {
        CHECK(zm_heap_init(&h) == ZM_OK);
        a = zm_heap_allocator(&h);
        for (int i = 0; i < 1024; i++) {
            char *p = zm_alloc(a, 64 * 1024, 16);
            CHECK(p != NULL);
            if (p == NULL) break;
            for (size_t j = 0; j < 64 * 1024; j += 4096) p[j] = (char)j;
        }
        zm_heap_deinit(&h);
    }
    long grew = peak_rss_kib() - before;
    CHECK(grew < 256 * 1024);
    fprintf(stderr, "heap: 16 x 64 MiB heaps raised the peak RSS by %ld MiB\n", grew / 1024);
#else
    fprintf(stderr, "heap: built without mimalloc\n");
#endif
}

/* A list heap over a counting allocator: whatever is live at deinit goes
   back, including blocks that were remapped (moved) and resized. */
static void test_list_heap(void) {
    counting c;
    zm_heap h;
    zm_heap_init_backed(&h, counting_over(&c, zm_c_allocator()));
    CHECK(!zm_heap_is_mimalloc(&h));
    zm_allocator a = zm_heap_allocator(&h);
    enum { N = 500 };
    static char *blocks[N];
    static size_t lens[N], aligns[N];
    for (int i = 0; i < N; i++) {
        lens[i] = 1 + (size_t)(i * 53) % 3000;
        aligns[i] = (size_t)1 << (i % 13);
        blocks[i] = zm_alloc(a, lens[i], aligns[i]);
        CHECK(blocks[i] != NULL);
        if (blocks[i] == NULL) return;
        CHECK(((uintptr_t)blocks[i] & (aligns[i] - 1)) == 0);
        memset(blocks[i], i & 0xff, lens[i]);
    }
    CHECK_EQ(h.live, N);
    CHECK_EQ(c.live_blocks, N);
    /* Grow some (they move), shrink some, free some, in an order that hits
       the head, the tail and the middle of the list. */
    for (int i = 0; i < N; i += 5) {
        char *q = zm_realloc(a, blocks[i], lens[i], lens[i] * 4 + 100, aligns[i]);
        CHECK(q != NULL);
        if (q == NULL) continue;
        CHECK(q[0] == (char)(i & 0xff) && q[lens[i] - 1] == (char)(i & 0xff));
        blocks[i] = q, lens[i] = lens[i] * 4 + 100;
    }
    for (int i = 1; i < N; i += 5)
        if (zm_resize(a, blocks[i], lens[i], aligns[i], (lens[i] + 1) / 2))
            lens[i] = (lens[i] + 1) / 2;
    for (int i = N - 1; i >= 0; i -= 4) {
        zm_free(a, blocks[i], lens[i], aligns[i]);
        blocks[i] = NULL;
    }
    zm_free(a, blocks[0], lens[0], aligns[0]);
    blocks[0] = NULL;
    size_t live = 0;
    for (int i = 0; i < N; i++)
        if (blocks[i] != NULL) {
            live++;
            CHECK(blocks[i][0] == (char)(i & 0xff));
        }
    CHECK_EQ(h.live, live);
    CHECK_EQ(c.live_blocks, live);
    CHECK(c.remaps > 0);
    zm_heap_deinit(&h); /* the rest, at once */
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.live_blocks, 0);
    CHECK_EQ(c.allocs, c.frees);
    CHECK_EQ(h.live, 0);

    /* A heap may be used again after deinit; deinit of an empty heap is fine. */
    CHECK(zm_alloc(a, 10, 1) != NULL);
    zm_heap_deinit(&h);
    zm_heap_deinit(&h);
    CHECK_EQ(c.live, 0);

    /* A failing backing allocator fails the heap's alloc, nothing else. */
    c.fail_allocs = true;
    CHECK(zm_alloc(a, 10, 1) == NULL);
    CHECK_EQ(h.live, 0);
}

/* The heap zm_heap_init chooses, whichever it is, frees everything at deinit
   (valgrind and ASan check the list heap over libc). */
static void test_default_heap(void) {
    zm_heap h;
    CHECK(zm_heap_init(&h) == ZM_OK);
    zm_allocator a = zm_heap_allocator(&h);
    for (int i = 0; i < 1000; i++) {
        char *p = zm_alloc(a, 1 + (size_t)i % 700, 16);
        CHECK(p != NULL);
        if (p) p[0] = 1;
    }
    char *s = zm_strdup(a, "kept until deinit");
    CHECK(s != NULL && strcmp(s, "kept until deinit") == 0);
    zm_heap_deinit(&h);
}

/* A list heap over the sweep's allocator: allocations, a growth that moves,
   a shrink, frees, and deinit taking the rest on every path. */
static zm_status sweep_list_heap(zm_allocator a, void *arg) {
    (void)arg;
    zm_heap h;
    zm_heap_init_backed(&h, a);
    zm_allocator ha = zm_heap_allocator(&h);
    zm_status st = ZM_ENOMEM;
    char *p[12];
    for (int i = 0; i < 12; i++) {
        if ((p[i] = zm_alloc(ha, 16 + (size_t)i * 40, (size_t)8 << (i % 4))) == NULL) goto out;
        memset(p[i], 'a' + i, 16);
    }
    char *q = zm_realloc(ha, p[3], 16 + 3 * 40, 4000, 64);
    if (q == NULL) goto out;
    if (zm_resize(ha, p[5], 16 + 5 * 40, (size_t)8 << 1, 20)) memset(p[5], 0, 20);
    for (int i = 0; i < 12; i += 3)
        if (i != 3) zm_free(ha, p[i], 16 + (size_t)i * 40, (size_t)8 << (i % 4));
    st = q[0] == 'd' && h.live == 9 ? ZM_OK : ZM_EINTERNAL;
out:
    zm_heap_deinit(&h);
    return st;
}

/* The list heap under the sweep: each of its blocks fails in turn. */
static void test_sweep(void) {
    zm_sweep_report r;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), sweep_list_heap, NULL, NULL, &r),
             ZM_OK);
    if (r.problem != ZM_SWEEP_OK) fprintf(stderr, "%s\n", r.message);
    CHECK(r.alloc_count >= 12);
}

int main(void) {
    RUN(test_mimalloc_heap);
    RUN(test_list_heap);
    RUN(test_default_heap);
    RUN(test_sweep);
    return zt_finish("heap");
}
