/* The store's building blocks: hashing, the id index, growable arrays, byte
   string comparison. */
#include "memory_internal.h"
#include "zmem/array.h"

/* ---------------------------------------------------------------------------
 * Hashing: FNV-1a over 8-byte words, then a final mix (fast enough for keys of
 * a few dozen bytes, and every bit of the result depends on every byte).
 * ------------------------------------------------------------------------- */

uint32_t zm__st_hash(const zm__mem *s, const char *p, size_t len) {
    uint64_t h = (0xcbf29ce484222325u ^ s->seed) ^ (uint64_t)len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x100000001b3u;
        h ^= h >> 29;
        p += 8;
        len -= 8;
    }
    while (len > 0) {
        h = (h ^ (unsigned char)*p++) * 0x100000001b3u;
        len--;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return (uint32_t)h;
}

/* ---------------------------------------------------------------------------
 * The id index
 * ------------------------------------------------------------------------- */

#define SLOT_HASH(s) ((uint32_t)((s) >> 32))
#define SLOT_ID(s)   ((uint32_t)(s)-1u)

uint32_t zm__st_map_find(const zm__map *m, uint32_t hash, zm__map_eq eq, const void *ctx,
                         const void *key) {
    if (m->cap == 0) return ZM__NONE;
    uint32_t mask = m->cap - 1;
    size_t probes = 0;
    uint32_t found = ZM__NONE;
    for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
        uint64_t s = m->slots[i];
        probes++;
        if (s == 0) break;
        if (SLOT_HASH(s) == hash && eq(ctx, SLOT_ID(s), key)) {
            found = SLOT_ID(s);
            break;
        }
    }
    ((zm__map *)m)->probes += probes; /* maps are never const objects */
    return found;
}

static void put_slot(uint64_t *slots, uint32_t cap, uint32_t hash, uint32_t id) {
    uint32_t mask = cap - 1;
    uint32_t i = hash & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = ((uint64_t)hash << 32) | ((uint64_t)id + 1u);
}

zm_status zm__st_map_reserve(zm__map *m, zm_allocator a, size_t more) {
    /* Keep the load at most 3/4. */
    if (more > ZM__MAX_IDS - m->len) return ZM_ELIMIT;
    uint64_t need = (uint64_t)m->len + more;
    if (need * 4 <= (uint64_t)m->cap * 3) return ZM_OK;
    uint64_t cap = m->cap ? m->cap : 16;
    while (need * 4 > cap * 3) cap *= 2;
    if (cap > ((uint64_t)1 << 31)) return ZM_ELIMIT;
    uint64_t *slots = zm_alloc_array(a, uint64_t, (size_t)cap);
    if (slots == NULL) return ZM_ENOMEM;
    memset(slots, 0, (size_t)cap * sizeof *slots);
    for (uint32_t i = 0; i < m->cap; i++) {
        uint64_t s = m->slots[i];
        if (s != 0) put_slot(slots, (uint32_t)cap, SLOT_HASH(s), SLOT_ID(s));
    }
    zm_free_array(a, m->slots, m->cap);
    m->slots = slots;
    m->cap = (uint32_t)cap;
    return ZM_OK;
}

void zm__st_map_insert(zm__map *m, uint32_t hash, uint32_t id) {
    assert((uint64_t)(m->len + 1) * 4 <= (uint64_t)m->cap * 3);
    put_slot(m->slots, m->cap, hash, id);
    m->len++;
}

void zm__st_map_free(zm__map *m, zm_allocator a) {
    zm_free_array(a, m->slots, m->cap);
    m->slots = NULL;
    m->cap = m->len = 0;
}

typedef struct str_recs {
    const char *base;
    size_t stride;
} str_recs;

static bool str_rec_eq(const void *ctx, uint32_t id, const void *key) {
    const str_recs *r = ctx;
    const zm__str *k = key;
    const zm__str *s = (const zm__str *)(const void *)(r->base + (size_t)id * r->stride);
    return s->len == k->len && (k->len == 0 || memcmp(s->ptr, k->ptr, k->len) == 0);
}

uint32_t zm__st_map_find_str(const zm__map *m, const void *base, size_t stride, const char *p,
                             size_t len, uint32_t hash) {
    str_recs r = {base, stride};
    zm__str k = {p, len};
    return zm__st_map_find(m, hash, str_rec_eq, &r, &k);
}

/* ---------------------------------------------------------------------------
 * Growable arrays
 * ------------------------------------------------------------------------- */

zm_status zm__st_vec_reserve(zm_allocator a, void **items, size_t *cap, size_t len, size_t more,
                             size_t elem, size_t align) {
    if (more > SIZE_MAX / elem - len) return ZM_ENOMEM;
    if (len + more <= *cap) return ZM_OK;
    void *p = zm_array_grow_raw(a, *items, cap, len + more, elem, align);
    if (p == NULL) return ZM_ENOMEM;
    *items = p;
    return ZM_OK;
}

/* ---------------------------------------------------------------------------
 * Text
 * ------------------------------------------------------------------------- */

int zm__st_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0) return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}
