/* json-c for bench_json.c: json_tokener_parse_ex with one reused tokener /
 * json_object_to_json_string_ext(JSON_C_TO_STRING_PLAIN). json-c keeps the
 * written text in the object's print buffer, reused from run to run, so a
 * write run frees nothing. */
#include <stdlib.h>

#include <json-c/json.h>

#include "bench_peers.h"

typedef struct state {
    const char *text;
    size_t len;
    struct json_tokener *tok;
    struct json_object *root;
} state;

/* The same depth limit as zmem's default. */
#define DEPTH 512

void *zb_jsonc_new(const char *text, size_t len) {
    state *s = malloc(sizeof *s);
    if (s == NULL) return NULL;
    s->text = text;
    s->len = len;
    s->tok = json_tokener_new_ex(DEPTH);
    s->root = NULL;
    if (s->tok == NULL || zb_jsonc_parse(s) != 0) {
        if (s->tok) json_tokener_free(s->tok);
        free(s);
        return NULL;
    }
    json_tokener_reset(s->tok);
    s->root = json_tokener_parse_ex(s->tok, text, (int)len);
    return s;
}

int zb_jsonc_parse(void *arg) {
    state *s = arg;
    json_tokener_reset(s->tok);
    struct json_object *root = json_tokener_parse_ex(s->tok, s->text, (int)s->len);
    enum json_tokener_error e = json_tokener_get_error(s->tok);
    if (root) json_object_put(root);
    return root == NULL || e != json_tokener_success;
}

int zb_jsonc_write(void *arg) {
    state *s = arg;
    return json_object_to_json_string_ext(s->root, JSON_C_TO_STRING_PLAIN) == NULL;
}

void zb_jsonc_free(void *arg) {
    state *s = arg;
    json_object_put(s->root);
    json_tokener_free(s->tok);
    free(s);
}
