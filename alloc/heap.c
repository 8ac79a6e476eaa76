/* The heap allocator: a mimalloc first-class heap, or a list heap over any
   allocator whose deinit frees every block still linked in. */
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "chain.h"
#include "zmem/heap.h"

#ifdef ZMEM_HAVE_MIMALLOC
#include <mimalloc.h>
#endif

/* ---------------------------------------------------------------------------
 * List heap: [padding][node][user block], the node just below the block.
 * ------------------------------------------------------------------------- */

typedef struct zm__heap_node {
    struct zm__heap_node *prev, *next;
    size_t size;  /* bytes asked of the backing allocator */
    size_t align; /* alignment asked of the backing allocator */
} node;

#define NODE_ALIGN alignof(node)

/* Bytes in front of a block of alignment align: the node, rounded up so that
   the block keeps its alignment. */
static size_t front(size_t align) {
    return align > sizeof(node) ? align : sizeof(node);
}

static size_t backing_align(size_t align) {
    return align > NODE_ALIGN ? align : NODE_ALIGN;
}

static node *node_of(void *ptr) {
    return (node *)((char *)ptr - sizeof(node));
}

static char *base_of(void *ptr, size_t align) {
    return (char *)ptr - front(align);
}

/* Makes the neighbours of n (just moved or inserted) point at it. */
static void link_neighbours(zm_heap *h, node *n) {
    if (n->prev != NULL)
        n->prev->next = n;
    else
        h->head = n;
    if (n->next != NULL) n->next->prev = n;
}

static void *list_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    zm_heap *h = ctx;
    size_t fr = front(align), bal = backing_align(align);
    if (len > SIZE_MAX - fr) return NULL;
    char *base = h->backing.vtable->alloc(h->backing.ctx, fr + len, bal, ra);
    if (base == NULL) return NULL;
    char *user = base + fr;
    node *n = node_of(user);
    n->size = fr + len;
    n->align = bal;
    n->prev = NULL;
    n->next = h->head;
    link_neighbours(h, n);
    h->live++;
    return user;
}

static bool list_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                        uintptr_t ra) {
    zm_heap *h = ctx;
    size_t fr = front(align);
    (void)len;
    if (new_len > SIZE_MAX - fr) return false;
    node *n = node_of(ptr);
    if (!h->backing.vtable->resize(h->backing.ctx, base_of(ptr, align), n->size, n->align,
                                   fr + new_len, ra))
        return false;
    n->size = fr + new_len;
    return true;
}

static void *list_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                        uintptr_t ra) {
    zm_heap *h = ctx;
    size_t fr = front(align);
    (void)len;
    if (new_len > SIZE_MAX - fr) return NULL;
    node *n = node_of(ptr);
    char *base = h->backing.vtable->remap(h->backing.ctx, base_of(ptr, align), n->size, n->align,
                                          fr + new_len, ra);
    if (base == NULL) return NULL;
    char *user = base + fr;
    n = node_of(user); /* the node moved with the block */
    n->size = fr + new_len;
    link_neighbours(h, n);
    return user;
}

static void list_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    zm_heap *h = ctx;
    (void)len;
    node *n = node_of(ptr);
    if (n->prev != NULL)
        n->prev->next = n->next;
    else
        h->head = n->next;
    if (n->next != NULL) n->next->prev = n->prev;
    h->live--;
    h->backing.vtable->free(h->backing.ctx, base_of(ptr, align), n->size, n->align, ra);
}

const zm_allocator_vtable zm__heap_list_vtable = {list_alloc, list_resize, list_remap, list_free};

void zm_heap_init_backed(zm_heap *h, zm_allocator backing) {
    memset(h, 0, sizeof *h);
    h->backing = backing;
}

/* Frees every node of a list heap. The node is the last thing read before its
   block goes back, so the walk never touches freed memory. */
static void list_deinit(zm_heap *h) {
    node *n = h->head;
    while (n != NULL) {
        node *next = n->next;
        char *base = (char *)(n + 1) - front(n->align); /* n->align is max(align, 8) */
        h->backing.vtable->free(h->backing.ctx, base, n->size, n->align, 0);
        n = next;
    }
    h->head = NULL;
    h->live = 0;
}

/* ---------------------------------------------------------------------------
 * mimalloc heap
 * ------------------------------------------------------------------------- */

#ifdef ZMEM_HAVE_MIMALLOC
static void *mi_heap_vt_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    (void)ra;
    if (len > PTRDIFF_MAX) return NULL;
    /* The _at variant: mi_heap_malloc_aligned misaligns some blocks in
       mimalloc 2.0.9 (see mimalloc_alloc.c). */
    return mi_heap_malloc_aligned_at(((zm_heap *)ctx)->mi, len, align, 0);
}

static bool mi_heap_vt_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                              uintptr_t ra) {
    (void)ctx, (void)len, (void)align, (void)ra;
    return mi_expand(ptr, new_len) != NULL;
}

static void *mi_heap_vt_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                              uintptr_t ra) {
    (void)len, (void)ra;
    if (new_len > PTRDIFF_MAX) return NULL;
    return mi_heap_realloc_aligned_at(((zm_heap *)ctx)->mi, ptr, new_len, align, 0);
}

static void mi_heap_vt_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)ra;
    mi_free_size_aligned(ptr, len, align);
}

static const zm_allocator_vtable mi_heap_vtable = {mi_heap_vt_alloc, mi_heap_vt_resize,
                                                   mi_heap_vt_remap, mi_heap_vt_free};
#endif

/* ---------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

zm_status zm_heap_init(zm_heap *h) {
#ifdef ZMEM_HAVE_MIMALLOC
    if (strcmp(zm_default_allocator_name(), "mimalloc") == 0) {
        memset(h, 0, sizeof *h);
        h->mi = mi_heap_new();
        return h->mi != NULL ? ZM_OK : ZM_ENOMEM;
    }
#endif
    zm_heap_init_backed(h, zm_default_allocator());
    return ZM_OK;
}

bool zm_heap_is_mimalloc(const zm_heap *h) {
    return h->mi != NULL;
}

zm_allocator zm_heap_allocator(zm_heap *h) {
#ifdef ZMEM_HAVE_MIMALLOC
    if (h->mi != NULL) return (zm_allocator){h, &mi_heap_vtable};
#endif
    return (zm_allocator){h, &zm__heap_list_vtable};
}

void zm_heap_deinit(zm_heap *h) {
#ifdef ZMEM_HAVE_MIMALLOC
    if (h->mi != NULL) {
        mi_heap_destroy(h->mi);
        h->mi = NULL;
        return;
    }
#endif
    list_deinit(h);
}
