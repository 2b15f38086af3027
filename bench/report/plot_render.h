/*
 * Rendering one plot: its data file and its driver (the gnuplot variables:
 * panels, styles, legend), gnuplot run on the plot's script, and the PNG
 * and SVG renamed into place only when complete.
 */
#ifndef DLBENCH_PLOT_RENDER_H
#define DLBENCH_PLOT_RENDER_H

#include "bench/report/plot_data.h"
#include "bench/report/plot_spec.h"
#include "bench/report/plot_style.h"

struct plot_env {
	const char *scripts; /* plots/ of the suite */
	const char *outdir;  /* the results' plots directory */
	const char *machine; /* for the titles */
	const char *date;
	int log_fd; /* run.log, or -1 */
	const struct style_table *styles;
};

/* Writes <outdir>/<name>.dat and <name>.gp, runs gnuplot, and renames
 * <name>.png.tmp and <name>.svg.tmp to <name>.png and <name>.svg.  Returns
 * 0, or -1 with a line in the log (and on stderr when gnuplot failed). */
int plot_render(const struct plot_env *e, const struct plot_spec *s, const struct plot_data *d);

/* One line "<time> plot: ..." in the log. */
__attribute__((format(printf, 2, 3))) void plot_note(const struct plot_env *e, const char *fmt,
						     ...);

#endif
