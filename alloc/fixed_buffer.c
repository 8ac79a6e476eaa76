/* The fixed buffer allocator: bump allocation over a caller's buffer. */
#include "zmem/fixed_buffer.h"

void zm_fixed_buffer_init(zm_fixed_buffer *fb, void *buf, size_t len) {
    fb->buf = buf;
    fb->len = buf != NULL ? len : 0;
    fb->used = 0;
}

void zm_fixed_buffer_reset(zm_fixed_buffer *fb) {
    fb->used = 0;
}

void *zm_fixed_buffer_alloc(zm_fixed_buffer *fb, size_t len, size_t align) {
    if (len == 0 || !zm_is_valid_align(align)) return NULL;
    uintptr_t base = (uintptr_t)fb->buf;
    uintptr_t cur = base + fb->used;
    uintptr_t p = (cur + (align - 1)) & ~(uintptr_t)(align - 1);
    if (p < cur) return NULL; /* wrapped */
    size_t start = (size_t)(p - base);
    if (start > fb->len || len > fb->len - start) return NULL;
    fb->used = start + len;
    return (void *)p;
}

/* True when the block [ptr, ptr + len) ends where the free space starts. */
static bool is_last(const zm_fixed_buffer *fb, const void *ptr, size_t len) {
    return (const char *)ptr + len == fb->buf + fb->used;
}

static void *fb_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    (void)ra;
    return zm_fixed_buffer_alloc(ctx, len, align);
}

static bool fb_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                      uintptr_t ra) {
    (void)align, (void)ra;
    zm_fixed_buffer *fb = ctx;
    if (!is_last(fb, ptr, len)) return new_len <= len;
    size_t start = (size_t)((char *)ptr - fb->buf);
    if (new_len > fb->len - start) return false;
    fb->used = start + new_len;
    return true;
}

static void *fb_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                      uintptr_t ra) {
    return fb_resize(ctx, ptr, len, align, new_len, ra) ? ptr : NULL;
}

static void fb_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    (void)align, (void)ra;
    zm_fixed_buffer *fb = ctx;
    if (is_last(fb, ptr, len)) fb->used -= len;
}

static const zm_allocator_vtable fb_vtable = {fb_alloc, fb_resize, fb_remap, fb_free};

zm_allocator zm_fixed_buffer_allocator(zm_fixed_buffer *fb) {
    return (zm_allocator){fb, &fb_vtable};
}
