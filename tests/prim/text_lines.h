/* Picking apart a program's output line by line, for the tests of zmem run
   and zmem mcp. */
#ifndef ZMEM_TEST_TEXT_LINES_H
#define ZMEM_TEST_TEXT_LINES_H

#include <string.h>

/* Line i (from 0) of text, without its newline, in a static buffer (cut at
   64 KiB - 1 bytes); "" past the last line. */
static const char *line_at(const char *text, int i) {
    static char buf[1 << 16];
    const char *p = text;
    for (; i > 0 && p; i--) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (p == NULL || *p == '\0') return "";
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

/* The number of newlines in text. */
static int count_lines(const char *text) {
    int n = 0;
    for (const char *p = text; *p; p++) n += *p == '\n';
    return n;
}

#endif
