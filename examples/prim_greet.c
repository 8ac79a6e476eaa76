/* A primitive in C: register it with an input schema, call it with JSON text,
   read the response; checks every response and exits 1 when one is wrong.
   With --sweep, put it under the every-failure sweep instead: every
   allocation of a call (the per-call arena's included) fails in turn, and
   each run must answer out_of_memory and leave nothing behind.
   Build: cc prim_greet.c $(pkg-config --cflags --libs zmem) */
#include <stdio.h>
#include <string.h>

#include "zmem.h"

/* {"name": string} -> {"hello": name}, built in the per-call arena. */
static zm_status greet(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    size_t n;
    const char *who = zm_json_str(zm_json_get(params, "name"), &n);
    zm_allocator a = zm_prim_alloc(ctx);
    zm_json *o = zm_json_new_object(a, 1);
    zm_status st = zm_json_object_add_str(a, o, "hello", who, n); /* ZM_ENOMEM if o is NULL */
    if (st != ZM_OK) return st;
    *result = o; /* dies at the reset after the call */
    return ZM_OK;
}

static const zm_prim_def def = {"greet", "Says hello.",
                                "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":"
                                "\"string\",\"minLength\":1}},\"required\":[\"name\"]}",
                                greet, NULL};

/* The registry and context made once over a sweep fixture, then each request
   swept on them: the failure points are the call's own. */
static int sweep(void) {
    zm_sweep_fixture fx;
    zm_sweep_fixture_init(&fx, zm_default_allocator());
    zm_prim_ctx_opts opts = {.longlived = zm_sweep_fixture_allocator(&fx)};
    zm_prim_registry *reg = NULL;
    zm_prim_ctx *ctx = NULL;
    int failed = 0;
    if (zm_prim_registry_create(opts.longlived, &reg) != ZM_OK ||
        zm_prim_register(reg, &def, NULL) != ZM_OK || zm_prim_ctx_create(&opts, &ctx) != ZM_OK)
        failed = 1;
    const char *requests[] = {
        "{\"id\":1,\"primitive\":\"greet\",\"params\":{\"name\":\"Ada\"}}",
        ("{\"id\":3,\"batch\":[{\"primitive\":\"greet\",\"params\":{\"name\":\"Grace\"}},"
         "{\"primitive\":\"greet\",\"params\":{\"name\":\"$0.result.hello\"}}]}"),
    };
    for (size_t i = 0; !failed && i < sizeof requests / sizeof requests[0]; i++) {
        zm_sweep_report r;
        if (zm_prim_sweep_request(&fx, reg, ctx, requests[i], strlen(requests[i]), NULL, &r) !=
            ZM_OK) {
            fprintf(stderr, "%s\n", r.message); /* says which allocation failed, and how */
            failed = 1;
        } else {
            printf("%s: %zu failure points (%zu in arenas and pools), all clean\n", requests[i],
                   r.alloc_count, r.arena_alloc_count);
        }
    }
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
    if (zm_sweep_fixture_deinit(&fx) != 0) failed = 1; /* anything left is a leak */
    return failed;
}

static int wrong; /* results that were not what they should be */

static void expect(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "prim_greet: wrong: %s\n", what);
        wrong++;
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--sweep") == 0) return sweep();
    zm_prim_registry *reg = NULL;
    zm_prim_ctx *ctx = NULL;
    zm_json_error err;
    if (zm_prim_registry_create(zm_default_allocator(), &reg) != ZM_OK ||
        zm_prim_register(reg, &def, &err) != ZM_OK || zm_prim_ctx_create(NULL, &ctx) != ZM_OK)
        return 1;
    static const struct {
        const char *request, *response;
    } calls[] = {
        {"{\"id\":1,\"primitive\":\"greet\",\"params\":{\"name\":\"Ada\"}}",
         "{\"id\":1,\"ok\":true,\"result\":{\"hello\":\"Ada\"}}"},
        /* the schema refuses an empty name before greet runs */
        {"{\"id\":2,\"primitive\":\"greet\",\"params\":{\"name\":\"\"}}",
         "{\"id\":2,\"ok\":false,\"error\":{\"code\":\"invalid_params\",\"message\":\"/name: "
         "minLength: expected at least 1 character, found 0\",\"field\":\"/name\"}}"},
        /* a batch: the second call reads the first one's result */
        {"{\"id\":3,\"batch\":[{\"primitive\":\"greet\",\"params\":{\"name\":\"Grace\"}},"
         "{\"primitive\":\"greet\",\"params\":{\"name\":\"$0.result.hello\"}}]}",
         "{\"id\":3,\"ok\":true,\"batch\":[{\"ok\":true,\"result\":{\"hello\":\"Grace\"}},"
         "{\"ok\":true,\"result\":{\"hello\":\"Grace\"}}]}"},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        char *resp; /* owned by ctx, valid until the next call */
        size_t len;
        zm_prim_call_json(reg, ctx, calls[i].request, strlen(calls[i].request), &resp, &len);
        printf("%s\n-> %s\n", calls[i].request, resp);
        expect(len == strlen(calls[i].response) && strcmp(resp, calls[i].response) == 0,
               calls[i].response);
    }
    zm_prim_stats st;
    zm_prim_ctx_stats(ctx, &st);
    printf("%llu calls, %llu errors, peak %zu arena bytes per call\n", (unsigned long long)st.calls,
           (unsigned long long)st.errors, st.peak_call_bytes);
    expect(st.calls == 4 && st.errors == 1, "the context's call and error counts");
    expect(st.peak_call_bytes > 0, "the per-call arena's peak");
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
    return wrong ? 1 : 0;
}
