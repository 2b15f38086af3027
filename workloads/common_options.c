/* Option checks shared by the workload tables: see common_options.h. */
#include "workloads/common_options.h"

#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "workloads/workload.h"

int dirty_log_spec_check(const char *value, char *err, size_t errlen)
{
	struct dirty_log *log;

	if (!strcmp(value, "all") || !strcmp(value, "none"))
		return 0;
	/* parse it now, so that a bad name or option is a usage error */
	log = dirty_log_create(value, NULL, err, errlen);
	if (!log)
		return -1;
	dirty_log_free(log);
	return 0;
}

int dirty_log_spec_expand(const char *value, const char **out, int max)
{
	const struct dirty_log_ops *o;
	int n = 0;

	if (strcmp(value, "all"))
		return 0;
	for (int i = 0; (o = dirty_log_nth(i)) && n < max; i++)
		out[n++] = o->name;
	return n;
}

void dirty_log_help(FILE *f)
{
	fprintf(f, "strategies:\n");
	dirty_log_list(f);
}

int workload_numa_parse(const char *value, enum guest_numa_policy *p, int *node)
{
	char buf[32];
	char *end;
	long n = strtol(value, &end, 10);

	if (*value >= '0' && *value <= '9' && !*end) {
		if (n > 4095)
			return -1;
		snprintf(buf, sizeof(buf), "bind:%ld", n);
		value = buf;
	}
	return guest_numa_parse(value, p, node);
}

int guest_numa_check(const char *value, char *err, size_t errlen)
{
	enum guest_numa_policy p;
	int node;

	if (workload_numa_parse(value, &p, &node)) {
		snprintf(err, errlen, "'%s' is not a node number, bind:N, interleave or local", value);
		return -1;
	}
	return 0;
}

int workload_memory_check(const struct guest_memory_options *o, char *err, size_t errlen)
{
	return guest_memory_check(o, err, errlen) ? WL_BAD_INPUT : 0;
}
