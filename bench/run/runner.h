/*
 * The pieces of `dlbench run` and `dlbench merge` (internal to bench/run/):
 *
 *   plan.c      the runs of a config (cells x warm-ups and repetitions), a
 *               shard's share of them, names and command lines
 *   check.c     the config against the workload tables, and each cell
 *               against the machine (the tables' own checks, dry)
 *   journal.c   cells.csv: one row per finished run, read back by --resume
 *               and merge
 *   proc.c      one run in a process of its own, with a time limit
 *   progress.c  the progress line on a terminal, run.log, durations
 *   gather.c    the gathered <workload>/summary.csv and histograms
 *   emit.c      --emit parallel|slurm: the commands that run shards
 *   merge.c     dlbench merge
 *   cmd_run.c   dlbench run
 *
 * Results directory layout: see cmd_run.c.
 */
#ifndef DLBENCH_RUN_RUNNER_H
#define DLBENCH_RUN_RUNNER_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bench/run/matrix.h"
#include "workloads/workload.h"

/* More runs than this need --max-runs (issue: a typo in a range can ask
 * for millions of processes). */
#define RUN_DEFAULT_MAX_RUNS 100000

enum run_kind {
	RUN_WARMUP,
	RUN_MEASURE
};

enum run_status {
	ST_OK,
	ST_FAILED,
	ST_TIMEOUT,
	ST_CRASHED,
	ST_COUNT
};
extern const char *const run_status_names[ST_COUNT];

/* One run: a warm-up or a repetition of one cell. */
struct pending {
	size_t scenario;
	size_t cell; /* in its scenario */
	enum run_kind kind;
	unsigned rep; /* warm-up k or repetition r, from 0 */
};

struct runner {
	struct matrix_config cfg;
	const struct workload **wl; /* per scenario */
	char exe[PATH_MAX];	    /* what the cells run */
	char dir[PATH_MAX];	    /* the results directory */
	char host[256];
	char **keys; /* union of the scenarios' workload keys */
	size_t nkeys;
	unsigned shard, nshards; /* this shard, I of N (0 of 1: all) */
	int log_fd;
	int journal_fd;
	bool tty;
};

/* ---- plan.c */

/* The host name written into cells.csv, the summaries and meta.json. */
void run_host(char *buf, size_t len);
/* Whether cell @cell of scenario @s belongs to the runner's shard: its
 * index among all the config's cells, counted in order, is I mod N. */
bool run_cell_is_mine(const struct runner *r, size_t s, size_t cell);
/* The runs of the shard, counted without expanding (SIZE_MAX: overflow). */
size_t run_count(const struct runner *r);
/* The list of the shard's runs, in order; returns the count. */
size_t run_list(const struct runner *r, struct pending **out);
/* The order to run @n runs of run_list in, as indexes into it: scenarios
 * in turn, and within one a round per warm-up and repetition, each round
 * visiting every cell once.  A burst of load on a shared machine then
 * spreads over the cells of a comparison instead of landing on one cell's
 * repetitions together (the bootstrap treats repetitions as independent
 * samples).  NULL when out of memory. */
size_t *run_order(const struct runner *r, const struct pending *runs, size_t n);
/* "<scenario>-<cell>-r<rep>" (w<k> for a warm-up). */
void run_name(const struct matrix_config *cfg, const struct pending *p, char *buf, size_t len);
/* The union of the scenarios' keys, in order of appearance, into r->keys. */
void run_collect_keys(struct runner *r);
/* The command of run @p: exe, workload, --K V..., --seed, --out @outdir
 * (none when @outdir is NULL).  NULL-terminated, malloc'd; free_argv. */
char **run_argv(const struct runner *r, const struct pending *p, const char *outdir);
void free_argv(char **argv);
/* Parses "I/N" (0 <= I < N); 0, or -1. */
int run_parse_shard(const char *s, unsigned *i, unsigned *n);

/* ---- check.c */

/* Checks every scenario's workload, keys and values against the tables
 * and fills r->wl; 0, or -1 after one line `FILE:LINE: ...` on stderr. */
int run_validate(struct runner *r);
/* Runs the table's check of cell @cell of scenario @s (workload_dry_run);
 * 0, or -1 after one line on stderr naming the cell. */
int run_check_cell(const struct runner *r, size_t s, size_t cell);

/* ---- journal.c */

/* Opens <dir>/cells.csv for appending: the header when new, else ends a
 * row cut short by a crash.  0, or -1 after a message. */
int journal_open(struct runner *r);
/* Appends one row with a single write(2); 0, or -1 after a message. */
int journal_row(struct runner *r, const struct pending *p, enum run_status st, int code,
		double secs);
/* Marks done[] and status[] of @runs from <dir>/cells.csv (for --resume);
 * returns how many were done, or SIZE_MAX when the file is no journal. */
size_t journal_done(const struct runner *r, const struct pending *runs, size_t n, char *done,
		    enum run_status *status);
/* The status named @s, or -1. */
int journal_status(const char *s);
/* The index in @runs (a run_list) of the run that a journal row names,
 * or SIZE_MAX. */
size_t journal_find_run(const struct matrix_config *cfg, const struct pending *runs, size_t n,
			const char *scenario, size_t cell, const char *kind, unsigned rep);

/* ---- progress.c */

struct progress {
	size_t done, total;
	double spent;	 /* seconds of the runs finished in this session */
	size_t finished; /* runs finished in this session */
};

double mono_s(void);
void fmt_duration(char *buf, size_t len, double s);
/* One line into run.log (nothing if @fd < 0). */
void run_log(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The progress line on stderr (a terminal only). */
void show_progress(const struct runner *r, const struct progress *pr, const char *name,
		   double run_started, int stopping);
void clear_progress(const struct runner *r);

/* ---- proc.c */

/* Set by the signal handler: 1 = finish the current run then stop,
 * 2 = abandon it now. */
extern volatile sig_atomic_t run_interrupted;
void run_catch_signals(void);
/* Runs @p; returns its status once journalled, -1 when abandoned,
 * -2 on an error (message printed). */
int run_one(struct runner *r, const struct pending *p, struct progress *pr);

/* ---- gather.c */

/* One successful measured run to gather. */
struct gather_item {
	size_t scenario, cell;
	unsigned rep;
	const char *celldir; /* relative to the results directory */
	const char *host;
};

/* Writes <dir>/<workload>/summary.csv for each workload of @cfg (unless
 * already there) from the items' summaries, and links their histograms;
 * returns the number of rows gathered, or -1 after a message. */
long gather(const char *dir, const struct matrix_config *cfg, const struct gather_item *items,
	    size_t n, int log_fd);

/* After gathering: plots (and the report), then the claims' verdicts.
 * Prints where they are. */
void run_render(const char *dir, bool plot);

/* ---- emit.c */

struct emit_opts {
	const char *kind;  /* "parallel" or "slurm" */
	unsigned shards;   /* 0: from the hosts */
	const char *hosts; /* parallel --sshlogin list */
	bool shared;	   /* parallel: the hosts share the directory */
	const char *out;   /* the base directory (NULL: results/<time>-...) */
	size_t max_runs;   /* passed on when not the default */
};

/* Writes the script that runs @r's config as shards to stdout; returns the
 * exit status. */
int run_emit(const struct runner *r, const struct emit_opts *o);

/* ---- files.c: shared helpers */

/* Copies file @from into the results file @rel of @dir (temporary name,
 * renamed when complete); 0, or -1 after a message. */
int copy_into(const char *from, const char *dir, const char *rel);
/* Hard-links the tree @from (a file or a directory) to the new path @to,
 * copying files where a link is refused (another filesystem); 0, or -1
 * after a message. */
int link_tree(const char *from, const char *to);
/* The value of "@key" in <dir>/meta.json (a string without its quotes,
 * or a number) into @buf; 0, or -1 when absent. */
int meta_lookup(const char *dir, const char *key, char *buf, size_t len);
/* The directory's name for results/<time>-<name>: @config's file name
 * without its extension, as a JSON-safe word. */
void config_base(const char *config, char *buf, size_t len);

#endif
