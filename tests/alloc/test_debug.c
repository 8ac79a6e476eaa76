/* The debug allocator: each kind of bug committed on purpose, and the report
   it must produce. The bugs never reach the backing allocator, so this test
   is clean under valgrind and ASan. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "zmem/debug.h"
#include "zmem/failing.h"
#include "zmem/testing.h"

/* A debug allocator whose reports go to a memory stream. */
typedef struct capture {
    zm_debug dbg;
    FILE *out;
    char *text;
    size_t size;
} capture;

static zm_allocator cap_open(capture *c, const zm_debug_options *base) {
    memset(c, 0, sizeof *c);
    c->out = open_memstream(&c->text, &c->size);
    zm_debug_options o = base ? *base : zm_debug_defaults();
    o.out = c->out;
    zm_debug_init(&c->dbg, zm_default_allocator(), &o);
    return zm_debug_allocator(&c->dbg);
}

/* The reports written so far (valid until the next call). */
static const char *cap_text(capture *c) {
    fflush(c->out);
    return c->text ? c->text : "";
}

/* Deinits and returns the leak count; the text stays readable until cap_free. */
static size_t cap_close(capture *c) {
    size_t leaks = zm_debug_deinit(&c->dbg);
    fflush(c->out);
    return leaks;
}

static void cap_free(capture *c) {
    fclose(c->out);
    free(c->text);
}

static bool has(const char *s, const char *sub) {
    if (strstr(s, sub) != NULL) return true;
    fprintf(stderr, "missing \"%s\" in:\n%s\n", sub, s);
    return false;
}

/* "0x..." of a pointer, as the reports print it. */
static const char *addr(const void *p) {
    static char buf[4][32];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%p", p);
    return buf[k];
}

/* Allocations made out of line, so that their ret_addr is in this function. */
__attribute__((noinline)) static char *make_block(zm_allocator a, size_t len) {
    char *p =
        zm_strndup(a, "................................................................", len - 1);
    if (p != NULL) p[0] = '#'; /* not a tail call: the return comes back here */
    return p;
}

static void test_clean_use_reports_nothing(void) {
    capture c;
    zm_allocator a = cap_open(&c, NULL);
    for (size_t align = 1; align <= 4096; align *= 4) {
        for (size_t len = 1; len < 2000; len = len * 3 + 1) {
            unsigned char *p = zm_alloc(a, len, align);
            CHECK(p != NULL && (uintptr_t)p % align == 0);
            memset(p, 0x5A, len);
            zm_free(a, p, len, align);
        }
    }
    char *s = zm_alloc(a, 10, 1);
    memcpy(s, "123456789", 10);
    s = zm_realloc(a, s, 10, 5000, 1);
    CHECK(s != NULL && strcmp(s, "123456789") == 0);
    memset(s, 'x', 5000);
    CHECK(zm_resize(a, s, 5000, 1, 100));
    memset(s, 'y', 100);
    s = zm_realloc(a, s, 100, 20, 1);
    zm_free(a, s, 20, 1);
    CHECK_EQ(zm_debug_check(&c.dbg), 0);
    CHECK_EQ(c.dbg.counts.errors, 0);
    CHECK_EQ(c.dbg.live_blocks, 0);
    CHECK_EQ(c.dbg.live_bytes, 0);
    CHECK(c.dbg.peak_bytes >= 5000);
    CHECK_EQ(cap_close(&c), 0);
    CHECK_STR(cap_text(&c), "");
    CHECK_STR(c.dbg.first_error, "");
    cap_free(&c);
}

static void test_leak(void) {
    capture c;
    zm_allocator a = cap_open(&c, NULL);
    char *keep = make_block(a, 24);
    char *gone = make_block(a, 8);
    zm_free(a, gone, 8, 1);
    char expect[128];
    snprintf(expect, sizeof expect, "zmem debug: leak: 24-byte block at %s allocated at 0x",
             addr(keep));
    /* On demand: listed, nothing changes. */
    FILE *f = tmpfile();
    CHECK_EQ(zm_debug_report(&c.dbg, f), 1);
    char buf[1024] = {0};
    rewind(f);
    CHECK(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    CHECK(has(buf, expect));
    CHECK(has(buf, "zmem debug: summary: 1 live blocks (24 bytes), peak 32 bytes, 2 allocs, 1 "
                   "frees; 0 errors"));
    CHECK_EQ(c.dbg.counts.leaks, 0);
    /* At deinit: reported, counted, and freed (valgrind sees no leak). */
    CHECK_EQ(cap_close(&c), 1);
    CHECK(has(cap_text(&c), expect));
    CHECK_EQ(c.dbg.counts.leaks, 1);
    /* ret_addr is inside make_block, which called zm_strndup. */
    uintptr_t ra = 0;
    const char *at = strstr(cap_text(&c), "allocated at 0x");
    CHECK(at != NULL && sscanf(at, "allocated at 0x%" SCNxPTR, &ra) == 1);
    CHECK(ra > (uintptr_t)make_block && ra < (uintptr_t)make_block + 256);
    cap_free(&c);
}

static void test_double_free(void) {
    capture c;
    zm_allocator a = cap_open(&c, NULL);
    char *p = make_block(a, 24);
    zm_free(a, p, 24, 1);
    zm_free(a, p, 24, 1); /* the bug */
    CHECK_EQ(c.dbg.counts.double_frees, 1);
    CHECK_EQ(c.dbg.counts.errors, 1);
    CHECK_EQ(c.dbg.total_frees, 1);
    char expect[128];
    snprintf(expect, sizeof expect,
             "zmem debug: double free: free of 24-byte block at %s allocated at 0x", addr(p));
    CHECK(has(cap_text(&c), expect));
    CHECK(has(cap_text(&c), ", first freed at 0x"));
    CHECK(has(cap_text(&c), ", freed again at 0x"));
    CHECK(has(c.dbg.first_error, "zmem debug: double free: "));
    /* Resizing a freed block is the same bug. */
    CHECK(!zm_resize(a, p, 24, 1, 10));
    CHECK_EQ(c.dbg.counts.double_frees, 2);
    CHECK(has(cap_text(&c), "double free: resize of 24-byte block"));
    CHECK_EQ(cap_close(&c), 0);
    cap_free(&c);
}

static void test_invalid_free(void) {
    capture c;
    zm_allocator a = cap_open(&c, NULL);
    char local[16];
    zm_free(a, local, 16, 1);
    char *p = make_block(a, 32);
    zm_free(a, p + 8, 24, 1); /* an interior pointer */
    CHECK_EQ(c.dbg.counts.invalid_frees, 2);
    char expect[128];
    snprintf(expect, sizeof expect, "zmem debug: invalid free: free of %s at ", addr(p + 8));
    CHECK(has(cap_text(&c), expect));
    CHECK(has(cap_text(&c), ": not a block of this allocator"));
    CHECK(zm_remap(a, local, 16, 1, 32) == NULL);
    CHECK_EQ(c.dbg.counts.invalid_frees, 3);
    zm_free(a, p, 32, 1);
    CHECK_EQ(cap_close(&c), 0);
    cap_free(&c);
}

static void test_wrong_length_and_alignment(void) {
    capture c;
    zm_allocator a = cap_open(&c, NULL);
    char *p = zm_alloc(a, 24, 8);
    zm_free(a, p, 16, 8); /* freed anyway, with its true length */
    CHECK_EQ(c.dbg.counts.wrong_lengths, 1);
    char expect[128];
    snprintf(expect, sizeof expect, "zmem debug: wrong length: free of 24-byte block at %s",
             addr(p));
    CHECK(has(cap_text(&c), expect));
    CHECK(has(cap_text(&c), " with length 16, at "));
    CHECK_EQ(c.dbg.live_blocks, 0);

    p = zm_alloc(a, 24, 8);
    zm_free(a, p, 24, 16);
    CHECK_EQ(c.dbg.counts.wrong_aligns, 1);
    CHECK(has(cap_text(&c), "(alignment 8) with alignment 16, at "));

    p = zm_alloc(a, 40, 8);
    CHECK(!zm_resize(a, p, 30, 8, 20)); /* refused, not passed on */
    CHECK(zm_remap(a, p, 40, 16, 80) == NULL);
    CHECK_EQ(c.dbg.counts.wrong_lengths, 2);
    CHECK_EQ(c.dbg.counts.wrong_aligns, 2);
    CHECK(has(cap_text(&c), "wrong length: resize of 40-byte block"));
    CHECK(has(cap_text(&c), "wrong alignment: remap of 40-byte block"));
    zm_free(a, p, 40, 8);
    CHECK_EQ(c.dbg.counts.errors, 4);
    CHECK_EQ(cap_close(&c), 0);
    cap_free(&c);
}

static void test_overrun_and_underrun(void) {
    capture c;
    zm_allocator a = cap_open(&c, NULL);
    char *p = zm_alloc(a, 24, 8);
    memset(p, 0, 24);
    p[24] = 'x'; /* one past the end: a guard byte */
    p[26] = 'y';
    zm_free(a, p, 24, 8);
    CHECK_EQ(c.dbg.counts.overruns, 1);
    char expect[160];
    snprintf(expect, sizeof expect, "zmem debug: buffer overrun: 24-byte block at %s allocated at ",
             addr(p));
    CHECK(has(cap_text(&c), expect));
    CHECK(has(cap_text(&c), ": 2 of the 16 guard bytes past its end overwritten (up to end+2), "
                            "found at free from "));

    p = zm_alloc(a, 10, 1);
    p[-1] = 0;
    CHECK_EQ(zm_debug_check(&c.dbg), 1); /* on demand */
    CHECK_EQ(c.dbg.counts.underruns, 1);
    CHECK(has(cap_text(&c), ": 1 of the 16 guard bytes before its start overwritten (from "
                            "start-1), found by zm_debug_check"));
    p[-1] = (char)ZM_DEBUG_GUARD_BYTE; /* repaired: the free finds nothing */
    zm_free(a, p, 10, 1);
    CHECK_EQ(c.dbg.counts.underruns, 1);

    /* Found when the block is resized or remapped, too. */
    p = zm_alloc(a, 8, 8);
    p[8] = 0;
    p = zm_realloc(a, p, 8, 64, 8);
    CHECK_EQ(c.dbg.counts.overruns, 2);
    CHECK(has(cap_text(&c), "found at remap from "));
    zm_free(a, p, 64, 8);
    CHECK_EQ(c.dbg.counts.overruns, 2); /* a moved block has fresh guards */

    /* Still live at deinit: the overrun is found there, then the leak. */
    p = zm_alloc(a, 100, 64);
    p[100] = 1;
    CHECK_EQ(cap_close(&c), 1);
    CHECK_EQ(c.dbg.counts.overruns, 3);
    CHECK(has(cap_text(&c), "past its end overwritten (up to end+0), found at deinit"));
    CHECK(has(cap_text(&c), "zmem debug: leak: 100-byte block"));
    cap_free(&c);
}

/* One corrupted block is reported and counted once, wherever it is found
   again: by zm_debug_check, when it leaves the quarantine, at deinit. */
static void test_corruption_reported_once(void) {
    zm_debug_options o = zm_debug_defaults();
    o.quarantine_bytes = 1 << 16;
    capture c;
    zm_allocator a = cap_open(&c, &o);
    char *q = zm_alloc(a, 16, 8);
    q[16] = 1; /* one overrun */
    zm_free(a, q, 16, 8);
    CHECK_EQ(c.dbg.counts.overruns, 1);
    CHECK_EQ(zm_debug_check(&c.dbg), 0);
    char *r = zm_alloc(a, 16, 8);
    r[-3] = 1; /* one underrun of a live block */
    CHECK_EQ(zm_debug_check(&c.dbg), 1);
    CHECK_EQ(zm_debug_check(&c.dbg), 0);
    zm_free(a, r, 16, 8);
    CHECK_EQ(cap_close(&c), 0);
    CHECK_EQ(c.dbg.counts.overruns, 1);
    CHECK_EQ(c.dbg.counts.underruns, 1);
    CHECK_EQ(c.dbg.counts.errors, 2);
    const char *t = cap_text(&c);
    const char *first = strstr(t, "buffer overrun");
    CHECK(first != NULL && strstr(first + 1, "buffer overrun") == NULL);
    cap_free(&c);
}

static void test_use_after_free(void) {
    zm_debug_options o = zm_debug_defaults();
    o.quarantine_bytes = 256;
    capture c;
    zm_allocator a = cap_open(&c, &o);
    unsigned char *p = zm_alloc(a, 32, 8);
    memset(p, 1, 32);
    zm_free(a, p, 32, 8);
    CHECK_EQ(c.dbg.quarantined_bytes, 32);
    CHECK_EQ(p[0], 0xDD); /* poisoned, and still held: reading is harmless */
    CHECK_EQ(p[31], 0xDD);
    p[4] = 7; /* the bug: a late write */
    CHECK_EQ(c.dbg.counts.use_after_free, 0);
    /* Other frees push it out of the 256-byte quarantine: the write is seen. */
    for (int i = 0; i < 10; i++) zm_free(a, zm_alloc(a, 32, 8), 32, 8);
    CHECK_EQ(c.dbg.counts.use_after_free, 1);
    char expect[160];
    snprintf(expect, sizeof expect, "zmem debug: use after free: 32-byte block at %s allocated at ",
             addr(p));
    CHECK(has(cap_text(&c), expect));
    CHECK(has(cap_text(&c), " was written at offset 4 after it was freed at 0x"));
    CHECK(has(cap_text(&c), "(found when it left the quarantine)"));
    CHECK(c.dbg.quarantined_bytes <= 256);

    /* Found on demand, and at deinit. */
    p = zm_alloc(a, 16, 8);
    zm_free(a, p, 16, 8);
    p[15] = 0;
    CHECK_EQ(zm_debug_check(&c.dbg), 1);
    CHECK_EQ(c.dbg.counts.use_after_free, 2);
    p = zm_alloc(a, 16, 8);
    zm_free(a, p, 16, 8);
    p[0] = 0;
    CHECK_EQ(cap_close(&c), 0);
    CHECK_EQ(c.dbg.counts.use_after_free, 3);
    cap_free(&c);
}

static void test_never_reuse(void) {
    zm_debug_options o = zm_debug_defaults();
    o.never_reuse = true;
    o.free_history = 16;
    capture c;
    zm_allocator a = cap_open(&c, &o);
    enum { N = 200 };
    void *seen[N];
    for (int i = 0; i < N; i++) {
        seen[i] = zm_alloc(a, 24, 8);
        zm_free(a, seen[i], 24, 8);
    }
    int repeats = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < i; j++) repeats += seen[i] == seen[j];
    CHECK_EQ(repeats, 0);
    CHECK_EQ(c.dbg.quarantined_bytes, 24 * N);
    /* Every freed block is still known: a double free of the first is named. */
    zm_free(a, seen[0], 24, 8);
    CHECK_EQ(c.dbg.counts.double_frees, 1);
    CHECK_EQ(cap_close(&c), 0);
    cap_free(&c);
}

static void test_history_is_bounded(void) {
    zm_debug_options o = zm_debug_defaults();
    o.free_history = 16;
    capture c;
    zm_allocator a = cap_open(&c, &o);
    void *keep[64];
    for (int i = 0; i < 64; i++) keep[i] = zm_alloc(a, 8, 8);
    for (int i = 0; i < 64; i++) zm_free(a, keep[i], 8, 8);
    CHECK(c.dbg.count <= 16); /* only the last 16 freed blocks are remembered */
    zm_free(a, keep[63], 8, 8);
    CHECK_EQ(c.dbg.counts.double_frees, 1);
    CHECK_EQ(cap_close(&c), 0);
    cap_free(&c);
}

static void test_backtraces(void) {
    zm_debug_options o = zm_debug_defaults();
    o.backtrace_depth = 4;
    capture c;
    zm_allocator a = cap_open(&c, &o);
    char *p = make_block(a, 16);
    zm_free(a, p, 16, 1);
    zm_free(a, p, 16, 1);
    (void)make_block(a, 40);
    CHECK_EQ(cap_close(&c), 1);
#ifdef __GLIBC__
    CHECK(has(cap_text(&c), "zmem debug: double free: free of 16-byte block"));
    CHECK(has(cap_text(&c), "\n  allocated at:\n    #0 0x"));
    CHECK(has(cap_text(&c), "\n  freed at:\n    #0 0x"));
    CHECK(has(cap_text(&c), "zmem debug: leak: 40-byte block"));
    /* Frame #0 is in zm_strndup, frame #1 is its caller: the ret_addr. */
    const char *t = strstr(cap_text(&c), "zmem debug: leak: 40-byte block");
    uintptr_t ra = 0, f1 = 0;
    const char *at = t ? strstr(t, "allocated at 0x") : NULL;
    const char *fr = t ? strstr(t, "#1 0x") : NULL;
    CHECK(at && sscanf(at, "allocated at 0x%" SCNxPTR, &ra) == 1);
    CHECK(fr && sscanf(fr, "#1 0x%" SCNxPTR, &f1) == 1);
    CHECK(ra != 0 && ra == f1);
#endif
    cap_free(&c);
}

static void test_silent_but_counted(void) {
    zm_debug_options o = zm_debug_defaults();
    o.out = NULL;
    zm_debug d;
    zm_debug_init(&d, zm_default_allocator(), &o);
    zm_allocator a = zm_debug_allocator(&d);
    char *p = zm_alloc(a, 8, 8);
    zm_free(a, p, 8, 8);
    zm_free(a, p, 8, 8);
    CHECK_EQ(d.counts.double_frees, 1);
    CHECK(has(d.first_error, "zmem debug: double free: free of 8-byte block at "));
    (void)zm_alloc(a, 8, 8);
    CHECK_EQ(zm_debug_report(&d, NULL), 1); /* writes nowhere */
    CHECK_EQ(zm_debug_deinit(&d), 1);
}

static void test_abort_on_misuse(void) {
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        zm_debug_options o = zm_debug_defaults();
        o.out = NULL;
        o.abort_on_misuse = true;
        zm_debug d;
        zm_debug_init(&d, zm_default_allocator(), &o);
        zm_allocator a = zm_debug_allocator(&d);
        char *p = zm_alloc(a, 8, 8);
        zm_free(a, p, 8, 8);
        zm_free(a, p, 8, 8); /* aborts */
        _exit(0);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

typedef struct shared {
    zm_allocator a;
    int rounds;
} shared;

static void *hammer(void *arg) {
    shared *s = arg;
    void *p[8];
    for (int r = 0; r < s->rounds; r++) {
        for (int i = 0; i < 8; i++) p[i] = zm_alloc(s->a, 16 + (size_t)i * 8, 8);
        for (int i = 0; i < 8; i++) zm_free(s->a, p[i], 16 + (size_t)i * 8, 8);
    }
    return NULL;
}

static void test_thread_safe(void) {
    zm_debug_options o = zm_debug_defaults();
    o.thread_safe = true;
    o.quarantine_bytes = 4096;
    capture c;
    shared s = {cap_open(&c, &o), zt_small() ? 200 : 5000};
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, hammer, &s);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    CHECK_EQ(c.dbg.total_allocs, 4 * 8 * (size_t)s.rounds);
    CHECK_EQ(c.dbg.total_frees, c.dbg.total_allocs);
    CHECK_EQ(c.dbg.counts.errors, 0);
    CHECK_EQ(cap_close(&c), 0);
    CHECK_STR(cap_text(&c), "");
    cap_free(&c);
}

/* The debug allocator's own tables come from its backing allocator: when any
   of those allocations fails it must fail cleanly and leak nothing. */
static void test_own_allocation_failures(void) {
    zm_debug_options quiet = zm_debug_defaults();
    quiet.out = NULL;
    zm_debug_options inner_opts = quiet;
    inner_opts.quarantine_bytes = 64;
    inner_opts.backtrace_depth = 2;
    size_t total = SIZE_MAX;
    for (size_t i = 0; i <= total; i++) {
        zm_debug outer;
        zm_debug_init(&outer, zm_default_allocator(), &quiet);
        zm_failing f;
        zm_failing_init(&f, zm_debug_allocator(&outer), i == total ? SIZE_MAX : i, SIZE_MAX);
        zm_debug inner;
        zm_debug_init(&inner, zm_failing_allocator(&f), &inner_opts);
        zm_allocator a = zm_debug_allocator(&inner);
        void *p[300];
        int n = zt_small() ? 150 : 300; /* enough to grow the table */
        for (int k = 0; k < n; k++) p[k] = zm_alloc(a, 8 + (size_t)k % 50, 8);
        for (int k = 0; k < n; k += 2) zm_free(a, p[k], 8 + (size_t)k % 50, 8);
        size_t live = 0;
        for (int k = 1; k < n; k += 2) live += p[k] != NULL;
        CHECK_EQ(zm_debug_deinit(&inner), live);
        CHECK_EQ(inner.counts.errors, 0);
        CHECK_EQ(outer.counts.errors, 0);
        CHECK_EQ(zm_debug_deinit(&outer), 0);
        if (total == SIZE_MAX) total = f.alloc_index; /* the first run only counts */
    }
    CHECK(total > (zt_small() ? 150u : 300u));
}

/* zm_debug_each_live sees exactly the live blocks, with their sizes,
   alignments, order and allocation sites; zm_debug_where names an address. */
typedef struct seen {
    size_t n, bytes;
    uint64_t seq_24, seq_64;
    size_t align_64;
    uintptr_t ra_24;
} seen;

static void count_live(const zm_debug_block *b, void *ctx) {
    seen *s = ctx;
    s->n++;
    s->bytes += b->len;
    if (b->len == 24) {
        s->seq_24 = b->seq;
        s->ra_24 = b->ret_addr;
    }
    if (b->len == 64) {
        s->seq_64 = b->seq;
        s->align_64 = b->align;
        CHECK(((uintptr_t)b->ptr & 63) == 0);
    }
}

static void test_each_live_and_where(void) {
    capture c;
    zm_allocator a = cap_open(&c, NULL);
    seen s = {0};
    zm_debug_each_live(&c.dbg, count_live, &s);
    CHECK_EQ(s.n, 0);

    char *p24 = make_block(a, 24);
    char *p8 = make_block(a, 8);
    void *p64 = zm_alloc(a, 64, 64);
    CHECK(p64 != NULL);
    zm_free(a, p8, 8, 1);
    memset(&s, 0, sizeof s);
    zm_debug_each_live(&c.dbg, count_live, &s);
    CHECK_EQ(s.n, 2);
    CHECK_EQ(s.bytes, 24 + 64);
    CHECK_EQ(s.align_64, 64);
    CHECK(s.seq_24 < s.seq_64); /* older first in seq */
    CHECK(s.ra_24 > (uintptr_t)make_block && s.ra_24 < (uintptr_t)make_block + 256);

    /* where: "unknown" for 0, the symbol and offset of a known function, and
       always NUL-terminated, however short the buffer */
    char w[128];
    CHECK(strcmp(zm_debug_where(w, sizeof w, 0), "unknown") == 0);
    CHECK(zm_debug_where(w, sizeof w, s.ra_24) == w);
    CHECK(strncmp(w, "0x", 2) == 0);
#ifdef __GLIBC__
    /* a function of libzmem's own, so dladdr can name it from the dynamic
       symbols or, failing that, the object it is in */
    uintptr_t fn = (uintptr_t)zm_debug_where + 1;
    zm_debug_where(w, sizeof w, fn);
    CHECK(strstr(w, "+0x") != NULL);
#endif
    char tiny[5];
    memset(tiny, 'X', sizeof tiny);
    zm_debug_where(tiny, sizeof tiny, s.ra_24);
    CHECK(tiny[4] == '\0' && strlen(tiny) == 4);
    CHECK(zm_debug_where(tiny, 0, 0) == tiny && tiny[0] == '0');

    zm_free(a, p24, 24, 1);
    zm_free(a, p64, 64, 64);
    memset(&s, 0, sizeof s);
    zm_debug_each_live(&c.dbg, count_live, &s);
    CHECK_EQ(s.n, 0);
    CHECK_EQ(cap_close(&c), 0);
    cap_free(&c);
}

/* A debug allocator over the sweep's allocator: blocks, a growth, frees, a
   check, then deinit giving back every block and table, on every path. Its
   own tables fail in turn too. Two of its requests are best-effort by design
   and cannot fail a call (free cannot): the free history, made at the first
   free (without it a free goes through unrecorded), which is told to the
   sweep here; and the array deinit sorts leaks with (unsorted without it),
   kept out of the sweep by leaving no block live. */
static zm_status sweep_debug(zm_allocator a, void *arg) {
    (void)arg;
    zm_debug_options o = zm_debug_defaults();
    o.out = NULL;
    o.quarantine_bytes = 256;
    zm_debug d;
    zm_debug_init(&d, a, &o);
    zm_allocator da = zm_debug_allocator(&d);
    zm_status st = ZM_ENOMEM;
    void *p[100];
    int n = 0;
    for (; n < 100; n++)
        if ((p[n] = zm_alloc(da, 8 + (size_t)n % 30, 8)) == NULL) break;
    if (n == 100) {
        zm_free(da, p[0], 8, 8);
        p[0] = NULL;
        bool history = d.ring != NULL;
        char *q = zm_realloc(da, p[6], 8 + 6, 300, 8);
        if (q != NULL) zm_free(da, q, 300, 8), p[6] = NULL;
        st = q != NULL && history ? ZM_OK : ZM_ENOMEM;
    }
    for (int k = 0; k < n; k++)
        if (p[k] != NULL) zm_free(da, p[k], 8 + (size_t)k % 30, 8);
    if (zm_debug_check(&d) != 0 || d.counts.errors != 0) st = ZM_EINTERNAL;
    if (zm_debug_deinit(&d) != 0) st = ZM_EINTERNAL;
    return st;
}

/* The debug allocator under the sweep. */
static void test_sweep(void) {
    zm_sweep_report r;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), sweep_debug, NULL, NULL, &r),
             ZM_OK);
    if (r.problem != ZM_SWEEP_OK) fprintf(stderr, "%s\n", r.message);
    CHECK(r.alloc_count > 100); /* the blocks and the debug allocator's tables */
}

int main(void) {
    RUN(test_clean_use_reports_nothing);
    RUN(test_leak);
    RUN(test_double_free);
    RUN(test_invalid_free);
    RUN(test_wrong_length_and_alignment);
    RUN(test_overrun_and_underrun);
    RUN(test_corruption_reported_once);
    RUN(test_use_after_free);
    RUN(test_never_reuse);
    RUN(test_history_is_bounded);
    RUN(test_backtraces);
    RUN(test_silent_but_counted);
    RUN(test_abort_on_misuse);
    RUN(test_thread_safe);
    RUN(test_own_allocation_failures);
    RUN(test_each_live_and_where);
    RUN(test_sweep);
    return zt_finish("debug");
}
