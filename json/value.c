/* Reading values: numbers as double or exact int64, member lookup, equality. */
#include <math.h>

#include "internal.h"
#include "num.h"

/* ---------------------------------------------------------------------------
 * Numbers
 * ------------------------------------------------------------------------- */

void zm__decimal_read(const char *s, size_t len, zm__decimal *d) {
    const char *p = s, *end = s + len;
    memset(d, 0, sizeof *d);
    if (p < end && *p == '-') d->neg = true, p++;
    d->ip = p;
    while (p < end && *p >= '0' && *p <= '9') p++;
    d->in = (size_t)(p - d->ip);
    d->fp = p;
    if (p < end && *p == '.') {
        d->fp = ++p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        d->fn = (size_t)(p - d->fp);
    }
    int64_t e = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        const int64_t cap = (int64_t)1 << 62;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (e < cap / 10)
                e = e * 10 + (*p - '0');
            else
                e = cap;
        }
        if (eneg) e = -e;
    }
    /* The significant digits. */
    size_t total = d->in + d->fn, first = 0, last = total;
    while (first < total && (first < d->in ? d->ip[first] : d->fp[first - d->in]) == '0') first++;
    if (first == total) return; /* zero: ndigits = 0 */
    while ((last - 1 < d->in ? d->ip[last - 1] : d->fp[last - 1 - d->in]) == '0') last--;
    d->first = first;
    d->ndigits = last - first;
    /* 0.d1..dn * 10^exp: the first significant digit sits at position
       (in - first) counted from the decimal point. */
    int64_t shift = (int64_t)d->in - (int64_t)first;
    const int64_t cap = (int64_t)1 << 62;
    d->exp = e > cap - shift ? cap : e < -cap - shift ? -cap : e + shift;
}

size_t zm__format_int(int64_t v, char *buf) {
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t o = 0;
    if (v < 0) buf[o++] = '-';
    while (n) buf[o++] = tmp[--n];
    return o;
}

/* The number text of an INT. */
static void int_decimal(int64_t v, char *buf, zm__decimal *d) {
    size_t n = zm__format_int(v, buf);
    zm__decimal_read(buf, n, d);
}

/* True when a and b have the same value (zero equals zero whatever its sign). */
static bool decimal_eq(const zm__decimal *a, const zm__decimal *b) {
    if (a->ndigits != b->ndigits) return false;
    if (a->ndigits == 0) return true;
    if (a->neg != b->neg || a->exp != b->exp) return false;
    for (size_t i = 0; i < a->ndigits; i++)
        if (zm__decimal_digit(a, i) != zm__decimal_digit(b, i)) return false;
    return true;
}

double zm_json_real(const zm_json *v) {
    switch (zm_json_typeof(v)) {
    case ZM_JSON_INT: return (double)v->u.i;
    case ZM_JSON_REAL: return v->u.d;
    case ZM_JSON_NUMBER: {
        double d;
        if (!zm__parse_double(v->u.s.ptr, v->u.s.len, &d))
            d = v->u.s.len && v->u.s.ptr[0] == '-' ? -HUGE_VAL : HUGE_VAL;
        return d;
    }
    default: return 0.0;
    }
}

zm_status zm_json_get_int(const zm_json *v, int64_t *out) {
    switch (zm_json_typeof(v)) {
    case ZM_JSON_INT: *out = v->u.i; return ZM_OK;
    case ZM_JSON_REAL: {
        double d = v->u.d;
        /* [-2^63, 2^63) holds exactly the doubles that convert without overflow. */
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d))
            return ZM_ELIMIT;
        *out = (int64_t)d;
        return ZM_OK;
    }
    case ZM_JSON_NUMBER: {
        zm__decimal dec;
        zm__decimal_read(v->u.s.ptr, v->u.s.len, &dec);
        if (dec.ndigits == 0) {
            *out = 0;
            return ZM_OK;
        }
        /* An integer: every significant digit before the point, at most 19 digits. */
        if (dec.exp < (int64_t)dec.ndigits || dec.exp > 19) return ZM_ELIMIT;
        uint64_t u = 0;
        for (int64_t i = 0; i < dec.exp; i++) {
            unsigned dig =
                i < (int64_t)dec.ndigits ? (unsigned)(zm__decimal_digit(&dec, (size_t)i) - '0') : 0;
            if (u > (UINT64_MAX - dig) / 10) return ZM_ELIMIT;
            u = u * 10 + dig;
        }
        uint64_t lim = dec.neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (u > lim) return ZM_ELIMIT;
        *out = dec.neg ? (int64_t)(0 - u) : (int64_t)u;
        return ZM_OK;
    }
    default: return ZM_ETYPE;
    }
}

/* ---------------------------------------------------------------------------
 * Lookup
 * ------------------------------------------------------------------------- */

/* The member of object v with key key, or NULL. */
static const zm_json_member *find_member(const zm_json *v, const char *key, size_t key_len) {
    const zm_json_member *items = v->u.o.items;
    if (v->hash_cap != 0 && v->u.o.index != NULL) {
        size_t i = zm__json_index_find(v->u.o.index, v->hash_cap, items, key, key_len,
                                       zm__json_hash(key, key_len));
        return i == SIZE_MAX ? NULL : &items[i];
    }
    for (size_t i = 0, n = v->u.o.len; i < n; i++)
        if (zm__json_key_eq(&items[i], key, key_len)) return &items[i];
    return NULL;
}

zm_json *zm_json_getn(const zm_json *v, const char *key, size_t key_len) {
    if (zm_json_typeof(v) != ZM_JSON_OBJECT) return NULL;
    const zm_json_member *m = find_member(v, key, key_len);
    return m ? m->value : NULL;
}

zm_json *zm_json_get(const zm_json *v, const char *key) {
    return key ? zm_json_getn(v, key, strlen(key)) : NULL;
}

/* ---------------------------------------------------------------------------
 * Equality
 * ------------------------------------------------------------------------- */

/* Numbers a and b (INT, REAL or NUMBER) have the same value. INT and NUMBER
   compare exactly as decimals; a REAL against a NUMBER compares with the
   double nearest the NUMBER's text. Two NaNs are equal (the same value). */
static bool number_eq(const zm_json *a, const zm_json *b) {
    zm_json_type ta = (zm_json_type)a->type, tb = (zm_json_type)b->type;
    if (ta == ZM_JSON_REAL || tb == ZM_JSON_REAL) {
        if (ta == ZM_JSON_INT || tb == ZM_JSON_INT) {
            int64_t i = ta == ZM_JSON_INT ? a->u.i : b->u.i;
            double d = ta == ZM_JSON_REAL ? a->u.d : b->u.d;
            int64_t di;
            zm_json tmp = {.type = ZM_JSON_REAL, .u.d = d};
            return zm_json_get_int(&tmp, &di) == ZM_OK && di == i;
        }
        double x = zm_json_real(a), y = zm_json_real(b);
        return x == y || (isnan(x) && isnan(y));
    }
    if (ta == ZM_JSON_INT && tb == ZM_JSON_INT) return a->u.i == b->u.i;
    char ba[24], bb[24];
    zm__decimal da, db;
    if (ta == ZM_JSON_INT)
        int_decimal(a->u.i, ba, &da);
    else
        zm__decimal_read(a->u.s.ptr, a->u.s.len, &da);
    if (tb == ZM_JSON_INT)
        int_decimal(b->u.i, bb, &db);
    else
        zm__decimal_read(b->u.s.ptr, b->u.s.len, &db);
    return decimal_eq(&da, &db);
}

/* Compares a and b without looking inside containers; for two containers,
   only their types and lengths. */
static bool shallow_eq(const zm_json *a, const zm_json *b) {
    zm_json_type ta = zm_json_typeof(a), tb = zm_json_typeof(b);
    if (zm_json_is_number(a) && zm_json_is_number(b)) return number_eq(a, b);
    if (ta != tb) return false;
    switch (ta) {
    case ZM_JSON_NULL: return true;
    case ZM_JSON_BOOL: return a->u.b == b->u.b;
    case ZM_JSON_STRING:
        return a->u.s.len == b->u.s.len &&
               (a->u.s.len == 0 || memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0);
    case ZM_JSON_ARRAY: return a->u.a.len == b->u.a.len;
    case ZM_JSON_OBJECT: return a->u.o.len == b->u.o.len;
    default: return false;
    }
}

typedef struct eq_frame {
    const zm_json *a, *b;
    size_t i;
} eq_frame;

/* Iterative, so that no nesting depth can overflow the C stack: the first 64
   levels use a local array, deeper ones a block from alloc. */
zm_status zm_json_equal(zm_allocator alloc, const zm_json *a, const zm_json *b, bool *equal_out) {
    if (equal_out == NULL) return ZM_EINVAL;
    *equal_out = false;
    if (a == b) {
        *equal_out = true;
        return ZM_OK;
    }
    if (!shallow_eq(a, b)) return ZM_OK;
    zm_json_type t = zm_json_typeof(a);
    if ((t != ZM_JSON_ARRAY && t != ZM_JSON_OBJECT) || zm_json_len(a) == 0) {
        *equal_out = true;
        return ZM_OK;
    }

    eq_frame local[64];
    void *stack = local;
    size_t cap = 64, n = 0;
    bool on_heap = false, equal = true;
    zm_status st = ZM_OK;
    local[n++] = (eq_frame){a, b, 0};
    while (n > 0) {
        eq_frame *f = &((eq_frame *)stack)[n - 1];
        if (f->i == zm_json_len(f->a)) {
            n--;
            continue;
        }
        const zm_json *x, *y;
        size_t i = f->i++;
        if (f->a->type == ZM_JSON_ARRAY) {
            x = f->a->u.a.items[i];
            y = f->b->u.a.items[i];
        } else {
            const zm_json_member *m = &f->a->u.o.items[i];
            x = m->value;
            const zm_json_member *mb = &f->b->u.o.items[i];
            /* Same order is the common case: try the same position first. */
            if (zm__json_key_eq(mb, m->key, m->key_len)) {
                y = mb->value;
            } else {
                const zm_json_member *found = find_member(f->b, m->key, m->key_len);
                if (found == NULL) {
                    equal = false;
                    break;
                }
                y = found->value;
            }
        }
        if (x == y) continue;
        if (!shallow_eq(x, y)) {
            equal = false;
            break;
        }
        zm_json_type tx = zm_json_typeof(x);
        if ((tx == ZM_JSON_ARRAY || tx == ZM_JSON_OBJECT) && zm_json_len(x) > 0) {
            if (n == cap &&
                !zm__stack_grow(alloc, &stack, &cap, sizeof(eq_frame), &on_heap, n + 1)) {
                st = ZM_ENOMEM;
                equal = false;
                break;
            }
            ((eq_frame *)stack)[n++] = (eq_frame){x, y, 0};
        }
    }
    zm__stack_free(alloc, stack, cap, sizeof(eq_frame), on_heap);
    *equal_out = equal;
    return st;
}

/* ---------------------------------------------------------------------------
 * UTF-8 reasons
 * ------------------------------------------------------------------------- */

const char *zm__utf8_reason(int reason) {
    switch (reason) {
    case ZM__UTF8_STRAY: return "a continuation byte without a lead byte";
    case ZM__UTF8_BAD_BYTE: return "a byte that never occurs in UTF-8";
    case ZM__UTF8_OVERLONG: return "an overlong encoding";
    case ZM__UTF8_SURROGATE: return "an encoded UTF-16 surrogate (U+D800..U+DFFF)";
    case ZM__UTF8_TOO_BIG: return "a code point above U+10FFFF";
    case ZM__UTF8_TRUNCATED: return "a truncated multi-byte sequence";
    default: return "an invalid sequence";
    }
}
