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

/* The parts, in order: each uses what the ones before it define. */
#include "parse_error.h"
#include "parse_text.h"
#include "parse_num.h"
#include "parse_close.h"

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
