/* The writer: compact or pretty text, optional ASCII-only escaping, into a
 * buffer grown through an allocator or in chunks through a sink.
 *
 * Iterative (an explicit stack of open containers), so no nesting depth can
 * overflow the C stack. The write position lives in registers; room is made
 * ahead once per value (a string's worst case per chunk of input, a number's
 * longest text), so the inner loops write without checks. Numbers are made
 * in registers and stored in whole words (num.h, num_format.h); runs of
 * numbers in an array are written in a loop of their own, and so are runs of
 * small records (objects of scalars) and the members of an object whose keys
 * are plain, in compact text. Strings marked
 * ZM_JSON_F_PLAIN (parsed without an escape) are copied as they are; others
 * are validated as UTF-8 while they are escaped: parsed strings always are,
 * but built ones may not be.
 */
#include <math.h>

#include "internal.h"
#include "num_format.h"

typedef unsigned char u8;

/* The stream's buffer, and the most a single reserve may ask for in it. */
#define SINK_BUF    8192
#define MAX_RESERVE 4096
/* The growing buffer's first size, and the size from which it grows
   eightfold rather than fourfold. */
#define GROW_FIRST 4096
#define GROW_FAST  65536
/* Input bytes of a string escaped per reserve: at most 6 output bytes each
   (\u00XX), plus a character straddling the end and 16 bytes of over-store. */
#define STR_CHUNK   512
#define STR_RESERVE (6 * (STR_CHUNK + 16) + 64)

typedef struct writer {
    char *buf, *p, *end; /* the buffer, the write position, its end */
    zm_allocator a;      /* growing mode: where the buffer comes from */
    bool grow;
    zm_json_sink sink; /* stream mode */
    void *ctx;
    uint32_t flags;
    zm_status st; /* the first error */
} writer;

/* ---------------------------------------------------------------------------
 * The buffer
 * ------------------------------------------------------------------------- */

/* Makes room for n bytes at w->p: grows the buffer, or flushes it to the
   sink (n <= MAX_RESERVE in stream mode). */
static bool reserve_slow(writer *w, size_t n) {
    if (w->st != ZM_OK) return false;
    if (w->grow) {
        size_t used = (size_t)(w->p - w->buf), cap = (size_t)(w->end - w->buf);
        /* Grows fourfold, then eightfold from GROW_FAST bytes: every growth
           copies what was written (a 500 KB text copied 340 KB of it growing
           fourfold, 84 KB eightfold), and the unused end is given back by the
           in-place shrink at the end. */
        size_t ncap = cap ? cap : GROW_FIRST;
        while (ncap - used < n) {
            size_t f = ncap < GROW_FAST ? 4 : 8;
            if (ncap > SIZE_MAX / f) {
                w->st = ZM_ENOMEM;
                return false;
            }
            ncap *= f;
        }
        char *nb = zm_realloc(w->a, cap ? w->buf : NULL, cap, ncap, 1);
        if (nb == NULL) {
            w->st = ZM_ENOMEM;
            return false;
        }
        w->buf = nb;
        w->p = nb + used;
        w->end = nb + ncap;
        return true;
    }
    if (w->p > w->buf) {
        zm_status st = w->sink(w->ctx, w->buf, (size_t)(w->p - w->buf));
        if (st != ZM_OK) {
            w->st = st;
            return false;
        }
        w->p = w->buf;
    }
    return true;
}

static inline bool reserve(writer *w, size_t n) {
    return ZM_LIKELY((size_t)(w->end - w->p) >= n) || reserve_slow(w, n);
}

/* Writes n bytes of data, in chunks if need be. */
static bool put(writer *w, const char *data, size_t n) {
    while (n > 0) {
        size_t k = n < MAX_RESERVE ? n : MAX_RESERVE;
        if (!reserve(w, k)) return false;
        memcpy(w->p, data, k);
        w->p += k;
        data += k;
        n -= k;
    }
    return true;
}

/* A newline and depth levels of indentation. */
static bool newline(writer *w, size_t depth) {
    size_t n = depth * (w->flags & ZM_JSON_WRITE_INDENT4 ? 4 : 2);
    if (!reserve(w, 1)) return false;
    *w->p++ = '\n';
    while (n > 0) {
        size_t k = n < MAX_RESERVE ? n : MAX_RESERVE;
        if (!reserve(w, k)) return false;
        memset(w->p, ' ', k);
        w->p += k;
        n -= k;
    }
    return true;
}

#include "write_str.h"

/* ---------------------------------------------------------------------------
 * Numbers
 * ------------------------------------------------------------------------- */

/* Writes i in decimal at o (at most 20 bytes, and whole 8-byte stores that may
   reach o + 9). Returns the end. */
static ZM__ALWAYS_INLINE char *put_int(char *o, int64_t i) {
    uint64_t u = (uint64_t)i;
    *o = '-';
    o += i < 0;
    u = i < 0 ? 0 - u : u;
    if (u <= UINT32_MAX) return zm__put_u32(o, (uint32_t)u);
    int n = zm__count_digits(u);
    zm__put_digits(o, u, n);
    return o + n;
}

/* put_int without the 32-bit branch: for the rows of numbers, mostly reals,
   whose loop is left as it was (the branch cost canada 1% more instructions). */
static ZM__ALWAYS_INLINE char *put_int_words(char *o, int64_t i) {
    uint64_t u = (uint64_t)i;
    *o = '-';
    o += i < 0;
    u = i < 0 ? 0 - u : u;
    int n = zm__count_digits(u);
    zm__put_digits(o, u, n);
    return o + n;
}

/* Writes a non-finite real, as NaN, Infinity or -Infinity when the flags allow
   it (else ZM_EINVAL); o has room for 16 bytes. Returns the end, or NULL. */
static char *put_nonfinite(writer *w, char *o, double d) {
    if (!(w->flags & ZM_JSON_WRITE_NAN_INF)) {
        w->st = ZM_EINVAL;
        return NULL;
    }
    const char *t = isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
    size_t n = strlen(t);
    memcpy(o, t, n);
    return o + n;
}

/* ---------------------------------------------------------------------------
 * The value walk
 * ------------------------------------------------------------------------- */

typedef struct wframe {
    const zm_json *v;
    size_t i;
} wframe;

/* Makes room for n bytes at o (the write position, kept in a register by the
   walk and handed back here). Returns the new position, or NULL. */
static char *room_slow(writer *w, char *o, size_t n) {
    w->p = o;
    return reserve_slow(w, n) ? w->p : NULL;
}

/* Writes the run of numbers (integers and finite reals) of the array c that
   starts with v, item *ip - 1, with the commas between them, at o (room ends at
   *endp). Stops after the array's last item (*vp = NULL) or before the first
   item that is not such a number (*vp = that item, its comma written, *ip past
   it). Out of line, with the double formatter inlined: coordinates, meshes and
   ids are written in a loop of their own. Returns the new position, or NULL. */
static __attribute__((noinline)) char *number_run(writer *w, char *o, char **endp, const zm_json *c,
                                                  size_t *ip, const zm_json **vp) {
    const zm_json *v = *vp;
    zm_json *const *items = c->u.a.items;
    size_t i = *ip, len = c->u.a.len;
    char *end = *endp;
    uint64_t bits;
    unsigned misses = 0; /* see zm__format_finite_with */
    /* The type test that ends the run also picks the branch of the next item. */
    if (v->type == ZM_JSON_INT) goto integer;
    memcpy(&bits, &v->u.d, sizeof bits);
real:
    if (ZM_UNLIKELY((size_t)(end - o) < ZM__DOUBLE_BUF + 2)) {
        if ((o = room_slow(w, o, ZM__DOUBLE_BUF + 2)) == NULL) return NULL;
        end = w->end;
    }
    o += zm__format_finite_with(bits, o, &misses);
    goto next;
integer:
    if (ZM_UNLIKELY((size_t)(end - o) < ZM__DOUBLE_BUF + 2)) {
        if ((o = room_slow(w, o, ZM__DOUBLE_BUF + 2)) == NULL) return NULL;
        end = w->end;
    }
    o = put_int(o, v->u.i);
next:
    if (i == len) {
        v = NULL;
        goto out;
    }
    *o++ = ',';
    v = items[i++];
    if (v == NULL) goto out;
    if (v->type == ZM_JSON_INT) goto integer;
    if (v->type != ZM_JSON_REAL) goto out;
    memcpy(&bits, &v->u.d, sizeof bits);
    if (((bits >> 52) & 0x7FF) != 0x7FF) goto real; /* finite */
out:
    *ip = i;
    *vp = v;
    *endp = end;
    return o;
}

/* v is an integer or a finite real (the values number_run writes). */
static inline bool is_number(const zm_json *v) {
    return v != NULL && (v->type == ZM_JSON_INT || (v->type == ZM_JSON_REAL && isfinite(v->u.d)));
}

/* v is a non-empty array of numbers only (a row: a coordinate pair, a vertex). */
static inline bool is_number_row(const zm_json *v) {
    if (v == NULL || v->type != ZM_JSON_ARRAY || v->u.a.len == 0) return false;
    for (size_t k = 0; k < v->u.a.len; k++)
        if (!is_number(v->u.a.items[k])) return false;
    return true;
}

/* Room row_run keeps ahead of its position: a number (at most ZM__DOUBLE_BUF
   bytes written, scratch included) and the punctuation after it ("],["). */
#define ROW_ROOM (ZM__DOUBLE_BUF + 8)
/* Rows of up to this many items are written without being checked first:
   room for the whole row is made before it, and the row is taken back (the
   position returned to its '[') at its first item that is not a number. */
#define ROW_SHORT 8

/* Writes the run of rows of numbers (is_number_row) of the array c that starts
   with v, item *ip - 1, with the commas between them, at o (room ends at
   *endp), as number_run does for numbers: a coordinate pair or a vertex is
   written here without a frame of the walk. Stops after the array's last item
   (*vp = NULL) or before the first item that is not such a row (*vp = that
   item, its comma written, *ip past it). Returns the new position, or NULL. */
static __attribute__((noinline)) char *row_run(writer *w, char *o, char **endp, const zm_json *c,
                                               size_t *ip, const zm_json **vp) {
    const zm_json *v = *vp;
    size_t i = *ip, len = c->u.a.len;
    char *end = *endp;
    for (;;) {
        zm_json *const *items = v->u.a.items;
        size_t rlen = v->u.a.len;
        if (ZM_LIKELY(rlen <= ROW_SHORT)) {
            /* a short row, taken back if it is not all numbers */
            if (ZM_UNLIKELY((size_t)(end - o) < ROW_SHORT * ROW_ROOM)) {
                if ((o = room_slow(w, o, ROW_SHORT * ROW_ROOM)) == NULL) return NULL;
                end = w->end;
            }
            char *start = o;
            *o++ = '[';
            for (size_t j = 0;;) {
                const zm_json *x = items[j];
                if (x == NULL) goto undo;
                if (x->type == ZM_JSON_INT) {
                    o = put_int_words(o, x->u.i);
                } else {
                    uint64_t bits;
                    memcpy(&bits, &x->u.d, sizeof bits);
                    if (x->type != ZM_JSON_REAL || ((bits >> 52) & 0x7FF) == 0x7FF) goto undo;
                    o += zm__format_finite_inline(bits, o);
                }
                if (++j == rlen) break;
                *o++ = ',';
            }
            goto row_end;
        undo:
            o = start;
            break;
        }
        if (!is_number_row(v)) break;
        if (ZM_UNLIKELY((size_t)(end - o) < ROW_ROOM)) {
            if ((o = room_slow(w, o, ROW_ROOM)) == NULL) return NULL;
            end = w->end;
        }
        *o++ = '[';
        for (size_t j = 0;;) {
            const zm_json *x = items[j];
            if (x->type == ZM_JSON_INT)
                o = put_int_words(o, x->u.i);
            else
                o += zm__format_double_inline(x->u.d, o);
            if (++j == rlen) break;
            *o++ = ',';
            if (ZM_UNLIKELY((size_t)(end - o) < ROW_ROOM)) {
                if ((o = room_slow(w, o, ROW_ROOM)) == NULL) return NULL;
                end = w->end;
            }
        }
    row_end:
        *o++ = ']';
        if (i == len) {
            v = NULL;
            break;
        }
        *o++ = ',';
        v = c->u.a.items[i++];
        if (v == NULL || v->type != ZM_JSON_ARRAY || v->u.a.len == 0) break;
    }
    *ip = i;
    *vp = v;
    *endp = end;
    return o;
}

/* The literals: null, true or false, and an empty array or object, at o (with
   room made). Each returns the end. */
static ZM__ALWAYS_INLINE char *put_null(char *o) {
    memcpy(o, "null", 4);
    return o + 4;
}

static ZM__ALWAYS_INLINE char *put_bool(char *o, bool b) {
    if (b) {
        memcpy(o, "true", 4);
        return o + 4;
    }
    memcpy(o, "false", 5);
    return o + 5;
}

static ZM__ALWAYS_INLINE char *put_empty(char *o, const char pair[2]) {
    memcpy(o, pair, 2);
    return o + 2;
}

/* A flat object: 1 to FLAT_MAX members, plain keys of up to FLAT_KEY bytes, and
   values that are scalars, plain strings or empty containers. FLAT_MEMBER is
   the room one member takes: its key quoted, with the copy's over-store, ':'
   and a scalar's text (as ROOM(48) in the walk) or a string of up to FLAT_KEY
   bytes; a longer string is written when the room made holds it too. */
#define FLAT_MAX    16
#define FLAT_KEY    32
#define FLAT_MEMBER (FLAT_KEY + 2 + 16 + 1 + 48)

/* v may be a flat object: an object of 1 to FLAT_MAX members, plain keys. */
static inline bool flat_candidate(const zm_json *v) {
    return v != NULL && v->type == ZM_JSON_OBJECT && (v->flags & ZM_JSON_F_PLAIN) &&
           v->u.o.len - 1 < FLAT_MAX;
}

/* The flat_candidate v is flat: every member's value is a scalar, a plain
   string or an empty container, and every key fits FLAT_KEY (flat_object can
   still refuse a long string when the room is short). Checked on the first
   object of an array before writing it, so that an array of records that are
   not flat costs one check, not one abandoned write per item. */
static bool flat_scan(const zm_json *v) {
    const zm_json_member *m = v->u.o.items, *mend = m + v->u.o.len;
    for (; m < mend; m++) {
        const zm_json *x = m->value;
        if (m->key_len > FLAT_KEY || x == NULL) return false;
        switch (x->type) {
        case ZM_JSON_NULL:
        case ZM_JSON_BOOL:
        case ZM_JSON_INT: break;
        case ZM_JSON_ARRAY:
            if (x->u.a.len != 0) return false;
            break;
        case ZM_JSON_OBJECT:
            if (x->u.o.len != 0) return false;
            break;
        case ZM_JSON_STRING:
            if (!(x->flags & ZM_JSON_F_PLAIN)) return false;
            break;
        default: return false;
        }
    }
    return true;
}

/* Writes the flat_candidate v at o, which has room for v->u.o.len * FLAT_MEMBER
   + 3 bytes (room ends at end). Returns the end, or NULL when v is not flat
   after all (a member holds something else, or a string longer than the room
   left): what was written past o is then left to be overwritten. */
static ZM__ALWAYS_INLINE char *flat_object(char *o, const char *end, const zm_json *v) {
    const zm_json_member *m = v->u.o.items, *mend = m + v->u.o.len;
    *o++ = '{';
    for (;;) {
        size_t kl = m->key_len;
        if (kl > FLAT_KEY) return NULL;
        o = plain_string(o, m->key ? m->key : "", kl);
        *o++ = ':';
        const zm_json *x = m->value;
        if (x == NULL) return NULL;
        switch (x->type) {
        case ZM_JSON_INT: o = put_int(o, x->u.i); break;
        case ZM_JSON_NULL: o = put_null(o); break;
        case ZM_JSON_BOOL: o = put_bool(o, x->u.b); break;
        case ZM_JSON_ARRAY:
            if (x->u.a.len != 0) return NULL;
            o = put_empty(o, "[]");
            break;
        case ZM_JSON_OBJECT:
            if (x->u.o.len != 0) return NULL;
            o = put_empty(o, "{}");
            break;
        case ZM_JSON_STRING:
            if (!(x->flags & ZM_JSON_F_PLAIN) || x->u.s.len > PLAIN_MAX) return NULL;
            if (x->u.s.len > FLAT_KEY &&
                (size_t)(end - o) < x->u.s.len + 3 + (size_t)(mend - m) * FLAT_MEMBER)
                return NULL;
            o = plain_string(o, x->u.s.ptr, x->u.s.len);
            break;
        default: return NULL;
        }
        if (++m == mend) break;
        *o++ = ',';
    }
    *o++ = '}';
    return o;
}

/* Writes the run of flat objects (flat_candidate, then flat_object) of the
   array c that starts with v, item *ip - 1, with the commas between them, at o
   (room ends at *endp), as number_run does for numbers: the small records of
   an array (ids and amounts, an id and an empty list) are written here without
   a frame of the walk. Stops after the array's last item (*vp = NULL) or before
   the first item that is not a flat object (*vp = that item, its comma written,
   *ip past it). Returns the new position, or NULL. */
static __attribute__((noinline)) char *object_run(writer *w, char *o, char **endp, const zm_json *c,
                                                  size_t *ip, const zm_json **vp) {
    const zm_json *v = *vp;
    zm_json *const *items = c->u.a.items;
    size_t i = *ip, len = c->u.a.len;
    char *end = *endp;
    for (;;) {
        size_t need = v->u.o.len * FLAT_MEMBER + 3; /* and the comma after it */
        if (ZM_UNLIKELY((size_t)(end - o) < need)) {
            if ((o = room_slow(w, o, need)) == NULL) return NULL;
            end = w->end;
        }
        char *e = flat_object(o, end, v);
        if (e == NULL) break; /* written by the walk, over what was written here */
        o = e;
        if (i == len) {
            v = NULL;
            break;
        }
        *o++ = ',';
        v = items[i++];
        if (!flat_candidate(v)) break;
    }
    *ip = i;
    *vp = v;
    *endp = end;
    return o;
}

/* Writes v. The write position and the end of the room are kept in locals (o,
   end) and handed to the writer only around the calls that need it; room for
   the next few tokens is made once per value (ROOM), so scalars and short
   strings are written without checks. The container being written is kept in
   locals too (c, i, len); its ancestors go on a stack that grows from stack_a
   past 64 levels.
   Both walk and write_string start on a 64-byte boundary, so that their speed
   does not depend on the size of the code linked before them. */
static __attribute__((aligned(64))) zm_status walk(writer *w, const zm_json *v,
                                                   zm_allocator stack_a) {
    const bool pretty = (w->flags & ZM_JSON_WRITE_PRETTY) != 0;
    const bool ascii = (w->flags & ZM_JSON_WRITE_ASCII) != 0;
    const bool fast = !pretty && !ascii; /* plain text is copied as it is */
    wframe local[64];
    void *stack = local;
    size_t cap = 64, n = 0;
    bool on_heap = false;
    const zm_json *c = NULL; /* the open container, NULL at the root */
    size_t i = 0, len = 0;   /* its next child, its length */
    bool obj = false;
    char *o = w->p, *end = w->end;
    const zm_json *not_flat = NULL; /* an array whose run of flat objects ended early */

/* Room for k bytes at o. */
#define ROOM(k)                                                                                    \
    do {                                                                                           \
        if (ZM_UNLIKELY((size_t)(end - o) < (k))) {                                                \
            if ((o = room_slow(w, o, (k))) == NULL) goto fail;                                     \
            end = w->end;                                                                          \
        }                                                                                          \
    } while (0)
/* Runs call (which writes through w) with the position handed over. */
#define SYNC(call)                                                                                 \
    do {                                                                                           \
        w->p = o;                                                                                  \
        bool ok_ = (call);                                                                         \
        o = w->p;                                                                                  \
        end = w->end;                                                                              \
        if (!ok_) goto fail;                                                                       \
    } while (0)

value:
    ROOM(48); /* a scalar's text (a double's is at most ZM__DOUBLE_BUF), a short
                 string, an opening bracket */
value_roomed:
    switch (zm_json_typeof(v)) {
    case ZM_JSON_NULL: o = put_null(o); break;
    case ZM_JSON_BOOL: o = put_bool(o, v->u.b); break;
    case ZM_JSON_INT: o = put_int(o, v->u.i); break;
    case ZM_JSON_REAL:
        if (ZM_LIKELY(isfinite(v->u.d))) {
            o += zm__format_double(v->u.d, o);
        } else if ((o = put_nonfinite(w, o, v->u.d)) == NULL) {
            goto fail;
        }
        break;
    case ZM_JSON_NUMBER: SYNC(put(w, v->u.s.ptr, v->u.s.len)); break;
    case ZM_JSON_STRING: {
        size_t sl = v->u.s.len;
        if ((v->flags & ZM_JSON_F_PLAIN) && !ascii && sl <= PLAIN_MAX) {
            ROOM(sl + 2 + 16);
            o = plain_string(o, v->u.s.ptr, sl);
            break;
        }
        const bool strict = ascii || !(v->flags & ZM_JSON_F_UTF8);
        char *e = short_string(o, v->u.s.ptr, sl, strict);
        if (e)
            o = e;
        else
            SYNC(write_string(w, v->u.s.ptr, v->u.s.len, v->flags));
        break;
    }
    case ZM_JSON_ARRAY:
    case ZM_JSON_OBJECT: {
        bool ob = v->type == ZM_JSON_OBJECT;
        size_t vlen = ob ? v->u.o.len : v->u.a.len;
        *o++ = ob ? '{' : '[';
        if (vlen == 0) {
            *o++ = ob ? '}' : ']';
            break;
        }
        if (c != NULL) {
            if (n == cap &&
                !zm__stack_grow(stack_a, &stack, &cap, sizeof(wframe), &on_heap, n + 1)) {
                w->st = ZM_ENOMEM;
                goto fail;
            }
            ((wframe *)stack)[n++] = (wframe){c, i};
        }
        c = v;
        i = 0;
        len = vlen;
        obj = ob;
        goto child;
    }
    default: w->st = ZM_EINVAL; goto fail; /* not a value type */
    }

next:
    if (c == NULL) goto done;
    if (i == len) {
        if (pretty) SYNC(newline(w, n));
        ROOM(1);
        *o++ = obj ? '}' : ']';
        if (n == 0) goto done;
        wframe f = ((wframe *)stack)[--n];
        c = f.v;
        i = f.i;
        obj = c->type == ZM_JSON_OBJECT;
        len = obj ? c->u.o.len : c->u.a.len;
        goto next;
    }
    ROOM(1);
    *o++ = ',';
child:
    if (pretty) SYNC(newline(w, n + 1));
    if (obj && fast && (c->flags & ZM_JSON_F_PLAIN)) {
        /* Compact text, plain keys: the members are written in a loop of their
           own, with one room check each for the key and a scalar value, until
           one holds a non-empty container or a long string (written by the
           walk above, with its key written here). */
        const zm_json_member *items = c->u.o.items;
        for (;;) {
            const zm_json_member *m = &items[i++];
            size_t kl = m->key_len;
            if (ZM_UNLIKELY(kl > PLAIN_MAX)) {
                i--;
                goto member;
            }
            ROOM(kl + 2 + 16 + 1 + 48); /* the key, its over-store, ':', a value */
            o = plain_string(o, m->key ? m->key : "", kl);
            *o++ = ':';
            v = m->value;
            if (ZM_UNLIKELY(v == NULL)) goto value_roomed;
            switch (v->type) {
            case ZM_JSON_INT: o = put_int(o, v->u.i); break;
            case ZM_JSON_NULL: o = put_null(o); break;
            case ZM_JSON_ARRAY:
                if (v->u.a.len != 0) goto value_roomed;
                o = put_empty(o, "[]");
                break;
            case ZM_JSON_OBJECT:
                if (v->u.o.len != 0) goto value_roomed;
                o = put_empty(o, "{}");
                break;
            case ZM_JSON_STRING:
                if (!(v->flags & ZM_JSON_F_PLAIN) || v->u.s.len > 24) goto value_roomed;
                o = plain_string(o, v->u.s.ptr, v->u.s.len);
                break;
            default: goto value_roomed;
            }
            if (i == len) goto next;
            *o++ = ',';
        }
    }
    if (obj) {
    member:;
        const zm_json_member *m = &c->u.o.items[i++];
        const char *key = m->key ? m->key : "";
        size_t kl = m->key_len;
        if ((c->flags & ZM_JSON_F_PLAIN) && !ascii && kl <= PLAIN_MAX) {
            ROOM(kl + 2 + 16 + 2); /* the key, ':' and ' ' */
            o = plain_string(o, key, kl);
        } else {
            ROOM(24 + 2);
            char *e = short_string(o, key, kl, ascii || !(c->flags & ZM_JSON_F_UTF8));
            if (e) {
                o = e;
            } else {
                SYNC(write_string(w, key, kl, c->flags));
                ROOM(2);
            }
        }
        *o++ = ':';
        if (pretty) *o++ = ' ';
        v = m->value;
    } else {
        v = c->u.a.items[i++];
        /* runs of numbers (coordinates, meshes, ids) in a loop of their own */
        if (!pretty && v != NULL &&
            (v->type == ZM_JSON_INT || (v->type == ZM_JSON_REAL && isfinite(v->u.d)))) {
            if ((o = number_run(w, o, &end, c, &i, &v)) == NULL) goto fail;
            if (v == NULL) goto next;
        } else if (fast && c != not_flat && flat_candidate(v)) {
            /* tried once per array: the first object that is not flat ends it */
            if (!flat_scan(v)) {
                not_flat = c;
            } else {
                if ((o = object_run(w, o, &end, c, &i, &v)) == NULL) goto fail;
                if (v == NULL) goto next;
                if (v->type == ZM_JSON_OBJECT) not_flat = c;
            }
        } else if (!pretty && is_number_row(v)) {
            if ((o = row_run(w, o, &end, c, &i, &v)) == NULL) goto fail;
            if (v == NULL) goto next;
        }
    }
    goto value;

done:
    w->p = o;
fail:
    zm__stack_free(stack_a, stack, cap, sizeof(wframe), on_heap);
    return w->st;
#undef ROOM
#undef SYNC
}

/* ---------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------- */

zm_status zm_json_write(zm_allocator a, const zm_json *v, uint32_t flags, char **out,
                        size_t *out_len) {
    if (out == NULL || out_len == NULL) return ZM_EINVAL;
    writer w = {.a = a, .grow = true, .flags = flags};
    zm_status st = walk(&w, v, a);
    if (st == ZM_OK && reserve(&w, 1)) *w.p = '\0';
    st = w.st;
    size_t used = (size_t)(w.p - w.buf), cap = (size_t)(w.end - w.buf);
    if (st != ZM_OK) {
        zm_free(a, w.buf, cap, 1);
        return st;
    }
    char *buf = w.buf;
    if (cap != used + 1 && !zm_resize(a, w.buf, cap, 1, used + 1)) {
        buf = zm_realloc(a, w.buf, cap, used + 1, 1);
        if (buf == NULL) {
            zm_free(a, w.buf, cap, 1);
            return ZM_ENOMEM;
        }
    }
    *out = buf;
    *out_len = used;
    return ZM_OK;
}

zm_status zm_json_write_stream(zm_allocator a, const zm_json *v, uint32_t flags, zm_json_sink sink,
                               void *ctx) {
    if (sink == NULL) return ZM_EINVAL;
    char buf[SINK_BUF];
    writer w = {
        .buf = buf, .p = buf, .end = buf + sizeof buf, .sink = sink, .ctx = ctx, .flags = flags};
    zm_status st = walk(&w, v, a);
    if (st == ZM_OK && w.p > w.buf) st = sink(ctx, w.buf, (size_t)(w.p - w.buf));
    return st;
}

static zm_status file_sink(void *ctx, const char *data, size_t len) {
    return fwrite(data, 1, len, ctx) == len ? ZM_OK : ZM_EIO;
}

zm_status zm_json_write_file(zm_allocator a, const zm_json *v, uint32_t flags, FILE *f) {
    if (f == NULL) return ZM_EINVAL;
    zm_status st = zm_json_write_stream(a, v, flags, file_sink, f);
    if (st == ZM_OK && fflush(f) != 0) st = ZM_EIO;
    return st;
}
