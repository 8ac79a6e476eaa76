/* The zmem program's environment: the long-lived allocator (counted), the
   registry with the built-in primitives, their store and one context. */
#ifndef ZMEM_TOOLS_ENV_H
#define ZMEM_TOOLS_ENV_H

#include <stdio.h>

#include "counting.h"
#include "zmem/prim.h"

typedef struct zt_env {
    zt_counting counting;
    zm_allocator a; /* the counted long-lived allocator */
    zm_prim_registry *reg;
    zm_prim_ctx *ctx;
    void *store; /* the built-ins' store, when they are built in */
} zt_env;

/* Sets up e: registry, built-ins, context. On failure prints why to stderr
   (prefixed with prog) and returns false with nothing left allocated. */
bool zt_env_init(zt_env *e, const char *prog);

/* Frees everything zt_env_init made. */
void zt_env_deinit(zt_env *e);

/* Writes the memory statistics of e to f (one "prog: ..." line per topic). */
void zt_env_print_stats(zt_env *e, FILE *f, const char *prog, double seconds, uint64_t requests);

#endif
