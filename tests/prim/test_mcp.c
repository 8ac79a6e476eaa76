/* The MCP request handler: every method, every error code, notifications,
   batches per protocol version. */
#include "mcp.h"
#include "prims.h"
#include "test.h"
#include "json_eq.h"
#include "zmem/failing.h"
#include "zmem/store.h"
#include "zmem/template.h"

static zm_allocator A;
static zm_prim_registry *reg;
static zm_prim_ctx *ctx;
static tp_state state;

typedef struct out_buf {
    char data[65536];
    size_t len;
    int writes;
} out_buf;

static zm_status collect(void *c, const char *data, size_t n) {
    out_buf *o = c;
    o->writes++;
    if (n > sizeof o->data - 1 - o->len) return ZM_ELIMIT;
    memcpy(o->data + o->len, data, n);
    o->len += n;
    o->data[o->len] = '\0';
    return ZM_OK;
}

/* One exchange: the response line parsed (NULL when there was none). */
typedef struct reply {
    out_buf out;
    zm_json_doc *doc;
    const zm_json *root;
} reply;

static reply last;

static void reply_free(void) {
    zm_json_doc_free(last.doc);
    last.doc = NULL;
}

static reply *send_line(mcp_server *s, const char *line) {
    reply_free();
    reply *r = &last;
    memset(r, 0, sizeof *r);
    mcp_sink sink = {collect, &r->out};
    CHECK_EQ(mcp_handle_line(s, line, strlen(line), &sink), ZM_OK);
    CHECK_EQ(zm_arena_used(zm_prim_arena(ctx)), 0);
    if (r->out.len == 0) return r;
    CHECK_EQ(r->out.writes, 1);
    CHECK(r->out.data[r->out.len - 1] == '\n');
    CHECK(memchr(r->out.data, '\n', r->out.len - 1) == NULL); /* exactly one line */
    zm_json_error err;
    zm_status st = zm_json_parse(A, r->out.data, r->out.len - 1, NULL, &r->doc, &err);
    if (st != ZM_OK) fprintf(stderr, "not JSON: %s\n", r->out.data);
    CHECK_EQ(st, ZM_OK);
    r->root = r->doc ? zm_json_doc_root(r->doc) : NULL;
    return r;
}

static void no_reply(mcp_server *s, const char *line) {
    reply *r = send_line(s, line);
    if (r->out.len != 0) fprintf(stderr, "unexpected reply to %s: %s", line, r->out.data);
    CHECK_EQ(r->out.len, 0);
}

/* Checks an error reply: code, id (-1 = null). */
static void error_reply(mcp_server *s, const char *line, int code, long long id) {
    reply *r = send_line(s, line);
    CHECK(r->root != NULL);
    CHECK_STR(zm_json_str(zm_json_get(r->root, "jsonrpc"), NULL), "2.0");
    const zm_json *e = zm_json_get(r->root, "error");
    if (zm_json_int(zm_json_get(e, "code")) != code) fprintf(stderr, "%s -> %s", line, r->out.data);
    CHECK_EQ(zm_json_int(zm_json_get(e, "code")), code);
    CHECK(zm_json_is_string(zm_json_get(e, "message")));
    CHECK(zm_json_get(r->root, "result") == NULL);
    if (id < 0)
        CHECK(zm_json_is_null(zm_json_get(r->root, "id")));
    else
        CHECK_EQ(zm_json_int(zm_json_get(r->root, "id")), id);
}

static const zm_json *result_of(reply *r, long long id) {
    CHECK(r->root != NULL);
    CHECK_EQ(zm_json_int(zm_json_get(r->root, "id")), id);
    CHECK(zm_json_get(r->root, "error") == NULL);
    return zm_json_get(r->root, "result");
}

static mcp_server *new_server(void) {
    mcp_server *s = NULL;
    CHECK_EQ(mcp_server_create(A, reg, ctx, &s), ZM_OK);
    return s;
}

static void init(mcp_server *s, const char *version) {
    char line[512];
    snprintf(line, sizeof line,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
             "\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\","
             "\"version\":\"1\"}}}",
             version);
    send_line(s, line);
    no_reply(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
}

/* ---------------------------------------------------------------------------
 * Methods
 * ------------------------------------------------------------------------- */

static void test_initialize(void) {
    const char *cases[][2] = {
        {"2025-06-18", "2025-06-18"}, {"2025-03-26", "2025-03-26"}, {"2024-11-05", "2024-11-05"},
        {"2099-01-01", "2025-06-18"}, {"", "2025-06-18"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mcp_server *s = new_server();
        CHECK_STR(mcp_server_version(s), "");
        char line[512];
        snprintf(line, sizeof line,
                 "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\",\"params\":{"
                 "\"protocolVersion\":\"%s\",\"capabilities\":{\"roots\":{}},\"clientInfo\":{"
                 "\"name\":\"t\",\"version\":\"1\"}}}",
                 cases[i][0]);
        reply *r = send_line(s, line);
        const zm_json *res = result_of(r, 7);
        CHECK_STR(zm_json_str(zm_json_get(res, "protocolVersion"), NULL), cases[i][1]);
        CHECK(zm_json_is_object(zm_json_get(zm_json_get(res, "capabilities"), "tools")));
        CHECK_STR(zm_json_str(zm_json_get(zm_json_get(res, "serverInfo"), "name"), NULL), "zmem");
        CHECK(zm_json_is_string(zm_json_get(zm_json_get(res, "serverInfo"), "version")));
        CHECK_STR(mcp_server_version(s), cases[i][1]);
        mcp_server_destroy(s);
    }
    mcp_server *s = new_server();
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{}}", -32602,
                2);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\"}", -32602, 3);
    error_reply(s,
                "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"initialize\",\"params\":{"
                "\"protocolVersion\":5}}",
                -32602, 4);
    mcp_server_destroy(s);
}

static void test_ping_and_notifications(void) {
    mcp_server *s = new_server();
    init(s, "2025-06-18");
    reply *r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":\"p-1\",\"method\":\"ping\"}");
    CHECK_STR(zm_json_str(zm_json_get(r->root, "id"), NULL), "p-1");
    CHECK(zm_json_is_object(zm_json_get(r->root, "result")));
    CHECK_EQ(zm_json_len(zm_json_get(r->root, "result")), 0);
    /* Notifications are never answered, known or not, well-formed or not. */
    no_reply(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
                "\"requestId\":3}}");
    no_reply(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\"}");
    no_reply(s, "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\"}");
    no_reply(s, "{\"jsonrpc\":\"1.0\",\"method\":\"ping\"}");
    no_reply(s, "{\"method\":5}");
    /* Responses from the client, blank lines. */
    no_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}");
    no_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"error\":{\"code\":1,\"message\":\"x\"}}");
    no_reply(s, "");
    no_reply(s, "   \r");
    mcp_server_destroy(s);
}

static void test_tools_list(void) {
    mcp_server *s = new_server();
    init(s, "2025-06-18");
    reply *r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
    const zm_json *tools = zm_json_get(result_of(r, 2), "tools");
    CHECK_EQ(zm_json_len(tools), zm_prim_registry_count(reg));
    for (size_t i = 0; i < zm_json_len(tools); i++) {
        const zm_json *t = zm_json_at(tools, i);
        zm_prim_info info;
        zm_prim_registry_at(reg, i, &info);
        CHECK_STR(zm_json_str(zm_json_get(t, "name"), NULL), info.name);
        CHECK_STR(zm_json_str(zm_json_get(t, "description"), NULL), info.description);
        const zm_json *schema = zm_json_get(t, "inputSchema");
        CHECK_STR(zm_json_str(zm_json_get(schema, "type"), NULL), "object");
        if (info.schema != NULL && zm_json_get(info.schema, "properties") != NULL)
            CHECK(zt_json_eq(zm_json_get(schema, "properties"),
                             zm_json_get(info.schema, "properties")));
    }
    /* With params (a cursor) too. */
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\",\"params\":{}}");
    CHECK_EQ(zm_json_len(zm_json_get(result_of(r, 3), "tools")), zm_prim_registry_count(reg));
    mcp_server_destroy(s);
}

static void test_tools_call(void) {
    mcp_server *s = new_server();
    init(s, "2025-06-18");
    reply *r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{"
                            "\"name\":\"add\",\"arguments\":{\"a\":40,\"b\":2}}}");
    const zm_json *res = result_of(r, 4);
    CHECK(zm_json_is_bool(zm_json_get(res, "isError")) &&
          !zm_json_bool(zm_json_get(res, "isError")));
    const zm_json *content = zm_json_get(res, "content");
    CHECK_EQ(zm_json_len(content), 1);
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(content, 0), "type"), NULL), "text");
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(content, 0), "text"), NULL),
              "{\"sum\":42,\"parts\":[40,2]}");
    CHECK_EQ(zm_json_int(zm_json_get(zm_json_get(res, "structuredContent"), "sum")), 42);

    /* A result that is not an object is wrapped for structuredContent. */
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{"
                     "\"name\":\"echo\",\"arguments\":{\"value\":[1,\"two\"]}}}");
    res = result_of(r, 5);
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(zm_json_get(res, "content"), 0), "text"), NULL),
              "[1,\"two\"]");
    CHECK_EQ(zm_json_len(zm_json_get(zm_json_get(res, "structuredContent"), "result")), 2);
    /* No arguments at all. */
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{"
                     "\"name\":\"nothing\"}}");
    res = result_of(r, 6);
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(zm_json_get(res, "content"), 0), "text"), NULL),
              "null");

    /* A primitive's error is a result with isError, not a JSON-RPC error. */
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{"
                     "\"name\":\"add\",\"arguments\":{\"a\":1}}}");
    res = result_of(r, 7);
    CHECK(zm_json_bool(zm_json_get(res, "isError")));
    const zm_json *err = zm_json_get(zm_json_get(res, "structuredContent"), "error");
    CHECK_STR(zm_json_str(zm_json_get(err, "code"), NULL), "invalid_params");
    CHECK_STR(zm_json_str(zm_json_get(err, "field"), NULL), "/b");
    const char *text =
        zm_json_str(zm_json_get(zm_json_at(zm_json_get(res, "content"), 0), "text"), NULL);
    CHECK(text != NULL && strstr(text, "/b: required") != NULL);
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{"
                     "\"name\":\"fail\",\"arguments\":{\"status\":\"ENOTFOUND\"}}}");
    res = result_of(r, 8);
    CHECK(zm_json_bool(zm_json_get(res, "isError")));
    CHECK_STR(
        zm_json_str(
            zm_json_get(zm_json_get(zm_json_get(res, "structuredContent"), "error"), "code"), NULL),
        "not_found");
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{"
                     "\"name\":\"bad_result\",\"arguments\":{\"kind\":\"nan\"}}}");
    res = result_of(r, 9);
    CHECK(zm_json_bool(zm_json_get(res, "isError")));

    /* An error message that was not UTF-8 still makes a tool result. */
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":19,\"method\":\"tools/call\",\"params\":{"
                     "\"name\":\"badmsg\"}}");
    res = result_of(r, 19);
    CHECK(zm_json_bool(zm_json_get(res, "isError")));

    /* Cleanups of a tool call run before the next line. */
    int c0 = state.cleanups_run;
    send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":{"
                 "\"name\":\"cleanup\",\"arguments\":{}}}");
    CHECK_EQ(state.cleanups_run, c0 + 1);

    /* Protocol errors: unknown tool, bad name, bad arguments. */
    error_reply(s,
                "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":{"
                "\"name\":\"nope\"}}",
                -32602, 11);
    error_reply(s,
                "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/call\",\"params\":{"
                "\"name\":\"echo\\u0000x\"}}",
                -32602, 12);
    {
        /* A long unknown name of multi-byte characters: cut at a character. */
        char line[1024];
        int n = snprintf(line, sizeof line,
                         "{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":\"tools/call\",\"params\":{"
                         "\"name\":\"x");
        for (int i = 0; i < 60; i++) n += snprintf(line + n, sizeof line - (size_t)n, "\xc3\xa9");
        snprintf(line + n, sizeof line - (size_t)n, "\"}}");
        error_reply(s, line, -32602, 17);
        n = snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":\"x");
        for (int i = 0; i < 60; i++)
            n += snprintf(line + n, sizeof line - (size_t)n, "\xe2\x82\xac");
        snprintf(line + n, sizeof line - (size_t)n, "\"}");
        error_reply(s, line, -32601, 18);
    }
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"tools/call\",\"params\":{}}",
                -32602, 13);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"tools/call\"}", -32602, 14);
    error_reply(s,
                "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"tools/call\",\"params\":{"
                "\"name\":\"echo\",\"arguments\":[1]}}",
                -32602, 15);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"tools/call\",\"params\":[1]}",
                -32602, 16);
    mcp_server_destroy(s);
}

/* ---------------------------------------------------------------------------
 * Error codes
 * ------------------------------------------------------------------------- */

static void test_errors(void) {
    mcp_server *s = new_server();
    init(s, "2025-06-18");
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/list\"}", -32601, 1);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\",\"params\":[1]}", -32601, 2);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":1,", -32700, -1);
    error_reply(s, "not json at all", -32700, -1);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}}", -32700, -1);
    error_reply(s, "\"hello\"", -32600, -1);
    error_reply(s, "5", -32600, -1);
    error_reply(s, "{\"id\":3,\"method\":\"ping\"}", -32600, 3);
    error_reply(s, "{\"jsonrpc\":\"1.0\",\"id\":4,\"method\":\"ping\"}", -32600, 4);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":7}", -32600, 5);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":6}", -32600, 6);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", -32600, -1);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}", -32600, -1);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", -32600, -1);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\",\"params\":3}", -32600, 7);
    /* Too long (reported by the reader). */
    out_buf o;
    memset(&o, 0, sizeof o);
    mcp_sink sink = {collect, &o};
    CHECK_EQ(mcp_handle_too_long(s, 1000, 100, &sink), ZM_OK);
    CHECK(strstr(o.data, "-32600") != NULL && strstr(o.data, "\"id\":null") != NULL);
    mcp_server_destroy(s);
}

static zm_status sink_fails(void *c, const char *d, size_t n) {
    (void)c, (void)d, (void)n;
    return ZM_EIO;
}

static void test_sink_error(void) {
    mcp_server *s = new_server();
    mcp_sink sink = {sink_fails, NULL};
    const char *line = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
    CHECK_EQ(mcp_handle_line(s, line, strlen(line), &sink), ZM_EIO);
    mcp_server_destroy(s);
}

/* ---------------------------------------------------------------------------
 * Prompts: the stored templates
 * ------------------------------------------------------------------------- */

/* The text of message i of a prompts/get result. */
static const char *msg_text(const zm_json *res, size_t i, const char **role) {
    const zm_json *m = zm_json_at(zm_json_get(res, "messages"), i);
    *role = zm_json_str(zm_json_get(m, "role"), NULL);
    const zm_json *c = zm_json_get(m, "content");
    CHECK_STR(zm_json_str(zm_json_get(c, "type"), NULL), "text");
    return zm_json_str(zm_json_get(c, "text"), NULL);
}

static void put_template(mcp_server *s, const char *name, const char *tmpl, const char *desc) {
    char line[1024];
    snprintf(line, sizeof line,
             "{\"jsonrpc\":\"2.0\",\"id\":50,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"template_put\",\"arguments\":{\"name\":\"%s\",\"template\":%s%s%s%s}}}",
             name, tmpl, desc ? ",\"description\":\"" : "", desc ? desc : "", desc ? "\"" : "");
    reply *r = send_line(s, line);
    CHECK(!zm_json_bool(zm_json_get(result_of(r, 50), "isError")));
}

static void test_prompts(void) {
    /* Without the template primitives: the capability, and no prompts. */
    mcp_server *s = new_server();
    init(s, "2025-06-18");
    reply *r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}");
    CHECK_EQ(zm_json_len(zm_json_get(result_of(r, 1), "prompts")), 0);
    error_reply(s,
                "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/get\",\"params\":{\"name\":"
                "\"x\"}}",
                -32602, 2);
    mcp_server_destroy(s);

    /* With the built-ins over a memory store. */
    zm_prim_registry *saved_reg = reg;
    zm_prim_ctx *saved_ctx = ctx;
    zm_store *store = NULL;
    CHECK_EQ(zm_store_memory_create(A, NULL, &store), ZM_OK);
    CHECK_EQ(zm_prim_registry_create(A, &reg), ZM_OK);
    CHECK_EQ(zm_prim_register_builtins(reg, store), ZM_OK);
    CHECK_EQ(zm_prim_ctx_create(NULL, &ctx), ZM_OK);
    s = new_server();
    init(s, "2025-06-18");
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                     "\"protocolVersion\":\"2025-06-18\"}}");
    const zm_json *caps = zm_json_get(result_of(r, 1), "capabilities");
    CHECK(zm_json_is_object(zm_json_get(caps, "prompts")));
    CHECK(zm_json_is_object(zm_json_get(caps, "tools")));
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"prompts/list\",\"params\":{}}");
    CHECK_EQ(zm_json_len(zm_json_get(result_of(r, 3), "prompts")), 0);

    put_template(s, "summary", "\"Summarize {{topic}} in {{n}} bullets\"", "Ask for a summary");
    put_template(s, "chat",
                 "{\"description\":\"A chat\",\"messages\":[{\"role\":\"user\",\"content\":"
                 "\"Hi {{who}}\"},{\"role\":\"assistant\",\"content\":{\"type\":\"text\","
                 "\"text\":\"Hello {{who}}\"}},\"{{who}}\",{\"k\":\"{{who}}\"}]}",
                 NULL);
    put_template(s, "fixed", "{\"a\":[1,2]}", NULL);
    /* Content MCP requires members of: with them it is kept as it is, without
       them (an image with no data) the item is a user's text of its JSON. */
    put_template(s, "media",
                 "[{\"role\":\"assistant\",\"content\":{\"type\":\"image\",\"data\":\"{{d}}\","
                 "\"mimeType\":\"image/png\"}},{\"role\":\"assistant\",\"content\":{\"type\":"
                 "\"image\",\"mimeType\":\"image/png\",\"x\":\"{{d}}\"}},{\"role\":\"user\","
                 "\"content\":{\"type\":\"resource\",\"resource\":{\"uri\":\"mem://{{d}}\","
                 "\"text\":\"t\"}}},{\"role\":\"user\",\"content\":{\"type\":\"video\"}}]",
                 NULL);

    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":40,\"method\":\"prompts/get\",\"params\":{"
                     "\"name\":\"media\",\"arguments\":{\"d\":\"QUJD\"}}}");
    const zm_json *media = zm_json_get(result_of(r, 40), "messages");
    CHECK_EQ(zm_json_len(media), 4);
    const zm_json *kept = zm_json_get(zm_json_at(media, 0), "content");
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(media, 0), "role"), NULL), "assistant");
    CHECK_STR(zm_json_str(zm_json_get(kept, "type"), NULL), "image");
    CHECK_STR(zm_json_str(zm_json_get(kept, "data"), NULL), "QUJD");
    CHECK_STR(zm_json_str(zm_json_get(zm_json_get(zm_json_at(media, 2), "content"), "type"), NULL),
              "resource");
    for (size_t i = 1; i < 4; i += 2) {
        const zm_json *m = zm_json_at(media, i), *c = zm_json_get(m, "content");
        CHECK_STR(zm_json_str(zm_json_get(m, "role"), NULL), "user");
        CHECK_STR(zm_json_str(zm_json_get(c, "type"), NULL), "text");
        const char *t = zm_json_str(zm_json_get(c, "text"), NULL);
        CHECK(t != NULL && strstr(t, "\"content\"") != NULL);
    }
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"tools/call\",\"params\":{"
                     "\"name\":\"template_delete\",\"arguments\":{\"name\":\"media\"}}}");
    CHECK(!zm_json_bool(zm_json_get(result_of(r, 41), "isError")));

    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"prompts/list\"}");
    const zm_json *prompts = zm_json_get(result_of(r, 4), "prompts");
    CHECK_EQ(zm_json_len(prompts), 3);
    const zm_json *chat = zm_json_at(prompts, 0), *sum = zm_json_at(prompts, 2);
    CHECK_STR(zm_json_str(zm_json_get(chat, "name"), NULL), "chat");
    CHECK(zm_json_get(chat, "description") == NULL);
    CHECK_EQ(zm_json_len(zm_json_get(chat, "arguments")), 1);
    CHECK_STR(zm_json_str(zm_json_get(sum, "name"), NULL), "summary");
    CHECK_STR(zm_json_str(zm_json_get(sum, "description"), NULL), "Ask for a summary");
    const zm_json *args = zm_json_get(sum, "arguments");
    CHECK_EQ(zm_json_len(args), 2);
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(args, 0), "name"), NULL), "topic");
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(args, 1), "name"), NULL), "n");
    CHECK(zm_json_bool(zm_json_get(zm_json_at(args, 1), "required")));
    CHECK_EQ(zm_json_len(zm_json_get(zm_json_at(prompts, 1), "arguments")), 0);

    /* A string: one user message. */
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"prompts/get\",\"params\":{"
                     "\"name\":\"summary\",\"arguments\":{\"topic\":\"arenas\",\"n\":\"3\"}}}");
    const zm_json *res = result_of(r, 5);
    const char *role;
    CHECK_EQ(zm_json_len(zm_json_get(res, "messages")), 1);
    CHECK_STR(msg_text(res, 0, &role), "Summarize arenas in 3 bullets");
    CHECK_STR(role, "user");
    /* {"messages": [...]}: each message, with the description. */
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"prompts/get\",\"params\":{"
                     "\"name\":\"chat\",\"arguments\":{\"who\":\"Ada\"}}}");
    res = result_of(r, 6);
    CHECK_STR(zm_json_str(zm_json_get(res, "description"), NULL), "A chat");
    CHECK_EQ(zm_json_len(zm_json_get(res, "messages")), 4);
    CHECK_STR(msg_text(res, 0, &role), "Hi Ada");
    CHECK_STR(role, "user");
    CHECK_STR(msg_text(res, 1, &role), "Hello Ada");
    CHECK_STR(role, "assistant");
    CHECK_STR(msg_text(res, 2, &role), "Ada");
    CHECK_STR(msg_text(res, 3, &role), "{\"k\":\"Ada\"}");
    /* Anything else: its JSON text. */
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"prompts/get\",\"params\":{"
                     "\"name\":\"fixed\"}}");
    CHECK_STR(msg_text(result_of(r, 7), 0, &role), "{\"a\":[1,2]}");
    /* A new version is what the next get renders. */
    put_template(s, "summary", "\"v2: {{topic}}\"", NULL);
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"prompts/get\",\"params\":{"
                     "\"name\":\"summary\",\"arguments\":{\"topic\":\"pools\"}}}");
    CHECK_STR(msg_text(result_of(r, 8), 0, &role), "v2: pools");

    /* Errors: unknown prompt, a missing argument (named), bad params. */
    error_reply(s,
                "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"prompts/get\",\"params\":{\"name\":"
                "\"nope\"}}",
                -32602, 9);
    CHECK(strstr(last.out.data, "no template named") != NULL);
    error_reply(s,
                "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"prompts/get\",\"params\":{\"name\":"
                "\"chat\",\"arguments\":{}}}",
                -32602, 10);
    CHECK(strstr(last.out.data, "{{who}}") != NULL);
    error_reply(s,
                "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"prompts/get\",\"params\":{\"name\":"
                "\"chat\",\"arguments\":[1]}}",
                -32602, 11);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"prompts/get\",\"params\":{}}",
                -32602, 12);
    error_reply(s, "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"prompts/get\"}", -32602, 13);
    /* Arguments that would render past the limit of the text: the client's
       arguments are at fault, not the server. */
    char *big = malloc(ZM_TEMPLATE_MAX_TEXT / 1000 + 8192);
    CHECK(big != NULL);
    if (big != NULL) {
        size_t n = (size_t)snprintf(big, 8192,
                                    "{\"jsonrpc\":\"2.0\",\"id\":51,\"method\":\"tools/call\","
                                    "\"params\":{\"name\":\"template_put\",\"arguments\":{"
                                    "\"name\":\"rep\",\"template\":\"");
        for (int i = 0; i < 1000; i++) n += (size_t)snprintf(big + n, 8192 - n, "{{a}}");
        snprintf(big + n, 8192 - n, "\"}}}");
        CHECK(!zm_json_bool(zm_json_get(result_of(send_line(s, big), 51), "isError")));
        n = (size_t)snprintf(big, 8192,
                             "{\"jsonrpc\":\"2.0\",\"id\":52,\"method\":\"prompts/get\","
                             "\"params\":{\"name\":\"rep\",\"arguments\":{\"a\":\"");
        memset(big + n, 'x', ZM_TEMPLATE_MAX_TEXT / 1000 + 1);
        n += ZM_TEMPLATE_MAX_TEXT / 1000 + 1;
        memcpy(big + n, "\"}}}", 5);
        error_reply(s, big, -32602, 52);
        CHECK(strstr(last.out.data, "limit_exceeded") != NULL);
        free(big);
        r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":53,\"method\":\"tools/call\",\"params\":{"
                         "\"name\":\"template_delete\",\"arguments\":{\"name\":\"rep\"}}}");
        CHECK(!zm_json_bool(zm_json_get(result_of(r, 53), "isError")));
    }

    /* A deleted template is no prompt any more. */
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"tools/call\",\"params\":{"
                     "\"name\":\"template_delete\",\"arguments\":{\"name\":\"summary\"}}}");
    const zm_json *del = result_of(r, 14);
    CHECK(!zm_json_bool(zm_json_get(del, "isError")));
    CHECK(zm_json_bool(zm_json_get(zm_json_get(del, "structuredContent"), "deleted")));
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"prompts/list\"}");
    prompts = zm_json_get(result_of(r, 15), "prompts");
    CHECK_EQ(zm_json_len(prompts), 2);
    for (size_t i = 0; i < zm_json_len(prompts); i++)
        CHECK(strcmp(zm_json_str(zm_json_get(zm_json_at(prompts, i), "name"), NULL), "summary") !=
              0);
    error_reply(s,
                "{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"prompts/get\",\"params\":{\"name\":"
                "\"summary\",\"arguments\":{\"topic\":\"pools\"}}}",
                -32602, 16);
    CHECK(strstr(last.out.data, "no template named") != NULL);
    mcp_server_destroy(s);
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
    zm_store_close(store);
    reg = saved_reg;
    ctx = saved_ctx;
}

/* ---------------------------------------------------------------------------
 * Batches
 * ------------------------------------------------------------------------- */

/* A detail longer than the limit is cut before a character the cut would
   split: long messages of 2-, 3- and 4-byte characters, shifted by 0 to 3
   ASCII bytes so that the limit falls on every byte of a character. */
static void test_detail_cut_utf8(void) {
    mcp_server *s = new_server();
    static const char *const chars[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    enum { LONG = 2 * MCP_DETAIL_MAX };
    static char text[LONG + 8];
    for (size_t c = 0; c < 3; c++) {
        size_t w = strlen(chars[c]);
        for (size_t shift = 0; shift < 4; shift++) {
            size_t n = 0;
            for (; n < shift; n++) text[n] = 'a';
            while (n + w <= LONG) memcpy(text + n, chars[c], w), n += w;
            text[n] = '\0';
            const char *d = mcp_detail(s, "%s", text);
            CHECK(d != NULL);
            if (d == NULL) continue;
            size_t len = strlen(d);
            if (!zm_utf8_valid(d, len))
                fprintf(stderr, "a %zu-byte character after %zu bytes: cut at %zu splits one\n", w,
                        shift, len);
            CHECK(zm_utf8_valid(d, len));
            CHECK(len <= MCP_DETAIL_MAX && len > MCP_DETAIL_MAX - w);
            CHECK(memcmp(d, text, len) == 0);
        }
    }
    /* a short one is whole, and so is one of exactly the limit */
    CHECK_STR(mcp_detail(s, "%s %d", "caf\xc3\xa9", 7), "caf\xc3\xa9 7");
    memset(text, 'x', MCP_DETAIL_MAX);
    memcpy(text + MCP_DETAIL_MAX - 2, "\xc3\xa9", 2);
    text[MCP_DETAIL_MAX] = '\0';
    const char *d = mcp_detail(s, "%s", text);
    CHECK(d != NULL && strlen(d) == MCP_DETAIL_MAX);
    mcp_server_destroy(s);
}

static void test_batches(void) {
    const char *batch = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
                        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{"
                        "\"name\":\"add\",\"arguments\":{\"a\":1,\"b\":1}}},"
                        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{"
                        "\"name\":\"add\",\"arguments\":{\"a\":2,\"b\":2}}},"
                        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"nope\"},5]";
    /* Not before initialize, not in 2025-06-18. */
    mcp_server *s = new_server();
    error_reply(s, batch, -32600, -1);
    init(s, "2025-06-18");
    error_reply(s, batch, -32600, -1);
    mcp_server_destroy(s);
    /* In 2025-03-26 and 2024-11-05: one response per request, in order. */
    const char *versions[] = {"2025-03-26", "2024-11-05"};
    for (int v = 0; v < 2; v++) {
        s = new_server();
        init(s, versions[v]);
        reply *r = send_line(s, batch);
        CHECK(zm_json_is_array(r->root));
        CHECK_EQ(zm_json_len(r->root), 5);
        CHECK_EQ(zm_json_int(zm_json_get(zm_json_at(r->root, 0), "id")), 1);
        const zm_json *r2 = zm_json_get(zm_json_at(r->root, 1), "result");
        const zm_json *r3 = zm_json_get(zm_json_at(r->root, 2), "result");
        /* Each call's result was written before the next call reset the arena. */
        CHECK_EQ(zm_json_int(zm_json_get(zm_json_get(r2, "structuredContent"), "sum")), 2);
        CHECK_EQ(zm_json_int(zm_json_get(zm_json_get(r3, "structuredContent"), "sum")), 4);
        CHECK_EQ(zm_json_int(zm_json_get(zm_json_get(zm_json_at(r->root, 3), "error"), "code")),
                 -32601);
        CHECK_EQ(zm_json_int(zm_json_get(zm_json_get(zm_json_at(r->root, 4), "error"), "code")),
                 -32600);
        /* Only notifications: nothing at all. */
        no_reply(s, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}]");
        error_reply(s, "[]", -32600, -1);
        mcp_server_destroy(s);
    }
}

/* doubled {"n": N}: N levels of arrays, each holding the level below twice
   (shared), so a few hundred bytes in the arena write as 2^N leaves. */
static zm_status tp_doubled(zm_prim_ctx *c, const zm_json *params, zm_json **result) {
    zm_allocator a = zm_prim_alloc(c);
    zm_json *v = zm_json_new_string(a, "leaf", 4);
    for (int64_t i = 0; v != NULL && i < zm_json_int(zm_json_get(params, "n")); i++) {
        zm_json *up = zm_json_new_array(a, 2);
        if (up == NULL || zm_json_array_push(a, up, v) != ZM_OK ||
            zm_json_array_push(a, up, v) != ZM_OK)
            return ZM_ENOMEM;
        v = up;
    }
    *result = v;
    return v != NULL ? ZM_OK : ZM_ENOMEM;
}

/* A result past the limit of a tool's result text is a limit_exceeded tool
   error, not a line growing the process without bound. */
static void test_result_limit(void) {
    static const zm_prim_def def = {"doubled", "2^n leaves.", NULL, tp_doubled, NULL};
    CHECK_EQ(zm_prim_register(reg, &def, NULL), ZM_OK);
    mcp_server *s = new_server();
    init(s, "2025-06-18");
    reply *r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{"
                            "\"name\":\"doubled\",\"arguments\":{\"n\":3}}}");
    CHECK_EQ(zm_json_len(zm_json_get(result_of(r, 7), "structuredContent")), 1);
    r = send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{"
                     "\"name\":\"doubled\",\"arguments\":{\"n\":40}}}");
    const zm_json *res = result_of(r, 8);
    CHECK(zm_json_bool(zm_json_get(res, "isError")));
    const zm_json *e = zm_json_get(zm_json_get(res, "structuredContent"), "error");
    CHECK_STR(zm_json_str(zm_json_get(e, "code"), NULL), "limit_exceeded");
    CHECK(strstr(zm_json_str(zm_json_get(e, "message"), NULL), "larger than the limit") != NULL);
    mcp_server_destroy(s);
}

/* Out of memory while answering a request whose id could be read: the
   error answer names that id (a number or a short string), not null. */
static void oom_answers(const char *line, const char *want_id) {
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    size_t named = 0, unnamed = 0, whole = 0;
    for (size_t k = 0; k < 200; k++) {
        zm_failing_reset(&f, SIZE_MAX, SIZE_MAX);
        mcp_server *s = NULL;
        CHECK_EQ(mcp_server_create(zm_failing_allocator(&f), reg, ctx, &s), ZM_OK);
        if (s == NULL) return;
        zm_failing_reset(&f, k, SIZE_MAX); /* the line's first blocks on */
        reply *r = send_line(s, line);
        const zm_json *e = zm_json_get(r->root, "error");
        if (e == NULL) {
            whole++;
        } else if (zm_json_int(zm_json_get(e, "code")) == -32603) {
            char *id_text = NULL;
            size_t n = 0;
            const zm_json *id = zm_json_get(r->root, "id");
            CHECK(id != NULL);
            if (zm_json_is_null(id)) {
                unnamed++;
            } else if (zm_json_write(zm_default_allocator(), id, 0, &id_text, &n) == ZM_OK) {
                CHECK(n == strlen(want_id) && memcmp(id_text, want_id, n) == 0);
                named++;
                zm_free(zm_default_allocator(), id_text, n + 1, 1);
            }
        }
        mcp_server_destroy(s);
        if (!f.has_induced_failure) break; /* past the line's last allocation */
    }
    CHECK(named > 0);    /* an answer that names the request */
    CHECK(unnamed <= 1); /* only when reading the line itself failed */
    CHECK(whole > 0);
}

static void test_oom_names_id(void) {
    oom_answers("{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"tools/list\"}", "42");
    oom_answers("{\"jsonrpc\":\"2.0\",\"id\":\"req-7\",\"method\":\"tools/list\"}", "\"req-7\"");
}

int main(void) {
    A = zm_default_allocator();
    if (tp_registry_create(&reg, &state) != ZM_OK || zm_prim_ctx_create(NULL, &ctx) != ZM_OK)
        return 1;
    RUN(test_initialize);
    RUN(test_ping_and_notifications);
    RUN(test_tools_list);
    RUN(test_tools_call);
    RUN(test_errors);
    RUN(test_sink_error);
    RUN(test_batches);
    RUN(test_prompts);
    RUN(test_detail_cut_utf8);
    RUN(test_result_limit);
    RUN(test_oom_names_id);
    reply_free();
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
    return zt_finish("prim_mcp");
}
