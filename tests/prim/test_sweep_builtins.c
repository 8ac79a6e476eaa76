/* The built-in primitives under the every-failure sweep, one call at a time
   on a registry, store and context set up once (zm_prim_sweep_request), with
   every allocation of the call failing in turn: those of the per-call arena
   and the JSON pool as well as the long-lived ones. Each sweep prints its
   failure points, and how many a sweep of the arenas' blocks only (as before
   arena requests counted) finds on the same call.

   Run with "reads" (retrieve, search, neighbors, transform and link) or
   "stores" (store). Only the public API is used: zm_prim_register_builtins
   and zm_prim_call_json, through zm_prim_sweep_request.

   "stores" found a defect when arena requests began to count: with an
   allocation of the store's scratch arena failing in zm__st_index_prepare
   (the new_ids array), new_post was left with its entries unset and
   zm__st_index_abort freed what they happened to hold (fixed).

   A limit of the fixture: a change the call makes to the state without a
   block of its own (in an arena the store holds already) is not seen as a
   leak; tests/prim/test_builtins.c compares the store before and after a
   failed call for that. */
#include "test.h"
#include "zmem/prim.h"
#include "zmem/store.h"

/* The store, made and destroyed here only. */
static zm_status store_open(zm_allocator a, zm_store **out) {
    return zm_store_memory_create(a, NULL, out);
}

static void store_close(zm_store *s) {
    zm_store_close(s);
}

static int64_t fixed_clock(void *ctx) {
    (void)ctx;
    return 1700000000000;
}

typedef struct world {
    zm_sweep_fixture fx;
    zm_prim_registry *reg;
    zm_store *store;
    zm_prim_ctx *ctx;
} world;

/* Some data to work on, stored once: not swept. */
static const char *const setup[] = {
    "{\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":{\"t\":\"alpha beta\"}}}",
    "{\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":[\"beta\",1]}}",
    "{\"primitive\":\"store\",\"params\":{\"key\":\"notes/1\",\"value\":\"gamma delta beta\","
    "\"metadata\":{\"m\":1}}}",
    "{\"primitive\":\"link\",\"params\":{\"from\":\"a\",\"to\":\"b\",\"relation\":\"r\"}}",
    "{\"primitive\":\"link\",\"params\":{\"from\":\"b\",\"to\":\"c\",\"relation\":\"s\"}}",
};

static bool world_init(world *w) {
    memset(w, 0, sizeof *w);
    zm_sweep_fixture_init(&w->fx, zm_default_allocator());
    zm_allocator a = zm_sweep_fixture_allocator(&w->fx);
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = a;
    o.clock = fixed_clock;
    if (zm_prim_registry_create(a, &w->reg) != ZM_OK || store_open(a, &w->store) != ZM_OK ||
        zm_prim_register_builtins(w->reg, w->store) != ZM_OK ||
        zm_prim_ctx_create(&o, &w->ctx) != ZM_OK ||
        zm_prim_ctx_set_agent_id(w->ctx, "sweeper", 7) != ZM_OK)
        return false;
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++) {
        char *resp;
        size_t len;
        if (zm_prim_call_json(w->reg, w->ctx, setup[i], strlen(setup[i]), &resp, &len) != ZM_OK)
            return false;
    }
    return true;
}

static size_t world_deinit(world *w) {
    zm_prim_ctx_destroy(w->ctx);
    zm_prim_registry_destroy(w->reg);
    store_close(w->store);
    return zm_sweep_fixture_deinit(&w->fx);
}

typedef struct sweep_case {
    const char *primitive;
    const char *params;
} sweep_case;

static const sweep_case reads[] = {
    {"retrieve", "{\"key\":\"k\"}"},
    {"retrieve", "{\"key\":\"k\",\"history\":true}"},
    {"retrieve", "{\"key\":\"missing\"}"},
    {"search", "{\"query\":\"beta\",\"mode\":\"token\"}"},
    {"search", "{\"query\":\"alp\",\"mode\":\"substring\"}"},
    {"search", "{\"query\":\"notes/\",\"mode\":\"prefix\"}"},
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
    {"link", "{\"from\":\"b\",\"to\":\"d\",\"relation\":\"s\",\"metadata\":{\"w\":[1]}}"},
    {"link", "{\"from\":\"a\",\"to\":\"b\",\"relation\":\"r\",\"metadata\":{\"w\":2}}"},
};

static const sweep_case stores[] = {
    {"store", "{\"key\":\"new\",\"value\":{\"x\":[\"new words\",2]},\"metadata\":{\"m\":1}}"},
    {"store", "{\"key\":\"k\",\"value\":\"alpha gamma\"}"},
};

/* Sweeps each case on one world; prints the failure points. */
static void sweep_cases(const sweep_case *cases, size_t n) {
    world w;
    CHECK(world_init(&w));
    for (size_t i = 0; i < n; i++) {
        char req[1024];
        snprintf(req, sizeof req, "{\"id\":%zu,\"primitive\":\"%s\",\"params\":%s}", i,
                 cases[i].primitive, cases[i].params);
        zm_sweep_options blocks_only = {.skip_arenas = true};
        zm_sweep_report before, r;
        zm_status st0 =
            zm_prim_sweep_request(&w.fx, w.reg, w.ctx, req, strlen(req), &blocks_only, &before);
        zm_status st = zm_prim_sweep_request(&w.fx, w.reg, w.ctx, req, strlen(req), NULL, &r);
        CHECK_EQ(st0, ZM_OK);
        CHECK_EQ(st, ZM_OK);
        if (st0 != ZM_OK)
            fprintf(stderr, "%s %s, blocks only:\n%s\n", cases[i].primitive, cases[i].params,
                    before.message);
        if (st != ZM_OK)
            fprintf(stderr, "%s %s:\n%s\n", cases[i].primitive, cases[i].params, r.message);
        else
            fprintf(stderr, "%-9s %-62.62s %4zu failure points (%zu arena/pool), %zu before\n",
                    cases[i].primitive, cases[i].params, r.alloc_count, r.arena_alloc_count,
                    before.alloc_count);
    }
    CHECK_EQ(world_deinit(&w), 0);
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "reads";
    if (strcmp(which, "stores") == 0)
        sweep_cases(stores, sizeof stores / sizeof stores[0]);
    else
        sweep_cases(reads, sizeof reads / sizeof reads[0]);
    return zt_finish(which);
}
