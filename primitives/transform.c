/* JSON transforms: RFC 6901 pointers, RFC 7396 merge patch, RFC 6902 patch
   (pick and omit are in transform_pick.c). Copy-on-write over immutable
   inputs, in a caller's arena. */
#include <stdarg.h>
#include <stdio.h>

#include "transform_internal.h"

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

zm_status zm__transform_fail(zm_transform_error *err, zm_status st, const char *field,
                             const char *fmt, ...) {
    if (err == NULL) return st;
    err->status = st;
    err->has_field = field != NULL;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return st;
}

/* ---------------------------------------------------------------------------
 * Pointers
 * ------------------------------------------------------------------------- */

/* Splits and unescapes a JSON pointer into tokens in ar. */
zm_status zm__transform_parse_pointer(zm_arena *ar, const char *s, size_t len, pointer *out,
                                      zm_transform_error *err, const char *field) {
    out->text = s;
    out->text_len = len;
    out->toks = NULL;
    out->n = 0;
    if (len == 0) return ZM_OK;
    if (s[0] != '/')
        return zm__transform_fail(err, ZM_EINVAL, field,
                                  "\"%.*s\" is not a JSON pointer: it must be empty or "
                                  "start with '/'",
                                  QLEN(len), s);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += s[i] == '/';
    ptok *toks = zm_arena_new_array(ar, ptok, n);
    char *buf = len < SIZE_MAX - n ? zm_arena_alloc(ar, len + n, 1) : NULL;
    if (toks == NULL || buf == NULL) return ZM_ENOMEM;
    size_t k = 0, i = 1;
    while (k < n) {
        toks[k].p = buf;
        toks[k].raw = i;
        size_t dl = 0;
        for (; i < len && s[i] != '/'; i++) {
            char c = s[i];
            if (c == '~') {
                char e = i + 1 < len ? s[i + 1] : '\0';
                if (e != '0' && e != '1')
                    return zm__transform_fail(
                        err, ZM_EINVAL, field,
                        "\"%.*s\": bad escape in token %zu: '~' must be followed by "
                        "'0' or '1'",
                        QLEN(len), s, k);
                c = e == '0' ? '~' : '/';
                i++;
            }
            buf[dl++] = c;
        }
        buf[dl] = '\0';
        toks[k].len = dl;
        buf += dl + 1;
        i++; /* the next '/' */
        k++;
    }
    out->toks = toks;
    out->n = n;
    return ZM_OK;
}

/* Reads an array index token: decimal digits, no leading zero. */
static bool parse_index(const ptok *t, size_t *idx) {
    if (t->len == 0 || t->len > 19) return false;
    if (t->len > 1 && t->p[0] == '0') return false;
    size_t v = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->p[i] < '0' || t->p[i] > '9') return false;
        v = v * 10 + (size_t)(t->p[i] - '0');
    }
    *idx = v;
    return true;
}

/* The position of the first member key in obj, or SIZE_MAX. */
static size_t member_index(const zm_json *obj, const char *key, size_t len) {
    for (size_t i = 0; i < obj->u.o.len; i++) {
        const zm_json_member *m = &obj->u.o.items[i];
        if (m->key_len == len && (len == 0 || memcmp(m->key, key, len) == 0)) return i;
    }
    return SIZE_MAX;
}

/* The prefix of a pointer's text before token k: where token k applies. */
static int prefix_len(const pointer *p, size_t k) {
    size_t n = p->toks[k].raw - 1;
    return QLEN(n);
}

/* One step down from v along token k of p; *out the child, or NULL with a
   message in msg. "-" never designates anything. */
static const zm_json *child(const zm_json *v, const pointer *p, size_t k, char *msg,
                            size_t msg_size) {
    const ptok *t = &p->toks[k];
    if (zm_json_is_object(v)) {
        const zm_json *c = zm_json_getn(v, t->p, t->len);
        if (c == NULL)
            snprintf(msg, msg_size, "no member \"%.*s\" in the object at \"%.*s\"", QLEN(t->len),
                     t->p, prefix_len(p, k), p->text);
        return c;
    }
    if (zm_json_is_array(v)) {
        size_t idx;
        if (t->len == 1 && t->p[0] == '-') {
            snprintf(msg, msg_size,
                     "token \"-\" designates no item (it is past the end of the array at \"%.*s\")",
                     prefix_len(p, k), p->text);
            return NULL;
        }
        if (!parse_index(t, &idx)) {
            snprintf(msg, msg_size, "\"%.*s\" is not an array index (the array at \"%.*s\")",
                     QLEN(t->len), t->p, prefix_len(p, k), p->text);
            return NULL;
        }
        if (idx >= zm_json_len(v)) {
            snprintf(msg, msg_size,
                     "index %zu is out of range: the array at \"%.*s\" has %zu items", idx,
                     prefix_len(p, k), p->text, zm_json_len(v));
            return NULL;
        }
        return zm_json_at(v, idx);
    }
    snprintf(msg, msg_size, "token \"%.*s\" cannot apply: the value at \"%.*s\" is %s",
             QLEN(t->len), t->p, prefix_len(p, k), p->text, zm__transform_type_name(v));
    return NULL;
}

/* Resolves tokens [0, n) of p from doc. */
static const zm_json *resolve(const zm_json *doc, const pointer *p, size_t n, char *msg,
                              size_t msg_size) {
    const zm_json *v = doc;
    for (size_t k = 0; k < n && v != NULL; k++) v = child(v, p, k, msg, msg_size);
    return v;
}

zm_status zm_transform_pointer(const zm_json *doc, const char *ptr, size_t len, const zm_json **out,
                               zm_transform_error *err) {
    zm__transform_clear_error(err);
    if (ptr == NULL && len > 0) return zm__transform_fail(err, ZM_EINVAL, "", "no pointer");
    if (len == 0) {
        *out = doc;
        return ZM_OK;
    }
    if (ptr[0] != '/')
        return zm__transform_fail(
            err, ZM_EINVAL, "",
            "\"%.*s\" is not a JSON pointer: it must be empty or start with '/'", QLEN(len), ptr);
    /* Walk without allocating: decode each token into a bounded buffer. */
    const zm_json *v = doc;
    size_t i = 1, k = 0;
    char tok[256];
    for (;;) {
        size_t start = i, dl = 0;
        bool too_long = false;
        for (; i < len && ptr[i] != '/'; i++) {
            char c = ptr[i];
            if (c == '~') {
                char e = i + 1 < len ? ptr[i + 1] : '\0';
                if (e != '0' && e != '1')
                    return zm__transform_fail(
                        err, ZM_EINVAL, "",
                        "\"%.*s\": bad escape in token %zu: '~' must be followed by "
                        "'0' or '1'",
                        QLEN(len), ptr, k);
                c = e == '0' ? '~' : '/';
                i++;
            }
            if (dl < sizeof tok - 1)
                tok[dl++] = c;
            else
                too_long = true;
        }
        tok[dl] = '\0';
        ptok t = {tok, dl, start};
        pointer p = {ptr, len, &t, 1};
        char msg[200];
        const zm_json *c = NULL;
        if (too_long) {
            /* Longer than any token we decode on the stack: compare the
               member by its raw text only when it has no escapes. */
            snprintf(msg, sizeof msg, "token %zu is too long", k);
            bool escaped = memchr(ptr + start, '~', i - start) != NULL;
            if (!escaped && zm_json_is_object(v)) {
                c = zm_json_getn(v, ptr + start, i - start);
                if (c == NULL)
                    snprintf(msg, sizeof msg, "no member \"%.*s\" in the object at \"%.*s\"",
                             QLEN(i - start), ptr + start, QLEN(start - 1), ptr);
            }
        } else {
            c = child(v, &p, 0, msg, sizeof msg);
        }
        if (c == NULL)
            return zm__transform_fail(err, ZM_ENOTFOUND, "", "\"%.*s\": token %zu: %s", QLEN(len),
                                      ptr, k, msg);
        v = c;
        k++;
        if (i >= len) break;
        i++; /* past '/' */
    }
    *out = v;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Copy-on-write building blocks. New containers borrow the keys and share
 * the values of the old ones.
 * ------------------------------------------------------------------------- */

enum { EDIT_REPLACE, EDIT_REMOVE, EDIT_INSERT };

/* A copy of object obj with member idx replaced by val or removed. */
static zm_json *obj_edit(zm_allocator a, const zm_json *obj, size_t idx, int edit, zm_json *val) {
    size_t n = obj->u.o.len;
    zm_json *o = zm_json_new_object(a, n);
    if (o == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        const zm_json_member *m = &obj->u.o.items[i];
        zm_json *v = m->value;
        if (i == idx) {
            if (edit == EDIT_REMOVE) continue;
            v = val;
        }
        if (zm_json_object_add_ref(a, o, m->key, m->key_len, v) != ZM_OK) return NULL;
    }
    return o;
}

/* A copy of object obj with a new member appended (the key is borrowed and
   must be NUL-terminated). */
static zm_json *obj_append(zm_allocator a, const zm_json *obj, const char *key, size_t len,
                           zm_json *val) {
    zm_json *o = obj_edit(a, obj, SIZE_MAX, EDIT_REPLACE, NULL);
    if (o == NULL || zm_json_object_add_ref(a, o, key, len, val) != ZM_OK) return NULL;
    return o;
}

/* A copy of array arr with item idx replaced, removed, or val inserted
   before it (idx may be the length then). */
static zm_json *arr_edit(zm_allocator a, const zm_json *arr, size_t idx, int edit, zm_json *val) {
    size_t n = arr->u.a.len;
    zm_json *r = zm_json_new_array(a, n + 1);
    if (r == NULL) return NULL;
    for (size_t i = 0; i <= n; i++) {
        if (i == idx && edit == EDIT_INSERT && zm_json_array_push(a, r, val) != ZM_OK) return NULL;
        if (i == n) break;
        zm_json *v = arr->u.a.items[i];
        if (i == idx && edit == EDIT_REMOVE) continue;
        if (i == idx && edit == EDIT_REPLACE) v = val;
        if (zm_json_array_push(a, r, v) != ZM_OK) return NULL;
    }
    return r;
}

/* A copy of container c with its child designated by token t replaced by
   val. t is known to designate an existing child. */
static zm_json *replace_child(zm_allocator a, const zm_json *c, const ptok *t, zm_json *val) {
    if (zm_json_is_object(c))
        return obj_edit(a, c, member_index(c, t->p, t->len), EDIT_REPLACE, val);
    size_t idx = 0;
    parse_index(t, &idx);
    return arr_edit(a, c, idx, EDIT_REPLACE, val);
}

/* ---------------------------------------------------------------------------
 * RFC 6902 patch
 * ------------------------------------------------------------------------- */

typedef struct patcher {
    zm_arena *ar;
    zm_allocator a;
    zm_transform_error *err;
    size_t op;
    const char *opname;
} patcher;

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
static zm_status
op_fail(patcher *pt, zm_status st, const char *member, const char *fmt, ...) {
    if (pt->err == NULL) return st;
    char field[64], msg[200];
    if (member)
        snprintf(field, sizeof field, "/%zu/%s", pt->op, member);
    else
        snprintf(field, sizeof field, "/%zu", pt->op);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (st == ZM_ENOMEM) return zm__transform_fail(pt->err, st, NULL, "out of memory");
    return zm__transform_fail(pt->err, st, field, "operation %zu (%s): %s", pt->op,
                              pt->opname ? pt->opname : "?", msg);
}

/* The containers along p down to the parent of its last token: chain[k] is
   the value tokens [0, k) designate, for k in [0, n - 1]. */
static zm_status parent_chain(patcher *pt, const zm_json *doc, const pointer *p, const char *member,
                              const zm_json ***chain) {
    const zm_json **c = zm_arena_new_array(pt->ar, const zm_json *, p->n);
    if (c == NULL) return ZM_ENOMEM;
    c[0] = doc;
    char msg[200];
    for (size_t k = 1; k < p->n; k++) {
        c[k] = child(c[k - 1], p, k - 1, msg, sizeof msg);
        if (c[k] == NULL)
            return op_fail(pt, ZM_EINVAL, member, "\"%.*s\": %s", QLEN(p->text_len), p->text, msg);
    }
    if (!zm_json_is_object(c[p->n - 1]) && !zm_json_is_array(c[p->n - 1]))
        return op_fail(pt, ZM_EINVAL, member,
                       "\"%.*s\": token \"%.*s\" cannot apply: the value at \"%.*s\" is %s",
                       QLEN(p->text_len), p->text, QLEN(p->toks[p->n - 1].len), p->toks[p->n - 1].p,
                       prefix_len(p, p->n - 1), p->text, zm__transform_type_name(c[p->n - 1]));
    *chain = c;
    return ZM_OK;
}

/* Rebuilds the spine above a new version of chain[n - 1]. */
static zm_status rebuild(patcher *pt, const zm_json **chain, const pointer *p, zm_json *leaf,
                         const zm_json **out) {
    zm_json *cur = leaf;
    if (cur == NULL) return ZM_ENOMEM;
    for (size_t k = p->n - 1; k-- > 0;) {
        cur = replace_child(pt->a, chain[k], &p->toks[k], cur);
        if (cur == NULL) return ZM_ENOMEM;
    }
    *out = cur;
    return ZM_OK;
}

static zm_status op_add(patcher *pt, const zm_json *doc, const pointer *p, zm_json *val,
                        const zm_json **out) {
    if (p->n == 0) {
        *out = val;
        return ZM_OK;
    }
    const zm_json **chain;
    zm_status st = parent_chain(pt, doc, p, "path", &chain);
    if (st != ZM_OK) return st;
    const zm_json *parent = chain[p->n - 1];
    const ptok *t = &p->toks[p->n - 1];
    zm_json *leaf;
    if (zm_json_is_object(parent)) {
        size_t idx = member_index(parent, t->p, t->len);
        leaf = idx != SIZE_MAX ? obj_edit(pt->a, parent, idx, EDIT_REPLACE, val)
                               : obj_append(pt->a, parent, t->p, t->len, val);
    } else {
        size_t idx, len = zm_json_len(parent);
        if (t->len == 1 && t->p[0] == '-')
            idx = len;
        else if (!parse_index(t, &idx))
            return op_fail(pt, ZM_EINVAL, "path", "\"%.*s\": \"%.*s\" is not an array index",
                           QLEN(p->text_len), p->text, QLEN(t->len), t->p);
        else if (idx > len)
            return op_fail(pt, ZM_EINVAL, "path",
                           "\"%.*s\": index %zu is out of range: the array has %zu items",
                           QLEN(p->text_len), p->text, idx, len);
        leaf = arr_edit(pt->a, parent, idx, EDIT_INSERT, val);
    }
    return rebuild(pt, chain, p, leaf, out);
}

/* Removes (val NULL) or replaces (val non-NULL) the value p designates. */
static zm_status op_remove_replace(patcher *pt, const zm_json *doc, const pointer *p,
                                   const char *member, zm_json *val, const zm_json **out) {
    if (p->n == 0) {
        if (val == NULL)
            return op_fail(pt, ZM_EINVAL, member, "the whole document cannot be removed");
        *out = val;
        return ZM_OK;
    }
    const zm_json **chain;
    zm_status st = parent_chain(pt, doc, p, member, &chain);
    if (st != ZM_OK) return st;
    char msg[200];
    if (child(chain[p->n - 1], p, p->n - 1, msg, sizeof msg) == NULL)
        return op_fail(pt, ZM_EINVAL, member, "\"%.*s\": %s", QLEN(p->text_len), p->text, msg);
    const zm_json *parent = chain[p->n - 1];
    const ptok *t = &p->toks[p->n - 1];
    int edit = val ? EDIT_REPLACE : EDIT_REMOVE;
    zm_json *leaf;
    if (zm_json_is_object(parent)) {
        leaf = obj_edit(pt->a, parent, member_index(parent, t->p, t->len), edit, val);
    } else {
        size_t idx = 0;
        parse_index(t, &idx);
        leaf = arr_edit(pt->a, parent, idx, edit, val);
    }
    return rebuild(pt, chain, p, leaf, out);
}

static const char *const OPS[] = {"add", "remove", "replace", "move", "copy", "test"};
enum { OP_ADD, OP_REMOVE, OP_REPLACE, OP_MOVE, OP_COPY, OP_TEST, OP_COUNT };

/* Reads member name of op as a pointer. */
static zm_status op_pointer(patcher *pt, const zm_json *op, const char *name, pointer *p) {
    const zm_json *v = zm_json_get(op, name);
    if (v == NULL) return op_fail(pt, ZM_EINVAL, name, "member \"%s\" is missing", name);
    if (!zm_json_is_string(v))
        return op_fail(pt, ZM_EINVAL, name, "member \"%s\" must be a string", name);
    size_t len;
    const char *s = zm_json_str(v, &len);
    char field[64];
    snprintf(field, sizeof field, "/%zu/%s", pt->op, name);
    zm_status st = zm__transform_parse_pointer(pt->ar, s, len, p, pt->err, field);
    if (st == ZM_EINVAL && pt->err != NULL) {
        char msg[sizeof pt->err->message];
        memcpy(msg, pt->err->message, sizeof msg);
        return op_fail(pt, ZM_EINVAL, name, "%s", msg);
    }
    if (st == ZM_ENOMEM) return op_fail(pt, st, NULL, "out of memory");
    return st;
}

/* True when pointer a is a proper prefix of pointer b (token-wise). */
static bool proper_prefix(const pointer *a, const pointer *b) {
    if (a->n >= b->n) return false;
    for (size_t k = 0; k < a->n; k++)
        if (a->toks[k].len != b->toks[k].len ||
            memcmp(a->toks[k].p, b->toks[k].p, a->toks[k].len) != 0)
            return false;
    return true;
}

/* True when pointers a and b designate the same location. */
static bool same_pointer(const pointer *a, const pointer *b) {
    if (a->n != b->n) return false;
    for (size_t k = 0; k < a->n; k++)
        if (a->toks[k].len != b->toks[k].len ||
            memcmp(a->toks[k].p, b->toks[k].p, a->toks[k].len) != 0)
            return false;
    return true;
}

static zm_status apply_op(patcher *pt, const zm_json *doc, const zm_json *op, const zm_json **out) {
    pt->opname = NULL;
    if (!zm_json_is_object(op))
        return op_fail(pt, ZM_EINVAL, NULL, "an operation must be an object, not %s",
                       zm__transform_type_name(op));
    const zm_json *name = zm_json_get(op, "op");
    if (name == NULL) return op_fail(pt, ZM_EINVAL, "op", "member \"op\" is missing");
    size_t nlen;
    const char *ns = zm_json_str(name, &nlen);
    int kind = OP_COUNT;
    for (int i = 0; i < OP_COUNT && ns != NULL; i++)
        if (strlen(OPS[i]) == nlen && memcmp(OPS[i], ns, nlen) == 0) kind = i;
    if (kind == OP_COUNT)
        return op_fail(pt, ZM_EINVAL, "op",
                       "\"op\" must be one of add, remove, replace, move, copy, test");
    pt->opname = OPS[kind];

    pointer path, from;
    zm_status st = op_pointer(pt, op, "path", &path);
    if (st != ZM_OK) return st;
    zm_json *val = NULL;
    if (kind == OP_ADD || kind == OP_REPLACE || kind == OP_TEST) {
        val = zm_json_get(op, "value");
        if (val == NULL) return op_fail(pt, ZM_EINVAL, "value", "member \"value\" is missing");
    }
    if (kind == OP_MOVE || kind == OP_COPY) {
        st = op_pointer(pt, op, "from", &from);
        if (st != ZM_OK) return st;
    }
    char msg[200];
    switch (kind) {
    case OP_ADD: return op_add(pt, doc, &path, val, out);
    case OP_REMOVE: return op_remove_replace(pt, doc, &path, "path", NULL, out);
    case OP_REPLACE: return op_remove_replace(pt, doc, &path, "path", val, out);
    case OP_TEST: {
        const zm_json *got = resolve(doc, &path, path.n, msg, sizeof msg);
        if (got == NULL)
            return op_fail(pt, ZM_EINVAL, "path", "\"%.*s\": %s", QLEN(path.text_len), path.text,
                           msg);
        bool eq;
        st = zm_json_equal(pt->a, got, val, &eq);
        if (st != ZM_OK) return op_fail(pt, st, "value", "%s", zm_status_str(st));
        if (!eq)
            return op_fail(pt, ZM_EINVAL, "value",
                           "test failed: the value at \"%.*s\" is not equal to \"value\"",
                           QLEN(path.text_len), path.text);
        *out = doc;
        return ZM_OK;
    }
    case OP_MOVE:
    case OP_COPY: {
        const zm_json *v = resolve(doc, &from, from.n, msg, sizeof msg);
        if (v == NULL)
            return op_fail(pt, ZM_EINVAL, "from", "\"%.*s\": %s", QLEN(from.text_len), from.text,
                           msg);
        if (kind == OP_COPY) return op_add(pt, doc, &path, (zm_json *)v, out);
        if (proper_prefix(&from, &path))
            return op_fail(pt, ZM_EINVAL, "from",
                           "\"%.*s\" cannot be moved into one of its own children",
                           QLEN(from.text_len), from.text);
        if (same_pointer(&from, &path)) {
            *out = doc; /* moving a value onto itself */
            return ZM_OK;
        }
        const zm_json *mid;
        st = op_remove_replace(pt, doc, &from, "from", NULL, &mid);
        if (st != ZM_OK) return st;
        return op_add(pt, mid, &path, (zm_json *)v, out);
    }
    }
    return ZM_EINTERNAL;
}

zm_status zm_transform_patch(zm_arena *ar, const zm_json *doc, const zm_json *patch,
                             const zm_json **out, zm_transform_error *err) {
    zm__transform_clear_error(err);
    if (!zm_json_is_array(patch))
        return zm__transform_fail(err, ZM_EINVAL, "",
                                  "a patch must be an array of operations, not %s",
                                  zm__transform_type_name(patch));
    zm_arena_mark mark = zm_arena_save(ar);
    patcher pt = {ar, zm_arena_allocator(ar), err, 0, NULL};
    const zm_json *cur = doc;
    for (size_t i = 0; i < zm_json_len(patch); i++) {
        pt.op = i;
        const zm_json *next;
        zm_status st = apply_op(&pt, cur, zm_json_at(patch, i), &next);
        if (st != ZM_OK) {
            if (st == ZM_ENOMEM) zm__transform_fail(err, st, NULL, "out of memory");
            zm_arena_restore(ar, mark);
            return st;
        }
        cur = next;
    }
    *out = cur;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * RFC 7396 merge patch
 * ------------------------------------------------------------------------- */

static zm_json *merge(zm_allocator a, const zm_json *target, const zm_json *patch, size_t depth,
                      zm_status *st) {
    if (!zm_json_is_object(patch)) return (zm_json *)patch;
    if (depth >= ZM_JSON_DEFAULT_MAX_DEPTH) {
        *st = ZM_EDEPTH;
        return NULL;
    }
    static const zm_json empty = {.type = ZM_JSON_OBJECT};
    if (!zm_json_is_object(target)) target = &empty;
    zm_json *o = zm_json_new_object(a, target->u.o.len + patch->u.o.len);
    if (o == NULL) goto nomem;
    /* Members of the target, in order: kept, merged or removed. */
    for (size_t i = 0; i < target->u.o.len; i++) {
        const zm_json_member *m = &target->u.o.items[i];
        const zm_json *p = zm_json_getn(patch, m->key, m->key_len);
        zm_json *v = m->value;
        if (p != NULL) {
            if (zm_json_is_null(p)) continue;
            v = merge(a, m->value, p, depth + 1, st);
            if (v == NULL) return NULL;
        }
        if (zm_json_object_add_ref(a, o, m->key, m->key_len, v) != ZM_OK) goto nomem;
    }
    /* Members new to the target, in the patch's order. */
    for (size_t i = 0; i < patch->u.o.len; i++) {
        const zm_json_member *m = &patch->u.o.items[i];
        if (zm_json_is_null(m->value)) continue;
        if (zm_json_getn(target, m->key, m->key_len) != NULL) continue;
        if (zm_json_getn(o, m->key, m->key_len) != NULL) continue; /* a duplicate */
        zm_json *v = merge(a, NULL, m->value, depth + 1, st);
        if (v == NULL) return NULL;
        if (zm_json_object_add_ref(a, o, m->key, m->key_len, v) != ZM_OK) goto nomem;
    }
    return o;
nomem:
    *st = ZM_ENOMEM;
    return NULL;
}

zm_status zm_transform_merge_patch(zm_arena *ar, const zm_json *target, const zm_json *patch,
                                   const zm_json **out, zm_transform_error *err) {
    zm__transform_clear_error(err);
    zm_arena_mark mark = zm_arena_save(ar);
    zm_status st = ZM_OK;
    zm_json *r = merge(zm_arena_allocator(ar), target, patch, 0, &st);
    if (r == NULL) {
        zm_arena_restore(ar, mark);
        if (st == ZM_EDEPTH)
            return zm__transform_fail(err, st, "",
                                      "the merge patch is nested deeper than %d levels",
                                      ZM_JSON_DEFAULT_MAX_DEPTH);
        return zm__transform_fail(err, ZM_ENOMEM, NULL, "out of memory");
    }
    *out = r;
    return ZM_OK;
}
