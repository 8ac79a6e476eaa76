/* Plugging allocators in and out: malloc-style trios and Lua-style functions
   as zm_allocators, and zm_allocators as malloc-style and Lua-style hooks. */
#include <stdalign.h>

#include "zmem/adapt.h"

#define MAX_ALIGN alignof(max_align_t)

_Static_assert(ZM_HOOKS_HEADER % alignof(max_align_t) == 0 && ZM_HOOKS_HEADER >= sizeof(size_t),
               "the hooks header keeps blocks aligned and holds the size");

/* ---------------------------------------------------------------------------
 * Over-alignment: allocate len + align - 1 + sizeof(size_t) bytes, place the
 * block at the first aligned address with room for the offset before it,
 * and store the offset there.
 * ------------------------------------------------------------------------- */

static size_t guaranteed(size_t declared) {
    return declared ? declared : MAX_ALIGN;
}

/* The bytes to ask for to place len bytes at align; 0 on overflow. */
static size_t padded(size_t len, size_t align) {
    size_t extra = align - 1 + sizeof(size_t);
    return len > SIZE_MAX - extra ? 0 : len + extra;
}

static void *place(void *raw, size_t align) {
    uintptr_t u = ((uintptr_t)raw + sizeof(size_t) + align - 1) & ~(uintptr_t)(align - 1);
    size_t gap = u - (uintptr_t)raw;
    memcpy((char *)u - sizeof gap, &gap, sizeof gap);
    return (void *)u;
}

static void *raw_of(void *user) {
    size_t gap;
    memcpy(&gap, (char *)user - sizeof gap, sizeof gap);
    return (char *)user - gap;
}

/* ---------------------------------------------------------------------------
 * A malloc-style trio as a zm_allocator
 * ------------------------------------------------------------------------- */

static void *trio_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    (void)ra;
    const zm_trio *t = ctx;
    if (align <= guaranteed(t->align)) return t->malloc(t->ctx, len);
    size_t total = padded(len, align);
    if (total == 0) return NULL;
    void *raw = t->malloc(t->ctx, total);
    return raw ? place(raw, align) : NULL;
}

static bool trio_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                        uintptr_t ra) {
    (void)ctx, (void)ptr, (void)align, (void)ra;
    return new_len <= len; /* free never needs the length: shrinking is free */
}

static void *trio_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                        uintptr_t ra) {
    (void)len, (void)ra;
    const zm_trio *t = ctx;
    if (t->realloc == NULL || align > guaranteed(t->align)) return NULL;
    return t->realloc(t->ctx, ptr, new_len);
}

static void trio_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    (void)len, (void)ra;
    const zm_trio *t = ctx;
    t->free(t->ctx, align <= guaranteed(t->align) ? ptr : raw_of(ptr));
}

static const zm_allocator_vtable trio_vtable = {trio_alloc, trio_resize, trio_remap, trio_free};

zm_allocator zm_trio_allocator(const zm_trio *trio) {
    return (zm_allocator){(void *)trio, &trio_vtable};
}

/* ---------------------------------------------------------------------------
 * A Lua-style function as a zm_allocator. The function always gets the true
 * old size, so resize declines rather than leave a block bigger than the
 * length its owner will later pass back.
 * ------------------------------------------------------------------------- */

static void *lua_in_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    (void)ra;
    const zm_lua_funcs *l = ctx;
    if (align <= guaranteed(l->align)) return l->fn(l->ud, NULL, 0, len);
    size_t total = padded(len, align);
    if (total == 0) return NULL;
    void *raw = l->fn(l->ud, NULL, 0, total);
    return raw ? place(raw, align) : NULL;
}

static bool lua_in_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                          uintptr_t ra) {
    (void)ctx, (void)ptr, (void)len, (void)align, (void)new_len, (void)ra;
    return false;
}

static void *lua_in_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                          uintptr_t ra) {
    (void)ra;
    const zm_lua_funcs *l = ctx;
    if (align > guaranteed(l->align)) return NULL;
    return l->fn(l->ud, ptr, len, new_len);
}

static void lua_in_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    (void)ra;
    const zm_lua_funcs *l = ctx;
    if (align <= guaranteed(l->align))
        l->fn(l->ud, ptr, len, 0);
    else
        l->fn(l->ud, raw_of(ptr), padded(len, align), 0);
}

static const zm_allocator_vtable lua_in_vtable = {lua_in_alloc, lua_in_resize, lua_in_remap,
                                                  lua_in_free};

zm_allocator zm_lua_allocator(const zm_lua_funcs *lua) {
    return (zm_allocator){(void *)lua, &lua_in_vtable};
}

/* ---------------------------------------------------------------------------
 * A zm_allocator as malloc-style functions: a header holds each block's size
 * ------------------------------------------------------------------------- */

#define HEADER ZM_HOOKS_HEADER

static void *finish(char *block, size_t size) {
    memcpy(block, &size, sizeof size);
    return block + HEADER;
}

size_t zm_hooks_size(const void *ptr) {
    size_t size;
    memcpy(&size, (const char *)ptr - HEADER, sizeof size);
    return size;
}

/* The hook functions proper, with the caller's address for the allocator. */

static void *hooks_malloc(zm_allocator a, size_t size, uintptr_t ra) {
    if (size > SIZE_MAX - HEADER) return NULL;
    char *b = a.vtable->alloc(a.ctx, size + HEADER, MAX_ALIGN, ra);
    return b ? finish(b, size) : NULL;
}

static void *hooks_calloc(zm_allocator a, size_t n, size_t size, uintptr_t ra) {
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    void *p = hooks_malloc(a, n * size, ra);
    if (p != NULL) memset(p, 0, n * size);
    return p;
}

static void hooks_free(zm_allocator a, void *ptr, uintptr_t ra) {
    if (ptr == NULL) return;
    a.vtable->free(a.ctx, (char *)ptr - HEADER, zm_hooks_size(ptr) + HEADER, MAX_ALIGN, ra);
}

static void *hooks_realloc(zm_allocator a, void *ptr, size_t size, uintptr_t ra) {
    if (ptr == NULL) return hooks_malloc(a, size, ra);
    if (size == 0) {
        hooks_free(a, ptr, ra);
        return NULL;
    }
    if (size > SIZE_MAX - HEADER) return NULL;
    size_t old = zm_hooks_size(ptr);
    if (old == size) return ptr;
    char *b = (char *)ptr - HEADER;
    char *nb = a.vtable->remap(a.ctx, b, old + HEADER, MAX_ALIGN, size + HEADER, ra);
    if (nb == NULL) {
        nb = a.vtable->alloc(a.ctx, size + HEADER, MAX_ALIGN, ra);
        if (nb == NULL) return NULL;
        memcpy(nb + HEADER, ptr, old < size ? old : size);
        a.vtable->free(a.ctx, b, old + HEADER, MAX_ALIGN, ra);
    }
    return finish(nb, size);
}

void *zm_hooks_malloc(zm_hooks *h, size_t size) {
    return hooks_malloc(h->a, size, ZM_RET_ADDR());
}

void *zm_hooks_calloc(zm_hooks *h, size_t n, size_t size) {
    return hooks_calloc(h->a, n, size, ZM_RET_ADDR());
}

void *zm_hooks_realloc(zm_hooks *h, void *ptr, size_t size) {
    return hooks_realloc(h->a, ptr, size, ZM_RET_ADDR());
}

void zm_hooks_free(zm_hooks *h, void *ptr) {
    hooks_free(h->a, ptr, ZM_RET_ADDR());
}

/* The process-wide binding. */
static zm_allocator global_allocator;
static bool global_set;

void zm_global_hooks_set(zm_allocator a) {
    global_allocator = a;
    global_set = true;
}

zm_allocator zm_global_hooks_allocator(void) {
    return global_set ? global_allocator : zm_default_allocator();
}

void *zm_global_malloc(size_t size) {
    return hooks_malloc(zm_global_hooks_allocator(), size, ZM_RET_ADDR());
}

void *zm_global_calloc(size_t n, size_t size) {
    return hooks_calloc(zm_global_hooks_allocator(), n, size, ZM_RET_ADDR());
}

void *zm_global_realloc(void *ptr, size_t size) {
    return hooks_realloc(zm_global_hooks_allocator(), ptr, size, ZM_RET_ADDR());
}

void zm_global_free(void *ptr) {
    hooks_free(zm_global_hooks_allocator(), ptr, ZM_RET_ADDR());
}

/* ---------------------------------------------------------------------------
 * A zm_allocator as a Lua-style function
 * ------------------------------------------------------------------------- */

void *zm_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    zm_allocator *a = ud;
    if (ptr == NULL) osize = 0; /* Lua passes a type tag here */
    if (nsize == 0) {
        zm_free(*a, ptr, osize, MAX_ALIGN);
        return NULL;
    }
    if (ptr == NULL) return a->vtable->alloc(a->ctx, nsize, MAX_ALIGN, ZM_RET_ADDR());
    if (nsize <= osize && zm_resize(*a, ptr, osize, MAX_ALIGN, nsize)) return ptr;
    return zm_realloc(*a, ptr, osize, nsize, MAX_ALIGN);
}
