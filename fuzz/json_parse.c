/* Fuzz harness: the JSON parser and writer.
 *
 * Input: three bytes of options (parse flags; duplicate-key mode and depth
 * limit; write flags), then the text. Checks:
 *  - a failed parse leaves nothing allocated, no document, and an error whose
 *    status, offset, line and column make sense; the same text parsed into a
 *    caller's arena fails the same way and rewinds the arena;
 *  - a document that parses writes (compact, pretty, ASCII) as text that parses
 *    again to an equal value, and writing that value gives the same bytes
 *    (the writer is a fixed point); the stream writer gives the same bytes;
 *  - a document that is a single number reads as strtod reads it (correctly
 *    rounded) and is written with no more digits than needed;
 *  - every block taken is given back with its exact length and alignment:
 *    the debug allocator sees no leak, no overrun and no misuse, over a
 *    tracking allocator that sees the debug allocator's own tables go too.
 */
#include <math.h>
#include <stdbool.h>

#include "fuzz_common.h"
#include "zmem/debug.h"
#include "zmem/json.h"

typedef struct membuf {
    char *p;
    size_t len, cap;
} membuf;

static zm_status mem_sink(void *ctx, const char *data, size_t len) {
    membuf *m = ctx;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 256;
        while (cap < m->len + len) cap *= 2;
        char *np = realloc(m->p, cap);
        if (np == NULL) return ZM_ENOMEM;
        m->p = np;
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, len);
    m->len += len;
    return ZM_OK;
}

static bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The text of a lone JSON number in text (surrounding whitespace trimmed), or
   false when text holds anything else. */
static bool lone_number(const char *text, size_t len, char *buf, size_t cap) {
    size_t i = 0, j = len;
    while (i < j && is_ws(text[i])) i++;
    while (j > i && is_ws(text[j - 1])) j--;
    if (j == i || j - i >= cap) return false;
    for (size_t k = i; k < j; k++) {
        char c = text[k];
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
            return false;
    }
    memcpy(buf, text + i, j - i);
    buf[j - i] = '\0';
    return true;
}

/* Significant digits of a written number ("-1.25e+3" has 3). */
static int sig_digits(const char *s, size_t len) {
    char d[64];
    int n = 0;
    for (size_t i = 0; i < len && s[i] != 'e' && s[i] != 'E'; i++)
        if (s[i] >= '0' && s[i] <= '9' && n < 63) d[n++] = s[i];
    int a = 0, b = n;
    while (a < b && d[a] == '0') a++;
    while (b > a && d[b - 1] == '0') b--;
    return b > a ? b - a : 1;
}

/* The fewest significant digits with which %.*e reads back to v. */
static int shortest_digits(double v) {
    char buf[64];
    for (int p = 0; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p, v);
        if (strtod(buf, NULL) == v) return p + 1;
    }
    return 17;
}

static void check_number(const char *text, size_t len, const zm_json *root, const char *out,
                         size_t out_len) {
    char num[512];
    if (!lone_number(text, len, num, sizeof num)) return;
    if (zm_json_typeof(root) == ZM_JSON_REAL) {
        double want = strtod(num, NULL), got = zm_json_real(root);
        FZ_CHECKF(memcmp(&want, &got, sizeof got) == 0 || (isnan(want) && isnan(got)),
                  "number %s read as %.17g, strtod reads %.17g", num, got, want);
        if (isfinite(got)) {
            int have = sig_digits(out, out_len), need = shortest_digits(got);
            FZ_CHECKF(have <= need, "%s written as %.*s: %d digits where %d do", num, (int)out_len,
                      out, have, need);
        }
    } else if (zm_json_typeof(root) == ZM_JSON_INT) {
        long long want = strtoll(num, NULL, 10);
        FZ_CHECKF(zm_json_int(root) == want, "integer %s read as %lld", num,
                  (long long)zm_json_int(root));
    }
}

static void check_error(zm_status st, const zm_json_error *err, const char *text, size_t len) {
    FZ_CHECKF(st == ZM_ESYNTAX || st == ZM_EDEPTH || st == ZM_ELIMIT,
              "parse failed with %s without an allocation failing", zm_status_name(st));
    FZ_CHECKF(err->status == st, "error status %s, returned %s", zm_status_name(err->status),
              zm_status_name(st));
    FZ_CHECKF(err->offset <= len, "error offset %zu past the end (%zu)", err->offset, len);
    FZ_CHECK(memchr(err->message, '\0', sizeof err->message) != NULL);
    FZ_CHECK(err->message[0] != '\0');
    /* an option that would accept the input: named by the field and by a note
       that ends the message, from note_at on */
    size_t mlen = strlen(err->message);
    FZ_CHECKF((err->option == ZM_JSON_OPTION_NONE) == (err->note_at == 0),
              "option %d with note_at %zu", (int)err->option, err->note_at);
    FZ_CHECKF(err->option == ZM_JSON_OPTION_NONE ||
                  (err->note_at < mlen && memcmp(err->message + err->note_at, " (", 2) == 0 &&
                   err->message[mlen - 1] == ')'),
              "option %d, note at %zu of \"%s\"", (int)err->option, err->note_at, err->message);
    size_t lines = 1;
    for (size_t i = 0; i < err->offset; i++) lines += text[i] == '\n';
    FZ_CHECKF(err->line >= 1 && err->line <= lines, "error line %zu at offset %zu (%zu lines)",
              err->line, err->offset, lines);
    FZ_CHECKF(err->column >= 1 && err->column <= err->offset + 1, "error column %zu at offset %zu",
              err->column, err->offset);
}

/* Checks that the run left nothing behind and misused nothing. */
static void finish(zm_debug *dbg, fz_track *t, const char *what) {
    FZ_CHECKF(dbg->counts.errors == 0, "%s: the debug allocator saw misuse: %s", what,
              dbg->first_error);
    FZ_CHECKF(dbg->live_blocks == 0, "%s: %zu block(s) (%zu bytes) leaked", what, dbg->live_blocks,
              dbg->live_bytes);
    FZ_CHECK(zm_debug_deinit(dbg) == 0);
    fz_track_finish(t, what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    uint8_t b0 = fz_u8(&in), b1 = fz_u8(&in), b2 = fz_u8(&in);
    zm_json_parse_opts opts = {0};
    opts.flags = b0 & 0x3f;
    opts.dup_keys = (zm_json_dup_mode)((b1 & 3) % 3);
    opts.max_depth = b1 >> 2; /* 0 = the default */
    uint32_t wflags = b2 & (ZM_JSON_WRITE_PRETTY | ZM_JSON_WRITE_INDENT4 | ZM_JSON_WRITE_ASCII);
    if (opts.flags & ZM_JSON_ALLOW_NAN_INF) wflags |= ZM_JSON_WRITE_NAN_INF;
    const char *text = (const char *)in.p;
    size_t len = in.n;

    fz_track t;
    zm_debug dbg;
    zm_debug_options dopts = zm_debug_defaults();
    dopts.out = NULL; /* counted, and reported below */
    zm_debug_init(&dbg, fz_track_init(&t, zm_c_allocator()), &dopts);
    zm_allocator a = zm_debug_allocator(&dbg);
    zm_json_doc *doc = NULL;
    zm_json_error err;
    memset(&err, 0, sizeof err);
    zm_status st = zm_json_parse(a, text, len, &opts, &doc, &err);

    /* The same text into a caller's arena. */
    zm_arena ar;
    zm_arena_init(&ar, a);
    zm_json *aroot = NULL;
    zm_json_error aerr;
    size_t used_before = zm_arena_used(&ar);
    zm_status ast = zm_json_parse_arena(&ar, text, len, &opts, &aroot, &aerr);
    FZ_CHECKF(ast == st, "parse gave %s, parse into an arena %s", zm_status_name(st),
              zm_status_name(ast));

    if (st != ZM_OK) {
        FZ_CHECK(doc == NULL);
        check_error(st, &err, text, len);
        FZ_CHECKF(aerr.offset == err.offset, "arena parse error at %zu, doc parse at %zu",
                  aerr.offset, err.offset);
        FZ_CHECK(zm_arena_used(&ar) == used_before);
        zm_arena_deinit(&ar);
        finish(&dbg, &t, "failed parse");
        return 0;
    }
    FZ_CHECK(doc != NULL);
    zm_json *root = zm_json_doc_root(doc);
    FZ_CHECK(fz_json_eq(root, aroot));
    zm_arena_deinit(&ar);

    char *out = NULL;
    size_t out_len = 0;
    st = zm_json_write(a, root, wflags, &out, &out_len);
    if (st == ZM_EINVAL) {
        /* Lone surrogates kept as WTF-8 are not UTF-8: the writer may refuse. */
        FZ_CHECKF(opts.flags & ZM_JSON_ALLOW_LONE_SURROGATES,
                  "a parsed document could not be written (EINVAL)");
        zm_json_doc_free(doc);
        finish(&dbg, &t, "unwritable document");
        return 0;
    }
    FZ_CHECKF(st == ZM_OK, "write failed: %s", zm_status_name(st));
    FZ_CHECK(out[out_len] == '\0');
    if (wflags & ZM_JSON_WRITE_ASCII)
        for (size_t i = 0; i < out_len; i++)
            FZ_CHECKF((unsigned char)out[i] < 0x80, "ASCII output holds byte %02x at %zu",
                      (unsigned char)out[i], i);
    if (!(wflags & ZM_JSON_WRITE_PRETTY)) check_number(text, len, root, out, out_len);

    /* The stream writer says the same. */
    membuf mb = {0};
    st = zm_json_write_stream(zm_default_allocator(), root, wflags, mem_sink, &mb);
    FZ_CHECKF(st == ZM_OK, "stream write failed: %s", zm_status_name(st));
    FZ_CHECKF(mb.len == out_len && memcmp(mb.p, out, out_len) == 0,
              "stream output differs from buffer output");
    free(mb.p);

    /* What was written reads back to an equal value, which writes the same. */
    zm_json_parse_opts ropts = {0};
    ropts.flags = opts.flags &
                  (ZM_JSON_ALLOW_NAN_INF | ZM_JSON_ALLOW_LONE_SURROGATES | ZM_JSON_NUMBERS_AS_TEXT);
    ropts.max_depth = opts.max_depth;
    zm_json_doc *doc2 = NULL;
    st = zm_json_parse(a, out, out_len, &ropts, &doc2, &err);
    FZ_CHECKF(st == ZM_OK, "written text does not parse: %s at %zu: %s\n%.*s", zm_status_name(st),
              err.offset, err.message, (int)(out_len < 300 ? out_len : 300), out);
    zm_json *root2 = zm_json_doc_root(doc2);
    FZ_CHECKF(fz_json_eq(root, root2), "written text reads back to a different value:\n%.*s",
              (int)(out_len < 300 ? out_len : 300), out);
    char *out2 = NULL;
    size_t out2_len = 0;
    st = zm_json_write(a, root2, wflags, &out2, &out2_len);
    FZ_CHECKF(st == ZM_OK, "rewrite failed: %s", zm_status_name(st));
    FZ_CHECKF(out2_len == out_len && memcmp(out, out2, out_len) == 0,
              "writing is not a fixed point:\n%.*s\n%.*s", (int)(out_len < 300 ? out_len : 300),
              out, (int)(out2_len < 300 ? out2_len : 300), out2);

    zm_free(a, out2, out2_len + 1, 1);
    zm_free(a, out, out_len + 1, 1);
    zm_json_doc_free(doc2);
    zm_json_doc_free(doc);
    finish(&dbg, &t, "parse and write");
    return 0;
}
