/*
 * dlbench dirty-log: the kernel's dirty_log_perf_test on the emulated VM.
 * Pinned vCPU threads dirty guest memory while the harvester collects the
 * dirty log with the strategy under test, in the kernel test's iteration
 * mode or continuously (a display refreshing a framebuffer, live
 * migration).  Options, phases and outputs: usage() below; the driver is
 * workloads/dirty_log.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workloads/dirty_log_workload.h"
#include "bench/cli.h"
#include "bench/commands.h"
#include "bench/report/csv.h"
#include "lib/dirty_log/dirty_log.h"
#include "lib/memslot_protect/memslot_protect.h"
#include "bench/report/meta.h"
#include "bench/report/results.h"
#include "lib/util/timing.h"
#include "lib/util/topology.h"

#define MAX_STRATEGIES 32
#define DEFAULT_BYTES_PER_VCPU (64ull << 20)
#define DEFAULT_ITERATIONS 3
#define DEFAULT_HARVEST_INTERVAL_MS 30.0
#define DEFAULT_DURATION_S 1.0
#define DEFAULT_FLOOR_PASSES 3

struct cli_config {
	struct dlw_config w;
	const char *strategies[MAX_STRATEGIES];
	int nstrategies;
	bool modes[2];
	bool mode_given;
	bool continuous_option_given;
	enum placement placement;
	const char *placement_name;
	const char *cpu_list;
	const char *numa_text;
	const char *out;
	int *cpus;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: dlbench dirty-log [OPTIONS]\n"
"The kernel's dirty_log_perf_test on the emulated VM: pinned vCPU threads dirty\n"
"guest memory while the harvester collects the dirty log with the strategy\n"
"under test.  Each (strategy, mode) is a cell with a fresh VM: populate (100%%\n"
"writes, sequential, logging off), floors (plain stores; the vCPU loop with\n"
"logging off), enable logging, the mode, disable logging.\n\n"
"  -v, --vcpus N            vCPU threads (default 1)\n"
"  -b, --bytes-per-vcpu SIZE guest memory per vCPU, e.g. 10M, 3G (default 64M;\n"
"                           the kernel test's is 1G: give -b 1G to match it)\n"
"  -i, --iterations N       dirty passes in iteration mode, >= 2 (default %d);\n"
"                           iteration 1 is reported apart from the rest's average\n"
"  -w, --write-percent P    percent of accesses that are writes (default 100)\n"
"  -a, --random             random page order (pages drawn with replacement)\n"
"  -o, --overlap            every vCPU accesses all of guest memory (-v x -b bytes;\n"
"                           default: each vCPU its own -b bytes of it)\n"
"  -c, --cpus LIST          CPUs for the vCPUs, e.g. 0,2,4-7: vCPU i runs on the\n"
"                           i-th CPU of the set, wrapping around (default: --placement)\n"
"      --placement P        compact|spread from the hwloc topology (default compact)\n"
"      --harvester-cpu CPU  pin the harvester (this process's main thread)\n"
"  -s, --backing B          anonymous|anonymous_thp|anonymous_hugetlb|shmem\n"
"                           (default anonymous)\n"
"  -x, --slots N            memslots; must divide the guest pages, each a multiple\n"
"                           of 64 pages (default 1)\n"
"  -r, --seed N             random seed (default 1: runs repeat)\n"
"  -m, --numa WHERE         NODE (bind to it), interleave, or local (default)\n"
"      --strategy SPEC      dirty-log strategy NAME[:KEY=VALUE,...]; `none` runs the\n"
"                           same workload with logging off; `all` is none and every\n"
"                           strategy; repeat the option for several (default xchg)\n"
"      --fault-path P       locked|fast write-fault path (default locked)\n"
"      --memslot-protect P  memslot read protection of the fault path: floor,\n"
"                           mutex, rwlock, rwlock-cond, srcu-mb, srcu-fast, urcu\n"
"                           (`srcu` is srcu-mb; default " VM_MEMSLOT_PROTECT_DEFAULT ")\n"
"      --mode M             iteration|continuous|both (default iteration;\n"
"                           continuous when --harvest-interval or --duration is given)\n"
"      --harvest-interval MS continuous mode: harvest every MS ms (default %g)\n"
"      --duration S         continuous mode: seconds of dirtying (default %g)\n"
"      --floor-passes N     passes per floor, the fastest counts (default %d)\n"
"      --out DIR            results directory (must not exist;\n"
"                           default results/<time>-dirty-log)\n"
"      --list-strategies    list the strategies and their options\n"
"      --quiet              no kernel-style lines per phase, only the tables\n"
"  -h, --help\n\n"
"Output: kernel-style lines per cell and a table on stdout; in the results\n"
"directory summary.csv (one row per iteration, one per continuous run; every\n"
"parameter in its own column), hist/<strategy>-<mode>-<histogram>.csv\n"
"(value_ns,count; stall = time in the write-fault path plus waits at a kick or\n"
"for dirty-ring space; harvest = get + clear; get-log; clear-log) and meta.json.\n",
		DEFAULT_ITERATIONS, DEFAULT_HARVEST_INTERVAL_MS, DEFAULT_DURATION_S,
		DEFAULT_FLOOR_PASSES);
}

static void add_strategy(struct cli_config *c, const char *spec)
{
	char err[256];
	struct dirty_log *log;

	if (!strcmp(spec, "all")) {
		const struct dirty_log_ops *o;

		add_strategy(c, DLW_STRATEGY_NONE);
		for (int i = 0; (o = dirty_log_nth(i)); i++)
			add_strategy(c, o->name);
		return;
	}
	for (int i = 0; i < c->nstrategies; i++)
		if (!strcmp(c->strategies[i], spec))
			return;
	if (c->nstrategies == MAX_STRATEGIES)
		cli_die("--strategy: more than %d strategies", MAX_STRATEGIES);
	if (strcmp(spec, DLW_STRATEGY_NONE)) {
		/* parse it now, so that a bad name or option is a usage error */
		log = dirty_log_create(spec, NULL, err, sizeof(err));
		if (!log)
			cli_die("--strategy: %s", err);
		dirty_log_free(log);
	}
	c->strategies[c->nstrategies++] = spec;
}

static void parse_numa(struct cli_config *c, const char *s)
{
	char buf[32];
	char *end;
	long node = strtol(s, &end, 10);

	c->numa_text = s;
	if (*s >= '0' && *s <= '9' && !*end) {
		if (node > 4095)
			cli_die("-m/--numa: node %s is out of range", s);
		snprintf(buf, sizeof(buf), "bind:%ld", node);
		s = buf;
	}
	if (guest_numa_parse(s, &c->w.numa, &c->w.numa_node))
		cli_die("-m/--numa: '%s' is not a node number, interleave or local", c->numa_text);
}

static void parse_args(int argc, char **argv, struct cli_config *c)
{
	enum {
		OPT_PLACEMENT = 256, OPT_STRATEGY, OPT_FAULT_PATH, OPT_MEMSLOT_PROTECT, OPT_MODE,
		OPT_INTERVAL, OPT_DURATION, OPT_FLOOR_PASSES, OPT_HARVESTER_CPU, OPT_OUT, OPT_LIST,
		OPT_QUIET,
	};
	static const struct option opts[] = {
		{ "vcpus", required_argument, NULL, 'v' },
		{ "bytes-per-vcpu", required_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "write-percent", required_argument, NULL, 'w' },
		{ "random", no_argument, NULL, 'a' },
		{ "overlap", no_argument, NULL, 'o' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "placement", required_argument, NULL, OPT_PLACEMENT },
		{ "harvester-cpu", required_argument, NULL, OPT_HARVESTER_CPU },
		{ "backing", required_argument, NULL, 's' },
		{ "slots", required_argument, NULL, 'x' },
		{ "seed", required_argument, NULL, 'r' },
		{ "numa", required_argument, NULL, 'm' },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "fault-path", required_argument, NULL, OPT_FAULT_PATH },
		{ "memslot-protect", required_argument, NULL, OPT_MEMSLOT_PROTECT },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "harvest-interval", required_argument, NULL, OPT_INTERVAL },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "floor-passes", required_argument, NULL, OPT_FLOOR_PASSES },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "list-strategies", no_argument, NULL, OPT_LIST },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static const char *const mode_choices[] = { "iteration", "continuous", "both", NULL };
	int opt;

	memset(c, 0, sizeof(*c));
	c->w.vcpus = 1;
	c->w.bytes_per_vcpu = DEFAULT_BYTES_PER_VCPU;
	c->w.iterations = DEFAULT_ITERATIONS;
	c->w.write_percent = 100;
	c->w.harvester_cpu = -1;
	c->w.backing = GUEST_BACKING_ANONYMOUS;
	c->w.numa = GUEST_NUMA_LOCAL;
	c->w.numa_node = -1;
	c->w.slots = 1;
	c->w.seed = 1;
	c->w.fault_path = FAULT_PATH_LOCKED;
	c->w.memslot_protect = VM_MEMSLOT_PROTECT_DEFAULT;
	c->w.harvest_interval_ns = (uint64_t)(DEFAULT_HARVEST_INTERVAL_MS * 1e6);
	c->w.duration_ns = (uint64_t)(DEFAULT_DURATION_S * 1e9);
	c->w.floor_passes = DEFAULT_FLOOR_PASSES;
	c->placement = PLACEMENT_COMPACT;
	c->placement_name = "compact";
	c->numa_text = "local";
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":v:b:i:w:aoc:s:x:r:m:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'v': c->w.vcpus = (int)cli_u64("-v/--vcpus", optarg, 1, 4096); break;
		case 'b':
			c->w.bytes_per_vcpu = cli_size("-b/--bytes-per-vcpu", optarg, PAGE_SIZE, 1ull << 46);
			if (c->w.bytes_per_vcpu % PAGE_SIZE)
				cli_die("-b/--bytes-per-vcpu: %s is not a multiple of the %lu-byte page",
					optarg, PAGE_SIZE);
			break;
		case 'i': c->w.iterations = (unsigned)cli_u64("-i/--iterations", optarg, 2, 1000000); break;
		case 'w': c->w.write_percent = (unsigned)cli_u64("-w/--write-percent", optarg, 0, 100); break;
		case 'a': c->w.random_access = true; break;
		case 'o': c->w.overlap = true; break;
		case 'c': c->cpu_list = optarg; break;
		case OPT_PLACEMENT:
			if (placement_parse(optarg, &c->placement))
				cli_die("--placement: unknown value '%s' (compact or spread)", optarg);
			c->placement_name = optarg;
			break;
		case OPT_HARVESTER_CPU:
			c->w.harvester_cpu = (int)cli_u64("--harvester-cpu", optarg, 0, 1u << 20);
			break;
		case 's':
			c->w.backing = (enum guest_backing)cli_choice("-s/--backing", optarg,
								      guest_backing_names);
			break;
		case 'x': c->w.slots = (uint32_t)cli_u64("-x/--slots", optarg, 1, 1u << 20); break;
		case 'r': c->w.seed = cli_u64("-r/--seed", optarg, 0, UINT64_MAX); break;
		case 'm': parse_numa(c, optarg); break;
		case OPT_STRATEGY: add_strategy(c, optarg); break;
		case OPT_FAULT_PATH:
			c->w.fault_path = (enum fault_path)cli_choice("--fault-path", optarg, fault_path_names);
			break;
		case OPT_MEMSLOT_PROTECT: {
			const char *name = !strcmp(optarg, "srcu") ? "srcu-mb" : optarg;

			c->w.memslot_protect =
				memslot_protect_names[cli_choice("--memslot-protect", name,
								 memslot_protect_names)];
			break;
		}
		case OPT_MODE: {
			int m = cli_choice("--mode", optarg, mode_choices);

			c->modes[DLW_MODE_ITERATION] = m != DLW_MODE_CONTINUOUS;
			c->modes[DLW_MODE_CONTINUOUS] = m != DLW_MODE_ITERATION;
			c->mode_given = true;
			break;
		}
		case OPT_INTERVAL:
			c->w.harvest_interval_ns =
				(uint64_t)(cli_double("--harvest-interval", optarg, 0.001, 3600e3) * 1e6);
			c->continuous_option_given = true;
			break;
		case OPT_DURATION:
			c->w.duration_ns = (uint64_t)(cli_double("--duration", optarg, 0.001, 86400) * 1e9);
			c->continuous_option_given = true;
			break;
		case OPT_FLOOR_PASSES:
			c->w.floor_passes = (unsigned)cli_u64("--floor-passes", optarg, 1, 1000);
			break;
		case OPT_OUT: c->out = optarg; break;
		case OPT_QUIET: c->w.quiet = true; break;
		case OPT_LIST:
			dirty_log_list(stdout);
			printf("  %-16s %s\n", DLW_STRATEGY_NONE, "the same workload with dirty logging off");
			exit(0);
		case 'h': usage(stdout); exit(0);
		case ':': cli_die("option %s needs a value (see --help)", argv[optind - 1]);
		default: cli_die("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		cli_die("unexpected argument '%s' (see --help)", argv[optind]);
	if (!c->nstrategies)
		add_strategy(c, "xchg");
	if (!c->mode_given) {
		c->modes[DLW_MODE_ITERATION] = !c->continuous_option_given;
		c->modes[DLW_MODE_CONTINUOUS] = c->continuous_option_given;
	}
	if (c->modes[DLW_MODE_CONTINUOUS] && c->w.harvest_interval_ns >= c->w.duration_ns)
		cli_die("--harvest-interval %.3f ms is not shorter than --duration %.3f s: no harvest would run",
			(double)c->w.harvest_interval_ns / 1e6, (double)c->w.duration_ns / 1e9);
}

/* MemAvailable of /proc/meminfo in bytes; 0 if unknown. */
static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb << 10;
}

static void check_resources(struct cli_config *c)
{
	char err[256];
	int over, ncpu;
	uint64_t need = dlw_guest_bytes(&c->w), avail = mem_available();

	if (dlw_config_check(&c->w, err, sizeof(err)))
		cli_die("%s", err);
	if (c->w.backing != GUEST_BACKING_ANONYMOUS_HUGETLB && avail && need > avail)
		cli_die("-v %d x -b %llu: %llu bytes of guest memory, but only %llu bytes are available (MemAvailable)",
			c->w.vcpus, (unsigned long long)c->w.bytes_per_vcpu, (unsigned long long)need,
			(unsigned long long)avail);
	if (c->w.backing == GUEST_BACKING_ANONYMOUS_HUGETLB) {
		/* reserve and release once now, so that too few huge pages is
		 * a usage error before any results directory exists */
		struct guest_memory_options mo = {
			.bytes = need, .backing = c->w.backing, .numa = c->w.numa,
			.numa_node = c->w.numa_node, .prefault = false,
		};
		struct guest_memory gm;

		if (guest_memory_create(&gm, &mo, err, sizeof(err)))
			cli_die("%s", err);
		guest_memory_destroy(&gm);
	}
	if (topology_init())
		exit(1);
	ncpu = topology_cpu_count();
	c->cpus = calloc((size_t)c->w.vcpus, sizeof(int));
	if (!c->cpus)
		cli_die("out of memory");
	if (topology_pick_cpus(c->w.vcpus, c->placement, c->cpu_list, c->cpus, &over, err, sizeof(err)))
		cli_die("-c/--cpus: %s", err);
	if (over)
		fprintf(stderr, "%s: warning: %d vCPUs on %d CPUs%s: overcommitted, vCPUs share CPUs\n",
			cli_prog, c->w.vcpus, c->cpu_list ? 0 : ncpu, c->cpu_list ? " of -c" : "");
	else if (c->w.vcpus >= ncpu && c->w.harvester_cpu < 0)
		fprintf(stderr, "%s: warning: %d vCPUs on %d CPUs leave no CPU to the harvester: "
			"harvest latencies include waiting for the scheduler\n",
			cli_prog, c->w.vcpus, ncpu);
	c->w.cpus = c->cpus;
	if (c->w.harvester_cpu >= 0) {
		char list[32];
		int one, rc;

		snprintf(list, sizeof(list), "%d", c->w.harvester_cpu);
		if (topology_pick_cpus(1, c->placement, list, &one, &over, err, sizeof(err)))
			cli_die("--harvester-cpu: %s", err);
		rc = topology_pin_self(c->w.harvester_cpu);
		if (rc) {
			fprintf(stderr, "%s: cannot pin the harvester to CPU %d: %s\n", cli_prog,
				c->w.harvester_cpu, strerror(-rc));
			exit(1);
		}
	}
}

/* "xchg:mode=x" -> "xchg_mode_x": a file-name-safe cell name. */
static void cell_name(char *buf, size_t len, const char *strategy, enum dlw_mode mode)
{
	size_t i = 0;

	for (const char *p = strategy; *p && i + 1 < len; p++) {
		char ch = *p;

		buf[i++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				   (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ? ch : '_';
	}
	buf[i] = 0;
	snprintf(buf + i, len - i, "-%s", dlw_mode_names[mode]);
}

static const char *const summary_columns =
	"strategy,fault_path,memslot_protect,vcpus,bytes_per_vcpu,backing,slots,write_percent,"
	"random,overlap,numa,placement,cpus,harvester_cpu,seed,mode,iteration,harvest_interval_ns,"
	"duration_ns,dirty_pass_ns,get_log_ns,clear_log_ns,pages_dirtied,pages_harvested,accesses,"
	"stall_samples,stall_p50_ns,stall_p99_ns,stall_p999_ns,stall_max_ns,floor_page_touch_ns,"
	"floor_pass_ns,raw_page_touch_ns,dirty_page_touch_ns,pages_per_pass,populate_ns,"
	"enable_log_ns,disable_log_ns,harvests,harvest_p50_ns,harvest_p99_ns,harvest_max_ns,run_ns,"
	"pages_dirtied_per_s,pages_harvested_per_s,page_touches_per_s,final_harvested,flush_acks,"
	"ring_full_exits,hist_sample_ns,clock_read_ns\n";

struct run_facts {
	char cpus[512];
	char numa[32];
	double hist_sample_ns;
	double clock_read_ns;
};

static void write_row(FILE *f, const struct cli_config *c, const struct run_facts *rf,
		      const struct dlw_cell *cell, const struct dlw_row *row)
{
	const struct dlw_config *w = &c->w;
	const bool cont = cell->mode == DLW_MODE_CONTINUOUS;
	const double per_pass = (double)cell->pages_per_pass;
	/* the time the row's figures were gathered over */
	const uint64_t span = cont ? cell->run_ns : row->dirty_pass_ns;
	const double secs = span ? (double)span / 1e9 : 0;

	csv_field(f, cell->strategy);
	fprintf(f, ",%s,%s,%d,%llu,%s,%u,%u,%d,%d,", fault_path_names[w->fault_path],
		w->memslot_protect, w->vcpus, (unsigned long long)w->bytes_per_vcpu,
		guest_backing_names[w->backing], w->slots, w->write_percent, w->random_access,
		w->overlap);
	csv_field(f, rf->numa);
	fprintf(f, ",%s,", c->cpu_list ? "list" : c->placement_name);
	csv_field(f, rf->cpus);
	fprintf(f, ",%d,%llu,%s,%u,", w->harvester_cpu, (unsigned long long)w->seed,
		dlw_mode_names[cell->mode], row->iteration);
	if (cont)
		fprintf(f, "%llu,%llu,", (unsigned long long)w->harvest_interval_ns,
			(unsigned long long)w->duration_ns);
	else
		fprintf(f, ",,");
	fprintf(f, "%llu,", (unsigned long long)row->dirty_pass_ns);
	if (cell->logging)
		fprintf(f, "%llu,%llu,", (unsigned long long)row->get_log_ns,
			(unsigned long long)row->clear_log_ns);
	else
		fprintf(f, ",,");
	fprintf(f, "%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,",
		(unsigned long long)row->faults, (unsigned long long)row->pages_harvested,
		(unsigned long long)row->accesses, (unsigned long long)row->stall->count,
		(unsigned long long)histogram_quantile(row->stall, 0.50),
		(unsigned long long)histogram_quantile(row->stall, 0.99),
		(unsigned long long)histogram_quantile(row->stall, 0.999),
		(unsigned long long)row->stall->max);
	fprintf(f, "%.3f,%llu,%.3f,%.3f,%llu,%llu,", (double)cell->floor_pass_ns / per_pass,
		(unsigned long long)cell->floor_pass_ns, (double)cell->raw_pass_ns / per_pass,
		(double)row->dirty_pass_ns / per_pass, (unsigned long long)cell->pages_per_pass,
		(unsigned long long)cell->populate_ns);
	if (cell->logging) {
		uint64_t one = row->get_log_ns + row->clear_log_ns;

		fprintf(f, "%llu,%llu,", (unsigned long long)cell->enable_ns,
			(unsigned long long)cell->disable_ns);
		if (cont)
			fprintf(f, "%llu,%llu,%llu,%llu,", (unsigned long long)cell->harvests,
				(unsigned long long)histogram_quantile(cell->harvest, 0.50),
				(unsigned long long)histogram_quantile(cell->harvest, 0.99),
				(unsigned long long)cell->harvest->max);
		else
			fprintf(f, "1,%llu,%llu,%llu,", (unsigned long long)one, (unsigned long long)one,
				(unsigned long long)one);
	} else {
		fprintf(f, ",,0,,,,");
	}
	fprintf(f, "%llu,%.0f,%.0f,%.0f,", (unsigned long long)span,
		secs ? (double)row->faults / secs : 0, secs ? (double)row->pages_harvested / secs : 0,
		secs ? (double)row->accesses / secs : 0);
	if (cont && cell->logging)
		fprintf(f, "%llu,", (unsigned long long)cell->final_harvested);
	else
		fprintf(f, ",");
	fprintf(f, "%llu,%llu,%.2f,%.2f\n", (unsigned long long)row->flush_acks,
		(unsigned long long)row->ring_full_exits, rf->hist_sample_ns, rf->clock_read_ns);
}

static int write_hist(const char *dir, const char *cell, const char *name, const struct histogram *h)
{
	struct results_file hf;
	char rel[256];

	snprintf(rel, sizeof(rel), "hist/%s-%s.csv", cell, name);
	if (results_file_open(&hf, dir, rel))
		return -1;
	if (histogram_write_csv(h, hf.f)) {
		results_file_abort(&hf);
		return -1;
	}
	return results_file_commit(&hf);
}

/* One line of the closing table. */
struct table_line {
	char strategy[64];
	enum dlw_mode mode;
	bool logging;
	double pass1_ms, pass_rest_ms, floor_ms, raw_ms;
	double get_ms, clear_ms;
	double stall_p50_us, stall_p99_us, stall_p999_us, stall_max_us;
	double harvest_p50_us, harvest_p99_us, harvest_max_us;
	double dirtied_per_s, harvested_per_s, touches_per_s;
	uint64_t harvests;
};

static void table_add(struct table_line *t, const struct dlw_cell *cell)
{
	double rest_pass = 0, rest_get = 0, rest_clear = 0;
	unsigned nrest = 0;

	memset(t, 0, sizeof(*t));
	snprintf(t->strategy, sizeof(t->strategy), "%s", cell->strategy);
	t->mode = cell->mode;
	t->logging = cell->logging;
	t->floor_ms = (double)cell->floor_pass_ns / 1e6;
	t->raw_ms = (double)cell->raw_pass_ns / 1e6;
	t->stall_p50_us = (double)histogram_quantile(cell->stall, 0.50) / 1e3;
	t->stall_p99_us = (double)histogram_quantile(cell->stall, 0.99) / 1e3;
	t->stall_p999_us = (double)histogram_quantile(cell->stall, 0.999) / 1e3;
	t->stall_max_us = (double)cell->stall->max / 1e3;
	t->harvest_p50_us = (double)histogram_quantile(cell->harvest, 0.50) / 1e3;
	t->harvest_p99_us = (double)histogram_quantile(cell->harvest, 0.99) / 1e3;
	t->harvest_max_us = (double)cell->harvest->max / 1e3;
	t->harvests = cell->harvests;
	if (cell->mode == DLW_MODE_ITERATION) {
		t->pass1_ms = (double)cell->rows[0].dirty_pass_ns / 1e6;
		for (unsigned i = 1; i < cell->nrows; i++, nrest++) {
			rest_pass += (double)cell->rows[i].dirty_pass_ns;
			rest_get += (double)cell->rows[i].get_log_ns;
			rest_clear += (double)cell->rows[i].clear_log_ns;
		}
		t->pass_rest_ms = nrest ? rest_pass / nrest / 1e6 : 0;
		t->get_ms = nrest ? rest_get / nrest / 1e6 : 0;
		t->clear_ms = nrest ? rest_clear / nrest / 1e6 : 0;
	} else {
		const struct dlw_row *r = &cell->rows[0];
		double s = (double)cell->run_ns / 1e9;

		t->pass_rest_ms = (double)r->dirty_pass_ns / 1e6;
		t->get_ms = (double)r->get_log_ns / 1e6;
		t->clear_ms = (double)r->clear_log_ns / 1e6;
		t->dirtied_per_s = s ? (double)r->faults / s : 0;
		t->harvested_per_s = s ? (double)r->pages_harvested / s : 0;
		t->touches_per_s = s ? (double)r->accesses / s : 0;
	}
}

static void print_tables(const struct table_line *t, int n, const struct cli_config *c)
{
	bool any[2] = { false, false };

	for (int i = 0; i < n; i++)
		any[t[i].mode] = true;
	if (any[DLW_MODE_ITERATION]) {
		printf("\nIteration mode: %d vCPU(s) x %llu MiB, %u iterations, times in ms (2+: mean of "
		       "iterations 2..%u), stalls in us\n",
		       c->w.vcpus, (unsigned long long)(c->w.bytes_per_vcpu >> 20), c->w.iterations,
		       c->w.iterations);
		printf("%-18s %9s %9s %9s %7s %9s %9s %8s %8s %8s %9s\n", "strategy", "pass 1", "pass 2+",
		       "floor", "x floor", "get 2+", "clear 2+", "stl p50", "stl p99", "stl p999",
		       "stall max");
		for (int i = 0; i < n; i++) {
			if (t[i].mode != DLW_MODE_ITERATION)
				continue;
			printf("%-18.18s %9.3f %9.3f %9.3f %7.2f ", t[i].strategy, t[i].pass1_ms,
			       t[i].pass_rest_ms, t[i].floor_ms,
			       t[i].floor_ms > 0 ? t[i].pass_rest_ms / t[i].floor_ms : 0);
			if (t[i].logging)
				printf("%9.3f %9.3f ", t[i].get_ms, t[i].clear_ms);
			else
				printf("%9s %9s ", "-", "-");
			printf("%8.2f %8.2f %8.2f %9.1f\n", t[i].stall_p50_us, t[i].stall_p99_us,
			       t[i].stall_p999_us, t[i].stall_max_us);
		}
	}
	if (any[DLW_MODE_CONTINUOUS]) {
		printf("\nContinuous mode: %d vCPU(s) x %llu MiB, harvest every %.3f ms for %.3f s; "
		       "rates in M pages/s, latencies in us\n",
		       c->w.vcpus, (unsigned long long)(c->w.bytes_per_vcpu >> 20),
		       (double)c->w.harvest_interval_ns / 1e6, (double)c->w.duration_ns / 1e9);
		printf("%-18s %8s %8s %8s %8s %9s %9s %9s %8s %8s %8s %9s\n", "strategy", "touched",
		       "dirtied", "harvestd", "harvests", "hrv p50", "hrv p99", "hrv max", "stl p50",
		       "stl p99", "stl p999", "stall max");
		for (int i = 0; i < n; i++) {
			if (t[i].mode != DLW_MODE_CONTINUOUS)
				continue;
			printf("%-18.18s %8.3f %8.3f %8.3f %8llu ", t[i].strategy, t[i].touches_per_s / 1e6,
			       t[i].dirtied_per_s / 1e6, t[i].harvested_per_s / 1e6,
			       (unsigned long long)t[i].harvests);
			if (t[i].logging)
				printf("%9.1f %9.1f %9.1f ", t[i].harvest_p50_us, t[i].harvest_p99_us,
				       t[i].harvest_max_us);
			else
				printf("%9s %9s %9s ", "-", "-", "-");
			printf("%8.2f %8.2f %8.2f %9.1f\n", t[i].stall_p50_us, t[i].stall_p99_us,
			       t[i].stall_p999_us, t[i].stall_max_us);
		}
	}
}

int cmd_dirty_log(int argc, char **argv)
{
	struct cli_config c;
	struct run_facts rf;
	struct results_file summary;
	struct table_line *table;
	char dir[PATH_MAX], extra[2048], err[512];
	int ntable = 0, rc = 0;

	parse_args(argc, argv, &c);
	check_resources(&c);
	topology_cpus_text(rf.cpus, sizeof(rf.cpus), c.cpus, c.w.vcpus);
	guest_numa_name(c.w.numa, c.w.numa_node, rf.numa, sizeof(rf.numa));
	rf.hist_sample_ns = dlw_histogram_sample_ns();
	rf.clock_read_ns = dlw_clock_read_ns();
	table = calloc((size_t)c.nstrategies * 2, sizeof(*table));
	if (!table)
		cli_die("out of memory");
	if (results_dir_create(dir, sizeof(dir), c.out, "dirty-log"))
		return 2;
	if (results_file_open(&summary, dir, "summary.csv"))
		return 1;
	fputs(summary_columns, summary.f);
	printf("dirty-log: %d vCPU(s) on CPUs %s, %llu bytes each%s, %u memslot(s), %s backing, "
	       "%u%% writes, %s order, fault path %s, memslots under %s\n",
	       c.w.vcpus, rf.cpus, (unsigned long long)c.w.bytes_per_vcpu,
	       c.w.overlap ? " (overlapping)" : "", c.w.slots, guest_backing_names[c.w.backing],
	       c.w.write_percent, c.w.random_access ? "random" : "sequential",
	       fault_path_names[c.w.fault_path], c.w.memslot_protect);
	printf("Measurement cost: one histogram sample %.2f ns, one clock read %.2f ns "
	       "(a timed fault adds 2 clock reads and 1 sample)\n",
	       rf.hist_sample_ns, rf.clock_read_ns);

	for (int s = 0; s < c.nstrategies && !rc; s++) {
		for (int m = 0; m < 2 && !rc; m++) {
			struct dlw_cell cell;
			char name[128];
			int r;

			if (!c.modes[m])
				continue;
			memset(&cell, 0, sizeof(cell));
			cell.strategy = c.strategies[s];
			cell.mode = (enum dlw_mode)m;
			if (!c.w.quiet)
				printf("\n== %s, %s mode\n", cell.strategy, dlw_mode_names[m]);
			fflush(stdout);
			r = dlw_run_cell(&c.w, &cell, err, sizeof(err));
			fflush(stdout);
			if (r) {
				if (err[0])
					fprintf(stderr, "%s: %s\n", cli_prog, err);
				rc = r == -2 ? 2 : 1;
				dlw_cell_free(&cell);
				break;
			}
			for (unsigned i = 0; i < cell.nrows; i++)
				write_row(summary.f, &c, &rf, &cell, &cell.rows[i]);
			cell_name(name, sizeof(name), cell.strategy, cell.mode);
			if (write_hist(dir, name, "stall", cell.stall) ||
			    (cell.logging && (write_hist(dir, name, "harvest", cell.harvest) ||
					      write_hist(dir, name, "get-log", cell.get_log) ||
					      write_hist(dir, name, "clear-log", cell.clear_log))))
				rc = 1;
			table_add(&table[ntable++], &cell);
			dlw_cell_free(&cell);
		}
	}
	if (rc) {
		results_file_abort(&summary);
		free(table);
		free(c.cpus);
		return rc;
	}
	print_tables(table, ntable, &c);
	free(table);
	if (results_file_commit(&summary)) {
		free(c.cpus);
		return 1;
	}
	snprintf(extra, sizeof(extra),
		 "\"vcpus\": %d, \"bytes_per_vcpu\": %llu, \"guest_bytes\": %llu, \"cpus\": \"%s\", "
		 "\"harvester_cpu\": %d, \"iterations\": %u, \"harvest_interval_ns\": %llu, "
		 "\"duration_ns\": %llu, \"floor_passes\": %u, \"memslot_protect\": \"%s\", "
		 "\"hist_sample_ns\": %.2f, \"clock_read_ns\": %.2f",
		 c.w.vcpus, (unsigned long long)c.w.bytes_per_vcpu,
		 (unsigned long long)dlw_guest_bytes(&c.w), rf.cpus, c.w.harvester_cpu,
		 c.w.iterations, (unsigned long long)c.w.harvest_interval_ns,
		 (unsigned long long)c.w.duration_ns, c.w.floor_passes, c.w.memslot_protect,
		 rf.hist_sample_ns, rf.clock_read_ns);
	free(c.cpus);
	if (meta_write(dir, argc, argv, "dirty-log", extra))
		return 1;
	printf("results: %s\n", dir);
	return 0;
}
