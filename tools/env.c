/* The zmem program's environment. */
#include <inttypes.h>
#include <string.h>

#include "env.h"
#include "run_cmd.h"
#include "zmem/json.h"
#include "zmem/store.h"

bool zt_env_init(zt_env *e, const char *prog) {
    memset(e, 0, sizeof *e);
    e->a = zt_counting_init(&e->counting, zm_default_allocator());
    zm_status st = zm_prim_registry_create(e->a, &e->reg);
#ifdef ZMEM_HAVE_BUILTINS
    if (st == ZM_OK) {
        zm_store *store = NULL;
        st = zm_store_memory_create(e->a, NULL, &store);
        e->store = store;
        if (st == ZM_OK) st = zm_prim_register_builtins(e->reg, store);
    }
#endif
    if (st == ZM_OK) {
        zm_prim_ctx_opts o;
        memset(&o, 0, sizeof o);
        o.longlived = e->a;
        st = zm_prim_ctx_create(&o, &e->ctx);
    }
    if (st != ZM_OK) {
        fprintf(stderr, "%s: cannot set up the primitives: %s\n", prog, zm_status_str(st));
        zt_env_deinit(e);
        return false;
    }
    return true;
}

void zt_env_deinit(zt_env *e) {
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
    fprintf(f, "%s: %" PRIu64 " requests, %" PRIu64 " calls, %" PRIu64 " errors", prog, requests,
            s.calls, s.errors);
    if (seconds > 0)
        fprintf(f, " in %.3f s (%.0f requests/s)", seconds, (double)requests / seconds);
    fprintf(f, "\n");
    fprintf(f,
            "%s: per-call arena: last call %zu B, peak call %zu B, %.1f B/call average, "
            "%zu B held across resets, %zu resets\n",
            prog, s.last_call_bytes, s.peak_call_bytes,
            s.calls ? (double)s.total_call_bytes / (double)s.calls : 0.0, s.arena_capacity,
            s.arena_resets);
    fprintf(f, "%s: response buffer %zu B\n", prog, s.response_capacity);
    fprintf(f,
            "%s: long-lived allocator: %zu allocs, %zu frees, %zu resizes, %zu remaps, "
            "%.2f MiB live, %.2f MiB peak\n",
            prog, c->allocs, c->frees, c->resizes, c->remaps, mib(c->live), mib(c->peak));
}

/* The value of option name at argv[*i]: after "=" or the next argument. */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *matched) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    *matched = false;
    if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '=')) return NULL;
    *matched = true;
    if (a[n] == '=') return a + n + 1;
    if (*i + 1 >= argc) return NULL;
    return argv[++*i];
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
    const char *v = option_value(argc, argv, i, "--max-line", &m);
    if (m) {
        if (zt_parse_size(v, &o->max_line)) return 1;
        fprintf(stderr, "%s: --max-line needs a positive byte count (K, M, G suffixes)\n", prog);
        return -1;
    }
    const char *names[] = {"--agent", "--session"};
    const char **slots[] = {&o->agent, &o->session};
    for (int k = 0; k < 2; k++) {
        v = option_value(argc, argv, i, names[k], &m);
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

bool zt_env_set_identity(zt_env *e, const zt_common_opts *o, const char *prog) {
    zm_status st = ZM_OK;
    if (o->agent != NULL) st = zm_prim_ctx_set_agent_id(e->ctx, o->agent, strlen(o->agent));
    if (st == ZM_OK && o->session != NULL)
        st = zm_prim_ctx_set_session_id(e->ctx, o->session, strlen(o->session));
    if (st != ZM_OK) fprintf(stderr, "%s: %s\n", prog, zm_status_str(st));
    return st == ZM_OK;
}
