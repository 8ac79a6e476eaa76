/* Fuzz harness: the bounded line reader behind `zmem run` and `zmem mcp`.
 *
 * Input: a byte choosing the line limit, a byte seeding the read sizes, then
 * the bytes to read. They are sent through a SOCK_SEQPACKET socket in packets
 * of varying sizes, so that every read returns one packet and lines span
 * reads at arbitrary places. Each line the reader returns is compared with
 * the input split by hand: its bytes (one trailing CR dropped), whether it
 * was too long (and then its full length and first max_line bytes), and
 * whether the last one was unterminated. The spanning-line buffer never
 * grows past the limit, and everything is given back at the end.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tools/lineio.h"
#include "fuzz_common.h"

typedef struct feed {
    int fd;
    const char *text;
    size_t len;
    uint32_t seed;
} feed;

/* Sends the text in packets of 1 to 97 bytes, then closes: a thread, since
   the socket holds only so many packets before the reader takes them. */
static void *writer(void *arg) {
    feed *f = arg;
    for (size_t off = 0; off < f->len;) {
        f->seed = f->seed * 1103515245u + 12345u;
        size_t n = 1 + (f->seed >> 16) % 97;
        if (n > f->len - off) n = f->len - off;
        FZ_CHECK(write(f->fd, f->text + off, n) == (ssize_t)n);
        off += n;
    }
    close(f->fd);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    static const size_t limits[] = {1, 2, 3, 7, 16, 64, 100, 4096};
    size_t max_line = limits[fz_u8(&in) % 8];
    uint32_t seed = fz_u8(&in) * 2654435761u + 1;
    const char *text = (const char *)in.p;
    size_t len = in.n;

    int sv[2];
    FZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
    feed f = {sv[0], text, len, seed};
    pthread_t th;
    FZ_CHECK(pthread_create(&th, NULL, writer, &f) == 0);

    fz_track t;
    zt_lines r;
    FZ_CHECK(zt_lines_init(&r, fz_track_init(&t, zm_c_allocator()), sv[1], max_line));
    size_t pos = 0; /* where the next expected line starts in text */
    for (;;) {
        const char *line;
        size_t n;
        zt_line_kind k = zt_lines_next(&r, &line, &n);
        FZ_CHECKF(k != ZT_LINE_ERROR, "line reader error");
        FZ_CHECKF(r.acc_cap <= max_line, "the line buffer grew to %zu for a limit of %zu",
                  r.acc_cap, max_line);
        if (k == ZT_LINE_EOF) {
            FZ_CHECKF(pos == len, "end of input reported at %zu of %zu", pos, len);
            break;
        }
        FZ_CHECKF(pos < len, "a line past the end of the input");
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t full = nl ? (size_t)(nl - (text + pos)) : len - pos;
        FZ_CHECKF(r.unterminated == (nl == NULL), "unterminated %d for the line at %zu",
                  (int)r.unterminated, pos);
        if (full > max_line) {
            FZ_CHECKF(k == ZT_LINE_TOO_LONG, "a %zu-byte line over the limit %zu was returned",
                      full, max_line);
            FZ_CHECK(r.too_long_bytes == full);
            FZ_CHECK(n == max_line && memcmp(line, text + pos, n) == 0);
        } else {
            FZ_CHECKF(k == ZT_LINE, "a %zu-byte line within the limit %zu was refused", full,
                      max_line);
            size_t want = full > 0 && text[pos + full - 1] == '\r' ? full - 1 : full;
            FZ_CHECKF(n == want && memcmp(line, text + pos, n) == 0,
                      "line at %zu: got %zu bytes, expected %zu", pos, n, want);
        }
        pos += full + (nl ? 1 : 0);
    }
    pthread_join(th, NULL);
    zt_lines_deinit(&r);
    close(sv[1]);
    fz_track_finish(&t, "line reader");
    return 0;
}
