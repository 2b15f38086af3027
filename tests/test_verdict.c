/*
 * Claims and verdicts (bench/report/verdict.h) on hand-made results
 * directories with fixed summaries, so that every outcome is hit on
 * purpose: reproduced, not reproduced and inconclusive for ratio and
 * single-side thresholds, a crossover found, none, and one that the
 * intervals leave open, and no data (no row, no summary).  Then the config
 * checks `dlbench run` relies on, verdict_write's lines and verdict.md,
 * which never replaces an earlier one, and the report that shows them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/check.h"
#include "bench/report/plot_style.h"
#include "bench/report/report.h"
#include "bench/report/verdict.h"

static char dir[256];

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static const char *const slots[] = { "16777216", "67108864" };
static const int dirties[] = { 0, 1, 10, 50, 100 };

/* get_log_ns of one row of the fixture; 0 for no row. */
static double value(const char *strategy, int slot, int d, int rep)
{
	static const double wobble[] = { 1.0, 1.01, 0.99 };
	static const double xchg16[] = { 100, 100, 0, 2000, 4000 };
	static const double xchg64[] = { 100, 150, 200, 250, 300 };
	static const double xchg10[] = { 200, 150, 250 };
	static const double and0[] = { 850, 950, 1150 }, and100[] = { 850, 1050, 1250 };

	if (!strcmp(strategy, "srcu-swap"))
		return 1000 + 10 * (rep == 1) - 10 * (rep == 2);
	if (!strcmp(strategy, "xchg") && slot == 0)
		return dirties[d] == 10 ? xchg10[rep] : xchg16[d] * wobble[rep];
	if (!strcmp(strategy, "xchg"))
		return xchg64[d] * wobble[rep];
	if (!strcmp(strategy, "lock-copy-clear"))
		return slot == 0 ? 1000 : 0;
	if (!strcmp(strategy, "atomic-and") && slot == 0 && (dirties[d] == 0 || dirties[d] == 100))
		return dirties[d] == 0 ? and0[rep] : and100[rep];
	return 0;
}

static void write_summary(void)
{
	static const char *const strategies[] = { "srcu-swap", "xchg", "lock-copy-clear",
						  "atomic-and" };
	char path[512];
	FILE *f;
	int cell = 0;

	snprintf(path, sizeof(path), "%s/harvest", dir);
	mkdir(path, 0777);
	snprintf(path, sizeof(path), "%s/harvest/summary.csv", dir);
	f = fopen(path, "w");
	fputs("scenario,cell,repetition,strategy,slot_bytes,dirty_percent,get_log_ns,floor_ns\n",
	      f);
	for (int s = 0; s < 4; s++)
		for (int slot = 0; slot < 2; slot++, cell++)
			for (int d = 0; d < 5; d++)
				for (int rep = 0; rep < 3; rep++) {
					double v = value(strategies[s], slot, d, rep);

					if (v > 0)
						fprintf(f, "h,%d,%d,%s,%s,%d,%g,90\n", cell, rep,
							strategies[s], slots[slot], dirties[d], v);
				}
	fclose(f);
}

static const char config[] =
	"[global]\nrepetitions = 3\n\n"
	"[h]\nworkload = harvest\nstrategy = srcu-swap,xchg\n\n"
	"[m]\nworkload = memslot\nprotection = srcu-mb\n\n"
	"[claim.ratio-yes]\ntext = \"xchg brought it under 200 us\"\nscenario = h\n"
	"figure = get_log_ns\na = strategy=srcu-swap;dirty_percent=1;slot_bytes=16M\n"
	"b = strategy=xchg;dirty_percent=1;slot_bytes=16M\nexpect = b/a <= 0.2\n"
	"plot = harvest-getlog-vs-dirty\nexplain = never shown: it reproduces\n\n"
	"[claim.ratio-no]\ntext = at most twice as fast\nscenario = h\nfigure = get_log_ns\n"
	"a = strategy=srcu-swap;dirty_percent=1;slot_bytes=16M\n"
	"b = strategy=xchg;dirty_percent=1;slot_bytes=16M\nexpect = a/b <= 2\n"
	"explain = the emulated fault is cheap\n\n"
	"[claim.ratio-open]\ntext = five times faster at 10%\nscenario = h\nfigure = get_log_ns\n"
	"a = strategy=srcu-swap slot_bytes=16M\nb = strategy=xchg slot_bytes=16M\n"
	"where = dirty_percent=10\nexpect = b/a <= 0.2\n\n"
	"[claim.one-side-yes]\ntext = a grace period costs at least 500 ns\nscenario = h\n"
	"figure = get_log_ns\na = strategy=srcu-swap;dirty_percent=1\nexpect = a >= 500\n\n"
	"[claim.one-side-no]\ntext = under 50 ns\nscenario = h\nfigure = get_log_ns\n"
	"a = strategy=srcu-swap\nb = strategy=xchg;dirty_percent=1;slot_bytes=16M\nexpect = b < "
	"50\n\n"
	"[claim.one-side-single]\ntext = one sample\nscenario = h\nfigure = get_log_ns\n"
	"a = strategy=srcu-swap;dirty_percent=1;slot_bytes=16M;repetition=0\nexpect = a >= 500\n\n"
	"[claim.cross-yes]\ntext = faster unless we have too many dirty pages\nscenario = h\n"
	"figure = get_log_ns\na = strategy=srcu-swap\nb = strategy=xchg\nwhere = slot_bytes=16M\n"
	"expect = crossover dirty_percent\nplot = harvest-getlog-vs-dirty\n\n"
	"[claim.cross-no]\ntext = a crossover at 64M too\nscenario = h\nfigure = get_log_ns\n"
	"a = strategy=srcu-swap\nb = strategy=xchg\nwhere = slot_bytes=64M\n"
	"expect = crossover dirty-percent\nexplain = 2 CPUs\n\n"
	"[claim.cross-open]\ntext = atomic_and was really slow\nscenario = h\nfigure = get_log_ns\n"
	"a = strategy=lock-copy-clear\nb = strategy=atomic-and\nexpect = crossover "
	"dirty_percent\n\n"
	"[claim.no-row]\ntext = nobody ran it\nscenario = h\nfigure = get_log_ns\n"
	"a = strategy=nosuch\nb = strategy=xchg\nexpect = b/a < 1\n\n"
	"[claim.no-summary]\ntext = lookups scale\nscenario = m\nfigure = lookups_per_s\n"
	"a = protection=srcu-mb\nexpect = a >= 1000000\n";

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_verdict.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	put("meta.json",
	    "{ \"suite\": \"dlbench\", \"workload\": \"run\", \"config\": \"claims\" }\n");
	put("cells.csv",
	    "scenario,workload,cell,kind,repetition,strategy,status,exit_code,duration_s,dir\n");
	put("config.ini", config);
	write_summary();
}

static const struct verdict *find(const struct verdict *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i].c.name, name))
			return &v[i];
	return NULL;
}

#define EXPECT_OUTCOME(v, n, name, want, needle)                                                   \
	do {                                                                                       \
		const struct verdict *x_ = find(v, n, name);                                       \
		CHECKF(x_ != NULL, "no verdict for %s", name);                                     \
		if (x_) {                                                                          \
			CHECKF(x_->outcome == (want), "%s: %s (%s; %s), want %s", name,            \
			       verdict_name(x_->outcome), x_->measured, x_->why,                   \
			       verdict_name(want));                                                \
			CHECKF(strstr(x_->measured, needle) || strstr(x_->why, needle),            \
			       "%s: '%s' / '%s' lacks '%s'", name, x_->measured, x_->why, needle); \
		}                                                                                  \
	} while (0)

static void test_outcomes(void)
{
	struct verdict *v;
	char err[512];
	int n = verdict_evaluate(dir, &v, err, sizeof(err));

	CHECKF(n == 11, "%d claims (%s)", n, n < 0 ? err : "");
	if (n <= 0)
		return;
	EXPECT_OUTCOME(v, n, "ratio-yes", VERDICT_REPRODUCED, "b/a = 0.1 [");
	EXPECT_OUTCOME(v, n, "ratio-no", VERDICT_NOT_REPRODUCED, "a/b = 10 [");
	EXPECT_OUTCOME(v, n, "ratio-open", VERDICT_INCONCLUSIVE, "straddles 0.2");
	EXPECT_OUTCOME(v, n, "one-side-yes", VERDICT_REPRODUCED, "(n = 6)");
	EXPECT_OUTCOME(v, n, "one-side-no", VERDICT_NOT_REPRODUCED, "b = 100 ns");
	EXPECT_OUTCOME(v, n, "one-side-single", VERDICT_INCONCLUSIVE, "fewer than 2 samples");
	EXPECT_OUTCOME(v, n, "cross-yes", VERDICT_REPRODUCED,
		       "crosses 1 between 10 and 50, at dirty_percent ~ 27.8");
	EXPECT_OUTCOME(v, n, "cross-no", VERDICT_NOT_REPRODUCED, "no crossover, b/a stays below 1");
	EXPECT_OUTCOME(v, n, "cross-open", VERDICT_INCONCLUSIVE, "straddles 1");
	EXPECT_OUTCOME(v, n, "no-row", VERDICT_NO_DATA, "a matches no row of scenario h");
	EXPECT_OUTCOME(v, n, "no-summary", VERDICT_NO_DATA, "no memslot results");
	verdict_free(v, (size_t)n);
}

static int count_lines(const char *path, const char *prefix)
{
	char line[4096];
	int n = 0;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		n += !strncmp(line, prefix, strlen(prefix));
	if (f)
		fclose(f);
	return n;
}

static int file_has(const char *path, const char *needle)
{
	static char text[1 << 21];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

	if (f)
		fclose(f);
	text[n] = 0;
	return strstr(text, needle) != NULL;
}

static void test_write(void)
{
	char md[512], md2[512];

	snprintf(md, sizeof(md), "%s/verdict.md", dir);
	snprintf(md2, sizeof(md2), "%s/verdict-2.md", dir);
	CHECK(verdict_write(dir) == 11);
	CHECK(count_lines(md, "- ") == 11);
	CHECK(count_lines(md, "- reproduced: ") == 3);
	CHECK(count_lines(md, "- not reproduced: ") == 3);
	CHECK(count_lines(md, "- inconclusive: ") == 3);
	CHECK(count_lines(md, "- no data: ") == 2);
	/* why a claim may not reproduce: shown only when it did not */
	CHECK(file_has(md, "  - why it may not reproduce here: the emulated fault is cheap"));
	CHECK(!file_has(md, "never shown"));
	CHECK(file_has(md, "- reproduced: ratio-yes: \"xchg brought it under 200 us\" -- measured "
			   "b/a = 0.1 ["));
	CHECK(file_has(md, "; expected b/a <= 0.2; plot: harvest-getlog-vs-dirty"));
	/* never replaced: the second goes beside it */
	CHECK(access(md2, F_OK) != 0);
	CHECK(verdict_write(dir) == 11);
	CHECK(access(md2, F_OK) == 0);
	CHECK(count_lines(md2, "- ") == 11);
}

static void test_report_shows_them(void)
{
	struct style_table st = { 0 };
	char path[512];

	CHECK(report_write(dir, NULL, &st, "report.html") == 0);
	snprintf(path, sizeof(path), "%s/report.html", dir);
	CHECK(file_has(
		path,
		"<tr class=\"v-reproduced\"><td><b>reproduced</b></td><td><code>cross-yes</code>"));
	CHECK(file_has(path, "<tr "
			     "class=\"v-inconclusive\"><td><b>inconclusive</b></"
			     "td><td><code>ratio-open</code>"));
	CHECK(file_has(path, "<tr class=\"v-no-data\">"));
	CHECK(file_has(path, "<tr class=\"v-not-reproduced\">"));
	CHECK(file_has(path, "<a href=\"#plot-harvest-getlog-vs-dirty\">"));
	/* the ranked table: at 1% dirty of 16M, xchg (100) first, srcu-swap
	 * 10x worse, each 1.1x its floor (90) */
	CHECK(file_has(path, "slot_bytes=16M, dirty_percent=1</caption>"));
	CHECK(file_has(path, "xchg</td><td class=num>3</td><td class=num>100 ns</td>"));
	CHECK(file_has(path, "srcu-swap</td><td class=num>3</td><td class=num>1 us</td><td "
			     "class=ci>[990 ns, 1.01 us]</td><td class=num>10&times;</td>"));
	CHECK(!file_has(path, "<script"));
}

/* A config `dlbench run` must refuse: one line naming the claim and why. */
static void expect_config_error(const char *text, const char *needle)
{
	char err[512] = "", path[512];

	put("bad.ini", text);
	snprintf(path, sizeof(path), "%s/bad.ini", dir);
	CHECKF(verdict_check_config(path, err, sizeof(err)) == -1 && strstr(err, needle),
	       "config error '%s': got '%s'", needle, err);
	CHECK(!strchr(err, '\n'));
}

static void test_config_checks(void)
{
	char path[512], err[512];
	static const char head[] = "[s]\nworkload = harvest\n[claim.c]\ntext = t\nscenario = s\n"
				   "figure = get_log_ns\na = strategy=xchg\n";
	char buf[1024];

	snprintf(path, sizeof(path), "%s/config.ini", dir);
	CHECK(verdict_check_config(path, err, sizeof(err)) == 11);
	snprintf(buf, sizeof(buf), "%sexpect = a < 1\ncolour = red\n", head);
	expect_config_error(buf, "[claim.c]: unknown key 'colour'");
	expect_config_error(head, "[claim.c]: no expect");
	snprintf(buf, sizeof(buf), "%sexpect = b/a ~ 3\n", head);
	expect_config_error(buf, "[claim.c]: expect = ");
	snprintf(buf, sizeof(buf), "%sexpect = b/a < 3\n", head);
	expect_config_error(buf, "[claim.c]: expect = b/a < 3 needs b");
	expect_config_error(
		"[claim.c]\ntext = t\nscenario = nosuch\nfigure = f\na = x=1\nexpect = a > 1\n",
		"scenario = nosuch: no such scenario");
	/* a directory without config.ini (one workload's) has no claims */
	{
		struct verdict *v;
		char empty[] = "/tmp/test_verdict_empty.XXXXXX";

		CHECK(mkdtemp(empty) != NULL);
		CHECK(verdict_evaluate(empty, &v, err, sizeof(err)) == 0 && v == NULL);
		CHECK(verdict_write(empty) == 0);
		rmdir(empty);
	}
}

int main(void)
{
	make_dir();
	RUN(test_outcomes);
	RUN(test_write);
	RUN(test_report_shows_them);
	RUN(test_config_checks);
	if (!check_failures) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	} else {
		fprintf(stderr, "files kept in %s\n", dir);
	}
	return check_exit();
}
