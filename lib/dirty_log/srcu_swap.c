/*
 * srcu-swap: KVM_GET_DIRTY_LOG before 2012.  Two bitmaps per slot; a
 * marker reads the slot's current bitmap inside an SRCU read section and
 * sets its bit there.  The harvester publishes a fresh zeroed bitmap,
 * waits an SRCU grace period so that no marker still writes the old one,
 * then owns the old one: under mmu_lock it write-protects the pages set in
 * it, flushes, reports it and zeroes it for the next swap.
 *
 * Option wait=normal|expedited|call_srcu (default expedited, as KVM):
 *   normal     synchronize_srcu
 *   expedited  synchronize_srcu_expedited
 *   call_srcu  do not wait (Avi Kivity's suggestion in the February 2012
 *              "srcu: Implement call_srcu()" thread): the old bitmap is handed to
 *              call_srcu, and the next harvest reports it once its grace
 *              period has passed (waiting for it if it has not); so pages
 *              are reported one harvest late.  A final harvest
 *              (DIRTY_LOG_FINAL) also swaps and waits for the current one.
 *
 * The write-protection comes after the grace period: a page marked in the
 * old bitmap is made writable (locked path) or was made writable (fast
 * path) before its marker's read section ended, so the write-protection
 * cannot be overtaken by that marker's spte update.
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

enum srcu_swap_wait {
	SWAP_WAIT_EXPEDITED,       /* the default: zero in a zeroed priv */
	SWAP_WAIT_NORMAL,
	SWAP_WAIT_CALL_SRCU,
};

static const char *const wait_names[] = { "expedited", "normal", "call_srcu", NULL };

struct swap_slot {
	_Atomic(atomic_ulong *) active;  /* published to markers */
	atomic_ulong *spare;       /* zeroed, the harvester's */
	/* call_srcu: swapped out, reported once gp_done */
	atomic_ulong *retired;
	struct srcu_head head;
	atomic_int gp_done;
};

struct srcu_swap {
	enum srcu_swap_wait wait;
	bool srcu_ready;
	struct srcu_struct srcu;
	struct swap_slot *slots;   /* indexed like vm->memslots->slots */
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
	snprintf(err, errlen, "srcu-swap: bad option %s=%s (%s)", key, value, log->ops->options_help);
	return -1;
}

static void srcu_swap_destroy(struct dirty_log *log)
{
	struct srcu_swap *p = log->priv;
	struct memslot_table *t = log->vm->memslots;

	if (p->srcu_ready) {
		srcu_barrier(&p->srcu);       /* call_srcu callbacks still queued */
		srcu_destroy(&p->srcu, NULL, 0);
		p->srcu_ready = false;
	}
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

static int srcu_swap_init(struct dirty_log *log, char *err, size_t errlen)
{
	struct srcu_swap *p = log->priv;
	struct memslot_table *t = log->vm->memslots;
	struct srcu_options so;

	srcu_options_default(&so);
	so.name = "dirty-bitmaps";
	if (srcu_init(&p->srcu, &so, NULL, 0)) {
		snprintf(err, errlen, "srcu-swap: cannot initialise its SRCU domain");
		return -ENOMEM;
	}
	p->srcu_ready = true;
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

static int srcu_swap_vcpu_begin(struct dirty_log *log, struct vcpu *v, char *err, size_t errlen)
{
	struct srcu_swap *p = log->priv;
	char name[32];

	snprintf(name, sizeof(name), "vcpu%d", v->index);
	v->log_vcpu = srcu_register_reader(&p->srcu, name, NULL, 0);
	if (!v->log_vcpu) {
		snprintf(err, errlen, "srcu-swap: vCPU %d cannot register as a reader", v->index);
		return -ENOMEM;
	}
	return 0;
}

static void srcu_swap_vcpu_end(struct dirty_log *log, struct vcpu *v)
{
	(void)log;
	srcu_unregister_reader(v->log_vcpu, NULL, 0);
	v->log_vcpu = NULL;
}

static void srcu_swap_mark(struct dirty_log *log, struct vcpu *v, struct memslot *slot,
			   uint64_t rel)
{
	struct swap_slot *ss = slot->log_private;
	struct srcu_reader *r = v->log_vcpu;
	int idx = srcu_read_lock(r);
	/* acquire: rcu_dereference, pairs with the release that publishes a
	 * fresh bitmap (its zeroes happen before our bit) */
	atomic_ulong *bm = atomic_load_explicit(&ss->active, memory_order_acquire);

	/* the window a harvest without a grace period would race with: the
	 * old bitmap loaded, its bit not yet set */
	vm_test_delay(log->vm->delay.mark_ns);
	/* relaxed: the unlock's release and the grace period order this bit
	 * before the harvester's reads of the old bitmap */
	atomic_fetch_or_explicit(&bm[rel / 64], 1ul << (rel % 64), memory_order_relaxed);
	srcu_read_unlock(r, idx);
}

/* Under mmu_lock: report the set pages of @bm (owned: its grace period has
 * passed) into @out, write-protect them, zero @bm.  Returns true if any. */
static bool report_owned(struct vm *vm, struct memslot *s, atomic_ulong *bm,
			 unsigned long *out)
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
			atomic_store_explicit(&bm[i], 0, memory_order_relaxed);
			out[i] |= w;
			any = true;
		}
	}
	vm_mmu_unlock(vm);
	return any;
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
	 * is queued until then: it cannot be queued again before) */
	for (unsigned n = 0; !atomic_load_explicit(&ss->gp_done, memory_order_acquire); n++)
		vm_backoff(n);
}

/* Swaps @ss's bitmaps and waits until no marker can still write the old
 * one, which it returns (the harvester's from then on). */
static atomic_ulong *swap_and_wait(struct srcu_swap *p, struct swap_slot *ss,
				   const struct vm *vm)
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
			synchronize_srcu(&p->srcu);
		else
			synchronize_srcu_expedited(&p->srcu);
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
		return any;   /* the caller reports the current bitmap too */
	ss->retired = swap_in_spare(ss);
	/* relaxed: the callback is queued below, after this store */
	atomic_store_explicit(&ss->gp_done, 0, memory_order_relaxed);
	call_srcu(&p->srcu, &ss->head, retired_gp_done);
	return any;
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

		if (p->wait == SWAP_WAIT_CALL_SRCU) {
			any |= srcu_swap_call_slot(p, vm, s, out, flags);
			if (!(flags & DIRTY_LOG_FINAL))
				continue;
			/* final: the current bitmap too, synchronously */
		}
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
	.summary = "two bitmaps per slot; publish a zeroed one, wait an SRCU grace period, own and report the old",
	.options_help = "wait=normal|expedited|call_srcu (default expedited)",
	.priv_size = sizeof(struct srcu_swap),
	.set_option = srcu_swap_set_option,
	.init = srcu_swap_init,
	.destroy = srcu_swap_destroy,
	.vcpu_thread_begin = srcu_swap_vcpu_begin,
	.vcpu_thread_end = srcu_swap_vcpu_end,
	.mark_dirty = srcu_swap_mark,
	.get_log = srcu_swap_get_log,
	.report_lag = srcu_swap_report_lag,
};
