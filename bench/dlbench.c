/*
 * build/dlbench: the suite's single entry point.  `dlbench CMD --help`
 * describes each subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/commands.h"
#include "version.h"

static const struct dlbench_command commands[] = {
	{ "srcu", "SRCU read-side cost and grace-period latency, against liburcu", cmd_srcu },
	{ "verify", "prove no dirty page is lost: every dirty-log strategy, both fault paths", cmd_verify },
	{ "harvest", "get_log/clear_log time of each dirty-log strategy against the bare-loop floor", cmd_harvest },
	{ "run", "run a benchmark matrix (configs/*.ini), then plot it", cmd_run },
	{ "plot", "render the gnuplot plots of a result directory", cmd_plot },
	{ "compare", "ratio of medians B/A with 95% bootstrap intervals", cmd_compare },
	{ "vcpu-array", "dynamic vCPU array strategies: kick-all passes, lookups, creation", cmd_vcpu_array },
	{ "rmap", "rmap write-protect walks, locked vs lockless (nulls), under spte churn", cmd_rmap },
	{ "memslot", "memslot read protections (locks, SRCU, liburcu) under lookups and updates", cmd_memslot },
	{ "dirty-log", "dirty_log_perf_test: pinned vCPUs dirty memory, strategies harvest; stalls, floors", cmd_dirty_log },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: dlbench COMMAND [OPTIONS]   (dlbench COMMAND --help)\n\n"
		   "Userspace emulations of KVM's guest-memory metadata synchronization.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nversion %s\n", DLBENCH_VERSION);
}

int main(int argc, char **argv)
{
	static char prog[64];

	cli_full_argc = argc;
	cli_full_argv = argv;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("dlbench %s\n", DLBENCH_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name)) {
			snprintf(prog, sizeof(prog), "dlbench %s", commands[i].name);
			cli_prog = prog;
			return commands[i].main(argc - 1, argv + 1);
		}
	fprintf(stderr, "dlbench: unknown command '%s' (dlbench --help lists them)\n", argv[1]);
	return 2;
}
