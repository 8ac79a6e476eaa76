/* The parser at its limits: deep nesting, truncation at every offset (of
   the bench data's github_events.json, whose folder is the argument),
   whitespace styles, arenas and arguments, and the failing-allocator sweep. */
#include "json_parse_test.h"

/* ---------------------------------------------------------------------------
 * Depth
 * ------------------------------------------------------------------------- */

static char *nested(size_t depth, bool close, bool objects, size_t *len) {
    char *t = malloc(depth * 6 + 8);
    size_t n = 0;
    for (size_t i = 0; i < depth; i++) {
        if (objects) {
            memcpy(t + n, "{\"k\":", 5);
            n += 5;
        } else {
            t[n++] = '[';
        }
    }
    if (objects) t[n++] = '1';
    for (size_t i = 0; close && i < depth; i++) t[n++] = objects ? '}' : ']';
    *len = n;
    return t;
}

static void test_depth(void) {
    zm_allocator a = zm_default_allocator();
    size_t len;
    zm_json_doc *doc;
    zm_json_error e;
    char *t = nested(1000000, false, false, &len);
    CHECK(zm_json_parse(a, t, len, NULL, &doc, &e) == ZM_EDEPTH);
    CHECK(e.status == ZM_EDEPTH && e.offset == 512 && strstr(e.message, "512") != NULL);
    free(t);
    t = nested(1000000, true, false, &len);
    CHECK(zm_json_parse(a, t, len, NULL, &doc, &e) == ZM_EDEPTH);
    free(t);
    /* exactly max_depth is accepted, one more is not */
    size_t limits[] = {1, 2, 5, 512, 100000};
    for (size_t i = 0; i < 5; i++) {
        size_t lim = limits[i];
        zm_json_parse_opts o = {0, (uint32_t)(lim == 512 ? 0 : lim), ZM_JSON_DUP_ERROR};
        for (int objects = 0; objects < 2; objects++) {
            t = nested(lim, true, objects, &len);
            CHECK(zm_json_parse(a, t, len, &o, &doc, &e) == ZM_OK);
            zm_json *v = zm_json_doc_root(doc);
            size_t d = 0;
            while (zm_json_len(v) > 0)
                v = objects ? zm_json_member_at(v, 0)->value : zm_json_at(v, 0), d++;
            CHECK_EQ(d, objects ? lim : lim - 1);
            /* deep values write (iteratively) and compare equal to themselves */
            char *out;
            size_t olen;
            CHECK(zm_json_write(a, zm_json_doc_root(doc), 0, &out, &olen) == ZM_OK);
            CHECK(olen == len && memcmp(out, t, len) == 0);
            zm_free(a, out, olen + 1, 1);
            CHECK(zt_json_eq(zm_json_doc_root(doc), zm_json_doc_root(doc)));
            zm_json_doc_free(doc);
            free(t);
            t = nested(lim + 1, true, objects, &len);
            CHECK(zm_json_parse(a, t, len, &o, &doc, &e) == ZM_EDEPTH);
            CHECK_EQ(e.offset, objects ? 5 * lim : lim);
            free(t);
        }
    }
    /* A deep but permitted document, and scalars do not count as a level. */
    zm_json_parse_opts o = {0, 1, ZM_JSON_DUP_ERROR};
    CHECK(zm_json_parse(a, T("[1,\"a\",null]"), &o, &doc, NULL) == ZM_OK);
    zm_json_doc_free(doc);
    CHECK(zm_json_parse(a, T("[[]]"), &o, &doc, NULL) == ZM_EDEPTH);
    CHECK(zm_json_parse(a, T("7"), &o, &doc, NULL) == ZM_OK);
    zm_json_doc_free(doc);
}

/* ---------------------------------------------------------------------------
 * Truncation at every offset
 * ------------------------------------------------------------------------- */

/* A small document with every kind of token. */
static const char sample[] =
    "{\n  \"name\": \"zm\\u00e9m \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\",\n"
    "  \"utf8\": \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", \"pair\": \"\\ud83d\\ude00\",\n"
    "  \"ints\": [0, -1, 42, 9223372036854775807, -9223372036854775808, 12345678901234567890],\n"
    "  \"reals\": [0.5, -0.0, 1e10, 1.5E-7, 2.2250738585072014e-308, 1e999],\n"
    "  \"lits\": [true, false, null], \"empty\": [{}, [], \"\"],\n"
    "  \"nested\": {\"a\": {\"b\": {\"c\": [1, [2, [3, {\"d\": \"e\"}]]]}}}\n}\n";

/* Every prefix of text must be rejected cleanly (no leak, the right kind of
   error at or before the cut), except those holding the whole root value. */
static void truncate_all(const char *text, size_t len, size_t step) {
    size_t root_end = len;
    while (root_end > 0 && (text[root_end - 1] == '\n' || text[root_end - 1] == ' ' ||
                            text[root_end - 1] == '\r' || text[root_end - 1] == '\t'))
        root_end--;
    checked c;
    zm_allocator a = checked_init(&c);
    size_t bad = 0;
    for (size_t cut = 0; cut <= len; cut += (cut < 64 || len - cut < 64) ? 1 : step) {
        zm_json_doc *doc = NULL;
        zm_json_error e;
        zm_status st = zm_json_parse(a, text, cut, NULL, &doc, &e);
        bool want_ok = cut >= root_end;
        if ((st == ZM_OK) != want_ok || (st != ZM_OK && (st != ZM_ESYNTAX || e.offset > cut))) {
            if (bad++ < 5)
                fprintf(stderr, "cut %zu of %zu: status %d, offset %zu: %s\n", cut, len, (int)st,
                        e.offset, e.message);
        }
        zm_json_doc_free(doc);
        if (c.live != 0) bad++;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(c.misuse, 0);
    checked_deinit(&c);
}

/* xorshift64*, so runs are the same everywhere. */
static uint64_t rng = 88172645463325252u;
static uint64_t rnd(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1du;
}

/* Pretty text whose whitespace is then rewritten at random (runs dropped,
   stretched, made of tabs, CR LF, or a newline and many spaces, sometimes
   the same indentation as before and sometimes not; some put before a
   colon) parses to the same value: the parser's indentation guesses and
   shortcuts may be right or wrong anywhere. */
static void test_whitespace_styles(void) {
    zm_allocator a = zm_default_allocator();
    zm_json_doc *doc = NULL;
    CHECK(zm_json_parse(a, sample, sizeof sample - 1, NULL, &doc, NULL) == ZM_OK);
    zm_json *want = zm_json_doc_root(doc);
    uint32_t layouts[] = {ZM_JSON_WRITE_PRETTY, ZM_JSON_WRITE_PRETTY | ZM_JSON_WRITE_INDENT4};
    int rounds = zt_small() ? 20 : 300;
    for (int r = 0; r < rounds; r++) {
        char *pretty;
        size_t plen;
        CHECK(zm_json_write(a, want, layouts[r % 2], &pretty, &plen) == ZM_OK);
        char *t = malloc(plen * 8 + 64);
        size_t n = 0;
        bool in_str = false, esc = false;
        for (size_t i = 0; i < plen; i++) {
            char c = pretty[i];
            if (in_str) {
                t[n++] = c;
                if (esc)
                    esc = false;
                else if (c == '\\')
                    esc = true;
                else if (c == '"')
                    in_str = false;
                continue;
            }
            if (c == '"') in_str = true;
            if (c == ':') { /* whitespace before the colon too, as "key" : value */
                static const char *const before[] = {"", " ", " ", "  ", "\t", "\n ", " \r\n"};
                const char *b = before[rnd() % 7];
                while (*b) t[n++] = *b++;
            }
            if (c != ' ' && c != '\n') {
                t[n++] = c;
                continue;
            }
            switch (rnd() % 16) {
            case 0: break;                /* dropped */
            case 1: t[n++] = '\t'; break; /* a tab */
            case 2:
                t[n++] = '\r';
                t[n++] = '\n';
                break; /* CR LF */
            case 3:
                for (int k = 0; k < 20; k++) t[n++] = ' ';
                break; /* long */
            case 4:
                t[n++] = '\n';
                for (int k = 0; k < 33; k++) t[n++] = ' ';
                break;
            case 5:
                t[n++] = c;
                t[n++] = '\t';
                break;
            default: t[n++] = c; break; /* as it was */
            }
        }
        zm_json_doc *got = NULL;
        zm_json_error e;
        zm_status st = zm_json_parse(a, t, n, NULL, &got, &e);
        if (st != ZM_OK) fprintf(stderr, "round %d: %s\n", r, e.message);
        CHECK(st == ZM_OK && zt_json_eq(zm_json_doc_root(got), want));
        zm_json_doc_free(got);
        free(t);
        zm_free(a, pretty, plen + 1, 1);
    }
    zm_json_doc_free(doc);
}

static const char *data_dir;

static void test_truncation(void) {
    truncate_all(sample, sizeof sample - 1, 1);
    /* The data set is part of the test: without it the test fails. */
    if (data_dir == NULL) {
        fprintf(stderr, "no benchmark data directory given (the first argument)\n");
        CHECK(data_dir != NULL);
        return;
    }
    size_t len;
    char *t = slurp(data_dir, "github_events.json", &len);
    if (t == NULL) {
        fprintf(stderr, "cannot read %s/github_events.json\n", data_dir);
        CHECK(t != NULL);
        return;
    }
    truncate_all(t, len, zt_small() ? 997 : 1);
    free(t);
}

/* ---------------------------------------------------------------------------
 * Arenas and arguments
 * ------------------------------------------------------------------------- */

static void test_arena_rewind(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_json *keep = NULL, *r = NULL;
    CHECK(zm_json_parse_arena(&ar, T("{\"keep\":[1,2,3]}"), NULL, &keep, NULL) == ZM_OK);
    size_t used = zm_arena_used(&ar);
    /* a failure far into a big document leaves the arena where it was */
    size_t n = 200000;
    char *t = malloc(n + 8);
    t[0] = '[';
    for (size_t i = 1; i < n; i += 2) t[i] = '1', t[i + 1] = ',';
    t[n] = 'x';
    CHECK(zm_json_parse_arena(&ar, t, n + 1, NULL, &r, NULL) == ZM_ESYNTAX);
    CHECK(r == NULL);
    CHECK_EQ(zm_arena_used(&ar), used);
    CHECK_EQ(zm_json_int(zm_json_at(zm_json_get(keep, "keep"), 2)), 3);
    free(t);
    /* arguments */
    zm_json_doc *doc;
    CHECK(zm_json_parse_arena(NULL, T("1"), NULL, &r, NULL) == ZM_EINVAL);
    CHECK(zm_json_parse_arena(&ar, T("1"), NULL, NULL, NULL) == ZM_EINVAL);
    CHECK(zm_json_parse(zm_default_allocator(), NULL, 5, NULL, &doc, NULL) == ZM_EINVAL);
    CHECK(zm_json_parse(zm_default_allocator(), T("1"), NULL, NULL, NULL) == ZM_EINVAL);
    CHECK(zm_json_parse(zm_default_allocator(), NULL, 0, NULL, &doc, NULL) == ZM_ESYNTAX);
    zm_arena_deinit(&ar);
}

/* ---------------------------------------------------------------------------
 * The failing-allocator sweep
 * ------------------------------------------------------------------------- */

typedef struct sweep_arg {
    const char *text;
    size_t len;
} sweep_arg;

static zm_status sw_parse(zm_allocator a, void *arg) {
    sweep_arg *s = arg;
    zm_json_doc *doc = NULL;
    zm_status st = zm_json_parse(a, s->text, s->len, NULL, &doc, NULL);
    if (st == ZM_OK && zm_json_doc_root(doc) == NULL) st = ZM_EINTERNAL;
    zm_json_doc_free(doc);
    return st;
}

static zm_status sw_parse_arena(zm_allocator a, void *arg) {
    sweep_arg *s = arg;
    zm_arena ar;
    zm_arena_init_sized(&ar, a, 256); /* small blocks: many allocations */
    zm_json *r = NULL;
    zm_status st = zm_json_parse_arena(&ar, s->text, s->len, NULL, &r, NULL);
    if (st != ZM_OK && zm_arena_used(&ar) != 0) st = ZM_EINTERNAL;
    zm_arena_deinit(&ar);
    return st;
}

static void test_sweep(void) {
    /* deep enough and wide enough that the scratch stacks grow onto the heap */
    size_t cap = 64 * 1024, n = 0;
    char *t = malloc(cap);
    n += (size_t)sprintf(t + n, "{\"list\":[");
    for (int k = 0; k < 1500; k++) n += (size_t)sprintf(t + n, "%s%d", k ? "," : "", k);
    n += (size_t)sprintf(t + n, "],\"deep\":");
    for (int k = 0; k < 200; k++) t[n++] = '[';
    for (int k = 0; k < 200; k++) t[n++] = ']';
    n += (size_t)sprintf(t + n, ",\"obj\":{");
    for (int k = 0; k < 40; k++)
        n += (size_t)sprintf(t + n, "%s\"k%d\":\"v\\n%d\"", k ? "," : "", k, k);
    n += (size_t)sprintf(t + n, "},\"big\":123456789012345678901234567890}");
    sweep_arg s = {t, n};
    /* short arrays of reals, read by a path of their own; the last one, too
       long for it, is handed over when the scratch stack (still on the C
       stack) is nearly full */
    char *r = malloc(cap);
    size_t rn = (size_t)sprintf(r, "[");
    for (int k = 0; k < 1010; k++) rn += (size_t)sprintf(r + rn, "[%d.5,-%d.25],", k, k);
    rn += (size_t)sprintf(r + rn, "[0.5");
    for (int k = 0; k < 20; k++) rn += (size_t)sprintf(r + rn, ",%d", k);
    rn += (size_t)sprintf(r + rn, "]]");
    sweep_arg reals = {r, rn};
    CHECK(ck_sweep("parse reals", sw_parse, &reals) >= 2);
    CHECK(ck_sweep("parse_arena reals", sw_parse_arena, &reals) > 2);
    /* a long array of reals with an integer in every 50 items, read by a run of
       their own that bumps their nodes from the arena's block in a register */
    rn = (size_t)sprintf(r, "[0.5");
    for (int k = 0; k < 600; k++) rn += (size_t)sprintf(r + rn, k % 50 ? ",-%d.125" : ",%d", k);
    rn += (size_t)sprintf(r + rn, "]");
    sweep_arg run = {r, rn};
    CHECK(ck_sweep("parse long reals", sw_parse, &run) >= 2);
    CHECK(ck_sweep("parse_arena long reals", sw_parse_arena, &run) > 2);
    free(r);
    CHECK(ck_sweep("parse", sw_parse, &s) >= 2);
    CHECK(ck_sweep("parse_arena", sw_parse_arena, &s) > 3);
    sweep_arg small = {sample, sizeof sample - 1};
    CHECK(ck_sweep("parse sample", sw_parse, &small) >= 1);
    CHECK(ck_sweep("parse_arena sample", sw_parse_arena, &small) >= 2);
    free(t);
}

int main(int argc, char **argv) {
    data_dir = argc > 1 ? argv[1] : NULL;
    RUN(test_depth);
    RUN(test_truncation);
    RUN(test_whitespace_styles);
    RUN(test_arena_rewind);
    RUN(test_sweep);
    return zt_finish("json_parse_limits");
}
