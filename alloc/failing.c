/* The failing allocator: fails one chosen alloc and one chosen resize/remap. */
#include "zmem/failing.h"

void zm_failing_init(zm_failing *f, zm_allocator backing, size_t fail_index,
                     size_t resize_fail_index) {
    memset(f, 0, sizeof *f);
    f->backing = backing;
    f->fail_index = fail_index;
    f->resize_fail_index = resize_fail_index;
}

/* Records an induced failure of a request for len bytes from ra. */
static void induce(zm_failing *f, bool is_alloc, size_t len, uintptr_t ra) {
    f->has_induced_failure = true;
    if (is_alloc)
        f->induced_alloc_failure = true;
    else
        f->induced_resize_failure = true;
    f->induced_ret_addr = ra;
    f->induced_len = len;
}

/* Accounts for a block changing from len to new_len bytes. */
static void account_resize(zm_failing *f, size_t len, size_t new_len) {
    if (new_len > len)
        f->allocated_bytes += new_len - len;
    else
        f->freed_bytes += len - new_len;
}

static void *failing_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    zm_failing *f = ctx;
    if (ZM_UNLIKELY(f->alloc_index++ == f->fail_index)) {
        induce(f, true, len, ra);
        return NULL;
    }
    void *p = f->backing.vtable->alloc(f->backing.ctx, len, align, ra);
    if (p != NULL) {
        f->allocated_bytes += len;
        f->allocations++;
    }
    return p;
}

static bool failing_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                           uintptr_t ra) {
    zm_failing *f = ctx;
    if (ZM_UNLIKELY(f->resize_index++ == f->resize_fail_index)) {
        induce(f, false, new_len, ra);
        return false;
    }
    if (!f->backing.vtable->resize(f->backing.ctx, ptr, len, align, new_len, ra)) return false;
    account_resize(f, len, new_len);
    return true;
}

static void *failing_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                           uintptr_t ra) {
    zm_failing *f = ctx;
    if (ZM_UNLIKELY(f->resize_index++ == f->resize_fail_index)) {
        induce(f, false, new_len, ra);
        return NULL;
    }
    void *p = f->backing.vtable->remap(f->backing.ctx, ptr, len, align, new_len, ra);
    if (p != NULL) account_resize(f, len, new_len);
    return p;
}

static void failing_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    zm_failing *f = ctx;
    f->freed_bytes += len;
    f->deallocations++;
    f->backing.vtable->free(f->backing.ctx, ptr, len, align, ra);
}

static const zm_allocator_vtable failing_vtable = {failing_alloc, failing_resize, failing_remap,
                                                   failing_free};

zm_allocator zm_failing_allocator(zm_failing *f) {
    return (zm_allocator){f, &failing_vtable};
}
