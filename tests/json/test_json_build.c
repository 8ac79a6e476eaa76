/* Building values in code: constructors, push, set, remove, clone, equal,
   free; with an allocator that really frees (and checks every size) and with
   arenas. */
#include <math.h>

#include "checked_alloc.h"
#include "zmem/json.h"
#include "json_eq.h"

static void test_scalars(void) {
    checked c;
    zm_allocator a = checked_init(&c);
    zm_json *n = zm_json_new_null(a), *t = zm_json_new_bool(a, true),
            *f = zm_json_new_bool(a, false);
    zm_json *i = zm_json_new_int(a, INT64_MIN), *r = zm_json_new_real(a, -0.0);
    zm_json *s = zm_json_new_string(a, "a\0b", 3), *e = zm_json_new_string(a, NULL, 0);
    static const char lit[] = "borrowed";
    zm_json *sr = zm_json_new_string_ref(a, lit, 8);
    CHECK(n && t && f && i && r && s && e && sr);
    CHECK(zm_json_is_null(n) && zm_json_is_null(NULL));
    CHECK(zm_json_is_bool(t) && zm_json_bool(t) && !zm_json_bool(f) && !zm_json_bool(n));
    CHECK(zm_json_is_int(i) && zm_json_int(i) == INT64_MIN && zm_json_is_number(i));
    CHECK(zm_json_typeof(r) == ZM_JSON_REAL && signbit(zm_json_real(r)) && zm_json_is_number(r));
    size_t len = 99;
    const char *p = zm_json_str(s, &len);
    CHECK(len == 3 && memcmp(p, "a\0b", 4) == 0); /* NUL-terminated too */
    CHECK(zm_json_str(e, &len) != NULL && len == 0);
    CHECK(zm_json_str(sr, NULL) == lit);
    CHECK(zm_json_str(i, &len) == NULL && len == 0);
    CHECK(zm_json_real(i) == -9223372036854775808.0);
    int64_t got = 1;
    CHECK(zm_json_get_int(r, &got) == ZM_OK && got == 0);
    CHECK(zm_json_get_int(s, &got) == ZM_ETYPE);
    zm_json *big = zm_json_new_real(a, 9223372036854775808.0), *half = zm_json_new_real(a, 2.5);
    CHECK(zm_json_get_int(big, &got) == ZM_ELIMIT && zm_json_get_int(half, &got) == ZM_ELIMIT);
    zm_json *nan = zm_json_new_real(a, NAN);
    CHECK(zm_json_get_int(nan, &got) == ZM_ELIMIT);
    CHECK(zt_json_eq(nan, nan));
    zm_json *three = zm_json_new_real(a, 3.0), *i3 = zm_json_new_int(a, 3);
    CHECK(zm_json_get_int(three, &got) == ZM_OK && got == 3);
    CHECK(zt_json_eq(three, i3) && zt_json_eq(i3, three));
    CHECK(!zt_json_eq(half, i3) && !zt_json_eq(s, e) && !zt_json_eq(t, f));
    CHECK(zt_json_eq(n, NULL));
    zm_json *vals[] = {n, t, f, i, r, s, e, sr, big, half, nan, three, i3};
    for (size_t k = 0; k < sizeof vals / sizeof *vals; k++) zm_json_free(a, vals[k]);
    zm_json_free(a, NULL);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.misuse, 0);
    checked_deinit(&c);
}

static void test_array(void) {
    checked c;
    zm_allocator a = checked_init(&c);
    zm_json *arr = zm_json_new_array(a, 0), *arr3 = zm_json_new_array(a, 3);
    CHECK(arr && arr3 && zm_json_is_array(arr) && zm_json_len(arr) == 0);
    for (int k = 0; k < 1000; k++)
        CHECK(zm_json_array_push(a, arr, zm_json_new_int(a, k)) == ZM_OK);
    CHECK_EQ(zm_json_len(arr), 1000);
    CHECK_EQ(zm_json_int(zm_json_at(arr, 999)), 999);
    CHECK(zm_json_at(arr, 1000) == NULL && zm_json_at(NULL, 0) == NULL);
    CHECK(zm_json_array_push(a, arr3, zm_json_new_string(a, "x", 1)) == ZM_OK);
    CHECK(zm_json_array_push(a, arr, arr3) == ZM_OK); /* nested */
    zm_json *num = zm_json_new_int(a, 1);
    CHECK(zm_json_array_push(a, num, arr) == ZM_ETYPE);
    CHECK(zm_json_array_push(a, arr, NULL) == ZM_EINVAL);
    zm_json *copy = NULL;
    CHECK(zm_json_clone(a, arr, &copy) == ZM_OK);
    CHECK(copy != arr && zt_json_eq(copy, arr));
    CHECK(zm_json_array_push(a, copy, zm_json_new_null(a)) == ZM_OK);
    CHECK(!zt_json_eq(copy, arr));
    zm_json_free(a, copy);
    zm_json_free(a, arr);
    zm_json_free(a, num);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.misuse, 0);
    checked_deinit(&c);
}

/* Builds an object with n members "k0".."k<n-1>" = i through set. */
static zm_json *make_object(zm_allocator a, int n) {
    zm_json *o = zm_json_new_object(a, 0);
    char key[32];
    for (int k = 0; k < n; k++) {
        int len = snprintf(key, sizeof key, "k%d", k);
        if (zm_json_object_set(a, o, key, (size_t)len, zm_json_new_int(a, k)) != ZM_OK) CHECK(0);
    }
    return o;
}

static void test_object(void) {
    checked c;
    zm_allocator a = checked_init(&c);
    for (int n = 0; n <= 100; n += (n < 20 ? 1 : 40)) {
        zm_json *o = make_object(a, n);
        CHECK(zm_json_is_object(o) && zm_json_len(o) == (size_t)n);
        char key[32];
        for (int k = 0; k < n; k++) {
            snprintf(key, sizeof key, "k%d", k);
            CHECK_EQ(zm_json_int(zm_json_get(o, key)), k);
            CHECK_STR(zm_json_member_at(o, (size_t)k)->key, key); /* insertion order */
        }
        CHECK(zm_json_get(o, "missing") == NULL && zm_json_get(o, "k") == NULL);
        /* Replacing keeps the position and frees the old value. */
        if (n > 3) {
            CHECK(zm_json_object_set(a, o, "k2", 2, zm_json_new_string(a, "two", 3)) == ZM_OK);
            CHECK_EQ(zm_json_len(o), n);
            CHECK(zm_json_is_string(zm_json_member_at(o, 2)->value));
            /* Setting the same value again is not a free. */
            zm_json *same = zm_json_get(o, "k2");
            CHECK(zm_json_object_set(a, o, "k2", 2, same) == ZM_OK);
            CHECK(zm_json_get(o, "k2") == same);
            /* Remove keeps the order of the others and the lookups right. */
            CHECK(zm_json_object_remove(a, o, "k1", 2) == ZM_OK);
            CHECK(zm_json_object_remove(a, o, "k1", 2) == ZM_ENOTFOUND);
            CHECK_EQ(zm_json_len(o), n - 1);
            CHECK_STR(zm_json_member_at(o, 1)->key, "k2");
            for (int k = 3; k < n; k++) {
                snprintf(key, sizeof key, "k%d", k);
                CHECK_EQ(zm_json_int(zm_json_get(o, key)), k);
            }
        }
        zm_json *copy = NULL;
        CHECK(zm_json_clone(a, o, &copy) == ZM_OK);
        CHECK(zt_json_eq(o, copy));
        zm_json_free(a, copy);
        zm_json_free(a, o);
    }
    /* Keys may hold NUL; the empty key is a key. */
    zm_json *o = zm_json_new_object(a, 2);
    CHECK(zm_json_object_set(a, o, "a\0b", 3, zm_json_new_int(a, 1)) == ZM_OK);
    CHECK(zm_json_object_set(a, o, "", 0, zm_json_new_int(a, 2)) == ZM_OK);
    CHECK(zm_json_getn(o, "a", 1) == NULL);
    CHECK_EQ(zm_json_int(zm_json_getn(o, "a\0b", 3)), 1);
    CHECK_EQ(zm_json_int(zm_json_get(o, "")), 2);
    zm_json *arr = zm_json_new_array(a, 0);
    CHECK(zm_json_object_set(a, arr, "x", 1, o) == ZM_ETYPE);
    CHECK(zm_json_object_remove(a, arr, "x", 1) == ZM_ETYPE);
    CHECK(zm_json_getn(arr, "x", 1) == NULL);
    zm_json_free(a, arr);
    zm_json_free(a, o);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.misuse, 0);
    checked_deinit(&c);
}

static void test_add_ref_and_mixing(void) {
    checked c;
    zm_allocator a = checked_init(&c);
    static const char *keys[] = {"id", "name", "tags", "x",  "y",  "z",  "a1", "a2", "a3",
                                 "a4", "a5",   "a6",   "a7", "a8", "a9", "b1", "b2", "b3"};
    size_t nk = sizeof keys / sizeof *keys;
    zm_json *o = zm_json_new_object(a, 0);
    for (size_t k = 0; k < nk; k++)
        CHECK(zm_json_object_add_ref(a, o, keys[k], strlen(keys[k]),
                                     zm_json_new_int(a, (int64_t)k)) == ZM_OK);
    CHECK(zm_json_member_at(o, 0)->key == keys[0]); /* borrowed */
    CHECK_EQ(zm_json_int(zm_json_get(o, "b3")), (int64_t)nk - 1);
    /* A new key through set turns the object into one owning its keys. */
    char key[8] = "new";
    CHECK(zm_json_object_set(a, o, key, 3, zm_json_new_null(a)) == ZM_OK);
    memcpy(key, "xxx", 3);
    CHECK(zm_json_get(o, "new") != NULL);
    CHECK(zm_json_member_at(o, 0)->key != keys[0]);
    CHECK(zm_json_object_add_ref(a, o, "late", 4, zm_json_new_null(a)) == ZM_OK);
    CHECK(zm_json_get(o, "late") != NULL);
    CHECK(zm_json_object_remove(a, o, "id", 2) == ZM_OK);
    CHECK(zm_json_get(o, "id") == NULL && zm_json_get(o, "name") != NULL);
    zm_json_free(a, o);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.misuse, 0);
    checked_deinit(&c);
}

static void test_equal(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    /* Members in another order are equal; arrays are ordered. */
    zm_json *x = zm_json_new_object(a, 0), *y = zm_json_new_object(a, 0);
    for (int k = 0; k < 40; k++) {
        char key[8];
        int n = snprintf(key, sizeof key, "m%d", k);
        zm_json_object_set(a, x, key, (size_t)n, zm_json_new_int(a, k));
        n = snprintf(key, sizeof key, "m%d", 39 - k);
        zm_json_object_set(a, y, key, (size_t)n, zm_json_new_int(a, 39 - k));
    }
    CHECK(zt_json_eq(x, y));
    zm_json_object_set(a, y, "m3", 2, zm_json_new_real(a, 3.0));
    CHECK(zt_json_eq(x, y));
    zm_json_object_set(a, y, "m3", 2, zm_json_new_real(a, 3.5));
    CHECK(!zt_json_eq(x, y));
    zm_json *a1 = zm_json_new_array(a, 0), *a2 = zm_json_new_array(a, 0);
    zm_json_array_push(a, a1, zm_json_new_int(a, 1));
    zm_json_array_push(a, a1, zm_json_new_int(a, 2));
    zm_json_array_push(a, a2, zm_json_new_int(a, 2));
    zm_json_array_push(a, a2, zm_json_new_int(a, 1));
    CHECK(!zt_json_eq(a1, a2));
    CHECK(!zt_json_eq(a1, x));
    /* Deep nesting: no recursion. */
    size_t depth = zt_small() ? 20000 : 200000;
    zm_json *d1 = zm_json_new_array(a, 0), *d2 = zm_json_new_array(a, 0);
    zm_json *c1 = d1, *c2 = d2;
    for (size_t k = 0; k < depth; k++) {
        zm_json *n1 = zm_json_new_array(a, 1), *n2 = zm_json_new_array(a, 1);
        zm_json_array_push(a, c1, n1);
        zm_json_array_push(a, c2, n2);
        c1 = n1, c2 = n2;
    }
    CHECK(zt_json_eq(d1, d2));
    zm_json_array_push(a, c2, zm_json_new_null(a));
    CHECK(!zt_json_eq(d1, d2));
    zm_json *dc = NULL;
    CHECK(zm_json_clone(a, d2, &dc) == ZM_OK && zt_json_eq(dc, d2));
    zm_arena_deinit(&ar);
}

/* Values built in an arena: frees are no-ops except for the latest block. */
static void test_arena_builder(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    zm_arena_mark m = zm_arena_save(&ar);
    size_t used0 = zm_arena_used(&ar);
    zm_json *s = zm_json_new_string_ref(a, "hello", 5);
    zm_json_free(a, s);
    CHECK_EQ(zm_arena_used(&ar), used0); /* the latest block, given back */
    s = zm_json_new_string(a, "hello", 5);
    zm_json_free(a, s);
    CHECK(zm_arena_used(&ar) <= used0 + sizeof(zm_json)); /* its text at least */
    zm_json *o = make_object(a, 50);
    zm_json *copy = NULL;
    CHECK(zm_json_clone(a, o, &copy) == ZM_OK && zt_json_eq(o, copy));
    zm_json_free(a, copy);
    zm_json_free(a, o);
    zm_arena_restore(&ar, m);
    zm_arena_deinit(&ar);
}

/* Deep values are freed and cloned without recursion. */
static void test_deep_free(void) {
    checked c;
    zm_allocator a = checked_init(&c);
    size_t depth = zt_small() ? 10000 : 300000;
    zm_json *root = zm_json_new_object(a, 0), *cur = root;
    for (size_t k = 0; k < depth; k++) {
        zm_json *n = k % 2 ? zm_json_new_object(a, 0) : zm_json_new_array(a, 0);
        if (cur->type == ZM_JSON_OBJECT)
            zm_json_object_set(a, cur, "k", 1, n);
        else
            zm_json_array_push(a, cur, n);
        cur = n;
    }
    zm_json *copy = NULL;
    CHECK(zm_json_clone(a, root, &copy) == ZM_OK);
    CHECK(zt_json_eq(root, copy));
    zm_json_free(a, copy);
    zm_json_free(a, root);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.misuse, 0);
    checked_deinit(&c);
}

/* Values built from a JSON pool (which keeps no headers and routes each free
   by its exact length) go back to it: clone, set, remove and free through
   the pool, then nothing is live. */
static void test_pool_allocator(void) {
    checked c;
    zm_allocator backing = checked_init(&c);
    zm_json_pool *pool = NULL;
    CHECK(zm_json_pool_create(backing, &pool) == ZM_OK);
    zm_allocator a = zm_json_pool_allocator(pool);
    for (int round = 0; round < 3; round++) {
        zm_json *o = make_object(a, 60); /* hashed; keys owned */
        zm_json *arr = zm_json_new_array(a, 0);
        for (int k = 0; k < 100; k++) {
            char text[64];
            int n = snprintf(text, sizeof text, "string number %d with some length", k);
            zm_json_array_push(a, arr, zm_json_new_string(a, text, (size_t)n));
        }
        zm_json_object_set(a, o, "list", 4, arr);
        zm_json_object_set(a, o, "k3", 2, zm_json_new_real(a, 1.5)); /* replaces */
        zm_json_object_remove(a, o, "k4", 2);
        zm_json *copy = NULL;
        CHECK(zm_json_clone(a, o, &copy) == ZM_OK && zt_json_eq(o, copy));
        zm_json_free(a, o);
        zm_json_free(a, copy);
        zm_json_pool_stats st;
        zm_json_pool_stats_get(pool, &st);
        CHECK_EQ(st.live_values, 0);
        CHECK(st.pool_hits > 0);
    }
    zm_json_pool_destroy(pool);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.misuse, 0);
    checked_deinit(&c);
}

/* ---------------------------------------------------------------------------
 * Every allocating function under the failing-allocator sweep
 * ------------------------------------------------------------------------- */

static zm_status sw_constructors(zm_allocator a, void *arg) {
    (void)arg;
    zm_json *v[8] = {zm_json_new_null(a),
                     zm_json_new_bool(a, true),
                     zm_json_new_int(a, 5),
                     zm_json_new_real(a, 1.5),
                     zm_json_new_string(a, "abc", 3),
                     zm_json_new_string_ref(a, "abc", 3),
                     zm_json_new_array(a, 4),
                     zm_json_new_object(a, 4)};
    zm_status st = ZM_OK;
    for (int k = 0; k < 8; k++) {
        if (v[k] == NULL) st = ZM_ENOMEM;
        zm_json_free(a, v[k]);
    }
    return st;
}

/* Builds {"k0":0,...} with 40 members, an array of 40 items, sets, adds,
   removes, and clones, freeing everything whatever fails. */
static zm_status sw_build(zm_allocator a, void *arg) {
    (void)arg;
    zm_status st = ZM_OK;
    zm_json *o = zm_json_new_object(a, 0), *arr = zm_json_new_array(a, 0), *copy = NULL;
    if (o == NULL || arr == NULL) {
        st = ZM_ENOMEM;
        goto done;
    }
    char key[16];
    for (int k = 0; k < 40 && st == ZM_OK; k++) {
        int n = snprintf(key, sizeof key, "k%d", k);
        zm_json *v = zm_json_new_int(a, k);
        if (v == NULL) {
            st = ZM_ENOMEM;
            break;
        }
        st = zm_json_object_set(a, o, key, (size_t)n, v);
        if (st != ZM_OK) {
            zm_json_free(a, v);
            break;
        }
        zm_json *s = zm_json_new_string(a, key, (size_t)n);
        if (s == NULL) {
            st = ZM_ENOMEM;
            break;
        }
        st = zm_json_array_push(a, arr, s);
        if (st != ZM_OK) zm_json_free(a, s);
    }
    if (st != ZM_OK) goto done;
    /* replace, remove */
    zm_json *r = zm_json_new_bool(a, false);
    if (r == NULL) {
        st = ZM_ENOMEM;
        goto done;
    }
    if ((st = zm_json_object_set(a, o, "k5", 2, r)) != ZM_OK) {
        zm_json_free(a, r);
        goto done;
    }
    if ((st = zm_json_object_remove(a, o, "k7", 2)) != ZM_OK) goto done;
    /* the array into the object, then add_ref on an owning object */
    if ((st = zm_json_object_set(a, o, "list", 4, arr)) != ZM_OK) goto done;
    arr = NULL;
    zm_json *n = zm_json_new_null(a);
    if (n == NULL) {
        st = ZM_ENOMEM;
        goto done;
    }
    if ((st = zm_json_object_add_ref(a, o, "ref", 3, n)) != ZM_OK) {
        zm_json_free(a, n);
        goto done;
    }
    st = zm_json_clone(a, o, &copy);
    if (st == ZM_OK && !zt_json_eq(o, copy)) st = ZM_EINTERNAL;
done:
    zm_json_free(a, copy);
    zm_json_free(a, arr);
    zm_json_free(a, o);
    return st;
}

/* add_ref on a borrowing object, then set of a new key (copies every key). */
static zm_status sw_borrowed_then_set(zm_allocator a, void *arg) {
    (void)arg;
    static const char *keys[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i",
                                 "j", "k", "l", "m", "n", "o", "p", "q", "r"};
    zm_status st = ZM_OK;
    zm_json *o = zm_json_new_object(a, 0);
    if (o == NULL) return ZM_ENOMEM;
    for (size_t k = 0; k < sizeof keys / sizeof *keys && st == ZM_OK; k++) {
        zm_json *v = zm_json_new_int(a, (int64_t)k);
        if (v == NULL) {
            st = ZM_ENOMEM;
            break;
        }
        st = zm_json_object_add_ref(a, o, keys[k], 1, v);
        if (st != ZM_OK) zm_json_free(a, v);
    }
    if (st == ZM_OK) {
        zm_json *v = zm_json_new_int(a, 99);
        if (v == NULL)
            st = ZM_ENOMEM;
        else if ((st = zm_json_object_set(a, o, "zz", 2, v)) != ZM_OK)
            zm_json_free(a, v);
    }
    zm_json_free(a, o);
    return st;
}

/* zm_json_equal under the sweep: every work-stack allocation it makes fails
   in turn, and must come back as ZM_ENOMEM (with *equal false), never as an
   answer. */
typedef struct eq_pair {
    const zm_json *x, *y;
    bool want;
} eq_pair;

static zm_status sw_equal(zm_allocator a, void *arg) {
    const eq_pair *p = arg;
    bool eq = !p->want;
    zm_status st = zm_json_equal(a, p->x, p->y, &eq);
    if (st == ZM_OK) return eq == p->want ? ZM_OK : ZM_EINTERNAL;
    return eq ? ZM_EINTERNAL : st;
}

/* Nested arrays depth deep around leaf (NULL: the innermost is empty). */
static zm_json *nest(zm_allocator a, size_t depth, zm_json *leaf) {
    zm_json *root = zm_json_new_array(a, 1), *cur = root;
    for (size_t k = 1; k < depth; k++) {
        zm_json *n = zm_json_new_array(a, 1);
        zm_json_array_push(a, cur, n);
        cur = n;
    }
    if (leaf != NULL) zm_json_array_push(a, cur, leaf);
    return root;
}

/* zm_json_equal takes its work stack from the allocator it is given (values
   nested deeper than 64 levels), gives it back, and says out of memory
   apart from unequal. */
static void test_equal_allocator(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator va = zm_arena_allocator(&ar);
    zm_json *d1 = nest(va, 300, zm_json_new_int(va, 1));
    zm_json *d2 = nest(va, 300, zm_json_new_int(va, 1));
    zm_json *d3 = nest(va, 300, zm_json_new_int(va, 2));
    zm_json *s1 = nest(va, 10, NULL), *s2 = nest(va, 10, NULL);

    checked c;
    zm_allocator a = checked_init(&c);
    bool eq = false;
    CHECK(zm_json_equal(a, d1, d2, &eq) == ZM_OK && eq);
    CHECK(c.attempts > 0); /* the stack came from a */
    CHECK_EQ(c.live, 0);   /* and went back to it */
    size_t attempts = c.attempts;
    CHECK(zm_json_equal(a, d1, d3, &eq) == ZM_OK && !eq);
    CHECK(zm_json_equal(a, s1, s2, &eq) == ZM_OK && eq);
    CHECK(zm_json_equal(a, s1, d1, &eq) == ZM_OK && !eq);
    CHECK(zm_json_equal(a, d1, d1, &eq) == ZM_OK && eq);
    CHECK(zm_json_equal(a, d1, d2, NULL) == ZM_EINVAL);
    /* the shallow ones allocate nothing */
    CHECK_EQ(c.attempts, 2 * attempts);
    /* out of memory is not "unequal" */
    c.fail_at = c.attempts + 1;
    eq = true;
    CHECK(zm_json_equal(a, d1, d2, &eq) == ZM_ENOMEM && !eq);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.misuse, 0);
    checked_deinit(&c);

    eq_pair same = {d1, d2, true}, differ = {d1, d3, false};
    CHECK(ZM_CHECK_SWEEP(sw_equal, &same));
    CHECK(ZM_CHECK_SWEEP(sw_equal, &differ));
    zm_arena_deinit(&ar);
}

static void test_sweeps(void) {
    CHECK(ck_sweep("constructors", sw_constructors, NULL) > 8);
    CHECK(ck_sweep("build", sw_build, NULL) > 100);
    CHECK(ck_sweep("borrowed_then_set", sw_borrowed_then_set, NULL) > 20);
}

int main(void) {
    RUN(test_scalars);
    RUN(test_array);
    RUN(test_object);
    RUN(test_add_ref_and_mixing);
    RUN(test_equal);
    RUN(test_equal_allocator);
    RUN(test_arena_builder);
    RUN(test_deep_free);
    RUN(test_pool_allocator);
    RUN(test_sweeps);
    return zt_finish("json_build");
}
