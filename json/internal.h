/* zmem — JSON internals shared by the value model, the parser and the writer.
 * Private to json/: never included from outside the folder. */
#ifndef ZMEM_JSON_INTERNAL_H
#define ZMEM_JSON_INTERNAL_H

#include "zmem/json.h"
#include "zmem/map.h"

/* From zmem/allocator.h: ZM__ALWAYS_INLINE, for the few small functions a hot
   loop must not call, and ZM__HIDDEN, for the functions one file of the
   folder defines and another calls. */

/* ---------------------------------------------------------------------------
 * Objects: the hash index
 *
 * An object with more than ZM__JSON_HASH_MIN members carries an index of
 * hash_cap slots (a power of two, at least twice the member count), each
 * holding a member's position + 1, or 0 when empty; collisions probe
 * linearly. Below that size a linear scan comparing lengths first is as fast.
 * An object without an index is always valid: lookups fall back to the scan.
 * ------------------------------------------------------------------------- */

#define ZM__JSON_HASH_MIN 16

/* The number of index slots for n members: a power of two >= 2n, at least
   64. 0 when n is too large for a 32-bit index. */
uint32_t zm__json_index_cap(size_t n);

/* The hash seed's anchor: its address moves with the address space layout,
   which is random per process, so colliding keys cannot be precomputed. A
   constant, so there is no start-up race. */
extern const char zm__json_seed_anchor;

/* The hash of a key: zmem's seeded byte hash (zmem/map.h) under the
   anchor's address. */
static inline uint64_t zm__json_hash(const char *key, size_t len) {
    return zm_hash_bytes(key, len, (uint64_t)(uintptr_t)&zm__json_seed_anchor);
}

/* True when member m has the key key (len bytes). */
static inline bool zm__json_key_eq(const zm_json_member *m, const char *key, size_t len) {
    return m->key_len == len && (len == 0 || memcmp(m->key, key, len) == 0);
}

/* Looks key (hash h) up in index (cap slots) over items. Returns the member's
   position, or SIZE_MAX. */
static inline size_t zm__json_index_find(const uint32_t *index, uint32_t cap,
                                         const zm_json_member *items, const char *key, size_t len,
                                         uint64_t h) {
    uint32_t mask = cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        uint32_t e = index[i];
        if (e == 0) return SIZE_MAX;
        if (zm__json_key_eq(&items[e - 1], key, len)) return e - 1;
    }
}

/* Adds items[pos] (hash h) to index unless a member with the same key is
   there already. Returns pos, or the position of that earlier member. */
static inline size_t zm__json_index_add(uint32_t *index, uint32_t cap, const zm_json_member *items,
                                        size_t pos, uint64_t h) {
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

/* Clears index and adds the first n members of items (first of equal keys wins). */
void zm__json_index_fill(uint32_t *index, uint32_t cap, const zm_json_member *items, size_t n);

/* ---------------------------------------------------------------------------
 * Documents
 * ------------------------------------------------------------------------- */

/* A document: its arena, and the root. The struct itself lives in the arena. */
struct zm_json_doc {
    zm_arena arena;
    zm_json *root;
};

/* ---------------------------------------------------------------------------
 * UTF-8
 * ------------------------------------------------------------------------- */

/* Why a byte sequence is not UTF-8 (negated results of zm__utf8_check). */
enum {
    ZM__UTF8_STRAY = 1, /* a continuation byte where a character should start */
    ZM__UTF8_BAD_BYTE,  /* a byte that never occurs in UTF-8 (0xF8..0xFF) */
    ZM__UTF8_OVERLONG,  /* a longer encoding than the code point needs */
    ZM__UTF8_SURROGATE, /* an encoded UTF-16 surrogate (U+D800..U+DFFF) */
    ZM__UTF8_TOO_BIG,   /* a code point above U+10FFFF */
    ZM__UTF8_TRUNCATED, /* a sequence cut short by a non-continuation byte or the end */
};

/* Checks the character starting at p, a byte >= 0x80, with avail >= 1 bytes
   readable. Returns its length (2..4), or the negated ZM__UTF8_* reason. */
static inline int zm__utf8_check(const unsigned char *p, size_t avail) {
    unsigned c = p[0];
#define ZM__CONT(i) (avail > (i) && (p[i] & 0xC0) == 0x80)
    if (c < 0xC0) return c < 0x80 ? 1 : -ZM__UTF8_STRAY;
    if (c < 0xC2) return -ZM__UTF8_OVERLONG;
    if (c < 0xE0) return ZM__CONT(1) ? 2 : -ZM__UTF8_TRUNCATED;
    if (c < 0xF0) {
        if (!ZM__CONT(1)) return -ZM__UTF8_TRUNCATED;
        if (c == 0xE0 && p[1] < 0xA0) return -ZM__UTF8_OVERLONG;
        if (c == 0xED && p[1] >= 0xA0) return -ZM__UTF8_SURROGATE;
        return ZM__CONT(2) ? 3 : -ZM__UTF8_TRUNCATED;
    }
    if (c < 0xF5) {
        if (!ZM__CONT(1)) return -ZM__UTF8_TRUNCATED;
        if (c == 0xF0 && p[1] < 0x90) return -ZM__UTF8_OVERLONG;
        if (c == 0xF4 && p[1] >= 0x90) return -ZM__UTF8_TOO_BIG;
        return ZM__CONT(2) && ZM__CONT(3) ? 4 : -ZM__UTF8_TRUNCATED;
    }
#undef ZM__CONT
    return c < 0xF8 ? -ZM__UTF8_TOO_BIG : -ZM__UTF8_BAD_BYTE;
}

/* True when the n bytes at p are valid UTF-8 (json/utf8.c: 16 bytes at a
   time where the processor allows). The _padded form may read the 16 bytes
   after the span. Neither says where an error is: zm__utf8_check does. */
bool zm__json_utf8_valid(const unsigned char *p, size_t n);
bool zm__json_utf8_valid_padded(const unsigned char *p, size_t n);

/* A short description of a ZM__UTF8_* reason. */
const char *zm__utf8_reason(int reason);

/* ---------------------------------------------------------------------------
 * Scanning strings many bytes at a time: 16 with SSE2, else 8 with plain
 * 64-bit arithmetic on little-endian machines, else one.
 * ------------------------------------------------------------------------- */

#if defined(__SSE2__)
#include <emmintrin.h>
#define ZM__SSE2 1
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&                        \
    (defined(__GNUC__) || defined(__clang__))
#define ZM__SWAR 1
#endif

/* True for the bytes a JSON string cannot hold as is ('"', '\\', a control
   character) and those that start or continue a multi-byte character. */
static inline bool zm__str_is_special(unsigned char c) {
    return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

#ifdef ZM__SSE2
/* The bit mask of the special bytes among the 16 at p. */
static inline unsigned zm__str_special16(const void *p) {
    __m128i x = _mm_loadu_si128((const __m128i *)p);
    __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    /* signed: below 0x20 are the control characters and every byte >= 0x80 */
    __m128i c = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c));
}
#endif

#ifdef ZM__SWAR
/* For the 8 bytes of x, a mask with the high bit set in the lowest special
   byte. Bits above the lowest set one may be spurious; the lowest is exact. */
static inline uint64_t zm__str_special8(uint64_t x) {
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | (x - ones * 0x20) | x) & high;
}
#endif

/* The first special byte at or after p, in a buffer that is known to hold
   one (the parser's copy ends with NUL bytes) and to be readable 15 bytes
   past it. */
static inline unsigned char *zm__str_skip_plain(unsigned char *p) {
#if defined(ZM__SSE2)
    for (;;) {
        unsigned m = zm__str_special16(p);
        if (m) return p + __builtin_ctz(m);
        p += 16;
    }
#elif defined(ZM__SWAR)
    for (;;) {
        uint64_t t = zm__str_special8(zm__load64(p));
        if (t) return p + (__builtin_ctzll(t) >> 3);
        p += 8;
    }
#else
    while (!zm__str_is_special(*p)) p++;
    return p;
#endif
}

/* The first '"', '\\' or control character at or after p (bytes >= 0x80
   are passed over), in a buffer known to hold one and readable 15 bytes
   past it. */
static inline unsigned char *zm__str_skip_utf8(unsigned char *p) {
#if defined(ZM__SSE2)
    for (;;) {
        __m128i x = _mm_loadu_si128((const __m128i *)p);
        __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
        __m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
        __m128i c = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x); /* x <= 0x1F */
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c));
        if (m) return p + __builtin_ctz(m);
        p += 16;
    }
#else
    while (*p != '"' && *p != '\\' && *p >= 0x20) p++;
    return p;
#endif
}

/* The number of plain (not special) bytes at the start of the n bytes at p. */
static inline size_t zm__str_plain_run(const unsigned char *p, size_t n) {
    size_t i = 0;
#if defined(ZM__SSE2)
    while (n - i >= 16) {
        unsigned m = zm__str_special16(p + i);
        if (m) return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#elif defined(ZM__SWAR)
    while (n - i >= 8) {
        uint64_t t = zm__str_special8(zm__load64(p + i));
        if (t) return i + ((size_t)__builtin_ctzll(t) >> 3);
        i += 8;
    }
#endif
    while (i < n && !zm__str_is_special(p[i])) i++;
    return i;
}

/* ---------------------------------------------------------------------------
 * Small growable stacks: a caller's local array first, then blocks from an
 * allocator.
 * ------------------------------------------------------------------------- */

/* Grows the stack *items (cap items of size bytes, *on_heap telling whether
   it came from a) to at least need items. On failure returns false and
   leaves everything unchanged. */
bool zm__stack_grow(zm_allocator a, void **items, size_t *cap, size_t size, bool *on_heap,
                    size_t need);

/* Gives a stack's block back if it came from a. */
static inline void zm__stack_free(zm_allocator a, void *items, size_t cap, size_t size,
                                  bool on_heap) {
    if (on_heap) zm_free(a, items, cap * size, _Alignof(max_align_t));
}

/* ---------------------------------------------------------------------------
 * Numbers
 * ------------------------------------------------------------------------- */

/* A number's text split for exact decimal comparison: the value is
   (neg ? -1 : 1) * 0.d1d2...dn * 10^exp, where the digits are the ndigits
   significant digits (no leading or trailing zeros) read from the integer
   then the fraction part. ndigits == 0 for a zero. */
typedef struct zm__decimal {
    bool neg;
    const char *ip, *fp; /* integer and fraction digits */
    size_t in, fn;       /* their counts */
    size_t first;        /* index of the first significant digit in ip..fp */
    size_t ndigits;
    int64_t exp; /* saturated to +-2^62 */
} zm__decimal;

/* Splits number text (valid JSON number grammar) into d. */
void zm__decimal_read(const char *s, size_t len, zm__decimal *d);

/* Significant digit i (0-based) of d. */
static inline char zm__decimal_digit(const zm__decimal *d, size_t i) {
    size_t k = d->first + i;
    return k < d->in ? d->ip[k] : d->fp[k - d->in];
}

/* Writes the decimal digits of v (with '-' when negative) to buf (at least
   21 bytes). Returns the length. Not NUL-terminated. */
size_t zm__format_int(int64_t v, char *buf);

#endif
