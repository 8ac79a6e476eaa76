/* The store's conformance suite, model part: random writes and links checked against a model, and
   writers on several threads (conformance.h: the backends and the run). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, nanosleep, opendir */
#include "conformance.h"

/* ---------------------------------------------------------------------------
 * Random writes checked against a model: as_of reads, and token search with
 * the BM25 scores recomputed from scratch (to the digit where the backend
 * promises the formula, else the same keys in a consistent order).
 * ------------------------------------------------------------------------- */

#define M_KEYS  12
#define M_WORDS 8
#define M_VERS  400

typedef struct mkey {
    int nversions;
    int64_t ts[M_VERS];
    int tf[M_VERS][M_WORDS]; /* word counts of each version */
    int ntok[M_VERS];        /* words of each version */
} mkey;

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void test_model(void) {
    static mkey m[M_KEYS];
    memset(m, 0, sizeof m);
    zm_store *s = open_store(NULL);
    int64_t clock = 0;
    int ops = zt_small() ? 300 : 3000;
    for (int op = 0; op < ops; op++) {
        int k = (int)rnd(M_KEYS);
        char key[16];
        snprintf(key, sizeof key, "key%d", k);
        mkey *mk = &m[k];
        if (mk->nversions < M_VERS && rnd(3) != 0) {
            /* A value: an array of strings of random words, in MiXeD case. */
            char text[512] = "[";
            int counts[M_WORDS] = {0}, n = 0;
            int strings = 1 + (int)rnd(3);
            for (int i = 0; i < strings; i++) {
                strcat(text, i ? ",\"" : "\"");
                int words = (int)rnd(5);
                for (int w = 0; w < words; w++) {
                    int word = (int)rnd(M_WORDS);
                    char buf[16];
                    snprintf(buf, sizeof buf, "%s%c%d", w ? (rnd(2) ? " " : ", ") : "",
                             rnd(2) ? 'W' : 'w', word);
                    strcat(text, buf);
                    counts[word]++, n++;
                }
                strcat(text, "\"");
            }
            strcat(text, "]");
            clock += rnd(3); /* equal timestamps happen too */
            zm_store_version v;
            CHECK_EQ(put(s, key, J(text), NULL, NULL, clock, &v), ZM_OK);
            int i = mk->nversions++;
            CHECK_EQ(v.version, i + 1);
            mk->ts[i] = clock;
            memcpy(mk->tf[i], counts, sizeof counts);
            mk->ntok[i] = n;
        }
        /* An as_of read of a random key at a random time. */
        int rk = (int)rnd(M_KEYS);
        snprintf(key, sizeof key, "key%d", rk);
        int64_t t = (int64_t)rnd((uint32_t)clock + 2) - 1;
        int want = 0; /* the version current at t, 0 = none */
        for (int i = 0; i < m[rk].nversions; i++)
            if (t < 0 || m[rk].ts[i] <= t) want = i + 1;
        zm_store_version v;
        zm_status st = get(s, key, t, &v);
        CHECK_EQ(st, want ? ZM_OK : ZM_ENOTFOUND);
        if (st == ZM_OK) CHECK_EQ(v.version, want);
        if (op % 16 == 0) {
            zm_store_version *h;
            size_t hn;
            st = history(s, key, t, &h, &hn);
            CHECK_EQ(st, want ? ZM_OK : ZM_ENOTFOUND);
            CHECK_EQ(hn, want);
            for (size_t i = 0; i < hn; i++) CHECK_EQ(h[i].version, i + 1);
        }

        /* A token search for a random word, against BM25 from the model. */
        int word = (int)rnd(M_WORDS);
        char q[16];
        snprintf(q, sizeof q, "W%d", word);
        double N = 0, total = 0;
        int df = 0;
        for (int i = 0; i < M_KEYS; i++) {
            if (m[i].nversions == 0) continue;
            int last = m[i].nversions - 1;
            N++;
            total += 1 + m[i].ntok[last]; /* the key is one token */
            df += m[i].tf[last][word] > 0;
        }
        zm_search_hit *h;
        size_t n, tot;
        CHECK_EQ(search(s, q, ZM_SEARCH_TOKEN, 100, &h, &n, &tot), ZM_OK);
        CHECK_EQ(tot, df);
        CHECK_EQ(n, df);
        double idf = log(1.0 + (N - df + 0.5) / (df + 0.5));
        for (size_t i = 0; i < n; i++) {
            int hk = atoi(h[i].key + 3);
            int last = m[hk].nversions - 1;
            double tf = m[hk].tf[last][word], dl = 1 + m[hk].ntok[last];
            double want_score = idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * dl / (total / N)));
            CHECK(tf > 0);
            if (cur->exact_bm25) CHECK(fabs(h[i].score - want_score) < 1e-9);
            CHECK_EQ(h[i].version, m[hk].nversions);
            if (i > 0)
                CHECK(h[i - 1].score > h[i].score ||
                      (h[i - 1].score == h[i].score && strcmp(h[i - 1].key, h[i].key) < 0));
        }
        if (op % 64 == 0) zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    zm_store_close(s);
}

/* Random graphs against a plain breadth-first search over an adjacency
   matrix: the same nodes at the same (shortest) depths, each reached by an
   edge from a node one level up. Edges come and go. */
#define G_NODES 14
#define G_RELS  3

static void test_graph_model(void) {
    static bool adj[G_RELS][G_NODES][G_NODES];
    memset(adj, 0, sizeof adj);
    zm_store *s = open_store(NULL);
    int rounds = zt_small() ? 40 : 400;
    for (int r = 0; r < rounds; r++) {
        int f = (int)rnd(G_NODES), t = (int)rnd(G_NODES), rel = (int)rnd(G_RELS);
        char fn[16], tn[16], rn[16];
        snprintf(fn, sizeof fn, "n%d", f);
        snprintf(tn, sizeof tn, "n%d", t);
        snprintf(rn, sizeof rn, "r%d", rel);
        if (rnd(4) == 0) {
            bool removed;
            CHECK_EQ(unlnk(s, fn, tn, rn, &removed), ZM_OK);
            CHECK(removed == adj[rel][f][t]);
            adj[rel][f][t] = false;
        } else {
            bool created;
            CHECK_EQ(lnk(s, fn, tn, rn, NULL, NULL, r, &created), ZM_OK);
            CHECK(created == !adj[rel][f][t]);
            adj[rel][f][t] = true;
        }

        /* A walk from a random node. */
        int start = (int)rnd(G_NODES), dir = 1 + (int)rnd(3), depth = 1 + (int)rnd(8);
        int want_rel = (int)rnd(G_RELS + 1) - 1; /* -1: any */
        int dist[G_NODES];
        for (int i = 0; i < G_NODES; i++) dist[i] = -1;
        dist[start] = 0;
        int queue[G_NODES], head = 0, tail = 0, reached = 0;
        queue[tail++] = start;
        while (head < tail) {
            int u = queue[head++];
            if (dist[u] >= depth) continue;
            for (int v = 0; v < G_NODES; v++) {
                bool e = false;
                for (int rr = 0; rr < G_RELS; rr++) {
                    if (want_rel >= 0 && rr != want_rel) continue;
                    e = e || ((dir & 1) && adj[rr][u][v]) || ((dir & 2) && adj[rr][v][u]);
                }
                if (e && dist[v] < 0) dist[v] = dist[u] + 1, queue[tail++] = v, reached++;
            }
        }
        char sn[16], wr[16];
        snprintf(sn, sizeof sn, "n%d", start);
        snprintf(wr, sizeof wr, "r%d", want_rel);
        zm_store_hit *h;
        size_t n;
        bool tr;
        zm_status st = walk(s, sn, want_rel >= 0 ? wr : NULL, (zm_store_direction)dir,
                            (uint32_t)depth, 100, &h, &n, &tr);
        CHECK_EQ(st, ZM_OK);
        CHECK_EQ(n, reached);
        CHECK(!tr);
        for (size_t i = 0; i < n; i++) {
            int v = atoi(h[i].node + 1);
            CHECK_EQ(h[i].depth, dist[v]);
            /* The edge joins v to a node one level up. */
            const char *other = h[i].outgoing ? h[i].edge.from : h[i].edge.to;
            const char *self = h[i].outgoing ? h[i].edge.to : h[i].edge.from;
            CHECK_EQ(atoi(self + 1), v);
            CHECK_EQ(dist[atoi(other + 1)], dist[v] - 1);
            if (want_rel >= 0) CHECK_STR(h[i].edge.relation, wr);
            if (i > 0) CHECK(h[i - 1].depth <= h[i].depth);
        }
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    zm_store_close(s);
}

/* ---------------------------------------------------------------------------
 * Threads: writers on overlapping keys through one store get versions
 * 1..n per key, with no gap and no duplicate, each holding what its writer
 * wrote.
 * ------------------------------------------------------------------------- */

#define T_THREADS 4
#define T_KEYS    8

typedef struct writer {
    zm_store *s;
    int id;
    int writes;
    int failures;
    /* versions[k][i]: the version the i-th write of this thread to key k got */
    uint64_t *versions[T_KEYS];
    int count[T_KEYS];
} writer;

static void *write_many(void *arg) {
    writer *w = arg;
    zm_arena tmp;
    zm_arena_init(&tmp, zm_default_allocator());
    zm_allocator ta = zm_arena_allocator(&tmp);
    for (int i = 0; i < w->writes; i++) {
        int k = (i * 7 + w->id * 3) % T_KEYS;
        char key[16];
        snprintf(key, sizeof key, "shared-%d", k);
        zm_json *v = zm_json_new_array(ta, 2);
        if (v == NULL || zm_json_array_push(ta, v, zm_json_new_int(ta, w->id)) != ZM_OK ||
            zm_json_array_push(ta, v, zm_json_new_int(ta, i)) != ZM_OK) {
            w->failures++;
            break;
        }
        char agent[16];
        snprintf(agent, sizeof agent, "writer-%d", w->id);
        zm_store_write wr = W(key, v, NULL, agent, i);
        zm_store_version got;
        if (zm_store_put(w->s, &wr, &got) != ZM_OK) {
            w->failures++;
            continue;
        }
        w->versions[k][w->count[k]++] = got.version;
        if (i % 16 == 0) {
            zm_store_version r;
            if (zm_store_get(w->s, key, strlen(key), -1, ta, &r) != ZM_OK || r.version < 1)
                w->failures++;
            zm_arena_reset(&tmp, ZM_ARENA_RETAIN_CAPACITY, 0);
        }
    }
    zm_arena_deinit(&tmp);
    return NULL;
}

static void test_threads(void) {
    zm_store *s = open_store(NULL);
    int writes = zt_small() ? 100 : 1000;
    writer w[T_THREADS];
    pthread_t th[T_THREADS];
    for (int t = 0; t < T_THREADS; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].s = s;
        w[t].id = t;
        w[t].writes = writes;
        for (int k = 0; k < T_KEYS; k++)
            w[t].versions[k] = calloc((size_t)writes, sizeof(uint64_t));
    }
    for (int t = 0; t < T_THREADS; t++)
        CHECK_EQ(pthread_create(&th[t], NULL, write_many, &w[t]), 0);
    for (int t = 0; t < T_THREADS; t++) pthread_join(th[t], NULL);

    size_t all = 0;
    for (int k = 0; k < T_KEYS; k++) {
        char key[16];
        snprintf(key, sizeof key, "shared-%d", k);
        size_t n = 0;
        for (int t = 0; t < T_THREADS; t++) n += (size_t)w[t].count[k];
        all += n;
        /* Every version 1..n handed out exactly once. */
        unsigned char *seen = calloc(n + 1, 1);
        bool bad = false;
        for (int t = 0; t < T_THREADS; t++)
            for (int i = 0; i < w[t].count[k]; i++) {
                uint64_t v = w[t].versions[k][i];
                if (v < 1 || v > n || seen[v])
                    bad = true;
                else
                    seen[v] = 1;
                /* A thread's own writes to a key get increasing versions. */
                if (i > 0 && w[t].versions[k][i - 1] >= v) bad = true;
            }
        CHECK(!bad);
        free(seen);
        /* History agrees: versions 1..n, each value written by the writer
           whose put got that version. */
        zm_store_version *h;
        size_t hn;
        CHECK_EQ(history(s, key, -1, &h, &hn), ZM_OK);
        CHECK_EQ(hn, n);
        bool ok = hn == n;
        for (size_t i = 0; ok && i < hn; i++) {
            ok = h[i].version == i + 1;
            int tid = (int)zm_json_int(zm_json_at(h[i].value, 0));
            char agent[16];
            snprintf(agent, sizeof agent, "writer-%d", tid);
            ok = ok && tid >= 0 && tid < T_THREADS && strcmp(h[i].agent, agent) == 0;
            bool found = false;
            for (int j = 0; ok && j < w[tid].count[k]; j++)
                found = found || w[tid].versions[k][j] == h[i].version;
            ok = ok && found;
        }
        CHECK(ok);
        zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    }
    for (int t = 0; t < T_THREADS; t++) {
        CHECK_EQ(w[t].failures, 0);
        for (int k = 0; k < T_KEYS; k++) free(w[t].versions[k]);
    }
    CHECK_EQ(all, (size_t)T_THREADS * (size_t)writes);
    zm_store_stats st = stats(s);
    CHECK_EQ(st.keys, T_KEYS);
    CHECK_EQ(st.versions, all);
    zm_store_close(s);
}

static void run_all(void) {
    TEST(test_model);
    TEST(test_graph_model);
    TEST(test_threads);
}

int main(int argc, char **argv) {
    return conformance_main(argc, argv, "store_conformance_model", run_all);
}
