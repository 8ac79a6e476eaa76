/* zmem export and zmem import. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "export_cmd.h"
#include "lineio.h"
#include "run_cmd.h"
#include "zmem/store.h"

static const char export_usage[] =
    "usage: zmem export [--db PATH] [FILE|-]\n"
    "  Writes the whole memory at PATH (every version, deletion and edge, with\n"
    "  times and writers) as JSON lines to FILE or standard output. Without --db,\n"
    "  the memory zmem mcp keeps ($XDG_DATA_HOME/zmem/memory.db). The database is\n"
    "  opened for reading only: a missing one is an error, not created.\n";

static const char import_usage[] =
    "usage: zmem import [--db PATH] [FILE|-]\n"
    "  Reads an export (JSON lines) from FILE or standard input into the memory at\n"
    "  PATH, in one transaction: on a database, all of it or nothing. Without --db,\n"
    "  the memory zmem mcp keeps ($XDG_DATA_HOME/zmem/memory.db).\n";

/* Parses [--db PATH] [FILE|-]; returns -1 to go on, else an exit status. */
static int parse(int argc, char **argv, const char *prog, const char *usage, const char **db,
                 const char **file) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(a, "--db") == 0 && i + 1 < argc) {
            *db = argv[++i];
        } else if (strncmp(a, "--db=", 5) == 0 && a[5] != '\0') {
            *db = a + 5;
        } else if ((a[0] != '-' || strcmp(a, "-") == 0) && *file == NULL) {
            *file = a;
        } else {
            fprintf(stderr, "%s: unexpected argument %s\n%s", prog, a, usage);
            return 2;
        }
    }
    return -1;
}

/* Opens the store for a command, the default persistent one without --db.
   read_only (export): a missing database is refused, and nothing is
   created, not even the default one's folder. */
static bool open_env(zt_env *env, const char *prog, const char *db, bool read_only) {
    char path[4200];
    zt_common_opts o;
    memset(&o, 0, sizeof o);
    o.db = db;
    o.read_only = read_only;
    if (db == NULL) {
        if (!zt_default_db_path(path, sizeof path, prog, !read_only)) return false;
        o.db = path;
    }
    return zt_env_init(env, prog, &o);
}

static zm_status file_sink(void *ctx, const char *data, size_t len) {
    return fwrite(data, 1, len, (FILE *)ctx) == len ? ZM_OK : ZM_EIO;
}

int zm_tool_export_main(int argc, char **argv) {
    const char *db = NULL, *file = NULL;
    int rc = parse(argc, argv, "zmem export", export_usage, &db, &file);
    if (rc >= 0) return rc;
    /* The store first: a missing one leaves FILE as it was. */
    zt_env env;
    if (!open_env(&env, "zmem export", db, true)) return 1;
    FILE *out = stdout;
    if (file != NULL && strcmp(file, "-") != 0 && (out = fopen(file, "w")) == NULL) {
        fprintf(stderr, "zmem export: cannot write %s: %s\n", file, strerror(errno));
        zt_env_deinit(&env);
        return 1;
    }
    zm_arena ar;
    zm_arena_init(&ar, env.a);
    zm_status st = zm_store_export_jsonl(env.store, &ar, file_sink, out);
    zm_arena_deinit(&ar);
    rc = 0;
    if (st != ZM_OK) {
        const char *msg = st == ZM_EIO ? strerror(errno) : zm_store_errmsg();
        fprintf(stderr, "zmem export: %s\n", msg[0] ? msg : zm_status_str(st));
        rc = 1;
    }
    if ((out == stdout ? fflush(out) : fclose(out)) != 0 && rc == 0) {
        fprintf(stderr, "zmem export: writing the output: %s\n", strerror(errno));
        rc = 1;
    }
    zt_env_deinit(&env);
    return rc;
}

int zm_tool_import_main(int argc, char **argv) {
    const char *db = NULL, *file = NULL;
    int rc = parse(argc, argv, "zmem import", import_usage, &db, &file);
    if (rc >= 0) return rc;
    int fd = 0;
    if (file != NULL && strcmp(file, "-") != 0 && (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "zmem import: cannot read %s: %s\n", file, strerror(errno));
        return 1;
    }
    zt_env env;
    if (!open_env(&env, "zmem import", db, false)) {
        if (fd != 0) close(fd);
        return 1;
    }
    zt_lines r;
    zm_arena ar;
    zm_arena_init(&ar, env.a);
    rc = 0;
    zm_status st = ZM_OK;
    size_t lineno = 0;
    if (!zt_lines_init(&r, env.a, fd, ZT_DEFAULT_MAX_LINE)) {
        fprintf(stderr, "zmem import: out of memory\n");
        rc = 1;
    } else if ((st = zm_store_begin(env.store)) != ZM_OK) {
        fprintf(stderr, "zmem import: %s\n", zm_store_errmsg());
        rc = 1;
        zt_lines_deinit(&r);
    } else {
        for (;;) {
            const char *line;
            size_t len;
            zt_line_kind k = zt_lines_next(&r, &line, &len);
            if (k == ZT_LINE_EOF) break;
            lineno++;
            if (k == ZT_LINE_ERROR) {
                fprintf(stderr, "zmem import: reading: %s\n", strerror(errno));
                rc = 1;
                break;
            }
            if (k == ZT_LINE_TOO_LONG) {
                fprintf(stderr, "zmem import: line %zu: longer than %zu bytes\n", lineno,
                        (size_t)ZT_DEFAULT_MAX_LINE);
                rc = 1;
                break;
            }
            if (lineno == 1 && (len < 15 || memcmp(line, "{\"zmem_export\":", 15) != 0)) {
                fprintf(stderr, "zmem import: line 1: not a zmem export (it starts with "
                                "{\"zmem_export\":1})\n");
                rc = 1;
                break;
            }
            st = zm_store_import_line(env.store, &ar, line, len);
            if (st != ZM_OK) {
                const char *msg = zm_store_errmsg();
                fprintf(stderr, "zmem import: line %zu: %s\n", lineno,
                        msg[0] ? msg : zm_status_str(st));
                rc = 1;
                break;
            }
        }
        if (rc == 0 && lineno == 0) {
            fprintf(stderr, "zmem import: the input is empty\n");
            rc = 1;
        }
        if (rc == 0) {
            if ((st = zm_store_commit(env.store)) != ZM_OK) {
                fprintf(stderr, "zmem import: committing: %s\n", zm_store_errmsg());
                rc = 1;
            }
        } else if (zm_store_rollback(env.store) == ZM_ENOTSUP) {
            fprintf(stderr, "zmem import: the lines before the error stay in the memory store\n");
        }
        zt_lines_deinit(&r);
    }
    zm_arena_deinit(&ar);
    zt_env_deinit(&env);
    if (fd != 0) close(fd);
    return rc;
}
