/* Reading a results directory back: see rdir.h. */
#include "bench/report/rdir.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include <sys/stat.h>

#include "bench/report/results.h"

static int is_file(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat sb;

	return !results_pathf(path, sizeof(path), "%s/%s", dir, name) && stat(path, &sb) == 0 &&
	       S_ISREG(sb.st_mode);
}

int rdir_is_results(const char *dir)
{
	struct stat sb;

	return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && is_file(dir, "meta.json") &&
	       (is_file(dir, "cells.csv") || is_file(dir, "summary.csv"));
}

int rdir_check(const char *dir, const char *who)
{
	if (rdir_is_results(dir))
		return 0;
	fprintf(stderr,
		"%s: %s is not a results directory (no meta.json with cells.csv or summary.csv)\n",
		who, dir);
	return -1;
}

/* ---- meta.json: a flat object of strings and numbers (meta.c writes it) */

static const char *skip_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

/* A JSON string at @p (after its opening quote) into a new string; *end
 * past the closing quote. */
static char *json_text(const char *p, const char **end)
{
	char *out = malloc(strlen(p) + 1);
	size_t k = 0;

	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			out[k++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
			continue;
		}
		out[k++] = *p;
	}
	out[k] = 0;
	*end = *p ? p + 1 : p;
	return out;
}

/* A value that is not a string: its raw text up to the ',' or '}' that
 * ends it at depth 0. */
static char *json_raw(const char *p, const char **end)
{
	const char *s = p;
	int depth = 0;

	for (; *p; p++) {
		if (*p == '[' || *p == '{')
			depth++;
		else if ((*p == ']' || *p == '}') && depth)
			depth--;
		else if ((*p == ',' || *p == '}') && !depth)
			break;
	}
	*end = p;
	while (p > s && isspace((unsigned char)p[-1]))
		p--;
	return strndup(s, (size_t)(p - s));
}

static char *read_small(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

size_t rdir_meta_pairs(const char *dir, struct rdir_pair **out)
{
	char path[PATH_MAX], *text;
	const char *p;
	size_t n = 0;

	*out = NULL;
	if (results_pathf(path, sizeof(path), "%s/meta.json", dir) || !(text = read_small(path)))
		return 0;
	p = skip_ws(text);
	if (*p == '{')
		p++;
	for (;;) {
		char *key, *value;

		p = skip_ws(p);
		if (*p != '"')
			break;
		key = json_text(p + 1, &p);
		p = skip_ws(p);
		if (*p == ':')
			p = skip_ws(p + 1);
		value = *p == '"' ? json_text(p + 1, &p) : json_raw(p, &p);
		*out = cli_xrealloc(*out, (n + 1) * sizeof(**out));
		(*out)[n].key = key;
		(*out)[n++].value = value;
		p = skip_ws(p);
		if (*p == ',')
			p++;
	}
	free(text);
	return n;
}

void rdir_pairs_free(struct rdir_pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].key);
		free(p[i].value);
	}
	free(p);
}

void rdir_meta(const char *dir, const char *key, char *buf, size_t len)
{
	struct rdir_pair *p;
	size_t n = rdir_meta_pairs(dir, &p);

	buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(p[i].key, key)) {
			snprintf(buf, len, "%s", p[i].value);
			break;
		}
	rdir_pairs_free(p, n);
}

/* ---- the summaries */

static int summary_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rdir_summary *)a)->workload,
		      ((const struct rdir_summary *)b)->workload);
}

static int add_summary(struct rdir_summary **s, size_t *n, const char *dir, const char *sub,
		       const char *wl)
{
	struct rdir_summary x = { .run_layout = sub != NULL };
	struct stat sb;

	if (results_pathf(x.path, sizeof(x.path), "%s/%s%ssummary.csv", dir, sub ? sub : "",
			  sub ? "/" : "") ||
	    results_pathf(x.histdir, sizeof(x.histdir), "%s/%s%shist", dir, sub ? sub : "",
			  sub ? "/" : "") ||
	    stat(x.path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return 0;
	snprintf(x.workload, sizeof(x.workload), "%s", wl);
	*s = cli_xrealloc(*s, (*n + 1) * sizeof(**s));
	(*s)[(*n)++] = x;
	return 1;
}

size_t rdir_summaries(const char *dir, struct rdir_summary **out)
{
	struct rdir_summary *s = NULL;
	size_t n = 0;
	char wl[128];
	struct dirent *de;
	DIR *d;

	rdir_meta(dir, "workload", wl, sizeof(wl));
	add_summary(&s, &n, dir, NULL, wl[0] ? wl : "summary");
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "cells") ||
		    !strncmp(de->d_name, "plots", 5))
			continue;
		add_summary(&s, &n, dir, de->d_name, de->d_name);
	}
	if (d)
		closedir(d);
	if (n > 1)
		qsort(s, n, sizeof(*s), summary_cmp);
	*out = s;
	return n;
}

int rdir_find_summary(const char *dir, const char *wl, struct rdir_summary *out)
{
	struct rdir_summary *s;
	size_t n = rdir_summaries(dir, &s);
	int rc = -1;

	for (size_t i = 0; i < n && rc; i++)
		if (!strcmp(s[i].workload, wl)) {
			*out = s[i];
			rc = 0;
		}
	free(s);
	return rc;
}

/* ---- rows and filters */

static int same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return 0;
	return !*a && !*b;
}

int rdir_col(const struct csv_table *t, const char *name)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (same_name(t->header[c], name))
			return (int)c;
	return -1;
}

/* A number with an optional K/M/G/T (powers of 1024) suffix. */
static int size_number(const char *s, double *v)
{
	char *end;
	int shift = 0;

	if (!*s)
		return 0;
	*v = strtod(s, &end);
	if (end == s)
		return 0;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'M':
		shift = 20;
		end++;
		break;
	case 'G':
		shift = 30;
		end++;
		break;
	case 'T':
		shift = 40;
		end++;
		break;
	}
	*v = ldexp(*v, shift);
	return !*end && isfinite(*v);
}

int rdir_value_eq(const char *have, const char *want)
{
	double a, b;

	if (!strcmp(have, want))
		return 1;
	return csv_number(have, &a) && size_number(want, &b) && a == b;
}

/* Calls @fn on each term of @filter (col, value, negated); stops and
 * returns the first non-zero it returns. */
static int each_term(const char *filter,
		     int (*fn)(const char *col, const char *value, int neg, void *arg), void *arg)
{
	char buf[1024], *save = NULL;

	if (!filter)
		return 0;
	snprintf(buf, sizeof(buf), "%s", filter);
	for (char *tok = strtok_r(buf, " ;", &save); tok; tok = strtok_r(NULL, " ;", &save)) {
		char *eq = strchr(tok, '=');
		int neg = eq && eq > tok && eq[-1] == '!', rc;

		if (!eq)
			continue;
		*(neg ? eq - 1 : eq) = 0;
		rc = fn(tok, eq + 1, neg, arg);
		if (rc)
			return rc;
	}
	return 0;
}

struct row_ref {
	const struct csv_table *t;
	size_t r;
	char *missing;
	size_t len;
};

static int term_fails(const char *col, const char *value, int neg, void *arg)
{
	struct row_ref *rr = arg;
	int c = rdir_col(rr->t, col);

	if (c < 0)
		return 0;
	return rdir_value_eq(rr->t->rows[rr->r][c], value) == neg;
}

int rdir_row_matches(const struct csv_table *t, size_t r, const char *filter)
{
	struct row_ref rr = { .t = t, .r = r };

	return !each_term(filter, term_fails, &rr);
}

static int term_missing(const char *col, const char *value, int neg, void *arg)
{
	struct row_ref *rr = arg;

	(void)value;
	(void)neg;
	if (rdir_col(rr->t, col) >= 0)
		return 0;
	snprintf(rr->missing, rr->len, "%s", col);
	return -1;
}

int rdir_filter_columns(const struct csv_table *t, const char *filter, char *missing, size_t len)
{
	struct row_ref rr = { .t = t, .missing = missing, .len = len };

	missing[0] = 0;
	return each_term(filter, term_missing, &rr);
}

static int term_fixes(const char *col, const char *value, int neg, void *arg)
{
	(void)value;
	return !neg && same_name(col, arg);
}

int rdir_filter_fixes(const char *filter, const char *col)
{
	return each_term(filter, term_fixes, (void *)col);
}

int rdir_names_cells(const struct csv_table *t, size_t c, char *const *keys, size_t nkeys)
{
	const char *name = t->header[c];

	if (!csv_is_parameter(t, c, keys, nkeys))
		return 0;
	return csv_is_config_key(name, keys, nkeys) || csv_known_parameter(name) ||
	       !strcmp(name, "host");
}

/* ---- values for a person */

void rdir_human_value(const char *col, const char *v, char *out, size_t len)
{
	static const char suffix[] = "KMGT";
	char *end;
	unsigned long long n;
	int k = 0;

	snprintf(out, len, "%s", v);
	if (!strstr(col, "bytes") || !*v)
		return;
	n = strtoull(v, &end, 10);
	if (*end || n == 0)
		return;
	while (k < 4 && n % 1024 == 0) {
		n /= 1024;
		k++;
	}
	if (k)
		snprintf(out, len, "%llu%c", n, suffix[k - 1]);
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && !strcmp(s + n - k, tail);
}

void rdir_fmt_figure(const char *col, double v, char *out, size_t len)
{
	double a = fabs(v);

	if (isnan(v))
		snprintf(out, len, "-");
	else if (ends_with(col, "_ns") || strstr(col, "_ns_"))
		snprintf(out, len,
			 a >= 1e9   ? "%.3g s"
			 : a >= 1e6 ? "%.3g ms"
			 : a >= 1e3 ? "%.3g us"
				    : "%.3g ns",
			 a >= 1e9   ? v / 1e9
			 : a >= 1e6 ? v / 1e6
			 : a >= 1e3 ? v / 1e3
				    : v);
	else if (strstr(col, "per_s"))
		snprintf(out, len,
			 a >= 1e9   ? "%.3g G/s"
			 : a >= 1e6 ? "%.3g M/s"
			 : a >= 1e3 ? "%.3g k/s"
				    : "%.3g /s",
			 a >= 1e9   ? v / 1e9
			 : a >= 1e6 ? v / 1e6
			 : a >= 1e3 ? v / 1e3
				    : v);
	else
		snprintf(out, len, "%.4g", v);
}
