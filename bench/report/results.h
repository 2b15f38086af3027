/*
 * The results layout: every run writes into a directory of its own that
 * never existed before, and every file in it is written under a temporary
 * name and renamed into place (without replacing anything) when complete.
 */
#ifndef DLBENCH_RESULTS_H
#define DLBENCH_RESULTS_H

#include <limits.h>
#include <stdio.h>

/* snprintf for paths: returns 0, or -1 (with *buf cut short) when the path
 * does not fit in @len.  The one path-format helper of the front. */
__attribute__((format(printf, 3, 4))) int results_pathf(char *buf, size_t len, const char *fmt,
							...);

/* Creates the run directory.  With @requested (a --out value) that exact
 * path, which must not exist yet; otherwise results/<UTC timestamp>-<name>
 * with a -2, -3... suffix if a run in the same second already took it.
 * Writes the path to @path.  On error prints one line on stderr naming the
 * path and returns -1. */
int results_dir_create(char *path, size_t len, const char *requested, const char *name);

struct results_file {
	FILE *f;
	char tmp[PATH_MAX];
	char final[PATH_MAX];
};

/* Opens <dir>/<rel>.tmp for writing (creating a subdirectory of dir such as
 * hist/ if needed).  Returns -1 with a one-line message on error. */
int results_file_open(struct results_file *rf, const char *dir, const char *rel);
/* Flushes, closes and renames to the final name; refuses to replace an
 * existing file.  Returns -1 with a one-line message on error. */
int results_file_commit(struct results_file *rf);
/* Closes and removes the temporary file. */
void results_file_abort(struct results_file *rf);
/* Renames @tmp (complete) to @final without replacing an existing file.
 * Returns -1 with a one-line message on error. */
int results_rename(const char *tmp, const char *final);

#include <stdarg.h>

/* Appends one line "<UTC time> <who>: <message>" to the run log open on
 * @fd (run.log of a matrix run) with a single write(), so that lines of
 * concurrent writers never interleave.  Nothing if fd < 0. */
void results_log_vprintf(int fd, const char *who, const char *fmt, va_list ap);

struct histogram;
/* Writes @h as <dir>/<rel> in the results layout (temporary name, renamed
 * when complete, never replacing a file); @rel is a printf format such as
 * "hist/%s-stall.csv".  Returns -1 with a message on error. */
__attribute__((format(printf, 3, 4))) int results_save_histogram(const struct histogram *h,
								 const char *dir, const char *rel,
								 ...);

/*
 * Takes an exclusive lock on results directory @dir (flock on <dir>/.lock,
 * which records the holder's PID) for the life of the process.  Returns 0;
 * -1 with one line on stderr naming the PID that holds it, or the error.
 */
int results_dir_lock(const char *dir);

#endif
