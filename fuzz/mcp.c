/* Fuzz harness: raw lines to the MCP request handler.
 *
 * Input: a byte of set-up (whether and which allocation fails), then lines,
 * each handed as it is to mcp_handle_line of a server over the built-in
 * primitives. Whatever comes in, what goes out must be whole lines, each one
 * JSON-RPC 2.0 response object (or a batch array of them) with "jsonrpc":
 * "2.0", an "id", and exactly one of "result" and "error" (an error with an
 * integer code and a message); a line that is a notification gets no answer.
 * Nothing may be left allocated once the server is gone.
 */
#include <stdbool.h>

#include "../tools/mcp.h"
#include "fuzz_prim.h"

typedef struct outbuf {
    char *p;
    size_t len, cap;
    size_t writes;
} outbuf;

static zm_status out_write(void *ctx, const char *data, size_t len) {
    outbuf *o = ctx;
    FZ_CHECKF(len > 0 && data[len - 1] == '\n', "the sink got something other than whole lines");
    if (o->len + len > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4096;
        while (cap < o->len + len) cap *= 2;
        o->p = realloc(o->p, cap);
        FZ_CHECK(o->p != NULL);
        o->cap = cap;
    }
    memcpy(o->p + o->len, data, len);
    o->len += len;
    o->writes++;
    return ZM_OK;
}

static void check_message(const zm_json *m) {
    FZ_CHECKF(zm_json_is_object(m), "a response is not an object");
    size_t n;
    const char *v = zm_json_str(zm_json_get(m, "jsonrpc"), &n);
    FZ_CHECKF(v != NULL && n == 3 && memcmp(v, "2.0", 3) == 0, "no \"jsonrpc\": \"2.0\"");
    FZ_CHECKF(zm_json_get(m, "id") != NULL, "a response has no \"id\"");
    const zm_json *res = zm_json_get(m, "result"), *err = zm_json_get(m, "error");
    FZ_CHECKF((res != NULL) != (err != NULL), "a response needs exactly one of result and error");
    if (err != NULL) {
        FZ_CHECK(zm_json_is_object(err));
        FZ_CHECKF(zm_json_is_int(zm_json_get(err, "code")), "an error without an integer code");
        FZ_CHECK(zm_json_is_string(zm_json_get(err, "message")));
    }
}

/* True when line is a JSON object with a string "method" and no "id": a
   notification, which gets no response. */
static bool is_notification(zm_arena *ar, const char *line, size_t len) {
    zm_json *v = NULL;
    if (zm_json_parse_arena(ar, line, len, NULL, &v, NULL) != ZM_OK) return false;
    size_t n;
    const char *ver = zm_json_str(zm_json_get(v, "jsonrpc"), &n);
    return zm_json_is_object(v) && zm_json_is_string(zm_json_get(v, "method")) &&
           zm_json_get(v, "id") == NULL && ver != NULL && n == 3 && memcmp(ver, "2.0", 3) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    uint8_t setup = fz_u8(&in);
    uint16_t fail_at = fz_u16(&in);
    fz_prim p;
    fz_prim_init(&p);
    mcp_server *srv = NULL;
    FZ_CHECK(mcp_server_create(p.a, p.reg, p.ctx, &srv) == ZM_OK);
    if (setup & 1) fz_track_fail_at(&p.t, fail_at, (setup & 2) != 0);

    outbuf o = {0};
    mcp_sink sink = {out_write, &o};
    zm_arena check;
    zm_arena_init(&check, zm_c_allocator());
    for (int n = 0; n < 64 && in.n > 0; n++) {
        size_t len;
        const char *line = fz_line(&in, &len);

        o.len = 0;
        o.writes = 0;
        size_t failures = p.t.failures;
        zm_status st;
        if ((setup & 4) && n == 0)
            st = mcp_handle_too_long(srv, len + 1000, len, &sink);
        else
            st = mcp_handle_line(srv, line, len, &sink);
        fz_trace("line %.*s\n -> %s %.*s", (int)(len < 200 ? len : 200), line, zm_status_name(st),
                 (int)(o.len < 300 ? o.len : 300), o.p ? o.p : "");
        FZ_CHECKF(st == ZM_OK || (st == ZM_ENOMEM && p.t.failures > 0), "handle_line: %s",
                  zm_status_name(st));
        FZ_CHECKF(o.writes <= 1, "%zu lines written for one message", o.writes);
        if (o.len == 0) continue;
        zm_json *v = NULL;
        zm_json_error err;
        zm_status pst = zm_json_parse_arena(&check, o.p, o.len - 1, NULL, &v, &err);
        FZ_CHECKF(pst == ZM_OK, "the response is not JSON (%s at %zu): %.*s", zm_status_name(pst),
                  err.offset, (int)(o.len < 500 ? o.len : 500), o.p);
        FZ_CHECKF(memchr(o.p, '\n', o.len - 1) == NULL, "a response spans lines");
        if (zm_json_is_array(v)) {
            FZ_CHECKF(zm_json_len(v) > 0, "an empty batch response");
            for (size_t i = 0; i < zm_json_len(v); i++) check_message(zm_json_at(v, i));
        } else {
            check_message(v);
        }
        /* Out of memory, the server may not get as far as seeing that the
           message was a notification: it answers with an error then. */
        if (!((setup & 4) && n == 0) && p.t.failures == failures)
            FZ_CHECKF(!is_notification(&check, line, len), "a notification got a response");
        zm_arena_reset(&check, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    zm_arena_deinit(&check);
    free(o.p);
    mcp_server_destroy(srv);
    fz_prim_finish(&p, "mcp server");
    return 0;
}
