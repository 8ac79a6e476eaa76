/* Object members in one line each (zm_json_object_add_str & co.): what they
   make, what they refuse, and that a failure leaves the object as it was and
   nothing allocated (under the every-failure sweep). */
#include "test.h"
#include "zmem/json.h"
#include "zmem/testing.h"

static zm_status build(zm_allocator a, zm_json **out) {
    static const char bytes[] = {'a', 0, 'b'};
    zm_json *inner = zm_json_new_array(a, 2);
    zm_json *one = zm_json_new_int(a, 1);
    if (inner == NULL || one == NULL || zm_json_array_push(a, inner, one) != ZM_OK) {
        zm_json_free(a, one);
        zm_json_free(a, inner);
        return ZM_ENOMEM;
    }
    zm_json *r = zm_json_new_object(a, 2); /* grows past its room */
    zm_status st = zm_json_object_add_str(a, r, "s", "text", 4);
    if (st == ZM_OK) st = zm_json_object_add_str(a, r, "nul", bytes, sizeof bytes);
    if (st == ZM_OK) st = zm_json_object_add_int(a, r, "i", -42);
    if (st == ZM_OK) st = zm_json_object_add_real(a, r, "d", 2.5);
    if (st == ZM_OK) st = zm_json_object_add_bool(a, r, "b", true);
    if (st == ZM_OK) st = zm_json_object_add_copy(a, r, "copy", inner);
    if (st == ZM_OK) st = zm_json_object_add_copy(a, r, "null", NULL);
    zm_json_free(a, inner);
    if (st != ZM_OK) {
        zm_json_free(a, r);
        return st;
    }
    *out = r;
    return ZM_OK;
}

static void test_members(void) {
    zm_allocator a = zm_default_allocator();
    zm_json *r = NULL;
    CHECK_EQ(build(a, &r), ZM_OK);
    char *text = NULL;
    size_t len = 0;
    CHECK_EQ(zm_json_write(a, r, 0, &text, &len), ZM_OK);
    CHECK_STR(text, "{\"s\":\"text\",\"nul\":\"a\\u0000b\",\"i\":-42,\"d\":2.5,\"b\":true,"
                    "\"copy\":[1],\"null\":null}");
    zm_free(a, text, len + 1, 1);
    size_t n;
    CHECK_STR(zm_json_str(zm_json_get(r, "s"), &n), "text"); /* a copy: NUL-terminated */
    /* Refusals: nothing made, the object unchanged. */
    size_t members = zm_json_len(r);
    CHECK_EQ(zm_json_object_add_int(a, NULL, "x", 1), ZM_ENOMEM); /* a failed constructor */
    zm_json *arr = zm_json_new_array(a, 0);
    CHECK_EQ(zm_json_object_add_bool(a, arr, "x", true), ZM_ETYPE);
    CHECK_EQ(zm_json_object_add_real(a, r, NULL, 1.0), ZM_EINVAL);
    CHECK_EQ(zm_json_object_add_str(a, r, "x", NULL, 3), ZM_EINVAL);
    CHECK_EQ(zm_json_len(r), members);
    zm_json_free(a, arr);
    zm_json_free(a, r);
}

/* A string that borrows its bytes has exactly them: no NUL is promised. */
static void test_ref_string_bytes(void) {
    zm_allocator a = zm_default_allocator();
    static const char text[] = "abcdef";
    zm_json *s = zm_json_new_string_ref(a, text, 3);
    size_t n;
    const char *p = zm_json_str(s, &n);
    CHECK(p == text && n == 3); /* the borrowed bytes themselves */
    zm_json *copy = NULL;
    CHECK_EQ(zm_json_clone(a, s, &copy), ZM_OK);
    CHECK_STR(zm_json_str(copy, NULL), "abc"); /* a copy is terminated */
    zm_json_free(a, copy);
    zm_json_free(a, s);
}

static zm_status sweep_build(zm_allocator a, void *arg) {
    (void)arg;
    zm_json *r = NULL;
    zm_status st = build(a, &r);
    zm_json_free(a, r);
    return st;
}

/* In an arena too, where each request of the builder is a failure point. */
static zm_status sweep_build_arena(zm_allocator a, void *arg) {
    (void)arg;
    zm_arena ar;
    zm_arena_init_sized(&ar, a, 256);
    zm_json *r = NULL;
    zm_status st = build(zm_arena_allocator(&ar), &r);
    zm_arena_deinit(&ar);
    return st;
}

static void test_sweep(void) {
    CHECK(ZM_CHECK_SWEEP(sweep_build, NULL));
    CHECK(ZM_CHECK_SWEEP(sweep_build_arena, NULL));
}

int main(void) {
    RUN(test_members);
    RUN(test_ref_string_bytes);
    RUN(test_sweep);
    return zt_finish("json_members");
}
