/* Object keys: the seeded hash and the open-addressing index. */
#include "internal.h"

/* ---------------------------------------------------------------------------
 * The hash: 64-bit multiply-and-fold over 8-byte words.
 * ------------------------------------------------------------------------- */

#define K0 0xa0761d6478bd642fu
#define K1 0xe7037ed1a0b428dbu
#define K2 0x8ebc6af09c88c6e3u

/* The full 128-bit product of a and b, folded to 64 bits. */
static inline uint64_t mix(uint64_t a, uint64_t b) {
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 u128;
    u128 r = (u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
    uint64_t h = a * b;
    return h ^ (h >> 32) ^ (a >> 29) * b;
#endif
}

/* The seed: the address of a static object moves with the address space
   layout, which is random per process. A constant, so no start-up race. */
static const char seed_anchor;

static uint64_t seed(void) {
    return mix((uint64_t)(uintptr_t)&seed_anchor ^ K2, K1);
}

uint64_t zm__json_hash(const char *key, size_t len) {
    const unsigned char *p = (const unsigned char *)key;
    uint64_t h = seed() ^ ((uint64_t)len * K0);
    size_t n = len;
    while (n >= 8) {
        h = mix(h ^ zm__load64(p), K1);
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = mix(h ^ w ^ K2, K1);
    }
    return mix(h, K0);
}

/* ---------------------------------------------------------------------------
 * The index
 * ------------------------------------------------------------------------- */

uint32_t zm__json_index_cap(size_t n) {
    if (n > (UINT32_MAX >> 2)) return 0;
    uint32_t cap = 64;
    while (cap < 2 * n) cap <<= 1;
    return cap;
}

size_t zm__json_index_find(const uint32_t *index, uint32_t cap, const zm_json_member *items,
                           const char *key, size_t len, uint64_t h) {
    uint32_t mask = cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        uint32_t e = index[i];
        if (e == 0) return SIZE_MAX;
        if (zm__json_key_eq(&items[e - 1], key, len)) return e - 1;
    }
}

size_t zm__json_index_add(uint32_t *index, uint32_t cap, const zm_json_member *items, size_t pos,
                          uint64_t h) {
    uint32_t mask = cap - 1;
    const zm_json_member *m = &items[pos];
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        uint32_t e = index[i];
        if (e == 0) {
            index[i] = (uint32_t)pos + 1;
            return pos;
        }
        if (zm__json_key_eq(&items[e - 1], m->key, m->key_len)) return e - 1;
    }
}

void zm__json_index_fill(uint32_t *index, uint32_t cap, const zm_json_member *items, size_t n) {
    memset(index, 0, (size_t)cap * sizeof *index);
    for (size_t i = 0; i < n; i++)
        zm__json_index_add(index, cap, items, i, zm__json_hash(items[i].key, items[i].key_len));
}

/* ---------------------------------------------------------------------------
 * Work stacks
 * ------------------------------------------------------------------------- */

bool zm__stack_grow(zm_allocator a, void **items, size_t *cap, size_t size, bool *on_heap,
                    size_t need) {
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / size) return false;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / size) return false;
    const size_t align = _Alignof(max_align_t);
    void *p;
    if (*on_heap) {
        p = zm_realloc(a, *items, *cap * size, ncap * size, align);
    } else {
        p = zm_alloc(a, ncap * size, align);
        if (p != NULL && *cap) memcpy(p, *items, *cap * size);
    }
    if (p == NULL) return false;
    *items = p;
    *cap = ncap;
    *on_heap = true;
    return true;
}
