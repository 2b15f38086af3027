/* Small file helpers of run and merge: see runner.h. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/report/results.h"
#include "bench/run/runner.h"

int copy_into(const char *from, const char *dir, const char *rel)
{
	struct results_file rf;
	char buf[65536];
	size_t k;
	FILE *in = fopen(from, "r");

	if (!in) {
		fprintf(stderr, "%s: cannot read %s: %s\n", cli_prog, from, strerror(errno));
		return -1;
	}
	if (results_file_open(&rf, dir, rel)) {
		fclose(in);
		return -1;
	}
	while ((k = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, k, rf.f);
	if (ferror(in)) {
		fprintf(stderr, "%s: cannot read %s: %s\n", cli_prog, from, strerror(errno));
		fclose(in);
		results_file_abort(&rf);
		return -1;
	}
	fclose(in);
	return results_file_commit(&rf);
}

/* A copy of file @from as the new file @to. */
static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	size_t k;
	FILE *in = fopen(from, "r"), *out = in ? fopen(to, "wx") : NULL;
	int bad;

	if (!out) {
		fprintf(stderr, "%s: cannot copy %s to %s: %s\n", cli_prog, from, to,
			strerror(errno));
		if (in)
			fclose(in);
		return -1;
	}
	while ((k = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, k, out);
	bad = ferror(in) | ferror(out);
	fclose(in);
	if (fclose(out) || bad) {
		fprintf(stderr, "%s: cannot copy %s to %s\n", cli_prog, from, to);
		return -1;
	}
	return 0;
}

int link_tree(const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int rc = 0;

	if (lstat(from, &sb) != 0)
		return 0; /* nothing there (a run that never started) */
	if (!S_ISDIR(sb.st_mode)) {
		if (!S_ISREG(sb.st_mode) || link(from, to) == 0)
			return 0;
		if (errno == EXDEV || errno == EPERM || errno == EMLINK)
			return copy_file(from, to);
		fprintf(stderr, "%s: cannot link %s to %s: %s\n", cli_prog, from, to,
			strerror(errno));
		return -1;
	}
	if (mkdir(to, 0777) != 0 || !(d = opendir(from))) {
		fprintf(stderr, "%s: cannot create %s: %s\n", cli_prog, to, strerror(errno));
		return -1;
	}
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (results_pathf(a, sizeof(a), "%s/%s", from, de->d_name) ||
		    results_pathf(b, sizeof(b), "%s/%s", to, de->d_name))
			rc = -1;
		else
			rc = link_tree(a, b);
	}
	closedir(d);
	return rc;
}

int meta_lookup(const char *dir, const char *key, char *buf, size_t len)
{
	char path[PATH_MAX], line[4096], pat[256];
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/meta.json", dir);
	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	f = fopen(path, "r");
	if (!f)
		return -1;
	/* meta.json (meta_write) puts each key at the start of a line, the
	 * extras all on one: look for the key anywhere */
	while (rc && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, pat), *end;

		if (!p)
			continue;
		p += strlen(pat);
		if (*p == '"')
			end = strchr(++p, '"');
		else
			end = p + strcspn(p, ",}\n");
		if (!end)
			continue;
		snprintf(buf, len, "%.*s", (int)(end - p), p);
		rc = 0;
	}
	fclose(f);
	return rc;
}

void config_base(const char *config, char *buf, size_t len)
{
	const char *slash = strrchr(config, '/');
	char *dot;

	snprintf(buf, len, "%s", slash ? slash + 1 : config);
	dot = strrchr(buf, '.');
	if (dot && dot != buf)
		*dot = 0;
	for (char *q = buf; *q; q++) /* a JSON string and a file name, without escapes */
		if (*q == '"' || *q == '\\' || *q == '/' || (unsigned char)*q < 0x20)
			*q = '_';
}
