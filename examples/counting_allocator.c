/* A complete custom allocator: counts calls and live bytes, passes the work
   on to another allocator. Checks its own results: exits 1 when one is wrong.
   Build: cc counting_allocator.c $(pkg-config --cflags --libs zmem) */
#include <stdio.h>
#include <string.h>

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

static int wrong; /* results that were not what they should be */

static void expect(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "counting_allocator: wrong: %s\n", what);
        wrong++;
    }
}

int main(void) {
    counting c = {zm_default_allocator(), 0, 0};
    zm_allocator a = {&c, &counting_vtable};

    char *name = zm_strdup(a, "counting allocator");
    int *xs = zm_alloc_array(a, int, 1000);
    if (name == NULL || xs == NULL) return 1;
    expect(c.calls == 2 && c.live == 19 + 1000 * sizeof(int), "the counts after two allocations");
    for (int i = 0; i < 1000; i++) xs[i] = i;
    /* zm_realloc: a remap, or (when the inner allocator cannot) a new block,
       a copy and a free: 1 or 3 calls. */
    size_t before = c.calls;
    xs = zm_realloc(a, xs, 1000 * sizeof(int), 5000 * sizeof(int), _Alignof(int));
    if (xs == NULL) return 1;
    expect(c.calls - before == 1 || c.calls - before == 3, "the calls zm_realloc made");
    long sum = 0;
    for (int i = 0; i < 1000; i++) sum += xs[i];
    expect(sum == 499500, "the values kept by zm_realloc");
    printf("%s: %zu calls, %zu bytes live\n", name, c.calls, c.live);
    expect(strcmp(name, "counting allocator") == 0, "the copied name");
    expect(c.live == 19 + 5000 * sizeof(int), "the live bytes after growing");
    size_t calls = c.calls;
    zm_free(a, xs, 5000 * sizeof(int), _Alignof(int));
    zm_free(a, name, strlen(name) + 1, 1);
    printf("after freeing: %zu calls, %zu bytes live\n", c.calls, c.live);
    expect(c.calls == calls + 2, "the calls after two frees");
    expect(c.live == 0, "the live bytes after freeing everything");
    return wrong ? 1 : 0;
}
