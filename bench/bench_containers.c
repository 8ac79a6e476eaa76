/* Side-by-side container benchmarks, reported as ratios.
 *
 *   array: 10M 64-bit items appended one at a time to an empty array,
 *          through zmem's typed array on the default allocator and in an
 *          arena, a hand-written realloc loop (doubling), and glib's GArray.
 *   map:   1M distinct string keys (4 to 21 bytes, kept in one block, which
 *          every map borrows): insert them all into an empty map, look each
 *          up in a shuffled order (hits), look up 1M other keys (misses),
 *          remove them all in another shuffled order (each phase reads
 *          its keys from a copy laid out in its own order, so that only the
 *          maps' own memory is accessed at random); zmem's map, glib's
 *          GHashTable (g_str_hash, g_str_equal) and C++ std::unordered_map
 *          with std::string_view keys (bench_containers_std.cpp), none of
 *          them reserved in advance.
 *
 * Every figure is the median of several rounds, in thread CPU time. Timing
 * never fails the run: the exit status is nonzero only when a container
 * gives a wrong answer.
 */
#define _GNU_SOURCE
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zmem/arena.h"
#include "zmem/array.h"
#include "zmem/map.h"

#define ZB_NAME "bench_containers"
#include "bench_time.h"

/* The std::unordered_map peer (bench_containers_std.cpp): each call runs one
   phase over every key and returns a checksum. */
void *zbu_new(void);
uint64_t zbu_insert(void *m, const char *const *keys, const size_t *lens, size_t n);
uint64_t zbu_find(void *m, const char *const *keys, const size_t *lens, size_t n);
uint64_t zbu_erase(void *m, const char *const *keys, const size_t *lens, size_t n);
void zbu_free(void *m);

/* ---------------------------------------------------------------------------
 * The array
 * ------------------------------------------------------------------------- */

ZM_ARRAY_TYPED(u64_array, uint64_t);

enum { ARRAY_N = 10000000, ROUNDS = 7 };

static volatile uint64_t sink;

static uint64_t array_zmem(zm_allocator a) {
    u64_array xs = {0};
    for (uint64_t i = 0; i < ARRAY_N; i++)
        if (u64_array_append(a, &xs, i) != ZM_OK) return 0;
    uint64_t s = xs.items[ARRAY_N / 2] + xs.items[ARRAY_N - 1] + xs.len;
    u64_array_deinit(a, &xs);
    return s;
}

static uint64_t array_realloc(void) {
    uint64_t *items = NULL;
    size_t len = 0, cap = 0;
    for (uint64_t i = 0; i < ARRAY_N; i++) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            uint64_t *p = realloc(items, ncap * sizeof *items);
            if (p == NULL) {
                free(items);
                return 0;
            }
            items = p;
            cap = ncap;
        }
        items[len++] = i;
    }
    uint64_t s = items[ARRAY_N / 2] + items[ARRAY_N - 1] + len;
    free(items);
    return s;
}

static uint64_t array_garray(void) {
    GArray *g = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    for (uint64_t i = 0; i < ARRAY_N; i++) g_array_append_val(g, i);
    uint64_t s =
        g_array_index(g, uint64_t, ARRAY_N / 2) + g_array_index(g, uint64_t, ARRAY_N - 1) + g->len;
    g_array_free(g, TRUE);
    return s;
}

static void bench_array(void) {
    const uint64_t want = ARRAY_N / 2 + (ARRAY_N - 1) + ARRAY_N;
    double t[4][ROUNDS];
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_ns();
        uint64_t s0 = array_zmem(zm_default_allocator());
        double t1 = now_ns();
        uint64_t s1 = array_realloc();
        double t2 = now_ns();
        uint64_t s2 = array_garray();
        double t3 = now_ns();
        uint64_t s3 = array_zmem(zm_arena_allocator(&ar));
        double t4 = now_ns();
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
        EXPECT(s0 == want && s1 == want && s2 == want && s3 == want, "array contents");
        t[0][r] = t1 - t0, t[1][r] = t2 - t1, t[2][r] = t3 - t2, t[3][r] = t4 - t3;
    }
    zm_arena_deinit(&ar);
    double zm = median(t[0], ROUNDS), rl = median(t[1], ROUNDS), ga = median(t[2], ROUNDS),
           za = median(t[3], ROUNDS);
    printf("array: append %d uint64 items one at a time (ns per item, median of %d)\n", ARRAY_N,
           ROUNDS);
    printf("  zmem array (%s)     %6.2f\n", zm_default_allocator_name(), zm / ARRAY_N);
    printf("  zmem array (arena)  %6.2f\n", za / ARRAY_N);
    printf("  realloc loop        %6.2f\n", rl / ARRAY_N);
    printf("  GArray              %6.2f\n", ga / ARRAY_N);
    printf("  zmem / realloc loop: %.2fx the time (target <= 1.1x); GArray / zmem: %.2fx\n",
           zm / rl, ga / zm);
}

/* ---------------------------------------------------------------------------
 * The map
 * ------------------------------------------------------------------------- */

ZM_MAP_TYPED(u64_map, uint64_t);

enum { MAP_N = 1000000, MAP_ROUNDS = 5 };

/* The keys of one phase, in the order it uses them, laid out one after the
   other (pointers, lengths and bytes), so that fetching the next key costs
   no cache miss and the figures are the maps' own. */
typedef struct keylist {
    char *block;
    const char **keys;
    size_t *lens;
} keylist;

typedef struct keyset {
    keylist insert, hit, miss, remove;
} keyset;

static void shuffle(uint32_t *v, size_t n, uint64_t *seed) {
    for (size_t i = 0; i < n; i++) v[i] = (uint32_t)i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = xorshift(seed) % (i + 1);
        uint32_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* Key i: a prefix that tells present (i < MAP_N) from absent keys, a number
   that makes it unique, and a tail of 0 to 12 letters that depends on i. */
static int key_text(char *out, size_t i) {
    uint64_t h = (i + 1) * 0x9E3779B97F4A7C15u;
    int tail = (int)((h >> 40) % 13);
    return snprintf(out, 32, "%s/%zu/%.*s", i < MAP_N ? "u" : "x", i < MAP_N ? i : i - MAP_N, tail,
                    "abcdefghijklm");
}

/* Lays out keys first + order[0..n) (or first + 0..n when order is NULL). */
static void make_list(keylist *kl, const uint32_t *order, size_t first) {
    kl->block = malloc((size_t)MAP_N * 32);
    kl->keys = malloc((size_t)MAP_N * sizeof *kl->keys);
    kl->lens = malloc((size_t)MAP_N * sizeof *kl->lens);
    char *p = kl->block;
    for (size_t i = 0; i < MAP_N; i++) {
        int n = key_text(p, first + (order ? order[i] : i));
        kl->keys[i] = p;
        kl->lens[i] = (size_t)n;
        p += n + 1;
    }
}

static void make_keys(keyset *ks) {
    uint64_t seed = 0x2545F4914F6CDD1Du;
    uint32_t *order = malloc(MAP_N * sizeof(uint32_t));
    make_list(&ks->insert, NULL, 0);
    shuffle(order, MAP_N, &seed);
    make_list(&ks->hit, order, 0);
    shuffle(order, MAP_N, &seed);
    make_list(&ks->miss, order, MAP_N);
    shuffle(order, MAP_N, &seed);
    make_list(&ks->remove, order, 0);
    free(order);
}

static void free_list(keylist *kl) {
    free(kl->block);
    free(kl->keys);
    free(kl->lens);
}

static void free_keys(keyset *ks) {
    free_list(&ks->insert);
    free_list(&ks->hit);
    free_list(&ks->miss);
    free_list(&ks->remove);
}

/* One round of a contender: the four phases' times in t, checksums in s. */
typedef void (*map_round)(const keyset *ks, double t[4], uint64_t s[4]);

static void round_zmem(const keyset *ks, double t[4], uint64_t s[4]) {
    zm_allocator a = zm_default_allocator();
    u64_map m = {0};
    memset(s, 0, 4 * sizeof *s);
    double t0 = now_ns();
    for (size_t i = 0; i < MAP_N; i++)
        if (u64_map_put(a, &m, ks->insert.keys[i], ks->insert.lens[i], i + 1) == ZM_OK) s[0]++;
    double t1 = now_ns();
    for (size_t i = 0; i < MAP_N; i++) {
        uint64_t *v = u64_map_get(&m, ks->hit.keys[i], ks->hit.lens[i]);
        s[1] += v ? *v : 0;
    }
    double t2 = now_ns();
    for (size_t i = 0; i < MAP_N; i++)
        s[2] += u64_map_get(&m, ks->miss.keys[i], ks->miss.lens[i]) != NULL;
    double t3 = now_ns();
    for (size_t i = 0; i < MAP_N; i++)
        s[3] += u64_map_remove(&m, ks->remove.keys[i], ks->remove.lens[i], NULL);
    double t4 = now_ns();
    s[3] += u64_map_count(&m);
    u64_map_deinit(a, &m);
    t[0] = t1 - t0, t[1] = t2 - t1, t[2] = t3 - t2, t[3] = t4 - t3;
}

static void round_glib(const keyset *ks, double t[4], uint64_t s[4]) {
    GHashTable *h = g_hash_table_new(g_str_hash, g_str_equal);
    memset(s, 0, 4 * sizeof *s);
    double t0 = now_ns();
    for (size_t i = 0; i < MAP_N; i++)
        s[0] += g_hash_table_insert(h, (gpointer)ks->insert.keys[i], (gpointer)(uintptr_t)(i + 1));
    double t1 = now_ns();
    for (size_t i = 0; i < MAP_N; i++) s[1] += (uintptr_t)g_hash_table_lookup(h, ks->hit.keys[i]);
    double t2 = now_ns();
    for (size_t i = 0; i < MAP_N; i++) s[2] += g_hash_table_lookup(h, ks->miss.keys[i]) != NULL;
    double t3 = now_ns();
    for (size_t i = 0; i < MAP_N; i++) s[3] += g_hash_table_remove(h, ks->remove.keys[i]);
    double t4 = now_ns();
    s[3] += g_hash_table_size(h);
    g_hash_table_destroy(h);
    t[0] = t1 - t0, t[1] = t2 - t1, t[2] = t3 - t2, t[3] = t4 - t3;
}

static void round_std(const keyset *ks, double t[4], uint64_t s[4]) {
    void *m = zbu_new();
    double t0 = now_ns();
    s[0] = zbu_insert(m, ks->insert.keys, ks->insert.lens, MAP_N);
    double t1 = now_ns();
    s[1] = zbu_find(m, ks->hit.keys, ks->hit.lens, MAP_N);
    double t2 = now_ns();
    s[2] = zbu_find(m, ks->miss.keys, ks->miss.lens, MAP_N);
    double t3 = now_ns();
    s[3] = zbu_erase(m, ks->remove.keys, ks->remove.lens, MAP_N);
    double t4 = now_ns();
    zbu_free(m);
    t[0] = t1 - t0, t[1] = t2 - t1, t[2] = t3 - t2, t[3] = t4 - t3;
}

static void bench_map(void) {
    keyset ks;
    make_keys(&ks);
    static const char *const names[] = {"zmem map", "GHashTable", "std::unordered_map"};
    static const map_round rounds[] = {round_zmem, round_glib, round_std};
    static const char *const phases[] = {"insert", "hit", "miss", "remove"};
    const uint64_t want[4] = {MAP_N, (uint64_t)MAP_N * (MAP_N + 1) / 2, 0, MAP_N};
    double t[3][4][MAP_ROUNDS], med[3][4];
    for (int r = 0; r < MAP_ROUNDS; r++) {
        for (int c = 0; c < 3; c++) {
            double tt[4];
            uint64_t s[4];
            rounds[c](&ks, tt, s);
            for (int p = 0; p < 4; p++) {
                t[c][p][r] = tt[p];
                if (s[p] != want[p]) {
                    char what[96];
                    snprintf(what, sizeof what, "%s: %s checksum", names[c], phases[p]);
                    EXPECT(0, what);
                }
            }
        }
    }
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 4; p++) med[c][p] = median(t[c][p], MAP_ROUNDS) / MAP_N;
    printf("map: %d string keys (ns per operation, median of %d)\n", MAP_N, MAP_ROUNDS);
    printf("  %-20s %8s %8s %8s %8s\n", "", phases[0], phases[1], phases[2], phases[3]);
    for (int c = 0; c < 3; c++)
        printf("  %-20s %8.1f %8.1f %8.1f %8.1f\n", names[c], med[c][0], med[c][1], med[c][2],
               med[c][3]);
    for (int c = 1; c < 3; c++)
        printf("  %s / zmem: %.2fx %.2fx %.2fx %.2fx (target >= %s)\n", names[c],
               med[c][0] / med[0][0], med[c][1] / med[0][1], med[c][2] / med[0][2],
               med[c][3] / med[0][3], c == 1 ? "2x" : "1.5x");
    free_keys(&ks);
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    if (only == NULL || strcmp(only, "array") == 0) bench_array();
    if (only == NULL || strcmp(only, "map") == 0) bench_map();
    return failures ? 1 : 0;
}
