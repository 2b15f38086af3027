/* Guest physical memory: see guest_memory.h. */
#include "lib/vm/guest_memory.h"

#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define THP_BYTES (2ul << 20)

const char *const guest_backing_names[] = {
	"anonymous", "anonymous_thp", "anonymous_hugetlb", "shmem", NULL,
};

int guest_numa_parse(const char *s, enum guest_numa_policy *p, int *node)
{
	char *end;
	long n;

	if (!strcmp(s, "local")) {
		*p = GUEST_NUMA_LOCAL;
		*node = -1;
		return 0;
	}
	if (!strcmp(s, "interleave")) {
		*p = GUEST_NUMA_INTERLEAVE;
		*node = -1;
		return 0;
	}
	if (strncmp(s, "bind:", 5) || !s[5])
		return -1;
	n = strtol(s + 5, &end, 10);
	if (*end || n < 0 || n > 4095)
		return -1;
	*p = GUEST_NUMA_BIND;
	*node = (int)n;
	return 0;
}

const char *guest_numa_name(enum guest_numa_policy p, int node, char *buf, size_t len)
{
	switch (p) {
	case GUEST_NUMA_BIND:
		snprintf(buf, len, "bind:%d", node);
		break;
	case GUEST_NUMA_INTERLEAVE:
		snprintf(buf, len, "interleave");
		break;
	default:
		snprintf(buf, len, "local");
		break;
	}
	return buf;
}

/* A "Name:   value" line of /proc/meminfo; -1 if absent. */
static long long meminfo_value(const char *name)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	size_t n = strlen(name);
	long long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

uint64_t guest_hugetlb_pages_needed(uint64_t bytes, uint64_t *huge_page_bytes)
{
	long long kb = meminfo_value("Hugepagesize");
	uint64_t hp = kb > 0 ? (uint64_t)kb << 10 : THP_BYTES;

	if (huge_page_bytes)
		*huge_page_bytes = hp;
	return (bytes + hp - 1) / hp;
}

static int hugetlb_check(uint64_t bytes, char *err, size_t errlen)
{
	uint64_t hp, needed = guest_hugetlb_pages_needed(bytes, &hp);
	long long total = meminfo_value("HugePages_Total");
	long long free_pages = meminfo_value("HugePages_Free");
	long long rsvd = meminfo_value("HugePages_Rsvd");
	long long avail = free_pages - (rsvd > 0 ? rsvd : 0);

	if (total < 0 || free_pages < 0) {
		snprintf(err, errlen,
			 "anonymous_hugetlb: /proc/meminfo has no HugePages_* lines (hugetlbfs not "
			 "available)");
		return -1;
	}
	if (avail < 0)
		avail = 0;
	if ((uint64_t)avail >= needed)
		return 0;
	snprintf(err, errlen,
		 "anonymous_hugetlb: %llu bytes need %llu huge pages of %llu kB but only %lld are "
		 "free; "
		 "reserve them with: echo %llu > /proc/sys/vm/nr_hugepages",
		 (unsigned long long)bytes, (unsigned long long)needed,
		 (unsigned long long)(hp >> 10), avail,
		 (unsigned long long)total + (needed - (uint64_t)avail));
	return -1;
}

static int place(struct guest_memory *gm, char *err, size_t errlen)
{
	struct bitmask *mask;
	int rc;

	if (gm->numa == GUEST_NUMA_LOCAL && numa_available() < 0)
		return 0; /* no NUMA: every allocation is local */
	if (numa_available() < 0) {
		snprintf(err, errlen,
			 "--numa: NUMA is not available on this machine (libnuma); use local");
		return -1;
	}
	switch (gm->numa) {
	case GUEST_NUMA_LOCAL:
		/* MPOL_PREFERRED with an empty node mask: the node of the CPU
		 * that faults the page in */
		rc = mbind(gm->base, gm->bytes, MPOL_PREFERRED, NULL, 0, 0);
		break;
	case GUEST_NUMA_BIND:
		if (gm->numa_node > numa_max_node()) {
			snprintf(err, errlen, "--numa bind:%d: this machine's nodes are 0..%d",
				 gm->numa_node, numa_max_node());
			return -1;
		}
		mask = numa_allocate_nodemask();
		numa_bitmask_setbit(mask, (unsigned)gm->numa_node);
		rc = mbind(gm->base, gm->bytes, MPOL_BIND, mask->maskp, mask->size + 1, 0);
		numa_bitmask_free(mask);
		break;
	default:
		mask = numa_get_mems_allowed();
		rc = mbind(gm->base, gm->bytes, MPOL_INTERLEAVE, mask->maskp, mask->size + 1, 0);
		numa_bitmask_free(mask);
		break;
	}
	if (rc) {
		char name[32];

		snprintf(err, errlen, "--numa %s: mbind of the guest memory failed: %s",
			 guest_numa_name(gm->numa, gm->numa_node, name, sizeof(name)),
			 strerror(errno));
		return -1;
	}
	return 0;
}

int guest_memory_create(struct guest_memory *gm, const struct guest_memory_options *o, char *err,
			size_t errlen)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	size_t len = o->bytes;
	uint8_t *map;

	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	gm->bytes = o->bytes;
	gm->backing = o->backing;
	gm->numa = o->numa;
	gm->numa_node = o->numa_node;
	gm->page_size = 4096;
	if (!o->bytes || o->bytes % 4096) {
		snprintf(err, errlen, "guest memory: %llu bytes is not a positive multiple of 4096",
			 (unsigned long long)o->bytes);
		return -1;
	}

	switch (o->backing) {
	case GUEST_BACKING_ANONYMOUS_THP:
		len = o->bytes + THP_BYTES; /* room to align to 2 MiB */
		break;
	case GUEST_BACKING_ANONYMOUS_HUGETLB: {
		uint64_t hp;

		if (hugetlb_check(o->bytes, err, errlen))
			return -1;
		len = guest_hugetlb_pages_needed(o->bytes, &hp) * hp;
		gm->page_size = hp;
		flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;
		break;
	}
	case GUEST_BACKING_SHMEM:
		gm->fd = memfd_create("dlbench-guest", MFD_CLOEXEC);
		if (gm->fd < 0) {
			snprintf(err, errlen, "shmem: memfd_create failed: %s", strerror(errno));
			return -1;
		}
		if (ftruncate(gm->fd, (off_t)o->bytes)) {
			snprintf(err, errlen, "shmem: cannot size the memfd to %llu bytes: %s",
				 (unsigned long long)o->bytes, strerror(errno));
			close(gm->fd);
			return -1;
		}
		flags = MAP_SHARED | MAP_NORESERVE;
		break;
	default:
		break;
	}

	map = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, gm->fd, 0);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "%s: cannot map %llu bytes of guest memory: %s",
			 guest_backing_names[o->backing], (unsigned long long)len, strerror(errno));
		if (gm->fd >= 0)
			close(gm->fd);
		return -1;
	}
	gm->map = map;
	gm->map_bytes = len;
	gm->base = map;

	if (o->backing == GUEST_BACKING_ANONYMOUS_THP) {
		uintptr_t a = ((uintptr_t)map + THP_BYTES - 1) & ~(uintptr_t)(THP_BYTES - 1);

		gm->base = (uint8_t *)a;
		gm->page_size = THP_BYTES;
		if (madvise(gm->base, gm->bytes, MADV_HUGEPAGE)) {
			snprintf(err, errlen,
				 "anonymous_thp: madvise(MADV_HUGEPAGE) failed: %s (is THP "
				 "disabled in /sys/kernel/mm/transparent_hugepage/enabled?)",
				 strerror(errno));
			guest_memory_destroy(gm);
			return -1;
		}
	} else if (o->backing == GUEST_BACKING_ANONYMOUS) {
		/* Failure only means THP is compiled out: 4 KiB pages anyway. */
		(void)madvise(gm->base, gm->bytes, MADV_NOHUGEPAGE);
	}

	if (place(gm, err, errlen)) {
		guest_memory_destroy(gm);
		return -1;
	}
	if (o->prefault)
		for (uint64_t off = 0; off < gm->bytes; off += 4096)
			gm->base[off] = 0;
	return 0;
}

void guest_memory_destroy(struct guest_memory *gm)
{
	if (gm->map)
		munmap(gm->map, gm->map_bytes);
	if (gm->fd >= 0)
		close(gm->fd);
	gm->map = NULL;
	gm->base = NULL;
	gm->fd = -1;
}

uint64_t guest_mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb << 10;
}

int guest_memory_check(const struct guest_memory_options *o, char *err, size_t errlen)
{
	struct guest_memory_options dry = *o;
	struct guest_memory gm;
	uint64_t avail = guest_mem_available();

	if (o->backing != GUEST_BACKING_ANONYMOUS_HUGETLB && avail && o->bytes > avail) {
		snprintf(err, errlen,
			 "%llu bytes of guest memory, but only %llu bytes are available "
			 "(MemAvailable)",
			 (unsigned long long)o->bytes, (unsigned long long)avail);
		return -ENOMEM;
	}
	/* Map, place and unmap without touching a page: reserves hugetlb
	 * pages and checks the NUMA node, then gives everything back. */
	dry.prefault = false;
	if (guest_memory_create(&gm, &dry, err, errlen))
		return -EINVAL;
	guest_memory_destroy(&gm);
	return 0;
}
