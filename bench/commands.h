/*
 * The subcommands of build/dlbench.  Each lives in bench/cmd_<name>.c and
 * is listed once in bench/dlbench.c.
 */
#ifndef DLBENCH_COMMANDS_H
#define DLBENCH_COMMANDS_H

struct dlbench_command {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv); /* argv[0] is the subcommand */
};

int cmd_run(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Whether @name is one of the commands above (not a workload table). */
int dlbench_is_command(const char *name);

#endif
