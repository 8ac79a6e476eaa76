/* zmem — status codes shared by every module. */
#ifndef ZMEM_STATUS_H
#define ZMEM_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* The result of every zmem function that can fail. Results come back through
   out-parameters; a function returning anything but ZM_OK has changed none of
   them unless its comment says otherwise. */
typedef enum zm_status {
    ZM_OK = 0,
    ZM_ENOMEM,       /* an allocation failed (or a byte limit refused it) */
    ZM_EINVAL,       /* an argument is invalid */
    ZM_ESYNTAX,      /* input text is not well formed */
    ZM_EDEPTH,       /* nesting deeper than the configured limit */
    ZM_ELIMIT,       /* a configured size or count limit was reached */
    ZM_ENOTFOUND,    /* the named thing does not exist */
    ZM_EEXIST,       /* the named thing exists already */
    ZM_ETYPE,        /* a value has the wrong type */
    ZM_EIO,          /* reading or writing failed */
    ZM_EINTERNAL,    /* a bug in zmem or a primitive; never caused by input */
    ZM_EBUSY,        /* a shared resource (a database) stayed locked past the timeout:
                        nothing was changed; try again later */
    ZM_ECONFLICT,    /* another writer changed what this one depended on: nothing
                        was changed; try again */
    ZM_ECORRUPT,     /* stored data is damaged or of a format this build cannot read */
    ZM_ENOTSUP,      /* the operation is not supported by this implementation */
    ZM_EUNAVAILABLE, /* a server cannot be reached: nothing was changed; the
                        connection is retried on the next call */
    ZM_STATUS_COUNT
} zm_status;

/* Returns a short, static, lower-case description of status ("out of memory").
   Never NULL; unknown values give "unknown status". */
const char *zm_status_str(zm_status status);

/* Returns the stable identifier of status ("ZM_ENOMEM"). Never NULL. */
const char *zm_status_name(zm_status status);

#ifdef __cplusplus
}
#endif
#endif
