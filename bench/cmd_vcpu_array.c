/*
 * dlbench vcpu-array: the dynamic vCPU array strategies (seed 004) under a
 * creator, "kick all" iterators and lookups by index.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/vcpu_array_workload.h"
#include "bench/cli.h"
#include "bench/commands.h"
#include "bench/report/csv.h"
#include "lib/util/histogram.h"
#include "bench/report/meta.h"
#include "bench/report/results.h"
#include "lib/util/topology.h"

static const char *const retire_names[] = { "call", "sync", NULL };
static const char *const flavour_names[] = { "mb", "fast", NULL };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dlbench vcpu-array [OPTIONS]\n"
		"\n"
		"A creator adds vCPUs up to N while iterators run \"kick every vCPU\"\n"
		"passes and lookup threads fetch vCPUs by index; after creation the\n"
		"steady phase is measured.  Writes summary.csv, hist/*.csv, meta.json.\n"
		"\n"
		"  -s, --strategy NAME          fixed | rcu | chunked | radix (default chunked)\n"
		"  -n, --vcpus N                vCPUs to create (default 1024)\n"
		"  -m, --max-vcpus N            KVM_MAX_VCPUS: size of `fixed`, bound of all (default 4096)\n"
		"      --chunk-size N           chunked: entries per chunk, power of two (default 128)\n"
		"      --radix-bits N           radix: log2 fanout per level, 2 levels (default 6)\n"
		"      --initial-capacity N     rcu: capacity of the first array, doubling (default 16)\n"
		"      --retire call|sync       rcu: free old arrays via call_srcu or synchronize_srcu (default call)\n"
		"      --srcu-flavour F         rcu: mb | fast read side (default mb)\n"
		"  -i, --iterators N            \"kick all\" iterator threads (default 1)\n"
		"  -l, --lookupers N            lookup-by-index threads (default 1)\n"
		"  -d, --duration SECONDS       steady phase after all N exist (default 0.5)\n"
		"      --create-interval-ns NS  creator's pause between vCPUs (default 0)\n"
		"      --lookup-batch N         lookups per timed batch (default 256)\n"
		"  -r, --repetitions N          rows to measure (default 1)\n"
		"  -p, --placement P            compact | spread (default compact)\n"
		"  -c, --cpus LIST              explicit OS CPUs for creator, iterators, lookups\n"
		"  -o, --out DIR                results directory (must not exist)\n"
		"  -h, --help\n");
}

static int write_hist(const char *dir, const char *name, const char *strategy, int rep,
		      const struct histogram *h)
{
	return results_save_histogram(h, dir, "hist/%s-%s-r%d.csv", name, strategy, rep);
}

int cmd_vcpu_array(int argc, char **argv)
{
	enum { O_CHUNK = 256, O_RADIX, O_INITCAP, O_RETIRE, O_INTERVAL, O_BATCH, O_FLAVOUR };
	static const struct option longopts[] = {
		{ "strategy", required_argument, NULL, 's' },
		{ "vcpus", required_argument, NULL, 'n' },
		{ "max-vcpus", required_argument, NULL, 'm' },
		{ "chunk-size", required_argument, NULL, O_CHUNK },
		{ "radix-bits", required_argument, NULL, O_RADIX },
		{ "initial-capacity", required_argument, NULL, O_INITCAP },
		{ "retire", required_argument, NULL, O_RETIRE },
		{ "srcu-flavour", required_argument, NULL, O_FLAVOUR },
		{ "iterators", required_argument, NULL, 'i' },
		{ "lookupers", required_argument, NULL, 'l' },
		{ "duration", required_argument, NULL, 'd' },
		{ "create-interval-ns", required_argument, NULL, O_INTERVAL },
		{ "lookup-batch", required_argument, NULL, O_BATCH },
		{ "repetitions", required_argument, NULL, 'r' },
		{ "placement", required_argument, NULL, 'p' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vcpu_array_params p;
	const char *cpu_list = NULL, *out = NULL, *placement_name = "compact";
	enum placement placement = PLACEMENT_COMPACT;
	double duration = 0.5;
	int reps = 1, opt, nthreads, *cpus, rc = 0;
	char dir[PATH_MAX], cpus_str[256] = "";
	struct results_file sum;

	memset(&p, 0, sizeof(p));
	vcpu_array_config_default(&p.cfg);
	p.ops = &vcpu_array_chunked_ops;
	p.nvcpus = 1024;
	p.iterators = 1;
	p.lookupers = 1;
	p.lookup_batch = 256;
	opterr = 0;   /* errors are reported in one line below */
	while ((opt = getopt_long(argc, argv, "s:n:m:i:l:d:r:p:c:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			p.ops = vcpu_array_strategies[cli_choice("--strategy", optarg,
								 vcpu_array_strategy_names)];
			break;
		case 'n': p.nvcpus = (uint32_t)cli_u64("--vcpus", optarg, 1, 1u << 20); break;
		case 'm': p.cfg.max_vcpus = (uint32_t)cli_u64("--max-vcpus", optarg, 1, 1u << 20); break;
		case O_CHUNK:
			p.cfg.chunk_size = (uint32_t)cli_u64("--chunk-size", optarg, 1, 1u << 16);
			if (p.cfg.chunk_size & (p.cfg.chunk_size - 1))
				cli_die("--chunk-size: %u is not a power of two", p.cfg.chunk_size);
			break;
		case O_RADIX: p.cfg.radix_bits = (uint32_t)cli_u64("--radix-bits", optarg, 1, 15); break;
		case O_INITCAP:
			p.cfg.initial_capacity = (uint32_t)cli_u64("--initial-capacity", optarg, 1, 1u << 20);
			break;
		case O_RETIRE:
			p.cfg.retire = (enum vcpu_retire)cli_choice("--retire", optarg, retire_names);
			break;
		case O_FLAVOUR:
			p.cfg.srcu_flavour = (enum srcu_flavour)cli_choice("--srcu-flavour", optarg,
									   flavour_names);
			break;
		case 'i': p.iterators = (int)cli_u64("--iterators", optarg, 0, 1024); break;
		case 'l': p.lookupers = (int)cli_u64("--lookupers", optarg, 0, 1024); break;
		case 'd': duration = cli_double("--duration", optarg, 0.001, 3600); break;
		case O_INTERVAL:
			p.create_interval_ns = cli_u64("--create-interval-ns", optarg, 0, 1000000000ull);
			break;
		case O_BATCH: p.lookup_batch = (uint32_t)cli_u64("--lookup-batch", optarg, 1, 1u << 20); break;
		case 'r': reps = (int)cli_u64("--repetitions", optarg, 1, 1000); break;
		case 'p':
			if (placement_parse(optarg, &placement))
				cli_die("--placement: '%s' is not compact or spread", optarg);
			placement_name = optarg;
			break;
		case 'c': cpu_list = optarg; break;
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			cli_die("unknown option or missing value in '%s' (see --help)",
				argv[optind - 1]);
		}
	}
	if (optind < argc)
		cli_die("unexpected argument '%s' (see --help)", argv[optind]);
	if (p.nvcpus > p.cfg.max_vcpus)
		cli_die("--vcpus %u exceeds --max-vcpus %u", p.nvcpus, p.cfg.max_vcpus);
	if (p.ops == &vcpu_array_radix_ops &&
	    ((uint64_t)1 << (2 * p.cfg.radix_bits)) < p.cfg.max_vcpus)
		cli_die("--radix-bits %u: two levels hold %llu vCPUs, fewer than --max-vcpus %u",
			p.cfg.radix_bits, 1ull << (2 * p.cfg.radix_bits), p.cfg.max_vcpus);
	if (p.iterators + p.lookupers == 0)
		cli_die("--iterators and --lookupers are both 0: nothing to measure");
	p.steady_ns = (uint64_t)(duration * 1e9);

	nthreads = 1 + p.iterators + p.lookupers;
	cpus = cli_pick_cpus(nthreads, placement, cpu_list, "threads");
	topology_cpus_text(cpus_str, sizeof(cpus_str), cpus, nthreads);
	p.cpus = cpus;

	if (results_dir_create(dir, sizeof(dir), out, "vcpu-array"))
		return 2;
	if (results_file_open(&sum, dir, "summary.csv"))
		return 2;
	fprintf(sum.f, "workload,strategy,vcpus,max_vcpus,chunk_size,radix_bits,initial_capacity,retire,srcu_flavour,"
		       "iterators,lookupers,duration_s,create_interval_ns,lookup_batch,repetitions,"
		       "placement,cpus,repetition,"
		       "visit_ns_per_vcpu,visit_ns_per_vcpu_p50,passes,pass_ns_p50,pass_ns_p99,pass_ns_max,"
		       "passes_during_creation,lookup_ns,lookups,lookup_ns_p50,lookup_ns_p99,"
		       "create_ns_mean,create_ns_p50,create_ns_p99,create_ns_max,creation_ms,"
		       "footprint_bytes,bad_passes,bad_lookups\n");
	printf("%-8s %4s %6s %10s %10s %10s %10s %10s %10s %10s %10s\n", "strategy", "rep",
	       "vcpus", "visit_ns", "visit_p50", "lookup_ns", "lookup_p50", "create_p50",
	       "create_p99", "create_max", "footprint");
	for (int rep = 1; rep <= reps && rc == 0; rep++) {
		struct vcpu_array_result res;
		double visit, visit_p50, lookup;

		if (vcpu_array_run(&p, &res)) {
			rc = 1;
			break;
		}
		visit = res.visited ? (double)res.pass_ns_total / (double)res.visited : 0;
		visit_p50 = (double)histogram_quantile(res.pass_ns, 0.5) / (double)p.nvcpus;
		lookup = res.lookups ? (double)res.lookup_ns_total / (double)res.lookups : 0;
		fprintf(sum.f, "vcpu-array,%s,%u,%u,%u,%u,%u,%s,%s,%d,%d,%g,%llu,%u,%d,",
			p.ops->name, p.nvcpus, p.cfg.max_vcpus, p.cfg.chunk_size, p.cfg.radix_bits,
			p.cfg.initial_capacity, retire_names[p.cfg.retire],
			flavour_names[p.cfg.srcu_flavour], p.iterators, p.lookupers,
			duration, (unsigned long long)p.create_interval_ns, p.lookup_batch, reps);
		csv_field(sum.f, placement_name);
		fputc(',', sum.f);
		csv_field(sum.f, cpu_list ? cpu_list : cpus_str);
		fprintf(sum.f, ",%d,%.3f,%.3f,%llu,%llu,%llu,%llu,%llu,%.3f,%llu,%llu,%llu,"
			       "%.1f,%llu,%llu,%llu,%.3f,%llu,%llu,%llu\n",
			rep, visit, visit_p50, (unsigned long long)res.passes,
			(unsigned long long)histogram_quantile(res.pass_ns, 0.5),
			(unsigned long long)histogram_quantile(res.pass_ns, 0.99),
			(unsigned long long)histogram_quantile(res.pass_ns, 1.0),
			(unsigned long long)res.passes_during_creation, lookup,
			(unsigned long long)res.lookups,
			(unsigned long long)histogram_quantile(res.lookup_ns, 0.5),
			(unsigned long long)histogram_quantile(res.lookup_ns, 0.99),
			histogram_mean(res.create_ns),
			(unsigned long long)histogram_quantile(res.create_ns, 0.5),
			(unsigned long long)histogram_quantile(res.create_ns, 0.99),
			(unsigned long long)histogram_quantile(res.create_ns, 1.0),
			(double)res.creation_ns / 1e6, (unsigned long long)res.footprint_bytes,
			(unsigned long long)res.bad_passes, (unsigned long long)res.bad_lookups);
		printf("%-8s %4d %6u %10.2f %10.2f %10.2f %10llu %10llu %10llu %10llu %10llu\n",
		       p.ops->name, rep, p.nvcpus, visit, visit_p50, lookup,
		       (unsigned long long)histogram_quantile(res.lookup_ns, 0.5),
		       (unsigned long long)histogram_quantile(res.create_ns, 0.5),
		       (unsigned long long)histogram_quantile(res.create_ns, 0.99),
		       (unsigned long long)histogram_quantile(res.create_ns, 1.0),
		       (unsigned long long)res.footprint_bytes);
		if (res.bad_passes || res.bad_lookups) {
			fprintf(stderr, "%s: %llu passes missed or misread vCPUs, %llu lookups returned a wrong vCPU\n",
				cli_prog, (unsigned long long)res.bad_passes,
				(unsigned long long)res.bad_lookups);
			rc = 1;
		}
		if (write_hist(dir, "pass_ns", p.ops->name, rep, res.pass_ns) ||
		    write_hist(dir, "lookup_ns", p.ops->name, rep, res.lookup_ns) ||
		    write_hist(dir, "create_ns", p.ops->name, rep, res.create_ns))
			rc = 1;
		vcpu_array_result_free(&res);
	}
	if (rc) {
		results_file_abort(&sum);
	} else {
		char extra[256];

		if (results_file_commit(&sum))
			rc = 1;
		snprintf(extra, sizeof(extra), "\"strategy\": \"%s\", \"strategy_summary\": \"%s\"",
			 p.ops->name, p.ops->summary);
		if (meta_write(dir, argc, argv, "vcpu-array", extra))
			rc = 1;
	}
	free(cpus);
	fprintf(stderr, "%s: results in %s\n", cli_prog, dir);
	return rc;
}
