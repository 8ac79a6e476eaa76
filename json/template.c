/* The JSON template cache: templates parsed once into the cache's own memory,
 * instantiated into callers' arenas by copying only the spine that leads to
 * placeholders and sharing every constant subtree.
 *
 * Memory. A template is one block from the cache's allocator: its record, its
 * name and a compact copy of the parsed tree (nodes and arrays, then hash
 * indexes, then string bytes). Nothing of a template ever lives in a caller's
 * arena, so resetting an arena cannot leave the cache pointing into it; and an
 * instance pins its template (an arena cleanup) so that evicting, replacing or
 * removing the template cannot leave the instance pointing into freed memory.
 *
 * Marking. Every node of a constant subtree carries ZM_JSON_F_SHARED: the
 * writer reads it, zm_json_free leaves it alone, instantiate links it as is.
 * The only unshared nodes of a template are placeholders (strings "{{name}}")
 * and the containers on the way to them (the spine). An instance is a fresh
 * copy of the spine, made with one arena allocation whose size is computed
 * when the template is put.
 *
 * Not thread-safe: a cache belongs to one thread (or to one lock).
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>

#include "zmem/template.h"

/* ---------------------------------------------------------------------------
 * Records
 * ------------------------------------------------------------------------- */

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
    zm_json *root;
    size_t spine_bytes; /* arena bytes an instance takes (0: the root is shared) */
    size_t pins;        /* live instances */
    bool live;          /* reachable by name */
};

struct zm_template_cache {
    zm_allocator a;
    size_t budget;
    tmpl **buckets; /* nbuckets chains, a power of two */
    size_t nbuckets;
    tmpl *mru, *lru; /* live templates, most recently used first */
    tmpl *retired;   /* replaced or removed while pinned; freed at their last unpin */
    zm_template_stats st;
};

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

static uint64_t hash_name(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
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
        if (t->hash == h && t->name_len == len && memcmp(t->name, name, len) == 0) return slot;
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
    zm_free(t->a, t, t->block_len, alignof(max_align_t));
}

/* Takes a live template out of the table and the LRU list. It is freed now,
   or, when instances pin it, at its last unpin. */
static void retire(zm_template_cache *tc, tmpl *t) {
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

/* True when v is a placeholder: a string "{{name}}" whose name is not empty
   and holds no brace and no white space ("{{ name }}" is plain text). */
static bool is_placeholder(const zm_json *v) {
    if (v->type != ZM_JSON_STRING || v->u.s.len < 5) return false;
    const char *s = v->u.s.ptr;
    size_t n = v->u.s.len;
    if (s[0] != '{' || s[1] != '{' || s[n - 2] != '}' || s[n - 1] != '}') return false;
    for (size_t i = 2; i < n - 2; i++)
        if (s[i] == '{' || s[i] == '}' || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
            s[i] == '\r')
            return false;
    return true;
}

typedef struct sizes {
    size_t n8; /* nodes, item and member arrays */
    size_t n4; /* hash indexes */
    size_t n1; /* string and key bytes, each with a NUL */
} sizes;

static bool add_ok(size_t *acc, size_t n) {
    if (n > SIZE_MAX / 2 - *acc) return false;
    *acc += n;
    return true;
}

/* Adds the bytes of v's compact copy to *sz. False on overflow. */
static bool measure(const zm_json *v, sizes *sz) {
    if (!add_ok(&sz->n8, ALIGN8(sizeof(zm_json)))) return false;
    switch (v->type) {
    case ZM_JSON_STRING:
    case ZM_JSON_NUMBER: return add_ok(&sz->n1, v->u.s.len + 1);
    case ZM_JSON_ARRAY:
        if (!add_ok(&sz->n8, ALIGN8(v->u.a.len * sizeof(zm_json *)))) return false;
        for (size_t i = 0; i < v->u.a.len; i++)
            if (!measure(v->u.a.items[i], sz)) return false;
        return true;
    case ZM_JSON_OBJECT:
        if (!add_ok(&sz->n8, ALIGN8(v->u.o.len * sizeof(zm_json_member)))) return false;
        if (v->u.o.index != NULL && !add_ok(&sz->n4, (size_t)v->hash_cap * sizeof(uint32_t)))
            return false;
        for (size_t i = 0; i < v->u.o.len; i++) {
            if (!add_ok(&sz->n1, v->u.o.items[i].key_len + 1)) return false;
            if (!measure(v->u.o.items[i].value, sz)) return false;
        }
        return true;
    default: return true;
    }
}

typedef struct bump {
    char *p8, *p4, *p1;
    size_t spine; /* arena bytes of an instance's spine */
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
   placeholder is marked shared; the bytes the spine of an instance will take
   are added to b->spine. */
static zm_json *copy_tree(const zm_json *v, bump *b) {
    zm_json *c = (zm_json *)(void *)b->p8;
    b->p8 += ALIGN8(sizeof(zm_json));
    *c = *v;
    bool shared = true;
    switch (v->type) {
    case ZM_JSON_STRING:
    case ZM_JSON_NUMBER:
        c->u.s.ptr = copy_bytes(b, v->u.s.ptr, v->u.s.len);
        shared = !is_placeholder(v);
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
        if (!shared) b->spine += ALIGN8(sizeof(zm_json)) + ALIGN8(n * sizeof(zm_json *));
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
        size_t index_bytes = 0;
        if (v->u.o.index != NULL && v->hash_cap != 0) {
            index_bytes = (size_t)v->hash_cap * sizeof(uint32_t);
            uint32_t *idx = (uint32_t *)(void *)b->p4;
            memcpy(idx, v->u.o.index, index_bytes);
            b->p4 += index_bytes;
            c->u.o.index = idx;
        } else {
            c->u.o.index = NULL;
            c->hash_cap = 0;
        }
        if (!shared)
            b->spine +=
                ALIGN8(sizeof(zm_json)) + ALIGN8(n * sizeof(zm_json_member)) + ALIGN8(index_bytes);
        break;
    }
    default: break;
    }
    /* Everything here belongs to the block: nothing is owned separately. */
    c->flags =
        (uint8_t)((v->flags & ~(ZM_JSON_F_OWNS_STR | ZM_JSON_F_OWNS_KEYS)) & ~ZM_JSON_F_SHARED);
    if (shared) c->flags |= ZM_JSON_F_SHARED;
    return c;
}

/* Builds the template record for name and root in one block from a. */
static zm_status make_template(zm_template_cache *tc, const char *name, const zm_json *root,
                               tmpl **out, zm_json_error *err) {
    size_t name_len = strlen(name);
    sizes sz = {0, 0, 0};
    if (!measure(root, &sz) || !add_ok(&sz.n1, name_len + 1)) return ZM_ENOMEM;
    size_t head = ALIGN8(sizeof(tmpl));
    size_t total = head;
    if (!add_ok(&total, sz.n8) || !add_ok(&total, ALIGN8(sz.n4)) || !add_ok(&total, sz.n1))
        return ZM_ENOMEM;
    if (tc->budget != 0 && total > tc->budget) {
        if (err != NULL) {
            memset(err, 0, sizeof *err);
            err->status = ZM_ELIMIT;
            snprintf(err->message, sizeof err->message,
                     "template needs %zu bytes, more than the cache's budget of %zu", total,
                     tc->budget);
        }
        return ZM_ELIMIT;
    }
    char *block = zm_alloc(tc->a, total, alignof(max_align_t));
    if (block == NULL) return ZM_ENOMEM;
    tmpl *t = (tmpl *)(void *)block;
    memset(t, 0, sizeof *t);
    bump b = {block + head, block + head + sz.n8, block + head + sz.n8 + ALIGN8(sz.n4), 0};
    t->name = copy_bytes(&b, name, name_len);
    t->name_len = name_len;
    t->hash = hash_name(name, name_len);
    t->root = copy_tree(root, &b);
    t->spine_bytes = b.spine;
    t->a = tc->a;
    t->cache = tc;
    t->block_len = total;
    t->bytes = total;
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
    tmpl *t = NULL;
    if (st == ZM_OK) st = make_template(tc, name, root, &t, err);
    zm_arena_deinit(&scratch);
    if (st == ZM_OK && table_reserve(tc) != ZM_OK) {
        tmpl_free(t);
        st = ZM_ENOMEM;
    }
    if (st != ZM_OK) {
        if (st == ZM_ENOMEM) set_err(err, ZM_ENOMEM, "out of memory");
        return st;
    }

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

/* Instantiation state: the spine's memory, the bindings, where to report. */
typedef struct inst {
    char *p;
    const zm_json *bindings;
    zm_json_error *err;
} inst;

/* The value bound to placeholder ph, or NULL (err says which) when none is. */
static zm_json *bind(const zm_json *ph, inst *in) {
    const char *name = ph->u.s.ptr + 2;
    size_t n = ph->u.s.len - 4;
    zm_json *v = NULL;
    if (in->bindings != NULL && in->bindings->type == ZM_JSON_OBJECT)
        v = zm_json_getn(in->bindings, name, n);
    if (v == NULL)
        set_err(in->err, ZM_ENOTFOUND, "no binding for placeholder \"{{%.*s}}\"", quoted_len(n),
                name);
    return v;
}

/* Links child c of a spine node into an instance: shared as is, bound, or
   copied as spine. NULL when a binding is missing. */
static zm_json *link_child(const zm_json *c, inst *in);

/* Copies spine node t (an array or object holding a placeholder somewhere). */
static zm_json *build(const zm_json *t, inst *in) {
    zm_json *c = (zm_json *)(void *)in->p;
    in->p += ALIGN8(sizeof(zm_json));
    *c = *t;
    if (t->type == ZM_JSON_ARRAY) {
        size_t n = t->u.a.len;
        zm_json **items = (zm_json **)(void *)in->p;
        in->p += ALIGN8(n * sizeof(zm_json *));
        for (size_t i = 0; i < n; i++)
            if ((items[i] = link_child(t->u.a.items[i], in)) == NULL) return NULL;
        c->u.a.items = items;
    } else {
        size_t n = t->u.o.len;
        zm_json_member *m = (zm_json_member *)(void *)in->p;
        in->p += ALIGN8(n * sizeof(zm_json_member));
        memcpy(m, t->u.o.items, n * sizeof *m);
        for (size_t i = 0; i < n; i++)
            if ((m[i].value = link_child(m[i].value, in)) == NULL) return NULL;
        c->u.o.items = m;
        if (t->u.o.index != NULL) {
            size_t bytes = (size_t)t->hash_cap * sizeof(uint32_t);
            memcpy(in->p, t->u.o.index, bytes);
            c->u.o.index = (uint32_t *)(void *)in->p;
            in->p += ALIGN8(bytes);
        }
    }
    return c;
}

static zm_json *link_child(const zm_json *c, inst *in) {
    if (c->flags & ZM_JSON_F_SHARED) return (zm_json *)c;
    if (c->type == ZM_JSON_STRING) return bind(c, in);
    return build(c, in);
}

zm_status zm_template_instantiate(zm_template_cache *tc, const char *name, const zm_json *bindings,
                                  zm_arena *ar, zm_json **out, zm_json_error *err) {
    if (tc == NULL || name == NULL || ar == NULL || out == NULL) {
        set_err(err, ZM_EINVAL, "invalid argument");
        return ZM_EINVAL;
    }
    size_t name_len = strlen(name);
    tmpl **slot = find_slot(tc, name, name_len, hash_name(name, name_len));
    tmpl *t = slot ? *slot : NULL;
    if (t == NULL) {
        tc->st.misses++;
        set_err(err, ZM_ENOTFOUND, "no template named \"%.*s\"", quoted_len(name_len), name);
        return ZM_ENOTFOUND;
    }
    tc->st.hits++;
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

    inst in = {NULL, bindings, err};
    zm_json *v;
    zm_status st = ZM_ENOTFOUND;
    if (t->spine_bytes == 0) {
        v = is_shared(t->root) ? t->root : bind(t->root, &in);
    } else if ((in.p = zm_arena_alloc(ar, t->spine_bytes, 8)) == NULL) {
        v = NULL;
        st = ZM_ENOMEM;
        set_err(err, ZM_ENOMEM, "out of memory");
    } else {
        v = build(t->root, &in);
    }
    if (v == NULL) {
        zm_arena_restore(ar, mark); /* unpins t; t may be gone after this */
        return st;
    }
    *out = v;
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
