/*
 * dirty-ring (KVM 2020): each vCPU pushes the page numbers it dirties into
 * a ring of its own (a power of two of entries); no bitmap.  When a push
 * leaves the ring soft-full the vCPU raises a request on itself and, at its
 * next exit point, leaves guest mode and waits for space.  The harvester
 * collects the entries (get_log) and resets them (clear_log, as
 * KVM_RESET_DIRTY_RINGS): it re-protects the collected pages under
 * mmu_lock, frees their ring space and flushes.
 *
 * Entry ownership moves with its flags word: the vCPU fills an entry and
 * sets DIRTY (release); the collector reads DIRTY (acquire), the entry,
 * and sets RESET (release); the reset reads RESET (acquire), re-protects,
 * clears the flags and publishes reset_index (release), which the vCPU
 * reads (acquire) before it reuses the entry.
 *
 * Option ring=ENTRIES (a power of two, at least 16; default 4096, or the
 * workload's hint of pages dirtied per vCPU between harvests plus the
 * reserve).  Soft-full leaves min(64, ENTRIES/2) entries in reserve.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/compiler.h"
#include "lib/util/mutant.h"
#include "lib/vm/vm.h"

#define RING_DIRTY 1u
#define RING_RESET 2u
#define RING_DEFAULT_ENTRIES 4096u
#define RING_MAX_RESERVE 64u

struct ring_entry {
	_Atomic uint32_t flags; /* 0, RING_DIRTY or RING_RESET: who owns the rest */
	uint32_t slot;
	uint64_t offset;
};

struct dirty_ring {
	struct ring_entry *entries;
	uint32_t size, mask, soft_limit;
	/* the vCPU's */
	_Alignas(CACHELINE) uint32_t dirty_index; /* next entry to push */
	/* the harvester's */
	_Alignas(CACHELINE) uint32_t fetch_index; /* next entry to collect */
	struct memslot *last_slot;		  /* lookup cache */
	/* written by the reset, read by the vCPU on every push */
	_Alignas(CACHELINE) _Atomic uint32_t reset_index; /* first entry not yet reset */
};

struct dirty_ring_log {
	uint64_t entries;	  /* 0: default / hint */
	struct dirty_ring *rings; /* one per vCPU */
};

static int ring_set_option(struct dirty_log *log, const char *key, const char *value, char *err,
			   size_t errlen)
{
	struct dirty_ring_log *p = log->priv;
	char *end;
	unsigned long long v = strtoull(value, &end, 10);

	if (!strcmp(key, "ring") && *value && !*end && v >= 16 && v <= (1ull << 30) &&
	    !(v & (v - 1))) {
		p->entries = v;
		return 0;
	}
	snprintf(err, errlen, "dirty-ring: bad option %s=%s (%s)", key, value,
		 log->ops->options_help);
	return -1;
}

static void ring_destroy(struct dirty_log *log)
{
	struct dirty_ring_log *p = log->priv;

	if (p->rings)
		for (int i = 0; i < log->vm->nvcpus; i++) {
			free(p->rings[i].entries);
			log->vm->vcpus[i].log_vcpu = NULL;
		}
	free(p->rings);
	p->rings = NULL;
}

static int ring_init(struct dirty_log *log, char *err, size_t errlen)
{
	struct dirty_ring_log *p = log->priv;
	struct vm *vm = log->vm;
	uint64_t size = p->entries;

	if (!size) {
		size = RING_DEFAULT_ENTRIES;
		while (size < log->hints.max_dirty_per_vcpu + RING_MAX_RESERVE &&
		       size < (1ull << 30))
			size <<= 1;
	}
	p->rings = aligned_alloc(CACHELINE, sizeof(*p->rings) * (size_t)vm->nvcpus);
	if (!p->rings)
		goto oom;
	memset(p->rings, 0, sizeof(*p->rings) * (size_t)vm->nvcpus);
	for (int i = 0; i < vm->nvcpus; i++) {
		struct dirty_ring *r = &p->rings[i];
		uint32_t reserve =
			size / 2 < RING_MAX_RESERVE ? (uint32_t)size / 2 : RING_MAX_RESERVE;

		r->size = (uint32_t)size;
		r->mask = (uint32_t)size - 1;
		r->soft_limit = (uint32_t)size - reserve;
		atomic_init(&r->reset_index, 0);
		r->entries = calloc(size, sizeof(*r->entries));
		if (!r->entries)
			goto oom;
		for (uint64_t e = 0; e < size; e++)
			atomic_init(&r->entries[e].flags, 0);
		vm->vcpus[i].log_vcpu = r;
	}
	return 0;
oom:
	snprintf(err, errlen, "dirty-ring: out of memory for %d rings of %llu entries", vm->nvcpus,
		 (unsigned long long)size);
	ring_destroy(log);
	return -ENOMEM;
}

static uint32_t ring_used(struct dirty_ring *r)
{
	/* acquire: pairs with the reset's release of reset_index; the reset's
	 * last reads of the freed entries happen before we refill them */
	return r->dirty_index - atomic_load_explicit(&r->reset_index, memory_order_acquire);
}

static void ring_mark(struct dirty_log *log, struct vcpu *v, struct memslot *slot, uint64_t rel)
{
	struct dirty_ring *r = v->log_vcpu;
	uint32_t used = ring_used(r);
	struct ring_entry *e;

	if (used >= r->size) {
		/* The soft limit keeps a reserve and the vCPU exits at its next
		 * exit point: a programming error (a caller that skips exit
		 * points), not input; see vm.h. */
		fprintf(stderr,
			"dlbench: BUG: dirty-ring: vCPU %d pushed into a full ring of %u entries\n",
			v->index, r->size);
		abort();
	}
	e = &r->entries[r->dirty_index & r->mask];
	if (MUTANT(dirty_log_dirty_ring_publish_before_fill)) {
		/* the collector may take the entry before its contents */
		atomic_store_explicit(&e->flags, RING_DIRTY, memory_order_release);
		vm_test_delay(log->vm->delay.mark_ns);
		e->slot = slot->id;
		e->offset = rel;
	} else {
		e->slot = slot->id;
		e->offset = rel;
		vm_test_delay(log->vm->delay.mark_ns);
		/* release: pairs with the collector's acquire of the flags;
		 * the entry's contents are handed over with it */
		atomic_store_explicit(&e->flags, RING_DIRTY, memory_order_release);
	}
	r->dirty_index++;
	if (used + 1 >= r->soft_limit)
		vcpu_make_request_self(v, VCPU_REQ_DIRTY_RING_FULL);
}

static bool ring_vcpu_blocked(struct dirty_log *log, struct vcpu *v)
{
	struct dirty_ring *r = v->log_vcpu;

	(void)log;
	return ring_used(r) >= r->soft_limit;
}

/* The slot of an entry, through a cache that lives for one harvest step
 * (ring_get_log and ring_reset forget it first: vm_update_memslots may
 * have replaced the table between two harvests). */
static struct memslot *entry_slot(struct vm *vm, struct dirty_ring *r, uint32_t id)
{
	if (!r->last_slot || r->last_slot->id != id)
		r->last_slot = vm_slot_by_id(vm, id);
	return r->last_slot;
}

/* Collects the entries of @r that its vCPU published (get_log, one ring):
 * each gets RING_RESET and its page a bit in @dirty. */
static void ring_collect(struct vm *vm, struct dirty_ring *r, unsigned long *dirty)
{
	r->last_slot = NULL;
	for (;;) {
		struct ring_entry *e = &r->entries[r->fetch_index & r->mask];
		uint32_t id;
		uint64_t gfn, offset;

		if (MUTANT(dirty_log_dirty_ring_collect_before_flag)) {
			/* the contents read before the flag that hands them over */
			id = e->slot;
			offset = e->offset;
			vm_test_delay(vm->delay.harvest_ns);
			if (atomic_load_explicit(&e->flags, memory_order_acquire) != RING_DIRTY)
				break;
		} else {
			/* acquire: pairs with the vCPU's release of DIRTY */
			if (atomic_load_explicit(&e->flags, memory_order_acquire) != RING_DIRTY)
				break;
			vm_test_delay(vm->delay.harvest_ns);
			id = e->slot;
			offset = e->offset;
		}
		gfn = entry_slot(vm, r, id)->base_gfn + offset;
		dirty[gfn / 64] |= 1ul << (gfn % 64);
		/* release: pairs with the reset's acquire */
		atomic_store_explicit(&e->flags, RING_RESET, memory_order_release);
		r->fetch_index++;
	}
}

static int ring_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	struct dirty_ring_log *p = log->priv;
	struct vm *vm = log->vm;

	(void)flags;
	memset(dirty, 0, bitmap_words(vm->npages) * sizeof(*dirty));
	for (int i = 0; i < vm->nvcpus; i++)
		ring_collect(vm, &p->rings[i], dirty);
	return 0;
}

/* Re-protects the collected entries of @r from @ri on (mmu_lock held) and
 * clears their flags; returns the first entry it did not reset. */
static uint32_t ring_protect(struct vm *vm, struct dirty_ring *r, uint32_t ri)
{
	for (; ri != r->fetch_index; ri++) {
		struct ring_entry *e = &r->entries[ri & r->mask];

		/* acquire: pairs with the harvester's release of RING_RESET
		 * when it collected the entry, so slot and offset are its */
		if (atomic_load_explicit(&e->flags, memory_order_acquire) != RING_RESET)
			break;
		vm_write_protect_page(vm, entry_slot(vm, r, e->slot)->base_gfn + e->offset);
		/* relaxed: the release of reset_index hands the entry back */
		atomic_store_explicit(&e->flags, 0, memory_order_relaxed);
	}
	return ri;
}

/* KVM_RESET_DIRTY_RINGS for one ring: re-protect, then free the entries
 * (kvm_dirty_ring_reset).  Returns whether it re-protected any page. */
static bool ring_reset_one(struct vm *vm, struct dirty_ring *r)
{
	/* relaxed: only the harvester writes reset_index */
	uint32_t ri = atomic_load_explicit(&r->reset_index, memory_order_relaxed), end;

	r->last_slot = NULL;
	if (ri == r->fetch_index)
		return false;
	if (MUTANT(dirty_log_dirty_ring_free_before_protect)) {
		/* the vCPU may refill the entries before they are read */
		atomic_store_explicit(&r->reset_index, r->fetch_index, memory_order_release);
		vm_test_delay(vm->delay.harvest_ns);
		vm_mmu_lock(vm);
		(void)ring_protect(vm, r, ri);
		vm_mmu_unlock(vm);
		return true;
	}
	vm_mmu_lock(vm);
	end = ring_protect(vm, r, ri);
	vm_mmu_unlock(vm);
	vm_test_delay(vm->delay.harvest_ns);
	/* release: pairs with ring_used's acquire in the vCPU; our reads of
	 * the freed entries happen before it refills them */
	atomic_store_explicit(&r->reset_index, end, memory_order_release);
	return true;
}

static int ring_reset(struct dirty_log *log, const unsigned long *dirty)
{
	struct dirty_ring_log *p = log->priv;
	struct vm *vm = log->vm;
	bool any = false;

	(void)dirty;
	for (int i = 0; i < vm->nvcpus; i++)
		any |= ring_reset_one(vm, &p->rings[i]);
	if (any)
		vm_flush_remote_tlbs(vm);
	return 0;
}

const struct dirty_log_ops dirty_log_dirty_ring_ops = {
	.name = "dirty-ring",
	.summary = "per-vCPU rings of dirty page numbers; soft-full exit; collect, then reset "
		   "re-protects and frees",
	.options_help = "ring=ENTRIES (power of two >= 16; default 4096 or sized to the workload)",
	.priv_size = sizeof(struct dirty_ring_log),
	.set_option = ring_set_option,
	.init = ring_init,
	.destroy = ring_destroy,
	.mark_dirty = ring_mark,
	.vcpu_blocked = ring_vcpu_blocked,
	.get_log = ring_get_log,
	.clear_log = ring_reset,
	.report_lag = NULL,
};
