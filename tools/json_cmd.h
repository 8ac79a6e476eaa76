/* zmem json: the JSON subcommands of the zmem program.
 *
 *   zmem json check [PARSE OPTIONS] [--] FILE|-         exit 0 valid, 1 invalid, 2 usage/I/O
 *   zmem json fmt [--pretty] [--indent4] [--ascii] [PARSE OPTIONS] [--] FILE|-
 *   zmem json bench [--min-ms N] FILE...
 *
 * The parse options are the fields of zm_json_parse_opts as flags: --dup
 * error|first|last, --comments, --trailing-commas, --nan, --bom,
 * --lone-surrogates, --max-depth N, --numbers-as-text. An invalid document is
 * reported on the error stream as FILE:LINE:COL: message ("<stdin>" for -);
 * when a flag would accept it, the message ends by naming that flag. Nothing
 * here calls exit: the entry points return the exit status, so a test (or
 * another front end) can call them.
 */
#ifndef ZMEM_TOOLS_JSON_CMD_H
#define ZMEM_TOOLS_JSON_CMD_H

#include <stdio.h>

/* The subcommand as the zmem program dispatches it: argv[0] is "json".
   Reads stdin for "-", writes stdout and stderr. Returns the exit status. */
int zm_tool_json_main(int argc, char **argv);

/* The same with the streams given: in stands for "-", out and err for
   stdout and stderr. */
int zm_tool_json_run(int argc, char **argv, FILE *in, FILE *out, FILE *err);

#endif
