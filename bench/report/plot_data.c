/* The data of one plot, from a summary or from histograms: see plot_data.h. */
#include "bench/report/plot_data.h"

#include <dirent.h>
#include <fnmatch.h>
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"

#include "bench/report/results.h"
#include "lib/util/stats.h"

#define RESAMPLES 1000

/* ---- panels and blocks */

static struct plot_facet *facet_get(struct plot_data *d, const char *title)
{
	for (size_t i = 0; i < d->nf; i++)
		if (!strcmp(d->f[i].title, title))
			return &d->f[i];
	d->f = cli_xrealloc(d->f, (d->nf + 1) * sizeof(*d->f));
	memset(&d->f[d->nf], 0, sizeof(*d->f));
	snprintf(d->f[d->nf].title, sizeof(d->f[d->nf].title), "%s", title);
	return &d->f[d->nf++];
}

static struct plot_block *block_get(struct plot_block **all, size_t *n, const char *label,
				    const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*all)[i].label, label))
			return &(*all)[i];
	*all = cli_xrealloc(*all, (*n + 1) * sizeof(**all));
	memset(&(*all)[*n], 0, sizeof(**all));
	snprintf((*all)[*n].label, sizeof((*all)[*n].label), "%s", label);
	snprintf((*all)[*n].key, sizeof((*all)[*n].key), "%s", key);
	return &(*all)[(*n)++];
}

/* The point of @b at @x, created if new. */
static size_t block_point(struct plot_block *b, double x)
{
	size_t i;

	for (i = 0; i < b->npoints; i++)
		if (b->x[i] == x)
			return i;
	b->x = cli_xrealloc(b->x, (i + 1) * sizeof(*b->x));
	b->y = cli_xrealloc(b->y, (i + 1) * sizeof(*b->y));
	b->ny = cli_xrealloc(b->ny, (i + 1) * sizeof(*b->ny));
	b->x[i] = x;
	b->y[i] = NULL;
	b->ny[i] = 0;
	b->npoints++;
	return i;
}

static void block_add(struct plot_block *b, double x, double y)
{
	size_t i = block_point(b, x);

	b->y[i] = cli_xrealloc(b->y[i], (b->ny[i] + 1) * sizeof(double));
	b->y[i][b->ny[i]++] = y;
}

/* Histograms: one count per value, summed over files. */
static void block_count(struct plot_block *b, double x, double k)
{
	size_t i = block_point(b, x);

	if (!b->ny[i])
		block_add(b, x, 0);
	b->y[i][0] += k;
}

static void blocks_free(struct plot_block *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t p = 0; p < b[i].npoints; p++)
			free(b[i].y[p]);
		free(b[i].x);
		free(b[i].y);
		free(b[i].ny);
	}
	free(b);
}

void plot_data_free(struct plot_data *d)
{
	for (size_t i = 0; i < d->nf; i++) {
		blocks_free(d->f[i].series, d->f[i].nseries);
		blocks_free(d->f[i].refs, d->f[i].nrefs);
	}
	free(d->f);
	memset(d, 0, sizeof(*d));
}

void plot_point_stats(const struct plot_block *b, size_t p, double *med, double *lo, double *hi)
{
	double *tmp = malloc((b->ny[p] + 1) * sizeof(double));

	memcpy(tmp, b->y[p], b->ny[p] * sizeof(double));
	*med = stats_median(tmp, b->ny[p]);
	free(tmp);
	if (stats_median_ci(b->y[p], b->ny[p], RESAMPLES, 1, lo, hi))
		*lo = *hi = *med;
}

/* ---- rows of a summary */

/* Product of the '*'-separated columns of @expr in row @r. */
static int row_x(const struct csv_table *t, size_t r, const char *expr, double *x)
{
	char buf[256], *save = NULL;

	*x = 1;
	snprintf(buf, sizeof(buf), "%s", expr);
	for (char *tok = strtok_r(buf, "*", &save); tok; tok = strtok_r(NULL, "*", &save)) {
		int c = csv_table_col(t, tok);
		double v;

		if (c < 0 || !csv_number(t->rows[r][c], &v))
			return 0;
		*x *= v;
	}
	return 1;
}

static int column_varies(const struct csv_table *t, const char *sel, size_t col)
{
	size_t first = SIZE_MAX;

	for (size_t i = 0; i < t->nrows; i++) {
		if (!sel[i])
			continue;
		if (first == SIZE_MAX)
			first = i;
		else if (strcmp(t->rows[i][col], t->rows[first][col]))
			return 1;
	}
	return 0;
}

/* The selection of one plot over one summary. */
struct sel {
	const struct plot_spec *s;
	const struct csv_table *t;
	char *const *keys;
	size_t nkeys;
	char *rows;  /* rows[r]: row r is drawn */
	char *facet; /* facet[c]: column c splits panels */
	char *label; /* label[c]: column c names series apart */
};

/* Whether column @col, besides the series column, tells series apart. */
static int labels_series(const struct sel *q, size_t col)
{
	const struct plot_spec *s = q->s;
	const char *name = q->t->header[col];

	if (!strcmp(name, "scenario") || !strcmp(name, "duration_s") ||
	    csv_is_sample_column(name) || (s->series && !strcmp(name, s->series)) ||
	    (s->x && plot_in_list(s->x, name)) || (s->y && plot_in_list(s->y, name)) ||
	    (s->pool && plot_in_list(s->pool, name)) || rdir_filter_fixes(s->filter, name) ||
	    (s->floor && !strcmp(s->floor, name)) ||
	    (s->nolabel && plot_in_list(s->nolabel, name)) || q->facet[col])
		return 0;
	if (!rdir_names_cells(q->t, col, q->keys, q->nkeys) &&
	    !(s->label && plot_in_list(s->label, name) &&
	      csv_is_parameter(q->t, col, q->keys, q->nkeys)))
		return 0;
	return column_varies(q->t, q->rows, col);
}

/* "name=value" of the columns marked in @cols, joined by @sep. */
static void join_columns(const struct sel *q, const char *cols, size_t r, const char *sep,
			 char *buf, size_t len)
{
	size_t used = strlen(buf);

	for (size_t c = 0; c < q->t->ncols && used + 1 < len; c++) {
		char value[64];

		if (!cols[c])
			continue;
		rdir_human_value(q->t->header[c], q->t->rows[r][c], value, sizeof(value));
		used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", used ? sep : "",
					 q->t->header[c], value);
	}
}

/* In a run directory, a scenario whose rows hold one value of x draws no
 * line against x: leave it out when another scenario spans x (its rows
 * would only scatter single points over the lines). */
static void drop_flat_scenarios(const struct csv_table *t, const struct plot_spec *s, char *sel)
{
	int sc = csv_table_col(t, "scenario");
	size_t nscen = 0, *scen = calloc(t->nrows + 1, sizeof(size_t));
	double *lo = calloc(t->nrows + 1, sizeof(double)),
	       *hi = calloc(t->nrows + 1, sizeof(double));
	const char **names = calloc(t->nrows + 1, sizeof(char *));
	int any = 0;

	for (size_t r = 0; sc >= 0 && r < t->nrows; r++) {
		double x;
		size_t k;

		scen[r] = SIZE_MAX;
		if (!sel[r] || !row_x(t, r, s->x, &x))
			continue;
		for (k = 0; k < nscen && strcmp(names[k], t->rows[r][sc]); k++)
			;
		if (k == nscen) {
			names[nscen++] = t->rows[r][sc];
			lo[k] = hi[k] = x;
		}
		lo[k] = x < lo[k] ? x : lo[k];
		hi[k] = x > hi[k] ? x : hi[k];
		scen[r] = k;
	}
	for (size_t k = 0; k < nscen; k++)
		any |= lo[k] != hi[k];
	for (size_t r = 0; any && r < t->nrows; r++)
		if (sel[r] && (scen[r] == SIZE_MAX || lo[scen[r]] == hi[scen[r]]))
			sel[r] = 0;
	free(scen);
	free(lo);
	free(hi);
	free(names);
}

static void sel_init(struct sel *q, const struct plot_spec *s, const struct csv_table *t,
		     char *const *keys, size_t nkeys)
{
	*q = (struct sel){ .s = s, .t = t, .keys = keys, .nkeys = nkeys };
	q->rows = calloc(t->nrows + 1, 1);
	q->facet = calloc(t->ncols + 1, 1);
	q->label = calloc(t->ncols + 1, 1);
	for (size_t r = 0; r < t->nrows; r++)
		q->rows[r] = (char)rdir_row_matches(t, r, s->filter);
	if (s->kind == PLOT_XY)
		drop_flat_scenarios(t, s, q->rows);
	for (size_t c = 0; c < t->ncols; c++)
		q->facet[c] = s->facet && plot_in_list(s->facet, t->header[c]) &&
			      column_varies(t, q->rows, c);
	for (size_t c = 0; c < t->ncols; c++)
		q->label[c] = (char)labels_series(q, c);
}

static void sel_free(struct sel *q)
{
	free(q->rows);
	free(q->facet);
	free(q->label);
}

/* Adds row @r to its panel: a point per series (and floor) for XY, a point
 * per percentile column for SPECTRUM. */
static void add_row(struct plot_data *d, const struct sel *q, size_t r)
{
	const struct plot_spec *s = q->s;
	const struct csv_table *t = q->t;
	int sc = s->series ? csv_table_col(t, s->series) : -1, fc;
	char title[192] = "", label[256], key[128], ybuf[256], *save = NULL;
	struct plot_facet *f;
	double x, y;

	join_columns(q, q->facet, r, ", ", title, sizeof(title));
	f = facet_get(d, title);
	snprintf(key, sizeof(key), "%s", sc >= 0 ? t->rows[r][sc] : "all");
	snprintf(label, sizeof(label), "%s", key);
	join_columns(q, q->label, r, " ", label, sizeof(label));
	if (s->kind == PLOT_XY) {
		if (!row_x(t, r, s->x, &x) || !row_x(t, r, s->y, &y))
			return;
		block_add(block_get(&f->series, &f->nseries, label, key), x, y);
		fc = s->floor ? csv_table_col(t, s->floor) : -1;
		if (fc >= 0 && csv_number(t->rows[r][fc], &y)) {
			/* one floor per combination of the other parameters */
			char flabel[320];
			const char *rest = strchr(label, ' ');

			snprintf(flabel, sizeof(flabel), "floor (tracking off)%s",
				 rest ? rest : "");
			block_add(block_get(&f->refs, &f->nrefs, flabel, "floor"), x, y);
		}
		return;
	}
	snprintf(ybuf, sizeof(ybuf), "%s", s->y);
	for (char *tok = strtok_r(ybuf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int yc = csv_table_col(t, tok);

		x = strstr(tok, "_p50_")     ? 2
		    : strstr(tok, "_p90_")   ? 10
		    : strstr(tok, "_p999_")  ? 1000
		    : strstr(tok, "_p9999_") ? 10000
		    : strstr(tok, "_p99_")   ? 100
		    : strstr(tok, "_max_")   ? 100000
					     : NAN;
		if (yc >= 0 && !isnan(x) && csv_number(t->rows[r][yc], &y))
			block_add(block_get(&f->series, &f->nseries, label, key), x, y);
	}
}

/* REF_LINEAR: per panel, the best median at the smallest x, scaled. */
static void add_linear_refs(struct plot_facet *f)
{
	double x0 = INFINITY, y0 = 0, xmax = 0;
	char label[128];
	struct plot_block *b;

	for (size_t i = 0; i < f->nseries; i++)
		for (size_t p = 0; p < f->series[i].npoints; p++) {
			xmax = fmax(xmax, f->series[i].x[p]);
			x0 = fmin(x0, f->series[i].x[p]);
		}
	for (size_t i = 0; i < f->nseries; i++)
		for (size_t p = 0; p < f->series[i].npoints; p++)
			if (f->series[i].x[p] == x0) {
				double m, lo, hi;

				plot_point_stats(&f->series[i], p, &m, &lo, &hi);
				y0 = fmax(y0, m);
			}
	if (!(x0 > 0 && y0 > 0 && xmax > x0))
		return;
	snprintf(label, sizeof(label), "linear scaling of the best at %g", x0);
	b = block_get(&f->refs, &f->nrefs, label, "linear");
	block_add(b, x0, y0);
	block_add(b, xmax, y0 * xmax / x0);
}

static size_t count_series(const struct plot_data *d, size_t *most)
{
	size_t n = 0;

	*most = 0;
	for (size_t i = 0; i < d->nf; i++)
		for (size_t k = 0; k < d->f[i].nseries; k++, n++)
			if (d->f[i].series[k].npoints > *most)
				*most = d->f[i].series[k].npoints;
	return n;
}

size_t plot_data_summary(const struct plot_spec *s, const struct csv_table *t, char *const *keys,
			 size_t nkeys, struct plot_data *d)
{
	struct sel q;
	size_t n, most;

	memset(d, 0, sizeof(*d));
	sel_init(&q, s, t, keys, nkeys);
	for (size_t r = 0; r < t->nrows; r++)
		if (q.rows[r])
			add_row(d, &q, r);
	sel_free(&q);
	n = count_series(d, &most);
	if (s->kind == PLOT_XY && most < 2)
		n = 0; /* lines need two values of x somewhere */
	if (s->ref == REF_LINEAR)
		for (size_t i = 0; i < d->nf; i++)
			add_linear_refs(&d->f[i]);
	if (s->ref == REF_NONE)
		for (size_t i = 0; i < d->nf; i++) {
			blocks_free(d->f[i].refs, d->f[i].nrefs);
			d->f[i].refs = NULL;
			d->f[i].nrefs = 0;
		}
	if (!n)
		plot_data_free(d);
	return n;
}

/* ---- histograms */

static int hist_wanted(const char *patterns, const char *name)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", patterns);
	for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
		if (fnmatch(p, name, 0) == 0)
			return 1;
	return 0;
}

/* The histogram's name in a file name: less .csv and, in a run directory,
 * less the <scenario>-<cell>-r<rep>- prefix.  Returns 0 when it has none. */
static int hist_name(const char *file, int run_layout, char *name, size_t len)
{
	size_t n = strlen(file);

	if (n < 5 || strcmp(file + n - 4, ".csv"))
		return 0;
	if (run_layout) {
		const char *p = strstr(file, "-r");

		for (; p; p = strstr(p + 1, "-r")) {
			const char *q = p + 2;

			while (*q >= '0' && *q <= '9')
				q++;
			if (q > p + 2 && *q == '-') {
				file = q + 1;
				break;
			}
		}
		if (!p)
			return 0;
	}
	snprintf(name, len, "%.*s", (int)(strlen(file) - 4), file);
	return 1;
}

/* Series label, style key and panel title of histogram @name from the
 * spec's regex; -1 when it does not match. */
static int hist_names(const struct plot_spec *s, const char *name, char *label, char *key,
		      char *panel, size_t len)
{
	regmatch_t m[8];
	regex_t re;
	size_t used = 0;

	snprintf(label, len, "%s", name);
	snprintf(key, len, "%s", name);
	panel[0] = 0;
	if (!s->hist_label)
		return 0;
	if (regcomp(&re, s->hist_label, REG_EXTENDED))
		return -1;
	if (regexec(&re, name, 8, m, 0)) {
		regfree(&re);
		return -1;
	}
	regfree(&re);
	for (int g = 1; g < 8 && m[g].rm_so >= 0; g++) {
		int n = (int)(m[g].rm_eo - m[g].rm_so);

		if (g == 1)
			snprintf(key, len, "%.*s", n, name + m[g].rm_so);
		if (g == s->hist_facet)
			snprintf(panel, len, "%s=%.*s", s->facet_name ? s->facet_name : "", n,
				 name + m[g].rm_so);
		else if (used + 1 < len)
			used += (size_t)snprintf(label + used, len - used, "%s%.*s",
						 used ? " " : "", n, name + m[g].rm_so);
	}
	return 0;
}

static void hist_add_file(struct plot_block *b, const char *path)
{
	struct csv_table t;
	int vc, cc;

	if (csv_table_read(&t, path))
		return;
	vc = csv_table_col(&t, "value_ns");
	cc = csv_table_col(&t, "count");
	for (size_t r = 0; vc >= 0 && cc >= 0 && r < t.nrows; r++) {
		double v, k;

		if (csv_number(t.rows[r][vc], &v) && csv_number(t.rows[r][cc], &k))
			block_count(b, v, k);
	}
	csv_table_free(&t);
}

static int facet_cmp(const void *a, const void *b)
{
	return strverscmp(((const struct plot_facet *)a)->title,
			  ((const struct plot_facet *)b)->title);
}

static int block_cmp(const void *a, const void *b)
{
	return strverscmp(((const struct plot_block *)a)->label,
			  ((const struct plot_block *)b)->label);
}

size_t plot_data_hists(const struct plot_spec *s, const struct rdir_summary *where,
		       struct plot_data *d)
{
	struct dirent *de;
	DIR *dir = opendir(where->histdir);
	size_t n = 0;

	memset(d, 0, sizeof(*d));
	d->cdf = 1;
	while (dir && (de = readdir(dir))) {
		char name[256], label[256], key[256], panel[256], path[PATH_MAX];
		struct plot_facet *f;

		if (!hist_name(de->d_name, where->run_layout, name, sizeof(name)) ||
		    !hist_wanted(s->hist, name) ||
		    hist_names(s, name, label, key, panel, sizeof(label)) ||
		    results_pathf(path, sizeof(path), "%s/%s", where->histdir, de->d_name))
			continue;
		f = facet_get(d, panel);
		hist_add_file(block_get(&f->series, &f->nseries, label, key), path);
	}
	if (dir)
		closedir(dir);
	/* panels and names in a stable order */
	if (d->nf > 1)
		qsort(d->f, d->nf, sizeof(*d->f), facet_cmp);
	for (size_t i = 0; i < d->nf; i++) {
		qsort(d->f[i].series, d->f[i].nseries, sizeof(*d->f[i].series), block_cmp);
		n += d->f[i].nseries;
	}
	if (!n)
		plot_data_free(d);
	return n;
}

/* ---- the data file */

static void sort_points(struct plot_block *b)
{
	for (size_t a = 0; a < b->npoints; a++)
		for (size_t c = a + 1; c < b->npoints; c++)
			if (b->x[c] < b->x[a]) {
				double tx = b->x[a], *ty = b->y[a];
				size_t tn = b->ny[a];

				b->x[a] = b->x[c];
				b->y[a] = b->y[c];
				b->ny[a] = b->ny[c];
				b->x[c] = tx;
				b->y[c] = ty;
				b->ny[c] = tn;
			}
}

static void range_add(struct plot_range *r, double x, double lo, double hi)
{
	r->xmin = fmin(r->xmin, x);
	r->xmax = fmax(r->xmax, x);
	if (lo > 0 && (r->ymin == 0 || lo < r->ymin))
		r->ymin = lo;
	if (hi > 0 && (r->ymin == 0 || hi < r->ymin))
		r->ymin = hi;
	r->ymax = fmax(r->ymax, hi);
}

static void write_block(FILE *f, struct plot_block *b, int cdf, struct plot_range *r)
{
	double total = 0, cum = 0;

	sort_points(b);
	fprintf(f, "\"%s\" \"%s\"\n", b->label, cdf ? "fraction" : "median");
	for (size_t p = 0; cdf && p < b->npoints; p++)
		total += b->y[p][0];
	for (size_t p = 0; p < b->npoints; p++) {
		double med, lo, hi;

		if (cdf) {
			cum += b->y[p][0];
			fprintf(f, "%.9g %.9g\n", b->x[p], total > 0 ? cum / total : 0);
			range_add(r, b->x[p], total > 0 ? cum / total : 0, 1);
			continue;
		}
		plot_point_stats(b, p, &med, &lo, &hi);
		fprintf(f, "%.9g %.9g %.9g %.9g %zu\n", b->x[p], med, lo, hi, b->ny[p]);
		range_add(r, b->x[p], med, med);
	}
	fprintf(f, "\n\n");
}

int plot_data_write(const struct plot_data *d, FILE *f, struct plot_range *r)
{
	*r = (struct plot_range){ .xmin = INFINITY, .xmax = -INFINITY };
	for (size_t i = 0; i < d->nf; i++) {
		for (size_t k = 0; k < d->f[i].nseries; k++)
			write_block(f, &d->f[i].series[k], d->cdf, r);
		for (size_t k = 0; k < d->f[i].nrefs; k++)
			write_block(f, &d->f[i].refs[k], d->cdf, r);
	}
	if (!isfinite(r->xmin))
		r->xmin = r->xmax = 0;
	return ferror(f) ? -1 : 0;
}
