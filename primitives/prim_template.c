/* The template primitives: template_put, render, template_list,
 * template_delete.
 *
 * A template is kept in the store as the key ZM_TEMPLATE_KEY_PREFIX + name,
 * with versions like any key (store and forget refuse keys under that
 * prefix), so on a durable store it survives restarts and every process on a
 * shared database sees it. A render goes through the calling context's
 * template cache under the same key: the cache entry remembers the store
 * version it was built from, and every render first reads the number of the
 * key's latest version (zm_store_head: no value read, no allocation on the
 * memory store) and rebuilds the entry from the store when it differs, or
 * when the entry is gone (evicted past the cache's budget, or never loaded in
 * this context). So a template_put on any context, or in any process sharing
 * the database, is seen by the next render everywhere. template_delete
 * records a deletion of the key, as forget does: the next render on any
 * context finds no live version (not_found) and drops its cache entry.
 */
#include "builtins_internal.h"
#include "internal.h"

#define PREFIX     ZM_TEMPLATE_KEY_PREFIX
#define PREFIX_LEN (sizeof PREFIX - 1)
#define LIST_LIMIT 10000 /* templates template_list reports at most */

bool zm__bi_reserved_key(const char *key, size_t len) {
    return len >= PREFIX_LEN && memcmp(key, PREFIX, PREFIX_LEN) == 0;
}

/* The store key of template name (n bytes), NUL-terminated, in the arena;
   NULL when out of memory. */
static char *template_key(zm_prim_ctx *ctx, const char *name, size_t n, size_t *key_len) {
    char *k = zm_arena_alloc(zm_prim_arena(ctx), PREFIX_LEN + n + 1, 1);
    if (k == NULL) return NULL;
    memcpy(k, PREFIX, PREFIX_LEN);
    memcpy(k + PREFIX_LEN, name, n);
    k[PREFIX_LEN + n] = '\0';
    *key_len = PREFIX_LEN + n;
    return k;
}

/* Reads params.name and makes its key. ZM_OK, or an error recorded on ctx. */
static zm_status name_param(zm_prim_ctx *ctx, const zm_json *params, const char **name, size_t *len,
                            char **key, size_t *key_len) {
    *name = zm_json_str(zm_json_get(params, "name"), len);
    if (*name == NULL) return zm_prim_fail(ctx, ZM_EINVAL, "/name", "missing parameter");
    if (memchr(*name, '\0', *len) != NULL)
        return zm_prim_fail(ctx, ZM_EINVAL, "/name", "a template name cannot hold a NUL");
    zm_store_limits lim;
    zm_store_get_limits(zm__store_of(ctx), &lim);
    size_t max = lim.max_key_len > PREFIX_LEN ? lim.max_key_len - PREFIX_LEN : 0;
    if (*len > max)
        return zm_prim_fail(ctx, ZM_ELIMIT, "/name",
                            "template name is %zu bytes long; the limit is %zu", *len, max);
    *key = template_key(ctx, *name, *len, key_len);
    return *key != NULL ? ZM_OK : zm__bi_oom(ctx);
}

/* ---------------------------------------------------------------------------
 * template_put {name, template, description?}
 *   -> {name, version, timestamp, placeholders}
 * ------------------------------------------------------------------------- */

static zm_status prim_template_put(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_store *s = zm__store_of(ctx);
    const char *name;
    char *key;
    size_t nlen, klen;
    zm_status st = name_param(ctx, params, &name, &nlen, &key, &klen);
    if (st != ZM_OK) return st;
    const zm_json *tv = zm_json_get(params, "template");
    if (tv == NULL) return zm_prim_fail(ctx, ZM_EINVAL, "/template", "missing parameter");
    const zm_json *desc = zm_json_get(params, "description");

    /* A template the cache cannot hold could never be rendered: refused
       before anything is stored. */
    zm_template_cache *tc = zm_prim_templates(ctx);
    zm_template_stats ts;
    zm_template_stats_get(tc, &ts);
    size_t bytes = zm_template_bytes(key, tv);
    if (ts.budget != 0 && bytes > ts.budget)
        return zm_prim_fail(ctx, ZM_ELIMIT, "/template",
                            "the template needs %zu bytes in the template cache, more than its "
                            "budget of %zu",
                            bytes, ts.budget);

    zm__build b = {zm_prim_alloc(ctx), false};
    zm_json *meta = NULL;
    if (desc != NULL) {
        meta = zm__b_obj(&b, 1);
        zm__b_set(&b, meta, "description", desc);
        if (b.oom) return zm__bi_oom(ctx);
    }
    size_t alen, slen;
    const char *agent = zm_prim_agent_id(ctx, &alen);
    const char *session = zm_prim_session_id(ctx, &slen);
    zm_store_write w = {key, klen, tv, meta, agent, alen, session, slen, zm_prim_now_ms(ctx), 0};
    zm_store_version v;
    st = zm_store_put(s, &w, &v);
    if (st == ZM_EINVAL || st == ZM_ELIMIT) {
        const zm__bi_part parts[] = {
            {NULL, "agent id", agent, alen, NULL},
            {NULL, "session id", session, slen, NULL},
            {"/name", "template name", name, nlen, NULL},
            {"/template", "template", NULL, 0, tv},
            {"/description", "description", NULL, 0, meta},
        };
        return zm__bi_refused(ctx, s, st, parts, meta ? 5 : 4, "template_put");
    }
    if (st != ZM_OK) return zm__bi_fail(ctx, st, NULL, "template_put");

    /* The template is stored; this context's cache gets it now (the others
       see the new version at their next render). */
    zm_json_error err;
    st = zm_template_put_value(tc, key, tv, v.version, &err);
    if (st != ZM_OK) return zm_prim_fail(ctx, st, "/template", "%s", err.message);

    zm_json *names = NULL;
    if (zm_template_placeholders(tv, b.a, &names) != ZM_OK) return zm__bi_oom(ctx);
    zm_json *r = zm__b_obj(&b, 4);
    zm__b_set(&b, r, "name", zm__b_ref(&b, name, nlen));
    zm__b_set(&b, r, "version", zm__b_int(&b, (int64_t)v.version));
    zm__b_set(&b, r, "timestamp", zm__b_int(&b, v.timestamp));
    zm__b_set(&b, r, "placeholders", names);
    if (b.oom) return zm__bi_oom(ctx);
    *result = r;
    return ZM_OK;
}

const zm_prim_def zm__bi_template_put = {
    .name = "template_put",
    .description =
        "Store a JSON template under a name, as a new version. Strings that are exactly "
        "\"{{name}}\" are placeholders for any JSON value; placeholders inside a string's text "
        "(\"Summarize {{topic}} in {{n}} bullets\") take a string's text or another value's JSON "
        "text. Kept in the store (it survives restarts on a database) with an optional "
        "description. Returns the name, the version, its timestamp and the placeholders.",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256},"
                    "\"template\":{},"
                    "\"description\":{\"type\":\"string\",\"maxLength\":4096}},"
                    "\"required\":[\"name\",\"template\"],"
                    "\"additionalProperties\":false}",
    .fn = prim_template_put,
};

/* ---------------------------------------------------------------------------
 * render {name, bindings?} -> the template with its placeholders filled
 * ------------------------------------------------------------------------- */

/* Makes sure the context's cache holds the store's latest version of the
   template at key. ZM_OK, or an error recorded on ctx. */
static zm_status load_latest(zm_prim_ctx *ctx, const char *name, size_t nlen, const char *key,
                             size_t klen) {
    zm_store *s = zm__store_of(ctx);
    zm_template_cache *tc = zm_prim_templates(ctx);
    zm__quoted q;
    uint64_t latest = 0, held = 0;
    zm_status st = zm_store_head(s, key, klen, zm_prim_alloc(ctx), &latest);
    if (st == ZM_ENOTFOUND) {
        /* Deleted (by any context or process), or never put: a copy this
           cache still holds goes now rather than at its eviction. */
        (void)zm_template_remove(tc, key);
        return zm_prim_fail(ctx, st, "/name", "no template named \"%s\"",
                            zm__quote(&q, name, nlen));
    }
    if (st != ZM_OK) return zm__bi_fail(ctx, st, NULL, "render");
    if (zm_template_version(tc, key, &held) == ZM_OK && held == latest) return ZM_OK;

    /* Evicted, never loaded here, or changed since: read it again. */
    zm_store_version v;
    memset(&v, 0, sizeof v);
    st = zm_store_get(s, key, klen, -1, zm_prim_alloc(ctx), &v);
    if (st == ZM_ENOTFOUND)
        return zm_prim_fail(ctx, st, "/name", "no template named \"%s\"",
                            zm__quote(&q, name, nlen));
    if (st != ZM_OK) return zm__bi_fail(ctx, st, NULL, "render");
    zm_json_error err;
    st = zm_template_put_value(tc, key, v.value, v.version, &err);
    if (st == ZM_ELIMIT)
        return zm_prim_fail(ctx, st, "/name",
                            "template \"%s\" needs %zu bytes, more than this context's template "
                            "cache budget",
                            zm__quote(&q, name, nlen), zm_template_bytes(key, v.value));
    if (st != ZM_OK) return zm__bi_oom(ctx);
    return ZM_OK;
}

static zm_status prim_render(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    const char *name;
    char *key;
    size_t nlen, klen;
    zm_status st = name_param(ctx, params, &name, &nlen, &key, &klen);
    if (st != ZM_OK) return st;
    const zm_json *bindings = zm_json_get(params, "bindings");
    if ((st = load_latest(ctx, name, nlen, key, klen)) != ZM_OK) return st;

    zm_json_error err;
    zm_json *out = NULL;
    st = zm_template_instantiate(zm_prim_templates(ctx), key, bindings, zm_prim_arena(ctx), &out,
                                 &err);
    /* The template is held (just checked): not found is a missing binding. */
    if (st == ZM_ENOTFOUND || st == ZM_EINVAL)
        return zm_prim_fail(ctx, ZM_EINVAL, "/bindings", "%s", err.message);
    if (st == ZM_ELIMIT) return zm_prim_fail(ctx, ZM_ELIMIT, "/bindings", "%s", err.message);
    if (st != ZM_OK) return zm__bi_oom(ctx);
    *result = out;
    return ZM_OK;
}

const zm_prim_def zm__bi_render = {
    .name = "render",
    .description = "Render the template stored under name with bindings (an object): each "
                   "\"{{key}}\" string becomes the value of bindings.key, and each placeholder "
                   "inside a string becomes a string binding's text or another value's JSON "
                   "text. Returns the rendered JSON. An unknown template is not_found; a "
                   "placeholder without a binding is invalid_params naming it.",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256},"
                    "\"bindings\":{\"type\":\"object\"}},"
                    "\"required\":[\"name\"],"
                    "\"additionalProperties\":false}",
    .fn = prim_render,
};

/* ---------------------------------------------------------------------------
 * template_list {prefix?}
 *   -> {templates: [{name, version, timestamp, description?, placeholders}],
 *       count, truncated}
 * ------------------------------------------------------------------------- */

static zm_status prim_template_list(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_store *s = zm__store_of(ctx);
    size_t plen = 0;
    const char *prefix = zm_json_str(zm_json_get(params, "prefix"), &plen);
    if (prefix == NULL) prefix = "", plen = 0;
    size_t qlen;
    char *query = template_key(ctx, prefix, plen, &qlen);
    if (query == NULL) return zm__bi_oom(ctx);

    /* The keys under the prefix: every hit on a key scores 1.0 and comes
       before the hits on content (0.5), in key order. */
    zm__build b = {zm_prim_alloc(ctx), false};
    zm_search_hit *hits = NULL;
    size_t n = 0, total = 0;
    zm_status st =
        zm_store_search(s, query, qlen, ZM_SEARCH_PREFIX, LIST_LIMIT, b.a, &hits, &n, &total);
    if (st != ZM_OK) return zm__bi_fail(ctx, st, NULL, "template_list");
    zm_json *arr = zm__b_arr(&b, n);
    size_t count = 0;
    for (size_t i = 0; i < n && !b.oom; i++) {
        const zm_search_hit *h = &hits[i];
        if (h->key_len < qlen || memcmp(h->key, query, qlen) != 0) continue;
        zm_store_version v;
        memset(&v, 0, sizeof v);
        st = zm_store_get(s, h->key, h->key_len, -1, b.a, &v);
        if (st == ZM_ENOTFOUND) continue; /* forgotten since */
        if (st != ZM_OK) return zm__bi_fail(ctx, st, NULL, "template_list");
        zm_json *names = NULL;
        if (zm_template_placeholders(v.value, b.a, &names) != ZM_OK) return zm__bi_oom(ctx);
        zm_json *o = zm__b_obj(&b, 5);
        zm__b_set(&b, o, "name", zm__b_ref(&b, h->key + PREFIX_LEN, h->key_len - PREFIX_LEN));
        zm__b_set(&b, o, "version", zm__b_int(&b, (int64_t)v.version));
        zm__b_set(&b, o, "timestamp", zm__b_int(&b, v.timestamp));
        const zm_json *desc = zm_json_get(v.metadata, "description");
        if (zm_json_is_string(desc)) zm__b_set(&b, o, "description", desc);
        zm__b_set(&b, o, "placeholders", names);
        zm__b_push(&b, arr, o);
        count++;
    }
    zm_json *r = zm__b_obj(&b, 3);
    zm__b_set(&b, r, "templates", arr);
    zm__b_set(&b, r, "count", zm__b_int(&b, (int64_t)count));
    zm__b_set(&b, r, "truncated", zm__b_bool(&b, n == LIST_LIMIT));
    if (b.oom) return zm__bi_oom(ctx);
    *result = r;
    return ZM_OK;
}

const zm_prim_def zm__bi_template_list = {
    .name = "template_list",
    .description = "List the stored templates (those whose name starts with prefix, when "
                   "given), in name order: each with its latest version, timestamp, "
                   "description and placeholders.",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"prefix\":{\"type\":\"string\",\"maxLength\":256}},"
                    "\"additionalProperties\":false}",
    .fn = prim_template_list,
};

/* ---------------------------------------------------------------------------
 * template_delete {name} -> {name, deleted, version} (version null when
 * nothing was deleted)
 * ------------------------------------------------------------------------- */

static zm_status prim_template_delete(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_store *s = zm__store_of(ctx);
    const char *name;
    char *key;
    size_t nlen, klen, alen, slen;
    zm_status st = name_param(ctx, params, &name, &nlen, &key, &klen);
    if (st != ZM_OK) return st;
    const char *agent = zm_prim_agent_id(ctx, &alen);
    const char *session = zm_prim_session_id(ctx, &slen);
    /* The answer is built before the write, so that out of memory never
       answers a deletion that was made. */
    zm__build b = {zm_prim_alloc(ctx), false};
    zm_json *r = zm__b_obj(&b, 3);
    zm_json *deleted = zm__b_bool(&b, false), *version = zm__b_int(&b, 0);
    zm__b_set(&b, r, "name", zm__b_ref(&b, name, nlen));
    zm__b_set(&b, r, "deleted", deleted);
    zm__b_set(&b, r, "version", version);
    if (b.oom) return zm__bi_oom(ctx);

    zm_store_write w = {key, klen, NULL, NULL, agent, alen, session, slen, zm_prim_now_ms(ctx), 0};
    zm_store_version v;
    bool existed = false;
    st = zm_store_forget(s, &w, false, &v, &existed);
    if (st == ZM_EINVAL || st == ZM_ELIMIT) {
        const zm__bi_part parts[] = {
            {NULL, "agent id", agent, alen, NULL},
            {NULL, "session id", session, slen, NULL},
            {"/name", "template name", name, nlen, NULL},
        };
        return zm__bi_refused(ctx, s, st, parts, 3, "template_delete");
    }
    if (st != ZM_OK) return zm__bi_fail(ctx, st, NULL, "template_delete");
    /* This context's copy goes now; the others' at their next render. */
    (void)zm_template_remove(zm_prim_templates(ctx), key);
    deleted->u.b = existed;
    if (existed)
        version->u.i = (int64_t)v.version;
    else
        version->type = ZM_JSON_NULL; /* no deletion was recorded */
    *result = r;
    return ZM_OK;
}

const zm_prim_def zm__bi_template_delete = {
    .name = "template_delete",
    .description =
        "Delete the template stored under name. Records a deletion as a new version of it, as "
        "forget does: render then answers not_found on every context, template_list and MCP "
        "prompts/list no longer show it, and retrieve of \"$template/NAME\" with history still "
        "shows its versions and the deletion. Putting it again starts a new version. Returns "
        "deleted: false (version null) when there was no such template.",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256}},"
                    "\"required\":[\"name\"],"
                    "\"additionalProperties\":false}",
    .fn = prim_template_delete,
};
