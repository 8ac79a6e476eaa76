/* The growable array's and the byte buffer's out-of-line parts. */
#include <limits.h>
#include <stdio.h>

#include "zmem/array.h"
#include "zmem/buf.h"

/* ---------------------------------------------------------------------------
 * Arrays
 * ------------------------------------------------------------------------- */

void *zm_array_grow_raw(zm_allocator a, void *items, size_t *cap, size_t need, size_t size,
                        size_t align) {
    size_t old = *cap, ncap = old * 2, least = size < 64 ? 64 / size : 1;
    if (size == 0 || need <= old) return items;
    if (ncap < old) ncap = SIZE_MAX; /* doubling overflowed: need decides */
    if (ncap < least) ncap = least;
    if (ncap < need) ncap = need;
    if (ncap > SIZE_MAX / size) {
        if (need > SIZE_MAX / size) return NULL;
        ncap = need;
    }
    void *p = zm_realloc(a, old ? items : NULL, old * size, ncap * size, align);
    if (p == NULL) return NULL;
    *cap = ncap;
    return p;
}

void *zm_array_shrink_raw(zm_allocator a, void *items, size_t *cap, size_t n, size_t size,
                          size_t align) {
    size_t old = *cap;
    if (n >= old || size == 0) return items;
    if (n == 0) {
        zm_free(a, items, old * size, align);
        *cap = 0;
        return NULL;
    }
    if (zm_resize(a, items, old * size, align, n * size)) {
        *cap = n;
        return items;
    }
    void *p = zm_realloc(a, items, old * size, n * size, align);
    if (p == NULL) return items;
    *cap = n;
    return p;
}

/* ---------------------------------------------------------------------------
 * Byte buffers
 * ------------------------------------------------------------------------- */

void zm_buf_deinit(zm_allocator a, zm_buf *b) {
    zm_free(a, b->data, b->cap, 1);
    b->data = NULL;
    b->len = b->cap = 0;
}

zm_status zm_buf_reserve(zm_allocator a, zm_buf *b, size_t n) {
    if (b->cap > b->len && b->cap - b->len - 1 >= n) return ZM_OK;
    if (n > SIZE_MAX - 1 - b->len) return ZM_ENOMEM;
    size_t cap = b->cap;
    char *p = zm_array_grow_raw(a, b->data, &cap, b->len + n + 1, 1, 1);
    if (p == NULL) return ZM_ENOMEM;
    if (b->cap == 0) p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return ZM_OK;
}

zm_status zm__buf_append_grow(zm_allocator a, zm_buf *b, const void *data, size_t n) {
    if (zm_buf_reserve(a, b, n) != ZM_OK) return ZM_ENOMEM;
    if (n) memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ZM_OK;
}

zm_status zm_buf_append_str(zm_allocator a, zm_buf *b, const char *s) {
    return zm_buf_append(a, b, s, strlen(s));
}

zm_status zm_buf_vprintf(zm_allocator a, zm_buf *b, const char *fmt, va_list ap) {
    /* Formats into the room there is; when that is too little, grows to the
       length vsnprintf reported and formats again. */
    va_list again;
    va_copy(again, ap);
    size_t room = b->cap ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    zm_status st = ZM_OK;
    if (n < 0) {
        st = ZM_EINVAL;
    } else if ((size_t)n >= room) {
        st = zm_buf_reserve(a, b, (size_t)n);
        if (st == ZM_OK) vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    if (st == ZM_OK)
        b->len += (size_t)n;
    else if (b->cap)
        b->data[b->len] = '\0'; /* what vsnprintf cut short is not kept */
    return st;
}

zm_status zm_buf_printf(zm_allocator a, zm_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    zm_status st = zm_buf_vprintf(a, b, fmt, ap);
    va_end(ap);
    return st;
}

zm_status zm_buf_take(zm_allocator a, zm_buf *b, char **out, size_t *out_len) {
    char *p = b->data;
    size_t len = b->len;
    if (b->cap == 0) {
        p = zm_alloc(a, 1, 1);
        if (p == NULL) return ZM_ENOMEM;
        p[0] = '\0';
    } else if (b->cap != len + 1) {
        size_t cap = b->cap;
        p = zm_array_shrink_raw(a, p, &cap, len + 1, 1, 1);
        if (cap != len + 1) return ZM_ENOMEM;
    }
    *out = p;
    if (out_len) *out_len = len;
    b->data = NULL;
    b->len = b->cap = 0;
    return ZM_OK;
}
