/* The hash map: every operation, removal without tombstones, caller's hooks,
   failed growth leaving the map unchanged, and the every-failure sweep. */
#include <ctype.h>

#include "test.h"
#include "zmem/arena.h"
#include "zmem/failing.h"
#include "zmem/map.h"
#include "zmem/testing.h"

ZM_MAP_TYPED(int_map, int);
ZM_MAP_TYPED(ptr_map, void *);

typedef struct pair {
    uint64_t a, b, c;
} pair;
ZM_MAP_TYPED(pair_map, pair);

/* A value wider than the 64-byte slots that growth moves through a slot on
   the stack: such slots are moved by a branch on whether the key stays. */
typedef struct big {
    uint64_t n[5];
} big;
ZM_MAP_TYPED(big_map, big);

typedef struct wide {
    _Alignas(16) unsigned char bytes[16];
} wide;
ZM_MAP_TYPED(wide_map, wide);

/* n keys "key-<i>" in one block, each NUL-terminated, i from 0. */
static char *make_keys(size_t n, size_t **lens_out) {
    char *keys = malloc(n * 24);
    size_t *lens = malloc(n * sizeof *lens);
    for (size_t i = 0; i < n; i++) lens[i] = (size_t)snprintf(keys + i * 24, 24, "key-%zu", i);
    *lens_out = lens;
    return keys;
}

static void test_basics(void) {
    zm_allocator a = zm_default_allocator();
    int_map m = {0};
    CHECK(int_map_get_str(&m, "absent") == NULL);
    CHECK(!int_map_remove_str(&m, "absent", NULL));
    CHECK(int_map_put_str(a, &m, "one", 1) == ZM_OK);
    CHECK(int_map_put_str(a, &m, "two", 2) == ZM_OK);
    CHECK(int_map_put(a, &m, "", 0, 0) == ZM_OK);     /* the empty key */
    CHECK(int_map_put(a, &m, "a\0b", 3, 3) == ZM_OK); /* bytes, NULs included */
    CHECK_EQ(int_map_count(&m), 4);
    CHECK(int_map_get_str(&m, "one") && *int_map_get_str(&m, "one") == 1);
    CHECK(int_map_get(&m, "", 0) && *int_map_get(&m, "", 0) == 0);
    CHECK(int_map_get(&m, "a\0b", 3) && *int_map_get(&m, "a\0b", 3) == 3);
    CHECK(int_map_get(&m, "a", 1) == NULL);
    CHECK(int_map_put_str(a, &m, "one", 11) == ZM_OK); /* replaces */
    CHECK_EQ(*int_map_get_str(&m, "one"), 11);
    CHECK_EQ(int_map_count(&m), 4);

    int *v;
    bool found;
    CHECK(int_map_get_or_put(a, &m, "three", 5, &v, &found) == ZM_OK);
    CHECK(!found && *v == 0);
    *v = 3;
    CHECK(int_map_get_or_put(a, &m, "three", 5, &v, &found) == ZM_OK);
    CHECK(found && *v == 3);

    int old = 0;
    CHECK(int_map_remove_str(&m, "two", &old));
    CHECK_EQ(old, 2);
    CHECK(int_map_get_str(&m, "two") == NULL);
    CHECK_EQ(int_map_count(&m), 4);

    size_t it = 0, seen = 0, len;
    const void *key;
    int sum = 0;
    while (int_map_next(&m, &it, &key, &len, &v)) {
        seen++;
        sum += *v;
        CHECK(int_map_get(&m, key, len) == v);
    }
    CHECK_EQ(seen, 4);
    CHECK_EQ(sum, 11 + 0 + 3 + 3);

    size_t cap = m.map.cap;
    int_map_clear(&m);
    CHECK_EQ(int_map_count(&m), 0);
    CHECK_EQ(m.map.cap, cap);
    CHECK(int_map_get_str(&m, "one") == NULL);
    it = 0;
    CHECK(!int_map_next(&m, &it, NULL, NULL, NULL));
    int_map_deinit(a, &m);
    int_map_deinit(a, &m);
}

/* Many keys, removals in every order, and a check that every key left is
   still found: backward-shift deletion keeps every run intact. */
static void test_many(void) {
    zm_allocator a = zm_default_allocator();
    size_t n = zt_small() ? 20000 : 200000, *lens;
    char *keys = make_keys(n, &lens);
    int_map m = {0};
    for (size_t i = 0; i < n; i++)
        CHECK(int_map_put(a, &m, keys + i * 24, lens[i], (int)i) == ZM_OK);
    CHECK_EQ(int_map_count(&m), n);
    CHECK(m.map.count * 4 <= m.map.cap * 3);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        int *v = int_map_get(&m, keys + i * 24, lens[i]);
        bad += v == NULL || *v != (int)i;
    }
    CHECK_EQ(bad, 0);
    CHECK(int_map_get_str(&m, "key-x") == NULL);
    /* Remove every third key, then check all. */
    for (size_t i = 0; i < n; i += 3) CHECK(int_map_remove(&m, keys + i * 24, lens[i], NULL));
    bad = 0;
    for (size_t i = 0; i < n; i++) {
        int *v = int_map_get(&m, keys + i * 24, lens[i]);
        bad += i % 3 == 0 ? v != NULL : (v == NULL || *v != (int)i);
    }
    CHECK_EQ(bad, 0);
    /* Churn: insert and remove forever in a table that never grows. */
    size_t cap = m.map.cap;
    for (int round = 0; round < 5; round++) {
        for (size_t i = 0; i < n; i += 3)
            CHECK(int_map_put(a, &m, keys + i * 24, lens[i], 1) == ZM_OK);
        for (size_t i = 0; i < n; i += 3) CHECK(int_map_remove(&m, keys + i * 24, lens[i], NULL));
    }
    CHECK_EQ(m.map.cap, cap);
    CHECK_EQ(int_map_count(&m), n - (n + 2) / 3);
    bad = 0;
    for (size_t i = 1; i < n; i += 3) bad += int_map_get(&m, keys + i * 24, lens[i]) == NULL;
    CHECK_EQ(bad, 0);
    int_map_deinit(a, &m);
    free(keys);
    free(lens);
}

/* Keys whose hash is the number they spell: their homes are chosen, so runs
   can be made to wrap past the last slot, from the last group of 16 control
   bytes to the first. */
static uint64_t number_hash(const void *key, size_t len, uint64_t seed) {
    (void)seed;
    return strtoull((const char *)key, NULL, 10) + 0 * len;
}

static bool bytes_eq(const void *a, size_t a_len, const void *b, size_t b_len) {
    return a_len == b_len && memcmp(a, b, a_len) == 0;
}

static void test_wrap(void) {
    static const zm_map_hooks hooks = {number_hash, bytes_eq};
    static const char *const keys[] = {"13", "29", "45", "61", "14", "77", "93", "15", "16", "32"};
    enum { N = sizeof keys / sizeof *keys };
    zm_allocator a = zm_default_allocator();
    for (size_t gone = 0; gone < N; gone++) {
        int_map m;
        int_map_init(&m, &hooks);
        for (int i = 0; i < N; i++) CHECK(int_map_put_str(a, &m, keys[i], i) == ZM_OK);
        CHECK_EQ(m.map.cap, 16); /* homes 13, 14, 15 and 0: the run wraps */
        CHECK(int_map_remove_str(&m, keys[gone], NULL));
        CHECK(int_map_get_str(&m, keys[gone]) == NULL);
        for (int i = 0; i < N; i++) {
            int *v = int_map_get_str(&m, keys[i]);
            CHECK((size_t)i == gone ? v == NULL : v != NULL && *v == i);
        }
        CHECK(int_map_get_str(&m, "0") == NULL && int_map_get_str(&m, "109") == NULL);
        CHECK(int_map_put_str(a, &m, keys[gone], 100) == ZM_OK);
        CHECK_EQ(*int_map_get_str(&m, keys[gone]), 100);
        CHECK_EQ(int_map_count(&m), N);
        int_map_deinit(a, &m);
    }
}

/* Growth in place of a table of segments whose last run wraps past its last
   slot to slot 0 (the keys of that run are rehashed apart from the rest), or
   ends at its last slot with slot 0 empty, or whose last slot is empty: by
   doubling and by a reserve that grows four times over, every key is found
   after each. The fill keys have no home within 8 slots of either end of
   4096, so at 4096 slots the three cases are as named. */
static void test_wrap_growth(void) {
    static const zm_map_hooks hooks = {number_hash, bytes_eq};
    /* Homes in 4096 slots: 4093 to 4095 and 0 to 2 (a run that must wrap),
       half of them moving at each doubling; in 8192 slots, 8189 to 8191 and
       0 (a run that wraps again). */
    static const char *const wrap[] = {"4093",  "8189",  "4094",  "12286", "4095",  "8191",
                                       "4096",  "8192",  "16385", "16386", "16381", "24573",
                                       "16382", "24575", "24576", "20479", "8190"};
    /* Two keys whose home is 4094: a run of slots 4094 and 4095, the last. */
    static const char *const edge[] = {"4094", "8190"};
    static const struct {
        const char *const *keys;
        size_t n;
    } cases[] = {{wrap, sizeof wrap / sizeof *wrap}, {edge, sizeof edge / sizeof *edge}, {NULL, 0}};
    zm_allocator a = zm_default_allocator();
    enum { FILL = 2500 };
    char(*fill)[24] = malloc(FILL * sizeof *fill);
    for (size_t i = 0, x = 100000; i < FILL; x += 7) {
        size_t home = x & 4095;
        if (home >= 8 && home < 4088) snprintf(fill[i++], sizeof *fill, "%zu", x);
    }
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        int_map m;
        int_map_init(&m, &hooks);
        CHECK(int_map_reserve(a, &m, 3000) == ZM_OK);
        CHECK_EQ(m.map.cap, 4096);
        for (size_t i = 0; i < cases[c].n; i++)
            CHECK(int_map_put_str(a, &m, cases[c].keys[i], (int)i) == ZM_OK);
        for (size_t i = 0; i < FILL; i++)
            CHECK(int_map_put_str(a, &m, fill[i], (int)(1000 + i)) == ZM_OK);
        static const size_t grow_to[] = {3073, 6145, 30000};
        static const size_t caps[] = {8192, 16384, 65536};
        for (size_t g = 0; g < 3; g++) {
            CHECK(int_map_reserve(a, &m, grow_to[g]) == ZM_OK);
            CHECK_EQ(m.map.cap, caps[g]);
            size_t bad = 0;
            for (size_t i = 0; i < cases[c].n; i++) {
                int *v = int_map_get_str(&m, cases[c].keys[i]);
                bad += v == NULL || *v != (int)i;
            }
            for (size_t i = 0; i < FILL; i++) {
                int *v = int_map_get_str(&m, fill[i]);
                bad += v == NULL || *v != (int)(1000 + i);
            }
            CHECK_EQ(bad, 0);
            CHECK_EQ(int_map_count(&m), cases[c].n + FILL);
            CHECK(int_map_get_str(&m, "4097") == NULL && int_map_get_str(&m, "12285") == NULL);
        }
        /* Removing every wrapped key leaves the rest found. */
        for (size_t i = 0; i < cases[c].n; i++)
            CHECK(int_map_remove_str(&m, cases[c].keys[i], NULL));
        size_t bad = 0;
        for (size_t i = 0; i < FILL; i++) bad += int_map_get_str(&m, fill[i]) == NULL;
        CHECK_EQ(bad, 0);
        int_map_deinit(a, &m);
    }
    free(fill);
}

/* Case-insensitive keys through the caller's hooks. */
static uint64_t nocase_hash(const void *key, size_t len, uint64_t seed) {
    char low[64];
    size_t n = len < sizeof low ? len : sizeof low;
    for (size_t i = 0; i < n; i++) low[i] = (char)tolower(((const unsigned char *)key)[i]);
    return zm_hash_bytes(low, n, seed);
}
static bool nocase_eq(const void *x, size_t xn, const void *y, size_t yn) {
    if (xn != yn) return false;
    for (size_t i = 0; i < xn; i++)
        if (tolower(((const unsigned char *)x)[i]) != tolower(((const unsigned char *)y)[i]))
            return false;
    return true;
}
static const zm_map_hooks nocase = {nocase_hash, nocase_eq};

/* Keys that are structs, compared by one field. */
typedef struct point {
    int x, y;
} point;
static uint64_t point_hash(const void *key, size_t len, uint64_t seed) {
    (void)len;
    const point *p = key;
    return zm_hash_mix((uint64_t)(uint32_t)p->x << 32 ^ (uint32_t)p->y, seed ^ 0x9E3779B97F4A7C15u);
}
static bool point_eq(const void *x, size_t xn, const void *y, size_t yn) {
    (void)xn, (void)yn;
    const point *p = x, *q = y;
    return p->x == q->x && p->y == q->y;
}
static const zm_map_hooks point_hooks = {point_hash, point_eq};

static void test_hooks(void) {
    zm_allocator a = zm_default_allocator();
    int_map m;
    int_map_init(&m, &nocase);
    CHECK(int_map_put_str(a, &m, "Content-Type", 1) == ZM_OK);
    CHECK(int_map_get_str(&m, "content-type") && *int_map_get_str(&m, "CONTENT-TYPE") == 1);
    CHECK(int_map_put_str(a, &m, "CONTENT-type", 2) == ZM_OK);
    CHECK_EQ(int_map_count(&m), 1);
    CHECK(int_map_remove_str(&m, "content-TYPE", NULL));
    int_map_deinit(a, &m);

    ptr_map pm;
    ptr_map_init(&pm, &point_hooks);
    point pts[500];
    for (int i = 0; i < 500; i++) {
        pts[i] = (point){i, -i};
        CHECK(ptr_map_put(a, &pm, &pts[i], sizeof(point), &pts[i]) == ZM_OK);
    }
    point probe = {123, -123};
    void **v = ptr_map_get(&pm, &probe, sizeof probe);
    CHECK(v != NULL && *v == &pts[123]);
    probe.y = 5;
    CHECK(ptr_map_get(&pm, &probe, sizeof probe) == NULL);
    ptr_map_deinit(a, &pm);
}

static void test_values(void) {
    zm_allocator a = zm_default_allocator();
    CHECK_EQ(ZM_MAP_STRIDE(int), 48);
    CHECK_EQ(ZM_MAP_STRIDE(void *), 48);
    CHECK_EQ(ZM_MAP_STRIDE(pair), 64);
    CHECK_EQ(ZM_MAP_STRIDE(wide), 64);
    pair_map m = {0};
    for (uint64_t i = 0; i < 100; i++) {
        char *k = malloc(8);
        snprintf(k, 8, "p%" PRIu64, i);
        CHECK(pair_map_put_str(a, &m, k, (pair){i, i * 2, i * 3}) == ZM_OK);
    }
    pair *p = pair_map_get_str(&m, "p42");
    CHECK(p != NULL && p->c == 126);
    size_t it = 0;
    const void *key;
    while (pair_map_next(&m, &it, &key, NULL, NULL)) free((void *)key);
    pair_map_deinit(a, &m);

    wide_map w = {0};
    wide x;
    memset(x.bytes, 7, sizeof x.bytes);
    CHECK(wide_map_put_str(a, &w, "w", x) == ZM_OK);
    wide *wp = wide_map_get_str(&w, "w");
    CHECK(wp != NULL && ((uintptr_t)wp & 15) == 0 && wp->bytes[15] == 7);
    /* Every slot's value is aligned, through growths and backward shifts. */
    static const char *const names[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
                                        "k", "l", "m", "n", "o", "p", "q", "r", "s", "t"};
    for (size_t i = 0; i < 20; i++) {
        x.bytes[15] = (unsigned char)i;
        CHECK(wide_map_put_str(a, &w, names[i], x) == ZM_OK);
    }
    CHECK(wide_map_remove_str(&w, "c", NULL));
    size_t it2 = 0, n = 0;
    const void *k2;
    while (wide_map_next(&w, &it2, &k2, NULL, &wp)) {
        n++;
        CHECK(((uintptr_t)wp & 15) == 0 && wp->bytes[0] == 7);
        CHECK(strcmp(k2, "w") == 0 || wp->bytes[15] == (unsigned char)(*(const char *)k2 - 'a'));
    }
    CHECK_EQ(n, 20);
    wide_map_deinit(a, &w);
    /* The same in a table of segments, grown in place. */
    size_t *lens;
    char *keys = make_keys(10000, &lens);
    for (size_t i = 0; i < 10000; i++) {
        memcpy(x.bytes, &i, sizeof i);
        CHECK(wide_map_put(a, &w, keys + i * 24, lens[i], x) == ZM_OK);
    }
    CHECK(w.map.cap > 4096);
    it2 = n = 0;
    size_t bad = 0;
    while (wide_map_next(&w, &it2, &k2, NULL, &wp)) {
        size_t i;
        memcpy(&i, wp->bytes, sizeof i);
        bad += ((uintptr_t)wp & 15) != 0 || i >= 10000 || k2 != keys + i * 24;
        n++;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(n, 10000);
    wide_map_deinit(a, &w);
    free(keys);
    free(lens);
}

/* Keys of every length around the 24 bytes kept in the slot, each in a block
   of exactly its length (so that a read past a key shows under ASan), and
   keys that differ from them in one byte only: in the slot's bytes, past
   them, first or last. */
static void test_lengths(void) {
    zm_allocator a = zm_default_allocator();
    enum { MAXLEN = 64 };
    int_map m = {0};
    char *keys[MAXLEN + 1];
    for (size_t n = 0; n <= MAXLEN; n++) {
        keys[n] = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++) keys[n][i] = (char)('A' + (i * 7 + n) % 26);
        CHECK(int_map_put(a, &m, keys[n], n, (int)n) == ZM_OK);
    }
    CHECK_EQ(int_map_count(&m), MAXLEN + 1);
    /* Put again through copies: each key's value is replaced, none added. */
    for (size_t n = 0; n <= MAXLEN; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, keys[n], n);
        CHECK(int_map_put(a, &m, copy, n, (int)n + 100) == ZM_OK);
        CHECK(int_map_put(a, &m, keys[n], n, (int)n) == ZM_OK);
        free(copy);
    }
    CHECK_EQ(int_map_count(&m), MAXLEN + 1);
    size_t bad = 0;
    for (size_t n = 0; n <= MAXLEN; n++) {
        char *probe = malloc(n ? n : 1);
        memcpy(probe, keys[n], n);
        int *v = int_map_get(&m, probe, n);
        bad += v == NULL || *v != (int)n;
        for (size_t i = 0; i < n; i++) {
            probe[i] ^= 0x20;
            bad += int_map_get(&m, probe, n) != NULL;
            probe[i] ^= 0x20;
        }
        if (n > 1) /* the empty key is in the map */
            bad +=
                int_map_get(&m, probe, n - 1) != NULL || int_map_get(&m, probe + 1, n - 1) != NULL;
        free(probe);
    }
    CHECK_EQ(bad, 0);
    for (size_t n = 0; n <= MAXLEN; n += 2) CHECK(int_map_remove(&m, keys[n], n, NULL));
    bad = 0;
    for (size_t n = 0; n <= MAXLEN; n++)
        bad += (int_map_get(&m, keys[n], n) != NULL) != (n % 2 == 1);
    CHECK_EQ(bad, 0);
    int_map_deinit(a, &m);
    for (size_t n = 0; n <= MAXLEN; n++) free(keys[n]);
}

/* The stored hash of a key in m, as alloc/map.c makes it. */
static uint32_t stored_hash(const int_map *m, const void *key, size_t len) {
    uint64_t h = zm_hash_bytes(key, len, m->map.seed);
    uint32_t h32 = (uint32_t)h ^ (uint32_t)(h >> 32);
    return h32 ? h32 : 1;
}

typedef struct hash_index {
    uint32_t h, i;
} hash_index;

static int cmp_hash_index(const void *x, const void *y) {
    const hash_index *a = x, *b = y;
    return a->h != b->h ? (a->h < b->h ? -1 : 1) : (a->i < b->i ? -1 : a->i > b->i);
}

/* Two keys of len bytes with the same stored hash in m, differing only in
   the 4 bytes at off: found among 2^18 candidates (about 8 such pairs are
   expected; 2^16 and 0.5 under valgrind; another batch is tried when there
   is none). The keys are malloc'd blocks of exactly len bytes. */
static bool colliding_pair(const int_map *m, size_t len, size_t off, char **k1, char **k2) {
    const uint32_t N = zt_small() ? 1u << 16 : 1u << 18;
    hash_index *hs = malloc(N * sizeof *hs);
    char *key = malloc(len);
    bool ok = false;
    for (uint32_t batch = 0; batch < 32 && !ok; batch++) {
        memset(key, 'a' + (int)batch, len);
        for (uint32_t i = 0; i < N; i++) {
            memcpy(key + off, &i, 4);
            hs[i] = (hash_index){stored_hash(m, key, len), i};
        }
        qsort(hs, N, sizeof *hs, cmp_hash_index);
        for (uint32_t i = 1; i < N && !ok; i++) {
            if (hs[i].h != hs[i - 1].h) continue;
            *k1 = malloc(len), *k2 = malloc(len);
            memcpy(*k1, key, len), memcpy(*k2, key, len);
            memcpy(*k1 + off, &hs[i - 1].i, 4), memcpy(*k2 + off, &hs[i].i, 4);
            ok = true;
        }
    }
    free(key);
    free(hs);
    return ok;
}

/* Keys with equal hashes that differ in a few bytes: in the slot's first 8,
   its middle 8 and its last 8 bytes, just past them, and far past them (the
   comparison of the rest through the key's pointer). */
static void test_collisions(void) {
    zm_allocator a = zm_default_allocator();
    static const size_t cases[][2] = {{12, 4},  {24, 2},  {24, 10}, {24, 18},
                                      {22, 12}, {30, 24}, {44, 36}, {70, 60}};
    int_map m = {0};
    CHECK(int_map_put_str(a, &m, "seed", 0) == ZM_OK); /* the map has its seed now */
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        size_t len = cases[c][0], off = cases[c][1];
        char *k1, *k2;
        bool found = colliding_pair(&m, len, off, &k1, &k2);
        CHECK(found);
        if (!found) continue;
        CHECK(int_map_put(a, &m, k1, len, 1) == ZM_OK);
        CHECK(int_map_get(&m, k2, len) == NULL);
        CHECK(!int_map_remove(&m, k2, len, NULL));
        CHECK(int_map_put(a, &m, k2, len, 2) == ZM_OK);
        int *v1 = int_map_get(&m, k1, len), *v2 = int_map_get(&m, k2, len);
        CHECK(v1 && v2 && *v1 == 1 && *v2 == 2);
        CHECK(int_map_remove(&m, k1, len, NULL));
        v2 = int_map_get(&m, k2, len);
        CHECK(int_map_get(&m, k1, len) == NULL && v2 && *v2 == 2);
        CHECK(int_map_remove(&m, k2, len, NULL));
        free(k1);
        free(k2);
    }
    CHECK_EQ(int_map_count(&m), 1);
    int_map_deinit(a, &m);
}

static void test_seeds(void) {
    uint64_t s1 = zm_hash_seed(), s2 = zm_hash_seed();
    CHECK(s1 != 0 && s2 != 0 && s1 != s2);
    CHECK(zm_hash_bytes("abc", 3, 1) != zm_hash_bytes("abc", 3, 2));
    CHECK(zm_hash_bytes("abc", 3, 1) == zm_hash_bytes("abc", 3, 1));
    /* Every length up to 40 reads only its own bytes (ASan checks) and
       distinguishes its last byte. */
    char buf[40];
    memset(buf, 'k', sizeof buf);
    for (size_t n = 1; n <= sizeof buf; n++) {
        char *k = malloc(n);
        memcpy(k, buf, n);
        uint64_t h = zm_hash_bytes(k, n, 9);
        k[n - 1] = 'j';
        CHECK(h != zm_hash_bytes(k, n, 9));
        free(k);
    }
    /* Two maps with the same keys lay them out differently. */
    zm_allocator a = zm_default_allocator();
    int_map m1 = {0}, m2 = {0};
    CHECK(int_map_put_str(a, &m1, "x", 1) == ZM_OK);
    CHECK(int_map_put_str(a, &m2, "x", 1) == ZM_OK);
    CHECK(m1.map.seed != m2.map.seed);
    int_map_deinit(a, &m1);
    int_map_deinit(a, &m2);
}

static void test_arena(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator aa = zm_arena_allocator(&ar);
    int_map m = {0};
    for (int i = 0; i < 1000; i++) {
        char *k = zm_arena_printf(&ar, "k%d", i);
        CHECK(k && int_map_put_str(aa, &m, k, i) == ZM_OK);
    }
    CHECK(int_map_get_str(&m, "k999") && *int_map_get_str(&m, "k999") == 999);
    zm_arena_deinit(&ar); /* keys and map die together */
}

static void test_failed_growth(void) {
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    zm_allocator a = zm_failing_allocator(&f);
    int_map m = {0};
    size_t *lens;
    char *keys = make_keys(100, &lens);
    size_t i = 0;
    for (; i < 12; i++) CHECK(int_map_put(a, &m, keys + i * 24, lens[i], (int)i) == ZM_OK);
    CHECK_EQ(m.map.cap, 16);
    void *slots = m.map.slots;
    f.fail_index = f.alloc_index;
    CHECK(int_map_put(a, &m, keys + i * 24, lens[i], 13) == ZM_ENOMEM);
    CHECK(m.map.slots == slots && m.map.count == 12 && m.map.cap == 16);
    CHECK(int_map_get(&m, keys + i * 24, lens[i]) == NULL);
    /* A key already there is still answered, full map or not. */
    f.fail_index = f.alloc_index;
    CHECK(int_map_put(a, &m, keys, lens[0], 100) == ZM_OK);
    CHECK_EQ(*int_map_get(&m, keys, lens[0]), 100);
    f.fail_index = f.alloc_index;
    CHECK(int_map_reserve(a, &m, 1000) == ZM_ENOMEM);
    CHECK(m.map.slots == slots);
    CHECK(int_map_reserve(a, &m, SIZE_MAX) == ZM_ELIMIT);
    int_map_deinit(a, &m);
    CHECK_EQ(f.allocated_bytes, f.freed_bytes);
    free(keys);
    free(lens);
}

/* A growth of a table of segments (past 2048 slots) failing at each of its
   allocations (the directory, each of the 4 new segments) leaves the map as
   it was. */
static void test_failed_segment_growth(void) {
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    zm_allocator a = zm_failing_allocator(&f);
    int_map m = {0};
    size_t *lens, n = 6144;
    char *keys = make_keys(n + 1, &lens);
    for (size_t i = 0; i < n; i++)
        CHECK(int_map_put(a, &m, keys + i * 24, lens[i], (int)i) == ZM_OK);
    CHECK_EQ(m.map.cap, 8192);
    void *slots = m.map.slots;
    int failures = 0;
    for (size_t k = 0; k < 5; k++) {
        f.fail_index = f.alloc_index + k;
        CHECK(int_map_put(a, &m, keys + n * 24, lens[n], -1) == ZM_ENOMEM);
        CHECK(m.map.slots == slots && m.map.count == n && m.map.cap == 8192);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) {
            int *v = int_map_get(&m, keys + i * 24, lens[i]);
            bad += v == NULL || *v != (int)i;
        }
        CHECK_EQ(bad, 0);
        failures++;
    }
    CHECK_EQ(failures, 5);
    f.fail_index = SIZE_MAX;
    CHECK(int_map_put(a, &m, keys + n * 24, lens[n], -1) == ZM_OK);
    CHECK_EQ(m.map.cap, 16384);
    size_t bad = 0;
    for (size_t i = 0; i <= n; i++) {
        int *v = int_map_get(&m, keys + i * 24, lens[i]);
        bad += v == NULL || *v != (i < n ? (int)i : -1);
    }
    CHECK_EQ(bad, 0);
    int_map_deinit(a, &m);
    CHECK_EQ(f.allocated_bytes, f.freed_bytes);
    free(keys);
    free(lens);
}

static zm_status sweep_map(zm_allocator a, void *arg) {
    (void)arg;
    static char names[400][8];
    for (int i = 0; i < 400; i++) snprintf(names[i], sizeof names[i], "n%d", i);
    int_map m = {0};
    zm_status st = ZM_OK;
    for (int i = 0; i < 400 && st == ZM_OK; i++) st = int_map_put_str(a, &m, names[i], i);
    for (int i = 0; i < 400 && st == ZM_OK; i += 2)
        if (!int_map_remove_str(&m, names[i], NULL)) st = ZM_EINTERNAL;
    int *v;
    bool found;
    for (int i = 0; i < 400 && st == ZM_OK; i++)
        st = int_map_get_or_put(a, &m, names[i], strlen(names[i]), &v, &found);
    if (st == ZM_OK) st = int_map_reserve(a, &m, 5000);
    if (st == ZM_OK && int_map_count(&m) != 400) st = ZM_EINTERNAL;
    int_map_deinit(a, &m);
    return st;
}

/* Growth past one segment: from one block to segments, then in place
   (three times), removals and a reserve that grows by more than twice. */
static zm_status sweep_segments(zm_allocator a, void *arg) {
    const char *keys = ((void **)arg)[0];
    const size_t *lens = ((void **)arg)[1];
    enum { N = 14000 };
    int_map m = {0};
    zm_status st = ZM_OK;
    for (size_t i = 0; i < N && st == ZM_OK; i++)
        st = int_map_put(a, &m, keys + i * 24, lens[i], (int)i);
    for (size_t i = 0; i < N && st == ZM_OK; i += 2)
        if (!int_map_remove(&m, keys + i * 24, lens[i], NULL)) st = ZM_EINTERNAL;
    if (st == ZM_OK) st = int_map_reserve(a, &m, 90000);
    for (size_t i = 0; i < N && st == ZM_OK; i++) {
        int *v = int_map_get(&m, keys + i * 24, lens[i]);
        if ((v != NULL) != (i % 2 == 1) || (v && *v != (int)i)) st = ZM_EINTERNAL;
    }
    if (st == ZM_OK && (int_map_count(&m) != N / 2 || m.map.cap != 131072)) st = ZM_EINTERNAL;
    int_map_deinit(a, &m);
    return st;
}

static void test_sweeps(void) {
    CHECK(ZM_CHECK_SWEEP(sweep_map, NULL));
    size_t *lens;
    char *keys = make_keys(14000, &lens);
    void *arg[2] = {keys, lens};
    CHECK(ZM_CHECK_SWEEP(sweep_segments, arg));
    free(keys);
    free(lens);
}

/* Values wider than 64 bytes, through growths in place (segments) and
   removals with backward shifts: every key keeps its value. */
static void test_big_values(void) {
    zm_allocator a = zm_default_allocator();
    CHECK_EQ(ZM_MAP_STRIDE(big), 80);
    size_t n = 30000, *lens;
    char *keys = make_keys(n, &lens);
    big_map m = {0};
    for (size_t i = 0; i < n; i++) {
        big v = {{i, i * 3, i * 5, i * 7, ~(uint64_t)i}};
        CHECK(big_map_put(a, &m, keys + i * 24, lens[i], v) == ZM_OK);
    }
    CHECK(m.map.cap > 4 * 4096);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        big *v = big_map_get(&m, keys + i * 24, lens[i]);
        bad += v == NULL || v->n[0] != i || v->n[2] != i * 5 || v->n[4] != ~(uint64_t)i;
    }
    CHECK_EQ(bad, 0);
    for (size_t i = 0; i < n; i += 2) {
        big old;
        CHECK(big_map_remove(&m, keys + i * 24, lens[i], &old));
        bad += old.n[1] != i * 3 || old.n[3] != i * 7;
    }
    for (size_t i = 0; i < n; i++) {
        big *v = big_map_get(&m, keys + i * 24, lens[i]);
        bad += i % 2 == 0 ? v != NULL : (v == NULL || v->n[0] != i || v->n[4] != ~(uint64_t)i);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(big_map_count(&m), n / 2);
    big_map_deinit(a, &m);
    free(keys);
    free(lens);
}

typedef struct three {
    uint32_t n[3];
} three;
ZM_MAP_TYPED(u8_map, uint8_t);
ZM_MAP_TYPED(u16_map, uint16_t);
ZM_MAP_TYPED(three_map, three);

/* The value a map of each type keeps for the number i, and the number a
   value reads back as (what the map keeps of it). */
static uint8_t mk_u8(size_t i) {
    return (uint8_t)(i * 7);
}
static uint16_t mk_u16(size_t i) {
    return (uint16_t)(i * 7);
}
static int mk_int(size_t i) {
    return (int)(i * 7);
}
static void *mk_ptr(size_t i) {
    return (void *)(uintptr_t)(i * 7 + 1);
}
static wide mk_wide(size_t i) {
    wide w;
    memset(w.bytes, 0x5a, sizeof w.bytes);
    memcpy(w.bytes + 8, &i, sizeof i); /* the last 8 of the 16 bytes */
    return w;
}
static three mk_three(size_t i) {
    return (three){{(uint32_t)i, 0x5a5a5a5au, (uint32_t)(i * 3)}};
}
static uint64_t rd_num(uint64_t x) {
    return x;
}
static uint64_t rd_ptr(void *p) {
    return (uint64_t)(uintptr_t)p;
}
static uint64_t rd_wide(wide w) {
    uint64_t x;
    memcpy(&x, w.bytes + 8, sizeof x);
    return w.bytes[0] == 0x5a && w.bytes[7] == 0x5a ? x : ~x;
}
static uint64_t rd_three(three t) {
    return t.n[1] == 0x5a5a5a5au ? (uint64_t)t.n[0] << 32 | t.n[2] : 0;
}

/* Values of every size that put, get and remove copy without a call (1, 2,
   4, 8 and 16 bytes) and one that they leave to the general path (12):
   n keys put through growth into segments, put again over every other key,
   got, a third removed with the old value copied out (and removed again, to
   no effect), all got again. Key i's value is MAKE(i + 1), or MAKE(i) once
   put again. M is the map type's prefix, T the value type. */
#define SMALL_VALUES(M, T, MAKE, READ)                                                             \
    do {                                                                                           \
        M##_map m = {0};                                                                           \
        size_t bad = 0;                                                                            \
        for (size_t i = 0; i < n; i++)                                                             \
            CHECK(M##_map_put(a, &m, keys + i * 24, lens[i], MAKE(i + 1)) == ZM_OK);               \
        for (size_t i = 0; i < n; i += 2)                                                          \
            CHECK(M##_map_put(a, &m, keys + i * 24, lens[i], MAKE(i)) == ZM_OK);                   \
        CHECK(m.map.cap > 4096);                                                                   \
        CHECK_EQ(M##_map_count(&m), n);                                                            \
        for (size_t i = 0; i < n; i++) {                                                           \
            T *v = M##_map_get(&m, keys + i * 24, lens[i]);                                        \
            bad += v == NULL || READ(*v) != READ(MAKE(i % 2 ? i + 1 : i));                         \
        }                                                                                          \
        for (size_t i = 0; i < n; i += 3) {                                                        \
            T old;                                                                                 \
            memset(&old, 0, sizeof old);                                                           \
            bad += !M##_map_remove(&m, keys + i * 24, lens[i], &old);                              \
            bad += READ(old) != READ(MAKE(i % 2 ? i + 1 : i));                                     \
            bad += M##_map_remove(&m, keys + i * 24, lens[i], &old);                               \
        }                                                                                          \
        CHECK_EQ(M##_map_count(&m), n - (n + 2) / 3);                                              \
        for (size_t i = 0; i < n; i++) {                                                           \
            T *v = M##_map_get(&m, keys + i * 24, lens[i]);                                        \
            bad +=                                                                                 \
                i % 3 == 0 ? v != NULL : (v == NULL || READ(*v) != READ(MAKE(i % 2 ? i + 1 : i))); \
        }                                                                                          \
        CHECK_EQ(bad, 0);                                                                          \
        M##_map_deinit(a, &m);                                                                     \
    } while (0)

static void test_small_values(void) {
    zm_allocator a = zm_default_allocator();
    size_t n = 20000, *lens;
    char *keys = make_keys(n, &lens);
    SMALL_VALUES(u8, uint8_t, mk_u8, rd_num);
    SMALL_VALUES(u16, uint16_t, mk_u16, rd_num);
    SMALL_VALUES(int, int, mk_int, rd_num);
    SMALL_VALUES(ptr, void *, mk_ptr, rd_ptr);
    SMALL_VALUES(wide, wide, mk_wide, rd_wide);
    SMALL_VALUES(three, three, mk_three, rd_three);
    free(keys);
    free(lens);
}

/* The stress test's keys: key i starts with i (4 bytes), so that the hooks
   below hash it to stress_hashes[i], a hash chosen to be weak. */
static uint32_t *stress_hashes;

static uint64_t stress_hash(const void *key, size_t len, uint64_t seed) {
    (void)len, (void)seed;
    uint32_t i;
    memcpy(&i, key, 4);
    return stress_hashes[i];
}

static uint64_t stress_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* The vsize bytes of key i's value at version v. */
static void stress_value(unsigned char *out, size_t vsize, size_t i, uint32_t v) {
    uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15u ^ (uint64_t)v * 0xc2b2ae3d27d4eb4fu;
    for (size_t b = 0; b < vsize; b++) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9u;
        out[b] = (unsigned char)(x >> 56);
    }
}

/* A value wider than 64 bytes. */
typedef struct huge {
    uint64_t n[9];
} huge;

enum { KEYW = 48 }; /* the bytes from one key to the next */

/* The stress test's state: the map and what it should hold. */
typedef struct stress {
    zm_map m;
    size_t stride, vsize, k, count;
    const char *keys[2]; /* two copies of every key, KEYW bytes apart */
    const size_t *lens;  /* key i's length */
    unsigned char *in;   /* whether key i is in the map */
    uint32_t *version;   /* of key i's value */
    const char **ptr;    /* the key pointer the map should hold for key i */
} stress;

/* Every key of the round got and compared, and an iteration: the keys it
   gives are those in the map, each with the pointer last put. */
static size_t stress_check(const stress *s) {
    unsigned char want[sizeof(huge)];
    size_t bad = 0, it = 0, n = 0, len;
    for (size_t i = 0; i < s->k; i++) {
        unsigned char *v = zm_map_get_raw(&s->m, s->keys[0] + i * KEYW, s->lens[i], s->stride);
        stress_value(want, s->vsize, i, s->version[i]);
        bad += (v != NULL) != s->in[i] || (v && memcmp(v, want, s->vsize) != 0);
    }
    const void *key;
    while (zm_map_next_raw(&s->m, &it, &key, &len, NULL, s->stride)) {
        uint32_t i;
        memcpy(&i, key, 4);
        bad += i >= s->k || !s->in[i] || key != s->ptr[i] || len != s->lens[i];
        n++;
    }
    return bad + (n != s->count) + (s->m.count != s->count);
}

/* Random puts, get_or_puts, removes, gets, reserves, clears and restarts,
   compared with an array, under hashes made weak on purpose: homes at the end
   of every table (runs that wrap past the last slot at every size) and at its
   start, few distinct hashes (long runs), and homes packed into a few parts
   of a grown table (4 to 32 times over, by reserve); values of 1 to 72 bytes
   (slots of 48 to 112 bytes, past the 64 that growth moves through a slot on
   the stack). Every growth is checked, every key, at once. */
static void test_stress(void) {
    zm_allocator a = zm_default_allocator();
    static const struct {
        size_t vsize, stride;
    } types[] = {{sizeof(uint8_t), ZM_MAP_STRIDE(uint8_t)}, {sizeof(int), ZM_MAP_STRIDE(int)},
                 {sizeof(void *), ZM_MAP_STRIDE(void *)},   {sizeof(wide), ZM_MAP_STRIDE(wide)},
                 {sizeof(pair), ZM_MAP_STRIDE(pair)},       {sizeof(big), ZM_MAP_STRIDE(big)},
                 {sizeof(huge), ZM_MAP_STRIDE(huge)},       {sizeof(three), ZM_MAP_STRIDE(three)}};
    enum { PROFILES = 5, TYPES = sizeof types / sizeof *types, MAXK = 12000 };
    const size_t rounds = zt_small() ? PROFILES * TYPES / 2 : PROFILES * TYPES;
    const size_t ops = zt_small() ? 6000 : 20000;
    static const size_t lens[] = {4, 11, 24, 25, 40}; /* in the slot, and past it */
    char *keys[2] = {malloc(MAXK * KEYW), malloc(MAXK * KEYW)};
    size_t *klens = malloc(MAXK * sizeof *klens);
    for (size_t i = 0; i < MAXK; i++) {
        klens[i] = lens[i % 5];
        for (int c = 0; c < 2; c++) {
            uint32_t i32 = (uint32_t)i;
            memcpy(keys[c] + i * KEYW, &i32, 4);
            for (size_t b = 4; b < KEYW; b++) keys[c][i * KEYW + b] = (char)('a' + (i + b) % 26);
        }
    }
    stress_hashes = malloc(MAXK * sizeof *stress_hashes);
    static const zm_map_hooks hooks = {stress_hash, bytes_eq};
    stress s = {.keys = {keys[0], keys[1]}, .lens = klens};
    s.in = malloc(MAXK);
    s.version = calloc(MAXK, sizeof *s.version);
    s.ptr = calloc(MAXK, sizeof *s.ptr);
    uint64_t rng = 0x5eed;
    size_t bad = 0, in_place = 0, jumps = 0;
    _Alignas(16) unsigned char val[sizeof(huge)], old[sizeof(huge)];
    for (size_t r = 0; r < rounds; r++) {
        size_t p = r % PROFILES, t = r % TYPES;
        s.stride = types[t].stride, s.vsize = types[t].vsize;
        s.k = 3000 + stress_next(&rng) % (MAXK - 3000);
        /* The hashes of the round's keys, by profile: 0 the map's own; 1 a
           mix of random ones, homes at the end of every table and at its
           start, 8 hashes, homes in a few parts; 2 64 hashes only; 3 homes
           in a few parts only; 4 homes near the end and the start only. */
        uint32_t few[64], lbits = 11 + (uint32_t)(stress_next(&rng) % 4);
        uint32_t highs[3] = {0, ~0u << lbits, (uint32_t)stress_next(&rng) << lbits};
        for (size_t j = 0; j < 64; j++) few[j] = (uint32_t)stress_next(&rng);
        if (p == 2) s.k = 64 * 48; /* 64 hashes, 48 keys each */
        if (p == 3 && s.k > (size_t)3 << lbits) s.k = (size_t)3 << lbits;
        if (p == 4) s.k = 4000;
        for (size_t i = 0; i < s.k; i++) {
            uint32_t x = (uint32_t)stress_next(&rng), c = x % 10, h = x;
            if (p == 1 && c < 2) h = ~0u - x % 200; /* the end of every table */
            if (p == 1 && c == 2) h = x % 40;       /* its start */
            if (p == 1 && c == 3) h = few[x % 8];
            if ((p == 1 && c == 4) || p == 3) h = (x & ((1u << lbits) - 1)) | highs[x % 3];
            if (p == 2) h = few[i % 64];
            if (p == 4) h = x & 1 ? ~0u - x % 3000 : x % 3000;
            stress_hashes[i] = h;
        }
        size_t maxcap = 2048;
        while (maxcap < s.k * 4) maxcap *= 2;
        memset(&s.m, 0, sizeof s.m);
        s.m.hooks = p == 0 ? NULL : &hooks; /* 0: the map's own hash */
        memset(s.in, 0, s.k);
        s.count = 0;
        size_t target = s.k;
        for (size_t op = 0; op < ops; op++) {
            uint64_t x = stress_next(&rng);
            size_t i = (size_t)(x >> 32) % s.k, ocap = s.m.cap, c = (size_t)(x % 1000);
            const char *key = s.keys[x >> 20 & 1] + i * KEYW;
            if (s.m.cap > maxcap || op % 5000 == 4999) {
                /* Start again: a cleared map, or none. */
                if (x >> 22 & 1)
                    zm_map_clear_raw(&s.m, s.stride);
                else
                    zm_map_deinit_raw(a, &s.m, s.stride);
                memset(s.in, 0, s.k);
                s.count = 0;
                target = s.k / 4 + (x >> 24) % s.k;
            } else if (c < 1 && s.m.cap) {
                /* Room for 2 to 16 times what fits now: growth by 4 to 32 times. */
                size_t n = (s.m.cap - s.m.cap / 4) << (1 + (x >> 23) % 4);
                bad += zm_map_reserve_raw(a, &s.m, n, s.stride) != ZM_OK;
            } else if (c < 500 && (s.count < target || c < 150)) {
                stress_value(val, s.vsize, i, ++s.version[i]);
                if (c % 3) {
                    bad += zm_map_put_raw(a, &s.m, key, s.lens[i], s.stride, val, s.vsize) != ZM_OK;
                    s.ptr[i] = key;
                } else {
                    void *v = NULL;
                    bool found = false;
                    if (zm_map_get_or_put_raw(a, &s.m, key, s.lens[i], s.stride, &v, &found) !=
                        ZM_OK) {
                        bad++;
                        continue;
                    }
                    stress_value(old, s.vsize, i, s.version[i] - 1);
                    memset(old, 0, found ? 0 : s.vsize);
                    bad += found != s.in[i] || memcmp(v, old, s.vsize) != 0;
                    memcpy(v, val, s.vsize);
                    if (!found) s.ptr[i] = key;
                }
                s.count += !s.in[i];
                s.in[i] = 1;
            } else if (c < 800) {
                bool out = x >> 25 & 1;
                memset(old, 0xee, sizeof old);
                bad += zm_map_remove_raw(&s.m, key, s.lens[i], s.stride, out ? old : NULL,
                                         s.vsize) != s.in[i];
                stress_value(val, s.vsize, i, s.version[i]);
                bad += out && s.in[i] && memcmp(old, val, s.vsize) != 0;
                s.count -= s.in[i];
                s.in[i] = 0;
            } else {
                unsigned char *v = zm_map_get_raw(&s.m, key, s.lens[i], s.stride);
                stress_value(val, s.vsize, i, s.version[i]);
                bad += (v != NULL) != s.in[i] || (v && memcmp(v, val, s.vsize) != 0);
            }
            bad += s.m.count != s.count;
            if (s.m.cap > ocap && ocap >= 2048) {
                in_place++;
                jumps += s.m.cap >= ocap * 4;
                bad += stress_check(&s);
            }
        }
        bad += stress_check(&s);
        zm_map_deinit_raw(a, &s.m, s.stride);
    }
    CHECK_EQ(bad, 0);
    /* Growths of tables of segments, by reserve too: what this test is for. */
    CHECK(in_place >= rounds && jumps >= rounds / 4);
    free(keys[0]);
    free(keys[1]);
    free(klens);
    free(stress_hashes);
    free(s.in);
    free(s.version);
    free((void *)s.ptr);
}

int main(void) {
    RUN(test_basics);
    RUN(test_many);
    RUN(test_hooks);
    RUN(test_wrap);
    RUN(test_wrap_growth);
    RUN(test_values);
    RUN(test_big_values);
    RUN(test_small_values);
    RUN(test_stress);
    RUN(test_lengths);
    RUN(test_collisions);
    RUN(test_seeds);
    RUN(test_arena);
    RUN(test_failed_growth);
    RUN(test_failed_segment_growth);
    RUN(test_sweeps);
    return zt_finish("map");
}
