/* Fuzz harness: the JSON transforms and the store.
 *
 * The input is two JSON texts separated by a NUL byte: a document and an
 * argument. Every transform runs on them (the argument as a patch, a merge
 * patch, a fields list and, when it is a string, a pointer), and the
 * document is stored and searched. The harness checks that no transform
 * modifies its inputs, that every result can be written, and that a failed
 * transform leaves the arena where it was. */
#include "fuzz_common.h"
#include "zmem/store.h"
#include "zmem/transform.h"

/* Writes v; returns the text (in ar) or NULL. */
static char *text_of(zm_arena *ar, const zm_json *v) {
    char *out;
    size_t len;
    if (zm_json_write(zm_arena_allocator(ar), v, 0, &out, &len) != ZM_OK) return NULL;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    const char *sep = memchr(text, '\0', size);
    if (sep == NULL) return 0;
    size_t doc_len = (size_t)(sep - text);
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_json *doc = NULL, *arg = NULL;
    if (zm_json_parse_arena(&ar, text, doc_len, NULL, &doc, NULL) != ZM_OK ||
        zm_json_parse_arena(&ar, sep + 1, size - doc_len - 1, NULL, &arg, NULL) != ZM_OK) {
        zm_arena_deinit(&ar);
        return 0;
    }
    char *doc_text = text_of(&ar, doc), *arg_text = text_of(&ar, arg);
    FZ_CHECK(doc_text != NULL && arg_text != NULL);

    for (int op = 0; op < 5; op++) {
        const zm_json *out = NULL;
        zm_transform_error err;
        zm_status st;
        size_t used = zm_arena_used(&ar);
        switch (op) {
        case 0: st = zm_transform_patch(&ar, doc, arg, &out, &err); break;
        case 1: st = zm_transform_merge_patch(&ar, doc, arg, &out, &err); break;
        case 2: st = zm_transform_pick(&ar, doc, arg, &out, &err); break;
        case 3: st = zm_transform_omit(&ar, doc, arg, &out, &err); break;
        default: {
            size_t plen;
            const char *p = zm_json_str(arg, &plen);
            if (p == NULL) continue;
            st = zm_transform_pointer(doc, p, plen, &out, &err);
            break;
        }
        }
        if (st == ZM_OK) {
            FZ_CHECK(out != NULL && text_of(&ar, out) != NULL);
        } else {
            FZ_CHECK(err.status == st && err.message[0] != '\0');
            FZ_CHECK(zm_arena_used(&ar) == used);
        }
        char *after = text_of(&ar, doc);
        FZ_CHECK(after != NULL && strcmp(after, doc_text) == 0);
        after = text_of(&ar, arg);
        FZ_CHECK(after != NULL && strcmp(after, arg_text) == 0);
    }

    /* Store the document twice (a new version re-indexes it), search for the
       argument's text, walk a link. */
    zm_store *s;
    FZ_CHECK(zm_store_memory_create(zm_default_allocator(), NULL, &s) == ZM_OK);
    zm_store_write w1 = {"doc", 3, doc, arg, "fuzz", 4, NULL, 0, 1, 0};
    zm_store_write w2 = {"doc", 3, arg, NULL, NULL, 0, NULL, 0, 2, 0};
    zm_store_write w3 = {"arg", 3, doc, NULL, NULL, 0, NULL, 0, 3, 0};
    zm_status st = zm_store_put(s, &w1, NULL);
    if (st == ZM_OK) st = zm_store_put(s, &w2, NULL);
    if (st == ZM_OK) st = zm_store_put(s, &w3, NULL);
    FZ_CHECK(st == ZM_OK || st == ZM_ELIMIT || st == ZM_EINVAL);
    size_t qlen = arg_text ? strlen(arg_text) : 0;
    for (int mode = ZM_SEARCH_EXACT; mode <= ZM_SEARCH_TOKEN; mode++) {
        zm_search_hit *hits;
        size_t n, total;
        FZ_CHECK(zm_store_search(s, arg_text, qlen, (zm_search_mode)mode, 10,
                                 zm_arena_allocator(&ar), &hits, &n, &total) == ZM_OK);
        FZ_CHECK(n <= total);
    }
    size_t dl;
    const char *d = zm_json_str(doc, &dl);
    zm_store_link_req l = {d, "x", "r", dl, 1, 1, NULL, NULL, 0, 4};
    if (d != NULL && dl > 0 && zm_store_link(s, &l, NULL) == ZM_OK) {
        zm_store_hit *h;
        size_t n;
        bool tr;
        /* The walk never lists its start node, so a self-loop (d == "x")
           has no neighbour. */
        size_t want = dl == 1 && d[0] == 'x' ? 0 : 1;
        zm_store_walk w = {"x", 1, NULL, 0, ZM_STORE_IN, 8, 10};
        FZ_CHECK(zm_store_neighbors(s, &w, zm_arena_allocator(&ar), &h, &n, &tr) == ZM_OK &&
                 n == want);
    }
    zm_store_close(s);
    zm_arena_deinit(&ar);
    return 0;
}
