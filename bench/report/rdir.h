/*
 * Reading a results directory back: what plot, report, compare and the
 * claims' verdicts share.  A results directory is either a `dlbench run`
 * directory (meta.json, cells.csv, config.ini, <workload>/summary.csv,
 * <workload>/hist/<scenario>-<cell>-r<rep>-NAME.csv, cells/) or one
 * workload's own (meta.json naming the workload, summary.csv, hist/NAME.csv).
 */
#ifndef DLBENCH_RDIR_H
#define DLBENCH_RDIR_H

#include <limits.h>
#include <stddef.h>

#include "bench/report/csvtable.h"

/* Whether @dir is a results directory: a directory holding meta.json and
 * cells.csv or summary.csv. */
int rdir_is_results(const char *dir);
/* The same, with one line "<who>: DIR is not a results directory (...)" on
 * stderr when it is not; returns 0 or -1. */
int rdir_check(const char *dir, const char *who);

/* The value of "key" in @dir/meta.json (a string's text, or a number as
 * written); "" when absent. */
void rdir_meta(const char *dir, const char *key, char *buf, size_t len);

struct rdir_pair {
	char *key;
	char *value; /* a string's text, or the raw JSON of a value */
};
/* Every top-level pair of @dir/meta.json, in file order.  Returns the
 * count (0 when there is no meta.json); free with rdir_pairs_free. */
size_t rdir_meta_pairs(const char *dir, struct rdir_pair **out);
void rdir_pairs_free(struct rdir_pair *p, size_t n);

struct rdir_summary {
	char workload[128];
	char path[PATH_MAX];	/* its summary.csv */
	char histdir[PATH_MAX]; /* its hist/ */
	int run_layout;		/* hist names carry <scenario>-<cell>-r<rep>- */
};
/* The summaries of @dir, workloads in name order.  Returns the count;
 * free(*out). */
size_t rdir_summaries(const char *dir, struct rdir_summary **out);
/* The summary of workload @wl; 0, or -1 when @dir has none. */
int rdir_find_summary(const char *dir, const char *wl, struct rdir_summary *out);

/* Column @name of @t, where '-' and '_' match each other; -1 if absent. */
int rdir_col(const struct csv_table *t, const char *name);
/* Whether cell text @have equals @want: the same text, or the same number
 * (@want may carry a K/M/G/T size suffix: 64M matches 67108864). */
int rdir_value_eq(const char *have, const char *want);
/* Whether row @r passes @filter: `col=value` and `col!=value` terms
 * separated by spaces or ';'.  A term on an absent column passes. */
int rdir_row_matches(const struct csv_table *t, size_t r, const char *filter);
/* The first column @filter names that @t lacks, into @missing; 0 when
 * there is none, -1 otherwise. */
int rdir_filter_columns(const struct csv_table *t, const char *filter, char *missing, size_t len);
/* Whether @filter fixes @col to one value (col=value). */
int rdir_filter_fixes(const char *filter, const char *col);

/* Whether column @c of @t names series or cells apart: a parameter
 * (csv_is_parameter) that is a config key, a known numeric parameter, or
 * the host of a merged result.  Descriptive columns that follow from the
 * parameters (cpus, placement, ...) do not. */
int rdir_names_cells(const struct csv_table *t, size_t c, char *const *keys, size_t nkeys);

/* A value for a title: sizes (columns named *bytes*) as 16M, 1G. */
void rdir_human_value(const char *col, const char *v, char *out, size_t len);
/* A figure of column @col for a person: *_ns columns in ns/us/ms/s,
 * *per_s columns with k/M/G, others with 4 significant digits. */
void rdir_fmt_figure(const char *col, double v, char *out, size_t len);

#endif
