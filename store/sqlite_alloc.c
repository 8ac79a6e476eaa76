/* Routing SQLite's memory through a zm_allocator: the methods SQLite calls
   (SQLITE_CONFIG_MALLOC), over the allocator given. Each block carries an
   8-byte header with its size, so free and realloc give back the exact
   length and alignment zm_allocator asks for; blocks stay 8-byte aligned,
   as SQLite needs. */
#include "sqlite_internal.h"

#define HDR 8

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
    zm_free(sq_alloc, (char *)p - HDR, (size_t)sq_size(p) + HDR, HDR);
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
