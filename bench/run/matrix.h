/*
 * Benchmark matrices: the config model behind `dlbench run CONFIG`.
 *
 * A config is an INI file (parsed with libinih).  The optional [global]
 * section holds the runner's own keys as defaults for every scenario; every
 * other section is one scenario:
 *
 *   [global]
 *   repetitions = 3         ; measured runs of every cell (each its own process)
 *   warmup = 1              ; runs before them whose results are discarded
 *   seed = 1                ; see "seed" below
 *   timeout = 120           ; per-process limit: 90, 90s, 10m, 1h
 *
 *   [get-log-size]          ; scenario name: [A-Za-z0-9_.-]+
 *   workload = dirty-log    ; a workload (dlbench --help lists them)
 *   strategy = xchg,srcu-swap
 *   vcpus = 1:*2:max
 *   bytes-per-vcpu = 64M:*4:1G
 *
 * Values.  Any workload key may hold a list `a,b,c` (items trimmed; an item
 * in double quotes is taken literally, commas and colons included:
 * `cpus = "0,2"`), or ranges as items of that list:
 *   START:*F:END   geometric, factor F >= 2      1:*2:16 -> 1,2,4,8,16
 *   START:+N:END   arithmetic, step N >= 1       1:+1:4  -> 1,2,3,4
 *   START:END      the same as START:+1:END
 * An item is a range only when it starts with a digit and holds a colon
 * (`srcu-swap:wait=normal` is a plain value).
 * START and END are integers with an optional K/M/G/T suffix (powers of
 * 1024); when either has one, the values are written back with the largest
 * suffix that divides them exactly (1G:*4:16G -> 1G,4G,16G).  END may be
 * `max`, the number of CPUs this process may run on; the progression then
 * ends with that number even when it does not fall on a step (1:*2:max on
 * 12 CPUs -> 1,2,4,8,12).  A bare value `max` is that number too.
 * The scenario runs the cartesian product of its keys' values: a cell is
 * one combination; the last key in the file varies fastest.
 *
 * Runner keys (in [global] or in a scenario, never lists): workload,
 * repetitions (>= 1, default 1), warmup (>= 0, default 0), seed (default 1),
 * timeout (default 300 s).  Everything else belongs to the workload.
 *
 * Claims.  A section named `claim.NAME` is not a scenario but a claim that
 * the results are checked against (the seed reproductions): any keys
 * (text, scenario, figure, a, b, expect, plot, explain, ...), stored with
 * their line numbers for the evaluator (bench/report/verdict.h).  The
 * loader checks only that a claim's `scenario`, if given, names a scenario
 * of the config.
 *
 * CONTRACT WITH THE WORKLOADS (what `dlbench run` relies on)
 *  - `workload = NAME` names a workload table (workloads/workload.h; the
 *    runner looks it up with workload_find).  Every other key K of the
 *    scenario is one of its options (workload_option: `-` and `_` are the
 *    same), and every value is checked with the option's own parser before
 *    anything runs (workload_check_value): an error names the config line.
 *  - Each workload key K with value V becomes the option `--K V` of the
 *    cell's process; a flag (WL_FLAG) takes `yes` (the option alone) or
 *    `no` (nothing).  Each cell's combination of values is checked against
 *    the machine by the table's own check (workload_dry_run) before any
 *    results directory is created, and in `run -n`.
 *  - seed: when the workload has a `seed` option, repetition r (counting
 *    from 0, warm-ups included as the first ones) runs with `--seed SEED+r`,
 *    so repetitions are independent and repeatable.
 *  - Each run (warm-up or repetition) is its own process
 *      build/dlbench NAME --K V ... --out CELLDIR
 *    run with a time limit (SIGTERM to its process group at the limit,
 *    SIGKILL 2 s later).  CELLDIR does not exist yet; the driver creates
 *    it and writes CELLDIR/summary.csv, CELLDIR/hist/NAME.csv and
 *    CELLDIR/meta.json.  Exit status 0 means success.  Its stdout and
 *    stderr go to cells/<cell>.log in the run directory.
 *  - The runner gathers the summary rows of every successful measured run
 *    into <run>/<workload>/summary.csv, with the columns scenario, cell,
 *    repetition first and host last (a workload column already named so is
 *    renamed workload_<name>), and hard-links each CELLDIR/hist/NAME.csv
 *    to <run>/<workload>/hist/<scenario>-<cell>-r<repetition>-NAME.csv.
 *    Every run is a row of <run>/cells.csv with its parameters, status
 *    (ok, failed, timeout, crashed), exit code, duration and host.
 *
 * Errors are one line `FILE:LINE: what is wrong`, reported before any cell
 * runs.
 */
#ifndef DLBENCH_MATRIX_H
#define DLBENCH_MATRIX_H

#include <stddef.h>
#include <stdint.h>

#define MATRIX_MAX_VALUES 4096 /* values of one key after expansion */
#define MATRIX_ERR_LEN 512

struct matrix_param {
	char *key;
	int line;
	size_t nvalues;
	char **values;
};

struct matrix_scenario {
	char *name;
	int line; /* of the [section] header */
	char *workload;
	int workload_line;
	unsigned repetitions;
	unsigned warmup;
	uint64_t seed;
	double timeout_s;
	size_t nparams;
	struct matrix_param *params;
};

/* One `key = value` of a claim, as written. */
struct matrix_claim_item {
	char *key;
	char *value;
	int line;
};

struct matrix_claim {
	char *name; /* the section name, "claim.NAME" */
	int line;   /* of the [section] header */
	size_t nitems;
	struct matrix_claim_item *items;
};

struct matrix_config {
	char *path;
	size_t nscenarios;
	struct matrix_scenario *scenarios;
	size_t nclaims;
	struct matrix_claim *claims;
};

/* Expands one value text (list, ranges, `max`) into *values (malloc'd
 * strings, *nvalues of them).  @max_cpus replaces `max`.  On error writes
 * the reason (without file and line) to @err and returns -1. */
int matrix_expand(const char *text, uint64_t max_cpus, char ***values, size_t *nvalues, char *err,
		  size_t errlen);

/* Reads and expands @path, which must be a regular file.  On error writes
 * `FILE:LINE: what` to @err and returns -1 (the config is then empty and
 * needs no free). */
int matrix_load(struct matrix_config *cfg, const char *path, uint64_t max_cpus, char *err,
		size_t errlen);
void matrix_free(struct matrix_config *cfg);

/* Number of cells of a scenario (product of its keys' value counts),
 * SIZE_MAX when that overflows. */
size_t matrix_cells(const struct matrix_scenario *s);
/* Runs of a scenario (cells x (warmup + repetitions)) and of the whole
 * config, counted without expanding anything; SIZE_MAX on overflow. */
size_t matrix_scenario_runs(const struct matrix_scenario *s);
size_t matrix_runs(const struct matrix_config *cfg);
/* The value of each param for cell @cell: values[i] for params[i]. */
void matrix_cell_values(const struct matrix_scenario *s, size_t cell, const char **values);

/* The value of @key in claim @c (NULL if absent), its line in *line. */
const char *matrix_claim_get(const struct matrix_claim *c, const char *key, int *line);

/* True when @key is one of the runner's own keys. */
int matrix_is_runner_key(const char *key);

/* The number `max` stands for: the CPUs this process may run on. */
uint64_t matrix_max_cpus(void);

#endif
