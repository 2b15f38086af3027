/* Topology and pinning with hwloc: see topology.h. */
#include "lib/util/topology.h"

#include <errno.h>
#include <hwloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hwloc_topology_t topo;
static hwloc_bitmap_t allowed;
static int topo_err;
static pthread_once_t topo_once = PTHREAD_ONCE_INIT;

static void topology_load(void)
{
	if (hwloc_topology_init(&topo) != 0 || hwloc_topology_load(topo) != 0) {
		topo_err = 1;
		return;
	}
	/* The CPUs this process may use (cgroups, taskset): the binding of the
	 * process at start-up, restricted to CPUs the topology knows. */
	allowed = hwloc_bitmap_alloc();
	if (hwloc_get_cpubind(topo, allowed, HWLOC_CPUBIND_PROCESS) != 0)
		hwloc_bitmap_copy(allowed, hwloc_topology_get_allowed_cpuset(topo));
	hwloc_bitmap_and(allowed, allowed, hwloc_topology_get_allowed_cpuset(topo));
}

int topology_init(void)
{
	pthread_once(&topo_once, topology_load);
	if (topo_err) {
		fprintf(stderr, "dlbench: hwloc cannot load the machine topology\n");
		return -1;
	}
	return 0;
}

int topology_cpu_count(void)
{
	if (topology_init())
		return 1;
	return hwloc_bitmap_weight(allowed);
}

int placement_parse(const char *s, enum placement *p)
{
	if (strcmp(s, "compact") == 0)
		*p = PLACEMENT_COMPACT;
	else if (strcmp(s, "spread") == 0)
		*p = PLACEMENT_SPREAD;
	else
		return -1;
	return 0;
}

/* The allowed PUs in the order a placement fills them. */
static int placement_order(enum placement p, int *order, int max)
{
	int n = 0;

	if (p == PLACEMENT_COMPACT) {
		hwloc_obj_t pu = NULL;

		while ((pu = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_PU, pu)) && n < max)
			if (hwloc_bitmap_isset(allowed, pu->os_index))
				order[n++] = (int)pu->os_index;
		return n;
	}
	/* spread: round k takes the k-th allowed PU of every core, and walks
	 * the cores interleaving packages (core 0 of package 0, core 0 of
	 * package 1, ...). */
	int ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
	int npkg = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
	if (ncores <= 0)
		return placement_order(PLACEMENT_COMPACT, order, max);
	if (npkg <= 0)
		npkg = 1;
	for (int round = 0; n < max; round++) {
		int added = 0;

		for (int c = 0; c < ncores && n < max; c++) {
			/* interleave: index c -> package c % npkg, its (c / npkg)-th core */
			int per = (ncores + npkg - 1) / npkg;
			int pk = c % npkg, idx = c / npkg;
			hwloc_obj_t core;
			if (idx >= per)
				continue;
			hwloc_obj_t pkg =
				hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, (unsigned)pk);
			if (pkg)
				core = hwloc_get_obj_inside_cpuset_by_type(
					topo, pkg->cpuset, HWLOC_OBJ_CORE, (unsigned)idx);
			else
				core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)c);
			if (!core)
				continue;
			int k = 0;
			hwloc_obj_t pu = NULL;
			while ((pu = hwloc_get_next_obj_inside_cpuset_by_type(topo, core->cpuset,
									      HWLOC_OBJ_PU, pu))) {
				if (!hwloc_bitmap_isset(allowed, pu->os_index))
					continue;
				if (k++ == round) {
					order[n++] = (int)pu->os_index;
					added++;
					break;
				}
			}
		}
		if (!added)
			break;
	}
	return n;
}

int topology_pick_cpus(int n, enum placement p, const char *list, int *cpus, int *overcommit,
		       char *err, size_t errlen)
{
	int navail = topology_cpu_count();
	int *order;
	int m;

	if (topology_init()) {
		snprintf(err, errlen, "hwloc cannot load the topology");
		return -1;
	}
	*overcommit = 0;
	order = calloc((size_t)(navail > 0 ? navail : 1) + 1024, sizeof(int));
	if (!order) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (list) {
		hwloc_bitmap_t set = hwloc_bitmap_alloc();
		int id;

		if (hwloc_bitmap_list_sscanf(set, list) != 0 || hwloc_bitmap_iszero(set) ||
		    hwloc_bitmap_weight(set) < 0) {
			snprintf(err, errlen, "bad CPU list '%s' (expected e.g. 0,2,4-7)", list);
			hwloc_bitmap_free(set);
			free(order);
			return -1;
		}
		m = 0;
		hwloc_bitmap_foreach_begin(id, set)
		{
			if (!hwloc_bitmap_isset(allowed, (unsigned)id)) {
				snprintf(err, errlen,
					 "CPU %d in list '%s' is not available to this process", id,
					 list);
				hwloc_bitmap_free(set);
				free(order);
				return -1;
			}
			if (m < navail + 1024)
				order[m++] = id;
		}
		hwloc_bitmap_foreach_end();
		hwloc_bitmap_free(set);
	} else {
		m = placement_order(p, order, navail);
	}
	if (m <= 0) {
		snprintf(err, errlen, "no CPU available");
		free(order);
		return -1;
	}
	for (int i = 0; i < n; i++)
		cpus[i] = order[i % m];
	*overcommit = n > m;
	free(order);
	return 0;
}

void topology_cpus_text(char *buf, size_t len, const int *cpus, int n)
{
	size_t used = 0;

	buf[0] = 0;
	for (int i = 0; i < n && used + 1 < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%d", i ? " " : "", cpus[i]);

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

int topology_pin_self(int cpu)
{
	hwloc_bitmap_t set;
	int rc = 0;

	if (topology_init())
		return -ENODEV;
	set = hwloc_bitmap_alloc();
	hwloc_bitmap_only(set, (unsigned)cpu);
	if (hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD | HWLOC_CPUBIND_STRICT) != 0)
		rc = errno ? -errno : -EINVAL;
	hwloc_bitmap_free(set);
	return rc;
}

int topology_packages(void)
{
	return topology_init() ? 0 : hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
}

int topology_cores(void)
{
	return topology_init() ? 0 : hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
}

int topology_pus(void)
{
	return topology_init() ? 0 : hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
}

void topology_describe(char *buf, size_t len)
{
	const char *model = NULL;
	hwloc_obj_t pkg;

	if (topology_init()) {
		snprintf(buf, len, "unknown");
		return;
	}
	pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
	if (pkg)
		model = hwloc_obj_get_info_by_name(pkg, "CPUModel");
	snprintf(buf, len, "%s; %d package(s), %d core(s), %d PU(s), %d usable",
		 model ? model : "unknown CPU", topology_packages(), topology_cores(),
		 topology_pus(), topology_cpu_count());
}
