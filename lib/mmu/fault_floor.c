/*
 * The fault floor (see mmu_fault_floor in mmu_real.h): what one write
 * fault costs with a mechanism and delivery when the handler does nothing
 * but un-protect the page.  The VM's fault path runs on top of this.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/mmu/mmu_internal.h"
#include "lib/util/stats.h"
#include "lib/util/timing.h"

struct floor_state {
	struct mmu_wp *wp;
	/* the handler thread increments it under the thread delivery */
	atomic_uint_fast64_t faults;
};

uint8_t *mmu_floor_map(size_t bytes)
{
	uint8_t *mem =
		mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem != MAP_FAILED)
		madvise(mem, bytes, MADV_NOHUGEPAGE); /* one fault per 4 KiB page */
	return mem;
}

double mmu_floor_stores(uint8_t *mem, uint32_t npages, size_t ps)
{
	uint64_t t0 = now_ns();

	for (uint32_t i = 0; i < npages; i++)
		atomic_store_explicit((_Atomic uint64_t *)(void *)(mem + (size_t)i * ps), i,
				      memory_order_relaxed);
	return (double)(now_ns() - t0) / npages;
}

/* The empty handler: un-protect, so that the store retries and succeeds. */
static void floor_fault(void *arg, uint64_t page)
{
	struct floor_state *s = arg;

	/* relaxed: a count; the un-protect that lets the faulting store
	 * retry (a system call) orders it before floor_round reads it */
	atomic_fetch_add_explicit(&s->faults, 1, memory_order_relaxed);
	mmu_wp_unprotect(s->wp, page);
}

/* One round: protect every page (not timed), store to each; ns per fault. */
static int floor_round(struct floor_state *s, uint8_t *mem, uint32_t npages, size_t ps, double *ns)
{
	uint64_t before = atomic_load_explicit(&s->faults, memory_order_relaxed);
	double t;
	int ret = mmu_wp_protect(s->wp, 0, npages);

	if (ret)
		return ret;
	t = mmu_floor_stores(mem, npages, ps);
	/* every store faulted once: anything else is not this floor */
	if (atomic_load_explicit(&s->faults, memory_order_relaxed) - before != npages)
		return -EPROTO;
	*ns = t;
	return 0;
}

int mmu_fault_floor(const struct mmu_wp_options *o, uint32_t npages, uint32_t nfaults,
		    double *ns_per_fault, char *err, size_t errlen)
{
	struct mmu_wp_options fo = *o;
	struct floor_state s = { .wp = NULL };
	uint32_t rounds = npages ? (nfaults + npages - 1) / npages : 0;
	size_t ps = mmu_page_size(), bytes;
	double *per = NULL;
	uint8_t *mem;
	int ret = 0;

	if (!npages || !rounds) {
		snprintf(err, errlen, "fault floor: needs at least one page and one fault");
		return -EINVAL;
	}
	atomic_init(&s.faults, 0);
	bytes = (size_t)npages * ps;
	mem = mmu_floor_map(bytes);
	per = calloc(rounds, sizeof(*per));
	if (mem == MAP_FAILED || !per) {
		snprintf(err, errlen, "fault floor: out of memory");
		ret = -ENOMEM;
		goto out;
	}
	fo.populate = true; /* no first touch inside the floor */
	s.wp = mmu_wp_create(mem, bytes, &fo, err, errlen);
	if (!s.wp) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	ret = mmu_wp_thread_register(s.wp, floor_fault, &s, err, errlen);
	if (ret)
		goto out;
	for (uint32_t r = 0; !ret && r < rounds; r++)
		ret = floor_round(&s, mem, npages, ps, &per[r]);
	mmu_wp_thread_unregister(s.wp);
	if (ret)
		snprintf(err, errlen, "fault floor: %s",
			 ret == -EPROTO ? "a store did not fault exactly once" : strerror(-ret));
	if (!ret)
		*ns_per_fault = stats_median(per, rounds);
out:
	mmu_wp_destroy(s.wp);
	if (mem != MAP_FAILED)
		munmap(mem, bytes);
	free(per);
	return ret;
}
