/* zmem — the hash map, and the seeded hash it uses.
 *
 * Keys are byte slices (a pointer and a length; strings have _str forms) or,
 * with caller-supplied hooks, anything a hash and an equality function can
 * read through a pointer and a length. The map BORROWS its keys, as Zig's
 * StringHashMap does: it keeps the pointer, not a copy, so a key must stay
 * unchanged while it is in the map (keep keys in an arena, or in the value).
 * Values are stored in the map itself, by value.
 *
 * Like zmem/array.h the map holds no allocator (Zig's unmanaged style): every
 * function that may allocate takes one, the same every time. A zeroed map is
 * empty. ZM_MAP_TYPED(name, V) defines a map from keys to values of type V:
 *
 *     ZM_MAP_TYPED(count_map, int);
 *     count_map m = {0};
 *     int *n;
 *     bool found;
 *     if (count_map_get_or_put(a, &m, word, len, &n, &found) != ZM_OK) ...;
 *     *n = found ? *n + 1 : 1;
 *     count_map_deinit(a, &m);
 *
 * The table: open addressing with linear probing, at most 3/4 full. Each
 * slot has a control byte (empty, or 6 bits of the key's hash and whether
 * the key is in its home slot), kept apart from the slots so that a lookup
 * compares 16 of them at once (SSE2 where there is SSE2): a miss seldom
 * reads a slot at all. A slot holds the value, the key's 32-bit hash, its
 * length and pointer, and its first 24 bytes (a key that short is compared
 * in the slot, without following the pointer). Past 2048 slots the slots
 * are kept in segments of 2048, which growing keeps (it allocates the new
 * ones and rehashes in place). Removal is backward-shift deletion: no
 * tombstones, so a map that sees endless inserts and removals never degrades
 * and never needs a rehash. Every map hashes with its own seed
 * (zm_hash_seed), so colliding keys cannot be computed in advance, and keys
 * copied from one map to another do not cluster.
 *
 * Growing either succeeds or returns ZM_ENOMEM and leaves the map as it was.
 * Pointers to values stay valid until the next put, remove or clear. Keys up
 * to UINT32_MAX bytes; up to 2^32 slots.
 */
#ifndef ZMEM_MAP_H
#define ZMEM_MAP_H

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * The hash: after wyhash's layout (short keys read as two overlapping words,
 * longer ones 16 bytes at a time, never past the key), mixed with a seed.
 * ------------------------------------------------------------------------- */

/* The 64-bit multiply, folded: the high half xor the low half. */
static inline uint64_t zm_hash_mix(uint64_t a, uint64_t b) {
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 zm__u128;
    zm__u128 r = (zm__u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
    uint64_t h = a * b;
    return h ^ (h >> 32) ^ (a >> 29) * b;
#endif
}

static inline uint64_t zm__load32(const void *p) {
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
}

static inline uint64_t zm__load64(const void *p) {
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* Returns the hash of the len bytes at key under seed. Not cryptographic:
   fast, well mixed, and with a secret seed hard to collide on purpose. */
static inline uint64_t zm_hash_bytes(const void *key, size_t len, uint64_t seed) {
    const uint64_t k0 = 0xa0761d6478bd642fu, k1 = 0xe7037ed1a0b428dbu;
    const unsigned char *p = (const unsigned char *)key;
    uint64_t a, b;
    if (len <= 16) {
        if (len >= 4) {
            size_t q = (len >> 3) << 2;
            a = zm__load32(p) << 32 | zm__load32(p + q);
            b = zm__load32(p + len - 4) << 32 | zm__load32(p + len - 4 - q);
        } else if (len > 0) {
            a = (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        while (i > 16) {
            seed = zm_hash_mix(zm__load64(p) ^ k1, zm__load64(p + 8) ^ seed);
            p += 16;
            i -= 16;
        }
        a = zm__load64(p + i - 16);
        b = zm__load64(p + i - 8);
    }
    return zm_hash_mix(k1 ^ len, zm_hash_mix(a ^ k1, b ^ seed ^ k0));
}

/* Returns a fresh, non-zero seed: different for every call and every process
   (it mixes a counter with addresses that move with the address space
   layout). Thread-safe. */
uint64_t zm_hash_seed(void);

/* ---------------------------------------------------------------------------
 * The map
 * ------------------------------------------------------------------------- */

/* A caller's hash and equality, for keys that are not compared as bytes
   (say case-insensitive names, or structs with padding). hash must give equal
   keys equal hashes and should use seed; eq says whether two keys are equal.
   Both get a key as the map got it: a pointer and a length. */
typedef struct zm_map_hooks {
    uint64_t (*hash)(const void *key, size_t len, uint64_t seed);
    bool (*eq)(const void *a, size_t a_len, const void *b, size_t b_len);
} zm_map_hooks;

/* The untyped map under ZM_MAP_TYPED. The fields are public for the inline
   wrappers only. */
typedef struct zm_map {
    void *slots;               /* cap slots of the map's stride, then cap control bytes */
    size_t cap;                /* a power of two, or 0 */
    size_t count;              /* keys in the map */
    uint64_t seed;             /* 0 until the first slots are allocated */
    const zm_map_hooks *hooks; /* NULL: keys are compared and hashed as bytes */
} zm_map;

/* The bytes of a slot holding a value of type V: the value, then a 40-byte
   header, rounded up to V's alignment (at most 16) and to 8. Each slot also
   has one control byte. */
#define ZM_MAP_STRIDE(V)                                                                           \
    ((40 + sizeof(V) + (_Alignof(V) > 8 ? _Alignof(V) : 8) - 1) /                                  \
     (_Alignof(V) > 8 ? _Alignof(V) : 8) * (_Alignof(V) > 8 ? _Alignof(V) : 8))

/* The untyped operations; stride is ZM_MAP_STRIDE of the value type, the
   same in every call on one map. Use ZM_MAP_TYPED's wrappers instead. */

/* Gives the slots back to a; m is empty (its hooks kept). */
void zm_map_deinit_raw(zm_allocator a, zm_map *m, size_t stride);

/* Makes room for n keys in all without growing. ZM_OK, ZM_ENOMEM or ZM_ELIMIT
   (more than 3/4 of 2^32 slots); m unchanged on failure. */
zm_status zm_map_reserve_raw(zm_allocator a, zm_map *m, size_t n, size_t stride);

/* Returns the value of key, inside the map, or NULL when it is absent. */
void *zm_map_get_raw(const zm_map *m, const void *key, size_t len, size_t stride);

/* Finds key, adding it (with a zeroed value) when absent. Sets *value to the
   value inside the map and *found (may be NULL) to whether key was there.
   ZM_OK, ZM_ENOMEM, or ZM_ELIMIT (key longer than UINT32_MAX bytes, or a
   map past 2^32 slots); m unchanged on failure. */
zm_status zm_map_get_or_put_raw(zm_allocator a, zm_map *m, const void *key, size_t len,
                                size_t stride, void **value, bool *found);

/* Sets key's value to the vsize bytes at value (vsize: the value type's
   size, at most stride - 40), adding key when it is absent; a key already there is replaced by this
   one (same bytes, the new pointer). ZM_OK, ZM_ENOMEM or ZM_ELIMIT; m unchanged on failure. */
zm_status zm_map_put_raw(zm_allocator a, zm_map *m, const void *key, size_t len, size_t stride,
                         const void *value, size_t vsize);

/* Removes key. Copies its value (vsize bytes) to old (when not NULL) and
   returns true, or returns false when key is absent. Frees nothing. */
bool zm_map_remove_raw(zm_map *m, const void *key, size_t len, size_t stride, void *old,
                       size_t vsize);

/* Removes every key, keeping the slots for reuse. */
void zm_map_clear_raw(zm_map *m, size_t stride);

/* Iterates: start with *it = 0; each call that returns true sets *key, *len
   and *value (each may be NULL) to the next entry, in slot order; false at
   the end. The map must not be changed during the iteration. */
bool zm_map_next_raw(const zm_map *m, size_t *it, const void **key, size_t *len, void **value,
                     size_t stride);

/* ZM_MAP_TYPED(name, V) defines
 *   typedef struct name { zm_map map; } name;
 * and, for a map m (a zeroed one is empty, comparing keys as bytes) and the
 * allocator a:
 *   name_init(m, hooks)                      an empty map with the caller's hash and
 *                                            equality (hooks NULL: bytes); hooks must
 *                                            outlive m
 *   name_deinit(a, m)                        frees the slots; m is empty again
 *   name_reserve(a, m, n)                    room for n keys in all
 *   name_put(a, m, key, len, v)              sets key's value to v
 *   name_get_or_put(a, m, key, len, &vp, &found)
 *                                            *vp points at key's value, added (zeroed)
 *                                            when absent; found: was it there
 *   name_get(m, key, len)                    key's value (V *), or NULL
 *   name_remove(m, key, len, &old)           true if key was there (old may be NULL)
 *   name_put_str, name_get_str, name_remove_str
 *                                            the same with a NUL-terminated key
 *   name_count(m), name_clear(m)             keys in the map; remove them all, keeping
 *                                            the slots
 *   name_next(m, &it, &key, &len, &vp)       iterates from it = 0 until false
 * The functions that allocate return ZM_OK, ZM_ENOMEM or ZM_ELIMIT; on
 * failure the map is unchanged. Use at file scope. */
#define ZM_MAP_TYPED(name, V)                                                                      \
    typedef struct name {                                                                          \
        zm_map map;                                                                                \
    } name;                                                                                        \
    _Static_assert(_Alignof(V) <= 16, "map values are aligned to at most 16 bytes");               \
    /* Makes m an empty map keyed through hooks (NULL: bytes). Allocates nothing. */               \
    static inline void name##_init(name *m, const zm_map_hooks *hooks) {                           \
        memset(&m->map, 0, sizeof m->map);                                                         \
        m->map.hooks = hooks;                                                                      \
    }                                                                                              \
    /* Frees the slots back to a; m is empty and may be used again. */                             \
    static inline void name##_deinit(zm_allocator a, name *m) {                                    \
        zm_map_deinit_raw(a, &m->map, ZM_MAP_STRIDE(V));                                           \
    }                                                                                              \
    /* Makes room for n keys in all. ZM_OK, ZM_ENOMEM or ZM_ELIMIT (unchanged). */                 \
    static inline zm_status name##_reserve(zm_allocator a, name *m, size_t n) {                    \
        return zm_map_reserve_raw(a, &m->map, n, ZM_MAP_STRIDE(V));                                \
    }                                                                                              \
    /* Sets key's value to v. ZM_OK, ZM_ENOMEM or ZM_ELIMIT (unchanged). */                        \
    static inline zm_status name##_put(zm_allocator a, name *m, const void *key, size_t len,       \
                                       V v) {                                                      \
        return zm_map_put_raw(a, &m->map, key, len, ZM_MAP_STRIDE(V), &v, sizeof(V));              \
    }                                                                                              \
    /* Points *vp at key's value, adding key with a zeroed value when absent.                      \
       ZM_OK, ZM_ENOMEM or ZM_ELIMIT (unchanged). */                                               \
    static inline zm_status name##_get_or_put(zm_allocator a, name *m, const void *key,            \
                                              size_t len, V **vp, bool *found) {                   \
        void *p = NULL;                                                                            \
        zm_status st = zm_map_get_or_put_raw(a, &m->map, key, len, ZM_MAP_STRIDE(V), &p, found);   \
        *vp = (V *)p;                                                                              \
        return st;                                                                                 \
    }                                                                                              \
    /* Returns key's value inside the map, or NULL. */                                             \
    static inline V *name##_get(const name *m, const void *key, size_t len) {                      \
        return (V *)zm_map_get_raw(&m->map, key, len, ZM_MAP_STRIDE(V));                           \
    }                                                                                              \
    /* Removes key; copies its value to *old (old may be NULL). True if it was there. */           \
    static inline bool name##_remove(name *m, const void *key, size_t len, V *old) {               \
        return zm_map_remove_raw(&m->map, key, len, ZM_MAP_STRIDE(V), old, sizeof(V));             \
    }                                                                                              \
    /* name_put with a NUL-terminated key (borrowed, as every key). */                             \
    static inline zm_status name##_put_str(zm_allocator a, name *m, const char *key, V v) {        \
        return zm_map_put_raw(a, &m->map, key, strlen(key), ZM_MAP_STRIDE(V), &v, sizeof(V));      \
    }                                                                                              \
    /* name_get with a NUL-terminated key. */                                                      \
    static inline V *name##_get_str(const name *m, const char *key) {                              \
        return (V *)zm_map_get_raw(&m->map, key, strlen(key), ZM_MAP_STRIDE(V));                   \
    }                                                                                              \
    /* name_remove with a NUL-terminated key. */                                                   \
    static inline bool name##_remove_str(name *m, const char *key, V *old) {                       \
        return zm_map_remove_raw(&m->map, key, strlen(key), ZM_MAP_STRIDE(V), old, sizeof(V));     \
    }                                                                                              \
    /* Returns the number of keys in m. */                                                         \
    static inline size_t name##_count(const name *m) {                                             \
        return m->map.count;                                                                       \
    }                                                                                              \
    /* Removes every key, keeping the slots. */                                                    \
    static inline void name##_clear(name *m) {                                                     \
        zm_map_clear_raw(&m->map, ZM_MAP_STRIDE(V));                                               \
    }                                                                                              \
    /* The next entry from *it (start at 0); false at the end. Outputs may be NULL. */             \
    static inline bool name##_next(const name *m, size_t *it, const void **key, size_t *len,       \
                                   V **vp) {                                                       \
        void *p = NULL;                                                                            \
        bool more = zm_map_next_raw(&m->map, it, key, len, &p, ZM_MAP_STRIDE(V));                  \
        if (vp) *vp = (V *)p;                                                                      \
        return more;                                                                               \
    }                                                                                              \
    struct name /* swallows the caller's semicolon */

#ifdef __cplusplus
}
#endif
#endif
