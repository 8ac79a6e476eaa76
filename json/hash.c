/* Object keys: the index (the hash itself is inline in internal.h); work stacks. */
#include "internal.h"

const char zm__json_seed_anchor = 0;

/* ---------------------------------------------------------------------------
 * The index
 * ------------------------------------------------------------------------- */

uint32_t zm__json_index_cap(size_t n) {
    if (n > (UINT32_MAX >> 2)) return 0;
    uint32_t cap = 64;
    while (cap < 2 * n) cap <<= 1;
    return cap;
}

void zm__json_index_fill(uint32_t *index, uint32_t cap, const zm_json_member *items, size_t n) {
    memset(index, 0, (size_t)cap * sizeof *index);
    for (size_t i = 0; i < n; i++)
        zm__json_index_add(index, cap, items, i, zm__json_hash(items[i].key, items[i].key_len));
}

/* ---------------------------------------------------------------------------
 * Work stacks
 * ------------------------------------------------------------------------- */

bool zm__stack_grow(zm_allocator a, void **items, size_t *cap, size_t size, bool *on_heap,
                    size_t need) {
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / size) return false;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / size) return false;
    const size_t align = _Alignof(max_align_t);
    void *p;
    if (*on_heap) {
        p = zm_realloc(a, *items, *cap * size, ncap * size, align);
    } else {
        p = zm_alloc(a, ncap * size, align);
        if (p != NULL && *cap) memcpy(p, *items, *cap * size);
    }
    if (p == NULL) return false;
    *items = p;
    *cap = ncap;
    *on_heap = true;
    return true;
}
