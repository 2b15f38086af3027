/* The results layout: see results.h. */
#include "bench/report/results.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/util/histogram.h"

int results_pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "dlbench: path too long: %.200s...\n", buf);
		return -1;
	}
	return 0;
}

int results_dir_create(char *path, size_t len, const char *requested, const char *name)
{
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;

	if (requested) {
		if (snprintf(path, len, "%s", requested) >= (int)len) {
			fprintf(stderr, "dlbench: --out path too long: %s\n", requested);
			return -1;
		}
		if (mkdir(path, 0777) != 0) {
			if (errno == EEXIST)
				fprintf(stderr,
					"dlbench: --out %s already exists; results are never "
					"overwritten, choose a new directory\n",
					path);
			else
				fprintf(stderr, "dlbench: cannot create --out %s: %s\n", path,
					strerror(errno));
			return -1;
		}
		return 0;
	}
	if (mkdir("results", 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "dlbench: cannot create results/: %s\n", strerror(errno));
		return -1;
	}
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (int n = 1; n < 1000; n++) {
		if (n == 1)
			snprintf(path, len, "results/%s-%s", stamp, name);
		else
			snprintf(path, len, "results/%s-%s-%d", stamp, name, n);
		if (mkdir(path, 0777) == 0)
			return 0;
		if (errno != EEXIST) {
			fprintf(stderr, "dlbench: cannot create %s: %s\n", path, strerror(errno));
			return -1;
		}
	}
	fprintf(stderr, "dlbench: cannot find a free results directory name for %s\n", name);
	return -1;
}

int results_file_open(struct results_file *rf, const char *dir, const char *rel)
{
	const char *slash = strrchr(rel, '/');

	if (slash) {
		char sub[PATH_MAX];

		snprintf(sub, sizeof(sub), "%s/%.*s", dir, (int)(slash - rel), rel);
		if (mkdir(sub, 0777) != 0 && errno != EEXIST) {
			fprintf(stderr, "dlbench: cannot create %s: %s\n", sub, strerror(errno));
			return -1;
		}
	}
	if (snprintf(rf->final, sizeof(rf->final), "%s/%s", dir, rel) >= (int)sizeof(rf->final) ||
	    snprintf(rf->tmp, sizeof(rf->tmp), "%s/%s.tmp", dir, rel) >= (int)sizeof(rf->tmp)) {
		fprintf(stderr, "dlbench: path too long: %s/%s\n", dir, rel);
		return -1;
	}
	rf->f = fopen(rf->tmp, "wx");
	if (!rf->f) {
		fprintf(stderr, "dlbench: cannot create %s: %s\n", rf->tmp, strerror(errno));
		return -1;
	}
	return 0;
}

int results_file_commit(struct results_file *rf)
{
	int bad = ferror(rf->f);

	if (fflush(rf->f) != 0 || fsync(fileno(rf->f)) != 0)
		bad = 1;
	if (fclose(rf->f) != 0)
		bad = 1;
	rf->f = NULL;
	if (bad) {
		fprintf(stderr, "dlbench: writing %s failed: %s\n", rf->tmp, strerror(errno));
		unlink(rf->tmp);
		return -1;
	}
	return results_rename(rf->tmp, rf->final);
}

int results_rename(const char *tmp, const char *final)
{
	/* RENAME_NOREPLACE: a result that exists is never replaced. */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) != 0) {
		if (errno == EINVAL || errno == ENOSYS) {
			/* filesystems without renameat2 flags: link fails on EEXIST */
			if (link(tmp, final) == 0) {
				unlink(tmp);
				return 0;
			}
		}
		fprintf(stderr, "dlbench: cannot rename %s to %s: %s\n", tmp, final,
			strerror(errno));
		return -1;
	}
	return 0;
}

void results_file_abort(struct results_file *rf)
{
	if (rf->f)
		fclose(rf->f);
	rf->f = NULL;
	unlink(rf->tmp);
}

void results_log_vprintf(int fd, const char *who, const char *fmt, va_list ap)
{
	char buf[4096], stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	int n;

	if (fd < 0)
		return;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(buf, sizeof(buf), "%s %s%s", stamp, who ? who : "", who ? ": " : "");
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(fd, buf, (size_t)n) < 0)
		perror("dlbench: run.log");
}

int results_save_histogram(const struct histogram *h, const char *dir, const char *rel, ...)
{
	struct results_file rf;
	char name[512];
	va_list ap;

	va_start(ap, rel);
	vsnprintf(name, sizeof(name), rel, ap);
	va_end(ap);
	if (results_file_open(&rf, dir, name))
		return -1;
	if (histogram_write_csv(h, rf.f)) {
		results_file_abort(&rf);
		return -1;
	}
	return results_file_commit(&rf);
}

/* The PID recorded in an open lock file, or 0. */
static long lock_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

int results_dir_lock(const char *dir)
{
	char path[PATH_MAX], pid[32];
	int fd, len;

	if (snprintf(path, sizeof(path), "%s/.lock", dir) >= (int)sizeof(path)) {
		fprintf(stderr, "dlbench: path too long: %s/.lock\n", dir);
		return -1;
	}
	/* O_CLOEXEC: the cells that `run` starts write directories of their
	 * own and must not hold (or keep alive) the lock of the run's. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		fprintf(stderr, "dlbench: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		long holder = errno == EWOULDBLOCK ? lock_holder(fd) : 0;

		if (errno == EWOULDBLOCK)
			fprintf(stderr,
				"dlbench: %s is in use by another dlbench (pid %ld); wait for it "
				"to finish\n",
				dir, holder);
		else
			fprintf(stderr, "dlbench: cannot lock %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		fprintf(stderr, "dlbench: cannot write %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* The descriptor stays open, and the lock held, until the process
	 * exits: the kernel releases it then, even after SIGKILL. */
	return 0;
}
