/*
 * dlbench memslot: memslot read protections (mutex, rwlock, rwlock-cond,
 * srcu-mb, srcu-fast, urcu, and the floor) under vCPU lookups and one
 * updater changing the memslot table (seed 001).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workloads/memslot_workload.h"
#include "bench/cli.h"
#include "bench/commands.h"
#include "bench/report/csv.h"
#include "lib/util/histogram.h"
#include "lib/memslot_protect/memslot_protect.h"
#include "bench/report/meta.h"
#include "bench/report/results.h"
#include "lib/util/topology.h"

#define MAX_LIST 64
#define MAX_READERS 4096

static const char *const gp_names[] = { "normal", "expedited", NULL };
static const char *const placement_names[] = { "compact", "spread", NULL };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dlbench memslot [OPTIONS]\n"
		"\n"
		"vCPU threads look random gfns up in the memslot table through a read\n"
		"protection and touch the page; one updater changes the table.  Every\n"
		"combination of the list options is one cell (one summary row per\n"
		"repetition).  Writes summary.csv, hist/*.csv, meta.json.\n"
		"\n"
		"  -p, --protection LIST     of: floor, mutex, rwlock, rwlock-cond, srcu-mb,\n"
		"                            srcu-fast, urcu, or all (default srcu-fast)\n"
		"                            floor: the same loop, a bare per-thread counter\n"
		"                            increment in place of the protection\n"
		"  -v, --readers LIST        vCPU reader threads (default: every CPU)\n"
		"  -u, --update-rate LIST    updates per second, 0 = back to back (default 1000)\n"
		"  -d, --duration SECONDS    per cell, fractions allowed (default 0.5)\n"
		"  -m, --mode LIST           map | unmap | unmap-chunked | move-active |\n"
		"                            move-inactive | rw, or all (default move-active)\n"
		"  -g, --gp normal|expedited grace periods of srcu-* (default normal)\n"
		"  -e, --expedited           the same as --gp expedited\n"
		"  -C, --critical-ns NS      extra busy time inside each read section (default 0)\n"
		"  -s, --slots N             base slots the readers use (default 32)\n"
		"  -P, --slot-pages N        pages per slot (default 256)\n"
		"  -t, --test-slots N        chunks of the test area (default 8)\n"
		"  -b, --stall-batch N       reader iterations per timed batch (default 64)\n"
		"  -S, --seed N              readers' random gfns (default 1)\n"
		"  -r, --repetitions N       rows per cell (default 1)\n"
		"  -c, --cpus LIST           OS CPUs for the readers, e.g. 0,2,4-7\n"
		"  -l, --placement P         compact | spread (default compact)\n"
		"  -o, --out DIR             results directory (must not exist)\n"
		"  -h, --help\n"
		"\n"
		"Modes (after the kernel's memslot_perf_test; what one update does):\n"
		"  map            map one more test-area chunk; all mapped: unmap them all\n"
		"  unmap          delete or re-create the test area as one slot, in turn\n"
		"  unmap-chunked  unmap one chunk; none left: map them all again\n"
		"  move-active    move a slot the readers use between two places\n"
		"  move-inactive  move a slot no reader uses\n"
		"  rw             toggle a slot's dirty-logging flag; readers write and read\n"
		"\n"
		"Readers are pinned (--cpus / --placement); the updater is the calling\n"
		"thread, unpinned.  floor keeps every replaced table (it cannot know when\n"
		"readers are done), up to 256 MiB; beyond that its updater stops.\n"
		"\n"
		"Figures: lookups per second per reader (mean, min, max), updates per\n"
		"second, update latency (p50, p99, max), reader stall = ns per batch of\n"
		"--stall-batch iterations (p50, p99, max).\n");
}

/* Splits a comma list of names into indexes of @names. */
static size_t parse_names(const char *opt, const char *s, const char *const *names, int *out,
			  size_t max)
{
	char *copy = strdup(s), *save = NULL, *tok;
	size_t n = 0;

	if (!copy)
		cli_die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			cli_die("%s: more than %zu values in '%s'", opt, max, s);
		out[n++] = cli_choice(opt, tok, names);
	}
	free(copy);
	if (n == 0)
		cli_die("%s: empty list", opt);
	return n;
}

static int write_hist(const char *dir, const char *cell, const char *what,
		      const struct histogram *h)
{
	return results_save_histogram(h, dir, "hist/%s-%s.csv", cell, what);
}

int cmd_memslot(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "protection", required_argument, NULL, 'p' },
		{ "readers", required_argument, NULL, 'v' },
		{ "update-rate", required_argument, NULL, 'u' },
		{ "duration", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, 'm' },
		{ "gp", required_argument, NULL, 'g' },
		{ "expedited", no_argument, NULL, 'e' },
		{ "critical-ns", required_argument, NULL, 'C' },
		{ "slots", required_argument, NULL, 's' },
		{ "slot-pages", required_argument, NULL, 'P' },
		{ "test-slots", required_argument, NULL, 't' },
		{ "stall-batch", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 'S' },
		{ "repetitions", required_argument, NULL, 'r' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "placement", required_argument, NULL, 'l' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int prots[MAX_LIST], modes[MAX_LIST];
	uint64_t readers[MAX_LIST], rates[MAX_LIST];
	size_t nprots = 1, nmodes = 1, nreaders = 0, nrates = 1;
	struct memslot_bench_params base = {
		.slots = 32, .slot_pages = 256, .test_slots = 8, .stall_batch = 64, .seed = 1,
	};
	double duration_s = 0.5;
	int gp = 0, placement_i = 0, reps = 1, opt, rc = 0;
	enum placement placement = PLACEMENT_COMPACT;
	const char *cpu_list = NULL, *out = NULL;
	char dir[4096], err[256];
	struct results_file sum;
	long phys_pages;

	prots[0] = cli_choice("--protection", "srcu-fast", memslot_protect_names);
	modes[0] = MEMSLOT_MODE_MOVE_ACTIVE;
	rates[0] = 1000;
	opterr = 0;   /* one line of our own instead of getopt's */
	while ((opt = getopt_long(argc, argv, ":p:v:u:d:m:g:eC:s:P:t:b:S:r:c:l:o:h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (!strcmp(optarg, "all")) {
				for (nprots = 0; memslot_protect_names[nprots]; nprots++)
					prots[nprots] = (int)nprots;
			} else {
				nprots = parse_names("--protection", optarg, memslot_protect_names,
						     prots, MAX_LIST);
			}
			break;
		case 'v':
			nreaders = cli_u64_list("--readers", optarg, readers, MAX_LIST, 1, MAX_READERS);
			break;
		case 'u':
			nrates = cli_u64_list("--update-rate", optarg, rates, MAX_LIST, 0, 10000000);
			break;
		case 'd':
			duration_s = cli_double("--duration", optarg, 0.001, 86400);
			break;
		case 'm':
			if (!strcmp(optarg, "all")) {
				for (nmodes = 0; memslot_mode_names[nmodes]; nmodes++)
					modes[nmodes] = (int)nmodes;
			} else {
				nmodes = parse_names("--mode", optarg, memslot_mode_names, modes,
						     MAX_LIST);
			}
			break;
		case 'g':
			gp = cli_choice("--gp", optarg, gp_names);
			break;
		case 'e':
			gp = 1;
			break;
		case 'C':
			base.critical_ns = cli_u64("--critical-ns", optarg, 0, 1000000000);
			break;
		case 's':
			base.slots = (uint32_t)cli_u64("--slots", optarg, 1, 65536);
			break;
		case 'P':
			base.slot_pages = (uint32_t)cli_u64("--slot-pages", optarg, 1, 1u << 20);
			break;
		case 't':
			base.test_slots = (uint32_t)cli_u64("--test-slots", optarg, 1, 4096);
			break;
		case 'b':
			base.stall_batch = (uint32_t)cli_u64("--stall-batch", optarg, 1, 1u << 20);
			break;
		case 'S':
			base.seed = cli_u64("--seed", optarg, 0, UINT64_MAX);
			break;
		case 'r':
			reps = (int)cli_u64("--repetitions", optarg, 1, 1000);
			break;
		case 'c':
			cpu_list = optarg;
			break;
		case 'l':
			placement_i = cli_choice("--placement", optarg, placement_names);
			if (placement_parse(optarg, &placement))
				cli_die("--placement: unknown value '%s' (one of: compact, spread)", optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			cli_die("option '%s' needs a value", argv[optind - 1]);
		default:
			cli_die("unknown option '%s' (dlbench memslot --help lists them)",
				argv[optind - 1]);
		}
	}
	if (optind < argc)
		cli_die("unexpected argument '%s' (dlbench memslot --help lists the options)",
			argv[optind]);
	if (topology_init())
		cli_die("hwloc cannot load the machine topology");
	if (!nreaders) {
		readers[0] = (uint64_t)topology_cpu_count();
		nreaders = 1;
	}
	base.duration_ns = (uint64_t)(duration_s * 1e9);
	base.expedited = gp == 1;
	phys_pages = sysconf(_SC_PHYS_PAGES);
	if (phys_pages > 0 &&
	    memslot_bench_memory_bytes(&base) > (uint64_t)phys_pages * PAGE_SIZE / 2)
		cli_die("--slots/--test-slots/--slot-pages: %llu bytes of guest memory is more than half of the %llu bytes of RAM",
			(unsigned long long)memslot_bench_memory_bytes(&base),
			(unsigned long long)phys_pages * PAGE_SIZE);
	/* Check every readers value against the CPUs before running anything. */
	for (size_t i = 0; i < nreaders; i++) {
		int *cpus = calloc(readers[i], sizeof(int)), over;

		if (!cpus)
			cli_die("out of memory");
		if (topology_pick_cpus((int)readers[i], placement, cpu_list, cpus, &over, err,
				       sizeof(err)))
			cli_die("--cpus: %s", err);
		if (over)
			fprintf(stderr, "dlbench memslot: warning: %llu readers on fewer CPUs (overcommitted); figures include preemption\n",
				(unsigned long long)readers[i]);
		free(cpus);
	}

	if (results_dir_create(dir, sizeof(dir), out, "memslot"))
		return 2;
	if (results_file_open(&sum, dir, "summary.csv"))
		return 1;
	fprintf(sum.f, "protection,readers,update_rate,mode,gp,repetition,duration_s,critical_ns,"
		       "slots,slot_pages,test_slots,stall_batch,seed,placement,cpus,overcommit,"
		       "elapsed_s,lookups_per_s,lookups_per_s_min,lookups_per_s_max,lookups_total,"
		       "hit_ratio,updates,updates_per_s,update_errors,update_p50_ns,update_p99_ns,"
		       "update_max_ns,stall_p50_ns,stall_p99_ns,stall_max_ns,read_failures\n");
	printf("%-11s %7s %8s %-13s %14s %10s %10s %10s %12s %11s %8s\n", "protection", "readers",
	       "upd/s", "mode", "lookups/s/rdr", "updates/s", "upd_p50", "upd_p99", "upd_max",
	       "stall_p99", "failures");
	for (size_t ip = 0; ip < nprots && !rc; ip++)
	for (size_t iv = 0; iv < nreaders && !rc; iv++)
	for (size_t iu = 0; iu < nrates && !rc; iu++)
	for (size_t im = 0; im < nmodes && !rc; im++)
	for (int rep = 0; rep < reps && !rc; rep++) {
		struct memslot_bench_params p = base;
		struct memslot_bench_result res;
		int *cpus = calloc(readers[iv], sizeof(int)), over;
		char cell[192], cpustr[1024];

		if (!cpus)
			cli_die("out of memory");
		topology_pick_cpus((int)readers[iv], placement, cpu_list, cpus, &over, err, sizeof(err));
		p.protection = memslot_protect_names[prots[ip]];
		p.readers = (int)readers[iv];
		p.cpus = cpus;
		p.update_rate = (double)rates[iu];
		p.mode = (enum memslot_mode)modes[im];
		if (memslot_bench_run(&p, &res)) {
			free(cpus);
			rc = 1;
			break;
		}
		topology_cpus_text(cpustr, sizeof(cpustr), cpus, p.readers);
		csv_field(sum.f, p.protection);
		fprintf(sum.f, ",%d,%llu,", p.readers, (unsigned long long)rates[iu]);
		csv_field(sum.f, memslot_mode_names[p.mode]);
		fprintf(sum.f, ",%s,%d,%.6g,%llu,%u,%u,%u,%u,%llu,%s,", gp_names[gp], rep,
			duration_s, (unsigned long long)p.critical_ns, p.slots, p.slot_pages,
			p.test_slots, p.stall_batch, (unsigned long long)p.seed,
			cpu_list ? "list" : placement_names[placement_i]);
		csv_field(sum.f, cpustr);
		fprintf(sum.f, ",%d,%.6f,%.1f,%.1f,%.1f,%llu,%.6f,%llu,%.1f,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n",
			over, res.elapsed_ns / 1e9, res.lookups_per_s, res.lookups_per_s_min,
			res.lookups_per_s_max, (unsigned long long)res.lookups,
			res.lookups ? (double)res.hits / (double)res.lookups : 0.0,
			(unsigned long long)res.updates, res.updates_per_s,
			(unsigned long long)res.update_errors,
			(unsigned long long)histogram_quantile(res.update_ns, 0.5),
			(unsigned long long)histogram_quantile(res.update_ns, 0.99),
			(unsigned long long)histogram_quantile(res.update_ns, 1.0),
			(unsigned long long)histogram_quantile(res.stall_ns, 0.5),
			(unsigned long long)histogram_quantile(res.stall_ns, 0.99),
			(unsigned long long)histogram_quantile(res.stall_ns, 1.0),
			(unsigned long long)res.read_failures);
		printf("%-11s %7d %8llu %-13s %14.0f %10.1f %10llu %10llu %12llu %11llu %8llu\n",
		       p.protection, p.readers, (unsigned long long)rates[iu],
		       memslot_mode_names[p.mode], res.lookups_per_s, res.updates_per_s,
		       (unsigned long long)histogram_quantile(res.update_ns, 0.5),
		       (unsigned long long)histogram_quantile(res.update_ns, 0.99),
		       (unsigned long long)histogram_quantile(res.update_ns, 1.0),
		       (unsigned long long)histogram_quantile(res.stall_ns, 0.99),
		       (unsigned long long)res.read_failures);
		fflush(stdout);
		snprintf(cell, sizeof(cell), "%s-v%d-u%llu-%s-%s-r%d", p.protection, p.readers,
			 (unsigned long long)rates[iu], memslot_mode_names[p.mode], gp_names[gp], rep);
		if (write_hist(dir, cell, "update", res.update_ns) ||
		    write_hist(dir, cell, "stall", res.stall_ns))
			rc = 1;
		if (res.read_failures) {
			fprintf(stderr, "dlbench memslot: %s: %llu lookups saw a retired table or slot\n",
				p.protection, (unsigned long long)res.read_failures);
			rc = 1;
		}
		memslot_bench_result_free(&res);
		free(cpus);
	}
	if (rc) {
		results_file_abort(&sum);
		fprintf(stderr, "dlbench memslot: stopped; partial results in %s\n", dir);
		return rc;
	}
	if (results_file_commit(&sum))
		return 1;
	if (meta_write(dir, argc, argv, "memslot",
		       "\"stall_ns\": \"wall time of one batch of stall_batch reader iterations\", "
		       "\"update_ns\": \"one memslot_protect_update call: copy, change, publish, wait, retire\", "
		       "\"lookups_per_s\": \"per reader, mean over readers\""))
		return 1;
	fprintf(stderr, "dlbench memslot: results in %s\n", dir);
	return 0;
}
