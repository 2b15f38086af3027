/* Reading CSV files back: see csvtable.h. */
#include "csvtable.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		perror("dlbench: out of memory");
		exit(1);
	}
	return p;
}

int csv_split_line(const char *line, char ***fields)
{
	char **out = NULL;
	size_t n = 0, len = strlen(line);
	char *buf = malloc(len + 1);
	const char *p = line;

	if (!buf) {
		perror("dlbench: out of memory");
		exit(1);
	}
	for (;;) {
		size_t k = 0;

		if (*p == '"') {
			p++;
			for (;;) {
				if (!*p) {
					for (size_t i = 0; i < n; i++)
						free(out[i]);
					free(out);
					free(buf);
					return -1;
				}
				if (*p == '"') {
					if (p[1] == '"') {
						buf[k++] = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				buf[k++] = *p++;
			}
			while (*p && *p != ',')
				buf[k++] = *p++;
		} else {
			while (*p && *p != ',' && *p != '\r')
				buf[k++] = *p++;
		}
		buf[k] = 0;
		out = xrealloc(out, (n + 1) * sizeof(*out));
		out[n++] = strdup(buf);
		if (*p != ',')
			break;
		p++;
	}
	free(buf);
	*fields = out;
	return (int)n;
}

int csv_table_read(struct csv_table *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	memset(t, 0, sizeof(*t));
	if (!f)
		return -1;
	while ((len = getline(&line, &cap, f)) >= 0) {
		char **fields;
		int n;

		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (!len)
			continue;
		n = csv_split_line(line, &fields);
		if (n < 0)
			continue;       /* a torn line: skip it */
		if (!t->header) {
			t->header = fields;
			t->ncols = (size_t)n;
			continue;
		}
		if ((size_t)n < t->ncols) {
			fields = xrealloc(fields, t->ncols * sizeof(*fields));
			for (size_t i = (size_t)n; i < t->ncols; i++)
				fields[i] = strdup("");
		} else {
			for (size_t i = t->ncols; i < (size_t)n; i++)
				free(fields[i]);
		}
		t->rows = xrealloc(t->rows, (t->nrows + 1) * sizeof(*t->rows));
		t->rows[t->nrows++] = fields;
	}
	free(line);
	fclose(f);
	return 0;
}

void csv_table_free(struct csv_table *t)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	for (size_t c = 0; c < t->ncols; c++)
		free(t->header[c]);
	free(t->header);
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

int csv_table_col(const struct csv_table *t, const char *name)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (!strcmp(t->header[c], name))
			return (int)c;
	return -1;
}

int csv_number(const char *s, double *v)
{
	char *end;

	if (!*s)
		return 0;
	errno = 0;
	*v = strtod(s, &end);
	return !*end && !errno && isfinite(*v);
}
