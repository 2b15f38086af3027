/*
 * Guest physical memory: one mapping of the process with one of four
 * backings, placed on NUMA nodes with libnuma.
 *
 *   anonymous          private anonymous memory, MADV_NOHUGEPAGE (4 KiB pages)
 *   anonymous_thp      private anonymous memory, MADV_HUGEPAGE, 2 MiB aligned
 *   anonymous_hugetlb  MAP_HUGETLB from the reserved pool (/proc/sys/vm/nr_hugepages)
 *   shmem              a memfd (shared memory), mapped shared
 *
 * Placement: local (allocate on the node of the CPU that first touches a
 * page), bound to one node, or interleaved over the allowed nodes.
 */
#ifndef DLBENCH_GUEST_MEMORY_H
#define DLBENCH_GUEST_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* clang-format off */
enum guest_backing {
	GUEST_BACKING_ANONYMOUS,
	GUEST_BACKING_ANONYMOUS_THP,
	GUEST_BACKING_ANONYMOUS_HUGETLB,
	GUEST_BACKING_SHMEM,
};
/* clang-format on */

/* NULL-terminated, indexed by enum guest_backing (an option's choices, wl_option.choices). */
extern const char *const guest_backing_names[];

/* clang-format off */
enum guest_numa_policy {
	GUEST_NUMA_LOCAL,
	GUEST_NUMA_BIND,
	GUEST_NUMA_INTERLEAVE,
};
/* clang-format on */

struct guest_memory_options {
	uint64_t bytes;
	enum guest_backing backing;
	enum guest_numa_policy numa;
	int numa_node; /* GUEST_NUMA_BIND only */
	bool prefault; /* write every page once before returning */
};

struct guest_memory {
	uint8_t *base; /* guest physical address 0 */
	uint64_t bytes;
	size_t page_size; /* of the backing: 4 KiB, or the huge page size */
	enum guest_backing backing;
	enum guest_numa_policy numa;
	int numa_node;
	/* the mapping itself (larger than bytes when aligned) */
	void *map;
	size_t map_bytes;
	int fd; /* shmem's memfd, -1 otherwise */
};

/* Parses "local", "interleave" or "bind:N"; returns -1 if @s is none. */
int guest_numa_parse(const char *s, enum guest_numa_policy *p, int *node);
/* "local", "interleave", "bind:N" into @buf. */
const char *guest_numa_name(enum guest_numa_policy p, int node, char *buf, size_t len);

/* Maps and places the memory.  On error writes one line to @err (for
 * hugetlb with too few free huge pages, naming /proc/sys/vm/nr_hugepages
 * and how many pages are needed) and returns -1. */
int guest_memory_create(struct guest_memory *gm, const struct guest_memory_options *o, char *err,
			size_t errlen);
void guest_memory_destroy(struct guest_memory *gm);

/* Whether guest memory @o can be had, creating nothing that stays: enough
 * MemAvailable (hugetlb: enough free huge pages), the NUMA node exists.
 * 0, or -ENOMEM / -EINVAL with one line in @err. */
int guest_memory_check(const struct guest_memory_options *o, char *err, size_t errlen);

/* MemAvailable of /proc/meminfo in bytes; 0 if unknown. */
uint64_t guest_mem_available(void);

/* Huge pages the hugetlb backing needs for @bytes, and the huge page size. */
uint64_t guest_hugetlb_pages_needed(uint64_t bytes, uint64_t *huge_page_bytes);

#endif
