/* zmem — the debug allocator.
 *
 * A wrapper around a backing allocator that finds memory bugs and says where
 * they come from, in the spirit of Zig's DebugAllocator and SQLite's mem2.c:
 *
 *  - leaks: blocks still live at zm_debug_deinit, or listed on demand by
 *    zm_debug_report;
 *  - double free, saying where the block was first freed;
 *  - invalid free: a pointer this allocator never handed out (or an interior
 *    pointer, or one freed so long ago that it is forgotten);
 *  - free, resize or remap with the wrong length or alignment;
 *  - writes past either end: every block has guard bytes before and after it,
 *    checked at free, resize, remap, zm_debug_check and deinit; a broken
 *    guard is rewritten once reported, so one overrun is reported and counted
 *    once however many of these checks see the block afterwards;
 *  - use after free: freed memory is overwritten with the poison byte, and
 *    with a quarantine (or never_reuse) freed blocks are kept out of reuse for
 *    a while; when one leaves the quarantine its poison is checked, so a late
 *    write is seen.
 *
 * Each report names the block's size and address, where it was allocated (the
 * ret_addr of the request, and a backtrace when backtrace_depth > 0 and the
 * platform has <execinfo.h>), and for frees where it was freed. Reports are
 * one line each, beginning "zmem debug: <kind>: ", followed by indented
 * backtrace lines when there are any, for example:
 *
 *   zmem debug: double free: 24-byte block at 0x5581e0a0 allocated at
 *   0x55d0c1a2b3c4 (parse+0x1c), first freed at ..., freed again at ...
 *
 * (on one line). An address resolves to a file and line with
 * `addr2line -f -e PROGRAM 0x...` (for a position-independent executable or
 * a shared library, give addr2line the offset in the object: the "+0x..." of
 * "(object+0x1234)"); linking with -rdynamic lets the reports name the
 * functions of the program itself, not only those of shared libraries.
 *
 * Misuse is reported and counted, never passed on to the
 * backing allocator: a double or invalid free is dropped, a free with the wrong
 * length gives the block back with its true length, a resize or remap with the
 * wrong length fails. Nothing invalid happens at the backing level, so tests
 * that commit these bugs on purpose stay clean under valgrind and ASan.
 *
 * Metadata lives in a hash table keyed by address (open addressing), allocated
 * from the backing allocator, so a wrong pointer is found reliably and the
 * blocks themselves carry only their guard bytes. A block's address is
 * remembered after it is freed (up to free_history blocks) to recognise a
 * double free; once the backing allocator hands that address out again, a
 * second free of the old pointer frees the new block (use the quarantine to
 * make that unlikely).
 *
 * Cost: with the defaults (no backtraces, no quarantine) an alloc/free pair
 * costs a few table operations and a poison memset over the backing
 * allocator's own work. Backtraces cost about a microsecond per request.
 */
#ifndef ZMEM_DEBUG_H
#define ZMEM_DEBUG_H

#include <pthread.h>
#include <stdio.h>

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most frames recorded per backtrace. */
#define ZM_DEBUG_MAX_FRAMES 16
/* Guard bytes on each side of every block, and their value. */
#define ZM_DEBUG_GUARD_SIZE 16
#define ZM_DEBUG_GUARD_BYTE 0xFD

typedef struct zm_debug_options {
    FILE *out;               /* where reports go; NULL = nowhere (still counted).
                                Default stderr. Never stdout unless you set it. */
    int backtrace_depth;     /* frames recorded at alloc and at free, 0 to
                                ZM_DEBUG_MAX_FRAMES; 0 = the ret_addr only. Default 0 */
    size_t quarantine_bytes; /* freed bytes kept out of reuse, checked for late
                                writes when they leave; at most free_history
                                blocks (rounded up to a power of two) are held.
                                Default 0 (none) */
    bool never_reuse;        /* keep every freed block until deinit (unbounded
                                quarantine). Default false */
    size_t free_history;     /* freed blocks remembered for double-free
                                reports, at least 16 (rounded up to a power of
                                two). Default 4096 */
    unsigned char poison;    /* written over freed memory. Default 0xDD */
    bool thread_safe;        /* serialise every call with a mutex. Default false */
    bool abort_on_misuse;    /* abort() after reporting a misuse (not a leak).
                                Default false: report, count and go on */
} zm_debug_options;

/* Errors seen, by kind. */
typedef struct zm_debug_counts {
    size_t leaks;          /* blocks live at deinit */
    size_t double_frees;   /* free/resize/remap of a freed block */
    size_t invalid_frees;  /* free/resize/remap of an address never handed out */
    size_t wrong_lengths;  /* free/resize/remap with a length not the block's */
    size_t wrong_aligns;   /* free/resize/remap with an alignment not the block's */
    size_t overruns;       /* guard bytes after a block overwritten */
    size_t underruns;      /* guard bytes before a block overwritten */
    size_t use_after_free; /* poison of a quarantined block overwritten */
    size_t errors;         /* the sum of all the above but leaks */
} zm_debug_counts;

typedef struct zm__debug_entry zm__debug_entry;
typedef struct zm__debug_freed zm__debug_freed;

/* A debug allocator. Fields are readable; change them only through calls. */
typedef struct zm_debug {
    zm_allocator backing;
    zm_debug_options opts;
    zm_debug_counts counts;
    size_t live_blocks;       /* blocks allocated and not yet freed */
    size_t live_bytes;        /* their bytes (guards not counted) */
    size_t peak_bytes;        /* the most live_bytes has been */
    size_t total_allocs;      /* successful allocs */
    size_t total_frees;       /* frees that gave a block back */
    size_t quarantined_bytes; /* freed bytes being held */
    char first_error[512];    /* the first report line of a misuse, or "" */

    /* private */
    zm__debug_entry *tab;
    size_t cap, count;
    zm__debug_freed *ring;
    size_t ring_cap;
    uint64_t head, qhead, tail, seq;
    bool table_failed;
    pthread_mutex_t lock;
} zm_debug;

/* The defaults described above, to start from when setting options. */
zm_debug_options zm_debug_defaults(void);

/* Makes dbg a debug allocator over backing with opts (NULL = defaults; the
   struct is copied). Allocates nothing yet; tables come from backing as
   needed. Every zm_debug_init needs a zm_debug_deinit. */
void zm_debug_init(zm_debug *dbg, zm_allocator backing, const zm_debug_options *opts);

/* A zm_allocator view of dbg, valid until zm_debug_deinit. */
zm_allocator zm_debug_allocator(zm_debug *dbg);

/* Checks the guard bytes of every live block and the poison of every
   quarantined block now, reporting what it finds. Returns the number of
   errors found by this call. */
size_t zm_debug_check(zm_debug *dbg);

/* Writes to out (NULL = the options' stream) one "zmem debug: leak: ..." line
   for every live block, oldest first, then a summary line of the counts.
   Changes nothing. Returns the number of live blocks. */
size_t zm_debug_report(zm_debug *dbg, FILE *out);

/* A live block, as zm_debug_each_live shows it. */
typedef struct zm_debug_block {
    void *ptr;
    size_t len;
    size_t align;
    uintptr_t ret_addr;  /* where it was allocated, 0 if unknown */
    uint64_t seq;        /* allocation order: smaller is older */
    void *const *frames; /* its allocation backtrace, or NULL */
    int nframes;
} zm_debug_block;

/* Calls fn for every live block, in no particular order. fn must not call
   into dbg. */
void zm_debug_each_live(zm_debug *dbg, void (*fn)(const zm_debug_block *b, void *ctx), void *ctx);

/* Checks every live block's guards, reports every live block as a leak to the
   options' stream, checks and empties the quarantine, then gives every
   block (leaked ones included) and every table back to backing. dbg may be
   initialised again afterwards. Returns the number of leaked blocks. */
size_t zm_debug_deinit(zm_debug *dbg);

/* Writes for a person where addr is ("0x... (symbol+0x1c)" or
   "0x... (object+0x1234)", or "unknown" for 0) into buf (n bytes, always
   NUL-terminated). Returns buf. */
char *zm_debug_where(char *buf, size_t n, uintptr_t addr);

#ifdef __cplusplus
}
#endif
#endif
