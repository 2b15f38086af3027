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
 *   call_srcu  do not wait (seed 000): the old bitmap is handed to
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/srcu/srcu.h"
#include "lib/vm/vm.h"

enum srcu_swap_wait {
	SWAP_WAIT_EXPEDITED,       /* the default: zero in a zeroed priv */
	SWAP_WAIT_NORMAL,
	SWAP_WAIT_CALL_SRCU,
};

static const char *const wait_names[] = { "expedited", "normal", "call_srcu", NULL };

struct swap_slot {
	unsigned long *active;     /* published to markers; an atomic pointer */
	unsigned long *spare;      /* zeroed, the harvester's */
	/* call_srcu: swapped out, reported once gp_done */
	unsigned long *retired;
	struct srcu_head head;
	int gp_done;
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
			free(p->slots[k].active);
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
		return -1;
	}
	p->srcu_ready = true;
	p->slots = calloc(t->nslots, sizeof(*p->slots));
	if (!p->slots)
		goto oom;
	for (uint32_t k = 0; k < t->nslots; k++) {
		struct swap_slot *ss = &p->slots[k];

		ss->active = bitmap_alloc(t->slots[k].npages);
		ss->spare = bitmap_alloc(t->slots[k].npages);
		if (!ss->active || !ss->spare)
			goto oom;
		t->slots[k].log_private = ss;
	}
	return 0;
oom:
	snprintf(err, errlen, "srcu-swap: out of memory for the dirty bitmaps");
	srcu_swap_destroy(log);
	return -1;
}

static void srcu_swap_vcpu_begin(struct dirty_log *log, struct vcpu *v)
{
	struct srcu_swap *p = log->priv;
	char name[32];

	snprintf(name, sizeof(name), "vcpu%d", v->index);
	v->log_vcpu = srcu_register_reader(&p->srcu, name, NULL, 0);
	if (!v->log_vcpu) {
		fprintf(stderr, "srcu-swap: vCPU %d cannot register as a reader\n", v->index);
		abort();
	}
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

	(void)log;
	int idx = srcu_read_lock(r);
	/* acquire: rcu_dereference, pairs with the release that publishes a
	 * fresh bitmap (its zeroes happen before our bit) */
	unsigned long *bm = __atomic_load_n(&ss->active, __ATOMIC_ACQUIRE);

	/* relaxed: the unlock's release and the grace period order this bit
	 * before the harvester's reads of the old bitmap */
	__atomic_fetch_or(&bm[rel / 64], 1ul << (rel % 64), __ATOMIC_RELAXED);
	srcu_read_unlock(r, idx);
}

/* Under mmu_lock: report the set pages of @bm (owned: its grace period has
 * passed) into @out, write-protect them, zero @bm.  Returns true if any. */
static bool report_owned(struct vm *vm, struct memslot *s, unsigned long *bm,
			 unsigned long *out)
{
	size_t n = bitmap_words(s->npages);
	bool any = false;

	spinlock_lock(&vm->mmu_lock);
	for (size_t i = 0; i < n; i++) {
		unsigned long w = __atomic_load_n(&bm[i], __ATOMIC_RELAXED);

		if (w) {
			vm_write_protect_mask(vm, s->base_gfn + i * 64, w);
			__atomic_store_n(&bm[i], 0, __ATOMIC_RELAXED);
			out[i] |= w;
			any = true;
		}
	}
	spinlock_unlock(&vm->mmu_lock);
	return any;
}

/* Publishes the spare bitmap; returns the one it replaced. */
static unsigned long *swap_in_spare(struct swap_slot *ss)
{
	unsigned long *old = ss->active;

	/* release: rcu_assign_pointer, pairs with the marker's acquire */
	__atomic_store_n(&ss->active, ss->spare, __ATOMIC_RELEASE);
	ss->spare = NULL;
	return old;
}

static void retired_gp_done(struct srcu_head *head)
{
	struct swap_slot *ss = (struct swap_slot *)((char *)head - offsetof(struct swap_slot, head));

	/* release: pairs with the harvester's acquire in wait_retired; the
	 * grace period (and every mark into the retired bitmap) happens
	 * before it sees gp_done */
	__atomic_store_n(&ss->gp_done, 1, __ATOMIC_RELEASE);
}

static void wait_retired(struct swap_slot *ss)
{
	for (unsigned n = 0; !__atomic_load_n(&ss->gp_done, __ATOMIC_ACQUIRE); n++)
		vm_backoff(n);
}

static void srcu_swap_get_log(struct dirty_log *log, unsigned long *dirty, unsigned flags)
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
		unsigned long *old;

		if (p->wait == SWAP_WAIT_CALL_SRCU) {
			if (ss->retired) {
				wait_retired(ss);
				any |= report_owned(vm, s, ss->retired, out);
				ss->spare = ss->retired;
				ss->retired = NULL;
			}
			if (!(flags & DIRTY_LOG_FINAL)) {
				ss->retired = swap_in_spare(ss);
				__atomic_store_n(&ss->gp_done, 0, __ATOMIC_RELAXED);
				call_srcu(&p->srcu, &ss->head, retired_gp_done);
				continue;
			}
			/* final: the current bitmap too, synchronously */
		}
		old = swap_in_spare(ss);
		if (p->wait == SWAP_WAIT_NORMAL)
			synchronize_srcu(&p->srcu);
		else
			synchronize_srcu_expedited(&p->srcu);
		any |= report_owned(vm, s, old, out);
		ss->spare = old;
	}
	if (any)
		vm_flush_remote_tlbs(vm);
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
