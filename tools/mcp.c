/* zmem mcp: the Model Context Protocol server.

   Methods: initialize (protocol version negotiation: the client's version
   when it is one of ours, else the latest), ping, tools/list, tools/call,
   prompts/list and prompts/get (the stored templates, through the
   template_list and render primitives when they are registered), and
   the notifications notifications/initialized and notifications/cancelled
   (accepted, nothing to answer). Every request gets exactly one response;
   notifications and client responses get none. JSON-RPC batches (arrays) are
   answered when the negotiated version has them (2025-03-26 and 2024-11-05),
   and refused with -32600 otherwise (2025-06-18 removed them). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "lineio.h"
#include "mcp.h"
#include "zmem/buf.h"
#include "zmem/store.h"
#include "run_cmd.h"

static const char *const versions[] = {"2025-06-18", "2025-03-26", "2024-11-05"};
#define NVERSIONS (sizeof versions / sizeof versions[0])

struct mcp_server {
    zm_allocator a;
    zm_prim_registry *reg;
    zm_prim_ctx *ctx;
    zm_arena ar; /* one line's memory: the parsed message and the response tree */
    zm_buf out;  /* the response line being written */
    int version; /* index into versions, -1 before initialize */
    bool initialized;
    FILE *log;                 /* where notes for the operator go; NULL = nowhere */
    const sigset_t *wait_mask; /* see mcp_server_on_signal */
    void (*on_signal)(void *arg);
    void *on_signal_arg;
    zm_store *idle_store;  /* told before each wait (mcp_server_set_store) */
    const zm_json *oom_id; /* the id an out-of-memory answer to this line names */
};

#define ARENA_KEEP ((size_t)4 << 20)
#define OUT_KEEP   ((size_t)1 << 20)
/* The most bytes a tool's result may take as JSON text (as zm_prim_call_json's
   default response limit): a larger one is a limit_exceeded tool error. */
#define RESULT_LIMIT ((size_t)256 << 20)

zm_status mcp_server_create(zm_allocator a, zm_prim_registry *reg, zm_prim_ctx *ctx,
                            mcp_server **out) {
    mcp_server *s = zm_create(a, mcp_server);
    if (s == NULL) return ZM_ENOMEM;
    memset(s, 0, sizeof *s);
    s->a = a;
    s->reg = reg;
    s->ctx = ctx;
    s->version = -1;
    zm_arena_init_sized(&s->ar, a, (size_t)16 << 10);
    *out = s;
    return ZM_OK;
}

void mcp_server_destroy(mcp_server *s) {
    if (s == NULL) return;
    zm_arena_deinit(&s->ar);
    zm_buf_deinit(s->a, &s->out);
    zm_destroy(s->a, s);
}

void mcp_server_set_log(mcp_server *s, FILE *log) {
    s->log = log;
}

void mcp_server_set_store(mcp_server *s, zm_store *store) {
    s->idle_store = store;
}

void mcp_server_on_signal(mcp_server *s, const sigset_t *mask, void (*on_signal)(void *arg),
                          void *arg) {
    s->wait_mask = mask;
    s->on_signal = on_signal;
    s->on_signal_arg = arg;
}

const char *mcp_server_version(const mcp_server *s) {
    return s->version < 0 ? "" : versions[s->version];
}

/* ---------------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------------- */

static zm_status out_sink(void *c, const char *data, size_t n) {
    mcp_server *s = c;
    return zm_buf_append(s->a, &s->out, data, n);
}

/* Appends v's text to the output line. */
static zm_status put(mcp_server *s, const zm_json *v) {
    return zm_json_write_stream(s->a, v, 0, out_sink, s);
}

/* ---------------------------------------------------------------------------
 * Building responses (in the line's arena)
 * ------------------------------------------------------------------------- */

#define A(s) zm_arena_allocator(&(s)->ar)

static zm_json *str_ref(mcp_server *s, const char *text) {
    return zm_json_new_string_ref(A(s), text, strlen(text));
}

/* Adds member key (a literal) = v; v NULL means out of memory. */
static bool add(mcp_server *s, zm_json *o, const char *key, zm_json *v) {
    return o != NULL && v != NULL && zm_json_object_add_ref(A(s), o, key, strlen(key), v) == ZM_OK;
}

/* {"jsonrpc":"2.0","id":id} ready for "result" or "error". */
static zm_json *envelope(mcp_server *s, const zm_json *id) {
    zm_json *o = zm_json_new_object(A(s), 3);
    zm_json *idv = id ? (zm_json *)id : zm_json_new_null(A(s));
    if (!add(s, o, "jsonrpc", str_ref(s, "2.0")) || !add(s, o, "id", idv)) return NULL;
    return o;
}

/* An error response; detail (may be NULL) is appended to the standard message. */
static zm_json *error_response(mcp_server *s, const zm_json *id, int code, const char *detail) {
    const char *base = code == MCP_PARSE_ERROR        ? "Parse error"
                       : code == MCP_INVALID_REQUEST  ? "Invalid Request"
                       : code == MCP_METHOD_NOT_FOUND ? "Method not found"
                       : code == MCP_INVALID_PARAMS   ? "Invalid params"
                                                      : "Internal error";
    zm_json *o = envelope(s, id);
    zm_json *e = zm_json_new_object(A(s), 2);
    zm_json *msg;
    if (detail != NULL) {
        size_t bl = strlen(base), dl = strlen(detail);
        char *m = zm_arena_alloc(&s->ar, bl + 2 + dl + 1, 1);
        if (m == NULL) return NULL;
        memcpy(m, base, bl);
        memcpy(m + bl, ": ", 2);
        memcpy(m + bl + 2, detail, dl + 1);
        msg = zm_json_new_string_ref(A(s), m, bl + 2 + dl);
    } else {
        msg = str_ref(s, base);
    }
    if (!add(s, e, "code", zm_json_new_int(A(s), code)) || !add(s, e, "message", msg) ||
        !add(s, o, "error", e))
        return NULL;
    return o;
}

static zm_json *result_response(mcp_server *s, const zm_json *id, zm_json *result) {
    zm_json *o = envelope(s, id);
    return add(s, o, "result", result) ? o : NULL;
}

/* The length of the longest prefix of s (n bytes) of at most max bytes that
   ends at a character boundary. */
static int utf8_prefix(const char *s, size_t n, size_t max) {
    if (n <= max) return (int)n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    return (int)max;
}

/* An error response whose message has a detail that may have run out of
   memory (NULL): then none (NULL), as for any other allocation. */
static zm_json *error_detail(mcp_server *s, const zm_json *id, int code, const char *detail) {
    return detail != NULL ? error_response(s, id, code, detail) : NULL;
}

/* The length of the first n bytes of s without a last character that they
   cut short (a lead byte whose continuation bytes are not all there). */
static size_t utf8_whole(const char *s, size_t n) {
    size_t k = n;
    while (k > 0 && n - k < 3 && ((unsigned char)s[k - 1] & 0xC0) == 0x80) k--;
    if (k == 0) return n;
    unsigned char lead = (unsigned char)s[k - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return n - (k - 1) < need ? k - 1 : n;
}

const char *mcp_detail(mcp_server *s, const char *fmt, ...) {
    char buf[MCP_DETAIL_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    /* Cut at a character boundary: the text must stay UTF-8. vsnprintf kept
       the first MCP_DETAIL_MAX bytes; what follows is gone (a NUL is in its
       place), so look back at the last character kept, not forward. */
    if ((size_t)n > MCP_DETAIL_MAX) n = (int)utf8_whole(buf, MCP_DETAIL_MAX);
    return zm_arena_strndup(&s->ar, buf, (size_t)n);
}

/* ---------------------------------------------------------------------------
 * Methods
 * ------------------------------------------------------------------------- */

/* The contents of string v for a message or a log line: JSON-escaped (so a
   NUL or a control character neither cuts nor garbles it), cut to at most
   200 bytes at a character boundary with "..." after; in the arena, NULL on
   out of memory. */
static const char *json_text(mcp_server *s, const zm_json *v) {
    size_t n;
    const char *p = zm_json_str(v, &n);
    size_t k = (size_t)utf8_prefix(p, n, 200);
    zm_json *cut = zm_json_new_string_ref(A(s), p, k);
    char *text;
    size_t len;
    if (cut == NULL || zm_json_write(A(s), cut, 0, &text, &len) != ZM_OK || len < 2) return NULL;
    text[len - 1] = '\0'; /* drop the quotes */
    return k < n ? mcp_detail(s, "%s...", text + 1) : text + 1;
}

static bool str_is(const zm_json *v, const char *lit) {
    size_t n;
    const char *p = zm_json_str(v, &n);
    return zm_json_is_string(v) && n == strlen(lit) && memcmp(p, lit, n) == 0;
}

static zm_json *do_initialize(mcp_server *s, const zm_json *id, const zm_json *params) {
    const zm_json *pv = zm_json_get(params, "protocolVersion");
    if (!zm_json_is_string(pv))
        return error_response(s, id, MCP_INVALID_PARAMS, "protocolVersion must be a string");
    int chosen = 0;
    for (size_t i = 0; i < NVERSIONS; i++)
        if (str_is(pv, versions[i])) chosen = (int)i;
    s->version = chosen;

    zm_json *r = zm_json_new_object(A(s), 4);
    zm_json *caps = zm_json_new_object(A(s), 2);
    zm_json *tools = zm_json_new_object(A(s), 1);
    zm_json *prompts = zm_json_new_object(A(s), 1);
    zm_json *info = zm_json_new_object(A(s), 2);
    if (!add(s, tools, "listChanged", zm_json_new_bool(A(s), false)) ||
        !add(s, caps, "tools", tools) ||
        !add(s, prompts, "listChanged", zm_json_new_bool(A(s), false)) ||
        !add(s, caps, "prompts", prompts) || !add(s, info, "name", str_ref(s, "zmem")) ||
        !add(s, info, "version", str_ref(s, ZMEM_VERSION_STRING)) ||
        !add(s, r, "protocolVersion", str_ref(s, versions[chosen])) ||
        !add(s, r, "capabilities", caps) || !add(s, r, "serverInfo", info) ||
        !add(s, r, "instructions",
             str_ref(s, "Each tool is a zmem primitive: call it with its arguments as a JSON "
                        "object; the result comes back as JSON text and as structuredContent.")))
        return NULL;
    return result_response(s, id, r);
}

/* The input schema as MCP wants it: an object schema with "type":"object". */
static zm_json *input_schema(mcp_server *s, const zm_json *schema) {
    if (zm_json_is_object(schema) && zm_json_get(schema, "type") != NULL) return (zm_json *)schema;
    zm_json *o = zm_json_new_object(A(s), zm_json_len(schema) + 1);
    if (!add(s, o, "type", str_ref(s, "object"))) return NULL;
    for (size_t i = 0; i < zm_json_len(schema); i++) {
        const zm_json_member *m = zm_json_member_at(schema, i);
        if (zm_json_object_add_ref(A(s), o, m->key, m->key_len, m->value) != ZM_OK) return NULL;
    }
    return o;
}

static zm_json *do_tools_list(mcp_server *s, const zm_json *id) {
    size_t n = zm_prim_registry_count(s->reg);
    zm_json *list = zm_json_new_array(A(s), n);
    if (list == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        zm_prim_info info;
        zm_prim_registry_at(s->reg, i, &info);
        zm_json *t = zm_json_new_object(A(s), 3);
        if (!add(s, t, "name", zm_json_new_string_ref(A(s), info.name, info.name_len)) ||
            !add(s, t, "description", str_ref(s, info.description)) ||
            !add(s, t, "inputSchema", input_schema(s, info.schema)) ||
            zm_json_array_push(A(s), list, t) != ZM_OK)
            return NULL;
    }
    zm_json *r = zm_json_new_object(A(s), 1);
    if (!add(s, r, "tools", list)) return NULL;
    return result_response(s, id, r);
}

/* {"content":[{"type":"text","text":text}],"structuredContent":sc,"isError":e} */
static zm_json *tool_result(mcp_server *s, const zm_json *id, const char *text, size_t len,
                            zm_json *structured, bool is_error) {
    zm_json *item = zm_json_new_object(A(s), 2);
    zm_json *content = zm_json_new_array(A(s), 1);
    zm_json *r = zm_json_new_object(A(s), 3);
    if (!add(s, item, "type", str_ref(s, "text")) ||
        !add(s, item, "text", zm_json_new_string_ref(A(s), text, len)) || content == NULL ||
        zm_json_array_push(A(s), content, item) != ZM_OK || !add(s, r, "content", content))
        return NULL;
    if (structured != NULL && !add(s, r, "structuredContent", structured)) return NULL;
    if (!add(s, r, "isError", zm_json_new_bool(A(s), is_error))) return NULL;
    return result_response(s, id, r);
}

/* The error of the last primitive call as a tool result with isError. */
static zm_json *tool_error(mcp_server *s, const zm_json *id) {
    zm_prim_error e;
    zm_prim_last_error(s->ctx, &e);
    zm_json *err = zm_json_new_object(A(s), 3);
    if (!add(s, err, "code", str_ref(s, zm_prim_errcode_name(e.code))) ||
        !add(s, err, "message", zm_json_new_string(A(s), e.message, strlen(e.message))))
        return NULL;
    if (e.field != NULL &&
        !add(s, err, "field", zm_json_new_string(A(s), e.field, strlen(e.field))))
        return NULL;
    zm_json *sc = zm_json_new_object(A(s), 1);
    if (!add(s, sc, "error", err)) return NULL;
    char *text;
    size_t len;
    if (zm_json_write(A(s), err, 0, &text, &len) != ZM_OK) return NULL;
    return tool_result(s, id, text, len, sc, true);
}

/* The text of a tool's result, built in the line's arena up to RESULT_LIMIT. */
typedef struct result_text {
    zm_allocator a;
    zm_buf b;
} result_text;

static zm_status result_sink(void *c, const char *data, size_t n) {
    result_text *t = c;
    if (n > RESULT_LIMIT - t->b.len) return ZM_ELIMIT;
    return zm_buf_append(t->a, &t->b, data, n);
}

static zm_json *do_tools_call(mcp_server *s, const zm_json *id, const zm_json *params) {
    const zm_json *name = zm_json_get(params, "name");
    const zm_json *args = zm_json_get(params, "arguments");
    size_t n;
    const char *nm = zm_json_str(name, &n);
    if (!zm_json_is_string(name))
        return error_response(s, id, MCP_INVALID_PARAMS, "name must be a string");
    if (args != NULL && !zm_json_is_object(args))
        return error_response(s, id, MCP_INVALID_PARAMS, "arguments must be an object");
    if (strlen(nm) != n || zm_prim_lookup(s->reg, nm, n, NULL) != ZM_OK) {
        const char *t = json_text(s, name);
        return t ? error_detail(s, id, MCP_INVALID_PARAMS, mcp_detail(s, "Unknown tool: %s", t))
                 : NULL;
    }
    zm_json *result = NULL;
    zm_status st = zm_prim_call(s->reg, s->ctx, nm, args, &result);
    if (st != ZM_OK) return tool_error(s, id);
    result_text rt = {A(s), {NULL, 0, 0}};
    zm_status ws = result == NULL ? zm_buf_append(rt.a, &rt.b, "null", 4)
                                  : zm_json_write_stream(rt.a, result, 0, result_sink, &rt);
    if (ws == ZM_EINVAL) {
        zm_prim_fail(s->ctx, ZM_EINTERNAL, NULL,
                     "the primitive's result is not valid JSON (invalid UTF-8 or a non-finite "
                     "number)");
        return tool_error(s, id);
    }
    if (ws == ZM_ELIMIT) {
        /* A request that multiplies itself (a patch copying the document
           into itself) would otherwise grow the process without bound. */
        zm_prim_fail(s->ctx, ZM_ELIMIT, NULL, "the result is larger than the limit of %zu bytes",
                     RESULT_LIMIT);
        return tool_error(s, id);
    }
    if (ws != ZM_OK) return NULL;
    const char *text = rt.b.data;
    size_t len = rt.b.len;
    zm_json *sc = result;
    if (!zm_json_is_object(result)) {
        /* structuredContent is an object: wrap other results. */
        sc = zm_json_new_object(A(s), 1);
        if (!add(s, sc, "result", result ? result : zm_json_new_null(A(s)))) return NULL;
    }
    return tool_result(s, id, text, len, sc, false);
}

/* ---------------------------------------------------------------------------
 * Prompts: the templates kept in the store (template_put), listed with their
 * placeholders as arguments and rendered through the context's template
 * cache by the template_list and render primitives.
 * ------------------------------------------------------------------------- */

/* Whether primitive name is registered. */
static bool has_prim(mcp_server *s, const char *name) {
    return zm_prim_lookup(s->reg, name, strlen(name), NULL) == ZM_OK;
}

/* The error of the last primitive call as a JSON-RPC error: code for a
   caller's mistake (not found, invalid params), internal error otherwise. */
static zm_json *prim_error_response(mcp_server *s, const zm_json *id, const char *what) {
    zm_prim_error e;
    zm_prim_last_error(s->ctx, &e);
    /* A limit about one of the client's parameters is theirs too (arguments
       that would render past the limit); the memory limit names none. */
    bool theirs = e.code == ZM_PRIM_NOT_FOUND || e.code == ZM_PRIM_INVALID_PARAMS ||
                  (e.code == ZM_PRIM_LIMIT_EXCEEDED && e.field != NULL);
    return error_response(
        s, id, theirs ? MCP_INVALID_PARAMS : MCP_INTERNAL_ERROR,
        mcp_detail(s, "%s: %s (%s)", what, e.message, zm_prim_errcode_name(e.code)));
}

static zm_json *do_prompts_list(mcp_server *s, const zm_json *id) {
    zm_json *list = zm_json_new_array(A(s), 0);
    zm_json *r = zm_json_new_object(A(s), 1);
    if (list == NULL || !add(s, r, "prompts", list)) return NULL;
    if (!has_prim(s, "template_list")) return result_response(s, id, r);
    zm_json *res = NULL;
    if (zm_prim_call(s->reg, s->ctx, "template_list", NULL, &res) != ZM_OK)
        return prim_error_response(s, id, "listing the templates");
    /* res lives in the context's arena until the line ends: referenced. */
    const zm_json *tl = zm_json_get(res, "templates");
    for (size_t i = 0; i < zm_json_len(tl); i++) {
        const zm_json *t = zm_json_at(tl, i);
        const zm_json *names = zm_json_get(t, "placeholders");
        zm_json *args = zm_json_new_array(A(s), zm_json_len(names));
        zm_json *p = zm_json_new_object(A(s), 3);
        if (args == NULL || !add(s, p, "name", (zm_json *)zm_json_get(t, "name"))) return NULL;
        const zm_json *desc = zm_json_get(t, "description");
        if (desc != NULL && !add(s, p, "description", (zm_json *)desc)) return NULL;
        for (size_t k = 0; k < zm_json_len(names); k++) {
            zm_json *arg = zm_json_new_object(A(s), 2);
            if (!add(s, arg, "name", (zm_json *)zm_json_at(names, k)) ||
                !add(s, arg, "required", zm_json_new_bool(A(s), true)) ||
                zm_json_array_push(A(s), args, arg) != ZM_OK)
                return NULL;
        }
        if (!add(s, p, "arguments", args) || zm_json_array_push(A(s), list, p) != ZM_OK)
            return NULL;
    }
    return result_response(s, id, r);
}

/* {"type":"text","text":TEXT} */
static zm_json *text_content(mcp_server *s, zm_json *text) {
    zm_json *c = zm_json_new_object(A(s), 2);
    return add(s, c, "type", str_ref(s, "text")) && add(s, c, "text", text) ? c : NULL;
}

/* Whether member name of o is a string. */
static bool has_str(const zm_json *o, const char *name) {
    return zm_json_is_string(zm_json_get(o, name));
}

/* Whether c is content a prompt message may carry, with the members MCP
   requires of its type: text (text), image and audio (data, mimeType), a
   resource link (uri, name), an embedded resource (resource: uri, and text
   or blob). A client that checks messages refuses anything else. */
static bool mcp_content(const zm_json *c) {
    const zm_json *type = zm_json_get(c, "type"), *r = zm_json_get(c, "resource");
    if (!zm_json_is_object(c)) return false;
    if (str_is(type, "text")) return has_str(c, "text");
    if (str_is(type, "image") || str_is(type, "audio"))
        return has_str(c, "data") && has_str(c, "mimeType");
    if (str_is(type, "resource_link")) return has_str(c, "uri") && has_str(c, "name");
    if (str_is(type, "resource"))
        return zm_json_is_object(r) && has_str(r, "uri") &&
               (has_str(r, "text") || has_str(r, "blob"));
    return false;
}

/* One prompt message from part of a rendered template: an object with role
   ("user" or "assistant") and content (a string, or MCP content as is); a
   string is a user's text; anything else (content MCP does not define, or
   that lacks what its type requires, included) a user's text holding its
   JSON. */
static zm_json *prompt_message(mcp_server *s, const zm_json *v) {
    const zm_json *role = zm_json_get(v, "role");
    const zm_json *content = zm_json_get(v, "content");
    bool is_msg = zm_json_is_object(v) && (str_is(role, "user") || str_is(role, "assistant")) &&
                  (zm_json_is_string(content) || mcp_content(content));
    zm_json *c;
    if (is_msg && zm_json_is_string(content)) {
        c = text_content(s, (zm_json *)content);
    } else if (is_msg) {
        c = (zm_json *)content;
    } else if (zm_json_is_string(v)) {
        c = text_content(s, (zm_json *)v);
    } else {
        char *text;
        size_t len;
        if (zm_json_write(A(s), v, 0, &text, &len) != ZM_OK) return NULL;
        c = text_content(s, zm_json_new_string_ref(A(s), text, len));
    }
    zm_json *m = zm_json_new_object(A(s), 2);
    if (!add(s, m, "role", is_msg ? (zm_json *)role : str_ref(s, "user")) ||
        !add(s, m, "content", c))
        return NULL;
    return m;
}

static zm_json *do_prompts_get(mcp_server *s, const zm_json *id, const zm_json *params) {
    const zm_json *name = zm_json_get(params, "name");
    const zm_json *args = zm_json_get(params, "arguments");
    if (!zm_json_is_string(name))
        return error_response(s, id, MCP_INVALID_PARAMS, "name must be a string");
    if (args != NULL && !zm_json_is_object(args))
        return error_response(s, id, MCP_INVALID_PARAMS, "arguments must be an object");
    if (!has_prim(s, "render"))
        return error_response(s, id, MCP_INVALID_PARAMS,
                              mcp_detail(s, "Unknown prompt: %s", json_text(s, name)));
    zm_json *p = zm_json_new_object(A(s), 2);
    if (!add(s, p, "name", (zm_json *)name)) return NULL;
    if (args != NULL && !add(s, p, "bindings", (zm_json *)args)) return NULL;
    zm_json *res = NULL;
    if (zm_prim_call(s->reg, s->ctx, "render", p, &res) != ZM_OK)
        return prim_error_response(s, id, "rendering the prompt");
    /* {"messages":[...]} or a list of messages, else one message. */
    const zm_json *desc = NULL, *items = res;
    if (zm_json_is_object(res) && zm_json_is_array(zm_json_get(res, "messages"))) {
        desc = zm_json_get(res, "description");
        items = zm_json_get(res, "messages");
    }
    size_t n = zm_json_is_array(items) ? zm_json_len(items) : 1;
    zm_json *msgs = zm_json_new_array(A(s), n);
    if (msgs == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        zm_json *m = prompt_message(s, zm_json_is_array(items) ? zm_json_at(items, i) : items);
        if (m == NULL || zm_json_array_push(A(s), msgs, m) != ZM_OK) return NULL;
    }
    zm_json *r = zm_json_new_object(A(s), 2);
    if (zm_json_is_string(desc) && !add(s, r, "description", (zm_json *)desc)) return NULL;
    if (!add(s, r, "messages", msgs)) return NULL;
    return result_response(s, id, r);
}

/* Handles one message (an element of a batch or the whole line). *resp is the
   response, or NULL when there is none. Returns false on out of memory. */
static bool handle_msg(mcp_server *s, const zm_json *msg, zm_json **resp) {
    *resp = NULL;
    if (!zm_json_is_object(msg))
        return (*resp = error_response(s, NULL, MCP_INVALID_REQUEST, "expected an object")) != NULL;
    const zm_json *method = zm_json_get(msg, "method");
    const zm_json *id = zm_json_get(msg, "id");
    const zm_json *params = zm_json_get(msg, "params");
    const zm_json *good_id =
        (zm_json_is_string(id) || zm_json_is_number(id)) ? id : NULL; /* echoed in errors */
    if (id == NULL) {
        /* A notification: never answered, even a malformed one. */
        if (str_is(zm_json_get(msg, "jsonrpc"), "2.0") &&
            str_is(method, "notifications/initialized"))
            s->initialized = true;
        size_t n;
        const char *m = zm_json_str(method, &n);
        if (s->log != NULL && m != NULL && !(n >= 14 && memcmp(m, "notifications/", 14) == 0)) {
            /* A request sent without an id: say why nothing comes back (a log
               line: without memory for the method's name, without it). */
            const char *t = json_text(s, method);
            fprintf(s->log,
                    "zmem mcp: ignored \"%s\" sent as a notification (no id): requests "
                    "need an id to be answered\n",
                    t ? t : "(out of memory)");
            fflush(s->log);
        }
        return true;
    }
    if (!str_is(zm_json_get(msg, "jsonrpc"), "2.0"))
        return (*resp = error_response(s, good_id, MCP_INVALID_REQUEST,
                                       "jsonrpc must be \"2.0\"")) != NULL;
    if (method == NULL) {
        /* A response from the client (we send no requests): nothing to say. */
        if (zm_json_get(msg, "result") || zm_json_get(msg, "error")) return true;
        return (*resp = error_response(s, good_id, MCP_INVALID_REQUEST, "missing method")) != NULL;
    }
    if (!zm_json_is_string(method))
        return (*resp = error_response(s, good_id, MCP_INVALID_REQUEST,
                                       "method must be a string")) != NULL;
    if (good_id == NULL)
        return (*resp = error_response(s, NULL, MCP_INVALID_REQUEST,
                                       "id must be a string or a number")) != NULL;
    if (params != NULL && !zm_json_is_object(params) && !zm_json_is_array(params))
        return (*resp = error_response(s, id, MCP_INVALID_REQUEST,
                                       "params must be an object or an array")) != NULL;
    bool known = str_is(method, "initialize") || str_is(method, "ping") ||
                 str_is(method, "tools/list") || str_is(method, "tools/call") ||
                 str_is(method, "prompts/list") || str_is(method, "prompts/get");
    if (known && params != NULL && !zm_json_is_object(params))
        return (*resp = error_response(s, id, MCP_INVALID_PARAMS, "params must be an object")) !=
               NULL;
    if (str_is(method, "initialize")) {
        *resp = do_initialize(s, id, params);
    } else if (str_is(method, "ping")) {
        *resp = result_response(s, id, zm_json_new_object(A(s), 0));
    } else if (str_is(method, "tools/list")) {
        *resp = do_tools_list(s, id);
    } else if (str_is(method, "tools/call")) {
        if (params == NULL) {
            *resp = error_response(s, id, MCP_INVALID_PARAMS, "name must be a string");
        } else {
            *resp = do_tools_call(s, id, params);
        }
    } else if (str_is(method, "prompts/list")) {
        *resp = do_prompts_list(s, id);
    } else if (str_is(method, "prompts/get")) {
        *resp = params == NULL ? error_response(s, id, MCP_INVALID_PARAMS, "name must be a string")
                               : do_prompts_get(s, id, params);
    } else {
        const char *t = json_text(s, method);
        *resp = t ? error_detail(s, id, MCP_METHOD_NOT_FOUND, t) : NULL;
    }
    return *resp != NULL;
}

/* ---------------------------------------------------------------------------
 * Lines
 * ------------------------------------------------------------------------- */

static const char oom_line[] =
    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,\"message\":\"Internal error: "
    "out of memory\"}}\n";

/* The out-of-memory answer to the request whose id is id, written into buf
   without allocating: the id is echoed when it is an integer or a string of
   at most 128 plain printable ASCII bytes (the ids clients send), else it is
   null, as when no id could be read. Returns the line's length. */
static size_t oom_answer(const zm_json *id, char *buf, size_t cap) {
    char idtext[160] = "null";
    size_t n = 0;
    const char *p = zm_json_str(id, &n);
    if (zm_json_is_int(id)) {
        snprintf(idtext, sizeof idtext, "%lld", (long long)zm_json_int(id));
    } else if (p != NULL && n <= 128) {
        bool plain = true;
        for (size_t i = 0; i < n; i++)
            if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\') plain = false;
        if (plain) snprintf(idtext, sizeof idtext, "\"%.*s\"", (int)n, p);
    }
    int len = snprintf(buf, cap,
                       "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32603,\"message\":"
                       "\"Internal error: out of memory\"}}\n",
                       idtext);
    return len > 0 && (size_t)len < cap ? (size_t)len : 0;
}

static void end_line(mcp_server *s) {
    zm_prim_ctx_reset(s->ctx);
    zm_arena_reset(&s->ar, ZM_ARENA_RETAIN_WITH_LIMIT, ARENA_KEEP);
    if (s->out.cap > OUT_KEEP) zm_buf_deinit(s->a, &s->out);
    zm_buf_clear(&s->out);
}

/* Writes the output line (if any) and ends the line. */
static zm_status flush_line(mcp_server *s, bool oom, const mcp_sink *out) {
    zm_status st = ZM_OK;
    char line[256];
    size_t n = oom ? oom_answer(s->oom_id, line, sizeof line) : 0;
    s->oom_id = NULL;
    if (oom && n > 0)
        st = out->write(out->ctx, line, n);
    else if (oom)
        st = out->write(out->ctx, oom_line, sizeof oom_line - 1);
    else if (s->out.len > 0)
        st = out->write(out->ctx, s->out.data, s->out.len);
    end_line(s);
    return st;
}

static bool blank(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') return false;
    return true;
}

zm_status mcp_handle_line(mcp_server *s, const char *line, size_t len, const mcp_sink *out) {
    zm_buf_clear(&s->out);
    if (blank(line, len)) return ZM_OK;
    zm_json *root;
    zm_json_error err;
    zm_json *resp = NULL;
    bool ok = true;
    zm_status ps = zm_json_parse_arena(&s->ar, line, len, NULL, &root, &err);
    if (ps == ZM_ENOMEM) return flush_line(s, true, out);
    if (ps != ZM_OK) {
        resp = error_detail(s, NULL, MCP_PARSE_ERROR,
                            mcp_detail(s, "%s (at byte %zu)", err.message, err.offset));
        ok = resp != NULL && put(s, resp) == ZM_OK && out_sink(s, "\n", 1) == ZM_OK;
        return flush_line(s, !ok, out);
    }
    if (!zm_json_is_array(root)) {
        /* Out of memory, the answer still names the request. */
        const zm_json *id = zm_json_is_object(root) ? zm_json_get(root, "id") : NULL;
        s->oom_id = zm_json_is_string(id) || zm_json_is_number(id) ? id : NULL;
        ok = handle_msg(s, root, &resp);
        if (ok && resp != NULL) ok = put(s, resp) == ZM_OK && out_sink(s, "\n", 1) == ZM_OK;
        return flush_line(s, !ok, out);
    }
    /* A batch. */
    bool batching = s->version == 1 || s->version == 2;
    if (!batching || zm_json_len(root) == 0) {
        resp = error_response(s, NULL, MCP_INVALID_REQUEST,
                              !batching ? "JSON-RPC batches are not supported in this protocol "
                                          "version"
                                        : "empty batch");
        ok = resp != NULL && put(s, resp) == ZM_OK && out_sink(s, "\n", 1) == ZM_OK;
        return flush_line(s, !ok, out);
    }
    size_t answered = 0;
    for (size_t i = 0; ok && i < zm_json_len(root); i++) {
        ok = handle_msg(s, zm_json_at(root, i), &resp);
        if (!ok || resp == NULL) continue;
        /* Write each response now: a tools/call result lives only until the next call. */
        ok = out_sink(s, answered ? "," : "[", 1) == ZM_OK && put(s, resp) == ZM_OK;
        answered++;
        zm_prim_ctx_reset(s->ctx);
    }
    if (ok && answered > 0) ok = out_sink(s, "]\n", 2) == ZM_OK;
    return flush_line(s, !ok, out);
}

zm_status mcp_handle_too_long(mcp_server *s, size_t too_long, size_t max_line,
                              const mcp_sink *out) {
    zm_buf_clear(&s->out);
    zm_json *resp =
        error_detail(s, NULL, MCP_INVALID_REQUEST,
                     mcp_detail(s, "message of %zu bytes is longer than the limit of %zu bytes",
                                too_long, max_line));
    bool ok = resp != NULL && put(s, resp) == ZM_OK && out_sink(s, "\n", 1) == ZM_OK;
    return flush_line(s, !ok, out);
}

/* ---------------------------------------------------------------------------
 * Serving stdio
 * ------------------------------------------------------------------------- */

/* Standard output, and the first error writing to it. */
typedef struct out_file {
    FILE *f;
    int err;         /* errno of the first failed write or flush; 0 = none */
    zm_store *store; /* idled before each wait; NULL = none */
} out_file;

static zm_status file_write(void *c, const char *data, size_t n) {
    out_file *o = c;
    if (fwrite(data, 1, n, o->f) != n) {
        if (o->err == 0) o->err = errno ? errno : EIO;
        return ZM_EIO;
    }
    return ZM_OK;
}

/* Before a wait for input: the answers so far go out, and the store gives
   back what it holds between calls. */
static void flush_file(void *c) {
    out_file *o = c;
    if (fflush(o->f) != 0 && o->err == 0) o->err = errno ? errno : EIO;
    zm_store_idle(o->store);
}

/* True when the last message, which ended the input without a newline, is
   whole: it parses as JSON (or could not be checked for want of memory, in
   which case handling it says so). A message cut short does not parse. */
static bool last_message_whole(mcp_server *s, const char *line, size_t len) {
    zm_json *root;
    zm_json_error err;
    zm_status st = zm_json_parse_arena(&s->ar, line, len, NULL, &root, &err);
    zm_arena_reset(&s->ar, ZM_ARENA_RETAIN_WITH_LIMIT, ARENA_KEEP);
    return st == ZM_OK || st == ZM_ENOMEM;
}

int mcp_serve(mcp_server *s, int fd, FILE *out, size_t max_line) {
    zt_lines r;
    if (!zt_lines_init(&r, s->a, fd, max_line)) {
        fprintf(stderr, "zmem mcp: out of memory\n");
        return 2;
    }
    out_file of = {out, 0, s->idle_store};
    r.before_wait = flush_file;
    r.before_wait_arg = &of;
    r.wait_mask = s->wait_mask;
    r.on_signal = s->on_signal;
    r.on_signal_arg = s->on_signal_arg;
    mcp_sink sink = {file_write, &of};
    int rc = 0;
    for (;;) {
        const char *line;
        size_t len;
        zt_line_kind k = zt_lines_next(&r, &line, &len);
        if (of.err != 0 || ferror(out)) break; /* a flush before the read failed */
        if (k == ZT_LINE_EOF) break;
        if (k == ZT_LINE_ERROR) {
            fprintf(stderr, "zmem mcp: reading input: %s\n",
                    errno ? strerror(errno) : "out of memory");
            rc = 1;
            break;
        }
        if (r.unterminated && (k == ZT_LINE_TOO_LONG || !last_message_whole(s, line, len))) {
            /* The client went away in the middle of a message: nobody is
               left to answer, so it is dropped rather than answered -32700. */
            fprintf(stderr,
                    "zmem mcp: input ended in the middle of a message (%zu bytes); "
                    "dropped\n",
                    k == ZT_LINE_TOO_LONG ? r.too_long_bytes : len);
            break;
        }
        zm_status st = k == ZT_LINE_TOO_LONG
                           ? mcp_handle_too_long(s, r.too_long_bytes, max_line, &sink)
                           : mcp_handle_line(s, line, len, &sink);
        if (st == ZM_EIO || of.err != 0 || ferror(out)) break;
    }
    if (fflush(out) != 0 && of.err == 0) of.err = errno ? errno : EIO;
    if (of.err == EPIPE) {
        /* The client closed its end: it went away, which ends a session. */
        fprintf(stderr, "zmem mcp: the client went away\n");
    } else if (of.err != 0 || ferror(out)) {
        fprintf(stderr, "zmem mcp: writing output: %s\n", strerror(of.err ? of.err : EIO));
        rc = 1;
    }
    zt_env_thresholds_off();
    zt_lines_deinit(&r);
    return rc;
}
