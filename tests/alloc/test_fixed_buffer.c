/* The fixed buffer's own promises: exhaustion, ownership, in-place changes of
   the latest block, reset. */
#include "test.h"
#include "zmem/fixed_buffer.h"

static void test_exhaustion(void) {
    static _Alignas(1024) char buf[1024];
    zm_fixed_buffer fb;
    zm_fixed_buffer_init(&fb, buf, sizeof buf);
    zm_allocator a = zm_fixed_buffer_allocator(&fb);
    int n = 0;
    for (;;) {
        char *p = zm_alloc(a, 100, 1);
        if (p == NULL) break;
        CHECK(zm_fixed_buffer_owns(&fb, p));
        memset(p, n, 100);
        n++;
    }
    CHECK_EQ(n, 10); /* 10 * 100 fit in 1024, 11 do not */
    CHECK_EQ(zm_fixed_buffer_used(&fb), 1000);
    CHECK(zm_alloc(a, 25, 1) == NULL);
    char *tail = zm_alloc(a, 24, 1); /* exactly what is left */
    CHECK(tail == buf + 1000);
    CHECK(zm_alloc(a, 1, 1) == NULL);
    CHECK(zm_fixed_buffer_alloc(&fb, 1, 1) == NULL);
    CHECK(zm_alloc(a, 0, 1) != NULL); /* zero length never fails */
    for (int i = 0; i < 10; i++) CHECK(buf[i * 100] == (char)i && buf[i * 100 + 99] == (char)i);
    /* Reset: the whole buffer again. */
    zm_fixed_buffer_reset(&fb);
    CHECK_EQ(zm_fixed_buffer_used(&fb), 0);
    CHECK(zm_alloc(a, 1024, 1) == buf);
    CHECK(zm_alloc(a, 1, 1) == NULL);
    /* Alignment padding counts against the buffer. */
    zm_fixed_buffer_reset(&fb);
    CHECK(zm_alloc(a, 1, 1) == buf);
    CHECK(zm_alloc(a, 1, 512) == buf + 512);
    CHECK(zm_alloc(a, 512, 1) == NULL);
    CHECK(zm_alloc(a, 511, 1) == buf + 513);
    CHECK(zm_alloc(a, 1, 2048) == NULL);
}

static void test_owns(void) {
    char buf[256];
    char other;
    zm_fixed_buffer fb;
    zm_fixed_buffer_init(&fb, buf, sizeof buf);
    CHECK(zm_fixed_buffer_owns(&fb, buf));
    CHECK(zm_fixed_buffer_owns(&fb, buf + 255));
    CHECK(!zm_fixed_buffer_owns(&fb, buf + 256));
    CHECK(!zm_fixed_buffer_owns(&fb, &other));
    CHECK(!zm_fixed_buffer_owns(&fb, NULL));
    zm_fixed_buffer empty;
    zm_fixed_buffer_init(&empty, NULL, 100);
    CHECK(!zm_fixed_buffer_owns(&empty, buf));
    CHECK(zm_fixed_buffer_alloc(&empty, 1, 1) == NULL);
}

static void test_latest_in_place(void) {
    _Alignas(16) char buf[1000];
    zm_fixed_buffer fb;
    zm_fixed_buffer_init(&fb, buf, sizeof buf);
    zm_allocator a = zm_fixed_buffer_allocator(&fb);
    char *p = zm_alloc(a, 100, 1);
    char *q = zm_alloc(a, 100, 1);
    CHECK(p == buf && q == buf + 100);
    memset(q, 'q', 100);
    CHECK(zm_resize(a, q, 100, 1, 900));  /* the latest grows */
    CHECK(!zm_resize(a, q, 900, 1, 901)); /* but not past the end */
    CHECK(zm_resize(a, q, 900, 1, 50));   /* and shrinks */
    CHECK_EQ(zm_fixed_buffer_used(&fb), 150);
    CHECK(q[49] == 'q');
    CHECK(!zm_resize(a, p, 100, 1, 101)); /* p is not the latest */
    CHECK(zm_resize(a, p, 100, 1, 60));   /* shrinking anything succeeds */
    CHECK_EQ(zm_fixed_buffer_used(&fb), 150);
    CHECK(zm_remap(a, q, 50, 1, 76) == q); /* the latest remaps in place */
    CHECK(zm_remap(a, p, 60, 1, 200) == NULL);
    /* zm_realloc of a block that cannot grow in place moves it. */
    memset(p, 'p', 60);
    char *r = zm_realloc(a, p, 60, 200, 1);
    CHECK(r == buf + 176);
    CHECK(r[0] == 'p' && r[59] == 'p');
    CHECK_EQ(zm_fixed_buffer_used(&fb), 376);
    /* Frees newest first give the bytes back. */
    zm_free(a, r, 200, 1);
    zm_free(a, q, 76, 1);
    CHECK_EQ(zm_fixed_buffer_used(&fb), 100);
    zm_free(a, p, 60, 1); /* p shrank to 60 but its old tail was not given back */
    CHECK_EQ(zm_fixed_buffer_used(&fb), 100);
    /* Freeing something not the latest changes nothing. */
    char *s = zm_alloc(a, 10, 1);
    char *t = zm_alloc(a, 10, 1);
    CHECK(s && t);
    zm_free(a, s, 10, 1);
    CHECK_EQ(zm_fixed_buffer_used(&fb), 120);
    zm_free(a, t, 10, 1);
    CHECK_EQ(zm_fixed_buffer_used(&fb), 110);
    /* Alignment padding stays used after the block behind it is freed. */
    char *u = zm_alloc(a, 8, 16);
    CHECK(u == buf + 112);
    zm_free(a, u, 8, 16);
    CHECK_EQ(zm_fixed_buffer_used(&fb), 112);
    /* Once the latest is freed, the block that ends where it began is the
       latest: it grows in place (unlike an arena's, which only knows the
       block it handed out last). */
    zm_fixed_buffer_reset(&fb);
    char *v = zm_alloc(a, 40, 1), *w = zm_alloc(a, 20, 1);
    CHECK(v == buf && w == buf + 40);
    CHECK(!zm_resize(a, v, 40, 1, 80));
    zm_free(a, w, 20, 1);
    CHECK(zm_resize(a, v, 40, 1, 80));
    CHECK_EQ(zm_fixed_buffer_used(&fb), 80);
}

int main(void) {
    RUN(test_exhaustion);
    RUN(test_owns);
    RUN(test_latest_in_place);
    return zt_finish("fixed_buffer");
}
