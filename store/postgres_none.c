/* Built without libpq: the postgres backend answers that it is not there. */
#include "internal.h"

zm_status zm_store_postgres_open(const char *conninfo, const zm_store_opts *opts, zm_store **out) {
    (void)conninfo;
    (void)opts;
    (void)out;
    return zm_store_fail(ZM_ENOTSUP, "this zmem was built without PostgreSQL (libpq)");
}

bool zm__store_have_postgres(void) {
    return false;
}
