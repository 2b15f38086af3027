/*
 * Unit tests of the config model (bench/run/matrix.h): value expansion (lists,
 * ranges, sizes, `max`), the cartesian product, and the one-line
 * `FILE:LINE: what` errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/run/matrix.h"

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			failures++;                                          \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

/* Expands @text and compares with the space-separated @want. */
static void expect_values(const char *text, uint64_t max, const char *want)
{
	char **v = NULL, err[MATRIX_ERR_LEN], got[4096] = "";
	size_t n = 0;

	if (matrix_expand(text, max, &v, &n, err, sizeof(err))) {
		CHECK(0, "'%s': unexpected error: %s", text, err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(got, " ");
		strncat(got, v[i], sizeof(got) - strlen(got) - 2);
		free(v[i]);
	}
	free(v);
	CHECK(!strcmp(got, want), "'%s': got '%s', want '%s'", text, got, want);
}

/* Expanding @text must fail with a reason containing @needle. */
static void expect_value_error(const char *text, const char *needle)
{
	char **v = NULL, err[MATRIX_ERR_LEN] = "";
	size_t n = 0;

	if (!matrix_expand(text, 4, &v, &n, err, sizeof(err))) {
		CHECK(0, "'%s': expanded to %zu values, want an error", text, n);
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return;
	}
	CHECK(strstr(err, needle), "'%s': error '%s' lacks '%s'", text, err, needle);
	CHECK(!strchr(err, '\n'), "'%s': error is more than one line", text);
}

static char tmpdir[] = "/tmp/test_matrix.XXXXXX";

static const char *write_config(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loading @text must fail with exactly "PATH:@line: ..." containing @needle. */
static void expect_load_error(const char *text, int line, const char *needle)
{
	struct matrix_config cfg;
	char err[MATRIX_ERR_LEN] = "", prefix[600];
	const char *path = write_config("bad.ini", text);

	if (!matrix_load(&cfg, path, 8, err, sizeof(err))) {
		CHECK(0, "config loaded, want an error with '%s':\n%s", needle, text);
		matrix_free(&cfg);
		unlink(path);
		return;
	}
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	CHECK(!strncmp(err, prefix, strlen(prefix)), "error '%s' does not start with '%s'", err,
	      prefix);
	CHECK(strstr(err, needle), "error '%s' lacks '%s'", err, needle);
	CHECK(!strchr(err, '\n'), "error '%s' is more than one line", err);
	unlink(path);
}

static void test_values(void)
{
	expect_values("xchg", 4, "xchg");
	expect_values("xchg, srcu-swap ,dirty-ring", 4, "xchg srcu-swap dirty-ring");
	expect_values("1:*2:16", 4, "1 2 4 8 16");
	expect_values("1:*2:20", 4, "1 2 4 8 16");
	expect_values("1:+1:4", 4, "1 2 3 4");
	expect_values("0:+5:12", 4, "0 5 10");
	expect_values("2:5", 4, "2 3 4 5");
	expect_values("1G:*4:16G", 4, "1G 4G 16G");
	expect_values("512M:*2:2G", 4, "512M 1G 2G");
	expect_values("64K:+64K:256K", 4, "64K 128K 192K 256K");
	expect_values("1:*2:max", 12, "1 2 4 8 12");
	expect_values("1:*2:max", 8, "1 2 4 8");
	expect_values("1:*2:max", 1, "1");
	expect_values("max", 6, "6");
	expect_values("1,4:*2:16,100", 4, "1 4 8 16 100");
	expect_values("\"0,2\", \"1:3\"", 4, "0,2 1:3");
	expect_values("5:5", 4, "5");
	expect_values("srcu-swap:wait=normal,xchg", 4, "srcu-swap:wait=normal xchg");

	expect_value_error("1:*1:16", "factor must be at least 2");
	expect_value_error("0:*2:16", "cannot start at 0");
	expect_value_error("1:+0:16", "step must be at least 1");
	expect_value_error("16:*2:1", "greater than end");
	expect_value_error("1x:*2:16", "start '1x' is not a number");
	expect_value_error("1:*2:lots", "end 'lots' is not a number");
	expect_value_error("1:/2:16", "step '/2' is not");
	expect_value_error("1:*2:3:4", "bad range");
	expect_value_error("1::4", "bad range");
	expect_value_error("1G:*2:4Q", "end '4Q'");
	expect_value_error("a,,b", "empty value");
	expect_value_error("\"abc", "unterminated quote");
	expect_value_error("0:+1:100000", "more than");
}

static void test_load(void)
{
	struct matrix_config cfg;
	char err[MATRIX_ERR_LEN] = "";
	const char *path = write_config("good.ini", "; a comment\n"
						    "[global]\n"
						    "repetitions = 3\n"
						    "warmup = 1\n"
						    "timeout = 2m\n"
						    "\n"
						    "[one]\n"
						    "workload = dirty-log\n"
						    "strategy = xchg,srcu-swap\n"
						    "vcpus = 1:*2:max\n"
						    "bytes-per-vcpu = 64M\n"
						    "\n"
						    "[two]\n"
						    "workload = srcu\n"
						    "repetitions = 5\n"
						    "seed = 42\n"
						    "timeout = 30\n"
						    "random = no,yes\n");

	if (matrix_load(&cfg, path, 4, err, sizeof(err))) {
		CHECK(0, "good config: %s", err);
		return;
	}
	CHECK(cfg.nscenarios == 2, "scenarios %zu", cfg.nscenarios);
	if (cfg.nscenarios == 2) {
		struct matrix_scenario *a = &cfg.scenarios[0], *b = &cfg.scenarios[1];
		const char *vals[3];

		CHECK(!strcmp(a->name, "one") && !strcmp(a->workload, "dirty-log"), "scenario one");
		CHECK(a->workload_line == 8, "workload line %d", a->workload_line);
		CHECK(a->repetitions == 3 && a->warmup == 1 && a->seed == 1,
		      "one: global defaults");
		CHECK(a->timeout_s == 120, "one: timeout %g", a->timeout_s);
		CHECK(a->nparams == 3, "one: %zu params", a->nparams);
		CHECK(a->params[1].line == 10, "vcpus line %d", a->params[1].line);
		/* 2 strategies x {1,2,4} vcpus x 1 size */
		CHECK(matrix_cells(a) == 6, "one: %zu cells", matrix_cells(a));
		matrix_cell_values(a, 0, vals);
		CHECK(!strcmp(vals[0], "xchg") && !strcmp(vals[1], "1") && !strcmp(vals[2], "64M"),
		      "cell 0: %s %s %s", vals[0], vals[1], vals[2]);
		/* the last key varies fastest */
		matrix_cell_values(a, 1, vals);
		CHECK(!strcmp(vals[0], "xchg") && !strcmp(vals[1], "2"), "cell 1: %s %s", vals[0],
		      vals[1]);
		matrix_cell_values(a, 5, vals);
		CHECK(!strcmp(vals[0], "srcu-swap") && !strcmp(vals[1], "4"), "cell 5: %s %s",
		      vals[0], vals[1]);
		CHECK(b->repetitions == 5 && b->warmup == 1 && b->seed == 42 && b->timeout_s == 30,
		      "two: own runner keys");
		CHECK(matrix_cells(b) == 2, "two: %zu cells", matrix_cells(b));
	}
	matrix_free(&cfg);
	unlink(path);

	CHECK(matrix_is_runner_key("repetitions") && !matrix_is_runner_key("vcpus"), "runner keys");
	CHECK(matrix_max_cpus() >= 1, "max cpus");
}

static void test_errors(void)
{
	expect_load_error("[a]\nworkload = srcu\nvcpus = 1:*0:8\n", 3, "vcpus: bad range");
	expect_load_error("vcpus = 1\n[a]\nworkload = srcu\n", 1, "outside any [section]");
	expect_load_error("[global]\nvcpus = 2\n[a]\nworkload = srcu\n", 2,
			  "unknown key 'vcpus' in [global]");
	expect_load_error("[a]\nvcpus = 2\n", 1, "no 'workload = NAME'");
	expect_load_error("[a]\nworkload = srcu\n\n\nthis line is wrong\n", 5,
			  "not a 'key = value' line");
	expect_load_error("[a]\nworkload = srcu\nrepetitions = 0\n", 3, "at least 1");
	expect_load_error("[a]\nworkload = srcu\nrepetitions = 1,2\n", 3,
			  "not a non-negative integer");
	expect_load_error("[a]\nworkload = srcu\ntimeout = soon\n", 3, "not a duration");
	expect_load_error("[a]\nworkload = srcu\nx = 1\nx = 2\n", 4, "given twice");
	expect_load_error("[a]\nworkload = srcu\n[b]\nworkload = srcu\n[a]\nx = 1\n", 5,
			  "section [a] appears twice (lines 1 and 5)");
	/* the same section right after itself: inih alone would merge them */
	expect_load_error("[a]\nworkload = srcu\n\n[a]\nx = 1\n", 4,
			  "section [a] appears twice (lines 1 and 4)");
	expect_load_error("[global]\nseed = 2\n[global]\n", 3, "section [global] appears twice");
	expect_load_error("[a]\nworkload = srcu\nout = /tmp/x\n", 3, "runner's");
	expect_load_error("[a b]\nworkload = srcu\n", 2, "scenario name");
	expect_load_error("; nothing\n", 1, "no scenario");
	expect_load_error("[a]\nworkload = srcu\nb = 1:*2:2G,\n", 3, "empty value");
}

/* Claims: stored with their lines, not scenarios; `scenario` checked. */
static void test_claims(void)
{
	struct matrix_config cfg;
	char err[MATRIX_ERR_LEN] = "";
	const char *path = write_config("claims.ini", "[claim.xchg-wins]\n"
						      "text = \"xchg beats srcu-swap\"\n"
						      "scenario = s\n"
						      "whatever = 1,2\n"
						      "[s]\n"
						      "workload = harvest\n"
						      "dirty = 1,10\n");
	int line = 0;

	if (matrix_load(&cfg, path, 4, err, sizeof(err))) {
		CHECK(0, "config with a claim: %s", err);
		return;
	}
	CHECK(cfg.nscenarios == 1 && cfg.nclaims == 1, "%zu scenarios, %zu claims", cfg.nscenarios,
	      cfg.nclaims);
	if (cfg.nclaims == 1) {
		const struct matrix_claim *c = &cfg.claims[0];
		const char *v = matrix_claim_get(c, "whatever", &line);

		CHECK(!strcmp(c->name, "claim.xchg-wins") && c->line == 1, "claim %s line %d",
		      c->name, c->line);
		CHECK(c->nitems == 3 && v && !strcmp(v, "1,2") && line == 4,
		      "item whatever: %s line %d", v ? v : "(none)", line);
		v = matrix_claim_get(c, "text", &line);
		CHECK(v && !strcmp(v, "\"xchg beats srcu-swap\"") && line == 2, "text %s",
		      v ? v : "-");
		CHECK(!matrix_claim_get(c, "plot", NULL), "absent key found");
	}
	CHECK(matrix_runs(&cfg) == 2, "claims counted as runs: %zu", matrix_runs(&cfg));
	matrix_free(&cfg);
	unlink(path);
	expect_load_error("[claim.c]\nscenario = nosuch\n[s]\nworkload = srcu\n", 2,
			  "[claim.c]: scenario 'nosuch' is not a scenario of this config");
	expect_load_error("[claim.c]\ntext = a\ntext = b\n[s]\nworkload = srcu\n", 3,
			  "given twice");
	expect_load_error("[claim.a b]\ntext = a\n", 2, "claim name");
}

/* Runs are counted without expanding the product, and saturate. */
static void test_counts(void)
{
	struct matrix_config cfg;
	char err[MATRIX_ERR_LEN] = "";
	const char *path = write_config(
		"big.ini", "[global]\nrepetitions = 3\nwarmup = 1\n"
			   "[a]\nworkload = srcu\nx = 1:+1:4096\ny = 1:+1:4096\nz = 1:+1:4096\n"
			   "w = 1:+1:4096\nv = 1:+1:4096\nu = 1:+1:4096\n"
			   "[b]\nworkload = srcu\nx = 1:+1:1000\ny = 1:+1:100\n");

	if (matrix_load(&cfg, path, 4, err, sizeof(err))) {
		CHECK(0, "big config: %s", err);
		return;
	}
	CHECK(matrix_cells(&cfg.scenarios[0]) == SIZE_MAX, "overflowing cells not saturated");
	CHECK(matrix_runs(&cfg) == SIZE_MAX, "overflowing runs not saturated");
	CHECK(matrix_scenario_runs(&cfg.scenarios[1]) == 400000, "b: %zu runs",
	      matrix_scenario_runs(&cfg.scenarios[1]));
	matrix_free(&cfg);
	unlink(path);
}

/* What is not a text file is refused before inih reads it. */
static void test_not_text(void)
{
	struct matrix_config cfg;
	char err[MATRIX_ERR_LEN] = "", path[600];
	static const char nul[] = "[a]\nworkload = srcu\nx = 1\0 and the rest\n";
	FILE *f;

	snprintf(path, sizeof(path), "%s/nul.ini", tmpdir);
	f = fopen(path, "w");
	if (!f || fwrite(nul, 1, sizeof(nul) - 1, f) != sizeof(nul) - 1 || fclose(f)) {
		CHECK(0, "cannot write %s", path);
		return;
	}
	CHECK(matrix_load(&cfg, path, 4, err, sizeof(err)) && strstr(err, "nul.ini:3: a NUL byte"),
	      "NUL byte: '%s'", err);
	unlink(path);
	CHECK(matrix_load(&cfg, "/dev/zero", 4, err, sizeof(err)) &&
		      strstr(err, "/dev/zero:0: not a regular file"),
	      "/dev/zero: '%s'", err);
	CHECK(matrix_load(&cfg, tmpdir, 4, err, sizeof(err)) && strstr(err, "not a regular file"),
	      "a directory: '%s'", err);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_values();
	test_load();
	test_errors();
	test_claims();
	test_counts();
	test_not_text();
	rmdir(tmpdir);
	printf("test_matrix: %d failures\n", failures);
	return failures ? 1 : 0;
}
