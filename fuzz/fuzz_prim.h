/* Shared by the fuzz harnesses over the primitive runtime: the built-in
   primitives over one store, and one context whose clock moves one second a
   call, all on one tracking allocator over libc. */
#ifndef ZMEM_FUZZ_PRIM_H
#define ZMEM_FUZZ_PRIM_H

#include "fuzz_common.h"
#include "zmem/prim.h"
#include "zmem/store.h"

typedef struct fz_prim {
    fz_track t;
    zm_allocator a; /* the tracking allocator t */
    zm_store *store;
    zm_prim_registry *reg;
    zm_prim_ctx *ctx;
    int64_t now; /* the clock, in ms */
} fz_prim;

static int64_t fz__prim_clock(void *ctx) {
    int64_t *t = ctx;
    return *t += 1000;
}

/* Sets up p: the tracking allocator, the store, the registry with the
   built-ins, the context (arena blocks of 4 KiB). Any failure is a crash: the
   allocator fails nothing until fz_track_fail_at(&p->t, ...). */
static inline void fz_prim_init(fz_prim *p) {
    zm_allocator a = p->a = fz_track_init(&p->t, zm_c_allocator());
    p->store = NULL;
    p->reg = NULL;
    p->ctx = NULL;
    p->now = 1700000000000;
    FZ_CHECK(zm_store_memory_create(a, NULL, &p->store) == ZM_OK);
    FZ_CHECK(zm_prim_registry_create(a, &p->reg) == ZM_OK);
    FZ_CHECK(zm_prim_register_builtins(p->reg, p->store) == ZM_OK);
    zm_prim_ctx_opts opts = {0};
    opts.longlived = a;
    opts.arena_block_size = 4096;
    opts.clock = fz__prim_clock;
    opts.clock_ctx = &p->now;
    FZ_CHECK(zm_prim_ctx_create(&opts, &p->ctx) == ZM_OK);
}

/* Frees what fz_prim_init made and checks that nothing allocated through
   p->a is left (what names the run in the report). */
static inline void fz_prim_finish(fz_prim *p, const char *what) {
    zm_prim_ctx_destroy(p->ctx);
    zm_prim_registry_destroy(p->reg);
    zm_store_close(p->store);
    fz_track_finish(&p->t, what);
}

#endif
