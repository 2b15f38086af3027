/*
 * Fault dispatch: the process's SIGBUS/SIGSEGV handlers and each thread's
 * registrations.
 *
 * Signal delivery.  A write to a page protected by userfaultfd with
 * UFFD_FEATURE_SIGBUS makes the kernel's handle_userfault return
 * VM_FAULT_SIGBUS instead of queueing a message, and the fault handler
 * signals the faulting thread with SIGBUS/BUS_ADRERR at the address; a
 * write to a PROT_READ page is SIGSEGV/SEGV_ACCERR.  The handler looks the
 * address up in the thread's own registrations (thread-local, so nothing
 * is shared and nothing is locked), and calls the callback; when it
 * returns, the store retries.  Anything else (another address, a read, a
 * signal sent with kill, a thread that did not register) goes to the
 * handler that was installed before ours, or, if that was the default,
 * gets the default action: the process dies with the signal, as it would
 * have without us.  See mmu_real.h for what the callback may do.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "lib/mmu/mmu_internal.h"
#include "lib/util/mutant.h"

/* One registration of this thread: faults in [lo, hi) arriving as @sig. */
struct mmu_slot {
	struct mmu_wp *wp; /* NULL: free */
	uintptr_t lo, hi;
	unsigned page_shift;
	int sig;
	mmu_wp_fault_fn fn;
	void *arg;
};

/* Written only by the owning thread, read by its signal handler. */
static __thread struct mmu_slot mmu_slots[MMU_WP_THREAD_SLOTS];

static pthread_mutex_t mmu_install_lock = PTHREAD_MUTEX_INITIALIZER;
/* Set under mmu_install_lock before any range can fault with the signal
 * (create installs, then the caller registers, then stores), read by the
 * handler: the creation happens before every fault it handles. */
static struct sigaction mmu_old_bus, mmu_old_segv;
static int mmu_bus_installed, mmu_segv_installed;

/* Whether @si (with @uc) is a write fault of the kind the mechanism raises. */
static int mmu_is_write_fault(int sig, const siginfo_t *si, const void *uc)
{
	if (sig == SIGBUS ? si->si_code != BUS_ADRERR : si->si_code != SEGV_ACCERR)
		return 0;
#if defined(__x86_64__) && defined(REG_ERR)
	/* the page-fault error code: bit 1 is set for a write (X86_PF_WRITE) */
	if (!(((const ucontext_t *)uc)->uc_mcontext.gregs[REG_ERR] & 2))
		return 0;
#else
	(void)uc;
#endif
	return 1;
}

/* Not ours: the previous handler, or the default action. */
static void mmu_fault_chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *old = sig == SIGBUS ? &mmu_old_bus : &mmu_old_segv;
	struct sigaction dfl;

	if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
		old->sa_sigaction(sig, si, uc);
		return;
	}
	if (!(old->sa_flags & SA_SIGINFO) && old->sa_handler != SIG_DFL &&
	    old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
		return;
	}
	if (old->sa_handler == SIG_IGN && si->si_code <= 0)
		return; /* sent with kill and ignored before us: still ignored */
	/* Default action.  A fault re-executes the instruction on return and
	 * faults again, now with the default action (a core with the right
	 * siginfo); a signal sent by a process is raised again (pending until
	 * this handler returns, as the signal is blocked in it). */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	if (si->si_code <= 0)
		raise(sig);
}

static void mmu_fault_handler(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	uintptr_t a = (uintptr_t)si->si_addr;

	if (mmu_is_write_fault(sig, si, uc)) {
		for (int i = 0; i < MMU_WP_THREAD_SLOTS; i++) {
			const struct mmu_slot *s = &mmu_slots[i];

			if (s->wp && s->sig == sig && a - s->lo < s->hi - s->lo) {
				s->fn(s->arg, (a - s->lo) >> s->page_shift);
				errno = saved_errno;
				return;
			}
		}
	}
	if (!MUTANT(mmu_dispatch_swallow_strays))
		mmu_fault_chain(sig, si, uc);
	errno = saved_errno;
}

int mmu_fault_handler_install(int sig, char *err, size_t errlen)
{
	int *installed = sig == SIGBUS ? &mmu_bus_installed : &mmu_segv_installed;
	struct sigaction sa;
	int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = mmu_fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	pthread_mutex_lock(&mmu_install_lock);
	if (!*installed) {
		if (sigaction(sig, &sa, sig == SIGBUS ? &mmu_old_bus : &mmu_old_segv)) {
			ret = -errno;
			snprintf(err, errlen, "sigaction(%s): %s",
				 sig == SIGBUS ? "SIGBUS" : "SIGSEGV", strerror(errno));
		} else {
			*installed = 1;
		}
	}
	pthread_mutex_unlock(&mmu_install_lock);
	return ret;
}

int mmu_wp_reg_add(struct mmu_wp *wp, pid_t tid, mmu_wp_fault_fn fn, void *arg)
{
	int ret = 0;

	pthread_mutex_lock(&wp->regs_lock);
	if (wp->nregs == wp->regs_cap) {
		size_t cap = wp->regs_cap ? 2 * wp->regs_cap : 16;
		struct mmu_wp_reg *r = realloc(wp->regs, cap * sizeof(*r));

		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		wp->regs = r;
		wp->regs_cap = cap;
	}
	wp->regs[wp->nregs++] = (struct mmu_wp_reg){ .tid = tid, .fn = fn, .arg = arg };
out:
	pthread_mutex_unlock(&wp->regs_lock);
	return ret;
}

void mmu_wp_reg_remove(struct mmu_wp *wp, pid_t tid)
{
	pthread_mutex_lock(&wp->regs_lock);
	for (size_t i = 0; i < wp->nregs; i++) {
		if (wp->regs[i].tid == tid) {
			wp->regs[i] = wp->regs[--wp->nregs];
			break;
		}
	}
	pthread_mutex_unlock(&wp->regs_lock);
}

int mmu_wp_reg_find(struct mmu_wp *wp, pid_t tid, mmu_wp_fault_fn *fn, void **arg)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&wp->regs_lock);
	for (size_t i = 0; i < wp->nregs; i++) {
		if (wp->regs[i].tid == tid) {
			*fn = wp->regs[i].fn;
			*arg = wp->regs[i].arg;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&wp->regs_lock);
	return ret;
}

int mmu_wp_thread_register(struct mmu_wp *wp, mmu_wp_fault_fn fn, void *arg, char *err,
			   size_t errlen)
{
	struct mmu_slot *free_slot = NULL;

	if (!fn) {
		snprintf(err, errlen, "mmu: a registration needs a fault callback");
		return -EINVAL;
	}
	for (int i = 0; i < MMU_WP_THREAD_SLOTS; i++) {
		if (mmu_slots[i].wp == wp) {
			snprintf(err, errlen,
				 "mmu: this thread is already registered on the range");
			return -EEXIST;
		}
		if (!mmu_slots[i].wp && !free_slot)
			free_slot = &mmu_slots[i];
	}
	if (!free_slot) {
		snprintf(err, errlen, "mmu: a thread can be registered on at most %d ranges",
			 MMU_WP_THREAD_SLOTS);
		return -ENOSPC;
	}
	if (wp->delivery == MMU_WP_THREAD && mmu_wp_reg_add(wp, gettid(), fn, arg)) {
		snprintf(err, errlen, "mmu: out of memory");
		return -ENOMEM;
	}
	free_slot->lo = (uintptr_t)wp->base;
	free_slot->hi = (uintptr_t)wp->base + wp->bytes;
	free_slot->page_shift = wp->page_shift;
	free_slot->sig = wp->delivery == MMU_WP_SIGNAL ? mmu_wp_fault_signal(wp) : 0;
	free_slot->fn = fn;
	free_slot->arg = arg;
	/* the slot is complete before the handler, on this thread, can see
	 * it in use: orders the stores above before this one for the
	 * compiler (a signal handler runs on this thread) */
	atomic_signal_fence(memory_order_release);
	free_slot->wp = wp;
	/* the slot in use before any store of the caller's that may fault
	 * (mmu_fault_handler reads it on this thread) */
	atomic_signal_fence(memory_order_seq_cst);
	return 0;
}

void mmu_wp_thread_unregister(struct mmu_wp *wp)
{
	for (int i = 0; i < MMU_WP_THREAD_SLOTS; i++) {
		if (mmu_slots[i].wp == wp) {
			mmu_slots[i].wp = NULL;
			/* the slot free before whatever follows (for the
			 * compiler: mmu_fault_handler runs on this thread) */
			atomic_signal_fence(memory_order_seq_cst);
		}
	}
	if (wp->delivery == MMU_WP_THREAD)
		mmu_wp_reg_remove(wp, gettid());
}
