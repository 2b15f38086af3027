/* Command-line helpers: see cli.h. */
#include "bench/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_prog = "dlbench";
int cli_full_argc;
char **cli_full_argv;

void cli_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

uint64_t cli_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+')
		cli_die("%s: '%s' is not a non-negative integer", opt, s ? s : "");
	v = strtoull(s, &end, 0);
	if (errno || *end)
		cli_die("%s: '%s' is not a non-negative integer", opt, s);
	if (v < min || v > max)
		cli_die("%s: %llu is out of range [%llu, %llu]", opt, v, (unsigned long long)min,
			(unsigned long long)max);
	return v;
}

double cli_double(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end)
		cli_die("%s: '%s' is not a number", opt, s);
	if (!(v >= min && v <= max))
		cli_die("%s: %s is out of range [%g, %g]", opt, s, min, max);
	return v;
}

size_t cli_u64_list(const char *opt, const char *s, uint64_t *out, size_t max, uint64_t min,
		    uint64_t maxval)
{
	char *copy = strdup(s), *save = NULL, *tok;
	size_t n = 0;

	if (!copy)
		cli_die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			cli_die("%s: more than %zu values in '%s'", opt, max, s);
		out[n++] = cli_u64(opt, tok, min, maxval);
	}
	free(copy);
	if (n == 0)
		cli_die("%s: empty list", opt);
	return n;
}

int cli_choice(const char *opt, const char *s, const char *const *names)
{
	char all[512] = "";

	for (int i = 0; names[i]; i++) {
		if (strcmp(s, names[i]) == 0)
			return i;
		if (i)
			strncat(all, ", ", sizeof(all) - strlen(all) - 1);
		strncat(all, names[i], sizeof(all) - strlen(all) - 1);
	}
	cli_die("%s: unknown value '%s' (one of: %s)", opt, s, all);
}

void cli_command_line(char *buf, size_t len, int argc, char **argv)
{
	size_t used = 0;

	buf[0] = 0;
	for (int i = 0; i < argc && used + 1 < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? " " : "", argv[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}
