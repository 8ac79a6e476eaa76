/* The transform primitive: the pure transforms of transform.c over the
   per-call arena. Neither params nor stored values are ever modified; the
   result shares what did not change with the input. */
#include <stdio.h>

#include "builtins_internal.h"
#include "zmem/transform.h"

typedef enum op_kind { OP_POINTER, OP_MERGE_PATCH, OP_PATCH, OP_PICK, OP_OMIT, OP_COUNT } op_kind;

/* Every name here is implemented, and listed in the schema's enum. */
static const char *const OP_NAMES[OP_COUNT] = {"pointer", "merge_patch", "patch", "pick", "omit"};
/* The member of options each operation reads. */
static const char *const OP_ARG[OP_COUNT] = {"pointer", "patch", "patch", "fields", "fields"};

static zm_status prim_transform(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    size_t olen;
    const char *op = zm_json_str(zm_json_get(params, "operation"), &olen);
    const zm_json *data = zm_json_get(params, "data");
    const zm_json *options = zm_json_get(params, "options");
    int kind = OP_COUNT;
    for (int i = 0; i < OP_COUNT && op != NULL; i++)
        if (strlen(OP_NAMES[i]) == olen && memcmp(OP_NAMES[i], op, olen) == 0) kind = i;
    if (kind == OP_COUNT)
        return zm_prim_fail(ctx, ZM_EINVAL, "/operation",
                            "operation must be one of pointer, merge_patch, patch, pick, omit");
    if (data == NULL) return zm_prim_fail(ctx, ZM_EINVAL, "/data", "missing parameter");

    char field[96];
    snprintf(field, sizeof field, "/options/%s", OP_ARG[kind]);
    const zm_json *arg = zm_json_get(options, OP_ARG[kind]);
    if (arg == NULL)
        return zm_prim_fail(ctx, ZM_EINVAL, field, "operation %s needs options.%s", OP_NAMES[kind],
                            OP_ARG[kind]);

    zm_arena *ar = zm_prim_arena(ctx);
    const zm_json *out = NULL;
    zm_transform_error err;
    zm_status st;
    switch (kind) {
    case OP_POINTER: {
        size_t plen;
        const char *p = zm_json_str(arg, &plen);
        if (p == NULL || !zm_json_is_string(arg))
            return zm_prim_fail(ctx, ZM_EINVAL, field, "options.pointer must be a string");
        st = zm_transform_pointer(data, p, plen, &out, &err);
        break;
    }
    case OP_MERGE_PATCH: st = zm_transform_merge_patch(ar, data, arg, &out, &err); break;
    case OP_PATCH: st = zm_transform_patch(ar, data, arg, &out, &err); break;
    case OP_PICK: st = zm_transform_pick(ar, data, arg, &out, &err); break;
    default: st = zm_transform_omit(ar, data, arg, &out, &err); break;
    }
    if (st == ZM_ENOMEM) return zm__bi_oom(ctx);
    if (st != ZM_OK) {
        /* Depth and the like are the caller's input too: invalid_params. */
        zm_status code = st == ZM_ENOTFOUND ? ZM_ENOTFOUND : ZM_EINVAL;
        if (err.has_field) {
            char full[sizeof field + sizeof err.field];
            snprintf(full, sizeof full, "%s%s", field, err.field);
            return zm_prim_fail(ctx, code, full, "%s", err.message);
        }
        return zm_prim_fail(ctx, code, "/data", "%s", err.message);
    }
    *result = (zm_json *)out;
    return ZM_OK;
}

const zm_prim_def zm__bi_transform = {
    .name = "transform",
    .description =
        "Transform a JSON value (data) without changing it. Operations: pointer (RFC 6901: "
        "the value at options.pointer; not_found when absent), merge_patch (RFC 7396: apply "
        "options.patch), patch (RFC 6902: apply the operations of options.patch atomically: "
        "add, remove, replace, move, copy, test), pick and omit (keep or drop options.fields: "
        "member names, or JSON pointers when they start with '/'). The result is the "
        "transformed value.",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"operation\":{\"type\":\"string\","
                    "\"enum\":[\"pointer\",\"merge_patch\",\"patch\",\"pick\",\"omit\"]},"
                    "\"data\":{},"
                    "\"options\":{\"type\":\"object\","
                    "\"properties\":{"
                    "\"pointer\":{\"type\":\"string\"},"
                    "\"patch\":{},"
                    "\"fields\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}},"
                    "\"required\":[\"operation\",\"data\"],"
                    "\"additionalProperties\":false}",
    .fn = prim_transform,
};
