/*
 * The verifier can fail: a deliberately broken strategy, "xchg-no-kick"
 * (xchg's harvest without the vCPU kick, vm_flush_remote_tlbs), registered
 * only in this binary, must be caught losing pages, while the real xchg
 * passes the same run.  A vCPU that saw "writable" just before the
 * write-protection stores after the harvester copied the page; without the
 * flush the harvester does not wait for that store, the page is write-
 * protected with no dirty bit, and the store is in no log.  The vCPUs busy
 * wait between translation and store (--store-delay) to widen that window.
 * The control run is shorter: it only has to show the same setup passes.
 * The broken strategy gets up to ten runs to show a loss.
 *
 * Both run through the verify workload's own table (`dlbench verify`), so
 * the exit status is the verdict the command gives: 0 none lost, 1 lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/driver.h"
#include "lib/dirty_log/dirty_log.h"
#include "lib/vm/vm.h"

extern const struct workload workload_verify;

/* The driver's list of workloads: this binary has one. */
const struct workload *const workloads[] = { &workload_verify, NULL };

/* xchg's get_log, minus the flush. */
static int broken_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	struct vm *vm = log->vm;
	struct memslot_table *t = vm->memslots;

	(void)flags;
	for (uint32_t k = 0; k < t->nslots; k++) {
		struct memslot *s = &t->slots[k];
		unsigned long *out = dirty + s->base_gfn / 64;

		spinlock_lock(&vm->mmu_lock);
		for (size_t i = 0; i < bitmap_words(s->npages); i++) {
			/* acquire: as xchg's take, pairs with bitmap_set_atomic */
			unsigned long w = atomic_exchange_explicit(&s->dirty_bitmap[i], 0,
								   memory_order_acquire);

			vm_write_protect_mask(vm, s->base_gfn + i * 64, w);
			out[i] = w;
		}
		spinlock_unlock(&vm->mmu_lock);
	}
	return 0;
}

static const struct dirty_log_ops broken_ops = {
	.name = "xchg-no-kick",
	.summary = "BROKEN on purpose: xchg without kicking the vCPUs",
	.init = dirty_log_alloc_slot_bitmaps,
	.destroy = dirty_log_free_slot_bitmaps,
	.mark_dirty = dirty_log_mark_slot_bitmap,
	.get_log = broken_get_log,
};

/* dlbench verify -s STRATEGY -p PATH -v 2 -b 1M ...; its exit status. */
static int verify(const char *strategy, const char *path, unsigned rounds, unsigned seed)
{
	char r[16], s[16], spec[64], p[16];
	char *argv[] = { "verify", "-s",	 spec,	  "-p",
			 p,	   "-v",	 "2",	  "-b",
			 "1M",	   "-r",	 r,	  "--store-delay",
			 "2000",   "--interval", "20000", "--round-writes",
			 "64",	   "--seed",	 s,	  NULL };

	snprintf(spec, sizeof(spec), "%s", strategy);
	snprintf(p, sizeof(p), "%s", path);
	snprintf(r, sizeof(r), "%u", rounds);
	snprintf(s, sizeof(s), "%u", seed);
	fflush(stdout);
	return workload_main(&workload_verify, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
}

int main(void)
{
	static const char *const paths[] = { "locked", "fast" };
	int failures = 0;

	if (dirty_log_register(&broken_ops)) {
		fprintf(stderr, "test_dirty_log_broken: cannot register %s\n", broken_ops.name);
		return 2;
	}
	for (int p = 0; p < 2; p++) {
		int rc = 0;

		if (verify("xchg", paths[p], 50, 7)) {
			printf("FAIL: the correct xchg lost pages in the control run\n");
			failures++;
		}
		/* A loss needs a vCPU preempted or delayed inside its window at
		 * the wrong moment: likely in one run, not certain (under TSan
		 * or a loaded machine the timing shifts), so give the broken
		 * strategy several runs with other seeds to show a loss. */
		for (unsigned attempt = 0; attempt < 10 && rc != 1; attempt++)
			rc = verify("xchg-no-kick", paths[p], 400, 7 + attempt);
		if (rc != 1) {
			printf("FAIL: the verifier did not catch xchg without the vCPU kick\n");
			failures++;
		}
	}
	printf("%s\n", failures ? "FAILED" : "ok: the verifier catches the missing kick");
	return failures ? 1 : 0;
}
