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
/* A size with an optional K/M/G/T suffix (powers of 1024): "10M", "3G". */
uint64_t cli_size(const char *opt, const char *s, uint64_t min, uint64_t max);
double cli_double(const char *opt, const char *s, double min, double max);
/* A comma-separated list of unsigned integers ("1,2,4"); returns the count. */
size_t cli_u64_list(const char *opt, const char *s, uint64_t *out, size_t max, uint64_t min,
		    uint64_t maxval);
/* Index of @s in the NULL-terminated @names, or a one-line error naming
 * the choices. */
int cli_choice(const char *opt, const char *s, const char *const *names);
/* @n CPUs for the workload's threads (topology_pick_cpus with @list or
 * @placement, an int from enum placement), in a new array; a bad list is a
 * one-line error naming -c/--cpus (exit 2), overcommit a one-line warning
 * naming @what. */
int *cli_pick_cpus(int n, int placement, const char *list, const char *what);

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
