/* The benchmark data files (../shared/bench-data) that the JSON tests read
   when their first argument names the folder. */
#ifndef ZMEM_TEST_DATA_FILE_H
#define ZMEM_TEST_DATA_FILE_H

#include <stdio.h>
#include <stdlib.h>

/* Reads the file dir/name whole into malloc'd memory (one byte more than it
   holds, not terminated) and stores its length in *len. Returns NULL when
   the file cannot be opened. */
static char *slurp(const char *dir, const char *name, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *t = malloc((size_t)n + 1);
    *len = fread(t, 1, (size_t)n, f);
    fclose(f);
    return t;
}

#endif
