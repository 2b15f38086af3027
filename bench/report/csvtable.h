/*
 * Reading CSV files back (the summaries that `run` gathers, `plot` and
 * `compare` read): a whole file in memory as rows of strings.  RFC 4180
 * quoting, the same rule lib/csv.h writes with.
 */
#ifndef DLBENCH_CSVTABLE_H
#define DLBENCH_CSVTABLE_H

#include <stddef.h>

struct csv_table {
	size_t ncols;
	char **header;
	size_t nrows;
	char ***rows; /* rows[r][c]; short rows are padded with "" */
};

/* Reads @path.  Returns -1 (errno set, nothing to free) if it cannot be
 * read; an empty file gives a table with no columns. */
int csv_table_read(struct csv_table *t, const char *path);
void csv_table_free(struct csv_table *t);
/* Index of column @name, or -1. */
int csv_table_col(const struct csv_table *t, const char *name);
/* Splits one line (no newline) into fields; returns the count, or -1 on
 * an unterminated quote.  Fields are malloc'd. */
int csv_split_line(const char *line, char ***fields);
/* Whether @s is a (finite) decimal number; its value in *v. */
int csv_number(const char *s, double *v);

/* Whether column @c of a gathered summary says what was measured (a
 * parameter) rather than holding a measured figure: a column with any
 * non-numeric value, or one whose name is among @keys (the config keys;
 * '-' matches '_') or among the numeric parameter columns the workloads
 * are known to write (readers, vcpus, iteration, slot_bytes, ...).  The
 * sample columns (csv_is_sample_column) are never parameters. */
int csv_is_parameter(const struct csv_table *t, size_t c, char *const *keys, size_t nkeys);

/* Whether @name is one of the workloads' known numeric parameter columns. */
int csv_known_parameter(const char *name);
/* Whether @name is one of the config @keys ('-' matches '_'). */
int csv_is_config_key(const char *name, char *const *keys, size_t nkeys);

/* Whether column @name tells one sample from another of the same cell
 * (cell, repetition, workload_repetition, rep, seed): neither a parameter nor a
 * figure. */
int csv_is_sample_column(const char *name);

/* The config keys of a run directory: the cells.csv columns between
 * "repetition" and "status".  Returns the count; free with csv_free_names. */
size_t csv_run_keys(const char *dir, char ***keys);
void csv_free_names(char **names, size_t n);

#endif
