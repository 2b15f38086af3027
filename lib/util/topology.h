/*
 * Machine topology (hwloc) and thread pinning.  vCPU and reader threads are
 * pinned to processing units (PUs) chosen here: an explicit list, or a
 * placement computed from the hwloc topology.
 */
#ifndef DLBENCH_TOPOLOGY_H
#define DLBENCH_TOPOLOGY_H

#include <stddef.h>

/* clang-format off */
enum placement {
	PLACEMENT_COMPACT, /* PUs in hwloc logical order: SMT siblings, then cores */
	PLACEMENT_SPREAD,  /* one PU per core, alternating packages, then siblings */
};
/* clang-format on */

/* Loads the topology once (thread-safe); returns -1 with a message if hwloc fails. */
int topology_init(void);
/* PUs this process may run on. */
int topology_cpu_count(void);
/* Parses "compact" or "spread"; -1 otherwise. */
int placement_parse(const char *s, enum placement *p);

/* Fills @cpus[0..n) with OS CPU numbers.  @list ("0,2,4-7", may be NULL)
 * takes precedence over @p.  When n exceeds the CPUs available the list
 * wraps around (overcommit) and *overcommit is set.  On error writes a
 * one-line reason to @err and returns -1. */
int topology_pick_cpus(int n, enum placement p, const char *list, int *cpus, int *overcommit,
		       char *err, size_t errlen);

/* Writes @cpus[0..n) as "0 1 2" (spaces, not commas: a CSV column stays
 * one plain field). */
void topology_cpus_text(char *buf, size_t len, const int *cpus, int n);

/* Pins the calling thread to OS CPU @cpu; on error returns -errno. */
int topology_pin_self(int cpu);

/* "Intel(R) ... ; 1 package, 2 cores, 2 PUs" style facts for meta.json. */
void topology_describe(char *buf, size_t len);
int topology_packages(void);
int topology_cores(void);
int topology_pus(void);

#endif
