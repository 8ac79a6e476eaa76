/* The parser: strict RFC 8259 by default, opt-in relaxations, one arena.
 *
 * How it works:
 *  - The text is copied into the arena once, followed by PAD NUL bytes. The
 *    NULs are a sentinel (no token and no string runs past one), so the hot
 *    loops need no bounds checks, and 16-byte loads near the end stay inside
 *    the copy. Strings are decoded in place in the copy and NUL-terminated
 *    over their closing quote: a string costs no allocation of its own.
 *  - Strings are scanned 16 bytes at a time; a run of non-ASCII characters
 *    is validated as a whole (utf8.c). Whitespace is skipped 16 bytes at a
 *    time, and on pretty-printed text mostly not scanned at all: the
 *    indentation seen at each depth is checked instead (see below).
 *    Numbers are read in one pass, 8 digits at a time: the digits accumulate
 *    into an integer while they are validated, and up to 19 of them go
 *    straight to the shared fast paths of num_internal.h (longer ones, and
 *    the few those leave undecided, to num_parse.c's exact converter).
 *    Integers are read in the main loop, those that follow the first of an
 *    array in int_run; a real, and the numbers that follow it in an array, in
 *    number_run, out of line, so that the main loop stays small for documents
 *    of strings. Strings and keys without an escape are
 *    marked ZM_JSON_F_PLAIN for the writer.
 *  - The parser is iterative: an explicit stack of open containers (frames),
 *    so hostile nesting meets the depth limit, never a stack overflow.
 *  - Each value node is bumped from the arena as it is read; its pointer (and
 *    for a member, its key) goes on a scratch stack. When a container closes,
 *    its node, item pointers or members, and hash index are laid out in one
 *    block of exactly the right size: the items are one memcpy away.
 *  - Objects with more than ZM__JSON_HASH_MIN members get their hash index
 *    here, at parse time: parsed values are read-only and may be read from
 *    several threads, so a lazily built index would need a lock or atomics.
 *    Duplicate keys are found while the members are laid out (through the
 *    index, or by a scan for small objects).
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "internal.h"
#include "num.h"
#include "num_internal.h"

typedef unsigned char u8;

/* NUL bytes after the copied text: 16-byte loads, and the indentation
   guess's two loads and the byte after them, stay inside the copy. */
#define PAD 64

/* Scratch stack sizes kept on the C stack before the heap is used. */
#define LOCAL_WORDS  1024
#define LOCAL_FRAMES 128

typedef struct parser {
    const char *text;     /* the caller's text, for line and column */
    u8 *buf, *end;        /* the copy; *end is the first sentinel NUL */
    zm_arena *ar;         /* where the values go */
    zm_allocator scratch; /* where the scratch stacks grow */
    uint32_t flags;
    uint8_t utf8; /* flags of strings and objects: ZM_JSON_F_UTF8, or ZM_JSON_F_WTF8 when
                     lone surrogates may occur */
    uint32_t max_depth;
    zm_json_dup_mode dup;
    /* The scratch stack, in words: an open array's items are one word each
       (a zm_json pointer), an open object's members three (key, key_len,
       value: the layout of zm_json_member). */
    uintptr_t *stk;
    size_t stk_cap;
    bool stk_heap;
    size_t *frames; /* open containers: start in stk << 2 | an escaped key << 1 | is_object */
    size_t frames_cap;
    bool frames_heap;
    zm_status status; /* the first error */
    size_t err_off;
    zm_json_option option; /* the option that would accept the input */
    size_t note_at;        /* where the note naming it starts in msg */
    char msg[160];
} parser;

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

/* Describes what is at p: a character, a run of letters, a byte, the end. */
static void describe(const parser *P, const u8 *p, char *out, size_t n) {
    if (p >= P->end) {
        snprintf(out, n, "the end of the input");
    } else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') {
        int k = 0;
        while (k < 12 && p + k < P->end && (p[k] | 0x20) >= 'a' && (p[k] | 0x20) <= 'z') k++;
        snprintf(out, n, "'%.*s'", k, (const char *)p);
    } else if (*p > 0x20 && *p < 0x7F) {
        snprintf(out, n, "'%c'", *p);
    } else if (*p == ' ') {
        snprintf(out, n, "' '");
    } else if (*p == 0) {
        snprintf(out, n, "a NUL byte");
    } else if (*p < 0x20) {
        snprintf(out, n, "control character U+%04X", *p);
    } else {
        snprintf(out, n, "byte 0x%02X", *p);
    }
}

/* The note that ends a message when an option would accept the input. */
static const char *const option_note[] = {
    [ZM_JSON_OPTION_COMMENTS] = "ZM_JSON_ALLOW_COMMENTS accepts comments",
    [ZM_JSON_OPTION_TRAILING_COMMAS] = "ZM_JSON_ALLOW_TRAILING_COMMAS accepts it",
    [ZM_JSON_OPTION_NAN_INF] = "ZM_JSON_ALLOW_NAN_INF accepts it",
    [ZM_JSON_OPTION_BOM] = "ZM_JSON_ALLOW_BOM accepts it",
    [ZM_JSON_OPTION_LONE_SURROGATES] = "ZM_JSON_ALLOW_LONE_SURROGATES accepts it",
    [ZM_JSON_OPTION_DUP_KEYS] = "ZM_JSON_DUP_FIRST or ZM_JSON_DUP_LAST accept them",
    [ZM_JSON_OPTION_MAX_DEPTH] = "a larger max_depth accepts it",
};

/* Records an error at p (the first one only); when option would accept the
   input, the message ends with its note. Returns NULL for chaining. */
static u8 *vfail(parser *P, zm_status st, const u8 *p, zm_json_option option, const char *fmt,
                 va_list ap) {
    if (P->status != ZM_OK) return NULL;
    P->status = st;
    P->err_off = (size_t)(p - P->buf);
    vsnprintf(P->msg, sizeof P->msg, fmt, ap);
    if (option != ZM_JSON_OPTION_NONE) {
        size_t n = strlen(P->msg);
        P->option = option;
        P->note_at = n;
        snprintf(P->msg + n, sizeof P->msg - n, " (%s)", option_note[option]);
    }
    return NULL;
}

static u8 *fail(parser *P, zm_status st, const u8 *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(P, st, p, ZM_JSON_OPTION_NONE, fmt, ap);
    va_end(ap);
    return NULL;
}

/* fail for input that option would accept. */
static u8 *fail_opt(parser *P, zm_status st, const u8 *p, zm_json_option option, const char *fmt,
                    ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(P, st, p, option, fmt, ap);
    va_end(ap);
    return NULL;
}

/* "expected <what>, found <what is at p>". */
static u8 *fail_found(parser *P, const u8 *p, const char *expected) {
    char found[48];
    describe(P, p, found, sizeof found);
    return fail(P, ZM_ESYNTAX, p, "expected %s, found %s", expected, found);
}

/* fail_found between tokens, where the default refuses what an option
   accepts: a comment, NaN or Infinity, or (after_comma) the bracket that
   closes a container after a trailing comma. Names the option then. */
static u8 *fail_token(parser *P, const u8 *p, const char *expected, bool after_comma) {
    zm_json_option option = ZM_JSON_OPTION_NONE;
    /* the text is followed by PAD NUL bytes: the comparisons stay inside;
       "-Infinity" fails after its '-', and "-NaN" is never accepted */
    if (p >= P->end)
        ;
    else if (*p == '/' && (p[1] == '/' || p[1] == '*') && !(P->flags & ZM_JSON_ALLOW_COMMENTS))
        option = ZM_JSON_OPTION_COMMENTS;
    else if (after_comma && !(P->flags & ZM_JSON_ALLOW_TRAILING_COMMAS))
        option = ZM_JSON_OPTION_TRAILING_COMMAS;
    else if (!(P->flags & ZM_JSON_ALLOW_NAN_INF) &&
             (memcmp(p, "Infinity", 8) == 0 ||
              (memcmp(p, "NaN", 3) == 0 && (p == P->buf || p[-1] != '-'))))
        option = ZM_JSON_OPTION_NAN_INF;
    char found[48];
    describe(P, p, found, sizeof found);
    return fail_opt(P, ZM_ESYNTAX, p, option, "expected %s, found %s", expected, found);
}

static u8 *fail_oom(parser *P, const u8 *p) {
    return fail(P, ZM_ENOMEM, p, "out of memory");
}

/* An error inside a string at p: a control character or the end. */
static u8 *fail_in_string(parser *P, const u8 *p) {
    if (p >= P->end) return fail_found(P, p, "'\"' to close the string");
    return fail(P, ZM_ESYNTAX, p,
                "control character U+%04X in a string: it must be escaped (\\n, \\u%04x...)", *p,
                *p);
}

static u8 *fail_utf8(parser *P, const u8 *p, int reason) {
    return fail(P, ZM_ESYNTAX, p, "invalid UTF-8 in a string (byte 0x%02X): %s", *p,
                zm__utf8_reason(reason));
}

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

/* ---------------------------------------------------------------------------
 * Closing containers
 * ------------------------------------------------------------------------- */

_Static_assert(sizeof(zm_json_member) == 3 * sizeof(uintptr_t) &&
                   offsetof(zm_json_member, key_len) == sizeof(uintptr_t) &&
                   offsetof(zm_json_member, value) == 2 * sizeof(uintptr_t),
               "zm_json_member must be three words: the scratch stack relies on it");

/* Copies n words (most containers are small: no call to memcpy). */
static inline void copy_words(void *dst, const uintptr_t *src, size_t n) {
    char *d = dst;
    const char *s = (const char *)src;
    size_t bytes = n * sizeof(uintptr_t), i = 0;
#ifdef ZM__SSE2
    for (; i + 16 <= bytes; i += 16)
        _mm_storeu_si128((__m128i *)(d + i), _mm_loadu_si128((const __m128i *)(s + i)));
#endif
    for (; i < bytes; i += sizeof(uintptr_t)) memcpy(d + i, s + i, sizeof(uintptr_t));
}

/* Lays out the array whose n item pointers are at first. Returns its node. */
static ZM__ALWAYS_INLINE zm_json *close_array(parser *P, const uintptr_t *first, size_t n,
                                              const u8 *p) {
    zm_json *v = zm_arena_alloc(P->ar, sizeof(zm_json) + n * sizeof(zm_json *), _Alignof(zm_json));
    if (v == NULL) return fail_oom(P, p), NULL;
    zm_json **items = NULL;
    if (n) {
        items = (zm_json **)(v + 1);
        copy_words(items, first, n);
    }
    set_head(v, ZM_JSON_ARRAY, 0);
    v->u.a.items = items;
    v->u.a.len = v->u.a.cap = n;
    return v;
}

/* A key for a message: up to 40 printable bytes. */
static void printable_key(const char *k, size_t len, char *out, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < n; i++) {
        if (i == 40) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)k[i];
        out[o++] = c >= 0x20 && c < 0x7F && c != '"' ? (char)c : '?';
    }
    out[o] = '\0';
}

/* Key equality for keys in the parser's copy, which is readable at least 8
   bytes past any key's start: the first 8 bytes compare as one word. */
static inline bool key_eq(const zm_json_member *a, const zm_json_member *b) {
    size_t len = a->key_len;
    if (len != b->key_len) return false;
    uint64_t mask = len >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (len * 8)) - 1;
    if (((zm__load64(a->key) ^ zm__load64(b->key)) & mask) != 0) return false;
    return len <= 8 || memcmp(a->key + 8, b->key + 8, len - 8) == 0;
}

/* Lays out the object whose n members are at first. Repeated keys are
   handled as P->dup says. Returns its node.
   Why duplicates are an error by default: RFC 8259 leaves their meaning
   open, and parsers disagree (some keep the first, most the last), so a
   document with a repeated key can mean one thing to the component that
   checks it and another to the one that acts on it; that ambiguity has been
   used to smuggle values past validators. I-JSON (RFC 7493) forbids them. */
static zm_json *close_object(parser *P, const uintptr_t *first, size_t n, const u8 *p) {
    if (n > UINT32_MAX - 2) return fail(P, ZM_ELIMIT, p, "object with too many members"), NULL;
    uint32_t cap = n > ZM__JSON_HASH_MIN ? zm__json_index_cap(n) : 0;
    size_t bytes = sizeof(zm_json) + n * sizeof(zm_json_member) + (size_t)cap * sizeof(uint32_t);
    zm_json *v = zm_arena_alloc(P->ar, bytes, _Alignof(zm_json));
    if (v == NULL) return fail_oom(P, p), NULL;
    zm_json_member *members = (zm_json_member *)(v + 1);
    uint32_t *index = (uint32_t *)(members + n);
    copy_words(members, first, 3 * n);
    if (cap) memset(index, 0, (size_t)cap * sizeof *index);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m != i) members[m] = members[i];
        size_t j = m;
        if (cap) {
            j = zm__json_index_add(index, cap, members, m,
                                   zm__json_hash(members[m].key, members[m].key_len));
        } else {
            for (size_t q = 0; q < m; q++) {
                if (key_eq(&members[q], &members[m])) {
                    j = q;
                    break;
                }
            }
        }
        if (ZM_LIKELY(j == m)) {
            m++;
        } else if (P->dup == ZM_JSON_DUP_LAST) {
            members[j].value = members[m].value;
        } else if (P->dup != ZM_JSON_DUP_FIRST) {
            char key[48];
            printable_key(members[m].key, members[m].key_len, key, sizeof key);
            return fail_opt(P, ZM_ESYNTAX, (const u8 *)members[m].key - 1, ZM_JSON_OPTION_DUP_KEYS,
                            "duplicate key \"%s\" in an object: keys must be unique", key),
                   NULL;
        }
    }
    v->type = ZM_JSON_OBJECT;
    v->flags = P->utf8;
    v->hash_cap = cap;
    v->u.o.items = n ? members : NULL;
    v->u.o.len = v->u.o.cap = m;
    v->u.o.index = cap ? index : NULL;
    return v;
}

/* ---------------------------------------------------------------------------
 * The scratch stacks
 * ------------------------------------------------------------------------- */

/* Makes room for k more words above *sp, rebasing *sp and *send. */
static bool grow_stk(parser *P, uintptr_t **sp, uintptr_t **send, size_t k, const u8 *p) {
    size_t used = (size_t)(*sp - P->stk);
    void *items = P->stk;
    if (!zm__stack_grow(P->scratch, &items, &P->stk_cap, sizeof(uintptr_t), &P->stk_heap, used + k))
        return fail_oom(P, p), false;
    P->stk = items;
    *sp = P->stk + used;
    *send = P->stk + P->stk_cap;
    return true;
}

static bool grow_frames(parser *P, const u8 *p) {
    void *items = P->frames;
    if (!zm__stack_grow(P->scratch, &items, &P->frames_cap, sizeof(size_t), &P->frames_heap,
                        P->frames_cap + 1))
        return fail_oom(P, p), false;
    P->frames = items;
    return true;
}

/* The most items number_array keeps before it hands over to the main loop. */
#define SHORT_ARRAY 16

/* Reads the array of numbers whose first item starts at p, just after its
   '[' ("[1.5,-2]": coordinates), without the main loop's frame: items
   separated by single commas, up to SHORT_ARRAY of them, the first a real
   (after an integer it stops: in an array of integers, such as indices or
   ids, int_run reads those that follow at once, the main loop the rest).
   Their nodes go on the scratch stack at *spp (room made as needed). When
   ']' follows a real, the array is laid out in their place
   (*spp one past it), *closed is set, and the position after ']' returned.
   Otherwise the position after the last number read is returned, the nodes
   on the stack, for the main loop to go on as if it had read them from the
   array's start, *spp minus *n. Returns NULL on an error (recorded).
   Each item is tried first with number_fast, ending at the next ',' or ']'
   of a window of delimiters (next_delim): canada's 17-digit coordinates.
   *closed true on entry: the array is an item of an array, so that arrays of
   two reals that follow at once are read too (pair_run), each laid out. */
static __attribute__((noinline)) u8 *number_array(parser *P, u8 *p, uintptr_t **spp,
                                                  uintptr_t **sendp, size_t *n, bool *closed) {
    uintptr_t items[SHORT_ARRAY];
    size_t k = 0;
#ifdef NUMBER_FAST
    bool fast = !(P->flags & ZM_JSON_NUMBERS_AS_TEXT);
    if (fast) {
        u8 *q = pair_run(P, p - 1, spp, *sendp, *closed);
        if (q != NULL) {
            *closed = true;
            return q;
        }
    }
#endif
    *closed = false;
#ifdef NUMBER_FAST
    const u8 *wb = p;
    uint64_t wm = 0;
#endif
    for (;;) {
        zm_json *out = new_node(P->ar);
        if (ZM_UNLIKELY(out == NULL)) return fail_oom(P, p), NULL;
        items[k++] = (uintptr_t)out;
#ifdef NUMBER_FAST
        const u8 *d = fast ? next_delim(p, &wb, &wm) : NULL;
        if (d != NULL && number_fast(P->buf, p, d, out, false)) {
            p = (u8 *)d;
            goto next;
        }
        wm = 0;
#endif
        u8 *start = p;
        bool neg = false;
        uint64_t m = 0;
        size_t ndig = 0;
        if ((p = number_head(P, p, &neg, &m, &ndig)) == NULL) return NULL;
        if (*p == '.' || (*p | 0x20) == 'e') {
            if ((p = number_tail(P, start, p, m, ndig, neg, out)) == NULL) return NULL;
        } else if (!number_int(P, start, p, m, ndig, neg, out)) {
            return NULL;
        } else if (k == 1) {
            break;
        }
#ifdef NUMBER_FAST
    next:
#endif
        if (*p == ']') {
            zm_json *v = close_array(P, items, k, p);
            if (v == NULL) return NULL;
            *(*spp)++ = (uintptr_t)v; /* the main loop made room for one */
            *closed = true;
            return p + 1;
        }
        if (k == SHORT_ARRAY || !next_number(p)) break;
        p++;
    }
    if (ZM_UNLIKELY((size_t)(*sendp - *spp) < k) && !grow_stk(P, spp, sendp, k, p)) return NULL;
    memcpy(*spp, items, k * sizeof(uintptr_t));
    *spp += k;
#ifdef ZM__SWAR
    /* an array of integers: those that follow at once, on the stack too */
    if (k == 1 && next_number(p) && !(P->flags & ZM_JSON_NUMBERS_AS_TEXT)) {
        uintptr_t *from = *spp;
        if ((p = int_run(P, p, spp, *sendp)) == NULL) return NULL;
        k += (size_t)(*spp - from);
    }
#endif
    *n = k;
    return p;
}

/* ---------------------------------------------------------------------------
 * Guessing indentation
 *
 * Pretty-printed text repeats its indentation: every member or item at a
 * given depth is preceded by the same newline and spaces, and a closing
 * bracket by those of the depth above. Checking that the whitespace is the
 * one guessed is cheaper than measuring it, and it keeps the scan off the
 * critical path: the next token's address is known at once. A wrong guess
 * costs a compare, then the plain skip.
 * ------------------------------------------------------------------------- */

#ifdef ZM__SSE2
/* True when p holds a newline and g - 1 spaces (1 <= g <= 32) followed by a
   byte that is neither whitespace nor the start of a comment. */
static inline bool indent_is(const u8 *p, unsigned g) {
    const __m128i nl_spaces = _mm_set_epi8(' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
                                           ' ', ' ', ' ', ' ', '\n');
    unsigned eq =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), nl_spaces));
    if (g <= 16) {
        unsigned want = (1u << g) - 1;
        if ((eq & want) != want) return false;
    } else {
        unsigned eq2 = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), _mm_set1_epi8(' ')));
        unsigned want = (1u << (g - 16)) - 1;
        if (eq != 0xFFFF || (eq2 & want) != want) return false;
    }
    return p[g] > ' ' && p[g] != '/';
}
#endif

/* ---------------------------------------------------------------------------
 * The main loop
 * ------------------------------------------------------------------------- */

/* Parses the whole copy; on success the root value is the pointer P->stk[0]. */
static zm_status run(parser *P) {
    u8 *p = P->buf;
    const uint32_t flags = P->flags;
    const bool comments = (flags & ZM_JSON_ALLOW_COMMENTS) != 0;
    const bool trailing = (flags & ZM_JSON_ALLOW_TRAILING_COMMAS) != 0;
    const uint8_t utf8 = P->utf8;
    uintptr_t *sp = P->stk, *send = P->stk + P->stk_cap;
    zm_json *v;
    size_t depth = 0;
    bool in_obj = false;
#ifdef ZM__SSE2
    /* per depth (mod 64), the length of the whitespace seen after the last
       comma, a guess for the next one (0: none) */
    uint8_t indent[64] = {0};
#endif

    if (P->end - p >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        if (!(flags & ZM_JSON_ALLOW_BOM)) {
            fail_opt(P, ZM_ESYNTAX, p, ZM_JSON_OPTION_BOM,
                     "expected a JSON value, found a UTF-8 byte order mark");
            goto fail;
        }
        p += 3;
    }

/* Skips whitespace, trying the indentation guessed for depth d first. */
#ifdef ZM__SSE2
#define GUESS_WS(d)                                                                                \
    do {                                                                                           \
        unsigned g_ = indent[(d)&63];                                                              \
        if (g_ != 0 && *p == '\n' && indent_is(p, g_))                                             \
            p += g_;                                                                               \
        else                                                                                       \
            SKIP_WS();                                                                             \
    } while (0)
#else
#define GUESS_WS(d) SKIP_WS()
#endif

/* A new node from the arena, in v. */
#define NEW_NODE()                                                                                 \
    do {                                                                                           \
        v = new_node(P->ar);                                                                       \
        if (ZM_UNLIKELY(v == NULL)) {                                                              \
            fail_oom(P, p);                                                                        \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

#define SKIP_WS()                                                                                  \
    do {                                                                                           \
        if (ZM_UNLIKELY(*p <= ' ')) p = *p == ' ' && p[1] > ' ' ? p + 1 : skip_ws(p);              \
        if (ZM_UNLIKELY(*p == '/') && comments && (p = skip_comments(P, p)) == NULL) goto fail;    \
    } while (0)

after_colon:
    /* pretty-printed text has one space here: no need for the full skip */
    if (*p == ' ' && p[1] > ' ') p++;
    SKIP_WS();
value_nows:
    /* One free word: for this value, or for the container it opens. */
    if (ZM_UNLIKELY(sp == send) && !grow_stk(P, &sp, &send, 1, p)) goto fail;
    switch (*p) {
    case '"': {
        const char *str;
        size_t len;
        uint8_t plain;
        NEW_NODE();
        if ((p = parse_string(P, p, &str, &len, &plain, NULL)) == NULL) goto fail;
        set_string(v, str, len, utf8 | plain);
        *sp++ = (uintptr_t)v;
        goto after_value;
    }
    case '-':
        if (ZM_UNLIKELY(p[1] == 'I') && (flags & ZM_JSON_ALLOW_NAN_INF) &&
            memcmp(p + 1, "Infinity", 8) == 0) {
            NEW_NODE();
            set_real(v, -INFINITY);
            *sp++ = (uintptr_t)v;
            p += 9;
            goto after_value;
        }
        /* fall through */
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
    number : {
        u8 *start = p;
        bool neg = false;
        uint64_t m = 0;
        size_t ndig = 0;
        NEW_NODE();
        if ((p = number_head(P, p, &neg, &m, &ndig)) == NULL) goto fail;
        *sp++ = (uintptr_t)v;
        if (*p == '.' || (*p | 0x20) == 'e') {
            bool in_array = !in_obj && depth != 0;
            p = number_run(P, start, p, m, ndig, neg, v, &sp, send, in_array);
            if (p == NULL) goto fail;
            if (in_array && *p == ']') { /* the end of a run of coordinates */
                p++;
                goto close_arr;
            }
            goto after_value;
        }
        if (!number_int(P, start, p, m, ndig, neg, v)) goto fail;
        /* arrays of integers written without spaces: the next items at once,
           without the general dispatch */
        if (!in_obj && next_number(p) && depth != 0 && ZM_LIKELY(sp != send)) {
            p++;
            goto number;
        }
        goto after_value;
    }
    case '{':
        if (ZM_UNLIKELY(depth >= P->max_depth)) goto too_deep;
        if (ZM_UNLIKELY(depth == P->frames_cap) && !grow_frames(P, p)) goto fail;
        P->frames[depth++] = (size_t)(sp - P->stk) << 2 | 1;
        in_obj = true;
        p++;
        GUESS_WS(depth);
        if (*p == '"') goto key;
        if (*p == '}') {
            p++;
            goto close_obj;
        }
        fail_token(P, p, "a string key or '}' after '{'", false);
        goto fail;
    case '[':
        if (ZM_UNLIKELY(depth >= P->max_depth)) goto too_deep;
        if (is_digit(p[1]) || (p[1] == '-' && is_digit(p[2]))) {
            size_t k = 0;
            bool closed = !in_obj && depth != 0;
            if ((p = number_array(P, p + 1, &sp, &send, &k, &closed)) == NULL) goto fail;
            if (closed) goto after_value;
            /* go on as if the main loop had read the k items */
            if (ZM_UNLIKELY(depth == P->frames_cap) && !grow_frames(P, p)) goto fail;
            P->frames[depth++] = (size_t)(sp - k - P->stk) << 2;
            in_obj = false;
            goto after_value;
        }
        if (ZM_UNLIKELY(depth == P->frames_cap) && !grow_frames(P, p)) goto fail;
        P->frames[depth++] = (size_t)(sp - P->stk) << 2;
        in_obj = false;
        p++;
        GUESS_WS(depth);
        if (*p == ']') {
            p++;
            goto close_arr;
        }
        goto value_nows;
    case 't':
        if (memcmp(p, "true", 4) != 0) break;
        NEW_NODE();
        set_head(v, ZM_JSON_BOOL, 0);
        v->u.b = true;
        *sp++ = (uintptr_t)v;
        p += 4;
        goto after_value;
    case 'f':
        if (memcmp(p, "false", 5) != 0) break;
        NEW_NODE();
        set_head(v, ZM_JSON_BOOL, 0);
        v->u.b = false;
        *sp++ = (uintptr_t)v;
        p += 5;
        goto after_value;
    case 'n':
        if (memcmp(p, "null", 4) != 0) break;
        NEW_NODE();
        set_head(v, ZM_JSON_NULL, 0);
        v->u.i = 0;
        *sp++ = (uintptr_t)v;
        p += 4;
        goto after_value;
    case 'N':
        if (!(flags & ZM_JSON_ALLOW_NAN_INF) || memcmp(p, "NaN", 3) != 0) break;
        NEW_NODE();
        set_real(v, NAN);
        *sp++ = (uintptr_t)v;
        p += 3;
        goto after_value;
    case 'I':
        if (!(flags & ZM_JSON_ALLOW_NAN_INF) || memcmp(p, "Infinity", 8) != 0) break;
        NEW_NODE();
        set_real(v, INFINITY);
        *sp++ = (uintptr_t)v;
        p += 8;
        goto after_value;
    default: break;
    }
    fail_token(P, p, depth == 0 ? "a JSON value" : "a value", !in_obj && depth != 0 && *p == ']');
    goto fail;

after_value:
    if (ZM_UNLIKELY(depth == 0)) goto done;
    if (*p != ',') GUESS_WS(depth - 1); /* before a closing bracket */
    if (ZM_LIKELY(*p == ',')) {
        p++;
        if (*p == ' ' && p[1] > ' ' && p[1] != '/') {
            p++; /* one space, as in "[1, 2]" (Python's json module writes that) */
        } else {
#ifdef ZM__SSE2
            unsigned g = indent[depth & 63];
            if (g != 0 && indent_is(p, g)) {
                p += g;
            } else {
                u8 *q = p;
                SKIP_WS();
                size_t run = (size_t)(p - q);
                indent[depth & 63] = (uint8_t)(run <= 32 ? run : 0);
            }
#else
            SKIP_WS();
#endif
        }
        if (in_obj) {
            if (ZM_LIKELY(*p == '"')) goto key;
            if (*p == '}' && trailing) {
                p++;
                goto close_obj;
            }
            fail_token(P, p, "a string key after ','", *p == '}');
            goto fail;
        }
        if (*p == ']' && trailing) {
            p++;
            goto close_arr;
        }
        goto value_nows;
    }
    if (in_obj) {
        if (ZM_LIKELY(*p == '}')) {
            p++;
            goto close_obj;
        }
        fail_token(P, p, "',' or '}' after an object member", false);
        goto fail;
    }
    if (ZM_LIKELY(*p == ']')) {
        p++;
        goto close_arr;
    }
    fail_token(P, p, "',' or ']' after an array item", false);
    goto fail;

key: /* p is at the key's opening quote */
    if (ZM_UNLIKELY(send - sp < 3) && !grow_stk(P, &sp, &send, 3, p)) goto fail;
    {
        const char *str = NULL;
        size_t len = 0;
        uint8_t plain = 0;
        if ((p = parse_string(P, p, &str, &len, &plain, &P->frames[depth - 1])) == NULL) goto fail;
        sp[0] = (uintptr_t)str;
        sp[1] = (uintptr_t)len;
        sp += 2;
    }
    if (ZM_LIKELY(*p == ':')) {
        p++;
        goto after_colon;
    }
    SKIP_WS();
    if (ZM_LIKELY(*p == ':')) {
        p++;
        goto after_colon;
    }
    fail_token(P, p, "':' after an object key", false);
    goto fail;

close_arr : {
    /* the container's own word was free when it opened */
    uintptr_t *first = P->stk + (P->frames[--depth] >> 2);
    if ((v = close_array(P, first, (size_t)(sp - first), p)) == NULL) goto fail;
    sp = first;
    *sp++ = (uintptr_t)v;
    in_obj = depth && (P->frames[depth - 1] & 1);
    goto after_value;
}

close_obj : {
    size_t frame = P->frames[--depth];
    uintptr_t *first = P->stk + (frame >> 2);
    if ((v = close_object(P, first, (size_t)(sp - first) / 3, p)) == NULL) goto fail;
    if (!(frame & 2)) v->flags |= ZM_JSON_F_PLAIN;
    sp = first;
    *sp++ = (uintptr_t)v;
    in_obj = depth && (P->frames[depth - 1] & 1);
    goto after_value;
}

too_deep:
    fail_opt(P, ZM_EDEPTH, p, ZM_JSON_OPTION_MAX_DEPTH,
             "nesting deeper than the limit of %u levels", (unsigned)P->max_depth);
    goto fail;

done:
    SKIP_WS();
    if (p != P->end) {
        fail_token(P, p, "the end of the input after the JSON value", false);
        goto fail;
    }
    return ZM_OK;

fail:
    return P->status;
#undef SKIP_WS
#undef GUESS_WS
#undef NEW_NODE
}

/* ---------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------- */

/* Fills err from P (line and column counted in the caller's text). */
static void report(const parser *P, size_t len, zm_json_error *err) {
    if (err == NULL) return;
    memset(err, 0, sizeof *err);
    err->status = P->status;
    if (P->status == ZM_OK) return;
    size_t off = P->err_off < len ? P->err_off : len;
    size_t line = 1, line_start = 0;
    const char *t = P->text, *q;
    while (t != NULL && (q = memchr(t + line_start, '\n', off - line_start)) != NULL) {
        line++;
        line_start = (size_t)(q - t) + 1;
    }
    err->offset = off;
    err->line = line;
    err->column = off - line_start + 1;
    err->option = P->option;
    err->note_at = P->option != ZM_JSON_OPTION_NONE ? P->note_at : 0;
    memcpy(err->message, P->msg, sizeof err->message);
}

static void report_simple(zm_json_error *err, zm_status st, const char *msg) {
    if (err == NULL) return;
    memset(err, 0, sizeof *err);
    err->status = st;
    err->line = err->column = 1;
    snprintf(err->message, sizeof err->message, "%s", msg);
}

/* Parses text into ar, its scratch stacks growing from scratch. The main loop
   (run, inlined here) starts on a 64-byte boundary: its speed on documents of
   strings moved by 1 to 2% with where the code before it happened to end. */
static __attribute__((aligned(64))) zm_status parse_into(zm_arena *ar, zm_allocator scratch,
                                                         const char *text, size_t len,
                                                         const zm_json_parse_opts *opts,
                                                         zm_json **root, zm_json_error *err) {
    uintptr_t stk[LOCAL_WORDS];
    size_t frames[LOCAL_FRAMES];
    parser P;
    memset(&P, 0, sizeof P);
    P.text = text;
    P.ar = ar;
    P.scratch = scratch;
    P.flags = opts ? opts->flags : 0;
    P.utf8 = P.flags & ZM_JSON_ALLOW_LONE_SURROGATES ? ZM_JSON_F_WTF8 : ZM_JSON_F_UTF8;
    P.max_depth = opts && opts->max_depth ? opts->max_depth : ZM_JSON_DEFAULT_MAX_DEPTH;
    P.dup = opts ? opts->dup_keys : ZM_JSON_DUP_ERROR;
    P.stk = stk;
    P.stk_cap = LOCAL_WORDS;
    P.frames = frames;
    P.frames_cap = LOCAL_FRAMES;

    if (len > SIZE_MAX - PAD - 64) {
        report_simple(err, ZM_ELIMIT, "input too large");
        return ZM_ELIMIT;
    }
    P.buf = zm_arena_alloc(ar, len + PAD, 8);
    if (P.buf == NULL) {
        report_simple(err, ZM_ENOMEM, "out of memory");
        return ZM_ENOMEM;
    }
    if (len) memcpy(P.buf, text, len);
    memset(P.buf + len, 0, PAD);
    P.end = P.buf + len;

    zm_status st = run(&P);
    if (st == ZM_OK) {
        *root = (zm_json *)P.stk[0];
    }
    zm__stack_free(scratch, P.stk, P.stk_cap, sizeof(uintptr_t), P.stk_heap);
    zm__stack_free(scratch, P.frames, P.frames_cap, sizeof(size_t), P.frames_heap);
    report(&P, len, err);
    return st;
}

/* The first block of a document's arena: the copy of the text plus about
   twice as much for the values (documents measured need 2.2 to 4.6 times
   their text), so that most documents need one block. */
static size_t first_block(size_t len) {
    size_t want = len < SIZE_MAX / 4 ? 3 * len + 1024 : SIZE_MAX / 2;
    return want < ZM_ARENA_DEFAULT_BLOCK ? ZM_ARENA_DEFAULT_BLOCK : want;
}

zm_status zm_json_parse(zm_allocator a, const char *text, size_t len,
                        const zm_json_parse_opts *opts, zm_json_doc **doc, zm_json_error *err) {
    if (doc == NULL || (text == NULL && len != 0)) {
        report_simple(err, ZM_EINVAL, "invalid argument");
        return ZM_EINVAL;
    }
    *doc = NULL;
    zm_arena ar;
    zm_arena_init_sized(&ar, a, first_block(len));
    zm_json_doc *d = zm_arena_new(&ar, zm_json_doc);
    if (d == NULL) {
        zm_arena_deinit(&ar);
        report_simple(err, ZM_ENOMEM, "out of memory");
        return ZM_ENOMEM;
    }
    zm_json *root = NULL;
    zm_status st = parse_into(&ar, a, text ? text : "", len, opts, &root, err);
    if (st != ZM_OK) {
        zm_arena_deinit(&ar);
        return st;
    }
    d->root = root;
    d->arena = ar; /* the arena's blocks do not point back at the struct */
    *doc = d;
    return ZM_OK;
}

zm_json *zm_json_doc_root(const zm_json_doc *doc) {
    return doc ? doc->root : NULL;
}

void zm_json_doc_free(zm_json_doc *doc) {
    if (doc == NULL) return;
    zm_arena ar = doc->arena; /* doc lives in the arena: copy it out first */
    zm_arena_deinit(&ar);
}

zm_status zm_json_parse_arena(zm_arena *ar, const char *text, size_t len,
                              const zm_json_parse_opts *opts, zm_json **root, zm_json_error *err) {
    if (ar == NULL || root == NULL || (text == NULL && len != 0)) {
        report_simple(err, ZM_EINVAL, "invalid argument");
        return ZM_EINVAL;
    }
    zm_arena_mark mark = zm_arena_save(ar);
    zm_json *r = NULL;
    zm_status st = parse_into(ar, ar->backing, text ? text : "", len, opts, &r, err);
    if (st != ZM_OK) {
        zm_arena_restore(ar, mark);
        return st;
    }
    *root = r;
    return ZM_OK;
}
