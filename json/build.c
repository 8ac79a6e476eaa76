/* Building values in code: constructors, push, set, remove, clone, free.
 *
 * Every block is given back with the exact length and alignment it was
 * allocated with, so values may come from a pool allocator that keeps no
 * headers:
 *   - a value node: sizeof(zm_json), _Alignof(zm_json);
 *   - the text of a string or number (ZM_JSON_F_OWNS_STR): len + 1, 1;
 *   - an array's items: cap * sizeof(zm_json *);
 *   - an object's members: cap * sizeof(zm_json_member);
 *   - an object's index: hash_cap * sizeof(uint32_t);
 *   - an owned key (ZM_JSON_F_OWNS_KEYS): key_len + 1, 1.
 *
 * Keys of one object are either all copied (ZM_JSON_F_OWNS_KEYS) or all
 * borrowed. The first member decides: zm_json_object_set copies,
 * zm_json_object_add_ref borrows. Afterwards add_ref on a copying object
 * copies too, and set adding a key to a borrowing object first copies the
 * keys it has (a rare path), so that zm_json_free knows what to give back.
 *
 * Parsed values live in their document's arena: change them only with the
 * allocator of that arena (zm_json_parse_arena), never free them otherwise.
 * Shared values (ZM_JSON_F_SHARED, a template's constant subtrees) are never
 * changed nor freed here.
 */
#include "internal.h"
#include "zmem/array.h"

/* ---------------------------------------------------------------------------
 * Constructors
 * ------------------------------------------------------------------------- */

static zm_json *new_node(zm_allocator a, zm_json_type type) {
    zm_json *v = zm_create(a, zm_json);
    if (v != NULL) {
        memset(v, 0, sizeof *v);
        v->type = (uint8_t)type;
    }
    return v;
}

zm_json *zm_json_new_null(zm_allocator a) {
    return new_node(a, ZM_JSON_NULL);
}

zm_json *zm_json_new_bool(zm_allocator a, bool b) {
    zm_json *v = new_node(a, ZM_JSON_BOOL);
    if (v) v->u.b = b;
    return v;
}

zm_json *zm_json_new_int(zm_allocator a, int64_t i) {
    zm_json *v = new_node(a, ZM_JSON_INT);
    if (v) v->u.i = i;
    return v;
}

zm_json *zm_json_new_real(zm_allocator a, double d) {
    zm_json *v = new_node(a, ZM_JSON_REAL);
    if (v) v->u.d = d;
    return v;
}

/* A node of type t owning a NUL-terminated copy of the len bytes at s. */
static zm_json *new_text(zm_allocator a, zm_json_type t, const char *s, size_t len) {
    if (len == SIZE_MAX || (s == NULL && len != 0)) return NULL;
    zm_json *v = new_node(a, t);
    if (v == NULL) return NULL;
    char *copy = zm_alloc(a, len + 1, 1);
    if (copy == NULL) {
        zm_destroy(a, v);
        return NULL;
    }
    if (len) memcpy(copy, s, len);
    copy[len] = '\0';
    v->flags = ZM_JSON_F_OWNS_STR;
    v->u.s.ptr = copy;
    v->u.s.len = len;
    return v;
}

zm_json *zm_json_new_string(zm_allocator a, const char *s, size_t len) {
    return new_text(a, ZM_JSON_STRING, s, len);
}

zm_json *zm_json_new_string_ref(zm_allocator a, const char *s, size_t len) {
    if (s == NULL && len != 0) return NULL;
    zm_json *v = new_node(a, ZM_JSON_STRING);
    if (v == NULL) return NULL;
    v->u.s.ptr = s ? s : "";
    v->u.s.len = len;
    return v;
}

zm_json *zm_json_new_array(zm_allocator a, size_t cap) {
    zm_json *v = new_node(a, ZM_JSON_ARRAY);
    if (v == NULL || cap == 0) return v;
    v->u.a.items = zm_alloc_array(a, zm_json *, cap);
    if (v->u.a.items == NULL) {
        zm_destroy(a, v);
        return NULL;
    }
    v->u.a.cap = cap;
    return v;
}

zm_json *zm_json_new_object(zm_allocator a, size_t cap) {
    zm_json *v = new_node(a, ZM_JSON_OBJECT);
    if (v == NULL || cap == 0) return v;
    v->u.o.items = zm_alloc_array(a, zm_json_member, cap);
    if (v->u.o.items == NULL) {
        zm_destroy(a, v);
        return NULL;
    }
    v->u.o.cap = cap;
    return v;
}

/* ---------------------------------------------------------------------------
 * Arrays
 * ------------------------------------------------------------------------- */

zm_status zm_json_array_push(zm_allocator a, zm_json *arr, zm_json *item) {
    if (zm_json_typeof(arr) != ZM_JSON_ARRAY) return ZM_ETYPE;
    if (item == NULL || (arr->flags & ZM_JSON_F_SHARED)) return ZM_EINVAL;
    if (arr->u.a.len == arr->u.a.cap) {
        zm_json **items = zm_array_grow_raw(a, arr->u.a.items, &arr->u.a.cap, arr->u.a.len + 1,
                                            sizeof(zm_json *), _Alignof(zm_json *));
        if (items == NULL) return ZM_ENOMEM;
        arr->u.a.items = items;
    }
    arr->u.a.items[arr->u.a.len++] = item;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Objects
 * ------------------------------------------------------------------------- */

/* The position of member key in obj, or SIZE_MAX. */
static size_t find_pos(const zm_json *obj, const char *key, size_t len) {
    const zm_json_member *items = obj->u.o.items;
    if (obj->hash_cap != 0 && obj->u.o.index != NULL)
        return zm__json_index_find(obj->u.o.index, obj->hash_cap, items, key, len,
                                   zm__json_hash(key, len));
    for (size_t i = 0; i < obj->u.o.len; i++)
        if (zm__json_key_eq(&items[i], key, len)) return i;
    return SIZE_MAX;
}

/* Makes room for one more member. */
static zm_status reserve_member(zm_allocator a, zm_json *obj) {
    if (obj->u.o.len < obj->u.o.cap) return ZM_OK;
    zm_json_member *items = zm_array_grow_raw(a, obj->u.o.items, &obj->u.o.cap, obj->u.o.len + 1,
                                              sizeof(zm_json_member), _Alignof(zm_json_member));
    if (items == NULL) return ZM_ENOMEM;
    obj->u.o.items = items;
    return ZM_OK;
}

/* Makes every key of obj a copy of its own. On failure obj is unchanged. */
static zm_status own_keys(zm_allocator a, zm_json *obj) {
    size_t n = obj->u.o.len;
    zm_json_member *items = obj->u.o.items;
    char **copies = zm_alloc_array(a, char *, n);
    if (copies == NULL) return ZM_ENOMEM;
    size_t i = 0;
    for (; i < n; i++) {
        copies[i] = zm_strndup(a, items[i].key, items[i].key_len);
        if (copies[i] == NULL) break;
    }
    if (i < n) {
        while (i--) zm_free(a, copies[i], items[i].key_len + 1, 1);
        zm_free_array(a, copies, n);
        return ZM_ENOMEM;
    }
    for (i = 0; i < n; i++) items[i].key = copies[i];
    zm_free_array(a, copies, n);
    obj->flags |= ZM_JSON_F_OWNS_KEYS;
    return ZM_OK;
}

/* Appends member (key, value) to obj, copying the key when copy is true,
   and keeps the index up to date. On failure obj is unchanged (its member
   array may have grown). */
static zm_status append_member(zm_allocator a, zm_json *obj, const char *key, size_t key_len,
                               zm_json *value, bool copy) {
    if (key == NULL && key_len != 0) return ZM_EINVAL;
    if (obj->u.o.len >= UINT32_MAX - 1) return ZM_ELIMIT;
    zm_status st = reserve_member(a, obj);
    if (st != ZM_OK) return st;
    const char *k = key ? key : "";
    char *kcopy = NULL;
    if (copy) {
        kcopy = zm_strndup(a, k, key_len);
        if (kcopy == NULL) return ZM_ENOMEM;
        k = kcopy;
    }
    size_t n = obj->u.o.len + 1;
    uint32_t *index = NULL, ncap = 0;
    if (n > ZM__JSON_HASH_MIN && (obj->hash_cap == 0 || 2 * n > obj->hash_cap)) {
        ncap = zm__json_index_cap(n);
        index = ncap ? zm_alloc_array(a, uint32_t, ncap) : NULL;
        if (index == NULL) {
            if (kcopy) zm_free(a, kcopy, key_len + 1, 1);
            return ZM_ENOMEM;
        }
    }
    zm_json_member *m = &obj->u.o.items[n - 1];
    obj->flags &= (uint8_t) ~(ZM_JSON_F_UTF8 | ZM_JSON_F_PLAIN); /* the new key is not checked */
    m->key = k;
    m->key_len = key_len;
    m->value = value;
    obj->u.o.len = n;
    if (index != NULL) {
        if (obj->hash_cap) zm_free_array(a, obj->u.o.index, obj->hash_cap);
        zm__json_index_fill(index, ncap, obj->u.o.items, n);
        obj->u.o.index = index;
        obj->hash_cap = ncap;
    } else if (obj->hash_cap) {
        zm__json_index_add(obj->u.o.index, obj->hash_cap, obj->u.o.items, n - 1,
                           zm__json_hash(k, key_len));
    }
    return ZM_OK;
}

zm_status zm_json_object_set(zm_allocator a, zm_json *obj, const char *key, size_t key_len,
                             zm_json *value) {
    if (zm_json_typeof(obj) != ZM_JSON_OBJECT) return ZM_ETYPE;
    if (value == NULL || (key == NULL && key_len != 0) || (obj->flags & ZM_JSON_F_SHARED))
        return ZM_EINVAL;
    size_t i = find_pos(obj, key ? key : "", key_len);
    if (i != SIZE_MAX) {
        zm_json *old = obj->u.o.items[i].value;
        obj->u.o.items[i].value = value;
        if (old != value) zm_json_free(a, old);
        return ZM_OK;
    }
    if (obj->u.o.len == 0) {
        obj->flags |= ZM_JSON_F_OWNS_KEYS;
    } else if (!(obj->flags & ZM_JSON_F_OWNS_KEYS)) {
        zm_status st = own_keys(a, obj);
        if (st != ZM_OK) return st;
    }
    return append_member(a, obj, key, key_len, value, true);
}

zm_status zm_json_object_add_ref(zm_allocator a, zm_json *obj, const char *key, size_t key_len,
                                 zm_json *value) {
    if (zm_json_typeof(obj) != ZM_JSON_OBJECT) return ZM_ETYPE;
    if (value == NULL || (obj->flags & ZM_JSON_F_SHARED)) return ZM_EINVAL;
    return append_member(a, obj, key, key_len, value, (obj->flags & ZM_JSON_F_OWNS_KEYS) != 0);
}

zm_status zm_json_object_remove(zm_allocator a, zm_json *obj, const char *key, size_t key_len) {
    if (zm_json_typeof(obj) != ZM_JSON_OBJECT) return ZM_ETYPE;
    if ((key == NULL && key_len != 0) || (obj->flags & ZM_JSON_F_SHARED)) return ZM_EINVAL;
    size_t i = find_pos(obj, key ? key : "", key_len);
    if (i == SIZE_MAX) return ZM_ENOTFOUND;
    zm_json_member *items = obj->u.o.items;
    zm_json_member gone = items[i];
    memmove(&items[i], &items[i + 1], (obj->u.o.len - i - 1) * sizeof *items);
    obj->u.o.len--;
    if (obj->hash_cap) zm__json_index_fill(obj->u.o.index, obj->hash_cap, items, obj->u.o.len);
    zm_json_free(a, gone.value);
    if (obj->flags & ZM_JSON_F_OWNS_KEYS) zm_free(a, (void *)gone.key, gone.key_len + 1, 1);
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Free: iterative, with no memory of its own. A container being taken apart
 * is linked into a list through its index slot (an object's index is given
 * back first), and its len counts the children left; children go last to
 * first, so blocks an arena handed out in order are given back in reverse
 * and the arena reclaims what it can.
 * ------------------------------------------------------------------------- */

static zm_json *get_link(const zm_json *v) {
    zm_json *next;
    memcpy(&next, &v->u.o.index, sizeof next);
    return next;
}

static void set_link(zm_json *v, zm_json *next) {
    memcpy(&v->u.o.index, &next, sizeof next);
}

/* Frees scalar v now, or queues container v on *pending. */
static void release(zm_allocator a, zm_json *v, zm_json **pending) {
    if (v->flags & ZM_JSON_F_SHARED) return;
    switch ((zm_json_type)v->type) {
    case ZM_JSON_STRING:
    case ZM_JSON_NUMBER:
        if (v->flags & ZM_JSON_F_OWNS_STR) zm_free(a, (void *)v->u.s.ptr, v->u.s.len + 1, 1);
        zm_destroy(a, v);
        return;
    case ZM_JSON_OBJECT:
        if (v->hash_cap) zm_free_array(a, v->u.o.index, v->hash_cap);
        v->hash_cap = 0;
        /* fall through */
    case ZM_JSON_ARRAY:
        set_link(v, *pending);
        *pending = v;
        return;
    default: zm_destroy(a, v); return;
    }
}

void zm_json_free(zm_allocator a, zm_json *v) {
    if (v == NULL) return;
    zm_json *pending = NULL;
    release(a, v, &pending);
    while (pending != NULL) {
        zm_json *c = pending;
        if (c->type == ZM_JSON_ARRAY) {
            if (c->u.a.len > 0) {
                zm_json *child = c->u.a.items[--c->u.a.len];
                if (child) release(a, child, &pending);
                continue;
            }
            pending = get_link(c);
            zm_free_array(a, c->u.a.items, c->u.a.cap);
        } else {
            if (c->u.o.len > 0) {
                zm_json_member *m = &c->u.o.items[--c->u.o.len];
                zm_json *child = m->value;
                if (c->flags & ZM_JSON_F_OWNS_KEYS) zm_free(a, (void *)m->key, m->key_len + 1, 1);
                if (child) release(a, child, &pending);
                continue;
            }
            pending = get_link(c);
            zm_free_array(a, c->u.o.items, c->u.o.cap);
        }
        zm_destroy(a, c);
    }
}

/* ---------------------------------------------------------------------------
 * Clone: iterative with an explicit stack. The copy is consistent at every
 * step (a container's len counts the children attached so far), so on
 * failure zm_json_free takes back what was made.
 * ------------------------------------------------------------------------- */

/* A copy of v without its children: containers get an item array of v's
   length and len 0. */
static zm_json *copy_shallow(zm_allocator a, const zm_json *v) {
    zm_json_type t = zm_json_typeof(v);
    switch (t) {
    case ZM_JSON_NULL: return zm_json_new_null(a);
    case ZM_JSON_BOOL: return zm_json_new_bool(a, v->u.b);
    case ZM_JSON_INT: return zm_json_new_int(a, v->u.i);
    case ZM_JSON_REAL: return zm_json_new_real(a, v->u.d);
    case ZM_JSON_STRING:
    case ZM_JSON_NUMBER: {
        zm_json *c = new_text(a, t, v->u.s.ptr, v->u.s.len);
        if (c) c->flags |= v->flags & (ZM_JSON_F_UTF8 | ZM_JSON_F_WTF8 | ZM_JSON_F_PLAIN);
        return c;
    }
    case ZM_JSON_ARRAY: return zm_json_new_array(a, v->u.a.len);
    case ZM_JSON_OBJECT: {
        zm_json *o = zm_json_new_object(a, v->u.o.len);
        if (o)
            o->flags |= ZM_JSON_F_OWNS_KEYS |
                        (v->flags & (ZM_JSON_F_UTF8 | ZM_JSON_F_WTF8 | ZM_JSON_F_PLAIN));
        return o;
    }
    }
    return NULL;
}

typedef struct clone_frame {
    const zm_json *src;
    zm_json *dst;
} clone_frame;

zm_status zm_json_clone(zm_allocator a, const zm_json *v, zm_json **out) {
    if (v == NULL || out == NULL) return ZM_EINVAL;
    zm_json *root = copy_shallow(a, v);
    if (root == NULL) return ZM_ENOMEM;
    clone_frame local[32];
    void *stack = local;
    size_t cap = 32, n = 0;
    bool on_heap = false;
    zm_status st = ZM_OK;
    if (zm_json_len(v) > 0) local[n++] = (clone_frame){v, root};
    while (n > 0) {
        clone_frame *f = &((clone_frame *)stack)[n - 1];
        const zm_json *src = f->src;
        zm_json *dst = f->dst;
        size_t i = dst->u.a.len; /* same place for objects */
        if (i == zm_json_len(src)) {
            n--;
            if (dst->type == ZM_JSON_OBJECT && i > ZM__JSON_HASH_MIN) {
                uint32_t icap = zm__json_index_cap(i);
                uint32_t *index = icap ? zm_alloc_array(a, uint32_t, icap) : NULL;
                if (index == NULL) {
                    st = ZM_ENOMEM;
                    break;
                }
                zm__json_index_fill(index, icap, dst->u.o.items, i);
                dst->u.o.index = index;
                dst->hash_cap = icap;
            }
            continue;
        }
        const zm_json *schild;
        zm_json *child;
        if (src->type == ZM_JSON_ARRAY) {
            schild = src->u.a.items[i];
            child = copy_shallow(a, schild);
            if (child == NULL) {
                st = ZM_ENOMEM;
                break;
            }
            dst->u.a.items[i] = child;
            dst->u.a.len++;
        } else {
            const zm_json_member *m = &src->u.o.items[i];
            char *key = zm_strndup(a, m->key ? m->key : "", m->key_len);
            if (key == NULL) {
                st = ZM_ENOMEM;
                break;
            }
            schild = m->value;
            child = copy_shallow(a, schild);
            if (child == NULL) {
                zm_free(a, key, m->key_len + 1, 1);
                st = ZM_ENOMEM;
                break;
            }
            dst->u.o.items[i] = (zm_json_member){key, m->key_len, child};
            dst->u.o.len++;
        }
        if (zm_json_len(schild) > 0) {
            if (n == cap &&
                !zm__stack_grow(a, &stack, &cap, sizeof(clone_frame), &on_heap, n + 1)) {
                st = ZM_ENOMEM;
                break;
            }
            ((clone_frame *)stack)[n++] = (clone_frame){schild, child};
        }
    }
    zm__stack_free(a, stack, cap, sizeof(clone_frame), on_heap);
    if (st != ZM_OK) {
        zm_json_free(a, root);
        return st;
    }
    *out = root;
    return ZM_OK;
}
