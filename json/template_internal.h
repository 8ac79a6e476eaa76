/* zmem — JSON: what the template cache's files share (template.c, the cache
 * and instantiating; template_put.c, making a template's block when it is
 * put). Private to json/.
 */
#ifndef ZMEM_JSON_TEMPLATE_INTERNAL_H
#define ZMEM_JSON_TEMPLATE_INTERNAL_H

#include <stdalign.h>

#include "zmem/template.h"

#include "internal.h"

/* ---------------------------------------------------------------------------
 * Records
 * ------------------------------------------------------------------------- */

/* A run of a string with placeholders inside: constant text, or the name of
   a placeholder (both in the template's block). */
typedef struct piece {
    const char *p;
    size_t len;
    size_t hint; /* names: where the name was found in the last bindings */
    bool name;
} piece;

/* A slot of an instance that takes a binding, or a string made from one. */
typedef struct hole {
    size_t off;       /* of the slot (a zm_json *) from the start of the spine */
    const char *name; /* the placeholder's name (in the template's block) */
    size_t len;
    size_t hint;   /* where name was found in the last bindings */
    piece *pieces; /* a string with placeholders inside; NULL for "{{name}}" */
    size_t npieces, nnames;
    uint8_t flags; /* the template string's ZM_JSON_F_UTF8 and ZM_JSON_F_WTF8 */
} hole;

typedef struct tmpl tmpl;
struct tmpl {
    tmpl *prev, *next;        /* LRU list (live) or the retired list (replaced, still pinned) */
    tmpl *hnext;              /* hash chain */
    zm_template_cache *cache; /* NULL once the cache is destroyed under a live pin */
    zm_allocator a;           /* gives the block back */
    size_t block_len;         /* bytes of the one block holding all of this */
    size_t bytes;             /* counted against the budget (== block_len) */
    uint64_t hash;
    const char *name;
    size_t name_len;
    zm_json *root;      /* shared, a placeholder, or the start of a spine */
    char *image;        /* the spine as an instance has it; NULL when the root has none */
    size_t spine_bytes; /* its size */
    size_t *relocs;     /* offsets of the image's slots pointing into the image */
    size_t nrelocs;
    hole *holes; /* in document order; a root string's own hole when image is NULL */
    size_t nholes;
    uint64_t version; /* the caller's tag (zm_template_put_value) */
    size_t pins;      /* live instances */
    bool live;        /* reachable by name */
};

struct zm_template_cache {
    zm_allocator a;
    size_t budget;
    tmpl **buckets; /* nbuckets chains, a power of two */
    size_t nbuckets;
    tmpl *mru, *lru; /* live templates, most recently used first */
    tmpl *retired;   /* replaced or removed while pinned; freed at their last unpin */
    tmpl *last;      /* the template instantiated last (live), NULL if none */
    zm_template_stats st;
};

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

/* A template's block is aligned to 8, as everything in it is laid out (see
   layout), so that a JSON pool's size classes can hold it. */
#define BLOCK_ALIGN 8
_Static_assert(alignof(tmpl) <= BLOCK_ALIGN && alignof(zm_json) <= BLOCK_ALIGN &&
                   alignof(hole) <= BLOCK_ALIGN && alignof(piece) <= BLOCK_ALIGN,
               "a template's block is aligned to 8");

/* The hash of a template name (template.c). Out of line, as it was when the
   cache was one file: inlined, it makes lookup too large to be inlined in
   turn. */
ZM__HIDDEN uint64_t zm__template_hash_name(const char *s, size_t len);

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* Fills *err (when not NULL) with st and a formatted message (template.c). */
ZM__HIDDEN void zm__template_set_err(zm_json_error *err, zm_status st, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

/* Builds the template record for name and root in one block from the
   cache's allocator (template_put.c). ZM_ELIMIT (err filled) when it is
   larger than the cache's budget, ZM_ENOMEM when out of memory. */
ZM__HIDDEN zm_status zm__template_make(zm_template_cache *tc, const char *name, const zm_json *root,
                                       tmpl **out, zm_json_error *err);

#endif
