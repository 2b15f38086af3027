/*
 * `dlbench report DIR`: the report of an existing results directory, as
 * `dlbench run` writes it at its end: new plots (plots/, or plots-2/, ...)
 * and report.html (or report-2.html, ...) beside them, and the verdicts of
 * the config's claims on stdout.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench/commands.h"
#include "bench/report/plot.h"
#include "bench/report/rdir.h"
#include "bench/report/results.h"
#include "bench/report/verdict.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: dlbench report [OPTIONS] DIR\n\n"
		   "Writes DIR/report.html, one self-contained page (no network, no\n"
		   "JavaScript) holding the machine and run metadata, the verdicts of the\n"
		   "config's [claim.NAME] sections, the strategies of each scenario ranked\n"
		   "by their median figure with 95%% bootstrap intervals and the ratios to\n"
		   "the best and to the floor, every plot inlined with how to read it, and\n"
		   "the failed or timed-out cells with the last lines of their logs.  The\n"
		   "plots are rendered anew into DIR/plots/ (plots-2/ and report-2.html if\n"
		   "those exist: nothing is overwritten).  The verdicts are printed too.\n"
		   "DIR must be a results directory that no other dlbench holds.\n\n"
		   "  -s, --scripts DIR  the gnuplot scripts (default: plots/ of the suite;\n"
		   "                     DLBENCH_PLOTS overrides too)\n"
		   "  -P, --no-plots     write the report without rendering plots\n"
		   "  -h, --help         this text\n");
}

/* The verdicts on stdout (verdict.md is written by `run`). */
static void print_verdicts(const char *dir)
{
	struct verdict *v;
	char err[512], line[2048];
	int n = verdict_evaluate(dir, &v, err, sizeof(err));

	if (n < 0)
		fprintf(stderr, "dlbench report: %s\n", err);
	if (n <= 0)
		return;
	printf("claims (%d):\n", n);
	for (int i = 0; i < n; i++) {
		verdict_line(&v[i], line, sizeof(line));
		printf("  %s\n", line);
	}
	verdict_free(v, (size_t)n);
}

int cmd_report(int argc, char **argv)
{
	const char *scripts = NULL, *dir;
	struct plot_outcome o = { .rendered = 0 };
	int n = 0, no_plots = 0;

	dir = plot_parse_args(argc, argv, &scripts, &no_plots, usage, "report");
	/* check before writing anything, then hold the directory */
	if (rdir_check(dir, "dlbench report") || results_dir_lock(dir))
		return 2;
	if (no_plots) {
		if (report_results(dir, scripts, o.report, sizeof(o.report)))
			o.report[0] = 0;
	} else if ((n = plot_and_report(dir, scripts, &o)) < 0) {
		return 2;
	}
	print_verdicts(dir);
	if (n)
		printf("plots:  %s (%d plots)\n", o.plots, n);
	if (!o.report[0])
		return 1;
	printf("report: %s\n", o.report);
	return 0;
}
