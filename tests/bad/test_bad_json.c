/* Bad input to the JSON parser: deep nesting, a 1 GiB document under a memory
   limit, invalid UTF-8 of every class, a document truncated at every byte,
   NUL bytes inside and outside strings. Whatever the input, the parser
   answers with a status (never a crash), leaves nothing allocated when it
   fails, and stays within the memory its allocator allows.

   Arguments: the sample document, then at least one more real document to
   truncate (the test passes files of ../shared/bench-data; one that cannot
   be read is a failure). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

#include "bad.h"
#include "zmem/json.h"
#include "zmem/stats.h"
#include "json_eq.h"

static const char *sample_path;
static const char *extra_paths[8];
static int n_extra;

/* Parses text with opts (NULL = strict) through a budget allocator without a
   limit; returns the status, fills *err, and checks that a failure leaves
   nothing allocated and no document. */
static zm_status parse_status(const char *text, size_t len, const zm_json_parse_opts *opts,
                              zm_json_error *err) {
    budget b;
    zm_allocator a = budget_init(&b, SIZE_MAX);
    zm_json_doc *doc = NULL;
    zm_status st = zm_json_parse(a, text, len, opts, &doc, err);
    if (st == ZM_OK) {
        CHECK(doc != NULL);
        zm_json_doc_free(doc);
    } else {
        CHECK(doc == NULL);
        CHECK_EQ(err->status, st);
        CHECK(err->offset <= len);
    }
    CHECK_EQ(b.live, 0);
    CHECK_EQ(b.blocks, 0);
    return st;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* ---------------------------------------------------------------------------
 * Deep nesting
 * ------------------------------------------------------------------------- */

static char *repeat(const char *unit, size_t times, const char *tail, size_t *len) {
    size_t u = strlen(unit), t = strlen(tail);
    char *s = malloc(u * times + t + 1);
    if (s == NULL) return NULL;
    for (size_t i = 0; i < times; i++) memcpy(s + i * u, unit, u);
    memcpy(s + u * times, tail, t + 1);
    *len = u * times + t;
    return s;
}

static void test_deep_nesting(void) {
    const size_t n = 1000000;
    size_t len;
    zm_json_error err;

    /* A million '[': the default depth limit stops it at the first bracket
       past the limit. */
    char *s = repeat("[", n, "", &len);
    CHECK(s != NULL);
    CHECK_EQ(parse_status(s, len, NULL, &err), ZM_EDEPTH);
    CHECK_EQ(err.offset, ZM_JSON_DEFAULT_MAX_DEPTH);
    free(s);

    /* Closed, a million deep. */
    s = malloc(2 * n + 1);
    memset(s, '[', n);
    memset(s + n, ']', n);
    CHECK_EQ(parse_status(s, 2 * n, NULL, &err), ZM_EDEPTH);

    /* Exactly at the limit parses; one more does not. */
    zm_json_parse_opts opts = {0};
    opts.max_depth = 1000;
    CHECK_EQ(parse_status(s + n - 1000, 2000, &opts, &err), ZM_OK);
    CHECK_EQ(parse_status(s + n - 1001, 2002, &opts, &err), ZM_EDEPTH);
    free(s);

    /* Objects, and a mix, a million deep. */
    s = repeat("{\"a\":", n, "1", &len);
    CHECK_EQ(parse_status(s, len, NULL, &err), ZM_EDEPTH);
    free(s);
    s = repeat("[{\"k\":", n / 2, "", &len);
    CHECK_EQ(parse_status(s, len, NULL, &err), ZM_EDEPTH);
    free(s);

    /* The same into a caller's arena: it is rewound. */
    s = repeat("[", n, "", &len);
    budget b;
    zm_arena ar;
    zm_arena_init(&ar, budget_init(&b, SIZE_MAX));
    zm_json *root = NULL;
    CHECK_EQ(zm_json_parse_arena(&ar, s, len, NULL, &root, &err), ZM_EDEPTH);
    CHECK_EQ(zm_arena_used(&ar), 0);
    zm_arena_deinit(&ar);
    CHECK_EQ(b.live, 0);
    free(s);
}

/* A million deep with the limit raised to allow it: parsed, written, compared,
   copied and freed on a thread with a 256 KiB stack, where any recursion
   per level would overflow. */
static void *deep_work(void *arg) {
    size_t n = *(size_t *)arg;
    char *s = malloc(2 * n);
    if (s == NULL) return NULL;
    memset(s, '[', n);
    memset(s + n, ']', n);
    budget b;
    zm_allocator a = budget_init(&b, SIZE_MAX);
    zm_json_parse_opts opts = {0};
    opts.max_depth = (uint32_t)n;
    zm_json_doc *d = NULL;
    zm_json_error err;
    CHECK_EQ(zm_json_parse(a, s, 2 * n, &opts, &d, &err), ZM_OK);
    if (d != NULL) {
        zm_json *root = zm_json_doc_root(d);
        char *out = NULL;
        size_t out_len = 0;
        CHECK_EQ(zm_json_write(a, root, 0, &out, &out_len), ZM_OK);
        CHECK(out_len == 2 * n && out != NULL && memcmp(out, s, 2 * n) == 0);
        if (out) zm_free(a, out, out_len + 1, 1);
        zm_json *copy = NULL;
        CHECK_EQ(zm_json_clone(a, root, &copy), ZM_OK);
        CHECK(zt_json_eq(root, copy));
        zm_json_free(a, copy);
        zm_json_doc_free(d);
    }
    CHECK_EQ(b.live, 0);
    free(s);
    return NULL;
}

static void test_deep_allowed(void) {
    size_t n = zt_small() ? 100000 : 1000000;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)256 << 10);
    pthread_t t;
    CHECK(pthread_create(&t, &attr, deep_work, &n) == 0);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
}

/* ---------------------------------------------------------------------------
 * A 1 GiB document under a memory limit
 * ------------------------------------------------------------------------- */

/* Maps size bytes and fills them with a valid JSON document: an array of
   unit (which ends with a comma) repeated, closed, padded with spaces. */
static char *map_document(size_t size, const char *unit) {
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    size_t u = strlen(unit);
    size_t body_end = 1 + (size - 2) / u * u;
    p[0] = '[';
    memcpy(p + 1, unit, u);
    size_t at = 1 + u;
    /* Double what is there until the body is full. */
    while (at < body_end) {
        size_t n = at - 1 < body_end - at ? at - 1 : body_end - at;
        memcpy(p + at, p + 1, n);
        at += n;
    }
    p[body_end - 1] = ']'; /* the last comma closes the array */
    memset(p + body_end, ' ', size - body_end);
    return p;
}

/* Parses a document of size bytes under a limit of limit bytes (a zm_stats
   with limit_bytes over a budget allocator that counts what is live): the
   answer is ZM_ENOMEM or ZM_ELIMIT, the limit holds, nothing stays allocated,
   and the resident set does not grow past what the limit allows. */
static void big_document(size_t size, size_t limit, const char *unit, const char *what) {
    char *doc = map_document(size, unit);
    CHECK(doc != NULL);
    if (doc == NULL) return;
    peak_rss_reset();
    size_t rss_before = peak_rss();
    budget b;
    zm_stats st;
    zm_stats_init(&st, budget_init(&b, SIZE_MAX), limit);
    zm_allocator a = zm_stats_allocator(&st);
    zm_json_doc *d = NULL;
    zm_json_error err;
    zm_status rc = zm_json_parse(a, doc, size, NULL, &d, &err);
    if (rc != ZM_ENOMEM && rc != ZM_ELIMIT)
        fprintf(stderr, "%s: parse of %zu bytes under a %zu-byte limit gave %s\n", what, size,
                limit, zm_status_name(rc));
    CHECK(rc == ZM_ENOMEM || rc == ZM_ELIMIT);
    CHECK(d == NULL);
    if (d) zm_json_doc_free(d);
    /* The same into a caller's arena over the limit. */
    zm_arena ar;
    zm_arena_init(&ar, a);
    zm_json *root = NULL;
    rc = zm_json_parse_arena(&ar, doc, size, NULL, &root, &err);
    CHECK(rc == ZM_ENOMEM || rc == ZM_ELIMIT);
    zm_arena_deinit(&ar);
    zm_memory_stats ms;
    zm_stats_snapshot(&st, &ms);
    CHECK(ms.peak_bytes <= limit);
    CHECK_EQ(ms.active_bytes, 0);
    CHECK_EQ(b.live, 0);
    /* Memory the parser took beside its allocator shows in the resident set. */
    /* Slack: the allocator's own overhead (ASan's shadow is an eighth). */
    size_t grew = peak_rss() - rss_before, slack = limit / 8 + ((size_t)64 << 20);
    if (grew > limit + slack)
        fprintf(stderr, "%s: the resident set grew by %zu MiB under a %zu MiB limit\n", what,
                grew >> 20, limit >> 20);
    CHECK(grew <= limit + slack);
    munmap(doc, size);
}

static void test_big_document(void) {
    size_t size = zt_small() ? (size_t)16 << 20 : (size_t)1 << 30;
    size_t limit = zt_small() ? (size_t)2 << 20 : (size_t)64 << 20;
    big_document(size, limit, "{\"id\":12345,\"name\":\"item\",\"tags\":[\"a\",\"b\"],\"x\":0.5},",
                 "objects");
    big_document(size, limit, "\"abcdefghijklmnopqrstuvwxyz0123456789\",", "strings");
    big_document(size, limit, "1,", "integers");
    /* Room for the text but not for its tree: the parse fails part way. */
    big_document(size, size + size / 2,
                 "{\"id\":12345,\"name\":\"item\",\"tags\":[\"a\",\"b\"],\"x\":0.5},",
                 "objects, failing part way");
}

/* One string or one number as long as the whole document: refused under a
   limit too small for it, parsed with room, and nothing left either way. */
static void test_big_scalar(void) {
    size_t size = zt_small() ? (size_t)8 << 20 : (size_t)128 << 20;
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    if (p == MAP_FAILED) return;
    const char *what[] = {"string", "integer", "fraction"};
    for (int k = 0; k < 3; k++) {
        if (k == 0) {
            memset(p, 'x', size);
            p[0] = '"';
            p[size - 1] = '"';
        } else {
            memset(p, '7', size);
            if (k == 2) p[1] = '.';
        }
        budget b;
        zm_stats st;
        zm_stats_init(&st, budget_init(&b, SIZE_MAX), size / 2);
        zm_json_doc *d = NULL;
        zm_json_error err;
        zm_status rc = zm_json_parse(zm_stats_allocator(&st), p, size, NULL, &d, &err);
        CHECK(rc == ZM_ENOMEM || rc == ZM_ELIMIT);
        CHECK_EQ(b.live, 0);

        rc = zm_json_parse(budget_init(&b, SIZE_MAX), p, size, NULL, &d, &err);
        if (rc != ZM_OK)
            fprintf(stderr, "a %zu-byte %s gave %s\n", size, what[k], zm_status_name(rc));
        CHECK_EQ(rc, ZM_OK);
        if (rc == ZM_OK) {
            zm_json *v = zm_json_doc_root(d);
            CHECK(k == 0 ? zm_json_is_string(v) && zm_json_len(v) == 0 : zm_json_is_number(v));
            zm_json_doc_free(d);
        }
        CHECK_EQ(b.live, 0);
    }
    munmap(p, size);
}

/* ---------------------------------------------------------------------------
 * Invalid UTF-8, every class
 * ------------------------------------------------------------------------- */

typedef struct utf8_case {
    const char *what;
    const char *bytes;
} utf8_case;

static const utf8_case bad_utf8[] = {
    {"lone continuation byte 0x80", "\x80"},
    {"lone continuation byte 0xBF", "\xBF"},
    {"overlong 2-byte NUL", "\xC0\x80"},
    {"overlong 2-byte 0xC1", "\xC1\xBF"},
    {"overlong 3-byte (low)", "\xE0\x80\x80"},
    {"overlong 3-byte (high)", "\xE0\x9F\xBF"},
    {"overlong 4-byte (low)", "\xF0\x80\x80\x80"},
    {"overlong 4-byte (high)", "\xF0\x8F\xBF\xBF"},
    {"UTF-16 high surrogate as UTF-8", "\xED\xA0\x80"},
    {"UTF-16 low surrogate as UTF-8", "\xED\xBF\xBF"},
    {"surrogate pair as UTF-8", "\xED\xA0\xBD\xED\xB8\x80"},
    {"above U+10FFFF", "\xF4\x90\x80\x80"},
    {"lead byte 0xF5", "\xF5\x80\x80\x80"},
    {"lead byte 0xF7", "\xF7\xBF\xBF\xBF"},
    {"5-byte sequence", "\xF8\x88\x80\x80\x80"},
    {"6-byte sequence", "\xFC\x84\x80\x80\x80\x80"},
    {"byte 0xFE", "\xFE"},
    {"byte 0xFF", "\xFF"},
    {"truncated 2-byte", "\xC3"},
    {"truncated 3-byte", "\xE2\x82"},
    {"truncated 4-byte", "\xF0\x9F\x98"},
    {"2-byte with ASCII continuation", "\xC3\x41"},
    {"3-byte with bad middle", "\xE2\x28\xA1"},
    {"3-byte with bad last", "\xE2\x82\x28"},
    {"4-byte with bad second", "\xF0\x28\x8C\xBC"},
    {"4-byte with bad last", "\xF0\x90\x8C\x28"},
    {"continuation after complete", "\xC3\xA9\xA9"},
};

static const utf8_case good_utf8[] = {
    {"U+0080", "\xC2\x80"},           {"U+07FF", "\xDF\xBF"},
    {"U+0800", "\xE0\xA0\x80"},       {"U+D7FF", "\xED\x9F\xBF"},
    {"U+E000", "\xEE\x80\x80"},       {"U+FFFD", "\xEF\xBF\xBD"},
    {"U+FFFF", "\xEF\xBF\xBF"},       {"U+10000", "\xF0\x90\x80\x80"},
    {"U+10FFFF", "\xF4\x8F\xBF\xBF"}, {"U+1F600", "\xF0\x9F\x98\x80"},
};

static void test_utf8(void) {
    char text[64];
    zm_json_error err;
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof *bad_utf8; i++) {
        const utf8_case *c = &bad_utf8[i];
        size_t n = strlen(c->bytes);
        /* In a string value, in a key, at the end of a string, and outside. */
        const char *forms[] = {"[\"ab%sc\"]", "{\"k%s\":1}", "[\"%s\"]", "[%s]", "%s"};
        for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
            int len = snprintf(text, sizeof text, forms[f], c->bytes);
            zm_status st = parse_status(text, (size_t)len, NULL, &err);
            if (st != ZM_ESYNTAX)
                fprintf(stderr, "invalid UTF-8 (%s) in form %zu gave %s\n", c->what, f,
                        zm_status_name(st));
            CHECK_EQ(st, ZM_ESYNTAX);
            size_t at = (size_t)(strstr(text, c->bytes) - text);
            if (st == ZM_ESYNTAX && err.offset > at + n) {
                fprintf(stderr, "invalid UTF-8 (%s) at %zu reported at %zu\n", c->what, at,
                        err.offset);
                CHECK(err.offset <= at + n);
            }
        }
        /* Cut off right after the sequence: still an error, never a read past
           the end. */
        int len = snprintf(text, sizeof text, "[\"%s", c->bytes);
        char *exact = malloc((size_t)len);
        memcpy(exact, text, (size_t)len);
        CHECK_EQ(parse_status(exact, (size_t)len, NULL, &err), ZM_ESYNTAX);
        free(exact);
    }
    for (size_t i = 0; i < sizeof good_utf8 / sizeof *good_utf8; i++) {
        const utf8_case *c = &good_utf8[i];
        int len = snprintf(text, sizeof text, "[\"%s\"]", c->bytes);
        budget b;
        zm_json_doc *d = NULL;
        zm_status st = zm_json_parse(budget_init(&b, SIZE_MAX), text, (size_t)len, NULL, &d, &err);
        if (st != ZM_OK) fprintf(stderr, "valid UTF-8 %s refused: %s\n", c->what, err.message);
        CHECK_EQ(st, ZM_OK);
        if (st == ZM_OK) {
            size_t sl;
            const char *s = zm_json_str(zm_json_at(zm_json_doc_root(d), 0), &sl);
            CHECK(s != NULL && sl == strlen(c->bytes) && memcmp(s, c->bytes, sl) == 0);
            zm_json_doc_free(d);
        }
        CHECK_EQ(b.live, 0);
    }

    /* Escapes: surrogates must pair, unless lone ones are allowed. */
    CHECK_EQ(parse_status("[\"\\ud83d\\ude00\"]", 16, NULL, &err), ZM_OK);
    CHECK_EQ(parse_status("[\"\\ud800\"]", 10, NULL, &err), ZM_ESYNTAX);
    CHECK_EQ(parse_status("[\"\\udc00\"]", 10, NULL, &err), ZM_ESYNTAX);
    CHECK_EQ(parse_status("[\"\\ud800\\u0041\"]", 16, NULL, &err), ZM_ESYNTAX);
    CHECK_EQ(parse_status("[\"\\ude00\\ud83d\"]", 16, NULL, &err), ZM_ESYNTAX);
    CHECK_EQ(parse_status("[\"\\ud800", 8, NULL, &err), ZM_ESYNTAX);
    CHECK_EQ(parse_status("[\"\\u12\"]", 8, NULL, &err), ZM_ESYNTAX);
    CHECK_EQ(parse_status("[\"\\uZZZZ\"]", 10, NULL, &err), ZM_ESYNTAX);
    zm_json_parse_opts lone = {0};
    lone.flags = ZM_JSON_ALLOW_LONE_SURROGATES;
    CHECK_EQ(parse_status("[\"\\ud800\"]", 10, &lone, &err), ZM_OK);

    /* A byte order mark only when allowed. */
    CHECK_EQ(parse_status("\xEF\xBB\xBF[1]", 6, NULL, &err), ZM_ESYNTAX);
    zm_json_parse_opts bom = {0};
    bom.flags = ZM_JSON_ALLOW_BOM;
    CHECK_EQ(parse_status("\xEF\xBB\xBF[1]", 6, &bom, &err), ZM_OK);
    CHECK_EQ(parse_status("\xEF\xBB[1]", 5, &bom, &err), ZM_ESYNTAX);
}

/* ---------------------------------------------------------------------------
 * A real document truncated at every byte offset
 * ------------------------------------------------------------------------- */

static void truncate_everywhere(const char *path, size_t max_len) {
    size_t len = 0;
    char *doc = read_file(path, &len);
    if (doc == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        CHECK(doc != NULL);
        return;
    }
    /* The whole file is a valid document, so that every cut below is a
       truncation of valid JSON. */
    zm_json_error err;
    zm_status whole = parse_status(doc, len, NULL, &err);
    if (whole != ZM_OK)
        fprintf(stderr, "%s does not parse: %s at byte %zu\n", path, err.message, err.offset);
    CHECK_EQ(whole, ZM_OK);
    if (len > max_len) len = max_len; /* a prefix is a truncated document too */
    size_t end = len;
    while (end > 0 && strchr(" \t\r\n", doc[end - 1])) end--;
    size_t bad = 0;
    for (size_t k = 0; k < end; k++) {
        /* An exact copy, so that a read past the end is caught. */
        char *cut = malloc(k ? k : 1);
        memcpy(cut, doc, k);
        zm_status st = parse_status(cut, k, NULL, &err);
        free(cut);
        /* Only a whole top-level scalar could be a valid prefix; the files
           here are objects and arrays. */
        if (st != ZM_ESYNTAX) {
            if (bad++ < 5)
                fprintf(stderr, "%s cut at %zu of %zu gave %s\n", path, k, len, zm_status_name(st));
        }
    }
    CHECK_EQ(bad, 0);
    free(doc);
}

static void test_truncated(void) {
    truncate_everywhere(sample_path, SIZE_MAX);
    /* Real documents from ../shared/bench-data (a missing one is a failure):
       each parses whole, and its first 16 KiB (1 KiB under valgrind) are cut
       at every byte. */
    CHECK(n_extra > 0);
    for (int i = 0; i < n_extra; i++)
        truncate_everywhere(extra_paths[i], zt_small() ? (size_t)1 << 10 : (size_t)16 << 10);
}

/* ---------------------------------------------------------------------------
 * NUL bytes inside strings and outside them
 * ------------------------------------------------------------------------- */

static void test_nul(void) {
    zm_json_error err;
    /* A raw NUL is a control character: not allowed in a string. */
    CHECK_EQ(parse_status("[\"a\0b\"]", 7, NULL, &err), ZM_ESYNTAX);
    CHECK_EQ(err.offset, 3);
    CHECK_EQ(parse_status("{\"a\0\":1}", 8, NULL, &err), ZM_ESYNTAX);

    /* Outside strings, anywhere: an error at the NUL, never the end of text. */
    static const struct {
        const char *text;
        size_t len, at;
    } outside[] = {
        {"\0", 1, 0},          {"[1]\0", 4, 3},       {"\0[1]", 4, 0},  {"[1,\0 2]", 7, 3},
        {"{\"a\"\0:1}", 8, 4}, {"[tr\0ue]", 7, 1},    {"1\0", 2, 1},    {"[1]\0[2]", 7, 3},
        {"[\"x\" \0]", 7, 5},  {"{\"a\":1\0}", 8, 6}, {"  \0  ", 5, 2}, {"-\0", 2, 1},
    };
    for (size_t i = 0; i < sizeof outside / sizeof *outside; i++) {
        zm_status st = parse_status(outside[i].text, outside[i].len, NULL, &err);
        if (st != ZM_ESYNTAX || err.offset != outside[i].at)
            fprintf(stderr, "NUL case %zu: %s at %zu, expected ESYNTAX at %zu\n", i,
                    zm_status_name(st), err.offset, outside[i].at);
        CHECK_EQ(st, ZM_ESYNTAX);
        CHECK_EQ(err.offset, outside[i].at);
    }

    /* Escaped, NUL is an ordinary character, in values and keys. */
    const char *text = "{\"k\\u0000x\":\"a\\u0000b\",\"k\":[\"\\u0000\"]}";
    budget b;
    zm_allocator a = budget_init(&b, SIZE_MAX);
    zm_json_doc *d = NULL;
    CHECK_EQ(zm_json_parse(a, text, strlen(text), NULL, &d, &err), ZM_OK);
    if (d != NULL) {
        zm_json *root = zm_json_doc_root(d);
        size_t n;
        const char *s = zm_json_str(zm_json_getn(root, "k\0x", 3), &n);
        CHECK(s != NULL && n == 3 && memcmp(s, "a\0b", 3) == 0);
        CHECK(zm_json_is_array(zm_json_get(root, "k")));
        CHECK_EQ(zm_json_len(root), 2);
        s = zm_json_str(zm_json_at(zm_json_get(root, "k"), 0), &n);
        CHECK(s != NULL && n == 1 && s[0] == '\0');
        /* And it writes back as an escape, and reads back the same. */
        char *out;
        size_t out_len;
        CHECK_EQ(zm_json_write(a, root, 0, &out, &out_len), ZM_OK);
        CHECK(memchr(out, '\0', out_len) == NULL);
        zm_json_doc *d2 = NULL;
        CHECK_EQ(zm_json_parse(a, out, out_len, NULL, &d2, &err), ZM_OK);
        CHECK(zt_json_eq(root, zm_json_doc_root(d2)));
        zm_json_doc_free(d2);
        zm_free(a, out, out_len + 1, 1);
        zm_json_doc_free(d);
    }
    CHECK_EQ(b.live, 0);
}

int main(int argc, char **argv) {
    sample_path = argc > 1 ? argv[1] : "sample.json";
    for (int i = 2; i < argc && n_extra < 8; i++) extra_paths[n_extra++] = argv[i];
    RUN(test_deep_nesting);
    RUN(test_deep_allowed);
    RUN(test_utf8);
    RUN(test_nul);
    RUN(test_truncated);
    RUN(test_big_document);
    RUN(test_big_scalar);
    return zt_finish("bad_json");
}
