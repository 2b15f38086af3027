/*
 * The plots `dlbench plot` knows: one table entry per plot, naming the
 * workload whose summary feeds it, the columns it draws, how its series and
 * panels (facets) are formed, and the paragraph that tells a person how to
 * read it (the report prints it under the plot).
 */
#ifndef DLBENCH_PLOT_SPEC_H
#define DLBENCH_PLOT_SPEC_H

#include <stddef.h>

/* clang-format off */
enum plot_kind {
	PLOT_XY, /* median of y against x, one line per series */
	PLOT_SPECTRUM, /* percentile columns against their percentile */
	PLOT_CDF, /* cumulative distribution of merged histograms */
};
/* clang-format on */

/* clang-format off */
enum plot_reference {
	REF_NONE,
	REF_FLOOR, /* the median of column `floor` against x */
	REF_LINEAR, /* the best series' value at the smallest x, scaled by x */
};
/* clang-format on */

struct plot_spec {
	const char *name;   /* output file base name */
	const char *script; /* plots/<script>.gp */
	const char *workload;
	enum plot_kind kind;
	const char *title;
	const char *x;	     /* column, or columns multiplied: "vcpus*bytes_per_vcpu" */
	const char *y;	     /* PLOT_XY: column; PLOT_SPECTRUM: comma-separated columns */
	const char *series;  /* column whose value names the series (and its style) */
	const char *filter;  /* "col=value" / "col!=value", space-separated */
	const char *pool;    /* comma-separated columns pooled with the repetitions */
	const char *label;   /* comma-separated columns that name series apart
				 * when they vary, besides the config keys and the
				 * known numeric parameters */
	const char *nolabel; /* comma-separated columns that never do */
	const char *facet;   /* comma-separated columns: one panel per
				 * combination of those that vary */
	enum plot_reference ref;
	const char *floor;	/* REF_FLOOR: the column */
	const char *hist;	/* PLOT_CDF: comma-separated fnmatch(3) patterns of
				 * the histogram names (file name less .csv) */
	const char *hist_label; /* PLOT_CDF: extended regex on the name; group 1
				 * names the series (and its style), the other
				 * groups are joined after it */
	int hist_facet;		/* PLOT_CDF: the regex group naming the panel (0: none) */
	const char *facet_name; /* PLOT_CDF: what the panel group is ("readers") */
	const char *how;	/* how to read it */
};

extern const struct plot_spec plot_specs[];
extern const size_t plot_nspecs;

/* Whether the comma/star-separated @list holds @name. */
int plot_in_list(const char *list, const char *name);

#endif
