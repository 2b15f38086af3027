/*
 * The generic command driver: see driver.h and workloads/workload.h.
 *
 * One invocation: parse argv into raw values per option (getopt_long built
 * from the table), expand lists and repeats into value lists, check every
 * value and every cell, then create the results directory (locked),
 * summary.csv with the header from the column table, run each cell, and
 * write meta.json.  Bad input ends with one line and exit 2 before anything
 * is created.
 */
#include "bench/driver.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/report/csv.h"
#include "bench/report/meta.h"
#include "bench/report/results.h"
#include "bench/run/matrix.h"
#include "lib/util/compiler.h"

#define DRIVER_MAX_OPTIONS 64
#define DRIVER_MAX_VALUES 256 /* values of one option after expansion */
#define DRIVER_MAX_CELLS 100000
#define DRIVER_MAX_META 32
#define DRIVER_MAX_REGISTERED 8
#define OUT_LONG 2 /* getopt's value for --out */

/* The values of one option for this invocation. */
struct optvals {
	const char *given[DRIVER_MAX_VALUES]; /* raw, as typed */
	size_t ngiven;
	const char *v[DRIVER_MAX_VALUES]; /* expanded */
	bool optional[DRIVER_MAX_VALUES]; /* made by the expand hook (WL_EXPAND_OPTIONAL) */
	size_t n;
	/* the lists matrix_expand made (v points into them), freed with
	 * the parse */
	char **lists[DRIVER_MAX_VALUES];
	size_t list_len[DRIVER_MAX_VALUES];
	size_t nlists;
};

struct wl_ctx {
	const struct workload *w;
	size_t ncols;
	char **row; /* formatted fields of the current row */
	bool in_row;
	struct results_file summary;
	bool have_summary;
	char dir[4096];
	bool have_dir;
	bool table_header_done;
	bool progress; /* stderr is a terminal, not CI */
	size_t cell, ncells;
	char *meta_key[DRIVER_MAX_META], *meta_val[DRIVER_MAX_META];
	int nmeta;
};

unsigned wl_max_cpus(void)
{
	return (unsigned)matrix_max_cpus();
}

/* ---- the table ---- */

static size_t count_options(const struct workload *w)
{
	size_t n = 0;

	while (w->options[n].name)
		n++;
	return n;
}

static size_t count_columns(const struct workload *w)
{
	size_t n = 0;

	while (w->columns[n].name)
		n++;
	return n;
}

static bool same_key(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return false;
	return *a == *b;
}

const struct wl_option *workload_option(const struct workload *w, const char *key)
{
	for (const struct wl_option *o = w->options; o->name; o++)
		if (same_key(o->name, key))
			return o;
	return NULL;
}

/* Tables registered at run time (test binaries' stand-in workloads). */
static const struct workload *registered[DRIVER_MAX_REGISTERED];
static int nregistered;

int workload_register(const struct workload *w)
{
	if (nregistered == DRIVER_MAX_REGISTERED || workload_find(w->name))
		return -1;
	registered[nregistered++] = w;
	return 0;
}

const struct workload *workload_find(const char *name)
{
	for (int i = 0; workloads[i]; i++)
		if (!strcmp(workloads[i]->name, name))
			return workloads[i];
	for (int i = 0; i < nregistered; i++)
		if (!strcmp(registered[i]->name, name))
			return registered[i];
	return NULL;
}

/* The short letter of --out: 'o' unless the workload uses it. */
static int out_short(const struct workload *w)
{
	for (const struct wl_option *o = w->options; o->name; o++)
		if (o->short_name == 'o')
			return 0;
	return 'o';
}

/* ---- values ---- */

static bool in_range(const struct wl_option *o, double v)
{
	if (o->min == 0 && o->max == 0)
		return true;
	return v >= o->min && v <= o->max;
}

static int range_error(const struct wl_option *o, const char *text, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s is out of range [%.15g, %.15g]", text, o->min, o->max);
	return -1;
}

static int parse_uint(const struct wl_option *o, const char *s, uint64_t *v, char *err,
		      size_t errlen)
{
	char *end;

	if (!strcmp(s, "max")) {
		*v = wl_max_cpus();
	} else {
		if (!*s || *s == '-' || *s == '+' || *s == ' ') {
			snprintf(err, errlen, "'%s' is not a non-negative integer", s);
			return -1;
		}
		errno = 0;
		*v = strtoull(s, &end, 0);
		if (*end) {
			snprintf(err, errlen, "'%s' is not a non-negative integer", s);
			return -1;
		}
		if (errno == ERANGE)
			return range_error(o, s, err, errlen);
	}
	return in_range(o, (double)*v) ? 0 : range_error(o, s, err, errlen);
}

static int parse_int(const struct wl_option *o, const char *s, int64_t *v, char *err, size_t errlen)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 0);
	if (!*s || *end) {
		snprintf(err, errlen, "'%s' is not an integer", s);
		return -1;
	}
	if (errno == ERANGE || !in_range(o, (double)*v))
		return range_error(o, s, err, errlen);
	return 0;
}

static int parse_size(const struct wl_option *o, const char *s, uint64_t *v, char *err,
		      size_t errlen)
{
	unsigned shift = 0;
	char *end;

	errno = 0;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		goto bad;
	*v = strtoull(s, &end, 10);
	if (end == s)
		goto bad;
	switch (*end) {
	case 0:
		break;
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	default:
		snprintf(err, errlen, "'%s' has an unknown size suffix (use K, M, G or T)", s);
		return -1;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end)
		goto bad;
	if (errno == ERANGE || (shift && *v > (UINT64_MAX >> shift)))
		return range_error(o, s, err, errlen);
	*v <<= shift;
	return in_range(o, (double)*v) ? 0 : range_error(o, s, err, errlen);
bad:
	snprintf(err, errlen, "'%s' is not a size (e.g. 4096, 10M, 3G)", s);
	return -1;
}

static int parse_real(const struct wl_option *o, const char *s, double *v, char *err, size_t errlen)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (!*s || *end || !isfinite(*v)) {
		snprintf(err, errlen, "'%s' is not a number", s);
		return -1;
	}
	return in_range(o, *v) ? 0 : range_error(o, s, err, errlen);
}

static int parse_choice(const struct wl_option *o, const char *s, int *v, char *err, size_t errlen)
{
	size_t used;

	for (int i = 0; o->choices[i]; i++)
		if (!strcmp(s, o->choices[i])) {
			*v = i;
			return 0;
		}
	used = (size_t)snprintf(err, errlen, "unknown value '%s' (one of:", s);
	for (int i = 0; o->choices[i] && used < errlen; i++)
		used += (size_t)snprintf(err + used, errlen - used, "%s %s", i ? "," : "",
					 o->choices[i]);
	if (used < errlen)
		snprintf(err + used, errlen - used, ")");
	return -1;
}

int workload_parse_value(const struct wl_option *o, const char *text, void *dst, char *err,
			 size_t errlen)
{
	union {
		uint64_t u;
		int64_t i;
		double d;
		int c;
	} v;
	int rc = 0;

	if (memchr(text, '\n', strlen(text))) {
		snprintf(err, errlen, "a value holds a line break");
		return -1;
	}
	switch (o->type) {
	case WL_FLAG:
		if (dst)
			*(bool *)dst = true;
		return 0;
	case WL_UINT:
		rc = parse_uint(o, text, &v.u, err, errlen);
		if (!rc && dst)
			*(uint64_t *)dst = v.u;
		return rc;
	case WL_INT:
		rc = parse_int(o, text, &v.i, err, errlen);
		if (!rc && dst)
			*(int64_t *)dst = v.i;
		return rc;
	case WL_SIZE:
		rc = parse_size(o, text, &v.u, err, errlen);
		if (!rc && dst)
			*(uint64_t *)dst = v.u;
		return rc;
	case WL_REAL:
		rc = parse_real(o, text, &v.d, err, errlen);
		if (!rc && dst)
			*(double *)dst = v.d;
		return rc;
	case WL_CHOICE:
		rc = parse_choice(o, text, &v.c, err, errlen);
		if (!rc && dst)
			*(int *)dst = v.c;
		return rc;
	case WL_TEXT:
		if (o->check_value && o->check_value(text, err, errlen))
			return -1;
		if (dst)
			*(const char **)dst = text;
		return 0;
	}
	snprintf(err, errlen, "option type %d unknown", (int)o->type);
	return -1;
}

/* ---- expansion into cells ---- */

static int add_value(struct optvals *ov, const char *v, bool optional, const struct wl_option *o,
		     char *err, size_t errlen)
{
	for (size_t i = 0; i < ov->n; i++)
		if (!strcmp(ov->v[i], v)) {
			/* a value given twice is one cell; by name, it is not
			 * optional */
			ov->optional[i] = ov->optional[i] && optional;
			return 0;
		}
	if (ov->n == DRIVER_MAX_VALUES) {
		snprintf(err, errlen, "--%s: more than %d values", o->name, DRIVER_MAX_VALUES);
		return -1;
	}
	ov->optional[ov->n] = optional;
	ov->v[ov->n++] = v;
	return 0;
}

/* One value through the option's expand hook (e.g. `all`). */
static int expand_one(const struct wl_option *o, struct optvals *ov, const char *v, char *err,
		      size_t errlen)
{
	const char *out[DRIVER_MAX_VALUES];
	int n = o->expand ? o->expand(v, out, DRIVER_MAX_VALUES) : 0;

	if (n < 0) {
		snprintf(err, errlen, "--%s: cannot expand '%s'", o->name, v);
		return -1;
	}
	if (n == 0)
		return add_value(ov, v, false, o, err, errlen);
	for (int i = 0; i < n; i++)
		/* only what `all` stands for is optional: a list names each */
		if (add_value(ov, out[i], (o->flags & WL_EXPAND_OPTIONAL) && !strcmp(v, "all"), o,
			      err, errlen))
			return -1;
	return 0;
}

/* A list value: matrix_expand's lists and ranges (strings kept for the
 * life of the process: the options structure points into them). */
static int expand_list(const struct wl_option *o, struct optvals *ov, const char *text, char *err,
		       size_t errlen)
{
	char **vals = NULL, why[MATRIX_ERR_LEN];
	size_t nv = 0;

	if (matrix_expand(text, matrix_max_cpus(), &vals, &nv, why, sizeof(why))) {
		snprintf(err, errlen, "--%s: %s", o->name, why);
		return -1;
	}
	/* kept until free_parsed: ov->v points at the strings (at most one
	 * list per value given, and take_value bounds those) */
	ov->lists[ov->nlists] = vals;
	ov->list_len[ov->nlists++] = nv;
	if (!nv) {
		snprintf(err, errlen, "--%s: empty list", o->name);
		return -1;
	}
	for (size_t i = 0; i < nv; i++)
		if (expand_one(o, ov, vals[i], err, errlen))
			return -1;
	return 0;
}

static int expand_option(const struct wl_option *o, struct optvals *ov, char *err, size_t errlen)
{
	char why[512];

	if (!ov->ngiven && o->def)
		ov->given[ov->ngiven++] = o->def;
	if (!ov->ngiven)
		return 0;
	if (!(o->flags & (WL_LIST | WL_REPEAT))) {
		/* a single value: the last one given wins, as with getopt */
		ov->given[0] = ov->given[ov->ngiven - 1];
		ov->ngiven = 1;
	}
	for (size_t i = 0; i < ov->ngiven; i++) {
		int rc = o->flags & WL_LIST ? expand_list(o, ov, ov->given[i], err, errlen)
					    : expand_one(o, ov, ov->given[i], err, errlen);
		if (rc)
			return -1;
	}
	for (size_t i = 0; i < ov->n; i++)
		if (workload_parse_value(o, ov->v[i], NULL, why, sizeof(why))) {
			snprintf(err, errlen, "--%s: %s", o->name, why);
			return -1;
		}
	return 0;
}

int workload_check_value(const struct wl_option *o, const char *text, char *err, size_t errlen)
{
	struct optvals ov = { .given = { text }, .ngiven = 1 };
	int rc = expand_option(o, &ov, err, errlen);

	for (size_t k = 0; k < ov.nlists; k++) {
		for (size_t j = 0; j < ov.list_len[k]; j++)
			free(ov.lists[k][j]);
		free(ov.lists[k]);
	}
	return rc;
}

/* ---- the command line ---- */

struct parsed {
	const struct workload *w;
	size_t nopts;
	struct optvals *vals; /* one per option */
	const char *out;
	bool help;
	void (*action)(FILE *f); /* an option's action: print, exit 0 */
	size_t ncells;
	bool *skip; /* per cell: left out (WL_EXPAND_OPTIONAL) */
	size_t nskipped;
};

static void build_getopt(const struct workload *w, struct option *lo, char *so)
{
	size_t n = 0, s = 0;

	for (const struct wl_option *o = w->options; o->name; o++, n++) {
		lo[n] = (struct option){ o->name,
					 o->type == WL_FLAG ? no_argument : required_argument, NULL,
					 (int)(1000 + n) };
		if (o->short_name) {
			so[s++] = (char)o->short_name;
			if (o->type != WL_FLAG)
				so[s++] = ':';
		}
	}
	if (w->writes_results) {
		lo[n++] = (struct option){ "out", required_argument, NULL, OUT_LONG };
		if (out_short(w)) {
			so[s++] = 'o';
			so[s++] = ':';
		}
	}
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n] = (struct option){ 0 };
	so[s++] = 'h';
	so[s] = 0;
}

/* The option index of short letter @c, or -1. */
static int short_index(const struct workload *w, int c)
{
	for (int i = 0; w->options[i].name; i++)
		if (w->options[i].short_name == c)
			return i;
	return -1;
}

static int take_value(struct parsed *p, int idx, const char *arg, char *err, size_t errlen)
{
	const struct wl_option *o = &p->w->options[idx];
	struct optvals *ov = &p->vals[idx];

	if (o->action && !p->action)
		p->action = o->action;

	if (ov->ngiven == DRIVER_MAX_VALUES) {
		snprintf(err, errlen, "--%s: given more than %d times", o->name, DRIVER_MAX_VALUES);
		return -1;
	}
	ov->given[ov->ngiven++] = o->type == WL_FLAG ? "yes" : arg;
	return 0;
}

static void bad_option_error(int optopt_c, const char *arg, char *err, size_t errlen)
{
	if (optopt_c && optopt_c < 1000)
		snprintf(err, errlen, "option -%c is unknown or needs a value (--help lists them)",
			 optopt_c);
	else
		snprintf(err, errlen, "option '%s' is unknown or needs a value (--help lists them)",
			 arg ? arg : "?");
}

static int parse_argv(struct parsed *p, int argc, char **argv, char *err, size_t errlen)
{
	struct option lo[DRIVER_MAX_OPTIONS + 3];
	char so[3 * DRIVER_MAX_OPTIONS + 8];
	int c, idx;

	build_getopt(p->w, lo, so);
	optind = 1;
	opterr = 0; /* our one line, not getopt's as well */
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (c == 'h') {
			p->help = true;
		} else if (c == OUT_LONG || (c == 'o' && out_short(p->w))) {
			p->out = optarg;
		} else if (c >= 1000) {
			if (take_value(p, c - 1000, optarg, err, errlen))
				return -1;
		} else if (c != '?' && (idx = short_index(p->w, c)) >= 0) {
			if (take_value(p, idx, optarg, err, errlen))
				return -1;
		} else {
			bad_option_error(optopt, argv[optind - 1], err, errlen);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (--help lists the options)",
			 argv[optind]);
		return -1;
	}
	return 0;
}

static int parse_all(struct parsed *p, const struct workload *w, int argc, char **argv, char *err,
		     size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->w = w;
	p->nopts = count_options(w);
	if (p->nopts > DRIVER_MAX_OPTIONS) {
		snprintf(err, errlen, "workload %s has too many options", w->name);
		return -1;
	}
	p->vals = calloc(p->nopts ? p->nopts : 1, sizeof(*p->vals));
	if (!p->vals) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (parse_argv(p, argc, argv, err, errlen))
		return -1;
	if (p->help || p->action)
		return 0;
	p->ncells = 1;
	for (size_t i = 0; i < p->nopts; i++) {
		if (expand_option(&w->options[i], &p->vals[i], err, errlen))
			return -1;
		if (p->vals[i].n > 1)
			p->ncells *= p->vals[i].n;
		if (p->ncells > DRIVER_MAX_CELLS) {
			snprintf(err, errlen, "the options expand to more than %d cells",
				 DRIVER_MAX_CELLS);
			return -1;
		}
	}
	return 0;
}

/* Whether cell @cell holds a value the expand hook made optional. */
static bool cell_optional(const struct parsed *p, size_t cell)
{
	bool any = false;

	for (size_t i = p->nopts; i-- > 0;) {
		const struct optvals *ov = &p->vals[i];

		if (!ov->n)
			continue;
		any = any || ov->optional[cell % ov->n];
		cell /= ov->n;
	}
	return any;
}

/* Fills @opts for cell @cell: the first option varies slowest. */
static void fill_cell(const struct parsed *p, size_t cell, void *opts)
{
	memset(opts, 0, p->w->opts_size);
	for (size_t i = p->nopts; i-- > 0;) {
		const struct wl_option *o = &p->w->options[i];
		const struct optvals *ov = &p->vals[i];
		char err[8];
		size_t k;

		if (!ov->n)
			continue;
		k = cell % ov->n;
		cell /= ov->n;
		/* checked in expand_option: cannot fail */
		(void)workload_parse_value(o, ov->v[k], (char *)opts + o->offset, err, sizeof(err));
	}
}

static void free_parsed(struct parsed *p)
{
	for (size_t i = 0; p->vals && i < p->nopts; i++) {
		struct optvals *ov = &p->vals[i];

		for (size_t k = 0; k < ov->nlists; k++) {
			for (size_t j = 0; j < ov->list_len[k]; j++)
				free(ov->lists[k][j]);
			free(ov->lists[k]);
		}
	}
	free(p->vals);
	free(p->skip);
}

/* The reasons cells were left out for, grouped: "--strategy a, b: why". */
struct skips {
	struct {
		char head[96]; /* "--strategy" (or "" when @why names no value) */
		char why[256];
		char values[512]; /* "a, b" */
	} g[16];
	size_t n;
};

/* The optional value of cell @cell whose "--NAME VALUE: " starts @err, as
 * its option's index and value; -1 if none does. */
static int skip_value(const struct parsed *p, size_t cell, const char *err, const char **value)
{
	for (size_t i = p->nopts; i-- > 0;) {
		const struct optvals *ov = &p->vals[i];
		char head[512];
		size_t k;

		if (!ov->n)
			continue;
		k = cell % ov->n;
		cell /= ov->n;
		snprintf(head, sizeof(head), "--%s %s: ", p->w->options[i].name, ov->v[k]);
		if (ov->optional[k] && !strncmp(err, head, strlen(head))) {
			*value = ov->v[k];
			return (int)i;
		}
	}
	return -1;
}

static void skip_add(struct skips *sk, const struct parsed *p, size_t cell, const char *err)
{
	const char *value = "", *why = err;
	char head[96] = "";
	int i = skip_value(p, cell, err, &value);
	size_t g;

	if (i >= 0) {
		snprintf(head, sizeof(head), "--%s", p->w->options[i].name);
		why = err + strlen(head) + 1 + strlen(value) + 2;
	}
	for (g = 0; g < sk->n; g++)
		if (!strcmp(sk->g[g].head, head) &&
		    !strncmp(sk->g[g].why, why, sizeof(sk->g[g].why) - 1))
			break;
	if (g == ARRAY_SIZE(sk->g))
		return;
	if (g == sk->n) {
		sk->n++;
		snprintf(sk->g[g].head, sizeof(sk->g[g].head), "%s", head);
		snprintf(sk->g[g].why, sizeof(sk->g[g].why), "%s", why);
		sk->g[g].values[0] = 0;
	}
	if (i >= 0 && !strstr(sk->g[g].values, value)) {
		size_t used = strlen(sk->g[g].values);

		snprintf(sk->g[g].values + used, sizeof(sk->g[g].values) - used, "%s%s",
			 used ? ", " : "", value);
	}
}

static void skip_print(const struct skips *sk, const struct parsed *p)
{
	for (size_t g = 0; g < sk->n; g++)
		fprintf(stderr, "dlbench %s: skipped %s%s%s%s%s\n", p->w->name, sk->g[g].head,
			sk->g[g].head[0] ? " " : "", sk->g[g].values, sk->g[g].head[0] ? ": " : "",
			sk->g[g].why);
}

/* The check hook over every cell; 0 or -1 with the line in @err.  A cell
 * refused for an optional value is left out (p->skip), with a notice when
 * @notify; if every cell is, the last reason is the error. */
static int check_cells(struct parsed *p, void *opts, bool notify, char *err, size_t errlen)
{
	struct skips sk = { .n = 0 };

	if (!p->w->check)
		return 0;
	p->skip = calloc(p->ncells ? p->ncells : 1, sizeof(*p->skip));
	if (!p->skip) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t c = 0; c < p->ncells; c++) {
		fill_cell(p, c, opts);
		if (!p->w->check(opts, err, errlen))
			continue;
		if (!cell_optional(p, c))
			return -1;
		p->skip[c] = true;
		p->nskipped++;
		skip_add(&sk, p, c, err);
	}
	if (p->nskipped == p->ncells)
		return -1;
	if (notify)
		skip_print(&sk, p);
	return 0;
}

int workload_dry_run(const struct workload *w, int argc, char **argv, char *err, size_t errlen)
{
	struct parsed p;
	void *opts = NULL;
	int rc = -1;

	if (parse_all(&p, w, argc, argv, err, errlen))
		goto out;
	opts = calloc(1, w->opts_size ? w->opts_size : 1);
	if (!opts) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = check_cells(&p, opts, false, err, errlen);
out:
	free(opts);
	free_parsed(&p);
	return rc;
}

/* ---- help ---- */

static const char *metavar(const struct wl_option *o)
{
	static const char *const by_type[] = {
		[WL_FLAG] = "",	 [WL_UINT] = "N",	[WL_INT] = "N",	    [WL_SIZE] = "SIZE",
		[WL_REAL] = "X", [WL_CHOICE] = "WHICH", [WL_TEXT] = "TEXT",
	};

	if (o->metavar)
		return o->metavar;
	return o->flags & WL_LIST ? "LIST" : by_type[o->type];
}

static void usage_option(const struct wl_option *o, FILE *f)
{
	char head[64];
	const char *h = o->help ? o->help : "";

	if (o->short_name)
		snprintf(head, sizeof(head), "  -%c, --%s %s", o->short_name, o->name, metavar(o));
	else
		snprintf(head, sizeof(head), "      --%s %s", o->name, metavar(o));
	fprintf(f, "%-30s", head);
	if (strlen(head) >= 30)
		fprintf(f, "\n%30s", "");
	for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
		fprintf(f, "%.*s\n%30s", (int)(nl - h), h, "");
	fprintf(f, "%s", h);
	if (o->choices && o->type == WL_CHOICE) {
		fprintf(f, " (");
		for (int i = 0; o->choices[i]; i++)
			fprintf(f, "%s%s", i ? "|" : "", o->choices[i]);
		fprintf(f, ")");
	}
	if (o->def && o->type != WL_FLAG)
		fprintf(f, " [default %s]", o->def);
	if (o->flags & WL_REPEAT)
		fprintf(f, " [repeatable]");
	fputc('\n', f);
}

void workload_usage(const struct workload *w, FILE *f)
{
	fprintf(f, "usage: dlbench %s [OPTIONS]\n%s\n\n", w->name,
		w->description ? w->description : w->summary);
	for (const struct wl_option *o = w->options; o->name; o++)
		usage_option(o, f);
	if (w->writes_results) {
		if (out_short(w))
			fprintf(f, "%-30s", "  -o, --out DIR");
		else
			fprintf(f, "%-30s", "      --out DIR");
		fprintf(f, "results directory; must not exist [default results/<time>-%s]\n",
			w->name);
	}
	fprintf(f, "%-30s%s\n", "  -h, --help", "this text");
	fprintf(f, "\nLIST: a,b,c; ranges START:*F:END (geometric), START:+N:END; `max` = CPUs.\n");
	if (w->help_extra) {
		fputc('\n', f);
		w->help_extra(f);
	}
}

/* ---- rows ---- */

static void put_check(struct wl_ctx *ctx, int col, enum wl_col_type t)
{
	if (!ctx->in_row || col < 0 || (size_t)col >= ctx->ncols ||
	    ctx->w->columns[col].type != t) {
		/* a bug in the workload's run: its tables disagree with it */
		fprintf(stderr,
			"dlbench %s: internal error: column %d put outside a row or with the wrong "
			"type\n",
			ctx->w->name, col);
		abort();
	}
	free(ctx->row[col]);
	ctx->row[col] = NULL;
}

static void put_string(struct wl_ctx *ctx, int col, char *s)
{
	if (!s) {
		fprintf(stderr, "dlbench %s: out of memory\n", ctx->w->name);
		exit(1);
	}
	ctx->row[col] = s;
}

void wl_row_begin(struct wl_ctx *ctx)
{
	for (size_t i = 0; i < ctx->ncols; i++) {
		free(ctx->row[i]);
		ctx->row[i] = NULL;
	}
	ctx->in_row = true;
}

void wl_put_text(struct wl_ctx *ctx, int col, const char *value)
{
	put_check(ctx, col, WL_COL_TEXT);
	put_string(ctx, col, strdup(value ? value : ""));
}

void wl_put_uint(struct wl_ctx *ctx, int col, uint64_t value)
{
	char *s = NULL;

	put_check(ctx, col, WL_COL_UINT);
	put_string(ctx, col, asprintf(&s, "%llu", (unsigned long long)value) < 0 ? NULL : s);
}

void wl_put_int(struct wl_ctx *ctx, int col, int64_t value)
{
	char *s = NULL;

	put_check(ctx, col, WL_COL_INT);
	put_string(ctx, col, asprintf(&s, "%lld", (long long)value) < 0 ? NULL : s);
}

void wl_put_real(struct wl_ctx *ctx, int col, double value)
{
	const char *fmt;
	char *s = NULL;

	put_check(ctx, col, WL_COL_REAL);
	fmt = ctx->w->columns[col].format;
	if (!isfinite(value))
		put_string(ctx, col, strdup(""));
	else
		put_string(ctx, col, asprintf(&s, fmt ? fmt : "%.3f", value) < 0 ? NULL : s);
}

static int column_width(const struct wl_column *c)
{
	int n = (int)strlen(c->name);

	if (c->width)
		return n > c->width ? n : c->width;
	if (c->type == WL_COL_TEXT)
		return n > 16 ? n : 16;
	return n > 10 ? n : 10;
}

static void table_line(struct wl_ctx *ctx, bool header)
{
	bool first = true;

	for (size_t i = 0; i < ctx->ncols; i++) {
		const struct wl_column *c = &ctx->w->columns[i];
		const char *v = header ? c->name : (ctx->row[i] ? ctx->row[i] : "");

		if (!(c->flags & WL_SHOW))
			continue;
		if (c->type == WL_COL_TEXT)
			printf("%s%-*s", first ? "" : " ", column_width(c), v);
		else
			printf("%s%*s", first ? "" : " ", column_width(c), v);
		first = false;
	}
	if (!first)
		putchar('\n');
}

int wl_row_end(struct wl_ctx *ctx)
{
	if (ctx->progress)
		fputs("\r\033[K", stderr);
	if (!ctx->table_header_done) {
		table_line(ctx, true);
		ctx->table_header_done = true;
	}
	table_line(ctx, false);
	fflush(stdout);
	ctx->in_row = false;
	if (!ctx->have_summary)
		return 0;
	for (size_t i = 0; i < ctx->ncols; i++) {
		if (i)
			fputc(',', ctx->summary.f);
		csv_field(ctx->summary.f, ctx->row[i] ? ctx->row[i] : "");
	}
	fputc('\n', ctx->summary.f);
	if (ferror(ctx->summary.f)) {
		fprintf(stderr, "dlbench %s: cannot write %s: %s\n", ctx->w->name, ctx->summary.tmp,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the rest of the context ---- */

int wl_save_histogram(struct wl_ctx *ctx, const struct histogram *h, const char *name_fmt, ...)
{
	char name[512];
	va_list ap;

	if (!ctx->have_dir)
		return 0;
	va_start(ap, name_fmt);
	vsnprintf(name, sizeof(name), name_fmt, ap);
	va_end(ap);
	return results_save_histogram(h, ctx->dir, "hist/%s.csv", name);
}

void wl_meta(struct wl_ctx *ctx, const char *key, const char *json_fmt, ...)
{
	char *val = NULL;
	va_list ap;
	int i;

	va_start(ap, json_fmt);
	if (vasprintf(&val, json_fmt, ap) < 0)
		val = NULL;
	va_end(ap);
	if (!val)
		return;
	for (i = 0; i < ctx->nmeta; i++)
		if (!strcmp(ctx->meta_key[i], key))
			break;
	if (i == ctx->nmeta) {
		if (ctx->nmeta == DRIVER_MAX_META || !(ctx->meta_key[i] = strdup(key))) {
			free(val);
			return;
		}
		ctx->nmeta++;
	} else {
		free(ctx->meta_val[i]);
	}
	ctx->meta_val[i] = val;
}

void wl_printf(struct wl_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->progress)
		fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

void wl_notice(struct wl_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->progress)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "dlbench %s: ", ctx->w->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void wl_progress(struct wl_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->progress)
		return;
	fprintf(stderr, "\r\033[K[%zu/%zu] ", ctx->cell + 1, ctx->ncells);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

size_t wl_cell_index(const struct wl_ctx *ctx)
{
	return ctx->cell;
}

size_t wl_cell_count(const struct wl_ctx *ctx)
{
	return ctx->ncells;
}

const char *wl_results_dir(const struct wl_ctx *ctx)
{
	return ctx->have_dir ? ctx->dir : NULL;
}

/* ---- one invocation ---- */

static void write_header(struct wl_ctx *ctx)
{
	for (size_t i = 0; i < ctx->ncols; i++) {
		if (i)
			fputc(',', ctx->summary.f);
		csv_field(ctx->summary.f, ctx->w->columns[i].name);
	}
	fputc('\n', ctx->summary.f);
}

static int open_results(struct wl_ctx *ctx, const char *out)
{
	if (!ctx->w->writes_results)
		return 0;
	if (results_dir_create(ctx->dir, sizeof(ctx->dir), out, ctx->w->name))
		return -1;
	ctx->have_dir = true;
	if (results_dir_lock(ctx->dir) || results_file_open(&ctx->summary, ctx->dir, "summary.csv"))
		return -1;
	ctx->have_summary = true;
	write_header(ctx);
	printf("results: %s\n", ctx->dir);
	return 0;
}

static int close_results(struct wl_ctx *ctx, int argc, char **argv)
{
	char *extra = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (!ctx->have_summary)
		return 0;
	if (results_file_commit(&ctx->summary))
		return -1;
	ctx->have_summary = false;
	f = open_memstream(&extra, &len);
	if (!f)
		return -1;
	for (int i = 0; i < ctx->nmeta; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_string(f, ctx->meta_key[i]);
		fprintf(f, ": %s", ctx->meta_val[i]);
	}
	fclose(f);
	rc = meta_write(ctx->dir, argc, argv, ctx->w->name, len ? extra : NULL);
	free(extra);
	return rc;
}

static void free_ctx(struct wl_ctx *ctx)
{
	if (ctx->have_summary)
		results_file_abort(&ctx->summary);
	for (size_t i = 0; i < ctx->ncols; i++)
		free(ctx->row[i]);
	free(ctx->row);
	for (int i = 0; i < ctx->nmeta; i++) {
		free(ctx->meta_key[i]);
		free(ctx->meta_val[i]);
	}
}

/* Runs every cell; the worst status: 0, WL_FAILED, or negative. */
static int run_cells(struct wl_ctx *ctx, const struct parsed *p, void *opts)
{
	int worst = 0;
	char err[1024];

	/* ctx->cell counts the cells run: a left-out one is not there */
	ctx->cell = 0;
	for (size_t c = 0; c < p->ncells; c++) {
		int rc;

		if (p->skip && p->skip[c])
			continue;
		fill_cell(p, c, opts);
		err[0] = 0;
		rc = p->w->run(opts, ctx, err, sizeof(err));
		if (rc < 0) {
			wl_notice(ctx, "%s", err[0] ? err : "failed");
			return rc;
		}
		if (rc > worst)
			worst = rc;
		ctx->cell++;
	}
	if (ctx->progress)
		fputs("\r\033[K", stderr);
	if (p->w->finish)
		p->w->finish(ctx, worst);
	return worst;
}

static int status_of(int rc)
{
	return rc == WL_BAD_INPUT ? 2 : rc < 0 ? 1 : rc;
}

int workload_main(const struct workload *w, int argc, char **argv)
{
	struct wl_ctx ctx = { .w = w };
	struct parsed p;
	char err[1024];
	void *opts = NULL;
	int rc;

	if (parse_all(&p, w, argc, argv, err, sizeof(err)))
		cli_die("%s", err);
	if (p.help || p.action) {
		if (p.help)
			workload_usage(w, stdout);
		else
			p.action(stdout);
		free_parsed(&p);
		return 0;
	}
	ctx.ncols = count_columns(w);
	ctx.row = calloc(ctx.ncols ? ctx.ncols : 1, sizeof(*ctx.row));
	opts = calloc(1, w->opts_size ? w->opts_size : 1);
	if (!ctx.row || !opts)
		cli_die("out of memory");
	if (check_cells(&p, opts, true, err, sizeof(err)))
		cli_die("%s", err);
	ctx.ncells = p.ncells - p.nskipped;
	ctx.progress = isatty(2) && !getenv("CI");
	if (open_results(&ctx, p.out))
		rc = 2;
	else if ((rc = run_cells(&ctx, &p, opts)) >= 0 && close_results(&ctx, argc, argv))
		rc = 2;
	rc = status_of(rc);
	free_ctx(&ctx);
	free(opts);
	free_parsed(&p);
	return rc;
}
