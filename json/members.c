/* Object members in one line each: make a value, append it, or undo. */
#include "zmem/json.h"

/* Appends value under key, or frees it: the caller's value never leaks. */
static zm_status add(zm_allocator a, zm_json *obj, const char *key, zm_json *value) {
    if (value == NULL) return ZM_ENOMEM;
    zm_status st = zm_json_object_add_ref(a, obj, key, strlen(key), value);
    if (st != ZM_OK) zm_json_free(a, value);
    return st;
}

/* The checks every helper makes before it allocates: ZM_OK to go on. */
static zm_status check(const zm_json *obj, const char *key) {
    if (obj == NULL) return ZM_ENOMEM; /* a constructor before failed */
    if (zm_json_typeof(obj) != ZM_JSON_OBJECT) return ZM_ETYPE;
    if (key == NULL || (obj->flags & ZM_JSON_F_SHARED)) return ZM_EINVAL;
    return ZM_OK;
}

zm_status zm_json_object_add_str(zm_allocator a, zm_json *obj, const char *key, const char *s,
                                 size_t len) {
    zm_status st = check(obj, key);
    if (st != ZM_OK) return st;
    if (s == NULL && len > 0) return ZM_EINVAL;
    return add(a, obj, key, zm_json_new_string(a, s, len));
}

zm_status zm_json_object_add_int(zm_allocator a, zm_json *obj, const char *key, int64_t i) {
    zm_status st = check(obj, key);
    return st != ZM_OK ? st : add(a, obj, key, zm_json_new_int(a, i));
}

zm_status zm_json_object_add_real(zm_allocator a, zm_json *obj, const char *key, double d) {
    zm_status st = check(obj, key);
    return st != ZM_OK ? st : add(a, obj, key, zm_json_new_real(a, d));
}

zm_status zm_json_object_add_bool(zm_allocator a, zm_json *obj, const char *key, bool b) {
    zm_status st = check(obj, key);
    return st != ZM_OK ? st : add(a, obj, key, zm_json_new_bool(a, b));
}

zm_status zm_json_object_add_copy(zm_allocator a, zm_json *obj, const char *key, const zm_json *v) {
    zm_status st = check(obj, key);
    if (st != ZM_OK) return st;
    if (v == NULL) return add(a, obj, key, zm_json_new_null(a));
    zm_json *copy = NULL;
    st = zm_json_clone(a, v, &copy);
    if (st != ZM_OK) return st;
    return add(a, obj, key, copy);
}
