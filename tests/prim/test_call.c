/* Calls: the response format, every error code, the arena reset on every
   path, batches with references, identity, clock, statistics and limits. */
#include "no_resize.h"
#include "prims.h"
#include "test.h"
#include "zmem/failing.h"

static zm_allocator A;
static zm_prim_registry *reg;
static tp_state state;

/* A response, parsed for checking. */
typedef struct resp {
    zm_status st;
    char text[2048];
    zm_json_doc *doc;
    const zm_json *root;
} resp;

static void resp_free(resp *r) {
    zm_json_doc_free(r->doc);
    r->doc = NULL;
}

/* Runs request text on ctx; checks the response is JSON and that the arena
   is empty afterwards. */
static resp run(zm_prim_ctx *ctx, const char *request) {
    resp r;
    memset(&r, 0, sizeof r);
    char *out;
    size_t len;
    r.st = zm_prim_call_json(reg, ctx, request, strlen(request), &out, &len);
    CHECK(out != NULL);
    CHECK_EQ(strlen(out), len);
    snprintf(r.text, sizeof r.text, "%s", out);
    zm_json_error err;
    zm_status ps = zm_json_parse(A, out, len, NULL, &r.doc, &err);
    if (ps != ZM_OK) fprintf(stderr, "response is not JSON: %s (%s)\n", out, err.message);
    CHECK_EQ(ps, ZM_OK);
    r.root = r.doc ? zm_json_doc_root(r.doc) : NULL;
    CHECK_EQ(zm_arena_used(zm_prim_arena(ctx)), 0);
    CHECK(zm_prim_arena(ctx)->cleanups == NULL);
    return r;
}

static const char *str_at(const zm_json *v, const char *a, const char *b) {
    const zm_json *x = zm_json_get(v, a);
    if (b) x = zm_json_get(x, b);
    return zm_json_str(x, NULL);
}

/* Checks an error response: status, code, and (if not NULL) field and a
   fragment of the message. */
static void expect_error(zm_prim_ctx *ctx, const char *request, zm_status st, const char *code,
                         const char *field, const char *msg_part) {
    resp r = run(ctx, request);
    CHECK_EQ(r.st, st);
    CHECK(zm_json_get(r.root, "ok") != NULL && !zm_json_bool(zm_json_get(r.root, "ok")));
    CHECK_STR(str_at(r.root, "error", "code"), code);
    const char *m = str_at(r.root, "error", "message");
    CHECK(m != NULL);
    if (msg_part != NULL && (m == NULL || strstr(m, msg_part) == NULL)) {
        fprintf(stderr, "%s: message \"%s\" lacks \"%s\"\n", request, m ? m : "", msg_part);
        CHECK(0);
    }
    if (field != NULL)
        CHECK_STR(str_at(r.root, "error", "field"), field);
    else
        CHECK(zm_json_get(zm_json_get(r.root, "error"), "field") == NULL);
    /* The recorded error agrees. */
    zm_prim_error e;
    zm_prim_last_error(ctx, &e);
    CHECK_STR(zm_prim_errcode_name(e.code), code);
    resp_free(&r);
}

static zm_prim_ctx *new_ctx(void) {
    zm_prim_ctx *ctx = NULL;
    CHECK_EQ(zm_prim_ctx_create(NULL, &ctx), ZM_OK);
    return ctx;
}

/* ---------------------------------------------------------------------------
 * Response format
 * ------------------------------------------------------------------------- */

static void expect_text(zm_prim_ctx *ctx, const char *request, const char *response) {
    resp r = run(ctx, request);
    CHECK_STR(r.text, response);
    resp_free(&r);
}

static void test_response_format(void) {
    zm_prim_ctx *ctx = new_ctx();
    expect_text(ctx, "{\"id\":1,\"primitive\":\"echo1\",\"params\":{\"msg\":\"hi\"}}",
                "{\"id\":1,\"ok\":true,\"result\":{\"msg\":\"hi\"}}");
    expect_text(ctx, "{\"primitive\":\"echo1\",\"params\":{\"msg\":\"hi\"},\"id\":\"a\\\"b\"}",
                "{\"id\":\"a\\\"b\",\"ok\":true,\"result\":{\"msg\":\"hi\"}}");
    expect_text(ctx, "{\"primitive\":\"echo1\",\"params\":{\"msg\":\"\"}}",
                "{\"id\":null,\"ok\":true,\"result\":{\"msg\":\"\"}}");
    expect_text(ctx, "  {\"id\":{\"n\":[1,2]},\"primitive\":\"nothing\"}  ",
                "{\"id\":{\"n\":[1,2]},\"ok\":true,\"result\":null}");
    expect_text(ctx,
                "{\"id\":7,\"primitive\":\"echo\",\"params\":{\"value\":\"line\\nbreak\\u0000\"}}",
                "{\"id\":7,\"ok\":true,\"result\":\"line\\nbreak\\u0000\"}");
    expect_text(ctx, "{\"id\":8,\"primitive\":\"fail\",\"params\":{\"status\":\"ENOTFOUND\"}}",
                "{\"id\":8,\"ok\":false,\"error\":{\"code\":\"not_found\",\"message\":\"failing "
                "with ENOTFOUND as asked\",\"field\":\"/status\"}}");
    expect_text(
        ctx,
        "{\"id\":9,\"primitive\":\"fail\",\"params\":{\"status\":\"ENOTFOUND\",\"silent\":true}}",
        "{\"id\":9,\"ok\":false,\"error\":{\"code\":\"not_found\",\"message\":\"not found\"}}");
    /* No response ever holds a raw newline: one response per line is safe. */
    resp r = run(ctx, "{\"id\":1,\"primitive\":\"nope\\n\"}");
    CHECK(strchr(r.text, '\n') == NULL);
    resp_free(&r);
    zm_prim_ctx_destroy(ctx);
}

/* ---------------------------------------------------------------------------
 * Every error code
 * ------------------------------------------------------------------------- */

static void test_parse_error(void) {
    zm_prim_ctx *ctx = new_ctx();
    expect_error(ctx, "{\"id\":1,", ZM_ESYNTAX, "parse_error", NULL, "at byte");
    expect_error(ctx, "", ZM_ESYNTAX, "parse_error", NULL, NULL);
    expect_error(ctx, "{\"id\":1}}", ZM_ESYNTAX, "parse_error", NULL, NULL);
    expect_error(ctx, "\xff", ZM_ESYNTAX, "parse_error", NULL, NULL);
    resp r = run(ctx, "{\"id\":5,\"primitive\":");
    CHECK(zm_json_is_null(zm_json_get(r.root, "id"))); /* no id known */
    resp_free(&r);
    zm_prim_ctx_destroy(ctx);
}

static void test_invalid_request(void) {
    zm_prim_ctx *ctx = new_ctx();
    expect_error(ctx, "[]", ZM_EINVAL, "invalid_request", NULL, "a request is a JSON object");
    expect_error(ctx, "\"echo\"", ZM_EINVAL, "invalid_request", NULL, NULL);
    expect_error(ctx, "{\"id\":1}", ZM_EINVAL, "invalid_request", NULL, "missing \"primitive\"");
    expect_error(ctx, "{\"id\":1,\"primitive\":5}", ZM_EINVAL, "invalid_request", NULL,
                 "\"primitive\" must be a string");
    expect_error(ctx, "{\"id\":1,\"primitive\":\"echo\",\"param\":{}}", ZM_EINVAL,
                 "invalid_request", NULL, "unknown request member \"param\"");
    expect_error(ctx, "{\"id\":1,\"batch\":{}}", ZM_EINVAL, "invalid_request", NULL,
                 "\"batch\" must be an array");
    expect_error(ctx, "{\"id\":1,\"batch\":[],\"primitive\":\"echo\"}", ZM_EINVAL,
                 "invalid_request", NULL, "no \"primitive\"");
    /* The id is still echoed when it was read. */
    resp r = run(ctx, "{\"id\":42,\"primitive\":5}");
    CHECK_EQ(zm_json_int(zm_json_get(r.root, "id")), 42);
    resp_free(&r);
    zm_prim_ctx_destroy(ctx);
}

static void test_unknown_primitive(void) {
    zm_prim_ctx *ctx = new_ctx();
    expect_error(ctx, "{\"id\":1,\"primitive\":\"nope\"}", ZM_ENOTFOUND, "unknown_primitive", NULL,
                 "unknown primitive \"nope\"");
    expect_error(ctx, "{\"id\":1,\"primitive\":\"\"}", ZM_ENOTFOUND, "unknown_primitive", NULL,
                 NULL);
    expect_error(ctx, "{\"id\":1,\"primitive\":\"echo\\u0000\"}", ZM_ENOTFOUND, "unknown_primitive",
                 NULL, NULL);
    zm_json *res;
    CHECK_EQ(zm_prim_call(reg, ctx, "nope", NULL, &res), ZM_ENOTFOUND);
    zm_prim_error e;
    zm_prim_last_error(ctx, &e);
    CHECK_EQ(e.code, ZM_PRIM_UNKNOWN_PRIMITIVE);
    zm_prim_ctx_destroy(ctx);
}

static void test_invalid_params(void) {
    zm_prim_ctx *ctx = new_ctx();
    expect_error(ctx, "{\"id\":1,\"primitive\":\"echo1\",\"params\":{\"msg\":1}}", ZM_EINVAL,
                 "invalid_params", "/msg", "/msg: type: expected string, found integer");
    expect_error(ctx, "{\"id\":1,\"primitive\":\"echo1\"}", ZM_EINVAL, "invalid_params", "/msg",
                 "/msg: required");
    expect_error(ctx, "{\"id\":1,\"primitive\":\"echo\",\"params\":[1]}", ZM_EINVAL,
                 "invalid_params", "", "params: type: expected object, found array");
    expect_error(ctx, "{\"id\":1,\"primitive\":\"fail\",\"params\":{\"status\":\"EINVAL\"}}",
                 ZM_EINVAL, "invalid_params", "/status", "as asked");
    expect_error(ctx, "{\"id\":1,\"primitive\":\"fail\",\"params\":{\"status\":\"EIO\",\"x\":1}}",
                 ZM_EINVAL, "invalid_params", "/x", "additionalProperties");
    zm_prim_ctx_destroy(ctx);
}

static void test_primitive_errors(void) {
    zm_prim_ctx *ctx = new_ctx();
    expect_error(ctx, "{\"id\":1,\"primitive\":\"fail\",\"params\":{\"status\":\"ENOTFOUND\"}}",
                 ZM_ENOTFOUND, "not_found", "/status", NULL);
    expect_error(ctx, "{\"id\":1,\"primitive\":\"fail\",\"params\":{\"status\":\"ELIMIT\"}}",
                 ZM_ELIMIT, "limit_exceeded", "/status", NULL);
    expect_error(ctx, "{\"id\":1,\"primitive\":\"fail\",\"params\":{\"status\":\"ENOMEM\"}}",
                 ZM_ENOMEM, "out_of_memory", "/status", NULL);
    expect_error(ctx, "{\"id\":1,\"primitive\":\"fail\",\"params\":{\"status\":\"EIO\"}}", ZM_EIO,
                 "storage_error", "/status", NULL);
    expect_error(
        ctx, "{\"id\":1,\"primitive\":\"fail\",\"params\":{\"status\":\"EIO\",\"silent\":true}}",
        ZM_EIO, "storage_error", NULL, zm_status_str(ZM_EIO));
    /* A message with bad bytes is repaired, not passed on. */
    expect_error(ctx, "{\"id\":1,\"primitive\":\"badmsg\"}", ZM_ENOTFOUND, "not_found", "/k?",
                 "no such ? thing ??");
    expect_error(ctx, "{\"id\":1,\"primitive\":\"bad_result\",\"params\":{\"kind\":\"utf8\"}}",
                 ZM_EINTERNAL, "internal", NULL, "not valid JSON");
    expect_error(ctx, "{\"id\":1,\"primitive\":\"bad_result\",\"params\":{\"kind\":\"nan\"}}",
                 ZM_EINTERNAL, "internal", NULL, "not valid JSON");
    zm_prim_ctx_destroy(ctx);
}

static void test_errcode_mapping(void) {
    CHECK_EQ(zm_prim_errcode_of(ZM_OK), ZM_PRIM_OK);
    CHECK_EQ(zm_prim_errcode_of(ZM_EINVAL), ZM_PRIM_INVALID_PARAMS);
    CHECK_EQ(zm_prim_errcode_of(ZM_ENOTFOUND), ZM_PRIM_NOT_FOUND);
    CHECK_EQ(zm_prim_errcode_of(ZM_ELIMIT), ZM_PRIM_LIMIT_EXCEEDED);
    CHECK_EQ(zm_prim_errcode_of(ZM_ENOMEM), ZM_PRIM_OUT_OF_MEMORY);
    CHECK_EQ(zm_prim_errcode_of(ZM_ETYPE), ZM_PRIM_INTERNAL);
    CHECK_EQ(zm_prim_errcode_of(ZM_EIO), ZM_PRIM_STORAGE_ERROR);
    CHECK_EQ(zm_prim_errcode_of(ZM_ECORRUPT), ZM_PRIM_STORAGE_ERROR);
    CHECK_EQ(zm_prim_errcode_of(ZM_EBUSY), ZM_PRIM_BUSY);
    CHECK_EQ(zm_prim_errcode_of(ZM_EUNAVAILABLE), ZM_PRIM_UNAVAILABLE);
    CHECK_EQ(zm_prim_errcode_of(ZM_ECONFLICT), ZM_PRIM_CONFLICT);
    CHECK_EQ(zm_prim_errcode_of(ZM_EINTERNAL), ZM_PRIM_INTERNAL);
    const char *names[] = {
        "ok",          "parse_error",    "invalid_request", "unknown_primitive", "invalid_params",
        "not_found",   "limit_exceeded", "out_of_memory",   "internal",          "busy",
        "unavailable", "storage_error",  "conflict"};
    for (int i = 0; i <= ZM_PRIM_CONFLICT; i++)
        CHECK_STR(zm_prim_errcode_name((zm_prim_errcode)i), names[i]);
    CHECK_STR(zm_prim_errcode_name((zm_prim_errcode)99), "internal");
}

/* A real allocation failure inside a call: out_of_memory, and the context
   recovers. */
static void test_out_of_memory(void) {
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = zm_failing_allocator(&f);
    o.arena_block_size = 256; /* small blocks: the big allocation needs a new one */
    zm_prim_ctx *ctx = NULL;
    CHECK_EQ(zm_prim_ctx_create(&o, &ctx), ZM_OK);
    f.fail_index = f.alloc_index + 2; /* the parse's block, then the primitive's block fails */
    expect_error(ctx, "{\"id\":3,\"primitive\":\"cleanup\",\"params\":{\"bytes\":100000}}",
                 ZM_ENOMEM, "out_of_memory", NULL, NULL);
    CHECK(f.has_induced_failure);
    CHECK_EQ(state.cleanups_run, state.calls); /* the cleanup ran although the call failed */
    zm_prim_ctx_destroy(ctx);

    /* A response that cannot grow: the out-of-memory response keeps the id. */
    f.fail_index = SIZE_MAX;
    o.arena_block_size = 0;
    CHECK_EQ(zm_prim_ctx_create(&o, &ctx), ZM_OK);
    resp warm = run(ctx, "{\"id\":1,\"primitive\":\"echo\",\"params\":{\"value\":1}}");
    resp_free(&warm);
    char big[9000];
    memset(big, 'a', sizeof big);
    int n =
        snprintf(big, sizeof big, "{\"id\":\"x\",\"primitive\":\"echo\",\"params\":{\"value\":\"");
    big[n] = 'a';
    memcpy(big + sizeof big - 6, "\"}}", 4);
    /* Growing the response is the next allocation (or remap). */
    f.fail_index = f.alloc_index;
    f.resize_fail_index = f.resize_index;
    resp r = run(ctx, big);
    CHECK_EQ(r.st, ZM_ENOMEM);
    CHECK_STR(str_at(r.root, "error", "code"), "out_of_memory");
    CHECK_STR(str_at(r.root, "id", NULL), "x");
    resp_free(&r);
    /* And then everything works again. */
    f.fail_index = SIZE_MAX;
    f.resize_fail_index = SIZE_MAX;
    r = run(ctx, big);
    CHECK_EQ(r.st, ZM_OK);
    resp_free(&r);
    zm_prim_ctx_destroy(ctx);
    CHECK_EQ(f.allocated_bytes, f.freed_bytes);
}

/* ---------------------------------------------------------------------------
 * The arena is reset on every path; cleanups run
 * ------------------------------------------------------------------------- */

static void test_reset_on_every_path(void) {
    zm_prim_ctx *ctx = new_ctx();
    int before = state.cleanups_run;
    const char *reqs[] = {
        "{\"id\":1,\"primitive\":\"cleanup\"}",                                /* ok */
        "{\"id\":2,\"primitive\":\"cleanup\",\"params\":{\"fail\":true}}",     /* fails */
        "{\"id\":3,\"primitive\":\"cleanup\",\"params\":{\"bytes\":1000000}}", /* new blocks */
        "{\"id\":4,\"primitive\":\"cleanup\",\"params\":{\"bytes\":-1}}",      /* schema */
        "{\"id\":5,\"primitive\":\"cleanup\",\"params\":{\"bytes\":10}",       /* parse */
        "{\"id\":6,\"primitive\":\"nope\"}",                                   /* unknown */
        "{\"id\":7,\"batch\":[{\"primitive\":\"cleanup\"},{\"primitive\":\"cleanup\","
        "\"params\":{\"fail\":true}},{\"primitive\":\"nope\"}]}", /* batch */
    };
    int expected_cleanups[] = {1, 1, 1, 0, 0, 0, 2};
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        int c0 = state.cleanups_run;
        resp r = run(ctx, reqs[i]); /* run() checks used == 0 and no cleanup pending */
        CHECK_EQ(state.cleanups_run - c0, expected_cleanups[i]);
        resp_free(&r);
    }
    CHECK_EQ(state.cleanups_run - before, 5);

    /* zm_prim_call leaves the result for the caller; the next call resets. */
    zm_json *res;
    CHECK_EQ(zm_prim_call(reg, ctx, "cleanup", NULL, &res), ZM_OK);
    CHECK_EQ(zm_json_int(res), 100);
    CHECK(zm_arena_used(zm_prim_arena(ctx)) > 0);
    int c0 = state.cleanups_run;
    CHECK_EQ(zm_prim_call(reg, ctx, "echo", NULL, &res), ZM_OK);
    CHECK_EQ(state.cleanups_run, c0 + 1);
    /* A failing zm_prim_call resets before returning. */
    zm_json_doc *doc;
    CHECK_EQ(zm_json_parse(A, "{\"fail\":true}", 13, NULL, &doc, NULL), ZM_OK);
    CHECK_EQ(zm_prim_call(reg, ctx, "cleanup", zm_json_doc_root(doc), &res), ZM_ELIMIT);
    CHECK(res == NULL);
    CHECK_EQ(zm_arena_used(zm_prim_arena(ctx)), 0);
    CHECK_EQ(state.cleanups_run, c0 + 2);
    zm_json_doc_free(doc);
    /* zm_prim_ctx_reset frees a result early. */
    CHECK_EQ(zm_prim_call(reg, ctx, "cleanup", NULL, &res), ZM_OK);
    zm_prim_ctx_reset(ctx);
    CHECK_EQ(zm_arena_used(zm_prim_arena(ctx)), 0);
    CHECK_EQ(state.cleanups_run, c0 + 3);
    /* A result left by zm_prim_call dies at the next zm_prim_call_json too. */
    CHECK_EQ(zm_prim_call(reg, ctx, "cleanup", NULL, &res), ZM_OK);
    resp r = run(ctx, "{\"primitive\":\"echo\"}");
    CHECK_EQ(state.cleanups_run, c0 + 4);
    resp_free(&r);
    /* Destroying a context runs what is pending. */
    CHECK_EQ(zm_prim_call(reg, ctx, "cleanup", NULL, &res), ZM_OK);
    zm_prim_ctx_destroy(ctx);
    CHECK_EQ(state.cleanups_run, c0 + 5);
}

static void test_retain_limit(void) {
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.arena_block_size = 4096;
    o.arena_retain_limit = 64 << 10;
    o.response_retain_limit = 64 << 10;
    zm_prim_ctx *ctx = NULL;
    CHECK_EQ(zm_prim_ctx_create(&o, &ctx), ZM_OK);
    resp r = run(ctx, "{\"primitive\":\"cleanup\",\"params\":{\"bytes\":5000000}}");
    CHECK_EQ(r.st, ZM_OK);
    resp_free(&r);
    zm_prim_stats s;
    zm_prim_ctx_stats(ctx, &s);
    CHECK(s.peak_call_bytes >= 5000000);
    CHECK(s.arena_capacity <= 2 * (64 << 10)); /* both arenas within the limit */
    /* A big response is given back at the next request. */
    static char big[300000];
    int n = snprintf(big, sizeof big, "{\"primitive\":\"echo\",\"params\":{\"value\":\"");
    memset(big + n, 'z', sizeof big - (size_t)n - 5);
    memcpy(big + sizeof big - 5, "\"}}", 4);
    r = run(ctx, big);
    CHECK_EQ(r.st, ZM_OK);
    resp_free(&r);
    zm_prim_ctx_stats(ctx, &s);
    CHECK(s.response_capacity >= sizeof big - 100);
    r = run(ctx, "{\"primitive\":\"nothing\"}");
    resp_free(&r);
    zm_prim_ctx_stats(ctx, &s);
    CHECK(s.response_capacity <= (64 << 10));
    zm_prim_ctx_destroy(ctx);
}

/* A response past the context's response limit is limit_exceeded, whether
   one result is too large or a batch doubles its results through references
   (a 2 KiB request that would otherwise answer 2^30 bytes). */
static void test_response_limit(void) {
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.response_limit = 64 << 10;
    zm_prim_ctx *ctx = NULL;
    CHECK_EQ(zm_prim_ctx_create(&o, &ctx), ZM_OK);
    static char big[100000];
    int n = snprintf(big, sizeof big, "{\"id\":7,\"primitive\":\"echo\",\"params\":{\"value\":\"");
    memset(big + n, 'z', sizeof big - (size_t)n - 5);
    memcpy(big + sizeof big - 5, "\"}}", 4);
    expect_error(ctx, big, ZM_ELIMIT, "limit_exceeded", NULL,
                 "the response is larger than the limit of 65536 bytes");
    /* Each call answers its two copies of the one before. */
    char req[4096];
    size_t len = (size_t)snprintf(req, sizeof req,
                                  "{\"id\":8,\"batch\":[{\"primitive\":\"echo\",\"params\":"
                                  "{\"value\":[1,2,3,4,5,6,7,8]}}");
    for (int i = 1; i < 30; i++)
        len += (size_t)snprintf(req + len, sizeof req - len,
                                ",{\"primitive\":\"echo\",\"params\":{\"value\":[\"$%d.result\","
                                "\"$%d.result\"]}}",
                                i - 1, i - 1);
    snprintf(req + len, sizeof req - len, "]}");
    char *out;
    size_t out_len;
    zm_status st = zm_prim_call_json(reg, ctx, req, strlen(req), &out, &out_len);
    CHECK(st == ZM_OK || st == ZM_ELIMIT);
    CHECK(out_len <= (64 << 10));
    CHECK(strstr(out, "larger than the limit of 65536 bytes") != NULL ||
          strstr(out, "take more than the limit of 65536 bytes") != NULL);
    CHECK_EQ(zm_arena_used(zm_prim_arena(ctx)), 0);
    /* Each call nests the one before a level deeper: the text stays small
       while the copies the batch keeps for its references grow as the
       square of its length. */
    char *chain = malloc(1 << 20);
    CHECK(chain != NULL);
    if (chain == NULL) return;
    len = (size_t)snprintf(
        chain, 1 << 20, "{\"id\":10,\"batch\":[{\"primitive\":\"echo\",\"params\":{\"value\":1}}");
    for (int i = 1; i < 5000; i++)
        len += (size_t)snprintf(chain + len, (1 << 20) - len,
                                ",{\"primitive\":\"echo\",\"params\":{\"value\":[\"$%d.result\"]}}",
                                i - 1);
    snprintf(chain + len, (1 << 20) - len, "]}");
    expect_error(ctx, chain, ZM_ELIMIT, "limit_exceeded", NULL,
                 "the results the batch keeps for its references take more than the limit of "
                 "65536 bytes");
    free(chain);
    /* The context goes on answering. */
    expect_text(ctx, "{\"id\":9,\"primitive\":\"echo\",\"params\":{\"value\":1}}",
                "{\"id\":9,\"ok\":true,\"result\":1}");
    zm_prim_ctx_destroy(ctx);
}

/* Takes 16 bytes from the context's limiter (its userdata) and asks to grow
   them to 64 (the backing refuses) or, with "big", asks for more than the
   limit allows; then fails as out of memory. */
static zm_status grow_then_fail(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)result;
    zm_allocator a = zm_stats_allocator((zm_stats *)zm_prim_userdata(ctx));
    if (zm_json_bool(zm_json_get(params, "big"))) {
        CHECK(zm_alloc(a, (size_t)2 << 20, 1) == NULL);
    } else {
        char *p = zm_alloc(a, 16, 1);
        CHECK(p != NULL);
        if (p != NULL) {
            CHECK(!zm_resize(a, p, 16, 1, 64));
            zm_free(a, p, 16, 1);
        }
    }
    return ZM_ENOMEM;
}

/* limit_exceeded is for what the memory limit refused, not for any failure
   of the limiter's backing: a call that fails after the backing refused a
   resize the limit allowed answers out_of_memory; one whose limit refused
   answers limit_exceeded. */
static void test_limit_not_backing(void) {
    zm_stats lim;
    zm_stats_init(&lim, (zm_allocator){NULL, &no_resize_vtable}, 1 << 20);
    zm_prim_registry *r2 = NULL;
    CHECK_EQ(zm_prim_registry_create(A, &r2), ZM_OK);
    zm_prim_def d = {.name = "grow", .fn = grow_then_fail, .userdata = &lim};
    CHECK_EQ(zm_prim_register(r2, &d, NULL), ZM_OK);
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.memory_limit = &lim;
    zm_prim_ctx *ctx = NULL;
    CHECK_EQ(zm_prim_ctx_create(&o, &ctx), ZM_OK);
    static const char *const reqs[] = {"{\"primitive\":\"grow\",\"params\":{}}",
                                       "{\"primitive\":\"grow\",\"params\":{\"big\":true}}"};
    static const char *const want[] = {"\"code\":\"out_of_memory\"", "\"code\":\"limit_exceeded\""};
    for (int i = 0; i < 2; i++) {
        char *out;
        size_t len;
        zm_prim_call_json(r2, ctx, reqs[i], strlen(reqs[i]), &out, &len);
        if (strstr(out, want[i]) == NULL) fprintf(stderr, "  %s: %s\n", reqs[i], out);
        CHECK(strstr(out, want[i]) != NULL);
    }
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(r2);
}

/* ---------------------------------------------------------------------------
 * Batches
 * ------------------------------------------------------------------------- */

static const zm_json *item(const resp *r, size_t i) {
    return zm_json_at(zm_json_get(r->root, "batch"), i);
}

static void test_batch(void) {
    zm_prim_ctx *ctx = new_ctx();
    int c0 = state.cleanups_run;
    resp r = run(
        ctx,
        "{\"id\":\"b1\",\"batch\":["
        "{\"id\":0,\"primitive\":\"add\",\"params\":{\"a\":1,\"b\":2}},"
        "{\"primitive\":\"add\",\"params\":{\"a\":\"$0.result.sum\",\"b\":\"$0.result.parts.1\"}},"
        "{\"primitive\":\"echo\",\"params\":{\"value\":{\"all\":\"$1\",\"lit\":\"$$0\","
        "\"dollar\":\"$\",\"word\":\"$x\",\"id\":\"$0.id\",\"deep\":[[\"$1.result.sum\"]]}}},"
        "{\"primitive\":\"cleanup\"},"
        "{\"primitive\":\"cleanup\",\"params\":{\"fail\":true}},"
        "{\"primitive\":\"echo\",\"params\":{\"value\":\"$4.result\"}},"
        "{\"primitive\":\"echo\",\"params\":{\"value\":\"$4.error.code\"}},"
        "{\"primitive\":\"echo\",\"params\":{\"value\":\"$9\"}},"
        "{\"primitive\":\"echo\",\"params\":{\"value\":\"$0.result.nope\"}},"
        "{\"primitive\":\"echo\",\"params\":{\"value\":\"$0.result.parts.7\"}},"
        "{\"primitive\":\"echo\",\"params\":{\"value\":\"$0..x\"}},"
        "{\"primitive\":\"echo\",\"params\":{\"value\":\"$0x\"}},"
        "{\"primitive\":\"add\",\"params\":{\"a\":\"$1.result.parts\",\"b\":1}},"
        "{\"primitive\":\"nope\"},"
        "17"
        "]}");
    CHECK_EQ(r.st, ZM_OK);
    CHECK(zm_json_bool(zm_json_get(r.root, "ok")));
    CHECK_STR(str_at(r.root, "id", NULL), "b1");
    CHECK_EQ(zm_json_len(zm_json_get(r.root, "batch")), 15);
    /* 0: plain, with its id. */
    CHECK_EQ(zm_json_int(zm_json_get(item(&r, 0), "id")), 0);
    CHECK_EQ(zm_json_int(zm_json_get(zm_json_get(item(&r, 0), "result"), "sum")), 3);
    /* 1: references into an object and an array; no id member. */
    CHECK(zm_json_get(item(&r, 1), "id") == NULL);
    CHECK_EQ(zm_json_int(zm_json_get(zm_json_get(item(&r, 1), "result"), "sum")), 5);
    /* 2: whole responses, literals, nested references. */
    const zm_json *v = zm_json_get(item(&r, 2), "result");
    CHECK(zm_json_bool(zm_json_get(zm_json_get(v, "all"), "ok")));
    CHECK_EQ(zm_json_int(zm_json_get(zm_json_get(zm_json_get(v, "all"), "result"), "sum")), 5);
    CHECK_STR(str_at(v, "lit", NULL), "$0");
    CHECK_STR(str_at(v, "dollar", NULL), "$");
    CHECK_STR(str_at(v, "word", NULL), "$x");
    CHECK_EQ(zm_json_int(zm_json_get(v, "id")), 0);
    CHECK_EQ(zm_json_int(zm_json_at(zm_json_at(zm_json_get(v, "deep"), 0), 0)), 5);
    /* 3, 4: cleanups ran once per call; 4 failed. */
    CHECK(zm_json_bool(zm_json_get(item(&r, 3), "ok")));
    CHECK_STR(str_at(item(&r, 4), "error", "code"), "limit_exceeded");
    CHECK_EQ(state.cleanups_run - c0, 2);
    /* 5: a reference into a failed call's result. */
    CHECK_STR(str_at(item(&r, 5), "error", "code"), "invalid_params");
    CHECK_STR(str_at(item(&r, 5), "error", "field"), "/value");
    CHECK(strstr(str_at(item(&r, 5), "error", "message"), "call 4 failed") != NULL);
    /* 6: but its error is there to read. */
    CHECK_STR(str_at(item(&r, 6), "result", NULL), "limit_exceeded");
    /* 7: a later call. 8, 9: missing member, index out of range. 10, 11: malformed. */
    CHECK(strstr(str_at(item(&r, 7), "error", "message"), "has not run") != NULL);
    CHECK(strstr(str_at(item(&r, 8), "error", "message"), "no \"nope\"") != NULL);
    CHECK(strstr(str_at(item(&r, 9), "error", "message"), "no \"7\"") != NULL);
    CHECK(strstr(str_at(item(&r, 10), "error", "message"), "empty path segment") != NULL);
    CHECK(strstr(str_at(item(&r, 11), "error", "message"), "expected \"$N\"") != NULL);
    /* 12: the substituted value is checked against the schema. */
    CHECK_STR(str_at(item(&r, 12), "error", "field"), "/a");
    CHECK(strstr(str_at(item(&r, 12), "error", "message"), "expected integer, found array") !=
          NULL);
    /* 13, 14: unknown primitive and a call that is not an object. */
    CHECK_STR(str_at(item(&r, 13), "error", "code"), "unknown_primitive");
    CHECK_STR(str_at(item(&r, 14), "error", "code"), "invalid_request");
    resp_free(&r);

    /* An empty batch, and a batch without references (nothing is kept). */
    expect_text(ctx, "{\"id\":1,\"batch\":[]}", "{\"id\":1,\"ok\":true,\"batch\":[]}");
    expect_text(ctx,
                "{\"batch\":[{\"primitive\":\"echo1\",\"params\":{\"msg\":\"a\"}},{\"id\":2,"
                "\"primitive\":\"echo1\",\"params\":{\"msg\":\"b\"}}]}",
                "{\"id\":null,\"ok\":true,\"batch\":[{\"ok\":true,\"result\":{\"msg\":\"a\"}},{"
                "\"id\":2,\"ok\":true,\"result\":{\"msg\":\"b\"}}]}");
    /* Nested batches are not calls. */
    expect_text(ctx, "{\"batch\":[{\"batch\":[]}]}",
                "{\"id\":null,\"ok\":true,\"batch\":[{\"ok\":false,\"error\":{\"code\":\"invalid_"
                "request\",\"message\":\"unknown request member \\\"batch\\\" (expected id, "
                "primitive, params)\"}}]}");

    zm_prim_stats s;
    zm_prim_ctx_stats(ctx, &s);
    CHECK_EQ(s.calls, 16);
    zm_prim_ctx_destroy(ctx);
}

/* The reference rule: "$" and a digit start a reference, which must be "$N"
   or "$N.path" with N in decimal without leading zeros and in range; other
   strings starting with "$" are literals. */
static void test_batch_reference_syntax(void) {
    zm_prim_ctx *ctx = new_ctx();
    resp r = run(ctx, "{\"batch\":["
                      "{\"primitive\":\"echo\",\"params\":{\"value\":1}},"
                      "{\"primitive\":\"echo\",\"params\":{\"value\":\"$99999999999999999999\"}},"
                      "{\"primitive\":\"echo\",\"params\":{\"value\":\"$00.ok\"}},"
                      "{\"primitive\":\"echo\",\"params\":{\"value\":\"$01\"}},"
                      "{\"primitive\":\"echo\",\"params\":{\"value\":\"$0x\"}},"
                      "{\"primitive\":\"echo\",\"params\":{\"value\":[\"$-1\",\"$\",\"$abc\"]}},"
                      "{\"primitive\":\"echo\",\"params\":{\"value\":\"$0.ok\"}}"
                      "]}");
    CHECK_EQ(r.st, ZM_OK);
    const char *m = str_at(item(&r, 1), "error", "message");
    CHECK(m != NULL && strstr(m, "call index out of range") != NULL);
    CHECK_STR(str_at(item(&r, 1), "error", "code"), "invalid_params");
    for (size_t i = 2; i <= 3; i++) {
        m = str_at(item(&r, i), "error", "message");
        CHECK(m != NULL && strstr(m, "no leading zeros") != NULL);
    }
    m = str_at(item(&r, 4), "error", "message");
    CHECK(m != NULL && strstr(m, "expected \"$N\" or \"$N.path\"") != NULL);
    const zm_json *lits = zm_json_get(item(&r, 5), "result");
    CHECK_STR(zm_json_str(zm_json_at(lits, 0), NULL), "$-1");
    CHECK_STR(zm_json_str(zm_json_at(lits, 1), NULL), "$");
    CHECK_STR(zm_json_str(zm_json_at(lits, 2), NULL), "$abc");
    CHECK(zm_json_bool(zm_json_get(item(&r, 6), "result")));
    resp_free(&r);
    zm_prim_ctx_destroy(ctx);
}

/* Results kept for references survive the arena resets between calls: a
   result that borrowed the per-call arena is copied before the reset. */
static void test_batch_keeps_results_across_resets(void) {
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.arena_block_size = 256; /* several blocks per call */
    o.arena_retain_limit = 512;
    zm_prim_ctx *ctx = NULL;
    CHECK_EQ(zm_prim_ctx_create(&o, &ctx), ZM_OK);
    char req[4096];
    int n =
        snprintf(req, sizeof req, "{\"batch\":[{\"primitive\":\"echo1\",\"params\":{\"msg\":\"");
    for (int i = 0; i < 1000; i++) req[n++] = (char)('a' + i % 26);
    n += snprintf(req + n, sizeof req - (size_t)n,
                  "\"}},{\"primitive\":\"cleanup\",\"params\":{\"bytes\":3000}},"
                  "{\"primitive\":\"echo1\",\"params\":{\"msg\":\"$0.result.msg\"}}]}");
    resp r = run(ctx, req);
    CHECK_EQ(r.st, ZM_OK);
    size_t len;
    const char *m = zm_json_str(zm_json_get(zm_json_get(item(&r, 2), "result"), "msg"), &len);
    CHECK_EQ(len, 1000);
    CHECK(m != NULL && m[0] == 'a' && m[999] == (char)('a' + 999 % 26));
    resp_free(&r);
    zm_prim_ctx_destroy(ctx);
}

/* ---------------------------------------------------------------------------
 * Identity, clock, userdata, statistics
 * ------------------------------------------------------------------------- */

static void test_identity_copied(void) {
    zm_prim_ctx *ctx = new_ctx();
    size_t len;
    CHECK_STR(zm_prim_agent_id(ctx, &len), "");
    CHECK_EQ(len, 0);
    char *agent = malloc(16), *session = malloc(16);
    strcpy(agent, "agent-7");
    memcpy(session, "sess\0ion", 8); /* the length counts, not the NUL */
    CHECK_EQ(zm_prim_ctx_set_agent_id(ctx, agent, strlen(agent)), ZM_OK);
    CHECK_EQ(zm_prim_ctx_set_session_id(ctx, session, 8), ZM_OK);
    memset(agent, 'X', 16);
    free(agent);
    free(session);
    resp r = run(ctx, "{\"primitive\":\"whoami\"}");
    CHECK_STR(str_at(r.root, "result", "agent"), "agent-7");
    size_t sl;
    zm_json_str(zm_json_get(zm_json_get(r.root, "result"), "session"), &sl);
    CHECK_EQ(sl, 8);
    resp_free(&r);
    /* Setting it from its own storage works (the copy is made first). */
    const char *cur = zm_prim_agent_id(ctx, &len);
    CHECK_EQ(zm_prim_ctx_set_agent_id(ctx, cur + 6, 1), ZM_OK);
    CHECK_STR(zm_prim_agent_id(ctx, NULL), "7");
    CHECK_EQ(zm_prim_ctx_set_agent_id(ctx, NULL, 0), ZM_OK);
    CHECK_STR(zm_prim_agent_id(ctx, &len), "");
    CHECK_EQ(len, 0);
    zm_prim_ctx_destroy(ctx);
}

static int64_t fake_clock(void *arg) {
    int64_t *t = arg;
    return (*t)++;
}

static void test_clock(void) {
    int64_t t = 1700000000000;
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.clock = fake_clock;
    o.clock_ctx = &t;
    zm_prim_ctx *ctx = NULL;
    CHECK_EQ(zm_prim_ctx_create(&o, &ctx), ZM_OK);
    resp r = run(ctx, "{\"batch\":[{\"primitive\":\"whoami\"},{\"primitive\":\"whoami\"}]}");
    CHECK_EQ(zm_json_int(zm_json_get(zm_json_get(item(&r, 0), "result"), "now")), 1700000000000);
    CHECK_EQ(zm_json_int(zm_json_get(zm_json_get(item(&r, 1), "result"), "now")), 1700000000001);
    resp_free(&r);
    /* The default clock is the real time. */
    zm_prim_ctx_set_clock(ctx, NULL, NULL);
    r = run(ctx, "{\"primitive\":\"whoami\"}");
    int64_t now = zm_json_int(zm_json_get(zm_json_get(r.root, "result"), "now"));
    CHECK(now > 1600000000000 && now < 4000000000000);
    resp_free(&r);
    zm_prim_ctx_destroy(ctx);
}

static zm_status read_userdata(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)params;
    *result = zm_json_new_int(zm_prim_alloc(ctx), *(int *)zm_prim_userdata(ctx));
    CHECK(zm_prim_longlived(ctx).vtable != NULL);
    CHECK(zm_prim_json_pool(ctx) != NULL);
    CHECK(zm_prim_templates(ctx) != NULL);
    return *result ? ZM_OK : ZM_ENOMEM;
}

static zm_status long_message(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)params, (void)result;
    char part[100];
    memset(part, 'm', sizeof part - 1);
    part[sizeof part - 1] = '\0';
    return zm_prim_fail(ctx, ZM_EINVAL, "/a/b", "%s|%s|%s|%s|%s", part, part, part, part, part);
}

static void test_userdata_and_long_messages(void) {
    zm_prim_registry *r2;
    CHECK_EQ(zm_prim_registry_create(A, &r2), ZM_OK);
    int value = 1234;
    zm_prim_def d = {"ud", "", NULL, read_userdata, &value};
    zm_prim_def d2 = {"long", "", NULL, long_message, NULL};
    CHECK_EQ(zm_prim_register(r2, &d, NULL), ZM_OK);
    CHECK_EQ(zm_prim_register(r2, &d2, NULL), ZM_OK);
    zm_prim_ctx *ctx = new_ctx();
    CHECK(zm_prim_userdata(ctx) == NULL);
    zm_json *res;
    CHECK_EQ(zm_prim_call(r2, ctx, "ud", NULL, &res), ZM_OK);
    CHECK_EQ(zm_json_int(res), 1234);
    CHECK(zm_prim_userdata(ctx) == NULL);
    CHECK_EQ(zm_prim_call(r2, ctx, "long", NULL, &res), ZM_EINVAL);
    zm_prim_error e;
    zm_prim_last_error(ctx, &e);
    CHECK_EQ(strlen(e.message), 5 * 99 + 4);
    CHECK_STR(e.field, "/a/b");
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(r2);
}

static void test_stats(void) {
    zm_prim_ctx *ctx = new_ctx();
    zm_prim_stats s;
    zm_prim_ctx_stats(ctx, &s);
    CHECK_EQ(s.calls, 0);
    CHECK_EQ(s.errors, 0);
    for (int i = 0; i < 10; i++) {
        resp r = run(ctx, "{\"primitive\":\"cleanup\",\"params\":{\"bytes\":5000}}");
        resp_free(&r);
    }
    resp r = run(ctx, "{\"primitive\":\"nope\"}");
    resp_free(&r);
    r = run(ctx, "not json");
    resp_free(&r);
    zm_prim_ctx_stats(ctx, &s);
    CHECK_EQ(s.calls, 11);
    CHECK_EQ(s.errors, 2);
    CHECK(s.peak_call_bytes >= 5000);
    CHECK(s.total_call_bytes >= 50000);
    CHECK(s.last_call_bytes < 5000);
    CHECK(s.arena_capacity > 0);
    CHECK(s.response_capacity >= 4096);
    CHECK(s.arena_resets >= 12);
    zm_prim_ctx_destroy(ctx);
}

/* ---------------------------------------------------------------------------
 * Re-entrancy: a primitive calling on its own context is refused
 * ------------------------------------------------------------------------- */

static zm_prim_registry *nest_reg;

static zm_status nest_inner(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)params;
    *result = zm_json_new_string(zm_prim_alloc(ctx), "inner", 5);
    return *result ? ZM_OK : ZM_ENOMEM;
}

/* Builds part of its result, calls "inner" on its own context (both ways),
   then checks its memory survived. */
static zm_status nest_outer(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)params;
    zm_allocator a = zm_prim_alloc(ctx);
    zm_json *o = zm_json_new_object(a, 3);
    zm_json *before = zm_json_new_string(a, "built before the nested call", 28);
    if (o == NULL || before == NULL || zm_json_object_set(a, o, "before", 6, before) != ZM_OK)
        return ZM_ENOMEM;
    size_t used = zm_arena_used(zm_prim_arena(ctx));
    zm_json *r = NULL;
    CHECK_EQ(zm_prim_call(nest_reg, ctx, "inner", NULL, &r), ZM_EINVAL);
    CHECK(r == NULL);
    zm_prim_error e;
    zm_prim_last_error(ctx, &e);
    CHECK(strstr(e.message, "context is busy") != NULL);
    char *text;
    size_t len;
    const char req[] = "{\"primitive\":\"inner\"}";
    CHECK_EQ(zm_prim_call_json(nest_reg, ctx, req, sizeof req - 1, &text, &len), ZM_EINVAL);
    CHECK_EQ(strlen(text), len);
    CHECK(strstr(text, "\"ok\":false") != NULL && strstr(text, "context is busy") != NULL);
    /* zm_prim_ctx_reset inside a call leaves the call's memory alone too. */
    zm_prim_ctx_reset(ctx);
    CHECK_EQ(zm_arena_used(zm_prim_arena(ctx)), used);
    CHECK_STR(zm_json_str(zm_json_get(o, "before"), NULL), "built before the nested call");
    *result = o;
    return ZM_OK;
}

/* Records its own error, then tries a nested call: the refusal keeps that
   error, which is what the response reports. */
static zm_status nest_failing(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)params;
    (void)result;
    zm_status st = zm_prim_fail(ctx, ZM_ENOTFOUND, "/x", "my own error");
    zm_json *r = NULL;
    CHECK_EQ(zm_prim_call(nest_reg, ctx, "inner", NULL, &r), ZM_EINVAL);
    char *text;
    size_t len;
    const char req[] = "{\"primitive\":\"inner\"}";
    CHECK_EQ(zm_prim_call_json(nest_reg, ctx, req, sizeof req - 1, &text, &len), ZM_EINVAL);
    zm_prim_error e;
    zm_prim_last_error(ctx, &e);
    CHECK_STR(e.message, "my own error");
    CHECK_EQ(e.status, ZM_ENOTFOUND);
    return st;
}

static void test_nested_call_refused(void) {
    CHECK_EQ(zm_prim_registry_create(A, &nest_reg), ZM_OK);
    zm_prim_def d1 = {"inner", "", NULL, nest_inner, NULL};
    zm_prim_def d2 = {"outer", "", NULL, nest_outer, NULL};
    zm_prim_def d3 = {"failing", "", NULL, nest_failing, NULL};
    CHECK_EQ(zm_prim_register(nest_reg, &d1, NULL), ZM_OK);
    CHECK_EQ(zm_prim_register(nest_reg, &d2, NULL), ZM_OK);
    CHECK_EQ(zm_prim_register(nest_reg, &d3, NULL), ZM_OK);
    zm_prim_ctx *ctx = new_ctx();
    char *text;
    size_t len;
    const char req[] = "{\"id\":1,\"primitive\":\"outer\",\"params\":{\"pad\":\"xxxxxxxxxxxx\"}}";
    CHECK_EQ(zm_prim_call_json(nest_reg, ctx, req, sizeof req - 1, &text, &len), ZM_OK);
    CHECK_STR(text, "{\"id\":1,\"ok\":true,\"result\":{\"before\":\"built before the nested "
                    "call\"}}");
    zm_json *res;
    CHECK_EQ(zm_prim_call(nest_reg, ctx, "outer", NULL, &res), ZM_OK);
    CHECK_STR(zm_json_str(zm_json_get(res, "before"), NULL), "built before the nested call");
    const char freq[] = "{\"id\":2,\"primitive\":\"failing\"}";
    CHECK_EQ(zm_prim_call_json(nest_reg, ctx, freq, sizeof freq - 1, &text, &len), ZM_ENOTFOUND);
    CHECK(strstr(text, "\"code\":\"not_found\"") != NULL);
    CHECK(strstr(text, "my own error") != NULL && strstr(text, "\"field\":\"/x\"") != NULL);
    /* Outside a call the context works as before. */
    CHECK_EQ(zm_prim_call(nest_reg, ctx, "inner", NULL, &res), ZM_OK);
    CHECK_STR(zm_json_str(res, NULL), "inner");
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(nest_reg);
}

/* Names and keys in messages: escaped (a NUL does not cut them) and cut to
   ZM__QUOTE_MAX (200) bytes with "..." so that messages stay bounded. */
static void test_quoted_names(void) {
    zm_prim_ctx *ctx = new_ctx();
    expect_error(ctx, "{\"primitive\":\"echo\\u0000x\"}", ZM_ENOTFOUND, "unknown_primitive", NULL,
                 "unknown primitive \"echo\\u0000x\"");
    expect_error(ctx, "{\"primitive\":\"a\\\"b\\n\"}", ZM_ENOTFOUND, "unknown_primitive", NULL,
                 "unknown primitive \"a\\\"b\\u000a\"");
    char req[1024], want[512];
    int n = snprintf(req, sizeof req, "{\"primitive\":\"");
    memset(req + n, 'p', 300);
    snprintf(req + n + 300, sizeof req - (size_t)n - 300, "\"}");
    n = snprintf(want, sizeof want, "unknown primitive \"");
    memset(want + n, 'p', 200);
    snprintf(want + n + 200, sizeof want - (size_t)n - 200, "...\"");
    expect_error(ctx, req, ZM_ENOTFOUND, "unknown_primitive", NULL, want);
    /* Cut at a character boundary: 199 bytes of 'k', then a 2-byte character. */
    n = snprintf(req, sizeof req, "{\"");
    memset(req + n, 'k', 199);
    snprintf(req + n + 199, sizeof req - (size_t)n - 199, "\xc3\xa9zzz\":1}");
    resp r = run(ctx, req);
    const char *m = str_at(r.root, "error", "message");
    CHECK(m != NULL && strstr(m, "kkk...\" (expected id") != NULL);
    CHECK(m != NULL && strstr(m, "\xc3") == NULL);
    resp_free(&r);
    /* A reference with a NUL in it. */
    r = run(ctx, "{\"batch\":[{\"primitive\":\"echo\",\"params\":{\"value\":\"$0\\u0000\"}}]}");
    m = str_at(item(&r, 0), "error", "message");
    CHECK(m != NULL && strstr(m, "reference \"$0\\u0000\"") != NULL);
    resp_free(&r);
    zm_prim_ctx_destroy(ctx);
}

static void test_destroy_null(void) {
    zm_prim_ctx_destroy(NULL);
    zm_prim_registry_destroy(NULL);
}

int main(void) {
    A = zm_default_allocator();
    if (tp_registry_create(&reg, &state) != ZM_OK) return 1;
    RUN(test_response_format);
    RUN(test_parse_error);
    RUN(test_invalid_request);
    RUN(test_unknown_primitive);
    RUN(test_invalid_params);
    RUN(test_primitive_errors);
    RUN(test_errcode_mapping);
    RUN(test_out_of_memory);
    RUN(test_reset_on_every_path);
    RUN(test_retain_limit);
    RUN(test_response_limit);
    RUN(test_limit_not_backing);
    RUN(test_batch);
    RUN(test_batch_reference_syntax);
    RUN(test_batch_keeps_results_across_resets);
    RUN(test_identity_copied);
    RUN(test_clock);
    RUN(test_userdata_and_long_messages);
    RUN(test_stats);
    RUN(test_nested_call_refused);
    RUN(test_quoted_names);
    RUN(test_destroy_null);
    zm_prim_registry_destroy(reg);
    return zt_finish("prim_call");
}
