/* `zmem run` and `zmem mcp` on an SQLite file hold their last read between
   requests (zm_store_opts.hold_reads): each still answers with every write
   another process acknowledged before the request, and neither holds
   anything while it waits for input (a checkpoint that restarts the log, run
   while the program waits, is not kept waiting).

     test_cli_hold ZMEM_EXE */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>

#include "test.h"

#include "cli_run.h"

/* A zmem process with its standard input and output on pipes. */
typedef struct child {
    pid_t pid;
    int in;    /* its standard input */
    FILE *out; /* its standard output */
} child;

static child start(const char *cmd, const char *path) {
    child c = {-1, -1, NULL};
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return c;
    fflush(NULL);
    c.pid = fork();
    if (c.pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl(zmem, zmem, cmd, "--db", path, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    c.in = in[1];
    c.out = fdopen(out[0], "r");
    return c;
}

/* Sends one line and reads one answer line into buf. */
static bool ask(child *c, const char *line, char *buf, size_t cap) {
    size_t n = strlen(line);
    if (write(c->in, line, n) != (ssize_t)n) return false;
    return fgets(buf, (int)cap, c->out) != NULL;
}

/* Ends the child's input and returns its exit status. */
static int finish(child *c) {
    close(c->in);
    int status = 0;
    waitpid(c->pid, &status, 0);
    if (c->out) fclose(c->out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Stores value under key k through a zmem run of its own (another process). */
static void store_elsewhere(const char *path, int value) {
    char req[128];
    int n = snprintf(req, sizeof req,
                     "{\"id\":1,\"primitive\":\"store\",\"params\":{\"key\":\"k\",\"value\":%d}}\n",
                     value);
    proc p = run(req, (size_t)n, "run", "--db", path, NULL);
    CHECK_EQ(p.status, 0);
    CHECK_HAS(p.out, "\"ok\":true");
    proc_free(&p);
}

/* 1 when a TRUNCATE checkpoint was kept waiting by a reader, 0 when not. */
static int truncate_busy(const char *path) {
    sqlite3 *raw = NULL;
    sqlite3_stmt *q = NULL;
    int busy = -1;
    if (sqlite3_open(path, &raw) == SQLITE_OK &&
        sqlite3_prepare_v2(raw, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        busy = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(raw);
    return busy;
}

static char db[256]; /* the database the tests share */

static void test_run(void) {
    store_elsewhere(db, 1);
    child c = start("run", db);
    CHECK(c.pid > 0 && c.out != NULL);
    if (c.out == NULL) return;
    static const char retrieve[] =
        "{\"id\":2,\"primitive\":\"retrieve\",\"params\":{\"key\":\"k\"}}\n";
    char buf[4096];
    for (int v = 1; v <= 4; v++) {
        CHECK(ask(&c, retrieve, buf, sizeof buf));
        char want[32];
        snprintf(want, sizeof want, "\"value\":%d", v);
        CHECK_HAS(buf, want);
        /* It waits for input now, holding nothing. */
        CHECK_EQ(truncate_busy(db), 0);
        store_elsewhere(db, v + 1);
    }
    /* Two requests in one write: the second runs in the first's read. */
    static const char two[] = "{\"id\":3,\"primitive\":\"retrieve\",\"params\":{\"key\":\"k\"}}\n"
                              "{\"id\":4,\"primitive\":\"retrieve\",\"params\":{\"key\":\"k\"}}\n";
    CHECK(ask(&c, two, buf, sizeof buf));
    CHECK_HAS(buf, "\"value\":5");
    CHECK(fgets(buf, sizeof buf, c.out) != NULL);
    CHECK_HAS(buf, "\"value\":5");
    CHECK_EQ(finish(&c), 0);
}

static void test_mcp(void) {
    child c = start("mcp", db);
    CHECK(c.pid > 0 && c.out != NULL);
    if (c.out == NULL) return;
    char buf[8192];
    CHECK(ask(&c,
              "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
              "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":"
              "\"t\",\"version\":\"1\"}}}\n",
              buf, sizeof buf));
    static const char call[] =
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
        "\"retrieve\",\"arguments\":{\"key\":\"k\"}}}\n";
    for (int v = 5; v <= 7; v++) {
        CHECK(ask(&c, call, buf, sizeof buf));
        char want[32];
        snprintf(want, sizeof want, "\\\"value\\\":%d", v);
        CHECK_HAS(buf, want);
        CHECK_EQ(truncate_busy(db), 0);
        store_elsewhere(db, v + 1);
    }
    CHECK_EQ(finish(&c), 0);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_cli_hold ZMEM_EXE\n");
        return 2;
    }
    zmem = argv[1];
    char dir[] = "/tmp/zmem-cli-hold-XXXXXX";
    if (mkdtemp(dir) == NULL) return 1;
    snprintf(db, sizeof db, "%s/hold.db", dir);
    RUN(test_run);
    RUN(test_mcp);
    char side[300];
    static const char *const ext[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(side, sizeof side, "%s%s", db, ext[i]);
        unlink(side);
    }
    rmdir(dir);
    return zt_finish("prim_cli_hold");
}
