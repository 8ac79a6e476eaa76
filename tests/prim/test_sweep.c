/* The every-failure sweep over the runtime's entry points: registry create and
   register, context create, zm_prim_call_json (a call, a batch with
   references, an error response), zm_prim_call, and the MCP handler. Each
   run fails one allocation (or resize) and must report out of memory and
   free everything. */
#include "mcp.h"
#include "prims.h"
#include "test.h"
#include "zmem/testing.h"

static zm_status sweep_registry(zm_allocator a, void *arg) {
    (void)arg;
    zm_prim_registry *reg;
    zm_status st = zm_prim_registry_create(a, &reg);
    if (st != ZM_OK) return st;
    tp_state state = {0, 0};
    st = tp_register(reg, &state); /* 8 primitives, 5 schemas: grows everything */
    zm_prim_registry_destroy(reg);
    return st;
}

static zm_status sweep_ctx(zm_allocator a, void *arg) {
    (void)arg;
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = a;
    zm_prim_ctx *ctx;
    zm_status st = zm_prim_ctx_create(&o, &ctx);
    if (st != ZM_OK) return st;
    st = zm_prim_ctx_set_agent_id(ctx, "agent", 5);
    if (st == ZM_OK) st = zm_prim_ctx_set_session_id(ctx, "session", 7);
    zm_prim_ctx_destroy(ctx);
    return st;
}

/* One request through a fresh registry and context made from a. */
typedef struct json_case {
    const char *request;
    zm_status expect;        /* what the call returns when nothing fails */
    const char *expect_text; /* the response then (NULL: not checked) */
} json_case;

static zm_status sweep_call_json(zm_allocator a, void *arg) {
    const json_case *c = arg;
    zm_prim_registry *reg = NULL;
    zm_prim_ctx *ctx = NULL;
    tp_state state = {0, 0};
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = a;
    o.arena_block_size = 512; /* several arena blocks per call */
    zm_status st = zm_prim_registry_create(a, &reg);
    if (st == ZM_OK) st = tp_register(reg, &state);
    if (st == ZM_OK) st = zm_prim_ctx_create(&o, &ctx);
    if (st == ZM_OK) {
        char *resp;
        size_t len;
        /* Twice: the second call reuses what the first one grew. */
        for (int i = 0; i < 2 && st == ZM_OK; i++) {
            zm_status call =
                zm_prim_call_json(reg, ctx, c->request, strlen(c->request), &resp, &len);
            if (call == ZM_ENOMEM) {
                CHECK(strstr(resp, "\"out_of_memory\"") != NULL);
                st = ZM_ENOMEM;
            } else if (call != c->expect) {
                fprintf(stderr, "unexpected %s: %s\n", zm_status_name(call), resp);
                st = ZM_EINTERNAL;
            } else if (c->expect_text != NULL && strcmp(resp, c->expect_text) != 0) {
                fprintf(stderr, "unexpected response %s\n", resp);
                st = ZM_EINTERNAL;
            }
            if (zm_arena_used(zm_prim_arena(ctx)) != 0) st = ZM_EINTERNAL;
        }
        if (state.cleanups_run != state.calls) st = ZM_EINTERNAL;
    }
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
    return st;
}

static zm_status sweep_call_value(zm_allocator a, void *arg) {
    (void)arg;
    zm_prim_registry *reg = NULL;
    zm_prim_ctx *ctx = NULL;
    tp_state state = {0, 0};
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = a;
    o.arena_block_size = 256;
    zm_json_doc *doc = NULL;
    zm_status st = zm_prim_registry_create(a, &reg);
    if (st == ZM_OK) st = tp_register(reg, &state);
    if (st == ZM_OK) st = zm_prim_ctx_create(&o, &ctx);
    if (st == ZM_OK) st = zm_json_parse(a, "{\"a\":40,\"b\":2}", 14, NULL, &doc, NULL);
    if (st == ZM_OK) {
        zm_json *res;
        st = zm_prim_call(reg, ctx, "add", zm_json_doc_root(doc), &res);
        if (st == ZM_OK && zm_json_int(zm_json_get(res, "sum")) != 42) st = ZM_EINTERNAL;
    }
    zm_json_doc_free(doc);
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
    return st;
}

static zm_status collect(void *c, const char *data, size_t n) {
    char *buf = c;
    size_t have = strlen(buf);
    if (n > 8191 - have) n = 8191 - have;
    memcpy(buf + have, data, n);
    buf[have + n] = '\0';
    return ZM_OK;
}

static zm_status sweep_mcp(zm_allocator a, void *arg) {
    const char *const *lines = arg;
    zm_prim_registry *reg = NULL;
    zm_prim_ctx *ctx = NULL;
    mcp_server *s = NULL;
    tp_state state = {0, 0};
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = a;
    zm_status st = zm_prim_registry_create(a, &reg);
    if (st == ZM_OK) st = tp_register(reg, &state);
    if (st == ZM_OK) st = zm_prim_ctx_create(&o, &ctx);
    if (st == ZM_OK) st = mcp_server_create(a, reg, ctx, &s);
    for (size_t i = 0; st == ZM_OK && lines[i] != NULL; i++) {
        static char out[8192];
        out[0] = '\0';
        mcp_sink sink = {collect, out};
        st = mcp_handle_line(s, lines[i], strlen(lines[i]), &sink);
        if (st == ZM_OK && (strstr(out, "out of memory") || strstr(out, "out_of_memory")))
            st = ZM_ENOMEM;
        if (st == ZM_OK && strstr(out, "\"error\"") != NULL && strstr(lines[i], "nope") == NULL) {
            fprintf(stderr, "unexpected error: %s", out);
            st = ZM_EINTERNAL;
        }
    }
    mcp_server_destroy(s);
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
    return st;
}

static void test_sweeps(void) {
    CHECK(ZM_CHECK_SWEEP(sweep_registry, NULL));
    CHECK(ZM_CHECK_SWEEP(sweep_ctx, NULL));
    CHECK(ZM_CHECK_SWEEP(sweep_call_value, NULL));

    static const json_case trivial = {
        "{\"id\":1,\"primitive\":\"echo1\",\"params\":{\"msg\":\"hello\"}}", ZM_OK,
        "{\"id\":1,\"ok\":true,\"result\":{\"msg\":\"hello\"}}"};
    CHECK(ZM_CHECK_SWEEP(sweep_call_json, (void *)&trivial));
    static const json_case cleanup = {
        "{\"id\":1,\"primitive\":\"cleanup\",\"params\":{\"bytes\":2000}}", ZM_OK,
        "{\"id\":1,\"ok\":true,\"result\":2000}"};
    CHECK(ZM_CHECK_SWEEP(sweep_call_json, (void *)&cleanup));
    static const json_case batch = {
        "{\"id\":2,\"batch\":[{\"primitive\":\"add\",\"params\":{\"a\":1,\"b\":2}},"
        "{\"primitive\":\"add\",\"params\":{\"a\":\"$0.result.sum\",\"b\":\"$0.result.parts.0\"}},"
        "{\"primitive\":\"echo\",\"params\":{\"value\":[\"$$x\",\"$1.result\"]}},"
        "{\"primitive\":\"fail\",\"params\":{\"status\":\"ELIMIT\"}},"
        "{\"primitive\":\"echo\",\"params\":{\"value\":\"$3.error\"}}]}",
        ZM_OK, NULL};
    CHECK(ZM_CHECK_SWEEP(sweep_call_json, (void *)&batch));
    static const json_case invalid = {"{\"id\":3,\"primitive\":\"echo1\",\"params\":{\"msg\":5}}",
                                      ZM_EINVAL, NULL};
    CHECK(ZM_CHECK_SWEEP(sweep_call_json, (void *)&invalid));
    static const json_case parse = {"{\"id\":3,\"primitive\":", ZM_ESYNTAX, NULL};
    CHECK(ZM_CHECK_SWEEP(sweep_call_json, (void *)&parse));

    static const char *const mcp_lines[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
        "\"2025-03-26\"}}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"add\","
        "\"arguments\":{\"a\":1,\"b\":2}}}",
        "[{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"id\":5,"
        "\"method\":\"tools/call\",\"params\":{\"name\":\"echo1\",\"arguments\":{\"msg\":\"m\"}}}]",
        "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"nope\"}",
        NULL};
    CHECK(ZM_CHECK_SWEEP(sweep_mcp, (void *)mcp_lines));
}

int main(void) {
    RUN(test_sweeps);
    return zt_finish("prim_sweep");
}
