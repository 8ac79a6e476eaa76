/* Command-line helpers shared by the zmem subcommands. */
#include <string.h>

#include "args.h"

const char *zt_option_value(int argc, char **argv, int *i, const char *name, bool *matched) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    *matched = false;
    if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '=')) return NULL;
    *matched = true;
    if (a[n] == '=') return a + n + 1;
    if (*i + 1 >= argc) return NULL;
    return argv[++*i];
}
