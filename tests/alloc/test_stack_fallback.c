/* The stack fallback allocator's own promises: the buffer first, then the
   fallback, and every free, resize and remap going to the owner. */
#include "counting.h"
#include "test.h"
#include "zmem/stack_fallback.h"
#include "zmem/testing.h"

static void test_switches_and_frees_right(void) {
    _Alignas(16) char buf[1024];
    counting c;
    zm_stack_fallback sf;
    zm_stack_fallback_init(&sf, buf, sizeof buf, counting_init(&c));
    zm_allocator a = zm_stack_fallback_allocator(&sf);

    /* Small blocks stay in the buffer until it is full. */
    char *in[10];
    for (int i = 0; i < 10; i++) {
        in[i] = zm_alloc(a, 100, 1);
        CHECK(in[i] != NULL);
        CHECK(zm_stack_fallback_owns(&sf, in[i]));
        memset(in[i], 'a' + i, 100);
    }
    CHECK_EQ(c.allocs, 0);
    /* Then the fallback takes over. */
    char *out[5];
    for (int i = 0; i < 5; i++) {
        out[i] = zm_alloc(a, 100, 1);
        CHECK(out[i] != NULL);
        CHECK(!zm_stack_fallback_owns(&sf, out[i]));
        memset(out[i], 'A' + i, 100);
    }
    CHECK_EQ(c.allocs, 5);
    CHECK_EQ(c.live, 500);
    /* A small block that still fits in what is left goes to the buffer. */
    char *tail = zm_alloc(a, 24, 1);
    CHECK(tail == buf + 1000);
    CHECK_EQ(c.allocs, 5);

    /* resize goes to the owner: a fallback block reaches the fallback. */
    size_t resizes = c.resizes;
    size_t out0_len = zm_resize(a, out[0], 100, 1, 50) ? 50 : 100;
    CHECK_EQ(c.resizes, resizes + 1);
    CHECK(zm_resize(a, in[0], 100, 1, 50)); /* buffer: shrinking always works */
    CHECK_EQ(c.resizes, resizes + 1);
    CHECK(!zm_resize(a, in[0], 50, 1, 200)); /* not the latest: cannot grow */
    CHECK_EQ(c.resizes, resizes + 1);

    /* remap of a buffer block that cannot grow in place returns NULL; the
       caller copies, and zm_realloc does so into the fallback. */
    CHECK(zm_remap(a, in[1], 100, 1, 300) == NULL);
    CHECK_EQ(c.remaps, 0);
    char *moved = zm_realloc(a, in[1], 100, 300, 1);
    CHECK(moved != NULL && !zm_stack_fallback_owns(&sf, moved));
    CHECK(moved[0] == 'b' && moved[99] == 'b');
    CHECK_EQ(c.allocs, 6);
    /* remap of a fallback block reaches the fallback (which may move it). */
    char *grown = zm_remap(a, moved, 300, 1, 5000);
    CHECK_EQ(c.remaps, 1);
    if (grown != NULL) {
        CHECK(grown[0] == 'b' && grown[99] == 'b');
        moved = grown;
    } else {
        zm_free(a, moved, 300, 1);
        moved = zm_alloc(a, 5000, 1);
    }

    /* free goes to the owner: buffer frees never reach the fallback. */
    size_t frees = c.frees;
    for (int i = 2; i < 10; i++) zm_free(a, in[i], 100, 1);
    zm_free(a, tail, 24, 1);
    CHECK_EQ(c.frees, frees);
    zm_free(a, out[0], out0_len, 1);
    for (int i = 1; i < 5; i++) zm_free(a, out[i], 100, 1);
    zm_free(a, moved, 5000, 1);
    CHECK_EQ(c.frees, frees + 6);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.live_blocks, 0);
}

/* The latest buffer block grows in place; the buffer is reused after it is
   given back newest first. */
static void test_buffer_behaves_like_fixed_buffer(void) {
    _Alignas(16) char buf[256];
    counting c;
    zm_stack_fallback sf;
    zm_stack_fallback_init(&sf, buf, sizeof buf, counting_init(&c));
    zm_allocator a = zm_stack_fallback_allocator(&sf);
    char *p = zm_alloc(a, 16, 1);
    CHECK(p == buf);
    CHECK(zm_resize(a, p, 16, 1, 200));
    CHECK(zm_remap(a, p, 200, 1, 256) == p);
    char *q = zm_alloc(a, 1, 1); /* full: fallback */
    CHECK(q != NULL && !zm_stack_fallback_owns(&sf, q));
    zm_free(a, q, 1, 1);
    zm_free(a, p, 256, 1);
    CHECK(zm_alloc(a, 256, 1) == buf);
    CHECK_EQ(c.allocs, 1);
    CHECK_EQ(c.live, 0);
}

/* A stack fallback over the sweep's allocator: the buffer serves the first
   requests, the rest fall back (and fail in turn); a growth moves a block
   out of the buffer. */
static zm_status sweep_fallback(zm_allocator a, void *arg) {
    (void)arg;
    _Alignas(16) char buf[256];
    zm_stack_fallback sf;
    zm_stack_fallback_init(&sf, buf, sizeof buf, a);
    zm_allocator fa = zm_stack_fallback_allocator(&sf);
    char *p[8];
    size_t len0 = 100; /* p[0]'s length */
    int n = 0;
    zm_status st = ZM_ENOMEM;
    for (; n < 8; n++)
        if ((p[n] = zm_alloc(fa, 100, 8)) == NULL) goto out;
    if (!zm_stack_fallback_owns(&sf, p[0]) || zm_stack_fallback_owns(&sf, p[7])) {
        st = ZM_EINTERNAL;
        goto out;
    }
    memset(p[0], 'f', 100);
    char *q = zm_realloc(fa, p[0], 100, 1000, 8);
    if (q == NULL) goto out;
    p[0] = q, len0 = 1000;
    st = q[99] == 'f' && !zm_stack_fallback_owns(&sf, q) ? ZM_OK : ZM_EINTERNAL;
out:
    while (n-- > 0) zm_free(fa, p[n], n == 0 ? len0 : 100, 8);
    return st;
}

static void test_sweep(void) {
    zm_sweep_report r;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), sweep_fallback, NULL, NULL, &r),
             ZM_OK);
    if (r.problem != ZM_SWEEP_OK) fprintf(stderr, "%s\n", r.message);
    CHECK(r.alloc_count >= 7); /* six fallback blocks and the growth */
}

int main(void) {
    RUN(test_switches_and_frees_right);
    RUN(test_buffer_behaves_like_fixed_buffer);
    RUN(test_sweep);
    return zt_finish("stack_fallback");
}
