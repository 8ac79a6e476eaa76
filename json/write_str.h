/* Part of the writer (write.c): strings, escaped as the flags ask.
 *
 * Included by write.c only, after the writer's type and its buffer, so the
 * writer stays one translation unit and the walk inlines the short-string
 * paths. */
#ifndef ZMEM_JSON_WRITE_STR_H
#define ZMEM_JSON_WRITE_STR_H

/* ---------------------------------------------------------------------------
 * Strings
 * ------------------------------------------------------------------------- */

static const char hex_digits[] = "0123456789abcdef";

/* The letter of a two-character escape, or 0 (then \u00XX is used). */
static const char short_escape[128] = {['"'] = '"',  ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
                                       ['\n'] = 'n', ['\r'] = 'r',  ['\t'] = 't'};

static inline char *put_u_escape(char *o, uint32_t u) {
    o[0] = '\\';
    o[1] = 'u';
    o[2] = hex_digits[u >> 12 & 15];
    o[3] = hex_digits[u >> 8 & 15];
    o[4] = hex_digits[u >> 4 & 15];
    o[5] = hex_digits[u & 15];
    return o + 6;
}

/* For an encoded surrogate at p (0xED 0xA0..0xBF, avail bytes readable):
   its code point if the sequence is complete, else 0. */
static uint32_t wtf8_surrogate(const u8 *p, size_t avail) {
    if (avail < 3 || p[0] != 0xED || p[1] < 0xA0 || p[1] > 0xBF || (p[2] & 0xC0) != 0x80) return 0;
    return 0xD000u | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
}

/* The special bytes of a string being written: '"', '\\', control
   characters, and in strict mode every byte >= 0x80 too (to be checked as
   UTF-8, or escaped). Trusted strings (ZM_JSON_F_UTF8) written without
   ZM_JSON_WRITE_ASCII are not strict: their multi-byte characters are copied
   as they are, with no check. */
static inline bool is_special(u8 c, bool strict) {
    return c == '"' || c == '\\' || c < 0x20 || (strict && c >= 0x80);
}

/* Nonzero when one of the 8 bytes of x is special (as above). */
static inline uint64_t special8(uint64_t x, bool strict) {
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t t = ((q - ones) & ~q) | ((b - ones) & ~b) | (x - ones * 0x20);
    return (strict ? t | x : t & ~x) & high;
}

#ifdef ZM__SSE2
/* The bit mask of the special bytes among the 16 of x. */
static inline unsigned special16(__m128i x, bool strict) {
    __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    /* strict: signed x < 0x20 is a control character or a byte >= 0x80 */
    __m128i c = strict ? _mm_cmplt_epi8(x, _mm_set1_epi8(0x20))
                       : _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c));
}
#endif

/* Writes s (len bytes) as a quoted JSON string. sflags are the flags of the
   value that holds it: ZM_JSON_F_UTF8 (known valid: copied unchecked) or
   ZM_JSON_F_WTF8. Invalid UTF-8 is ZM_EINVAL, except, under ZM_JSON_F_WTF8,
   lone surrogates encoded as WTF-8 (what the parser makes of \ud800 with
   ZM_JSON_ALLOW_LONE_SURROGATES), which are written as \u escapes so that
   the text reads back the same; a high surrogate encoded right before a low
   one is not WTF-8 and is refused. */
static __attribute__((aligned(64))) bool write_string(writer *w, const char *s, size_t len,
                                                      unsigned sflags) {
    const bool trusted = (sflags & ZM_JSON_F_UTF8) != 0;
    const u8 *in = (const u8 *)s, *iend = in + len;
    const bool ascii = (w->flags & ZM_JSON_WRITE_ASCII) != 0;
    const bool strict = ascii || !trusted;
    if (!reserve(w, len < STR_CHUNK ? 6 * len + 128 : STR_RESERVE)) return false;
    *w->p++ = '"';
    while (in < iend) {
        size_t left = (size_t)(iend - in);
        if (left >= STR_CHUNK && !reserve(w, STR_RESERVE)) return false;
        const u8 *lim = left > STR_CHUNK ? in + STR_CHUNK : iend;
        char *o = w->p;
        while (in < lim) {
            /* a run of plain bytes, many at a time, stored before they are
               checked (the reserve covers the over-store) */
#if defined(ZM__SSE2)
            while (iend - in >= 16) {
                __m128i x = _mm_loadu_si128((const __m128i *)in);
                _mm_storeu_si128((__m128i *)o, x);
                unsigned m = special16(x, strict);
                if (m) {
                    unsigned k = (unsigned)__builtin_ctz(m);
                    in += k;
                    o += k;
                    goto special;
                }
                in += 16;
                o += 16;
                if (in >= lim) goto chunk_done;
            }
#elif defined(ZM__SWAR)
            while (iend - in >= 8) {
                uint64_t x = zm__load64(in);
                if (special8(x, strict)) break;
                memcpy(o, &x, 8);
                in += 8;
                o += 8;
                if (in >= lim) goto chunk_done;
            }
#endif
            /* the tail: two overlapping words when it is plain */
            size_t n = (size_t)(iend - in);
            if (n >= 8 && n < 16) {
                uint64_t x = zm__load64(in), y = zm__load64(iend - 8);
                if (!special8(x, strict) && !special8(y, strict)) {
                    memcpy(o, &x, 8);
                    memcpy(o + n - 8, &y, 8);
                    o += n;
                    in = iend;
                    break;
                }
            } else if (n >= 4 && n < 8) {
                uint32_t x, y;
                memcpy(&x, in, 4);
                memcpy(&y, iend - 4, 4);
                if (!special8((uint64_t)x | (uint64_t)y << 32, strict)) {
                    memcpy(o, &x, 4);
                    memcpy(o + n - 4, &y, 4);
                    o += n;
                    in = iend;
                    break;
                }
            }
            while (in < iend && !is_special(*in, strict)) *o++ = (char)*in++;
            if (in >= iend) break;
#if defined(ZM__SSE2)
        special :
#endif
        {
            u8 c = *in;
            if (c < 0x80) {
                char e = short_escape[c];
                if (e) {
                    o[0] = '\\';
                    o[1] = e;
                    o += 2;
                } else {
                    o = put_u_escape(o, c);
                }
                in++;
                continue;
            }
            int k = zm__utf8_check(in, (size_t)(iend - in));
            if (ZM_UNLIKELY(k < 0)) {
                uint32_t cp = wtf8_surrogate(in, (size_t)(iend - in));
                if (cp == 0 || !(sflags & ZM_JSON_F_WTF8) ||
                    (cp < 0xDC00 && wtf8_surrogate(in + 3, (size_t)(iend - in - 3)) >= 0xDC00)) {
                    w->st = ZM_EINVAL;
                    return false;
                }
                o = put_u_escape(o, cp);
                in += 3;
                continue;
            }
            if (!ascii) {
                o[0] = (char)in[0];
                o[1] = (char)in[1];
                if (k > 2) o[2] = (char)in[2];
                if (k > 3) o[3] = (char)in[3];
                o += k;
                in += k;
                continue;
            }
            uint32_t cp;
            if (k == 2)
                cp = (uint32_t)(c & 0x1F) << 6 | (in[1] & 0x3F);
            else if (k == 3)
                cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(in[1] & 0x3F) << 6 | (in[2] & 0x3F);
            else
                cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(in[1] & 0x3F) << 12 |
                     (uint32_t)(in[2] & 0x3F) << 6 | (in[3] & 0x3F);
            in += k;
            if (cp < 0x10000) {
                o = put_u_escape(o, cp);
            } else {
                cp -= 0x10000;
                o = put_u_escape(o, 0xD800 + (cp >> 10));
                o = put_u_escape(o, 0xDC00 + (cp & 0x3FF));
            }
        }
        }
#if defined(ZM__SSE2) || defined(ZM__SWAR)
    chunk_done:
#endif
        w->p = o;
    }
    if (!reserve(w, 1)) return false;
    *w->p++ = '"';
    return true;
}

/* A string of up to 16 bytes that needs no escaping (most keys and many
   values), quoted at o, which has room for 24 bytes: copied as two overlapping
   words (or, below 4 bytes, as its first, middle and last byte). Returns the
   end, or NULL when the string is longer or needs escaping (write_string). */
static ZM__ALWAYS_INLINE char *short_string(char *o, const char *s, size_t len, bool strict) {
    if (len >= 8) {
        if (len > 16) return NULL;
        uint64_t x = zm__load64(s), y = zm__load64(s + len - 8);
        if (special8(x, strict) | special8(y, strict)) return NULL;
        o[0] = '"';
        memcpy(o + 1, &x, 8);
        memcpy(o + 1 + len - 8, &y, 8);
    } else if (len >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + len - 4, 4);
        if (special8((uint64_t)x | (uint64_t)y << 32, strict)) return NULL;
        o[0] = '"';
        memcpy(o + 1, &x, 4);
        memcpy(o + 1 + len - 4, &y, 4);
    } else if (len > 0) {
        u8 a = (u8)s[0], b = (u8)s[len >> 1], c = (u8)s[len - 1];
        if (is_special(a, strict) || is_special(b, strict) || is_special(c, strict)) return NULL;
        o[0] = '"';
        o[1] = (char)a;
        o[1 + (len >> 1)] = (char)b;
        o[len] = (char)c;
    } else {
        o[0] = '"';
    }
    o[len + 1] = '"';
    return o + len + 2;
}

/* A string that needs no escaping (ZM_JSON_F_PLAIN), quoted at o, which has room
   for len + 2 bytes and 16 more: copied 16 bytes at a time (the last group
   overlapping the one before), and nothing read past its end. Returns the end. */
static ZM__ALWAYS_INLINE char *plain_string(char *o, const char *s, size_t len) {
    o[0] = '"';
    char *d = o + 1;
    if (len >= 16) {
        size_t i = 0;
#ifdef ZM__SSE2
        for (; i + 16 < len; i += 16)
            _mm_storeu_si128((__m128i *)(d + i), _mm_loadu_si128((const __m128i *)(s + i)));
        _mm_storeu_si128((__m128i *)(d + len - 16),
                         _mm_loadu_si128((const __m128i *)(s + len - 16)));
#else
        for (; i + 8 < len; i += 8) memcpy(d + i, s + i, 8);
        memcpy(d + len - 8, s + len - 8, 8);
#endif
    } else if (len >= 8) {
        uint64_t x = zm__load64(s), y = zm__load64(s + len - 8);
        memcpy(d, &x, 8);
        memcpy(d + len - 8, &y, 8);
    } else if (len >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + len - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + len - 4, &y, 4);
    } else if (len > 0) {
        d[0] = s[0];
        d[len >> 1] = s[len >> 1];
        d[len - 1] = s[len - 1];
    }
    d[len] = '"';
    return d + len + 1;
}

/* Plain strings up to this length are copied by plain_string (longer ones go
   through write_string, which makes room in bounded steps). */
#define PLAIN_MAX 2048

#endif
