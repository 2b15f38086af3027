/*
 * `dlbench plot DIR`: renders the plots of a result directory with the
 * gnuplot scripts in plots/.
 *
 * The C side reads the summaries, picks the rows of each plot, takes the
 * median over repetitions (and over whatever the plot pools, such as the
 * iterations after the first) and writes one small data file per plot:
 * a block per series, separated by two blank lines, whose first line is the
 * series title.  The script draws it; `nseries` blocks are series and the
 * `nextra` blocks after them are reference lines (a floor, linear scaling).
 * Each script gets: datafile, outbase, nseries, nextra, plottitle, machine,
 * date, scriptdir; it sets its axes and `plotcmd`, then loads render.gp,
 * which writes outbase.png (pngcairo) and outbase.svg.
 *
 * DIR is either a `dlbench run` directory (<workload>/summary.csv and
 * <workload>/hist/<cell>-NAME.csv) or one workload's own result directory
 * (summary.csv, hist/NAME.csv, and meta.json naming the workload).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/commands.h"
#include "bench/report/csvtable.h"
#include "bench/report/plot.h"
#include "bench/report/results.h"

/* snprintf for paths: a path that does not fit is a one-line error. */
static __attribute__((format(printf, 3, 4))) void pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		cli_die("path too long: %s...", buf);
}

enum plot_kind {
	PLOT_XY,        /* median of y against x, one line per series */
	PLOT_SPECTRUM,  /* percentile columns against their percentile */
	PLOT_CDF,       /* cumulative distribution of merged histograms */
};

enum plot_reference {
	REF_NONE,
	REF_FLOOR,      /* the median of column `floor` against x */
	REF_LINEAR,     /* the best series' value at the smallest x, scaled by x */
};

struct plot_spec {
	const char *name;       /* output file base name */
	const char *script;     /* plots/<script>.gp */
	const char *workload;
	enum plot_kind kind;
	const char *title;
	const char *x;          /* column, or columns multiplied: "vcpus*bytes_per_vcpu" */
	const char *y;          /* PLOT_XY: column; PLOT_SPECTRUM: comma-separated columns */
	const char *series;     /* column whose value names the series */
	const char *filter;     /* "col=value" / "col!=value", space-separated */
	const char *pool;       /* comma-separated columns pooled with the repetitions */
	const char *label;      /* comma-separated columns that name series apart
				 * when they vary, besides the config keys and the
				 * known numeric parameters */
	enum plot_reference ref;
	const char *floor;      /* REF_FLOOR: the column */
	const char *hist;       /* PLOT_CDF: comma-separated fnmatch(3) patterns of
				 * the histogram names (file name less .csv) */
	const char *hist_label; /* PLOT_CDF: extended regex on the name; the series
				 * title is its groups joined by spaces (NULL: the name) */
};

/* Percentiles of PLOT_SPECTRUM columns, by suffix; x = 1/(1-q) ("nines"),
 * the maximum drawn at 10^5. */
static double spectrum_x(const char *col)
{
	if (strstr(col, "_p50_"))
		return 2;
	if (strstr(col, "_p90_"))
		return 10;
	if (strstr(col, "_p999_"))
		return 1000;
	if (strstr(col, "_p9999_"))
		return 10000;
	if (strstr(col, "_p99_"))
		return 100;
	if (strstr(col, "_max_"))
		return 100000;
	return NAN;
}

static const struct plot_spec specs[] = {
	{ .name = "getlog-vs-size", .script = "getlog-size", .workload = "dirty-log",
	  .kind = PLOT_XY,
	  .title = "get-log time against guest size (dirty-log, iterations after the first)",
	  .x = "vcpus*bytes_per_vcpu", .y = "get_log_ns", .series = "strategy",
	  .filter = "mode=iteration iteration!=1", .pool = "iteration" },
	{ .name = "harvest-getlog-vs-size", .script = "getlog-size", .workload = "harvest",
	  .kind = PLOT_XY, .title = "get-log time against slot size, fully dirty slot (harvest)",
	  .x = "slot_bytes", .y = "get_log_ns", .series = "strategy",
	  .filter = "dirty_percent=100", .ref = REF_FLOOR, .floor = "floor_ns" },
	{ .name = "harvest-getlog-vs-dirty", .script = "getlog-dirty", .workload = "harvest",
	  .kind = PLOT_XY, .title = "get-log time against pages dirty (harvest)",
	  .x = "dirty_percent", .y = "get_log_ns", .series = "strategy",
	  .ref = REF_FLOOR, .floor = "floor_ns" },
	{ .name = "getlog-vs-writes", .script = "getlog-dirty", .workload = "dirty-log",
	  .kind = PLOT_XY,
	  .title = "get-log time against write percentage (dirty-log, iterations after the first)",
	  .x = "write_percent", .y = "get_log_ns", .series = "strategy",
	  .filter = "mode=iteration iteration!=1", .pool = "iteration" },
	{ .name = "stall-spectrum", .script = "stall-spectrum", .workload = "dirty-log",
	  .kind = PLOT_SPECTRUM,
	  .title = "vCPU stall percentiles, continuous harvesting (dirty-log)",
	  .y = "stall_p50_ns,stall_p99_ns,stall_p999_ns,stall_max_ns", .series = "strategy",
	  .filter = "mode=continuous", .pool = "iteration" },
	{ .name = "dirty-pass-vs-vcpus", .script = "dirty-pass-vcpus", .workload = "dirty-log",
	  .kind = PLOT_XY,
	  .title = "dirty-pass time against vCPUs (dirty-log, iterations after the first)",
	  .x = "vcpus", .y = "dirty_pass_ns", .series = "strategy",
	  .filter = "mode=iteration iteration!=1", .pool = "iteration",
	  .ref = REF_FLOOR, .floor = "floor_pass_ns" },
	{ .name = "memslot-lookups-vs-readers", .script = "memslot-lookups", .workload = "memslot",
	  .kind = PLOT_XY, .title = "memslot lookups per second (all readers) against readers",
	  .x = "readers", .y = "lookups_per_s*readers", .series = "protection",
	  .filter = "mode=move-active",
	  .pool = "lookups_per_s_min,lookups_per_s_max", .ref = REF_LINEAR },
	{ .name = "memslot-update-cdf", .script = "latency-cdf", .workload = "memslot",
	  .kind = PLOT_CDF,
	  .title = "memslot update latency CDF, move-active at 1000 updates/s (protection, readers)",
	  .hist = "*-u1000-move-active-*-update",
	  .hist_label = "^(.*)-v([0-9]+)-u[0-9]+-[a-z-]+-[a-z]+-r[0-9]+-update$" },
	{ .name = "srcu-read-pair", .script = "srcu-read-pair", .workload = "srcu",
	  .kind = PLOT_XY, .title = "read-side cost of one lock/unlock pair against readers",
	  .x = "readers", .y = "read_pair_ns", .series = "primitive", .filter = "gp_kind=none" },
	{ .name = "srcu-gp-percentiles", .script = "gp-percentiles", .workload = "srcu",
	  .kind = PLOT_SPECTRUM, .title = "grace-period latency percentiles, readers idle",
	  .y = "gp_p50_ns,gp_p99_ns,gp_max_ns", .series = "primitive", .label = "gp_kind",
	  .filter = "gp_kind!=none readers_state=idle idle_fast_path!=0" },
	{ .name = "srcu-gp-cdf-idle", .script = "latency-cdf", .workload = "srcu",
	  .kind = PLOT_CDF, .title = "grace-period latency CDF, readers idle",
	  .hist = "gp-*-sync-idle,gp-*-expedited-idle", .hist_label = "^gp-(.*)$" },
	{ .name = "srcu-gp-cdf-busy", .script = "latency-cdf", .workload = "srcu",
	  .kind = PLOT_CDF, .title = "grace-period latency CDF, readers busy",
	  .hist = "gp-*-sync-busy,gp-*-expedited-busy", .hist_label = "^gp-(.*)$" },
	{ .name = "vcpu-array-visit", .script = "vcpu-array-visit", .workload = "vcpu-array",
	  .kind = PLOT_XY, .title = "kick-all pass cost per vCPU visited against vCPUs",
	  .x = "vcpus", .y = "visit_ns_per_vcpu", .series = "strategy" },
	{ .name = "rmap-walks", .script = "rmap-walks", .workload = "rmap",
	  .kind = PLOT_XY, .title = "rmap write-protect walks per second against writer threads",
	  .x = "writers", .y = "walks_per_s", .series = "walker" },
};

#define NSPECS (sizeof(specs) / sizeof(specs[0]))

struct plot_ctx {
	const char *dir;
	char scripts[PATH_MAX];
	char outdir[PATH_MAX];
	char machine[640];
	char date[64];
	char single_workload[128];      /* DIR is one workload's directory */
	char **keys;
	size_t nkeys;
	int log_fd;
	int rendered;
};

static void note(struct plot_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct plot_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	results_log_vprintf(c->log_fd, "plot", fmt, ap);
	va_end(ap);
}

/* The string value of "key" in a flat JSON file; "" if absent. */
static void json_lookup(const char *path, const char *key, char *buf, size_t len)
{
	char text[65536], pat[128], *p;
	size_t n, k = 0;
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (!f)
		return;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(text, pat);
	if (!p)
		return;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p++ != '"')
		return;
	while (*p && *p != '"' && k + 1 < len) {
		if (*p == '\\' && p[1])
			p++;
		buf[k++] = *p++;
	}
	buf[k] = 0;
}

static int median_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), median_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',' || p[-1] == '*') &&
		    (p[n] == 0 || p[n] == ',' || p[n] == '*'))
			return 1;
	return 0;
}

/* Whether @filter fixes @col to one value (col=value; col!=value does not). */
static int filter_fixes(const char *filter, const char *col)
{
	char buf[512], *save = NULL;

	if (!filter)
		return 0;
	snprintf(buf, sizeof(buf), "%s", filter);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		size_t k = strcspn(t, "!=");

		if (t[k] == '=' && k == strlen(col) && !strncmp(t, col, k))
			return 1;
	}
	return 0;
}

/* Whether row @r passes @filter.  A filter on an absent column passes. */
static int row_passes(const struct csv_table *t, size_t r, const char *filter)
{
	char buf[512], *save = NULL;

	if (!filter)
		return 1;
	snprintf(buf, sizeof(buf), "%s", filter);
	for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		int neg = eq && eq > tok && eq[-1] == '!';
		int c, match;

		if (!eq)
			continue;
		*(neg ? eq - 1 : eq) = 0;
		c = csv_table_col(t, tok);
		if (c < 0)
			continue;
		match = !strcmp(t->rows[r][c], eq + 1);
		if (match == neg)
			return 0;
	}
	return 1;
}

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

static int has_columns(const struct csv_table *t, const char *list)
{
	char buf[256], *save = NULL;

	if (!list)
		return 1;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, ",*", &save); tok; tok = strtok_r(NULL, ",*", &save))
		if (csv_table_col(t, tok) < 0)
			return 0;
	return 1;
}

/* A value for a title: sizes (columns named *bytes*) with a K/M/G/T suffix. */
static void human_value(const char *col, const char *v, char *out, size_t len)
{
	static const char suffix[] = "KMGT";
	char *end;
	unsigned long long n;
	int k = 0;

	snprintf(out, len, "%s", v);
	if (!strstr(col, "bytes") || !*v)
		return;
	n = strtoull(v, &end, 10);
	if (*end || n == 0)
		return;
	while (k < 4 && n % 1024 == 0) {
		n /= 1024;
		k++;
	}
	if (k)
		snprintf(out, len, "%llu%c", n, suffix[k - 1]);
}

/* Series title of row @r: the series column, then every other parameter
 * that varies among the rows selected (but those the plot fixes or
 * pools). */
static void series_label(struct plot_ctx *c, const struct csv_table *t, const char *sel,
			 const struct plot_spec *s, size_t r, char *buf, size_t len)
{
	int sc = s->series ? csv_table_col(t, s->series) : -1;
	size_t used;

	snprintf(buf, len, "%s", sc >= 0 ? t->rows[r][sc] : "all");
	used = strlen(buf);
	for (size_t col = 0; col < t->ncols; col++) {
		const char *name = t->header[col];
		int varies = 0;
		size_t first = SIZE_MAX;

		if ((int)col == sc || !strcmp(name, "scenario") || csv_is_sample_column(name) ||
		    (s->x && in_list(s->x, name)) || (s->y && in_list(s->y, name)) ||
		    (s->pool && in_list(s->pool, name)) || filter_fixes(s->filter, name) ||
		    (s->floor && !strcmp(s->floor, name)) || !strcmp(name, "duration_s") ||
		    !csv_is_parameter(t, col, c->keys, c->nkeys))
			continue;
		/* descriptive columns (cpus, placement, ...) that follow from the
		 * parameters do not name series */
		if (!csv_is_config_key(name, c->keys, c->nkeys) && !csv_known_parameter(name) &&
		    !(s->label && in_list(s->label, name)))
			continue;
		for (size_t i = 0; i < t->nrows; i++) {
			if (!sel[i])
				continue;
			if (first == SIZE_MAX)
				first = i;
			else if (strcmp(t->rows[i][col], t->rows[first][col]))
				varies = 1;
		}
		if (varies && used + 2 < len) {
			char value[64];

			human_value(name, t->rows[r][col], value, sizeof(value));
			used += (size_t)snprintf(buf + used, len - used, " %s=%s", name, value);
		}
		if (used >= len)
			used = len - 1;
	}
}

struct series {
	char label[256];
	size_t npoints;
	double *x;
	double **y;             /* samples per point */
	size_t *ny;
};

static struct series *series_get(struct series **all, size_t *n, const char *label)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*all)[i].label, label))
			return &(*all)[i];
	*all = realloc(*all, (*n + 1) * sizeof(**all));
	memset(&(*all)[*n], 0, sizeof(**all));
	snprintf((*all)[*n].label, sizeof((*all)[*n].label), "%s", label);
	return &(*all)[(*n)++];
}

static void series_add(struct series *s, double x, double y)
{
	size_t i;

	for (i = 0; i < s->npoints; i++)
		if (s->x[i] == x)
			break;
	if (i == s->npoints) {
		s->x = realloc(s->x, (i + 1) * sizeof(*s->x));
		s->y = realloc(s->y, (i + 1) * sizeof(*s->y));
		s->ny = realloc(s->ny, (i + 1) * sizeof(*s->ny));
		s->x[i] = x;
		s->y[i] = NULL;
		s->ny[i] = 0;
		s->npoints++;
	}
	s->y[i] = realloc(s->y[i], (s->ny[i] + 1) * sizeof(double));
	s->y[i][s->ny[i]++] = y;
}

static void series_free(struct series *all, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t p = 0; p < all[i].npoints; p++)
			free(all[i].y[p]);
		free(all[i].x);
		free(all[i].y);
		free(all[i].ny);
	}
	free(all);
}

/* Writes one block per series (x ascending, median y). */
static void write_series(FILE *f, struct series *all, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct series *s = &all[i];

		fprintf(f, "\"%s\" \"median\"\n", s->label);
		for (size_t a = 0; a < s->npoints; a++)   /* sort points by x */
			for (size_t b = a + 1; b < s->npoints; b++)
				if (s->x[b] < s->x[a]) {
					double tx = s->x[a], *ty = s->y[a];
					size_t tn = s->ny[a];

					s->x[a] = s->x[b];
					s->y[a] = s->y[b];
					s->ny[a] = s->ny[b];
					s->x[b] = tx;
					s->y[b] = ty;
					s->ny[b] = tn;
				}
		for (size_t p = 0; p < s->npoints; p++)
			fprintf(f, "%.9g %.9g\n", s->x[p], median(s->y[p], s->ny[p]));
		fprintf(f, "\n\n");
	}
}

/* In a run directory, a scenario whose rows hold one value of x draws no
 * line against x: leave it out when another scenario spans x (its rows
 * would only scatter single points over the lines). */
static void drop_flat_scenarios(const struct csv_table *t, const struct plot_spec *s, char *sel)
{
	int sc = csv_table_col(t, "scenario");
	size_t nscen = 0, *scen = calloc(t->nrows + 1, sizeof(size_t));
	double *lo = calloc(t->nrows + 1, sizeof(double)), *hi = calloc(t->nrows + 1, sizeof(double));
	const char **names = calloc(t->nrows + 1, sizeof(char *));
	int any = 0;

	for (size_t r = 0; sc >= 0 && r < t->nrows; r++) {
		double x;
		size_t k;

		scen[r] = SIZE_MAX;
		if (!sel[r] || !row_x(t, r, s->x, &x))
			continue;
		for (k = 0; k < nscen; k++)
			if (!strcmp(names[k], t->rows[r][sc]))
				break;
		if (k == nscen) {
			names[nscen++] = t->rows[r][sc];
			lo[k] = hi[k] = x;
		}
		if (x < lo[k])
			lo[k] = x;
		if (x > hi[k])
			hi[k] = x;
		scen[r] = k;
	}
	for (size_t k = 0; k < nscen; k++)
		if (lo[k] != hi[k])
			any = 1;
	for (size_t r = 0; any && r < t->nrows; r++)
		if (sel[r] && (scen[r] == SIZE_MAX || lo[scen[r]] == hi[scen[r]]))
			sel[r] = 0;
	free(scen);
	free(lo);
	free(hi);
	free(names);
}

/* Builds the data file of an XY or SPECTRUM plot; returns the number of
 * series (0: no data) and the reference blocks in *nextra. */
static size_t data_from_summary(struct plot_ctx *c, const struct plot_spec *s,
				const struct csv_table *t, FILE *f, int *nextra)
{
	struct series *all = NULL, *ref = NULL;
	size_t n = 0, nref = 0;
	char *sel = calloc(t->nrows ? t->nrows : 1, 1);
	int floor_col = s->floor ? csv_table_col(t, s->floor) : -1;

	*nextra = 0;
	for (size_t r = 0; r < t->nrows; r++)
		sel[r] = (char)row_passes(t, r, s->filter);
	if (s->kind == PLOT_XY)
		drop_flat_scenarios(t, s, sel);
	for (size_t r = 0; r < t->nrows; r++) {
		char label[256], ybuf[256], *save = NULL;
		double x, y;

		if (!sel[r])
			continue;
		series_label(c, t, sel, s, r, label, sizeof(label));
		if (s->kind == PLOT_XY) {
			if (!row_x(t, r, s->x, &x) || !row_x(t, r, s->y, &y))
				continue;
			series_add(series_get(&all, &n, label), x, y);
			if (floor_col >= 0 && csv_number(t->rows[r][floor_col], &y)) {
				/* one floor per combination of the other parameters */
				char flabel[320];
				const char *rest = strchr(label, ' ');

				snprintf(flabel, sizeof(flabel), "floor (tracking off)%s",
					 rest ? rest : "");
				series_add(series_get(&ref, &nref, flabel), x, y);
			}
			continue;
		}
		snprintf(ybuf, sizeof(ybuf), "%s", s->y);
		for (char *tok = strtok_r(ybuf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			int yc = csv_table_col(t, tok);

			x = spectrum_x(tok);
			if (yc >= 0 && !isnan(x) && csv_number(t->rows[r][yc], &y))
				series_add(series_get(&all, &n, label), x, y);
		}
	}
	free(sel);
	if (s->kind == PLOT_XY) {
		/* lines need two values of x somewhere */
		size_t most = 0;

		for (size_t i = 0; i < n; i++)
			if (all[i].npoints > most)
				most = all[i].npoints;
		if (most < 2) {
			series_free(all, n);
			n = 0;
		}
	}
	if (n == 0) {
		series_free(ref, nref);
		return 0;
	}
	write_series(f, all, n);
	if (s->ref == REF_FLOOR && nref) {
		write_series(f, ref, nref);
		*nextra = (int)nref;
	}
	if (s->ref == REF_LINEAR) {
		/* the best value at the smallest x, scaled linearly */
		double x0 = INFINITY, y0 = 0, xmax = 0;

		for (size_t i = 0; i < n; i++)
			for (size_t p = 0; p < all[i].npoints; p++) {
				if (all[i].x[p] > xmax)
					xmax = all[i].x[p];
				if (all[i].x[p] < x0) {
					x0 = all[i].x[p];
					y0 = 0;
				}
			}
		for (size_t i = 0; i < n; i++)
			for (size_t p = 0; p < all[i].npoints; p++)
				if (all[i].x[p] == x0) {
					double m = median(all[i].y[p], all[i].ny[p]);

					if (m > y0)
						y0 = m;
				}
		if (x0 > 0 && y0 > 0) {
			fprintf(f, "\"linear scaling of the best at %g\" \"median\"\n", x0);
			fprintf(f, "%.9g %.9g\n%.9g %.9g\n\n\n", x0, y0, xmax, y0 * xmax / x0);
			*nextra = 1;
		}
	}
	series_free(all, n);
	series_free(ref, nref);
	return n;
}

static int hist_wanted(const char *patterns, const char *name)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", patterns);
	for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
		if (fnmatch(p, name, 0) == 0)
			return 1;
	return 0;
}

/* The series title of histogram @name: the groups of @regex joined by
 * spaces.  Returns -1 when @name does not match. */
static int hist_title(const char *regex, const char *name, char *out, size_t len)
{
	regmatch_t m[8];
	regex_t re;
	char title[256] = "";
	size_t used = 0;

	if (regcomp(&re, regex, REG_EXTENDED))
		return -1;
	if (regexec(&re, name, 8, m, 0)) {
		regfree(&re);
		return -1;
	}
	for (int g = 1; g < 8 && m[g].rm_so >= 0 && used + 1 < sizeof(title); g++)
		used += (size_t)snprintf(title + used, sizeof(title) - used, "%s%.*s",
					 used ? " " : "", (int)(m[g].rm_eo - m[g].rm_so),
					 name + m[g].rm_so);
	regfree(&re);
	snprintf(out, len, "%s", title);
	return 0;
}

struct hist_series {
	char name[256];
	size_t n;
	double *value;
	double *count;
};

/* Merges the histograms whose name holds s->hist into one CDF per name;
 * returns the number of series written. */
static size_t data_from_hists(const struct plot_spec *s, const char *histdir, int run_layout,
			      FILE *f)
{
	struct hist_series *all = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(histdir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char name[256], path[PATH_MAX * 2];
		const char *base = de->d_name;
		size_t len = strlen(base), i;
		struct csv_table t;
		int vc, cc;

		if (len < 5 || strcmp(base + len - 4, ".csv"))
			continue;
		if (run_layout) {
			/* <scenario>-<cell>-r<rep>-NAME.csv */
			const char *p = strstr(base, "-r");

			while (p) {
				const char *q = p + 2;

				while (*q >= '0' && *q <= '9')
					q++;
				if (q > p + 2 && *q == '-') {
					base = q + 1;
					break;
				}
				p = strstr(p + 1, "-r");
			}
			if (!p)
				continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(base) - 4), base);
		if (!hist_wanted(s->hist, name))
			continue;
		if (s->hist_label && hist_title(s->hist_label, name, name, sizeof(name)))
			continue;
		pathf(path, sizeof(path), "%s/%s", histdir, de->d_name);
		if (csv_table_read(&t, path))
			continue;
		vc = csv_table_col(&t, "value_ns");
		cc = csv_table_col(&t, "count");
		if (vc < 0 || cc < 0) {
			csv_table_free(&t);
			continue;
		}
		for (i = 0; i < n; i++)
			if (!strcmp(all[i].name, name))
				break;
		if (i == n) {
			all = realloc(all, (n + 1) * sizeof(*all));
			memset(&all[n], 0, sizeof(*all));
			snprintf(all[n].name, sizeof(all[n].name), "%s", name);
			n++;
		}
		for (size_t r = 0; r < t.nrows; r++) {
			struct hist_series *h = &all[i];
			double v, k;
			size_t j;

			if (!csv_number(t.rows[r][vc], &v) || !csv_number(t.rows[r][cc], &k))
				continue;
			for (j = 0; j < h->n; j++)
				if (h->value[j] == v)
					break;
			if (j == h->n) {
				h->value = realloc(h->value, (j + 1) * sizeof(double));
				h->count = realloc(h->count, (j + 1) * sizeof(double));
				h->value[j] = v;
				h->count[j] = 0;
				h->n++;
			}
			h->count[j] += k;
		}
		csv_table_free(&t);
	}
	closedir(d);
	/* names in a stable order */
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			if (strcmp(all[b].name, all[a].name) < 0) {
				struct hist_series tmp = all[a];

				all[a] = all[b];
				all[b] = tmp;
			}
	for (size_t i = 0; i < n; i++) {
		struct hist_series *h = &all[i];
		double total = 0, cum = 0;

		for (size_t a = 0; a < h->n; a++)
			for (size_t b = a + 1; b < h->n; b++)
				if (h->value[b] < h->value[a]) {
					double tv = h->value[a], tc = h->count[a];

					h->value[a] = h->value[b];
					h->count[a] = h->count[b];
					h->value[b] = tv;
					h->count[b] = tc;
				}
		for (size_t j = 0; j < h->n; j++)
			total += h->count[j];
		fprintf(f, "\"%s\" \"fraction\"\n", h->name);
		for (size_t j = 0; j < h->n; j++) {
			cum += h->count[j];
			fprintf(f, "%.9g %.9g\n", h->value[j], total > 0 ? cum / total : 0);
		}
		fprintf(f, "\n\n");
		free(h->value);
		free(h->count);
	}
	free(all);
	return n;
}

/* gnuplot -e takes single-quoted strings: drop quotes from our texts. */
static void gp_clean(char *s)
{
	for (; *s; s++)
		if (*s == '\'' || *s == '\\' || *s == '\n')
			*s = ' ';
}

static int render(struct plot_ctx *c, const struct plot_spec *s, const char *data,
		  size_t nseries, int nextra)
{
	char script[PATH_MAX * 2], outbase[PATH_MAX * 2], expr[PATH_MAX * 6], title[256];
	int status;
	pid_t pid;

	snprintf(script, sizeof(script), "%s/%s.gp", c->scripts, s->script);
	snprintf(outbase, sizeof(outbase), "%s/%s", c->outdir, s->name);
	snprintf(title, sizeof(title), "%s", s->title);
	gp_clean(title);
	snprintf(expr, sizeof(expr),
		 "datafile='%s'; outbase='%s'; nseries=%zu; nextra=%d; plottitle='%s'; "
		 "machine='%s'; date='%s'; scriptdir='%s'",
		 data, outbase, nseries, nextra, title, c->machine, c->date, c->scripts);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (c->log_fd >= 0) {
			dup2(c->log_fd, 1);
			dup2(c->log_fd, 2);
		}
		execlp("gnuplot", "gnuplot", "-e", expr, script, (char *)NULL);
		fprintf(stderr, "cannot run gnuplot: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		note(c, "gnuplot failed on %s for %s", script, s->name);
		fprintf(stderr, "dlbench plot: gnuplot failed on %s (see %s/run.log)\n", script,
			c->dir);
		return -1;
	}
	note(c, "rendered %s.png and %s.svg", outbase, outbase);
	c->rendered++;
	return 0;
}

/* Opens the summary of @wl; returns 0 and fills @t, or -1. */
static int open_summary(struct plot_ctx *c, const char *wl, struct csv_table *t,
			char *histdir, size_t len, int *run_layout)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s/summary.csv", c->dir, wl);
	if (csv_table_read(t, path) == 0) {
		snprintf(histdir, len, "%s/%s/hist", c->dir, wl);
		*run_layout = 1;
		return 0;
	}
	if (!strcmp(c->single_workload, wl)) {
		snprintf(path, sizeof(path), "%s/summary.csv", c->dir);
		if (csv_table_read(t, path) == 0) {
			snprintf(histdir, len, "%s/hist", c->dir);
			*run_layout = 0;
			return 0;
		}
	}
	return -1;
}

static void plot_one(struct plot_ctx *c, const struct plot_spec *s)
{
	char data[PATH_MAX * 2], histdir[PATH_MAX * 2];
	struct csv_table t;
	size_t nseries = 0;
	int nextra = 0, run_layout = 0;
	FILE *f;

	if (open_summary(c, s->workload, &t, histdir, sizeof(histdir), &run_layout)) {
		note(c, "skipped %s: no %s results", s->name, s->workload);
		return;
	}
	if (s->kind != PLOT_CDF &&
	    (!has_columns(&t, s->x) || !has_columns(&t, s->y) || !has_columns(&t, s->series))) {
		note(c, "skipped %s: %s/summary.csv lacks the columns %s%s%s%s%s", s->name,
		     s->workload, s->x ? s->x : "", s->x ? " " : "", s->y,
		     s->series ? " " : "", s->series ? s->series : "");
		csv_table_free(&t);
		return;
	}
	snprintf(data, sizeof(data), "%s/%s.dat", c->outdir, s->name);
	f = fopen(data, "wx");
	if (!f) {
		note(c, "cannot create %s: %s", data, strerror(errno));
		csv_table_free(&t);
		return;
	}
	if (s->kind == PLOT_CDF)
		nseries = data_from_hists(s, histdir, run_layout, f);
	else
		nseries = data_from_summary(c, s, &t, f, &nextra);
	fclose(f);
	csv_table_free(&t);
	if (nseries == 0) {
		note(c, "skipped %s: no %s in the %s results", s->name,
		     s->kind == PLOT_CDF ? "histogram data" :
		     s->kind == PLOT_XY ? "rows with two values of x" : "matching rows",
		     s->workload);
		unlink(data);
		return;
	}
	render(c, s, data, nseries, nextra);
}

int plot_find_scripts(char *buf, size_t len)
{
	char exe[PATH_MAX], try[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *env = getenv("DLBENCH_PLOTS");
	struct stat sb;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return 0;
	}
	if (n <= 0)
		return -1;
	exe[n] = 0;
	if (n > 10 && !strcmp(exe + n - 10, " (deleted)"))
		exe[n - 10] = 0;        /* rebuilt while running: same place */
	/* build/dlbench, build/tsan/dlbench: plots/ is beside build/ */
	for (int up = 0; up < 4; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			break;
		*slash = 0;
		snprintf(try, sizeof(try), "%s/plots/render.gp", exe);
		if (stat(try, &sb) == 0) {
			snprintf(buf, len, "%s/plots", exe);
			return 0;
		}
	}
	if (stat("plots/render.gp", &sb) == 0) {
		snprintf(buf, len, "plots");
		return 0;
	}
	return -1;
}

int plot_results(const char *dir, const char *scripts, char *out, size_t outlen)
{
	struct plot_ctx c = { .dir = dir, .log_fd = -1 };
	char path[PATH_MAX + 32], host[256], cpu[256];
	struct stat sb;

	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "dlbench plot: %s is not a results directory\n", dir);
		return -1;
	}
	if (scripts)
		snprintf(c.scripts, sizeof(c.scripts), "%s", scripts);
	else if (plot_find_scripts(c.scripts, sizeof(c.scripts))) {
		fprintf(stderr, "dlbench plot: cannot find the plots/ scripts (set DLBENCH_PLOTS or --scripts)\n");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/render.gp", c.scripts);
	if (stat(path, &sb) != 0) {
		fprintf(stderr, "dlbench plot: %s: no render.gp there\n", c.scripts);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/run.log", dir);
	c.log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	json_lookup(path, "host", host, sizeof(host));
	json_lookup(path, "cpu_model", cpu, sizeof(cpu));
	json_lookup(path, "date", c.date, sizeof(c.date));
	json_lookup(path, "workload", c.single_workload, sizeof(c.single_workload));
	if (!c.date[0]) {
		time_t t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(c.date, sizeof(c.date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	c.date[10] = 0; /* the day */
	snprintf(c.machine, sizeof(c.machine), "%s%s%s", host[0] ? host : "unknown machine",
		 cpu[0] ? ", " : "", cpu);
	gp_clean(c.machine);
	gp_clean(c.date);
	c.nkeys = csv_run_keys(dir, &c.keys);
	/* a new plots directory each time: never overwrite earlier plots */
	for (int k = 1; k < 1000; k++) {
		if (k == 1)
			snprintf(c.outdir, sizeof(c.outdir), "%s/plots", dir);
		else
			snprintf(c.outdir, sizeof(c.outdir), "%s/plots-%d", dir, k);
		if (mkdir(c.outdir, 0777) == 0)
			break;
		if (errno != EEXIST) {
			fprintf(stderr, "dlbench plot: cannot create %s: %s\n", c.outdir,
				strerror(errno));
			return -1;
		}
	}
	for (size_t i = 0; i < NSPECS; i++)
		plot_one(&c, &specs[i]);
	if (out)
		snprintf(out, outlen, "%s", c.outdir);
	if (c.rendered == 0) {
		note(&c, "no plot: no results with the columns the plots need");
		rmdir(c.outdir);
	}
	if (c.log_fd >= 0)
		close(c.log_fd);
	csv_free_names(c.keys, c.nkeys);
	return c.rendered;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dlbench plot [OPTIONS] DIR\n\n"
		"Renders the plots (PNG and SVG, gnuplot) of a result directory, a\n"
		"`dlbench run` directory or one workload's, into a new DIR/plots/.\n"
		"Plots whose data is absent are skipped with a note in DIR/run.log.\n\n"
		"  -s, --scripts DIR  the gnuplot scripts (default: plots/ of the suite;\n"
		"                     DLBENCH_PLOTS overrides too)\n"
		"  -h, --help         this text\n\n"
		"plots:\n");
	for (size_t i = 0; i < NSPECS; i++)
		fprintf(f, "  %-28s %s: %s\n", specs[i].name, specs[i].workload, specs[i].title);
}

int cmd_plot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scripts", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *scripts = NULL;
	char out[PATH_MAX];
	int c, n;

	opterr = 0;     /* one line of our own on bad options */
	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': scripts = optarg; break;
		case 'h': usage(stdout); return 0;
		default: cli_die("bad option or missing value: %s (dlbench plot --help)", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		cli_die("expected one result directory (dlbench plot --help)");
	n = plot_results(argv[optind], scripts, out, sizeof(out));
	if (n < 0)
		return 2;
	printf("%d plots in %s\n", n, out);
	return 0;
}
