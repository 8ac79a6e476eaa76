/* Arena basics: allocate freely during one unit of work, reset once.
   Checks its own results: exits 1 when one is wrong.
   Build: cc arena_basics.c $(pkg-config --cflags --libs zmem) */
#include <stdio.h>
#include <string.h>

#include "zmem.h"

typedef struct point {
    double x, y;
} point;

static int wrong; /* results that were not what they should be */

static void expect(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "arena_basics: wrong: %s\n", what);
        wrong++;
    }
}

int main(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    size_t first_capacity = 0;
    for (int request = 0; request < 3; request++) {
        point *pts = zm_arena_new_array(&ar, point, 1000);
        if (pts == NULL) return 1;
        double sum = 0;
        for (int i = 0; i < 1000; i++) {
            pts[i] = (point){i, request};
            sum += pts[i].x + pts[i].y;
        }
        char *label = zm_arena_strndup(&ar, "request", 7);
        if (label == NULL) return 1;
        printf("%s %d: sum %.0f, arena uses %zu of %zu bytes\n", label, request, sum,
               zm_arena_used(&ar), zm_arena_capacity(&ar));
        expect(sum == 499500.0 + 1000.0 * request, "the sum of the points");
        expect(strcmp(label, "request") == 0, "the copied label");
        expect(zm_arena_used(&ar) >= 1000 * sizeof(point) + 8, "the bytes in use");
        /* A retaining reset keeps the blocks: later requests need no more. */
        if (request == 0) first_capacity = zm_arena_capacity(&ar);
        expect(zm_arena_capacity(&ar) == first_capacity, "the capacity after a retaining reset");
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0); /* everything dies here */
        expect(zm_arena_used(&ar) == 0, "the bytes in use after the reset");
    }
    zm_arena_deinit(&ar);
    printf("default allocator: %s\n", zm_default_allocator_name());
    return wrong ? 1 : 0;
}
