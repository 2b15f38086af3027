/* Rendering one plot with gnuplot: see plot_render.h. */
#include "bench/report/plot_render.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include <sys/wait.h>
#include <unistd.h>

#include "bench/report/results.h"

void plot_note(const struct plot_env *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	results_log_vprintf(e->log_fd, "plot", fmt, ap);
	va_end(ap);
}

/* A gnuplot single-quoted string: '' stands for a quote; no newlines. */
static void gp_string(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
	fputc('\'', f);
}

/* The legend: each distinct title once, with its style. */
struct legend {
	struct {
		const char *title;
		const char *key;
		struct plot_style st;
		int ref;
	} * e;
	size_t n;
};

/* The legend entry of a block, added when new: a series takes its
 * strategy's style, dashed apart from earlier entries of the same
 * strategy (another host, another value of a parameter); a reference line
 * is black and dashed. */
static size_t legend_entry(struct legend *l, const struct plot_block *b, int ref,
			   const struct style_table *st)
{
	size_t i, same = 0;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].title, b->label))
			return i;
	for (size_t k = 0; k < l->n; k++)
		same += l->e[k].ref == ref && (ref || !strcmp(l->e[k].key, b->key));
	l->e = cli_xrealloc(l->e, (l->n + 1) * sizeof(*l->e));
	l->e[i].title = b->label;
	l->e[i].key = b->key;
	l->e[i].ref = ref;
	if (ref) {
		l->e[i].st =
			(struct plot_style){ .colour = "#000000", .pt = 0, .dt = 2 + (int)same };
	} else {
		style_lookup(st, b->key, &l->e[i].st);
		l->e[i].st.dt += (int)same;
	}
	l->n++;
	return i;
}

static void write_block_style(FILE *f, size_t i, const struct plot_style *st)
{
	fprintf(f, "lc_%zu = '%s'; pt_%zu = %d; dt_%zu = %d\n", i, st->colour, i, st->pt, i,
		st->dt);
}

/* The panels, the style of every block and the legend. */
static void write_layout(FILE *f, const struct plot_data *d, const struct style_table *st)
{
	struct legend l = { 0 };
	size_t block = 0, longest = 0;

	fprintf(f, "nfacets = %zu\n", d->nf);
	for (size_t i = 0; i < d->nf; i++) {
		const struct plot_facet *p = &d->f[i];

		fprintf(f, "facet_title_%zu = ", i + 1);
		gp_string(f, p->title);
		fprintf(f, "\nfacet_first_%zu = %zu; facet_nseries_%zu = %zu; facet_nextra_%zu = %zu\n",
			i + 1, block, i + 1, p->nseries, i + 1, p->nrefs);
		for (size_t k = 0; k < p->nseries + p->nrefs; k++) {
			int ref = k >= p->nseries;
			/* the entry first: legend_entry may move l.e */
			size_t e = legend_entry(&l, ref ? &p->refs[k - p->nseries] : &p->series[k],
						ref, st);

			write_block_style(f, block++, &l.e[e].st);
		}
	}
	fprintf(f, "nkeys = %zu\n", l.n);
	for (size_t k = 0; k < l.n; k++) {
		fprintf(f, "key_title_%zu = ", k + 1);
		gp_string(f, l.e[k].title);
		fprintf(f,
			"; key_lc_%zu = '%s'; key_pt_%zu = %d; key_ps_%zu = %g; key_dt_%zu = %d\n",
			k + 1, l.e[k].st.colour, k + 1, l.e[k].ref ? 1 : l.e[k].st.pt, k + 1,
			l.e[k].ref || d->cdf ? 0.0 : 0.8, k + 1, l.e[k].st.dt);
		if (strlen(l.e[k].title) > longest)
			longest = strlen(l.e[k].title);
	}
	fprintf(f, "keyw = %d\n",
		(int)(95 + 7.2 * (double)(longest < 16	 ? 16
					  : longest > 60 ? 60
							 : longest)));
	free(l.e);
}

/* <outdir>/<name>.gp: every variable, then the plot's script. */
static int write_driver(const struct plot_env *e, const struct plot_spec *s,
			const struct plot_data *d, const struct plot_range *r)
{
	struct results_file rf;
	char rel[256], path[PATH_MAX];
	FILE *f;

	snprintf(rel, sizeof(rel), "%s.gp", s->name);
	if (results_file_open(&rf, e->outdir, rel))
		return -1;
	f = rf.f;
	fprintf(f, "# %s: written by dlbench plot; `gnuplot %s.gp` here renders it again\n",
		s->name, s->name);
	fprintf(f, "if (!exists('pngout')) pngout = '%s.png'\n", s->name);
	fprintf(f, "if (!exists('svgout')) svgout = '%s.svg'\n", s->name);
	results_pathf(path, sizeof(path), "%s/%s.dat", e->outdir, s->name);
	fputs("datafile = ", f);
	gp_string(f, path);
	fputs("\nplottitle = ", f);
	gp_string(f, s->title);
	fputs("\nmachine = ", f);
	gp_string(f, e->machine);
	fputs("\ndate = ", f);
	gp_string(f, e->date);
	fputs("\nscriptdir = ", f);
	gp_string(f, e->scripts);
	fprintf(f, "\nxmin = %.9g; xmax = %.9g; ymin = %.9g; ymax = %.9g\n", r->xmin, r->xmax,
		r->ymin, r->ymax);
	write_layout(f, d, e->styles);
	fprintf(f, "load scriptdir.'/%s.gp'\n", s->script);
	if (ferror(f)) {
		results_file_abort(&rf);
		return -1;
	}
	return results_file_commit(&rf);
}

static int write_data(const struct plot_env *e, const struct plot_spec *s,
		      const struct plot_data *d, struct plot_range *r)
{
	struct results_file rf;
	char rel[256];

	snprintf(rel, sizeof(rel), "%s.dat", s->name);
	if (results_file_open(&rf, e->outdir, rel))
		return -1;
	if (plot_data_write(d, rf.f, r)) {
		results_file_abort(&rf);
		return -1;
	}
	return results_file_commit(&rf);
}

/* Runs gnuplot on the driver with the temporary output names; its output
 * goes to the log.  Returns its exit status, or -1. */
static int run_gnuplot(const struct plot_env *e, const char *driver, const char *png,
		       const char *svg)
{
	char expr[PATH_MAX * 3];
	int status;
	pid_t pid;

	if (results_pathf(expr, sizeof(expr), "pngout='%s'; svgout='%s'", png, svg))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (e->log_fd >= 0) {
			dup2(e->log_fd, 1);
			dup2(e->log_fd, 2);
		}
		execlp("gnuplot", "gnuplot", "-e", expr, driver, (char *)NULL);
		fprintf(stderr, "cannot run gnuplot: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int plot_render(const struct plot_env *e, const struct plot_spec *s, const struct plot_data *d)
{
	char driver[PATH_MAX], png[PATH_MAX], svg[PATH_MAX], pngf[PATH_MAX], svgf[PATH_MAX];
	struct plot_range r;
	int rc;

	if (results_pathf(driver, sizeof(driver), "%s/%s.gp", e->outdir, s->name) ||
	    results_pathf(png, sizeof(png), "%s/%s.png.tmp", e->outdir, s->name) ||
	    results_pathf(svg, sizeof(svg), "%s/%s.svg.tmp", e->outdir, s->name) ||
	    results_pathf(pngf, sizeof(pngf), "%s/%s.png", e->outdir, s->name) ||
	    results_pathf(svgf, sizeof(svgf), "%s/%s.svg", e->outdir, s->name)) {
		plot_note(e, "path too long for %s in %s", s->name, e->outdir);
		return -1;
	}
	if (write_data(e, s, d, &r) || write_driver(e, s, d, &r)) {
		plot_note(e, "cannot write the data of %s", s->name);
		return -1;
	}
	/* gnuplot writes the temporary names; a kill leaves no partial plot
	 * under the final name */
	rc = run_gnuplot(e, driver, png, svg);
	if (rc != 0) {
		unlink(png);
		unlink(svg);
		plot_note(e, "gnuplot failed (status %d) on %s/%s.gp for %s", rc, e->scripts,
			  s->script, s->name);
		fprintf(stderr, "dlbench plot: gnuplot failed on %s/%s.gp for %s (see run.log)\n",
			e->scripts, s->script, s->name);
		return -1;
	}
	if (results_rename(png, pngf) || results_rename(svg, svgf))
		return -1;
	plot_note(e, "rendered %s and %s", pngf, svgf);
	return 0;
}
