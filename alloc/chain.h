/* How an arena or a pool finds the zm_failing under it (count_arenas): the
   walk down the allocators zmem knows. Private to alloc/. */
#ifndef ZMEM_ALLOC_CHAIN_H
#define ZMEM_ALLOC_CHAIN_H

#include "zmem/failing.h"

/* The vtables of zmem's own allocators that pass requests on to another. */
extern const zm_allocator_vtable zm__failing_vtable;
extern const zm_allocator_vtable zm__locked_vtable;
extern const zm_allocator_vtable zm__stats_shared_vtable;
extern const zm_allocator_vtable zm__stats_single_vtable;
extern const zm_allocator_vtable zm__debug_vtable;
extern const zm_allocator_vtable zm__arena_vtable;
extern const zm_allocator_vtable zm__pool_vtable;
extern const zm_allocator_vtable zm__heap_list_vtable;
extern const zm_allocator_vtable zm__stack_fallback_vtable;

/* True when a is a zm_failing with count_arenas set, or reaches one through
   zmem's wrappers: then an arena or pool over a counts every request there. */
bool zm__chain_counts(zm_allocator a);

/* Counts one request of an arena or pool over a (site says which) at the
   zm_failing a reaches, as an alloc attempt of len bytes or, when resize is
   true, a resize/remap attempt to len bytes; ra is where it was made. Takes
   the locks of the wrappers on the way. Returns false when that attempt is
   the one to fail, true otherwise (and when a reaches no such zm_failing). */
bool zm__chain_attempt(zm_allocator a, zm_failing_site site, bool resize, size_t len, uintptr_t ra);

#endif
