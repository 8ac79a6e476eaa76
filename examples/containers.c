/* The containers in an arena and in a general allocator: the README's
   example as a program. Checks its own results: exits 1 when one is wrong. */
#include <stdio.h>
#include <string.h>
#include <zmem.h>

struct point {
    int x, y;
};

ZM_ARRAY_TYPED(point_array, struct point); /* items, len, cap */
ZM_MAP_TYPED(count_map, int);              /* byte-slice or string keys -> int */

int main(void) {
    int bad = 0;

    /* In an arena: no deinit, everything dies at the reset. */
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_allocator aa = zm_arena_allocator(&ar);
    point_array pts = {0};
    bad |= point_array_append(aa, &pts, (struct point){1, 2}) != ZM_OK;
    zm_buf line = {0};
    bad |= zm_buf_printf(aa, &line, "%zu points", pts.len) != ZM_OK;
    char *title = zm_arena_printf(&ar, "run %d", 7); /* NUL-terminated, in the arena */
    bad |= title == NULL;
    count_map seen = {0};
    if (title) bad |= count_map_put_str(aa, &seen, title, 1) != ZM_OK; /* keys are borrowed */
    printf("%s: %s, %zu key\n", title ? title : "?", zm_buf_str(&line), count_map_count(&seen));
    bad |= pts.len != 1 || pts.items[0].x != 1 || pts.items[0].y != 2;
    bad |= strcmp(zm_buf_str(&line), "1 points") != 0;
    bad |= title == NULL || strcmp(title, "run 7") != 0;
    bad |= count_map_count(&seen) != 1;
    zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    zm_arena_deinit(&ar);

    /* In a general allocator: deinit, or take ownership of the result. */
    zm_allocator a = zm_default_allocator();
    point_array ps = {0};
    bad |= point_array_append(a, &ps, (struct point){3, 4}) != ZM_OK;
    struct point *owned;
    size_t n;
    if (point_array_to_owned(a, &ps, &owned, &n) == ZM_OK) {
        bad |= n != 1 || owned[0].x != 3 || owned[0].y != 4;
        zm_free_array(a, owned, n);
    } else {
        bad = 1;
    }
    zm_buf b = {0};
    bad |= zm_buf_append_str(a, &b, "hello") != ZM_OK;
    char *text;
    size_t len;
    if (zm_buf_take(a, &b, &text, &len) == ZM_OK) {
        puts(text);
        bad |= len != 5 || strcmp(text, "hello") != 0;
        zm_free(a, text, len + 1, 1);
    } else {
        bad = 1;
    }
    count_map words = {0};
    const char *in[] = {"the", "cat", "the"};
    for (int i = 0; i < 3; i++) {
        int *c;
        bool found;
        if (count_map_get_or_put(a, &words, in[i], strlen(in[i]), &c, &found) != ZM_OK) {
            bad = 1;
            break;
        }
        *c += 1; /* 0 when new */
    }
    int *the = count_map_get_str(&words, "the");
    printf("the: %d\n", the ? *the : 0);
    int *cat = count_map_get_str(&words, "cat");
    bad |= the == NULL || *the != 2 || cat == NULL || *cat != 1;
    bad |= count_map_count(&words) != 2;
    count_map_deinit(a, &words);
    struct point *p = zm_create_zeroed(a, struct point);
    bad |= p == NULL || p->x != 0;
    zm_destroy(a, p);
    if (bad) fprintf(stderr, "containers: a result was wrong\n");
    return bad;
}
