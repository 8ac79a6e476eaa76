/* Pool basics: fixed-size nodes from a typed pool, scratch space on the stack
   that spills to the heap only when it must.
   Checks its own results: exits 1 when one is wrong.
   Build: cc pool_basics.c $(pkg-config --cflags --libs zmem) */
#include <stdio.h>
#include <string.h>

#include "zmem.h"

typedef struct node {
    struct node *next;
    int value;
} node;

ZM_POOL_TYPED(node_pool, node);

static int wrong; /* results that were not what they should be */

static void expect(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "pool_basics: wrong: %s\n", what);
        wrong++;
    }
}

int main(void) {
    /* A pool of nodes: one slab holds many, a destroyed node is reused. */
    node_pool pool;
    if (node_pool_init(&pool, zm_default_allocator(), 0) != ZM_OK) return 1;
    if (node_pool_preheat(&pool, 1000) != ZM_OK) return 1; /* no allocation below */
    size_t preheated = zm_pool_capacity(&pool.pool);
    node *list = NULL;
    for (int i = 0; i < 1000; i++) {
        node *n = node_pool_create(&pool);
        if (n == NULL) return 1;
        n->value = i, n->next = list;
        list = n;
    }
    expect(zm_pool_live(&pool.pool) == 1000, "the live nodes");
    expect(zm_pool_capacity(&pool.pool) == preheated, "the capacity (preheated: no growth)");
    long sum = 0;
    while (list != NULL) {
        node *next = list->next;
        sum += list->value;
        node_pool_destroy(&pool, list);
        list = next;
    }
    printf("sum %ld; pool holds %zu nodes, %zu live\n", sum, zm_pool_capacity(&pool.pool),
           zm_pool_live(&pool.pool));
    expect(sum == 499500, "the sum of the values");
    expect(zm_pool_capacity(&pool.pool) >= 1000, "the pool's capacity");
    expect(zm_pool_live(&pool.pool) == 0, "the live nodes after destroying them all");
    node_pool_deinit(&pool);

    /* Scratch text: a 256-byte stack buffer first, the default allocator after. */
    char buf[256];
    zm_stack_fallback sf;
    zm_stack_fallback_init(&sf, buf, sizeof buf, zm_default_allocator());
    zm_allocator a = zm_stack_fallback_allocator(&sf);
    size_t len = 0, cap = 16;
    char *text = zm_alloc(a, cap, 1);
    expect(text != NULL && zm_stack_fallback_owns(&sf, text), "the first block on the stack");
    for (int i = 0; text != NULL && i < 200; i++) {
        if (len + 4 > cap) { /* grow by doubling; moves to the heap past 256 bytes */
            char *bigger = zm_realloc(a, text, cap, cap * 2, 1);
            if (bigger == NULL) break;
            text = bigger, cap *= 2;
        }
        len += (size_t)snprintf(text + len, cap - len, "%d ", i % 10);
    }
    if (text == NULL) return 1;
    printf("%zu bytes of text, %s\n", len,
           zm_stack_fallback_owns(&sf, text) ? "still on the stack" : "spilled to the heap");
    expect(len == 400, "the length of the text");
    expect(strncmp(text, "0 1 2 3 4 5 6 7 8 9 0 1 ", 24) == 0 &&
               strcmp(text + 380, "0 1 2 3 4 5 6 7 8 9 ") == 0,
           "the text (copied as it grew)");
    expect(!zm_stack_fallback_owns(&sf, text), "the text spilled to the heap");
    zm_free(a, text, cap, 1);
    return wrong ? 1 : 0;
}
