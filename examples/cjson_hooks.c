/* Giving zmem's allocators to a library that only takes malloc/free hooks:
   cJSON allocates through zm_global_malloc / zm_global_free, bound here to a
   stats allocator over a debug allocator, so we see what cJSON used and that
   it gave everything back. Checks its own results: exits 1 when one is wrong.
   Build: cc cjson_hooks.c $(pkg-config --cflags --libs zmem libcjson) */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "zmem.h"

static int wrong; /* results that were not what they should be */

static void expect(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "cjson_hooks: wrong: %s\n", what);
        wrong++;
    }
}

int main(void) {
    zm_debug dbg;
    zm_debug_init(&dbg, zm_default_allocator(), NULL); /* reports go to stderr */
    zm_stats st;
    zm_stats_init(&st, zm_debug_allocator(&dbg), 1 << 20); /* refuse past 1 MiB */
    zm_global_hooks_set(zm_stats_allocator(&st));

    cJSON_Hooks hooks = {zm_global_malloc, zm_global_free};
    cJSON_InitHooks(&hooks);

    cJSON *doc = cJSON_Parse("{\"name\": \"zmem\", \"tags\": [\"arena\", \"pool\", \"debug\"]}");
    if (doc == NULL) return 1;
    cJSON_AddNumberToObject(doc, "version", 1);
    char *text = cJSON_PrintUnformatted(doc);
    if (text == NULL) return 1;
    printf("%s\n", text);
    expect(strcmp(text,
                  "{\"name\":\"zmem\",\"tags\":[\"arena\",\"pool\",\"debug\"],\"version\":1}") == 0,
           "the text cJSON printed");

    zm_memory_stats s;
    zm_stats_snapshot(&st, &s);
    printf("cJSON holds %zu bytes in %zu blocks (peak %zu bytes)\n", s.active_bytes,
           s.allocs - s.frees, s.peak_bytes);
    expect(s.active_bytes > 0 && s.allocs > s.frees,
           "cJSON's memory, counted by the stats allocator");
    expect(s.peak_bytes >= s.active_bytes, "the peak");

    cJSON_free(text);
    cJSON_Delete(doc);
    zm_stats_snapshot(&st, &s);
    printf("after cJSON_Delete: %zu bytes active, %zu allocations, %zu frees\n", s.active_bytes,
           s.allocs, s.frees);
    expect(s.active_bytes == 0 && s.allocs == s.frees, "everything given back");
    expect(s.failures == 0, "no refused allocation");

    cJSON_InitHooks(NULL); /* back to malloc before the allocators go */
    zm_global_hooks_set(zm_default_allocator());
    size_t leaks = zm_debug_deinit(&dbg);
    expect(leaks == 0, "no leak found by the debug allocator");
    expect(dbg.counts.errors == 0, "no misuse found by the debug allocator");
    return wrong ? 1 : 0;
}
