/* The search primitive. Templates (keys under ZM_TEMPLATE_KEY_PREFIX) are
   left out, so that an agent's search of its memory is not answered with its
   prompt scaffolds, unless the query itself starts with the prefix. */
#include "builtins_internal.h"

#define TPREFIX     ZM_TEMPLATE_KEY_PREFIX
#define TPREFIX_LEN (sizeof TPREFIX - 1)

#define DEFAULT_LIMIT 10
#define MAX_LIMIT     1000

static const char *const MODES[] = {"exact", "prefix", "substring", "token"};

static zm_status prim_search(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    zm_store *s = zm__store_of(ctx);
    size_t qlen, mlen;
    const char *q = zm_json_str(zm_json_get(params, "query"), &qlen);
    const char *m = zm_json_str(zm_json_get(params, "mode"), &mlen);
    if (q == NULL) return zm_prim_fail(ctx, ZM_EINVAL, "/query", "missing parameter");
    int mode = -1;
    for (int i = 0; i < 4 && m != NULL; i++)
        if (strlen(MODES[i]) == mlen && memcmp(MODES[i], m, mlen) == 0) mode = i;
    if (mode < 0)
        return zm_prim_fail(ctx, ZM_EINVAL, "/mode",
                            "mode must be one of exact, prefix, substring, token");
    int64_t limit = DEFAULT_LIMIT;
    zm_status st = zm__bi_param_int(ctx, params, "limit", &limit);
    if (st != ZM_OK) return st;
    if (limit < 0 || limit > MAX_LIMIT)
        return zm_prim_fail(ctx, ZM_EINVAL, "/limit", "limit must be within 0..%d", MAX_LIMIT);

    zm__build b = {zm_prim_alloc(ctx), false};
    zm_search_hit *hits;
    size_t n, total;
    bool all = qlen >= TPREFIX_LEN && memcmp(q, TPREFIX, TPREFIX_LEN) == 0;
    st = zm_store_search_skip(s, q, qlen, (zm_search_mode)mode, (size_t)limit, TPREFIX,
                              all ? 0 : TPREFIX_LEN, b.a, &hits, &n, &total);
    if (st == ZM_ENOTSUP) /* a backend that cannot leave keys out: templates are seen */
        st = zm_store_search(s, q, qlen, (zm_search_mode)mode, (size_t)limit, b.a, &hits, &n,
                             &total);
    if (st != ZM_OK) return zm__bi_fail(ctx, st, NULL, "search");

    zm_json *arr = zm__b_arr(&b, n);
    for (size_t i = 0; i < n && !b.oom; i++) {
        const zm_search_hit *h = &hits[i];
        zm_json *o = zm__b_obj(&b, 4);
        zm__b_set(&b, o, "key", zm__b_ref(&b, h->key, h->key_len));
        zm__b_set(&b, o, "score", zm__b_real(&b, h->score));
        zm__b_set(&b, o, "version", zm__b_int(&b, (int64_t)h->version));
        /* A snippet is a slice of a stored string, not NUL-terminated:
           copied (at most ZM_STORE_SNIPPET bytes). */
        if (h->snippet != NULL)
            zm__b_set(&b, o, "snippet", zm__b_str(&b, h->snippet, h->snippet_len));
        zm__b_push(&b, arr, o);
    }
    zm_json *r = zm__b_obj(&b, 2);
    zm__b_set(&b, r, "results", arr);
    zm__b_set(&b, r, "total", zm__b_int(&b, (int64_t)total));
    if (b.oom) return zm__bi_oom(ctx);
    *result = r;
    return ZM_OK;
}

const zm_prim_def zm__bi_search = {
    .name = "search",
    .description =
        "Search keys and the strings inside their latest values. Modes exact, prefix and "
        "substring compare bytes (case-sensitive): a matching key scores 1.0, matching content "
        "0.5. Mode token ranks with BM25 (k1 1.2, b 0.75) over lowercased alphanumeric tokens. "
        "Results are ordered by score, then key; limit defaults to 10 (at most 1000); total "
        "counts every match. A snippet shows the matching text. Templates (keys under "
        "\"$template/\") are left out unless the query starts with \"$template/\".",
    .input_schema = "{\"type\":\"object\","
                    "\"properties\":{"
                    "\"query\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
                    "\"mode\":{\"type\":\"string\","
                    "\"enum\":[\"exact\",\"prefix\",\"substring\",\"token\"]},"
                    "\"limit\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":1000}},"
                    "\"required\":[\"query\",\"mode\"],"
                    "\"additionalProperties\":false}",
    .fn = prim_search,
};
