/* UTF-8 validation of whole spans, 16 bytes at a time.
 *
 * The algorithm is the lookup algorithm of Keiser and Lemire ("Validating
 * UTF-8 in less than one instruction per byte", 2021), as simdjson uses it:
 * three 16-entry table lookups classify each byte pair by the high nibble
 * of the first byte, its low nibble and the high nibble of the second; the
 * AND of the three is nonzero exactly for the invalid pairs, and a separate
 * check says where a third or fourth byte must be a continuation. The
 * lookups need SSSE3's pshufb, chosen at run time; without it the span is
 * checked one character at a time. It only answers valid or not: the parser
 * finds and names the error with the scalar check, and zm_utf8_valid_prefix
 * (at the end) runs it block by block to find where valid text stops.
 */
#include "internal.h"

#if defined(ZM__SSE2) && (defined(__GNUC__) || defined(__clang__)) &&                              \
    (defined(__x86_64__) || defined(__i386__))
#define ZM__UTF8_SSSE3 1
#include <tmmintrin.h>
#endif

/* One character at a time. */
static bool valid_scalar(const unsigned char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        int k = zm__utf8_check(p + i, n - i);
        if (k < 0) return false;
        i += (size_t)k;
    }
    return true;
}

#ifdef ZM__UTF8_SSSE3

/* The error classes of the lookup tables. */
enum {
    TOO_SHORT = 1 << 0,  /* a lead byte not followed by a continuation */
    TOO_LONG = 1 << 1,   /* a continuation after an ASCII byte */
    OVERLONG_3 = 1 << 2, /* E0 80..9F */
    TOO_LARGE = 1 << 3,  /* F4 90..BF, F5.. */
    SURROGATE = 1 << 4,  /* ED A0..BF */
    OVERLONG_2 = 1 << 5, /* C0, C1 */
    TOO_LARGE_1000 = 1 << 6,
    OVERLONG_4 = 1 << 6, /* F0 80..8F */
    TWO_CONTS = 1 << 7,  /* two continuations where the first needs a lead */
    CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS,
};

/* By the high nibble of the first byte of a pair. */
static const unsigned char table_1_high[16] = {TOO_LONG,
                                               TOO_LONG,
                                               TOO_LONG,
                                               TOO_LONG,
                                               TOO_LONG,
                                               TOO_LONG,
                                               TOO_LONG,
                                               TOO_LONG,
                                               TWO_CONTS,
                                               TWO_CONTS,
                                               TWO_CONTS,
                                               TWO_CONTS,
                                               TOO_SHORT | OVERLONG_2,
                                               TOO_SHORT,
                                               TOO_SHORT | OVERLONG_3 | SURROGATE,
                                               TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4};

/* By the low nibble of the first byte. */
static const unsigned char table_1_low[16] = {CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
                                              CARRY | OVERLONG_2,
                                              CARRY,
                                              CARRY,
                                              CARRY | TOO_LARGE,
                                              CARRY | TOO_LARGE | TOO_LARGE_1000,
                                              CARRY | TOO_LARGE | TOO_LARGE_1000,
                                              CARRY | TOO_LARGE | TOO_LARGE_1000,
                                              CARRY | TOO_LARGE | TOO_LARGE_1000,
                                              CARRY | TOO_LARGE | TOO_LARGE_1000,
                                              CARRY | TOO_LARGE | TOO_LARGE_1000,
                                              CARRY | TOO_LARGE | TOO_LARGE_1000,
                                              CARRY | TOO_LARGE | TOO_LARGE_1000,
                                              CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
                                              CARRY | TOO_LARGE | TOO_LARGE_1000,
                                              CARRY | TOO_LARGE | TOO_LARGE_1000};

/* By the high nibble of the second byte. */
static const unsigned char table_2_high[16] = {
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT};

/* Where a block may end: a byte above these, in the last three places, starts
   a character that needs more bytes than the block has left. */
static const unsigned char table_max[16] = {0xFF, 0xFF,     0xFF,     0xFF,    0xFF, 0xFF,
                                            0xFF, 0xFF,     0xFF,     0xFF,    0xFF, 0xFF,
                                            0xFF, 0xF0 - 1, 0xE0 - 1, 0xC0 - 1};

typedef struct utf8_state {
    __m128i prev;       /* the previous block */
    __m128i error;      /* nonzero bytes: an error seen */
    __m128i incomplete; /* nonzero bytes: the previous block ends inside a character */
} utf8_state;

__attribute__((target("ssse3"))) static inline void check_block(utf8_state *s, __m128i in) {
    if (_mm_movemask_epi8(in) == 0) { /* all ASCII */
        s->error = _mm_or_si128(s->error, s->incomplete);
        s->incomplete = _mm_setzero_si128();
        s->prev = in;
        return;
    }
    const __m128i nib = _mm_set1_epi8(0x0F);
    const __m128i byte_1_high = _mm_loadu_si128((const __m128i *)table_1_high);
    const __m128i byte_1_low = _mm_loadu_si128((const __m128i *)table_1_low);
    const __m128i byte_2_high = _mm_loadu_si128((const __m128i *)table_2_high);
    __m128i prev1 = _mm_alignr_epi8(in, s->prev, 15);
    __m128i b1h = _mm_shuffle_epi8(byte_1_high, _mm_and_si128(_mm_srli_epi16(prev1, 4), nib));
    __m128i b1l = _mm_shuffle_epi8(byte_1_low, _mm_and_si128(prev1, nib));
    __m128i b2h = _mm_shuffle_epi8(byte_2_high, _mm_and_si128(_mm_srli_epi16(in, 4), nib));
    __m128i special = _mm_and_si128(_mm_and_si128(b1h, b1l), b2h);
    /* where a third or fourth byte must be a continuation */
    __m128i prev2 = _mm_alignr_epi8(in, s->prev, 14);
    __m128i prev3 = _mm_alignr_epi8(in, s->prev, 13);
    __m128i third = _mm_subs_epu8(prev2, _mm_set1_epi8((char)(0xE0 - 0x80)));
    __m128i fourth = _mm_subs_epu8(prev3, _mm_set1_epi8((char)(0xF0 - 0x80)));
    __m128i must23 = _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8((char)0x80));
    s->error = _mm_or_si128(s->error, _mm_xor_si128(must23, special));
    /* a block ending in the first bytes of a character */
    s->incomplete = _mm_subs_epu8(in, _mm_loadu_si128((const __m128i *)table_max));
    s->prev = in;
}

/* 16 bytes of 0xFF then 16 of 0: loaded at 16 - r, a mask keeping r bytes. */
static const unsigned char keep_mask[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

/* padded: the 16 bytes after the span are readable (else the last partial
   block is copied out). */
__attribute__((target("ssse3"))) static bool valid_ssse3(const unsigned char *p, size_t n,
                                                         bool padded) {
    utf8_state s = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) check_block(&s, _mm_loadu_si128((const __m128i *)(p + i)));
    if (i < n) {
        __m128i last;
        if (padded) {
            __m128i keep = _mm_loadu_si128((const __m128i *)(keep_mask + 16 - (n - i)));
            last = _mm_and_si128(_mm_loadu_si128((const __m128i *)(p + i)), keep);
        } else {
            unsigned char tail[16] = {0};
            memcpy(tail, p + i, n - i);
            last = _mm_loadu_si128((const __m128i *)tail);
        }
        check_block(&s, last);
    }
    s.error = _mm_or_si128(s.error, s.incomplete);
    return _mm_movemask_epi8(_mm_cmpeq_epi8(s.error, _mm_setzero_si128())) == 0xFFFF;
}

bool zm__json_utf8_valid(const unsigned char *p, size_t n) {
    if (__builtin_cpu_supports("ssse3")) return valid_ssse3(p, n, false);
    return valid_scalar(p, n);
}

bool zm__json_utf8_valid_padded(const unsigned char *p, size_t n) {
    if (__builtin_cpu_supports("ssse3")) return valid_ssse3(p, n, true);
    return valid_scalar(p, n);
}

#else

bool zm__json_utf8_valid(const unsigned char *p, size_t n) {
    return valid_scalar(p, n);
}

bool zm__json_utf8_valid_padded(const unsigned char *p, size_t n) {
    return valid_scalar(p, n);
}

#endif

/* ---------------------------------------------------------------------------
 * The public validators
 * ------------------------------------------------------------------------- */

/* The blocks of zm_utf8_valid_prefix: the first is small, so that a caller
   stepping over many errors (one call after each) pays little past each one;
   they double to the largest, so that long valid text takes few calls. */
#define PREFIX_BLOCK_MIN ((size_t)64)
#define PREFIX_BLOCK_MAX ((size_t)64 << 10)

bool zm_utf8_valid(const char *s, size_t len) {
    return zm__json_utf8_valid((const unsigned char *)s, len);
}

size_t zm_utf8_valid_prefix(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, block = PREFIX_BLOCK_MIN;
    /* Whole blocks by the fast check while they are valid, each ended where
       a character starts (a character has at most 3 continuation bytes). */
    while (len - i >= 16) {
        size_t end = len - i > block ? i + block : len;
        for (int k = 0; k < 3 && end < len && (p[end] & 0xC0) == 0x80; k++) end--;
        if (!zm__json_utf8_valid(p + i, end - i)) break;
        i = end;
        if (block < PREFIX_BLOCK_MAX) block *= 2;
    }
    /* Then one character at a time, up to the first that is not valid. */
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        int k = zm__utf8_check(p + i, len - i);
        if (k < 0) break;
        i += (size_t)k;
    }
    return i;
}
