/* Fuzz harness: the JSON parser, writer and builders when an allocation fails.
 *
 * Input: two bytes of fail index, one byte of mode (bit 0: make the failure
 * sticky, every later request failing too; the rest: parse flags), then the
 * text. The text is parsed once with nothing failing (the truth), then again
 * with the chosen allocation (or resize/remap growth) failing; the written
 * text, a deep copy and a document in a caller's arena go through the same.
 * Each step must give the truth's result or ZM_ENOMEM, ZM_ENOMEM only when a
 * failure was induced, and nothing may stay allocated.
 */
#include <stdbool.h>

#include "fuzz_common.h"
#include "zmem/json.h"

static void expect(zm_status st, zm_status truth, const fz_track *t, const char *what) {
    if (st == ZM_ENOMEM) {
        FZ_CHECKF(t->failures > 0 || truth == ZM_ENOMEM, "%s: ENOMEM with no failure induced",
                  what);
        return;
    }
    FZ_CHECKF(st == truth, "%s gave %s; with nothing failing it gives %s", what, zm_status_name(st),
              zm_status_name(truth));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    size_t fail_at = fz_u16(&in);
    uint8_t mode = fz_u8(&in);
    zm_json_parse_opts opts = {0};
    opts.flags = (mode >> 1) & 0x3f;
    opts.dup_keys = (zm_json_dup_mode)((mode >> 7) ? ZM_JSON_DUP_LAST : ZM_JSON_DUP_ERROR);
    uint32_t wflags = (opts.flags & ZM_JSON_ALLOW_NAN_INF) ? ZM_JSON_WRITE_NAN_INF : 0;
    const char *text = (const char *)in.p;
    size_t len = in.n;

    fz_track t;
    zm_allocator a = fz_track_init(&t, zm_c_allocator());

    /* The truth. */
    zm_json_doc *doc = NULL;
    zm_status truth = zm_json_parse(a, text, len, &opts, &doc, NULL);
    zm_status wtruth = ZM_OK;
    if (truth == ZM_OK) {
        char *out;
        size_t out_len;
        wtruth = zm_json_write(a, zm_json_doc_root(doc), wflags, &out, &out_len);
        if (wtruth == ZM_OK) zm_free(a, out, out_len + 1, 1);
        zm_json_doc_free(doc);
    }
    FZ_CHECKF(t.live_blocks == 0, "a parse and write with nothing failing left %zu block(s)",
              t.live_blocks);

    /* The same with a failure. */
    fz_track_fail_at(&t, fail_at, mode & 1);
    doc = NULL;
    zm_json_error err;
    zm_status st = zm_json_parse(a, text, len, &opts, &doc, &err);
    expect(st, truth, &t, "parse");
    if (st != ZM_OK) {
        FZ_CHECK(doc == NULL);
        FZ_CHECKF(err.status == st, "error status %s, returned %s", zm_status_name(err.status),
                  zm_status_name(st));
    } else {
        zm_json *root = zm_json_doc_root(doc);
        char *out = NULL;
        size_t out_len = 0;
        st = zm_json_write(a, root, wflags, &out, &out_len);
        expect(st, wtruth, &t, "write");
        if (st == ZM_OK) zm_free(a, out, out_len + 1, 1);

        zm_json *copy = NULL;
        st = zm_json_clone(a, root, &copy);
        expect(st, ZM_OK, &t, "clone");
        if (st == ZM_OK) {
            fz_track_no_fail(&t);
            FZ_CHECK(fz_json_eq(root, copy));
            zm_json_free(a, copy);
        }
        zm_json_doc_free(doc);
    }
    FZ_CHECKF(t.live_blocks == 0, "%zu block(s) left after a failure at %zu", t.live_blocks,
              fail_at);

    /* Into a caller's arena: a failure rewinds it. */
    fz_track_fail_at(&t, fail_at, mode & 1);
    zm_arena ar;
    zm_arena_init(&ar, a);
    zm_json *root = NULL;
    size_t used = zm_arena_used(&ar);
    st = zm_json_parse_arena(&ar, text, len, &opts, &root, NULL);
    expect(st, truth, &t, "parse into an arena");
    if (st != ZM_OK) FZ_CHECK(zm_arena_used(&ar) == used);
    zm_arena_deinit(&ar);
    fz_track_finish(&t, "json under allocation failures");
    return 0;
}
