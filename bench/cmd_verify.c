/*
 * dlbench verify: runs the no-lost-dirty-page verifier (workloads/verify.c)
 * for every combination of the strategies, fault paths and vCPU counts
 * given, prints one row each, and exits 1 if any page was lost.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/commands.h"
#include "lib/dirty_log/dirty_log.h"
#include "lib/memslot_protect/memslot_protect.h"
#include "workloads/verify.h"

#define VERIFY_MAX_SPECS 32
#define VERIFY_MAX_VCPU_COUNTS 16

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dlbench verify -s STRATEGY[:OPTS] [-s ...] [options]\n"
		"\n"
		"vCPU threads write sequence numbers into guest pages while a harvester\n"
		"copies every page the strategy reports dirty into a destination image;\n"
		"after the vCPUs stop and a final harvest, the destination must equal the\n"
		"source byte for byte, and every page written after a harvest must be\n"
		"reported by the next one (plus the strategy's declared lag).\n"
		"\n"
		"  -s, --strategy SPEC     NAME[:KEY=VALUE,...], repeatable; 'all': each with defaults\n"
		"  -p, --fault-path LIST   locked, fast or locked,fast (default locked)\n"
		"      --memslot-protect P memslot read protection of the fault path: floor, mutex,\n"
		"                          rwlock, rwlock-cond, srcu-mb, srcu-fast, urcu (`srcu` is\n"
		"                          srcu-mb; default " VM_MEMSLOT_PROTECT_DEFAULT ")\n"
		"      --memslot-updates   after every round, replace the memslot table (same\n"
		"                          slots) through the protection, with the vCPUs running\n"
		"  -v, --vcpus LIST        vCPU counts, e.g. 1,2,4 (default 1); more than CPUs is allowed\n"
		"  -b, --bytes SIZE        guest memory (default 4M)\n"
		"  -n, --slots N           memslots (default 1)\n"
		"  -r, --rounds N          harvest rounds before the final one (default 100)\n"
		"      --store-delay NS    busy wait between a vCPU's translation and its store (default 0)\n"
		"      --interval NS       sleep between harvest rounds (default 0)\n"
		"      --round-writes N    start a round once the vCPUs made N writes since the last\n"
		"                          (or 2 ms passed; default 256)\n"
		"  -m, --backing NAME      anonymous|anonymous_thp|anonymous_hugetlb|shmem (default anonymous)\n"
		"      --numa POLICY       local|interleave|bind:N (default local)\n"
		"  -c, --cpus LIST         CPUs for the vCPU threads (default: --placement)\n"
		"      --placement P       compact|spread (default compact)\n"
		"      --seed N            random seed of the vCPUs' page choice (default 1)\n"
		"  -h, --help\n"
		"\n"
		"strategies:\n");
	dirty_log_list(f);
	fprintf(f, "\nexit status: 0 no page lost, 1 pages lost, 2 bad input\n");
}

int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "strategy", required_argument, NULL, 's' },
		{ "fault-path", required_argument, NULL, 'p' },
		{ "vcpus", required_argument, NULL, 'v' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "slots", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "store-delay", required_argument, NULL, 1 },
		{ "interval", required_argument, NULL, 2 },
		{ "backing", required_argument, NULL, 'm' },
		{ "numa", required_argument, NULL, 3 },
		{ "cpus", required_argument, NULL, 'c' },
		{ "placement", required_argument, NULL, 4 },
		{ "seed", required_argument, NULL, 5 },
		{ "round-writes", required_argument, NULL, 6 },
		{ "memslot-protect", required_argument, NULL, 7 },
		{ "memslot-updates", no_argument, NULL, 8 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *specs[VERIFY_MAX_SPECS];
	uint64_t vcpus[VERIFY_MAX_VCPU_COUNTS] = { 1 };
	size_t nspecs = 0, nvcpus = 1;
	bool path_on[2] = { true, false };
	struct verify_config c = {
		.nslots = 1,
		.rounds = 100,
		.seed = 1,
		.min_writes_per_round = 256,
		.mem = { .bytes = 4ull << 20, .backing = GUEST_BACKING_ANONYMOUS, .numa = GUEST_NUMA_LOCAL },
		.placement = PLACEMENT_COMPACT,
		.memslot_protect = VM_MEMSLOT_PROTECT_DEFAULT,
	};
	uint64_t total_verified = 0, total_lost = 0;
	int opt, failed = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:p:v:b:n:r:m:c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (!strcmp(optarg, "all")) {
				const struct dirty_log_ops *o;

				for (int i = 0; (o = dirty_log_nth(i)); i++)
					if (nspecs < VERIFY_MAX_SPECS)
						specs[nspecs++] = o->name;
			} else if (nspecs < VERIFY_MAX_SPECS) {
				specs[nspecs++] = optarg;
			} else {
				cli_die("--strategy: at most %d strategies", VERIFY_MAX_SPECS);
			}
			break;
		case 'p': {
			char buf[64], *save = NULL;

			snprintf(buf, sizeof(buf), "%s", optarg);
			path_on[0] = path_on[1] = false;
			for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
				path_on[cli_choice("--fault-path", t, fault_path_names)] = true;
			if (!path_on[0] && !path_on[1])
				cli_die("--fault-path: '%s' names no fault path (locked, fast)", optarg);
			break;
		}
		case 'v':
			nvcpus = cli_u64_list("--vcpus", optarg, vcpus, VERIFY_MAX_VCPU_COUNTS, 1, 1024);
			break;
		case 'b':
			c.mem.bytes = cli_size("--bytes", optarg, 256 << 10, 1ull << 40);
			break;
		case 'n':
			c.nslots = (uint32_t)cli_u64("--slots", optarg, 1, 4096);
			break;
		case 'r':
			c.rounds = cli_u64("--rounds", optarg, 1, 1ull << 32);
			break;
		case 1:
			c.store_delay_ns = cli_u64("--store-delay", optarg, 0, 1000000000);
			break;
		case 2:
			c.round_interval_ns = cli_u64("--interval", optarg, 0, 10000000000ull);
			break;
		case 'm':
			c.mem.backing = (enum guest_backing)cli_choice("--backing", optarg, guest_backing_names);
			break;
		case 3:
			if (guest_numa_parse(optarg, &c.mem.numa, &c.mem.numa_node))
				cli_die("--numa: '%s' is not local, interleave or bind:N", optarg);
			break;
		case 'c':
			c.cpu_list = optarg;
			break;
		case 4:
			if (placement_parse(optarg, &c.placement))
				cli_die("--placement: '%s' is not compact or spread", optarg);
			break;
		case 5:
			c.seed = cli_u64("--seed", optarg, 0, UINT64_MAX);
			break;
		case 6:
			c.min_writes_per_round = cli_u64("--round-writes", optarg, 0, 1ull << 40);
			break;
		case 7: {
			const char *name = !strcmp(optarg, "srcu") ? "srcu-mb" : optarg;

			c.memslot_protect = memslot_protect_names[cli_choice("--memslot-protect", name,
									     memslot_protect_names)];
			break;
		}
		case 8:
			c.memslot_updates = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			cli_die("bad option (dlbench verify --help)");
		}
	}
	if (optind < argc)
		cli_die("unexpected argument '%s' (dlbench verify --help)", argv[optind]);
	if (!nspecs)
		cli_die("--strategy: give at least one (dlbench verify --help lists them)");
	/* Check every spec before running anything. */
	for (size_t i = 0; i < nspecs; i++) {
		char err[256];
		struct dirty_log *log = dirty_log_create(specs[i], NULL, err, sizeof(err));

		if (!log)
			cli_die("--strategy: %s", err);
		dirty_log_free(log);
	}

	/* The memory and the slot split, before any output. */
	{
		struct guest_memory mem;
		char err[512];
		uint64_t per_slot = (c.mem.bytes >> 12) / c.nslots;

		if (per_slot * c.nslots != c.mem.bytes >> 12 || per_slot % 64)
			cli_die("--slots: %llu bytes do not split into %u memslots of a multiple of 64 pages (256 KiB) each",
				(unsigned long long)c.mem.bytes, c.nslots);
		if (guest_memory_create(&mem, &c.mem, err, sizeof(err)))
			cli_die("%s", err);
		guest_memory_destroy(&mem);
	}
	printf("memslot protection: %s%s\n", c.memslot_protect,
	       c.memslot_updates ? ", table replaced after every round" : "");
	printf("%-32s %-6s %5s %7s %14s %10s %12s %10s %8s\n", "strategy", "fault", "vcpus",
	       "rounds", "pages_verified", "pages_lost", "writes", "faults", "seconds");
	for (size_t i = 0; i < nspecs; i++)
		for (int p = 0; p < 2; p++) {
			if (!path_on[p])
				continue;
			for (size_t k = 0; k < nvcpus; k++) {
				struct verify_result res;
				char err[512];

				c.strategy = specs[i];
				c.fault_path = (enum fault_path)p;
				c.nvcpus = (int)vcpus[k];
				if (verify_run(&c, &res, err, sizeof(err)))
					cli_die("%s", err);
				printf("%-32s %-6s %5d %7llu %14llu %10llu %12llu %10llu %8.2f\n",
				       specs[i], fault_path_names[p], c.nvcpus,
				       (unsigned long long)res.rounds,
				       (unsigned long long)res.pages_verified,
				       (unsigned long long)res.pages_lost,
				       (unsigned long long)res.writes,
				       (unsigned long long)res.faults, res.seconds);
				fflush(stdout);
				total_verified += res.pages_verified;
				total_lost += res.pages_lost;
				if (res.pages_lost)
					failed = 1;
				if (!res.faults) {
					fprintf(stderr, "verify: %s %s %d vCPUs: no write fault, nothing was verified\n",
						specs[i], fault_path_names[p], c.nvcpus);
					failed = 1;
				}
			}
		}
	printf("total: %llu pages verified, %llu pages lost: %s\n",
	       (unsigned long long)total_verified, (unsigned long long)total_lost,
	       failed ? "FAIL" : "ok");
	return failed;
}
