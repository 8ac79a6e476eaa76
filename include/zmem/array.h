/* zmem — the growable array (Zig's ArrayListUnmanaged).
 *
 * An array is three words: the items, how many are in use, and how many fit.
 * It holds no allocator: every function that may allocate takes one, and it
 * must be the same allocator (or one that owns the same blocks) every time,
 * as with Zig's unmanaged containers. So an array in an arena costs no more
 * than its three words, and an array that lives as long as its arena needs
 * no deinit at all.
 *
 * ZM_ARRAY_TYPED(name, T) defines the type `name` and its functions; a zeroed
 * value is an empty array:
 *
 *     ZM_ARRAY_TYPED(int_array, int);
 *     int_array xs = {0};
 *     if (int_array_append(a, &xs, 42) != ZM_OK) ...;
 *     for (size_t i = 0; i < xs.len; i++) use(xs.items[i]);
 *     int_array_deinit(a, &xs);
 *
 * Every function that grows the array either succeeds or returns ZM_ENOMEM
 * and leaves the array exactly as it was. Pointers into items stay valid
 * until the next call that may grow or shrink it.
 */
#ifndef ZMEM_ARRAY_H
#define ZMEM_ARRAY_H

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Grows the block items (cap items of size bytes, alignment align, from a;
   NULL with cap 0 for none) so that it holds at least need items. Capacity
   doubles (at least 64 bytes' worth of items) and is never less than need.
   Returns the grown block (perhaps moved, the first cap items kept) and sets
   *cap, or returns NULL when need * size overflows or a fails; items and
   *cap are then untouched and items is still the caller's. */
void *zm_array_grow_raw(zm_allocator a, void *items, size_t *cap, size_t need, size_t size,
                        size_t align);

/* Shrinks the block items (cap items of size bytes) to exactly n <= cap
   items: in place if a can, else by moving it. Never fails: when a can do
   neither, returns items with *cap unchanged. n == 0 frees the block and
   returns NULL with *cap 0. */
void *zm_array_shrink_raw(zm_allocator a, void *items, size_t *cap, size_t n, size_t size,
                          size_t align);

/* ZM_ARRAY_TYPED(name, T) defines
 *   typedef struct name { T *items; size_t len; size_t cap; } name;
 * and, for an array arr (a zeroed one is empty) and the allocator a:
 *   name_deinit(a, arr)                 frees the items; arr is empty again
 *   name_reserve(a, arr, n)             room for n more items without growing
 *   name_append(a, arr, item)           adds item at the end
 *   name_add_one(a, arr)                adds one uninitialised item; returns it or NULL
 *   name_append_slice(a, arr, src, n)   adds n items copied from src (not inside arr)
 *   name_insert(a, arr, i, item)        puts item at i (<= len), moving the rest up
 *   name_swap_remove(arr, i)            removes item i (< len), the last one taking its
 *                                       place; returns it
 *   name_ordered_remove(arr, i)         removes item i (< len), moving the rest down;
 *                                       returns it
 *   name_pop(arr)                       removes and returns the last item (len > 0)
 *   name_resize(a, arr, n)              sets len to n; new items are uninitialised
 *   name_shrink(a, arr, n)              sets len to n (<= len) and gives capacity back;
 *                                       never fails
 *   name_clear(arr)                     sets len to 0, keeping the capacity
 *   name_to_owned(a, arr, &out, &n)     hands the items to the caller as a block of
 *                                       exactly n items (free it with
 *                                       zm_free_array(a, out, n)); arr is empty
 * The functions that allocate return ZM_OK or ZM_ENOMEM (ZM_EINVAL for an
 * insert past the end); on failure the array is unchanged. Use at file
 * scope: ZM_ARRAY_TYPED(point_array, struct point); */
#define ZM_ARRAY_TYPED(name, T)                                                                    \
    typedef struct name {                                                                          \
        T *items;                                                                                  \
        size_t len;                                                                                \
        size_t cap;                                                                                \
    } name;                                                                                        \
    /* Frees the items back to a; arr is empty and may be used again. */                           \
    static inline void name##_deinit(zm_allocator a, name *arr) {                                  \
        zm_free(a, arr->items, arr->cap * sizeof(T), _Alignof(T));                                 \
        arr->items = NULL;                                                                         \
        arr->len = arr->cap = 0;                                                                   \
    }                                                                                              \
    /* Out-of-line growth to at least need items. ZM_OK or ZM_ENOMEM (unchanged). */               \
    static inline zm_status name##_grow_(zm_allocator a, name *arr, size_t need) {                 \
        size_t cap = arr->cap;                                                                     \
        void *p = zm_array_grow_raw(a, arr->items, &cap, need, sizeof(T), _Alignof(T));            \
        if (p == NULL) return ZM_ENOMEM;                                                           \
        arr->items = (T *)p;                                                                       \
        arr->cap = cap;                                                                            \
        return ZM_OK;                                                                              \
    }                                                                                              \
    /* Makes room for n more items. ZM_OK or ZM_ENOMEM (unchanged). */                             \
    static inline zm_status name##_reserve(zm_allocator a, name *arr, size_t n) {                  \
        if (arr->cap - arr->len >= n) return ZM_OK;                                                \
        if (n > SIZE_MAX - arr->len) return ZM_ENOMEM;                                             \
        return name##_grow_(a, arr, arr->len + n);                                                 \
    }                                                                                              \
    /* Adds one uninitialised item at the end. Returns it, or NULL (unchanged). */                 \
    static inline T *name##_add_one(zm_allocator a, name *arr) {                                   \
        if (ZM_UNLIKELY(arr->len == arr->cap) && name##_grow_(a, arr, arr->len + 1) != ZM_OK)      \
            return NULL;                                                                           \
        return &arr->items[arr->len++];                                                            \
    }                                                                                              \
    /* Adds item at the end. ZM_OK or ZM_ENOMEM (unchanged). */                                    \
    static inline zm_status name##_append(zm_allocator a, name *arr, T item) {                     \
        if (ZM_UNLIKELY(arr->len == arr->cap) && name##_grow_(a, arr, arr->len + 1) != ZM_OK)      \
            return ZM_ENOMEM;                                                                      \
        arr->items[arr->len++] = item;                                                             \
        return ZM_OK;                                                                              \
    }                                                                                              \
    /* Adds n items copied from src, which must not point into arr. */                             \
    static inline zm_status name##_append_slice(zm_allocator a, name *arr, const T *src,           \
                                                size_t n) {                                        \
        if (n == 0) return ZM_OK;                                                                  \
        if (name##_reserve(a, arr, n) != ZM_OK) return ZM_ENOMEM;                                  \
        memcpy(arr->items + arr->len, src, n * sizeof(T));                                         \
        arr->len += n;                                                                             \
        return ZM_OK;                                                                              \
    }                                                                                              \
    /* Puts item at position i (<= len), moving the items from i up by one.                        \
       ZM_OK, ZM_EINVAL (i > len) or ZM_ENOMEM; unchanged on failure. */                           \
    static inline zm_status name##_insert(zm_allocator a, name *arr, size_t i, T item) {           \
        if (i > arr->len) return ZM_EINVAL;                                                        \
        if (name##_reserve(a, arr, 1) != ZM_OK) return ZM_ENOMEM;                                  \
        memmove(arr->items + i + 1, arr->items + i, (arr->len - i) * sizeof(T));                   \
        arr->items[i] = item;                                                                      \
        arr->len++;                                                                                \
        return ZM_OK;                                                                              \
    }                                                                                              \
    /* Removes item i (< len) and returns it; the last item takes its place. */                    \
    static inline T name##_swap_remove(name *arr, size_t i) {                                      \
        T item = arr->items[i];                                                                    \
        arr->items[i] = arr->items[--arr->len];                                                    \
        return item;                                                                               \
    }                                                                                              \
    /* Removes item i (< len) and returns it; the items after it move down. */                     \
    static inline T name##_ordered_remove(name *arr, size_t i) {                                   \
        T item = arr->items[i];                                                                    \
        memmove(arr->items + i, arr->items + i + 1, (arr->len - i - 1) * sizeof(T));               \
        arr->len--;                                                                                \
        return item;                                                                               \
    }                                                                                              \
    /* Removes the last item (len > 0) and returns it. */                                          \
    static inline T name##_pop(name *arr) {                                                        \
        return arr->items[--arr->len];                                                             \
    }                                                                                              \
    /* Sets len to n, growing if needed; new items are uninitialised.                              \
       ZM_OK or ZM_ENOMEM (unchanged). */                                                          \
    static inline zm_status name##_resize(zm_allocator a, name *arr, size_t n) {                   \
        if (n > arr->cap && name##_grow_(a, arr, n) != ZM_OK) return ZM_ENOMEM;                    \
        arr->len = n;                                                                              \
        return ZM_OK;                                                                              \
    }                                                                                              \
    /* Sets len to n (<= len) and gives the capacity past it back to a, when a                     \
       can take it (otherwise the capacity stays). Never fails. */                                 \
    static inline void name##_shrink(zm_allocator a, name *arr, size_t n) {                        \
        size_t cap = arr->cap;                                                                     \
        arr->len = n;                                                                              \
        if (n == cap) return;                                                                      \
        arr->items = (T *)zm_array_shrink_raw(a, arr->items, &cap, n, sizeof(T), _Alignof(T));     \
        arr->cap = cap;                                                                            \
    }                                                                                              \
    /* Sets len to 0, keeping the capacity for reuse. */                                           \
    static inline void name##_clear(name *arr) {                                                   \
        arr->len = 0;                                                                              \
    }                                                                                              \
    /* Hands the items to the caller: *out is a block of exactly *n items from                     \
       a (free it with zm_free_array(a, *out, *n); with *n == 0 it may be NULL)                    \
       and arr is empty. ZM_OK, or ZM_ENOMEM when the block cannot be cut to                       \
       size (arr is then unchanged). */                                                            \
    static inline zm_status name##_to_owned(zm_allocator a, name *arr, T **out, size_t *n) {       \
        size_t cap = arr->cap;                                                                     \
        T *p = arr->items;                                                                         \
        if (cap != arr->len) {                                                                     \
            p = (T *)zm_array_shrink_raw(a, p, &cap, arr->len, sizeof(T), _Alignof(T));            \
            if (cap != arr->len) return ZM_ENOMEM;                                                 \
        }                                                                                          \
        *out = p;                                                                                  \
        *n = arr->len;                                                                             \
        arr->items = NULL;                                                                         \
        arr->len = arr->cap = 0;                                                                   \
        return ZM_OK;                                                                              \
    }                                                                                              \
    struct name /* swallows the caller's semicolon */

#ifdef __cplusplus
}
#endif
#endif
