/* Object keys: the index (the hash itself is inline in internal.h); work stacks. */
#include "internal.h"
#include "zmem/array.h"

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
    /* A caller's local array is copied into the first block (twice its
       size), never freed. */
    size_t ncap = *on_heap ? *cap : 0, want = need;
    if (!*on_heap && want / 2 < *cap) want = *cap <= SIZE_MAX / 2 ? 2 * *cap : need;
    if (want < 16) want = 16;
    void *p =
        zm_array_grow_raw(a, *on_heap ? *items : NULL, &ncap, want, size, _Alignof(max_align_t));
    if (p == NULL) return false;
    if (!*on_heap && *cap) memcpy(p, *items, *cap * size);
    *items = p;
    *cap = ncap;
    *on_heap = true;
    return true;
}
