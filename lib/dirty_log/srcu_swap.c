/*
 * srcu-swap: KVM_GET_DIRTY_LOG before 2012 (kvm_vm_ioctl_get_dirty_log,
 * Linux 3.3).  Two bitmaps per slot; a marker reads the slot's current
 * bitmap and sets its bit there, inside the read section of the VM's SRCU
 * domain (kvm->srcu) that its vCPU holds across the whole exit (lib/vm/vm.h:
 * the section spans the memslot lookup, any spin on mmu_lock, the mark):
 * the mark takes no read lock of its own.  The harvester, per slot:
 *
 *   1. is_dirty: counts the set bits of the current bitmap; none, and the
 *      slot is skipped: no swap, no grace period (a bit set after the
 *      count stays in the current bitmap for the next harvest);
 *   2. publishes the zeroed spare bitmap and waits a grace period of the
 *      VM's domain, so that no marker still writes the old one: since the
 *      vCPUs hold kvm->srcu across their faults, the grace period waits for
 *      every fault that began before the publish, mmu_lock spin included;
 *   3. write_protect_slot: under mmu_lock, below a threshold of dirty pages
 *      (the count of step 1) each dirty page is write-protected through its
 *      spte (kvm_mmu_rmap_write_protect per gfn; under --mmu real the
 *      batch makes one UFFDIO_WRITEPROTECT per run of contiguous pages);
 *      at or above it, one linear pass over the whole slot, dirty or not
 *      (kvm_mmu_slot_remove_write_access; under --mmu real one call over
 *      the slot).  Then the TLB flush, and the old bitmap is reported and
 *      zeroed for the next swap.
 *
 * The VM's domain has the flavour of --vm-srcu (mb, fast, classic: the
 * 2012 SRCU): srcu-swap has no domain, and no flavour option, of its own.
 *
 * Options:
 *   wait=normal|expedited|call_srcu (default expedited, as KVM)
 *     normal     synchronize_srcu
 *     expedited  synchronize_srcu_expedited
 *     call_srcu  do not wait (Avi Kivity's suggestion in the February 2012
 *                "srcu: Implement call_srcu()" thread): the old bitmap is
 *                handed to call_srcu, and the next harvest reports it once
 *                its grace period has passed (waiting for it if it has
 *                not); so pages are reported one harvest late.  A final
 *                harvest (DIRTY_LOG_FINAL) also swaps and waits for the
 *                current one.  No is_dirty skip, per-page write-protect.
 *   wp-threshold=N|auto|never (default auto)
 *     write_protect_slot's threshold: fewer than N dirty pages in the
 *     slot, per page; N or more, the whole-slot pass (0: always the pass;
 *     never: always per page, so a page faults once per write pass, which
 *     the exact page counts of the dirty-log tests need: the whole-slot
 *     pass also re-protects pages made writable since the swap, whose next
 *     store faults, and marks, again).
 *     Linux 3.3 compared with kvm->arch.n_used_mmu_pages, the shadow pages
 *     in use; auto stands for it (srcu_swap_shadow_pages).
 *
 * Why the write-protection is correct after the grace period: a page
 * marked in the old bitmap is made writable (locked path: in the same
 * mmu_lock section as its mark) or was made writable (fast path: the
 * compare-and-swap comes before the mark) before its marker's read section
 * ended, so no marker's spte update can overtake the write-protection; a
 * page made writable whose mark went to the new bitmap is reported next
 * time.  The whole-slot pass write-protects a superset (pages made
 * writable since, whose marks are in the new bitmap, are protected again:
 * their next store faults and marks again, harmlessly); the flush that
 * follows either branch makes every store through an old translation land
 * before the report, so none is lost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/srcu/srcu.h"
#include "lib/util/compiler.h"
#include "lib/util/mutant.h"
#include "lib/vm/vm.h"

/* clang-format off */
enum srcu_swap_wait {
	SWAP_WAIT_EXPEDITED,       /* the default: zero in a zeroed priv */
	SWAP_WAIT_NORMAL,
	SWAP_WAIT_CALL_SRCU,
};
/* clang-format on */

static const char *const wait_names[] = { "expedited", "normal", "call_srcu", NULL };

struct swap_slot {
	_Atomic(atomic_ulong *) active; /* published to markers */
	atomic_ulong *spare;		/* zeroed, the harvester's */
	/* call_srcu: swapped out, reported once gp_done */
	atomic_ulong *retired;
	struct srcu_head head;
	atomic_int gp_done;
};

struct srcu_swap {
	enum srcu_swap_wait wait;
	bool wp_threshold_set;
	uint64_t wp_threshold;	  /* write_protect_slot's; see the top */
	struct srcu_struct *srcu; /* the VM's domain (kvm->srcu) */
	struct swap_slot *slots;  /* indexed like vm->memslots->slots */
};

static int srcu_swap_set_option(struct dirty_log *log, const char *key, const char *value,
				char *err, size_t errlen)
{
	struct srcu_swap *p = log->priv;

	if (!strcmp(key, "wait"))
		for (int i = 0; wait_names[i]; i++)
			if (!strcmp(value, wait_names[i])) {
				p->wait = (enum srcu_swap_wait)i;
				return 0;
			}
	if (!strcmp(key, "wp-threshold")) {
		char *end;

		if (!strcmp(value, "auto")) {
			p->wp_threshold_set = false;
			return 0;
		}
		if (!strcmp(value, "never")) {
			p->wp_threshold_set = true;
			p->wp_threshold = UINT64_MAX;
			return 0;
		}
		errno = 0;
		p->wp_threshold = strtoull(value, &end, 10);
		if (value[0] >= '0' && value[0] <= '9' && !*end && !errno) {
			p->wp_threshold_set = true;
			return 0;
		}
	}
	snprintf(err, errlen, "srcu-swap: bad option %s=%s (%s)", key, value,
		 log->ops->options_help);
	return -1;
}

static void srcu_swap_destroy(struct dirty_log *log)
{
	struct srcu_swap *p = log->priv;
	struct memslot_table *t = log->vm->memslots;

	if (p->srcu)
		srcu_barrier(p->srcu); /* call_srcu callbacks still queued */
	p->srcu = NULL;
	if (p->slots)
		for (uint32_t k = 0; k < t->nslots; k++) {
			free(atomic_load_explicit(&p->slots[k].active, memory_order_relaxed));
			free(p->slots[k].spare);
			free(p->slots[k].retired);
			t->slots[k].log_private = NULL;
		}
	free(p->slots);
	p->slots = NULL;
}

/*
 * kvm->arch.n_used_mmu_pages of a VM of @npages guest pages mapped with 4K
 * sptes (a guest that touched all its memory, as a migrating one has): a
 * last-level shadow page maps 512 sptes, so ceil(npages / 512) of them,
 * plus the levels above, each a 512th of the one below (at least one per
 * level), four levels in all (x86-64, 4-level paging).  64 MiB: 32 + 1 +
 * 1 + 1 = 35; 1 GiB: 512 + 1 + 1 + 1 = 515.
 */
static uint64_t srcu_swap_shadow_pages(uint64_t npages)
{
	uint64_t level = npages, total = 0;

	for (int l = 0; l < 4; l++) {
		level = (level + 511) / 512;
		total += level;
	}
	return total;
}

static int srcu_swap_init(struct dirty_log *log, char *err, size_t errlen)
{
	struct srcu_swap *p = log->priv;
	struct memslot_table *t = log->vm->memslots;

	p->srcu = vm_srcu(log->vm);
	if (!p->wp_threshold_set)
		p->wp_threshold = srcu_swap_shadow_pages(log->vm->npages);
	p->slots = calloc(t->nslots, sizeof(*p->slots));
	if (!p->slots)
		goto oom;
	for (uint32_t k = 0; k < t->nslots; k++) {
		struct swap_slot *ss = &p->slots[k];
		atomic_ulong *active = bitmap_alloc(t->slots[k].npages);

		atomic_init(&ss->active, active);
		atomic_init(&ss->gp_done, 0);
		ss->spare = bitmap_alloc(t->slots[k].npages);
		if (!active || !ss->spare)
			goto oom;
		t->slots[k].log_private = ss;
	}
	return 0;
oom:
	snprintf(err, errlen, "srcu-swap: out of memory for the dirty bitmaps");
	srcu_swap_destroy(log);
	return -ENOMEM;
}

static void srcu_swap_mark(struct dirty_log *log, struct vcpu *v, struct memslot *slot,
			   uint64_t rel)
{
	struct swap_slot *ss = slot->log_private;
	/* In the vCPU's read section of kvm->srcu (vcpu_fault_body), which
	 * the grace period of get_log waits for.  acquire: rcu_dereference,
	 * pairs with the release in swap_in_spare that publishes a fresh
	 * bitmap (its zeroes happen before our bit) */
	atomic_ulong *bm = atomic_load_explicit(&ss->active, memory_order_acquire);

	/* the window a harvest without a grace period would race with: the
	 * old bitmap loaded, its bit not yet set */
	vm_test_delay(log->vm->delay.mark_ns);
	/* relaxed: the release of the vCPU's srcu_read_unlock and the grace
	 * period order this bit before the harvester's reads of the old
	 * bitmap */
	(void)v;
	atomic_fetch_or_explicit(&bm[rel / 64], 1ul << (rel % 64), memory_order_relaxed);
}

/* Under mmu_lock: report the set pages of @bm (owned: its grace period has
 * passed) into @out, write-protect them, zero @bm.  Returns true if any. */
static bool report_owned(struct vm *vm, struct memslot *s, atomic_ulong *bm, unsigned long *out)
{
	size_t n = bitmap_words(s->npages);
	bool any = false;

	vm_mmu_lock(vm);
	for (size_t i = 0; i < n; i++) {
		/* relaxed: the grace period ordered every marker's bit before
		 * us (see srcu_swap_mark) */
		unsigned long w = atomic_load_explicit(&bm[i], memory_order_relaxed);

		if (w) {
			vm_write_protect_mask(vm, s->base_gfn + i * 64, w);
			/* relaxed: no marker holds @bm now; the release in
			 * swap_in_spare that next publishes it orders the zero */
			atomic_store_explicit(&bm[i], 0, memory_order_relaxed);
			out[i] |= w;
			any = true;
		}
	}
	vm_mmu_unlock(vm);
	return any;
}

/* is_dirty, with kvm_vm_ioctl_get_dirty_log's count: the set bits of the
 * slot's current bitmap (relaxed: a bit set after its word is read stays
 * in this bitmap, and is reported by a later harvest). */
static uint64_t count_dirty(const struct memslot *s, struct swap_slot *ss)
{
	/* relaxed: only the harvester writes the pointer */
	atomic_ulong *bm = atomic_load_explicit(&ss->active, memory_order_relaxed);
	size_t n = bitmap_words(s->npages);
	uint64_t nr = 0;

	/* the mutant looks at the first word only, and skips a slot whose
	 * dirty pages are all further on */
	if (MUTANT(dirty_log_srcu_swap_is_dirty_first_word))
		n = 1;
	for (size_t i = 0; i < n; i++)
		nr += (uint64_t)__builtin_popcountl(
			atomic_load_explicit(&bm[i], memory_order_relaxed));
	return nr;
}

/* write_protect_slot (Linux 3.3), under mmu_lock, on @bm (owned: its grace
 * period has passed): fewer than the threshold of dirty pages (@nr, the
 * is_dirty count), each dirty page through its spte; else the whole slot
 * in one pass.  Reports @bm into @out and zeroes it.  The caller
 * flushes. */
static void write_protect_owned(struct srcu_swap *p, struct vm *vm, struct memslot *s,
				atomic_ulong *bm, uint64_t nr, unsigned long *out)
{
	size_t n = bitmap_words(s->npages);
	bool whole = nr >= p->wp_threshold;

	vm_mmu_lock(vm);
	if (whole)
		vm_write_protect_slot(vm, s);
	for (size_t i = 0; i < n; i++) {
		/* relaxed: the grace period ordered every marker's bit before
		 * us (see srcu_swap_mark) */
		unsigned long w = atomic_load_explicit(&bm[i], memory_order_relaxed);

		if (!w)
			continue;
		if (!whole)
			for (unsigned long m = w; m; m &= m - 1)
				vm_write_protect_page(vm, s->base_gfn + i * 64 +
								  (unsigned)__builtin_ctzl(m));
		/* relaxed: as in report_owned */
		atomic_store_explicit(&bm[i], 0, memory_order_relaxed);
		out[i] |= w;
	}
	vm_mmu_unlock(vm);
}

/* Publishes the spare bitmap; returns the one it replaced. */
static atomic_ulong *swap_in_spare(struct swap_slot *ss)
{
	/* relaxed: only the harvester writes the pointer */
	atomic_ulong *old = atomic_load_explicit(&ss->active, memory_order_relaxed);

	/* release: rcu_assign_pointer, pairs with the marker's acquire */
	atomic_store_explicit(&ss->active, ss->spare, memory_order_release);
	ss->spare = NULL;
	return old;
}

static void retired_gp_done(struct srcu_head *head)
{
	struct swap_slot *ss = container_of(head, struct swap_slot, head);

	/* release: pairs with the harvester's acquire in wait_retired; the
	 * grace period (and every mark into the retired bitmap) happens
	 * before it sees gp_done */
	atomic_store_explicit(&ss->gp_done, 1, memory_order_release);
}

static void wait_retired(struct swap_slot *ss)
{
	/* the call_srcu mode's grace period: its markers may still write
	 * the retired bitmap until the callback ran (and the callback's head
	 * is queued until then: it cannot be queued again before); acquire:
	 * pairs with the callback's release of gp_done (retired_gp_done) */
	for (unsigned n = 0; !atomic_load_explicit(&ss->gp_done, memory_order_acquire); n++)
		vm_backoff(n);
}

/* Swaps @ss's bitmaps and waits until no marker can still write the old
 * one, which it returns (the harvester's from then on). */
static atomic_ulong *swap_and_wait(struct srcu_swap *p, struct swap_slot *ss, const struct vm *vm)
{
	atomic_ulong *old;

	/* Publish, then wait: a marker that loaded the old pointer is inside
	 * a read section the grace period waits for, and a marker that
	 * starts after it loads the new one.  Waiting first, then
	 * publishing, leaves markers of the old bitmap after the wait. */
	if (MUTANT(dirty_log_srcu_swap_publish_after_grace_period))
		old = atomic_load_explicit(&ss->active, memory_order_relaxed);
	else
		old = swap_in_spare(ss);
	vm_test_delay(vm->delay.harvest_ns);
	if (!MUTANT(dirty_log_srcu_swap_no_grace_period)) {
		if (p->wait == SWAP_WAIT_NORMAL)
			synchronize_srcu(p->srcu);
		else
			synchronize_srcu_expedited(p->srcu);
	}
	if (MUTANT(dirty_log_srcu_swap_publish_after_grace_period))
		(void)swap_in_spare(ss);
	return old;
}

/* call_srcu mode, one slot: reports the bitmap retired at the previous
 * harvest (once its grace period has passed), then retires the current
 * one with call_srcu.  Returns whether it reported any page. */
static bool srcu_swap_call_slot(struct srcu_swap *p, struct vm *vm, struct memslot *s,
				unsigned long *out, unsigned flags)
{
	struct swap_slot *ss = s->log_private;
	bool any = false;

	if (ss->retired) {
		wait_retired(ss);
		any = report_owned(vm, s, ss->retired, out);
		ss->spare = ss->retired;
		ss->retired = NULL;
	}
	if (flags & DIRTY_LOG_FINAL)
		return any; /* the caller reports the current bitmap too */
	ss->retired = swap_in_spare(ss);
	/* relaxed: the callback is queued below, after this store */
	atomic_store_explicit(&ss->gp_done, 0, memory_order_relaxed);
	call_srcu(p->srcu, &ss->head, retired_gp_done);
	return any;
}

/* One slot, synchronously: is_dirty, swap, grace period,
 * write_protect_slot, flush.  Returns whether it reported any page. */
static bool srcu_swap_sync_slot(struct srcu_swap *p, struct vm *vm, struct memslot *s,
				unsigned long *out)
{
	struct swap_slot *ss = s->log_private;
	uint64_t nr = count_dirty(s, ss);
	atomic_ulong *old;

	if (!nr)
		return false;
	old = swap_and_wait(p, ss, vm);
	write_protect_owned(p, vm, s, old, nr, out);
	ss->spare = old;
	/* kvm_flush_remote_tlbs of write_protect_slot's per-page branch (the
	 * whole-slot pass flushed inside kvm_mmu_slot_remove_write_access):
	 * after mmu_lock here, see vm_flush_remote_tlbs */
	if (!(nr >= p->wp_threshold && MUTANT(dirty_log_srcu_swap_slot_pass_no_flush)))
		vm_flush_remote_tlbs(vm);
	return true;
}

static int srcu_swap_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	struct srcu_swap *p = log->priv;
	struct vm *vm = log->vm;
	struct memslot_table *t = vm->memslots;
	bool any = false;

	memset(dirty, 0, bitmap_words(vm->npages) * sizeof(*dirty));
	for (uint32_t k = 0; k < t->nslots; k++) {
		struct memslot *s = &t->slots[k];
		struct swap_slot *ss = s->log_private;
		unsigned long *out = dirty + s->base_gfn / 64;
		atomic_ulong *old;

		if (p->wait != SWAP_WAIT_CALL_SRCU) {
			srcu_swap_sync_slot(p, vm, s, out);
			continue;
		}
		any |= srcu_swap_call_slot(p, vm, s, out, flags);
		if (!(flags & DIRTY_LOG_FINAL))
			continue;
		/* final: the current bitmap too, synchronously */
		old = swap_and_wait(p, ss, vm);
		any |= report_owned(vm, s, old, out);
		ss->spare = old;
	}
	if (any)
		vm_flush_remote_tlbs(vm);
	return 0;
}

static unsigned srcu_swap_report_lag(const struct dirty_log *log)
{
	const struct srcu_swap *p = log->priv;

	return p->wait == SWAP_WAIT_CALL_SRCU ? 1 : 0;
}

const struct dirty_log_ops dirty_log_srcu_swap_ops = {
	.name = "srcu-swap",
	.summary = "two bitmaps per slot; publish a zeroed one, wait an SRCU grace period, own and "
		   "report the old",
	.options_help = "wait=normal|expedited|call_srcu (default expedited) "
			"wp-threshold=N|auto|never (default auto: the shadow pages in use)",
	.priv_size = sizeof(struct srcu_swap),
	.set_option = srcu_swap_set_option,
	.init = srcu_swap_init,
	.destroy = srcu_swap_destroy,
	.mark_dirty = srcu_swap_mark,
	.get_log = srcu_swap_get_log,
	.report_lag = srcu_swap_report_lag,
};
