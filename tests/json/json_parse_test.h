/* What the parser's test programs share (test_json_parse*.c): the includes,
   T (a literal with its length, NUL bytes counted) and parse. */
#ifndef ZMEM_TESTS_JSON_PARSE_TEST_H
#define ZMEM_TESTS_JSON_PARSE_TEST_H

#include <math.h>

#include "checked_alloc.h"
#include "data_file.h"
#include "zmem/json.h"
#include "json_eq.h"

#define T(s) s, sizeof(s) - 1

/* Parses text (strict unless flags) into a fresh document; NULL on failure. */
static zm_json_doc *parse(const char *text, size_t len, uint32_t flags) {
    zm_json_parse_opts o = {flags, 0, ZM_JSON_DUP_ERROR};
    zm_json_doc *doc = NULL;
    zm_json_error e;
    if (zm_json_parse(zm_default_allocator(), text, len, &o, &doc, &e) != ZM_OK) {
        fprintf(stderr, "parse failed: %s\n", e.message);
        return NULL;
    }
    return doc;
}

#endif
