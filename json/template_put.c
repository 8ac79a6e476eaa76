/* Putting a template: finding its placeholders, measuring the parsed tree,
 * copying it into the template's one block (constant subtrees marked shared)
 * and laying out the image of an instance's spine (see template.c for the
 * whole design). Also the placeholders of a value and the bytes a template
 * takes.
 */
#include "template_internal.h"

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
zm_status zm__template_make(zm_template_cache *tc, const char *name, const zm_json *root,
                            tmpl **out, zm_json_error *err) {
    layout l;
    if (!lay_out(strlen(name), root, &l)) return ZM_ENOMEM;
    if (tc->budget != 0 && l.total > tc->budget) {
        zm__template_set_err(err, ZM_ELIMIT,
                             "template needs %zu bytes, more than the cache's budget of %zu",
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
    t->hash = zm__template_hash_name(name, l.name_len);
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

size_t zm_template_bytes(const char *name, const zm_json *root) {
    layout l;
    if (name == NULL || root == NULL || !lay_out(strlen(name), root, &l)) return SIZE_MAX;
    return l.total;
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
