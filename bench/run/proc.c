/*
 * One run in a process of its own: its own process group (a terminal ^C
 * reaches the runner only, and a timeout kills the whole group), killed
 * with the runner even when the runner is SIGKILLed (PR_SET_PDEATHSIG),
 * stdout and stderr into cells/<run>.log, a time limit (SIGTERM to the
 * group, SIGKILL 2 s later), and its status journalled in cells.csv.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/report/results.h"
#include "bench/run/runner.h"

volatile sig_atomic_t run_interrupted;

static void on_signal(int sig)
{
	if (sig == SIGINT && run_interrupted == 0)
		run_interrupted = 1;
	else
		run_interrupted = 2;
}

void run_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
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

/* A run abandoned earlier (SIGINT, SIGKILL) may have left its directory:
 * keep it aside, never overwrite it.  Its log gets a separator line, so
 * the attempts stay apart.  0, or -1 after a message. */
static int prepare(struct runner *r, const char *name, const char *outdir, const char *logpath)
{
	char aside[PATH_MAX + 32], line[768], stamp[32];
	struct stat sb;
	time_t t = time(NULL);
	int fd;

	if (lstat(outdir, &sb) == 0) {
		for (int k = 1; k < 1000; k++) {
			snprintf(aside, sizeof(aside), "%s.abandoned-%d", outdir, k);
			if (lstat(aside, &sb) != 0)
				break;
		}
		if (rename(outdir, aside) != 0) {
			fprintf(stderr, "dlbench run: cannot move %s aside: %s\n", outdir,
				strerror(errno));
			return -1;
		}
		run_log(r->log_fd, "moved the unfinished %s aside to %s", outdir, aside);
	}
	if (lstat(logpath, &sb) != 0)
		return 0;
	fd = open(logpath, O_WRONLY | O_APPEND | O_CLOEXEC);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	snprintf(line, sizeof(line),
		 "\n==== %s: %s again (the attempt above was interrupted) ====\n", stamp, name);
	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		fprintf(stderr, "dlbench run: cannot write %s: %s\n", logpath, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* In the child: becomes the run's process and never returns. */
static void exec_child(char **argv, int logfd, pid_t runner_pid)
{
	int devnull = open("/dev/null", O_RDONLY);
	sigset_t none;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != runner_pid)
		_exit(127); /* the runner died before prctl */
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

/* Starts run @p with its output into @logpath; the child's pid, or -1. */
static pid_t spawn(struct runner *r, const struct pending *p, const char *name, const char *outdir,
		   const char *logpath)
{
	char **argv = run_argv(r, p, outdir), cmdline[8192], *word0 = argv[0];
	pid_t pid, self = getpid();
	int logfd, n;

	for (n = 0; argv[n]; n++)
		;
	argv[0] = "dlbench";
	cli_command_line(cmdline, sizeof(cmdline), n, argv);
	argv[0] = word0;
	run_log(r->log_fd, "start %s: %s", name, cmdline);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (logfd < 0) {
		fprintf(stderr, "dlbench run: cannot create %s: %s\n", logpath, strerror(errno));
		free_argv(argv);
		return -1;
	}
	pid = fork();
	if (pid == 0)
		exec_child(argv, logfd, self);
	if (pid < 0)
		fprintf(stderr, "dlbench run: fork: %s\n", strerror(errno));
	else
		setpgid(pid, pid);
	close(logfd);
	free_argv(argv);
	return pid;
}

/* Waits for @pid within the scenario's limit; 1 when it timed out, 0 when
 * it ended, -1 when abandoned (a second ^C), -2 on an error. */
static int wait_run(struct runner *r, const struct progress *pr, pid_t pid, const char *name,
		    double limit, int *status)
{
	double start = mono_s();

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR) {
			fprintf(stderr, "dlbench run: waitpid: %s\n", strerror(errno));
			kill_group(pid, status);
			return -2;
		}
		if (run_interrupted == 2) {
			kill_group(pid, status);
			clear_progress(r);
			run_log(r->log_fd, "abandoned %s (interrupted)", name);
			return -1;
		}
		if (mono_s() - start > limit) {
			kill_group(pid, status);
			return 1;
		}
		show_progress(r, pr, name, start, run_interrupted == 1);
		/* short runs are common: look often at first, then every 50 ms */
		usleep(mono_s() - start < 0.2 ? 5000 : 50000);
	}
}

static enum run_status classify(struct runner *r, const char *name, const char *outdir, int status,
				int timed_out, int *code)
{
	char probe[PATH_MAX + 16];
	struct stat sb;

	*code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	if (timed_out)
		return ST_TIMEOUT;
	if (WIFSIGNALED(status))
		return ST_CRASHED;
	if (*code != 0)
		return ST_FAILED;
	snprintf(probe, sizeof(probe), "%s/summary.csv", outdir);
	if (stat(probe, &sb) != 0) {
		run_log(r->log_fd, "%s exited 0 without writing %s", name, probe);
		return ST_FAILED;
	}
	return ST_OK;
}

int run_one(struct runner *r, const struct pending *p, struct progress *pr)
{
	char name[512], outdir[PATH_MAX], logpath[PATH_MAX];
	double start = mono_s(), secs;
	int status = 0, code, timed_out;
	enum run_status st;
	pid_t pid;

	run_name(&r->cfg, p, name, sizeof(name));
	if (results_pathf(outdir, sizeof(outdir), "%s/cells/%s", r->dir, name) ||
	    results_pathf(logpath, sizeof(logpath), "%s/cells/%s.log", r->dir, name) ||
	    prepare(r, name, outdir, logpath))
		return -2;
	pid = spawn(r, p, name, outdir, logpath);
	if (pid < 0)
		return -2;
	timed_out = wait_run(r, pr, pid, name, r->cfg.scenarios[p->scenario].timeout_s, &status);
	if (timed_out < 0)
		return timed_out;
	secs = mono_s() - start;
	st = classify(r, name, outdir, status, timed_out, &code);
	if (journal_row(r, p, st, code, secs))
		return -2;
	run_log(r->log_fd, "done %s: %s, exit code %d, %.3f s", name, run_status_names[st], code,
		secs);
	pr->spent += secs;
	pr->finished++;
	if (st != ST_OK) {
		clear_progress(r);
		fprintf(stderr, "dlbench run: %s %s (exit code %d, log %s)\n", name,
			run_status_names[st], code, logpath);
	}
	return (int)st;
}
