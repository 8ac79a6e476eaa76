/* Built without SQLite: the sqlite backend answers that it is not there. */
#include "internal.h"

zm_status zm_store_sqlite_open(const char *path, const zm_store_opts *opts, zm_store **out) {
    (void)path;
    (void)opts;
    (void)out;
    return zm_store_fail(ZM_ENOTSUP, "this zmem was built without SQLite");
}

zm_status zm_sqlite_use_allocator(zm_allocator a) {
    (void)a;
    return zm_store_fail(ZM_ENOTSUP, "this zmem was built without SQLite");
}

bool zm__store_have_sqlite(void) {
    return false;
}
