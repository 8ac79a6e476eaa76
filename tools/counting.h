/* A counting allocator for the zmem program's statistics: wraps another
   allocator and counts calls and bytes. Not thread-safe. */
#ifndef ZMEM_TOOLS_COUNTING_H
#define ZMEM_TOOLS_COUNTING_H

#include "zmem/allocator.h"

typedef struct zt_counting {
    zm_allocator inner;
    size_t allocs, frees, resizes, remaps, failures;
    size_t live, peak;
} zt_counting;

/* Makes c count over inner and returns its allocator view (valid while c lives). */
zm_allocator zt_counting_init(zt_counting *c, zm_allocator inner);

/* The number of calls made to the allocator (alloc, resize, remap, free). */
size_t zt_counting_calls(const zt_counting *c);

#endif
