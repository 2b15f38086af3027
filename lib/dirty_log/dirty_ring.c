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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/vm/vm.h"

#define RING_DIRTY 1u
#define RING_RESET 2u
#define RING_DEFAULT_ENTRIES 4096u
#define RING_MAX_RESERVE 64u

struct ring_entry {
	uint32_t flags;
	uint32_t slot;
	uint64_t offset;
};

struct dirty_ring {
	struct ring_entry *entries;
	uint32_t size, mask, soft_limit;
	/* the vCPU's */
	_Alignas(64) uint32_t dirty_index;   /* next entry to push */
	/* the harvester's */
	_Alignas(64) uint32_t fetch_index;   /* next entry to collect */
	struct memslot *last_slot;           /* lookup cache */
	/* written by the reset, read by the vCPU on every push */
	_Alignas(64) uint32_t reset_index;   /* first entry not yet reset */
};

struct dirty_ring_log {
	uint64_t entries;                    /* 0: default / hint */
	struct dirty_ring *rings;            /* one per vCPU */
};

static int ring_set_option(struct dirty_log *log, const char *key, const char *value,
			   char *err, size_t errlen)
{
	struct dirty_ring_log *p = log->priv;
	char *end;
	unsigned long long v = strtoull(value, &end, 10);

	if (!strcmp(key, "ring") && *value && !*end && v >= 16 && v <= (1ull << 30) &&
	    !(v & (v - 1))) {
		p->entries = v;
		return 0;
	}
	snprintf(err, errlen, "dirty-ring: bad option %s=%s (%s)", key, value, log->ops->options_help);
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
		while (size < log->hints.max_dirty_per_vcpu + RING_MAX_RESERVE && size < (1ull << 30))
			size <<= 1;
	}
	p->rings = aligned_alloc(64, sizeof(*p->rings) * (size_t)vm->nvcpus);
	if (!p->rings)
		goto oom;
	memset(p->rings, 0, sizeof(*p->rings) * (size_t)vm->nvcpus);
	for (int i = 0; i < vm->nvcpus; i++) {
		struct dirty_ring *r = &p->rings[i];
		uint32_t reserve = size / 2 < RING_MAX_RESERVE ? (uint32_t)size / 2 : RING_MAX_RESERVE;

		r->size = (uint32_t)size;
		r->mask = (uint32_t)size - 1;
		r->soft_limit = (uint32_t)size - reserve;
		r->entries = calloc(size, sizeof(*r->entries));
		if (!r->entries)
			goto oom;
		vm->vcpus[i].log_vcpu = r;
	}
	return 0;
oom:
	snprintf(err, errlen, "dirty-ring: out of memory for %d rings of %llu entries",
		 vm->nvcpus, (unsigned long long)size);
	ring_destroy(log);
	return -1;
}

static uint32_t ring_used(struct dirty_ring *r)
{
	/* acquire: pairs with the reset's release of reset_index; the reset's
	 * last reads of the freed entries happen before we refill them */
	return r->dirty_index - __atomic_load_n(&r->reset_index, __ATOMIC_ACQUIRE);
}

static void ring_mark(struct dirty_log *log, struct vcpu *v, struct memslot *slot, uint64_t rel)
{
	struct dirty_ring *r = v->log_vcpu;
	uint32_t used = ring_used(r);
	struct ring_entry *e;

	(void)log;
	if (used >= r->size) {
		/* The soft limit keeps a reserve and the vCPU exits at its next
		 * exit point, so this is a bug, not a workload condition. */
		fprintf(stderr, "dirty-ring: vCPU %d pushed into a full ring of %u entries\n",
			v->index, r->size);
		abort();
	}
	e = &r->entries[r->dirty_index & r->mask];
	e->slot = slot->id;
	e->offset = rel;
	/* release: pairs with the collector's acquire of the flags */
	__atomic_store_n(&e->flags, RING_DIRTY, __ATOMIC_RELEASE);
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

static void ring_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	struct dirty_ring_log *p = log->priv;
	struct vm *vm = log->vm;

	(void)flags;
	memset(dirty, 0, bitmap_words(vm->npages) * sizeof(*dirty));
	for (int i = 0; i < vm->nvcpus; i++) {
		struct dirty_ring *r = &p->rings[i];

		r->last_slot = NULL;
		for (;;) {
			struct ring_entry *e = &r->entries[r->fetch_index & r->mask];
			struct memslot *s;
			uint64_t gfn;

			/* acquire: pairs with the vCPU's release of DIRTY */
			if (__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) != RING_DIRTY)
				break;
			s = entry_slot(vm, r, e->slot);
			gfn = s->base_gfn + e->offset;
			dirty[gfn / 64] |= 1ul << (gfn % 64);
			/* release: pairs with the reset's acquire */
			__atomic_store_n(&e->flags, RING_RESET, __ATOMIC_RELEASE);
			r->fetch_index++;
		}
	}
}

static void ring_reset(struct dirty_log *log, const unsigned long *dirty)
{
	struct dirty_ring_log *p = log->priv;
	struct vm *vm = log->vm;
	bool any = false;

	(void)dirty;
	for (int i = 0; i < vm->nvcpus; i++) {
		struct dirty_ring *r = &p->rings[i];
		uint32_t ri = __atomic_load_n(&r->reset_index, __ATOMIC_RELAXED);

		r->last_slot = NULL;
		if (ri == r->fetch_index)
			continue;
		spinlock_lock(&vm->mmu_lock);
		for (; ri != r->fetch_index; ri++) {
			struct ring_entry *e = &r->entries[ri & r->mask];

			/* acquire: pairs with the harvester's release of RING_RESET
			 * when it collected the entry, so slot and offset are its */
			if (__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) != RING_RESET)
				break;
			vm_write_protect_page(vm, entry_slot(vm, r, e->slot)->base_gfn + e->offset);
			__atomic_store_n(&e->flags, 0, __ATOMIC_RELAXED);
			any = true;
		}
		spinlock_unlock(&vm->mmu_lock);
		/* release: pairs with ring_used's acquire in the vCPU */
		__atomic_store_n(&r->reset_index, ri, __ATOMIC_RELEASE);
	}
	if (any)
		vm_flush_remote_tlbs(vm);
}

const struct dirty_log_ops dirty_log_dirty_ring_ops = {
	.name = "dirty-ring",
	.summary = "per-vCPU rings of dirty page numbers; soft-full exit; collect, then reset re-protects and frees",
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
