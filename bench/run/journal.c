/*
 * cells.csv, the journal of a results directory: a header, then one row
 * per finished run, each appended with a single write(2) and fsync'd, so
 * that a kill (even SIGKILL) lands before or after a row, never inside.
 *
 *   scenario,workload,cell,kind,repetition,<config keys>,status,exit_code,
 *   duration_s,dir,host
 *
 * --resume reads it back to skip what is done; merge reads the journals of
 * its directories.  The config keys are the columns between repetition and
 * status (csv_run_keys relies on that).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/report/csv.h"
#include "bench/report/csvtable.h"
#include "bench/run/runner.h"

const char *const run_status_names[ST_COUNT] = { "ok", "failed", "timeout", "crashed" };

int journal_status(const char *s)
{
	for (int k = 0; k < ST_COUNT; k++)
		if (!strcmp(s, run_status_names[k]))
			return k;
	return -1;
}

/* Appends @buf (@len bytes) in one write and syncs it. */
static int append(struct runner *r, const char *buf, size_t len)
{
	if (write(r->journal_fd, buf, len) != (ssize_t)len || fsync(r->journal_fd)) {
		fprintf(stderr, "dlbench run: cannot write %s/cells.csv: %s\n", r->dir,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int journal_header(struct runner *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return -1;
	fputs("scenario,workload,cell,kind,repetition", f);
	for (size_t k = 0; k < r->nkeys; k++) {
		fputc(',', f);
		csv_field(f, r->keys[k]);
	}
	fputs(",status,exit_code,duration_s,dir,host\n", f);
	fclose(f);
	rc = append(r, buf, len);
	free(buf);
	return rc;
}

int journal_open(struct runner *r)
{
	char path[PATH_MAX + 16], last;
	struct stat sb;
	int fresh;

	snprintf(path, sizeof(path), "%s/cells.csv", r->dir);
	fresh = stat(path, &sb) != 0 || sb.st_size == 0;
	r->journal_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (r->journal_fd < 0) {
		fprintf(stderr, "dlbench run: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fresh)
		return journal_header(r);
	/* a row cut short by a crash of the machine: end it */
	if (pread(r->journal_fd, &last, 1, sb.st_size - 1) == 1 && last != '\n')
		return append(r, "\n", 1);
	return 0;
}

int journal_row(struct runner *r, const struct pending *p, enum run_status st, int code,
		double secs)
{
	const struct matrix_scenario *s = &r->cfg.scenarios[p->scenario];
	const char *vals[s->nparams ? s->nparams : 1];
	char name[512], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return -1;
	matrix_cell_values(s, p->cell, vals);
	run_name(&r->cfg, p, name, sizeof(name));
	csv_field(f, s->name);
	fputc(',', f);
	csv_field(f, s->workload);
	fprintf(f, ",%zu,%s,%u", p->cell, p->kind == RUN_WARMUP ? "warmup" : "measure", p->rep);
	for (size_t k = 0; k < r->nkeys; k++) {
		fputc(',', f);
		for (size_t i = 0; i < s->nparams; i++)
			if (!strcmp(s->params[i].key, r->keys[k]))
				csv_field(f, vals[i]);
	}
	fprintf(f, ",%s,%d,%.3f,cells/", run_status_names[st], code, secs);
	csv_field(f, name);
	fputc(',', f);
	csv_field(f, r->host);
	fputc('\n', f);
	fclose(f);
	rc = append(r, buf, len);
	free(buf);
	return rc;
}

/* @runs is in order, so a binary search on (scenario, cell) finds the
 * first run of the cell. */
size_t journal_find_run(const struct matrix_config *cfg, const struct pending *runs, size_t n,
			const char *scen, size_t cell, const char *kind, unsigned rep)
{
	size_t si, lo = 0, hi = n;
	enum run_kind k = !strcmp(kind, "warmup") ? RUN_WARMUP : RUN_MEASURE;

	for (si = 0; si < cfg->nscenarios; si++)
		if (!strcmp(cfg->scenarios[si].name, scen))
			break;
	if (si == cfg->nscenarios)
		return SIZE_MAX;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (runs[mid].scenario < si || (runs[mid].scenario == si && runs[mid].cell < cell))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && runs[lo].scenario == si && runs[lo].cell == cell; lo++)
		if (runs[lo].kind == k && runs[lo].rep == rep)
			return lo;
	return SIZE_MAX;
}

size_t journal_done(const struct runner *r, const struct pending *runs, size_t n, char *done,
		    enum run_status *status)
{
	struct csv_table t;
	char path[PATH_MAX + 16];
	int cs, cc, ck, cr, cst;
	size_t ndone = 0;

	snprintf(path, sizeof(path), "%s/cells.csv", r->dir);
	if (csv_table_read(&t, path))
		return 0;
	cs = csv_table_col(&t, "scenario");
	cc = csv_table_col(&t, "cell");
	ck = csv_table_col(&t, "kind");
	cr = csv_table_col(&t, "repetition");
	cst = csv_table_col(&t, "status");
	if (cs < 0 || cc < 0 || ck < 0 || cr < 0 || cst < 0) {
		csv_table_free(&t);
		return SIZE_MAX;
	}
	for (size_t row = 0; row < t.nrows; row++) {
		char **f = t.rows[row];
		size_t i = journal_find_run(&r->cfg, runs, n, f[cs], strtoull(f[cc], NULL, 10),
					    f[ck], (unsigned)strtoul(f[cr], NULL, 10));
		int st = journal_status(f[cst]);

		if (i == SIZE_MAX || done[i] || st < 0)
			continue;
		done[i] = 1;
		status[i] = (enum run_status)st;
		ndone++;
	}
	csv_table_free(&t);
	return ndone;
}
