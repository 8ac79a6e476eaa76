/* The allocator contract, run against every allocator zmem has. */
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "counting.h"
#include "test.h"
#include "zmem.h"

static void contract_general(void) {
    zt_failures += run_contract("c", zm_c_allocator(), ZC_FREES_REUSE);
    zt_failures += run_contract("mimalloc", zm_mimalloc_allocator(), ZC_FREES_REUSE);
    zt_failures += run_contract("page", zm_page_allocator(), ZC_FREES_REUSE);
    zt_failures += run_contract("default", zm_default_allocator(), ZC_FREES_REUSE);
}

static void contract_arena(void) {
    counting c;
    zm_arena ar;
    zm_arena_init(&ar, counting_init(&c));
    zt_failures += run_contract("arena", zm_arena_allocator(&ar), ZC_LIFO_REUSE);
    zm_arena_deinit(&ar);
    CHECK_EQ(c.live, 0);
}

static void contract_heap(void) {
    zm_heap h;
    CHECK(zm_heap_init(&h) == ZM_OK);
    zt_failures += run_contract(zm_heap_is_mimalloc(&h) ? "heap (mimalloc)" : "heap (list)",
                                zm_heap_allocator(&h), ZC_FREES_REUSE);
    zm_heap_deinit(&h);

    /* A list heap over libc: every block the contract freed went back. */
    counting c;
    zm_heap_init_backed(&h, counting_over(&c, zm_c_allocator()));
    zt_failures += run_contract("heap (list over c)", zm_heap_allocator(&h), ZC_FREES_REUSE);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(h.live, 0);
    zm_heap_deinit(&h);
}

static void contract_fixed_buffer(void) {
    size_t len = (size_t)64 << 20;
    void *buf = malloc(len);
    CHECK(buf != NULL);
    if (buf == NULL) return;
    zm_fixed_buffer fb;
    zm_fixed_buffer_init(&fb, buf, len);
    zt_failures += run_contract("fixed buffer", zm_fixed_buffer_allocator(&fb), ZC_LIFO_REUSE);
    free(buf);
}

static void contract_stack_fallback(void) {
    _Alignas(64) char buf[64 * 1024];
    counting c;
    zm_stack_fallback sf;
    zm_stack_fallback_init(&sf, buf, sizeof buf, counting_init(&c));
    zt_failures += run_contract("stack fallback", zm_stack_fallback_allocator(&sf), ZC_FREES_REUSE);
    CHECK(c.allocs > 0); /* the fallback was used */
    CHECK_EQ(c.live, 0); /* and every fallback block went back to it */
}

static void contract_pool(void) {
    counting c;
    zm_pool pool;
    CHECK(zm_pool_init(&pool, counting_init(&c), 64, 64, 0) == ZM_OK);
    zt_failures += run_contract("pool (64 B items)", zm_pool_allocator(&pool),
                                ZC_ONE_SIZE | ZC_MAX_SIZE_LOG2(6) | ZC_MAX_ALIGN_LOG2(6) |
                                    ZC_FREES_REUSE | ZC_LIFO_REUSE);
    CHECK_EQ(zm_pool_live(&pool), 0);
    zm_pool_deinit(&pool);
    CHECK_EQ(c.live, 0);
}

static void contract_locked(void) {
    zm_locked l;
    CHECK(zm_locked_init(&l, zm_mimalloc_allocator()) == ZM_OK);
    zt_failures += run_contract("locked (mimalloc)", zm_locked_allocator(&l), ZC_FREES_REUSE);
    zm_locked_deinit(&l);

    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    CHECK(zm_locked_init(&l, zm_arena_allocator(&ar)) == ZM_OK);
    zt_failures += run_contract("locked (arena)", zm_locked_allocator(&l), ZC_LIFO_REUSE);
    zm_locked_deinit(&l);
    zm_arena_deinit(&ar);
}

/* The default allocator is what its name says, mimalloc only when zmem has
   it, and libc when ZMEM_ALLOCATOR asks for it. */
static void default_choice(void) {
    const char *name = zm_default_allocator_name();
    bool mi = strcmp(name, "mimalloc") == 0;
    CHECK(mi || strcmp(name, "c") == 0);
    if (mi) {
        CHECK(zm_have_mimalloc());
        CHECK(zm_default_allocator().vtable == zm_mimalloc_allocator().vtable);
        CHECK(zm_mimalloc_allocator().vtable != zm_c_allocator().vtable);
    } else {
        CHECK(zm_default_allocator().vtable == zm_c_allocator().vtable);
    }
    if (!zm_have_mimalloc()) CHECK(zm_mimalloc_allocator().vtable == zm_c_allocator().vtable);
    const char *env = getenv("ZMEM_ALLOCATOR");
    if (env != NULL && strcmp(env, "c") == 0) CHECK(!mi);
    CHECK(strcmp(zm_default_allocator_name(), name) == 0); /* decided once */
}

int main(void) {
    RUN(default_choice);
    RUN(contract_general);
    RUN(contract_arena);
    RUN(contract_heap);
    RUN(contract_fixed_buffer);
    RUN(contract_stack_fallback);
    RUN(contract_pool);
    RUN(contract_locked);
    zt_checks += contract_checks();
    return zt_finish("contract");
}
