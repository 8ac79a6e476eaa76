/* zmem mcp: a Model Context Protocol server over stdio (JSON-RPC 2.0, one
   message per line) exposing every registered primitive as a tool.

   The request handler takes one raw line and writes zero or one line (a
   response, or a batch of them) through a sink, so it can be driven by a
   test or a fuzzer without any I/O. */
#ifndef ZMEM_TOOLS_MCP_H
#define ZMEM_TOOLS_MCP_H

#include <signal.h>
#include <stdio.h>

#include "zmem/prim.h"
#include "zmem/store.h"

/* JSON-RPC error codes. */
#define MCP_PARSE_ERROR      (-32700)
#define MCP_INVALID_REQUEST  (-32600)
#define MCP_METHOD_NOT_FOUND (-32601)
#define MCP_INVALID_PARAMS   (-32602)
#define MCP_INTERNAL_ERROR   (-32603)

/* The protocol versions the server speaks, newest first. */
#define MCP_LATEST_VERSION "2025-06-18"

typedef struct mcp_server mcp_server;

/* Where responses go: write gets whole lines, "\n" included. A status other
   than ZM_OK is returned by mcp_handle_line. */
typedef struct mcp_sink {
    zm_status (*write)(void *ctx, const char *data, size_t len);
    void *ctx;
} mcp_sink;

/* Makes a server answering from reg, calling primitives in ctx (both
   borrowed; they must outlive the server). Memory comes from a. Returns
   ZM_OK with *out the caller's (mcp_server_destroy), or ZM_ENOMEM. */
zm_status mcp_server_create(zm_allocator a, zm_prim_registry *reg, zm_prim_ctx *ctx,
                            mcp_server **out);

/* Frees the server. NULL is a no-op. */
void mcp_server_destroy(mcp_server *s);

/* Handles one message line (len bytes, no newline needed; any bytes at all)
   and writes its response line, if it has one, through out. Notifications
   and client responses get none; blank lines are ignored. Returns ZM_OK, the
   sink's error, or ZM_ENOMEM when even an error response could not be
   built. Memory used for the line is freed before returning (except what the
   server keeps for reuse). */
zm_status mcp_handle_line(mcp_server *s, const char *line, size_t len, const mcp_sink *out);

/* Tells the server that a line was too long to read (too_long bytes): answers
   with an invalid-request error (id null). */
zm_status mcp_handle_too_long(mcp_server *s, size_t too_long, size_t max_line, const mcp_sink *out);

/* The longest message detail, in bytes. */
#define MCP_DETAIL_MAX 1535

/* Formats a message detail (printf-style) into the server's arena, where it
   lives until the next line is handled. A text longer than MCP_DETAIL_MAX
   bytes is cut there, before any character the cut would split, so valid
   UTF-8 stays valid. Returns NULL on a format error or out of memory. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
const char *
mcp_detail(mcp_server *s, const char *fmt, ...);

/* The protocol version negotiated by initialize ("" before it). */
const char *mcp_server_version(const mcp_server *s);

/* Sends notes for the operator (a request sent as a notification, which
   gets no response) to log, one line each; NULL (the default) = nowhere. */
void mcp_server_set_log(mcp_server *s, FILE *log);

/* Makes mcp_serve call zm_store_idle(store) before each wait for input
   (store borrowed; NULL = none). */
void mcp_server_set_store(mcp_server *s, zm_store *store);

/* Makes mcp_serve wait for input under mask (pselect) and call
   on_signal(arg) after a signal interrupted a wait or a read, between
   messages, so that a handler that only sets a flag is acted on at once
   (see zt_lines.wait_mask). mask NULL = plain reads. */
void mcp_server_on_signal(mcp_server *s, const sigset_t *mask, void (*on_signal)(void *arg),
                          void *arg);

/* Serves messages read from fd, writing responses to out, until the end of
   the input. A last message without its newline is handled when it is whole
   JSON, and dropped (with a note on stderr) when it was cut short. Returns 0
   at the end of input or when the client goes away (EPIPE writing out); 1 on
   a read error, or on any other write error on out (which ends serving, said
   on stderr); 2 when it could not start: no memory for its line reader. */
int mcp_serve(mcp_server *s, int fd, FILE *out, size_t max_line);

/* The "zmem mcp" command; argv[0] is "mcp". Returns the exit status. */
int zm_tool_mcp_main(int argc, char **argv);

#endif
