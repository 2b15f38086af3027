/*
 * `dlbench merge OUT DIR...`: joins the results directories of `run`
 * (shards of one matrix, or whole runs of one config on several hosts)
 * into a new results directory OUT, as if one run had made it:
 *
 *   - every DIR must have run the same config (byte for byte its
 *     config.ini) and be finished: each is locked while merge reads it, so
 *     a shard still running is refused with the PID that holds it;
 *   - the runs are placed on the config's expansion (`max` as the run
 *     expanded it: meta.json's max_cpus, one expansion per CPU count), and
 *     merge says which runs are missing (no DIR ran them) and which ran
 *     more than once (kept, each with its host);
 *   - OUT gets config.ini, cells.csv (the journals' rows in the config's
 *     order, with their host), cells/ (hard links to each run's directory
 *     and log; a second run of one cell is named <run>-<host>-<k>), the
 *     gathered <workload>/summary.csv with a host column, meta.json
 *     (merged_from, hosts), then the plots, the report and the verdicts.
 *
 * Exit status: 0 when every run of the config is there and succeeded, 1
 * when some are missing or failed, 2 when the directories cannot be merged.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/commands.h"
#include "bench/report/csv.h"
#include "bench/report/csvtable.h"
#include "bench/report/meta.h"
#include "bench/report/results.h"
#include "bench/run/runner.h"
#include "lib/util/mutant.h"

enum {
	C_SCENARIO,
	C_WORKLOAD,
	C_CELL,
	C_KIND,
	C_REP,
	C_STATUS,
	C_CODE,
	C_SECS,
	C_DIR,
	C_HOST,
	C_COUNT
};
/* clang-format off */
static const char *const journal_cols[C_COUNT] = {
	"scenario", "workload", "cell", "kind", "repetition", "status", "exit_code", "duration_s",
	"dir", "host",
};
/* clang-format on */

struct source {
	const char *dir;
	struct csv_table j; /* its cells.csv */
	int col[C_COUNT];   /* -1: absent (host in an older journal) */
	char host[256];	    /* meta.json's, for rows without one */
	unsigned long long max_cpus;
	size_t group;
};

/* The config expanded as the sources of one CPU count expanded it. */
struct group {
	unsigned long long max_cpus;
	struct runner r;
	struct pending *runs;
	size_t n;
	unsigned *cover; /* per run: rows that name it */
};

struct record { /* one journal row, placed */
	size_t group, run, src, row;
	char name[600]; /* its name in OUT/cells/ */
};

struct merge {
	const char *out;
	bool plot;
	size_t nsrc, ngroups, nrec;
	struct source *src;
	struct group *groups;
	struct record *rec;
	char dir[PATH_MAX], *config; /* config.ini's text */
	int log_fd;
	size_t missing, duplicated, not_ok;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: dlbench merge [-P] OUT DIR...\n\n"
		   "Merges results directories of `dlbench run` (the shards of `run --shard\n"
		   "I/N`, or whole runs of one config on several hosts) into the new\n"
		   "directory OUT: cells.csv and the gathered summaries with a host column,\n"
		   "then the plots and the report.  Every DIR must have run the same config;\n"
		   "merge says which runs are missing and which ran more than once.\n\n"
		   "  -P, --no-plot      do not render the plots\n"
		   "  -h, --help         this text\n\n"
		   "Exit status: 0 when every run is there and succeeded, 1 when some are\n"
		   "missing or failed, 2 when the directories cannot be merged.\n");
}

static char *read_all(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *in = fopen(path, "r"), *out = open_memstream(&buf, &len);
	int c;

	if (!in || !out)
		cli_die("cannot read %s: %s", path, strerror(errno));
	while ((c = fgetc(in)) != EOF)
		fputc(c, out);
	fclose(in);
	fclose(out);
	return buf;
}

/* One DIR: a finished results directory of the same config. */
static void open_source(struct merge *m, struct source *s)
{
	char path[PATH_MAX + 16], num[64], *text;

	if (results_pathf(path, sizeof(path), "%s/config.ini", s->dir) || access(path, R_OK) != 0)
		cli_die("%s: not a results directory of dlbench run (no config.ini)", s->dir);
	/* a shard still running holds its lock: refused, with its PID */
	if (!MUTANT(run_skip_merge_source_lock) && results_dir_lock(s->dir))
		exit(2);
	text = read_all(path);
	if (!m->config)
		m->config = text;
	else if (strcmp(text, m->config))
		cli_die("%s ran another config than %s (their config.ini differ)", s->dir,
			m->src[0].dir);
	else
		free(text);
	snprintf(path, sizeof(path), "%s/cells.csv", s->dir);
	if (csv_table_read(&s->j, path))
		cli_die("%s: cannot read %s: %s", s->dir, path, strerror(errno));
	for (int c = 0; c < C_COUNT; c++) {
		s->col[c] = csv_table_col(&s->j, journal_cols[c]);
		if (s->col[c] < 0 && c != C_HOST)
			cli_die("%s: not a cells.csv journal (no column %s)", path,
				journal_cols[c]);
	}
	if (meta_lookup(s->dir, "host", s->host, sizeof(s->host)))
		snprintf(s->host, sizeof(s->host), "unknown");
	s->max_cpus = matrix_max_cpus();
	if (!meta_lookup(s->dir, "max_cpus", num, sizeof(num)))
		s->max_cpus = strtoull(num, NULL, 10);
}

/* The group of the sources that expanded `max` to @s's CPU count. */
static void join_group(struct merge *m, struct source *s)
{
	char path[PATH_MAX + 16], err[MATRIX_ERR_LEN + PATH_MAX];
	struct group *g;

	for (s->group = 0; s->group < m->ngroups; s->group++)
		if (m->groups[s->group].max_cpus == s->max_cpus)
			return;
	m->groups = cli_xrealloc(m->groups, (m->ngroups + 1) * sizeof(*m->groups));
	g = &m->groups[m->ngroups++];
	memset(g, 0, sizeof(*g));
	g->max_cpus = s->max_cpus;
	g->r.nshards = 1;
	snprintf(path, sizeof(path), "%s/config.ini", s->dir);
	if (matrix_load(&g->r.cfg, path, s->max_cpus, err, sizeof(err)))
		cli_die("%s", err);
	run_collect_keys(&g->r);
	g->n = run_list(&g->r, &g->runs);
	g->cover = calloc(g->n + 1, sizeof(*g->cover));
	if (!g->cover)
		cli_die("out of memory");
}

static int cmp_record(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->run != y->run)
		return x->run < y->run ? -1 : 1;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

static const char *field(const struct merge *m, const struct record *rc, int c)
{
	const struct source *s = &m->src[rc->src];

	if (s->col[c] < 0)
		return c == C_HOST ? s->host : "";
	return s->j.rows[rc->row][s->col[c]];
}

/* Every journal row placed on its group's runs, in the config's order. */
static void place_rows(struct merge *m)
{
	for (size_t si = 0; si < m->nsrc; si++) {
		struct source *s = &m->src[si];
		struct group *g = &m->groups[s->group];

		for (size_t row = 0; row < s->j.nrows; row++) {
			char **f = s->j.rows[row];
			size_t run = journal_find_run(
				&g->r.cfg, g->runs, g->n, f[s->col[C_SCENARIO]],
				strtoull(f[s->col[C_CELL]], NULL, 10), f[s->col[C_KIND]],
				(unsigned)strtoul(f[s->col[C_REP]], NULL, 10));

			if (run == SIZE_MAX) {
				fprintf(stderr,
					"dlbench merge: %s/cells.csv row %zu names no run of the "
					"config; left out\n",
					s->dir, row + 2);
				continue;
			}
			m->rec = cli_xrealloc(m->rec, (m->nrec + 1) * sizeof(*m->rec));
			m->rec[m->nrec++] = (struct record){ s->group, run, si, row, "" };
			g->cover[run]++;
		}
	}
	qsort(m->rec, m->nrec, sizeof(*m->rec), cmp_record);
}

/* Names each record's run in OUT/cells/ and counts what is odd. */
static void name_records(struct merge *m)
{
	for (size_t i = 0, k = 1; i < m->nrec; i++) {
		struct record *rc = &m->rec[i];
		const char *d = field(m, rc, C_DIR), *base = strrchr(d, '/');

		base = base ? base + 1 : d;
		k = i && rc->group == rc[-1].group && rc->run == rc[-1].run ? k + 1 : 1;
		if (k == 1)
			snprintf(rc->name, sizeof(rc->name), "%s", base);
		else
			snprintf(rc->name, sizeof(rc->name), "%s-%s-%zu", base,
				 field(m, rc, C_HOST), k);
		for (char *p = rc->name; *p; p++)
			if (*p == '/')
				*p = '_';
		m->not_ok += strcmp(field(m, rc, C_STATUS), "ok") != 0;
	}
}

/* Says which runs no directory ran, and which ran more than once. */
static void report_cover(struct merge *m)
{
	for (int pass = 0; pass < 2; pass++) {
		size_t count = 0;
		char list[1024] = "";

		for (size_t gi = 0; gi < m->ngroups; gi++) {
			const struct group *g = &m->groups[gi];

			for (size_t i = 0; i < g->n; i++) {
				char name[512];

				if (pass == 0 ? g->cover[i] != 0 : g->cover[i] < 2)
					continue;
				if (count++ < 8) {
					run_name(&g->r.cfg, &g->runs[i], name, sizeof(name));
					snprintf(list + strlen(list), sizeof(list) - strlen(list),
						 "%s%s", count > 1 ? ", " : "", name);
				}
			}
		}
		if (pass == 0 && count)
			fprintf(stderr,
				"dlbench merge: %zu runs missing (no directory ran them): %s%s\n",
				count, list, count > 8 ? ", ..." : "");
		if (pass == 1 && count)
			fprintf(stderr,
				"dlbench merge: %zu runs ran more than once (all kept, each with "
				"its host): %s%s\n",
				count, list, count > 8 ? ", ..." : "");
		*(pass == 0 ? &m->missing : &m->duplicated) = count;
	}
}

/* OUT/cells/: the runs' directories and logs, hard-linked. */
static int link_cells(const struct merge *m)
{
	char from[PATH_MAX * 2], to[PATH_MAX * 2];

	if (results_pathf(to, sizeof(to), "%s/cells", m->dir) || mkdir(to, 0777) != 0)
		return -1;
	for (size_t i = 0; i < m->nrec; i++) {
		const struct record *rc = &m->rec[i];
		const char *dir = m->src[rc->src].dir, *cell = field(m, rc, C_DIR);

		if (results_pathf(from, sizeof(from), "%s/%s", dir, cell) ||
		    results_pathf(to, sizeof(to), "%s/cells/%s", m->dir, rc->name) ||
		    link_tree(from, to) ||
		    results_pathf(from, sizeof(from), "%s/%s.log", dir, cell) ||
		    results_pathf(to, sizeof(to), "%s/cells/%s.log", m->dir, rc->name) ||
		    link_tree(from, to))
			return -1;
	}
	return 0;
}

static void write_row(FILE *f, const struct merge *m, const struct record *rc)
{
	const struct runner *r = &m->groups[rc->group].r;
	const struct source *s = &m->src[rc->src];
	static const int before[] = { C_SCENARIO, C_WORKLOAD, C_CELL, C_KIND, C_REP };
	static const int after[] = { C_STATUS, C_CODE, C_SECS };

	for (size_t c = 0; c < 5; c++) {
		fputs(c ? "," : "", f);
		csv_field(f, field(m, rc, before[c]));
	}
	for (size_t k = 0; k < r->nkeys; k++) {
		int c = csv_table_col(&s->j, r->keys[k]);

		fputc(',', f);
		csv_field(f, c >= 0 ? s->j.rows[rc->row][c] : "");
	}
	for (size_t c = 0; c < 3; c++) {
		fputc(',', f);
		csv_field(f, field(m, rc, after[c]));
	}
	fputs(",cells/", f);
	csv_field(f, rc->name);
	fputc(',', f);
	csv_field(f, field(m, rc, C_HOST));
	fputc('\n', f);
}

static int write_journal(const struct merge *m)
{
	const struct runner *r = &m->groups[0].r;
	struct results_file rf;

	if (results_file_open(&rf, m->dir, "cells.csv"))
		return -1;
	fputs("scenario,workload,cell,kind,repetition", rf.f);
	for (size_t k = 0; k < r->nkeys; k++) {
		fputc(',', rf.f);
		csv_field(rf.f, r->keys[k]);
	}
	fputs(",status,exit_code,duration_s,dir,host\n", rf.f);
	for (size_t i = 0; i < m->nrec; i++)
		write_row(rf.f, m, &m->rec[i]);
	return results_file_commit(&rf);
}

/* The summaries of every successful measured run, with its host. */
static int gather_records(const struct merge *m)
{
	struct gather_item *items = calloc(m->nrec + 1, sizeof(*items));
	size_t k = 0;
	long rows;

	if (!items)
		return -1;
	for (size_t i = 0; i < m->nrec; i++) {
		const struct record *rc = &m->rec[i];
		const struct pending *p = &m->groups[rc->group].runs[rc->run];

		if (p->kind != RUN_MEASURE || strcmp(field(m, rc, C_STATUS), "ok"))
			continue;
		if (asprintf((char **)&items[k].celldir, "cells/%s", rc->name) < 0)
			cli_die("out of memory");
		items[k].scenario = p->scenario;
		items[k].cell = p->cell;
		items[k].rep = p->rep;
		items[k++].host = field(m, rc, C_HOST);
	}
	rows = gather(m->dir, &m->groups[0].r.cfg, items, k, m->log_fd);
	for (size_t i = 0; i < k; i++)
		free((char *)items[i].celldir);
	free(items);
	return rows < 0 ? -1 : 0;
}

/* The distinct hosts of the runs, as a JSON list. */
static void hosts_json(FILE *f, const struct merge *m)
{
	const char **seen = calloc(m->nrec + 1, sizeof(*seen));
	size_t n = 0;

	fputc('[', f);
	for (size_t i = 0; seen && i < m->nrec; i++) {
		const char *h = field(m, &m->rec[i], C_HOST);
		size_t k = 0;

		while (k < n && strcmp(seen[k], h))
			k++;
		if (k < n)
			continue;
		seen[n] = h;
		fputs(n++ ? ", " : "", f);
		json_string(f, h);
	}
	fputc(']', f);
	free(seen);
}

/* meta.json: this machine and command, plus what was merged. */
static int write_meta(const struct merge *m, int argc, char **argv)
{
	char *extra = NULL, config[256];
	size_t len = 0;
	FILE *f = open_memstream(&extra, &len);
	int rc;

	if (!f)
		return -1;
	if (!meta_lookup(m->src[0].dir, "config", config, sizeof(config))) {
		fputs("\"config\": ", f);
		json_string(f, config);
		fputs(", ", f);
	}
	fprintf(f, "\"runs\": %zu, \"missing_runs\": %zu, \"duplicated_runs\": %zu, \"merged_from\": [",
		m->nrec, m->missing, m->duplicated);
	for (size_t i = 0; i < m->nsrc; i++) {
		fputs(i ? ", " : "", f);
		json_string(f, m->src[i].dir);
	}
	fputs("], \"hosts\": ", f);
	hosts_json(f, m);
	fclose(f);
	rc = meta_write(m->dir, argc, argv, "merge", extra);
	free(extra);
	return rc;
}

static int write_out(struct merge *m, int argc, char **argv)
{
	char path[PATH_MAX + 16];

	if (results_dir_create(m->dir, sizeof(m->dir), m->out, "merge") || results_dir_lock(m->dir))
		return 2;
	snprintf(path, sizeof(path), "%s/config.ini", m->src[0].dir);
	if (copy_into(path, m->dir, "config.ini"))
		return 1;
	snprintf(path, sizeof(path), "%s/run.log", m->dir);
	m->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	for (size_t i = 0; i < m->nsrc; i++)
		run_log(m->log_fd, "merge %s", m->src[i].dir);
	if (link_cells(m) || write_journal(m) || gather_records(m) || write_meta(m, argc, argv)) {
		fprintf(stderr, "dlbench merge: could not write %s (%s)\n", m->dir,
			strerror(errno));
		return 1;
	}
	run_log(m->log_fd, "merged %zu runs, %zu missing, %zu more than once, %zu not ok", m->nrec,
		m->missing, m->duplicated, m->not_ok);
	printf("results: %s (%zu runs from %zu directories, %zu missing, %zu not ok: see "
	       "%s/cells.csv)\n",
	       m->dir, m->nrec, m->nsrc, m->missing, m->not_ok, m->dir);
	run_render(m->dir, m->plot);
	return m->missing || m->not_ok ? 1 : 0;
}

static void parse_merge(struct merge *m, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-plot", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	m->plot = true;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "Ph", opts, NULL)) != -1) {
		if (c == 'P')
			m->plot = false;
		else if (c == 'h') {
			usage(stdout);
			exit(0);
		} else
			cli_die("bad option: %s (dlbench merge --help)", argv[optind - 1]);
	}
	if (argc - optind < 2)
		cli_die("expected OUT and at least one DIR (dlbench merge --help)");
	m->out = argv[optind];
	m->nsrc = (size_t)(argc - optind - 1);
	m->src = calloc(m->nsrc, sizeof(*m->src));
	if (!m->src)
		cli_die("out of memory");
	for (size_t i = 0; i < m->nsrc; i++)
		m->src[i].dir = argv[optind + 1 + (int)i];
}

int cmd_merge(int argc, char **argv)
{
	struct merge m = { .log_fd = -1 };
	int rc;

	parse_merge(&m, argc, argv);
	for (size_t i = 0; i < m.nsrc; i++) {
		open_source(&m, &m.src[i]);
		join_group(&m, &m.src[i]);
	}
	place_rows(&m);
	name_records(&m);
	report_cover(&m);
	rc = write_out(&m, argc, argv);
	for (size_t i = 0; i < m.ngroups; i++) {
		free(m.groups[i].runs);
		free(m.groups[i].cover);
		free(m.groups[i].r.keys);
		matrix_free(&m.groups[i].r.cfg);
	}
	for (size_t i = 0; i < m.nsrc; i++)
		csv_table_free(&m.src[i].j);
	free(m.groups);
	free(m.src);
	free(m.rec);
	free(m.config);
	if (m.log_fd >= 0)
		close(m.log_fd);
	return rc;
}
