/*
 * build/dlbench: the suite's single entry point.  The workloads come from
 * their tables (one file each in workloads/, listed once in `workloads[]` below) through
 * the generic driver; the other commands (run, plot, compare) are the
 * front's own.  `dlbench CMD --help` describes each.
 */
#include <stdio.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/commands.h"
#include "bench/driver.h"
#include "version.h"

extern const struct workload workload_srcu, workload_verify, workload_harvest, workload_vcpu_array,
	workload_rmap, workload_memslot, workload_dirty_log;

const struct workload *const workloads[] = {
	&workload_harvest,   &workload_vcpu_array, &workload_rmap, &workload_verify,
	&workload_dirty_log, &workload_memslot,	   &workload_srcu, NULL,
};

/* clang-format off */
static const struct dlbench_command commands[] = {
	{ "run", "run a benchmark matrix (configs/*.ini), then plot it", cmd_run },
	{ "merge", "merge the results directories of shards or hosts into one", cmd_merge },
	{ "plot", "render the gnuplot plots of a result directory", cmd_plot },
	{ "compare", "ratio of medians B/A with 95% bootstrap intervals", cmd_compare },
	{ "report", "write report.html: metadata, verdicts, ranked tables, plots, failures", cmd_report },
	{ NULL, NULL, NULL },
};
/* clang-format on */

int dlbench_is_command(const char *name)
{
	for (int i = 0; commands[i].name; i++)
		if (!strcmp(commands[i].name, name))
			return 1;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dlbench COMMAND [OPTIONS]   (dlbench COMMAND --help)\n\n"
		   "Userspace emulations of KVM's guest-memory metadata synchronization.\n\n"
		   "workloads:\n");
	for (int i = 0; workloads[i]; i++)
		fprintf(f, "  %-12s %s\n", workloads[i]->name, workloads[i]->summary);
	fprintf(f, "\ncommands:\n");
	for (int i = 0; commands[i].name; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nversion %s\n", DLBENCH_VERSION);
}

int main(int argc, char **argv)
{
	static char prog[64];
	const struct workload *w;

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
	snprintf(prog, sizeof(prog), "dlbench %s", argv[1]);
	cli_prog = prog;
	w = workload_find(argv[1]);
	if (w)
		return workload_main(w, argc - 1, argv + 1);
	for (int i = 0; commands[i].name; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "dlbench: unknown command '%s' (dlbench --help lists them)\n", argv[1]);
	return 2;
}
