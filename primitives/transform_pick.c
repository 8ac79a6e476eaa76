/* JSON transforms: pick and omit. The fields make a selection tree,
   projected over doc; copy-on-write, in a caller's arena. */
#include "transform_internal.h"

typedef struct sel {
    const char *tok;
    size_t len;
    bool whole; /* everything below is selected */
    struct sel *kids;
    size_t nkids, cap;
} sel;

static sel *sel_child(zm_arena *ar, sel *s, const char *tok, size_t len) {
    for (size_t i = 0; i < s->nkids; i++)
        if (s->kids[i].len == len && memcmp(s->kids[i].tok, tok, len) == 0) return &s->kids[i];
    if (s->nkids == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 4;
        sel *k = zm_arena_new_array(ar, sel, ncap);
        if (k == NULL) return NULL;
        if (s->nkids) memcpy(k, s->kids, s->nkids * sizeof *k);
        s->kids = k;
        s->cap = ncap;
    }
    sel *c = &s->kids[s->nkids++];
    memset(c, 0, sizeof *c);
    c->tok = tok;
    c->len = len;
    return c;
}

static zm_status build_selection(zm_arena *ar, const zm_json *fields, sel *root,
                                 zm_transform_error *err) {
    memset(root, 0, sizeof *root);
    if (!zm_json_is_array(fields))
        return zm__transform_fail(err, ZM_EINVAL, "", "fields must be an array of strings, not %s",
                                  zm__transform_type_name(fields));
    for (size_t i = 0; i < zm_json_len(fields); i++) {
        const zm_json *f = zm_json_at(fields, i);
        char field[32];
        snprintf(field, sizeof field, "/%zu", i);
        if (!zm_json_is_string(f))
            return zm__transform_fail(err, ZM_EINVAL, field, "field %zu must be a string, not %s",
                                      i, zm__transform_type_name(f));
        size_t len;
        const char *s = zm_json_str(f, &len);
        sel *cur = root;
        if (len > 0 && s[0] == '/') {
            pointer p;
            zm_status st = zm__transform_parse_pointer(ar, s, len, &p, err, field);
            if (st == ZM_ENOMEM) return zm__transform_fail(err, st, NULL, "out of memory");
            if (st != ZM_OK) return st;
            for (size_t k = 0; k < p.n && !cur->whole; k++) {
                cur = sel_child(ar, cur, p.toks[k].p, p.toks[k].len);
                if (cur == NULL) return zm__transform_fail(err, ZM_ENOMEM, NULL, "out of memory");
            }
        } else {
            cur = sel_child(ar, cur, s, len);
            if (cur == NULL) return zm__transform_fail(err, ZM_ENOMEM, NULL, "out of memory");
        }
        cur->whole = true;
    }
    return ZM_OK;
}

/* The selected child of s for member key / item index, or NULL. */
static const sel *sel_find(const sel *s, const char *tok, size_t len) {
    for (size_t i = 0; i < s->nkids; i++)
        if (s->kids[i].len == len && memcmp(s->kids[i].tok, tok, len) == 0) return &s->kids[i];
    return NULL;
}

static const sel *sel_find_index(const sel *s, size_t idx) {
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%zu", idx);
    return sel_find(s, buf, (size_t)n);
}

/* The part of v that s selects; *none when nothing of it is (the result is
   then NULL with *st untouched). */
static zm_json *pick(zm_allocator a, const zm_json *v, const sel *s, bool *none, zm_status *st) {
    *none = false;
    if (s->whole) return (zm_json *)v;
    bool is_obj = zm_json_is_object(v);
    if (!is_obj && !zm_json_is_array(v)) {
        *none = true;
        return NULL;
    }
    size_t n = zm_json_len(v), kept = 0;
    zm_json *r = is_obj ? zm_json_new_object(a, s->nkids < n ? s->nkids : n)
                        : zm_json_new_array(a, s->nkids < n ? s->nkids : n);
    if (r == NULL) goto nomem;
    for (size_t i = 0; i < n; i++) {
        const zm_json_member *m = is_obj ? zm_json_member_at(v, i) : NULL;
        const sel *k = is_obj ? sel_find(s, m->key, m->key_len) : sel_find_index(s, i);
        if (k == NULL) continue;
        bool sub_none;
        zm_json *c = pick(a, is_obj ? m->value : zm_json_at(v, i), k, &sub_none, st);
        if (sub_none) continue;
        if (c == NULL) return NULL;
        zm_status ps = is_obj ? zm_json_object_add_ref(a, r, m->key, m->key_len, c)
                              : zm_json_array_push(a, r, c);
        if (ps != ZM_OK) goto nomem;
        kept++;
    }
    if (kept == 0) *none = true;
    return r;
nomem:
    *st = ZM_ENOMEM;
    return NULL;
}

/* v without what s selects; v itself when nothing of it is selected. */
static zm_json *omit(zm_allocator a, const zm_json *v, const sel *s, zm_status *st) {
    bool is_obj = zm_json_is_object(v);
    if (s->nkids == 0 || (!is_obj && !zm_json_is_array(v))) return (zm_json *)v;
    size_t n = zm_json_len(v);
    /* Nothing to change below v: share it. */
    bool touched = false;
    for (size_t i = 0; i < n && !touched; i++) {
        const zm_json_member *m = is_obj ? zm_json_member_at(v, i) : NULL;
        touched = (is_obj ? sel_find(s, m->key, m->key_len) : sel_find_index(s, i)) != NULL;
    }
    if (!touched) return (zm_json *)v;
    zm_json *r = is_obj ? zm_json_new_object(a, n) : zm_json_new_array(a, n);
    if (r == NULL) goto nomem;
    for (size_t i = 0; i < n; i++) {
        const zm_json_member *m = is_obj ? zm_json_member_at(v, i) : NULL;
        const sel *k = is_obj ? sel_find(s, m->key, m->key_len) : sel_find_index(s, i);
        zm_json *c = is_obj ? m->value : zm_json_at(v, i);
        if (k != NULL) {
            if (k->whole) continue;
            c = omit(a, c, k, st);
            if (c == NULL) return NULL;
        }
        zm_status ps = is_obj ? zm_json_object_add_ref(a, r, m->key, m->key_len, c)
                              : zm_json_array_push(a, r, c);
        if (ps != ZM_OK) goto nomem;
    }
    return r;
nomem:
    *st = ZM_ENOMEM;
    return NULL;
}

static zm_status pick_omit(zm_arena *ar, const zm_json *doc, const zm_json *fields,
                           const zm_json **out, zm_transform_error *err, bool picking) {
    zm__transform_clear_error(err);
    if (!zm_json_is_object(doc) && !zm_json_is_array(doc))
        return zm__transform_fail(err, ZM_EINVAL, NULL, "%s needs an object or an array, not %s",
                                  picking ? "pick" : "omit", zm__transform_type_name(doc));
    zm_arena_mark mark = zm_arena_save(ar);
    zm_allocator a = zm_arena_allocator(ar);
    sel root;
    zm_status st = build_selection(ar, fields, &root, err);
    if (st != ZM_OK) {
        zm_arena_restore(ar, mark);
        return st;
    }
    zm_json *r;
    st = ZM_OK;
    if (picking) {
        bool none;
        r = pick(a, doc, &root, &none, &st);
        if (none && st == ZM_OK)
            r = zm_json_is_object(doc) ? zm_json_new_object(a, 0) : zm_json_new_array(a, 0);
    } else {
        r = omit(a, doc, &root, &st);
    }
    if (r == NULL) {
        zm_arena_restore(ar, mark);
        return zm__transform_fail(err, ZM_ENOMEM, NULL, "out of memory");
    }
    *out = r;
    return ZM_OK;
}

zm_status zm_transform_pick(zm_arena *ar, const zm_json *doc, const zm_json *fields,
                            const zm_json **out, zm_transform_error *err) {
    return pick_omit(ar, doc, fields, out, err, true);
}

zm_status zm_transform_omit(zm_arena *ar, const zm_json *doc, const zm_json *fields,
                            const zm_json **out, zm_transform_error *err) {
    return pick_omit(ar, doc, fields, out, err, false);
}
