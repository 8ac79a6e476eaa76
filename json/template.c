/* The JSON template cache: templates parsed once into the cache's own memory,
 * instantiated into callers' arenas by copying only the spine that leads to
 * placeholders and sharing every constant subtree.
 *
 * Memory. A template is one block from the cache's allocator, aligned to 8:
 * its record, its name and a compact copy of the parsed tree (nodes and
 * arrays, then hash indexes, then string bytes). A context gives its cache
 * the allocator of its JSON pool, so that a block freed by a replacement or
 * an eviction is reused by the next template of its size class. Nothing of a template ever lives in
 * a caller's arena, so resetting an arena cannot leave the cache pointing into it; and an instance
 * pins its template (an arena cleanup) so that evicting, replacing or removing the template cannot
 * leave the instance pointing into freed memory.
 *
 * Marking. Every node of a constant subtree carries ZM_JSON_F_SHARED: the
 * writer reads it, zm_json_free leaves it alone, instantiate links it as is.
 * The only unshared nodes of a template are placeholders (strings "{{name}}"),
 * strings with placeholders inside their text ("Hello {{who}}!"), and the
 * containers on the way to them (the spine).
 *
 * Instantiating. When a template is put, its spine is laid out once as an
 * image: the exact bytes of an instance's spine (nodes, item and member
 * arrays, hash indexes) as if it lived at the image's own address, with a
 * list of the pointer slots that point inside the image (relocations) and of
 * the slots that take a binding (holes). An instance is then one arena
 * allocation, one memcpy, a few pointer adjustments and one lookup per hole.
 * Each hole remembers the position at which its name was found in the last
 * bindings object, so that bindings of the same shape are looked up without
 * a scan (with duplicate keys in bindings, which one is used is unspecified).
 *
 * Strings with placeholders inside are split once, when the template is put,
 * into pieces: runs of constant text (pointing into the template's block) and
 * placeholder names. An instance's string is one arena allocation holding the
 * pieces' text end to end, a string binding's own text in place of its
 * placeholder and any other binding's compact JSON text.
 *
 * Not thread-safe: a cache belongs to one thread (or to one lock).
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>

#include "zmem/template.h"

#include "internal.h"

/* ---------------------------------------------------------------------------
 * Records
 * ------------------------------------------------------------------------- */

/* A run of a string with placeholders inside: constant text, or the name of
   a placeholder (both in the template's block). */
typedef struct piece {
    const char *p;
    size_t len;
    size_t hint; /* names: where the name was found in the last bindings */
    bool name;
} piece;

/* A slot of an instance that takes a binding, or a string made from one. */
typedef struct hole {
    size_t off;       /* of the slot (a zm_json *) from the start of the spine */
    const char *name; /* the placeholder's name (in the template's block) */
    size_t len;
    size_t hint;   /* where name was found in the last bindings */
    piece *pieces; /* a string with placeholders inside; NULL for "{{name}}" */
    size_t npieces, nnames;
    uint8_t flags; /* the template string's ZM_JSON_F_UTF8 and ZM_JSON_F_WTF8 */
} hole;

typedef struct tmpl tmpl;
struct tmpl {
    tmpl *prev, *next;        /* LRU list (live) or the retired list (replaced, still pinned) */
    tmpl *hnext;              /* hash chain */
    zm_template_cache *cache; /* NULL once the cache is destroyed under a live pin */
    zm_allocator a;           /* gives the block back */
    size_t block_len;         /* bytes of the one block holding all of this */
    size_t bytes;             /* counted against the budget (== block_len) */
    uint64_t hash;
    const char *name;
    size_t name_len;
    zm_json *root;      /* shared, a placeholder, or the start of a spine */
    char *image;        /* the spine as an instance has it; NULL when the root has none */
    size_t spine_bytes; /* its size */
    size_t *relocs;     /* offsets of the image's slots pointing into the image */
    size_t nrelocs;
    hole *holes; /* in document order; a root string's own hole when image is NULL */
    size_t nholes;
    uint64_t version; /* the caller's tag (zm_template_put_value) */
    size_t pins;      /* live instances */
    bool live;        /* reachable by name */
};

struct zm_template_cache {
    zm_allocator a;
    size_t budget;
    tmpl **buckets; /* nbuckets chains, a power of two */
    size_t nbuckets;
    tmpl *mru, *lru; /* live templates, most recently used first */
    tmpl *retired;   /* replaced or removed while pinned; freed at their last unpin */
    tmpl *last;      /* the template instantiated last (live), NULL if none */
    zm_template_stats st;
};

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

/* A template's block is aligned to 8, as everything in it is laid out (see
   layout), so that a JSON pool's size classes can hold it. */
#define BLOCK_ALIGN 8
_Static_assert(alignof(tmpl) <= BLOCK_ALIGN && alignof(zm_json) <= BLOCK_ALIGN &&
                   alignof(hole) <= BLOCK_ALIGN && alignof(piece) <= BLOCK_ALIGN,
               "a template's block is aligned to 8");

/* The hash of a template name: eight bytes at a time, multiply and fold.
   Names are short; this is on every instantiation. */
static uint64_t hash_name(const char *s, size_t len) {
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t h = len * k;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) h = (h ^ zm__load64(s + i)) * k, h ^= h >> 29;
    uint64_t tail = 0;
    if (i < len) memcpy(&tail, s + i, len - i);
    h = (h ^ tail) * k;
    return h ^ (h >> 32);
}

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* Fills *err (when not NULL) with st and a formatted message. */
static void set_err(zm_json_error *err, zm_status st, const char *fmt, ...) PRINTF_LIKE(3, 4);

static void set_err(zm_json_error *err, zm_status st, const char *fmt, ...) {
    if (err == NULL) return;
    memset(err, 0, sizeof *err);
    err->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* memcmp(a, b, n) == 0 for the short names and keys of templates, without a
   call. */
static inline bool bytes_eq(const char *a, const char *b, size_t n) {
    if (n >= 8) {
        for (size_t i = 0; i + 8 <= n; i += 8)
            if (zm__load64(a + i) != zm__load64(b + i)) return false;
        return zm__load64(a + n - 8) == zm__load64(b + n - 8);
    }
    if (n >= 4)
        return zm__load32(a) == zm__load32(b) && zm__load32(a + n - 4) == zm__load32(b + n - 4);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

/* Bytes of a name worth quoting in a message. */
static int quoted_len(size_t len) {
    return len > 100 ? 100 : (int)len;
}

/* ---------------------------------------------------------------------------
 * The LRU list and the name table
 * ------------------------------------------------------------------------- */

static void list_unlink(zm_template_cache *tc, tmpl *t) {
    if (t->prev)
        t->prev->next = t->next;
    else if (t->live)
        tc->mru = t->next;
    else
        tc->retired = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else if (t->live)
        tc->lru = t->prev;
    t->prev = t->next = NULL;
}

static void lru_push_front(zm_template_cache *tc, tmpl *t) {
    t->prev = NULL;
    t->next = tc->mru;
    if (tc->mru)
        tc->mru->prev = t;
    else
        tc->lru = t;
    tc->mru = t;
}

static tmpl **find_slot(const zm_template_cache *tc, const char *name, size_t len, uint64_t h) {
    if (tc->nbuckets == 0) return NULL;
    tmpl **slot = &tc->buckets[h & (tc->nbuckets - 1)];
    while (*slot != NULL) {
        tmpl *t = *slot;
        if (t->hash == h && t->name_len == len && bytes_eq(t->name, name, len)) return slot;
        slot = &t->hnext;
    }
    return slot;
}

static tmpl *lookup(const zm_template_cache *tc, const char *name) {
    size_t len = strlen(name);
    tmpl **slot = find_slot(tc, name, len, hash_name(name, len));
    return slot ? *slot : NULL;
}

/* Makes room in the table for one more template. ZM_OK or ZM_ENOMEM. */
static zm_status table_reserve(zm_template_cache *tc) {
    if (tc->st.templates + 1 <= tc->nbuckets) return ZM_OK;
    size_t n = tc->nbuckets ? tc->nbuckets * 2 : 16;
    tmpl **b = zm_alloc_array(tc->a, tmpl *, n);
    if (b == NULL) return ZM_ENOMEM;
    memset(b, 0, n * sizeof *b);
    for (size_t i = 0; i < tc->nbuckets; i++) {
        tmpl *t = tc->buckets[i];
        while (t != NULL) {
            tmpl *next = t->hnext;
            t->hnext = b[t->hash & (n - 1)];
            b[t->hash & (n - 1)] = t;
            t = next;
        }
    }
    zm_free_array(tc->a, tc->buckets, tc->nbuckets);
    tc->buckets = b;
    tc->nbuckets = n;
    return ZM_OK;
}

static void tmpl_free(tmpl *t) {
    zm_free(t->a, t, t->block_len, BLOCK_ALIGN);
}

/* Takes a live template out of the table and the LRU list. It is freed now,
   or, when instances pin it, at its last unpin. */
static void retire(zm_template_cache *tc, tmpl *t) {
    if (tc->last == t) tc->last = NULL;
    tmpl **slot = find_slot(tc, t->name, t->name_len, t->hash);
    if (slot && *slot == t) *slot = t->hnext;
    t->hnext = NULL;
    list_unlink(tc, t);
    t->live = false;
    tc->st.templates--;
    if (t->pins == 0) {
        tc->st.bytes -= t->bytes;
        tmpl_free(t);
        return;
    }
    t->prev = NULL;
    t->next = tc->retired;
    if (tc->retired) tc->retired->prev = t;
    tc->retired = t;
}

/* Evicts least recently used unpinned templates, other than keep, until the
   cache is within its budget or nothing more can go. */
static void evict(zm_template_cache *tc, const tmpl *keep) {
    if (tc->budget == 0) return;
    tmpl *t = tc->lru;
    while (tc->st.bytes > tc->budget && t != NULL) {
        tmpl *prev = t->prev;
        if (t != keep && t->pins == 0) {
            retire(tc, t);
            tc->st.evictions++;
        }
        t = prev;
    }
}

/* ---------------------------------------------------------------------------
 * Pins
 * ------------------------------------------------------------------------- */

static void pin(zm_template_cache *tc, tmpl *t) {
    if (t->pins++ == 0) tc->st.pinned++;
}

/* The arena cleanup an instance registers: drops its pin, frees a retired
   template at its last pin, and evicts what the pin had kept past the budget. */
static void unpin(void *arg) {
    tmpl *t = arg;
    if (t->pins == 0) return; /* never: keeps a bug from wrapping the count */
    if (--t->pins != 0) return;
    zm_template_cache *tc = t->cache;
    if (tc == NULL) { /* the cache was destroyed first: the template is on its own */
        tmpl_free(t);
        return;
    }
    tc->st.pinned--;
    if (!t->live) {
        list_unlink(tc, t);
        tc->st.bytes -= t->bytes;
        tmpl_free(t);
        return;
    }
    evict(tc, NULL);
}

/* ---------------------------------------------------------------------------
 * Putting a template: measure the parsed tree, then copy it into one block,
 * marking constant subtrees shared and summing what an instance's spine takes.
 * ------------------------------------------------------------------------- */

/* True for the bytes that end a placeholder's name: braces and white space. */
static inline bool stops_name(char c) {
    return c == '{' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The end of the placeholder "{{name}}" that starts at s[i] (s is n bytes):
   the index just past its "}}", or 0 when none starts there. A name is not
   empty and holds no brace and no white space ("{{ name }}" is plain text). */
static size_t placeholder_at(const char *s, size_t n, size_t i) {
    if (n - i < 5 || s[i] != '{' || s[i + 1] != '{') return 0;
    size_t j = i + 2;
    while (j < n && !stops_name(s[j])) j++;
    if (j == i + 2 || n - j < 2 || s[j] != '}' || s[j + 1] != '}') return 0;
    return j + 2;
}

/* The number of placeholders in s (n bytes), scanning left to right. */
static size_t count_names(const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i + 5 <= n;) {
        const char *b = memchr(s + i, '{', n - i);
        if (b == NULL) break;
        i = (size_t)(b - s);
        size_t e = placeholder_at(s, n, i);
        if (e != 0) {
            k++;
            i = e;
        } else {
            i++;
        }
    }
    return k;
}

/* True when v is a placeholder: a string that is exactly "{{name}}". */
static bool is_placeholder(const zm_json *v) {
    return v->type == ZM_JSON_STRING && v->u.s.len >= 5 &&
           placeholder_at(v->u.s.ptr, v->u.s.len, 0) == v->u.s.len;
}

/* True when string v holds a placeholder, whole or inside its text. */
static bool is_templated(const zm_json *v) {
    return v->type == ZM_JSON_STRING && count_names(v->u.s.ptr, v->u.s.len) != 0;
}

typedef struct sizes {
    size_t n8;      /* nodes, item and member arrays */
    size_t n4;      /* hash indexes */
    size_t n1;      /* string and key bytes, each with a NUL */
    size_t spine;   /* bytes of the spine image */
    size_t nrelocs; /* its slots pointing into itself */
    size_t nholes;  /* its slots taking a binding */
    size_t npieces; /* pieces of strings with placeholders inside */
} sizes;

static bool add_ok(size_t *acc, size_t n) {
    if (n > SIZE_MAX / 4 - *acc) return false;
    *acc += n;
    return true;
}

/* Bytes a spine copy of container v takes. */
static size_t spine_size(const zm_json *v) {
    if (v->type == ZM_JSON_ARRAY)
        return ALIGN8(sizeof(zm_json)) + ALIGN8(v->u.a.len * sizeof(zm_json *));
    size_t index = v->u.o.index != NULL ? (size_t)v->hash_cap * sizeof(uint32_t) : 0;
    return ALIGN8(sizeof(zm_json)) + ALIGN8(v->u.o.len * sizeof(zm_json_member)) + ALIGN8(index);
}

/* Adds what v's compact copy and spine image take to *sz; *ph tells whether
   v holds a placeholder. False on overflow. */
static bool measure(const zm_json *v, sizes *sz, bool *ph) {
    *ph = false;
    if (!add_ok(&sz->n8, ALIGN8(sizeof(zm_json)))) return false;
    size_t n, spine_children = 0, holes = 0;
    switch (v->type) {
    case ZM_JSON_STRING:
        if ((n = count_names(v->u.s.ptr, v->u.s.len)) != 0) {
            *ph = true;
            if (!is_placeholder(v) && !add_ok(&sz->npieces, 2 * n + 1)) return false;
        }
        return add_ok(&sz->n1, v->u.s.len + 1);
    case ZM_JSON_NUMBER: return add_ok(&sz->n1, v->u.s.len + 1);
    case ZM_JSON_ARRAY:
        n = v->u.a.len;
        if (n > SIZE_MAX / 4 / sizeof(zm_json *)) return false;
        if (!add_ok(&sz->n8, ALIGN8(n * sizeof(zm_json *)))) return false;
        for (size_t i = 0; i < n; i++) {
            const zm_json *c = v->u.a.items[i];
            bool cph;
            if (!measure(c, sz, &cph)) return false;
            if (cph && c->type == ZM_JSON_STRING)
                holes++;
            else if (cph)
                spine_children++;
        }
        break;
    case ZM_JSON_OBJECT:
        n = v->u.o.len;
        if (n > SIZE_MAX / 4 / sizeof(zm_json_member)) return false;
        if (!add_ok(&sz->n8, ALIGN8(n * sizeof(zm_json_member)))) return false;
        if (v->u.o.index != NULL && !add_ok(&sz->n4, (size_t)v->hash_cap * sizeof(uint32_t)))
            return false;
        for (size_t i = 0; i < n; i++) {
            const zm_json *c = v->u.o.items[i].value;
            bool cph;
            if (!add_ok(&sz->n1, v->u.o.items[i].key_len + 1)) return false;
            if (!measure(c, sz, &cph)) return false;
            if (cph && c->type == ZM_JSON_STRING)
                holes++;
            else if (cph)
                spine_children++;
        }
        break;
    default: return true;
    }
    if (spine_children + holes == 0) return true;
    *ph = true;
    sz->nholes += holes;
    sz->nrelocs += 1 + (v->type == ZM_JSON_OBJECT && v->u.o.index != NULL) + spine_children;
    return add_ok(&sz->spine, spine_size(v));
}

/* Where the next bytes of each kind go while a template's block is filled. */
typedef struct bump {
    char *p8, *p4, *p1;
} bump;

static const char *copy_bytes(bump *b, const char *s, size_t len) {
    char *d = b->p1;
    if (len) memcpy(d, s, len);
    d[len] = '\0';
    b->p1 += len + 1;
    return d;
}

static bool is_shared(const zm_json *v) {
    return (v->flags & ZM_JSON_F_SHARED) != 0;
}

/* Copies v into the block, compactly. Every node of a subtree without a
   placeholder is marked shared. */
static zm_json *copy_tree(const zm_json *v, bump *b) {
    zm_json *c = (zm_json *)(void *)b->p8;
    b->p8 += ALIGN8(sizeof(zm_json));
    *c = *v;
    bool shared = true;
    switch (v->type) {
    case ZM_JSON_STRING:
    case ZM_JSON_NUMBER:
        c->u.s.ptr = copy_bytes(b, v->u.s.ptr, v->u.s.len);
        shared = !is_templated(v);
        break;
    case ZM_JSON_ARRAY: {
        size_t n = v->u.a.len;
        zm_json **items = (zm_json **)(void *)b->p8;
        b->p8 += ALIGN8(n * sizeof(zm_json *));
        for (size_t i = 0; i < n; i++) {
            items[i] = copy_tree(v->u.a.items[i], b);
            shared &= is_shared(items[i]);
        }
        c->u.a.items = items;
        c->u.a.cap = n;
        break;
    }
    case ZM_JSON_OBJECT: {
        size_t n = v->u.o.len;
        zm_json_member *m = (zm_json_member *)(void *)b->p8;
        b->p8 += ALIGN8(n * sizeof(zm_json_member));
        for (size_t i = 0; i < n; i++) {
            m[i].key = copy_bytes(b, v->u.o.items[i].key, v->u.o.items[i].key_len);
            m[i].key_len = v->u.o.items[i].key_len;
            m[i].value = copy_tree(v->u.o.items[i].value, b);
            shared &= is_shared(m[i].value);
        }
        c->u.o.items = m;
        c->u.o.cap = n;
        if (v->u.o.index != NULL) {
            size_t bytes = (size_t)v->hash_cap * sizeof(uint32_t);
            uint32_t *idx = (uint32_t *)(void *)b->p4;
            if (bytes) memcpy(idx, v->u.o.index, bytes);
            b->p4 += bytes;
            c->u.o.index = idx;
        }
        break;
    }
    default: break;
    }
    /* Everything here belongs to the block: nothing is owned separately. */
    c->flags = (uint8_t)(v->flags & ~(ZM_JSON_F_OWNS_STR | ZM_JSON_F_OWNS_KEYS | ZM_JSON_F_SHARED));
    if (shared) c->flags |= ZM_JSON_F_SHARED;
    return c;
}

/* Lays out the spine image of a template (see the top of the file). */
typedef struct imager {
    char *base, *p;
    size_t *relocs;
    size_t nrelocs;
    hole *holes;
    size_t nholes;
    piece *pieces; /* where the next pieces go */
} imager;

static void add_reloc(imager *im, void *slot) {
    im->relocs[im->nrelocs++] = (size_t)((char *)slot - im->base);
}

/* Fills *slot for child c of a spine node: c itself when it is shared, a
   hole when it is a placeholder, else a spine copy of c. */
static zm_json *image_node(const zm_json *t, imager *im);

/* Fills hole h for string c of the template: a placeholder's name, or the
   pieces of a string with placeholders inside (taken from *next). */
static void make_hole(hole *h, const zm_json *c, piece **next) {
    memset(h, 0, sizeof *h);
    const char *s = c->u.s.ptr;
    size_t n = c->u.s.len;
    h->flags = (uint8_t)(c->flags & (ZM_JSON_F_UTF8 | ZM_JSON_F_WTF8));
    if (is_placeholder(c)) {
        h->name = s + 2;
        h->len = n - 4;
        return;
    }
    piece *p = *next;
    h->pieces = p;
    size_t lit = 0; /* start of the constant text not yet in a piece */
    for (size_t i = 0; i + 5 <= n;) {
        size_t e = placeholder_at(s, n, i);
        if (e == 0) {
            i++;
            continue;
        }
        if (i > lit) *p++ = (piece){s + lit, i - lit, 0, false};
        *p++ = (piece){s + i + 2, e - i - 4, 0, true};
        if (h->nnames++ == 0) h->name = s + i + 2, h->len = e - i - 4;
        i = lit = e;
    }
    if (n > lit) *p++ = (piece){s + lit, n - lit, 0, false};
    h->npieces = (size_t)(p - h->pieces);
    *next = p;
}

static void image_child(zm_json **slot, const zm_json *c, imager *im) {
    if (is_shared(c)) {
        *slot = (zm_json *)c;
    } else if (c->type == ZM_JSON_STRING) {
        hole *h = &im->holes[im->nholes++];
        make_hole(h, c, &im->pieces);
        h->off = (size_t)((char *)slot - im->base);
        *slot = (zm_json *)c; /* the image reads as the template until filled */
    } else {
        *slot = image_node(c, im);
        add_reloc(im, slot);
    }
}

static zm_json *image_node(const zm_json *t, imager *im) {
    zm_json *c = (zm_json *)(void *)im->p;
    im->p += ALIGN8(sizeof(zm_json));
    *c = *t;
    if (t->type == ZM_JSON_ARRAY) {
        size_t n = t->u.a.len;
        zm_json **items = (zm_json **)(void *)im->p;
        im->p += ALIGN8(n * sizeof(zm_json *));
        c->u.a.items = items;
        add_reloc(im, &c->u.a.items);
        for (size_t i = 0; i < n; i++) image_child(&items[i], t->u.a.items[i], im);
    } else {
        size_t n = t->u.o.len;
        zm_json_member *m = (zm_json_member *)(void *)im->p;
        im->p += ALIGN8(n * sizeof(zm_json_member));
        memcpy(m, t->u.o.items, n * sizeof *m);
        c->u.o.items = m;
        add_reloc(im, &c->u.o.items);
        for (size_t i = 0; i < n; i++) image_child(&m[i].value, t->u.o.items[i].value, im);
        if (t->u.o.index != NULL) {
            size_t bytes = (size_t)t->hash_cap * sizeof(uint32_t);
            if (bytes) memcpy(im->p, t->u.o.index, bytes);
            c->u.o.index = (uint32_t *)(void *)im->p;
            im->p += ALIGN8(bytes);
            add_reloc(im, &c->u.o.index);
        }
    }
    return c;
}

/* Where each part of a template's block goes:
   [record][nodes, arrays][spine image][holes][relocations][pieces][indexes]
   [bytes]. */
typedef struct layout {
    sizes sz;
    size_t name_len;
    size_t off_image, off_holes, off_relocs, off_pieces, off_index, off_bytes, total;
} layout;

/* Lays out the block of a template called name (name_len bytes) made of
   root. False when the sizes overflow. */
static bool lay_out(size_t name_len, const zm_json *root, layout *l) {
    memset(l, 0, sizeof *l);
    l->name_len = name_len;
    bool ph;
    if (!measure(root, &l->sz, &ph) || !add_ok(&l->sz.n1, name_len + 1)) return false;
    if (ph && root->type == ZM_JSON_STRING) l->sz.nholes++; /* the root's own hole */
    if (l->sz.nholes > SIZE_MAX / 4 / sizeof(hole) || l->sz.nrelocs > SIZE_MAX / 4 / 8 ||
        l->sz.npieces > SIZE_MAX / 4 / sizeof(piece))
        return false;
    size_t off = ALIGN8(sizeof(tmpl));
    if (!add_ok(&off, l->sz.n8)) return false;
    l->off_image = off;
    if (!add_ok(&off, l->sz.spine)) return false;
    l->off_holes = off;
    if (!add_ok(&off, l->sz.nholes * sizeof(hole))) return false;
    l->off_relocs = off;
    if (!add_ok(&off, l->sz.nrelocs * sizeof(size_t))) return false;
    l->off_pieces = off;
    if (!add_ok(&off, l->sz.npieces * sizeof(piece))) return false;
    l->off_index = off;
    if (!add_ok(&off, ALIGN8(l->sz.n4))) return false;
    l->off_bytes = off;
    if (!add_ok(&off, l->sz.n1)) return false;
    l->total = off;
    return true;
}

/* Builds the template record for name and root in one block from the
   cache's allocator (see layout). */
static zm_status make_template(zm_template_cache *tc, const char *name, const zm_json *root,
                               tmpl **out, zm_json_error *err) {
    layout l;
    if (!lay_out(strlen(name), root, &l)) return ZM_ENOMEM;
    if (tc->budget != 0 && l.total > tc->budget) {
        set_err(err, ZM_ELIMIT, "template needs %zu bytes, more than the cache's budget of %zu",
                l.total, tc->budget);
        return ZM_ELIMIT;
    }
    char *block = zm_alloc(tc->a, l.total, BLOCK_ALIGN);
    if (block == NULL) return ZM_ENOMEM;
    tmpl *t = (tmpl *)(void *)block;
    memset(t, 0, sizeof *t);
    bump b = {block + ALIGN8(sizeof(tmpl)), block + l.off_index, block + l.off_bytes};
    t->name = copy_bytes(&b, name, l.name_len);
    t->name_len = l.name_len;
    t->hash = hash_name(name, l.name_len);
    t->root = copy_tree(root, &b);
    piece *pieces = (piece *)(void *)(block + l.off_pieces);
    hole *holes = (hole *)(void *)(block + l.off_holes);
    if (l.sz.spine != 0) {
        imager im = {block + l.off_image,
                     block + l.off_image,
                     (size_t *)(void *)(block + l.off_relocs),
                     0,
                     holes,
                     0,
                     pieces};
        image_node(t->root, &im);
        t->image = im.base;
        t->spine_bytes = l.sz.spine;
        t->relocs = im.relocs;
        t->nrelocs = im.nrelocs;
        t->holes = im.holes;
        t->nholes = im.nholes;
    } else if (!is_shared(t->root)) { /* a string with placeholders */
        make_hole(holes, t->root, &pieces);
        t->holes = holes;
        t->nholes = 1;
    }
    t->a = tc->a;
    t->cache = tc;
    t->block_len = l.total;
    t->bytes = l.total;
    *out = t;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * The public functions
 * ------------------------------------------------------------------------- */

zm_status zm_template_cache_create(zm_allocator a, size_t budget, zm_template_cache **out) {
    if (out == NULL) return ZM_EINVAL;
    zm_template_cache *tc = zm_create(a, zm_template_cache);
    if (tc == NULL) return ZM_ENOMEM;
    memset(tc, 0, sizeof *tc);
    tc->a = a;
    tc->budget = budget;
    tc->st.budget = budget;
    *out = tc;
    return ZM_OK;
}

void zm_template_cache_destroy(zm_template_cache *tc) {
    if (tc == NULL) return;
    /* Templates still pinned (against the contract) are left to free
       themselves at their last unpin rather than dangle under an instance. */
    tmpl *t = tc->mru;
    while (t != NULL) {
        tmpl *next = t->next;
        if (t->pins != 0) {
            t->cache = NULL;
            t->live = false;
        } else {
            tmpl_free(t);
        }
        t = next;
    }
    for (t = tc->retired; t != NULL; t = t->next) t->cache = NULL;
    zm_free_array(tc->a, tc->buckets, tc->nbuckets);
    zm_destroy(tc->a, tc);
}

/* Makes the template called name from root and puts it in the cache under
   version, replacing any template of that name. */
static zm_status put_root(zm_template_cache *tc, const char *name, const zm_json *root,
                          uint64_t version, zm_json_error *err) {
    tmpl *t = NULL;
    zm_status st = make_template(tc, name, root, &t, err);
    if (st == ZM_OK && table_reserve(tc) != ZM_OK) {
        tmpl_free(t);
        st = ZM_ENOMEM;
    }
    if (st != ZM_OK) {
        if (st == ZM_ENOMEM) set_err(err, ZM_ENOMEM, "out of memory");
        return st;
    }
    t->version = version;
    tmpl **slot = find_slot(tc, t->name, t->name_len, t->hash);
    if (*slot != NULL) {
        retire(tc, *slot); /* the old one: freed now, or at its last unpin */
        slot = find_slot(tc, t->name, t->name_len, t->hash);
    }
    *slot = t;
    t->live = true;
    lru_push_front(tc, t);
    tc->st.templates++;
    tc->st.bytes += t->bytes;
    evict(tc, t);
    return ZM_OK;
}

zm_status zm_template_put(zm_template_cache *tc, const char *name, const char *text, size_t len,
                          zm_json_error *err) {
    if (tc == NULL || name == NULL || (text == NULL && len != 0)) {
        set_err(err, ZM_EINVAL, "invalid argument");
        return ZM_EINVAL;
    }
    /* Parse into a scratch arena, then copy compactly into the template's block. */
    zm_arena scratch;
    zm_arena_init(&scratch, tc->a);
    zm_json *root = NULL;
    zm_status st = zm_json_parse_arena(&scratch, text, len, NULL, &root, err);
    if (st == ZM_OK) st = put_root(tc, name, root, 0, err);
    zm_arena_deinit(&scratch);
    return st;
}

zm_status zm_template_put_value(zm_template_cache *tc, const char *name, const zm_json *root,
                                uint64_t version, zm_json_error *err) {
    if (tc == NULL || name == NULL || root == NULL) {
        set_err(err, ZM_EINVAL, "invalid argument");
        return ZM_EINVAL;
    }
    return put_root(tc, name, root, version, err);
}

zm_status zm_template_version(const zm_template_cache *tc, const char *name, uint64_t *version) {
    if (tc == NULL || name == NULL) return ZM_EINVAL;
    const tmpl *t = lookup(tc, name);
    if (t == NULL) return ZM_ENOTFOUND;
    if (version != NULL) *version = t->version;
    return ZM_OK;
}

size_t zm_template_bytes(const char *name, const zm_json *root) {
    layout l;
    if (name == NULL || root == NULL || !lay_out(strlen(name), root, &l)) return SIZE_MAX;
    return l.total;
}

bool zm_template_has(const zm_template_cache *tc, const char *name) {
    return tc != NULL && name != NULL && lookup(tc, name) != NULL;
}

zm_status zm_template_remove(zm_template_cache *tc, const char *name) {
    if (tc == NULL || name == NULL) return ZM_EINVAL;
    tmpl *t = lookup(tc, name);
    if (t == NULL) return ZM_ENOTFOUND;
    retire(tc, t);
    return ZM_OK;
}

/* The value of member name (len bytes) of bindings, trying first the
   position *hint where it was found last time. NULL when there is none. */
static zm_json *bind(const char *name, size_t len, size_t *hint, const zm_json *bindings) {
    if (bindings == NULL || bindings->type != ZM_JSON_OBJECT) return NULL;
    const zm_json_member *m = bindings->u.o.items;
    size_t n = bindings->u.o.len;
    if (*hint < n && m[*hint].key_len == len && bytes_eq(m[*hint].key, name, len))
        return m[*hint].value;
    if (bindings->u.o.index != NULL) return zm_json_getn(bindings, name, len);
    for (size_t i = 0; i < n; i++) {
        if (m[i].key_len == len && bytes_eq(m[i].key, name, len)) {
            *hint = i;
            return m[i].value;
        }
    }
    return NULL;
}

static void missing(zm_json_error *err, const char *name, size_t len) {
    set_err(err, ZM_ENOTFOUND, "no binding for placeholder \"{{%.*s}}\"", quoted_len(len), name);
}

/* The text one placeholder of a string stands for. */
typedef struct text_run {
    const char *p;
    size_t len;
} text_run;

/* Builds in ar the string of hole h (pieces) with bindings: constant text as
   it is, a string binding's text, any other binding's compact JSON text. */
static zm_status interpolate(hole *h, const zm_json *bindings, zm_arena *ar, zm_json **out,
                             zm_json_error *err) {
    text_run *runs = zm_arena_alloc(ar, h->nnames * sizeof *runs, alignof(text_run));
    if (runs == NULL) return ZM_ENOMEM;
    size_t total = 0, k = 0;
    uint8_t flags = h->flags;
    for (size_t i = 0; i < h->npieces; i++) {
        piece *pc = &h->pieces[i];
        size_t len = pc->len;
        if (pc->name) {
            const zm_json *b = bind(pc->p, pc->len, &pc->hint, bindings);
            if (b == NULL) {
                missing(err, pc->p, pc->len);
                return ZM_ENOTFOUND;
            }
            text_run *r = &runs[k++];
            if (b->type == ZM_JSON_STRING) {
                r->p = b->u.s.ptr;
                r->len = b->u.s.len;
                if (!(b->flags & ZM_JSON_F_UTF8)) flags &= (uint8_t)~ZM_JSON_F_UTF8;
                flags |= (uint8_t)(b->flags & ZM_JSON_F_WTF8);
            } else {
                char *text;
                zm_status st = zm_json_write(zm_arena_allocator(ar), b, 0, &text, &r->len);
                if (st == ZM_ENOMEM) return st;
                if (st != ZM_OK) {
                    set_err(err, ZM_EINVAL,
                            "the binding of placeholder \"{{%.*s}}\" cannot be written as JSON "
                            "text",
                            quoted_len(pc->len), pc->p);
                    return ZM_EINVAL;
                }
                r->p = text;
            }
            len = r->len;
        }
        if (len > SIZE_MAX / 2 - total) return ZM_ENOMEM;
        total += len;
    }
    zm_json *v = zm_arena_alloc(ar, sizeof *v, alignof(zm_json));
    char *buf = zm_arena_alloc(ar, total + 1, 1);
    if (v == NULL || buf == NULL) return ZM_ENOMEM;
    char *p = buf;
    k = 0;
    for (size_t i = 0; i < h->npieces; i++) {
        const piece *pc = &h->pieces[i];
        const char *src = pc->p;
        size_t len = pc->len;
        if (pc->name) src = runs[k].p, len = runs[k].len, k++;
        if (len) memcpy(p, src, len);
        p += len;
    }
    *p = '\0';
    memset(v, 0, sizeof *v);
    v->type = ZM_JSON_STRING;
    v->flags = flags;
    v->u.s.ptr = buf;
    v->u.s.len = total;
    *out = v;
    return ZM_OK;
}

/* The value hole h takes: its binding, or the string built from its pieces. */
static zm_status fill(hole *h, const zm_json *bindings, zm_arena *ar, zm_json **out,
                      zm_json_error *err) {
    if (h->pieces != NULL) return interpolate(h, bindings, ar, out, err);
    zm_json *v = bind(h->name, h->len, &h->hint, bindings);
    if (v == NULL) {
        missing(err, h->name, h->len);
        return ZM_ENOTFOUND;
    }
    *out = v;
    return ZM_OK;
}

zm_status zm_template_instantiate(zm_template_cache *tc, const char *name, const zm_json *bindings,
                                  zm_arena *ar, zm_json **out, zm_json_error *err) {
    if (tc == NULL || name == NULL || ar == NULL || out == NULL) {
        set_err(err, ZM_EINVAL, "invalid argument");
        return ZM_EINVAL;
    }
    if (bindings != NULL && bindings->type != ZM_JSON_OBJECT) {
        set_err(err, ZM_EINVAL, "bindings must be an object (or NULL for none)");
        return ZM_EINVAL;
    }
    /* A run of calls usually instantiates one template: try it first. */
    tmpl *t = tc->last;
    if (t == NULL || strncmp(t->name, name, t->name_len + 1) != 0) {
        size_t name_len = strlen(name);
        tmpl **slot = find_slot(tc, name, name_len, hash_name(name, name_len));
        t = slot ? *slot : NULL;
    }
    if (t == NULL) {
        size_t name_len = strlen(name);
        tc->st.misses++;
        set_err(err, ZM_ENOTFOUND, "no template named \"%.*s\"", quoted_len(name_len), name);
        return ZM_ENOTFOUND;
    }
    tc->st.hits++;
    tc->last = t;
    if (tc->mru != t) {
        list_unlink(tc, t);
        lru_push_front(tc, t);
    }

    /* The pin first: restoring the mark on failure runs it, dropping the pin
       and every byte taken since. */
    zm_arena_mark mark = zm_arena_save(ar);
    if (zm_arena_on_reset(ar, unpin, t) != ZM_OK) {
        set_err(err, ZM_ENOMEM, "out of memory");
        return ZM_ENOMEM;
    }
    pin(tc, t);

    zm_status st = ZM_OK;
    zm_json *v = t->root;
    if (t->image == NULL) { /* the root is shared, or a string with placeholders */
        if (t->nholes != 0) st = fill(&t->holes[0], bindings, ar, &v, err);
    } else {
        char *p = zm_arena_alloc(ar, t->spine_bytes, 8);
        if (p == NULL) {
            st = ZM_ENOMEM;
        } else {
            memcpy(p, t->image, t->spine_bytes);
            uintptr_t delta = (uintptr_t)p - (uintptr_t)t->image;
            const size_t *relocs = t->relocs;
            for (size_t i = 0, n = t->nrelocs; i < n; i++) {
                uintptr_t at;
                memcpy(&at, p + relocs[i], sizeof at);
                at += delta;
                memcpy(p + relocs[i], &at, sizeof at);
            }
            hole *holes = t->holes;
            for (size_t i = 0, n = t->nholes; i < n && st == ZM_OK; i++) {
                zm_json *b = NULL;
                st = fill(&holes[i], bindings, ar, &b, err);
                if (st == ZM_OK) memcpy(p + holes[i].off, &b, sizeof b);
            }
            v = (zm_json *)(void *)p;
        }
    }
    if (st != ZM_OK) {
        if (st == ZM_ENOMEM) set_err(err, ZM_ENOMEM, "out of memory");
        zm_arena_restore(ar, mark); /* unpins t; t may be gone after this */
        return st;
    }
    *out = v;
    return ZM_OK;
}

/* Appends name (len bytes) to arr unless a string equal to it is there. */
static zm_status add_name(zm_allocator a, zm_json *arr, const char *name, size_t len) {
    for (size_t i = 0; i < arr->u.a.len; i++) {
        const zm_json *v = arr->u.a.items[i];
        if (v->u.s.len == len && memcmp(v->u.s.ptr, name, len) == 0) return ZM_OK;
    }
    zm_json *s = zm_json_new_string(a, name, len);
    if (s == NULL) return ZM_ENOMEM;
    zm_status st = zm_json_array_push(a, arr, s);
    if (st != ZM_OK) zm_json_free(a, s);
    return st;
}

/* Adds the placeholder names of v and below to arr, in document order. */
static zm_status collect_names(zm_allocator a, const zm_json *v, zm_json *arr) {
    zm_status st = ZM_OK;
    switch (v->type) {
    case ZM_JSON_STRING: {
        const char *s = v->u.s.ptr;
        size_t n = v->u.s.len;
        for (size_t i = 0; i + 5 <= n && st == ZM_OK;) {
            size_t e = placeholder_at(s, n, i);
            if (e == 0) {
                i++;
                continue;
            }
            st = add_name(a, arr, s + i + 2, e - i - 4);
            i = e;
        }
        break;
    }
    case ZM_JSON_ARRAY:
        for (size_t i = 0; i < v->u.a.len && st == ZM_OK; i++)
            st = collect_names(a, v->u.a.items[i], arr);
        break;
    case ZM_JSON_OBJECT:
        for (size_t i = 0; i < v->u.o.len && st == ZM_OK; i++)
            st = collect_names(a, v->u.o.items[i].value, arr);
        break;
    default: break;
    }
    return st;
}

zm_status zm_template_placeholders(const zm_json *root, zm_allocator a, zm_json **out) {
    if (root == NULL || out == NULL) return ZM_EINVAL;
    zm_json *arr = zm_json_new_array(a, 0);
    if (arr == NULL) return ZM_ENOMEM;
    zm_status st = collect_names(a, root, arr);
    if (st != ZM_OK) {
        zm_json_free(a, arr);
        return st;
    }
    *out = arr;
    return ZM_OK;
}

void zm_template_stats_get(const zm_template_cache *tc, zm_template_stats *out) {
    if (out == NULL) return;
    if (tc == NULL) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = tc->st;
}
