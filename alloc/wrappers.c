/* The out-of-line allocator wrappers: realloc, dupe, strdup. */
#include "zmem/allocator.h"

void *zm_realloc(zm_allocator a, void *ptr, size_t len, size_t new_len, size_t align) {
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

void *zm_dupe(zm_allocator a, const void *src, size_t len) {
    if (len == 0) return zm_alloc(a, 0, 1);
    void *p = a.vtable->alloc(a.ctx, len, 1, ZM_RET_ADDR());
    if (p != NULL) memcpy(p, src, len);
    return p;
}

char *zm_strndup(zm_allocator a, const char *s, size_t len) {
    if (len == SIZE_MAX) return NULL;
    char *p = a.vtable->alloc(a.ctx, len + 1, 1, ZM_RET_ADDR());
    if (p == NULL) return NULL;
    if (len) memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *zm_strdup(zm_allocator a, const char *s) {
    size_t len = strlen(s);
    char *p = a.vtable->alloc(a.ctx, len + 1, 1, ZM_RET_ADDR());
    if (p != NULL) memcpy(p, s, len + 1);
    return p;
}
