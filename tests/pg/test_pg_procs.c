/* The postgres backend across processes (ZMEM_TEST_PG): 8 writers of
   overlapping keys (per key, versions 1..n with no gap and no duplicate, and
   every acknowledged write readable from every process), and writers killed
   with SIGKILL (nothing half-written visible). */
#include "pg_test.h"

#include <signal.h>
#include <sys/wait.h>

#define PROCS 8
#define KEYS  16

/* What a writer acknowledged: its write i of key got version. */
typedef struct ack {
    int32_t key, proc, i;
    uint32_t version;
} ack;

static void key_name(char *buf, size_t size, int k) {
    snprintf(buf, size, "shared/%02d", k);
}

/* A writer: n puts spread over the keys, each acknowledgement appended to
   fd. Exits 0, or 1 when a put failed. */
static void writer(int proc, int n, int fd) {
    zm_store *s = pt_open(NULL);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int k = (i * 7 + proc * 3) % KEYS;
        char key[32], json[64];
        key_name(key, sizeof key, k);
        snprintf(json, sizeof json, "{\"p\": %d, \"i\": %d}", proc, i);
        zm_store_write w = pt_write(&ar, key, json, i);
        zm_store_version v;
        zm_status st = zm_store_put(s, &w, &v);
        if (st != ZM_OK) {
            fprintf(stderr, "writer %d: %s: %s\n", proc, zm_status_name(st), zm_store_errmsg());
            failed = 1;
            break;
        }
        ack a = {k, proc, i, (uint32_t)v.version};
        if (write(fd, &a, sizeof a) != (ssize_t)sizeof a) failed = 1;
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    zm_arena_deinit(&ar);
    zm_store_close(s);
    _exit(failed);
}

/* A reader: every key's history must hold expected[k] versions. */
static void reader(const int *expected) {
    zm_store *s = pt_open(NULL);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    int bad = 0;
    for (int k = 0; k < KEYS; k++) {
        char key[32];
        key_name(key, sizeof key, k);
        zm_store_version *h;
        size_t n = 0;
        zm_store_history(s, key, strlen(key), -1, zm_arena_allocator(&ar), &h, &n);
        if ((int)n != expected[k]) bad = 1;
        for (size_t j = 0; j < n; j++)
            if (h[j].version != j + 1) bad = 1;
    }
    zm_arena_deinit(&ar);
    zm_store_close(s);
    _exit(bad);
}

/* Waits for a child; true when it exited 0. */
static bool child_ok(pid_t pid) {
    int status;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_writers(void) {
    pt_reset();
    int n = zt_small() ? 200 : 2000;
    FILE *files[PROCS];
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        files[p] = tmpfile();
        fflush(NULL);
        pids[p] = fork();
        if (pids[p] == 0) writer(p, n, fileno(files[p]));
    }
    for (int p = 0; p < PROCS; p++) CHECK(child_ok(pids[p]));
    /* Gather the acknowledgements: per key, each version exactly once. */
    static unsigned char seen[KEYS][PROCS * 2000 + 1];
    memset(seen, 0, sizeof seen);
    int expected[KEYS] = {0};
    ack *acks = malloc(sizeof(ack) * (size_t)PROCS * (size_t)n);
    size_t nacks = 0;
    for (int p = 0; p < PROCS; p++) {
        rewind(files[p]);
        ack a;
        while (fread(&a, sizeof a, 1, files[p]) == 1) {
            CHECK(a.version >= 1 && a.version <= (uint32_t)(PROCS * n));
            if (a.version < 1 || a.version > (uint32_t)(PROCS * n)) continue;
            CHECK(!seen[a.key][a.version]); /* no duplicate */
            seen[a.key][a.version] = 1;
            expected[a.key]++;
            acks[nacks++] = a;
        }
        fclose(files[p]);
    }
    CHECK_EQ(nacks, (size_t)PROCS * (size_t)n);
    /* No gap, and every acknowledged write holds what its writer wrote. */
    zm_store *s = pt_open(NULL);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_store_version *hist[KEYS];
    size_t count[KEYS];
    for (int k = 0; k < KEYS; k++) {
        char key[32];
        key_name(key, sizeof key, k);
        CHECK_EQ(
            zm_store_history(s, key, strlen(key), -1, zm_arena_allocator(&ar), &hist[k], &count[k]),
            ZM_OK);
        CHECK_EQ(count[k], expected[k]);
        for (size_t j = 0; j < count[k]; j++) CHECK_EQ(hist[k][j].version, j + 1);
    }
    int mismatched = 0;
    for (size_t i = 0; i < nacks; i++) {
        const ack *a = &acks[i];
        if (a->version > count[a->key]) {
            mismatched++;
            continue;
        }
        const zm_json *v = hist[a->key][a->version - 1].value;
        zm_json *p = zm_json_get(v, "p"), *ii = zm_json_get(v, "i");
        if (p == NULL || ii == NULL || zm_json_int(p) != a->proc || zm_json_int(ii) != a->i)
            mismatched++;
    }
    CHECK_EQ(mismatched, 0);
    zm_arena_deinit(&ar);
    zm_store_close(s);
    free(acks);
    /* Every process reads every acknowledged write. */
    for (int p = 0; p < PROCS; p++) {
        fflush(NULL);
        pids[p] = fork();
        if (pids[p] == 0) reader(expected);
    }
    for (int p = 0; p < PROCS; p++) CHECK(child_ok(pids[p]));
}

/* ---------------------------------------------------------------------------
 * SIGKILL: a writer of batches (10 keys, one transaction each) and a writer
 * of large values are killed mid-way.
 * ------------------------------------------------------------------------- */

#define BATCH_KEYS 10
#define BIG_LEN    (256 * 1024)

/* Writes batches until killed, telling fd after each commit. */
static void batch_writer(int fd) {
    zm_store *s = pt_open(NULL);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    for (int b = 0;; b++) {
        if (zm_store_begin(s) != ZM_OK) _exit(1);
        for (int k = 0; k < BATCH_KEYS; k++) {
            char key[32], json[64];
            snprintf(key, sizeof key, "batch/%d", k);
            snprintf(json, sizeof json, "{\"batch\": %d}", b);
            zm_store_write w = pt_write(&ar, key, json, b);
            if (zm_store_put(s, &w, NULL) != ZM_OK) _exit(1);
        }
        if (zm_store_commit(s) != ZM_OK) _exit(1);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
        char c = 'b';
        if (write(fd, &c, 1) != 1) _exit(1);
    }
}

/* Writes large values until killed, telling fd after each. */
static void big_writer(int fd) {
    zm_store *s = pt_open(NULL);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    char *text = malloc(BIG_LEN);
    for (int i = 0;; i++) {
        memset(text, 'a' + i % 26, BIG_LEN);
        zm_store_write w;
        memset(&w, 0, sizeof w);
        w.key = "big";
        w.key_len = 3;
        w.value = zm_json_new_string(zm_arena_allocator(&ar), text, BIG_LEN);
        if (zm_store_put(s, &w, NULL) != ZM_OK) _exit(1);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
        char c = 'g';
        if (write(fd, &c, 1) != 1) _exit(1);
    }
}

/* Starts fn(fd) in a child, waits for `acks` acknowledgements on the pipe,
   then kills it with SIGKILL (while it is in the middle of another write). */
static void run_and_kill(void (*fn)(int), int acks) {
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        fn(fds[1]);
    }
    close(fds[1]);
    char c;
    int got = 0;
    while (got < acks && read(fds[0], &c, 1) == 1) got++;
    CHECK_EQ(got, acks);
    /* Let the next write get under way on the server. */
    struct timespec ts = {0, 3 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(fds[0]);
}

static void test_sigkill(void) {
    pt_reset();
    run_and_kill(batch_writer, 5);
    run_and_kill(big_writer, 3);
    zm_store *s = pt_open(NULL);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    /* Every batch whole or absent: each key has as many versions, and
       version b holds batch b - 1. */
    size_t first = 0;
    for (int k = 0; k < BATCH_KEYS; k++) {
        char key[32];
        snprintf(key, sizeof key, "batch/%d", k);
        zm_store_version *h;
        size_t n = 0;
        CHECK_EQ(zm_store_history(s, key, strlen(key), -1, a, &h, &n), ZM_OK);
        if (k == 0) first = n;
        CHECK_EQ(n, first);
        CHECK(n >= 5);
        for (size_t j = 0; j < n; j++) {
            zm_json *b = zm_json_get(h[j].value, "batch");
            CHECK(b != NULL && zm_json_int(b) == (int64_t)j);
        }
    }
    /* Every big value whole. */
    zm_store_version *h;
    size_t n = 0;
    CHECK_EQ(zm_store_history(s, "big", 3, -1, a, &h, &n), ZM_OK);
    CHECK(n >= 3);
    for (size_t j = 0; j < n; j++) {
        size_t len = 0;
        const char *str = zm_json_str(h[j].value, &len);
        CHECK(str != NULL && len == BIG_LEN);
        if (str == NULL || len != BIG_LEN) continue;
        bool same = true;
        for (size_t i = 0; i < len && same; i++) same = str[i] == (char)('a' + j % 26);
        CHECK(same);
    }
    zm_arena_deinit(&ar);
    zm_store_close(s);
}

int main(void) {
    pt_setup("procs");
    RUN(test_writers);
    RUN(test_sigkill);
    pt_teardown();
    return zt_finish("pg_procs");
}
