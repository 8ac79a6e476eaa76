/* A complete custom allocator: counts calls and live bytes, passes the work
   on to another allocator. Build: cc counting_allocator.c $(pkg-config --cflags --libs zmem) */
#include <stdio.h>

#include "zmem.h"

typedef struct counting {
    zm_allocator inner;
    size_t calls, live;
} counting;

static void *c_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    counting *c = ctx;
    void *p = c->inner.vtable->alloc(c->inner.ctx, len, align, ra);
    c->calls++, c->live += p ? len : 0;
    return p;
}
static bool c_resize(void *ctx, void *p, size_t len, size_t align, size_t new_len, uintptr_t ra) {
    counting *c = ctx;
    bool ok = c->inner.vtable->resize(c->inner.ctx, p, len, align, new_len, ra);
    c->calls++, c->live += ok ? new_len - len : 0; /* wraps back when shrinking */
    return ok;
}
static void *c_remap(void *ctx, void *p, size_t len, size_t align, size_t new_len, uintptr_t ra) {
    counting *c = ctx;
    void *q = c->inner.vtable->remap(c->inner.ctx, p, len, align, new_len, ra);
    c->calls++, c->live += q ? new_len - len : 0;
    return q;
}
static void c_free(void *ctx, void *p, size_t len, size_t align, uintptr_t ra) {
    counting *c = ctx;
    c->inner.vtable->free(c->inner.ctx, p, len, align, ra);
    c->calls++, c->live -= len;
}
static const zm_allocator_vtable counting_vtable = {c_alloc, c_resize, c_remap, c_free};

int main(void) {
    counting c = {zm_default_allocator(), 0, 0};
    zm_allocator a = {&c, &counting_vtable};

    char *name = zm_strdup(a, "counting allocator");
    int *xs = zm_alloc_array(a, int, 1000);
    if (name == NULL || xs == NULL) return 1;
    xs = zm_realloc(a, xs, 1000 * sizeof(int), 5000 * sizeof(int), _Alignof(int));
    if (xs == NULL) return 1;
    printf("%s: %zu calls, %zu bytes live\n", name, c.calls, c.live);
    zm_free(a, xs, 5000 * sizeof(int), _Alignof(int));
    zm_free(a, name, strlen(name) + 1, 1);
    printf("after freeing: %zu calls, %zu bytes live\n", c.calls, c.live);
    return c.live == 0 ? 0 : 1;
}
