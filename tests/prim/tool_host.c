/* Runs the zmem run / zmem mcp loops over the test primitives:
     tool_host run [MAX_LINE] < requests
     tool_host mcp [MAX_LINE] < messages
   so that shell tests can drive them with scripted input. */
#include <signal.h>
#include <stdlib.h>

#include "mcp.h"
#include "prims.h"
#include "run_cmd.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: tool_host run|mcp [MAX_LINE]\n");
        return 2;
    }
    size_t max_line = ZT_DEFAULT_MAX_LINE;
    if (argc > 2 && !zt_parse_size(argv[2], &max_line)) return 2;
    zm_allocator a = zm_default_allocator();
    zm_prim_registry *reg = NULL;
    zm_prim_ctx *ctx = NULL;
    tp_state state = {0, 0};
    if (zm_prim_registry_create(a, &reg) != ZM_OK || tp_register(reg, &state) != ZM_OK ||
        zm_prim_ctx_create(NULL, &ctx) != ZM_OK)
        return 1;
    int rc = 0;
    if (strcmp(argv[1], "run") == 0) {
        zt_run_counts counts;
        rc = zt_run_stream(reg, ctx, 0, stdout, max_line, &counts);
    } else {
        signal(SIGPIPE, SIG_IGN);
        mcp_server *s;
        if (mcp_server_create(a, reg, ctx, &s) != ZM_OK) return 1;
        rc = mcp_serve(s, 0, stdout, max_line);
        mcp_server_destroy(s);
    }
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
    return rc;
}
