/* Registering the built-in primitives, and the helpers they share. */
#include <math.h>

#include "builtins_internal.h"

/* A batch request is one transaction of the store. */
static zm_status batch_begin(zm_prim_ctx *ctx, void *userdata) {
    zm_status st = zm_store_begin((zm_store *)userdata);
    return st == ZM_OK ? ZM_OK : zm__bi_fail(ctx, st, NULL, "the batch's transaction");
}

static zm_status batch_commit(zm_prim_ctx *ctx, void *userdata) {
    zm_status st = zm_store_commit((zm_store *)userdata);
    return st == ZM_OK ? ZM_OK : zm__bi_fail(ctx, st, NULL, "the batch's commit");
}

static void batch_rollback(zm_prim_ctx *ctx, void *userdata) {
    (void)ctx;
    zm_store_rollback((zm_store *)userdata); /* memory: ZM_ENOTSUP, its writes stay */
}

zm_status zm_prim_register_builtins(zm_prim_registry *reg, zm_store *s) {
    zm_prim_batch_hooks hooks = {batch_begin, batch_commit, batch_rollback, s};
    zm_prim_registry_set_batch_hooks(reg, &hooks);
    const zm_prim_def *defs[] = {
        &zm__bi_store,        &zm__bi_retrieve,  &zm__bi_search,        &zm__bi_link,
        &zm__bi_neighbors,    &zm__bi_transform, &zm__bi_forget,        &zm__bi_unlink,
        &zm__bi_template_put, &zm__bi_render,    &zm__bi_template_list, &zm__bi_template_delete,
        &zm__bi_memory,
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        zm_prim_def d = *defs[i];
        d.userdata = s;
        zm_status st = zm_prim_register(reg, &d, NULL);
        if (st != ZM_OK) return st;
    }
    return ZM_OK;
}

zm_status zm__bi_param_int(zm_prim_ctx *ctx, const zm_json *params, const char *name,
                           int64_t *out) {
    const zm_json *v = zm_json_get(params, name);
    if (v == NULL) return ZM_OK;
    int64_t i;
    zm_status st = zm_json_get_int(v, &i);
    if (st != ZM_OK) {
        char field[64];
        snprintf(field, sizeof field, "/%s", name);
        double d = zm_json_real(v);
        if (st == ZM_ELIMIT && isfinite(d) && d == floor(d))
            return zm_prim_fail(ctx, ZM_EINVAL, field,
                                "%s is out of range (a 64-bit signed integer: -2^63 to 2^63-1)",
                                name);
        return zm_prim_fail(ctx, ZM_EINVAL, field, "%s must be an integer", name);
    }
    *out = i;
    return ZM_OK;
}

zm_status zm__bi_oom(zm_prim_ctx *ctx) {
    return zm_prim_fail(ctx, ZM_ENOMEM, NULL, "out of memory");
}

zm_status zm__bi_fail(zm_prim_ctx *ctx, zm_status st, const char *field, const char *what) {
    const char *msg = zm_store_errmsg();
    if (st != ZM_ENOMEM && msg[0] != '\0')
        return zm_prim_fail(ctx, st, field, "%s failed: %s", what, msg);
    switch (st) {
    case ZM_ENOMEM: return zm__bi_oom(ctx);
    case ZM_ELIMIT:
        return zm_prim_fail(ctx, st, field, "%s refused: over one of the store's limits", what);
    case ZM_EINVAL:
        return zm_prim_fail(ctx, st, field,
                            "%s refused: invalid UTF-8, an empty name or a non-finite number",
                            what);
    default: return zm_prim_fail(ctx, st, field, "%s failed: %s", what, zm_status_str(st));
    }
}

/* How many bytes of a name (len bytes at p) messages show: at most 200, cut
   at a UTF-8 boundary. */
static int shown_name(const char *p, size_t len) {
    if (len <= 200) return (int)len;
    size_t n = 200;
    while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80) n--;
    return (int)n;
}

/* Reports a name the store refuses; ZM_OK when it is fine. */
static zm_status refused_name(zm_prim_ctx *ctx, const zm_store_limits *lim, const zm__bi_part *p) {
    bool agent = p->field == NULL;
    if (p->len > lim->max_key_len)
        return zm_prim_fail(ctx, ZM_ELIMIT, p->field, "%s is %zu bytes long; the limit is %zu",
                            p->what, p->len, lim->max_key_len);
    if (p->len == 0)
        return agent ? ZM_OK : zm_prim_fail(ctx, ZM_EINVAL, p->field, "%s is empty", p->what);
    if (!zm_utf8_valid(p->str, p->len)) {
        int k = shown_name(p->str, p->len);
        return zm_prim_fail(ctx, ZM_EINVAL, p->field, "%s \"%.*s%s\" is not valid UTF-8", p->what,
                            k, p->str, (size_t)k < p->len ? "..." : "");
    }
    return ZM_OK;
}

/* Reports a value the store refuses (bytes: what earlier values took);
   ZM_OK when it is fine. */
static zm_status refused_value(zm_prim_ctx *ctx, const zm_store_limits *lim, const zm__bi_part *p,
                               size_t *bytes) {
    size_t before = *bytes;
    zm_store_why why;
    zm_status st = zm_store_check_value(lim, p->value, bytes, &why);
    if (st == ZM_OK) return ZM_OK;
    switch (why) {
    case ZM_STORE_WHY_SIZE: {
        size_t alone = 0;
        if (before > 0 && zm_store_check_value(lim, p->value, &alone, NULL) == ZM_OK)
            return zm_prim_fail(ctx, st, p->field,
                                "value and metadata together are over the store's size limit "
                                "of %zu bytes",
                                lim->max_value_bytes);
        return zm_prim_fail(ctx, st, p->field, "%s is over the store's size limit of %zu bytes",
                            p->what, lim->max_value_bytes);
    }
    case ZM_STORE_WHY_DEPTH:
        return zm_prim_fail(ctx, st, p->field,
                            "%s is nested deeper than the store's limit of %zu levels", p->what,
                            lim->max_depth);
    case ZM_STORE_WHY_UTF8:
        return zm_prim_fail(ctx, st, p->field, "%s holds invalid UTF-8", p->what);
    default: return zm_prim_fail(ctx, st, p->field, "%s holds a non-finite number", p->what);
    }
}

zm_status zm__bi_refused(zm_prim_ctx *ctx, zm_store *s, zm_status st, const zm__bi_part *parts,
                         size_t n, const char *op) {
    zm_store_limits lim;
    zm_store_get_limits(s, &lim);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const zm__bi_part *p = &parts[i];
        zm_status why =
            p->value != NULL ? refused_value(ctx, &lim, p, &bytes) : refused_name(ctx, &lim, p);
        if (why != ZM_OK) return why;
    }
    return zm__bi_fail(ctx, st, NULL, op);
}

zm_json *zm__bi_edge_json(zm__build *b, const zm_store_edge *e) {
    zm_json *o = zm__b_obj(b, 6);
    zm__b_set(b, o, "from", zm__b_ref(b, e->from, e->from_len));
    zm__b_set(b, o, "to", zm__b_ref(b, e->to, e->to_len));
    zm__b_set(b, o, "relation", zm__b_ref(b, e->relation, e->relation_len));
    zm__b_set(b, o, "metadata", e->metadata ? e->metadata : zm__b_null(b));
    zm__b_set(b, o, "timestamp", zm__b_int(b, e->timestamp));
    zm__b_set(b, o, "agent", zm__b_ref(b, e->agent, e->agent_len));
    return o;
}
