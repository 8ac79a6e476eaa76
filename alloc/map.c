/* The hash map: open addressing, linear probing, backward-shift deletion.
 *
 * A table of up to SEG slots is one block: cap slots, then cap control bytes
 * (16-byte aligned). A larger table is a directory block (its cap control
 * bytes, then pointers to its segments) and cap / SEG segments of SEG slots:
 * growing it allocates a bigger directory and the new segments only, and
 * rehashes in place (rehash_in_place), so the slots it has are neither
 * copied nor faulted in again (at a million keys, that was close to half of
 * the time of insertion), and a map's freed segments are ordinary blocks the
 * allocator gives to the next one. A segment is 2048 slots: 96 KiB with
 * 8-byte values, under the 128 KiB past which allocators hand a freed block
 * back to the kernel (glibc's mmap threshold, mimalloc's large objects), so
 * that the next segment is not faulted in again (segments of 4096 slots
 * faulted in 23 MB a round of the map benchmark, these 5 MB). The rehash
 * reads the old slots once, in order, and writes the keys that move in one
 * stream (rehash_runs); only the run that wraps past the last slot takes the
 * general way (rehash_wrapped).
 *
 * A control byte is 0 for an empty slot, else 0x80 | AT_HOME when the key
 * is in its home slot | 6 bits of the key's hash: a key is looked for with
 * AT_HOME in its home and without it anywhere else, so the bit costs a
 * lookup nothing, and a removal's backward shift passes the keys that are
 * at home (most of them) without reading their slots. Lookups and removals read an aligned group of
 * GROUP control bytes in one step (SSE2 where there is SSE2; an aligned group never straddles two
 * cache lines), compare their tags with the key's and stop at the first
 * empty slot: a miss seldom touches a slot at all, and has no branch to
 * mispredict on how far the run goes; a hit usually finds its key in its
 * home slot, read while the control bytes are on their way. Insertion reads
 * its home byte alone first instead (see probe_insert), and prefetches its
 * home slot for writing while the first byte is on its way. A removal reads
 * the GROUP control bytes after the hole in one step: when none of the keys
 * before the next empty slot is away from its home (most removals), none
 * moves back. A slot holds the value, then the key's 32-bit hash (for
 * rehashing and for backward shifts without reading keys), its length, its
 * pointer and its first 24 bytes: a key of up to 24 bytes is compared in the
 * slot itself, without following the pointer (which would cost a second
 * cache miss on a hit).
 *
 * get, put and remove of such a key (in a map without hooks, with a value of
 * 1, 2, 4, 8 or 16 bytes, and for put one that need not grow) take a path
 * that makes no call: the comparison is inlined, and everything else (long
 * keys, hooks, other value sizes, growth, and for removal the backward
 * shift) goes to an out-of-line function. A call anywhere in the common
 * path made the compiler save and restore registers on every call and spill
 * more; put also stores the hash and length in one store and the key's
 * first bytes in two, since at a million keys every store after the slot's
 * (a cache miss) waits for it. Together about 5% off hits and misses and 6
 * to 9% off removals; insertion about the same.
 */
#include <stdatomic.h>

#include "zmem/map.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define INLINE_KEY 24

/* Tables of up to SEG slots are one block (the slots, then their control
   bytes); larger ones keep their control bytes in one block, the directory,
   with pointers to segments of SEG slots each, so that growing keeps the
   segments it has and rehashes in place: the slots are neither copied nor
   faulted in again, and segments freed by one map are blocks the allocator
   can give the next (2048 slots: under 128 KiB for values of up to 16
   bytes). */
enum {
    GROUP = 16,
    MIN_CAP = 16,
    SEG_SHIFT = 11,
    SEG = 1 << SEG_SHIFT,
    PENDING = 1,
    AT_HOME = 0x40,
    SPARE = 64 /* the rehash's scratch slot: strides up to this use it */
};

/* A slot is its value (at offset 0, so aligned as the block is), padding to
   8 bytes, then this header, which ends the slot. */
typedef struct slot {
    uint32_t hash; /* the key's hash (never 0) */
    uint32_t len;  /* the key's length */
    const void *key;
    unsigned char head[INLINE_KEY]; /* the key's first bytes */
} slot;

_Static_assert(sizeof(slot) == 40, "a slot's header is 40 bytes");

/* The value of the slot whose header is s: the first bytes of the slot. */
#define VALUE(s, stride) ((char *)(s) + sizeof(slot) - (stride))

/* The alignment of a map's blocks: 16, for values aligned to 16 and for the
   control bytes (cap is a multiple of 16, at least 16). */
static size_t block_align(size_t stride) {
    (void)stride;
    return 16;
}

/* A table of cap <= SEG slots is one block: the slots, then their control
   bytes. */
static inline size_t block_bytes(size_t cap, size_t stride) {
    return cap * (stride + 1);
}

/* A larger table is a directory: its cap control bytes, then pointers to
   its cap / SEG segments of SEG slots each. */
static inline size_t dir_bytes(size_t cap) {
    return cap + (cap >> SEG_SHIFT) * sizeof(char *);
}

static inline size_t seg_bytes(size_t stride) {
    return (size_t)SEG * stride;
}

static inline unsigned char *ctrl_of(const zm_map *m, size_t stride) {
    return (unsigned char *)m->slots + (m->cap <= SEG ? m->cap * stride : 0);
}

/* The segments of a table of more than SEG slots. */
static inline char **segs_of(const zm_map *m) {
    return (char **)(void *)((char *)m->slots + m->cap);
}

/* The header of slot i. */
static inline slot *slot_at(const zm_map *m, size_t i, size_t stride) {
    char *p = m->cap <= SEG ? (char *)m->slots + i * stride
                            : segs_of(m)[i >> SEG_SHIFT] + (i & (SEG - 1)) * stride;
    return (slot *)(void *)(p + stride - sizeof(slot));
}

static inline unsigned char tag_of(uint32_t h32) {
    return (unsigned char)(0x80 | h32 >> 26);
}

/* The control byte of a key (hash h32) in slot i of a table with the mask:
   its tag, and AT_HOME when i is the key's home. */
static inline unsigned char ctrl_byte(uint32_t h32, size_t i, size_t mask) {
    return (unsigned char)(tag_of(h32) | ((h32 & mask) == i ? AT_HOME : 0));
}

/* The GROUP control bytes at p: *match gets a bit for each byte equal to tag;
   returns a bit for each empty slot. */
static inline uint32_t group_scan(const unsigned char *p, unsigned char tag, uint32_t *match) {
#if defined(__SSE2__)
    __m128i g = _mm_load_si128((const __m128i *)(const void *)p);
    *match = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(g, _mm_set1_epi8((char)tag)));
    return (uint32_t)_mm_movemask_epi8(g) ^ 0xffffu;
#else
    uint32_t m = 0, e = 0;
    for (unsigned k = 0; k < GROUP; k++) {
        m |= (uint32_t)(p[k] == tag) << k;
        e |= (uint32_t)(p[k] == 0) << k;
    }
    *match = m;
    return e;
#endif
}

/* The GROUP control bytes from p, which need not be aligned (those after a
   removed key): returns a bit for each key not in its home slot (one a
   backward shift may move); *empty gets a bit for each empty slot. */
static inline uint32_t group_away(const unsigned char *p, uint32_t *empty) {
#if defined(__SSE2__)
    __m128i g = _mm_loadu_si128((const __m128i *)(const void *)p);
    uint32_t used = (uint32_t)_mm_movemask_epi8(g);
    uint32_t home = (uint32_t)_mm_movemask_epi8(_mm_add_epi8(g, g)); /* the AT_HOME bits */
    *empty = used ^ 0xffffu;
    return used & ~home;
#else
    uint32_t away = 0, e = 0;
    for (unsigned k = 0; k < GROUP; k++) {
        away |= (uint32_t)((p[k] & (0x80 | AT_HOME)) == 0x80) << k;
        e |= (uint32_t)(p[k] == 0) << k;
    }
    *empty = e;
    return away;
#endif
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

/* Copies a slot (stride bytes); an 8-byte value's stride inline, without a
   call. */
static inline void copy_slot(slot *dst, const slot *src, size_t stride) {
    char *d = (char *)(dst + 1) - stride;
    const char *s = (const char *)(src + 1) - stride;
    if (stride == 48)
        memcpy(d, s, 48);
    else
        memcpy(d, s, stride);
}

/* Stores the first min(len, INLINE_KEY) bytes of key in head, reading none
   past the key (the bytes of head past them are left as they were). */
static inline void copy_head(unsigned char *head, const unsigned char *k, size_t len) {
    size_t n = len < INLINE_KEY ? len : INLINE_KEY;
    if (n >= 8) {
        uint64_t a = zm__load64(k), b = zm__load64(k + n - 8);
        if (n > 16) {
            uint64_t c = zm__load64(k + 8);
            memcpy(head + 8, &c, 8);
        }
        memcpy(head, &a, 8);
        memcpy(head + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a = (uint32_t)zm__load32(k), b = (uint32_t)zm__load32(k + n - 4);
        memcpy(head, &a, 4);
        memcpy(head + n - 4, &b, 4);
    } else {
        for (size_t i = 0; i < n; i++) head[i] = k[i];
    }
}

/* The stored form of a key's hash: 32 bits, never 0. */
static ZM__ALWAYS_INLINE uint32_t hash_of(const zm_map *m, const void *key, size_t len) {
    uint64_t h = m->hooks ? m->hooks->hash(key, len, m->seed) : zm_hash_bytes(key, len, m->seed);
    uint32_t h32 = (uint32_t)h ^ (uint32_t)(h >> 32);
    return h32 ? h32 : 1;
}

/* hash_of for a map without hooks. */
static ZM__ALWAYS_INLINE uint32_t hash_bytes32(const zm_map *m, const void *key, size_t len) {
    uint64_t h = zm_hash_bytes(key, len, m->seed);
    uint32_t h32 = (uint32_t)h ^ (uint32_t)(h >> 32);
    return h32 ? h32 : 1;
}

/* Whether the n <= 24 bytes at a and b are equal, reading none past them. */
static ZM__ALWAYS_INLINE bool eq_short(const unsigned char *a, const unsigned char *b, size_t n) {
    if (n > 16)
        return ((zm__load64(a) ^ zm__load64(b)) | (zm__load64(a + 8) ^ zm__load64(b + 8)) |
                (zm__load64(a + n - 8) ^ zm__load64(b + n - 8))) == 0;
    if (n >= 8)
        return ((zm__load64(a) ^ zm__load64(b)) |
                (zm__load64(a + n - 8) ^ zm__load64(b + n - 8))) == 0;
    if (n >= 4)
        return ((zm__load32(a) ^ zm__load32(b)) |
                (zm__load32(a + n - 4) ^ zm__load32(b + n - 4))) == 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

/* Whether the key in s is key. short_key: the map has no hooks and len is at
   most INLINE_KEY, so that the comparison makes no call. */
static ZM__ALWAYS_INLINE bool key_eq(const zm_map *m, const slot *s, const void *key, size_t len,
                                     bool short_key) {
    if (short_key) return s->len == len && eq_short(s->head, (const unsigned char *)key, len);
    if (m->hooks) return m->hooks->eq(s->key, s->len, key, len);
    if (s->len != len) return false;
    const unsigned char *k = (const unsigned char *)key;
    if (len <= INLINE_KEY) return eq_short(s->head, k, len);
    if (!eq_short(s->head, k, INLINE_KEY)) return false;
    const unsigned char *rest = (const unsigned char *)s->key + INLINE_KEY;
    len -= INLINE_KEY;
    return len <= 24 ? eq_short(rest, k + INLINE_KEY, len) : memcmp(rest, k + INLINE_KEY, len) == 0;
}

/* The index of the slot holding key (hash h32), or of the empty slot where
   it would go. Always inlined: a call would cost a fifth of an insertion's
   instructions. */
static ZM__ALWAYS_INLINE size_t probe(const zm_map *m, const void *key, size_t len, uint32_t h32,
                                      size_t stride, bool short_key) {
    const unsigned char *ctrl = ctrl_of(m, stride), tag = tag_of(h32);
    size_t mask = m->cap - 1, home = h32 & mask;
    /* The key's home first, one byte: a predicted branch lets the processor
       fetch the slot while the control byte is on its way, where the group
       below would wait for the control bytes to know which slot to read. */
    if (ctrl[home] == (tag | AT_HOME)) {
        const slot *s = slot_at(m, home, stride);
        if (s->hash == h32 && key_eq(m, s, key, len, short_key)) return home;
    }
    /* Then the aligned groups from home on, the first one's bits shifted
       so that bit 0 is home (already looked at). */
    size_t pos = home, base = home & ~(size_t)(GROUP - 1);
    uint32_t match, empty = group_scan(ctrl + base, tag, &match) >> (home - base);
    match = (match >> (home - base)) & ~1u;
    for (;;) {
        if (empty) match &= (empty & (0u - empty)) - 1; /* only before the first empty */
        for (; match; match &= match - 1) {
            size_t i = pos + (size_t)__builtin_ctz(match);
            const slot *s = slot_at(m, i, stride);
            if (s->hash == h32 && key_eq(m, s, key, len, short_key)) return i;
        }
        if (empty) return pos + (size_t)__builtin_ctz(empty);
        pos = base = (base + GROUP) & mask;
        empty = group_scan(ctrl + base, tag, &match);
    }
}

/* probe for insertion. The key's home byte alone first: the processor's
   guess that it is empty (a new key, its home free) lets it start writing
   the slot before the byte has arrived, where a group's answer would make
   it wait. Past the home, the 16 bytes after it in one step: one answer
   instead of a guess a byte (a guess per byte was mispredicted about once
   an insertion). */
static ZM__ALWAYS_INLINE size_t probe_insert(const zm_map *m, const void *key, size_t len,
                                             uint32_t h32, size_t stride, bool short_key) {
    const unsigned char *ctrl = ctrl_of(m, stride);
    size_t home = h32 & (m->cap - 1);
    if (ctrl[home] == 0) return home;
#if defined(__SSE2__)
    const unsigned char tag = tag_of(h32);
    if (home + 1 + GROUP <= m->cap && ctrl[home] != (tag | AT_HOME)) {
        __m128i g = _mm_loadu_si128((const __m128i *)(const void *)(ctrl + home + 1));
        uint32_t empty = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(g, _mm_setzero_si128()));
        uint32_t match = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(g, _mm_set1_epi8((char)tag)));
        if (empty) {
            match &= (empty & (0u - empty)) - 1; /* only before the first empty */
            for (; match; match &= match - 1) {
                size_t i = home + 1 + (size_t)__builtin_ctz(match);
                const slot *s = slot_at(m, i, stride);
                if (s->hash == h32 && key_eq(m, s, key, len, short_key)) return i;
            }
            return home + 1 + (size_t)__builtin_ctz(empty);
        }
    }
#endif
    return probe(m, key, len, h32, stride, short_key);
}

/* True when n keys fit in cap slots (at most 3/4 full). */
static inline bool fits(size_t n, size_t cap) {
    return n <= cap - cap / 4;
}

/* Frees segs[first..last). */
static void free_segs(zm_allocator a, char **segs, size_t first, size_t last, size_t stride) {
    for (size_t k = first; k < last; k++)
        zm_free(a, segs[k], seg_bytes(stride), block_align(stride));
}

/* Allocates segs[first..last); on failure frees those it allocated and
   returns false. */
static bool alloc_segs(zm_allocator a, char **segs, size_t first, size_t last, size_t stride) {
    for (size_t k = first; k < last; k++) {
        segs[k] = (char *)zm_alloc(a, seg_bytes(stride), block_align(stride));
        if (segs[k] == NULL) {
            free_segs(a, segs, first, k, stride);
            return false;
        }
    }
    return true;
}

/* Frees a table of cap slots. */
static void free_table(zm_allocator a, void *slots, size_t cap, size_t stride) {
    if (cap <= SEG) {
        zm_free(a, slots, block_bytes(cap, stride), block_align(stride));
        return;
    }
    free_segs(a, (char **)(void *)((char *)slots + cap), 0, cap >> SEG_SHIFT, stride);
    zm_free(a, slots, dir_bytes(cap), block_align(stride));
}

/* An empty table of cap slots (its control bytes zeroed), or NULL. */
static void *alloc_table(zm_allocator a, size_t cap, size_t stride) {
    if (cap <= SEG) {
        char *b = (char *)zm_alloc(a, block_bytes(cap, stride), block_align(stride));
        if (b) memset(b + cap * stride, 0, cap);
        return b;
    }
    char *d = (char *)zm_alloc(a, dir_bytes(cap), block_align(stride));
    if (d == NULL) return NULL;
    if (!alloc_segs(a, (char **)(void *)(d + cap), 0, cap >> SEG_SHIFT, stride)) {
        zm_free(a, d, dir_bytes(cap), block_align(stride));
        return NULL;
    }
    memset(d, 0, cap);
    return d;
}

/* Swaps the stride bytes of the slots whose headers are x and y. */
static void swap_slots(slot *x, slot *y, size_t stride) {
    char *p = (char *)(x + 1) - stride, *q = (char *)(y + 1) - stride;
    for (size_t k = 0; k < stride; k += 8) {
        uint64_t t = zm__load64(p + k), u = zm__load64(q + k);
        memcpy(p + k, &u, 8);
        memcpy(q + k, &t, 8);
    }
}

/* The header of slot i of a segmented table. */
static inline slot *seg_slot(char *const *segs, size_t i, size_t stride) {
    return (slot *)(void *)(segs[i >> SEG_SHIFT] + (i & (SEG - 1)) * stride + stride -
                            sizeof(slot));
}

/* A bit for each used slot among the GROUP control bytes at p (aligned). */
static inline uint32_t group_used(const unsigned char *p) {
#if defined(__SSE2__)
    return (uint32_t)_mm_movemask_epi8(_mm_load_si128((const __m128i *)(const void *)p));
#else
    uint32_t u = 0;
    for (unsigned k = 0; k < GROUP; k++) u |= (uint32_t)(p[k] != 0) << k;
    return u;
#endif
}

/* Moves the key in slot i (header s, hash h), whose control byte is already
   0, to the first empty slot from its new home, and sets that slot's control
   byte. A key that stays in slot i is copied onto a scratch slot instead of
   branching on it (a branch would be mispredicted for about one key in two). */
static ZM__ALWAYS_INLINE void move_key(unsigned char *ctrl, char *const *segs, size_t i, slot *s,
                                       uint32_t h, size_t mask, size_t stride, slot *spare) {
    size_t t = h & mask;
    while (ctrl[t] != 0) t = (t + 1) & mask;
    slot *d = seg_slot(segs, t, stride);
    if (stride <= SPARE)
        copy_slot(t == i ? spare : d, s, stride);
    else if (t != i)
        copy_slot(d, s, stride);
    ctrl[t] = ctrl_byte(h, t, mask);
}

/* Rehashes the keys of slots [first, last) of m, in slot order, where no
   cluster crosses first or last (slot first - 1 is empty or first is 0, slot
   last - 1 is empty or last is the old capacity, and no cluster wraps): each
   key goes to the first empty slot from its new home. That slot is never
   past the key's old place in its part of the new table (by induction on
   slot order: the keys before it there came from slots before it), so every
   slot a key passes holds a key already placed, and it needs no mark. The
   slots are read 16 control bytes at a time and prefetched well ahead. */
static void rehash_runs(zm_map *m, size_t first, size_t last, size_t stride, slot *spare) {
    unsigned char *ctrl = ctrl_of(m, stride);
    char *const *segs = segs_of(m);
    size_t mask = m->cap - 1;
    for (size_t base = first & ~(size_t)(GROUP - 1); base < last; base += GROUP) {
        /* The header of slot base; a group never straddles two segments. */
        char *row = (char *)seg_slot(segs, base, stride);
        uint32_t used = group_used(ctrl + base);
        if (base < first) used &= ~0u << (first - base);
        if (last - base < GROUP) used &= (1u << (last - base)) - 1;
        /* Keys placed in this group land at or before their old slots, on
           bits already taken from used. */
        for (; used; used &= used - 1) {
            size_t k = (size_t)__builtin_ctz(used), i = base + k;
            slot *s = (slot *)(void *)(row + k * stride);
            __builtin_prefetch((const void *)((uintptr_t)s + 32 * stride));
            ctrl[i] = 0;
            move_key(ctrl, segs, i, s, s->hash, mask, stride, spare);
        }
    }
}

/* Rehashes the keys of slots [0, e) and [top, ocap): the old table's last
   cluster, which wraps to slot 0, where a key may land past slots still to be
   done. Each is marked PENDING, then each in turn goes to the first slot from
   its new home that is empty or still PENDING, swapping with a PENDING key
   (handled next, from the same slot). Every slot between a key's home and its
   place holds a key already placed, and placed keys never move again. */
static void rehash_wrapped(zm_map *m, size_t e, size_t top, size_t ocap, size_t stride,
                           slot *spare) {
    unsigned char *ctrl = ctrl_of(m, stride);
    char *const *segs = segs_of(m);
    size_t mask = m->cap - 1;
    for (size_t i = 0; i < e; i++) ctrl[i] = PENDING;
    for (size_t i = top; i < ocap; i++) ctrl[i] = PENDING;
    for (size_t n = 0; n < e + (ocap - top); n++) {
        size_t i = n < e ? n : top + (n - e);
        if (ctrl[i] != PENDING) continue; /* placed here by a swap */
        slot *s = seg_slot(segs, i, stride);
        for (;;) {
            uint32_t h = s->hash;
            size_t t = h & mask;
            while (ctrl[t] > PENDING) t = (t + 1) & mask;
            if (ctrl[t] == PENDING && t != i) {
                /* Swapped with a key still pending, now in slot i. */
                swap_slots(seg_slot(segs, t, stride), s, stride);
                ctrl[t] = ctrl_byte(h, t, mask);
                continue;
            }
            ctrl[i] = 0;
            move_key(ctrl, segs, i, s, h, mask, stride, spare);
            break;
        }
    }
}

/* Rehashes m (now cap slots, segmented, its first ocap holding the keys, the
   rest empty) in place. The keys of every cluster but the one that wraps
   from the old table's end to slot 0 are rehashed in slot order without
   marks (rehash_runs); the wrapping one, if any, the general way
   (rehash_wrapped). Half the keys stay and half move, at random, and the
   moves go to slots never used, so the work is one pass over the old slots
   and one stream of writes. */
static void rehash_in_place(zm_map *m, size_t ocap, size_t stride) {
    const unsigned char *ctrl = ctrl_of(m, stride);
    _Alignas(16) char scratch[SPARE];
    slot *const spare = (slot *)(void *)(scratch + sizeof scratch - sizeof(slot));
    size_t e = 0, top = ocap;
    if (ctrl[ocap - 1] != 0) {
        /* At most 3/4 full: there is an empty slot, and e < top. */
        while (ctrl[e] != 0) e++;
        while (ctrl[top - 1] != 0) top--;
    }
    rehash_runs(m, top == ocap ? 0 : e + 1, top, stride, spare);
    if (top < ocap) rehash_wrapped(m, e, top, ocap, stride, spare);
}

/* Grows m, of SEG slots or more, to ncap slots: a new directory and new
   segments; the slots stay where they are (a table of SEG slots moves once
   into its first segment) and are rehashed in place. On failure m is
   unchanged. */
static zm_status grow_in_place(zm_allocator a, zm_map *m, size_t ncap, size_t stride) {
    size_t ocap = m->cap, on = ocap == SEG ? 0 : ocap >> SEG_SHIFT, nn = ncap >> SEG_SHIFT;
    char *d = (char *)zm_alloc(a, dir_bytes(ncap), block_align(stride));
    if (d == NULL) return ZM_ENOMEM;
    char **segs = (char **)(void *)(d + ncap);
    if (!alloc_segs(a, segs, on, nn, stride)) {
        zm_free(a, d, dir_bytes(ncap), block_align(stride));
        return ZM_ENOMEM;
    }
    memcpy(d, ctrl_of(m, stride), ocap);
    memset(d + ocap, 0, ncap - ocap);
    if (ocap == SEG) {
        memcpy(segs[0], m->slots, seg_bytes(stride));
        zm_free(a, m->slots, block_bytes(SEG, stride), block_align(stride));
    } else {
        memcpy(segs, segs_of(m), on * sizeof *segs);
        zm_free(a, m->slots, dir_bytes(ocap), block_align(stride));
    }
    m->slots = d;
    m->cap = ncap;
    if (m->count) rehash_in_place(m, ocap, stride);
    return ZM_OK;
}

/* Moves m to a table of ncap slots. On failure m is unchanged. */
static zm_status rehash(zm_allocator a, zm_map *m, size_t ncap, size_t stride) {
    if (ncap - 1 > UINT32_MAX || ncap > SIZE_MAX / (stride + 1)) return ZM_ELIMIT;
    if (m->cap >= SEG) return grow_in_place(a, m, ncap, stride);
    zm_map n = *m;
    n.slots = alloc_table(a, ncap, stride);
    if (n.slots == NULL) return ZM_ENOMEM;
    n.cap = ncap;
    if (n.seed == 0) n.seed = zm_hash_seed();
    if (m->cap) {
        /* In slot order, so the writes to the new table run in two streams. */
        const unsigned char *ctrl = ctrl_of(m, stride);
        unsigned char *nctrl = ctrl_of(&n, stride);
        size_t nmask = ncap - 1;
        for (size_t i = 0; i < m->cap; i++) {
            if (ctrl[i] == 0) continue;
            const slot *s = slot_at(m, i, stride);
            size_t j = s->hash & nmask;
            while (nctrl[j] != 0) j = (j + 1) & nmask;
            nctrl[j] = ctrl_byte(s->hash, j, nmask);
            copy_slot(slot_at(&n, j, stride), s, stride);
        }
        free_table(a, m->slots, m->cap, stride);
    }
    *m = n;
    return ZM_OK;
}

zm_status zm_map_reserve_raw(zm_allocator a, zm_map *m, size_t n, size_t stride) {
    if (m->cap && fits(n, m->cap)) return ZM_OK;
    size_t ncap = m->cap ? m->cap : MIN_CAP;
    while (!fits(n, ncap)) {
        if (ncap > ((size_t)1 << 31)) return ZM_ELIMIT;
        ncap *= 2;
    }
    return rehash(a, m, ncap, stride);
}

void zm_map_deinit_raw(zm_allocator a, zm_map *m, size_t stride) {
    if (m->cap) free_table(a, m->slots, m->cap, stride);
    m->slots = NULL;
    m->cap = m->count = 0;
}

/* zm_map_get_raw for keys that cannot be compared in the slot, or with a
   caller's hash and equality. */
static ZM__NOINLINE void *get_slow(const zm_map *m, const void *key, size_t len, size_t stride) {
    size_t i = probe(m, key, len, hash_of(m, key, len), stride, false);
    return ctrl_of(m, stride)[i] ? VALUE(slot_at(m, i, stride), stride) : NULL;
}

void *zm_map_get_raw(const zm_map *m, const void *key, size_t len, size_t stride) {
    if (m->count == 0 || len > UINT32_MAX) return NULL;
    /* Keys compared in the slot take a path without a call. */
    if (m->hooks || len > INLINE_KEY) return get_slow(m, key, len, stride);
    size_t i = probe(m, key, len, hash_bytes32(m, key, len), stride, true);
    return ctrl_of(m, stride)[i] ? VALUE(slot_at(m, i, stride), stride) : NULL;
}

/* The slot of key, added (hash, length and control byte set, the key and
   value not) when absent. */
static ZM__ALWAYS_INLINE zm_status find_or_add(zm_allocator a, zm_map *m, const void *key,
                                               size_t len, size_t stride, slot **out, bool *found) {
    if (len > UINT32_MAX) return ZM_ELIMIT;
    uint32_t h32 = 0;
    if (m->cap == 0 || !fits(m->count + 1, m->cap)) {
        /* Grow only when the key is new: a full map still answers for the
           keys it has. */
        if (m->count) {
            h32 = hash_of(m, key, len);
            size_t i = probe_insert(m, key, len, h32, stride, false);
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
    {
        const slot *hs = slot_at(m, h32 & (m->cap - 1), stride);
        __builtin_prefetch(VALUE(hs, stride), 1);
        __builtin_prefetch((const char *)(hs + 1) - 1, 1);
    }
    size_t i = probe_insert(m, key, len, h32, stride, false);
    unsigned char *ctrl = ctrl_of(m, stride);
    slot *s = slot_at(m, i, stride);
    *found = ctrl[i] != 0;
    if (!*found) {
        ctrl[i] = ctrl_byte(h32, i, m->cap - 1);
        s->hash = h32;
        s->len = (uint32_t)len;
        copy_head(s->head, (const unsigned char *)key, len);
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
        memset(VALUE(s, stride), 0, stride - sizeof(slot));
    }
    *value = VALUE(s, stride);
    if (found) *found = was;
    return ZM_OK;
}

/* Whether a value of n bytes is one copy_small copies. */
static ZM__ALWAYS_INLINE bool small_size(size_t n) {
    return n == 8 || n == 4 || n == 16 || n == 2 || n == 1;
}

/* Copies n bytes, n one of small_size's, without a call. */
static ZM__ALWAYS_INLINE void copy_small(void *d, const void *s, size_t n) {
    switch (n) {
    case 1: memcpy(d, s, 1); break;
    case 2: memcpy(d, s, 2); break;
    case 4: memcpy(d, s, 4); break;
    case 8: memcpy(d, s, 8); break;
    default: memcpy(d, s, 16); break;
    }
}

/* Stores the first min(len, INLINE_KEY) bytes of key in head in as few
   stores as it can (two for keys of 8 to 32 bytes), reading none past the
   key; the bytes of head past them are left as they were. */
static ZM__ALWAYS_INLINE void put_head(unsigned char *head, const unsigned char *k, size_t len) {
    size_t n = len < INLINE_KEY ? len : INLINE_KEY;
    if (n >= 16) {
        unsigned char x[16], y[16];
        memcpy(x, k, 16);
        memcpy(y, k + n - 16, 16);
        memcpy(head, x, 16);
        memcpy(head + n - 16, y, 16);
    } else if (n >= 8) {
        uint64_t x = zm__load64(k), y = zm__load64(k + n - 8);
        memcpy(head, &x, 8);
        memcpy(head + n - 8, &y, 8);
    } else {
        copy_head(head, k, n);
    }
}

static zm_status put_slow(zm_allocator a, zm_map *m, const void *key, size_t len, size_t stride,
                          const void *value, size_t vsize);

zm_status zm_map_put_raw(zm_allocator a, zm_map *m, const void *key, size_t len, size_t stride,
                         const void *value, size_t vsize) {
    /* The common case (a map with room, a key compared in the slot, a value
       of 1, 2, 4, 8 or 16 bytes) makes no call, and stores little: a store
       that misses the cache holds up the ones after it. The rest go to
       put_slow. */
    if (m->hooks || len > INLINE_KEY || !small_size(vsize) || m->cap == 0 ||
        !fits(m->count + 1, m->cap))
        return put_slow(a, m, key, len, stride, value, vsize);
    uint32_t h32 = hash_bytes32(m, key, len);
    size_t mask = m->cap - 1;
    {
        const slot *hs = slot_at(m, h32 & mask, stride);
        __builtin_prefetch(VALUE(hs, stride), 1);
        __builtin_prefetch((const char *)(hs + 1) - 1, 1);
    }
    size_t i = probe_insert(m, key, len, h32, stride, true);
    unsigned char *ctrl = ctrl_of(m, stride);
    slot *s = slot_at(m, i, stride);
    if (ctrl[i] == 0) {
        ctrl[i] = ctrl_byte(h32, i, mask);
        uint64_t hl = (uint64_t)h32 | (uint64_t)len << 32; /* hash, then length */
        memcpy(&s->hash, &hl, 8);
        put_head(s->head, (const unsigned char *)key, len);
        m->count++;
    }
    s->key = key;
    copy_small(VALUE(s, stride), value, vsize);
    return ZM_OK;
}

static ZM__NOINLINE zm_status put_slow(zm_allocator a, zm_map *m, const void *key, size_t len,
                                       size_t stride, const void *value, size_t vsize) {
    slot *s;
    bool was;
    zm_status st = find_or_add(a, m, key, len, stride, &s, &was);
    if (st != ZM_OK) return st;
    s->key = key;
    if (vsize == 8)
        memcpy(VALUE(s, stride), value, 8);
    else
        memcpy(VALUE(s, stride), value, vsize);
    return ZM_OK;
}

/* The backward shift into the hole left in slot i, which ends the removal:
   every later slot of the run that may move into the hole (its home is not
   cyclically within (hole, j]) moves there, and its old place becomes the
   hole. */
static ZM__NOINLINE bool shift_back(zm_map *m, size_t i, size_t stride) {
    unsigned char *ctrl = ctrl_of(m, stride);
    size_t mask = m->cap - 1;
    slot *si = slot_at(m, i, stride);
    for (size_t j = (i + 1) & mask; ctrl[j] != 0; j = (j + 1) & mask) {
        if (ctrl[j] & AT_HOME) continue; /* stays, without reading its slot */
        slot *sj = slot_at(m, j, stride);
        size_t home = sj->hash & mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            copy_slot(si, sj, stride);
            ctrl[i] = ctrl_byte(sj->hash, i, mask);
            i = j, si = sj;
        }
    }
    ctrl[i] = 0;
    m->count--;
    return true;
}

/* Removes the key in slot i: mostly no key after the hole can move into it
   (none of those before the next empty slot is away from its home), seen in
   one step with one branch that goes the same way almost every time (the
   byte loop of shift_back has one per slot, each a guess). */
static ZM__ALWAYS_INLINE bool remove_at(zm_map *m, size_t i, size_t stride) {
    unsigned char *ctrl = ctrl_of(m, stride);
    if (i + 1 + GROUP <= m->cap) {
        uint32_t empty, away = group_away(ctrl + i + 1, &empty);
        if (empty && (away & ((empty & (0u - empty)) - 1)) == 0) {
            ctrl[i] = 0;
            m->count--;
            return true;
        }
    }
    return shift_back(m, i, stride);
}

/* zm_map_remove_raw for the cases its own code leaves out: a caller's hash
   and equality, keys that cannot be compared in the slot, values copied out
   that copy_small does not copy. */
static ZM__NOINLINE bool remove_slow(zm_map *m, const void *key, size_t len, size_t stride,
                                     void *old, size_t vsize) {
    size_t i = probe(m, key, len, hash_of(m, key, len), stride, false);
    if (ctrl_of(m, stride)[i] == 0) return false;
    if (old) memcpy(old, VALUE(slot_at(m, i, stride), stride), vsize);
    return remove_at(m, i, stride);
}

bool zm_map_remove_raw(zm_map *m, const void *key, size_t len, size_t stride, void *old,
                       size_t vsize) {
    if (m->count == 0 || len > UINT32_MAX) return false;
    /* Keys compared in the slot take a path without a call (but to
       shift_back, for the rarer removals that move keys). */
    if (m->hooks || len > INLINE_KEY || (old && !small_size(vsize)))
        return remove_slow(m, key, len, stride, old, vsize);
    size_t i = probe(m, key, len, hash_bytes32(m, key, len), stride, true);
    if (ctrl_of(m, stride)[i] == 0) return false;
    if (old) copy_small(old, VALUE(slot_at(m, i, stride), stride), vsize);
    return remove_at(m, i, stride);
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
        if (value) *value = VALUE(s, stride);
        *it = i + 1;
        return true;
    }
    *it = m->cap;
    return false;
}
