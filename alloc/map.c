/* The hash map: open addressing, linear probing, backward-shift deletion.
 *
 * A map's block holds cap slots, then cap control bytes. A control byte is 0
 * for an empty slot, else 0x80 | 7 bits of the key's hash: the probe reads
 * the control bytes (1 byte a slot, so for a million keys they stay in the
 * cache) and looks at a slot only when its 7 bits match, so a miss seldom
 * touches a slot at all. A slot holds the key's 32-bit hash (for rehashing
 * and for backward shifts without reading keys), its length, its pointer and
 * its first 16 bytes: a key of up to 16 bytes is compared in the slot
 * itself, without following the pointer.
 */
#include <stdatomic.h>

#include "zmem/map.h"

#define INLINE_KEY 16

/* The header every slot starts with; the value follows at offset 32. */
typedef struct slot {
    uint32_t hash; /* the key's hash (never 0) */
    uint32_t len;  /* the key's length */
    const void *key;
    unsigned char head[INLINE_KEY]; /* the key's first bytes */
} slot;

_Static_assert(sizeof(slot) == 32, "a slot's header is 32 bytes");

#define VALUE(s) ((char *)(s) + sizeof(slot))

/* The alignment of a map's block: a stride that is a multiple of 16 may hold
   a value aligned to 16. */
static size_t block_align(size_t stride) {
    return stride % 16 ? 8 : 16;
}

static inline slot *slot_at(const zm_map *m, size_t i, size_t stride) {
    return (slot *)((char *)m->slots + i * stride);
}

static inline unsigned char *ctrl_of(const zm_map *m, size_t stride) {
    return (unsigned char *)m->slots + m->cap * stride;
}

static inline unsigned char tag_of(uint32_t h32) {
    return (unsigned char)(0x80 | h32 >> 25);
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
    if (s->len != len) return false;
    if (len <= INLINE_KEY) return len == 0 || memcmp(s->head, key, len) == 0;
    return memcmp(s->head, key, INLINE_KEY) == 0 &&
           memcmp((const char *)s->key + INLINE_KEY, (const char *)key + INLINE_KEY,
                  len - INLINE_KEY) == 0;
}

/* The index of the slot holding key (hash h32), or of the empty slot where
   it would go. */
static inline size_t probe(const zm_map *m, const void *key, size_t len, uint32_t h32,
                           size_t stride) {
    const unsigned char *ctrl = ctrl_of(m, stride), tag = tag_of(h32);
    size_t mask = m->cap - 1;
    for (size_t i = h32 & mask;; i = (i + 1) & mask) {
        unsigned char c = ctrl[i];
        if (c == 0) return i;
        if (c == tag) {
            const slot *s = slot_at(m, i, stride);
            if (s->hash == h32 && key_eq(m, s, key, len)) return i;
        }
    }
}

/* True when n keys fit in cap slots (at most 3/4 full). */
static inline bool fits(size_t n, size_t cap) {
    return n <= cap - cap / 4;
}

/* Moves m to a table of ncap slots. On failure m is unchanged. */
static zm_status rehash(zm_allocator a, zm_map *m, size_t ncap, size_t stride) {
    if (ncap - 1 > UINT32_MAX || ncap > SIZE_MAX / (stride + 1)) return ZM_ELIMIT;
    zm_map n = *m;
    n.slots = zm_alloc(a, ncap * (stride + 1), block_align(stride));
    if (n.slots == NULL) return ZM_ENOMEM;
    n.cap = ncap;
    if (n.seed == 0) n.seed = zm_hash_seed();
    unsigned char *nctrl = ctrl_of(&n, stride);
    memset(nctrl, 0, ncap);
    if (m->cap) {
        /* In slot order, so the writes to the new table run in two streams. */
        const unsigned char *ctrl = ctrl_of(m, stride);
        size_t nmask = ncap - 1;
        for (size_t i = 0; i < m->cap; i++) {
            if (ctrl[i] == 0) continue;
            const slot *s = slot_at(m, i, stride);
            size_t j = s->hash & nmask;
            while (nctrl[j] != 0) j = (j + 1) & nmask;
            nctrl[j] = ctrl[i];
            memcpy(slot_at(&n, j, stride), s, stride);
        }
        zm_free(a, m->slots, m->cap * (stride + 1), block_align(stride));
    }
    *m = n;
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
    if (m->cap) zm_free(a, m->slots, m->cap * (stride + 1), block_align(stride));
    m->slots = NULL;
    m->cap = m->count = 0;
}

void *zm_map_get_raw(const zm_map *m, const void *key, size_t len, size_t stride) {
    if (m->count == 0 || len > UINT32_MAX) return NULL;
    size_t i = probe(m, key, len, hash_of(m, key, len), stride);
    return ctrl_of(m, stride)[i] ? VALUE(slot_at(m, i, stride)) : NULL;
}

/* The slot of key, added (hash, length and control byte set, the key and
   value not) when absent. */
static zm_status find_or_add(zm_allocator a, zm_map *m, const void *key, size_t len, size_t stride,
                             slot **out, bool *found) {
    if (len > UINT32_MAX) return ZM_ELIMIT;
    uint32_t h32 = 0;
    if (m->cap == 0 || !fits(m->count + 1, m->cap)) {
        /* Grow only when the key is new: a full map still answers for the
           keys it has. */
        if (m->count) {
            h32 = hash_of(m, key, len);
            size_t i = probe(m, key, len, h32, stride);
            if (ctrl_of(m, stride)[i]) {
                *out = slot_at(m, i, stride);
                *found = true;
                return ZM_OK;
            }
        }
        bool seeded = m->seed != 0;
        zm_status st = zm_map_reserve_raw(a, m, m->count + 1, stride);
        if (st != ZM_OK) return st;
        if (!seeded) h32 = 0;
    }
    if (h32 == 0) h32 = hash_of(m, key, len);
    size_t i = probe(m, key, len, h32, stride);
    unsigned char *c = &ctrl_of(m, stride)[i];
    slot *s = slot_at(m, i, stride);
    *found = *c != 0;
    if (!*found) {
        *c = tag_of(h32);
        s->hash = h32;
        s->len = (uint32_t)len;
        memcpy(s->head, key, len < INLINE_KEY ? len : INLINE_KEY);
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
        memset(VALUE(s), 0, stride - sizeof(slot));
    }
    *value = VALUE(s);
    if (found) *found = was;
    return ZM_OK;
}

zm_status zm_map_put_raw(zm_allocator a, zm_map *m, const void *key, size_t len, size_t stride,
                         const void *value, size_t vsize) {
    slot *s;
    bool was;
    zm_status st = find_or_add(a, m, key, len, stride, &s, &was);
    if (st != ZM_OK) return st;
    s->key = key;
    memcpy(VALUE(s), value, vsize);
    return ZM_OK;
}

bool zm_map_remove_raw(zm_map *m, const void *key, size_t len, size_t stride, void *old,
                       size_t vsize) {
    if (m->count == 0 || len > UINT32_MAX) return false;
    size_t i = probe(m, key, len, hash_of(m, key, len), stride);
    unsigned char *ctrl = ctrl_of(m, stride);
    if (ctrl[i] == 0) return false;
    if (old) memcpy(old, VALUE(slot_at(m, i, stride)), vsize);
    /* Backward shift: every later slot of the run that may move into the hole
       (its home is not cyclically within (hole, j]) moves there, and its old
       place becomes the hole. */
    size_t mask = m->cap - 1;
    for (size_t j = (i + 1) & mask; ctrl[j] != 0; j = (j + 1) & mask) {
        const slot *sj = slot_at(m, j, stride);
        size_t home = sj->hash & mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            memcpy(slot_at(m, i, stride), sj, stride);
            ctrl[i] = ctrl[j];
            i = j;
        }
    }
    ctrl[i] = 0;
    m->count--;
    return true;
}

void zm_map_clear_raw(zm_map *m, size_t stride) {
    if (m->count) memset(ctrl_of(m, stride), 0, m->cap);
    m->count = 0;
}

bool zm_map_next_raw(const zm_map *m, size_t *it, const void **key, size_t *len, void **value,
                     size_t stride) {
    const unsigned char *ctrl = m->cap ? ctrl_of(m, stride) : NULL;
    for (size_t i = *it; i < m->cap; i++) {
        if (ctrl[i] == 0) continue;
        slot *s = slot_at(m, i, stride);
        if (key) *key = s->key;
        if (len) *len = s->len;
        if (value) *value = VALUE(s);
        *it = i + 1;
        return true;
    }
    *it = m->cap;
    return false;
}
