/* The built-in primitives through the runtime: every primitive's answers and
   errors, batches composing them, retrieve making no long-lived allocation,
   and every primitive under the failing-allocator sweep. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdlib.h>

#include "counting.h"
#include "test.h"
#include "zmem/prim.h"
#include "zmem/store.h"
#include "zmem/testing.h"
#include "json_text.h"

/* A clock the tests move. */
static int64_t now_ms = 1000;
static int64_t test_clock(void *ctx) {
    (void)ctx;
    return now_ms;
}

/* ---------------------------------------------------------------------------
 * An environment: registry, store, context, all over one allocator.
 * ------------------------------------------------------------------------- */

typedef struct env {
    zm_prim_registry *reg;
    zm_store *store;
    zm_prim_ctx *ctx;
} env;

static zm_status env_init(env *e, zm_allocator a, const char *agent) {
    memset(e, 0, sizeof *e);
    zm_status st = zm_prim_registry_create(a, &e->reg);
    if (st == ZM_OK) st = zm_store_memory_create(a, NULL, &e->store);
    if (st == ZM_OK) st = zm_prim_register_builtins(e->reg, e->store);
    if (st == ZM_OK) {
        zm_prim_ctx_opts o;
        memset(&o, 0, sizeof o);
        o.longlived = a;
        o.clock = test_clock;
        st = zm_prim_ctx_create(&o, &e->ctx);
    }
    if (st == ZM_OK && agent != NULL) st = zm_prim_ctx_set_agent_id(e->ctx, agent, strlen(agent));
    return st;
}

static void env_deinit(env *e) {
    zm_prim_ctx_destroy(e->ctx);
    zm_prim_registry_destroy(e->reg);
    zm_store_close(e->store);
}

/* Sends one request line; returns the parsed response (in the test arena). */
static zm_json *request(env *e, const char *req) {
    char *resp;
    size_t len;
    zm_prim_call_json(e->reg, e->ctx, req, strlen(req), &resp, &len);
    zm_json *v = J(resp);
    return v;
}

/* Calls primitive name with params text; returns the result, or NULL with
   the error in *error (when error is not NULL). */
static zm_json *call(env *e, const char *name, const char *params, zm_json **error) {
    char req[8192];
    snprintf(req, sizeof req, "{\"primitive\":\"%s\",\"params\":%s}", name, params);
    zm_json *resp = request(e, req);
    if (error) *error = zm_json_get(resp, "error");
    if (!zm_json_bool(zm_json_get(resp, "ok"))) {
        if (error == NULL) {
            char *out;
            size_t len;
            zm_json_write(zm_arena_allocator(&ar), resp, 0, &out, &len);
            fprintf(stderr, "  %s %s failed: %s\n", name, params, out);
        }
        return NULL;
    }
    return zm_json_get(resp, "result");
}

/* Calls and expects an error with code and field (NULL = no field). */
static bool call_fails(env *e, const char *name, const char *params, const char *code,
                       const char *field) {
    zm_json *err = NULL;
    zm_json *r = call(e, name, params, &err);
    if (r != NULL || err == NULL) {
        fprintf(stderr, "  %s %s: expected %s\n", name, params, code);
        return false;
    }
    const char *got_code = zm_json_str(zm_json_get(err, "code"), NULL);
    const char *got_field = zm_json_str(zm_json_get(err, "field"), NULL);
    bool ok = got_code && strcmp(got_code, code) == 0 &&
              (field == NULL ? got_field == NULL : got_field && strcmp(got_field, field) == 0);
    if (!ok)
        fprintf(stderr, "  %s %s: got %s at %s (%s), want %s at %s\n", name, params,
                got_code ? got_code : "?", got_field ? got_field : "-",
                zm_json_str(zm_json_get(err, "message"), NULL), code, field ? field : "-");
    return ok;
}

/* Calls and expects an error with code, field (NULL = none) and a message
   containing part. */
static bool call_fails_saying(env *e, const char *name, const char *params, const char *code,
                              const char *field, const char *part) {
    if (!call_fails(e, name, params, code, field)) return false;
    zm_prim_error err;
    zm_prim_last_error(e->ctx, &err);
    if (strstr(err.message, part) != NULL) return true;
    fprintf(stderr, "  %s: message \"%s\" lacks \"%s\"\n", name, err.message, part);
    return false;
}

static int64_t iget(const zm_json *v, const char *name) {
    return zm_json_int(zm_json_get(v, name));
}

/* ---------------------------------------------------------------------------
 * The primitives
 * ------------------------------------------------------------------------- */

static void test_registered(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), NULL), ZM_OK);
    CHECK_EQ(zm_prim_registry_count(e.reg), 13);
    const char *names[] = {"store",        "retrieve",  "search",        "link",
                           "neighbors",    "transform", "forget",        "unlink",
                           "template_put", "render",    "template_list", "template_delete",
                           "memory"};
    for (size_t i = 0; i < 13; i++) {
        zm_prim_info info;
        CHECK_EQ(zm_prim_lookup(e.reg, names[i], strlen(names[i]), &info), ZM_OK);
        CHECK(strlen(info.description) > 40);
        CHECK(info.schema != NULL);
    }
    /* Registering twice is refused. */
    CHECK_EQ(zm_prim_register_builtins(e.reg, e.store), ZM_EEXIST);
    env_deinit(&e);
}

static void test_store_retrieve(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), "agent-7"), ZM_OK);
    now_ms = 1000;
    zm_json *r = call(&e, "store", "{\"key\":\"user/1\",\"value\":{\"name\":\"Ada\"}}", NULL);
    CHECK(is_json(r, "{\"key\":\"user/1\",\"version\":1,\"timestamp\":1000}"));
    now_ms = 2000;
    r = call(&e, "store",
             "{\"key\":\"user/1\",\"value\":{\"name\":\"Ada L.\"},\"metadata\":{\"src\":\"x\"}}",
             NULL);
    CHECK(is_json(r, "{\"key\":\"user/1\",\"version\":2,\"timestamp\":2000}"));

    r = call(&e, "retrieve", "{\"key\":\"user/1\"}", NULL);
    CHECK(is_json(r, "{\"exists\":true,\"key\":\"user/1\",\"value\":{\"name\":\"Ada L.\"},"
                     "\"metadata\":{\"src\":\"x\"},\"version\":2,\"timestamp\":2000,"
                     "\"agent\":\"agent-7\",\"session\":\"\"}"));
    r = call(&e, "retrieve", "{\"key\":\"user/1\",\"as_of\":1500,\"history\":true}", NULL);
    CHECK(is_json(r, "{\"exists\":true,\"key\":\"user/1\",\"value\":{\"name\":\"Ada\"},"
                     "\"metadata\":null,\"version\":1,\"timestamp\":1000,\"agent\":\"agent-7\","
                     "\"session\":\"\",\"history\":[{\"version\":1,\"timestamp\":1000,"
                     "\"agent\":\"agent-7\",\"session\":\"\",\"value\":{\"name\":\"Ada\"}}]}"));
    r = call(&e, "retrieve", "{\"key\":\"user/1\",\"history\":true}", NULL);
    CHECK_EQ(zm_json_len(zm_json_get(r, "history")), 2);
    CHECK_EQ(iget(zm_json_at(zm_json_get(r, "history"), 1), "version"), 2);
    /* Missing: exists false, not an error; as_of before the first version too. */
    r = call(&e, "retrieve", "{\"key\":\"nope\",\"history\":true}", NULL);
    CHECK(is_json(r, "{\"exists\":false,\"key\":\"nope\",\"value\":null,\"metadata\":null,"
                     "\"version\":null,\"timestamp\":null,\"agent\":null,\"session\":null,"
                     "\"history\":[]}"));
    r = call(&e, "retrieve", "{\"key\":\"user/1\",\"as_of\":999}", NULL);
    CHECK(r != NULL && !zm_json_bool(zm_json_get(r, "exists")));

    /* Errors. */
    CHECK(call_fails(&e, "store", "{\"value\":1}", "invalid_params", "/key"));
    CHECK(call_fails(&e, "store", "{\"key\":\"k\"}", "invalid_params", "/value"));
    CHECK(call_fails(&e, "store", "{\"key\":\"\",\"value\":1}", "invalid_params", "/key"));
    CHECK(call_fails(&e, "store", "{\"key\":7,\"value\":1}", "invalid_params", "/key"));
    CHECK(call_fails(&e, "store", "{\"key\":\"k\",\"value\":1,\"metadata\":3}", "invalid_params",
                     "/metadata"));
    CHECK(call_fails(&e, "store", "{\"key\":\"k\",\"value\":1,\"extra\":3}", "invalid_params",
                     "/extra"));
    CHECK(call_fails(&e, "retrieve", "{}", "invalid_params", "/key"));
    CHECK(call_fails(&e, "retrieve", "{\"key\":\"k\",\"as_of\":-5}", "invalid_params", "/as_of"));
    CHECK(call_fails(&e, "retrieve", "{\"key\":\"k\",\"as_of\":1.5}", "invalid_params", "/as_of"));
    CHECK(call_fails_saying(&e, "retrieve", "{\"key\":\"k\",\"as_of\":9223372036854775808}",
                            "invalid_params", "/as_of", "as_of is out of range"));
    CHECK(call_fails_saying(&e, "retrieve", "{\"key\":\"k\",\"as_of\":1e300}", "invalid_params",
                            "/as_of", "as_of is out of range"));
    CHECK(call_fails(&e, "retrieve", "{\"key\":\"k\",\"history\":\"yes\"}", "invalid_params",
                     "/history"));
    env_deinit(&e);
}

/* retrieve with history reads the history under a budget of 16 times the
   response limit: a key whose versions take more memory than that to read
   is refused with limit_exceeded at /history before all of it is read, a
   history whose answer fits the response limit (half of it here, though its
   trees take more than the limit) is answered, and the context goes on serving. On the memory and
   SQLite backends (postgres has its own test of reading one row at a time). */
static void test_history_budget(void) {
    static const char *const backends[] = {"memory", "sqlite"};
    for (int b = 0; b < 2; b++) {
        if (!zm_store_backend_available(backends[b])) continue;
        char dir[] = "/tmp/zmem-history-XXXXXX", path[64];
        CHECK(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/h.db", dir);
        env e;
        memset(&e, 0, sizeof e);
        zm_allocator a = zm_default_allocator();
        zm_store_opts so;
        memset(&so, 0, sizeof so);
        so.alloc = a;
        CHECK_EQ(zm_prim_registry_create(a, &e.reg), ZM_OK);
        CHECK_EQ(zm_store_open(b == 0 ? ":memory:" : path, &so, &e.store), ZM_OK);
        CHECK_EQ(zm_prim_register_builtins(e.reg, e.store), ZM_OK);
        zm_prim_ctx_opts o;
        memset(&o, 0, sizeof o);
        o.longlived = a;
        o.clock = test_clock;
        o.response_limit = 64 << 10;
        CHECK_EQ(zm_prim_ctx_create(&o, &e.ctx), ZM_OK);
        CHECK_EQ(zm_prim_response_limit(e.ctx), 64 << 10);
        /* 2000 versions of 1000 bytes: 2 MB of text to read, twice the
           budget. */
        char params[1200];
        int n = snprintf(params, sizeof params, "{\"key\":\"big\",\"value\":\"");
        memset(params + n, 'v', 1000);
        snprintf(params + n + 1000, sizeof params - (size_t)n - 1000, "\"}");
        for (int i = 0; i < 2000; i++) CHECK(call(&e, "store", params, NULL) != NULL);
        /* 100 versions of an array of 150 small numbers: about 31 KB of
           answer, several times that as parsed trees (more than the
           response limit itself, less than the budget). */
        n = snprintf(params, sizeof params, "{\"key\":\"fits\",\"value\":[1");
        for (int i = 1; i < 150; i++) n += snprintf(params + n, sizeof params - (size_t)n, ",1");
        snprintf(params + n, sizeof params - (size_t)n, "]}");
        for (int i = 0; i < 100; i++) CHECK(call(&e, "store", params, NULL) != NULL);
        zm_json *r = call(&e, "retrieve", "{\"key\":\"fits\",\"history\":true}", NULL);
        CHECK_EQ(zm_json_len(zm_json_get(r, "history")), 100);
        /* The latest version alone fits; the whole history does not. */
        r = call(&e, "retrieve", "{\"key\":\"big\"}", NULL);
        CHECK_EQ(iget(r, "version"), 2000);
        CHECK(call_fails_saying(&e, "retrieve", "{\"key\":\"big\",\"history\":true}",
                                "limit_exceeded", "/history",
                                "reading the key's history takes more than 1048576 bytes"));
        r = call(&e, "retrieve", "{\"key\":\"fits\",\"history\":true}", NULL);
        CHECK_EQ(zm_json_len(zm_json_get(r, "history")), 100);
        CHECK_EQ(zm_arena_used(zm_prim_arena(e.ctx)), 0);
        env_deinit(&e);
        char rm[96];
        snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
        CHECK(system(rm) == 0);
    }
}

static void test_store_limits(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), NULL), ZM_OK);
    char req[8192];
    /* A value nested past the store's depth limit. */
    size_t pos = (size_t)snprintf(req, sizeof req, "{\"key\":\"deep\",\"value\":");
    for (int i = 0; i <= ZM_STORE_DEFAULT_MAX_DEPTH; i++) req[pos++] = '[';
    for (int i = 0; i <= ZM_STORE_DEFAULT_MAX_DEPTH; i++) req[pos++] = ']';
    strcpy(req + pos, "}");
    CHECK(call_fails(&e, "store", req, "limit_exceeded", "/value"));
    zm_json *r = call(&e, "retrieve", "{\"key\":\"deep\"}", NULL);
    CHECK(r != NULL && !zm_json_bool(zm_json_get(r, "exists")));
    /* A key over the schema's maxLength. */
    pos = (size_t)snprintf(req, sizeof req, "{\"key\":\"");
    memset(req + pos, 'k', 1025);
    pos += 1025;
    strcpy(req + pos, "\",\"value\":1}");
    CHECK(call_fails(&e, "store", req, "invalid_params", "/key"));
    env_deinit(&e);
}

/* Each refusal of the store names the part at fault and the rule or limit. */
static void test_store_refusals(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), NULL), ZM_OK);
    char req[8192], nest[600];
    size_t pos = 0;
    for (int i = 0; i <= ZM_STORE_DEFAULT_MAX_DEPTH; i++) nest[pos++] = '[';
    for (int i = 0; i <= ZM_STORE_DEFAULT_MAX_DEPTH; i++) nest[pos++] = ']';
    nest[pos] = '\0';
    snprintf(req, sizeof req, "{\"key\":\"m\",\"value\":1,\"metadata\":{\"d\":%s}}", nest);
    CHECK(call_fails_saying(&e, "store", req, "limit_exceeded", "/metadata",
                            "metadata is nested deeper than the store's limit of 128 levels"));
    snprintf(req, sizeof req, "{\"key\":\"m\",\"value\":%s}", nest);
    CHECK(call_fails_saying(&e, "store", req, "limit_exceeded", "/value",
                            "value is nested deeper than the store's limit of 128 levels"));
    snprintf(req, sizeof req,
             "{\"from\":\"a\",\"to\":\"b\",\"relation\":\"r\",\"metadata\":{\"d\":%s}}", nest);
    CHECK(call_fails_saying(&e, "link", req, "limit_exceeded", "/metadata", "128 levels"));
    /* An agent id that is not UTF-8 is the context's fault, not a parameter's. */
    CHECK_EQ(zm_prim_ctx_set_agent_id(e.ctx, "ag\xff", 3), ZM_OK);
    CHECK(call_fails_saying(&e, "store", "{\"key\":\"k\",\"value\":1}", "invalid_params", NULL,
                            "agent id \"ag?\" is not valid UTF-8"));
    CHECK(call_fails_saying(&e, "link", "{\"from\":\"a\",\"to\":\"b\",\"relation\":\"r\"}",
                            "invalid_params", NULL, "agent id"));
    env_deinit(&e);

    /* A small size limit: the value alone, the metadata alone, both together. */
    zm_store_limits lim = {0, 2000, 0, 0};
    CHECK_EQ(env_init(&e, zm_default_allocator(), NULL), ZM_OK);
    zm_prim_registry_destroy(e.reg);
    zm_store_close(e.store);
    CHECK_EQ(zm_prim_registry_create(zm_default_allocator(), &e.reg), ZM_OK);
    CHECK_EQ(zm_store_memory_create(zm_default_allocator(), &lim, &e.store), ZM_OK);
    CHECK_EQ(zm_prim_register_builtins(e.reg, e.store), ZM_OK);
    char big[1500];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(req, sizeof req, "{\"key\":\"k\",\"value\":\"%s%s\"}", big, big);
    CHECK(call_fails_saying(&e, "store", req, "limit_exceeded", "/value",
                            "value is over the store's size limit of 2000 bytes"));
    snprintf(req, sizeof req, "{\"key\":\"k\",\"value\":1,\"metadata\":{\"a\":\"%s%s\"}}", big,
             big);
    CHECK(call_fails_saying(&e, "store", req, "limit_exceeded", "/metadata",
                            "metadata is over the store's size limit of 2000 bytes"));
    snprintf(req, sizeof req, "{\"key\":\"k\",\"value\":\"%s\",\"metadata\":{\"a\":\"%s\"}}", big,
             big);
    CHECK(call_fails_saying(&e, "store", req, "limit_exceeded", "/metadata",
                            "value and metadata together"));
    env_deinit(&e);
}

static void test_search(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), NULL), ZM_OK);
    CHECK(call(&e, "store", "{\"key\":\"note/a\",\"value\":\"arena allocators reset in bulk\"}",
               NULL));
    CHECK(call(&e, "store",
               "{\"key\":\"note/b\",\"value\":{\"body\":\"arena arena arena: three times\"}}",
               NULL));
    CHECK(call(&e, "store", "{\"key\":\"note/c\",\"value\":[\"pools\", \"free lists\"]}", NULL));
    zm_json *r = call(&e, "search", "{\"query\":\"Arena\",\"mode\":\"token\"}", NULL);
    CHECK_EQ(iget(r, "total"), 2);
    zm_json *res = zm_json_get(r, "results");
    CHECK_EQ(zm_json_len(res), 2);
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(res, 0), "key"), NULL), "note/b");
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(res, 1), "key"), NULL), "note/a");
    CHECK(zm_json_real(zm_json_get(zm_json_at(res, 0), "score")) >
          zm_json_real(zm_json_get(zm_json_at(res, 1), "score")));
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(res, 1), "snippet"), NULL),
              "arena allocators reset in bulk");
    CHECK_EQ(iget(zm_json_at(res, 0), "version"), 1);

    r = call(&e, "search", "{\"query\":\"note/\",\"mode\":\"prefix\",\"limit\":2}", NULL);
    CHECK(is_json(r, "{\"results\":[{\"key\":\"note/a\",\"score\":1.0,\"version\":1},"
                     "{\"key\":\"note/b\",\"score\":1.0,\"version\":1}],\"total\":3}"));
    r = call(&e, "search", "{\"query\":\"free lists\",\"mode\":\"exact\"}", NULL);
    CHECK(is_json(r, "{\"results\":[{\"key\":\"note/c\",\"score\":0.5,\"version\":1,"
                     "\"snippet\":\"free lists\"}],\"total\":1}"));
    r = call(&e, "search", "{\"query\":\"three\",\"mode\":\"substring\"}", NULL);
    CHECK_EQ(iget(r, "total"), 1);
    r = call(&e, "search", "{\"query\":\"zzz\",\"mode\":\"token\"}", NULL);
    CHECK(is_json(r, "{\"results\":[],\"total\":0}"));

    CHECK(call_fails(&e, "search", "{\"query\":\"x\",\"mode\":\"fuzzy\"}", "invalid_params",
                     "/mode"));
    CHECK(call_fails(&e, "search", "{\"query\":\"x\"}", "invalid_params", "/mode"));
    CHECK(call_fails(&e, "search", "{\"mode\":\"token\"}", "invalid_params", "/query"));
    CHECK(call_fails(&e, "search", "{\"query\":\"\",\"mode\":\"token\"}", "invalid_params",
                     "/query"));
    CHECK(call_fails(&e, "search", "{\"query\":\"x\",\"mode\":\"token\",\"limit\":1001}",
                     "invalid_params", "/limit"));
    env_deinit(&e);
}

static void test_graph(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), "g"), ZM_OK);
    now_ms = 5000;
    zm_json *r = call(&e, "link", "{\"from\":\"a\",\"to\":\"b\",\"relation\":\"cites\"}", NULL);
    CHECK(is_json(r, "{\"from\":\"a\",\"to\":\"b\",\"relation\":\"cites\",\"created\":true,"
                     "\"timestamp\":5000}"));
    CHECK(call(&e, "link", "{\"from\":\"b\",\"to\":\"c\",\"relation\":\"cites\"}", NULL));
    CHECK(call(&e, "link", "{\"from\":\"c\",\"to\":\"a\",\"relation\":\"cites\"}", NULL));
    CHECK(call(&e, "link",
               "{\"from\":\"c\",\"to\":\"d\",\"relation\":\"likes\",\"metadata\":{\"w\":1}}",
               NULL));
    r = call(&e, "link", "{\"from\":\"a\",\"to\":\"b\",\"relation\":\"cites\"}", NULL);
    CHECK(r != NULL && !zm_json_bool(zm_json_get(r, "created")));

    r = call(&e, "neighbors", "{\"node\":\"a\",\"direction\":\"out\"}", NULL);
    CHECK(is_json(r,
                  "{\"node\":\"a\",\"nodes\":[{\"node\":\"b\",\"depth\":1,\"direction\":\"out\","
                  "\"edge\":{\"from\":\"a\",\"to\":\"b\",\"relation\":\"cites\",\"metadata\":null,"
                  "\"timestamp\":5000,\"agent\":\"g\"}}],\"count\":1,\"truncated\":false}"));
    /* A cycle: a -> b -> c -> a, each visited once. */
    r = call(&e, "neighbors", "{\"node\":\"a\",\"direction\":\"out\",\"depth\":8}", NULL);
    zm_json *nodes = zm_json_get(r, "nodes");
    CHECK_EQ(zm_json_len(nodes), 3);
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(nodes, 2), "node"), NULL), "d");
    CHECK_EQ(iget(zm_json_at(nodes, 2), "depth"), 3);
    CHECK(is_json(zm_json_get(zm_json_get(zm_json_at(nodes, 2), "edge"), "metadata"), "{\"w\":1}"));
    r = call(&e, "neighbors",
             "{\"node\":\"a\",\"direction\":\"both\",\"depth\":8,\"relation\":\"cites\"}", NULL);
    CHECK_EQ(iget(r, "count"), 2);
    r = call(&e, "neighbors", "{\"node\":\"a\",\"direction\":\"in\",\"depth\":2,\"limit\":1}",
             NULL);
    CHECK_EQ(iget(r, "count"), 1);
    CHECK(zm_json_bool(zm_json_get(r, "truncated")));
    CHECK_STR(zm_json_str(zm_json_get(zm_json_at(zm_json_get(r, "nodes"), 0), "direction"), NULL),
              "in");
    r = call(&e, "neighbors", "{\"node\":\"nobody\",\"direction\":\"in\"}", NULL);
    CHECK(is_json(r, "{\"node\":\"nobody\",\"nodes\":[],\"count\":0,\"truncated\":false}"));

    CHECK(call_fails(&e, "link", "{\"from\":\"a\",\"to\":\"b\"}", "invalid_params", "/relation"));
    CHECK(call_fails(&e, "link", "{\"from\":\"\",\"to\":\"b\",\"relation\":\"r\"}",
                     "invalid_params", "/from"));
    CHECK(call_fails(&e, "neighbors", "{\"node\":\"a\"}", "invalid_params", "/direction"));
    CHECK(call_fails(&e, "neighbors", "{\"node\":\"a\",\"direction\":\"up\"}", "invalid_params",
                     "/direction"));
    CHECK(call_fails(&e, "neighbors", "{\"node\":\"a\",\"direction\":\"in\",\"depth\":9}",
                     "invalid_params", "/depth"));
    CHECK(call_fails(&e, "neighbors", "{\"node\":\"a\",\"direction\":\"in\",\"depth\":0}",
                     "invalid_params", "/depth"));
    env_deinit(&e);
}

static void test_transform(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), NULL), ZM_OK);
    zm_json *r = call(&e, "transform",
                      "{\"operation\":\"pointer\",\"data\":{\"a\":[1,{\"b\":2}]},"
                      "\"options\":{\"pointer\":\"/a/1/b\"}}",
                      NULL);
    CHECK(is_json(r, "2"));
    r = call(&e, "transform",
             "{\"operation\":\"merge_patch\",\"data\":{\"a\":1,\"b\":2},"
             "\"options\":{\"patch\":{\"a\":null,\"c\":3}}}",
             NULL);
    CHECK(is_json(r, "{\"b\":2,\"c\":3}"));
    r = call(&e, "transform",
             "{\"operation\":\"patch\",\"data\":{\"a\":[1]},"
             "\"options\":{\"patch\":[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":2},"
             "{\"op\":\"test\",\"path\":\"/a/1\",\"value\":2}]}}",
             NULL);
    CHECK(is_json(r, "{\"a\":[1,2]}"));
    r = call(&e, "transform",
             "{\"operation\":\"pick\",\"data\":{\"a\":1,\"b\":{\"c\":2,\"d\":3}},"
             "\"options\":{\"fields\":[\"/b/c\"]}}",
             NULL);
    CHECK(is_json(r, "{\"b\":{\"c\":2}}"));
    r = call(&e, "transform",
             "{\"operation\":\"omit\",\"data\":{\"a\":1,\"b\":2},\"options\":{\"fields\":[\"a\"]}}",
             NULL);
    CHECK(is_json(r, "{\"b\":2}"));

    CHECK(call_fails(&e, "transform",
                     "{\"operation\":\"pointer\",\"data\":{},\"options\":{\"pointer\":\"/x\"}}",
                     "not_found", "/options/pointer"));
    CHECK(call_fails(&e, "transform",
                     "{\"operation\":\"pointer\",\"data\":{},\"options\":{\"pointer\":\"x\"}}",
                     "invalid_params", "/options/pointer"));
    CHECK(call_fails(&e, "transform",
                     "{\"operation\":\"patch\",\"data\":{\"a\":1},\"options\":{\"patch\":["
                     "{\"op\":\"remove\",\"path\":\"/a\"},{\"op\":\"remove\",\"path\":\"/a\"}]}}",
                     "invalid_params", "/options/patch/1/path"));
    CHECK(call_fails(&e, "transform",
                     "{\"operation\":\"pick\",\"data\":5,\"options\":{\"fields\":[\"a\"]}}",
                     "invalid_params", "/data"));
    CHECK(call_fails(&e, "transform", "{\"operation\":\"sort\",\"data\":[2,1]}", "invalid_params",
                     "/operation"));
    /* A missing argument is named by its own pointer, options or not. */
    CHECK(call_fails(&e, "transform", "{\"operation\":\"patch\",\"data\":{}}", "invalid_params",
                     "/options/patch"));
    CHECK(call_fails(&e, "transform", "{\"operation\":\"merge_patch\",\"data\":{}}",
                     "invalid_params", "/options/patch"));
    CHECK(call_fails(&e, "transform",
                     "{\"operation\":\"patch\",\"data\":{},\"options\":{\"fields\":[]}}",
                     "invalid_params", "/options/patch"));
    CHECK(call_fails(&e, "transform", "{\"operation\":\"pick\",\"data\":{}}", "invalid_params",
                     "/options/fields"));
    env_deinit(&e);
}

/* A batch composes: store, retrieve, then transform the retrieved value. */
static void test_batch(void) {
    env e;
    CHECK_EQ(env_init(&e, zm_default_allocator(), NULL), ZM_OK);
    zm_json *r = request(
        &e,
        "{\"id\":1,\"batch\":["
        "{\"primitive\":\"store\",\"params\":{\"key\":\"cfg\",\"value\":{\"a\":{\"b\":[1,2]}}}},"
        "{\"primitive\":\"retrieve\",\"params\":{\"key\":\"cfg\"}},"
        "{\"primitive\":\"transform\",\"params\":{\"operation\":\"pointer\","
        "\"data\":\"$1.result.value\",\"options\":{\"pointer\":\"/a/b/1\"}}},"
        "{\"primitive\":\"store\",\"params\":{\"key\":\"copy\",\"value\":\"$1.result.value\"}},"
        "{\"primitive\":\"retrieve\",\"params\":{\"key\":\"copy\"}}]}");
    zm_json *b = zm_json_get(r, "batch");
    CHECK_EQ(zm_json_len(b), 5);
    CHECK(is_json(zm_json_get(zm_json_at(b, 2), "result"), "2"));
    CHECK(is_json(zm_json_get(zm_json_get(zm_json_at(b, 4), "result"), "value"),
                  "{\"a\":{\"b\":[1,2]}}"));
    env_deinit(&e);
}

/* ---------------------------------------------------------------------------
 * After warm-up, retrieve makes no call to the long-lived allocator.
 * ------------------------------------------------------------------------- */

static void test_retrieve_no_longlived_alloc(void) {
    zt_counting c;
    zm_allocator a = zt_counting_init(&c, zm_default_allocator());
    env e;
    CHECK_EQ(env_init(&e, a, "agent"), ZM_OK);
    for (int i = 0; i < 20; i++) {
        now_ms = 1000 + i;
        char p[256];
        snprintf(p, sizeof p,
                 "{\"key\":\"k%d\",\"value\":{\"text\":\"value number %d\",\"list\":[1,2,3]},"
                 "\"metadata\":{\"i\":%d}}",
                 i % 5, i, i);
        CHECK(call(&e, "store", p, NULL) != NULL);
    }
    const char *reqs[] = {
        "{\"id\":1,\"primitive\":\"retrieve\",\"params\":{\"key\":\"k3\"}}",
        "{\"id\":2,\"primitive\":\"retrieve\",\"params\":{\"key\":\"k3\",\"history\":true}}",
        "{\"id\":3,\"primitive\":\"retrieve\",\"params\":{\"key\":\"k1\",\"as_of\":1005}}",
        "{\"id\":4,\"primitive\":\"retrieve\",\"params\":{\"key\":\"missing\"}}",
    };
    char *resp;
    size_t len;
    for (int round = 0; round < 3; round++) /* warm-up */
        for (size_t i = 0; i < 4; i++)
            zm_prim_call_json(e.reg, e.ctx, reqs[i], strlen(reqs[i]), &resp, &len);
    size_t before = zt_counting_calls(&c);
    int n = zt_small() ? 500 : 10000;
    for (int i = 0; i < n; i++) {
        const char *req = reqs[i % 4];
        CHECK_EQ(zm_prim_call_json(e.reg, e.ctx, req, strlen(req), &resp, &len), ZM_OK);
    }
    CHECK_EQ(zt_counting_calls(&c), before);
    CHECK(strstr(resp, "\"exists\":false") != NULL);
    /* Also through zm_prim_call with a value. */
    zm_json *params = J("{\"key\":\"k2\",\"history\":true}");
    zm_json *result;
    CHECK_EQ(zm_prim_call(e.reg, e.ctx, "retrieve", params, &result), ZM_OK);
    before = zt_counting_calls(&c);
    for (int i = 0; i < n; i++)
        CHECK_EQ(zm_prim_call(e.reg, e.ctx, "retrieve", params, &result), ZM_OK);
    CHECK_EQ(zt_counting_calls(&c), before);
    CHECK_EQ(zm_json_len(zm_json_get(result, "history")), 4);
    env_deinit(&e);
}

/* ---------------------------------------------------------------------------
 * The sweep: every allocation of every primitive's call (the set-up
 * included) fails in turn; each failure is an out_of_memory status, leaks
 * nothing, and a failed store or link leaves the store as it was.
 * ------------------------------------------------------------------------- */

static bool sweep_wrong;

typedef struct sweep_case {
    const char *name;
    const char *params;
} sweep_case;

/* What retrieve, search and neighbors see, as text (default allocator). */
static zm_status snapshot(env *e, char *buf, size_t size) {
    static const char *reads[] = {
        "{\"primitive\":\"retrieve\",\"params\":{\"key\":\"k\",\"history\":true}}",
        "{\"primitive\":\"retrieve\",\"params\":{\"key\":\"new\",\"history\":true}}",
        "{\"primitive\":\"search\",\"params\":{\"query\":\"alpha beta new\",\"mode\":\"token\"}}",
        "{\"primitive\":\"neighbors\",\"params\":{\"node\":\"a\",\"direction\":\"both\",\"depth\":"
        "3}}",
    };
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < 4; i++) {
        char *resp;
        size_t len;
        zm_status st = zm_prim_call_json(e->reg, e->ctx, reads[i], strlen(reads[i]), &resp, &len);
        if (st != ZM_OK) return st;
        pos += (size_t)snprintf(buf + pos, size - pos, "%s\n", resp);
    }
    return ZM_OK;
}

static zm_status sweep_call(zm_allocator a, void *arg) {
    const sweep_case *c = arg;
    env e;
    zm_status st = env_init(&e, a, "sweeper");
    zm_json *params = NULL;
    if (st == ZM_OK) {
        /* Some data to work on. */
        static const char *setup[] = {
            "{\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":{\"t\":\"alpha beta\"}}}",
            "{\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":[\"beta\",1]}}",
            "{\"primitive\":\"link\",\"params\":{\"from\":\"a\",\"to\":\"b\",\"relation\":\"r\"}}",
        };
        for (size_t i = 0; i < 3 && st == ZM_OK; i++) {
            char *resp;
            size_t len;
            st = zm_prim_call_json(e.reg, e.ctx, setup[i], strlen(setup[i]), &resp, &len);
        }
    }
    if (st == ZM_OK) {
        zm_json_parse_arena(&ar, c->params, strlen(c->params), NULL, &params, NULL);
        char before[4096], after[4096];
        /* The reads allocate too (the first ones grow the arena): a failure
           there is reported like any other. */
        st = snapshot(&e, before, sizeof before);
        zm_json *result = NULL;
        bool called = st == ZM_OK;
        if (called) st = zm_prim_call(e.reg, e.ctx, c->name, params, &result);
        if (called && st != ZM_OK) {
            zm_prim_error err;
            zm_prim_last_error(e.ctx, &err);
            if (st == ZM_ENOMEM && err.code != ZM_PRIM_OUT_OF_MEMORY) sweep_wrong = true;
            if (snapshot(&e, after, sizeof after) == ZM_OK && strcmp(before, after) != 0) {
                fprintf(stderr, "%s changed the store although it failed:\n%s---\n%s", c->name,
                        before, after);
                sweep_wrong = true;
            }
        }
    }
    env_deinit(&e);
    return st;
}

static void test_sweep(void) {
    static const sweep_case cases[] = {
        {"store", "{\"key\":\"new\",\"value\":{\"x\":[\"new words\",2]},\"metadata\":{\"m\":1}}"},
        {"store", "{\"key\":\"k\",\"value\":\"alpha gamma\"}"},
        {"retrieve", "{\"key\":\"k\",\"history\":true}"},
        {"retrieve", "{\"key\":\"k\",\"as_of\":0}"},
        {"search", "{\"query\":\"beta\",\"mode\":\"token\"}"},
        {"search", "{\"query\":\"alp\",\"mode\":\"substring\"}"},
        {"link", "{\"from\":\"b\",\"to\":\"c\",\"relation\":\"s\",\"metadata\":{\"w\":[1]}}"},
        {"neighbors", "{\"node\":\"a\",\"direction\":\"both\",\"depth\":2}"},
        {"transform", "{\"operation\":\"patch\",\"data\":{\"a\":[1]},\"options\":{\"patch\":["
                      "{\"op\":\"add\",\"path\":\"/a/-\",\"value\":2},"
                      "{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]}}"},
        {"transform", "{\"operation\":\"merge_patch\",\"data\":{\"a\":{\"b\":1}},"
                      "\"options\":{\"patch\":{\"a\":{\"c\":2}}}}"},
        {"transform", "{\"operation\":\"pick\",\"data\":{\"a\":{\"b\":1,\"c\":2}},"
                      "\"options\":{\"fields\":[\"/a/b\"]}}"},
        {"transform", "{\"operation\":\"omit\",\"data\":{\"a\":{\"b\":1,\"c\":2}},"
                      "\"options\":{\"fields\":[\"/a/b\"]}}"},
        {"transform", "{\"operation\":\"pointer\",\"data\":{\"a\":{\"b\":1}},"
                      "\"options\":{\"pointer\":\"/a/b\"}}"},
    };
    /* Set-up and call together, every allocation (arena requests too)
       failing in turn; tests/prim/test_sweep_builtins.c sweeps each call
       alone on a context set up once. */
    static const zm_sweep_options every = {.skip_arenas = false};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sweep_wrong = false;
        zm_sweep_report r;
        if (zm_check_allocation_failures(zm_default_allocator(), sweep_call, (void *)&cases[i],
                                         &every, &r) != ZM_OK) {
            fprintf(stderr, "%s\n  sweep of %s %s\n", r.message, cases[i].name, cases[i].params);
            CHECK(false);
        }
        CHECK(!sweep_wrong);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
}

int main(void) {
    zm_arena_init(&ar, zm_default_allocator());
    RUN(test_registered);
    RUN(test_store_retrieve);
    RUN(test_history_budget);
    RUN(test_store_limits);
    RUN(test_store_refusals);
    RUN(test_search);
    RUN(test_graph);
    RUN(test_transform);
    RUN(test_batch);
    RUN(test_retrieve_no_longlived_alloc);
    RUN(test_sweep);
    zm_arena_deinit(&ar);
    return zt_finish("builtins");
}
