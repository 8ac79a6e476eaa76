/* Giving zmem's allocators to a library that only takes malloc/free hooks:
   cJSON allocates through zm_global_malloc / zm_global_free, bound here to a
   stats allocator over a debug allocator, so we see what cJSON used and that
   it gave everything back.
   Build: cc cjson_hooks.c $(pkg-config --cflags --libs zmem libcjson) */
#include <cjson/cJSON.h>
#include <stdio.h>

#include "zmem.h"

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

    zm_memory_stats s;
    zm_stats_snapshot(&st, &s);
    printf("cJSON holds %zu bytes in %zu blocks (peak %zu bytes)\n", s.active_bytes,
           s.allocs - s.frees, s.peak_bytes);

    cJSON_free(text);
    cJSON_Delete(doc);
    zm_stats_snapshot(&st, &s);
    printf("after cJSON_Delete: %zu bytes active, %zu allocations, %zu frees\n", s.active_bytes,
           s.allocs, s.frees);

    cJSON_InitHooks(NULL); /* back to malloc before the allocators go */
    zm_global_hooks_set(zm_default_allocator());
    size_t leaks = zm_debug_deinit(&dbg);
    return leaks == 0 && dbg.counts.errors == 0 && s.active_bytes == 0 ? 0 : 1;
}
