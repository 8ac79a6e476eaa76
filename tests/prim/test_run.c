/* zmem run's loop over files: bad lines, blank lines, CRLF, a last line
   without a newline, over-long lines (one of 100 MB, read with bounded
   memory), and the helpers. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <unistd.h>

#include "counting.h"
#include "prims.h"
#include "run_cmd.h"
#include "test.h"
#include "text_lines.h"

static zm_prim_registry *reg;
static tp_state state;

/* Writes text to a new temporary file; returns its fd, positioned at 0. */
static int temp_with(const char *text, size_t len) {
    FILE *f = tmpfile();
    if (f == NULL) return -1;
    fwrite(text, 1, len, f);
    fflush(f);
    int fd = dup(fileno(f));
    fclose(f);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* Runs the loop over fd; returns the output (malloc'd) and the counts. */
static char *run_fd(zm_prim_ctx *ctx, int fd, size_t max_line, zt_run_counts *counts, int *rc) {
    FILE *out = tmpfile();
    *rc = zt_run_stream(reg, ctx, NULL, fd, out, max_line, counts);
    long n = ftell(out);
    char *text = malloc((size_t)n + 1);
    rewind(out);
    size_t got = fread(text, 1, (size_t)n, out);
    text[got] = '\0';
    fclose(out);
    close(fd);
    return text;
}

static void test_lines(void) {
    zm_prim_ctx *ctx;
    CHECK_EQ(zm_prim_ctx_create(NULL, &ctx), ZM_OK);
    const char input[] =
        "{\"id\":1,\"primitive\":\"echo1\",\"params\":{\"msg\":\"a\"}}\n"
        "\n"
        "   \n"
        "{\"id\":2,\"primitive\":\"echo1\",\"params\":{\"msg\":\"b\"}}\r\n"
        "this is not json\n"
        "{\"id\":3,\"primitive\":\"nope\"}\n"
        "{\"id\":4,\"primitive\":\"echo1\",\"params\":{\"msg\":\"0123456789012345678"
        "901234567890123456789012345678901234567890123456789\"}}\n"
        "{\"id\":5,\"batch\":[{\"primitive\":\"add\",\"params\":{\"a\":1,\"b\":2}},"
        "{\"primitive\":\"add\",\"params\":{\"a\":\"$0.result.sum\",\"b\":3}}]}\n"
        "{\"id\":6,\"primitive\":\"echo1\",\"params\":{\"msg\":\"last\"}}";
    int fd = temp_with(input, sizeof input - 1);
    zt_run_counts counts;
    int rc;
    /* max_line 100: line 4 (id 4, 118 bytes) is refused, line 5 (the batch) too. */
    char *out = run_fd(ctx, fd, 100, &counts, &rc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(count_lines(out), 7);
    CHECK_STR(line_at(out, 0), "{\"id\":1,\"ok\":true,\"result\":{\"msg\":\"a\"}}");
    CHECK_STR(line_at(out, 1), "{\"id\":2,\"ok\":true,\"result\":{\"msg\":\"b\"}}");
    CHECK(strstr(line_at(out, 2), "\"id\":null,\"ok\":false,\"error\":{\"code\":\"parse_error\"") !=
          NULL);
    CHECK(strstr(line_at(out, 3),
                 "\"id\":3,\"ok\":false,\"error\":{\"code\":\"unknown_primitive\"") != NULL);
    CHECK(strstr(line_at(out, 4),
                 "{\"id\":4,\"ok\":false,\"error\":{\"code\":\"limit_exceeded\"") != NULL);
    CHECK(strstr(line_at(out, 4),
                 "request line of 118 bytes is longer than the limit of 100 bytes") != NULL);
    CHECK(strstr(line_at(out, 5),
                 "{\"id\":5,\"ok\":false,\"error\":{\"code\":\"limit_exceeded\"") != NULL);
    CHECK_STR(line_at(out, 6), "{\"id\":6,\"ok\":true,\"result\":{\"msg\":\"last\"}}");
    CHECK_EQ(counts.requests, 7);
    CHECK_EQ(counts.errors, 4);
    CHECK_EQ(counts.too_long, 2);
    free(out);

    /* With room, the batch works. */
    fd = temp_with(input, sizeof input - 1);
    out = run_fd(ctx, fd, 1 << 20, &counts, &rc);
    CHECK_EQ(counts.too_long, 0);
    CHECK(strstr(line_at(out, 5), "{\"ok\":true,\"result\":{\"sum\":6,\"parts\":[3,3]}}") != NULL);
    free(out);
    /* Empty input: no output. */
    fd = temp_with("", 0);
    out = run_fd(ctx, fd, 100, &counts, &rc);
    CHECK_EQ(rc, 0);
    CHECK_STR(out, "");
    free(out);
    zm_prim_ctx_destroy(ctx);
}

/* Lines that straddle the reader's 64 KiB buffer, many of them. */
static void test_spanning_lines(void) {
    zm_prim_ctx *ctx;
    CHECK_EQ(zm_prim_ctx_create(NULL, &ctx), ZM_OK);
    size_t cap = 4 << 20, len = 0;
    char *input = malloc(cap);
    int n = 0;
    for (int i = 0; len < (3u << 20); i++, n++) {
        int w = snprintf(input + len, cap - len,
                         "{\"id\":%d,\"primitive\":\"echo1\",\"params\":{\"msg\":\"", i);
        len += (size_t)w;
        size_t pad = (size_t)(i * 7919) % 70000;
        memset(input + len, 'p', pad);
        len += pad;
        len += (size_t)snprintf(input + len, cap - len, "\"}}\n");
    }
    int fd = temp_with(input, len);
    zt_run_counts counts;
    int rc;
    char *out = run_fd(ctx, fd, 1 << 20, &counts, &rc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(count_lines(out), n);
    CHECK_EQ(counts.requests, (uint64_t)n);
    CHECK_EQ(counts.errors, 0);
    free(out);
    free(input);
    zm_prim_ctx_destroy(ctx);
}

/* A 100 MB line (20 MB under valgrind) with a 1 MiB limit: refused with its
   id, read in bounded memory, and the next line is answered. */
static void test_huge_line(void) {
    zt_counting cnt;
    zm_prim_ctx_opts o;
    memset(&o, 0, sizeof o);
    o.longlived = zt_counting_init(&cnt, zm_default_allocator());
    zm_prim_ctx *ctx;
    CHECK_EQ(zm_prim_ctx_create(&o, &ctx), ZM_OK);
    size_t huge = zt_small() ? (20u << 20) : (100u << 20);
    FILE *f = tmpfile();
    fputs("{\"id\": \"big-1\", \"primitive\":\"echo\",\"params\":{\"value\":\"", f);
    static char chunk[1 << 16];
    memset(chunk, 'h', sizeof chunk);
    for (size_t w = 0; w < huge; w += sizeof chunk) fwrite(chunk, 1, sizeof chunk, f);
    fputs("\"}}\n{\"id\":2,\"primitive\":\"echo1\",\"params\":{\"msg\":\"after\"}}\n", f);
    fflush(f);
    int fd = dup(fileno(f));
    fclose(f);
    lseek(fd, 0, SEEK_SET);
    zt_run_counts counts;
    int rc;
    char *out = run_fd(ctx, fd, 1 << 20, &counts, &rc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(count_lines(out), 2);
    CHECK(strstr(line_at(out, 0),
                 "{\"id\":\"big-1\",\"ok\":false,\"error\":{\"code\":\"limit_exceeded\"") != NULL);
    CHECK_STR(line_at(out, 1), "{\"id\":2,\"ok\":true,\"result\":{\"msg\":\"after\"}}");
    /* Bounded: the line buffer (at most the limit), the read buffer, the context. */
    CHECK(cnt.peak < (4u << 20));
    free(out);
    zm_prim_ctx_destroy(ctx);
    CHECK_EQ(cnt.live, 0);
}

static void test_sniff_id(void) {
    char id[64];
    const char *cases[][2] = {
        {"{\"id\":12,\"prim", "12"},
        {"  { \"id\" :  \"a\\\"b\" ,", "\"a\\\"b\""},
        {"{\"id\":-1.5e3,", "-1.5e3"},
        {"{\"id\":null,", "null"},
        {"{\"id\":true}", "true"},
        {"{\"id\":{\"x\":1},", "null"},
        {"{\"primitive\":\"x\",\"id\":1", "null"},
        {"{\"id\":\"unterminated", "null"},
        {"{\"id\":01,", "null"},
        {"{\"id\":nul,", "null"},
        {"", "null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zt_sniff_id(cases[i][0], strlen(cases[i][0]), id, sizeof id);
        CHECK_STR(id, cases[i][1]);
    }
}

static void test_parse_size(void) {
    size_t v;
    CHECK(zt_parse_size("100", &v) && v == 100);
    CHECK(zt_parse_size("4K", &v) && v == 4096);
    CHECK(zt_parse_size("16M", &v) && v == (16u << 20));
    CHECK(zt_parse_size("1g", &v) && v == (1u << 30));
    CHECK(!zt_parse_size("0", &v));
    CHECK(!zt_parse_size("-1", &v));
    CHECK(!zt_parse_size("12X", &v));
    CHECK(!zt_parse_size("", &v));
    CHECK(!zt_parse_size(NULL, &v));
    CHECK(!zt_parse_size("99999999999999999999999", &v));
}

int main(void) {
    if (tp_registry_create(&reg, &state) != ZM_OK) return 1;
    RUN(test_lines);
    RUN(test_spanning_lines);
    RUN(test_huge_line);
    RUN(test_sniff_id);
    RUN(test_parse_size);
    zm_prim_registry_destroy(reg);
    return zt_finish("prim_run");
}
