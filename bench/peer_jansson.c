/* jansson for bench_json.c: json_loadb / json_dumps(JSON_COMPACT). */
#include <stdlib.h>

#include <jansson.h>

#include "bench_peers.h"

typedef struct state {
    const char *text;
    size_t len;
    json_t *root;
} state;

void *zb_jansson_new(const char *text, size_t len) {
    state *s = malloc(sizeof *s);
    if (s == NULL) return NULL;
    s->text = text;
    s->len = len;
    json_error_t error;
    s->root = json_loadb(text, len, 0, &error);
    if (s->root == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

int zb_jansson_parse(void *arg) {
    state *s = arg;
    json_error_t error;
    json_t *root = json_loadb(s->text, s->len, 0, &error);
    if (root == NULL) return 1;
    json_decref(root);
    return 0;
}

int zb_jansson_write(void *arg) {
    state *s = arg;
    char *out = json_dumps(s->root, JSON_COMPACT);
    if (out == NULL) return 1;
    free(out);
    return 0;
}

void zb_jansson_free(void *arg) {
    state *s = arg;
    json_decref(s->root);
    free(s);
}
