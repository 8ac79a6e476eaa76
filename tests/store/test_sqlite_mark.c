/* The SQLite backend's keys waiting for search (schema 4): a new key waits
   by its id being above zmem_index_mark, so these tests drive what can move
   ids and the mark against each other (purges of the largest keys, ids
   SQLite gives again, transactions rolled back, a pass inside one, the
   indexing pass of one connection or process over keys another added) and
   check every answer against a model of what the store holds: search in
   each mode finds each live key's latest value and nothing older, with its
   latest version number; head, history and stats agree; the file stays
   consistent. And no call reads every key: each takes as many SQLite steps
   on a large database as on a small one. */
#define _GNU_SOURCE
#include <sys/wait.h>
#include <unistd.h>

#include "../../store/sqlite_internal.h"
#include "sqlite_check.h"
#include "sqlite_test.h"

#define KEYS 10

/* What the store should hold for one key. */
typedef struct mk_key {
    bool exists;   /* has a row (written since its last purge) */
    bool live;     /* its latest version is not a deletion */
    uint64_t ver;  /* the latest version's number */
    size_t nvers;  /* versions kept */
    unsigned word; /* the latest value's word: "w<key>x<word>" */
} mk_key;

typedef struct mk_model {
    mk_key k[KEYS];
} mk_model;

static unsigned mk_rand(unsigned *seed) {
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

/* Hits of query in mode into *n (and the first hit's key and version). */
static zm_status mk_search(zm_store *s, const char *query, zm_search_mode mode, size_t *n,
                           char *key, size_t cap, uint64_t *ver) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_search_hit *hits;
    size_t total;
    zm_status st = zm_store_search(s, query, strlen(query), mode, 50, zm_arena_allocator(&ar),
                                   &hits, n, &total);
    if (key != NULL) key[0] = '\0';
    if (st == ZM_OK && *n > 0 && key != NULL) {
        snprintf(key, cap, "%.*s", (int)hits[0].key_len, hits[0].key);
        *ver = hits[0].version;
    }
    if (st == ZM_OK && total != *n) st = ZM_EIO; /* all hits fit under the limit */
    zm_arena_deinit(&ar);
    return st;
}

/* Checks every answer of store s against model m. */
static void mk_check(zm_store *s, const mk_model *m, const char *what) {
    char q[64], key[32], want[32];
    size_t n, live = 0;
    uint64_t ver = 0;
    for (int i = 0; i < KEYS; i++) {
        const mk_key *k = &m->k[i];
        snprintf(want, sizeof want, "k%d", i);
        live += k->live;
        /* The latest value's word, in every mode. */
        static const zm_search_mode modes[] = {ZM_SEARCH_TOKEN, ZM_SEARCH_EXACT, ZM_SEARCH_PREFIX,
                                               ZM_SEARCH_SUBSTRING};
        for (size_t mi = 0; mi < sizeof modes / sizeof modes[0]; mi++) {
            if (modes[mi] == ZM_SEARCH_TOKEN || modes[mi] == ZM_SEARCH_SUBSTRING)
                snprintf(q, sizeof q, "w%dx%u", i, k->word);
            else if (modes[mi] == ZM_SEARCH_EXACT)
                snprintf(q, sizeof q, "common w%dx%u", i, k->word);
            else
                snprintf(q, sizeof q, "common w%dx", i); /* any value this key ever had */
            CHECK_EQ(mk_search(s, q, modes[mi], &n, key, sizeof key, &ver), ZM_OK);
            if (n != (k->live ? 1u : 0u) || (k->live && (strcmp(key, want) != 0 || ver != k->ver)))
                fprintf(stderr, "%s: %s mode %d: %zu hits (%s v%llu), want %d (%s v%llu)\n", what,
                        q, (int)modes[mi], n, key, (unsigned long long)ver, k->live, want,
                        (unsigned long long)k->ver);
            CHECK_EQ(n, k->live ? 1u : 0u);
            if (k->live) {
                CHECK_STR(key, want);
                CHECK_EQ(ver, k->ver);
            }
        }
        zm_arena ar;
        zm_arena_init(&ar, zm_default_allocator());
        uint64_t hv = 0;
        zm_status hs = zm_store_head(s, want, strlen(want), zm_arena_allocator(&ar), &hv);
        CHECK_EQ(hs, k->live ? ZM_OK : ZM_ENOTFOUND);
        if (k->live) CHECK_EQ(hv, k->ver);
        zm_store_version *h = NULL;
        size_t hn = 0;
        zm_status hist =
            zm_store_history(s, want, strlen(want), -1, zm_arena_allocator(&ar), &h, &hn);
        if (k->exists) {
            CHECK_EQ(hist, ZM_OK);
            CHECK_EQ(hn, k->nvers);
            if (hist == ZM_OK && hn > 0) {
                CHECK_EQ(h[hn - 1].version, k->ver);
                CHECK_EQ(h[hn - 1].deleted, !k->live);
            }
        } else {
            CHECK(hist == ZM_ENOTFOUND || (hist == ZM_OK && hn == 0));
        }
        zm_arena_deinit(&ar);
    }
    CHECK_EQ(mk_search(s, "common", ZM_SEARCH_TOKEN, &n, NULL, 0, &ver), ZM_OK);
    CHECK_EQ(n, live);
    CHECK_EQ(mk_search(s, "common w", ZM_SEARCH_PREFIX, &n, NULL, 0, &ver), ZM_OK);
    CHECK_EQ(n, live);
    zm_store_stats stats;
    CHECK_EQ(zm_store_stats_get(s, &stats), ZM_OK);
    CHECK_EQ(stats.keys, live);
}

/* One random write of key i through s, applied to the model too. */
static void mk_write(zm_store *s, zm_arena *ar, mk_model *m, unsigned *seed, unsigned *word,
                     int64_t *ts) {
    int i = (int)(mk_rand(seed) % KEYS);
    mk_key *k = &m->k[i];
    char key[16], val[64];
    snprintf(key, sizeof key, "k%d", i);
    unsigned r = mk_rand(seed) % 10;
    bool existed = false;
    if (r < 6) {
        unsigned w = ++*word;
        snprintf(val, sizeof val, "\"common w%dx%u\"", i, w);
        zm_store_version v;
        CHECK_EQ(st_put(s, ar, key, val, (*ts)++, &v), ZM_OK);
        k->ver = k->exists ? k->ver + 1 : 1;
        k->nvers = k->exists ? k->nvers + 1 : 1;
        CHECK_EQ(v.version, k->ver);
        k->exists = k->live = true;
        k->word = w;
    } else if (r < 8) {
        CHECK_EQ(st_forget(s, key, false, (*ts)++, &existed), ZM_OK);
        CHECK_EQ(existed, k->live);
        if (k->live) {
            k->ver++;
            k->nvers++;
            k->live = false;
        }
    } else {
        CHECK_EQ(st_forget(s, key, true, (*ts)++, &existed), ZM_OK);
        CHECK_EQ(existed, k->exists);
        memset(k, 0, sizeof *k);
    }
    zm_arena_reset(ar, ZM_ARENA_RETAIN_WITH_LIMIT, 1 << 16);
}

/* Random writes, purges (the largest keys among them, so SQLite gives their
   ids again), searches and transactions from two connections on one file,
   with a seed each run: every answer matches the model, and nothing is left
   waiting after a search outside a transaction. */
static void test_random(void) {
    char p[512], what[64];
    for (unsigned run = 0; run < 12; run++) {
        snprintf(what, sizeof what, "mark-%u.db", run);
        st_path(p, sizeof p, what);
        zm_store *s[2];
        sqlite3 *raw;
        if (!st_open_two(p, &s[0], &s[1], &raw)) return;
        zm_arena ar;
        zm_arena_init(&ar, zm_default_allocator());
        mk_model m;
        memset(&m, 0, sizeof m);
        unsigned seed = 7919u * (run + 1), word = 0;
        int64_t ts = 1;
        for (int step = 0; step < 60; step++) {
            zm_store *c = s[mk_rand(&seed) % 2];
            unsigned r = mk_rand(&seed) % 10;
            snprintf(what, sizeof what, "run %u step %d", run, step);
            if (r < 6) {
                mk_write(c, &ar, &m, &seed, &word, &ts);
            } else if (r < 8) {
                mk_check(c, &m, what);
                CHECK_EQ(sq_waiting(raw), 0);
            } else {
                /* A transaction: writes with searches between, kept or undone. */
                mk_model before = m;
                CHECK_EQ(zm_store_begin(c), ZM_OK);
                int n = 1 + (int)(mk_rand(&seed) % 6);
                for (int j = 0; j < n; j++) {
                    mk_write(c, &ar, &m, &seed, &word, &ts);
                    if (mk_rand(&seed) % 3 == 0) mk_check(c, &m, what);
                }
                if (r == 8) {
                    CHECK_EQ(zm_store_commit(c), ZM_OK);
                } else {
                    CHECK_EQ(zm_store_rollback(c), ZM_OK);
                    m = before;
                }
            }
        }
        mk_check(s[0], &m, "end, first");
        mk_check(s[1], &m, "end, second");
        zm_store_close(s[0]);
        zm_store_close(s[1]);
        CHECK(sq_consistent(p));
        s[0] = NULL;
        CHECK_EQ(zm_store_sqlite_open(p, NULL, &s[0]), ZM_OK);
        if (s[0] != NULL) mk_check(s[0], &m, "reopened");
        zm_store_close(s[0]);
        sqlite3_close(raw);
        zm_arena_deinit(&ar);
    }
}

/* A transaction that adds enough keys for a write to index what waits
   (ZM__SQ_QUEUE_MAX; the pass moves the mark past them), then is rolled
   back: the mark goes back with it, so the keys added next, which SQLite
   gives the same ids, wait and are found by the other connection's search;
   and the keys rolled back are found by none. */
static void test_pass_rolled_back(void) {
    char p[512], key[32], val[64];
    st_path(p, sizeof p, "rolled.db");
    zm_store *s1, *s2;
    sqlite3 *raw;
    if (!st_open_two(p, &s1, &s2, &raw)) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    size_t n;
    char hk[32];
    uint64_t hv;
    CHECK_EQ(st_put(s1, &ar, "before", "\"common first\"", 1, NULL), ZM_OK);
    CHECK_EQ(mk_search(s2, "first", ZM_SEARCH_TOKEN, &n, NULL, 0, &hv), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(sq_waiting(raw), 0);
    CHECK_EQ(zm_store_begin(s1), ZM_OK);
    int added = ZM__SQ_QUEUE_MAX + 20;
    for (int i = 0; i < added; i++) {
        snprintf(key, sizeof key, "gone/%d", i);
        snprintf(val, sizeof val, "\"common rolled%d\"", i);
        CHECK_EQ(st_put(s1, &ar, key, val, 2, NULL), ZM_OK);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_WITH_LIMIT, 1 << 16);
    }
    /* A write indexed what waited, inside the transaction. */
    CHECK_EQ(mk_search(s1, "rolled5", ZM_SEARCH_TOKEN, &n, NULL, 0, &hv), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(zm_store_rollback(s1), ZM_OK);
    CHECK_EQ(sq_waiting(raw), 0);
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "after/%d", i);
        snprintf(val, sizeof val, "\"common later%d\"", i);
        CHECK_EQ(st_put(s1, &ar, key, val, 3, NULL), ZM_OK);
    }
    CHECK_EQ(sq_waiting(raw), 3);
    CHECK_EQ(mk_search(s2, "later1", ZM_SEARCH_TOKEN, &n, hk, sizeof hk, &hv), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_STR(hk, "after/1");
    CHECK_EQ(mk_search(s2, "common", ZM_SEARCH_TOKEN, &n, NULL, 0, &hv), ZM_OK);
    CHECK_EQ(n, 4);
    CHECK_EQ(mk_search(s1, "rolled5", ZM_SEARCH_TOKEN, &n, NULL, 0, &hv), ZM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(mk_search(s1, "common later", ZM_SEARCH_PREFIX, &n, NULL, 0, &hv), ZM_OK);
    CHECK_EQ(n, 3);
    CHECK_EQ(sq_waiting(raw), 0);
    zm_store_close(s1);
    zm_store_close(s2);
    sqlite3_close(raw);
    zm_arena_deinit(&ar);
    CHECK(sq_consistent(p));
}

/* The virtual machine steps the store's own statements took since the
   last call (each counter is reset as it is read). */
static long long mk_steps(zm_store *st) {
    zm__sq *s = (zm__sq *)st;
    long long n = 0;
    for (int i = 0; i < ZM__SQ_STMT_COUNT; i++)
        if (s->stmts[i] != NULL)
            n += sqlite3_stmt_status(s->stmts[i], SQLITE_STMTSTATUS_VM_STEP, 1);
    return n;
}

/* The steps of each call below on a database of keys keys (three versions
   each, all indexed) into out: a write of an existing key, of a new key, a
   head, a read as of a time, a history, exact, prefix and token searches
   (the first indexes the two keys waiting), a purge of the new key. */
#define MK_CALLS 9
static void mk_costs(const char *path, int keys, long long out[MK_CALLS]) {
    char key[32], val[64];
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(path, NULL, &s), ZM_OK);
    if (s == NULL) return;
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator a = zm_arena_allocator(&ar);
    CHECK_EQ(zm_store_begin(s), ZM_OK);
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < keys; i++) {
            snprintf(key, sizeof key, "k/%05d", i);
            snprintf(val, sizeof val, "\"common v%dr%d\"", i, r);
            CHECK_EQ(st_put(s, &ar, key, val, 10 * (r + 1), NULL), ZM_OK);
            zm_arena_reset(&ar, ZM_ARENA_RETAIN_WITH_LIMIT, 1 << 16);
        }
    CHECK_EQ(zm_store_commit(s), ZM_OK);
    size_t n;
    uint64_t hv;
    CHECK_EQ(mk_search(s, "v7r2", ZM_SEARCH_TOKEN, &n, NULL, 0, &hv), ZM_OK);
    CHECK_EQ(n, 1);
    mk_steps(s);
    CHECK_EQ(st_put(s, &ar, "k/00007", "\"common fig\"", 40, NULL), ZM_OK);
    out[0] = mk_steps(s);
    CHECK_EQ(st_put(s, &ar, "new", "\"common kiwi\"", 40, NULL), ZM_OK);
    out[1] = mk_steps(s);
    CHECK_EQ(zm_store_head(s, "k/00007", 7, a, &hv), ZM_OK);
    CHECK_EQ(hv, 4);
    out[2] = mk_steps(s);
    zm_store_version v;
    CHECK_EQ(zm_store_get(s, "k/00007", 7, 25, a, &v), ZM_OK);
    CHECK_EQ(v.version, 2);
    out[3] = mk_steps(s);
    zm_store_version *h;
    CHECK_EQ(zm_store_history(s, "k/00007", 7, -1, a, &h, &n), ZM_OK);
    CHECK_EQ(n, 4);
    out[4] = mk_steps(s);
    CHECK_EQ(mk_search(s, "common fig", ZM_SEARCH_EXACT, &n, NULL, 0, &hv), ZM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(hv, 4);
    out[5] = mk_steps(s);
    CHECK_EQ(mk_search(s, "common ki", ZM_SEARCH_PREFIX, &n, NULL, 0, &hv), ZM_OK);
    CHECK_EQ(n, 1);
    out[6] = mk_steps(s);
    CHECK_EQ(mk_search(s, "kiwi", ZM_SEARCH_TOKEN, &n, NULL, 0, &hv), ZM_OK);
    CHECK_EQ(n, 1);
    out[7] = mk_steps(s);
    bool existed;
    CHECK_EQ(st_forget(s, "new", true, 50, &existed), ZM_OK);
    CHECK(existed);
    out[8] = mk_steps(s);
    zm_store_close(s);
    zm_arena_deinit(&ar);
}

/* No call reads every key or every version: each takes as many steps on a
   database of 3,000 keys as on one of 30 (the plans seek, and the latest
   version and the mark are found without a scan). */
static void test_costs_flat(void) {
    char p[512];
    long long small[MK_CALLS] = {0}, large[MK_CALLS] = {0};
    mk_costs(st_path(p, sizeof p, "small.db"), 30, small);
    mk_costs(st_path(p, sizeof p, "large.db"), 3000, large);
    for (int i = 0; i < MK_CALLS; i++) {
        if (getenv("MK_SHOW") || large[i] > small[i] + 40)
            fprintf(stderr, "call %d: %lld against %lld steps\n", i, large[i], small[i]);
        CHECK(small[i] > 0);
        CHECK(large[i] <= small[i] + 40);
    }
}

/* Processes adding, rewriting, forgetting and purging keys of their own on
   one file while searching (each search indexes what waits, whoever added
   it), replayed on one model: the step of process p at i on its keys. */
#define MK_PROCS 3
#define MK_PKEYS 6
typedef struct mk_pstate {
    mk_key keys[MK_PKEYS];
    int last_new; /* the key the process added last (-1: none) */
} mk_pstate;

/* Step i of process p: what it does (*kind: 0 put, 1 forget, 2 purge) to
   which of its keys (*j; a purge takes the key added last, often the one
   with the largest id, so the next key added gets its id again). */
static void mk_proc_step(int p, int i, mk_pstate *ps, int *kind, int *j) {
    *kind = i % 4 == 2 ? 2 : i % 5 == 4 ? 1 : 0;
    *j = (i * 5 + p) % MK_PKEYS;
    if (*kind == 2 && ps->last_new >= 0) *j = ps->last_new;
    mk_key *k = &ps->keys[*j];
    if (*kind == 0) {
        if (!k->exists) ps->last_new = *j;
        k->ver = k->exists ? k->ver + 1 : 1;
        k->nvers = k->exists ? k->nvers + 1 : 1;
        k->exists = k->live = true;
        k->word = (unsigned)i + 1; /* 0: none */
    } else if (*kind == 1 && k->live) {
        k->ver++;
        k->nvers++;
        k->live = false;
    } else if (*kind == 2) {
        memset(k, 0, sizeof *k);
        if (ps->last_new == *j) ps->last_new = -1;
    }
}

static void mk_proc(const char *path, int p, int n) {
    zm_store *s = NULL;
    zm_store_opts o;
    memset(&o, 0, sizeof o);
    o.busy_timeout_ms = 60000;
    if (zm_store_sqlite_open(path, &o, &s) != ZM_OK) _exit(2);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    mk_pstate ps;
    memset(&ps, 0, sizeof ps);
    ps.last_new = -1;
    char key[32], val[64];
    for (int i = 0; i < n; i++) {
        int kind, j;
        mk_proc_step(p, i, &ps, &kind, &j);
        snprintf(key, sizeof key, "p%d/%d", p, j);
        bool existed;
        zm_status st;
        if (kind == 0) {
            snprintf(val, sizeof val, "\"common p%dx%d\"", p, i + 1);
            st = st_put(s, &ar, key, val, i, NULL);
        } else {
            st = st_forget(s, key, kind == 2, i, &existed);
        }
        if (st != ZM_OK) {
            fprintf(stderr, "process %d step %d: %s\n", p, i, zm_store_errmsg());
            _exit(3);
        }
        size_t hits;
        uint64_t v;
        /* Its own keys change only here: each search finds each by its
           latest word, with its latest version (the first indexes what
           waits, this process's keys and the others'). */
        for (int c = 0; i % 2 == 1 && c < MK_PKEYS; c++) {
            char q[32], got[32];
            snprintf(q, sizeof q, "p%dx%u", p, ps.keys[c].word);
            snprintf(key, sizeof key, "p%d/%d", p, c);
            if (mk_search(s, q, ZM_SEARCH_TOKEN, &hits, got, sizeof got, &v) != ZM_OK) {
                fprintf(stderr, "process %d search: %s\n", p, zm_store_errmsg());
                _exit(4);
            }
            if (hits != (ps.keys[c].live ? 1u : 0u) ||
                (hits == 1 && (strcmp(got, key) != 0 || v != ps.keys[c].ver))) {
                fprintf(stderr, "process %d step %d: %s: %zu hits (%s v%llu), want %d (%s v%llu)\n",
                        p, i, q, hits, got, (unsigned long long)v, ps.keys[c].live, key,
                        (unsigned long long)ps.keys[c].ver);
                _exit(5);
            }
        }
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    zm_arena_deinit(&ar);
    zm_store_close(s);
    _exit(0);
}

/* The processes above at once; then every key's latest value is found, in
   every mode, by its word and nothing else, and the file is consistent. */
static void test_processes(void) {
    char p[512], q[64], want[32], got[32];
    st_path(p, sizeof p, "procs.db");
    zm_store *s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK); /* created before the race */
    zm_store_close(s);
    int n = zt_small() ? 40 : 200;
    pid_t pids[MK_PROCS];
    fflush(NULL);
    for (int i = 0; i < MK_PROCS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) mk_proc(p, i, n);
    }
    for (int i = 0; i < MK_PROCS; i++) {
        int status = 0;
        waitpid(pids[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK(sq_consistent(p));
    s = NULL;
    CHECK_EQ(zm_store_sqlite_open(p, NULL, &s), ZM_OK);
    if (s == NULL) return;
    size_t live = 0, hits;
    uint64_t ver;
    for (int pr = 0; pr < MK_PROCS; pr++) {
        mk_pstate ps;
        memset(&ps, 0, sizeof ps);
        ps.last_new = -1;
        int kind, jj;
        for (int i = 0; i < n; i++) mk_proc_step(pr, i, &ps, &kind, &jj);
        const mk_key *keys = ps.keys;
        for (int j = 0; j < MK_PKEYS; j++) {
            live += keys[j].live;
            snprintf(want, sizeof want, "p%d/%d", pr, j);
            snprintf(q, sizeof q, "p%dx%u", pr, keys[j].word);
            CHECK_EQ(mk_search(s, q, ZM_SEARCH_TOKEN, &hits, got, sizeof got, &ver), ZM_OK);
            CHECK_EQ(hits, keys[j].live ? 1u : 0u);
            if (keys[j].live && hits == 1) {
                CHECK_STR(got, want);
                CHECK_EQ(ver, keys[j].ver);
            }
            snprintf(q, sizeof q, "common p%dx%u", pr, keys[j].word);
            CHECK_EQ(mk_search(s, q, ZM_SEARCH_EXACT, &hits, got, sizeof got, &ver), ZM_OK);
            CHECK_EQ(hits, keys[j].live ? 1u : 0u);
        }
    }
    CHECK(live > 0);
    CHECK_EQ(mk_search(s, "common", ZM_SEARCH_TOKEN, &hits, NULL, 0, &ver), ZM_OK);
    CHECK_EQ(hits, live);
    CHECK_EQ(mk_search(s, "common p", ZM_SEARCH_PREFIX, &hits, NULL, 0, &ver), ZM_OK);
    CHECK_EQ(hits, live);
    zm_store_close(s);
    CHECK(sq_consistent(p));
}

int main(void) {
    st_tmpdir("sqlite-mark");
    RUN(test_random);
    RUN(test_pass_rolled_back);
    RUN(test_costs_flat);
    RUN(test_processes);
    st_rmdir();
    return zt_finish("store_sqlite_mark");
}
