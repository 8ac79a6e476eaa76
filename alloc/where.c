/* Naming code addresses in reports: symbol+offset, or object+offset. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<execinfo.h>)
#include <execinfo.h>
#define HAVE_BACKTRACE 1
#endif
#endif

#include "where.h"

int zm__backtrace(void **out, int depth, uintptr_t from) {
#ifdef HAVE_BACKTRACE
    enum { EXTRA = 6, MAX = 16 };
    void *buf[MAX + EXTRA];
    if (depth > MAX) depth = MAX;
    if (depth <= 0) return 0;
    int n = backtrace(buf, depth + EXTRA);
    int start = 0;
    while (start < n && (uintptr_t)buf[start] != from) start++;
    if (start == n) start = n > 2 ? 2 : n; /* not found: skip this and the caller */
    n -= start;
    if (n > depth) n = depth;
    memcpy(out, buf + start, (size_t)n * sizeof *out);
    return n;
#else
    (void)out, (void)depth, (void)from;
    return 0;
#endif
}

char *zm__where(char *buf, size_t n, uintptr_t addr) {
    if (n == 0) return buf;
    if (addr == 0) {
        snprintf(buf, n, "unknown");
        return buf;
    }
    Dl_info info;
    memset(&info, 0, sizeof info);
    if (dladdr((void *)addr, &info) != 0) {
        if (info.dli_sname != NULL && info.dli_saddr != NULL) {
            snprintf(buf, n, "0x%" PRIxPTR " (%s+0x%zx)", addr, info.dli_sname,
                     (size_t)(addr - (uintptr_t)info.dli_saddr));
            return buf;
        }
        if (info.dli_fname != NULL && info.dli_fbase != NULL) {
            const char *base = strrchr(info.dli_fname, '/');
            base = base ? base + 1 : info.dli_fname;
            snprintf(buf, n, "0x%" PRIxPTR " (%s+0x%zx)", addr, base,
                     (size_t)(addr - (uintptr_t)info.dli_fbase));
            return buf;
        }
    }
    snprintf(buf, n, "0x%" PRIxPTR, addr);
    return buf;
}
