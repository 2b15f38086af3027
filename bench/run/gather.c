/*
 * Gathering: the summary rows of every successful measured run into one
 * <dir>/<workload>/summary.csv per workload, prefixed with the columns
 * scenario, cell, repetition and ended with host (a workload column
 * already named so is renamed workload_<name>); the columns are the union
 * of the runs' columns, in order of appearance.  Each run's hist/NAME.csv
 * is hard-linked to <dir>/<workload>/hist/<run>-NAME.csv.  `run` gathers
 * its own cells, `merge` the cells of every directory it merges.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/report/csv.h"
#include "bench/report/csvtable.h"
#include "bench/report/plot.h"
#include "bench/report/results.h"
#include "bench/report/verdict.h"
#include "bench/run/runner.h"

struct names {
	char **v;
	size_t n;
};

static int names_add(struct names *l, const char *s)
{
	char **v;

	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return 0;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v || !(v[l->n] = strdup(s))) {
		if (v)
			l->v = v;
		return -1;
	}
	l->v = v;
	l->n++;
	return 0;
}

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int item_is(const struct matrix_config *cfg, const struct gather_item *it, const char *wl)
{
	return !strcmp(cfg->scenarios[it->scenario].workload, wl);
}

/* The union of the columns of @wl's runs' summaries. */
static int union_columns(const char *dir, const struct matrix_config *cfg, const char *wl,
			 const struct gather_item *items, size_t n, struct names *cols)
{
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX * 2];
		struct csv_table t;

		if (!item_is(cfg, &items[i], wl))
			continue;
		snprintf(path, sizeof(path), "%s/%s/summary.csv", dir, items[i].celldir);
		if (csv_table_read(&t, path))
			continue;
		for (size_t c = 0; c < t.ncols; c++)
			if (names_add(cols, t.header[c])) {
				csv_table_free(&t);
				return -1;
			}
		csv_table_free(&t);
	}
	return 0;
}

static void write_header(FILE *f, const struct names *cols)
{
	static const char *const ours[] = { "scenario", "cell", "repetition", "host", NULL };

	fputs("scenario,cell,repetition", f);
	for (size_t c = 0; c < cols->n; c++) {
		int clash = 0;

		for (int k = 0; ours[k]; k++)
			clash |= !strcmp(cols->v[c], ours[k]);
		fputs(clash ? ",workload_" : ",", f);
		csv_field(f, cols->v[c]);
	}
	fputs(",host\n", f);
}

static void link_hists(const char *dir, const char *wl, const struct gather_item *it, int log_fd)
{
	char src[PATH_MAX * 2], from[PATH_MAX * 3], to[PATH_MAX * 3];
	const char *base = strrchr(it->celldir, '/');
	struct dirent *de;
	DIR *d;

	base = base ? base + 1 : it->celldir;
	snprintf(src, sizeof(src), "%s/%s/hist", dir, it->celldir);
	d = opendir(src);
	if (!d)
		return;
	snprintf(to, sizeof(to), "%s/%s/hist", dir, wl);
	mkdir(to, 0777);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".csv"))
			continue;
		snprintf(from, sizeof(from), "%s/%s", src, de->d_name);
		snprintf(to, sizeof(to), "%s/%s/hist/%s-%s", dir, wl, base, de->d_name);
		if (link(from, to) != 0)
			run_log(log_fd, "cannot link %s to %s: %s", from, to, strerror(errno));
	}
	closedir(d);
}

/* The rows of one run; how many. */
static size_t write_rows(FILE *f, const char *dir, const struct matrix_config *cfg,
			 const struct gather_item *it, const struct names *cols)
{
	char path[PATH_MAX * 2];
	struct csv_table t;
	size_t rows;

	snprintf(path, sizeof(path), "%s/%s/summary.csv", dir, it->celldir);
	if (csv_table_read(&t, path))
		return 0;
	rows = t.nrows;
	for (size_t row = 0; row < t.nrows; row++) {
		csv_field(f, cfg->scenarios[it->scenario].name);
		fprintf(f, ",%zu,%u", it->cell, it->rep);
		for (size_t c = 0; c < cols->n; c++) {
			int k = csv_table_col(&t, cols->v[c]);

			fputc(',', f);
			if (k >= 0)
				csv_field(f, t.rows[row][k]);
		}
		fputc(',', f);
		csv_field(f, it->host);
		fputc('\n', f);
	}
	csv_table_free(&t);
	return rows;
}

static long gather_workload(const char *dir, const struct matrix_config *cfg, const char *wl,
			    const struct gather_item *items, size_t n, int log_fd)
{
	char sub[PATH_MAX], path[PATH_MAX + 32];
	struct names cols = { 0 };
	struct results_file rf;
	struct stat sb;
	long rows = 0;

	if (results_pathf(sub, sizeof(sub), "%s/%s", dir, wl) ||
	    results_pathf(path, sizeof(path), "%s/summary.csv", sub))
		return -1;
	if (stat(path, &sb) == 0)
		return 0; /* gathered before this --resume */
	strcat(path, ".tmp");
	unlink(path); /* left by a run killed while gathering */
	if (union_columns(dir, cfg, wl, items, n, &cols) ||
	    (mkdir(sub, 0777) != 0 && errno != EEXIST) ||
	    results_file_open(&rf, sub, "summary.csv")) {
		fprintf(stderr, "dlbench: cannot gather into %s: %s\n", sub, strerror(errno));
		names_free(&cols);
		return -1;
	}
	write_header(rf.f, &cols);
	for (size_t i = 0; i < n; i++) {
		if (!item_is(cfg, &items[i], wl))
			continue;
		rows += (long)write_rows(rf.f, dir, cfg, &items[i], &cols);
		link_hists(dir, wl, &items[i], log_fd);
	}
	names_free(&cols);
	if (results_file_commit(&rf))
		return -1;
	run_log(log_fd, "gathered %ld rows into %s/summary.csv", rows, sub);
	return rows;
}

long gather(const char *dir, const struct matrix_config *cfg, const struct gather_item *items,
	    size_t n, int log_fd)
{
	long total = 0;

	for (size_t w = 0; w < cfg->nscenarios; w++) {
		const char *wl = cfg->scenarios[w].workload;
		int seen = 0;
		long rows;

		for (size_t v = 0; v < w; v++)
			seen |= !strcmp(cfg->scenarios[v].workload, wl);
		if (seen)
			continue;
		rows = gather_workload(dir, cfg, wl, items, n, log_fd);
		if (rows < 0)
			return -1;
		total += rows;
	}
	return total;
}

void run_render(const char *dir, bool plot)
{
	char report[PATH_MAX] = "";

	if (plot) {
		struct plot_outcome o;
		int k = plot_and_report(dir, NULL, &o);

		if (k > 0)
			printf("plots:   %s (%d plots)\n", o.plots, k);
		else if (k == 0)
			printf("plots:   none (no results the plots in plots/ know)\n");
		if (k >= 0)
			snprintf(report, sizeof(report), "%s", o.report);
	} else if (report_results(dir, NULL, report, sizeof(report)) < 0) {
		report[0] = 0;
	}
	if (report[0])
		printf("report:  %s\n", report);
	fflush(stdout);
	/* the claims (claim.* sections of config.ini) against the results */
	if (verdict_write(dir) < 0)
		fprintf(stderr, "dlbench: the verdicts of %s could not be written\n", dir);
}
