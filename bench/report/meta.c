/*
 * meta.json writer.  The file is a flat object of strings and numbers that
 * is only ever written, so the string escaping is done here rather than
 * pulling in a JSON library for it.
 */
#include "bench/report/meta.h"

#include <numa.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/report/results.h"
#include "lib/util/topology.h"
#include "version.h"

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* First line of a file, trimmed; "unknown" if unreadable. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static void cpu_model(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (colon && strncmp(line, "model name", 10) == 0) {
			colon += 2;
			colon[strcspn(colon, "\n")] = 0;
			snprintf(buf, len, "%s", colon);
			break;
		}
	}
	fclose(f);
}

int meta_write(const char *dir, int argc, char **argv, const char *workload, const char *extra)
{
	struct results_file rf;
	struct utsname u;
	char cmd[8192], model[256], topo[512], thp[256], thp_defrag[256], hugepages[64],
		hugesize[64], host[256], date[64];
	time_t t = time(NULL);
	struct tm tm;
	FILE *f;

	if (results_file_open(&rf, dir, "meta.json"))
		return -1;
	f = rf.f;
	if (cli_full_argv)
		cli_command_line(cmd, sizeof(cmd), cli_full_argc, cli_full_argv);
	else
		cli_command_line(cmd, sizeof(cmd), argc, argv);
	cpu_model(model, sizeof(model));
	topology_describe(topo, sizeof(topo));
	read_line("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof(thp));
	read_line("/sys/kernel/mm/transparent_hugepage/defrag", thp_defrag, sizeof(thp_defrag));
	read_line("/proc/sys/vm/nr_hugepages", hugepages, sizeof(hugepages));
	snprintf(hugesize, sizeof(hugesize), "%ld", (long)0);
	{
		FILE *mi = fopen("/proc/meminfo", "r");
		char line[256];
		while (mi && fgets(line, sizeof(line), mi))
			if (sscanf(line, "Hugepagesize: %63s", hugesize) == 1)
				break;
		if (mi)
			fclose(mi);
	}
	if (uname(&u) != 0)
		memset(&u, 0, sizeof(u));
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);

	fprintf(f, "{\n  \"suite\": \"dlbench\",\n  \"version\": ");
	json_string(f, DLBENCH_VERSION);
	fprintf(f, ",\n  \"workload\": ");
	json_string(f, workload);
	fprintf(f, ",\n  \"command\": ");
	json_string(f, cmd);
	fprintf(f, ",\n  \"date\": ");
	json_string(f, date);
	fprintf(f, ",\n  \"host\": ");
	json_string(f, host);
	fprintf(f, ",\n  \"kernel\": ");
	json_string(f, u.release);
	fprintf(f, ",\n  \"kernel_version\": ");
	json_string(f, u.version);
	fprintf(f, ",\n  \"machine\": ");
	json_string(f, u.machine);
	fprintf(f, ",\n  \"cpu_model\": ");
	json_string(f, model);
	fprintf(f, ",\n  \"topology\": ");
	json_string(f, topo);
	fprintf(f,
		",\n  \"packages\": %d,\n  \"cores\": %d,\n  \"pus\": %d,\n  \"usable_cpus\": %d",
		topology_packages(), topology_cores(), topology_pus(), topology_cpu_count());
	fprintf(f, ",\n  \"numa_nodes\": %d",
		numa_available() < 0 ? 1 : numa_num_configured_nodes());
	fprintf(f, ",\n  \"thp_enabled\": ");
	json_string(f, thp);
	fprintf(f, ",\n  \"thp_defrag\": ");
	json_string(f, thp_defrag);
	fprintf(f, ",\n  \"nr_hugepages\": ");
	json_string(f, hugepages);
	fprintf(f, ",\n  \"hugepage_size_kb\": ");
	json_string(f, hugesize);
	if (extra && *extra)
		fprintf(f, ",\n  %s", extra);
	fprintf(f, "\n}\n");
	return results_file_commit(&rf);
}
