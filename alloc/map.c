/* The hash map: open addressing, linear probing, backward-shift deletion. */
#include <stdatomic.h>

#include "zmem/map.h"

/* The header every slot starts with; the value follows at offset 16. */
typedef struct slot {
    uint32_t hash; /* the key's hash, never 0; 0 marks an empty slot */
    uint32_t len;  /* the key's length */
    const void *key;
} slot;

_Static_assert(sizeof(slot) <= 16, "a slot's header fits in 16 bytes");

#define VALUE(s) ((char *)(s) + 16)

/* The alignment of a map's block: a stride that is a multiple of 16 may hold
   a value aligned to 16. */
static size_t block_align(size_t stride) {
    return stride % 16 ? 8 : 16;
}

static inline slot *slot_at(const zm_map *m, size_t i, size_t stride) {
    return (slot *)((char *)m->slots + i * stride);
}

uint64_t zm_hash_seed(void) {
    static atomic_uint_fast64_t counter;
    uint64_t n = (uint64_t)atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed) + 1;
    int local = 0;
    uint64_t s =
        zm_hash_mix((uint64_t)(uintptr_t)&counter ^ 0xa0761d6478bd642fu,
                    ((uint64_t)(uintptr_t)&local + (uint64_t)local) ^ n * 0xe7037ed1a0b428dbu);
    return s ? s : 0x8ebc6af09c88c6e3u;
}

/* The stored form of a key's hash: 32 bits, never 0. */
static inline uint32_t hash_of(const zm_map *m, const void *key, size_t len) {
    uint64_t h = m->hooks ? m->hooks->hash(key, len, m->seed) : zm_hash_bytes(key, len, m->seed);
    uint32_t h32 = (uint32_t)h ^ (uint32_t)(h >> 32);
    return h32 ? h32 : 1;
}

static inline bool key_eq(const zm_map *m, const slot *s, const void *key, size_t len) {
    if (m->hooks) return m->hooks->eq(s->key, s->len, key, len);
    return s->len == len && (len == 0 || memcmp(s->key, key, len) == 0);
}

/* The slot holding key (hash h32), or the empty slot where it would go. */
static inline slot *probe(const zm_map *m, const void *key, size_t len, uint32_t h32,
                          size_t stride) {
    size_t mask = m->cap - 1;
    for (size_t i = h32 & mask;; i = (i + 1) & mask) {
        slot *s = slot_at(m, i, stride);
        if (s->hash == 0) return s;
        if (s->hash == h32 && key_eq(m, s, key, len)) return s;
    }
}

/* True when n keys fit in cap slots (at most 3/4 full). */
static inline bool fits(size_t n, size_t cap) {
    return n <= cap - cap / 4;
}

/* Moves m to a table of ncap slots. On failure m is unchanged. */
static zm_status rehash(zm_allocator a, zm_map *m, size_t ncap, size_t stride) {
    if (ncap - 1 > UINT32_MAX || ncap > SIZE_MAX / stride) return ZM_ELIMIT;
    void *ns = zm_alloc_zeroed(a, ncap * stride, block_align(stride));
    if (ns == NULL) return ZM_ENOMEM;
    if (m->seed == 0) m->seed = zm_hash_seed();
    size_t nmask = ncap - 1;
    for (size_t i = 0; i < m->cap; i++) {
        const slot *s = slot_at(m, i, stride);
        if (s->hash == 0) continue;
        size_t j = s->hash & nmask;
        while (((slot *)((char *)ns + j * stride))->hash != 0) j = (j + 1) & nmask;
        memcpy((char *)ns + j * stride, s, stride);
    }
    zm_free(a, m->slots, m->cap * stride, block_align(stride));
    m->slots = ns;
    m->cap = ncap;
    return ZM_OK;
}

zm_status zm_map_reserve_raw(zm_allocator a, zm_map *m, size_t n, size_t stride) {
    if (m->cap && fits(n, m->cap)) return ZM_OK;
    size_t ncap = m->cap ? m->cap : 8;
    while (!fits(n, ncap)) {
        if (ncap > ((size_t)1 << 31)) return ZM_ELIMIT;
        ncap *= 2;
    }
    return rehash(a, m, ncap, stride);
}

void zm_map_deinit_raw(zm_allocator a, zm_map *m, size_t stride) {
    zm_free(a, m->slots, m->cap * stride, block_align(stride));
    m->slots = NULL;
    m->cap = m->count = 0;
}

void *zm_map_get_raw(const zm_map *m, const void *key, size_t len, size_t stride) {
    if (m->count == 0 || len > UINT32_MAX) return NULL;
    slot *s = probe(m, key, len, hash_of(m, key, len), stride);
    return s->hash ? VALUE(s) : NULL;
}

/* The slot of key, added (hash set, key and value not) when absent. */
static zm_status find_or_add(zm_allocator a, zm_map *m, const void *key, size_t len, size_t stride,
                             slot **out, bool *found) {
    if (len > UINT32_MAX) return ZM_ELIMIT;
    if (m->cap == 0 || !fits(m->count + 1, m->cap)) {
        /* Grow only when the key is new: a full map still answers for the
           keys it has. */
        if (m->count) {
            slot *s = probe(m, key, len, hash_of(m, key, len), stride);
            if (s->hash) {
                *out = s;
                *found = true;
                return ZM_OK;
            }
        }
        zm_status st = zm_map_reserve_raw(a, m, m->count + 1, stride);
        if (st != ZM_OK) return st;
    }
    uint32_t h32 = hash_of(m, key, len);
    slot *s = probe(m, key, len, h32, stride);
    *found = s->hash != 0;
    if (!*found) {
        s->hash = h32;
        s->len = (uint32_t)len;
        m->count++;
    }
    *out = s;
    return ZM_OK;
}

zm_status zm_map_get_or_put_raw(zm_allocator a, zm_map *m, const void *key, size_t len,
                                size_t stride, void **value, bool *found) {
    slot *s;
    bool was;
    zm_status st = find_or_add(a, m, key, len, stride, &s, &was);
    if (st != ZM_OK) return st;
    if (!was) {
        s->key = key;
        memset(VALUE(s), 0, stride - 16);
    }
    *value = VALUE(s);
    if (found) *found = was;
    return ZM_OK;
}

zm_status zm_map_put_raw(zm_allocator a, zm_map *m, const void *key, size_t len, size_t stride,
                         const void *value) {
    slot *s;
    bool was;
    zm_status st = find_or_add(a, m, key, len, stride, &s, &was);
    if (st != ZM_OK) return st;
    s->key = key;
    memcpy(VALUE(s), value, stride - 16);
    return ZM_OK;
}

bool zm_map_remove_raw(zm_map *m, const void *key, size_t len, size_t stride, void *old) {
    if (m->count == 0 || len > UINT32_MAX) return false;
    slot *s = probe(m, key, len, hash_of(m, key, len), stride);
    if (s->hash == 0) return false;
    if (old) memcpy(old, VALUE(s), stride - 16);
    /* Backward shift: every later slot of the run that may move into the hole
       (its home is not cyclically within (hole, j]) moves there, and its old
       place becomes the hole. */
    size_t mask = m->cap - 1, i = (size_t)((char *)s - (char *)m->slots) / stride;
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        slot *sj = slot_at(m, j, stride);
        if (sj->hash == 0) break;
        size_t home = sj->hash & mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            memcpy(slot_at(m, i, stride), sj, stride);
            i = j;
        }
    }
    slot_at(m, i, stride)->hash = 0;
    m->count--;
    return true;
}

void zm_map_clear_raw(zm_map *m, size_t stride) {
    if (m->count) memset(m->slots, 0, m->cap * stride);
    m->count = 0;
}

bool zm_map_next_raw(const zm_map *m, size_t *it, const void **key, size_t *len, void **value,
                     size_t stride) {
    for (size_t i = *it; i < m->cap; i++) {
        slot *s = slot_at(m, i, stride);
        if (s->hash == 0) continue;
        if (key) *key = s->key;
        if (len) *len = s->len;
        if (value) *value = VALUE(s);
        *it = i + 1;
        return true;
    }
    *it = m->cap;
    return false;
}
