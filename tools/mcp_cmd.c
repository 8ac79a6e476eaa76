/* zmem mcp: the command (options, the store, SIGUSR1's memory report)
   around the server of mcp.c. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "mcp.h"
#include "run_cmd.h"
#include "zmem/store.h"

static const char usage[] =
    "usage: zmem mcp [--db PATH] [--sync normal|full] [--max-versions N] [--max-line BYTES]\n"
    "                [--agent ID] [--session ID] [--stats[=json]] [--memory-limit BYTES]\n"
    "                [--memory-warn BYTES] [--memory-critical BYTES]\n"
    "  Serves the primitives as Model Context Protocol tools over standard input and\n"
    "  output (JSON-RPC 2.0, one message per line). Logs go to standard error.\n"
    "  On SIGUSR1 it writes the memory report to standard error (between messages).\n"
    "  --db PATH         the memory: an SQLite database file, or :memory: (gone at\n"
    "                    exit), or a PostgreSQL server (postgresql://... or\n"
    "                    \"host=... dbname=...\"); default $XDG_DATA_HOME/zmem/memory.db\n"
    "                    (or ~/.local/share/zmem/memory.db)\n" ZT_USAGE_SYNC_MEMORY
    "  --stats           write the memory report to standard error at exit too\n"
    "                    (--stats=json: as one JSON line, here and on SIGUSR1)\n"
    "  --max-line BYTES  refuse longer messages (default 16M; K, M, G suffixes)\n"
    "  --agent ID        the agent id recorded with what the calls write\n"
    "  --session ID      the session id recorded with what the calls write\n";

/* SIGUSR1 asks for a memory report: the handler only sets the flag; the
   reader, woken from its wait, calls report_if_asked. */
static volatile sig_atomic_t report_asked;

static void on_usr1(int sig) {
    (void)sig;
    report_asked = 1;
}

typedef struct report_req {
    zt_env *env;
    int format;
} report_req;

static void report_if_asked(void *arg) {
    report_req *q = arg;
    if (!report_asked) return;
    report_asked = 0;
    zt_env_print_report(q->env, stderr, "zmem mcp", q->format);
}

int zm_tool_mcp_main(int argc, char **argv) {
    zt_common_opts co = {ZT_DEFAULT_MAX_LINE, NULL, NULL, NULL, false, 0, 0, 0, 0, false, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int c = zt_parse_shared(argc, argv, &i, &co, "zmem mcp", usage);
        if (c == ZT_ARG_READ) continue;
        if (c != ZT_ARG_OTHER) return c;
        fprintf(stderr, "zmem mcp: unexpected argument %s\n%s", a, usage);
        return 2;
    }
    if (!zt_check_common(&co, "zmem mcp")) {
        fputs(usage, stderr);
        return 2;
    }
    /* A client that goes away is an EPIPE on write, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    zt_env env;
    char path[4200];
    if (co.db == NULL && !zm_store_backend_available("sqlite")) {
        fprintf(stderr, "zmem mcp: built without SQLite: the memory lasts only as long as this "
                        "process (give --db :memory: to say so)\n");
        co.db = ":memory:";
    } else if (co.db == NULL) {
        /* By default the memory lasts: a file per user. */
        if (!zt_default_db_path(path, sizeof path, "zmem mcp", true)) return 1;
        co.db = path;
    }
    if (!zt_env_init(&env, "zmem mcp", &co)) return 1;
    if (!zt_env_set_identity(&env, &co, "zmem mcp")) {
        zt_env_deinit(&env);
        return 1;
    }
    mcp_server *s;
    if (mcp_server_create(env.a, env.reg, env.ctx, &s) != ZM_OK) {
        fprintf(stderr, "zmem mcp: out of memory\n");
        zt_env_explain_limit("zmem mcp");
        zt_env_deinit(&env);
        return 1;
    }
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    mcp_server_set_log(s, stderr);
    mcp_server_set_store(s, env.store);
    /* SIGUSR1 stays blocked except while waiting for input. */
    sigset_t usr1, wait_mask;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART: the wait returns EINTR */
    sigprocmask(SIG_BLOCK, &usr1, &wait_mask);
    sigdelset(&wait_mask, SIGUSR1);
    report_req req = {&env, co.stats == ZT_STATS_JSON ? ZT_STATS_JSON : ZT_STATS_TEXT};
    mcp_server_on_signal(s, &wait_mask, report_if_asked, &req);
    int rc = mcp_serve(s, 0, stdout, co.max_line);
    if (rc == 2) { /* it could not start */
        zt_env_explain_limit("zmem mcp");
        rc = 1;
    }
    report_if_asked(&req);
    if (co.stats != ZT_STATS_NONE) zt_env_print_report(&env, stderr, "zmem mcp", req.format);
    mcp_server_destroy(s);
    zt_env_deinit(&env);
    return rc;
}
