/* Claims and their verdicts: see verdict.h. */
#include "bench/report/verdict.h"

#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include <sys/stat.h>
#include <unistd.h>

#include "bench/report/csvtable.h"
#include "bench/report/rdir.h"
#include "bench/report/results.h"
#include "lib/util/stats.h"

#define RESAMPLES 2000

const char *verdict_name(enum verdict_outcome o)
{
	switch (o) {
	case VERDICT_REPRODUCED:
		return "reproduced";
	case VERDICT_NOT_REPRODUCED:
		return "not reproduced";
	case VERDICT_INCONCLUSIVE:
		return "inconclusive";
	default:
		return "no data";
	}
}

/* ---- the config: claims, and the workload of every scenario */

struct config {
	const char *path;
	struct claim *c;
	size_t n;
	struct {
		char *name, *workload;
	} * sec;
	size_t nsec;
	char err[512];
};

static const char *const claim_keys[] = {
	"text", "scenario", "figure", "a", "b", "where", "expect", "plot", "explain", NULL,
};

/* The field of claim @c that key @k sets. */
static char **claim_field(struct claim *c, int k)
{
	char **fields[] = { &c->text,  &c->scenario, &c->figure, &c->a,	     &c->b,
			    &c->where, &c->expect,   &c->plot,	 &c->explain };

	return fields[k];
}

/* A value less the double quotes around it. */
static char *unquote(const char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		return strndup(v + 1, n - 2);
	return strdup(v);
}

static struct claim *claim_get(struct config *cf, const char *name)
{
	for (size_t i = 0; i < cf->n; i++)
		if (!strcmp(cf->c[i].name, name))
			return &cf->c[i];
	cf->c = cli_xrealloc(cf->c, (cf->n + 1) * sizeof(*cf->c));
	memset(&cf->c[cf->n], 0, sizeof(*cf->c));
	snprintf(cf->c[cf->n].name, sizeof(cf->c[cf->n].name), "%s", name);
	return &cf->c[cf->n++];
}

static void section_set(struct config *cf, const char *section, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < cf->nsec && strcmp(cf->sec[i].name, section); i++)
		;
	if (i == cf->nsec) {
		cf->sec = cli_xrealloc(cf->sec, (cf->nsec + 1) * sizeof(*cf->sec));
		cf->sec[i].name = strdup(section);
		cf->sec[i].workload = NULL;
		cf->nsec++;
	}
	if (!strcmp(name, "workload")) {
		free(cf->sec[i].workload);
		cf->sec[i].workload = unquote(value);
	}
}

static int claims_ini_handler(void *user, const char *section, const char *name, const char *value)
{
	struct config *cf = user;
	struct claim *c;
	int k;

	if (strncmp(section, "claim.", 6)) {
		if (strcmp(section, "global"))
			section_set(cf, section, name, value);
		return 1;
	}
	c = claim_get(cf, section + 6);
	for (k = 0; claim_keys[k] && strcmp(claim_keys[k], name); k++)
		;
	if (!claim_keys[k]) {
		if (!cf->err[0])
			snprintf(cf->err, sizeof(cf->err),
				 "%s: [%s]: unknown key '%s' (a claim has text, scenario, figure, "
				 "a, b, where, expect, plot, explain)",
				 cf->path, section, name);
		return 1;
	}
	free(*claim_field(c, k));
	*claim_field(c, k) = unquote(value);
	return 1;
}

static void claim_free(struct claim *c)
{
	for (int k = 0; claim_keys[k]; k++)
		free(*claim_field(c, k));
}

static void config_free(struct config *cf)
{
	for (size_t i = 0; i < cf->n; i++)
		claim_free(&cf->c[i]);
	free(cf->c);
	for (size_t i = 0; i < cf->nsec; i++) {
		free(cf->sec[i].name);
		free(cf->sec[i].workload);
	}
	free(cf->sec);
}

static const char *workload_of(const struct config *cf, const char *scenario)
{
	for (size_t i = 0; i < cf->nsec; i++)
		if (!strcmp(cf->sec[i].name, scenario))
			return cf->sec[i].workload;
	return NULL;
}

/* ---- expect */

/* clang-format off */
enum lhs {
	LHS_A,
	LHS_B,
	LHS_B_OVER_A,
	LHS_A_OVER_B,
	LHS_CROSSOVER
};
/* clang-format on */
/* clang-format off */
enum op {
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE
};
/* clang-format on */

struct expect {
	enum lhs lhs;
	enum op op;
	double thr;
	char param[96];
};

static int expect_parse(const char *s, struct expect *e, char *err, size_t len)
{
	static const char *const lhs[] = { "b/a", "a/b", "a", "b" };
	static const enum lhs lhs_v[] = { LHS_B_OVER_A, LHS_A_OVER_B, LHS_A, LHS_B };
	const char *text = s;
	char *end;
	int i;

	memset(e, 0, sizeof(*e));
	while (*s == ' ')
		s++;
	if (sscanf(s, "crossover %95s", e->param) == 1) {
		e->lhs = LHS_CROSSOVER;
		return 0;
	}
	for (i = 0; i < 4 && strncmp(s, lhs[i], strlen(lhs[i])); i++)
		;
	if (i == 4)
		goto bad;
	e->lhs = lhs_v[i];
	s += strlen(lhs[i]);
	while (*s == ' ')
		s++;
	if (*s != '<' && *s != '>')
		goto bad;
	if (s[1] == '=')
		e->op = *s == '<' ? OP_LE : OP_GE;
	else
		e->op = *s == '<' ? OP_LT : OP_GT;
	s += s[1] == '=' ? 2 : 1;
	e->thr = strtod(s, &end);
	while (*end == ' ')
		end++;
	if (end == s || *end || !isfinite(e->thr))
		goto bad;
	return 0;
bad:
	snprintf(err, len,
		 "expect = %s: not `b/a <= X`, `a/b > X`, `a >= X`, `b < X` or `crossover PARAM`",
		 text);
	return -1;
}

/* A claim's keys: the required ones, expect's syntax, its scenario. */
static int claim_check(const struct config *cf, const struct claim *c, char *err, size_t len)
{
	struct expect e;
	char why[256];
	const char *missing = !c->text	     ? "text"
			      : !c->scenario ? "scenario"
			      : !c->figure   ? "figure"
			      : !c->a	     ? "a"
			      : !c->expect   ? "expect"
					     : NULL;

	if (missing) {
		snprintf(err, len, "%s: [claim.%s]: no %s", cf->path, c->name, missing);
		return -1;
	}
	if (expect_parse(c->expect, &e, why, sizeof(why))) {
		snprintf(err, len, "%s: [claim.%s]: %s", cf->path, c->name, why);
		return -1;
	}
	if (!c->b && e.lhs != LHS_A) {
		snprintf(err, len, "%s: [claim.%s]: expect = %s needs b", cf->path, c->name,
			 c->expect);
		return -1;
	}
	if (!workload_of(cf, c->scenario)) {
		snprintf(err, len,
			 "%s: [claim.%s]: scenario = %s: no such scenario with a workload in the "
			 "config",
			 cf->path, c->name, c->scenario);
		return -1;
	}
	return 0;
}

static int config_read(struct config *cf, const char *path, char *err, size_t len)
{
	struct stat sb;
	int rc;

	memset(cf, 0, sizeof(*cf));
	cf->path = path;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, len, "%s: cannot read the config", path);
		return -1;
	}
	rc = ini_parse(path, claims_ini_handler, cf);
	if (rc) {
		snprintf(err, len, "%s:%d: cannot parse the config", path, rc);
		config_free(cf);
		return -1;
	}
	if (cf->err[0]) {
		snprintf(err, len, "%s", cf->err);
		config_free(cf);
		return -1;
	}
	for (size_t i = 0; i < cf->n; i++)
		if (claim_check(cf, &cf->c[i], err, len)) {
			config_free(cf);
			return -1;
		}
	return 0;
}

int verdict_check_config(const char *path, char *err, size_t errlen)
{
	struct config cf;
	int n;

	if (config_read(&cf, path, err, errlen))
		return -1;
	n = (int)cf.n;
	config_free(&cf);
	return n;
}

/* ---- samples */

struct side {
	double *v;
	size_t n;
	double *param; /* crossover: each sample's value of the parameter */
};

static void side_free(struct side *s)
{
	free(s->v);
	free(s->param);
	memset(s, 0, sizeof(*s));
}

/* The samples of @figure over the rows of @scenario that pass @filter and
 * @where (and have a number in @pc, the crossover parameter, if >= 0). */
static void samples(const struct csv_table *t, const char *scenario, const char *filter,
		    const char *where, int yc, int pc, struct side *s)
{
	int sc = csv_table_col(t, "scenario");

	memset(s, 0, sizeof(*s));
	for (size_t r = 0; r < t->nrows; r++) {
		double v, p = 0;

		if ((sc >= 0 && strcmp(t->rows[r][sc], scenario)) ||
		    !rdir_row_matches(t, r, filter) || !rdir_row_matches(t, r, where) ||
		    !csv_number(t->rows[r][yc], &v) || (pc >= 0 && !csv_number(t->rows[r][pc], &p)))
			continue;
		s->v = cli_xrealloc(s->v, (s->n + 1) * sizeof(double));
		s->param = cli_xrealloc(s->param, (s->n + 1) * sizeof(double));
		s->v[s->n] = v;
		s->param[s->n++] = p;
	}
}

static double median_of(const double *v, size_t n)
{
	double *tmp = malloc((n + 1) * sizeof(double)), m;

	memcpy(tmp, v, n * sizeof(double));
	m = stats_median(tmp, n);
	free(tmp);
	return m;
}

/* "[lo, hi]" of a ratio, or "[no interval]". */
static void interval(char *buf, size_t len, double lo, double hi)
{
	if (isnan(lo) || isnan(hi))
		snprintf(buf, len, "[no interval]");
	else
		snprintf(buf, len, "[%.3g, %.3g]", lo, hi);
}

/* ---- deciding */

static enum verdict_outcome decide(double lo, double hi, enum op op, double thr)
{
	int all, none;

	switch (op) {
	case OP_LT:
		all = hi < thr;
		none = lo >= thr;
		break;
	case OP_LE:
		all = hi <= thr;
		none = lo > thr;
		break;
	case OP_GT:
		all = lo > thr;
		none = hi <= thr;
		break;
	default:
		all = lo >= thr;
		none = hi < thr;
		break;
	}
	return all ? VERDICT_REPRODUCED : none ? VERDICT_NOT_REPRODUCED : VERDICT_INCONCLUSIVE;
}

/* `a OP X`, `b OP X`, `b/a OP X`, `a/b OP X`. */
static void eval_threshold(struct verdict *v, const struct expect *e, const struct side *a,
			   const struct side *b)
{
	const struct side *one = e->lhs == LHS_A ? a : b;
	const struct side *num = e->lhs == LHS_A_OVER_B ? a : b,
			  *den = e->lhs == LHS_A_OVER_B ? b : a;
	const char *name = e->lhs == LHS_A	    ? "a"
			   : e->lhs == LHS_B	    ? "b"
			   : e->lhs == LHS_B_OVER_A ? "b/a"
						    : "a/b";
	char m[48], l[48], h[48];
	double med, lo = NAN, hi = NAN;
	int noci;

	if (e->lhs == LHS_A || e->lhs == LHS_B) {
		med = median_of(one->v, one->n);
		noci = stats_median_ci(one->v, one->n, RESAMPLES, 1, &lo, &hi) != 0;
		rdir_fmt_figure(v->c.figure, med, m, sizeof(m));
		rdir_fmt_figure(v->c.figure, lo, l, sizeof(l));
		rdir_fmt_figure(v->c.figure, hi, h, sizeof(h));
		if (noci)
			snprintf(v->measured, sizeof(v->measured),
				 "%s = %s [no interval] (n = %zu)", name, m, one->n);
		else
			snprintf(v->measured, sizeof(v->measured), "%s = %s [%s, %s] (n = %zu)",
				 name, m, l, h, one->n);
	} else {
		double md = median_of(den->v, den->n);

		med = md != 0 ? median_of(num->v, num->n) / md : NAN;
		noci = den->n < 2 || num->n < 2 ||
		       stats_ratio_ci(den->v, den->n, num->v, num->n, RESAMPLES, 1, &lo, &hi) != 0;
		interval(l, sizeof(l), noci ? NAN : lo, noci ? NAN : hi);
		snprintf(v->measured, sizeof(v->measured), "%s = %.3g %s (n = %zu, %zu)", name, med,
			 l, a->n, b->n);
	}
	if (noci || isnan(med)) {
		v->outcome = VERDICT_INCONCLUSIVE;
		snprintf(v->why, sizeof(v->why), "no interval: fewer than 2 samples on a side%s",
			 isnan(med) ? ", or a zero median below the ratio" : "");
		return;
	}
	v->outcome = decide(lo, hi, e->op, e->thr);
	if (v->outcome == VERDICT_INCONCLUSIVE)
		snprintf(v->why, sizeof(v->why), "the interval straddles %g", e->thr);
}

struct xpoint {
	double at, r, lo, hi;
	int side; /* +1: interval above 1, -1: below, 0: straddles */
};

/* The ratio b/a at each value of the parameter both sides have. */
static size_t crossover_points(const struct side *a, const struct side *b, struct xpoint *pt)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++) {
		double at = a->param[i], *va = malloc(a->n * sizeof(double)),
		       *vb = malloc((b->n + 1) * sizeof(double));
		size_t na = 0, nb = 0, k;

		for (k = 0; k < n && pt[k].at != at; k++)
			;
		for (size_t j = 0; k == n && j < a->n; j++)
			if (a->param[j] == at)
				va[na++] = a->v[j];
		for (size_t j = 0; k == n && j < b->n; j++)
			if (b->param[j] == at)
				vb[nb++] = b->v[j];
		if (k == n && nb) {
			double ma = median_of(va, na);
			struct xpoint *p = &pt[n++];

			p->at = at;
			p->r = ma != 0 ? median_of(vb, nb) / ma : NAN;
			if (na < 2 || nb < 2 ||
			    stats_ratio_ci(va, na, vb, nb, RESAMPLES, 1, &p->lo, &p->hi))
				p->lo = p->hi = NAN;
			p->side = p->lo > 1 ? 1 : p->hi < 1 ? -1 : 0;
		}
		free(va);
		free(vb);
	}
	for (size_t i = 0; i < n; i++) /* along the parameter */
		for (size_t j = i + 1; j < n; j++)
			if (pt[j].at < pt[i].at) {
				struct xpoint t = pt[i];

				pt[i] = pt[j];
				pt[j] = t;
			}
	return n;
}

static void eval_crossover(struct verdict *v, const struct expect *e, const struct side *a,
			   const struct side *b)
{
	struct xpoint *pt = calloc(a->n + 1, sizeof(*pt));
	size_t n = crossover_points(a, b, pt), used, cross = SIZE_MAX, sides = 0, i;

	used = (size_t)snprintf(v->measured, sizeof(v->measured), "b/a by %s:", e->param);
	for (i = 0; i < n && used < sizeof(v->measured); i++) {
		char ci[64];

		interval(ci, sizeof(ci), pt[i].lo, pt[i].hi);
		used += (size_t)snprintf(v->measured + used, sizeof(v->measured) - used,
					 " %g: %.3g %s;", pt[i].at, pt[i].r, ci);
	}
	for (i = 0; i + 1 < n && cross == SIZE_MAX; i++)
		if ((pt[i].r < 1) != (pt[i + 1].r < 1))
			cross = i;
	for (i = 0; i < n; i++)
		sides |= pt[i].side > 0 ? 1 : pt[i].side < 0 ? 2 : 4;
	if (n < 2) {
		v->outcome = VERDICT_NO_DATA;
		snprintf(v->why, sizeof(v->why),
			 "fewer than 2 values of %s where both a and b have rows", e->param);
	} else if (cross != SIZE_MAX) {
		const struct xpoint *p = &pt[cross], *q = &pt[cross + 1];
		double at = p->at + (1 - p->r) * (q->at - p->at) / (q->r - p->r);

		if (used < sizeof(v->measured))
			snprintf(v->measured + used, sizeof(v->measured) - used,
				 " crosses 1 between %g and %g, at %s ~ %.3g", p->at, q->at,
				 e->param, at);
		v->outcome = p->side && q->side && p->side != q->side ? VERDICT_REPRODUCED
								      : VERDICT_INCONCLUSIVE;
		if (v->outcome == VERDICT_INCONCLUSIVE)
			snprintf(v->why, sizeof(v->why),
				 "the medians cross 1, but an interval beside the crossing "
				 "straddles 1");
	} else {
		if (used < sizeof(v->measured))
			snprintf(v->measured + used, sizeof(v->measured) - used,
				 " no crossover, b/a stays %s 1", pt[0].r < 1 ? "below" : "above");
		v->outcome =
			sides == 1 || sides == 2 ? VERDICT_NOT_REPRODUCED : VERDICT_INCONCLUSIVE;
		if (v->outcome == VERDICT_INCONCLUSIVE)
			snprintf(v->why, sizeof(v->why),
				 "no crossover in the medians, but an interval straddles 1");
	}
	free(pt);
}

/* ---- one claim */

static void evaluate(struct verdict *v, const struct config *cf, const char *dir)
{
	const struct claim *c = &v->c;
	const char *wl = workload_of(cf, c->scenario);
	struct rdir_summary where;
	struct csv_table t;
	struct expect e;
	struct side a, b;
	char missing[96], why[256];
	int yc, pc = -1;

	v->outcome = VERDICT_NO_DATA;
	expect_parse(c->expect, &e, why, sizeof(why)); /* checked by config_read */
	if (rdir_find_summary(dir, wl, &where) || csv_table_read(&t, where.path)) {
		snprintf(v->why, sizeof(v->why), "no %s results (%s/summary.csv)", wl, wl);
		return;
	}
	yc = csv_table_col(&t, c->figure);
	if (e.lhs == LHS_CROSSOVER)
		pc = rdir_col(&t, e.param);
	if (yc < 0 || (e.lhs == LHS_CROSSOVER && pc < 0) ||
	    rdir_filter_columns(&t, c->a, missing, sizeof(missing)) ||
	    rdir_filter_columns(&t, c->b, missing, sizeof(missing)) ||
	    rdir_filter_columns(&t, c->where, missing, sizeof(missing))) {
		snprintf(v->why, sizeof(v->why), "%s/summary.csv has no column %s", wl,
			 yc < 0				    ? c->figure
			 : pc < 0 && e.lhs == LHS_CROSSOVER ? e.param
							    : missing);
		csv_table_free(&t);
		return;
	}
	samples(&t, c->scenario, c->a, c->where, yc, pc, &a);
	samples(&t, c->scenario, c->b, c->where, yc, pc, &b);
	csv_table_free(&t);
	if (!a.n || (e.lhs != LHS_A && !b.n))
		snprintf(v->why, sizeof(v->why), "%s matches no row of scenario %s with a %s",
			 !a.n ? "a" : "b", c->scenario, c->figure);
	else if (e.lhs == LHS_CROSSOVER)
		eval_crossover(v, &e, &a, &b);
	else
		eval_threshold(v, &e, &a, &b);
	side_free(&a);
	side_free(&b);
}

int verdict_evaluate(const char *dir, struct verdict **out, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct config cf;
	int n;

	*out = NULL;
	if (results_pathf(path, sizeof(path), "%s/config.ini", dir)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (access(path, F_OK) != 0)
		return 0; /* one workload's directory: no config, no claims */
	if (config_read(&cf, path, err, errlen))
		return -1;
	n = (int)cf.n;
	if (n) {
		*out = calloc((size_t)n, sizeof(**out));
		for (int i = 0; i < n; i++) {
			(*out)[i].c = cf.c[i]; /* the verdict owns the claim's strings */
			evaluate(&(*out)[i], &cf, dir);
		}
		cf.n = 0;
	}
	config_free(&cf);
	return n;
}

void verdict_free(struct verdict *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		claim_free(&v[i].c);
	free(v);
}

void verdict_line(const struct verdict *v, char *buf, size_t len)
{
	struct expect e;
	char why[256], expected[160] = "", reason[300] = "";

	if (!expect_parse(v->c.expect, &e, why, sizeof(why)) && e.lhs != LHS_CROSSOVER)
		snprintf(expected, sizeof(expected), "; expected %s", v->c.expect);
	if (v->outcome == VERDICT_INCONCLUSIVE && v->why[0])
		snprintf(reason, sizeof(reason), " (%s)", v->why);
	if (v->outcome == VERDICT_NO_DATA)
		snprintf(buf, len, "%s: %s: \"%s\" -- %s; plot: %s", verdict_name(v->outcome),
			 v->c.name, v->c.text, v->why, v->c.plot ? v->c.plot : "-");
	else
		snprintf(buf, len, "%s: %s: \"%s\" -- measured %s%s%s; plot: %s",
			 verdict_name(v->outcome), v->c.name, v->c.text, v->measured, expected,
			 reason, v->c.plot ? v->c.plot : "-");
}

/* verdict.md: the same lines, and why a claim may not reproduce here. */
static int write_md(const char *dir, const struct verdict *v, size_t n)
{
	struct results_file rf;
	char name[32], line[2048], path[PATH_MAX];

	for (int k = 1;; k++) {
		snprintf(name, sizeof(name), k == 1 ? "verdict.md" : "verdict-%d.md", k);
		if (results_pathf(path, sizeof(path), "%s/%s", dir, name) ||
		    access(path, F_OK) != 0)
			break;
	}
	if (results_file_open(&rf, dir, name))
		return -1;
	fprintf(rf.f,
		"# Claims and verdicts\n\nEach figure is a median over the samples (rows) "
		"that a claim's filters select, with its 95%% percentile-bootstrap interval; a "
		"verdict is inconclusive when the interval straddles the threshold. The plots are "
		"in plots/ and in report.html.\n\n");
	for (size_t i = 0; i < n; i++) {
		verdict_line(&v[i], line, sizeof(line));
		fprintf(rf.f, "- %s\n", line);
		if (v[i].outcome != VERDICT_REPRODUCED && v[i].c.explain)
			fprintf(rf.f, "  - why it may not reproduce here: %s\n", v[i].c.explain);
	}
	return results_file_commit(&rf);
}

int verdict_write(const char *dir)
{
	struct verdict *v;
	char err[512], line[2048];
	int n = verdict_evaluate(dir, &v, err, sizeof(err)), rc;

	if (n < 0) {
		fprintf(stderr, "dlbench: %s\n", err);
		return -1;
	}
	if (n == 0)
		return 0;
	printf("claims (%d):\n", n);
	for (int i = 0; i < n; i++) {
		verdict_line(&v[i], line, sizeof(line));
		printf("  %s\n", line);
	}
	fflush(stdout);
	rc = write_md(dir, v, (size_t)n) ? -1 : n;
	verdict_free(v, (size_t)n);
	return rc;
}
