/* zmem — JSON: the layout of doubles as text, and the fast path of the shortest
 * digits, inline for the writer's loops; see num.h for zm__format_double, which
 * is the same function out of line, and num_write.c for the exact method these
 * fall back to. Private to the json/ folder.
 */
#ifndef ZMEM_JSON_NUM_FORMAT_H
#define ZMEM_JSON_NUM_FORMAT_H

#include "num.h"
#include "num_internal.h"

#include <string.h>
#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

#define ZM__FRAC_MASK ((UINT64_C(1) << 52) - 1)

/* floor(q * log10(2)) for |q| <= 1100 (checked by gen_num_tables.py), with a
   positive offset so that no negative number is shifted. */
static inline int zm__flog10_pow2(int q) {
    return (int)(((int64_t)(q + 262144) * 78913) >> 18) - 78913;
}

/* Raffaello Giulietti's Schubfach (num_write.c): the shortest digits of c * 2^q
   (c > 0), closest to it, even on a tie: *digits * 10^*exp10, exact for every
   double. */
void zm__shortest_exact(uint64_t c, int q, bool irregular, uint64_t *digits, int *exp10);

/* ---------------------------------------------------------------------------
 * The fast path: one 128-bit product
 *
 * For a normal v = c * 2^q with c not a power of two (the rounding interval then
 * has v at its centre and width W = 2^q), take k = floor(log10 2^q) - 2, so that
 * W' = W * 10^-k lies in [100, 1000), and scale by 10^-k: X = v * 10^-k, the
 * interval [X - W'/2, X + W'/2] (open when c is odd).
 *
 *  - It holds at most one multiple of 1000. If it holds one, 1000s with
 *    s = floor((X + W'/2) / 1000), that is the shortest decimal in the interval
 *    (any shorter one would be a multiple of 1000 too): s * 10^(k+3).
 *  - Otherwise, as W' > 100 (W' = 100 only for q = 0, an integer, handled
 *    before), the multiple of 100 nearest to X lies inside, every multiple of 100
 *    inside has as many digits as it (none of them a multiple of 1000), so it is
 *    the answer: m * 10^(k+2), m = X / 100 rounded half to even. m is not a
 *    multiple of 10 (100m would be a multiple of 1000 inside).
 *
 * Both are the decimals Schubfach's rules choose (shortest, then closest, then
 * even). X and W' come from the 128-bit table entry T of 10^-k (truncated:
 * T <= true < T + 1) with x = c << j, j = q + floor(log2 10^-k) + 1 in 7..10 so
 * that X = x * T_true / 2^128. In units of 2^-64: with A = the top 128 bits of the
 * 192-bit x * T (its low 64 bits dropped), X lies in [A, A + 2); W' lies in
 * [Wu, Wu + 2) with Wu = T >> (64 - j). Every comparison below is made with
 * those bounds and a margin; when the exact value could fall on either side of
 * a decision (the interval's end within a few units of 2^-64 of a multiple of
 * 1000, X of a halfway point), the fast path declines and Schubfach decides.
 * ------------------------------------------------------------------------- */

/* a >= b for 128-bit numbers hi:lo */
static inline bool ge128(uint64_t ah, uint64_t al, uint64_t bh, uint64_t bl) {
    return ah > bh || (ah == bh && al >= bl);
}

/* The shortest digits of c * 2^q, c in (2^52, 2^53), q = be - 1075, as above:
   *digits * 10^*exp10. k, j, T and Wu come from the exponent's entry of
   zm__fmt_exps (num_tables.c). Returns 1 for a multiple of 1000 (*digits may end
   in zeros), 2 for the nearest multiple of 100 (16 or 17 digits, the last not 0),
   0 when undecided. */
static inline int shortest_fast(uint64_t c, unsigned be, uint64_t *digits, int *exp10) {
    const zm__fmt_exp *f = &zm__fmt_exps[be];
    int j = f->j, k = f->k;
    if (j == 0) return 0; /* 10^-k beyond the table */
    uint64_t th = f->th, tl = f->tl, x = c << j;
    uint64_t mid, a_hi;
    zm__mul64(x, tl, &mid);
    uint64_t a_lo = zm__mul64(x, th, &a_hi) + mid;
    a_hi += a_lo < mid; /* A = a_hi:a_lo, X in [A, A + 2) */

    /* Z = X + W'/2 in [Za, Za + 4), Za = A + (Wu >> 1) */
    uint64_t h_lo = f->h_lo, h_hi = f->h_hi;
    uint64_t z_lo = a_lo + h_lo, z_hi = a_hi + h_hi + (z_lo < a_lo);
    if (z_lo > UINT64_MAX - 4) return 0; /* floor(Z) could be z_hi + 1 */
    uint64_t s = z_hi / 1000;
    uint64_t r_hi = z_hi - 1000 * s;     /* r = Z - 1000s in [R, R + 4), R = r_hi:z_lo */
    if (r_hi == 0 && z_lo < 4) return 0; /* 1000s may be the (open) upper end */
    /* 1000s inside for sure: R + 4 <= Wu; outside for sure: R >= Wu + 2 */
    uint64_t wm_lo = f->wm_lo, wm_hi = f->wm_hi; /* Wu - 4 */
    if (ge128(wm_hi, wm_lo, r_hi, z_lo)) {
        *digits = s;
        *exp10 = k + 3;
        return 1;
    }
    uint64_t wp_lo = wm_lo + 6, wp_hi = wm_hi + (wp_lo < 6); /* Wu + 2 */
    if (!ge128(r_hi, z_lo, wp_hi, wp_lo)) return 0;

    /* the multiple of 100 nearest to X: rem = X - 100m in [rr:a_lo, rr:a_lo + 2) */
    if (a_lo > UINT64_MAX - 2) return 0; /* floor(X) could be a_hi + 1 */
    uint64_t m = a_hi / 100, rr = a_hi - 100 * m;
    if ((rr == 49 && a_lo == UINT64_MAX) || (rr == 50 && a_lo == 0)) return 0; /* tie? */
    *digits = m + (rr >= 50); /* rem > 50 for sure, or rem < 50 for sure */
    *exp10 = k + 2;
    return 2;
}

/* ---------------------------------------------------------------------------
 * The shortcut for doubles of at most 15 significant digits
 *
 * For a normal v = c * 2^q (c not a power of two) in the binade of 2^b,
 * b = q + 52, take k = 14 - floor(log10 2^b): v * 10^k lies in [10^14,
 * 2 * 10^15) (one less k where it reaches 10^15 - 1/2). With 0 <= k <= 22,
 * m = v * 10^k rounded is an integer of 15 digits (below 2^53), and when
 * m / 10^k, one correctly rounded division of two exact doubles (Clinger),
 * gives back v, m * 10^-k lies in v's rounding interval (its ends included
 * when c is even, as round-half-even reads them). Like the parser's Clinger
 * path (num_internal.h) this needs the default rounding mode, to nearest.
 *
 * The interval then holds no other decimal of at most 15 significant digits:
 * two such, x < y, with 10^e <= x < 10^(e+1), are both multiples of 10^(e-14),
 * so y - x >= 10^(e-14), but both in the interval means y - x <= 2^q <=
 * v 2^-52 <= 2x 2^-52 < 0.45 10^(e-14). No shorter decimal reads back to v
 * then, and Schubfach's shortest decimal is m * 10^-k, m's trailing zeros
 * dropped. When the test fails (v needs 16 or 17 digits), the others decide.
 * ------------------------------------------------------------------------- */

/* For the exponent fields be = ZM__S15_BE0 + i: {10^k, 10^(k-1)} with
   k = 14 - floor(log10 2^(be - 1023)) (0 <= k <= 22; 10^-1 is given as 0). */
#define ZM__S15_BE0 997
#define ZM__S15_N   76
static const double zm__s15_pow10[ZM__S15_N][2] = {
    {1e22, 1e21}, /* 997 */
    {1e22, 1e21}, /* 998 */
    {1e22, 1e21}, /* 999 */
    {1e21, 1e20}, /* 1000 */
    {1e21, 1e20}, /* 1001 */
    {1e21, 1e20}, /* 1002 */
    {1e21, 1e20}, /* 1003 */
    {1e20, 1e19}, /* 1004 */
    {1e20, 1e19}, /* 1005 */
    {1e20, 1e19}, /* 1006 */
    {1e19, 1e18}, /* 1007 */
    {1e19, 1e18}, /* 1008 */
    {1e19, 1e18}, /* 1009 */
    {1e18, 1e17}, /* 1010 */
    {1e18, 1e17}, /* 1011 */
    {1e18, 1e17}, /* 1012 */
    {1e18, 1e17}, /* 1013 */
    {1e17, 1e16}, /* 1014 */
    {1e17, 1e16}, /* 1015 */
    {1e17, 1e16}, /* 1016 */
    {1e16, 1e15}, /* 1017 */
    {1e16, 1e15}, /* 1018 */
    {1e16, 1e15}, /* 1019 */
    {1e15, 1e14}, /* 1020 */
    {1e15, 1e14}, /* 1021 */
    {1e15, 1e14}, /* 1022 */
    {1e14, 1e13}, /* 1023 */
    {1e14, 1e13}, /* 1024 */
    {1e14, 1e13}, /* 1025 */
    {1e14, 1e13}, /* 1026 */
    {1e13, 1e12}, /* 1027 */
    {1e13, 1e12}, /* 1028 */
    {1e13, 1e12}, /* 1029 */
    {1e12, 1e11}, /* 1030 */
    {1e12, 1e11}, /* 1031 */
    {1e12, 1e11}, /* 1032 */
    {1e11, 1e10}, /* 1033 */
    {1e11, 1e10}, /* 1034 */
    {1e11, 1e10}, /* 1035 */
    {1e11, 1e10}, /* 1036 */
    {1e10, 1e9},  /* 1037 */
    {1e10, 1e9},  /* 1038 */
    {1e10, 1e9},  /* 1039 */
    {1e9, 1e8},   /* 1040 */
    {1e9, 1e8},   /* 1041 */
    {1e9, 1e8},   /* 1042 */
    {1e8, 1e7},   /* 1043 */
    {1e8, 1e7},   /* 1044 */
    {1e8, 1e7},   /* 1045 */
    {1e8, 1e7},   /* 1046 */
    {1e7, 1e6},   /* 1047 */
    {1e7, 1e6},   /* 1048 */
    {1e7, 1e6},   /* 1049 */
    {1e6, 1e5},   /* 1050 */
    {1e6, 1e5},   /* 1051 */
    {1e6, 1e5},   /* 1052 */
    {1e5, 1e4},   /* 1053 */
    {1e5, 1e4},   /* 1054 */
    {1e5, 1e4},   /* 1055 */
    {1e5, 1e4},   /* 1056 */
    {1e4, 1e3},   /* 1057 */
    {1e4, 1e3},   /* 1058 */
    {1e4, 1e3},   /* 1059 */
    {1e3, 1e2},   /* 1060 */
    {1e3, 1e2},   /* 1061 */
    {1e3, 1e2},   /* 1062 */
    {1e2, 1e1},   /* 1063 */
    {1e2, 1e1},   /* 1064 */
    {1e2, 1e1},   /* 1065 */
    {1e2, 1e1},   /* 1066 */
    {1e1, 1e0},   /* 1067 */
    {1e1, 1e0},   /* 1068 */
    {1e1, 1e0},   /* 1069 */
    {1e0, 0.0},   /* 1070 */
    {1e0, 0.0},   /* 1071 */
    {1e0, 0.0},   /* 1072 */
};

/* x rounded to an integer (|x| < 2^62): to nearest in the current rounding
   mode in one instruction where there is one, half up otherwise. */
static inline int64_t zm__round_i64(double x) {
#if defined(__x86_64__) && defined(__SSE2__)
    return _mm_cvtsd_si64(_mm_set_sd(x));
#else
    return (int64_t)(x + 0.5);
#endif
}

/* For the positive double of bits, of exponent field be (0 < be < 2047, the
   mantissa not 0): when its shortest decimal has at most 15 significant digits
   and it lies within about [10^-8, 10^15), stores *digits in [10^14, 10^15)
   (trailing zeros included) and *exp10 with that decimal = *digits * 10^*exp10,
   and returns true; false otherwise (never a wrong answer). */
static inline bool shortest_15(uint64_t bits, unsigned be, uint64_t *digits, int *exp10) {
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    unsigned i = be - ZM__S15_BE0;
    if (i >= ZM__S15_N) return false;
    int k = 14 - zm__flog10_pow2((int)be - 1023);
    double v, p = zm__s15_pow10[i][0], p0 = zm__s15_pow10[i][1];
    memcpy(&v, &bits, sizeof v);
    int64_t m = zm__round_i64(v * p), m0 = zm__round_i64(v * p0);
    /* v >= 10^(15-k) - 10^-k / 2 or so: one digit less (selected, not branched
       on: in data it goes either way) */
    bool big = m >= INT64_C(1000000000000000);
    m = big ? m0 : m;
    p = big ? p0 : p;
    if ((uint64_t)m - UINT64_C(100000000000000) >= UINT64_C(900000000000000)) return false;
    if ((double)m / p != v) return false; /* Clinger: m / 10^k rounds once */
    *digits = (uint64_t)m;
    *exp10 = big - k;
    return true;
#else
    (void)bits, (void)be, (void)digits, (void)exp10;
    return false; /* the division would not round once */
#endif
}

/* ---------------------------------------------------------------------------
 * Layout
 *
 * The digits are made eight at a time in registers (zm__digits8) and stored as
 * whole words; nothing is read back from memory (a load spanning several
 * stores waits for them), and the trailing zeros are counted from the words
 * (the shortest digits need not end in a nonzero digit as computed: 1.5 comes
 * out as 15000000000000000 * 10^-16) instead of divided away one at a time.
 * ------------------------------------------------------------------------- */

#define ZEROS8 UINT64_C(0x3030303030303030) /* "00000000" */

/* The n decimal digits of d < 10^17 as words: the text is the last n bytes of
   "T" hi lo (17 bytes: T one digit, hi and lo eight each), tz is the number of
   trailing '0's; when n <= 8, first holds the text (text_first makes it for the
   others, where a layout needs it). */
typedef struct dtext {
    uint64_t hi, lo, first;
    int n, tz;
    char top;
} dtext;

static inline int trailing_zero_digits(uint64_t w) { /* w: 8 digits, not all '0' */
    return ZM__CLZ64(w ^ ZEROS8) >> 3;
}

static ZM__NUM_INLINE dtext make_text(uint64_t d, int n, bool no_tz) {
    dtext t;
    t.n = n;
    if (n <= 8) {
        uint64_t w = zm__digits8((uint32_t)d);
        t.first = w >> (8 * (8 - n));
        t.hi = t.lo = 0;
        t.top = 0;
        t.tz = trailing_zero_digits(w);
        return t;
    }
    uint64_t h9 = d / 100000000; /* up to 9 digits */
    uint32_t top = (uint32_t)h9 / 100000000;
    zm__digits16((uint32_t)h9 - top * 100000000, (uint32_t)(d - h9 * 100000000), &t.hi, &t.lo);
    t.top = (char)('0' + top);
    t.first = 0;
    uint64_t xl = t.lo ^ ZEROS8, xh = t.hi ^ ZEROS8;
    t.tz = no_tz ? 0 : xl ? ZM__CLZ64(xl) >> 3 : xh ? 8 + (ZM__CLZ64(xh) >> 3) : 16;
    return t;
}

/* The first eight bytes of the text (fewer when n < 8). */
static ZM__NUM_INLINE uint64_t text_first(const dtext *t) {
    if (t->n <= 8) return t->first;
    int z = 17 - t->n; /* leading zeros of "T" hi lo: 0 .. 8 */
    if (z == 0) return (uint64_t)(unsigned char)t->top | t->hi << 8;
    return t->hi >> (8 * (z - 1)) | (t->lo << (8 * (8 - z))) << 8;
}

/* Stores the n digits at p, in whole words: bytes up to p + 8 may be
   overwritten when n < 8 (scratch). */
static ZM__NUM_INLINE void put_text(char *p, const dtext *t) {
    if (t->n <= 8) {
        zm__store8(p, t->first);
        return;
    }
    int z = 17 - t->n;
    p[0] = t->top; /* overwritten by the next store unless z == 0 */
    zm__store8(p + (z == 0), t->hi >> (8 * (z - (z != 0))));
    zm__store8(p + t->n - 8, t->lo);
}

/* The text of d * 10^k (d > 0 with n digits, d < 10^17) at o, laid out as
   zm__format_double says; integral says that d * 10^k is an integer written
   whole (its trailing zeros are significant then). Where the point goes inside
   the digits, they are stored one byte on, and the word of the first eight is
   rebuilt in a register with the point in it and stored over them. no_tz: d is
   known not to end in 0 (a constant where it is given, so that the count goes).
   Returns the end. */
static ZM__NUM_INLINE char *layout(char *o, uint64_t d, int n, int k, bool no_tz) {
    dtext t = make_text(d, n, no_tz);
    int nn = n - t.tz;   /* significant digits */
    int e10 = k + n - 1; /* d * 10^k = d.ddd * 10^e10 */
    if (e10 >= -6 && e10 <= 20) {
        if (e10 >= nn - 1) { /* integral: the digits, zeros, ".0" (ends by o + 28) */
            put_text(o, &t);
            for (int i = n; i < e10 + 1; i += 8) zm__store8(o + i, ZEROS8);
            memcpy(o + e10 + 1, ".0", 2);
            return o + e10 + 3;
        }
        if (e10 >= 0) { /* the point after L = e10 + 1 < nn digits */
            int L = e10 + 1;
            put_text(o + 1, &t);
            if (L < 8) {
                uint64_t m = (UINT64_C(1) << (8 * L)) - 1, first = text_first(&t);
                zm__store8(o, (first & m) | (uint64_t)'.' << (8 * L) |
                                  ((first << 8) & ~(m << 8 | 0xFF)));
            } else {
                memmove(o, o + 1, (size_t)L);
                o[L] = '.';
            }
            return o + nn + 1;
        }
        /* 0.000ddd: "0." and -e10 - 1 zeros, then the digits (ends by o + 24) */
        zm__store8(o, UINT64_C(0x3030303030302E30)); /* "0.000000" */
        put_text(o + 1 - e10, &t);
        return o + 1 - e10 + nn;
    }
    /* d.ddde+X: the digits one byte on, the first moved before the point */
    put_text(o + 1, &t);
    uint64_t first = text_first(&t);
    zm__store8(o, (first & 0xFF) | (uint64_t)'.' << 8 | ((first << 8) & ~UINT64_C(0xFFFF)));
    o += nn > 1 ? nn + 1 : 1;
    *o++ = 'e';
    int ae = e10;
    if (ae < 0) {
        *o++ = '-';
        ae = -ae;
    } else {
        *o++ = '+';
    }
    if (ae >= 100) {
        *o++ = (char)('0' + ae / 100);
        ae %= 100;
        *o++ = (char)('0' + ae / 10);
        *o++ = (char)('0' + ae % 10);
    } else if (ae >= 10) {
        *o++ = (char)('0' + ae / 10);
        *o++ = (char)('0' + ae % 10);
    } else {
        *o++ = (char)('0' + ae);
    }
    return o;
}

/* ---------------------------------------------------------------------------
 * The point inside 16 or 17 digits, for shortest_fast's answers
 *
 * shortest_fast gives d of n = 16 or 17 digits in case 2 (the last not 0), and
 * s of 15 or 16 digits in case 1, written here as d = 10s (16 or 17 digits,
 * ending in at least one 0): with tz the trailing zeros of d (0 in case 2),
 * layout(o, d, n, k, no_tz) has nn = n - tz, e10 = k + n - 1, and where
 * 0 <= e10 and e10 + 1 < nn writes the first L = e10 + 1 digits, '.', the
 * other nn - L significant digits, and returns o + nn + 1. layout_1617 writes
 * those bytes in five stores where the point falls within the first word (L <= 7
 * for n = 16, L <= 8 for n = 17: values below 10^7 or 10^8, coordinates among
 * them). With d = T * 10^16 + H * 10^8 + D (T = 0 when n = 16, else 1..9;
 * H, D < 10^8 as words hi, lo: byte i = digit i), big = n - 16 and p = o + big,
 * the text is T (when big) at o, then the digits of H with the point after the
 * first P = L - big of them (0 <= P <= 7), then D's. In order:
 *   o[0] = T           (for n = 16, '0', overwritten by the next store)
 *   p[0..7] = hi       (H's digits before the point, P of them, are in place)
 *   p[P+1..P+8] = hi >> 8P  (H's digits from P on, one byte on; its P top bytes
 *                       are zeros, at p[9..P+8], overwritten by lo below)
 *   p[P] = '.'
 *   p[9..16] = lo
 * That is the n digits with '.' after L of them (bytes up to p + 16 written);
 * the text ends before the trailing zeros, at p + 17 - tz = o + nn + 1. The
 * condition e10 + 1 < nn is P < 16 - tz; it always holds here (a double below
 * 2^53 that is not an integer has no integer in its rounding interval, and the
 * integers are written before shortest_fast is asked), but it is tested.
 * ------------------------------------------------------------------------- */

/* layout(o, d, n, k, no_tz) for d of n = 16 or 17 digits, n not given (no_tz: d
   does not end in 0, a constant). Returns the end. */
static ZM__NUM_INLINE char *layout_1617(char *o, uint64_t d, int k, bool no_tz) {
    uint64_t h9 = d / 100000000;
    uint32_t top = (uint32_t)h9 / 100000000;
    int big = top != 0; /* d >= 10^16 */
    int e10 = k + 15 + big;
    if ((unsigned)e10 <= (unsigned)(6 + big)) {
        uint64_t hi, lo;
        zm__digits16((uint32_t)h9 - top * 100000000, (uint32_t)(d - h9 * 100000000), &hi, &lo);
        int pt = e10 + 1 - big; /* H's digits before the point: 0 .. 7 */
        int tz = 0;
        if (!no_tz) {
            uint64_t xl = lo ^ ZEROS8, xh = hi ^ ZEROS8;
            tz = xl ? ZM__CLZ64(xl) >> 3 : xh ? 8 + (ZM__CLZ64(xh) >> 3) : 16;
        }
        if (no_tz || pt + tz < 16) {
            char *p = o + big;
            o[0] = (char)('0' + top);
            zm__store8(p, hi);
            zm__store8(p + pt + 1, hi >> (8 * pt));
            p[pt] = '.';
            zm__store8(p + 9, lo);
            return p + 17 - tz;
        }
    }
    return layout(o, d, 16 + big, k, no_tz);
}

/* zm__shortest_exact's digits, returned: the address taken is of a local of
   this function, so that the caller's d and k can stay in registers. */
static inline uint64_t exact_digits(uint64_t c, int q, bool irregular, int *exp10) {
    uint64_t d;
    int k;
    zm__shortest_exact(c, q, irregular, &d, &k);
    *exp10 = k;
    return d;
}

/* Writes the finite double whose bits are bits (exponent field not all ones)
   at buf, as zm__format_double_inline does. Returns its length. */
static ZM__NUM_INLINE size_t zm__format_finite_inline(uint64_t bits, char *buf) {
    int be = (int)(bits >> 52) & 0x7FF;
    uint64_t frac = bits & ZM__FRAC_MASK;
    char *o = buf;
    *o = '-'; /* a store and an add: in data, signs are often random */
    o += bits >> 63;
    uint64_t d;
    int k;
    if (be == 0) { /* zero or subnormal */
        if (frac == 0) {
            memcpy(o, "0.0", 4);
            return (size_t)(o - buf) + 3;
        }
        d = exact_digits(frac, -1074, false, &k);
    } else if ((unsigned)(be - 1023) <= 52 && (frac << 12 << (be - 1023)) == 0) {
        /* an integer below 2^53 (1 <= v = c * 2^q, -52 <= q <= 0, and the -q
           bits of frac below the point, the last 52 - (be - 1023), are zeros):
           its neighbours are at most 1 away, so no shorter decimal lies in the
           rounding interval; written whole, with ".0" */
        d = (frac | UINT64_C(1) << 52) >> (1075 - be);
        k = 0;
    } else if (frac == 0) {
        d = exact_digits(UINT64_C(1) << 52, be - 1075, be > 1, &k);
    } else {
        uint64_t c = frac | UINT64_C(1) << 52;
        int how = shortest_fast(c, (unsigned)be, &d, &k);
        if (how == 2) { /* most doubles that are not short decimals */
            o = layout_1617(o, d, k, true);
            *o = '\0';
            return (size_t)(o - buf);
        }
        if (how == 0) {
            d = exact_digits(c, be - 1075, false, &k);
        } else if (d % 100000000 == 0) {
            /* a short decimal (coordinates, meshes): its last eight digits are
               zeros, the rest fit one word */
            d /= 100000000;
            k += 8;
        } else { /* 15 or 16 digits: ten times that is 16 or 17 */
            o = layout_1617(o, d * 10, k - 1, false);
            *o = '\0';
            return (size_t)(o - buf);
        }
    }
    o = layout(o, d, zm__count_digits(d), k, false);
    *o = '\0';
    return (size_t)(o - buf);
}

/* zm__format_double (num.h) inline: v's shortest text at buf, NUL-terminated;
   NaN and the infinities write "" (length 0). Returns the length. */
static ZM__NUM_INLINE size_t zm__format_double_inline(double v, char *buf) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    if (((bits >> 52) & 0x7FF) == 0x7FF) {
        buf[0] = '\0';
        return 0;
    }
    return zm__format_finite_inline(bits, buf);
}

/* zm__format_finite_inline, first trying shortest_15 (the text is the same):
   misses counts the doubles since the shortcut last gave 9 to 15 digits, and
   it is tried while that count is below 4 and then on one double in 64, so
   that a run of doubles of 16 or 17 digits (coordinates), or of short
   decimals (which the fast path writes as quickly), pays little for it. */
static ZM__NUM_INLINE size_t zm__format_finite_with(uint64_t bits, char *buf, unsigned *misses) {
    uint64_t d;
    int k;
    if ((*misses < 4 || (*misses & 63) == 0) && (bits & ZM__FRAC_MASK) != 0 &&
        shortest_15(bits & ~(UINT64_C(1) << 63), (unsigned)(bits >> 52) & 0x7FF, &d, &k)) {
        char *o = buf;
        *o = '-';
        o += bits >> 63;
        if (d % 100000000 == 0) { /* a short decimal, as in the fast path's case */
            ++*misses;
            d /= 100000000;
            k += 8;
            o = layout(o, d, zm__count_digits(d), k, false);
        } else {
            *misses = 0;
            o = layout(o, d, 15, k, false);
        }
        *o = '\0';
        return (size_t)(o - buf);
    }
    ++*misses;
    return zm__format_finite_inline(bits, buf);
}

#endif
