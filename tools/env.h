/* The zmem program's environment: the long-lived allocator (counted), the
   registry with the built-in primitives, their store and one context. */
#ifndef ZMEM_TOOLS_ENV_H
#define ZMEM_TOOLS_ENV_H

#include <stdio.h>

#include "counting.h"
#include "zmem/prim.h"

typedef struct zt_env {
    zt_counting counting;
    zm_allocator a; /* the counted long-lived allocator */
    zm_prim_registry *reg;
    zm_prim_ctx *ctx;
    void *store; /* the built-ins' store, when they are built in */
} zt_env;

/* Options shared by zmem run and zmem mcp. */
typedef struct zt_common_opts {
    size_t max_line;        /* --max-line BYTES */
    const char *agent;      /* --agent ID: the agent id of every call */
    const char *session;    /* --session ID: the session id of every call */
    const char *db;         /* --db PATH: the store (":memory:" or an SQLite file); NULL =
                               the command's default */
    bool sync_full;         /* --sync full (default normal) */
    size_t memory_limit;    /* --memory-limit BYTES; 0 = none */
    size_t memory_warn;     /* --memory-warn BYTES; 0 = none */
    size_t memory_critical; /* --memory-critical BYTES; 0 = none */
    int stats;              /* --stats: ZT_STATS_TEXT; --stats=json: ZT_STATS_JSON; 0 = none */
    bool read_only;         /* open the store for reading only: a missing database is
                               refused, not created (zmem export) */
    size_t max_versions;    /* --max-versions N: versions kept per key; 0 = all */
} zt_common_opts;

enum { ZT_STATS_NONE = 0, ZT_STATS_TEXT = 1, ZT_STATS_JSON = 2 };

/* The usage lines of --sync, --max-versions, --memory-limit, --memory-warn
   and --memory-critical, the same in zmem run and zmem mcp. */
#define ZT_USAGE_SYNC_MEMORY                                                                       \
    "  --sync MODE       normal (default: an acknowledged write survives a crash of\n"             \
    "                    the process) or full (a power loss too)\n"                                \
    "  --max-versions N  keep each key's newest N versions: a write drops the older\n"             \
    "                    ones (default: every version is kept)\n"                                  \
    "  --memory-limit BYTES  refuse calls that would take the process's memory past\n"             \
    "                    BYTES (K, M, G suffixes) with limit_exceeded; it goes on serving\n"       \
    "  --memory-warn BYTES, --memory-critical BYTES  thresholds of the process's\n"                \
    "                    memory: crossing one writes one line to standard error (and\n"            \
    "                    falling back a sixteenth below it, another; no line per call)\n"

/* Reads the common option at argv[*i] (with its value, as "--opt VALUE" or
   "--opt=VALUE"), advancing *i past what it used. Returns 1 when it was one,
   0 when it was not, -1 when its value is missing or wrong (after saying so
   on stderr, prefixed with prog): --agent and --session must be valid UTF-8
   of at most ZM_STORE_DEFAULT_MAX_KEY_LEN bytes, as the store requires. */
int zt_parse_common(int argc, char **argv, int *i, zt_common_opts *o, const char *prog);

/* Checks the common options together once all are read: --memory-warn below
   --memory-critical, both at most --memory-limit. Returns false (after
   saying why on stderr, prefixed with prog) when they do not fit. */
bool zt_check_common(const zt_common_opts *o, const char *prog);

/* Sets up e as o says: the store at o->db (":memory:" or an SQLite file
   path; NULL = ":memory:") with o->sync_full and o->read_only, the registry with the
   built-ins, a context. Everything goes through one process-wide zm_stats
   (with o->memory_limit as its limit, when set), SQLite's memory too (routed
   before the first SQLite store is opened, counted apart in the stats). The
   thresholds o->memory_warn and o->memory_critical are set on that zm_stats:
   crossing one writes one line to stderr (and falling back below it, less a
   sixteenth, another), never a line per call. On failure prints why to
   stderr (prefixed with prog) and returns false with nothing left allocated. */
bool zt_env_init(zt_env *e, const char *prog, const zt_common_opts *o);

/* The path of the default persistent memory of `zmem mcp`:
   $XDG_DATA_HOME/zmem/memory.db, or ~/.local/share/zmem/memory.db, with its
   folder created (mode 0700) when missing, if create. Writes it to buf (size
   bytes). Returns false (after saying why on stderr) when neither variable
   gives a usable folder. */
bool zt_default_db_path(char *buf, size_t size, const char *prog, bool create);

/* Sets the agent and session ids of e's context from o (NULL = unset).
   Returns false (after saying so) when out of memory. */
bool zt_env_set_identity(zt_env *e, const zt_common_opts *o, const char *prog);

/* Ends the threshold lines (the thresholds stay, for the reports): what is
   freed after serving ends is the program ending, not the memory easing.
   zt_env_deinit does it too. */
void zt_env_thresholds_off(void);

/* After the program could not start: when --memory-limit refused an
   allocation, says on stderr that the limit is too small to start (how many
   bytes were in use), since "out of memory" alone would not tell. */
void zt_env_explain_limit(const char *prog);

/* Frees everything zt_env_init made. */
void zt_env_deinit(zt_env *e);

/* Writes the memory statistics of e to f (one "prog: ..." line per topic):
   the requests, the context's memory report (zmem/memory.h) and the
   program's allocator counts. */
void zt_env_print_stats(zt_env *e, FILE *f, const char *prog, double seconds, uint64_t requests);

/* Takes a memory report of e's context and store and writes it to f: as
   text, one "prog: ..." line per component (ZT_STATS_TEXT), or as one line of
   JSON, the memory primitive's answer (ZT_STATS_JSON). Returns false when
   out of memory (said on f). */
bool zt_env_print_report(zt_env *e, FILE *f, const char *prog, int format);

#endif
