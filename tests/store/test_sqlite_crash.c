/* Crashes: a child process writes through the store API (single puts and
   three-put transactions) and reports each write on a pipe once the call has
   returned; the parent kills it with SIGKILL at a random moment, at least 50
   times over one database, reopening it each time. Every acknowledged write
   must be there with its value, a transaction all there or not at all, at
   most the one write in flight at the kill beyond what was acknowledged,
   and the file consistent (integrity_check, versions without gaps). Then
   the same over a second database opened with max_versions (what zmem's
   --max-versions sets): each write also drops the key's older versions, in
   the same commit, so a key holds at most that many, the newest, without
   gaps, the latest acknowledged among them. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>

#include "sqlite_check.h"
#include "sqlite_test.h"

#define KEYS 12

/* What the parent knows of each key: the highest version acknowledged and
   the sequence number written there. */
typedef struct ack {
    long long version;
    long long seq;
} ack;

static ack acked[KEYS];
static long long next_seq = 1;

/* The versions each key keeps (max_versions; 0 = all). */
static size_t keep;

/* The child: writes until killed. Single puts, and every fourth step a
   transaction of three puts on different keys; reports "key version seq"
   per write after the call (after the commit for a transaction). */
static void child(const char *path, int out, unsigned seed, long long seq) {
    zm_store_opts o;
    memset(&o, 0, sizeof o);
    o.sync = seed % 2 ? ZM_STORE_SYNC_FULL : ZM_STORE_SYNC_NORMAL;
    o.limits.max_versions = keep;
    zm_store *s = NULL;
    if (zm_store_sqlite_open(path, &o, &s) != ZM_OK) {
        fprintf(stderr, "child: %s\n", zm_store_errmsg());
        _exit(2);
    }
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    char key[16], val[128], line[256];
    for (unsigned step = 0;; step++) {
        seed = seed * 1103515245u + 12345u;
        bool txn = step % 4 == 3;
        int n = txn ? 3 : 1;
        zm_store_version v[3];
        int k[3];
        long long sq[3];
        if (txn && zm_store_begin(s) != ZM_OK) _exit(3);
        for (int i = 0; i < n; i++) {
            k[i] = (int)((seed >> 8) + (unsigned)i * 5u) % KEYS;
            sq[i] = seq++;
            snprintf(key, sizeof key, "key%d", k[i]);
            snprintf(val, sizeof val, "{\"seq\":%lld,\"text\":\"written by step %u\",\"n\":%d}",
                     sq[i], step, i);
            if (st_put(s, &ar, key, val, (int64_t)sq[i], &v[i]) != ZM_OK) _exit(4);
        }
        if (txn && zm_store_commit(s) != ZM_OK) _exit(5);
        int len = 0;
        for (int i = 0; i < n; i++)
            len += snprintf(line + len, sizeof line - (size_t)len, "%d %llu %lld\n", k[i],
                            (unsigned long long)v[i].version, sq[i]);
        if (write(out, line, (size_t)len) != len) _exit(6);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
}

/* Reads the child's reports until it is gone; kills it after `after`
   reports and a random spin. Returns the reports counted. */
static int collect(pid_t pid, int in, int after, unsigned spin) {
    char buf[4096];
    size_t have = 0;
    int lines = 0;
    bool killed = false;
    for (;;) {
        ssize_t n = read(in, buf + have, sizeof buf - have);
        if (n <= 0) break;
        have += (size_t)n;
        char *p = buf, *nl;
        while ((nl = memchr(p, '\n', have - (size_t)(p - buf))) != NULL) {
            int k;
            long long v, seq;
            *nl = '\0';
            if (sscanf(p, "%d %lld %lld", &k, &v, &seq) == 3 && k >= 0 && k < KEYS) {
                acked[k].version = v;
                acked[k].seq = seq;
                if (seq >= next_seq) next_seq = seq + 1;
                lines++;
            }
            p = nl + 1;
        }
        have -= (size_t)(p - buf);
        memmove(buf, p, have);
        if (!killed && lines >= after) {
            for (volatile unsigned i = 0; i < spin; i++) {
            }
            kill(pid, SIGKILL);
            killed = true;
        }
    }
    if (!killed) kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    return lines;
}

/* Checks the database against what was acknowledged. */
static void verify(const char *path) {
    CHECK(sq_consistent(path));
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(path, NULL, &s), ZM_OK);
    if (s == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    int beyond = 0;
    for (int k = 0; k < KEYS; k++) {
        char key[16];
        snprintf(key, sizeof key, "key%d", k);
        zm_store_version *h;
        size_t n = 0;
        zm_status st = zm_store_history(s, key, strlen(key), -1, zm_arena_allocator(&ar), &h, &n);
        if (acked[k].version == 0) {
            CHECK(st == ZM_ENOTFOUND || n <= 3);
        } else {
            CHECK_EQ(st, ZM_OK);
        }
        long long last = 0;
        /* All versions from 1, or with keep the newest keep at most. */
        CHECK(keep == 0 || n <= keep);
        uint64_t first = n > 0 ? h[0].version : 1;
        if (keep == 0) CHECK_EQ(first, 1);
        for (size_t i = 0; i < n; i++) {
            CHECK_EQ(h[i].version, first + i);
            long long seq = zm_json_int(zm_json_get(h[i].value, "seq"));
            CHECK(seq > last); /* each version holds a whole value, newer than the last */
            last = seq;
            if ((long long)h[i].version == acked[k].version) CHECK_EQ(seq, acked[k].seq);
            if ((long long)h[i].version > acked[k].version) {
                beyond++;
                /* written but not reported: adopt it */
                acked[k].version = (long long)h[i].version;
                acked[k].seq = seq;
                if (seq >= next_seq) next_seq = seq + 1;
            }
        }
        CHECK(n > 0 ? h[n - 1].version >= (uint64_t)acked[k].version : acked[k].version == 0);
        if (keep == 0) CHECK(n >= (size_t)acked[k].version);
    }
    CHECK(beyond <= 3); /* at most the write (or transaction) in flight */
    zm_arena_deinit(&ar);
    zm_store_close(s);
}

/* rounds kills over the database at path, each key keeping keep_versions
   versions (0 = all); returns the acknowledged writes checked. */
static int kill_rounds(const char *path, size_t keep_versions, int rounds, unsigned seed) {
    keep = keep_versions;
    memset(acked, 0, sizeof acked);
    next_seq = 1;
    int total = 0;
    for (int r = 0; r < rounds; r++) {
        seed = seed * 1103515245u + 12345u;
        int fds[2];
        if (pipe(fds) != 0) return 1;
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            child(path, fds[1], seed, next_seq);
        }
        close(fds[1]);
        int after = 1 + (int)((seed >> 12) % 40);
        total += collect(pid, fds[0], after, (seed >> 4) % 200000);
        close(fds[0]);
        verify(path);
    }
    fprintf(stderr, "%d kills (versions kept: %zu), %d acknowledged writes checked\n", rounds,
            keep_versions, total);
    return total;
}

int main(void) {
    st_tmpdir("crash");
    char path[512];
    st_path(path, sizeof path, "crash.db");
    kill_rounds(path, 0, zt_small() ? 6 : 60, 12345);
    st_path(path, sizeof path, "crash-keep.db");
    kill_rounds(path, 3, zt_small() ? 4 : 30, 54321);
    st_rmdir();
    return zt_finish("store_sqlite_crash");
}
