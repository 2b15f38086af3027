/*
 * `dlbench compare A B`: for every cell two result directories share, the
 * ratio of each figure's median B/A with a 95% bootstrap confidence
 * interval over the repetitions.
 *
 * Rows are matched on their parameter columns (csvtable.h
 * csv_is_parameter: every non-numeric column, the config keys and the
 * workloads' known numeric parameters), leaving out the runner's cell
 * number and the repetition columns, which are the samples.  Every other
 * numeric column both sides have is a figure.  The interval is the 2.5th
 * and 97.5th percentiles of the ratio of medians over 2000 resamplings
 * (with replacement, each side on its own) drawn from a fixed seed
 * (stats_ratio_ci), so the same inputs always give the same table.  An
 * interval that contains 1 is marked `~` (not significant); with fewer than
 * 2 samples on a side there is no interval and the mark is `?`.
 *
 * Hosts.  A merged result (`dlbench merge`) has a `host` column.  A side
 * written DIR@HOST takes only that host's rows, so `compare M@node1
 * M@node2` sets two machines side by side.  The host is matched like a
 * parameter when both sides have the column and share a host (the same
 * machines, run twice); otherwise it only says where a sample came from,
 * and samples of every host of a side are pooled.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/cli.h"
#include "bench/commands.h"
#include "bench/report/csv.h"
#include "bench/report/csvtable.h"
#include "bench/report/meta.h"
#include "bench/report/rdir.h"
#include "bench/report/results.h"
#include "lib/util/stats.h"

#define RESAMPLES 2000

/* One side of the comparison: DIR, or DIR@HOST. */
struct side {
	char dir[PATH_MAX];
	const char *host; /* NULL: every host */
	char hostbuf[256];
	char **keys; /* the config keys of its run */
	size_t nkeys;
	struct rdir_summary *sums;
	size_t nsums;
};

struct keyset {
	char **names;
	size_t n;
};

struct totals {
	size_t compared, significant, cells;
};

static void keyset_add(struct keyset *k, const char *name)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->names[i], name))
			return;
	k->names = cli_xrealloc(k->names, (k->n + 1) * sizeof(*k->names));
	k->names[k->n++] = strdup(name);
}

static int keyset_has(const struct keyset *k, const char *name)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->names[i], name))
			return 1;
	return 0;
}

static void keyset_free(struct keyset *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->names[i]);
	free(k->names);
}

static void row_key(const struct csv_table *t, size_t r, const struct keyset *keys, char *buf,
		    size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < keys->n && used + 1 < len; i++) {
		int c = csv_table_col(t, keys->names[i]);

		used += (size_t)snprintf(buf + used, len - used, "%s\x1f",
					 c >= 0 ? t->rows[r][c] : "");
	}
}

/* The values of column @col over the rows with key @key. */
static size_t samples(const struct csv_table *t, const struct keyset *keys, const char *key,
		      int col, double *out)
{
	char k[4096];
	size_t n = 0;
	double v;

	for (size_t r = 0; r < t->nrows; r++) {
		row_key(t, r, keys, k, sizeof(k));
		if (!strcmp(k, key) && csv_number(t->rows[r][col], &v))
			out[n++] = v;
	}
	return n;
}

/* Whether the `host` columns of @a and @b share a value. */
static int hosts_shared(const struct csv_table *a, const struct csv_table *b)
{
	int ca = csv_table_col(a, "host"), cb = csv_table_col(b, "host");

	for (size_t r = 0; ca >= 0 && cb >= 0 && r < a->nrows; r++)
		for (size_t q = 0; q < b->nrows; q++)
			if (!strcmp(a->rows[r][ca], b->rows[q][cb]))
				return 1;
	return 0;
}

/* The columns rows are matched on: the parameters of either side, less the
 * samples' columns, and less the host unless both sides share one. */
static void key_columns(const struct csv_table *a, const struct side *sa, const struct csv_table *b,
			const struct side *sb, struct keyset *keys)
{
	int host_key = hosts_shared(a, b);
	const struct csv_table *t[2] = { a, b };
	const struct side *s[2] = { sa, sb };

	for (int k = 0; k < 2; k++)
		for (size_t c = 0; c < t[k]->ncols; c++) {
			const char *name = t[k]->header[c];

			if (csv_is_sample_column(name) || (!strcmp(name, "host") && !host_key) ||
			    !csv_is_parameter(t[k], c, s[k]->keys, s[k]->nkeys))
				continue;
			keyset_add(keys, name);
		}
	if (csv_table_col(a, "host") >= 0 || csv_table_col(b, "host") >= 0)
		printf("(host %s)\n", host_key ? "matched like a parameter: both sides ran on it"
					       : "pooled: the sides ran on different machines");
}

/* The figures: the numeric columns both sides have that are not keys. */
static size_t figure_columns(const struct csv_table *a, const struct csv_table *b,
			     const struct keyset *keys, char ***out)
{
	size_t n = 0;

	*out = NULL;
	for (size_t c = 0; c < a->ncols; c++) {
		const char *name = a->header[c];

		if (csv_table_col(b, name) < 0 || keyset_has(keys, name) ||
		    csv_is_sample_column(name) || !strcmp(name, "host"))
			continue;
		*out = cli_xrealloc(*out, (n + 1) * sizeof(**out));
		(*out)[n++] = a->header[c];
	}
	return n;
}

/* The cell's label: key=value of the key columns that vary in A. */
static void cell_label(const struct csv_table *a, size_t r, const struct keyset *keys, char *label,
		       size_t len)
{
	size_t used = 0;

	label[0] = 0;
	for (size_t k = 0; k < keys->n && used + 1 < len; k++) {
		int c = csv_table_col(a, keys->names[k]), varies = 0;

		for (size_t q = 1; c >= 0 && q < a->nrows && !varies; q++)
			varies = strcmp(a->rows[q][c], a->rows[0][c]) != 0;
		if (!varies || c < 0 || !*a->rows[r][c])
			continue;
		used += (size_t)snprintf(label + used, len - used, "%s%s=%s", used ? " " : "",
					 keys->names[k], a->rows[r][c]);
	}
	if (!label[0])
		snprintf(label, len, "(all)");
}

struct cell {
	const char *wl, *label, *figure;
	const double *a, *b;
	size_t na, nb;
};

/* One figure of one cell: a line of the table and a row of compare.csv. */
static void compare_figure(const struct cell *x, uint64_t seed, FILE *csv, struct totals *tot)
{
	double *tmp = malloc((x->na > x->nb ? x->na : x->nb) * sizeof(double) + 1);
	double ma, mb, ratio, lo = NAN, hi = NAN;
	const char *mark;
	char interval[64];

	memcpy(tmp, x->a, x->na * sizeof(double));
	ma = stats_median(tmp, x->na);
	memcpy(tmp, x->b, x->nb * sizeof(double));
	mb = stats_median(tmp, x->nb);
	free(tmp);
	if (ma == 0)
		return; /* no ratio to a zero */
	ratio = mb / ma;
	tot->compared++;
	if (x->na < 2 || x->nb < 2 ||
	    stats_ratio_ci(x->a, x->na, x->b, x->nb, RESAMPLES, seed, &lo, &hi)) {
		mark = "?";
		lo = hi = NAN;
		snprintf(interval, sizeof(interval), "-");
	} else {
		mark = lo <= 1 && hi >= 1 ? "~" : "";
		tot->significant += !*mark;
		snprintf(interval, sizeof(interval), "[%.3f, %.3f]", lo, hi);
	}
	printf("  %-26.26s %4zu %4zu %12.6g %12.6g %8.3f  %-19s %s\n", x->figure, x->na, x->nb, ma,
	       mb, ratio, interval, mark);
	csv_field(csv, x->wl);
	fputc(',', csv);
	csv_field(csv, x->label);
	fputc(',', csv);
	csv_field(csv, x->figure);
	fprintf(csv, ",%zu,%zu,%.9g,%.9g,%.6g,", x->na, x->nb, ma, mb, ratio);
	if (isnan(lo))
		fprintf(csv, ",,n/a\n");
	else
		fprintf(csv, "%.6g,%.6g,%s\n", lo, hi, *mark ? "no" : "yes");
}

static int b_has_key(const struct csv_table *b, const struct keyset *keys, const char *key)
{
	char kb[4096];

	for (size_t q = 0; q < b->nrows; q++) {
		row_key(b, q, keys, kb, sizeof(kb));
		if (!strcmp(kb, key))
			return 1;
	}
	return 0;
}

static void compare_workload(const char *wl, const struct csv_table *a, const struct side *sa,
			     const struct csv_table *b, const struct side *sb, uint64_t seed,
			     FILE *csv, struct totals *tot)
{
	struct keyset keys = { 0 }, seen = { 0 };
	size_t maxrows = a->nrows > b->nrows ? a->nrows : b->nrows, nfig;
	double *va = malloc((maxrows + 1) * sizeof(double)),
	       *vb = malloc((maxrows + 1) * sizeof(double));
	char **figures;

	printf("\n== %s: median B/A with 95%% bootstrap interval (~: interval contains 1, ?: fewer "
	       "than 2 repetitions)\n",
	       wl);
	key_columns(a, sa, b, sb, &keys);
	nfig = figure_columns(a, b, &keys, &figures);
	printf("%-28s %4s %4s %12s %12s %8s  %-19s\n", "  figure", "nA", "nB", "median A",
	       "median B", "B/A", "95% interval");
	for (size_t r = 0; r < a->nrows; r++) {
		char key[4096], label[1024];

		row_key(a, r, &keys, key, sizeof(key));
		if (keyset_has(&seen, key))
			continue;
		keyset_add(&seen, key);
		if (!b_has_key(b, &keys, key))
			continue;
		tot->cells++;
		cell_label(a, r, &keys, label, sizeof(label));
		printf("%s\n", label);
		for (size_t f = 0; f < nfig; f++) {
			struct cell x = {
				.wl = wl, .label = label, .figure = figures[f], .a = va, .b = vb
			};

			x.na = samples(a, &keys, key, csv_table_col(a, figures[f]), va);
			x.nb = samples(b, &keys, key, csv_table_col(b, figures[f]), vb);
			if (x.na && x.nb)
				compare_figure(&x, seed, csv, tot);
		}
	}
	keyset_free(&seen);
	keyset_free(&keys);
	free(figures);
	free(va);
	free(vb);
}

/* Keeps the rows of @host only; -1 when @t has no host column. */
static int keep_host(struct csv_table *t, const char *host)
{
	int c = csv_table_col(t, "host");
	size_t k = 0;

	if (c < 0)
		return -1;
	for (size_t r = 0; r < t->nrows; r++) {
		if (!strcmp(t->rows[r][c], host)) {
			t->rows[k++] = t->rows[r];
			continue;
		}
		for (size_t i = 0; i < t->ncols; i++)
			free(t->rows[r][i]);
		free(t->rows[r]);
	}
	t->nrows = k;
	return 0;
}

static void read_side(const struct side *s, size_t i, struct csv_table *t)
{
	if (csv_table_read(t, s->sums[i].path))
		cli_die("cannot read %s: %s", s->sums[i].path, strerror(errno));
	if (s->host && keep_host(t, s->host))
		cli_die("%s@%s: %s has no host column (not a merged result)", s->dir, s->host,
			s->sums[i].path);
	if (s->host && !t->nrows)
		cli_die("%s@%s: no rows of host %s in %s", s->dir, s->host, s->host,
			s->sums[i].path);
}

/* DIR or DIR@HOST (when DIR@HOST itself is no directory). */
static void side_open(struct side *s, const char *arg)
{
	const char *at = strrchr(arg, '@');
	struct stat sb;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s", arg);
	if (at && at[1] && stat(arg, &sb) != 0) {
		snprintf(s->dir, sizeof(s->dir), "%.*s", (int)(at - arg), arg);
		snprintf(s->hostbuf, sizeof(s->hostbuf), "%s", at + 1);
		s->host = s->hostbuf;
	}
	s->nsums = rdir_summaries(s->dir, &s->sums);
	if (!s->nsums)
		cli_die("%s: no summary.csv (not a result directory)", s->dir);
	s->nkeys = csv_run_keys(s->dir, &s->keys);
}

static void side_close(struct side *s)
{
	free(s->sums);
	csv_free_names(s->keys, s->nkeys);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dlbench compare [OPTIONS] A B\n\n"
		   "For every cell the result directories A and B share (same parameter\n"
		   "columns), the ratio of each figure's median B/A with a 95%% bootstrap\n"
		   "confidence interval over the repetitions; `~` marks an interval that\n"
		   "contains 1 (not significant), `?` fewer than 2 repetitions.  A and B are\n"
		   "`dlbench run` directories or single workload result directories.\n"
		   "Merged results (dlbench merge) have a host column: DIR@HOST takes only\n"
		   "that host's rows (compare M@node1 M@node2 sets two machines side by\n"
		   "side); the host is matched like a parameter when both sides ran on it,\n"
		   "and pooled with the repetitions otherwise.\n"
		   "Writes compare.csv and meta.json into a new results/<timestamp>-compare/.\n\n"
		   "  -o, --out DIR     the output directory instead (must not exist)\n"
		   "  -r, --seed N      seed of the bootstrap resampling (default 1)\n"
		   "  -h, --help        this text\n");
}

static void parse_args(int argc, char **argv, const char **out, uint64_t *seed)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0; /* one line of our own on bad options */
	while ((c = getopt_long(argc, argv, "o:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			*out = optarg;
			break;
		case 'r':
			*seed = cli_u64("--seed", optarg, 1, UINT64_MAX);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			cli_die("bad option or missing value: %s (dlbench compare --help)",
				argv[optind - 1]);
		}
	}
	if (optind != argc - 2)
		cli_die("expected two result directories A B (dlbench compare --help)");
}

/* Every workload A and B both have; returns how many. */
static size_t compare_all(const struct side *a, const struct side *b, uint64_t seed, FILE *csv,
			  struct totals *tot)
{
	size_t matched = 0;

	for (size_t i = 0; i < a->nsums; i++)
		for (size_t j = 0; j < b->nsums; j++) {
			struct csv_table ta, tb;

			if (strcmp(a->sums[i].workload, b->sums[j].workload))
				continue;
			read_side(a, i, &ta);
			read_side(b, j, &tb);
			compare_workload(a->sums[i].workload, &ta, a, &tb, b, seed, csv, tot);
			csv_table_free(&ta);
			csv_table_free(&tb);
			matched++;
		}
	return matched;
}

int cmd_compare(int argc, char **argv)
{
	const char *out = NULL;
	struct side a, b;
	char dir[PATH_MAX], extra[PATH_MAX * 3];
	uint64_t seed = 1;
	struct results_file rf;
	struct totals tot = { 0 };
	size_t matched;

	parse_args(argc, argv, &out, &seed);
	side_open(&a, argv[optind]);
	side_open(&b, argv[optind + 1]);
	if (results_dir_create(dir, sizeof(dir), out, "compare") || results_dir_lock(dir))
		return 2;
	if (results_file_open(&rf, dir, "compare.csv"))
		return 1;
	fputs("workload,cell,figure,n_a,n_b,median_a,median_b,ratio,ci_low,ci_high,significant\n",
	      rf.f);
	printf("A = %s\nB = %s\n", argv[optind], argv[optind + 1]);
	matched = compare_all(&a, &b, seed, rf.f, &tot);
	if (results_file_commit(&rf))
		return 1;
	snprintf(extra, sizeof(extra), "\"a\": \"%s\", \"b\": \"%s\"", argv[optind],
		 argv[optind + 1]);
	for (char *p = extra; *p; p++)
		if (*p == '\\')
			*p = '/';
	if (meta_write(dir, argc, argv, "compare", extra))
		return 1;
	if (!matched)
		fprintf(stderr, "dlbench compare: %s and %s share no workload\n", a.dir, b.dir);
	printf("\n%zu cells shared, %zu figures compared, %zu significant; %s/compare.csv\n",
	       tot.cells, tot.compared, tot.significant, dir);
	side_close(&a);
	side_close(&b);
	return 0;
}
