/* Shared by the bad-input tests: a budget allocator that counts live bytes,
   refuses requests past a byte budget, and checks that frees give back what
   was taken; and the peak resident memory of this process. */
#ifndef ZMEM_TEST_BAD_H
#define ZMEM_TEST_BAD_H

#include <sys/resource.h>

#include "test.h"
#include "zmem/allocator.h"

typedef struct budget {
    zm_allocator inner;
    size_t limit;   /* bytes that may be live at once; SIZE_MAX = no limit */
    size_t live;    /* bytes live now */
    size_t peak;    /* the most bytes live at once */
    size_t blocks;  /* blocks live now */
    size_t refused; /* requests refused for the budget */
} budget;

static void *bg_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    budget *b = ctx;
    if (len > b->limit - b->live) {
        b->refused++;
        return NULL;
    }
    void *p = b->inner.vtable->alloc(b->inner.ctx, len, align, ra);
    if (p == NULL) return NULL;
    b->live += len;
    b->blocks++;
    if (b->live > b->peak) b->peak = b->live;
    return p;
}

static bool bg_resize(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    budget *b = ctx;
    if (nl > len && nl - len > b->limit - b->live) {
        b->refused++;
        return false;
    }
    if (!b->inner.vtable->resize(b->inner.ctx, p, len, align, nl, ra)) return false;
    b->live = b->live - len + nl;
    if (b->live > b->peak) b->peak = b->live;
    return true;
}

static void *bg_remap(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    budget *b = ctx;
    if (nl > len && nl - len > b->limit - b->live) {
        b->refused++;
        return NULL;
    }
    void *q = b->inner.vtable->remap(b->inner.ctx, p, len, align, nl, ra);
    if (q == NULL) return NULL;
    b->live = b->live - len + nl;
    if (b->live > b->peak) b->peak = b->live;
    return q;
}

static void bg_free(void *ctx, void *p, size_t len, size_t align, uintptr_t ra) {
    budget *b = ctx;
    b->live -= len;
    b->blocks--;
    b->inner.vtable->free(b->inner.ctx, p, len, align, ra);
}

static const zm_allocator_vtable bg_vtable = {bg_alloc, bg_resize, bg_remap, bg_free};

/* A budget of limit bytes over the libc allocator (every block visible to
   valgrind and ASan). */
static inline zm_allocator budget_init(budget *b, size_t limit) {
    memset(b, 0, sizeof *b);
    b->inner = zm_c_allocator();
    b->limit = limit;
    return (zm_allocator){b, &bg_vtable};
}

/* The peak resident set of this process, in bytes: since the last
   peak_rss_reset where Linux allows resetting it, else since the start. */
static inline size_t peak_rss(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f != NULL) {
        char line[256];
        size_t kb = 0;
        while (fgets(line, sizeof line, f) != NULL)
            if (sscanf(line, "VmHWM: %zu kB", &kb) == 1) break;
        fclose(f);
        if (kb) return kb * 1024;
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024;
}

/* Lowers the peak resident set to the resident set now (Linux 4.0+), so that
   peak_rss measures what follows. */
static inline void peak_rss_reset(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f == NULL) return;
    fputs("5", f);
    fclose(f);
}

#endif
