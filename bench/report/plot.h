/*
 * The plot step shared by `dlbench plot DIR` and the end of `dlbench run`.
 */
#ifndef DLBENCH_PLOT_H
#define DLBENCH_PLOT_H

/* Renders every plot whose data DIR holds into a new DIR/plots/ (or
 * plots-2/, ...), PNG and SVG, with the gnuplot scripts in @scripts (NULL:
 * find plots/ beside the executable).  Plots without data are skipped
 * with a note in DIR/run.log.  Writes the plots directory to @out (may be
 * NULL).  Returns the number of plots rendered, or -1 on an error (one
 * line on stderr). */
int plot_results(const char *dir, const char *scripts, char *out, size_t outlen);

/* Finds the repository's plots/ directory from the executable's path. */
int plot_find_scripts(char *buf, size_t len);

#endif
