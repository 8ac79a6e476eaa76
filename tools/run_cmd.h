/* zmem run: JSON lines in, one response line per request out. */
#ifndef ZMEM_TOOLS_RUN_CMD_H
#define ZMEM_TOOLS_RUN_CMD_H

#include <stdint.h>
#include <stdio.h>

#include "env.h"
#include "zmem/prim.h"
#include "zmem/store.h"

#define ZT_DEFAULT_MAX_LINE ((size_t)16 << 20)

typedef struct zt_run_counts {
    uint64_t requests; /* lines answered (blank lines are skipped) */
    uint64_t errors;   /* responses with "ok": false */
    uint64_t too_long; /* lines refused for their length */
} zt_run_counts;

/* Answers every request line read from fd on out: each non-blank line gets
   exactly one response line, a line longer than max_line a limit_exceeded
   error (its first max_line bytes kept for its id, the rest read and
   dropped: never buffered whole). Before each wait for input, out is
   flushed and zm_store_idle(store) called (store borrowed; NULL = none).
   Returns 0 at the end of the input, 1 on a read or write error (after
   saying so on stderr). */
int zt_run_stream(zm_prim_registry *reg, zm_prim_ctx *ctx, zm_store *store, int fd, FILE *out,
                  size_t max_line, zt_run_counts *counts);

/* Writes the best-effort id of a too-long request: the JSON text of the value
   of a leading "id" member when the start of the line has one (a number, a
   short string, true, false or null), else "null". */
void zt_sniff_id(const char *prefix, size_t len, char *out, size_t cap);

/* Parses a byte count with an optional K, M or G suffix (powers of 1024).
   Returns false when s is not one. */
bool zt_parse_size(const char *s, size_t *out);

/* What zt_parse_shared returns when the command goes on. */
#define ZT_ARG_READ  (-1) /* the option (and its value) was read */
#define ZT_ARG_OTHER (-2) /* not an option that zmem run and zmem mcp share */

/* Reads argv[*i] when it is an option that zmem run and zmem mcp both take: a
   common one (zt_parse_common, advancing *i past its value) or --help / -h.
   Returns ZT_ARG_READ or ZT_ARG_OTHER, or else the status the command exits
   with: 0 after --help (usage_text on stdout), 2 after a missing or wrong value
   (said on stderr, prefixed with prog, then usage_text). */
int zt_parse_shared(int argc, char **argv, int *i, zt_common_opts *co, const char *prog,
                    const char *usage_text);

/* The "zmem run" command; argv[0] is "run". Returns the exit status. */
int zm_tool_run_main(int argc, char **argv);

#endif
