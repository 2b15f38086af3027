/*
 * The runs of a config: every cell of every scenario, each with its
 * warm-ups and repetitions, in the order of the file (run_order gives the
 * order they run in: round-robin over the cells); a shard's share of
 * them; their names and command lines.  See runner.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/driver.h"
#include "bench/run/runner.h"

void run_host(char *buf, size_t len)
{
	if (gethostname(buf, len) != 0 || !*buf)
		snprintf(buf, len, "unknown");
	buf[len - 1] = 0;
}

int run_parse_shard(const char *s, unsigned *i, unsigned *n)
{
	unsigned long a, b;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	a = strtoul(s, &end, 10);
	if (*end != '/' || end[1] < '1' || end[1] > '9')
		return -1;
	b = strtoul(end + 1, &end, 10);
	if (errno || *end || b > 100000 || a >= b)
		return -1;
	*i = (unsigned)a;
	*n = (unsigned)b;
	return 0;
}

/* The index of scenario @s's first cell among all the config's cells. */
static size_t first_cell(const struct matrix_config *cfg, size_t s)
{
	size_t g = 0;

	for (size_t i = 0; i < s; i++) {
		size_t c = matrix_cells(&cfg->scenarios[i]);

		if (c == SIZE_MAX || g > SIZE_MAX - c)
			return SIZE_MAX;
		g += c;
	}
	return g;
}

bool run_cell_is_mine(const struct runner *r, size_t s, size_t cell)
{
	if (r->nshards <= 1)
		return true;
	return (first_cell(&r->cfg, s) + cell) % r->nshards == r->shard;
}

/* Indexes g in [0, x) with g mod N == I. */
static size_t mine_below(size_t x, unsigned i, unsigned n)
{
	return x / n + (x % n > i ? 1 : 0);
}

size_t run_count(const struct runner *r)
{
	size_t total = 0, g = 0;

	if (r->nshards <= 1)
		return matrix_runs(&r->cfg);
	for (size_t i = 0; i < r->cfg.nscenarios; i++) {
		const struct matrix_scenario *s = &r->cfg.scenarios[i];
		size_t cells = matrix_cells(s), per = (size_t)s->warmup + s->repetitions, mine;

		if (cells == SIZE_MAX || g > SIZE_MAX - cells)
			return SIZE_MAX;
		mine = mine_below(g + cells, r->shard, r->nshards) -
		       mine_below(g, r->shard, r->nshards);
		g += cells;
		if (mine > (SIZE_MAX - total) / per)
			return SIZE_MAX;
		total += mine * per;
	}
	return total;
}

size_t run_list(const struct runner *r, struct pending **out)
{
	size_t n = 0, cap = run_count(r);
	struct pending *list = calloc(cap ? cap : 1, sizeof(*list));

	if (!list)
		cli_die("out of memory for %zu runs", cap);
	for (size_t i = 0; i < r->cfg.nscenarios; i++) {
		const struct matrix_scenario *s = &r->cfg.scenarios[i];
		size_t cells = matrix_cells(s);

		for (size_t c = 0; c < cells; c++) {
			if (!run_cell_is_mine(r, i, c))
				continue;
			for (unsigned k = 0; k < s->warmup + s->repetitions && n < cap; k++) {
				list[n].scenario = i;
				list[n].cell = c;
				list[n].kind = k < s->warmup ? RUN_WARMUP : RUN_MEASURE;
				list[n].rep = k < s->warmup ? k : k - s->warmup;
				n++;
			}
		}
	}
	*out = list;
	return n;
}

struct order_key {
	size_t scenario, round, cell, index;
};

static int order_cmp(const void *a, const void *b)
{
	const struct order_key *x = a, *y = b;

	if (x->scenario != y->scenario)
		return x->scenario < y->scenario ? -1 : 1;
	if (x->round != y->round)
		return x->round < y->round ? -1 : 1;
	if (x->cell != y->cell)
		return x->cell < y->cell ? -1 : 1;
	return 0;
}

size_t *run_order(const struct runner *r, const struct pending *runs, size_t n)
{
	struct order_key *key = calloc(n ? n : 1, sizeof(*key));
	size_t *order = calloc(n ? n : 1, sizeof(*order));

	if (!key || !order) {
		free(key);
		free(order);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pending *p = &runs[i];
		unsigned warmup = r->cfg.scenarios[p->scenario].warmup;

		key[i] = (struct order_key){ p->scenario,
					     p->kind == RUN_WARMUP ? p->rep : warmup + p->rep,
					     p->cell, i };
	}
	qsort(key, n, sizeof(*key), order_cmp);
	for (size_t i = 0; i < n; i++)
		order[i] = key[i].index;
	free(key);
	return order;
}

void run_name(const struct matrix_config *cfg, const struct pending *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%04zu-%c%u", cfg->scenarios[p->scenario].name, p->cell,
		 p->kind == RUN_WARMUP ? 'w' : 'r', p->rep);
}

void run_collect_keys(struct runner *r)
{
	for (size_t i = 0; i < r->cfg.nscenarios; i++) {
		const struct matrix_scenario *s = &r->cfg.scenarios[i];

		for (size_t p = 0; p < s->nparams; p++) {
			size_t k;

			for (k = 0; k < r->nkeys; k++)
				if (!strcmp(r->keys[k], s->params[p].key))
					break;
			if (k < r->nkeys)
				continue;
			r->keys = cli_xrealloc(r->keys, (r->nkeys + 1) * sizeof(*r->keys));
			r->keys[r->nkeys++] = s->params[p].key;
		}
	}
}

/* `--NAME`, the option's own spelling of a config key. */
static char *option_word(const struct workload *w, const char *key)
{
	const struct wl_option *o = workload_option(w, key);
	char *s = NULL;

	if (asprintf(&s, "--%s", o ? o->name : key) < 0)
		cli_die("out of memory");
	return s;
}

char **run_argv(const struct runner *r, const struct pending *p, const char *outdir)
{
	const struct matrix_scenario *s = &r->cfg.scenarios[p->scenario];
	const struct workload *w = r->wl[p->scenario];
	const char *vals[s->nparams ? s->nparams : 1];
	char **argv = calloc(2 * s->nparams + 8, sizeof(*argv));
	size_t n = 0;

	if (!argv)
		cli_die("out of memory");
	matrix_cell_values(s, p->cell, vals);
	argv[n++] = cli_xstrdup(r->exe);
	argv[n++] = cli_xstrdup(w->name);
	for (size_t i = 0; i < s->nparams; i++) {
		const struct wl_option *o = workload_option(w, s->params[i].key);

		if (o && o->type == WL_FLAG && !strcmp(vals[i], "no"))
			continue;
		argv[n++] = option_word(w, s->params[i].key);
		if (!o || o->type != WL_FLAG)
			argv[n++] = cli_xstrdup(vals[i]);
	}
	if (workload_option(w, "seed")) {
		unsigned idx = p->kind == RUN_WARMUP ? p->rep : s->warmup + p->rep;
		char seed[32];

		snprintf(seed, sizeof(seed), "%llu", (unsigned long long)(s->seed + idx));
		argv[n++] = cli_xstrdup("--seed");
		argv[n++] = cli_xstrdup(seed);
	}
	if (outdir) {
		argv[n++] = cli_xstrdup("--out");
		argv[n++] = cli_xstrdup(outdir);
	}
	argv[n] = NULL;
	return argv;
}

void free_argv(char **argv)
{
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}
