/*
 * `dlbench compare A B`: for every cell two result directories share, the
 * ratio of each figure's median B/A with a 95% bootstrap confidence
 * interval over the repetitions.
 *
 * Rows are matched on their parameter columns (lib/csvtable.h
 * csv_is_parameter: every non-numeric column, the config keys and the
 * workloads' known numeric parameters), leaving out the runner's cell
 * number and the repetition columns, which are the samples.  Every other
 * numeric column both sides have is a figure.  The interval is the 2.5th
 * and 97.5th percentiles of the ratio of medians over 2000 resamplings
 * (with replacement, each side on its own) drawn from a fixed seed, so the
 * same inputs always give the same table.  An interval that contains 1 is
 * marked `~` (not significant); with fewer than 2 samples on a side there
 * is no interval and the mark is `?`.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/cli.h"
#include "bench/commands.h"
#include "bench/report/csv.h"
#include "bench/report/csvtable.h"
#include "bench/report/meta.h"
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

#define RESAMPLES 2000

struct source {
	char name[256];         /* the workload */
	char path[PATH_MAX];
};

/* The summaries of a result directory: <dir>/<workload>/summary.csv of a
 * run, or <dir>/summary.csv of one workload (named by its meta.json). */
static size_t find_summaries(const char *dir, struct source **out)
{
	struct source *s = NULL;
	size_t n = 0;
	char path[PATH_MAX * 2];
	struct stat sb;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/summary.csv", dir);
	if (stat(path, &sb) == 0) {
		char meta[PATH_MAX * 2], text[65536], *p;
		FILE *f;
		size_t len;

		s = realloc(s, sizeof(*s));
		pathf(s[0].path, sizeof(s[0].path), "%s", path);
		snprintf(s[0].name, sizeof(s[0].name), "summary");
		snprintf(meta, sizeof(meta), "%s/meta.json", dir);
		f = fopen(meta, "r");
		if (f) {
			len = fread(text, 1, sizeof(text) - 1, f);
			text[len] = 0;
			fclose(f);
			p = strstr(text, "\"workload\":");
			if (p && (p = strchr(p + 11, '"')))
				snprintf(s[0].name, sizeof(s[0].name), "%.*s",
					 (int)strcspn(p + 1, "\""), p + 1);
		}
		n = 1;
	}
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "cells"))
			continue;
		snprintf(path, sizeof(path), "%s/%s/summary.csv", dir, de->d_name);
		if (stat(path, &sb) != 0)
			continue;
		s = realloc(s, (n + 1) * sizeof(*s));
		pathf(s[n].path, sizeof(s[n].path), "%s", path);
		snprintf(s[n].name, sizeof(s[n].name), "%s", de->d_name);
		n++;
	}
	if (d)
		closedir(d);
	*out = s;
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_of(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* xorshift64*: a fixed-seed generator, so the intervals repeat exactly. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static double resampled_median(const double *v, size_t n, double *tmp, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++)
		tmp[i] = v[rng_next(rng) % n];
	return median_of(tmp, n);
}

/* Bootstrap interval of median(b)/median(a); returns -1 when undefined. */
static int bootstrap(const double *a, size_t na, const double *b, size_t nb, uint64_t seed,
		     double *lo, double *hi)
{
	double *ratios = malloc(RESAMPLES * sizeof(double));
	double *tmp = malloc((na > nb ? na : nb) * sizeof(double));
	uint64_t rng = seed ? seed : 1;
	size_t k = 0;

	for (int i = 0; i < RESAMPLES; i++) {
		double ma = resampled_median(a, na, tmp, &rng);
		double mb = resampled_median(b, nb, tmp, &rng);

		if (ma != 0)
			ratios[k++] = mb / ma;
	}
	free(tmp);
	if (k < RESAMPLES / 2) {
		free(ratios);
		return -1;
	}
	qsort(ratios, k, sizeof(double), cmp_double);
	*lo = ratios[(size_t)(0.025 * (double)(k - 1))];
	*hi = ratios[(size_t)ceil(0.975 * (double)(k - 1))];
	free(ratios);
	return 0;
}

static int excluded_key(const char *name)
{
	return csv_is_sample_column(name);
}

struct keyset {
	char **names;
	size_t n;
};

static void keyset_add(struct keyset *k, const char *name)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->names[i], name))
			return;
	k->names = realloc(k->names, (k->n + 1) * sizeof(*k->names));
	k->names[k->n++] = strdup(name);
}

static void row_key(const struct csv_table *t, size_t r, const struct keyset *keys,
		    char *buf, size_t len)
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

struct totals {
	size_t compared, significant, cells;
};

static void compare_workload(const char *wl, const struct csv_table *a, const struct csv_table *b,
			     char **keys_a, size_t nka, char **keys_b, size_t nkb, uint64_t seed,
			     FILE *csv, struct totals *tot)
{
	struct keyset keys = { 0 };
	char **figures = NULL, **seen = NULL;
	size_t nfig = 0, nseen = 0, maxrows = a->nrows > b->nrows ? a->nrows : b->nrows;
	double *sa = malloc((maxrows + 1) * sizeof(double)), *sb = malloc((maxrows + 1) * sizeof(double));
	char *varies;

	for (size_t c = 0; c < a->ncols; c++)
		if (!excluded_key(a->header[c]) && csv_is_parameter(a, c, keys_a, nka))
			keyset_add(&keys, a->header[c]);
	for (size_t c = 0; c < b->ncols; c++)
		if (!excluded_key(b->header[c]) && csv_is_parameter(b, c, keys_b, nkb))
			keyset_add(&keys, b->header[c]);
	for (size_t c = 0; c < a->ncols; c++) {
		int cb = csv_table_col(b, a->header[c]);
		int is_key = 0;

		for (size_t i = 0; i < keys.n; i++)
			if (!strcmp(keys.names[i], a->header[c]))
				is_key = 1;
		if (cb < 0 || is_key || excluded_key(a->header[c]))
			continue;
		figures = realloc(figures, (nfig + 1) * sizeof(*figures));
		figures[nfig++] = a->header[c];
	}
	/* which key columns vary in A: only those go into the cell's label */
	varies = calloc(keys.n + 1, 1);
	for (size_t i = 0; i < keys.n; i++) {
		int c = csv_table_col(a, keys.names[i]);

		for (size_t r = 1; c >= 0 && r < a->nrows; r++)
			if (strcmp(a->rows[r][c], a->rows[0][c]))
				varies[i] = 1;
	}
	printf("\n== %s: median B/A with 95%% bootstrap interval (~: interval contains 1, ?: fewer than 2 repetitions)\n",
	       wl);
	printf("%-28s %4s %4s %12s %12s %8s  %-19s\n", "  figure", "nA", "nB", "median A",
	       "median B", "B/A", "95% interval");
	for (size_t r = 0; r < a->nrows; r++) {
		char key[4096], label[1024];
		size_t used = 0, i;
		int found = 0;

		row_key(a, r, &keys, key, sizeof(key));
		for (i = 0; i < nseen; i++)
			if (!strcmp(seen[i], key))
				break;
		if (i < nseen)
			continue;
		seen = realloc(seen, (nseen + 1) * sizeof(*seen));
		seen[nseen++] = strdup(key);
		for (size_t q = 0; q < b->nrows && !found; q++) {
			char kb[4096];

			row_key(b, q, &keys, kb, sizeof(kb));
			found = !strcmp(kb, key);
		}
		if (!found)
			continue;
		tot->cells++;
		label[0] = 0;
		for (size_t k = 0; k < keys.n && used + 1 < sizeof(label); k++) {
			int c = csv_table_col(a, keys.names[k]);

			if (!varies[k] || c < 0 || !*a->rows[r][c])
				continue;
			used += (size_t)snprintf(label + used, sizeof(label) - used, "%s%s=%s",
						 used ? " " : "", keys.names[k], a->rows[r][c]);
		}
		if (used >= sizeof(label))
			used = sizeof(label) - 1;
		if (!label[0])
			snprintf(label, sizeof(label), "(all)");
		printf("%s\n", label);
		for (size_t f = 0; f < nfig; f++) {
			int ca = csv_table_col(a, figures[f]), cb = csv_table_col(b, figures[f]);
			size_t na = samples(a, &keys, key, ca, sa), nb = samples(b, &keys, key, cb, sb);
			double ma, mb, ratio, lo = NAN, hi = NAN;
			const char *mark;
			char interval[64];

			if (!na || !nb)
				continue;
			ma = median_of(sa, na);
			mb = median_of(sb, nb);
			if (ma == 0)
				continue;       /* no ratio to a zero */
			ratio = mb / ma;
			tot->compared++;
			if (na < 2 || nb < 2) {
				mark = "?";
				snprintf(interval, sizeof(interval), "-");
			} else if (bootstrap(sa, na, sb, nb, seed, &lo, &hi)) {
				mark = "?";
				snprintf(interval, sizeof(interval), "-");
			} else {
				mark = lo <= 1 && hi >= 1 ? "~" : "";
				if (!*mark)
					tot->significant++;
				snprintf(interval, sizeof(interval), "[%.3f, %.3f]", lo, hi);
			}
			printf("  %-26.26s %4zu %4zu %12.6g %12.6g %8.3f  %-19s %s\n", figures[f], na,
			       nb, ma, mb, ratio, interval, mark);
			csv_field(csv, wl);
			fputc(',', csv);
			csv_field(csv, label);
			fputc(',', csv);
			csv_field(csv, figures[f]);
			fprintf(csv, ",%zu,%zu,%.9g,%.9g,%.6g,", na, nb, ma, mb, ratio);
			if (isnan(lo))
				fprintf(csv, ",,n/a\n");
			else
				fprintf(csv, "%.6g,%.6g,%s\n", lo, hi, *mark ? "no" : "yes");
		}
	}
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	for (size_t i = 0; i < keys.n; i++)
		free(keys.names[i]);
	free(keys.names);
	free(figures);
	free(varies);
	free(sa);
	free(sb);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dlbench compare [OPTIONS] A B\n\n"
		"For every cell the result directories A and B share (same parameter\n"
		"columns), the ratio of each figure's median B/A with a 95%% bootstrap\n"
		"confidence interval over the repetitions; `~` marks an interval that\n"
		"contains 1 (not significant), `?` fewer than 2 repetitions.  A and B are\n"
		"`dlbench run` directories or single workload result directories.\n"
		"Writes compare.csv and meta.json into a new results/<timestamp>-compare/.\n\n"
		"  -o, --out DIR     the output directory instead (must not exist)\n"
		"  -r, --seed N      seed of the bootstrap resampling (default 1)\n"
		"  -h, --help        this text\n");
}

int cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *da, *db;
	struct source *sa, *sb;
	size_t na, nb, nka, nkb, matched = 0;
	char **keys_a, **keys_b, dir[PATH_MAX], extra[PATH_MAX * 3];
	uint64_t seed = 1;
	struct results_file rf;
	struct totals tot = { 0 };
	int c;

	opterr = 0;     /* one line of our own on bad options */
	while ((c = getopt_long(argc, argv, "o:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'r': seed = cli_u64("--seed", optarg, 1, UINT64_MAX); break;
		case 'h': usage(stdout); return 0;
		default: cli_die("bad option or missing value: %s (dlbench compare --help)", argv[optind - 1]);
		}
	}
	if (optind != argc - 2)
		cli_die("expected two result directories A B (dlbench compare --help)");
	da = argv[optind];
	db = argv[optind + 1];
	na = find_summaries(da, &sa);
	nb = find_summaries(db, &sb);
	if (!na)
		cli_die("%s: no summary.csv (not a result directory)", da);
	if (!nb)
		cli_die("%s: no summary.csv (not a result directory)", db);
	nka = csv_run_keys(da, &keys_a);
	nkb = csv_run_keys(db, &keys_b);
	if (results_dir_create(dir, sizeof(dir), out, "compare"))
		return 2;
	if (results_file_open(&rf, dir, "compare.csv"))
		return 1;
	fputs("workload,cell,figure,n_a,n_b,median_a,median_b,ratio,ci_low,ci_high,significant\n",
	      rf.f);
	printf("A = %s\nB = %s\n", da, db);
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++) {
			struct csv_table ta, tb;

			if (strcmp(sa[i].name, sb[j].name))
				continue;
			if (csv_table_read(&ta, sa[i].path))
				cli_die("cannot read %s: %s", sa[i].path, strerror(errno));
			if (csv_table_read(&tb, sb[j].path))
				cli_die("cannot read %s: %s", sb[j].path, strerror(errno));
			compare_workload(sa[i].name, &ta, &tb, keys_a, nka, keys_b, nkb, seed, rf.f,
					 &tot);
			csv_table_free(&ta);
			csv_table_free(&tb);
			matched++;
		}
	if (results_file_commit(&rf))
		return 1;
	snprintf(extra, sizeof(extra), "\"a\": \"%s\", \"b\": \"%s\"", da, db);
	for (char *p = extra; *p; p++)
		if (*p == '\\')
			*p = '/';
	if (meta_write(dir, argc, argv, "compare", extra))
		return 1;
	if (!matched)
		fprintf(stderr, "dlbench compare: %s and %s share no workload\n", da, db);
	printf("\n%zu cells shared, %zu figures compared, %zu significant; %s/compare.csv\n",
	       tot.cells, tot.compared, tot.significant, dir);
	free(sa);
	free(sb);
	csv_free_names(keys_a, nka);
	csv_free_names(keys_b, nkb);
	return 0;
}
