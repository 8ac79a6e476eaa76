/* Routing SQLite's memory through a zm_allocator: the methods SQLite calls
   (SQLITE_CONFIG_MALLOC), over the allocator given. Each block carries an
   8-byte header with its size, so free and realloc give back the exact
   length and alignment zm_allocator asks for; blocks stay 8-byte aligned,
   as SQLite needs.

   SQLite (built without lookaside) allocates and frees a few small blocks
   for every statement it runs: its cursors, its records. Freed blocks of up
   to CACHE_MAX_BLOCK bytes are kept on a free list per size (CACHE_MAX_BYTES
   in all, under a lock, since SQLite runs in every thread) and handed out
   again, so most of those calls never reach the allocator; the kept blocks
   are given back to it whenever a store closes (zm__sq_alloc_flush). */
#include <sched.h>
#include <stdatomic.h>

#include "sqlite_internal.h"

#define HDR 8

/* The largest block kept for reuse, and how many bytes are kept at most. */
#define CACHE_MAX_BLOCK 512
#define CACHE_MAX_BYTES (64 * 1024)

/* A kept block: its first bytes link it to the next of its size. */
typedef struct kept {
    struct kept *next;
} kept;

/* The kept blocks, one list per size (a multiple of 8). */
static struct {
    atomic_flag lock;
    size_t bytes; /* kept in all, headers included */
    kept *lists[CACHE_MAX_BLOCK / 8 + 1];
} cache = {ATOMIC_FLAG_INIT, 0, {NULL}};

/* Whether freed blocks are kept (zm__sq_alloc_keep). */
static atomic_bool keeping = true;

static void cache_lock(void) {
    while (atomic_flag_test_and_set_explicit(&cache.lock, memory_order_acquire)) sched_yield();
}

static void cache_unlock(void) {
    atomic_flag_clear_explicit(&cache.lock, memory_order_release);
}

/* The allocator SQLite's memory comes from. Written once, before SQLite is
   initialized (sqlite3_config refuses later), read by every thread after. */
static zm_allocator sq_alloc;

/* The block size for a request of n bytes: n rounded up to 8. */
static int sq_roundup(int n) {
    return n <= 0 ? HDR : (n + 7) & ~7;
}

/* Allocates n bytes (after the size header). */
static void *sq_malloc(int n) {
    if (n <= 0 || n > INT32_MAX - 16) return NULL;
    size_t len = (size_t)sq_roundup(n);
    if (len <= CACHE_MAX_BLOCK && atomic_load_explicit(&keeping, memory_order_relaxed)) {
        cache_lock();
        kept *k = cache.lists[len / 8];
        if (k != NULL) {
            cache.lists[len / 8] = k->next;
            cache.bytes -= len + HDR;
        }
        cache_unlock();
        if (k != NULL) return k;
    }
    char *p = zm_alloc(sq_alloc, len + HDR, HDR);
    if (p == NULL) return NULL;
    uint64_t size = len;
    memcpy(p, &size, sizeof size);
    return p + HDR;
}

/* The usable size of a block from sq_malloc. */
static int sq_size(void *p) {
    if (p == NULL) return 0;
    uint64_t size;
    memcpy(&size, (char *)p - HDR, sizeof size);
    return (int)size;
}

/* Gives a block back, with its exact length. */
static void sq_free(void *p) {
    if (p == NULL) return;
    size_t len = (size_t)sq_size(p);
    if (len <= CACHE_MAX_BLOCK && atomic_load_explicit(&keeping, memory_order_relaxed)) {
        bool keep = false;
        cache_lock();
        if (cache.bytes + len + HDR <= CACHE_MAX_BYTES) {
            kept *k = p;
            k->next = cache.lists[len / 8];
            cache.lists[len / 8] = k;
            cache.bytes += len + HDR;
            keep = true;
        }
        cache_unlock();
        if (keep) return;
    }
    zm_free(sq_alloc, (char *)p - HDR, len + HDR, HDR);
}

void zm__sq_alloc_flush(void) {
    kept *lists[CACHE_MAX_BLOCK / 8 + 1];
    cache_lock();
    memcpy(lists, cache.lists, sizeof lists);
    memset(cache.lists, 0, sizeof cache.lists);
    cache.bytes = 0;
    cache_unlock();
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        for (kept *k = lists[i], *next; k != NULL; k = next) {
            next = k->next;
            zm_free(sq_alloc, (char *)k - HDR, i * 8 + HDR, HDR);
        }
    }
}

void zm__sq_alloc_keep(bool on) {
    atomic_store(&keeping, on);
    if (!on) zm__sq_alloc_flush();
}

/* Resizes a block to n bytes, moving it if need be; NULL (the block left as
   it was) when that fails. */
static void *sq_realloc(void *p, int n) {
    if (p == NULL) return sq_malloc(n);
    if (n <= 0 || n > INT32_MAX - 16) return NULL;
    size_t old = (size_t)sq_size(p), len = (size_t)sq_roundup(n);
    char *b = zm_realloc(sq_alloc, (char *)p - HDR, old + HDR, len + HDR, HDR);
    if (b == NULL) return NULL;
    uint64_t size = len;
    memcpy(b, &size, sizeof size);
    return b + HDR;
}

/* Nothing to set up or tear down: the allocator is the caller's. */
static int sq_init(void *ctx) {
    (void)ctx;
    return SQLITE_OK;
}

static void sq_shutdown(void *ctx) {
    (void)ctx;
}

static const sqlite3_mem_methods sq_methods = {
    sq_malloc, sq_free, sq_realloc, sq_size, sq_roundup, sq_init, sq_shutdown, NULL,
};

zm_status zm_sqlite_use_allocator(zm_allocator a) {
    if (a.vtable == NULL) a = zm_default_allocator();
    zm_allocator before = sq_alloc;
    sq_alloc = a;
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &sq_methods) != SQLITE_OK) {
        sq_alloc = before;
        return zm_store_fail(ZM_EBUSY, "SQLite is already in use in this process: its "
                                       "allocator can only be set before");
    }
    /* SQLite's memory statistics take a process-wide mutex and update
       counters on every allocation and free; the allocator is the place to
       count memory now. Accepted whenever the call above was. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return ZM_OK;
}
