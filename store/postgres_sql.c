/* The postgres backend's SQL: the schema's migrations and every statement,
   each prepared once per connection. Every value is a parameter. */
#include "postgres_internal.h"

/* ---------------------------------------------------------------------------
 * The schema
 *
 * zmem_keys     one row per key: the next version's number, the latest
 *               version's time, whether the key is live. The upsert of this
 *               row is the per-key lock that orders writers.
 * zmem_versions every version kept; value and metadata as JSON text.
 * zmem_docs     the search document of each key: its terms with their counts
 *               (tokenized by zmem, as the memory backend does), its token
 *               count, and the strings of its latest value as bytes.
 * zmem_nodes, zmem_edges  the graph; edge ids give insertion order.
 *
 * Keys and names are bytea: any bytes (a NUL too), ordered bytewise.
 * ------------------------------------------------------------------------- */

static const char *const migration_1[] = {
    "CREATE TABLE zmem_keys ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " key bytea NOT NULL UNIQUE,"
    " next_version bigint NOT NULL,"
    " last_ts bigint NOT NULL,"
    " live boolean NOT NULL)",
    "CREATE INDEX zmem_keys_live ON zmem_keys (id) WHERE live",
    "CREATE TABLE zmem_versions ("
    " key_id bigint NOT NULL REFERENCES zmem_keys (id) ON DELETE CASCADE,"
    " version bigint NOT NULL,"
    " ts bigint NOT NULL,"
    " deleted boolean NOT NULL,"
    " agent bytea NOT NULL,"
    " session bytea NOT NULL,"
    " value text,"
    " metadata text,"
    " PRIMARY KEY (key_id, version))",
    "CREATE TABLE zmem_docs ("
    " key_id bigint PRIMARY KEY REFERENCES zmem_keys (id) ON DELETE CASCADE,"
    " dl bigint NOT NULL,"
    " terms text[] NOT NULL,"
    " tfs integer[] NOT NULL,"
    " strings bytea[] NOT NULL)",
    "CREATE INDEX zmem_docs_terms ON zmem_docs USING gin (terms)",
    "CREATE TABLE zmem_nodes ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " name bytea NOT NULL UNIQUE)",
    "CREATE TABLE zmem_edges ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " from_id bigint NOT NULL REFERENCES zmem_nodes (id),"
    " to_id bigint NOT NULL REFERENCES zmem_nodes (id),"
    " rel bytea NOT NULL,"
    " metadata text,"
    " ts bigint NOT NULL,"
    " agent bytea NOT NULL,"
    " UNIQUE (from_id, to_id, rel))",
    "CREATE INDEX zmem_edges_from ON zmem_edges (from_id, id)",
    "CREATE INDEX zmem_edges_to ON zmem_edges (to_id, id)",
    NULL,
};

const char *const *const zm__pg_migrations[ZM__PG_SCHEMA_VERSION] = {migration_1};

/* ---------------------------------------------------------------------------
 * Statements
 * ------------------------------------------------------------------------- */

/* The match of a byte search on expression E: $1 the query's bytes, $2 its
   length, $3 the mode (0 exact, 1 prefix, 2 substring). */
#define BYTES_MATCH(E)                                                                             \
    "CASE $3::int8 WHEN 0 THEN " E " = $1::bytea"                                                  \
    " WHEN 1 THEN substring(" E " FROM 1 FOR $2::int8::int4) = $1::bytea"                          \
    " ELSE position($1::bytea IN " E ") > 0 END"

/* True when key K starts with the bytes P of length L (an int8 parameter);
   never when L is 0: the keys a search leaves out. */
#define SKIPPED(K, P, L)                                                                           \
    "(" L "::int8 > 0 AND substring(" K " FROM 1 FOR " L "::int8::int4) = " P "::bytea)"

/* What a version row gives, in this order (postgres_read.c reads them). */
#define VERSION_COLS "v.version, v.ts, v.deleted, v.agent, v.session, v.value, v.metadata"

const char *const zm__pg_sql[ZM__PG_NSTMT] = {
    [ZM__PG_SET_CONFIG] = "SELECT set_config($1::text, $2::text, false)",
    [ZM__PG_BEGIN] = "BEGIN",
    [ZM__PG_COMMIT] = "COMMIT",
    [ZM__PG_ROLLBACK] = "ROLLBACK",

    /* $1 key, $2 ts, $3 agent, $4 session, $5 value, $6 metadata, $7 dl,
       $8 terms, $9 tfs, $10 strings, $11 max_versions (0 = all), $12 the
       version (0 = the next; an import's must be above the latest, else no
       row comes back). The key's row is inserted or updated first: that row
       lock orders the writers of one key, so versions have no gap and no
       duplicate. */
    [ZM__PG_PUT] =
        "WITH k AS ("
        " INSERT INTO zmem_keys AS k (key, next_version, last_ts, live)"
        " VALUES ($1::bytea, CASE WHEN $12::int8 > 0 THEN $12::int8 + 1 ELSE 2 END,"
        " $2::int8, true)"
        " ON CONFLICT (key) DO UPDATE SET next_version = CASE WHEN $12::int8 > 0"
        " THEN $12::int8 + 1 ELSE k.next_version + 1 END,"
        " last_ts = greatest(k.last_ts, excluded.last_ts), live = true"
        " WHERE $12::int8 = 0 OR $12::int8 >= k.next_version"
        " RETURNING k.id, k.next_version - 1 AS version, k.last_ts AS ts),"
        " v AS (INSERT INTO zmem_versions"
        " (key_id, version, ts, deleted, agent, session, value, metadata)"
        " SELECT id, version, ts, false, $3::bytea, $4::bytea, $5::text, $6::text FROM k),"
        " d AS (INSERT INTO zmem_docs (key_id, dl, terms, tfs, strings)"
        " SELECT id, $7::int8, $8::text[], $9::int4[], $10::bytea[] FROM k"
        " ON CONFLICT (key_id) DO UPDATE SET dl = excluded.dl, terms = excluded.terms,"
        " tfs = excluded.tfs, strings = excluded.strings),"
        " x AS (DELETE FROM zmem_versions o USING k WHERE $11::int8 > 0"
        " AND o.key_id = k.id AND o.version <= k.version - $11::int8)"
        " SELECT version, ts FROM k",

    /* $1 key, $2 ts, $3 agent, $4 session, $5 max_versions, $6 the version
       (0 = the next). One row: the version and time written (NULL when none
       was: the key is not live and $6 is 0, or $6 is too low) and whether
       the key was live. An import ($6 > 0) records its deletion on a key
       that is not live too, adding the key's row when there is none (the
       upsert, as in PUT, orders writers). The key leaves the search index. */
    [ZM__PG_FORGET] =
        "WITH o AS (SELECT id, live FROM zmem_keys WHERE key = $1::bytea FOR UPDATE),"
        " k AS (INSERT INTO zmem_keys AS k (key, next_version, last_ts, live)"
        " SELECT $1::bytea, $6::int8 + 1, $2::int8, false"
        " WHERE $6::int8 > 0 OR EXISTS (SELECT 1 FROM o WHERE o.live)"
        " ON CONFLICT (key) DO UPDATE SET next_version = CASE WHEN $6::int8 > 0"
        " THEN $6::int8 + 1 ELSE k.next_version + 1 END,"
        " last_ts = greatest(k.last_ts, excluded.last_ts), live = false"
        " WHERE (k.live OR $6::int8 > 0) AND ($6::int8 = 0 OR $6::int8 >= k.next_version)"
        " RETURNING k.id, k.next_version - 1 AS version, k.last_ts AS ts),"
        " v AS (INSERT INTO zmem_versions"
        " (key_id, version, ts, deleted, agent, session, value, metadata)"
        " SELECT id, version, ts, true, $3::bytea, $4::bytea, NULL, NULL FROM k),"
        " d AS (DELETE FROM zmem_docs d USING k WHERE d.key_id = k.id),"
        " x AS (DELETE FROM zmem_versions o USING k WHERE $5::int8 > 0"
        " AND o.key_id = k.id AND o.version <= k.version - $5::int8)"
        " SELECT k.version, k.ts, coalesce(o.live, false)"
        " FROM (SELECT 1) AS one LEFT JOIN o ON true LEFT JOIN k ON true",

    /* $1 key: its row goes, and with it (ON DELETE CASCADE) its versions and
       its search document. */
    [ZM__PG_PURGE] = "DELETE FROM zmem_keys WHERE key = $1::bytea RETURNING id",

    /* $1 key, $2 as_of (negative: the latest). */
    [ZM__PG_GET] = "SELECT " VERSION_COLS " FROM zmem_keys k"
                   " JOIN zmem_versions v ON v.key_id = k.id"
                   " WHERE k.key = $1::bytea AND ($2::int8 < 0 OR v.ts <= $2::int8)"
                   " ORDER BY v.version DESC LIMIT 1",
    [ZM__PG_HISTORY] = "SELECT " VERSION_COLS " FROM zmem_keys k"
                       " JOIN zmem_versions v ON v.key_id = k.id"
                       " WHERE k.key = $1::bytea AND ($2::int8 < 0 OR v.ts <= $2::int8)"
                       " ORDER BY v.version",

    /* $1 query bytes, $2 length, $3 mode, $4 limit, $5 and $6 the prefix of
       the keys left out and its length (0: none). Columns: key, score,
       version, total, latest value. */
    [ZM__PG_SEARCH_BYTES] =
        "WITH m AS (SELECT k.id, k.key, k.next_version - 1 AS version,"
        " CASE WHEN " BYTES_MATCH(
            "k.key") " THEN 1.0::float8"
                     " WHEN EXISTS (SELECT 1 FROM unnest(d.strings) AS s(b) WHERE " BYTES_MATCH(
                         "s.b") ")"
                                " THEN 0.5::float8 ELSE 0.0::float8 END AS score"
                                " FROM zmem_keys k JOIN zmem_docs d ON d.key_id = k.id WHERE "
                                "k.live AND NOT " SKIPPED(
                                    "k.key", "$5",
                                    "$6") "),"
                                          " r AS (SELECT id, key, version, score, count(*) OVER () "
                                          "AS total "
                                          "FROM m"
                                          " WHERE score > 0 ORDER BY score DESC, key LIMIT "
                                          "$4::int8)"
                                          " SELECT r.key, r.score, r.version, r.total,"
                                          " (SELECT v.value FROM zmem_versions v WHERE v.key_id = "
                                          "r.id AND "
                                          "v.version = r.version)"
                                          " FROM r ORDER BY r.score DESC, r.key",

    /* $1 the query's distinct terms, $2 limit, $3 and $4 the prefix of the
       keys left out and its length (0: none; they still count in N, df and
       avgdl, as in the other backends). BM25 (k1 = 1.2, b = 0.75) as
       the memory backend computes it: N the live keys, df and avgdl over
       their documents. */
    [ZM__PG_SEARCH_TOKENS] =
        "WITH q AS (SELECT DISTINCT t AS term FROM unnest($1::text[]) AS t),"
        " n AS (SELECT count(*)::float8 AS n FROM zmem_keys WHERE live),"
        " a AS (SELECT CASE WHEN n.n > 0 AND s.tot > 0 THEN s.tot / n.n ELSE 1.0::float8 END"
        " AS avgdl FROM n, (SELECT coalesce(sum(dl), 0)::float8 AS tot FROM zmem_docs) s),"
        " i AS (SELECT q.term,"
        " ln(1.0::float8 + (n.n - c.df + 0.5::float8) / (c.df + 0.5::float8)) AS idf"
        " FROM q CROSS JOIN n CROSS JOIN LATERAL (SELECT count(*)::float8 AS df"
        " FROM zmem_docs d WHERE d.terms @> ARRAY[q.term]) c WHERE c.df > 0),"
        " h AS (SELECT d.key_id, sum(i.idf * u.tf * (1.2::float8 + 1.0::float8)"
        " / (u.tf + 1.2::float8 * (1.0::float8 - 0.75::float8 + 0.75::float8 * d.dl / a.avgdl)))"
        " AS score FROM zmem_docs d CROSS JOIN a"
        " CROSS JOIN LATERAL unnest(d.terms, d.tfs) AS u(term, tf)"
        " JOIN i ON i.term = u.term WHERE d.terms && $1::text[] GROUP BY d.key_id),"
        " r AS (SELECT k.id, k.key, h.score, k.next_version - 1 AS version,"
        " count(*) OVER () AS total FROM h JOIN zmem_keys k ON k.id = h.key_id WHERE k.live"
        " AND NOT " SKIPPED("k.key", "$3", "$4") " ORDER BY h.score DESC, k.key LIMIT $2::int8)"
                                                 " SELECT r.key, r.score, r.version, r.total,"
                                                 " (SELECT v.value FROM zmem_versions v WHERE "
                                                 "v.key_id = r.id AND v.version = r.version)"
                                                 " FROM r ORDER BY r.score DESC, r.key",

    /* $1 from, $2 to, $3 relation, $4 metadata, $5 ts, $6 agent. The nodes
       are inserted or found (the no-op update returns the row either way),
       then the edge; created is whether the edge is new. */
    [ZM__PG_LINK] =
        "WITH n AS (INSERT INTO zmem_nodes AS n (name)"
        " SELECT DISTINCT x FROM unnest(ARRAY[$1::bytea, $2::bytea]) AS x"
        " ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id, name)"
        " INSERT INTO zmem_edges AS e (from_id, to_id, rel, metadata, ts, agent)"
        " SELECT (SELECT id FROM n WHERE name = $1::bytea),"
        " (SELECT id FROM n WHERE name = $2::bytea), $3::bytea, $4::text, $5::int8, $6::bytea"
        " ON CONFLICT (from_id, to_id, rel) DO UPDATE SET metadata = excluded.metadata,"
        " ts = excluded.ts, agent = excluded.agent"
        " RETURNING (xmax = 0) AS created",

    /* $1 from, $2 to, $3 relation. */
    [ZM__PG_UNLINK] = "DELETE FROM zmem_edges e USING zmem_nodes f, zmem_nodes t"
                      " WHERE f.name = $1::bytea AND t.name = $2::bytea AND e.from_id = f.id"
                      " AND e.to_id = t.id AND e.rel = $3::bytea RETURNING e.id",

    [ZM__PG_NODE_ID] = "SELECT id FROM zmem_nodes WHERE name = $1::bytea",

    /* One level of a walk: $1 the frontier's node ids in queue order, $2 the
       relation (NULL: any), $3 the directions (1 out, 2 in). Columns: the
       node's place, direction (0 out, 1 in), from, to, relation, metadata,
       ts, agent, from id, to id; in BFS order. */
    [ZM__PG_WALK] = "SELECT f.ord, e.dir, nf.name, nt.name, e.rel, e.metadata, e.ts, e.agent,"
                    " e.from_id, e.to_id"
                    " FROM unnest($1::int8[]) WITH ORDINALITY AS f(nid, ord)"
                    " CROSS JOIN LATERAL ("
                    " SELECT 0 AS dir, x.* FROM zmem_edges x WHERE x.from_id = f.nid"
                    " AND ($2::bytea IS NULL OR x.rel = $2::bytea) AND ($3::int8 & 1) <> 0"
                    " UNION ALL"
                    " SELECT 1 AS dir, x.* FROM zmem_edges x WHERE x.to_id = f.nid"
                    " AND ($2::bytea IS NULL OR x.rel = $2::bytea) AND ($3::int8 & 2) <> 0) e"
                    " JOIN zmem_nodes nf ON nf.id = e.from_id JOIN zmem_nodes nt ON nt.id = e.to_id"
                    " ORDER BY f.ord, e.dir, e.id",

    [ZM__PG_STATS] =
        "WITH t AS (SELECT c FROM unnest(ARRAY['zmem_keys', 'zmem_versions', 'zmem_docs',"
        " 'zmem_nodes', 'zmem_edges']::regclass[]) AS c)"
        " SELECT (SELECT count(*) FROM zmem_keys WHERE live),"
        " (SELECT count(*) FROM zmem_versions), (SELECT count(*) FROM zmem_nodes),"
        " (SELECT count(*) FROM zmem_edges),"
        " (SELECT coalesce(sum(pg_table_size(c)), 0) FROM t),"
        " (SELECT coalesce(sum(pg_indexes_size(c)), 0) FROM t)",

    /* $1 the last key id, $2 the last version read, $3 rows wanted. */
    [ZM__PG_EXPORT] = "SELECT " VERSION_COLS ", k.id, k.key FROM zmem_keys k"
                      " JOIN zmem_versions v ON v.key_id = k.id"
                      " WHERE k.id > $1::int8 OR (k.id = $1::int8 AND v.version > $2::int8)"
                      " ORDER BY k.id, v.version LIMIT $3::int8",

    /* $1 the last edge id read, $2 rows wanted. Columns as a walk's, from
       column 2, and the edge's id first. */
    [ZM__PG_EXPORT_EDGES] = "SELECT e.id, 0, f.name, t.name, e.rel, e.metadata, e.ts, e.agent"
                            " FROM zmem_edges e JOIN zmem_nodes f ON f.id = e.from_id"
                            " JOIN zmem_nodes t ON t.id = e.to_id WHERE e.id > $1::int8"
                            " ORDER BY e.id LIMIT $2::int8",
};
