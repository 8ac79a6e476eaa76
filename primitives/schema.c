/* Input schemas: a subset of JSON Schema compiled once into a small tree and
   checked against parameters before a primitive runs.

   Supported: type (a name or an array of names; "integer" is a number with
   no fractional part, "number" any number), properties, required, enum,
   const, items (one schema for every item), minItems, maxItems, minLength,
   maxLength (in Unicode code points), minimum, maximum, additionalProperties
   (a boolean or a schema), and the boolean schemas true and false.
   Annotations (title, description, default, examples, format, $schema, $id,
   $comment, readOnly, writeOnly, deprecated) are ignored. Any other keyword
   is refused at registration, so that a schema never promises a check that is
   not made. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

/* ---------------------------------------------------------------------------
 * Compiling
 * ------------------------------------------------------------------------- */

/* The schema pointer of the keyword being compiled, for error messages. */
typedef struct spath {
    char buf[256];
    size_t len;
} spath;

static size_t spath_push(spath *p, const char *seg, size_t n) {
    size_t old = p->len;
    if (p->len < sizeof p->buf - 1) p->buf[p->len++] = '/';
    for (size_t i = 0; i < n && p->len < sizeof p->buf - 2; i++) {
        if (seg[i] == '~' || seg[i] == '/') {
            p->buf[p->len++] = '~';
            p->buf[p->len++] = seg[i] == '~' ? '0' : '1';
        } else {
            p->buf[p->len++] = seg[i];
        }
    }
    p->buf[p->len] = '\0';
    return old;
}

static void spath_pop(spath *p, size_t old) {
    p->len = old;
    p->buf[old] = '\0';
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static zm_status
bad(zm_json_error *err, const spath *p, const char *fmt, ...) {
    if (err != NULL) {
        memset(err, 0, sizeof *err);
        err->status = ZM_EINVAL;
        int n = snprintf(err->message, sizeof err->message, "%s: ", p->len ? p->buf : "(root)");
        if (n < 0) n = 0;
        if ((size_t)n < sizeof err->message) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err->message + n, sizeof err->message - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return ZM_EINVAL;
}

static bool key_is(const zm_json_member *m, const char *k) {
    size_t n = strlen(k);
    return m->key_len == n && memcmp(m->key, k, n) == 0;
}

static const struct {
    const char *name;
    uint32_t bit;
} type_names[] = {
    {"null", ZM__T_NULL},     {"boolean", ZM__T_BOOLEAN}, {"integer", ZM__T_INTEGER},
    {"number", ZM__T_NUMBER}, {"string", ZM__T_STRING},   {"array", ZM__T_ARRAY},
    {"object", ZM__T_OBJECT},
};

static bool type_bit(const zm_json *v, uint32_t *bit) {
    size_t n;
    const char *s = zm_json_str(v, &n);
    if (!zm_json_is_string(v)) return false;
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (strlen(type_names[i].name) == n && memcmp(type_names[i].name, s, n) == 0) {
            *bit = type_names[i].bit;
            return true;
        }
    }
    return false;
}

static const char *const ignored_keywords[] = {
    "title",      "description", "default",          "examples",        "format",
    "$schema",    "$id",         "$comment",         "readOnly",        "writeOnly",
    "deprecated", "$anchor",     "contentMediaType", "contentEncoding",
};

static bool is_ignored(const zm_json_member *m) {
    for (size_t i = 0; i < sizeof ignored_keywords / sizeof ignored_keywords[0]; i++)
        if (key_is(m, ignored_keywords[i])) return true;
    return false;
}

/* Reads a non-negative integer keyword. */
static zm_status read_count(const zm_json *v, size_t *out, zm_json_error *err, const spath *p) {
    int64_t i;
    if (zm_json_get_int(v, &i) != ZM_OK || i < 0)
        return bad(err, p, "expected a non-negative integer");
    *out = (uint64_t)i > SIZE_MAX ? SIZE_MAX : (size_t)i;
    return ZM_OK;
}

static zm_status compile(zm_arena *ar, const zm_json *v, zm__schema **out, zm_json_error *err,
                         spath *p, unsigned depth);

static zm_status compile_member(zm_arena *ar, zm__schema *s, const zm_json_member *m,
                                zm_json_error *err, spath *p, unsigned depth) {
    const zm_json *v = m->value;
    zm_status st;
    if (key_is(m, "type")) {
        uint32_t bit;
        if (zm_json_is_string(v)) {
            if (!type_bit(v, &bit)) return bad(err, p, "unknown type name");
            s->types = bit;
        } else if (zm_json_is_array(v) && zm_json_len(v) > 0) {
            s->types = 0;
            for (size_t i = 0; i < zm_json_len(v); i++) {
                if (!type_bit(zm_json_at(v, i), &bit))
                    return bad(err, p, "item %zu: expected a type name", i);
                s->types |= bit;
            }
        } else {
            return bad(err, p, "expected a type name or a non-empty array of them");
        }
        if (s->types & ZM__T_NUMBER) s->types |= ZM__T_INTEGER;
    } else if (key_is(m, "properties")) {
        if (!zm_json_is_object(v)) return bad(err, p, "expected an object");
        size_t n = zm_json_len(v);
        s->props = zm_arena_new_array(ar, zm__schema_prop, n ? n : 1);
        if (s->props == NULL) return ZM_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            const zm_json_member *pm = zm_json_member_at(v, i);
            size_t old = spath_push(p, pm->key, pm->key_len);
            st = compile(ar, pm->value, &s->props[i].schema, err, p, depth + 1);
            spath_pop(p, old);
            if (st != ZM_OK) return st;
            s->props[i].key = pm->key;
            s->props[i].len = pm->key_len;
        }
        s->nprops = n;
    } else if (key_is(m, "required")) {
        if (!zm_json_is_array(v)) return bad(err, p, "expected an array of strings");
        for (size_t i = 0; i < zm_json_len(v); i++)
            if (!zm_json_is_string(zm_json_at(v, i)))
                return bad(err, p, "item %zu: expected a string", i);
        s->required = (const zm_json *const *)v->u.a.items;
        s->nrequired = zm_json_len(v);
    } else if (key_is(m, "enum")) {
        if (!zm_json_is_array(v) || zm_json_len(v) == 0)
            return bad(err, p, "expected a non-empty array");
        s->enum_vals = v;
    } else if (key_is(m, "const")) {
        zm_json *arr = zm_json_new_array(zm_arena_allocator(ar), 1);
        if (arr == NULL || zm_json_array_push(zm_arena_allocator(ar), arr, m->value) != ZM_OK)
            return ZM_ENOMEM;
        s->enum_vals = arr;
        s->is_const = true;
    } else if (key_is(m, "items")) {
        if (zm_json_is_array(v)) return bad(err, p, "the array form of items is not supported");
        st = compile(ar, v, &s->items, err, p, depth + 1);
        if (st != ZM_OK) return st;
    } else if (key_is(m, "minLength")) {
        st = read_count(v, &s->min_len, err, p);
        if (st != ZM_OK) return st;
        s->has_min_len = true;
    } else if (key_is(m, "maxLength")) {
        st = read_count(v, &s->max_len, err, p);
        if (st != ZM_OK) return st;
        s->has_max_len = true;
    } else if (key_is(m, "minItems")) {
        st = read_count(v, &s->min_items, err, p);
        if (st != ZM_OK) return st;
        s->has_min_items = true;
    } else if (key_is(m, "maxItems")) {
        st = read_count(v, &s->max_items, err, p);
        if (st != ZM_OK) return st;
        s->has_max_items = true;
    } else if (key_is(m, "minimum")) {
        if (!zm_json_is_number(v)) return bad(err, p, "expected a number");
        s->minimum = v;
    } else if (key_is(m, "maximum")) {
        if (!zm_json_is_number(v)) return bad(err, p, "expected a number");
        s->maximum = v;
    } else if (key_is(m, "additionalProperties")) {
        if (zm_json_is_bool(v)) {
            s->additional = zm_json_bool(v) ? ZM__ADD_ANY : ZM__ADD_NONE;
        } else {
            st = compile(ar, v, &s->additional_schema, err, p, depth + 1);
            if (st != ZM_OK) return st;
            s->additional = ZM__ADD_SCHEMA;
        }
    } else if (!is_ignored(m)) {
        return bad(err, p, "unsupported keyword");
    }
    return ZM_OK;
}

static zm_status compile(zm_arena *ar, const zm_json *v, zm__schema **out, zm_json_error *err,
                         spath *p, unsigned depth) {
    if (depth > ZM_JSON_DEFAULT_MAX_DEPTH) return bad(err, p, "schema nested too deeply");
    zm__schema *s = zm_arena_new(ar, zm__schema);
    if (s == NULL) return ZM_ENOMEM;
    memset(s, 0, sizeof *s);
    if (zm_json_is_bool(v)) {
        s->never = !zm_json_bool(v);
        *out = s;
        return ZM_OK;
    }
    if (!zm_json_is_object(v)) return bad(err, p, "expected a schema (an object or a boolean)");
    for (size_t i = 0; i < zm_json_len(v); i++) {
        const zm_json_member *m = zm_json_member_at(v, i);
        size_t old = spath_push(p, m->key, m->key_len);
        zm_status st = compile_member(ar, s, m, err, p, depth);
        spath_pop(p, old);
        if (st != ZM_OK) return st;
    }
    if (s->has_min_len && s->has_max_len && s->min_len > s->max_len)
        return bad(err, p, "minLength is greater than maxLength");
    *out = s;
    return ZM_OK;
}

zm_status zm__schema_compile(zm_arena *ar, const zm_json *schema, zm__schema **out,
                             zm_json_error *err) {
    spath p = {{0}, 0};
    zm_status st = compile(ar, schema, out, err, &p, 0);
    if (st == ZM_ENOMEM && err != NULL) {
        memset(err, 0, sizeof *err);
        err->status = ZM_ENOMEM;
        snprintf(err->message, sizeof err->message, "out of memory compiling the schema");
    }
    return st;
}

/* ---------------------------------------------------------------------------
 * Validating
 * ------------------------------------------------------------------------- */

typedef zm__vpath vpath;

static void append_ptr(zm_prim_ctx *ctx, zm_buf *b, const vpath *p) {
    if (p == NULL) return;
    append_ptr(ctx, b, p->up);
    zm_buf_append(ctx->a, b, "/", 1);
    if (p->key == NULL) {
        char num[24];
        int n = snprintf(num, sizeof num, "%zu", p->len);
        zm_buf_append(ctx->a, b, num, (size_t)n);
        return;
    }
    for (size_t i = 0, start = 0; i <= p->len; i++) {
        if (i == p->len || p->key[i] == '~' || p->key[i] == '/') {
            zm__buf_append_escaped(ctx->a, b, p->key + start, i - start);
            if (i < p->len) zm_buf_append(ctx->a, b, p->key[i] == '~' ? "~0" : "~1", 2);
            start = i + 1;
        }
    }
}

zm_status zm__fail_at(zm_prim_ctx *ctx, const zm__vpath *p, const char *fmt, ...) {
    char rule[sizeof(zm__quoted) + 256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof rule) n = (int)sizeof rule - 1;

    /* The field: the pointer, built in the context's field buffer. */
    zm__ctx_set_error(ctx, ZM_PRIM_INVALID_PARAMS, ZM_EINVAL, "", 0, NULL, 0);
    ctx->err_field.len = 0;
    append_ptr(ctx, &ctx->err_field, p);
    /* The message: "<pointer>: <rule>", or "params: <rule>" at the root. */
    ctx->err_msg.len = 0;
    if (p == NULL) {
        zm_buf_append(ctx->a, &ctx->err_msg, "params", 6);
    } else {
        /* The field is exact; the message shows at most ZM__QUOTE_MAX bytes of it. */
        zm__quoted q;
        const char *shown = ctx->err_field.len > ZM__QUOTE_MAX
                                ? zm__quote(&q, ctx->err_field.data, ctx->err_field.len)
                                : zm_buf_str(&ctx->err_field);
        zm_buf_append(ctx->a, &ctx->err_msg, shown, strlen(shown));
    }
    zm_buf_append(ctx->a, &ctx->err_msg, ": ", 2);
    zm_buf_append(ctx->a, &ctx->err_msg, rule, (size_t)n);
    zm__ctx_sanitize_error(ctx);
    return ZM_EINVAL;
}

static const char *type_name(const zm_json *v) {
    switch (zm_json_typeof(v)) {
    case ZM_JSON_NULL: return "null";
    case ZM_JSON_BOOL: return "boolean";
    case ZM_JSON_INT: return "integer";
    case ZM_JSON_REAL:
    case ZM_JSON_NUMBER: return "number";
    case ZM_JSON_STRING: return "string";
    case ZM_JSON_ARRAY: return "array";
    case ZM_JSON_OBJECT: return "object";
    }
    return "value";
}

static bool is_integral(const zm_json *v) {
    switch (zm_json_typeof(v)) {
    case ZM_JSON_INT: return true;
    case ZM_JSON_REAL: return isfinite(v->u.d) && v->u.d == floor(v->u.d);
    case ZM_JSON_NUMBER: {
        size_t n;
        const char *s = zm_json_str(v, &n);
        if (memchr(s, '.', n) == NULL && memchr(s, 'e', n) == NULL && memchr(s, 'E', n) == NULL)
            return true;
        double d = zm_json_real(v);
        return isfinite(d) && d == floor(d);
    }
    default: return false;
    }
}

static uint32_t type_bits_of(const zm_json *v) {
    switch (zm_json_typeof(v)) {
    case ZM_JSON_NULL: return ZM__T_NULL;
    case ZM_JSON_BOOL: return ZM__T_BOOLEAN;
    case ZM_JSON_INT:
    case ZM_JSON_REAL:
    case ZM_JSON_NUMBER: return is_integral(v) ? ZM__T_INTEGER | ZM__T_NUMBER : ZM__T_NUMBER;
    case ZM_JSON_STRING: return ZM__T_STRING;
    case ZM_JSON_ARRAY: return ZM__T_ARRAY;
    case ZM_JSON_OBJECT: return ZM__T_OBJECT;
    }
    return 0;
}

/* "string", "string or null", "integer, string or null". */
static void expected_types(uint32_t types, char *out, size_t cap) {
    size_t n = 0, count = 0, seen = 0;
    if ((types & ZM__T_NUMBER) != 0) types &= ~(uint32_t)ZM__T_INTEGER;
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (types & type_names[i].bit) count++;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (!(types & type_names[i].bit)) continue;
        seen++;
        const char *sep = seen == 1 ? "" : seen == count ? " or " : ", ";
        int k = snprintf(out + n, cap - n, "%s%s", sep, type_names[i].name);
        if (k < 0 || (size_t)k >= cap - n) return;
        n += (size_t)k;
    }
}

/* A sink that writes into a fixed buffer, truncating. */
typedef struct fixed_sink {
    char *buf;
    size_t len, cap;
} fixed_sink;

static zm_status fixed_write(void *c, const char *data, size_t n) {
    fixed_sink *f = c;
    if (n > f->cap - f->len) n = f->cap - f->len;
    memcpy(f->buf + f->len, data, n);
    f->len += n;
    return ZM_OK;
}

static int cmp_num(const zm_json *a, const zm_json *b) {
    if (zm_json_is_int(a) && zm_json_is_int(b)) {
        int64_t x = zm_json_int(a), y = zm_json_int(b);
        return x < y ? -1 : x > y;
    }
    double x = zm_json_real(a), y = zm_json_real(b);
    return x < y ? -1 : x > y;
}

static size_t code_points(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

static zm_status validate(zm_prim_ctx *ctx, const zm__schema *s, const zm_json *v, const vpath *p);

static zm_status validate_object(zm_prim_ctx *ctx, const zm__schema *s, const zm_json *v,
                                 const vpath *p) {
    for (size_t i = 0; i < s->nrequired; i++) {
        size_t n;
        const char *k = zm_json_str(s->required[i], &n);
        if (zm_json_getn(v, k, n) == NULL) {
            vpath q = {p, k, n};
            return zm__fail_at(ctx, &q, "required");
        }
    }
    for (size_t i = 0; i < zm_json_len(v); i++) {
        const zm_json_member *m = zm_json_member_at(v, i);
        const zm__schema *ps = NULL;
        for (size_t j = 0; j < s->nprops; j++) {
            if (s->props[j].len == m->key_len && memcmp(s->props[j].key, m->key, m->key_len) == 0) {
                ps = s->props[j].schema;
                break;
            }
        }
        vpath q = {p, m->key, m->key_len};
        if (ps == NULL) {
            if (s->additional == ZM__ADD_NONE)
                return zm__fail_at(ctx, &q, "additionalProperties: member not allowed");
            if (s->additional == ZM__ADD_SCHEMA) ps = s->additional_schema;
        }
        if (ps != NULL) {
            zm_status st = validate(ctx, ps, m->value, &q);
            if (st != ZM_OK) return st;
        }
    }
    return ZM_OK;
}

static zm_status validate(zm_prim_ctx *ctx, const zm__schema *s, const zm_json *v, const vpath *p) {
    if (s->never) return zm__fail_at(ctx, p, "not allowed (schema false)");
    if (s->types != 0 && (type_bits_of(v) & s->types) == 0) {
        char want[96];
        expected_types(s->types, want, sizeof want);
        return zm__fail_at(ctx, p, "type: expected %s, found %s", want, type_name(v));
    }
    if (s->enum_vals != NULL) {
        bool found = false;
        for (size_t i = 0; i < zm_json_len(s->enum_vals) && !found; i++) {
            /* out of memory is its own answer, not "not one of them" */
            zm_status st =
                zm_json_equal(zm_prim_alloc(ctx), zm_json_at(s->enum_vals, i), v, &found);
            if (st != ZM_OK) return st;
        }
        if (!found) {
            char list[160];
            fixed_sink f = {list, 0, sizeof list - 4};
            for (size_t i = 0; i < zm_json_len(s->enum_vals); i++) {
                if (i) fixed_write(&f, ", ", 2);
                /* The sink never fails: only out of memory (a deep value's
                   work stack) can, and it is its own answer. */
                zm_status ws = zm_json_write_stream(zm_prim_alloc(ctx), zm_json_at(s->enum_vals, i),
                                                    0, fixed_write, &f);
                if (ws == ZM_ENOMEM) return zm_prim_fail(ctx, ZM_ENOMEM, NULL, "out of memory");
            }
            if (f.len == f.cap) memcpy(list + f.len, "...", 3), f.len += 3;
            list[f.len] = '\0';
            return zm__fail_at(ctx, p, "%s: expected one of %s", s->is_const ? "const" : "enum",
                               list);
        }
    }
    switch (zm_json_typeof(v)) {
    case ZM_JSON_STRING:
        if (s->has_min_len || s->has_max_len) {
            size_t n;
            const char *str = zm_json_str(v, &n);
            size_t cp = code_points(str, n);
            if (s->has_min_len && cp < s->min_len)
                return zm__fail_at(ctx, p,
                                   "minLength: expected at least %zu character%s, found %zu",
                                   s->min_len, s->min_len == 1 ? "" : "s", cp);
            if (s->has_max_len && cp > s->max_len)
                return zm__fail_at(ctx, p, "maxLength: expected at most %zu character%s, found %zu",
                                   s->max_len, s->max_len == 1 ? "" : "s", cp);
        }
        break;
    case ZM_JSON_INT:
    case ZM_JSON_REAL:
    case ZM_JSON_NUMBER: {
        char bound[64];
        if (s->minimum != NULL && cmp_num(v, s->minimum) < 0) {
            fixed_sink f = {bound, 0, sizeof bound - 1};
            zm_json_write_stream(zm_prim_alloc(ctx), s->minimum, 0, fixed_write, &f);
            bound[f.len] = '\0';
            return zm__fail_at(ctx, p, "minimum: expected at least %s", bound);
        }
        if (s->maximum != NULL && cmp_num(v, s->maximum) > 0) {
            fixed_sink f = {bound, 0, sizeof bound - 1};
            zm_json_write_stream(zm_prim_alloc(ctx), s->maximum, 0, fixed_write, &f);
            bound[f.len] = '\0';
            return zm__fail_at(ctx, p, "maximum: expected at most %s", bound);
        }
        break;
    }
    case ZM_JSON_ARRAY: {
        size_t n = zm_json_len(v);
        if (s->has_min_items && n < s->min_items)
            return zm__fail_at(ctx, p, "minItems: expected at least %zu item%s, found %zu",
                               s->min_items, s->min_items == 1 ? "" : "s", n);
        if (s->has_max_items && n > s->max_items)
            return zm__fail_at(ctx, p, "maxItems: expected at most %zu item%s, found %zu",
                               s->max_items, s->max_items == 1 ? "" : "s", n);
        if (s->items != NULL) {
            for (size_t i = 0; i < n; i++) {
                vpath q = {p, NULL, i};
                zm_status st = validate(ctx, s->items, zm_json_at(v, i), &q);
                if (st != ZM_OK) return st;
            }
        }
        break;
    }
    case ZM_JSON_OBJECT: return validate_object(ctx, s, v, p);
    default: break;
    }
    return ZM_OK;
}

zm_status zm__schema_validate(zm_prim_ctx *ctx, const zm__schema *s, const zm_json *v) {
    return validate(ctx, s, v, NULL);
}
