/* Double to shortest text: the shortest %.*e that reads back (a stand-in,
   pending the exact converter), laid out like JavaScript's Number#toString
   with ".0" on integral values. */
#define _GNU_SOURCE
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

static locale_t c_locale(void) {
    static locale_t loc;
    if (loc == (locale_t)0) loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    return loc;
}

size_t zm__format_double(double v, char *buf) {
    char *o = buf;
    if (signbit(v)) *o++ = '-', v = -v;
    if (v == 0) {
        memcpy(o, "0.0", 4);
        return (size_t)(o - buf) + 3;
    }
    /* Shortest digits that round-trip. */
    char tmp[40];
    locale_t old = uselocale(c_locale());
    for (int prec = 0; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, v);
        if (strtod_l(tmp, NULL, c_locale()) == v) break;
    }
    uselocale(old);
    /* tmp is d[.ddd]e[+-]XX */
    char digits[20];
    int nd = 0;
    const char *t = tmp;
    for (; *t != 'e'; t++)
        if (*t != '.') digits[nd++] = *t;
    int e = atoi(t + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    int k = e + 1; /* value = 0.digits * 10^k */
    if (nd <= k && k <= 21) {
        memcpy(o, digits, (size_t)nd), o += nd;
        for (int i = nd; i < k; i++) *o++ = '0';
        memcpy(o, ".0", 2), o += 2;
    } else if (0 < k && k <= 21) {
        memcpy(o, digits, (size_t)k), o += k;
        *o++ = '.';
        memcpy(o, digits + k, (size_t)(nd - k)), o += nd - k;
    } else if (-6 < k && k <= 0) {
        *o++ = '0', *o++ = '.';
        for (int i = k; i < 0; i++) *o++ = '0';
        memcpy(o, digits, (size_t)nd), o += nd;
    } else {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)(nd - 1)), o += nd - 1;
        }
        o += sprintf(o, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    *o = '\0';
    return (size_t)(o - buf);
}
