/* Before and after for the JSON layer: two builds of libzmem.so loaded side by
 * side in one process (dlopen, RTLD_LOCAL), parsing and writing the same files
 * in turn (A, B, A, B, ...), so that the load of a shared machine falls on both
 * alike.
 *
 *   json_ab OLD/libzmem.so NEW/libzmem.so ROUNDS FILE...
 *
 * For each file: parse and write MB/s of input, each the best of ROUNDS
 * batches of thread CPU time, and NEW / OLD (above 1: NEW is faster). Timing
 * decides nothing: this only prints.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zmem.h"

typedef struct lib {
    zm_allocator (*default_allocator)(void);
    zm_status (*parse)(zm_allocator, const char *, size_t, const zm_json_parse_opts *,
                       zm_json_doc **, zm_json_error *);
    void (*doc_free)(zm_json_doc *);
    zm_json *(*doc_root)(const zm_json_doc *);
    zm_status (*write)(zm_allocator, const zm_json *, uint32_t, char **, size_t *);
    zm_allocator a;
    zm_json_doc *doc;
} lib;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int load(lib *L, const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "json_ab: %s\n", dlerror());
        return 1;
    }
    *(void **)&L->default_allocator = dlsym(h, "zm_default_allocator");
    *(void **)&L->parse = dlsym(h, "zm_json_parse");
    *(void **)&L->doc_free = dlsym(h, "zm_json_doc_free");
    *(void **)&L->doc_root = dlsym(h, "zm_json_doc_root");
    *(void **)&L->write = dlsym(h, "zm_json_write");
    if (!L->default_allocator || !L->parse || !L->doc_free || !L->doc_root || !L->write) {
        fprintf(stderr, "json_ab: %s lacks the JSON functions\n", path);
        return 1;
    }
    L->a = L->default_allocator();
    return 0;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
            if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
                buf[n] = '\0';
                *len = (size_t)n;
            } else {
                free(buf);
                buf = NULL;
            }
        }
    }
    fclose(f);
    return buf;
}

/* Seconds for one parse (write when w) by L, over a batch of k. */
static double batch(lib *L, const char *text, size_t len, int w, int k) {
    double t0 = now();
    for (int i = 0; i < k; i++) {
        if (w) {
            char *out;
            size_t n;
            if (L->write(L->a, L->doc_root(L->doc), 0, &out, &n) == ZM_OK)
                L->a.vtable->free(L->a.ctx, out, n + 1, 1, 0);
        } else {
            zm_json_doc *d;
            if (L->parse(L->a, text, len, NULL, &d, NULL) == ZM_OK) L->doc_free(d);
        }
    }
    return (now() - t0) / k;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s OLD/libzmem.so NEW/libzmem.so ROUNDS FILE...\n", argv[0]);
        return 2;
    }
    lib L[2];
    if (load(&L[0], argv[1]) || load(&L[1], argv[2])) return 1;
    int rounds = atoi(argv[3]) > 0 ? atoi(argv[3]) : 50;
    printf("%-22s %10s %10s %8s %10s %10s %8s\n", "file (MB/s)", "parse old", "new", "new/old",
           "write old", "new", "new/old");
    for (int f = 4; f < argc; f++) {
        size_t len;
        char *text = read_file(argv[f], &len);
        if (text == NULL) {
            fprintf(stderr, "json_ab: cannot read %s\n", argv[f]);
            return 1;
        }
        int ok = 1;
        for (int k = 0; k < 2; k++)
            ok &= L[k].parse(L[k].a, text, len, NULL, &L[k].doc, NULL) == ZM_OK;
        if (!ok) {
            fprintf(stderr, "json_ab: %s does not parse\n", argv[f]);
            return 1;
        }
        int k = len < 100000 ? 20 : len < 1000000 ? 4 : 2; /* runs per batch */
        double best[2][2] = {{1e9, 1e9}, {1e9, 1e9}};      /* [parse/write][old/new] */
        for (int w = 0; w < 2; w++)
            for (int r = 0; r < rounds; r++)
                for (int i = 0; i < 2; i++) {
                    double t = batch(&L[i], text, len, w, k);
                    if (t < best[w][i]) best[w][i] = t;
                }
        const char *name = strrchr(argv[f], '/') ? strrchr(argv[f], '/') + 1 : argv[f];
        printf("%-22s %10.1f %10.1f %7.3fx %10.1f %10.1f %7.3fx\n", name, len / best[0][0] / 1e6,
               len / best[0][1] / 1e6, best[0][0] / best[0][1], len / best[1][0] / 1e6,
               len / best[1][1] / 1e6, best[1][0] / best[1][1]);
        for (int i = 0; i < 2; i++) L[i].doc_free(L[i].doc);
        free(text);
    }
    return 0;
}
