/* A checking allocator for the JSON tests: it records every live block and
   verifies that free, resize and remap receive the exact length and
   alignment the block was allocated with (what a pool relies on), counts
   live bytes, and can fail the Nth allocation or refuse every remap. The
   sweeps go through zm_check_allocation_failures (include/zmem/testing.h). */
#ifndef ZMEM_TEST_CHECKED_ALLOC_H
#define ZMEM_TEST_CHECKED_ALLOC_H

#include "test.h"
#include "zmem/allocator.h"
#include "zmem/testing.h"

typedef struct ck_block {
    void *p;
    size_t len, align;
} ck_block;

typedef struct checked {
    zm_allocator inner;
    ck_block *slots; /* open addressing on the pointer; p == NULL is empty */
    size_t cap, count;
    size_t live;     /* bytes */
    size_t attempts; /* allocation attempts (failed ones included) */
    size_t fail_at;  /* 1-based attempt to fail; 0 = none */
    size_t misuse;   /* frees/resizes with a wrong length or alignment, or unknown blocks */
    bool no_remap;   /* refuse every resize and remap: growth must allocate and copy */
} checked;

static size_t ck_hash(const void *p, size_t cap) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdu;
    x ^= x >> 33;
    return (size_t)x & (cap - 1);
}

static ck_block *ck_find(checked *c, const void *p) {
    if (c->cap == 0) return NULL;
    for (size_t i = ck_hash(p, c->cap);; i = (i + 1) & (c->cap - 1)) {
        if (c->slots[i].p == p) return &c->slots[i];
        if (c->slots[i].p == NULL) return NULL;
    }
}

static void ck_insert(checked *c, void *p, size_t len, size_t align);

static void ck_rehash(checked *c, size_t ncap) {
    ck_block *old = c->slots;
    size_t ocap = c->cap;
    c->slots = calloc(ncap, sizeof *c->slots);
    if (c->slots == NULL) abort();
    c->cap = ncap;
    c->count = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].p) ck_insert(c, old[i].p, old[i].len, old[i].align);
    free(old);
}

static void ck_insert(checked *c, void *p, size_t len, size_t align) {
    if (2 * (c->count + 1) > c->cap) ck_rehash(c, c->cap ? 2 * c->cap : 1024);
    size_t i = ck_hash(p, c->cap);
    while (c->slots[i].p != NULL) i = (i + 1) & (c->cap - 1);
    c->slots[i] = (ck_block){p, len, align};
    c->count++;
}

/* Removes the entry e, re-inserting the rest of its probe run. */
static void ck_remove(checked *c, ck_block *e) {
    size_t i = (size_t)(e - c->slots);
    c->slots[i].p = NULL;
    c->count--;
    for (size_t j = (i + 1) & (c->cap - 1); c->slots[j].p != NULL; j = (j + 1) & (c->cap - 1)) {
        ck_block b = c->slots[j];
        c->slots[j].p = NULL;
        c->count--;
        ck_insert(c, b.p, b.len, b.align);
    }
}

/* The entry of p if it was allocated with exactly len and align; else counts
   a misuse and returns NULL. */
static ck_block *ck_verify(checked *c, void *p, size_t len, size_t align) {
    ck_block *e = ck_find(c, p);
    if (e == NULL || e->len != len || e->align != align) {
        c->misuse++;
        fprintf(stderr, "checked allocator: misuse of %p (len %zu align %zu; recorded %zu %zu)\n",
                p, len, align, e ? e->len : 0, e ? e->align : 0);
        return NULL;
    }
    return e;
}

static void *ck_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    checked *c = ctx;
    if (++c->attempts == c->fail_at) return NULL;
    void *p = c->inner.vtable->alloc(c->inner.ctx, len, align, ra);
    if (p) {
        ck_insert(c, p, len, align);
        c->live += len;
    }
    return p;
}

static bool ck_resize(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    checked *c = ctx;
    ck_block *e = ck_verify(c, p, len, align);
    if (e == NULL || c->no_remap) return false;
    if (!c->inner.vtable->resize(c->inner.ctx, p, len, align, nl, ra)) return false;
    e->len = nl;
    c->live = c->live - len + nl;
    return true;
}

static void *ck_remap(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    checked *c = ctx;
    ck_block *e = ck_verify(c, p, len, align);
    if (e == NULL || c->no_remap) return NULL;
    void *q = c->inner.vtable->remap(c->inner.ctx, p, len, align, nl, ra);
    if (q == NULL) return NULL;
    ck_remove(c, e);
    ck_insert(c, q, nl, align);
    c->live = c->live - len + nl;
    return q;
}

static void ck_free(void *ctx, void *p, size_t len, size_t align, uintptr_t ra) {
    checked *c = ctx;
    ck_block *e = ck_verify(c, p, len, align);
    if (e == NULL) return;
    ck_remove(c, e);
    c->live -= len;
    c->inner.vtable->free(c->inner.ctx, p, len, align, ra);
}

static const zm_allocator_vtable ck_vtable = {ck_alloc, ck_resize, ck_remap, ck_free};

static zm_allocator checked_init(checked *c) {
    memset(c, 0, sizeof *c);
    c->inner = zm_default_allocator();
    return (zm_allocator){c, &ck_vtable};
}

static void checked_deinit(checked *c) {
    free(c->slots);
    c->slots = NULL;
    c->cap = c->count = 0;
}

/* The function a sweep runs: work with a, give everything back, return the
   status of the work. */
typedef zm_status (*ck_fn)(zm_allocator a, void *arg);

/* Runs fn under zm_check_allocation_failures (every allocation, then every
   resize and remap, failing in turn, through the debug allocator). Returns
   the number of allocations fn makes, or 0 (and a failed check) when a run
   misbehaved. */
static size_t ck_sweep(const char *name, ck_fn fn, void *arg) {
    zm_sweep_report r;
    zm_status st = zm_check_allocation_failures(zm_default_allocator(), fn, arg, NULL, &r);
    if (st != ZM_OK) fprintf(stderr, "sweep %s: %s\n", name, r.message);
    CHECK(st == ZM_OK);
    return st == ZM_OK ? r.alloc_count : 0;
}

#endif
