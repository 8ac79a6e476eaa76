/* Part of the parser (parse.c): numbers, and the runs of them in arrays.
 *
 * Included by parse.c only, after the parser's type, so the parser stays one
 * translation unit and the compiler inlines across its parts (a split into
 * files compiled apart lost that inlining and was measured 2 to 3% slower). */
#ifndef ZMEM_JSON_PARSE_NUM_H
#define ZMEM_JSON_PARSE_NUM_H

/* ---------------------------------------------------------------------------
 * Numbers
 * ------------------------------------------------------------------------- */

static inline bool is_digit(u8 c) {
    return (unsigned)(c - '0') < 10;
}

#ifdef ZM__SWAR
/* True when the 8 bytes of x are all '0'..'9'. */
static inline bool all_digits8(uint64_t x) {
    return ((x & 0xF0F0F0F0F0F0F0F0u) | (((x + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) >> 4)) ==
           0x3333333333333333u;
}

/* The value of 8 ASCII digits, the first in the lowest byte. */
static inline uint64_t digits8(uint64_t x) {
    x &= 0x0F0F0F0F0F0F0F0Fu;
    x = (x * 2561) >> 8;
    x = ((x & 0x00FF00FF00FF00FFu) * 6553601) >> 16;
    return ((x & 0x0000FFFF0000FFFFu) * 42949672960001u) >> 32;
}
#endif

#ifdef ZM__SWAR
/* For the 8 bytes of x, a mask with the high bit set in the lowest byte that is
   not '0'..'9' (bits above it may be spurious): b & 0xF0 and (b + 6) & 0xF0 must
   both be 0x30, and a carry out of a byte only comes from a non-digit. */
static inline uint64_t nondigit8(uint64_t x) {
    const uint64_t f0 = 0xF0F0F0F0F0F0F0F0u, d30 = 0x3030303030303030u;
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7Fu;
    uint64_t t = ((x & f0) ^ d30) | (((x + 0x0606060606060606u) & f0) ^ d30);
    return (((t & low7) + low7) | t) & ~low7;
}
#endif

/* 10^0 .. 10^8 */
static const uint64_t pow10_u64[9] = {1,      10,      100,      1000,     10000,
                                      100000, 1000000, 10000000, 100000000};

/* Reads the run of digits at p into *m (*m = *m * 10^n + the n digits, mod 2^64).
   Returns the first non-digit. Eight bytes at a time (the padding makes them
   readable), the last, partial group too: its digits are shifted to the top of
   the word, so that the bytes shifted in read as leading zeros. */
static inline u8 *read_digits(u8 *p, uint64_t *m) {
#ifdef ZM__SWAR
    uint64_t v = *m;
    for (;;) {
        uint64_t x = zm__load64(p), nd = nondigit8(x);
        if (nd == 0) { /* eight digits */
            v = v * 100000000 + digits8(x);
            p += 8;
            continue;
        }
        unsigned n = (unsigned)__builtin_ctzll(nd) >> 3;
        if (n) {
            v = v * pow10_u64[n] + digits8(x << (64 - 8 * n));
            p += n;
        }
        *m = v;
        return p;
    }
#else
    uint64_t v = *m;
    while (is_digit(*p)) v = v * 10 + (uint64_t)(*p++ - '0');
    *m = v;
    return p;
#endif
}

/* Keeps the len bytes at s as a ZM_JSON_NUMBER: copied, NUL-terminated. */
static bool number_text(parser *P, const u8 *s, size_t len, zm_json *out) {
    char *t = zm_arena_strndup(P->ar, (const char *)s, len);
    if (t == NULL) return fail_oom(P, s), false;
    set_head(out, ZM_JSON_NUMBER, 0);
    out->u.s.ptr = t;
    out->u.s.len = len;
    return true;
}

static inline void set_real(zm_json *out, double d) {
    set_head(out, ZM_JSON_REAL, 0);
    out->u.d = d;
}

/* zm_arena_alloc for one node, with one test: room for a node after the
   alignment padding (at most 7 bytes), or the out-of-line path (which the
   arena also forces where it must see every allocation: see zmem/arena.h). */
_Static_assert(_Alignof(zm_json) <= 8, "a node is aligned to at most 8 bytes");
static ZM__ALWAYS_INLINE zm_json *new_node(zm_arena *ar) {
    uintptr_t cur = (uintptr_t)ar->ptr;
    if (ZM_LIKELY((uintptr_t)ar->end - cur >= sizeof(zm_json) + 7)) {
        uintptr_t p = (cur + 7) & ~(uintptr_t)7;
        ar->last = (char *)p;
        ar->ptr = (char *)(p + sizeof(zm_json));
        return (zm_json *)p;
    }
    return zm_arena_alloc(ar, sizeof(zm_json), 8);
}

/* The integer part of the number at p (at '-' or a digit): *neg, its digits'
   value in *m (mod 2^64) and their count in *ndig. Returns the position after
   them, or NULL (the error recorded). */
static inline u8 *number_head(parser *P, u8 *p, bool *neg, uint64_t *m, size_t *ndig) {
    *neg = *p == '-';
    p += *neg;
    u8 *ds = p;
    uint64_t v = 0;
    if (*p == '0') {
        p++;
        if (ZM_UNLIKELY(is_digit(*p)))
            return fail(P, ZM_ESYNTAX, p,
                        "leading zeros are not allowed: expected '.', 'e' or the end of the "
                        "number after '0', found '%c'",
                        *p);
    } else if (ZM_LIKELY(is_digit(*p))) {
        /* eight at a time, then one at a time: integer parts tend to repeat their
           length (ids, coordinates), which the branch predictor learns */
#ifdef ZM__SWAR
        for (uint64_t x; all_digits8(x = zm__load64(p)); p += 8) v = v * 100000000 + digits8(x);
#endif
        while (is_digit(*p)) v = v * 10 + (uint64_t)(*p++ - '0');
    } else {
        return fail_token(P, p, "a digit after '-'", false);
    }
    *m = v;
    *ndig = (size_t)(p - ds);
    return p;
}

/* Sets out to the integer of ndig digits (value m) that starts at start and
   ends at p: INT within int64 (-0 is the REAL -0.0), else NUMBER text. */
static inline bool number_int(parser *P, u8 *start, u8 *p, uint64_t m, size_t ndig, bool neg,
                              zm_json *out) {
    if (ZM_UNLIKELY(P->flags & ZM_JSON_NUMBERS_AS_TEXT))
        return number_text(P, start, (size_t)(p - start), out);
    /* up to 19 digits cannot overflow m */
    if (ndig < 19 || (ndig == 19 && m <= (uint64_t)INT64_MAX + neg)) {
        if (neg && m == 0) {
            set_real(out, -0.0);
        } else {
            set_head(out, ZM_JSON_INT, 0);
            out->u.i = neg ? (int64_t)(0 - m) : (int64_t)m;
        }
        return true;
    }
    return number_text(P, start, (size_t)(p - start), out);
}

/* The rest of a number with a fraction or an exponent: p is after its integer
   digits (ndig of them, value m), start at its first byte. Sets out to the REAL
   (or NUMBER text when it overflows a double, or the caller asked for text).
   One pass: the fraction digits accumulate into m while they are validated; up
   to 19 digits in all it is exact, and zm__decimal_fast converts it with the
   exponent. Longer numbers, and the few inputs the fast paths leave undecided,
   go to zm__parse_double. Returns the position after the number, or NULL. */
static ZM__ALWAYS_INLINE u8 *number_tail(parser *P, u8 *start, u8 *p, uint64_t m, size_t ndig,
                                         bool neg, zm_json *out) {
    int64_t q = 0;
    if (*p == '.') {
        u8 *f = ++p;
        p = read_digits(p, &m);
        if (ZM_UNLIKELY(p == f)) return fail_found(P, p, "a digit after '.'");
        ndig += (size_t)(p - f);
        q = -(int64_t)(p - f);
    }
    if ((*p | 0x20) == 'e') {
        p++;
        bool eneg = *p == '-';
        if (*p == '-' || *p == '+') p++;
        if (ZM_UNLIKELY(!is_digit(*p))) return fail_found(P, p, "a digit in the exponent");
        int64_t ex = 0;
        do { /* saturates: beyond 10^17 every result is 0, infinite or text */
            if (ex < INT64_C(100000000000000000)) ex = ex * 10 + (*p - '0');
            p++;
        } while (is_digit(*p));
        q += eneg ? -ex : ex;
    }
    size_t len = (size_t)(p - start);
    if (ZM_UNLIKELY(P->flags & ZM_JSON_NUMBERS_AS_TEXT))
        return number_text(P, start, len, out) ? p : NULL;
    uint64_t bits;
    if (ZM_LIKELY(ndig <= 19) && zm__decimal_fast(m, q, &bits)) {
        set_head(out, ZM_JSON_REAL, 0);
        out->u.i = (int64_t)(bits | (uint64_t)neg << 63);
        return p;
    }
    double d;
    if (!zm__parse_double((const char *)start, len, &d))
        return number_text(P, start, len, out) ? p : NULL;
    set_real(out, d);
    return p;
}

#if defined(ZM__SSE2) && defined(ZM__SWAR) && defined(__x86_64__)
#define NUMBER_FAST 1
/* 16 bytes 0, 16 bytes 0xFF, 16 bytes 0: 16 bytes from keep16 + t keep the
   last t of 16, from keep16 + 32 - t the first t. */
static const uint8_t keep16[48] = {[16] = 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                   0xFF,        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

/* The value of the 16 bytes of d, each 0..9 (*ok false otherwise), the first
   the most significant: the digit test of 16 bytes at once, then the bytes
   paired into 2-, 4- and 8-digit values by multiply-adds, in one register. */
static inline uint64_t value16(__m128i d, bool *ok) {
    __m128i is = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    *ok = (unsigned)_mm_movemask_epi8(is) == 0xFFFFu;
    const __m128i z = _mm_setzero_si128();
    __m128i lo = _mm_madd_epi16(_mm_unpacklo_epi8(d, z), _mm_set1_epi32(0x0001000A));
    __m128i hi = _mm_madd_epi16(_mm_unpackhi_epi8(d, z), _mm_set1_epi32(0x0001000A));
    __m128i v = _mm_madd_epi16(_mm_packs_epi32(lo, hi), _mm_set1_epi32(0x00010064));
    v = _mm_madd_epi16(_mm_packs_epi32(v, v), _mm_set1_epi32(0x00012710));
    uint64_t r = (uint64_t)_mm_cvtsi128_si64(v);
    return (r & 0xFFFFFFFFu) * 100000000 + (r >> 32);
}

/* The t digits (1 <= t <= 15) that end at e (the 16 bytes before e readable):
   their value (digits_before), or that value times 10^(16 - t), from the 16
   bytes at e - t (digits_after); *ok false when one of them is not a digit. */
static inline uint64_t digits_before(const u8 *e, size_t t, bool *ok) {
    __m128i d = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(e - 16)), _mm_set1_epi8('0'));
    return value16(_mm_and_si128(d, _mm_loadu_si128((const __m128i *)(keep16 + t))), ok);
}

static inline uint64_t digits_after(const u8 *e, size_t t, bool *ok) {
    __m128i d = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(e - t)), _mm_set1_epi8('0'));
    return value16(_mm_and_si128(d, _mm_loadu_si128((const __m128i *)(keep16 + 32 - t))), ok);
}

/* The positions of ',' and ']' among the 16 bytes at p (delims16) or the 64
   (delims64), one bit each (the padding makes them readable). */
static inline unsigned delims16(const u8 *p) {
    __m128i x = _mm_loadu_si128((const __m128i *)p);
    return (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')), _mm_cmpeq_epi8(x, _mm_set1_epi8(']'))));
}

static inline uint64_t delims64(const u8 *p) {
    return (uint64_t)(delims16(p) | delims16(p + 16) << 16) |
           (uint64_t)(delims16(p + 32) | delims16(p + 48) << 16) << 32;
}

/* Where the number at p should end: the next ',' or ']' after it, from the
   window of delimiters (*wb its base, *wm the bits not used yet), read again
   from p when used up; NULL when none is within 64 bytes. Because the next
   number's start comes from this mask rather than from reading this one, the
   numbers of an array are read independently of each other (the processor
   overlaps them), instead of in a chain through the input position. */
static inline const u8 *next_delim(const u8 *p, const u8 **wb, uint64_t *wm) {
    if (*wm == 0) {
        *wb = p;
        if ((*wm = delims64(p)) == 0) return NULL;
    }
    const u8 *d = *wb + __builtin_ctzll(*wm);
    *wm &= *wm - 1;
    return d;
}

/* The common shape of a real, [-]d{1,3}.d{1,15}, in a straight line, when it
   ends at d (the fraction's length is known before it is read): the integer
   part from one 8-byte load, the fraction from one 16-byte one. With exact,
   the exact integer of the digits and zm__decimal_fast (Clinger's division
   decides up to 15 digits: meshes, numbers in long arrays); without,
   m = integer * 10^16 + fraction * 10^(16 - its length) and one product by
   the constant 10^-16 (zm__decimal_product: coordinates of 16-17 digits).
   Which one is faster depends on the data (measured: each is 7-13% slower on
   the other's files). Sets out and returns true; false for any other shape or
   end, or when the fast paths decline (nothing recorded: the general path
   reads the number again, and reports its errors). buf: the text's start. */
static ZM__ALWAYS_INLINE bool real_fast(const u8 *buf, const u8 *p, const u8 *d, uint64_t *out,
                                        bool exact) {
    bool neg = *p == '-';
    const u8 *s = p + neg;
    uint64_t x = zm__load64(s);
    unsigned n = (unsigned)__builtin_ctzll(nondigit8(x) | (UINT64_C(1) << 63)) >> 3;
    if (n - 1 > 2 || s[n] != '.' || (*s == '0' && n > 1)) return false;
    /* the n digits at the top of 32 bits, leading zeros below: two digits per
       16-bit lane, then four */
    uint32_t w = (uint32_t)(x << (32 - 8 * n)) & 0x0F0F0F0Fu;
    w = (w * 10 + (w >> 8)) & 0x00FF00FFu;
    w = (w * 100 + (w >> 16)) & 0xFFFFu;
    /* the fraction runs up to d: its length is known before it is read */
    size_t t = (size_t)(d - (s + n + 1));
    if (t - 1 > 14) return false;
    bool ok;
    uint64_t bits;
    if (exact && d - buf >= 16) {
        uint64_t f = digits_before(d, t, &ok);
        if (!ok || !zm__decimal_fast((uint64_t)w * zm__pow10_u64[t] + f, -(int64_t)t, &bits))
            return false;
    } else {
        uint64_t f = digits_after(d, t, &ok);
        if (!ok || !zm__decimal_product((uint64_t)w * UINT64_C(10000000000000000) + f, -16, &bits))
            return false;
    }
    *out = bits | (uint64_t)neg << 63;
    return true;
}

static ZM__ALWAYS_INLINE bool number_fast(const u8 *buf, const u8 *p, const u8 *d, zm_json *out,
                                          bool exact) {
    uint64_t bits;
    if (!real_fast(buf, p, d, &bits, exact)) return false;
    set_head(out, ZM_JSON_REAL, 0);
    out->u.i = (int64_t)bits;
    return true;
}

/* Reads the reals of the straight-line shape (real_fast, exact) that follow p
   (at ',') at once in a long array, each ending at the next ',' or ']' within
   16 bytes, in nodes bumped from the arena (the inline fast path of new_node,
   its pointer kept in a register) and pushed at *spp while there is room below
   send. Stops, nothing recorded, at anything else (another shape or end, a
   real the fast paths leave undecided, a full block), for the general path to
   read. Returns the position after the last real read. */
static __attribute__((noinline)) u8 *real_run(parser *P, u8 *p, uintptr_t **spp, uintptr_t *send) {
    uintptr_t *sp = *spp;
    zm_arena *ar = P->ar;
    const u8 *buf = P->buf;
    uintptr_t cur = (uintptr_t)ar->ptr, end = (uintptr_t)ar->end, last = 0;
    while (*p == ',' && sp != send) {
        unsigned dm = delims16(p + 1);
        if (dm == 0) break;
        const u8 *d = p + 1 + __builtin_ctz(dm);
        uint64_t bits;
        if (!real_fast(buf, p + 1, d, &bits, true) || end - cur < sizeof(zm_json) + 7) break;
        last = (cur + 7) & ~(uintptr_t)7;
        cur = last + sizeof(zm_json);
        zm_json *out = (zm_json *)last;
        set_head(out, ZM_JSON_REAL, 0);
        out->u.i = (int64_t)bits;
        *sp++ = last;
        p = (u8 *)d;
    }
    if (last != 0) {
        ar->ptr = (char *)cur;
        ar->last = (char *)last;
    }
    *spp = sp;
    return p;
}

/* Reads the arrays of two reals that start at p (at '['), written without
   spaces ("[-65.61,43.42]": coordinates), each real of the straight-line
   shape (real_fast, not exact), while more (the arrays are items of an
   array) lets them follow at once after ',' and there is room below send.
   Each array takes one bump of the arena block (its pointer in a register:
   the one test of new_node, so arenas that must see every allocation go
   out of line), laid out as new_node and close_array would: the two items,
   then the array and its two item pointers; its node is pushed at *spp.
   Returns the position after the last ']' read, or NULL when the first array
   is not of this shape (nothing recorded: number_array reads it); one that
   follows is left at the ',' before it, for the main loop. */
static __attribute__((noinline)) u8 *pair_run(parser *P, u8 *p, uintptr_t **spp, uintptr_t *send,
                                              bool more) {
    enum { PAIR = 3 * sizeof(zm_json) + 2 * sizeof(zm_json *) };
    _Static_assert(sizeof(zm_json) % 8 == 0, "nodes laid out one after another stay aligned");
    uintptr_t *sp = *spp; /* the main loop made room for one */
    zm_arena *ar = P->ar;
    const u8 *buf = P->buf;
    uintptr_t cur = (uintptr_t)ar->ptr, end = (uintptr_t)ar->end, last = 0;
    u8 *done = NULL;
    for (;;) {
        uint64_t dm = delims64(p + 1);
        if (dm == 0) break;
        const u8 *c = p + 1 + __builtin_ctzll(dm);
        dm &= dm - 1;
        if (*c != ',' || dm == 0) break;
        const u8 *e = p + 1 + __builtin_ctzll(dm);
        uint64_t x, y;
        if (*e != ']' || !real_fast(buf, p + 1, c, &x, false) ||
            !real_fast(buf, c + 1, e, &y, false) || end - cur < PAIR + 7)
            break;
        zm_json *a = (zm_json *)((cur + 7) & ~(uintptr_t)7), *v = a + 2;
        cur = (uintptr_t)a + PAIR;
        last = (uintptr_t)v;
        set_head(&a[0], ZM_JSON_REAL, 0);
        a[0].u.i = (int64_t)x;
        set_head(&a[1], ZM_JSON_REAL, 0);
        a[1].u.i = (int64_t)y;
        zm_json **items = (zm_json **)(v + 1);
        items[0] = &a[0];
        items[1] = &a[1];
        set_head(v, ZM_JSON_ARRAY, 0);
        v->u.a.items = items;
        v->u.a.len = v->u.a.cap = 2;
        *sp++ = last;
        done = p = (u8 *)e + 1;
        if (!more || p[0] != ',' || p[1] != '[' || sp == send) break;
        p++;
    }
    if (last != 0) {
        ar->ptr = (char *)cur;
        ar->last = (char *)last;
    }
    *spp = sp;
    return done;
}
#endif

/* True when p is at ',' and another number follows at once ("[1.5,-2,3]"). */
static inline bool next_number(const u8 *p) {
    return *p == ',' && (is_digit(p[1]) || (p[1] == '-' && is_digit(p[2])));
}

/* Finishes the real whose integer part the main loop has read (see
   number_tail; out is its node, already on the scratch stack), then, in an
   array (in_array), reads the numbers that follow it at once, each in a node
   from the arena pushed at *spp while there is room below send. Out of line:
   the main loop reads integers itself and stays small for documents of
   strings and integers, while arrays of reals (coordinates, meshes) are read
   here in a loop of their own: those of the straight-line shape by real_run,
   the others (and those it declines) by the general path, one at a time.
   Returns the position after the last number read, or NULL. */
static __attribute__((noinline)) u8 *number_run(parser *P, u8 *start, u8 *p, uint64_t m,
                                                size_t ndig, bool neg, zm_json *out,
                                                uintptr_t **spp, uintptr_t *send, bool in_array) {
    uintptr_t *sp = *spp; /* out is on the stack already */
#ifdef NUMBER_FAST
    bool fast = !(P->flags & ZM_JSON_NUMBERS_AS_TEXT);
#endif
    for (;;) {
        if (*p == '.' || (*p | 0x20) == 'e') {
            if ((p = number_tail(P, start, p, m, ndig, neg, out)) == NULL) return NULL;
        } else if (!number_int(P, start, p, m, ndig, neg, out)) {
            return NULL;
        }
#ifdef NUMBER_FAST
        if (fast && in_array) p = real_run(P, p, &sp, send);
#endif
        if (!in_array || !next_number(p) || sp == send) break;
        start = ++p;
        out = new_node(P->ar);
        if (ZM_UNLIKELY(out == NULL)) return fail_oom(P, p), NULL;
        *sp++ = (uintptr_t)out;
        if ((p = number_head(P, p, &neg, &m, &ndig)) == NULL) return NULL;
    }
    *spp = sp;
    return p;
}

#ifdef ZM__SWAR
/* Reads the integers that follow p (at ',') at once in an array of integers
   written without spaces ("[3,-17,42]": indices, ids), each of up to 7
   digits after its sign, in a node from the arena pushed at *spp while there
   is room below send. Branch-free in the number's length: its end is the
   lowest non-digit of one 8-byte load, so the next number's start is known a
   few instructions after this one's, rather than after a loop over its
   digits. Stops, nothing recorded, at anything else (another shape, a real,
   a leading zero, -0, 8 digits or more, the end of the array), for the main
   loop to read: returns the position after the last integer read (at the
   ',' before the one it left, or at what follows the array's last item), or
   NULL when out of memory (recorded). */
static __attribute__((noinline)) u8 *int_run(parser *P, u8 *p, uintptr_t **spp, uintptr_t *send) {
    uintptr_t *sp = *spp;
    zm_arena *ar = P->ar;
    while (sp != send) {
        uint64_t x = zm__load64(p + 1);
        unsigned neg = (uint8_t)x == '-';
        /* '-' adds no carry between bytes: the digits after it test exactly */
        uint64_t nd = nondigit8(x) & ~((uint64_t)neg << 7);
        if (nd == 0) break;
        unsigned e = (unsigned)__builtin_ctzll(nd) >> 3; /* the first non-digit, from p + 1 */
        u8 c = p[1 + e];
        if (e <= neg || (p[1 + neg] == '0' && e > neg + 1) || c == '.' || (c | 0x20) == 'e') break;
        uint64_t v = digits8((x & ~((uint64_t)neg * 0xFF)) << (64 - 8 * e));
        if (neg && v == 0) break; /* -0 is the REAL -0.0 */
        zm_json *out = new_node(ar);
        if (ZM_UNLIKELY(out == NULL)) return fail_oom(P, p), NULL;
        set_head(out, ZM_JSON_INT, 0);
        out->u.i = neg ? (int64_t)(0 - v) : (int64_t)v;
        *sp++ = (uintptr_t)out;
        p += 1 + e;
        if (*p != ',') break;
    }
    *spp = sp;
    return p;
}
#endif

#endif
