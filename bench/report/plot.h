/*
 * The plot and report step shared by `dlbench plot DIR`, `dlbench report
 * DIR` and the end of `dlbench run` (and `merge`).
 */
#ifndef DLBENCH_PLOT_H
#define DLBENCH_PLOT_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

struct plot_outcome {
	char plots[PATH_MAX];  /* the plots directory ("" when none rendered) */
	char report[PATH_MAX]; /* the report ("" when it could not be written) */
	int rendered;	       /* plots rendered */
};

/* Renders every plot whose data DIR holds into a new DIR/plots/ (or
 * plots-2/, ...), PNG and SVG, with the gnuplot scripts in @scripts (NULL:
 * find plots/ beside the executable), then writes DIR/report.html (or
 * report-2.html beside plots-2/, ...): one self-contained page with the
 * metadata, the claims' verdicts, the ranked tables, every plot inlined and
 * the failed cells.  Plots without data are skipped with a note in
 * DIR/run.log.  Every file is written under a temporary name and renamed
 * when complete.  The caller holds DIR's lock (results_dir_lock): `run`
 * holds it for its whole life, `plot` and `report` take it first.
 * Returns the number of plots rendered, or -1 on an error (one line on
 * stderr); fills @o (may be NULL). */
int plot_and_report(const char *dir, const char *scripts, struct plot_outcome *o);

/* The same, writing the plots directory to @out (may be NULL): the entry
 * point `dlbench run` calls after gathering. */
int plot_results(const char *dir, const char *scripts, char *out, size_t outlen);

/* Writes DIR/report.html (or report-2.html, ...) without rendering plots:
 * for `run --no-plot` and `report --no-plots`.  Writes its path to @out
 * (may be NULL).  Returns 0, or -1 with one line on stderr.  The caller
 * holds DIR's lock. */
int report_results(const char *dir, const char *scripts, char *out, size_t outlen);

/* Finds the repository's plots/ directory from the executable's path. */
int plot_find_scripts(char *buf, size_t len);

/* The command line of `plot` and `report`: [--scripts DIR] [--no-plots]
 * DIR (--no-plots only where @no_plots is not NULL).  Sets *scripts and
 * *no_plots, returns DIR; --help prints @help and exits 0, a bad option is
 * one line and exit 2. */
const char *plot_parse_args(int argc, char **argv, const char **scripts, int *no_plots,
			    void (*help)(FILE *f), const char *cmd);

#endif
