/* zmem — the JSON template cache.
 *
 * A name maps to a JSON template parsed once into the cache's own memory.
 * String values that are exactly "{{name}}" are placeholders, filled from a
 * bindings object when the template is instantiated into a caller's arena;
 * the template's constant subtrees are shared by every instance, not copied.
 * Placeholders may also sit inside a string's text ("Summarize {{topic}} in
 * {{n}} bullets"): the instance's string holds a string binding's own text in
 * its place, or any other binding's compact JSON text (3, true, {"a":1}).
 * A placeholder's name is not empty and holds no brace and no white space
 * ("{{ name }}" is plain text); object member names are never filled.
 *
 * Lifetimes: an instance pins its template until the arena it was made in is
 * reset (the pin is an arena cleanup), so evicting or replacing a template
 * never leaves an instance dangling, and resetting an arena never touches the
 * cache's memory. The cache keeps a byte budget and evicts the least recently
 * used unpinned templates past it.
 */
#ifndef ZMEM_TEMPLATE_H
#define ZMEM_TEMPLATE_H

#include "zmem/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zm_template_cache zm_template_cache;

typedef struct zm_template_stats {
    size_t templates; /* templates held */
    size_t bytes;     /* bytes held by templates, counted against the budget */
    size_t budget;    /* the byte budget (0 = none) */
    size_t hits;      /* instantiations of a template that was present */
    size_t misses;    /* instantiations of a name that was not */
    size_t evictions; /* templates evicted to keep within the budget */
    size_t pinned;    /* templates pinned by live instances */
} zm_template_stats;

/* Makes a cache whose memory comes from a (each template is one block aligned
   to 8 bytes, so a JSON pool's allocator serves it from a size class when it
   holds at most 4096 bytes: zm_json_pool_allocator), keeping its templates within
   budget bytes where it can (0 = no budget): past the budget the least
   recently used unpinned templates are evicted; templates pinned by live
   instances are not, and may keep it over. ZM_OK with *out the caller's
   (zm_template_cache_destroy), ZM_ENOMEM, or ZM_EINVAL when out is NULL. */
zm_status zm_template_cache_create(zm_allocator a, size_t budget, zm_template_cache **out);

/* Frees the cache and every template. No instance may be live (their arenas
   must have been reset or deinitialised first). */
void zm_template_cache_destroy(zm_template_cache *tc);

/* Parses text (strict JSON) as the template called name, replacing any
   template of that name (a pinned one lives on until its instances die).
   Its version tag is 0. ZM_OK; ZM_ESYNTAX etc. with err filled (the old
   template is kept); ZM_ENOMEM; ZM_ELIMIT when the template alone is larger
   than the budget. */
zm_status zm_template_put(zm_template_cache *tc, const char *name, const char *text, size_t len,
                          zm_json_error *err);

/* As zm_template_put, from a value instead of text: root is copied into the
   cache's memory (the caller keeps root; it may die right after). version is
   a tag the cache keeps with the template for the caller (the version of the
   store's record it was read from, say), read back by zm_template_version.
   ZM_OK; ZM_EINVAL (tc, name or root NULL); ZM_ENOMEM; ZM_ELIMIT (larger
   than the budget), with err filled when not NULL. */
zm_status zm_template_put_value(zm_template_cache *tc, const char *name, const zm_json *root,
                                uint64_t version, zm_json_error *err);

/* The version tag of the template called name into *version (may be NULL).
   Does not count as a use. ZM_OK, ZM_ENOTFOUND, or ZM_EINVAL (NULL tc or
   name). */
zm_status zm_template_version(const zm_template_cache *tc, const char *name, uint64_t *version);

/* Returns the bytes a template called name made of root takes in a cache
   (what counts against its budget), or SIZE_MAX when it is too large to
   hold at all. Allocates nothing. */
size_t zm_template_bytes(const char *name, const zm_json *root);

/* The names of the placeholders in root (whole strings and inside strings),
   each once, in document order, as a new array of strings built from a (the
   caller's: zm_json_free(a, *out), or let an arena die). ZM_OK, ZM_ENOMEM
   (nothing left allocated), ZM_EINVAL (NULL root or out). */
zm_status zm_template_placeholders(const zm_json *root, zm_allocator a, zm_json **out);

/* True when a template called name is held. Does not count as a use. */
bool zm_template_has(const zm_template_cache *tc, const char *name);

/* Removes the template called name. ZM_OK or ZM_ENOTFOUND. */
zm_status zm_template_remove(zm_template_cache *tc, const char *name);

/* The most bytes of string text one instance may build (256 MiB). */
#define ZM_TEMPLATE_MAX_TEXT ((size_t)256 << 20)

/* Instantiates template name with bindings (an object; NULL = none) into ar:
   each "{{key}}" string is replaced by the value of member key of bindings
   (shared, not copied: bindings must live as long as the instance), and each
   string with placeholders inside by a new string in ar. The instance lives
   until ar is reset. ZM_OK with *out set; ZM_EINVAL when bindings is neither
   NULL nor an object, or a binding inside a string cannot be written as
   JSON (err->message says so); ZM_ENOTFOUND (no such template, or a
   placeholder with no binding: err->message names it when err is not NULL);
   ZM_ELIMIT when the strings it builds would take more than
   ZM_TEMPLATE_MAX_TEXT bytes together (a short template repeating a
   placeholder inside a string multiplies its binding); ZM_ENOMEM (ar
   rewound, nothing pinned). In steady state it allocates only from ar. */
zm_status zm_template_instantiate(zm_template_cache *tc, const char *name, const zm_json *bindings,
                                  zm_arena *ar, zm_json **out, zm_json_error *err);

/* Fills *out with the cache's counters. */
void zm_template_stats_get(const zm_template_cache *tc, zm_template_stats *out);

#ifdef __cplusplus
}
#endif
#endif
