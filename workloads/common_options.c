/* Option checks shared by the workload tables: see common_options.h. */
#include "workloads/common_options.h"

#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/memslot_protect/memslot_protect.h"
#include "workloads/workload.h"

int dirty_log_spec_check(const char *value, char *err, size_t errlen)
{
	struct dirty_log *log;

	if (!strcmp(value, "all") || !strcmp(value, DIRTY_LOG_NONE))
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
	int n = 0, i;

	if (strcmp(value, "all"))
		return 0;
	dirty_log_foreach(o, i) {
		if (n == max)
			return -1;
		out[n++] = o->name;
	}
	return n;
}

void dirty_log_help(FILE *f)
{
	fprintf(f, "strategies:\n");
	dirty_log_list(f);
}

const char *memslot_protect_alias(const char *value)
{
	return strcmp(value, "srcu") ? value : "srcu-mb";
}

int memslot_protect_check(const char *value, char *err, size_t errlen)
{
	return memslot_protect_spec_check(memslot_protect_alias(value), err, errlen);
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

int workload_memory_check_extra(const struct guest_memory_options *o, uint64_t extra,
				char *err, size_t errlen)
{
	uint64_t avail = guest_mem_available();
	uint64_t guest = o->backing == GUEST_BACKING_ANONYMOUS_HUGETLB ? 0 : o->bytes;

	if (avail && (guest + extra < guest || guest + extra > avail)) {
		snprintf(err, errlen,
			 "%llu bytes of guest memory and %llu bytes beside it, but only %llu bytes are available (MemAvailable)",
			 (unsigned long long)o->bytes, (unsigned long long)extra,
			 (unsigned long long)avail);
		return WL_BAD_INPUT;
	}
	return workload_memory_check(o, err, errlen);
}

int workload_pick_cpus(int n, enum placement placement, const char *list, int *cpus,
		       int *overcommit, char *err, size_t errlen)
{
	int *tmp = cpus ? cpus : calloc((size_t)n, sizeof(*tmp));
	int rc;

	if (!tmp) {
		snprintf(err, errlen, "out of memory for %d CPU numbers", n);
		return WL_BAD_INPUT;
	}
	if (topology_init()) {
		snprintf(err, errlen, "cannot read the machine's topology (hwloc)");
		rc = WL_BAD_INPUT;
	} else {
		rc = topology_pick_cpus(n, placement, list, tmp, overcommit, err, errlen) ? WL_BAD_INPUT : 0;
	}
	if (!cpus)
		free(tmp);
	return rc;
}
