/*
 * The real MMU: write protection of a range of the process's own memory
 * (the emulated guest's memory) in the hardware page tables, so that a
 * store to a protected page takes a real fault, and the dispatch of that
 * fault to the thread's handler.
 *
 * What it stands for in KVM:
 *   spte write-protect     mmu_wp_protect / mmu_wp_protect_runs /
 *                          mmu_wp_batch_* (runs of a dirty bitmap)
 *   kvm_flush_remote_tlbs  done by the kernel inside each protect call
 *                          (UFFDIO_WRITEPROTECT or mprotect flush the TLB of
 *                          every CPU that runs a thread of this mm)
 *   a guest write fault    a store to a protected page: a hardware page
 *                          fault, then the registered callback
 *   make the spte writable mmu_wp_unprotect, from the callback
 *
 * Mechanisms (mmu_wp_options.mechanism):
 *   uffd      userfaultfd write-protect (UFFDIO_REGISTER_MODE_WP,
 *             UFFDIO_WRITEPROTECT); no VMA is split, any size.
 *   mprotect  mprotect(PROT_READ) on ranges, mprotect(PROT_READ|PROT_WRITE)
 *             per page.  Each un-protected page inside a protected run can
 *             split the mapping, so a range of N pages can need N mappings:
 *             mmu_wp_create refuses (-ENOMEM, one line) when the mappings
 *             in use plus N plus MMU_WP_MAP_HEADROOM exceed
 *             vm.max_map_count, before any can be exceeded.
 *   auto      uffd where this kernel offers write-protect faults, else
 *             mprotect.
 *
 * Fault delivery (mmu_wp_options.delivery):
 *   signal    the fault arrives in the faulting thread itself, as a VM
 *             exit arrives in the vCPU's own thread: SIGBUS for uffd
 *             (UFFD_FEATURE_SIGBUS: the kernel does not queue the fault,
 *             it signals), SIGSEGV for mprotect.  One handler per signal,
 *             installed once per process (SA_SIGINFO), maps si_addr to a
 *             page of the thread's registered range and calls the thread's
 *             callback; when the handler returns, the store retries.
 *   thread    uffd only: a handler thread reads fault messages from the
 *             uffd (as QEMU's postcopy and CRIU's lazy pages do) and calls
 *             the callback registered by the faulting thread (the message
 *             carries its id, UFFD_FEATURE_THREAD_ID), on the handler
 *             thread.  The faulting thread sleeps in the kernel until the
 *             page is un-protected (UFFDIO_WRITEPROTECT mode 0 wakes it).
 *
 * The callback, fn(arg, page), runs the write-fault path and must leave
 * @page un-protected (mmu_wp_unprotect), or know that another thread
 * un-protected it: until then the store faults again (signal) or the
 * thread stays asleep (thread).
 *
 * ASYNC-SIGNAL SAFETY (signal delivery).  The callback runs in a signal
 * handler that interrupted the registered thread at a store to the
 * protected range.  It may take locks and run the VM's fault path
 * (mmu_lock spinlock, an SRCU read section, a memslot protection's
 * pthread mutex or rwlock) because of one invariant the caller keeps:
 * the thread stores to the protected range only from its guest-access
 * code, which holds no lock and is not inside malloc, stdio or any other
 * non-reentrant code.  A signal handler can deadlock only on what the
 * interrupted code holds or is in the middle of; at a guest store that is
 * nothing, so the handler is, for its locks, like an ordinary call from
 * that point.  The callback must not:
 *   - store to a protected page of a range (a nested SIGBUS/SIGSEGV is
 *     blocked during the handler: the kernel kills the process);
 *   - call malloc/free, stdio or anything else the interrupted thread may
 *     be using elsewhere (the invariant only covers guest stores);
 *   - longjmp out, or wait for something only this thread can do (a TLB
 *     flush that waits for this vCPU to pass an exit point: the VM must
 *     treat a vCPU in its fault handler as outside guest mode, as KVM
 *     does during an exit).
 * errno is saved and restored around the callback.  Under the thread
 * delivery the callback is an ordinary call on the handler thread; it
 * must not store to the protected range either (it would wait for
 * itself), and data it shares with the faulting thread needs atomics or
 * locks (the kernel's wake-up orders nothing a race detector can see).
 *
 * Kernel accesses: a system call that writes a protected page (read(2)
 * into it) fails with EFAULT under signal delivery (and under thread
 * delivery when the uffd had to be user-mode only).
 *
 * Errors: 0 or -errno, one line in @err where there is one; lib never
 * prints.
 */
#ifndef DLBENCH_MMU_REAL_H
#define DLBENCH_MMU_REAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* clang-format off */
enum mmu_wp_mechanism {
	MMU_WP_AUTO,
	MMU_WP_UFFD,
	MMU_WP_MPROTECT,
};
/* clang-format on */

/* NULL-terminated, indexed by enum mmu_wp_mechanism (an option's choices, wl_option.choices):
 * "auto", "uffd", "mprotect". */
extern const char *const mmu_wp_mechanism_names[];

/* clang-format off */
enum mmu_wp_delivery {
	MMU_WP_SIGNAL,
	MMU_WP_THREAD,
};
/* clang-format on */

/* NULL-terminated, indexed by enum mmu_wp_delivery: "signal", "thread". */
extern const char *const mmu_wp_delivery_names[];

/* Mappings mmu_wp_create leaves free for the rest of the process (thread
 * stacks, malloc arenas) when it counts mprotect's worst case. */
#define MMU_WP_MAP_HEADROOM 1024

struct mmu_wp_options {
	enum mmu_wp_mechanism mechanism;
	enum mmu_wp_delivery delivery;
	/* Fault every page in, writable, at create (MADV_POPULATE_WRITE), so
	 * that no protected write is also a first touch.  uffd without
	 * UFFD_FEATURE_WP_UNPOPULATED (before Linux 6.4) populates anyway:
	 * a protected, never-touched anonymous page would take a missing-page
	 * fault, not a write-protect one, and the write would go unseen. */
	bool populate;
	/* mprotect: the limit to count against; 0 reads
	 * /proc/sys/vm/max_map_count (tests set a small one). */
	uint64_t max_map_count;
	/* Thread delivery: run on the handler thread when it starts and
	 * before it ends (e.g. to register it as a memslot reader, since
	 * the callbacks run there); may be NULL. */
	void (*handler_init)(void *arg);
	void (*handler_fini)(void *arg);
	void *handler_arg;
};

/* @npages pages from page @first. */
struct mmu_wp_run {
	uint64_t first;
	uint64_t npages;
};

typedef void (*mmu_wp_fault_fn)(void *arg, uint64_t page);

struct mmu_wp;

/*
 * Prepares write protection of [base, base + bytes) (page aligned; an
 * anonymous private or shared mapping, readable and writable, of 4 KiB
 * pages: a hugetlb range can only be protected a huge page at a time).  Nothing is protected yet.  Under
 * the thread delivery, starts the handler thread.  NULL with one line in
 * @err (the mechanism is missing, userfaultfd not permitted, mprotect's
 * worst case exceeds vm.max_map_count, ...).
 */
struct mmu_wp *mmu_wp_create(void *base, uint64_t bytes, const struct mmu_wp_options *o, char *err,
			     size_t errlen);
/* Un-protects the whole range and frees everything.  Every thread must
 * have called mmu_wp_thread_unregister, and no store may be pending. */
void mmu_wp_destroy(struct mmu_wp *wp);

/* "uffd-wp:signal", "uffd-wp:thread" or "mprotect:signal": the mechanism
 * in use (for meta.json and stderr). */
const char *mmu_wp_name(const struct mmu_wp *wp);
/* Why MMU_WP_AUTO fell back to mprotect (the uffd probe's line), or "". */
const char *mmu_wp_fallback(const struct mmu_wp *wp);
enum mmu_wp_mechanism mmu_wp_mechanism(const struct mmu_wp *wp);
uint64_t mmu_wp_npages(const struct mmu_wp *wp);
size_t mmu_wp_page_size(const struct mmu_wp *wp);

/* Write-protects pages [first, first + npages): one system call. */
int mmu_wp_protect(struct mmu_wp *wp, uint64_t first, uint64_t npages);
/* Write-protects each run: one system call per run (KVM's per-page
 * write-protect of dirty pages, with contiguous pages in one call). */
int mmu_wp_protect_runs(struct mmu_wp *wp, const struct mmu_wp_run *runs, size_t n);
/* Makes page @page writable again (and, under the thread delivery, wakes
 * a thread waiting on it).  Async-signal-safe: the callback calls it. */
int mmu_wp_unprotect(struct mmu_wp *wp, uint64_t page);
/* The same in two steps, for a callback that must finish its work before
 * the faulting thread's store can run: un-protect without waking
 * (UFFDIO_WRITEPROTECT with MODE_DONTWAKE), then wake the threads waiting
 * on the page (UFFDIO_WAKE).  Under the signal delivery, and under
 * mprotect, nobody sleeps: the wake does nothing (the store retries when
 * the handler returns). */
int mmu_wp_unprotect_nowake(struct mmu_wp *wp, uint64_t page);
int mmu_wp_wake(struct mmu_wp *wp, uint64_t page);
/* Makes [first, first + npages) writable (dirty logging off). */
int mmu_wp_unprotect_range(struct mmu_wp *wp, uint64_t first, uint64_t npages);

/* Protect system calls issued so far (protect, runs, batches): the
 * harvester side's count; un-protects are not counted (hot path). */
uint64_t mmu_wp_protect_calls(const struct mmu_wp *wp);

/*
 * A batch of pages to write-protect, merged into runs of contiguous pages
 * as they are added (in increasing order: a page below or beside the
 * pending run's end starts a new run): one system call per run, as KVM's
 * per-page write-protect from a dirty bitmap becomes one
 * UFFDIO_WRITEPROTECT per run of dirty pages.  Note that each call also
 * flushes the TLBs (KVM flushes once per harvest).
 *
 *   struct mmu_wp_batch b;
 *   mmu_wp_batch_init(&b, wp);
 *   for each word i: mmu_wp_batch_add_mask(&b, base + 64 * i, mask[i]);
 *   ret = mmu_wp_batch_flush(&b);
 */
struct mmu_wp_batch {
	struct mmu_wp *wp;
	uint64_t first, npages; /* the pending run */
	int err;		/* the first error */
};

void mmu_wp_batch_init(struct mmu_wp_batch *b, struct mmu_wp *wp);
void mmu_wp_batch_add(struct mmu_wp_batch *b, uint64_t first, uint64_t npages);
/* Adds page @page0 + i for each set bit i of @mask. */
void mmu_wp_batch_add_mask(struct mmu_wp_batch *b, uint64_t page0, uint64_t mask);
/* Protects the pending run; 0 or the first error of the batch. */
int mmu_wp_batch_flush(struct mmu_wp_batch *b);

/*
 * Registers the calling thread: its write faults on @wp's range go to
 * fn(arg, page).  A thread may be registered with up to
 * MMU_WP_THREAD_SLOTS ranges at once.  A fault by a thread that is not
 * registered is not swallowed: under the signal delivery it goes to the
 * handler that was there before (the default action: the process dies);
 * under the thread delivery the handler thread un-protects the page and
 * counts it (mmu_wp_unregistered_faults).
 */
#define MMU_WP_THREAD_SLOTS 4
int mmu_wp_thread_register(struct mmu_wp *wp, mmu_wp_fault_fn fn, void *arg, char *err,
			   size_t errlen);
void mmu_wp_thread_unregister(struct mmu_wp *wp);

/* Faults the handler thread resolved for threads that had not registered. */
uint64_t mmu_wp_unregistered_faults(const struct mmu_wp *wp);

/*
 * Whether this kernel and process offer @m with @d: 0, or -errno with one
 * line in @why ("userfaultfd write-protect faults need Linux 5.7", "not
 * permitted: ...").  MMU_WP_AUTO: whether either does.
 *
 * Test hook: with DLBENCH_MMU_NO_UFFD set in the environment, userfaultfd
 * write-protect is reported missing (so that a test sees the mprotect
 * fallback and the refusals of a kernel without it on this one).
 */
int mmu_wp_probe(enum mmu_wp_mechanism m, enum mmu_wp_delivery d, char *why, size_t len);

/*
 * What mmu_wp_create would do for a range of @npages pages with @o,
 * creating nothing: the mechanism MMU_WP_AUTO resolves to, its name
 * ("uffd-wp:signal", ...), the fallback's reason, and whether the
 * mechanism works here and (mprotect) the range fits under
 * vm.max_map_count with this process's mappings now.  0, or -errno with
 * create's line in @err.  For a workload's check, before anything runs.
 */
struct mmu_wp_plan {
	enum mmu_wp_mechanism mechanism; /* never MMU_WP_AUTO */
	enum mmu_wp_delivery delivery;
	char name[24];
	char fallback[256]; /* why auto took mprotect, or "" */
};
int mmu_wp_plan(const struct mmu_wp_options *o, uint64_t npages, struct mmu_wp_plan *plan,
		char *err, size_t errlen);

/*
 * The fault floor: a bare loop that takes the same fault with an empty
 * handler.  Maps @npages pages of its own, protects them, stores once to
 * each from the calling thread (the callback only un-protects), and
 * repeats until @nfaults faults were taken; protects are not timed.
 * Sets *ns_per_fault to the median over the rounds of (time / faults):
 * what one write fault costs on this machine with this mechanism and
 * delivery before any VM work, for the workloads' fault_floor_ns.
 */
int mmu_fault_floor(const struct mmu_wp_options *o, uint32_t npages, uint32_t nfaults,
		    double *ns_per_fault, char *err, size_t errlen);

/* The sizes a workload's fault_floor_ns uses, so that floors compare
 * across runs: 256 pages, 4096 faults (16 rounds; ~0.1 s here). */
#define MMU_FAULT_FLOOR_PAGES 256u
#define MMU_FAULT_FLOOR_FAULTS 4096u

#endif
