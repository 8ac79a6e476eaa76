/* zmem — JSON transforms: RFC 6901 pointers, RFC 7396 merge patch, RFC 6902
 * patch, and picking or omitting fields.
 *
 * Every transform is pure: it never modifies its inputs. Results are built
 * in a caller's arena by copy-on-write: only the containers on the path of a
 * change are new; every unchanged subtree is shared with the inputs (a
 * pointer's result is the input subtree itself). So a result must be treated
 * as read-only, lives as long as both the arena and the inputs, and is freed
 * by resetting the arena, never with zm_json_free. On failure the arena is
 * rewound to where it was: nothing is left of the attempt.
 *
 * Errors come with a zm_transform_error: the status, a message naming what
 * failed (the operation's index, the pointer, the token), and field: a JSON
 * Pointer to the culprit relative to the argument that holds it (the patch,
 * the fields array, the pointer), e.g. "/2/path" for the path of the third
 * patch operation; "" for the argument itself.
 */
#ifndef ZMEM_TRANSFORM_H
#define ZMEM_TRANSFORM_H

#include "zmem/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zm_transform_error {
    zm_status status;
    bool has_field; /* field names a part of the argument */
    char field[64]; /* JSON Pointer relative to the argument */
    char message[256];
} zm_transform_error;

/* RFC 6901: the value that pointer (len bytes) designates in doc. "" is doc
   itself; "~0" and "~1" stand for '~' and '/'; array indices are decimal
   without leading zeros; "-" (past the end of an array) designates nothing.
   On ZM_OK *out is a subtree of doc (no allocation). ZM_EINVAL: pointer is
   not a JSON pointer (no leading '/', a bad escape); ZM_ENOTFOUND: a token
   names nothing (the message says which token, at which position). err may
   be NULL. */
zm_status zm_transform_pointer(const zm_json *doc, const char *pointer, size_t len,
                               const zm_json **out, zm_transform_error *err);

/* RFC 7396: target with merge patch applied (a non-object patch replaces the
   target; null members remove; objects merge recursively). ZM_OK with *out;
   ZM_EDEPTH when the patch is nested deeper than ZM_JSON_DEFAULT_MAX_DEPTH;
   ZM_ENOMEM. */
zm_status zm_transform_merge_patch(zm_arena *ar, const zm_json *target, const zm_json *patch,
                                   const zm_json **out, zm_transform_error *err);

/* RFC 6902: doc with the operations of patch (an array of {op, path, from?,
   value?}: add, remove, replace, move, copy, test) applied in order. Atomic:
   when any operation fails (malformed, a path that does not resolve, a
   failed test), the result is an error naming the operation's index and doc
   is untouched (as always). ZM_OK with *out; ZM_EINVAL (err->field is
   "/<index>" or "/<index>/<member>"); ZM_ENOMEM. */
zm_status zm_transform_patch(zm_arena *ar, const zm_json *doc, const zm_json *patch,
                             const zm_json **out, zm_transform_error *err);

/* Picks fields of doc (an object or an array): fields is an array of
   strings, each a member name, or a JSON pointer when it starts with '/'
   ("/a/b" keeps member b of member a, "/list/0" item 0 of list). The result
   has the same shape as doc with only the selected parts, in doc's order;
   fields that select nothing are ignored, and a container none of whose
   selected parts exist is left out. ZM_OK with *out; ZM_EINVAL (doc not a
   container, fields not an array of strings, a bad pointer); ZM_ENOMEM. */
zm_status zm_transform_pick(zm_arena *ar, const zm_json *doc, const zm_json *fields,
                            const zm_json **out, zm_transform_error *err);

/* Omits fields of doc: the same selection as zm_transform_pick, removed.
   Array items are designated by their index in doc (removing "/l/0" and
   "/l/1" removes the first two items). Fields that select nothing are
   ignored. Errors as zm_transform_pick. */
zm_status zm_transform_omit(zm_arena *ar, const zm_json *doc, const zm_json *fields,
                            const zm_json **out, zm_transform_error *err);

#ifdef __cplusplus
}
#endif
#endif
