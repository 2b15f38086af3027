/*
 * Claims and their verdicts.  A config may hold sections [claim.<name>],
 * each a measurable claim from a seed thread:
 *
 *   text     = the claim, quoted from the seed
 *   scenario = the config section whose cells measure it
 *   figure   = the summary column, e.g. get_log_ns
 *   a, b     = cell filters, `col=value` terms separated by ';' or spaces
 *              (strategy=xchg;dirty_percent=1; `!=` excludes; 64M matches
 *              67108864); the samples of a (or b) are the figure's values
 *              over every row of the scenario that passes it
 *   where    = (optional) a filter both a and b must also pass
 *   expect   = `b/a <= 0.2`, `a/b > 5`, `a >= 1000000`, `b < 200000`
 *              (operators < <= > >=), or `crossover PARAM`: where the
 *              ratio b/a crosses 1 along the cells' values of PARAM
 *   plot     = the plot that shows it
 *   explain  = why it may not reproduce here (a cost the emulation lacks,
 *              2 CPUs, ...), shown with a verdict other than reproduced
 *
 * The figure is the median of b over the median of a (or the median of
 * one side) with its 95% percentile bootstrap interval (lib/util/stats.h).
 * The verdict is `reproduced` when the whole interval satisfies the
 * expectation, `not reproduced` when none of it does, `inconclusive` when
 * it straddles the threshold (or a side has fewer than 2 samples), `no
 * data` when the results hold no row for it.  A crossover is reproduced
 * when the ratio's medians change sides of 1 between two neighbouring
 * values and the intervals at both are clear of 1 on their sides; not
 * reproduced when every interval is clear of 1 on the same side;
 * inconclusive otherwise.
 */
#ifndef DLBENCH_VERDICT_H
#define DLBENCH_VERDICT_H

#include <stddef.h>

/* clang-format off */
enum verdict_outcome {
	VERDICT_REPRODUCED,
	VERDICT_NOT_REPRODUCED,
	VERDICT_INCONCLUSIVE,
	VERDICT_NO_DATA,
};
/* clang-format on */

struct claim {
	char name[96];
	char *text, *scenario, *figure, *a, *b, *where, *expect, *plot, *explain;
};

struct verdict {
	struct claim c;
	enum verdict_outcome outcome;
	char measured[768]; /* the figure with its interval, or what was found */
	char why[256];	    /* the reason when inconclusive or no data */
};

/* "reproduced", "not reproduced", "inconclusive", "no data". */
const char *verdict_name(enum verdict_outcome o);

/* Checks the claims of config file @path before anything runs: known keys,
 * the required ones (text, scenario, figure, a, expect; b where expect uses
 * it), expect's syntax, a scenario that is a section of the config.
 * Returns the number of claims, or -1 with one line in @err. */
int verdict_check_config(const char *path, char *err, size_t errlen);

/* Evaluates the claims of <@dir>/config.ini on the gathered summaries of
 * @dir.  Returns the number of claims (0: none; *out NULL), or -1 with one
 * line in @err when the config cannot be read or a claim is malformed. */
int verdict_evaluate(const char *dir, struct verdict **out, char *err, size_t errlen);
void verdict_free(struct verdict *v, size_t n);

/* The one line of a verdict: outcome, name, the claim, what was measured
 * and expected, the plot. */
void verdict_line(const struct verdict *v, char *buf, size_t len);

/* What `dlbench run` calls after gathering: evaluates the claims of @dir,
 * prints one line per claim on stdout and writes them to <@dir>/verdict.md
 * (verdict-2.md, ... if one exists; temporary name, renamed when complete).
 * Returns the number of claims (0: none, nothing written), or -1 with one
 * line on stderr. */
int verdict_write(const char *dir);

#endif
