/* cJSON for bench_json.c: cJSON_ParseWithLength / cJSON_PrintUnformatted. */
#define _GNU_SOURCE /* RTLD_NOLOAD */
#include <stdbool.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <dlfcn.h>
#endif

#include <cjson/cJSON.h>

#include "bench_peers.h"

typedef struct state {
    const char *text;
    size_t len;
    cJSON *root;
} state;

void *zb_cjson_new(const char *text, size_t len) {
    state *s = malloc(sizeof *s);
    if (s == NULL) return NULL;
    s->text = text;
    s->len = len;
    s->root = cJSON_ParseWithLength(text, len);
    if (s->root == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

int zb_cjson_parse(void *arg) {
    state *s = arg;
    cJSON *root = cJSON_ParseWithLength(s->text, s->len);
    if (root == NULL) return 1;
    cJSON_Delete(root);
    return 0;
}

int zb_cjson_write(void *arg) {
    state *s = arg;
    char *out = cJSON_PrintUnformatted(s->root);
    if (out == NULL) return 1;
    cJSON_free(out);
    return 0;
}

void zb_cjson_free(void *arg) {
    state *s = arg;
    cJSON_Delete(s->root);
    free(s);
}

/* glibc's own malloc and free. When a library linked into the process
   defines malloc (Debian's libmimalloc.so defines it, and __libc_malloc
   too), every malloc of the process, cJSON's included, goes to it; looking
   the names up in libc.so.6 itself still finds glibc's. */
#ifdef __GLIBC__
static void *(*libc_malloc)(size_t);
static void (*libc_free)(void *);

static bool find_libc(void) {
    if (libc_malloc != NULL) return true;
    void *h = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    if (h == NULL) return false;
    *(void **)&libc_malloc = dlsym(h, "malloc");
    *(void **)&libc_free = dlsym(h, "free");
    dlclose(h);
    if (libc_free == NULL) libc_malloc = NULL;
    return libc_malloc != NULL;
}
#endif

bool zb_malloc_interposed(void) {
#ifdef __GLIBC__
    void *(*m)(size_t) = malloc;
    return find_libc() && m != libc_malloc;
#else
    return false;
#endif
}

void zb_cjson_use_libc_malloc(bool on) {
#ifdef __GLIBC__
    cJSON_Hooks hooks = {NULL, NULL};
    if (on && find_libc()) hooks = (cJSON_Hooks){libc_malloc, libc_free};
    cJSON_InitHooks(&hooks);
#else
    (void)on;
#endif
}
