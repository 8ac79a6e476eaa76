/* The zmem program as a user runs it: usage errors, help and version, `zmem
   run` on a file, and `zmem mcp` driven with a scripted standard input whose
   output is checked line by line, including a client that disconnects in the
   middle of a message.

     test_cli ZMEM_EXE */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>

#include "test.h"
#include "text_lines.h"
#include "zmem/store.h"

#include "cli_run.h"

static void test_usage(void) {
    /* One byte past the store's name limit. */
    static char long_id[1026];
    memset(long_id, 'a', sizeof long_id - 1);
    proc p = run("", 0, NULL);
    CHECK_EQ(p.status, 2);
    CHECK_STR(p.out, "");
    CHECK_HAS(p.err, "usage: zmem");
    proc_free(&p);
    p = run("", 0, "--help", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_HAS(p.out, "usage: zmem");
    CHECK_HAS(p.out, "run");
    CHECK_HAS(p.out, "mcp");
    CHECK_HAS(p.out, "run [--db PATH] [--sync normal|full] [--stats[=json]] [--max-line BYTES]");
    CHECK_HAS(p.out, "mcp [--db PATH] [--sync normal|full] [--max-line BYTES] [--agent ID]");
    proc_free(&p);
    p = run("", 0, "--version", NULL);
    CHECK_EQ(p.status, 0);
    CHECK(strncmp(p.out, "zmem ", 5) == 0);
    proc_free(&p);
    const char *bad[][3] = {
        {"frobnicate", NULL, NULL},
        {"run", "--bogus", NULL},
        {"run", "--max-line", NULL},
        {"run", "--max-line", "0"},
        {"run", "a", "b"},
        {"mcp", "extra", NULL},
        {"mcp", "--max-line", "x"},
        {"run", "--agent", NULL},
        {"mcp", "--session", NULL},
        {"run", "--agent", "a\xff"},
        {"mcp", "--agent=\xc0\x80", NULL},
        {"mcp", "--session", "\xed\xa0\x80"},
        {"run", "--agent", long_id},
        {"mcp", "--session", long_id},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = run("", 0, bad[i][0], bad[i][1], bad[i][2], NULL);
        CHECK_EQ(p.status, 2);
        CHECK_STR(p.out, "");
        CHECK(p.err[0] != '\0');
        proc_free(&p);
    }
    p = run("", 0, "run", "/nonexistent/requests.jsonl", NULL);
    CHECK_EQ(p.status, 1);
    CHECK_HAS(p.err, "/nonexistent/requests.jsonl");
    proc_free(&p);
    p = run("", 0, "run", "--help", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_HAS(p.out, "usage: zmem run");
    proc_free(&p);
}

static void test_run(void) {
    const char in[] = "{\"id\":1,\"primitive\":\"no_such_primitive\"}\n"
                      "garbage\n"
                      "\n"
                      "{\"id\":\"long\",\"primitive\":\"x\",\"params\":{\"pad\":"
                      "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}\n"
                      "{\"id\":3,\"batch\":[]}";
    proc p = run(in, sizeof in - 1, "run", "--stats", "--max-line=64", "-", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_EQ(count_lines(p.out), 4);
    CHECK_HAS(line_at(p.out, 0),
              "{\"id\":1,\"ok\":false,\"error\":{\"code\":\"unknown_primitive\"");
    CHECK_HAS(line_at(p.out, 1), "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"parse_error\"");
    CHECK_HAS(line_at(p.out, 2),
              "{\"id\":\"long\",\"ok\":false,\"error\":{\"code\":\"limit_exceeded\"");
    CHECK_STR(line_at(p.out, 3), "{\"id\":3,\"ok\":true,\"batch\":[]}");
    /* --stats: memory statistics on standard error. */
    CHECK_HAS(p.err, "4 requests");
    CHECK_HAS(p.err, "per-call arena");
    CHECK_HAS(p.err, "long-lived allocator");
    proc_free(&p);
}

/* The identity given on the command line reaches the primitives. */
static void test_identity(void) {
    const char in[] = "{\"id\":1,\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":1}}\n"
                      "{\"id\":2,\"primitive\":\"retrieve\",\"params\":{\"key\":\"k\"}}\n";
    proc p = run(in, sizeof in - 1, "run", "--agent", "planner-7", "--session=s-1", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_HAS(line_at(p.out, 1), "\"agent\":\"planner-7\"");
    proc_free(&p);
}

static void test_mcp_session(void) {
    const char in[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
        "\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"cli-test\",\"version\":"
        "\"1\"}}}\n"
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"no/such/method\"}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}\n"
        "this is not json\n"
        "[{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}]\n"
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\n";
    proc p = run(in, sizeof in - 1, "mcp", "--db", ":memory:", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_EQ(count_lines(p.out), 8);
    CHECK_HAS(line_at(p.out, 0), "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":"
                                 "\"2025-06-18\",\"capabilities\":{\"tools\":{");
    CHECK_HAS(line_at(p.out, 0), "\"serverInfo\":{\"name\":\"zmem\"");
    CHECK_STR(line_at(p.out, 1), "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}");
    CHECK_HAS(line_at(p.out, 2), "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":[");
    CHECK_STR(line_at(p.out, 3), "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32601,"
                                 "\"message\":\"Method not found: no/such/method\"}}");
    CHECK_STR(line_at(p.out, 4), "{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":-32602,"
                                 "\"message\":\"Invalid params: Unknown tool: nope\"}}");
    CHECK_HAS(line_at(p.out, 5), "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,");
    CHECK_HAS(line_at(p.out, 6), "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,");
    CHECK_STR(line_at(p.out, 7), "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}");
    proc_free(&p);
}

/* A last message without its newline is answered when it is whole. */
static void test_mcp_last_line(void) {
    const char in[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
                      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}";
    proc p = run(in, sizeof in - 1, "mcp", "--db", ":memory:", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.out, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
                     "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n");
    CHECK_STR(p.err, "");
    proc_free(&p);
}

/* A request sent without an id gets no response, and a note on stderr. */
static void test_mcp_request_as_notification(void) {
    const char in[] =
        "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"x\"}}\n"
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
    proc p = run(in, sizeof in - 1, "mcp", "--db", ":memory:", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.out, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n");
    CHECK_HAS(p.err, "ignored \"tools/call\" sent as a notification");
    CHECK_EQ(count_lines(p.err), 1);
    proc_free(&p);
}

/* A write error on standard output ends the server with status 1 and a
   message, as it does zmem run. */
static void test_write_error(void) {
    if (access("/dev/full", W_OK) != 0) return;
    stdout_path = "/dev/full";
    const char in[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
    proc p = run(in, sizeof in - 1, "mcp", "--db", ":memory:", NULL);
    CHECK_EQ(p.status, 1);
    CHECK_HAS(p.err, "zmem mcp: writing output:");
    proc_free(&p);
    const char req[] = "{\"id\":1,\"primitive\":\"x\"}\n";
    p = run(req, sizeof req - 1, "run", NULL);
    CHECK_EQ(p.status, 1);
    CHECK_HAS(p.err, "writing output:");
    proc_free(&p);
    stdout_path = NULL;
}

/* The client goes away in the middle of a message: the complete messages are
   answered, the partial one dropped, and the server exits 0. */
static void test_mcp_disconnect(void) {
    const char in[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
                      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"pi";
    proc p = run(in, sizeof in - 1, "mcp", "--db", ":memory:", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.out, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n");
    CHECK_HAS(p.err, "dropped");
    proc_free(&p);
    /* No input at all. */
    p = run("", 0, "mcp", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.out, "");
    proc_free(&p);
    /* A message longer than the limit. */
    const char big[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":"
                       "\"0123456789012345678901234567890123456789\"}}\n"
                       "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n";
    p = run(big, sizeof big - 1, "mcp", "--max-line", "64", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_HAS(line_at(p.out, 0), "\"id\":null,\"error\":{\"code\":-32600");
    CHECK_STR(line_at(p.out, 1), "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}");
    proc_free(&p);
}

/* Under --memory-limit, writes past the limit fail with limit_exceeded, the
   program goes on serving, and what was acknowledged stays readable. */
static void test_memory_limit(void) {
    size_t cap = 4000 * 2200 + 4096, len = 0;
    char *in = malloc(cap);
    CHECK(in != NULL);
    if (in == NULL) return;
    for (int i = 0; i < 4000; i++)
        len += (size_t)snprintf(in + len, cap - len,
                                "{\"id\":%d,\"primitive\":\"store\",\"params\":{\"key\":\"k%d\","
                                "\"value\":\"%02000d\"}}\n",
                                i, i, i);
    len +=
        (size_t)snprintf(in + len, cap - len,
                         "{\"id\":\"r\",\"primitive\":\"retrieve\",\"params\":{\"key\":\"k1\"}}\n"
                         "{\"id\":\"s\",\"primitive\":\"search\",\"params\":{\"query\":\"k1\","
                         "\"mode\":\"exact\"}}\n");
    proc p = run(in, len, "run", "--memory-limit", "1M", NULL);
    free(in);
    CHECK_EQ(p.status, 0);
    CHECK_HAS(p.out, "{\"id\":3999,\"ok\":false,\"error\":{\"code\":\"limit_exceeded\"");
    CHECK_HAS(p.out, "{\"id\":0,\"ok\":true");
    CHECK_HAS(p.out, "{\"id\":\"r\",\"ok\":true,\"result\":{\"exists\":true,\"key\":\"k1\"");
    CHECK_HAS(p.out, "{\"id\":\"s\",\"ok\":true,\"result\":{\"results\":[{\"key\":\"k1\"");
    CHECK_EQ(count_lines(p.out), 4002);
    proc_free(&p);
    /* On an SQLite file (SQLite's own memory counts too): what was
       acknowledged under the limit is all there afterwards. */
    if (zm_store_backend_available("sqlite")) {
        char dir[] = "/tmp/zmem-limit-XXXXXX";
        CHECK(mkdtemp(dir) != NULL);
        char db[64];
        snprintf(db, sizeof db, "%s/m.db", dir);
        /* Under valgrind (which also runs the program) fewer writes, and a
           lower limit that they still cross: the process peaks at about 400
           KiB after one write and 560 KiB after 700 (zmem run --stats). */
        int writes = zt_small() ? 700 : 3000;
        const char *limit = zt_small() ? "480K" : "600K";
        size_t cap2 = (size_t)writes * 200 + 64, len2 = 0;
        char *in2 = malloc(cap2);
        CHECK(in2 != NULL);
        if (in2 == NULL) return;
        for (int i = 0; i < writes; i++)
            len2 += (size_t)snprintf(in2 + len2, cap2 - len2,
                                     "{\"id\":%d,\"primitive\":\"store\",\"params\":{\"key\":"
                                     "\"k%d\",\"value\":\"%0120d\"}}\n",
                                     i, i, i);
        p = run(in2, len2, "run", "--db", db, "--memory-limit", limit, NULL);
        CHECK_EQ(p.status, 0);
        CHECK_HAS(p.out, "\"code\":\"limit_exceeded\"");
        /* Read back every key: acknowledged ones exist, refused ones do not. */
        size_t rlen = 0;
        for (int i = 0; i < writes; i++)
            rlen += (size_t)snprintf(in2 + rlen, cap2 - rlen,
                                     "{\"id\":%d,\"primitive\":\"retrieve\",\"params\":{"
                                     "\"key\":\"k%d\"}}\n",
                                     i, i);
        proc r = run(in2, rlen, "run", "--db", db, NULL);
        CHECK_EQ(r.status, 0);
        int acked = 0, lost = 0;
        const char *w = p.out, *g = r.out;
        for (int i = 0; i < writes && w && g; i++) {
            const char *wn = strchr(w, '\n'), *gn = strchr(g, '\n');
            if (wn == NULL || gn == NULL) break;
            bool ok = strncmp(w + strcspn(w, ","), ",\"ok\":true", 10) == 0;
            bool exists = memmem(g, (size_t)(gn - g), "\"exists\":true", 13) != NULL;
            acked += ok;
            if (ok && !exists) lost++;
            w = wn + 1;
            g = gn + 1;
        }
        CHECK(acked > 0 && acked < writes);
        CHECK_EQ(lost, 0);
        proc_free(&r);
        proc_free(&p);
        free(in2);
        char rm[96];
        snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
        CHECK(system(rm) == 0);
    }
    /* A limit too small to start with is named as the reason, on both
       programs, before anything is served. */
    static const char *const too_small[] = {"1", "50K"};
    for (int i = 0; i < 2; i++) {
        for (int m = 0; m < 2; m++) {
            p = run("", 0, m ? "mcp" : "run", "--db", ":memory:", "--memory-limit", too_small[i],
                    NULL);
            CHECK_EQ(p.status, 1);
            CHECK_HAS(p.err, "is too small to start");
            CHECK_STR(p.out, "");
            proc_free(&p);
        }
    }
    /* A bad value is refused. */
    p = run("", 0, "run", "--memory-limit", "lots", NULL);
    CHECK_EQ(p.status, 2);
    CHECK_HAS(p.err, "--memory-limit needs a positive byte count");
    proc_free(&p);
}

/* --max-versions N keeps each key's newest N versions (a write drops the
   older ones) on both backends; a later run without it drops nothing; a
   value that is not a positive whole number is refused by both programs. */
static void test_max_versions(void) {
    static const char five[] =
        "{\"id\":1,\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":1}}\n"
        "{\"id\":2,\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":2}}\n"
        "{\"id\":3,\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":3}}\n"
        "{\"id\":4,\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":4}}\n"
        "{\"id\":5,\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":5}}\n"
        "{\"id\":6,\"primitive\":\"retrieve\",\"params\":{\"key\":\"k\",\"history\":true}}\n";
    char dir[] = "/tmp/zmem-versions-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char db[64];
    snprintf(db, sizeof db, "%s/v.db", dir);
    for (int b = 0; b < 2; b++) {
        if (b == 1 && !zm_store_backend_available("sqlite")) break;
        proc p = run(five, strlen(five), "run", "--db", b ? db : ":memory:", "--max-versions", "2",
                     NULL);
        CHECK_EQ(p.status, 0);
        const char *h = strstr(line_at(p.out, 5), "\"history\":[");
        CHECK(h != NULL);
        if (h != NULL) {
            CHECK_HAS(h, "{\"version\":4,");
            CHECK_HAS(h, "{\"version\":5,");
            CHECK(strstr(h, "\"version\":3") == NULL);
            CHECK(strstr(h, "\"version\":1") == NULL);
        }
        proc_free(&p);
    }
    if (zm_store_backend_available("sqlite")) {
        static const char one[] =
            "{\"id\":7,\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":6}}\n"
            "{\"id\":8,\"primitive\":\"retrieve\",\"params\":{\"key\":\"k\",\"history\":"
            "true}}\n";
        proc p = run(one, strlen(one), "run", "--db", db, NULL);
        CHECK_EQ(p.status, 0);
        const char *h = strstr(line_at(p.out, 1), "\"history\":[");
        CHECK(h != NULL);
        if (h != NULL) {
            CHECK_HAS(h, "{\"version\":4,");
            CHECK_HAS(h, "{\"version\":6,");
        }
        proc_free(&p);
    }
    static const char *const bad[] = {"0", "-1", "2.5", "x", "", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        for (int m = 0; m < 2; m++) {
            proc p =
                run("", 0, m ? "mcp" : "run", "--db", ":memory:", "--max-versions", bad[i], NULL);
            CHECK_EQ(p.status, 2);
            CHECK_HAS(p.err, "--max-versions needs a positive whole number");
            proc_free(&p);
        }
    }
    char rm[96];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    CHECK(system(rm) == 0);
}

/* zmem mcp without --db keeps its memory in $XDG_DATA_HOME/zmem/memory.db
   (folder 0700, file 0600): what one server stored, the next one reads;
   zmem export and zmem import move it to another file and back. */
static void test_mcp_persists(void) {
    if (!zm_store_backend_available("sqlite")) {
        fprintf(stderr, "(sqlite is not built in: the default memory is :memory:)\n");
        return;
    }
    char home[] = "/tmp/zmem-home-XXXXXX";
    CHECK(mkdtemp(home) != NULL);
    char data[256], dir[300], db[320], exp1[320], exp2[320], other[320];
    snprintf(data, sizeof data, "%s/data", home);
    snprintf(dir, sizeof dir, "%s/zmem", data);
    snprintf(db, sizeof db, "%s/memory.db", dir);
    snprintf(exp1, sizeof exp1, "%s/one.jsonl", home);
    snprintf(exp2, sizeof exp2, "%s/two.jsonl", home);
    snprintf(other, sizeof other, "%s/other.db", home);
    char *saved = getenv("XDG_DATA_HOME");
    char keep[256];
    snprintf(keep, sizeof keep, "%s", saved ? saved : "");
    setenv("XDG_DATA_HOME", data, 1);
    const char init[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                        "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{"
                        "\"name\":\"t\",\"version\":\"1\"}}}\n";
    char in[1024];
    int n = snprintf(in, sizeof in,
                     "%s{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{"
                     "\"name\":\"store\",\"arguments\":{\"key\":\"pref/color\",\"value\":"
                     "\"green\"}}}\n",
                     init);
    proc p = run(in, (size_t)n, "mcp", "--agent", "assistant", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_HAS(line_at(p.out, 1), "\"isError\":false");
    CHECK_STR(p.err, "");
    proc_free(&p);
    struct stat st;
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    CHECK(stat(db, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* A new server: the memory is there. */
    n = snprintf(in, sizeof in,
                 "%s{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{"
                 "\"name\":\"retrieve\",\"arguments\":{\"key\":\"pref/color\"}}}\n",
                 init);
    p = run(in, (size_t)n, "mcp", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_HAS(line_at(p.out, 1), "\\\"value\\\":\\\"green\\\"");
    CHECK_HAS(line_at(p.out, 1), "\\\"agent\\\":\\\"assistant\\\"");
    proc_free(&p);
    /* Out to a file, into another database, out again: the same text. */
    p = run("", 0, "export", exp1, NULL);
    CHECK_EQ(p.status, 0);
    proc_free(&p);
    p = run("", 0, "import", "--db", other, exp1, NULL);
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.err, "");
    proc_free(&p);
    p = run("", 0, "export", "--db", other, exp2, NULL);
    CHECK_EQ(p.status, 0);
    proc_free(&p);
    char *a = slurp(exp1), *b = slurp(exp2);
    CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
    CHECK(a != NULL && strstr(a, "\"key\":\"pref/color\"") != NULL);
    free(a);
    free(b);
    /* Importing it again conflicts and changes nothing. */
    p = run("", 0, "import", "--db", other, exp1, NULL);
    CHECK_EQ(p.status, 1);
    CHECK_HAS(p.err, "line 2:");
    proc_free(&p);
    /* Not an export. */
    p = run("hello\n", 6, "import", "--db", other, NULL);
    CHECK_EQ(p.status, 1);
    CHECK_HAS(p.err, "not a zmem export");
    proc_free(&p);
    const char *files[] = {db, exp1, exp2, other};
    for (int i = 0; i < 4; i++) {
        char f[400];
        unlink(files[i]);
        snprintf(f, sizeof f, "%s-wal", files[i]);
        unlink(f);
        snprintf(f, sizeof f, "%s-shm", files[i]);
        unlink(f);
    }
    rmdir(dir);
    rmdir(data);
    rmdir(home);
    setenv("XDG_DATA_HOME", keep, 1);
}

/* zmem export reads: a database that does not exist is refused with its
   path named, exit 1, and nothing is created (the file, its -wal, the
   output file, the default memory's folder); zmem import creates it. The
   README's sample export, whose key "gone" holds only a deletion, goes in
   and comes out as the same text. */
static void test_export_missing_db(void) {
    if (!zm_store_backend_available("sqlite")) {
        fprintf(stderr, "(sqlite is not built in)\n");
        return;
    }
    char dir[] = "/tmp/zmem-export-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char typo[64], wal[80], out[64], data[64], db[64], in[64];
    snprintf(typo, sizeof typo, "%s/typo.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", typo);
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(db, sizeof db, "%s/new.db", dir);
    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    FILE *f = fopen(out, "w");
    CHECK(f != NULL && fputs("keep\n", f) >= 0 && fclose(f) == 0);
    struct stat st;
    proc p = run("", 0, "export", "--db", typo, NULL);
    CHECK_EQ(p.status, 1);
    CHECK_STR(p.out, "");
    CHECK_HAS(p.err, typo);
    CHECK_HAS(p.err, "does not exist");
    proc_free(&p);
    CHECK(stat(typo, &st) != 0 && errno == ENOENT);
    CHECK(stat(wal, &st) != 0 && errno == ENOENT);
    p = run("", 0, "export", "--db", typo, out, NULL);
    CHECK_EQ(p.status, 1);
    CHECK_HAS(p.err, typo);
    proc_free(&p);
    CHECK(stat(typo, &st) != 0 && errno == ENOENT);
    char *kept = slurp(out);
    CHECK_STR(kept, "keep\n");
    free(kept);
    /* Without --db: the default memory, missing, and its folder not made. */
    char keep[256];
    const char *saved = getenv("XDG_DATA_HOME");
    snprintf(keep, sizeof keep, "%s", saved ? saved : "");
    setenv("XDG_DATA_HOME", data, 1);
    p = run("", 0, "export", NULL);
    CHECK_EQ(p.status, 1);
    CHECK_HAS(p.err, "memory.db");
    CHECK_HAS(p.err, "does not exist");
    proc_free(&p);
    CHECK(stat(data, &st) != 0 && errno == ENOENT);
    setenv("XDG_DATA_HOME", keep, 1);
    /* Import creates its database; the export of it is the imported text. */
    static const char sample[] =
        "{\"zmem_export\":1}\n"
        "{\"type\":\"version\",\"key\":\"people/ada\",\"version\":1,\"timestamp\":100,"
        "\"agent\":\"planner\",\"session\":\"s1\",\"value\":{\"name\":\"Ada\"},\"metadata\":null}\n"
        "{\"type\":\"version\",\"key\":\"gone\",\"version\":2,\"timestamp\":600,\"agent\":"
        "\"critic\",\"session\":\"\",\"deleted\":true}\n"
        "{\"type\":\"edge\",\"from\":\"notes/x\",\"to\":\"people/ada\",\"relation\":\"about\","
        "\"timestamp\":710,\"agent\":\"critic\",\"metadata\":{\"w\":0.5}}\n";
    f = fopen(in, "w");
    CHECK(f != NULL && fputs(sample, f) >= 0 && fclose(f) == 0);
    p = run("", 0, "import", "--db", db, in, NULL);
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.err, "");
    proc_free(&p);
    p = run("", 0, "export", "--db", db, NULL);
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.out, sample);
    CHECK_STR(p.err, "");
    proc_free(&p);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    CHECK(system(rm) == 0);
}

/* zmem json check and fmt: a parse option per flag. Each refusal of the
   strict default names the flag that accepts the text (never a C name), and
   the flag accepts it. */
typedef struct json_flag_case {
    const char *text;
    const char *flag, *value; /* value: NULL for a flag without one */
    const char *note;         /* what the default's message ends with */
    const char *formatted;    /* fmt's output with the flag */
} json_flag_case;

static void test_json_flags(void) {
    static char deep[1300]; /* 600 levels */
    memset(deep, '[', 600);
    memset(deep + 600, ']', 600);
    const json_flag_case cases[] = {
        {"{\"a\":1,\"a\":2}", "--dup", "first", "(--dup first or --dup last accept them)\n",
         "{\"a\":1}\n"},
        {"{\"a\":1,\"a\":2}", "--dup", "last", "(--dup first or --dup last accept them)\n",
         "{\"a\":2}\n"},
        {"{\"a\":1,\"a\":2}", "--dup=last", NULL, "(--dup first or --dup last accept them)\n",
         "{\"a\":2}\n"},
        {"[1, /* two */ 2] // end\n", "--comments", NULL, "(--comments accepts comments)\n",
         "[1,2]\n"},
        {"{\"a\":[1,2,],}", "--trailing-commas", NULL, "(--trailing-commas accepts it)\n",
         "{\"a\":[1,2]}\n"},
        {"[NaN, Infinity, -Infinity]", "--nan", NULL, "(--nan accepts it)\n",
         "[NaN,Infinity,-Infinity]\n"},
        {"[-Infinity]", "--nan", NULL, "(--nan accepts it)\n", "[-Infinity]\n"},
        {"\xef\xbb\xbf{}", "--bom", NULL, "(--bom accepts it)\n", "{}\n"},
        {"[\"\\ud800x\"]", "--lone-surrogates", NULL, "(--lone-surrogates accepts it)\n",
         "[\"\\ud800x\"]\n"},
        {deep, "--max-depth", "600", "(--max-depth N with N above 512 accepts it)\n", NULL},
        {deep, "--max-depth=1000", NULL, "(--max-depth N with N above 512 accepts it)\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const json_flag_case *c = &cases[i];
        size_t n = strlen(c->text);
        proc p = run(c->text, n, "json", "check", "-", NULL);
        CHECK_EQ(p.status, 1);
        CHECK_STR(p.out, "");
        CHECK(strncmp(p.err, "<stdin>:", 8) == 0);
        size_t el = strlen(p.err), nl = strlen(c->note);
        CHECK(el > nl && strcmp(p.err + el - nl, c->note) == 0);
        if (!(el > nl && strcmp(p.err + el - nl, c->note) == 0))
            fprintf(stderr, "case %zu: %s", i, p.err);
        CHECK(strstr(p.err, "ZM_JSON") == NULL && strstr(p.err, "max_depth") == NULL);
        proc_free(&p);
        p = run(c->text, n, "json", "check", c->flag, c->value ? c->value : "-",
                c->value ? "-" : NULL, NULL);
        CHECK_EQ(p.status, 0);
        CHECK_STR(p.err, "");
        proc_free(&p);
        p = run(c->text, n, "json", "fmt", c->flag, c->value ? c->value : "-",
                c->value ? "-" : NULL, NULL);
        CHECK_EQ(p.status, 0);
        if (c->formatted) CHECK_STR(p.out, c->formatted);
        proc_free(&p);
    }
    /* options combine, in any order, before or after the file */
    const char *mixed = "\xef\xbb\xbf{\"a\": [NaN, 1,], // c\n \"a\": \"\\udc00\",}";
    proc p = run(mixed, strlen(mixed), "json", "fmt", "--bom", "--nan", "-", "--comments",
                 "--trailing-commas", "--lone-surrogates", "--dup", "last", "--ascii", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.out, "{\"a\":\"\\udc00\"}\n");
    proc_free(&p);
    /* a smaller depth limit than the default refuses, naming it */
    p = run("[[[[1]]]]", 9, "json", "check", "--max-depth", "3", "-", NULL);
    CHECK_EQ(p.status, 1);
    CHECK_HAS(p.err, "(--max-depth N with N above 3 accepts it)");
    proc_free(&p);
    p = run("[[[1]]]", 7, "json", "check", "--max-depth", "3", "-", NULL);
    CHECK_EQ(p.status, 0);
    proc_free(&p);
    /* --dup error is the default, said out loud */
    p = run("{\"a\":1,\"a\":2}", 13, "json", "check", "--dup", "error", "-", NULL);
    CHECK_EQ(p.status, 1);
    CHECK_HAS(p.err, "--dup first or --dup last");
    proc_free(&p);
    /* --numbers-as-text accepts nothing more: fmt writes each number as read */
    const char *nums = "[1.50, 1e2, 100000000000000000000000, -0]";
    p = run(nums, strlen(nums), "json", "fmt", "-", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.out, "[1.5,100.0,100000000000000000000000,-0.0]\n");
    proc_free(&p);
    p = run(nums, strlen(nums), "json", "fmt", "--numbers-as-text", "-", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.out, "[1.50,1e2,100000000000000000000000,-0]\n");
    proc_free(&p);
    p = run(nums, strlen(nums), "json", "check", "--numbers-as-text", "-", NULL);
    CHECK_EQ(p.status, 0);
    proc_free(&p);
    /* a refusal no flag accepts names none */
    p = run("[1,,2]", 6, "json", "check", "-", NULL);
    CHECK_EQ(p.status, 1);
    CHECK_STR(p.err, "<stdin>:1:4: expected a value, found ','\n");
    proc_free(&p);
}

/* zmem json check/fmt --help, "--", unknown flags and bad values. */
static void test_json_usage(void) {
    const char *cmds[] = {"check", "fmt"};
    for (int k = 0; k < 2; k++) {
        const char *helps[] = {"--help", "-h"};
        for (int h = 0; h < 2; h++) {
            proc p = run("", 0, "json", cmds[k], helps[h], NULL);
            CHECK_EQ(p.status, 0);
            CHECK_STR(p.err, "");
            CHECK_HAS(p.out, "usage: zmem json check");
            CHECK_HAS(p.out, "--dup error|first|last");
            const char *flags[] = {
                "--comments",    "--trailing-commas", "--nan",   "--bom", "--lone-surrogates",
                "--max-depth N", "--numbers-as-text", "--pretty"};
            for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) CHECK_HAS(p.out, flags[f]);
            proc_free(&p);
        }
        /* --help after a file, or among options, still helps */
        proc p = run("", 0, "json", cmds[k], "--nan", "x.json", "--help", NULL);
        CHECK_EQ(p.status, 0);
        CHECK_HAS(p.out, "usage: zmem json");
        proc_free(&p);
    }
    /* "--" ends the options: a file named --help is read (from a folder of
       the test's, so the program's path must not depend on the current one) */
    static char exe[4096];
    CHECK(realpath(zmem, exe) != NULL);
    const char *zmem_given = zmem;
    zmem = exe;
    char cwd[4096], dir[] = "/tmp/zmem-json-cli-XXXXXX";
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(mkdtemp(dir) != NULL);
    CHECK(chdir(dir) == 0);
    FILE *f = fopen("--help", "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("[1, 2]", f);
        fclose(f);
    }
    proc p = run("", 0, "json", "check", "--", "--help", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.out, "");
    CHECK_STR(p.err, "");
    proc_free(&p);
    p = run("", 0, "json", "fmt", "--pretty", "--", "--help", NULL);
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.out, "[\n  1,\n  2\n]\n");
    proc_free(&p);
    p = run("[3]", 3, "json", "fmt", "--", "-", NULL); /* "-" stays standard input */
    CHECK_EQ(p.status, 0);
    CHECK_STR(p.out, "[3]\n");
    proc_free(&p);
    p = run("", 0, "json", "check", "--", "--nan", NULL); /* a file, not a flag */
    CHECK_EQ(p.status, 2);
    CHECK_HAS(p.err, "--nan: No such file");
    proc_free(&p);
    remove("--help");
    CHECK(chdir(cwd) == 0);
    rmdir(dir);
    zmem = zmem_given;

    /* unknown flags and bad values: exit 2, the message names the flag */
    const struct {
        const char *args[3];
        const char *says;
    } bad[] = {
        {{"check", "--frobnicate", "-"}, "zmem json check: unknown option --frobnicate"},
        {{"fmt", "--commments", "-"}, "zmem json fmt: unknown option --commments"},
        {{"check", "--pretty", "-"}, "zmem json check: unknown option --pretty"},
        {{"check", "--dup", "maybe"}, "--dup needs error, first or last, not 'maybe'"},
        {{"check", "--dup", NULL}, "--dup needs error, first or last"},
        {{"fmt", "--dup=", "-"}, "--dup needs error, first or last, not ''"},
        {{"check", "--max-depth", "0"}, "--max-depth needs a number of levels"},
        {{"check", "--max-depth", "-3"}, "--max-depth needs a number of levels"},
        {{"check", "--max-depth", "12x"}, "not '12x'"},
        {{"check", "--max-depth", "99999999999"}, "not '99999999999'"},
        {{"fmt", "--max-depth", NULL}, "--max-depth needs a number of levels"},
        {{"check", "--comments=yes", "-"}, "--comments takes no value"},
        {{"fmt", "--numbers-as-text=1", "-"}, "--numbers-as-text takes no value"},
        {{"check", "a.json", "b.json"}, "one FILE at most"},
        {{"check", "--nan", NULL}, "no FILE given"},
        {{"fmt", "--", NULL}, "no FILE given"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = run("[]", 2, "json", bad[i].args[0], bad[i].args[1], bad[i].args[2], NULL);
        CHECK_EQ(p.status, 2);
        CHECK_STR(p.out, "");
        CHECK_HAS(p.err, bad[i].says);
        CHECK_HAS(p.err, "usage: zmem json");
        proc_free(&p);
    }
}

int main(int argc, char **argv) {
    /* zmem mcp keeps its memory under $XDG_DATA_HOME: a folder of the test's. */
    char data_home[] = "/tmp/zmem-test-data-XXXXXX";
    if (mkdtemp(data_home) == NULL) return 1;
    setenv("XDG_DATA_HOME", data_home, 1);
    if (argc < 2) {
        fprintf(stderr, "usage: test_cli ZMEM_EXE\n");
        return 2;
    }
    zmem = argv[1];
    RUN(test_usage);
    RUN(test_run);
    RUN(test_identity);
    RUN(test_mcp_session);
    RUN(test_mcp_last_line);
    RUN(test_mcp_request_as_notification);
    RUN(test_write_error);
    RUN(test_mcp_disconnect);
    RUN(test_memory_limit);
    RUN(test_max_versions);
    RUN(test_mcp_persists);
    RUN(test_export_missing_db);
    RUN(test_json_flags);
    RUN(test_json_usage);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", data_home);
    if (system(rm) != 0) fprintf(stderr, "could not remove %s\n", data_home);
    return zt_finish("prim_cli");
}
