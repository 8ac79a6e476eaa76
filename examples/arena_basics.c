/* Arena basics: allocate freely during one unit of work, reset once.
   Build: cc arena_basics.c $(pkg-config --cflags --libs zmem) */
#include <stdio.h>

#include "zmem.h"

typedef struct point {
    double x, y;
} point;

int main(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    for (int request = 0; request < 3; request++) {
        point *pts = zm_arena_new_array(&ar, point, 1000);
        if (pts == NULL) return 1;
        double sum = 0;
        for (int i = 0; i < 1000; i++) {
            pts[i] = (point){i, request};
            sum += pts[i].x + pts[i].y;
        }
        char *label = zm_arena_strndup(&ar, "request", 7);
        printf("%s %d: sum %.0f, arena uses %zu of %zu bytes\n", label, request, sum,
               zm_arena_used(&ar), zm_arena_capacity(&ar));
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0); /* everything dies here */
    }
    zm_arena_deinit(&ar);
    printf("default allocator: %s\n", zm_default_allocator_name());
    return 0;
}
