/* The token rule every backend's search shares (zmem/store.h, "Search"). */
#include "internal.h"

/* ---------------------------------------------------------------------------
 * Tokens
 * ------------------------------------------------------------------------- */

/* Token bytes: ASCII letters and digits, and every non-ASCII byte. */
#define T1(c)                                                                                      \
    (((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') ||     \
     (c) >= 0x80)
#define T4(c)  T1(c), T1(c + 1), T1(c + 2), T1(c + 3)
#define T16(c) T4(c), T4(c + 4), T4(c + 8), T4(c + 12)
#define T64(c) T16(c), T16(c + 16), T16(c + 32), T16(c + 48)
static const bool TOKEN_BYTE[256] = {T64(0), T64(64), T64(128), T64(192)};

static bool is_token_byte(unsigned char c) {
    return TOKEN_BYTE[c];
}

bool zm__store_next_token(const char *text, size_t len, size_t *pos, zm__tok *tok, char *buf) {
    const unsigned char *t = (const unsigned char *)text;
    size_t i = *pos;
    while (i < len && !is_token_byte(t[i])) i++;
    if (i >= len) {
        *pos = len;
        return false;
    }
    size_t start = i;
    while (i < len && is_token_byte(t[i])) i++;
    size_t n = i - start;
    if (n > ZM_STORE_MAX_TOKEN) {
        /* Cut at a character boundary: never inside a UTF-8 sequence. */
        n = ZM_STORE_MAX_TOKEN;
        while (n > 0 && (t[start + n] & 0xC0) == 0x80) n--;
        if (n == 0) n = ZM_STORE_MAX_TOKEN; /* not UTF-8 at all: cut anywhere */
    }
    for (size_t k = 0; k < n; k++) {
        unsigned char c = t[start + k];
        buf[k] = (char)((unsigned)(c - 'A') < 26u ? c + ('a' - 'A') : c);
    }
    tok->start = start;
    tok->len = i - start;
    tok->norm_len = n;
    *pos = i;
    return true;
}
