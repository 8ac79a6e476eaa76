/* The registry: primitives by name (a zm_map of positions in an array kept
   in registration order), with their copied names, descriptions and
   compiled schemas in one arena. */
#include <stdio.h>

#include "internal.h"
#include "zmem/array.h"

zm_status zm_prim_registry_create(zm_allocator a, zm_prim_registry **out) {
    zm_prim_registry *reg = zm_create(a, zm_prim_registry);
    if (reg == NULL) return ZM_ENOMEM;
    memset(reg, 0, sizeof *reg);
    reg->a = a;
    zm_arena_init(&reg->ar, a);
    *out = reg;
    return ZM_OK;
}

void zm_prim_registry_destroy(zm_prim_registry *reg) {
    if (reg == NULL) return;
    /* Last registered first, as arena cleanups run. */
    for (size_t i = reg->count; i-- > 0;)
        if (reg->prims[i].free_userdata != NULL)
            reg->prims[i].free_userdata(reg->prims[i].userdata);
    zm_arena_deinit(&reg->ar);
    zm_free_array(reg->a, reg->prims, reg->cap);
    zm__prim_index_deinit(reg->a, &reg->index);
    zm_destroy(reg->a, reg);
}

void zm_prim_registry_set_batch_hooks(zm_prim_registry *reg, const zm_prim_batch_hooks *hooks) {
    if (hooks == NULL)
        memset(&reg->batch_hooks, 0, sizeof reg->batch_hooks);
    else
        reg->batch_hooks = *hooks;
}

const zm__prim *zm__registry_find(const zm_prim_registry *reg, const char *name, size_t len) {
    const uint32_t *pos = zm__prim_index_get(&reg->index, name, len);
    return pos ? &reg->prims[*pos] : NULL;
}

/* Makes room for one more primitive in prims and index, so that adding it
   cannot fail. */
static zm_status reserve_one(zm_prim_registry *reg) {
    if (reg->count >= UINT32_MAX - 1) return ZM_ELIMIT;
    if (reg->count == reg->cap) {
        zm__prim *p = zm_array_grow_raw(reg->a, reg->prims, &reg->cap, reg->count + 1, sizeof *p,
                                        _Alignof(zm__prim));
        if (p == NULL) return ZM_ENOMEM;
        reg->prims = p;
    }
    /* Room for twice the names (the map then at most 3/8 full): lookups, one
       a call, seldom pass the home slot. */
    return zm__prim_index_reserve(reg->a, &reg->index, 2 * (reg->count + 1));
}

static zm_status fail_with(zm_json_error *err, zm_status st, const char *msg) {
    if (err != NULL) {
        memset(err, 0, sizeof *err);
        err->status = st;
        snprintf(err->message, sizeof err->message, "%s", msg);
    }
    return st;
}

zm_status zm_prim_register(zm_prim_registry *reg, const zm_prim_def *def,
                           zm_json_error *schema_err) {
    return zm_prim_register_with(reg, def, NULL, schema_err);
}

zm_status zm_prim_register_with(zm_prim_registry *reg, const zm_prim_def *def,
                                void (*free_userdata)(void *userdata), zm_json_error *schema_err) {
    if (def == NULL || def->name == NULL || def->name[0] == '\0' || def->fn == NULL)
        return fail_with(schema_err, ZM_EINVAL, "a primitive needs a name and a function");
    size_t name_len = strlen(def->name);
    if (zm__registry_find(reg, def->name, name_len) != NULL)
        return fail_with(schema_err, ZM_EEXIST, "a primitive of that name is registered");

    zm_arena_mark mark = zm_arena_save(&reg->ar);
    zm__prim p;
    memset(&p, 0, sizeof p);
    p.name_len = name_len;
    p.fn = def->fn;
    p.userdata = def->userdata;
    p.free_userdata = free_userdata;
    const char *desc = def->description ? def->description : "";
    p.name = zm_arena_strndup(&reg->ar, def->name, name_len);
    p.description = zm_arena_strndup(&reg->ar, desc, strlen(desc));
    zm_status st = ZM_ENOMEM;
    if (p.name == NULL || p.description == NULL) goto fail;
    if (def->input_schema != NULL) {
        size_t n = strlen(def->input_schema);
        p.schema_text = zm_arena_strndup(&reg->ar, def->input_schema, n);
        if (p.schema_text == NULL) goto fail;
        zm_json *root;
        st = zm_json_parse_arena(&reg->ar, p.schema_text, n, NULL, &root, schema_err);
        if (st != ZM_OK) goto fail;
        zm__schema *compiled;
        st = zm__schema_compile(&reg->ar, root, &compiled, schema_err);
        if (st != ZM_OK) goto fail;
        /* params are always an object: a root that refuses every object
           would make the primitive impossible to call. */
        if (compiled->never || (compiled->types != 0 && !(compiled->types & ZM__T_OBJECT))) {
            st = fail_with(schema_err, ZM_EINVAL,
                           compiled->never ? "the schema false accepts no params object: "
                                             "the primitive could never be called"
                                           : "/type: the root schema must accept an object "
                                             "(params are always an object)");
            goto fail;
        }
        p.schema = root;
        p.compiled = compiled;
    }
    st = reserve_one(reg);
    if (st != ZM_OK) goto fail;
    /* reserve_one made room: only a name past UINT32_MAX bytes is refused. */
    st = zm__prim_index_put(reg->a, &reg->index, p.name, name_len, (uint32_t)reg->count);
    if (st != ZM_OK) goto fail;
    reg->prims[reg->count++] = p;
    return ZM_OK;
fail:
    zm_arena_restore(&reg->ar, mark);
    if (st == ZM_ENOMEM) fail_with(schema_err, ZM_ENOMEM, "out of memory");
    return st;
}

size_t zm_prim_registry_count(const zm_prim_registry *reg) {
    return reg->count;
}

static void fill_info(const zm__prim *p, zm_prim_info *out) {
    out->name = p->name;
    out->name_len = p->name_len;
    out->description = p->description;
    out->input_schema = p->schema_text;
    out->schema = p->schema;
    out->userdata = p->userdata;
}

zm_status zm_prim_registry_at(const zm_prim_registry *reg, size_t i, zm_prim_info *out) {
    if (i >= reg->count) return ZM_ENOTFOUND;
    fill_info(&reg->prims[i], out);
    return ZM_OK;
}

zm_status zm_prim_lookup(const zm_prim_registry *reg, const char *name, size_t len,
                         zm_prim_info *out) {
    const zm__prim *p = zm__registry_find(reg, name, len);
    if (p == NULL) return ZM_ENOTFOUND;
    if (out != NULL) fill_info(p, out);
    return ZM_OK;
}
