/* Command-line helpers shared by the zmem subcommands. */
#ifndef ZMEM_TOOLS_ARGS_H
#define ZMEM_TOOLS_ARGS_H

#include <stdbool.h>

/* Reads option name at argv[*i], given as "NAME VALUE" or "NAME=VALUE".
   Sets *matched when argv[*i] is that option; then returns its value
   (advancing *i past a separate value), or NULL when the value is missing.
   Returns NULL with *matched false when argv[*i] is another argument. */
const char *zt_option_value(int argc, char **argv, int *i, const char *name, bool *matched);

#endif
