/* The zmem program's environment. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "env.h"
#include "run_cmd.h"
#include "zmem/json.h"
#include "zmem/memory.h"
#include "zmem/store.h"

/* One process-wide limiter under everything the program allocates, and
   SQLite's memory routed once per process through a counting allocator over
   it; both live as long as the process (SQLite keeps its allocator past any
   one store). */
static zm_stats process_stats;
static pthread_once_t stats_once = PTHREAD_ONCE_INIT;
static zt_counting sqlite_counting;
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;
static zm_status sqlite_routed = ZM_ENOTSUP;

static void init_stats(void) {
    zm_stats_init(&process_stats, zm_default_allocator(), 0);
}

/* Where threshold lines go: the program's name, and the thresholds. */
static const char *threshold_prog = "zmem";
static size_t threshold_at[3];
static bool threshold_quiet; /* serving is over: no more lines */

/* n bytes for a person, into buf. */
static const char *human_bytes(char *buf, size_t size, size_t n) {
    if (n < ((size_t)10 << 10))
        snprintf(buf, size, "%zu B", n);
    else if (n < ((size_t)1 << 20))
        snprintf(buf, size, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(buf, size, "%.1f MiB", (double)n / (1024.0 * 1024.0));
    return buf;
}

/* The threshold hook: runs inside the allocation (or free) that changed the
   level, so it only formats into the stack and writes once. */
static void on_level(void *ctx, zm_stats_level level, size_t active) {
    zm_stats_level *last = ctx;
    char line[256], now[32], at[32];
    int n;
    human_bytes(now, sizeof now, active);
    if (level > *last) {
        const char *opt = level == ZM_STATS_CRITICAL ? "--memory-critical" : "--memory-warn";
        n = snprintf(line, sizeof line, "%s: memory %s: %s in use is past %s %s\n", threshold_prog,
                     zm_stats_level_name(level), now, opt,
                     human_bytes(at, sizeof at, threshold_at[level]));
    } else {
        n = snprintf(line, sizeof line,
                     "%s: memory back below the %s threshold: %s in use (level now %s)\n",
                     threshold_prog, zm_stats_level_name(*last), now, zm_stats_level_name(level));
    }
    *last = level;
    if (n > 0 && !threshold_quiet) {
        ssize_t w = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)w;
    }
}

static void route_sqlite(void) {
    zm_allocator a = zt_counting_init(&sqlite_counting, zm_stats_allocator(&process_stats));
    sqlite_routed = zm_sqlite_use_allocator(a);
}

/* Opens the store at db for prog as co says (sync, read-only, versions
   kept), saying why on stderr when it cannot. */
static zm_status open_store(zt_env *e, const char *prog, const char *db, const zt_common_opts *co,
                            zm_store **out) {
    zm_store_opts o;
    memset(&o, 0, sizeof o);
    o.alloc = e->a;
    o.sync = co->sync_full ? ZM_STORE_SYNC_FULL : ZM_STORE_SYNC_NORMAL;
    o.hold_reads = true; /* each command idles its store before it waits */
    o.read_only = co->read_only;
    o.limits.max_versions = co->max_versions;
    if (db != NULL && strcmp(db, ":memory:") != 0) pthread_once(&sqlite_once, route_sqlite);
    zm_status st = zm_store_open(db, &o, out);
    if (st != ZM_OK) {
        const char *msg = zm_store_errmsg();
        fprintf(stderr, "%s: cannot open the store %s: %s\n", prog,
                db ? db : ":memory:", msg[0] ? msg : zm_status_str(st));
    }
    return st;
}

bool zt_default_db_path(char *buf, size_t size, const char *prog, bool create) {
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;
    char dir[4096];
    if (xdg != NULL && xdg[0] == '/') {
        n = snprintf(dir, sizeof dir, "%s/zmem", xdg);
    } else if (home != NULL && home[0] == '/') {
        n = snprintf(dir, sizeof dir, "%s/.local/share/zmem", home);
    } else {
        fprintf(stderr,
                "%s: neither XDG_DATA_HOME nor HOME is set to an absolute path: "
                "give --db PATH\n",
                prog);
        return false;
    }
    if (n < 0 || (size_t)n >= sizeof dir || (size_t)n + sizeof "/memory.db" > size) {
        fprintf(stderr, "%s: the data folder's path is too long: give --db PATH\n", prog);
        return false;
    }
    /* Create each missing folder of the path (the last one private), if asked. */
    for (char *p = dir + 1; create; p++) {
        bool last = *p == '\0';
        if (*p != '/' && !last) continue;
        *p = '\0';
        if (mkdir(dir, last ? 0700 : 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "%s: cannot create %s: %s\n", prog, dir, strerror(errno));
            return false;
        }
        if (last) break;
        *p = '/';
    }
    snprintf(buf, size, "%s/memory.db", dir);
    return true;
}

bool zt_env_init(zt_env *e, const char *prog, const zt_common_opts *o) {
    const char *db = o->db;
    memset(e, 0, sizeof *e);
    pthread_once(&stats_once, init_stats);
    zm_stats_set_limit(&process_stats, o->memory_limit);
    static zm_stats_level last_level;
    last_level = ZM_STATS_NORMAL;
    threshold_prog = prog;
    threshold_quiet = false;
    threshold_at[ZM_STATS_WARNING] = o->memory_warn;
    threshold_at[ZM_STATS_CRITICAL] = o->memory_critical;
    zm_stats_set_thresholds(&process_stats, o->memory_warn, o->memory_critical, 0,
                            o->memory_warn || o->memory_critical ? on_level : NULL, &last_level);
    e->a = zt_counting_init(&e->counting, zm_stats_allocator(&process_stats));
    zm_status st = zm_prim_registry_create(e->a, &e->reg);
#ifdef ZMEM_HAVE_BUILTINS
    if (st == ZM_OK) {
        zm_store *store = NULL;
        st = open_store(e, prog, db, o, &store);
        if (st != ZM_OK) {
            if (st == ZM_ENOMEM) zt_env_explain_limit(prog);
            zt_env_deinit(e);
            return false;
        }
        e->store = store;
        st = zm_prim_register_builtins(e->reg, store);
    }
#else
    (void)db;
#endif
    if (st == ZM_OK) {
        zm_prim_ctx_opts co;
        memset(&co, 0, sizeof co);
        co.longlived = e->a;
        if (o->memory_limit != 0) co.memory_limit = &process_stats;
        co.process_stats = &process_stats;
        st = zm_prim_ctx_create(&co, &e->ctx);
    }
    if (st != ZM_OK) {
        fprintf(stderr, "%s: cannot set up the primitives: %s\n", prog, zm_status_str(st));
        if (st == ZM_ENOMEM) zt_env_explain_limit(prog);
        zt_env_deinit(e);
        return false;
    }
    return true;
}

void zt_env_explain_limit(const char *prog) {
    zm_stats_config c;
    zm_memory_stats m;
    zm_stats_config_get(&process_stats, &c);
    zm_stats_snapshot(&process_stats, &m);
    if (c.limit_bytes == 0 || m.refused == 0) return;
    fprintf(stderr,
            "%s: --memory-limit %zu is too small to start: it refused memory while starting "
            "(at most %zu bytes were in use); give a larger limit\n",
            prog, c.limit_bytes, m.peak_bytes);
}

void zt_env_thresholds_off(void) {
    threshold_quiet = true;
}

void zt_env_deinit(zt_env *e) {
    zt_env_thresholds_off();
    zm_prim_ctx_destroy(e->ctx);
    zm_prim_registry_destroy(e->reg);
#ifdef ZMEM_HAVE_BUILTINS
    zm_store_close(e->store);
#endif
    e->ctx = NULL;
    e->reg = NULL;
    e->store = NULL;
}

static double mib(size_t bytes) {
    return (double)bytes / (1024.0 * 1024.0);
}

void zt_env_print_stats(zt_env *e, FILE *f, const char *prog, double seconds, uint64_t requests) {
    zm_prim_stats s;
    zm_prim_ctx_stats(e->ctx, &s);
    const zt_counting *c = &e->counting;
    fprintf(f, "%s: %" PRIu64 " request%s, %" PRIu64 " call%s, %" PRIu64 " error%s", prog, requests,
            requests == 1 ? "" : "s", s.calls, s.calls == 1 ? "" : "s", s.errors,
            s.errors == 1 ? "" : "s");
    if (seconds > 0)
        fprintf(f, " in %.3f s (%.0f requests/s)", seconds, (double)requests / seconds);
    fprintf(f, "\n");
    zt_env_print_report(e, f, prog, ZT_STATS_TEXT);
    if (sqlite_routed == ZM_OK)
        fprintf(f,
                "%s: sqlite: %zu allocs, %zu frees, %zu resizes, %zu remaps, %.2f MiB live, "
                "%.2f MiB peak\n",
                prog, sqlite_counting.allocs, sqlite_counting.frees, sqlite_counting.resizes,
                sqlite_counting.remaps, mib(sqlite_counting.live), mib(sqlite_counting.peak));
    fprintf(f,
            "%s: long-lived allocator: %zu allocs, %zu frees, %zu resizes, %zu remaps, "
            "%.2f MiB live, %.2f MiB peak\n",
            prog, c->allocs, c->frees, c->resizes, c->remaps, mib(c->live), mib(c->peak));
}

bool zt_env_print_report(zt_env *e, FILE *f, const char *prog, int format) {
    zm_memory_report r;
    zm_store *store = NULL;
#ifdef ZMEM_HAVE_BUILTINS
    store = e->store;
#endif
    zm_status st = zm_memory_report_take(e->ctx, store, &r);
    if (st == ZM_OK) {
        if (format == ZT_STATS_JSON)
            st = zm_memory_report_write_json(e->a, &r, NULL, f);
        else
            st = zm_memory_report_write_text(&r, prog, f);
    }
    if (st == ZM_ENOMEM) fprintf(f, "%s: memory report: out of memory\n", prog);
    fflush(f);
    return st != ZM_ENOMEM;
}

/* Checks an --agent or --session value: what the store accepts as a name. */
static bool id_ok(const char *v, const char *name, const char *prog) {
    size_t n = strlen(v);
    if (n > ZM_STORE_DEFAULT_MAX_KEY_LEN) {
        fprintf(stderr, "%s: %s is %zu bytes long; the limit is %d\n", prog, name, n,
                ZM_STORE_DEFAULT_MAX_KEY_LEN);
        return false;
    }
    if (!zm_utf8_valid(v, n)) {
        fprintf(stderr, "%s: %s must be valid UTF-8\n", prog, name);
        return false;
    }
    return true;
}

int zt_parse_common(int argc, char **argv, int *i, zt_common_opts *o, const char *prog) {
    bool m;
    const char *v = zt_option_value(argc, argv, i, "--max-line", &m);
    if (m) {
        if (zt_parse_size(v, &o->max_line)) return 1;
        fprintf(stderr, "%s: --max-line needs a positive byte count (K, M, G suffixes)\n", prog);
        return -1;
    }
    v = zt_option_value(argc, argv, i, "--memory-limit", &m);
    if (m) {
        if (zt_parse_size(v, &o->memory_limit) && o->memory_limit > 0) return 1;
        fprintf(stderr, "%s: --memory-limit needs a positive byte count (K, M, G suffixes)\n",
                prog);
        return -1;
    }
    const char *sizes[] = {"--memory-warn", "--memory-critical"};
    size_t *size_slots[] = {&o->memory_warn, &o->memory_critical};
    for (int k = 0; k < 2; k++) {
        v = zt_option_value(argc, argv, i, sizes[k], &m);
        if (!m) continue;
        if (zt_parse_size(v, size_slots[k]) && *size_slots[k] > 0) return 1;
        fprintf(stderr, "%s: %s needs a positive byte count (K, M, G suffixes)\n", prog, sizes[k]);
        return -1;
    }
    if (strcmp(argv[*i], "--stats") == 0) {
        o->stats = ZT_STATS_TEXT;
        return 1;
    }
    if (strncmp(argv[*i], "--stats=", 8) == 0) {
        const char *f = argv[*i] + 8;
        if (strcmp(f, "json") == 0 || strcmp(f, "text") == 0) {
            o->stats = f[0] == 'j' ? ZT_STATS_JSON : ZT_STATS_TEXT;
            return 1;
        }
        fprintf(stderr, "%s: --stats takes =text or =json\n", prog);
        return -1;
    }
    v = zt_option_value(argc, argv, i, "--db", &m);
    if (m) {
        if (v != NULL && v[0] != '\0') {
            o->db = v;
            return 1;
        }
        fprintf(stderr, "%s: --db needs a path (or :memory:)\n", prog);
        return -1;
    }
    v = zt_option_value(argc, argv, i, "--max-versions", &m);
    if (m) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = v != NULL && v[0] >= '0' && v[0] <= '9' ? strtoull(v, &end, 10) : 0;
        if (n > 0 && errno == 0 && *end == '\0' && n <= SIZE_MAX) {
            o->max_versions = (size_t)n;
            return 1;
        }
        fprintf(stderr, "%s: --max-versions needs a positive whole number\n", prog);
        return -1;
    }
    v = zt_option_value(argc, argv, i, "--sync", &m);
    if (m) {
        if (v != NULL && (strcmp(v, "normal") == 0 || strcmp(v, "full") == 0)) {
            o->sync_full = strcmp(v, "full") == 0;
            return 1;
        }
        fprintf(stderr, "%s: --sync needs normal or full\n", prog);
        return -1;
    }
    const char *names[] = {"--agent", "--session"};
    const char **slots[] = {&o->agent, &o->session};
    for (int k = 0; k < 2; k++) {
        v = zt_option_value(argc, argv, i, names[k], &m);
        if (!m) continue;
        if (v != NULL) {
            if (!id_ok(v, names[k], prog)) return -1;
            *slots[k] = v;
            return 1;
        }
        fprintf(stderr, "%s: %s needs a value\n", prog, names[k]);
        return -1;
    }
    return 0;
}

bool zt_check_common(const zt_common_opts *o, const char *prog) {
    if (o->memory_warn && o->memory_critical && o->memory_warn >= o->memory_critical) {
        fprintf(stderr, "%s: --memory-warn must be below --memory-critical\n", prog);
        return false;
    }
    size_t top = o->memory_critical ? o->memory_critical : o->memory_warn;
    if (o->memory_limit && top > o->memory_limit) {
        fprintf(stderr, "%s: %s must be at most --memory-limit\n", prog,
                o->memory_critical ? "--memory-critical" : "--memory-warn");
        return false;
    }
    return true;
}

bool zt_env_set_identity(zt_env *e, const zt_common_opts *o, const char *prog) {
    zm_status st = ZM_OK;
    if (o->agent != NULL) st = zm_prim_ctx_set_agent_id(e->ctx, o->agent, strlen(o->agent));
    if (st == ZM_OK && o->session != NULL)
        st = zm_prim_ctx_set_session_id(e->ctx, o->session, strlen(o->session));
    if (st != ZM_OK) fprintf(stderr, "%s: %s\n", prog, zm_status_str(st));
    return st == ZM_OK;
}
