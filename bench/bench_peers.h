/* The peers of bench_json.c, each behind the same small C interface in a
 * file of its own (jansson and json-c cannot share a translation unit: both
 * declare json_object). A peer missing at build time is not compiled.
 *
 * For a peer p:
 *   zb_p_new(text, len)  a state holding text (copied or referenced; text
 *                        outlives it) and one parsed tree for the write runs;
 *                        NULL when the text does not parse
 *   zb_p_parse(state)    parses the text into a new tree and frees it; 0 if valid
 *   zb_p_write(state)    writes the state's tree compactly and frees the text;
 *                        0 on success (absent for parse-only peers)
 *   zb_p_free(state)
 */
#ifndef ZB_PEERS_H
#define ZB_PEERS_H

#include <stdbool.h>
#include <stddef.h>

#define ZB_PEER_DECLARE(p)                                                                         \
    void *zb_##p##_new(const char *text, size_t len);                                              \
    int zb_##p##_parse(void *state);                                                               \
    int zb_##p##_write(void *state);                                                               \
    void zb_##p##_free(void *state);

ZB_PEER_DECLARE(cjson)
ZB_PEER_DECLARE(jansson)
ZB_PEER_DECLARE(jsonc)
ZB_PEER_DECLARE(simdjson)
ZB_PEER_DECLARE(rapidjson)

/* True when malloc in this process is not glibc's own (a library linked in,
   such as Debian's libmimalloc.so, defines it and takes every call). */
bool zb_malloc_interposed(void);

/* Points cJSON at glibc's own malloc and free (on), or back at the process's
   malloc (off): cJSON as it runs in a program that does not replace malloc.
   Its print then grows its buffer by malloc and copy instead of realloc. */
void zb_cjson_use_libc_malloc(bool on);

/* The kernel simdjson picked for this CPU (haswell, westmere, fallback...). */
const char *zb_simdjson_implementation(void);

#endif
