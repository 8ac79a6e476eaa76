/* A line reader over a file descriptor with a bound on the line length: a
   line longer than the bound is skipped and reported as too long (its first
   max_line bytes are kept, for a look at its start; the rest is read and
   dropped), so memory stays bounded by max_line whatever the input. Lines
   that fit in the read buffer are returned without a copy. */
#ifndef ZMEM_TOOLS_LINEIO_H
#define ZMEM_TOOLS_LINEIO_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "zmem/allocator.h"

typedef enum zt_line_kind {
    ZT_LINE,          /* a line (without its "\n" or "\r\n") */
    ZT_LINE_TOO_LONG, /* a line longer than max_line, skipped */
    ZT_LINE_EOF,      /* no more input */
    ZT_LINE_ERROR,    /* a read error (errno is set) or out of memory */
} zt_line_kind;

typedef struct zt_lines {
    int fd;
    zm_allocator a;
    size_t max_line;
    char *buf; /* the read buffer */
    size_t cap, start, end;
    char *acc; /* a line that spans reads, at most max_line bytes */
    size_t acc_len, acc_cap;
    bool eof;
    bool unterminated;     /* the last line returned had no "\n" (it ended the input) */
    size_t too_long_bytes; /* with ZT_LINE_TOO_LONG: the line's full length */
    /* Called before a read that may block (when no input is buffered), and
       again after on_signal. */
    void (*before_wait)(void *arg);
    void *before_wait_arg;
    /* When set, the reader waits for input with pselect under this signal
       mask, so that a signal blocked elsewhere is taken only while waiting
       (never lost between a check and the wait), and calls on_signal after
       each wait or read a signal interrupted, then goes on reading. */
    const sigset_t *wait_mask;
    void (*on_signal)(void *arg);
    void *on_signal_arg;
} zt_lines;

/* Makes a reader of fd with lines of at most max_line bytes. Returns false
   when the read buffer cannot be allocated. */
bool zt_lines_init(zt_lines *r, zm_allocator a, int fd, size_t max_line);

/* Frees the reader's buffers (not the fd). */
void zt_lines_deinit(zt_lines *r);

/* Reads the next line. With ZT_LINE, *line and *len give it (valid until the
   next call; not NUL-terminated). With ZT_LINE_TOO_LONG, *line and *len give
   up to the first max_line bytes (for a best-effort look at the start) and
   r->too_long_bytes the full length. */
zt_line_kind zt_lines_next(zt_lines *r, const char **line, size_t *len);

#endif
