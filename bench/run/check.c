/*
 * A config against the workload tables (workloads/workload.h), before
 * anything runs: each scenario's workload must be a table that writes
 * results, each key one of its options, each value one its parser takes;
 * then each cell's combination of values against the machine, with the
 * table's own check (workload_dry_run), as `dlbench NAME ...` would check
 * it before creating anything.  Every error is one line that names the
 * config line, as `FILE:LINE: ...`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/commands.h"
#include "bench/driver.h"
#include "bench/run/runner.h"

static int workload_of(struct runner *r, size_t i)
{
	const struct matrix_scenario *s = &r->cfg.scenarios[i];
	const struct workload *w = workload_find(s->workload);

	if (!w && dlbench_is_command(s->workload)) {
		fprintf(stderr,
			"%s:%d: '%s' is not a workload but a dlbench command (dlbench --help lists "
			"the workloads)\n",
			r->cfg.path, s->workload_line, s->workload);
		return -1;
	}
	if (!w) {
		fprintf(stderr, "%s:%d: unknown workload '%s' (dlbench --help lists them)\n",
			r->cfg.path, s->workload_line, s->workload);
		return -1;
	}
	if (!w->writes_results) {
		fprintf(stderr, "%s:%d: workload '%s' writes no results (it has no --out)\n",
			r->cfg.path, s->workload_line, s->workload);
		return -1;
	}
	r->wl[i] = w;
	return 0;
}

/* One value of a key: yes/no for a flag, else the option's own parser. */
static int check_value(const struct runner *r, const struct matrix_scenario *s,
		       const struct workload *w, const struct matrix_param *p, const char *v)
{
	const struct wl_option *o = workload_option(w, p->key);
	char why[1024];

	if (o->type == WL_FLAG) {
		if (!strcmp(v, "yes") || !strcmp(v, "no"))
			return 0;
		snprintf(why, sizeof(why), "--%s: a flag takes yes or no, not '%s'", o->name, v);
	} else if (!workload_check_value(o, v, why, sizeof(why))) {
		return 0;
	}
	fprintf(stderr, "%s:%d: %s = %s: dlbench %s: %s\n", r->cfg.path, p->line, p->key, v,
		s->workload, why);
	return -1;
}

int run_validate(struct runner *r)
{
	r->wl = calloc(r->cfg.nscenarios, sizeof(*r->wl));
	if (!r->wl) {
		fprintf(stderr, "dlbench run: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < r->cfg.nscenarios; i++) {
		const struct matrix_scenario *s = &r->cfg.scenarios[i];

		if (workload_of(r, i))
			return -1;
		for (size_t k = 0; k < s->nparams; k++) {
			const struct matrix_param *p = &s->params[k];

			if (!workload_option(r->wl[i], p->key)) {
				fprintf(stderr,
					"%s:%d: unknown key '%s' for workload '%s' (dlbench %s "
					"--help lists its options)\n",
					r->cfg.path, p->line, p->key, s->workload, s->workload);
				return -1;
			}
			for (size_t v = 0; v < p->nvalues; v++)
				if (check_value(r, s, r->wl[i], p, p->values[v]))
					return -1;
		}
	}
	return 0;
}

/* "key=value key=value" of a cell, for its error line. */
static void cell_text(const struct matrix_scenario *s, size_t cell, char *buf, size_t len)
{
	const char *vals[s->nparams ? s->nparams : 1];
	size_t used = 0;

	buf[0] = 0;
	matrix_cell_values(s, cell, vals);
	for (size_t i = 0; i < s->nparams && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", i ? " " : "",
					 s->params[i].key, vals[i]);
}

int run_check_cell(const struct runner *r, size_t si, size_t cell)
{
	const struct matrix_scenario *s = &r->cfg.scenarios[si];
	struct pending p = { .scenario = si, .cell = cell, .kind = RUN_MEASURE };
	char **argv = run_argv(r, &p, NULL), err[1024], what[1024];
	int argc = 0, rc;

	while (argv[argc])
		argc++;
	/* argv[0] is the executable; the driver wants the workload's name */
	rc = workload_dry_run(r->wl[si], argc - 1, argv + 1, err, sizeof(err));
	free_argv(argv);
	if (!rc)
		return 0;
	cell_text(s, cell, what, sizeof(what));
	fprintf(stderr, "%s:%d: [%s] cell %zu (%s): dlbench %s: %s\n", r->cfg.path, s->line,
		s->name, cell, what, s->workload, err);
	return -1;
}
