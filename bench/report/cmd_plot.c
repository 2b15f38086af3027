/*
 * `dlbench plot DIR`: renders the plots of a results directory with the
 * gnuplot scripts in plots/, and writes its report.
 *
 * The C side reads the summaries, picks the rows of each plot (plot_spec.c),
 * forms its panels and series and keeps every sample behind each point
 * (plot_data.c); the data file holds each point's median and the 95%
 * bootstrap interval of that median.  plot_render.c writes a driver with
 * the panels, the styles (plots/strategies.txt) and the legend, and runs
 * gnuplot on the plot's script, which loads render.gp.
 *
 * DIR is either a `dlbench run` directory (<workload>/summary.csv and
 * <workload>/hist/<cell>-NAME.csv) or one workload's own result directory
 * (summary.csv, hist/NAME.csv, and meta.json naming the workload).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/commands.h"
#include "bench/report/csvtable.h"
#include "bench/report/plot.h"
#include "bench/report/plot_data.h"
#include "bench/report/plot_render.h"
#include "bench/report/plot_spec.h"
#include "bench/report/plot_style.h"
#include "bench/report/rdir.h"
#include "bench/report/report.h"
#include "bench/report/results.h"

struct plot_ctx {
	const char *dir;
	struct plot_env env;
	char scripts[PATH_MAX];
	char outdir[PATH_MAX];
	char report[PATH_MAX];
	char machine[640];
	char date[64];
	char **keys;
	size_t nkeys;
	struct style_table styles;
	int rendered;
};

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

/* Builds the data of plot @s; returns the number of series (0: skipped,
 * with a note saying why). */
static size_t plot_data(struct plot_ctx *c, const struct plot_spec *s, struct plot_data *d)
{
	struct rdir_summary where;
	struct csv_table t;
	size_t n;

	if (rdir_find_summary(c->dir, s->workload, &where) || csv_table_read(&t, where.path)) {
		plot_note(&c->env, "skipped %s: no %s results", s->name, s->workload);
		return 0;
	}
	if (s->kind != PLOT_CDF &&
	    (!has_columns(&t, s->x) || !has_columns(&t, s->y) || !has_columns(&t, s->series))) {
		plot_note(&c->env, "skipped %s: %s/summary.csv lacks the columns %s%s%s%s%s",
			  s->name, s->workload, s->x ? s->x : "", s->x ? " " : "", s->y,
			  s->series ? " " : "", s->series ? s->series : "");
		csv_table_free(&t);
		return 0;
	}
	if (s->kind == PLOT_CDF)
		n = plot_data_hists(s, &where, d);
	else
		n = plot_data_summary(s, &t, c->keys, c->nkeys, d);
	csv_table_free(&t);
	if (!n)
		plot_note(&c->env, "skipped %s: no %s in the %s results", s->name,
			  s->kind == PLOT_CDF  ? "histogram data"
			  : s->kind == PLOT_XY ? "rows with two values of x"
					       : "matching rows",
			  s->workload);
	return n;
}

static void plot_one(struct plot_ctx *c, const struct plot_spec *s)
{
	struct plot_data d;

	if (!plot_data(c, s, &d))
		return;
	if (plot_render(&c->env, s, &d) == 0)
		c->rendered++;
	plot_data_free(&d);
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
		exe[n - 10] = 0; /* rebuilt while running: same place */
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

static int find_scripts(struct plot_ctx *c, const char *scripts)
{
	char path[PATH_MAX + 32];
	struct stat sb;

	if (scripts)
		snprintf(c->scripts, sizeof(c->scripts), "%s", scripts);
	else if (plot_find_scripts(c->scripts, sizeof(c->scripts))) {
		fprintf(stderr, "dlbench plot: cannot find the plots/ scripts (set DLBENCH_PLOTS "
				"or --scripts)\n");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/render.gp", c->scripts);
	if (stat(path, &sb) != 0) {
		fprintf(stderr, "dlbench plot: %s: no render.gp there\n", c->scripts);
		return -1;
	}
	return 0;
}

/* The machine and the day for the titles, from meta.json. */
static void title_facts(struct plot_ctx *c)
{
	char host[256], cpu[256];

	rdir_meta(c->dir, "host", host, sizeof(host));
	rdir_meta(c->dir, "cpu_model", cpu, sizeof(cpu));
	rdir_meta(c->dir, "date", c->date, sizeof(c->date));
	if (!c->date[0]) {
		time_t t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(c->date, sizeof(c->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	c->date[10] = 0; /* the day */
	snprintf(c->machine, sizeof(c->machine), "%s%s%s", host[0] ? host : "unknown machine",
		 cpu[0] ? ", " : "", cpu);
}

/* A new plots directory, and the report name beside it: plots/ and
 * report.html, then plots-2/ and report-2.html, ...: never overwrite. */
static int new_outdir(struct plot_ctx *c)
{
	char report[PATH_MAX];
	struct stat sb;

	for (int k = 1; k < 1000; k++) {
		if (results_pathf(c->outdir, sizeof(c->outdir), k == 1 ? "%s/plots" : "%s/plots-%d",
				  c->dir, k) ||
		    results_pathf(c->report, sizeof(c->report),
				  k == 1 ? "report.html" : "report-%d.html", k) ||
		    results_pathf(report, sizeof(report), "%s/%s", c->dir, c->report)) {
			fprintf(stderr, "dlbench plot: path too long: %s\n", c->dir);
			return -1;
		}
		if (mkdir(c->outdir, 0777) != 0) {
			if (errno == EEXIST)
				continue;
			fprintf(stderr, "dlbench plot: cannot create %s: %s\n", c->outdir,
				strerror(errno));
			return -1;
		}
		if (stat(report, &sb) != 0)
			return 0;
		rmdir(c->outdir); /* its report exists: take the next pair */
	}
	fprintf(stderr, "dlbench plot: no free plots directory name in %s\n", c->dir);
	return -1;
}

int plot_and_report(const char *dir, const char *scripts, struct plot_outcome *o)
{
	struct plot_ctx c = { .dir = dir };
	char path[PATH_MAX];

	if (rdir_check(dir, "dlbench plot") || find_scripts(&c, scripts))
		return -1;
	if (results_pathf(path, sizeof(path), "%s/run.log", dir))
		return -1;
	c.env = (struct plot_env){ .scripts = c.scripts,
				   .outdir = c.outdir,
				   .machine = c.machine,
				   .date = c.date,
				   .styles = &c.styles };
	c.env.log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	title_facts(&c);
	style_table_load(&c.styles, c.scripts);
	c.nkeys = csv_run_keys(dir, &c.keys);
	if (new_outdir(&c) == 0) {
		for (size_t i = 0; i < plot_nspecs; i++)
			plot_one(&c, &plot_specs[i]);
		if (c.rendered == 0) {
			plot_note(&c.env, "no plot: no results with the columns the plots need");
			rmdir(c.outdir);
		}
		if (report_write(dir, c.rendered ? c.outdir : NULL, &c.styles, c.report))
			c.report[0] = 0;
		if (o) {
			snprintf(o->plots, sizeof(o->plots), "%s", c.rendered ? c.outdir : "");
			if (results_pathf(o->report, sizeof(o->report), "%s/%s", dir, c.report) ||
			    !c.report[0])
				o->report[0] = 0;
			o->rendered = c.rendered;
		}
	} else {
		c.rendered = -1;
	}
	if (c.env.log_fd >= 0)
		close(c.env.log_fd);
	csv_free_names(c.keys, c.nkeys);
	style_table_free(&c.styles);
	return c.rendered;
}

int plot_results(const char *dir, const char *scripts, char *out, size_t outlen)
{
	struct plot_outcome o;
	int n = plot_and_report(dir, scripts, &o);

	if (out && n >= 0)
		snprintf(out, outlen, "%s", o.plots);
	return n;
}

int report_results(const char *dir, const char *scripts, char *out, size_t outlen)
{
	struct style_table styles;
	char found[PATH_MAX], rel[64], path[PATH_MAX];
	int k;

	if (rdir_check(dir, "dlbench report"))
		return -1;
	/* the scripts only lend their style table here */
	if (!scripts && plot_find_scripts(found, sizeof(found)) == 0)
		scripts = found;
	style_table_load(&styles, scripts ? scripts : ".");
	for (k = 1; k < 1000; k++) {
		snprintf(rel, sizeof(rel), k == 1 ? "report.html" : "report-%d.html", k);
		if (results_pathf(path, sizeof(path), "%s/%s", dir, rel) || access(path, F_OK) != 0)
			break;
	}
	k = report_write(dir, NULL, &styles, rel);
	style_table_free(&styles);
	if (out && k == 0)
		snprintf(out, outlen, "%s", path);
	return k;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dlbench plot [OPTIONS] DIR\n\n"
		   "Renders the plots (PNG and SVG, gnuplot) of a results directory, a\n"
		   "`dlbench run` directory or one workload's, into a new DIR/plots/, and\n"
		   "writes DIR/report.html beside them (plots-2/ and report-2.html the\n"
		   "next time: nothing is overwritten).  Plots whose data is absent are\n"
		   "skipped with a note in DIR/run.log.  DIR must be a results directory\n"
		   "(meta.json with cells.csv or summary.csv) that no other dlbench holds.\n\n"
		   "  -s, --scripts DIR  the gnuplot scripts (default: plots/ of the suite;\n"
		   "                     DLBENCH_PLOTS overrides too)\n"
		   "  -h, --help         this text\n\n"
		   "plots:\n");
	for (size_t i = 0; i < plot_nspecs; i++)
		fprintf(f, "  %-28s %s: %s\n", plot_specs[i].name, plot_specs[i].workload,
			plot_specs[i].title);
}

const char *plot_parse_args(int argc, char **argv, const char **scripts, int *no_plots,
			    void (*help)(FILE *f), const char *cmd)
{
	static const struct option opts[] = {
		{ "scripts", required_argument, NULL, 's' },
		{ "no-plots", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0; /* one line of our own on bad options */
	while ((c = getopt_long(argc, argv, no_plots ? "s:Ph" : "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			*scripts = optarg;
			break;
		case 'P':
			if (!no_plots) /* `plot --no-plots` */
				cli_die("bad option: %s (dlbench %s --help)", argv[optind - 1],
					cmd);
			*no_plots = 1;
			break;
		case 'h':
			help(stdout);
			exit(0);
		default:
			cli_die("bad option or missing value: %s (dlbench %s --help)",
				argv[optind - 1], cmd);
		}
	}
	if (optind != argc - 1)
		cli_die("expected one results directory (dlbench %s --help)", cmd);
	return argv[optind];
}

int cmd_plot(int argc, char **argv)
{
	const char *scripts = NULL,
		   *dir = plot_parse_args(argc, argv, &scripts, NULL, usage, "plot");
	struct plot_outcome o;
	int n;

	/* check before writing anything, then hold the directory */
	if (rdir_check(dir, "dlbench plot") || results_dir_lock(dir))
		return 2;
	n = plot_and_report(dir, scripts, &o);
	if (n < 0)
		return 2;
	if (n)
		printf("%d plots in %s\n", n, o.plots);
	else
		printf("no plots (no results the plots in plots/ know)\n");
	if (o.report[0])
		printf("report: %s\n", o.report);
	return o.report[0] ? 0 : 1;
}
