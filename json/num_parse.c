/* zmem — JSON: text -> double, correctly rounded for every input.
 *
 * Three stages, each exact where it answers:
 *
 *  1. The fast paths shared with the parser, zm__decimal_fast (num_internal.h): for at
 *     most 19 significant digits w, Clinger's (w <= 2^53 and |q| <= 22: value = w *
 *     10^q is one IEEE multiplication or division of exact doubles), then one
 *     64 x 64-bit product of w with the upper half of the table entry for 10^q, which
 *     decides the rounding of all but about 2 inputs in 1000 (the bits below the
 *     mantissa within 4 units of one half). Clinger's case also extends to
 *     22 < q <= 37 when w * 10^(q - 22) stays an exact integer below 2^53.
 *  2. A 128-bit product (the Eisel-Lemire idea): the first 19 significant digits w,
 *     normalised, times a truncated 128-bit mantissa of 10^q from num_tables.c. The
 *     upper 128 bits U of that product satisfy U <= exact < U + 2 (in units of U's
 *     last bit), so unless the bits below the double's last mantissa bit are within
 *     2 units of one half, the correctly rounded result is known. When digits were
 *     dropped (more than 19 significant ones), the exact value lies in
 *     [w, w+1) * 10^q, and if w and w+1 round to the same double so does it.
 *  3. The exact path, for what stage 2 cannot decide (inputs within ~2^-60 relative
 *     of a halfway point, exact ties, long inputs straddling one): starting from a
 *     candidate known to be <= the answer (the truncation of U), it compares the
 *     decimal value with the halfway point above the candidate in big-integer
 *     arithmetic and steps up until the value is below (or, on a tie, at) it.
 *     Only the first ZM__MAX_DIGITS significant digits are kept; any nonzero digit
 *     after them is folded into one extra digit '1', which changes no comparison
 *     with a halfway point (those have at most 768 significant digits).
 *
 * Nothing here allocates, reads past len, touches errno or depends on the locale.
 */
#include "num.h"
#include "num_internal.h"

#include <float.h>
#include <string.h>

#define INF_BITS  UINT64_C(0x7FF0000000000000)
#define SIGN_BIT  UINT64_C(0x8000000000000000)
#define FRAC_MASK ((UINT64_C(1) << 52) - 1)

/* Significant digits kept by the exact path (must be >= 769, see the file comment). */
#define ZM__MAX_DIGITS 800

/* The exact path's integers stay below 2^2700 (see slow_path); 100 limbs = 3200 bits. */
#define BIG_LIMBS 100

static inline bool is_digit(char c) {
    return (unsigned char)(c - '0') < 10;
}

static inline double from_bits(uint64_t b) {
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* ---------------------------------------------------------------------------
 * Eight digits at a time (little-endian hosts only; the scalar loop is the fallback).
 * ------------------------------------------------------------------------- */

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) &&                                 \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ZM__SWAR 1
static inline uint64_t load8(const char *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* True when all eight bytes are ASCII digits. */
static inline bool all_digits8(uint64_t v) {
    const uint64_t hi = UINT64_C(0xF0F0F0F0F0F0F0F0), d0 = UINT64_C(0x3030303030303030);
    return (v & hi) == d0 && ((v + UINT64_C(0x0606060606060606)) & hi) == d0;
}

/* The eight digits (first one in the lowest byte) as a number. Pairs, then quads,
   then the whole: each step multiplies the lower-addressed (more significant) lane. */
static inline uint64_t value8(uint64_t v) {
    v -= UINT64_C(0x3030303030303030);
    v = (v * 10 + (v >> 8)) & UINT64_C(0x00FF00FF00FF00FF);
    v = (v * 100 + (v >> 16)) & UINT64_C(0x0000FFFF0000FFFF);
    v = (v * 10000 + (v >> 32)) & UINT64_C(0xFFFFFFFF);
    return v;
}
#endif

/* Accumulates the digits at *pp into *w (mod 2^64), stops at the first non-digit.
   (Measured: padding the last < 8 digits into one more SWAR step was slower than this
   scalar tail on canada.json.) */
static inline void eat_digits(const char **pp, const char *end, uint64_t *w) {
    const char *p = *pp;
    uint64_t x = *w;
#ifdef ZM__SWAR
    while (end - p >= 8) {
        uint64_t v = load8(p);
        if (!all_digits8(v)) break;
        x = x * 100000000 + value8(v);
        p += 8;
    }
#endif
    while (p != end && is_digit(*p)) x = x * 10 + (uint64_t)(*p++ - '0');
    *pp = p;
    *w = x;
}

/* ---------------------------------------------------------------------------
 * Stage 1: Clinger's fast path
 * ------------------------------------------------------------------------- */

/* For w <= 2^53 and small q: *d = w * 10^q with a single rounding. Needs doubles to be
   evaluated in double precision (not x87 extended), hence the FLT_EVAL_METHOD test. */
static inline bool clinger(uint64_t w, int64_t q, double *d) {
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    const double *p10 = zm__exact_pow10;
    if (w > (UINT64_C(1) << 53) || q < -22 || q > 22 + 15) return false;
    if (q < 0) {
        *d = (double)w / p10[-q];
        return true;
    }
    if (q <= 22) {
        *d = (double)w * p10[q];
        return true;
    }
    /* w * 10^(q - 22) still an exact integer below 2^53? then one rounding remains */
    uint64_t f = 1;
    for (int64_t i = 22; i < q; i++) f *= 10;
    if (w > (UINT64_C(1) << 53) / f) return false;
    *d = (double)(w * f) * 1e22;
    return true;
#else
    (void)w, (void)q, (void)d;
    return false;
#endif
}

/* ---------------------------------------------------------------------------
 * Stage 2: the 128-bit product
 * ------------------------------------------------------------------------- */

/* w != 0, ZM__POW5_MIN <= q <= 308. Sets *lower to the bits of a double <= the correctly
   rounded w * 10^q (the truncation of an underestimate). Returns true, with *bits the
   correctly rounded result (INF_BITS on overflow), when the rounding is certain. */
static bool product_round(uint64_t w, int q, uint64_t *bits, uint64_t *lower) {
    const uint64_t *t = zm__pow5_128[q - ZM__POW5_MIN];
    int lz = zm__clz64(w);
    uint64_t wn = w << lz;
    uint64_t mid, hi, lo;
    zm__mul64(wn, t[1], &mid); /* the low 64 bits of this part are dropped */
    lo = zm__mul64(wn, t[0], &hi);
    lo += mid;
    hi += lo < mid;
    /* U = hi:lo, in [2^126, 2^128); value ~= U * 2^b; exact value in [U, U + 2). */
    int top = 126 + (int)(hi >> 63);
    int b = zm__flog2_pow10(q) - lz - 63;
    int e2 = top + b; /* floor(log2(U * 2^b)) */
    if (e2 > 1023) {  /* U * 2^b >= 2^1024 */
        *bits = *lower = INF_BITS;
        return true;
    }
    int shift = e2 >= -1022 ? top - 52 : -1074 - b; /* U's bits below the last mantissa bit */
    if (shift >= 128) {
        *lower = 0;
        *bits = 0;
        return shift > 128; /* then exact < U + 2 <= 2^128 <= half of 2^-1074's unit */
    }
    int sh = shift - 64; /* 10 .. 63 */
    uint64_t m = hi >> sh;
    uint64_t rhi = hi & ((UINT64_C(1) << sh) - 1), half = UINT64_C(1) << (sh - 1);
    /* normal: bits = (e2 + 1022) << 52 + m with m in [2^52, 2^53]; a carry to 2^53
       bumps the exponent (and reaches INF_BITS past the largest double). Subnormal:
       bits = m, and a carry to 2^52 gives the smallest normal. */
    uint64_t base = e2 >= -1022 ? (uint64_t)(e2 + 1022) << 52 : 0;
    *lower = base + m;
    if (rhi < half - 1 || (rhi == half - 1 && lo != UINT64_MAX)) { /* rem + 2 <= half */
        *bits = base + m;
        return true;
    }
    if (rhi > half || (rhi == half && lo != 0)) { /* rem > half */
        *bits = base + m + 1;
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------------------
 * Stage 3: exact comparison with big integers (32-bit limbs, little-endian)
 * ------------------------------------------------------------------------- */

typedef struct big {
    uint32_t v[BIG_LIMBS];
    int n; /* limbs in use; v[n-1] != 0 unless n == 0 */
} big;

static void big_set_u64(big *a, uint64_t x) {
    a->n = 0;
    while (x) {
        a->v[a->n++] = (uint32_t)x;
        x >>= 32;
    }
}

/* a = a * m + add */
static void big_muladd(big *a, uint32_t m, uint32_t add) {
    uint64_t carry = add;
    for (int i = 0; i < a->n; i++) {
        uint64_t t = (uint64_t)a->v[i] * m + carry;
        a->v[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry && a->n < BIG_LIMBS) a->v[a->n++] = (uint32_t)carry;
}

static void big_mul_pow5(big *a, int k) {
    static const uint32_t p5[14] = {1,       5,        25,        125,       625,
                                    3125,    15625,    78125,     390625,    1953125,
                                    9765625, 48828125, 244140625, 1220703125};
    for (; k >= 13; k -= 13) big_muladd(a, p5[13], 0);
    if (k) big_muladd(a, p5[k], 0);
}

/* r = a * m, m < 2^64 (r != a) */
static void big_mul_u64(big *r, const big *a, uint64_t m) {
    uint32_t m0 = (uint32_t)m, m1 = (uint32_t)(m >> 32);
    uint64_t carry = 0;
    int n = a->n;
    for (int i = 0; i < n; i++) {
        uint64_t t = (uint64_t)a->v[i] * m0 + carry;
        r->v[i] = (uint32_t)t;
        carry = t >> 32;
    }
    r->v[n] = (uint32_t)carry;
    r->n = n + 1;
    if (m1) {
        carry = 0;
        for (int i = 0; i < n; i++) {
            uint64_t t = (uint64_t)a->v[i] * m1 + r->v[i + 1] + carry;
            r->v[i + 1] = (uint32_t)t;
            carry = t >> 32;
        }
        r->v[n + 1] = (uint32_t)carry;
        r->n = n + 2;
    }
    while (r->n && !r->v[r->n - 1]) r->n--;
}

static int big_bitlen(const big *a) {
    if (!a->n) return 0;
    return 32 * a->n - (zm__clz64(a->v[a->n - 1]) - 32);
}

/* a <<= s; the caller knows the result fits */
static void big_shl(big *a, int s) {
    if (!a->n || !s) return;
    int limbs = s / 32, bits = s % 32;
    int n = a->n;
    if (bits) {
        uint32_t over = a->v[n - 1] >> (32 - bits);
        for (int i = n - 1; i > 0; i--) a->v[i] = (a->v[i] << bits) | (a->v[i - 1] >> (32 - bits));
        a->v[0] <<= bits;
        if (over) a->v[n++] = over;
    }
    if (limbs) {
        memmove(a->v + limbs, a->v, (size_t)n * sizeof a->v[0]);
        memset(a->v, 0, (size_t)limbs * sizeof a->v[0]);
        n += limbs;
    }
    a->n = n;
}

static int big_cmp(const big *a, const big *b) {
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    for (int i = a->n - 1; i >= 0; i--)
        if (a->v[i] != b->v[i]) return a->v[i] < b->v[i] ? -1 : 1;
    return 0;
}

/* [p, end) holds the digits, with at most one '.' (what follows any '-' and precedes any
   exponent); value = digits * 10^scale10, where scale10 = exponent - number of fraction
   digits. start = bits of a double <= the correctly rounded value, within a few ulps of
   it. Returns the correctly rounded bits. */
static uint64_t slow_path(const char *p, const char *end, int64_t scale10, uint64_t start) {
    unsigned char dig[ZM__MAX_DIGITS + 1];
    int nk = 0;
    int64_t dropped = 0; /* significant digits after the kept ones */
    bool sticky = false;

    while (*p == '0' || *p == '.') p++; /* the value is nonzero: a digit 1-9 follows */
    for (; p != end; p++) {
        if (*p == '.') continue;
        if (nk < ZM__MAX_DIGITS) {
            dig[nk++] = (unsigned char)(*p - '0');
        } else {
            dropped++;
            if (*p != '0') sticky = true;
        }
    }
    int64_t e10 = scale10 + dropped;
    if (sticky) { /* stands for "a little more than the kept digits" */
        dig[nk++] = 1;
        e10--;
    }
    while (dig[nk - 1] == 0) nk--, e10++;

    /* D = dint * 10^e10. The caller has bounded the value to [1e-344, 1e309), so
       -1125 <= e10 <= 308 and every integer below stays under 2^2700. */
    big L, P5, R, T;
    L.n = 0;
    for (int i = 0; i < nk;) {
        uint32_t chunk = 0, scale = 1;
        for (int j = 0; j < 9 && i < nk; j++, i++) chunk = chunk * 10 + dig[i], scale *= 10;
        big_muladd(&L, scale, chunk);
    }
    int k = 0, a = 0; /* D = L * 2^a / 5^k */
    big_set_u64(&P5, 1);
    if (e10 >= 0) {
        big_mul_pow5(&L, (int)e10);
        a = (int)e10;
    } else {
        k = (int)-e10;
        big_mul_pow5(&P5, k);
    }
    int lbits = big_bitlen(&L) + a;

    for (uint64_t bits = start;; bits++) {
        if (bits >= INF_BITS) return INF_BITS;
        /* halfway above bits: (2m + 1) * 2^(E - 1) */
        uint64_t be = bits >> 52, m = bits & FRAC_MASK;
        int e = -1075;
        if (be) m |= UINT64_C(1) << 52, e = (int)be - 1076;
        /* compare L * 2^a with (2m + 1) * 5^k * 2^(e + k) */
        big_mul_u64(&R, &P5, 2 * m + 1);
        int b = e + k;
        int rbits = big_bitlen(&R) + b;
        int c;
        if (lbits != rbits) {
            c = lbits < rbits ? -1 : 1;
        } else if (a >= b) {
            T = L;
            big_shl(&T, a - b);
            c = big_cmp(&T, &R);
        } else {
            big_shl(&R, b - a);
            c = big_cmp(&L, &R);
        }
        if (c < 0) return bits;
        if (c == 0) return bits + (bits & 1);
    }
}

/* ---------------------------------------------------------------------------
 * Entry point
 * ------------------------------------------------------------------------- */

bool zm__parse_double(const char *s, size_t len, double *out) {
    const char *p = s, *end = s + len;
    uint64_t sign = 0;
    if (p != end && *p == '-') sign = SIGN_BIT, p++;
    const char *digits = p;

    uint64_t w = 0;
    eat_digits(&p, end, &w);
    size_t nint = (size_t)(p - digits), nfrac = 0;
    if (p != end && *p == '.') {
        const char *f = ++p;
        eat_digits(&p, end, &w);
        nfrac = (size_t)(p - f);
    }
    const char *digits_end = p;
    int64_t ex = 0;
    if (p != end && (*p == 'e' || *p == 'E')) {
        bool eneg = false;
        if (++p != end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        for (; p != end && is_digit(*p); p++) /* saturates: 1e17 is already hopeless */
            if (ex < INT64_C(100000000000000000)) ex = ex * 10 + (*p - '0');
        if (eneg) ex = -ex;
    }
    /* value = (all digits as an integer) * 10^scale10 */
    int64_t scale10 = ex - (int64_t)nfrac;
    int64_t q = scale10;
    bool truncated = false;
    if (nint + nfrac > 19) {
        const char *d = digits;
        size_t lead = 0;
        for (; d != digits_end && (*d == '0' || *d == '.'); d++) lead += *d == '0';
        size_t nsig = nint + nfrac - lead;
        if (nsig > 19) { /* w wrapped: take the first 19 significant digits */
            w = 0;
            for (int taken = 0; taken < 19; d++)
                if (*d != '.') w = w * 10 + (uint64_t)(*d - '0'), taken++;
            for (; d != digits_end; d++)
                if (*d > '0') {
                    truncated = true;
                    break;
                }
            q += (int64_t)(nsig - 19);
        }
    }

    uint64_t bits;
    if (w == 0) {
        bits = 0;
    } else if (q > 308) { /* >= 1e309 */
        bits = INF_BITS;
    } else if (q < ZM__POW5_MIN) { /* < 1e19 * 1e-344 = 1e-325 < 2^-1075 */
        bits = 0;
    } else {
        double d;
        if (!truncated && zm__decimal_fast(w, q, &bits)) {
            *out = from_bits(bits | sign);
            return true;
        }
        if (!truncated && clinger(w, q, &d)) {
            memcpy(&bits, &d, sizeof bits);
            *out = from_bits(bits | sign);
            return true;
        }
        uint64_t lower, alt, alt_lower;
        if (!product_round(w, (int)q, &bits, &lower) ||
            (truncated && (!product_round(w + 1, (int)q, &alt, &alt_lower) || alt != bits))) {
            bits = slow_path(digits, digits_end, scale10, lower);
        }
    }
    if (bits > INF_BITS) bits = INF_BITS; /* cannot happen; keeps the result a number */
    *out = from_bits(bits | sign);
    return bits != INF_BITS;
}
