/* UTF-8 validation: the span validator (16 bytes at a time where the
   processor allows) against an independent reference, for every 1-, 2- and
   3-byte sequence and the 4-byte ones around every boundary, at every
   offset across block boundaries, and for random corruptions; then the
   parser on long strings with an error at every position. */
#include "test.h"
#include "zmem/json.h"

/* The validators (internal to the library). */
bool zm__json_utf8_valid(const unsigned char *p, size_t n);
bool zm__json_utf8_valid_padded(const unsigned char *p, size_t n);

/* The reference: RFC 3629's table of well-formed byte sequences. */
static bool ref_valid(const unsigned char *p, size_t n) {
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
            return false;
        }
        if (n - i < len) return false;
        if (p[i + 1] < lo || p[i + 1] > hi) return false;
        for (size_t k = 2; k < len; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
        i += len;
    }
    return true;
}

static size_t mismatches;

/* Checks the span [p, p+n) with both validators against the reference. The
   buffer holding it must have 16 readable bytes after it. */
static void check_span(const unsigned char *p, size_t n) {
    bool want = ref_valid(p, n);
    if (zm__json_utf8_valid(p, n) != want || zm__json_utf8_valid_padded(p, n) != want) {
        if (mismatches++ < 5) {
            fprintf(stderr, "mismatch (want %d) for", (int)want);
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
    RUN(test_parser_long_strings);
    return zt_finish("json_utf8");
}
