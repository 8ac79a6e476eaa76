/* zm_status names and descriptions. */
#include "zmem/status.h"

static const struct {
    const char *name;
    const char *text;
} status_table[ZM_STATUS_COUNT] = {
    [ZM_OK] = {"ZM_OK", "ok"},
    [ZM_ENOMEM] = {"ZM_ENOMEM", "out of memory"},
    [ZM_EINVAL] = {"ZM_EINVAL", "invalid argument"},
    [ZM_ESYNTAX] = {"ZM_ESYNTAX", "syntax error"},
    [ZM_EDEPTH] = {"ZM_EDEPTH", "nesting too deep"},
    [ZM_ELIMIT] = {"ZM_ELIMIT", "limit exceeded"},
    [ZM_ENOTFOUND] = {"ZM_ENOTFOUND", "not found"},
    [ZM_EEXIST] = {"ZM_EEXIST", "already exists"},
    [ZM_ETYPE] = {"ZM_ETYPE", "wrong type"},
    [ZM_EIO] = {"ZM_EIO", "input/output error"},
    [ZM_EINTERNAL] = {"ZM_EINTERNAL", "internal error"},
    [ZM_EBUSY] = {"ZM_EBUSY", "busy: locked by another writer"},
    [ZM_ECONFLICT] = {"ZM_ECONFLICT", "conflict with another writer"},
    [ZM_ECORRUPT] = {"ZM_ECORRUPT", "stored data is corrupt or of an unknown format"},
    [ZM_ENOTSUP] = {"ZM_ENOTSUP", "not supported"},
    [ZM_EUNAVAILABLE] = {"ZM_EUNAVAILABLE", "server unavailable"},
};

const char *zm_status_str(zm_status status) {
    if ((unsigned)status >= ZM_STATUS_COUNT) return "unknown status";
    return status_table[status].text;
}

const char *zm_status_name(zm_status status) {
    if ((unsigned)status >= ZM_STATUS_COUNT) return "ZM_UNKNOWN";
    return status_table[status].name;
}
