/* Exact number conversion between JSON text and double. Private to json/. */
#ifndef ZMEM_JSON_NUM_H
#define ZMEM_JSON_NUM_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes a buffer for zm__format_double must have. */
#define ZM__DOUBLE_BUF 32

/* Reads the len bytes at s, already validated against the JSON number
   grammar, as the double nearest to their value (ties to even). Returns true
   with *out set, or false when the value overflows the double range (*out is
   then an infinity of the right sign). Underflow gives a zero or a subnormal
   and true. Independent of the C locale. */
bool zm__parse_double(const char *s, size_t len, double *out);

/* Writes the shortest text that reads back to exactly v (v finite) into buf
   (at least ZM__DOUBLE_BUF bytes), NUL-terminated. Integral values within
   1e21 read like "1.0"; very large or small magnitudes use an exponent, like
   "1e+21" or "1.5e-7"; -0.0 is "-0.0". Returns the length, NUL excluded.
   Independent of the C locale. */
size_t zm__format_double(double v, char *buf);

#endif
