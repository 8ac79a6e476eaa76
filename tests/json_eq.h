/* zm_json_equal as a yes or no, for checks: the work stack comes from the
   default allocator, and an answer other than ZM_OK (out of memory) is
   printed and counts as unequal. */
#ifndef ZMEM_TEST_JSON_EQ_H
#define ZMEM_TEST_JSON_EQ_H

#include <stdbool.h>
#include <stdio.h>

#include "zmem/json.h"

static inline bool zt_json_eq(const zm_json *x, const zm_json *y) {
    bool eq = false;
    zm_status st = zm_json_equal(zm_default_allocator(), x, y, &eq);
    if (st != ZM_OK) fprintf(stderr, "zm_json_equal: %s\n", zm_status_str(st));
    return st == ZM_OK && eq;
}

#endif
