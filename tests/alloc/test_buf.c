/* The byte buffer and formatted text in arenas: every operation, failed
   growth leaving the buffer unchanged, and the every-failure sweep. */
#include "test.h"
#include "zmem/arena.h"
#include "zmem/buf.h"
#include "zmem/failing.h"
#include "zmem/testing.h"

static void test_basics(void) {
    zm_allocator a = zm_default_allocator();
    zm_buf b = {0};
    CHECK_STR(zm_buf_str(&b), "");
    /* Nothing appended, from NULL: to an empty buffer (which then holds a
       block) and to one with room (the inline path). */
    CHECK(zm_buf_append(a, &b, NULL, 0) == ZM_OK);
    CHECK(b.cap > 0 && b.len == 0 && b.data[0] == '\0');
    CHECK(zm_buf_append(a, &b, NULL, 0) == ZM_OK);
    CHECK_EQ(b.len, 0);
    /* Exactly filling the room: the NUL still fits (the block grows). */
    size_t room = b.cap - 1;
    char fill[64];
    memset(fill, 'f', sizeof fill);
    for (size_t left = room; left > 0;) {
        size_t n = left < sizeof fill ? left : sizeof fill;
        CHECK(zm_buf_append(a, &b, fill, n) == ZM_OK);
        left -= n;
    }
    CHECK(b.len == room && b.data[room] == '\0');
    CHECK(zm_buf_append(a, &b, "g", 1) == ZM_OK);
    CHECK(b.len == room + 1 && b.cap >= room + 2 && b.data[room] == 'g' && b.data[room + 1] == 0);
    zm_buf_clear(&b);
    CHECK(zm_buf_append_str(a, &b, "hello") == ZM_OK);
    CHECK(zm_buf_append_byte(a, &b, ',') == ZM_OK);
    CHECK(zm_buf_printf(a, &b, " %s %d", "world", 42) == ZM_OK);
    CHECK_STR(zm_buf_str(&b), "hello, world 42");
    CHECK_EQ(b.len, 15);
    CHECK(zm_buf_append(a, &b, "\0x", 2) == ZM_OK); /* bytes, NULs included */
    CHECK_EQ(b.len, 17);
    CHECK_EQ(b.data[16], 'x');
    CHECK_EQ(b.data[17], '\0');

    /* Text longer than the room there is, and than any first guess. */
    char big[3000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    zm_buf_clear(&b);
    CHECK_STR(zm_buf_str(&b), "");
    CHECK(zm_buf_printf(a, &b, "[%s]", big) == ZM_OK);
    CHECK_EQ(b.len, 3001);
    CHECK_EQ(b.data[3000], ']');
    CHECK_EQ(b.data[3001], '\0');
    CHECK(zm_buf_printf(a, &b, "%s", "") == ZM_OK);
    CHECK_EQ(b.len, 3001);

    for (int i = 0; i < 10000; i++) CHECK(zm_buf_append_byte(a, &b, (char)('a' + i % 26)) == ZM_OK);
    CHECK_EQ(b.len, 13001);
    CHECK(zm_buf_reserve(a, &b, 100000) == ZM_OK);
    CHECK(b.cap >= b.len + 100001);
    CHECK(zm_buf_reserve(a, &b, SIZE_MAX) == ZM_ENOMEM);

    char *s;
    size_t n;
    CHECK(zm_buf_take(a, &b, &s, &n) == ZM_OK);
    CHECK_EQ(n, 13001);
    CHECK_EQ(s[n], '\0');
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    zm_free(a, s, n + 1, 1);

    /* Taking an empty buffer gives "" of its own. */
    CHECK(zm_buf_take(a, &b, &s, NULL) == ZM_OK);
    CHECK_STR(s, "");
    zm_free(a, s, 1, 1);
    zm_buf_deinit(a, &b);
}

static void test_failed_growth(void) {
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    zm_allocator a = zm_failing_allocator(&f);
    zm_buf b = {0};
    CHECK(zm_buf_append_str(a, &b, "0123456789") == ZM_OK);
    char *data = b.data;
    size_t cap = b.cap;
    char longer[200];
    memset(longer, 'q', sizeof longer);
    f.fail_index = f.alloc_index;
    f.resize_fail_index = f.resize_index;
    CHECK(zm_buf_append(a, &b, longer, sizeof longer) == ZM_ENOMEM);
    f.fail_index = f.alloc_index;
    f.resize_fail_index = f.resize_index;
    CHECK(zm_buf_printf(a, &b, "%.*s", 200, longer) == ZM_ENOMEM);
    CHECK(b.data == data && b.cap == cap);
    CHECK_STR(zm_buf_str(&b), "0123456789"); /* the cut-short text is not kept */
    for (size_t i = b.len; i + 1 < b.cap; i++) {
        f.fail_index = f.alloc_index;
        f.resize_fail_index = f.resize_index;
        CHECK(zm_buf_append_byte(a, &b, '!') == ZM_OK); /* room: no allocation */
    }
    f.fail_index = f.alloc_index;
    f.resize_fail_index = f.resize_index;
    size_t len = b.len;
    CHECK(zm_buf_append_byte(a, &b, '?') == ZM_ENOMEM);
    CHECK_EQ(b.len, len);
    CHECK_EQ(b.data[len], '\0');
    zm_buf_deinit(a, &b);
    CHECK_EQ(f.allocated_bytes, f.freed_bytes);
}

static void test_arena_printf(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    char *s = zm_arena_printf(&ar, "%s-%d-%.2f", "x", 7, 0.5);
    CHECK_STR(s, "x-7-0.50");
    char big[1000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s = zm_arena_printf(&ar, "<%s>", big);
    CHECK(s != NULL && strlen(s) == 1001 && s[1000] == '>');
    CHECK_STR(zm_arena_printf(&ar, "%s", ""), "");
    zm_arena_deinit(&ar);

    /* A buffer in an arena grows in place while it is the latest block. */
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator aa = zm_arena_allocator(&ar);
    zm_buf b = {0};
    for (int i = 0; i < 1000; i++) CHECK(zm_buf_printf(aa, &b, "%d,", i) == ZM_OK);
    CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
    CHECK(zm_arena_used(&ar) < 2 * b.cap + 64);
    zm_arena_deinit(&ar);
}

static zm_status sweep_buf(zm_allocator a, void *arg) {
    (void)arg;
    zm_buf b = {0};
    zm_status st = ZM_ENOMEM;
    for (int i = 0; i < 200; i++)
        if (zm_buf_printf(a, &b, "line %d of %s\n", i, "the sweep") != ZM_OK) goto out;
    if (zm_buf_append_str(a, &b, "tail") != ZM_OK) goto out;
    for (int i = 0; i < 100; i++)
        if (zm_buf_append_byte(a, &b, 'x') != ZM_OK) goto out;
    if (zm_buf_reserve(a, &b, 10000) != ZM_OK) goto out;
    char *s;
    size_t n;
    if (zm_buf_take(a, &b, &s, &n) != ZM_OK) goto out;
    st = strncmp(s, "line 0 of the sweep\n", 20) == 0 && s[n - 1] == 'x' ? ZM_OK : ZM_EINTERNAL;
    zm_free(a, s, n + 1, 1);
out:
    zm_buf_deinit(a, &b);
    return st;
}

static zm_status sweep_arena_printf(zm_allocator a, void *arg) {
    (void)arg;
    zm_arena ar;
    zm_arena_init_sized(&ar, a, 256);
    zm_status st = ZM_OK;
    for (int i = 0; i < 100 && st == ZM_OK; i++) {
        char *s = zm_arena_printf(&ar, "%0*d", 10 + i * 5, i);
        if (s == NULL)
            st = ZM_ENOMEM;
        else if (strlen(s) != (size_t)(10 + i * 5))
            st = ZM_EINTERNAL;
    }
    zm_arena_deinit(&ar);
    return st;
}

static void test_sweeps(void) {
    CHECK(ZM_CHECK_SWEEP(sweep_buf, NULL));
    CHECK(ZM_CHECK_SWEEP(sweep_arena_printf, NULL));
}

int main(void) {
    RUN(test_basics);
    RUN(test_failed_growth);
    RUN(test_arena_printf);
    RUN(test_sweeps);
    return zt_finish("buf");
}
