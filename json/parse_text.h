/* Part of the parser (parse.c): whitespace, comments and strings.
 *
 * Included by parse.c only, after the parser's type, so the parser stays one
 * translation unit and the compiler inlines across its parts (a split into
 * files compiled apart lost that inlining and was measured 2 to 3% slower). */
#ifndef ZMEM_JSON_PARSE_TEXT_H
#define ZMEM_JSON_PARSE_TEXT_H

/* ---------------------------------------------------------------------------
 * Whitespace and comments
 * ------------------------------------------------------------------------- */

#ifndef ZM__SSE2
static const bool is_ws[256] = {[' '] = true, ['\t'] = true, ['\n'] = true, ['\r'] = true};
#endif

/* Skips whitespace from p, 16 bytes at a time with SSE2 (pretty-printed
   documents are mostly indentation), else runs of spaces 8 at a time. */
static inline u8 *skip_ws(u8 *p) {
#if defined(ZM__SSE2)
    const __m128i sp = _mm_set1_epi8(' '), nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
                  tab = _mm_set1_epi8('\t');
    for (;;) {
        __m128i x = _mm_loadu_si128((const __m128i *)p);
        __m128i ws = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, sp), _mm_cmpeq_epi8(x, nl)),
                                  _mm_or_si128(_mm_cmpeq_epi8(x, cr), _mm_cmpeq_epi8(x, tab)));
        unsigned m = ~(unsigned)_mm_movemask_epi8(ws) & 0xFFFF;
        if (m) return p + __builtin_ctz(m);
        p += 16;
    }
#elif defined(ZM__SWAR)
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7fu, high = 0x8080808080808080u;
    for (;;) {
        /* exact: the high bit of each byte that is not a space */
        uint64_t y = zm__load64(p) ^ 0x2020202020202020u;
        uint64_t ns = (((y & low7) + low7) | y) & high;
        if (ns == 0) {
            p += 8;
            continue;
        }
        p += (size_t)__builtin_ctzll(ns) >> 3;
        if (!is_ws[*p]) return p;
        p++;
    }
#else
    while (is_ws[*p]) p++;
    return p;
#endif
}

/* Skips whitespace and comments from p (at '/'). Returns where the next
   token starts (a '/' that opens no comment is left for the caller to
   reject), or NULL on an unterminated block comment. */
static u8 *skip_comments(parser *P, u8 *p) {
    while (*p == '/') {
        if (p[1] == '/') {
            p += 2;
            while (p < P->end && *p != '\n') p++;
        } else if (p[1] == '*') {
            u8 *start = p;
            p += 2;
            while (p < P->end && !(p[0] == '*' && p[1] == '/')) p++;
            if (p >= P->end) return fail(P, ZM_ESYNTAX, start, "unterminated /* comment");
            p += 2;
        } else {
            return p;
        }
        p = skip_ws(p);
    }
    return p;
}

/* ---------------------------------------------------------------------------
 * Strings
 * ------------------------------------------------------------------------- */

/* One more than the value of a hex digit, 0 for any other byte (a table:
   escapes come in long runs in text written with every non-ASCII character
   escaped, as Python's json module does by default). */
#define HEX10(b, v)                                                                                \
    [b] = v, [b + 1] = v + 1, [b + 2] = v + 2, [b + 3] = v + 3, [b + 4] = v + 4, [b + 5] = v + 5,  \
    [b + 6] = v + 6, [b + 7] = v + 7, [b + 8] = v + 8, [b + 9] = v + 9
#define HEX6(b, v)                                                                                 \
    [b] = v, [b + 1] = v + 1, [b + 2] = v + 2, [b + 3] = v + 3, [b + 4] = v + 4, [b + 5] = v + 5
static const uint8_t hex_plus1[256] = {HEX10('0', 1), HEX6('A', 11), HEX6('a', 11)};
#undef HEX10
#undef HEX6

/* Reads 4 hex digits at p into *cp. */
static inline bool hex4(const u8 *p, uint32_t *cp) {
    int a = hex_plus1[p[0]] - 1, b = hex_plus1[p[1]] - 1, c = hex_plus1[p[2]] - 1,
        d = hex_plus1[p[3]] - 1;
    if ((a | b | c | d) < 0) return false;
    *cp = (uint32_t)(a << 12 | b << 8 | c << 4 | d);
    return true;
}

/* What each one-letter escape stands for; 0 for a letter that is not one. */
static const u8 unescape[256] = {['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
                                 ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t'};

/* Writes code point cp (surrogates too, as WTF-8 does) as UTF-8 at d. */
static inline u8 *put_utf8(u8 *d, uint32_t cp) {
    if (cp < 0x80) {
        *d++ = (u8)cp;
    } else if (cp < 0x800) {
        *d++ = (u8)(0xC0 | cp >> 6);
        *d++ = (u8)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *d++ = (u8)(0xE0 | cp >> 12);
        *d++ = (u8)(0x80 | (cp >> 6 & 0x3F));
        *d++ = (u8)(0x80 | (cp & 0x3F));
    } else {
        *d++ = (u8)(0xF0 | cp >> 18);
        *d++ = (u8)(0x80 | (cp >> 12 & 0x3F));
        *d++ = (u8)(0x80 | (cp >> 6 & 0x3F));
        *d++ = (u8)(0x80 | (cp & 0x3F));
    }
    return d;
}

/* Sets a node's type, flags and hash_cap (0 here) with one 8-byte store where
   the layout allows it (the padding between them is written too). */
_Static_assert(offsetof(zm_json, type) == 0 && offsetof(zm_json, flags) == 1 &&
                   offsetof(zm_json, hash_cap) == 4 && offsetof(zm_json, u) == 8,
               "zm_json's header is one word");
static inline void set_head(zm_json *v, uint8_t type, uint8_t flags) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t h = (uint64_t)type | (uint64_t)flags << 8;
    memcpy(v, &h, sizeof h);
#else
    v->type = type;
    v->flags = flags;
    v->hash_cap = 0;
#endif
}

static inline void set_string(zm_json *out, const char *s, size_t len, uint8_t flags) {
    set_head(out, ZM_JSON_STRING, flags);
    out->u.s.ptr = s;
    out->u.s.len = len;
}

/* For the low 3 bytes of x, already shaped as a 3-byte character (1110xxxx
   10xxxxxx 10xxxxxx): true unless overlong (E0 80..9F) or a surrogate
   (ED A0..BF). */
static inline bool is_3byte(uint64_t x) {
    uint32_t lead = (uint32_t)x & 0xE0FF;
    return lead != 0x80E0 && lead != 0xA0ED;
}

/* Checks the UTF-8 of the run from p to q, which holds no '"', '\\' or
   control character (the padding makes bytes past q readable). Long runs
   are checked 16 bytes at a time; short ones, and a run found invalid,
   a character at a time: the common 3-byte characters (most of CJK) by
   word masks, two at a time when they come in pairs. Returns true, or
   false with the error recorded where the first invalid character starts. */
static inline bool check_run(parser *P, const u8 *p, const u8 *q) {
    if (q - p >= 24 && zm__json_utf8_valid_padded(p, (size_t)(q - p))) return true;
    while (p < q) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        uint64_t x = zm__load64(p);
        if ((x & 0xC0C0F0C0C0F0u) == 0x8080E08080E0u && is_3byte(x) && is_3byte(x >> 24) &&
            q - p >= 6) {
            p += 6;
            continue;
        }
        if ((x & 0xC0C0F0u) == 0x8080E0u && is_3byte(x) && q - p >= 3) {
            p += 3;
            continue;
        }
        int n = zm__utf8_check(p, (size_t)(q - p));
        if (ZM_UNLIKELY(n < 0)) return fail_utf8(P, p, -n), false;
        p += n;
    }
    return true;
}

/* The rest of a string from p (at its first backslash), s being where its
   content starts: decodes in place, the output never longer than the input.
   Returns the position after the closing quote, or NULL. */
static u8 *parse_escaped(parser *P, u8 *s, u8 *p, const char **str, size_t *len) {
    u8 *d = p;
    for (;;) {
        u8 c = *p;
        if (c == '\\') {
            if (p[1] == 'u') {
                uint32_t cp, lo;
                if (!hex4(p + 2, &cp)) {
                    const u8 *q = p + 2;
                    while (hex_plus1[*q] != 0) q++;
                    return fail_found(P, q, "4 hex digits after \\u");
                }
                if (ZM_UNLIKELY(cp >= 0xD800 && cp <= 0xDFFF)) {
                    if (cp <= 0xDBFF && p[6] == '\\' && p[7] == 'u' && hex4(p + 8, &lo) &&
                        lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        p += 6;
                    } else if (!(P->flags & ZM_JSON_ALLOW_LONE_SURROGATES)) {
                        return fail_opt(P, ZM_ESYNTAX, p, ZM_JSON_OPTION_LONE_SURROGATES,
                                        cp <= 0xDBFF ? "unpaired high surrogate \\u%04x: "
                                                       "expected a low surrogate escape "
                                                       "(\\udc00-\\udfff) right after it"
                                                     : "unpaired low surrogate \\u%04x: "
                                                       "expected a high surrogate escape "
                                                       "(\\ud800-\\udbff) right before it",
                                        cp);
                    }
                }
                d = put_utf8(d, cp);
                p += 6;
                continue;
            }
            u8 e = unescape[p[1]];
            if (ZM_UNLIKELY(e == 0)) {
                char found[48];
                describe(P, p + 1, found, sizeof found);
                return fail(P, ZM_ESYNTAX, p,
                            "invalid escape: expected one of \" \\ / b f n r t u after '\\', "
                            "found %s",
                            found);
            }
            *d++ = e;
            p += 2;
        } else if (c == '"') {
            *d = '\0';
            *str = (const char *)s;
            *len = (size_t)(d - s);
            return p + 1;
        } else if (c < 0x20) {
            return fail_in_string(P, p);
        } else {
            /* a run up to the next quote, backslash or control character */
            u8 *q = c < 0x80 ? zm__str_skip_plain(p + 1) : p;
            if (*q >= 0x80) {
                q = zm__str_skip_utf8(q);
                if (!check_run(P, p, q)) return NULL;
            }
            size_t k = (size_t)(q - p);
            memmove(d, p, k);
            d += k;
            p = q;
        }
    }
}

/* Parses the string whose opening quote is at p: *str and *len are set to
   its decoded, NUL-terminated content, *plain to ZM_JSON_F_PLAIN when it had
   no escape (else 0). Returns the position after the closing quote, or NULL. */
static inline u8 *parse_string(parser *P, u8 *p, const char **str, size_t *len, uint8_t *plain,
                               size_t *key_frame) {
    u8 *s = ++p;
    for (;;) {
        p = zm__str_skip_plain(p);
        u8 c = *p;
        if (ZM_LIKELY(c == '"')) {
            *p = '\0';
            *str = (const char *)s;
            *len = (size_t)(p - s);
            *plain = ZM_JSON_F_PLAIN;
            return p + 1;
        }
        if (c == '\\') {
            *plain = 0;
            if (key_frame) *key_frame |= 2; /* an escaped key: the object is not plain */
            return parse_escaped(P, s, p, str, len);
        }
        if (c < 0x20) return fail_in_string(P, p);
        /* non-ASCII: the run up to the next quote, backslash or control
           character is checked as a whole */
        u8 *q = zm__str_skip_utf8(p);
        if (!check_run(P, p, q)) return NULL;
        p = q;
    }
}

#endif
