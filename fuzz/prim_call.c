/* Fuzz harness: requests to the primitive runtime with the built-in
 * primitives.
 *
 * Input: a byte of set-up (whether and which allocation fails), then request
 * lines, each run through zm_prim_call_json on one context over one store.
 * Every response must be one well-formed JSON object of the documented shape
 * ({"id", "ok": true, "result"|"batch"} or {"id", "ok": false, "error":
 * {"code", "message"}}), with a stable error code that agrees with the status
 * returned; and when everything is destroyed nothing may be left allocated.
 */
#include <stdbool.h>

#include "fuzz_prim.h"

static const char *codes[] = {"parse_error",    "invalid_request", "unknown_primitive",
                              "invalid_params", "not_found",       "limit_exceeded",
                              "out_of_memory",  "internal"};

static bool known_code(const char *s, size_t n) {
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        if (strlen(codes[i]) == n && memcmp(codes[i], s, n) == 0) return true;
    return false;
}

/* Checks one response object (of a request or of a batch item). */
static void check_response(const zm_json *r, bool top) {
    FZ_CHECKF(zm_json_is_object(r), "a response is not an object");
    const zm_json *ok = zm_json_get(r, "ok");
    FZ_CHECKF(zm_json_is_bool(ok), "a response has no boolean \"ok\"");
    if (top) FZ_CHECKF(zm_json_get(r, "id") != NULL, "a response has no \"id\"");
    if (zm_json_bool(ok)) {
        FZ_CHECKF(zm_json_get(r, "result") != NULL || zm_json_get(r, "batch") != NULL,
                  "an ok response has neither \"result\" nor \"batch\"");
        FZ_CHECK(zm_json_get(r, "error") == NULL);
        const zm_json *batch = zm_json_get(r, "batch");
        if (batch != NULL) {
            FZ_CHECK(zm_json_is_array(batch));
            for (size_t i = 0; i < zm_json_len(batch); i++)
                check_response(zm_json_at(batch, i), false);
        }
        return;
    }
    const zm_json *err = zm_json_get(r, "error");
    FZ_CHECKF(zm_json_is_object(err), "a failed response has no \"error\" object");
    size_t n;
    const char *code = zm_json_str(zm_json_get(err, "code"), &n);
    FZ_CHECKF(code != NULL && known_code(code, n), "unknown error code %.*s", (int)n,
              code ? code : "");
    FZ_CHECK(zm_json_is_string(zm_json_get(err, "message")));
    const zm_json *field = zm_json_get(err, "field");
    if (field != NULL) {
        const char *f = zm_json_str(field, &n);
        FZ_CHECKF(f != NULL && (n == 0 || f[0] == '/'), "\"field\" is not a JSON Pointer");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    uint8_t setup = fz_u8(&in);
    uint16_t fail_at = fz_u16(&in);
    fz_prim p;
    fz_prim_init(&p);
    FZ_CHECK(zm_prim_ctx_set_agent_id(p.ctx, "fuzz", 4) == ZM_OK);
    if (setup & 1) fz_track_fail_at(&p.t, fail_at, (setup & 2) != 0);

    zm_arena check;
    zm_arena_init(&check, zm_c_allocator());
    for (int n = 0; n < 64 && in.n > 0; n++) {
        size_t len;
        const char *req = fz_line(&in, &len);

        char *resp = NULL;
        size_t resp_len = 0;
        zm_status st = zm_prim_call_json(p.reg, p.ctx, req, len, &resp, &resp_len);
        fz_trace("request %.*s\n -> %s %.*s", (int)(len < 200 ? len : 200), req, zm_status_name(st),
                 (int)(resp_len < 200 ? resp_len : 200), resp);
        FZ_CHECKF(resp != NULL, "no response (status %s)", zm_status_name(st));
        FZ_CHECK(resp[resp_len] == '\0');
        FZ_CHECKF(memchr(resp, '\n', resp_len) == NULL, "a response holds a newline");
        zm_json *r = NULL;
        zm_json_error err;
        zm_status pst = zm_json_parse_arena(&check, resp, resp_len, NULL, &r, &err);
        FZ_CHECKF(pst == ZM_OK, "the response is not JSON (%s at %zu): %.*s", zm_status_name(pst),
                  err.offset, (int)(resp_len < 500 ? resp_len : 500), resp);
        check_response(r, true);
        FZ_CHECKF(zm_json_bool(zm_json_get(r, "ok")) == (st == ZM_OK),
                  "\"ok\" disagrees with the status %s", zm_status_name(st));
        if (st == ZM_ENOMEM) FZ_CHECK(p.t.failures > 0);
        zm_arena_reset(&check, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    zm_arena_deinit(&check);
    fz_prim_finish(&p, "primitive calls");
    return 0;
}
