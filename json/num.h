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
 * Integers: decimal digits two at a time, inline (the writer's and
 * zm__format_double's hot paths).
 * ------------------------------------------------------------------------- */

/* The two decimal digits of n < 100 at zm__digit_pairs + 2 * n. */
static const char zm__digit_pairs[201] = "00010203040506070809"
                                         "10111213141516171819"
                                         "20212223242526272829"
                                         "30313233343536373839"
                                         "40414243444546474849"
                                         "50515253545556575859"
                                         "60616263646566676869"
                                         "70717273747576777879"
                                         "80818283848586878889"
                                         "90919293949596979899";

/* Writes exactly eight digits of x < 10^8 at p. */
static inline void zm__put8(char *p, uint32_t x) {
    uint32_t a = x / 10000, b = x % 10000;
    memcpy(p, zm__digit_pairs + 2 * (a / 100), 2);
    memcpy(p + 2, zm__digit_pairs + 2 * (a % 100), 2);
    memcpy(p + 4, zm__digit_pairs + 2 * (b / 100), 2);
    memcpy(p + 6, zm__digit_pairs + 2 * (b % 100), 2);
}

/* Writes the decimal digits of x (at most 20) so that they end at end; returns a pointer
   to the first one. */
static inline char *zm__u64_digits(uint64_t x, char *end) {
    char *p = end;
    if (x >= 100000000) {
        p -= 8;
        zm__put8(p, (uint32_t)(x % 100000000));
        x /= 100000000;
        if (x >= 100000000) {
            p -= 8;
            zm__put8(p, (uint32_t)(x % 100000000));
            x /= 100000000;
        }
    }
    uint32_t y = (uint32_t)x;
    while (y >= 100) {
        p -= 2;
        memcpy(p, zm__digit_pairs + 2 * (y % 100), 2);
        y /= 100;
    }
    if (y >= 10) {
        p -= 2;
        memcpy(p, zm__digit_pairs + 2 * y, 2);
    } else {
        *--p = (char)('0' + y);
    }
    return p;
}

#endif
