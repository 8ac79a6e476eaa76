/* zmem — the JSON template cache.
 *
 * A name maps to a JSON template parsed once into the cache's own memory.
 * String values that are exactly "{{name}}" are placeholders, filled from a
 * bindings object when the template is instantiated into a caller's arena;
 * the template's constant subtrees are shared by every instance, not copied.
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

/* Makes a cache whose memory comes from a, keeping its templates within
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
   ZM_OK; ZM_ESYNTAX etc. with err filled (the old template is kept);
   ZM_ENOMEM; ZM_ELIMIT when the template alone is larger than the budget. */
zm_status zm_template_put(zm_template_cache *tc, const char *name, const char *text, size_t len,
                          zm_json_error *err);

/* True when a template called name is held. Does not count as a use. */
bool zm_template_has(const zm_template_cache *tc, const char *name);

/* Removes the template called name. ZM_OK or ZM_ENOTFOUND. */
zm_status zm_template_remove(zm_template_cache *tc, const char *name);

/* Instantiates template name with bindings (an object; NULL = none) into ar:
   each "{{key}}" string is replaced by the value of member key of bindings
   (shared, not copied: bindings must live as long as the instance). The
   instance lives until ar is reset. ZM_OK with *out set; ZM_EINVAL when
   bindings is neither NULL nor an object (err->message says so);
   ZM_ENOTFOUND (no such template, or a placeholder with no binding:
   err->message names it when err is not NULL); ZM_ENOMEM (ar rewound,
   nothing pinned). */
zm_status zm_template_instantiate(zm_template_cache *tc, const char *name, const zm_json *bindings,
                                  zm_arena *ar, zm_json **out, zm_json_error *err);

/* Fills *out with the cache's counters. */
void zm_template_stats_get(const zm_template_cache *tc, zm_template_stats *out);

#ifdef __cplusplus
}
#endif
#endif
