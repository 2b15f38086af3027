/*
 * `dlbench run CONFIG`: runs a benchmark matrix (matrix.h describes the
 * config and the contract with the workloads), each run of each cell in a
 * process of its own with a time limit, journals every run in cells.csv,
 * gathers the summaries per workload and renders the plots.  The pieces
 * are listed in runner.h.
 *
 * Nothing is created before every check has passed: the options, the
 * config against the workload tables, the number of runs, and each cell
 * against this machine (the tables' own checks).  The results directory is
 * then locked (flock) for the life of the run, so a second `run --resume`
 * on it is refused with one line naming the PID that holds it.
 *
 * Run directory layout:
 *   config.ini                the config, copied at the start (--resume reads it)
 *   meta.json                 machine (host), command, shard
 *   run.log                   one line per event, appended
 *   cells.csv                 the journal (journal.c)
 *   cells/<scenario>-<cell>-r<rep>/   a measured run's --out (w<k>: warm-up)
 *   cells/<...>.log           its stdout and stderr (a resumed run's attempts
 *                             apart by a separator line)
 *   <workload>/summary.csv    the gathered summaries (written when every run
 *   <workload>/hist/          is done), plus hard links to the histograms
 *   plots/                    the plots (dlbench plot)
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
#include "bench/report/meta.h"
#include "bench/report/results.h"
#include "bench/report/verdict.h"
#include "bench/run/runner.h"
#include "lib/util/mutant.h"

struct run_opts {
	const char *out, *resume, *config, *shard;
	bool dry, noplot;
	struct emit_opts emit; /* emit.kind NULL: run */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dlbench run [OPTIONS] CONFIG\n"
		"       dlbench run --resume DIR\n"
		"       dlbench run CONFIG --emit parallel|slurm --shards N [--hosts LIST] "
		"[--shared]\n\n"
		"Runs the benchmark matrix of CONFIG (an INI file, see configs/ and\n"
		"bench/run/matrix.h): every run of every cell in its own process with a\n"
		"time limit, results in a new results/<timestamp>-<config>/, then the plots.\n\n"
		"  -o, --out DIR      results directory (must not exist yet)\n"
		"  -r, --resume DIR   finish an interrupted run: only the runs not in\n"
		"                     DIR/cells.csv yet\n"
		"  -n, --dry-run      check the config and every cell, print the number of\n"
		"                     runs, then list them; run nothing\n"
		"  -P, --no-plot      do not render the plots at the end (report.html is still written)\n"
		"      --max-runs N   allow more than %d runs\n"
		"      --shard I/N    run only the cells whose index is I mod N (0 <= I < N),\n"
		"                     into a directory of their own; dlbench merge joins them\n"
		"      --emit KIND    print a script that runs the matrix as shards and\n"
		"                     merges them: `parallel` (GNU parallel) or `slurm`\n"
		"      --shards N     the number of shards (--emit)\n"
		"      --hosts LIST   --emit parallel: its --sshlogin list (`:` is this\n"
		"                     machine, N/HOST runs N shards at a time there)\n"
		"      --shared       --emit parallel: the hosts share this directory\n"
		"                     (else the config is sent and the results fetched)\n"
		"  -h, --help         this text\n\n"
		"^C finishes the current run and stops (a second ^C abandons it);\n"
		"`dlbench run --resume DIR` goes on from there.  Exit status: 0 when\n"
		"every run succeeded, 1 when some failed (cells.csv says which), 2 on\n"
		"a config error or a check that failed, 130 when interrupted.\n",
		RUN_DEFAULT_MAX_RUNS);
}

static size_t parse_max_runs(const char *s)
{
	return (size_t)cli_u64("--max-runs", s, 1, SIZE_MAX / 2);
}

static void check_opts(const struct run_opts *o, int rest)
{
	if (o->resume && (rest || o->out || o->shard || o->emit.kind))
		cli_die("--resume DIR takes no CONFIG, --out, --shard or --emit");
	if (!o->resume && rest != 1)
		cli_die("expected one CONFIG file (dlbench run --help)");
	if (o->emit.kind && strcmp(o->emit.kind, "parallel") && strcmp(o->emit.kind, "slurm"))
		cli_die("--emit: '%s' is not parallel or slurm", o->emit.kind);
	if (o->emit.kind && (o->dry || o->shard))
		cli_die("--emit writes the commands of every shard: no -n or --shard with it");
	if (!o->emit.kind && (o->emit.shards || o->emit.hosts || o->emit.shared))
		cli_die("--shards, --hosts and --shared go with --emit");
}

static void parse_opts(struct run_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "resume", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "no-plot", no_argument, NULL, 'P' },
		{ "max-runs", required_argument, NULL, 1 },
		{ "shard", required_argument, NULL, 2 },
		{ "emit", required_argument, NULL, 3 },
		{ "shards", required_argument, NULL, 4 },
		{ "hosts", required_argument, NULL, 5 },
		{ "shared", no_argument, NULL, 6 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->emit.max_runs = RUN_DEFAULT_MAX_RUNS;
	opterr = 0; /* one line of our own on bad options */
	while ((c = getopt_long(argc, argv, "o:r:nPh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 'r':
			o->resume = optarg;
			break;
		case 'n':
			o->dry = true;
			break;
		case 'P':
			o->noplot = true;
			break;
		case 1:
			o->emit.max_runs = parse_max_runs(optarg);
			break;
		case 2:
			o->shard = optarg;
			break;
		case 3:
			o->emit.kind = optarg;
			break;
		case 4:
			o->emit.shards = (unsigned)cli_u64("--shards", optarg, 1, 100000);
			break;
		case 5:
			o->emit.hosts = optarg;
			break;
		case 6:
			o->emit.shared = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			cli_die("bad option or missing value: %s (dlbench run --help)",
				argv[optind - 1]);
		}
	}
	check_opts(o, argc - optind);
	o->config = o->resume ? NULL : argv[optind];
	o->emit.out = o->out;
}

/* The most runs any one shard of @r gets (@n shards). */
static size_t max_shard_runs(struct runner *r, unsigned n)
{
	unsigned keep_i = r->shard, keep_n = r->nshards;
	size_t most = 0;

	r->nshards = n;
	for (r->shard = 0; r->shard < n && n > 1; r->shard++) {
		size_t k = run_count(r);

		most = k > most ? k : most;
	}
	if (n <= 1)
		most = run_count(r);
	r->shard = keep_i;
	r->nshards = keep_n;
	return most;
}

/* Refuses more runs than @max in one process; 0 or -1 after one line. */
static int check_limit(struct runner *r, size_t max, unsigned emit_shards)
{
	size_t n = emit_shards ? max_shard_runs(r, emit_shards) : run_count(r), big = 0;
	const struct matrix_scenario *s = &r->cfg.scenarios[0];

	if (n <= max)
		return 0;
	for (size_t i = 0; i < r->cfg.nscenarios; i++)
		if (matrix_scenario_runs(&r->cfg.scenarios[i]) > big) {
			big = matrix_scenario_runs(&r->cfg.scenarios[i]);
			s = &r->cfg.scenarios[i];
		}
	if (n == SIZE_MAX)
		fprintf(stderr,
			"%s:%d: the config asks for more runs than can be counted ([%s] the "
			"most)\n",
			r->cfg.path, s->line, s->name);
	else
		fprintf(stderr,
			"%s:%d: the config asks for %zu runs%s ([%s] %zu), more than %zu; "
			"--max-runs N allows more\n",
			r->cfg.path, s->line, n, r->nshards > 1 || emit_shards ? " in a shard" : "",
			s->name, big, max);
	return -1;
}

/* --resume DIR: a results directory with its config, locked before any
 * of it is read; the shard it ran. */
static int resume_setup(struct runner *r, const char *dir, char *config, size_t len)
{
	char shard[64];

	if (results_pathf(config, len, "%s/config.ini", dir) ||
	    results_pathf(r->dir, sizeof(r->dir), "%s", dir))
		return -1;
	if (access(config, R_OK) != 0) {
		fprintf(stderr, "dlbench run: --resume %s: no %s (not a dlbench run directory)\n",
			dir, config);
		return -1;
	}
	/* held until exit: a second run or --resume on it is refused */
	if (!MUTANT(run_skip_dir_lock) && results_dir_lock(dir))
		return -1;
	if (!meta_lookup(dir, "shard", shard, sizeof(shard)) &&
	    run_parse_shard(shard, &r->shard, &r->nshards)) {
		fprintf(stderr, "dlbench run: %s/meta.json: bad shard '%s'\n", dir, shard);
		return -1;
	}
	return 0;
}

/* Everything before a command acts: the config, checked; 0 or 2. */
static int setup(struct runner *r, const struct run_opts *o)
{
	char config[PATH_MAX + 16], err[MATRIX_ERR_LEN + PATH_MAX];

	if (o->resume) {
		if (resume_setup(r, o->resume, config, sizeof(config)))
			return 2;
	} else {
		snprintf(config, sizeof(config), "%s", o->config);
		if (o->shard && run_parse_shard(o->shard, &r->shard, &r->nshards)) {
			fprintf(stderr, "dlbench run: --shard '%s' is not I/N with 0 <= I < N\n",
				o->shard);
			return 2;
		}
	}
	/* this very executable, even if build/dlbench is rebuilt while the
	 * matrix runs: every cell runs the build the runner started with */
	snprintf(r->exe, sizeof(r->exe), "/proc/%d/exe", (int)getpid());
	run_host(r->host, sizeof(r->host));
	if (matrix_load(&r->cfg, config, matrix_max_cpus(), err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (run_validate(r))
		return 2;
	/* the claims' own keys and expectations, before anything runs */
	if (verdict_check_config(config, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	run_collect_keys(r);
	/* a resumed run was allowed when it started */
	if (!o->resume && check_limit(r, o->emit.max_runs, o->emit.kind ? o->emit.shards : 0))
		return 2;
	return 0;
}

/* -n: the count first, then each cell checked and its runs listed. */
static int dry_run(struct runner *r)
{
	struct pending *runs;
	size_t n = run_count(r);
	char shard[64] = "";

	if (r->nshards > 1)
		snprintf(shard, sizeof(shard), " (shard %u/%u)", r->shard, r->nshards);
	printf("%zu runs in %zu scenarios%s\n", n, r->cfg.nscenarios, shard);
	fflush(stdout);
	n = run_list(r, &runs);
	for (size_t i = 0; i < n; i++) {
		char name[512], cmdline[8192], **av;
		int k;

		if ((i == 0 || runs[i].cell != runs[i - 1].cell ||
		     runs[i].scenario != runs[i - 1].scenario) &&
		    run_check_cell(r, runs[i].scenario, runs[i].cell)) {
			free(runs);
			return 2;
		}
		run_name(&r->cfg, &runs[i], name, sizeof(name));
		av = run_argv(r, &runs[i], NULL);
		for (k = 0; av[k]; k++)
			;
		free(av[0]);
		av[0] = strdup("dlbench");
		cli_command_line(cmdline, sizeof(cmdline), k, av);
		printf("%s: %s\n", name, cmdline);
		free_argv(av);
	}
	free(runs);
	return 0;
}

/* Every cell of the shard against this machine, before anything exists. */
static int check_cells(const struct runner *r, const struct pending *runs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((i == 0 || runs[i].cell != runs[i - 1].cell ||
		     runs[i].scenario != runs[i - 1].scenario) &&
		    run_check_cell(r, runs[i].scenario, runs[i].cell))
			return -1;
	return 0;
}

/* A new results directory, locked, with config.ini and meta.json. */
static int create_results(struct runner *r, const struct run_opts *o, size_t n, int argc,
			  char **argv)
{
	char base[256], name[300], extra[1024], shard[64] = "";

	config_base(o->config, base, sizeof(base));
	snprintf(name, sizeof(name), "%s", base);
	if (r->nshards > 1) {
		snprintf(name, sizeof(name), "%s-shard%uof%u", base, r->shard, r->nshards);
		snprintf(shard, sizeof(shard), ", \"shard\": \"%u/%u\"", r->shard, r->nshards);
	}
	if (results_dir_create(r->dir, sizeof(r->dir), o->out, name) ||
	    (!MUTANT(run_skip_dir_lock) && results_dir_lock(r->dir)))
		return -1;
	/* the config travels with the results: --resume and merge read this copy */
	if (copy_into(o->config, r->dir, "config.ini"))
		return -1;
	snprintf(extra, sizeof(extra), "\"config\": \"%s\", \"runs\": %zu, \"max_cpus\": %llu%s",
		 base, n, (unsigned long long)matrix_max_cpus(), shard);
	return meta_write(r->dir, argc, argv, "run", extra);
}

static int open_dir(struct runner *r)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/run.log", r->dir);
	r->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (r->log_fd < 0) {
		fprintf(stderr, "dlbench run: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/cells", r->dir);
	if (mkdir(path, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "dlbench run: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	return journal_open(r);
}

struct state {
	struct pending *runs;
	size_t n;
	char *done;
	enum run_status *status;
	size_t ndone;
};

/* Runs what is not done; 0, or -1 on an error. */
static int run_loop(struct runner *r, struct state *st)
{
	struct progress pr = { .total = st->n, .done = st->ndone };
	size_t *order = run_order(r, st->runs, st->n);

	if (!order)
		cli_die("out of memory for the order of %zu runs", st->n);
	run_catch_signals();
	for (size_t j = 0; j < st->n && !run_interrupted; j++) {
		size_t i = order[j];
		int k;

		if (st->done[i])
			continue;
		k = run_one(r, &st->runs[i], &pr);
		if (k == -2) {
			free(order);
			return -1;
		}
		if (k >= 0) {
			st->done[i] = 1;
			st->status[i] = (enum run_status)k;
			st->ndone++;
			pr.done++;
		}
	}
	free(order);
	clear_progress(r);
	return 0;
}

/* Gathers, plots and judges a finished matrix; the exit status. */
static int finish(struct runner *r, const struct state *st, bool plot)
{
	struct gather_item *items = calloc(st->n + 1, sizeof(*items));
	size_t k = 0, failed = 0;
	long rows;

	if (!items)
		cli_die("out of memory");
	for (size_t i = 0; i < st->n; i++) {
		char name[512], *dir;

		failed += st->status[i] != ST_OK;
		if (st->runs[i].kind != RUN_MEASURE || st->status[i] != ST_OK)
			continue;
		run_name(&r->cfg, &st->runs[i], name, sizeof(name));
		if (asprintf(&dir, "cells/%s", name) < 0)
			cli_die("out of memory");
		items[k++] = (struct gather_item){ st->runs[i].scenario, st->runs[i].cell,
						   st->runs[i].rep, dir, r->host };
	}
	rows = gather(r->dir, &r->cfg, items, k, r->log_fd);
	for (size_t i = 0; i < k; i++)
		free((char *)items[i].celldir);
	free(items);
	if (rows < 0)
		return 1;
	run_log(r->log_fd, "all %zu runs done, %zu not ok", st->n, failed);
	printf("results: %s (%zu runs, %zu not ok: see %s/cells.csv)\n", r->dir, st->n, failed,
	       r->dir);
	run_render(r->dir, plot);
	return failed ? 1 : 0;
}

static int run_matrix(struct runner *r, const struct run_opts *o, int argc, char **argv)
{
	struct state st = { 0 };
	int rc = 2;

	st.n = run_list(r, &st.runs);
	st.done = calloc(st.n + 1, 1);
	st.status = calloc(st.n + 1, sizeof(*st.status));
	if (!st.done || !st.status)
		cli_die("out of memory");
	if (check_cells(r, st.runs, st.n) || (!o->resume && create_results(r, o, st.n, argc, argv)))
		goto out;
	rc = 1;
	if (open_dir(r))
		goto out;
	st.ndone = journal_done(r, st.runs, st.n, st.done, st.status);
	if (st.ndone == SIZE_MAX) {
		fprintf(stderr, "dlbench run: %s/cells.csv is not a cells.csv journal\n", r->dir);
		goto out;
	}
	run_log(r->log_fd, "%s %s: %zu runs, %zu done before", o->resume ? "resume" : "run",
		r->cfg.path, st.n, st.ndone);
	r->tty = isatty(2);
	if (run_loop(r, &st))
		goto out;
	if (st.ndone < st.n) {
		run_log(r->log_fd, "interrupted: %zu of %zu runs done", st.ndone, st.n);
		fprintf(stderr,
			"dlbench run: interrupted, %zu of %zu runs done; go on with: dlbench run "
			"--resume %s\n",
			st.ndone, st.n, r->dir);
		rc = 130;
		goto out;
	}
	rc = finish(r, &st, !o->noplot);
out:
	free(st.runs);
	free(st.done);
	free(st.status);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct runner r = { .log_fd = -1, .journal_fd = -1, .nshards = 1 };
	struct run_opts o;
	int rc;

	parse_opts(&o, argc, argv);
	rc = setup(&r, &o);
	if (!rc && o.emit.kind)
		rc = run_emit(&r, &o.emit);
	else if (!rc && o.dry)
		rc = dry_run(&r);
	else if (!rc)
		rc = run_matrix(&r, &o, argc, argv);
	free(r.keys);
	free(r.wl);
	matrix_free(&r.cfg);
	if (r.log_fd >= 0)
		close(r.log_fd);
	if (r.journal_fd >= 0)
		close(r.journal_fd);
	return rc;
}
