/* Fuzz harness: building JSON values in code, from a pool, an arena or a
 * general allocator, with allocations failing.
 *
 * Input: a byte of set-up (allocator, failure injection), then steps over 16
 * slots, each holding a value the harness owns: make a scalar, array or
 * object; push one slot's value into an array; set or remove an object's
 * member; clone; free; write. Checks:
 *  - a step that fails with ZM_ENOMEM changes nothing: the item or value
 *    offered is still the caller's (and is freed by the harness later);
 *  - after a push the array's last item is the one pushed; after a set the
 *    member is found by key with that value; after a remove it is gone and
 *    the other members keep their order;
 *  - a clone is equal to its original; what is written parses back equal;
 *  - when every slot is freed, the pool has no live value and every block
 *    went back with its exact size and alignment.
 */
#include <math.h>
#include <stdbool.h>

#include "fuzz_common.h"
#include "zmem/json.h"

#define SLOTS 16

typedef struct state {
    fz_track t;
    zm_allocator a;
    zm_json_pool *pool;
    zm_arena ar;
    bool arena;
    zm_json *slot[SLOTS];
} state;

static void take(state *s, int i, zm_json *v) {
    if (s->slot[i] != NULL) zm_json_free(s->a, s->slot[i]);
    s->slot[i] = v;
}

static void oom_ok(state *s, zm_status st, const char *what) {
    FZ_CHECKF(st == ZM_OK || (st == ZM_ENOMEM && s->t.failures > 0), "%s: %s", what,
              zm_status_name(st));
}

static void step_new(state *s, fz_in *in) {
    int i = fz_u8(in) % SLOTS;
    uint8_t kind = fz_u8(in);
    uint32_t x = fz_u32(in);
    zm_json *v = NULL;
    switch (kind % 8) {
    case 0: v = zm_json_new_null(s->a); break;
    case 1: v = zm_json_new_bool(s->a, x & 1); break;
    case 2: v = zm_json_new_int(s->a, (int64_t)(int32_t)x * 1000003); break;
    case 3: v = zm_json_new_real(s->a, (double)(int32_t)x / 7.0); break;
    case 4: {
        size_t n;
        const char *p = (const char *)fz_bytes(in, x % 40, &n);
        v = zm_json_new_string(s->a, p, n);
        break;
    }
    case 5: v = zm_json_new_array(s->a, x % 9); break;
    default: v = zm_json_new_object(s->a, x % 9); break;
    }
    fz_trace("new slot %d kind %d -> %p", i, kind % 8, (void *)v);
    if (v == NULL) {
        FZ_CHECKF(s->t.failures > 0, "a constructor failed with nothing failing");
        return;
    }
    take(s, i, v);
}

static void step_push(state *s, fz_in *in) {
    int i = fz_u8(in) % SLOTS, j = fz_u8(in) % SLOTS;
    zm_json *arr = s->slot[i], *item = s->slot[j];
    if (i == j || arr == NULL || item == NULL) return;
    size_t len = zm_json_len(arr);
    zm_status st = zm_json_array_push(s->a, arr, item);
    fz_trace("push slot %d into %d -> %s", j, i, zm_status_name(st));
    if (!zm_json_is_array(arr)) {
        FZ_CHECK(st == ZM_ETYPE);
        return;
    }
    oom_ok(s, st, "push");
    if (st != ZM_OK) {
        FZ_CHECK(zm_json_len(arr) == len);
        return;
    }
    FZ_CHECK(zm_json_len(arr) == len + 1 && zm_json_at(arr, len) == item);
    s->slot[j] = NULL; /* the array owns it now */
}

static void step_set(state *s, fz_in *in) {
    int i = fz_u8(in) % SLOTS, j = fz_u8(in) % SLOTS;
    size_t klen;
    const char *key = (const char *)fz_bytes(in, fz_u8(in) % 6, &klen);
    zm_json *obj = s->slot[i], *val = s->slot[j];
    if (i == j || obj == NULL || val == NULL) return;
    size_t len = zm_json_len(obj);
    bool had = zm_json_getn(obj, key, klen) != NULL;
    zm_status st = zm_json_object_set(s->a, obj, key, klen, val);
    fz_trace("set slot %d [%zu-byte key] = slot %d -> %s", i, klen, j, zm_status_name(st));
    if (!zm_json_is_object(obj)) {
        FZ_CHECK(st == ZM_ETYPE);
        return;
    }
    oom_ok(s, st, "object_set");
    if (st != ZM_OK) {
        FZ_CHECK(zm_json_len(obj) == len);
        return;
    }
    FZ_CHECK(zm_json_len(obj) == len + (had ? 0 : 1));
    FZ_CHECKF(zm_json_getn(obj, key, klen) == val, "a member set is not found by its key");
    s->slot[j] = NULL;
}

static void step_remove(state *s, fz_in *in) {
    int i = fz_u8(in) % SLOTS;
    size_t klen;
    const char *key = (const char *)fz_bytes(in, fz_u8(in) % 6, &klen);
    zm_json *obj = s->slot[i];
    if (obj == NULL) return;
    size_t len = zm_json_len(obj);
    bool had = zm_json_getn(obj, key, klen) != NULL;
    zm_status st = zm_json_object_remove(s->a, obj, key, klen);
    fz_trace("remove from slot %d -> %s", i, zm_status_name(st));
    if (!zm_json_is_object(obj)) {
        FZ_CHECK(st == ZM_ETYPE);
        return;
    }
    FZ_CHECK(st == (had ? ZM_OK : ZM_ENOTFOUND));
    FZ_CHECK(zm_json_len(obj) == len - (had ? 1 : 0));
    FZ_CHECK(zm_json_getn(obj, key, klen) == NULL);
    /* The rest are still found by key. */
    for (size_t k = 0; k < zm_json_len(obj); k++) {
        const zm_json_member *m = zm_json_member_at(obj, k);
        FZ_CHECKF(zm_json_getn(obj, m->key, m->key_len) != NULL, "member %zu lost after a remove",
                  k);
    }
}

/* The number of values in v, counted up to limit (then limit + 1). */
static size_t count_values(const zm_json *v, size_t limit) {
    size_t n = 1;
    for (size_t k = 0; k < zm_json_len(v) && n <= limit; k++)
        n += count_values(zm_json_is_array(v) ? zm_json_at(v, k) : zm_json_member_at(v, k)->value,
                          limit - n);
    return n;
}

/* Values never outgrow this: cloning a value into itself doubles it, so a
   few dozen steps would otherwise build more than memory holds. */
#define MAX_CLONE_VALUES 4096

static void step_clone(state *s, fz_in *in) {
    int i = fz_u8(in) % SLOTS, j = fz_u8(in) % SLOTS;
    if (s->slot[i] == NULL || i == j) return;
    if (count_values(s->slot[i], MAX_CLONE_VALUES) > MAX_CLONE_VALUES) return;
    zm_json *copy = NULL;
    zm_status st = zm_json_clone(s->a, s->slot[i], &copy);
    fz_trace("clone slot %d into %d -> %s", i, j, zm_status_name(st));
    oom_ok(s, st, "clone");
    if (st != ZM_OK) return;
    FZ_CHECK(fz_json_eq(s->slot[i], copy));
    take(s, j, copy);
}

/* True when v holds a non-finite real (the writer refuses those). */
static bool has_nonfinite(const zm_json *v) {
    if (zm_json_typeof(v) == ZM_JSON_REAL) return !isfinite(v->u.d);
    for (size_t k = 0; k < zm_json_len(v); k++)
        if (has_nonfinite(zm_json_is_array(v) ? zm_json_at(v, k) : zm_json_member_at(v, k)->value))
            return true;
    return false;
}

static void step_write(state *s, fz_in *in) {
    int i = fz_u8(in) % SLOTS;
    if (s->slot[i] == NULL) return;
    char *out = NULL;
    size_t len = 0;
    zm_status st = zm_json_write(s->a, s->slot[i], 0, &out, &len);
    fz_trace("write slot %d -> %s", i, zm_status_name(st));
    if (st == ZM_EINVAL) return; /* invalid UTF-8 in a string built from the input */
    FZ_CHECK(!(st == ZM_OK && has_nonfinite(s->slot[i])));
    oom_ok(s, st, "write");
    if (st != ZM_OK) return;
    zm_arena check;
    zm_arena_init(&check, zm_c_allocator());
    zm_json *back = NULL;
    zm_json_error err;
    /* Built strings are never marked WTF-8 here: what was written is strict
       RFC 8259 text, read back with the default options. */
    zm_status pst = zm_json_parse_arena(&check, out, len, NULL, &back, &err);
    FZ_CHECKF(pst == ZM_OK, "written value does not parse: %s", err.message);
    FZ_CHECKF(fz_json_eq(s->slot[i], back), "written value reads back different: %.*s",
              (int)(len < 300 ? len : 300), out);
    zm_arena_deinit(&check);
    zm_free(s->a, out, len + 1, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static state s;
    fz_in in = {data, size};
    memset(&s, 0, sizeof s);
    uint8_t setup = fz_u8(&in);
    uint8_t fail = fz_u8(&in);
    zm_allocator tracked = fz_track_init(&s.t, zm_c_allocator());
    switch (setup % 3) {
    case 0:
        FZ_CHECK(zm_json_pool_create(tracked, &s.pool) == ZM_OK);
        s.a = zm_json_pool_allocator(s.pool);
        break;
    case 1: s.a = tracked; break;
    default:
        zm_arena_init(&s.ar, tracked);
        s.arena = true;
        s.a = zm_arena_allocator(&s.ar);
        break;
    }
    if (setup & 4) fz_track_fail_at(&s.t, fail, (setup & 8) != 0);
    for (int n = 0; n < 200 && in.n > 0; n++) {
        switch (fz_u8(&in) % 8) {
        case 0:
        case 1: step_new(&s, &in); break;
        case 2: step_push(&s, &in); break;
        case 3: step_set(&s, &in); break;
        case 4: step_remove(&s, &in); break;
        case 5: step_clone(&s, &in); break;
        case 6: step_write(&s, &in); break;
        default: take(&s, fz_u8(&in) % SLOTS, NULL); break;
        }
    }
    for (int i = 0; i < SLOTS; i++) take(&s, i, NULL);
    if (s.pool != NULL) {
        zm_json_pool_stats ps;
        zm_json_pool_stats_get(s.pool, &ps);
        FZ_CHECKF(ps.live_values == 0, "%zu pooled value(s) live after every slot was freed",
                  ps.live_values);
        zm_json_pool_destroy(s.pool);
    }
    if (s.arena) zm_arena_deinit(&s.ar);
    fz_track_finish(&s.t, "json builders");
    return 0;
}
