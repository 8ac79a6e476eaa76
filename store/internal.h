/* What the store layer's files share. Never included outside store/. */
#ifndef ZMEM_STORE_INTERNAL_H
#define ZMEM_STORE_INTERNAL_H

#include "zmem/store.h"

/* Whether the sqlite backend is built in (sqlite.c: true; sqlite_none.c:
   false). */
bool zm__store_have_sqlite(void);

#endif
