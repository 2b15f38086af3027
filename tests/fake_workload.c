/*
 * Stand-in workloads for the tests of `dlbench run` (tests/test_run.sh),
 * registered into a test binary built from the same main as build/dlbench
 * (build/tests/dlbench_fake), which the tests use both as the runner and
 * as the program of every cell.  They are tables like every workload, so
 * the runner checks config keys and values against them exactly as it
 * does for the real ones, and they run in milliseconds.
 *
 *   fake    figures that are exact functions of --size, --seed and the
 *           FAKE_SCALE environment variable, so tests can predict them;
 *           --mode fails (exit 3), crashes (SIGSEGV), hangs or is slow on
 *           demand; --need-cpus N fails the table's machine check when
 *           this process may use fewer than N CPUs.
 *   noout   a workload that writes no results directory.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/driver.h"
#include "lib/util/histogram.h"
#include "workloads/workload.h"

struct fake_opts {
	uint64_t size;
	const char *mode;
	bool flag;
	uint64_t knob;
	uint64_t need_cpus;
	uint64_t seed;
};

enum {
	COL_MODE,
	COL_SIZE,
	COL_FLAG,
	COL_SEED,
	COL_ITERATION,
	COL_VALUE_NS,
	COL_OPS_PER_S
};

/* clang-format off */
static const struct wl_column fake_columns[] = {
	[COL_MODE] = { "mode", WL_COL_TEXT, "", WL_SHOW },
	[COL_SIZE] = { "size", WL_COL_UINT, "", WL_SHOW },
	[COL_FLAG] = { "flag", WL_COL_UINT, "", 0 },
	[COL_SEED] = { "seed", WL_COL_UINT, "", 0 },
	[COL_ITERATION] = { "iteration", WL_COL_UINT, "", 0 },
	[COL_VALUE_NS] = { "value_ns", WL_COL_UINT, "ns", WL_SHOW },
	[COL_OPS_PER_S] = { "ops_per_s", WL_COL_UINT, "1/s", 0 },
	{ 0 },
};
/* clang-format on */

static const char *const fake_modes[] = { "ok", "fail", "crash", "hang", "slow", NULL };

static int fake_mode_check(const char *value, char *err, size_t errlen)
{
	for (int i = 0; fake_modes[i]; i++)
		if (!strcmp(value, fake_modes[i]))
			return 0;
	snprintf(err, errlen, "unknown mode '%s' (ok, fail, crash, hang, slow)", value);
	return -1;
}

static int fake_check(const void *opts, char *err, size_t errlen)
{
	const struct fake_opts *o = opts;

	if (o->need_cpus > wl_max_cpus()) {
		snprintf(err, errlen, "--need-cpus: needs %llu CPUs, this process may use %u",
			 (unsigned long long)o->need_cpus, wl_max_cpus());
		return WL_BAD_INPUT;
	}
	return 0;
}

/* fail, crash, hang or slow, as --mode asks. */
static void misbehave(const char *mode)
{
	if (!strcmp(mode, "fail")) {
		fprintf(stderr, "dlbench fake: failing on request\n");
		exit(3); /* an exit code of its own, that the journal must record */
	}
	if (!strcmp(mode, "crash")) {
		signal(SIGSEGV, SIG_DFL); /* past a sanitizer's handler */
		raise(SIGSEGV);
	}
	while (!strcmp(mode, "hang"))
		pause();
	if (!strcmp(mode, "slow"))
		usleep(400000);
}

static void fake_row(struct wl_ctx *ctx, const struct fake_opts *o, uint64_t iteration,
		     uint64_t value, uint64_t ops)
{
	wl_row_begin(ctx);
	wl_put_text(ctx, COL_MODE, o->mode);
	wl_put_uint(ctx, COL_SIZE, o->size);
	wl_put_uint(ctx, COL_FLAG, o->flag);
	wl_put_uint(ctx, COL_SEED, o->seed);
	wl_put_uint(ctx, COL_ITERATION, iteration);
	wl_put_uint(ctx, COL_VALUE_NS, value);
	wl_put_uint(ctx, COL_OPS_PER_S, ops);
	wl_row_end(ctx);
}

static int fake_run(const void *opts, struct wl_ctx *ctx, char *err, size_t errlen)
{
	const struct fake_opts *o = opts;
	const char *env = getenv("FAKE_SCALE");
	uint64_t scale = env && *env ? strtoull(env, NULL, 10) : 1, value;
	struct histogram *h;

	misbehave(o->mode);
	if (scale == 0)
		scale = 1;
	value = o->size * scale * (100 + o->seed % 3);
	fake_row(ctx, o, 1, value, 1000000 / (o->size * scale));
	fake_row(ctx, o, 2, value * 2, 500000 / (o->size * scale));
	h = histogram_new();
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return WL_ERROR;
	}
	for (int i = 0; i < 3; i++)
		histogram_record(h, value);
	histogram_record(h, value * 4);
	if (wl_save_histogram(ctx, h, "lat")) {
		free(h);
		snprintf(err, errlen, "cannot write the histogram");
		return WL_ERROR;
	}
	free(h);
	wl_printf(ctx, "fake: size %llu value %llu\n", (unsigned long long)o->size,
		  (unsigned long long)value);
	return 0;
}

#define OPT(field) offsetof(struct fake_opts, field)

/* clang-format off */
static const struct wl_option fake_options[] = {
	{ .name = "size", .type = WL_UINT, .flags = WL_LIST, .def = "1", .min = 1, .max = 1 << 20,
	  .offset = OPT(size), .help = "the figures scale with it" },
	{ .name = "mode", .type = WL_TEXT, .def = "ok", .offset = OPT(mode),
	  .check_value = fake_mode_check, .help = "ok, fail (exit 3), crash, hang or slow (0.4 s)" },
	{ .name = "flag", .type = WL_FLAG, .offset = OPT(flag), .help = "a flag, shown as 1" },
	{ .name = "knob", .type = WL_UINT, .flags = WL_LIST, .def = "0", .offset = OPT(knob),
	  .help = "no effect (for big matrices)" },
	{ .name = "need-cpus", .type = WL_UINT, .def = "1", .min = 1, .max = 1 << 20,
	  .offset = OPT(need_cpus), .help = "fail the machine check below this many CPUs" },
	{ .name = "seed", .type = WL_UINT, .def = "1", .offset = OPT(seed),
	  .help = "the figures' last factor is 100 + seed % 3" },
	{ 0 },
};
/* clang-format on */

static const struct workload workload_fake = {
	.name = "fake",
	.summary = "a stand-in workload for the tests of dlbench run",
	.options = fake_options,
	.columns = fake_columns,
	.opts_size = sizeof(struct fake_opts),
	.writes_results = true,
	.check = fake_check,
	.run = fake_run,
};

static int noout_run(const void *opts, struct wl_ctx *ctx, char *err, size_t errlen)
{
	(void)opts;
	(void)err;
	(void)errlen;
	wl_printf(ctx, "noout: nothing written\n");
	return 0;
}

/* clang-format off */
static const struct wl_option noout_options[] = {
	{ .name = "size", .type = WL_UINT, .def = "1", .help = "ignored" },
	{ 0 },
};
/* clang-format on */

static const struct wl_column noout_columns[] = { { 0 } };

static const struct workload workload_noout = {
	.name = "noout",
	.summary = "a stand-in workload that writes no results directory",
	.options = noout_options,
	.columns = noout_columns,
	.opts_size = sizeof(uint64_t),
	.writes_results = false,
	.run = noout_run,
};

/* Before main: the binary's workload_find knows them from the start. */
__attribute__((constructor)) static void register_fakes(void)
{
	if (workload_register(&workload_fake) || workload_register(&workload_noout))
		abort();
}
