/* The out-of-line allocator wrappers: alloc, zeroed alloc, realloc, dupe, strdup. */
#include "zmem/allocator.h"

ZM__NOINLINE void *zm_alloc(zm_allocator a, size_t len, size_t align) {
    if (ZM_UNLIKELY(!zm_is_valid_align(align))) return NULL;
    if (ZM_UNLIKELY(len == 0)) return (void *)(uintptr_t)align;
    return a.vtable->alloc(a.ctx, len, align, ZM_RET_ADDR());
}

ZM__NOINLINE void zm_free(zm_allocator a, void *ptr, size_t len, size_t align) {
    if (ptr == NULL || len == 0) return;
    a.vtable->free(a.ctx, ptr, len, align, ZM_RET_ADDR());
}

ZM__NOINLINE bool zm_resize(zm_allocator a, void *ptr, size_t len, size_t align, size_t new_len) {
    if (len == 0 || new_len == 0) return len == new_len;
    if (len == new_len) return true;
    return a.vtable->resize(a.ctx, ptr, len, align, new_len, ZM_RET_ADDR());
}

ZM__NOINLINE void *zm_remap(zm_allocator a, void *ptr, size_t len, size_t align, size_t new_len) {
    if (len == 0 || new_len == 0) return NULL;
    if (len == new_len) return ptr;
    return a.vtable->remap(a.ctx, ptr, len, align, new_len, ZM_RET_ADDR());
}

ZM__NOINLINE void *zm_alloc_n(zm_allocator a, size_t n, size_t size, size_t align) {
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    if (ZM_UNLIKELY(!zm_is_valid_align(align))) return NULL;
    if (ZM_UNLIKELY(n * size == 0)) return (void *)(uintptr_t)align;
    return a.vtable->alloc(a.ctx, n * size, align, ZM_RET_ADDR());
}

ZM__NOINLINE void *zm_alloc_zeroed(zm_allocator a, size_t len, size_t align) {
    if (ZM_UNLIKELY(!zm_is_valid_align(align))) return NULL;
    if (ZM_UNLIKELY(len == 0)) return (void *)(uintptr_t)align;
    void *p = a.vtable->alloc(a.ctx, len, align, ZM_RET_ADDR());
    if (p != NULL) memset(p, 0, len);
    return p;
}

ZM__NOINLINE void *zm_alloc_n_zeroed(zm_allocator a, size_t n, size_t size, size_t align) {
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    if (ZM_UNLIKELY(!zm_is_valid_align(align))) return NULL;
    if (ZM_UNLIKELY(n * size == 0)) return (void *)(uintptr_t)align;
    void *p = a.vtable->alloc(a.ctx, n * size, align, ZM_RET_ADDR());
    if (p != NULL) memset(p, 0, n * size);
    return p;
}

ZM__NOINLINE void zm_free_n(zm_allocator a, void *ptr, size_t n, size_t size, size_t align) {
    if (ptr == NULL || size == 0 || n == 0 || n > SIZE_MAX / size) return;
    a.vtable->free(a.ctx, ptr, n * size, align, ZM_RET_ADDR());
}

ZM__NOINLINE void *zm_realloc(zm_allocator a, void *ptr, size_t len, size_t new_len, size_t align) {
    if (!zm_is_valid_align(align)) return NULL;
    if (len == 0) return zm_alloc(a, new_len, align);
    if (new_len == 0) {
        zm_free(a, ptr, len, align);
        return (void *)(uintptr_t)align;
    }
    if (len == new_len) return ptr;
    uintptr_t ra = ZM_RET_ADDR();
    void *p = a.vtable->remap(a.ctx, ptr, len, align, new_len, ra);
    if (p != NULL) return p;
    p = a.vtable->alloc(a.ctx, new_len, align, ra);
    if (p == NULL) return NULL;
    memcpy(p, ptr, len < new_len ? len : new_len);
    a.vtable->free(a.ctx, ptr, len, align, ra);
    return p;
}

ZM__NOINLINE void *zm_dupe(zm_allocator a, const void *src, size_t len) {
    if (len == 0) return zm_alloc(a, 0, 1);
    void *p = a.vtable->alloc(a.ctx, len, 1, ZM_RET_ADDR());
    if (p != NULL) memcpy(p, src, len);
    return p;
}

ZM__NOINLINE char *zm_strndup(zm_allocator a, const char *s, size_t len) {
    if (len == SIZE_MAX) return NULL;
    char *p = a.vtable->alloc(a.ctx, len + 1, 1, ZM_RET_ADDR());
    if (p == NULL) return NULL;
    if (len) memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

ZM__NOINLINE char *zm_strdup(zm_allocator a, const char *s) {
    size_t len = strlen(s);
    char *p = a.vtable->alloc(a.ctx, len + 1, 1, ZM_RET_ADDR());
    if (p != NULL) memcpy(p, s, len + 1);
    return p;
}
