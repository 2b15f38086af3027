/*
 * The report's ranked tables: for each scenario and each of its headline
 * figures, one table per combination of the other parameters (the
 * "condition": slot size and share dirty, vCPUs and fault path...), the
 * strategies ranked by their median figure over every sample (repetitions,
 * and what the figure pools, such as the iterations after the first), with
 * the 95% bootstrap interval of the median, the ratio to the best strategy
 * and to the floor, each with its own bootstrap interval
 * (lib/util/stats.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"

#include "bench/report/csvtable.h"
#include "bench/report/plot_spec.h"
#include "bench/report/plot_style.h"
#include "bench/report/rdir.h"
#include "bench/report/report.h"
#include "lib/util/stats.h"

#define RESAMPLES 1000

struct rank_figure {
	const char *workload;
	const char *filter; /* the rows (rdir_row_matches) */
	const char *series; /* the strategy column */
	const char *figure;
	const char *what;
	int higher_better;
	const char *floor_col;	  /* the floor: a column of the same rows */
	const char *floor_series; /* or the rows of this strategy */
	const char *pool;	  /* columns pooled with the repetitions */
	const char *plot;
};

/* clang-format off */
static const struct rank_figure figures[] = {
	{ "harvest", NULL, "strategy", "get_log_ns", "get-log time", 0, "floor_ns", NULL, "rep",
	  "harvest-getlog-vs-dirty" },
	{ "dirty-log", "mode=iteration iteration!=1", "strategy", "dirty_pass_ns",
	  "dirty-pass time (iterations after the first)", 0, "floor_pass_ns", NULL, "iteration",
	  "dirty-pass-vs-vcpus" },
	{ "dirty-log", "mode=iteration iteration!=1", "strategy", "get_log_ns",
	  "get-log time (iterations after the first)", 0, NULL, NULL, "iteration",
	  "getlog-vs-size" },
	{ "dirty-log", "mode=continuous", "strategy", "stall_p99_ns", "vCPU stall p99", 0, NULL,
	  NULL, "iteration", "stall-spectrum" },
	{ "dirty-log", "mode=continuous", "strategy", "harvest_p50_ns", "harvest p50", 0, NULL,
	  NULL, "iteration", NULL },
	{ "memslot", NULL, "protection", "lookups_per_s", "lookups per second per reader", 1, NULL,
	  "floor", "lookups_per_s_min,lookups_per_s_max", "memslot-lookups-vs-readers" },
	{ "memslot", NULL, "protection", "update_p99_ns", "update latency p99", 0, NULL, NULL, NULL,
	  "memslot-update-cdf" },
	{ "srcu", "gp_kind=none loop=plain", "primitive", "read_pair_ns", "read lock + unlock (plain loop)", 0, NULL, NULL,
	  NULL, "srcu-read-pair" },
	{ "srcu", "gp_kind!=none", "primitive", "gp_p50_ns", "grace-period latency p50", 0, NULL,
	  NULL, NULL, "srcu-gp-percentiles" },
	{ "vcpu-array", NULL, "strategy", "visit_ns_per_vcpu", "pass cost per vCPU visited", 0,
	  NULL, "fixed", NULL, "vcpu-array-visit" },
	{ "rmap", NULL, "walker", "walks_per_s", "walks per second", 1, NULL, NULL, NULL,
	  "rmap-walks" },
};
/* clang-format on */

struct entry {
	const char *name;
	double *v;
	size_t n;
	double med, lo, hi;
};

struct entries {
	struct entry *e;
	size_t n;
	double *floor;
	size_t nfloor;
};

static void push(double **v, size_t *n, double x)
{
	*v = cli_xrealloc(*v, (*n + 1) * sizeof(double));
	(*v)[(*n)++] = x;
}

static struct entry *entry_get(struct entries *es, const char *name)
{
	for (size_t i = 0; i < es->n; i++)
		if (!strcmp(es->e[i].name, name))
			return &es->e[i];
	es->e = cli_xrealloc(es->e, (es->n + 1) * sizeof(*es->e));
	es->e[es->n] = (struct entry){ .name = name };
	return &es->e[es->n++];
}

static void entries_free(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++)
		free(es->e[i].v);
	free(es->e);
	free(es->floor);
	memset(es, 0, sizeof(*es));
}

static int higher_first;

static int entry_cmp(const void *a, const void *b)
{
	double x = ((const struct entry *)a)->med, y = ((const struct entry *)b)->med;

	return higher_first ? (x < y) - (x > y) : (x > y) - (x < y);
}

/* One table cell: a value (or a ratio when @ratio) and its interval. */
static void cell_ci(FILE *f, const char *col, int ratio, double m, double lo, double hi, int ok)
{
	char a[32], b[32], c[32];

	if (isnan(m)) {
		fputs("<td>-</td><td></td>", f);
		return;
	}
	if (ratio) {
		snprintf(a, sizeof(a), "%.3g", m);
		snprintf(b, sizeof(b), "%.3g", lo);
		snprintf(c, sizeof(c), "%.3g", hi);
	} else {
		rdir_fmt_figure(col, m, a, sizeof(a));
		rdir_fmt_figure(col, lo, b, sizeof(b));
		rdir_fmt_figure(col, hi, c, sizeof(c));
	}
	fprintf(f, "<td class=num>%s%s</td><td class=ci>", a, ratio ? "&times;" : "");
	if (ok)
		fprintf(f, "[%s, %s]", b, c);
	else
		fputs("(n &lt; 2)", f);
	fputs("</td>", f);
}

/* The ratio of medians num/den with its interval; NAN when undefined. */
static void ratio(const double *den, size_t nden, const double *num, size_t nnum, double *r,
		  double *lo, double *hi, int *ok)
{
	double *a = malloc((nden + 1) * sizeof(double)), *b = malloc((nnum + 1) * sizeof(double));
	double ma, mb;

	memcpy(a, den, nden * sizeof(double));
	memcpy(b, num, nnum * sizeof(double));
	ma = stats_median(a, nden);
	mb = stats_median(b, nnum);
	free(a);
	free(b);
	*r = nden && nnum && ma != 0 ? mb / ma : NAN;
	*ok = nden > 1 && nnum > 1 && !stats_ratio_ci(den, nden, num, nnum, RESAMPLES, 1, lo, hi);
}

static void table_row(FILE *f, const struct rank_figure *fig, const struct entries *es, size_t i,
		      const struct style_table *styles)
{
	const struct entry *e = &es->e[i], *best = &es->e[0];
	struct plot_style st;
	double r, lo, hi;
	int ok;

	style_lookup(styles, e->name, &st);
	fprintf(f, "<tr><td class=num>%zu</td><td><span class=sw style=\"background:%s\"></span>",
		i + 1, st.colour);
	html_text(f, e->name);
	fprintf(f, "</td><td class=num>%zu</td>", e->n);
	cell_ci(f, fig->figure, 0, e->med, e->lo, e->hi, e->n > 1);
	if (i == 0) {
		fputs("<td class=num>1&times;</td><td class=ci>best</td>", f);
	} else {
		/* how many times worse than the best: above 1 either way */
		if (fig->higher_better)
			ratio(e->v, e->n, best->v, best->n, &r, &lo, &hi, &ok);
		else
			ratio(best->v, best->n, e->v, e->n, &r, &lo, &hi, &ok);
		cell_ci(f, NULL, 1, r, lo, hi, ok);
	}
	if (es->nfloor) {
		ratio(es->floor, es->nfloor, e->v, e->n, &r, &lo, &hi, &ok);
		cell_ci(f, NULL, 1, r, lo, hi, ok);
	} else {
		cell_ci(f, NULL, 1, NAN, 0, 0, 0);
	}
	fputs("</tr>\n", f);
}

static void write_table(FILE *f, const struct rank_figure *fig, struct entries *es,
			const char *condition, const struct style_table *styles)
{
	for (size_t i = 0; i < es->n; i++) {
		struct entry *e = &es->e[i];
		double *tmp = malloc((e->n + 1) * sizeof(double));

		memcpy(tmp, e->v, e->n * sizeof(double));
		e->med = stats_median(tmp, e->n);
		free(tmp);
		if (stats_median_ci(e->v, e->n, RESAMPLES, 1, &e->lo, &e->hi))
			e->lo = e->hi = e->med;
	}
	higher_first = fig->higher_better;
	qsort(es->e, es->n, sizeof(*es->e), entry_cmp);
	fputs("<table class=rank><caption>", f);
	html_text(f, condition[0] ? condition : "all cells");
	fprintf(f,
		"</caption>\n<tr><th>#</th><th>%s</th><th>n</th><th colspan=2>median %s, 95%% "
		"CI</th>"
		"<th colspan=2>&times; best, 95%% CI</th><th colspan=2>&times; floor, 95%% "
		"CI</th></tr>\n",
		fig->series, fig->higher_better ? "(higher is better)" : "(lower is better)");
	for (size_t i = 0; i < es->n; i++)
		table_row(f, fig, es, i, styles);
	fputs("</table>\n", f);
}

struct scope {
	const struct csv_table *t;
	const struct rank_figure *fig;
	char *cond;	     /* cond[c]: column c tells conditions apart */
	int sc, fc, yc, flc; /* series, scenario, figure, floor columns */
};

/* The condition of row @r: "col=value" of every condition column. */
static void condition_of(const struct scope *s, size_t r, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t c = 0; c < s->t->ncols && used + 1 < len; c++) {
		char v[64];

		if (!s->cond[c])
			continue;
		rdir_human_value(s->t->header[c], s->t->rows[r][c], v, sizeof(v));
		used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", used ? ", " : "",
					 s->t->header[c], v);
	}
}

/* The tables of one scenario: rows @rows (a mask) of summary @s->t. */
static void scenario_tables(FILE *f, const struct scope *s, const char *rows,
			    const struct style_table *styles)
{
	char **done = NULL;
	size_t ndone = 0;

	for (size_t r0 = 0; r0 < s->t->nrows; r0++) {
		char cond[512], other[512];
		struct entries es = { 0 };
		size_t i;

		if (!rows[r0])
			continue;
		condition_of(s, r0, cond, sizeof(cond));
		for (i = 0; i < ndone && strcmp(done[i], cond); i++)
			;
		if (i < ndone)
			continue;
		done = cli_xrealloc(done, (ndone + 1) * sizeof(*done));
		done[ndone++] = strdup(cond);
		for (size_t r = r0; r < s->t->nrows; r++) {
			const char *name = s->t->rows[r][s->sc];
			double v;

			condition_of(s, r, other, sizeof(other));
			if (!rows[r] || strcmp(other, cond))
				continue;
			if (s->flc >= 0 && csv_number(s->t->rows[r][s->flc], &v))
				push(&es.floor, &es.nfloor, v);
			if (!csv_number(s->t->rows[r][s->yc], &v))
				continue;
			if (s->fig->floor_series && !strcmp(name, s->fig->floor_series))
				push(&es.floor, &es.nfloor, v);
			struct entry *e = entry_get(&es, name);

			push(&e->v, &e->n, v);
		}
		if (es.n)
			write_table(f, s->fig, &es, cond, styles);
		entries_free(&es);
	}
	for (size_t i = 0; i < ndone; i++)
		free(done[i]);
	free(done);
}

/* Which columns tell conditions apart among the rows @rows. */
static void mark_conditions(struct scope *s, const char *rows, char *const *keys, size_t nkeys)
{
	const struct rank_figure *fig = s->fig;

	for (size_t c = 0; c < s->t->ncols; c++) {
		const char *name = s->t->header[c];
		size_t first = SIZE_MAX;

		s->cond[c] = 0;
		if ((int)c == s->sc || (int)c == s->fc || (int)c == s->yc || (int)c == s->flc ||
		    (fig->pool && plot_in_list(fig->pool, name)) ||
		    rdir_filter_fixes(fig->filter, name) || !rdir_names_cells(s->t, c, keys, nkeys))
			continue;
		for (size_t r = 0; r < s->t->nrows && !s->cond[c]; r++) {
			if (!rows[r])
				continue;
			if (first == SIZE_MAX)
				first = r;
			else if (strcmp(s->t->rows[r][c], s->t->rows[first][c]))
				s->cond[c] = 1;
		}
	}
}

static void figure_section(FILE *f, const char *dir, const struct csv_table *t,
			   const struct rank_figure *fig, const struct style_table *styles)
{
	struct scope s = { .t = t, .fig = fig };
	char *rows = calloc(t->nrows + 1, 1), *scen_done = calloc(t->nrows + 1, 1);
	char **keys;
	size_t nkeys = csv_run_keys(dir, &keys);

	s.sc = csv_table_col(t, fig->series);
	s.fc = csv_table_col(t, "scenario");
	s.yc = csv_table_col(t, fig->figure);
	s.flc = fig->floor_col ? csv_table_col(t, fig->floor_col) : -1;
	s.cond = calloc(t->ncols + 1, 1);
	for (size_t r0 = 0; s.sc >= 0 && s.yc >= 0 && r0 < t->nrows; r0++) {
		const char *scen = s.fc >= 0 ? t->rows[r0][s.fc] : "";
		size_t nrows = 0;

		if (scen_done[r0] || !rdir_row_matches(t, r0, fig->filter))
			continue;
		for (size_t r = r0; r < t->nrows; r++) {
			rows[r] = (s.fc < 0 || !strcmp(t->rows[r][s.fc], scen)) &&
				  rdir_row_matches(t, r, fig->filter);
			scen_done[r] |= s.fc < 0 || !strcmp(t->rows[r][s.fc], scen);
			nrows += rows[r] != 0;
		}
		mark_conditions(&s, rows, keys, nkeys);
		fprintf(f, "<details open><summary><b>%s</b> &mdash; %s (<code>%s</code>)",
			scen[0] ? scen : fig->workload, fig->what, fig->figure);
		if (fig->plot)
			fprintf(f, ", plot: <a href=\"#plot-%s\">%s</a>", fig->plot, fig->plot);
		fprintf(f, ", %zu rows</summary>\n", nrows);
		fputs("<div class=tables>\n", f);
		scenario_tables(f, &s, rows, styles);
		fputs("</div></details>\n", f);
		memset(rows, 0, t->nrows);
	}
	free(rows);
	free(scen_done);
	free(s.cond);
	csv_free_names(keys, nkeys);
}

void report_rank(FILE *f, const char *dir, const struct style_table *styles)
{
	struct rdir_summary *sums;
	size_t n = rdir_summaries(dir, &sums), shown = 0;

	fputs("<section id=ranking><h2>Strategies ranked</h2>\n<p>For each scenario and figure, "
	      "one table per combination of the other parameters. n is the number of samples "
	      "(repetitions, and iterations where the figure pools them); the interval is the "
	      "95% percentile-bootstrap interval of the median. &times; best is how many times "
	      "worse than the best strategy (1 for the best), &times; floor the median over the "
	      "floor's median (the same work with tracking or protection off), each with a "
	      "bootstrap interval of the ratio.</p>\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		struct csv_table t;

		if (csv_table_read(&t, sums[i].path))
			continue;
		for (size_t k = 0; k < sizeof(figures) / sizeof(figures[0]); k++)
			if (!strcmp(figures[k].workload, sums[i].workload) &&
			    csv_table_col(&t, figures[k].figure) >= 0) {
				figure_section(f, dir, &t, &figures[k], styles);
				shown++;
			}
		csv_table_free(&t);
	}
	if (!shown)
		fputs("<p>No summary with a figure the report ranks.</p>\n", f);
	fputs("</section>\n", f);
	free(sums);
}
