/* cJSON for bench_json.c: cJSON_ParseWithLength / cJSON_PrintUnformatted. */
#include <stdlib.h>

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
