/* Export and import as JSON lines: every version (deletions included) and
   every edge, with times and writers, so a memory moves between backends and
   comes back as the same text. */
#include <string.h>

#include "internal.h"

#define EXPORT_FORMAT 1

/* ---------------------------------------------------------------------------
 * Export
 * ------------------------------------------------------------------------- */

/* A string member (borrowing p, which outlives the line). */
static zm_status add_str(zm_allocator a, zm_json *o, const char *name, const char *p, size_t n) {
    zm_json *v = zm_json_new_string_ref(a, p ? p : "", p ? n : 0);
    if (v == NULL) return ZM_ENOMEM;
    return zm_json_object_add_ref(a, o, name, strlen(name), v);
}

static zm_status add_int(zm_allocator a, zm_json *o, const char *name, int64_t i) {
    zm_json *v = zm_json_new_int(a, i);
    if (v == NULL) return ZM_ENOMEM;
    return zm_json_object_add_ref(a, o, name, strlen(name), v);
}

/* A stored value member; NULL stands for JSON null. */
static zm_status add_val(zm_allocator a, zm_json *o, const char *name, const zm_json *v) {
    zm_json *n = (zm_json *)v;
    if (n == NULL && (n = zm_json_new_null(a)) == NULL) return ZM_ENOMEM;
    return zm_json_object_add_ref(a, o, name, strlen(name), n);
}

/* The line of one record, as a value built in a. */
static zm_status record_json(zm_allocator a, const zm_store_record *r, zm_json **out) {
    zm_json *o = zm_json_new_object(a, 8);
    if (o == NULL) return ZM_ENOMEM;
    zm_status st;
    if (r->kind == ZM_STORE_RECORD_VERSION) {
        const zm_store_version *v = &r->v;
        if ((st = add_str(a, o, "type", "version", 7)) != ZM_OK ||
            (st = add_str(a, o, "key", r->key, r->key_len)) != ZM_OK ||
            (st = add_int(a, o, "version", (int64_t)v->version)) != ZM_OK ||
            (st = add_int(a, o, "timestamp", v->timestamp)) != ZM_OK ||
            (st = add_str(a, o, "agent", v->agent, v->agent_len)) != ZM_OK ||
            (st = add_str(a, o, "session", v->session, v->session_len)) != ZM_OK)
            return st;
        if (v->deleted) {
            zm_json *t = zm_json_new_bool(a, true);
            if (t == NULL) return ZM_ENOMEM;
            if ((st = zm_json_object_add_ref(a, o, "deleted", 7, t)) != ZM_OK) return st;
        } else if ((st = add_val(a, o, "value", v->value)) != ZM_OK ||
                   (st = add_val(a, o, "metadata", v->metadata)) != ZM_OK) {
            return st;
        }
    } else {
        const zm_store_edge *e = &r->edge;
        if ((st = add_str(a, o, "type", "edge", 4)) != ZM_OK ||
            (st = add_str(a, o, "from", e->from, e->from_len)) != ZM_OK ||
            (st = add_str(a, o, "to", e->to, e->to_len)) != ZM_OK ||
            (st = add_str(a, o, "relation", e->relation, e->relation_len)) != ZM_OK ||
            (st = add_int(a, o, "timestamp", e->timestamp)) != ZM_OK ||
            (st = add_str(a, o, "agent", e->agent, e->agent_len)) != ZM_OK ||
            (st = add_val(a, o, "metadata", e->metadata)) != ZM_OK)
            return st;
    }
    *out = o;
    return ZM_OK;
}

/* Writes v and a newline through sink, the text built in a. */
static zm_status write_line(zm_allocator a, const zm_json *v, zm_json_sink sink, void *ctx) {
    char *text;
    size_t len;
    zm_status st = zm_json_write(a, v, 0, &text, &len);
    if (st != ZM_OK) return st;
    text[len] = '\n';
    return sink(ctx, text, len + 1);
}

zm_status zm_store_export_jsonl(zm_store *s, zm_arena *ar, zm_json_sink sink, void *sink_ctx) {
    static const char header[] = "{\"zmem_export\":1}\n";
    zm_status st = sink(sink_ctx, header, sizeof header - 1);
    if (st != ZM_OK) return st;
    zm_arena_mark top = zm_arena_save(ar);
    zm_allocator a = zm_arena_allocator(ar);
    zm_store_cursor *c;
    st = zm_store_export_open(s, a, &c);
    if (st != ZM_OK) return st;
    zm_arena_mark line = zm_arena_save(ar);
    for (;;) {
        zm_store_record r;
        bool done = false;
        zm_arena_restore(ar, line);
        if ((st = zm_store_cursor_next(c, &r, &done)) != ZM_OK || done) break;
        zm_json *v;
        if ((st = record_json(a, &r, &v)) != ZM_OK) break;
        if ((st = write_line(a, v, sink, sink_ctx)) != ZM_OK) break;
    }
    zm_store_cursor_close(c);
    zm_arena_restore(ar, top);
    return st;
}

/* ---------------------------------------------------------------------------
 * Import
 * ------------------------------------------------------------------------- */

/* Member name of o as a string; NULL (with the message set) when missing or
   not a string, unless optional. */
static const char *need_str(const zm_json *o, const char *name, size_t *len, bool optional,
                            zm_status *st) {
    const zm_json *v = zm_json_get(o, name);
    if (v == NULL && optional) {
        *len = 0;
        return "";
    }
    const char *p = zm_json_str(v, len);
    if (p == NULL)
        *st = zm_store_fail(ZM_EINVAL, "\"%s\" %s", name,
                            v == NULL ? "is missing" : "must be a string");
    return p;
}

/* Member name of o as an integer, into *out. */
static zm_status need_int(const zm_json *o, const char *name, int64_t min, int64_t *out) {
    const zm_json *v = zm_json_get(o, name);
    if (v == NULL) return zm_store_fail(ZM_EINVAL, "\"%s\" is missing", name);
    if (zm_json_get_int(v, out) != ZM_OK || *out < min)
        return zm_store_fail(ZM_EINVAL, "\"%s\" must be an integer of at least %lld", name,
                             (long long)min);
    return ZM_OK;
}

/* Member "metadata" of o: an object, or NULL when absent or null; anything
   else (which store and link refuse) is an error. */
static zm_status need_meta(const zm_json *o, const zm_json **out) {
    const zm_json *meta = zm_json_get(o, "metadata");
    *out = meta != NULL && !zm_json_is_null(meta) ? meta : NULL;
    if (*out != NULL && !zm_json_is_object(*out))
        return zm_store_fail(ZM_EINVAL, "\"metadata\" must be an object or null");
    return ZM_OK;
}

static zm_status import_version(zm_store *s, const zm_json *o) {
    zm_status st = ZM_OK;
    zm_store_write w;
    memset(&w, 0, sizeof w);
    int64_t version, ts;
    if ((w.key = need_str(o, "key", &w.key_len, false, &st)) == NULL ||
        (w.agent = need_str(o, "agent", &w.agent_len, true, &st)) == NULL ||
        (w.session = need_str(o, "session", &w.session_len, true, &st)) == NULL)
        return st;
    if ((st = need_int(o, "version", 1, &version)) != ZM_OK ||
        (st = need_int(o, "timestamp", INT64_MIN, &ts)) != ZM_OK)
        return st;
    w.version = (uint64_t)version;
    w.ts_ms = ts;
    if (zm_json_bool(zm_json_get(o, "deleted"))) {
        bool existed;
        return zm_store_forget(s, &w, false, NULL, &existed);
    }
    w.value = zm_json_get(o, "value");
    if (w.value == NULL) return zm_store_fail(ZM_EINVAL, "\"value\" is missing");
    if ((st = need_meta(o, &w.metadata)) != ZM_OK) return st;
    return zm_store_put(s, &w, NULL);
}

static zm_status import_edge(zm_store *s, const zm_json *o) {
    zm_status st = ZM_OK;
    zm_store_link_req l;
    memset(&l, 0, sizeof l);
    int64_t ts;
    if ((l.from = need_str(o, "from", &l.from_len, false, &st)) == NULL ||
        (l.to = need_str(o, "to", &l.to_len, false, &st)) == NULL ||
        (l.relation = need_str(o, "relation", &l.relation_len, false, &st)) == NULL ||
        (l.agent = need_str(o, "agent", &l.agent_len, true, &st)) == NULL)
        return st;
    if ((st = need_int(o, "timestamp", INT64_MIN, &ts)) != ZM_OK) return st;
    l.ts_ms = ts;
    if ((st = need_meta(o, &l.metadata)) != ZM_OK) return st;
    return zm_store_link(s, &l, NULL);
}

zm_status zm_store_import_line(zm_store *s, zm_arena *ar, const char *line, size_t len) {
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) i++;
    if (i == len) return ZM_OK;
    zm_arena_mark mark = zm_arena_save(ar);
    zm_json *o;
    zm_json_error err;
    zm_status st = zm_json_parse_arena(ar, line, len, NULL, &o, &err);
    if (st != ZM_OK) {
        if (st != ZM_ENOMEM)
            st = zm_store_fail(st, "not JSON: %s (at byte %zu)", err.message, err.offset);
        return st;
    }
    size_t tlen;
    const char *type = zm_json_str(zm_json_get(o, "type"), &tlen);
    const zm_json *fmt = zm_json_get(o, "zmem_export");
    if (!zm_json_is_object(o)) {
        st = zm_store_fail(ZM_EINVAL, "a line of an export is a JSON object");
    } else if (fmt != NULL) {
        int64_t f;
        if (zm_json_get_int(fmt, &f) != ZM_OK || f != EXPORT_FORMAT)
            st =
                zm_store_fail(ZM_EINVAL, "an export of format %s; this zmem reads format %d",
                              zm_json_is_number(fmt) ? "other than 1" : "(unknown)", EXPORT_FORMAT);
    } else if (type != NULL && tlen == 7 && memcmp(type, "version", 7) == 0) {
        st = import_version(s, o);
    } else if (type != NULL && tlen == 4 && memcmp(type, "edge", 4) == 0) {
        st = import_edge(s, o);
    } else {
        st = zm_store_fail(ZM_EINVAL, "\"type\" must be \"version\" or \"edge\"");
    }
    zm_arena_restore(ar, mark);
    return st;
}
