/*
 * A workload is a table, as a stress-ng stressor is: a name, an option
 * table, a column table and a run function.  The generic driver in
 * bench/driver.c builds everything a user touches from the tables:
 * getopt_long, --help, one-line errors for bad values, list and range
 * expansion into cells, the summary.csv header and its rows, meta.json;
 * and `dlbench run` checks config keys and values against the same tables.
 * A workload never parses argv, never writes a CSV header and never knows
 * which strategy runs.
 *
 * Options.  Each option stores its parsed value at @offset in the
 * workload's own options structure (opts_size bytes, zeroed, then every
 * default applied): bool for WL_FLAG, uint64_t for WL_UINT and WL_SIZE,
 * int64_t for WL_INT, double for WL_REAL, int (an index into @choices) for
 * WL_CHOICE, const char * for WL_TEXT.
 *
 * Cells.  An option flagged WL_LIST takes a comma-separated list, with
 * ranges (START:*F:END, START:+N:END, `max` = the CPUs this process may
 * use; see bench/run/matrix.h); one flagged WL_REPEAT may be given several
 * times, each occurrence one value that may itself hold commas (a strategy
 * spec such as clear-log:initially-set=1,chunk=512).  The driver runs
 * @run once per combination of those values: a cell.  The first listed
 * option varies slowest.  Every cell is checked (@check) before the results
 * directory is created, so bad input never leaves a directory behind.
 *
 * Rows.  @run emits rows with wl_row_begin, wl_put_* by column index, and
 * wl_row_end; a column left unset is an empty field.  The header comes from
 * @columns, so header and rows cannot drift.  Columns flagged WL_SHOW also
 * form the table printed on stdout.
 */
#ifndef DLBENCH_WORKLOADS_WORKLOAD_H
#define DLBENCH_WORKLOADS_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/util/histogram.h"

/* clang-format off */
enum wl_type {
	WL_FLAG,      /* no argument */
	WL_UINT,      /* decimal or 0x integer */
	WL_INT,       /* signed integer */
	WL_SIZE,      /* bytes, with an optional K/M/G/T suffix (powers of 1024) */
	WL_REAL,      /* a decimal number */
	WL_CHOICE,    /* one of @choices */
	WL_TEXT,      /* a string, checked by @check_value when set */
};
/* clang-format on */

/* wl_option.flags */
#define WL_LIST (1u << 0)   /* a list or range: one cell per value */
#define WL_REPEAT (1u << 1) /* repeatable: one cell per occurrence */
/* The values the expand hook made of `all` (every strategy) are
 * optional: a cell that @check refuses because of one of them (a strategy
 * this kernel lacks, one that does not fit this machine) is left out with
 * a notice instead of failing the command; only when every cell is left
 * out does the command fail, with the last reason.  A value given by name
 * is never optional. */
#define WL_EXPAND_OPTIONAL (1u << 2)

struct wl_option {
	const char *name; /* long name without "--"; also the config key */
	int short_name;	  /* 0: none */
	enum wl_type type;
	unsigned flags;
	const char *def;	    /* default as typed on the command line; NULL: none */
	double min, max;	    /* numbers: inclusive range; both 0: unbounded */
	const char *const *choices; /* WL_CHOICE: NULL-terminated */
	const char *metavar;	    /* "N", "SIZE", "LIST"... (NULL: from the type) */
	const char *help;	    /* one line or more, '\n' between lines */
	size_t offset;		    /* where the value goes in the options structure */
	/* Optional, WL_TEXT: validates one value; -1 with a line in @err. */
	int (*check_value)(const char *value, char *err, size_t errlen);
	/* Optional, WL_REPEAT: replaces one value by several (e.g. `all` by
	 * every strategy's name).  Returns the number written to @out (at
	 * most @max), 0 to keep the value as it is, -1 on error. */
	int (*expand)(const char *value, const char **out, int max);
	/* Optional, WL_FLAG: an option that prints something (a list of
	 * strategies) on @f and ends the command with status 0, as --help
	 * does, before any check runs. */
	void (*action)(FILE *f);
};

/* clang-format off */
enum wl_col_type {
	WL_COL_TEXT,
	WL_COL_UINT,
	WL_COL_INT,
	WL_COL_REAL,
};
/* clang-format on */

/* wl_column.flags */
#define WL_SHOW (1u << 0) /* also a column of the stdout table */

struct wl_column {
	const char *name;
	enum wl_col_type type;
	const char *unit; /* "ns", "bytes", "1/s", "" ... (documentation) */
	unsigned flags;
	const char *format; /* WL_COL_REAL: printf format (default "%.3f") */
	int width;	    /* WL_SHOW: field width on stdout (0: the default) */
};

struct wl_ctx;

/* run's return values besides 0 */
#define WL_FAILED 1	/* ran, and measured a failure (verify: lost pages); exit 1 */
#define WL_ERROR -1	/* could not run (a thread, pinning): exit 1 */
#define WL_BAD_INPUT -2 /* bad input or too few resources: exit 2 */

struct workload {
	const char *name;		 /* dlbench NAME, and results/<time>-NAME */
	const char *summary;		 /* one line for dlbench --help */
	const char *description;	 /* the paragraph of NAME --help */
	const struct wl_option *options; /* ends with { 0 } */
	const struct wl_column *columns; /* ends with { 0 } */
	size_t opts_size;
	/* false: prints its table only, creates no results directory (and
	 * has no --out) */
	bool writes_results;
	/* Optional: after the options, e.g. the list of strategies. */
	void (*help_extra)(FILE *f);
	/*
	 * Optional: checks one cell's options against each other and against
	 * the machine (memory, huge pages, NUMA nodes, CPUs), creating
	 * nothing.  Runs for every cell before any cell runs, and in
	 * `dlbench run -n`.  0, or WL_BAD_INPUT with one line in @err.
	 */
	int (*check)(const void *opts, char *err, size_t errlen);
	/* Runs one cell: 0, WL_FAILED, or WL_ERROR / WL_BAD_INPUT with one
	 * line in @err. */
	int (*run)(const void *opts, struct wl_ctx *ctx, char *err, size_t errlen);
	/* Optional: after the last cell ran (@status: the worst of the cells,
	 * 0 or WL_FAILED), before the results are closed: closing tables and
	 * totals on stdout.  Not called when a cell could not run. */
	void (*finish)(struct wl_ctx *ctx, int status);
};

/* ---- What run may call (implemented by the driver) ---- */

/* Rows of summary.csv (and of the stdout table). */
void wl_row_begin(struct wl_ctx *ctx);
void wl_put_text(struct wl_ctx *ctx, int col, const char *value);
void wl_put_uint(struct wl_ctx *ctx, int col, uint64_t value);
void wl_put_int(struct wl_ctx *ctx, int col, int64_t value);
void wl_put_real(struct wl_ctx *ctx, int col, double value);
/* Writes the row; -1 with a message on an I/O error. */
int wl_row_end(struct wl_ctx *ctx);

/* Saves @h as hist/<name>.csv of the results directory (value_ns,count);
 * nothing when the workload writes no results.  -1 with a message. */
__attribute__((format(printf, 3, 4))) int wl_save_histogram(struct wl_ctx *ctx,
							    const struct histogram *h,
							    const char *name_fmt, ...);

/* Adds `"key": <json>` to meta.json (@json_fmt formats a JSON value:
 * "\"%s\"", "%d" ...).  A key added again replaces the earlier value. */
__attribute__((format(printf, 3, 4))) void wl_meta(struct wl_ctx *ctx, const char *key,
						   const char *json_fmt, ...);

/* Human-readable lines on stdout (kernel-style phase lines and notes). */
__attribute__((format(printf, 2, 3))) void wl_printf(struct wl_ctx *ctx, const char *fmt, ...);
/* A warning or notice on stderr, one line, prefixed with the command. */
__attribute__((format(printf, 2, 3))) void wl_notice(struct wl_ctx *ctx, const char *fmt, ...);
/* Progress on stderr, shown only when stderr is a terminal outside CI;
 * overwritten by the next progress line. */
__attribute__((format(printf, 2, 3))) void wl_progress(struct wl_ctx *ctx, const char *fmt, ...);

/* The cell being run (0-based) and the number of cells. */
size_t wl_cell_index(const struct wl_ctx *ctx);
size_t wl_cell_count(const struct wl_ctx *ctx);
/* The results directory, or NULL when the workload writes none. */
const char *wl_results_dir(const struct wl_ctx *ctx);

/* The CPUs this process may run on (what `max` stands for). */
unsigned wl_max_cpus(void);

#endif
