/* Part of the parser (parse.c): errors: the message, line and column of the first one.
 *
 * Included by parse.c only, after the parser's type, so the parser stays one
 * translation unit and the compiler inlines across its parts (a split into
 * files compiled apart lost that inlining and was measured 2 to 3% slower). */
#ifndef ZMEM_JSON_PARSE_ERROR_H
#define ZMEM_JSON_PARSE_ERROR_H

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

/* Describes what is at p: a character, a run of letters, a byte, the end. */
static void describe(const parser *P, const u8 *p, char *out, size_t n) {
    if (p >= P->end) {
        snprintf(out, n, "the end of the input");
    } else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') {
        int k = 0;
        while (k < 12 && p + k < P->end && (p[k] | 0x20) >= 'a' && (p[k] | 0x20) <= 'z') k++;
        snprintf(out, n, "'%.*s'", k, (const char *)p);
    } else if (*p > 0x20 && *p < 0x7F) {
        snprintf(out, n, "'%c'", *p);
    } else if (*p == ' ') {
        snprintf(out, n, "' '");
    } else if (*p == 0) {
        snprintf(out, n, "a NUL byte");
    } else if (*p < 0x20) {
        snprintf(out, n, "control character U+%04X", *p);
    } else {
        snprintf(out, n, "byte 0x%02X", *p);
    }
}

/* The note that ends a message when an option would accept the input. */
static const char *const option_note[] = {
    [ZM_JSON_OPTION_COMMENTS] = "ZM_JSON_ALLOW_COMMENTS accepts comments",
    [ZM_JSON_OPTION_TRAILING_COMMAS] = "ZM_JSON_ALLOW_TRAILING_COMMAS accepts it",
    [ZM_JSON_OPTION_NAN_INF] = "ZM_JSON_ALLOW_NAN_INF accepts it",
    [ZM_JSON_OPTION_BOM] = "ZM_JSON_ALLOW_BOM accepts it",
    [ZM_JSON_OPTION_LONE_SURROGATES] = "ZM_JSON_ALLOW_LONE_SURROGATES accepts it",
    [ZM_JSON_OPTION_DUP_KEYS] = "ZM_JSON_DUP_FIRST or ZM_JSON_DUP_LAST accept them",
    [ZM_JSON_OPTION_MAX_DEPTH] = "a larger max_depth accepts it",
};

/* Records an error at p (the first one only); when option would accept the
   input, the message ends with its note. Returns NULL for chaining. */
static u8 *vfail(parser *P, zm_status st, const u8 *p, zm_json_option option, const char *fmt,
                 va_list ap) {
    if (P->status != ZM_OK) return NULL;
    P->status = st;
    P->err_off = (size_t)(p - P->buf);
    vsnprintf(P->msg, sizeof P->msg, fmt, ap);
    if (option != ZM_JSON_OPTION_NONE) {
        size_t n = strlen(P->msg);
        P->option = option;
        P->note_at = n;
        snprintf(P->msg + n, sizeof P->msg - n, " (%s)", option_note[option]);
    }
    return NULL;
}

static u8 *fail(parser *P, zm_status st, const u8 *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(P, st, p, ZM_JSON_OPTION_NONE, fmt, ap);
    va_end(ap);
    return NULL;
}

/* fail for input that option would accept. */
static u8 *fail_opt(parser *P, zm_status st, const u8 *p, zm_json_option option, const char *fmt,
                    ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(P, st, p, option, fmt, ap);
    va_end(ap);
    return NULL;
}

/* "expected <what>, found <what is at p>". */
static u8 *fail_found(parser *P, const u8 *p, const char *expected) {
    char found[48];
    describe(P, p, found, sizeof found);
    return fail(P, ZM_ESYNTAX, p, "expected %s, found %s", expected, found);
}

/* fail_found between tokens, where the default refuses what an option
   accepts: a comment, NaN or Infinity, or (after_comma) the bracket that
   closes a container after a trailing comma. Names the option then. */
static u8 *fail_token(parser *P, const u8 *p, const char *expected, bool after_comma) {
    zm_json_option option = ZM_JSON_OPTION_NONE;
    /* the text is followed by PAD NUL bytes: the comparisons stay inside;
       "-Infinity" fails after its '-', and "-NaN" is never accepted */
    if (p >= P->end)
        ;
    else if (*p == '/' && (p[1] == '/' || p[1] == '*') && !(P->flags & ZM_JSON_ALLOW_COMMENTS))
        option = ZM_JSON_OPTION_COMMENTS;
    else if (after_comma && !(P->flags & ZM_JSON_ALLOW_TRAILING_COMMAS))
        option = ZM_JSON_OPTION_TRAILING_COMMAS;
    else if (!(P->flags & ZM_JSON_ALLOW_NAN_INF) &&
             (memcmp(p, "Infinity", 8) == 0 ||
              (memcmp(p, "NaN", 3) == 0 && (p == P->buf || p[-1] != '-'))))
        option = ZM_JSON_OPTION_NAN_INF;
    char found[48];
    describe(P, p, found, sizeof found);
    return fail_opt(P, ZM_ESYNTAX, p, option, "expected %s, found %s", expected, found);
}

static u8 *fail_oom(parser *P, const u8 *p) {
    return fail(P, ZM_ENOMEM, p, "out of memory");
}

/* An error inside a string at p: a control character or the end. */
static u8 *fail_in_string(parser *P, const u8 *p) {
    if (p >= P->end) return fail_found(P, p, "'\"' to close the string");
    return fail(P, ZM_ESYNTAX, p,
                "control character U+%04X in a string: it must be escaped (\\n, \\u%04x...)", *p,
                *p);
}

static u8 *fail_utf8(parser *P, const u8 *p, int reason) {
    return fail(P, ZM_ESYNTAX, p, "invalid UTF-8 in a string (byte 0x%02X): %s", *p,
                zm__utf8_reason(reason));
}

#endif
