/* What every store refuses, the same way in every backend: names and values
   checked against the limits. */
#include <math.h>
#include <string.h>

#include "zmem/store.h"

zm_status zm_store_check_name(const zm_store_limits *lim, const char *p, size_t len,
                              bool may_be_empty) {
    if (len == 0) return may_be_empty ? ZM_OK : ZM_EINVAL;
    if (p == NULL) return ZM_EINVAL;
    if (len > lim->max_key_len) return ZM_ELIMIT;
    if (!zm_utf8_valid(p, len)) return ZM_EINVAL;
    return ZM_OK;
}

/* Adds n to *bytes unless that passes limit. */
static bool add_bytes(size_t *bytes, size_t n, size_t limit) {
    if (n > limit || *bytes > limit - n) return false;
    *bytes += n;
    return true;
}

/* Fails with st, saying why in *why. */
static zm_status refuse(zm_status st, zm_store_why *why, zm_store_why reason) {
    *why = reason;
    return st;
}

static zm_status check_rec(const zm_store_limits *lim, const zm_json *v, size_t depth,
                           size_t *bytes, zm_store_why *why) {
    size_t limit = lim->max_value_bytes;
    if (!add_bytes(bytes, sizeof(zm_json), limit)) return refuse(ZM_ELIMIT, why, ZM_STORE_WHY_SIZE);
    switch (zm_json_typeof(v)) {
    case ZM_JSON_NULL:
    case ZM_JSON_BOOL:
    case ZM_JSON_INT: return ZM_OK;
    case ZM_JSON_REAL:
        return isfinite(v->u.d) ? ZM_OK : refuse(ZM_EINVAL, why, ZM_STORE_WHY_NUMBER);
    case ZM_JSON_NUMBER:
    case ZM_JSON_STRING:
        if (!add_bytes(bytes, v->u.s.len + 1, limit))
            return refuse(ZM_ELIMIT, why, ZM_STORE_WHY_SIZE);
        if (v->u.s.len > 0 && v->u.s.ptr == NULL) return refuse(ZM_EINVAL, why, ZM_STORE_WHY_UTF8);
        return zm_utf8_valid(v->u.s.ptr, v->u.s.len) ? ZM_OK
                                                     : refuse(ZM_EINVAL, why, ZM_STORE_WHY_UTF8);
    case ZM_JSON_ARRAY:
    case ZM_JSON_OBJECT: break;
    default: return refuse(ZM_EINVAL, why, ZM_STORE_WHY_NUMBER);
    }
    if (depth >= lim->max_depth) return refuse(ZM_ELIMIT, why, ZM_STORE_WHY_DEPTH);
    if (v->type == ZM_JSON_ARRAY) {
        if (v->u.a.len > limit / sizeof(zm_json *) ||
            !add_bytes(bytes, v->u.a.len * sizeof(zm_json *), limit))
            return refuse(ZM_ELIMIT, why, ZM_STORE_WHY_SIZE);
        for (size_t i = 0; i < v->u.a.len; i++) {
            zm_status st = check_rec(lim, v->u.a.items[i], depth + 1, bytes, why);
            if (st != ZM_OK) return st;
        }
        return ZM_OK;
    }
    if (v->u.o.len > limit / sizeof(zm_json_member) ||
        !add_bytes(bytes, v->u.o.len * sizeof(zm_json_member), limit))
        return refuse(ZM_ELIMIT, why, ZM_STORE_WHY_SIZE);
    for (size_t i = 0; i < v->u.o.len; i++) {
        const zm_json_member *m = &v->u.o.items[i];
        if (!add_bytes(bytes, m->key_len + 1, limit))
            return refuse(ZM_ELIMIT, why, ZM_STORE_WHY_SIZE);
        if (!zm_utf8_valid(m->key, m->key_len)) return refuse(ZM_EINVAL, why, ZM_STORE_WHY_UTF8);
        zm_status st = check_rec(lim, m->value, depth + 1, bytes, why);
        if (st != ZM_OK) return st;
    }
    return ZM_OK;
}

zm_status zm_store_check_value(const zm_store_limits *lim, const zm_json *v, size_t *bytes,
                               zm_store_why *why) {
    zm_store_why ignored;
    if (why == NULL) why = &ignored;
    *why = ZM_STORE_WHY_NONE;
    if (v == NULL) return ZM_EINVAL;
    return check_rec(lim, v, 0, bytes, why);
}
