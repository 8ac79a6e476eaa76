/* Helpers the store tests share: a scratch directory, JSON from text, and
   short forms of the store calls. Tests take a zm_store from a factory, so
   the backend-independent ones can run against every backend. */
#ifndef ZMEM_TESTS_SQLITE_TEST_H
#define ZMEM_TESTS_SQLITE_TEST_H

#include <dirent.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "zmem/store.h"

/* Opens two stores on the database file path and a read-only SQLite
   connection to it, for a test that looks at the file beside the stores
   (each open is a check). True when all three opened; what opened is the
   caller's to close either way. */
static bool st_open_two(const char *path, zm_store **s1, zm_store **s2, sqlite3 **raw) {
    *s1 = *s2 = NULL;
    *raw = NULL;
    CHECK_EQ(zm_store_sqlite_open(path, NULL, s1), ZM_OK);
    CHECK_EQ(zm_store_sqlite_open(path, NULL, s2), ZM_OK);
    CHECK_EQ(sqlite3_open_v2(path, raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return *s1 != NULL && *s2 != NULL && *raw != NULL;
}

/* The JSON text of a string of n bytes 'x' (quotes and a NUL added), from
   malloc; NULL (a failed check) when out of memory. */
static char *st_json_xs(size_t n) {
    char *text = malloc(n + 3);
    CHECK(text != NULL);
    if (text == NULL) return NULL;
    text[0] = '"';
    memset(text + 1, 'x', n);
    text[n + 1] = '"';
    text[n + 2] = '\0';
    return text;
}

/* Makes a store for a test: ZM_OK with *out the caller's. */
typedef zm_status (*st_factory)(void *ctx, zm_store **out);

/* The scratch directory of the test program (made by st_tmpdir). */
static char st_dir[256];

/* Makes a fresh scratch directory under $TMPDIR (or /tmp). */
static void st_tmpdir(const char *name) {
    const char *t = getenv("TMPDIR");
    snprintf(st_dir, sizeof st_dir, "%s/zmem-%s-XXXXXX", t && *t ? t : "/tmp", name);
    if (mkdtemp(st_dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
}

/* Removes the scratch directory and the files in it. */
static void st_rmdir(void) {
    DIR *d = opendir(st_dir);
    if (d == NULL) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", st_dir, e->d_name);
        if (remove(p) != 0) {
            chmod(p, 0700);
            remove(p);
        }
    }
    closedir(d);
    rmdir(st_dir);
}

/* The path of name inside the scratch directory, in buf. */
static const char *st_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", st_dir, name);
    return buf;
}

/* Removes a database and its -wal and -shm files. */
static void st_remove_db(const char *path) {
    char p[600];
    remove(path);
    snprintf(p, sizeof p, "%s-wal", path);
    remove(p);
    snprintf(p, sizeof p, "%s-shm", path);
    remove(p);
}

/* Parses JSON text into ar (exits on a syntax error: a bug in the test). */
static zm_json *st_json(zm_arena *ar, const char *text, size_t len) {
    zm_json *v = NULL;
    if (zm_json_parse_arena(ar, text, len, NULL, &v, NULL) != ZM_OK) {
        fprintf(stderr, "bad test JSON: %.*s\n", (int)len, text);
        exit(1);
    }
    return v;
}
#define ST_JSON(ar, lit) st_json((ar), (lit), strlen(lit))

/* A write of value (JSON text) under key (NUL-terminated) at ts by agent. */
static zm_status st_put(zm_store *s, zm_arena *ar, const char *key, const char *json, int64_t ts,
                        zm_store_version *out) {
    zm_store_write w;
    memset(&w, 0, sizeof w);
    w.key = key;
    w.key_len = strlen(key);
    w.value = st_json(ar, json, strlen(json));
    w.agent = "tester";
    w.agent_len = 6;
    w.ts_ms = ts;
    return zm_store_put(s, &w, out);
}

/* Forgets key (purge or not). */
static zm_status st_forget(zm_store *s, const char *key, bool purge, int64_t ts, bool *existed) {
    zm_store_write w;
    memset(&w, 0, sizeof w);
    w.key = key;
    w.key_len = strlen(key);
    w.ts_ms = ts;
    return zm_store_forget(s, &w, purge, NULL, existed);
}

/* Links from -> to with relation. */
static zm_status st_link(zm_store *s, const char *from, const char *to, const char *rel,
                         bool *created) {
    zm_store_link_req l;
    memset(&l, 0, sizeof l);
    l.from = from;
    l.from_len = strlen(from);
    l.to = to;
    l.to_len = strlen(to);
    l.relation = rel;
    l.relation_len = strlen(rel);
    l.ts_ms = 1;
    return zm_store_link(s, &l, created);
}

/* The latest value of key written as compact JSON into buf ("" when none). */
static zm_status st_get_text(zm_store *s, const char *key, char *buf, size_t cap) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_store_version v;
    buf[0] = '\0';
    zm_status st = zm_store_get(s, key, strlen(key), -1, zm_arena_allocator(&ar), &v);
    if (st == ZM_OK) {
        char *t;
        size_t n;
        if (zm_json_write(zm_arena_allocator(&ar), v.value, 0, &t, &n) == ZM_OK)
            snprintf(buf, cap, "%.*s", (int)n, t);
    }
    zm_arena_deinit(&ar);
    return st;
}

#endif
