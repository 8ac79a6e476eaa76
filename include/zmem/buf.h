/* zmem — the byte buffer, for building text.
 *
 * A zm_buf is three words (data, len, cap) and holds no allocator: every
 * function that may allocate takes one, and it must be the same allocator
 * every time (Zig's unmanaged style, as zmem/array.h). A zeroed zm_buf is
 * empty. Once it holds a block, data[len] is always a NUL byte, so data is a
 * C string (that may also hold NULs of its own).
 *
 *     zm_buf b = {0};
 *     zm_buf_append_str(a, &b, "hello");
 *     zm_buf_printf(a, &b, ", %d", 42);
 *     puts(zm_buf_str(&b));
 *     zm_buf_deinit(a, &b);
 *
 * Every function that grows the buffer either succeeds or returns ZM_ENOMEM
 * and leaves the buffer as it was (the same bytes, the same length).
 */
#ifndef ZMEM_BUF_H
#define ZMEM_BUF_H

#include <stdarg.h>

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zm_buf {
    char *data; /* len bytes and a NUL; NULL while cap is 0 */
    size_t len; /* bytes in use, the NUL not counted */
    size_t cap; /* bytes of the block, the NUL's included */
} zm_buf;

/* Gives the block back to a; b is empty and may be used again. */
void zm_buf_deinit(zm_allocator a, zm_buf *b);

/* Makes room for n more bytes (and the NUL) without growing.
   Returns ZM_OK or ZM_ENOMEM (b unchanged). */
zm_status zm_buf_reserve(zm_allocator a, zm_buf *b, size_t n);

/* zm_buf_append when b must grow first; for the inline wrapper only. */
zm_status zm__buf_append_grow(zm_allocator a, zm_buf *b, const void *data, size_t n);

/* Appends the n bytes at data (which must not point into b; NULL only when n
   is 0). Returns ZM_OK or ZM_ENOMEM (b unchanged). Inline: when there is room
   it is a copy and a NUL, with no call. */
static inline zm_status zm_buf_append(zm_allocator a, zm_buf *b, const void *data, size_t n) {
    if (ZM_UNLIKELY(b->cap - b->len <= n) || data == NULL)
        return zm__buf_append_grow(a, b, data, n);
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ZM_OK;
}

/* Appends the NUL-terminated string s. Returns ZM_OK or ZM_ENOMEM. */
zm_status zm_buf_append_str(zm_allocator a, zm_buf *b, const char *s);

/* Appends one byte. Returns ZM_OK or ZM_ENOMEM (b unchanged). */
static inline zm_status zm_buf_append_byte(zm_allocator a, zm_buf *b, char c) {
    if (ZM_UNLIKELY(b->cap - b->len < 2) && zm_buf_reserve(a, b, 1) != ZM_OK) return ZM_ENOMEM;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return ZM_OK;
}

/* Appends text formatted as by printf. Returns ZM_OK, ZM_ENOMEM, or ZM_EINVAL
   when vsnprintf fails (an encoding error, or more than INT_MAX bytes); b is
   unchanged on failure. */
zm_status zm_buf_printf(zm_allocator a, zm_buf *b, const char *fmt, ...) ZM_PRINTF_LIKE(3, 4);

/* zm_buf_printf with a va_list (which it consumes, as vsnprintf does). */
zm_status zm_buf_vprintf(zm_allocator a, zm_buf *b, const char *fmt, va_list ap)
    ZM_PRINTF_LIKE(3, 0);

/* Sets len to 0, keeping the block for reuse. */
static inline void zm_buf_clear(zm_buf *b) {
    b->len = 0;
    if (b->cap) b->data[0] = '\0';
}

/* The text: data, or "" while b holds no block. Valid until b changes. */
static inline const char *zm_buf_str(const zm_buf *b) {
    return b->cap ? b->data : "";
}

/* Hands the text to the caller: *out is a block of exactly *out_len + 1
   bytes from a, NUL-terminated (free it with zm_free(a, *out, *out_len + 1,
   1)), and b is empty. out_len may be NULL. Returns ZM_OK, or ZM_ENOMEM when
   the block could be neither cut to size nor allocated (b is then
   unchanged). */
zm_status zm_buf_take(zm_allocator a, zm_buf *b, char **out, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
