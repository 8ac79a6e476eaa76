/* The locked allocator: a pthread mutex around any allocator. */
#include "chain.h"
#include "zmem/locked.h"

zm_status zm_locked_init(zm_locked *l, zm_allocator inner) {
    l->inner = inner;
    return pthread_mutex_init(&l->mutex, NULL) == 0 ? ZM_OK : ZM_ENOMEM;
}

void zm_locked_deinit(zm_locked *l) {
    pthread_mutex_destroy(&l->mutex);
}

static void *locked_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    zm_locked *l = ctx;
    pthread_mutex_lock(&l->mutex);
    void *p = l->inner.vtable->alloc(l->inner.ctx, len, align, ra);
    pthread_mutex_unlock(&l->mutex);
    return p;
}

static bool locked_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                          uintptr_t ra) {
    zm_locked *l = ctx;
    pthread_mutex_lock(&l->mutex);
    bool ok = l->inner.vtable->resize(l->inner.ctx, ptr, len, align, new_len, ra);
    pthread_mutex_unlock(&l->mutex);
    return ok;
}

static void *locked_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                          uintptr_t ra) {
    zm_locked *l = ctx;
    pthread_mutex_lock(&l->mutex);
    void *p = l->inner.vtable->remap(l->inner.ctx, ptr, len, align, new_len, ra);
    pthread_mutex_unlock(&l->mutex);
    return p;
}

static void locked_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    zm_locked *l = ctx;
    pthread_mutex_lock(&l->mutex);
    l->inner.vtable->free(l->inner.ctx, ptr, len, align, ra);
    pthread_mutex_unlock(&l->mutex);
}

const zm_allocator_vtable zm__locked_vtable = {locked_alloc, locked_resize, locked_remap,
                                               locked_free};

zm_allocator zm_locked_allocator(zm_locked *l) {
    return (zm_allocator){l, &zm__locked_vtable};
}
