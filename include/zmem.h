/* zmem — the umbrella header: includes every public module. */
#ifndef ZMEM_H
#define ZMEM_H

#include "zmem/status.h"
#include "zmem/allocator.h"
#include "zmem/arena.h"
#include "zmem/heap.h"
#include "zmem/fixed_buffer.h"
#include "zmem/stack_fallback.h"
#include "zmem/pool.h"
#include "zmem/locked.h"
#include "zmem/array.h"
#include "zmem/buf.h"
#include "zmem/map.h"
#include "zmem/failing.h"
#include "zmem/debug.h"
#include "zmem/testing.h"
#include "zmem/stats.h"
#include "zmem/adapt.h"
#include "zmem/json.h"
#include "zmem/template.h"
#include "zmem/prim.h"
#include "zmem/store.h"
#include "zmem/transform.h"
#include "zmem/memory.h"

#endif
