/* Reading CSV files back: see csvtable.h. */
#include "bench/report/csvtable.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"

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
		out = cli_xrealloc(out, (n + 1) * sizeof(*out));
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
			continue; /* a torn line: skip it */
		if (!t->header) {
			t->header = fields;
			t->ncols = (size_t)n;
			continue;
		}
		if ((size_t)n < t->ncols) {
			fields = cli_xrealloc(fields, t->ncols * sizeof(*fields));
			for (size_t i = (size_t)n; i < t->ncols; i++)
				fields[i] = strdup("");
		} else {
			for (size_t i = t->ncols; i < (size_t)n; i++)
				free(fields[i]);
		}
		t->rows = cli_xrealloc(t->rows, (t->nrows + 1) * sizeof(*t->rows));
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

/* Numeric columns that the workloads write to say what was measured. */
/* clang-format off */
static const char *const known_parameters[] = {
	"iteration", "readers", "vcpus",
	"critical_section_ns", "slot_bytes", "dirty_percent", "bytes_per_vcpu", "slots",
	"write_percent", "random", "shared", "update_rate", "chunk_size", "harvest_interval_ms",
	"duration_s", "rounds", "writers", "walkers", "iterators", "creators",
	"max_vcpus", "ring_size", "node", "numa_node", "interval_ms", "threads",
	"sptes", "gfns", "descs_per_gfn", "repetitions", "radix_bits", "initial_capacity",
	"lookupers", "create_interval_ns", "lookup_batch", "max_restarts", "desc_cache",
	"writer_delay_ns", "walk_batch", "critical_ns", "slot_pages", "test_slots", "stall_batch",
	"harvest_interval_ns", "duration_ns", "harvester_cpu", "overlap", "gp_samples",
	"idle_fast_path", "floor_passes", NULL
};
/* clang-format on */

static int same_key(const char *key, const char *col)
{
	for (; *key && *col; key++, col++)
		if (*key != *col && !((*key == '-' || *key == '_') && (*col == '-' || *col == '_')))
			return 0;
	return !*key && !*col;
}

int csv_known_parameter(const char *name)
{
	for (int i = 0; known_parameters[i]; i++)
		if (!strcmp(name, known_parameters[i]))
			return 1;
	return 0;
}

int csv_is_config_key(const char *name, char *const *keys, size_t nkeys)
{
	for (size_t i = 0; i < nkeys; i++)
		if (same_key(keys[i], name))
			return 1;
	return 0;
}

int csv_is_sample_column(const char *name)
{
	return !strcmp(name, "cell") || !strcmp(name, "repetition") ||
	       !strcmp(name, "workload_repetition") || !strcmp(name, "seed") ||
	       !strcmp(name, "rep");
}

int csv_is_parameter(const struct csv_table *t, size_t c, char *const *keys, size_t nkeys)
{
	double v;

	if (csv_is_sample_column(t->header[c]))
		return 0;
	for (int i = 0; known_parameters[i]; i++)
		if (!strcmp(t->header[c], known_parameters[i]))
			return 1;
	for (size_t i = 0; i < nkeys; i++)
		if (same_key(keys[i], t->header[c]))
			return 1;
	for (size_t r = 0; r < t->nrows; r++)
		if (*t->rows[r][c] && !csv_number(t->rows[r][c], &v))
			return 1;
	return 0;
}

size_t csv_run_keys(const char *dir, char ***keys)
{
	char path[4096];
	struct csv_table t;
	size_t n = 0;
	int in = 0;

	*keys = NULL;
	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	if (csv_table_read(&t, path))
		return 0;
	for (size_t c = 0; c < t.ncols; c++) {
		if (!strcmp(t.header[c], "status"))
			break;
		if (in) {
			*keys = cli_xrealloc(*keys, (n + 1) * sizeof(**keys));
			(*keys)[n++] = strdup(t.header[c]);
		}
		if (!strcmp(t.header[c], "repetition"))
			in = 1;
	}
	csv_table_free(&t);
	return n;
}

void csv_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
