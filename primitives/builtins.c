/* Registering the built-in primitives, and the helpers they share. */
#include "builtins_internal.h"

zm_status zm_prim_register_builtins(zm_prim_registry *reg, zm_store *s) {
    const zm_prim_def *defs[] = {
        &zm__bi_store, &zm__bi_retrieve,  &zm__bi_search,
        &zm__bi_link,  &zm__bi_neighbors, &zm__bi_transform,
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
    if (zm_json_get_int(v, &i) != ZM_OK) {
        char field[64];
        snprintf(field, sizeof field, "/%s", name);
        return zm_prim_fail(ctx, ZM_EINVAL, field, "%s must be an integer", name);
    }
    *out = i;
    return ZM_OK;
}

zm_status zm__bi_oom(zm_prim_ctx *ctx) {
    return zm_prim_fail(ctx, ZM_ENOMEM, NULL, "out of memory");
}

zm_status zm__bi_fail(zm_prim_ctx *ctx, zm_status st, const char *field, const char *what) {
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
