/* The bounded line reader. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "lineio.h"

#define READ_BUF ((size_t)64 << 10)
/* A spanning-line buffer larger than this is given back after its line. */
#define ACC_KEEP ((size_t)1 << 20)

bool zt_lines_init(zt_lines *r, zm_allocator a, int fd, size_t max_line) {
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->a = a;
    r->max_line = max_line ? max_line : 1;
    r->buf = zm_alloc(a, READ_BUF, 1);
    if (r->buf == NULL) return false;
    r->cap = READ_BUF;
    return true;
}

void zt_lines_deinit(zt_lines *r) {
    zm_free(r->a, r->buf, r->cap, 1);
    zm_free(r->a, r->acc, r->acc_cap, 1);
    r->buf = r->acc = NULL;
    r->cap = r->acc_cap = 0;
}

/* After a signal interrupted a wait or a read: on_signal, then before_wait
   again, since the reader waits again and on_signal may have used what
   before_wait gives back (a store's held read, say). */
static void signalled(zt_lines *r) {
    if (r->on_signal) r->on_signal(r->on_signal_arg);
    if (r->before_wait) r->before_wait(r->before_wait_arg);
}

/* Refills the read buffer; false at EOF or on error (r->eof tells which). */
static bool fill(zt_lines *r) {
    if (r->eof) return false;
    if (r->before_wait) r->before_wait(r->before_wait_arg);
    for (;;) {
        if (r->wait_mask != NULL && r->fd < FD_SETSIZE) {
            fd_set in;
            FD_ZERO(&in);
            FD_SET(r->fd, &in);
            if (pselect(r->fd + 1, &in, NULL, NULL, NULL, r->wait_mask) < 0) {
                if (errno != EINTR) return false;
                signalled(r);
                continue;
            }
        }
        ssize_t n = read(r->fd, r->buf, r->cap);
        if (n > 0) {
            r->start = 0;
            r->end = (size_t)n;
            return true;
        }
        if (n == 0) {
            r->eof = true;
            return false;
        }
        if (errno != EINTR) return false;
        signalled(r);
    }
}

/* Appends to the spanning-line buffer, up to max_line bytes; returns false on
   out of memory. Bytes past max_line are counted, not kept. */
static bool acc_add(zt_lines *r, const char *p, size_t n, size_t *total) {
    *total += n;
    size_t room = r->max_line > r->acc_len ? r->max_line - r->acc_len : 0;
    if (n > room) n = room;
    if (n == 0) return true;
    if (n > r->acc_cap - r->acc_len) {
        size_t cap = r->acc_cap ? r->acc_cap : 4096;
        while (cap < r->acc_len + n) cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
        if (cap > r->max_line) cap = r->max_line;
        char *q = zm_realloc(r->a, r->acc, r->acc_cap, cap, 1);
        if (q == NULL) return false;
        r->acc = q;
        r->acc_cap = cap;
    }
    memcpy(r->acc + r->acc_len, p, n);
    r->acc_len += n;
    return true;
}

static size_t strip_cr(const char *p, size_t n) {
    return n > 0 && p[n - 1] == '\r' ? n - 1 : n;
}

zt_line_kind zt_lines_next(zt_lines *r, const char **line, size_t *len) {
    r->unterminated = false;
    r->too_long_bytes = 0;
    if (r->acc_cap > ACC_KEEP) {
        zm_free(r->a, r->acc, r->acc_cap, 1);
        r->acc = NULL;
        r->acc_cap = 0;
    }
    r->acc_len = 0;
    size_t total = 0;
    bool spanning = false;
    for (;;) {
        if (r->start == r->end && !fill(r)) {
            if (!r->eof) return ZT_LINE_ERROR;
            if (!spanning) return ZT_LINE_EOF;
            r->unterminated = true;
            break;
        }
        char *p = r->buf + r->start;
        size_t avail = r->end - r->start;
        char *nl = memchr(p, '\n', avail);
        size_t take = nl ? (size_t)(nl - p) : avail;
        if (nl != NULL && !spanning && take <= r->max_line) {
            /* The whole line is in the read buffer: no copy. */
            r->start += take + 1;
            *line = p;
            *len = strip_cr(p, take);
            return ZT_LINE;
        }
        spanning = true;
        if (!acc_add(r, p, take, &total)) return ZT_LINE_ERROR;
        r->start += take + (nl ? 1 : 0);
        if (nl != NULL) break;
    }
    *line = r->acc;
    if (total > r->max_line) {
        r->too_long_bytes = total;
        *len = r->acc_len;
        return ZT_LINE_TOO_LONG;
    }
    *len = strip_cr(r->acc, r->acc_len);
    return ZT_LINE;
}
