/* Private to alloc/: naming code addresses in reports. */
#ifndef ZMEM_ALLOC_WHERE_H
#define ZMEM_ALLOC_WHERE_H

#include <stddef.h>
#include <stdint.h>

/* Writes addr for a person into buf (n bytes, always NUL-terminated):
   "0x55d0c1a2b3c4 (zm_strdup+0x1c)" when the symbol is known,
   "0x55d0c1a2b3c4 (test_sweep+0x13c4)" (the object file and the offset to give
   addr2line) when it is not, "0x55d0c1a2b3c4" when neither is, "unknown" for 0.
   Returns buf. */
char *zm__where(char *buf, size_t n, uintptr_t addr);

/* Records up to depth (at most 16) return addresses of the calling thread's
   stack into out, starting with the frame whose return address is from (the
   frames of zmem's own calls above it left out; when from is not found, the
   two innermost frames are skipped). Returns how many were recorded; 0
   where the platform has no backtrace(). */
int zm__backtrace(void **out, int depth, uintptr_t from);

/* The size of a buffer zm__where never truncates in practice. */
#define ZM__WHERE_MAX 160

#endif
