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
	char ***rows;           /* rows[r][c]; short rows are padded with "" */
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

#endif
