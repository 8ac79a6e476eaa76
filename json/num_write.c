/* zmem — JSON: double -> shortest round-trip text.
 *
 * The digits come from Raffaello Giulietti's Schubfach method ("The Schubfach way
 * to render doubles", 2020), written here from the paper:
 *
 *   v = c * 2^q. Every real in the rounding interval R = [u, w] (open when c is
 *   odd: round-half-even reads the end points back to the neighbours) parses back
 *   to v. With u and w measured in units of 2^(q-2): cb = 4c, cbl = 4c - 2 (4c - 1
 *   when c is a power of two above the subnormals: the gap below is half as big),
 *   cbr = 4c + 2. Take k = floor(log10(w - u)) (computed from q by an integer
 *   formula). R is at least 10^k wide, so it holds a multiple of 10^k, and it is
 *   narrower than 10^(k+1), so it holds at most one multiple of 10^(k+1). The
 *   shortest decimals in R are therefore: that multiple of 10^(k+1) if it exists,
 *   otherwise the multiples of 10^k in R, of which the one closest to v is s or
 *   s + 1, s = floor(v / 10^k) (ties to even s).
 *
 *   The scaled values vb ~ 4 v 10^-k, vbl, vbr are computed from a 128-bit
 *   approximation g of 10^-k (num_tables.c; rounded up unless exact) as
 *   round-to-odd integers: the floor of the product with the lowest bit set when
 *   the product is not an integer. The paper proves that for doubles this rounding
 *   is exact (with a 126-bit g; the 128-bit g here only makes the error smaller),
 *   and a round-to-odd value compares with any even integer exactly as the real
 *   value does, so all the decisions below (against 4s, 4s + 4, 40s', 40s' + 40,
 *   4s + 2) are exact.
 *
 * This is the exact fallback: zm__format_double (num_format.h, inline there for
 * the writer's loops) first tries a fast path of one 128-bit product, which
 * decides all but about 2 doubles in 1000 (subnormals, powers of two, the
 * smallest normal exponents, and values whose scaled rounding interval ends
 * within 2^-62 of a decision boundary) and gives the same digits as this method;
 * integers below 2^53 skip both. The text is laid out like JavaScript's
 * Number.prototype.toString, with ".0" added to integral values in plain notation.
 */
#include "num_format.h"

#include <string.h>

/* floor(log10(3/4 * 2^q)) for |q| <= 1100 (checked by gen_num_tables.py), with a
   positive offset so that no negative number is shifted. */
static inline int flog10_3q_pow2(int q) {
    return (int)((((int64_t)(q + 1048576) * 315653) - 130822) >> 20) - 315653;
}

/* Round-to-odd of g * cp / 2^128, g = ghi:glo: the integer part, with bit 0 set when
   the 64 fraction bits z are not all zero. Only the low 64 bits of glo * cp (below
   2^-64) are dropped. g exceeds the true scale by less than one unit, which adds less
   than cp * 2^-128 < 2^-69 to the result: an integer product still gives z = 0, and the
   paper shows that a non-integer product is farther than that from any integer, so
   neither the sticky bit nor the integer part can be wrong. */
static inline uint64_t round_odd(uint64_t ghi, uint64_t glo, uint64_t cp) {
    uint64_t x1, y1;
    zm__mul64(glo, cp, &x1);
    uint64_t y0 = zm__mul64(ghi, cp, &y1);
    uint64_t z = y0 + x1;
    y1 += z < y0;
    return y1 | (z != 0);
}

/* Shortest digits of c * 2^q (c > 0): *digits * 10^*exp10 (declared in num_format.h). */
void zm__shortest_exact(uint64_t c, int q, bool irregular, uint64_t *digits, int *exp10) {
    int k = irregular ? flog10_3q_pow2(q) : zm__flog10_pow2(q);
    int e = -k;                         /* -292 .. 324 */
    int h = q + zm__flog2_pow10(e) + 1; /* 1 .. 4 */
    const uint64_t *t = zm__pow5_128[e - ZM__POW5_MIN];
    uint64_t ghi = t[0], glo = t[1];
    if (e < 0 || e > 55) { /* truncated entry: round up (cannot carry out, see generator) */
        glo++;
        ghi += glo == 0;
    }
    uint64_t cb = c << 2;
    uint64_t cbl = cb - 2 + irregular, cbr = cb + 2;
    uint64_t vb = round_odd(ghi, glo, cb << h);
    uint64_t vbl = round_odd(ghi, glo, cbl << h);
    uint64_t vbr = round_odd(ghi, glo, cbr << h);
    uint64_t open = c & 1; /* end points excluded */

    /* The decisions below are made without branches (the data decide them about
       evenly on real documents, so branches would be mispredicted): */
    uint64_t s = vb >> 2; /* floor(v * 10^-k) */
    uint64_t sp = s / 10; /* the multiples of 10^(k+1) around v: 10sp, 10sp + 10 */
    uint64_t up_in = vbl + open <= 40 * sp, wp_in = 40 * sp + 40 + open <= vbr;
    uint64_t use_sp = (s >= 10) & (up_in ^ wp_in); /* exactly one of them inside */
    uint64_t u_in = vbl + open <= 4 * s, w_in = 4 * s + 4 + open <= vbr;
    uint64_t mid = 4 * s + 2; /* both in: the closer one, the even one on a tie */
    uint64_t closer = (vb > mid) | ((vb == mid) & s);
    uint64_t up = (u_in ^ w_in) ? w_in : closer;
    uint64_t mask = 0 - use_sp;
    *digits = ((sp + wp_in) & mask) | ((s + up) & ~mask);
    *exp10 = k + (int)use_sp;
}

size_t zm__format_double(double v, char *buf) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    if (((bits >> 52) & 0x7FF) == 0x7FF) {
        buf[0] = '\0';
        return 0;
    }
    unsigned misses = 0; /* always try the shortcut */
    return zm__format_finite_with(bits, buf, &misses);
}
