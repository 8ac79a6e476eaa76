/* The link and neighbors primitives. */
#include "builtins_internal.h"

#define DEFAULT_WALK_LIMIT 100
#define MAX_WALK_LIMIT     10000

/* ---------------------------------------------------------------------------
 * link {from, to, relation, metadata?} -> {from, to, relation, created, timestamp}
 * ------------------------------------------------------------------------- */

static zm_status prim_link(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_store *s = zm__store_of(ctx);
    size_t flen, tlen, rlen, alen;
    const char *from = zm_json_str(zm_json_get(params, "from"), &flen);
    const char *to = zm_json_str(zm_json_get(params, "to"), &tlen);
    const char *rel = zm_json_str(zm_json_get(params, "relation"), &rlen);
    const zm_json *meta = zm_json_get(params, "metadata");
    const char *agent = zm_prim_agent_id(ctx, &alen);
    if (from == NULL || to == NULL || rel == NULL)
        return zm_prim_fail(ctx, ZM_EINVAL,
                            from == NULL ? "/from"
                            : to == NULL ? "/to"
                                         : "/relation",
                            "missing parameter");
    int64_t now = zm_prim_now_ms(ctx);
    /* The answer is built first: once the edge is stored, answering
       out_of_memory would tell the client it was not. */
    zm__build b = {zm_prim_alloc(ctx), false};
    zm_json *r = zm__b_obj(&b, 5);
    zm_json *created_v = zm__b_bool(&b, false);
    zm__b_set(&b, r, "from", zm__b_ref(&b, from, flen));
    zm__b_set(&b, r, "to", zm__b_ref(&b, to, tlen));
    zm__b_set(&b, r, "relation", zm__b_ref(&b, rel, rlen));
    zm__b_set(&b, r, "created", created_v);
    zm__b_set(&b, r, "timestamp", zm__b_int(&b, now));
    if (b.oom) return zm__bi_oom(ctx);
    bool created;
    zm_store_link_req l = {from, to, rel, flen, tlen, rlen, meta, agent, alen, now};
    zm_status st = zm_store_link(s, &l, &created);
    if (st == ZM_EINVAL || st == ZM_ELIMIT) {
        const zm__bi_part parts[] = {
            {NULL, "agent id", agent, alen, NULL},
            {"/from", "from", from, flen, NULL},
            {"/to", "to", to, tlen, NULL},
            {"/relation", "relation", rel, rlen, NULL},
            {"/metadata", "metadata", NULL, 0, meta},
        };
        return zm__bi_refused(ctx, s, st, parts, meta ? 5 : 4, "link");
    }
    if (st != ZM_OK) return zm__bi_fail(ctx, st, NULL, "link");
    created_v->u.b = created;
    *result = r;
    return ZM_OK;
}

const zm_prim_def zm__bi_link = {
    .name = "link",
    .description = "Store a directed edge from one node to another, labelled with a relation, "
                   "with optional metadata, the time and the agent. Nodes are any names (keys "
                   "or not). Linking the same from, to and relation again updates the edge "
                   "(created: false).",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"from\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
                    "\"to\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
                    "\"relation\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
                    "\"metadata\":{\"type\":\"object\"}},"
                    "\"required\":[\"from\",\"to\",\"relation\"],"
                    "\"additionalProperties\":false}",
    .fn = prim_link,
};

/* ---------------------------------------------------------------------------
 * neighbors {node, relation?, direction, depth?, limit?}
 *   -> {node, nodes: [{node, depth, direction, edge}], count, truncated}
 * ------------------------------------------------------------------------- */

static zm_status prim_neighbors(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_store *s = zm__store_of(ctx);
    size_t nlen, rlen = 0, dlen;
    const char *node = zm_json_str(zm_json_get(params, "node"), &nlen);
    const char *rel = zm_json_str(zm_json_get(params, "relation"), &rlen);
    const char *dir = zm_json_str(zm_json_get(params, "direction"), &dlen);
    if (node == NULL) return zm_prim_fail(ctx, ZM_EINVAL, "/node", "missing parameter");
    zm_store_direction d;
    if (dir != NULL && dlen == 3 && memcmp(dir, "out", 3) == 0)
        d = ZM_STORE_OUT;
    else if (dir != NULL && dlen == 2 && memcmp(dir, "in", 2) == 0)
        d = ZM_STORE_IN;
    else if (dir != NULL && dlen == 4 && memcmp(dir, "both", 4) == 0)
        d = ZM_STORE_BOTH;
    else
        return zm_prim_fail(ctx, ZM_EINVAL, "/direction", "direction must be out, in or both");
    int64_t depth = 1, limit = DEFAULT_WALK_LIMIT;
    zm_status st = zm__bi_param_int(ctx, params, "depth", &depth);
    if (st == ZM_OK) st = zm__bi_param_int(ctx, params, "limit", &limit);
    if (st != ZM_OK) return st;
    if (depth < 1 || depth > ZM_STORE_MAX_WALK_DEPTH)
        return zm_prim_fail(ctx, ZM_EINVAL, "/depth", "depth must be within 1..%d",
                            ZM_STORE_MAX_WALK_DEPTH);
    if (limit < 1 || limit > MAX_WALK_LIMIT)
        return zm_prim_fail(ctx, ZM_EINVAL, "/limit", "limit must be within 1..%d", MAX_WALK_LIMIT);

    zm__build b = {zm_prim_alloc(ctx), false};
    zm_store_hit *hits;
    size_t n;
    bool truncated;
    zm_store_walk w = {node, nlen, rel, rlen, d, (uint32_t)depth, (size_t)limit};
    st = zm_store_neighbors(s, &w, b.a, &hits, &n, &truncated);
    if (st != ZM_OK) return zm__bi_fail(ctx, st, NULL, "neighbors");

    zm_json *arr = zm__b_arr(&b, n);
    for (size_t i = 0; i < n && !b.oom; i++) {
        const zm_store_hit *h = &hits[i];
        zm_json *o = zm__b_obj(&b, 4);
        zm__b_set(&b, o, "node", zm__b_ref(&b, h->node, h->node_len));
        zm__b_set(&b, o, "depth", zm__b_int(&b, h->depth));
        zm__b_set(&b, o, "direction",
                  zm__b_ref(&b, h->outgoing ? "out" : "in", h->outgoing ? 3 : 2));
        zm__b_set(&b, o, "edge", zm__bi_edge_json(&b, &h->edge));
        zm__b_push(&b, arr, o);
    }
    zm_json *r = zm__b_obj(&b, 4);
    zm__b_set(&b, r, "node", zm__b_ref(&b, node, nlen));
    zm__b_set(&b, r, "nodes", arr);
    zm__b_set(&b, r, "count", zm__b_int(&b, (int64_t)n));
    zm__b_set(&b, r, "truncated", zm__b_bool(&b, truncated));
    if (b.oom) return zm__bi_oom(ctx);
    *result = r;
    return ZM_OK;
}

const zm_prim_def zm__bi_neighbors = {
    .name = "neighbors",
    .description =
        "Walk the graph breadth-first from a node along edges going out, in or both, "
        "optionally of one relation only, down to depth levels (default 1, at most 8), "
        "visiting each node once. Lists the nodes reached with their depth and the edge that "
        "reached them, in the order reached; at most limit nodes (default 100, at most "
        "10000), truncated: true when more were reachable. An unknown node has no neighbours.",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"node\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
                    "\"relation\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
                    "\"direction\":{\"type\":\"string\",\"enum\":[\"out\",\"in\",\"both\"]},"
                    "\"depth\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":8},"
                    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000}},"
                    "\"required\":[\"node\",\"direction\"],"
                    "\"additionalProperties\":false}",
    .fn = prim_neighbors,
};

/* ---------------------------------------------------------------------------
 * unlink {from, to, relation} -> {from, to, relation, removed}
 * ------------------------------------------------------------------------- */

static zm_status prim_unlink(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_store *s = zm__store_of(ctx);
    size_t flen, tlen, rlen;
    const char *from = zm_json_str(zm_json_get(params, "from"), &flen);
    const char *to = zm_json_str(zm_json_get(params, "to"), &tlen);
    const char *rel = zm_json_str(zm_json_get(params, "relation"), &rlen);
    if (from == NULL || to == NULL || rel == NULL)
        return zm_prim_fail(ctx, ZM_EINVAL,
                            from == NULL ? "/from"
                            : to == NULL ? "/to"
                                         : "/relation",
                            "missing parameter");
    /* The answer is built first (see link). */
    zm__build b = {zm_prim_alloc(ctx), false};
    zm_json *r = zm__b_obj(&b, 4);
    zm_json *removed_v = zm__b_bool(&b, false);
    zm__b_set(&b, r, "from", zm__b_ref(&b, from, flen));
    zm__b_set(&b, r, "to", zm__b_ref(&b, to, tlen));
    zm__b_set(&b, r, "relation", zm__b_ref(&b, rel, rlen));
    zm__b_set(&b, r, "removed", removed_v);
    if (b.oom) return zm__bi_oom(ctx);
    bool removed;
    zm_status st = zm_store_unlink(s, from, flen, to, tlen, rel, rlen, &removed);
    if (st != ZM_OK) return zm__bi_fail(ctx, st, NULL, "unlink");
    removed_v->u.b = removed;
    *result = r;
    return ZM_OK;
}

const zm_prim_def zm__bi_unlink = {
    .name = "unlink",
    .description = "Remove the edge from one node to another with the given relation. "
                   "removed: false when there was no such edge (not an error).",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"from\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
                    "\"to\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
                    "\"relation\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024}},"
                    "\"required\":[\"from\",\"to\",\"relation\"],"
                    "\"additionalProperties\":false}",
    .fn = prim_unlink,
};
