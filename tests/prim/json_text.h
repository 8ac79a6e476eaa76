/* JSON text in tests of primitives: J parses text into the test's arena `ar`
   (failing the test on bad text), is_json compares a value with text and
   prints both when they differ. Include after test.h. */
#ifndef ZMEM_TESTS_PRIM_JSON_TEXT_H
#define ZMEM_TESTS_PRIM_JSON_TEXT_H

#include "json_eq.h"
#include "zmem/json.h"

static zm_arena ar; /* parsed responses and expected values */

static zm_json *J(const char *text) {
    zm_json *v = NULL;
    zm_json_error err;
    zm_status st = zm_json_parse_arena(&ar, text, strlen(text), NULL, &v, &err);
    if (st != ZM_OK) fprintf(stderr, "bad JSON (%s): %s\n", err.message, text);
    CHECK(st == ZM_OK);
    return v;
}

static bool is_json(const zm_json *v, const char *text) {
    if (v != NULL && zt_json_eq(v, J(text))) return true;
    char *out = NULL;
    size_t len = 0;
    if (v != NULL && zm_json_write(zm_arena_allocator(&ar), v, 0, &out, &len) == ZM_OK)
        fprintf(stderr, "  got  %s\n  want %s\n", out, text);
    else
        fprintf(stderr, "  got  (nothing)\n  want %s\n", text);
    return false;
}

#endif
