/*
 * What `dlbench run` tells while it runs: one progress line on a terminal
 * (overwritten in place; never written to a file or a pipe), and run.log,
 * one line per event.  See runner.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "bench/report/results.h"
#include "bench/run/runner.h"

double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void fmt_duration(char *buf, size_t len, double s)
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

void run_log(int fd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	results_log_vprintf(fd, NULL, fmt, ap);
	va_end(ap);
}

void show_progress(const struct runner *r, const struct progress *pr, const char *name,
		   double run_started, int stopping)
{
	char el[32], left[32] = "?";
	double now = mono_s();

	if (!r->tty)
		return;
	fmt_duration(el, sizeof(el), now - run_started);
	/* the mean duration of the runs finished so far, times those left */
	if (pr->finished)
		fmt_duration(left, sizeof(left),
			     pr->spent / (double)pr->finished * (double)(pr->total - pr->done) -
				     (now - run_started));
	fprintf(stderr, "\r\033[K[%zu/%zu] %s (%s)  about %s left%s", pr->done, pr->total, name, el,
		left, stopping ? "  [stopping after this run; ^C again abandons it]" : "");
	fflush(stderr);
}

void clear_progress(const struct runner *r)
{
	if (r->tty)
		fputs("\r\033[K", stderr);
}
