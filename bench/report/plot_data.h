/*
 * The data of one plot: panels (facets), each with its series and its
 * reference lines, each a list of points with every sample behind them.
 * Built from a summary (plot_data_summary) or from histograms
 * (plot_data_hists), written as the gnuplot data file (plot_data_write).
 *
 * The data file holds one block per line drawn, facet after facet, series
 * before references, blocks separated by two blank lines.  A block's first
 * line is its title; then, for a summary plot, one line per point
 * `x median low high n` (low and high: the 95% bootstrap interval of the
 * median over the n samples, the median itself when n < 2), or, for a
 * histogram plot, `value fraction_at_or_below`.
 */
#ifndef DLBENCH_PLOT_DATA_H
#define DLBENCH_PLOT_DATA_H

#include <stdio.h>

#include "bench/report/csvtable.h"
#include "bench/report/plot_spec.h"
#include "bench/report/rdir.h"

struct plot_block {
	char label[256]; /* the legend entry */
	char key[128];	 /* the series value: its style */
	size_t npoints;
	double *x;
	double **y; /* the samples of each point */
	size_t *ny;
};

struct plot_facet {
	char title[192]; /* "" when the plot has one panel */
	struct plot_block *series, *refs;
	size_t nseries, nrefs;
};

struct plot_data {
	struct plot_facet *f;
	size_t nf;
	int cdf; /* points are (value, count) of histograms */
};

/* The extent of every point's median, for axes that panels share (error
 * bars beyond it are clipped: one wild repetition must not flatten every
 * line); ymin is the least positive value (log axes), 0 when none. */
struct plot_range {
	double xmin, xmax, ymin, ymax;
};

/* Builds the panels of an XY or SPECTRUM plot from summary @t; @keys are
 * the config keys of the run.  Returns the number of series over all
 * panels (0: nothing to draw). */
size_t plot_data_summary(const struct plot_spec *s, const struct csv_table *t, char *const *keys,
			 size_t nkeys, struct plot_data *d);
/* Builds the panels of a CDF plot from the histograms of @where.
 * Returns the number of series over all panels. */
size_t plot_data_hists(const struct plot_spec *s, const struct rdir_summary *where,
		       struct plot_data *d);
/* Writes the data file; fills @r.  Returns -1 on a write error. */
int plot_data_write(const struct plot_data *d, FILE *f, struct plot_range *r);
void plot_data_free(struct plot_data *d);

/* The median of a block's point @p and its 95% bootstrap interval. */
void plot_point_stats(const struct plot_block *b, size_t p, double *med, double *lo, double *hi);

#endif
