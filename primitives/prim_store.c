/* The store and retrieve primitives. */
#include "builtins_internal.h"

/* ---------------------------------------------------------------------------
 * store {key, value, metadata?} -> {key, version, timestamp}
 * ------------------------------------------------------------------------- */

static zm_status prim_store(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_store *s = zm__store_of(ctx);
    size_t klen, alen;
    const char *key = zm_json_str(zm_json_get(params, "key"), &klen);
    const zm_json *value = zm_json_get(params, "value");
    const zm_json *meta = zm_json_get(params, "metadata");
    const char *agent = zm_prim_agent_id(ctx, &alen);
    if (key == NULL || value == NULL)
        return zm_prim_fail(ctx, ZM_EINVAL, key ? "/value" : "/key", "missing parameter");
    if (zm__bi_reserved_key(key, klen))
        return zm_prim_fail(ctx, ZM_EINVAL, "/key",
                            "keys starting with \"" ZM_TEMPLATE_KEY_PREFIX
                            "\" hold templates: use template_put");

    size_t slen;
    const char *session = zm_prim_session_id(ctx, &slen);
    /* The answer is built first: once the version is stored, answering
       out_of_memory would tell the client to write it again. */
    zm__build b = {zm_prim_alloc(ctx), false};
    zm_json *r = zm__b_obj(&b, 3);
    zm_json *version = zm__b_int(&b, 0), *timestamp = zm__b_int(&b, 0);
    zm__b_set(&b, r, "key", zm__b_ref(&b, key, klen));
    zm__b_set(&b, r, "version", version);
    zm__b_set(&b, r, "timestamp", timestamp);
    if (b.oom) return zm__bi_oom(ctx);

    zm_store_write w = {key, klen, value, meta, agent, alen, session, slen, zm_prim_now_ms(ctx), 0};
    zm_store_version v;
    zm_status st = zm_store_put(s, &w, &v);
    if (st == ZM_EINVAL || st == ZM_ELIMIT) {
        const zm__bi_part parts[] = {
            {NULL, "agent id", agent, alen, NULL},    {NULL, "session id", session, slen, NULL},
            {"/key", "key", key, klen, NULL},         {"/value", "value", NULL, 0, value},
            {"/metadata", "metadata", NULL, 0, meta},
        };
        return zm__bi_refused(ctx, s, st, parts, meta ? 5 : 4, "store");
    }
    if (st != ZM_OK) return zm__bi_fail(ctx, st, NULL, "store");
    version->u.i = (int64_t)v.version;
    timestamp->u.i = v.timestamp;
    *result = r;
    return ZM_OK;
}

const zm_prim_def zm__bi_store = {
    .name = "store",
    .description = "Store a JSON value under a key as a new version. Every version is kept "
                   "with its timestamp (ms) and the agent that wrote it. Returns the key, "
                   "the new version number (1, 2, ...) and its timestamp.",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"key\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
                    "\"value\":{},"
                    "\"metadata\":{\"type\":\"object\"}},"
                    "\"required\":[\"key\",\"value\"],"
                    "\"additionalProperties\":false}",
    .fn = prim_store,
};

/* ---------------------------------------------------------------------------
 * retrieve {key, history?, as_of?}
 *   -> {exists, key, value, metadata, version, timestamp, agent, history?}
 *
 * The value and metadata are read into the per-call arena (the memory
 * store copies its own; a database parses its text), strings borrow them,
 * and the answer object is built around them there.
 * ------------------------------------------------------------------------- */

/* What reading a history may take, as a multiple of the response limit:
   the versions parsed into trees take several times their JSON text, so a
   history whose answer fits the response limit is read, and one many times
   larger is refused before it is all in memory. */
#define HISTORY_BUDGET_TIMES 16

/* The arena a history is read into: over a zm_stats with the budget as its
   limit, itself over the call's arena (so nothing is long-lived and all of
   it dies with the call). A backend sees an arena (and parses straight into
   it), and the budget counts the arena's blocks, which is what the read
   really takes. */
typedef struct history_arena {
    zm_stats budget;
    zm_arena ar;
} history_arena;

static void history_arena_end(void *arg) {
    zm_arena_deinit(&((history_arena *)arg)->ar);
}

/* A history arena in the call's arena a, ended when the call's memory dies;
   NULL when out of memory. */
static history_arena *history_arena_begin(zm_prim_ctx *ctx, zm_allocator a) {
    history_arena *ha = zm_create(a, history_arena);
    if (ha == NULL) return NULL;
    size_t rl = zm_prim_response_limit(ctx);
    zm_stats_init(&ha->budget, a,
                  rl > SIZE_MAX / HISTORY_BUDGET_TIMES ? SIZE_MAX : rl * HISTORY_BUDGET_TIMES);
    zm_stats_set_single_thread(&ha->budget, true);
    zm_arena_init(&ha->ar, zm_stats_allocator(&ha->budget));
    if (zm_arena_on_reset(zm_prim_arena(ctx), history_arena_end, ha) != ZM_OK) return NULL;
    return ha;
}

static zm_json *version_json(zm__build *b, const zm_store_version *v) {
    zm_json *o = zm__b_obj(b, 6);
    zm__b_set(b, o, "version", zm__b_int(b, (int64_t)v->version));
    zm__b_set(b, o, "timestamp", zm__b_int(b, v->timestamp));
    zm__b_set(b, o, "agent", zm__b_ref(b, v->agent, v->agent_len));
    zm__b_set(b, o, "session", zm__b_ref(b, v->session, v->session_len));
    zm__b_set(b, o, "value", v->value);
    if (v->deleted) zm__b_set(b, o, "deleted", zm__b_bool(b, true));
    return o;
}

static zm_status prim_retrieve(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_store *s = zm__store_of(ctx);
    size_t klen;
    const char *key = zm_json_str(zm_json_get(params, "key"), &klen);
    if (key == NULL) return zm_prim_fail(ctx, ZM_EINVAL, "/key", "missing parameter");
    int64_t as_of = -1;
    zm_status st = zm__bi_param_int(ctx, params, "as_of", &as_of);
    if (st != ZM_OK) return st;
    if (as_of < -1) as_of = -1;
    bool want_history = zm_json_bool(zm_json_get(params, "history"));

    zm__build b = {zm_prim_alloc(ctx), false};
    zm_store_version v;
    memset(&v, 0, sizeof v);
    st = zm_store_get(s, key, klen, as_of, b.a, &v);
    if (st != ZM_OK && st != ZM_ENOTFOUND) return zm__bi_fail(ctx, st, NULL, "retrieve");
    bool exists = st == ZM_OK;
    zm_json *r = zm__b_obj(&b, 9);
    zm__b_set(&b, r, "exists", zm__b_bool(&b, exists));
    zm__b_set(&b, r, "key", zm__b_ref(&b, key, klen));
    if (exists) {
        zm__b_set(&b, r, "value", v.value);
        zm__b_set(&b, r, "metadata", v.metadata ? v.metadata : zm__b_null(&b));
        zm__b_set(&b, r, "version", zm__b_int(&b, (int64_t)v.version));
        zm__b_set(&b, r, "timestamp", zm__b_int(&b, v.timestamp));
        zm__b_set(&b, r, "agent", zm__b_ref(&b, v.agent, v.agent_len));
        zm__b_set(&b, r, "session", zm__b_ref(&b, v.session, v.session_len));
    } else {
        zm__b_set(&b, r, "value", zm__b_null(&b));
        zm__b_set(&b, r, "metadata", zm__b_null(&b));
        zm__b_set(&b, r, "version", zm__b_null(&b));
        zm__b_set(&b, r, "timestamp", zm__b_null(&b));
        zm__b_set(&b, r, "agent", zm__b_null(&b));
        zm__b_set(&b, r, "session", zm__b_null(&b));
    }
    if (want_history) {
        /* Oldest first, up to the version read (deletions included), read
           into an arena of its own under a budget, so that a key with more
           history than a response could carry is refused before all of it is
           in memory (see history_arena). */
        history_arena *ha = history_arena_begin(ctx, b.a);
        if (ha == NULL) return zm__bi_oom(ctx);
        zm_store_version *h = NULL;
        size_t n = 0;
        st = zm_store_history(s, key, klen, as_of, zm_arena_allocator(&ha->ar), &h, &n);
        zm_memory_stats used;
        zm_stats_snapshot(&ha->budget, &used);
        if (st == ZM_ENOMEM && used.refused > 0) {
            zm_stats_config cfg;
            zm_stats_config_get(&ha->budget, &cfg);
            return zm_prim_fail(ctx, ZM_ELIMIT, "/history",
                                "reading the key's history takes more than %zu bytes of memory "
                                "(%d times the response limit); give as_of to read less of it",
                                cfg.limit_bytes, HISTORY_BUDGET_TIMES);
        }
        if (st != ZM_OK && st != ZM_ENOTFOUND) return zm__bi_fail(ctx, st, NULL, "retrieve");
        zm_json *arr = zm__b_arr(&b, n);
        for (size_t i = 0; i < n && !b.oom; i++) zm__b_push(&b, arr, version_json(&b, &h[i]));
        zm__b_set(&b, r, "history", arr);
    }
    if (b.oom) return zm__bi_oom(ctx);
    *result = r;
    return ZM_OK;
}

const zm_prim_def zm__bi_retrieve = {
    .name = "retrieve",
    .description = "Read the value stored under a key: the latest version, or the one current "
                   "at as_of (ms). A missing or forgotten key answers exists: false, not an "
                   "error. With history: true, also every version kept up to it, oldest first, "
                   "as {version, timestamp, agent, session, value} (a deletion has "
                   "deleted: true).",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"key\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
                    "\"history\":{\"type\":\"boolean\"},"
                    "\"as_of\":{\"type\":\"integer\",\"minimum\":0}},"
                    "\"required\":[\"key\"],"
                    "\"additionalProperties\":false}",
    .fn = prim_retrieve,
};

/* ---------------------------------------------------------------------------
 * forget {key, purge?} -> {key, forgotten, purged, version} (version null
 * when no deletion was recorded: a purge, or nothing to forget)
 * ------------------------------------------------------------------------- */

static zm_status prim_forget(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_store *s = zm__store_of(ctx);
    size_t klen, alen, slen;
    const char *key = zm_json_str(zm_json_get(params, "key"), &klen);
    if (key == NULL) return zm_prim_fail(ctx, ZM_EINVAL, "/key", "missing parameter");
    if (zm__bi_reserved_key(key, klen))
        return zm_prim_fail(ctx, ZM_EINVAL, "/key",
                            "keys starting with \"" ZM_TEMPLATE_KEY_PREFIX
                            "\" hold templates: use template_delete");
    bool purge = zm_json_bool(zm_json_get(params, "purge"));
    const char *agent = zm_prim_agent_id(ctx, &alen);
    const char *session = zm_prim_session_id(ctx, &slen);
    /* The answer is built first (see store). */
    zm__build b = {zm_prim_alloc(ctx), false};
    zm_json *r = zm__b_obj(&b, 4);
    zm_json *forgotten = zm__b_bool(&b, false), *purged = zm__b_bool(&b, false);
    zm_json *version = zm__b_int(&b, 0);
    zm__b_set(&b, r, "key", zm__b_ref(&b, key, klen));
    zm__b_set(&b, r, "forgotten", forgotten);
    zm__b_set(&b, r, "purged", purged);
    zm__b_set(&b, r, "version", version);
    if (b.oom) return zm__bi_oom(ctx);

    zm_store_write w = {key, klen, NULL, NULL, agent, alen, session, slen, zm_prim_now_ms(ctx), 0};
    zm_store_version v;
    bool existed;
    zm_status st = zm_store_forget(s, &w, purge, &v, &existed);
    if (st == ZM_EINVAL || st == ZM_ELIMIT) {
        const zm__bi_part parts[] = {
            {NULL, "agent id", agent, alen, NULL},
            {NULL, "session id", session, slen, NULL},
            {"/key", "key", key, klen, NULL},
        };
        return zm__bi_refused(ctx, s, st, parts, 3, "forget");
    }
    if (st != ZM_OK) return zm__bi_fail(ctx, st, NULL, "forget");
    forgotten->u.b = existed;
    purged->u.b = purge && existed;
    if (existed && !purge)
        version->u.i = (int64_t)v.version;
    else
        version->type = ZM_JSON_NULL; /* no deletion was recorded */
    *result = r;
    return ZM_OK;
}

const zm_prim_def zm__bi_forget = {
    .name = "forget",
    .description = "Forget a key. Without purge, records a deletion as a new version: retrieve "
                   "then answers exists: false, history shows the deletion, and as_of before it "
                   "still reads the old value. With purge: true, erases every version of the key "
                   "and its search entries from storage, as if it had never been written (for a "
                   "request to be forgotten). forgotten: false when there was nothing to forget.",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"key\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
                    "\"purge\":{\"type\":\"boolean\"}},"
                    "\"required\":[\"key\"],"
                    "\"additionalProperties\":false}",
    .fn = prim_forget,
};
