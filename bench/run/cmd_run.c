/*
 * `dlbench run CONFIG`: runs a benchmark matrix (lib/matrix.h describes the
 * config and the contract with the workloads), each run of each cell in a
 * process of its own with a time limit, journals every run in cells.csv,
 * gathers the summaries per workload and renders the plots.
 *
 * Run directory layout:
 *   config.ini                the config, copied at the start (--resume reads it)
 *   meta.json                 machine and command (lib/meta.h)
 *   run.log                   one line per event, appended
 *   cells.csv                 the journal: one row per finished run, appended
 *                             with a single write(2) each, so SIGKILL never
 *                             leaves half a row
 *   cells/<scenario>-<cell>-r<rep>/   a measured run's --out (w<k>: warm-up)
 *   cells/<...>.log           its stdout and stderr
 *   <workload>/summary.csv    the gathered summaries (written when every run
 *   <workload>/hist/          is done), plus hard links to the histograms
 *   plots/                    the plots (dlbench plot)
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/commands.h"
#include "bench/report/csv.h"
#include "bench/report/csvtable.h"
#include "bench/run/matrix.h"
#include "bench/report/meta.h"
#include "bench/report/plot.h"
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

/* Commands that are not workloads. */
static const char *const not_workloads[] = { "run", "plot", "compare", NULL };

enum run_kind { RUN_WARMUP, RUN_MEASURE };

struct pending {
	size_t scenario;
	size_t cell;
	enum run_kind kind;
	unsigned rep;           /* warm-up k or repetition r, from 0 */
};

struct runner {
	struct matrix_config cfg;
	char exe[PATH_MAX];
	char dir[PATH_MAX];
	int *has_seed;          /* per scenario */
	char **keys;            /* union of the scenarios' workload keys */
	size_t nkeys;
	int log_fd;
	int journal_fd;
	int tty;
};

/* Set by the signal handler: 1 = finish the current run then stop,
 * 2 = abandon it now. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	if (sig == SIGINT && interrupted == 0)
		interrupted = 1;
	else
		interrupted = 2;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void log_line(struct runner *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_line(struct runner *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	results_log_vprintf(r->log_fd, NULL, fmt, ap);
	va_end(ap);
}

/* ---- child processes */

/* Reads @fd to its end, keeping the first @len - 1 bytes in @buf (may be
 * NULL); returns how many were kept. */
static size_t read_to_end(int fd, char *buf, size_t len)
{
	size_t n = 0;

	for (;;) {
		char tmp[4096];
		ssize_t k = read(fd, tmp, sizeof(tmp));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (buf && n + 1 < len) {
			size_t c = (size_t)k < len - 1 - n ? (size_t)k : len - 1 - n;

			memcpy(buf + n, tmp, c);
			n += c;
		}
	}
	return n;
}

/* Runs @argv with stdout captured into @out (and stderr into @err, both
 * may be NULL); returns the wait status, or -1. */
static int capture(char *const argv[], char *out, size_t outlen, char *err, size_t errlen)
{
	int po[2], pe[2], status;
	pid_t pid;
	size_t no, ne;

	if (pipe(po) || pipe(pe))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execv(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* read stdout to the end, then stderr: --help texts are far below a
	 * pipe's capacity, so the child never blocks on the other pipe */
	no = read_to_end(po[0], out, outlen);
	ne = read_to_end(pe[0], err, errlen);
	if (out)
		out[no] = 0;
	if (err)
		err[ne] = 0;
	close(po[0]);
	close(pe[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Whether @help mentions the option @opt ("--vcpus") as a whole word. */
static int help_has_option(const char *help, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = strstr(help, opt); p; p = strstr(p + 1, opt)) {
		char after = p[n];

		if ((p == help || p[-1] != '-') &&
		    !((after >= 'a' && after <= 'z') || (after >= '0' && after <= '9') ||
		      after == '-' || after == '_'))
			return 1;
	}
	return 0;
}

static int is_flag_value(const char *v, int *on)
{
	if (!strcmp(v, "yes")) {
		*on = 1;
		return 1;
	}
	if (!strcmp(v, "no")) {
		*on = 0;
		return 1;
	}
	return 0;
}

/* A config error: one line `FILE:LINE: what`, exit status 2. */
static __attribute__((noreturn, format(printf, 1, 2))) void config_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Checks workloads, keys and values before anything runs; exits 2 with
 * one line on the first error. */
static void validate(struct runner *r)
{
	static char help[65536], err[4096];

	r->has_seed = calloc(r->cfg.nscenarios, sizeof(*r->has_seed));
	for (size_t i = 0; i < r->cfg.nscenarios; i++) {
		struct matrix_scenario *s = &r->cfg.scenarios[i];
		char *argv[6];
		int st;

		for (int k = 0; not_workloads[k]; k++)
			if (!strcmp(s->workload, not_workloads[k]))
				config_die("%s:%d: '%s' is not a workload", r->cfg.path,
					s->workload_line, s->workload);
		argv[0] = r->exe;
		argv[1] = s->workload;
		argv[2] = "--help";
		argv[3] = NULL;
		st = capture(argv, help, sizeof(help), err, sizeof(err));
		if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			config_die("%s:%d: unknown workload '%s' (not a dlbench command; dlbench --help lists them)",
				r->cfg.path, s->workload_line, s->workload);
		if (!help_has_option(help, "--out"))
			config_die("%s:%d: workload '%s' writes no results (no --out in dlbench %s --help)",
				   r->cfg.path, s->workload_line, s->workload, s->workload);
		r->has_seed[i] = help_has_option(help, "--seed");
		for (size_t p = 0; p < s->nparams; p++) {
			struct matrix_param *mp = &s->params[p];
			char opt[256];

			snprintf(opt, sizeof(opt), "--%s", mp->key);
			if (!help_has_option(help, opt))
				config_die("%s:%d: unknown key '%s' for workload '%s' (no %s in dlbench %s --help)",
					r->cfg.path, mp->line, mp->key, s->workload, opt,
					s->workload);
		}
	}
	/* values: let the workload's own option parser judge each one */
	for (size_t i = 0; i < r->cfg.nscenarios; i++) {
		struct matrix_scenario *s = &r->cfg.scenarios[i];

		for (size_t p = 0; p < s->nparams; p++) {
			struct matrix_param *mp = &s->params[p];
			char opt[256];

			snprintf(opt, sizeof(opt), "--%s", mp->key);
			for (size_t v = 0; v < mp->nvalues; v++) {
				char *argv[6];
				int st, on, n = 0;
				char *nl;

				argv[n++] = r->exe;
				argv[n++] = s->workload;
				if (is_flag_value(mp->values[v], &on)) {
					if (!on)
						continue;
					argv[n++] = opt;
				} else {
					argv[n++] = opt;
					argv[n++] = mp->values[v];
				}
				argv[n++] = "--help";
				argv[n] = NULL;
				st = capture(argv, NULL, 0, err, sizeof(err));
				if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
					continue;
				nl = strchr(err, '\n');
				if (nl)
					*nl = 0;
				config_die("%s:%d: %s = %s: %s", r->cfg.path, mp->line, mp->key,
					mp->values[v], *err ? err : "rejected by the workload");
			}
		}
	}
}

/* ---- the list of runs and the journal */

static void run_name(const struct runner *r, const struct pending *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%04zu-%c%u", r->cfg.scenarios[p->scenario].name, p->cell,
		 p->kind == RUN_WARMUP ? 'w' : 'r', p->rep);
}

static size_t list_runs(const struct runner *r, struct pending **out)
{
	size_t n = 0, cap = 0;
	struct pending *list = NULL;

	for (size_t i = 0; i < r->cfg.nscenarios; i++) {
		const struct matrix_scenario *s = &r->cfg.scenarios[i];
		size_t cells = matrix_cells(s);

		for (size_t c = 0; c < cells; c++)
			for (unsigned k = 0; k < s->warmup + s->repetitions; k++) {
				if (n == cap) {
					cap = cap ? cap * 2 : 64;
					list = realloc(list, cap * sizeof(*list));
					if (!list)
						cli_die("out of memory");
				}
				list[n].scenario = i;
				list[n].cell = c;
				list[n].kind = k < s->warmup ? RUN_WARMUP : RUN_MEASURE;
				list[n].rep = k < s->warmup ? k : k - s->warmup;
				n++;
			}
	}
	*out = list;
	return n;
}

static void collect_keys(struct runner *r)
{
	for (size_t i = 0; i < r->cfg.nscenarios; i++) {
		const struct matrix_scenario *s = &r->cfg.scenarios[i];

		for (size_t p = 0; p < s->nparams; p++) {
			size_t k;

			for (k = 0; k < r->nkeys; k++)
				if (!strcmp(r->keys[k], s->params[p].key))
					break;
			if (k < r->nkeys)
				continue;
			r->keys = realloc(r->keys, (r->nkeys + 1) * sizeof(*r->keys));
			if (!r->keys)
				cli_die("out of memory");
			r->keys[r->nkeys++] = s->params[p].key;
		}
	}
}

static const char *const status_names[] = { "ok", "failed", "timeout", "crashed" };
enum run_status { ST_OK, ST_FAILED, ST_TIMEOUT, ST_CRASHED };

static void journal_header(struct runner *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fputs("scenario,workload,cell,kind,repetition", f);
	for (size_t k = 0; k < r->nkeys; k++) {
		fputc(',', f);
		csv_field(f, r->keys[k]);
	}
	fputs(",status,exit_code,duration_s,dir\n", f);
	fclose(f);
	if (write(r->journal_fd, buf, len) != (ssize_t)len || fsync(r->journal_fd))
		cli_die("cannot write %s/cells.csv: %s", r->dir, strerror(errno));
	free(buf);
}

static void journal_row(struct runner *r, const struct pending *p, enum run_status st,
			int code, double secs)
{
	const struct matrix_scenario *s = &r->cfg.scenarios[p->scenario];
	const char *vals[s->nparams ? s->nparams : 1];
	char name[512], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	matrix_cell_values(s, p->cell, vals);
	run_name(r, p, name, sizeof(name));
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
	fprintf(f, ",%s,%d,%.3f,cells/%s\n", status_names[st], code, secs, name);
	fclose(f);
	/* one write(2) per row: a kill lands before or after it, never inside */
	if (write(r->journal_fd, buf, len) != (ssize_t)len || fsync(r->journal_fd))
		cli_die("cannot write %s/cells.csv: %s", r->dir, strerror(errno));
	free(buf);
}

/* Marks done[] from an existing journal (for --resume). */
static size_t journal_done(struct runner *r, const struct pending *runs, size_t n,
			   char *done, enum run_status *status)
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
	if (cs < 0 || cc < 0 || ck < 0 || cr < 0 || cst < 0)
		cli_die("%s: not a cells.csv journal", path);
	for (size_t row = 0; row < t.nrows; row++)
		for (size_t i = 0; i < n; i++) {
			const struct pending *p = &runs[i];

			if (done[i] || strcmp(t.rows[row][cs], r->cfg.scenarios[p->scenario].name) ||
			    strtoull(t.rows[row][cc], NULL, 10) != p->cell ||
			    strtoull(t.rows[row][cr], NULL, 10) != p->rep ||
			    strcmp(t.rows[row][ck], p->kind == RUN_WARMUP ? "warmup" : "measure"))
				continue;
			done[i] = 1;
			for (int k = 0; k < 4; k++)
				if (!strcmp(t.rows[row][cst], status_names[k]))
					status[i] = (enum run_status)k;
			ndone++;
			break;
		}
	csv_table_free(&t);
	return ndone;
}

/* ---- running one process */

static void fmt_duration(char *buf, size_t len, double s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, len, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

/* Builds the argv of run @p. */
static char **run_argv(const struct runner *r, const struct pending *p, const char *outdir)
{
	const struct matrix_scenario *s = &r->cfg.scenarios[p->scenario];
	const char *vals[s->nparams ? s->nparams : 1];
	char **argv = calloc(2 * s->nparams + 8, sizeof(*argv));
	size_t n = 0;

	if (!argv)
		cli_die("out of memory");
	matrix_cell_values(s, p->cell, vals);
	argv[n++] = strdup(r->exe);
	argv[n++] = strdup(s->workload);
	for (size_t i = 0; i < s->nparams; i++) {
		char opt[256];
		int on;

		snprintf(opt, sizeof(opt), "--%s", s->params[i].key);
		if (is_flag_value(vals[i], &on)) {
			if (on)
				argv[n++] = strdup(opt);
			continue;
		}
		argv[n++] = strdup(opt);
		argv[n++] = strdup(vals[i]);
	}
	if (r->has_seed[p->scenario]) {
		char seed[32];
		unsigned idx = p->kind == RUN_WARMUP ? p->rep : s->warmup + p->rep;

		snprintf(seed, sizeof(seed), "%llu", (unsigned long long)(s->seed + idx));
		argv[n++] = strdup("--seed");
		argv[n++] = strdup(seed);
	}
	argv[n++] = strdup("--out");
	argv[n++] = strdup(outdir);
	argv[n] = NULL;
	return argv;
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

struct progress {
	size_t done, total;
	double started;         /* of the whole run */
	double spent;           /* seconds of the runs finished in this session */
	size_t finished;        /* runs finished in this session */
};

static void show_progress(struct runner *r, const struct progress *pr, const char *name,
			  double run_started)
{
	char el[32], left[32] = "?";
	double now = mono_s();

	if (!r->tty)
		return;
	fmt_duration(el, sizeof(el), now - run_started);
	if (pr->finished)
		fmt_duration(left, sizeof(left),
			     pr->spent / (double)pr->finished * (double)(pr->total - pr->done) -
			     (now - run_started));
	fprintf(stderr, "\r\033[K[%zu/%zu] %s (%s)  about %s left%s", pr->done, pr->total, name,
		el, left, interrupted == 1 ? "  [stopping after this run; ^C again abandons it]" : "");
	fflush(stderr);
}

static void kill_group(pid_t pid, int *status)
{
	double until;

	kill(-pid, SIGTERM);
	until = mono_s() + 2.0;
	while (mono_s() < until) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return;
		usleep(20000);
	}
	kill(-pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

/* Runs @p; returns its status once recorded, -1 when abandoned. */
static int run_one(struct runner *r, const struct pending *p, struct progress *pr)
{
	const struct matrix_scenario *s = &r->cfg.scenarios[p->scenario];
	char name[512], outdir[PATH_MAX], logpath[PATH_MAX], cmdline[8192], probe[PATH_MAX + 16];
	char **argv;
	double start, secs;
	int status = 0, logfd, timed_out = 0, code;
	enum run_status st;
	struct stat sb;
	pid_t pid, runner_pid;

	run_name(r, p, name, sizeof(name));
	pathf(outdir, sizeof(outdir), "%s/cells/%s", r->dir, name);
	pathf(logpath, sizeof(logpath), "%s/cells/%s.log", r->dir, name);
	/* a run abandoned earlier (SIGINT, SIGKILL) may have left its
	 * directory: keep it aside, never overwrite it */
	if (lstat(outdir, &sb) == 0) {
		char aside[PATH_MAX + 32];

		for (int k = 1; k < 1000; k++) {
			snprintf(aside, sizeof(aside), "%s.abandoned-%d", outdir, k);
			if (lstat(aside, &sb) != 0)
				break;
		}
		if (rename(outdir, aside) != 0)
			cli_die("cannot move %s aside: %s", outdir, strerror(errno));
		log_line(r, "moved the unfinished %s aside to %s", outdir, aside);
	}
	argv = run_argv(r, p, outdir);
	{
		char *words[2 * s->nparams + 8];
		int n;

		for (n = 0; argv[n]; n++)
			words[n] = argv[n];
		words[0] = "dlbench";
		cli_command_line(cmdline, sizeof(cmdline), n, words);
	}
	log_line(r, "start %s: %s", name, cmdline);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (logfd < 0)
		cli_die("cannot create %s: %s", logpath, strerror(errno));
	start = mono_s();
	runner_pid = getpid();
	pid = fork();
	if (pid < 0)
		cli_die("fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		sigset_t none;

		/* its own process group: a terminal ^C reaches the runner only,
		 * and a timeout kills the whole group */
		setpgid(0, 0);
		/* and dies with the runner, even a SIGKILLed one */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != runner_pid)
			_exit(127);     /* the runner died before prctl */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(devnull, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execv(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(logfd);
	free_argv(argv);
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			cli_die("waitpid: %s", strerror(errno));
		if (interrupted == 2) {
			kill_group(pid, &status);
			if (r->tty)
				fputs("\r\033[K", stderr);
			log_line(r, "abandoned %s (interrupted)", name);
			return -1;
		}
		if (mono_s() - start > s->timeout_s) {
			timed_out = 1;
			kill_group(pid, &status);
			break;
		}
		show_progress(r, pr, name, start);
		/* short runs are common: look often at first, then every 50 ms */
		usleep(mono_s() - start < 0.2 ? 5000 : 50000);
	}
	secs = mono_s() - start;
	if (timed_out) {
		st = ST_TIMEOUT;
		code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		st = ST_CRASHED;
		code = 128 + WTERMSIG(status);
	} else {
		code = WEXITSTATUS(status);
		st = code == 0 ? ST_OK : ST_FAILED;
		snprintf(probe, sizeof(probe), "%s/summary.csv", outdir);
		if (st == ST_OK && stat(probe, &sb) != 0) {
			st = ST_FAILED;
			log_line(r, "%s exited 0 without writing %s", name, probe);
		}
	}
	journal_row(r, p, st, code, secs);
	log_line(r, "done %s: %s, exit code %d, %.3f s", name, status_names[st], code, secs);
	pr->spent += secs;
	pr->finished++;
	if (st != ST_OK) {
		if (r->tty)
			fputs("\r\033[K", stderr);
		fprintf(stderr, "dlbench run: %s %s (exit code %d, log %s)\n", name,
			status_names[st], code, logpath);
	}
	return (int)st;
}

/* ---- gathering the summaries */

static int has_name(char **names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return 1;
	return 0;
}

static void link_hists(struct runner *r, const char *wl, const char *celldir,
		       const char *prefix)
{
	char src[PATH_MAX], dst[PATH_MAX * 2], sub[PATH_MAX];
	struct dirent *de;
	DIR *d;

	pathf(src, sizeof(src), "%s/hist", celldir);
	d = opendir(src);
	if (!d)
		return;
	pathf(sub, sizeof(sub), "%s/%s/hist", r->dir, wl);
	mkdir(sub, 0777);
	while ((de = readdir(d))) {
		char from[PATH_MAX * 2];
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".csv"))
			continue;
		snprintf(from, sizeof(from), "%s/%s", src, de->d_name);
		snprintf(dst, sizeof(dst), "%s/%s-%s", sub, prefix, de->d_name);
		if (link(from, dst) != 0)
			log_line(r, "cannot link %s to %s: %s", from, dst, strerror(errno));
	}
	closedir(d);
}

/* Writes <dir>/<workload>/summary.csv for each workload; returns the
 * number of rows gathered. */
static size_t gather(struct runner *r, const struct pending *runs, size_t n,
		     const enum run_status *status)
{
	size_t total = 0;

	for (size_t w = 0; w < r->cfg.nscenarios; w++) {
		const char *wl = r->cfg.scenarios[w].workload;
		char **cols = NULL, path[PATH_MAX + 64], sub[PATH_MAX + 64];
		size_t ncols = 0, rows = 0;
		struct results_file rf;
		struct stat sb;
		int seen = 0;

		for (size_t v = 0; v < w; v++)
			if (!strcmp(r->cfg.scenarios[v].workload, wl))
				seen = 1;
		if (seen)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", r->dir, wl);
		pathf(path, sizeof(path), "%s/summary.csv", sub);
		if (stat(path, &sb) == 0)
			continue;       /* gathered before this --resume */
		strcat(path, ".tmp");
		unlink(path);           /* left by a run killed while gathering */
		/* the union of the columns, in order of appearance */
		for (size_t i = 0; i < n; i++) {
			const struct pending *p = &runs[i];
			char name[512], cpath[PATH_MAX * 2];
			struct csv_table t;

			if (p->kind != RUN_MEASURE || status[i] != ST_OK ||
			    strcmp(r->cfg.scenarios[p->scenario].workload, wl))
				continue;
			run_name(r, p, name, sizeof(name));
			snprintf(cpath, sizeof(cpath), "%s/cells/%s/summary.csv", r->dir, name);
			if (csv_table_read(&t, cpath))
				continue;
			for (size_t c = 0; c < t.ncols; c++)
				if (!has_name(cols, ncols, t.header[c])) {
					cols = realloc(cols, (ncols + 1) * sizeof(*cols));
					cols[ncols++] = strdup(t.header[c]);
				}
			csv_table_free(&t);
		}
		if (mkdir(sub, 0777) != 0 && errno != EEXIST)
			cli_die("cannot create %s: %s", sub, strerror(errno));
		if (results_file_open(&rf, sub, "summary.csv"))
			exit(1);
		fputs("scenario,cell,repetition", rf.f);
		for (size_t c = 0; c < ncols; c++) {
			char renamed[512];
			int clash = !strcmp(cols[c], "scenario") || !strcmp(cols[c], "cell") ||
				    !strcmp(cols[c], "repetition");

			snprintf(renamed, sizeof(renamed), "%s%s", clash ? "workload_" : "", cols[c]);
			fputc(',', rf.f);
			csv_field(rf.f, renamed);
		}
		fputc('\n', rf.f);
		for (size_t i = 0; i < n; i++) {
			const struct pending *p = &runs[i];
			char name[512], cpath[PATH_MAX * 2], prefix[600];
			struct csv_table t;

			if (p->kind != RUN_MEASURE || status[i] != ST_OK ||
			    strcmp(r->cfg.scenarios[p->scenario].workload, wl))
				continue;
			run_name(r, p, name, sizeof(name));
			snprintf(cpath, sizeof(cpath), "%s/cells/%s/summary.csv", r->dir, name);
			if (csv_table_read(&t, cpath))
				continue;
			for (size_t row = 0; row < t.nrows; row++) {
				csv_field(rf.f, r->cfg.scenarios[p->scenario].name);
				fprintf(rf.f, ",%zu,%u", p->cell, p->rep);
				for (size_t c = 0; c < ncols; c++) {
					int k = csv_table_col(&t, cols[c]);

					fputc(',', rf.f);
					if (k >= 0)
						csv_field(rf.f, t.rows[row][k]);
				}
				fputc('\n', rf.f);
				rows++;
			}
			csv_table_free(&t);
			snprintf(cpath, sizeof(cpath), "%s/cells/%s", r->dir, name);
			snprintf(prefix, sizeof(prefix), "%s-%04zu-r%u",
				 r->cfg.scenarios[p->scenario].name, p->cell, p->rep);
			link_hists(r, wl, cpath, prefix);
		}
		if (results_file_commit(&rf))
			exit(1);
		log_line(r, "gathered %zu rows into %s/summary.csv", rows, sub);
		total += rows;
		for (size_t c = 0; c < ncols; c++)
			free(cols[c]);
		free(cols);
	}
	return total;
}

/* ---- the command */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dlbench run [OPTIONS] CONFIG\n"
		"       dlbench run --resume DIR\n\n"
		"Runs the benchmark matrix of CONFIG (an INI file, see configs/ and\n"
		"lib/matrix.h): every run of every cell in its own process with a time\n"
		"limit, results in a new results/<timestamp>-<config>/, then the plots.\n\n"
		"  -o, --out DIR      results directory (must not exist yet)\n"
		"  -r, --resume DIR   finish an interrupted run: only the runs not in\n"
		"                     DIR/cells.csv yet\n"
		"  -n, --dry-run      check the config and list the runs, run nothing\n"
		"  -P, --no-plot      do not render the plots at the end\n"
		"  -h, --help         this text\n\n"
		"^C finishes the current run and stops (a second ^C abandons it);\n"
		"`dlbench run --resume DIR` goes on from there.  Exit status: 0 when\n"
		"every run succeeded, 1 when some failed (cells.csv says which), 2 on\n"
		"a config error, 130 when interrupted.\n"
		"DLBENCH_RUN_EXE, if set, is the program run for the cells instead of\n"
		"this dlbench (the tests use it).\n");
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "resume", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "no-plot", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct runner r = { .log_fd = -1, .journal_fd = -1 };
	const char *out = NULL, *resume = NULL, *config;
	char cfgpath[PATH_MAX + 16], err[MATRIX_ERR_LEN + PATH_MAX], *done = NULL;
	int dry = 0, noplot = 0, c, failed = 0, rc = 1;
	struct pending *runs = NULL;
	enum run_status *status = NULL;
	size_t n, ndone, total_done;
	struct progress pr = { 0 };
	struct sigaction sa;
	const char *env;

	opterr = 0;     /* one line of our own on bad options */
	while ((c = getopt_long(argc, argv, "o:r:nPh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'r': resume = optarg; break;
		case 'n': dry = 1; break;
		case 'P': noplot = 1; break;
		case 'h': usage(stdout); return 0;
		default: cli_die("bad option or missing value: %s (dlbench run --help)", argv[optind - 1]);
		}
	}
	if (resume) {
		if (optind != argc || out)
			cli_die("--resume DIR takes no CONFIG and no --out");
		snprintf(cfgpath, sizeof(cfgpath), "%s/config.ini", resume);
		if (access(cfgpath, R_OK) != 0)
			cli_die("--resume %s: no %s (not a dlbench run directory)", resume, cfgpath);
		config = cfgpath;
	} else {
		if (optind != argc - 1)
			cli_die("expected one CONFIG file (dlbench run --help)");
		config = argv[optind];
	}
	env = getenv("DLBENCH_RUN_EXE");
	if (env && *env) {
		snprintf(r.exe, sizeof(r.exe), "%s", env);
	} else {
		/* this very executable, even if build/dlbench is rebuilt while the
		 * matrix runs: every cell runs the build the runner started with */
		snprintf(r.exe, sizeof(r.exe), "/proc/%d/exe", (int)getpid());
		if (access(r.exe, X_OK) != 0)
			cli_die("cannot run my own executable %s: %s", r.exe, strerror(errno));
	}
	if (matrix_load(&r.cfg, config, matrix_max_cpus(), err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	validate(&r);
	collect_keys(&r);
	n = list_runs(&r, &runs);
	if (dry) {
		for (size_t i = 0; i < n; i++) {
			char name[512], cmdline[8192], **av;
			int k;

			run_name(&r, &runs[i], name, sizeof(name));
			av = run_argv(&r, &runs[i], name);
			free(av[0]);
			av[0] = strdup("dlbench");
			for (k = 0; av[k]; k++)
				;
			cli_command_line(cmdline, sizeof(cmdline), k - 2, av);
			printf("%s: %s\n", name, cmdline);
			free_argv(av);
		}
		printf("%zu runs in %zu scenarios\n", n, r.cfg.nscenarios);
		rc = 0;
		goto out;
	}

	if (resume) {
		snprintf(r.dir, sizeof(r.dir), "%s", resume);
	} else {
		char base[256], *dot;
		const char *slash = strrchr(config, '/');
		struct results_file rf;
		FILE *in;
		char extra[1024];

		pathf(base, sizeof(base), "%s", slash ? slash + 1 : config);
		dot = strrchr(base, '.');
		if (dot && dot != base)
			*dot = 0;
		if (results_dir_create(r.dir, sizeof(r.dir), out, base)) {
			rc = 2;
			goto out;
		}
		/* the config travels with the results: --resume reads this copy */
		if (results_file_open(&rf, r.dir, "config.ini"))
			goto out;
		in = fopen(config, "r");
		if (!in)
			cli_die("cannot read %s: %s", config, strerror(errno));
		while ((c = fgetc(in)) != EOF)
			fputc(c, rf.f);
		fclose(in);
		if (results_file_commit(&rf))
			goto out;
		for (char *q = base; *q; q++)   /* a JSON string without escapes */
			if (*q == '"' || *q == '\\' || (unsigned char)*q < 0x20)
				*q = '_';
		snprintf(extra, sizeof(extra), "\"config\": \"%s\", \"runs\": %zu, \"max_cpus\": %llu",
			 base, n, (unsigned long long)matrix_max_cpus());
		if (meta_write(r.dir, argc, argv, "run", extra))
			goto out;
	}
	{
		char path[PATH_MAX + 16];
		struct stat sb;
		int fresh;

		snprintf(path, sizeof(path), "%s/run.log", r.dir);
		r.log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (r.log_fd < 0)
			cli_die("cannot open %s: %s", path, strerror(errno));
		snprintf(path, sizeof(path), "%s/cells", r.dir);
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
			cli_die("cannot create %s: %s", path, strerror(errno));
		snprintf(path, sizeof(path), "%s/cells.csv", r.dir);
		fresh = stat(path, &sb) != 0 || sb.st_size == 0;
		r.journal_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (r.journal_fd < 0)
			cli_die("cannot open %s: %s", path, strerror(errno));
		if (fresh) {
			journal_header(&r);
		} else {
			char last;

			/* a row cut short by a crash of the machine: end it */
			if (pread(r.journal_fd, &last, 1, sb.st_size - 1) == 1 && last != '\n' &&
			    write(r.journal_fd, "\n", 1) != 1)
				cli_die("cannot write %s: %s", path, strerror(errno));
		}
	}
	done = calloc(n ? n : 1, 1);
	status = calloc(n ? n : 1, sizeof(*status));
	ndone = journal_done(&r, runs, n, done, status);
	log_line(&r, "%s %s: %zu runs, %zu done before", resume ? "resume" : "run", config, n,
		 ndone);
	r.tty = isatty(2);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	pr.total = n;
	pr.done = ndone;
	pr.started = mono_s();
	total_done = ndone;
	for (size_t i = 0; i < n && !interrupted; i++) {
		if (done[i])
			continue;
		int st = run_one(&r, &runs[i], &pr);

		if (st >= 0) {
			done[i] = 1;
			status[i] = (enum run_status)st;
			total_done++;
			pr.done++;
		}
	}
	if (r.tty)
		fputs("\r\033[K", stderr);
	for (size_t i = 0; i < n; i++)
		if (done[i] && status[i] != ST_OK)
			failed++;
	if (total_done < n) {
		log_line(&r, "interrupted: %zu of %zu runs done", total_done, n);
		fprintf(stderr, "dlbench run: interrupted, %zu of %zu runs done; go on with: dlbench run --resume %s\n",
			total_done, n, r.dir);
		rc = 130;
		goto out;
	}
	gather(&r, runs, n, status);
	log_line(&r, "all %zu runs done, %d not ok", n, failed);
	printf("results: %s (%zu runs, %d not ok: see %s/cells.csv)\n", r.dir, n, failed, r.dir);
	if (!noplot) {
		char plots[PATH_MAX];
		int k = plot_results(r.dir, NULL, plots, sizeof(plots));

		if (k > 0)
			printf("plots:   %s (%d plots)\n", plots, k);
		else if (k == 0)
			printf("plots:   none (no results the plots in plots/ know)\n");
	}
	rc = failed ? 1 : 0;
out:
	free(done);
	free(status);
	free(runs);
	free(r.keys);
	free(r.has_seed);
	matrix_free(&r.cfg);
	close(r.log_fd);
	close(r.journal_fd);
	return rc;
}
