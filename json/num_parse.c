/* Text to double through strtod_l in the "C" locale (a stand-in, pending the
   exact converter). */
#define _GNU_SOURCE
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

/* The "C" locale, made once; a race between two first calls leaks one
   locale object at worst. */
static locale_t c_locale(void) {
    static locale_t loc;
    if (loc == (locale_t)0) loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    return loc;
}

bool zm__parse_double(const char *s, size_t len, double *out) {
    char small[128];
    char *tmp = small;
    if (len >= sizeof small) {
        tmp = malloc(len + 1);
        if (tmp == NULL) { /* unreachable in practice; read in place instead */
            *out = strtod_l(s, NULL, c_locale());
            return !isinf(*out);
        }
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    double d = strtod_l(tmp, NULL, c_locale());
    if (tmp != small) free(tmp);
    *out = d;
    return !isinf(d);
}
