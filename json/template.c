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

#include "template_internal.h"

/* The hash of a template name: eight bytes at a time, multiply and fold.
   Names are short; this is on every instantiation. */
uint64_t zm__template_hash_name(const char *s, size_t len) {
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t h = len * k;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) h = (h ^ zm__load64(s + i)) * k, h ^= h >> 29;
    uint64_t tail = 0;
    if (i < len) memcpy(&tail, s + i, len - i);
    h = (h ^ tail) * k;
    return h ^ (h >> 32);
}

/* Fills *err (when not NULL) with st and a formatted message. */
void zm__template_set_err(zm_json_error *err, zm_status st, const char *fmt, ...) {
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
    tmpl **slot = find_slot(tc, name, len, zm__template_hash_name(name, len));
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
    zm_status st = zm__template_make(tc, name, root, &t, err);
    if (st == ZM_OK && table_reserve(tc) != ZM_OK) {
        tmpl_free(t);
        st = ZM_ENOMEM;
    }
    if (st != ZM_OK) {
        if (st == ZM_ENOMEM) zm__template_set_err(err, ZM_ENOMEM, "out of memory");
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
        zm__template_set_err(err, ZM_EINVAL, "invalid argument");
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
        zm__template_set_err(err, ZM_EINVAL, "invalid argument");
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
    zm__template_set_err(err, ZM_ENOTFOUND, "no binding for placeholder \"{{%.*s}}\"",
                         quoted_len(len), name);
}

/* The text one placeholder of a string stands for. */
typedef struct text_run {
    const char *p;
    size_t len;
} text_run;

/* Builds in ar the string of hole h (pieces) with bindings: constant text as
   it is, a string binding's text, any other binding's compact JSON text.
   *room is what the instance may still build; ZM_ELIMIT past it. */
static zm_status interpolate(hole *h, const zm_json *bindings, zm_arena *ar, size_t *room,
                             zm_json **out, zm_json_error *err) {
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
                    zm__template_set_err(
                        err, ZM_EINVAL,
                        "the binding of placeholder \"{{%.*s}}\" cannot be written as JSON "
                        "text",
                        quoted_len(pc->len), pc->p);
                    return ZM_EINVAL;
                }
                r->p = text;
            }
            len = r->len;
        }
        if (len > *room - total) {
            zm__template_set_err(err, ZM_ELIMIT,
                                 "the rendered text would be larger than the limit of %zu bytes",
                                 ZM_TEMPLATE_MAX_TEXT);
            return ZM_ELIMIT;
        }
        total += len;
    }
    *room -= total;
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
static zm_status fill(hole *h, const zm_json *bindings, zm_arena *ar, size_t *room, zm_json **out,
                      zm_json_error *err) {
    if (h->pieces != NULL) return interpolate(h, bindings, ar, room, out, err);
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
        zm__template_set_err(err, ZM_EINVAL, "invalid argument");
        return ZM_EINVAL;
    }
    if (bindings != NULL && bindings->type != ZM_JSON_OBJECT) {
        zm__template_set_err(err, ZM_EINVAL, "bindings must be an object (or NULL for none)");
        return ZM_EINVAL;
    }
    /* A run of calls usually instantiates one template: try it first. */
    tmpl *t = tc->last;
    if (t == NULL || strncmp(t->name, name, t->name_len + 1) != 0) {
        size_t name_len = strlen(name);
        tmpl **slot = find_slot(tc, name, name_len, zm__template_hash_name(name, name_len));
        t = slot ? *slot : NULL;
    }
    if (t == NULL) {
        size_t name_len = strlen(name);
        tc->st.misses++;
        zm__template_set_err(err, ZM_ENOTFOUND, "no template named \"%.*s\"", quoted_len(name_len),
                             name);
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
        zm__template_set_err(err, ZM_ENOMEM, "out of memory");
        return ZM_ENOMEM;
    }
    pin(tc, t);

    zm_status st = ZM_OK;
    size_t room = ZM_TEMPLATE_MAX_TEXT;
    zm_json *v = t->root;
    if (t->image == NULL) { /* the root is shared, or a string with placeholders */
        if (t->nholes != 0) st = fill(&t->holes[0], bindings, ar, &room, &v, err);
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
                st = fill(&holes[i], bindings, ar, &room, &b, err);
                if (st == ZM_OK) memcpy(p + holes[i].off, &b, sizeof b);
            }
            v = (zm_json *)(void *)p;
        }
    }
    if (st != ZM_OK) {
        if (st == ZM_ENOMEM) zm__template_set_err(err, ZM_ENOMEM, "out of memory");
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
