/* The every-failure sweep over the SQLite backend, SQLite's own memory
   included: zm_sqlite_use_allocator points SQLite at a forwarding allocator
   whose target each run of the sweep swaps for the allocator the sweep hands
   it. Each run copies a small database, opens it, makes one call and closes
   it; every allocation of zmem and of SQLite on that path fails once. Each
   run must return ZM_ENOMEM or succeed, leak nothing, and leave the file
   consistent: a failed call changed nothing, a successful one what the
   baseline run changed. */
#define _GNU_SOURCE
#include "sqlite_check.h"
#include "sqlite_test.h"
#include "zmem/testing.h"

#include "../../store/sqlite_internal.h"

/* ---------------------------------------------------------------------------
 * The forwarding allocator. Every block records the allocator it came from
 * (16 bytes before it), so a block SQLite allocated before a swap is given
 * back where it came from.
 * ------------------------------------------------------------------------- */

static zm_allocator target;
static int benign; /* inside an SQLite region where a failed malloc is ignored */

static size_t fwd_hdr(size_t align) {
    return align > 16 ? align : 16;
}

static void *fwd_alloc(void *ctx, size_t len, size_t align, uintptr_t ret) {
    (void)ctx;
    (void)ret;
    size_t hdr = fwd_hdr(align);
    zm_allocator t = benign ? zm_default_allocator() : target;
    char *p = zm_alloc(t, len + hdr, hdr);
    if (p == NULL) return NULL;
    memcpy(p + hdr - sizeof t, &t, sizeof t);
    return p + hdr;
}

static bool fwd_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                       uintptr_t ret) {
    (void)ctx, (void)ptr, (void)len, (void)align, (void)new_len, (void)ret;
    return false;
}

static void *fwd_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                       uintptr_t ret) {
    (void)ctx, (void)ptr, (void)len, (void)align, (void)new_len, (void)ret;
    return NULL;
}

static void fwd_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ret) {
    (void)ctx;
    (void)ret;
    size_t hdr = fwd_hdr(align);
    zm_allocator t;
    memcpy(&t, (char *)ptr - sizeof t, sizeof t);
    zm_free(t, (char *)ptr - hdr, len + hdr, hdr);
}

static const zm_allocator_vtable fwd_vtable = {fwd_alloc, fwd_resize, fwd_remap, fwd_free};

/* SQLite's benign-failure regions (its own test hooks): allocations there
   may fail without an error, so they are not handed to the sweep. */
static void benign_begin(void) {
    benign++;
}

static void benign_end(void) {
    benign--;
}

/* ---------------------------------------------------------------------------
 * The runs
 * ------------------------------------------------------------------------- */

static char tmpl[512], work[512];

/* What a database holds, in a few numbers: equal numbers, same content. */
typedef struct print {
    long long n[6];
} print;

static print fingerprint(const char *path) {
    print f;
    memset(&f, 0, sizeof f);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(
            db,
            "SELECT (SELECT count(*) FROM zmem_versions), "
            "(SELECT total((SELECT max(version) FROM zmem_versions WHERE key_id = k.id) "
            "* 1000 + live) FROM zmem_keys k), "
            "(SELECT count(*) FROM zmem_strings), (SELECT count(*) FROM zmem_fts), "
            "(SELECT count(*) FROM zmem_edges), (SELECT count(*) FROM zmem_nodes)",
            -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        for (int i = 0; i < 6; i++) f.n[i] = sqlite3_column_int64(q, i);
    else
        f.n[0] = -1;
    sqlite3_finalize(q);
    sqlite3_close(db);
    return f;
}

/* Copies the template database to the work path. */
static void copy_template(void) {
    st_remove_db(work);
    FILE *in = fopen(tmpl, "rb"), *out = fopen(work, "wb");
    char buf[8192];
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    if (in) fclose(in);
    if (out) fclose(out);
}

typedef enum op {
    OP_OPEN,
    OP_PUT,
    OP_PUT_NEW,
    OP_GET,
    OP_HISTORY,
    OP_SEARCH_TOKEN,
    OP_SEARCH_SUBSTRING,
    OP_LINK,
    OP_NEIGHBORS,
    OP_FORGET,
    OP_PURGE,
    OP_HEAD,
    OP_SEARCH_SKIP,
    OP_UNLINK,
    OP_EXPORT,
    OP_STATS,
    OP_OPEN_LOCATION,
    OP_TXN,
} op;

static const char *const op_names[] = {"open",
                                       "put",
                                       "put new",
                                       "get",
                                       "history",
                                       "search token",
                                       "search substring",
                                       "link",
                                       "neighbors",
                                       "forget",
                                       "purge",
                                       "head",
                                       "search skip",
                                       "unlink",
                                       "export",
                                       "stats",
                                       "open location",
                                       "transaction"};

typedef struct run_state {
    op op;
    bool hold; /* opened with hold_reads, a get before the op (which then runs held) */
    bool have_ok;
    print ok_print, before;
    int bad; /* runs that left the database inconsistent */
} run_state;

/* One call of the op on store s; reads go into ar, inputs are parsed into
   in (not part of the sweep). */
static zm_status call(zm_store *s, op o, zm_arena *ar, zm_arena *in) {
    zm_allocator a = zm_arena_allocator(ar);
    zm_store_version v, *h;
    zm_search_hit *hits;
    zm_store_hit *nb;
    size_t n, total;
    bool b;
    switch (o) {
    case OP_OPEN: return ZM_OK;
    case OP_PUT: return st_put(s, in, "k3", "{\"text\":\"a new fruit value\",\"n\":[1,2]}", 9, &v);
    case OP_PUT_NEW: return st_put(s, in, "fresh key", "[\"new words\",\"here\"]", 9, &v);
    case OP_GET: return zm_store_get(s, "k3", 2, -1, a, &v);
    case OP_HISTORY: return zm_store_history(s, "k3", 2, -1, a, &h, &n);
    case OP_SEARCH_TOKEN:
        return zm_store_search(s, "fruit word", 10, ZM_SEARCH_TOKEN, 3, a, &hits, &n, &total);
    case OP_SEARCH_SUBSTRING:
        return zm_store_search(s, "rui", 3, ZM_SEARCH_SUBSTRING, 3, a, &hits, &n, &total);
    case OP_LINK: {
        zm_store_link_req l = {"k1", "new node", "rel", 2, 8, 3, ST_JSON(in, "{\"w\":1}"),
                               "a",  1,          5};
        return zm_store_link(s, &l, &b);
    }
    case OP_NEIGHBORS: {
        zm_store_walk w = {"k1", 2, NULL, 0, ZM_STORE_BOTH, 3, 10};
        return zm_store_neighbors(s, &w, a, &nb, &n, &b);
    }
    case OP_FORGET: return st_forget(s, "k2", false, 9, &b);
    case OP_PURGE: return st_forget(s, "k4", true, 9, &b);
    case OP_HEAD: {
        uint64_t latest;
        return zm_store_head(s, "k3", 2, a, &latest);
    }
    case OP_SEARCH_SKIP:
        return zm_store_search_skip(s, "fruit", 5, ZM_SEARCH_TOKEN, 3, "k1", 2, a, &hits, &n,
                                    &total);
    case OP_UNLINK: return zm_store_unlink(s, "k2", 2, "hub", 3, "in", 2, &b);
    case OP_EXPORT: {
        zm_store_cursor *c;
        zm_status st = zm_store_export_open(s, a, &c);
        if (st != ZM_OK) return st;
        zm_store_record r;
        b = false;
        while ((st = zm_store_cursor_next(c, &r, &b)) == ZM_OK && !b) {
        }
        zm_store_cursor_close(c);
        return st;
    }
    case OP_STATS: {
        zm_store_stats stats;
        return zm_store_stats_get(s, &stats);
    }
    case OP_OPEN_LOCATION: return ZM_OK; /* opened through zm_store_open */
    case OP_TXN: {
        zm_status st = zm_store_begin(s);
        if (st != ZM_OK) return st;
        if ((st = st_put(s, in, "k5", "\"in a transaction\"", 9, NULL)) == ZM_OK &&
            (st = st_put(s, in, "k6", "\"and another\"", 9, NULL)) == ZM_OK)
            return zm_store_commit(s);
        zm_store_rollback(s);
        return st;
    }
    }
    return ZM_EINTERNAL;
}

/* The function the sweep runs: open, call, close, all from a; then the
   database is checked with SQLite's memory from the default allocator. */
static zm_status sweep_fn(zm_allocator a, void *arg) {
    run_state *rs = arg;
    copy_template();
    target = a;
    zm_store_opts o;
    memset(&o, 0, sizeof o);
    o.alloc = a;
    o.hold_reads = rs->hold;
    zm_store *s = NULL;
    zm_status st = rs->op == OP_OPEN_LOCATION ? zm_store_open(work, &o, &s)
                                              : zm_store_sqlite_open(work, &o, &s);
    if (st == ZM_OK) {
        zm_arena ar, in;
        zm_arena_init(&ar, a);
        zm_arena_init(&in, zm_default_allocator());
        if (rs->hold) st = call(s, OP_GET, &ar, &in); /* the op runs in the read it holds */
        if (st == ZM_OK) st = call(s, rs->op, &ar, &in);
        if (rs->hold) zm_store_idle(s);
        zm_arena_deinit(&in);
        zm_arena_deinit(&ar);
        /* Closing cannot fail: SQLite's checkpoint at close is best effort
           and ignores a failed allocation, so its memory is not swept. */
        target = zm_default_allocator();
        zm_store_close(s);
    }
    target = zm_default_allocator();
    print now = fingerprint(work);
    bool same;
    if (st == ZM_OK) {
        if (!rs->have_ok) {
            rs->ok_print = now;
            rs->have_ok = true;
        }
        same = memcmp(&now, &rs->ok_print, sizeof now) == 0;
    } else {
        same = memcmp(&now, &rs->before, sizeof now) == 0;
        /* A search first indexes the keys waiting for it (the template's
           puts), in a write of its own: a search failing after that write
           leaves them indexed, which changes nothing a read can see. */
        if (!same && (rs->op == OP_SEARCH_TOKEN || rs->op == OP_SEARCH_SUBSTRING ||
                      rs->op == OP_SEARCH_SKIP))
            same = rs->have_ok && memcmp(&now, &rs->ok_print, sizeof now) == 0;
        /* A purge whose log could not be truncated is done, and says so. */
        if (rs->op == OP_PURGE && strstr(zm_store_errmsg(), "purge again") != NULL)
            same = rs->have_ok && memcmp(&now, &rs->ok_print, sizeof now) == 0;
    }
    if (!same || !sq_consistent(work)) {
        if (rs->bad++ < 3)
            fprintf(stderr, "%s: the database is not as it should be after %s (%s)\n",
                    op_names[rs->op], zm_status_str(st), zm_store_errmsg());
    }
    return st;
}

/* Makes the template: a few keys with versions, content and edges. */
static void make_template(void) {
    zm_store *s = NULL;
    if (zm_store_sqlite_open(tmpl, NULL, &s) != ZM_OK) {
        fprintf(stderr, "template: %s\n", zm_store_errmsg());
        exit(1);
    }
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    char key[16];
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "k%d", i);
        st_put(s, &ar, key, "{\"text\":\"some fruit words\",\"more\":[\"x\",\"y\"]}", i, NULL);
        st_link(s, key, "hub", "in", NULL);
    }
    /* Indexed once, then written again: a search or a purge in the sweep
       drops token rows, with their text rebuilt from the strings. */
    zm_search_hit *hits;
    size_t n, total;
    zm_store_search(s, "fruit", 5, ZM_SEARCH_TOKEN, 5, zm_arena_allocator(&ar), &hits, &n, &total);
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "k%d", i);
        st_put(s, &ar, key, "\"a second fruit\"", i + 1, NULL);
    }
    zm_arena_deinit(&ar);
    zm_store_close(s);
}

/* What the template looks like to a reader. */
static print before;

/* Sweeps op (with held reads when hold) from the template: every failure
   must leave the database as it was. Returns the allocations swept. */
static size_t sweep_op(op o, bool hold) {
    run_state rs;
    memset(&rs, 0, sizeof rs);
    rs.op = o;
    rs.hold = hold;
    rs.before = before;
    zm_sweep_report rep;
    zm_sweep_options so;
    memset(&so, 0, sizeof so);
    so.backtrace_depth = -1;
    if (zt_small()) so.max_runs = 40; /* valgrind: the first allocations only */
    zm_status st = zm_check_allocation_failures(zm_default_allocator(), sweep_fn, &rs, &so, &rep);
    if (st != ZM_OK)
        fprintf(stderr, "%ssweep of %s: %s\n", hold ? "held " : "", op_names[o], rep.message);
    CHECK_EQ(st, ZM_OK);
    CHECK_EQ(rs.bad, 0);
    return rep.alloc_count;
}

int main(void) {
    /* Thousands of small databases: in memory when the machine has a tmpfs. */
    if (getenv("TMPDIR") == NULL && access("/dev/shm", W_OK) == 0) setenv("TMPDIR", "/dev/shm", 1);
    st_tmpdir("sweep");
    zm_sqlite_use_allocator((zm_allocator){NULL, &fwd_vtable});
    CHECK_EQ(zm_sqlite_use_allocator((zm_allocator){NULL, &fwd_vtable}), ZM_OK);
    sqlite3_test_control(SQLITE_TESTCTRL_BENIGN_MALLOC_HOOKS, benign_begin, benign_end);
    target = zm_default_allocator();
    st_path(tmpl, sizeof tmpl, "template.db");
    st_path(work, sizeof work, "work.db");
    make_template();
    /* Once SQLite is in use, its allocator can no longer change. */
    CHECK_EQ(zm_sqlite_use_allocator(zm_default_allocator()), ZM_EBUSY);

    before = fingerprint(tmpl);
    /* First with the backend keeping SQLite's freed small blocks for reuse
       (as it runs), then with that off, so that every allocation SQLite makes
       on each path is one that fails once. A kept block is handed out only
       after SQLite freed it in the same run, so fewer allocations are swept
       the first time. */
    for (int keep = 1; keep >= 0; keep--) {
        zm__sq_alloc_keep(keep != 0);
        size_t open_allocs = 0;
        for (op o = OP_OPEN; o <= OP_TXN; o++) {
            size_t n = sweep_op(o, false);
            /* Each call fails allocations of its own, past those of the open. */
            if (o == OP_OPEN) open_allocs = n;
            if (o == OP_OPEN_LOCATION)
                CHECK_EQ(n, open_allocs);
            else
                CHECK(n > (o == OP_OPEN ? 0 : open_allocs));
            fprintf(stderr, "%-16s %zu allocations swept (%s)\n", op_names[o], n,
                    keep ? "freed blocks kept" : "none kept");
        }
    }
    /* With held reads: a get, then each op in the read it left open (or, for
       a write, after ending it), then the store idled. */
    static const op held_ops[] = {OP_GET,    OP_HISTORY, OP_SEARCH_TOKEN, OP_NEIGHBORS, OP_HEAD,
                                  OP_EXPORT, OP_STATS,   OP_PUT,          OP_FORGET};
    for (size_t i = 0; i < sizeof held_ops / sizeof held_ops[0]; i++) {
        size_t n = sweep_op(held_ops[i], true);
        CHECK(n > 0);
        fprintf(stderr, "held %-11s %zu allocations swept\n", op_names[held_ops[i]], n);
    }
    st_rmdir();
    return zt_finish("store_sqlite_sweep");
}
