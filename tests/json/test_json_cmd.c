/* zmem json check / fmt / bench, called through zm_tool_json_run with
 * temporary files for input, output and errors: exit codes and messages.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "json_cmd.h"
#include "test.h"

static char dir[] = "/tmp/zmem-json-cmd-XXXXXX";

/* Writes content to a file in the temporary directory; returns its path. */
static const char *make_file(const char *name, const char *content) {
    static char paths[8][512];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, 512, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) return path;
    fputs(content, f);
    fclose(f);
    return path;
}

/* The whole content of a stream written so far (static buffer). */
static const char *slurp(FILE *f, char *buf, size_t cap) {
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    return buf;
}

typedef struct run {
    int rc;
    char out[8192];
    char err[8192];
} run;

/* Runs "json" + args with stdin content in (NULL: empty). */
static void run_cmd(run *r, const char *in, int argc, const char *const *args) {
    char *argv[16];
    argv[0] = "json";
    for (int i = 0; i < argc && i < 14; i++) argv[i + 1] = (char *)args[i];
    argv[argc + 1] = NULL;
    FILE *fin = tmpfile(), *fout = tmpfile(), *ferr = tmpfile();
    if (fin == NULL || fout == NULL || ferr == NULL) {
        CHECK(!"tmpfile failed");
        return;
    }
    if (in) fputs(in, fin);
    rewind(fin);
    r->rc = zm_tool_json_run(argc + 1, argv, fin, fout, ferr);
    slurp(fout, r->out, sizeof r->out);
    slurp(ferr, r->err, sizeof r->err);
    fclose(fin);
    fclose(fout);
    fclose(ferr);
}

#define RUN_CMD(r, in, ...)                                                                        \
    do {                                                                                           \
        const char *const zt_args[] = {__VA_ARGS__};                                               \
        run_cmd((r), (in), (int)(sizeof zt_args / sizeof zt_args[0]), zt_args);                    \
    } while (0)

static bool starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_check(void) {
    static run r;
    const char *good = make_file("good.json", "{\"a\": [1, 2.5, \"x\", null, true]}\n");
    RUN_CMD(&r, NULL, "check", good);
    CHECK_EQ(r.rc, 0);
    CHECK_STR(r.err, "");

    /* Invalid: FILE:LINE:COL: message, exit 1. The error is on line 3. */
    const char *bad = make_file("bad.json", "{\n  \"a\": 1,\n  \"b\": ]\n}\n");
    RUN_CMD(&r, NULL, "check", bad);
    CHECK_EQ(r.rc, 1);
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s:3:8: ", bad);
    CHECK(starts_with(r.err, prefix));
    if (!starts_with(r.err, prefix)) fprintf(stderr, "  stderr: %s", r.err);
    CHECK(strlen(r.err) > strlen(prefix) + 1); /* a message follows */
    CHECK(r.err[strlen(r.err) - 1] == '\n');

    /* Empty and trailing-garbage documents are invalid too. */
    RUN_CMD(&r, NULL, "check", make_file("empty.json", ""));
    CHECK_EQ(r.rc, 1);
    RUN_CMD(&r, NULL, "check", make_file("trail.json", "[1] x"));
    CHECK_EQ(r.rc, 1);

    /* Standard input. */
    RUN_CMD(&r, "[1,2,3]", "check", "-");
    CHECK_EQ(r.rc, 0);
    RUN_CMD(&r, "[1,2,", "check", "-");
    CHECK_EQ(r.rc, 1);
    CHECK(starts_with(r.err, "<stdin>:1:6: "));

    /* Usage and I/O errors: exit 2. */
    snprintf(prefix, sizeof prefix, "%s/does-not-exist.json", dir);
    RUN_CMD(&r, NULL, "check", prefix);
    CHECK_EQ(r.rc, 2);
    CHECK(strstr(r.err, "does-not-exist.json") != NULL);
    RUN_CMD(&r, NULL, "check");
    CHECK_EQ(r.rc, 2);
    CHECK(strstr(r.err, "usage") != NULL);
    RUN_CMD(&r, NULL, "check", good, good);
    CHECK_EQ(r.rc, 2);
    RUN_CMD(&r, NULL, "frobnicate");
    CHECK_EQ(r.rc, 2);
    RUN_CMD(&r, NULL, "check", dir); /* a directory cannot be read */
    CHECK_EQ(r.rc, 2);
    {
        char *argv[] = {"json", NULL};
        FILE *e = tmpfile();
        CHECK_EQ(zm_tool_json_run(1, argv, stdin, stdout, e), 2);
        fclose(e);
    }
    RUN_CMD(&r, NULL, "--help");
    CHECK_EQ(r.rc, 0);
    CHECK(strstr(r.out, "zmem json check") != NULL);
}

static void test_fmt(void) {
    static run r;
    const char *f = make_file("fmt.json", " { \"b\" : [ 1 , { } , [ ] ] , \"a\" : \"\xc3\xa9\" } ");
    RUN_CMD(&r, NULL, "fmt", f);
    CHECK_EQ(r.rc, 0);
    CHECK_STR(r.out, "{\"b\":[1,{},[]],\"a\":\"\xc3\xa9\"}\n");

    RUN_CMD(&r, NULL, "fmt", "--ascii", f);
    CHECK_EQ(r.rc, 0);
    CHECK_STR(r.out, "{\"b\":[1,{},[]],\"a\":\"\\u00e9\"}\n");

    RUN_CMD(&r, NULL, "fmt", "--pretty", make_file("p.json", "{\"a\":[1,2],\"b\":{\"c\":null}}"));
    CHECK_EQ(r.rc, 0);
    CHECK_STR(r.out, "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {\n    \"c\": null\n  }\n}\n");

    RUN_CMD(&r, "{\"a\":[1]}", "fmt", "--indent4", "-");
    CHECK_EQ(r.rc, 0);
    CHECK_STR(r.out, "{\n    \"a\": [\n        1\n    ]\n}\n");

    RUN_CMD(&r, "{\"a\":}", "fmt", "-");
    CHECK_EQ(r.rc, 1);
    CHECK_STR(r.out, "");
    CHECK(starts_with(r.err, "<stdin>:1:6: "));

    RUN_CMD(&r, NULL, "fmt", "--wide", f);
    CHECK_EQ(r.rc, 2);
    RUN_CMD(&r, NULL, "fmt");
    CHECK_EQ(r.rc, 2);
}

static void test_bench(void) {
    static run r;
    const char *f = make_file("b.json", "{\"a\":[1,2,3,\"four\",{\"five\":5.5}]}");
    RUN_CMD(&r, NULL, "bench", "--min-ms", "5", f, f);
    CHECK_EQ(r.rc, 0);
    CHECK(strstr(r.out, "parse MB/s") != NULL);
    CHECK(strstr(r.out, "b.json") != NULL);

    RUN_CMD(&r, NULL, "bench", "--min-ms", "5", make_file("bad2.json", "[1,,2]"));
    CHECK_EQ(r.rc, 1);
    RUN_CMD(&r, NULL, "bench");
    CHECK_EQ(r.rc, 2);
    RUN_CMD(&r, NULL, "bench", "--min-ms", "x", f);
    CHECK_EQ(r.rc, 2);
}

int main(void) {
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_check);
    RUN(test_fmt);
    RUN(test_bench);
    const char *names[] = {"good.json", "bad.json", "empty.json", "trail.json",
                           "fmt.json",  "p.json",   "b.json",     "bad2.json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
    }
    rmdir(dir);
    return zt_finish("json_cmd");
}
