/* Benchmark matrices: see matrix.h. */
#include "bench/run/matrix.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include <sys/stat.h>
#include <unistd.h>

static const char *const runner_keys[] = { "workload", "repetitions", "warmup",
					   "seed",     "timeout",     NULL };

int matrix_is_runner_key(const char *key)
{
	for (int i = 0; runner_keys[i]; i++)
		if (!strcmp(key, runner_keys[i]))
			return 1;
	return 0;
}

uint64_t matrix_max_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (uint64_t)CPU_COUNT(&set);
	return 1;
}

static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* ---- values: lists and ranges */

struct value_list {
	char **v;
	size_t n;
};

static int push_value(struct value_list *l, const char *s, size_t n, char *err, size_t errlen)
{
	if (l->n >= MATRIX_MAX_VALUES) {
		set_err(err, errlen, "more than %d values", MATRIX_MAX_VALUES);
		return -1;
	}
	l->v = cli_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = cli_xstrndup(s, n);
	return 0;
}

static int push_number(struct value_list *l, uint64_t v, int with_suffix, char *err, size_t errlen)
{
	static const char suffix[] = "KMGT";
	char buf[32];
	int s = 0;

	if (with_suffix)
		while (s < 4 && v && (v & 1023) == 0) {
			v >>= 10;
			s++;
		}
	if (s)
		snprintf(buf, sizeof(buf), "%llu%c", (unsigned long long)v, suffix[s - 1]);
	else
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return push_value(l, buf, strlen(buf), err, errlen);
}

/* An integer with an optional K/M/G/T suffix, or `max`.  Returns -1 if
 * @s is neither; *suffixed tells whether it had a suffix. */
static int parse_number(const char *s, uint64_t max_cpus, uint64_t *out, int *suffixed, int *is_max)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	*suffixed = 0;
	*is_max = 0;
	if (!strcmp(s, "max")) {
		*out = max_cpus;
		*is_max = 1;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 0:
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (shift) {
		if (end[1])
			return -1;
		if (v > (UINT64_MAX >> shift))
			return -1;
		*suffixed = 1;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

/* The middle of "START:STEP:END": *F (geometric) or +N / N (arithmetic). */
static int parse_step(const char *item, const char *text, uint64_t start, uint64_t *step,
		      int *multiply, char *err, size_t errlen)
{
	const char *st = text;
	int sfx, mx;

	*multiply = *st == '*';
	if (*st == '*' || *st == '+')
		st++;
	if (parse_number(st, 0, step, &sfx, &mx) || mx) {
		set_err(err, errlen, "bad range '%s': step '%s' is not *FACTOR or +STEP", item,
			text);
		return -1;
	}
	if (*multiply && *step < 2) {
		set_err(err, errlen, "bad range '%s': factor must be at least 2", item);
		return -1;
	}
	if (*multiply && start == 0) {
		set_err(err, errlen, "bad range '%s': a geometric range cannot start at 0", item);
		return -1;
	}
	if (!*multiply && *step == 0) {
		set_err(err, errlen, "bad range '%s': step must be at least 1", item);
		return -1;
	}
	return 0;
}

/* Splits "A:B:C" or "A:C" into @parts (in @buf); the count, or -1. */
static int split_range(const char *item, char *buf, size_t len, char *parts[3])
{
	char *save = NULL, *p;
	int n = 0;

	if (strlen(item) >= len || item[0] == ':' || item[strlen(item) - 1] == ':' ||
	    strstr(item, "::"))
		return -1;
	snprintf(buf, len, "%s", item);
	for (p = strtok_r(buf, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
		if (n == 3)
			return -1;
		parts[n++] = p;
	}
	return n < 2 ? -1 : n;
}

/* One range item "START:STEP:END" or "START:END". */
static int expand_range(struct value_list *l, const char *item, uint64_t max_cpus, char *err,
			size_t errlen)
{
	char buf[128], *parts[3];
	int nparts, sfx_a, sfx_b, max_a, max_b, multiply = 0;
	uint64_t start, end, step = 1;

	nparts = split_range(item, buf, sizeof(buf), parts);
	if (nparts < 0) {
		set_err(err, errlen,
			"bad range '%s' (START:*FACTOR:END, START:+STEP:END or START:END)", item);
		return -1;
	}
	if (parse_number(parts[0], max_cpus, &start, &sfx_a, &max_a) || max_a) {
		set_err(err, errlen, "bad range '%s': start '%s' is not a number (e.g. 4, 64M, 1G)",
			item, parts[0]);
		return -1;
	}
	if (parse_number(parts[nparts - 1], max_cpus, &end, &sfx_b, &max_b)) {
		set_err(err, errlen, "bad range '%s': end '%s' is not a number or 'max'", item,
			parts[nparts - 1]);
		return -1;
	}
	if (nparts == 3 && parse_step(item, parts[1], start, &step, &multiply, err, errlen))
		return -1;
	if (start > end) {
		set_err(err, errlen, "bad range '%s': start %llu is greater than end %llu", item,
			(unsigned long long)start, (unsigned long long)end);
		return -1;
	}
	for (uint64_t v = start;;) {
		if (push_number(l, v, sfx_a || sfx_b, err, errlen))
			return -1;
		if (v == end)
			return 0;
		/* the next step, unless it would pass the end (or overflow) */
		if (multiply ? v > end / step : v > end - step)
			break;
		v = multiply ? v * step : v + step;
	}
	/* `max` closes the progression with the CPU count itself */
	if (max_b)
		return push_number(l, end, sfx_a, err, errlen);
	return 0;
}

int matrix_expand(const char *text, uint64_t max_cpus, char ***values, size_t *nvalues, char *err,
		  size_t errlen)
{
	struct value_list l = { 0 };
	const char *p = text;

	for (;;) {
		const char *start, *stop;
		size_t n;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '"') {
			const char *close = strchr(p + 1, '"');

			if (!close) {
				set_err(err, errlen, "unterminated quote in '%s'", text);
				goto fail;
			}
			if (push_value(&l, p + 1, (size_t)(close - p - 1), err, errlen))
				goto fail;
			p = close + 1;
			while (isspace((unsigned char)*p))
				p++;
			if (*p && *p != ',') {
				set_err(err, errlen, "text after a quoted value in '%s'", text);
				goto fail;
			}
		} else {
			char item[256];

			start = p;
			stop = strchr(p, ',');
			if (!stop)
				stop = p + strlen(p);
			n = (size_t)(stop - start);
			while (n && isspace((unsigned char)start[n - 1]))
				n--;
			if (n == 0) {
				set_err(err, errlen, "empty value in '%s'", text);
				goto fail;
			}
			if (n >= sizeof(item)) {
				set_err(err, errlen, "value too long in '%s'", text);
				goto fail;
			}
			memcpy(item, start, n);
			item[n] = 0;
			/* a range starts with its number: "srcu-swap:wait=normal" is a value */
			if (strchr(item, ':') && isdigit((unsigned char)item[0])) {
				if (expand_range(&l, item, max_cpus, err, errlen))
					goto fail;
			} else if (!strcmp(item, "max")) {
				if (push_number(&l, max_cpus, 0, err, errlen))
					goto fail;
			} else if (push_value(&l, item, n, err, errlen)) {
				goto fail;
			}
			p = stop;
		}
		if (*p != ',')
			break;
		p++;
	}
	*values = l.v;
	*nvalues = l.n;
	return 0;
fail:
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return -1;
}

/* ---- the INI file */

struct section_seen {
	char *name;
	int line;
};

struct load_state {
	struct matrix_config *cfg;
	const char *path;
	FILE *f;
	int line;		   /* line of the text inih is handling now */
	int section_line;	   /* line of the last [section] header read */
	struct section_seen *seen; /* every [section] header so far */
	size_t nseen;
	uint64_t max_cpus;
	/* [global] defaults */
	unsigned repetitions, warmup;
	uint64_t seed;
	double timeout_s;
	int failed;
	char *err;
	size_t errlen;
};

static int load_fail(struct load_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int load_fail(struct load_state *st, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (st->failed)
		return 0; /* the first error is the one reported */
	n = snprintf(st->err, st->errlen, "%s:%d: ", st->path, st->line);
	if (n < 0 || (size_t)n >= st->errlen)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(st->err + n, st->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	st->failed = 1;
	return 0; /* stop inih (ini_stop_on_first_error) */
}

/* A [section] header on line st->line: remember it, and refuse a name
 * seen before (inih would merge the two silently). */
static void note_section(struct load_state *st, const char *text)
{
	const char *p = text + strspn(text, " \t"), *close;
	char *name;

	if (*p != '[' || !(close = strchr(p, ']')))
		return;
	st->section_line = st->line;
	name = cli_xstrndup(p + 1, (size_t)(close - p - 1));
	for (size_t i = 0; i < st->nseen; i++)
		if (!strcmp(st->seen[i].name, name)) {
			load_fail(st, "section [%s] appears twice (lines %d and %d)", name,
				  st->seen[i].line, st->line);
			free(name);
			return;
		}
	st->seen = cli_xrealloc(st->seen, (st->nseen + 1) * sizeof(*st->seen));
	st->seen[st->nseen].name = name;
	st->seen[st->nseen++].line = st->line;
}

/* inih reads line by line through this; counting lines here gives the
 * handler the line number of the key it is handed.  A NUL byte ends the
 * parse with an error: inih would drop the rest of its line silently. */
static char *counting_reader(char *str, int num, void *stream)
{
	struct load_state *st = stream;
	int n = 0, c = EOF;

	if (st->failed)
		return NULL;
	while (n < num - 1 && (c = getc(st->f)) != EOF) {
		if (c == 0) {
			st->line++;
			load_fail(st, "a NUL byte in the line (a config is text)");
			return NULL;
		}
		str[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (n == 0)
		return NULL;
	str[n] = 0;
	if (c == '\n' || c == EOF || feof(st->f)) {
		st->line++;
		note_section(st, str);
	}
	return st->failed ? NULL : str;
}

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return 0;
	return 1;
}

/* repetitions, warmup or seed: a non-negative integer; 0 or -1. */
static int runner_int(struct load_state *st, const char *key, const char *value,
		      unsigned long long *v)
{
	char *end;

	errno = 0;
	if (isdigit((unsigned char)*value)) {
		*v = strtoull(value, &end, !strcmp(key, "seed") ? 0 : 10);
		if (!errno && !*end && (!strcmp(key, "seed") || *v <= 100000))
			return 0;
	}
	load_fail(st, "%s = '%s' is not a non-negative integer (a runner key takes one value)", key,
		  value);
	return -1;
}

static int runner_timeout(struct load_state *st, const char *value, double *timeout)
{
	char *end;
	double v, mult = 0;

	errno = 0;
	v = strtod(value, &end);
	if (end != value && !errno) {
		if (!*end || !strcmp(end, "s"))
			mult = 1;
		else if (!strcmp(end, "m"))
			mult = 60;
		else if (!strcmp(end, "h"))
			mult = 3600;
	}
	if (mult == 0 || !(v > 0) || v * mult > 7 * 86400.0) {
		load_fail(st, "timeout = '%s' is not a duration (e.g. 90, 90s, 10m, 1h)", value);
		return -1;
	}
	*timeout = v * mult;
	return 0;
}

/* Runner key @key = @value into the fields; 0 or -1 after load_fail. */
static int runner_key(struct load_state *st, const char *key, const char *value, unsigned *reps,
		      unsigned *warm, uint64_t *seed, double *timeout)
{
	unsigned long long v;

	if (!strcmp(key, "timeout"))
		return runner_timeout(st, value, timeout);
	if (runner_int(st, key, value, &v))
		return -1;
	if (!strcmp(key, "repetitions")) {
		if (v < 1) {
			load_fail(st, "repetitions must be at least 1");
			return -1;
		}
		*reps = (unsigned)v;
	} else if (!strcmp(key, "warmup")) {
		*warm = (unsigned)v;
	} else {
		*seed = v;
	}
	return 0;
}

static int global_key(struct load_state *st, const char *key, const char *value)
{
	if (!matrix_is_runner_key(key) || !strcmp(key, "workload"))
		return load_fail(
			st, "unknown key '%s' in [global] (repetitions, warmup, seed, timeout)",
			key);
	if (st->cfg->nscenarios)
		return load_fail(st, "[global] must come before the scenarios");
	runner_key(st, key, value, &st->repetitions, &st->warmup, &st->seed, &st->timeout_s);
	return !st->failed;
}

/* A key of a claim.NAME section: stored as it is. */
static int claim_key(struct load_state *st, const char *section, const char *key, const char *value)
{
	struct matrix_config *cfg = st->cfg;
	struct matrix_claim *c = cfg->nclaims ? &cfg->claims[cfg->nclaims - 1] : NULL;

	if (!c || strcmp(c->name, section)) {
		cfg->claims = cli_xrealloc(cfg->claims, (cfg->nclaims + 1) * sizeof(*cfg->claims));
		c = &cfg->claims[cfg->nclaims++];
		memset(c, 0, sizeof(*c));
		c->name = cli_xstrndup(section, strlen(section));
		c->line = st->section_line;
	}
	if (matrix_claim_get(c, key, NULL))
		return load_fail(st, "key '%s' given twice in [%s]", key, section);
	c->items = cli_xrealloc(c->items, (c->nitems + 1) * sizeof(*c->items));
	c->items[c->nitems].key = cli_xstrndup(key, strlen(key));
	c->items[c->nitems].value = cli_xstrndup(value, strlen(value));
	c->items[c->nitems++].line = st->line;
	return 1;
}

/* The scenario of section @name: the last one, or a new one. */
static struct matrix_scenario *scenario_of(struct load_state *st, const char *name)
{
	struct matrix_config *cfg = st->cfg;
	struct matrix_scenario *s;

	if (cfg->nscenarios && !strcmp(cfg->scenarios[cfg->nscenarios - 1].name, name))
		return &cfg->scenarios[cfg->nscenarios - 1];
	cfg->scenarios = cli_xrealloc(cfg->scenarios, (cfg->nscenarios + 1) * sizeof(*cfg->scenarios));
	s = &cfg->scenarios[cfg->nscenarios++];
	memset(s, 0, sizeof(*s));
	s->name = cli_xstrndup(name, strlen(name));
	s->line = st->section_line;
	s->repetitions = st->repetitions;
	s->warmup = st->warmup;
	s->seed = st->seed;
	s->timeout_s = st->timeout_s;
	return s;
}

static int workload_key(struct load_state *st, struct matrix_scenario *s, const char *value)
{
	if (s->workload)
		return load_fail(st, "workload given twice in [%s]", s->name);
	if (!valid_name(value))
		return load_fail(st, "workload '%s' is not a workload name", value);
	s->workload = cli_xstrndup(value, strlen(value));
	s->workload_line = st->line;
	return 1;
}

static int scenario_key(struct load_state *st, const char *section, const char *key,
			const char *value)
{
	struct matrix_scenario *s = scenario_of(st, section);
	struct matrix_param *p;
	char reason[MATRIX_ERR_LEN];

	if (!strcmp(key, "workload"))
		return workload_key(st, s, value);
	if (matrix_is_runner_key(key)) {
		runner_key(st, key, value, &s->repetitions, &s->warmup, &s->seed, &s->timeout_s);
		return !st->failed;
	}
	if (!valid_name(key) || key[0] == '-')
		return load_fail(st, "key '%s' is not an option name", key);
	for (size_t i = 0; i < s->nparams; i++)
		if (!strcmp(s->params[i].key, key))
			return load_fail(st, "key '%s' given twice in [%s]", key, section);
	if (!strcmp(key, "out"))
		return load_fail(st, "key 'out' is the runner's: every cell gets its own --out");
	s->params = cli_xrealloc(s->params, (s->nparams + 1) * sizeof(*s->params));
	p = &s->params[s->nparams];
	memset(p, 0, sizeof(*p));
	if (matrix_expand(value, st->max_cpus, &p->values, &p->nvalues, reason, sizeof(reason)))
		return load_fail(st, "%s: %s", key, reason);
	p->key = cli_xstrndup(key, strlen(key));
	p->line = st->line;
	s->nparams++;
	return 1;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct load_state *st = user;

	if (st->failed)
		return 0;
	if (!*section)
		return load_fail(st, "key '%s' outside any [section]", key);
	if (!*key)
		return load_fail(st, "empty key in [%s]", section);
	if (!strcmp(section, "global"))
		return global_key(st, key, value);
	if (!valid_name(section))
		return load_fail(st, "%s name '%s' may hold only letters, digits, '_', '.', '-'",
				 strncmp(section, "claim.", 6) ? "scenario" : "claim", section);
	if (!strncmp(section, "claim.", 6))
		return claim_key(st, section, key, value);
	return scenario_key(st, section, key, value);
}

static struct matrix_scenario *find_scenario(struct matrix_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nscenarios; i++)
		if (!strcmp(cfg->scenarios[i].name, name))
			return &cfg->scenarios[i];
	return NULL;
}

/* After the parse: every scenario names its workload, every claim's
 * scenario exists. */
static void check_loaded(struct load_state *st)
{
	struct matrix_config *cfg = st->cfg;
	const char *name;

	for (size_t i = 0; i < cfg->nscenarios && !st->failed; i++)
		if (!cfg->scenarios[i].workload) {
			st->line = cfg->scenarios[i].line;
			load_fail(st, "scenario [%s] has no 'workload = NAME'",
				  cfg->scenarios[i].name);
		}
	for (size_t i = 0; i < cfg->nclaims && !st->failed; i++) {
		name = matrix_claim_get(&cfg->claims[i], "scenario", &st->line);
		if (name && !find_scenario(cfg, name))
			load_fail(st, "[%s]: scenario '%s' is not a scenario of this config",
				  cfg->claims[i].name, name);
	}
	if (!st->failed && cfg->nscenarios == 0) {
		st->line = 1;
		load_fail(st, "no scenario (a [section] with 'workload = NAME')");
	}
}

/* Opens @path for reading if it is a regular file (not a FIFO, a device
 * or a directory, which would hang or make no sense). */
static FILE *open_config(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat sb;
	FILE *f;

	if (fd < 0) {
		set_err(err, errlen, "%s:0: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		set_err(err, errlen, "%s:0: not a regular file (a config is an INI file)", path);
		close(fd);
		return NULL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	f = fdopen(fd, "r");
	if (!f) {
		set_err(err, errlen, "%s:0: cannot read: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int matrix_load(struct matrix_config *cfg, const char *path, uint64_t max_cpus, char *err,
		size_t errlen)
{
	struct load_state st = {
		.cfg = cfg,
		.path = path,
		.max_cpus = max_cpus,
		.repetitions = 1,
		.warmup = 0,
		.seed = 1,
		.timeout_s = 300,
		.err = err,
		.errlen = errlen,
	};
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	st.f = open_config(path, err, errlen);
	if (!st.f)
		return -1;
	/* one key per line: a continuation line would hide its line number */
	ini_allow_multiline = false;
	ini_stop_on_first_error = true;
	rc = ini_parse_stream(counting_reader, &st, handler, &st);
	fclose(st.f);
	if (!st.failed && rc > 0) {
		st.line = rc;
		load_fail(&st,
			  "not a 'key = value' line, a [section] or a comment (or longer than %d "
			  "characters)",
			  ini_max_line - 3);
	} else if (!st.failed && rc < 0) {
		load_fail(&st, "cannot parse (out of memory)");
	}
	if (!st.failed)
		check_loaded(&st);
	for (size_t i = 0; i < st.nseen; i++)
		free(st.seen[i].name);
	free(st.seen);
	if (st.failed) {
		matrix_free(cfg);
		return -1;
	}
	cfg->path = cli_xstrndup(path, strlen(path));
	return 0;
}

void matrix_free(struct matrix_config *cfg)
{
	for (size_t i = 0; i < cfg->nscenarios; i++) {
		struct matrix_scenario *s = &cfg->scenarios[i];

		for (size_t j = 0; j < s->nparams; j++) {
			for (size_t k = 0; k < s->params[j].nvalues; k++)
				free(s->params[j].values[k]);
			free(s->params[j].values);
			free(s->params[j].key);
		}
		free(s->params);
		free(s->name);
		free(s->workload);
	}
	for (size_t i = 0; i < cfg->nclaims; i++) {
		for (size_t j = 0; j < cfg->claims[i].nitems; j++) {
			free(cfg->claims[i].items[j].key);
			free(cfg->claims[i].items[j].value);
		}
		free(cfg->claims[i].items);
		free(cfg->claims[i].name);
	}
	free(cfg->claims);
	free(cfg->scenarios);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

const char *matrix_claim_get(const struct matrix_claim *c, const char *key, int *line)
{
	for (size_t i = 0; i < c->nitems; i++)
		if (!strcmp(c->items[i].key, key)) {
			if (line)
				*line = c->items[i].line;
			return c->items[i].value;
		}
	return NULL;
}

size_t matrix_cells(const struct matrix_scenario *s)
{
	size_t n = 1;

	for (size_t i = 0; i < s->nparams; i++) {
		if (s->params[i].nvalues && n > SIZE_MAX / s->params[i].nvalues)
			return SIZE_MAX;
		n *= s->params[i].nvalues;
	}
	return n;
}

size_t matrix_scenario_runs(const struct matrix_scenario *s)
{
	size_t cells = matrix_cells(s), per = (size_t)s->warmup + s->repetitions;

	if (cells == SIZE_MAX || cells > SIZE_MAX / per)
		return SIZE_MAX;
	return cells * per;
}

size_t matrix_runs(const struct matrix_config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->nscenarios; i++) {
		size_t k = matrix_scenario_runs(&cfg->scenarios[i]);

		if (k == SIZE_MAX || n > SIZE_MAX - k)
			return SIZE_MAX;
		n += k;
	}
	return n;
}

void matrix_cell_values(const struct matrix_scenario *s, size_t cell, const char **values)
{
	for (size_t i = s->nparams; i-- > 0;) {
		const struct matrix_param *p = &s->params[i];

		values[i] = p->values[cell % p->nvalues];
		cell /= p->nvalues;
	}
}
