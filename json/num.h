/* zmem — JSON: exact, locale-independent conversion between doubles and text,
 * and the decimal digits of integers.
 *
 * Private to the json/ folder. Both directions are exact: parsing rounds every
 * input correctly (IEEE round-half-even), formatting writes the shortest text
 * that reads back to the same bits. Neither allocates, touches errno or looks
 * at the locale.
 */
#ifndef ZMEM_JSON_NUM_H
#define ZMEM_JSON_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Size of the buffer zm__format_double needs. The longest outputs are 25 bytes
   ("-0.0000012345678901234567") and 24 ("-1.2345678901234567e-308"), plus the NUL. */
#define ZM__DOUBLE_BUF 32

/* Parses a JSON number that the caller has already validated against the RFC 8259
   grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? in s[0..len) (not
   NUL-terminated; nothing past len is read). Stores the correctly rounded double
   (round-half-even, any number of digits, any exponent) in *out. Returns true when
   the result is finite, including underflow to a subnormal or to +/-0; on overflow
   stores +/-infinity and returns false. */
bool zm__parse_double(const char *s, size_t len, double *out);

/* Writes the shortest decimal text that parses back (with zm__parse_double or
   strtod) to exactly the bits of v, choosing the closest such text when several
   have that length. Layout as JavaScript's Number toString: plain notation when the
   decimal exponent of those digits is in [-6, 20], i.e. 1e-7 < |v| < 1e21 ("0.1",
   "100.0", "-0.0", "0.000001"; an integral value always ends in ".0"), otherwise
   exponent notation with no exponent padding ("1e+21", "1.5e-7", "5e-324",
   "1.0000000000000001e-7").
   buf must hold ZM__DOUBLE_BUF bytes (all of which may be used as scratch); the text is
   NUL-terminated. Returns its length without the NUL, or 0 with buf = "" when v is NaN
   or infinite. */
size_t zm__format_double(double v, char *buf);

/* ---------------------------------------------------------------------------
 * Decimal digits, eight at a time in a register (the writer's and
 * zm__format_double's hot paths). Stores are whole 8-byte words: no digit is
 * read back from memory, so nothing waits on store forwarding.
 * ------------------------------------------------------------------------- */

#if defined(__GNUC__) || defined(__clang__)
#define ZM__CLZ64(x)   __builtin_clzll(x)
#define ZM__NUM_INLINE inline __attribute__((always_inline))
#else
#define ZM__NUM_INLINE inline

static inline int zm__clz64_portable(uint64_t x) {
    int n = 0;
    while (!(x >> 63)) n++, x <<= 1;
    return n;
}
#define ZM__CLZ64(x)   zm__clz64_portable(x)
#endif

/* 10^0 .. 10^19 */
static const uint64_t zm__pow10_u64[20] = {UINT64_C(1),
                                           UINT64_C(10),
                                           UINT64_C(100),
                                           UINT64_C(1000),
                                           UINT64_C(10000),
                                           UINT64_C(100000),
                                           UINT64_C(1000000),
                                           UINT64_C(10000000),
                                           UINT64_C(100000000),
                                           UINT64_C(1000000000),
                                           UINT64_C(10000000000),
                                           UINT64_C(100000000000),
                                           UINT64_C(1000000000000),
                                           UINT64_C(10000000000000),
                                           UINT64_C(100000000000000),
                                           UINT64_C(1000000000000000),
                                           UINT64_C(10000000000000000),
                                           UINT64_C(100000000000000000),
                                           UINT64_C(1000000000000000000),
                                           UINT64_C(10000000000000000000)};

/* The number of decimal digits of x (1 for 0): t = floor(bit length * log10 2) is
   that number or one less. (x | 1 has as many digits as x.) */
static inline int zm__count_digits(uint64_t x) {
    x |= 1;
    int t = ((64 - ZM__CLZ64(x)) * 1233) >> 12;
    return t + (x >= zm__pow10_u64[t]);
}

/* The eight decimal digits of x < 10^8 as ASCII in one word, the first (most
   significant) in the lowest byte, that is, in memory order on a little-endian
   machine: x splits into two 4-digit halves in 32-bit lanes, each into two
   2-digit quarters in 16-bit lanes, each into two digits in bytes. At each step,
   with t the quotient of every lane (y * 10486 >> 20 = y / 100 for y < 10^4,
   y * 103 >> 10 = y / 10 for y < 180, multiplications that stay inside their
   lanes), (v << w) - t * (d * 2^w - 1) puts the remainder y - d * t in the upper
   half of the lane and t in the lower one. */
static ZM__NUM_INLINE uint64_t zm__digits8(uint32_t x) {
    uint64_t q = (uint64_t)x * 0xD1B71759u >> 45; /* x / 10000 */
    uint64_t v = ((uint64_t)x << 32) - q * (UINT64_C(10000) * 0x100000000 - 1);
    uint64_t t = ((v * 10486) >> 20) & UINT64_C(0x0000007F0000007F);
    v = (v << 16) - t * (100 * 0x10000 - 1);
    t = ((v * 103) >> 10) & UINT64_C(0x000F000F000F000F);
    v = (v << 8) - t * (10 * 0x100 - 1);
    return v | UINT64_C(0x3030303030303030);
}

/* The sixteen digits of a < 10^8 and b < 10^8 (a first) as two words, as
   zm__digits8 lays them out: *wa, *wb. With SSE2 both go through the same
   steps side by side in one register (4-digit halves in 32-bit lanes, 2-digit
   quarters in 16-bit lanes, digits in bytes; y * 5243 >> 19 = y / 100 for
   y < 10^4, z * 6554 >> 16 = z / 10 for z < 100). */
#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
static ZM__NUM_INLINE void zm__digits16(uint32_t a, uint32_t b, uint64_t *wa, uint64_t *wb) {
    __m128i x = _mm_set_epi64x((long long)b, (long long)a);
    __m128i q = _mm_srli_epi64(_mm_mul_epu32(x, _mm_set1_epi32((int)0xD1B71759)), 45);
    __m128i r = _mm_sub_epi32(x, _mm_mul_epu32(q, _mm_set1_epi32(10000)));
    __m128i v = _mm_or_si128(q, _mm_slli_epi64(r, 32)); /* 32-bit lanes: 4 digits each */
    __m128i t = _mm_srli_epi16(_mm_mulhi_epu16(v, _mm_set1_epi32(5243)), 3);
    r = _mm_sub_epi16(v, _mm_mullo_epi16(t, _mm_set1_epi32(100)));
    v = _mm_or_si128(t, _mm_slli_epi32(r, 16)); /* 16-bit lanes: 2 digits each */
    t = _mm_mulhi_epu16(v, _mm_set1_epi16(6554));
    r = _mm_sub_epi16(v, _mm_mullo_epi16(t, _mm_set1_epi16(10)));
    v = _mm_or_si128(_mm_or_si128(t, _mm_slli_epi16(r, 8)), _mm_set1_epi8('0'));
    *wa = (uint64_t)_mm_cvtsi128_si64(v);
    *wb = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v));
}
#else
static ZM__NUM_INLINE void zm__digits16(uint32_t a, uint32_t b, uint64_t *wa, uint64_t *wb) {
    *wa = zm__digits8(a);
    *wb = zm__digits8(b);
}
#endif

/* Writes the 8 bytes of the word x at p, the lowest first. */
static inline void zm__store8(char *p, uint64_t x) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &x, 8);
#else
    for (int i = 0; i < 8; i++) p[i] = (char)(x >> (8 * i));
#endif
}

/* "00" .. "99": the two digits of 0..99 at 2 * n. */
static const char zm__digit_pairs[200] = {
    '0', '0', '0', '1', '0', '2', '0', '3', '0', '4', '0', '5', '0', '6', '0', '7', '0', '8', '0',
    '9', '1', '0', '1', '1', '1', '2', '1', '3', '1', '4', '1', '5', '1', '6', '1', '7', '1', '8',
    '1', '9', '2', '0', '2', '1', '2', '2', '2', '3', '2', '4', '2', '5', '2', '6', '2', '7', '2',
    '8', '2', '9', '3', '0', '3', '1', '3', '2', '3', '3', '3', '4', '3', '5', '3', '6', '3', '7',
    '3', '8', '3', '9', '4', '0', '4', '1', '4', '2', '4', '3', '4', '4', '4', '5', '4', '6', '4',
    '7', '4', '8', '4', '9', '5', '0', '5', '1', '5', '2', '5', '3', '5', '4', '5', '5', '5', '6',
    '5', '7', '5', '8', '5', '9', '6', '0', '6', '1', '6', '2', '6', '3', '6', '4', '6', '5', '6',
    '6', '6', '7', '6', '8', '6', '9', '7', '0', '7', '1', '7', '2', '7', '3', '7', '4', '7', '5',
    '7', '6', '7', '7', '7', '8', '7', '9', '8', '0', '8', '1', '8', '2', '8', '3', '8', '4', '8',
    '5', '8', '6', '8', '7', '8', '8', '8', '9', '9', '0', '9', '1', '9', '2', '9', '3', '9', '4',
    '9', '5', '9', '6', '9', '7', '9', '8', '9', '9'};

/* Writes the decimal digits of x at p (exactly as many bytes as there are
   digits). Returns the end. The digit count is found by comparisons (ids and
   counts are mostly of one size, so they are predicted); then, after James
   Anhalt's method, t = x / 10^(2k) in fixed point with 32 fraction bits gives
   the first two digits in its integer part, and each further pair is the
   integer part of the fraction times 100. The constants and the +N/6-N/8 and
   N/6*4 corrections are Anhalt's; the output equals the plain decimal digits
   for every 32-bit x (checked exhaustively when this was written; tests check
   every digit count's ends and random values). */
static ZM__NUM_INLINE char *zm__put_u32(char *p, uint32_t x) {
    uint64_t t;
#define ZM__W(N, I) memcpy(p + (N), zm__digit_pairs + 2 * (I), 2)
#define ZM__SH(N)   ((N) / 5 * (N)*53 / 16)
#define ZM__A(N, P)                                                                                \
    (t = ((UINT64_C(1) << (32 + ZM__SH(N))) / (P) + 1 + (N) / 6 - (N) / 8), t *= x,                \
     t >>= ZM__SH(N), t += (N) / 6 * 4, ZM__W(0, t >> 32))
#define ZM__S(N) (p[N] = (char)('0' + (UINT64_C(10) * (uint32_t)t >> 32)))
#define ZM__D(N) (t = UINT64_C(100) * (uint32_t)t, ZM__W(N, t >> 32))
    if (x < 100) {
        if (x < 10) {
            *p = (char)('0' + x);
            return p + 1;
        }
        ZM__W(0, x);
        return p + 2;
    }
    if (x < 1000000) {
        if (x < 10000) {
            if (x < 1000) {
                ZM__A(1, 10), ZM__S(2);
                return p + 3;
            }
            ZM__A(2, 100), ZM__D(2);
            return p + 4;
        }
        if (x < 100000) {
            ZM__A(3, 1000), ZM__D(2), ZM__S(4);
            return p + 5;
        }
        ZM__A(4, 10000), ZM__D(2), ZM__D(4);
        return p + 6;
    }
    if (x < 100000000) {
        if (x < 10000000) {
            ZM__A(5, 100000), ZM__D(2), ZM__D(4), ZM__S(6);
            return p + 7;
        }
        ZM__A(6, 1000000), ZM__D(2), ZM__D(4), ZM__D(6);
        return p + 8;
    }
    if (x < 1000000000) {
        ZM__A(7, 10000000), ZM__D(2), ZM__D(4), ZM__D(6), ZM__S(8);
        return p + 9;
    }
    ZM__A(8, 100000000), ZM__D(2), ZM__D(4), ZM__D(6), ZM__D(8);
    return p + 10;
#undef ZM__W
#undef ZM__SH
#undef ZM__A
#undef ZM__S
#undef ZM__D
}

/* Writes the n = zm__count_digits(x) digits of x at p, in whole 8-byte stores:
   bytes from p + n up to p + 8 may be overwritten too (scratch, when n < 8).
   Returns the first eight of those bytes as a word (as zm__digits8 lays them
   out; for n < 8 the bytes above the digits are 0). */
static ZM__NUM_INLINE uint64_t zm__put_digits(char *p, uint64_t x, int n) {
    if (n <= 8) {
        uint64_t r = zm__digits8((uint32_t)x) >> (8 * (8 - n));
        zm__store8(p, r);
        return r;
    }
    if (n <= 10) { /* one or two digits, then eight (ids, timestamps in seconds) */
        uint32_t h = (uint32_t)(x / 100000000), t = h * 103 >> 10; /* t = h / 10 */
        uint64_t hi = (t | (h - 10 * t) << 8 | 0x3030) >> (8 * (10 - n));
        uint64_t lo = zm__digits8((uint32_t)(x % 100000000));
        zm__store8(p, hi);
        zm__store8(p + n - 8, lo);
        return hi | lo << (8 * (n - 8));
    }
    if (n <= 16) {
        uint64_t hi = zm__digits8((uint32_t)(x / 100000000)) >> (8 * (16 - n));
        uint64_t lo = zm__digits8((uint32_t)(x % 100000000));
        zm__store8(p, hi);
        zm__store8(p + n - 8, lo);
        return n < 16 ? hi | lo << (8 * (n - 8)) : hi;
    }
    uint64_t top = x / UINT64_C(10000000000000000), rest = x % UINT64_C(10000000000000000);
    uint64_t a = zm__digits8((uint32_t)top) >> (8 * (24 - n));
    uint64_t b = zm__digits8((uint32_t)(rest / 100000000));
    zm__store8(p, a);
    zm__store8(p + n - 16, b);
    zm__store8(p + n - 8, zm__digits8((uint32_t)(rest % 100000000)));
    return a | b << (8 * (n - 16));
}

#endif
