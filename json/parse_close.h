/* Part of the parser (parse.c): laying out a container when it
 * closes, the scratch stacks, and arrays of numbers.
 *
 * Included by parse.c only, after the parser's type, so the parser stays one
 * translation unit and the compiler inlines across its parts (a split into
 * files compiled apart lost that inlining and was measured 2 to 3% slower). */
#ifndef ZMEM_JSON_PARSE_CLOSE_H
#define ZMEM_JSON_PARSE_CLOSE_H

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

#endif
