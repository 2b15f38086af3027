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
static void cli_out_of_memory(void)
{
	perror("dlbench: out of memory");
	exit(1);
}

void *cli_xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		cli_out_of_memory();
	return p;
}

char *cli_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		cli_out_of_memory();
	return p;
}

char *cli_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		cli_out_of_memory();
	return p;
}
