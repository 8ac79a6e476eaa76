/* zmem: the command-line program.

     zmem run [--db PATH] [--sync MODE] [--stats[=json]] [--max-line BYTES] [--agent ID]
              [--session ID] [--memory-limit|--memory-warn|--memory-critical BYTES] [FILE|-]
     zmem mcp [--db PATH] [--sync MODE] [--stats[=json]] [--max-line BYTES] [--agent ID]
              [--session ID] [--memory-limit|--memory-warn|--memory-critical BYTES]
     zmem export [--db PATH] [FILE|-]                  the memory as JSON lines
     zmem import [--db PATH] [FILE|-]                  JSON lines into a memory
     zmem json ...                                     JSON tools
     zmem --help | --version */
#include <stdio.h>
#include <string.h>

#include "export_cmd.h"
#include "json_cmd.h"
#include "mcp.h"
#include "run_cmd.h"
#include "zmem.h"

static const char usage[] =
    "usage: zmem <command> [options]\n"
    "\n"
    "commands:\n"
    "  run [--db PATH] [--sync normal|full] [--stats[=json]] [--max-line BYTES] [--agent ID]\n"
    "      [--session ID] [--memory-limit|--memory-warn|--memory-critical BYTES] [FILE|-]\n"
    "        run JSON-lines requests {\"id\":..., \"primitive\":\"...\", \"params\":{...}}\n"
    "        (or {\"id\":..., \"batch\":[...]}), one response line per request;\n"
    "        the memory is --db PATH (an SQLite file or a PostgreSQL connection\n"
    "        string) or, by default, :memory:\n"
    "  mcp [--db PATH] [--sync normal|full] [--max-line BYTES] [--agent ID] [--session ID]\n"
    "      [--stats[=json]] [--memory-limit|--memory-warn|--memory-critical BYTES]\n"
    "        serve the primitives as Model Context Protocol tools over stdio; the\n"
    "        memory is --db PATH or, by default, $XDG_DATA_HOME/zmem/memory.db;\n"
    "        SIGUSR1 writes the memory report to standard error\n"
    "        (--agent/--session: the agent and session id of every call; valid\n"
    "        UTF-8, at most 1024 bytes)\n"
    "  export [--db PATH] [FILE|-]\n"
    "        write the whole memory (every version, deletion and edge) as JSON lines\n"
    "  import [--db PATH] [FILE|-]\n"
    "        read an export into the memory at PATH (one transaction)\n"
    "  json check|fmt|bench ...\n"
    "        JSON tools (zmem json --help)\n"
    "\n"
    "options:\n"
    "  -h, --help     show this help\n"
    "  -V, --version  show the version\n";

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("zmem %s (allocator: %s)\n", ZMEM_VERSION_STRING, zm_default_allocator_name());
        return 0;
    }
    if (strcmp(cmd, "run") == 0) return zm_tool_run_main(argc - 1, argv + 1);
    if (strcmp(cmd, "mcp") == 0) return zm_tool_mcp_main(argc - 1, argv + 1);
    if (strcmp(cmd, "json") == 0) return zm_tool_json_main(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0) return zm_tool_export_main(argc - 1, argv + 1);
    if (strcmp(cmd, "import") == 0) return zm_tool_import_main(argc - 1, argv + 1);
    fprintf(stderr, "zmem: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
