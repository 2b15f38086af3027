/*
 * Command-line helpers shared by the subcommands: number, size and list
 * parsing with a one-line error and exit status 2 on bad input.
 */
#ifndef DLBENCH_CLI_H
#define DLBENCH_CLI_H

#include <stddef.h>
#include <stdint.h>

/* The prefix of every error line, e.g. "dlbench srcu". */
extern const char *cli_prog;

/* Prints "<cli_prog>: <message>" and exits with status 2. */
__attribute__((noreturn, format(printf, 1, 2))) void cli_die(const char *fmt, ...);

/* An unsigned integer in [min, max]; @opt names the option in errors. */
uint64_t cli_u64(const char *opt, const char *s, uint64_t min, uint64_t max);
double cli_double(const char *opt, const char *s, double min, double max);
/* A comma-separated list of unsigned integers ("1,2,4"); returns the count. */
size_t cli_u64_list(const char *opt, const char *s, uint64_t *out, size_t max, uint64_t min,
		    uint64_t maxval);
/* Index of @s in the NULL-terminated @names, or a one-line error naming
 * the choices. */
int cli_choice(const char *opt, const char *s, const char *const *names);

/* The whole command line (set by main), so that meta.json records the exact
 * command even where a subcommand sees only its own arguments. */
extern int cli_full_argc;
extern char **cli_full_argv;

/* The command line as one string, for meta.json and run logs. */
void cli_command_line(char *buf, size_t len, int argc, char **argv);

#endif
