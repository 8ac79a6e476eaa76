/* Fuzz harness: the template cache.
 *
 * Input: a byte of set-up (budget; whether allocations fail), then a program
 * of steps: put a template under one of eight names, instantiate one with
 * bindings, remove one, reset the arena the instances live in, read the
 * counters. Every instance is checked against an oracle (the template's text
 * parsed on its own, each "{{name}}" string replaced by the binding, which
 * must be the binding itself, not a copy, and each string with placeholders
 * inside its text rebuilt here from the bindings' texts), again just before the reset that
 * ends it (an evicted or replaced template must not leave it dangling).
 * Nothing may be left allocated at the end.
 */
#include <stdbool.h>

#include "fuzz_common.h"
#include "zmem/template.h"

#define NAMES     8
#define INSTANCES 32

typedef struct text {
    char *p; /* malloc'd copy of the last text put successfully; NULL = none */
    size_t len;
} text;

typedef struct instance {
    zm_json *value;
    char *tmpl_text; /* malloc'd: the template it was made from */
    size_t tmpl_len;
    const zm_json *bindings;
} instance;

typedef struct state {
    fz_track t;
    zm_allocator a;
    zm_template_cache *tc;
    zm_arena ar; /* instances and bindings */
    zm_arena scratch;
    text texts[NAMES];
    instance inst[INSTANCES];
    int ninst;
    bool failing;
    size_t budget;
} state;

static const char *names[NAMES] = {"t0", "t1", "t2", "t3", "greeting", "call", "a/b", "{{x}}"};

/* The placeholder rule of the cache, written apart from it: "{{name}}" at
   s[i], name not empty and holding no brace or white space. Returns the
   index past the closing braces, or 0. */
static size_t name_at(const char *s, size_t n, size_t i, const char **name, size_t *len) {
    if (i + 5 > n || s[i] != '{' || s[i + 1] != '{') return 0;
    size_t j = i + 2;
    while (j < n && memchr("{} \t\n\r", s[j], 6) == NULL) j++;
    if (j == i + 2 || j + 2 > n || s[j] != '}' || s[j + 1] != '}') return 0;
    *name = s + i + 2;
    *len = j - i - 2;
    return j + 2;
}

/* A whole-string placeholder (name_at answers 0 for none, so the empty
   string is not one). */
static bool placeholder(const zm_json *v, const char **name, size_t *len) {
    size_t n;
    const char *s = zm_json_str(v, &n);
    return zm_json_is_string(v) && n > 0 && name_at(s, n, 0, name, len) == n;
}

/* Calls fn on each placeholder inside string v (all of them, whole or not);
   returns false as soon as fn does. */
static bool each_name(const zm_json *v, bool (*fn)(const char *, size_t, void *), void *arg) {
    size_t n;
    const char *s = zm_json_str(v, &n);
    for (size_t i = 0; zm_json_is_string(v) && i < n;) {
        const char *name;
        size_t len;
        size_t e = name_at(s, n, i, &name, &len);
        if (e == 0) {
            i++;
            continue;
        }
        if (!fn(name, len, arg)) return false;
        i = e;
    }
    return true;
}

static bool has_binding(const char *name, size_t len, void *bindings) {
    return zm_json_getn(bindings, name, len) != NULL;
}

/* True when every placeholder of v has a binding. */
static bool all_bound(const zm_json *v, const zm_json *bindings) {
    if (zm_json_is_string(v)) return each_name(v, has_binding, (void *)bindings);
    for (size_t i = 0; i < zm_json_len(v); i++) {
        const zm_json *c = zm_json_is_array(v) ? zm_json_at(v, i) : zm_json_member_at(v, i)->value;
        if (!all_bound(c, bindings)) return false;
    }
    return true;
}

/* The text a string with placeholders inside should have, built in malloc'd
   memory (the caller frees it): a string binding's bytes, another value's
   compact JSON text. */
static char *expected_text(const zm_json *tv, const zm_json *bindings, size_t *out_len) {
    size_t n;
    const char *s = zm_json_str(tv, &n);
    size_t cap = n + 64, len = 0;
    char *buf = malloc(cap);
    for (size_t i = 0; i < n;) {
        const char *name, *add = s + i;
        size_t nlen, alen = 1;
        char *written = NULL;
        size_t e = name_at(s, n, i, &name, &nlen);
        if (e != 0) {
            const zm_json *b = zm_json_getn(bindings, name, nlen);
            if (zm_json_is_string(b)) {
                add = zm_json_str(b, &alen);
            } else {
                FZ_CHECK(zm_json_write(zm_c_allocator(), b, 0, &written, &alen) == ZM_OK);
                add = written;
            }
            i = e;
        } else {
            i++;
        }
        if (len + alen + 1 > cap) {
            cap = (len + alen + 1) * 2;
            buf = realloc(buf, cap);
        }
        memcpy(buf + len, add, alen);
        len += alen;
        if (written) zm_free(zm_c_allocator(), written, alen + 1, 1);
    }
    *out_len = len;
    return buf;
}

/* Checks that inst is template tv with bindings in place. */
static void check_instance(const zm_json *inst, const zm_json *tv, const zm_json *bindings) {
    const char *name;
    size_t len;
    if (placeholder(tv, &name, &len)) {
        const zm_json *b = zm_json_getn(bindings, name, len);
        FZ_CHECKF(inst == b, "placeholder {{%.*s}} not replaced by its binding", (int)len, name);
        return;
    }
    FZ_CHECKF(zm_json_typeof(inst) == zm_json_typeof(tv), "instance node of type %d, template %d",
              (int)zm_json_typeof(inst), (int)zm_json_typeof(tv));
    switch (zm_json_typeof(tv)) {
    case ZM_JSON_ARRAY:
        FZ_CHECK(zm_json_len(inst) == zm_json_len(tv));
        for (size_t i = 0; i < zm_json_len(tv); i++)
            check_instance(zm_json_at(inst, i), zm_json_at(tv, i), bindings);
        break;
    case ZM_JSON_OBJECT:
        FZ_CHECK(zm_json_len(inst) == zm_json_len(tv));
        for (size_t i = 0; i < zm_json_len(tv); i++) {
            const zm_json_member *mi = zm_json_member_at(inst, i), *mt = zm_json_member_at(tv, i);
            FZ_CHECK(mi->key_len == mt->key_len && memcmp(mi->key, mt->key, mt->key_len) == 0);
            check_instance(mi->value, mt->value, bindings);
        }
        /* Lookup through the copied hash index finds every member. */
        for (size_t i = 0; i < zm_json_len(tv); i++) {
            const zm_json_member *mt = zm_json_member_at(tv, i);
            FZ_CHECKF(zm_json_getn(inst, mt->key, mt->key_len) != NULL,
                      "member %zu not found by key in an instance", i);
        }
        break;
    case ZM_JSON_STRING: {
        size_t want_len, got_len;
        char *want = expected_text(tv, bindings, &want_len);
        const char *got = zm_json_str(inst, &got_len);
        FZ_CHECKF(got_len == want_len && memcmp(got, want, want_len) == 0 && got[got_len] == '\0',
                  "string instance \"%.*s\", expected \"%.*s\"", (int)got_len, got, (int)want_len,
                  want);
        free(want);
        break;
    }
    default: FZ_CHECK(fz_json_eq(inst, tv)); break;
    }
}

/* Parses a template text on its own (in the scratch arena). */
static zm_json *parse_text(state *s, const char *p, size_t len) {
    zm_json *v = NULL;
    size_t at = s->t.calls;
    fz_track_no_fail(&s->t);
    zm_status st = zm_json_parse_arena(&s->scratch, p, len, NULL, &v, NULL);
    if (s->failing) s->t.calls = at;
    FZ_CHECKF(st == ZM_OK, "a template text that was put does not parse: %s", zm_status_name(st));
    return v;
}

static void verify_instances(state *s) {
    for (int i = 0; i < s->ninst; i++) {
        instance *in = &s->inst[i];
        zm_json *tv = parse_text(s, in->tmpl_text, in->tmpl_len);
        check_instance(in->value, tv, in->bindings);
    }
    zm_arena_reset(&s->scratch, ZM_ARENA_RETAIN_CAPACITY, 0);
}

static void drop_instances(state *s) {
    for (int i = 0; i < s->ninst; i++) free(s->inst[i].tmpl_text);
    s->ninst = 0;
}

static void step_put(state *s, fz_in *in) {
    int k = fz_u8(in) % NAMES;
    size_t n;
    const char *p = (const char *)fz_bytes(in, fz_u8(in), &n);
    zm_json_error err;
    bool had = zm_template_has(s->tc, names[k]);
    zm_status st = zm_template_put(s->tc, names[k], p, n, &err);
    fz_trace("put %s (%zu bytes) -> %s", names[k], n, zm_status_name(st));
    if (st == ZM_OK) {
        free(s->texts[k].p);
        s->texts[k].p = malloc(n ? n : 1);
        memcpy(s->texts[k].p, p, n);
        s->texts[k].len = n;
        /* Without a budget it is held right after; with one, nothing
           unpinned is held past it. */
        zm_template_stats ts;
        zm_template_stats_get(s->tc, &ts);
        if (s->budget == 0)
            FZ_CHECK(zm_template_has(s->tc, names[k]));
        else if (ts.pinned == 0)
            FZ_CHECKF(ts.bytes <= s->budget, "%zu bytes held over a budget of %zu", ts.bytes,
                      s->budget);
        return;
    }
    FZ_CHECKF(st == ZM_ESYNTAX || st == ZM_EDEPTH || st == ZM_ELIMIT ||
                  (st == ZM_ENOMEM && s->t.failures > 0),
              "put failed with %s", zm_status_name(st));
    if (st == ZM_ELIMIT) FZ_CHECK(s->budget > 0);
    FZ_CHECKF(zm_template_has(s->tc, names[k]) == had, "a failed put changed what is held");
}

static void step_instantiate(state *s, fz_in *in) {
    int k = fz_u8(in) % NAMES;
    size_t n;
    const char *p = (const char *)fz_bytes(in, fz_u8(in), &n);
    if (s->ninst == INSTANCES) return;
    /* Bindings live in the instances' arena, as long as the instances. */
    zm_json *bindings = NULL;
    if (n > 0 && zm_json_parse_arena(&s->ar, p, n, NULL, &bindings, NULL) != ZM_OK) bindings = NULL;
    size_t used = zm_arena_used(&s->ar);
    zm_json *out = NULL;
    zm_json_error err;
    bool held = zm_template_has(s->tc, names[k]);
    zm_status st = zm_template_instantiate(s->tc, names[k], bindings, &s->ar, &out, &err);
    fz_trace("instantiate %s -> %s", names[k], zm_status_name(st));
    if (st != ZM_OK) {
        FZ_CHECKF(zm_arena_used(&s->ar) == used, "a failed instantiate left arena memory used");
        if (st == ZM_ENOMEM) {
            FZ_CHECK(s->t.failures > 0);
            return;
        }
        bool bad_bindings = bindings != NULL && !zm_json_is_object(bindings);
        FZ_CHECKF(bad_bindings == (st == ZM_EINVAL), "instantiate failed with %s",
                  zm_status_name(st));
        if (bad_bindings) return;
        FZ_CHECKF(st == ZM_ENOTFOUND, "instantiate failed with %s", zm_status_name(st));
        if (held) {
            zm_json *tv = parse_text(s, s->texts[k].p, s->texts[k].len);
            FZ_CHECKF(!all_bound(tv, bindings), "instantiate: not found, yet all is bound (%s)",
                      err.message);
            zm_arena_reset(&s->scratch, ZM_ARENA_RETAIN_CAPACITY, 0);
        }
        return;
    }
    FZ_CHECK(held);
    FZ_CHECKF(s->texts[k].p != NULL, "instantiated %s, which was never put", names[k]);
    instance *i = &s->inst[s->ninst++];
    i->value = out;
    i->tmpl_len = s->texts[k].len;
    i->tmpl_text = malloc(i->tmpl_len ? i->tmpl_len : 1);
    memcpy(i->tmpl_text, s->texts[k].p, i->tmpl_len);
    i->bindings = bindings;
    zm_json *tv = parse_text(s, i->tmpl_text, i->tmpl_len);
    check_instance(out, tv, bindings);
    zm_arena_reset(&s->scratch, ZM_ARENA_RETAIN_CAPACITY, 0);
}

static void step_remove(state *s, fz_in *in) {
    int k = fz_u8(in) % NAMES;
    bool held = zm_template_has(s->tc, names[k]);
    zm_status st = zm_template_remove(s->tc, names[k]);
    fz_trace("remove %s -> %s", names[k], zm_status_name(st));
    FZ_CHECK(st == (held ? ZM_OK : ZM_ENOTFOUND));
    FZ_CHECK(!zm_template_has(s->tc, names[k]));
}

static void step_reset(state *s) {
    verify_instances(s);
    drop_instances(s);
    zm_arena_reset(&s->ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    fz_trace("reset");
    zm_template_stats st;
    zm_template_stats_get(s->tc, &st);
    FZ_CHECKF(st.pinned == 0, "%zu template(s) pinned with no instance alive", st.pinned);
}

static void step_stats(state *s) {
    zm_template_stats st;
    zm_template_stats_get(s->tc, &st);
    size_t held = 0;
    for (int k = 0; k < NAMES; k++) held += zm_template_has(s->tc, names[k]);
    FZ_CHECKF(st.templates == held, "stats say %zu templates, %zu are held", st.templates, held);
    FZ_CHECK(st.budget == s->budget);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static state s;
    fz_in in = {data, size};
    memset(&s, 0, sizeof s);
    uint8_t setup = fz_u8(&in);
    s.a = fz_track_init(&s.t, zm_c_allocator());
    s.budget = (setup & 3) == 0 ? 0 : (size_t)64 << (2 * (setup & 3) + 2); /* 1K, 4K, 16K... */
    zm_arena_init(&s.scratch, zm_c_allocator());
    if (zm_template_cache_create(s.a, s.budget, &s.tc) != ZM_OK) FZ_CHECK(0);
    zm_arena_init(&s.ar, s.a);
    if (setup & 4) {
        s.failing = true;
        fz_track_fail_at(&s.t, fz_u8(&in), (setup & 8) != 0);
    }
    for (int steps = 0; steps < 256 && in.n > 0; steps++) {
        switch (fz_u8(&in) % 8) {
        case 0:
        case 1:
        case 2: step_put(&s, &in); break;
        case 3:
        case 4: step_instantiate(&s, &in); break;
        case 5: step_remove(&s, &in); break;
        case 6: step_reset(&s); break;
        default: step_stats(&s); break;
        }
    }
    verify_instances(&s);
    drop_instances(&s);
    zm_arena_deinit(&s.ar);
    zm_template_cache_destroy(s.tc);
    zm_arena_deinit(&s.scratch);
    for (int k = 0; k < NAMES; k++) free(s.texts[k].p);
    fz_track_finish(&s.t, "template cache");
    return 0;
}
