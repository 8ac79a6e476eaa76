/* UTF-8 validation: the span validator (16 bytes at a time where the
   processor allows) and the public zm_utf8_valid and zm_utf8_valid_prefix
   against an independent reference, for every 1-, 2- and 3-byte sequence
   and the 4-byte ones around every boundary, at every offset across block
   boundaries, and for random corruptions; the public functions on every
   class of error by name, in long runs and in large buffers; then the
   parser on long strings with an error at every position. */
#include "test.h"
#include "zmem/json.h"

/* The validators (internal to the library). */
bool zm__json_utf8_valid(const unsigned char *p, size_t n);
bool zm__json_utf8_valid_padded(const unsigned char *p, size_t n);

/* The reference: RFC 3629's table of well-formed byte sequences. Returns
   where the first ill-formed sequence starts, n when there is none. */
static size_t ref_prefix(const unsigned char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c <= 0x7F) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return i;
        }
        if (n - i < len) return i;
        if (p[i + 1] < lo || p[i + 1] > hi) return i;
        for (size_t k = 2; k < len; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
        i += len;
    }
    return n;
}

static size_t mismatches;

/* Checks the span [p, p+n) with every validator against the reference. The
   buffer holding it must have 16 readable bytes after it. */
static void check_span(const unsigned char *p, size_t n) {
    size_t want_len = ref_prefix(p, n);
    bool want = want_len == n;
    const char *s = (const char *)p;
    if (zm__json_utf8_valid(p, n) != want || zm__json_utf8_valid_padded(p, n) != want ||
        zm_utf8_valid(s, n) != want || zm_utf8_valid_prefix(s, n) != want_len) {
        if (mismatches++ < 5) {
            fprintf(stderr, "mismatch (want %d, prefix %zu) for", (int)want, want_len);
            for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %02x", p[i]);
            fprintf(stderr, "\n");
        }
    }
}

/* seq (k bytes) placed at offset off of an n-byte ASCII span, and the span
   cut right after it too. */
static void check_at(const unsigned char *seq, size_t k, size_t off, size_t n) {
    unsigned char buf[96];
    memset(buf, 'a', sizeof buf);
    memcpy(buf + off, seq, k);
    check_span(buf, n);
    check_span(buf, off + k);
    if (off + k > 0) check_span(buf, off + k - 1); /* truncated */
}

static void test_exhaustive(void) {
    unsigned char s[4];
    size_t offs[] = {0, 1, 13, 14, 15, 16, 29, 31};
    size_t noff = zt_small() ? 2 : 8;
    /* every 1- and 2-byte sequence, at every offset class */
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        for (size_t o = 0; o < 8; o++) check_at(s, 1, offs[o], 40);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            for (size_t o = 0; o < noff; o++) check_at(s, 2, offs[o], 40);
        }
    }
    /* every 3-byte sequence with a lead >= 0xC0 (the rest is covered by
       shorter ones), at two offsets; every 4-byte one with a lead 0xF0..0xF7
       and the next bytes from the interesting values */
    unsigned step = zt_small() ? 7 : 1;
    for (unsigned a = 0xC0; a < 256; a++) {
        s[0] = (unsigned char)a;
        for (unsigned b = 0; b < 256; b += step) {
            s[1] = (unsigned char)b;
            for (unsigned c = 0; c < 256; c += step) {
                s[2] = (unsigned char)c;
                check_at(s, 3, 0, 3);
                check_at(s, 3, 14, 40);
            }
        }
    }
    static const unsigned char vals[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
                                         0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xFF};
    size_t nv = sizeof vals / sizeof *vals;
    for (unsigned a = 0xF0; a < 0xF8; a++)
        for (size_t b = 0; b < nv; b++)
            for (size_t c = 0; c < nv; c++)
                for (size_t d = 0; d < nv; d++) {
                    unsigned char q[4] = {(unsigned char)a, vals[b], vals[c], vals[d]};
                    for (size_t o = 0; o < noff; o++) check_at(q, 4, offs[o], 48);
                }
    CHECK_EQ(mismatches, 0);
}

/* xorshift64* */
static uint64_t rng = 0x243F6A8885A308D3u;
static uint64_t rnd(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1du;
}

/* Appends a random valid character to buf. */
static size_t put_char(unsigned char *buf) {
    static const unsigned char *chars[] = {
        (const unsigned char *)"a",
        (const unsigned char *)"\xc3\xa9",
        (const unsigned char *)"\xdf\xbf",
        (const unsigned char *)"\xe3\x81\x82",
        (const unsigned char *)"\xe0\xa0\x80",
        (const unsigned char *)"\xed\x9f\xbf",
        (const unsigned char *)"\xef\xbf\xbf",
        (const unsigned char *)"\xf0\x9f\x98\x80",
        (const unsigned char *)"\xf4\x8f\xbf\xbf",
        (const unsigned char *)"\xf0\x90\x80\x80",
    };
    const unsigned char *c = chars[rnd() % 10];
    size_t n = strlen((const char *)c);
    memcpy(buf, c, n);
    return n;
}

/* Random valid text, then one byte changed, inserted or removed. */
static void test_random(void) {
    size_t rounds = zt_small() ? 5000 : 300000;
    unsigned char buf[600];
    for (size_t r = 0; r < rounds; r++) {
        size_t n = 0, want = rnd() % 200;
        while (n < want) n += put_char(buf + n);
        memset(buf + n, 0, 32);
        check_span(buf, n);
        if (n == 0) continue;
        size_t at = rnd() % n;
        switch (rnd() % 3) {
        case 0: buf[at] = (unsigned char)rnd(); break;
        case 1:
            memmove(buf + at + 1, buf + at, n - at);
            buf[at] = (unsigned char)(0x80 + rnd() % 0x80);
            n++;
            break;
        default:
            memmove(buf + at, buf + at + 1, n - at - 1);
            n--;
            break;
        }
        memset(buf + n, 0, 32);
        check_span(buf, n);
    }
    CHECK_EQ(mismatches, 0);
}

/* ---------------------------------------------------------------------------
 * The public functions by case
 * ------------------------------------------------------------------------- */

/* Checks zm_utf8_valid_prefix and zm_utf8_valid on n bytes at s. */
static void check_prefix(const char *s, size_t n, size_t want, int line) {
    size_t got = zm_utf8_valid_prefix(s, n);
    bool ok = zm_utf8_valid(s, n);
    CHECK(got == want && ok == (want == n));
    if (got != want || ok != (want == n))
        fprintf(stderr, "  line %d: prefix %zu (want %zu), valid %d\n", line, got, want, (int)ok);
}

#define PREFIX(lit, want) check_prefix(lit, sizeof(lit) - 1, want, __LINE__)

static void test_public_cases(void) {
    /* nothing */
    check_prefix(NULL, 0, 0, __LINE__);
    check_prefix("x", 0, 0, __LINE__);
    /* the first and last character of every length, around the surrogates
       and at the top; NUL bytes are characters */
    PREFIX("\x00", 1);
    PREFIX("a\x00"
           "b\x00",
           4);
    PREFIX("\x7f", 1);
    PREFIX("\xc2\x80", 2);
    PREFIX("\xdf\xbf", 2);
    PREFIX("\xe0\xa0\x80", 3);
    PREFIX("\xed\x9f\xbf", 3); /* U+D7FF */
    PREFIX("\xee\x80\x80", 3); /* U+E000 */
    PREFIX("\xef\xbf\xbf", 3);
    PREFIX("\xef\xbf\xbd", 3); /* U+FFFD */
    PREFIX("\xf0\x90\x80\x80", 4);
    PREFIX("\xf4\x8f\xbf\xbf", 4); /* U+10FFFF */
    PREFIX("\x00\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 20);
    /* lone continuation bytes, and one too many */
    PREFIX("ab\x80", 2);
    PREFIX("ab\xbf", 2);
    PREFIX("\xc3\xa9\xa9", 2);
    PREFIX("\xe2\x82\xac\x80z", 3);
    /* overlong: 2, 3 and 4 bytes */
    PREFIX("ab\xc0\x80", 2);
    PREFIX("ab\xc1\xbf", 2);
    PREFIX("ab\xe0\x80\x80", 2);
    PREFIX("ab\xe0\x9f\xbf", 2);
    PREFIX("ab\xf0\x80\x80\x80", 2);
    PREFIX("ab\xf0\x8f\xbf\xbf", 2);
    /* encoded surrogates, U+D800..U+DFFF */
    PREFIX("ab\xed\xa0\x80", 2);
    PREFIX("ab\xed\xaf\xbf", 2);
    PREFIX("ab\xed\xb0\x80", 2);
    PREFIX("ab\xed\xbf\xbf", 2);
    PREFIX("\xed\xa0\xbd\xed\xb8\x80", 0); /* a surrogate pair, CESU-8 style */
    /* above U+10FFFF */
    PREFIX("ab\xf4\x90\x80\x80", 2);
    PREFIX("ab\xf4\xbf\xbf\xbf", 2);
    PREFIX("ab\xf5\x80\x80\x80", 2);
    PREFIX("ab\xf7\xbf\xbf\xbf", 2);
    /* bytes that never occur: F5..FF alone */
    for (unsigned c = 0xF5; c <= 0xFF; c++) {
        char t[4] = {'a', (char)c, 'b', '\0'};
        check_prefix(t, 3, 1, __LINE__);
        check_prefix(t + 1, 1, 0, __LINE__);
    }
    /* truncated at the end, and cut by a byte that does not continue */
    PREFIX("ab\xc3", 2);
    PREFIX("ab\xe2\x82", 2);
    PREFIX("ab\xe2", 2);
    PREFIX("ab\xf0\x9f\x98", 2);
    PREFIX("ab\xf0\x9f", 2);
    PREFIX("ab\xf0", 2);
    PREFIX("ab\xe0\xa0", 2);
    PREFIX("ab\xf4\x8f\xbf", 2);
    PREFIX("ab\xc3"
           "a",
           2);
    PREFIX("ab\xe2\x82"
           "a",
           2);
    PREFIX("ab\xf0\x9f\x98"
           "a",
           2);
    PREFIX("ab\xf0\x9f\x98\xc3\xa9", 2);
    PREFIX("\xc3\x00", 0);
}

/* Valid text of exactly n bytes, of characters of every length. */
static void valid_run(unsigned char *buf, size_t n) {
    static const char *chars[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x00"};
    static const size_t lens[] = {1, 2, 3, 4, 1};
    size_t i = 0;
    for (unsigned k = 0; i < n; k = (k + 2) % 5) {
        size_t l = lens[k];
        if (l > n - i) l = 1, k = 0;
        memcpy(buf + i, chars[k], l);
        i += l;
    }
}

static const char *const bad_seqs[] = {
    "\x80",
    "\xbf",
    "\xc0\x80",
    "\xc1\xbf",
    "\xe0\x80\x80",
    "\xe0\x9f\xbf",
    "\xf0\x80\x80\x80",
    "\xf0\x8f\xbf\xbf",
    "\xed\xa0\x80",
    "\xed\xbf\xbf",
    "\xf4\x90\x80\x80",
    "\xf5\x80\x80\x80",
    "\xf8",
    "\xfe",
    "\xff",
    "\xc3",
    "\xe2\x82",
    "\xf0\x9f\x98",
    "\xc3"
    "a",
    "\xe2\x82"
    "a",
    "\xf0\x9f\x98"
    "a",
};
#define NBAD (sizeof bad_seqs / sizeof *bad_seqs)

/* Each invalid sequence at every character boundary of a 100-byte valid run
   (so on both sides of the 16-byte blocks): the prefix ends where it
   starts, with the run going on after it, and with the text ending right
   after it. */
static void test_public_long_runs(void) {
    unsigned char run[100], buf[128];
    valid_run(run, sizeof run);
    CHECK_EQ(zm_utf8_valid_prefix((const char *)run, sizeof run), sizeof run);
    size_t bad = 0;
    for (size_t b = 0; b < NBAD; b++) {
        size_t blen = strlen(bad_seqs[b]);
        for (size_t at = 0; at <= sizeof run; at++) {
            if (at < sizeof run && (run[at] & 0xC0) == 0x80) continue;
            memcpy(buf, run, at);
            memcpy(buf + at, bad_seqs[b], blen);
            memcpy(buf + at + blen, run + at, sizeof run - at);
            size_t n = sizeof run + blen;
            const char *s = (const char *)buf;
            if (zm_utf8_valid_prefix(s, n) != at || zm_utf8_valid(s, n) ||
                zm_utf8_valid_prefix(s, at + blen) != at || zm_utf8_valid(s, at + blen) ||
                zm_utf8_valid_prefix(s, at) != at || !zm_utf8_valid(s, at)) {
                if (bad++ < 5) fprintf(stderr, "bad sequence %zu at %zu: wrong prefix\n", b, at);
            }
        }
    }
    CHECK_EQ(bad, 0);
}

/* Large buffers, where the search goes block by block (blocks of 64 bytes
   doubling to 64 KiB): an error at offsets around every block edge, and
   random ones, each checked against the reference (a truncated sequence
   written over a longer character may leave it valid, or invalid further on). */
static void test_public_large(void) {
    size_t n = zt_small() ? 100000 : 400000;
    unsigned char *buf = malloc(n);
    CHECK(buf != NULL);
    if (buf == NULL) return;
    valid_run(buf, n);
    CHECK_EQ(zm_utf8_valid_prefix((const char *)buf, n), n);
    CHECK(zm_utf8_valid((const char *)buf, n));
    size_t offs[160], noffs = 0;
    for (size_t edge = 64; edge < n && noffs + 16 <= 100; edge = edge * 2 + 64)
        for (size_t d = 0; d < 8; d++) offs[noffs++] = edge - 4 + d;
    while (noffs < sizeof offs / sizeof *offs) offs[noffs++] = (size_t)(rnd() % n);
    size_t bad = 0;
    for (size_t k = 0; k < noffs; k++) {
        size_t at = offs[k] < n - 8 ? offs[k] : n - 8;
        while ((buf[at] & 0xC0) == 0x80) at--; /* a character boundary */
        const char *seq = bad_seqs[k % NBAD];
        size_t blen = strlen(seq);
        unsigned char save[8];
        memcpy(save, buf + at, blen);
        memcpy(buf + at, seq, blen);
        size_t want = ref_prefix(buf, n);
        const char *t = (const char *)buf;
        if (zm_utf8_valid_prefix(t, n) != want || zm_utf8_valid(t, n) != (want == n))
            if (bad++ < 5) fprintf(stderr, "large: sequence at %zu: wrong prefix\n", at);
        memcpy(buf + at, save, blen);
    }
    CHECK_EQ(bad, 0);
    free(buf);
}

/* Walking text with many errors as the error-text sanitiser does: skip the
   valid prefix, replace one byte, go on; the same bytes are replaced as by
   the reference, over random text with random corruptions and over text
   that is all invalid. */
static void walk(unsigned char *p, size_t n, size_t (*prefix)(const unsigned char *, size_t)) {
    for (size_t i = 0;;) {
        i += prefix(p + i, n - i);
        if (i == n) return;
        p[i++] = '?';
    }
}

static size_t lib_prefix(const unsigned char *p, size_t n) {
    return zm_utf8_valid_prefix((const char *)p, n);
}

static void test_public_walk(void) {
    size_t rounds = zt_small() ? 200 : 5000;
    unsigned char a[2100], b[2100];
    size_t bad = 0;
    for (size_t r = 0; r < rounds; r++) {
        size_t n = 0, want = rnd() % 2000;
        while (n < want) n += put_char(a + n);
        for (size_t k = rnd() % 40; k > 0 && n > 0; k--) a[rnd() % n] = (unsigned char)rnd();
        memcpy(b, a, n);
        walk(a, n, lib_prefix);
        walk(b, n, ref_prefix);
        if (memcmp(a, b, n) != 0 && bad++ < 5) fprintf(stderr, "walk: round %zu differs\n", r);
    }
    size_t n = zt_small() ? 20000 : 200000;
    unsigned char *g = malloc(n);
    CHECK(g != NULL);
    if (g == NULL) return;
    memset(g, 0x80, n);
    walk(g, n, lib_prefix);
    size_t q = 0;
    for (size_t i = 0; i < n; i++) q += g[i] == '?';
    CHECK_EQ(q, n);
    free(g);
    CHECK_EQ(bad, 0);
}

/* The parser on long strings (where it validates runs as a whole), with an
   invalid sequence at every position: rejected, at the right offset; and
   the valid ones accepted with their bytes intact. */
static void test_parser_long_strings(void) {
    static const char *bad[] = {"\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe3\x81",
                                "\x80",     "\xff",         "\xe0\x9f\xbf"};
    char text[256], run[200];
    size_t n = 0;
    while (n < 150) n += put_char((unsigned char *)run + n);
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
        size_t blen = strlen(bad[b]);
        for (size_t at = 0; at <= n; at++) {
            /* only at character boundaries of the valid run */
            if (at < n && ((unsigned char)run[at] & 0xC0) == 0x80) continue;
            for (int esc = 0; esc < 2; esc++) {
                size_t t = 0;
                text[t++] = '[';
                text[t++] = '"';
                if (esc) memcpy(text + t, "\\n", 2), t += 2; /* through the escaped path */
                memcpy(text + t, run, at), t += at;
                size_t bad_off = t;
                memcpy(text + t, bad[b], blen), t += blen;
                memcpy(text + t, run + at, n - at), t += n - at;
                text[t++] = '"';
                text[t++] = ']';
                zm_json_doc *doc;
                zm_json_error e;
                zm_status st = zm_json_parse(zm_default_allocator(), text, t, NULL, &doc, &e);
                if (st != ZM_ESYNTAX || e.offset != bad_off) {
                    if (mismatches++ < 5)
                        fprintf(stderr, "bad %zu at %zu (esc %d): status %d offset %zu, want %zu\n",
                                b, at, esc, (int)st, e.offset, bad_off);
                }
                if (st == ZM_OK) zm_json_doc_free(doc);
            }
        }
    }
    /* valid: the bytes come back */
    for (int esc = 0; esc < 2; esc++) {
        size_t t = 0;
        text[t++] = '"';
        if (esc) memcpy(text + t, "\\t", 2), t += 2;
        memcpy(text + t, run, n), t += n;
        text[t++] = '"';
        zm_json_doc *doc;
        CHECK(zm_json_parse(zm_default_allocator(), text, t, NULL, &doc, NULL) == ZM_OK);
        size_t len;
        const char *s = zm_json_str(zm_json_doc_root(doc), &len);
        CHECK(len == n + (size_t)esc && memcmp(s + esc, run, n) == 0);
        zm_json_doc_free(doc);
    }
    CHECK_EQ(mismatches, 0);
}

int main(void) {
    RUN(test_exhaustive);
    RUN(test_random);
    RUN(test_public_cases);
    RUN(test_public_long_runs);
    RUN(test_public_large);
    RUN(test_public_walk);
    RUN(test_parser_long_strings);
    return zt_finish("json_utf8");
}
