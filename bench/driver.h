/*
 * The generic command driver: turns a workload table (workloads/workload.h)
 * into a dlbench subcommand, and answers `dlbench run` about a workload's
 * keys and values from the same table.
 */
#ifndef DLBENCH_BENCH_DRIVER_H
#define DLBENCH_BENCH_DRIVER_H

#include <stddef.h>

#include "workloads/workload.h"

/* Every workload, in the order `dlbench --help` lists them; NULL-ended. */
extern const struct workload *const workloads[];

/* The workload named @name: one of workloads[], or one registered. */
const struct workload *workload_find(const char *name);

/* Adds a table that workload_find finds (a test binary's stand-in
 * workload); 0, or -1 when the name is taken or the list is full. */
int workload_register(const struct workload *w);

/* The option a config key names (`-` and `_` are the same), or NULL. */
const struct wl_option *workload_option(const struct workload *w, const char *key);

/*
 * Parses one value of @o into @dst (the option's type; NULL: check only).
 * 0, or -1 with one line in @err that names the value but not the option.
 */
int workload_parse_value(const struct wl_option *o, const char *text, void *dst, char *err,
			 size_t errlen);

/*
 * Checks one value of @o as given on a command line or in a config: a
 * list or range for a WL_LIST option (each item parsed), the expand hook
 * of a WL_REPEAT one (`all`), then workload_parse_value.  0, or -1 with
 * one line in @err that starts with "--NAME: ".
 */
int workload_check_value(const struct wl_option *o, const char *text, char *err, size_t errlen);

/*
 * Parses a workload's command line (argv[0] is the workload's name) the way
 * `dlbench NAME ...` would, and checks every cell (the table's check hook)
 * without running anything or creating a directory.  0, or -1 with one line
 * in @err.  This is `dlbench run -n`'s dry run of a cell.
 */
int workload_dry_run(const struct workload *w, int argc, char **argv, char *err, size_t errlen);

/* dlbench NAME ...: parse, check, create the results, run every cell.
 * Returns the exit status. */
int workload_main(const struct workload *w, int argc, char **argv);

/* Prints `dlbench NAME --help`. */
void workload_usage(const struct workload *w, FILE *f);

#endif
