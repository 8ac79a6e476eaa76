/* What a program that embeds the runtime leans on: zm_prim_param_int (every
   integer the schema's "integer" accepts reads as its value or as an
   invalid_params error naming it, never as a silent 0) and a registry that
   owns its primitives' userdata (zm_prim_register_with), and the
   long-lived allocator's counts in zm_prim_ctx_stats. */
#include "test.h"
#include "zmem/prim.h"

/* n: {"n": integer?} -> n (7 when absent). */
static zm_status prim_n(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    int64_t n = 7;
    zm_status st = zm_prim_param_int(ctx, params, "n", &n);
    if (st != ZM_OK) return st;
    *result = zm_json_new_int(zm_prim_alloc(ctx), n);
    return *result ? ZM_OK : ZM_ENOMEM;
}

static void test_param_int(void) {
    zm_prim_registry *reg = NULL;
    zm_prim_ctx *ctx = NULL;
    static const zm_prim_def def = {
        "n", "", "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}", prim_n,
        NULL};
    CHECK_EQ(zm_prim_registry_create(zm_default_allocator(), &reg), ZM_OK);
    CHECK_EQ(zm_prim_register(reg, &def, NULL), ZM_OK);
    CHECK_EQ(zm_prim_ctx_create(NULL, &ctx), ZM_OK);
    static const struct {
        const char *n, *response;
    } cases[] = {
        {"42", "{\"id\":null,\"ok\":true,\"result\":42}"},
        {"1e2", "{\"id\":null,\"ok\":true,\"result\":100}"},
        {"80.0", "{\"id\":null,\"ok\":true,\"result\":80}"},
        {"-9223372036854775808", "{\"id\":null,\"ok\":true,\"result\":-9223372036854775808}"},
        {"99999999999999999999999",
         "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"invalid_params\",\"message\":\"n is out "
         "of range (a 64-bit signed integer: -2^63 to 2^63-1)\",\"field\":\"/n\"}}"},
        {"1e30", "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"invalid_params\",\"message\":"
                 "\"n is out of range (a 64-bit signed integer: -2^63 to 2^63-1)\",\"field\":"
                 "\"/n\"}}"},
        {NULL, "{\"id\":null,\"ok\":true,\"result\":7}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[256];
        if (cases[i].n)
            snprintf(req, sizeof req, "{\"primitive\":\"n\",\"params\":{\"n\":%s}}", cases[i].n);
        else
            snprintf(req, sizeof req, "{\"primitive\":\"n\"}");
        char *resp;
        size_t len;
        zm_prim_call_json(reg, ctx, req, strlen(req), &resp, &len);
        CHECK_STR(resp, cases[i].response);
    }
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
}

/* Userdata the registry frees: a counter of the frees, in order. */
typedef struct owned {
    int id;
    int *log;
    int *logged;
} owned;

static void free_owned(void *userdata) {
    owned *o = userdata;
    o->log[(*o->logged)++] = o->id;
    zm_free(zm_default_allocator(), o, sizeof *o, _Alignof(owned));
}

static void test_userdata_destructor(void) {
    int log[4] = {0}, logged = 0;
    zm_prim_registry *reg = NULL;
    CHECK_EQ(zm_prim_registry_create(zm_default_allocator(), &reg), ZM_OK);
    static const char *const names[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        owned *o = zm_create(zm_default_allocator(), owned);
        CHECK(o != NULL);
        *o = (owned){i + 1, log, &logged};
        zm_prim_def d = {names[i], "", NULL, prim_n, o};
        CHECK_EQ(zm_prim_register_with(reg, &d, free_owned, NULL), ZM_OK);
    }
    /* A refused registration leaves the userdata with the caller. */
    owned kept = {9, log, &logged};
    zm_prim_def dup = {"a", "", NULL, prim_n, &kept};
    CHECK_EQ(zm_prim_register_with(reg, &dup, free_owned, NULL), ZM_EEXIST);
    zm_prim_def plain = {"d", "", NULL, prim_n, &kept}; /* not owned */
    CHECK_EQ(zm_prim_register(reg, &plain, NULL), ZM_OK);
    CHECK_EQ(logged, 0);
    zm_prim_registry_destroy(reg);
    CHECK_EQ(logged, 3);
    CHECK(log[0] == 3 && log[1] == 2 && log[2] == 1); /* the latest first */
}

/* zm_prim_ctx_stats counts what the context takes from the long-lived
   allocator, and what a primitive takes through zm_prim_longlived. */
static zm_status prim_keep(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)params, (void)result;
    static void *kept;
    zm_allocator ll = zm_prim_longlived(ctx);
    if (kept == NULL) {
        kept = zm_alloc(ll, 1000, 8);
        return kept ? ZM_OK : ZM_ENOMEM;
    }
    zm_free(ll, kept, 1000, 8);
    kept = NULL;
    return ZM_OK;
}

static void test_longlived_counts(void) {
    zm_prim_registry *reg = NULL;
    zm_prim_ctx *ctx = NULL;
    static const zm_prim_def def = {"keep", "", NULL, prim_keep, NULL};
    CHECK_EQ(zm_prim_registry_create(zm_default_allocator(), &reg), ZM_OK);
    CHECK_EQ(zm_prim_register(reg, &def, NULL), ZM_OK);
    CHECK_EQ(zm_prim_ctx_create(NULL, &ctx), ZM_OK);
    zm_prim_stats s0, s1, s2;
    zm_prim_ctx_stats(ctx, &s0);
    CHECK(s0.longlived.allocs > 0 && s0.longlived.active_bytes > 0); /* its buffers */
    static const char req[] = "{\"primitive\":\"keep\"}";
    char *resp;
    size_t len;
    CHECK_EQ(zm_prim_call_json(reg, ctx, req, sizeof req - 1, &resp, &len), ZM_OK);
    zm_prim_ctx_stats(ctx, &s1);
    CHECK(s1.longlived.active_bytes >= s0.longlived.active_bytes + 1000);
    CHECK_EQ(zm_prim_call_json(reg, ctx, req, sizeof req - 1, &resp, &len), ZM_OK);
    zm_prim_ctx_stats(ctx, &s2);
    CHECK_EQ(s2.longlived.active_bytes, s1.longlived.active_bytes - 1000);
    CHECK(s2.longlived.frees > s1.longlived.frees);
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
}

int main(void) {
    RUN(test_param_int);
    RUN(test_longlived_counts);
    RUN(test_userdata_destructor);
    return zt_finish("prim_params");
}
