/* The allocator contract (include/zmem/allocator.h), as one suite that every
   allocator runs: sizes 1 B to 1 MiB at alignments 1 to 4096 with patterns
   written and read back, resize and remap semantics, zero-length requests,
   n * size overflow, invalid alignments, contents kept across zm_realloc,
   random churn, and (where promised) that freed memory is reused. */
#ifndef ZMEM_TEST_CONTRACT_H
#define ZMEM_TEST_CONTRACT_H

#include "zmem/allocator.h"

/* What an allocator promises beyond the common contract. */
enum {
    /* Freed memory is reused whatever the order of frees: a churn through far
       more bytes than the peak resident set may grow by leaves it bounded. */
    ZC_FREES_REUSE = 1u << 0,
    /* Freeing the latest block gives it back at once: allocating the same
       length and alignment again returns the same address. */
    ZC_LIFO_REUSE = 1u << 1,
    /* Serves exactly one length (the maximum block size) and fails all others
       (a pool's allocator view). */
    ZC_ONE_SIZE = 1u << 2,
};
/* Blocks up to 2^n bytes (without it: 1 MiB, the suite's largest). */
#define ZC_MAX_SIZE_LOG2(n) ((((unsigned)(n) + 1) & 0xffu) << 8)
/* Alignments up to 2^n (without it: 4096, the suite's largest). */
#define ZC_MAX_ALIGN_LOG2(n) ((((unsigned)(n) + 1) & 0xffu) << 16)

/* Runs the contract against a, naming it `name` in failure messages (and
   printing one summary line). Frees everything it allocates. Returns the
   number of failed checks: 0 when a keeps the contract. */
int run_contract(const char *name, zm_allocator a, unsigned caps);

/* Checks made by every run_contract so far. */
int contract_checks(void);

#endif
