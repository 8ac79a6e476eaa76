/* Naming code addresses in reports: symbol+offset, or object+offset. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "where.h"

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
