/* The growable array: every operation, failed growth leaving it unchanged,
   arenas, and the every-failure sweep. */
#include "test.h"
#include "zmem/arena.h"
#include "zmem/array.h"
#include "zmem/failing.h"
#include "zmem/testing.h"

ZM_ARRAY_TYPED(int_array, int);

typedef struct big {
    double d;
    char tag[24];
} big;
ZM_ARRAY_TYPED(big_array, big);

typedef struct wide {
    _Alignas(16) unsigned char bytes[32];
} wide;
ZM_ARRAY_TYPED(wide_array, wide);

static void test_basics(void) {
    zm_allocator a = zm_default_allocator();
    int_array xs = {0};
    for (int i = 0; i < 1000; i++) CHECK(int_array_append(a, &xs, i) == ZM_OK);
    CHECK_EQ(xs.len, 1000);
    CHECK(xs.cap >= 1000);
    int ok = 1;
    for (int i = 0; i < 1000; i++) ok &= xs.items[i] == i;
    CHECK(ok);

    int more[] = {-1, -2, -3};
    CHECK(int_array_append_slice(a, &xs, more, 3) == ZM_OK);
    CHECK(int_array_append_slice(a, &xs, NULL, 0) == ZM_OK);
    CHECK_EQ(xs.len, 1003);
    CHECK_EQ(xs.items[1002], -3);

    CHECK(int_array_insert(a, &xs, 0, 77) == ZM_OK);
    CHECK_EQ(xs.items[0], 77);
    CHECK_EQ(xs.items[1], 0);
    CHECK(int_array_insert(a, &xs, xs.len, 88) == ZM_OK);
    CHECK_EQ(xs.items[xs.len - 1], 88);
    CHECK(int_array_insert(a, &xs, xs.len + 1, 99) == ZM_EINVAL);
    CHECK_EQ(xs.len, 1005);

    CHECK_EQ(int_array_ordered_remove(&xs, 0), 77);
    CHECK_EQ(xs.items[0], 0);
    CHECK_EQ(xs.items[1], 1);
    CHECK_EQ(int_array_swap_remove(&xs, 0), 0);
    CHECK_EQ(xs.items[0], 88); /* the last one took its place */
    CHECK_EQ(xs.items[1], 1);
    CHECK_EQ(int_array_pop(&xs), -3);
    CHECK_EQ(xs.len, 1002);

    int *slot = int_array_add_one(a, &xs);
    CHECK(slot != NULL);
    if (slot) *slot = 5;
    CHECK_EQ(xs.items[xs.len - 1], 5);

    CHECK(int_array_resize(a, &xs, 5000) == ZM_OK);
    CHECK_EQ(xs.len, 5000);
    CHECK(int_array_resize(a, &xs, 10) == ZM_OK);
    CHECK_EQ(xs.len, 10);
    size_t cap = xs.cap;
    int_array_clear(&xs);
    CHECK_EQ(xs.len, 0);
    CHECK_EQ(xs.cap, cap);
    CHECK(int_array_reserve(a, &xs, 100) == ZM_OK);
    CHECK_EQ(xs.cap, cap); /* there was room */
    CHECK(int_array_reserve(a, &xs, SIZE_MAX) == ZM_ENOMEM);
    CHECK_EQ(xs.cap, cap);

    for (int i = 0; i < 10; i++) CHECK(int_array_append(a, &xs, i * i) == ZM_OK);
    int_array_shrink(a, &xs, 4);
    CHECK_EQ(xs.len, 4);
    CHECK_EQ(xs.cap, 4);
    CHECK_EQ(xs.items[3], 9);

    int *owned = NULL;
    size_t n = 0;
    CHECK(int_array_to_owned(a, &xs, &owned, &n) == ZM_OK);
    CHECK_EQ(n, 4);
    CHECK(xs.items == NULL && xs.len == 0 && xs.cap == 0);
    CHECK(owned != NULL && owned[2] == 4);
    zm_free_array(a, owned, n);

    /* An empty array hands out an empty slice; shrinking to 0 frees. */
    CHECK(int_array_to_owned(a, &xs, &owned, &n) == ZM_OK);
    CHECK_EQ(n, 0);
    CHECK(int_array_append(a, &xs, 1) == ZM_OK);
    int_array_shrink(a, &xs, 0);
    CHECK(xs.cap == 0 && xs.items == NULL);
    int_array_deinit(a, &xs);
    int_array_deinit(a, &xs); /* twice is fine */
}

static void test_struct_items(void) {
    zm_allocator a = zm_default_allocator();
    big_array bs = {0};
    for (int i = 0; i < 100; i++) {
        big b = {.d = i * 0.5};
        snprintf(b.tag, sizeof b.tag, "item %d", i);
        CHECK(big_array_append(a, &bs, b) == ZM_OK);
    }
    CHECK_STR(bs.items[42].tag, "item 42");
    big r = big_array_swap_remove(&bs, 42);
    CHECK_STR(r.tag, "item 42");
    CHECK_STR(bs.items[42].tag, "item 99");
    big_array_deinit(a, &bs);

    wide_array ws = {0};
    for (int i = 0; i < 50; i++) {
        wide w;
        memset(w.bytes, i, sizeof w.bytes);
        CHECK(wide_array_append(a, &ws, w) == ZM_OK);
        CHECK(((uintptr_t)ws.items & 15) == 0);
    }
    CHECK_EQ(ws.items[49].bytes[31], 49);
    wide_array_deinit(a, &ws);
}

/* In an arena the array is the only user, so growth stays in place. */
static void test_arena(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    int_array xs = {0};
    CHECK_EQ(sizeof xs, 3 * sizeof(void *));
    for (int i = 0; i < 100000; i++) CHECK(int_array_append(a, &xs, i) == ZM_OK);
    CHECK_EQ(xs.items[99999], 99999);
    int *owned;
    size_t n;
    CHECK(int_array_to_owned(a, &xs, &owned, &n) == ZM_OK);
    CHECK_EQ(n, 100000);
    CHECK_EQ(owned[12345], 12345);
    zm_arena_deinit(&ar); /* no deinit of the array needed */
}

/* Every growing function leaves the array as it was when growth fails. */
static void test_failed_growth(void) {
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), 1, SIZE_MAX); /* the second alloc fails */
    zm_allocator a = zm_failing_allocator(&f);
    int_array xs = {0};
    for (int i = 0; i < 16; i++) CHECK(int_array_append(a, &xs, i) == ZM_OK);
    CHECK_EQ(xs.cap, 16);
    /* The c allocator's remap may succeed: make remaps fail too. */
    f.resize_fail_index = f.resize_index;
    int *items = xs.items;
    CHECK(int_array_append(a, &xs, 16) == ZM_ENOMEM);
    CHECK(xs.items == items && xs.len == 16 && xs.cap == 16);
    int extra[40] = {0};
    f.resize_fail_index = f.resize_index;
    f.fail_index = f.alloc_index;
    CHECK(int_array_append_slice(a, &xs, extra, 40) == ZM_ENOMEM);
    f.resize_fail_index = f.resize_index;
    f.fail_index = f.alloc_index;
    CHECK(int_array_insert(a, &xs, 3, 99) == ZM_ENOMEM);
    f.resize_fail_index = f.resize_index;
    f.fail_index = f.alloc_index;
    CHECK(int_array_resize(a, &xs, 17) == ZM_ENOMEM);
    f.resize_fail_index = f.resize_index;
    f.fail_index = f.alloc_index;
    CHECK(int_array_add_one(a, &xs) == NULL);
    CHECK(xs.items == items && xs.len == 16 && xs.cap == 16);
    int ok = 1;
    for (int i = 0; i < 16; i++) ok &= xs.items[i] == i;
    CHECK(ok);
    /* A shrink that cannot move keeps the capacity; to_owned then fails. */
    CHECK(int_array_resize(a, &xs, 10) == ZM_OK);
    f.resize_fail_index = f.resize_index;
    f.fail_index = f.alloc_index;
    int *owned = NULL;
    size_t n = 0;
    zm_status st = int_array_to_owned(a, &xs, &owned, &n);
    if (st == ZM_ENOMEM) {
        CHECK(xs.items == items && xs.len == 10 && xs.cap == 16);
        int_array_deinit(a, &xs);
    } else { /* the allocator shrank in place */
        CHECK(st == ZM_OK && n == 10);
        zm_free_array(a, owned, n);
    }
    CHECK_EQ(f.allocated_bytes, f.freed_bytes);
}

static zm_status sweep_array(zm_allocator a, void *arg) {
    (void)arg;
    int_array xs = {0};
    zm_status st = ZM_ENOMEM;
    for (int i = 0; i < 300; i++)
        if (int_array_append(a, &xs, i) != ZM_OK) goto out;
    int slice[50] = {1, 2, 3};
    if (int_array_append_slice(a, &xs, slice, 50) != ZM_OK) goto out;
    if (int_array_insert(a, &xs, 5, -5) != ZM_OK) goto out;
    if (int_array_add_one(a, &xs) == NULL) goto out;
    if (int_array_resize(a, &xs, 2000) != ZM_OK) goto out;
    if (int_array_reserve(a, &xs, 5000) != ZM_OK) goto out;
    int_array_shrink(a, &xs, 100);
    (void)int_array_swap_remove(&xs, 0);
    (void)int_array_ordered_remove(&xs, 0);
    int *owned;
    size_t n;
    if (int_array_to_owned(a, &xs, &owned, &n) != ZM_OK) goto out;
    st = n == 98 && owned[3] == 4 && owned[4] == -5 ? ZM_OK : ZM_EINTERNAL;
    zm_free_array(a, owned, n);
out:
    int_array_deinit(a, &xs);
    return st;
}

/* The same in an arena over the sweep's allocator. */
static zm_status sweep_array_arena(zm_allocator a, void *arg) {
    (void)arg;
    zm_arena ar;
    zm_arena_init_sized(&ar, a, 256);
    zm_allocator aa = zm_arena_allocator(&ar);
    big_array bs = {0};
    zm_status st = ZM_OK;
    for (int i = 0; i < 200 && st == ZM_OK; i++) st = big_array_append(aa, &bs, (big){.d = i});
    if (st == ZM_OK) st = bs.items[199].d == 199 ? ZM_OK : ZM_EINTERNAL;
    zm_arena_deinit(&ar);
    return st;
}

static zm_status sweep_zeroed(zm_allocator a, void *arg) {
    (void)arg;
    big *b = zm_create_zeroed(a, big);
    if (b == NULL) return ZM_ENOMEM;
    int *xs = zm_alloc_array_zeroed(a, int, 1000);
    if (xs == NULL) {
        zm_destroy(a, b);
        return ZM_ENOMEM;
    }
    char *raw = zm_alloc_zeroed(a, 100, 32);
    if (raw == NULL) {
        zm_free_array(a, xs, 1000);
        zm_destroy(a, b);
        return ZM_ENOMEM;
    }
    int ok =
        b->d == 0 && b->tag[23] == 0 && xs[999] == 0 && raw[99] == 0 && ((uintptr_t)raw & 31) == 0;
    zm_free(a, raw, 100, 32);
    zm_free_array(a, xs, 1000);
    zm_destroy(a, b);
    return ok ? ZM_OK : ZM_EINTERNAL;
}

static void test_zeroed(void) {
    zm_allocator a = zm_default_allocator();
    CHECK(zm_alloc_array_zeroed(a, int, SIZE_MAX / 2) == NULL); /* overflow */
    CHECK(zm_alloc_n_zeroed(a, SIZE_MAX, 2, 1) == NULL);
    CHECK(zm_alloc_zeroed(a, 8, 3) == NULL); /* not a power of two */
    CHECK(zm_alloc_zeroed(a, 0, 8) != NULL);
    CHECK(sweep_zeroed(a, NULL) == ZM_OK);
}

static void test_sweeps(void) {
    CHECK(ZM_CHECK_SWEEP(sweep_array, NULL));
    CHECK(ZM_CHECK_SWEEP(sweep_array_arena, NULL));
    CHECK(ZM_CHECK_SWEEP(sweep_zeroed, NULL));
}

int main(void) {
    RUN(test_basics);
    RUN(test_struct_items);
    RUN(test_arena);
    RUN(test_failed_growth);
    RUN(test_zeroed);
    RUN(test_sweeps);
    return zt_finish("array");
}
