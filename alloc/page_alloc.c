/* The page allocator: whole pages from mmap, grown and shrunk with mremap. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zmem/allocator.h"

/* The page size, asked of the kernel once. Threads racing on the first call
   store the same value; the atomic makes that well defined. */
static size_t page_size(void) {
    static _Atomic size_t cached;
    size_t ps = atomic_load_explicit(&cached, memory_order_relaxed);
    if (ps == 0) {
        long n = sysconf(_SC_PAGESIZE);
        ps = n > 0 ? (size_t)n : 4096;
        atomic_store_explicit(&cached, ps, memory_order_relaxed);
    }
    return ps;
}

/* Rounds n up to a whole number of pages; 0 on overflow. */
static size_t page_round(size_t n) {
    size_t ps = page_size();
    if (n > SIZE_MAX - (ps - 1)) return 0;
    return (n + ps - 1) & ~(ps - 1);
}

static void *page_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)ra;
    size_t ps = page_size();
    size_t size = page_round(len);
    if (size == 0) return NULL;
    if (align <= ps) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    /* Over-map by align - page, then trim both ends. */
    if (size > SIZE_MAX - (align - ps)) return NULL;
    size_t over = size + align - ps;
    char *base = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return NULL;
    uintptr_t start = ((uintptr_t)base + align - 1) & ~(uintptr_t)(align - 1);
    size_t head = start - (uintptr_t)base;
    size_t tail = over - head - size;
    if (head) munmap(base, head);
    if (tail) munmap((char *)start + size, tail);
    return (void *)start;
}

static bool page_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                        uintptr_t ra) {
    (void)ctx, (void)align, (void)ra;
    size_t old_size = page_round(len), new_size = page_round(new_len);
    if (new_size == 0) return false;
    if (new_size == old_size) return true;
    if (new_size < old_size) {
        munmap((char *)ptr + new_size, old_size - new_size);
        return true;
    }
    void *p = mremap(ptr, old_size, new_size, 0);
    return p != MAP_FAILED;
}

static void *page_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                        uintptr_t ra) {
    if (page_resize(ctx, ptr, len, align, new_len, ra)) return ptr;
    if (align > page_size()) return NULL; /* a move could lose the alignment */
    size_t new_size = page_round(new_len);
    if (new_size == 0) return NULL;
    void *p = mremap(ptr, page_round(len), new_size, MREMAP_MAYMOVE);
    return p == MAP_FAILED ? NULL : p;
}

static void page_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)align, (void)ra;
    munmap(ptr, page_round(len));
}

static const zm_allocator_vtable page_vtable = {page_alloc, page_resize, page_remap, page_free};

zm_allocator zm_page_allocator(void) {
    return (zm_allocator){NULL, &page_vtable};
}
