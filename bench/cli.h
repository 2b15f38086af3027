/*
 * Command-line helpers shared by the subcommands: number parsing with a
 * one-line error and exit status 2 on bad input, allocation that exits.
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

/* Allocation for the front, which may exit: "dlbench: out of memory" on
 * stderr and exit status 1 when the allocation fails (lib/ returns errors
 * instead). */
void *cli_xrealloc(void *p, size_t n);
char *cli_xstrdup(const char *s);
char *cli_xstrndup(const char *s, size_t n);

/* The whole command line (set by main), so that meta.json records the exact
 * command even where a subcommand sees only its own arguments. */
extern int cli_full_argc;
extern char **cli_full_argv;

/* The command line as one string, for meta.json and run logs. */
void cli_command_line(char *buf, size_t len, int argc, char **argv);

#endif
