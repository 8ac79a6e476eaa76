/* The sweep itself: it must pass correct code and catch each kind of bug. */
#include "test.h"
#include "zmem/testing.h"

/* Correct: three allocations and a growth, everything freed on every path. */
static zm_status good(zm_allocator a, void *arg) {
    (void)arg;
    zm_status st = ZM_ENOMEM;
    char *x = zm_strdup(a, "first");
    if (x == NULL) return ZM_ENOMEM;
    char *y = zm_alloc(a, 64, 8);
    if (y == NULL) goto free_x;
    char *z = zm_realloc(a, y, 64, 1000, 8);
    if (z == NULL) goto free_y;
    y = z;
    char *w = zm_dupe(a, "0123456789", 10);
    if (w == NULL) goto free_y;
    st = ZM_OK;
    zm_free(a, w, 10, 1);
free_y:
    zm_free(a, y, z ? 1000 : 64, 8);
free_x:
    zm_free(a, x, 6, 1);
    return st;
}

/* Leaks x when the second allocation fails. */
static zm_status leaky(zm_allocator a, void *arg) {
    (void)arg;
    char *x = zm_strndup(a, "leaked!!!", 9); /* 10 bytes */
    if (x == NULL) return ZM_ENOMEM;
    char *y = zm_strdup(a, "second");
    if (y == NULL) return ZM_ENOMEM; /* the bug: x is not freed */
    zm_free(a, y, 7, 1);
    zm_free(a, x, 10, 1);
    return ZM_OK;
}

/* Carries on with a static buffer when the second allocation fails. */
static zm_status swallows(zm_allocator a, void *arg) {
    (void)arg;
    static char fallback[32];
    char *x = zm_strdup(a, "x");
    if (x == NULL) return ZM_ENOMEM;
    char *y = zm_alloc(a, 32, 1);
    bool heap = y != NULL;
    if (!heap) y = fallback; /* the bug: the failure is swallowed */
    memset(y, 0, 32);
    if (heap) zm_free(a, y, 32, 1);
    zm_free(a, x, 2, 1);
    return ZM_OK;
}

/* Allocates one block more on every other call. */
static zm_status flaky(zm_allocator a, void *arg) {
    int *calls = arg;
    int n = 1 + (*calls)++ % 2;
    void *p[2] = {NULL, NULL};
    zm_status st = ZM_OK;
    for (int i = 0; i < n; i++)
        if ((p[i] = zm_alloc(a, 8, 8)) == NULL) st = ZM_ENOMEM;
    for (int i = 0; i < n; i++) zm_free(a, p[i], 8, 8);
    return st;
}

/* Reports an allocation failure as an invalid argument. */
static zm_status wrong_status(zm_allocator a, void *arg) {
    (void)arg;
    void *p = zm_alloc(a, 4, 4);
    if (p == NULL) return ZM_EINVAL;
    zm_free(a, p, 4, 4);
    return ZM_OK;
}

static zm_status always_fails(zm_allocator a, void *arg) {
    (void)a, (void)arg;
    return ZM_EIO;
}

/* Frees x twice when the second allocation fails. */
static zm_status double_frees(zm_allocator a, void *arg) {
    (void)arg;
    char *x = zm_alloc(a, 24, 8);
    if (x == NULL) return ZM_ENOMEM;
    char *y = zm_alloc(a, 8, 8);
    if (y == NULL) {
        zm_free(a, x, 24, 8);
        zm_free(a, x, 24, 8); /* the bug */
        return ZM_ENOMEM;
    }
    zm_free(a, y, 8, 8);
    zm_free(a, x, 24, 8);
    return ZM_OK;
}

/* Writes into x after freeing it when the second allocation fails. The sweep
   keeps freed blocks in quarantine, so the write lands in memory that is
   still allocated and is seen when the run ends. */
static zm_status writes_after_free(zm_allocator a, void *arg) {
    (void)arg;
    char *x = zm_alloc(a, 16, 8);
    if (x == NULL) return ZM_ENOMEM;
    char *y = zm_alloc(a, 8, 8);
    if (y == NULL) {
        zm_free(a, x, 16, 8);
        x[3] = 'z'; /* the bug */
        return ZM_ENOMEM;
    }
    zm_free(a, y, 8, 8);
    zm_free(a, x, 16, 8);
    return ZM_OK;
}

/* Frees with the wrong length on the success path. */
static zm_status wrong_length(zm_allocator a, void *arg) {
    (void)arg;
    char *x = zm_alloc(a, 24, 8);
    if (x == NULL) return ZM_ENOMEM;
    zm_free(a, x, 16, 8);
    return ZM_OK;
}

/* Forgets the buffer when growing it in place fails. */
static zm_status leaks_on_resize(zm_allocator a, void *arg) {
    (void)arg;
    char *buf = zm_alloc(a, 64, 1);
    if (buf == NULL) return ZM_ENOMEM;
    if (!zm_resize(a, buf, 64, 1, 32)) return ZM_ENOMEM; /* the bug: buf is lost */
    zm_free(a, buf, 32, 1);
    return ZM_OK;
}

/* Handles a failed in-place shrink by keeping the old length: fine. */
static zm_status handles_resize(zm_allocator a, void *arg) {
    (void)arg;
    char *buf = zm_alloc(a, 64, 1);
    if (buf == NULL) return ZM_ENOMEM;
    size_t len = zm_resize(a, buf, 64, 1, 32) ? 32 : 64;
    zm_free(a, buf, len, 1);
    return ZM_OK;
}

/* Leaks on success. */
static zm_status leaks_always(zm_allocator a, void *arg) {
    (void)arg;
    return zm_alloc(a, 40, 8) ? ZM_OK : ZM_ENOMEM;
}

static bool has(const char *s, const char *sub) {
    return strstr(s, sub) != NULL;
}

static void test_correct_function_passes(void) {
    zm_sweep_report r;
    zm_status st = zm_check_allocation_failures(zm_default_allocator(), good, NULL, NULL, &r);
    CHECK_EQ(st, ZM_OK);
    CHECK_EQ(r.problem, ZM_SWEEP_OK);
    CHECK_EQ(r.alloc_count, 3);
    CHECK_EQ(r.resize_count, 1); /* the remap inside zm_realloc */
    CHECK_EQ(r.runs, 2 + 3 + 1);
    CHECK_STR(r.message, "");
    CHECK_EQ(zm_check_all_allocation_failures(zm_default_allocator(), good, NULL), ZM_OK);
    CHECK(ZM_CHECK_SWEEP(good, NULL));
    CHECK(ZM_CHECK_SWEEP(handles_resize, NULL));
}

static void test_leak_on_error_path_is_caught(void) {
    zm_sweep_report r;
    zm_status st = zm_check_allocation_failures(zm_default_allocator(), leaky, NULL, NULL, &r);
    CHECK_EQ(st, ZM_EINTERNAL);
    CHECK_EQ(r.problem, ZM_SWEEP_LEAK);
    CHECK_EQ(r.phase, ZM_SWEEP_PHASE_ALLOC);
    CHECK_EQ(r.fail_index, 1);
    CHECK_EQ(r.alloc_count, 2);
    CHECK_EQ(r.status, ZM_ENOMEM);
    CHECK_EQ(r.leaked_bytes, 10);
    CHECK_EQ(r.leaked_blocks, 1);
    CHECK_EQ(r.leak_len, 10);
    CHECK_EQ(r.fail_len, 7);
    /* zm_strndup is out of line: the block was allocated from inside leaky. */
    CHECK(r.leak_ret_addr > (uintptr_t)leaky && r.leak_ret_addr < (uintptr_t)leaky + 1024);
#ifdef __GLIBC__
    /* The backtrace: zm_strndup, then leaky (the ret_addr), then the sweep. */
    CHECK(r.leak_nframes >= 3);
    CHECK((uintptr_t)r.leak_frames[1] == r.leak_ret_addr);
    CHECK(has(r.message, "\n    #1 0x"));
#endif
    CHECK(has(r.message, "zmem sweep: leak: with allocation #1 of 2 failing (7 bytes"));
    CHECK(has(r.message, "fn returned ZM_ENOMEM and leaked 10 bytes in 1 block; the first "
                         "leaked block (10 bytes) was allocated at 0x"));
    fprintf(stderr, "expected report: %s\n", r.message);
    /* The one-line form says false. */
    CHECK(!ZM_CHECK_SWEEP(leaky, NULL));
}

static void test_swallowed_failure_is_caught(void) {
    zm_sweep_report r;
    zm_status st = zm_check_allocation_failures(zm_default_allocator(), swallows, NULL, NULL, &r);
    CHECK_EQ(st, ZM_EINTERNAL);
    CHECK_EQ(r.problem, ZM_SWEEP_SWALLOWED);
    CHECK_EQ(r.fail_index, 1);
    CHECK_EQ(r.status, ZM_OK);
    CHECK_EQ(r.leaked_blocks, 0);
    CHECK(has(r.message, "zmem sweep: swallowed failure: with allocation #1 of 2 failing (32 "
                         "bytes, requested at "));
    CHECK(has(r.message, "fn returned ZM_OK although the allocation failed"));
    fprintf(stderr, "expected report: %s\n", r.message);
}

static void test_nondeterminism_is_caught(void) {
    int calls = 0;
    zm_sweep_report r;
    zm_status st = zm_check_allocation_failures(zm_default_allocator(), flaky, &calls, NULL, &r);
    CHECK_EQ(st, ZM_EINTERNAL);
    CHECK_EQ(r.problem, ZM_SWEEP_NONDETERMINISTIC);
    CHECK_EQ(r.phase, ZM_SWEEP_PHASE_BASELINE);
    CHECK_EQ(r.alloc_count, 1);
    CHECK(has(r.message, "the counting runs made 1 allocations and 0 resizes/remaps, but the "
                         "second counting run made 2 and 0"));
    fprintf(stderr, "expected report: %s\n", r.message);
}

static void test_other_problems(void) {
    zm_allocator b = zm_default_allocator();
    zm_sweep_report r;
    CHECK_EQ(zm_check_allocation_failures(b, wrong_status, NULL, NULL, &r), ZM_EINTERNAL);
    CHECK_EQ(r.problem, ZM_SWEEP_WRONG_STATUS);
    CHECK_EQ(r.status, ZM_EINVAL);
    CHECK(has(r.message, "fn returned ZM_EINVAL; expected ZM_ENOMEM"));
    zm_sweep_options any = {.accept_any_error = true};
    CHECK_EQ(zm_check_allocation_failures(b, wrong_status, NULL, &any, &r), ZM_OK);

    CHECK_EQ(zm_check_allocation_failures(b, always_fails, NULL, NULL, &r), ZM_EIO);
    CHECK_EQ(r.problem, ZM_SWEEP_BASELINE_FAILED);
    CHECK_EQ(r.runs, 1);

    CHECK_EQ(zm_check_allocation_failures(b, double_frees, NULL, NULL, &r), ZM_EINTERNAL);
    CHECK_EQ(r.problem, ZM_SWEEP_MISUSE);
    CHECK_EQ(r.fail_index, 1);
    CHECK(has(r.message, "; 1 misuse, the first: zmem debug: double free: free of 24-byte block"));
    fprintf(stderr, "expected report: %s\n", r.message);

    CHECK_EQ(zm_check_allocation_failures(b, writes_after_free, NULL, NULL, &r), ZM_EINTERNAL);
    CHECK_EQ(r.problem, ZM_SWEEP_MISUSE);
    CHECK_EQ(r.fail_index, 1);
    CHECK(has(r.message, "the first: zmem debug: use after free: 16-byte block at "));
    CHECK(has(r.message, " was written at offset 3 after it was freed at "));

    CHECK_EQ(zm_check_allocation_failures(b, wrong_length, NULL, NULL, &r), ZM_EINTERNAL);
    CHECK_EQ(r.problem, ZM_SWEEP_MISUSE);
    CHECK_EQ(r.phase, ZM_SWEEP_PHASE_BASELINE);
    CHECK(has(r.message, "free of 24-byte block"));
    CHECK(has(r.message, "with length 16"));
    fprintf(stderr, "expected report: %s\n", r.message);

    CHECK_EQ(zm_check_allocation_failures(b, leaks_always, NULL, NULL, &r), ZM_EINTERNAL);
    CHECK_EQ(r.problem, ZM_SWEEP_LEAK);
    CHECK_EQ(r.phase, ZM_SWEEP_PHASE_BASELINE);
    CHECK_EQ(r.fail_index, SIZE_MAX);
    CHECK_EQ(r.leaked_bytes, 40);
}

static void test_resize_failures_are_swept(void) {
    zm_allocator b = zm_default_allocator();
    zm_sweep_report r;
    CHECK_EQ(zm_check_allocation_failures(b, leaks_on_resize, NULL, NULL, &r), ZM_EINTERNAL);
    CHECK_EQ(r.problem, ZM_SWEEP_LEAK);
    CHECK_EQ(r.phase, ZM_SWEEP_PHASE_RESIZE);
    CHECK_EQ(r.fail_index, 0);
    CHECK_EQ(r.leaked_bytes, 64);
    CHECK(has(r.message, "with resize/remap #0 of 1 failing (to 32 bytes"));
    fprintf(stderr, "expected report: %s\n", r.message);
    /* Zig's behaviour: resizes never fail, and the bug goes unseen. */
    zm_sweep_options skip = {.skip_resizes = true};
    CHECK_EQ(zm_check_allocation_failures(b, leaks_on_resize, NULL, &skip, &r), ZM_OK);
    CHECK_EQ(zm_check_allocation_failures(b, handles_resize, NULL, NULL, &r), ZM_OK);
    CHECK_EQ(r.resize_count, 1);
    /* max_runs stops early. */
    zm_sweep_options few = {.max_runs = 1};
    CHECK_EQ(zm_check_allocation_failures(b, good, NULL, &few, &r), ZM_OK);
    CHECK_EQ(r.runs, 3);
}

/* Every problem has its own stable name, which the report's message starts
   with; a value outside the enum still gives a string. */
static void test_problem_names(void) {
    static const struct {
        zm_sweep_problem p;
        const char *name;
    } names[] = {
        {ZM_SWEEP_OK, "ok"},
        {ZM_SWEEP_BASELINE_FAILED, "failed without an induced failure"},
        {ZM_SWEEP_LEAK, "leak"},
        {ZM_SWEEP_SWALLOWED, "swallowed failure"},
        {ZM_SWEEP_WRONG_STATUS, "wrong status"},
        {ZM_SWEEP_NONDETERMINISTIC, "non-deterministic allocations"},
        {ZM_SWEEP_MISUSE, "allocator misuse"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK(strcmp(zm_sweep_problem_str(names[i].p), names[i].name) == 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(zm_sweep_problem_str(names[i].p), zm_sweep_problem_str(names[j].p)) != 0);
    }
    CHECK(strcmp(zm_sweep_problem_str((zm_sweep_problem)99), "unknown problem") == 0);

    zm_sweep_report r;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), leaks_always, NULL, NULL, &r),
             ZM_EINTERNAL);
    char head[128];
    snprintf(head, sizeof head, "zmem sweep: %s: ", zm_sweep_problem_str(r.problem));
    CHECK(strncmp(r.message, head, strlen(head)) == 0);
}

int main(void) {
    RUN(test_correct_function_passes);
    RUN(test_leak_on_error_path_is_caught);
    RUN(test_swallowed_failure_is_caught);
    RUN(test_nondeterminism_is_caught);
    RUN(test_other_problems);
    RUN(test_resize_failures_are_swept);
    RUN(test_problem_names);
    return zt_finish("sweep");
}
