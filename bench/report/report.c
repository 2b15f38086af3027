/* report.html, one self-contained page per results directory: see report.h. */
#include "bench/report/report.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/report/csvtable.h"
#include "bench/report/plot_spec.h"
#include "bench/report/plot_style.h"
#include "bench/report/rdir.h"
#include "bench/report/results.h"
#include "bench/report/verdict.h"

#define LOG_TAIL_LINES 15

void html_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static const char style_sheet[] =
	"body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1500px;padding:0 24px "
	"48px;color:#222}"
	"h1{font-size:1.6em;margin:24px 0 4px}h2{border-bottom:2px solid "
	"#ddd;padding-bottom:4px;margin-top:40px}"
	"nav a{margin-right:14px}table{border-collapse:collapse;margin:8px 0 18px}"
	"th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}"
	"th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}"
	"td.ci{color:#555;font-size:.9em;white-space:nowrap}caption{text-align:left;font-weight:"
	"600;padding:4px 0}"
	".sw{display:inline-block;width:.9em;height:.9em;border-radius:2px;margin-right:6px;"
	"vertical-align:-1px}"
	"figure.plot{margin:24px 0 36px}figure.plot svg{max-width:100%;height:auto;border:1px "
	"solid #eee}"
	"p.how{max-width:1000px}pre{background:#f7f7f7;padding:8px;white-space:pre-wrap;overflow-"
	"wrap:anywhere;font-size:.85em;max-width:900px}"
	".v-reproduced{background:#d9f2d9}.v-not-reproduced{background:#f8d7d7}"
	".v-inconclusive{background:#fcf0c8}.v-no-data{background:#e8e8e8}"
	"details{margin:6px 0}summary{cursor:pointer;padding:3px 0}"
	".tables{display:flex;flex-wrap:wrap;gap:0 28px;align-items:flex-start}";

static void head(FILE *f, const char *dir)
{
	char config[256];

	rdir_meta(dir, "config", config, sizeof(config));
	fputs("<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
	      "<meta name=viewport content=\"width=device-width, "
	      "initial-scale=1\">\n<title>dlbench: ",
	      f);
	html_text(f, config[0] ? config : dir);
	fprintf(f,
		"</title>\n<style>%s</style>\n</head>\n<body>\n<h1>dlbench results: ", style_sheet);
	html_text(f, config[0] ? config : dir);
	fputs("</h1>\n<p><code>", f);
	html_text(f, dir);
	fputs("</code></p>\n<nav><a href=\"#machine\">machine and run</a><a "
	      "href=\"#claims\">claims</a>"
	      "<a href=\"#ranking\">strategies ranked</a><a href=\"#plots\">plots</a>"
	      "<a href=\"#failed\">failed cells</a></nav>\n",
	      f);
}

/* The runs of cells.csv by status. */
static void run_counts(FILE *f, const char *dir)
{
	char path[PATH_MAX];
	struct csv_table t;
	int sc;
	size_t ok = 0;

	if (results_pathf(path, sizeof(path), "%s/cells.csv", dir) || csv_table_read(&t, path))
		return;
	sc = csv_table_col(&t, "status");
	for (size_t r = 0; sc >= 0 && r < t.nrows; r++)
		ok += !strcmp(t.rows[r][sc], "ok");
	fprintf(f,
		"<p>%zu runs in cells.csv: %zu ok, %zu not ok (see <a "
		"href=\"#failed\">below</a>).</p>\n",
		t.nrows, ok, t.nrows - ok);
	csv_table_free(&t);
}

/* A whole small text file in <pre>, inside <details>. */
static void file_block(FILE *f, const char *dir, const char *name, const char *what)
{
	char path[PATH_MAX], buf[4096];
	FILE *in;
	size_t n;

	if (results_pathf(path, sizeof(path), "%s/%s", dir, name) || !(in = fopen(path, "r")))
		return;
	fprintf(f, "<details><summary>%s (<code>%s</code>)</summary><pre>", what, name);
	while ((n = fread(buf, 1, sizeof(buf) - 1, in)) > 0) {
		buf[n] = 0;
		html_text(f, buf);
	}
	fputs("</pre></details>\n", f);
	fclose(in);
}

static void section_meta(FILE *f, const char *dir)
{
	struct rdir_pair *p;
	size_t n = rdir_meta_pairs(dir, &p);

	fputs("<section id=machine><h2>Machine and run</h2>\n", f);
	run_counts(f, dir);
	fputs("<table>\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><th>", f);
		html_text(f, p[i].key);
		fputs("</th><td>", f);
		html_text(f, p[i].value);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	rdir_pairs_free(p, n);
	file_block(f, dir, "config.ini", "the config");
	fputs("</section>\n", f);
}

static void verdict_row(FILE *f, const struct verdict *v)
{
	const char *name = verdict_name(v->outcome);

	fputs("<tr class=\"v-", f);
	for (const char *p = name; *p; p++)
		fputc(*p == ' ' ? '-' : *p, f);
	fprintf(f, "\"><td><b>%s</b></td><td><code>", name);
	html_text(f, v->c.name);
	fputs("</code></td><td>&ldquo;", f);
	html_text(f, v->c.text);
	fputs("&rdquo;</td><td>", f);
	html_text(f, v->outcome == VERDICT_NO_DATA ? v->why : v->measured);
	if (v->outcome == VERDICT_INCONCLUSIVE && v->why[0]) {
		fputs(" (", f);
		html_text(f, v->why);
		fputs(")", f);
	}
	fputs("</td><td><code>", f);
	html_text(f, v->c.expect);
	fputs("</code></td><td>", f);
	if (v->c.plot) {
		fputs("<a href=\"#plot-", f);
		html_text(f, v->c.plot);
		fputs("\">", f);
		html_text(f, v->c.plot);
		fputs("</a>", f);
	}
	fputs("</td><td>", f);
	if (v->outcome != VERDICT_REPRODUCED)
		html_text(f, v->c.explain);
	fputs("</td></tr>\n", f);
}

static void section_claims(FILE *f, const char *dir)
{
	struct verdict *v;
	char err[512];
	int n = verdict_evaluate(dir, &v, err, sizeof(err));

	fputs("<section id=claims><h2>Claims and verdicts</h2>\n", f);
	if (n < 0) {
		fputs("<p>The claims cannot be evaluated: ", f);
		html_text(f, err);
		fputs("</p>\n</section>\n", f);
		return;
	}
	if (n == 0) {
		fputs("<p>The config makes no claim (no <code>[claim.NAME]</code> "
		      "section).</p>\n</section>\n",
		      f);
		return;
	}
	fputs("<p>Each figure is a median over the samples that the claim's filters select, with "
	      "its 95% percentile-bootstrap interval; a verdict is inconclusive when the interval "
	      "straddles the "
	      "threshold.</p>\n<table><tr><th>verdict</th><th>claim</th><th>quoted</th>"
	      "<th>measured (95% CI)</th><th>expected</th><th>plot</th>"
	      "<th>why it may not reproduce here</th></tr>\n",
	      f);
	for (int i = 0; i < n; i++)
		verdict_row(f, &v[i]);
	fputs("</table>\n</section>\n", f);
	verdict_free(v, (size_t)n);
}

/* Copies the SVG of @path into the page from its <svg element on, with
 * every id (and every reference to one) prefixed by @prefix, so that the
 * plots' ids stay unique in one document. */
static int inline_svg(FILE *f, const char *path, const char *prefix)
{
	FILE *in = fopen(path, "r");
	char *text, *p;
	long n;

	if (!in)
		return -1;
	fseek(in, 0, SEEK_END);
	n = ftell(in);
	rewind(in);
	text = malloc((size_t)n + 1);
	n = (long)fread(text, 1, (size_t)n, in);
	fclose(in);
	text[n] = 0;
	p = strstr(text, "<svg");
	if (!p) {
		free(text);
		return -1;
	}
	while (*p) {
		static const char *const marks[] = { "id=\"", "href=\"#", "url(#" };
		int k;

		for (k = 0; k < 3 && strncmp(p, marks[k], strlen(marks[k])); k++)
			;
		if (k < 3 && (k != 0 || p[-1] == ' ' || p[-1] == '\n' || p[-1] == '\t')) {
			fprintf(f, "%s%s-", marks[k], prefix);
			p += strlen(marks[k]);
			continue;
		}
		fputc(*p++, f);
	}
	free(text);
	return 0;
}

static void section_plots(FILE *f, const char *plotsdir)
{
	int shown = 0;

	fputs("<section id=plots><h2>Plots</h2>\n", f);
	if (plotsdir)
		fprintf(f,
			"<p>Also as PNG and SVG in <code>%s</code>. Colours and point shapes "
			"are fixed per strategy (plots/strategies.txt); bars are 95%% bootstrap "
			"intervals of the median.</p>\n",
			strrchr(plotsdir, '/') ? strrchr(plotsdir, '/') + 1 : plotsdir);
	for (size_t i = 0; i < plot_nspecs && plotsdir; i++) {
		const struct plot_spec *s = &plot_specs[i];
		char path[PATH_MAX], prefix[32];
		struct stat sb;

		if (results_pathf(path, sizeof(path), "%s/%s.svg", plotsdir, s->name) ||
		    stat(path, &sb) != 0)
			continue;
		fprintf(f, "<figure class=plot id=\"plot-%s\" data-plot=\"%s\">\n<h3>", s->name,
			s->name);
		html_text(f, s->title);
		fprintf(f, " <small>(<code>%s</code>)</small></h3>\n", s->name);
		snprintf(prefix, sizeof(prefix), "p%zu", i);
		if (inline_svg(f, path, prefix))
			fputs("<p>(the SVG cannot be read)</p>", f);
		fputs("\n<figcaption><p class=how><b>How to read it.</b> ", f);
		html_text(f, s->how);
		fputs("</p></figcaption>\n</figure>\n", f);
		shown++;
	}
	if (!shown)
		fputs("<p>No plot in this report: none was rendered (no data the plots know, "
		      "gnuplot missing, or a report written without plots).</p>\n",
		      f);
	fputs("</section>\n", f);
}

/* The last @lines lines of a file into the page. */
static void log_tail(FILE *f, const char *path, int lines)
{
	FILE *in = fopen(path, "r");
	char buf[16384];
	long size;
	size_t n;
	int seen = 0;
	char *p;

	if (!in) {
		fputs("<pre>(no log)</pre>", f);
		return;
	}
	fseek(in, 0, SEEK_END);
	size = ftell(in);
	fseek(in, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, in);
	fclose(in);
	buf[n] = 0;
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	for (p = buf + n; p > buf; p--)
		if (p[-1] == '\n' && ++seen == lines)
			break;
	fputs("<pre>", f);
	html_text(f, p);
	fputs("</pre>", f);
}

/* One failed run: its parameters and the end of its log. */
static void failed_row(FILE *f, const char *dir, const struct csv_table *t, size_t r)
{
	int dc = csv_table_col(t, "dir");
	char path[PATH_MAX];
	int in = 0;

	fputs("<td>", f);
	for (size_t c = 0; c < t->ncols; c++) {
		if (!strcmp(t->header[c], "status"))
			break;
		if (in && *t->rows[r][c]) {
			html_text(f, t->header[c]);
			fputs("=", f);
			html_text(f, t->rows[r][c]);
			fputs(" ", f);
		}
		in |= !strcmp(t->header[c], "repetition");
	}
	fputs("</td><td>", f);
	if (dc >= 0 && !results_pathf(path, sizeof(path), "%s/%s.log", dir, t->rows[r][dc]))
		log_tail(f, path, LOG_TAIL_LINES);
	fputs("</td></tr>\n", f);
}

static void section_failed(FILE *f, const char *dir)
{
	static const char *const cols[] = { "scenario", "cell",	     "kind",	  "repetition",
					    "status",	"exit_code", "duration_s" };
	char path[PATH_MAX];
	struct csv_table t;
	int sc;
	size_t bad = 0;

	fputs("<section id=failed><h2>Failed and timed-out cells</h2>\n", f);
	if (results_pathf(path, sizeof(path), "%s/cells.csv", dir) || csv_table_read(&t, path)) {
		fputs("<p>No cells.csv: one workload's results, no matrix.</p>\n</section>\n", f);
		return;
	}
	sc = csv_table_col(&t, "status");
	for (size_t r = 0; sc >= 0 && r < t.nrows; r++) {
		if (!strcmp(t.rows[r][sc], "ok"))
			continue;
		if (!bad++) {
			fputs("<table><tr>", f);
			for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++)
				fprintf(f, "<th>%s</th>", cols[k]);
			fprintf(f, "<th>parameters</th><th>last %d lines of its log</th></tr>\n",
				LOG_TAIL_LINES);
		}
		fputs("<tr>", f);
		for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
			int c = csv_table_col(&t, cols[k]);

			fputs("<td>", f);
			html_text(f, c >= 0 ? t.rows[r][c] : "");
			fputs("</td>", f);
		}
		failed_row(f, dir, &t, r);
	}
	if (bad)
		fputs("</table>\n", f);
	else
		fputs("<p>None: every run succeeded.</p>\n", f);
	csv_table_free(&t);
	fputs("</section>\n", f);
}

int report_write(const char *dir, const char *plotsdir, const struct style_table *styles,
		 const char *file)
{
	struct results_file rf;

	if (results_file_open(&rf, dir, file))
		return -1;
	head(rf.f, dir);
	section_meta(rf.f, dir);
	section_claims(rf.f, dir);
	report_rank(rf.f, dir, styles);
	section_plots(rf.f, plotsdir && *plotsdir ? plotsdir : NULL);
	section_failed(rf.f, dir);
	fputs("<footer><p>Written by dlbench report; no script, no network: this page is the "
	      "whole record.</p></footer>\n</body>\n</html>\n",
	      rf.f);
	if (ferror(rf.f)) {
		results_file_abort(&rf);
		fprintf(stderr, "dlbench: writing %s/%s failed\n", dir, file);
		return -1;
	}
	return results_file_commit(&rf);
}
