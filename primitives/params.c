/* Reading parameters in a primitive: the value, or an error naming it. */
#include <math.h>

#include "internal.h"

zm_status zm_prim_param_int(zm_prim_ctx *ctx, const zm_json *params, const char *name,
                            int64_t *out) {
    const zm_json *v = zm_json_get(params, name);
    if (v == NULL) return ZM_OK;
    int64_t i;
    zm_status st = zm_json_get_int(v, &i);
    if (st == ZM_OK) {
        *out = i;
        return ZM_OK;
    }
    char field[64];
    snprintf(field, sizeof field, "/%s", name);
    double d = zm_json_real(v);
    if (st == ZM_ELIMIT && isfinite(d) && d == floor(d))
        return zm_prim_fail(ctx, ZM_EINVAL, field,
                            "%s is out of range (a 64-bit signed integer: -2^63 to 2^63-1)", name);
    return zm_prim_fail(ctx, ZM_EINVAL, field, "%s must be an integer", name);
}
