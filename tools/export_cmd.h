/* zmem export and zmem import: a whole memory as JSON lines, out and in. */
#ifndef ZMEM_TOOLS_EXPORT_CMD_H
#define ZMEM_TOOLS_EXPORT_CMD_H

/* zmem export [--db PATH] [FILE|-]: writes the memory at PATH (the default
   persistent memory without --db) as JSON lines to FILE or standard output.
   Returns the exit status: 0, 1 on an error (said on stderr), 2 on usage. */
int zm_tool_export_main(int argc, char **argv);

/* zmem import [--db PATH] [FILE|-]: applies an export to the memory at PATH,
   in one transaction (all or nothing on a database). Exit status as above. */
int zm_tool_import_main(int argc, char **argv);

#endif
